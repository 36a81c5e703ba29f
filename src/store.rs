//! The SQLite store: item history, HTTP validators, robots.txt cache, per-feed state
//! (failure streaks) and the listings feeds remember (pins and heals, see [`crate::heal`]).
//!
//! One exclusive lock file per store keeps two runs apart; the OS drops it when a process
//! dies, so a crash never leaves a stale lock. Each feed's changes are committed in one
//! transaction.

use std::collections::{HashMap, HashSet};
use std::fs::{File, OpenOptions};
use std::path::{Path, PathBuf};

use chrono::{DateTime, TimeZone, Utc};
use rusqlite::{Connection, OptionalExtension, params};

use crate::heal::{ListingMemory, MemoryKind, RememberedListing};
use crate::model::{ArticleRecord, DateSource, Item};
use crate::schedule::ScheduleState;

pub mod backend;
pub mod copy;
mod pg_tls;
pub mod postgres;
mod sqlite_rows;
#[cfg(test)]
mod state_tests;

pub use backend::{StateLocation, StateStore};

/// `PRAGMA application_id` of scifeed stores ("SCFD"): tells our file from a foreign one.
const APPLICATION_ID: i64 = 0x5343_4644;
/// Current schema version (`PRAGMA user_version`).
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// Why the store cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error(
        "another scifeed run is using the state {} (lock {}); wait for it to finish or pass --wait",
        path.display(),
        lock.display()
    )]
    Busy { path: PathBuf, lock: PathBuf },
    #[error(
        "state file {} is not a usable scifeed store: {cause}\n    hint: `scifeed store check` shows what is wrong, `scifeed store repair` salvages what it can; or move the file away to start a fresh history",
        path.display()
    )]
    Corrupt { path: PathBuf, cause: String },
    #[error(
        "state file {} belongs to another program (SQLite application_id {found:#x}); refusing to touch it\n    hint: point `state` (or --state) at a new file",
        path.display()
    )]
    Foreign { path: PathBuf, found: i64 },
    #[error(
        "state file {} has schema version {found}, newer than this scifeed understands ({SCHEMA_VERSION})\n    hint: upgrade scifeed",
        path.display()
    )]
    TooNew { path: PathBuf, found: i64 },
    #[error("cannot create the state directory or lock file {}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("state {}: {source}", path.display())]
    Sqlite {
        path: PathBuf,
        source: rusqlite::Error,
    },
    /// The PostgreSQL server cannot be reached or refused us (at start: exit 2).
    #[error(
        "cannot connect to the PostgreSQL state {target}: {cause}\n    hint: check that the server runs and the URL (host, port, user, database, password, sslmode) is right"
    )]
    Unreachable { target: String, cause: String },
    /// A statement failed or the connection broke.
    #[error("PostgreSQL state {target}: {cause}")]
    Postgres { target: String, cause: String },
    /// The PostgreSQL database holds tables of another program.
    #[error(
        "PostgreSQL state {target} holds an `items` table but no scifeed version table; refusing to touch it\n    hint: point `state` at an empty database of its own"
    )]
    PgForeign { target: String },
    /// The PostgreSQL database was migrated by a newer scifeed.
    #[error(
        "PostgreSQL state {target} has schema version {found}, newer than this scifeed understands ({SCHEMA_VERSION})\n    hint: upgrade scifeed"
    )]
    PgTooNew { target: String, found: i64 },
    /// Another runner took over the host of this feed (this runner's lease expired): nothing
    /// of this fetch was committed.
    #[error(
        "lease on host {host} lost to another runner (it expired); nothing of this fetch was stored"
    )]
    LeaseLost { host: String },
}

/// The fetcher's validators, kept per feed between runs.
pub use crate::fetch::Validators;

/// A cached robots.txt answer for one origin (`scheme://host:port`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RobotsRecord {
    pub origin: String,
    /// HTTP status of the robots.txt response.
    pub status: u16,
    /// The body (only kept for 2xx answers).
    pub body: Vec<u8>,
    pub fetched: DateTime<Utc>,
    /// After this the record is stale; it is still used when robots.txt is unreachable.
    pub expires: DateTime<Utc>,
}

/// What the store remembers about a feed between runs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FeedState {
    /// Fingerprint of the feed's render inputs (title, formats, ...) when files were last written.
    pub render_key: Option<String>,
    /// Items changed in the store but files not (yet) written: a crash in between.
    pub dirty: bool,
    /// Consecutive failed runs (0 after a success).
    pub failures: u32,
    pub last_error: Option<String>,
    /// When the current failure streak began (`None` without one, or for a streak that
    /// began before the store recorded it).
    pub failing_since: Option<DateTime<Utc>>,
}

/// A feed's current failure streak, as [`Store::record_failure`] leaves it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FailureStreak {
    /// Consecutive failed runs, this one included.
    pub failures: u32,
    /// When the streak began (`None` for one older than the store's record of it).
    pub since: Option<DateTime<Utc>>,
}

/// A store shared by the tasks of a run.
pub type SharedStore = std::sync::Arc<std::sync::Mutex<Store>>;

/// Locks a shared store. A panic while holding the lock cannot leave SQLite inconsistent
/// (transactions roll back), so a poisoned lock is still usable.
pub fn locked(store: &std::sync::Mutex<Store>) -> std::sync::MutexGuard<'_, Store> {
    store
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// What `serve` shows about one feed: the health of its fetches and the shape of its history.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FeedSummary {
    /// Items stored.
    pub items: usize,
    /// When the items last changed: an item was first seen, or its content was updated.
    pub last_change: Option<DateTime<Utc>>,
    /// Newest `first_seen`, `updated` and `last_seen` of the items plus the dirty flag:
    /// changes whenever a commit touched the feed's items.
    pub fingerprint: u64,
    pub last_ok: Option<DateTime<Utc>>,
    pub last_failure: Option<DateTime<Utc>>,
    /// Consecutive failures (0 after a success).
    pub failures: u32,
    /// Start of the current failure streak (`None` when not failing, or for a streak that
    /// began before the store recorded it).
    pub failing_since: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
}

/// An open store: locked for writing, or a lock-free read-only view ([`Store::open_read_only`]).
pub struct Store {
    conn: Connection,
    path: PathBuf,
    /// The run lock; `None` for a read-only look ([`Store::open_read_only`]).
    _lock: Option<File>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Store({})", self.path.display())
    }
}

fn lock_path(path: &Path) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(".lock");
    PathBuf::from(s)
}

impl Store {
    /// Opens (creating if needed) and locks the store; `wait` blocks until another run ends.
    pub fn open(path: &Path, wait: bool) -> Result<Store, StoreError> {
        let file = lock(path, wait)?;
        let conn = Self::connect(path)?;
        Ok(Store {
            conn,
            path: path.to_path_buf(),
            _lock: Some(file),
        })
    }

    /// Opens an existing store to read it, without the run lock (a run may hold it; SQLite's
    /// WAL lets readers look at the last commit) and without migrating it: `preview` reads
    /// what feeds remember this way. `Ok(None)` when there is no state file yet.
    pub fn open_read_only(path: &Path) -> Result<Option<Store>, StoreError> {
        if !path.exists() {
            return Ok(None);
        }
        let conn = Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .map_err(|e| sqlite_error(path, e))?;
        check_identity(&conn, path)?;
        Ok(Some(Store {
            conn,
            path: path.to_path_buf(),
            _lock: None,
        }))
    }

