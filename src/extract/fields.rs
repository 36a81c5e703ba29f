//! Field parsers.
