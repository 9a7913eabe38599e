//! Full-text search (filled in by its slice).

#[allow(unused_imports)]
use super::Chat;
