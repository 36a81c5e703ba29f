//! Auto-detection of article cards: a parsed listing page and its base URL in, ranked
//! [`Candidate`] listings out, each with card-relative selectors ([`CardRules`]) that
//! `select::extract_cards` can run like hand-written ones. Pure and deterministic: the same
//! page always gives the same candidates in the same order.
//!
//! How it works:
//! 1. Links to article-like URLs of the same site (slugs, numeric ids; not tag, author or
//!    section pages) are found, and each link is widened to its *unit*: the largest ancestor
//!    that holds no other article URL. A unit with headline text is a card.
//! 2. Cards that are siblings with the same tag form groups. Groups of the same card shape
//!    whose containers sit at the same distance below a common ancestor (at most two levels)
//!    are merged, deepest ancestor first: two lists side by side, or sections of one stream,
//!    become one listing. A list whose cards take turns with blocks of other cards in the
//!    same container (hero, block, hero, block) also forms one listing with those blocks'
//!    cards: two card shapes, one selector list.
//! 3. Groups of three or more cards are scored: size, headings, images, teasers, dates,
//!    authors, title length, position on the page; page chrome (nav, header, footer, aside)
//!    and widget markers (related, popular, trending, menus, tabs, ads) are penalised.
//! 4. For the best groups, selectors are derived and checked against the page: the simplest
//!    card selector that matches exactly the group's cards, and for each field the relative
//!    selector that finds the field's element in the most cards.

use std::collections::{HashMap, HashSet};

use ego_tree::NodeId;
use scraper::{ElementRef, Html, Selector};
use url::Url;

use super::date::{DateContext, DateKind, is_whole_date, parse_date};
use super::fields::{parse_author, parse_read_time};
use super::select::{CardRules, FieldSelector, compile_css, element_text};
use crate::canon;

/// Fewest cards a listing may have.
pub const MIN_CARDS: usize = 3;
/// Deepest level below a common ancestor at which two groups still merge.
const MAX_MERGE_DISTANCE: usize = 2;
/// How many candidates get selectors derived (the rest are not shown).
const MAX_CANDIDATES: usize = 5;

/// The selectors of a candidate as config text (what `[feed.select]` would hold).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct SelectorSet {
    pub card: String,
    pub title: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub link: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub author: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub read_time: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub teaser: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub date: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
}

impl SelectorSet {
    /// Compiles the selectors into rules; `None` if one does not compile (never for
    /// selectors this module derived, which were compiled once already).
    pub fn compile(&self) -> Option<CardRules> {
        let field = |s: &Option<String>| match s {
            Some(s) => FieldSelector::parse(s).ok().map(Some),
            None => Some(None),
        };
        Some(CardRules {
            card: compile_css(&self.card).ok()?,
            card_source: self.card.clone(),
            title: FieldSelector::parse(&self.title).ok()?,
            link: field(&self.link)?,
            author: field(&self.author)?,
            read_time: field(&self.read_time)?,
            teaser: field(&self.teaser)?,
            date: field(&self.date)?,
            image: field(&self.image)?,
            category: field(&self.category)?,
        })
    }

    /// `(key, selector)` for every set field, in config order.
    pub fn fields(&self) -> Vec<(&'static str, &str)> {
        let mut v = vec![("card", self.card.as_str()), ("title", self.title.as_str())];
        for (k, s) in [
            ("link", &self.link),
            ("author", &self.author),
            ("read_time", &self.read_time),
            ("teaser", &self.teaser),
            ("date", &self.date),
            ("image", &self.image),
            ("category", &self.category),
        ] {
            if let Some(s) = s {
                v.push((k, s.as_str()));
            }
        }
        v
    }
}

/// Shares of a candidate's cards that show each kind of field (0.0 to 1.0).
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct Features {
    pub headings: f64,
    pub images: f64,
    pub teasers: f64,
    pub dates: f64,
    pub authors: f64,
    /// Mean number of words in titles.
    pub title_words: f64,
    /// Where the first card sits in the document (0 = top, 1 = bottom).
    pub position: f64,
    /// Sibling lists merged into this listing.
    pub parts: usize,
}

/// One detected listing.
#[derive(Debug, Clone)]
pub struct Candidate {
    pub selectors: SelectorSet,
    pub rules: CardRules,
    pub score: f64,
    /// Cards in the group (distinct article links).
    pub cards: usize,
    /// Elements the derived card selector matches on this page.
    pub matched: usize,
    /// Whether the card selector matches exactly the detected cards.
    pub exact: bool,
    pub features: Features,
    /// Why the score was lowered ("inside <nav>", "widget marker `related`").
    pub penalties: Vec<String>,
}

/// Finds the article listings of a page, best first (at most five).
pub fn detect(doc: &Html, page_url: &Url, ctx: &DateContext<'_>) -> Vec<Candidate> {
    let page = PageIndex::new(doc, page_url);
    let units = page.units(ctx);
    let mut groups = merge_groups(&page, sibling_groups(&page, &units), &units);
    groups.extend(alternating_groups(&page, &groups, &units));
    for g in &groups {
        tracing::trace!(
            tag = %g.tag,
            classes = ?g.classes,
            parts = g.parts,
            cards = g.units.len(),
            first = %units[g.units[0]].title,
            "detect: card group"
        );
    }
    let mut scored: Vec<(f64, Vec<String>, Features, &Group)> = groups
        .iter()
        .filter(|g| g.distinct_urls(&units) >= MIN_CARDS)
        .map(|g| {
            let (s, pen, f) = score(&page, g, &units);
            (s, pen, f, g)
        })
        .collect();
    scored.sort_by(|a, b| {
        b.0.total_cmp(&a.0).then_with(|| {
            page.order(a.3.units_first(&units))
                .cmp(&page.order(b.3.units_first(&units)))
        })
    });
    let mut out: Vec<Candidate> = Vec::new();
    for (score, penalties, features, group) in scored {
        if out.len() >= MAX_CANDIDATES {
            break;
        }
        let Some(c) = derive(&page, group, &units, score, penalties, features, ctx) else {
            continue;
        };
        // Two groups can derive the same card selector (a list and one of its halves).
        if out.iter().any(|o| o.selectors.card == c.selectors.card) {
            continue;
        }
        out.push(c);
    }
    out
}

/// Element lookups shared by every step.
struct PageIndex<'a> {
    doc: &'a Html,
    base: Url,
    /// Preorder index of every element.
    order: HashMap<NodeId, usize>,
    elements: usize,
    /// Article URL id of every article link.
    link_url: HashMap<NodeId, usize>,
    urls: Vec<Url>,
    /// Distinct article URLs below each element: None, one, or many.
    below: HashMap<NodeId, Below>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Below {
    None,
    One(usize),
    Many,
}

impl Below {
    fn add(self, other: Below) -> Below {
        match (self, other) {
            (Below::None, x) | (x, Below::None) => x,
            (Below::One(a), Below::One(b)) if a == b => Below::One(a),
            _ => Below::Many,
        }
    }
}

/// A card candidate: the unit element around one article link.
#[derive(Debug, Clone)]
struct Unit {
    el: NodeId,
    url: usize,
    tag: String,
    title: String,
    title_words: usize,
    heading: bool,
    image: bool,
    teaser: bool,
    date: bool,
    author: bool,
}

#[derive(Debug, Clone)]
struct Group {
    /// Indices into the unit list, in document order.
    units: Vec<usize>,
    container: NodeId,
    tag: String,
    /// Class names every card carries.
    classes: Vec<String>,
    /// Word tokens of those classes (for telling related shapes apart).
    tokens: HashSet<String>,
    parts: usize,
    /// For a stream of alternating card shapes: one entry per shape, whose selectors are
    /// derived on their own and joined into a selector list. Empty for a one-shape group.
    shapes: Vec<Shape>,
}

/// One card shape of an alternating stream.
#[derive(Debug, Clone)]
struct Shape {
    group: Group,
    /// A selector for the blocks that hold these cards (`div.block`), tried as a scope of
    /// the card selector: the cards' own markup may also be used outside the stream.
    scope: Option<String>,
}

