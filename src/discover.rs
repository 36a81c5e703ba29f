//! `scifeed discover` and `scifeed preview`: what auto-detection and a feed's selectors find
//! on a page, as a report for people (text) or machines (JSON), plus a ready-to-paste
//! `[[feed]]` block.
//!
//! The page is fetched exactly as `run` fetches it ([`fetch_page`]: the same `Fetcher`,
//! settings and decoding); everything after that is pure: (html, URLs, rules, now) -> report.

use std::fmt::Write as _;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use scraper::{ElementRef, Html};
use serde::Serialize;
use std::sync::Arc;

use url::Url;

use crate::extract::date::DateContext;
use crate::extract::detect::{self, Candidate, Features, SelectorSet};
use crate::extract::page::{self, CardSource, DateOrigin, NoListing, PageExtraction};
use crate::extract::select::{self, CardRules, FieldSelector, PageContext};
use crate::extract::structured::{self, PageData};
use crate::feed::Settings;
use crate::fetch::gate::HostGates;
use crate::fetch::robots::RobotsCache;
use crate::fetch::{FetchError, Fetched, Fetcher};
use crate::model::Card;
use crate::store::RobotsRecord;
use crate::store::Validators;

/// A page as `run` sees it: final URL and decoded text.
#[derive(Debug, Clone)]
pub struct FetchedPage {
    pub url: Url,
    pub status: u16,
    pub text: String,
}

/// Fetches a page the way `run` does (no validators: a preview always wants the body).
pub async fn fetch_page(settings: &Settings, url: &Url) -> Result<FetchedPage, FetchError> {
    let gates = HostGates::for_run(&settings.crawl, url.host_str().map(|h| (h, None)));
    let fetcher = Fetcher::new(
        &settings.user_agent,
        &settings.crawl,
        gates,
        Arc::new(NoRobotsCache),
        chrono::Utc::now(),
    )?;
    match fetcher.fetch(url, &Validators::default()).await? {
        Fetched::Page(p) => Ok(FetchedPage {
            text: crate::decode::decode(&p.body, p.content_type.as_deref()).into_owned(),
            url: p.url,
            status: p.status,
        }),
        Fetched::NotModified => Err(FetchError::Other {
            url: url.to_string(),
            cause: "server answered 304 Not Modified to an unconditional request".into(),
        }),
    }
}

/// `discover` and `preview` read robots.txt afresh (one request) rather than touching a
/// state file another run may hold.
struct NoRobotsCache;

impl RobotsCache for NoRobotsCache {
    fn load(&self, _origin: &str) -> Option<RobotsRecord> {
        None
    }
    fn save(&self, _record: &RobotsRecord) {}
}

/// One card as the reports show it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Sample {
    pub title: String,
    pub link: String,
    pub author: Option<String>,
    pub read_time: Option<u32>,
    /// RFC 3339.
    pub date: Option<String>,
    /// Where the date came from ("selector", "structured", "text", "relative", "first-seen").
    pub date_from: &'static str,
    pub image: Option<String>,
    pub teaser: Option<String>,
}

impl Sample {
    fn new(card: &Card, origin: DateOrigin) -> Self {
        Sample {
            title: card.title.clone(),
            // What the feed will link to: tracking parameters and fragments removed.
            link: crate::canon::canonical(&card.link),
            author: card.author.clone(),
            read_time: card.read_time,
            date: card
                .date
                .map(|d| d.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)),
            date_from: origin.label(),
            image: card.image.as_ref().map(ToString::to_string),
            teaser: card.teaser.clone(),
        }
    }
}

/// One detected listing in a discovery report.
#[derive(Debug, Clone, Serialize)]
pub struct CandidateReport {
    pub rank: usize,
    pub score: f64,
    pub cards: usize,
    /// Elements the card selector matches.
    pub matched: usize,
    /// Whether the card selector matches exactly the detected cards.
    pub exact: bool,
    pub selectors: SelectorSet,
    pub features: Features,
    pub penalties: Vec<String>,
    pub samples: Vec<Sample>,
}

