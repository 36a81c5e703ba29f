//! The extraction stage: (decoded page, rules, now) -> cards + diagnostics. Pure.
//!
//! This is the one way a page becomes cards, for every command and test: `run` and its
//! pagination, `preview`, `discover`, enrichment of article pages, the golden tests and the
//! benchmarks all call [`listing`], [`survey`] or [`article`]. Everything that decides what a
//! page gives lives here, so what `preview` shows is what `run` stores:
//!
//! 1. parse within [`ParseLimits`] (hostile pages are refused, not parsed for minutes);
//! 2. read the listing ([`page::extract`]: selectors, a pinned structured listing, or
//!    auto-detection; the date pipeline and structured-data fallbacks);
//! 3. apply the card limits (`max_cards` while selecting, then [`clamp::clamp_card`]: cut
//!    over-long fields, drop non-http(s) links and images);
//! 4. read the next-page link when the feed paginates;
//! 5. on a page without cards, say why when the page says it ([`diagnose_empty`]: bot
//!    protection, a JavaScript shell, an empty answer), else re-detect the listings of the
//!    page as alternatives (when the rules ask for it), which the heal stage may take.
//!
//! What stays outside: fetching, following pages, and every store query (which items a feed
//! knows, what it pinned), so the stage never touches the network, the disk or the clock.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use scraper::{ElementRef, Html};
use serde::Serialize;
use url::Url;

use super::clamp;
use super::date::DateContext;
use super::detect;
use super::diagnose::diagnose_empty;
use super::page::{self, CardSource, DateOrigin, NoListing, PageExtraction};
use super::parse::{self, ParseLimits, TooComplex};
use super::select::{self, CardRules, FieldSelector, PageContext};
use super::structured::{self, ArticleMeta, PageData};
use crate::feed::FeedSpec;
use crate::model::Card;

pub use super::page::Listing;

/// How much of a page the stage reads at most.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Cards taken from one page (`max_cards` in `[settings]`).
    pub max_cards: usize,
    pub parse: ParseLimits,
}

impl Limits {
    /// `max_cards` cards, default parse limits.
    pub fn new(max_cards: usize) -> Self {
        Limits {
            max_cards,
            parse: ParseLimits::default(),
        }
    }
}

/// Everything besides the page that decides what a page gives.
#[derive(Debug, Clone, Copy)]
pub struct Rules<'a> {
    /// Which listing to read.
    pub listing: Listing<'a>,
    /// Links resolve against this instead of the page URL (saved pages).
    pub base_url: Option<&'a Url>,
    pub date_format: Option<&'a str>,
    /// Zone of dates printed without an offset.
    pub tz: Tz,
    /// The next-page link to read (pagination), if the feed follows one.
    pub next: Option<&'a FieldSelector>,
    pub limits: Limits,
    /// On a page where the listing's selectors find no cards, detect the page's listings as
    /// alternatives (self-healing; the heal stage decides whether one may be taken).
    pub redetect: bool,
    /// Count what each selector matched (for `preview`; costs a second pass over the cards).
    pub stats: bool,
}

impl<'a> Rules<'a> {
    /// The rules of `feed` reading `listing` (its own selectors, or a remembered listing).
    pub fn for_feed(feed: &'a FeedSpec, listing: Listing<'a>, max_cards: usize) -> Self {
        Rules {
            listing,
            base_url: feed.base_url.as_ref(),
            date_format: feed.date_format.as_deref(),
            tz: feed.timezone,
            next: feed.next.as_ref().filter(|_| feed.max_pages > 1),
            limits: Limits::new(max_cards),
            redetect: feed.heal && !matches!(listing, Listing::Auto),
            stats: false,
        }
    }

    /// Auto-detection on a page that belongs to no feed (`preview URL`).
    pub fn auto(base_url: Option<&'a Url>, tz: Tz, max_cards: usize) -> Self {
        Rules {
            listing: Listing::Auto,
            base_url,
            date_format: None,
            tz,
            next: None,
            limits: Limits::new(max_cards),
            redetect: false,
            stats: false,
        }
    }
}

/// How one selector fared on the page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SelectorStat {
    pub field: &'static str,
    pub selector: String,
    /// Elements matched (for `card`: in the page; for fields: inside the cards, summed).
    pub elements: usize,
    /// Cards that got a value for the field (`card`: cards extracted).
    pub cards_with_value: usize,
}

