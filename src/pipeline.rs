//! The only module that knows the order of stages:
//! select the due feeds (schedule) -> fetch -> extract -> settle the listing (pin, heal) ->
//! follow `next` pages -> merge with the store -> enrich from article pages (opt-in) -> plan
//! the next fetch (schedule) -> commit -> render -> atomic write -> report. A [`Runner`] runs
//! such rounds (`run` one, `serve` many).
//!
//! No stage logic lives here: extraction is [`stage`], pins and healing [`heal`], pagination
//! [`Pager`], enrichment [`crate::enrich::Enricher`], the schedule [`schedule`], commit and
//! write [`Publisher`]. This module runs them in order, moves work between the async side
//! (fetches) and the blocking pool (parsing, SQLite, fsync; `scraper::Html` is not `Send`),
//! and turns each feed's result into a [`FeedOutcome`]. Feeds run concurrently
//! (`concurrency` at once, hosts taking turns); every request waits at its host's gate
//! inside the fetcher. A failing feed becomes an outcome, never an early return, and leaves
//! its files and history as they were.

use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, SubsecRound, Utc};
use futures_util::StreamExt;

use crate::enrich::Enricher;
use crate::extract::page::CardSource;
use crate::extract::stage::{self, ExtractError, ListingPage, Rules};
use crate::failpoint;
use crate::feed::{Config, FeedSpec, Settings};
use crate::fetch::cache::CacheHints;
use crate::fetch::gate::HostGates;
use crate::fetch::{FetchError, Fetched, Fetcher, Page, Validators};
use crate::heal::{self, Plan, Settled};
use crate::merge;
use crate::output;
use crate::paginate::Pager;
use crate::publish::Publisher;
use crate::report::{Failure, FeedError, FeedOutcome, FeedStatus, RunReport};
use crate::schedule::{self, ScheduleConfig, ScheduleState};
use crate::shutdown::Shutdown;
use crate::store::backend::{self, FeedStart, StateRobots};
use crate::store::{StateStore, StoreError};
use crate::work::{DueCheck, Work, WorkQueue};

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

struct RunCtx {
    settings: Settings,
    store: Arc<dyn StateStore>,
    fetcher: Arc<Fetcher>,
    now: DateTime<Utc>,
    shutdown: Shutdown,
    /// `every` of feeds that set none (see [`RoundOptions::every`]).
    every: Option<Duration>,
}

impl RunCtx {
    fn store(&self) -> &dyn StateStore {
        self.store.as_ref()
    }

    fn publisher<'a>(&'a self, feed: &'a FeedSpec) -> Publisher<'a> {
        Publisher {
            settings: &self.settings,
            store: self.store.as_ref(),
            feed,
            now: self.now,
        }
    }

    fn enricher(&self) -> Enricher<'_> {
        Enricher {
            fetcher: &self.fetcher,
            store: self.store.as_ref(),
            budget: self.settings.enrich_budget,
            max_cards: self.settings.crawl.max_cards,
            now: self.now,
            shutdown: &self.shutdown,
        }
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
    store: Arc<dyn StateStore>,
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
        let store = backend::open(
            &settings.state,
            &backend::OpenOptions {
                wait,
                lease: settings.lease,
            },
        )?;
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
        let robots_cache = Arc::new(StateRobots(Arc::clone(&store)));
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

