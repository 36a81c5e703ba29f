//! Selector-driven card extraction: a parsed page plus compiled [`CardRules`] in, [`Card`]s
//! out. Pure: the page URL, base URL and date context come in as arguments.

use std::collections::HashSet;
use std::fmt;

use scraper::{ElementRef, Html, Node, Selector};
use url::Url;

use super::date::{DateContext, DateKind, parse_date};
use super::fields::{parse_author, parse_read_time};
use super::meta::{self, split_authors};
pub use super::text::element_text;
use super::text::fold_ws;
use super::{text, vocab};
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
    let title = title_el.and_then(|t| match rules.title.attr() {
        Some(_) => rules.title.value(t),
        None => Some(title_text(t)).filter(|s| !s.is_empty()),
    });
    let Some(title) = title else {
        warnings.push(Warning::NoTitle { index });
        return None;
    };
    let Some(link) = card_link(el, rules, base) else {
        warnings.push(Warning::NoLink { index, title });
        return None;
    };

    // A byline element may hold more than names ("Written by NAME | 4 min read"): the meta
    // line reader takes the names and leaves the rest to the other fields.
    let mut authors: Vec<String> = Vec::new();
    if let Some(sel) = &rules.author {
        for m in sel.matches(el) {
            let names = match sel.attr() {
                Some(_) => sel
                    .value(m)
                    .as_deref()
                    .and_then(parse_author)
                    .map(|a| split_authors(&a))
                    .unwrap_or_default(),
                None => meta::read_element(m, true, &ctx.date).authors,
            };
            for n in names {
                if !authors.contains(&n) {
                    authors.push(n);
                }
            }
        }
    }
    let read_time = rules.read_time.as_ref().and_then(|sel| {
        sel.matches(el).into_iter().find_map(|m| {
            let text = match sel.attr() {
                Some(_) => sel.value(m),
                // Parts kept apart: "<span>By A</span><span>4 min read</span>".
                None => Some(meta::line_text(m)),
            };
            text.as_deref().and_then(parse_read_time)
        })
    });
    // A teaser that is only an ellipsis (the truncation mark of an empty excerpt) says
    // nothing.
    let teaser = rules
        .teaser
        .as_ref()
        .and_then(|sel| {
            let t = sel.first(el)?;
            match sel.attr() {
                Some(_) => sel.value(t),
                None => Some(teaser_text(t)).filter(|s| !s.is_empty()),
            }
        })
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
        authors,
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
    let found = |(d, kind): (chrono::DateTime<chrono::Utc>, DateKind)| {
        Ok((Some(d), kind == DateKind::Relative))
    };
    let attr = match sel.attr() {
        Some(a) => el.value().attr(a),
        None => el.value().attr("datetime"),
    }
    .map(fold_ws)
    .filter(|a| !a.is_empty());
    if let Some(d) = attr.as_deref().and_then(|a| parse_date(a, ctx)) {
        return found(d);
    }
    if sel.attr().is_some() {
        return match attr {
            Some(a) => Err(a),
            None => Ok((None, false)),
        };
    }
    // A meta line ("Updated Nov 26 · Published Nov 25", a `<time>` inside, parts the
    // flattened text glues together): its reader knows which part is the date.
    if el.child_elements().next().is_some()
        && let Some(d) = meta::read_element(el, false, ctx).date
    {
        return found(d);
    }
    let text = element_text(el);
    if let Some(d) = parse_date(&text, ctx) {
        return found(d);
    }
    match attr {
        Some(a) => Err(a),
        None if text.is_empty() => Ok((None, false)),
        None => Err(text),
    }
}

