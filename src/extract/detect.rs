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
use super::meta::{self, Meta};
use super::select::{CardRules, FieldSelector, compile_css, image_element};
use super::text::{alpha_words, element_text};
use super::vocab;
use crate::canon;

pub use weights::MIN_CARDS;
use weights::{MAX_CANDIDATES, MAX_MERGE_DISTANCE};

/// Every number detection decides by: what a card is, how listings are scored, when a
/// field selector is derived. Scores multiply; only their order matters, so the weights
/// say how much one kind of evidence counts against another.
pub mod weights {
    /// Fewest cards a listing may have.
    pub const MIN_CARDS: usize = 3;
    /// Deepest level below a common ancestor at which two groups still merge.
    pub const MAX_MERGE_DISTANCE: usize = 2;
    /// Deepest level at which zones built alike (the same tags and classes on the way down
    /// from the common ancestor) still merge.
    pub const MAX_ZONE_DISTANCE: usize = 5;
    /// How many candidates get selectors derived (the rest are not shown).
    pub const MAX_CANDIDATES: usize = 5;
    /// Fewest turns each shape of an alternating stream takes (hero, block, hero, block).
    pub const MIN_TURNS: usize = 2;
    /// Largest share of a list's cards that may link to other sites (sister sites' stories
    /// among the site's own); a list of mostly other sites' stories is a widget.
    pub const MAX_EXTERNAL_SHARE: f64 = 0.5;
    /// Most levels a headline's unit is widened past links to other articles.
    pub const MAX_SUBLINK_WIDENING: usize = 3;
    /// Most cards of a lead (feature) group that joins the listing after it.
    pub const MAX_LEAD_CARDS: usize = 2;
    /// Share of class words a lead card and the listing's cards have in common (Jaccard).
    pub const MIN_FAMILY_SIMILARITY: f64 = 0.5;

    /// A URL linked this often, always with the same text of at most [`MAX_LABEL_WORDS`]
    /// words and never as a headline, is a section label, not an article.
    pub const MIN_LABEL_LINKS: usize = 3;
    pub const MAX_LABEL_WORDS: usize = 4;
    /// A URL whose links all carry at most this many words (and no headline, image or "Read
    /// more") is a label link however often it appears.
    pub const MAX_SHORT_LABEL_WORDS: usize = 2;

    /// A card's title: at least this many words with letters (three unless it is a heading),
    /// at most this many characters.
    pub const MIN_TITLE_WORDS: usize = 2;
    pub const MIN_TITLE_WORDS_NO_HEADING: usize = 3;
    pub const MAX_TITLE_CHARS: usize = 300;
    /// A teaser has at least this many words.
    pub const MIN_TEASER_WORDS: usize = 8;
    /// A date element's text is at most this long (a relative phrase at most
    /// [`MAX_RELATIVE_DATE_CHARS`], three words).
    pub const MAX_DATE_CHARS: usize = 40;
    pub const MAX_RELATIVE_DATE_CHARS: usize = 20;
    /// Longest text piece (between tags) looked at for a date inside a meta line.
    pub const MAX_META_PIECE_BYTES: usize = 120;
    /// A read time element's text is at most this long.
    pub const MAX_READ_TIME_CHARS: usize = 60;
    /// A category label: at most this many characters and words.
    pub const MAX_CATEGORY_CHARS: usize = 40;
    pub const MAX_CATEGORY_WORDS: usize = 4;

    /// Score: `ln(1 + cards)` times one plus these weights times the share of cards that
    /// show each field.
    pub const W_HEADINGS: f64 = 0.5;
    pub const W_IMAGES: f64 = 0.6;
    pub const W_TEASERS: f64 = 0.6;
    pub const W_DATES: f64 = 0.6;
    pub const W_AUTHORS: f64 = 0.3;
    /// Listings of short titles are menus: mean title words below 3 and below 5 multiply
    /// the score by these.
    pub const SHORT_TITLES: f64 = 0.3;
    pub const SHORTISH_TITLES: f64 = 0.8;
    /// Position on the page: the score is multiplied by `TOP - SLOPE * position` (0 = top).
    pub const POSITION_TOP: f64 = 1.3;
    pub const POSITION_SLOPE: f64 = 0.6;
    /// Merged lists of fewer than 2.5 (1.5) cards each are an index of sections (scattered
    /// single cards), multiplied by these.
    pub const FEW_PER_LIST: f64 = 0.7;
    pub const ONE_PER_LIST: f64 = 0.4;
    /// Inside page chrome; below a widget marker (class words or a widget heading).
    pub const CHROME: f64 = 0.15;
    pub const WIDGET: f64 = 0.5;

    /// Share of a listing's cards that must show a field before a selector is derived for
    /// it. Teasers often show on the lead cards only, so they need fewer.
    pub const MIN_SHARE_IMAGE: f64 = 0.2;
    pub const MIN_SHARE_TEASER: f64 = 0.15;
    pub const MIN_SHARE_META: f64 = 0.3;

