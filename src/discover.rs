//! `scifeed discover` and `scifeed preview`: what auto-detection and a feed's selectors find
//! on a page, as a report for people (text) or machines (JSON), plus a ready-to-paste
//! `[[feed]]` block.
//!
//! The page is fetched exactly as `run` fetches it ([`fetch_page`]: the same `Fetcher`,
//! settings and decoding), and extracted by the same stage ([`stage`]) with the same rules,
//! limits and remembered listing, so `preview` shows the cards `run` stores. Everything after
//! the fetch is pure: (html, URLs, rules, what the store remembers, now) -> report.

use std::collections::HashSet;
use std::fmt::Write as _;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use serde::Serialize;
use std::sync::Arc;

use url::Url;

use crate::extract::detect::{Features, SelectorSet};
use crate::extract::page::{CardSource, DateOrigin};
use crate::extract::stage::{self, ListingPage, Rules, SelectorStat};
use crate::extract::structured::PageData;
use crate::feed::{FeedSpec, Settings};
use crate::fetch::gate::HostGates;
use crate::fetch::robots::RobotsCache;
use crate::fetch::{FetchError, Fetched, Fetcher, Validators};
use crate::heal::{
    self, ListingMemory, MemoryKind, Plan, Remember, RememberedListing, SettleError,
};
use crate::model::Card;
use crate::report::format_time;
use crate::store::RobotsRecord;

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
        Fetched::NotModified | Fetched::Unchanged(_) => Err(FetchError::Other {
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
    pub categories: Vec<String>,
}

/// Names as one line for display ("Ann Lee, Bo Chen").
fn joined(names: &[String]) -> Option<String> {
    (!names.is_empty()).then(|| names.join(", "))
}

impl Sample {
    fn new(card: &Card, origin: DateOrigin) -> Self {
        Sample {
            title: card.title.clone(),
            // What the feed will link to: tracking parameters and fragments removed.
            link: crate::canon::canonical(&card.link),
            author: joined(&card.authors),
            read_time: card.read_time,
            date: card
                .date
                .map(|d| d.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)),
            date_from: origin.label(),
            image: card.image.as_ref().map(ToString::to_string),
            teaser: card.teaser.clone(),
            categories: card.categories.clone(),
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
            page_author: joined(&d.page.authors),
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
    /// Cards taken from one page at most (`max_cards`).
    pub max_cards: usize,
}

/// Runs detection on a page and builds the report. Pure.
pub fn discover(html: &str, page_url: &Url, opts: &DiscoverOptions<'_>) -> Discovery {
    let rules = Rules::auto(opts.base_url, opts.tz, opts.max_cards);
    let survey = stage::survey(html, page_url, &rules, opts.now);
    let reports: Vec<CandidateReport> = survey
        .candidates
        .iter()
        .take(opts.top)
        .enumerate()
        .filter_map(|(i, page)| candidate_report(page, i + 1, opts.samples))
        .collect();
    let toml = survey.candidates.first().and_then(|page| {
        let CardSource::Detected(c) = &page.source else {
            return None;
        };
        let title = survey
            .title
            .clone()
            .unwrap_or_else(|| survey.base.host_str().unwrap_or("News").to_string());
        Some(feed_toml(
            &feed_id(&survey.base),
            &title,
            opts.source,
            opts.base_url,
            &c.selectors,
        ))
    });
    Discovery {
        url: opts.source.to_string(),
        base: survey.base.to_string(),
        structured: StructuredReport::new(&survey.data),
        candidates: reports,
        diagnosis: survey.diagnosis,
        toml,
    }
}

fn candidate_report(page: &ListingPage, rank: usize, samples: usize) -> Option<CandidateReport> {
    let CardSource::Detected(c) = &page.source else {
        return None;
    };
    Some(CandidateReport {
        rank,
        score: (c.score * 100.0).round() / 100.0,
        cards: c.cards,
        matched: c.matched,
        exact: c.exact,
        selectors: c.selectors.clone(),
        features: c.features.clone(),
        penalties: c.penalties.clone(),
        // The samples went through the same extraction (date pipeline, limits) as `run`.
        samples: page
            .cards
            .iter()
            .zip(&page.date_origins)
            .take(samples)
            .map(|(card, o)| Sample::new(card, *o))
            .collect(),
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
    out.push_str(&heal::select_block(selectors));
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

/// Which remembered listing a preview read, or what `run` would remember from it.
#[derive(Debug, Clone, Serialize)]
pub struct ListingReport {
    /// "pinned" or "healed" (remembered by earlier runs), "pin" (an auto feed's first
    /// success would pin this listing), "heal" (the selectors broke; `run` would heal with
    /// this listing).
    pub state: &'static str,
    /// The card selectors, or the selectors that fill a structured listing.
    pub selectors: Option<SelectorSet>,
    /// The listing is the page's structured data.
    pub structured: bool,
    /// When it was pinned or healed (RFC 3339).
    pub since: Option<String>,
    /// The card selector that stopped working (healed).
    pub broken: Option<String>,
    /// For a healed listing: the `[feed.select]` block to paste.
    pub paste: Option<String>,
}

impl ListingReport {
    fn new(
        state: &'static str,
        listing: &RememberedListing,
        memory: Option<&ListingMemory>,
    ) -> Self {
        let (selectors, structured) = match listing {
            RememberedListing::Selectors(s) => (Some(s.clone()), false),
            RememberedListing::Structured { fill } => (fill.clone(), true),
        };
        ListingReport {
            state,
            paste: selectors
                .as_ref()
                .filter(|_| matches!(state, "healed" | "heal"))
                .map(heal::select_block),
            selectors,
            structured,
            since: memory.map(|m| m.since.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)),
            broken: memory.and_then(|m| m.broken.clone()),
        }
    }
}

/// Everything `preview` says about a page.
#[derive(Debug, Clone, Serialize)]
pub struct Preview {
    pub url: String,
    pub feed: Option<String>,
    /// "selectors", "auto-detected" or "structured data".
    pub source: String,
    /// The remembered listing read (or the one `run` would remember now).
    pub listing: Option<ListingReport>,
    pub selectors: Vec<SelectorStat>,
    pub cards: Vec<Sample>,
    pub warnings: Vec<String>,
    /// Cards whose date came from the page, and all cards.
    pub dated: (usize, usize),
}

/// Options of a preview.
#[derive(Debug, Clone)]
pub struct PreviewOptions<'a> {
    /// The feed previewed; `None`: auto-detection on a page given by URL.
    pub feed: Option<&'a FeedSpec>,
    /// For a page given by URL: its original address.
    pub base_url: Option<&'a Url>,
    /// What the store remembers about the feed's listing.
    pub memory: Option<ListingMemory>,
    /// Ids of the items the feed has published (to heal as `run` would).
    pub known: HashSet<String>,
    pub now: DateTime<Utc>,
    pub max_cards: usize,
}

/// Extracts a page as `run` would (same stage, rules, limits, pin and healing) and reports
/// selector matches and cards. Pure.
pub fn preview(
    html: &str,
    page_url: &Url,
    opts: &PreviewOptions<'_>,
) -> Result<Preview, SettleError> {
    let (page, listing) = match opts.feed {
        Some(feed) => {
            let plan = Plan::new(feed, opts.memory.clone());
            let mut rules = Rules::for_feed(feed, plan.listing(feed), opts.max_cards);
            rules.stats = true;
            let result = stage::listing(html, page_url, &rules, opts.now);
            let settled = heal::settle(feed, &plan, result, || Ok(opts.known.clone()), opts.now)?;
            let listing = match (&settled.remember, plan.memory()) {
                (Remember::Save(m), _) if m.kind == MemoryKind::Healed => {
                    Some(ListingReport::new("heal", &m.listing, None))
                }
                (Remember::Save(m), _) => Some(ListingReport::new("pin", &m.listing, None)),
                (_, Some(m)) => Some(ListingReport::new(m.kind.as_str(), &m.listing, Some(m))),
                _ => None,
            };
            (settled.page, listing)
        }
        None => {
            let mut rules = Rules::auto(opts.base_url, chrono_tz::UTC, opts.max_cards);
            rules.stats = true;
            let page =
                stage::listing(html, page_url, &rules, opts.now).map_err(SettleError::Extract)?;
            (page, None)
        }
    };
    let source = match &page.source {
        CardSource::Selectors => "selectors".to_string(),
        CardSource::Detected(c) => format!("auto-detected (score {:.2})", c.score),
        CardSource::Structured { .. } => "structured data (JSON-LD / microdata)".to_string(),
    };
    let cards = &page.cards;
    let mut warnings = page.warnings.clone();
    let with_cards = page.stats.first().map_or(0, |s| s.elements);
    for s in page.stats.iter().skip(1) {
        if s.elements == 0 {
            warnings.push(format!(
                "{}: selector `{}` matched nothing in {with_cards} card(s)",
                s.field, s.selector
            ));
        } else if s.cards_with_value == 0 && !cards.is_empty() {
            warnings.push(format!(
                "{}: selector `{}` matched {} element(s) but gave no value",
                s.field, s.selector, s.elements
            ));
        }
    }
    let n = cards.len();
    for (name, missing) in [
        (
            "author",
            cards.iter().filter(|c| c.authors.is_empty()).count(),
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
        feed: opts.feed.map(|f| f.id.clone()),
        source,
        listing,
        selectors: page.stats.clone(),
        cards: cards
            .iter()
            .zip(&page.date_origins)
            .map(|(c, o)| Sample::new(c, *o))
            .collect(),
        warnings,
        dated: page.dated(),
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

fn render_listing(l: &ListingReport) -> String {
    let card = if l.structured {
        "structured data".to_string()
    } else {
        l.selectors
            .as_ref()
            .map_or_else(String::new, |s| format!("`{}`", s.card))
    };
    let since = l
        .since
        .as_deref()
        .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
        .map(|t| format_time(t.with_timezone(&Utc)))
        .unwrap_or_default();
    let mut out = match l.state {
        "pinned" => format!(
            "listing: pinned {card} since {since} (re-detected only when it stops matching)\n"
        ),
        "healed" => format!(
            "listing: healed {since}: card selector `{}` replaced by {card}\n",
            l.broken.as_deref().unwrap_or("")
        ),
        "pin" => format!("listing: {card} (a run pins it at its first success)\n"),
        _ => format!("listing: the card selector stopped matching; a run would heal with {card}\n"),
    };
    if let Some(paste) = &l.paste {
        out.push_str("         paste into the feed's [[feed]] to keep it:\n");
        for line in paste.lines() {
            let _ = writeln!(out, "         {line}");
        }
    }
    out
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
    if let Some(l) = &p.listing {
        out.push_str(&render_listing(l));
    }
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
    use crate::extract::select::FieldSelector;

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
                max_cards: 500,
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
        let cfg = config::parse(
            "[[feed]]\nid = \"lab\"\ntitle = \"Lab\"\nurl = \"https://lab.example.org/news/\"\n[feed.select]\ncard = \"li.story\"\ntitle = \"h2\"\nauthor = \".story__byline\"\nread_time = \".reading-time\"\ndate = \"time@datetime\"\n",
            Path::new("t.toml"),
            &Overrides::default(),
        )
        .expect("valid");
        let p = preview(
            &page(),
            &url,
            &PreviewOptions {
                feed: Some(&cfg.feeds[0]),
                base_url: None,
                memory: None,
                known: HashSet::new(),
                now: now(),
                max_cards: 50,
            },
        )
        .expect("preview");
        assert!(
            p.listing.is_none(),
            "a selector feed has nothing to remember"
        );
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
