//! Several `scifeed run` processes on one PostgreSQL state (a real throwaway server, see
//! `pgserver.rs`), against loopback hosts that count what they see: each page fetched once,
//! one request at a time per host, the interval kept across runners, a killed runner's
//! feeds taken over after its lease, PostgreSQL lost mid-round and back.

use std::collections::HashMap;
use std::time::Duration;

use crate::pgserver;
use crate::proc::{spawn_run, wait_until};
use crate::server::{Reply, TestServer};
use crate::{Sandbox, demo_page, scifeed};

const NOW: &str = "2026-12-01T10:00:00Z";
const LATER: &str = "2026-12-01T10:10:00Z";

/// A host serving the demo page at every path but /robots.txt, each answer after `delay`
/// (the first answer for a path containing "slow" after `slow`).
fn host(ip: &str, delay: Duration, slow: Duration) -> TestServer {
    let page = demo_page();
    let slowed = std::sync::atomic::AtomicBool::new(false);
    TestServer::start_on(ip, move |req| {
        if req.path == "/robots.txt" {
            return Reply::robots("User-agent: *\nAllow: /\n");
        }
        let first_slow =
            req.path.contains("slow") && !slowed.swap(true, std::sync::atomic::Ordering::SeqCst);
        let d = if first_slow { slow } else { delay };
        Reply::ok(page.clone())
            .header("Content-Type", "text/html; charset=utf-8")
            .delayed(d)
    })
}

fn settings(url: &str, extra: &str) -> String {
    format!("state = \"{url}\"\nevery = \"1h\"\nper_host = 1\nconcurrency = 16\n{extra}")
}

/// Replaces the sandbox default `state = "state.db"` line with the settings given.
fn write_config(sb: &Sandbox, feeds: &[(String, String)], settings: &str) {
    let feeds: Vec<(&str, &str)> = feeds
        .iter()
        .map(|(i, u)| (i.as_str(), u.as_str()))
        .collect();
    let path = sb.config(&feeds, settings);
    let text = std::fs::read_to_string(&path).expect("config");
    let text = text.replacen("state = \"state.db\"\n", "", 1);
    std::fs::write(&path, text).expect("config");
}

fn item_counts(sb: &Sandbox, ids: &[String]) -> Vec<usize> {
    ids.iter()
        .map(|id| {
            crate::read_rss(&sb.path(&format!("out/{id}.rss")))
                .items()
                .len()
        })
        .collect()
}

#[test]
fn three_runners_share_forty_feeds_on_four_hosts() {
    let Some(pg) = pgserver::shared() else { return };
    let url = pg.database("three_runners");
    let hosts: Vec<TestServer> = (1..=4)
        .map(|i| {
            host(
                &format!("127.0.0.{i}"),
                Duration::from_millis(20),
                Duration::ZERO,
            )
        })
        .collect();
    let feeds: Vec<(String, String)> = (0..40)
        .map(|i| (format!("f{i:02}"), hosts[i % 4].url(&format!("/page/{i}"))))
        .collect();
    let ids: Vec<String> = feeds.iter().map(|(i, _)| i.clone()).collect();
    let sb = Sandbox::new();
    // Two slots each: a runner holds at most two hosts, so the runners split the four.
    let cfg =
        settings(&url, "min_interval_ms = 200\n").replace("concurrency = 16", "concurrency = 2");
    write_config(&sb, &feeds, &cfg);
    let runners: Vec<_> = (0..3)
        .map(|_| spawn_run(&sb, &["--now", NOW], &[]))
        .collect();
    let done: Vec<_> = runners
        .into_iter()
        .map(|r| r.wait(Duration::from_secs(60)))
        .collect();
    for d in &done {
        assert!(
            d.status.success(),
            "runner failed:\n{}\n{}",
            d.stdout,
            d.stderr
        );
    }
    // Each page exactly once, over all runners; robots.txt once per host (then cached).
    let mut hits: HashMap<String, usize> = HashMap::new();
    for (i, h) in hosts.iter().enumerate() {
        for r in h.page_hits() {
            *hits.entry(format!("{i}{}", r.path)).or_default() += 1;
        }
        assert_eq!(h.hits("/robots.txt").len(), 1, "host {i}: robots.txt");
        assert_eq!(
            h.peak_concurrency(),
            1,
            "host {i}: never two requests at once"
        );
        // The interval holds: the runners' gates space request starts 200 ms apart; the
        // server sees them after connect and accept, which a machine busy with the rest
        // of the suite delays by tens of milliseconds, so the check leaves half. Ignoring
        // the interval would show gaps of one answer (20 ms).
        let mut times = h.requests().iter().map(|r| r.at).collect::<Vec<_>>();
        times.sort();
        for w in times.windows(2) {
            assert!(
                w[1] - w[0] >= Duration::from_millis(100),
                "host {i}: requests {:?} and {:?} too close",
                w[0],
                w[1]
            );
        }
    }
    assert_eq!(hits.len(), 40, "every page fetched: {hits:?}");
    assert!(
        hits.values().all(|n| *n == 1),
        "no page fetched twice: {hits:?}"
    );
    // Every feed written, by one runner; the others say why they left it.
    assert!(item_counts(&sb, &ids).iter().all(|n| *n == 8));
    let updated: usize = done
        .iter()
        .map(|d| d.stdout.lines().filter(|l| l.contains(" updated ")).count())
        .sum();
    assert_eq!(updated, 40, "each feed updated by exactly one runner");
    let working = done
        .iter()
        .filter(|d| d.stdout.contains(" updated "))
        .count();
    assert!(working >= 2, "the runners shared the hosts");

    // A second round within `every`: nothing is due, nobody fetches, everyone exits 0.
    let before: usize = hosts.iter().map(|h| h.requests().len()).sum();
    let runners: Vec<_> = (0..3)
        .map(|_| spawn_run(&sb, &["--now", LATER], &[]))
        .collect();
    for r in runners {
        let d = r.wait(Duration::from_secs(30));
        assert!(d.status.success(), "{}\n{}", d.stdout, d.stderr);
        assert!(d.stdout.contains("40 not due"), "{}", d.stdout);
    }
    let after: usize = hosts.iter().map(|h| h.requests().len()).sum();
    assert_eq!(after, before, "nothing fetched within `every`");
}