    /// Selector costs: characters, plus these for each layout utility class and for a bare
    /// generic tag (`span`, `div`), which the next redesign breaks.
    pub const COST_UTILITY_CLASS: usize = 20;
    pub const COST_BARE_CARD_TAG: usize = 15;
    pub const COST_BARE_FIELD_TAG: usize = 30;
    /// Most selector options tried per field.
    pub const MAX_FIELD_OPTIONS: usize = 60;
}

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
    // A list of other sites' stories ("Around the web") is no listing of this page; a few
    // sister-site stories among the site's own are part of it.
    let siblings: Vec<Group> = sibling_groups(&page, &units)
        .into_iter()
        .filter(|g| {
            let ext = g.units.iter().filter(|&&u| units[u].external).count();
            (ext as f64) <= weights::MAX_EXTERNAL_SHARE * g.units.len() as f64
        })
        .collect();
    let mut groups = merge_groups(&page, siblings, &units);
    groups.extend(alternating_groups(&page, &groups, &units));
    groups.extend(lead_groups(&page, &groups, &units));
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
    /// Article URL id of every article link to the page's own site.
    link_url: HashMap<NodeId, usize>,
    /// Article URL id of every article-like link to another site (a sister site's stories
    /// in the list: they count only among the site's own cards, see
    /// [`weights::MAX_EXTERNAL_SHARE`]).
    ext_url: HashMap<NodeId, usize>,
    /// Both maps in one, for finding a card's own links.
    any_url: HashMap<NodeId, usize>,
    urls: Vec<Url>,
    /// Whether each URL is on another site.
    external: Vec<bool>,
    /// Distinct own-site article URLs below each element: None, one, or many.
    below: HashMap<NodeId, Below>,
    /// The same counting every article-like URL, for widening links to other sites.
    below_all: HashMap<NodeId, Below>,
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
    /// The article is on another site (a sister site's story in the list).
    external: bool,
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
        let mut ext_url = HashMap::new();
        let mut urls: Vec<Url> = Vec::new();
        let mut external: Vec<bool> = Vec::new();
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
            if !article_path(&url, &base) {
                continue;
            }
            let own = same_site(&url, &base);
            let key = canon::canonical(&url);
            let id = *url_ids.entry(key).or_insert_with(|| {
                urls.push(url);
                external.push(!own);
                urls.len() - 1
            });
            if own {
                link_url.insert(el.id(), id);
            } else {
                ext_url.insert(el.id(), id);
            }
        }
        // A URL that many links share, always with the same short label and never as a
        // headline, is a section or tag page ("Science & Environment" under every card), not
        // an article, however article-like its path. (An article's own links differ: an
        // image, its headline, "Read more".)
        // So is a URL whose every link is a label of one or two words ("Computer Sciences"),
        // never a headline, an image or a "Read more": a card's own title needs three words
        // or a heading.
        struct Label {
            links: usize,
            text: Option<String>,
            same: bool,
            words: usize,
            headline: bool,
            card_link: bool,
        }
        let mut labels: Vec<Label> = (0..urls.len())
            .map(|_| Label {
                links: 0,
                text: None,
                same: true,
                words: 0,
                headline: false,
                card_link: false,
            })
            .collect();
        let is_heading =
            |h: ElementRef<'_>| matches!(h.value().name(), "h1" | "h2" | "h3" | "h4" | "h5" | "h6");
        for (&el, &u) in &link_url {
            let Some(a) = doc.tree.get(el).and_then(ElementRef::wrap) else {
                continue;
            };
            let text = element_text(a).to_lowercase();
            let l = &mut labels[u];
            l.links += 1;
            l.words = l.words.max(alpha_words(&text));
            l.card_link |= text.is_empty()
                || vocab::is_read_more(&text)
                || a.descendent_elements().any(|d| d.value().name() == "img");
            l.headline |= a.ancestors().filter_map(ElementRef::wrap).any(is_heading)
                || a.descendent_elements().any(is_heading);
            match &l.text {
                Some(t) if *t != text => l.same = false,
                Some(_) => {}
                None => l.text = Some(text),
            }
        }
        link_url.retain(|_, u| {
            let l = &labels[*u];
            let shared_label = l.same
                && l.links >= weights::MIN_LABEL_LINKS
                && l.words <= weights::MAX_LABEL_WORDS;
            let short_label = l.words <= weights::MAX_SHORT_LABEL_WORDS && !l.card_link;
            l.headline || !(shared_label || short_label)
        });
        let count_below = |links: &dyn Fn(NodeId) -> Option<usize>| {
            let mut below: HashMap<NodeId, Below> = HashMap::with_capacity(all.len());
            // Reverse preorder visits children before their parents.
            for el in all.iter().rev() {
                let mut b = links(el.id()).map_or(Below::None, Below::One);
                for c in el.child_elements() {
                    b = b.add(below.get(&c.id()).copied().unwrap_or(Below::None));
                    if b == Below::Many {
                        break;
                    }
                }
                below.insert(el.id(), b);
            }
            below
        };
        let below = count_below(&|id| link_url.get(&id).copied());
        let below_all = if ext_url.is_empty() {
            below.clone()
        } else {
            count_below(&|id| link_url.get(&id).or_else(|| ext_url.get(&id)).copied())
        };
        let any_url: HashMap<NodeId, usize> = link_url
            .iter()
            .chain(ext_url.iter())
            .map(|(k, v)| (*k, *v))
            .collect();
        PageIndex {
            doc,
            base,
            order,
            elements: all.len().max(1),
            link_url,
            ext_url,
            any_url,
            urls,
            external,
            below,
            below_all,
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
        let mut links: Vec<(&NodeId, &usize)> =
            self.link_url.iter().chain(self.ext_url.iter()).collect();
        links.sort_by_key(|(id, _)| self.order(**id));
        let mut out = Vec::new();
        for (&link, &url) in links {
            let Some(mut cur) = self.el(link) else {
                continue;
            };
            // A link to another site widens counting every site's links, so it never takes
            // in a neighbouring card of the page's own site.
            let below = if self.external[url] {
                &self.below_all
            } else {
                &self.below
            };
            while let Some(parent) = cur.parent().and_then(ElementRef::wrap) {
                if matches!(parent.value().name(), "body" | "html")
                    || below.get(&parent.id()).copied().unwrap_or(Below::None) != Below::One(url)
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
        self.widen_past_sublinks(out, ctx)
    }

    /// A card that also links to other articles ("Related: ..." sublinks under it) stops
    /// the widening at its headline, leaving its image, teaser and byline outside. A unit
    /// with a heading is widened past such links, up to [`weights::MAX_SUBLINK_WIDENING`]
    /// levels, while the wider element holds no other story (a unit with a heading, an
    /// image or a teaser: a list of unheaded cards below a hero is not its sublinks).
    fn widen_past_sublinks(&self, units: Vec<Unit>, ctx: &DateContext<'_>) -> Vec<Unit> {
        // Another story is a unit with a heading, or a card of its own (an image or a
        // teaser): a sublink is a bare link.
        let headed: Vec<NodeId> = units
            .iter()
            .filter(|u| u.heading || u.image || u.teaser)
            .map(|u| u.el)
            .collect();
        let holds_other_headline = |p: ElementRef<'_>, own: NodeId| {
            headed.iter().any(|&h| {
                h != own
                    && self
                        .el(h)
                        .is_some_and(|e| e.ancestors().any(|a| a.id() == p.id()))
            })
        };
        let mut out = Vec::with_capacity(units.len());
        for u in units {
            if !u.heading || self.below(u.el) == Below::Many {
                out.push(u);
                continue;
            }
            let Some(mut cur) = self.el(u.el) else {
                out.push(u);
                continue;
            };
            for _ in 0..weights::MAX_SUBLINK_WIDENING {
                let Some(p) = cur.parent().and_then(ElementRef::wrap) else {
                    break;
                };
                if matches!(p.value().name(), "body" | "html") || holds_other_headline(p, u.el) {
                    break;
                }
                cur = p;
            }
            match (cur.id() != u.el)
                .then(|| self.unit(cur, u.url, ctx))
                .flatten()
            {
                Some(wider) => out.push(wider),
                None => out.push(u),
            }
        }
        out.sort_by_key(|u| self.order(u.el));
        out.dedup_by_key(|u| u.el);
        out
    }

    fn unit(&self, el: ElementRef<'_>, url: usize, ctx: &DateContext<'_>) -> Option<Unit> {
        // A sponsored item among the stories is an ad, not a card.
        if vocab::has_marker(el, vocab::AD_WORDS) {
            return None;
        }
        if el
            .ancestors()
            .filter_map(ElementRef::wrap)
            .any(|a| matches!(a.value().name(), "noscript" | "template" | "script"))
        {
            return None;
        }
        let (title_el, heading) = title_element(el, &self.urls[url], &self.base, &self.any_url)?;
        // A unit that is itself the heading (`<h3><a>Title</a></h3>`) is headed too.
        let is_heading =
            |e: ElementRef<'_>| matches!(e.value().name(), "h1" | "h2" | "h3" | "h4" | "h5" | "h6");
        let heading = heading
            || is_heading(el)
            || std::iter::once(title_el)
                .chain(title_el.ancestors().filter_map(ElementRef::wrap))
                .take_while(|a| a.id() != el.id())
                .any(is_heading);
        let title = super::select::title_text(title_el);
        let title_words = alpha_words(&title);
        if title_words < weights::MIN_TITLE_WORDS
            || (title_words < weights::MIN_TITLE_WORDS_NO_HEADING && !heading)
            || title.chars().count() > weights::MAX_TITLE_CHARS
        {
            return None;
        }
        Some(Unit {
            el: el.id(),
            url,
            external: self.external[url],
            tag: el.value().name().to_string(),
            title_words,
            heading,
            image: image_element(el, &self.base).is_some(),
            teaser: teaser_element(el, title_el).is_some(),
            date: date_elements(el, Some(title_el), ctx).is_some(),
            author: author_elements(el, Some(title_el), ctx).is_some(),
            title,
        })
    }
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
    // The headline is the card's top heading: a dek set as a lower heading ("<h2>Title</h2>
    // <h3>Dek</h3>") is often longer.
    let headings: Vec<ElementRef<'a>> = card
        .select(static_sel!("h1, h2, h3, h4, h5, h6"))
        .filter(|h| alpha_words(&element_text(*h)) >= 2)
        .collect();
    let top = headings.iter().map(|h| h.value().name()).min();
    if let Some(h) = longest(
        &mut headings
            .iter()
            .copied()
            .filter(|h| Some(h.value().name()) == top),
    ) {
        return Some((h, true));
    }
    let classed = card
        .descendent_elements()
        .skip(1)
        .filter(|e| {
            vocab::has_marker(*e, vocab::HEADLINE_WORDS) && alpha_words(&element_text(*e)) >= 2
        })
        .filter(|e| e.value().name() != "a" || e.value().attr("href").is_some());
    if let Some(e) = longest(&mut classed.into_iter()) {
        return Some((e, false));
    }
    let canonical = canon::canonical(url);
    // The card may itself be the link (`<a class="card">` around everything).
    let mut anchors = std::iter::once(card)
        .filter(|c| c.value().name() == "a")
        .chain(card.select(static_sel!("a[href]")))
        .filter(|a| links.contains_key(&a.id()))
        .filter(|a| {
            a.value()
                .attr("href")
                .and_then(|h| canon::resolve(base, h))
                .is_some_and(|u| canon::canonical(&u) == canonical)
        });
    let a = longest(&mut anchors)?;
    // A link around the whole card (image, headline, teaser, meta) has the headline in its
    // first block of text.
    Some((first_text_block(a).unwrap_or(a), false))
}

