//! SIGINT / SIGTERM: the feed in progress finishes its commit and write, feeds not started
//! stay as they were ("not run"), nothing is half-written, and the exit code says which
//! signal stopped the run (128 + signal: 130 SIGINT, 143 SIGTERM).

use std::time::Duration;

use crate::proc::{spawn_run, store_intact, wait_until};
use crate::server::{BodyMode, Reply, TestServer};
use crate::{Sandbox, demo_page, read_rss};

fn no_temp_files(sb: &Sandbox) {
    let Ok(entries) = std::fs::read_dir(sb.path("out")) else {
        return;
    };
    let temps: Vec<_> = entries
        .flatten()
        .map(|e| e.file_name().to_string_lossy().to_string())
        .filter(|n| n.ends_with(".tmp"))
        .collect();
    assert!(temps.is_empty(), "{temps:?}");
}

#[test]
fn sigterm_finishes_the_feed_in_progress_and_starts_no_other() {
    let page = demo_page();
    let srv = TestServer::start(move |_| {
        let mut r = Reply::ok(page.clone());
        r.delay = Duration::from_millis(700);
        r
    });
    let sb = Sandbox::new();
    sb.config(
        &[
            ("a", &srv.url("/a")),
            ("b", &srv.url("/b")),
            ("c", &srv.url("/c")),
        ],
        "robots = false\nconcurrency = 1",
    );
    let run = spawn_run(&sb, &[], &[]);
    wait_until(Duration::from_secs(20), "the first request", || {
        !srv.requests().is_empty()
    });
    run.signal("TERM");
    let done = run.wait(Duration::from_secs(20));
    assert_eq!(
        done.status.code(),
        Some(143),
        "{}\n{}",
        done.stdout,
        done.stderr
    );
    let first = srv.requests()[0].path.trim_start_matches('/').to_string();
    assert_eq!(srv.requests().len(), 1, "no feed started after the signal");
    for line in done
        .stdout
        .lines()
        .filter(|l| l.starts_with(['a', 'b', 'c']))
    {
        let feed = &line[..1];
        let want = if feed == first { "updated" } else { "not run" };
        assert!(line.contains(want), "{feed}: {line}\n{}", done.stdout);
    }
    assert!(
        done.stdout
            .contains("interrupted by SIGTERM: 2 feed(s) not run"),
        "{}",
        done.stdout
    );
    for feed in ["a", "b", "c"] {
        let exists = sb.path(&format!("out/{feed}.rss")).exists();
        assert_eq!(exists, feed == first, "{feed}");
    }
    assert_eq!(
        read_rss(&sb.path(&format!("out/{first}.rss")))
            .items()
            .len(),
        8
    );
    no_temp_files(&sb);
    store_intact(&sb);
    // The next run picks up where the interrupted one stopped.
    sb.run(&[]).success();
    for feed in ["a", "b", "c"] {
        assert_eq!(
            read_rss(&sb.path(&format!("out/{feed}.rss"))).items().len(),
            8
        );
    }
}

/// A server that trickles a page so slowly that a fetch never ends by itself in the test.
fn trickling_server() -> TestServer {
    let page = demo_page();
    TestServer::start(move |_| {
        let mut r = Reply::ok(page.clone());
        r.mode = BodyMode::Trickle(Duration::from_millis(50));
        r
    })
}

#[test]
fn a_fetch_still_running_after_the_grace_period_is_abandoned() {
    let srv = trickling_server();
    let sb = Sandbox::new();
    sb.config(&[("slow", &srv.url("/slow"))], "robots = false");
    let run = spawn_run(&sb, &[], &[]);
    wait_until(Duration::from_secs(20), "the request", || {
        !srv.requests().is_empty()
    });
    run.signal("TERM");
    let done = run.wait(Duration::from_secs(20));
    assert_eq!(
        done.status.code(),
        Some(143),
        "{}\n{}",
        done.stdout,
        done.stderr
    );
    assert!(
        done.elapsed >= Duration::from_secs(4) && done.elapsed < Duration::from_secs(12),
        "stopped after {:?}, expected the 5 s grace",
        done.elapsed
    );
    assert!(done.stdout.contains("not run"), "{}", done.stdout);
    assert!(!sb.path("out/slow.rss").exists());
    store_intact(&sb);
}

#[test]
fn a_second_sigint_stops_at_once() {
    let srv = trickling_server();
    let sb = Sandbox::new();
    sb.config(&[("slow", &srv.url("/slow"))], "robots = false");
    let run = spawn_run(&sb, &[], &[]);
    wait_until(Duration::from_secs(20), "the request", || {
        !srv.requests().is_empty()
    });
    run.signal("INT");
    std::thread::sleep(Duration::from_millis(300));
    run.signal("INT");
    let done = run.wait(Duration::from_secs(20));
    assert_eq!(
        done.status.code(),
        Some(130),
        "{}\n{}",
        done.stdout,
        done.stderr
    );
    assert!(done.elapsed < Duration::from_secs(3), "{:?}", done.elapsed);
    assert!(done.stderr.contains("second signal"), "{}", done.stderr);
    assert!(!sb.path("out/slow.rss").exists());
    store_intact(&sb);
}
