//! Zero-config use as a user meets it: `discover`, `preview`, feeds without selectors and
//! article-page enrichment. HTTP goes to servers the tests start on 127.0.0.1.

use predicates::prelude::*;
use serde_json::Value;

use crate::server::{Reply, TestServer};
use crate::{Sandbox, demo_page, read_rss, repo, scifeed};

const DEMO_BASE: &str = "https://www.demo.scifeed.example/";

fn settings(extra: &str) -> String {
    format!(
        "[settings]\noutput_dir = \"out\"\nstate = \"state.db\"\npublic_url = \"https://feeds.example.org/\"\nmin_interval_ms = 0\nretries = 0\nrobots = false\n{extra}\n"
    )
}

/// The `[[feed]]` block `discover` prints after its "Ready to paste" line.
fn toml_block(stdout: &str) -> String {
    let at = stdout.find("[[feed]]").expect("a [[feed]] block");
    stdout[at..].to_string()
}

#[test]
fn discover_prints_a_feed_block_that_runs_as_it_is() {
    let sb = Sandbox::new();
    let page = sb.write("saved/news.html", &demo_page());
    let out = scifeed()
        .arg("discover")
        .arg(&page)
        .args(["--base-url", DEMO_BASE])
        .assert()
        .success();
    let stdout = String::from_utf8_lossy(&out.get_output().stdout).to_string();
    assert!(stdout.contains("#1 score"), "{stdout}");
    assert!(stdout.contains("card      article.ArticleCard"), "{stdout}");
    assert!(
        stdout.contains("Andy Carstens | 4 min read | 2026-11-25T00:00:00Z (selector)"),
        "{stdout}"
    );
    // Paste the block under [settings] and run it.
    sb.write(
        "scifeed.toml",
        &format!("{}\n{}", settings(""), toml_block(&stdout)),
    );
    scifeed()
        .args(["check", "-c"])
        .arg(sb.path("scifeed.toml"))
        .assert()
        .success();
    sb.run(&["--now", "2026-11-26T12:00:00Z"]).success();
    let ch = read_rss(&sb.path("out/demo-scifeed-example.rss"));
    assert_eq!(ch.items().len(), 8);
    let first = &ch.items()[0];
    assert_eq!(
        first.title(),
        Some("Cancer Cells in Mice May Hitch a Ride with Bone-Healing Stem Cells")
    );
    assert_eq!(first.pub_date(), Some("Wed, 25 Nov 2026 00:00:00 +0000"));
    let creator = first.dublin_core_ext().map(|dc| dc.creators().to_vec());
    assert_eq!(creator, Some(vec!["Andy Carstens".to_string()]));
}

#[test]
fn discover_json_is_for_machines() {
    let page = repo().join("config/demo/the-scientist-news.html");
    let out = scifeed()
        .arg("discover")
        .arg(&page)
        .args(["--base-url", DEMO_BASE, "--json", "--top", "2"])
        .assert()
        .success();
    let v: Value = serde_json::from_slice(&out.get_output().stdout).expect("JSON");
    let best = &v["candidates"][0];
    assert_eq!(best["selectors"]["card"], "article.ArticleCard");
    assert_eq!(best["cards"], 8);
    assert_eq!(best["exact"], true);
    assert_eq!(best["samples"][0]["author"], "Andy Carstens");
    assert_eq!(best["samples"][0]["read_time"], 4);
    assert!(
        v["toml"]
            .as_str()
            .is_some_and(|t| t.contains("[feed.select]"))
    );
    assert_eq!(v["base"], DEMO_BASE);
}

#[test]
fn discover_saved_page_without_base_url_is_a_usage_error() {
    let page = repo().join("config/demo/the-scientist-news.html");
    scifeed()
        .arg("discover")
        .arg(&page)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("pass --base-url"));
}

#[test]
fn discover_over_http_and_nothing_found() {
    let server = TestServer::start(|r| match r.path.as_str() {
        "/news" => Reply::ok(demo_page()),
        _ => Reply::ok("<html><body><p>Welcome. <a href='/about'>About us</a></p></body></html>"),
    });
    let out = scifeed()
        .args(["discover", &server.url("/news")])
        .assert()
        .success();
    let stdout = String::from_utf8_lossy(&out.get_output().stdout).to_string();
    assert!(
        stdout.contains(&format!("url = \"{}\"", server.url("/news"))),
        "{stdout}"
    );
    assert!(
        !stdout.contains("base_url"),
        "an http page needs none:\n{stdout}"
    );
    scifeed()
        .args(["discover", &server.url("/empty")])
        .assert()
        .code(1)
        .stdout(predicate::str::contains("no article listing found"));
}

