//! `scifeed serve` on a PostgreSQL state (a real throwaway server, see `pgserver.rs`): the
//! feeds are served from the store itself, with no files of their own, and a change another
//! runner commits reaches the served feed between the server's rounds.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use crate::pgserver;
use crate::serve_kit::{Http, serve};
use crate::server::{Reply, TestServer};
use crate::{Sandbox, card_html, demo_page};

fn titles(body: &[u8]) -> Vec<String> {
    let v: serde_json::Value = serde_json::from_slice(body).expect("json feed");
    v["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|i| i["title"].as_str().unwrap_or_default().to_string())
        .collect()
}

#[test]
fn serve_on_postgres_serves_the_store_and_follows_other_runners() {
    let Some(pg) = pgserver::shared() else { return };
    let url = pg.database("serve_shared");
    let fetches = Arc::new(AtomicUsize::new(0));
    let f = fetches.clone();
    let base = demo_page();
    let card = card_html(
        "2026/12/01/shared-story",
        "A Story Another Runner Found",
        "Ada Lovelace",
        "<time datetime=\"2026-12-01T08:00:00Z\"></time>",
    );
    let first_card = "  <article class=\"ArticleCard\">";
    let changed = base.replacen(first_card, &format!("{card}{first_card}"), 1);
    let site = TestServer::start(move |req| {
        if req.path == "/robots.txt" {
            return Reply::status(404);
        }
        if f.fetch_add(1, Ordering::SeqCst) == 0 {
            Reply::ok(base.clone())
        } else {
            Reply::ok(changed.clone())
        }
    });
    let sb = Sandbox::new();
    let cfg = sb.config(
        &[("a", &site.url("/a"))],
        &format!("robots = false\nevery = \"1h\"\nstate = \"{url}\""),
    );
    let text = std::fs::read_to_string(&cfg).expect("config");
    std::fs::write(&cfg, text.replacen("state = \"state.db\"\n", "", 1)).expect("config");

    // A runner on another "machine" fetches the feed first.
    sb.run(&[]).success();
    assert_eq!(fetches.load(Ordering::SeqCst), 1);

    // The serve node has an output directory of its own, empty at start: what it serves
    // comes from the store. Its first round finds nothing due (every 1h), so it fetches
    // nothing.
    let s = serve(
        &sb,
        &["--output-dir", &sb.path("node-out").to_string_lossy()],
    );
    let http = Http::new();
    let h = s.wait_rounds(&http, 1, Duration::from_secs(30));
    assert_eq!(h["feeds"][0]["status"], "ok", "{h:#}");
    let first = http.get(&s.url("a.json"), &[]);
    assert_eq!(first.status, 200, "{}", first.text());
    assert_eq!(titles(&first.body).len(), 8);
    assert_eq!(fetches.load(Ordering::SeqCst), 1, "serve fetched nothing");
    let etag = first.header("etag").expect("etag").to_string();

    // Another runner fetches again and commits a new item; the server shows it by itself.
    sb.run(&["--all"]).success();
    assert_eq!(fetches.load(Ordering::SeqCst), 2);
    let started = Instant::now();
    let now = loop {
        let r = http.get(&s.url("a.json"), &[("If-None-Match", etag.as_str())]);
        if r.status == 200 {
            break r;
        }
        assert_eq!(r.status, 304);
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "the other runner's change never reached the served feed; stderr:\n{}",
            s.stderr()
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    let now = titles(&now.body);
    assert_eq!(now.len(), 9);
    assert_eq!(now[0], "A Story Another Runner Found");
    assert_eq!(
        fetches.load(Ordering::SeqCst),
        2,
        "serve still fetched nothing"
    );
    let page = http.get(&s.url("a.html"), &[]).text();
    assert!(page.contains("A Story Another Runner Found"));
}
