//! The state behind a run, whichever database holds it: [`StateStore`] is what the pipeline,
//! `serve` and the store commands ask of it; SQLite ([`SqliteState`], the embedded default,
//! one process at a time under a file lock) and PostgreSQL ([`super::postgres::PgStore`], any
//! number of runners and servers) implement it with the same schema versions and semantics.
//!
//! The methods are synchronous and take `&self`: the pipeline calls them from blocking-pool
//! threads (SQLite is blocking work) and the PostgreSQL backend runs its async client on a
//! runtime of its own, so a call blocks the calling thread for one round trip and never the
//! crawl's runtime. Each method that a feed's update needs is one round trip on PostgreSQL;
//! [`StateStore::begin_feed`], [`StateStore::feed_items`] and [`StateStore::commit`] bundle
//! what the pipeline asks at each step so that a feed costs at most three.
//!
//! Coordination: a runner leases the hosts it crawls ([`StateStore::lease_hosts`]). SQLite
//! grants every host at once (the file lock already makes the process the only runner);
//! PostgreSQL grants each host to one runner at a time, with an expiry.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use chrono::{DateTime, Utc};

use super::{FailureStreak, FeedState, FeedSummary, RobotsRecord, Store, StoreError, Validators};
use crate::fetch::robots::RobotsCache;
use crate::heal::ListingMemory;
use crate::model::{ArticleRecord, Item};
use crate::schedule::ScheduleState;

/// Where the state lives: an SQLite file, or a PostgreSQL database (`postgres://...`).
#[derive(Clone, PartialEq, Eq)]
pub enum StateLocation {
    File(PathBuf),
    /// The connection URL as given (it may hold a password: print [`StateLocation`] with
    /// `Display`, which hides it).
    Postgres(String),
}

impl StateLocation {
    /// A `postgres://` or `postgresql://` URL is a PostgreSQL state, anything else a file.
    pub fn parse(value: &str) -> StateLocation {
        if is_postgres_url(value) {
            StateLocation::Postgres(value.to_string())
        } else {
            StateLocation::File(PathBuf::from(value))
        }
    }

    /// A CLI path that may be a URL.
    pub fn from_path(value: &Path) -> StateLocation {
        match value.to_str() {
            Some(s) if is_postgres_url(s) => StateLocation::Postgres(s.to_string()),
            _ => StateLocation::File(value.to_path_buf()),
        }
    }

    /// The SQLite file, if this is one.
    pub fn file(&self) -> Option<&Path> {
        match self {
            StateLocation::File(p) => Some(p),
            StateLocation::Postgres(_) => None,
        }
    }
}

fn is_postgres_url(s: &str) -> bool {
    let lower = s.get(..13).unwrap_or(s).to_ascii_lowercase();
    lower.starts_with("postgres://") || lower.starts_with("postgresql://")
}

impl std::fmt::Display for StateLocation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StateLocation::File(p) => write!(f, "{}", p.display()),
            StateLocation::Postgres(url) => f.write_str(&redact(url)),
        }
    }
}

impl std::fmt::Debug for StateLocation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "StateLocation({self})")
    }
}

/// `url` with any password replaced by `***`, for messages.
pub fn redact(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("***"));
            u.to_string()
        }
        Ok(u) => u.to_string(),
        Err(_) => "postgres://(unparseable URL)".into(),
    }
}

/// How to open a state.
#[derive(Debug, Clone)]
pub struct OpenOptions {
    /// SQLite: wait for another process holding the file lock instead of failing.
    pub wait: bool,
    /// PostgreSQL: how long a host lease lasts without renewal (a runner renews its leases
    /// while it lives, so this is how soon another runner takes over a dead one's hosts).
    pub lease: Duration,
}

impl Default for OpenOptions {
    fn default() -> Self {
        OpenOptions {
            wait: false,
            lease: DEFAULT_LEASE,
        }
    }
}

/// Default host lease: long enough for any fetch with its retries, short enough that a dead
/// runner's hosts are crawled again within a cron interval or two.
pub const DEFAULT_LEASE: Duration = Duration::from_secs(300);

/// Opens (creating and migrating if needed) the state at `location`.
pub fn open(
    location: &StateLocation,
    opts: &OpenOptions,
) -> Result<Arc<dyn StateStore>, StoreError> {
    match location {
        StateLocation::File(path) => Ok(Arc::new(SqliteState::new(Store::open(path, opts.wait)?))),
        StateLocation::Postgres(url) => Ok(Arc::new(super::postgres::PgStore::connect(url, opts)?)),
    }
}