impl Group {
    fn distinct_urls(&self, units: &[Unit]) -> usize {
        self.units
            .iter()
            .map(|&u| units[u].url)
            .collect::<HashSet<_>>()
            .len()
    }

    fn units_first(&self, units: &[Unit]) -> NodeId {
        units[self.units[0]].el
    }
}

impl<'a> PageIndex<'a> {
    fn new(doc: &'a Html, page_url: &Url) -> Self {
        let base = super::select::document_base(doc, page_url, None);
        let all: Vec<ElementRef<'a>> = doc.root_element().descendent_elements().collect();
        let order: HashMap<NodeId, usize> =
            all.iter().enumerate().map(|(i, e)| (e.id(), i)).collect();
        let mut link_url = HashMap::new();
        let mut urls: Vec<Url> = Vec::new();
        let mut url_ids: HashMap<String, usize> = HashMap::new();
        for el in &all {
            if el.value().name() != "a" {
                continue;
            }
            let Some(url) = el
                .value()
                .attr("href")
                .and_then(|h| canon::resolve(&base, h))
            else {
                continue;
            };
            if !article_like(&url, &base) {
                continue;
            }
            let key = canon::canonical(&url);
            let id = *url_ids.entry(key).or_insert_with(|| {
                urls.push(url);
                urls.len() - 1
            });
            link_url.insert(el.id(), id);
        }
        let mut below: HashMap<NodeId, Below> = HashMap::with_capacity(all.len());
        // Reverse preorder visits children before their parents.
        for el in all.iter().rev() {
            let mut b = link_url
                .get(&el.id())
                .map_or(Below::None, |&u| Below::One(u));
            for c in el.child_elements() {
                b = b.add(below.get(&c.id()).copied().unwrap_or(Below::None));
                if b == Below::Many {
                    break;
                }
            }
            below.insert(el.id(), b);
        }
        PageIndex {
            doc,
            base,
            order,
            elements: all.len().max(1),
            link_url,
            urls,
            below,
        }
    }

    fn el(&self, id: NodeId) -> Option<ElementRef<'a>> {
        self.doc.tree.get(id).and_then(ElementRef::wrap)
    }

    fn order(&self, id: NodeId) -> usize {
        self.order.get(&id).copied().unwrap_or(usize::MAX)
    }

    fn below(&self, id: NodeId) -> Below {
        self.below.get(&id).copied().unwrap_or(Below::None)
    }

    /// Every card unit of the page, in document order, one per (element, URL).
    fn units(&self, ctx: &DateContext<'_>) -> Vec<Unit> {
        let mut seen = HashSet::new();
        let mut links: Vec<(&NodeId, &usize)> = self.link_url.iter().collect();
        links.sort_by_key(|(id, _)| self.order(**id));
        let mut out = Vec::new();
        for (&link, &url) in links {
            let Some(mut cur) = self.el(link) else {
                continue;
            };
            while let Some(parent) = cur.parent().and_then(ElementRef::wrap) {
                if matches!(parent.value().name(), "body" | "html")
                    || self.below(parent.id()) != Below::One(url)
                {
                    break;
                }
                cur = parent;
            }
            if !seen.insert(cur.id()) {
                continue;
            }
            if let Some(unit) = self.unit(cur, url, ctx) {
                out.push(unit);
            }
        }
        out.sort_by_key(|u| self.order(u.el));
        out
    }

    fn unit(&self, el: ElementRef<'_>, url: usize, ctx: &DateContext<'_>) -> Option<Unit> {
        if el
            .ancestors()
            .filter_map(ElementRef::wrap)
            .any(|a| matches!(a.value().name(), "noscript" | "template" | "script"))
        {
            return None;
        }
        let (title_el, heading) = title_element(el, &self.urls[url], &self.base, &self.link_url)?;
        let title = element_text(title_el);
        let title_words = alpha_words(&title);
        if title_words < 2 || (title_words < 3 && !heading) || title.chars().count() > 300 {
            return None;
        }
        Some(Unit {
            el: el.id(),
            url,
            tag: el.value().name().to_string(),
            title_words,
            heading,
            image: image_element(el).is_some(),
            teaser: teaser_element(el, title_el).is_some(),
            date: date_element(el, ctx).is_some(),
            author: author_element(el).is_some(),
            title,
        })
    }
}

/// Words with at least one letter ("&" and "|" do not count).
fn alpha_words(s: &str) -> usize {
    s.split_whitespace()
        .filter(|w| w.chars().any(char::is_alphabetic))
        .count()
}

fn sel(css: &'static str) -> Selector {
    Selector::parse(css).expect("static selector")
}

macro_rules! static_sel {
    ($css:expr) => {{
        static S: std::sync::OnceLock<Selector> = std::sync::OnceLock::new();
        S.get_or_init(|| sel($css))
    }};
}

/// Lower-case word tokens of an element's classes and id ("most-popular" -> most, popular).
fn marker_tokens(el: ElementRef<'_>) -> Vec<String> {
    let v = el.value();
    v.attr("class")
        .unwrap_or("")
        .split(|c: char| !c.is_ascii_alphanumeric())
        .chain(
            v.attr("id")
                .unwrap_or("")
                .split(|c: char| !c.is_ascii_alphanumeric()),
        )
        .filter(|t| !t.is_empty())
        .map(str::to_ascii_lowercase)
        .collect()
}

fn has_token(el: ElementRef<'_>, words: &[&str]) -> bool {
    marker_tokens(el)
        .iter()
        .any(|t| words.contains(&t.as_str()))
}

const HEADLINE_WORDS: &[&str] = &["headline", "heading", "hed", "title"];

/// The element holding a card's headline, and whether it is an `<h1>`-`<h6>`: a heading
/// first, then an element whose class says headline/heading/title, then the link itself.
/// Within a kind, the longest text wins (a kicker and a headline can share a class word).
fn title_element<'a>(
    card: ElementRef<'a>,
    url: &Url,
    base: &Url,
    links: &HashMap<NodeId, usize>,
) -> Option<(ElementRef<'a>, bool)> {
    let longest = |it: &mut dyn Iterator<Item = ElementRef<'a>>| {
        let mut best: Option<(usize, ElementRef<'a>)> = None;
        for el in it {
            let n = element_text(el).chars().count();
            if n > 0 && best.is_none_or(|(b, _)| n > b) {
                best = Some((n, el));
            }
        }
        best.map(|(_, e)| e)
    };
    let headings = card
        .select(static_sel!("h1, h2, h3, h4, h5, h6"))
        .filter(|h| alpha_words(&element_text(*h)) >= 2);
    if let Some(h) = longest(&mut headings.into_iter()) {
        return Some((h, true));
    }
    let classed = card
        .descendent_elements()
        .skip(1)
        .filter(|e| has_token(*e, HEADLINE_WORDS) && alpha_words(&element_text(*e)) >= 2)
        .filter(|e| e.value().name() != "a" || e.value().attr("href").is_some());
    if let Some(e) = longest(&mut classed.into_iter()) {
        return Some((e, false));
    }
    let canonical = canon::canonical(url);
    let mut anchors = card
        .select(static_sel!("a[href]"))
        .filter(|a| links.contains_key(&a.id()))
        .filter(|a| {
            a.value()
                .attr("href")
                .and_then(|h| canon::resolve(base, h))
                .is_some_and(|u| canon::canonical(&u) == canonical)
        });
    longest(&mut anchors).map(|a| (a, false))
}

fn usable_image(img: ElementRef<'_>) -> bool {
    let v = img.value();
    [
        "src",
        "data-src",
        "data-lazy-src",
        "data-original",
        "srcset",
        "data-srcset",
    ]
    .iter()
    .filter_map(|a| v.attr(a))
    .any(|s| {
        let s = s.trim();
        !s.is_empty() && !s.starts_with("data:") && !s.ends_with(".gif")
    })
}

