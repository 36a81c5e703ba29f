//! The PostgreSQL state: the same tables and schema versions as the SQLite store (plus two
//! coordination tables), shared by any number of runners and servers.
//!
//! The client is `tokio-postgres` with a `deadpool-postgres` pool on a small runtime of the
//! store's own; each [`StateStore`] call sends its statement there and blocks the calling
//! thread until the answer, so the crawl's runtime never waits on the database. Every call
//! is one statement (one round trip; statements are prepared once per connection): a
//! feed's update costs [`StateStore::feed_items`] and [`StateStore::commit`], everything else
//! it needs comes with the host lease or is deferred and batched (marks of written files and
//! host releases).
//!
//! Coordination: `host_leases` has one row per host. A runner takes free (or expired) rows
//! with `FOR UPDATE SKIP LOCKED`, so two runners never take the same host, and crawls the
//! host's due feeds with its own gate; every commit renews its lease and is fenced by it (a
//! runner whose lease expired cannot commit), a heartbeat renews the leases while fetches
//! run, and a runner that dies simply stops renewing: its hosts are free once the lease
//! expires. Releasing a host stores when its next request may start, so the next holder
//! keeps the interval. `feed_runs` records when each feed was last processed, so a feed
//! without a schedule is processed once per round however many runners share the round.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod};
use tokio_postgres::Row;
use tokio_postgres::types::ToSql;

use super::backend::{
    CheckedFeed, FeedCommit, FeedItems, FeedStart, FeedStateRow, HostWant, LeasedFeed, LeasedHost,
    ListingRow, OpenOptions, StateCheck, StateRows, StateStore, redact,
};
use super::pg_tls::{RustlsConnect, Verify};
use super::{
    FailureStreak, FeedState, FeedSummary, RobotsRecord, SCHEMA_VERSION, StoreError, Validators,
};
use crate::heal::{ListingMemory, MemoryKind, RememberedListing};
use crate::model::{ArticleRecord, DateSource, Item};
use crate::schedule::ScheduleState;

/// Schema steps, entry `i` taking the database from version `i` to `i + 1`: the same
/// versions as the SQLite store's `MIGRATIONS` (a test holds the two lists to one length).
/// Append-only, like those.
pub(crate) const PG_MIGRATIONS: &[&str] = &[
    // 0 -> 1: the first schema, and the coordination tables of shared states.
    "CREATE TABLE items (
        feed TEXT NOT NULL, id TEXT NOT NULL, link TEXT NOT NULL, title TEXT NOT NULL,
        author TEXT, read_time BIGINT, teaser TEXT, image TEXT, categories TEXT NOT NULL DEFAULT '',
        published BIGINT NOT NULL, date_source TEXT NOT NULL, updated BIGINT NOT NULL,
        first_seen BIGINT NOT NULL, last_seen BIGINT NOT NULL, position BIGINT NOT NULL DEFAULT 0,
        read_time_estimated BOOLEAN NOT NULL DEFAULT false,
        PRIMARY KEY (feed, id));
     CREATE INDEX items_by_date ON items (feed, published DESC, first_seen DESC, position, id);
     CREATE TABLE http_cache (
        url TEXT PRIMARY KEY, etag TEXT, last_modified TEXT, body_hash TEXT, fetched BIGINT);
     CREATE TABLE robots (
        origin TEXT PRIMARY KEY, status INTEGER NOT NULL, body BYTEA, fetched BIGINT NOT NULL,
        expires BIGINT NOT NULL);
     CREATE TABLE article_meta (
        url TEXT PRIMARY KEY, fetched BIGINT NOT NULL, error TEXT, title TEXT, author TEXT,
        published BIGINT, image TEXT, read_time BIGINT,
        read_time_estimated BOOLEAN NOT NULL DEFAULT false, word_count BIGINT);
     CREATE INDEX article_meta_by_fetched ON article_meta (fetched);
     CREATE TABLE feed_state (
        feed TEXT PRIMARY KEY, render_key TEXT, dirty BOOLEAN NOT NULL DEFAULT false,
        failures INTEGER NOT NULL DEFAULT 0, last_error TEXT, last_ok BIGINT, last_failure BIGINT);
     CREATE TABLE host_leases (
        host TEXT PRIMARY KEY, holder TEXT, lease_until TIMESTAMPTZ, not_before TIMESTAMPTZ);
     CREATE TABLE feed_runs (feed TEXT PRIMARY KEY, done_at TIMESTAMPTZ NOT NULL);",
    // 1 -> 2: when each feed is next due, and what its schedule adapts from (`schedule.rs`).
    "CREATE TABLE schedule (
        feed TEXT PRIMARY KEY, next_due BIGINT NOT NULL, interval_secs BIGINT NOT NULL,
        last_fetch BIGINT NOT NULL, last_success BIGINT, last_change BIGINT,
        failures BIGINT NOT NULL DEFAULT 0, fetches BIGINT NOT NULL DEFAULT 0);",
    // 2 -> 3: when a feed's failure streak began, and the listing each feed remembers (an
    // auto feed's pin or a healed feed's selectors, `crate::heal`).
    "ALTER TABLE feed_state ADD COLUMN failing_since BIGINT;
     CREATE TABLE feed_listing (
        feed TEXT PRIMARY KEY, config_key TEXT NOT NULL, kind TEXT NOT NULL, listing TEXT NOT NULL,
        since BIGINT NOT NULL, broken TEXT);",
];

/// Serialises migrations of concurrent first runs (`pg_advisory_xact_lock` key, "SCFD").
const MIGRATION_LOCK: i64 = 0x5343_4644;
/// Connections per process: store calls come from the blocking pool, a few at a time.
const POOL_SIZE: usize = 8;
/// Deferred marks and releases are flushed once this many wait.
const FLUSH_AT: usize = 64;

const ITEM_COLUMNS: &str = "id, link, title, author, read_time, teaser, image, categories, published, date_source, updated, first_seen, last_seen, position, read_time_estimated";
const SCHEDULE_COLUMNS: &str =
    "next_due, interval_secs, last_fetch, last_success, last_change, failures, fetches";

/// A PostgreSQL state (see the module docs).
pub struct PgStore {
    rt: Option<tokio::runtime::Runtime>,
    db: Db,
    /// This runner's name in `host_leases.holder`.
    holder: String,
    lease_secs: f64,
    book: Mutex<Book>,
}

/// What the store remembers between calls of one runner.
#[derive(Default)]
struct Book {
    /// Leased feeds by id: their host (commits are fenced by its lease).
    host_of: HashMap<String, String>,
    /// What leasing read of each feed; [`StateStore::begin_feed`] takes it.
    prefetched: HashMap<String, FeedStart>,
    /// Written files not yet recorded: (feed, host, render key).
    marks: Vec<(String, String, String)>,
    /// Hosts given back but not yet recorded: (host, seconds until its next request).
    releases: Vec<(String, f64)>,
    /// Database time of the round's start (Unix seconds).
    round_start: Option<f64>,
}

/// The pool and the round-trip counter, cheap to clone into a task.
#[derive(Clone)]
struct Db {
    pool: Pool,
    trips: Arc<AtomicU64>,
    target: Arc<str>,
}

