//! Selector-driven card extraction: a parsed page plus compiled [`CardRules`] in, [`Card`]s
//! out. Pure: the page URL, base URL and date context come in as arguments.

use std::collections::HashSet;
use std::fmt;

use scraper::{ElementRef, Html, Node, Selector};
use url::Url;

use super::date::{DateContext, DateKind, parse_date};
use super::fields::{fold_ws, parse_author, parse_read_time};
use crate::canon;
use crate::model::Card;

/// A field selector from the config: `CSS`, `CSS@attr`, or `@attr` (an attribute of the card
/// element itself).
#[derive(Clone)]
pub struct FieldSelector {
    source: String,
    css: Option<Selector>,
    attr: Option<String>,
}

impl fmt::Debug for FieldSelector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "FieldSelector({:?})", self.source)
    }
}

/// Why a selector string was rejected; the message is meant for the config error report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SelectorError(pub String);

impl fmt::Display for SelectorError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Compiles a CSS selector, turning scraper's error into a readable sentence.
pub fn compile_css(css: &str) -> Result<Selector, SelectorError> {
    if css.trim().is_empty() {
        return Err(SelectorError("empty selector".into()));
    }
    Selector::parse(css)
        .map_err(|e| SelectorError(format!("not a valid CSS selector: {}", describe(&e))))
}

/// scraper's own messages for some errors read "Unexpected error occurred. Please report this
/// to the developer"; say what is wrong with the selector instead.
fn describe(e: &scraper::error::SelectorErrorKind) -> String {
    use scraper::error::SelectorErrorKind as K;
    match e {
        K::UnexpectedToken => "unexpected character or token".into(),
        K::EndOfLine => "the selector ends too early".into(),
        K::ExpectedColonOnPseudoElement | K::ExpectedIdentityOnPseudoElement => {
            "malformed pseudo-element (`::name`)".into()
        }
        K::UnexpectedSelectorParseError(k) => {
            let name = format!("{k:?}");
            match name.as_str() {
                "DanglingCombinator" => "a combinator (`>`, `+`, `~`) has nothing after it".into(),
                "EmptySelector" => "empty selector (a stray comma?)".into(),
                "UnsupportedPseudoClassOrElement" => {
                    "unsupported pseudo-class or pseudo-element".into()
                }
                "ClassNeedsIdent" => "`.` must be followed by a class name".into(),
                "NoIdentForPseudo" => "`:` must be followed by a pseudo-class name".into(),
                n if n.contains("Attr") => {
                    "malformed attribute selector (`[name]`, `[name=value]`)".into()
                }
                n => {
                    let mut words = String::new();
                    for c in n.chars() {
                        if c.is_uppercase() && !words.is_empty() {
                            words.push(' ');
                        }
                        words.push(c.to_ascii_lowercase());
                    }
                    words
                }
            }
        }
        other => other.to_string(),
    }
}

/// Splits `SEL@attr` at the last `@` outside brackets, parentheses and quotes.
fn split_attr(s: &str) -> (&str, Option<&str>) {
    let (mut depth, mut quote, mut at) = (0i32, None::<char>, None);
    for (i, c) in s.char_indices() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '"' | '\'') => quote = Some(c),
            (None, '[' | '(') => depth += 1,
            (None, ']' | ')') => depth -= 1,
            (None, '@') if depth == 0 => at = Some(i),
            _ => {}
        }
    }
    match at {
        Some(i) => (&s[..i], Some(&s[i + 1..])),
        None => (s, None),
    }
}

fn valid_attr_name(a: &str) -> bool {
    let mut chars = a.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | ':' | '.'))
}

impl FieldSelector {
    /// Parses `CSS`, `CSS@attr` or `@attr`.
    pub fn parse(s: &str) -> Result<Self, SelectorError> {
        let (css, attr) = split_attr(s.trim());
        let css = css.trim();
        let attr = match attr {
            Some(a) if valid_attr_name(a.trim()) => Some(a.trim().to_ascii_lowercase()),
            Some(a) => {
                return Err(SelectorError(format!(
                    "`{a}` after `@` is not an attribute name"
                )));
            }
            None => None,
        };
        let css = if css.is_empty() {
            if attr.is_none() {
                return Err(SelectorError("empty selector".into()));
            }
            None
        } else {
            Some(compile_css(css)?)
        };
        Ok(FieldSelector {
            source: s.trim().to_string(),
            css,
            attr,
        })
    }

