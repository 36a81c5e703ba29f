//! Extraction: (html, page url, rules) -> cards. Pure functions only.

pub mod clamp;
pub mod date;
pub mod detect;
pub mod fields;
pub mod page;
pub mod parse;
pub mod select;
pub mod structured;
