//! Article-page enrichment (opt-in per feed, `enrich = true`): items that lack a date,
//! author, image or read time get them from their article page's structured data.
//!
//! Its own async stage between merge and commit ([`Enricher`]): each article page is
//! fetched once (through the run's polite `Fetcher`), read by the extraction stage
//! ([`stage::article`], on the blocking pool), turned into an [`ArticleRecord`] with
//! [`record_from_page`], cached in the store and applied with [`apply`], at most
//! `enrich_budget` pages per feed and run. The rules ([`wants`], [`apply`], [`stale`]) are
//! pure.

use chrono::{DateTime, Duration, Utc};
use url::Url;

use crate::extract::stage::{self, Rules};
use crate::extract::structured::ArticleMeta;
use crate::feed::FeedSpec;
use crate::fetch::{Fetched, Fetcher, Validators};
use crate::merge::MergeOutcome;
use crate::model::{ArticleRecord, DateSource, Item};
use crate::shutdown::Shutdown;
use crate::store::{StateStore, StoreError};

/// The enrichment stage of one run: what it fetches with and where it caches.
pub struct Enricher<'a> {
    pub fetcher: &'a Fetcher,
    pub store: &'a dyn StateStore,
    /// Article pages fetched per feed and run at most.
    pub budget: usize,
    pub max_cards: usize,
    pub now: DateTime<Utc>,
    pub shutdown: &'a Shutdown,
}

impl Enricher<'_> {
    /// Enriches the merged items that lack something; known items that change count as
    /// updated. Best effort: problems become warnings.
    pub async fn enrich(&self, feed: &FeedSpec, merged: &mut MergeOutcome) -> Vec<String> {
        let mut warnings = Vec::new();
        let mut budget = self.budget;
        let mut fetched = 0usize;
        for item in merged.upserts.iter_mut() {
            if !wants(item, self.now) {
                continue;
            }
            let cached = self.store.article(&item.id);
            let cached = match cached {
                Ok(c) => c,
                Err(e) => {
                    warnings.push(format!("enrichment cache: {e}"));
                    return warnings;
                }
            };
            let record = match cached {
                Some(rec) if !stale(&rec, self.now) => rec,
                _ if budget == 0 || self.shutdown.signal().is_some() => continue,
                _ => {
                    budget -= 1;
                    fetched += 1;
                    let rec = self.fetch_article(feed, item).await;
                    if let Some(err) = &rec.error {
                        warnings.push(format!("enrichment: {}: {err}", item.link));
                    }
                    if let Err(e) = self.store.save_article(&item.id, &rec) {
                        warnings.push(format!("enrichment cache: {e}"));
                    }
                    rec
                }
            };
            let was_known_unchanged = item.first_seen != self.now && item.updated != self.now;
            if apply(item, &record, self.now) && was_known_unchanged {
                merged.updated += 1;
            }
        }
        if fetched > 0 {
            tracing::info!(feed = %feed.id, "enrichment fetched {fetched} article page(s)");
        }
        warnings
    }

    /// Enriches stored items of the feed's output that still lack something (the budget of
    /// an earlier run ran out, or the page did not change); returns the items that changed.
    pub async fn backlog(&self, feed: &FeedSpec) -> Result<(Vec<Item>, Vec<String>), StoreError> {
        let top = self.store.top_items(&feed.id, feed.max_items)?;
        let mut merged = MergeOutcome {
            upserts: top.into_iter().filter(|i| wants(i, self.now)).collect(),
            ..MergeOutcome::default()
        };
        if merged.upserts.is_empty() {
            return Ok((Vec::new(), Vec::new()));
        }
        let warnings = self.enrich(feed, &mut merged).await;
        let changed = merged
            .upserts
            .into_iter()
            .filter(|i| i.updated == self.now)
            .collect();
        Ok((changed, warnings))
    }

    /// Fetches one article page and reads what it says about itself.
    async fn fetch_article(&self, feed: &FeedSpec, item: &Item) -> ArticleRecord {
        let now = self.now;
        let failed = |e: String| ArticleRecord {
            fetched: now,
            error: Some(e),
            ..ArticleRecord::default()
        };
        let Ok(url) = Url::parse(&item.link) else {
            return failed("not a URL".into());
        };
        let none = Validators::default();
        let fetched = tokio::select! {
            fetched = self.fetcher.fetch(&url, &none) => fetched,
            () = self.shutdown.grace_over() => return failed("interrupted by a signal".into()),
        };
        let page = match fetched {
            Ok(Fetched::Page(p)) => p,
            Ok(Fetched::NotModified | Fetched::Unchanged(_)) => {
                return failed("unexpected 304".into());
            }
            Err(e) => return failed(e.to_string()),
        };
        let (tz, max_cards) = (feed.timezone, self.max_cards);
        // Parsing is CPU work, and `scraper::Html` is not `Send`.
        let meta = tokio::task::spawn_blocking(move || {
            let text = crate::decode::decode(&page.body, page.content_type.as_deref());
            stage::article(&text, &page.url, &Rules::auto(None, tz, max_cards), now)
        })
        .await;
        match meta {
            Ok(Ok(meta)) => record_from_page(&meta, now),
            Ok(Err(e)) => failed(e.to_string()),
            Err(e) => failed(format!("article task failed: {e}")),
        }
    }
}

