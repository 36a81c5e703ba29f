//! Atom 1.0 (RFC 4287), written directly in the layout `atom_syndication` produces with two
//! spaces of indent (quick-xml escaping; UTC dates with `Z`), which the tests read back with
//! that crate.
//!
//! Each entry carries the teaser as a text `summary` and the item HTML (image, teaser, read
//! time) as `content type="html"`, mirroring JSON Feed's `summary` and `content_html`. The
//! feed's author is the feed title, so entries without a byline stay valid.

use chrono::DateTime;

use super::{
    Entry, GENERATOR, XML_DECLARATION, push_element, push_escaped, push_indent, push_open, rfc3339,
    xml_safe,
};
use crate::model::FeedMeta;

pub(super) fn render(meta: &FeedMeta, entries: &[Entry<'_>]) -> Vec<u8> {
    let updated = entries
        .iter()
        .map(|e| e.updated)
        .max()
        .unwrap_or(DateTime::UNIX_EPOCH);
    let title = xml_safe(&meta.title);
    let self_url = meta.self_url("atom");
    let self_url = xml_safe(&self_url);
    let mut out = String::with_capacity(1024 + entries.len() * 1536);
    out.push_str(XML_DECLARATION);
    out.push_str("\n<feed xmlns=\"http://www.w3.org/2005/Atom\">");
    push_element(&mut out, 2, "title", &title);
    push_element(&mut out, 2, "id", &self_url);
    push_element(&mut out, 2, "updated", &rfc3339(updated));
    person(&mut out, 2, &title);
    push_element(&mut out, 2, "generator", GENERATOR);
    link(&mut out, 2, &self_url, "self", Some("application/atom+xml"));
    link(
        &mut out,
        2,
        &xml_safe(&meta.site_url),
        "alternate",
        Some("text/html"),
    );
    let subtitle = xml_safe(&meta.description);
    if !subtitle.trim().is_empty() {
        push_element(&mut out, 2, "subtitle", &subtitle);
    }
    for entry in entries {
        self::entry(&mut out, entry);
    }
    out.push_str("\n</feed>\n");
    out.into_bytes()
}

fn entry(out: &mut String, entry: &Entry<'_>) {
    push_open(out, 2, "entry");
    push_element(out, 4, "title", &entry.title);
    push_element(out, 4, "id", &entry.id);
    push_element(out, 4, "updated", &rfc3339(entry.updated));
    if let Some(author) = &entry.author {
        person(out, 4, author);
    }
    for c in &entry.categories {
        push_indent(out, 4);
        out.push_str("<category term=\"");
        push_escaped(out, c);
        out.push_str("\"/>");
    }
    link(out, 4, &entry.link, "alternate", None);
    push_element(out, 4, "published", &rfc3339(entry.published));
    if let Some(teaser) = &entry.teaser {
        push_element(out, 4, "summary", teaser);
    }
    if !entry.html.is_empty() {
        push_indent(out, 4);
        out.push_str("<content type=\"html\">");
        push_escaped(out, &entry.html);
        out.push_str("</content>");
    }
    push_indent(out, 2);
    out.push_str("</entry>");
}

fn person(out: &mut String, indent: usize, name: &str) {
    push_open(out, indent, "author");
    push_element(out, indent + 2, "name", name);
    push_indent(out, indent);
    out.push_str("</author>");
}

fn link(out: &mut String, indent: usize, href: &str, rel: &str, mime_type: Option<&str>) {
    push_indent(out, indent);
    out.push_str("<link href=\"");
    push_escaped(out, href);
    out.push_str("\" rel=\"");
    out.push_str(rel);
    if let Some(t) = mime_type {
        out.push_str("\" type=\"");
        out.push_str(t);
    }
    out.push_str("\"/>");
}

#[cfg(test)]
mod tests {
    use atom_syndication::{Feed, FixedDateTime};
    use chrono::Utc;

    use super::*;
    use crate::render::testdata::{item as sample, meta, tricky};
    use crate::render::{Format, render, rfc3339};

    fn read(bytes: &[u8]) -> Feed {
        Feed::read_from(bytes).expect("our Atom parses")
    }

    fn fixed(date: DateTime<Utc>) -> FixedDateTime {
        date.fixed_offset()
    }

    #[test]
    fn round_trip_keeps_every_field() {
        let items = tricky();
        let bytes = render(Format::Atom, &meta(), &items);
        let text = std::str::from_utf8(&bytes).expect("UTF-8");
        let feed = read(&bytes);

        assert_eq!(feed.title.value, "The Scientist & Friends <News>");
        assert_eq!(feed.id, "https://feeds.example.org/the-scientist.atom");
        assert_eq!(feed.authors[0].name, "The Scientist & Friends <News>");
        assert_eq!(
            feed.subtitle.as_ref().map(|s| s.value.as_str()),
            Some("Latest \"news\" from The Scientist")
        );
        let links: Vec<_> = feed
            .links
            .iter()
            .map(|l| (l.rel.as_str(), l.href.as_str(), l.mime_type.as_deref()))
            .collect();
        assert_eq!(
            links,
            [
                (
                    "self",
                    "https://feeds.example.org/the-scientist.atom",
                    Some("application/atom+xml")
                ),
                ("alternate", meta().site_url.as_str(), Some("text/html")),
            ]
        );
        assert_eq!(feed.entries.len(), 3);

        for (got, want) in feed.entries.iter().zip(&items) {
            let entry = Entry::new(want);
            assert_eq!(got.title.value, entry.title);
            assert_eq!(got.id, want.id);
            assert_eq!(got.updated, fixed(entry.updated));
            assert_eq!(got.published, Some(fixed(entry.published)));
            let authors: Vec<_> = got.authors.iter().map(|a| a.name.clone()).collect();
            assert_eq!(authors, want.author.iter().cloned().collect::<Vec<_>>());
            let terms: Vec<_> = got.categories.iter().map(|c| c.term.as_str()).collect();
            assert_eq!(terms, want.categories);
            assert_eq!(got.links.len(), 1);
            assert_eq!(
                (got.links[0].rel.as_str(), got.links[0].href.as_str()),
                ("alternate", want.link.as_str())
            );
            assert_eq!(
                got.summary.as_ref().map(|s| s.value.as_str()),
                entry.teaser.as_deref()
            );
            let html = entry.html();
            let content = got.content.as_ref().and_then(|c| c.value.clone());
            assert_eq!(content, (!html.is_empty()).then_some(html));
        }

        let first = &feed.entries[0];
        assert_eq!(
            first.title.value,
            "Tom & Jerry <b>bold</b> \"quoted\" 'single' — Grüße 🧬"
        );
        assert_eq!(
            first.summary.as_ref().map(|s| s.value.as_str()),
            Some("Uses <script>alert('x')</script> &amp; p<0.05 ]]> café")
        );
        assert!(!text.contains("<script>"));
        assert!(!text.contains("+00:00"));
    }

    #[test]
    fn dates_are_rfc3339_with_z_and_never_the_clock() {
        let items = tricky();
        let bytes = render(Format::Atom, &meta(), &items);
        let text = std::str::from_utf8(&bytes).expect("UTF-8");
        // Feed updated = the newest item update (item 1, edited two hours after publication).
        assert!(text.contains("\n  <updated>2026-11-26T21:58:27Z</updated>\n"));
        assert!(text.contains("<published>2026-11-26T19:58:27Z</published>"));
        assert_eq!(
            rfc3339(read(&bytes).updated.to_utc()),
            "2026-11-26T21:58:27Z"
        );

        let empty = render(Format::Atom, &meta(), &[]);
        let text = std::str::from_utf8(&empty).expect("UTF-8");
        assert!(text.contains("<updated>1970-01-01T00:00:00Z</updated>"));
        assert!(read(&empty).entries.is_empty());
    }

    #[test]
    fn output_is_deterministic_and_declared_utf8() {
        let items: Vec<_> = (1..=5).map(sample).collect();
        let a = render(Format::Atom, &meta(), &items);
        let b = render(Format::Atom, &meta(), &items);
        assert_eq!(a, b);
        assert!(a.starts_with(
            b"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<feed xmlns=\"http://www.w3.org/2005/Atom\">"
        ));
        assert!(a.ends_with(b"</feed>\n"));
    }
}