/// The cards of one listing page.
#[derive(Debug, Clone)]
pub struct ListingPage {
    /// The page's URL (after redirects).
    pub url: Url,
    /// Cards in page order, limits applied.
    pub cards: Vec<Card>,
    /// The origin of each card's date, in card order.
    pub date_origins: Vec<DateOrigin>,
    /// Elements the card selector matched (structured items for a structured listing).
    pub matched: usize,
    /// How the cards were found.
    pub source: CardSource,
    /// Problems that did not stop the page (skipped cards, unparseable dates, cut fields).
    pub warnings: Vec<String>,
    /// The next page, when the rules name a next-link selector and the page has one.
    pub next: Option<Url>,
    /// Per-selector counts, when the rules asked for them.
    pub stats: Vec<SelectorStat>,
}

impl ListingPage {
    /// Cards whose date came from the page (absolute or relative), and all cards.
    pub fn dated(&self) -> (usize, usize) {
        let n = self
            .date_origins
            .iter()
            .filter(|o| **o != DateOrigin::None)
            .count();
        (n, self.date_origins.len())
    }

    /// The canonical links (item ids) of the cards, in page order.
    pub fn ids(&self) -> Vec<String> {
        self.cards
            .iter()
            .map(|c| crate::canon::canonical(&c.link))
            .collect()
    }
}

/// Why a page gave no cards. Messages complete "<page URL>: ...".
#[derive(Debug, thiserror::Error)]
pub enum ExtractError {
    #[error("page {0}; refusing to extract from it")]
    TooComplex(TooComplex),
    #[error("{}card selector `{selector}` matched nothing{}", diagnosis.map(|d| format!("{d} (")).unwrap_or_default(), if diagnosis.is_some() { ")" } else { "" })]
    NoCards {
        selector: String,
        /// What the page says about itself (bot wall, script shell), if anything.
        diagnosis: Option<&'static str>,
        /// The listings detected on the page instead, best first (see [`Rules::redetect`]).
        alternatives: Vec<ListingPage>,
    },
    #[error(
        "card selector `{selector}` matched {matched} element(s) but none had a title and an http(s) link ({first})"
    )]
    NoValidCards {
        selector: String,
        matched: usize,
        /// The first card's problem.
        first: String,
        alternatives: Vec<ListingPage>,
    },
    #[error("{source}")]
    NoListing {
        source: NoListing,
        alternatives: Vec<ListingPage>,
    },
}

impl ExtractError {
    /// The listings detected on the page instead of the broken one (empty when the rules did
    /// not ask for re-detection, or the page says why it has no cards).
    pub fn alternatives(&self) -> &[ListingPage] {
        match self {
            ExtractError::TooComplex(_) => &[],
            ExtractError::NoCards { alternatives, .. }
            | ExtractError::NoValidCards { alternatives, .. }
            | ExtractError::NoListing { alternatives, .. } => alternatives,
        }
    }

    /// Takes the alternatives out, leaving the error itself.
    pub fn take_alternatives(&mut self) -> Vec<ListingPage> {
        match self {
            ExtractError::TooComplex(_) => Vec::new(),
            ExtractError::NoCards { alternatives, .. }
            | ExtractError::NoValidCards { alternatives, .. }
            | ExtractError::NoListing { alternatives, .. } => std::mem::take(alternatives),
        }
    }
}

/// Extracts the cards of one listing page.
pub fn listing(
    text: &str,
    page_url: &Url,
    rules: &Rules<'_>,
    now: DateTime<Utc>,
) -> Result<ListingPage, ExtractError> {
    let doc =
        parse::parse_document_with(text, &rules.limits.parse).map_err(ExtractError::TooComplex)?;
    let ctx = context(page_url, rules, now);
    let next = rules.next.and_then(|sel| next_link(&doc, sel, page_url));
    let found = match page::extract(&doc, rules.listing, &ctx) {
        Ok(found) => found,
        Err(source) => {
            // Auto already looked at every listing; a pinned structured listing that is gone
            // may have moved into the markup.
            let alternatives = match rules.listing {
                Listing::Structured { .. } if rules.redetect => {
                    alternatives(&doc, &ctx, rules, next.as_ref())
                }
                _ => Vec::new(),
            };
            return Err(ExtractError::NoListing {
                source,
                alternatives,
            });
        }
    };
    let selector = card_label(rules.listing, &found.source);
    let page = finish(&doc, found, rules, page_url, next.clone());
    if page.matched == 0 {
        let diagnosis = diagnose_empty(text);
        return Err(ExtractError::NoCards {
            selector,
            diagnosis,
            alternatives: if rules.redetect && diagnosis.is_none() {
                alternatives(&doc, &ctx, rules, next.as_ref())
            } else {
                Vec::new()
            },
        });
    }
    if page.cards.is_empty() {
        return Err(ExtractError::NoValidCards {
            selector,
            matched: page.matched,
            first: page.warnings.first().cloned().unwrap_or_default(),
            alternatives: if rules.redetect {
                alternatives(&doc, &ctx, rules, next.as_ref())
            } else {
                Vec::new()
            },
        });
    }
    Ok(page)
}