type Params<'a> = &'a [&'a (dyn ToSql + Sync)];

impl Db {
    async fn client(&self) -> Result<deadpool_postgres::Object, StoreError> {
        self.pool.get().await.map_err(|e| StoreError::Postgres {
            target: self.target.to_string(),
            cause: pool_cause(&e),
        })
    }

    /// Runs one prepared statement (preparing it once per connection) and returns its rows.
    async fn query(&self, sql: &str, params: Params<'_>) -> Result<Vec<Row>, StoreError> {
        let client = self.client().await?;
        let before = client.statement_cache.size();
        let stmt = client.prepare_cached(sql).await.map_err(|e| self.err(&e))?;
        if client.statement_cache.size() > before {
            self.trips.fetch_add(1, Ordering::Relaxed);
        }
        self.trips.fetch_add(1, Ordering::Relaxed);
        client.query(&stmt, params).await.map_err(|e| self.err(&e))
    }

    async fn one(&self, sql: &str, params: Params<'_>) -> Result<Option<Row>, StoreError> {
        Ok(self.query(sql, params).await?.into_iter().next())
    }

    fn err(&self, e: &tokio_postgres::Error) -> StoreError {
        StoreError::Postgres {
            target: self.target.to_string(),
            cause: pg_cause(e),
        }
    }
}

/// The server's own message when there is one (tokio-postgres' `Display` says "db error").
fn pg_cause(e: &tokio_postgres::Error) -> String {
    if let Some(db) = e.as_db_error() {
        return format!("{}: {}", db.severity(), db.message());
    }
    let mut s = e.to_string();
    let mut src = std::error::Error::source(e);
    while let Some(c) = src {
        s.push_str(": ");
        s.push_str(&c.to_string());
        src = c.source();
    }
    s
}

fn pool_cause(e: &deadpool_postgres::PoolError) -> String {
    match e {
        deadpool_postgres::PoolError::Backend(pg) => pg_cause(pg),
        other => other.to_string(),
    }
}

fn ts(secs: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(secs, 0).single().unwrap_or_default()
}

fn to_i64(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

impl PgStore {
    /// Connects, checks the database is ours (or empty) and migrates it; one clear error
    /// when the server cannot be reached.
    pub fn connect(url: &str, opts: &OpenOptions) -> Result<PgStore, StoreError> {
        let target = redact(url);
        let unreachable = |cause: String| StoreError::Unreachable {
            target: target.clone(),
            cause,
        };
        let (pg_config, tls) = client_config(url).map_err(&unreachable)?;
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("scifeed-pg")
            .enable_all()
            .build()
            .map_err(|e| unreachable(format!("cannot start the client runtime: {e}")))?;
        let manager = Manager::from_config(
            pg_config,
            tls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = {
            let _guard = rt.enter();
            Pool::builder(manager)
                .max_size(POOL_SIZE)
                .runtime(deadpool_postgres::Runtime::Tokio1)
                .wait_timeout(Some(Duration::from_secs(30)))
                .create_timeout(Some(Duration::from_secs(15)))
                .build()
                .map_err(|e| unreachable(e.to_string()))?
        };
        let store = PgStore {
            db: Db {
                pool,
                trips: Arc::new(AtomicU64::new(0)),
                target: target.clone().into(),
            },
            rt: Some(rt),
            holder: holder_name(),
            lease_secs: opts.lease.as_secs_f64().max(1.0),
            book: Mutex::new(Book::default()),
        };
        let db = store.db.clone();
        store.block(async move {
            let mut client = db.pool.get().await.map_err(|e| StoreError::Unreachable {
                target: db.target.to_string(),
                cause: pool_cause(&e),
            })?;
            migrate(&mut client, PG_MIGRATIONS, &db.target).await
        })?;
        store.start_heartbeat();
        Ok(store)
    }

    /// Runs `fut` on the store's runtime and waits for it; works from any thread, inside an
    /// async context or not.
    fn block<T: Send + 'static>(
        &self,
        fut: impl Future<Output = Result<T, StoreError>> + Send + 'static,
    ) -> Result<T, StoreError> {
        let Some(rt) = &self.rt else {
            return Err(self.gone());
        };
        let (tx, rx) = std::sync::mpsc::sync_channel(1);
        rt.spawn(async move {
            let _ = tx.send(fut.await);
        });
        rx.recv().unwrap_or_else(|_| Err(self.gone()))
    }

    fn gone(&self) -> StoreError {
        StoreError::Postgres {
            target: self.db.target.to_string(),
            cause: "the client runtime stopped".into(),
        }
    }

    /// Renews this runner's leases every third of their length while it lives, so a slow
    /// fetch (retries, Retry-After) never loses its host; a dead runner renews nothing.
    fn start_heartbeat(&self) {
        let Some(rt) = &self.rt else { return };
        let db = self.db.clone();
        let holder = self.holder.clone();
        let secs = self.lease_secs;
        rt.spawn(async move {
            let period = Duration::from_secs_f64((secs / 3.0).max(0.3));
            loop {
                tokio::time::sleep(period).await;
                let r = db
                    .query(
                        "UPDATE host_leases SET lease_until = now() + make_interval(secs => $2)
                         WHERE holder = $1 AND lease_until > now()",
                        &[&holder, &secs],
                    )
                    .await;
                if let Err(e) = r {
                    tracing::debug!("lease heartbeat: {e}");
                }
            }
        });
    }

    fn book(&self) -> MutexGuard<'_, Book> {
        self.book
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The host whose lease fences writes of `feed` (`None`: not leased, not fenced).
    fn fence(&self, feed: &str) -> Option<String> {
        self.book().host_of.get(feed).cloned()
    }

    /// This runner's holder name (for tests and logs).
    pub fn holder(&self) -> &str {
        &self.holder
    }

    /// Sends the deferred marks and releases in one statement.
    fn flush(&self) -> Result<(), StoreError> {
        let (marks, releases) = {
            let mut b = self.book();
            if b.marks.is_empty() && b.releases.is_empty() {
                return Ok(());
            }
            (
                std::mem::take(&mut b.marks),
                std::mem::take(&mut b.releases),
            )
        };
        let db = self.db.clone();
        let holder = self.holder.clone();
        self.block(async move {
            let (mf, mh, mk): (Vec<String>, Vec<String>, Vec<String>) = multiunzip3(marks);
            let (rh, rw): (Vec<String>, Vec<f64>) = releases.into_iter().unzip();
            db.query(
                "WITH marks AS (
                    UPDATE feed_state f SET render_key = m.key, dirty = false
                    FROM unnest($1::text[], $2::text[], $3::text[]) AS m(feed, host, key)
                    WHERE f.feed = m.feed AND EXISTS (
                        SELECT 1 FROM host_leases l WHERE l.host = m.host AND l.holder = $4)
                 ), rel AS (
                    UPDATE host_leases l SET holder = NULL, lease_until = NULL,
                        not_before = now() + make_interval(secs => r.wait)
                    FROM unnest($5::text[], $6::float8[]) AS r(host, wait)
                    WHERE l.host = r.host AND l.holder = $4
                 )
                 SELECT 1",
                &[&mf, &mh, &mk, &holder, &rh, &rw],
            )
            .await
            .map(drop)
        })
    }

    fn queue_flush_if_full(&self) {
        let full = {
            let b = self.book();
            b.marks.len() + b.releases.len() >= FLUSH_AT
        };
        if full && let Err(e) = self.flush() {
            // The marks are only an optimisation (a dirty feed is rewritten from the
            // store); a release not recorded expires with the lease.
            tracing::warn!("cannot record written files and released hosts: {e}");
        }
    }
}

fn multiunzip3(v: Vec<(String, String, String)>) -> (Vec<String>, Vec<String>, Vec<String>) {
    let mut a = Vec::with_capacity(v.len());
    let mut b = Vec::with_capacity(v.len());
    let mut c = Vec::with_capacity(v.len());
    for (x, y, z) in v {
        a.push(x);
        b.push(y);
        c.push(z);
    }
    (a, b, c)
}

impl Drop for PgStore {
    fn drop(&mut self) {
        if let Err(e) = self.end_round() {
            tracing::debug!("releasing leases at exit: {e}");
        }
        // Dropping a runtime may happen inside another runtime's async context (a `Runner`
        // dropped at the end of `run`); shutting it down in the background is allowed there.
        if let Some(rt) = self.rt.take() {
            rt.shutdown_background();
        }
    }
}

/// `host-pid-random`: unique among runners on many machines.
fn holder_name() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .unwrap_or_else(|_| "host".into());
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    format!("{host}-{}-{nanos:08x}", std::process::id())
}

/// The tokio-postgres config and TLS connector for `url`. `sslmode` and `sslrootcert` are
/// read here (tokio-postgres knows only three modes and no root file); the rest of the URL
/// is tokio-postgres' (libpq's URL syntax).
fn client_config(url: &str) -> Result<(tokio_postgres::Config, RustlsConnect), String> {
    let mut parsed = url::Url::parse(url).map_err(|e| format!("not a URL: {e}"))?;
    let mut mode = "prefer".to_string();
    let mut root: Option<std::path::PathBuf> = None;
    let kept: Vec<(String, String)> = parsed
        .query_pairs()
        .filter_map(|(k, v)| match k.as_ref() {
            "sslmode" => {
                mode = v.into_owned();
                None
            }
            "sslrootcert" => {
                root = Some(v.into_owned().into());
                None
            }
            _ => Some((k.into_owned(), v.into_owned())),
        })
        .collect();
    if kept.is_empty() {
        parsed.set_query(None);
    } else {
        parsed.query_pairs_mut().clear().extend_pairs(kept);
    }
    let mut config: tokio_postgres::Config = parsed
        .as_str()
        .parse()
        .map_err(|e: tokio_postgres::Error| pg_cause(&e))?;
    let (ssl, verify) = match mode.as_str() {
        "disable" => (tokio_postgres::config::SslMode::Disable, Verify::Nothing),
        "allow" | "prefer" => (tokio_postgres::config::SslMode::Prefer, Verify::Nothing),
        "require" => (tokio_postgres::config::SslMode::Require, Verify::Nothing),
        "verify-ca" => (tokio_postgres::config::SslMode::Require, Verify::Chain),
        "verify-full" => (tokio_postgres::config::SslMode::Require, Verify::Full),
        other => {
            return Err(format!(
                "unknown sslmode `{other}` (disable, prefer, require, verify-ca or verify-full)"
            ));
        }
    };
    config.ssl_mode(ssl);
    if config.get_connect_timeout().is_none() {
        config.connect_timeout(Duration::from_secs(10));
    }
    if config.get_application_name().is_none() {
        config.application_name("scifeed");
    }
    let tls = RustlsConnect::new(verify, root.as_deref())?;
    Ok((config, tls))
}

