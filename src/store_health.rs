//! `scifeed store check` and `scifeed store repair`: the state file's health, and a rebuild
//! of a damaged one from whatever SQLite can still read.
//!
//! Both take the same lock as a run. Repair never edits the damaged file: it copies every
//! readable history row into a fresh file, keeps the original beside it as a backup, and
//! swaps the fresh file in. Caches (HTTP validators, robots.txt) are not copied, so the next
//! run fetches and parses every page afresh, and every feed is marked for re-rendering so its
//! files match the salvaged history.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use chrono::{DateTime, TimeZone, Utc};
use rusqlite::{Connection, OpenFlags};

use crate::heal::{MemoryKind, RememberedListing};
use crate::report::format_time;
use crate::store::{self, SCHEMA_VERSION, StoreError};

/// Why a check or repair could not be done.
#[derive(Debug, thiserror::Error)]
pub enum HealthError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("no state file at {} (the first run creates it)", path.display())]
    Missing { path: PathBuf },
    #[error(
        "state file {} cannot be read as an SQLite database ({cause}); nothing can be salvaged\n    hint: move it away (mv {0} {0}.bad); the next run starts a fresh history, and items without a page date get new first-seen dates",
        path.display()
    )]
    Unreadable { path: PathBuf, cause: String },
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// One feed's line in the check report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedSummary {
    pub feed: String,
    pub items: i64,
    /// Files not yet rewritten after the last change (a crash in between).
    pub dirty: bool,
    /// Consecutive failed runs.
    pub failures: i64,
    pub last_error: Option<String>,
    /// When the current failure streak began (unknown for streaks older than the record).
    pub failing_since: Option<DateTime<Utc>>,
    /// The listing the feed remembers (an auto feed's pin, or healed selectors).
    pub listing: Option<ListingSummary>,
}

/// A remembered listing as `store check` shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListingSummary {
    pub kind: MemoryKind,
    /// The card selector ("structured data" for a structured listing).
    pub card: String,
    pub since: DateTime<Utc>,
    /// Healed: the card selector that stopped working.
    pub broken: Option<String>,
}

/// What `store check` found.
#[derive(Debug, Clone)]
pub struct Health {
    pub path: PathBuf,
    pub version: i64,
    pub bytes: u64,
    /// `integrity_check` findings and unreadable tables; empty when healthy.
    pub problems: Vec<String>,
    pub feeds: Vec<FeedSummary>,
    /// A PostgreSQL state (no file, no `store repair`).
    pub shared: bool,
}

impl Health {
    /// Whether the store is intact.
    pub fn ok(&self) -> bool {
        self.problems.is_empty()
    }

    /// The report `store check` prints.
    pub fn report(&self) -> String {
        let mut out = String::new();
        let verdict = if self.ok() { "OK" } else { "DAMAGED" };
        let _ = writeln!(out, "{}: {verdict}", self.path.display());
        let _ = writeln!(
            out,
            "  schema version {} (this scifeed: {SCHEMA_VERSION}), {} bytes, {} feed(s), {} item(s)",
            self.version,
            self.bytes,
            self.feeds.len(),
            self.feeds.iter().map(|f| f.items).sum::<i64>()
        );
        for f in &self.feeds {
            let _ = write!(out, "  {:<24} {:>6} items", f.feed, f.items);
            if f.dirty {
                out.push_str(", files pending rewrite");
            }
            if let Some(l) = &f.listing {
                match (l.kind, &l.broken) {
                    (MemoryKind::Healed, Some(b)) => {
                        let _ = write!(
                            out,
                            ", healed {}: card selector `{b}` replaced by `{}`",
                            format_time(l.since),
                            l.card
                        );
                    }
                    (kind, _) => {
                        let _ = write!(
                            out,
                            ", {} listing `{}` since {}",
                            kind.as_str(),
                            l.card,
                            format_time(l.since)
                        );
                    }
                }
            }
            if f.failures > 0 {
                match f.failing_since {
                    Some(t) => {
                        let _ = write!(out, ", failing since {}", format_time(t));
                    }
                    None => out.push_str(", failing"),
                }
                let _ = write!(out, " ({} failed run(s) in a row)", f.failures);
                if let Some(e) = &f.last_error {
                    let _ = write!(out, ": {e}");
                }
            }
            out.push('\n');
        }
        for p in self.problems.iter().take(20) {
            let _ = writeln!(out, "  problem: {p}");
        }
        if self.problems.len() > 20 {
            let _ = writeln!(out, "  ... and {} more", self.problems.len() - 20);
        }
        if !self.ok() && self.shared {
            let _ = writeln!(
                out,
                "  hint: a newer scifeed migrates an old schema on its first run; for damage, PostgreSQL's own tools (pg_amcheck, pg_dump) apply"
            );
        } else if !self.ok() {
            let _ = writeln!(
                out,
                "  hint: `scifeed store repair` rebuilds it from what is readable and keeps this file as a backup"
            );
        }
        out
    }
}

