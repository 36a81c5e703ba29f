//! The only module that knows the order of stages:
//! select the due feeds (schedule) -> fetch -> decode -> extract -> merge with the store ->
//! enrich from article pages (opt-in) -> plan the next fetch (schedule) -> commit -> render ->
//! atomic write. A [`Runner`] runs such rounds (`run` one, `serve` many).
//!
//! Feeds run concurrently (`concurrency` at once, hosts taking turns); every request waits at
//! its host's gate inside the fetcher. Pages of a paginated feed are fetched one after the
//! other and their cards merged in page order. Everything after a fetch runs on the blocking
//! pool because `scraper::Html` is not `Send` and parsing and SQLite are blocking work. A
//! failing feed becomes a [`FeedOutcome`], never an early return, and leaves its files and
//! history as they were.

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use chrono::{DateTime, SubsecRound, Utc};
use futures_util::StreamExt;
use scraper::Html;
use url::Url;

use crate::enrich;
use crate::extract::clamp;
use crate::extract::date::DateContext;
use crate::extract::page::{self as page_extract, CardSource, PageExtraction};
use crate::extract::parse::{self, TooComplex};
use crate::extract::select::{self, Extraction, FieldSelector, PageContext};
use crate::extract::structured;
use crate::failpoint;
use crate::feed::{Config, FeedSpec, Settings};
use crate::fetch::cache::CacheHints;
use crate::fetch::gate::HostGates;
use crate::fetch::robots::RobotsCache;
use crate::fetch::{FetchError, Fetched, Fetcher, Page};
use crate::merge;
use crate::model::{ArticleRecord, Card, FeedMeta, Item};
use crate::output;
use crate::render;
use crate::report::{FeedOutcome, FeedStatus, RunReport};
use crate::schedule::{self, ScheduleConfig, ScheduleState};
use crate::shutdown::Shutdown;
use crate::store::{Store, StoreError, Validators};

/// Options of one `scifeed run`.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// Wait for another run on the same state instead of exiting.
    pub wait: bool,
    /// Only these feed ids (all when empty).
    pub only: Vec<String>,
    /// The run's clock; `None` = now. Tests pin it to make dates reproducible.
    pub now: Option<DateTime<Utc>>,
    /// Show a progress bar (only sensible on a terminal).
    pub progress: bool,
    /// Stop gracefully on SIGINT/SIGTERM (installs process-wide handlers; the CLI sets it).
    pub signals: bool,
    /// Fetch every feed, due or not (`run --all`).
    pub all: bool,
}

/// Options of one crawl round ([`Runner::round`]).
#[derive(Debug, Clone, Default)]
pub struct RoundOptions {
    /// Only these feed ids (all when empty).
    pub only: Vec<String>,
    /// Fetch only the feeds whose schedule says they are due; feeds without `every` always
    /// are. `false` fetches every feed (`run --all`).
    pub due_only: bool,
    /// `every` of feeds that set none, before `[settings] every` (`serve --every`).
    pub every: Option<Duration>,
    /// The round's clock; `None` = now. Tests pin it.
    pub now: Option<DateTime<Utc>>,
    /// Show a progress bar (only sensible on a terminal).
    pub progress: bool,
}

/// What one round did, and when the next one is wanted.
#[derive(Debug, Clone, Default)]
pub struct RoundReport {
    /// Per-feed outcomes (feeds not due included, as [`FeedStatus::NotDue`]).
    pub report: RunReport,
    /// The earliest next due time of the config's scheduled feeds (`None` when no feed has
    /// `every`); may be in the past when a feed is already due again (say, an interrupted one).
    pub next_wake: Option<DateTime<Utc>>,
    /// HTTP requests this round sent (robots.txt, retries and redirect hops included).
    pub requests: usize,
}

/// Errors that stop the whole run (exit code 2).
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("cannot set up HTTP: {0}")]
    Client(#[from] FetchError),
    #[error("cannot create output directory {}: {source}", path.display())]
    OutputDir {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("no feed with id {0:?} in the config")]
    UnknownFeed(String),
}

/// Why one feed failed; becomes the outcome's message.
#[derive(Debug, thiserror::Error)]
pub enum FeedError {
    #[error(transparent)]
    Fetch(#[from] FetchError),
    #[error("{url}: {}card selector `{selector}` matched nothing{}", diagnosis.map(|d| format!("{d} (")).unwrap_or_default(), if diagnosis.is_some() { ")" } else { "" })]
    NoCards {
        url: String,
        selector: String,
        diagnosis: Option<&'static str>,
    },
    #[error(
        "{url}: card selector `{selector}` matched {matched} element(s) but none had a title and an http(s) link ({first})"
    )]
    NoValidCards {
        url: String,
        selector: String,
        matched: usize,
        first: String,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("cannot write {}: {source}", path.display())]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{url}: {source}")]
    NoListing {
        url: String,
        source: page_extract::NoListing,
    },
    #[error("{url}: page {reason}; refusing to extract from it")]
    TooComplex { url: String, reason: TooComplex },
    #[error("internal error: {0}")]
    Internal(String),
}

struct RunCtx {
    settings: Settings,
    store: Arc<Mutex<Store>>,
    fetcher: Arc<Fetcher>,
    now: DateTime<Utc>,
    shutdown: Shutdown,
    /// `every` of feeds that set none (see [`RoundOptions::every`]).
    every: Option<Duration>,
}

impl RunCtx {
    fn store(&self) -> MutexGuard<'_, Store> {
        lock_store(&self.store)
    }
}

/// Runs the (selected) feeds of `config` once: those due, or all with `opts.all` or when no
/// feed has a schedule.
pub async fn run(config: &Config, opts: &RunOptions) -> Result<RunReport, RunError> {
    // A usage error must not create or migrate the state.
    if let Some(id) = opts
        .only
        .iter()
        .find(|id| !config.feeds.iter().any(|f| &f.id == *id))
    {
        return Err(RunError::UnknownFeed(id.clone()));
    }
    let runner = Runner::open(config, opts.wait)?;
    if opts.signals {
        runner.listen_for_signals();
    }
    let round = runner
        .round(&RoundOptions {
            only: opts.only.clone(),
            due_only: !opts.all,
            every: None,
            now: opts.now,
            progress: opts.progress,
        })
        .await?;
    Ok(round.report)
}

