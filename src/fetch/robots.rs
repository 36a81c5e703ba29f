//! robots.txt per RFC 9309: what an origin lets our user-agent fetch, and its Crawl-delay.
//!
//! Each origin's robots.txt is fetched at most once per run (the fetcher asks a
//! [`RobotsRegistry`] cell, so concurrent feeds on one host share the answer) and cached in the
//! store with a 24 h expiry. Turning an answer into rules is pure ([`resolve`]):
//! 2xx = the rules in the body; 4xx = no robots.txt, everything allowed; 429, 5xx or no answer
//! = "unreachable", which RFC 9309 says means complete disallow, unless an older cached copy
//! exists (RFC 9309 2.4 allows using it while the file is unreachable).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::OnceCell;
use url::Url;

use crate::store::{RobotsRecord, Store};

/// RFC 9309 2.5: crawlers must parse at least 500 KiB; we parse exactly that much.
pub const MAX_ROBOTS_BYTES: u64 = 500 * 1024;
/// How long a fetched robots.txt is trusted (RFC 9309 2.4: no more than 24 h).
pub const EXPIRY_HOURS: i64 = 24;

/// The rules of one origin for our user-agent.
#[derive(Debug)]
pub enum RobotsRules {
    /// No robots.txt (4xx) or robots checking is off for it: everything allowed.
    AllowAll,
    /// Parsed robots.txt.
    Rules(Box<texting_robots::Robot>),
    /// robots.txt could not be read and nothing is cached: the whole origin is off limits for
    /// this run. Holds the cause.
    Unreachable(String),
    /// As `Unreachable`, because the host itself could not be reached (name or connection):
    /// what a feed of that origin reports is the network failure, not robots.txt.
    HostUnreachable(String),
}

/// robots.txt as it applies to one origin in this run.
#[derive(Debug)]
pub struct HostRobots {
    /// `scheme://host[:port]/robots.txt`.
    pub robots_url: String,
    pub rules: RobotsRules,
    /// Crawl-delay for our agent (or `*`), if any.
    pub crawl_delay: Option<Duration>,
}

/// Why robots.txt forbids a URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Denied {
    /// A rule disallows the path.
    Disallowed,
    /// robots.txt is unreachable; RFC 9309 says assume complete disallow.
    Unreachable(String),
    /// The host is unreachable (name or connection); holds the network failure.
    HostUnreachable(String),
}

impl HostRobots {
    /// Rules from a stored (or just fetched) answer.
    pub fn from_record(record: &RobotsRecord, agent: &str) -> HostRobots {
        let robots_url = format!("{}/robots.txt", record.origin);
        if !(200..300).contains(&record.status) {
            return HostRobots {
                robots_url,
                rules: RobotsRules::AllowAll,
                crawl_delay: None,
            };
        }
        let body = &record.body[..record.body.len().min(MAX_ROBOTS_BYTES as usize)];
        match texting_robots::Robot::new(agent, body) {
            Ok(robot) => {
                let crawl_delay = robot
                    .delay
                    .filter(|d| d.is_finite() && *d > 0.0)
                    .map(|d| Duration::from_secs_f64(f64::from(d).min(86_400.0)));
                HostRobots {
                    robots_url,
                    rules: RobotsRules::Rules(Box::new(robot)),
                    crawl_delay,
                }
            }
            Err(e) => {
                // The parser is forgiving; what it rejects holds no usable rule.
                tracing::warn!("{robots_url}: unparseable robots.txt ({e}); treating it as empty");
                HostRobots {
                    robots_url,
                    rules: RobotsRules::AllowAll,
                    crawl_delay: None,
                }
            }
        }
    }

    /// Whether `url` may be fetched.
    pub fn check(&self, url: &Url) -> Result<(), Denied> {
        match &self.rules {
            RobotsRules::AllowAll => Ok(()),
            RobotsRules::Rules(robot) if robot.allowed(url.as_str()) => Ok(()),
            RobotsRules::Rules(_) => Err(Denied::Disallowed),
            RobotsRules::Unreachable(cause) => Err(Denied::Unreachable(cause.clone())),
            RobotsRules::HostUnreachable(cause) => Err(Denied::HostUnreachable(cause.clone())),
        }
    }
}

