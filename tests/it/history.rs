//! The "updating feed": items persist across runs, dates freeze, nothing is duplicated, and
//! an unchanged page rewrites nothing.

use std::collections::HashMap;

use crate::{Sandbox, card_html, page_with, read_rss};

const T0: &str = "2026-11-26T10:00:00Z";
const T1: &str = "2026-11-26T10:30:00Z";
const T2: &str = "2026-11-26T11:00:00Z";

fn dates(ch: &rss::Channel) -> HashMap<String, String> {
    ch.items()
        .iter()
        .map(|i| {
            (
                i.link().unwrap_or("").to_string(),
                i.pub_date().unwrap_or("").to_string(),
            )
        })
        .collect()
}

fn mtimes(sb: &Sandbox) -> Vec<std::time::SystemTime> {
    ["rss", "atom", "json"]
        .iter()
        .map(|e| {
            std::fs::metadata(sb.path(&format!("out/ts.{e}")))
                .and_then(|m| m.modified())
                .expect("mtime")
        })
        .collect()
}

#[test]
fn items_persist_dates_freeze_and_nothing_is_duplicated() {
    let sb = Sandbox::new();
    // Two undated cards on top of two dated demo cards.
    let undated = card_html("fresh-one-1", "Fresh One", "Ann Lee", "")
        + &card_html("fresh-two-2", "Fresh Two", "Bo Chan", "");
    sb.write("page.html", &page_with(&["73421", "73418"], &undated));
    sb.config(&[("ts", "page.html")], "");

    sb.run(&["--now", T0]).success();
    let first = read_rss(&sb.path("out/ts.rss"));
    let titles: Vec<_> = first
        .items()
        .iter()
        .map(|i| i.title().unwrap_or(""))
        .collect();
    assert_eq!(
        titles,
        [
            "Fresh One",
            "Fresh Two",
            "Cancer Cells in Mice May Hitch a Ride with Bone-Healing Stem Cells",
            "A Gut Microbe That Eats Oxalate Could Prevent Kidney Stones"
        ],
        "undated cards get first-seen times staggered in page order"
    );
    let d0 = dates(&first);
    assert_eq!(
        d0["https://www.demo.scifeed.example/fresh-one-1"],
        "Thu, 26 Nov 2026 10:00:00 +0000"
    );
    assert_eq!(
        d0["https://www.demo.scifeed.example/fresh-two-2"],
        "Thu, 26 Nov 2026 09:59:59 +0000"
    );
    let bytes0: Vec<Vec<u8>> = ["rss", "atom", "json"]
        .iter()
        .map(|e| sb.read(&format!("out/ts.{e}")))
        .collect();
    let m0 = mtimes(&sb);

    // Same page half an hour later: byte-identical files, not even touched.
    std::thread::sleep(std::time::Duration::from_millis(30));
    sb.run(&["--now", T1]).success();
    let bytes1: Vec<Vec<u8>> = ["rss", "atom", "json"]
        .iter()
        .map(|e| sb.read(&format!("out/ts.{e}")))
        .collect();
    assert_eq!(bytes0, bytes1);
    assert_eq!(m0, mtimes(&sb), "unchanged page leaves the files untouched");

    // The page moves on: one new card on top, one old card gone, one title edited.
    let newer = card_html("newest-3", "Newest", "Cy Diaz", "");
    let page = page_with(
        &["73421"],
        &(newer + &card_html("fresh-one-1", "Fresh One (updated)", "Ann Lee", "")),
    );
    sb.write("page.html", &page);
    let out = sb.run(&["--now", T2]).success();
    let stdout = String::from_utf8_lossy(&out.get_output().stdout).to_string();
    assert!(stdout.contains("updated"), "{stdout}");
    let second = read_rss(&sb.path("out/ts.rss"));
    let d2 = dates(&second);
    assert_eq!(
        second.items().len(),
        5,
        "old items stay, the new one is added once"
    );
    let mut links: Vec<_> = second
        .items()
        .iter()
        .map(|i| i.link().unwrap_or(""))
        .collect();
    links.sort_unstable();
    links.dedup();
    assert_eq!(links.len(), 5, "no duplicates");
    for (link, date) in &d0 {
        assert_eq!(&d2[link], date, "date of {link} never changes");
    }
    assert_eq!(
        d2["https://www.demo.scifeed.example/newest-3"],
        "Thu, 26 Nov 2026 11:00:00 +0000"
    );
    let edited = second
        .items()
        .iter()
        .find(|i| i.link() == Some("https://www.demo.scifeed.example/fresh-one-1"))
        .expect("edited item");
    assert_eq!(edited.title(), Some("Fresh One (updated)"));
    // Atom records the edit as `updated`, keeping `published`.
    let atom = String::from_utf8(sb.read("out/ts.atom")).expect("utf8");
    assert!(
        atom.contains("<updated>2026-11-26T11:00:00Z</updated>"),
        "{atom}"
    );
    assert!(
        atom.contains("<published>2026-11-26T10:00:00Z</published>"),
        "{atom}"
    );
}

