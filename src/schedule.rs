//! Schedule: (schedule config, stored state, outcome of this fetch, the source's caching
//! headers, now) -> when the feed is next due, and its new state. Pure.
//!
//! Rules, in the order [`plan`] applies them:
//! - **Adaptive interval.** Each successful fetch that brings new items halves the feed's
//!   interval (never below `every`); each that brings none grows it by half (never above
//!   `max_every`). It settles where about a third of the fetches find something new, so a
//!   page that changes hourly is read about hourly and a quiet one about daily.
//! - **Failures back off.** The `n`th failure in a row waits `every * 2^(n-1)` or the
//!   current interval, whichever is longer, never more than `max_every`; the interval itself
//!   is kept for when the feed recovers.
//! - **The source's word.** Never sooner than `Cache-Control: max-age` (less `Age`), else
//!   `Expires`, nor than `Retry-After`.
//! - **Bounds.** Whatever the inputs, the next fetch is between `every` and `max_every` from
//!   now. `max_every` is the user's promise of freshness and beats a source asking for a
//!   longer pause (a page served with `max-age` of a year would otherwise never be read again).
//! - **Jitter.** The wait is a point of the window ±[`JITTER`] around it, cut to the bounds
//!   above, picked by a hash of the feed id and its fetch count: deterministic (tests and
//!   replays see the same times), but different per feed and round, so the feeds of one host
//!   do not fall into lockstep, not even when they share a `max-age`.

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::feed::{FeedSpec, Settings};
use crate::fetch::cache::CacheHints;

/// Default of `max_every`: a feed is read at least once a day.
pub const DEFAULT_MAX_EVERY: Duration = Duration::from_secs(24 * 3600);
/// How far jitter moves a wait, as a share of it (either way).
pub const JITTER: f64 = 0.1;
/// Growth of the interval after a fetch without new items.
const GROW: f64 = 1.5;
/// Shrink of the interval after a fetch with new items.
const SHRINK: f64 = 0.5;

/// How often one feed should be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScheduleConfig {
    /// Shortest interval: a feed whose page changes on every fetch is read this often.
    pub every: Duration,
    /// Longest interval: a feed is read at least this often, whatever happens.
    pub max_every: Duration,
}

impl ScheduleConfig {
    /// The feed's schedule: its own `every`, else `default_every` (such as `serve --every`),
    /// else `[settings] every`; `None` when none is set (then `run` reads the feed every time).
    /// `max_every` never falls below `every`.
    pub fn for_feed(
        feed: &FeedSpec,
        settings: &Settings,
        default_every: Option<Duration>,
    ) -> Option<ScheduleConfig> {
        let every = feed.every.or(default_every).or(settings.every)?;
        let max_every = feed.max_every.unwrap_or(settings.max_every);
        Some(ScheduleConfig {
            every,
            max_every: max_every.max(every),
        })
    }
}

/// What the store keeps about a feed's schedule between fetches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScheduleState {
    /// The feed is due from this time on.
    pub next_due: DateTime<Utc>,
    /// The adaptive interval (between `every` and `max_every` of the config it was made with).
    pub interval: Duration,
    /// The last fetch, successful or not.
    pub last_fetch: DateTime<Utc>,
    /// The last successful fetch.
    pub last_success: Option<DateTime<Utc>>,
    /// The last fetch that brought new items.
    pub last_change: Option<DateTime<Utc>>,
    /// Failed fetches in a row (0 after a success).
    pub failures: u32,
    /// Fetches so far; the round number that varies the jitter.
    pub fetches: u64,
}

/// How this fetch ended, as far as the schedule cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The page was read (or answered 304); `new_items` of its items were new to the history.
    Fetched { new_items: usize },
    /// The fetch or the extraction failed.
    Failed,
}

