//! JSON Feed 1.1 through `serde_json`; structs fix the key order.
//!
//! `summary` is the teaser alone, `content_html` the item HTML (image, teaser, read time),
//! and the reading time also goes, as a number, into the `_scifeed` extension object.

use serde::Serialize;

use super::{Entry, rfc3339, xml_safe};
use crate::model::{FeedMeta, Item};

/// The JSON Feed version this module writes.
const VERSION: &str = "https://jsonfeed.org/version/1.1";

#[derive(Serialize)]
struct JsonFeed {
    version: &'static str,
    title: String,
    home_page_url: String,
    feed_url: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<String>,
    items: Vec<JsonItem>,
}

#[derive(Serialize)]
struct JsonItem {
    id: String,
    url: String,
    title: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    summary: Option<String>,
    /// Always present: JSON Feed requires `content_html` or `content_text`; empty when the
    /// item has no image, teaser or read time.
    content_html: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    authors: Vec<Author>,
    date_published: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    date_modified: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    image: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tags: Vec<String>,
    #[serde(rename = "_scifeed", skip_serializing_if = "Option::is_none")]
    scifeed: Option<Extension>,
}

#[derive(Serialize)]
struct Author {
    name: String,
}

/// Our `_scifeed` extension object.
#[derive(Serialize)]
struct Extension {
    read_time_minutes: u32,
    /// Present (true) when the minutes are estimated from the article's word count.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    read_time_estimated: bool,
}

pub(super) fn render(meta: &FeedMeta, items: &[Item]) -> Vec<u8> {
    let feed = JsonFeed {
        version: VERSION,
        title: xml_safe(&meta.title).into_owned(),
        home_page_url: xml_safe(&meta.site_url).into_owned(),
        feed_url: xml_safe(&meta.self_url("json")).into_owned(),
        description: Some(xml_safe(&meta.description).into_owned())
            .filter(|d| !d.trim().is_empty()),
        items: items.iter().map(|i| item(&Entry::new(i))).collect(),
    };
    let mut out = serde_json::to_vec_pretty(&feed).expect("serialising plain structs cannot fail");
    out.push(b'\n');
    out
}

fn item(entry: &Entry<'_>) -> JsonItem {
    JsonItem {
        id: entry.id.to_string(),
        url: entry.link.to_string(),
        title: entry.title.to_string(),
        summary: entry.teaser.as_ref().map(|t| t.to_string()),
        content_html: entry.html(),
        authors: entry
            .author
            .iter()
            .map(|a| Author {
                name: a.to_string(),
            })
            .collect(),
        date_published: rfc3339(entry.published),
        date_modified: (entry.updated != entry.published).then(|| rfc3339(entry.updated)),
        image: entry.image.as_ref().map(|i| i.to_string()),
        tags: entry.categories.iter().map(|c| c.to_string()).collect(),
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
