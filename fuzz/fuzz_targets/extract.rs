//! HTML + selectors -> cards: bounded parsing, selector extraction and the card limits must
//! never panic, and every card they let through must be usable.
//!
//! Input: up to nine selector lines (card, title, link, author, read_time, teaser, date,
//! image, category; empty = none), a blank line, then the page bytes. Plain text, so saved
//! pages make good seeds.
#![no_main]

use libfuzzer_sys::fuzz_target;
use scifeed::extract::clamp::{MAX_TITLE, clamp_card};
use scifeed::extract::date::DateContext;
use scifeed::extract::parse::parse_document;
use scifeed::extract::select::{CardRules, FieldSelector, PageContext, compile_css, extract_cards};

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
    let Ok(doc) = parse_document(&text) else {
        return;
    };
    let page_url = url::Url::parse("https://news.example.org/list/").expect("static URL");
    let now = chrono::DateTime::from_timestamp(1_800_000_000, 0).expect("valid");
    let ctx = PageContext {
        page_url: &page_url,
        base_url: None,
        date: DateContext {
            format: None,
            tz: chrono_tz::UTC,
            now,
        },
        max_cards: 50,
    };
    let out = extract_cards(&doc, &rules, &ctx);
    assert!(out.cards.len() <= 50);
    assert!(out.cards.len() <= out.matched);
    let _ = scifeed::pipeline::diagnose_empty(&text);
    for c in out.cards {
        assert!(!c.title.is_empty());
        assert!(matches!(c.link.scheme(), "http" | "https"), "{}", c.link);
        if let Some(i) = &c.image {
            assert!(matches!(i.scheme(), "http" | "https"), "{i}");
        }
        if let Ok(c) = clamp_card(c) {
            assert!(c.title.chars().count() <= MAX_TITLE);
        }
    }
});
