//! What `serve` holds in memory: a [`Snapshot`] of every feed's state, taken from the store
//! after each round, and a byte-budgeted cache of rendered documents.
//!
//! Documents (feed files, feed pages, the index) are rendered from the store with the same
//! renderer as the files `run` writes, so a served feed is byte for byte the file. Each is
//! kept with its gzip and brotli forms and its content hash (the ETag), keyed by a version
//! that changes whenever the store's items of the feed change. The cache holds at most
//! `[serve] cache_mb`; when it is full the least useful documents are dropped and rendered
//! again on the next request. The ETags of dropped documents stay known, so a reader asking
//! "changed?" gets its 304 without a render. Nothing here maps a URL to a file: documents
//! are found by feed index, never by path.

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::Write as _;
use std::rc::Rc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::Duration;

use axum::http::HeaderValue;
use bytes::Bytes;
use chrono::{DateTime, Utc};

use crate::feed::{Config, FeedSpec};
use crate::heal::{self, ListingMemory, MemoryKind};
use crate::render::{self, Format};
use crate::schedule::{self, ScheduleConfig};
use crate::serve::pages;
use crate::serve::status::{self, HealedListing, Health};
use crate::store::backend::{self, OpenOptions, SqliteState};
use crate::store::{FeedSummary, StateLocation, StateStore, Store, StoreError};

/// A document the server renders.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Doc {
    /// A feed file in one format.
    Feed(Format),
    /// The feed's readable HTML page.
    Page,
    /// The index of every feed.
    Index,
}

/// A content coding of a response body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    Identity = 0,
    Gzip = 1,
    Br = 2,
}

impl Encoding {
    /// The `Content-Encoding` value, `None` for identity.
    pub fn header(self) -> Option<&'static str> {
        match self {
            Encoding::Identity => None,
            Encoding::Gzip => Some("gzip"),
            Encoding::Br => Some("br"),
        }
    }
}

/// A rendered document in every coding, with its content hash and ready-made ETags.
#[derive(Debug)]
pub struct Rendered {
    /// Hex xxh3-128 of the identity bytes: the strong ETag's value.
    pub hash: Arc<str>,
    /// The same as a number.
    hash_value: u128,
    pub identity: Bytes,
    pub gzip: Bytes,
    pub br: Bytes,
    /// `ETag` of each coding, built once (identity, gzip, br).
    etags: [HeaderValue; 3],
}

impl Rendered {
    /// Hashes and compresses `body` (once per change of the document, not per request).
    pub fn new(body: Vec<u8>) -> Rendered {
        let hash_value = xxhash_rust::xxh3::xxh3_128(&body);
        let hash: Arc<str> = hex(hash_value).into();
        let mut gz = flate2::write::GzEncoder::new(
            Vec::with_capacity(body.len() / 3),
            flate2::Compression::best(),
        );
        // Writing to a Vec cannot fail.
        let gzip = gz
            .write_all(&body)
            .and_then(|()| gz.finish())
            .unwrap_or_default();
        let mut br = Vec::with_capacity(body.len() / 3);
        // Quality 5 with a 64 KiB window: smaller than gzip -9 for feeds, and its hash table
        // is a megabyte, where quality 9's is 32 MiB (which the allocator then keeps).
        let params = brotli::enc::BrotliEncoderParams {
            quality: 5,
            lgwin: 16,
            size_hint: body.len(),
            ..Default::default()
        };
        let _ = brotli::BrotliCompress(&mut &body[..], &mut br, &params);
        // The three codings in one exact allocation: the cache counts lengths, so they are
        // the memory held, and one block per document fragments the heap less than three.
        let mut all = Vec::with_capacity(body.len() + gzip.len() + br.len());
        all.extend_from_slice(&body);
        all.extend_from_slice(&gzip);
        all.extend_from_slice(&br);
        let all = Bytes::from(all);
        let (a, b) = (body.len(), body.len() + gzip.len());
        let etags = [Encoding::Identity, Encoding::Gzip, Encoding::Br]
            .map(|e| HeaderValue::from_str(&etag(&hash, e)).expect("hex and quotes are valid"));
        Rendered {
            hash,
            hash_value,
            identity: all.slice(..a),
            gzip: all.slice(a..b),
            br: all.slice(b..),
            etags,
        }
    }

