//! Structured data: what a page says about its articles in machine-readable form. A parsed
//! page, its base URL and a date context in; a [`PageData`] out.
//!
//! Sources, most trusted first: JSON-LD (`Article`/`NewsArticle`/`BlogPosting`/..., `ItemList`,
//! `@graph`, arrays), microdata (`itemscope`/`itemprop`), OpenGraph / `article:*` / Dublin Core /
//! citation meta tags, and last a few DOM conventions (`<time datetime>`, `rel=author`,
//! byline and date classes, `<h1>`). Listing pages yield [`PageData::items`] (one entry per
//! listed article); article pages yield [`PageData::page`], the page's own article. Pure.

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use scraper::{ElementRef, Html, Selector};
use serde_json::Value;
use url::Url;

use super::date::{DateContext, DateKind, parse_date};
use super::fields::{parse_author, parse_iso_duration_minutes, parse_read_time};
use super::meta::split_authors;
use super::text::{element_text, fold_ws};
use super::vocab;
use crate::canon;

/// What structured data says about one article. Every field is optional: sources differ.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ArticleMeta {
    /// Absolute http(s) URL of the article.
    pub url: Option<Url>,
    pub title: Option<String>,
    /// One entry per person.
    pub authors: Vec<String>,
    /// Publication date.
    pub date: Option<DateTime<Utc>>,
    pub image: Option<Url>,
    /// Stated reading time in minutes (`timeRequired`, "Est. reading time").
    pub read_time: Option<u32>,
    pub description: Option<String>,
    /// Stated word count (`wordCount`), or the words of the article body on article pages.
    pub word_count: Option<u32>,
    pub categories: Vec<String>,
    /// Where the date came from ("json-ld", "microdata", "meta", "html"), for diagnostics.
    pub date_origin: Option<&'static str>,
}

impl ArticleMeta {
    /// Fills every empty field of `self` from `other` (which is less trusted).
    pub fn fill_from(&mut self, other: &ArticleMeta) {
        if self.url.is_none() {
            self.url.clone_from(&other.url);
        }
        if self.title.is_none() {
            self.title.clone_from(&other.title);
        }
        if self.authors.is_empty() {
            self.authors.clone_from(&other.authors);
        }
        if self.date.is_none() {
            self.date = other.date;
            self.date_origin = other.date_origin;
        }
        if self.image.is_none() {
            self.image.clone_from(&other.image);
        }
        if self.read_time.is_none() {
            self.read_time = other.read_time;
        }
        if self.description.is_none() {
            self.description.clone_from(&other.description);
        }
        if self.word_count.is_none() {
            self.word_count = other.word_count;
        }
        if self.categories.is_empty() {
            self.categories.clone_from(&other.categories);
        }
    }

    fn is_empty(&self) -> bool {
        self.url.is_none() && self.title.is_none() && self.date.is_none() && self.authors.is_empty()
    }
}

/// Everything structured data says about a page.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PageData {
    /// Articles the page lists (JSON-LD `ItemList` elements and article objects with a URL
    /// other than the page's, microdata article items), in page order, one per URL.
    pub items: Vec<ArticleMeta>,
    /// The page's own article: all sources merged, most trusted first.
    pub page: ArticleMeta,
    /// JSON-LD blocks found / blocks that did not parse (for `discover` diagnostics).
    pub json_ld_blocks: usize,
    pub json_ld_errors: usize,
}

impl PageData {
    /// The listed article with this canonical link, if any.
    pub fn item_for(&self, canonical_link: &str) -> Option<&ArticleMeta> {
        self.items.iter().find(|m| {
            m.url
                .as_ref()
                .is_some_and(|u| canon::canonical(u) == canonical_link)
        })
    }
}

/// Schema.org types that describe one article.
const ARTICLE_TYPES: &[&str] = &[
    "article",
    "newsarticle",
    "blogposting",
    "scholarlyarticle",
    "medicalscholarlyarticle",
    "report",
    "techarticle",
    "analysisnewsarticle",
    "askpublicnewsarticle",
    "backgroundnewsarticle",
    "opinionnewsarticle",
    "reportagenewsarticle",
    "reviewnewsarticle",
    "satiricalarticle",
    "liveblogposting",
    "socialmediaposting",
    "posting",
];

fn type_names(v: &Value) -> Vec<String> {
    let one = |s: &str| {
        s.rsplit(['/', '#', ':'])
            .next()
            .unwrap_or(s)
            .to_ascii_lowercase()
    };
    match v.get("@type") {
        Some(Value::String(s)) => vec![one(s)],
        Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).map(one).collect(),
        _ => Vec::new(),
    }
}

fn is_article_type(names: &[String]) -> bool {
    names.iter().any(|n| ARTICLE_TYPES.contains(&n.as_str()))
}

/// Reads the structured data of a parsed page. `base` resolves relative URLs.
pub fn page_data(doc: &Html, base: &Url, ctx: &DateContext<'_>) -> PageData {
    read(doc, base, ctx, true)
}

/// [`page_data`] without the page's own article: what a listing page needs, minus the meta
/// tag and HTML heuristics that only describe article pages.
pub fn listing_data(doc: &Html, base: &Url, ctx: &DateContext<'_>) -> PageData {
    read(doc, base, ctx, false)
}

