//! Commit, render and write: a feed's merged items go into the store in one transaction
//! (marked "files pending"), then its files are rendered and written atomically, then the
//! mark is cleared. Blocking work (SQLite, fsync); the pipeline runs it on the blocking pool.
//!
//! The store commits before the files are written: a crash in between leaves the feed
//! dirty, and the next run re-renders it from the store. Files first would let a crash
//! re-date items already emitted (the re-merge would stamp a new first-seen time).

use std::path::PathBuf;

use chrono::{DateTime, Utc};

use crate::failpoint;
use crate::feed::{FeedSpec, Settings};
use crate::fetch::Validators;
use crate::heal::Remember;
use crate::merge::{self, MergeOutcome};
use crate::model::{DateSource, FeedMeta, Item};
use crate::output;
use crate::render;
use crate::report::{FeedError, FeedStatus};
use crate::schedule::ScheduleState;
use crate::store::backend::FeedCommit;
use crate::store::{FeedState, StateStore};

/// What the rendered files of `feed` say about themselves (`serve` renders the same).
pub fn feed_meta(settings: &Settings, feed: &FeedSpec) -> FeedMeta {
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

/// One feed's view of the run's output side.
pub struct Publisher<'a> {
    pub settings: &'a Settings,
    pub store: &'a dyn StateStore,
    pub feed: &'a FeedSpec,
    pub now: DateTime<Utc>,
}

/// What [`Publisher::commit_and_write`] did.
#[derive(Debug)]
pub struct PageUpdate {
    pub status: FeedStatus,
    /// Items seen this run whose date came from the page, and all items seen this run.
    pub dated: (usize, usize),
}

/// Where a feed's validators and body fingerprint are kept: per feed, not per URL, because
/// two feeds may read one page with different selectors, and one feed's "unchanged" must
/// not starve the other. (A space never occurs in a serialized URL or a feed id.)
pub fn validators_key(feed: &FeedSpec) -> String {
    format!("{} {}", feed.id, feed.url)
}

