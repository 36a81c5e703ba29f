//! Self-healing, pinned auto listings and failure streaks, black-box through the binary.
//!
//! - A redesigned page that still shows the feed's articles is healed: exit 0, `healed` in
//!   the run table with the `[feed.select]` block to paste, no duplicate and no re-dated
//!   item, the healed selectors kept (and `healed` said) on every run until the config
//!   changes.
//! - A page with none of the feed's articles is refused: exit 1, files byte-identical, and
//!   "failing since" in the run table and `store check` until the feed succeeds again.
//! - An auto feed keeps the listing it pinned at its first success when another listing
//!   on the page would now win detection.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::{Sandbox, card_html, demo_page, page_with, repo, scifeed};

/// The article ids of the demo page's eight cards.
const DEMO_CARDS: [&str; 8] = [
    "73421", "73418", "73410", "73402", "73397", "73391", "73385", "73380",
];

/// The demo page after a redesign: every class renamed, same articles.
fn redesigned(page: &str) -> String {
    page.replace("ArticleCard", "StoryTile")
        .replace("ArticleList", "StoryGrid")
}

fn stdout(a: &assert_cmd::assert::Assert) -> String {
    String::from_utf8_lossy(&a.get_output().stdout).into_owned()
}

/// `(url, date_published)` of every item of a JSON feed.
fn published(sb: &Sandbox, id: &str) -> BTreeMap<String, String> {
    let feed: Value = serde_json::from_slice(&sb.read(&format!("out/{id}.json"))).expect("json");
    feed["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|i| {
            (
                i["url"].as_str().expect("url").to_string(),
                i["date_published"].as_str().expect("date").to_string(),
            )
        })
        .collect()
}

fn files(sb: &Sandbox, id: &str) -> Vec<Vec<u8>> {
    ["rss", "atom", "json"]
        .iter()
        .map(|e| sb.read(&format!("out/{id}.{e}")))
        .collect()
}

fn store_check(sb: &Sandbox) -> String {
    let out = scifeed()
        .args(["store", "check", "-c"])
        .arg(sb.path("scifeed.toml"))
        .output()
        .expect("store check");
    assert!(out.status.success(), "{out:?}");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The line of `feed` in the run table.
fn row<'a>(table: &'a str, feed: &str) -> &'a str {
    table
        .lines()
        .find(|l| l.starts_with(&format!("{feed} ")))
        .unwrap_or_else(|| panic!("no row for {feed}:\n{table}"))
}

/// The `[feed.select]` block printed under "healed:", unindented.
fn pasted_block(table: &str) -> String {
    let mut lines = table.lines().skip_while(|l| l.trim() != "[feed.select]");
    let mut block = String::new();
    for l in lines.by_ref() {
        if !l.starts_with("    ") {
            break;
        }
        block.push_str(l.trim());
        block.push('\n');
    }
    assert!(block.starts_with("[feed.select]\ncard = "), "{table}");
    block
}

