//! Golden extraction on the demo pages we wrote ourselves: every field of every card equals
//! the hand-checked values in `tests/fixtures/expected/`.

use chrono::{DateTime, TimeZone, Utc};
use scifeed::config::{self, Overrides};

use crate::repo;

#[test]
fn demo_pages_extract_exactly_the_expected_cards() {
    let cfg =
        config::load(&repo().join("config/demo.toml"), &Overrides::default()).expect("demo config");
    let now = Utc
        .with_ymd_and_hms(2026, 11, 26, 12, 0, 0)
        .single()
        .expect("time");
    let mut problems = Vec::new();
    for feed in &cfg.feeds {
        let expected: serde_json::Value = serde_json::from_slice(
            &std::fs::read(repo().join(format!("tests/fixtures/expected/{}.json", feed.id)))
                .expect("expected file"),
        )
        .expect("json");
        let path = feed.url.to_file_path().expect("file url");
        let bytes = std::fs::read(path).expect("page");
        let got = crate::extract_page(feed, &bytes, &feed.url, now).expect("cards");
        if !got.warnings.is_empty() {
            problems.push(format!("{}: warnings {:?}", feed.id, got.warnings));
        }
        let want = expected["cards"].as_array().expect("cards");
        if got.cards.len() != want.len() {
            problems.push(format!(
                "{}: {} cards, expected {}",
                feed.id,
                got.cards.len(),
                want.len()
            ));
        }
        for (i, (c, w)) in got.cards.iter().zip(want).enumerate() {
            let s = |k: &str| w[k].as_str().map(str::to_string);
            let date = s("date").map(|d| {
                DateTime::parse_from_rfc3339(&d)
                    .expect("date")
                    .with_timezone(&Utc)
            });
            let cats: Vec<String> = w["categories"]
                .as_array()
                .expect("categories")
                .iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect();
            let fields = [
                ("title", Some(c.title.clone()), s("title")),
                ("link", Some(scifeed::canon::canonical(&c.link)), s("link")),
                (
                    "authors",
                    Some(c.authors.join("; ")),
                    Some(
                        w["authors"]
                            .as_array()
                            .expect("authors")
                            .iter()
                            .filter_map(|v| v.as_str())
                            .collect::<Vec<_>>()
                            .join("; "),
                    ),
                ),
                (
                    "read_time",
                    c.read_time.map(|r| r.to_string()),
                    w["read_time_minutes"].as_u64().map(|r| r.to_string()),
                ),
                ("teaser", c.teaser.clone(), s("teaser")),
                (
                    "date",
                    c.date.map(|d| d.to_rfc3339()),
                    date.map(|d| d.to_rfc3339()),
                ),
                (
                    "image",
                    c.image.as_ref().map(ToString::to_string),
                    s("image"),
                ),
                (
                    "categories",
                    Some(c.categories.join("|")),
                    Some(cats.join("|")),
                ),
            ];
            for (name, got, want) in fields {
                if got != want {
                    problems.push(format!(
                        "{} card {i} {name}: got {got:?}, expected {want:?}",
                        feed.id
                    ));
                }
            }
        }
    }
    assert!(problems.is_empty(), "mismatches:\n{}", problems.join("\n"));
}