    /// The state (SQLite file or PostgreSQL database); rounds use it at the same time.
    pub fn store(&self) -> &dyn StateStore {
        self.store.as_ref()
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
        let trips_before = self.store.round_trips();
        self.store.begin_round()?;
        let states = self.store.schedule_states()?;
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
        // Hosts are leased as the round goes (see `work`): on a shared state each due feed
        // is processed by exactly one runner.
        let queue = Arc::new(WorkQueue::new(
            feeds,
            Arc::clone(&self.store),
            Arc::clone(&self.fetcher),
            DueCheck {
                settings: config.settings.clone(),
                every: opts.every,
                due_only: opts.due_only,
                now,
            },
            self.shutdown.clone(),
        ));
        let work = futures_util::stream::unfold(Arc::clone(&queue), |q| async move {
            q.next().await.map(|w| (w, q))
        });
        let mut outcomes: Vec<FeedOutcome> = work
            .map(|work| {
                let ctx = Arc::clone(&ctx);
                let bar = bar.clone();
                let queue = Arc::clone(&queue);
                async move {
                    let host = work.host();
                    let out = match work {
                        Work::Robots(url) => {
                            ctx.fetcher.warm_up(&url).await;
                            None
                        }
                        Work::Feed(feed) if ctx.shutdown.signal().is_some() => {
                            // Stopping: feeds not started yet stay as they are ("not run").
                            Some(FeedOutcome::new(&feed.id, feed.url.as_str()))
                        }
                        Work::Feed(feed) => {
                            let out = process_feed(Arc::clone(&ctx), feed).await;
                            if let Some(b) = &bar {
                                b.set_message(out.id.clone());
                                b.inc(1);
                            }
                            Some(out)
                        }
                    };
                    queue.finished(&host);
                    out
                }
            })
            .buffer_unordered(concurrency)
            .filter_map(std::future::ready)
            .collect()
            .await;
        if let Some(b) = bar {
            b.finish_and_clear();
        }
        outcomes.extend(queue.take_skipped());
        outcomes.extend(
            queue
                .take_unstarted()
                .into_iter()
                .map(|f| FeedOutcome::new(&f.id, f.url.as_str())),
        );
        if let Err(e) = self.store.end_round() {
            // Leases expire by themselves; unrecorded marks only cost a rewrite.
            tracing::warn!("cannot give back this round's hosts: {e}");
        }
        if let (Some(a), Some(b)) = (trips_before, self.store.round_trips()) {
            let fed = outcomes
                .iter()
                .filter(|o| !matches!(o.status, FeedStatus::NotDue { .. } | FeedStatus::Elsewhere))
                .count();
            tracing::info!(
                "{} statements to the state for {fed} feeds ({:.2} per feed)",
                b - a,
                (b - a) as f64 / fed.max(1) as f64
            );
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
        // The round's outcomes stand even when the state went away meanwhile (the failed
        // feeds say so): then no wake-up time is known.
        let states = self.store.schedule_states().unwrap_or_else(|e| {
            tracing::warn!("cannot read the schedule after the round: {e}");
            Default::default()
        });
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
    // One read (on a shared state none: the host's lease brought it).
    let start = ctx
        .store()
        .begin_feed(&feed.id, &crate::publish::validators_key(&feed));
    let (mut sched, start) = match start {
        Ok(start) => (
            FeedSchedule {
                cfg: ScheduleConfig::for_feed(&feed, &ctx.settings, ctx.every),
                prev: start.schedule.clone(),
                hints: CacheHints::default(),
            },
            start,
        ),
        Err(e) => {
            outcome.status = FeedStatus::Failed(Failure::new(FeedError::Store(e)));
            return outcome;
        }
    };
    let result = fetch_and_update(&ctx, &feed, start, &mut outcome, &mut sched).await;
    outcome.elapsed = started.elapsed();
    match result {
        Ok(status) => {
            tracing::info!(feed = %feed.id, "{status:?} in {:.2}s", outcome.elapsed.as_secs_f64());
            outcome.status = status;
        }
        Err(e) => {
            // The end-of-run report prints every failure; the log line is for -v.
            tracing::info!(feed = %feed.id, "{e}");
            let next = sched.plan(schedule::Outcome::Failed, &feed.id, ctx.now);
            let recorded =
                ctx.store()
                    .record_failure(&feed.id, &e.to_string(), ctx.now, next.as_ref());
            let streak = match recorded {
                Ok(s) => Some(s),
                Err(se) => {
                    tracing::error!(feed = %feed.id, "cannot record failure: {se}");
                    None
                }
            };
            outcome.status = FeedStatus::Failed(Failure {
                error: Arc::new(e),
                streak,
            });
        }
    }
    outcome
}

/// One feed, stage by stage: fetch -> extract -> settle (pin / heal) -> more pages -> merge
/// -> enrich -> plan the next fetch -> commit and write.
async fn fetch_and_update(
    ctx: &Arc<RunCtx>,
    feed: &Arc<FeedSpec>,
    start: FeedStart,
    outcome: &mut FeedOutcome,
    sched: &mut FeedSchedule,
) -> Result<FeedStatus, FeedError> {
    let publisher = ctx.publisher(feed);
    let FeedStart {
        validators,
        state,
        memory,
        ..
    } = start;
    let plan = Arc::new(Plan::new(feed, memory));
    outcome.healed = plan.healed();
    let files_stale = publisher.files_stale(&state);
    let conditional = if plan.stale() {
        Validators::default()
    } else {
        validators.clone()
    };
    let (fetched, hints) = tokio::select! {
        fetched = ctx.fetcher.fetch_with_hints(&feed.url, &conditional) => fetched,
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
            let total = ctx
                .store()
                .record_not_modified(&feed.id, ctx.now, unchanged.as_ref())?;
            return finish_unchanged(ctx, feed, (files_stale, total), outcome, |total| {
                FeedStatus::NotModified { total }
            })
            .await;
        }
        Fetched::Unchanged(fresh) => {
            outcome.http_status = Some(200);
            failpoint::hit("after-fetch", &feed.id);
            let total = publisher.commit_unchanged(fresh, unchanged.as_ref())?;
            return finish_unchanged(ctx, feed, (files_stale, total), outcome, |total| {
                FeedStatus::Unchanged { total }
            })
            .await;
        }
        Fetched::Page(p) => p,
    };
    outcome.http_status = Some(page.status);
    failpoint::hit("after-fetch", &feed.id);
    let page_validators = page.validators.clone();
    let page_url = page.url.clone();
    let result = extract_blocking(ctx, feed, &plan, page, Later::First).await?;
    let settled = heal::settle(
        feed,
        &plan,
        result,
        || ctx.store().item_ids(&feed.id),
        ctx.now,
    )
    .map_err(|e| FeedError::settle(&page_url, e))?;
    log_listing(feed, &settled);
    outcome.healed.clone_from(&settled.healed);
    let plan = Arc::new(settled.plan(feed, Arc::unwrap_or_clone(plan)));
    let known = known_of(ctx, feed, &settled.page)?;
    let mut pager = Pager::new(feed, settled.page, &known, &validators);
    let none = Validators::default();
    while let Some(url) = pager.next_url() {
        let fetched = tokio::select! {
            fetched = ctx.fetcher.fetch(&url, &none) => fetched,
            () = ctx.shutdown.grace_over() => {
                pager.interrupted();
                break;
            }
        };
        let page = match fetched {
            Ok(Fetched::Page(p)) => p,
            // Cannot happen without validators; nothing new either way.
            Ok(Fetched::NotModified | Fetched::Unchanged(_)) => break,
            Err(e) => {
                pager.failed_page(&e);
                break;
            }
        };
        let url = page.url.clone();
        match extract_blocking(ctx, feed, &plan, page, Later::Page).await? {
            Ok(page) => {
                let known = known_of(ctx, feed, &page)?;
                pager.add(page, &known);
            }
            Err(e) => pager.empty_page(&url, &e),
        }
    }
    let (cards, mut warnings, validators) = pager.finish(page_validators);
    outcome.cards = cards.len();
    let ids: Vec<String> = cards
        .iter()
        .map(|c| crate::canon::canonical(&c.link))
        .collect();
    // One read: the stored items among the page's, and the feed's newest for the output.
    let stored = ctx.store().feed_items(&feed.id, &ids, feed.max_items)?;
    let mut merged = merge::merge(&stored.known, &cards, ctx.now);
    if feed.enrich {
        warnings.extend(ctx.enricher().enrich(feed, &mut merged).await);
    }
    let next = sched.plan(
        schedule::Outcome::Fetched {
            new_items: merged.new,
        },
        &feed.id,
        ctx.now,
    );
    let (ctx2, feed2) = (Arc::clone(ctx), Arc::clone(feed));
    let update = tokio::task::spawn_blocking(move || {
        ctx2.publisher(&feed2).commit_and_write(
            &merged,
            validators,
            files_stale,
            &settled.remember,
            next.as_ref(),
            stored.top,
        )
    })
    .await
    .map_err(|e| FeedError::Internal(format!("update task failed: {e}")))??;
    for w in &warnings {
        tracing::warn!(feed = %feed.id, "{w}");
    }
    outcome.warnings = warnings;
    outcome.dated = Some(update.dated);
    Ok(update.status)
}

/// The end of a run whose page did not change (304 or the same bytes): enrichment works
/// through its backlog, then stale files are rewritten.
async fn finish_unchanged(
    ctx: &Arc<RunCtx>,
    feed: &Arc<FeedSpec>,
    (files_stale, total): (bool, usize),
    outcome: &mut FeedOutcome,
    unchanged: fn(usize) -> FeedStatus,
) -> Result<FeedStatus, FeedError> {
    let enriched = if feed.enrich && ctx.settings.enrich_budget > 0 {
        let (items, warnings) = ctx.enricher().backlog(feed).await?;
        for w in &warnings {
            tracing::warn!(feed = %feed.id, "{w}");
        }
        outcome.warnings.extend(warnings);
        items
    } else {
        Vec::new()
    };
    let (ctx2, feed2) = (Arc::clone(ctx), Arc::clone(feed));
    tokio::task::spawn_blocking(move || {
        ctx2.publisher(&feed2)
            .finish_unchanged(&enriched, files_stale, total, unchanged)
    })
    .await
    .map_err(|e| FeedError::Internal(format!("update task failed: {e}")))?
}

/// Which of a feed's pages is extracted.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Later {
    /// The listing page itself: a broken listing is re-detected (self-healing).
    First,
    /// A page reached by `next`: without cards it just ends the walk.
    Page,
}