/// Reading speed used to estimate a read time from the article's word count.
pub const WORDS_PER_MINUTE: u32 = 230;
/// Fewer words than this are not an article body (a paywall teaser, a video page), so no
/// read time is estimated from them.
const MIN_WORDS: u32 = 150;

/// How long a failed article fetch is remembered before it is tried again.
pub fn retry_after() -> Duration {
    Duration::days(1)
}

/// Whether an item would gain something from its article page. A date only counts for an
/// item first seen in this run: an emitted date never changes.
pub fn wants(item: &Item, now: DateTime<Utc>) -> bool {
    (is_new(item, now) && item.date_source == DateSource::FirstSeen)
        || item.authors.is_empty()
        || item.image.is_none()
        || item.read_time.is_none()
}

fn is_new(item: &Item, now: DateTime<Utc>) -> bool {
    item.first_seen == now
}

/// Minutes to read `words` words at [`WORDS_PER_MINUTE`], at least one.
pub fn estimate_minutes(words: u32) -> u32 {
    words.div_ceil(WORDS_PER_MINUTE).max(1)
}

/// The record of a fetched article page: what its structured data says, with a read time
/// estimated from the word count only when the page states none.
pub fn record_from_page(meta: &ArticleMeta, now: DateTime<Utc>) -> ArticleRecord {
    let (read_time, estimated) = match (meta.read_time, meta.word_count) {
        (Some(m), _) => (Some(m), false),
        (None, Some(w)) if w >= MIN_WORDS => (Some(estimate_minutes(w)), true),
        _ => (None, false),
    };
    ArticleRecord {
        fetched: now,
        error: None,
        title: meta.title.clone(),
        authors: meta.authors.clone(),
        published: meta.date,
        image: meta.image.as_ref().map(ToString::to_string),
        read_time,
        read_time_estimated: estimated,
        word_count: meta.word_count,
    }
}

/// Whether a cached record should be fetched again (a failure older than a day).
pub fn stale(rec: &ArticleRecord, now: DateTime<Utc>) -> bool {
    rec.error.is_some() && now - rec.fetched >= retry_after()
}

/// Whether the page is about the item: a redirect to a home or login page must not lend
/// its date and author to the item. Titles share at least a third of their words, or the
/// page states no title.
fn same_article(item_title: &str, page_title: Option<&str>) -> bool {
    let Some(page_title) = page_title else {
        return true;
    };
    let words = |s: &str| -> std::collections::HashSet<String> {
        s.split(|c: char| !c.is_alphanumeric())
            .filter(|w| w.chars().count() > 2)
            .map(str::to_lowercase)
            .collect()
    };
    let (a, b) = (words(item_title), words(page_title));
    if a.is_empty() || b.is_empty() {
        return true;
    }
    let common = a.intersection(&b).count();
    common * 3 >= a.len().min(b.len())
}

