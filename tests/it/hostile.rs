//! Hostile and broken pages: each gives a clear per-feed error or a clean feed, never a
//! panic, a hang or unbounded memory. Every run here is bounded in time by the harness.

use std::time::Duration;

use crate::server::{BodyMode, Reply, TestServer};
use crate::{Sandbox, read_rss};

/// Generous bound for one run in a debug build on a busy 2-core machine.
const LIMIT: Duration = Duration::from_secs(60);

/// A config with one feed `h` of simple selectors over `url`.
fn config(sb: &Sandbox, url: &str, settings: &str) {
    sb.write(
        "scifeed.toml",
        &format!(
            r#"[settings]
output_dir = "out"
state = "state.db"
public_url = "https://feeds.example.org/"
min_interval_ms = 0
retries = 0
robots = false
{settings}

[[feed]]
id = "h"
title = "Hostile"
url = "{url}"
base_url = "https://www.example.org/news/"
[feed.select]
card = "article"
title = "h3"
link = "h3 a@href"
author = ".by"
teaser = "p.teaser"
date = "time@datetime"
image = "img"
category = ".tag"
"#
        ),
    );
}

fn card(n: usize) -> String {
    format!(
        r#"<article><h3><a href="/a/{n}">Story {n}</a></h3><p class="teaser">Teaser {n}.</p><span class="by">By Ann Lee</span><time datetime="2026-11-2{}T10:00:00Z">x</time></article>"#,
        n % 10
    )
}

fn page(body: &str) -> String {
    format!("<!doctype html><html><head><title>t</title></head><body>{body}</body></html>")
}

/// Runs the sandbox's feed; returns (exit code, stdout + stderr).
fn run(sb: &Sandbox) -> (i32, String) {
    let out = crate::scifeed()
        .arg("run")
        .arg("-c")
        .arg(sb.path("scifeed.toml"))
        .timeout(LIMIT)
        .assert();
    let o = out.get_output();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(!text.contains("panicked"), "{text}");
    (o.status.code().unwrap_or(-1), text)
}

fn run_file(sb: &Sandbox, bytes: &[u8], settings: &str) -> (i32, String) {
    std::fs::write(sb.path("page.html"), bytes).expect("write page");
    config(sb, "page.html", settings);
    run(sb)
}

fn forbidden_xml_char(c: char) -> bool {
    matches!(c, '\u{0}'..='\u{8}' | '\u{b}' | '\u{c}' | '\u{e}'..='\u{1f}' | '\u{fffe}' | '\u{ffff}')
}

/// All three files exist, are UTF-8 without XML-forbidden characters, and parse.
fn outputs_clean(sb: &Sandbox) -> rss::Channel {
    for ext in ["rss", "atom", "json"] {
        let bytes = sb.read(&format!("out/h.{ext}"));
        let text = String::from_utf8(bytes).unwrap_or_else(|e| panic!("h.{ext} not UTF-8: {e}"));
        assert!(
            !text.contains(forbidden_xml_char),
            "h.{ext} has a forbidden character"
        );
        match ext {
            "atom" => {
                atom_syndication::Feed::read_from(text.as_bytes()).expect("Atom parses");
            }
            "json" => {
                serde_json::from_str::<serde_json::Value>(&text).expect("JSON parses");
            }
            _ => {}
        }
    }
    read_rss(&sb.path("out/h.rss"))
}

/// A small deterministic generator for garbage bytes.
fn garbage(len: usize, mut seed: u64) -> Vec<u8> {
    (0..len)
        .map(|_| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed >> 24) as u8
        })
        .collect()
}

#[test]
fn a_50_mib_page_is_refused_by_the_body_cap_over_http_and_file() {
    let big = page(&card(1).repeat(50 * 1024 * 1024 / card(1).len()));
    assert!(big.len() >= 50 * 1024 * 1024 - 1024);
    let body = big.clone();
    let srv = TestServer::start(move |_| Reply::ok(body.clone()));
    let sb = Sandbox::new();
    config(&sb, &srv.url("/big"), "");
    let (code, text) = run(&sb);
    assert_eq!(code, 1, "{text}");
    assert!(
        text.contains(
            "body larger than 10485760 bytes, counted after decompression (raise `max_body_bytes`"
        ),
        "{text}"
    );

    let sb = Sandbox::new();
    let (code, text) = run_file(&sb, big.as_bytes(), "");
    assert_eq!(code, 1, "{text}");
    assert!(text.contains("body larger than 10485760 bytes"), "{text}");
}