/// The feed's next due time and state after a fetch at `now` that ended with `outcome`.
/// `prev` is the stored state (`None` before the first scheduled fetch).
pub fn plan(
    cfg: &ScheduleConfig,
    prev: Option<&ScheduleState>,
    outcome: Outcome,
    hints: &CacheHints,
    feed_id: &str,
    now: DateTime<Utc>,
) -> ScheduleState {
    let every = cfg.every;
    let max_every = cfg.max_every.max(every);
    // A config change may have moved the bounds since the interval was stored.
    let interval = prev.map_or(every, |p| p.interval).clamp(every, max_every);
    let fetches = prev.map_or(0, |p| p.fetches).saturating_add(1);
    let mut next = ScheduleState {
        next_due: now,
        interval,
        last_fetch: now,
        last_success: prev.and_then(|p| p.last_success),
        last_change: prev.and_then(|p| p.last_change),
        failures: 0,
        fetches,
    };
    let wait = match outcome {
        Outcome::Fetched { new_items } => {
            let factor = if new_items > 0 { SHRINK } else { GROW };
            next.interval = scale(interval, factor).clamp(every, max_every);
            next.last_success = Some(now);
            if new_items > 0 {
                next.last_change = Some(now);
            }
            next.interval
        }
        Outcome::Failed => {
            next.failures = prev.map_or(0, |p| p.failures).saturating_add(1);
            let backoff = every.saturating_mul(2u32.saturating_pow((next.failures - 1).min(31)));
            interval.max(backoff).min(max_every)
        }
    };
    let lower = source_floor(hints).max(every).min(max_every);
    let target = wait.clamp(lower, max_every);
    // Jitter picks a point of the window ±JITTER around the target, cut to the bounds: when
    // a bound binds (a common max-age, max_every), the feeds still spread over what is left.
    let lo = scale(target, 1.0 - JITTER).max(lower);
    let hi = scale(target, 1.0 + JITTER).min(max_every);
    let jittered = lo + (hi - lo).mul_f64(unit_hash(feed_id, fetches));
    next.next_due = later(now, jittered);
    next
}

/// `d * factor`, saturating instead of panicking.
fn scale(d: Duration, factor: f64) -> Duration {
    Duration::try_from_secs_f64(d.as_secs_f64() * factor).unwrap_or(Duration::MAX)
}

/// `t + d`, saturating at the end of time instead of panicking.
fn later(t: DateTime<Utc>, d: Duration) -> DateTime<Utc> {
    chrono::Duration::from_std(d)
        .ok()
        .and_then(|d| t.checked_add_signed(d))
        .unwrap_or(DateTime::<Utc>::MAX_UTC)
}

/// When the feed is next due under `cfg`: its stored due time, but within `every` ..
/// `max_every` of its last fetch (the config may have changed since it was planned).
/// `None` before the first scheduled fetch: due now.
pub fn next_due(cfg: &ScheduleConfig, state: Option<&ScheduleState>) -> Option<DateTime<Utc>> {
    let s = state?;
    let lo = later(s.last_fetch, cfg.every);
    let hi = later(s.last_fetch, cfg.max_every.max(cfg.every));
    Some(s.next_due.clamp(lo, hi))
}

/// Whether the feed should be fetched at `now`; `Err(next)` says when it will be.
pub fn due(
    cfg: &ScheduleConfig,
    state: Option<&ScheduleState>,
    now: DateTime<Utc>,
) -> Result<(), DateTime<Utc>> {
    match next_due(cfg, state) {
        Some(next) if next > now => Err(next),
        _ => Ok(()),
    }
}

/// Splits a round's feeds into those to fetch at `now` and those not due yet (with their next
/// due time). With `due_only` false (`run --all`), or for feeds without `every`, every feed is
/// due. Order is kept.
pub fn select_due(
    feeds: Vec<FeedSpec>,
    settings: &Settings,
    default_every: Option<Duration>,
    states: &BTreeMap<String, ScheduleState>,
    due_only: bool,
    now: DateTime<Utc>,
) -> (Vec<FeedSpec>, Vec<(FeedSpec, DateTime<Utc>)>) {
    let mut fetch = Vec::with_capacity(feeds.len());
    let mut later = Vec::new();
    for feed in feeds {
        let wait = ScheduleConfig::for_feed(&feed, settings, default_every)
            .filter(|_| due_only)
            .and_then(|cfg| due(&cfg, states.get(&feed.id), now).err());
        match wait {
            Some(next) => later.push((feed, next)),
            None => fetch.push(feed),
        }
    }
    (fetch, later)
}

/// The earliest time one of `feeds` is due (`None` when none has a schedule): when a
/// long-running process should start its next round. A feed never fetched is due now.
pub fn next_wake(
    feeds: &[FeedSpec],
    settings: &Settings,
    default_every: Option<Duration>,
    states: &BTreeMap<String, ScheduleState>,
    now: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    feeds
        .iter()
        .filter_map(|f| {
            let cfg = ScheduleConfig::for_feed(f, settings, default_every)?;
            Some(next_due(&cfg, states.get(&f.id)).unwrap_or(now))
        })
        .min()
}