/// Checks the store at `path` without changing its contents.
pub fn check(path: &Path, wait: bool) -> Result<Health, HealthError> {
    must_exist(path)?;
    let _lock = store::lock(path, wait)?;
    let conn = open_existing(path)?;
    let version = store::check_identity(&conn, path)?;
    let bytes = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
    let mut problems = integrity(&conn, path)?;
    let feeds = match feed_summaries(&conn, version) {
        Ok(f) => f,
        Err(e) => {
            problems.push(format!("cannot read the feed summary: {e}"));
            Vec::new()
        }
    };
    Ok(Health {
        path: path.to_path_buf(),
        version,
        bytes,
        problems,
        feeds,
        shared: false,
    })
}

/// Checks a PostgreSQL state: schema version, consistency and per-feed counts (it is opened,
/// and so migrated, as a run would).
pub fn check_shared(location: &store::StateLocation) -> Result<Health, HealthError> {
    let state = store::backend::open(location, &store::backend::OpenOptions::default())?;
    let c = state.check()?;
    Ok(Health {
        path: PathBuf::from(location.to_string()),
        version: c.version,
        bytes: c.bytes,
        problems: c.problems,
        feeds: c
            .feeds
            .into_iter()
            .map(|f| {
                let ts = |t: i64| Utc.timestamp_opt(t, 0).single();
                let listing = f.listing.and_then(|(kind, json, since, broken)| {
                    Some(ListingSummary {
                        kind: MemoryKind::parse(&kind)?,
                        card: RememberedListing::from_json(&json)?.card().to_string(),
                        since: ts(since)?,
                        broken,
                    })
                });
                FeedSummary {
                    feed: f.feed,
                    items: f.items,
                    dirty: f.dirty,
                    failures: f.failures,
                    last_error: f.last_error,
                    failing_since: f.failing_since.and_then(ts),
                    listing,
                }
            })
            .collect(),
        shared: true,
    })
}

/// What `store repair` did.
#[derive(Debug, Clone, Default)]
pub struct Repair {
    /// The store was healthy; nothing was changed.
    pub healthy: bool,
    /// Rows copied per history table.
    pub salvaged: Vec<(String, usize)>,
    /// Read errors met while copying (rows past them may be lost).
    pub read_errors: Vec<String>,
    /// Where the damaged original now is.
    pub backup: Option<PathBuf>,
}

impl Repair {
    /// The report `store repair` prints.
    pub fn report(&self, path: &Path) -> String {
        if self.healthy {
            return format!(
                "{}: OK, nothing to repair (integrity check passed)\n",
                path.display()
            );
        }
        let mut out = format!("{}: rebuilt from the readable rows\n", path.display());
        for (table, n) in &self.salvaged {
            let _ = writeln!(out, "  {table}: {n} row(s) kept");
        }
        for e in &self.read_errors {
            let _ = writeln!(out, "  read error (rows beyond it may be lost): {e}");
        }
        if let Some(b) = &self.backup {
            let _ = writeln!(out, "  damaged original kept as {}", b.display());
        }
        out.push_str(
            "  the next run rewrites every feed's files from the repaired history; each page's next fetch is a full one\n",
        );
        out
    }
}

/// Tables worth salvaging; the caches (`http_cache`, `robots`) are rebuilt by the next run.
/// The schedule is kept so that a repair does not make every feed due at once (a thundering
/// round against every host), and pins and heals so that feeds keep their listings.
const HISTORY_TABLES: [&str; 4] = ["items", "feed_state", "feed_listing", "schedule"];

