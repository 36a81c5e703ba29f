//! OPML 2.0 subscription lists: every feed of a config in one file a reader imports at once.
//! Served as `/feeds.opml` and written by `scifeed opml` for static hosting.

use quick_xml::Writer;
use quick_xml::events::{BytesDecl, BytesText, Event};

use crate::feed::{Config, FeedSpec};
use crate::render::Format;

/// One subscription.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outline {
    pub title: String,
    /// The feed's absolute URL.
    pub xml_url: String,
    /// The page the feed is made from.
    pub html_url: String,
    pub description: Option<String>,
}

/// Why `scifeed opml` cannot write the list.
#[derive(Debug, thiserror::Error)]
pub enum OpmlError {
    #[error(
        "{}: `[settings] public_url` is not set, so the OPML file would have no absolute feed URLs\n    hint: set public_url to the address where output_dir is served, e.g. public_url = \"https://example.org/feeds/\"",
        path.display()
    )]
    NoPublicUrl { path: std::path::PathBuf },
    #[error("{}: format `{format}` is not in `[settings] formats`, so no such files are written", path.display())]
    FormatOff {
        path: std::path::PathBuf,
        format: &'static str,
    },
    #[error("cannot write {}: {source}", path.display())]
    Write {
        path: std::path::PathBuf,
        source: std::io::Error,
    },
}

/// The format OPML links point to: `wanted` if given, else RSS when written, else the first
/// format written.
pub fn pick_format(config: &Config, wanted: Option<Format>) -> Result<Format, OpmlError> {
    let formats = &config.settings.formats;
    match wanted {
        Some(f) if formats.contains(&f) => Ok(f),
        Some(f) => Err(OpmlError::FormatOff {
            path: config.path.clone(),
            format: f.extension(),
        }),
        None if formats.contains(&Format::Rss) => Ok(Format::Rss),
        None => Ok(formats.first().copied().unwrap_or(Format::Rss)),
    }
}

/// The outlines of every feed, each linking `<base><id>.<ext><suffix>` (`suffix` carries a
/// `?key=` when the server wants one).
pub fn outlines(feeds: &[FeedSpec], base: &str, format: Format, suffix: &str) -> Vec<Outline> {
    feeds
        .iter()
        .map(|f| Outline {
            title: f.title.clone(),
            xml_url: format!("{base}{}.{}{suffix}", f.id, format.extension()),
            html_url: f.site_url.to_string(),
            description: f.description.clone(),
        })
        .collect()
}

/// The OPML 2.0 document. Deterministic: no creation date, outlines in the given order.
pub fn render(title: &str, outlines: &[Outline]) -> Vec<u8> {
    let mut w = Writer::new_with_indent(Vec::new(), b' ', 2);
    // Writing to a Vec cannot fail.
    let _ = write(&mut w, title, outlines);
    let mut out = w.into_inner();
    out.push(b'\n');
    out
}

fn write(w: &mut Writer<Vec<u8>>, title: &str, outlines: &[Outline]) -> std::io::Result<()> {
    w.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))?;
    w.create_element("opml")
        .with_attribute(("version", "2.0"))
        .write_inner_content(|w| {
            w.create_element("head").write_inner_content(|w| {
                w.create_element("title")
                    .write_text_content(BytesText::new(title))?;
                w.create_element("docs")
                    .write_text_content(BytesText::new("https://opml.org/spec2.opml"))?;
                Ok(())
            })?;
            w.create_element("body").write_inner_content(|w| {
                for o in outlines {
                    let mut el = w.create_element("outline").with_attributes([
                        ("type", "rss"),
                        ("text", o.title.as_str()),
                        ("title", o.title.as_str()),
                        ("xmlUrl", o.xml_url.as_str()),
                        ("htmlUrl", o.html_url.as_str()),
                    ]);
                    if let Some(d) = &o.description {
                        el = el.with_attribute(("description", d.as_str()));
                    }
                    el.write_empty()?;
                }
                Ok(())
            })?;
            Ok(())
        })?;
    Ok(())
}

/// `scifeed opml`: the list for static hosting, linking `[settings] public_url`.
pub fn for_static_hosting(config: &Config, format: Option<Format>) -> Result<Vec<u8>, OpmlError> {
    if config.settings.public_url == crate::config::DEFAULT_PUBLIC_URL {
        return Err(OpmlError::NoPublicUrl {
            path: config.path.clone(),
        });
    }
    let format = pick_format(config, format)?;
    let list = outlines(&config.feeds, &config.settings.public_url, format, "");
    Ok(render("scifeed feeds", &list))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_and_parses_back() {
        let list = vec![
            Outline {
                title: "Q&A <News> \"quoted\"".into(),
                xml_url: "https://f.example/a.rss?key=x&y".into(),
                html_url: "https://site.example/".into(),
                description: Some("d".into()),
            },
            Outline {
                title: "B".into(),
                xml_url: "https://f.example/b.rss".into(),
                html_url: "https://b.example/".into(),
                description: None,
            },
        ];
        let xml = String::from_utf8(render("T & co", &list)).expect("utf-8");
        assert!(
            xml.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<opml version=\"2.0\">"),
            "{xml}"
        );
        let mut reader = quick_xml::Reader::from_str(&xml);
        let mut got = Vec::new();
        assert!(xml.contains("<title>T &amp; co</title>"), "{xml}");
        loop {
            match reader.read_event().expect("well-formed") {
                Event::Eof => break,
                Event::Empty(e) if e.name().as_ref() == b"outline" => {
                    let attr = |k: &str| {
                        e.try_get_attribute(k).expect("attr").map(|a| {
                            a.decoded_and_normalized_value(
                                quick_xml::XmlVersion::Implicit1_0,
                                reader.decoder(),
                            )
                            .expect("value")
                            .into_owned()
                        })
                    };
                    got.push((attr("title"), attr("xmlUrl"), attr("htmlUrl"), attr("type")));
                }
                _ => {}
            }
        }
        assert_eq!(
            got[0],
            (
                Some("Q&A <News> \"quoted\"".into()),
                Some("https://f.example/a.rss?key=x&y".into()),
                Some("https://site.example/".into()),
                Some("rss".into())
            )
        );
        assert_eq!(got.len(), 2);
    }
}