    fn connect(path: &Path) -> Result<Connection, StoreError> {
        let corrupt = |e: rusqlite::Error| StoreError::Corrupt {
            path: path.to_path_buf(),
            cause: e.to_string(),
        };
        let conn = Connection::open(path).map_err(corrupt)?;
        check_identity(&conn, path)?;
        // FULL: a commit is on disk before the files written after it. With NORMAL, a power
        // cut could roll back a commit whose files survived, and the next run would re-date
        // the items those files already show.
        conn.execute_batch(
            "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA busy_timeout = 5000;",
        )
        .map_err(corrupt)?;
        migrate(&conn, MIGRATIONS).map_err(corrupt)?;
        // Every statement of a run stays prepared (the default cache holds 16).
        conn.set_prepared_statement_cache_capacity(32);
        // Plans must not depend on bound values. Without this guarantee, SQLite (built with
        // STAT4) marks `feed = ?1` and `LIMIT ?` as plan inputs and re-prepares the statement
        // on every new binding, so the statement cache saved nothing for `top_items`.
        conn.set_db_config(
            rusqlite::config::DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG,
            true,
        )
        .map_err(corrupt)?;
        Ok(conn)
    }

    /// `query_row` through the statement cache: a run asks the same few questions of every
    /// feed, and preparing a statement costs more than running it.
    fn row<T, P: rusqlite::Params>(
        &self,
        sql: &str,
        params: P,
        f: impl FnOnce(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
    ) -> rusqlite::Result<T> {
        self.conn.prepare_cached(sql)?.query_row(params, f)
    }

    /// `execute` through the statement cache.
    fn exec<P: rusqlite::Params>(&self, sql: &str, params: P) -> rusqlite::Result<usize> {
        self.conn.prepare_cached(sql)?.execute(params)
    }

    fn err(&self, source: rusqlite::Error) -> StoreError {
        sqlite_error(&self.path, source)
    }
}

/// Takes the lock that keeps two runs (or a run and `store repair`) off one state file. The
/// OS releases it when the process ends, however it ends, so a crash leaves no stale lock.
pub fn lock(path: &Path, wait: bool) -> Result<File, StoreError> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|source| StoreError::Io {
            path: dir.to_path_buf(),
            source,
        })?;
    }
    let lock = lock_path(path);
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock)
        .map_err(|source| StoreError::Io {
            path: lock.clone(),
            source,
        })?;
    if file.try_lock().is_ok() {
        return Ok(file);
    }
    if !wait {
        return Err(StoreError::Busy {
            path: path.to_path_buf(),
            lock,
        });
    }
    tracing::warn!(
        "another scifeed run is using {}; waiting for it to finish",
        path.display()
    );
    file.lock()
        .map_err(|source| StoreError::Io { path: lock, source })?;
    Ok(file)
}

/// Refuses files that are not scifeed stores, or are from a newer scifeed.
pub(crate) fn check_identity(conn: &Connection, path: &Path) -> Result<i64, StoreError> {
    let corrupt = |e: rusqlite::Error| StoreError::Corrupt {
        path: path.to_path_buf(),
        cause: e.to_string(),
    };
    let app: i64 = conn
        .query_row("PRAGMA application_id", [], |r| r.get(0))
        .map_err(corrupt)?;
    let version: i64 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .map_err(corrupt)?;
    let tables: i64 = conn
        .query_row("SELECT count(*) FROM sqlite_master", [], |r| r.get(0))
        .map_err(corrupt)?;
    if app != APPLICATION_ID && (app != 0 || tables > 0) {
        return Err(StoreError::Foreign {
            path: path.to_path_buf(),
            found: app,
        });
    }
    if version > SCHEMA_VERSION {
        return Err(StoreError::TooNew {
            path: path.to_path_buf(),
            found: version,
        });
    }
    Ok(version)
}

/// SQLite's "malformed" and "not a database" become [`StoreError::Corrupt`] with its
/// recovery hint; anything else stays a plain SQLite error.
pub(crate) fn sqlite_error(path: &Path, source: rusqlite::Error) -> StoreError {
    use rusqlite::ErrorCode;
    match source.sqlite_error_code() {
        Some(ErrorCode::DatabaseCorrupt | ErrorCode::NotADatabase) => StoreError::Corrupt {
            path: path.to_path_buf(),
            cause: source.to_string(),
        },
        _ => StoreError::Sqlite {
            path: path.to_path_buf(),
            source,
        },
    }
}