/// What a feed's update reads before its fetch: schedule, validators, stored state and the
/// listing it remembers (pin or heal).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FeedStart {
    pub schedule: Option<ScheduleState>,
    pub validators: Validators,
    pub state: FeedState,
    pub memory: Option<ListingMemory>,
}

/// What the merge reads: the stored items among the page's ids, the newest `top` items and
/// the number stored.
#[derive(Debug, Clone, Default)]
pub struct FeedItems {
    pub known: HashMap<String, Item>,
    pub top: Vec<Item>,
    pub total: usize,
}

/// One successful fetch of a feed, committed at once.
#[derive(Debug, Clone)]
pub struct FeedCommit<'a> {
    pub feed: &'a str,
    pub upserts: &'a [Item],
    /// Validators of each fetched URL (key, validators).
    pub validators: &'a [(String, Validators)],
    /// Items changed: the files are behind the store until [`StateStore::mark_written`].
    pub dirty: bool,
    pub now: DateTime<Utc>,
    pub schedule: Option<&'a ScheduleState>,
    /// Delete items neither among the newest `.0` nor seen within `.1` days.
    pub prune: Option<(usize, u32)>,
}

/// A host a runner would like to crawl, with the feeds it would fetch there.
#[derive(Debug, Clone)]
pub struct HostWant {
    /// Lower-case host name (or a pseudo host for `file://` feeds).
    pub host: String,
    /// (feed id, validators key) of each feed.
    pub feeds: Vec<(String, String)>,
}

/// A host granted to this runner, with what the store says of its feeds now.
#[derive(Debug, Clone)]
pub struct LeasedHost {
    pub host: String,
    /// The last holder's gate wants no request to start before this (politeness carried
    /// from runner to runner).
    pub not_before: Option<DateTime<Utc>>,
    /// Each wanted feed: its schedule now, and whether another runner already processed it
    /// during this round.
    pub feeds: Vec<LeasedFeed>,
}

/// One feed of a leased host.
#[derive(Debug, Clone)]
pub struct LeasedFeed {
    pub id: String,
    pub schedule: Option<ScheduleState>,
    pub done_this_round: bool,
}

/// The rows of a whole state, for `store migrate`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StateRows {
    pub feed_state: Vec<FeedStateRow>,
    /// Remembered listings as stored (copied without being read).
    pub listings: Vec<ListingRow>,
    pub http_cache: Vec<(String, Validators, Option<i64>)>,
    pub robots: Vec<RobotsRecord>,
    pub articles: Vec<(String, ArticleRecord)>,
    pub schedules: BTreeMap<String, ScheduleState>,
}

/// One `feed_state` row in full.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FeedStateRow {
    pub feed: String,
    pub state: FeedState,
    pub last_ok: Option<i64>,
    pub last_failure: Option<i64>,
}

/// One `feed_listing` row as stored.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListingRow {
    pub feed: String,
    pub config_key: String,
    pub kind: String,
    /// The listing as JSON.
    pub listing: String,
    pub since: i64,
    pub broken: Option<String>,
}

/// One feed as `store check` reports it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CheckedFeed {
    pub feed: String,
    pub items: i64,
    pub dirty: bool,
    pub failures: i64,
    pub last_error: Option<String>,
    pub failing_since: Option<i64>,
    /// The remembered listing's kind, JSON, since and broken selector.
    pub listing: Option<(String, String, i64, Option<String>)>,
}

/// What `store check` reports.
#[derive(Debug, Clone, Default)]
pub struct StateCheck {
    pub version: i64,
    /// Size on disk (PostgreSQL: the database's).
    pub bytes: u64,
    /// Integrity findings; empty when healthy.
    pub problems: Vec<String>,
    /// By feed id.
    pub feeds: Vec<CheckedFeed>,
}

/// The state of scifeed: item history, validators, robots.txt cache, article cache,
/// schedule, feed state, and (when shared) host leases. See the module docs.
pub trait StateStore: Send + Sync {
    /// The file or URL (password hidden), for messages.
    fn describe(&self) -> String;
    /// Whether other processes may work on this state at the same time (leases matter).
    fn shared(&self) -> bool {
        false
    }
    /// Statements sent to the database server so far (`None` for SQLite).
    fn round_trips(&self) -> Option<u64> {
        None
    }