/// What structured data the page holds.
#[derive(Debug, Clone, Serialize)]
pub struct StructuredReport {
    pub json_ld_blocks: usize,
    pub json_ld_errors: usize,
    /// Articles the page lists in JSON-LD or microdata.
    pub listed_articles: usize,
    pub page_title: Option<String>,
    pub page_date: Option<String>,
    pub page_author: Option<String>,
}

impl StructuredReport {
    fn new(d: &PageData) -> Self {
        StructuredReport {
            json_ld_blocks: d.json_ld_blocks,
            json_ld_errors: d.json_ld_errors,
            listed_articles: d.items.len(),
            page_title: d.page.title.clone(),
            page_date: d
                .page
                .date
                .map(|d| d.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)),
            page_author: d.page.author.clone(),
        }
    }
}

/// Everything `discover` says about a page.
#[derive(Debug, Clone, Serialize)]
pub struct Discovery {
    pub url: String,
    /// What links resolve against (`--base-url`, `<base href>` or the URL).
    pub base: String,
    pub structured: StructuredReport,
    pub candidates: Vec<CandidateReport>,
    /// Why nothing was found, when the page says why (bot wall, JavaScript app).
    pub diagnosis: Option<String>,
    /// A `[[feed]]` block for the best candidate.
    pub toml: Option<String>,
}

/// Options of a discovery.
#[derive(Debug, Clone)]
pub struct DiscoverOptions<'a> {
    /// The URL as the user gave it (goes into the TOML block).
    pub source: &'a Url,
    pub base_url: Option<&'a Url>,
    pub now: DateTime<Utc>,
    pub tz: Tz,
    /// Candidates shown.
    pub top: usize,
    /// Sample cards per candidate.
    pub samples: usize,
}

/// Runs detection on a page and builds the report. Pure.
pub fn discover(html: &str, page_url: &Url, opts: &DiscoverOptions<'_>) -> Discovery {
    // A page too deep or too big to parse safely has no candidates.
    let doc =
        crate::extract::parse::parse_document(html).unwrap_or_else(|_| Html::parse_document(""));
    let base = select::document_base(&doc, page_url, opts.base_url);
    let date = DateContext {
        format: None,
        tz: opts.tz,
        now: opts.now,
    };
    let data = structured::page_data(&doc, &base, &date);
    let candidates = detect::detect(&doc, &base, &date);
    let ctx = PageContext {
        page_url,
        base_url: opts.base_url,
        date,
        max_cards: usize::MAX,
    };
    let reports: Vec<CandidateReport> = candidates
        .iter()
        .take(opts.top)
        .enumerate()
        .map(|(i, c)| candidate_report(&doc, c, i + 1, &ctx, opts.samples))
        .collect();
    let toml = candidates.first().map(|c| {
        let title = data
            .page
            .title
            .clone()
            .or_else(|| site_name(&doc))
            .unwrap_or_else(|| base.host_str().unwrap_or("News").to_string());
        feed_toml(
            &feed_id(&base),
            &title,
            opts.source,
            opts.base_url,
            &c.selectors,
        )
    });
    let diagnosis = if candidates.is_empty() {
        crate::pipeline::diagnose_empty(html).map(str::to_string)
    } else {
        None
    };
    Discovery {
        url: opts.source.to_string(),
        base: base.to_string(),
        structured: StructuredReport::new(&data),
        candidates: reports,
        diagnosis,
        toml,
    }
}