#[test]
fn a_killed_runners_feeds_are_taken_over_after_its_lease() {
    let Some(pg) = pgserver::shared() else { return };
    let url = pg.database("killed");
    // Two quick pages, then a slow one that the first runner never finishes.
    let h = host(
        "127.0.0.1",
        Duration::from_millis(10),
        Duration::from_secs(20),
    );
    let feeds: Vec<(String, String)> = ["a", "b", "slow-c", "d"]
        .iter()
        .map(|p| (format!("k-{p}"), h.url(&format!("/{p}"))))
        .collect();
    let ids: Vec<String> = feeds.iter().map(|(i, _)| i.clone()).collect();
    let sb = Sandbox::new();
    write_config(&sb, &feeds, &settings(&url, "lease_secs = 2\n"));
    let mut first = spawn_run(&sb, &["--now", NOW], &[]);
    wait_until(Duration::from_secs(30), "the slow page requested", || {
        !h.hits("/slow-c").is_empty()
    });
    first.child.kill().expect("SIGKILL");
    let _ = first.child.wait();
    // Right away the host is still leased to the dead runner: another leaves it alone.
    let d = spawn_run(&sb, &["--now", NOW], &[]).wait(Duration::from_secs(30));
    assert!(d.status.success(), "{}\n{}", d.stdout, d.stderr);
    assert!(d.stdout.contains("by other runners"), "{}", d.stdout);
    assert_eq!(h.hits("/d").len(), 0, "nobody crawls a leased host");
    // After the lease: the rest is done, what the dead runner committed is not redone.
    std::thread::sleep(Duration::from_millis(2500));
    let d = spawn_run(&sb, &["--now", NOW], &[]).wait(Duration::from_secs(60));
    assert!(d.status.success(), "{}\n{}", d.stdout, d.stderr);
    assert_eq!(
        h.hits("/a").len(),
        1,
        "committed before the kill: not fetched again"
    );
    assert_eq!(h.hits("/b").len(), 1);
    assert_eq!(h.hits("/slow-c").len(), 2, "interrupted: fetched again");
    assert_eq!(h.hits("/d").len(), 1);
    assert_eq!(
        item_counts(&sb, &ids),
        vec![8, 8, 8, 8],
        "no item duplicated"
    );
    let check = scifeed()
        .args(["store", "check", "--state", &url])
        .assert()
        .success();
    let out = String::from_utf8_lossy(&check.get_output().stdout).to_string();
    assert!(
        out.contains("OK") && out.contains("4 feed(s), 32 item(s)"),
        "{out}"
    );
}

#[test]
fn postgres_lost_mid_round_then_back() {
    let Some(pg) = pgserver::own() else { return };
    let url = pg.database("lost");
    let h = host("127.0.0.3", Duration::from_millis(250), Duration::ZERO);
    let feeds: Vec<(String, String)> = (0..8)
        .map(|i| (format!("p{i}"), h.url(&format!("/p/{i}"))))
        .collect();
    let ids: Vec<String> = feeds.iter().map(|(i, _)| i.clone()).collect();
    let sb = Sandbox::new();
    write_config(&sb, &feeds, &settings(&url, "lease_secs = 2\n"));
    let run = spawn_run(&sb, &["--now", NOW], &[]);
    wait_until(Duration::from_secs(30), "three pages fetched", || {
        h.page_hits().len() >= 3
    });
    pg.stop();
    let d = run.wait(Duration::from_secs(60));
    assert_eq!(
        d.status.code(),
        Some(1),
        "feeds failed, not the run:\n{}\n{}",
        d.stdout,
        d.stderr
    );
    assert!(d.stdout.contains("FAILED"), "{}", d.stdout);
    // What was written is complete: every file there parses.
    let written: Vec<&String> = ids
        .iter()
        .filter(|id| sb.path(&format!("out/{id}.rss")).exists())
        .collect();
    for id in &written {
        assert_eq!(
            crate::read_rss(&sb.path(&format!("out/{id}.rss")))
                .items()
                .len(),
            8
        );
    }
    assert!(written.len() < 8, "the round was cut short");
    pg.start().expect("restart");
    // The dead round could not give its host back: the next round after the lease resumes.
    std::thread::sleep(Duration::from_millis(2500));
    let d = spawn_run(&sb, &["--now", NOW], &[]).wait(Duration::from_secs(60));
    assert!(d.status.success(), "{}\n{}", d.stdout, d.stderr);
    assert_eq!(
        item_counts(&sb, &ids),
        vec![8; 8],
        "the next round completes"
    );
}

