//! Fetching over HTTP from a server the test starts on 127.0.0.1 (the conditional-GET flow
//! and the rest of the crawler's behaviour are in `crawl.rs`).

use std::sync::Arc;
use std::sync::atomic::{AtomicU16, Ordering};

use crate::server::{Reply, TestServer};
use crate::{Sandbox, demo_page, read_rss};

#[test]
fn fetches_over_http_with_our_user_agent() {
    let page = demo_page();
    let srv = TestServer::start(move |_| Reply::ok(page.clone()));
    let sb = Sandbox::new();
    sb.config(
        &[("ts", &srv.url("/news"))],
        "user_agent = \"scifeed-test/1 (+https://example.org/c)\"\nrobots = false",
    );
    sb.run(&[]).success();
    assert_eq!(read_rss(&sb.path("out/ts.rss")).items().len(), 8);
    let hits = srv.hits("/news");
    assert_eq!(hits.len(), 1);
    assert_eq!(
        hits[0].header("user-agent"),
        Some("scifeed-test/1 (+https://example.org/c)")
    );
}

#[test]
fn http_error_names_feed_url_and_status_and_keeps_files() {
    let page = demo_page();
    let status = Arc::new(AtomicU16::new(200));
    let s2 = status.clone();
    let srv = TestServer::start(move |_| match s2.load(Ordering::SeqCst) {
        200 => Reply::ok(page.clone()),
        code => Reply::status(code),
    });
    let sb = Sandbox::new();
    let url = srv.url("/news");
    sb.config(&[("ts", &url)], "robots = false");
    sb.run(&[]).success();
    let before = sb.read("out/ts.atom");
    status.store(404, Ordering::SeqCst);
    let out = sb.run(&[]).code(1);
    let stdout = String::from_utf8_lossy(&out.get_output().stdout).to_string();
    assert!(
        stdout.contains(&format!("error: feed \"ts\": {url}: HTTP 404")),
        "{stdout}"
    );
    assert_eq!(sb.read("out/ts.atom"), before);
}
