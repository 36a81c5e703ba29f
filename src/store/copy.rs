//! `scifeed store migrate --to TARGET`: copies a whole state (items with their frozen dates,
//! feed state, remembered listings, validators, robots.txt and article caches, schedule)
//! into another, SQLite to
//! PostgreSQL or back. The target must be empty; it is migrated to the current schema first,
//! and the copy is checked by counting rows on both sides.

use super::StoreError;
use super::backend::StateStore;

/// What a copy moved.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CopyReport {
    pub feeds: usize,
    pub items: usize,
    pub validators: usize,
    pub robots: usize,
    pub articles: usize,
    pub schedules: usize,
}

/// Why a copy was refused or failed.
#[derive(Debug, thiserror::Error)]
pub enum CopyError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(
        "the target {0} is not empty; `store migrate` copies into an empty state only\n    hint: use a new database (createdb) or a new file"
    )]
    TargetNotEmpty(String),
    #[error("copy of feed {feed:?} incomplete: {copied} of {expected} items arrived")]
    Incomplete {
        feed: String,
        copied: usize,
        expected: usize,
    },
}

/// Copies everything from `from` into the empty `to`, feed by feed (so memory holds one
/// feed's history at a time).
pub fn copy_state(from: &dyn StateStore, to: &dyn StateStore) -> Result<CopyReport, CopyError> {
    if !to.is_empty()? {
        return Err(CopyError::TargetNotEmpty(to.describe()));
    }
    let rows = from.export_rows()?;
    let mut report = CopyReport {
        validators: rows.http_cache.len(),
        robots: rows.robots.len(),
        articles: rows.articles.len(),
        schedules: rows.schedules.len(),
        ..CopyReport::default()
    };
    to.import_rows(&rows)?;
    for feed in from.item_feeds()? {
        let items = from.top_items(&feed, usize::MAX)?;
        to.import_items(&feed, &items)?;
        let copied = to.count_items(&feed)?;
        if copied != items.len() {
            return Err(CopyError::Incomplete {
                feed,
                copied,
                expected: items.len(),
            });
        }
        report.feeds += 1;
        report.items += items.len();
    }
    Ok(report)
}
