//! `scifeed check` / `scifeed run` as a user runs them: exit codes and messages.

use predicates::prelude::*;

use crate::{Sandbox, demo_page, read_rss, repo, scifeed};

#[test]
fn check_accepts_shipped_configs() {
    for cfg in [
        "config/scifeed.toml",
        "config/demo.toml",
        "config/site.example.toml",
    ] {
        scifeed()
            .current_dir(repo())
            .args(["check", "-c", cfg])
            .assert()
            .success()
            .stdout(predicate::str::contains(": OK,"));
    }
}

/// Each invalid config fixture: the located message it must produce (exit code 2).
#[test]
fn invalid_configs_give_located_errors() {
    let cases: &[(&str, &[&str])] = &[
        (
            "invalid-unknown-key.toml",
            &[
                ":2:1: unknown key `max_item` in [settings]",
                "did you mean `max_items`?",
                // The misspelt key also leaves the feed without a title: same pass.
                ":8:1: feed \"a\": [feed.select] has no `title` selector",
                ":10:1: feed \"a\": unknown key `titel` in [feed.select]",
                "3 errors in config",
            ],
        ),
        (
            "invalid-selector.toml",
            &[
                ":6:8: feed \"broken\": invalid selector for `card` \"div.list > \"",
                ":7:9: feed \"broken\": invalid selector for `title` \"h3 >> a\"",
                "hint:",
            ],
        ),
        (
            "invalid-url.toml",
            &[":4:7: feed \"ftp\": `url` scheme `ftp` is not supported"],
        ),
        (
            "invalid-duplicate-id.toml",
            &[":10:6: feed \"same\": duplicate feed id (first used on line 2)"],
        ),
        (
            "invalid-missing-card.toml",
            &[
                "feed \"nocard\": [feed.select] has no `card` selector",
                "hint: card selects one element per article",
            ],
        ),
        ("invalid-syntax.toml", &["invalid-syntax.toml:3:"]),
        (
            "invalid-unsafe-id.toml",
            &[":2:6: feed \"../../etc/passwd\": id \"../../etc/passwd\" is not a safe file name"],
        ),
        (
            "invalid-timezone.toml",
            &[":5:12: feed \"tz\"", "Europe/Atlantis"],
        ),
        (
            "invalid-type.toml",
            &[
                ":2:13: invalid type: string \"fifty\", expected an integer",
                "hint: config/site.example.toml documents `max_items` of [settings]",
            ],
        ),
        (
            "invalid-schedule.toml",
            &[
                ":2:9: `every` is not a duration: \"15 minutes\": unknown unit \"minutes\"",
                "hint: write a number and a unit: \"15m\"",
                ":9:9: feed \"fast\": `max_every` (2h) is shorter than `every` (3h)",
                "2 errors in config",
            ],
        ),
    ];
    for (file, expected) in cases {
        let path = repo().join("tests/fixtures/configs").join(file);
        let out = scifeed().arg("check").arg("-c").arg(&path).assert().code(2);
        let stderr = String::from_utf8_lossy(&out.get_output().stderr).to_string();
        for e in *expected {
            assert!(stderr.contains(e), "{file}: expected {e:?} in:\n{stderr}");
        }
        assert!(
            stderr.contains(&path.display().to_string()),
            "{file}: message names the file:\n{stderr}"
        );
        // `run` rejects the same config before any network traffic.
        scifeed().arg("run").arg("-c").arg(&path).assert().code(2);
    }
}

#[test]
fn missing_config_file_is_a_usage_error() {
    scifeed()
        .args(["run", "-c", "/nonexistent/scifeed.toml"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "cannot read config file /nonexistent/scifeed.toml",
        ));
}

#[test]
fn demo_config_runs_offline_and_writes_three_formats() {
    let sb = Sandbox::new();
    let out = sb.path("out");
    let state = sb.path("state.db");
    scifeed()
        .current_dir(repo())
        .args(["run", "-c", "config/demo.toml", "--output-dir"])
        .arg(&out)
        .arg("--state")
        .arg(&state)
        .assert()
        .success()
        .stdout(predicate::str::contains("the-scientist-demo"))
        .stdout(predicate::str::contains("2 ok, 0 failed"));
    for id in ["the-scientist-demo", "lab-notes-demo"] {
        for ext in ["rss", "atom", "json"] {
            assert!(
                out.join(format!("{id}.{ext}")).is_file(),
                "{id}.{ext} written"
            );
        }
    }
    let ch = read_rss(&out.join("the-scientist-demo.rss"));
    assert_eq!(ch.items().len(), 8);
    let first = &ch.items()[0];
    assert_eq!(
        first.title(),
        Some("Cancer Cells in Mice May Hitch a Ride with Bone-Healing Stem Cells")
    );
    assert_eq!(
        first.link(),
        Some(
            "https://www.demo.scifeed.example/cancer-cells-in-mice-may-hitch-a-ride-with-bone-healing-stem-cells-73421"
        )
    );
    let creator = first.dublin_core_ext().map(|dc| dc.creators().to_vec());
    assert_eq!(creator, Some(vec!["Andy Carstens".to_string()]));
    assert!(first.description().unwrap_or("").contains("4 min read"));
    assert_eq!(first.pub_date(), Some("Wed, 25 Nov 2026 00:00:00 +0000"));
}

