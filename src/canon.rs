//! URL resolution and canonical item ids: hrefs and srcsets as found on a page in, absolute
//! http(s) URLs and stable id strings out.
//!
//! The id of an item is its canonical link, so everything here must be deterministic: the same
//! article reached with different tracking parameters or fragments must give the same string.

use url::Url;

/// Resolves an href found on a page against the page's base URL.
///
/// Whitespace around the href, and newlines (with the indentation around them) or tabs inside
/// it, are dropped: templates wrap long hrefs. Protocol-relative "//host/x" takes the base's scheme, or https when the base is not
/// http(s) (a saved page read from `file://`). Returns None for empty hrefs, fragment-only hrefs
/// ("#", "#top": they point back at the listing itself), and anything that is not http(s) after
/// resolution (javascript:, data:, mailto:, tel:, file:, ...).
pub fn resolve(base: &Url, href: &str) -> Option<Url> {
    // A newline inside an href is template wrapping, so its indentation goes with it.
    let href: String = href
        .lines()
        .map(str::trim)
        .flat_map(str::chars)
        .filter(|c| !matches!(c, '\r' | '\t'))
        .collect();
    if href.is_empty() || href.starts_with('#') {
        return None;
    }
    let url = if href.starts_with("//") && !is_web(base) {
        Url::parse(&format!("https:{href}")).ok()?
    } else {
        base.join(&href).ok()?
    };
    (is_web(&url) && url.host().is_some()).then_some(url)
}

/// Whether `url` is http(s), the only schemes scifeed follows or links to.
pub fn is_web(url: &Url) -> bool {
    matches!(url.scheme(), "http" | "https")
}

/// The registrable domain of a host, per the Public Suffix List: "news.bbc.co.uk" ->
/// "bbc.co.uk", "www.nature.com" -> "nature.com". Two hosts with the same registrable domain
/// are one site. IP addresses, single labels ("localhost") and hosts that are a public suffix
/// themselves are their own site. `host` is as [`Url::host_str`] gives it (lower case, IDNs
/// in punycode).
pub fn registrable_domain(host: &str) -> &str {
    if host.starts_with('[') || host.parse::<std::net::Ipv4Addr>().is_ok() {
        return host;
    }
    psl::domain_str(host).unwrap_or(host)
}

/// Query parameters that only say where a click came from, never which article it is.
const TRACKING_PARAMS: &[&str] = &[
    "fbclid",
    "gclid",
    "dclid",
    "msclkid",
    "mc_cid",
    "mc_eid",
    "_ga",
    "_gl",
    "igshid",
    "yclid",
    "ref_src",
    "cmpid",
    "ncid",
    "sr_share",
    "CMP",
    "ito",
    "at_medium",
    "at_campaign",
    "__twitter_impression",
];

fn is_tracking(name: &str) -> bool {
    name.get(..4)
        .is_some_and(|p| p.eq_ignore_ascii_case("utm_"))
        || TRACKING_PARAMS.contains(&name)
}

/// The item id: the canonical absolute link.
///
/// Removes the fragment and tracking parameters (`utm_*` in any case; the others as listed in
/// [`TRACKING_PARAMS`], case-sensitive), drops empty parameters and an empty "?", and keeps the
/// remaining parameters byte for byte and in order: a query can be the article's only
/// identity ("/?articles.view/articleNo/52095/..."). Scheme and host are lower-cased and default
/// ports removed by `Url` itself; path case and trailing slashes are kept.
pub fn canonical(url: &Url) -> String {
    let mut url = url.clone();
    url.set_fragment(None);
    if let Some(query) = url.query() {
        let kept = query
            .split('&')
            .filter(|p| {
                let name = p.split_once('=').map_or(*p, |(n, _)| n);
                !p.is_empty() && !is_tracking(name)
            })
            .collect::<Vec<_>>()
            .join("&");
        url.set_query((!kept.is_empty()).then_some(kept.as_str()));
    }
    url.into()
}

