//! Blind evaluation of auto mode on saved real pages kept outside the repository
//! (`SCIFEED_EVAL_DIR` with `pages/NAME.html` and hand-labelled `expected/NAME.json`), run on
//! demand: `SCIFEED_EVAL_DIR=/path cargo test --test it auto_eval -- --ignored --nocapture`.
//!
//! The expected format is the corpus one (`auto_score.rs`) plus what real pages need: `page`
//! (the HTML file, default `NAME.html`), `now` (the capture time, for relative dates), `tz`,
//! `tolerated` (links that are neither expected nor counted as extra, e.g. a section box of a
//! home page), `skip_fields` (fields the page leaves ambiguous) and per card `title_alt`
//! (other readings of the title a reader would accept, e.g. kicker + headline). An image
//! matches when it is the same URL or the same file (last path segment, query ignored): a
//! `<source>` size or the `<img>` fallback of one picture are the same image.

use std::path::PathBuf;

use chrono::{DateTime, Utc};
use scifeed::canon;
use scifeed::extract::stage::{self, Rules};
use serde_json::Value;
use url::Url;

use crate::auto_score::{self, FIELDS, PageScore};

fn file_of(u: &str) -> Option<String> {
    let u = Url::parse(u).ok()?;
    let seg = u.path_segments()?.rfind(|s| !s.is_empty())?.to_string();
    // A resizing proxy names the picture in its query (`/image/?url=...`).
    let q = u
        .query_pairs()
        .find(|(k, _)| k == "url")
        .map(|(_, v)| v.to_string());
    Some(q.and_then(|q| file_of(&q)).unwrap_or(seg))
}

fn same(field: &str, want: &Value, got: Option<&str>) -> bool {
    let w = match field {
        "read_time" => want
            .get("read_time_minutes")
            .and_then(Value::as_u64)
            .map(|m| m.to_string()),
        "author" => {
            let list: Vec<String> = match want.get("authors").and_then(Value::as_array) {
                Some(a) => a
                    .iter()
                    .filter_map(Value::as_str)
                    .map(str::to_string)
                    .collect(),
                None => want
                    .get("author")
                    .and_then(Value::as_str)
                    .map(|a| vec![a.to_string()])
                    .unwrap_or_default(),
            };
            (!list.is_empty()).then(|| list.join(", "))
        }
        f => want.get(f).and_then(Value::as_str).map(str::to_string),
    };
    if w.as_deref() == got {
        return true;
    }
    match (field, w.as_deref(), got) {
        ("title", _, Some(g)) => want["title_alt"]
            .as_array()
            .is_some_and(|alts| alts.iter().any(|a| a.as_str() == Some(g))),
        ("image", Some(w), Some(g)) => file_of(w).is_some() && file_of(w) == file_of(g),
        _ => false,
    }
}

fn score_page(name: &str, want: &Value, got: &[scifeed::model::Card]) -> PageScore {
    let key = |l: &str| Url::parse(l).ok().map(|u| canon::canonical(&u));
    let expected = want["cards"].as_array().cloned().unwrap_or_default();
    let skip: Vec<&str> = want["skip_fields"]
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let tolerated: Vec<_> = want["tolerated"]
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_str).filter_map(key).collect())
        .unwrap_or_default();
    let mut s = PageScore {
        name: name.into(),
        expected: expected.len(),
        found: 0,
        extra: 0,
        fields: [(0, 0); FIELDS.len()],
        misses: Vec::new(),
    };
    for w in &expected {
        let link = w["link"].as_str().unwrap_or_default();
        let Some(g) = got
            .iter()
            .find(|g| Some(canon::canonical(&g.link)) == key(link))
        else {
            s.misses.push(format!(
                "{name}: not found: {:?} {link}",
                w["title"].as_str().unwrap_or_default()
            ));
            continue;
        };
        s.found += 1;
        for (i, field) in FIELDS.iter().enumerate() {
            if skip.contains(field) {
                continue;
            }
            let got_v: Option<String> = match *field {
                "title" => Some(g.title.clone()),
                "author" => (!g.authors.is_empty()).then(|| g.authors.join(", ")),
                "read_time" => g.read_time.map(|m| m.to_string()),
                "teaser" => g.teaser.clone(),
                "date" => g.date.map(|d| d.format("%Y-%m-%d").to_string()),
                "image" => g.image.as_ref().map(ToString::to_string),
                _ => None,
            };
            s.fields[i].1 += 1;
            if same(field, w, got_v.as_deref()) {
                s.fields[i].0 += 1;
            } else {
                let shown = if *field == "read_time" {
                    w.get("read_time_minutes")
                } else if *field == "author" {
                    w.get("authors").or(w.get("author"))
                } else {
                    w.get(*field)
                };
                s.misses.push(format!(
                    "{name}: {link}: {field}: expected {shown:?}, got {got_v:?}"
                ));
            }
        }
    }
    for g in got {
        let k = canon::canonical(&g.link);
        let known = expected
            .iter()
            .any(|w| key(w["link"].as_str().unwrap_or_default()).as_ref() == Some(&k));
        if !known && !tolerated.contains(&k) {
            s.extra += 1;
            s.misses
                .push(format!("{name}: extra card: {:?} {}", g.title, g.link));
        }
    }
    s
}