impl Store {
    /// Stored items of `feed` among `ids`, in one query (a JSON array of ids expanded by
    /// `json_each`), so a page of 100 cards costs one round trip, not 100.
    pub fn items_by_ids(
        &self,
        feed: &str,
        ids: &[String],
    ) -> Result<HashMap<String, Item>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached(&format!(
                "SELECT {ITEM_COLUMNS} FROM items WHERE feed = ?1 AND id IN (SELECT value FROM json_each(?2))"
            ))
            .map_err(|e| self.err(e))?;
        let ids_json = serde_json::to_string(ids).map_err(|e| StoreError::Corrupt {
            path: self.path.clone(),
            cause: format!("cannot encode ids: {e}"),
        })?;
        let rows = stmt
            .query_map(params![feed, ids_json], row_to_item)
            .map_err(|e| self.err(e))?;
        let mut out = HashMap::with_capacity(ids.len());
        for item in rows {
            let item = item.map_err(|e| self.err(e))?;
            out.insert(item.id.clone(), item);
        }
        Ok(out)
    }

    /// The newest `n` items of `feed`, in output order.
    pub fn top_items(&self, feed: &str, n: usize) -> Result<Vec<Item>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached(&format!(
                "SELECT {ITEM_COLUMNS} FROM items WHERE feed = ?1 ORDER BY published DESC, first_seen DESC, position ASC, id ASC LIMIT ?2"
            ))
            .map_err(|e| self.err(e))?;
        let n = i64::try_from(n).unwrap_or(i64::MAX);
        let rows = stmt
            .query_map(params![feed, n], row_to_item)
            .map_err(|e| self.err(e))?;
        rows.collect::<Result<Vec<_>, _>>().map_err(|e| self.err(e))
    }

    /// Number of items stored for `feed`.
    pub fn count_items(&self, feed: &str) -> Result<usize, StoreError> {
        let n: i64 = self
            .row("SELECT count(*) FROM items WHERE feed = ?1", [feed], |r| {
                r.get(0)
            })
            .map_err(|e| self.err(e))?;
        Ok(usize::try_from(n).unwrap_or(0))
    }

    /// Validators remembered under `url` (the pipeline's key is "feed-id URL").
    pub fn validators(&self, url: &str) -> Result<Validators, StoreError> {
        self.row(
            "SELECT etag, last_modified, body_hash FROM http_cache WHERE url = ?1",
            [url],
            |r| {
                Ok(Validators {
                    etag: r.get(0)?,
                    last_modified: r.get(1)?,
                    body_hash: r.get(2)?,
                })
            },
        )
        .optional()
        .map(Option::unwrap_or_default)
        .map_err(|e| self.err(e))
    }

    /// Stored state of `feed`.
    pub fn feed_state(&self, feed: &str) -> Result<FeedState, StoreError> {
        self.row(
            "SELECT render_key, dirty, failures, last_error, failing_since FROM feed_state WHERE feed = ?1",
            [feed],
            |r| {
                Ok(FeedState {
                    render_key: r.get(0)?,
                    dirty: r.get::<_, i64>(1)? != 0,
                    failures: r.get(2)?,
                    last_error: r.get(3)?,
                    failing_since: r.get::<_, Option<i64>>(4)?.map(ts),
                })
            },
        )
        .optional()
        .map(Option::unwrap_or_default)
        .map_err(|e| self.err(e))
    }

    /// [`FeedSummary`] of every feed with items or feed state, in two queries.
    pub fn feed_summaries(&self) -> Result<HashMap<String, FeedSummary>, StoreError> {
        self.summaries(None)
    }

    /// [`FeedSummary`] of one feed (all defaults when the store knows nothing of it).
    pub fn feed_summary(&self, feed: &str) -> Result<FeedSummary, StoreError> {
        Ok(self.summaries(Some(feed))?.remove(feed).unwrap_or_default())
    }

    /// Feeds whose fetch succeeded or failed at or after `since` (a round in progress
    /// commits each feed as it finishes).
    pub fn feeds_fetched_since(&self, since: DateTime<Utc>) -> Result<Vec<String>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT feed FROM feed_state WHERE last_ok >= ?1 OR last_failure >= ?1")
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([since.timestamp()], |r| r.get(0))
            .map_err(|e| self.err(e))?;
        rows.collect::<Result<Vec<String>, _>>()
            .map_err(|e| self.err(e))
    }

    fn summaries(&self, only: Option<&str>) -> Result<HashMap<String, FeedSummary>, StoreError> {
        let mut out: HashMap<String, FeedSummary> = HashMap::new();
        let filter = if only.is_some() {
            "WHERE feed = ?1"
        } else {
            ""
        };
        // An update sets `updated` after `published`; before that `updated` is the page's
        // date, which says nothing about when the feed changed.
        let sql = format!(
            "SELECT feed, count(*),
                    max(max(first_seen, CASE WHEN updated > published THEN updated ELSE first_seen END)),
                    max(first_seen), max(updated), max(last_seen)
             FROM items {filter} GROUP BY feed"
        );
        let mut stmt = self.conn.prepare_cached(&sql).map_err(|e| self.err(e))?;
        let params: Vec<&str> = only.into_iter().collect();
        let rows = stmt
            .query_map(rusqlite::params_from_iter(&params), |r| {
                let feed: String = r.get(0)?;
                let n: i64 = r.get(1)?;
                let change: i64 = r.get(2)?;
                let marks: [i64; 3] = [r.get(3)?, r.get(4)?, r.get(5)?];
                Ok((feed, n, change, marks))
            })
            .map_err(|e| self.err(e))?;
        for row in rows {
            let (feed, n, change, marks) = row.map_err(|e| self.err(e))?;
            let s = out.entry(feed).or_default();
            s.items = usize::try_from(n).unwrap_or(0);
            s.last_change = Some(ts(change));
            s.fingerprint = fingerprint(&[n, marks[0], marks[1], marks[2]]);
        }
        let sql = format!(
            "SELECT feed, dirty, failures, last_error, last_ok, last_failure, failing_since FROM feed_state {filter}"
        );
        let mut stmt = self.conn.prepare_cached(&sql).map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map(rusqlite::params_from_iter(&params), |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, i64>(1)?,
                    r.get::<_, u32>(2)?,
                    r.get::<_, Option<String>>(3)?,
                    r.get::<_, Option<i64>>(4)?,
                    r.get::<_, Option<i64>>(5)?,
                    r.get::<_, Option<i64>>(6)?,
                ))
            })
            .map_err(|e| self.err(e))?;
        for row in rows {
            let (feed, dirty, failures, last_error, last_ok, last_failure, failing_since) =
                row.map_err(|e| self.err(e))?;
            let s = out.entry(feed).or_default();
            s.fingerprint = fingerprint(&[i64::from_le_bytes(s.fingerprint.to_le_bytes()), dirty]);
            s.failures = failures;
            s.last_error = last_error;
            s.last_ok = last_ok.map(ts);
            s.last_failure = last_failure.map(ts);
            s.failing_since = failing_since.map(ts);
        }
        Ok(out)
    }

    /// Commits one successful fetch of `feed`: items, validators of each fetched URL, and
    /// the dirty flag (set when items changed, cleared by [`Store::mark_written`]).
    pub fn commit_feed(
        &mut self,
        feed: &str,
        upserts: &[Item],
        validators: &[(String, Validators)],
        dirty: bool,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.commit_feed_scheduled(feed, upserts, validators, dirty, now, None)
    }

    /// [`Store::commit_feed`], and the feed's new schedule in the same transaction.
    pub fn commit_feed_scheduled(
        &mut self,
        feed: &str,
        upserts: &[Item],
        validators: &[(String, Validators)],
        dirty: bool,
        now: DateTime<Utc>,
        schedule: Option<&ScheduleState>,
    ) -> Result<(), StoreError> {
        let path = self.path.clone();
        let err = |source| sqlite_error(&path, source);
        let tx = self.conn.transaction().map_err(err)?;
        {
            let mut up = tx
                .prepare_cached(
                    "INSERT INTO items (feed, id, link, title, author, read_time, teaser, image, categories,
                                        published, date_source, updated, first_seen, last_seen, position,
                                        read_time_estimated)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)
                     ON CONFLICT (feed, id) DO UPDATE SET
                        link = excluded.link, title = excluded.title, author = excluded.author,
                        read_time = excluded.read_time, teaser = excluded.teaser, image = excluded.image,
                        categories = excluded.categories, updated = excluded.updated,
                        last_seen = excluded.last_seen, read_time_estimated = excluded.read_time_estimated",
                )
                .map_err(err)?;
            for i in upserts {
                up.execute(params![
                    feed,
                    i.id,
                    i.link,
                    i.title,
                    encode_authors(&i.authors),
                    i.read_time,
                    i.teaser,
                    i.image,
                    encode_categories(&i.categories),
                    i.published.timestamp(),
                    i.date_source.as_str(),
                    i.updated.timestamp(),
                    i.first_seen.timestamp(),
                    i.last_seen.timestamp(),
                    i.position,
                    i64::from(i.read_time_estimated),
                ])
                .map_err(err)?;
            }
            let mut val = tx
                .prepare_cached(
                    "INSERT INTO http_cache (url, etag, last_modified, body_hash, fetched) VALUES (?1, ?2, ?3, ?4, ?5)
                     ON CONFLICT (url) DO UPDATE SET etag = excluded.etag, last_modified = excluded.last_modified,
                        body_hash = excluded.body_hash, fetched = excluded.fetched",
                )
                .map_err(err)?;
            for (url, v) in validators {
                val.execute(params![
                    url,
                    v.etag,
                    v.last_modified,
                    v.body_hash,
                    now.timestamp()
                ])
                .map_err(err)?;
            }
            tx.prepare_cached(
                "INSERT INTO feed_state (feed, dirty, failures, last_ok) VALUES (?1, ?2, 0, ?3)
                 ON CONFLICT (feed) DO UPDATE SET dirty = max(dirty, excluded.dirty), failures = 0,
                    last_error = NULL, last_ok = excluded.last_ok, failing_since = NULL",
            )
            .and_then(|mut st| st.execute(params![feed, i64::from(dirty), now.timestamp()]))
            .map_err(err)?;
            if let Some(sch) = schedule {
                put_schedule(&tx, feed, sch).map_err(err)?;
            }
        }
        tx.commit().map_err(err)
    }

    /// Records that `feed`'s files now reflect the store, rendered with `render_key`.
    pub fn mark_written(&self, feed: &str, render_key: &str) -> Result<(), StoreError> {
        self.exec(
            "INSERT INTO feed_state (feed, render_key, dirty, failures) VALUES (?1, ?2, 0, 0)
                 ON CONFLICT (feed) DO UPDATE SET render_key = excluded.render_key, dirty = 0",
            params![feed, render_key],
        )
        .map(drop)
        .map_err(|e| self.err(e))
    }

    /// Records a failed run of `feed` (its items and files stay as they were); returns the
    /// failure streak it is part of. A streak begins at the first failure after a success.
    pub fn record_failure(
        &mut self,
        feed: &str,
        error: &str,
        now: DateTime<Utc>,
    ) -> Result<FailureStreak, StoreError> {
        self.record_failure_scheduled(feed, error, now, None)
    }

    /// Ids of every item stored for `feed` (what self-healing recognises a listing by).
    pub fn item_ids(&self, feed: &str) -> Result<HashSet<String>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT id FROM items WHERE feed = ?1")
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([feed], |r| r.get::<_, String>(0))
            .map_err(|e| self.err(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.err(e))
    }

    /// The listing `feed` remembers (pinned or healed), if any. A row this scifeed cannot
    /// read is treated as none (the feed then pins or heals again).
    pub fn listing_memory(&self, feed: &str) -> Result<Option<ListingMemory>, StoreError> {
        let row = self
            .row(
                "SELECT config_key, kind, listing, since, broken FROM feed_listing WHERE feed = ?1",
                [feed],
                |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, String>(2)?,
                        r.get::<_, i64>(3)?,
                        r.get::<_, Option<String>>(4)?,
                    ))
                },
            )
            .optional()
            .map_err(|e| self.err(e))?;
        Ok(row.and_then(|(config_key, kind, listing, since, broken)| {
            Some(ListingMemory {
                config_key,
                kind: MemoryKind::parse(&kind)?,
                listing: RememberedListing::from_json(&listing)?,
                since: ts(since),
                broken,
            })
        }))
    }

    /// Remembers (replaces) the listing of `feed`.
    pub fn remember_listing(&self, feed: &str, m: &ListingMemory) -> Result<(), StoreError> {
        self.exec(
            "INSERT INTO feed_listing (feed, config_key, kind, listing, since, broken) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
             ON CONFLICT (feed) DO UPDATE SET config_key = excluded.config_key, kind = excluded.kind,
                listing = excluded.listing, since = excluded.since, broken = excluded.broken",
            params![
                feed,
                m.config_key,
                m.kind.as_str(),
                m.listing.to_json(),
                m.since.timestamp(),
                m.broken
            ],
        )
        .map(drop)
        .map_err(|e| self.err(e))
    }

    /// Forgets the listing of `feed`.
    pub fn forget_listing(&self, feed: &str) -> Result<(), StoreError> {
        self.exec("DELETE FROM feed_listing WHERE feed = ?1", [feed])
            .map(drop)
            .map_err(|e| self.err(e))
    }

    /// [`Store::record_failure`], and the feed's new schedule in the same transaction.
    pub fn record_failure_scheduled(
        &mut self,
        feed: &str,
        error: &str,
        now: DateTime<Utc>,
        schedule: Option<&ScheduleState>,
    ) -> Result<FailureStreak, StoreError> {
        let path = self.path.clone();
        let err = |source| sqlite_error(&path, source);
        let tx = self.conn.transaction().map_err(err)?;
        let streak = tx
            .prepare_cached(
                "INSERT INTO feed_state (feed, failures, last_error, last_failure, failing_since) VALUES (?1, 1, ?2, ?3, ?3)
                 ON CONFLICT (feed) DO UPDATE SET failures = failures + 1, last_error = excluded.last_error,
                    last_failure = excluded.last_failure,
                    failing_since = CASE WHEN failures = 0 THEN excluded.failing_since ELSE failing_since END
                 RETURNING failures, failing_since",
            )
            .and_then(|mut st| {
                st.query_row(params![feed, error, now.timestamp()], |r| {
                    Ok(FailureStreak {
                        failures: r.get(0)?,
                        since: r.get::<_, Option<i64>>(1)?.map(ts),
                    })
                })
            })
            .map_err(err)?;
        if let Some(sch) = schedule {
            put_schedule(&tx, feed, sch).map_err(err)?;
        }
        tx.commit().map_err(err)?;
        Ok(streak)
    }

    /// Stores `feed`'s schedule on its own (a 304 commits nothing else).
    pub fn save_schedule(&self, feed: &str, schedule: &ScheduleState) -> Result<(), StoreError> {
        put_schedule(&self.conn, feed, schedule).map_err(|e| self.err(e))
    }

    /// The stored schedule of `feed` (`None` before its first scheduled fetch).
    pub fn schedule(&self, feed: &str) -> Result<Option<ScheduleState>, StoreError> {
        self.row(
            &format!("SELECT {SCHEDULE_COLUMNS} FROM schedule WHERE feed = ?1"),
            [feed],
            row_to_schedule,
        )
        .optional()
        .map_err(|e| self.err(e))
    }

    /// Every stored schedule by feed id (feeds no longer in the config included).
    pub fn schedule_states(
        &self,
    ) -> Result<std::collections::BTreeMap<String, ScheduleState>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached(&format!("SELECT feed, {SCHEDULE_COLUMNS} FROM schedule"))
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([], |r| {
                let feed: String = r.get(0)?;
                // Columns of the state follow the feed id.
                Ok((feed, row_to_schedule_at(r, 1)?))
            })
            .map_err(|e| self.err(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.err(e))
    }

    /// Deletes items of `feed` that are neither among its newest `keep` nor seen within
    /// `keep_days`; returns how many went.
    pub fn prune(
        &self,
        feed: &str,
        keep: usize,
        keep_days: u32,
        now: DateTime<Utc>,
    ) -> Result<usize, StoreError> {
        let cutoff = now.timestamp() - i64::from(keep_days) * 86_400;
        // Article pages are shared by feeds; a record older than the history is no use.
        self.exec("DELETE FROM article_meta WHERE fetched < ?1", [cutoff])
            .map_err(|e| self.err(e))?;
        // Nothing can go while the feed holds at most `keep` items, the usual case; the
        // DELETE's ordered subquery is the dearest statement of a feed's update.
        if self.count_items(feed)? <= keep {
            return Ok(0);
        }
        self.exec(
                "DELETE FROM items WHERE feed = ?1 AND last_seen < ?2 AND id NOT IN
                   (SELECT id FROM items WHERE feed = ?1 ORDER BY published DESC, first_seen DESC, position ASC, id ASC LIMIT ?3)",
                params![feed, cutoff, i64::try_from(keep).unwrap_or(i64::MAX)],
            )
            .map_err(|e| self.err(e))
    }

    /// The cached enrichment record of an article page.
    pub fn article(&self, url: &str) -> Result<Option<ArticleRecord>, StoreError> {
        self.conn
            .query_row(
                "SELECT fetched, error, title, author, published, image, read_time, read_time_estimated, word_count
                 FROM article_meta WHERE url = ?1",
                [url],
                |r| {
                    Ok(ArticleRecord {
                        fetched: ts(r.get(0)?),
                        error: r.get(1)?,
                        title: r.get(2)?,
                        authors: decode_authors(r.get(3)?),
                        published: r.get::<_, Option<i64>>(4)?.map(ts),
                        image: r.get(5)?,
                        read_time: r.get(6)?,
                        read_time_estimated: r.get::<_, i64>(7)? != 0,
                        word_count: r.get(8)?,
                    })
                },
            )
            .optional()
            .map_err(|e| self.err(e))
    }

    /// Caches what an article page gave (or why it could not be fetched).
    pub fn save_article(&self, url: &str, rec: &ArticleRecord) -> Result<(), StoreError> {
        self.conn
            .execute(
                "INSERT INTO article_meta (url, fetched, error, title, author, published, image, read_time,
                                           read_time_estimated, word_count)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)
                 ON CONFLICT (url) DO UPDATE SET fetched = excluded.fetched, error = excluded.error,
                    title = excluded.title, author = excluded.author, published = excluded.published,
                    image = excluded.image, read_time = excluded.read_time,
                    read_time_estimated = excluded.read_time_estimated, word_count = excluded.word_count",
                params![
                    url,
                    rec.fetched.timestamp(),
                    rec.error,
                    rec.title,
                    encode_authors(&rec.authors),
                    rec.published.map(|d| d.timestamp()),
                    rec.image,
                    rec.read_time,
                    i64::from(rec.read_time_estimated),
                    rec.word_count,
                ],
            )
            .map(drop)
            .map_err(|e| self.err(e))
    }

    /// Runs SQLite's `integrity_check`; `Ok(vec![])` means healthy.
    pub fn integrity_problems(&self) -> Result<Vec<String>, StoreError> {
        let mut stmt = self
            .conn
            .prepare("PRAGMA integrity_check")
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([], |r| r.get::<_, String>(0))
            .map_err(|e| self.err(e))?;
        let mut out = rows
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| self.err(e))?;
        out.retain(|s| s != "ok");
        Ok(out)
    }

    /// The cached robots.txt of `origin`, fresh or stale.
    pub fn robots(&self, origin: &str) -> Result<Option<RobotsRecord>, StoreError> {
        self.row(
            "SELECT status, body, fetched, expires FROM robots WHERE origin = ?1",
            [origin],
            |r| {
                Ok(RobotsRecord {
                    origin: origin.to_string(),
                    status: r.get(0)?,
                    body: r.get::<_, Option<Vec<u8>>>(1)?.unwrap_or_default(),
                    fetched: ts(r.get(2)?),
                    expires: ts(r.get(3)?),
                })
            },
        )
        .optional()
        .map_err(|e| self.err(e))
    }

    /// Stores (replaces) the robots.txt answer of `record.origin`.
    pub fn save_robots(&self, record: &RobotsRecord) -> Result<(), StoreError> {
        self.exec(
                "INSERT INTO robots (origin, status, body, fetched, expires) VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT (origin) DO UPDATE SET status = excluded.status, body = excluded.body,
                    fetched = excluded.fetched, expires = excluded.expires",
                params![
                    record.origin,
                    record.status,
                    record.body,
                    record.fetched.timestamp(),
                    record.expires.timestamp()
                ],
            )
            .map(drop)
            .map_err(|e| self.err(e))
    }

    /// The underlying connection, for tests and diagnostics.
    pub fn conn(&self) -> &Connection {
        &self.conn
    }
}

