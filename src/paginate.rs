//! Pagination: which `next` links a feed follows, and the cards of all its pages in page
//! order. Pure bookkeeping; the pipeline fetches and extracts each page it is told to.
//!
//! A feed follows `next` while a page brings new items, up to `max_pages`. New means unknown
//! to the history (listings are newest first, so a page of known items means the rest is
//! known too), or, when the feed crawls `deep`, just unseen in this run: when the store has
//! no fingerprint of the first page (a first run, or an incomplete crawl last time). A link
//! back to a page already read ends the walk. A later page that fails keeps what the pages
//! before it gave, and the walk counts as incomplete: the first page's validators are then
//! not stored, so the next run reads and paginates again instead of calling it unchanged.

use std::collections::HashSet;

use url::Url;

use crate::extract::stage::{ExtractError, ListingPage};
use crate::feed::FeedSpec;
use crate::fetch::Validators;
use crate::model::Card;

/// The walk over one feed's pages.
#[derive(Debug)]
pub struct Pager {
    seen: HashSet<String>,
    cards: Vec<Card>,
    warnings: Vec<String>,
    visited: HashSet<Url>,
    next: Option<Url>,
    /// Pages read so far.
    pages: u32,
    max_pages: u32,
    brought_new: usize,
    deep: bool,
    /// A later page failed or the run was stopped.
    incomplete: bool,
    feed: String,
}

impl Pager {
    /// Starts with the feed's first page; `known` holds the ids of its cards that the
    /// history already has, `stored` the validators the store kept for it.
    pub fn new(
        feed: &FeedSpec,
        first: ListingPage,
        known: &HashSet<String>,
        stored: &Validators,
    ) -> Pager {
        let mut p = Pager {
            seen: HashSet::new(),
            cards: Vec::new(),
            warnings: Vec::new(),
            visited: HashSet::from([feed.url.clone()]),
            next: None,
            pages: 0,
            max_pages: feed.max_pages,
            brought_new: 0,
            deep: stored.body_hash.is_none(),
            incomplete: false,
            feed: feed.id.clone(),
        };
        p.add(first, known);
        p
    }

    /// The next page to fetch, if the walk goes on.
    pub fn next_url(&mut self) -> Option<Url> {
        let url = self.next.take()?;
        let feed = &self.feed;
        if self.pages >= self.max_pages {
            tracing::debug!(feed = %feed, "max_pages ({}) reached; not following {url}", self.max_pages);
            return None;
        }
        if self.brought_new == 0 {
            tracing::debug!(feed = %feed, "page {} brought no new items; not following {url}", self.pages);
            return None;
        }
        if !self.visited.insert(url.clone()) {
            tracing::debug!(feed = %feed, "next link {url} leads back to a page already read");
            return None;
        }
        Some(url)
    }

    /// Whether the page about to be fetched needs to know which of its items the history has
    /// (only to decide whether to follow its own next link).
    pub fn needs_known(page: &ListingPage) -> bool {
        page.next.is_some()
    }

    /// Adds a page's cards (those not seen on earlier pages) and its next link.
    pub fn add(&mut self, page: ListingPage, known: &HashSet<String>) {
        self.pages += 1;
        self.visited.insert(page.url.clone());
        self.warnings.extend(page.warnings);
        let mut new = 0;
        for card in page.cards {
            let id = crate::canon::canonical(&card.link);
            if self.seen.insert(id.clone()) {
                new += usize::from(self.deep || !known.contains(&id));
                self.cards.push(card);
            }
        }
        tracing::debug!(feed = %self.feed, "page {} ({}): {new} new item(s)", self.pages, page.url);
        self.brought_new = new;
        self.next = page.next;
    }

    /// A later page without cards ends the walk; worth a warning when the page says why it
    /// is empty (a bot wall on page 3) or could not be parsed.
    pub fn empty_page(&mut self, url: &Url, e: &ExtractError) {
        self.pages += 1;
        let why = match e {
            ExtractError::NoCards {
                diagnosis: Some(d), ..
            } => Some((*d).to_string()),
            ExtractError::TooComplex(_) => Some(e.to_string()),
            _ => None,
        };
        match why {
            Some(w) => self
                .warnings
                .push(format!("page {} ({url}): {w}", self.pages)),
            None => tracing::debug!(feed = %self.feed, "page {} ({url}) has no cards", self.pages),
        }
    }

