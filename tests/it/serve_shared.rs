//! `scifeed serve` on a PostgreSQL state (a real throwaway server, see `pgserver.rs`): the
//! feeds are served from the store itself, with no files of their own, and a change another
//! runner commits reaches the served feed between the server's rounds.

use std::sync::atomic::Ordering;
use std::time::Duration;

use crate::Sandbox;
use crate::pgserver;
use crate::serve_kit::{Http, feed_titles, serve, site_gaining_a_card, wait_for_change};

#[test]
fn serve_on_postgres_serves_the_store_and_follows_other_runners() {
    let Some(pg) = pgserver::shared() else { return };
    let url = pg.database("serve_shared");
    let (site, fetches) =
        site_gaining_a_card("2026/12/01/shared-story", "A Story Another Runner Found");
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
    assert_eq!(feed_titles(&first).len(), 8);
    assert_eq!(fetches.load(Ordering::SeqCst), 1, "serve fetched nothing");
    let etag = first.header("etag").expect("etag").to_string();

    // Another runner fetches again and commits a new item; the server shows it by itself.
    sb.run(&["--all"]).success();
    assert_eq!(fetches.load(Ordering::SeqCst), 2);
    let now = wait_for_change(&s, &http, &s.url("a.json"), &etag, Duration::from_secs(20));
    let now = feed_titles(&now);
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
