//! JSON Feed 1.1 through `serde_json`; structs fix the key order.
//!
//! `summary` is the teaser alone, `content_html` the item HTML (image, teaser, read time),
//! and the reading time also goes, as a number, into the `_scifeed` extension object.

use serde::Serialize;

use super::{Entry, rfc3339, xml_safe};
use crate::model::FeedMeta;

/// The JSON Feed version this module writes.
const VERSION: &str = "https://jsonfeed.org/version/1.1";

/// Borrows every text from the entries: serialising is then one pass over them without a
/// copy of each string.
#[derive(Serialize)]
struct JsonFeed<'a> {
    version: &'static str,
    title: &'a str,
    home_page_url: &'a str,
    feed_url: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<&'a str>,
    items: Vec<JsonItem<'a>>,
}

#[derive(Serialize)]
struct JsonItem<'a> {
    id: &'a str,
    url: &'a str,
    title: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    summary: Option<&'a str>,
    /// Always present: JSON Feed requires `content_html` or `content_text`; empty when the
    /// item has no image, teaser or read time.
    content_html: &'a str,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    authors: Vec<Author<'a>>,
    date_published: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    date_modified: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    image: Option<&'a str>,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    tags: &'a [std::borrow::Cow<'a, str>],
    #[serde(rename = "_scifeed", skip_serializing_if = "Option::is_none")]
    scifeed: Option<Extension>,
}

#[derive(Serialize)]
struct Author<'a> {
    name: &'a str,
}

/// Our `_scifeed` extension object.
#[derive(Serialize)]
struct Extension {
    read_time_minutes: u32,
    /// Present (true) when the minutes are estimated from the article's word count.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    read_time_estimated: bool,
}

pub(super) fn render(meta: &FeedMeta, entries: &[Entry<'_>]) -> Vec<u8> {
    let title = xml_safe(&meta.title);
    let home_page_url = xml_safe(&meta.site_url);
    let feed_url = meta.self_url("json");
    let feed_url = xml_safe(&feed_url);
    let description = xml_safe(&meta.description);
    let feed = JsonFeed {
        version: VERSION,
        title: &title,
        home_page_url: &home_page_url,
        feed_url: &feed_url,
        description: Some(&*description).filter(|d| !d.trim().is_empty()),
        items: entries.iter().map(item).collect(),
    };
    let mut out = Vec::with_capacity(1024 + entries.len() * 1024);
    serde_json::to_writer_pretty(&mut out, &feed).expect("serialising plain structs cannot fail");
    out.push(b'\n');
    out
}

fn item<'a>(entry: &'a Entry<'_>) -> JsonItem<'a> {
    JsonItem {
        id: &entry.id,
        url: &entry.link,
        title: &entry.title,
        summary: entry.teaser.as_deref(),
        content_html: &entry.html,
        authors: entry.authors.iter().map(|name| Author { name }).collect(),
        date_published: rfc3339(entry.published),
        date_modified: (entry.updated != entry.published).then(|| rfc3339(entry.updated)),
        image: entry.image.as_deref(),
        tags: &entry.categories,
        scifeed: entry.read_time.map(|minutes| Extension {
            read_time_minutes: minutes,
            read_time_estimated: entry.read_time_estimated,
        }),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;
    use crate::render::testdata::{item as sample, meta, tricky};
    use crate::render::{Format, render};

    fn read(bytes: &[u8]) -> Value {
        serde_json::from_slice(bytes).expect("our JSON parses")
    }

    #[test]
    fn round_trip_keeps_every_field() {
        let items = tricky();
        let feed = read(&render(Format::Json, &meta(), &items));
        assert_eq!(feed["version"], "https://jsonfeed.org/version/1.1");
        assert_eq!(feed["title"], "The Scientist & Friends <News>");
        assert_eq!(feed["description"], "Latest \"news\" from The Scientist");
        assert_eq!(feed["home_page_url"], meta().site_url);
        assert_eq!(
            feed["feed_url"],
            "https://feeds.example.org/the-scientist.json"
        );

        let got = feed["items"].as_array().expect("items array");
        assert_eq!(got.len(), 3);
        assert_eq!(
            got[0],
            json!({
                "id": "https://www.the-scientist.com/article-1",
                "url": "https://www.the-scientist.com/article-1?utm=x",
                "title": "Tom & Jerry <b>bold</b> \"quoted\" 'single' — Grüße 🧬",
                "summary": "Uses <script>alert('x')</script> &amp; p<0.05 ]]> café",
                "content_html": Entry::new(&items[0]).html(),
                "authors": [{"name": "José Núñez & Ann O'Neil"}],
                "date_published": "2026-11-26T19:58:27Z",
                "date_modified": "2026-11-26T21:58:27Z",
                "image": "https://cdn.example.org/i.jpg?w=800&h=600&q=\"1\"",
                "tags": ["Cells & Genes", "<Neuro>"],
                "_scifeed": {"read_time_minutes": 4}
            })
        );
        assert_eq!(
            got[2],
            json!({
                "id": "https://www.the-scientist.com/article-3",
                "url": "https://www.the-scientist.com/article-3?utm=x",
                "title": "Article 3",
                "content_html": "",
                "date_published": "2026-11-26T17:58:27Z"
            })
        );
    }

    #[test]
    fn estimated_read_time_is_marked() {
        let mut it = sample(1);
        it.read_time = Some(6);
        it.read_time_estimated = true;
        let feed = read(&render(Format::Json, &meta(), &[it]));
        assert_eq!(
            feed["items"][0]["_scifeed"],
            json!({"read_time_minutes": 6, "read_time_estimated": true})
        );
        let html = feed["items"][0]["content_html"].as_str().expect("html");
        assert!(html.contains("<p>about 6 min read</p>"), "{html}");
    }

    #[test]
    fn key_order_is_fixed_and_output_deterministic() {
        let items: Vec<_> = (1..=5).map(sample).collect();
        let a = render(Format::Json, &meta(), &items);
        assert_eq!(a, render(Format::Json, &meta(), &items));
        let text = std::str::from_utf8(&a).expect("UTF-8");
        assert!(
            text.starts_with(
                "{\n  \"version\": \"https://jsonfeed.org/version/1.1\",\n  \"title\""
            )
        );
        assert!(text.ends_with("}\n"));
        let keys = [
            "\"id\"",
            "\"url\"",
            "\"title\"",
            "\"summary\"",
            "\"content_html\"",
            "\"authors\"",
            "\"date_published\"",
            "\"image\"",
            "\"tags\"",
            "\"_scifeed\"",
        ];
        let item = &text[text.find("\"items\"").expect("items")..];
        let positions: Vec<_> = keys.iter().map(|k| item.find(k).expect(k)).collect();
        assert!(positions.is_sorted(), "{positions:?}");

        let empty = read(&render(Format::Json, &meta(), &[]));
        assert_eq!(empty["items"], json!([]));
    }
}