/// Decodes and extracts one page on the blocking pool (`scraper::Html` is not `Send`, and
/// parsing is CPU work).
async fn extract_blocking(
    ctx: &Arc<RunCtx>,
    feed: &Arc<FeedSpec>,
    plan: &Arc<Plan>,
    page: Page,
    which: Later,
) -> Result<Result<ListingPage, ExtractError>, FeedError> {
    let (feed, plan) = (Arc::clone(feed), Arc::clone(plan));
    let (now, max_cards) = (ctx.now, ctx.settings.crawl.max_cards);
    tokio::task::spawn_blocking(move || {
        let text = crate::decode::decode(&page.body, page.content_type.as_deref());
        let mut rules = Rules::for_feed(&feed, plan.listing(&feed), max_cards);
        rules.redetect &= which == Later::First;
        stage::listing(&text, &page.url, &rules, now)
    })
    .await
    .map_err(|e| FeedError::Internal(format!("extraction task failed: {e}")))
}

/// Which of a page's items the history knows; only asked when the page links a next page
/// (pagination stops at a page of known items).
fn known_of(
    ctx: &RunCtx,
    feed: &FeedSpec,
    page: &ListingPage,
) -> Result<HashSet<String>, FeedError> {
    if !Pager::needs_known(page) {
        return Ok(HashSet::new());
    }
    Ok(ctx
        .store()
        .items_by_ids(&feed.id, &page.ids())?
        .into_keys()
        .collect())
}

