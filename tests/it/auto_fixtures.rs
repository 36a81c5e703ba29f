//! Auto mode on our own listing pages (`tests/fixtures/auto/*.html`, written by
//! `tests/fixtures/auto/make_fixtures.py`): one page per markup style of science news sites
//! that the saved corpus does not cover (CSS-module hash classes, unmarked meta lines, lazy
//! and background images, several zones of one card component, widgets in the same markup,
//! bylines of several people, dates only in the URL, German, French and Spanish bylines).
//! Each page is scored like the corpus (`auto_score.rs`): a table is printed, and every page
//! must reach [`MIN_SCORE`] in recall, precision and every field.

use std::path::PathBuf;

use serde_json::Value;
use url::Url;

use crate::{auto_score, repo};

/// The floor for recall, precision and every field on every fixture page.
const MIN_SCORE: f64 = 0.95;

fn fixture_dir() -> PathBuf {
    repo().join("tests/fixtures/auto")
}

fn fixtures() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(fixture_dir())
        .expect("tests/fixtures/auto")
        .filter_map(Result::ok)
        .filter_map(|e| e.file_name().to_str().map(str::to_string))
        .filter_map(|n| n.strip_suffix(".html").map(str::to_string))
        .collect();
    names.sort();
    names
}

#[test]
fn auto_mode_reads_every_field_on_every_fixture_page() {
    let names = fixtures();
    assert!(names.len() >= 12, "fixtures missing: {names:?}");
    let mut scores = Vec::new();
    for name in &names {
        let dir = fixture_dir();
        let html = std::fs::read_to_string(dir.join(format!("{name}.html"))).expect("page");
        let want: Value = serde_json::from_str(
            &std::fs::read_to_string(dir.join(format!("{name}.json"))).expect("expected json"),
        )
        .expect("json");
        let base = Url::parse(want["url"].as_str().expect("url")).expect("url");
        let got = auto_score::auto_cards(&html, &base).unwrap_or_else(|e| panic!("{name}: {e}"));
        scores.push(auto_score::score(name, &want, &got));
    }
    eprint!("{}", auto_score::table(&scores));
    let mut failures = Vec::new();
    for s in &scores {
        let mut low = Vec::new();
        if s.recall() < MIN_SCORE {
            low.push(format!("recall {:.2}", s.recall()));
        }
        if s.precision() < MIN_SCORE {
            low.push(format!("precision {:.2}", s.precision()));
        }
        for f in auto_score::FIELDS {
            if s.field(f) < MIN_SCORE {
                low.push(format!("{f} {:.2}", s.field(f)));
            }
        }
        if !low.is_empty() {
            failures.push(format!("{}: {}", s.name, low.join(", ")));
            failures.extend(s.misses.iter().take(8).cloned());
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