/// The longest pause the source asked for: `max-age` (which beats `Expires`, RFC 9111
/// 4.2.1) or `Expires`, and `Retry-After`.
fn source_floor(h: &CacheHints) -> Duration {
    let fresh = h.max_age.or(h.expires).unwrap_or(Duration::ZERO);
    fresh.max(h.retry_after.unwrap_or(Duration::ZERO))
}

/// A value in `[0, 1)` fixed by the feed id and round.
fn unit_hash(feed_id: &str, round: u64) -> f64 {
    let mut key = Vec::with_capacity(feed_id.len() + 9);
    key.extend_from_slice(feed_id.as_bytes());
    key.push(0);
    key.extend_from_slice(&round.to_le_bytes());
    let h = xxhash_rust::xxh3::xxh3_64(&key);
    (h >> 11) as f64 / (1u64 << 53) as f64
}

/// Parses a duration such as `"15m"`, `"2h"`, `"1d"`, `"90s"`, `"1w"` or `"1h30m"`: whole
/// numbers, each followed by a unit (`s`, `m`, `h`, `d`, `w`), spaces allowed between parts.
/// A bare number is refused (seconds or minutes? the unit says).
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let s = text.trim();
    if s.is_empty() {
        return Err("empty duration".into());
    }
    let mut total: u64 = 0;
    let mut rest = s;
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(rest.len());
        if digits == 0 {
            return Err(format!("{text:?}: expected a number at {rest:?}"));
        }
        if rest[digits..].starts_with(['.', ',']) {
            return Err(format!(
                "{text:?}: whole numbers only (write \"90m\" for \"1.5h\")"
            ));
        }
        let n: u64 = rest[..digits]
            .parse()
            .map_err(|_| format!("{text:?}: number too large"))?;
        rest = rest[digits..].trim_start();
        let unit_len = rest
            .find(|c: char| !c.is_ascii_alphabetic())
            .unwrap_or(rest.len());
        let secs = match &rest[..unit_len] {
            "s" => 1,
            "m" => 60,
            "h" => 3600,
            "d" => 86_400,
            "w" => 7 * 86_400,
            "" => return Err(format!("{text:?}: {n} needs a unit (s, m, h, d or w)")),
            u => {
                return Err(format!(
                    "{text:?}: unknown unit {u:?} (use s, m, h, d or w)"
                ));
            }
        };
        total = n
            .checked_mul(secs)
            .and_then(|v| total.checked_add(v))
            .ok_or_else(|| format!("{text:?}: too long"))?;
        rest = rest[unit_len..].trim_start();
    }
    Ok(Duration::from_secs(total))
}

