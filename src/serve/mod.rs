//! `scifeed serve`: one process that runs a crawl round at start and then on schedule, and
//! serves the feeds, an index, a page per feed, OPML, health and metrics over HTTP at the
//! same time.
//!
//! A round is a round of `scifeed run` through one [`Runner`] (the same polite fetcher, host
//! gates, history and atomic files), fetching the feeds the schedule says are due; the next
//! round starts when the next feed is due. The runner holds the store's lock for the life of
//! the process, so `run` and `serve` on one SQLite state never interleave writes: a `run`
//! while `serve` is up exits with "another scifeed run is using the state" (or waits, with
//! `--wait`), and `serve` started during a `run` waits for it. Requests read the store
//! through a separate view (read-only SQLite, or a pool of its own on PostgreSQL), never
//! waiting for a round. On a shared PostgreSQL state the server is one runner among many and
//! its snapshot follows what the others commit, between its rounds too. After each round the
//! [`catalog::Catalog`] takes a new snapshot of the feeds the round fetched, the metrics are
//! updated and alerts go out for feeds that turned failing or recovered.
//!
//! On SIGTERM/SIGINT the server stops accepting, finishes the requests in flight, the round
//! in progress finishes its feeds as `run` does on a signal, queued alerts get a moment, and
//! the process exits 0. A second signal exits at once.

pub mod catalog;
pub mod headers;
pub mod http;
pub mod listen;
pub mod metrics;
pub mod notify;
pub mod opml;
pub mod pages;
pub mod status;

use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, SubsecRound, Utc};

use crate::feed::Config;
use crate::pipeline::{RoundOptions, RunError, Runner};
use crate::report::{FeedStatus, RunReport};
use crate::schedule;
use crate::serve::catalog::{Catalog, RoundState, Scope, Snapshot};
use crate::serve::http::App;
use crate::serve::metrics::Metrics;
use crate::serve::notify::{Alert, Notifier};
use crate::shutdown::Shutdown;
use crate::store::StoreError;

/// Options of `scifeed serve` beyond the config.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    /// Listen here instead of `[serve] listen`.
    pub listen: Option<SocketAddr>,
    /// `every` of feeds that set none (`--every`); `None`: `[settings] every`, else
    /// [`DEFAULT_EVERY`].
    pub every: Option<Duration>,
    /// Stop by itself after this long, as on SIGTERM (tests and benchmarks).
    pub stop_after: Option<Duration>,
    /// Print only errors.
    pub quiet: bool,
}

/// How often feeds without `every` are fetched when neither `--every` nor `[settings] every`
/// says.
pub const DEFAULT_EVERY: Duration = Duration::from_secs(30 * 60);

/// Shortest pause between two rounds, so a feed that is due again at once cannot make the
/// loop spin.
const MIN_PAUSE: Duration = Duration::from_secs(1);

/// How often the snapshot catches up with a round in progress.
const LIVE_REFRESH: Duration = Duration::from_secs(1);

/// Why the server cannot start.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Run(#[from] RunError),
    #[error("cannot install signal handlers: {0}")]
    Signals(std::io::Error),
    #[error("internal error: {0}")]
    Task(String),
}