/// The first element inside a link that holds only inline text of two words or more, when
/// the link holds blocks; not a kicker, a date or a meta line.
fn first_text_block(link: ElementRef<'_>) -> Option<ElementRef<'_>> {
    let has_blocks = link
        .descendent_elements()
        .skip(1)
        .any(|d| super::text::is_block(d.value().name()));
    if !has_blocks {
        return None;
    }
    link.descendent_elements().skip(1).find(|e| {
        let name = e.value().name();
        if super::text::is_hidden(name) || !inline_only(*e) {
            return false;
        }
        if vocab::has_marker(*e, vocab::KICKER_WORDS) {
            return false;
        }
        let t = element_text(*e);
        let words = alpha_words(&t);
        words >= 2
            && !is_whole_date(&t)
            && !super::fields::strip_author_prefix(&t).1
            && (words >= 3 || !meta::may_hold_date(&t))
    })
}

/// A card's teaser: the longest text of [`weights::MIN_TEASER_WORDS`] words or more that is
/// neither the title nor around it: a `<p>`, an element whose class says teaser, or any
/// element holding only inline text that reads as prose (not a Title Case headline).
fn teaser_element<'a>(card: ElementRef<'a>, title: ElementRef<'a>) -> Option<ElementRef<'a>> {
    let title_text = element_text(title);
    let mut best: Option<(usize, ElementRef<'a>)> = None;
    for el in card.descendent_elements().skip(1) {
        let name = el.value().name();
        let classed = vocab::has_marker(el, vocab::TEASER_WORDS);
        if super::text::is_hidden(name)
            || !(name == "p" || classed || (name != "a" && inline_only(el)))
        {
            continue;
        }
        if el.id() == title.id()
            || title.ancestors().any(|a| a.id() == el.id())
            || el.ancestors().any(|a| a.id() == title.id())
        {
            continue;
        }
        let text = super::select::teaser_text(el);
        if alpha_words(&text) < weights::MIN_TEASER_WORDS || text == title_text {
            continue;
        }
        if !(name == "p" || classed || reads_as_prose(&text)) {
            continue;
        }
        let n = text.chars().count();
        if best.is_none_or(|(b, _)| n > b) {
            best = Some((n, el));
        }
    }
    best.map(|(_, e)| e)
}

/// Whether an element holds text and inline markup only (no blocks, lists or headings).
fn inline_only(el: ElementRef<'_>) -> bool {
    !el.descendent_elements()
        .skip(1)
        .any(|d| super::text::is_block(d.value().name()) || d.value().name() == "img")
}

/// Prose, not a headline or a list of labels: most words start in lower case.
fn reads_as_prose(text: &str) -> bool {
    let words: Vec<&str> = text
        .split_whitespace()
        .filter(|w| w.chars().next().is_some_and(char::is_alphabetic))
        .collect();
    let lower = words
        .iter()
        .filter(|w| w.chars().next().is_some_and(char::is_lowercase))
        .count();
    !words.is_empty() && lower * 2 > words.len()
}

/// A card's date: a `<time>`, else a short element whose whole text is a date or a relative
/// phrase ("3 hours ago", "7h"), else a meta line that states one ("By NAME · Nov. 26, 2026").
pub(crate) fn date_element<'a>(
    card: ElementRef<'a>,
    ctx: &DateContext<'_>,
) -> Option<ElementRef<'a>> {
    date_elements(card, None, ctx).map(|(small, _)| small)
}

