//! Golden extraction tests on the real saved pages of `../shared/corpus`.
//!
//! `tests/corpus/feeds.toml` is an ordinary scifeed config with one feed per
//! `expected/<stem>.json`. Each page is decoded and extracted exactly as the pipeline does, and
//! the cards are compared field by field with the hand-checked ground truth. Every mismatch of
//! every page is printed before the test fails, so one run shows the whole picture.
//!
//! The corpus is data outside the repository: it is found at `$SCIFEED_SHARED/corpus`, else
//! `CARGO_MANIFEST_DIR/../shared/corpus`; when it is absent the corpus tests skip.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use chrono::{DateTime, TimeZone, Utc};
use scifeed::config::{self, Overrides};
use scifeed::extract::stage::ListingPage;
use scifeed::feed::{Config, FeedSpec};
use scifeed::model::Card;
use serde_json::Value;

use crate::corpus_dir;
use url::Url;

fn config_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus/feeds.toml")
}

fn load_config() -> Config {
    let path = config_path();
    config::load(&path, &Overrides::default())
        .unwrap_or_else(|e| panic!("{} does not load:\n{e}", path.display()))
}

/// Stems of `expected/*.json`, sorted.
fn expected_stems(corpus: &Path) -> Vec<String> {
    let dir = corpus.join("expected");
    let entries = std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    let mut stems: Vec<String> = entries
        .map(|e| {
            e.unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
                .path()
        })
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .filter_map(|p| p.file_stem().and_then(|s| s.to_str()).map(str::to_string))
        .collect();
    stems.sort();
    assert!(
        !stems.is_empty(),
        "{} holds no expected cards",
        dir.display()
    );
    stems
}

/// The moment the corpus tests pretend it is (relative dates resolve against it).
fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 26, 12, 0, 0)
        .single()
        .expect("valid fixed time")
}

fn extract(feed: &FeedSpec, page: &Path) -> ListingPage {
    assert!(feed.rules.is_some(), "feed {} has no rules", feed.id);
    let body = std::fs::read(page).unwrap_or_else(|e| panic!("{}: {e}", page.display()));
    let page_url = Url::from_file_path(page)
        .unwrap_or_else(|()| panic!("{} is not an absolute path", page.display()));
    crate::extract_page(feed, &body, &page_url, now())
        .unwrap_or_else(|e| panic!("{}: {e}", feed.id))
}

fn json_str(card: &Value, key: &str) -> Option<String> {
    card.get(key).and_then(Value::as_str).map(str::to_string)
}

/// One field of one card as (name, expected, got), both rendered as JSON-ish text.
fn fields(want: &Value, got: &Card) -> Vec<(&'static str, Option<String>, Option<String>)> {
    let read_time = want
        .get("read_time_minutes")
        .and_then(Value::as_u64)
        .map(|m| m.to_string());
    vec![
        ("title", json_str(want, "title"), Some(got.title.clone())),
        ("link", json_str(want, "link"), Some(got.link.to_string())),
        // The corpus states several names as one string joined with ", ".
        (
            "author",
            json_str(want, "author"),
            (!got.authors.is_empty()).then(|| got.authors.join(", ")),
        ),
        (
            "read_time_minutes",
            read_time,
            got.read_time.map(|m| m.to_string()),
        ),
        ("teaser", json_str(want, "teaser"), got.teaser.clone()),
        (
            "date",
            json_str(want, "date"),
            got.date.map(|d| d.format("%Y-%m-%d").to_string()),
        ),
        (
            "image",
            json_str(want, "image"),
            got.image.as_ref().map(ToString::to_string),
        ),
    ]
}