#[test]
fn preview_shows_selector_counts_and_cards_and_writes_nothing() {
    let sb = Sandbox::new();
    sb.write("page.html", &demo_page());
    sb.config(&[("demo", "page.html")], "");
    let out = scifeed()
        .args(["preview", "-c"])
        .arg(sb.path("scifeed.toml"))
        .args(["--feed", "demo", "--now", "2026-11-26T12:00:00Z"])
        .assert()
        .success();
    let stdout = String::from_utf8_lossy(&out.get_output().stdout).to_string();
    assert!(stdout.contains("cards:   8 from selectors"), "{stdout}");
    assert!(stdout.contains("dates:   8 of 8 from the page"), "{stdout}");
    assert!(
        stdout
            .contains("card             8           8  section.ArticleList > article.ArticleCard"),
        "{stdout}"
    );
    assert!(stdout.contains("Andy Carstens"), "{stdout}");
    assert!(stdout.contains("2026-11-25"), "{stdout}");
    assert!(!sb.path("out").exists(), "preview writes no feeds");
    assert!(!sb.path("state.db").exists(), "preview touches no state");
}

#[test]
fn preview_warns_about_empty_fields() {
    let sb = Sandbox::new();
    sb.write("page.html", &demo_page());
    sb.write(
        "scifeed.toml",
        &format!(
            "{}\n[[feed]]\nid = \"d\"\ntitle = \"D\"\nurl = \"page.html\"\nbase_url = \"{DEMO_BASE}\"\n[feed.select]\ncard = \"article.ArticleCard\"\ntitle = \"h3\"\nauthor = \".no-such-byline\"\n",
            settings("")
        ),
    );
    let out = scifeed()
        .args(["preview", "-c"])
        .arg(sb.path("scifeed.toml"))
        .args(["--feed", "d"])
        .assert()
        .success();
    let stdout = String::from_utf8_lossy(&out.get_output().stdout).to_string();
    assert!(
        stdout.contains("warning: author: selector `.no-such-byline` matched nothing in 8 card(s)"),
        "{stdout}"
    );
    assert!(
        stdout.contains("warning: read time: empty in all 8 card(s)"),
        "{stdout}"
    );
}

fn auto_config(sb: &Sandbox, extra_feed: &str, extra_settings: &str, url: &str) {
    sb.write(
        "scifeed.toml",
        &format!(
            "{}\n[[feed]]\nid = \"auto\"\ntitle = \"Auto\"\nurl = \"{url}\"\nbase_url = \"{DEMO_BASE}\"\n{extra_feed}\n",
            settings(extra_settings)
        ),
    );
}

#[test]
fn feed_without_selectors_runs_like_a_selector_feed() {
    let sb = Sandbox::new();
    sb.write("page.html", &demo_page());
    auto_config(&sb, "auto = true", "", "page.html");
    let out = sb.run(&["--now", "2026-11-26T12:00:00Z"]).success();
    let stdout = String::from_utf8_lossy(&out.get_output().stdout).to_string();
    assert!(stdout.contains("dated"), "{stdout}");
    assert!(stdout.contains("100%"), "{stdout}");
    let ch = read_rss(&sb.path("out/auto.rss"));
    assert_eq!(ch.items().len(), 8);
    assert!(
        ch.items()[0]
            .description()
            .unwrap_or("")
            .contains("4 min read")
    );
    // Same page again: nothing changes, nothing is rewritten.
    let before = sb.read("out/auto.rss");
    let out = sb.run(&["--now", "2026-11-26T13:00:00Z"]).success();
    assert!(String::from_utf8_lossy(&out.get_output().stdout).contains("unchanged"));
    assert_eq!(sb.read("out/auto.rss"), before);
}