#[test]
#[ignore = "needs SCIFEED_EVAL_DIR with saved real pages (kept out of the repository)"]
fn auto_mode_on_saved_real_pages() {
    let dir = PathBuf::from(std::env::var_os("SCIFEED_EVAL_DIR").expect("SCIFEED_EVAL_DIR"));
    let mut names: Vec<String> = std::fs::read_dir(dir.join("expected"))
        .expect("expected/")
        .filter_map(Result::ok)
        .filter_map(|e| {
            e.file_name()
                .to_str()
                .and_then(|n| n.strip_suffix(".json"))
                .map(str::to_string)
        })
        .collect();
    names.sort();
    if let Some(only) = std::env::var_os("SCIFEED_EVAL_ONLY") {
        names.retain(|n| Some(n.as_str()) == only.to_str());
    }
    let mut scores = Vec::new();
    let mut misses = Vec::new();
    for name in &names {
        let want: Value = serde_json::from_str(
            &std::fs::read_to_string(dir.join("expected").join(format!("{name}.json")))
                .expect("json"),
        )
        .expect("json");
        let page = want["page"]
            .as_str()
            .map_or_else(|| format!("{name}.html"), str::to_string);
        let bytes = std::fs::read(dir.join("pages").join(&page)).expect("page");
        let base = Url::parse(want["url"].as_str().expect("url")).expect("url");
        let now = want["now"].as_str().map_or_else(auto_score::now, |n| {
            DateTime::parse_from_rfc3339(n)
                .expect("now")
                .with_timezone(&Utc)
        });
        let tz: chrono_tz::Tz = want["tz"]
            .as_str()
            .map_or(chrono_tz::UTC, |t| t.parse().expect("tz"));
        let text = scifeed::decode::decode(&bytes, None);
        let rules = Rules::auto(None, tz, 500);
        let got = match stage::listing(&text, &base, &rules, now) {
            Ok(p) => p.cards,
            Err(e) => {
                misses.push(format!("{name}: {e}"));
                Vec::new()
            }
        };
        let s = score_page(name, &want, &got);
        misses.extend(s.misses.iter().cloned());
        scores.push(s);
    }
    println!("{}", auto_score::table(&scores));
    // The table rounds to two places; the raw counts tell 0.947 from 0.95.
    let mut line = String::from("TOTAL counts:");
    let (found, expected, extra) = scores.iter().fold((0, 0, 0), |a, s| {
        (a.0 + s.found, a.1 + s.expected, a.2 + s.extra)
    });
    line.push_str(&format!(" found {found}/{expected}, extra {extra}"));
    for (i, f) in FIELDS.iter().enumerate() {
        let (c, n) = scores
            .iter()
            .fold((0, 0), |a, s| (a.0 + s.fields[i].0, a.1 + s.fields[i].1));
        line.push_str(&format!(
            ", {f} {c}/{n} ({:.3})",
            if n == 0 { 1.0 } else { c as f64 / n as f64 }
        ));
    }
    println!("{line}");
    for m in misses {
        println!("{m}");
    }
}