/// Brings the database to `steps.len()`, one transaction per step under an advisory lock
/// (concurrent first runs wait for each other). Refuses a database that holds another
/// program's `items` table or a newer scifeed's schema.
async fn migrate(
    client: &mut deadpool_postgres::Object,
    steps: &[&str],
    target: &str,
) -> Result<(), StoreError> {
    let err = |e: tokio_postgres::Error| StoreError::Postgres {
        target: target.to_string(),
        cause: pg_cause(&e),
    };
    loop {
        let tx = client.transaction().await.map_err(err)?;
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
            .await
            .map_err(err)?;
        let has_meta: bool = tx
            .query_one("SELECT to_regclass('scifeed_schema') IS NOT NULL", &[])
            .await
            .map_err(err)?
            .get(0);
        let version: i64 = if has_meta {
            tx.query_one("SELECT version FROM scifeed_schema", &[])
                .await
                .map_err(err)?
                .get(0)
        } else {
            let foreign: bool = tx
                .query_one("SELECT to_regclass('items') IS NOT NULL", &[])
                .await
                .map_err(err)?
                .get(0);
            if foreign {
                return Err(StoreError::PgForeign {
                    target: target.to_string(),
                });
            }
            tx.batch_execute(
                "CREATE TABLE scifeed_schema (version BIGINT NOT NULL);
                 INSERT INTO scifeed_schema VALUES (0);",
            )
            .await
            .map_err(err)?;
            0
        };
        if version > to_i64(steps.len()).max(SCHEMA_VERSION) {
            return Err(StoreError::PgTooNew {
                target: target.to_string(),
                found: version,
            });
        }
        let Some(step) = usize::try_from(version).ok().and_then(|v| steps.get(v)) else {
            tx.commit().await.map_err(err)?;
            return Ok(());
        };
        tx.batch_execute(step).await.map_err(err)?;
        tx.execute("UPDATE scifeed_schema SET version = $1", &[&(version + 1)])
            .await
            .map_err(err)?;
        tx.commit().await.map_err(err)?;
    }
}

fn row_to_item(r: &Row, at: usize) -> Item {
    let cats: String = r.get(at + 7);
    let source: String = r.get(at + 9);
    Item {
        id: r.get(at),
        link: r.get(at + 1),
        title: r.get(at + 2),
        authors: super::decode_authors(r.get(at + 3)),
        read_time: r
            .get::<_, Option<i64>>(at + 4)
            .and_then(|v| u32::try_from(v).ok()),
        teaser: r.get(at + 5),
        image: r.get(at + 6),
        categories: if cats.is_empty() {
            Vec::new()
        } else {
            cats.split('\u{1f}').map(str::to_string).collect()
        },
        published: ts(r.get(at + 8)),
        date_source: DateSource::parse(&source).unwrap_or(DateSource::FirstSeen),
        updated: ts(r.get(at + 10)),
        first_seen: ts(r.get(at + 11)),
        last_seen: ts(r.get(at + 12)),
        position: u32::try_from(r.get::<_, i64>(at + 13)).unwrap_or(0),
        read_time_estimated: r.get(at + 14),
    }
}

/// `None` when the row's schedule columns are NULL (a LEFT JOIN found no schedule).
fn row_to_schedule(r: &Row, at: usize) -> Option<ScheduleState> {
    let next_due: Option<i64> = r.get(at);
    Some(ScheduleState {
        next_due: ts(next_due?),
        interval: Duration::from_secs(r.get::<_, i64>(at + 1).max(0).unsigned_abs()),
        last_fetch: ts(r.get(at + 2)),
        last_success: r.get::<_, Option<i64>>(at + 3).map(ts),
        last_change: r.get::<_, Option<i64>>(at + 4).map(ts),
        failures: u32::try_from(r.get::<_, i64>(at + 5)).unwrap_or(u32::MAX),
        fetches: r.get::<_, i64>(at + 6).max(0).unsigned_abs(),
    })
}

/// Validators, feed state and remembered listing from the [`START_COLUMNS`] at `at`
/// (NULLs: defaults).
fn row_to_start(r: &Row, sched_at: usize, at: usize) -> FeedStart {
    FeedStart {
        memory: row_to_memory(r, at + 8),
        schedule: row_to_schedule(r, sched_at),
        validators: Validators {
            etag: r.get(at),
            last_modified: r.get(at + 1),
            body_hash: r.get(at + 2),
        },
        state: FeedState {
            render_key: r.get(at + 3),
            dirty: r.get::<_, Option<bool>>(at + 4).unwrap_or(false),
            failures: r
                .get::<_, Option<i32>>(at + 5)
                .map_or(0, |f| u32::try_from(f).unwrap_or(0)),
            last_error: r.get(at + 6),
            failing_since: r.get::<_, Option<i64>>(at + 7).map(ts),
        },
    }
}

/// What [`row_to_start`] reads after the schedule: from `http_cache h`, `feed_state st`
/// and `feed_listing l`.
const START_COLUMNS: &str = "h.etag, h.last_modified, h.body_hash, st.render_key, st.dirty,
    st.failures, st.last_error, st.failing_since, l.config_key, l.kind, l.listing, l.since,
    l.broken";

/// A remembered listing from five columns at `at`; one this scifeed cannot read is none
/// (the feed then pins or heals again), as on SQLite.
fn row_to_memory(r: &Row, at: usize) -> Option<ListingMemory> {
    let config_key: Option<String> = r.get(at);
    let kind: Option<String> = r.get(at + 1);
    let listing: Option<String> = r.get(at + 2);
    Some(ListingMemory {
        config_key: config_key?,
        kind: MemoryKind::parse(&kind?)?,
        listing: RememberedListing::from_json(&listing?)?,
        since: ts(r.get::<_, Option<i64>>(at + 3)?),
        broken: r.get(at + 4),
    })
}

/// A schedule as statement parameters (present flag and seven columns).
struct SchedParams {
    some: bool,
    cols: [Option<i64>; 7],
}

fn sched_params(s: Option<&ScheduleState>) -> SchedParams {
    match s {
        None => SchedParams {
            some: false,
            cols: [None; 7],
        },
        Some(s) => SchedParams {
            some: true,
            cols: [
                Some(s.next_due.timestamp()),
                Some(i64::try_from(s.interval.as_secs()).unwrap_or(i64::MAX)),
                Some(s.last_fetch.timestamp()),
                s.last_success.map(|t| t.timestamp()),
                s.last_change.map(|t| t.timestamp()),
                Some(i64::from(s.failures)),
                Some(i64::try_from(s.fetches).unwrap_or(i64::MAX)),
            ],
        },
    }
}

/// The fence of a write: `ok` has a row when the write may happen (the feed's host is
/// leased by this runner, renewed here, or the feed is not leased at all). `$2` host
/// (NULL: no fence), `$3` holder, `$4` lease seconds.
const FENCE: &str = "renewed AS (
        UPDATE host_leases SET lease_until = now() + make_interval(secs => $4)
        WHERE $2::text IS NOT NULL AND host = $2 AND holder = $3 RETURNING host),
     ok AS (SELECT 1 AS ok WHERE $2::text IS NULL OR EXISTS (SELECT 1 FROM renewed))";

/// Upsert of a schedule from `$s..$s+7` when `$f` is true and the fence holds.
fn schedule_upsert(flag: usize, first: usize) -> String {
    let p: Vec<String> = (first..first + 7).map(|i| format!("${i}")).collect();
    format!(
        "sch AS (
            INSERT INTO schedule (feed, {SCHEDULE_COLUMNS})
            SELECT $1, {}::bigint, {}::bigint, {}::bigint, {}::bigint, {}::bigint, {}::bigint, {}::bigint
            WHERE ${flag}::bool AND EXISTS (SELECT 1 FROM ok)
            ON CONFLICT (feed) DO UPDATE SET next_due = excluded.next_due,
                interval_secs = excluded.interval_secs, last_fetch = excluded.last_fetch,
                last_success = excluded.last_success, last_change = excluded.last_change,
                failures = excluded.failures, fetches = excluded.fetches)",
        p[0], p[1], p[2], p[3], p[4], p[5], p[6]
    )
}

/// Records that the feed was processed now (once per round across runners).
const RUN_DONE: &str = "run AS (
        INSERT INTO feed_runs (feed, done_at) SELECT $1, now() WHERE EXISTS (SELECT 1 FROM ok)
        ON CONFLICT (feed) DO UPDATE SET done_at = excluded.done_at)";

impl StateStore for PgStore {
    fn describe(&self) -> String {
        self.db.target.to_string()
    }

    fn shared(&self) -> bool {
        true
    }

