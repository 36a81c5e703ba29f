//! Extraction: (decoded page, rules, now) -> cards + diagnostics. Pure functions only;
//! [`stage`] is the one entry point every command and test uses.

pub mod clamp;
pub mod date;
pub mod detect;
pub mod diagnose;
pub mod fields;
pub mod meta;
pub mod page;
pub mod parse;
pub mod select;
pub mod stage;
pub mod structured;
pub mod text;
pub mod vocab;