/// A headline's text without a kicker inside it (`<h3><span class="kicker">Space</span>
/// Title</h3>` gives "Title"), unless that would leave fewer than two words.
pub fn title_text(el: ElementRef<'_>) -> String {
    // "<h2><span class=headline-intro>Kicker</span> <span class=headline>Title</span></h2>":
    // the part whose class says headline is the headline.
    if let Some(h) = el.descendent_elements().skip(1).find(|d| {
        vocab::has_marker(*d, &["headline", "hed"])
            && !vocab::has_marker(*d, vocab::KICKER_WORDS)
            && !vocab::has_marker(*d, &["intro"])
    }) {
        let own = element_text(h);
        let full = element_text(el);
        if text::alpha_words(&own) >= 2 && own.len() < full.len() {
            return own;
        }
    }
    let full = element_text(el);
    let has_kicker = el
        .descendent_elements()
        .skip(1)
        .any(|d| vocab::has_marker(d, vocab::KICKER_WORDS));
    if !has_kicker {
        return full;
    }
    let rest = text::element_text_without(el, |d| vocab::has_marker(d, vocab::KICKER_WORDS));
    if text::alpha_words(&rest) >= 2 {
        rest
    } else {
        full
    }
}

/// A teaser's text: the element's visible text without "read more" links, and without a
/// date that leads it ("Nov. 24, 2026 — Researchers found ..." gives "Researchers found
/// ..."); the date is the date field's.
pub fn teaser_text(el: ElementRef<'_>) -> String {
    let text = text::element_text_without(el, |e| {
        (e.value().name() == "a" && vocab::is_read_more(&element_text(e)))
            || vocab::is_byline_marked(e)
            || (is_action_links(e) && ends(e, el))
    });
    strip_leading_date(&text).to_string()
}

/// Whether nothing but other action runs and "read more" links follows `e` inside `root`.
fn ends(e: ElementRef<'_>, root: ElementRef<'_>) -> bool {
    let mut cur = *e;
    while cur.id() != root.id() {
        for sib in cur.next_siblings() {
            let text_ok = match sib.value() {
                Node::Text(t) => !t.chars().any(char::is_alphanumeric),
                Node::Element(_) => ElementRef::wrap(sib).is_none_or(|x| {
                    is_action_links(x)
                        || (x.value().name() == "a" && vocab::is_read_more(&element_text(x)))
                        || !element_text(x).chars().any(char::is_alphanumeric)
                }),
                _ => true,
            };
            if !text_ok {
                return false;
            }
        }
        match cur.parent() {
            Some(p) => cur = p,
            None => return false,
        }
    }
    true
}

/// Most words in one link of an action run ([`is_action_links`]): "Video", "Forum", "Add
/// comment".
const MAX_ACTION_LINK_WORDS: usize = 2;

/// A run of short links and nothing else but brackets and separators, `[ Video | Forum ]` or
/// `(Comments · Share)`: at the end of a teaser ([`ends`]) they are actions on the story,
/// not its text.
fn is_action_links(e: ElementRef<'_>) -> bool {
    if e.value().name() == "a" || !e.children().any(|c| c.value().is_element()) {
        return false;
    }
    let mut links = 0;
    for d in e.descendants() {
        match d.value() {
            Node::Element(x) if x.name() == "a" => {
                links += 1;
                let words = ElementRef::wrap(d).map_or(0, |a| text::alpha_words(&element_text(a)));
                if words > MAX_ACTION_LINK_WORDS {
                    return false;
                }
            }
            Node::Text(t) => {
                let in_link = d
                    .ancestors()
                    .take_while(|a| a.id() != e.id())
                    .any(|a| a.value().as_element().is_some_and(|x| x.name() == "a"));
                if !in_link && t.chars().any(char::is_alphanumeric) {
                    return false;
                }
            }
            _ => {}
        }
    }
    links > 0
}

/// "Nov. 24, 2026 — Text" -> "Text"; anything else unchanged.
fn strip_leading_date(text: &str) -> &str {
    if !text.bytes().take(48).any(|b| b.is_ascii_digit()) {
        return text;
    }
    for (i, sep) in text
        .char_indices()
        .take(48)
        .filter(|(_, c)| matches!(c, '—' | '–' | '|' | ':' | '-' | '·'))
    {
        let head = text[..i].trim();
        let rest = text[i + sep.len_utf8()..].trim_start();
        if !rest.is_empty() && super::date::is_whole_date(head) {
            return rest;
        }
    }
    text
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

/// The image URL of a matched element: the configured attribute, else what
/// [`image_in`] finds in the element.
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
    image_in(el, base)
}