fn image_element(card: ElementRef<'_>) -> Option<ElementRef<'_>> {
    card.select(static_sel!("img")).find(|i| usable_image(*i))
}

const TEASER_WORDS: &[&str] = &[
    "summary",
    "dek",
    "teaser",
    "excerpt",
    "description",
    "strap",
    "standfirst",
    "lede",
    "intro",
    "abstract",
    "snippet",
    "blurb",
    "deck",
    "desc",
    "subtitle",
    "synopsis",
];

/// A card's teaser: the longest paragraph-like text of eight words or more that is neither
/// the title nor around it.
fn teaser_element<'a>(card: ElementRef<'a>, title: ElementRef<'a>) -> Option<ElementRef<'a>> {
    let title_text = element_text(title);
    let mut best: Option<(usize, ElementRef<'a>)> = None;
    for el in card.descendent_elements().skip(1) {
        let name = el.value().name();
        let classed = has_token(el, TEASER_WORDS);
        if !(name == "p" || classed) {
            continue;
        }
        if el.id() == title.id()
            || title.ancestors().any(|a| a.id() == el.id())
            || el.ancestors().any(|a| a.id() == title.id())
        {
            continue;
        }
        let text = element_text(el);
        if alpha_words(&text) < 8 || text == title_text {
            continue;
        }
        let n = text.chars().count();
        if best.is_none_or(|(b, _)| n > b) {
            best = Some((n, el));
        }
    }
    best.map(|(_, e)| e)
}

/// A card's date: a `<time>`, else a short element whose whole text is a date or a relative
/// phrase ("3 hours ago", "7h").
pub(crate) fn date_element<'a>(
    card: ElementRef<'a>,
    ctx: &DateContext<'_>,
) -> Option<ElementRef<'a>> {
    if let Some(t) = card.select(static_sel!("time")).next() {
        return Some(t);
    }
    card.descendent_elements().skip(1).find(|el| {
        if el.child_elements().next().is_some() && el.value().name() != "span" {
            return false;
        }
        let t = element_text(*el);
        let n = t.chars().count();
        if n == 0 || n > 40 {
            return false;
        }
        is_whole_date(&t)
            || (n <= 20
                && parse_date(&t, ctx).is_some_and(|(_, k)| k == DateKind::Relative)
                && alpha_words(&t) <= 3)
    })
}

const AUTHOR_WORDS: &[&str] = &[
    "author",
    "authors",
    "byline",
    "creator",
    "contributor",
    "writer",
];

fn author_element(card: ElementRef<'_>) -> Option<ElementRef<'_>> {
    card.descendent_elements().skip(1).find(|el| {
        let v = el.value();
        let marked = has_token(*el, AUTHOR_WORDS)
            || v.attr("rel")
                .is_some_and(|r| r.split_whitespace().any(|x| x == "author"))
            || v.attr("itemprop").is_some_and(|p| {
                p.split_whitespace()
                    .any(|x| x == "author" || x == "creator")
            });
        marked && {
            let t = element_text(*el);
            t.chars().count() <= 100 && parse_author(&t).is_some()
        }
    })
}

/// The smallest element of a card that states a read time.
fn read_time_element(card: ElementRef<'_>) -> Option<ElementRef<'_>> {
    card.descendent_elements()
        .skip(1)
        .filter_map(|el| {
            let t = element_text(el);
            let n = t.chars().count();
            (n <= 60 && parse_read_time(&t).is_some()).then_some((n, el))
        })
        .min_by_key(|(n, _)| *n)
        .map(|(_, el)| el)
}

const CATEGORY_WORDS: &[&str] = &[
    "category",
    "categories",
    "tag",
    "tags",
    "topic",
    "topics",
    "kicker",
    "eyebrow",
    "rubric",
];

fn category_element<'a>(
    card: ElementRef<'a>,
    title: Option<ElementRef<'a>>,
) -> Option<ElementRef<'a>> {
    card.descendent_elements().skip(1).find(|el| {
        if title.is_some_and(|t| t.id() == el.id() || el.ancestors().any(|a| a.id() == t.id())) {
            return false;
        }
        let t = element_text(*el);
        has_token(*el, CATEGORY_WORDS)
            && !t.is_empty()
            && t.chars().count() <= 40
            && alpha_words(&t) <= 4
            && el.child_elements().count() <= 1
    })
}

/// Whether a URL looks like one article of the page's site: same site, not the page or site
/// root, not a tag/author/section/search page or a file, and a last segment that is a slug
/// (three or more words) or holds an id (four or more digits).
pub fn article_like(url: &Url, base: &Url) -> bool {
    if !matches!(url.scheme(), "http" | "https") {
        return false;
    }
    let (Some(host), Some(base_host)) = (url.host_str(), base.host_str()) else {
        return false;
    };
    if canon::registrable_domain(host) != canon::registrable_domain(base_host) {
        return false;
    }
    if canon::canonical(url) == canon::canonical(base) {
        return false;
    }
    let path = url.path().to_ascii_lowercase();
    let query = url.query().unwrap_or("").to_ascii_lowercase();
    if path.trim_matches('/').is_empty() && query.is_empty() {
        return false;
    }
    let mut segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    // Query-style article URLs: "/?articles.view/articleNo/52095/title/Some-Title/".
    if segments.is_empty() {
        segments = query
            .split(['/', '&', '='])
            .filter(|s| !s.is_empty())
            .collect();
    }
    const NOT_ARTICLES: &[&str] = &[
        "tag",
        "tags",
        "topic",
        "topics",
        "category",
        "categories",
        "author",
        "authors",
        "people",
        "profile",
        "profiles",
        "user",
        "users",
        "search",
        "login",
        "signin",
        "register",
        "subscribe",
        "subscription",
        "subscriptions",
        "newsletter",
        "newsletters",
        "account",
        "about",
        "contact",
        "privacy",
        "terms",
        "cookies",
        "feed",
        "rss",
        "page",
        "subject",
        "subjects",
        "section",
        "sections",
        "label",
        "labels",
        "events",
        "jobs",
        "shop",
        "store",
        "donate",
        "advertise",
        "cart",
    ];
    if segments.iter().any(|s| NOT_ARTICLES.contains(s)) {
        return false;
    }
    let Some(last) = segments.last() else {
        return false;
    };
    let (stem, ext) = match last.rsplit_once('.') {
        Some((s, e))
            if !s.is_empty() && e.len() <= 5 && e.chars().all(|c| c.is_ascii_alphanumeric()) =>
        {
            (s, Some(e))
        }
        _ => (*last, None),
    };
    if let Some(e) = ext
        && !matches!(
            e,
            "html" | "htm" | "php" | "asp" | "aspx" | "jsp" | "shtml" | "cfm"
        )
    {
        return false;
    }
    let words = stem
        .split(['-', '_', '+', ' '])
        .filter(|w| w.chars().any(char::is_alphabetic))
        .count();
    let digit_run = stem
        .split(|c: char| !c.is_ascii_digit())
        .map(str::len)
        .max()
        .unwrap_or(0);
    words >= 3 || digit_run >= 4
}

/// A class name safe to write into a selector unescaped, and not a per-card state or
/// position ("active", "odd", "rowNo3").
fn usable_class(c: &str) -> bool {
    let mut chars = c.chars();
    let ok_start = matches!(chars.next(), Some(ch) if ch.is_ascii_alphabetic() || ch == '_')
        || (c.starts_with('-') && c.chars().nth(1).is_some_and(|ch| ch.is_ascii_alphabetic()));
    ok_start
        && c.len() <= 40
        && c.chars()
            .all(|ch| ch.is_ascii_alphanumeric() || ch == '-' || ch == '_')
        && !matches!(
            c.to_ascii_lowercase().as_str(),
            "active"
                | "odd"
                | "even"
                | "first"
                | "last"
                | "selected"
                | "current"
                | "clearfix"
                | "cleared"
                | "clear"
                | "lazy"
                | "lazyload"
                | "lazyloaded"
                | "loaded"
                | "hidden"
                | "visible"
                | "show"
                | "open"
                | "in"
                | "fade"
        )
        && !has_long_number(c)
}

/// Ids and counters ("post-52095", "node-110397") differ from page to page.
fn has_long_number(s: &str) -> bool {
    s.split(|c: char| !c.is_ascii_digit()).any(|r| r.len() >= 3)
}