fn read(doc: &Html, base: &Url, ctx: &DateContext<'_>, own_article: bool) -> PageData {
    let mut out = PageData::default();
    let index = DocIndex::new(doc);
    let page_url = index.canonical_page_url(base);
    let mut ld_articles: Vec<ArticleMeta> = Vec::new();
    let mut ld_list: Vec<ArticleMeta> = Vec::new();
    for block in &index.json_ld {
        out.json_ld_blocks += 1;
        match parse_json_lenient(block) {
            Some(v) => walk_json_ld(&v, base, ctx, &mut ld_articles, &mut ld_list, 0),
            None => out.json_ld_errors += 1,
        }
    }
    let micro = if index.has_itemscope {
        microdata_articles(doc, base, ctx)
    } else {
        Vec::new()
    };

    // The page's own article: a JSON-LD / microdata article whose URL is the page's (or that
    // has no URL), when there is exactly one such candidate of each kind.
    let is_own = |m: &ArticleMeta| match (&m.url, &page_url) {
        (None, _) => true,
        (Some(u), Some(p)) => canon::canonical(u) == canon::canonical(p),
        (Some(_), None) => false,
    };
    let mut page = ArticleMeta::default();
    let own_ld: Vec<&ArticleMeta> = ld_articles.iter().filter(|m| is_own(m)).collect();
    if let Some(first) = own_ld.first() {
        page = (*first).clone();
    } else if ld_articles.len() == 1 && ld_list.is_empty() {
        page = ld_articles[0].clone();
    }
    let own_micro: Vec<&ArticleMeta> = micro.iter().filter(|m| is_own(m)).collect();
    if own_micro.len() == 1 {
        page.fill_from(own_micro[0]);
    } else if micro.len() == 1 && own_ld.is_empty() {
        page.fill_from(&micro[0]);
    }
    if own_article {
        page.fill_from(&meta_article(doc, base, ctx));
        page.fill_from(&html_article(doc, base, ctx));
    }
    if page.url.is_none() {
        page.url = page_url.clone();
    }
    if let Some(t) = page.title.take() {
        page.title = Some(strip_site_suffix(&t, doc));
    }
    out.page = page;

    // Listed articles: everything with a URL that is not the page itself.
    let mut seen = HashSet::new();
    for m in ld_list.into_iter().chain(ld_articles).chain(micro) {
        let Some(u) = &m.url else { continue };
        if page_url
            .as_ref()
            .is_some_and(|p| canon::canonical(p) == canon::canonical(u))
        {
            continue;
        }
        if m.title.is_none() {
            continue;
        }
        let key = canon::canonical(u);
        if seen.insert(key.clone()) {
            out.items.push(m);
        } else if let Some(existing) = out
            .items
            .iter_mut()
            .find(|e| e.url.as_ref().is_some_and(|x| canon::canonical(x) == key))
        {
            existing.fill_from(&m);
        }
    }
    out
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

/// `og:url`, `<link rel=canonical>` or `twitter:url`, resolved.
/// What every page read needs from the whole document, gathered in one pass over the node
/// arena (comparing tag names), instead of one selector walk per question: this runs on every
/// listing page of every feed.
struct DocIndex {
    /// `(key, content)` of every `<meta>` with a `property`, `name` or `itemprop`; keys
    /// lower-cased.
    metas: Vec<(String, String)>,
    /// `href` of the first `<link rel=canonical>`.
    canonical_link: Option<String>,
    /// Texts of the `application/ld+json` scripts.
    json_ld: Vec<String>,
    /// Whether any element declares a microdata item; most pages have none.
    has_itemscope: bool,
}

impl DocIndex {
    fn new(doc: &Html) -> DocIndex {
        let mut index = DocIndex {
            metas: Vec::new(),
            canonical_link: None,
            json_ld: Vec::new(),
            has_itemscope: false,
        };
        for node in doc.tree.nodes() {
            let Some(el) = node.value().as_element() else {
                continue;
            };
            match el.name() {
                "meta" => {
                    let key = el
                        .attr("property")
                        .or_else(|| el.attr("name"))
                        .or_else(|| el.attr("itemprop"));
                    if let (Some(key), Some(content)) = (key, el.attr("content")) {
                        index
                            .metas
                            .push((key.trim().to_ascii_lowercase(), content.to_string()));
                    }
                }
                "link" if index.canonical_link.is_none() => {
                    let canonical = el.attr("rel").is_some_and(|r| {
                        r.split_ascii_whitespace()
                            .any(|t| t.eq_ignore_ascii_case("canonical"))
                    });
                    if canonical {
                        index.canonical_link = el.attr("href").map(str::to_string);
                    }
                }
                "script" => {
                    let ld = el.attr("type").is_some_and(|t| {
                        t.trim()
                            .to_ascii_lowercase()
                            .starts_with("application/ld+json")
                    });
                    if ld && let Some(script) = ElementRef::wrap(node) {
                        index.json_ld.push(script.text().collect());
                    }
                }
                _ => {}
            }
            if !index.has_itemscope
                && el.attr("itemscope").is_some()
                && el.attr("itemtype").is_some()
            {
                index.has_itemscope = true;
            }
        }
        index
    }

    /// The first non-empty `<meta>` content among `keys`, in the order of `keys`.
    fn meta(&self, keys: &[&str]) -> Option<String> {
        keys.iter().find_map(|k| {
            self.metas
                .iter()
                .find(|(key, c)| key == k && !c.trim().is_empty())
                .map(|(_, c)| fold_ws(c))
        })
    }

    fn canonical_page_url(&self, base: &Url) -> Option<Url> {
        self.meta(&["og:url"])
            .or_else(|| self.canonical_link.clone())
            .or_else(|| self.meta(&["twitter:url"]))
            .and_then(|h| canon::resolve(base, &h))
    }
}

/// JSON-LD as sites write it: wrapped in comments or CDATA, with raw newlines inside strings.
fn parse_json_lenient(text: &str) -> Option<Value> {
    let t = text.trim();
    let t = t
        .trim_start_matches("<!--")
        .trim_end_matches("-->")
        .trim()
        .trim_start_matches("//<![CDATA[")
        .trim_end_matches("//]]>")
        .trim();
    if t.is_empty() {
        return None;
    }
    if let Ok(v) = serde_json::from_str(t) {
        return Some(v);
    }
    let cleaned: String = t
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    serde_json::from_str(&cleaned).ok()
}

/// Collects article objects and `ItemList` elements anywhere in a JSON-LD value.
fn walk_json_ld(
    v: &Value,
    base: &Url,
    ctx: &DateContext<'_>,
    articles: &mut Vec<ArticleMeta>,
    list: &mut Vec<ArticleMeta>,
    depth: usize,
) {
    // Real documents nest a few levels; anything deeper is hostile or broken.
    if depth > 12 {
        return;
    }
    match v {
        Value::Array(a) => {
            for x in a {
                walk_json_ld(x, base, ctx, articles, list, depth + 1);
            }
        }
        Value::Object(o) => {
            let types = type_names(v);
            if types.iter().any(|t| t == "itemlist") {
                list.extend(item_list(v, base, ctx));
                return;
            }
            if is_article_type(&types) {
                let m = ld_article(v, base, ctx);
                if !m.is_empty() {
                    articles.push(m);
                }
                return;
            }
            for (k, x) in o {
                // Authors, publishers and images are never the articles we look for.
                if matches!(
                    k.as_str(),
                    "author" | "publisher" | "creator" | "image" | "logo" | "potentialAction"
                ) {
                    continue;
                }
                walk_json_ld(x, base, ctx, articles, list, depth + 1);
            }
        }
        _ => {}
    }
}

fn item_list(v: &Value, base: &Url, ctx: &DateContext<'_>) -> Vec<ArticleMeta> {
    let Some(elements) = v.get("itemListElement") else {
        return Vec::new();
    };
    let elements: Vec<&Value> = match elements {
        Value::Array(a) => a.iter().collect(),
        other => vec![other],
    };
    let mut out: Vec<(i64, usize, ArticleMeta)> = Vec::new();
    for (i, el) in elements.into_iter().enumerate() {
        let position = el.get("position").and_then(number).unwrap_or(i64::MAX);
        let mut m = match el.get("item") {
            Some(Value::String(s)) => ArticleMeta {
                url: canon::resolve(base, s),
                ..ArticleMeta::default()
            },
            Some(item @ Value::Object(_)) => ld_article(item, base, ctx),
            _ => ArticleMeta::default(),
        };
        // A ListItem carries `url` and `name` itself when the item is only a reference.
        m.fill_from(&ld_article(el, base, ctx));
        if let Value::String(s) = el {
            m.url = canon::resolve(base, s);
        }
        if m.url.is_some() {
            out.push((position, i, m));
        }
    }
    out.sort_by_key(|(p, i, _)| (*p, *i));
    out.into_iter().map(|(_, _, m)| m).collect()
}

fn number(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n.as_i64().or_else(|| n.as_f64().map(|f| f as i64)),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn str_of(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(fold_ws(&html_unescape(s))).filter(|s| !s.is_empty()),
        Value::Array(a) => a.iter().find_map(str_of),
        Value::Object(o) => o.get("@value").and_then(str_of),
        _ => None,
    }
}

/// JSON-LD strings sometimes hold HTML entities (`&amp;`, `&#8217;`); the text is what counts.
fn html_unescape(s: &str) -> String {
    if !s.contains('&') {
        return s.to_string();
    }
    match crate::extract::parse::parse_fragment(&format!("<p>{}</p>", s.replace('<', "&lt;"))) {
        Ok(frag) => frag.root_element().text().collect(),
        // Too deep or too big to decode safely: the raw text is still usable.
        Err(_) => s.to_string(),
    }
}

fn url_of(v: &Value, base: &Url) -> Option<Url> {
    match v {
        Value::String(s) => canon::resolve(base, s.trim()),
        Value::Array(a) => a.iter().find_map(|x| url_of(x, base)),
        Value::Object(o) => o
            .get("url")
            .or_else(|| o.get("contentUrl"))
            .or_else(|| o.get("@id"))
            .and_then(|x| url_of(x, base)),
        _ => None,
    }
}

fn is_urlish(s: &str) -> bool {
    let l = s.trim().to_ascii_lowercase();
    l.starts_with("http://")
        || l.starts_with("https://")
        || l.starts_with('/')
        || l.starts_with('@')
}

/// Adds the people a byline names ("By Ann Lee and Bo Chan" gives two) that `out` does not
/// hold yet.
fn push_byline(out: &mut Vec<String>, byline: &str) {
    for n in parse_author(byline)
        .map(|a| split_authors(&a))
        .unwrap_or_default()
    {
        if !out.contains(&n) {
            out.push(n);
        }
    }
}

/// Author names from a JSON-LD `author`: a string, a Person/Organization, or an array of them.
fn names_of(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::String(s) => {
            for part in s.split(';') {
                if !is_urlish(part) {
                    push_byline(out, &html_unescape(part));
                }
            }
        }
        Value::Array(a) => a.iter().for_each(|x| names_of(x, out)),
        Value::Object(o) => {
            if let Some(n) = o.get("name") {
                names_of(n, out);
            } else if let (Some(g), Some(f)) = (o.get("givenName"), o.get("familyName"))
                && let (Some(g), Some(f)) = (str_of(g), str_of(f))
            {
                let n = format!("{g} {f}");
                if !out.contains(&n) {
                    out.push(n);
                }
            }
        }
        _ => {}
    }
}

