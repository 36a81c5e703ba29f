//! Date parsing: no panic, and every date it returns lies in the documented window
//! (1990 up to next year), whatever the text, format and zone.
//!
//! Input: the date text, optionally followed by NUL and a chrono format.
#![no_main]

use chrono::Datelike;
use libfuzzer_sys::fuzz_target;
use scifeed::extract::date::{DateContext, parse_date};

const ZONES: [chrono_tz::Tz; 5] = [
    chrono_tz::UTC,
    chrono_tz::Europe::London,
    chrono_tz::America::New_York,
    chrono_tz::Asia::Kolkata,
    chrono_tz::Pacific::Chatham,
];

fuzz_target!(|data: &str| {
    let (text, format) = match data.split_once('\0') {
        Some((t, f)) => (t, Some(f)),
        None => (data, None),
    };
    let now = chrono::DateTime::from_timestamp(1_800_000_000, 0).expect("in range");
    let ctx = DateContext {
        format,
        tz: ZONES[data.len() % ZONES.len()],
        now,
    };
    if let Some((d, _)) = parse_date(text, &ctx) {
        assert!(
            (1990..=now.year() + 1).contains(&d.year()),
            "{text:?} -> {d}"
        );
    }
});