    fn round_trips(&self) -> Option<u64> {
        Some(self.db.trips.load(Ordering::Relaxed))
    }

    fn items_by_ids(
        &self,
        feed: &str,
        ids: &[String],
    ) -> Result<HashMap<String, Item>, StoreError> {
        Ok(self.feed_items(feed, ids, 0)?.known)
    }

    fn top_items(&self, feed: &str, n: usize) -> Result<Vec<Item>, StoreError> {
        let (db, feed) = (self.db.clone(), feed.to_string());
        self.block(async move {
            let rows = db
                .query(
                    &format!(
                        "SELECT {ITEM_COLUMNS} FROM items WHERE feed = $1
                         ORDER BY published DESC, first_seen DESC, position ASC, id ASC LIMIT $2"
                    ),
                    &[&feed, &to_i64(n)],
                )
                .await?;
            Ok(rows.iter().map(|r| row_to_item(r, 0)).collect())
        })
    }

    fn count_items(&self, feed: &str) -> Result<usize, StoreError> {
        let (db, feed) = (self.db.clone(), feed.to_string());
        self.block(async move {
            let row = db
                .one("SELECT count(*) FROM items WHERE feed = $1", &[&feed])
                .await?;
            Ok(row.map_or(0, |r| usize::try_from(r.get::<_, i64>(0)).unwrap_or(0)))
        })
    }

    fn feed_items(&self, feed: &str, ids: &[String], top: usize) -> Result<FeedItems, StoreError> {
        let (db, feed, ids) = (self.db.clone(), feed.to_string(), ids.to_vec());
        self.block(async move {
            // One statement: the known items (kind 0), the newest `top` (kind 1), and the
            // count on every row (and on a row of its own, so an empty feed says 0).
            let rows = db
                .query(
                    &format!(
                        "WITH n AS (SELECT count(*) AS total FROM items WHERE feed = $1)
                         SELECT 0, (SELECT total FROM n), {ITEM_COLUMNS} FROM items
                           WHERE feed = $1 AND id = ANY($2)
                         UNION ALL
                         (SELECT 1, (SELECT total FROM n), {ITEM_COLUMNS} FROM items WHERE feed = $1
                           ORDER BY published DESC, first_seen DESC, position ASC, id ASC LIMIT $3)
                         UNION ALL
                         SELECT 2, total, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
                                NULL, NULL, NULL, NULL, NULL FROM n"
                    ),
                    &[&feed, &ids, &to_i64(top)],
                )
                .await?;
            let mut out = FeedItems::default();
            for r in &rows {
                let kind: i32 = r.get(0);
                out.total = usize::try_from(r.get::<_, i64>(1)).unwrap_or(0);
                match kind {
                    0 => {
                        let item = row_to_item(r, 2);
                        out.known.insert(item.id.clone(), item);
                    }
                    1 => out.top.push(row_to_item(r, 2)),
                    _ => {}
                }
            }
            Ok(out)
        })
    }

    fn validators(&self, key: &str) -> Result<Validators, StoreError> {
        let (db, key) = (self.db.clone(), key.to_string());
        self.block(async move {
            let row = db
                .one(
                    "SELECT etag, last_modified, body_hash FROM http_cache WHERE url = $1",
                    &[&key],
                )
                .await?;
            Ok(row.map_or_else(Validators::default, |r| Validators {
                etag: r.get(0),
                last_modified: r.get(1),
                body_hash: r.get(2),
            }))
        })
    }

    fn feed_state(&self, feed: &str) -> Result<FeedState, StoreError> {
        let (db, feed) = (self.db.clone(), feed.to_string());
        self.block(async move {
            let row = db
                .one(
                    "SELECT render_key, dirty, failures, last_error, failing_since
                     FROM feed_state WHERE feed = $1",
                    &[&feed],
                )
                .await?;
            Ok(row.map_or_else(FeedState::default, |r| FeedState {
                render_key: r.get(0),
                dirty: r.get(1),
                failures: u32::try_from(r.get::<_, i32>(2)).unwrap_or(0),
                last_error: r.get(3),
                failing_since: r.get::<_, Option<i64>>(4).map(ts),
            }))
        })
    }

    fn schedule(&self, feed: &str) -> Result<Option<ScheduleState>, StoreError> {
        let (db, feed) = (self.db.clone(), feed.to_string());
        self.block(async move {
            let row = db
                .one(
                    &format!("SELECT {SCHEDULE_COLUMNS} FROM schedule WHERE feed = $1"),
                    &[&feed],
                )
                .await?;
            Ok(row.and_then(|r| row_to_schedule(&r, 0)))
        })
    }

    fn schedule_states(&self) -> Result<BTreeMap<String, ScheduleState>, StoreError> {
        let db = self.db.clone();
        self.block(async move {
            let rows = db
                .query(
                    &format!("SELECT feed, {SCHEDULE_COLUMNS} FROM schedule"),
                    &[],
                )
                .await?;
            Ok(rows
                .iter()
                .filter_map(|r| Some((r.get::<_, String>(0), row_to_schedule(r, 1)?)))
                .collect())
        })
    }

    fn feed_summaries(
        &self,
        only: Option<&[String]>,
    ) -> Result<HashMap<String, FeedSummary>, StoreError> {
        let db = self.db.clone();
        let only: Option<Vec<String>> = only.map(<[String]>::to_vec);
        self.block(async move {
            let filter = if only.is_some() { "WHERE feed = ANY($1)" } else { "" };
            let ids = only.clone().unwrap_or_default();
            let params: Params<'_> = if only.is_some() { &[&ids] } else { &[] };
            let mut out: HashMap<String, FeedSummary> = HashMap::new();
            // The same reading as SQLite's (`Store::feed_summaries`): an update sets `updated`
            // after `published`; before that `updated` is the page's date.
            let rows = db
                .query(
                    &format!(
                        "SELECT feed, count(*),
                                max(GREATEST(first_seen, CASE WHEN updated > published THEN updated ELSE first_seen END)),
                                max(first_seen), max(updated), max(last_seen)
                         FROM items {filter} GROUP BY feed"
                    ),
                    params,
                )
                .await?;
            for r in &rows {
                let n: i64 = r.get(1);
                let s = out.entry(r.get(0)).or_default();
                s.items = usize::try_from(n).unwrap_or(0);
                s.last_change = Some(ts(r.get(2)));
                s.fingerprint = super::fingerprint(&[n, r.get(3), r.get(4), r.get(5)]);
            }
            let rows = db
                .query(
                    &format!(
                        "SELECT feed, dirty, failures, last_error, last_ok, last_failure, failing_since
                         FROM feed_state {filter}"
                    ),
                    params,
                )
                .await?;
            for r in &rows {
                let s = out.entry(r.get(0)).or_default();
                let dirty = i64::from(r.get::<_, bool>(1));
                s.fingerprint =
                    super::fingerprint(&[i64::from_le_bytes(s.fingerprint.to_le_bytes()), dirty]);
                s.failures = u32::try_from(r.get::<_, i32>(2)).unwrap_or(0);
                s.last_error = r.get(3);
                s.last_ok = r.get::<_, Option<i64>>(4).map(ts);
                s.last_failure = r.get::<_, Option<i64>>(5).map(ts);
                s.failing_since = r.get::<_, Option<i64>>(6).map(ts);
            }
            for id in ids {
                out.entry(id).or_default();
            }
            Ok(out)
        })
    }

    fn feeds_fetched_since(&self, since: DateTime<Utc>) -> Result<Vec<String>, StoreError> {
        let db = self.db.clone();
        self.block(async move {
            Ok(db
                .query(
                    "SELECT feed FROM feed_state WHERE last_ok >= $1 OR last_failure >= $1",
                    &[&since.timestamp()],
                )
                .await?
                .iter()
                .map(|r| r.get(0))
                .collect())
        })
    }

    fn feed_states(&self) -> Result<HashMap<String, FeedState>, StoreError> {
        let db = self.db.clone();
        self.block(async move {
            Ok(db
                .query(
                    "SELECT feed, render_key, dirty, failures, last_error, failing_since
                     FROM feed_state",
                    &[],
                )
                .await?
                .iter()
                .map(|r| {
                    (
                        r.get(0),
                        FeedState {
                            render_key: r.get(1),
                            dirty: r.get(2),
                            failures: u32::try_from(r.get::<_, i32>(3)).unwrap_or(0),
                            last_error: r.get(4),
                            failing_since: r.get::<_, Option<i64>>(5).map(ts),
                        },
                    )
                })
                .collect())
        })
    }

