//! Read time, byline and whitespace folding: no panic, plausible minutes, idempotent folding.
#![no_main]

use libfuzzer_sys::fuzz_target;
use scifeed::extract::fields::{
    fold_ws, parse_author, parse_iso_duration_minutes, parse_read_time,
};

fuzz_target!(|text: &str| {
    if let Some(m) = parse_read_time(text) {
        assert!((1..=600).contains(&m), "{text:?} -> {m}");
    }
    let _ = parse_iso_duration_minutes(text);
    let folded = fold_ws(text);
    assert_eq!(fold_ws(&folded), folded);
    if let Some(a) = parse_author(text) {
        assert!(!a.trim().is_empty(), "{text:?} -> {a:?}");
    }
});
