//! Read time, byline, meta line and whitespace folding: no panic, plausible minutes,
//! idempotent folding, one non-empty name per author.
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
    for n in scifeed::extract::meta::split_authors(text) {
        assert!(!n.trim().is_empty(), "{text:?} -> {n:?}");
    }
    let ctx = scifeed::extract::date::DateContext {
        format: None,
        tz: chrono_tz::UTC,
        now: chrono::DateTime::from_timestamp(1_795_000_000, 0).expect("in range"),
    };
    let meta = scifeed::extract::meta::read_line(text, &ctx);
    assert!(meta.read_time.is_none_or(|m| (1..=600).contains(&m)));
    assert!(meta.authors.iter().all(|n| !n.trim().is_empty()));
});
