//! The words extraction reads markup by, in one place: page chrome, widget, headline,
//! byline, teaser and category markers in class names and ids, URL path words of author,
//! tag and section pages, widget headings, byline roles and affiliations, and the names of
//! lazy-image attributes and placeholder images. `detect.rs` (auto-detection),
//! `structured.rs` (article pages), `meta.rs` (meta lines) and `select.rs` (images) all
//! read these lists, so a word added here counts everywhere.
//!
//! Markers are matched against *tokens*: an element's class names and id split at every
//! non-alphanumeric character and lower-cased ("c-card__byline" -> c, card, byline), which
//! also works on CSS-module names ("Card_byline__x9f2a"). Hash-only classes carry no token
//! from these lists, which is why every list here has a content-based counterpart elsewhere.

use scraper::ElementRef;

/// Class/id tokens of a headline element.
pub const HEADLINE_WORDS: &[&str] = &["headline", "heading", "hed", "title"];

/// Class/id tokens of a teaser (standfirst, dek, excerpt).
pub const TEASER_WORDS: &[&str] = &[
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

/// Class/id tokens of a byline. `byline` is also matched inside longer tokens
/// ("articleByline", "bylineName"): see [`is_byline_marked`].
pub const BYLINE_WORDS: &[&str] = &[
    "author",
    "authors",
    "byline",
    "bylines",
    "creator",
    "contributor",
    "contributors",
    "writer",
];

/// Class/id tokens of a category, tag or kicker label.
pub const CATEGORY_WORDS: &[&str] = &[
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

/// Class/id tokens of a label printed above or inside a headline ("Space" in `<span
/// class="kicker">`), which is not part of the headline.
pub const KICKER_WORDS: &[&str] = &[
    "kicker",
    "kickers",
    "eyebrow",
    "overline",
    "rubric",
    "category",
    "categories",
    "topic",
    "tag",
];

/// Class/id tokens of blocks that are not the page's main listing: related, popular and
/// sponsored boxes, navigation, sharing, newsletters.
pub const WIDGET_WORDS: &[&str] = &[
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
    "newsletters",
    "subscribe",
    "comments",
    "tab",
    "tabs",
    "outbrain",
    "taboola",
    "partner",
    "partners",
    "marketplace",
];

/// Class/id tokens of an item that is an advertisement, wherever it sits.
pub const AD_WORDS: &[&str] = &[
    "sponsored",
    "sponsor",
    "promoted",
    "advertorial",
    "advertisement",
    "paid",
];

/// Headings of widget zones (lower case, matched as whole words at the start of the
/// heading): a zone titled "Most read" or "Trending now" is not the main listing, whatever
/// its classes say.
pub const WIDGET_HEADINGS: &[&str] = &[
    "most read",
    "most popular",
    "most viewed",
    "most shared",
    "most emailed",
    "most commented",
    "popular",
    "trending",
    "related",
    "recommended",
    "you may also like",
    "you might also like",
    "more from",
    "read next",
    "newsletter",
    "newsletters",
    "sign up",
    "subscribe",
    "sponsored",
    "partner content",
    "from our partners",
    "advertisement",
    "meistgelesen",
    "beliebt",
    "les plus lus",
    "lo más leído",
    "más leídas",
];

/// Byline prefixes, lower case, longest first so "written by" wins over "by". Each must end
/// at a word boundary in the text ("Byron Smith" keeps its name).
pub const BYLINE_PREFIXES: &[&str] = &[
    "geschrieben von",
    "interview by",
    "article by",
    "written by",
    "reported by",
    "verfasst von",
    "escrito por",
    "escrita por",
    "posted by",
    "écrit par",
    "rédigé par",
    "scritto da",
    "story by",
    "words by",
    "a cura di",
    "text by",
    "autoren:",
    "authors:",
    "auteurs:",
    "autorin:",
    "author:",
    "auteur:",
    "autore:",
    "autor:",
    "door",
    "mit",
    "by",
    "von",
    "par",
    "por",
    "av",
    "di",
];

/// Words that say what kind of work a byline credits before its agent word ("Ein Video von",
/// "Aufgezeichnet von", "Photos by", "An analysis by"), lower case.
pub const BYLINE_LEAD_WORDS: &[&str] = &[
    "video",
    "videos",
    "photo",
    "photos",
    "pictures",
    "images",
    "illustration",
    "illustrations",
    "graphics",
    "analysis",
    "commentary",
    "column",
    "essay",
    "interview",
    "review",
    "reporting",
    "podcast",
    "and",
    "kommentar",
    "kolumne",
    "analyse",
    "reportage",
    "gastbeitrag",
    "fotos",
    "bilder",
    "grafik",
    "recherche",
    "aufgezeichnet",
    "zusammengestellt",
    "moderiert",
    "protokolliert",
    "gesprochen",
    "vidéo",
    "chronique",
    "tribune",
    "entretien",
    "reportaje",
    "entrevista",
    "columna",
];

/// The agent words that end such a lead: the name follows.
pub const BYLINE_AGENT_WORDS: &[&str] = &["by", "von", "par", "por", "door", "di", "da"];

/// Articles that may open a byline lead ("Ein Video von", "A video by").
pub const ARTICLE_WORDS: &[&str] = &["a", "an", "ein", "eine", "einem", "un", "una", "une"];

/// Prefixes of [`BYLINE_PREFIXES`] that are stripped from a name but do not by themselves
/// make a line a byline: "Mit" ("Mit Isabella Reichert" on a live blog) starts many German
/// sentences.
pub const WEAK_BYLINE_PREFIXES: &[&str] = &["mit"];

/// Prefixes of [`BYLINE_PREFIXES`] that count only in lower case: capitalised, they begin a
/// surname ("Di Maio").
pub const LOWERCASE_BYLINE_PREFIXES: &[&str] = &["di"];

/// Tags that are page chrome wherever they sit.
const CHROME_TAGS: &[&str] = &["nav", "aside", "menu"];

/// ARIA roles of page chrome.
const CHROME_ROLES: &[&str] = &[
    "navigation",
    "banner",
    "contentinfo",
    "complementary",
    "menu",
    "menubar",
];

/// Sectioning elements: a `<header>` or `<footer>` inside one belongs to that section (an
/// article's header holds its byline), not to the page.
const SECTIONING: &[&str] = &["article", "aside", "main", "nav", "section"];

/// Segments of [`NOT_ARTICLE_SEGMENTS`] that file articles under sections: an article may
/// sit two or more segments below them.
pub const TAXONOMY_SEGMENTS: &[&str] = &["topic", "topics", "category", "categories"];

/// Path segments of pages that are not articles: tags, topics, author pages, accounts,
/// site furniture.
pub const NOT_ARTICLE_SEGMENTS: &[&str] = &[
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
    "staff",
    "contributor",
    "contributors",
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

/// Path segments of a person's page: a link into one of these names its text as a byline.
pub const AUTHOR_PATH_SEGMENTS: &[&str] = &[
    "author",
    "authors",
    "people",
    "person",
    "staff",
    "profile",
    "profiles",
    "contributor",
    "contributors",
    "writer",
    "writers",
    "journalist",
    "journalists",
    "autor",
    "autoren",
    "auteur",
    "auteurs",
];

/// Path segments of a category or tag page: a link into one is a category label.
pub const CATEGORY_PATH_SEGMENTS: &[&str] = &[
    "tag",
    "tags",
    "topic",
    "topics",
    "category",
    "categories",
    "section",
    "sections",
    "subject",
    "subjects",
    "label",
    "labels",
];

/// Job titles that follow a name in a byline ("Jane Doe, Staff Writer").
pub const ROLE_WORDS: &[&str] = &[
    "writer",
    "editor",
    "correspondent",
    "reporter",
    "staff",
    "contributor",
    "contributing",
    "columnist",
    "journalist",
    "producer",
    "intern",
    "fellow",
    "photographer",
    "redakteur",
    "redakteurin",
    "rédacteur",
    "rédactrice",
    "redactor",
    "redactora",
];

/// Words of an affiliation or outlet that follows a name ("Jane Doe, University of
/// Oxford", "Ann Lee, The Conversation").
pub const AFFILIATION_WORDS: &[&str] = &[
    "university",
    "universität",
    "université",
    "universidad",
    "institute",
    "institut",
    "instituto",
    "college",
    "school",
    "center",
    "centre",
    "laboratory",
    "lab",
    "department",
    "hospital",
    "museum",
    "agency",
    "observatory",
    "foundation",
    "society",
    "news",
    "magazine",
    "press",
    "media",
    "times",
    "post",
    "journal",
    "conversation",
    "associated",
    "reuters",
    "afp",
    "ap",
    "nasa",
    "esa",
];

/// Subject words of section and category labels ("Climate Change", "Space Exploration"):
/// a bare part of a meta line holding one is a label, not a person's name.
pub const TOPIC_WORDS: &[&str] = &[
    "science",
    "sciences",
    "environment",
    "health",
    "medicine",
    "space",
    "climate",
    "change",
    "technology",
    "tech",
    "news",
    "nature",
    "physics",
    "biology",
    "chemistry",
    "earth",
    "animals",
    "energy",
    "society",
    "world",
    "business",
    "politics",
    "culture",
    "opinion",
    "features",
    "feature",
    "analysis",
    "research",
    "planet",
    "life",
    "mind",
    "brain",
    "archaeology",
    "astronomy",
    "evolution",
    "ocean",
    "oceans",
    "weather",
    "policy",
    "education",
    "engineering",
    "mathematics",
    "math",
    "computing",
    "genetics",
    "neuroscience",
    "psychology",
    "paleontology",
    "ecology",
    "conservation",
    "wildlife",
    "history",
    "universe",
    "quantum",
    "robotics",
    "innovation",
    "sustainability",
    "agriculture",
    "food",
    "disease",
    "cancer",
    "exploration",
    "video",
    "podcast",
    "gallery",
    "review",
    "reviews",
    "interview",
    "explainer",
    "system",
    "solar",
    "body",
    "human",
    "humans",
    "animal",
    "kingdom",
    "sea",
    "planets",
    "stars",
    "global",
    "warming",
    "ancient",
    "fossils",
    "dinosaurs",
    "release",
    "releases",
    "update",
    "updates",
    "report",
    "reports",
    "stories",
    "blog",
    "latest",
    "special",
    "guide",
    "explained",
    "column",
    "wissenschaft",
    "umwelt",
    "gesundheit",
    "ciencia",
    "salud",
    "santé",
];

/// Link texts that lead to the article rather than say anything about it, lower case,
/// without trailing arrows or dots ("Read more »", "Full story", "Weiterlesen").
pub const READ_MORE: &[&str] = &[
    "read more",
    "more",
    "full story",
    "read full story",
    "read the full story",
    "read the story",
    "read article",
    "read the article",
    "continue reading",
    "keep reading",
    "learn more",
    "weiterlesen",
    "mehr",
    "mehr lesen",
    "lire la suite",
    "la suite",
    "lire plus",
    "leer más",
    "seguir leyendo",
    "leggi tutto",
    "continua a leggere",
];

/// Whether a link's text only says "read more" (see [`READ_MORE`]).
pub fn is_read_more(text: &str) -> bool {
    let t = text
        .trim()
        .trim_matches(|c: char| !c.is_alphanumeric())
        .to_lowercase();
    // "Continue reading “Title”": a phrase of two words or more may carry the headline
    // (for screen readers) after it.
    READ_MORE.iter().any(|p| {
        t == *p
            || (p.contains(' ')
                && t.strip_prefix(p)
                    .is_some_and(|rest| rest.starts_with(|c: char| !c.is_alphanumeric())))
    }) || t
        .strip_prefix("weiterlesen")
        .is_some_and(|r| r.starts_with(' '))
}

/// Class/id tokens of dates that are not the publication date.
pub const OTHER_DATE_WORDS: &[&str] = &[
    "print",
    "issue",
    "updated",
    "modified",
    "comment",
    "comments",
    "copyright",
    "event",
    "events",
    "related",
    "calendar",
];

/// Attributes lazy-loading scripts keep the real image URL in, most specific first.
pub const LAZY_SRC_ATTRS: &[&str] = &[
    "data-src",
    "data-lazy-src",
    "data-original",
    "data-source",
    "data-lazy",
    "data-url",
    "data-img-src",
    "data-image",
    "data-hi-res-src",
    "data-full-src",
    "data-echo",
];

/// Attributes holding a `srcset` candidate list.
pub const SRCSET_ATTRS: &[&str] = &[
    "srcset",
    "data-srcset",
    "data-lazy-srcset",
    "data-original-set",
];

/// File-name words of placeholder images that stand in until a script loads the real one
/// ("ifls-placeholder.png", "lazy-load.svg", "1x1.gif"), matched as tokens of the name.
pub const PLACEHOLDER_WORDS: &[&str] = &[
    "placeholder",
    "placeholders",
    "spacer",
    "lazyload",
    "1x1",
    "dummy",
    "nophoto",
    "noimage",
];

/// Whole file names (without extension) of placeholder images ("grey.png", "pixel.gif");
/// as words inside a longer name they are ordinary ("grey-whale.jpg").
pub const PLACEHOLDER_STEMS: &[&str] = &[
    "pixel",
    "blank",
    "lazy",
    "lazy-load",
    "lazy_load",
    "px",
    "transparent",
    "trans",
    "grey",
    "gray",
    "white",
    "empty",
    "default",
    "loading",
    "loader",
    "clear",
    "pix",
    "shim",
];

/// Class names that say where a card is or how it looks right now, not what it is.
pub const STATE_CLASSES: &[&str] = &[
    "active",
    "odd",
    "even",
    "first",
    "last",
    "selected",
    "current",
    "clearfix",
    "cleared",
    "clear",
    "lazy",
    "lazyload",
    "lazyloaded",
    "loaded",
    "hidden",
    "visible",
    "show",
    "open",
    "in",
    "fade",
];

/// Lower-case tokens of an element's classes and id ("most-popular" -> most, popular).
pub fn marker_tokens(el: ElementRef<'_>) -> Vec<String> {
    raw_tokens(el).map(str::to_ascii_lowercase).collect()
}

/// The tokens of [`marker_tokens`] as they are written; this runs for many elements of
/// every card, so it neither allocates nor lower-cases (comparisons ignore ASCII case).
fn raw_tokens<'a>(el: ElementRef<'a>) -> impl Iterator<Item = &'a str> {
    let v = el.value();
    let split = |s: &'a str| s.split(|c: char| !c.is_ascii_alphanumeric());
    split(v.attr("class").unwrap_or(""))
        .chain(split(v.attr("id").unwrap_or("")))
        .filter(|t| !t.is_empty())
}

/// The first of an element's class/id tokens that is in `words`.
pub fn marker_in(el: ElementRef<'_>, words: &[&str]) -> Option<String> {
    raw_tokens(el)
        .find(|t| words.iter().any(|w| t.eq_ignore_ascii_case(w)))
        .map(str::to_ascii_lowercase)
}

/// Whether one of an element's class/id tokens is in `words`.
pub fn has_marker(el: ElementRef<'_>, words: &[&str]) -> bool {
    raw_tokens(el).any(|t| words.iter().any(|w| t.eq_ignore_ascii_case(w)))
}

/// Whether `token` contains `word` (lower-case ASCII), ignoring ASCII case.
fn contains_ignoring_case(token: &str, word: &str) -> bool {
    token.len() >= word.len()
        && token
            .as_bytes()
            .windows(word.len())
            .any(|w| w.eq_ignore_ascii_case(word.as_bytes()))
}

/// Whether the element's classes, id, `rel` or `itemprop` mark it as a byline.
pub fn is_byline_marked(el: ElementRef<'_>) -> bool {
    let v = el.value();
    raw_tokens(el).any(|t| {
        BYLINE_WORDS.iter().any(|w| t.eq_ignore_ascii_case(w))
            || contains_ignoring_case(t, "byline")
    }) || v.attr("rel").is_some_and(|r| {
        r.split_whitespace()
            .any(|x| x.eq_ignore_ascii_case("author"))
    }) || v.attr("itemprop").is_some_and(|p| {
        p.split_whitespace()
            .any(|x| x.eq_ignore_ascii_case("author") || x.eq_ignore_ascii_case("creator"))
    })
}

/// Whether the element is page chrome: navigation, sidebars and menus, and a `<header>` or
/// `<footer>` that belongs to the page rather than to an article or section, by tag or
/// ARIA role.
pub fn is_chrome(el: ElementRef<'_>) -> bool {
    let name = el.value().name();
    if CHROME_TAGS.contains(&name) {
        return true;
    }
    if el
        .value()
        .attr("role")
        .is_some_and(|r| CHROME_ROLES.contains(&r.trim()))
    {
        return true;
    }
    matches!(name, "header" | "footer")
        && !el
            .ancestors()
            .filter_map(ElementRef::wrap)
            .any(|a| SECTIONING.contains(&a.value().name()))
}

/// Whether the element is the page's header (its banner), which [`is_chrome`] counts as
/// chrome.
pub fn is_page_header(el: ElementRef<'_>) -> bool {
    el.value().name() == "header"
        || el
            .value()
            .attr("role")
            .is_some_and(|r| r.trim() == "banner")
}

/// Whether a heading's text names a widget zone ("Most read", "Trending now").
pub fn is_widget_heading(text: &str) -> bool {
    let lower = text.trim().to_lowercase();
    WIDGET_HEADINGS.iter().any(|h| {
        lower
            .strip_prefix(h)
            .is_some_and(|rest| rest.chars().next().is_none_or(|c| !c.is_alphanumeric()))
    })
}

/// Whether a URL path leads into one of `segments` ("/author/jane-doe", "/people/x").
pub fn path_has_segment(path: &str, segments: &[&str]) -> bool {
    path.split('/')
        .filter(|s| !s.is_empty())
        .any(|s| segments.iter().any(|w| s.eq_ignore_ascii_case(w)))
}

#[cfg(test)]
mod tests {
    use scraper::{Html, Selector};

    use super::*;

    fn first<'a>(doc: &'a Html, css: &str) -> ElementRef<'a> {
        doc.select(&Selector::parse(css).expect("css"))
            .next()
            .expect("element")
    }

    #[test]
    fn tokens_split_css_module_names() {
        let doc =
            Html::parse_fragment(r#"<span class="Card_byline__x9f2a" id="most-popular"></span>"#);
        let el = first(&doc, "span");
        assert_eq!(
            marker_tokens(el),
            ["card", "byline", "x9f2a", "most", "popular"]
        );
        assert!(is_byline_marked(el));
        assert_eq!(marker_in(el, WIDGET_WORDS).as_deref(), Some("most"));
    }

    #[test]
    fn bylines_by_rel_and_itemprop() {
        let doc = Html::parse_fragment(
            r#"<a rel="author" href="/x">A</a><span itemprop="creator">B</span><b class="c9f2ab">C</b>"#,
        );
        assert!(is_byline_marked(first(&doc, "a")));
        assert!(is_byline_marked(first(&doc, "span")));
        assert!(!is_byline_marked(first(&doc, "b")));
    }

    #[test]
    fn headers_belong_to_their_section() {
        let doc = Html::parse_document(
            r#"<body><header id="top">Site</header><main><article><header id="inner">By A</header></article></main>
               <footer id="end">(c)</footer><div role="navigation" id="r"></div></body>"#,
        );
        assert!(is_chrome(first(&doc, "#top")));
        assert!(!is_chrome(first(&doc, "#inner")));
        assert!(is_chrome(first(&doc, "#end")));
        assert!(is_chrome(first(&doc, "#r")));
        assert!(!is_chrome(first(&doc, "main")));
    }

    #[test]
    fn widget_headings() {
        for yes in [
            "Most read",
            "Most Popular",
            "Trending now",
            "Related stories",
            "Newsletter",
            "Sign up for our newsletter",
            "Meistgelesen",
        ] {
            assert!(is_widget_heading(yes), "{yes}");
        }
        for no in [
            "Latest news",
            "Top stories",
            "Popularity of vaccines rises",
            "Space",
            "Relatedness in bacteria",
        ] {
            assert!(!is_widget_heading(no), "{no}");
        }
    }

    #[test]
    fn path_segments() {
        assert!(path_has_segment("/author/jane-doe/", AUTHOR_PATH_SEGMENTS));
        assert!(path_has_segment("/en/People/x", AUTHOR_PATH_SEGMENTS));
        assert!(!path_has_segment(
            "/news/authority-of-x",
            AUTHOR_PATH_SEGMENTS
        ));
        assert!(path_has_segment("/topics/space", CATEGORY_PATH_SEGMENTS));
    }
}