/// The image an element shows, read by what its attributes hold rather than which one a
/// site uses: the element's own (or first descendant) `<img>` with a real URL in `src`, a
/// lazy attribute (`data-src`, `data-original`, `data-lazy-src`, ...) or a `srcset`
/// (largest candidate), a placeholder (`data:` URI, 1x1 image, "blank", "placeholder",
/// "spacer", "lazy" file) skipped; for an `<img>` in a `<picture>` with nothing real, the
/// picture's `<source>` (the one without a media query first); else an inline CSS
/// `background-image: url(...)` (or a lazy `data-bg`) on the element or inside it; else an
/// `<img>` inside `<noscript>`.
pub fn image_in(el: ElementRef<'_>, base: &Url) -> Option<Url> {
    static IMG: std::sync::OnceLock<Selector> = std::sync::OnceLock::new();
    let img_sel = IMG.get_or_init(|| Selector::parse("img").expect("static selector"));
    let own = match el.value().name() {
        "img" | "source" => picture_or_img(el, base),
        _ => el.select(img_sel).find_map(|i| picture_or_img(i, base)),
    };
    own.or_else(|| background_in(el, base))
        .or_else(|| noscript_image(el, base))
}

/// The element of `card` that [`image_in`] takes its image from, for selector derivation.
pub fn image_element<'a>(card: ElementRef<'a>, base: &Url) -> Option<ElementRef<'a>> {
    static IMG: std::sync::OnceLock<Selector> = std::sync::OnceLock::new();
    static NS: std::sync::OnceLock<Selector> = std::sync::OnceLock::new();
    let img_sel = IMG.get_or_init(|| Selector::parse("img").expect("static selector"));
    let ns = NS.get_or_init(|| Selector::parse("noscript").expect("static selector"));
    card.select(img_sel)
        .find(|i| picture_or_img(*i, base).is_some())
        .or_else(|| {
            std::iter::once(card)
                .chain(card.descendent_elements())
                .find(|e| background_of(*e, base).is_some())
        })
        .or_else(|| {
            // The element around a <noscript> fallback: image_in reads the fallback from it.
            card.select(ns)
                .filter_map(|n| n.parent().and_then(ElementRef::wrap))
                .find(|p| noscript_image(*p, base).is_some())
        })
}

/// An `<img>` (or `<source>`) and, when it holds nothing real, its `<picture>`'s sources.
fn picture_or_img(img: ElementRef<'_>, base: &Url) -> Option<Url> {
    if let Some(u) = img_url(img, base) {
        return Some(u);
    }
    let picture = img
        .parent()
        .and_then(ElementRef::wrap)
        .filter(|p| p.value().name() == "picture")?;
    let sources: Vec<ElementRef<'_>> = picture
        .child_elements()
        .filter(|c| c.value().name() == "source")
        .collect();
    sources
        .iter()
        .filter(|s| s.value().attr("media").is_none())
        .chain(sources.iter().filter(|s| s.value().attr("media").is_some()))
        .find_map(|s| img_url(*s, base))
}