fn candidate_report(
    doc: &Html,
    c: &Candidate,
    rank: usize,
    ctx: &PageContext<'_>,
    samples: usize,
) -> CandidateReport {
    // The samples go through the same extraction (and date pipeline) as `run`.
    let cards = page::extract(doc, Some(&c.rules), ctx)
        .map(|p| {
            p.extraction
                .cards
                .iter()
                .zip(&p.date_origins)
                .take(samples)
                .map(|(card, o)| Sample::new(card, *o))
                .collect()
        })
        .unwrap_or_default();
    CandidateReport {
        rank,
        score: (c.score * 100.0).round() / 100.0,
        cards: c.cards,
        matched: c.matched,
        exact: c.exact,
        selectors: c.selectors.clone(),
        features: c.features.clone(),
        penalties: c.penalties.clone(),
        samples: cards,
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

/// A feed id from the site's host: "www.eurekalert.org" -> "eurekalert-org".
pub fn feed_id(base: &Url) -> String {
    let host = base.host_str().unwrap_or("feed").trim_start_matches("www.");
    let mut id: String = host
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    id.truncate(64);
    let id = id.trim_matches('-').to_string();
    if crate::config::valid_id(&id) {
        id
    } else {
        "feed".to_string()
    }
}

/// A `[[feed]]` block with the given selectors; `config::parse` accepts it as it is.
pub fn feed_toml(
    id: &str,
    title: &str,
    url: &Url,
    base_url: Option<&Url>,
    selectors: &SelectorSet,
) -> String {
    let q = |s: &str| toml::Value::String(s.to_string()).to_string();
    let mut out = String::from("[[feed]]\n");
    let _ = writeln!(out, "id = {}", q(id));
    let _ = writeln!(out, "title = {}", q(title));
    let _ = writeln!(out, "url = {}", q(url.as_str()));
    if let Some(b) = base_url {
        let _ = writeln!(out, "base_url = {}", q(b.as_str()));
    }
    out.push_str("[feed.select]\n");
    for (key, sel) in selectors.fields() {
        let _ = writeln!(out, "{key} = {}", q(sel));
    }
    out
}

/// The text report of `discover`.
pub fn render_discovery(d: &Discovery) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "page:       {}", d.url);
    if d.base != d.url {
        let _ = writeln!(out, "links from: {}", d.base);
    }
    let s = &d.structured;
    let _ = writeln!(
        out,
        "structured: {} JSON-LD block(s){}, {} listed article(s)",
        s.json_ld_blocks,
        if s.json_ld_errors > 0 {
            format!(" ({} unreadable)", s.json_ld_errors)
        } else {
            String::new()
        },
        s.listed_articles
    );
    if d.candidates.is_empty() {
        let _ = writeln!(
            out,
            "\nno article listing found: no three or more repeated cards that link to articles with headlines"
        );
        if let Some(why) = &d.diagnosis {
            let _ = writeln!(out, "cause: {why}");
        }
        return out;
    }
    for c in &d.candidates {
        let f = &c.features;
        let pct = |x: f64| format!("{:.0}%", x * 100.0);
        let _ = writeln!(
            out,
            "\n#{} score {:.2}: {} cards, card selector matches {}{}",
            c.rank,
            c.score,
            c.cards,
            c.matched,
            if c.exact { " (exact)" } else { " (not exact)" }
        );
        let _ = writeln!(
            out,
            "   headings {}  images {}  teasers {}  dates {}  authors {}  lists merged {}",
            pct(f.headings),
            pct(f.images),
            pct(f.teasers),
            pct(f.dates),
            pct(f.authors),
            f.parts
        );
        if !c.penalties.is_empty() {
            let _ = writeln!(out, "   penalties: {}", c.penalties.join("; "));
        }
        for (k, v) in c.selectors.fields() {
            let _ = writeln!(out, "   {k:<9} {v}");
        }
        for (i, s) in c.samples.iter().enumerate() {
            let _ = writeln!(out, "   {:>2}. {}", i + 1, s.title);
            let mut meta: Vec<String> = Vec::new();
            if let Some(a) = &s.author {
                meta.push(a.clone());
            }
            if let Some(m) = s.read_time {
                meta.push(format!("{m} min read"));
            }
            if let Some(d) = &s.date {
                meta.push(format!("{d} ({})", s.date_from));
            }
            meta.push(s.link.clone());
            let _ = writeln!(out, "       {}", meta.join(" | "));
        }
    }
    if let Some(t) = &d.toml {
        let _ = writeln!(
            out,
            "\n# Ready to paste into your config (candidate #1):\n{t}"
        );
    }
    out
}