/// [`date_element`] as (the element holding just the date, the meta line around it).
fn date_elements<'a>(
    card: ElementRef<'a>,
    title: Option<ElementRef<'a>>,
    ctx: &DateContext<'_>,
) -> Option<(ElementRef<'a>, ElementRef<'a>)> {
    if let Some(t) = card.select(static_sel!("time")).next() {
        return Some((t, t));
    }
    let whole = card.descendent_elements().skip(1).find(|el| {
        if el.child_elements().next().is_some() && el.value().name() != "span" {
            return false;
        }
        let t = element_text(*el);
        let n = t.chars().count();
        if n == 0 || n > weights::MAX_DATE_CHARS {
            return false;
        }
        is_whole_date(&t)
            || (n <= weights::MAX_RELATIVE_DATE_CHARS
                && parse_date(&t, ctx).is_some_and(|(_, k)| k == DateKind::Relative)
                && alpha_words(&t) <= 3)
    });
    if let Some(w) = whole {
        let block = w
            .ancestors()
            .filter_map(ElementRef::wrap)
            .take_while(|a| a.id() != card.id())
            .take_while(|a| element_text(*a).chars().count() <= meta::MAX_LINE_CHARS)
            .last()
            .unwrap_or(w);
        return Some((w, block));
    }
    meta_date_element(card, title, ctx)
}

/// A date inside a meta line ("By NAME · Nov. 26, 2026 · 4 min read"): found from the text
/// that holds a year or a relative phrase, so cards without one cost a scan of their text
/// and nothing more (this runs for every undated card of every feed). Returns the smallest
/// element that gives the date and the line around it.
fn meta_date_element<'a>(
    card: ElementRef<'a>,
    title: Option<ElementRef<'a>>,
    ctx: &DateContext<'_>,
) -> Option<(ElementRef<'a>, ElementRef<'a>)> {
    let mut tried: Vec<NodeId> = Vec::new();
    for node in card.descendants() {
        let scraper::Node::Text(t) = node.value() else {
            continue;
        };
        // A meta line is made of short pieces; a long text piece is a teaser sentence.
        if t.len() > weights::MAX_META_PIECE_BYTES || !meta::may_hold_date(t) {
            continue;
        }
        let mut block: Option<ElementRef<'a>> = None;
        for anc in node.ancestors().filter_map(ElementRef::wrap) {
            if anc.id() == card.id() {
                break;
            }
            if title.is_some_and(|t| t.id() == anc.id())
                || super::text::is_hidden(anc.value().name())
                || matches!(anc.value().name(), "h1" | "h2" | "h3" | "h4" | "h5" | "h6")
            {
                block = None;
                break;
            }
            if element_text(anc).chars().count() > meta::MAX_LINE_CHARS {
                break;
            }
            block = Some(anc);
        }
        let Some(block) = block else {
            continue;
        };
        if tried.contains(&block.id()) {
            continue;
        }
        tried.push(block.id());
        let m = meta::read_element(block, false, ctx);
        if m.date.is_some() {
            let small = narrow(block, |x| x.date == m.date, ctx);
            return Some((small, block));
        }
    }
    None
}

/// A card's byline: (the smallest element that gives all its names, the meta line).
fn author_elements<'a>(
    card: ElementRef<'a>,
    title: Option<ElementRef<'a>>,
    ctx: &DateContext<'_>,
) -> Option<(ElementRef<'a>, ElementRef<'a>)> {
    let (block, m) = meta_blocks(card, title, ctx)
        .into_iter()
        .find(|(_, m)| !m.authors.is_empty())?;
    let small = narrow(block, |x| x.authors == m.authors, ctx);
    Some((small, block))
}

