//! Per-feed outcomes of a run, the summary table and the exit code. Failures stay typed
//! ([`FeedError`]) up to here, with the streak they belong to; a healed feed carries its new
//! selectors ([`Healed`]), so other front ends (an HTML index) read the same data.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::extract::stage::ExtractError;
use crate::fetch::FetchError;
use crate::heal::{Healed, SettleError};
use crate::store::{FailureStreak, StoreError};

/// Why one feed failed.
#[derive(Debug, thiserror::Error)]
pub enum FeedError {
    #[error(transparent)]
    Fetch(#[from] FetchError),
    /// The page gave no cards (and, with self-healing, no re-detected listing was taken).
    #[error("{url}: {source}")]
    Listing { url: String, source: SettleError },
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("cannot write {}: {source}", path.display())]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("internal error: {0}")]
    Internal(String),
}

impl FeedError {
    /// The failure of settling the listing of the page at `url`.
    pub fn settle(url: &url::Url, e: SettleError) -> FeedError {
        match e {
            SettleError::Store(e) => FeedError::Store(e),
            source => FeedError::Listing {
                url: url.to_string(),
                source,
            },
        }
    }

    /// What the extraction stage said about the page, when that is why the feed failed.
    pub fn extract_error(&self) -> Option<&ExtractError> {
        match self {
            FeedError::Listing { source, .. } => match source {
                SettleError::Extract(e) | SettleError::PinLost(e) => Some(e),
                SettleError::Refused(r) => Some(&r.error),
                SettleError::Store(_) => None,
            },
            _ => None,
        }
    }
}

/// A failed feed: the error, and the streak of failed runs it extends.
#[derive(Debug, Clone)]
pub struct Failure {
    pub error: Arc<FeedError>,
    /// `None` when the failure could not be recorded in the store.
    pub streak: Option<FailureStreak>,
}

impl Failure {
    /// A failure without a recorded streak.
    pub fn new(error: FeedError) -> Self {
        Failure {
            error: Arc::new(error),
            streak: None,
        }
    }
}

impl PartialEq for Failure {
    fn eq(&self, other: &Self) -> bool {
        self.streak == other.streak && self.error.to_string() == other.error.to_string()
    }
}

impl Eq for Failure {}

/// `2026-11-26 12:00 UTC`: how reports print a moment.
pub fn format_time(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M UTC").to_string()
}

/// What happened to one feed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FeedStatus {
    /// Not processed (the run was interrupted before it).
    Pending,
    /// New or changed items, or files rewritten.
    Updated {
        new: usize,
        updated: usize,
        total: usize,
        files_written: usize,
    },
    /// Fetched and parsed, nothing changed.
    Unchanged { total: usize },
    /// The server answered 304.
    NotModified { total: usize },
    /// The feed's files and history were left as they were.
    Failed(Failure),
    /// Not fetched: its schedule says it is due at `next` (UTC).
    NotDue { next: chrono::DateTime<chrono::Utc> },
    /// Not fetched by this runner: another runner sharing the state holds its host, or
    /// processed it during this round.
    Elsewhere,
}

/// One feed's result.
#[derive(Debug, Clone)]
pub struct FeedOutcome {
    pub id: String,
    pub url: String,
    pub status: FeedStatus,
    pub http_status: Option<u16>,
    pub elapsed: Duration,
    /// Non-fatal problems (skipped cards, unparseable dates).
    pub warnings: Vec<String>,
    /// Cards extracted from the page.
    pub cards: usize,
    /// Items seen this run whose date came from the page (printed or structured, absolute
    /// or relative), and all items seen this run; `None` when the page was not parsed.
    pub dated: Option<(usize, usize)>,
    /// The feed reads healed selectors (healed on this run or an earlier one).
    pub healed: Option<Healed>,
}

impl FeedOutcome {
    /// A pending outcome for `id`.
    pub fn new(id: &str, url: &str) -> Self {
        FeedOutcome {
            id: id.to_string(),
            url: url.to_string(),
            status: FeedStatus::Pending,
            http_status: None,
            elapsed: Duration::ZERO,
            warnings: Vec::new(),
            cards: 0,
            dated: None,
            healed: None,
        }
    }

    /// Whether this feed counts as failed for the exit code.
    pub fn failed(&self) -> bool {
        matches!(self.status, FeedStatus::Failed(_) | FeedStatus::Pending)
    }
}

/// All outcomes of a run, sorted by feed id.
#[derive(Debug, Clone, Default)]
pub struct RunReport {
    pub outcomes: Vec<FeedOutcome>,
    /// The signal that stopped the run early, if one did.
    pub interrupted: Option<i32>,
}

impl RunReport {
    /// Number of failed feeds.
    pub fn failed(&self) -> usize {
        self.outcomes.iter().filter(|o| o.failed()).count()
    }

