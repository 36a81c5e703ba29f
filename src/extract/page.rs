//! One parsed listing page and the listing to read (selectors, a pinned structured listing,
//! or auto-detection) in, cards out, with the date pipeline and the structured-data
//! fallbacks applied. The core of [`super::stage`], which every command and test goes
//! through (it adds parsing, limits, diagnosis and re-detection). Pure.
//!
//! Date pipeline, first hit wins: the card's date selector (+ `date_format`, `timezone`) ->
//! JSON-LD / microdata for the card's link -> a date printed in the card (English, German,
//! French, Spanish month names, numeric forms) -> a relative phrase in the card ("3 hours
//! ago", "yesterday", "7h"), anchored at fetch time -> the day in the article's URL
//! (`/2018/03/16/slug`) -> nothing (merge then uses, and freezes, the first-seen time).

use scraper::{ElementRef, Html};

use super::date::{DateKind, date_from_url, parse_date};
use super::detect::{self, Candidate};
use super::fields::fold_ws;
use super::select::{self, CardRules, Extraction, PageContext};
use super::structured::{self, ArticleMeta, PageData};
use crate::canon;
use crate::model::Card;

/// Where a card's date came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DateOrigin {
    /// The configured or detected date selector.
    Selector,
    /// JSON-LD or microdata about the card's article.
    Structured,
    /// A date printed in the card's text.
    Text,
    /// A relative phrase in the card, resolved at fetch time.
    Relative,
    /// The day the article's URL states (`/2018/03/16/slug`); the last page-derived date.
    Url,
    /// No date on the page: merge uses the first-seen time.
    None,
}

impl DateOrigin {
    /// Short label for tables.
    pub fn label(self) -> &'static str {
        match self {
            DateOrigin::Selector => "selector",
            DateOrigin::Structured => "structured",
            DateOrigin::Text => "text",
            DateOrigin::Relative => "relative",
            DateOrigin::Url => "url",
            DateOrigin::None => "first-seen",
        }
    }
}

/// How the cards were found.
#[derive(Debug, Clone)]
pub enum CardSource {
    /// The feed's `[feed.select]` selectors.
    Selectors,
    /// Auto-detection; the chosen candidate.
    Detected(Box<Candidate>),
    /// A JSON-LD `ItemList` or microdata articles (auto feeds prefer them); detection, when
    /// it found the same articles, filled images and teasers.
    Structured { detected: Option<Box<Candidate>> },
}

impl CardSource {
    /// The rules that found the cards on the page, if selectors did.
    pub fn rules<'a>(&'a self, configured: Option<&'a CardRules>) -> Option<&'a CardRules> {
        match self {
            CardSource::Selectors => configured,
            CardSource::Detected(c) => Some(&c.rules),
            CardSource::Structured { detected } => detected.as_deref().map(|c| &c.rules),
        }
    }
}

/// What one page gave.
#[derive(Debug)]
pub struct PageExtraction {
    pub extraction: Extraction,
    /// The origin of each card's date, in card order.
    pub date_origins: Vec<DateOrigin>,
    pub source: CardSource,
    pub data: PageData,
}

impl PageExtraction {
    /// Cards whose date came from the page (absolute or relative), and all cards.
    pub fn dated(&self) -> (usize, usize) {
        let n = self
            .date_origins
            .iter()
            .filter(|o| **o != DateOrigin::None)
            .count();
        (n, self.date_origins.len())
    }
}

/// Why an auto-detected feed found nothing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "auto-detection found no article listing ({reason})\n    hint: run `scifeed discover URL` to see the candidates, or add [feed.select] selectors"
)]
pub struct NoListing {
    pub reason: String,
}

/// Fewest structured items that make a listing on their own.
const MIN_STRUCTURED_ITEMS: usize = 3;