#[test]
fn auto_feed_that_finds_nothing_fails_and_keeps_its_files() {
    let sb = Sandbox::new();
    sb.write("page.html", &demo_page());
    auto_config(&sb, "", "", "page.html");
    sb.run(&["--now", "2026-11-26T12:00:00Z"]).success();
    let before = sb.read("out/auto.atom");
    sb.write(
        "page.html",
        "<html><body><h1>We moved</h1><p>Our news now lives elsewhere. <a href='/contact'>Contact</a></p></body></html>",
    );
    let out = sb.run(&["--now", "2026-11-26T13:00:00Z"]).code(1);
    let stdout = String::from_utf8_lossy(&out.get_output().stdout).to_string();
    assert!(stdout.contains("error: feed \"auto\""), "{stdout}");
    assert!(stdout.contains("page.html"), "names the URL:\n{stdout}");
    assert!(
        stdout.contains("auto-detection found no article listing"),
        "{stdout}"
    );
    assert_eq!(sb.read("out/auto.atom"), before, "files untouched");
}

/// A listing with three undated, author-less cards and their article pages: JSON-LD with a
/// date and author, and about 700 words of text but no stated read time.
fn enrich_server() -> TestServer {
    TestServer::start(|r| {
        let path = r.path.as_str();
        if path == "/list" {
            let cards: String = (1..=3)
                .map(|i| {
                    format!(
                        r#"<li class="item"><h2><a href="/news/story-number-{i}-about-mice">Story number {i} about mice</a></h2></li>"#
                    )
                })
                .collect();
            return Reply::ok(format!(
                "<html><body><ul class=\"items\">{cards}</ul></body></html>"
            ));
        }
        if let Some(rest) = path.strip_prefix("/news/story-number-") {
            let i = rest.chars().next().unwrap_or('0');
            let body =
                "<p>Mice were seen doing things that mice do in the lab every day.</p>".repeat(55);
            return Reply::ok(format!(
                r#"<html><head><script type="application/ld+json">{{"@type":"NewsArticle","headline":"Story number {i} about mice","datePublished":"2026-11-2{i}T08:00:00Z","author":{{"@type":"Person","name":"Writer {i}"}}}}</script></head>
                <body><article><h1>Story number {i} about mice</h1>{body}</article></body></html>"#
            ));
        }
        Reply::status(404)
    })
}

#[test]
fn enrichment_fills_missing_fields_once_within_the_budget() {
    let server = enrich_server();
    let sb = Sandbox::new();
    sb.write(
        "scifeed.toml",
        &format!(
            "{}\n[[feed]]\nid = \"mice\"\ntitle = \"Mice\"\nurl = \"{}\"\nenrich = true\n",
            settings("enrich_budget = 2"),
            server.url("/list")
        ),
    );
    sb.run(&["--now", "2026-11-26T12:00:00Z"]).success();
    assert_eq!(server.hits("/news/story-number-1-about-mice").len(), 1);
    assert_eq!(server.hits("/news/story-number-2-about-mice").len(), 1);
    assert!(
        server.hits("/news/story-number-3-about-mice").is_empty(),
        "budget of 2 pages"
    );
    let feed: Value = serde_json::from_slice(&sb.read("out/mice.json")).expect("JSON");
    let items = feed["items"].as_array().expect("items");
    let by_title = |t: &str| {
        items
            .iter()
            .find(|i| i["title"] == t)
            .unwrap_or_else(|| panic!("{t} in {items:?}"))
            .clone()
    };
    let one = by_title("Story number 1 about mice");
    assert_eq!(one["date_published"], "2026-11-21T08:00:00Z");
    assert_eq!(one["authors"][0]["name"], "Writer 1");
    // 55 paragraphs of 13 words = 715 words: about 4 minutes at 230 words a minute.
    assert_eq!(
        one["_scifeed"],
        serde_json::json!({"read_time_minutes": 4, "read_time_estimated": true})
    );
    let three = by_title("Story number 3 about mice");
    assert_eq!(
        three["date_published"], "2026-11-26T11:59:58Z",
        "first-seen"
    );
    assert!(three.get("authors").is_none());

    // Next run: the cached pages are not fetched again; the third page is, and fills the
    // author, but the third item's emitted date stays.
    sb.run(&["--now", "2026-11-26T13:00:00Z"]).success();
    assert_eq!(server.hits("/news/story-number-1-about-mice").len(), 1);
    assert_eq!(server.hits("/news/story-number-3-about-mice").len(), 1);
    let feed: Value = serde_json::from_slice(&sb.read("out/mice.json")).expect("JSON");
    let three = feed["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|i| i["title"] == "Story number 3 about mice")
        .expect("item 3")
        .clone();
    assert_eq!(three["authors"][0]["name"], "Writer 3");
    assert_eq!(three["date_published"], "2026-11-26T11:59:58Z");
    assert_eq!(three["date_modified"], "2026-11-26T13:00:00Z");
}