fn date_of(v: &Value, ctx: &DateContext<'_>) -> Option<DateTime<Utc>> {
    let s = str_of(v)?;
    parse_date(&s, ctx)
        .filter(|(_, k)| *k == DateKind::Absolute)
        .map(|(d, _)| d)
}

fn ld_article(v: &Value, base: &Url, ctx: &DateContext<'_>) -> ArticleMeta {
    let get = |k: &str| v.get(k);
    let mut m = ArticleMeta {
        title: ["headline", "name", "alternativeHeadline"]
            .iter()
            .find_map(|k| get(k).and_then(str_of)),
        url: get("url")
            .and_then(|u| url_of(u, base))
            .or_else(|| get("mainEntityOfPage").and_then(|u| url_of(u, base)))
            .or_else(|| {
                get("@id")
                    .and_then(Value::as_str)
                    .filter(|s| s.starts_with("http"))
                    .and_then(|s| canon::resolve(base, s))
            }),
        image: get("image")
            .or_else(|| get("thumbnailUrl"))
            .and_then(|u| url_of(u, base))
            .filter(|u| matches!(u.scheme(), "http" | "https")),
        read_time: get("timeRequired")
            .and_then(str_of)
            .and_then(|s| parse_iso_duration_minutes(&s).or_else(|| parse_read_time(&s)))
            .filter(|m| (1..=600).contains(m)),
        description: get("description").and_then(str_of),
        word_count: get("wordCount")
            .and_then(number)
            .and_then(|n| u32::try_from(n).ok())
            .or_else(|| {
                get("articleBody")
                    .and_then(str_of)
                    .and_then(|b| u32::try_from(b.split_whitespace().count()).ok())
                    .filter(|n| *n > 0)
            }),
        ..ArticleMeta::default()
    };
    if let Some(d) = ["datePublished", "dateCreated", "uploadDate"]
        .iter()
        .find_map(|k| get(k).and_then(|d| date_of(d, ctx)))
    {
        m.date = Some(d);
        m.date_origin = Some("json-ld");
    }
    let mut names = Vec::new();
    if let Some(a) = get("author").or_else(|| get("creator")) {
        names_of(a, &mut names);
    }
    m.authors = names;
    if let Some(sec) = get("articleSection") {
        match sec {
            Value::Array(a) => m.categories = a.iter().filter_map(str_of).collect(),
            other => m.categories = str_of(other).into_iter().collect(),
        }
    }
    m.url = m.url.filter(|u| matches!(u.scheme(), "http" | "https"));
    m
}

