//! RSS 2.0 through the `rss` crate's plain structs.
//!
//! Bylines go into `dc:creator` (RSS `author` must be an e-mail address), the image into
//! `media:thumbnail` and, for readers without Media RSS, into the description HTML.

use std::collections::BTreeMap;

use ::rss::extension::Extension;
use ::rss::extension::atom::{AtomExtension, Link};
use ::rss::extension::dublincore::DublinCoreExtension;
use ::rss::{Category, Channel, Guid};

use super::{Entry, GENERATOR, XML_DECLARATION, xml_safe};
use crate::model::FeedMeta;

/// Namespace of Media RSS, for `media:thumbnail`.
const MEDIA_NAMESPACE: &str = "http://search.yahoo.com/mrss/";

pub(super) fn render(meta: &FeedMeta, entries: &[Entry<'_>]) -> Vec<u8> {
    let pub_date = entries.iter().map(|e| e.published).max();
    let build_date = entries.iter().map(|e| e.updated).max();

    let channel = Channel {
        title: xml_safe(&meta.title).into_owned(),
        link: xml_safe(&meta.site_url).into_owned(),
        description: xml_safe(&meta.description).into_owned(),
        pub_date: pub_date.map(|d| d.to_rfc2822()),
        last_build_date: build_date.map(|d| d.to_rfc2822()),
        generator: Some(GENERATOR.to_owned()),
        atom_ext: Some(AtomExtension {
            links: vec![Link {
                href: xml_safe(&meta.self_url("rss")).into_owned(),
                rel: "self".to_owned(),
                mime_type: Some("application/rss+xml".to_owned()),
                ..Link::default()
            }],
        }),
        namespaces: BTreeMap::from([("media".to_owned(), MEDIA_NAMESPACE.to_owned())]),
        items: entries.iter().map(item).collect(),
        ..Channel::default()
    };

    let xml = channel
        .pretty_write_to(Vec::new(), b' ', 2)
        .expect("writing XML to a Vec cannot fail");
    let xml = String::from_utf8(xml).expect("the rss crate writes UTF-8");
    finish(xml).into_bytes()
}

fn item(entry: &Entry<'_>) -> ::rss::Item {
    let html = entry.html.clone();
    let mut extensions = BTreeMap::new();
    if let Some(image) = &entry.image {
        let thumbnail = Extension {
            name: "media:thumbnail".to_owned(),
            // An empty value keeps the indenting writer from putting whitespace inside.
            value: Some(String::new()),
            attrs: BTreeMap::from([("url".to_owned(), image.to_string())]),
            children: BTreeMap::new(),
        };
        extensions.insert(
            "media".to_owned(),
            BTreeMap::from([("thumbnail".to_owned(), vec![thumbnail])]),
        );
    }
    ::rss::Item {
        title: Some(entry.title.to_string()),
        link: Some(entry.link.to_string()),
        description: (!html.is_empty()).then_some(html),
        categories: entry
            .categories
            .iter()
            .map(|c| Category {
                name: c.to_string(),
                domain: None,
            })
            .collect(),
        guid: Some(Guid {
            value: entry.id.to_string(),
            permalink: true,
        }),
        pub_date: Some(entry.published.to_rfc2822()),
        extensions,
        dublin_core_ext: (!entry.authors.is_empty()).then(|| DublinCoreExtension {
            creators: entry.authors.iter().map(ToString::to_string).collect(),
            ..DublinCoreExtension::default()
        }),
        ..::rss::Item::default()
    }
}

/// Puts our XML declaration in place of the crate's lower-case one, makes the permalink
/// attribute explicit (the crate leaves the default `true` implicit), ends with a newline.
///
/// Plain string replacement is safe here: every `<` in titles and other texts is escaped, and
/// the only raw markup in CDATA is our own `<p>`/`<img>` description HTML, so a literal
/// `<guid>` can only be the element itself.
fn finish(xml: String) -> String {
    let body = xml
        .strip_prefix(r#"<?xml version="1.0" encoding="utf-8"?>"#)
        .unwrap_or(&xml)
        .trim_start();
    let mut out = String::with_capacity(xml.len() + 1024);
    out.push_str(XML_DECLARATION);
    out.push('\n');
    out.push_str(&body.replace("<guid>", r#"<guid isPermaLink="true">"#));
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::testdata::{item as sample, meta, tricky};
    use crate::render::{Format, render};

    fn read(bytes: &[u8]) -> Channel {
        Channel::read_from(bytes).expect("our RSS parses")
    }

    #[test]
    fn round_trip_keeps_every_field() {
        let items = tricky();
        let bytes = render(Format::Rss, &meta(), &items);
        let text = std::str::from_utf8(&bytes).expect("UTF-8");
        let channel = read(&bytes);

        assert_eq!(channel.title, "The Scientist & Friends <News>");
        assert_eq!(channel.description, "Latest \"news\" from The Scientist");
        assert_eq!(channel.link, meta().site_url);
        assert_eq!(channel.generator.as_deref(), Some("scifeed"));
        let self_link = &channel.atom_ext.as_ref().expect("atom:link").links[0];
        assert_eq!(
            self_link.href,
            "https://feeds.example.org/the-scientist.rss"
        );
        assert_eq!(self_link.rel, "self");
        assert_eq!(self_link.mime_type.as_deref(), Some("application/rss+xml"));
        assert_eq!(channel.items.len(), 3);

        for (got, want) in channel.items.iter().zip(&items) {
            let entry = Entry::new(want);
            assert_eq!(got.title.as_deref(), Some(&*entry.title));
            assert_eq!(got.link.as_deref(), Some(want.link.as_str()));
            let guid = got.guid.as_ref().expect("guid");
            assert_eq!(
                (guid.value.as_str(), guid.permalink),
                (want.id.as_str(), true)
            );
            assert_eq!(
                got.pub_date.as_deref(),
                Some(entry.published.to_rfc2822().as_str())
            );
            let creators = got.dublin_core_ext.as_ref().map(|dc| dc.creators.clone());
            assert_eq!(
                creators,
                (!want.authors.is_empty()).then(|| want.authors.clone())
            );
            assert_eq!(got.author, None);
            let categories: Vec<_> = got.categories.iter().map(|c| c.name.as_str()).collect();
            assert_eq!(categories, want.categories);
            let html = entry.html();
            assert_eq!(got.description, (!html.is_empty()).then_some(html));
            let thumbnail = got
                .extensions
                .get("media")
                .and_then(|m| m.get("thumbnail"))
                .and_then(|t| t[0].attrs.get("url"));
            assert_eq!(thumbnail, want.image.as_ref());
        }

        let first = &channel.items[0];
        assert_eq!(
            first.title.as_deref(),
            Some("Tom & Jerry <b>bold</b> \"quoted\" 'single' — Grüße 🧬")
        );
        let description = first.description.as_deref().expect("description");
        assert!(description.contains("<p>Uses &lt;script&gt;alert('x')&lt;/script&gt;"));
        assert!(description.contains("<p>4 min read</p>"));
        assert!(!text.contains("<script>"));
        assert!(!text.contains("&amp;amp;amp;"));
        assert!(text.contains(r#"<guid isPermaLink="true">"#));
        assert!(!text.contains("<author>"));
    }

    #[test]
    fn channel_dates_come_from_items_not_the_clock() {
        let items = tricky();
        let channel = read(&render(Format::Rss, &meta(), &items));
        // Newest publication is item 1; its update (two hours later) is the newest change.
        assert_eq!(
            channel.pub_date.as_deref(),
            Some("Thu, 26 Nov 2026 19:58:27 +0000")
        );
        assert_eq!(
            channel.last_build_date.as_deref(),
            Some("Thu, 26 Nov 2026 21:58:27 +0000")
        );

        let empty = render(Format::Rss, &meta(), &[]);
        let channel = read(&empty);
        assert_eq!((channel.pub_date, channel.last_build_date), (None, None));
        assert!(channel.items.is_empty());
    }

    #[test]
    fn output_is_deterministic_and_declared_utf8() {
        let items: Vec<_> = (1..=5).map(sample).collect();
        let a = render(Format::Rss, &meta(), &items);
        let b = render(Format::Rss, &meta(), &items);
        assert_eq!(a, b);
        assert!(a.starts_with(b"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<rss version=\"2.0\""));
        assert!(a.ends_with(b"</rss>\n"));
        let text = std::str::from_utf8(&a).expect("UTF-8");
        assert!(text.contains(r#"xmlns:media="http://search.yahoo.com/mrss/""#));
        assert!(text.contains(
            r#"<media:thumbnail url="https://cdn.example.org/img/1.jpg"></media:thumbnail>"#
        ));
    }
}
