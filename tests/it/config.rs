//! Config checks as a user meets them: every mistake of a file in one `check`, in line
//! order, and configs spread over included files.

use std::path::Path;

use predicates::prelude::*;

use crate::{Sandbox, demo_page, repo, scifeed};

/// `check` on `path`: exit code 2 and the (file, line, column, rest) of every issue line.
fn issues(path: &Path) -> (Vec<(String, usize, usize, String)>, String) {
    let out = scifeed().arg("check").arg("-c").arg(path).assert().code(2);
    let stderr = String::from_utf8_lossy(&out.get_output().stderr).to_string();
    let mut found = Vec::new();
    for line in stderr.lines() {
        let line = line.strip_prefix("error: ").unwrap_or(line);
        let mut parts = line.splitn(4, ':');
        let (Some(file), Some(l), Some(c), Some(rest)) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            continue;
        };
        if let (Ok(l), Ok(c)) = (l.parse(), c.parse()) {
            found.push((file.to_string(), l, c, rest.trim().to_string()));
        }
    }
    (found, stderr)
}

#[test]
fn one_check_reports_every_mistake_of_every_feed_and_settings_in_line_order() {
    let path = repo().join("tests/fixtures/configs/invalid-many.toml");
    let (found, stderr) = issues(&path);
    let expected: &[(usize, usize, &str)] = &[
        (4, 1, "unknown key `max_item` in [settings]"),
        (5, 15, "invalid type: string \"lots\", expected an integer"),
        (
            6,
            14,
            "`public_url` \"feeds.example.org\" is not an absolute http(s) URL",
        ),
        (7, 19, "unknown format `pdf`"),
        (
            9,
            8,
            "[hosts] key \"https://www.example.org/\" is not a host name",
        ),
        (16, 12, "feed \"alpha\": unknown time zone \"Mars/Olympus\""),
        (
            18,
            8,
            "feed \"alpha\": invalid selector for `card` \"div.list >\"",
        ),
        (
            20,
            1,
            "feed \"alpha\": unknown key `autor` in [feed.select]",
        ),
        (25, 7, "feed \"beta\": `url` scheme `ftp` is not supported"),
        (
            26,
            13,
            "feed \"beta\": invalid type: string \"ten\", expected an integer",
        ),
        (29, 1, "feed \"alpha\": feed has no `title`"),
        (
            30,
            6,
            "feed \"alpha\": duplicate feed id (first used on line 13)",
        ),
        (
            32,
            15,
            "feed \"alpha\": `date_format` \"%Q\" is not a valid chrono format",
        ),
    ];
    assert_eq!(found.len(), expected.len(), "{stderr}");
    for ((file, line, col, rest), (l, c, want)) in found.iter().zip(expected) {
        assert_eq!(file, &path.display().to_string(), "{stderr}");
        assert_eq!((line, col), (l, c), "{want}:\n{stderr}");
        assert!(rest.starts_with(want), "{want:?} at {l}:{c}:\n{stderr}");
    }
    assert!(stderr.contains("did you mean `max_items`?"), "{stderr}");
    assert!(stderr.contains("did you mean `author`?"), "{stderr}");
    assert!(stderr.ends_with("13 errors in config\n"), "{stderr}");
}

#[test]
fn errors_in_included_files_name_the_file_and_both_places_of_a_duplicate() {
    let dir = repo().join("tests/fixtures/configs/invalid-include");
    let (found, stderr) = issues(&dir.join("scifeed.toml"));
    let main = dir.join("scifeed.toml").display().to_string();
    let good = dir.join("sites/a-good.toml").display().to_string();
    let broken = dir.join("sites/b-broken.toml").display().to_string();
    let expected: Vec<(&str, usize, usize, String)> = vec![
        (
            &main,
            2,
            28,
            format!(
                "included file {} does not exist",
                dir.join("extra/missing.toml").display()
            ),
        ),
        (
            &broken,
            2,
            2,
            "unknown key `settings` in an included file".into(),
        ),
        (
            &broken,
            5,
            8,
            format!("[hosts.\"a.example.org\"] is set twice (first in {good}:2:8)"),
        ),
        (
            &broken,
            9,
            6,
            format!("feed \"a-news\": duplicate feed id (first used in {good}:6:6)"),
        ),
        (
            &broken,
            12,
            13,
            "feed \"a-news\": invalid type: string \"two\", expected an integer".into(),
        ),
        (
            &broken,
            15,
            9,
            "feed \"a-news\": invalid selector for `title` \"h3 >> a\"".into(),
        ),
        (
            &broken,
            18,
            6,
            format!("feed \"main-feed\": duplicate feed id (first used in {main}:8:6)"),
        ),
    ];
    assert_eq!(found.len(), expected.len(), "{stderr}");
    for ((file, line, col, rest), (f, l, c, want)) in found.iter().zip(&expected) {
        assert_eq!((file.as_str(), line, col), (*f, l, c), "{want}:\n{stderr}");
        assert!(rest.starts_with(want.as_str()), "{want:?}:\n{stderr}");
    }
    assert!(
        stderr.contains("[settings] and include belong in the main config"),
        "{stderr}"
    );
}

/// A main file with settings and one feed, and one file per site in `sites/`, each with
/// page paths relative to itself: `check` lists them all, `run` writes all of them.
#[test]
fn feeds_of_included_files_run_like_the_main_files() {
    let sb = Sandbox::new();
    sb.write("pages/demo.html", &demo_page());
    sb.config(&[("main-demo", "pages/demo.html")], "");
    let main = std::fs::read_to_string(sb.path("scifeed.toml")).expect("config");
    sb.write(
        "scifeed.toml",
        &format!("# one file per site in sites/\ninclude = [\"sites/*.toml\"]\n{main}"),
    );
    let site = |id: &str| {
        main.split("[[feed]]")
            .nth(1)
            .expect("a feed block")
            .replace("\"main-demo\"", &format!("\"{id}\""))
            .replace("\"pages/demo.html\"", "\"../pages/demo.html\"")
    };
    sb.write("sites/b-site.toml", &format!("[[feed]]{}", site("b-site")));
    sb.write(
        "sites/a-site.toml",
        &format!(
            "[hosts.\"www.demo.scifeed.example\"]\nper_host = 2\n\n[[feed]]{}",
            site("a-site")
        ),
    );
    let out = scifeed()
        .arg("check")
        .arg("-c")
        .arg(sb.path("scifeed.toml"))
        .assert()
        .success();
    let stdout = String::from_utf8_lossy(&out.get_output().stdout).to_string();
    assert!(
        stdout.contains(": OK, 3 feed(s) from 3 file(s)"),
        "{stdout}"
    );
    let order: Vec<&str> = stdout
        .lines()
        .skip(1)
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    assert_eq!(order, ["main-demo", "a-site", "b-site"], "{stdout}");
    sb.run(&[])
        .success()
        .stdout(predicate::str::contains("3 ok, 0 failed"));
    for id in ["main-demo", "a-site", "b-site"] {
        assert!(sb.path(&format!("out/{id}.rss")).is_file(), "{id}");
    }
}
