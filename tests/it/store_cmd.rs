//! `scifeed store check` / `store repair`, and how runs treat missing, corrupt, foreign and
//! old state files.

use std::time::Duration;

use crate::proc::{spawn_run, wait_until};
use crate::server::{Reply, TestServer};
use crate::{Sandbox, demo_page, read_rss, scifeed};

fn store_cmd(sb: &Sandbox, action: &str) -> (i32, String, String) {
    let out = scifeed()
        .args(["store", action, "-c"])
        .arg(sb.path("scifeed.toml"))
        .timeout(Duration::from_secs(60))
        .assert();
    let o = out.get_output();
    (
        o.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&o.stdout).to_string(),
        String::from_utf8_lossy(&o.stderr).to_string(),
    )
}

/// A sandbox with three demo feeds run once.
fn populated() -> Sandbox {
    let sb = Sandbox::new();
    sb.write("page.html", &demo_page());
    sb.config(
        &[("a", "page.html"), ("b", "page.html"), ("c", "page.html")],
        "",
    );
    sb.run(&["--now", "2026-11-26T10:00:00Z"]).success();
    sb
}

/// Overwrites page `n` (1-based) of the store with garbage.
fn corrupt_page(sb: &Sandbox, n: i64) {
    use std::io::{Seek, SeekFrom, Write};
    let page_size: i64 = rusqlite::Connection::open(sb.path("state.db"))
        .and_then(|c| c.query_row("PRAGMA page_size", [], |r| r.get(0)))
        .expect("page size");
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .open(sb.path("state.db"))
        .expect("open");
    f.seek(SeekFrom::Start(((n - 1) * page_size) as u64))
        .expect("seek");
    f.write_all(&vec![0xAB; page_size as usize]).expect("write");
    f.sync_all().expect("sync");
}

fn root_page(sb: &Sandbox, name: &str) -> i64 {
    rusqlite::Connection::open(sb.path("state.db"))
        .and_then(|c| {
            c.query_row(
                "SELECT rootpage FROM sqlite_master WHERE name = ?1",
                [name],
                |r| r.get(0),
            )
        })
        .expect("root page")
}

#[test]
fn check_reports_version_feeds_and_counts() {
    let sb = populated();
    let (code, stdout, stderr) = store_cmd(&sb, "check");
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(stdout.contains("state.db: OK"), "{stdout}");
    let v = scifeed::store::SCHEMA_VERSION;
    assert!(
        stdout.contains(&format!("schema version {v} (this scifeed: {v})")),
        "{stdout}"
    );
    assert!(stdout.contains("3 feed(s), 24 item(s)"), "{stdout}");
    assert!(
        stdout.contains("a                             8 items"),
        "{stdout}"
    );
    let (code, stdout, _) = store_cmd(&sb, "repair");
    assert_eq!(code, 0);
    assert!(stdout.contains("nothing to repair"), "{stdout}");
}

#[test]
fn missing_garbage_and_foreign_state_files_are_clear_errors() {
    let sb = Sandbox::new();
    sb.write("page.html", &demo_page());
    sb.config(&[("a", "page.html")], "");
    let (code, _, stderr) = store_cmd(&sb, "check");
    assert_eq!(code, 2);
    assert!(
        stderr.contains("no state file at") && stderr.contains("state.db"),
        "{stderr}"
    );

    let junk = vec![0x5Au8; 8192];
    std::fs::write(sb.path("state.db"), &junk).expect("write");
    let out = sb.run(&[]).code(2);
    let stderr = String::from_utf8_lossy(&out.get_output().stderr).to_string();
    assert!(
        stderr.contains("state.db is not a usable scifeed store")
            && stderr.contains("store repair"),
        "{stderr}"
    );
    for action in ["check", "repair"] {
        let (code, _, stderr) = store_cmd(&sb, action);
        assert_eq!(code, 2, "{action}");
        assert!(
            stderr.contains("state.db cannot be read as an SQLite database")
                && stderr.contains("nothing can be salvaged"),
            "{action}: {stderr}"
        );
    }
    assert_eq!(
        std::fs::read(sb.path("state.db")).expect("read"),
        junk,
        "left untouched"
    );

    std::fs::remove_file(sb.path("state.db")).expect("rm");
    let c = rusqlite::Connection::open(sb.path("state.db")).expect("create");
    c.execute_batch("CREATE TABLE notes(x); PRAGMA application_id = 42;")
        .expect("foreign");
    drop(c);
    let (code, _, stderr) = store_cmd(&sb, "check");
    assert_eq!(code, 2);
    assert!(
        stderr.contains("belongs to another program (SQLite application_id 0x2a)"),
        "{stderr}"
    );
    sb.run(&[]).code(2);
}

