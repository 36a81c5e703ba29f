//! Extraction: (html, page url, rules) -> cards. Pure functions only.

pub mod clamp;
pub mod date;
pub mod fields;
pub mod parse;
pub mod select;