/// Crawls a config round after round in one process (`run` makes one round, `serve` many):
/// holds the locked store, the HTTP client with its connections, the host gates (back-offs
/// carry over between rounds) and the shutdown switch.
pub struct Runner {
    config: Config,
    store: Arc<Mutex<Store>>,
    fetcher: Arc<Fetcher>,
    shutdown: Shutdown,
    /// Rounds never overlap.
    round: tokio::sync::Mutex<()>,
}

impl Runner {
    /// Opens and locks the store (`wait`: wait for another process holding it), creates the
    /// output directory and the fetcher.
    pub fn open(config: &Config, wait: bool) -> Result<Runner, RunError> {
        let settings = &config.settings;
        let store = Arc::new(Mutex::new(Store::open(&settings.state, wait)?));
        std::fs::create_dir_all(&settings.output_dir).map_err(|source| RunError::OutputDir {
            path: settings.output_dir.clone(),
            source,
        })?;
        output::remove_stale_temps(&settings.output_dir);
        let gates = HostGates::for_run(
            &settings.crawl,
            config
                .feeds
                .iter()
                .filter_map(|f| f.url.host_str().map(|h| (h, f.min_interval))),
        );
        let robots_cache: Arc<dyn RobotsCache> = store.clone();
        let fetcher = Fetcher::new(
            &settings.user_agent,
            &settings.crawl,
            gates,
            robots_cache,
            Utc::now().trunc_subsecs(0),
        )?;
        Ok(Runner {
            config: config.clone(),
            store,
            fetcher: Arc::new(fetcher),
            shutdown: Shutdown::default(),
            round: tokio::sync::Mutex::new(()),
        })
    }

    /// Installs SIGINT/SIGTERM handlers that stop the round in progress gracefully (call
    /// inside the runtime).
    pub fn listen_for_signals(&self) {
        if let Err(e) = self.shutdown.listen() {
            tracing::warn!("cannot install signal handlers: {e}");
        }
    }

    /// The switch that stops rounds: once triggered, the round in progress finishes the feeds
    /// past their fetch and later rounds start no feed.
    pub fn shutdown(&self) -> &Shutdown {
        &self.shutdown
    }

    /// The config the runner crawls.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The store, locked for this process; hold the guard briefly (rounds use it too).
    pub fn store(&self) -> MutexGuard<'_, Store> {
        lock_store(&self.store)
    }

    /// One crawl round: fetches the due (or all, or the named) feeds, each committed and
    /// written as it finishes, and says when the next round is wanted.
    pub async fn round(&self, opts: &RoundOptions) -> Result<RoundReport, RunError> {
        let _one_at_a_time = self.round.lock().await;
        let config = &self.config;
        let feeds: Vec<FeedSpec> = if opts.only.is_empty() {
            config.feeds.clone()
        } else {
            let mut v = Vec::new();
            for id in &opts.only {
                let f = config
                    .feeds
                    .iter()
                    .find(|f| &f.id == id)
                    .ok_or_else(|| RunError::UnknownFeed(id.clone()))?;
                v.push(f.clone());
            }
            v
        };
        let now = opts.now.unwrap_or_else(Utc::now).trunc_subsecs(0);
        self.fetcher.begin_round(now);
        let requests_before = self.fetcher.requests();
        let states = self.store().schedule_states()?;
        let (feeds, later) = schedule::select_due(
            feeds,
            &config.settings,
            opts.every,
            &states,
            opts.due_only,
            now,
        );
        let ctx = Arc::new(RunCtx {
            settings: config.settings.clone(),
            store: Arc::clone(&self.store),
            fetcher: Arc::clone(&self.fetcher),
            now,
            shutdown: self.shutdown.clone(),
            every: opts.every,
        });
        let started = Instant::now();
        let bar = progress_bar(opts.progress && !feeds.is_empty(), feeds.len());
        let concurrency = ctx.settings.crawl.concurrency;
        let mut outcomes: Vec<FeedOutcome> = futures_util::stream::iter(work_list(feeds))
            .map(|work| {
                let ctx = Arc::clone(&ctx);
                let bar = bar.clone();
                async move {
                    match work {
                        Work::Robots(url) => {
                            ctx.fetcher.warm_up(&url).await;
                            None
                        }
                        Work::Feed(feed) if ctx.shutdown.signal().is_some() => {
                            // Stopping: feeds not started yet stay as they are ("not run").
                            Some(FeedOutcome::new(&feed.id, feed.url.as_str()))
                        }
                        Work::Feed(feed) => {
                            let out = process_feed(ctx, feed).await;
                            if let Some(b) = &bar {
                                b.set_message(out.id.clone());
                                b.inc(1);
                            }
                            Some(out)
                        }
                    }
                }
            })
            .buffer_unordered(concurrency)
            .filter_map(std::future::ready)
            .collect()
            .await;
        if let Some(b) = bar {
            b.finish_and_clear();
        }
        let requests = self.fetcher.requests() - requests_before;
        tracing::info!(
            "{} feeds fetched, {} not due, {requests} HTTP requests in {:.2}s",
            outcomes.len(),
            later.len(),
            started.elapsed().as_secs_f64()
        );
        if !later.is_empty() && ctx.shutdown.signal().is_none() {
            let ctx2 = Arc::clone(&ctx);
            let idle: Vec<FeedSpec> = later.iter().map(|(f, _)| f.clone()).collect();
            let rewritten = tokio::task::spawn_blocking(move || refresh_not_due(&ctx2, &idle))
                .await
                .unwrap_or_default();
            for id in rewritten {
                tracing::info!(feed = %id, "not due; files rewritten from the store");
            }
        }
        outcomes.extend(later.into_iter().map(|(feed, next)| {
            let mut o = FeedOutcome::new(&feed.id, feed.url.as_str());
            o.status = FeedStatus::NotDue { next };
            o
        }));
        outcomes.sort_by(|a, b| a.id.cmp(&b.id));
        let states = self.store().schedule_states()?;
        Ok(RoundReport {
            report: RunReport {
                outcomes,
                interrupted: self.shutdown.signal(),
            },
            next_wake: schedule::next_wake(
                &config.feeds,
                &config.settings,
                opts.every,
                &states,
                now,
            ),
            requests,
        })
    }
}