/// Usable class names in source order (scraper's own list is sorted, which would make
/// selectors depend on spelling rather than on what the author wrote first).
fn classes(el: ElementRef<'_>) -> Vec<String> {
    let mut v: Vec<String> = Vec::new();
    for c in el
        .value()
        .attr("class")
        .unwrap_or("")
        .split_ascii_whitespace()
    {
        if usable_class(c) && !v.iter().any(|x| x == c) {
            v.push(c.to_string());
        }
    }
    v
}

/// Layout utilities ("pb20", "col-md-6", "mt4") change with every redesign; names made of
/// words ("article-card") are what a selector should lean on.
fn utility_class(c: &str) -> bool {
    c.len() <= 4 || c.chars().any(|ch| ch.is_ascii_digit())
}

fn class_tokens(classes: &[String]) -> HashSet<String> {
    classes
        .iter()
        .flat_map(|c| {
            c.split(['-', '_'])
                .filter(|t| t.len() > 2)
                .map(str::to_ascii_lowercase)
        })
        .collect()
}

fn sibling_groups(page: &PageIndex<'_>, units: &[Unit]) -> Vec<Group> {
    let mut by_key: Vec<((NodeId, String), Vec<usize>)> = Vec::new();
    let mut index: HashMap<(NodeId, String), usize> = HashMap::new();
    for (i, u) in units.iter().enumerate() {
        let Some(parent) = page
            .el(u.el)
            .and_then(|e| e.parent())
            .and_then(ElementRef::wrap)
        else {
            continue;
        };
        let key = (parent.id(), u.tag.clone());
        match index.get(&key) {
            Some(&k) => by_key[k].1.push(i),
            None => {
                index.insert(key.clone(), by_key.len());
                by_key.push((key, vec![i]));
            }
        }
    }
    by_key
        .into_iter()
        .map(|((container, tag), members)| {
            let common = common_classes(page, units, &members);
            Group {
                tokens: class_tokens(&common),
                classes: common,
                units: members,
                container,
                tag,
                parts: 1,
                shapes: Vec::new(),
            }
        })
        .collect()
}

fn common_classes(page: &PageIndex<'_>, units: &[Unit], members: &[usize]) -> Vec<String> {
    let mut common: Option<Vec<String>> = None;
    for &m in members {
        let Some(el) = page.el(units[m].el) else {
            continue;
        };
        let c = classes(el);
        common = Some(match common {
            None => c,
            Some(prev) => prev.into_iter().filter(|x| c.contains(x)).collect(),
        });
    }
    common.unwrap_or_default()
}

/// Whether two groups hold cards of one shape: same tag, and class names or class words in
/// common (`article-sm` and `article-lg` share "article"), or no classes on either.
fn compatible(a: &Group, b: &Group) -> bool {
    if a.tag != b.tag {
        return false;
    }
    if a.classes.is_empty() && b.classes.is_empty() {
        return true;
    }
    a.classes.iter().any(|c| b.classes.contains(c))
        || a.tokens.intersection(&b.tokens).next().is_some()
}

fn ancestors_of(page: &PageIndex<'_>, id: NodeId) -> Vec<NodeId> {
    let mut v = vec![id];
    if let Some(el) = page.el(id) {
        v.extend(el.ancestors().map(|a| a.id()));
    }
    v
}

/// Merges groups of one card shape that sit at the same depth below a common ancestor,
/// deepest ancestor first, until nothing merges.
fn merge_groups(page: &PageIndex<'_>, mut groups: Vec<Group>, units: &[Unit]) -> Vec<Group> {
    loop {
        let chains: Vec<Vec<NodeId>> = groups
            .iter()
            .map(|g| ancestors_of(page, g.container))
            .collect();
        // (depth of LCA from root, lca, distance) of the best merge found.
        let mut best: Option<(usize, usize, NodeId, usize)> = None;
        for i in 0..groups.len() {
            for j in (i + 1)..groups.len() {
                if !compatible(&groups[i], &groups[j]) {
                    continue;
                }
                let Some((di, lca)) = chains[i]
                    .iter()
                    .enumerate()
                    .find(|(_, a)| chains[j].contains(a))
                    .map(|(d, a)| (d, *a))
                else {
                    continue;
                };
                let dj = chains[j]
                    .iter()
                    .position(|a| *a == lca)
                    .unwrap_or(usize::MAX);
                if di != dj || di == 0 || di > MAX_MERGE_DISTANCE {
                    continue;
                }
                let depth = chains[i].len() - di;
                let key = (depth, page.order(lca));
                if best.is_none_or(|(bd, bo, _, _)| key.0 > bd || (key.0 == bd && key.1 < bo)) {
                    best = Some((depth, page.order(lca), lca, di));
                }
            }
        }
        let Some((_, _, lca, dist)) = best else {
            return groups;
        };
        // Every group at that distance below the ancestor that fits the shape joins.
        let at: Vec<usize> = (0..groups.len())
            .filter(|&k| chains[k].get(dist) == Some(&lca))
            .collect();
        let Some(&seed) = at.iter().find(|&&k| {
            at.iter()
                .any(|&o| o != k && compatible(&groups[k], &groups[o]))
        }) else {
            return groups;
        };
        let members: Vec<usize> = at
            .iter()
            .copied()
            .filter(|&k| k == seed || compatible(&groups[seed], &groups[k]))
            .collect();
        let mut merged_units: Vec<usize> = members
            .iter()
            .flat_map(|&k| groups[k].units.clone())
            .collect();
        merged_units.sort_by_key(|&u| page.order(units[u].el));
        let parts = members.iter().map(|&k| groups[k].parts).sum();
        let classes = common_classes(page, units, &merged_units);
        let tokens: HashSet<String> = members
            .iter()
            .map(|&k| groups[k].tokens.clone())
            .reduce(|a, b| a.intersection(&b).cloned().collect())
            .unwrap_or_default();
        let merged = Group {
            units: merged_units,
            container: lca,
            tag: groups[seed].tag.clone(),
            tokens: if classes.is_empty() {
                tokens
            } else {
                class_tokens(&classes)
            },
            classes,
            parts,
            shapes: Vec::new(),
        };
        let mut rest: Vec<Group> = groups
            .into_iter()
            .enumerate()
            .filter(|(k, _)| !members.contains(k))
            .map(|(_, g)| g)
            .collect();
        rest.push(merged);
        groups = rest;
    }
}

/// Fewest turns each shape of an alternating stream takes (hero, block, hero, block).
const MIN_TURNS: usize = 2;