    /// Stored items of `feed` among `ids`.
    fn items_by_ids(&self, feed: &str, ids: &[String])
    -> Result<HashMap<String, Item>, StoreError>;
    /// The newest `n` items of `feed`, in output order.
    fn top_items(&self, feed: &str, n: usize) -> Result<Vec<Item>, StoreError>;
    /// Number of items stored for `feed`.
    fn count_items(&self, feed: &str) -> Result<usize, StoreError>;
    /// Known items among `ids`, the newest `top` and the count, together.
    fn feed_items(&self, feed: &str, ids: &[String], top: usize) -> Result<FeedItems, StoreError> {
        let known = if ids.is_empty() {
            HashMap::new()
        } else {
            self.items_by_ids(feed, ids)?
        };
        Ok(FeedItems {
            known,
            top: if top == 0 {
                Vec::new()
            } else {
                self.top_items(feed, top)?
            },
            total: self.count_items(feed)?,
        })
    }

    /// Validators remembered under `key`.
    fn validators(&self, key: &str) -> Result<Validators, StoreError>;
    /// Stored state of `feed`.
    fn feed_state(&self, feed: &str) -> Result<FeedState, StoreError>;
    /// The stored schedule of `feed` (`None` before its first scheduled fetch).
    fn schedule(&self, feed: &str) -> Result<Option<ScheduleState>, StoreError>;
    /// Every stored schedule by feed id.
    fn schedule_states(&self) -> Result<BTreeMap<String, ScheduleState>, StoreError>;
    /// The stored state of every feed that has one.
    fn feed_states(&self) -> Result<HashMap<String, FeedState>, StoreError>;

    /// What `serve` shows of each feed ([`FeedSummary`]): of every feed the store knows
    /// (`None`), or of the feeds `only` names (all defaults for one it knows nothing of).
    fn feed_summaries(
        &self,
        only: Option<&[String]>,
    ) -> Result<HashMap<String, FeedSummary>, StoreError>;

    /// Feeds whose fetch succeeded or failed at or after `since` (whichever process
    /// fetched them: `serve` follows rounds in progress, its own or other runners').
    fn feeds_fetched_since(&self, since: DateTime<Utc>) -> Result<Vec<String>, StoreError>;
    /// Schedule, validators (under `key`), state and remembered listing of `feed`, before
    /// its fetch.
    fn begin_feed(&self, feed: &str, key: &str) -> Result<FeedStart, StoreError> {
        Ok(FeedStart {
            schedule: self.schedule(feed)?,
            validators: self.validators(key)?,
            state: self.feed_state(feed)?,
            memory: self.listing_memory(feed)?,
        })
    }
    /// Ids of every item stored for `feed` (what self-healing recognises a listing by).
    fn item_ids(&self, feed: &str) -> Result<HashSet<String>, StoreError>;
    /// The listing `feed` remembers (pinned or healed), if any.
    fn listing_memory(&self, feed: &str) -> Result<Option<ListingMemory>, StoreError>;
    /// Remembers (replaces) the listing of `feed`.
    fn remember_listing(&self, feed: &str, m: &ListingMemory) -> Result<(), StoreError>;
    /// Forgets the listing of `feed`.
    fn forget_listing(&self, feed: &str) -> Result<(), StoreError>;

