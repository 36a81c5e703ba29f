//! RSS 2.0, written directly in the layout the `rss` crate's pretty writer produces (two
//! spaces of indent, quick-xml escaping), which the tests read back with that crate.
//!
//! Bylines go into `dc:creator` (RSS `author` must be an e-mail address), the image into
//! `media:thumbnail` and, for readers without Media RSS, into the description HTML. Writing
//! the text directly instead of building the crate's structs and serializing them costs a
//! fraction of the time (numbers in CHANGELOG.md).

use super::{Entry, GENERATOR, XML_DECLARATION, push_element, push_escaped, push_indent, xml_safe};
use crate::model::FeedMeta;

/// Namespace of Media RSS, for `media:thumbnail`.
const MEDIA_NAMESPACE: &str = "http://search.yahoo.com/mrss/";
const ATOM_NAMESPACE: &str = "http://www.w3.org/2005/Atom";
const DC_NAMESPACE: &str = "http://purl.org/dc/elements/1.1/";

pub(super) fn render(meta: &FeedMeta, entries: &[Entry<'_>]) -> Vec<u8> {
    let pub_date = entries.iter().map(|e| e.published).max();
    let build_date = entries.iter().map(|e| e.updated).max();
    let mut out = String::with_capacity(1024 + entries.len() * 1024);
    out.push_str(XML_DECLARATION);
    out.push_str("\n<rss version=\"2.0\" xmlns:atom=\"");
    out.push_str(ATOM_NAMESPACE);
    // Declared only when used, as the crate does.
    if entries.iter().any(|e| e.author.is_some()) {
        out.push_str("\" xmlns:dc=\"");
        out.push_str(DC_NAMESPACE);
    }
    out.push_str("\" xmlns:media=\"");
    out.push_str(MEDIA_NAMESPACE);
    out.push_str("\">\n  <channel>");
    push_element(&mut out, 4, "title", &xml_safe(&meta.title));
    push_element(&mut out, 4, "link", &xml_safe(&meta.site_url));
    push_element(&mut out, 4, "description", &xml_safe(&meta.description));
    if let Some(d) = pub_date {
        push_element(&mut out, 4, "pubDate", &d.to_rfc2822());
    }
    if let Some(d) = build_date {
        push_element(&mut out, 4, "lastBuildDate", &d.to_rfc2822());
    }
    push_element(&mut out, 4, "generator", GENERATOR);
    push_indent(&mut out, 4);
    out.push_str("<atom:link href=\"");
    push_escaped(&mut out, &xml_safe(&meta.self_url("rss")));
    out.push_str("\" rel=\"self\" type=\"application/rss+xml\"/>");
    for entry in entries {
        item(&mut out, entry);
    }
    out.push_str("\n  </channel>\n</rss>\n");
    out.into_bytes()
}

fn item(out: &mut String, entry: &Entry<'_>) {
    push_indent(out, 4);
    out.push_str("<item>");
    push_element(out, 6, "title", &entry.title);
    push_element(out, 6, "link", &entry.link);
    if !entry.html.is_empty() {
        push_indent(out, 6);
        out.push_str("<description>");
        push_cdata(out, &entry.html);
        out.push_str("</description>");
    }
    for c in &entry.categories {
        push_element(out, 6, "category", c);
    }
    push_indent(out, 6);
    out.push_str("<guid isPermaLink=\"true\">");
    push_escaped(out, &entry.id);
    out.push_str("</guid>");
    push_element(out, 6, "pubDate", &entry.published.to_rfc2822());
    if let Some(image) = &entry.image {
        push_indent(out, 6);
        out.push_str("<media:thumbnail url=\"");
        push_escaped(out, image);
        out.push_str("\"></media:thumbnail>");
    }
    if let Some(author) = &entry.author {
        push_element(out, 6, "dc:creator", author);
    }
    push_indent(out, 4);
    out.push_str("</item>");
}

/// Appends `s` as CDATA, split where it holds `]]>` the way quick-xml splits it (our HTML
/// escapes every `>` in text, so that never happens in practice).
fn push_cdata(out: &mut String, s: &str) {
    let mut rest = s;
    while let Some(i) = rest.find("]]>") {
        out.push_str("<![CDATA[");
        out.push_str(&rest[..i + 2]);
        out.push_str("]]>");
        rest = &rest[i + 2..];
    }
    out.push_str("<![CDATA[");
    out.push_str(rest);
    out.push_str("]]>");
}

#[cfg(test)]
mod tests {
    use ::rss::Channel;

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
            assert_eq!(creators, want.author.clone().map(|a| vec![a]));
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

    #[test]
    fn cdata_is_split_around_its_end_marker() {
        let mut out = String::new();
        push_cdata(&mut out, "a]]>b]]>");
        assert_eq!(out, "<![CDATA[a]]]]><![CDATA[>b]]]]><![CDATA[>]]>");
    }

    #[test]
    fn dc_namespace_only_with_bylines() {
        let mut items = tricky();
        for i in &mut items {
            i.author = None;
        }
        let text = String::from_utf8(render(Format::Rss, &meta(), &items)).expect("UTF-8");
        assert!(!text.contains("xmlns:dc"));
        read(text.as_bytes());
    }
}
