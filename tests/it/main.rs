//! Black-box tests of the `scifeed` binary and its HTTP behaviour, in one test binary to keep
//! link time down. Every test works in its own temp dir; HTTP goes to servers the tests start
//! on 127.0.0.1.

mod add;
mod auto;
mod auto_eval;
mod auto_fixtures;
mod auto_score;
mod cli;
mod config;
mod corpus_auto;
mod corpus_golden;
mod crash;
mod crawl;
mod demo_golden;
mod heal;
mod history;
mod hostile;
mod http;
mod lock;
mod pgserver;
mod preview_run;
mod proc;
mod render_feedcheck;
mod safe_output;
mod schedule;
mod serve;
mod serve_browser;
mod serve_kit;
mod serve_shared;
mod server;
mod shared_state;
mod signals;
mod store_cmd;

use std::path::{Path, PathBuf};

use assert_cmd::Command;

/// The binary under test with a clean environment.
pub fn scifeed() -> Command {
    let mut cmd = Command::cargo_bin("scifeed").expect("binary built");
    cmd.env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("NO_COLOR", "1");
    cmd
}

/// `../shared` (the corpus and the feed checker), or `$SCIFEED_SHARED` when set.
pub fn shared_dir() -> PathBuf {
    std::env::var_os("SCIFEED_SHARED").map_or_else(|| repo().join("../shared"), PathBuf::from)
}

/// Whether tests that need `../shared` must fail instead of skipping when it is missing
/// (`SCIFEED_REQUIRE_SHARED=1`; `.ci/run` sets it when `../shared` exists), so a CI run that
/// lost the corpus or the checker cannot pass by skipping them.
pub fn shared_required() -> bool {
    std::env::var_os("SCIFEED_REQUIRE_SHARED").is_some_and(|v| v == "1")
}

/// Skips (prints `why`, returns) or, under [`shared_required`], fails the calling test.
pub fn skip_or_fail(why: &str) {
    skip_or_fail_if(shared_required(), why);
}

fn skip_or_fail_if(required: bool, why: &str) {
    assert!(
        !required,
        "SCIFEED_REQUIRE_SHARED=1 but {why}; set SCIFEED_SHARED or run from a checkout next to shared/"
    );
    eprintln!("skipping: {why}");
}

#[test]
#[should_panic(expected = "SCIFEED_REQUIRE_SHARED=1 but the corpus is missing")]
fn missing_shared_fails_when_required() {
    skip_or_fail_if(true, "the corpus is missing");
}

#[test]
fn missing_shared_skips_when_not_required() {
    skip_or_fail_if(false, "the corpus is missing");
}

/// The saved pages of `shared/corpus` with their expected cards; `None` (and a note) when
/// the corpus is absent, so corpus tests skip cleanly (or fail, see [`shared_required`]).
pub fn corpus_dir() -> Option<PathBuf> {
    let dir = shared_dir().join("corpus");
    if dir.join("expected").is_dir() && dir.join("pages").is_dir() {
        Some(dir)
    } else {
        skip_or_fail(&format!("the corpus is not at {}", dir.display()));
        None
    }
}