    /// Commits one fetch (items, validators, dirty flag, schedule, prune) in one transaction;
    /// returns the feed's item count after it.
    fn commit(&self, c: &FeedCommit<'_>) -> Result<usize, StoreError>;
    /// Records that `feed`'s files reflect the store, rendered with `render_key`.
    fn mark_written(&self, feed: &str, render_key: &str) -> Result<(), StoreError>;
    /// Records a failed fetch of `feed` (items and files stay as they were), with its
    /// schedule; returns the failure streak it is part of.
    fn record_failure(
        &self,
        feed: &str,
        error: &str,
        now: DateTime<Utc>,
        schedule: Option<&ScheduleState>,
    ) -> Result<FailureStreak, StoreError>;
    /// Records a 304 (the schedule, if any); returns the item count.
    fn record_not_modified(
        &self,
        feed: &str,
        now: DateTime<Utc>,
        schedule: Option<&ScheduleState>,
    ) -> Result<usize, StoreError>;
    /// Stores `feed`'s schedule on its own.
    fn save_schedule(&self, feed: &str, schedule: &ScheduleState) -> Result<(), StoreError>;

    /// The cached enrichment record of an article page.
    fn article(&self, url: &str) -> Result<Option<ArticleRecord>, StoreError>;
    /// Caches what an article page gave.
    fn save_article(&self, url: &str, rec: &ArticleRecord) -> Result<(), StoreError>;
    /// The cached robots.txt of `origin`, fresh or stale.
    fn robots(&self, origin: &str) -> Result<Option<RobotsRecord>, StoreError>;
    /// Stores (replaces) a robots.txt answer.
    fn save_robots(&self, record: &RobotsRecord) -> Result<(), StoreError>;

    /// Grants this runner up to `max` of the `wants` hosts (in their order), with the
    /// current schedule of their feeds (a feed left out is taken as still due). Hosts held
    /// by another runner are skipped.
    fn lease_hosts(&self, wants: &[HostWant], max: usize) -> Result<Vec<LeasedHost>, StoreError> {
        wants
            .iter()
            .take(max)
            .map(|w| {
                let feeds = w
                    .feeds
                    .iter()
                    .map(|(id, _)| {
                        Ok(LeasedFeed {
                            id: id.clone(),
                            schedule: self.schedule(id)?,
                            done_this_round: false,
                        })
                    })
                    .collect::<Result<_, StoreError>>()?;
                Ok(LeasedHost {
                    host: w.host.clone(),
                    not_before: None,
                    feeds,
                })
            })
            .collect()
    }
    /// Gives a host back; the next holder starts no request before `not_before`.
    fn release_host(&self, _host: &str, _not_before: Option<DateTime<Utc>>) {}
    /// Starts a round: leases granted from now on count feeds processed from now on as done
    /// for this round.
    fn begin_round(&self) -> Result<(), StoreError> {
        Ok(())
    }
    /// Ends a round: flushes deferred bookkeeping and gives back every lease.
    fn end_round(&self) -> Result<(), StoreError> {
        Ok(())
    }

    /// Schema version, integrity findings and per-feed counts.
    fn check(&self) -> Result<StateCheck, StoreError>;
    /// Every row except items (for `store migrate`).
    fn export_rows(&self) -> Result<StateRows, StoreError>;
    /// Feeds that have items.
    fn item_feeds(&self) -> Result<Vec<String>, StoreError>;
    /// Whether the state holds nothing yet (a migration target must be empty).
    fn is_empty(&self) -> Result<bool, StoreError>;
    /// Writes rows exported from another state (into an empty one).
    fn import_rows(&self, rows: &StateRows) -> Result<(), StoreError>;
    /// Writes items of `feed` exactly as given (first-seen and frozen dates included).
    fn import_items(&self, feed: &str, items: &[Item]) -> Result<(), StoreError>;
}

/// The robots.txt cache of the fetcher is the state. A failing cache only costs a refetch,
/// so errors are logged, not raised.
pub struct StateRobots(pub Arc<dyn StateStore>);

impl RobotsCache for StateRobots {
    fn load(&self, origin: &str) -> Option<RobotsRecord> {
        self.0
            .robots(origin)
            .inspect_err(|e| tracing::warn!("robots.txt cache: {e}"))
            .ok()
            .flatten()
    }

    fn save(&self, record: &RobotsRecord) {
        if let Err(e) = self.0.save_robots(record) {
            tracing::warn!("robots.txt cache: {e}");
        }
    }
}

/// The SQLite store behind [`StateStore`]: one connection under a mutex (SQLite serialises
/// writers anyway; the process holds the file lock).
pub struct SqliteState {
    store: Mutex<Store>,
    path: String,
}

impl SqliteState {
    /// Wraps an open store.
    pub fn new(store: Store) -> SqliteState {
        let path = format!("{store:?}");
        let path = path
            .strip_prefix("Store(")
            .and_then(|p| p.strip_suffix(')'))
            .unwrap_or(&path)
            .to_string();
        SqliteState {
            store: Mutex::new(store),
            path,
        }
    }