#[test]
fn an_unreachable_postgres_is_one_clear_error() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("port")
        .port();
    let sb = Sandbox::new();
    sb.config(&[("a", "file:///nonexistent")], "");
    let url = format!("postgres://scifeed:hunter2@127.0.0.1:{port}/feeds?sslmode=disable");
    let out = sb.run(&["--state", &url]).code(2);
    let err = String::from_utf8_lossy(&out.get_output().stderr).to_string();
    assert_eq!(
        err.lines().filter(|l| l.starts_with("error:")).count(),
        1,
        "{err}"
    );
    assert!(
        err.contains("cannot connect to the PostgreSQL state")
            && err.contains(&format!("127.0.0.1:{port}"))
            && !err.contains("hunter2"),
        "{err}"
    );
}

#[test]
fn an_sqlite_history_moves_to_postgres_and_back() {
    let Some(pg) = pgserver::shared() else { return };
    let h = host("127.0.0.4", Duration::ZERO, Duration::ZERO);
    let sb = Sandbox::new();
    sb.config(&[("m", &h.url("/m"))], "every = \"1h\"\n");
    sb.run(&["--now", NOW]).success();
    let url = pg.database("move");
    let out = scifeed()
        .arg("store")
        .arg("migrate")
        .arg("-c")
        .arg(sb.path("scifeed.toml"))
        .args(["--to", &url])
        .assert()
        .success();
    let msg = String::from_utf8_lossy(&out.get_output().stdout).to_string();
    assert!(
        msg.contains("1 feed(s), 8 item(s)") && msg.contains("1 schedule(s)"),
        "{msg}"
    );
    // The schedule came along: within `every` nothing is due on the new state.
    let pages = h.page_hits().len();
    let out = sb.run(&["--now", LATER, "--state", &url]).success();
    let table = String::from_utf8_lossy(&out.get_output().stdout).to_string();
    assert!(table.contains("1 not due"), "{table}");
    assert_eq!(h.page_hits().len(), pages);
    // And back into a new file, which a run then uses as before.
    let back = sb.path("back.db");
    scifeed()
        .args(["store", "migrate", "--state", &url, "--to"])
        .arg(&back)
        .assert()
        .success();
    let out = scifeed()
        .args(["store", "check", "--state"])
        .arg(&back)
        .assert()
        .success();
    let report = String::from_utf8_lossy(&out.get_output().stdout).to_string();
    assert!(report.contains("1 feed(s), 8 item(s)"), "{report}");
    // Into a state that has data: refused.
    let out = scifeed()
        .args(["store", "migrate", "--state"])
        .arg(sb.path("state.db"))
        .args(["--to", &url])
        .assert()
        .code(2);
    let err = String::from_utf8_lossy(&out.get_output().stderr).to_string();
    assert!(err.contains("is not empty"), "{err}");
}

#[test]
fn a_healed_listing_and_a_failure_streak_live_in_the_shared_state() {
    let Some(pg) = pgserver::shared() else { return };
    let url = pg.database("heal");
    let sb = Sandbox::new();
    sb.write("page.html", &demo_page());
    write_config(
        &sb,
        &[("ts".to_string(), "page.html".to_string())],
        &format!("state = \"{url}\"\n"),
    );
    sb.run(&["--now", "2026-11-26T12:00:00Z"]).success();
    // Redesigned: every class renamed, the same articles. Healing recognises them by the
    // item ids it reads from PostgreSQL, and remembers the new selectors there.
    let redesigned = demo_page()
        .replace("ArticleCard", "StoryTile")
        .replace("ArticleList", "StoryGrid");
    sb.write("page.html", &redesigned);
    let out = sb.run(&["--now", "2026-11-27T12:00:00Z"]).success();
    let table = String::from_utf8_lossy(&out.get_output().stdout).to_string();
    assert!(table.contains("healed"), "{table}");
    // A page with none of its articles: refused, and the streak is recorded.
    sb.write("page.html", "<html><body><p>Maintenance</p></body></html>");
    sb.run(&["--now", "2026-11-28T12:00:00Z"]).code(1);
    let check = scifeed()
        .args(["store", "check", "--state", &url])
        .assert()
        .success();
    let report = String::from_utf8_lossy(&check.get_output().stdout).to_string();
    assert!(
        report.contains("8 items, healed 2026-11-27 12:00 UTC")
            && report.contains("replaced by `article.StoryTile`")
            && report.contains("failing since 2026-11-28 12:00 UTC (1 failed run(s) in a row)"),
        "{report}"
    );
}