/// Compares one page's cards with its expected JSON; returns one line per mismatch.
fn compare(stem: &str, want: &Value, got: &[Card]) -> Vec<String> {
    let mut diffs = Vec::new();
    let empty = Vec::new();
    let want_cards = want
        .get("cards")
        .and_then(Value::as_array)
        .unwrap_or(&empty);
    if want_cards.len() != got.len() {
        diffs.push(format!(
            "{stem}: card count: expected {}, got {}",
            want_cards.len(),
            got.len()
        ));
    }
    for (i, (w, g)) in want_cards.iter().zip(got).enumerate() {
        for (field, expected, actual) in fields(w, g) {
            if expected != actual {
                diffs.push(format!(
                    "{stem}: card {i} ({:?}): {field}: expected {expected:?}, got {actual:?}",
                    json_str(w, "title").unwrap_or_default()
                ));
            }
        }
    }
    // By link, so that one missing or extra card does not hide behind the index shift above.
    let want_links: Vec<String> = want_cards
        .iter()
        .map(|w| json_str(w, "link").unwrap_or_default())
        .collect();
    for (i, w) in want_cards.iter().enumerate() {
        if !got.iter().any(|g| g.link.as_str() == want_links[i]) {
            diffs.push(format!(
                "{stem}: card {i}: not extracted: {:?} {}",
                json_str(w, "title").unwrap_or_default(),
                want_links[i]
            ));
        }
    }
    for (i, g) in got.iter().enumerate() {
        if !want_links.iter().any(|l| l == g.link.as_str()) {
            diffs.push(format!(
                "{stem}: extracted card {i}: not expected: {:?} {}",
                g.title, g.link
            ));
        }
    }
    diffs
}

#[test]
fn corpus_pages_extract_expected_cards() {
    let Some(corpus) = corpus_dir() else {
        return;
    };
    let cfg = load_config();
    let mut diffs = Vec::new();
    let mut summary = String::new();
    for stem in expected_stems(&corpus) {
        let path = corpus.join("expected").join(format!("{stem}.json"));
        let text =
            std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let want: Value =
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let Some(feed) = cfg.feeds.iter().find(|f| f.id == stem) else {
            diffs.push(format!("{stem}: no feed with this id in feeds.toml"));
            continue;
        };
        let want_base = json_str(&want, "url");
        let got_base = feed.base_url.as_ref().map(ToString::to_string);
        if want_base != got_base {
            diffs.push(format!(
                "{stem}: base_url: expected {want_base:?}, got {got_base:?}"
            ));
        }
        // The relative `url` in feeds.toml assumes the repository sits next to `shared/`;
        // read the page from the corpus that was actually found instead.
        let page = corpus.join("pages").join(format!("{stem}.html"));
        let ListingPage {
            cards: got,
            warnings,
            ..
        } = extract(feed, &page);
        let mut page_diffs = compare(&stem, &want, &got);
        // On a hand-checked page every matched element is a card and every date parses.
        page_diffs.extend(warnings.iter().map(|w| format!("{stem}: warning: {w}")));
        let expected_n = want
            .get("cards")
            .and_then(Value::as_array)
            .map_or(0, Vec::len);
        let _ = writeln!(
            summary,
            "{stem}: {} cards extracted, {expected_n} expected, {} mismatch(es)",
            got.len(),
            page_diffs.len()
        );
        diffs.extend(page_diffs);
    }
    eprint!("{summary}");
    assert!(
        diffs.is_empty(),
        "{} mismatch(es) against the corpus:\n{}",
        diffs.len(),
        diffs.join("\n")
    );
}

#[test]
fn every_corpus_page_has_a_feed() {
    let Some(corpus) = corpus_dir() else {
        return;
    };
    let cfg = load_config();
    let ids: BTreeSet<&str> = cfg.feeds.iter().map(|f| f.id.as_str()).collect();
    let stems = expected_stems(&corpus);
    let missing: Vec<&String> = stems.iter().filter(|s| !ids.contains(s.as_str())).collect();
    assert!(
        missing.is_empty(),
        "expected/*.json without a feed in tests/corpus/feeds.toml: {missing:?}"
    );
    let extra: Vec<&&str> = ids
        .iter()
        .filter(|id| !stems.iter().any(|s| s == *id))
        .collect();
    assert!(
        extra.is_empty(),
        "feeds in tests/corpus/feeds.toml without expected/<id>.json: {extra:?}"
    );
    for feed in &cfg.feeds {
        let want = format!("/pages/{}.html", feed.id);
        assert!(
            feed.url.path().ends_with(&want),
            "feed {} reads {}, expected a path ending in {want}",
            feed.id,
            feed.url
        );
    }
}

#[test]
fn corpus_config_passes_check() {
    // `scifeed check` semantics: the library accepts the file...
    let cfg = load_config();
    assert!(!cfg.feeds.is_empty());
    // ...and so does the binary.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_scifeed"))
        .arg("check")
        .arg("-c")
        .arg(config_path())
        .output()
        .expect("run scifeed check");
    assert!(
        out.status.success(),
        "scifeed check failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
