//! The index and a feed page in a real browser: Debian's `chromium`, headless, loads them from
//! `scifeed serve` on 127.0.0.1 and the rendered DOM is checked (landmarks, headings, links,
//! alt text, no script), then both pages are screenshotted at phone and desktop width.
//! Skipped with a note when chromium is not installed, unless `CI` is set (`.ci/run`
//! installs it): then its absence fails the test.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use scraper::{Html, Selector};

use crate::Sandbox;
use crate::serve_kit::{Http, demo_config, serve_config};

fn chromium() -> Option<&'static str> {
    let found = ["chromium", "chromium-browser"].into_iter().find(|b| {
        Command::new(b)
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success())
    });
    if found.is_none() {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI is set but chromium is not installed (.ci/run installs Debian's chromium)"
        );
        eprintln!("chromium not found, skipping the browser test (apt-get install chromium)");
    }
    found
}

/// Runs headless chromium on `url` with `extra` arguments; its standard output.
fn browse(bin: &str, profile: &Path, extra: &[&str], url: &str) -> String {
    let out = Command::new(bin)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--hide-scrollbars",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(extra)
        .arg(url)
        .output()
        .expect("run chromium");
    assert!(
        out.status.success(),
        "chromium failed on {url}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn count(doc: &Html, css: &str) -> usize {
    doc.select(&Selector::parse(css).expect("selector")).count()
}

fn texts(doc: &Html, css: &str) -> Vec<String> {
    doc.select(&Selector::parse(css).expect("selector"))
        .map(|e| e.text().collect::<String>().trim().to_string())
        .collect()
}

#[test]
fn index_and_feed_page_render_in_a_browser() {
    let Some(bin) = chromium() else { return };
    let sb = Sandbox::new();
    let cfg = demo_config(&sb);
    let s = serve_config(&sb, &cfg, &[]);
    let http = Http::new();
    s.wait_rounds(&http, 1, Duration::from_secs(30));
    let profile = sb.path("chromium-profile");

    let index = Html::parse_document(&browse(bin, &profile, &["--dump-dom"], &s.url("")));
    for landmark in ["header", "main", "footer", "nav"] {
        assert!(count(&index, landmark) >= 1, "no <{landmark}> on the index");
    }
    assert_eq!(texts(&index, "h1"), ["scifeed: 2 feeds"]);
    assert_eq!(
        texts(&index, "main h2"),
        ["The Scientist (demo)", "Lab Notes (demo)"]
    );
    for id in ["the-scientist-demo", "lab-notes-demo"] {
        for ext in ["rss", "atom", "json", "html"] {
            let css = format!("a[href=\"{id}.{ext}\"]");
            assert_eq!(count(&index, &css), 1, "{css}");
        }
    }
    assert_eq!(texts(&index, ".status"), ["ok", "ok"]);
    assert!(count(&index, "a[href=\"feeds.opml\"]") >= 1);
    assert!(count(&index, "a[href=\"health\"]") >= 1);
    assert_eq!(count(&index, "script"), 0);
    assert_eq!(count(&index, "meta[name=viewport]"), 1);
    assert_eq!(count(&index, "html[lang=en]"), 1);

    let page = Html::parse_document(&browse(
        bin,
        &profile,
        &["--dump-dom"],
        &s.url("the-scientist-demo.html"),
    ));
    assert_eq!(texts(&page, "h1"), ["The Scientist (demo)"]);
    assert_eq!(count(&page, "main article"), 8, "one article per item");
    assert_eq!(count(&page, "main article h2 a[href^=\"https://\"]"), 8);
    assert!(
        texts(&page, "main h2")
            .contains(&"Neurons That Count Found in Untrained Zebrafish".to_string())
    );
    let imgs: Vec<_> = page
        .select(&Selector::parse("img").expect("selector"))
        .collect();
    assert!(!imgs.is_empty());
    for img in &imgs {
        let alt = img.value().attr("alt").unwrap_or_default();
        assert!(
            !alt.trim().is_empty(),
            "image without alt text: {:?}",
            img.value()
        );
    }
    let meta = texts(&page, "main article .meta").join("\n");
    assert!(meta.contains("By Andy Carstens"), "{meta}");
    assert!(meta.contains("4 min read"), "{meta}");
    assert!(count(&page, "main article time[datetime]") == 8);
    assert!(!texts(&page, "main article .teaser").is_empty());
    for ext in ["rss", "atom", "json"] {
        let css = format!("link[rel=alternate][href=\"the-scientist-demo.{ext}\"]");
        assert_eq!(count(&page, &css), 1, "feed autodiscovery: {css}");
    }
    assert_eq!(count(&page, "script"), 0);
    assert_eq!(count(&page, "a[href=\"./\"]"), 1, "a way back to the index");

    // Screenshots at phone and desktop width, light and dark.
    for (name, url, size, dark) in [
        ("index.png", s.url(""), "1000,800", false),
        (
            "feed-phone.png",
            s.url("the-scientist-demo.html"),
            "390,844",
            false,
        ),
        (
            "feed-dark.png",
            s.url("the-scientist-demo.html"),
            "390,844",
            true,
        ),
    ] {
        let shot = sb.path(name);
        let arg = format!("--screenshot={}", shot.display());
        let window = format!("--window-size={size}");
        let mut extra = vec![arg.as_str(), window.as_str()];
        if dark {
            extra.push("--force-dark-mode");
        }
        browse(bin, &profile, &extra, &url);
        let png = std::fs::read(&shot).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"), "{name} is a PNG");
        assert!(
            png.len() > 10_000,
            "{name} looks empty ({} bytes)",
            png.len()
        );
    }
}
