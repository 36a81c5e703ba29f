//! Merge: (stored items, cards of this run, now) -> items to store. Pure.
//!
//! Identity is the canonical link, so a card seen again updates its item instead of adding
//! one. Emitted dates are frozen: an item keeps the `published` it was first given, and cards
//! without a page date get their first-seen time, staggered by page position so that readers
//! sorting newest first keep the page's order.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Duration, Utc};

use crate::canon;
use crate::model::{Card, DateSource, Item};

/// Result of merging one page into the history.
#[derive(Debug, Default, PartialEq)]
pub struct MergeOutcome {
    /// Every item seen this run, new or known, in page order, as it must be stored.
    pub upserts: Vec<Item>,
    /// Items seen for the first time.
    pub new: usize,
    /// Known items whose content changed.
    pub updated: usize,
}

impl MergeOutcome {
    /// Whether the rendered feed can differ from the last run's.
    pub fn changed(&self) -> bool {
        self.new + self.updated > 0
    }
}

/// Merges `cards` (page order) into `known` (stored items by id). A card whose id came
/// earlier on the page is skipped: the first one stands for the article, whichever
/// extractor produced the cards.
pub fn merge(known: &HashMap<String, Item>, cards: &[Card], now: DateTime<Utc>) -> MergeOutcome {
    let mut out = MergeOutcome::default();
    let mut undated_new = 0i64;
    let mut seen = HashSet::with_capacity(cards.len());
    for (position, card) in cards.iter().enumerate() {
        let id = canon::canonical(&card.link);
        if !seen.insert(id.clone()) {
            continue;
        }
        match known.get(&id) {
            Some(old) => {
                let mut item = old.clone();
                apply_content(&mut item, card);
                item.last_seen = now;
                if content_differs(old, &item) {
                    // `updated` never goes backwards, even when the clock does.
                    item.updated = now.max(old.updated);
                    out.updated += 1;
                }
                out.upserts.push(item);
            }
            None => {
                let (published, date_source) = match card.date {
                    Some(d) if card.date_relative => (d, DateSource::Relative),
                    Some(d) => (d, DateSource::Page),
                    None => {
                        let t = now - Duration::seconds(undated_new);
                        undated_new += 1;
                        (t, DateSource::FirstSeen)
                    }
                };
                out.new += 1;
                out.upserts.push(Item {
                    link: id.clone(),
                    id,
                    title: card.title.clone(),
                    authors: card.authors.clone(),
                    read_time: card.read_time,
                    read_time_estimated: false,
                    teaser: card.teaser.clone(),
                    image: card.image.as_ref().map(ToString::to_string),
                    categories: card.categories.clone(),
                    published,
                    date_source,
                    updated: published,
                    first_seen: now,
                    position: u32::try_from(position).unwrap_or(u32::MAX),
                    last_seen: now,
                });
            }
        }
    }
    out
}

/// Copies what the card shows onto the item; a field the card lacks keeps its stored value,
/// so a page that drops a teaser for a day does not erase it from the feed.
fn apply_content(item: &mut Item, card: &Card) {
    item.title.clone_from(&card.title);
    if !card.authors.is_empty() {
        item.authors.clone_from(&card.authors);
    }
    if card.read_time.is_some() {
        item.read_time = card.read_time;
        item.read_time_estimated = false;
    }
    if card.teaser.is_some() {
        item.teaser.clone_from(&card.teaser);
    }
    if let Some(img) = &card.image {
        item.image = Some(img.to_string());
    }
    if !card.categories.is_empty() {
        item.categories.clone_from(&card.categories);
    }
}

fn content_differs(a: &Item, b: &Item) -> bool {
    a.title != b.title
        || a.authors != b.authors
        || a.read_time != b.read_time
        || a.read_time_estimated != b.read_time_estimated
        || a.teaser != b.teaser
        || a.image != b.image
        || a.categories != b.categories
}

/// Output order: newest first; among equal dates (date-only page dates) the items seen last
/// first, in page order; the id as final tie-break, so the same history gives the same bytes.
/// `Store::top_items` uses the same order.
pub fn sort_for_output(items: &mut [Item]) {
    items.sort_by(|a, b| {
        b.published
            .cmp(&a.published)
            .then_with(|| b.first_seen.cmp(&a.first_seen))
            .then_with(|| a.position.cmp(&b.position))
            .then_with(|| a.id.cmp(&b.id))
    });
}

/// The items a feed shows: the previous top `max` plus everything stored this run, newest
/// first. Published dates never change, so no item outside these can enter the top `max`.
pub fn select_for_output(previous_top: Vec<Item>, upserts: &[Item], max: usize) -> Vec<Item> {
    let mut by_id: HashMap<String, Item> = previous_top
        .into_iter()
        .map(|i| (i.id.clone(), i))
        .collect();
    for item in upserts {
        by_id.insert(item.id.clone(), item.clone());
    }
    let mut items: Vec<Item> = by_id.into_values().collect();
    sort_for_output(&mut items);
    items.truncate(max);
    items
}

