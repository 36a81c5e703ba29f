//! The data that flows between stages: a `Card` is what one listing page shows of an article,
//! an `Item` is that article as the history keeps it, `FeedMeta` is what a rendered feed says
//! about itself.

use chrono::{DateTime, Utc};
use url::Url;

/// One article card as extracted from a listing page (no history yet).
#[derive(Debug, Clone, PartialEq)]
pub struct Card {
    /// Plain-text headline, whitespace folded.
    pub title: String,
    /// Absolute http(s) link to the article.
    pub link: Url,
    /// One entry per person named in the byline, prefixes stripped ("Andy Carstens";
    /// "A and B" gives two).
    pub authors: Vec<String>,
    /// Reading time in minutes.
    pub read_time: Option<u32>,
    /// Plain-text teaser.
    pub teaser: Option<String>,
    /// Publication date found on the page.
    pub date: Option<DateTime<Utc>>,
    /// Whether `date` came from a relative phrase ("3 hours ago") and must be frozen.
    pub date_relative: bool,
    /// Absolute http(s) image URL.
    pub image: Option<Url>,
    /// Category or tag labels, in page order, without duplicates.
    pub categories: Vec<String>,
}

/// Where an item's publication date came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DateSource {
    /// An absolute date printed or encoded on the page.
    Page,
    /// A relative phrase ("2 days ago") resolved at fetch time, then frozen.
    Relative,
    /// No date on the page: the time scifeed first saw the item, frozen.
    FirstSeen,
}

impl DateSource {
    /// Stable name used in the store.
    pub fn as_str(self) -> &'static str {
        match self {
            DateSource::Page => "page",
            DateSource::Relative => "relative",
            DateSource::FirstSeen => "first_seen",
        }
    }

    /// Inverse of [`DateSource::as_str`].
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "page" => Some(DateSource::Page),
            "relative" => Some(DateSource::Relative),
            "first_seen" => Some(DateSource::FirstSeen),
            _ => None,
        }
    }
}

/// An article as the history keeps it; what every output format renders.
#[derive(Debug, Clone, PartialEq)]
pub struct Item {
    /// Canonical absolute link: the item's identity.
    pub id: String,
    /// Link readers open: the canonical link, so tracking parameters never reach them.
    pub link: String,
    pub title: String,
    /// One entry per person, in byline order.
    pub authors: Vec<String>,
    pub read_time: Option<u32>,
    /// Whether `read_time` is scifeed's estimate from the article's word count (the page
    /// stated none), not a time the site printed.
    pub read_time_estimated: bool,
    pub teaser: Option<String>,
    pub image: Option<String>,
    pub categories: Vec<String>,
    /// Emitted publication date; never changes once stored.
    pub published: DateTime<Utc>,
    pub date_source: DateSource,
    /// Last time the item's content changed (equals `published` until then).
    pub updated: DateTime<Utc>,
    pub first_seen: DateTime<Utc>,
    /// Position on the page when first seen (0 = top): keeps the page's order among items
    /// that share a date.
    pub position: u32,
    pub last_seen: DateTime<Utc>,
}

/// What enrichment learnt from one article page, cached in the store so the page is fetched
/// once.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ArticleRecord {
    /// When the page was fetched.
    pub fetched: DateTime<Utc>,
    /// Why the fetch failed (the other fields are then empty); retried after a day.
    pub error: Option<String>,
    pub title: Option<String>,
    /// One entry per person.
    pub authors: Vec<String>,
    pub published: Option<DateTime<Utc>>,
    pub image: Option<String>,
    /// Minutes: stated by the page, or estimated from `word_count`.
    pub read_time: Option<u32>,
    pub read_time_estimated: bool,
    pub word_count: Option<u32>,
}

/// What a rendered feed says about itself.
#[derive(Debug, Clone, PartialEq)]
pub struct FeedMeta {
    /// Feed id, also the output file stem.
    pub id: String,
    pub title: String,
    pub description: String,
    /// The listing page (absolute http(s) URL) the feed is made from.
    pub site_url: String,
    /// Public URL of the output directory, ending in `/`; self links are this plus file name.
    pub public_url: String,
}

impl FeedMeta {
    /// Absolute URL under which the file for `ext` is published.
    pub fn self_url(&self, ext: &str) -> String {
        format!("{}{}.{}", self.public_url, self.id, ext)
    }
}
