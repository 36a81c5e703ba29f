//! HTML + selectors -> cards through the extraction stage: bounded parsing, selector
//! extraction, re-detection and the card limits must never panic, and every card they let
//! through must be usable.
//!
//! Input: up to nine selector lines (card, title, link, author, read_time, teaser, date,
//! image, category; empty = none), a blank line, then the page bytes. Plain text, so saved
//! pages make good seeds.
#![no_main]

use libfuzzer_sys::fuzz_target;
use scifeed::extract::clamp::MAX_TITLE;
use scifeed::extract::select::{CardRules, FieldSelector, compile_css};
use scifeed::extract::stage::{self, Limits, Listing, Rules};

fuzz_target!(|data: &[u8]| {
    let split = data
        .windows(2)
        .position(|w| w == b"\n\n")
        .unwrap_or(data.len());
    let Ok(head) = std::str::from_utf8(&data[..split]) else {
        return;
    };
    let page = data.get(split + 2..).unwrap_or_default();
    let mut lines = head.lines().map(str::trim);
    let Some(card_src) = lines.next() else { return };
    let Ok(card) = compile_css(card_src) else {
        return;
    };
    let Some(Ok(title)) = lines.next().map(FieldSelector::parse) else {
        return;
    };
    let mut field = || {
        lines
            .next()
            .filter(|l| !l.is_empty())
            .and_then(|l| FieldSelector::parse(l).ok())
    };
    let rules = CardRules {
        card,
        card_source: card_src.to_string(),
        title,
        link: field(),
        author: field(),
        read_time: field(),
        teaser: field(),
        date: field(),
        image: field(),
        category: field(),
    };
    let text = scifeed::decode::decode(page, None);
    let page_url = url::Url::parse("https://news.example.org/list/").expect("static URL");
    let now = chrono::DateTime::from_timestamp(1_800_000_000, 0).expect("valid");
    // The stage as `run` and `preview` call it, re-detection and selector counts included.
    let stage_rules = Rules {
        listing: Listing::Selectors(&rules),
        base_url: None,
        date_format: None,
        tz: chrono_tz::UTC,
        next: None,
        limits: Limits::new(50),
        redetect: true,
        stats: true,
    };
    let pages = match stage::listing(&text, &page_url, &stage_rules, now) {
        Ok(page) => vec![page],
        Err(mut e) => {
            let _ = e.to_string();
            e.take_alternatives()
        }
    };
    for page in pages {
        assert!(page.cards.len() <= 50);
        assert!(page.cards.len() <= page.matched);
        assert_eq!(page.cards.len(), page.date_origins.len());
        for c in page.cards {
            assert!(!c.title.is_empty());
            assert!(c.title.chars().count() <= MAX_TITLE);
            assert!(matches!(c.link.scheme(), "http" | "https"), "{}", c.link);
            if let Some(i) = &c.image {
                assert!(matches!(i.scheme(), "http" | "https"), "{i}");
            }
        }
    }
});
