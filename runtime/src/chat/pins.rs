//! (filled in by its slice)

#[allow(unused_imports)]
use super::Chat;