/// A card's read time: (the smallest element that states it, the meta line).
fn read_time_elements<'a>(
    card: ElementRef<'a>,
    title: Option<ElementRef<'a>>,
    ctx: &DateContext<'_>,
) -> Option<(ElementRef<'a>, ElementRef<'a>)> {
    let (block, m) = meta_blocks(card, title, ctx)
        .into_iter()
        .find(|(_, m)| m.read_time.is_some())?;
    let small = narrow(block, |x| x.read_time == m.read_time, ctx);
    Some((small, block))
}

/// The meta lines of a card, in page order: the outermost elements outside the headline
/// whose text is a short line ([`meta::MAX_LINE_CHARS`]) that states an author, a read time
/// or a date, read by content ([`meta::read_element`]), whatever their classes.
fn meta_blocks<'a>(
    card: ElementRef<'a>,
    title: Option<ElementRef<'a>>,
    ctx: &DateContext<'_>,
) -> Vec<(ElementRef<'a>, Meta)> {
    let mut out = Vec::new();
    let mut stack: Vec<ElementRef<'a>> = card.child_elements().collect();
    stack.reverse();
    while let Some(el) = stack.pop() {
        if title.is_some_and(|t| t.id() == el.id())
            || matches!(
                el.value().name(),
                "script" | "style" | "noscript" | "template" | "svg"
            )
        {
            continue;
        }
        let holds_title = title.is_some_and(|t| t.ancestors().any(|a| a.id() == el.id()));
        if !holds_title {
            let n = element_text(el).chars().count();
            if n == 0 {
                continue;
            }
            if n <= meta::MAX_LINE_CHARS {
                let m = meta::read_element(el, false, ctx);
                if !m.is_empty() {
                    out.push((el, m));
                }
                // A short line that states nothing has no part that does.
                continue;
            }
        }
        let mut children: Vec<ElementRef<'a>> = el.child_elements().collect();
        children.reverse();
        stack.extend(children);
    }
    out
}

/// The deepest element inside `block` whose own meta line still says what `keep` wants.
fn narrow<'a>(
    block: ElementRef<'a>,
    keep: impl Fn(&Meta) -> bool,
    ctx: &DateContext<'_>,
) -> ElementRef<'a> {
    let mut el = block;
    'down: loop {
        for c in el.child_elements() {
            if keep(&meta::read_element(c, false, ctx)) {
                el = c;
                continue 'down;
            }
        }
        return el;
    }
}

fn category_element<'a>(
    card: ElementRef<'a>,
    title: Option<ElementRef<'a>>,
) -> Option<ElementRef<'a>> {
    card.descendent_elements().skip(1).find(|el| {
        if title.is_some_and(|t| t.id() == el.id() || el.ancestors().any(|a| a.id() == t.id())) {
            return false;
        }
        let t = element_text(*el);
        vocab::has_marker(*el, vocab::CATEGORY_WORDS)
            && !t.is_empty()
            && t.chars().count() <= weights::MAX_CATEGORY_CHARS
            && alpha_words(&t) <= weights::MAX_CATEGORY_WORDS
            && el.child_elements().count() <= 1
    })
}

/// Whether a URL looks like one article of the page's site: same site, not the page or site
/// root, not a tag/author/section/search page or a file, and a last segment that is a slug
/// (three or more words) or holds an id (four or more digits).
pub fn article_like(url: &Url, base: &Url) -> bool {
    same_site(url, base) && article_path(url, base)
}

fn same_site(url: &Url, base: &Url) -> bool {
    match (url.host_str(), base.host_str()) {
        (Some(host), Some(base_host)) => {
            canon::registrable_domain(host) == canon::registrable_domain(base_host)
        }
        _ => false,
    }
}

