//! Scheduling against real HTTP servers on loopback, with the run's clock pinned by `--now`:
//! `every` makes `run` fetch only due feeds (requests counted at the server), `--all` ignores
//! the schedule, the source's max-age / Retry-After push the next fetch out, and the
//! library's round API runs rounds in one process.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use chrono::{DateTime, Utc};
use scifeed::pipeline::{RoundOptions, Runner};
use scifeed::report::FeedStatus;

use crate::Sandbox;
use crate::demo_page;
use crate::server::{Reply, TestServer};

fn stdout(a: &assert_cmd::assert::Assert) -> String {
    String::from_utf8_lossy(&a.get_output().stdout).to_string()
}

fn at(hhmm: &str) -> String {
    format!("2026-11-26T{hhmm}:00Z")
}

fn time(hhmm: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(&at(hhmm))
        .expect("time")
        .to_utc()
}

/// A site serving the demo page on every path but /robots.txt (404).
fn site() -> TestServer {
    let page = demo_page();
    TestServer::start(move |req| {
        if req.path == "/robots.txt" {
            Reply::status(404)
        } else {
            Reply::ok(page.clone())
        }
    })
}

/// The table row of feed `id`, whitespace folded.
fn row(out: &str, id: &str) -> String {
    out.lines()
        .find(|l| l.split_whitespace().next() == Some(id))
        .unwrap_or_else(|| panic!("no row for {id} in:\n{out}"))
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

#[test]
fn with_every_a_second_run_fetches_nothing_until_due() {
    let srv = site();
    let sb = Sandbox::new();
    sb.config(
        &[("a", &srv.url("/a")), ("b", &srv.url("/b"))],
        "every = \"30m\"",
    );
    sb.run(&["--now", &at("10:00")]).success();
    assert_eq!(srv.page_hits().len(), 2);
    let before = srv.requests().len();

    let out = stdout(&sb.run(&["--now", &at("10:20")]).success());
    assert_eq!(
        srv.requests().len(),
        before,
        "nothing due: not even robots.txt is asked\n{out}"
    );
    // 8 new items: the interval stays at `every`, plus up to 10 % jitter.
    for id in ["a", "b"] {
        let r = row(&out, id);
        assert!(
            r.starts_with(&format!("{id} not due (next Nov 26 10:3")),
            "{r}"
        );
    }
    assert!(out.contains("0 ok, 0 failed, 2 not due"), "{out}");

    sb.run(&["--now", &at("10:40")]).success();
    assert_eq!(srv.page_hits().len(), 4, "both due after 33 minutes");

    // --feed picks feeds but keeps the schedule; --all ignores it.
    let out = stdout(&sb.run(&["--now", &at("10:41"), "--feed", "a"]).success());
    assert_eq!(srv.page_hits().len(), 4, "{out}");
    let out = stdout(&sb.run(&["--now", &at("10:42"), "--all"]).success());
    assert_eq!(srv.page_hits().len(), 6, "{out}");
    assert!(row(&out, "a").starts_with("a unchanged"), "{out}");
}

/// A feed that is not due still gets its files back from the store (deleted file, changed
/// title), without a request.
#[test]
fn files_of_feeds_not_due_are_rewritten_from_the_store() {
    let srv = site();
    let sb = Sandbox::new();
    sb.config(&[("a", &srv.url("/a"))], "every = \"1h\"");
    sb.run(&["--now", &at("10:00")]).success();
    let rss = sb.read("out/a.rss");
    std::fs::remove_file(sb.path("out/a.rss")).expect("rm");
    let requests = srv.requests().len();
    let out = stdout(&sb.run(&["--now", &at("10:10")]).success());
    assert!(row(&out, "a").starts_with("a not due"), "{out}");
    assert_eq!(sb.read("out/a.rss"), rss, "the same bytes as before");
    let text = std::fs::read_to_string(sb.path("scifeed.toml")).expect("config");
    std::fs::write(
        sb.path("scifeed.toml"),
        text.replace("title = \"Feed a\"", "title = \"Renamed\""),
    )
    .expect("write");
    sb.run(&["--now", &at("10:20")]).success();
    assert!(
        String::from_utf8_lossy(&sb.read("out/a.atom")).contains("Renamed"),
        "title change shows without waiting for the schedule"
    );
    assert_eq!(srv.requests().len(), requests);
}

#[test]
fn without_every_every_run_fetches_every_feed() {
    let srv = site();
    let sb = Sandbox::new();
    sb.config(&[("a", &srv.url("/a"))], "");
    sb.run(&["--now", &at("10:00")]).success();
    sb.run(&["--now", &at("10:01")]).success();
    assert_eq!(srv.page_hits().len(), 2);
    let store = scifeed::store::Store::open(&sb.path("state.db"), false).expect("store");
    assert!(
        store.schedule_states().expect("states").is_empty(),
        "no schedule kept without `every`"
    );
}

/// `Cache-Control: max-age=7200` beyond `every = 30m`: on a page (200) and on a 304.
#[test]
fn max_age_pushes_next_fetch_beyond_every() {
    let page = demo_page();
    let srv = TestServer::start(move |req| match req.path.as_str() {
        "/robots.txt" => Reply::status(404),
        "/fresh" => Reply::ok(page.clone()).header("Cache-Control", "public, max-age=7200"),
        _ if req.header("if-none-match") == Some("\"v1\"") => {
            Reply::status(304).header("Cache-Control", "max-age=7200")
        }
        _ => Reply::ok(page.clone()).header("ETag", "\"v1\""),
    });
    let sb = Sandbox::new();
    sb.config(
        &[("cond", &srv.url("/cond")), ("fresh", &srv.url("/fresh"))],
        "every = \"30m\"",
    );
    sb.run(&["--now", &at("10:00")]).success();

    // Jitter only moves it later than the source asked: 12:00 to 12:12.
    let out = stdout(&sb.run(&["--now", &at("11:00")]).success());
    assert!(
        row(&out, "fresh").starts_with("fresh not due (next Nov 26 12:"),
        "{out}"
    );
    assert!(row(&out, "cond").starts_with("cond not modified"), "{out}");
    assert_eq!(srv.hits("/cond").len(), 2);

    let out = stdout(&sb.run(&["--now", &at("11:59")]).success());
    assert!(
        row(&out, "cond").starts_with("cond not due (next Nov 26 13:"),
        "the 304's max-age counts too:\n{out}"
    );
    assert_eq!(srv.hits("/fresh").len(), 1);

    sb.run(&["--now", &at("12:13")]).success();
    assert_eq!(srv.hits("/fresh").len(), 2);
    assert_eq!(srv.hits("/cond").len(), 2);
}

/// A page that never changes is read less and less often, up to `max_every`; the state
/// the runs leave in the store drives the next run.
#[test]
fn a_quiet_page_is_read_less_often_up_to_max_every() {
    let srv = site();
    let sb = Sandbox::new();
    sb.config(
        &[("q", &srv.url("/q"))],
        "every = \"10m\"\nmax_every = \"1h\"",
    );
    let mut now = time("10:00");
    let mut intervals = Vec::new();
    for _ in 0..7 {
        sb.run(&["--now", &now.to_rfc3339()]).success();
        let store = scifeed::store::Store::open(&sb.path("state.db"), false).expect("store");
        let s = store.schedule("q").expect("read").expect("scheduled");
        assert_eq!(s.last_fetch, now);
        intervals.push(s.interval.as_secs());
        now = s.next_due;
    }
    assert_eq!(srv.page_hits().len(), 7, "each run was due");
    // 8 new items first (stays at every), then unchanged pages: x1.5 up to max_every.
    assert_eq!(intervals, [600, 900, 1350, 2025, 3037, 3600, 3600]);
}

/// Retry-After on a 429 and a 503 fails the feed now and holds its next fetch until then.
#[test]
fn retry_after_on_429_and_503_is_respected() {
    let page = demo_page();
    let healthy = Arc::new(AtomicBool::new(false));
    let h = healthy.clone();
    let srv = TestServer::start(move |req| match req.path.as_str() {
        "/robots.txt" => Reply::status(404),
        _ if h.load(Ordering::SeqCst) => Reply::ok(page.clone()),
        "/limited" => Reply::status(429).header("Retry-After", "3600"),
        _ => Reply::status(503).header("Retry-After", "7200"),
    });
    let sb = Sandbox::new();
    sb.config(
        &[
            ("busy", &srv.url("/busy")),
            ("limited", &srv.url("/limited")),
        ],
        "every = \"30m\"\nretries = 1",
    );
    let out = stdout(&sb.run(&["--now", &at("10:00")]).code(1));
    assert!(out.contains("0 ok, 2 failed"), "{out}");
    assert_eq!(
        srv.page_hits().len(),
        2,
        "a wait beyond the cap is not waited"
    );
    healthy.store(true, Ordering::SeqCst);

    // A first failure alone would be due again after 30-33 minutes; Retry-After holds it
    // longer (plus jitter of up to 10 % beyond it).
    let out = stdout(&sb.run(&["--now", &at("10:59")]).success());
    assert!(
        row(&out, "limited").starts_with("limited not due (next Nov 26 11:0"),
        "{out}"
    );
    assert!(
        row(&out, "busy").starts_with("busy not due (next Nov 26 12:"),
        "{out}"
    );
    assert_eq!(srv.page_hits().len(), 2);

    let out = stdout(&sb.run(&["--now", &at("11:07")]).success());
    assert!(row(&out, "limited").starts_with("limited updated"), "{out}");
    assert_eq!(srv.hits("/busy").len(), 1);
    let out = stdout(&sb.run(&["--now", &at("11:59")]).success());
    assert!(row(&out, "busy").starts_with("busy not due"), "{out}");
    sb.run(&["--now", &at("12:13")]).success();
    assert_eq!(srv.hits("/busy").len(), 2);

    let store = scifeed::store::Store::open(&sb.path("state.db"), false).expect("store");
    let states = store.schedule_states().expect("states");
    let busy = &states["busy"];
    assert_eq!(busy.failures, 0, "the success ended the streak");
    assert_eq!(busy.last_success, Some(time("12:13")));
    assert_eq!(busy.fetches, 2);
}

/// `serve`'s way: one runner, several rounds in one process.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rounds_in_one_process_fetch_only_what_is_due() {
    let srv = site();
    let sb = Sandbox::new();
    sb.config(
        &[("a", &srv.url("/a")), ("b", &srv.url("/b"))],
        "every = \"1h\"",
    );
    let cfg = scifeed::config::load(&sb.path("scifeed.toml"), &Default::default()).expect("config");
    let runner = Runner::open(&cfg, false).expect("runner");
    let round = |now: DateTime<Utc>| RoundOptions {
        due_only: true,
        now: Some(now),
        ..RoundOptions::default()
    };

    let first = runner.round(&round(time("10:00"))).await.expect("round 1");
    assert_eq!(first.requests, 3, "robots.txt once, two pages");
    assert!(
        first
            .report
            .outcomes
            .iter()
            .all(|o| matches!(o.status, FeedStatus::Updated { new: 8, .. })),
        "{:?}",
        first.report.outcomes
    );
    let wake = first.next_wake.expect("scheduled");
    assert!(
        wake >= time("11:00") && wake <= time("11:06"),
        "next wake {wake}"
    );
    let states = runner.store().schedule_states().expect("states");
    assert_eq!(
        Some(wake),
        states.values().map(|s| s.next_due).min(),
        "the wake-up is the earliest next due"
    );

    let idle = runner.round(&round(time("10:30"))).await.expect("round 2");
    assert_eq!(idle.requests, 0);
    assert_eq!(idle.next_wake, Some(wake));
    assert!(
        idle.report
            .outcomes
            .iter()
            .all(|o| matches!(o.status, FeedStatus::NotDue { .. }))
    );

    // At the wake-up time at least one feed is due; robots.txt comes from the store's cache.
    let third = runner.round(&round(wake)).await.expect("round 3");
    let fetched = third
        .report
        .outcomes
        .iter()
        .filter(|o| matches!(o.status, FeedStatus::Unchanged { .. }))
        .count();
    assert!(fetched >= 1, "{:?}", third.report.outcomes);
    assert_eq!(third.requests, fetched);
    assert!(third.next_wake.expect("scheduled") > wake);
    assert_eq!(srv.hits("/robots.txt").len(), 1);
}
