//! What a response says about when to ask again: `Cache-Control: max-age` (less `Age`),
//! `Expires` and `Retry-After`, as waits from the moment of the response. The schedule
//! ([`crate::schedule`]) decides what to do with them; this module only reads headers.
//!
//! Dates are measured against the response's own `Date` when it has one, so a server whose
//! clock is off (or a run whose clock is pinned) still gets the pause it meant.

use std::time::Duration;

use chrono::{DateTime, Utc};
use reqwest::header::{AGE, CACHE_CONTROL, DATE, EXPIRES, HeaderMap, RETRY_AFTER};

use super::retry::{parse_http_date, parse_retry_after};

/// The source's wishes about the next request, each a wait from the response.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CacheHints {
    /// `Cache-Control: max-age` less `Age`; zero for `no-cache` / `no-store` (which also
    /// overrule `Expires`).
    pub max_age: Option<Duration>,
    /// `Expires` less `Date` (zero when it is in the past or not a date, RFC 9111 5.3).
    pub expires: Option<Duration>,
    /// `Retry-After` (seconds, or a date less `Date`).
    pub retry_after: Option<Duration>,
}

impl CacheHints {
    /// Reads the hints of one response; `now` stands in for a missing `Date`.
    pub fn from_headers(headers: &HeaderMap, now: DateTime<Utc>) -> CacheHints {
        let text = |name| {
            let values: Vec<&str> = headers
                .get_all(name)
                .iter()
                .filter_map(|v| v.to_str().ok())
                .collect();
            (!values.is_empty()).then(|| values.join(", "))
        };
        let date = text(DATE).and_then(|d| parse_http_date(&d)).unwrap_or(now);
        let age = text(AGE)
            .and_then(|a| {
                a.split(',')
                    .next()
                    .and_then(|a| a.trim().parse::<u64>().ok())
            })
            .map_or(Duration::ZERO, Duration::from_secs);
        let max_age = text(CACHE_CONTROL)
            .and_then(|cc| max_age(&cc))
            .map(|m| m.saturating_sub(age));
        let expires = text(EXPIRES).map(|e| match parse_http_date(&e) {
            Some(at) => (at - date).to_std().unwrap_or(Duration::ZERO),
            None => Duration::ZERO,
        });
        let retry_after = text(RETRY_AFTER).and_then(|r| parse_retry_after(&r, date));
        CacheHints {
            max_age,
            expires,
            retry_after,
        }
    }
}

/// The freshness lifetime a `Cache-Control` value grants: `max-age`, or zero when the
/// response must be revalidated (`no-cache`, `no-store`); `None` when it says neither.
fn max_age(cache_control: &str) -> Option<Duration> {
    let mut found = None;
    for directive in cache_control.split(',') {
        let (name, value) = match directive.split_once('=') {
            Some((n, v)) => (n.trim(), Some(v.trim().trim_matches('"'))),
            None => (directive.trim(), None),
        };
        if name.eq_ignore_ascii_case("no-cache") || name.eq_ignore_ascii_case("no-store") {
            return Some(Duration::ZERO);
        }
        if name.eq_ignore_ascii_case("max-age") {
            // RFC 9111 4.2.1: an invalid value counts as stale.
            let secs = value.and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
            found.get_or_insert(Duration::from_secs(secs));
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-11-26T10:00:00Z")
            .expect("valid")
            .with_timezone(&Utc)
    }

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (n, v) in pairs {
            h.append(
                reqwest::header::HeaderName::from_bytes(n.as_bytes()).expect("name"),
                v.parse().expect("value"),
            );
        }
        h
    }

    fn secs(s: u64) -> Option<Duration> {
        Some(Duration::from_secs(s))
    }

    #[test]
    fn header_table() {
        type Row<'a> = (&'a str, &'a [(&'a str, &'a str)], CacheHints);
        let rows: &[Row<'_>] = &[
            ("nothing", &[], CacheHints::default()),
            (
                "max-age",
                &[("cache-control", "public, max-age=7200")],
                CacheHints {
                    max_age: secs(7200),
                    ..CacheHints::default()
                },
            ),
            (
                "quoted, upper case, less Age",
                &[("Cache-Control", "MAX-AGE=\"600\""), ("age", "100")],
                CacheHints {
                    max_age: secs(500),
                    ..CacheHints::default()
                },
            ),
            (
                "Age beyond max-age",
                &[("cache-control", "max-age=60"), ("age", "3600")],
                CacheHints {
                    max_age: secs(0),
                    ..CacheHints::default()
                },
            ),
            (
                "no-cache overrules max-age",
                &[("cache-control", "max-age=600, no-cache")],
                CacheHints {
                    max_age: secs(0),
                    ..CacheHints::default()
                },
            ),
            (
                "split over two headers",
                &[("cache-control", "public"), ("cache-control", "max-age=90")],
                CacheHints {
                    max_age: secs(90),
                    ..CacheHints::default()
                },
            ),
            (
                "s-maxage alone is for shared caches",
                &[("cache-control", "s-maxage=900")],
                CacheHints::default(),
            ),
            (
                "Expires against the server's Date",
                &[
                    ("date", "Sun, 01 Mar 2026 12:00:00 GMT"),
                    ("expires", "Sun, 01 Mar 2026 15:00:00 GMT"),
                ],
                CacheHints {
                    expires: secs(3 * 3600),
                    ..CacheHints::default()
                },
            ),
            (
                "Expires without Date: against now",
                &[("expires", "Thu, 26 Nov 2026 11:00:00 GMT")],
                CacheHints {
                    expires: secs(3600),
                    ..CacheHints::default()
                },
            ),
            (
                "Expires in the past or not a date: stale",
                &[("expires", "0")],
                CacheHints {
                    expires: secs(0),
                    ..CacheHints::default()
                },
            ),
            (
                "Retry-After seconds",
                &[("retry-after", "3600")],
                CacheHints {
                    retry_after: secs(3600),
                    ..CacheHints::default()
                },
            ),
            (
                "Retry-After date against Date",
                &[
                    ("date", "Sun, 01 Mar 2026 12:00:00 GMT"),
                    ("retry-after", "Sun, 01 Mar 2026 12:30:00 GMT"),
                ],
                CacheHints {
                    retry_after: secs(1800),
                    ..CacheHints::default()
                },
            ),
            (
                "garbage Retry-After is not given",
                &[("retry-after", "soon")],
                CacheHints::default(),
            ),
        ];
        for (what, pairs, want) in rows {
            assert_eq!(
                CacheHints::from_headers(&headers(pairs), now()),
                *want,
                "{what}"
            );
        }
    }
}