/// Listings that alternate two card shapes in one container: a hero card, a block of
/// smaller cards, a hero card, another block. Sibling grouping sees the heroes as one list
/// and each block's cards as lists of their own (too deep and too far apart to merge), so
/// none of those groups is the whole listing.
///
/// For every one-list group A, the container's other children that hold cards are grouped
/// by signature (`tag.class`); the children of one signature whose cards take turns with
/// A's cards, each shape at least [`MIN_TURNS`] times, join A in a new group. Inside those
/// blocks, cards in widgets or chrome stay out, and so do card tags that not every block
/// holds: a block's one-off promo is not part of the stream. The new groups are returned
/// for scoring next to the old ones, which stay candidates.
fn alternating_groups(page: &PageIndex<'_>, groups: &[Group], units: &[Unit]) -> Vec<Group> {
    let unit_of: HashMap<NodeId, usize> =
        units.iter().enumerate().map(|(i, u)| (u.el, i)).collect();
    let mut out = Vec::new();
    for a in groups
        .iter()
        .filter(|g| g.parts == 1 && g.shapes.is_empty())
    {
        let Some(container) = page.el(a.container) else {
            continue;
        };
        let a_els: HashSet<NodeId> = a.units.iter().map(|&u| units[u].el).collect();
        let mut by_sig: Vec<(String, Vec<ElementRef<'_>>)> = Vec::new();
        for child in container.child_elements() {
            if a_els.contains(&child.id()) || page.below(child.id()) == Below::None {
                continue;
            }
            let sig = signature(child);
            match by_sig.iter_mut().find(|(s, _)| *s == sig) {
                Some((_, v)) => v.push(child),
                None => by_sig.push((sig, vec![child])),
            }
        }
        for (sig, slots) in by_sig {
            if slots.len() < MIN_TURNS {
                continue;
            }
            if let Some(g) = alternate_with(page, units, &unit_of, a, &sig, &slots) {
                out.push(g);
            }
        }
    }
    out
}

/// The group of A's cards and the cards of `slots` (children of A's container with one
/// signature), if the two shapes take turns often enough.
fn alternate_with(
    page: &PageIndex<'_>,
    units: &[Unit],
    unit_of: &HashMap<NodeId, usize>,
    a: &Group,
    sig: &str,
    slots: &[ElementRef<'_>],
) -> Option<Group> {
    let container = page.el(a.container)?;
    let a_els: HashSet<NodeId> = a.units.iter().map(|&u| units[u].el).collect();
    let mut per_slot: Vec<Vec<usize>> = slots
        .iter()
        .map(|slot| {
            slot.descendent_elements()
                .filter_map(|e| unit_of.get(&e.id()).map(|&u| (e, u)))
                .filter(|(e, _)| {
                    // The card and everything up to the block: a `tab-content` or an
                    // `<aside>` inside a block is a widget, whatever the block is.
                    !std::iter::once(*e)
                        .chain(e.ancestors().filter_map(ElementRef::wrap))
                        .take_while(|x| x.id() != container.id())
                        .any(|x| is_chrome(x) || has_widget_marker(x))
                })
                .map(|(_, u)| u)
                .collect()
        })
        .collect();
    // Card tags every block holds (blocks left empty by the widget rule do not count).
    let mut common: Option<Vec<&str>> = None;
    for cards in per_slot.iter().filter(|c| !c.is_empty()) {
        let mut tags: Vec<&str> = Vec::new();
        for &u in cards {
            if !tags.contains(&units[u].tag.as_str()) {
                tags.push(units[u].tag.as_str());
            }
        }
        common = Some(match common {
            None => tags,
            Some(prev) => prev.into_iter().filter(|t| tags.contains(t)).collect(),
        });
    }
    let common = common?;
    for cards in &mut per_slot {
        cards.retain(|&u| common.contains(&units[u].tag.as_str()));
    }
    // Turns: runs of A cards and of (non-empty) blocks among the container's children.
    let filled: HashSet<NodeId> = slots
        .iter()
        .zip(&per_slot)
        .filter(|(_, c)| !c.is_empty())
        .map(|(s, _)| s.id())
        .collect();
    let (mut a_turns, mut b_turns, mut last) = (0, 0, None);
    for child in container.child_elements() {
        let kind = if a_els.contains(&child.id()) {
            true
        } else if filled.contains(&child.id()) {
            false
        } else {
            continue;
        };
        if last != Some(kind) {
            if kind {
                a_turns += 1;
            } else {
                b_turns += 1;
            }
            last = Some(kind);
        }
    }
    if a_turns < MIN_TURNS || b_turns < MIN_TURNS {
        return None;
    }
    // Cards that are blocks themselves sit right below the container, like A's, and need
    // no scope; cards inside blocks are scoped by the blocks' signature.
    let inside = slots
        .iter()
        .zip(&per_slot)
        .all(|(s, c)| c.iter().all(|&u| units[u].el != s.id()));
    let mut shapes = vec![Shape {
        group: a.clone(),
        scope: None,
    }];
    let b_units: Vec<usize> = per_slot.iter().flatten().copied().collect();
    for tag in &common {
        let members: Vec<usize> = b_units
            .iter()
            .copied()
            .filter(|&u| units[u].tag == *tag)
            .collect();
        let classes = common_classes(page, units, &members);
        shapes.push(Shape {
            group: Group {
                units: members,
                container: a.container,
                tag: (*tag).to_string(),
                tokens: class_tokens(&classes),
                classes,
                parts: 1,
                shapes: Vec::new(),
            },
            scope: inside.then(|| sig.to_string()),
        });
    }
    let mut all: Vec<usize> = a.units.iter().chain(&b_units).copied().collect();
    all.sort_by_key(|&u| page.order(units[u].el));
    all.dedup();
    Some(Group {
        units: all,
        container: a.container,
        tag: a.tag.clone(),
        classes: Vec::new(),
        tokens: HashSet::new(),
        parts: 1 + filled.len(),
        shapes,
    })
}

/// Class/id words of widgets that are not the page's main listing.
const WIDGET_WORDS: &[&str] = &[
    "related",
    "trending",
    "popular",
    "mostread",
    "most",
    "recommended",
    "recommendations",
    "promo",
    "promoted",
    "sponsor",
    "sponsored",
    "advert",
    "advertisement",
    "ad",
    "ads",
    "widget",
    "sidebar",
    "menu",
    "nav",
    "navbar",
    "navigation",
    "footer",
    "breadcrumb",
    "breadcrumbs",
    "share",
    "social",
    "newsletter",
    "comments",
    "tab",
    "tabs",
    "outbrain",
    "taboola",
    "partner",
    "partners",
    "marketplace",
];

/// Page chrome: navigation, header, footer, sidebars, by tag or ARIA role.
fn is_chrome(el: ElementRef<'_>) -> bool {
    matches!(
        el.value().name(),
        "nav" | "footer" | "aside" | "header" | "menu"
    ) || matches!(
        el.value().attr("role").unwrap_or(""),
        "navigation" | "banner" | "contentinfo" | "complementary" | "menu" | "menubar"
    )
}

fn has_widget_marker(el: ElementRef<'_>) -> bool {
    marker_tokens(el)
        .iter()
        .any(|t| WIDGET_WORDS.contains(&t.as_str()))
}

fn score(page: &PageIndex<'_>, g: &Group, units: &[Unit]) -> (f64, Vec<String>, Features) {
    let members: Vec<&Unit> = g.units.iter().map(|&u| &units[u]).collect();
    let n = g.distinct_urls(units) as f64;
    let share = |f: fn(&Unit) -> bool| {
        members.iter().filter(|u| f(u)).count() as f64 / members.len() as f64
    };
    let features = Features {
        headings: share(|u| u.heading),
        images: share(|u| u.image),
        teasers: share(|u| u.teaser),
        dates: share(|u| u.date),
        authors: share(|u| u.author),
        title_words: members.iter().map(|u| u.title_words as f64).sum::<f64>()
            / members.len() as f64,
        position: page.order(members[0].el) as f64 / page.elements as f64,
        parts: g.parts,
    };
    let mut s = (1.0 + n).ln()
        * (1.0
            + 0.5 * features.headings
            + 0.6 * features.images
            + 0.6 * features.teasers
            + 0.6 * features.dates
            + 0.3 * features.authors);
    s *= match features.title_words {
        w if w < 3.0 => 0.3,
        w if w < 5.0 => 0.8,
        _ => 1.0,
    };
    s *= 1.3 - 0.6 * features.position;
    let mut penalties = Vec::new();
    // Many tiny lists (two links under each of a dozen subject headings) are an index of
    // sections, not a stream.
    let per_part = n / g.parts as f64;
    if per_part < 2.5 {
        // Single cards gathered from all over the page are not a list at all.
        s *= if per_part < 1.5 { 0.4 } else { 0.7 };
        penalties.push(format!(
            "{} lists of about {:.0} cards each",
            g.parts,
            n / g.parts as f64
        ));
    }
    let mut chrome = false;
    let mut widget: Option<String> = None;
    if let Some(container) = page.el(g.container) {
        for a in
            std::iter::once(container).chain(container.ancestors().filter_map(ElementRef::wrap))
        {
            let name = a.value().name();
            let role = a.value().attr("role").unwrap_or("");
            if is_chrome(a) {
                if !chrome {
                    penalties.push(format!(
                        "inside <{name}{}>",
                        if role.is_empty() {
                            String::new()
                        } else {
                            format!(" role={role}")
                        }
                    ));
                }
                chrome = true;
            }
            if widget.is_none()
                && let Some(t) = marker_tokens(a)
                    .into_iter()
                    .find(|t| WIDGET_WORDS.contains(&t.as_str()))
            {
                widget = Some(t);
            }
        }
    }
    if chrome {
        s *= 0.15;
    }
    if let Some(w) = widget {
        s *= 0.5;
        penalties.push(format!("widget marker `{w}`"));
    }
    (s, penalties, features)
}

/// Derives and checks the selectors of one group.
fn derive(
    page: &PageIndex<'_>,
    g: &Group,
    units: &[Unit],
    score: f64,
    penalties: Vec<String>,
    features: Features,
    ctx: &DateContext<'_>,
) -> Option<Candidate> {
    let cards: Vec<ElementRef<'_>> = g
        .units
        .iter()
        .filter_map(|&u| page.el(units[u].el))
        .collect();
    let card_ids: HashSet<NodeId> = cards.iter().map(|c| c.id()).collect();
    let (card, matched, exact) = if g.shapes.is_empty() {
        card_selector(page, g, &cards, &card_ids, None)?
    } else {
        shapes_card_selector(page, g, units, &card_ids)?
    };

    let title_targets: Vec<Option<ElementRef<'_>>> = g
        .units
        .iter()
        .map(|&u| {
            page.el(units[u].el).and_then(|c| {
                title_element(c, &page.urls[units[u].url], &page.base, &page.link_url)
                    .map(|(t, _)| t)
            })
        })
        .collect();
    let title = field_selector(&cards, &title_targets, false)?;
    let mut set = SelectorSet {
        card,
        title,
        ..SelectorSet::default()
    };
    let share_ok = |targets: &[Option<ElementRef<'_>>], min: f64| {
        targets.iter().filter(|t| t.is_some()).count() as f64 >= (min * cards.len() as f64).max(1.0)
    };
    let images: Vec<_> = cards.iter().map(|c| image_element(*c)).collect();
    if share_ok(&images, 0.2) {
        set.image = field_selector(&cards, &images, false);
    }
    let teasers: Vec<_> = cards
        .iter()
        .zip(&title_targets)
        .map(|(c, t)| t.and_then(|t| teaser_element(*c, t)))
        .collect();
    if share_ok(&teasers, 0.3) {
        set.teaser = field_selector(&cards, &teasers, false);
    }
    let dates: Vec<_> = cards.iter().map(|c| date_element(*c, ctx)).collect();
    if share_ok(&dates, 0.3) {
        set.date = field_selector(&cards, &dates, false).map(|s| {
            let all_attr = dates
                .iter()
                .flatten()
                .all(|d| d.value().attr("datetime").is_some());
            if all_attr && !s.contains('@') {
                format!("{s}@datetime")
            } else {
                s
            }
        });
    }
    let authors: Vec<_> = cards.iter().map(|c| author_element(*c)).collect();
    if share_ok(&authors, 0.3) {
        set.author = field_selector(&cards, &authors, true);
    }
    let read_times: Vec<_> = cards.iter().map(|c| read_time_element(*c)).collect();
    if share_ok(&read_times, 0.3) {
        set.read_time = field_selector(&cards, &read_times, true);
    }
    let cats: Vec<_> = cards
        .iter()
        .zip(&title_targets)
        .map(|(c, t)| category_element(*c, *t))
        .collect();
    if share_ok(&cats, 0.3) {
        set.category = field_selector(&cards, &cats, true);
    }
    let mut rules = set.compile()?;
    // The default link is the title's; when that is not the card's article, name the link.
    let link_ok = |rules: &CardRules| {
        g.units.iter().all(|&u| {
            let Some(card) = page.el(units[u].el) else {
                return false;
            };
            super::select::card_link(card, rules, &page.base)
                .is_some_and(|l| canon::canonical(&l) == canon::canonical(&page.urls[units[u].url]))
        })
    };
    if !link_ok(&rules) {
        let link_targets: Vec<Option<ElementRef<'_>>> = g
            .units
            .iter()
            .map(|&u| {
                page.el(units[u].el).and_then(|c| {
                    c.select(static_sel!("a[href]"))
                        .find(|a| page.link_url.get(&a.id()) == Some(&units[u].url))
                })
            })
            .collect();
        if let Some(l) = field_selector(&cards, &link_targets, false) {
            set.link = Some(format!("{l}@href"));
            rules = set.compile()?;
        }
    }
    Some(Candidate {
        selectors: set,
        rules,
        score,
        cards: g.distinct_urls(units),
        matched,
        exact,
        features,
        penalties,
    })
}

/// A bare tag that any card may hold for any reason.
fn bare_generic(selector: &str) -> bool {
    matches!(
        selector,
        "span" | "div" | "a" | "li" | "em" | "strong" | "b" | "i" | "small" | "article" | "section"
    )
}

/// `tag.class.class` for an element (usable classes only, at most three).
fn signature(el: ElementRef<'_>) -> String {
    let mut s = el.value().name().to_string();
    let all = classes(el);
    let mut picked: Vec<&String> = all.iter().filter(|c| !utility_class(c)).take(2).collect();
    if picked.is_empty() {
        picked = all.iter().take(1).collect();
    }
    for c in picked {
        s.push('.');
        s.push_str(c);
    }
    s
}

fn usable_id(el: ElementRef<'_>) -> Option<&str> {
    el.value().attr("id").filter(|id| usable_class(id))
}

/// The card selector of a stream of several shapes: each shape's own selector, joined into
/// a selector list, checked as a whole against the page. Returns (selector, matched, exact).
fn shapes_card_selector(
    page: &PageIndex<'_>,
    g: &Group,
    units: &[Unit],
    ids: &HashSet<NodeId>,
) -> Option<(String, usize, bool)> {
    let mut parts: Vec<String> = Vec::new();
    for shape in &g.shapes {
        let cards: Vec<ElementRef<'_>> = shape
            .group
            .units
            .iter()
            .filter_map(|&u| page.el(units[u].el))
            .collect();
        let shape_ids: HashSet<NodeId> = cards.iter().map(|c| c.id()).collect();
        let (css, _, _) = card_selector(
            page,
            &shape.group,
            &cards,
            &shape_ids,
            shape.scope.as_deref(),
        )?;
        if !parts.contains(&css) {
            parts.push(css);
        }
    }
    let joined = parts.join(", ");
    let css = Selector::parse(&joined).ok()?;
    let matched: Vec<NodeId> = page.doc.select(&css).map(|e| e.id()).collect();
    let exact = matched.len() == ids.len() && matched.iter().all(|m| ids.contains(m));
    Some((joined, matched.len(), exact))
}

/// The simplest card selector that matches exactly the cards (scoped by `scope`, or an id
/// or class of an ancestor, when needed); else the closest one. Returns (selector, matched,
/// exact).
fn card_selector(
    page: &PageIndex<'_>,
    g: &Group,
    cards: &[ElementRef<'_>],
    ids: &HashSet<NodeId>,
    scope: Option<&str>,
) -> Option<(String, usize, bool)> {
    // Card parts: the tag, the tag with one common class, the tag with two.
    let mut parts: Vec<String> = vec![g.tag.clone()];
    for c in &g.classes {
        parts.push(format!("{}.{c}", g.tag));
    }
    if g.classes.len() >= 2 {
        parts.push(format!("{}.{}.{}", g.tag, g.classes[0], g.classes[1]));
    }
    let container = page.el(g.container)?;
    let mut scopes: Vec<String> = scope.map(str::to_string).into_iter().collect();
    for a in std::iter::once(container).chain(container.ancestors().filter_map(ElementRef::wrap)) {
        if matches!(a.value().name(), "html" | "body") {
            break;
        }
        if let Some(id) = usable_id(a) {
            scopes.push(format!("#{id}"));
            break;
        }
        if !classes(a).is_empty() {
            scopes.push(signature(a));
        }
    }
    let mut options: Vec<String> = Vec::new();
    for part in &parts {
        options.push(part.clone());
        for s in &scopes {
            options.push(format!("{s} {part}"));
        }
    }
    // Child paths from the container, when every card sits at the same path below it.
    let paths: Vec<Option<Vec<String>>> = cards
        .iter()
        .map(|c| {
            let mut steps = Vec::new();
            let mut cur = c.parent().and_then(ElementRef::wrap)?;
            while cur.id() != container.id() {
                steps.push(cur.value().name().to_string());
                cur = cur.parent().and_then(ElementRef::wrap)?;
                if steps.len() > 4 {
                    return None;
                }
            }
            steps.reverse();
            Some(steps)
        })
        .collect();
    if let Some(Some(first)) = paths.first()
        && paths.iter().all(|p| p.as_ref() == Some(first))
    {
        let mut chain = signature(container);
        for s in first {
            chain.push_str(" > ");
            chain.push_str(s);
        }
        for part in &parts {
            let child = format!("{chain} > {part}");
            options.push(child.clone());
            if let Some(scope) = scopes.last().filter(|s| s.starts_with('#')) {
                options.push(format!("{scope} {child}"));
            }
        }
    }
    // Among exact selectors the shortest wins, with layout utilities counted as long.
    let cost_of = |o: &str| {
        let utilities = o
            .split(['.', ' ', '>'])
            .filter(|c| {
                !c.is_empty()
                    && utility_class(c)
                    && c.contains(|ch: char| ch.is_ascii_digit() || ch == '-')
            })
            .count();
        o.len() + utilities * 20 + if bare_generic(o) { 15 } else { 0 }
    };
    options.sort_by_key(|o| cost_of(o));
    let mut best: Option<(usize, String, usize)> = None;
    for o in options {
        let Ok(css) = Selector::parse(&o) else {
            continue;
        };
        let matched: Vec<NodeId> = page.doc.select(&css).map(|e| e.id()).collect();
        let hit = matched.iter().filter(|m| ids.contains(m)).count();
        let cost = (ids.len() - hit) * 2 + (matched.len() - hit);
        if cost == 0 {
            return Some((o, matched.len(), true));
        }
        if best.as_ref().is_none_or(|(c, _, _)| cost < *c) {
            best = Some((cost, o, matched.len()));
        }
    }
    best.map(|(_, o, m)| (o, m, false))
}

/// Relative selectors that could find `target` inside `card`, simplest first.
fn relative_options(target: ElementRef<'_>, card: ElementRef<'_>) -> Vec<String> {
    let tag = target.value().name().to_string();
    let cls = classes(target);
    let mut v = vec![tag.clone()];
    for c in &cls {
        v.push(format!(".{c}"));
        v.push(format!("{tag}.{c}"));
    }
    if let Some(p) = target
        .value()
        .attr("itemprop")
        .and_then(|p| p.split_whitespace().next())
        && p.chars().all(|c| c.is_ascii_alphanumeric())
    {
        v.push(format!("[itemprop~={p}]"));
    }
    if cls.len() > 1 {
        v.push(signature(target));
    }
    if let Some(parent) = target.parent().and_then(ElementRef::wrap)
        && parent.id() != card.id()
    {
        let ps = signature(parent);
        v.push(format!("{ps} > {tag}"));
        if let Some(p) = parent
            .value()
            .attr("itemprop")
            .and_then(|p| p.split_whitespace().next())
            && p.chars().all(|c| c.is_ascii_alphanumeric())
        {
            v.push(format!("[itemprop~={p}] > {tag}"));
        }
        if let Some(c) = cls.first() {
            v.push(format!("{ps} > {tag}.{c}"));
        }
    }
    v
}

/// Picks the relative selector whose first match (or, for `all`, any match) is the target
/// in the most cards, penalising matches in cards without a target; a second selector is
/// joined with `,` when it finds targets the first misses.
fn field_selector(
    cards: &[ElementRef<'_>],
    targets: &[Option<ElementRef<'_>>],
    all: bool,
) -> Option<String> {
    let mut options: Vec<String> = Vec::new();
    for (c, t) in cards.iter().zip(targets) {
        if let Some(t) = t {
            for o in relative_options(*t, *c) {
                if !options.contains(&o) {
                    options.push(o);
                }
            }
        }
        // Enough variety to cover every card shape; the rest repeat.
        if options.len() > 60 {
            break;
        }
    }
    let eval = |o: &str| -> Option<(i64, Vec<bool>)> {
        let css = Selector::parse(o).ok()?;
        let mut score = 0i64;
        let mut hits = Vec::with_capacity(cards.len());
        for (c, t) in cards.iter().zip(targets) {
            let ok = match t {
                // Every match is collected (co-authors, several tags): the first must be
                // the target and the rest like it, never another kind of element.
                Some(t) if all => {
                    let mut ms = c.select(&css);
                    ms.next().is_some_and(|m| m.id() == t.id())
                        && ms.all(|m| {
                            m.ancestors().any(|a| a.id() == t.id())
                                || t.ancestors().any(|a| a.id() == m.id())
                                || signature(m) == signature(*t)
                        })
                }
                Some(t) => c.select(&css).next().is_some_and(|m| m.id() == t.id()),
                None => false,
            };
            let stray = t.is_none() && c.select(&css).next().is_some();
            let wrong = t.is_some() && !ok && c.select(&css).next().is_some();
            score += i64::from(ok) * 2 - i64::from(stray) - i64::from(wrong) * 2;
            hits.push(ok);
        }
        Some((score, hits))
    };
    // Ties go to the shorter selector, but a bare `span` or `div` is the last resort: it
    // finds anything the next redesign puts in the card.
    let cost = |o: &str| o.len() + if bare_generic(o) { 30 } else { 0 };
    let mut best: Option<(i64, String, Vec<bool>)> = None;
    for o in &options {
        if let Some((s, hits)) = eval(o)
            && best
                .as_ref()
                .is_none_or(|(b, bo, _)| s > *b || (s == *b && cost(o) < cost(bo)))
        {
            best = Some((s, o.clone(), hits));
        }
    }
    let (score, first, hits) = best.filter(|(s, _, _)| *s > 0)?;
    let missing = targets
        .iter()
        .zip(&hits)
        .filter(|(t, h)| t.is_some() && !**h)
        .count();
    if missing == 0 {
        return Some(first);
    }
    // The second selector is weighed like the first: a bare `span` is the last resort here
    // too (a second card shape's headline class beats "whatever span comes first").
    let mut best_union: Option<(i64, usize, String)> = None;
    for o in &options {
        if *o == first {
            continue;
        }
        let u = format!("{first}, {o}");
        let c = cost(o);
        if let Some((s, _)) = eval(&u)
            && s > score
            && best_union
                .as_ref()
                .is_none_or(|(b, bc, _)| s > *b || (s == *b && c < *bc))
        {
            best_union = Some((s, c, u));
        }
    }
    Some(best_union.map_or(first, |(_, _, u)| u))
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};

    use super::*;

    fn ctx() -> DateContext<'static> {
        DateContext {
            format: None,
            tz: chrono_tz::UTC,
            now: Utc
                .with_ymd_and_hms(2026, 11, 26, 12, 0, 0)
                .single()
                .expect("valid"),
        }
    }

    #[test]
    fn article_like_urls() {
        let base = Url::parse("https://www.example.org/news/").expect("url");
        let rows = [
            (
                "https://www.example.org/news/2026/11/mice-grow-new-teeth",
                true,
            ),
            ("https://example.org/62046-robot-rubiks-cube.html", true),
            ("https://www.example.org/articles/d41586-019-02659-5", true),
            (
                "https://www.example.org/?articles.view/articleNo/52095/title/Big-Gift-Science/",
                true,
            ),
            ("https://cdn.example.org/story/12345", true),
            ("https://www.example.org/", false),
            ("https://www.example.org/news/", false),
            ("https://www.example.org/topic/self-driving-cars", false),
            ("https://www.example.org/author/jane-doe-smith", false),
            (
                "https://www.example.org/?articles.list/categoryNo/2901/category/News---Opinion/",
                false,
            ),
            ("https://www.example.org/health", false),
            ("https://www.example.org/files/report-2026-final.pdf", false),
            ("https://other.net/news/2026/11/mice-grow-new-teeth", false),
            ("mailto:x@example.org", false),
        ];
        for (u, want) in rows {
            let url = Url::parse(u).expect("url");
            assert_eq!(article_like(&url, &base), want, "{u}");
        }
    }

    fn card(i: usize, extra: &str) -> String {
        format!(
            r#"<div class="card card--{i} odd"><a href="/news/story-number-{i}-of-the-day"><img src="/i/{i}.jpg"></a>
               <h3 class="card__title"><a href="/news/story-number-{i}-of-the-day">Scientists find thing number {i} in the lab</a></h3>
               <p class="card__dek">A teaser that is long enough to count as one, with more than eight words.</p>
               <span class="by">By Ann Author{i}</span> <time datetime="2026-11-2{i}">Nov 2{i}</time>{extra}</div>"#
        )
    }

    fn page() -> String {
        let cards: String = (1..=5).map(|i| card(i, "")).collect();
        let side: String = (6..=9)
            .map(|i| format!(r#"<li><a href="/news/popular-story-{i}-x">Popular story number {i} here</a></li>"#))
            .collect();
        format!(
            r#"<html><body><nav><ul>{}</ul></nav>
            <main><section id="latest"><h2>Latest</h2>{cards}</section></main>
            <aside class="sidebar"><ul class="most-popular">{side}</ul></aside>
            <footer><a href="/about">About</a></footer></body></html>"#,
            (1..=4)
                .map(|i| format!(
                    r#"<li><a href="/section-{i}/big-story-name">Menu entry {i}</a></li>"#
                ))
                .collect::<String>()
        )
    }

    #[test]
    fn finds_the_main_listing_with_field_selectors() {
        let doc = Html::parse_document(&page());
        let url = Url::parse("https://www.example.org/").expect("url");
        let found = detect(&doc, &url, &ctx());
        let best = found.first().expect("a candidate");
        assert_eq!(best.cards, 5);
        assert!(best.exact, "{:?}", best.selectors);
        assert_eq!(best.selectors.card, "div.card");
        assert_eq!(best.selectors.title, "h3");
        assert_eq!(best.selectors.teaser.as_deref(), Some("p"));
        assert_eq!(best.selectors.date.as_deref(), Some("time@datetime"));
        assert_eq!(best.selectors.image.as_deref(), Some("img"));
        assert!(
            best.selectors.author.is_none(),
            "`by` is not a byline class"
        );
        // The sidebar list scores lower: it sits in <aside> and carries a widget marker.
        if let Some(second) = found.get(1) {
            assert!(second.score < best.score / 2.0, "{second:?}");
            assert!(!second.penalties.is_empty());
        }
    }

    #[test]
    fn detection_is_deterministic() {
        let doc = Html::parse_document(&page());
        let url = Url::parse("https://www.example.org/").expect("url");
        let a: Vec<SelectorSet> = detect(&doc, &url, &ctx())
            .into_iter()
            .map(|c| c.selectors)
            .collect();
        for _ in 0..3 {
            let b: Vec<SelectorSet> = detect(&doc, &url, &ctx())
                .into_iter()
                .map(|c| c.selectors)
                .collect();
            assert_eq!(a, b);
        }
    }

    #[test]
    fn side_by_side_lists_merge_into_one_listing() {
        let col = |from: usize| -> String {
            (from..from + 3)
                .map(|i| format!(r#"<article class="story"><a href="/x/{i}-some-story-slug"><h2>Story {i} has a title</h2></a></article>"#))
                .collect()
        };
        let html = format!(
            r#"<body><div id="stream"><div class="row"><div class="col-a">{}</div><div class="col-b">{}</div></div></div></body>"#,
            col(1),
            col(4)
        );
        let doc = Html::parse_document(&html);
        let url = Url::parse("https://example.org/").expect("url");
        let best = detect(&doc, &url, &ctx())
            .into_iter()
            .next()
            .expect("candidate");
        assert_eq!(best.cards, 6);
        assert_eq!(best.features.parts, 2);
        assert_eq!(best.selectors.card, "article.story");
    }

    /// Heroes (`div.hero`, image only in a `srcset`) take turns with blocks of posts in one
    /// column; a tab widget inside one block and a titled section with the posts' markup
    /// after the last hero are not part of the stream.
    fn alternating_page(last_block: &str) -> String {
        let hero = |i: usize| {
            format!(
                r#"<div class="hero"><a href="/news/hero-story-{i}-slug"><span class="kicker">Space</span><span class="hero-title">Hero story {i} has a long title</span></a>
                   <picture><img srcset="/i/hero-{i}.jpg"></picture></div>"#
            )
        };
        let post = |i: usize| {
            format!(
                r#"<article class="post"><a href="/news/post-story-{i}-slug"><img src="/i/post-{i}.jpg"><h2>Post story {i} has a title</h2></a></article>"#
            )
        };
        let tabs: String = (1..=3)
            .map(|i| format!(r#"<div class="item"><a href="/news/tab-story-{i}-slug">Tab story {i} has a title</a></div>"#))
            .collect();
        format!(
            r#"<body><div class="column">
            {h1}<div class="block"><div class="row">{p1}{p2}</div><div class="tab-content">{tabs}</div></div>
            {h2}<div class="block">{p3}<div class="row">{p4}{p5}</div></div>
            {h3}{last_block}</div></body>"#,
            h1 = hero(1),
            h2 = hero(2),
            h3 = hero(3),
            p1 = post(1),
            p2 = post(2),
            p3 = post(3),
            p4 = post(4),
            p5 = post(5),
        )
    }

    #[test]
    fn alternating_card_shapes_form_one_listing() {
        let side: String = (6..=8)
            .map(|i| format!(r#"<article class="post"><a href="/news/post-story-{i}-slug"><h2>Post story {i} has a title</h2></a></article>"#))
            .collect();
        let html = alternating_page(&format!(
            r#"<section class="block"><h2>Featured</h2>{side}</section>"#
        ));
        let doc = Html::parse_document(&html);
        let url = Url::parse("https://example.org/").expect("url");
        let best = detect(&doc, &url, &ctx())
            .into_iter()
            .next()
            .expect("candidate");
        assert_eq!(best.cards, 8, "{best:?}");
        assert!(best.exact, "{:?}", best.selectors);
        assert_eq!(best.selectors.card, "div.hero, div.block article");
        assert_eq!(best.selectors.title, "h2, .hero-title");
        let page_url = url.clone();
        let pctx = super::super::select::PageContext {
            page_url: &page_url,
            base_url: None,
            date: ctx(),
            max_cards: 100,
        };
        let got = super::super::select::extract_cards(&doc, &best.rules, &pctx).cards;
        let titles: Vec<&str> = got.iter().map(|c| c.title.as_str()).collect();
        assert_eq!(
            titles,
            [
                "Hero story 1 has a long title",
                "Post story 1 has a title",
                "Post story 2 has a title",
                "Hero story 2 has a long title",
                "Post story 3 has a title",
                "Post story 4 has a title",
                "Post story 5 has a title",
                "Hero story 3 has a long title",
            ]
        );
        // The hero's image is the sibling picture's `srcset`: the card is the whole hero.
        assert_eq!(
            got[0].image.as_ref().map(Url::as_str),
            Some("https://example.org/i/hero-1.jpg")
        );
    }

    #[test]
    fn one_block_between_heroes_is_not_a_stream() {
        // Heroes, then a single block: the shapes do not take turns twice, so no stream.
        let html = format!(
            r#"<body><div class="column">{}</div></body>"#,
            (1..=3)
                .map(|i| format!(r#"<div class="hero"><a href="/news/hero-story-{i}-slug"><span class="hero-title">Hero story {i} has a long title</span></a></div>"#))
                .collect::<String>()
                + r#"<div class="block"><article><a href="/news/post-a-b-c"><h2>Post a has a title</h2></a></article><article><a href="/news/post-d-e-f"><h2>Post d has a title</h2></a></article></div>"#
        );
        let doc = Html::parse_document(&html);
        let url = Url::parse("https://example.org/").expect("url");
        let found = detect(&doc, &url, &ctx());
        assert!(
            found.iter().all(|c| !c.selectors.card.contains(',')),
            "{:?}",
            found.iter().map(|c| &c.selectors.card).collect::<Vec<_>>()
        );
    }

    #[test]
    fn no_listing_gives_no_candidates() {
        let doc =
            Html::parse_document("<body><p>Just text, <a href='/about'>about</a>.</p></body>");
        let url = Url::parse("https://example.org/").expect("url");
        assert!(detect(&doc, &url, &ctx()).is_empty());
    }
}