#[test]
fn a_redesigned_page_with_known_items_is_healed_until_the_config_changes() {
    let sb = Sandbox::new();
    sb.write("page.html", &demo_page());
    sb.config(&[("ts", "page.html")], "");
    sb.run(&["--now", "2026-11-26T12:00:00Z"]).success();
    let before = published(&sb, "ts");
    assert_eq!(before.len(), 8);

    // Redesign, with one new story on top.
    let fresh = card_html(
        "a-brand-new-story-after-the-redesign-80001",
        "A Brand New Story After the Redesign",
        "Ann Lee",
        "<time datetime=\"2026-11-27\">Nov 27</time>",
    );
    sb.write("page.html", &redesigned(&page_with(&DEMO_CARDS, &fresh)));
    let out = sb.run(&["--now", "2026-11-27T12:00:00Z"]).code(0);
    let table = stdout(&out);
    let r = row(&table, "ts");
    assert!(r.starts_with("ts    healed    1    0      9"), "{table}");
    assert!(
        table.contains(
            "healed: feed \"ts\": card selector `section.ArticleList > article.ArticleCard` stopped matching; since 2026-11-27 12:00 UTC"
        ),
        "{table}"
    );
    assert!(table.contains("1 ok, 0 failed"), "{table}");
    let block = pasted_block(&table);
    assert!(block.contains("StoryTile"), "{block}");
    // Merged as usual: the known items keep their published dates, nothing is duplicated.
    let after = published(&sb, "ts");
    assert_eq!(after.len(), 9);
    for (url, date) in &before {
        assert_eq!(after.get(url), Some(date), "{url} kept its date");
    }
    assert_eq!(
        after
            .get("https://www.demo.scifeed.example/a-brand-new-story-after-the-redesign-80001")
            .map(String::as_str),
        Some("2026-11-27T00:00:00Z")
    );

    // Later runs read the stored healed selectors and keep saying so.
    let fresh2 = card_html(
        "second-story-after-the-redesign-80002",
        "Second Story After the Redesign",
        "Ben Marx",
        "<time datetime=\"2026-11-28\">Nov 28</time>",
    );
    sb.write(
        "page.html",
        &redesigned(&page_with(&DEMO_CARDS, &format!("{fresh2}{fresh}"))),
    );
    let table = stdout(&sb.run(&["--now", "2026-11-28T12:00:00Z"]).code(0));
    assert!(
        row(&table, "ts").starts_with("ts    healed    1    0     10"),
        "{table}"
    );
    assert!(
        table.contains("since 2026-11-27 12:00 UTC"),
        "healed once:\n{table}"
    );
    let check = store_check(&sb);
    assert!(
        check.contains(
            "healed 2026-11-27 12:00 UTC: card selector `section.ArticleList > article.ArticleCard` replaced by `"
        ),
        "{check}"
    );
    let preview = scifeed()
        .args(["preview", "--feed", "ts", "-c"])
        .arg(sb.path("scifeed.toml"))
        .args(["--now", "2026-11-28T12:00:00Z"])
        .output()
        .expect("preview");
    let text = String::from_utf8_lossy(&preview.stdout);
    assert!(preview.status.success(), "{text}");
    assert!(
        text.contains("listing: healed 2026-11-27 12:00 UTC"),
        "{text}"
    );
    assert!(text.contains("cards:   10 from selectors"), "{text}");

    // The user pastes the block: the feed is an ordinary selector feed again, at once,
    // although the page did not change since the last run.
    let cfg = std::fs::read_to_string(sb.path("scifeed.toml")).expect("config");
    let start = cfg.find("[feed.select]").expect("select");
    sb.write("scifeed.toml", &format!("{}{block}", &cfg[..start]));
    let table = stdout(&sb.run(&["--now", "2026-11-28T13:00:00Z"]).code(0));
    assert!(
        row(&table, "ts").starts_with("ts    unchanged    0    0     10"),
        "{table}"
    );
    assert!(!table.contains("healed"), "{table}");
    assert!(!store_check(&sb).contains("healed"));
    let fresh3 = card_html(
        "third-story-after-the-redesign-80003",
        "Third Story After the Redesign",
        "Cy Dee",
        "<time datetime=\"2026-11-29\">Nov 29</time>",
    );
    sb.write(
        "page.html",
        &redesigned(&page_with(&DEMO_CARDS, &format!("{fresh3}{fresh2}{fresh}"))),
    );
    let table = stdout(&sb.run(&["--now", "2026-11-29T12:00:00Z"]).code(0));
    assert!(
        row(&table, "ts").starts_with("ts    updated    1    0     11"),
        "{table}"
    );
    assert!(!table.contains("healed"), "{table}");
}

#[test]
fn an_unrelated_page_is_refused_and_the_feed_fails_since_then() {
    let sb = Sandbox::new();
    sb.write("page.html", &demo_page());
    sb.config(&[("ts", "page.html")], "");
    sb.run(&["--now", "2026-11-26T12:00:00Z"]).success();
    let before = files(&sb, "ts");
    // Another site's listing under the same URL: detection finds it, but it holds none of
    // the feed's articles.
    let other = std::fs::read_to_string(repo().join("config/demo/lab-notes.html")).expect("page");
    sb.write("page.html", &other);
    for (run, now) in [(1, "2026-11-27T12:00:00Z"), (2, "2026-11-28T06:30:00Z")] {
        let table = stdout(&sb.run(&["--now", now]).code(1));
        assert!(row(&table, "ts").starts_with("ts    FAILED"), "{table}");
        assert!(
            table.contains(
                "card selector `section.ArticleList > article.ArticleCard` matched nothing; re-detection found 1 listing(s) on the page, but the best holds 0 of the 3 known item(s) it needs (the feed has published 8), so none was taken"
            ),
            "{table}"
        );
        assert!(
            table.contains(&format!(
                "    failing since 2026-11-27 12:00 UTC ({run} failed run(s) in a row)"
            )),
            "{table}"
        );
        assert_eq!(files(&sb, "ts"), before, "files byte-identical");
    }
    let check = store_check(&sb);
    assert!(
        check.contains("8 items, failing since 2026-11-27 12:00 UTC (2 failed run(s) in a row): ")
            && check.contains("matched nothing"),
        "{check}"
    );
    // `-q` prints the failure and the streak too.
    let quiet = sb.run(&["--now", "2026-11-28T07:00:00Z", "-q"]).code(1);
    let err = String::from_utf8_lossy(&quiet.get_output().stderr).into_owned();
    assert!(
        err.contains("failing since 2026-11-27 12:00 UTC (3 failed run(s) in a row)"),
        "{err}"
    );
    // The site is back: the streak ends.
    sb.write("page.html", &demo_page());
    let table = stdout(&sb.run(&["--now", "2026-11-29T12:00:00Z"]).success());
    assert!(!table.contains("failing"), "{table}");
    assert!(!store_check(&sb).contains("failing"));
    assert_eq!(published(&sb, "ts").len(), 8);
}

