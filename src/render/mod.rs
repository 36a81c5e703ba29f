//! Rendering: `(FeedMeta, [Item]) -> bytes` for RSS 2.0, Atom 1.0 and JSON Feed 1.1.
//!
//! Pure and deterministic: the same meta and items give the same bytes, and nothing here reads
//! the clock (an empty feed's dates are fixed). Items arrive newest first; the caller sorts.
//! Every text goes through [`xml_safe`] once, so all three formats carry the same strings, and
//! the item HTML (image, teaser, read time) is built here from escaped text, never copied from
//! a page.

use std::borrow::Cow;

use chrono::{DateTime, SecondsFormat, SubsecRound, Utc};

use crate::model::{FeedMeta, Item};

mod atom;
mod json;
mod rss;

/// Name of the program, written as the feeds' generator.
const GENERATOR: &str = "scifeed";

/// The XML declaration both XML formats start with.
const XML_DECLARATION: &str = r#"<?xml version="1.0" encoding="UTF-8"?>"#;

/// An output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// RSS 2.0.
    Rss,
    /// Atom 1.0 (RFC 4287).
    Atom,
    /// JSON Feed 1.1.
    Json,
}

impl Format {
    /// Every format, in the order files are written.
    pub const ALL: [Format; 3] = [Format::Rss, Format::Atom, Format::Json];

    /// File extension (without the dot) of this format's output file.
    pub fn extension(self) -> &'static str {
        match self {
            Format::Rss => "rss",
            Format::Atom => "atom",
            Format::Json => "json",
        }
    }
}

/// Renders `items` (newest first) as a complete `format` document.
pub fn render(format: Format, meta: &FeedMeta, items: &[Item]) -> Vec<u8> {
    let entries: Vec<Entry<'_>> = items.iter().map(Entry::new).collect();
    render_entries(format, meta, &entries)
}

/// Renders `items` in each of `formats`, in that order. The items are made XML-safe and
/// their HTML built once for all formats.
pub fn render_each(formats: &[Format], meta: &FeedMeta, items: &[Item]) -> Vec<Vec<u8>> {
    let entries: Vec<Entry<'_>> = items.iter().map(Entry::new).collect();
    formats
        .iter()
        .map(|f| render_entries(*f, meta, &entries))
        .collect()
}

fn render_entries(format: Format, meta: &FeedMeta, entries: &[Entry<'_>]) -> Vec<u8> {
    match format {
        Format::Rss => rss::render(meta, entries),
        Format::Atom => atom::render(meta, entries),
        Format::Json => json::render(meta, entries),
    }
}

/// Removes the characters XML 1.0 forbids (C0 controls other than tab, LF and CR, and
/// U+FFFE/U+FFFF); borrows when there is nothing to remove.
pub fn xml_safe(s: &str) -> Cow<'_, str> {
    fn forbidden(c: char) -> bool {
        matches!(c, '\u{0}'..='\u{8}' | '\u{b}' | '\u{c}' | '\u{e}'..='\u{1f}' | '\u{fffe}' | '\u{ffff}')
    }
    // A byte scan rules out almost every text at once: forbidden characters are C0 bytes or
    // start with 0xEF in UTF-8 (as do all of U+F000..U+FFFF, which the char scan then sorts).
    let suspect = s
        .bytes()
        .any(|b| (b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r')) || b == 0xEF);
    if suspect && s.contains(forbidden) {
        Cow::Owned(s.chars().filter(|&c| !forbidden(c)).collect())
    } else {
        Cow::Borrowed(s)
    }
}

/// [`xml_safe`] text, or `None` when nothing visible is left.
fn non_blank(s: Option<&str>) -> Option<Cow<'_, str>> {
    s.map(xml_safe).filter(|s| !s.trim().is_empty())
}

/// An item as every format renders it: texts made XML-safe, blank optional fields dropped,
/// dates cut to whole seconds.
struct Entry<'a> {
    id: Cow<'a, str>,
    link: Cow<'a, str>,
    title: Cow<'a, str>,
    /// One entry per person.
    authors: Vec<Cow<'a, str>>,
    teaser: Option<Cow<'a, str>>,
    image: Option<Cow<'a, str>>,
    categories: Vec<Cow<'a, str>>,
    read_time: Option<u32>,
    read_time_estimated: bool,
    published: DateTime<Utc>,
    updated: DateTime<Utc>,
    /// [`Entry::html`], built once for every format.
    html: String,
}

