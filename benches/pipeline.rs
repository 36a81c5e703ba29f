//! Benchmarks of the pure stages, per page: parse (the floor), decode + parse + extract,
//! merge, render, and the store round trip of one page's items. Run with `cargo bench`.
//! Uses the saved pages of `../shared/corpus` when present, else the demo pages.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use chrono::{TimeZone, Utc};
use divan::{Bencher, black_box};
use scifeed::config::{self, Overrides};
use scifeed::extract::stage::{self, Listing, Rules};
use scifeed::feed::FeedSpec;
use scifeed::model::{Card, FeedMeta, Item};
use scifeed::render::{Format, render, render_each};

fn main() {
    divan::main();
}

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// (feed, page bytes) for every page we can benchmark on.
fn pages() -> Vec<(FeedSpec, Vec<u8>)> {
    let shared =
        std::env::var_os("SCIFEED_SHARED").map_or_else(|| repo().join("../shared"), PathBuf::from);
    let corpus = shared.join("corpus/pages");
    let (cfg_path, from_corpus) = if corpus.is_dir() {
        (repo().join("tests/corpus/feeds.toml"), true)
    } else {
        (repo().join("config/demo.toml"), false)
    };
    let cfg = config::load(&cfg_path, &Overrides::default()).expect("bench config");
    cfg.feeds
        .into_iter()
        .map(|f| {
            let path = if from_corpus {
                corpus.join(format!("{}.html", f.id))
            } else {
                f.url.to_file_path().expect("file url")
            };
            let bytes = std::fs::read(&path).expect("page");
            (f, bytes)
        })
        .collect()
}

fn extract(feed: &FeedSpec, bytes: &[u8]) -> Vec<Card> {
    extract_as(feed, bytes, false)
}

/// As [`extract`], in selector mode or (`auto`) as a feed without selectors would read the
/// page: structured data, else detection.
fn extract_as(feed: &FeedSpec, bytes: &[u8], auto: bool) -> Vec<Card> {
    // As the pipeline does it: the one extraction stage (bounded parse, selectors plus
    // structured-data fallbacks, card limits).
    let html = scifeed::decode::decode(bytes, None);
    let listing = match feed.rules.as_ref() {
        Some(rules) if !auto => Listing::Selectors(rules),
        _ => Listing::Auto,
    };
    let now = Utc
        .with_ymd_and_hms(2026, 11, 26, 12, 0, 0)
        .single()
        .expect("time");
    stage::listing(&html, &feed.url, &Rules::for_feed(feed, listing, 500), now)
        .expect("corpus pages have listings")
        .cards
}

/// html5ever parse into scraper's tree: the floor every page pays.
#[divan::bench]
fn parse_only(b: Bencher) {
    let pages = pages();
    b.counter(divan::counter::ItemsCount::new(pages.len()))
        .bench(|| {
            for (_, bytes) in &pages {
                let text = std::str::from_utf8(bytes).unwrap_or("");
                black_box(scraper::Html::parse_document(text));
            }
        });
}

/// The bounded parse the pipeline uses (chunks fed under depth/size/work limits).
#[divan::bench]
fn parse_bounded(b: Bencher) {
    let pages = pages();
    b.counter(divan::counter::ItemsCount::new(pages.len()))
        .bench(|| {
            for (_, bytes) in &pages {
                let text = std::str::from_utf8(bytes).unwrap_or("");
                let _ = black_box(scifeed::extract::parse::parse_document(text));
            }
        });
}

/// Decode + parse + auto-detect every page's listing and extract its cards (no selectors).
#[divan::bench]
fn decode_parse_auto(b: Bencher) {
    let pages = pages();
    b.counter(divan::counter::ItemsCount::new(pages.len()))
        .bench(|| {
            for (feed, bytes) in &pages {
                black_box(extract_as(feed, bytes, true));
            }
        });
}

/// Decode + parse + extract every card of every page.
#[divan::bench]
fn decode_parse_extract(b: Bencher) {
    let pages = pages();
    b.counter(divan::counter::ItemsCount::new(pages.len()))
        .bench(|| {
            for (feed, bytes) in &pages {
                black_box(extract(feed, bytes));
            }
        });
}

fn items(n: usize) -> Vec<Item> {
    let pages = pages();
    let cards: Vec<Card> = pages.iter().flat_map(|(f, b)| extract(f, b)).collect();
    let now = Utc
        .with_ymd_and_hms(2026, 11, 26, 12, 0, 0)
        .single()
        .expect("time");
    let merged = scifeed::merge::merge(&HashMap::new(), &cards, now);
    merged
        .upserts
        .into_iter()
        .cycle()
        .take(n)
        .enumerate()
        .map(|(i, mut it)| {
            it.id = format!("{}?n={i}", it.id);
            it
        })
        .collect()
}

/// Merging a page of 50 cards into a history that knows half of them.
#[divan::bench]
fn merge_50(b: Bencher) {
    let pages = pages();
    let cards: Vec<Card> = pages
        .iter()
        .flat_map(|(f, b)| extract(f, b))
        .take(50)
        .collect();
    let now = Utc
        .with_ymd_and_hms(2026, 11, 26, 12, 0, 0)
        .single()
        .expect("time");
    let first = scifeed::merge::merge(&HashMap::new(), &cards[..25], now);
    let known: HashMap<String, Item> = first
        .upserts
        .into_iter()
        .map(|i| (i.id.clone(), i))
        .collect();
    b.bench(|| black_box(scifeed::merge::merge(&known, &cards, now)));
}

/// Rendering 50 items in each format.
#[divan::bench(args = [Format::Rss, Format::Atom, Format::Json])]
fn render_50(b: Bencher, format: Format) {
    let items = items(50);
    let meta = FeedMeta {
        id: "bench".into(),
        title: "Bench".into(),
        description: "Bench feed".into(),
        site_url: "https://www.example.org/".into(),
        public_url: "https://feeds.example.org/".into(),
    };
    b.bench(|| black_box(render(format, &meta, &items)));
}

/// Rendering 50 items in all three formats at once, as a run does (entries prepared once).
#[divan::bench]
fn render_each_50(b: Bencher) {
    let items = items(50);
    let meta = FeedMeta {
        id: "bench".into(),
        title: "Bench".into(),
        description: "Bench feed".into(),
        site_url: "https://www.example.org/".into(),
        public_url: "https://feeds.example.org/".into(),
    };
    b.bench(|| black_box(render_each(&Format::ALL, &meta, &items)));
}

/// One page's store work: look up 50 ids, read the top 50, commit 50 upserts.
#[divan::bench(args = [1_000, 100_000])]
fn store_page(b: Bencher, history: usize) {
    let dir = tempfile::tempdir().expect("tmp");
    let mut store = scifeed::store::Store::open(&dir.path().join("s.db"), false).expect("store");
    let now = Utc
        .with_ymd_and_hms(2026, 11, 26, 12, 0, 0)
        .single()
        .expect("time");
    let all = items(history);
    for chunk in all.chunks(10_000) {
        store
            .commit_feed("f", chunk, &[], false, now)
            .expect("fill");
    }
    let page: Vec<Item> = all[..50].to_vec();
    let ids: Vec<String> = page.iter().map(|i| i.id.clone()).collect();
    b.bench_local(|| {
        black_box(store.items_by_ids("f", &ids).expect("ids"));
        black_box(store.top_items("f", 50).expect("top"));
        store
            .commit_feed("f", &page, &[], false, now)
            .expect("commit");
    });
}