/// Microdata items of an article type, in page order.
fn microdata_articles(doc: &Html, base: &Url, ctx: &DateContext<'_>) -> Vec<ArticleMeta> {
    let mut out = Vec::new();
    for scope in doc.select(static_sel!("[itemscope][itemtype]")) {
        let types: Vec<String> = scope
            .value()
            .attr("itemtype")
            .unwrap_or("")
            .split_whitespace()
            .map(|t| t.rsplit('/').next().unwrap_or(t).to_ascii_lowercase())
            .collect();
        if !is_article_type(&types) {
            continue;
        }
        // An item that is itself the value of a property (a review's `itemReviewed`) is not
        // one of the page's articles.
        if scope.value().attr("itemprop").is_some() && has_scope_ancestor(scope) {
            continue;
        }
        let m = microdata_item(scope, base, ctx);
        if !m.is_empty() {
            out.push(m);
        }
    }
    out
}

fn has_scope_ancestor(el: ElementRef<'_>) -> bool {
    el.ancestors()
        .filter_map(ElementRef::wrap)
        .any(|a| a.value().attr("itemscope").is_some())
}

/// The properties of one microdata item: descendants with `itemprop` whose nearest
/// `itemscope` ancestor is the item itself.
fn item_props<'a>(scope: ElementRef<'a>) -> Vec<(String, ElementRef<'a>)> {
    let mut out = Vec::new();
    for el in scope.descendent_elements().skip(1) {
        let Some(props) = el.value().attr("itemprop") else {
            continue;
        };
        let owner = el
            .ancestors()
            .filter_map(ElementRef::wrap)
            .find(|a| a.value().attr("itemscope").is_some());
        if owner.map(|o| o.id()) != Some(scope.id()) {
            continue;
        }
        for p in props.split_whitespace() {
            out.push((p.to_string(), el));
        }
    }
    out
}

/// The value of a microdata property element, as the microdata spec defines it.
fn prop_value(el: ElementRef<'_>) -> Option<String> {
    let v = el.value();
    let raw = match v.name() {
        "meta" => v.attr("content").map(str::to_string),
        "a" | "link" | "area" => v.attr("href").map(str::to_string),
        "img" | "source" | "audio" | "video" | "iframe" | "embed" => {
            v.attr("src").map(str::to_string)
        }
        "time" => v
            .attr("datetime")
            .map(str::to_string)
            .or_else(|| Some(element_text(el))),
        "data" | "meter" => v.attr("value").map(str::to_string),
        _ => v
            .attr("content")
            .map(str::to_string)
            .or_else(|| Some(element_text(el))),
    };
    raw.map(|s| fold_ws(&s)).filter(|s| !s.is_empty())
}