const SCHEDULE_COLUMNS: &str =
    "next_due, interval_secs, last_fetch, last_success, last_change, failures, fetches";

fn put_schedule(conn: &Connection, feed: &str, s: &ScheduleState) -> rusqlite::Result<()> {
    conn.prepare_cached(&format!(
        "INSERT OR REPLACE INTO schedule (feed, {SCHEDULE_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"
    ))?
    .execute(params![
        feed,
        s.next_due.timestamp(),
        i64::try_from(s.interval.as_secs()).unwrap_or(i64::MAX),
        s.last_fetch.timestamp(),
        s.last_success.map(|t| t.timestamp()),
        s.last_change.map(|t| t.timestamp()),
        s.failures,
        i64::try_from(s.fetches).unwrap_or(i64::MAX),
    ])
    .map(drop)
}

fn row_to_schedule(r: &rusqlite::Row<'_>) -> rusqlite::Result<ScheduleState> {
    row_to_schedule_at(r, 0)
}

fn row_to_schedule_at(r: &rusqlite::Row<'_>, at: usize) -> rusqlite::Result<ScheduleState> {
    Ok(ScheduleState {
        next_due: ts(r.get(at)?),
        interval: std::time::Duration::from_secs(r.get::<_, i64>(at + 1)?.max(0).unsigned_abs()),
        last_fetch: ts(r.get(at + 2)?),
        last_success: r.get::<_, Option<i64>>(at + 3)?.map(ts),
        last_change: r.get::<_, Option<i64>>(at + 4)?.map(ts),
        failures: r.get(at + 5)?,
        fetches: r.get::<_, i64>(at + 6)?.max(0).unsigned_abs(),
    })
}