/// Says where an auto or healed feed's cards came from (plain selector feeds are silent).
fn log_listing(feed: &FeedSpec, settled: &Settled) {
    let page = &settled.page;
    match &page.source {
        CardSource::Selectors => {}
        CardSource::Detected(c) => tracing::info!(
            feed = %feed.id,
            "detected listing `{}`: {} cards (score {:.2})",
            c.selectors.card,
            page.cards.len(),
            c.score
        ),
        CardSource::Structured { .. } => tracing::info!(
            feed = %feed.id,
            "{} articles from the page's structured data",
            page.cards.len()
        ),
    }
    if let (Some(h), Some(held)) = (&settled.healed, settled.held) {
        // The report prints it with the block to paste; this line is for -v logs.
        tracing::info!(
            feed = %feed.id,
            "card selector `{}` stopped matching; healed with `{}` ({held} known item(s) on the page)",
            h.broken,
            h.selectors.card
        );
    }
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

/// Brings the files of feeds that are not due up to date with the store, without fetching:
/// a schedule must not delay the recovery from a crash or a config change. Returns the ids
/// whose files were rewritten.
fn refresh_not_due(ctx: &RunCtx, feeds: &[FeedSpec]) -> Vec<String> {
    let mut rewritten = Vec::new();
    // One read for all of them: an idle cron tick over thousands of feeds stays one round
    // trip on a shared state.
    let states = match ctx.store().feed_states() {
        Ok(s) => s,
        Err(e) => {
            tracing::warn!("cannot refresh files of feeds not due: {e}");
            return rewritten;
        }
    };
    for feed in feeds {
        let state = states.get(&feed.id).cloned().unwrap_or_default();
        match ctx.publisher(feed).refresh_if_stale(&state) {
            Ok(true) => rewritten.push(feed.id.clone()),
            Ok(false) => {}
            Err(e) => tracing::warn!(feed = %feed.id, "cannot refresh files: {e}"),
        }
    }
    rewritten
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