/// Rebuilds a damaged store from its readable rows (see the module docs).
pub fn repair(path: &Path, wait: bool) -> Result<Repair, HealthError> {
    must_exist(path)?;
    let _lock = store::lock(path, wait)?;
    let old = open_existing(path)?;
    store::check_identity(&old, path)?;
    if integrity(&old, path)?.is_empty() {
        return Ok(Repair {
            healthy: true,
            ..Repair::default()
        });
    }
    let fresh_path = sibling(path, ".repair");
    remove_db_files(&fresh_path)?;
    let mut report = Repair::default();
    {
        let mut fresh = create_fresh(&fresh_path)?;
        for table in HISTORY_TABLES {
            let n = copy_table(&old, &mut fresh, table, &mut report.read_errors)
                .map_err(|e| store::sqlite_error(&fresh_path, e))?;
            report.salvaged.push((table.to_string(), n));
        }
        fresh
            .execute_batch("UPDATE feed_state SET dirty = 1; PRAGMA journal_mode = DELETE;")
            .map_err(|e| store::sqlite_error(&fresh_path, e))?;
    }
    drop(old);
    let backup = sibling(
        path,
        &format!(".corrupt-{}", Utc::now().format("%Y%m%dT%H%M%SZ")),
    );
    // Keep the original (and its WAL, which must never meet the fresh file) as the backup,
    // then put the fresh file in place with one rename.
    let io = |p: &Path| {
        let p = p.to_path_buf();
        move |source| HealthError::Io { path: p, source }
    };
    std::fs::hard_link(path, &backup).map_err(io(&backup))?;
    for suffix in ["-wal", "-shm"] {
        let side = sibling(path, suffix);
        if side.exists() {
            std::fs::rename(&side, sibling(&backup, suffix)).map_err(io(&side))?;
        }
    }
    std::fs::File::open(&fresh_path)
        .and_then(|f| f.sync_all())
        .map_err(io(&fresh_path))?;
    std::fs::rename(&fresh_path, path).map_err(io(path))?;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        let _ = std::fs::File::open(dir).and_then(|d| d.sync_all());
    }
    report.backup = Some(backup);
    Ok(report)
}

/// A new, empty store at the current schema, without a lock of its own (the caller holds
/// the lock of the store being repaired).
fn create_fresh(path: &Path) -> Result<Connection, StoreError> {
    let conn = Connection::open(path).map_err(|e| store::sqlite_error(path, e))?;
    store::migrate(&conn, store::MIGRATIONS).map_err(|e| store::sqlite_error(path, e))?;
    Ok(conn)
}

/// Checked before taking the lock, which would create the lock file (and its directory).
fn must_exist(path: &Path) -> Result<(), HealthError> {
    if path.exists() {
        Ok(())
    } else {
        Err(HealthError::Missing {
            path: path.to_path_buf(),
        })
    }
}

/// Opens an existing store without creating or migrating anything.
fn open_existing(path: &Path) -> Result<Connection, HealthError> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(|e| unreadable(path, &e))?;
    // The cheapest query that makes SQLite read the header and the schema.
    conn.query_row("SELECT count(*) FROM sqlite_master", [], |r| {
        r.get::<_, i64>(0)
    })
    .map_err(|e| unreadable(path, &e))?;
    Ok(conn)
}

fn unreadable(path: &Path, e: &rusqlite::Error) -> HealthError {
    HealthError::Unreadable {
        path: path.to_path_buf(),
        cause: e.to_string(),
    }
}

/// `PRAGMA integrity_check` findings; a check that cannot even run is one finding.
fn integrity(conn: &Connection, path: &Path) -> Result<Vec<String>, HealthError> {
    let run = || -> rusqlite::Result<Vec<String>> {
        let mut stmt = conn.prepare("PRAGMA integrity_check")?;
        let rows = stmt.query_map([], |r| r.get::<_, String>(0))?;
        rows.collect()
    };
    match run() {
        Ok(mut v) => {
            v.retain(|s| s != "ok");
            Ok(v)
        }
        Err(e) if e.sqlite_error_code() == Some(rusqlite::ErrorCode::NotADatabase) => {
            Err(unreadable(path, &e))
        }
        Err(e) => Ok(vec![format!("integrity_check failed: {e}")]),
    }
}