    /// 0 when every feed succeeded, 1 when some failed, 128 + the signal number (130 for
    /// SIGINT, 143 for SIGTERM) when a signal stopped the run, as shells report it.
    pub fn exit_code(&self) -> i32 {
        match self.interrupted {
            Some(signal) => 128 + signal,
            None => i32::from(self.failed() > 0),
        }
    }

    /// The end-of-run table: feed, status, new/updated/total items, share of this run's items
    /// dated by the page, HTTP status, time; then each failure's full message.
    pub fn table(&self) -> String {
        let mut rows = vec![[
            "feed".to_string(),
            "status".into(),
            "new".into(),
            "upd".into(),
            "total".into(),
            "dated".into(),
            "http".into(),
            "time".into(),
        ]];
        for o in &self.outcomes {
            let not_due;
            let (status, new, upd, total) = match &o.status {
                FeedStatus::NotDue { next } => {
                    not_due = format!("not due (next {} UTC)", next.format("%b %d %H:%M"));
                    (not_due.as_str(), None, None, None)
                }
                FeedStatus::Pending => ("not run", None, None, None),
                FeedStatus::Elsewhere => ("other runner", None, None, None),
                FeedStatus::Updated {
                    new,
                    updated,
                    total,
                    ..
                } => ("updated", Some(*new), Some(*updated), Some(*total)),
                FeedStatus::Unchanged { total } => ("unchanged", Some(0), Some(0), Some(*total)),
                FeedStatus::NotModified { total } => {
                    ("not modified", Some(0), Some(0), Some(*total))
                }
                FeedStatus::Failed(_) => ("FAILED", None, None, None),
            };
            let status = if o.healed.is_some() && !o.failed() {
                "healed"
            } else {
                status
            };
            let n = |v: Option<usize>| v.map_or_else(|| "-".to_string(), |v| v.to_string());
            rows.push([
                o.id.clone(),
                status.to_string(),
                n(new),
                n(upd),
                n(total),
                o.dated
                    .filter(|(_, all)| *all > 0)
                    .map_or_else(|| "-".into(), |(d, all)| format!("{}%", d * 100 / all)),
                o.http_status.map_or_else(|| "-".into(), |s| s.to_string()),
                if matches!(o.status, FeedStatus::NotDue { .. } | FeedStatus::Elsewhere) {
                    "-".into()
                } else {
                    format!("{:.2}s", o.elapsed.as_secs_f64())
                },
            ]);
        }
        let mut widths = [0usize; 8];
        for r in &rows {
            for (w, c) in widths.iter_mut().zip(r) {
                *w = (*w).max(c.chars().count());
            }
        }
        let mut out = String::new();
        for r in &rows {
            let mut line = String::new();
            for (i, (c, w)) in r.iter().zip(widths).enumerate() {
                let pad = w - c.chars().count();
                if i >= 2 {
                    let _ = write!(line, "{}{c}  ", " ".repeat(pad));
                } else {
                    let _ = write!(line, "{c}{}  ", " ".repeat(pad));
                }
            }
            out.push_str(line.trim_end());
            out.push('\n');
        }
        let not_due = self
            .outcomes
            .iter()
            .filter(|o| matches!(o.status, FeedStatus::NotDue { .. }))
            .count();
        let elsewhere = self
            .outcomes
            .iter()
            .filter(|o| o.status == FeedStatus::Elsewhere)
            .count();
        let ok = self.outcomes.len() - self.failed() - not_due - elsewhere;
        let _ = write!(out, "{ok} ok, {} failed", self.failed());
        if not_due > 0 {
            let _ = write!(out, ", {not_due} not due");
        }
        if elsewhere > 0 {
            let _ = write!(out, ", {elsewhere} by other runners");
        }
        out.push('\n');
        if let Some(signal) = self.interrupted {
            let not_run = self
                .outcomes
                .iter()
                .filter(|o| o.status == FeedStatus::Pending)
                .count();
            let _ = writeln!(
                out,
                "interrupted by {}: {not_run} feed(s) not run; their files and history are as they were",
                crate::shutdown::signal_name(signal)
            );
        }
        for o in &self.outcomes {
            if let Some(h) = o.healed.as_ref().filter(|_| !o.failed()) {
                out.push_str(&healed_note(&o.id, h));
            }
        }
        for o in &self.outcomes {
            if let FeedStatus::Failed(f) = &o.status {
                out.push_str(&failure_note(&o.id, f));
            }
        }
        out
    }
}

/// The lines a failed feed gets below the table (and alone with `-q`): the error, then
/// since when the feed has been failing.
pub fn failure_note(id: &str, f: &Failure) -> String {
    let mut out = format!("error: feed \"{id}\": {}\n", f.error);
    if let Some(s) = f.streak {
        match s.since {
            Some(t) => {
                let _ = write!(out, "    failing since {}", format_time(t));
            }
            None => out.push_str("    failing"),
        }
        let _ = writeln!(out, " ({} failed run(s) in a row)", s.failures);
    }
    out
}