/// What fetching robots.txt gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RobotsAnswer {
    /// The server answered (after redirects).
    Status { status: u16, body: Vec<u8> },
    /// No usable answer: timeout, broken answer, too many redirects... (the cause).
    Failed(String),
    /// No answer because the host cannot be reached: DNS or connection failure (the cause).
    HostUnreachable(String),
}

/// Turns a robots.txt answer (and a stale cached copy, if any) into this run's rules, plus the
/// record to cache when the answer is worth keeping. Pure.
pub fn resolve(
    origin: &str,
    answer: RobotsAnswer,
    stale: Option<RobotsRecord>,
    agent: &str,
    now: DateTime<Utc>,
) -> (HostRobots, Option<RobotsRecord>) {
    let record = |status: u16, body: Vec<u8>| RobotsRecord {
        origin: origin.to_string(),
        status,
        body,
        fetched: now,
        expires: now + chrono::Duration::hours(EXPIRY_HOURS),
    };
    let (cause, host_down) = match answer {
        RobotsAnswer::Status { status, body } if (200..300).contains(&status) => {
            let rec = record(status, body);
            return (HostRobots::from_record(&rec, agent), Some(rec));
        }
        RobotsAnswer::Status { status, .. } if (400..500).contains(&status) && status != 429 => {
            let rec = record(status, Vec::new());
            return (HostRobots::from_record(&rec, agent), Some(rec));
        }
        RobotsAnswer::Status { status, .. } => (format!("HTTP {status}"), false),
        RobotsAnswer::Failed(cause) => (cause, false),
        RobotsAnswer::HostUnreachable(cause) => (cause, true),
    };
    if let Some(old) = stale {
        tracing::warn!(
            "{origin}/robots.txt unreachable ({cause}); using the copy cached at {}",
            old.fetched
        );
        return (HostRobots::from_record(&old, agent), None);
    }
    (
        HostRobots {
            robots_url: format!("{origin}/robots.txt"),
            rules: if host_down {
                RobotsRules::HostUnreachable(cause)
            } else {
                RobotsRules::Unreachable(cause)
            },
            crawl_delay: None,
        },
        None,
    )
}

/// The product token robots.txt groups are matched against: "scifeed" of
/// "scifeed/0.1 (+https://...)".
pub fn product_token(user_agent: &str) -> String {
    let token: String = user_agent
        .trim()
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_'))
        .collect();
    if token.is_empty() {
        "scifeed".to_string()
    } else {
        token.to_ascii_lowercase()
    }
}

/// Where robots.txt answers are remembered between runs.
pub trait RobotsCache: Send + Sync {
    /// The cached answer of `origin`, fresh or stale.
    fn load(&self, origin: &str) -> Option<RobotsRecord>;
    /// Remembers an answer.
    fn save(&self, record: &RobotsRecord);
}

/// The store is the cache. A failing cache only costs a refetch, so errors are logged, not
/// raised.
impl RobotsCache for Mutex<Store> {
    fn load(&self, origin: &str) -> Option<RobotsRecord> {
        let store = self.lock().unwrap_or_else(|e| e.into_inner());
        store
            .robots(origin)
            .inspect_err(|e| tracing::warn!("robots.txt cache: {e}"))
            .ok()
            .flatten()
    }

    fn save(&self, record: &RobotsRecord) {
        let store = self.lock().unwrap_or_else(|e| e.into_inner());
        if let Err(e) = store.save_robots(record) {
            tracing::warn!("robots.txt cache: {e}");
        }
    }
}

/// This run's robots.txt answers, one cell per origin, so each origin is asked once.
#[derive(Debug, Default)]
pub struct RobotsRegistry {
    cells: Mutex<HashMap<String, Arc<OnceCell<Arc<HostRobots>>>>>,
}

impl RobotsRegistry {
    /// The cell of `origin`; the first caller fills it, the others wait for that.
    pub fn cell(&self, origin: &str) -> Arc<OnceCell<Arc<HostRobots>>> {
        let mut cells = self.cells.lock().unwrap_or_else(|e| e.into_inner());
        Arc::clone(cells.entry(origin.to_string()).or_default())
    }

    /// Forgets every answer (a new round asks again).
    pub fn clear(&self) {
        self.cells.lock().unwrap_or_else(|e| e.into_inner()).clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-11-26T10:00:00Z")
            .expect("valid")
            .with_timezone(&Utc)
    }