fn img_url(img: ElementRef<'_>, base: &Url) -> Option<Url> {
    let v = img.value();
    let web =
        |s: &str| canon::resolve(base, s.trim()).filter(|u| matches!(u.scheme(), "http" | "https"));
    // A lazy attribute is the real image when `src` is a placeholder or missing; when both
    // exist the `src` is usually the real (often small) one that the page shows.
    let tiny = v.attr("width").is_some_and(|w| w.trim() == "1")
        && v.attr("height").is_some_and(|h| h.trim() == "1");
    let src = v.attr("src").filter(|s| !tiny && !is_placeholder(s));
    let lazy_raw = || {
        vocab::LAZY_SRC_ATTRS
            .iter()
            .filter_map(|a| v.attr(a))
            .find(|s| !is_placeholder(s) && !s.trim_start().starts_with('{'))
    };
    // A `src` beside a different lazy URL is the stand-in when the image is marked for a
    // lazy loader (class "lazy", "lazyload") or the `src` is a GIF or SVG (spinners and
    // blank frames in any language: "cargando.gif", "chargement.svg").
    let stub = src.is_some_and(|s| {
        lazy_raw().is_some_and(|l| l.trim() != s.trim())
            && (vocab::has_marker(img, &["lazy", "lazyload", "lazyloaded", "lozad", "blazy"]) || {
                let path = s.split(['?', '#']).next().unwrap_or(s).to_ascii_lowercase();
                path.ends_with(".gif") || path.ends_with(".svg")
            })
    });
    if !stub && let Some(u) = src.and_then(web) {
        return Some(u);
    }
    let lazy = lazy_raw().and_then(web);
    lazy.or_else(|| {
        vocab::SRCSET_ATTRS
            .iter()
            .filter_map(|a| v.attr(a))
            .filter_map(canon::largest_srcset)
            .filter(|s| !is_placeholder(s))
            .find_map(web)
    })
}

/// Whether an image URL is a stand-in for the real one: empty, a `data:` URI, or a file
/// whose name says so ("placeholder.png", "blank.gif", "lazy-load.svg", "1x1.gif",
/// "/img/grey.png").
pub fn is_placeholder(s: &str) -> bool {
    let s = s.trim();
    if s.is_empty() || s.starts_with("data:") || s.starts_with('#') || s == "about:blank" {
        return true;
    }
    let path = s.split(['?', '#']).next().unwrap_or(s);
    let file = path.rsplit('/').next().unwrap_or(path).to_ascii_lowercase();
    let stem = file.rsplit_once('.').map_or(file.as_str(), |(a, _)| a);
    vocab::PLACEHOLDER_STEMS.contains(&stem)
        || stem
            .split(|c: char| !c.is_ascii_alphanumeric())
            .any(|t| vocab::PLACEHOLDER_WORDS.contains(&t))
}

/// The first background image on `el` or inside it.
fn background_in(el: ElementRef<'_>, base: &Url) -> Option<Url> {
    std::iter::once(el)
        .chain(el.descendent_elements())
        .find_map(|e| background_of(e, base))
}

/// An element's inline `background-image: url(...)` (or `background: ... url(...)`), or a
/// lazy background attribute (`data-bg`, `data-background-image`).
fn background_of(el: ElementRef<'_>, base: &Url) -> Option<Url> {
    let v = el.value();
    let from_style = v.attr("style").and_then(css_background_url);
    let lazy = [
        "data-bg",
        "data-background",
        "data-background-image",
        "data-bg-src",
    ]
    .iter()
    .filter_map(|a| v.attr(a))
    .map(|s| css_background_url(s).unwrap_or(s.trim()))
    .find(|s| !s.is_empty());
    [from_style, lazy]
        .into_iter()
        .flatten()
        .filter(|s| !is_placeholder(s))
        .find_map(|s| canon::resolve(base, s))
        .filter(|u| matches!(u.scheme(), "http" | "https"))
}