    fn begin_feed(&self, feed: &str, key: &str) -> Result<FeedStart, StoreError> {
        if let Some(start) = self.book().prefetched.remove(feed) {
            return Ok(start);
        }
        let (db, feed, key) = (self.db.clone(), feed.to_string(), key.to_string());
        self.block(async move {
            let row = db
                .one(
                    &format!(
                        "SELECT {}, {START_COLUMNS}
                         FROM (SELECT 1) AS one
                         LEFT JOIN schedule s ON s.feed = $1
                         LEFT JOIN http_cache h ON h.url = $2
                         LEFT JOIN feed_state st ON st.feed = $1
                         LEFT JOIN feed_listing l ON l.feed = $1",
                        prefixed("s", SCHEDULE_COLUMNS)
                    ),
                    &[&feed, &key],
                )
                .await?;
            Ok(row.map_or_else(FeedStart::default, |r| row_to_start(&r, 0, 7)))
        })
    }

    fn commit(&self, c: &FeedCommit<'_>) -> Result<usize, StoreError> {
        let host = self.fence(c.feed);
        let n = c.upserts.len();
        let mut cols = ItemColumns::with_capacity(n);
        for i in c.upserts {
            cols.push(i);
        }
        let (vk, ve, vl, vh) = {
            let mut k = Vec::new();
            let mut e = Vec::new();
            let mut l = Vec::new();
            let mut h = Vec::new();
            for (key, v) in c.validators {
                k.push(key.clone());
                e.push(v.etag.clone());
                l.push(v.last_modified.clone());
                h.push(v.body_hash.clone());
            }
            (k, e, l, h)
        };
        let sched = sched_params(c.schedule);
        let (keep, cutoff) = match c.prune {
            Some((keep, days)) => (
                Some(to_i64(keep)),
                c.now.timestamp() - i64::from(days) * 86_400,
            ),
            None => (None, 0),
        };
        let (db, feed, holder, lease) = (
            self.db.clone(),
            c.feed.to_string(),
            self.holder.clone(),
            self.lease_secs,
        );
        let (dirty, now) = (c.dirty, c.now.timestamp());
        let host2 = host.clone();
        let total = self.block(async move {
            let sql = format!(
                "WITH {FENCE},
                 up AS (
                    INSERT INTO items (feed, {ITEM_COLUMNS})
                    SELECT $1, u.* FROM unnest($5::text[], $6::text[], $7::text[], $8::text[],
                        $9::bigint[], $10::text[], $11::text[], $12::text[], $13::bigint[], $14::text[],
                        $15::bigint[], $16::bigint[], $17::bigint[], $18::bigint[], $19::bool[])
                        AS u({ITEM_COLUMNS})
                    WHERE EXISTS (SELECT 1 FROM ok)
                    ON CONFLICT (feed, id) DO UPDATE SET
                        link = excluded.link, title = excluded.title, author = excluded.author,
                        read_time = excluded.read_time, teaser = excluded.teaser, image = excluded.image,
                        categories = excluded.categories, updated = excluded.updated,
                        last_seen = excluded.last_seen, read_time_estimated = excluded.read_time_estimated
                    RETURNING (xmax = 0) AS inserted),
                 val AS (
                    INSERT INTO http_cache (url, etag, last_modified, body_hash, fetched)
                    SELECT v.url, v.etag, v.lm, v.bh, $25
                    FROM unnest($20::text[], $21::text[], $22::text[], $23::text[]) AS v(url, etag, lm, bh)
                    WHERE EXISTS (SELECT 1 FROM ok)
                    ON CONFLICT (url) DO UPDATE SET etag = excluded.etag,
                        last_modified = excluded.last_modified, body_hash = excluded.body_hash,
                        fetched = excluded.fetched),
                 st AS (
                    INSERT INTO feed_state (feed, dirty, failures, last_ok)
                    SELECT $1, $24, 0, $25 WHERE EXISTS (SELECT 1 FROM ok)
                    ON CONFLICT (feed) DO UPDATE SET dirty = feed_state.dirty OR excluded.dirty,
                        failures = 0, last_error = NULL, last_ok = excluded.last_ok,
                        failing_since = NULL),
                 {},
                 {RUN_DONE},
                 pruned AS (
                    DELETE FROM items WHERE feed = $1 AND $34::bigint IS NOT NULL
                      AND EXISTS (SELECT 1 FROM ok)
                      AND last_seen < $35 AND NOT (id = ANY($5))
                      AND (SELECT count(*) FROM items WHERE feed = $1) > $34
                      AND id NOT IN (SELECT id FROM items WHERE feed = $1
                          ORDER BY published DESC, first_seen DESC, position ASC, id ASC LIMIT $34)
                    RETURNING 1)
                 SELECT (SELECT count(*) FROM ok), (SELECT count(*) FROM items WHERE feed = $1),
                        (SELECT count(*) FROM up WHERE inserted), (SELECT count(*) FROM pruned)",
                schedule_upsert(26, 27)
            );
            let s = &sched.cols;
            let row = db
                .one(
                    &sql,
                    &[
                        &feed, &host2, &holder, &lease, &cols.id, &cols.link, &cols.title,
                        &cols.author, &cols.read_time, &cols.teaser, &cols.image,
                        &cols.categories, &cols.published, &cols.date_source, &cols.updated,
                        &cols.first_seen, &cols.last_seen, &cols.position, &cols.estimated, &vk,
                        &ve, &vl, &vh, &dirty, &now, &sched.some, &s[0], &s[1], &s[2], &s[3],
                        &s[4], &s[5], &s[6], &keep, &cutoff,
                    ],
                )
                .await?;
            let Some(r) = row else {
                return Ok(None);
            };
            if r.get::<_, i64>(0) == 0 {
                return Ok(None);
            }
            let total = r.get::<_, i64>(1) + r.get::<_, i64>(2) - r.get::<_, i64>(3);
            Ok(Some(usize::try_from(total).unwrap_or(0)))
        })?;
        total.ok_or_else(|| StoreError::LeaseLost {
            host: host.unwrap_or_default(),
        })
    }

    fn mark_written(&self, feed: &str, render_key: &str) -> Result<(), StoreError> {
        if let Some(host) = self.fence(feed) {
            self.book()
                .marks
                .push((feed.to_string(), host, render_key.to_string()));
            self.queue_flush_if_full();
            return Ok(());
        }
        let (db, feed, key) = (self.db.clone(), feed.to_string(), render_key.to_string());
        self.block(async move {
            db.query(
                "INSERT INTO feed_state (feed, render_key, dirty, failures) VALUES ($1, $2, false, 0)
                 ON CONFLICT (feed) DO UPDATE SET render_key = excluded.render_key, dirty = false",
                &[&feed, &key],
            )
            .await
            .map(drop)
        })
    }

    fn record_failure(
        &self,
        feed: &str,
        error: &str,
        now: DateTime<Utc>,
        schedule: Option<&ScheduleState>,
    ) -> Result<FailureStreak, StoreError> {
        let host = self.fence(feed);
        let sched = sched_params(schedule);
        let (db, feed, holder, lease, error) = (
            self.db.clone(),
            feed.to_string(),
            self.holder.clone(),
            self.lease_secs,
            error.to_string(),
        );
        let host2 = host.clone();
        let streak = self.block(async move {
            // A streak begins at the first failure after a success (as on SQLite).
            let sql = format!(
                "WITH {FENCE},
                 st AS (
                    INSERT INTO feed_state (feed, failures, last_error, last_failure, failing_since)
                    SELECT $1, 1, $5, $6, $6 WHERE EXISTS (SELECT 1 FROM ok)
                    ON CONFLICT (feed) DO UPDATE SET failures = feed_state.failures + 1,
                        last_error = excluded.last_error, last_failure = excluded.last_failure,
                        failing_since = CASE WHEN feed_state.failures = 0
                            THEN excluded.failing_since ELSE feed_state.failing_since END
                    RETURNING failures, failing_since),
                 {},
                 {RUN_DONE}
                 SELECT failures, failing_since FROM st",
                schedule_upsert(7, 8)
            );
            let s = &sched.cols;
            let row = db
                .one(
                    &sql,
                    &[
                        &feed,
                        &host2,
                        &holder,
                        &lease,
                        &error,
                        &now.timestamp(),
                        &sched.some,
                        &s[0],
                        &s[1],
                        &s[2],
                        &s[3],
                        &s[4],
                        &s[5],
                        &s[6],
                    ],
                )
                .await?;
            Ok(row.map(|r| FailureStreak {
                failures: u32::try_from(r.get::<_, i32>(0)).unwrap_or(u32::MAX),
                since: r.get::<_, Option<i64>>(1).map(ts),
            }))
        })?;
        streak.ok_or_else(|| StoreError::LeaseLost {
            host: host.unwrap_or_default(),
        })
    }

    fn item_ids(&self, feed: &str) -> Result<HashSet<String>, StoreError> {
        let (db, feed) = (self.db.clone(), feed.to_string());
        self.block(async move {
            Ok(db
                .query("SELECT id FROM items WHERE feed = $1", &[&feed])
                .await?
                .iter()
                .map(|r| r.get(0))
                .collect())
        })
    }