fn microdata_item(scope: ElementRef<'_>, base: &Url, ctx: &DateContext<'_>) -> ArticleMeta {
    let props = item_props(scope);
    let first = |names: &[&str]| {
        names.iter().find_map(|n| {
            props
                .iter()
                .filter(|(p, _)| p == n)
                .find_map(|(_, el)| prop_value(*el))
        })
    };
    // `headline` wins over `name`, but an `<a itemprop=url>` inside the headline is text too.
    let title = ["headline", "name"].iter().find_map(|n| {
        props
            .iter()
            .filter(|(p, _)| p == n)
            .map(|(_, el)| element_text(*el))
            .find(|t| !t.is_empty())
    });
    let mut m = ArticleMeta {
        title,
        url: first(&["url", "mainEntityOfPage"]).and_then(|u| canon::resolve(base, &u)),
        image: props
            .iter()
            .filter(|(p, _)| p == "image" || p == "thumbnailUrl")
            .find_map(|(_, el)| {
                if el.value().attr("itemscope").is_some() {
                    item_props(*el)
                        .into_iter()
                        .find(|(p, _)| p == "url" || p == "contentUrl")
                        .and_then(|(_, e)| prop_value(e))
                } else {
                    prop_value(*el)
                }
            })
            .and_then(|u| canon::resolve(base, &u)),
        description: first(&["description"]),
        read_time: first(&["timeRequired"])
            .and_then(|s| parse_iso_duration_minutes(&s).or_else(|| parse_read_time(&s))),
        word_count: first(&["wordCount"]).and_then(|s| s.trim().parse().ok()),
        categories: props
            .iter()
            .filter(|(p, _)| p == "articleSection")
            .filter_map(|(_, el)| prop_value(*el))
            .collect(),
        ..ArticleMeta::default()
    };
    if let Some(d) = ["datePublished", "dateCreated"].iter().find_map(|n| {
        props
            .iter()
            .filter(|(p, _)| p == n)
            .find_map(|(_, el)| prop_value(*el))
            .and_then(|s| parse_date(&s, ctx))
            .filter(|(_, k)| *k == DateKind::Absolute)
    }) {
        m.date = Some(d.0);
        m.date_origin = Some("microdata");
    }
    let mut names: Vec<String> = Vec::new();
    for (_, el) in props
        .iter()
        .filter(|(p, _)| p == "author" || p == "creator")
    {
        let text = if el.value().attr("itemscope").is_some() {
            item_props(*el)
                .into_iter()
                .find(|(p, _)| p == "name")
                .map(|(_, e)| element_text(e))
                .or_else(|| Some(element_text(*el)))
        } else {
            prop_value(*el)
        };
        if let Some(t) = text.filter(|t| !is_urlish(t)) {
            push_byline(&mut names, &t);
        }
    }
    m.authors = names;
    m.url = m.url.filter(|u| matches!(u.scheme(), "http" | "https"));
    m.image = m.image.filter(|u| matches!(u.scheme(), "http" | "https"));
    m
}

/// The `content` of the first `<meta>` whose `property`, `name` or `itemprop` is one of
/// `keys` (case-insensitive), in the order of `keys`.
fn meta_content(doc: &Html, keys: &[&str]) -> Option<String> {
    let metas: Vec<(String, &str)> = doc
        .select(static_sel!("meta[content]"))
        .filter_map(|m| {
            let v = m.value();
            let key = v
                .attr("property")
                .or_else(|| v.attr("name"))
                .or_else(|| v.attr("itemprop"))?;
            Some((key.trim().to_ascii_lowercase(), v.attr("content")?))
        })
        .collect();
    keys.iter().find_map(|k| {
        metas
            .iter()
            .find(|(key, c)| key == k && !c.trim().is_empty())
            .map(|(_, c)| fold_ws(c))
    })
}

fn meta_all(doc: &Html, key: &str) -> Vec<String> {
    doc.select(static_sel!("meta[content]"))
        .filter(|m| {
            let v = m.value();
            v.attr("property")
                .or_else(|| v.attr("name"))
                .is_some_and(|k| k.trim().eq_ignore_ascii_case(key))
        })
        .filter_map(|m| m.value().attr("content").map(fold_ws))
        .filter(|c| !c.is_empty())
        .collect()
}

/// OpenGraph, `article:*`, Dublin Core, citation, Parse.ly and Sailthru meta tags.
fn meta_article(doc: &Html, base: &Url, ctx: &DateContext<'_>) -> ArticleMeta {
    let mut m = ArticleMeta {
        title: meta_content(
            doc,
            &[
                "og:title",
                "twitter:title",
                "dc.title",
                "citation_title",
                "parsely-title",
            ],
        ),
        url: DocIndex::new(doc).canonical_page_url(base),
        image: meta_content(
            doc,
            &[
                "og:image",
                "og:image:url",
                "twitter:image",
                "twitter:image:src",
            ],
        )
        .and_then(|u| canon::resolve(base, &u))
        .filter(|u| matches!(u.scheme(), "http" | "https")),
        description: meta_content(doc, &["og:description", "description", "dc.description"]),
        ..ArticleMeta::default()
    };
    const DATE_KEYS: &[&str] = &[
        "article:published_time",
        "og:published_time",
        "published_time",
        "datepublished",
        "dc.date.issued",
        "dc.date",
        "dcterms.created",
        "dcterms.date",
        "prism.publicationdate",
        "citation_publication_date",
        "citation_online_date",
        "citation_date",
        "parsely-pub-date",
        "sailthru.date",
        "article.published",
        "pubdate",
        "publish-date",
        "publish_date",
        "date",
    ];
    if let Some(d) = DATE_KEYS.iter().find_map(|k| {
        meta_content(doc, &[k])
            .and_then(|s| parse_date(&s, ctx))
            .filter(|(_, kind)| *kind == DateKind::Absolute)
    }) {
        m.date = Some(d.0);
        m.date_origin = Some("meta");
    }
    let mut names: Vec<String> = Vec::new();
    for key in [
        "article:author",
        "author",
        "dc.creator",
        "citation_author",
        "parsely-author",
        "sailthru.author",
    ] {
        for v in meta_all(doc, key) {
            if is_urlish(&v) {
                continue;
            }
            push_byline(&mut names, &v);
        }
        if !names.is_empty() {
            break;
        }
    }
    if names.is_empty()
        && let Some(list) = meta_content(doc, &["citation_authors"])
    {
        for n in list.split(';') {
            push_byline(&mut names, &citation_name(n));
        }
    }
    m.authors = names;
    // Yoast and WordPress: twitter:label1 = "Est. reading time", twitter:data1 = "4 minutes".
    for i in 1..=4 {
        let label = meta_content(doc, &[&format!("twitter:label{i}")]);
        if label
            .as_deref()
            .is_some_and(|l| l.to_lowercase().contains("read"))
            && let Some(minutes) = meta_content(doc, &[&format!("twitter:data{i}")])
                .and_then(|d| parse_read_time(&format!("{d} read")))
        {
            m.read_time = Some(minutes);
            break;
        }
    }
    if m.read_time.is_none() {
        m.read_time = meta_content(doc, &["reading_time", "readingtime", "timerequired"])
            .and_then(|s| parse_iso_duration_minutes(&s).or_else(|| parse_read_time(&s)));
    }
    m.categories = meta_all(doc, "article:section");
    m
}