#[test]
fn max_items_pushes_out_the_oldest_but_history_keeps_them() {
    let sb = Sandbox::new();
    sb.write("page.html", &page_with(&["73421", "73418", "73410"], ""));
    sb.config(&[("ts", "page.html")], "max_items = 3");
    sb.run(&["--now", T0]).success();
    let newer = card_html(
        "n1-1",
        "N1",
        "A B",
        "<time datetime=\"2026-11-26\">x</time>",
    ) + &card_html(
        "n2-2",
        "N2",
        "A B",
        "<time datetime=\"2026-11-26\">x</time>",
    );
    sb.write("page.html", &page_with(&[], &newer));
    sb.run(&["--now", T1]).success();
    let ch = read_rss(&sb.path("out/ts.rss"));
    let titles: Vec<_> = ch.items().iter().map(|i| i.title().unwrap_or("")).collect();
    assert_eq!(titles.len(), 3);
    assert_eq!(&titles[..2], ["N1", "N2"]);
    let store = scifeed::store::Store::open(&sb.path("state.db"), false).expect("open");
    assert_eq!(
        store.count_items("ts").expect("count"),
        5,
        "the store keeps pushed-out items"
    );
}

/// A card with no date but a dated URL (`/2026/11/20/slug`) takes the URL's day, counts as
/// dated in the run table, and keeps that date on later runs; a card whose URL names only a
/// month gets the first-seen time.
#[test]
fn url_dates_are_page_dates_in_the_run_table() {
    let sb = Sandbox::new();
    let cards = card_html(
        "2026/11/20/dated-by-url-1",
        "Dated By Its Url",
        "Ann Lee",
        "",
    ) + &card_html(
        "2026/11/month-only-story-2",
        "Month Only Story",
        "Bo Chan",
        "",
    );
    sb.write("page.html", &page_with(&[], &cards));
    sb.config(&[("ts", "page.html")], "");
    let out = sb.run(&["--now", T0]).success();
    let stdout = String::from_utf8_lossy(&out.get_output().stdout).to_string();
    let row = stdout
        .lines()
        .find(|l| l.starts_with("ts "))
        .unwrap_or_else(|| panic!("no row for ts:\n{stdout}"));
    assert!(row.contains(" 50% "), "one of two cards dated: {row}");
    let got = dates(&read_rss(&sb.path("out/ts.rss")));
    assert_eq!(
        got["https://www.demo.scifeed.example/2026/11/20/dated-by-url-1"],
        "Fri, 20 Nov 2026 00:00:00 +0000"
    );
    assert_eq!(
        got["https://www.demo.scifeed.example/2026/11/month-only-story-2"],
        "Thu, 26 Nov 2026 10:00:00 +0000",
        "a month is not a day: first-seen"
    );
    sb.run(&["--now", T1]).success();
    assert_eq!(dates(&read_rss(&sb.path("out/ts.rss"))), got);
}