/// Which listing of a page to read.
#[derive(Debug, Clone, Copy)]
pub enum Listing<'a> {
    /// These selectors (configured, pinned or healed).
    Selectors(&'a CardRules),
    /// The page's structured-data listing (a pinned auto listing), with selectors that fill
    /// images and teasers from the matching cards.
    Structured { fill: Option<&'a CardRules> },
    /// Auto: structured data when it lists enough articles, else the best detected listing.
    Auto,
}

/// Extracts the cards of a page from `listing`.
pub fn extract(
    doc: &Html,
    listing: Listing<'_>,
    ctx: &PageContext<'_>,
) -> Result<PageExtraction, NoListing> {
    let base = select::document_base(doc, ctx.page_url, ctx.base_url);
    let data = structured::listing_data(doc, &base, &ctx.date);
    let listed = || {
        data.items
            .iter()
            .filter(|m| m.title.is_some() && m.url.is_some())
            .count()
    };
    let (extraction, elements, source) = match listing {
        Listing::Selectors(r) => {
            let (e, els) = select::extract_card_elements(doc, r, ctx);
            (
                e,
                els.into_iter().map(Some).collect(),
                CardSource::Selectors,
            )
        }
        Listing::Structured { fill } => {
            let n = listed();
            if n < MIN_STRUCTURED_ITEMS {
                return Err(NoListing {
                    reason: format!(
                        "the page's structured data lists {n} article(s), fewer than the {MIN_STRUCTURED_ITEMS} of its pinned listing"
                    ),
                });
            }
            let (e, els) = structured_cards(doc, &data, fill, ctx);
            (e, els, CardSource::Structured { detected: None })
        }
        Listing::Auto => {
            let candidates = detect::detect(doc, &base, &ctx.date);
            if listed() >= MIN_STRUCTURED_ITEMS {
                let detected = candidates.into_iter().next().map(Box::new);
                let fill = detected.as_deref().map(|c| &c.rules);
                let (e, els) = structured_cards(doc, &data, fill, ctx);
                (e, els, CardSource::Structured { detected })
            } else {
                let Some(best) = candidates.into_iter().next() else {
                    return Err(NoListing {
                        reason: no_listing_reason(doc, &data),
                    });
                };
                let (e, els) = select::extract_card_elements(doc, &best.rules, ctx);
                (
                    e,
                    els.into_iter().map(Some).collect::<Vec<_>>(),
                    CardSource::Detected(Box::new(best)),
                )
            }
        }
    };
    let mut out = PageExtraction {
        extraction,
        date_origins: Vec::new(),
        source,
        data,
    };
    apply_fallbacks(&mut out, &elements, ctx);
    Ok(out)
}

fn no_listing_reason(doc: &Html, data: &PageData) -> String {
    let html = doc.root_element().html();
    if let Some(d) = super::diagnose::diagnose_empty(&html) {
        return d.to_string();
    }
    let links = doc
        .select(&scraper::Selector::parse("a[href]").expect("static selector"))
        .count();
    format!(
        "{links} links on the page, but no three or more repeated cards linking to articles with headlines; {} structured article(s)",
        data.items.len()
    )
}

/// Cards from structured items, with the card the `fill` selectors find for the same link
/// (if any) filling image, teaser, author and date. Returns the cards and each card's
/// element, if found.
fn structured_cards<'a>(
    doc: &'a Html,
    data: &PageData,
    fill: Option<&CardRules>,
    ctx: &PageContext<'_>,
) -> (Extraction, Vec<Option<ElementRef<'a>>>) {
    let (dom, dom_elements) = match fill {
        Some(rules) => select::extract_card_elements(doc, rules, ctx),
        None => (Extraction::default(), Vec::new()),
    };
    let mut out = Extraction::default();
    let mut elements = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for m in &data.items {
        let (Some(title), Some(link)) = (&m.title, &m.url) else {
            continue;
        };
        let key = canon::canonical(link);
        if !seen.insert(key.clone()) || out.cards.len() >= ctx.max_cards {
            continue;
        }
        out.matched += 1;
        let mut card = card_from_meta(title, link, m);
        let twin = dom
            .cards
            .iter()
            .position(|c| canon::canonical(&c.link) == key);
        if let Some(i) = twin {
            let d = &dom.cards[i];
            card.image = card.image.or_else(|| d.image.clone());
            card.teaser = card.teaser.or_else(|| d.teaser.clone());
            if card.authors.is_empty() {
                card.authors.clone_from(&d.authors);
            }
            card.read_time = card.read_time.or(d.read_time);
            if card.categories.is_empty() {
                card.categories.clone_from(&d.categories);
            }
            if card.date.is_none() && d.date.is_some() {
                card.date = d.date;
                card.date_relative = d.date_relative;
            }
        }
        out.cards.push(card);
        elements.push(twin.and_then(|i| dom_elements.get(i).copied()));
    }
    (out, elements)
}