/// "Johnston, Richard" (citation order) -> "Richard Johnston".
fn citation_name(s: &str) -> String {
    let s = s.trim();
    match s.split_once(',') {
        Some((family, given)) if !given.trim().is_empty() && !family.trim().is_empty() => {
            format!("{} {}", given.trim(), family.trim())
        }
        _ => s.trim_end_matches(',').to_string(),
    }
}

/// Class or id words that mark an element as a byline ("byline", "by_line", "author").
fn is_byline_marker(el: ElementRef<'_>) -> bool {
    // "by_line" and "by-line" split into two tokens; joined, they are the byline word.
    let raw = format!(
        "{} {}",
        el.value().attr("class").unwrap_or(""),
        el.value().attr("id").unwrap_or("")
    )
    .to_ascii_lowercase();
    raw.contains("by_line") || raw.contains("by-line") || vocab::is_byline_marked(el)
}

/// Date elements that are not the article's publication date.
fn is_other_date(el: ElementRef<'_>) -> bool {
    std::iter::once(el)
        .chain(el.ancestors().filter_map(ElementRef::wrap))
        .take(5)
        .any(|a| vocab::has_marker(a, vocab::OTHER_DATE_WORDS))
}

/// "Miriam Kramer, SPACE.com Staff Writer" -> "Miriam Kramer": a byline's job title goes.
fn strip_role(name: String) -> String {
    let parts: Vec<&str> = name.split(", ").collect();
    let kept: Vec<&str> = parts
        .iter()
        .copied()
        .filter(|p| {
            let l = p.to_lowercase();
            !l.split_whitespace().any(|w| vocab::ROLE_WORDS.contains(&w))
        })
        .collect();
    if kept.is_empty() || kept.len() == parts.len() {
        name
    } else {
        kept.join(", ")
    }
}

/// A `<title>`'s site tail: " | Science/AAAS | News" after a headline of three words or
/// more, when every tail part is short.
fn strip_short_tail(title: &str) -> String {
    for sep in [" | ", " :: ", " - ", " – ", " — "] {
        let parts: Vec<&str> = title.split(sep).collect();
        if parts.len() >= 2
            && parts[0].split_whitespace().count() >= 3
            && parts[1..].iter().all(|p| p.split_whitespace().count() <= 4)
        {
            return parts[0].trim().to_string();
        }
    }
    title.to_string()
}

/// Last-resort conventions of article pages: `<h1>`, `<time datetime>`, `rel=author`, links
/// to author pages, byline and date classes. Only text that is plainly one value counts.
fn html_article(doc: &Html, base: &Url, ctx: &DateContext<'_>) -> ArticleMeta {
    let h1 = doc
        .select(static_sel!("h1"))
        .find(|h| element_text(*h).split_whitespace().count() >= 2);
    let mut m = ArticleMeta {
        title: h1.map(element_text).or_else(|| {
            doc.select(static_sel!("title"))
                .next()
                .map(element_text)
                .filter(|t| !t.is_empty())
                .map(|t| strip_short_tail(&t))
        }),
        ..ArticleMeta::default()
    };
    // Dates: a `pubdate` or `itemprop=datePublished` time first, then any time in the article,
    // then an element whose class says it holds a date, then a date on its own near the
    // headline, then any time at all.
    let time_date = |el: ElementRef<'_>| {
        el.value()
            .attr("datetime")
            .map(str::to_string)
            .into_iter()
            .chain(std::iter::once(element_text(el)))
            .find_map(|s| parse_date(&s, ctx).filter(|(_, k)| *k == DateKind::Absolute))
            .map(|(d, _)| d)
    };
    let date = doc
        .select(static_sel!("time[pubdate], time[itemprop~=datePublished]"))
        .find_map(time_date)
        .or_else(|| {
            doc.select(static_sel!("article time, main time"))
                .filter(|el| !is_other_date(*el))
                .find_map(time_date)
        })
        .or_else(|| {
            doc.select(static_sel!(
                "[class*=date], [class*=Date], [class*=published], [class*=time], [class*=Time]"
            ))
            .filter(|el| !in_chrome(*el) && !is_other_date(*el))
            .filter_map(|el| {
                let t = element_text(el);
                let words = t.split_whitespace().count();
                (t.chars().count() <= 60 && (1..=10).contains(&words)).then_some(t)
            })
            .find_map(|t| parse_date(&t, ctx).filter(|(_, k)| *k == DateKind::Absolute))
            .map(|(d, _)| d)
        })
        .or_else(|| h1.and_then(|h| date_after(h, ctx)))
        .or_else(|| doc.select(static_sel!("time")).find_map(time_date));
    if let Some(d) = date {
        m.date = Some(d);
        m.date_origin = Some("html");
    }
    let same_site = |el: &ElementRef<'_>| {
        el.value()
            .attr("href")
            .and_then(|h| canon::resolve(base, h))
            .is_none_or(|u| u.host_str() == base.host_str())
    };
    let author_text = doc
        .select(static_sel!("[rel~=author], [itemprop~=author]"))
        .filter(same_site)
        .map(element_text)
        .find_map(|t| parse_author(&t).filter(|n| plausible_name(n)))
        .or_else(|| {
            doc.select(static_sel!("[class], [id]"))
                .filter(|el| is_byline_marker(*el) && !in_chrome(*el))
                .map(element_text)
                .filter(|t| t.len() <= 80)
                .find_map(|t| parse_author(&t).filter(|n| plausible_name(n)))
        })
        .or_else(|| {
            // Links to a person's page: the same URL words meta lines read (vocab.rs).
            doc.select(static_sel!("a[href]"))
                .filter(|el| {
                    el.value().attr("href").is_some_and(|h| {
                        vocab::path_has_segment(
                            h.split(['?', '#']).next().unwrap_or(h),
                            vocab::AUTHOR_PATH_SEGMENTS,
                        )
                    })
                })
                .filter(|el| !in_chrome(*el))
                .map(element_text)
                .find_map(|t| parse_author(&t).filter(|n| plausible_name(n)))
        });
    if let Some(t) = author_text {
        push_byline(&mut m.authors, &strip_role(t));
    }
    m.word_count = article_words(doc);
    m
}