/// Fills what the item lacks from the record; returns whether the item changed. A known
/// item that changes gets `updated = now`; a new item also takes the page's date.
pub fn apply(item: &mut Item, rec: &ArticleRecord, now: DateTime<Utc>) -> bool {
    if rec.error.is_some() || !same_article(&item.title, rec.title.as_deref()) {
        return false;
    }
    let before = item.clone();
    if is_new(item, now)
        && item.date_source == DateSource::FirstSeen
        // A page claiming a date after we saw the item has a broken clock or means another date.
        && let Some(d) = rec.published.filter(|d| *d <= now + Duration::hours(1))
    {
        item.published = d;
        item.updated = d;
        item.date_source = DateSource::Page;
    }
    if item.authors.is_empty() {
        item.authors.clone_from(&rec.authors);
    }
    if item.image.is_none() {
        item.image.clone_from(&rec.image);
    }
    if item.read_time.is_none() && rec.read_time.is_some() {
        item.read_time = rec.read_time;
        item.read_time_estimated = rec.read_time_estimated;
    }
    let changed = *item != before;
    if changed && !is_new(item, now) {
        item.updated = now.max(item.updated);
    }
    changed
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn t(s: i64) -> DateTime<Utc> {
        Utc.timestamp_opt(1_800_000_000 + s, 0)
            .single()
            .expect("valid")
    }

    fn item(first_seen: i64, source: DateSource) -> Item {
        Item {
            id: "https://e/a".into(),
            link: "https://e/a".into(),
            title: "Mice grow new teeth in the lab".into(),
            authors: Vec::new(),
            read_time: None,
            read_time_estimated: false,
            teaser: None,
            image: None,
            categories: vec![],
            published: t(first_seen),
            date_source: source,
            updated: t(first_seen),
            first_seen: t(first_seen),
            position: 0,
            last_seen: t(100),
        }
    }

    fn rec() -> ArticleRecord {
        ArticleRecord {
            fetched: t(100),
            title: Some("Mice grow new teeth | Lab News".into()),
            authors: vec!["Ann Lee".into()],
            published: Some(t(-5000)),
            image: Some("https://e/i.jpg".into()),
            read_time: Some(5),
            read_time_estimated: true,
            ..ArticleRecord::default()
        }
    }

    #[test]
    fn read_time_estimates() {
        let rows = [(0, 1), (1, 1), (230, 1), (231, 2), (1150, 5), (2300, 10)];
        for (words, minutes) in rows {
            assert_eq!(estimate_minutes(words), minutes, "{words} words");
        }
        let stated = ArticleMeta {
            read_time: Some(7),
            word_count: Some(5000),
            ..ArticleMeta::default()
        };
        let r = record_from_page(&stated, t(0));
        assert_eq!((r.read_time, r.read_time_estimated), (Some(7), false));
        let counted = ArticleMeta {
            word_count: Some(1000),
            ..ArticleMeta::default()
        };
        let r = record_from_page(&counted, t(0));
        assert_eq!((r.read_time, r.read_time_estimated), (Some(5), true));
        let stub = ArticleMeta {
            word_count: Some(40),
            ..ArticleMeta::default()
        };
        assert_eq!(record_from_page(&stub, t(0)).read_time, None);
    }

    #[test]
    fn new_item_takes_the_page_date_and_missing_fields() {
        let mut it = item(100, DateSource::FirstSeen);
        assert!(wants(&it, t(100)));
        assert!(apply(&mut it, &rec(), t(100)));
        assert_eq!(it.published, t(-5000));
        assert_eq!(it.updated, t(-5000));
        assert_eq!(it.date_source, DateSource::Page);
        assert_eq!(it.authors, ["Ann Lee"]);
        assert_eq!((it.read_time, it.read_time_estimated), (Some(5), true));
        assert!(!wants(&it, t(100)));
    }

    #[test]
    fn known_item_keeps_its_emitted_date() {
        let mut it = item(0, DateSource::FirstSeen);
        assert!(apply(&mut it, &rec(), t(100)));
        assert_eq!(it.published, t(0), "an emitted date never changes");
        assert_eq!(it.date_source, DateSource::FirstSeen);
        assert_eq!(it.updated, t(100), "the filled author is an update");
        assert_eq!(it.authors, ["Ann Lee"]);
        // Nothing missing any more: nothing changes, nothing is wanted.
        assert!(!apply(&mut it, &rec(), t(200)));
    }

    #[test]
    fn stated_fields_and_foreign_pages_are_left_alone() {
        let mut it = item(100, DateSource::Page);
        it.authors = vec!["Card Author".into()];
        it.read_time = Some(3);
        apply(&mut it, &rec(), t(100));
        assert_eq!(it.authors, ["Card Author"]);
        assert_eq!((it.read_time, it.read_time_estimated), (Some(3), false));
        assert_eq!(it.published, t(100), "a page date from the card stays");

        let mut other = item(100, DateSource::FirstSeen);
        let mut login = rec();
        login.title = Some("Sign in to your account".into());
        assert!(!apply(&mut other, &login, t(100)));
        let mut failed = rec();
        failed.error = Some("HTTP 404".into());
        assert!(!apply(&mut other, &failed, t(100)));
        assert!(stale(&failed, t(100) + retry_after()));
        assert!(!stale(&failed, t(101)));
        let mut future = rec();
        future.published = Some(t(100) + Duration::days(3));
        assert!(apply(&mut other, &future, t(100)));
        assert_eq!(
            other.date_source,
            DateSource::FirstSeen,
            "a future date is ignored"
        );
    }
}