/// What `discover` shows of a page: every detected listing with its cards (through the
/// same steps as [`listing`]), the page's structured data and title.
#[derive(Debug)]
pub struct Survey {
    /// What links resolve against (`base_url`, `<base href>` or the page URL).
    pub base: Url,
    pub data: PageData,
    /// The page's name: its structured-data title, `og:site_name` or `<title>`.
    pub title: Option<String>,
    /// Detected listings, best first; each page's source is [`CardSource::Detected`].
    pub candidates: Vec<ListingPage>,
    /// Why nothing was found, when the page says why.
    pub diagnosis: Option<String>,
}

/// Detects every listing of a page and extracts each.
pub fn survey(text: &str, page_url: &Url, rules: &Rules<'_>, now: DateTime<Utc>) -> Survey {
    let empty = |diagnosis: String| Survey {
        base: rules.base_url.unwrap_or(page_url).clone(),
        data: PageData::default(),
        title: None,
        candidates: Vec::new(),
        diagnosis: Some(diagnosis),
    };
    let doc = match parse::parse_document_with(text, &rules.limits.parse) {
        Ok(doc) => doc,
        Err(reason) => return empty(format!("page {reason}")),
    };
    let ctx = context(page_url, rules, now);
    let base = select::document_base(&doc, page_url, rules.base_url);
    let data = structured::page_data(&doc, &base, &ctx.date);
    let candidates = alternatives(&doc, &ctx, rules, None);
    let diagnosis = if candidates.is_empty() {
        diagnose_empty(text).map(str::to_string)
    } else {
        None
    };
    Survey {
        title: data.page.title.clone().or_else(|| site_name(&doc)),
        base,
        data,
        candidates,
        diagnosis,
    }
}

/// What an article page says about its own article (enrichment): structured data, meta
/// tags, then byline and date markup.
pub fn article(
    text: &str,
    page_url: &Url,
    rules: &Rules<'_>,
    now: DateTime<Utc>,
) -> Result<ArticleMeta, ExtractError> {
    let doc =
        parse::parse_document_with(text, &rules.limits.parse).map_err(ExtractError::TooComplex)?;
    let ctx = context(page_url, rules, now);
    let base = select::document_base(&doc, page_url, rules.base_url);
    Ok(structured::page_data(&doc, &base, &ctx.date).page)
}

fn context<'a>(page_url: &'a Url, rules: &Rules<'a>, now: DateTime<Utc>) -> PageContext<'a> {
    PageContext {
        page_url,
        base_url: rules.base_url,
        date: DateContext {
            format: rules.date_format,
            tz: rules.tz,
            now,
        },
        max_cards: rules.limits.max_cards,
    }
}

/// The listings detection finds on the page, each extracted like a configured listing
/// (with the page's `next` link, so a healed feed still paginates).
fn alternatives(
    doc: &Html,
    ctx: &PageContext<'_>,
    rules: &Rules<'_>,
    next: Option<&Url>,
) -> Vec<ListingPage> {
    let base = select::document_base(doc, ctx.page_url, ctx.base_url);
    detect::detect(doc, &base, &ctx.date)
        .into_iter()
        .filter_map(|c| {
            let found = page::extract(doc, Listing::Selectors(&c.rules), ctx).ok()?;
            let detected = Rules {
                listing: Listing::Selectors(&c.rules),
                ..*rules
            };
            let mut page = finish(doc, found, &detected, ctx.page_url, next.cloned());
            page.source = CardSource::Detected(Box::new(c));
            (!page.cards.is_empty()).then_some(page)
        })
        .collect()
}