/// The URL inside the first `url(...)` of a CSS `background` or `background-image`
/// declaration.
fn css_background_url(style: &str) -> Option<&str> {
    let lower = style.to_ascii_lowercase();
    let at = lower.find("background")?;
    let rel = lower[at..].find("url(")?;
    let start = at + rel + 4;
    // An unclosed `url(` runs to the end of the declaration, as CSS reads it (pages do ship
    // `style="background-image:url(/a.png"`).
    let end = start
        + style[start..]
            .find(')')
            .or_else(|| style[start..].find(';'))
            .unwrap_or(style.len() - start);
    let inner = style[start..end].trim().trim_matches(['"', '\'', ' ']);
    (!inner.is_empty()).then_some(inner)
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
    fn teaser_text_drops_leading_dates_and_read_more_links() {
        let rows = [
            (
                r#"<div><span class="d">Nov. 24, 2026 &mdash; </span>Mice grow teeth. <span><a href="/x">full story</a></span></div>"#,
                "Mice grow teeth.",
            ),
            (
                r#"<div>2026-11-24 — Mice grow teeth <a href="/x">Read more »</a></div>"#,
                "Mice grow teeth",
            ),
            (
                r#"<div>Mice: a <a href="/x">new study</a> shows teeth.</div>"#,
                "Mice: a new study shows teeth.",
            ),
            (
                r#"<div>In 2026 - the year of mice - teeth grew.</div>"#,
                "In 2026 - the year of mice - teeth grew.",
            ),
            (
                r#"<div>The parliament meets again today. <span class="author">Mit Isabella Reichert</span></div>"#,
                "The parliament meets again today.",
            ),
            // A trailing run of action links is no part of the teaser ...
            (
                r#"<div>Seals sleep in short bursts. <span class="x">[ <a href="/v">Video</a> | <a href="/f">Forum</a> ]</span></div>"#,
                "Seals sleep in short bursts.",
            ),
            (
                r#"<div>Seals sleep. <span>(<a href="/s">Share</a> &middot; <a href="/c">Add comment</a>)</span></div>"#,
                "Seals sleep.",
            ),
            // ... but a link wrapped inside prose, or a wrapper with words of its own, stays.
            (
                r#"<div>Seals <span><a href="/s">sleep in</a></span> short bursts.</div>"#,
                "Seals sleep in short bursts.",
            ),
            (
                r#"<div>Seals sleep. <span>See <a href="/v">the video</a></span></div>"#,
                "Seals sleep. See the video",
            ),
        ];
        for (html, want) in rows {
            let doc = Html::parse_fragment(html);
            let el = doc
                .select(&Selector::parse("div").expect("css"))
                .next()
                .expect("div");
            assert_eq!(teaser_text(el), want, "{html}");
        }
    }

    #[test]
    fn titles_without_kickers() {
        let rows = [
            (
                r#"<h2><a><span class="headline-intro">Exports</span> <span class="headline">Government allows arms sales</span></a></h2>"#,
                "Government allows arms sales",
            ),
            (
                r#"<h3><span class="fc-item__kicker">Space</span> <span class="js-headline-text">Mars rover finds a lake</span></h3>"#,
                "Mars rover finds a lake",
            ),
            (
                r#"<h3 class="card__title"><a class="card__title-link">Mars rover finds a lake</a></h3>"#,
                "Mars rover finds a lake",
            ),
            (
                r#"<h3><span class="kicker">Space</span> Rover</h3>"#,
                "Space Rover",
            ),
        ];
        for (html, want) in rows {
            let doc = Html::parse_fragment(html);
            let el = doc
                .select(&Selector::parse("h2, h3").expect("css"))
                .next()
                .expect("heading");
            assert_eq!(title_text(el), want, "{html}");
        }
    }

    #[test]
    fn placeholders() {
        for yes in [
            "data:image/gif;base64,R0lGOD",
            " ",
            "/img/blank.gif",
            "http://cdn.example.org/assets/site/img/ifls-placeholder.png?v=1.2.17",
            "/static/lazy-load.svg",
            "/i/1x1.gif",
            "/img/grey.png",
            "/wp-content/themes/x/images/spacer.png",
            "about:blank",
        ] {
            assert!(is_placeholder(yes), "{yes}");
        }
        for no in [
            "/img/photo.jpg",
            "/uploads/lazy-river-rafting.jpg",
            "/uploads/blank-slate.jpg",
            "/uploads/2026/11/grey-whale-1024x576.jpg",
            "/uploads/pixel-phone-review.jpg",
            "https://cdn.example.org/images/loading-dock-fire.webp",
        ] {
            assert!(!is_placeholder(no), "{no}");
        }
    }

    fn image(html: &str) -> Option<String> {
        let doc = Html::parse_fragment(html);
        let el = doc
            .select(&Selector::parse("div").expect("css"))
            .next()
            .expect("div");
        let base = Url::parse("https://news.example.org/").expect("url");
        image_in(el, &base).map(|u| u.to_string())
    }

    /// Whichever attribute holds a real image URL wins over a placeholder `src`.
    #[test]
    fn image_by_content_table() {
        let rows: &[(&str, Option<&str>)] = &[
            (
                r#"<div><img src="/a.jpg"></div>"#,
                Some("https://news.example.org/a.jpg"),
            ),
            (
                r#"<div><img src="data:image/gif;base64,R0l" data-src="/real.jpg"></div>"#,
                Some("https://news.example.org/real.jpg"),
            ),
            (
                r#"<div><img src="/img/blank.gif" data-source="/b.jpg"></div>"#,
                Some("https://news.example.org/b.jpg"),
            ),
            (
                r#"<div><img src="/x/placeholder.png" data-original="/c.jpg"></div>"#,
                Some("https://news.example.org/c.jpg"),
            ),
            (
                r#"<div><img src="/p/1x1.gif" data-lazy-src="/d.jpg"></div>"#,
                Some("https://news.example.org/d.jpg"),
            ),
            (
                r#"<div><img class="lazy" src="/spacer.gif" data-srcset="/e-400.jpg 400w, /e-800.jpg 800w"></div>"#,
                Some("https://news.example.org/e-800.jpg"),
            ),
            (
                r#"<div><img src="/t.gif" width="1" height="1" data-src="/f.jpg"></div>"#,
                Some("https://news.example.org/f.jpg"),
            ),
            (
                r#"<div><img src="/img/cargando.gif" data-original="/es.jpg"></div>"#,
                Some("https://news.example.org/es.jpg"),
            ),
            (
                r#"<div><img class="lazyload" src="/thumbs/small.jpg" data-src="/full.jpg"></div>"#,
                Some("https://news.example.org/full.jpg"),
            ),
            (
                r#"<div><img src="/thumbs/small.jpg" data-src="/full.jpg"></div>"#,
                Some("https://news.example.org/thumbs/small.jpg"),
            ),
            (
                r#"<div><picture><source media="(max-width: 360px)" data-srcset="/small.jpg"><source data-srcset="/medium.jpg"><img src="/ifls-placeholder.png" data-src="/ifls-placeholder.png"></picture></div>"#,
                Some("https://news.example.org/medium.jpg"),
            ),
            (
                r#"<div><picture><source srcset="/g.webp" type="image/webp"><img src="/g.jpg"></picture></div>"#,
                Some("https://news.example.org/g.jpg"),
            ),
            (
                r#"<div><a href="/a" style="background-image: url('/bg.jpg')"></a></div>"#,
                Some("https://news.example.org/bg.jpg"),
            ),
            (
                r#"<div style="background: #000 url(&quot;//cdn.example.org/h.jpg&quot;) no-repeat"></div>"#,
                Some("https://cdn.example.org/h.jpg"),
            ),
            // An unclosed `url(` runs to the end of the declaration, as CSS reads it.
            (
                r#"<div><div style="background-image:url(https://cdn.example.org/u.png"></div></div>"#,
                Some("https://cdn.example.org/u.png"),
            ),
            (
                r#"<div><div style="background-image:url(/u2.png; color: red"></div></div>"#,
                Some("https://news.example.org/u2.png"),
            ),
            (
                r#"<div><span class="thumb" data-bg="/thumbs/river.jpg"></span></div>"#,
                Some("https://news.example.org/thumbs/river.jpg"),
            ),
            (
                r#"<div><noscript><img src="/ns.jpg"></noscript><img src="data:image/gif;base64,R0l"></div>"#,
                Some("https://news.example.org/ns.jpg"),
            ),
            (r#"<div><img src="data:image/gif;base64,R0l"></div>"#, None),
            (
                r#"<div><video><source src="/clip.mp4"></video></div>"#,
                None,
            ),
            (r#"<div><img src="javascript:alert(1)"></div>"#, None),
        ];
        for (html, want) in rows {
            assert_eq!(image(html).as_deref(), *want, "html {html}");
        }
    }
}
