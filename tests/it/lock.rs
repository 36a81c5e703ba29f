//! Two runs on one state never interleave: the second exits with a clear message, or waits
//! with `--wait`; a run killed while holding the lock leaves no stale lock behind.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use crate::proc::{spawn_run, store_intact, wait_until};
use crate::server::{Reply, TestServer};
use crate::{Sandbox, demo_page, read_rss};

/// A server whose first `slow` replies to /news take `delay`.
fn server(delay: Duration, slow: usize) -> TestServer {
    let page = demo_page();
    let served = Arc::new(AtomicUsize::new(0));
    TestServer::start(move |_| {
        let mut r = Reply::ok(page.clone());
        if served.fetch_add(1, Ordering::SeqCst) < slow {
            r.delay = delay;
        }
        r
    })
}

fn sandbox(srv: &TestServer) -> Sandbox {
    let sb = Sandbox::new();
    sb.config(&[("ts", &srv.url("/news"))], "robots = false");
    sb
}

#[test]
fn second_run_exits_2_with_a_clear_message_while_the_first_holds_the_lock() {
    let srv = server(Duration::from_millis(1500), 1);
    let sb = sandbox(&srv);
    let first = spawn_run(&sb, &[], &[]);
    wait_until(Duration::from_secs(20), "the first run's request", || {
        !srv.hits("/news").is_empty()
    });
    let out = sb.run(&[]).code(2);
    let stderr = String::from_utf8_lossy(&out.get_output().stderr).to_string();
    assert!(
        stderr.contains("another scifeed run is using the state")
            && stderr.contains("state.db.lock")
            && stderr.contains("--wait"),
        "{stderr}"
    );
    let first = first.wait(Duration::from_secs(30));
    assert!(first.status.success(), "{}", first.stderr);
    assert_eq!(
        srv.hits("/news").len(),
        1,
        "the refused run fetched nothing"
    );
    assert_eq!(read_rss(&sb.path("out/ts.rss")).items().len(), 8);
    store_intact(&sb);
}

#[test]
fn wait_flag_runs_after_the_first_run_finishes() {
    let delay = Duration::from_millis(800);
    let srv = server(delay, 1);
    let sb = sandbox(&srv);
    let first = spawn_run(&sb, &["--now", "2026-11-26T10:00:00Z"], &[]);
    wait_until(Duration::from_secs(20), "the first run's request", || {
        !srv.hits("/news").is_empty()
    });
    let second = spawn_run(&sb, &["--wait", "--now", "2026-11-26T10:30:00Z"], &[]);
    let first = first.wait(Duration::from_secs(30));
    let second = second.wait(Duration::from_secs(30));
    assert!(first.status.success(), "{}", first.stderr);
    assert!(second.status.success(), "{}", second.stderr);
    assert!(
        second.stderr.contains("waiting for it to finish"),
        "{}",
        second.stderr
    );
    let hits = srv.hits("/news");
    assert_eq!(hits.len(), 2);
    assert!(
        hits[1].at >= hits[0].at + delay,
        "the waiting run fetched at {:?}, before the first finished ({:?} + {delay:?})",
        hits[1].at,
        hits[0].at
    );
    assert_eq!(read_rss(&sb.path("out/ts.rss")).items().len(), 8);
    store_intact(&sb);
}

#[test]
fn run_killed_while_holding_the_lock_leaves_no_stale_lock() {
    let srv = server(Duration::from_secs(20), 1);
    let sb = sandbox(&srv);
    let mut first = spawn_run(&sb, &[], &[]);
    wait_until(Duration::from_secs(20), "the first run's request", || {
        !srv.hits("/news").is_empty()
    });
    first.child.kill().expect("SIGKILL");
    let killed = first.wait(Duration::from_secs(10));
    assert!(!killed.status.success());
    assert!(
        sb.path("state.db.lock").exists(),
        "the lock file stays; its lock does not"
    );
    // No --wait: the lock must be free at once.
    sb.run(&[]).success();
    assert_eq!(read_rss(&sb.path("out/ts.rss")).items().len(), 8);
    store_intact(&sb);
}