    /// A copy that shares no memory with `self` (see [`Catalog::cached`]).
    fn local_copy(&self) -> Rendered {
        let (a, b) = (self.identity.len(), self.identity.len() + self.gzip.len());
        let mut all = Vec::with_capacity(b + self.br.len());
        all.extend_from_slice(&self.identity);
        all.extend_from_slice(&self.gzip);
        all.extend_from_slice(&self.br);
        let all = Bytes::from(all);
        Rendered {
            hash: Arc::from(&*self.hash),
            hash_value: self.hash_value,
            identity: all.slice(..a),
            gzip: all.slice(a..b),
            br: all.slice(b..),
            etags: self
                .etags
                .clone()
                .map(|v| HeaderValue::from_bytes(v.as_bytes()).expect("copied from a valid value")),
        }
    }

    /// The `ETag` header of the representation in `enc`.
    pub fn etag_header(&self, enc: Encoding) -> HeaderValue {
        self.etags[enc as usize].clone()
    }

    /// The body in `enc`.
    pub fn body(&self, enc: Encoding) -> Bytes {
        match enc {
            Encoding::Identity => self.identity.clone(),
            Encoding::Gzip => self.gzip.clone(),
            Encoding::Br => self.br.clone(),
        }
    }

    /// The strong ETag of the representation in `enc`: each coding is its own
    /// representation, so it gets its own tag (the hash plus `-gzip` / `-br`).
    pub fn etag(&self, enc: Encoding) -> String {
        etag(&self.hash, enc)
    }

    fn weight(&self) -> u64 {
        (self.identity.len() + self.gzip.len() + self.br.len() + 256) as u64
    }
}

/// A content hash as the 32 hex digits of its ETag.
fn hex(h: u128) -> String {
    format!("{h:032x}")
}

/// The strong ETag of content `hash` in coding `enc`.
pub fn etag(hash: &str, enc: Encoding) -> String {
    match enc.header() {
        None => format!("\"{hash}\""),
        Some(c) => format!("\"{hash}-{c}\""),
    }
}

/// One feed as the server shows it.
#[derive(Debug, Clone)]
pub struct FeedView {
    pub summary: FeedSummary,
    pub health: Health,
    /// When the feed is fetched next (the next round, or the schedule's answer).
    pub next_fetch: Option<DateTime<Utc>>,
    /// Changes whenever the feed files' bytes may change.
    pub items_version: u64,
    /// Changes whenever the feed page may change (items, health, next fetch).
    pub page_version: u64,
    /// When the items last changed (never later than the snapshot), and as a header.
    pub last_modified: Option<(DateTime<Utc>, HeaderValue)>,
}

/// The crawl rounds as the index reports them.
#[derive(Debug, Clone, Default)]
pub struct RoundState {
    pub running: bool,
    pub last_started: Option<DateTime<Utc>>,
    pub last_finished: Option<DateTime<Utc>>,
    pub next: Option<DateTime<Utc>>,
    pub completed: u64,
}

/// Every feed's state at one moment; replaced whole after each round.
#[derive(Debug, Clone)]
pub struct Snapshot {
    /// Changes with every refresh.
    pub version: u64,
    /// In config order; shared between snapshots when unchanged.
    pub feeds: Vec<Arc<FeedView>>,
    pub round: RoundState,
}

type Key = (u32, Doc, u64);

/// Content hash of a document by (slot, document): version and hash.
/// (Held inline as a number: a small allocation per document kept for the life of the
/// process would sit among the short-lived bodies and fragment the heap.)
type Hashes = HashMap<(u32, Doc), (u64, u128)>;

#[derive(Clone)]
struct Weight;

impl quick_cache::Weighter<Key, Arc<Rendered>> for Weight {
    fn weight(&self, _key: &Key, val: &Arc<Rendered>) -> u64 {
        val.weight()
    }
}

/// Why a document could not be rendered.
#[derive(Debug, thiserror::Error)]
pub enum DocError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("the history is not readable yet")]
    NoStore,
    #[error("render task failed: {0}")]
    Task(String),
    #[error("rendering took longer than {}s", RENDER_TIMEOUT.as_secs())]
    Slow,
}

/// Longest a request waits for a document to be rendered (a store busy for that long is
/// stuck; the request gets a 503 and the render goes on for the next one).
pub const RENDER_TIMEOUT: Duration = Duration::from_secs(20);

/// Which feeds a refresh reads again.
#[derive(Debug, Clone, Copy)]
pub enum Scope<'a> {
    /// Every feed (at start).
    All,
    /// These feeds, of which `updated` were reported updated by a round (their documents
    /// change even when the store's marks look the same).
    Feeds {
        ids: &'a [String],
        updated: &'a HashSet<String>,
    },
}

