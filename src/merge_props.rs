//! Property tests of [`crate::merge`] over random page sequences (bounded case counts, so
//! they run in the unit tests): merging is idempotent, never duplicates an id, never changes
//! an emitted date, and the output is deterministic and equals the store's newest items.

use std::collections::HashMap;

use chrono::{DateTime, TimeZone, Utc};
use proptest::prelude::*;
use url::Url;

use super::{merge, select_for_output, sort_for_output};
use crate::model::{Card, FeedMeta, Item};
use crate::render::{Format, render};

fn t(secs: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(1_800_000_000 + secs, 0)
        .single()
        .expect("in range")
}

/// One of eight articles, under one of several spellings of its link (tracking parameters,
/// fragment, host case), with a varying title/teaser and an optional page date.
fn card() -> impl Strategy<Value = Card> {
    (
        0..8usize,
        0..4usize,
        0..3usize,
        proptest::option::of(0..3usize),
        proptest::option::of(0i64..200_000),
        any::<bool>(),
    )
        .prop_map(|(n, spelling, title, teaser, date, relative)| {
            let link = match spelling {
                0 => format!("https://ex.org/a/{n}"),
                1 => format!("https://EX.org/a/{n}?utm_source=feed"),
                2 => format!("https://ex.org/a/{n}#comments"),
                _ => format!("https://ex.org/a/{n}?fbclid=abc"),
            };
            Card {
                title: format!("Title {n}.{title}"),
                link: Url::parse(&link).expect("valid URL"),
                authors: vec![format!("Author {}", n % 3)],
                read_time: Some(u32::try_from(n).unwrap_or(0) + 1),
                teaser: teaser.map(|v| format!("Teaser {n}.{v}")),
                date: date.map(t),
                date_relative: relative && date.is_some(),
                image: None,
                categories: vec![format!("c{}", n % 2)],
            }
        })
}

fn page() -> impl Strategy<Value = Vec<Card>> {
    prop::collection::vec(card(), 0..12)
}

/// Runs: a page and a clock step, which may go backwards (NTP, a replay with --now).
fn runs() -> impl Strategy<Value = Vec<(Vec<Card>, i64)>> {
    prop::collection::vec((page(), -3_600i64..86_400), 1..6)
}

fn apply(store: &mut HashMap<String, Item>, upserts: &[Item]) {
    for i in upserts {
        store.insert(i.id.clone(), i.clone());
    }
}

/// What the store's `top_items` returns: everything in output order, cut to `max`.
fn top(store: &HashMap<String, Item>, max: usize) -> Vec<Item> {
    let mut all: Vec<Item> = store.values().cloned().collect();
    sort_for_output(&mut all);
    all.truncate(max);
    all
}

fn meta() -> FeedMeta {
    FeedMeta {
        id: "p".into(),
        title: "P".into(),
        description: "d".into(),
        site_url: "https://ex.org/".into(),
        public_url: "https://feeds.example.org/".into(),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn merge_is_idempotent(before in page(), cards in page(), step in 0i64..86_400) {
        let mut store = HashMap::new();
        let seen = merge(&store, &before, t(0));
        apply(&mut store, &seen.upserts);
        let first = merge(&store, &cards, t(step));
        apply(&mut store, &first.upserts);
        let again = merge(&store, &cards, t(step));
        prop_assert_eq!((again.new, again.updated), (0, 0));
        prop_assert_eq!(again.upserts, first.upserts);
    }

    #[test]
    fn no_id_is_ever_duplicated(runs in runs(), max in 1usize..10) {
        let mut store = HashMap::new();
        let mut shown = Vec::new();
        let mut now = 0;
        for (cards, step) in runs {
            now += step;
            let out = merge(&store, &cards, t(now));
            let mut ids: Vec<&str> = out.upserts.iter().map(|i| i.id.as_str()).collect();
            let n = ids.len();
            ids.sort_unstable();
            ids.dedup();
            prop_assert_eq!(ids.len(), n, "duplicate ids in one merge");
            prop_assert_eq!(out.new + out.updated <= out.upserts.len(), true);
            shown = select_for_output(shown, &out.upserts, max);
            let mut shown_ids: Vec<&str> = shown.iter().map(|i| i.id.as_str()).collect();
            shown_ids.sort_unstable();
            shown_ids.dedup();
            prop_assert_eq!(shown_ids.len(), shown.len(), "duplicate ids in the output");
            apply(&mut store, &out.upserts);
        }
    }

    #[test]
    fn emitted_dates_never_change(runs in runs()) {
        let mut store: HashMap<String, Item> = HashMap::new();
        let mut emitted: HashMap<String, (DateTime<Utc>, DateTime<Utc>, u32)> = HashMap::new();
        let mut now = 0;
        for (cards, step) in runs {
            now += step;
            let out = merge(&store, &cards, t(now));
            apply(&mut store, &out.upserts);
            for item in store.values() {
                let frozen = (item.published, item.first_seen, item.position);
                let first = *emitted.entry(item.id.clone()).or_insert(frozen);
                prop_assert_eq!(first, frozen, "{} was re-dated", &item.id);
            }
        }
    }

    #[test]
    fn output_equals_the_stores_newest_items(runs in runs(), max in 1usize..10) {
        let mut store = HashMap::new();
        let mut now = 0;
        for (cards, step) in runs {
            now += step;
            let previous = top(&store, max);
            let out = merge(&store, &cards, t(now));
            apply(&mut store, &out.upserts);
            // What the run writes equals what a re-render from the store gives.
            prop_assert_eq!(select_for_output(previous, &out.upserts, max), top(&store, max));
        }
    }

    #[test]
    fn output_is_deterministic(runs in runs(), rotate in 0usize..12, max in 1usize..10) {
        let mut store = HashMap::new();
        let mut now = 0;
        for (cards, step) in runs {
            now += step;
            let out = merge(&store, &cards, t(now));
            apply(&mut store, &out.upserts);
        }
        let items = top(&store, max);
        let mut shuffled: Vec<Item> = store.values().cloned().collect();
        shuffled.reverse();
        let len = shuffled.len().max(1);
        shuffled.rotate_left(rotate % len);
        let again = select_for_output(shuffled, &[], max);
        prop_assert_eq!(&again, &items);
        for format in Format::ALL {
            prop_assert_eq!(render(format, &meta(), &again), render(format, &meta(), &items));
        }
        prop_assert!(items.windows(2).all(|w| w[0].published >= w[1].published));
    }
}
