//! Extraction: (html, page url, rules) -> cards. Pure functions only.

pub mod date;
pub mod fields;
pub mod select;