/// One number that changes when any of `parts` does (shared by both backends, so a
/// summary means the same on either).
pub(crate) fn fingerprint(parts: &[i64]) -> u64 {
    let bytes: Vec<u8> = parts.iter().flat_map(|p| p.to_le_bytes()).collect();
    xxhash_rust::xxh3::xxh3_64(&bytes)
}

const ITEM_COLUMNS: &str = "id, link, title, author, read_time, teaser, image, categories, published, date_source, updated, first_seen, last_seen, position, read_time_estimated";

fn ts(secs: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(secs, 0).single().unwrap_or_default()
}

fn row_to_item(r: &rusqlite::Row<'_>) -> rusqlite::Result<Item> {
    let source: String = r.get(9)?;
    let cats: String = r.get(7)?;
    Ok(Item {
        id: r.get(0)?,
        link: r.get(1)?,
        title: r.get(2)?,
        authors: decode_authors(r.get(3)?),
        read_time: r.get(4)?,
        teaser: r.get(5)?,
        image: r.get(6)?,
        categories: decode_categories(&cats),
        published: ts(r.get(8)?),
        date_source: DateSource::parse(&source).unwrap_or(DateSource::FirstSeen),
        updated: ts(r.get(10)?),
        first_seen: ts(r.get(11)?),
        last_seen: ts(r.get(12)?),
        position: r.get(13)?,
        read_time_estimated: r.get::<_, i64>(14)? != 0,
    })
}

/// Categories are joined with the ASCII unit separator, which folded page text never holds.
fn encode_categories(c: &[String]) -> String {
    c.join("\u{1f}")
}

fn decode_categories(s: &str) -> Vec<String> {
    if s.is_empty() {
        Vec::new()
    } else {
        s.split('\u{1f}').map(str::to_string).collect()
    }
}

/// Authors share the `author` column, joined like categories; a row written before
/// bylines were split holds one name (or one "A, B" string) and reads as one entry.
fn encode_authors(a: &[String]) -> Option<String> {
    (!a.is_empty()).then(|| a.join("\u{1f}"))
}

fn decode_authors(s: Option<String>) -> Vec<String> {
    s.as_deref().map(decode_categories).unwrap_or_default()
}