    /// A later page that could not be fetched ends the walk: the earlier pages' items are
    /// kept, and the crawl counts as incomplete.
    pub fn failed_page(&mut self, cause: &dyn std::fmt::Display) {
        self.incomplete = true;
        self.warnings.push(format!(
            "page {} not fetched ({cause}); kept the items of the pages before it",
            self.pages + 1
        ));
    }

    /// The run is stopping: keep what the earlier pages gave; the next run paginates again.
    pub fn interrupted(&mut self) {
        self.incomplete = true;
    }

    /// The cards of every page in page order, without duplicates, the warnings, and the
    /// validators to store for the first page (`first`, or none after an incomplete walk).
    pub fn finish(self, first: Validators) -> (Vec<Card>, Vec<String>, Validators) {
        let validators = if self.incomplete {
            Validators::default()
        } else {
            first
        };
        (self.cards, self.warnings, validators)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::extract::page::CardSource;

    fn page(url: &str, links: &[&str], next: Option<&str>) -> ListingPage {
        let cards: Vec<Card> = links
            .iter()
            .map(|l| Card {
                title: format!("T {l}"),
                link: Url::parse(&format!("https://e.org/{l}")).expect("url"),
                authors: Vec::new(),
                read_time: None,
                teaser: None,
                date: None,
                date_relative: false,
                image: None,
                categories: Vec::new(),
            })
            .collect();
        ListingPage {
            url: Url::parse(url).expect("url"),
            date_origins: vec![crate::extract::page::DateOrigin::None; cards.len()],
            matched: cards.len(),
            cards,
            source: CardSource::Selectors,
            warnings: Vec::new(),
            next: next.map(|n| Url::parse(n).expect("url")),
            stats: Vec::new(),
        }
    }

    fn ids(v: &[&str]) -> HashSet<String> {
        v.iter().map(|l| format!("https://e.org/{l}")).collect()
    }

    fn feed(max_pages: u32) -> FeedSpec {
        let text = format!(
            "[[feed]]\nid = \"f\"\ntitle = \"F\"\nurl = \"https://e.org/news\"\nnext = \"a[rel=next]\"\nmax_pages = {max_pages}\n"
        );
        crate::config::parse(
            &text,
            std::path::Path::new("t.toml"),
            &crate::config::Overrides::default(),
        )
        .expect("valid")
        .feeds
        .remove(0)
    }

    /// Validators of a first page read before (`false`) or never (`true`: a deep crawl).
    fn stored(deep: bool) -> Validators {
        if deep {
            Validators::default()
        } else {
            Validators::of(None, None, b"page 1")
        }
    }

    #[test]
    fn follows_while_pages_bring_new_items() {
        let first = page(
            "https://e.org/news",
            &["a", "b"],
            Some("https://e.org/news?p=2"),
        );
        let mut p = Pager::new(&feed(5), first, &ids(&[]), &stored(false));
        let url = p.next_url().expect("page 2");
        assert_eq!(url.as_str(), "https://e.org/news?p=2");
        // Page 2 repeats b and brings c; its next link leads back to page 1.
        p.add(
            page(url.as_str(), &["b", "c"], Some("https://e.org/news")),
            &ids(&[]),
        );
        assert_eq!(p.next_url(), None, "a loop ends the walk");
        let (cards, _, v) = p.finish(stored(false));
        let got: Vec<&str> = cards.iter().map(|c| c.link.path()).collect();
        assert_eq!(got, ["/a", "/b", "/c"]);
        assert_eq!(v, stored(false), "a complete walk keeps the validators");
    }

    #[test]
    fn stops_at_known_items_max_pages_and_failures() {
        let known = ids(&["a", "b"]);
        let first = page(
            "https://e.org/news",
            &["a", "b"],
            Some("https://e.org/news?p=2"),
        );
        let mut p = Pager::new(&feed(5), first.clone(), &known, &stored(false));
        assert_eq!(p.next_url(), None, "nothing new on page 1");
        let mut deep = Pager::new(&feed(5), first.clone(), &known, &stored(true));
        assert!(
            deep.next_url().is_some(),
            "a deep crawl counts this run's items"
        );
        let mut capped = Pager::new(&feed(1), first, &ids(&[]), &stored(false));
        assert_eq!(capped.next_url(), None, "max_pages = 1");
        deep.failed_page(&"HTTP 500");
        let (_, warnings, v) = deep.finish(stored(false));
        assert_eq!(
            warnings,
            ["page 2 not fetched (HTTP 500); kept the items of the pages before it"]
        );
        assert_eq!(
            v,
            Validators::default(),
            "incomplete: read it all again next run"
        );
    }
}