/// Runs the server until SIGTERM/SIGINT (or `stop_after`).
pub async fn serve(mut config: Config, opts: ServeOptions) -> Result<(), ServeError> {
    let addr = opts.listen.unwrap_or(config.serve.listen);
    let listeners = listen::bind(addr, listen::threads())
        .map_err(|source| ServeError::Bind { addr, source })?;
    let local = listeners[0]
        .local_addr()
        .map_err(|source| ServeError::Bind { addr, source })?;
    let base = config
        .serve
        .public_url
        .clone()
        .unwrap_or_else(|| format!("http://{local}/"));
    if config.serve.public_url.is_none() && local.ip().is_unspecified() {
        tracing::warn!(
            "listening on every interface without [serve] public_url: links in feeds and OPML say {base}; set public_url to the address readers use"
        );
    }
    // Self links of the feeds (files and served bytes alike) point where they are served.
    config.settings.public_url.clone_from(&base);
    let every = opts
        .every
        .or(config.settings.every)
        .unwrap_or(DEFAULT_EVERY);
    let shutdown = Shutdown::default();
    shutdown.listen().map_err(ServeError::Signals)?;
    if let Some(after) = opts.stop_after {
        let s = shutdown.clone();
        tokio::spawn(async move {
            tokio::time::sleep(after).await;
            tracing::info!("--stop-after reached");
            s.trigger(15);
        });
    }
    let catalog = Arc::new(Catalog::new(config.clone(), base.clone(), every));
    let metrics = Arc::new(Metrics::new());
    let mut round = RoundState {
        next: Some(Utc::now()),
        ..RoundState::default()
    };
    // Feeds from earlier runs are served at once, also while a `run` holds the store and
    // while the first round runs.
    match refresh(&catalog, Refresh::All, round.clone()).await {
        Ok((_, first)) => metrics.record_feeds(&config.feeds, &first),
        Err(e) => tracing::warn!("nothing to serve until the first round: {e}"),
    }
    let app = Arc::new(App {
        catalog: Arc::clone(&catalog),
        metrics: Arc::clone(&metrics),
    });
    let server = tokio::spawn(listen::serve(
        listeners,
        http::router(app),
        listen::Limits::new(config.serve.max_connections),
        shutdown.clone(),
    ));
    if !opts.quiet {
        println!(
            "scifeed serve: {base} ({} feeds, every {} unless a feed says otherwise)",
            config.feeds.len(),
            schedule::format_duration(every)
        );
    }
    // The store is ours for the life of the process: wait for a `run` that holds it.
    let runner = match open_runner(&config, &shutdown).await {
        Ok(Some(r)) => Arc::new(r),
        Ok(None) => {
            let _ = server.await;
            return Ok(());
        }
        Err(e) => {
            shutdown.trigger(15);
            let _ = server.await;
            return Err(e);
        }
    };
    {
        let (ours, theirs) = (shutdown.clone(), runner.shutdown().clone());
        tokio::spawn(async move {
            ours.requested().await;
            theirs.trigger(ours.signal().unwrap_or(15));
        });
    }
    // On a shared (PostgreSQL) state other runners and serve nodes commit feeds too: the
    // snapshot follows them between this process's rounds as well.
    let shared = runner.store().shared();
    let notifier = Notifier::start(config.serve.notify_url.clone(), &config.settings.user_agent);
    let round_opts = RoundOptions {
        due_only: true,
        every: Some(every),
        ..RoundOptions::default()
    };
    while shutdown.signal().is_none() {
        let started = Utc::now();
        round.running = true;
        round.last_started = Some(started);
        catalog.set_round(round.clone());
        // Alerts compare with the state before the round; the snapshot follows the round
        // as its feeds finish, so a long round does not hold back the feeds done early.
        let before = catalog.snapshot();
        let since = started.trunc_subsecs(0);
        let mut shown: HashSet<String> = HashSet::new();
        let result = {
            let running = runner.round(&round_opts);
            tokio::pin!(running);
            loop {
                tokio::select! {
                    r = &mut running => break r,
                    () = tokio::time::sleep(LIVE_REFRESH) => {
                        if let Err(e) = catch_up(&catalog, since, &mut shown, &round).await {
                            tracing::warn!("cannot read the store during the round: {e}");
                        }
                    }
                }
            }
        };
        let finished = Utc::now();
        round.running = false;
        round.last_finished = Some(finished);
        round.completed += 1;
        let next = match &result {
            Ok(r) => r.next_wake.unwrap_or(started + every),
            Err(_) => started + every,
        }
        .max(finished + MIN_PAUSE);
        round.next = Some(next);
        match result {
            Ok(r) => {
                metrics.record_round(&r.report);
                let fetched: Vec<String> = r
                    .report
                    .outcomes
                    .iter()
                    .filter(|o| !matches!(o.status, FeedStatus::NotDue { .. }))
                    .map(|o| o.id.clone())
                    .collect();
                let updated: HashSet<String> = r
                    .report
                    .outcomes
                    .iter()
                    .filter(|o| matches!(o.status, FeedStatus::Updated { .. }))
                    .map(|o| o.id.clone())
                    .collect();
                let (_, new) =
                    refresh(&catalog, Refresh::Round(fetched, updated), round.clone()).await?;
                metrics.record_feeds(&config.feeds, &new);
                for alert in alerts(&catalog, &before, &new, finished) {
                    notifier.send(alert);
                }
                print_round(
                    &r.report,
                    round.completed,
                    finished - started,
                    next,
                    opts.quiet,
                );
            }
            Err(e) => {
                eprintln!("error: round {}: {e}", round.completed);
                catalog.set_round(round.clone());
            }
        }
        let wait = (next - Utc::now()).to_std().unwrap_or_default();
        if shared {
            follow_others(&catalog, &metrics, &config, &shutdown, &round, wait).await;
        } else {
            tokio::select! {
                () = tokio::time::sleep(wait) => {}
                () = shutdown.requested() => {}
            }
        }
    }
    if server.await.is_err() {
        tracing::error!("the HTTP server task failed");
    }
    notifier.finish(Duration::from_secs(3)).await;
    Ok(())
}

/// Opens the runner (and so locks the store for this process), waiting politely while
/// another process holds the store. `Ok(None)`: a stop was asked for while waiting.
async fn open_runner(config: &Config, shutdown: &Shutdown) -> Result<Option<Runner>, ServeError> {
    let mut warned = false;
    loop {
        match Runner::open(config, false) {
            Ok(r) => return Ok(Some(r)),
            Err(RunError::Store(StoreError::Busy { .. })) => {
                if !warned {
                    tracing::warn!(
                        "another scifeed run is using {}; serving starts when it ends",
                        config.settings.state
                    );
                    warned = true;
                }
            }
            Err(e) => return Err(e.into()),
        }
        tokio::select! {
            () = tokio::time::sleep(Duration::from_millis(500)) => {}
            () = shutdown.requested() => return Ok(None),
        }
    }
}