impl Publisher<'_> {
    fn store(&self) -> &dyn StateStore {
        self.store
    }

    /// See [`validators_key`].
    pub fn validators_key(&self) -> String {
        validators_key(self.feed)
    }

    /// Whether the files are behind the store: a crash between commit and write, a changed
    /// title or format list, a deleted file.
    pub fn files_stale(&self, state: &FeedState) -> bool {
        state.dirty
            || state.render_key.as_deref() != Some(self.render_key().as_str())
            || self.outputs().iter().any(|p| !p.exists())
    }

    /// Commits the merged items, the page's validators, the feed's next schedule and what it
    /// remembers about its listing (pruning old items in the same commit), then writes the
    /// files when items changed or the files are stale. `top` is the feed's newest stored
    /// items, read with the merge's history.
    pub fn commit_and_write(
        &self,
        merged: &MergeOutcome,
        validators: Validators,
        files_stale: bool,
        remember: &Remember,
        schedule: Option<&ScheduleState>,
        top: Vec<Item>,
    ) -> Result<PageUpdate, FeedError> {
        let feed = self.feed;
        let dated = merged
            .upserts
            .iter()
            .filter(|i| i.date_source != DateSource::FirstSeen)
            .count();
        let store = self.store();
        failpoint::hit("before-commit", &feed.id);
        let total = store.commit(&FeedCommit {
            feed: &feed.id,
            upserts: &merged.upserts,
            validators: &[(self.validators_key(), validators)],
            dirty: merged.changed(),
            now: self.now,
            schedule,
            prune: Some((feed.max_items, self.settings.keep_days)),
        })?;
        match remember {
            Remember::Keep => {}
            Remember::Save(m) => store.remember_listing(&feed.id, m)?,
            Remember::Forget => store.forget_listing(&feed.id)?,
        }
        failpoint::hit("after-commit", &feed.id);
        let items = merge::select_for_output(top, &merged.upserts, feed.max_items);
        let mut written = 0;
        if merged.changed() || files_stale {
            written = self.write_outputs(&items)?;
            self.store().mark_written(&feed.id, &self.render_key())?;
            failpoint::hit("after-mark", &feed.id);
        }
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
        })
    }

    /// A page with the same bytes as last time: keep its fresh validators and the next
    /// schedule, nothing else; returns the feed's item count.
    pub fn commit_unchanged(
        &self,
        validators: Validators,
        schedule: Option<&ScheduleState>,
    ) -> Result<usize, FeedError> {
        Ok(self.store().commit(&FeedCommit {
            feed: &self.feed.id,
            upserts: &[],
            validators: &[(self.validators_key(), validators)],
            dirty: false,
            now: self.now,
            schedule,
            prune: None,
        })?)
    }

    /// Rewrites the files from the store when they are behind it (a feed that is not due is
    /// not fetched, but a crash or a config change must not wait for its schedule); `state`
    /// is the feed's stored state. Returns whether they were.
    pub fn refresh_if_stale(&self, state: &FeedState) -> Result<bool, FeedError> {
        let stale = self.files_stale(state);
        if stale {
            self.rewrite()?;
        }
        Ok(stale)
    }

    /// The end of a run whose page did not change (304 or the same bytes): commits what
    /// enrichment changed, then rewrites stale files. `total` is the item count the fetch's
    /// commit gave; `unchanged` makes the status when nothing changed.
    pub fn finish_unchanged(
        &self,
        enriched: &[Item],
        files_stale: bool,
        mut total: usize,
        unchanged: fn(usize) -> FeedStatus,
    ) -> Result<FeedStatus, FeedError> {
        if !enriched.is_empty() {
            total = self.store().commit(&FeedCommit {
                feed: &self.feed.id,
                upserts: enriched,
                validators: &[],
                dirty: true,
                now: self.now,
                schedule: None,
                prune: None,
            })?;
        }
        if files_stale || !enriched.is_empty() {
            self.rewrite()?;
        }
        if enriched.is_empty() {
            return Ok(unchanged(total));
        }
        Ok(FeedStatus::Updated {
            new: 0,
            updated: enriched.len(),
            total,
            // Items changed, so every format was rewritten.
            files_written: self.settings.formats.len(),
        })
    }

    /// Re-renders the files from the store (they are behind it).
    fn rewrite(&self) -> Result<(), FeedError> {
        let feed = self.feed;
        let items = self.store().top_items(&feed.id, feed.max_items)?;
        if !items.is_empty() {
            self.write_outputs(&items)?;
            self.store().mark_written(&feed.id, &self.render_key())?;
        }
        Ok(())
    }

    /// The feed's output files, one per format.
    pub fn outputs(&self) -> Vec<PathBuf> {
        self.settings
            .formats
            .iter()
            .map(|f| {
                self.settings
                    .output_dir
                    .join(format!("{}.{}", self.feed.id, f.extension()))
            })
            .collect()
    }

    fn feed_meta(&self) -> FeedMeta {
        feed_meta(self.settings, self.feed)
    }

    /// Fingerprint of everything besides items that shapes the files.
    pub fn render_key(&self) -> String {
        let meta = self.feed_meta();
        let key = format!(
            "v1|{}|{}|{}|{}|{}|{:?}|{}",
            meta.id,
            meta.title,
            meta.description,
            meta.site_url,
            meta.public_url,
            self.settings.formats,
            self.feed.max_items
        );
        format!("{:016x}", xxhash_rust::xxh3::xxh3_64(key.as_bytes()))
    }

    fn write_outputs(&self, items: &[Item]) -> Result<usize, FeedError> {
        let meta = self.feed_meta();
        let files: Vec<_> = self
            .outputs()
            .into_iter()
            .zip(render::render_each(&self.settings.formats, &meta, items))
            .collect();
        output::write_all_if_changed(&files).map_err(|e| FeedError::Write {
            path: e.path,
            source: e.source,
        })
    }
}
