//! The SQLite store: item history, HTTP validators, robots.txt cache and per-feed state.
//!
//! One exclusive lock file per store keeps two runs apart; the OS drops it when a process
//! dies, so a crash never leaves a stale lock. Each feed's changes are committed in one
//! transaction.

use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::path::{Path, PathBuf};

use chrono::{DateTime, TimeZone, Utc};
use rusqlite::{Connection, OptionalExtension, params};

use crate::model::{DateSource, Item};

/// `PRAGMA application_id` of scifeed stores ("SCFD"): tells our file from a foreign one.
const APPLICATION_ID: i64 = 0x5343_4644;
/// Current schema version (`PRAGMA user_version`).
pub const SCHEMA_VERSION: i64 = 1;

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
        "state file {} is not a usable scifeed store: {cause}\n    hint: run `scifeed store check`; move the file away to start a fresh history",
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
}

/// Conditional-GET validators and body fingerprint of one URL.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Validators {
    pub etag: Option<String>,
    pub last_modified: Option<String>,
    /// Hash of the last body that was processed.
    pub body_hash: Option<String>,
}

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
    pub failures: u32,
    pub last_error: Option<String>,
}

/// An open, locked store.
pub struct Store {
    conn: Connection,
    path: PathBuf,
    _lock: File,
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
        if wait {
            file.lock().map_err(|source| StoreError::Io {
                path: lock.clone(),
                source,
            })?;
        } else if file.try_lock().is_err() {
            return Err(StoreError::Busy {
                path: path.to_path_buf(),
                lock,
            });
        }
        let conn = Self::connect(path)?;
        Ok(Store {
            conn,
            path: path.to_path_buf(),
            _lock: file,
        })
    }

    fn connect(path: &Path) -> Result<Connection, StoreError> {
        let corrupt = |e: rusqlite::Error| StoreError::Corrupt {
            path: path.to_path_buf(),
            cause: e.to_string(),
        };
        let conn = Connection::open(path).map_err(corrupt)?;
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
        conn.execute_batch(
            "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = 5000;",
        )
        .map_err(corrupt)?;
        migrate(&conn, version).map_err(corrupt)?;
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
        StoreError::Sqlite {
            path: self.path.clone(),
            source,
        }
    }

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
            "SELECT render_key, dirty, failures, last_error FROM feed_state WHERE feed = ?1",
            [feed],
            |r| {
                Ok(FeedState {
                    render_key: r.get(0)?,
                    dirty: r.get::<_, i64>(1)? != 0,
                    failures: r.get(2)?,
                    last_error: r.get(3)?,
                })
            },
        )
        .optional()
        .map(Option::unwrap_or_default)
        .map_err(|e| self.err(e))
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
        let path = self.path.clone();
        let err = |source| StoreError::Sqlite {
            path: path.clone(),
            source,
        };
        let tx = self.conn.transaction().map_err(err)?;
        {
            let mut up = tx
                .prepare_cached(
                    "INSERT INTO items (feed, id, link, title, author, read_time, teaser, image, categories,
                                        published, date_source, updated, first_seen, last_seen, position)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)
                     ON CONFLICT (feed, id) DO UPDATE SET
                        link = excluded.link, title = excluded.title, author = excluded.author,
                        read_time = excluded.read_time, teaser = excluded.teaser, image = excluded.image,
                        categories = excluded.categories, updated = excluded.updated,
                        last_seen = excluded.last_seen",
                )
                .map_err(err)?;
            for i in upserts {
                up.execute(params![
                    feed,
                    i.id,
                    i.link,
                    i.title,
                    i.author,
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
                    last_error = NULL, last_ok = excluded.last_ok",
            )
            .and_then(|mut st| st.execute(params![feed, i64::from(dirty), now.timestamp()]))
            .map_err(err)?;
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

    /// Records a failed run of `feed` (its items and files stay as they were).
    pub fn record_failure(
        &self,
        feed: &str,
        error: &str,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.exec(
                "INSERT INTO feed_state (feed, failures, last_error, last_failure) VALUES (?1, 1, ?2, ?3)
                 ON CONFLICT (feed) DO UPDATE SET failures = failures + 1, last_error = excluded.last_error,
                    last_failure = excluded.last_failure",
                params![feed, error, now.timestamp()],
            )
            .map(drop)
            .map_err(|e| self.err(e))
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
        // Nothing can go while the feed holds at most `keep` items, the usual case; the
        // DELETE's ordered subquery is the dearest statement of a feed's update.
        if self.count_items(feed)? <= keep {
            return Ok(0);
        }
        let cutoff = now.timestamp() - i64::from(keep_days) * 86_400;
        self.exec(
                "DELETE FROM items WHERE feed = ?1 AND last_seen < ?2 AND id NOT IN
                   (SELECT id FROM items WHERE feed = ?1 ORDER BY published DESC, first_seen DESC, position ASC, id ASC LIMIT ?3)",
                params![feed, cutoff, i64::try_from(keep).unwrap_or(i64::MAX)],
            )
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

const ITEM_COLUMNS: &str = "id, link, title, author, read_time, teaser, image, categories, published, date_source, updated, first_seen, last_seen, position";

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
        author: r.get(3)?,
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

fn migrate(conn: &Connection, from: i64) -> rusqlite::Result<()> {
    if from < 1 {
        conn.execute_batch(&format!(
            "BEGIN;
             CREATE TABLE IF NOT EXISTS items (
                feed TEXT NOT NULL, id TEXT NOT NULL, link TEXT NOT NULL, title TEXT NOT NULL,
                author TEXT, read_time INTEGER, teaser TEXT, image TEXT, categories TEXT NOT NULL DEFAULT '',
                published INTEGER NOT NULL, date_source TEXT NOT NULL, updated INTEGER NOT NULL,
                first_seen INTEGER NOT NULL, last_seen INTEGER NOT NULL, position INTEGER NOT NULL DEFAULT 0,
                PRIMARY KEY (feed, id)) WITHOUT ROWID;
             CREATE INDEX IF NOT EXISTS items_by_date ON items (feed, published DESC, first_seen DESC, position, id);
             CREATE TABLE IF NOT EXISTS http_cache (
                url TEXT PRIMARY KEY, etag TEXT, last_modified TEXT, body_hash TEXT, fetched INTEGER);
             CREATE TABLE IF NOT EXISTS robots (
                origin TEXT PRIMARY KEY, status INTEGER NOT NULL, body BLOB, fetched INTEGER NOT NULL,
                expires INTEGER NOT NULL);
             CREATE TABLE IF NOT EXISTS feed_state (
                feed TEXT PRIMARY KEY, render_key TEXT, dirty INTEGER NOT NULL DEFAULT 0,
                failures INTEGER NOT NULL DEFAULT 0, last_error TEXT, last_ok INTEGER, last_failure INTEGER);
             PRAGMA application_id = {APPLICATION_ID};
             PRAGMA user_version = 1;
             COMMIT;"
        ))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(id: &str, published: i64) -> Item {
        Item {
            id: id.into(),
            link: id.into(),
            title: format!("T {id}"),
            author: Some("A".into()),
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