/// How one selector fared on the page.
#[derive(Debug, Clone, Serialize)]
pub struct SelectorStat {
    pub field: &'static str,
    pub selector: String,
    /// Elements matched (for `card`: in the page; for fields: inside the cards, summed).
    pub elements: usize,
    /// Cards that got a value for the field (`card`: cards extracted).
    pub cards_with_value: usize,
}

/// A field of the rules: its name, its selector, and whether a card has a value for it.
type FieldCheck<'a> = (&'static str, Option<&'a FieldSelector>, fn(&Card) -> bool);

/// Everything `preview` says about a page.
#[derive(Debug, Clone, Serialize)]
pub struct Preview {
    pub url: String,
    pub feed: Option<String>,
    /// "selectors", "auto-detected" or "structured data".
    pub source: String,
    pub selectors: Vec<SelectorStat>,
    pub cards: Vec<Sample>,
    pub warnings: Vec<String>,
    /// Cards whose date came from the page, and all cards.
    pub dated: (usize, usize),
}

/// Options of a preview.
#[derive(Debug, Clone)]
pub struct PreviewOptions<'a> {
    pub feed: Option<&'a str>,
    pub rules: Option<&'a CardRules>,
    pub base_url: Option<&'a Url>,
    pub date_format: Option<&'a str>,
    pub tz: Tz,
    pub now: DateTime<Utc>,
    pub max_cards: usize,
}

/// Extracts a page as `run` would and reports selector matches and cards. Pure.
pub fn preview(
    html: &str,
    page_url: &Url,
    opts: &PreviewOptions<'_>,
) -> Result<Preview, NoListing> {
    let doc = crate::extract::parse::parse_document(html).map_err(|reason| NoListing {
        reason: format!("page {reason}"),
    })?;
    let ctx = PageContext {
        page_url,
        base_url: opts.base_url,
        date: DateContext {
            format: opts.date_format,
            tz: opts.tz,
            now: opts.now,
        },
        max_cards: opts.max_cards,
    };
    let found: PageExtraction = page::extract(&doc, opts.rules, &ctx)?;
    let source = match &found.source {
        CardSource::Selectors => "selectors".to_string(),
        CardSource::Detected(c) => format!("auto-detected (score {:.2})", c.score),
        CardSource::Structured { .. } => "structured data (JSON-LD / microdata)".to_string(),
    };
    let cards = &found.extraction.cards;
    let mut stats = Vec::new();
    let mut warnings: Vec<String> = found
        .extraction
        .warnings
        .iter()
        .map(ToString::to_string)
        .collect();
    if let Some(rules) = found.source.rules(opts.rules) {
        let elements: Vec<ElementRef<'_>> = doc.select(&rules.card).collect();
        stats.push(SelectorStat {
            field: "card",
            selector: rules.card_source.clone(),
            elements: elements.len(),
            cards_with_value: cards.len(),
        });
        let fields: [FieldCheck<'_>; 8] = [
            ("title", Some(&rules.title), |_| true),
            ("link", rules.link.as_ref(), |_| true),
            ("author", rules.author.as_ref(), |c| c.author.is_some()),
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
            let matched: usize = elements.iter().map(|e| sel.matches(*e).len()).sum();
            let with = cards.iter().filter(|c| has(c)).count();
            if matched == 0 {
                warnings.push(format!(
                    "{field}: selector `{}` matched nothing in {} card(s)",
                    sel.source(),
                    elements.len()
                ));
            } else if with == 0 && !cards.is_empty() {
                warnings.push(format!(
                    "{field}: selector `{}` matched {matched} element(s) but gave no value",
                    sel.source()
                ));
            }
            stats.push(SelectorStat {
                field,
                selector: sel.source().to_string(),
                elements: matched,
                cards_with_value: with,
            });
        }
    }
    let n = cards.len();
    for (name, missing) in [
        (
            "author",
            cards.iter().filter(|c| c.author.is_none()).count(),
        ),
        ("date", cards.iter().filter(|c| c.date.is_none()).count()),
        (
            "read time",
            cards.iter().filter(|c| c.read_time.is_none()).count(),
        ),
    ] {
        if n > 0 && missing == n {
            let note = if name == "date" {
                "; items get their first-seen time (enrich = true can read it from the article pages)"
            } else {
                ""
            };
            warnings.push(format!("{name}: empty in all {n} card(s){note}"));
        } else if missing > 0 {
            warnings.push(format!("{name}: empty in {missing} of {n} card(s)"));
        }
    }
    Ok(Preview {
        url: page_url.to_string(),
        feed: opts.feed.map(str::to_string),
        source,
        selectors: stats,
        cards: cards
            .iter()
            .zip(&found.date_origins)
            .map(|(c, o)| Sample::new(c, *o))
            .collect(),
        warnings,
        dated: found.dated(),
    })
}