    /// The selector as written in the config.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// The attribute this selector reads, if any.
    pub fn attr(&self) -> Option<&str> {
        self.attr.as_deref()
    }

    /// Elements matched inside `scope` (the scope itself for a bare `@attr`).
    pub fn matches<'a>(&self, scope: ElementRef<'a>) -> Vec<ElementRef<'a>> {
        match &self.css {
            Some(css) => scope.select(css).collect(),
            None => vec![scope],
        }
    }

    fn first<'a>(&self, scope: ElementRef<'a>) -> Option<ElementRef<'a>> {
        match &self.css {
            Some(css) => scope.select(css).next(),
            None => Some(scope),
        }
    }

    /// The attribute value (when `@attr` is given) or the folded text of `el`.
    fn value(&self, el: ElementRef<'_>) -> Option<String> {
        let v = match &self.attr {
            Some(a) => fold_ws(el.value().attr(a)?),
            None => element_text(el),
        };
        (!v.is_empty()).then_some(v)
    }
}

/// The compiled selectors of one feed.
#[derive(Debug, Clone)]
pub struct CardRules {
    /// Selects the card elements in the page.
    pub card: Selector,
    /// Config text of `card`, for messages.
    pub card_source: String,
    pub title: FieldSelector,
    pub link: Option<FieldSelector>,
    pub author: Option<FieldSelector>,
    pub read_time: Option<FieldSelector>,
    pub teaser: Option<FieldSelector>,
    pub date: Option<FieldSelector>,
    pub image: Option<FieldSelector>,
    pub category: Option<FieldSelector>,
}

/// Page-level inputs of extraction.
pub struct PageContext<'a> {
    /// Where the page was fetched from.
    pub page_url: &'a Url,
    /// Configured `base_url`, overriding the page URL (saved pages read from `file://`).
    pub base_url: Option<&'a Url>,
    pub date: DateContext<'a>,
    /// Stop after this many cards (hostile pages can hold 100k).
    pub max_cards: usize,
}

/// A problem worth telling the user about that does not fail the feed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Warning {
    /// A card without a title.
    NoTitle { index: usize },
    /// A card without a usable http(s) link.
    NoLink { index: usize, title: String },
    /// A date field whose text could not be parsed.
    BadDate { title: String, text: String },
    /// More cards than `max_cards`; the rest were ignored.
    TooManyCards { matched: usize, kept: usize },
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Warning::NoTitle { index } => write!(f, "card {} skipped: no title", index + 1),
            Warning::NoLink { index, title } => {
                write!(f, "card {} skipped: no http(s) link ({title:?})", index + 1)
            }
            Warning::BadDate { title, text } => {
                write!(
                    f,
                    "unparseable date {text:?} in card {title:?}; using first-seen time"
                )
            }
            Warning::TooManyCards { matched, kept } => {
                write!(
                    f,
                    "{matched} cards matched; only the first {kept} were used (raise `max_cards` in [settings])"
                )
            }
        }
    }
}

/// What extraction found on one page.
#[derive(Debug, Default)]
pub struct Extraction {
    /// Cards in page order, without duplicate links.
    pub cards: Vec<Card>,
    /// Elements the card selector matched.
    pub matched: usize,
    pub warnings: Vec<Warning>,
}

/// The URL relative links resolve against: `<base href>` (itself resolved against the
/// configured base or page URL), else the configured base, else the page URL.
pub fn document_base(doc: &Html, page_url: &Url, base_url: Option<&Url>) -> Url {
    let outer = base_url.unwrap_or(page_url);
    // The first `<base href>` in document order counts, as in browsers. A plain scan of the
    // node arena compares tag names only, far cheaper than matching a selector per element.
    doc.tree
        .values()
        .filter_map(Node::as_element)
        .find(|e| e.name() == "base" && e.attr("href").is_some())
        .and_then(|b| b.attr("href"))
        .and_then(|h| canon::resolve(outer, h))
        .unwrap_or_else(|| outer.clone())
}

/// Extracts every card the rules find in `doc`.
pub fn extract_cards(doc: &Html, rules: &CardRules, ctx: &PageContext<'_>) -> Extraction {
    extract_card_elements(doc, rules, ctx).0
}