#[cfg(test)]
#[path = "merge_props.rs"]
mod props;

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use url::Url;

    fn card(path: &str, title: &str) -> Card {
        Card {
            title: title.into(),
            link: Url::parse(&format!("https://ex.org/{path}")).expect("url"),
            authors: Vec::new(),
            read_time: None,
            teaser: None,
            date: None,
            date_relative: false,
            image: None,
            categories: vec![],
        }
    }

    fn t(s: i64) -> DateTime<Utc> {
        Utc.timestamp_opt(1_800_000_000 + s, 0)
            .single()
            .expect("valid")
    }

    fn index(items: &[Item]) -> HashMap<String, Item> {
        items.iter().map(|i| (i.id.clone(), i.clone())).collect()
    }

    #[test]
    fn undated_new_cards_are_staggered_in_page_order() {
        let cards = [card("a", "A"), card("b", "B"), card("c", "C")];
        let out = merge(&HashMap::new(), &cards, t(100));
        assert_eq!(out.new, 3);
        let dates: Vec<_> = out.upserts.iter().map(|i| i.published).collect();
        assert_eq!(dates, vec![t(100), t(99), t(98)]);
        assert!(
            out.upserts
                .iter()
                .all(|i| i.date_source == DateSource::FirstSeen)
        );
        let mut sorted = out.upserts.clone();
        sort_for_output(&mut sorted);
        let titles: Vec<_> = sorted.iter().map(|i| i.title.as_str()).collect();
        assert_eq!(titles, ["A", "B", "C"]);
    }

    #[test]
    fn page_dates_win_and_are_not_staggered() {
        let mut a = card("a", "A");
        a.date = Some(t(5));
        let mut r = card("r", "R");
        r.date = Some(t(7));
        r.date_relative = true;
        let out = merge(&HashMap::new(), &[card("x", "X"), a, r], t(100));
        assert_eq!(out.upserts[1].published, t(5));
        assert_eq!(out.upserts[1].date_source, DateSource::Page);
        assert_eq!(out.upserts[2].date_source, DateSource::Relative);
        assert_eq!(out.upserts[0].published, t(100));
    }

    #[test]
    fn second_run_freezes_dates_and_counts_updates() {
        let first = merge(&HashMap::new(), &[card("a", "A"), card("b", "B")], t(0));
        let known = index(&first.upserts);
        // Same page an hour later, with a tracking parameter and an edited title.
        let mut b2 = card("b?utm_source=rss", "B edited");
        b2.link = Url::parse("https://ex.org/b?utm_source=rss").expect("url");
        let second = merge(&known, &[card("a", "A"), b2, card("c", "C")], t(3600));
        assert_eq!((second.new, second.updated), (1, 1));
        let a = &second.upserts[0];
        assert_eq!(a.published, t(0));
        assert_eq!(a.updated, t(0), "unchanged item keeps its updated time");
        assert_eq!(a.last_seen, t(3600));
        let b = &second.upserts[1];
        assert_eq!(b.id, "https://ex.org/b");
        assert_eq!(b.published, t(-1));
        assert_eq!(b.updated, t(3600));
        assert_eq!(b.title, "B edited");
        assert_eq!(second.upserts[2].published, t(3600));
    }

    #[test]
    fn unchanged_page_changes_nothing_but_last_seen() {
        let mut c = card("a", "A");
        c.teaser = Some("T".into());
        let first = merge(&HashMap::new(), std::slice::from_ref(&c), t(0));
        let mut c2 = c.clone();
        c2.teaser = None; // the page dropped the teaser: keep the stored one
        let second = merge(&index(&first.upserts), &[c2], t(60));
        assert!(!second.changed());
        let mut expect = first.upserts[0].clone();
        expect.last_seen = t(60);
        assert_eq!(second.upserts, vec![expect]);
    }

    /// Found by the `no_id_is_ever_duplicated` property: two cards with one canonical link
    /// (say, a tracking-parameter variant) were stored twice and counted as two new items.
    #[test]
    fn duplicate_links_on_one_page_make_one_item() {
        let mut dup = card("a?utm_source=x", "A again");
        dup.link = Url::parse("https://ex.org/a?utm_source=x").expect("url");
        let out = merge(
            &HashMap::new(),
            &[card("a", "A"), dup, card("b", "B")],
            t(0),
        );
        assert_eq!(out.new, 2);
        let titles: Vec<_> = out.upserts.iter().map(|i| i.title.as_str()).collect();
        assert_eq!(titles, ["A", "B"]);
        assert_eq!(
            out.upserts[1].position, 2,
            "position stays the page position"
        );
    }

    #[test]
    fn output_keeps_fallen_off_items_until_pushed_out() {
        let first = merge(&HashMap::new(), &[card("a", "A"), card("b", "B")], t(0));
        let top = select_for_output(vec![], &first.upserts, 3);
        assert_eq!(top.len(), 2);
        // Next run the page shows only new items; the old ones stay until max is reached.
        let second = merge(
            &index(&first.upserts),
            &[card("c", "C"), card("d", "D")],
            t(60),
        );
        let top = select_for_output(top, &second.upserts, 3);
        let ids: Vec<_> = top.iter().map(|i| i.title.as_str()).collect();
        assert_eq!(ids, ["C", "D", "A"]);
    }
}