#[test]
fn quiet_run_prints_nothing_on_success() {
    let sb = Sandbox::new();
    sb.write("page.html", &demo_page());
    sb.config(&[("demo", "page.html")], "");
    sb.run(&["--quiet"]).success().stdout("").stderr("");
}

#[test]
fn one_failing_feed_does_not_stop_the_others_and_keeps_its_files() {
    let sb = Sandbox::new();
    sb.write("good.html", &demo_page());
    sb.write("flaky.html", &demo_page());
    sb.config(&[("good", "good.html"), ("flaky", "flaky.html")], "");
    sb.run(&[]).success();
    let before: Vec<Vec<u8>> = ["rss", "atom", "json"]
        .iter()
        .map(|e| sb.read(&format!("out/flaky.{e}")))
        .collect();

    std::fs::remove_file(sb.path("flaky.html")).expect("rm");
    let out = sb.run(&[]).code(1);
    let stdout = String::from_utf8_lossy(&out.get_output().stdout).to_string();
    assert!(stdout.contains("1 ok, 1 failed"), "{stdout}");
    assert!(stdout.contains("error: feed \"flaky\""), "{stdout}");
    assert!(stdout.contains("flaky.html: cannot read file"), "{stdout}");
    let after: Vec<Vec<u8>> = ["rss", "atom", "json"]
        .iter()
        .map(|e| sb.read(&format!("out/flaky.{e}")))
        .collect();
    assert_eq!(before, after, "failed feed's files are byte-identical");
}

/// With self-healing off (`tests/it/heal.rs` covers it on), a redesign fails the feed.
#[test]
fn selector_that_suddenly_matches_nothing_keeps_the_feed() {
    let sb = Sandbox::new();
    sb.write("page.html", &demo_page());
    sb.config(&[("ts", "page.html")], "heal = false");
    sb.run(&[]).success();
    let before = sb.read("out/ts.rss");
    // The site "redesigns": same content, different classes.
    sb.write(
        "page.html",
        &demo_page().replace("ArticleCard", "StoryTile"),
    );
    let out = sb.run(&["--now", "2030-01-01T00:00:00Z"]).code(1);
    let stdout = String::from_utf8_lossy(&out.get_output().stdout).to_string();
    assert!(
        stdout
            .contains("card selector `section.ArticleList > article.ArticleCard` matched nothing"),
        "{stdout}"
    );
    assert_eq!(sb.read("out/ts.rss"), before);
}

#[test]
fn second_run_on_a_locked_state_exits_with_a_clear_message() {
    let sb = Sandbox::new();
    sb.write("page.html", &demo_page());
    sb.config(&[("ts", "page.html")], "");
    let _held = scifeed::store::Store::open(&sb.path("state.db"), false).expect("hold the lock");
    sb.run(&[]).code(2).stderr(predicate::str::contains(
        "another scifeed run is using the state",
    ));
    assert!(!sb.path("out/ts.rss").exists(), "nothing written");
}

#[test]
fn corrupt_state_is_reported_and_kept() {
    let sb = Sandbox::new();
    sb.write("page.html", &demo_page());
    sb.config(&[("ts", "page.html")], "");
    let junk = "not a database, but a file someone put here by mistake. ".repeat(4);
    sb.write("state.db", &junk);
    sb.run(&[]).code(2).stderr(predicate::str::contains(format!(
        "state file {} is not a usable scifeed store",
        sb.path("state.db").display()
    )));
    assert_eq!(
        sb.read("state.db"),
        junk.as_bytes(),
        "never silently replaced"
    );
}

#[test]
fn unknown_feed_id_is_a_usage_error() {
    let sb = Sandbox::new();
    sb.write("page.html", &demo_page());
    sb.config(&[("ts", "page.html")], "");
    sb.run(&["--feed", "nope"])
        .code(2)
        .stderr(predicate::str::contains("no feed with id \"nope\""));
}

/// `scifeed check | head -1`: the reader closes the pipe early; scifeed ends quietly with
/// the status of a command killed by SIGPIPE instead of a panic message.
#[test]
fn output_into_a_closed_pipe_ends_quietly() {
    use std::io::{BufRead, BufReader};
    use std::process::{Command, Stdio};
    let sb = Sandbox::new();
    let ids: Vec<String> = (0..3000).map(|i| format!("feed-{i:04}")).collect();
    let feeds: Vec<(&str, &str)> = ids.iter().map(|i| (i.as_str(), "page.html")).collect();
    let cfg = sb.config(&feeds, "");
    // More than a pipe holds (64 KiB), so the writer meets the closed pipe.
    let mut child = Command::new(assert_cmd::cargo::cargo_bin("scifeed"))
        .arg("check")
        .arg("-c")
        .arg(&cfg)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let mut first = String::new();
    BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut first)
        .expect("first line");
    assert!(first.contains(": OK, 3000 feed(s)"), "{first}");
    let out = child.wait_with_output().expect("wait");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(141), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}
