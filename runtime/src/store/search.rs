//! Full-text search queries (filled in by its slice).
