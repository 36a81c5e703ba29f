//! Crash safety: a run killed at any moment (SIGKILL after a delay, or an abort injected at a
//! named point) leaves every feed file complete and the store consistent; one more run then
//! gives exactly the files a clean run gives, with no item duplicated and no emitted date
//! changed.
//!
//! The store commits before the files are written, so after a kill each feed's files show
//! either the old history or the crashed run's committed one, and the next run re-renders
//! feeds the store marks dirty. Its files must therefore equal those of a clean run at T1
//! (the crashed run's commit took effect) or at T2 (it did not), feed by feed.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};

use crate::proc::{spawn_run, store_intact};
use crate::{Sandbox, card_html, page_with};

const FEEDS: [&str; 3] = ["alpha", "beta", "gamma"];
const FORMATS: [&str; 3] = ["rss", "atom", "json"];
const T0: &str = "2026-11-26T10:00:00Z";
const T1: &str = "2026-11-26T10:30:00Z";
const T2: &str = "2026-11-26T11:00:00Z";

/// id -> emitted date, per feed.
type Emitted = BTreeMap<String, BTreeMap<String, DateTime<Utc>>>;

fn run_ok(sb: &Sandbox, now: &str) {
    sb.run(&["--now", now]).success();
}

/// Version 1 of a feed's page: dated demo cards and undated cards; version 2 adds undated
/// cards on top, edits one title and drops a dated card, so the run changes every feed and
/// stamps first-seen dates that must never move afterwards.
fn page(feed: &str, version: u8) -> String {
    let undated = |range: std::ops::Range<usize>, edited: bool| -> String {
        range
            .map(|i| {
                let title = if edited && i == 3 {
                    format!("{feed} story {i} (updated)")
                } else {
                    format!("{feed} story {i}")
                };
                card_html(&format!("{feed}-story-{i}"), &title, "Ann Lee", "")
            })
            .collect()
    };
    match version {
        1 => page_with(&["73421", "73418", "73410"], &undated(0..12, false)),
        _ => page_with(
            &["73421", "73410"],
            &(undated(100..106, false) + &undated(0..12, true)),
        ),
    }
}

fn write_pages(sb: &Sandbox, version: u8) {
    for f in FEEDS {
        sb.write(&format!("{f}.html"), &page(f, version));
    }
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for e in std::fs::read_dir(from).expect("ls").flatten() {
        let target = to.join(e.file_name());
        if e.file_type().expect("type").is_dir() {
            copy_dir(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), &target).expect("copy");
        }
    }
}

/// A sandbox holding the history of one clean run at T0, and the version 2 pages.
fn from_template(template: &Sandbox) -> Sandbox {
    let sb = Sandbox::new();
    copy_dir(template.dir.path(), sb.dir.path());
    write_pages(&sb, 2);
    sb
}

fn parse_date(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc2822(s)
        .or_else(|_| DateTime::parse_from_rfc3339(s))
        .unwrap_or_else(|e| panic!("date {s:?}: {e}"))
        .with_timezone(&Utc)
}

/// Parses one feed file completely; returns (id, date) of every item, in file order.
fn items_of(path: &Path, format: &str) -> Vec<(String, DateTime<Utc>)> {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    let what = path.display();
    match format {
        "rss" => rss::Channel::read_from(&bytes[..])
            .unwrap_or_else(|e| panic!("{what} is not complete RSS: {e}"))
            .items()
            .iter()
            .map(|i| {
                let id = i.guid().map(|g| g.value().to_string()).expect("guid");
                (id, parse_date(i.pub_date().expect("pubDate")))
            })
            .collect(),
        "atom" => atom_syndication::Feed::read_from(&bytes[..])
            .unwrap_or_else(|e| panic!("{what} is not complete Atom: {e}"))
            .entries()
            .iter()
            .map(|e| {
                let published = e.published().expect("published");
                (e.id().to_string(), published.with_timezone(&Utc))
            })
            .collect(),
        _ => {
            let v: serde_json::Value = serde_json::from_slice(&bytes)
                .unwrap_or_else(|e| panic!("{what} is not complete JSON: {e}"));
            v["items"]
                .as_array()
                .expect("items")
                .iter()
                .map(|i| {
                    let id = i["id"].as_str().expect("id").to_string();
                    (id, parse_date(i["date_published"].as_str().expect("date")))
                })
                .collect()
        }
    }
}