fn lock_store(store: &Mutex<Store>) -> MutexGuard<'_, Store> {
    // A panic while holding the lock cannot leave SQLite inconsistent (transactions roll
    // back), so a poisoned lock is still usable.
    store
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// One unit of work for the run's single `buffer_unordered`.
enum Work {
    /// Read the robots.txt governing this URL.
    Robots(Url),
    Feed(Arc<FeedSpec>),
}

/// The run's work in order: each host's robots.txt first (busiest hosts first), then the
/// feeds, hosts taking turns. Reading every robots.txt up front starts every host's clock at
/// once; otherwise the hosts whose first feed comes late in the stream would start their
/// queue (robots.txt, Crawl-delay, pages) only when a slot frees up. Each robots.txt still
/// takes one of the `concurrency` slots, so the global limit holds.
fn work_list(feeds: Vec<FeedSpec>) -> Vec<Work> {
    let feeds = interleave_by_host(feeds);
    let mut origins = HashSet::new();
    let robots: Vec<Work> = feeds
        .iter()
        .filter(|f| matches!(f.url.scheme(), "http" | "https"))
        .filter(|f| origins.insert(f.url.origin().ascii_serialization()))
        .map(|f| Work::Robots(f.url.clone()))
        .collect();
    robots
        .into_iter()
        .chain(feeds.into_iter().map(|f| Work::Feed(Arc::new(f))))
        .collect()
}

/// Orders feeds so that hosts take turns, hosts with the most feeds first.
///
/// `buffer_unordered` starts feeds in stream order, and a feed waiting at its host's gate
/// still holds one of the `concurrency` slots: config order (often one site's feeds in a row)
/// would fill every slot with one host while the others idle. Taking turns keeps every host's
/// queue moving, and starting the longest queues first keeps the run close to the time the
/// slowest host needs.
fn interleave_by_host(feeds: Vec<FeedSpec>) -> Vec<FeedSpec> {
    let total = feeds.len();
    let mut index: HashMap<String, usize> = HashMap::new();
    let mut groups: Vec<std::collections::VecDeque<FeedSpec>> = Vec::new();
    for feed in feeds {
        let host = feed.url.host_str().unwrap_or_default().to_ascii_lowercase();
        let i = *index.entry(host).or_insert_with(|| {
            groups.push(std::collections::VecDeque::new());
            groups.len() - 1
        });
        groups[i].push_back(feed);
    }
    // Stable: equal queues keep config order.
    groups.sort_by_key(|q| std::cmp::Reverse(q.len()));
    let mut out = Vec::with_capacity(total);
    while out.len() < total {
        for q in &mut groups {
            if let Some(f) = q.pop_front() {
                out.push(f);
            }
        }
    }
    out
}