/// What a healed feed gets below the table: which selector broke, and the `[feed.select]`
/// block that makes the healed selectors the feed's own.
pub fn healed_note(id: &str, h: &Healed) -> String {
    format!(
        "healed: feed \"{id}\": card selector `{}` stopped matching; since {} it reads the listing re-detected on its page.\n    Paste this into the feed's [[feed]] to keep it (replacing its [feed.select], if any):\n{}",
        h.broken,
        format_time(h.since),
        crate::heal::select_block(&h.selectors)
            .lines()
            .map(|l| format!("    {l}\n"))
            .collect::<String>()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_and_exit_code() {
        let mut a = FeedOutcome::new("alpha", "https://a/");
        a.status = FeedStatus::Updated {
            new: 3,
            updated: 1,
            total: 12,
            files_written: 3,
        };
        a.http_status = Some(200);
        a.dated = Some((3, 4));
        let mut b = FeedOutcome::new("b", "https://b/");
        b.status = FeedStatus::Failed(Failure {
            error: Arc::new(FeedError::Fetch(FetchError::Status {
                url: "https://b/".into(),
                status: 503,
            })),
            streak: Some(FailureStreak {
                failures: 3,
                since: chrono::TimeZone::with_ymd_and_hms(&Utc, 2026, 11, 20, 8, 30, 0).single(),
            }),
        });
        let r = RunReport {
            outcomes: vec![a.clone(), b],
            interrupted: None,
        };
        assert_eq!(r.exit_code(), 1);
        let t = r.table();
        let lines: Vec<&str> = t.lines().collect();
        assert_eq!(
            lines[0],
            "feed   status   new  upd  total  dated  http   time"
        );
        assert_eq!(
            lines[1],
            "alpha  updated    3    1     12    75%   200  0.00s"
        );
        assert_eq!(
            lines[2],
            "b      FAILED     -    -      -      -     -  0.00s"
        );
        assert_eq!(lines[3], "1 ok, 1 failed");
        assert_eq!(lines[4], "error: feed \"b\": https://b/: HTTP 503");
        assert_eq!(
            lines[5],
            "    failing since 2026-11-20 08:30 UTC (3 failed run(s) in a row)"
        );
        let ok = RunReport {
            outcomes: vec![a.clone()],
            interrupted: None,
        };
        assert_eq!(ok.exit_code(), 0);
        let mut later = FeedOutcome::new("later", "https://l/");
        later.status = FeedStatus::NotDue {
            next: chrono::DateTime::parse_from_rfc3339("2026-11-26T14:05:00Z")
                .expect("date")
                .to_utc(),
        };
        let scheduled = RunReport {
            outcomes: vec![a.clone(), later],
            interrupted: None,
        };
        assert_eq!(scheduled.exit_code(), 0, "a feed not due is not a failure");
        let t = scheduled.table();
        let row: Vec<&str> = t.lines().nth(2).expect("row").split_whitespace().collect();
        assert_eq!(
            row.join(" "),
            "later not due (next Nov 26 14:05 UTC) - - - - - -",
            "{t}"
        );
        assert!(t.contains("1 ok, 0 failed, 1 not due"), "{t}");
        let stopped = RunReport {
            outcomes: vec![a, FeedOutcome::new("c", "https://c/")],
            interrupted: Some(2),
        };
        assert_eq!(stopped.exit_code(), 130);
        let t = stopped.table();
        assert!(t.contains("c      not run"), "{t}");
        assert!(
            t.contains("interrupted by SIGINT: 1 feed(s) not run"),
            "{t}"
        );
    }

    #[test]
    fn healed_feeds_say_so_and_print_the_block_to_paste() {
        let mut h = FeedOutcome::new("h", "https://h/");
        h.status = FeedStatus::Unchanged { total: 8 };
        h.healed = Some(Healed {
            broken: "div.old".into(),
            selectors: crate::extract::detect::SelectorSet {
                card: "li.new".into(),
                title: "h3".into(),
                ..Default::default()
            },
            since: chrono::TimeZone::with_ymd_and_hms(&Utc, 2026, 11, 27, 12, 0, 0)
                .single()
                .expect("valid"),
        });
        let r = RunReport {
            outcomes: vec![h],
            interrupted: None,
        };
        assert_eq!(r.exit_code(), 0, "healing is a success");
        let t = r.table();
        let lines: Vec<&str> = t.lines().collect();
        assert_eq!(
            lines[1],
            "h     healed    0    0      8      -     -  0.00s"
        );
        assert_eq!(lines[2], "1 ok, 0 failed");
        assert!(
            lines[3].starts_with(
                "healed: feed \"h\": card selector `div.old` stopped matching; since 2026-11-27 12:00 UTC"
            ),
            "{t}"
        );
        assert_eq!(
            &lines[5..],
            [
                "    [feed.select]",
                "    card = \"li.new\"",
                "    title = \"h3\""
            ]
        );
    }
}