#[test]
fn heal_false_on_a_feed_keeps_the_old_failure() {
    let sb = Sandbox::new();
    sb.write("page.html", &demo_page());
    sb.config_ext(&[("ts", "page.html", "heal = false")], "", "");
    sb.run(&["--now", "2026-11-26T12:00:00Z"]).success();
    let before = files(&sb, "ts");
    sb.write("page.html", &redesigned(&demo_page()));
    let table = stdout(&sb.run(&["--now", "2026-11-27T12:00:00Z"]).code(1));
    assert!(
        table.contains(
            "card selector `section.ArticleList > article.ArticleCard` matched nothing\n"
        ),
        "no re-detection:\n{table}"
    );
    assert_eq!(files(&sb, "ts"), before);
}

#[test]
fn a_feed_without_history_is_never_healed() {
    let sb = Sandbox::new();
    sb.write("page.html", &redesigned(&demo_page()));
    sb.config(&[("ts", "page.html")], "");
    let table = stdout(&sb.run(&["--now", "2026-11-26T12:00:00Z"]).code(1));
    assert!(
        table.contains("the feed has no published items to recognise one by"),
        "{table}"
    );
    assert!(!sb.path("out/ts.rss").exists());
}

/// A listing page with two lists of different card shapes: `alpha` stories in `li.row` and
/// `beta` stories in `article.post`.
fn two_lists(alpha: std::ops::Range<u32>, beta: std::ops::Range<u32>) -> String {
    let a: String = alpha
        .map(|i| format!(
            r#"<li class="row"><h3><a href="/news/2026/alpha-story-number-{i}-about-cells">Alpha story number {i} about cells and genes</a></h3><p>A teaser for alpha story {i} that says a little more about it.</p></li>"#
        ))
        .collect();
    let b: String = beta
        .map(|i| format!(
            r#"<article class="post"><h2><a href="/news/2026/beta-story-number-{i}-about-stars">Beta story number {i} about stars and planets</a></h2><p>A teaser for beta story {i} that says a little more about it.</p></article>"#
        ))
        .collect();
    format!(
        "<html><head><title>Two lists</title></head><body><main><section class=\"one\"><ul class=\"l\">{a}</ul></section><div class=\"two\">{b}</div></main></body></html>"
    )
}

/// The card selector `discover` ranks first on the sandbox's page.
fn best_detected(sb: &Sandbox) -> String {
    let out = scifeed()
        .arg("discover")
        .arg(sb.path("page.html"))
        .args(["--base-url", "https://news.example.org/", "--json"])
        .output()
        .expect("discover");
    let d: Value = serde_json::from_slice(&out.stdout).expect("json");
    d["candidates"][0]["selectors"]["card"]
        .as_str()
        .expect("a candidate")
        .to_string()
}

#[test]
fn an_auto_feed_keeps_its_pinned_listing_when_another_would_win() {
    let sb = Sandbox::new();
    sb.write("page.html", &two_lists(1..6, 1..5));
    sb.write(
        "scifeed.toml",
        "[settings]\noutput_dir = \"out\"\nstate = \"state.db\"\n\n[[feed]]\nid = \"two\"\ntitle = \"Two\"\nurl = \"page.html\"\nbase_url = \"https://news.example.org/\"\n",
    );
    assert_eq!(best_detected(&sb), "li.row", "the alpha list wins at first");
    sb.run(&["--now", "2026-11-26T12:00:00Z"]).success();
    let check = store_check(&sb);
    assert!(
        check.contains("5 items, pinned listing `li.row` since 2026-11-26 12:00 UTC"),
        "{check}"
    );
    // The beta list grows and would now win detection; alpha keeps four cards, two new.
    sb.write("page.html", &two_lists(3..7, 3..12));
    assert_eq!(
        best_detected(&sb),
        "article.post",
        "a fresh detection flips"
    );
    for now in ["2026-11-27T12:00:00Z", "2026-11-28T12:00:00Z"] {
        sb.run(&["--now", now]).success();
        let items = published(&sb, "two");
        assert_eq!(items.len(), 6, "{items:?}");
        assert!(
            items.keys().all(|u| u.contains("/alpha-story-")),
            "{items:?}"
        );
    }
    let preview = scifeed()
        .args(["preview", "--feed", "two", "--json", "-c"])
        .arg(sb.path("scifeed.toml"))
        .output()
        .expect("preview");
    let p: Value = serde_json::from_slice(&preview.stdout).expect("json");
    assert_eq!(p["listing"]["state"], "pinned", "{p}");
    assert_eq!(p["listing"]["selectors"]["card"], "li.row", "{p}");
    assert_eq!(p["cards"].as_array().map(Vec::len), Some(4), "{p}");
    // The pin stops matching: re-detection finds the beta list, which holds none of the
    // feed's items, so it is refused.
    sb.write("page.html", &two_lists(0..0, 3..12));
    let table = stdout(&sb.run(&["--now", "2026-11-29T12:00:00Z"]).code(1));
    assert!(
        table.contains("card selector `li.row` matched nothing; re-detection found"),
        "{table}"
    );
    assert_eq!(published(&sb, "two").len(), 6, "files untouched");
}