impl<'a> Entry<'a> {
    fn new(item: &'a Item) -> Self {
        let mut entry = Entry {
            id: xml_safe(&item.id),
            link: xml_safe(&item.link),
            title: xml_safe(&item.title),
            authors: item
                .authors
                .iter()
                .filter_map(|a| non_blank(Some(a)))
                .collect(),
            teaser: non_blank(item.teaser.as_deref()),
            // Extraction only keeps http(s) images; this guards items from any other source.
            image: non_blank(item.image.as_deref()).filter(|i| is_web_url(i)),
            categories: item
                .categories
                .iter()
                .filter_map(|c| non_blank(Some(c)))
                .collect(),
            read_time: item.read_time,
            read_time_estimated: item.read_time_estimated,
            published: item.published.trunc_subsecs(0),
            updated: item.updated.trunc_subsecs(0),
            html: String::new(),
        };
        entry.html = entry.build_html();
        entry
    }

    /// The item's body as HTML: image, teaser, read time, each in its own paragraph; empty
    /// when the item has none of them. Built from escaped text only.
    #[cfg(test)]
    fn html(&self) -> String {
        self.html.clone()
    }

    fn build_html(&self) -> String {
        use std::fmt::Write as _;
        let mut html = String::new();
        if let Some(image) = &self.image {
            html.push_str(r#"<p><img src=""#);
            html.push_str(&escape_html(image, true));
            html.push_str(r#"" alt=""></p>"#);
        }
        if let Some(teaser) = &self.teaser {
            html.push_str("<p>");
            html.push_str(&escape_html(teaser, false));
            html.push_str("</p>");
        }
        if let Some(minutes) = self.read_time {
            // An estimate from the word count says so; a stated time is given as stated.
            let about = if self.read_time_estimated {
                "about "
            } else {
                ""
            };
            let _ = write!(html, "<p>{about}{minutes} min read</p>");
        }
        html
    }
}

/// Whether `url` is an http(s) URL (the only schemes a feed may point readers to).
fn is_web_url(url: &str) -> bool {
    let scheme = url.split_once(':').map_or("", |(s, _)| s);
    scheme.eq_ignore_ascii_case("https") || scheme.eq_ignore_ascii_case("http")
}

/// Escapes text for HTML: `&`, `<`, `>`, and `"` too when it goes into an attribute value.
fn escape_html(s: &str, attribute: bool) -> Cow<'_, str> {
    let needs = |c: char| matches!(c, '&' | '<' | '>') || (attribute && c == '"');
    if !s.contains(needs) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 16);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' if attribute => out.push_str("&quot;"),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// RFC 3339 in UTC with whole seconds and `Z`: `2026-11-26T19:58:27Z`.
fn rfc3339(date: DateTime<Utc>) -> String {
    date.to_rfc3339_opts(SecondsFormat::Secs, true)
}

#[cfg(test)]
pub(crate) mod testdata {
    //! Items shared by the renderers' tests.

    use chrono::{DateTime, TimeZone, Utc};

    use crate::model::{DateSource, FeedMeta, Item};

    pub fn meta() -> FeedMeta {
        FeedMeta {
            id: "the-scientist".to_owned(),
            title: "The Scientist & Friends <News>".to_owned(),
            description: "Latest \"news\" from The Scientist\u{1}".to_owned(),
            site_url: "https://www.the-scientist.com/news?page=1&sort=new".to_owned(),
            public_url: "https://feeds.example.org/".to_owned(),
        }
    }