/// Checks that every feed file present parses completely, holds no duplicate id, and gives
/// each id one date across formats; adds what the files show to `emitted`, failing if an id
/// was emitted before with another date. Returns the number of files checked.
fn check_files(sb: &Sandbox, emitted: &mut Emitted, context: &str) -> usize {
    let mut files = 0;
    for feed in FEEDS {
        for format in FORMATS {
            let path = sb.path(&format!("out/{feed}.{format}"));
            if !path.exists() {
                continue;
            }
            files += 1;
            let items = items_of(&path, format);
            let mut seen = std::collections::HashSet::new();
            for (id, date) in items {
                assert!(
                    seen.insert(id.clone()),
                    "{context}: {feed}.{format}: duplicate {id}"
                );
                let known = emitted.entry(feed.to_string()).or_default();
                if let Some(before) = known.insert(id.clone(), date) {
                    assert_eq!(
                        before, date,
                        "{context}: {feed}.{format}: emitted date of {id} changed"
                    );
                }
            }
        }
    }
    files
}

fn feed_bytes(sb: &Sandbox, feed: &str) -> Vec<Vec<u8>> {
    FORMATS
        .iter()
        .map(|f| sb.read(&format!("out/{feed}.{f}")))
        .collect()
}

fn temp_files(sb: &Sandbox) -> Vec<String> {
    std::fs::read_dir(sb.path("out"))
        .expect("ls out")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().to_string())
        .filter(|n| n.ends_with(".tmp"))
        .collect()
}

/// How a run is brought down.
#[derive(Debug, Clone)]
enum Kill {
    /// SIGKILL this long after the start (if it is still running).
    After(Duration),
    /// `SCIFEED_FAILPOINT` value: abort at that point.
    At(String),
}

/// What one kill left behind, for the summary.
#[derive(Debug, Default)]
struct Tally {
    cases: usize,
    killed_mid_run: usize,
    files_checked: usize,
    feeds_committed_by_killed_run: usize,
    feeds_matching_t1: usize,
    feeds_matching_t2: usize,
}

fn crash_case(
    template: &Sandbox,
    baseline: &Emitted,
    refs: &[HashMap<&str, Vec<Vec<u8>>>; 2],
    kill: &Kill,
    tally: &mut Tally,
) {
    let sb = from_template(template);
    let ctx = format!("{kill:?}");
    let env: Vec<(&str, &str)> = match kill {
        Kill::At(point) => vec![("SCIFEED_FAILPOINT", point.as_str())],
        Kill::After(_) => vec![],
    };
    let mut run = spawn_run(&sb, &["--now", T1], &env);
    match kill {
        Kill::After(delay) => {
            std::thread::sleep(*delay);
            if run.child.try_wait().expect("try_wait").is_none() {
                tally.killed_mid_run += 1;
                let _ = run.child.kill();
            }
            run.wait(Duration::from_secs(30));
        }
        Kill::At(_) => {
            let done = run.wait(Duration::from_secs(30));
            assert!(
                !done.status.success(),
                "{ctx}: the failpoint was never reached"
            );
            tally.killed_mid_run += 1;
        }
    }
    tally.cases += 1;

    // Right after the kill: complete files, a consistent store, no date moved.
    let mut emitted = baseline.clone();
    tally.files_checked += check_files(&sb, &mut emitted, &format!("{ctx} after kill"));
    let conn = store_intact(&sb);
    for feed in FEEDS {
        let first_seen_t1: i64 = conn
            .query_row(
                "SELECT count(*) FROM items WHERE feed = ?1 AND first_seen = ?2",
                rusqlite::params![feed, parse_date(T1).timestamp()],
                |r| r.get(0),
            )
            .expect("count");
        tally.feeds_committed_by_killed_run += usize::from(first_seen_t1 > 0);
    }
    drop(conn);

    // One more run repairs everything.
    run_ok(&sb, T2);
    tally.files_checked += check_files(&sb, &mut emitted, &format!("{ctx} after recovery"));
    let conn = store_intact(&sb);
    let dirty: i64 = conn
        .query_row(
            "SELECT count(*) FROM feed_state WHERE dirty != 0",
            [],
            |r| r.get(0),
        )
        .expect("dirty");
    assert_eq!(dirty, 0, "{ctx}: feeds left dirty after recovery");
    assert!(
        temp_files(&sb).is_empty(),
        "{ctx}: temp files left: {:?}",
        temp_files(&sb)
    );
    for feed in FEEDS {
        let got = feed_bytes(&sb, feed);
        let ids: Vec<_> = emitted[feed].keys().collect();
        let shown = items_of(&sb.path(&format!("out/{feed}.rss")), "rss");
        assert_eq!(
            shown.len(),
            ids.len(),
            "{ctx}: {feed}: an emitted item went missing"
        );
        if got == refs[0][feed] {
            tally.feeds_matching_t1 += 1;
        } else if got == refs[1][feed] {
            tally.feeds_matching_t2 += 1;
        } else {
            panic!("{ctx}: {feed}: files match neither a clean run at T1 nor one at T2");
        }
    }
}