    fn listing_memory(&self, feed: &str) -> Result<Option<ListingMemory>, StoreError> {
        let (db, feed) = (self.db.clone(), feed.to_string());
        self.block(async move {
            let row = db
                .one(
                    "SELECT config_key, kind, listing, since, broken FROM feed_listing WHERE feed = $1",
                    &[&feed],
                )
                .await?;
            Ok(row.and_then(|r| row_to_memory(&r, 0)))
        })
    }

    fn remember_listing(&self, feed: &str, m: &ListingMemory) -> Result<(), StoreError> {
        let (db, feed) = (self.db.clone(), feed.to_string());
        let (key, kind, listing, since, broken) = (
            m.config_key.clone(),
            m.kind.as_str().to_string(),
            m.listing.to_json(),
            m.since.timestamp(),
            m.broken.clone(),
        );
        self.block(async move {
            db.query(
                "INSERT INTO feed_listing (feed, config_key, kind, listing, since, broken)
                 VALUES ($1, $2, $3, $4, $5, $6)
                 ON CONFLICT (feed) DO UPDATE SET config_key = excluded.config_key,
                    kind = excluded.kind, listing = excluded.listing, since = excluded.since,
                    broken = excluded.broken",
                &[&feed, &key, &kind, &listing, &since, &broken],
            )
            .await
            .map(drop)
        })
    }

    fn forget_listing(&self, feed: &str) -> Result<(), StoreError> {
        let (db, feed) = (self.db.clone(), feed.to_string());
        self.block(async move {
            db.query("DELETE FROM feed_listing WHERE feed = $1", &[&feed])
                .await
                .map(drop)
        })
    }

    fn record_not_modified(
        &self,
        feed: &str,
        _now: DateTime<Utc>,
        schedule: Option<&ScheduleState>,
    ) -> Result<usize, StoreError> {
        let host = self.fence(feed);
        let sched = sched_params(schedule);
        let (db, feed, holder, lease) = (
            self.db.clone(),
            feed.to_string(),
            self.holder.clone(),
            self.lease_secs,
        );
        let host2 = host.clone();
        let total = self.block(async move {
            let sql = format!(
                "WITH {FENCE},
                 {},
                 {RUN_DONE}
                 SELECT (SELECT count(*) FROM ok), (SELECT count(*) FROM items WHERE feed = $1)",
                schedule_upsert(5, 6)
            );
            let s = &sched.cols;
            let row = db
                .one(
                    &sql,
                    &[
                        &feed,
                        &host2,
                        &holder,
                        &lease,
                        &sched.some,
                        &s[0],
                        &s[1],
                        &s[2],
                        &s[3],
                        &s[4],
                        &s[5],
                        &s[6],
                    ],
                )
                .await?;
            Ok(row
                .filter(|r| r.get::<_, i64>(0) > 0)
                .map(|r| usize::try_from(r.get::<_, i64>(1)).unwrap_or(0)))
        })?;
        total.ok_or_else(|| StoreError::LeaseLost {
            host: host.unwrap_or_default(),
        })
    }

    fn save_schedule(&self, feed: &str, schedule: &ScheduleState) -> Result<(), StoreError> {
        let sched = sched_params(Some(schedule));
        let (db, feed) = (self.db.clone(), feed.to_string());
        self.block(async move {
            let s = &sched.cols;
            db.query(
                &format!(
                    "INSERT INTO schedule (feed, {SCHEDULE_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
                     ON CONFLICT (feed) DO UPDATE SET next_due = excluded.next_due,
                        interval_secs = excluded.interval_secs, last_fetch = excluded.last_fetch,
                        last_success = excluded.last_success, last_change = excluded.last_change,
                        failures = excluded.failures, fetches = excluded.fetches"
                ),
                &[&feed, &s[0], &s[1], &s[2], &s[3], &s[4], &s[5], &s[6]],
            )
            .await
            .map(drop)
        })
    }

    fn article(&self, url: &str) -> Result<Option<ArticleRecord>, StoreError> {
        let (db, url) = (self.db.clone(), url.to_string());
        self.block(async move {
            let row = db
                .one(
                    "SELECT fetched, error, title, author, published, image, read_time,
                            read_time_estimated, word_count
                     FROM article_meta WHERE url = $1",
                    &[&url],
                )
                .await?;
            Ok(row.map(|r| row_to_article(&r, 0)))
        })
    }

    fn save_article(&self, url: &str, rec: &ArticleRecord) -> Result<(), StoreError> {
        let (db, url, rec) = (self.db.clone(), url.to_string(), rec.clone());
        self.block(async move { put_article(&db, &url, &rec).await })
    }

    fn robots(&self, origin: &str) -> Result<Option<RobotsRecord>, StoreError> {
        let (db, origin) = (self.db.clone(), origin.to_string());
        self.block(async move {
            let row = db
                .one(
                    "SELECT status, body, fetched, expires FROM robots WHERE origin = $1",
                    &[&origin],
                )
                .await?;
            Ok(row.map(|r| RobotsRecord {
                origin: origin.clone(),
                status: u16::try_from(r.get::<_, i32>(0)).unwrap_or(0),
                body: r.get::<_, Option<Vec<u8>>>(1).unwrap_or_default(),
                fetched: ts(r.get(2)),
                expires: ts(r.get(3)),
            }))
        })
    }

    fn save_robots(&self, record: &RobotsRecord) -> Result<(), StoreError> {
        let (db, rec) = (self.db.clone(), record.clone());
        self.block(async move { put_robots(&db, &rec).await })
    }

    fn begin_round(&self) -> Result<(), StoreError> {
        self.flush()?;
        let db = self.db.clone();
        let start = self.block(async move {
            let row = db
                .one("SELECT extract(epoch FROM now())::float8", &[])
                .await?;
            Ok(row.map(|r| r.get::<_, f64>(0)))
        })?;
        self.book().round_start = start;
        Ok(())
    }

    fn lease_hosts(&self, wants: &[HostWant], max: usize) -> Result<Vec<LeasedHost>, StoreError> {
        if wants.is_empty() || max == 0 {
            return Ok(Vec::new());
        }
        // Bookkeeping first (frees hosts this runner is done with), so the lease sees it.
        self.flush()?;
        let hosts: Vec<String> = wants.iter().map(|w| w.host.clone()).collect();
        let (db, holder, lease) = (self.db.clone(), self.holder.clone(), self.lease_secs);
        let max = to_i64(max);
        let granted: Vec<(String, Option<f64>)> = self.block(async move {
            let rows = db
                .query(
                    "WITH want AS (SELECT h, ord FROM unnest($1::text[]) WITH ORDINALITY AS w(h, ord)),
                     free AS (
                        SELECT l.host FROM host_leases l JOIN want ON want.h = l.host
                        WHERE l.holder IS NULL OR l.lease_until IS NULL OR l.lease_until < now()
                        ORDER BY want.ord LIMIT $4
                        FOR UPDATE OF l SKIP LOCKED),
                     took AS (
                        UPDATE host_leases l SET holder = $2,
                            lease_until = now() + make_interval(secs => $3)
                        FROM free WHERE l.host = free.host
                        RETURNING l.host, l.not_before),
                     fresh AS (
                        INSERT INTO host_leases (host, holder, lease_until)
                        SELECT h, $2, now() + make_interval(secs => $3) FROM want
                        WHERE NOT EXISTS (SELECT 1 FROM host_leases x WHERE x.host = want.h)
                        ORDER BY ord LIMIT greatest(0, $4 - (SELECT count(*) FROM took))
                        ON CONFLICT (host) DO NOTHING
                        RETURNING host, not_before)
                     SELECT host, extract(epoch FROM not_before - now())::float8 FROM took
                     UNION ALL
                     SELECT host, extract(epoch FROM not_before - now())::float8 FROM fresh",
                    &[&hosts, &holder, &lease, &max],
                )
                .await?;
            Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
        })?;
        if granted.is_empty() {
            return Ok(Vec::new());
        }
        let by_host: HashMap<&str, &HostWant> =
            wants.iter().map(|w| (w.host.as_str(), w)).collect();
        let (mut ids, mut hs, mut keys) = (Vec::new(), Vec::new(), Vec::new());
        for (h, _) in &granted {
            if let Some(w) = by_host.get(h.as_str()) {
                for (id, key) in &w.feeds {
                    ids.push(id.clone());
                    hs.push(h.clone());
                    keys.push(key.clone());
                }
            }
        }
        let round_start = self.book().round_start;
        let db = self.db.clone();
        let ids2 = ids.clone();
        // A second statement, after the lease committed: it sees everything the host's
        // previous holder committed before it let go.
        let rows: Vec<(String, FeedStart, bool)> = self.block(async move {
            let rows = db
                .query(
                    &format!(
                        "SELECT f.feed, {}, {START_COLUMNS},
                                coalesce(r.done_at >= to_timestamp($4), false)
                         FROM unnest($1::text[], $2::text[], $3::text[]) AS f(feed, host, vkey)
                         LEFT JOIN schedule s ON s.feed = f.feed
                         LEFT JOIN http_cache h ON h.url = f.vkey
                         LEFT JOIN feed_state st ON st.feed = f.feed
                         LEFT JOIN feed_listing l ON l.feed = f.feed
                         LEFT JOIN feed_runs r ON r.feed = f.feed",
                        prefixed("s", SCHEDULE_COLUMNS)
                    ),
                    &[&ids2, &hs, &keys, &round_start.unwrap_or(f64::INFINITY)],
                )
                .await?;
            Ok(rows
                .iter()
                .map(|r| {
                    (
                        r.get::<_, String>(0),
                        row_to_start(r, 1, 8),
                        r.get::<_, bool>(21),
                    )
                })
                .collect())
        })?;
        let mut starts: HashMap<String, (FeedStart, bool)> =
            rows.into_iter().map(|(id, s, d)| (id, (s, d))).collect();
        let mut out = Vec::with_capacity(granted.len());
        let mut book = self.book();
        for (h, wait) in granted {
            let Some(w) = by_host.get(h.as_str()) else {
                continue;
            };
            let mut feeds = Vec::with_capacity(w.feeds.len());
            for (id, _) in &w.feeds {
                let (start, done) = starts.remove(id).unwrap_or_default();
                feeds.push(LeasedFeed {
                    id: id.clone(),
                    schedule: start.schedule.clone(),
                    done_this_round: done,
                });
                book.host_of.insert(id.clone(), h.clone());
                book.prefetched.insert(id.clone(), start);
            }
            let not_before = wait
                .filter(|w| *w > 0.0)
                .map(|w| Utc::now() + chrono::Duration::milliseconds((w * 1000.0) as i64));
            out.push(LeasedHost {
                host: h,
                not_before,
                feeds,
            });
        }
        Ok(out)
    }