/// Waits `wait` (or until a stop is asked for), showing every [`LIVE_REFRESH`] the feeds
/// that other processes sharing the state fetched meanwhile. Alerts stay with the process
/// whose round fetched a feed, so several serve nodes do not send each alert once each.
async fn follow_others(
    catalog: &Arc<Catalog>,
    metrics: &Metrics,
    config: &Config,
    shutdown: &Shutdown,
    round: &RoundState,
    wait: Duration,
) {
    let deadline = tokio::time::Instant::now() + wait;
    let mut since = Utc::now().trunc_subsecs(0);
    loop {
        let tick = (tokio::time::Instant::now() + LIVE_REFRESH).min(deadline);
        tokio::select! {
            () = tokio::time::sleep_until(tick) => {}
            () = shutdown.requested() => return,
        }
        if tick >= deadline {
            return;
        }
        // Timestamps are whole seconds: a feed committed within the second of the last
        // look is shown again, which costs one read and loses nothing.
        let next_since = Utc::now().trunc_subsecs(0);
        let mut shown = HashSet::new();
        match catch_up(catalog, since, &mut shown, round).await {
            Ok(Some(snap)) => metrics.record_feeds(&config.feeds, &snap),
            Ok(None) => {}
            Err(e) => tracing::warn!("cannot read the shared state: {e}"),
        }
        since = next_since;
    }
}

/// Which feeds [`refresh`] reads again (an owned [`Scope`]).
enum Refresh {
    All,
    /// Fetched by a round, and of those updated.
    Round(Vec<String>, HashSet<String>),
}

/// Shows the feeds a round in progress has finished since `since` and that are not `shown`
/// yet.
async fn catch_up(
    catalog: &Arc<Catalog>,
    since: DateTime<Utc>,
    shown: &mut HashSet<String>,
    round: &RoundState,
) -> Result<Option<Arc<Snapshot>>, ServeError> {
    let cat = Arc::clone(catalog);
    let done = tokio::task::spawn_blocking(move || cat.fetched_since(since))
        .await
        .map_err(|e| ServeError::Task(e.to_string()))??;
    let new: Vec<String> = done.into_iter().filter(|id| !shown.contains(id)).collect();
    if new.is_empty() {
        return Ok(None);
    }
    shown.extend(new.iter().cloned());
    let (_, snap) = refresh(catalog, Refresh::Round(new, HashSet::new()), round.clone()).await?;
    Ok(Some(snap))
}

/// A new snapshot from the store, on the blocking pool.
async fn refresh(
    catalog: &Arc<Catalog>,
    what: Refresh,
    round: RoundState,
) -> Result<(Arc<Snapshot>, Arc<Snapshot>), ServeError> {
    let cat = Arc::clone(catalog);
    tokio::task::spawn_blocking(move || {
        let scope = match &what {
            Refresh::All => Scope::All,
            Refresh::Round(ids, updated) => Scope::Feeds { ids, updated },
        };
        cat.refresh(scope, round)
    })
    .await
    .map_err(|e| ServeError::Task(e.to_string()))?
    .map_err(ServeError::from)
}

/// The alerts for feeds whose health changed between two snapshots.
fn alerts(cat: &Catalog, old: &Snapshot, new: &Snapshot, at: DateTime<Utc>) -> Vec<Alert> {
    cat.config
        .feeds
        .iter()
        .zip(old.feeds.iter().zip(&new.feeds))
        .filter_map(|(spec, (before, after))| {
            let event = notify::transition(&before.health, &after.health)?;
            Some(Alert {
                event,
                feed: spec.id.clone(),
                title: spec.title.clone(),
                source: spec.url.to_string(),
                page: format!("{}{}.html", cat.base, spec.id),
                consecutive_failures: after.summary.failures,
                error: match event {
                    notify::Event::Failing => after.summary.last_error.clone(),
                    _ => before.summary.last_error.clone(),
                },
                last_success: after.summary.last_ok,
                at,
            })
        })
        .collect()
}

fn print_round(
    report: &RunReport,
    n: u64,
    took: chrono::TimeDelta,
    next: DateTime<Utc>,
    quiet: bool,
) {
    for o in &report.outcomes {
        if let FeedStatus::Failed(f) = &o.status {
            eprint!("{}", crate::report::failure_note(&o.id, f));
        }
    }
    if !quiet {
        let failed = report.failed();
        println!(
            "round {n}: {} ok, {failed} failed in {:.2}s; next at {}",
            report.outcomes.len() - failed,
            took.num_milliseconds() as f64 / 1000.0,
            next.format("%H:%M:%S UTC")
        );
    }
}