#[test]
fn killed_runs_leave_complete_files_and_recover_without_redating() {
    let template = Sandbox::new();
    write_pages(&template, 1);
    let feeds: Vec<(&str, String)> = FEEDS.iter().map(|f| (*f, format!("{f}.html"))).collect();
    let feeds: Vec<(&str, &str)> = feeds.iter().map(|(f, p)| (*f, p.as_str())).collect();
    template.config(&feeds, "");
    run_ok(&template, T0);
    let mut baseline = Emitted::new();
    check_files(&template, &mut baseline, "baseline");

    // Clean references: the run at T1 completes (then T2 changes nothing), or never happens.
    let clean_t1 = from_template(&template);
    let started = Instant::now();
    run_ok(&clean_t1, T1);
    let clean_duration = started.elapsed();
    run_ok(&clean_t1, T2);
    let clean_t2 = from_template(&template);
    run_ok(&clean_t2, T2);
    let refs = [&clean_t1, &clean_t2].map(|sb| {
        FEEDS
            .iter()
            .map(|f| (*f, feed_bytes(sb, f)))
            .collect::<HashMap<_, _>>()
    });
    assert_ne!(
        refs[0]["alpha"], refs[1]["alpha"],
        "T1 and T2 runs must differ"
    );

    let mut kills: Vec<Kill> = Vec::new();
    for feed in FEEDS {
        for point in ["after-fetch", "before-commit", "after-commit", "after-mark"] {
            kills.push(Kill::At(format!("{point}:{feed}")));
        }
        kills.push(Kill::At(format!("after-write:{feed}.rss")));
        kills.push(Kill::At(format!("after-write:{feed}.atom")));
        kills.push(Kill::At(format!("before-rename:{feed}.json")));
    }
    // Timed kills spread over a clean run's duration, from process start to its end.
    let steps = 24u32;
    for i in 0..=steps {
        kills.push(Kill::After(clean_duration * i / steps));
    }

    let mut tally = Tally::default();
    for kill in &kills {
        crash_case(&template, &baseline, &refs, kill, &mut tally);
    }
    eprintln!(
        "crash safety: {} kill points ({} killed mid-run, clean run {:?}); {} feed files checked, all complete; \
         killed run had committed {} of {} feeds; after recovery {} feeds equal the clean T1 run, {} the clean T2 run",
        tally.cases,
        tally.killed_mid_run,
        clean_duration,
        tally.files_checked,
        tally.feeds_committed_by_killed_run,
        tally.cases * FEEDS.len(),
        tally.feeds_matching_t1,
        tally.feeds_matching_t2
    );
    assert!(tally.killed_mid_run > FEEDS.len() * 7, "{tally:?}");
    assert!(
        tally.feeds_matching_t1 > 0 && tally.feeds_matching_t2 > 0,
        "{tally:?}"
    );
}