/// The first element after the headline whose whole text is a date ("May 20, 2019" under
/// the title), within the next few hundred elements.
fn date_after(h1: ElementRef<'_>, ctx: &DateContext<'_>) -> Option<DateTime<Utc>> {
    let mut after = false;
    for node in h1.tree().root().descendants().take(200_000) {
        if node.id() == h1.id() {
            after = true;
            continue;
        }
        if !after {
            continue;
        }
        let Some(el) = ElementRef::wrap(node) else {
            continue;
        };
        if el.ancestors().any(|a| a.id() == h1.id()) || in_chrome(el) {
            continue;
        }
        if el.child_elements().next().is_some()
            || matches!(
                el.value().name(),
                "script" | "style" | "noscript" | "template"
            )
        {
            continue;
        }
        let t = element_text(el);
        if !t.is_empty()
            && t.chars().count() <= 40
            && super::date::is_whole_date(&t)
            && let Some((d, DateKind::Absolute)) = parse_date(&t, ctx)
        {
            return Some(d);
        }
        if t.split_whitespace().count() > 40 {
            // Reached the article text: a date after it belongs to something else.
            return None;
        }
    }
    None
}

/// A byline name: a few words, mostly capitalised, no sentence.
fn plausible_name(n: &str) -> bool {
    let words: Vec<&str> = n.split_whitespace().collect();
    (1..=12).contains(&words.len())
        && n.len() <= 80
        && !n.ends_with('.')
        && words
            .iter()
            .filter(|w| w.chars().next().is_some_and(char::is_alphabetic))
            .any(|w| w.chars().next().is_some_and(char::is_uppercase))
}

/// Whether an element sits in page chrome (navigation, footer, sidebars). The page's
/// header is not chrome here: article pages put their headline and byline in one.
fn in_chrome(el: ElementRef<'_>) -> bool {
    el.ancestors()
        .filter_map(ElementRef::wrap)
        .any(|a| vocab::is_chrome(a) && !vocab::is_page_header(a))
}

/// Words of the article body: JSON-LD `articleBody` is handled by the caller; here
/// `[itemprop=articleBody]`, else the `<article>` with the most paragraph text, else `<main>`.
fn article_words(doc: &Html) -> Option<u32> {
    let count = |el: ElementRef<'_>| -> usize {
        el.select(static_sel!("p"))
            .map(|p| element_text(p).split_whitespace().count())
            .sum()
    };
    let best = doc
        .select(static_sel!("[itemprop~=articleBody]"))
        .map(count)
        .max()
        .filter(|n| *n > 0)
        .or_else(|| {
            doc.select(static_sel!("article, main, [role=main]"))
                .map(count)
                .max()
                .filter(|n| *n > 0)
        })?;
    u32::try_from(best).ok()
}