/// [`article_like`] without the site: whether the URL's path reads like one article.
fn article_path(url: &Url, base: &Url) -> bool {
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
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
    // A taxonomy word names a section page (`/topics/health`, `/tag/climate`), but with a
    // section and a slug after it the URL is an article filed under that section
    // (`/blog/topics/sustainability/five-years-of-renewable-energy`).
    let n = segments.len();
    if segments.iter().enumerate().any(|(i, s)| {
        vocab::NOT_ARTICLE_SEGMENTS.contains(s)
            && !(vocab::TAXONOMY_SEGMENTS.contains(s) && i + 2 < n)
    }) {
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
    // A blog's archive path (`/2019/09/short_.html`) dates the page under it: an article
    // whatever its slug says.
    let dated_dirs = segments.windows(2).rev().skip(1).any(|w| {
        w[0].len() == 4
            && w[0]
                .parse::<u16>()
                .is_ok_and(|y| (1990..=2100).contains(&y))
            && w[1].len() <= 2
            && w[1].parse::<u8>().is_ok_and(|m| (1..=12).contains(&m))
    });
    words >= 3 || digit_run >= 4 || dated_dirs
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
        && !vocab::STATE_CLASSES.contains(&c.to_ascii_lowercase().as_str())
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
                if di != dj
                    || di == 0
                    || di > weights::MAX_ZONE_DISTANCE
                    || (di > MAX_MERGE_DISTANCE
                        && !twin_paths(page, &chains[i][..di], &chains[j][..dj]))
                    || zone_widget(page, &chains[i][..di], &groups[i], units).is_some()
                    || zone_widget(page, &chains[j][..dj], &groups[j], units).is_some()
                {
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
            .filter(|&k| {
                k == seed
                    || (compatible(&groups[seed], &groups[k])
                        && (dist <= MAX_MERGE_DISTANCE
                            || twin_paths(page, &chains[seed][..dist], &chains[k][..dist]))
                        && zone_widget(page, &chains[k][..dist], &groups[k], units).is_none())
            })
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

/// Listings that open with a large feature card (or two) before the small cards of the same
/// family: the lead sits in its own wrapper, so sibling grouping sees a group of one next
/// to the list. A group L of at most [`weights::MAX_LEAD_CARDS`] cards joins a following
/// listing G when both sit within [`MAX_MERGE_DISTANCE`] of a common ancestor, no other card
/// lies between them, L's branch has no zone heading of its own and no widget marker, and
/// the cards are of one family: their class words overlap by
/// [`weights::MIN_FAMILY_SIMILARITY`] (`promo promo--hero` and `promo promo--stacked`).
/// The new groups are scored next to the old ones.
fn lead_groups(page: &PageIndex<'_>, groups: &[Group], units: &[Unit]) -> Vec<Group> {
    let mut out = Vec::new();
    let order_of = |u: usize| page.order(units[u].el);
    for g in groups
        .iter()
        .filter(|g| g.shapes.is_empty() && g.distinct_urls(units) >= MIN_CARDS)
    {
        let first = order_of(g.units[0]);
        let g_chain = ancestors_of(page, g.container);
        let sample: Vec<usize> = g.units.iter().take(3).copied().collect();
        let g_family = family_tokens(page, units, &sample);
        for l in groups
            .iter()
            .filter(|l| l.shapes.is_empty() && l.distinct_urls(units) <= weights::MAX_LEAD_CARDS)
        {
            let Some(last) = l.units.iter().map(|&u| order_of(u)).max() else {
                continue;
            };
            if last >= first {
                continue;
            }
            let l_chain = ancestors_of(page, l.container);
            let Some((dl, lca)) = l_chain
                .iter()
                .enumerate()
                .find(|(_, a)| g_chain.contains(a))
                .map(|(d, a)| (d, *a))
            else {
                continue;
            };
            let dg = g_chain.iter().position(|a| *a == lca).unwrap_or(usize::MAX);
            if dl > MAX_MERGE_DISTANCE || dg > MAX_MERGE_DISTANCE {
                continue;
            }
            let between = units.iter().enumerate().any(|(i, u)| {
                let o = page.order(u.el);
                o > last && o < first && !g.units.contains(&i) && !l.units.contains(&i)
            });
            if between || zone_widget(page, &l_chain[..dl], l, units).is_some() {
                continue;
            }
            let l_cards: HashSet<NodeId> = l.units.iter().map(|&u| units[u].el).collect();
            let titled = l_chain[..dl]
                .iter()
                .filter_map(|&id| page.el(id))
                .any(|b| zone_heading(b, &l_cards).is_some());
            if titled {
                continue;
            }
            let l_family = family_tokens(page, units, &l.units);
            let shared = l_family.intersection(&g_family).count();
            let all = l_family.union(&g_family).count().max(1);
            // A lead of another component joins too when it is one feature story (a heading
            // and an image, of the site's own): the hero a home page puts right above its
            // list, built by another template than the list's cards.
            let feature = l.units.len() == 1 && {
                let u = &units[l.units[0]];
                u.heading && u.image && !u.external
            };
            if (shared as f64) / (all as f64) < weights::MIN_FAMILY_SIMILARITY && !feature {
                continue;
            }
            let mut merged: Vec<usize> = l.units.iter().chain(&g.units).copied().collect();
            merged.sort_by_key(|&u| order_of(u));
            out.push(Group {
                units: merged,
                container: lca,
                tag: g.tag.clone(),
                classes: Vec::new(),
                tokens: HashSet::new(),
                // The lead is a card before the list, not a list of its own: it does not
                // make the listing look like many small lists.
                parts: g.parts,
                shapes: vec![
                    Shape {
                        group: l.clone(),
                        scope: None,
                    },
                    Shape {
                        group: g.clone(),
                        scope: None,
                    },
                ],
            });
        }
    }
    out
}

/// Class words of every element inside some cards: what a card component is made of.
fn family_tokens(page: &PageIndex<'_>, units: &[Unit], members: &[usize]) -> HashSet<String> {
    let mut out = HashSet::new();
    for &m in members {
        let Some(el) = page.el(units[m].el) else {
            continue;
        };
        for e in std::iter::once(el).chain(el.descendent_elements()) {
            out.extend(class_tokens(&classes(e)));
        }
    }
    out
}

/// Whether two branches below a common ancestor are built alike: the same tag and classes
/// at every level (the zones of a home page that repeat one layout).
fn twin_paths(page: &PageIndex<'_>, a: &[NodeId], b: &[NodeId]) -> bool {
    a.len() == b.len()
        && a.iter()
            .zip(b)
            .all(|(x, y)| match (page.el(*x), page.el(*y)) {
                (Some(x), Some(y)) => signature(x) == signature(y),
                _ => false,
            })
}

/// Why a branch of the page (a group's container and the elements above it, up to a common
/// ancestor) is a widget zone: a widget word in a class or id ("most-viewed",
/// "related-stories"), or a zone heading that names one ("Most read", "Trending"). Headings
/// are looked for among each level's children and grandchildren outside the cards.
fn zone_widget(
    page: &PageIndex<'_>,
    branch: &[NodeId],
    g: &Group,
    units: &[Unit],
) -> Option<String> {
    let card_ids: HashSet<NodeId> = g.units.iter().map(|&u| units[u].el).collect();
    for &id in branch {
        let el = page.el(id)?;
        if let Some(t) = vocab::marker_in(el, vocab::WIDGET_WORDS) {
            return Some(format!("widget marker `{t}`"));
        }
        if let Some(h) = zone_heading(el, &card_ids)
            && vocab::is_widget_heading(&h)
        {
            return Some(format!("widget heading {h:?}"));
        }
    }
    None
}

/// The heading of a zone: an `<h1>`-`<h6>` child or grandchild of `el` that is not inside a
/// card.
fn zone_heading(el: ElementRef<'_>, cards: &HashSet<NodeId>) -> Option<String> {
    let is_heading =
        |e: &ElementRef<'_>| matches!(e.value().name(), "h1" | "h2" | "h3" | "h4" | "h5" | "h6");
    for c in el.child_elements() {
        if cards.contains(&c.id()) {
            continue;
        }
        if is_heading(&c) {
            return Some(element_text(c));
        }
        for gc in c.child_elements() {
            if !cards.contains(&gc.id()) && is_heading(&gc) {
                return Some(element_text(gc));
            }
        }
    }
    None
}

use weights::MIN_TURNS;

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
                        .any(|x| vocab::is_chrome(x) || has_widget_marker(x))
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

fn has_widget_marker(el: ElementRef<'_>) -> bool {
    vocab::has_marker(el, vocab::WIDGET_WORDS)
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
            + weights::W_HEADINGS * features.headings
            + weights::W_IMAGES * features.images
            + weights::W_TEASERS * features.teasers
            + weights::W_DATES * features.dates
            + weights::W_AUTHORS * features.authors);
    s *= match features.title_words {
        w if w < 3.0 => weights::SHORT_TITLES,
        w if w < 5.0 => weights::SHORTISH_TITLES,
        _ => 1.0,
    };
    s *= weights::POSITION_TOP - weights::POSITION_SLOPE * features.position;
    let mut penalties = Vec::new();
    // Many tiny lists (two links under each of a dozen subject headings) are an index of
    // sections, not a stream.
    let per_part = n / g.parts as f64;
    if per_part < 2.5 {
        // Single cards gathered from all over the page are not a list at all.
        s *= if per_part < 1.5 {
            weights::ONE_PER_LIST
        } else {
            weights::FEW_PER_LIST
        };
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
            if vocab::is_chrome(a) {
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
                && let Some(t) = vocab::marker_in(a, vocab::WIDGET_WORDS)
            {
                widget = Some(t);
            }
        }
    }
    if chrome {
        s *= weights::CHROME;
    }
    if let Some(w) = widget {
        s *= weights::WIDGET;
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
                title_element(c, &page.urls[units[u].url], &page.base, &page.any_url)
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
    let images: Vec<_> = cards
        .iter()
        .map(|c| image_element(*c, &page.base))
        .collect();
    if share_ok(&images, weights::MIN_SHARE_IMAGE) {
        set.image = field_selector(&cards, &images, false);
    }
    let teasers: Vec<_> = cards
        .iter()
        .zip(&title_targets)
        .map(|(c, t)| t.and_then(|t| teaser_element(*c, t)))
        .collect();
    // A stream of several shapes (a hero above the list) may have teasers in one shape only:
    // a shape whose every card has one gets its teaser read.
    let shape_full = |targets: &[Option<ElementRef<'_>>]| {
        g.shapes.iter().any(|sh| {
            !sh.group.units.is_empty()
                && sh.group.units.iter().all(|u| {
                    g.units
                        .iter()
                        .position(|x| x == u)
                        .is_some_and(|i| targets.get(i).is_some_and(Option::is_some))
                })
        })
    };
    if share_ok(&teasers, weights::MIN_SHARE_TEASER) || shape_full(&teasers) {
        set.teaser = field_selector(&cards, &teasers, false);
    }
    let date_pairs: Vec<_> = cards
        .iter()
        .zip(&title_targets)
        .map(|(c, t)| date_elements(*c, *t, ctx))
        .collect();
    let dates: Vec<_> = date_pairs.iter().map(|p| p.map(|(s, _)| s)).collect();
    let date_blocks: Vec<_> = date_pairs.iter().map(|p| p.map(|(_, b)| b)).collect();
    if share_ok(&dates, weights::MIN_SHARE_META) {
        set.date = field_selector_either(&cards, &dates, &date_blocks, false).map(|s| {
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
    let author_pairs: Vec<_> = cards
        .iter()
        .zip(&title_targets)
        .map(|(c, t)| author_elements(*c, *t, ctx))
        .collect();
    let authors: Vec<_> = author_pairs.iter().map(|p| p.map(|(s, _)| s)).collect();
    let author_blocks: Vec<_> = author_pairs.iter().map(|p| p.map(|(_, b)| b)).collect();
    if share_ok(&authors, weights::MIN_SHARE_META) {
        set.author = field_selector_either(&cards, &authors, &author_blocks, true);
    }
    let rt_pairs: Vec<_> = cards
        .iter()
        .zip(&title_targets)
        .map(|(c, t)| read_time_elements(*c, *t, ctx))
        .collect();
    let read_times: Vec<_> = rt_pairs.iter().map(|p| p.map(|(s, _)| s)).collect();
    let rt_blocks: Vec<_> = rt_pairs.iter().map(|p| p.map(|(_, b)| b)).collect();
    if share_ok(&read_times, weights::MIN_SHARE_META) {
        set.read_time = field_selector_either(&cards, &read_times, &rt_blocks, true);
    }
    let cats: Vec<_> = cards
        .iter()
        .zip(&title_targets)
        .map(|(c, t)| category_element(*c, *t))
        .collect();
    if share_ok(&cats, weights::MIN_SHARE_META) {
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
                        .find(|a| page.any_url.get(&a.id()) == Some(&units[u].url))
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
    if !exact
        && ids.iter().all(|i| matched.contains(i))
        && let Some(found) = without_zones(page, &format!(":is({joined})"), &matched, ids)
    {
        return Some(found);
    }
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
        o.len()
            + utilities * weights::COST_UTILITY_CLASS
            + if bare_generic(o) {
                weights::COST_BARE_CARD_TAG
            } else {
                0
            }
    };
    options.sort_by_key(|o| cost_of(o));
    let mut best: Option<(usize, String, usize, Vec<NodeId>)> = None;
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
        if best.as_ref().is_none_or(|(c, _, _, _)| cost < *c) {
            best = Some((cost, o, matched.len(), matched));
        }
    }
    let (_, o, m, matched) = best?;
    // The same card markup in a widget zone next to the listing ("Most popular"): leave
    // that zone out by name.
    if matched.iter().filter(|x| ids.contains(x)).count() == ids.len()
        && let Some(excluding) = without_zones(page, &o, &matched, ids)
    {
        return Some(excluding);
    }
    Some((o, m, false))
}

/// A selector for a widget zone that matches no element holding a card: its id, else its
/// classes, else (zones built alike, told apart by place only) its position among its
/// siblings, `main > section:nth-of-type(4)`.
fn zone_name(
    page: &PageIndex<'_>,
    zone: ElementRef<'_>,
    card_ancestors: &HashSet<NodeId>,
) -> Option<String> {
    if let Some(id) = usable_id(zone) {
        return Some(format!("#{id}"));
    }
    let clean = |css: &str| {
        Selector::parse(css).ok().is_some_and(|sel| {
            page.doc
                .select(&sel)
                .all(|e| !card_ancestors.contains(&e.id()))
        })
    };
    if !classes(zone).is_empty() {
        let sig = signature(zone);
        if clean(&sig) {
            return Some(sig);
        }
        let tag = zone.value().name();
        if let Some(one) = classes(zone)
            .iter()
            .map(|c| format!("{tag}.{c}"))
            .find(|css| clean(css))
        {
            return Some(one);
        }
    }
    let parent = zone.parent().and_then(ElementRef::wrap)?;
    let tag = zone.value().name();
    let k = parent
        .child_elements()
        .filter(|c| c.value().name() == tag)
        .position(|c| c.id() == zone.id())?
        + 1;
    let parent_name = usable_id(parent).map_or_else(|| signature(parent), |id| format!("#{id}"));
    let css = format!("{parent_name} > {tag}:nth-of-type({k})");
    clean(&css).then_some(css)
}

/// `css` with the zones that hold its stray matches excluded (`li:not(#most-viewed *)`),
/// if that matches exactly `ids`. A zone is the outermost ancestor of a stray match that
/// holds none of the cards, named by its id or its classes; at most three.
fn without_zones(
    page: &PageIndex<'_>,
    css: &str,
    matched: &[NodeId],
    ids: &HashSet<NodeId>,
) -> Option<(String, usize, bool)> {
    let card_ancestors: HashSet<NodeId> = ids
        .iter()
        .filter_map(|&id| page.el(id))
        .flat_map(|c| c.ancestors().map(|a| a.id()).collect::<Vec<_>>())
        .collect();
    let mut zones: Vec<String> = Vec::new();
    for stray in matched.iter().filter(|m| !ids.contains(m)) {
        let el = page.el(*stray)?;
        let zone = std::iter::once(el)
            .chain(el.ancestors().filter_map(ElementRef::wrap))
            .take_while(|a| !card_ancestors.contains(&a.id()))
            .last()?;
        let name = zone_name(page, zone, &card_ancestors)?;
        if !zones.contains(&name) {
            zones.push(name);
        }
        if zones.len() > 3 {
            return None;
        }
    }
    let mut out = css.to_string();
    for z in &zones {
        // The zone itself may be the stray card (a sponsored item in the list).
        out.push_str(&format!(":not({z}):not({z} *)"));
    }
    let sel = Selector::parse(&out).ok()?;
    let got: Vec<NodeId> = page.doc.select(&sel).map(|e| e.id()).collect();
    let exact = got.len() == ids.len() && got.iter().all(|g| ids.contains(g));
    let n = got.len();
    exact.then_some((out, n, true))
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
    field_selector_scored(cards, targets, all).map(|(s, _)| s)
}

/// The better of two target sets for one field: the smallest elements that hold the value
/// (`small`) make precise selectors, but when the markup cannot tell them apart (three
/// unclassed `<span>`s of one meta line) the meta line that holds them (`block`) can be
/// selected instead, and its reader takes the value from it.
fn field_selector_either(
    cards: &[ElementRef<'_>],
    small: &[Option<ElementRef<'_>>],
    block: &[Option<ElementRef<'_>>],
    all: bool,
) -> Option<String> {
    let a = field_selector_scored(cards, small, all);
    let same = small
        .iter()
        .zip(block)
        .all(|(x, y)| x.map(|e| e.id()) == y.map(|e| e.id()));
    if same {
        return a.map(|(s, _)| s);
    }
    let b = field_selector_scored(cards, block, all);
    match (a, b) {
        (Some((sa, xa)), Some((sb, xb))) => Some(if xb > xa { sb } else { sa }),
        (a, b) => a.or(b).map(|(s, _)| s),
    }
}

/// [`field_selector`] with the score of the pick: two points per card whose target it
/// finds, minus one per stray match in a card without a target, minus two per wrong match.
fn field_selector_scored(
    cards: &[ElementRef<'_>],
    targets: &[Option<ElementRef<'_>>],
    all: bool,
) -> Option<(String, i64)> {
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
        if options.len() > weights::MAX_FIELD_OPTIONS {
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
    let cost = |o: &str| {
        o.len()
            + if bare_generic(o) {
                weights::COST_BARE_FIELD_TAG
            } else {
                0
            }
    };
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
        return Some((first, score));
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
    Some(best_union.map_or((first, score), |(s, _, u)| (u, s)))
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};

    use super::*;

    #[test]
    fn archive_and_section_paths_are_articles() {
        let base = Url::parse("https://blog.example.org/").expect("url");
        let rows = [
            ("/blog/archives/2019/09/massive_iphone_.html", true),
            ("/2026/11/moss", true),
            ("/2026/11/", false),
            ("/2026/13/moss", false),
            (
                "/blog/topics/sustainability/five-years-of-renewable-energy",
                true,
            ),
            ("/category/health/new-study-finds-coffee-helps", true),
            ("/blog/topics/sustainability", false),
            ("/tag/climate-change-and-health", false),
            ("/author/jane-doe/latest-stories-about-mars", false),
            ("/topics/health/page/2", false),
        ];
        for (path, want) in rows {
            let u = base.join(path).expect("url");
            assert_eq!(article_path(&u, &base), want, "{path}");
        }
    }

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
        // No byline class: the "By" prefix says what the span holds.
        assert_eq!(best.selectors.author.as_deref(), Some(".by"));
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
