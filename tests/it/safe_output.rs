//! Safe output: titles, teasers, bylines and categories are plain text in every format, and
//! the only HTML in a feed is the item body scifeed builds itself (`<p>` and `<img src alt>`
//! from escaped text), so no script, event handler or `javascript:` URL from a page survives.
//! This is why scifeed needs no HTML sanitiser: it never copies markup from a page.

use crate::{Sandbox, read_rss};

const XSS: &str = r#"<script>alert(1)</script><img src=x onerror=alert(2)><svg onload=alert(3)> javascript:alert(4) "><a href="javascript:alert(5)">x</a>"#;

/// Every field of the card carries markup that would run if a reader treated it as HTML.
fn hostile_page() -> String {
    let text = XSS
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;");
    format!(
        r#"<html><body>
<article>
  <h3><a href="/a/1?q=&quot;&gt;&lt;script&gt;alert(6)&lt;/script&gt;">Title {text}</a></h3>
  <p class="teaser">Teaser {text} <b onmouseover="alert(7)">bold</b><script>alert(8)</script></p>
  <span class="by">By {text}</span>
  <span class="tag">Tag {text}</span>
  <img src='x" onerror="alert(9)' alt="x">
  <time datetime="2026-11-20T10:00:00Z">x</time>
</article>
<article>
  <h3><a href="/a/2">Second</a></h3>
  <img src="javascript:alert(10)">
</article>
</body></html>"#
    )
}

fn config(sb: &Sandbox) {
    sb.write("page.html", &hostile_page());
    sb.write(
        "scifeed.toml",
        r#"[settings]
output_dir = "out"
state = "state.db"
[[feed]]
id = "x"
title = "<script>alert('feed')</script> & co"
description = "<img src=x onerror=alert('desc')>"
url = "page.html"
base_url = "https://www.example.org/"
[feed.select]
card = "article"
title = "h3"
teaser = "p.teaser"
author = ".by"
category = ".tag"
date = "time@datetime"
image = "img"
"#,
    );
}

/// The item HTML may hold only `<p>` and `<img>` with an https `src` and an `alt`.
fn assert_inert_html(html: &str, context: &str) {
    let doc = scraper::Html::parse_fragment(html);
    for node in doc.root_element().descendants() {
        let Some(el) = node.value().as_element() else {
            continue;
        };
        match el.name() {
            "html" | "p" => assert_eq!(el.attrs().count(), 0, "{context}: {html}"),
            "img" => {
                for (name, value) in el.attrs() {
                    match name {
                        "alt" => {}
                        "src" => assert!(value.starts_with("https://"), "{context}: {html}"),
                        _ => panic!("{context}: attribute {name} in {html}"),
                    }
                }
            }
            other => panic!("{context}: element <{other}> in {html}"),
        }
    }
}

#[test]
fn no_live_markup_or_script_url_survives_in_any_format() {
    let sb = Sandbox::new();
    config(&sb);
    sb.run(&[]).success();

    // RSS: description is the HTML we build; everything else is text.
    let ch = read_rss(&sb.path("out/x.rss"));
    assert_eq!(ch.items().len(), 2);
    let first = ch
        .items()
        .iter()
        .find(|i| i.title().is_some_and(|t| t.starts_with("Title")))
        .expect("the hostile card");
    assert!(
        first
            .title()
            .is_some_and(|t| t.contains("<script>alert(1)</script>"))
    );
    assert_inert_html(first.description().expect("description"), "rss description");
    assert!(
        first
            .description()
            .is_some_and(|d| d.contains("&lt;script&gt;alert(1)"))
    );
    assert!(
        !first.description().unwrap_or_default().contains("alert(8)"),
        "page script text kept"
    );
    for item in ch.items() {
        let web = |u: &str| u.starts_with("https://www.example.org/");
        assert!(item.link().is_some_and(web), "{:?}", item.link());
        assert!(item.guid().is_some_and(|g| web(g.value())));
        let thumbs = item
            .extensions()
            .get("media")
            .and_then(|m| m.get("thumbnail"));
        for t in thumbs.into_iter().flatten() {
            assert!(t.attrs().get("url").is_some_and(|u| web(u)), "{t:?}");
        }
    }

    // Atom: title and summary are type="text"; content is our HTML.
    let atom = atom_syndication::Feed::read_from(&sb.read("out/x.atom")[..]).expect("Atom");
    for e in atom.entries() {
        assert_eq!(e.title().r#type, atom_syndication::TextType::Text);
        if let Some(html) = e.content().and_then(|c| c.value()) {
            assert_inert_html(html, "atom content");
        }
        for l in e.links() {
            assert!(l.href().starts_with("https://"), "{}", l.href());
        }
    }

    // JSON Feed: content_html is our HTML; title/summary are text by the spec.
    let json: serde_json::Value = serde_json::from_slice(&sb.read("out/x.json")).expect("JSON");
    for item in json["items"].as_array().expect("items") {
        assert_inert_html(
            item["content_html"].as_str().expect("content_html"),
            "json content_html",
        );
        for key in ["url", "id", "image"] {
            if let Some(u) = item[key].as_str() {
                assert!(u.starts_with("https://"), "{key}: {u}");
            }
        }
    }

    // In the XML formats no markup is live at all: every `<` from the page is escaped (the
    // URL-bearing attributes were checked above through the parsers).
    for ext in ["rss", "atom"] {
        let raw = String::from_utf8(sb.read(&format!("out/x.{ext}"))).expect("UTF-8");
        for live in [
            "<script",
            "<svg",
            "<img src=x",
            "<b onmouseover",
            "<a href=\"javascript",
        ] {
            assert!(!raw.contains(live), "{live} live in x.{ext}");
        }
    }
}