/// [`extract_cards`], plus the element each card came from (same order as the cards), for
/// later steps that read more from the card (dates in its text).
pub fn extract_card_elements<'a>(
    doc: &'a Html,
    rules: &CardRules,
    ctx: &PageContext<'_>,
) -> (Extraction, Vec<ElementRef<'a>>) {
    let base = document_base(doc, ctx.page_url, ctx.base_url);
    let mut out = Extraction::default();
    let mut elements = Vec::new();
    let mut seen = HashSet::new();
    for (index, card_el) in doc.select(&rules.card).enumerate() {
        out.matched += 1;
        if out.cards.len() >= ctx.max_cards {
            continue;
        }
        let Some(card) = extract_card(card_el, index, rules, &base, ctx, &mut out.warnings) else {
            continue;
        };
        if seen.insert(canon::canonical(&card.link)) {
            out.cards.push(card);
            elements.push(card_el);
        }
    }
    if out.matched > ctx.max_cards && out.cards.len() >= ctx.max_cards {
        out.warnings.push(Warning::TooManyCards {
            matched: out.matched,
            kept: ctx.max_cards,
        });
    }
    (out, elements)
}

/// The link a card element gives under `rules`: the `link` selector, else the title's link,
/// else the card's own.
pub fn card_link(el: ElementRef<'_>, rules: &CardRules, base: &Url) -> Option<Url> {
    let href = match &rules.link {
        Some(sel) => sel.first(el).and_then(|l| match sel.attr() {
            Some(a) => l.value().attr(a),
            None => href_near(l, el),
        }),
        None => rules
            .title
            .first(el)
            .and_then(|t| href_near(t, el))
            .or_else(|| href_near(el, el)),
    };
    href.and_then(|h| canon::resolve(base, h))
}

fn extract_card(
    el: ElementRef<'_>,
    index: usize,
    rules: &CardRules,
    base: &Url,
    ctx: &PageContext<'_>,
    warnings: &mut Vec<Warning>,
) -> Option<Card> {
    let title_el = rules.title.first(el);
    let Some(title) = title_el.and_then(|t| rules.title.value(t)) else {
        warnings.push(Warning::NoTitle { index });
        return None;
    };
    let Some(link) = card_link(el, rules, base) else {
        warnings.push(Warning::NoLink { index, title });
        return None;
    };

    let author = rules.author.as_ref().and_then(|sel| {
        let mut names: Vec<String> = Vec::new();
        for m in sel.matches(el) {
            if let Some(name) = sel.value(m).as_deref().and_then(parse_author)
                && !names.contains(&name)
            {
                names.push(name);
            }
        }
        (!names.is_empty()).then(|| names.join(", "))
    });
    let read_time = rules.read_time.as_ref().and_then(|sel| {
        sel.matches(el)
            .into_iter()
            .find_map(|m| sel.value(m).as_deref().and_then(parse_read_time))
    });
    // A teaser that is only an ellipsis (the truncation mark of an empty excerpt) says
    // nothing.
    let teaser = rules
        .teaser
        .as_ref()
        .and_then(|sel| sel.first(el).and_then(|t| sel.value(t)))
        .filter(|t| !t.trim_matches(['.', '\u{2026}', ' ']).is_empty());
    let (date, date_relative) = match rules
        .date
        .as_ref()
        .and_then(|sel| sel.first(el).map(|d| (sel, d)))
    {
        Some((sel, d)) => match date_of(sel, d, &ctx.date) {
            Ok(found) => found,
            Err(text) => {
                warnings.push(Warning::BadDate {
                    title: title.clone(),
                    text,
                });
                (None, false)
            }
        },
        None => (None, false),
    };
    let image = rules.image.as_ref().and_then(|sel| {
        sel.matches(el)
            .into_iter()
            .find_map(|m| image_of(sel, m, base))
    });
    let mut categories: Vec<String> = Vec::new();
    if let Some(sel) = &rules.category {
        for m in sel.matches(el) {
            if let Some(c) = sel.value(m)
                && !categories.contains(&c)
            {
                categories.push(c);
            }
        }
    }
    Some(Card {
        title,
        link,
        author,
        read_time,
        teaser,
        date,
        date_relative,
        image,
        categories,
    })
}

/// Parses the date of a matched element: the configured attribute, else a `datetime`
/// attribute, else the text. `Err` carries the text that failed.
fn date_of(
    sel: &FieldSelector,
    el: ElementRef<'_>,
    ctx: &DateContext<'_>,
) -> Result<(Option<chrono::DateTime<chrono::Utc>>, bool), String> {
    let mut candidates: Vec<String> = Vec::with_capacity(2);
    if let Some(a) = sel.attr() {
        candidates.extend(el.value().attr(a).map(fold_ws));
    } else if let Some(dt) = el.value().attr("datetime") {
        candidates.push(fold_ws(dt));
    }
    candidates.push(element_text(el));
    candidates.retain(|c| !c.is_empty());
    if candidates.is_empty() {
        return Ok((None, false));
    }
    for c in &candidates {
        if let Some((d, kind)) = parse_date(c, ctx) {
            return Ok((Some(d), kind == DateKind::Relative));
        }
    }
    Err(candidates.swap_remove(0))
}