/// Schema migrations: entry `i` takes a store from version `i` to `i + 1`. Append new
/// steps, never edit shipped ones; the store tests open a fixture of every earlier version.
pub(crate) const MIGRATIONS: &[&str] = &[
    // 0 -> 1: the first schema (an empty or new file is version 0).
    "CREATE TABLE IF NOT EXISTS items (
        feed TEXT NOT NULL, id TEXT NOT NULL, link TEXT NOT NULL, title TEXT NOT NULL,
        author TEXT, read_time INTEGER, teaser TEXT, image TEXT, categories TEXT NOT NULL DEFAULT '',
        published INTEGER NOT NULL, date_source TEXT NOT NULL, updated INTEGER NOT NULL,
        first_seen INTEGER NOT NULL, last_seen INTEGER NOT NULL, position INTEGER NOT NULL DEFAULT 0,
        read_time_estimated INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (feed, id)) WITHOUT ROWID;
     CREATE INDEX IF NOT EXISTS items_by_date ON items (feed, published DESC, first_seen DESC, position, id);
     CREATE TABLE IF NOT EXISTS http_cache (
        url TEXT PRIMARY KEY, etag TEXT, last_modified TEXT, body_hash TEXT, fetched INTEGER);
     CREATE TABLE IF NOT EXISTS robots (
        origin TEXT PRIMARY KEY, status INTEGER NOT NULL, body BLOB, fetched INTEGER NOT NULL,
        expires INTEGER NOT NULL);
     CREATE TABLE IF NOT EXISTS article_meta (
        url TEXT PRIMARY KEY, fetched INTEGER NOT NULL, error TEXT, title TEXT, author TEXT,
        published INTEGER, image TEXT, read_time INTEGER,
        read_time_estimated INTEGER NOT NULL DEFAULT 0, word_count INTEGER) WITHOUT ROWID;
     CREATE TABLE IF NOT EXISTS feed_state (
        feed TEXT PRIMARY KEY, render_key TEXT, dirty INTEGER NOT NULL DEFAULT 0,
        failures INTEGER NOT NULL DEFAULT 0, last_error TEXT, last_ok INTEGER, last_failure INTEGER);",
    // 1 -> 2: when each feed is next due, and what its schedule adapts from (`schedule.rs`).
    "CREATE TABLE IF NOT EXISTS schedule (
        feed TEXT PRIMARY KEY, next_due INTEGER NOT NULL, interval_secs INTEGER NOT NULL,
        last_fetch INTEGER NOT NULL, last_success INTEGER, last_change INTEGER,
        failures INTEGER NOT NULL DEFAULT 0, fetches INTEGER NOT NULL DEFAULT 0) WITHOUT ROWID;",
    // 2 -> 3: when a feed's failure streak began (unknown for streaks already running), and
    // the listing each feed remembers: an auto feed's pin or a healed feed's selectors, with
    // the fingerprint of the config they belong to.
    "ALTER TABLE feed_state ADD COLUMN failing_since INTEGER;
     CREATE TABLE IF NOT EXISTS feed_listing (
        feed TEXT PRIMARY KEY, config_key TEXT NOT NULL, kind TEXT NOT NULL, listing TEXT NOT NULL,
        since INTEGER NOT NULL, broken TEXT) WITHOUT ROWID;",
];