    /// The store, locked for this call.
    pub fn lock(&self) -> MutexGuard<'_, Store> {
        // A panic while holding the lock cannot leave SQLite inconsistent (transactions roll
        // back), so a poisoned lock is still usable.
        self.store
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl StateStore for SqliteState {
    fn describe(&self) -> String {
        self.path.clone()
    }

    fn items_by_ids(
        &self,
        feed: &str,
        ids: &[String],
    ) -> Result<HashMap<String, Item>, StoreError> {
        self.lock().items_by_ids(feed, ids)
    }

    fn top_items(&self, feed: &str, n: usize) -> Result<Vec<Item>, StoreError> {
        self.lock().top_items(feed, n)
    }

    fn count_items(&self, feed: &str) -> Result<usize, StoreError> {
        self.lock().count_items(feed)
    }

    fn validators(&self, key: &str) -> Result<Validators, StoreError> {
        self.lock().validators(key)
    }

    fn feed_state(&self, feed: &str) -> Result<FeedState, StoreError> {
        self.lock().feed_state(feed)
    }

    fn schedule(&self, feed: &str) -> Result<Option<ScheduleState>, StoreError> {
        self.lock().schedule(feed)
    }

    fn schedule_states(&self) -> Result<BTreeMap<String, ScheduleState>, StoreError> {
        self.lock().schedule_states()
    }

    fn feed_states(&self) -> Result<HashMap<String, FeedState>, StoreError> {
        self.lock().feed_states()
    }

    fn feed_summaries(
        &self,
        only: Option<&[String]>,
    ) -> Result<HashMap<String, FeedSummary>, StoreError> {
        let store = self.lock();
        match only {
            None => store.feed_summaries(),
            Some(ids) => ids
                .iter()
                .map(|id| Ok((id.clone(), store.feed_summary(id)?)))
                .collect(),
        }
    }

    fn feeds_fetched_since(&self, since: DateTime<Utc>) -> Result<Vec<String>, StoreError> {
        self.lock().feeds_fetched_since(since)
    }

    fn commit(&self, c: &FeedCommit<'_>) -> Result<usize, StoreError> {
        let mut store = self.lock();
        store.commit_feed_scheduled(c.feed, c.upserts, c.validators, c.dirty, c.now, c.schedule)?;
        if let Some((keep, days)) = c.prune {
            store.prune(c.feed, keep, days, c.now)?;
        }
        store.count_items(c.feed)
    }

    fn mark_written(&self, feed: &str, render_key: &str) -> Result<(), StoreError> {
        self.lock().mark_written(feed, render_key)
    }

    fn record_failure(
        &self,
        feed: &str,
        error: &str,
        now: DateTime<Utc>,
        schedule: Option<&ScheduleState>,
    ) -> Result<FailureStreak, StoreError> {
        self.lock()
            .record_failure_scheduled(feed, error, now, schedule)
    }

    fn item_ids(&self, feed: &str) -> Result<HashSet<String>, StoreError> {
        self.lock().item_ids(feed)
    }

    fn listing_memory(&self, feed: &str) -> Result<Option<ListingMemory>, StoreError> {
        self.lock().listing_memory(feed)
    }

    fn remember_listing(&self, feed: &str, m: &ListingMemory) -> Result<(), StoreError> {
        self.lock().remember_listing(feed, m)
    }

    fn forget_listing(&self, feed: &str) -> Result<(), StoreError> {
        self.lock().forget_listing(feed)
    }

    fn record_not_modified(
        &self,
        feed: &str,
        _now: DateTime<Utc>,
        schedule: Option<&ScheduleState>,
    ) -> Result<usize, StoreError> {
        let store = self.lock();
        if let Some(s) = schedule {
            store.save_schedule(feed, s)?;
        }
        store.count_items(feed)
    }

    fn save_schedule(&self, feed: &str, schedule: &ScheduleState) -> Result<(), StoreError> {
        self.lock().save_schedule(feed, schedule)
    }

    fn article(&self, url: &str) -> Result<Option<ArticleRecord>, StoreError> {
        self.lock().article(url)
    }

    fn save_article(&self, url: &str, rec: &ArticleRecord) -> Result<(), StoreError> {
        self.lock().save_article(url, rec)
    }

    fn robots(&self, origin: &str) -> Result<Option<RobotsRecord>, StoreError> {
        self.lock().robots(origin)
    }

    fn save_robots(&self, record: &RobotsRecord) -> Result<(), StoreError> {
        self.lock().save_robots(record)
    }

    fn check(&self) -> Result<StateCheck, StoreError> {
        self.lock().state_check()
    }

    fn export_rows(&self) -> Result<StateRows, StoreError> {
        self.lock().export_rows()
    }

    fn item_feeds(&self) -> Result<Vec<String>, StoreError> {
        self.lock().item_feeds()
    }

    fn is_empty(&self) -> Result<bool, StoreError> {
        self.lock().is_empty()
    }

    fn import_rows(&self, rows: &StateRows) -> Result<(), StoreError> {
        self.lock().import_rows(rows)
    }

    fn import_items(&self, feed: &str, items: &[Item]) -> Result<(), StoreError> {
        self.lock().import_items(feed, items)
    }

    /// Every host at once, and no second look at the feeds: the file lock makes this
    /// process the only runner, so nothing changed since the round chose them.
    fn lease_hosts(&self, wants: &[HostWant], max: usize) -> Result<Vec<LeasedHost>, StoreError> {
        Ok(wants
            .iter()
            .take(max)
            .map(|w| LeasedHost {
                host: w.host.clone(),
                not_before: None,
                feeds: Vec::new(),
            })
            .collect())
    }
}
