//! Rendering arbitrary item text: every format must parse back with a strict reader, carry
//! no XML-forbidden character, and keep our HTML free of live markup from the item.
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use scifeed::model::{DateSource, FeedMeta, Item};
use scifeed::render::{Format, render};

#[derive(Arbitrary, Debug)]
struct Input {
    title: String,
    teaser: Option<String>,
    authors: Vec<String>,
    categories: Vec<String>,
    path: String,
    image_path: Option<String>,
    read_time: Option<u32>,
    published: u32,
    feed_title: String,
}

fn forbidden(c: char) -> bool {
    matches!(c, '\u{0}'..='\u{8}' | '\u{b}' | '\u{c}' | '\u{e}'..='\u{1f}' | '\u{fffe}' | '\u{ffff}')
}

/// Our item HTML holds only `<p>` and `<img src alt>` with an http(s) source: whatever the
/// item's text, no other element, attribute or URL scheme may appear.
fn check_html(html: &str) {
    let doc = scraper::Html::parse_fragment(html);
    for node in doc.root_element().descendants() {
        let Some(el) = node.value().as_element() else {
            continue;
        };
        match el.name() {
            "html" | "p" => assert_eq!(el.attrs().count(), 0, "{html}"),
            "img" => {
                for (name, value) in el.attrs() {
                    match name {
                        "alt" => {}
                        "src" => assert!(value.starts_with("https://"), "{html}"),
                        _ => panic!("attribute {name} in {html}"),
                    }
                }
            }
            other => panic!("element {other} in {html}"),
        }
    }
}

fuzz_target!(|input: Input| {
    let base = url::Url::parse("https://news.example.org/").expect("static URL");
    let Ok(link) = base.join(&input.path) else {
        return;
    };
    let image = input
        .image_path
        .and_then(|p| base.join(&p).ok())
        .map(|u| u.to_string());
    let date = chrono::DateTime::from_timestamp(i64::from(input.published), 0).expect("in range");
    let item = Item {
        id: link.to_string(),
        link: link.to_string(),
        title: input.title,
        authors: input.authors,
        read_time: input.read_time,
        read_time_estimated: false,
        teaser: input.teaser,
        image,
        categories: input.categories,
        published: date,
        date_source: DateSource::Page,
        updated: date,
        first_seen: date,
        position: 0,
        last_seen: date,
    };
    let meta = FeedMeta {
        id: "fuzz".into(),
        title: input.feed_title,
        description: "d".into(),
        site_url: base.to_string(),
        public_url: "https://feeds.example.org/".into(),
    };
    let items = [item];
    for format in Format::ALL {
        let bytes = render(format, &meta, &items);
        let text = std::str::from_utf8(&bytes).expect("UTF-8 output");
        assert!(!text.contains(forbidden), "{format:?}: forbidden character");
        match format {
            Format::Rss => {
                let ch = rss::Channel::read_from(&bytes[..]).expect("RSS parses");
                assert_eq!(ch.items().len(), 1);
            }
            Format::Atom => {
                let feed = atom_syndication::Feed::read_from(&bytes[..]).expect("Atom parses");
                assert_eq!(feed.entries().len(), 1);
                if let Some(html) = feed.entries()[0].content().and_then(|c| c.value()) {
                    check_html(html);
                }
            }
            Format::Json => {
                let v: serde_json::Value = serde_json::from_slice(&bytes).expect("JSON parses");
                assert_eq!(v["items"].as_array().map(Vec::len), Some(1));
                check_html(v["items"][0]["content_html"].as_str().unwrap_or_default());
            }
        }
    }
});