    fn release_host(&self, host: &str, not_before: Option<DateTime<Utc>>) {
        let wait = not_before
            .map(|t| (t - Utc::now()).num_milliseconds() as f64 / 1000.0)
            .unwrap_or(0.0)
            .max(0.0);
        {
            let mut b = self.book();
            b.releases.push((host.to_string(), wait));
            b.host_of.retain(|_, h| h != host);
        }
        self.queue_flush_if_full();
    }

    fn end_round(&self) -> Result<(), StoreError> {
        let flushed = self.flush();
        let any_held = {
            let mut b = self.book();
            b.prefetched.clear();
            b.round_start = None;
            !std::mem::take(&mut b.host_of).is_empty()
        };
        let (db, holder) = (self.db.clone(), self.holder.clone());
        let _ = any_held;
        self.block(async move {
            db.query(
                "UPDATE host_leases SET holder = NULL, lease_until = NULL WHERE holder = $1",
                &[&holder],
            )
            .await
            .map(drop)
        })?;
        flushed
    }

    fn check(&self) -> Result<StateCheck, StoreError> {
        let db = self.db.clone();
        self.block(async move {
            let version: i64 = db
                .one("SELECT version FROM scifeed_schema", &[])
                .await?
                .map_or(0, |r| r.get(0));
            let mut problems = Vec::new();
            // What the database cannot enforce: rows that must reference a feed's state.
            let orphans: i64 = db
                .one(
                    "SELECT count(*) FROM items i WHERE NOT EXISTS
                       (SELECT 1 FROM feed_state f WHERE f.feed = i.feed)",
                    &[],
                )
                .await?
                .map_or(0, |r| r.get(0));
            if orphans > 0 {
                problems.push(format!("{orphans} item(s) of feeds without feed state"));
            }
            if version < SCHEMA_VERSION {
                problems.push(format!(
                    "schema version {version} is older than this scifeed's ({SCHEMA_VERSION})"
                ));
            }
            let rows = db
                .query(
                    "SELECT f.feed, (SELECT count(*) FROM items i WHERE i.feed = f.feed),
                            coalesce(s.dirty, false), coalesce(s.failures, 0)::bigint, s.last_error,
                            s.failing_since, l.kind, l.listing, l.since, l.broken
                     FROM (SELECT feed FROM items UNION SELECT feed FROM feed_state
                           UNION SELECT feed FROM feed_listing) f
                     LEFT JOIN feed_state s ON s.feed = f.feed
                     LEFT JOIN feed_listing l ON l.feed = f.feed ORDER BY f.feed",
                    &[],
                )
                .await?;
            let feeds = rows
                .iter()
                .map(|r| CheckedFeed {
                    feed: r.get(0),
                    items: r.get(1),
                    dirty: r.get(2),
                    failures: r.get(3),
                    last_error: r.get(4),
                    failing_since: r.get(5),
                    listing: r
                        .get::<_, Option<String>>(6)
                        .map(|k| (k, r.get(7), r.get(8), r.get(9))),
                })
                .collect();
            let bytes: i64 = db
                .one("SELECT pg_database_size(current_database())", &[])
                .await?
                .map_or(0, |r| r.get(0));
            Ok(StateCheck {
                version,
                bytes: u64::try_from(bytes).unwrap_or(0),
                problems,
                feeds,
            })
        })
    }

    fn export_rows(&self) -> Result<StateRows, StoreError> {
        let db = self.db.clone();
        self.block(async move {
            let mut out = StateRows::default();
            for r in db
                .query(
                    "SELECT feed, render_key, dirty, failures, last_error, last_ok, last_failure,
                            failing_since
                     FROM feed_state ORDER BY feed",
                    &[],
                )
                .await?
            {
                out.feed_state.push(FeedStateRow {
                    feed: r.get(0),
                    state: FeedState {
                        render_key: r.get(1),
                        dirty: r.get(2),
                        failures: u32::try_from(r.get::<_, i32>(3)).unwrap_or(0),
                        last_error: r.get(4),
                        failing_since: r.get::<_, Option<i64>>(7).map(ts),
                    },
                    last_ok: r.get(5),
                    last_failure: r.get(6),
                });
            }
            for r in db
                .query(
                    "SELECT feed, config_key, kind, listing, since, broken FROM feed_listing
                     ORDER BY feed",
                    &[],
                )
                .await?
            {
                out.listings.push(ListingRow {
                    feed: r.get(0),
                    config_key: r.get(1),
                    kind: r.get(2),
                    listing: r.get(3),
                    since: r.get(4),
                    broken: r.get(5),
                });
            }
            for r in db
                .query(
                    "SELECT url, etag, last_modified, body_hash, fetched FROM http_cache ORDER BY url",
                    &[],
                )
                .await?
            {
                out.http_cache.push((
                    r.get(0),
                    Validators {
                        etag: r.get(1),
                        last_modified: r.get(2),
                        body_hash: r.get(3),
                    },
                    r.get(4),
                ));
            }
            for r in db
                .query(
                    "SELECT origin, status, body, fetched, expires FROM robots ORDER BY origin",
                    &[],
                )
                .await?
            {
                out.robots.push(RobotsRecord {
                    origin: r.get(0),
                    status: u16::try_from(r.get::<_, i32>(1)).unwrap_or(0),
                    body: r.get::<_, Option<Vec<u8>>>(2).unwrap_or_default(),
                    fetched: ts(r.get(3)),
                    expires: ts(r.get(4)),
                });
            }
            for r in db
                .query(
                    "SELECT url, fetched, error, title, author, published, image, read_time,
                            read_time_estimated, word_count FROM article_meta ORDER BY url",
                    &[],
                )
                .await?
            {
                out.articles.push((r.get(0), row_to_article(&r, 1)));
            }
            for r in db
                .query(&format!("SELECT feed, {SCHEDULE_COLUMNS} FROM schedule"), &[])
                .await?
            {
                if let Some(s) = row_to_schedule(&r, 1) {
                    out.schedules.insert(r.get(0), s);
                }
            }
            Ok(out)
        })
    }

    fn item_feeds(&self) -> Result<Vec<String>, StoreError> {
        let db = self.db.clone();
        self.block(async move {
            Ok(db
                .query("SELECT DISTINCT feed FROM items ORDER BY feed", &[])
                .await?
                .iter()
                .map(|r| r.get(0))
                .collect())
        })
    }

    fn is_empty(&self) -> Result<bool, StoreError> {
        let db = self.db.clone();
        self.block(async move {
            let n: i64 = db
                .one(
                    "SELECT (SELECT count(*) FROM items) + (SELECT count(*) FROM feed_state)
                          + (SELECT count(*) FROM http_cache) + (SELECT count(*) FROM robots)
                          + (SELECT count(*) FROM article_meta) + (SELECT count(*) FROM schedule)
                          + (SELECT count(*) FROM feed_listing)",
                    &[],
                )
                .await?
                .map_or(0, |r| r.get(0));
            Ok(n == 0)
        })
    }