fn progress_bar(enabled: bool, len: usize) -> Option<indicatif::ProgressBar> {
    if !enabled {
        return None;
    }
    let bar = indicatif::ProgressBar::new(len as u64);
    let style =
        indicatif::ProgressStyle::with_template("{bar:30} {pos}/{len} feeds {elapsed} {wide_msg}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar());
    bar.set_style(style);
    Some(bar)
}

async fn process_feed(ctx: Arc<RunCtx>, feed: Arc<FeedSpec>) -> FeedOutcome {
    let started = Instant::now();
    let mut outcome = FeedOutcome::new(&feed.id, feed.url.as_str());
    let mut sched = match ctx.store().schedule(&feed.id) {
        Ok(prev) => FeedSchedule {
            cfg: ScheduleConfig::for_feed(&feed, &ctx.settings, ctx.every),
            prev,
            hints: CacheHints::default(),
        },
        Err(e) => {
            outcome.status = FeedStatus::Failed(e.to_string());
            return outcome;
        }
    };
    let result = fetch_and_update(&ctx, &feed, &mut outcome, &mut sched).await;
    outcome.elapsed = started.elapsed();
    match result {
        Ok(status) => {
            tracing::info!(feed = %feed.id, "{status:?} in {:.2}s", outcome.elapsed.as_secs_f64());
            outcome.status = status;
        }
        Err(e) => {
            let msg = e.to_string();
            // The end-of-run report prints every failure; the log line is for -v.
            tracing::info!(feed = %feed.id, "{msg}");
            let next = sched.plan(schedule::Outcome::Failed, &feed.id, ctx.now);
            if let Err(se) =
                ctx.store()
                    .record_failure_scheduled(&feed.id, &msg, ctx.now, next.as_ref())
            {
                tracing::error!(feed = %feed.id, "cannot record failure: {se}");
            }
            outcome.status = FeedStatus::Failed(msg);
        }
    }
    outcome
}

/// What the schedule needs to know about one feed's fetch.
#[derive(Debug, Clone)]
struct FeedSchedule {
    /// `None`: the feed has no `every`, nothing is planned.
    cfg: Option<ScheduleConfig>,
    /// The stored state before this fetch.
    prev: Option<ScheduleState>,
    /// What the last response said about asking again.
    hints: CacheHints,
}

impl FeedSchedule {
    /// The state to store after this fetch ended with `outcome`.
    fn plan(
        &self,
        outcome: schedule::Outcome,
        feed: &str,
        now: DateTime<Utc>,
    ) -> Option<ScheduleState> {
        let cfg = self.cfg.as_ref()?;
        Some(schedule::plan(
            cfg,
            self.prev.as_ref(),
            outcome,
            &self.hints,
            feed,
            now,
        ))
    }
}

/// What extraction found on one listing page.
struct PageCards {
    url: Url,
    /// Cards in page order.
    cards: Vec<Card>,
    /// Ids (canonical links) of those cards already in the feed's history.
    known: HashSet<String>,
    /// Elements the card selector matched.
    matched: usize,
    /// The card selector used (configured or detected), or "structured data", for messages.
    card_source: String,
    warnings: Vec<String>,
    /// The next page, when the feed paginates and the page links one.
    next: Option<Url>,
    /// Why the page has no cards, when it says so itself.
    diagnosis: Option<&'static str>,
}

async fn fetch_and_update(
    ctx: &Arc<RunCtx>,
    feed: &Arc<FeedSpec>,
    outcome: &mut FeedOutcome,
    sched: &mut FeedSchedule,
) -> Result<FeedStatus, FeedError> {
    let url_key = validators_key(feed);
    let (validators, state) = {
        let store = ctx.store();
        (store.validators(&url_key)?, store.feed_state(&feed.id)?)
    };
    let render_key = render_key(&ctx.settings, feed);
    let files_stale = files_stale(&ctx.settings, feed, &state, &render_key);
    let (fetched, hints) = tokio::select! {
        fetched = ctx.fetcher.fetch_with_hints(&feed.url, &validators) => fetched,
        // A fetch changes nothing, so abandoning it on shutdown is safe.
        () = ctx.shutdown.grace_over() => return Ok(FeedStatus::Pending),
    };
    sched.hints = hints;
    let unchanged = sched.plan(
        schedule::Outcome::Fetched { new_items: 0 },
        &feed.id,
        ctx.now,
    );
    let page = match fetched? {
        Fetched::NotModified => {
            outcome.http_status = Some(304);
            if let Some(next) = &unchanged {
                ctx.store().save_schedule(&feed.id, next)?;
            }
            return finish_unchanged_page(ctx, feed, files_stale, &render_key, outcome, |total| {
                FeedStatus::NotModified { total }
            })
            .await;
        }
        Fetched::Page(p) => p,
    };
    outcome.http_status = Some(page.status);
    failpoint::hit("after-fetch", &feed.id);
    let body_hash = format!("{:032x}", xxhash_rust::xxh3::xxh3_128(&page.body));
    let new_validators = Validators {
        etag: page.etag.clone(),
        last_modified: page.last_modified.clone(),
        body_hash: Some(body_hash),
    };
    if validators.body_hash.is_some() && validators.body_hash == new_validators.body_hash {
        // Same bytes as last time: nothing to parse. Keep fresh validators for next time.
        ctx.store().commit_feed_scheduled(
            &feed.id,
            &[],
            &[(url_key, new_validators)],
            false,
            ctx.now,
            unchanged.as_ref(),
        )?;
        return finish_unchanged_page(ctx, feed, files_stale, &render_key, outcome, |total| {
            FeedStatus::Unchanged { total }
        })
        .await;
    }
    let first = extract_blocking(ctx, feed, page).await?;
    if first.matched == 0 {
        return Err(FeedError::NoCards {
            url: first.url.to_string(),
            selector: first.card_source.clone(),
            diagnosis: first.diagnosis,
        });
    }
    if first.cards.is_empty() {
        return Err(FeedError::NoValidCards {
            url: first.url.to_string(),
            selector: first.card_source.clone(),
            matched: first.matched,
            first: first.warnings.first().cloned().unwrap_or_default(),
        });
    }
    // No stored fingerprint means a first run or an incomplete crawl last time: then pages
    // count as new when this run has not seen their items, so pagination goes deep again.
    let deep = validators.body_hash.is_none();
    let (cards, mut warnings, complete) = follow_pages(ctx, feed, first, deep).await?;
    outcome.cards = cards.len();
    // When a later page failed, forget the first page's validators so the next run fetches
    // and paginates again instead of calling the page unchanged.
    let validators = if complete {
        new_validators
    } else {
        Validators::default()
    };
    let ctx2 = Arc::clone(ctx);
    let feed2 = Arc::clone(feed);
    let sched2 = sched.clone();
    let update = tokio::task::spawn_blocking(move || {
        commit_and_write(
            &ctx2,
            &feed2,
            &cards,
            validators,
            files_stale,
            &render_key,
            &sched2,
        )
    })
    .await
    .map_err(|e| FeedError::Internal(format!("update task failed: {e}")))??;
    warnings.extend(update.warnings);
    for w in &warnings {
        tracing::warn!(feed = %feed.id, "{w}");
    }
    outcome.warnings = warnings;
    outcome.dated = Some(update.dated);
    Ok(update.status)
}

/// The end of a run whose page did not change (304 or the same bytes): enrichment works
/// through its backlog, then stale files are rewritten. `unchanged` makes the status when
/// nothing changed.
async fn finish_unchanged_page(
    ctx: &Arc<RunCtx>,
    feed: &Arc<FeedSpec>,
    files_stale: bool,
    render_key: &str,
    outcome: &mut FeedOutcome,
    unchanged: fn(usize) -> FeedStatus,
) -> Result<FeedStatus, FeedError> {
    let mut enriched = 0;
    if feed.enrich && ctx.settings.enrich_budget > 0 {
        let (ctx2, feed2) = (Arc::clone(ctx), Arc::clone(feed));
        let (n, warnings) = tokio::task::spawn_blocking(move || enrich_backlog(&ctx2, &feed2))
            .await
            .map_err(|e| FeedError::Internal(format!("enrichment task failed: {e}")))??;
        for w in &warnings {
            tracing::warn!(feed = %feed.id, "{w}");
        }
        outcome.warnings.extend(warnings);
        enriched = n;
    }
    let total = rewrite_if_stale(ctx, feed, files_stale || enriched > 0, render_key)?;
    if enriched == 0 {
        return Ok(unchanged(total));
    }
    Ok(FeedStatus::Updated {
        new: 0,
        updated: enriched,
        total,
        // Items changed, so every format was rewritten.
        files_written: ctx.settings.formats.len(),
    })
}

/// Enriches stored items of the feed's output that still lack something (the budget of an
/// earlier run ran out); returns how many changed. Runs on the blocking pool.
fn enrich_backlog(ctx: &RunCtx, feed: &FeedSpec) -> Result<(usize, Vec<String>), FeedError> {
    let top = ctx.store().top_items(&feed.id, feed.max_items)?;
    let mut merged = merge::MergeOutcome {
        upserts: top
            .into_iter()
            .filter(|i| enrich::wants(i, ctx.now))
            .collect(),
        ..merge::MergeOutcome::default()
    };
    if merged.upserts.is_empty() {
        return Ok((0, Vec::new()));
    }
    let warnings = enrich_items(ctx, feed, &mut merged);
    let changed: Vec<Item> = merged
        .upserts
        .into_iter()
        .filter(|i| i.updated == ctx.now)
        .collect();
    if !changed.is_empty() {
        ctx.store()
            .commit_feed(&feed.id, &changed, &[], true, ctx.now)?;
    }
    Ok((changed.len(), warnings))
}

/// Enrichment: items that lack a date, author, image or read time get them from their
/// article page, each page fetched once (cached in the store) and at most
/// `enrich_budget` pages per feed and run. Best effort: problems become warnings.
fn enrich_items(ctx: &RunCtx, feed: &FeedSpec, merged: &mut merge::MergeOutcome) -> Vec<String> {
    let mut warnings = Vec::new();
    let mut budget = ctx.settings.enrich_budget;
    let mut fetched = 0usize;
    let handle = tokio::runtime::Handle::current();
    for item in merged.upserts.iter_mut() {
        if !enrich::wants(item, ctx.now) {
            continue;
        }
        let cached = match ctx.store().article(&item.id) {
            Ok(c) => c,
            Err(e) => {
                warnings.push(format!("enrichment cache: {e}"));
                return warnings;
            }
        };
        let record = match cached {
            Some(rec) if !enrich::stale(&rec, ctx.now) => rec,
            _ if budget == 0 || ctx.shutdown.signal().is_some() => continue,
            _ => {
                budget -= 1;
                fetched += 1;
                let rec = handle.block_on(fetch_article(ctx, feed, item));
                if let Some(err) = &rec.error {
                    warnings.push(format!("enrichment: {}: {err}", item.link));
                }
                if let Err(e) = ctx.store().save_article(&item.id, &rec) {
                    warnings.push(format!("enrichment cache: {e}"));
                }
                rec
            }
        };
        let was_known_unchanged = item.first_seen != ctx.now && item.updated != ctx.now;
        if enrich::apply(item, &record, ctx.now) && was_known_unchanged {
            merged.updated += 1;
        }
    }
    if fetched > 0 {
        tracing::info!(feed = %feed.id, "enrichment fetched {fetched} article page(s)");
    }
    warnings
}

/// Fetches one article page and reads its structured data.
async fn fetch_article(ctx: &RunCtx, feed: &FeedSpec, item: &Item) -> ArticleRecord {
    let failed = |e: String| ArticleRecord {
        fetched: ctx.now,
        error: Some(e),
        ..ArticleRecord::default()
    };
    let Ok(url) = Url::parse(&item.link) else {
        return failed("not a URL".into());
    };
    let none = Validators::default();
    let fetched = tokio::select! {
        fetched = ctx.fetcher.fetch(&url, &none) => fetched,
        () = ctx.shutdown.grace_over() => return failed("interrupted by a signal".into()),
    };
    let page = match fetched {
        Ok(Fetched::Page(p)) => p,
        Ok(Fetched::NotModified) => return failed("unexpected 304".into()),
        Err(e) => return failed(e.to_string()),
    };
    let text = crate::decode::decode(&page.body, page.content_type.as_deref());
    let doc = match parse::parse_document(&text) {
        Ok(doc) => doc,
        Err(reason) => return failed(format!("page {reason}")),
    };
    let date = DateContext {
        format: None,
        tz: feed.timezone,
        now: ctx.now,
    };
    let base = select::document_base(&doc, &page.url, None);
    let meta = structured::page_data(&doc, &base, &date).page;
    enrich::record_from_page(&meta, ctx.now)
}

/// Follows `next` links from the first page while pages bring new items, up to `max_pages`.
/// New means unknown to the history (listings are newest first, so a page of known items
/// means the rest is known too), or with `deep` only unseen in this run. Returns the cards of
/// every page in page order without duplicates, the warnings, and whether pagination ended
/// normally (a failed later page keeps what the earlier pages gave and is a warning, not a
/// failed feed).
async fn follow_pages(
    ctx: &Arc<RunCtx>,
    feed: &Arc<FeedSpec>,
    first: PageCards,
    deep: bool,
) -> Result<(Vec<Card>, Vec<String>, bool), FeedError> {
    let mut seen: HashSet<String> = HashSet::new();
    let mut cards = Vec::new();
    let mut warnings = first.warnings;
    let mut brought_new = take_new(&mut seen, &mut cards, first.cards, &first.known, deep);
    let mut visited: HashSet<Url> = HashSet::from([feed.url.clone(), first.url]);
    let mut next = first.next;
    let mut page_no = 1;
    while let Some(url) = next.take() {
        if page_no >= feed.max_pages {
            tracing::debug!(feed = %feed.id, "max_pages ({}) reached; not following {url}", feed.max_pages);
            break;
        }
        if brought_new == 0 {
            tracing::debug!(feed = %feed.id, "page {page_no} brought no new items; not following {url}");
            break;
        }
        if !visited.insert(url.clone()) {
            tracing::debug!(feed = %feed.id, "next link {url} leads back to a page already read");
            break;
        }
        page_no += 1;
        let none = Validators::default();
        let fetched = tokio::select! {
            fetched = ctx.fetcher.fetch(&url, &none) => fetched,
            // Keep what the earlier pages gave; the next run paginates again.
            () = ctx.shutdown.grace_over() => return Ok((cards, warnings, false)),
        };
        let page = match fetched {
            Ok(Fetched::Page(p)) => p,
            // Cannot happen without validators; nothing new either way.
            Ok(Fetched::NotModified) => break,
            Err(e) => {
                warnings.push(format!(
                    "page {page_no} not fetched ({e}); kept the items of the pages before it"
                ));
                return Ok((cards, warnings, false));
            }
        };
        let pc = extract_blocking(ctx, feed, page).await?;
        if pc.matched == 0 {
            match pc.diagnosis {
                Some(d) => warnings.push(format!("page {page_no} ({}): {d}", pc.url)),
                None => {
                    tracing::debug!(feed = %feed.id, "page {page_no} ({}) has no cards", pc.url)
                }
            }
            break;
        }
        warnings.extend(pc.warnings);
        brought_new = take_new(&mut seen, &mut cards, pc.cards, &pc.known, deep);
        tracing::debug!(feed = %feed.id, "page {page_no} ({}): {brought_new} new item(s)", pc.url);
        next = pc.next;
    }
    Ok((cards, warnings, true))
}

/// Appends the cards not seen on earlier pages; returns how many are new (to the history, or
/// with `deep` just to this run).
fn take_new(
    seen: &mut HashSet<String>,
    out: &mut Vec<Card>,
    cards: Vec<Card>,
    known: &HashSet<String>,
    deep: bool,
) -> usize {
    let mut new = 0;
    for card in cards {
        let id = crate::canon::canonical(&card.link);
        if seen.insert(id.clone()) {
            new += usize::from(deep || !known.contains(&id));
            out.push(card);
        }
    }
    new
}

/// Decodes and extracts one page on the blocking pool (`scraper::Html` is not `Send`, and
/// parsing is CPU work).
async fn extract_blocking(
    ctx: &Arc<RunCtx>,
    feed: &Arc<FeedSpec>,
    page: Page,
) -> Result<PageCards, FeedError> {
    let ctx = Arc::clone(ctx);
    let feed = Arc::clone(feed);
    tokio::task::spawn_blocking(move || extract_page(&ctx, &feed, page))
        .await
        .map_err(|e| FeedError::Internal(format!("extraction task failed: {e}")))?
}

fn extract_page(ctx: &RunCtx, feed: &FeedSpec, page: Page) -> Result<PageCards, FeedError> {
    let text = crate::decode::decode(&page.body, page.content_type.as_deref());
    let (found, next) = {
        let doc = parse::parse_document(&text).map_err(|reason| FeedError::TooComplex {
            url: page.url.to_string(),
            reason,
        })?;
        let pctx = PageContext {
            page_url: &page.url,
            base_url: feed.base_url.as_ref(),
            date: DateContext {
                format: feed.date_format.as_deref(),
                tz: feed.timezone,
                now: ctx.now,
            },
            max_cards: ctx.settings.crawl.max_cards,
        };
        let next = match &feed.next {
            Some(sel) if feed.max_pages > 1 => next_link(&doc, sel, &page.url),
            _ => None,
        };
        let found = page_extract::extract(&doc, feed.rules.as_ref(), &pctx).map_err(|source| {
            FeedError::NoListing {
                url: page.url.to_string(),
                source,
            }
        })?;
        (found, next)
    };
    log_source(feed, &found);
    let card_source = found
        .source
        .rules(feed.rules.as_ref())
        .map_or_else(|| "structured data".to_string(), |r| r.card_source.clone());
    let PageExtraction {
        extraction:
            Extraction {
                cards,
                matched,
                warnings,
            },
        ..
    } = found;
    let mut warnings: Vec<String> = warnings.iter().map(ToString::to_string).collect();
    // Hostile pages: over-long fields are cut and non-http(s) links dropped, whichever way
    // the cards were found.
    let cards: Vec<Card> = cards
        .into_iter()
        .filter_map(|c| clamp::clamp_card(c).map_err(|w| warnings.push(w)).ok())
        .collect();
    // Which cards the history knows only matters for deciding whether to follow `next`.
    let known = if next.is_some() {
        let ids: Vec<String> = cards
            .iter()
            .map(|c| crate::canon::canonical(&c.link))
            .collect();
        ctx.store()
            .items_by_ids(&feed.id, &ids)?
            .into_keys()
            .collect()
    } else {
        HashSet::new()
    };
    Ok(PageCards {
        diagnosis: if matched == 0 {
            diagnose_empty(&text)
        } else {
            None
        },
        url: page.url,
        cards,
        known,
        matched,
        card_source,
        warnings,
        next,
    })
}

/// Says where an auto feed's cards came from (selector feeds are silent).
fn log_source(feed: &FeedSpec, found: &PageExtraction) {
    match &found.source {
        CardSource::Selectors => {}
        CardSource::Detected(c) => tracing::info!(
            feed = %feed.id,
            "auto-detected listing `{}`: {} cards (score {:.2})",
            c.selectors.card,
            c.cards,
            c.score
        ),
        CardSource::Structured { .. } => tracing::info!(
            feed = %feed.id,
            "{} articles from the page's structured data",
            found.extraction.cards.len()
        ),
    }
}

/// The page the `next` selector points to: its `@attr` (default `href`), resolved like the
/// page's links. Only http(s), or file for a saved page.
fn next_link(doc: &Html, sel: &FieldSelector, page_url: &Url) -> Option<Url> {
    let el = sel.matches(doc.root_element()).into_iter().next()?;
    let href = el.value().attr(sel.attr().unwrap_or("href"))?.trim();
    if href.is_empty() {
        return None;
    }
    let url = select::document_base(doc, page_url, None).join(href).ok()?;
    match url.scheme() {
        "http" | "https" => Some(url),
        "file" if page_url.scheme() == "file" => Some(url),
        _ => None,
    }
}

/// What [`commit_and_write`] did.
struct PageUpdate {
    status: FeedStatus,
    /// Items seen this run whose date came from the page, and all items seen this run.
    dated: (usize, usize),
    /// Enrichment problems (best effort, not failures).
    warnings: Vec<String>,
}

/// Merges the cards into the history, enriches them (opt-in), commits, and writes the files.
/// Runs on the blocking pool.
fn commit_and_write(
    ctx: &RunCtx,
    feed: &FeedSpec,
    cards: &[Card],
    validators: Validators,
    files_stale: bool,
    render_key: &str,
    sched: &FeedSchedule,
) -> Result<PageUpdate, FeedError> {
    let ids: Vec<String> = cards
        .iter()
        .map(|c| crate::canon::canonical(&c.link))
        .collect();
    let known = ctx.store().items_by_ids(&feed.id, &ids)?;
    let mut merged = merge::merge(&known, cards, ctx.now);
    let warnings = if feed.enrich {
        enrich_items(ctx, feed, &mut merged)
    } else {
        Vec::new()
    };
    let dated = merged
        .upserts
        .iter()
        .filter(|i| i.date_source != crate::model::DateSource::FirstSeen)
        .count();
    let mut store = ctx.store();
    let top = store.top_items(&feed.id, feed.max_items)?;
    failpoint::hit("before-commit", &feed.id);
    // The store commits before the files are written: a crash in between leaves the feed
    // dirty, and the next run re-renders it from the store. Files first would let a crash
    // re-date items already emitted (the re-merge would stamp a new first-seen time).
    let next = sched.plan(
        schedule::Outcome::Fetched {
            new_items: merged.new,
        },
        &feed.id,
        ctx.now,
    );
    store.commit_feed_scheduled(
        &feed.id,
        &merged.upserts,
        &[(validators_key(feed), validators)],
        merged.changed(),
        ctx.now,
        next.as_ref(),
    )?;
    drop(store);
    failpoint::hit("after-commit", &feed.id);
    let items = merge::select_for_output(top, &merged.upserts, feed.max_items);
    let mut written = 0;
    if merged.changed() || files_stale {
        written = write_outputs(ctx, feed, &items)?;
        ctx.store().mark_written(&feed.id, render_key)?;
        failpoint::hit("after-mark", &feed.id);
    }
    let store = ctx.store();
    store.prune(&feed.id, feed.max_items, ctx.settings.keep_days, ctx.now)?;
    let total = store.count_items(&feed.id)?;
    let status = if merged.changed() || written > 0 {
        FeedStatus::Updated {
            new: merged.new,
            updated: merged.updated,
            total,
            files_written: written,
        }
    } else {
        FeedStatus::Unchanged { total }
    };
    Ok(PageUpdate {
        status,
        dated: (dated, merged.upserts.len()),
        warnings,
    })
}

/// Whether the files are behind the store: a crash between commit and write, a changed
/// title or format list, a deleted file.
fn files_stale(
    settings: &Settings,
    feed: &FeedSpec,
    state: &crate::store::FeedState,
    render_key: &str,
) -> bool {
    state.dirty
        || state.render_key.as_deref() != Some(render_key)
        || outputs(settings, feed).iter().any(|p| !p.exists())
}

/// Brings the files of feeds that are not due up to date with the store, without fetching:
/// a schedule must not delay the recovery from a crash or a config change. Returns the ids
/// whose files were rewritten.
fn refresh_not_due(ctx: &RunCtx, feeds: &[FeedSpec]) -> Vec<String> {
    let mut rewritten = Vec::new();
    for feed in feeds {
        let key = render_key(&ctx.settings, feed);
        // Its own statement: the store guard must be gone before the rewrite takes it again.
        let state = ctx.store().feed_state(&feed.id);
        let result = state.map_err(FeedError::from).and_then(|state| {
            let stale = files_stale(&ctx.settings, feed, &state, &key);
            if stale {
                rewrite_if_stale(ctx, feed, true, &key)?;
            }
            Ok(stale)
        });
        match result {
            Ok(true) => rewritten.push(feed.id.clone()),
            Ok(false) => {}
            Err(e) => tracing::warn!(feed = %feed.id, "cannot refresh files: {e}"),
        }
    }
    rewritten
}

/// Where a feed's validators and body fingerprint are kept: per feed, not per URL, because
/// two feeds may read one page with different selectors, and one feed's "unchanged" must not
/// starve the other. (A space never occurs in a serialized URL or a feed id.)
fn validators_key(feed: &FeedSpec) -> String {
    format!("{} {}", feed.id, feed.url)
}

/// Re-renders from the store when the files are behind it (a crash between commit and
/// write, a changed feed title, a deleted file); returns the stored item count.
fn rewrite_if_stale(
    ctx: &RunCtx,
    feed: &FeedSpec,
    stale: bool,
    render_key: &str,
) -> Result<usize, FeedError> {
    let store = ctx.store();
    if stale {
        let items = store.top_items(&feed.id, feed.max_items)?;
        drop(store);
        if !items.is_empty() {
            write_outputs(ctx, feed, &items)?;
            ctx.store().mark_written(&feed.id, render_key)?;
        }
        return Ok(ctx.store().count_items(&feed.id)?);
    }
    Ok(store.count_items(&feed.id)?)
}

fn outputs(settings: &Settings, feed: &FeedSpec) -> Vec<PathBuf> {
    settings
        .formats
        .iter()
        .map(|f| {
            settings
                .output_dir
                .join(format!("{}.{}", feed.id, f.extension()))
        })
        .collect()
}

fn feed_meta(settings: &Settings, feed: &FeedSpec) -> FeedMeta {
    FeedMeta {
        id: feed.id.clone(),
        title: feed.title.clone(),
        description: feed
            .description
            .clone()
            .unwrap_or_else(|| format!("{} (via scifeed)", feed.title)),
        site_url: feed.site_url.to_string(),
        public_url: settings.public_url.clone(),
    }
}

/// Fingerprint of everything besides items that shapes the files.
fn render_key(settings: &Settings, feed: &FeedSpec) -> String {
    let meta = feed_meta(settings, feed);
    let key = format!(
        "v1|{}|{}|{}|{}|{}|{:?}|{}",
        meta.id,
        meta.title,
        meta.description,
        meta.site_url,
        meta.public_url,
        settings.formats,
        feed.max_items
    );
    format!("{:016x}", xxhash_rust::xxh3::xxh3_64(key.as_bytes()))
}

fn write_outputs(
    ctx: &RunCtx,
    feed: &FeedSpec,
    items: &[crate::model::Item],
) -> Result<usize, FeedError> {
    let meta = feed_meta(&ctx.settings, feed);
    let files: Vec<_> = outputs(&ctx.settings, feed)
        .into_iter()
        .zip(render::render_each(&ctx.settings.formats, &meta, items))
        .collect();
    output::write_all_if_changed(&files).map_err(|e| FeedError::Write {
        path: e.path,
        source: e.source,
    })
}

/// Explains a page where the card selector found nothing, when the page itself says why.
pub fn diagnose_empty(html: &str) -> Option<&'static str> {
    if html.trim().is_empty() {
        return Some("the server sent an empty page");
    }
    let lower = html.to_ascii_lowercase();
    let has = |s: &str| lower.contains(s);
    if crate::fetch::challenge_markup(&lower) {
        return Some(
            "blocked by bot protection: the server sent a captcha/challenge page instead of the listing",
        );
    }
    let text_len = visible_text_len(html);
    if text_len < 200
        && (has("<script") || has("__next_data__") || has("id=\"root\"") || has("id=\"app\""))
    {
        return Some(
            "page is rendered by JavaScript: the HTML holds scripts but no article markup",
        );
    }
    None
}

