//! The only module that knows the order of stages:
//! fetch -> decode -> extract -> merge with the store -> render -> atomic write -> commit.
//!
//! Feeds run concurrently (`concurrency` at once); everything after the fetch runs on the
//! blocking pool because `scraper::Html` is not `Send` and parsing is CPU work. A failing feed
//! becomes a [`FeedOutcome`], never an early return, and leaves its files and history as
//! they were.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use chrono::{DateTime, SubsecRound, Utc};
use futures_util::StreamExt;
use url::Url;

use crate::extract::clamp;
use crate::extract::date::DateContext;
use crate::extract::parse::{self, TooComplex};
use crate::extract::select::{self, Extraction, PageContext};
use crate::failpoint;
use crate::feed::{Config, FeedSpec, Settings};
use crate::fetch::{FetchError, Fetched, Fetcher, Page};
use crate::merge;
use crate::model::FeedMeta;
use crate::output;
use crate::render;
use crate::report::{FeedOutcome, FeedStatus, RunReport};
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
    #[error("{url}: card selector `{selector}` matched nothing{}", diagnosis.map(|d| format!(" ({d})")).unwrap_or_default())]
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
    #[error("feed has no selectors (auto-detection is not available yet)")]
    NoRules,
    #[error("{url}: page {reason}; refusing to extract from it")]
    TooComplex { url: String, reason: TooComplex },
    #[error("internal error: {0}")]
    Internal(String),
}

struct RunCtx {
    settings: Settings,
    store: Mutex<Store>,
    fetcher: Fetcher,
    now: DateTime<Utc>,
    shutdown: Shutdown,
}