/// The link of an element: its own `href`, else the first `a[href]` inside it, else the
/// nearest enclosing `a[href]` that is still inside the card.
fn href_near<'a>(el: ElementRef<'a>, card: ElementRef<'a>) -> Option<&'a str> {
    static A: std::sync::OnceLock<Selector> = std::sync::OnceLock::new();
    let a = A.get_or_init(|| Selector::parse("a[href], area[href]").expect("static selector"));
    if let Some(h) = el.value().attr("href") {
        return Some(h);
    }
    if let Some(h) = el.select(a).next().and_then(|x| x.value().attr("href")) {
        return Some(h);
    }
    if el.id() == card.id() {
        return None;
    }
    for anc in el.ancestors() {
        let Some(anc) = ElementRef::wrap(anc) else {
            break;
        };
        if let Some(h) = anc.value().attr("href") {
            return Some(h);
        }
        if anc.id() == card.id() {
            break;
        }
    }
    None
}

/// Attributes lazy-loading scripts put the real image URL in.
const LAZY_ATTRS: [&str; 5] = [
    "data-src",
    "data-lazy-src",
    "data-original",
    "data-lazy",
    "data-url",
];

/// The image URL of a matched element: the configured attribute, else the element's (or its
/// first descendant `img`'s) `src` / lazy `data-*` / largest `srcset` candidate, else an
/// `<img>` inside `<noscript>`.
fn image_of(sel: &FieldSelector, el: ElementRef<'_>, base: &Url) -> Option<Url> {
    if let Some(a) = sel.attr() {
        let v = el.value().attr(a)?;
        let v = if a.contains("srcset") {
            canon::largest_srcset(v)?
        } else {
            v
        };
        return canon::resolve(base, v);
    }
    static IMG: std::sync::OnceLock<Selector> = std::sync::OnceLock::new();
    let img_sel = IMG.get_or_init(|| Selector::parse("img, source").expect("static selector"));
    let img = if matches!(el.value().name(), "img" | "source") {
        Some(el)
    } else {
        el.select(img_sel).next()
    };
    if let Some(url) = img.and_then(|i| img_url(i, base)) {
        return Some(url);
    }
    noscript_image(el, base)
}

fn img_url(img: ElementRef<'_>, base: &Url) -> Option<Url> {
    let v = img.value();
    let src = v.attr("src").filter(|s| !is_placeholder(s));
    let lazy = LAZY_ATTRS
        .iter()
        .find_map(|a| v.attr(a))
        .filter(|s| !is_placeholder(s));
    let srcset = ["srcset", "data-srcset", "data-lazy-srcset"]
        .iter()
        .find_map(|a| v.attr(a))
        .and_then(canon::largest_srcset);
    // A lazy attribute is the real image when `src` is a placeholder or missing; when both
    // exist the `src` is usually the real (often small) one that the page shows.
    [src, lazy, srcset]
        .into_iter()
        .flatten()
        .find_map(|s| canon::resolve(base, s))
}

/// Inline data URIs and blank spacer GIFs stand in for lazy images.
fn is_placeholder(s: &str) -> bool {
    let s = s.trim();
    s.is_empty()
        || s.starts_with("data:")
        || s.ends_with("/blank.gif")
        || s.ends_with("/spacer.gif")
        || s.ends_with("/pixel.gif")
}

fn noscript_image(el: ElementRef<'_>, base: &Url) -> Option<Url> {
    static NS: std::sync::OnceLock<Selector> = std::sync::OnceLock::new();
    static IMG: std::sync::OnceLock<Selector> = std::sync::OnceLock::new();
    let ns = NS.get_or_init(|| Selector::parse("noscript").expect("static selector"));
    let img = IMG.get_or_init(|| Selector::parse("img").expect("static selector"));
    el.select(ns).find_map(|n| {
        let inner: String = n.text().collect();
        // The fallback markup is parsed on its own, so under the same limits as the page.
        let frag = super::parse::parse_fragment(&inner).ok()?;
        frag.select(img).find_map(|i| img_url(i, base))
    })
}