    pub fn at(secs: i64) -> DateTime<Utc> {
        Utc.timestamp_opt(secs, 0)
            .single()
            .expect("valid timestamp")
    }

    /// A plain item with every field set; item 1 is dated 2026-11-26T19:58:27Z, each next
    /// one an hour older.
    pub fn item(n: i64) -> Item {
        let date = at(1_795_723_107 - (n - 1) * 3600);
        Item {
            id: format!("https://www.the-scientist.com/article-{n}"),
            link: format!("https://www.the-scientist.com/article-{n}?utm=x"),
            title: format!("Article {n}"),
            authors: vec!["Andy Carstens".to_owned()],
            read_time: Some(4),
            teaser: Some(format!("Teaser {n}.")),
            image: Some(format!("https://cdn.example.org/img/{n}.jpg")),
            categories: vec!["Cancer".to_owned(), "Cell Biology".to_owned()],
            published: date,
            date_source: DateSource::Page,
            updated: date,
            first_seen: date,
            position: 0,
            read_time_estimated: false,
            last_seen: date,
        }
    }

    /// Three items with hostile text: markup, entities, quotes, non-ASCII, emoji, control
    /// characters, an image URL with `&` and `"`; the last has no optional field at all.
    pub fn tricky() -> Vec<Item> {
        let mut a = item(1);
        a.title = "Tom & Jerry <b>bold</b> \"quoted\" 'single' — Grüße 🧬\u{0}\u{b}".to_owned();
        a.teaser = Some("Uses <script>alert('x')</script> &amp; p<0.05 ]]> café\u{1f}".to_owned());
        a.authors = vec!["José Núñez & Ann O'Neil".to_owned()];
        a.image = Some("https://cdn.example.org/i.jpg?w=800&h=600&q=\"1\"".to_owned());
        a.categories = vec!["Cells & Genes".to_owned(), "<Neuro>".to_owned()];
        a.updated = a.published + chrono::Duration::seconds(7200);
        a.published += chrono::Duration::milliseconds(250);
        let b = item(2);
        let mut c = item(3);
        c.authors = Vec::new();
        c.read_time = None;
        c.teaser = None;
        c.image = None;
        c.categories = Vec::new();
        vec![a, b, c]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xml_safe_removes_only_forbidden_characters() {
        let cases = [
            ("plain", "plain"),
            ("tab\tlf\ncr\r", "tab\tlf\ncr\r"),
            ("a\u{0}b\u{8}c\u{b}d\u{c}e\u{e}f\u{1f}g", "abcdefg"),
            ("x\u{fffe}y\u{ffff}z", "xyz"),
            (
                "del\u{7f} nel\u{85} bom\u{feff} emoji🧬",
                "del\u{7f} nel\u{85} bom\u{feff} emoji🧬",
            ),
        ];
        for (input, want) in cases {
            assert_eq!(xml_safe(input), want, "input {input:?}");
        }
        assert!(matches!(xml_safe("clean"), Cow::Borrowed(_)));
    }

    #[test]
    fn html_is_escaped_once_and_ordered_image_teaser_read_time() {
        let items = testdata::tricky();
        let html = Entry::new(&items[0]).html();
        assert_eq!(
            html,
            "<p><img src=\"https://cdn.example.org/i.jpg?w=800&amp;h=600&amp;q=&quot;1&quot;\" alt=\"\"></p>\
             <p>Uses &lt;script&gt;alert('x')&lt;/script&gt; &amp;amp; p&lt;0.05 ]]&gt; café</p>\
             <p>4 min read</p>"
        );
        assert_eq!(Entry::new(&items[2]).html(), "");
    }

    #[test]
    fn only_http_images_are_rendered() {
        for bad in [
            "javascript:alert(1)",
            "JAVASCRIPT:x",
            "data:image/png;base64,AA",
            "//x.org/i.jpg",
        ] {
            let mut item = testdata::item(1);
            item.image = Some(bad.to_owned());
            let entry = Entry::new(&item);
            assert_eq!(entry.image, None, "{bad}");
            assert!(!entry.html().contains("<img"), "{bad}");
        }
        let item = testdata::item(1);
        assert!(Entry::new(&item).html().contains("<img src=\"https://"));
    }

    #[test]
    fn entry_drops_blank_fields_and_subseconds() {
        let mut item = testdata::item(1);
        item.authors = vec![" ".to_owned(), "Ann Lee".to_owned()];
        item.teaser = Some("\u{1}".to_owned());
        item.categories = vec![String::new(), "Ok".to_owned()];
        item.published += chrono::Duration::milliseconds(999);
        let entry = Entry::new(&item);
        assert_eq!(entry.authors, ["Ann Lee"]);
        assert_eq!(entry.teaser, None);
        assert_eq!(entry.categories, vec!["Ok"]);
        assert_eq!(rfc3339(entry.published), "2026-11-26T19:58:27Z");
    }

    #[test]
    fn render_each_matches_render_format_by_format() {
        let items = testdata::tricky();
        let all = render_each(&Format::ALL, &testdata::meta(), &items);
        for (format, bytes) in Format::ALL.iter().zip(all) {
            assert_eq!(
                bytes,
                render(*format, &testdata::meta(), &items),
                "{format:?}"
            );
        }
    }

    #[test]
    fn xml_safe_keeps_other_characters_that_share_the_lead_byte() {
        // U+FF01 and U+FEFF start with 0xEF like U+FFFE/U+FFFF but are allowed.
        assert!(matches!(xml_safe("\u{ff01}\u{feff}"), Cow::Borrowed(_)));
        assert_eq!(xml_safe("a\u{ff01}\u{ffff}b"), "a\u{ff01}b");
    }

    /// The exact bytes of a small feed in each format, so a crate upgrade or a refactoring
    /// that changes the output (and so rewrites every published file) shows up in review.
    #[test]
    fn snapshots() {
        let items = testdata::tricky();
        for format in Format::ALL {
            let bytes = render(format, &testdata::meta(), &items);
            let text = String::from_utf8(bytes).expect("UTF-8");
            insta::assert_snapshot!(format.extension(), text);
        }
    }

    /// A byline of several people is one author entry each in every format, read back by
    /// the `rss` and `atom_syndication` readers and as JSON.
    #[test]
    fn several_authors_give_one_entry_each_in_every_format() {
        let mut item = testdata::item(1);
        item.authors = vec![
            "Ann Lee".to_owned(),
            "Bo Chen".to_owned(),
            "Zoë O'Neil".to_owned(),
        ];
        let items = [item];
        let rss = ::rss::Channel::read_from(&render(Format::Rss, &testdata::meta(), &items)[..])
            .expect("RSS");
        let creators = rss.items()[0]
            .dublin_core_ext()
            .map(|dc| dc.creators().to_vec());
        assert_eq!(creators.as_deref(), Some(&items[0].authors[..]));
        let atom = ::atom_syndication::Feed::read_from(
            &render(Format::Atom, &testdata::meta(), &items)[..],
        )
        .expect("Atom");
        let names: Vec<&str> = atom.entries()[0]
            .authors()
            .iter()
            .map(|p| p.name())
            .collect();
        assert_eq!(names, items[0].authors);
        let json: serde_json::Value =
            serde_json::from_slice(&render(Format::Json, &testdata::meta(), &items)).expect("JSON");
        assert_eq!(
            json["items"][0]["authors"],
            serde_json::json!([{"name": "Ann Lee"}, {"name": "Bo Chen"}, {"name": "Zoë O'Neil"}])
        );
    }

    #[test]
    fn format_names_and_extensions() {
        let names: Vec<_> = Format::ALL.iter().map(|f| f.extension()).collect();
        assert_eq!(names, ["rss", "atom", "json"]);
        #[derive(serde::Deserialize)]
        struct Wrap {
            f: Vec<Format>,
        }
        let w: Wrap = toml::from_str(r#"f = ["rss", "atom", "json"]"#).expect("valid toml");
        assert_eq!(w.f, Format::ALL);
    }
}