impl RunCtx {
    fn store(&self) -> MutexGuard<'_, Store> {
        // A panic while holding the lock cannot leave SQLite inconsistent (transactions roll
        // back), so a poisoned lock is still usable.
        self.store
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// Runs every (selected) feed of `config` once.
pub async fn run(config: &Config, opts: &RunOptions) -> Result<RunReport, RunError> {
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
    let settings = config.settings.clone();
    let store = Store::open(&settings.state, opts.wait)?;
    std::fs::create_dir_all(&settings.output_dir).map_err(|source| RunError::OutputDir {
        path: settings.output_dir.clone(),
        source,
    })?;
    output::remove_stale_temps(&settings.output_dir);
    let fetcher = Fetcher::new(&settings.user_agent, &settings.crawl)?;
    let now = opts.now.unwrap_or_else(Utc::now).trunc_subsecs(0);
    let shutdown = Shutdown::default();
    if opts.signals
        && let Err(e) = shutdown.listen()
    {
        tracing::warn!("cannot install signal handlers: {e}");
    }
    let ctx = Arc::new(RunCtx {
        settings,
        store: Mutex::new(store),
        fetcher,
        now,
        shutdown,
    });
    let bar = progress_bar(opts.progress, feeds.len());
    let concurrency = ctx.settings.crawl.concurrency;
    let mut outcomes: Vec<FeedOutcome> = futures_util::stream::iter(feeds)
        .map(|feed| {
            let ctx = Arc::clone(&ctx);
            let bar = bar.clone();
            async move {
                if ctx.shutdown.signal().is_some() {
                    // Stopping: feeds not started yet stay as they are ("not run").
                    return FeedOutcome::new(&feed.id, feed.url.as_str());
                }
                let out = process_feed(ctx, feed).await;
                if let Some(b) = &bar {
                    b.set_message(out.id.clone());
                    b.inc(1);
                }
                out
            }
        })
        .buffer_unordered(concurrency)
        .collect()
        .await;
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    outcomes.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(RunReport {
        outcomes,
        interrupted: ctx.shutdown.signal(),
    })
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

async fn process_feed(ctx: Arc<RunCtx>, feed: FeedSpec) -> FeedOutcome {
    let started = Instant::now();
    let mut outcome = FeedOutcome::new(&feed.id, feed.url.as_str());
    let result = fetch_and_update(&ctx, &feed, &mut outcome).await;
    outcome.elapsed = started.elapsed();
    match result {
        Ok(status) => outcome.status = status,
        Err(e) => {
            let msg = e.to_string();
            tracing::warn!(feed = %feed.id, "{msg}");
            if let Err(se) = ctx.store().record_failure(&feed.id, &msg, ctx.now) {
                tracing::error!(feed = %feed.id, "cannot record failure: {se}");
            }
            outcome.status = FeedStatus::Failed(msg);
        }
    }
    outcome
}

async fn fetch_and_update(
    ctx: &Arc<RunCtx>,
    feed: &FeedSpec,
    outcome: &mut FeedOutcome,
) -> Result<FeedStatus, FeedError> {
    let url_key = feed.url.to_string();
    let (validators, state) = {
        let store = ctx.store();
        (store.validators(&url_key)?, store.feed_state(&feed.id)?)
    };
    let render_key = render_key(&ctx.settings, feed);
    let files_stale = state.dirty
        || state.render_key.as_deref() != Some(render_key.as_str())
        || outputs(&ctx.settings, feed).iter().any(|p| !p.exists());
    let fetched = tokio::select! {
        fetched = ctx.fetcher.fetch(&feed.url, &validators) => fetched?,
        // A fetch changes nothing, so abandoning it on shutdown is safe.
        () = ctx.shutdown.grace_over() => return Ok(FeedStatus::Pending),
    };
    let page = match fetched {
        Fetched::NotModified => {
            outcome.http_status = Some(304);
            return rewrite_if_stale(ctx, feed, files_stale, &render_key)
                .map(|total| FeedStatus::NotModified { total });
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
        ctx.store()
            .commit_feed(&feed.id, &[], &[(url_key, new_validators)], false, ctx.now)?;
        return rewrite_if_stale(ctx, feed, files_stale, &render_key)
            .map(|total| FeedStatus::Unchanged { total });
    }
    let ctx2 = Arc::clone(ctx);
    let feed2 = feed.clone();
    let (status, warnings, cards) = tokio::task::spawn_blocking(move || {
        update_from_page(
            &ctx2,
            &feed2,
            &page,
            new_validators,
            files_stale,
            &render_key,
        )
    })
    .await
    .map_err(|e| FeedError::Internal(format!("extraction task failed: {e}")))??;
    for w in &warnings {
        tracing::warn!(feed = %feed.id, "{w}");
    }
    outcome.warnings = warnings;
    outcome.cards = cards;
    Ok(status)
}

/// Extracts, merges, commits and writes one fetched page. Runs on the blocking pool.
fn update_from_page(
    ctx: &RunCtx,
    feed: &FeedSpec,
    page: &Page,
    validators: Validators,
    files_stale: bool,
    render_key: &str,
) -> Result<(FeedStatus, Vec<String>, usize), FeedError> {
    let rules = feed.rules.as_ref().ok_or(FeedError::NoRules)?;
    let text = crate::decode::decode(&page.body, page.content_type.as_deref());
    let extraction = {
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
        select::extract_cards(&doc, rules, &pctx)
    };
    let Extraction {
        cards,
        matched,
        warnings,
    } = extraction;
    let mut warnings: Vec<String> = warnings.iter().map(ToString::to_string).collect();
    let cards: Vec<_> = cards
        .into_iter()
        .filter_map(|c| clamp::clamp_card(c).map_err(|w| warnings.push(w)).ok())
        .collect();
    if matched == 0 {
        return Err(FeedError::NoCards {
            url: page.url.to_string(),
            selector: rules.card_source.clone(),
            diagnosis: diagnose_empty(&text),
        });
    }
    if cards.is_empty() {
        return Err(FeedError::NoValidCards {
            url: page.url.to_string(),
            selector: rules.card_source.clone(),
            matched,
            first: warnings.first().cloned().unwrap_or_default(),
        });
    }
    let ids: Vec<String> = cards
        .iter()
        .map(|c| crate::canon::canonical(&c.link))
        .collect();
    let mut store = ctx.store();
    let known = store.items_by_ids(&feed.id, &ids)?;
    let merged = merge::merge(&known, &cards, ctx.now);
    let top = store.top_items(&feed.id, feed.max_items)?;
    failpoint::hit("before-commit", &feed.id);
    // The store commits before the files are written: a crash in between leaves the feed
    // dirty, and the next run re-renders it from the store. Files first would let a crash
    // re-date items already emitted (the re-merge would stamp a new first-seen time).
    store.commit_feed(
        &feed.id,
        &merged.upserts,
        &[(feed.url.to_string(), validators)],
        merged.changed(),
        ctx.now,
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
    Ok((status, warnings, cards.len()))
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
    let mut written = 0;
    for (format, path) in ctx
        .settings
        .formats
        .iter()
        .zip(outputs(&ctx.settings, feed))
    {
        let bytes = render::render(*format, &meta, items);
        if output::write_if_changed(&path, &bytes).map_err(|source| FeedError::Write {
            path: path.clone(),
            source,
        })? {
            written += 1;
        }
        failpoint::hit(
            "after-write",
            path.file_name()
                .and_then(|n| n.to_str())
                .unwrap_or_default(),
        );
    }
    Ok(written)
}

/// Explains a page where the card selector found nothing, when the page itself says why.
pub fn diagnose_empty(html: &str) -> Option<&'static str> {
    let lower = html.to_ascii_lowercase();
    let has = |s: &str| lower.contains(s);
    if has("cf-chl")
        || has("challenge-platform")
        || has("attention required! | cloudflare")
        || has("g-recaptcha")
        || has("hcaptcha")
        || has("are you a robot")
        || has("captcha-delivery")
    {
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

/// Ids of the feeds in a config, for `--feed` validation and listings.
pub fn feed_ids(config: &Config) -> HashMap<&str, &Url> {
    config
        .feeds
        .iter()
        .map(|f| (f.id.as_str(), &f.url))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

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