    fn import_rows(&self, rows: &StateRows) -> Result<(), StoreError> {
        let (db, rows) = (self.db.clone(), rows.clone());
        self.block(async move {
            let mut client = db.client().await?;
            let tx = client.transaction().await.map_err(|e| db.err(&e))?;
            let e = |e: tokio_postgres::Error| db.err(&e);
            for f in &rows.feed_state {
                tx.execute(
                    "INSERT INTO feed_state (feed, render_key, dirty, failures, last_error, last_ok,
                                             last_failure, failing_since)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                    &[
                        &f.feed,
                        &f.state.render_key,
                        &f.state.dirty,
                        &i32::try_from(f.state.failures).unwrap_or(i32::MAX),
                        &f.state.last_error,
                        &f.last_ok,
                        &f.last_failure,
                        &f.state.failing_since.map(|t| t.timestamp()),
                    ],
                )
                .await
                .map_err(e)?;
            }
            for l in &rows.listings {
                tx.execute(
                    "INSERT INTO feed_listing (feed, config_key, kind, listing, since, broken)
                     VALUES ($1, $2, $3, $4, $5, $6)",
                    &[&l.feed, &l.config_key, &l.kind, &l.listing, &l.since, &l.broken],
                )
                .await
                .map_err(e)?;
            }
            for (url, v, fetched) in &rows.http_cache {
                tx.execute(
                    "INSERT INTO http_cache (url, etag, last_modified, body_hash, fetched) VALUES ($1, $2, $3, $4, $5)",
                    &[url, &v.etag, &v.last_modified, &v.body_hash, fetched],
                )
                .await
                .map_err(e)?;
            }
            for r in &rows.robots {
                tx.execute(
                    "INSERT INTO robots (origin, status, body, fetched, expires) VALUES ($1, $2, $3, $4, $5)",
                    &[
                        &r.origin,
                        &i32::from(r.status),
                        &r.body,
                        &r.fetched.timestamp(),
                        &r.expires.timestamp(),
                    ],
                )
                .await
                .map_err(e)?;
            }
            for (url, a) in &rows.articles {
                tx.execute(
                    "INSERT INTO article_meta (url, fetched, error, title, author, published, image,
                        read_time, read_time_estimated, word_count)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
                    &[
                        url,
                        &a.fetched.timestamp(),
                        &a.error,
                        &a.title,
                        &super::encode_authors(&a.authors),
                        &a.published.map(|d| d.timestamp()),
                        &a.image,
                        &a.read_time.map(i64::from),
                        &a.read_time_estimated,
                        &a.word_count.map(i64::from),
                    ],
                )
                .await
                .map_err(e)?;
            }
            for (feed, s) in &rows.schedules {
                let p = sched_params(Some(s));
                let c = &p.cols;
                tx.execute(
                    &format!(
                        "INSERT INTO schedule (feed, {SCHEDULE_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
                    ),
                    &[feed, &c[0], &c[1], &c[2], &c[3], &c[4], &c[5], &c[6]],
                )
                .await
                .map_err(e)?;
            }
            tx.commit().await.map_err(e)
        })
    }

    fn import_items(&self, feed: &str, items: &[Item]) -> Result<(), StoreError> {
        let mut cols = ItemColumns::with_capacity(items.len());
        for i in items {
            cols.push(i);
        }
        let (db, feed) = (self.db.clone(), feed.to_string());
        self.block(async move {
            db.query(
                &format!(
                    "INSERT INTO items (feed, {ITEM_COLUMNS})
                     SELECT $1, u.* FROM unnest($2::text[], $3::text[], $4::text[], $5::text[],
                        $6::bigint[], $7::text[], $8::text[], $9::text[], $10::bigint[], $11::text[],
                        $12::bigint[], $13::bigint[], $14::bigint[], $15::bigint[], $16::bool[])
                        AS u({ITEM_COLUMNS})
                     ON CONFLICT (feed, id) DO NOTHING"
                ),
                &[
                    &feed, &cols.id, &cols.link, &cols.title, &cols.author, &cols.read_time,
                    &cols.teaser, &cols.image, &cols.categories, &cols.published,
                    &cols.date_source, &cols.updated, &cols.first_seen, &cols.last_seen,
                    &cols.position, &cols.estimated,
                ],
            )
            .await
            .map(drop)
        })
    }
}

/// `s.a, s.b, ...` for a column list.
fn prefixed(alias: &str, cols: &str) -> String {
    cols.split(',')
        .map(|c| format!("{alias}.{}", c.trim()))
        .collect::<Vec<_>>()
        .join(", ")
}

fn row_to_article(r: &Row, at: usize) -> ArticleRecord {
    ArticleRecord {
        fetched: ts(r.get(at)),
        error: r.get(at + 1),
        title: r.get(at + 2),
        authors: super::decode_authors(r.get(at + 3)),
        published: r.get::<_, Option<i64>>(at + 4).map(ts),
        image: r.get(at + 5),
        read_time: r
            .get::<_, Option<i64>>(at + 6)
            .and_then(|v| u32::try_from(v).ok()),
        read_time_estimated: r.get(at + 7),
        word_count: r
            .get::<_, Option<i64>>(at + 8)
            .and_then(|v| u32::try_from(v).ok()),
    }
}

async fn put_article(db: &Db, url: &str, rec: &ArticleRecord) -> Result<(), StoreError> {
    db.query(
        "INSERT INTO article_meta (url, fetched, error, title, author, published, image, read_time,
                                   read_time_estimated, word_count)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
         ON CONFLICT (url) DO UPDATE SET fetched = excluded.fetched, error = excluded.error,
            title = excluded.title, author = excluded.author, published = excluded.published,
            image = excluded.image, read_time = excluded.read_time,
            read_time_estimated = excluded.read_time_estimated, word_count = excluded.word_count",
        &[
            &url,
            &rec.fetched.timestamp(),
            &rec.error,
            &rec.title,
            &super::encode_authors(&rec.authors),
            &rec.published.map(|d| d.timestamp()),
            &rec.image,
            &rec.read_time.map(i64::from),
            &rec.read_time_estimated,
            &rec.word_count.map(i64::from),
        ],
    )
    .await
    .map(drop)
}

async fn put_robots(db: &Db, rec: &RobotsRecord) -> Result<(), StoreError> {
    db.query(
        "INSERT INTO robots (origin, status, body, fetched, expires) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (origin) DO UPDATE SET status = excluded.status, body = excluded.body,
            fetched = excluded.fetched, expires = excluded.expires",
        &[
            &rec.origin,
            &i32::from(rec.status),
            &rec.body,
            &rec.fetched.timestamp(),
            &rec.expires.timestamp(),
        ],
    )
    .await
    .map(drop)
}

/// Items as column arrays, for `unnest`.
struct ItemColumns {
    id: Vec<String>,
    link: Vec<String>,
    title: Vec<String>,
    author: Vec<Option<String>>,
    read_time: Vec<Option<i64>>,
    teaser: Vec<Option<String>>,
    image: Vec<Option<String>>,
    categories: Vec<String>,
    published: Vec<i64>,
    date_source: Vec<String>,
    updated: Vec<i64>,
    first_seen: Vec<i64>,
    last_seen: Vec<i64>,
    position: Vec<i64>,
    estimated: Vec<bool>,
}

impl ItemColumns {
    fn with_capacity(n: usize) -> ItemColumns {
        ItemColumns {
            id: Vec::with_capacity(n),
            link: Vec::with_capacity(n),
            title: Vec::with_capacity(n),
            author: Vec::with_capacity(n),
            read_time: Vec::with_capacity(n),
            teaser: Vec::with_capacity(n),
            image: Vec::with_capacity(n),
            categories: Vec::with_capacity(n),
            published: Vec::with_capacity(n),
            date_source: Vec::with_capacity(n),
            updated: Vec::with_capacity(n),
            first_seen: Vec::with_capacity(n),
            last_seen: Vec::with_capacity(n),
            position: Vec::with_capacity(n),
            estimated: Vec::with_capacity(n),
        }
    }

    fn push(&mut self, i: &Item) {
        self.id.push(i.id.clone());
        self.link.push(i.link.clone());
        self.title.push(i.title.clone());
        self.author.push(super::encode_authors(&i.authors));
        self.read_time.push(i.read_time.map(i64::from));
        self.teaser.push(i.teaser.clone());
        self.image.push(i.image.clone());
        self.categories.push(i.categories.join("\u{1f}"));
        self.published.push(i.published.timestamp());
        self.date_source.push(i.date_source.as_str().to_string());
        self.updated.push(i.updated.timestamp());
        self.first_seen.push(i.first_seen.timestamp());
        self.last_seen.push(i.last_seen.timestamp());
        self.position.push(i64::from(i.position));
        self.estimated.push(i.read_time_estimated);
    }
}