/// The server's memory: config, snapshot, store reader and document cache.
pub struct Catalog {
    pub config: Config,
    /// Absolute URL the server is reached at, ending in `/`.
    pub base: String,
    /// `?key=...` appended to the links of pages when a token is set.
    pub key_suffix: String,
    ids: HashMap<String, usize>,
    snapshot: RwLock<Arc<Snapshot>>,
    /// `snapshot`'s version, readable without its lock.
    snapshot_version: AtomicU64,
    reader: Mutex<Option<Arc<dyn StateStore>>>,
    cache: quick_cache::sync::Cache<Key, Arc<Rendered>, Weight>,
    /// Content hashes of documents rendered before, by feed and document: what a 304 needs
    /// once the body has left the cache.
    hashes: Mutex<Hashes>,
    /// Bumped for a feed each time a round reports it updated.
    generations: Mutex<HashMap<usize, u64>>,
    /// `every` of feeds that set none (`serve --every`).
    every: Duration,
    /// Renders at once: one per core bounds the compressors' working memory.
    renders: tokio::sync::Semaphore,
    /// The main runtime, whose blocking pool renders: the HTTP threads' runtimes would each
    /// bring their own threads, and every thread that allocates gets its own malloc arena.
    main: tokio::runtime::Handle,
}

/// Index of the index page in cache keys (no feed has it).
const INDEX: u32 = u32::MAX;

/// Documents a thread served last, each with its own copy of the bytes.
const HOT_DOCUMENTS: usize = 16;

thread_local! {
    /// This thread's copy of the current snapshot: (catalog, version, snapshot).
    static SNAPSHOT: RefCell<Option<(usize, u64, Arc<Snapshot>)>> = const { RefCell::new(None) };
    /// This thread's hot documents, most recent first: (catalog, key, document).
    static HOT: RefCell<Vec<(usize, Key, Rc<Rendered>)>> = const { RefCell::new(Vec::new()) };
}

impl Catalog {
    /// An empty catalog for `config`, served at `base`, whose feeds without `every` are
    /// fetched `every`. Call inside the main runtime.
    pub fn new(config: Config, base: String, every: Duration) -> Catalog {
        let ids = config
            .feeds
            .iter()
            .enumerate()
            .map(|(i, f)| (f.id.clone(), i))
            .collect();
        let key_suffix = config.serve.token.as_deref().map_or_else(String::new, |t| {
            format!(
                "?key={}",
                url::form_urlencoded::byte_serialize(t.as_bytes()).collect::<String>()
            )
        });
        let budget = config.serve.cache_bytes as u64;
        // quick_cache wants an estimate of the entry count; 40 KB is a typical feed.
        let estimate = usize::try_from(budget / 40_000).unwrap_or(1024).max(64);
        let feeds = config.feeds.len();
        Catalog {
            ids,
            key_suffix,
            snapshot: RwLock::new(Arc::new(Snapshot {
                version: 0,
                // One shared "nothing known yet" view until the first refresh.
                feeds: {
                    let empty = Arc::new(FeedView {
                        summary: FeedSummary::default(),
                        health: Health::New,
                        next_fetch: None,
                        items_version: 0,
                        page_version: 0,
                        last_modified: None,
                    });
                    (0..feeds).map(|_| Arc::clone(&empty)).collect()
                },
                round: RoundState::default(),
            })),
            snapshot_version: AtomicU64::new(0),
            reader: Mutex::new(None),
            cache: quick_cache::sync::Cache::with_weighter(estimate, budget, Weight),
            hashes: Mutex::new(HashMap::new()),
            generations: Mutex::new(HashMap::new()),
            every,
            renders: tokio::sync::Semaphore::new(crate::serve::listen::threads()),
            main: tokio::runtime::Handle::current(),
            config,
            base,
        }
    }

    /// The feed with this id.
    pub fn index_of(&self, id: &str) -> Option<usize> {
        self.ids.get(id).copied()
    }

    /// The feed at `idx` of the config.
    pub fn feed(&self, idx: usize) -> &FeedSpec {
        &self.config.feeds[idx]
    }

    /// The current snapshot.
    pub fn snapshot(&self) -> Arc<Snapshot> {
        Arc::clone(&self.snapshot.read().unwrap_or_else(PoisonError::into_inner))
    }

