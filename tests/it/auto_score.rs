//! Scoring auto mode against hand-checked expected cards, shared by the corpus test
//! (`corpus_auto.rs`) and our own fixtures (`auto_fixtures.rs`).
//!
//! An expected file is the corpus format: `url` (the page's original address) and `cards[]`
//! in page order with `title`, `link`, `author` (names joined with ", ", or `authors` as a
//! list), `read_time_minutes`, `teaser`, `date` (`YYYY-MM-DD`) and `image`, each `null`
//! where the card shows none. Extracted cards are matched to expected ones by canonical
//! link; each field is then scored over the matched cards (a `null` expected field must come
//! out empty too).

use std::fmt::Write as _;

use chrono::{DateTime, TimeZone, Utc};
use scifeed::canon;
use scifeed::extract::stage::{self, Rules};
use scifeed::model::Card;
use serde_json::Value;
use url::Url;

/// The fields scored per matched card.
pub const FIELDS: [&str; 6] = ["title", "author", "read_time", "teaser", "date", "image"];

/// The moment the scored pages are read at (relative dates resolve against it).
pub fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 26, 12, 0, 0)
        .single()
        .expect("valid fixed time")
}

/// Auto mode exactly as `run` does it for a feed without selectors, through the one
/// extraction stage: structured data first, else the best detected listing, then the date
/// pipeline, structured fallbacks and card limits. The page is read as `discover
/// --base-url` reads a saved copy: links resolve against `base`.
pub fn auto_cards(html: &str, base: &Url) -> Result<Vec<Card>, String> {
    let text = scifeed::decode::decode(html.as_bytes(), None);
    let rules = Rules::auto(None, chrono_tz::UTC, 500);
    stage::listing(&text, base, &rules, now())
        .map(|p| p.cards)
        .map_err(|e| e.to_string())
}

/// How auto mode did on one page.
#[derive(Debug, Clone)]
pub struct PageScore {
    pub name: String,
    pub expected: usize,
    /// Expected cards that were extracted (by canonical link).
    pub found: usize,
    /// Extracted cards that are not expected.
    pub extra: usize,
    /// (correct, scored) per entry of [`FIELDS`], over the found cards.
    pub fields: [(usize, usize); FIELDS.len()],
    /// One line per miss, for the failure message.
    pub misses: Vec<String>,
}

impl PageScore {
    pub fn recall(&self) -> f64 {
        ratio(self.found, self.expected)
    }

    pub fn precision(&self) -> f64 {
        ratio(self.found, self.found + self.extra)
    }

    pub fn field(&self, name: &str) -> f64 {
        let i = FIELDS.iter().position(|f| *f == name).expect("known field");
        ratio(self.fields[i].0, self.fields[i].1)
    }
}

fn ratio(a: usize, b: usize) -> f64 {
    if b == 0 { 1.0 } else { a as f64 / b as f64 }
}

fn opt_str(v: &Value, key: &str) -> Option<String> {
    v.get(key).and_then(Value::as_str).map(str::to_string)
}

fn want_authors(w: &Value) -> Vec<String> {
    if let Some(list) = w.get("authors").and_then(Value::as_array) {
        return list
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect();
    }
    opt_str(w, "author").map(|a| vec![a]).unwrap_or_default()
}

/// The values compared for one field: (expected, got), as text.
fn field_pair(field: &str, w: &Value, g: &Card) -> (Option<String>, Option<String>) {
    match field {
        "title" => (opt_str(w, "title"), Some(g.title.clone())),
        "author" => {
            let want = want_authors(w);
            let got = card_authors(g);
            // A corpus file states several names as one string joined with ", ".
            let joined_want = (!want.is_empty()).then(|| want.join(", "));
            let joined_got = (!got.is_empty()).then(|| got.join(", "));
            (joined_want, joined_got)
        }
        "read_time" => (
            w.get("read_time_minutes")
                .and_then(Value::as_u64)
                .map(|m| m.to_string()),
            g.read_time.map(|m| m.to_string()),
        ),
        "teaser" => (opt_str(w, "teaser"), g.teaser.clone()),
        "date" => (
            opt_str(w, "date"),
            g.date.map(|d| d.format("%Y-%m-%d").to_string()),
        ),
        "image" => (
            opt_str(w, "image"),
            g.image.as_ref().map(ToString::to_string),
        ),
        other => panic!("unknown field {other}"),
    }
}

/// The card's names, one entry each.
pub fn card_authors(card: &Card) -> Vec<String> {
    card.authors.clone()
}

/// Scores the cards auto mode extracted from one page against its expected JSON.
pub fn score(name: &str, want: &Value, got: &[Card]) -> PageScore {
    let expected = want["cards"].as_array().cloned().unwrap_or_default();
    let key = |l: &str| Url::parse(l).ok().map(|u| canon::canonical(&u));
    let mut s = PageScore {
        name: name.to_string(),
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
                opt_str(w, "title").unwrap_or_default()
            ));
            continue;
        };
        s.found += 1;
        for (i, field) in FIELDS.iter().enumerate() {
            let (want_v, got_v) = field_pair(field, w, g);
            s.fields[i].1 += 1;
            if want_v == got_v {
                s.fields[i].0 += 1;
            } else {
                s.misses.push(format!(
                    "{name}: {link}: {field}: expected {want_v:?}, got {got_v:?}"
                ));
            }
        }
    }
    for g in got {
        let k = canon::canonical(&g.link);
        if !expected
            .iter()
            .any(|w| key(w["link"].as_str().unwrap_or_default()) == Some(k.clone()))
        {
            s.extra += 1;
            s.misses
                .push(format!("{name}: extra card: {:?} {}", g.title, g.link));
        }
    }
    s
}

/// A table with one row per page and a total row (cards summed over all pages).
pub fn table(scores: &[PageScore]) -> String {
    let mut out = format!(
        "{:<30} {:>9} {:>5} {:>6} {:>6}",
        "page", "found/exp", "extra", "recall", "prec"
    );
    for f in FIELDS {
        let _ = write!(out, " {:>9}", f);
    }
    out.push('\n');
    let mut total = PageScore {
        name: "TOTAL".into(),
        expected: 0,
        found: 0,
        extra: 0,
        fields: [(0, 0); FIELDS.len()],
        misses: Vec::new(),
    };
    for s in scores {
        total.expected += s.expected;
        total.found += s.found;
        total.extra += s.extra;
        for i in 0..FIELDS.len() {
            total.fields[i].0 += s.fields[i].0;
            total.fields[i].1 += s.fields[i].1;
        }
    }
    for s in scores.iter().chain(std::iter::once(&total)) {
        let _ = write!(
            out,
            "{:<30} {:>9} {:>5} {:>6.2} {:>6.2}",
            s.name,
            format!("{}/{}", s.found, s.expected),
            s.extra,
            s.recall(),
            s.precision()
        );
        for f in FIELDS {
            let _ = write!(out, " {:>9.2}", s.field(f));
        }
        out.push('\n');
    }
    out
}