/// Drops a " | Site" / " - Site" / " : Site" tail: when an `<h1>` equals the head, or the
/// tail is the `og:site_name`.
fn strip_site_suffix(title: &str, doc: &Html) -> String {
    let title = fold_ws(title);
    let site = meta_content(doc, &["og:site_name", "application-name"]);
    let h1s: Vec<String> = doc.select(static_sel!("h1")).map(element_text).collect();
    for sep in [" | ", " - ", " – ", " — ", " : ", " :: ", " · "] {
        let Some(i) = title.find(sep) else { continue };
        let head = title[..i].trim();
        let tail = title[i + sep.len()..].trim();
        if head.is_empty() {
            continue;
        }
        let h1_matches = h1s.iter().any(|h| h.eq_ignore_ascii_case(head));
        let site_matches = site
            .as_deref()
            .is_some_and(|s| tail.to_lowercase().starts_with(&s.to_lowercase()));
        if h1_matches || site_matches {
            return head.to_string();
        }
    }
    title
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

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

    fn data(html: &str) -> PageData {
        let doc = Html::parse_document(html);
        let base = Url::parse("https://news.example.org/section/page").expect("url");
        page_data(&doc, &base, &ctx())
    }

    fn day(s: &str) -> Option<String> {
        Some(s.to_string())
    }

    fn ymd(d: Option<DateTime<Utc>>) -> Option<String> {
        d.map(|d| d.format("%Y-%m-%d").to_string())
    }

    #[test]
    fn json_ld_article_with_graph_array_authors_and_time_required() {
        let d = data(
            r#"<html><head><script type="application/ld+json">
            {"@context":"https://schema.org","@graph":[
              {"@type":"WebSite","name":"Example","url":"https://news.example.org/"},
              {"@type":["NewsArticle"],"headline":"Mice &amp; men","url":"/a/mice",
               "datePublished":"2026-11-20T10:00:00+01:00",
               "author":[{"@type":"Person","name":"Ann Lee"},{"@type":"Person","name":"Bo Chan"}],
               "image":{"@type":"ImageObject","url":"https://img.example.org/m.jpg"},
               "timeRequired":"PT7M","wordCount":"1500","articleSection":["Biology"]}
            ]}</script><meta property="og:url" content="https://news.example.org/a/mice"></head><body></body></html>"#,
        );
        let p = &d.page;
        assert_eq!(p.title.as_deref(), Some("Mice & men"));
        assert_eq!(
            p.url.as_ref().map(Url::as_str),
            Some("https://news.example.org/a/mice")
        );
        assert_eq!(p.authors, ["Ann Lee", "Bo Chan"]);
        assert_eq!(
            p.date.map(|d| d.to_rfc3339()),
            Some("2026-11-20T09:00:00+00:00".into())
        );
        assert_eq!(p.read_time, Some(7));
        assert_eq!(p.word_count, Some(1500));
        assert_eq!(p.categories, vec!["Biology".to_string()]);
        assert_eq!(p.date_origin, Some("json-ld"));
        assert!(
            d.items.is_empty(),
            "the page's own article is not a listed item"
        );
    }

    #[test]
    fn json_ld_item_list_in_position_order() {
        let d = data(
            r#"<script type="application/ld+json">[{"@type":"ItemList","itemListElement":[
              {"@type":"ListItem","position":2,"url":"https://news.example.org/b","name":"Bee story"},
              {"@type":"ListItem","position":1,"item":{"@type":"Article","headline":"Ant story",
                 "url":"https://news.example.org/a","datePublished":"2026-11-01","author":"By Cy Dee"}},
              {"@type":"ListItem","position":3,"item":"https://news.example.org/c"}
            ]}]</script>"#,
        );
        let titles: Vec<_> = d.items.iter().map(|m| m.title.clone()).collect();
        assert_eq!(
            titles,
            vec![day("Ant story"), day("Bee story")],
            "untitled item dropped"
        );
        assert_eq!(d.items[0].authors, ["Cy Dee"]);
        assert_eq!(ymd(d.items[0].date), day("2026-11-01"));
        assert!(d.item_for("https://news.example.org/b").is_some());
    }

    #[test]
    fn broken_json_ld_is_counted_not_fatal() {
        let d = data(
            "<script type='application/ld+json'><!-- {\"@type\":\"Article\",\"headline\":\"Line\nbreak\"} --></script>\
             <script type='application/ld+json'>{nope</script>",
        );
        assert_eq!((d.json_ld_blocks, d.json_ld_errors), (2, 1));
        assert_eq!(d.page.title.as_deref(), Some("Line break"));
    }

    #[test]
    fn microdata_items_on_a_listing() {
        let d = data(
            r#"<ul>
            <li><article itemscope itemtype="http://schema.org/ScholarlyArticle">
              <time datetime="2019-09-05" itemprop="datePublished">05 September 2019</time>
              <h3 itemprop="name headline"><a href="/articles/x1" itemprop="url">First <i>one</i></a></h3>
              <div itemprop="description"><p>Teaser.</p></div>
              <ul><li itemprop="creator" itemscope itemtype="http://schema.org/Person"><span itemprop="name">Zee Merali</span></li>
                  <li itemprop="creator" itemscope itemtype="http://schema.org/Person"><span itemprop="name">Al Bo</span></li></ul>
            </article></li>
            <li><article itemscope itemtype="http://schema.org/ScholarlyArticle">
              <h3 itemprop="name headline"><a href="/articles/x2" itemprop="url">Second</a></h3>
              <meta itemprop="timeRequired" content="PT3M">
            </article></li></ul>"#,
        );
        assert_eq!(d.items.len(), 2);
        let a = &d.items[0];
        assert_eq!(a.title.as_deref(), Some("First one"));
        assert_eq!(
            a.url.as_ref().map(Url::as_str),
            Some("https://news.example.org/articles/x1")
        );
        assert_eq!(a.authors, ["Zee Merali", "Al Bo"]);
        assert_eq!(ymd(a.date), day("2019-09-05"));
        assert_eq!(a.date_origin, Some("microdata"));
        assert_eq!(d.items[1].read_time, Some(3));
    }

    #[test]
    fn meta_tags_and_site_suffix() {
        let d = data(
            r#"<html><head><title>Slow drop : Nature News</title>
            <meta property="og:title" content="Slow drop | Nature News">
            <meta property="og:site_name" content="Nature News">
            <meta property="article:published_time" content="2013-07-18T10:00:00Z">
            <meta property="article:author" content="https://facebook.com/someone">
            <meta name="citation_authors" content="Johnston, Richard; ">
            <meta name="twitter:label1" content="Est. reading time"><meta name="twitter:data1" content="4 minutes">
            <meta property="og:image" content="//cdn.example.org/i.jpg">
            </head><body><h1>Slow drop</h1></body></html>"#,
        );
        let p = &d.page;
        assert_eq!(p.title.as_deref(), Some("Slow drop"));
        assert_eq!(ymd(p.date), day("2013-07-18"));
        assert_eq!(p.date_origin, Some("meta"));
        assert_eq!(p.authors, ["Richard Johnston"]);
        assert_eq!(p.read_time, Some(4));
        assert_eq!(
            p.image.as_ref().map(Url::as_str),
            Some("https://cdn.example.org/i.jpg")
        );
    }

    #[test]
    fn html_conventions_as_last_resort() {
        let d = data(
            r#"<html><head><title>Gut microbes | Science</title></head><body>
            <nav><a href="/author/editor">Editor In Chief</a><span class="date">1 Jan 2013</span></nav>
            <article><h1>Gut microbes</h1>
              <p class="byline">By <a rel="author" href="/author/kai">Kai Kupferschmidt</a></p>
              <span class="date-display-single">2013-07-18 14:00</span>
              <p>one two three four</p><p>five six</p>
            </article></body></html>"#,
        );
        let p = &d.page;
        assert_eq!(p.title.as_deref(), Some("Gut microbes"));
        assert_eq!(p.authors, ["Kai Kupferschmidt"]);
        assert_eq!(
            p.date.map(|d| d.to_rfc3339()),
            Some("2013-07-18T14:00:00+00:00".into())
        );
        assert_eq!(p.date_origin, Some("html"));
        assert_eq!(
            p.word_count,
            Some(9),
            "paragraphs of the article, byline included"
        );
    }

    #[test]
    fn citation_names() {
        assert_eq!(citation_name("Johnston, Richard"), "Richard Johnston");
        assert_eq!(citation_name(" Jane Doe "), "Jane Doe");
    }
}