    fn set_snapshot(&self, snap: Arc<Snapshot>) {
        let version = snap.version;
        *self
            .snapshot
            .write()
            .unwrap_or_else(PoisonError::into_inner) = snap;
        self.snapshot_version.store(version, Ordering::Release);
    }

    /// Runs `f` on the current snapshot through this thread's copy of it: a request then
    /// touches no lock and no reference count another thread writes (on two cores those
    /// cache-line transfers were a tenth of a request's cost).
    pub fn with_snapshot<R>(&self, f: impl FnOnce(&Arc<Snapshot>) -> R) -> R {
        let me = self as *const Catalog as usize;
        let version = self.snapshot_version.load(Ordering::Acquire);
        SNAPSHOT.with(|cell| {
            let current = matches!(&*cell.borrow(), Some((c, v, _)) if *c == me && *v == version);
            if !current {
                *cell.borrow_mut() = Some((me, version, self.snapshot()));
            }
            let held = cell.borrow();
            match held.as_ref() {
                Some((_, _, snap)) => f(snap),
                None => f(&self.snapshot()),
            }
        })
    }

    /// Runs `f` on document `doc` of feed `idx` at `version` if it is cached: from this
    /// thread's hot documents, or copied there from the shared cache. `None`: it must be
    /// rendered ([`Catalog::document`]).
    pub fn cached<R>(
        &self,
        idx: usize,
        doc: Doc,
        version: u64,
        f: impl FnOnce(&Rendered) -> R,
    ) -> Option<R> {
        let me = self as *const Catalog as usize;
        let key = (slot(idx, doc), doc, version);
        HOT.with(|cell| {
            let mut hot = cell.borrow_mut();
            if let Some(pos) = hot.iter().position(|(c, k, _)| *c == me && *k == key) {
                let entry = hot.remove(pos);
                hot.insert(0, entry);
            } else {
                let shared = self.cache.get(&key)?;
                hot.truncate(HOT_DOCUMENTS - 1);
                hot.insert(0, (me, key, Rc::new(shared.local_copy())));
            }
            let doc = Rc::clone(&hot[0].2);
            drop(hot);
            Some(f(&doc))
        })
    }

    /// Bytes the document cache holds now.
    pub fn cached_bytes(&self) -> u64 {
        self.cache.weight()
    }

    /// Replaces the snapshot with the store's state of the feeds in `scope`; the others keep
    /// their views (shared, not copied). Returns the old and new snapshots. Blocking (SQLite).
    pub fn refresh(
        &self,
        scope: Scope<'_>,
        round: RoundState,
    ) -> Result<(Arc<Snapshot>, Arc<Snapshot>), StoreError> {
        let ids: Option<Vec<usize>> = match scope {
            Scope::All => None,
            Scope::Feeds { ids, .. } => {
                Some(ids.iter().filter_map(|id| self.index_of(id)).collect())
            }
        };
        let read = self.with_reader(|s| {
            let (summaries, states) = match &ids {
                // Two queries over the whole history beat two per feed for big rounds.
                Some(ids) if ids.len() <= 256 => {
                    let names: Vec<String> = ids.iter().map(|&i| self.feed(i).id.clone()).collect();
                    let mut states = BTreeMap::new();
                    for id in &names {
                        if let Some(st) = s.schedule(id)? {
                            states.insert(id.clone(), st);
                        }
                    }
                    (s.feed_summaries(Some(&names))?, states)
                }
                _ => (s.feed_summaries(None)?, s.schedule_states()?),
            };
            let all: Vec<usize> = (0..self.config.feeds.len()).collect();
            let mut healed = HashMap::new();
            for &i in ids.as_ref().unwrap_or(&all) {
                if let Some(h) = healed_listing(self.feed(i), s.listing_memory(&self.feed(i).id)?) {
                    healed.insert(i, h);
                }
            }
            Ok((summaries, states, healed))
        })?;
        let Some((mut summaries, states, mut healed)) = read else {
            // No store yet: nothing to show but the round.
            self.set_round(round);
            let s = self.snapshot();
            return Ok((Arc::clone(&s), s));
        };
        let updated = match scope {
            Scope::Feeds { updated, .. } => Some(updated),
            Scope::All => None,
        };
        let settings = &self.config.settings;
        let notify_after = self.config.serve.notify_after;
        let mut generations = self
            .generations
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let mut fresh = |i: usize| {
            let spec = self.feed(i);
            let next = ScheduleConfig::for_feed(spec, settings, Some(self.every))
                .and_then(|cfg| schedule::next_due(&cfg, states.get(&spec.id)))
                .or(round.next);
            let generation = generations.entry(i).or_insert(0);
            if updated.is_some_and(|u| u.contains(&spec.id)) {
                *generation += 1;
            }
            let summary = summaries.remove(&spec.id).unwrap_or_default();
            let h = healed.remove(&i);
            Arc::new(view(summary, *generation, next, notify_after, h.as_ref()))
        };
        let old = self.snapshot();
        let feeds: Vec<Arc<FeedView>> = match &ids {
            None => (0..self.config.feeds.len()).map(&mut fresh).collect(),
            Some(ids) => {
                let mut feeds = old.feeds.clone();
                for &i in ids {
                    feeds[i] = fresh(i);
                }
                feeds
            }
        };
        drop(generations);
        let new = Arc::new(Snapshot {
            version: old.version + 1,
            feeds,
            round,
        });
        self.set_snapshot(Arc::clone(&new));
        Ok((old, new))
    }