#[test]
fn an_endless_body_stops_at_the_cap() {
    let srv = TestServer::start(|_| {
        let mut r = Reply::ok(card(1));
        r.mode = BodyMode::Endless;
        r
    });
    let sb = Sandbox::new();
    config(&sb, &srv.url("/endless"), "max_body_bytes = 2000000");
    let (code, text) = run(&sb);
    assert_eq!(code, 1, "{text}");
    assert!(text.contains("body larger than 2000000 bytes"), "{text}");
}

#[test]
fn a_page_that_never_finishes_sending_times_out() {
    let srv = TestServer::start(|_| {
        let mut r = Reply::ok(page(&card(1).repeat(100)));
        r.mode = BodyMode::Trickle(Duration::from_millis(20));
        r
    });
    let sb = Sandbox::new();
    config(&sb, &srv.url("/slow"), "timeout_secs = 2");
    let started = std::time::Instant::now();
    let (code, text) = run(&sb);
    assert_eq!(code, 1, "{text}");
    assert!(
        text.contains("timed out: no complete answer within 2s"),
        "{text}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn a_hundred_thousand_cards_are_capped_at_max_cards() {
    let cards: String = (0..100_000)
        .map(|n| format!("<article><h3><a href=/a/{n}>S{n}</a></h3></article>"))
        .collect();
    let sb = Sandbox::new();
    let (code, text) = run_file(&sb, page(&cards).as_bytes(), "max_cards = 500");
    assert_eq!(code, 0, "{text}");
    assert!(
        text.contains("100000 cards matched; only the first 500 were used"),
        "{text}"
    );
    assert_eq!(outputs_clean(&sb).items().len(), 50);
}

#[test]
fn deep_nesting_and_element_multiplying_markup_are_clear_errors() {
    let deep = page(&format!(
        "{}{}{}",
        card(1),
        "<div>".repeat(100_000),
        "</div>".repeat(100_000)
    ));
    let sb = Sandbox::new();
    let (code, text) = run_file(&sb, deep.as_bytes(), "");
    assert_eq!(code, 1, "{text}");
    assert!(
        text.contains("page nests elements more than 1024 levels deep"),
        "{text}"
    );
    // Inside a card's title, and with inline elements, the same.
    let deep_title = page(&format!(
        "<article><h3><a href=/x>{}T</a></h3></article>",
        "<span>".repeat(100_000)
    ));
    let (code, text) = run_file(&Sandbox::new(), deep_title.as_bytes(), "");
    assert_eq!(code, 1, "{text}");
    assert!(text.contains("levels deep"), "{text}");
    // Each paragraph re-opens every earlier <b>: quadratic elements from linear text.
    let bomb: String = (0..20_000)
        .map(|i| format!("<p><b id=b{i}>x</p>"))
        .collect();
    let (code, text) = run_file(
        &Sandbox::new(),
        page(&format!("{}{bomb}", card(1))).as_bytes(),
        "",
    );
    assert_eq!(code, 1, "{text}");
    assert!(text.contains("refusing to extract"), "{text}");
}

#[test]
fn a_5_mb_attribute_and_huge_texts_are_cut_or_skipped() {
    let huge = "x".repeat(5 * 1024 * 1024);
    let body = format!(
        r#"<article><h3><a href="/a/{huge}">Long link</a></h3></article>
<article><h3 title="{huge}"><a href="/a/ok">Title {huge}</a></h3><p class="teaser">{huge}</p><img src="/i/{huge}.jpg"><span class="tag">{huge}</span></article>
{}"#,
        card(2)
    );
    let sb = Sandbox::new();
    let (code, text) = run_file(&sb, page(&body).as_bytes(), "max_body_bytes = 40000000");
    assert_eq!(code, 0, "{text}");
    assert!(
        text.contains("link longer than 4096 bytes; card skipped"),
        "{text}"
    );
    let ch = outputs_clean(&sb);
    assert_eq!(ch.items().len(), 2);
    let long = ch
        .items()
        .iter()
        .find(|i| i.link() == Some("https://www.example.org/a/ok"))
        .expect("the long-text card");
    assert_eq!(long.title().map(|t| t.chars().count()), Some(500));
    assert!(long.title().is_some_and(|t| t.ends_with('…')));
    let size: u64 = ["rss", "atom", "json"]
        .iter()
        .map(|e| std::fs::metadata(sb.path(&format!("out/h.{e}"))).map_or(0, |m| m.len()))
        .sum();
    assert!(size < 100_000, "feed files hold {size} bytes");
}

#[test]
fn binary_garbage_is_a_clear_error() {
    for seed in [1, 2, 3] {
        let sb = Sandbox::new();
        let (code, text) = run_file(&sb, &garbage(1024 * 1024, seed), "");
        assert_eq!(code, 1, "{text}");
        assert!(
            text.contains("matched nothing") || text.contains("refusing"),
            "{text}"
        );
        assert!(!sb.path("out/h.rss").exists());
    }
}

#[test]
fn nul_bytes_control_characters_and_invalid_utf8_in_every_field() {
    // NUL, C0 controls, U+FFFE and lone/overlong UTF-8 bytes in every field of a card.
    let bad: &[u8] = b"\x00\x01\x0b\x1f\xef\xbf\xbe\xff\xfe\xc3\x28\xe2\x82\xf0\x28\x8c\xbc";
    let mut body = Vec::new();
    body.extend_from_slice(b"<article><h3><a href=\"/a/1");
    body.extend_from_slice(bad);
    body.extend_from_slice(b"\">Title ");
    body.extend_from_slice(bad);
    body.extend_from_slice(b" end</a></h3><p class=\"teaser\">Teaser ");
    body.extend_from_slice(bad);
    body.extend_from_slice(b"</p><span class=\"by\">By Ann");
    body.extend_from_slice(bad);
    body.extend_from_slice(b"</span><span class=\"tag\">Tag");
    body.extend_from_slice(bad);
    body.extend_from_slice(b"</span><img src=\"/i/");
    body.extend_from_slice(bad);
    body.extend_from_slice(b".jpg\"><time datetime=\"2026-11-20");
    body.extend_from_slice(bad);
    body.extend_from_slice(b"\">x</time></article>");
    body.extend_from_slice(card(2).as_bytes());
    let mut html = b"<html><body>".to_vec();
    html.extend_from_slice(&body);
    html.extend_from_slice(b"</body></html>");
    let sb = Sandbox::new();
    let (code, text) = run_file(&sb, &html, "");
    assert_eq!(code, 0, "{text}");
    let ch = outputs_clean(&sb);
    assert_eq!(ch.items().len(), 2);
    let first = ch
        .items()
        .iter()
        .find(|i| i.title().is_some_and(|t| t.starts_with("Title")))
        .expect("the bad card");
    assert!(
        first.title().is_some_and(|t| t.ends_with("end")),
        "{:?}",
        first.title()
    );
    // The same bytes as valid UTF-8 with a declared charset, over HTTP.
    let utf8 = String::from_utf8_lossy(&html).to_string();
    let srv = TestServer::start(move |_| Reply::ok(utf8.clone()));
    let sb = Sandbox::new();
    config(&sb, &srv.url("/p"), "");
    let (code, text) = run(&sb);
    assert_eq!(code, 0, "{text}");
    assert_eq!(outputs_clean(&sb).items().len(), 2);
}

#[test]
fn entity_bombs_are_not_expanded() {
    // HTML has no user-defined entities: the internal subset is ignored, `&lol9;` stays text,
    // and a teaser of a million entities is cut like any long text.
    let laughs = r#"<!DOCTYPE html [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;"><!ENTITY lol9 "&lol2;&lol2;&lol2;&lol2;">]>"#;
    let body = format!(
        r#"{laughs}<html><body><article><h3><a href="/a/1">Laughs &lol9; &amp;&amp;</a></h3><p class="teaser">{}</p></article></body></html>"#,
        "&amp;&#x26;&#38;&lt;".repeat(50_000)
    );
    let sb = Sandbox::new();
    let (code, text) = run_file(&sb, body.as_bytes(), "");
    assert_eq!(code, 0, "{text}");
    let ch = outputs_clean(&sb);
    let item = &ch.items()[0];
    assert_eq!(item.title(), Some("Laughs &lol9; &&"));
    let teaser = item.description().expect("description");
    assert!(teaser.len() < 20_000, "teaser of {} bytes", teaser.len());
}

#[test]
fn a_10_mb_json_ld_blob_does_not_disturb_extraction() {
    let nested = format!("{}1{}", "[".repeat(100_000), "]".repeat(100_000));
    let long = "x".repeat(5 * 1024 * 1024);
    let blob = format!(
        r#"<script type="application/ld+json">{{"@context":"https://schema.org","@type":"ItemList","name":"{long}","deep":{nested},"more":"{long}"}}</script>"#
    );
    assert!(blob.len() > 10 * 1000 * 1000);
    let sb = Sandbox::new();
    let (code, text) = run_file(
        &sb,
        page(&format!("{blob}{}{}", card(1), card(2))).as_bytes(),
        "max_body_bytes = 20000000",
    );
    assert_eq!(code, 0, "{text}");
    assert_eq!(outputs_clean(&sb).items().len(), 2);
}

#[test]
fn script_and_data_urls_never_reach_a_feed() {
    let bad_links = [
        "javascript:alert(1)",
        " JaVaScRiPt:alert(1)",
        "java\tscript:alert(1)",
        "java&#10;script:alert(1)",
        "&#106;avascript:alert(1)",
        "data:text/html,&lt;script&gt;alert(1)&lt;/script&gt;",
        "vbscript:msgbox(1)",
        "file:///etc/passwd",
    ];
    let mut body = String::new();
    for (i, l) in bad_links.iter().enumerate() {
        body.push_str(&format!(
            r#"<article><h3><a href="{l}">Bad {i}</a></h3></article>"#
        ));
        body.push_str(&format!(
            r#"<article><h3><a href="/ok/{i}">Good {i}</a></h3><img src="{l}"></article>"#
        ));
    }
    let sb = Sandbox::new();
    let (code, text) = run_file(&sb, page(&body).as_bytes(), "");
    assert_eq!(code, 0, "{text}");
    let ch = outputs_clean(&sb);
    let titles: Vec<_> = ch.items().iter().filter_map(|i| i.title()).collect();
    assert_eq!(titles.len(), bad_links.len(), "{titles:?}");
    assert!(titles.iter().all(|t| t.starts_with("Good")), "{titles:?}");
    for ext in ["rss", "atom", "json"] {
        let out = String::from_utf8(sb.read(&format!("out/h.{ext}"))).expect("UTF-8");
        let lower = out.to_ascii_lowercase();
        for scheme in ["javascript:", "vbscript:", "data:", "file:"] {
            assert!(!lower.contains(scheme), "{scheme} in h.{ext}");
        }
    }
}

#[test]
fn feed_ids_cannot_escape_the_output_directory() {
    for id in [
        "../evil",
        "a/../../b",
        "/etc/x",
        "..",
        "a\\b",
        "CON.",
        ".hidden",
    ] {
        let sb = Sandbox::new();
        sb.write("page.html", &page(&card(1)));
        sb.write(
            "scifeed.toml",
            &format!(
                "[settings]\noutput_dir = \"out\"\nstate = \"state.db\"\n[[feed]]\nid = {id:?}\ntitle = \"t\"\nurl = \"page.html\"\nbase_url = \"https://e.org/\"\n[feed.select]\ncard = \"article\"\ntitle = \"h3\"\n"
            ),
        );
        let out = crate::scifeed()
            .arg("run")
            .arg("-c")
            .arg(sb.path("scifeed.toml"))
            .timeout(LIMIT)
            .assert()
            .code(2);
        let stderr = String::from_utf8_lossy(&out.get_output().stderr).to_string();
        assert!(stderr.contains("is not a safe file name"), "{id}: {stderr}");
        assert!(
            !sb.path("out").exists() && !sb.path("state.db").exists(),
            "{id}"
        );
    }
    // --feed with a traversal is just an unknown feed.
    let sb = Sandbox::new();
    sb.write("page.html", &page(&card(1)));
    config(&sb, "page.html", "");
    let out = crate::scifeed()
        .arg("run")
        .arg("-c")
        .arg(sb.path("scifeed.toml"))
        .args(["--feed", "../../etc/passwd"])
        .timeout(LIMIT)
        .assert()
        .code(2);
    let stderr = String::from_utf8_lossy(&out.get_output().stderr).to_string();
    assert!(
        stderr.contains("no feed with id \"../../etc/passwd\""),
        "{stderr}"
    );
}
