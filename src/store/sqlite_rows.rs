//! Whole-state reads and writes of the SQLite store for `store migrate` and `store check`
//! (kept apart from the per-feed queries of `store.rs`).

use std::collections::BTreeMap;

use rusqlite::params;

use super::backend::{CheckedFeed, FeedStateRow, ListingRow, StateCheck, StateRows};
use super::{
    ITEM_COLUMNS, RobotsRecord, SCHEDULE_COLUMNS, Store, StoreError, Validators, encode_categories,
    put_schedule, row_to_item, row_to_schedule_at, ts,
};
use crate::model::{ArticleRecord, Item};

impl Store {
    /// Schema version, integrity findings and per-feed counts.
    pub fn state_check(&self) -> Result<StateCheck, StoreError> {
        let version: i64 = self
            .conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(|e| self.err(e))?;
        let problems = self.integrity_problems()?;
        let mut stmt = self
            .conn
            .prepare(
                "SELECT f.feed, (SELECT count(*) FROM items i WHERE i.feed = f.feed),
                        coalesce(s.dirty, 0), coalesce(s.failures, 0), s.last_error, s.failing_since,
                        l.kind, l.listing, l.since, l.broken
                 FROM (SELECT feed FROM items UNION SELECT feed FROM feed_state UNION SELECT feed FROM feed_listing) f
                 LEFT JOIN feed_state s ON s.feed = f.feed LEFT JOIN feed_listing l ON l.feed = f.feed
                 ORDER BY f.feed",
            )
            .map_err(|e| self.err(e))?;
        let feeds = stmt
            .query_map([], |r| {
                let kind: Option<String> = r.get(6)?;
                Ok(CheckedFeed {
                    feed: r.get(0)?,
                    items: r.get(1)?,
                    dirty: r.get::<_, i64>(2)? != 0,
                    failures: r.get(3)?,
                    last_error: r.get(4)?,
                    failing_since: r.get(5)?,
                    listing: match kind {
                        Some(k) => Some((k, r.get(7)?, r.get(8)?, r.get(9)?)),
                        None => None,
                    },
                })
            })
            .map_err(|e| self.err(e))?
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| self.err(e))?;
        Ok(StateCheck {
            version,
            bytes: std::fs::metadata(&self.path).map_or(0, |m| m.len()),
            problems,
            feeds,
        })
    }

    /// Every row except items.
    pub fn export_rows(&self) -> Result<StateRows, StoreError> {
        let e = |e| self.err(e);
        let mut rows = StateRows::default();
        let mut st = self
            .conn
            .prepare("SELECT feed, render_key, dirty, failures, last_error, last_ok, last_failure, failing_since FROM feed_state ORDER BY feed")
            .map_err(e)?;
        rows.feed_state = st
            .query_map([], |r| {
                Ok(FeedStateRow {
                    feed: r.get(0)?,
                    state: super::FeedState {
                        render_key: r.get(1)?,
                        dirty: r.get::<_, i64>(2)? != 0,
                        failures: r.get(3)?,
                        last_error: r.get(4)?,
                        failing_since: r.get::<_, Option<i64>>(7)?.map(ts),
                    },
                    last_ok: r.get(5)?,
                    last_failure: r.get(6)?,
                })
            })
            .map_err(e)?
            .collect::<Result<_, _>>()
            .map_err(e)?;
        let mut st = self
            .conn
            .prepare(
                "SELECT feed, config_key, kind, listing, since, broken FROM feed_listing ORDER BY feed",
            )
            .map_err(e)?;
        rows.listings = st
            .query_map([], |r| {
                Ok(ListingRow {
                    feed: r.get(0)?,
                    config_key: r.get(1)?,
                    kind: r.get(2)?,
                    listing: r.get(3)?,
                    since: r.get(4)?,
                    broken: r.get(5)?,
                })
            })
            .map_err(e)?
            .collect::<Result<_, _>>()
            .map_err(e)?;
        let mut st = self
            .conn
            .prepare(
                "SELECT url, etag, last_modified, body_hash, fetched FROM http_cache ORDER BY url",
            )
            .map_err(e)?;
        rows.http_cache = st
            .query_map([], |r| {
                Ok((
                    r.get(0)?,
                    Validators {
                        etag: r.get(1)?,
                        last_modified: r.get(2)?,
                        body_hash: r.get(3)?,
                    },
                    r.get(4)?,
                ))
            })
            .map_err(e)?
            .collect::<Result<_, _>>()
            .map_err(e)?;
        let mut st = self
            .conn
            .prepare("SELECT origin, status, body, fetched, expires FROM robots ORDER BY origin")
            .map_err(e)?;
        rows.robots = st
            .query_map([], |r| {
                Ok(RobotsRecord {
                    origin: r.get(0)?,
                    status: r.get(1)?,
                    body: r.get::<_, Option<Vec<u8>>>(2)?.unwrap_or_default(),
                    fetched: ts(r.get(3)?),
                    expires: ts(r.get(4)?),
                })
            })
            .map_err(e)?
            .collect::<Result<_, _>>()
            .map_err(e)?;
        let mut st = self
            .conn
            .prepare(
                "SELECT url, fetched, error, title, author, published, image, read_time, read_time_estimated, word_count
                 FROM article_meta ORDER BY url",
            )
            .map_err(e)?;
        rows.articles = st
            .query_map([], |r| {
                Ok((
                    r.get(0)?,
                    ArticleRecord {
                        fetched: ts(r.get(1)?),
                        error: r.get(2)?,
                        title: r.get(3)?,
                        authors: super::decode_authors(r.get(4)?),
                        published: r.get::<_, Option<i64>>(5)?.map(ts),
                        image: r.get(6)?,
                        read_time: r.get(7)?,
                        read_time_estimated: r.get::<_, i64>(8)? != 0,
                        word_count: r.get(9)?,
                    },
                ))
            })
            .map_err(e)?
            .collect::<Result<_, _>>()
            .map_err(e)?;
        let mut st = self
            .conn
            .prepare(&format!("SELECT feed, {SCHEDULE_COLUMNS} FROM schedule"))
            .map_err(e)?;
        rows.schedules = st
            .query_map([], |r| {
                Ok((r.get::<_, String>(0)?, row_to_schedule_at(r, 1)?))
            })
            .map_err(e)?
            .collect::<Result<BTreeMap<_, _>, _>>()
            .map_err(e)?;
        Ok(rows)
    }

    /// The state of every feed that has one.
    pub fn feed_states(
        &self,
    ) -> Result<std::collections::HashMap<String, super::FeedState>, StoreError> {
        let mut st = self
            .conn
            .prepare_cached("SELECT feed, render_key, dirty, failures, last_error, failing_since FROM feed_state")
            .map_err(|e| self.err(e))?;
        st.query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                super::FeedState {
                    render_key: r.get(1)?,
                    dirty: r.get::<_, i64>(2)? != 0,
                    failures: r.get(3)?,
                    last_error: r.get(4)?,
                    failing_since: r.get::<_, Option<i64>>(5)?.map(ts),
                },
            ))
        })
        .map_err(|e| self.err(e))?
        .collect::<Result<_, _>>()
        .map_err(|e| self.err(e))
    }

    /// Feeds that have items.
    pub fn item_feeds(&self) -> Result<Vec<String>, StoreError> {
        let mut st = self
            .conn
            .prepare("SELECT DISTINCT feed FROM items ORDER BY feed")
            .map_err(|e| self.err(e))?;
        st.query_map([], |r| r.get(0))
            .map_err(|e| self.err(e))?
            .collect::<Result<_, _>>()
            .map_err(|e| self.err(e))
    }

    /// Whether no table holds a row.
    pub fn is_empty(&self) -> Result<bool, StoreError> {
        let n: i64 = self
            .conn
            .query_row(
                "SELECT (SELECT count(*) FROM items) + (SELECT count(*) FROM feed_state)
                      + (SELECT count(*) FROM http_cache) + (SELECT count(*) FROM robots)
                      + (SELECT count(*) FROM article_meta) + (SELECT count(*) FROM schedule)
                      + (SELECT count(*) FROM feed_listing)",
                [],
                |r| r.get(0),
            )
            .map_err(|e| self.err(e))?;
        Ok(n == 0)
    }

    /// Writes exported rows in one transaction.
    pub fn import_rows(&mut self, rows: &StateRows) -> Result<(), StoreError> {
        let path = self.path.clone();
        let err = |e| super::sqlite_error(&path, e);
        let tx = self.conn.transaction().map_err(err)?;
        for f in &rows.feed_state {
            tx.execute(
                "INSERT OR REPLACE INTO feed_state (feed, render_key, dirty, failures, last_error, last_ok, last_failure, failing_since)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                params![
                    f.feed,
                    f.state.render_key,
                    i64::from(f.state.dirty),
                    f.state.failures,
                    f.state.last_error,
                    f.last_ok,
                    f.last_failure,
                    f.state.failing_since.map(|t| t.timestamp())
                ],
            )
            .map_err(err)?;
        }
        for l in &rows.listings {
            tx.execute(
                "INSERT OR REPLACE INTO feed_listing (feed, config_key, kind, listing, since, broken)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![l.feed, l.config_key, l.kind, l.listing, l.since, l.broken],
            )
            .map_err(err)?;
        }
        for (url, v, fetched) in &rows.http_cache {
            tx.execute(
                "INSERT OR REPLACE INTO http_cache (url, etag, last_modified, body_hash, fetched) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![url, v.etag, v.last_modified, v.body_hash, fetched],
            )
            .map_err(err)?;
        }
        for r in &rows.robots {
            tx.execute(
                "INSERT OR REPLACE INTO robots (origin, status, body, fetched, expires) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![r.origin, r.status, r.body, r.fetched.timestamp(), r.expires.timestamp()],
            )
            .map_err(err)?;
        }
        for (url, a) in &rows.articles {
            tx.execute(
                "INSERT OR REPLACE INTO article_meta (url, fetched, error, title, author, published, image, read_time,
                                                      read_time_estimated, word_count)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
                params![
                    url,
                    a.fetched.timestamp(),
                    a.error,
                    a.title,
                    super::encode_authors(&a.authors),
                    a.published.map(|d| d.timestamp()),
                    a.image,
                    a.read_time,
                    i64::from(a.read_time_estimated),
                    a.word_count
                ],
            )
            .map_err(err)?;
        }
        for (feed, s) in &rows.schedules {
            put_schedule(&tx, feed, s).map_err(err)?;
        }
        tx.commit().map_err(err)
    }

    /// Writes items exactly as given, in one transaction.
    pub fn import_items(&mut self, feed: &str, items: &[Item]) -> Result<(), StoreError> {
        let path = self.path.clone();
        let err = |e| super::sqlite_error(&path, e);
        let tx = self.conn.transaction().map_err(err)?;
        {
            let mut st = tx
                .prepare(&format!(
                    "INSERT OR REPLACE INTO items (feed, {ITEM_COLUMNS})
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)"
                ))
                .map_err(err)?;
            for i in items {
                st.execute(params![
                    feed,
                    i.id,
                    i.link,
                    i.title,
                    super::encode_authors(&i.authors),
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
        }
        tx.commit().map_err(err)
    }

    /// Every item of `feed`, in output order (used by tests of the copy).
    pub fn all_items(&self, feed: &str) -> Result<Vec<Item>, StoreError> {
        let mut st = self
            .conn
            .prepare(&format!(
                "SELECT {ITEM_COLUMNS} FROM items WHERE feed = ?1 ORDER BY published DESC, first_seen DESC, position ASC, id ASC"
            ))
            .map_err(|e| self.err(e))?;
        st.query_map([feed], row_to_item)
            .map_err(|e| self.err(e))?
            .collect::<Result<_, _>>()
            .map_err(|e| self.err(e))
    }
}
