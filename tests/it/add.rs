//! `scifeed add URL` on saved pages: the block it writes is accepted by `check` and `run`,
//! the rest of the config is kept byte for byte, and an existing id is refused.

use predicates::prelude::*;

use crate::{Sandbox, corpus_dir, read_rss, repo, scifeed};

const BASE: &str = "https://labnotes.demo.scifeed.example/";

fn demo_page() -> String {
    repo()
        .join("config/demo/lab-notes.html")
        .display()
        .to_string()
}

fn add(sb: &Sandbox, config: &str, args: &[&str]) -> assert_cmd::assert::Assert {
    scifeed()
        .arg("add")
        .args(args)
        .arg("-c")
        .arg(sb.path(config))
        .assert()
}

fn stdout(a: &assert_cmd::assert::Assert) -> String {
    String::from_utf8_lossy(&a.get_output().stdout).to_string()
}

const CONFIG: &str = "# My science feeds: edited by hand, comments matter.\n[settings]\noutput_dir = \"out\"      # served by nginx\nstate = \"state.db\"\npublic_url = \"https://feeds.example.org/\"\nmin_interval_ms = 0\n\n[[feed]]\nid = \"old\"\ntitle = \"Old\"\nurl = \"https://old.example.org/\"   # keep me\nauto = true\n\n# more sites below\n";

#[test]
fn added_feed_is_accepted_by_check_and_run_and_keeps_the_config_around_it() {
    let sb = Sandbox::new();
    sb.write("scifeed.toml", CONFIG);
    let page = demo_page();
    let out = add(
        &sb,
        "scifeed.toml",
        &[&page, "--base-url", BASE, "--id", "lab-notes"],
    )
    .success();
    let text = stdout(&out);
    let written = String::from_utf8(sb.read("scifeed.toml")).expect("utf-8");
    assert!(
        text.starts_with(&format!(
            "added feed \"lab-notes\" to {}\n",
            sb.path("scifeed.toml").display()
        )),
        "{text}"
    );
    // The preview of the new feed: its selectors and its five cards.
    assert!(text.contains("cards:   5 from selectors"), "{text}");
    assert!(
        text.contains("JWST Spots Water Ice in a Young Planetary Disk"),
        "{text}"
    );
    // Everything that was there is still there, byte for byte, comments included.
    assert!(written.starts_with(CONFIG), "{written}");
    let block = &written[CONFIG.len()..];
    assert!(
        block.starts_with("\n[[feed]]\nid = \"lab-notes\"\ntitle = "),
        "{block}"
    );
    assert!(
        block.contains(&format!("base_url = \"{BASE}\"\n[feed.select]\ncard = ")),
        "{block}"
    );

    scifeed()
        .arg("check")
        .arg("-c")
        .arg(sb.path("scifeed.toml"))
        .assert()
        .success()
        .stdout(predicate::str::contains("OK, 2 feed(s)"));
    sb.run(&["--feed", "lab-notes"])
        .success()
        .stdout(predicate::str::contains("1 ok, 0 failed"));
    assert_eq!(read_rss(&sb.path("out/lab-notes.rss")).items().len(), 5);

    // The same id again: refused, nothing touched.
    let out = add(
        &sb,
        "scifeed.toml",
        &[&page, "--base-url", BASE, "--id", "lab-notes"],
    )
    .code(2);
    let stderr = String::from_utf8_lossy(&out.get_output().stderr).to_string();
    assert!(
        stderr.contains("feed id \"lab-notes\" is already used in"),
        "{stderr}"
    );
    assert!(stderr.contains("choose another with --id"), "{stderr}");
    assert_eq!(sb.read("scifeed.toml"), written.as_bytes());
}

#[test]
fn with_a_site_directory_the_feed_gets_its_own_file() {
    let sb = Sandbox::new();
    let main = "# main config\ninclude = [\"sites/*.toml\"]\n[settings]\noutput_dir = \"out\"\nstate = \"state.db\"\n";
    sb.write("scifeed.toml", main);
    sb.write(
        "sites/taken.toml",
        "[[feed]]\nid = \"taken\"\ntitle = \"T\"\nurl = \"https://t.example.org/\"\n",
    );
    let page = demo_page();
    // An id used in an included file is refused as well.
    add(
        &sb,
        "scifeed.toml",
        &[&page, "--base-url", BASE, "--id", "taken"],
    )
    .code(2)
    .stderr(predicate::str::contains("\"taken\" is already used"));
    let out = add(
        &sb,
        "scifeed.toml",
        &[
            &page,
            "--base-url",
            BASE,
            "--id",
            "notes",
            "--title",
            "Notes",
        ],
    )
    .success();
    assert!(
        stdout(&out).contains(&format!(
            "added feed \"notes\" to {}",
            sb.path("sites/notes.toml").display()
        )),
        "{}",
        stdout(&out)
    );
    assert_eq!(
        sb.read("scifeed.toml"),
        main.as_bytes(),
        "main file untouched"
    );
    let site = String::from_utf8(sb.read("sites/notes.toml")).expect("utf-8");
    assert!(
        site.starts_with("[[feed]]\nid = \"notes\"\ntitle = \"Notes\"\n"),
        "{site}"
    );
    scifeed()
        .arg("check")
        .arg("-c")
        .arg(sb.path("scifeed.toml"))
        .assert()
        .success()
        .stdout(predicate::str::contains("OK, 2 feed(s) from 3 file(s)"));
    sb.run(&["--feed", "notes"]).success();
    assert_eq!(read_rss(&sb.path("out/notes.rss")).items().len(), 5);
}

#[test]
fn a_page_without_a_listing_adds_nothing() {
    let sb = Sandbox::new();
    let page = sb.write(
        "about.html",
        "<html><head><title>About us</title></head><body><h1>About</h1><p>We are a lab.</p></body></html>",
    );
    let out = add(
        &sb,
        "scifeed.toml",
        &[&page.display().to_string(), "--base-url", BASE],
    )
    .code(1);
    let stderr = String::from_utf8_lossy(&out.get_output().stderr).to_string();
    assert!(
        stderr.contains("no article listing found on file://"),
        "{stderr}"
    );
    assert!(stderr.contains("nothing was added"), "{stderr}");
    assert!(!sb.path("scifeed.toml").exists(), "no config created");
}

/// A real saved listing (The Scientist's home page in the shared corpus), into a config that
/// does not exist yet: the new config runs.
#[test]
fn added_corpus_page_runs_from_a_new_config() {
    let Some(corpus) = corpus_dir() else { return };
    let page = corpus.join("pages/the-scientist-index-1.html");
    if !page.is_file() {
        eprintln!("{} not found, skipping", page.display());
        return;
    }
    let sb = Sandbox::new();
    let out = add(
        &sb,
        "new/scifeed.toml",
        &[
            &page.display().to_string(),
            "--base-url",
            "https://www.the-scientist.com/",
        ],
    )
    .success();
    assert!(
        stdout(&out).contains("added feed \"the-scientist-com\""),
        "{}",
        stdout(&out)
    );
    scifeed()
        .arg("check")
        .arg("-c")
        .arg(sb.path("new/scifeed.toml"))
        .assert()
        .success();
    scifeed()
        .arg("run")
        .arg("-c")
        .arg(sb.path("new/scifeed.toml"))
        .assert()
        .success();
    let items = read_rss(&sb.path("new/feeds/the-scientist-com.rss"))
        .items()
        .len();
    assert_eq!(items, 8, "the hand-checked listing has 8 cards");
}
