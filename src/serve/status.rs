//! A feed's health in words, from what the store remembers of its fetches.
//!
//! One function, [`health`], turns a [`FeedSummary`] into a [`Health`]; the index, the feed
//! pages, `/health`, the metrics and the alerts all read it, so they never disagree.

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::store::FeedSummary;

/// How a feed is doing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Health {
    /// Neither fetched successfully nor failed yet.
    New,
    /// The last fetch succeeded.
    Ok,
    /// The last fetches failed, fewer than `notify_after` in a row: the feed is served as it
    /// was and not yet called failing.
    Flaky { failures: u32, cause: String },
    /// The last fetch succeeded with a listing scifeed found again by itself after the
    /// feed's card selector stopped matching.
    Healed {
        since: DateTime<Utc>,
        /// The card selector that broke.
        broken: String,
    },
    /// At least `notify_after` fetches in a row failed.
    Failing {
        failures: u32,
        /// Start of the failure streak, when the store knows it.
        since: Option<DateTime<Utc>>,
        /// The last success before the streak.
        last_ok: Option<DateTime<Utc>>,
        cause: String,
    },
}

/// The word for a health state, as `/health` and the metrics name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Word {
    New,
    Ok,
    Failing,
    Healed,
}

impl Health {
    /// The one-word status.
    pub fn word(&self) -> Word {
        match self {
            Health::New => Word::New,
            Health::Ok | Health::Flaky { .. } => Word::Ok,
            Health::Healed { .. } => Word::Healed,
            Health::Failing { .. } => Word::Failing,
        }
    }

    /// Whether alerts treat the feed as failing.
    pub fn failing(&self) -> bool {
        matches!(self, Health::Failing { .. })
    }

    /// The status in words, as the pages print it.
    pub fn describe(&self) -> String {
        let day = |d: &DateTime<Utc>| d.format("%Y-%m-%d %H:%M UTC").to_string();
        match self {
            Health::New => "not fetched yet".into(),
            Health::Ok => "ok".into(),
            Health::Healed { since, broken } => format!(
                "healed on {}: the card selector `{broken}` stopped matching and scifeed found the listing again (`scifeed store check` shows the selectors to keep)",
                day(since)
            ),
            Health::Flaky { failures, cause } => {
                let n = if *failures == 1 {
                    "the last fetch".to_string()
                } else {
                    format!("the last {failures} fetches")
                };
                format!("ok, but {n} failed: {cause}")
            }
            Health::Failing {
                failures,
                since,
                last_ok,
                cause,
            } => {
                let when = match (since, last_ok) {
                    (Some(s), _) => format!("since {}", day(s)),
                    (None, Some(ok)) => format!("since after {}", day(ok)),
                    (None, None) => "since its first fetch".into(),
                };
                format!("failing {when} ({failures} fetches in a row): {cause}")
            }
        }
    }
}

/// What the store says about a feed that healed: since when, and which selector broke.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HealedListing {
    pub since: DateTime<Utc>,
    pub broken: String,
}

/// The health of a feed whose store summary is `s` (and healed listing, if it reads one). A
/// feed is failing after `notify_after` consecutive failures; failing beats healed.
pub fn health(s: &FeedSummary, notify_after: u32, healed: Option<&HealedListing>) -> Health {
    let cause = || {
        s.last_error
            .clone()
            .unwrap_or_else(|| "unknown error".into())
    };
    match s.failures {
        0 if s.last_ok.is_none() && s.items == 0 => Health::New,
        0 => match healed {
            Some(h) => Health::Healed {
                since: h.since,
                broken: h.broken.clone(),
            },
            None => Health::Ok,
        },
        n if n < notify_after.max(1) => Health::Flaky {
            failures: n,
            cause: cause(),
        },
        n => Health::Failing {
            failures: n,
            since: s.failing_since,
            last_ok: s.last_ok,
            cause: cause(),
        },
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn t(h: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, 1, h, 0, 0)
            .single()
            .expect("valid")
    }

    #[test]
    fn health_table() {
        let s = |failures, last_ok: Option<DateTime<Utc>>, items, err: Option<&str>| FeedSummary {
            failures,
            last_ok,
            items,
            last_error: err.map(str::to_string),
            ..FeedSummary::default()
        };
        let rows: &[(FeedSummary, Word, &str)] = &[
            (s(0, None, 0, None), Word::New, "not fetched yet"),
            (s(0, Some(t(1)), 5, None), Word::Ok, "ok"),
            // Items from an earlier run without a recorded success still count as ok.
            (s(0, None, 5, None), Word::Ok, "ok"),
            (
                s(1, Some(t(1)), 5, Some("https://a/: HTTP 503")),
                Word::Ok,
                "ok, but the last fetch failed: https://a/: HTTP 503",
            ),
            (
                s(2, Some(t(1)), 5, Some("x")),
                Word::Ok,
                "ok, but the last 2 fetches failed: x",
            ),
            (
                s(3, Some(t(1)), 5, Some("https://a/: HTTP 503")),
                Word::Failing,
                "failing since after 2026-12-01 01:00 UTC (3 fetches in a row): https://a/: HTTP 503",
            ),
            (
                s(4, None, 0, None),
                Word::Failing,
                "failing since its first fetch (4 fetches in a row): unknown error",
            ),
        ];
        for (summary, word, text) in rows {
            let h = health(summary, 3, None);
            assert_eq!(h.word(), *word, "{summary:?}");
            assert_eq!(h.describe(), *text, "{summary:?}");
            assert_eq!(h.failing(), *word == Word::Failing);
        }
        let since = Health::Failing {
            failures: 3,
            since: Some(t(2)),
            last_ok: Some(t(1)),
            cause: "c".into(),
        };
        assert_eq!(
            since.describe(),
            "failing since 2026-12-01 02:00 UTC (3 fetches in a row): c"
        );
        // notify_after = 1: the first failure already counts.
        assert!(health(&s(1, Some(t(1)), 1, None), 1, None).failing());
        // The store's streak start; a healed listing shows while the feed succeeds.
        let mut streak = s(3, Some(t(1)), 5, Some("c"));
        streak.failing_since = Some(t(2));
        assert_eq!(
            health(&streak, 3, None).describe(),
            "failing since 2026-12-01 02:00 UTC (3 fetches in a row): c"
        );
        let healed = HealedListing {
            since: t(4),
            broken: "div.old".into(),
        };
        let h = health(&s(0, Some(t(5)), 5, None), 3, Some(&healed));
        assert_eq!(h.word(), Word::Healed);
        assert!(
            h.describe().starts_with(
                "healed on 2026-12-01 04:00 UTC: the card selector `div.old` stopped matching"
            ),
            "{}",
            h.describe()
        );
        assert_eq!(health(&streak, 3, Some(&healed)).word(), Word::Failing);
    }
}
