//! The HTML pages of `serve`: an index of every feed and a readable page per feed.
//!
//! Compile-time templates (maud) escape every value. Plain HTML and one inline stylesheet:
//! no JavaScript, no XSLT, no web fonts. Landmarks (`header`, `nav`, `main`, `footer`), one
//! `h1` per page with `h2` per feed or article, alt text on every image, colours with at
//! least 4.5:1 contrast in light and dark mode (`prefers-color-scheme`), and a layout that
//! wraps on a phone. Links between the server's documents are relative, so the pages also
//! work behind a reverse proxy under a sub-path; they carry `?key=` when a token is set.

use chrono::{DateTime, Utc};
use maud::{DOCTYPE, Markup, PreEscaped, html};
use url::Url;

use crate::feed::FeedSpec;
use crate::model::Item;
use crate::render::Format;
use crate::serve::catalog::{Catalog, FeedView, RoundState, Snapshot};
use crate::serve::status::{Health, Word};

const CSS: &str = r#"
:root { color-scheme: light dark; --bg: #ffffff; --fg: #1b1b1b; --muted: #4f4f4f; --link: #0b57d0;
  --line: #d6d6d6; --card: #f6f7f9; --ok-bg: #e3f3e6; --ok-fg: #125b23; --bad-bg: #fde8e7; --bad-fg: #8c1d18;
  --new-bg: #eceff3; --new-fg: #3b4350; }
@media (prefers-color-scheme: dark) {
  :root { --bg: #121417; --fg: #e9eaec; --muted: #b4b8bf; --link: #8ab4f8; --line: #3a3f47; --card: #1c1f24;
    --ok-bg: #123321; --ok-fg: #9fe0b0; --bad-bg: #3d1715; --bad-fg: #ffb3ad; --new-bg: #262a31; --new-fg: #cfd4dc; }
}
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--fg); font: 1rem/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
a { color: var(--link); text-underline-offset: 0.15em; }
a:focus-visible { outline: 3px solid var(--link); outline-offset: 2px; }
.skip { position: absolute; left: -999px; } .skip:focus { left: 1rem; top: 1rem; background: var(--bg); padding: .5rem; }
header, main, footer { max-width: 52rem; margin: 0 auto; padding: 1rem; }
header { border-bottom: 1px solid var(--line); }
h1 { font-size: 1.6rem; line-height: 1.25; margin: .5rem 0; overflow-wrap: anywhere; }
h2 { font-size: 1.15rem; line-height: 1.3; margin: 0 0 .35rem; overflow-wrap: anywhere; }
nav ul, .formats { list-style: none; padding: 0; margin: .5rem 0; display: flex; flex-wrap: wrap; gap: .5rem 1rem; }
.feeds, .items { list-style: none; padding: 0; margin: 0; }
.feeds > li, .items > li { background: var(--card); border: 1px solid var(--line); border-radius: .5rem; padding: .9rem 1rem; margin: 0 0 1rem; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: .15rem .75rem; margin: .5rem 0; }
dt { color: var(--muted); } dd { margin: 0; overflow-wrap: anywhere; }
.meta { color: var(--muted); margin: 0 0 .4rem; font-size: .95rem; }
.teaser { margin: .4rem 0 0; }
.item { display: flex; gap: 1rem; align-items: flex-start; }
.item > div { min-width: 0; flex: 1; }
.item img { order: 2; display: block; width: 9rem; max-width: 35%; height: auto; aspect-ratio: 16 / 10; object-fit: cover;
  border-radius: .35rem; flex: none; background: var(--line); color: var(--muted); font-size: .75rem; overflow: hidden; }
.status { display: inline-block; padding: .05rem .55rem; border-radius: 1rem; font-weight: 600; font-size: .9rem; }
.st-ok { background: var(--ok-bg); color: var(--ok-fg); } .st-failing { background: var(--bad-bg); color: var(--bad-fg); }
.st-new, .st-healed { background: var(--new-bg); color: var(--new-fg); }
.cause { overflow-wrap: anywhere; }
footer { color: var(--muted); border-top: 1px solid var(--line); font-size: .9rem; }
@media (max-width: 32rem) { .item { flex-direction: column; } .item img { width: 100%; max-width: 100%; } }
@media (prefers-reduced-motion: no-preference) { html { scroll-behavior: smooth; } }
"#;

/// Date and time as the pages print them.
fn when(t: &DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M UTC").to_string()
}

fn time(t: Option<&DateTime<Utc>>, none: &str) -> Markup {
    match t {
        Some(t) => html! { time datetime=(t.to_rfc3339()) { (when(t)) } },
        None => html! { (none) },
    }
}

fn format_name(f: Format) -> &'static str {
    match f {
        Format::Rss => "RSS",
        Format::Atom => "Atom",
        Format::Json => "JSON Feed",
    }
}

/// The media type of a feed format, without parameters.
pub fn media_type(f: Format) -> &'static str {
    match f {
        Format::Rss => "application/rss+xml",
        Format::Atom => "application/atom+xml",
        Format::Json => "application/feed+json",
    }
}

fn status_badge(health: &Health) -> Markup {
    let (class, word) = match health.word() {
        Word::Ok => ("st-ok", "ok"),
        Word::Failing => ("st-failing", "failing"),
        Word::New => ("st-new", "new"),
        Word::Healed => ("st-healed", "healed"),
    };
    html! { span class={ "status " (class) } { (word) } }
}

fn status_line(health: &Health) -> Markup {
    html! {
        (status_badge(health))
        @if !matches!(health, Health::Ok) {
            " " span class="cause" { (health.describe()) }
        }
    }
}