/// Elements whose text is never visible content.
fn is_hidden(name: &str) -> bool {
    matches!(name, "script" | "style" | "template" | "noscript" | "svg")
}

/// Elements that break a line when rendered: their boundaries become spaces so that
/// `<p>a</p><p>b</p>` reads "a b", while inline markup (`<em>`) joins without a gap.
fn is_block(name: &str) -> bool {
    matches!(
        name,
        "p" | "div"
            | "br"
            | "li"
            | "ul"
            | "ol"
            | "h1"
            | "h2"
            | "h3"
            | "h4"
            | "h5"
            | "h6"
            | "section"
            | "article"
            | "header"
            | "footer"
            | "figure"
            | "figcaption"
            | "blockquote"
            | "tr"
            | "td"
            | "th"
            | "dt"
            | "dd"
            | "hr"
            | "table"
    )
}

/// Visible text of an element, inline markup flattened, whitespace folded.
pub fn element_text(el: ElementRef<'_>) -> String {
    let mut raw = String::new();
    push_text(*el, &mut raw);
    fold_ws(&raw)
}

/// Iterative, not recursive: a hostile page can nest elements thousands of levels deep, and
/// recursion that deep overflows the stack.
fn push_text(node: ego_tree::NodeRef<'_, Node>, out: &mut String) {
    use ego_tree::iter::Edge;
    let mut skip_below: Option<ego_tree::NodeId> = None;
    for edge in node.traverse() {
        match edge {
            Edge::Open(n) if n.id() != node.id() && skip_below.is_none() => match n.value() {
                Node::Text(t) => out.push_str(t),
                Node::Element(e) if is_hidden(e.name()) => skip_below = Some(n.id()),
                Node::Element(e) if is_block(e.name()) => out.push(' '),
                _ => {}
            },
            Edge::Close(n) if skip_below == Some(n.id()) => skip_below = None,
            Edge::Close(n) if n.id() != node.id() && skip_below.is_none() => {
                if let Node::Element(e) = n.value()
                    && is_block(e.name())
                {
                    out.push(' ');
                }
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_attr_table() {
        let rows: &[(&str, (&str, Option<&str>))] = &[
            ("a", ("a", None)),
            ("a@href", ("a", Some("href"))),
            ("@href", ("", Some("href"))),
            ("h3 > a.title@href", ("h3 > a.title", Some("href"))),
            ("a[href*='@x']", ("a[href*='@x']", None)),
            ("a[href*=\"@x\"]@href", ("a[href*=\"@x\"]", Some("href"))),
            (
                "img:not([alt='a@b'])@data-src",
                ("img:not([alt='a@b'])", Some("data-src")),
            ),
        ];
        for (input, want) in rows {
            assert_eq!(split_attr(input), *want, "input {input:?}");
        }
    }

    #[test]
    fn field_selector_rejects_bad_input() {
        for bad in ["", "div[", "a@", "a@1x", "@", "p >", "::"] {
            assert!(
                FieldSelector::parse(bad).is_err(),
                "{bad:?} should be rejected"
            );
        }
        for good in [
            "a",
            "time@datetime",
            "@href",
            "img@data-src",
            "a.b > c:nth-child(2)",
        ] {
            assert!(FieldSelector::parse(good).is_ok(), "{good:?} should parse");
        }
    }

    #[test]
    fn element_text_flattens_inline_and_spaces_blocks() {
        let rows = [
            ("<h3>Mice <em>in</em> space</h3>", "Mice in space"),
            ("<h3>A<i>b</i>c</h3>", "Abc"),
            ("<h3><p>one</p><p>two</p></h3>", "one two"),
            (
                "<h3>x<script>var a=1</script>y<style>p{}</style></h3>",
                "xy",
            ),
            (
                "<h3>  Tom &amp; Jerry&nbsp;&#8217;s \n\t day </h3>",
                "Tom & Jerry \u{2019}s day",
            ),
            ("<h3>line<br>break</h3>", "line break"),
        ];
        let sel = Selector::parse("h3").expect("static");
        for (html, want) in rows {
            let doc = Html::parse_fragment(html);
            let el = doc.select(&sel).next().expect("h3");
            assert_eq!(element_text(el), want, "html {html:?}");
        }
    }

    #[test]
    fn placeholders() {
        assert!(is_placeholder("data:image/gif;base64,R0lGOD"));
        assert!(is_placeholder(" "));
        assert!(is_placeholder("/img/blank.gif"));
        assert!(!is_placeholder("/img/photo.jpg"));
    }
}