fn visible_text_len(html: &str) -> usize {
    let Ok(doc) = parse::parse_document(html) else {
        return 0;
    };
    let Some(body) = doc
        .select(&scraper::Selector::parse("body").expect("static selector"))
        .next()
    else {
        return 0;
    };
    select::element_text(body).len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_take_turns_busiest_first() {
        let text = [
            ("a1", "https://a.org/1"),
            ("a2", "https://a.org/2"),
            ("b1", "https://b.org/1"),
            ("c1", "https://c.org/1"),
            ("c2", "https://C.org/2"),
            ("c3", "https://c.org/3"),
            ("f1", "page.html"),
        ]
        .iter()
        .map(|(id, url)| {
            format!(
                "[[feed]]\nid = \"{id}\"\ntitle = \"T\"\nurl = \"{url}\"\nbase_url = \"https://x.org/\"\n[feed.select]\ncard = \"li\"\ntitle = \"a\"\n"
            )
        })
        .collect::<String>();
        let cfg = crate::config::parse(
            &text,
            std::path::Path::new("t.toml"),
            &crate::config::Overrides::default(),
        )
        .expect("valid");
        let order: Vec<String> = interleave_by_host(cfg.feeds)
            .into_iter()
            .map(|f| f.id)
            .collect();
        assert_eq!(order, ["c1", "a1", "b1", "f1", "c2", "a2", "c3"]);
    }

    #[test]
    fn schedule_reads_each_robots_txt_first() {
        let feed = |id: &str, url: &str| {
            format!(
                "[[feed]]\nid = \"{id}\"\ntitle = \"T\"\nurl = \"{url}\"\nbase_url = \"https://x.org/\"\n[feed.select]\ncard = \"li\"\ntitle = \"a\"\n"
            )
        };
        let text = [
            feed("a1", "https://a.org/1"),
            feed("a2", "https://a.org/2"),
            feed("b1", "http://b.org:8080/1"),
            feed("f1", "page.html"),
        ]
        .concat();
        let cfg = crate::config::parse(
            &text,
            std::path::Path::new("t.toml"),
            &crate::config::Overrides::default(),
        )
        .expect("valid");
        let got: Vec<String> = work_list(cfg.feeds)
            .iter()
            .map(|w| match w {
                Work::Robots(u) => format!("robots {}", u.origin().ascii_serialization()),
                Work::Feed(f) => f.id.clone(),
            })
            .collect();
        assert_eq!(
            got,
            [
                "robots https://a.org",
                "robots http://b.org:8080",
                "a1",
                "b1",
                "f1",
                "a2"
            ]
        );
    }

    /// `serve` keeps a runner in an `Arc` and spawns its rounds on the runtime.
    #[test]
    fn runner_and_rounds_can_move_between_threads() {
        fn send_sync<T: Send + Sync>(_: &T) {}
        fn send<T: Send>(_: T) {}
        let dir = tempfile::tempdir().expect("tmp");
        let text = format!(
            "[settings]\nstate = \"{}\"\noutput_dir = \"{}\"\n",
            dir.path().join("s.db").display(),
            dir.path().join("out").display()
        );
        let cfg = crate::config::parse(
            &text,
            std::path::Path::new("t.toml"),
            &crate::config::Overrides::default(),
        )
        .expect("valid");
        let runner = Runner::open(&cfg, false).expect("open");
        send_sync(&runner);
        send(runner.round(&RoundOptions::default()));
    }

    #[test]
    fn diagnosis_table() {
        let rows: &[(&str, Option<&str>)] = &[
            (
                "<html><head><title>Just a moment...</title></head><body><div id=cf-chl-widget></div></body></html>",
                Some("blocked by bot protection"),
            ),
            (
                "<html><body><div id=\"root\"></div><script src=app.js></script></body></html>",
                Some("rendered by JavaScript"),
            ),
            (
                "<html><body><script id=\"__NEXT_DATA__\">{}</script></body></html>",
                Some("rendered by JavaScript"),
            ),
            (
                "<html><body><p>Plenty of ordinary text here that is not a card listing at all, but a page that simply changed its markup, so the selector must be fixed by a person who knows the site. It goes on and on for a while to be long enough.</p><script></script></body></html>",
                None,
            ),
        ];
        for (html, want) in rows {
            let got = diagnose_empty(html);
            match want {
                Some(w) => assert!(got.is_some_and(|g| g.contains(w)), "{html}: {got:?}"),
                None => assert_eq!(got, None, "{html}"),
            }
        }
    }
}