fn page(title: &str, head_links: Markup, header: Markup, main: Markup, cat: &Catalog) -> Vec<u8> {
    let k = &cat.key_suffix;
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                // Links and images must not carry the page's URL (and its ?key=) elsewhere.
                meta name="referrer" content="no-referrer";
                title { (title) }
                (head_links)
                style { (PreEscaped(CSS)) }
            }
            body {
                a class="skip" href="#main" { "Skip to content" }
                header { (header) }
                main id="main" { (main) }
                footer {
                    p {
                        "Made by scifeed. "
                        a href={ "feeds.opml" (k) } { "OPML of all feeds" } " · "
                        a href={ "health" (k) } { "health (JSON)" } " · "
                        a href={ "metrics" (k) } { "metrics" }
                    }
                }
            }
        }
    }
    .into_string()
    .into_bytes()
}

fn subscribe_links(cat: &Catalog, spec: &FeedSpec) -> Markup {
    let k = &cat.key_suffix;
    html! {
        ul class="formats" aria-label={ "Subscribe to " (spec.title) } {
            @for f in &cat.config.settings.formats {
                li { a href={ (spec.id) "." (f.extension()) (k) } type=(media_type(*f)) { (format_name(*f)) } }
            }
        }
    }
}

fn facts(view: &FeedView, round: &RoundState) -> Markup {
    html! {
        dl {
            dt { "Status" } dd { (status_line(&view.health)) }
            dt { "Items" } dd { (view.summary.items) }
            dt { "Last success" } dd { (time(view.summary.last_ok.as_ref(), "never")) }
            dt { "Next fetch" } dd {
                @if round.running && view.next_fetch.is_none_or(|n| n <= Utc::now()) {
                    "now (a round is running)"
                } @else {
                    (time(view.next_fetch.as_ref(), "not scheduled"))
                }
            }
        }
    }
}

/// The index: every feed with its status and subscribe links.
pub fn index(cat: &Catalog, snap: &Snapshot) -> Vec<u8> {
    let k = &cat.key_suffix;
    let failing = snap.feeds.iter().filter(|f| f.health.failing()).count();
    let header = html! {
        h1 { "scifeed: " (cat.config.feeds.len()) " feeds" }
        p {
            @if failing == 0 { "All feeds are ok." } @else { (failing) " failing." }
            " Last round: " (time(snap.round.last_finished.as_ref(), "none yet"))
            @if snap.round.running { " (a round is running now)" }
            "."
        }
        nav aria-label="Lists" {
            ul {
                li { a href={ "feeds.opml" (k) } type="text/x-opml" { "OPML (import every feed at once)" } }
                li { a href={ "health" (k) } type="application/json" { "Health (JSON)" } }
            }
        }
    };
    let main = html! {
        ul class="feeds" {
            @for (spec, view) in cat.config.feeds.iter().zip(&snap.feeds) {
                li {
                    article aria-labelledby={ "f-" (spec.id) } {
                        h2 id={ "f-" (spec.id) } { a href={ (spec.id) ".html" (k) } { (spec.title) } }
                        p class="meta" { "Source: " a href=(spec.site_url.as_str()) { (spec.site_url.as_str()) } }
                        (subscribe_links(cat, spec))
                        (facts(view, &snap.round))
                    }
                }
            }
        }
    };
    page("scifeed feeds", html! {}, header, main, cat)
}

/// The readable page of one feed: its status and subscribe links, then its items.
pub fn feed_page(
    cat: &Catalog,
    spec: &FeedSpec,
    view: &FeedView,
    items: &[Item],
    round: &RoundState,
) -> Vec<u8> {
    let k = &cat.key_suffix;
    let head_links = html! {
        @for f in &cat.config.settings.formats {
            link rel="alternate" type=(media_type(*f)) title={ (spec.title) " (" (format_name(*f)) ")" }
                href={ (spec.id) "." (f.extension()) (k) };
        }
    };
    let header = html! {
        nav aria-label="Breadcrumb" { a href={ "./" (k) } { "All feeds" } }
        h1 { (spec.title) }
        p class="meta" { "Source: " a href=(spec.site_url.as_str()) { (spec.site_url.as_str()) } }
        (subscribe_links(cat, spec))
        (facts(view, round))
    };
    let main = html! {
        @if items.is_empty() {
            p { "No items yet." }
        }
        ol class="items" {
            @for item in items {
                li { (item_card(item)) }
            }
        }
    };
    page(&spec.title, head_links, header, main, cat)
}

/// "A", "A and B", "A, B and C".
fn join_names(names: &[String]) -> String {
    match names {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

fn item_card(item: &Item) -> Markup {
    let image = item
        .image
        .as_deref()
        .filter(|i| Url::parse(i).is_ok_and(|u| crate::canon::is_web(&u)));
    let read = item.read_time.map(|m| {
        if item.read_time_estimated {
            format!("about {m} min read")
        } else {
            format!("{m} min read")
        }
    });
    html! {
        article class="item" {
            @if let Some(src) = image {
                img src=(src) alt=(item.title) loading="lazy" decoding="async";
            }
            div {
                h2 { a href=(item.link) { (item.title) } }
                p class="meta" {
                    @if !item.authors.is_empty() { span { "By " (join_names(&item.authors)) } " · " }
                    @if let Some(r) = &read { span { (r) } " · " }
                    time datetime=(item.published.to_rfc3339()) { (item.published.format("%-d %B %Y")) }
                }
                @if let Some(t) = &item.teaser { p class="teaser" { (t) } }
            }
        }
    }
}