/// Extracts a saved page for `feed` exactly as `run` does: decode, then the one extraction
/// stage with the feed's own rules (its selectors, or auto-detection) and `run`'s limits.
pub fn extract_page(
    feed: &scifeed::feed::FeedSpec,
    bytes: &[u8],
    page_url: &url::Url,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<scifeed::extract::stage::ListingPage, scifeed::extract::stage::ExtractError> {
    use scifeed::extract::stage::{self, Listing, Rules};
    let text = scifeed::decode::decode(bytes, None);
    let listing = feed
        .rules
        .as_ref()
        .map_or(Listing::Auto, Listing::Selectors);
    let max_cards = scifeed::config::default_settings().crawl.max_cards;
    stage::listing(
        &text,
        page_url,
        &Rules::for_feed(feed, listing, max_cards),
        now,
    )
}

/// The repository root.
pub fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The demo listing modelled on The Scientist (8 cards).
pub fn demo_page() -> String {
    std::fs::read_to_string(repo().join("config/demo/the-scientist-news.html")).expect("demo page")
}

/// A temp dir holding a config, its page files, output and state.
pub struct Sandbox {
    pub dir: tempfile::TempDir,
}

impl Default for Sandbox {
    fn default() -> Self {
        Self::new()
    }
}

impl Sandbox {
    pub fn new() -> Sandbox {
        Sandbox {
            dir: tempfile::tempdir().expect("tempdir"),
        }
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    pub fn write(&self, rel: &str, text: &str) -> PathBuf {
        let p = self.path(rel);
        if let Some(d) = p.parent() {
            std::fs::create_dir_all(d).expect("mkdir");
        }
        std::fs::write(&p, text).expect("write");
        p
    }

    pub fn read(&self, rel: &str) -> Vec<u8> {
        std::fs::read(self.path(rel)).unwrap_or_else(|e| panic!("read {rel}: {e}"))
    }

    /// Writes `scifeed.toml` with the demo page's selectors for one feed per (id, url).
    pub fn config(&self, feeds: &[(&str, &str)], settings: &str) -> PathBuf {
        let feeds: Vec<(&str, &str, &str)> = feeds.iter().map(|(i, u)| (*i, *u, "")).collect();
        self.config_ext(&feeds, settings, "")
    }

    /// Like [`Sandbox::config`], with extra keys per feed (id, url, keys) and extra tables
    /// (such as `[hosts."..."]`) after `[settings]`.
    pub fn config_ext(
        &self,
        feeds: &[(&str, &str, &str)],
        settings: &str,
        tables: &str,
    ) -> PathBuf {
        // Politeness delays and retries off unless the test is about them.
        let mut defaults = String::new();
        for (key, value) in [("min_interval_ms", "0"), ("retries", "0")] {
            if !settings.lines().any(|l| l.trim_start().starts_with(key)) {
                defaults.push_str(&format!("{key} = {value}\n"));
            }
        }
        let mut s = format!(
            "[settings]\noutput_dir = \"out\"\nstate = \"state.db\"\npublic_url = \"https://feeds.example.org/\"\n{defaults}{settings}\n{tables}\n"
        );
        for (id, url, extra) in feeds {
            s.push_str(&format!(
                r#"
[[feed]]
id = "{id}"
title = "Feed {id}"
url = "{url}"
base_url = "https://www.demo.scifeed.example/"
{extra}
[feed.select]
card = "section.ArticleList > article.ArticleCard"
title = "h3.ArticleCard_title"
author = "p.ArticleCard_byline"
read_time = "p.ArticleCard_byline"
teaser = "p.ArticleCard_teaser"
date = "time@datetime"
image = "img.ArticleCard_image"
category = "a.ArticleCard_category"
"#
            ));
        }
        self.write("scifeed.toml", &s)
    }

    /// `scifeed run -c <sandbox>/scifeed.toml` plus `args`.
    pub fn run(&self, args: &[&str]) -> assert_cmd::assert::Assert {
        scifeed()
            .arg("run")
            .arg("-c")
            .arg(self.path("scifeed.toml"))
            .args(args)
            .assert()
    }
}

/// Parses an RSS file written by scifeed.
pub fn read_rss(path: &Path) -> rss::Channel {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    rss::Channel::read_from(&bytes[..]).unwrap_or_else(|e| panic!("parse {}: {e}", path.display()))
}

/// The demo page with its cards cut to those whose slug contains one of `keep`, plus
/// `extra_cards` inserted at the top of the list.
pub fn page_with(keep: &[&str], extra_cards: &str) -> String {
    let page = demo_page();
    let start = page
        .find("  <article class=\"ArticleCard\">")
        .expect("first card");
    let end = page.rfind("</article>").expect("last card") + "</article>\n".len();
    let cards: Vec<&str> = page[start..end].split_inclusive("</article>\n").collect();
    let kept: String = cards
        .iter()
        .filter(|c| keep.iter().any(|k| c.contains(&format!("-{k}\""))))
        .copied()
        .collect();
    format!("{}{}{}{}", &page[..start], extra_cards, kept, &page[end..])
}

/// One card in the demo page's markup.
pub fn card_html(slug: &str, title: &str, author: &str, date: &str) -> String {
    format!(
        r#"  <article class="ArticleCard">
    <div class="ArticleCard_body">
      <h3 class="ArticleCard_title"><a href="/{slug}">{title}</a></h3>
      <p class="ArticleCard_teaser">Teaser of {title}.</p>
      <p class="ArticleCard_byline">Written by<a href="/author/x">{author}</a> | 2 min read</p>
      {date}
    </div>
  </article>
"#
    )
}