fn cut(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(max.saturating_sub(1)).collect();
        t.push('…');
        t
    }
}

/// The text report of `preview`: selector table, card table, warnings.
pub fn render_preview(p: &Preview) -> String {
    let mut out = String::new();
    if let Some(f) = &p.feed {
        let _ = writeln!(out, "feed:    {f}");
    }
    let _ = writeln!(out, "page:    {}", p.url);
    let _ = writeln!(out, "cards:   {} from {}", p.cards.len(), p.source);
    let _ = writeln!(out, "dates:   {} of {} from the page", p.dated.0, p.dated.1);
    if !p.selectors.is_empty() {
        out.push_str("\nfield      matched  with value  selector\n");
        for s in &p.selectors {
            let _ = writeln!(
                out,
                "{:<10} {:>7}  {:>10}  {}",
                s.field, s.elements, s.cards_with_value, s.selector
            );
        }
    }
    out.push('\n');
    let rows: Vec<[String; 6]> = std::iter::once([
        "#".to_string(),
        "title".into(),
        "author".into(),
        "read".into(),
        "date".into(),
        "link".into(),
    ])
    .chain(p.cards.iter().enumerate().map(|(i, c)| {
        [
            (i + 1).to_string(),
            cut(&c.title, 48),
            cut(c.author.as_deref().unwrap_or("-"), 20),
            c.read_time.map_or("-".into(), |m| format!("{m}m")),
            c.date
                .as_deref()
                .map_or_else(|| "-".to_string(), |d| d.get(..10).unwrap_or(d).to_string())
                + if c.date_from == "relative" { "~" } else { "" },
            c.link.clone(),
        ]
    }))
    .collect();
    let mut widths = [0usize; 6];
    for r in &rows {
        for (w, c) in widths.iter_mut().zip(r) {
            *w = (*w).max(c.chars().count());
        }
    }
    for r in &rows {
        let mut line = String::new();
        for (i, (c, w)) in r.iter().zip(widths).enumerate() {
            let pad = w - c.chars().count();
            if i == 0 {
                let _ = write!(line, "{}{c}  ", " ".repeat(pad));
            } else {
                let _ = write!(line, "{c}{}  ", " ".repeat(pad));
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    for w in &p.warnings {
        let _ = writeln!(out, "warning: {w}");
    }
    out
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use chrono::TimeZone;

    use super::*;
    use crate::config::{self, Overrides};

    fn page() -> String {
        let cards: String = (1..=4)
            .map(|i| {
                format!(
                    r#"<li class="story"><h2 class="story__title"><a href="/2026/11/mice-study-number-{i}">Mice study number {i} finds something "new"</a></h2>
                    <p class="story__byline">By Ann Lee{i}</p><time datetime="2026-11-2{i}T10:00:00Z">Nov 2{i}</time></li>"#
                )
            })
            .collect();
        format!(
            "<html><head><title>Lab News</title></head><body><ul class=\"stories\">{cards}</ul></body></html>"
        )
    }

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 26, 12, 0, 0)
            .single()
            .expect("valid")
    }

    #[test]
    fn discovered_toml_round_trips_through_the_config_parser() {
        let src = Url::parse("file:///tmp/saved/page.html").expect("url");
        let base = Url::parse("https://lab.example.org/news/").expect("url");
        let d = discover(
            &page(),
            &src,
            &DiscoverOptions {
                source: &src,
                base_url: Some(&base),
                now: now(),
                tz: chrono_tz::UTC,
                top: 3,
                samples: 2,
            },
        );
        let best = &d.candidates[0];
        assert_eq!(best.cards, 4);
        assert_eq!(best.samples.len(), 2);
        assert_eq!(best.samples[0].author.as_deref(), Some("Ann Lee1"));
        assert_eq!(best.samples[0].date_from, "selector");
        let toml = d.toml.as_deref().expect("toml");
        assert!(toml.contains("id = \"lab-example-org\""), "{toml}");
        let cfg = config::parse(toml, Path::new("x/feeds.toml"), &Overrides::default())
            .unwrap_or_else(|e| panic!("{e}\n{toml}"));
        let feed = &cfg.feeds[0];
        assert_eq!(feed.base_url.as_ref(), Some(&base));
        assert_eq!(feed.url, src);
        assert_eq!(feed.title, "Lab News");
        let rules = feed.rules.as_ref().expect("selectors");
        let sel = &best.selectors;
        assert_eq!(rules.card_source, sel.card);
        assert_eq!(rules.title.source(), sel.title);
        assert_eq!(
            rules.author.as_ref().map(FieldSelector::source),
            sel.author.as_deref()
        );
        assert_eq!(
            rules.date.as_ref().map(FieldSelector::source),
            sel.date.as_deref()
        );
        let text = render_discovery(&d);
        assert!(text.contains("#1 score"), "{text}");
        assert!(text.contains("[[feed]]"), "{text}");
    }

    #[test]
    fn quotes_and_backslashes_in_selectors_survive_the_toml() {
        let sel = SelectorSet {
            card: r#"div[data-x="a\"b"] > li"#.into(),
            title: "h2 a[title='x']".into(),
            ..SelectorSet::default()
        };
        let url = Url::parse("https://e.org/").expect("url");
        let toml = feed_toml("e", "E \"quoted\"", &url, None, &sel);
        let cfg = config::parse(&toml, Path::new("f.toml"), &Overrides::default())
            .unwrap_or_else(|e| panic!("{e}\n{toml}"));
        let rules = cfg.feeds[0].rules.as_ref().expect("rules");
        assert_eq!(rules.card_source, sel.card);
        assert_eq!(cfg.feeds[0].title, "E \"quoted\"");
    }

    #[test]
    fn preview_counts_selector_matches_and_warns_about_empty_fields() {
        let url = Url::parse("https://lab.example.org/news/").expect("url");
        let set = SelectorSet {
            card: "li.story".into(),
            title: "h2".into(),
            author: Some(".story__byline".into()),
            date: Some("time@datetime".into()),
            read_time: Some(".reading-time".into()),
            ..SelectorSet::default()
        };
        let rules = set.compile().expect("rules");
        let p = preview(
            &page(),
            &url,
            &PreviewOptions {
                feed: Some("lab"),
                rules: Some(&rules),
                base_url: None,
                date_format: None,
                tz: chrono_tz::UTC,
                now: now(),
                max_cards: 50,
            },
        )
        .expect("preview");
        let counts: Vec<(&str, usize, usize)> = p
            .selectors
            .iter()
            .map(|s| (s.field, s.elements, s.cards_with_value))
            .collect();
        assert_eq!(
            counts,
            [
                ("card", 4, 4),
                ("title", 4, 4),
                ("author", 4, 4),
                ("read_time", 0, 0),
                ("date", 4, 4)
            ]
        );
        assert_eq!(p.dated, (4, 4));
        assert!(
            p.warnings
                .iter()
                .any(|w| w.contains("read_time: selector `.reading-time` matched nothing")),
            "{:?}",
            p.warnings
        );
        let text = render_preview(&p);
        assert!(text.contains("Ann Lee1"), "{text}");
        assert!(text.contains("2026-11-21"), "{text}");
    }

    #[test]
    fn feed_ids_from_hosts() {
        for (u, id) in [
            ("https://www.eurekalert.org/", "eurekalert-org"),
            ("https://news.example.co.uk/x", "news-example-co-uk"),
            ("file:///tmp/x.html", "feed"),
        ] {
            assert_eq!(feed_id(&Url::parse(u).expect("url")), id);
        }
    }
}