fn card_from_meta(title: &str, link: &url::Url, m: &ArticleMeta) -> Card {
    Card {
        title: fold_ws(title),
        link: link.clone(),
        authors: m.authors.clone(),
        read_time: m.read_time,
        teaser: m.description.clone(),
        date: m.date,
        date_relative: false,
        image: m.image.clone(),
        categories: m.categories.clone(),
    }
}

/// The date pipeline after the selector, and structured data for other missing fields.
fn apply_fallbacks(
    out: &mut PageExtraction,
    elements: &[Option<ElementRef<'_>>],
    ctx: &PageContext<'_>,
) {
    let structured_source = matches!(out.source, CardSource::Structured { .. });
    for (i, card) in out.extraction.cards.iter_mut().enumerate() {
        let mut origin = match (card.date, card.date_relative) {
            (Some(_), true) => DateOrigin::Relative,
            (Some(_), false) if structured_source => DateOrigin::Structured,
            (Some(_), false) => DateOrigin::Selector,
            (None, _) => DateOrigin::None,
        };
        let meta = out.data.item_for(&canon::canonical(&card.link));
        if let Some(m) = meta {
            if card.date.is_none()
                && let Some(d) = m.date
            {
                card.date = Some(d);
                card.date_relative = false;
                origin = DateOrigin::Structured;
            }
            if card.authors.is_empty() {
                card.authors.clone_from(&m.authors);
            }
            card.read_time = card.read_time.or(m.read_time);
            card.image = card.image.take().or_else(|| m.image.clone());
            card.teaser = card.teaser.take().or_else(|| m.description.clone());
            if card.categories.is_empty() {
                card.categories.clone_from(&m.categories);
            }
        }
        if card.date.is_none()
            && let Some(Some(el)) = elements.get(i)
            && let Some((d, kind)) = text_date(*el, ctx)
        {
            card.date = Some(d);
            card.date_relative = kind == DateKind::Relative;
            origin = if card.date_relative {
                DateOrigin::Relative
            } else {
                DateOrigin::Text
            };
        }
        if card.date.is_none()
            && let Some(d) = date_from_url(&card.link, &ctx.date)
        {
            card.date = Some(d);
            card.date_relative = false;
            origin = DateOrigin::Url;
        }
        out.date_origins.push(origin);
    }
}

/// A date printed in a card: its `<time>`, or a short element that is one date or one
/// relative phrase. Never a date inside a headline or teaser sentence.
fn text_date(
    card: ElementRef<'_>,
    ctx: &PageContext<'_>,
) -> Option<(chrono::DateTime<chrono::Utc>, DateKind)> {
    let el = detect::date_element(card, &ctx.date)?;
    el.value()
        .attr("datetime")
        .map(str::to_string)
        .into_iter()
        .chain(std::iter::once(select::element_text(el)))
        .find_map(|s| parse_date(&s, &ctx.date))
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};
    use url::Url;

    use super::*;
    use crate::extract::date::DateContext;

    fn run(html: &str, listing: Listing<'_>) -> PageExtraction {
        let doc = Html::parse_document(html);
        let url = Url::parse("https://news.example.org/").expect("url");
        let ctx = PageContext {
            page_url: &url,
            base_url: None,
            date: DateContext {
                format: None,
                tz: chrono_tz::Europe::Berlin,
                now: Utc
                    .with_ymd_and_hms(2026, 11, 26, 12, 0, 0)
                    .single()
                    .expect("valid"),
            },
            max_cards: 100,
        };
        extract(&doc, listing, &ctx).expect("cards")
    }

    fn rules(date: Option<&str>) -> CardRules {
        let set = detect::SelectorSet {
            card: "li".into(),
            title: "h3".into(),
            date: date.map(str::to_string),
            ..detect::SelectorSet::default()
        };
        set.compile().expect("rules")
    }

    /// One card per row: each row exercises one step of the date pipeline.
    #[test]
    fn date_pipeline_first_hit_wins() {
        let html = r#"<html><head><script type="application/ld+json">{"@type":"ItemList","itemListElement":[
            {"@type":"ListItem","url":"https://news.example.org/a/selector-wins-here","name":"A","item":{"@type":"NewsArticle","url":"https://news.example.org/a/selector-wins-here","headline":"A","datePublished":"2020-01-01"}},
            {"@type":"ListItem","item":{"@type":"NewsArticle","url":"https://news.example.org/a/structured-next-here","headline":"B","datePublished":"2026-11-02T08:00:00Z"}}
            ]}</script></head><body><ul>
          <li><h3><a href="/a/selector-wins-here">A</a></h3><time datetime="2026-11-01">1 Nov</time></li>
          <li><h3><a href="/a/structured-next-here">B</a></h3><span>3. November 2026</span></li>
          <li><h3><a href="/a/text-date-printed">C</a></h3><span class="x">24 novembre 2026</span></li>
          <li><h3><a href="/a/relative-phrase-only">D</a></h3><span>vor 3 Stunden</span></li>
          <li><h3><a href="/a/2026/11/20/dated-by-its-url">F</a></h3><p>No date printed.</p></li>
          <li><h3><a href="/a/nothing-at-all-here">E</a></h3><p>Published in 2026 at some point, nobody knows.</p></li>
        </ul></body></html>"#;
        let r = rules(Some("time@datetime"));
        let got = run(html, Listing::Selectors(&r));
        let dates: Vec<String> = got
            .extraction
            .cards
            .iter()
            .map(|c| c.date.map_or("-".into(), |d| d.to_rfc3339()))
            .collect();
        assert_eq!(
            dates,
            [
                "2026-10-31T23:00:00+00:00", // midnight in Berlin
                "2026-11-02T08:00:00+00:00",
                "2026-11-23T23:00:00+00:00",
                "2026-11-26T09:00:00+00:00",
                "2026-11-19T23:00:00+00:00", // the URL's day, midnight in Berlin
                "-",
            ]
        );
        assert_eq!(
            got.date_origins,
            [
                DateOrigin::Selector,
                DateOrigin::Structured,
                DateOrigin::Text,
                DateOrigin::Relative,
                DateOrigin::Url,
                DateOrigin::None
            ]
        );
        assert!(got.extraction.cards[3].date_relative);
        assert_eq!(got.dated(), (5, 6));
    }

    #[test]
    fn auto_prefers_a_structured_listing_and_fills_from_the_dom() {
        let cards: String = (1..=3)
            .map(|i| {
                format!(
                    r#"<article class="c" itemscope itemtype="https://schema.org/NewsArticle">
                    <img src="/img/{i}.jpg"><h2 itemprop="headline"><a itemprop="url" href="/news/story-{i}-about-mice">Story {i} about mice and men</a></h2>
                    <meta itemprop="datePublished" content="2026-11-1{i}"></article>"#
                )
            })
            .collect();
        let got = run(&format!("<body><main>{cards}</main></body>"), Listing::Auto);
        assert!(matches!(
            got.source,
            CardSource::Structured { detected: Some(_) }
        ));
        let c = &got.extraction.cards[0];
        assert_eq!(c.title, "Story 1 about mice and men");
        assert_eq!(
            c.image.as_ref().map(Url::as_str),
            Some("https://news.example.org/img/1.jpg")
        );
        assert_eq!(got.date_origins[0], DateOrigin::Structured);
    }

    #[test]
    fn auto_without_anything_is_an_error() {
        let doc = Html::parse_document("<body><p>Nothing to see.</p></body>");
        let url = Url::parse("https://news.example.org/").expect("url");
        let ctx = PageContext {
            page_url: &url,
            base_url: None,
            date: DateContext {
                format: None,
                tz: chrono_tz::UTC,
                now: Utc::now(),
            },
            max_cards: 10,
        };
        let err = extract(&doc, Listing::Auto, &ctx).expect_err("nothing");
        assert!(err.to_string().contains("no article listing"), "{err}");
    }
}