/// Picks the URL of the largest candidate of a srcset: the widest `w` candidate when there are
/// any, else the densest (no descriptor counts as 1x); the first wins a tie.
///
/// Follows the HTML spec's parsing algorithm, so URLs are split only at whitespace and a comma
/// only ends a candidate after its URL: "https://img/x,w_300/a.jpg 300w" keeps its comma.
/// Candidates with invalid descriptors are skipped, as browsers do.
pub fn largest_srcset(srcset: &str) -> Option<&str> {
    let mut best: Option<(&str, Size)> = None;
    for (url, size) in srcset_candidates(srcset) {
        if best.is_none_or(|(_, b)| size.beats(b)) {
            best = Some((url, size));
        }
    }
    best.map(|(url, _)| url)
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Size {
    Width(u64),
    Density(f64),
}

impl Size {
    fn beats(self, other: Size) -> bool {
        match (self, other) {
            (Size::Width(a), Size::Width(b)) => a > b,
            (Size::Density(a), Size::Density(b)) => a > b,
            // Widths are what sites use for "the big one"; a density cannot be compared to them.
            (Size::Width(_), Size::Density(_)) => true,
            (Size::Density(_), Size::Width(_)) => false,
        }
    }
}

fn srcset_candidates(s: &str) -> Vec<(&str, Size)> {
    let is_ws = |c: char| c.is_ascii_whitespace();
    let mut out = Vec::new();
    let mut rest = s;
    loop {
        rest = rest.trim_start_matches(|c: char| is_ws(c) || c == ',');
        if rest.is_empty() {
            return out;
        }
        let url_end = rest.find(is_ws).unwrap_or(rest.len());
        let raw_url = &rest[..url_end];
        rest = &rest[url_end..];
        let url = raw_url.trim_end_matches(',');
        let descriptors = if url.len() < raw_url.len() {
            Vec::new()
        } else {
            let (descriptors, after) = tokenize_descriptors(rest);
            rest = after;
            descriptors
        };
        if let Some(size) = parse_descriptors(&descriptors) {
            out.push((url, size));
        }
    }
}

/// The spec's descriptor tokenizer: splits at whitespace until a comma outside parentheses;
/// returns the descriptors and the text after the candidate.
fn tokenize_descriptors(s: &str) -> (Vec<&str>, &str) {
    let mut descriptors = Vec::new();
    let mut start: Option<usize> = None;
    let mut depth = 0usize;
    for (i, c) in s.char_indices() {
        match c {
            '(' => {
                depth += 1;
                start.get_or_insert(i);
            }
            ')' if depth > 0 => depth -= 1,
            c if depth == 0 && c.is_ascii_whitespace() => {
                if let Some(st) = start.take() {
                    descriptors.push(&s[st..i]);
                }
            }
            ',' if depth == 0 => {
                if let Some(st) = start.take() {
                    descriptors.push(&s[st..i]);
                }
                return (descriptors, &s[i + 1..]);
            }
            _ => {
                start.get_or_insert(i);
            }
        }
    }
    if let Some(st) = start {
        descriptors.push(&s[st..]);
    }
    (descriptors, "")
}

/// None when the candidate must be dropped (unknown or repeated descriptors, zero width).
fn parse_descriptors(descriptors: &[&str]) -> Option<Size> {
    let mut width = None;
    let mut density = None;
    let mut height = None;
    for d in descriptors {
        let (last, _) = d.char_indices().next_back()?;
        let (value, unit) = d.split_at(last);
        let slot_free = width.is_none() && density.is_none();
        match unit {
            "w" if slot_free && !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) => {
                width = Some(value.parse::<u64>().ok().filter(|&w| w > 0)?);
            }
            "x" if slot_free => {
                let numeric = !value.is_empty()
                    && value
                        .bytes()
                        .all(|b| b.is_ascii_digit() || b"+-.eE".contains(&b));
                density = Some(
                    value
                        .parse::<f64>()
                        .ok()
                        .filter(|x| numeric && x.is_finite() && *x >= 0.0)?,
                );
            }
            "h" if height.is_none() && value.bytes().all(|b| b.is_ascii_digit()) => {
                height = Some(value.parse::<u64>().ok().filter(|&h| h > 0)?);
            }
            _ => return None,
        }
    }
    if height.is_some() && width.is_none() {
        return None;
    }
    Some(match (width, density) {
        (Some(w), _) => Size::Width(w),
        (None, Some(x)) => Size::Density(x),
        (None, None) => Size::Density(1.0),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(s: &str) -> Url {
        Url::parse(s).expect("valid test url")
    }

    #[test]
    fn resolve_table() {
        let page = "https://www.the-scientist.com/news/index.html";
        let rows: &[(&str, &str, Option<&str>)] = &[
            (page, "/x", Some("https://www.the-scientist.com/x")),
            (
                page,
                "x.html",
                Some("https://www.the-scientist.com/news/x.html"),
            ),
            (page, "../a/b", Some("https://www.the-scientist.com/a/b")),
            (
                page,
                "?page=2",
                Some("https://www.the-scientist.com/news/index.html?page=2"),
            ),
            (
                "https://www.the-scientist.com/",
                "/?articles.view/articleNo/52095/title/University-of-Oregon/",
                Some(
                    "https://www.the-scientist.com/?articles.view/articleNo/52095/title/University-of-Oregon/",
                ),
            ),
            (page, "https://other.org/a", Some("https://other.org/a")),
            (page, "http://other.org/a", Some("http://other.org/a")),
            (page, "HTTPS://Other.ORG/A", Some("https://other.org/A")),
            (
                page,
                "//media.eurekalert.org/x.jpg",
                Some("https://media.eurekalert.org/x.jpg"),
            ),
            (
                "http://www.eurekalert.org/",
                "//media.eurekalert.org/x.jpg",
                Some("http://media.eurekalert.org/x.jpg"),
            ),
            (
                "file:///saved/page.html",
                "//media.eurekalert.org/x.jpg",
                Some("https://media.eurekalert.org/x.jpg"),
            ),
            (page, "  /x  ", Some("https://www.the-scientist.com/x")),
            (
                page,
                "\n  /articles/\n  a-b\n",
                Some("https://www.the-scientist.com/articles/a-b"),
            ),
            (page, "/a\tb", Some("https://www.the-scientist.com/ab")),
            (page, "\u{00A0}/x", Some("https://www.the-scientist.com/x")),
            (
                page,
                "/x#comments",
                Some("https://www.the-scientist.com/x#comments"),
            ),
            (page, "/a b", Some("https://www.the-scientist.com/a%20b")),
            (
                page,
                "/caf\u{e9}",
                Some("https://www.the-scientist.com/caf%C3%A9"),
            ),
            (
                page,
                "https://www.nature.com/search?page=2&order=relevance",
                Some("https://www.nature.com/search?page=2&order=relevance"),
            ),
            // negatives
            (page, "", None),
            (page, "   ", None),
            (page, "#", None),
            (page, "#top", None),
            (page, "javascript:void(0)", None),
            (page, " JavaScript:alert(1)", None),
            (page, "data:image/png;base64,AAAA", None),
            (page, "vbscript:msgbox", None),
            (page, "mailto:editor@the-scientist.com", None),
            (page, "tel:+15555550100", None),
            (page, "about:blank", None),
            (page, "file:///etc/passwd", None),
            (page, "ftp://example.org/x", None),
            ("file:///saved/page.html", "/x", None),
            (page, "http://", None),
            (page, "https://[::1", None),
        ];
        for (base, href, want) in rows {
            let got = resolve(&url(base), href);
            assert_eq!(
                got.as_ref().map(Url::as_str),
                *want,
                "href {href:?} on {base}"
            );
        }
    }

    #[test]
    fn canonical_table() {
        let rows: &[(&str, &str)] = &[
            ("https://example.com/a", "https://example.com/a"),
            ("HTTPS://EXAMPLE.COM/Path/To", "https://example.com/Path/To"),
            ("https://example.com/a/", "https://example.com/a/"),
            ("https://example.com:443/a", "https://example.com/a"),
            ("http://example.com:80/a", "http://example.com/a"),
            ("http://example.com:8080/a", "http://example.com:8080/a"),
            ("https://example.com/a#section", "https://example.com/a"),
            ("https://example.com/a#", "https://example.com/a"),
            ("https://example.com/a?", "https://example.com/a"),
            (
                "https://example.com/a?utm_source=x",
                "https://example.com/a",
            ),
            (
                "https://example.com/a?utm_source=x&utm_medium=y#f",
                "https://example.com/a",
            ),
            (
                "https://example.com/a?UTM_Source=x&Utm_campaign=y",
                "https://example.com/a",
            ),
            (
                "https://example.com/a?id=1&utm_source=x",
                "https://example.com/a?id=1",
            ),
            (
                "https://example.com/a?utm_source=x&id=1",
                "https://example.com/a?id=1",
            ),
            (
                "https://example.com/a?b=2&utm_x=1&a=1",
                "https://example.com/a?b=2&a=1",
            ),
            ("https://example.com/a?fbclid=abc", "https://example.com/a"),
            (
                "https://example.com/a?gclid=1&dclid=2&msclkid=3",
                "https://example.com/a",
            ),
            (
                "https://example.com/a?mc_cid=1&mc_eid=2",
                "https://example.com/a",
            ),
            (
                "https://example.com/a?_ga=1&_gl=2&igshid=3&yclid=4",
                "https://example.com/a",
            ),
            (
                "https://example.com/a?ref_src=twsrc&cmpid=1&ncid=2",
                "https://example.com/a",
            ),
            (
                "https://example.com/a?sr_share=x&CMP=share_btn&ito=1",
                "https://example.com/a",
            ),
            (
                "https://example.com/a?at_medium=x&at_campaign=y",
                "https://example.com/a",
            ),
            (
                "https://example.com/a?__twitter_impression=true",
                "https://example.com/a",
            ),
            (
                "https://example.com/a?id=1&&utm_source=x&",
                "https://example.com/a?id=1",
            ),
            (
                "https://example.com/a?cmp=keep",
                "https://example.com/a?cmp=keep",
            ),
            (
                "https://example.com/a?FBCLID=keep",
                "https://example.com/a?FBCLID=keep",
            ),
            (
                "https://example.com/a?utm=keep",
                "https://example.com/a?utm=keep",
            ),
            (
                "https://example.com/a?q=a%20b&x=%2F",
                "https://example.com/a?q=a%20b&x=%2F",
            ),
            ("https://example.com/a?flag", "https://example.com/a?flag"),
            (
                "https://www.the-scientist.com/?articles.view/articleNo/52095/title/University-of-Oregon/",
                "https://www.the-scientist.com/?articles.view/articleNo/52095/title/University-of-Oregon/",
            ),
            (
                "https://www.eurekalert.org/pub_releases/2018-03/uobc-crs031518.php?utm_source=rss#x",
                "https://www.eurekalert.org/pub_releases/2018-03/uobc-crs031518.php",
            ),
            (
                "https://xn--bcher-kva.example/",
                "https://xn--bcher-kva.example/",
            ),
            ("https://BÜCHER.example/", "https://xn--bcher-kva.example/"),
        ];
        for (input, want) in rows {
            assert_eq!(canonical(&url(input)), *want, "input {input:?}");
        }
    }

    #[test]
    fn registrable_domains() {
        for (host, want) in [
            ("www.nature.com", "nature.com"),
            ("news.sciencemag.org", "sciencemag.org"),
            ("www.bbc.co.uk", "bbc.co.uk"),
            // Where the old two-or-three-labels guess went wrong:
            ("www.abc.net.au", "abc.net.au"),
            ("scifeed.github.io", "scifeed.github.io"),
            ("a.b.city.kawasaki.jp", "city.kawasaki.jp"),
            ("demo.scifeed.example", "scifeed.example"),
            ("localhost", "localhost"),
            ("co.uk", "co.uk"),
            ("127.0.0.2", "127.0.0.2"),
            ("[::1]", "[::1]"),
        ] {
            assert_eq!(registrable_domain(host), want, "{host}");
        }
        assert_ne!(
            registrable_domain("127.0.0.2"),
            registrable_domain("10.0.0.2")
        );
    }

    #[test]
    fn largest_srcset_table() {
        let rows: &[(&str, Option<&str>)] = &[
            ("a.jpg 480w, b.jpg 1024w", Some("b.jpg")),
            ("b.jpg 1024w, a.jpg 480w", Some("b.jpg")),
            ("a.jpg 480w,b.jpg 1024w", Some("b.jpg")),
            ("a.jpg 480w,\n  b.jpg 1024w,\n  c.jpg 800w", Some("b.jpg")),
            ("a.jpg 1x, b.jpg 2x", Some("b.jpg")),
            ("a.jpg 1.5x, b.jpg 1x", Some("a.jpg")),
            ("a.jpg, b.jpg 2x", Some("b.jpg")),
            ("a.jpg 2x, b.jpg", Some("a.jpg")),
            ("a.jpg", Some("a.jpg")),
            ("  a.jpg  ", Some("a.jpg")),
            ("a.jpg,", Some("a.jpg")),
            ("a.jpg 300w, b.jpg 300w", Some("a.jpg")),
            ("a.jpg 300w 200h, b.jpg 100w", Some("a.jpg")),
            (
                "https://img/x,w_300/a.jpg 300w",
                Some("https://img/x,w_300/a.jpg"),
            ),
            (
                "https://img/x,w_300/a.jpg 300w, https://img/x,w_900/a.jpg 900w",
                Some("https://img/x,w_900/a.jpg"),
            ),
            (
                "https://img/c_fill,w_480/a.jpg 480w,https://img/c_fill,w_1200/a.jpg 1200w",
                Some("https://img/c_fill,w_1200/a.jpg"),
            ),
            (
                "http://www.futurity.org/wp/wp-content/uploads/2018/03/smoke_1600-480x400.jpg 480w, http://www.futurity.org/wp/wp-content/uploads/2018/03/smoke_1600-960x800.jpg 960w",
                Some(
                    "http://www.futurity.org/wp/wp-content/uploads/2018/03/smoke_1600-960x800.jpg",
                ),
            ),
            ("a.jpg 2x, b.jpg 800w", Some("b.jpg")),
            // the comma inside parentheses does not end the candidate; the unknown
            // descriptor then drops it, as browsers do
            ("a.jpg 100w (foo, bar), b.jpg 50w", Some("b.jpg")),
            ("a.jpg 480w, bad.jpg 9000q, b.jpg 640w", Some("b.jpg")),
            ("a.jpg 480w, bad.jpg 0w", Some("a.jpg")),
            ("a.jpg 480w, bad.jpg 2000w 2x", Some("a.jpg")),
            ("a.jpg 480w, bad.jpg 2000w 3000w", Some("a.jpg")),
            ("a.jpg 1x, bad.jpg 100h", Some("a.jpg")),
            ("a.jpg 1x, bad.jpg infx", Some("a.jpg")),
            ("a.jpg 1x, bad.jpg -2x", Some("a.jpg")),
            (
                "data:image/gif;base64,R0lGOD,lhAQ= 1x, b.jpg 2x",
                Some("b.jpg"),
            ),
            // negatives
            ("", None),
            ("   ", None),
            (",,, ,", None),
            ("a.jpg 10q", None),
            ("a.jpg 0w", None),
            ("a.jpg w", None),
            ("a.jpg 100w (foo, bar)", None),
            ("a.jpg 100\u{e9}", None),
        ];
        for (input, want) in rows {
            assert_eq!(largest_srcset(input), *want, "input {input:?}");
        }
    }
}