fn feed_summaries(conn: &Connection, version: i64) -> rusqlite::Result<Vec<FeedSummary>> {
    // `check` never migrates: a store from before version 3 has no streak start or listings.
    let sql = if version >= 3 {
        "SELECT k.feed, (SELECT count(*) FROM items i WHERE i.feed = k.feed), f.dirty, f.failures, f.last_error,
                f.failing_since, l.kind, l.listing, l.since, l.broken
         FROM (SELECT feed FROM feed_state UNION SELECT DISTINCT feed FROM items UNION SELECT feed FROM feed_listing) AS k
         LEFT JOIN feed_state f USING (feed) LEFT JOIN feed_listing l USING (feed) ORDER BY k.feed"
    } else {
        "SELECT k.feed, (SELECT count(*) FROM items i WHERE i.feed = k.feed), f.dirty, f.failures, f.last_error,
                NULL, NULL, NULL, NULL, NULL
         FROM (SELECT feed FROM feed_state UNION SELECT DISTINCT feed FROM items) AS k
         LEFT JOIN feed_state f USING (feed) ORDER BY k.feed"
    };
    let mut stmt = conn.prepare(sql)?;
    let ts = |t: Option<i64>| t.and_then(|t| Utc.timestamp_opt(t, 0).single());
    let rows = stmt.query_map([], |r| {
        let listing = match (
            r.get::<_, Option<String>>(6)?
                .as_deref()
                .and_then(MemoryKind::parse),
            r.get::<_, Option<String>>(7)?
                .as_deref()
                .and_then(RememberedListing::from_json),
            ts(r.get(8)?),
        ) {
            (Some(kind), Some(l), Some(since)) => Some(ListingSummary {
                kind,
                card: l.card().to_string(),
                since,
                broken: r.get(9)?,
            }),
            _ => None,
        };
        Ok(FeedSummary {
            feed: r.get(0)?,
            items: r.get(1)?,
            dirty: r.get::<_, Option<i64>>(2)?.unwrap_or(0) != 0,
            failures: r.get::<_, Option<i64>>(3)?.unwrap_or(0),
            last_error: r.get(4)?,
            failing_since: ts(r.get(5)?),
            listing,
        })
    })?;
    rows.collect()
}

/// Copies the readable rows of `table` (columns both stores have) into `fresh`: first in
/// key order, then, after a read error, in reverse key order to reach rows beyond the damage.
fn copy_table(
    old: &Connection,
    fresh: &mut Connection,
    table: &str,
    errors: &mut Vec<String>,
) -> rusqlite::Result<usize> {
    let columns = |c: &Connection| -> rusqlite::Result<Vec<(String, i64)>> {
        let mut stmt = c.prepare(&format!("PRAGMA table_info({table})"))?;
        let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(1)?, r.get::<_, i64>(5)?)))?;
        rows.collect()
    };
    let old_cols = match columns(old) {
        Ok(c) if !c.is_empty() => c,
        Ok(_) => return Ok(0),
        Err(e) => {
            errors.push(format!("{table}: cannot read its columns: {e}"));
            return Ok(0);
        }
    };
    let fresh_cols = columns(fresh)?;
    let shared: Vec<&str> = fresh_cols
        .iter()
        .map(|(n, _)| n.as_str())
        .filter(|n| old_cols.iter().any(|(o, _)| o == n))
        .collect();
    let mut key: Vec<&(String, i64)> = old_cols.iter().filter(|(_, pk)| *pk > 0).collect();
    key.sort_by_key(|(_, pk)| *pk);
    let order = |dir: &str| {
        if key.is_empty() {
            format!("rowid {dir}")
        } else {
            key.iter()
                .map(|(n, _)| format!("\"{n}\" {dir}"))
                .collect::<Vec<_>>()
                .join(", ")
        }
    };
    let list = shared
        .iter()
        .map(|c| format!("\"{c}\""))
        .collect::<Vec<_>>()
        .join(", ");
    let marks = vec!["?"; shared.len()].join(", ");
    let tx = fresh.transaction()?;
    let mut copied = 0;
    {
        let mut insert = tx.prepare(&format!(
            "INSERT OR IGNORE INTO {table} ({list}) VALUES ({marks})"
        ))?;
        for dir in ["ASC", "DESC"] {
            let pass = (|| -> rusqlite::Result<()> {
                let mut select = old.prepare(&format!(
                    "SELECT {list} FROM {table} ORDER BY {}",
                    order(dir)
                ))?;
                let mut rows = select.query([])?;
                while let Some(row) = rows.next()? {
                    let values: Vec<rusqlite::types::Value> = (0..shared.len())
                        .map(|i| row.get(i))
                        .collect::<rusqlite::Result<_>>()?;
                    copied += insert.execute(rusqlite::params_from_iter(values))?;
                }
                Ok(())
            })();
            match pass {
                Ok(()) => break,
                Err(e) => errors.push(format!("{table} ({dir}): {e}")),
            }
        }
    }
    tx.commit()?;
    Ok(copied)
}

/// `path` with `suffix` appended to its file name.
fn sibling(path: &Path, suffix: &str) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(suffix);
    PathBuf::from(s)
}

fn remove_db_files(path: &Path) -> Result<(), HealthError> {
    for suffix in ["", "-wal", "-shm", "-journal"] {
        let p = sibling(path, suffix);
        match std::fs::remove_file(&p) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(source) => return Err(HealthError::Io { path: p, source }),
        }
    }
    Ok(())
}