    /// The feeds the store saw fetched (committed or failed) at or after `since`.
    pub fn fetched_since(&self, since: DateTime<Utc>) -> Result<Vec<String>, StoreError> {
        Ok(self
            .with_reader(|s| s.feeds_fetched_since(since))?
            .unwrap_or_default())
    }

    /// Updates only the round state (a round starts), keeping the feeds.
    pub fn set_round(&self, round: RoundState) {
        let mut guard = self
            .snapshot
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        let mut next = Snapshot::clone(&guard);
        next.version += 1;
        next.round = round;
        *guard = Arc::new(next);
    }

    /// Runs `f` on the store's reading view, opening it on first use: a read-only SQLite
    /// connection beside the runner's (never waiting for a round), or a pool of its own on
    /// PostgreSQL. `Ok(None)` while an SQLite store does not exist yet.
    fn with_reader<T>(
        &self,
        f: impl FnOnce(&dyn StateStore) -> Result<T, StoreError>,
    ) -> Result<Option<T>, StoreError> {
        let store = {
            let mut reader = self.reader.lock().unwrap_or_else(PoisonError::into_inner);
            if reader.is_none() {
                *reader = match &self.config.settings.state {
                    StateLocation::File(path) => {
                        if !path.exists() {
                            return Ok(None);
                        }
                        Store::open_read_only(path)?
                            .map(|s| Arc::new(SqliteState::new(s)) as Arc<dyn StateStore>)
                    }
                    pg @ StateLocation::Postgres(_) => {
                        Some(backend::open(pg, &OpenOptions::default())?)
                    }
                };
            }
            reader.clone()
        };
        match store {
            Some(store) => f(&*store).map(Some),
            None => Ok(None),
        }
    }

    /// The content hash of a document at `version` if it was rendered before, without
    /// rendering it.
    pub fn known_hash(&self, idx: usize, doc: Doc, version: u64) -> Option<String> {
        let key = (slot(idx, doc), doc, version);
        if let Some(r) = self.cache.peek(&key) {
            return Some(r.hash.to_string());
        }
        let hashes = self.hashes.lock().unwrap_or_else(PoisonError::into_inner);
        match hashes.get(&(key.0, doc)) {
            Some((v, h)) if *v == version => Some(hex(*h)),
            _ => None,
        }
    }

    /// The document `doc` of feed `idx` (ignored for the index) as of `snap`: from the cache,
    /// or rendered from the store on the blocking pool. Concurrent requests for the same
    /// missing document wait for one render.
    pub async fn document(
        self: &Arc<Self>,
        idx: usize,
        doc: Doc,
        snap: &Arc<Snapshot>,
    ) -> Result<Arc<Rendered>, DocError> {
        let version = version_of(snap, idx, doc);
        let key = (slot(idx, doc), doc, version);
        if let Some(hit) = self.cache.get(&key) {
            return Ok(hit);
        }
        let me = Arc::clone(self);
        let snap2 = Arc::clone(snap);
        self.cache
            .get_or_insert_async(&key, async move {
                let _turn = self.renders.acquire().await;
                let render = self.main.spawn_blocking(move || {
                    let r = Arc::new(me.render(idx, doc, &snap2)?);
                    me.hashes
                        .lock()
                        .unwrap_or_else(PoisonError::into_inner)
                        .insert((key.0, doc), (version, r.hash_value));
                    Ok(r)
                });
                match tokio::time::timeout(RENDER_TIMEOUT, render).await {
                    Ok(joined) => joined.map_err(|e| DocError::Task(e.to_string()))?,
                    Err(_) => Err(DocError::Slow),
                }
            })
            .await
    }

