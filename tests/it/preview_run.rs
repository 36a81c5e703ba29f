//! `preview` shows what `run` stores. On every listing page of `../shared/corpus`, once with
//! the selectors of `tests/corpus/feeds.toml` and once in auto mode, the cards `preview
//! --feed ID --json` prints are the items `run` wrote to `<ID>.json`: the same links in the
//! same number, and every field equal (title, teaser, author, image, read time, categories,
//! and the date: the page's where the preview says it came from the page, else the
//! first-seen time `run` stamped, staggered one second per undated card in page order).
//!
//! Both commands go through the binary, so the fetch, decoding, limits, pins and settings
//! are whatever each command really uses.

use std::path::Path;

use serde_json::Value;

use crate::{Sandbox, corpus_dir, scifeed};

const NOW: &str = "2026-11-26T12:00:00Z";

/// The corpus config with absolute page paths, plus one auto feed (no selectors) per
/// listing page; returns the feed ids.
fn write_config(sb: &Sandbox, corpus: &Path) -> Vec<String> {
    let cfg_path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus/feeds.toml");
    let text = std::fs::read_to_string(&cfg_path).expect("corpus config");
    let mut cfg: toml::Table = text.parse().expect("corpus config is TOML");
    let mut settings = toml::Table::new();
    for (k, v) in [
        ("output_dir", toml::Value::from("out")),
        ("state", toml::Value::from("state.db")),
        ("max_items", toml::Value::from(1000)),
        ("robots", toml::Value::from(false)),
    ] {
        settings.insert(k.into(), v);
    }
    cfg.insert("settings".into(), settings.into());
    let page = |stem: &str| {
        corpus
            .join("pages")
            .join(format!("{stem}.html"))
            .display()
            .to_string()
    };
    let mut feeds: Vec<toml::Value> = cfg
        .get("feed")
        .and_then(toml::Value::as_array)
        .cloned()
        .unwrap_or_default();
    for f in &mut feeds {
        let t = f.as_table_mut().expect("feed table");
        let id = t["id"].as_str().expect("id").to_string();
        t.insert("url".into(), page(&id).into());
        t.insert("id".into(), format!("sel-{id}").into());
    }
    let mut stems: Vec<String> = std::fs::read_dir(corpus.join("expected"))
        .expect("expected")
        .filter_map(Result::ok)
        .filter_map(|e| e.file_name().to_str().map(str::to_string))
        .filter(|n| n.contains("-index-") && n.ends_with(".json"))
        .map(|n| n.trim_end_matches(".json").to_string())
        .collect();
    stems.sort();
    for stem in &stems {
        let want: Value = serde_json::from_slice(
            &std::fs::read(corpus.join("expected").join(format!("{stem}.json"))).expect("json"),
        )
        .expect("json");
        let mut t = toml::Table::new();
        t.insert("id".into(), format!("auto-{stem}").into());
        t.insert("title".into(), stem.as_str().into());
        t.insert("url".into(), page(stem).into());
        t.insert(
            "base_url".into(),
            want["url"].as_str().expect("base url").into(),
        );
        feeds.push(t.into());
    }
    let ids = feeds
        .iter()
        .map(|f| f["id"].as_str().expect("id").to_string())
        .collect();
    cfg.insert("feed".into(), feeds.into());
    sb.write(
        "scifeed.toml",
        &toml::to_string(&cfg).expect("serialise config"),
    );
    ids
}

fn opt_str(v: &Value) -> Option<String> {
    v.as_str().map(str::to_string)
}

/// Every difference between a preview's cards and the items of the JSON feed `run` wrote.
fn differences(id: &str, preview: &Value, feed: &Value) -> Vec<String> {
    let cards = preview["cards"].as_array().expect("cards");
    let items = feed["items"].as_array().expect("items");
    let mut out = Vec::new();
    if cards.len() != items.len() {
        out.push(format!(
            "{id}: preview shows {} cards, run wrote {} items",
            cards.len(),
            items.len()
        ));
    }
    let now = chrono::DateTime::parse_from_rfc3339(NOW).expect("now");
    let mut undated = 0i64;
    for card in cards {
        let link = card["link"].as_str().expect("link");
        let Some(item) = items.iter().find(|i| i["url"] == link) else {
            out.push(format!("{id}: {link}: in preview, not in the feed"));
            continue;
        };
        let authors: Vec<&str> = item["authors"]
            .as_array()
            .map(|a| a.iter().filter_map(|n| n["name"].as_str()).collect())
            .unwrap_or_default();
        let date = if card["date_from"] == "first-seen" {
            let t = now - chrono::Duration::seconds(undated);
            undated += 1;
            Some(t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
        } else {
            opt_str(&card["date"])
        };
        let tags: Vec<Value> = item["tags"].as_array().cloned().unwrap_or_default();
        let checks = [
            ("title", opt_str(&card["title"]), opt_str(&item["title"])),
            (
                "teaser",
                opt_str(&card["teaser"]),
                opt_str(&item["summary"]),
            ),
            (
                "author",
                opt_str(&card["author"]),
                (!authors.is_empty()).then(|| authors.join(", ")),
            ),
            ("image", opt_str(&card["image"]), opt_str(&item["image"])),
            (
                "read_time",
                card["read_time"].as_u64().map(|m| m.to_string()),
                item["_scifeed"]["read_time_minutes"]
                    .as_u64()
                    .map(|m| m.to_string()),
            ),
            (
                "categories",
                Some(card["categories"].to_string()),
                Some(Value::Array(tags).to_string()),
            ),
            ("date", date, opt_str(&item["date_published"])),
        ];
        for (field, shown, stored) in checks {
            if shown != stored {
                out.push(format!(
                    "{id}: {link}: {field}: preview {shown:?}, run {stored:?}"
                ));
            }
        }
    }
    out
}

#[test]
fn preview_equals_run_on_every_corpus_page_with_selectors_and_in_auto_mode() {
    let Some(corpus) = corpus_dir() else {
        return;
    };
    let sb = Sandbox::new();
    let ids = write_config(&sb, &corpus);
    assert!(
        ids.iter().filter(|i| i.starts_with("auto-")).count() >= 8,
        "{ids:?}"
    );
    let run = sb.run(&["--now", NOW]);
    let table = String::from_utf8_lossy(&run.get_output().stdout).into_owned();
    let out = run.success();
    drop(out);
    let mut problems = Vec::new();
    for id in &ids {
        let p = scifeed()
            .args(["preview", "--feed", id, "--json", "--now", NOW, "-c"])
            .arg(sb.path("scifeed.toml"))
            .output()
            .expect("preview");
        if !p.status.success() {
            problems.push(format!(
                "{id}: preview failed: {}",
                String::from_utf8_lossy(&p.stderr)
            ));
            continue;
        }
        let preview: Value = serde_json::from_slice(&p.stdout).expect("preview json");
        if id.starts_with("auto-") && preview["listing"]["state"] != "pinned" {
            problems.push(format!(
                "{id}: preview does not read the pinned listing: {}",
                preview["listing"]
            ));
        }
        let feed: Value =
            serde_json::from_slice(&sb.read(&format!("out/{id}.json"))).expect("feed json");
        eprintln!(
            "{id}: {} cards, listing {}",
            preview["cards"].as_array().map_or(0, Vec::len),
            preview["listing"]
        );
        problems.extend(differences(id, &preview, &feed));
    }
    assert!(
        problems.is_empty(),
        "{} difference(s) between preview and run:\n{}\n\nrun:\n{table}",
        problems.len(),
        problems.join("\n")
    );
}
