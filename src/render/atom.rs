//! Atom 1.0 (RFC 4287) through `atom_syndication`'s plain structs.
//!
//! Each entry carries the teaser as a text `summary` and the item HTML (image, teaser, read
//! time) as `content type="html"`, mirroring JSON Feed's `summary` and `content_html`. The
//! feed's author is the feed title, so entries without a byline stay valid.

use atom_syndication::{
    Category, Content, Entry as AtomEntry, Feed, FixedDateTime, Generator, Link, Person, Text,
    WriteConfig,
};
use chrono::{DateTime, Utc};

use super::{Entry, GENERATOR, XML_DECLARATION, xml_safe};
use crate::model::FeedMeta;

pub(super) fn render(meta: &FeedMeta, entries: &[Entry<'_>]) -> Vec<u8> {
    let updated = entries
        .iter()
        .map(|e| e.updated)
        .max()
        .unwrap_or(DateTime::UNIX_EPOCH);
    let title = xml_safe(&meta.title).into_owned();

    let feed = Feed {
        title: Text::plain(title.clone()),
        id: xml_safe(&meta.self_url("atom")).into_owned(),
        updated: fixed(updated),
        authors: vec![person(title)],
        generator: Some(Generator {
            value: GENERATOR.to_owned(),
            uri: None,
            version: None,
        }),
        links: vec![
            link(meta.self_url("atom"), "self", "application/atom+xml"),
            link(meta.site_url.clone(), "alternate", "text/html"),
        ],
        subtitle: Some(xml_safe(&meta.description))
            .filter(|d| !d.trim().is_empty())
            .map(|d| Text::plain(d.into_owned())),
        entries: entries.iter().map(entry).collect(),
        ..Feed::default()
    };

    let config = WriteConfig {
        write_document_declaration: false,
        indent_size: Some(2),
    };
    let xml = feed
        .write_with_config(Vec::new(), config)
        .expect("writing XML to a Vec cannot fail");
    let xml = String::from_utf8(xml).expect("atom_syndication writes UTF-8");
    finish(&xml).into_bytes()
}

fn entry(entry: &Entry<'_>) -> AtomEntry {
    let html = entry.html.clone();
    AtomEntry {
        title: Text::plain(entry.title.to_string()),
        id: entry.id.to_string(),
        updated: fixed(entry.updated),
        authors: entry
            .authors
            .iter()
            .map(|a| person(a.to_string()))
            .collect(),
        categories: entry
            .categories
            .iter()
            .map(|c| Category {
                term: c.to_string(),
                scheme: None,
                label: None,
            })
            .collect(),
        links: vec![Link {
            href: entry.link.to_string(),
            rel: "alternate".to_owned(),
            ..Link::default()
        }],
        published: Some(fixed(entry.published)),
        summary: entry.teaser.as_ref().map(|t| Text::plain(t.to_string())),
        content: (!html.is_empty()).then(|| Content {
            value: Some(html),
            content_type: Some("html".to_owned()),
            ..Content::default()
        }),
        ..AtomEntry::default()
    }
}

fn person(name: String) -> Person {
    Person {
        name,
        ..Person::default()
    }
}

fn link(href: String, rel: &str, mime_type: &str) -> Link {
    Link {
        href: xml_safe(&href).into_owned(),
        rel: rel.to_owned(),
        mime_type: Some(mime_type.to_owned()),
        ..Link::default()
    }
}

fn fixed(date: DateTime<Utc>) -> FixedDateTime {
    date.fixed_offset()
}

/// Prepends our XML declaration, writes UTC dates with `Z` (the crate writes `+00:00`), ends
/// with a newline.
///
/// The replacement only touches `updated`/`published` end tags: every `<` in texts and in
/// the escaped HTML content is written as `&lt;`, so a literal `</updated>` is the element.
fn finish(xml: &str) -> String {
    let mut out = String::with_capacity(xml.len() + 64);
    out.push_str(XML_DECLARATION);
    out.push('\n');
    out.push_str(
        &xml.replace("+00:00</updated>", "Z</updated>")
            .replace("+00:00</published>", "Z</published>"),
    );
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::testdata::{item as sample, meta, tricky};
    use crate::render::{Format, render, rfc3339};

    fn read(bytes: &[u8]) -> Feed {
        Feed::read_from(bytes).expect("our Atom parses")
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
            assert_eq!(authors, want.authors);
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