#[test]
fn an_empty_state_file_is_a_version_0_store_and_is_migrated() {
    let sb = Sandbox::new();
    sb.write("page.html", &demo_page());
    sb.config(&[("a", "page.html")], "");
    std::fs::write(sb.path("state.db"), b"").expect("empty file");
    sb.run(&[]).success();
    let (code, stdout, _) = store_cmd(&sb, "check");
    assert_eq!(code, 0, "{stdout}");
    let v = scifeed::store::SCHEMA_VERSION;
    assert!(stdout.contains(&format!("schema version {v} ")), "{stdout}");
}

#[test]
fn a_damaged_index_is_repaired_without_losing_history_or_dates() {
    let sb = populated();
    let before = sb.read("out/a.rss");
    corrupt_page(&sb, root_page(&sb, "items_by_date"));
    let (code, stdout, _) = store_cmd(&sb, "check");
    assert_eq!(code, 1, "{stdout}");
    assert!(
        stdout.contains("DAMAGED") && stdout.contains("problem:"),
        "{stdout}"
    );
    assert!(stdout.contains("store repair"), "{stdout}");

    let (code, stdout, stderr) = store_cmd(&sb, "repair");
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(stdout.contains("items: 24 row(s) kept"), "{stdout}");
    assert!(stdout.contains("feed_state: 3 row(s) kept"), "{stdout}");
    let backups: Vec<_> = std::fs::read_dir(sb.dir.path())
        .expect("ls")
        .flatten()
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .starts_with("state.db.corrupt-")
        })
        .collect();
    assert_eq!(backups.len(), 1, "one backup of the damaged file");

    let (code, stdout, _) = store_cmd(&sb, "check");
    assert_eq!(code, 0, "{stdout}");
    assert!(stdout.contains("24 item(s)"), "{stdout}");
    assert!(stdout.contains("files pending rewrite"), "{stdout}");
    // The next run re-reads the pages and rewrites the files from the kept history:
    // byte for byte what they were, so no date moved.
    sb.run(&["--now", "2026-11-26T11:00:00Z"]).success();
    assert_eq!(sb.read("out/a.rss"), before);
    let (code, stdout, _) = store_cmd(&sb, "check");
    assert_eq!(code, 0);
    assert!(!stdout.contains("pending"), "{stdout}");
}

#[test]
fn a_repair_keeps_the_schedule_so_no_feed_falls_due_early() {
    let sb = Sandbox::new();
    sb.write("page.html", &demo_page());
    sb.config(&[("a", "page.html"), ("b", "page.html")], "every = \"1h\"");
    sb.run(&["--now", "2026-11-26T10:00:00Z"]).success();
    corrupt_page(&sb, root_page(&sb, "items_by_date"));
    let (code, stdout, stderr) = store_cmd(&sb, "repair");
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(stdout.contains("schedule: 2 row(s) kept"), "{stdout}");
    // Within the hour nothing is due: the repaired store still knows when each feed is.
    let out = sb.run(&["--now", "2026-11-26T10:20:00Z"]).success();
    let text = String::from_utf8_lossy(&out.get_output().stdout).to_string();
    assert_eq!(text.matches("not due (next").count(), 2, "{text}");
}

#[test]
fn a_damaged_table_is_salvaged_as_far_as_it_can_be_read() {
    let sb = populated();
    corrupt_page(&sb, root_page(&sb, "items"));
    let (code, stdout, _) = store_cmd(&sb, "check");
    assert_eq!(code, 1, "{stdout}");
    let (code, stdout, stderr) = store_cmd(&sb, "repair");
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(stdout.contains("read error"), "{stdout}");
    assert!(stdout.contains("feed_state: 3 row(s) kept"), "{stdout}");
    let (code, stdout, _) = store_cmd(&sb, "check");
    assert_eq!(code, 0, "{stdout}");
    sb.run(&[]).success();
    assert_eq!(read_rss(&sb.path("out/a.rss")).items().len(), 8);
}

#[test]
fn store_commands_respect_the_run_lock() {
    let page = demo_page();
    let srv = TestServer::start(move |_| {
        let mut r = Reply::ok(page.clone());
        r.delay = Duration::from_millis(1500);
        r
    });
    let sb = Sandbox::new();
    sb.config(&[("ts", &srv.url("/news"))], "robots = false");
    let run = spawn_run(&sb, &[], &[]);
    wait_until(Duration::from_secs(20), "the run's request", || {
        !srv.hits("/news").is_empty()
    });
    for action in ["check", "repair"] {
        let (code, _, stderr) = store_cmd(&sb, action);
        assert_eq!(code, 2, "{action}");
        assert!(
            stderr.contains("another scifeed run is using the state"),
            "{stderr}"
        );
    }
    assert!(run.wait(Duration::from_secs(30)).status.success());
}