/// Limits, warnings and statistics of what [`page::extract`] found.
fn finish(
    doc: &Html,
    found: PageExtraction,
    rules: &Rules<'_>,
    page_url: &Url,
    next: Option<Url>,
) -> ListingPage {
    let mut warnings: Vec<String> = found
        .extraction
        .warnings
        .iter()
        .map(ToString::to_string)
        .collect();
    let mut cards = Vec::with_capacity(found.extraction.cards.len());
    let mut date_origins = Vec::with_capacity(found.extraction.cards.len());
    // Hostile pages: over-long fields are cut and non-http(s) links dropped, whichever way
    // the cards were found.
    for (card, origin) in found.extraction.cards.into_iter().zip(found.date_origins) {
        match clamp::clamp_card(card) {
            Ok(c) => {
                cards.push(c);
                date_origins.push(origin);
            }
            Err(w) => warnings.push(w),
        }
    }
    let stats = match rules_used(rules.listing, &found.source) {
        Some(r) if rules.stats => selector_stats(doc, r, &cards),
        _ => Vec::new(),
    };
    ListingPage {
        url: page_url.clone(),
        cards,
        date_origins,
        matched: found.extraction.matched,
        source: found.source,
        warnings,
        next,
        stats,
    }
}

/// The card selector behind a result, for messages.
fn card_label(listing: Listing<'_>, source: &CardSource) -> String {
    match (listing, source) {
        (Listing::Selectors(r), _) => r.card_source.clone(),
        (_, CardSource::Detected(c)) => c.selectors.card.clone(),
        _ => "structured data".to_string(),
    }
}

/// The selectors that found (or filled) the cards.
pub fn rules_used<'r>(listing: Listing<'r>, source: &'r CardSource) -> Option<&'r CardRules> {
    match (source, listing) {
        (CardSource::Detected(c), _) => Some(&c.rules),
        (CardSource::Structured { detected: Some(c) }, _) => Some(&c.rules),
        (CardSource::Structured { detected: None }, Listing::Structured { fill }) => fill,
        (CardSource::Selectors, Listing::Selectors(r)) => Some(r),
        _ => None,
    }
}

/// A field of the rules: its name, its selector, and whether a card has a value for it.
type FieldCheck<'a> = (&'static str, Option<&'a FieldSelector>, fn(&Card) -> bool);

fn selector_stats(doc: &Html, rules: &CardRules, cards: &[Card]) -> Vec<SelectorStat> {
    let elements: Vec<ElementRef<'_>> = doc.select(&rules.card).collect();
    let mut stats = vec![SelectorStat {
        field: "card",
        selector: rules.card_source.clone(),
        elements: elements.len(),
        cards_with_value: cards.len(),
    }];
    let fields: [FieldCheck<'_>; 8] = [
        ("title", Some(&rules.title), |_| true),
        ("link", rules.link.as_ref(), |_| true),
        ("author", rules.author.as_ref(), |c| !c.authors.is_empty()),
        ("read_time", rules.read_time.as_ref(), |c| {
            c.read_time.is_some()
        }),
        ("teaser", rules.teaser.as_ref(), |c| c.teaser.is_some()),
        ("date", rules.date.as_ref(), |c| c.date.is_some()),
        ("image", rules.image.as_ref(), |c| c.image.is_some()),
        ("category", rules.category.as_ref(), |c| {
            !c.categories.is_empty()
        }),
    ];
    for (field, sel, has) in fields {
        let Some(sel) = sel else { continue };
        stats.push(SelectorStat {
            field,
            selector: sel.source().to_string(),
            elements: elements.iter().map(|e| sel.matches(*e).len()).sum(),
            cards_with_value: cards.iter().filter(|c| has(c)).count(),
        });
    }
    stats
}

/// The page the `next` selector points to: its `@attr` (default `href`), resolved like the
/// page's links. Only http(s), or file for a saved page.
fn next_link(doc: &Html, sel: &FieldSelector, page_url: &Url) -> Option<Url> {
    let el = sel.matches(doc.root_element()).into_iter().next()?;
    let href = el.value().attr(sel.attr().unwrap_or("href"))?.trim();
    if href.is_empty() {
        return None;
    }
    let url = select::document_base(doc, page_url, None).join(href).ok()?;
    match url.scheme() {
        "http" | "https" => Some(url),
        "file" if page_url.scheme() == "file" => Some(url),
        _ => None,
    }
}