    fn url(path: &str) -> Url {
        Url::parse(&format!("https://e.org{path}")).expect("url")
    }

    const TXT: &[u8] = b"User-agent: *\nDisallow: /\n\nUser-agent: scifeed\nDisallow: /private\nAllow: /private/news\nCrawl-delay: 2.5\n";

    #[test]
    fn resolve_table() {
        let ok = |status| RobotsAnswer::Status {
            status,
            body: TXT.to_vec(),
        };
        let stale = RobotsRecord {
            origin: "https://e.org".into(),
            status: 200,
            body: b"User-agent: *\nDisallow: /old\n".to_vec(),
            fetched: now() - chrono::Duration::days(3),
            expires: now() - chrono::Duration::days(2),
        };
        // (answer, stale copy, verdict on /news, allowed /private/x, allowed /old, cached,
        // crawl delay in ms)
        type Row = (
            RobotsAnswer,
            Option<RobotsRecord>,
            Result<(), Denied>,
            bool,
            bool,
            bool,
            Option<u64>,
        );
        #[rustfmt::skip]
        let rows: Vec<Row> = vec![
            (ok(200), None, Ok(()), false, true, true, Some(2500)),
            (ok(203), None, Ok(()), false, true, true, Some(2500)),
            (ok(404), None, Ok(()), true, true, true, None),
            (ok(401), None, Ok(()), true, true, true, None),
            (ok(403), None, Ok(()), true, true, true, None),
            (ok(410), None, Ok(()), true, true, true, None),
            (ok(429), None, Err(Denied::Unreachable("HTTP 429".into())), false, false, false, None),
            (ok(500), None, Err(Denied::Unreachable("HTTP 500".into())), false, false, false, None),
            (ok(503), Some(stale.clone()), Ok(()), true, false, false, None),
            (RobotsAnswer::Failed("timed out".into()), None, Err(Denied::Unreachable("timed out".into())), false, false, false, None),
            (RobotsAnswer::Failed("timed out".into()), Some(stale.clone()), Ok(()), true, false, false, None),
            (RobotsAnswer::HostUnreachable("no DNS".into()), None, Err(Denied::HostUnreachable("no DNS".into())), false, false, false, None),
            (RobotsAnswer::HostUnreachable("no DNS".into()), Some(stale.clone()), Ok(()), true, false, false, None),
        ];
        for (answer, stale, news, private, old, cached, delay) in rows {
            let label = format!("{answer:?} stale={}", stale.is_some());
            let (robots, rec) = resolve("https://e.org", answer, stale, "scifeed", now());
            assert_eq!(robots.check(&url("/news")), news, "{label}");
            assert_eq!(robots.check(&url("/private/x")).is_ok(), private, "{label}");
            assert_eq!(robots.check(&url("/old")).is_ok(), old, "{label}");
            assert_eq!(rec.is_some(), cached, "{label}");
            assert_eq!(
                robots.crawl_delay.map(|d| d.as_millis() as u64),
                delay,
                "{label}"
            );
            assert_eq!(robots.robots_url, "https://e.org/robots.txt");
            if let Some(r) = rec {
                assert_eq!(
                    r.expires - r.fetched,
                    chrono::Duration::hours(24),
                    "{label}"
                );
            }
        }
    }

    #[test]
    fn our_group_wins_over_star_and_longest_match_wins() {
        let rec = RobotsRecord {
            origin: "https://e.org".into(),
            status: 200,
            body: TXT.to_vec(),
            fetched: now(),
            expires: now(),
        };
        let ours = HostRobots::from_record(&rec, "scifeed");
        assert!(ours.check(&url("/private/news/today")).is_ok());
        assert_eq!(ours.check(&url("/private/y")), Err(Denied::Disallowed));
        let other = HostRobots::from_record(&rec, "otherbot");
        assert_eq!(other.check(&url("/news")), Err(Denied::Disallowed));
        assert_eq!(other.crawl_delay, None);
        assert!(other.check(&url("/robots.txt")).is_ok());
    }

    #[test]
    fn product_tokens() {
        for (ua, want) in [
            ("scifeed/0.1 (+https://example.org/c)", "scifeed"),
            ("SciFeed-Test/1", "scifeed-test"),
            ("  my_bot", "my_bot"),
            ("(weird)", "scifeed"),
        ] {
            assert_eq!(product_token(ua), want, "{ua}");
        }
    }
}
