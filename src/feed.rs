//! Validated runtime configuration: what `config` produces and every later stage reads.
//! Selectors are compiled and URLs parsed here once, so a run never re-parses them.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use url::Url;

use crate::extract::select::{CardRules, FieldSelector};
use crate::render::Format;

/// Global settings (`[settings]`), with CLI overrides applied.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Where feed files are written.
    pub output_dir: PathBuf,
    /// The history: an SQLite file, or a PostgreSQL database shared by many processes.
    pub state: crate::store::StateLocation,
    pub user_agent: String,
    /// Items per output feed unless a feed sets its own.
    pub max_items: usize,
    pub formats: Vec<Format>,
    /// Public URL of `output_dir` (ends with `/`), used for self links.
    pub public_url: String,
    /// Items that left the page and the feed are deleted from the store after this many days.
    pub keep_days: u32,
    /// Article pages fetched per feed and run at most by enrichment (0 turns it off).
    pub enrich_budget: usize,
    /// How long a runner holds a host of a shared state without renewing (`lease_secs`).
    pub lease: Duration,
    /// Shortest interval between fetches of a feed (`every`); `None`: `run` fetches every
    /// feed each time.
    pub every: Option<Duration>,
    /// Longest interval between fetches of a feed (`max_every`, default 24 h).
    pub max_every: Duration,
    /// Default of the feeds' `heal`.
    pub heal: bool,
    pub crawl: CrawlSettings,
}

/// Politeness and limits of the crawler.
#[derive(Debug, Clone, PartialEq)]
pub struct CrawlSettings {
    /// Feeds processed at once.
    pub concurrency: usize,
    /// Requests in flight per host.
    pub per_host: usize,
    /// Minimum gap between request starts on one host.
    pub min_interval: Duration,
    /// Whole-request limit (connect, headers and body).
    pub timeout: Duration,
    pub connect_timeout: Duration,
    /// Longest silence while waiting for the answer or the next bytes of the body.
    pub read_timeout: Duration,
    /// Retries after the first attempt for transient failures.
    pub retries: u32,
    /// Back-off before the first retry (doubles each time, with jitter).
    pub retry_backoff: Duration,
    /// Longest `Retry-After` we are willing to wait.
    pub retry_after_cap: Duration,
    /// Largest (decompressed) body accepted.
    pub max_body_bytes: u64,
    pub max_redirects: usize,
    /// Cards taken from one page at most.
    pub max_cards: usize,
    /// Whether robots.txt is fetched and honoured.
    pub robots: bool,
    /// Per-host overrides (`[hosts."example.org"]`), keyed by lower-case host name.
    pub hosts: BTreeMap<String, HostOverride>,
}

/// One `[hosts."name"]` table: limits of that host that differ from `[settings]`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HostOverride {
    pub per_host: Option<usize>,
    pub min_interval: Option<Duration>,
}

impl Default for CrawlSettings {
    fn default() -> Self {
        CrawlSettings {
            concurrency: 16,
            per_host: 1,
            min_interval: Duration::from_secs(1),
            timeout: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(10),
            read_timeout: Duration::from_secs(20),
            retries: 3,
            retry_backoff: Duration::from_secs(1),
            retry_after_cap: Duration::from_secs(120),
            max_body_bytes: 10 * 1024 * 1024,
            max_redirects: 10,
            max_cards: 500,
            robots: true,
            hosts: BTreeMap::new(),
        }
    }
}

/// One `[[feed]]`, validated.
#[derive(Debug, Clone)]
pub struct FeedSpec {
    /// Safe file stem (`[a-z0-9._-]`).
    pub id: String,
    pub title: String,
    pub description: Option<String>,
    /// Listing page: http(s) or file.
    pub url: Url,
    /// Links resolve against this instead of `url`.
    pub base_url: Option<Url>,
    /// The http(s) page the feed points readers to (`base_url` or `url`).
    pub site_url: Url,
    pub max_items: usize,
    /// Compiled selectors; `None` when the feed relies on structured data and auto-detection.
    pub rules: Option<CardRules>,
    pub date_format: Option<String>,
    pub timezone: chrono_tz::Tz,
    /// Selector of the next-page link (pagination).
    pub next: Option<FieldSelector>,
    /// Pages followed at most (1 = no pagination).
    pub max_pages: u32,
    /// This feed's wish for its host's minimum request interval (the largest wish of the
    /// feeds on a host wins; a `[hosts]` table beats them all).
    pub min_interval: Option<Duration>,
    /// Fill missing dates, authors, images and read times from the article pages.
    pub enrich: bool,
    /// This feed's own `every` (beats `[settings] every`).
    pub every: Option<Duration>,
    /// This feed's own `max_every` (beats `[settings] max_every`).
    pub max_every: Option<Duration>,
    /// Re-detect the listing when the card selector (configured or pinned) stops matching,
    /// and take it when it holds the feed's known items (`heal`).
    pub heal: bool,
}

/// `[serve]`: the HTTP side of `scifeed serve`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServeSettings {
    /// Address the server listens on (`--listen` beats it).
    pub listen: SocketAddr,
    /// Where readers reach the server (behind a reverse proxy), ending in `/`; `None`:
    /// `http://<listen address>/`.
    pub public_url: Option<String>,
    /// When set, feeds and pages need `?key=TOKEN` or `Authorization: Bearer TOKEN`.
    pub token: Option<String>,
    /// Where alerts are POSTed as JSON.
    pub notify_url: Option<Url>,
    /// Consecutive failures after which a feed counts as failing (and an alert goes out).
    pub notify_after: u32,
    /// Memory for rendered feeds and pages; beyond it the least used are dropped and
    /// rendered again from the store when asked for.
    pub cache_bytes: usize,
    /// Connections served at once; more wait in the kernel's accept queue.
    pub max_connections: usize,
}

impl Default for ServeSettings {
    fn default() -> Self {
        ServeSettings {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            public_url: None,
            token: None,
            notify_url: None,
            notify_after: 3,
            cache_bytes: 32 << 20,
            max_connections: 4096,
        }
    }
}

/// A whole validated config: the main file and the files it includes.
#[derive(Debug, Clone)]
pub struct Config {
    /// The file it was read from.
    pub path: PathBuf,
    /// Its `include` patterns, as written.
    pub include: Vec<String>,
    /// The files those patterns named, in the order their feeds were read.
    pub included: Vec<PathBuf>,
    pub settings: Settings,
    pub serve: ServeSettings,
    pub feeds: Vec<FeedSpec>,
}