    fn render(&self, idx: usize, doc: Doc, snap: &Snapshot) -> Result<Rendered, DocError> {
        let body = match doc {
            Doc::Index => pages::index(self, snap),
            Doc::Feed(format) => {
                let spec = self.feed(idx);
                let items = self
                    .with_reader(|s| s.top_items(&spec.id, spec.max_items))?
                    .ok_or(DocError::NoStore)?;
                let meta = crate::publish::feed_meta(&self.config.settings, spec);
                render::render(format, &meta, &items)
            }
            Doc::Page => {
                let spec = self.feed(idx);
                let items = self
                    .with_reader(|s| s.top_items(&spec.id, spec.max_items))?
                    .ok_or(DocError::NoStore)?;
                pages::feed_page(self, spec, &snap.feeds[idx], &items, &snap.round)
            }
        };
        Ok(Rendered::new(body))
    }
}

/// The first part of a document's cache key.
fn slot(idx: usize, doc: Doc) -> u32 {
    match doc {
        Doc::Index => INDEX,
        _ => u32::try_from(idx).unwrap_or(INDEX - 1),
    }
}

/// The healed listing a feed reads, when the store remembers one for its current config.
fn healed_listing(feed: &FeedSpec, memory: Option<ListingMemory>) -> Option<HealedListing> {
    let m = memory?;
    (m.kind == MemoryKind::Healed && m.config_key == heal::config_key(feed)).then(|| {
        HealedListing {
            since: m.since,
            broken: m.broken.unwrap_or_default(),
        }
    })
}

/// A feed's view from its store summary, update generation, next fetch and healed listing.
fn view(
    summary: FeedSummary,
    generation: u64,
    next: Option<DateTime<Utc>>,
    notify_after: u32,
    healed: Option<&HealedListing>,
) -> FeedView {
    let health = status::health(&summary, notify_after, healed);
    let items_version = mix(&[summary.fingerprint, generation]);
    let page_version = mix(&[
        items_version,
        xxhash_rust::xxh3::xxh3_64(format!("{health:?}{next:?}{}", summary.items).as_bytes()),
    ]);
    // A clock that went back must not give a date in the future.
    let last_modified = summary
        .last_change
        .map(|t| t.min(Utc::now()))
        .and_then(|t| {
            HeaderValue::from_str(&crate::serve::headers::http_date(t))
                .ok()
                .map(|v| (t, v))
        });
    FeedView {
        summary,
        health,
        next_fetch: next,
        items_version,
        page_version,
        last_modified,
    }
}

/// The version of `doc` in `snap`.
pub fn version_of(snap: &Snapshot, idx: usize, doc: Doc) -> u64 {
    match doc {
        Doc::Index => snap.version,
        Doc::Feed(_) => snap.feeds.get(idx).map_or(0, |f| f.items_version),
        Doc::Page => snap.feeds.get(idx).map_or(0, |f| f.page_version),
    }
}

fn mix(parts: &[u64]) -> u64 {
    let bytes: Vec<u8> = parts.iter().flat_map(|p| p.to_le_bytes()).collect();
    xxhash_rust::xxh3::xxh3_64(&bytes)
}

#[cfg(test)]
mod tests {
    use std::io::Read as _;

    use super::*;

    #[test]
    fn rendered_codings_decode_to_the_same_bytes() {
        let body = "<rss>".repeat(500).into_bytes();
        let r = Rendered::new(body.clone());
        let mut gunzip = Vec::new();
        flate2::read::GzDecoder::new(&r.gzip[..])
            .read_to_end(&mut gunzip)
            .expect("gzip");
        assert_eq!(gunzip, body);
        let mut unbr = Vec::new();
        brotli::BrotliDecompress(&mut &r.br[..], &mut unbr).expect("br");
        assert_eq!(unbr, body);
        assert!(r.gzip.len() < body.len() / 10 && r.br.len() < body.len() / 10);
        assert_eq!(r.hash.len(), 32);
        assert_eq!(r.etag(Encoding::Identity), format!("\"{}\"", r.hash));
        assert_eq!(r.etag(Encoding::Gzip), format!("\"{}-gzip\"", r.hash));
        assert_ne!(Rendered::new(b"other".to_vec()).hash, r.hash);
    }
}
