//! Date parsing.