/// Brings the store up to `steps.len()`, one transaction per step, so a failed step leaves
/// the store at the version before it.
pub(crate) fn migrate(conn: &Connection, steps: &[&str]) -> rusqlite::Result<()> {
    loop {
        let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
        let Some(step) = usize::try_from(version).ok().and_then(|v| steps.get(v)) else {
            return Ok(());
        };
        conn.execute_batch(&format!(
            "BEGIN IMMEDIATE;
             {step};
             PRAGMA application_id = {APPLICATION_ID};
             PRAGMA user_version = {};
             COMMIT;",
            version + 1
        ))
        .inspect_err(|_| {
            // execute_batch stops at the failing statement; undo the open transaction.
            let _ = conn.execute_batch("ROLLBACK");
        })?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(id: &str, published: i64) -> Item {
        Item {
            id: id.into(),
            link: id.into(),
            title: format!("T {id}"),
            authors: vec!["A".into()],
            read_time: Some(4),
            teaser: None,
            image: None,
            categories: vec!["x".into(), "y z".into()],
            published: ts(published),
            date_source: DateSource::FirstSeen,
            updated: ts(published),
            first_seen: ts(published),
            last_seen: ts(published),
            position: 0,
            read_time_estimated: false,
        }
    }

    #[test]
    fn round_trip_and_order() {
        let dir = tempfile::tempdir().expect("tmp");
        let path = dir.path().join("s.db");
        let mut s = Store::open(&path, false).expect("open");
        let items = vec![
            item("https://e/a", 10),
            item("https://e/b", 20),
            item("https://e/c", 20),
        ];
        let v = Validators {
            etag: Some("\"x\"".into()),
            ..Validators::default()
        };
        s.commit_feed(
            "f",
            &items,
            &[("https://e/".into(), v.clone())],
            true,
            ts(30),
        )
        .expect("commit");
        let top = s.top_items("f", 2).expect("top");
        let ids: Vec<_> = top.iter().map(|i| i.id.as_str()).collect();
        assert_eq!(ids, ["https://e/b", "https://e/c"]);
        assert_eq!(top[0], items[1]);
        assert_eq!(s.validators("https://e/").expect("v"), v);
        assert!(s.feed_state("f").expect("state").dirty);
        s.mark_written("f", "k1").expect("mark");
        let st = s.feed_state("f").expect("state");
        assert!(!st.dirty);
        assert_eq!(st.render_key.as_deref(), Some("k1"));
        let got = s
            .items_by_ids("f", &["https://e/a".into(), "https://e/zz".into()])
            .expect("ids");
        assert_eq!(got.len(), 1);
        assert!(s.integrity_problems().expect("check").is_empty());
    }

    /// Several authors share the `author` column; a row from before bylines were split
    /// (one "A, B" string) reads as one name, and no author as none.
    #[test]
    fn authors_round_trip_and_old_rows_read() {
        let dir = tempfile::tempdir().expect("tmp");
        let mut s = Store::open(&dir.path().join("s.db"), false).expect("open");
        let mut several = item("https://e/a", 10);
        several.authors = vec!["Ann Lee".into(), "Bo Chen".into()];
        let mut none = item("https://e/b", 20);
        none.authors = Vec::new();
        s.commit_feed("f", &[several.clone(), none.clone()], &[], false, ts(30))
            .expect("commit");
        s.conn
            .execute(
                "UPDATE items SET author = 'Cy Diaz, Di Eng' WHERE id = 'https://e/b'",
                [],
            )
            .expect("old-style row");
        let got = s
            .items_by_ids("f", &["https://e/a".into(), "https://e/b".into()])
            .expect("ids");
        assert_eq!(got["https://e/a"].authors, ["Ann Lee", "Bo Chen"]);
        assert_eq!(got["https://e/b"].authors, ["Cy Diaz, Di Eng"]);
        s.conn
            .execute(
                "UPDATE items SET author = NULL WHERE id = 'https://e/b'",
                [],
            )
            .expect("null");
        let got = s.items_by_ids("f", &["https://e/b".into()]).expect("ids");
        assert!(got["https://e/b"].authors.is_empty());
    }

    #[test]
    fn second_open_is_refused_while_locked() {
        let dir = tempfile::tempdir().expect("tmp");
        let path = dir.path().join("s.db");
        let _first = Store::open(&path, false).expect("open");
        let err = Store::open(&path, false).expect_err("must be busy");
        assert!(matches!(err, StoreError::Busy { .. }), "{err}");
        assert!(err.to_string().contains("another scifeed run"));
    }

    #[test]
    fn garbage_and_foreign_files_are_refused() {
        let dir = tempfile::tempdir().expect("tmp");
        let junk = dir.path().join("junk.db");
        let content =
            b"this is not a database, just text that is long enough to be read as a header....";
        std::fs::write(&junk, content).expect("write");
        let err = Store::open(&junk, false).expect_err("corrupt");
        assert!(matches!(err, StoreError::Corrupt { .. }), "{err}");
        assert!(err.to_string().contains(&junk.display().to_string()));
        assert_eq!(
            std::fs::read(&junk).expect("read"),
            content,
            "file left untouched"
        );

        let foreign = dir.path().join("other.db");
        let c = Connection::open(&foreign).expect("open");
        c.execute_batch("CREATE TABLE t(x)").expect("create");
        drop(c);
        let err = Store::open(&foreign, false).expect_err("foreign");
        assert!(matches!(err, StoreError::Foreign { .. }), "{err}");
    }

    /// A store as each earlier scifeed version left it (`None`: an empty file), with data
    /// where the schema has tables. Opening it must migrate it to the current version and
    /// keep the data. When a migration is added, add a fixture of the version before it.
    fn fixtures() -> Vec<(&'static str, i64, Option<String>)> {
        vec![
            ("empty file", 0, None),
            (
                "SQLite file without tables",
                0,
                Some("CREATE TABLE t (x); DROP TABLE t;".into()),
            ),
            (
                "version 1 with items and feed state",
                1,
                Some(format!(
                    "{}; PRAGMA application_id = {APPLICATION_ID}; PRAGMA user_version = 1;
                     INSERT INTO items VALUES ('f', 'https://e/a', 'https://e/a', 'A', NULL, 4, NULL, NULL, 'x',
                                               10, 'page', 10, 10, 10, 0, 0);
                     INSERT INTO feed_state (feed, render_key, dirty) VALUES ('f', 'k', 1);",
                    MIGRATIONS[0]
                )),
            ),
            (
                "version 2 with items, a failing feed and a schedule",
                2,
                Some(format!(
                    "{}; {}; PRAGMA application_id = {APPLICATION_ID}; PRAGMA user_version = 2;
                     INSERT INTO items VALUES ('f', 'https://e/a', 'https://e/a', 'A', NULL, 4, NULL, NULL, 'x',
                                               10, 'page', 10, 10, 10, 0, 0);
                     INSERT INTO feed_state (feed, render_key, dirty, failures, last_error) VALUES ('f', 'k', 1, 2, 'HTTP 503');
                     INSERT INTO schedule VALUES ('f', 5000, 1800, 3200, 3200, NULL, 2, 3);",
                    MIGRATIONS[0], MIGRATIONS[1]
                )),
            ),
        ]
    }

    #[test]
    fn every_earlier_version_migrates_to_the_current_one() {
        for (what, version, sql) in fixtures() {
            let dir = tempfile::tempdir().expect("tmp");
            let path = dir.path().join("s.db");
            match sql {
                None => std::fs::write(&path, b"").expect("empty"),
                Some(sql) => Connection::open(&path)
                    .and_then(|c| c.execute_batch(&sql))
                    .expect(what),
            }
            let s = Store::open(&path, false).unwrap_or_else(|e| panic!("{what}: {e}"));
            let v: i64 = s
                .conn()
                .query_row("PRAGMA user_version", [], |r| r.get(0))
                .expect("version");
            assert_eq!(v, SCHEMA_VERSION, "{what}");
            let app: i64 = s
                .conn()
                .query_row("PRAGMA application_id", [], |r| r.get(0))
                .expect("app id");
            assert_eq!(app, APPLICATION_ID, "{what}");
            assert!(s.integrity_problems().expect("check").is_empty(), "{what}");
            if version >= 1 {
                let items = s.top_items("f", 10).expect("items");
                assert_eq!(items.len(), 1, "{what}");
                assert_eq!(items[0].title, "A");
                assert!(s.feed_state("f").expect("state").dirty, "{what}");
            }
            if (1..3).contains(&version) {
                let st = s.feed_state("f").expect("state");
                assert_eq!(
                    st.failing_since, None,
                    "{what}: no streak start recorded before 3"
                );
                assert_eq!(s.listing_memory("f").expect("listing"), None, "{what}");
            }
            if version == 2 {
                let st = s.feed_state("f").expect("state");
                assert_eq!(
                    (st.failures, st.last_error.as_deref()),
                    (2, Some("HTTP 503"))
                );
                assert_eq!(
                    s.schedule("f").expect("schedule").map(|x| x.fetches),
                    Some(3)
                );
            }
        }
    }

    #[test]
    fn a_failing_migration_step_leaves_the_previous_version() {
        let dir = tempfile::tempdir().expect("tmp");
        let conn = Connection::open(dir.path().join("s.db")).expect("open");
        let steps = [
            MIGRATIONS[0],
            "CREATE TABLE extra (x); SELECT no_such_function();",
        ];
        assert!(migrate(&conn, &steps).is_err());
        let v: i64 = conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .expect("version");
        assert_eq!(v, 1, "step 1 committed, step 2 rolled back");
        let extra: i64 = conn
            .query_row(
                "SELECT count(*) FROM sqlite_master WHERE name = 'extra'",
                [],
                |r| r.get(0),
            )
            .expect("count");
        assert_eq!(extra, 0, "no half-applied step");
        // Retrying with the fixed step goes on from version 1.
        let fixed = [MIGRATIONS[0], "CREATE TABLE extra (x)"];
        migrate(&conn, &fixed).expect("retry");
        let v: i64 = conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .expect("version");
        assert_eq!(v, 2);
    }

    #[test]
    fn corruption_errors_carry_the_recovery_hint() {
        let e = sqlite_error(
            Path::new("/s.db"),
            rusqlite::Error::SqliteFailure(
                rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_CORRUPT),
                None,
            ),
        );
        assert!(matches!(e, StoreError::Corrupt { .. }), "{e}");
        assert!(e.to_string().contains("/s.db") && e.to_string().contains("store repair"));
    }

    #[test]
    fn article_records_round_trip() {
        let dir = tempfile::tempdir().expect("tmp");
        let s = Store::open(&dir.path().join("s.db"), false).expect("open");
        assert_eq!(s.article("https://e/a").expect("read"), None);
        let rec = ArticleRecord {
            fetched: ts(100),
            authors: vec!["Ann".into()],
            published: Some(ts(50)),
            read_time: Some(5),
            read_time_estimated: true,
            word_count: Some(1100),
            ..ArticleRecord::default()
        };
        s.save_article("https://e/a", &rec).expect("save");
        assert_eq!(s.article("https://e/a").expect("read"), Some(rec));
        let failed = ArticleRecord {
            fetched: ts(200),
            error: Some("HTTP 404".into()),
            ..ArticleRecord::default()
        };
        s.save_article("https://e/a", &failed).expect("save");
        assert_eq!(s.article("https://e/a").expect("read"), Some(failed));
    }

    #[test]
    fn robots_round_trip_and_replace() {
        let dir = tempfile::tempdir().expect("tmp");
        let s = Store::open(&dir.path().join("s.db"), false).expect("open");
        assert_eq!(s.robots("http://a.org").expect("get"), None);
        let mut rec = RobotsRecord {
            origin: "http://a.org".into(),
            status: 200,
            body: b"User-agent: *\nDisallow: /x\n".to_vec(),
            fetched: ts(100),
            expires: ts(100 + 86_400),
        };
        s.save_robots(&rec).expect("save");
        assert_eq!(s.robots("http://a.org").expect("get"), Some(rec.clone()));
        rec.status = 404;
        rec.body.clear();
        s.save_robots(&rec).expect("replace");
        assert_eq!(s.robots("http://a.org").expect("get"), Some(rec));
        assert_eq!(s.robots("http://b.org").expect("get"), None);
    }

    #[test]
    fn schedules_round_trip_with_commits_and_failures() {
        let dir = tempfile::tempdir().expect("tmp");
        let mut s = Store::open(&dir.path().join("s.db"), false).expect("open");
        assert_eq!(s.schedule("f").expect("get"), None);
        let sch = ScheduleState {
            next_due: ts(5000),
            interval: std::time::Duration::from_secs(1800),
            last_fetch: ts(3200),
            last_success: Some(ts(3200)),
            last_change: None,
            failures: 0,
            fetches: 3,
        };
        s.commit_feed_scheduled(
            "f",
            &[item("https://e/a", 1)],
            &[],
            true,
            ts(3200),
            Some(&sch),
        )
        .expect("commit");
        assert_eq!(s.schedule("f").expect("get"), Some(sch.clone()));
        let failed = ScheduleState {
            failures: 1,
            fetches: 4,
            next_due: ts(9000),
            ..sch.clone()
        };
        s.record_failure_scheduled("f", "HTTP 503", ts(6000), Some(&failed))
            .expect("failure");
        assert_eq!(s.feed_state("f").expect("state").failures, 1);
        let other = ScheduleState {
            last_change: Some(ts(1)),
            ..sch.clone()
        };
        s.save_schedule("g", &other).expect("save");
        let all = s.schedule_states().expect("all");
        let got: Vec<(&str, &ScheduleState)> = all.iter().map(|(k, v)| (k.as_str(), v)).collect();
        assert_eq!(got, vec![("f", &failed), ("g", &other)]);
    }

    #[test]
    fn failure_streaks_begin_at_the_first_failure_and_end_with_a_success() {
        let dir = tempfile::tempdir().expect("tmp");
        let mut s = Store::open(&dir.path().join("s.db"), false).expect("open");
        let streak = s.record_failure("f", "HTTP 503", ts(100)).expect("fail 1");
        assert_eq!(
            streak,
            FailureStreak {
                failures: 1,
                since: Some(ts(100))
            }
        );
        let streak = s.record_failure("f", "HTTP 502", ts(200)).expect("fail 2");
        assert_eq!(
            streak,
            FailureStreak {
                failures: 2,
                since: Some(ts(100))
            },
            "the start stays"
        );
        let st = s.feed_state("f").expect("state");
        assert_eq!((st.failures, st.failing_since), (2, Some(ts(100))));
        assert_eq!(st.last_error.as_deref(), Some("HTTP 502"));
        s.commit_feed("f", &[], &[], false, ts(300))
            .expect("success");
        let st = s.feed_state("f").expect("state");
        assert_eq!((st.failures, st.failing_since), (0, None));
        let streak = s
            .record_failure("f", "HTTP 404", ts(400))
            .expect("fail again");
        assert_eq!(
            streak,
            FailureStreak {
                failures: 1,
                since: Some(ts(400))
            },
            "a new streak"
        );
        // A feed whose state row came from writing its files starts a streak too.
        s.mark_written("g", "k").expect("mark");
        let streak = s.record_failure("g", "x", ts(500)).expect("fail");
        assert_eq!(streak.since, Some(ts(500)));
    }

    #[test]
    fn listing_memory_round_trips_and_is_forgotten() {
        use crate::extract::detect::SelectorSet;
        let dir = tempfile::tempdir().expect("tmp");
        let s = Store::open(&dir.path().join("s.db"), false).expect("open");
        assert_eq!(s.listing_memory("f").expect("read"), None);
        let mut m = ListingMemory {
            config_key: "k1".into(),
            kind: MemoryKind::Pinned,
            listing: RememberedListing::Selectors(SelectorSet {
                card: "li.card".into(),
                title: "h3".into(),
                ..SelectorSet::default()
            }),
            since: ts(100),
            broken: None,
        };
        s.remember_listing("f", &m).expect("save");
        assert_eq!(s.listing_memory("f").expect("read"), Some(m.clone()));
        m.kind = MemoryKind::Healed;
        m.broken = Some("div.old".into());
        s.remember_listing("f", &m).expect("replace");
        assert_eq!(s.listing_memory("f").expect("read"), Some(m));
        s.conn()
            .execute("UPDATE feed_listing SET listing = 'garbage'", [])
            .expect("damage");
        assert_eq!(
            s.listing_memory("f").expect("read"),
            None,
            "unreadable = none"
        );
        s.forget_listing("f").expect("forget");
        assert_eq!(s.listing_memory("f").expect("read"), None);
    }

    #[test]
    fn item_ids_of_a_feed() {
        let dir = tempfile::tempdir().expect("tmp");
        let mut s = Store::open(&dir.path().join("s.db"), false).expect("open");
        s.commit_feed(
            "f",
            &[item("https://e/a", 1), item("https://e/b", 2)],
            &[],
            false,
            ts(3),
        )
        .expect("commit");
        s.commit_feed("g", &[item("https://e/c", 1)], &[], false, ts(3))
            .expect("commit");
        let ids = s.item_ids("f").expect("ids");
        assert_eq!(
            ids,
            HashSet::from(["https://e/a".to_string(), "https://e/b".to_string()])
        );
    }

    #[test]
    fn summaries_tell_health_and_when_items_changed() {
        let dir = tempfile::tempdir().expect("tmp");
        let path = dir.path().join("s.db");
        let mut s = Store::open(&path, false).expect("open");
        // Page dates (published = updated) after the time they were seen are no change.
        let mut a = item("https://e/a", 5_000);
        a.first_seen = ts(100);
        a.last_seen = ts(100);
        s.commit_feed("f", &[a.clone()], &[], false, ts(100))
            .expect("commit");
        s.record_failure("g", "HTTP 503", ts(150)).expect("fail");
        s.record_failure("g", "HTTP 504", ts(160)).expect("fail");
        let r = Store::open_read_only(&path)
            .expect("reader beside the writer")
            .expect("the store exists");
        let all = r.feed_summaries().expect("summaries");
        let f = &all["f"];
        assert_eq!(
            (f.items, f.last_change, f.last_ok),
            (1, Some(ts(100)), Some(ts(100)))
        );
        assert_eq!((f.failures, f.last_error.as_deref()), (0, None));
        let g = &all["g"];
        assert_eq!((g.items, g.last_change, g.failures), (0, None, 2));
        assert_eq!(
            (g.last_error.as_deref(), g.last_failure),
            (Some("HTTP 504"), Some(ts(160)))
        );
        // An update of the item's content is a change; seeing it again is not, but it moves
        // the fingerprint (a commit touched the feed).
        let before = r.feed_summary("f").expect("one");
        a.last_seen = ts(200);
        s.commit_feed("f", &[a.clone()], &[], false, ts(200))
            .expect("seen again");
        let seen = r.feed_summary("f").expect("one");
        assert_eq!(seen.last_change, Some(ts(100)));
        assert_ne!(seen.fingerprint, before.fingerprint);
        a.title = "New title".into();
        a.updated = ts(5_300);
        a.published = ts(5_000);
        s.commit_feed("f", &[a], &[], true, ts(300))
            .expect("updated");
        assert_eq!(
            r.feed_summary("f").expect("one").last_change,
            Some(ts(5_300))
        );
        assert_eq!(
            r.feed_summary("nope").expect("none"),
            FeedSummary::default()
        );
        let mut since = r.feeds_fetched_since(ts(150)).expect("since");
        since.sort();
        assert_eq!(since, ["f", "g"]);
        assert!(r.feeds_fetched_since(ts(301)).expect("since").is_empty());
        assert!(r.mark_written("f", "k").is_err(), "the reader cannot write");
    }

    #[test]
    fn prune_keeps_newest_and_recent() {
        let dir = tempfile::tempdir().expect("tmp");
        let mut s = Store::open(&dir.path().join("s.db"), false).expect("open");
        let items: Vec<Item> = (0..5).map(|i| item(&format!("https://e/{i}"), i)).collect();
        s.commit_feed("f", &items, &[], false, ts(10))
            .expect("commit");
        let gone = s.prune("f", 2, 1, ts(10 + 2 * 86_400)).expect("prune");
        assert_eq!(gone, 3);
        assert_eq!(s.count_items("f").expect("count"), 2);
    }
}