fn site_name(doc: &Html) -> Option<String> {
    let sel = scraper::Selector::parse("meta[property='og:site_name'][content], title")
        .expect("static selector");
    doc.select(&sel).find_map(|e| {
        let v = e
            .value()
            .attr("content")
            .map(str::to_string)
            .unwrap_or_else(|| select::element_text(e));
        Some(v.trim().to_string()).filter(|s| !s.is_empty())
    })
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;
    use crate::extract::detect::SelectorSet;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 26, 12, 0, 0)
            .single()
            .expect("valid")
    }

    fn url() -> Url {
        Url::parse("https://news.example.org/").expect("url")
    }

    fn cards(class: &str, n: usize) -> String {
        (1..=n)
            .map(|i| {
                format!(
                    r#"<li class="{class}"><h3><a href="/news/story-number-{i}-about-mice">Story number {i} about mice and men</a></h3><p>Teaser {i} of a story that says a little more.</p></li>"#
                )
            })
            .collect()
    }

    fn page(class: &str, n: usize) -> String {
        format!(
            "<html><body><main><ul class=\"list\">{}</ul></main></body></html>",
            cards(class, n)
        )
    }

    fn rules_for(card: &str) -> CardRules {
        SelectorSet {
            card: card.into(),
            title: "h3".into(),
            teaser: Some("p".into()),
            ..SelectorSet::default()
        }
        .compile()
        .expect("rules")
    }

    fn rules(listing: Listing<'_>, redetect: bool) -> Rules<'_> {
        Rules {
            listing,
            redetect,
            ..Rules::auto(None, chrono_tz::UTC, 100)
        }
    }

    #[test]
    fn limits_apply_inside_the_stage() {
        let r = rules_for("li.card");
        let mut rl = rules(Listing::Selectors(&r), false);
        rl.limits.max_cards = 2;
        let got = listing(&page("card", 5), &url(), &rl, now()).expect("cards");
        assert_eq!(got.cards.len(), 2, "max_cards");
        assert_eq!(got.matched, 5);
        assert!(
            got.warnings.iter().any(|w| w.contains("raise `max_cards`")),
            "{:?}",
            got.warnings
        );
        // A javascript: link is dropped by the clamp whichever way the card was found.
        let html = page("card", 3).replace(
            "/news/story-number-2-about-mice",
            "javascript:alert(1)//story-number-2",
        );
        let got =
            listing(&html, &url(), &rules(Listing::Selectors(&r), false), now()).expect("cards");
        assert_eq!(got.cards.len(), 2);
        assert_eq!(got.date_origins.len(), 2, "origins follow the cards");
        let deep = format!("<html><body>{}</body></html>", "<div>".repeat(2000));
        let err = listing(&deep, &url(), &rules(Listing::Selectors(&r), false), now())
            .expect_err("too deep");
        assert!(matches!(err, ExtractError::TooComplex(_)), "{err}");
    }

    #[test]
    fn a_broken_selector_brings_the_detected_listings_when_asked() {
        let r = rules_for("li.card");
        let redesigned = page("tile", 4);
        let err = listing(
            &redesigned,
            &url(),
            &rules(Listing::Selectors(&r), true),
            now(),
        )
        .expect_err("nothing matches");
        assert!(
            err.to_string()
                .contains("card selector `li.card` matched nothing"),
            "{err}"
        );
        let alt = &err.alternatives()[0];
        assert_eq!(alt.cards.len(), 4);
        assert!(matches!(alt.source, CardSource::Detected(_)));
        let err = listing(
            &redesigned,
            &url(),
            &rules(Listing::Selectors(&r), false),
            now(),
        )
        .expect_err("nothing matches");
        assert!(
            err.alternatives().is_empty(),
            "no re-detection unless asked"
        );
        // A page that says why it is empty is not re-detected.
        let shell = "<html><body><div id=\"root\"></div><script src=a.js></script></body></html>";
        let err =
            listing(shell, &url(), &rules(Listing::Selectors(&r), true), now()).expect_err("shell");
        assert!(err.to_string().contains("rendered by JavaScript"), "{err}");
        assert!(err.alternatives().is_empty());
    }

    #[test]
    fn a_healed_listing_keeps_the_pages_next_link() {
        let next = FieldSelector::parse("a[rel=next]").expect("sel");
        let r = rules_for("li.card");
        let mut rl = rules(Listing::Selectors(&r), true);
        rl.next = Some(&next);
        let html = page("tile", 4).replace("</ul>", "</ul><a rel=next href=\"/p/2\">more</a>");
        let err = listing(&html, &url(), &rl, now()).expect_err("broken");
        assert_eq!(
            err.alternatives()[0].next.as_ref().map(Url::as_str),
            Some("https://news.example.org/p/2")
        );
    }

    #[test]
    fn cards_without_titles_are_a_broken_listing_too() {
        let r = SelectorSet {
            card: "li.card".into(),
            title: "h2".into(),
            ..SelectorSet::default()
        }
        .compile()
        .expect("rules");
        let err = listing(
            &page("card", 4),
            &url(),
            &rules(Listing::Selectors(&r), true),
            now(),
        )
        .expect_err("no titles");
        assert!(
            err.to_string()
                .contains("matched 4 element(s) but none had a title"),
            "{err}"
        );
        assert_eq!(err.alternatives()[0].cards.len(), 4);
    }

    #[test]
    fn a_pinned_structured_listing_reads_the_structured_items() {
        let ld: String = (1..=3)
            .map(|i| format!(r#"{{"@type":"ListItem","url":"https://news.example.org/news/story-number-{i}-about-mice","name":"Story {i}"}}"#))
            .collect::<Vec<_>>()
            .join(",");
        let html = format!(
            r#"<html><head><script type="application/ld+json">{{"@type":"ItemList","itemListElement":[{ld}]}}</script></head><body><main><ul>{}</ul></main></body></html>"#,
            cards("card", 3)
        );
        let fill = rules_for("li.card");
        let got = listing(
            &html,
            &url(),
            &rules(Listing::Structured { fill: Some(&fill) }, true),
            now(),
        )
        .expect("structured");
        assert_eq!(got.cards.len(), 3);
        assert_eq!(got.cards[0].title, "Story 1");
        assert!(
            got.cards[0]
                .teaser
                .as_deref()
                .is_some_and(|t| t.starts_with("Teaser 1")),
            "filled by the pinned selectors"
        );
        // Without the structured data the pin is gone; the markup listing is the alternative.
        let err = listing(
            &page("card", 3),
            &url(),
            &rules(Listing::Structured { fill: Some(&fill) }, true),
            now(),
        )
        .expect_err("no structured data");
        assert!(err.to_string().contains("structured data lists 0"), "{err}");
        assert_eq!(err.alternatives().len(), 1);
    }

    #[test]
    fn stats_count_each_selector() {
        let r = rules_for("li.card");
        let mut rl = rules(Listing::Selectors(&r), false);
        rl.stats = true;
        let got = listing(&page("card", 3), &url(), &rl, now()).expect("cards");
        let counts: Vec<(&str, usize, usize)> = got
            .stats
            .iter()
            .map(|s| (s.field, s.elements, s.cards_with_value))
            .collect();
        assert_eq!(counts, [("card", 3, 3), ("title", 3, 3), ("teaser", 3, 3)]);
    }

    #[test]
    fn next_link_and_article_pages() {
        let next = FieldSelector::parse("a[rel=next]@href").expect("sel");
        let r = rules_for("li.card");
        let mut rl = rules(Listing::Selectors(&r), false);
        rl.next = Some(&next);
        let html = page("card", 3).replace("</ul>", "</ul><a rel=next href=\"?page=2\">more</a>");
        let got = listing(&html, &url(), &rl, now()).expect("cards");
        assert_eq!(
            got.next.as_ref().map(Url::as_str),
            Some("https://news.example.org/?page=2")
        );
        let art = r#"<html><head><script type="application/ld+json">{"@type":"NewsArticle","headline":"H","author":{"name":"Ann Lee"},"datePublished":"2026-11-20"}</script></head><body></body></html>"#;
        let meta = article(art, &url(), &rules(Listing::Auto, false), now()).expect("article");
        assert_eq!(meta.authors, ["Ann Lee"]);
        assert_eq!(meta.title.as_deref(), Some("H"));
    }
}