/// Writes a duration the way [`parse_duration`] reads it: `"1d2h"`, `"15m"`, `"90s"` -> `"1m30s"`.
pub fn format_duration(d: Duration) -> String {
    let mut secs = d.as_secs();
    if secs == 0 {
        return "0s".into();
    }
    let mut out = String::new();
    for (unit, n) in [("d", 86_400), ("h", 3600), ("m", 60), ("s", 1)] {
        if secs >= n {
            out.push_str(&format!("{}{unit}", secs / n));
            secs %= n;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use proptest::prelude::*;

    const MIN: u64 = 60;
    const HOUR: u64 = 3600;

    fn t(s: i64) -> DateTime<Utc> {
        Utc.timestamp_opt(1_800_000_000 + s, 0)
            .single()
            .expect("valid")
    }

    fn cfg(every: u64, max_every: u64) -> ScheduleConfig {
        ScheduleConfig {
            every: Duration::from_secs(every),
            max_every: Duration::from_secs(max_every),
        }
    }

    fn state(interval: u64, failures: u32) -> ScheduleState {
        ScheduleState {
            next_due: t(0),
            interval: Duration::from_secs(interval),
            last_fetch: t(0),
            last_success: Some(t(-100)),
            last_change: Some(t(-200)),
            failures,
            fetches: 7,
        }
    }

    fn hints(max_age: Option<u64>, expires: Option<u64>, retry_after: Option<u64>) -> CacheHints {
        CacheHints {
            max_age: max_age.map(Duration::from_secs),
            expires: expires.map(Duration::from_secs),
            retry_after: retry_after.map(Duration::from_secs),
        }
    }

    fn none() -> CacheHints {
        CacheHints::default()
    }

    fn new(n: usize) -> Outcome {
        Outcome::Fetched { new_items: n }
    }

    /// The wait `plan` chose, in seconds.
    fn wait(s: &ScheduleState, now: DateTime<Utc>) -> u64 {
        u64::try_from((s.next_due - now).num_seconds()).expect("future")
    }

    /// Within ±JITTER of `secs`, also clamped like plan clamps.
    fn near(got: u64, secs: u64) -> bool {
        let lo = (secs as f64 * (1.0 - JITTER)).floor() as u64;
        let hi = (secs as f64 * (1.0 + JITTER)).ceil() as u64;
        (lo..=hi).contains(&got)
    }

    /// The adaptive interval: (config, previous interval, outcome) -> new interval.
    #[test]
    fn interval_table() {
        let c = cfg(15 * MIN, 24 * HOUR);
        let rows: &[(&str, Option<u64>, Outcome, u64)] = &[
            ("first fetch finds items: every", None, new(8), 15 * MIN),
            (
                "first fetch, nothing new: grows",
                None,
                new(0),
                22 * MIN + 30,
            ),
            ("quiet page grows by half", Some(2 * HOUR), new(0), 3 * HOUR),
            ("new items halve it", Some(2 * HOUR), new(3), HOUR),
            ("one new item halves it too", Some(2 * HOUR), new(1), HOUR),
            ("never below every", Some(20 * MIN), new(5), 15 * MIN),
            ("never above max_every", Some(20 * HOUR), new(0), 24 * HOUR),
            (
                "stored interval below a raised every",
                Some(MIN),
                new(0),
                22 * MIN + 30,
            ),
            (
                "stored interval above a lowered max_every",
                Some(48 * HOUR),
                new(1),
                12 * HOUR,
            ),
            (
                "a failure keeps the interval",
                Some(3 * HOUR),
                Outcome::Failed,
                3 * HOUR,
            ),
        ];
        for (what, prev, outcome, want) in rows {
            let p = prev.map(|i| state(i, 0));
            let got = plan(&c, p.as_ref(), *outcome, &none(), "f", t(0));
            assert_eq!(got.interval, Duration::from_secs(*want), "{what}");
            let w = wait(&got, t(0));
            let expect_wait = match outcome {
                Outcome::Failed => w, // covered by failure_backoff_table
                _ => *want,
            };
            assert!(
                near(w, expect_wait) && (15 * MIN..=24 * HOUR).contains(&w),
                "{what}: wait {w}s for interval {want}s"
            );
        }
    }

    /// A page with new items on every fetch is read every `every`; a page that never changes
    /// drifts out to `max_every`, in a dozen fetches.
    #[test]
    fn intervals_converge() {
        let c = cfg(15 * MIN, 24 * HOUR);
        let run = |new_items: usize, n: usize| {
            let mut s: Option<ScheduleState> = None;
            let mut now = t(0);
            for _ in 0..n {
                let next = plan(&c, s.as_ref(), new(new_items), &none(), "f", now);
                now = next.next_due;
                s = Some(next);
            }
            s.expect("state")
        };
        assert_eq!(run(2, 20).interval, Duration::from_secs(15 * MIN));
        let quiet = run(0, 12);
        assert_eq!(quiet.interval, Duration::from_secs(24 * HOUR));
        assert_eq!(quiet.fetches, 12);
        assert_eq!(quiet.last_change, None);
    }

    /// Failures: (failures before, interval) -> wait, without jitter's share.
    #[test]
    fn failure_backoff_table() {
        let c = cfg(15 * MIN, 6 * HOUR);
        let rows: &[(&str, u32, u64, u64)] = &[
            ("first failure: every", 0, 15 * MIN, 15 * MIN),
            ("second: twice every", 1, 15 * MIN, 30 * MIN),
            ("third: four times", 2, 15 * MIN, HOUR),
            ("fifth: sixteen times", 4, 15 * MIN, 4 * HOUR),
            ("capped at max_every", 6, 15 * MIN, 6 * HOUR),
            ("no overflow after many", 500, 15 * MIN, 6 * HOUR),
            ("a long interval is kept", 0, 3 * HOUR, 3 * HOUR),
        ];
        for (what, before, interval, want) in rows {
            let p = state(*interval, *before);
            let got = plan(&c, Some(&p), Outcome::Failed, &none(), "f", t(0));
            assert_eq!(got.failures, before.saturating_add(1), "{what}");
            assert_eq!(got.last_success, p.last_success, "{what}");
            let w = wait(&got, t(0));
            assert!(
                near(w, *want) && (15 * MIN..=6 * HOUR).contains(&w),
                "{what}: {w}s, want about {want}s"
            );
        }
        // A success ends the streak and goes back to the interval.
        let ok = plan(&c, Some(&state(HOUR, 5)), new(0), &none(), "f", t(0));
        assert_eq!(ok.failures, 0);
        assert_eq!(ok.last_success, Some(t(0)));
        assert!(near(wait(&ok, t(0)), 90 * MIN));
    }

    /// The source's caching headers: (max-age, Expires, Retry-After) -> least wait.
    #[test]
    fn source_headers_table() {
        let c = cfg(30 * MIN, 24 * HOUR);
        let p = state(30 * MIN, 0);
        let rows: &[(&str, CacheHints, Outcome, u64)] = &[
            ("no headers: every", none(), new(1), 30 * MIN),
            (
                "max-age beyond every pushes it out",
                hints(Some(2 * HOUR), None, None),
                new(1),
                2 * HOUR,
            ),
            (
                "max-age shorter than every changes nothing",
                hints(Some(60), None, None),
                new(1),
                30 * MIN,
            ),
            (
                "Expires beyond every",
                hints(None, Some(3 * HOUR), None),
                new(1),
                3 * HOUR,
            ),
            (
                "max-age beats a longer Expires",
                hints(Some(HOUR), Some(5 * HOUR), None),
                new(1),
                HOUR,
            ),
            (
                "max-age=0 (no-cache) beats Expires",
                hints(Some(0), Some(5 * HOUR), None),
                new(1),
                30 * MIN,
            ),
            (
                "Retry-After on a failure",
                hints(None, None, Some(4 * HOUR)),
                Outcome::Failed,
                4 * HOUR,
            ),
            (
                "Retry-After beyond max-age",
                hints(Some(HOUR), None, Some(2 * HOUR)),
                new(0),
                2 * HOUR,
            ),
            (
                "a year of max-age is capped at max_every",
                hints(Some(365 * 24 * HOUR), None, None),
                new(0),
                24 * HOUR,
            ),
            (
                "Retry-After beyond max_every is capped",
                hints(None, None, Some(72 * HOUR)),
                Outcome::Failed,
                24 * HOUR,
            ),
        ];
        for (what, h, outcome, least) in rows {
            let got = plan(&c, Some(&p), *outcome, h, "feed-x", t(0));
            let w = wait(&got, t(0));
            assert!(w >= *least, "{what}: {w}s < {least}s");
            assert!(
                near(w, *least) || w == *least,
                "{what}: {w}s not near {least}s"
            );
            assert!(w <= 24 * HOUR, "{what}: {w}s beyond max_every");
        }
    }

    /// Jitter is reproducible, differs between feeds and rounds, and stays within ±JITTER.
    #[test]
    fn jitter_spreads_feeds_within_bounds() {
        let c = cfg(10 * MIN, 24 * HOUR);
        let p = state(2 * HOUR, 0);
        let waits: Vec<u64> = (0..50)
            .map(|i| {
                let s = plan(&c, Some(&p), new(0), &none(), &format!("feed-{i}"), t(0));
                wait(&s, t(0))
            })
            .collect();
        let again = plan(&c, Some(&p), new(0), &none(), "feed-0", t(0));
        assert_eq!(
            wait(&again, t(0)),
            waits[0],
            "same feed and round, same time"
        );
        let mut distinct = waits.clone();
        distinct.sort_unstable();
        distinct.dedup();
        assert!(
            distinct.len() >= 45,
            "50 feeds of one host spread out: {distinct:?}"
        );
        for w in &waits {
            assert!(near(*w, 3 * HOUR), "{w}");
        }
        let lo = *waits.iter().min().expect("some");
        let hi = *waits.iter().max().expect("some");
        assert!(hi - lo > 3 * HOUR / 10, "jitter uses its range: {lo}..{hi}");
        // Feeds of one host with one max-age do not line up at it either.
        let shared: Vec<u64> = (0..50)
            .map(|i| {
                let h = hints(Some(4 * HOUR), None, None);
                wait(
                    &plan(&c, Some(&p), new(0), &h, &format!("feed-{i}"), t(0)),
                    t(0),
                )
            })
            .collect();
        assert!(
            shared
                .iter()
                .all(|w| (4 * HOUR..=4 * HOUR + 4 * HOUR / 10).contains(w))
        );
        let at_floor = shared.iter().filter(|w| **w == 4 * HOUR).count();
        assert!(
            at_floor <= 2,
            "{at_floor} of 50 feeds due at the same second"
        );
        // The next round of the same feed gets another offset.
        let mut later = p.clone();
        later.fetches += 1;
        let other = plan(&c, Some(&later), new(0), &none(), "feed-0", t(0));
        assert_ne!(wait(&other, t(0)), waits[0]);
    }

    #[test]
    fn due_table() {
        let c = cfg(30 * MIN, 24 * HOUR);
        let s = ScheduleState {
            next_due: t(40 * 60),
            ..state(30 * MIN, 0)
        };
        assert_eq!(due(&c, None, t(0)), Ok(()), "never fetched: due");
        assert_eq!(due(&c, Some(&s), t(39 * 60)), Err(t(40 * 60)));
        assert_eq!(due(&c, Some(&s), t(40 * 60)), Ok(()));
        // max_every lowered to 20 minutes... below every, so every wins: due at 30 min.
        let lowered = cfg(30 * MIN, 20 * MIN);
        assert_eq!(due(&lowered, Some(&s), t(30 * 60)), Ok(()));
        // every raised to 1 h: not before an hour after the last fetch.
        let raised = cfg(HOUR, 24 * HOUR);
        assert_eq!(due(&raised, Some(&s), t(50 * 60)), Err(t(3600)));
        // A stored due time far out (an old max_every of a week) is pulled in.
        let far = ScheduleState {
            next_due: t(7 * 86_400),
            ..s.clone()
        };
        assert_eq!(next_due(&c, Some(&far)), Some(t(86_400)));
    }

    /// Which feeds a round fetches: own `every` beats the round's default, which beats
    /// `[settings]`; feeds without any are always due; `--all` fetches everything.
    #[test]
    fn select_due_and_next_wake() {
        let text = "[settings]\nevery = \"1h\"\n\
            [[feed]]\nid = \"fresh\"\ntitle = \"T\"\nurl = \"https://a.org/1\"\n\
            [[feed]]\nid = \"never\"\ntitle = \"T\"\nurl = \"https://a.org/2\"\n\
            [[feed]]\nid = \"own\"\ntitle = \"T\"\nurl = \"https://a.org/3\"\nevery = \"10m\"\n";
        let c = crate::config::parse(
            text,
            std::path::Path::new("t.toml"),
            &crate::config::Overrides::default(),
        )
        .expect("valid");
        // Each fetched at t(0), planned 1 h out.
        let fetched = ScheduleState {
            next_due: t(3600),
            ..state(3600, 0)
        };
        let states: BTreeMap<String, ScheduleState> = ["fresh", "own"]
            .iter()
            .map(|id| (id.to_string(), fetched.clone()))
            .collect();
        let ids = |v: &[FeedSpec]| v.iter().map(|f| f.id.clone()).collect::<Vec<_>>();
        /// (case, round default every, due_only, now, fetched feeds)
        type Row<'a> = (&'a str, Option<u64>, bool, i64, &'a [&'a str]);
        let rows: &[Row<'_>] = &[
            ("half an hour later", None, true, 1800, &["never"]),
            (
                "an hour later",
                None,
                true,
                3600,
                &["fresh", "never", "own"],
            ),
            ("--all", None, false, 60, &["fresh", "never", "own"]),
            // A round default of 2 h: `fresh` must wait 2 h after its last fetch.
            (
                "serve --every 2h",
                Some(7200),
                true,
                3600,
                &["never", "own"],
            ),
        ];
        for (what, every, due_only, at, want) in rows {
            let every = every.map(Duration::from_secs);
            let (fetch, later) = select_due(
                c.feeds.clone(),
                &c.settings,
                every,
                &states,
                *due_only,
                t(*at),
            );
            let mut got = ids(&fetch);
            got.sort();
            assert_eq!(got, *want, "{what}");
            assert_eq!(fetch.len() + later.len(), 3, "{what}");
        }
        assert_eq!(
            next_wake(&c.feeds, &c.settings, None, &states, t(60)),
            Some(t(60)),
            "a feed never fetched is due now"
        );
        let no_never: Vec<FeedSpec> = c
            .feeds
            .iter()
            .filter(|f| f.id != "never")
            .cloned()
            .collect();
        assert_eq!(
            next_wake(&no_never, &c.settings, None, &states, t(60)),
            Some(t(3600))
        );
        let mut unscheduled = c.settings.clone();
        unscheduled.every = None;
        let plain: Vec<FeedSpec> = c.feeds.iter().filter(|f| f.id != "own").cloned().collect();
        assert_eq!(next_wake(&plain, &unscheduled, None, &states, t(60)), None);
    }

    #[test]
    fn durations() {
        let ok: &[(&str, u64)] = &[
            ("15m", 900),
            ("2h", 7200),
            ("1d", 86_400),
            ("90s", 90),
            ("1w", 604_800),
            ("1h30m", 5400),
            (" 1h 30m ", 5400),
            ("0s", 0),
        ];
        for (s, secs) in ok {
            assert_eq!(parse_duration(s), Ok(Duration::from_secs(*secs)), "{s}");
        }
        let bad: &[(&str, &str)] = &[
            ("", "empty"),
            ("15", "needs a unit"),
            ("15 minutes", "unknown unit \"minutes\""),
            ("m", "expected a number"),
            ("1.5h", "whole numbers only"),
            ("-5m", "expected a number"),
            ("99999999999999999999s", "too large"),
            ("9999999999999999h", "too long"),
        ];
        for (s, want) in bad {
            let e = parse_duration(s).expect_err(s);
            assert!(e.contains(want), "{s}: {e}");
        }
        for secs in [0, 1, 59, 60, 90, 3600, 5400, 86_400, 90_061, 604_800] {
            let d = Duration::from_secs(secs);
            assert_eq!(parse_duration(&format_duration(d)), Ok(d), "{secs}");
        }
        assert_eq!(format_duration(Duration::from_secs(90_061)), "1d1h1m1s");
    }

    proptest! {
        /// Whatever the state, outcome and headers: the next fetch is between `every` and
        /// `max_every` away, never sooner than the source asked (up to `max_every`), the
        /// interval stays within bounds, and failures count up by one or reset.
        #[test]
        fn bounds_always_hold(
            every in 1u64..(2 * 86_400),
            extra in 0u64..(7 * 86_400),
            interval in 0u64..(30 * 86_400),
            failures in 0u32..1000,
            fetches in 0u64..u64::MAX,
            outcome in prop_oneof![
                (0usize..100).prop_map(|n| Outcome::Fetched { new_items: n }),
                Just(Outcome::Failed),
            ],
            max_age in proptest::option::of(0u64..(400 * 86_400)),
            expires in proptest::option::of(0u64..(400 * 86_400)),
            retry_after in proptest::option::of(0u64..(400 * 86_400)),
            first in any::<bool>(),
            id in "[a-z0-9-]{1,20}",
            offset in -1_000_000i64..1_000_000,
        ) {
            let c = cfg(every, every + extra);
            let prev = ScheduleState { fetches, ..state(interval, failures) };
            let h = hints(max_age, expires, retry_after);
            let now = t(offset);
            let s = plan(&c, (!first).then_some(&prev), outcome, &h, &id, now);
            let w = (s.next_due - now).num_seconds();
            let w = u64::try_from(w).expect("next due is in the future");
            prop_assert!(w >= every && w <= every + extra, "wait {w}");
            let asked = max_age.or(expires).unwrap_or(0).max(retry_after.unwrap_or(0));
            prop_assert!(w >= asked.min(every + extra), "wait {w} < asked {asked}");
            prop_assert!(s.interval >= c.every && s.interval <= c.max_every);
            prop_assert_eq!(s.last_fetch, now);
            match outcome {
                Outcome::Failed => prop_assert_eq!(
                    s.failures,
                    if first { 1 } else { failures + 1 }
                ),
                Outcome::Fetched { .. } => {
                    prop_assert_eq!(s.failures, 0);
                    prop_assert_eq!(s.last_success, Some(now));
                }
            }
            // What `plan` says is what `due` then honours.
            prop_assert_eq!(next_due(&c, Some(&s)), Some(s.next_due));
        }
    }
}
