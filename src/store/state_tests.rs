//! The store's behaviour through [`StateStore`], on both backends: every test runs against
//! an SQLite file and a database of a real PostgreSQL server (one per test binary, see
//! `tests/it/pgserver.rs`; skipped with a note when the binaries are missing outside CI).
//! Then what only a shared state does: leases, their expiry, fencing and the politeness
//! hand-over between runners.

#[path = "../../tests/it/pgserver.rs"]
mod pgserver;

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};

use super::backend::{self, FeedCommit, HostWant, OpenOptions, StateLocation, StateStore};
use super::postgres::PG_MIGRATIONS;
use super::{MIGRATIONS, RobotsRecord, StoreError, Validators};
use crate::model::{ArticleRecord, DateSource, Item};
use crate::schedule::ScheduleState;

fn ts(s: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(s, 0).single().expect("valid")
}

fn item(id: &str, published: i64) -> Item {
    Item {
        id: id.into(),
        link: id.into(),
        title: format!("T {id}"),
        authors: vec!["A".into()],
        read_time: Some(4),
        teaser: None,
        image: None,
        categories: vec!["x".into(), "y z".into()],
        published: ts(published),
        date_source: DateSource::FirstSeen,
        updated: ts(published),
        first_seen: ts(published),
        last_seen: ts(published),
        position: 0,
        read_time_estimated: false,
    }
}

fn commit<'a>(feed: &'a str, items: &'a [Item], now: i64) -> FeedCommit<'a> {
    FeedCommit {
        feed,
        upserts: items,
        validators: &[],
        dirty: true,
        now: ts(now),
        schedule: None,
        prune: None,
    }
}

/// Both backends, each freshly created: (name, state, keep-alive of its directory).
fn backends(test: &str) -> Vec<(&'static str, Arc<dyn StateStore>, Option<tempfile::TempDir>)> {
    let dir = tempfile::tempdir().expect("tmp");
    let sqlite = backend::open(
        &StateLocation::File(dir.path().join("s.db")),
        &OpenOptions::default(),
    )
    .expect("sqlite");
    let mut out: Vec<(&'static str, Arc<dyn StateStore>, Option<tempfile::TempDir>)> =
        vec![("sqlite", sqlite, Some(dir))];
    if let Some(pg) = pgserver::shared() {
        let url = pg.database(test);
        let state = backend::open(&StateLocation::Postgres(url), &OpenOptions::default())
            .expect("postgres");
        out.push(("postgres", state, None));
    }
    out
}

fn pg_state(url: &str, lease_secs: u64) -> Arc<dyn StateStore> {
    backend::open(
        &StateLocation::Postgres(url.to_string()),
        &OpenOptions {
            wait: false,
            lease: Duration::from_secs(lease_secs),
        },
    )
    .expect("postgres")
}

#[test]
fn schema_versions_match_on_both_backends() {
    assert_eq!(
        PG_MIGRATIONS.len(),
        MIGRATIONS.len(),
        "a schema step added to one backend needs its twin on the other"
    );
}

#[test]
fn items_validators_and_dirty_flag_round_trip() {
    for (name, s, _dir) in backends("round_trip") {
        let items = vec![
            item("https://e/a", 10),
            item("https://e/b", 20),
            item("https://e/c", 20),
        ];
        let v = Validators {
            etag: Some("\"x\"".into()),
            last_modified: Some("Tue, 01 Dec 2026 10:00:00 GMT".into()),
            body_hash: None,
        };
        let vals = [("f https://e/".to_string(), v.clone())];
        let total = s
            .commit(&FeedCommit {
                validators: &vals,
                ..commit("f", &items, 30)
            })
            .expect("commit");
        assert_eq!(total, 3, "{name}");
        let top = s.top_items("f", 2).expect("top");
        let ids: Vec<_> = top.iter().map(|i| i.id.as_str()).collect();
        assert_eq!(ids, ["https://e/b", "https://e/c"], "{name}: output order");
        assert_eq!(top[0], items[1], "{name}: every field kept");
        assert_eq!(s.validators("f https://e/").expect("v"), v, "{name}");
        assert!(s.feed_state("f").expect("state").dirty, "{name}");
        s.mark_written("f", "k1").expect("mark");
        let st = s.feed_state("f").expect("state");
        assert!(!st.dirty, "{name}");
        assert_eq!(st.render_key.as_deref(), Some("k1"), "{name}");
        let got = s
            .feed_items("f", &["https://e/a".into(), "https://e/zz".into()], 1)
            .expect("feed items");
        assert_eq!(got.known.len(), 1, "{name}");
        assert_eq!(got.known["https://e/a"], items[0], "{name}");
        assert_eq!(got.top.len(), 1, "{name}");
        assert_eq!(got.total, 3, "{name}");
        let empty = s.feed_items("nothing", &[], 5).expect("empty feed");
        assert_eq!((empty.known.len(), empty.top.len(), empty.total), (0, 0, 0));
        let start = s.begin_feed("f", "f https://e/").expect("begin");
        assert_eq!(start.validators, v, "{name}");
        assert_eq!(start.state.render_key.as_deref(), Some("k1"), "{name}");
        assert!(s.check().expect("check").problems.is_empty(), "{name}");
    }
}

#[test]
fn dates_once_stored_never_change() {
    for (name, s, _dir) in backends("frozen") {
        let first = item("https://e/a", 100);
        s.commit(&commit("f", std::slice::from_ref(&first), 100))
            .expect("first");
        // A later merge carries new content; the stored published / first-seen / date source
        // are kept by the store itself, whatever the upsert says.
        let mut again = first.clone();
        again.title = "Edited".into();
        again.published = ts(999);
        again.first_seen = ts(999);
        again.date_source = DateSource::Page;
        again.updated = ts(500);
        again.last_seen = ts(500);
        s.commit(&commit("f", std::slice::from_ref(&again), 500))
            .expect("again");
        let got = &s.top_items("f", 10).expect("top")[0];
        assert_eq!(got.title, "Edited", "{name}");
        assert_eq!(
            (got.published, got.first_seen, got.date_source),
            (ts(100), ts(100), DateSource::FirstSeen),
            "{name}: frozen"
        );
        assert_eq!((got.updated, got.last_seen), (ts(500), ts(500)), "{name}");
        assert_eq!(
            s.count_items("f").expect("count"),
            1,
            "{name}: no duplicate"
        );
    }
}

#[test]
fn schedules_failures_and_not_modified() {
    for (name, s, _dir) in backends("schedules") {
        assert_eq!(s.schedule("f").expect("get"), None, "{name}");
        let sch = ScheduleState {
            next_due: ts(5000),
            interval: Duration::from_secs(1800),
            last_fetch: ts(3200),
            last_success: Some(ts(3200)),
            last_change: None,
            failures: 0,
            fetches: 3,
        };
        let one = [item("https://e/a", 1)];
        s.commit(&FeedCommit {
            schedule: Some(&sch),
            ..commit("f", &one, 3200)
        })
        .expect("commit");
        assert_eq!(s.schedule("f").expect("get"), Some(sch.clone()), "{name}");
        let failed = ScheduleState {
            failures: 1,
            fetches: 4,
            next_due: ts(9000),
            ..sch.clone()
        };
        s.record_failure("f", "HTTP 503", ts(6000), Some(&failed))
            .expect("failure");
        s.record_failure("f", "HTTP 504", ts(6100), None)
            .expect("failure");
        let st = s.feed_state("f").expect("state");
        assert_eq!(
            (st.failures, st.last_error.as_deref()),
            (2, Some("HTTP 504")),
            "{name}"
        );
        let later = ScheduleState {
            fetches: 5,
            ..failed.clone()
        };
        assert_eq!(
            s.record_not_modified("f", ts(7000), Some(&later))
                .expect("304"),
            1,
            "{name}: count"
        );
        s.save_schedule("g", &sch).expect("save");
        let all = s.schedule_states().expect("all");
        let got: Vec<(&str, &ScheduleState)> = all.iter().map(|(k, v)| (k.as_str(), v)).collect();
        assert_eq!(got, vec![("f", &later), ("g", &sch)], "{name}");
        // A success ends the failure streak.
        s.commit(&commit("f", &[], 8000)).expect("ok");
        assert_eq!(s.feed_state("f").expect("state").failures, 0, "{name}");
    }
}

#[test]
fn robots_and_article_caches() {
    for (name, s, _dir) in backends("caches") {
        assert_eq!(s.robots("http://a.org").expect("get"), None, "{name}");
        let mut rec = RobotsRecord {
            origin: "http://a.org".into(),
            status: 200,
            body: b"User-agent: *\nDisallow: /x\n".to_vec(),
            fetched: ts(100),
            expires: ts(100 + 86_400),
        };
        s.save_robots(&rec).expect("save");
        assert_eq!(
            s.robots("http://a.org").expect("get"),
            Some(rec.clone()),
            "{name}"
        );
        rec.status = 404;
        rec.body.clear();
        s.save_robots(&rec).expect("replace");
        assert_eq!(s.robots("http://a.org").expect("get"), Some(rec), "{name}");
        let art = ArticleRecord {
            fetched: ts(100),
            authors: vec!["Ann".into(), "Bo Chen".into()],
            published: Some(ts(50)),
            read_time: Some(5),
            read_time_estimated: true,
            word_count: Some(1100),
            ..ArticleRecord::default()
        };
        s.save_article("https://e/a", &art).expect("save");
        assert_eq!(s.article("https://e/a").expect("read"), Some(art), "{name}");
        assert_eq!(s.article("https://e/b").expect("read"), None, "{name}");
    }
}

#[test]
fn prune_keeps_the_newest_and_the_recently_seen() {
    for (name, s, _dir) in backends("prune") {
        let items: Vec<Item> = (0..5).map(|i| item(&format!("https://e/{i}"), i)).collect();
        s.commit(&FeedCommit {
            dirty: false,
            ..commit("f", &items, 10)
        })
        .expect("commit");
        // Two days later, one item seen again: the newest two and that one stay.
        let mut seen = items[0].clone();
        seen.last_seen = ts(10 + 2 * 86_400);
        let total = s
            .commit(&FeedCommit {
                prune: Some((2, 1)),
                ..commit("f", std::slice::from_ref(&seen), 10 + 2 * 86_400)
            })
            .expect("commit");
        assert_eq!(total, 3, "{name}: count after the prune");
        assert_eq!(s.count_items("f").expect("count"), 3, "{name}");
        let mut ids: Vec<String> = s
            .top_items("f", 10)
            .expect("top")
            .into_iter()
            .map(|i| i.id)
            .collect();
        ids.sort();
        assert_eq!(ids, ["https://e/0", "https://e/3", "https://e/4"], "{name}");
    }
}

#[test]
fn store_migrate_copies_a_history_both_ways() {
    let Some(pg) = pgserver::shared() else { return };
    let dir = tempfile::tempdir().expect("tmp");
    let src = backend::open(
        &StateLocation::File(dir.path().join("a.db")),
        &OpenOptions::default(),
    )
    .expect("sqlite");
    let mut frozen = item("https://e/r", 300);
    frozen.date_source = DateSource::Relative;
    frozen.first_seen = ts(250);
    let items = vec![item("https://e/a", 100), frozen];
    let vals = [(
        "f https://e/".to_string(),
        Validators {
            etag: Some("\"e\"".into()),
            ..Validators::default()
        },
    )];
    let sch = ScheduleState {
        next_due: ts(5000),
        interval: Duration::from_secs(600),
        last_fetch: ts(300),
        last_success: Some(ts(300)),
        last_change: Some(ts(300)),
        failures: 0,
        fetches: 7,
    };
    src.commit(&FeedCommit {
        validators: &vals,
        schedule: Some(&sch),
        ..commit("f", &items, 300)
    })
    .expect("commit");
    src.record_failure("g", "HTTP 500", ts(400), None)
        .expect("fail");
    src.save_robots(&RobotsRecord {
        origin: "https://e".into(),
        status: 200,
        body: b"User-agent: *\n".to_vec(),
        fetched: ts(1),
        expires: ts(2),
    })
    .expect("robots");
    src.save_article(
        "https://e/a",
        &ArticleRecord {
            fetched: ts(5),
            word_count: Some(10),
            ..ArticleRecord::default()
        },
    )
    .expect("article");

    src.remember_listing(
        "f",
        &crate::heal::ListingMemory {
            config_key: "k".into(),
            kind: crate::heal::MemoryKind::Pinned,
            listing: crate::heal::RememberedListing::Selectors(
                crate::extract::detect::SelectorSet {
                    card: "li".into(),
                    title: "a".into(),
                    ..Default::default()
                },
            ),
            since: ts(300),
            broken: None,
        },
    )
    .expect("pin");
    src.record_failure("h", "HTTP 502", ts(450), None)
        .expect("streak");
    let pg_state = pg_state(&pg.database("migrate"), 60);
    let report = super::copy::copy_state(src.as_ref(), pg_state.as_ref()).expect("to postgres");
    assert_eq!((report.feeds, report.items, report.schedules), (1, 2, 1));
    assert_eq!(
        pg_state.export_rows().expect("rows").listings.len(),
        1,
        "the pin came along"
    );
    assert_eq!(
        pg_state.export_rows().expect("rows"),
        src.export_rows().expect("rows")
    );
    assert_eq!(
        pg_state.top_items("f", 10).expect("items"),
        src.top_items("f", 10).expect("items"),
        "items with their frozen dates"
    );
    let again = super::copy::copy_state(src.as_ref(), pg_state.as_ref());
    assert!(
        matches!(again, Err(super::copy::CopyError::TargetNotEmpty(_))),
        "never into a state that has data"
    );

    let back = backend::open(
        &StateLocation::File(dir.path().join("b.db")),
        &OpenOptions::default(),
    )
    .expect("sqlite");
    super::copy::copy_state(pg_state.as_ref(), back.as_ref()).expect("back");
    assert_eq!(
        back.export_rows().expect("rows"),
        src.export_rows().expect("rows")
    );
    assert_eq!(
        back.top_items("f", 10).expect("items"),
        items_sorted(&items)
    );
}

fn items_sorted(items: &[Item]) -> Vec<Item> {
    let mut v = items.to_vec();
    v.sort_by(|a, b| b.published.cmp(&a.published).then(a.id.cmp(&b.id)));
    v
}

fn want(host: &str, feeds: &[&str]) -> HostWant {
    HostWant {
        host: host.into(),
        feeds: feeds
            .iter()
            .map(|f| (f.to_string(), format!("{f} https://{host}/")))
            .collect(),
    }
}

#[test]
fn two_runners_never_hold_the_same_host() {
    let Some(pg) = pgserver::shared() else { return };
    let url = pg.database("leases");
    let a = pg_state(&url, 60);
    let b = pg_state(&url, 60);
    a.begin_round().expect("round");
    b.begin_round().expect("round");
    let wants: Vec<HostWant> = (0..20)
        .map(|i| want(&format!("h{i}.org"), &["x"]))
        .collect();
    // Both ask for everything at once, from two threads.
    let (ga, gb) = std::thread::scope(|sc| {
        let ta = sc.spawn(|| a.lease_hosts(&wants, 20).expect("a"));
        let tb = sc.spawn(|| b.lease_hosts(&wants, 20).expect("b"));
        (ta.join().expect("a"), tb.join().expect("b"))
    });
    let mut all: Vec<String> = ga.iter().chain(&gb).map(|h| h.host.clone()).collect();
    all.sort();
    let n = all.len();
    all.dedup();
    assert_eq!(all.len(), n, "no host granted twice");
    assert_eq!(n, 20, "every host granted to one of them");
    // Nothing left for a third.
    let c = pg_state(&url, 60);
    assert!(c.lease_hosts(&wants, 20).expect("c").is_empty());
    // Given back, a host can be taken again, with its holder's interval carried over.
    let host = ga
        .first()
        .map_or_else(|| gb[0].host.clone(), |h| h.host.clone());
    let owner = if ga.iter().any(|h| h.host == host) {
        &a
    } else {
        &b
    };
    owner.release_host(&host, Some(Utc::now() + chrono::Duration::seconds(30)));
    owner.end_round().expect("flush");
    let again = c.lease_hosts(&[want(&host, &["x"])], 1).expect("c");
    assert_eq!(again.len(), 1);
    let wait = again[0].not_before.expect("next holder waits") - Utc::now();
    assert!(
        wait > chrono::Duration::seconds(25) && wait <= chrono::Duration::seconds(31),
        "the interval the last holder's gate wanted: {wait}"
    );
}

#[test]
fn an_expired_lease_passes_on_and_fences_the_old_holder() {
    let Some(pg) = pgserver::shared() else { return };
    let url = pg.database("expiry");
    let slow = pg_state(&url, 1);
    let other = pg_state(&url, 60);
    let w = [want("h.org", &["f"])];
    assert_eq!(slow.lease_hosts(&w, 1).expect("lease").len(), 1);
    let _ = slow.begin_feed("f", "f https://h.org/").expect("start");
    assert!(other.lease_hosts(&w, 1).expect("held").is_empty(), "held");
    // The slow runner stops renewing (its heartbeat would, so stop it the hard way: let
    // the lease run out by waiting longer than it lasts while nobody renews it).
    pg.psql(
        url.rsplit('/')
            .next()
            .and_then(|d| d.split('?').next())
            .expect("db"),
        "UPDATE host_leases SET lease_until = now() - interval '1 second'",
    )
    .expect("expire");
    let taken = other.lease_hosts(&w, 1).expect("take over");
    assert_eq!(taken.len(), 1, "an expired lease is free");
    // The old holder's commit must not land: its fetch may be stale.
    let one = [item("https://h.org/a", 1)];
    let err = slow.commit(&commit("f", &one, 10)).expect_err("fenced");
    assert!(matches!(err, StoreError::LeaseLost { .. }), "{err}");
    assert_eq!(
        other.count_items("f").expect("count"),
        0,
        "nothing committed"
    );
    let err = slow
        .record_failure("f", "x", ts(10), None)
        .expect_err("fenced");
    assert!(matches!(err, StoreError::LeaseLost { .. }), "{err}");
    // The new holder commits.
    let _ = other.begin_feed("f", "f https://h.org/").expect("start");
    assert_eq!(other.commit(&commit("f", &one, 10)).expect("commit"), 1);
}

#[test]
fn a_feed_done_in_this_round_is_not_done_again() {
    let Some(pg) = pgserver::shared() else { return };
    let url = pg.database("done");
    let a = pg_state(&url, 60);
    let b = pg_state(&url, 60);
    b.begin_round().expect("b's round starts first");
    a.begin_round().expect("round");
    let w = [want("h.org", &["f", "g"])];
    let leased = a.lease_hosts(&w, 1).expect("lease");
    assert!(leased[0].feeds.iter().all(|f| !f.done_this_round));
    let _ = a.begin_feed("f", "f https://h.org/").expect("start");
    a.record_not_modified("f", ts(10), None).expect("304");
    a.end_round().expect("release");
    let leased = b.lease_hosts(&w, 1).expect("lease");
    let done: Vec<(&str, bool)> = leased[0]
        .feeds
        .iter()
        .map(|f| (f.id.as_str(), f.done_this_round))
        .collect();
    assert_eq!(done, [("f", true), ("g", false)]);
    b.end_round().expect("release");
    // A round that starts later fetches it again (feeds without a schedule: every round).
    std::thread::sleep(Duration::from_millis(20));
    b.begin_round().expect("next round");
    let leased = b.lease_hosts(&w, 1).expect("lease");
    assert!(leased[0].feeds.iter().all(|f| !f.done_this_round));
}

#[test]
fn postgres_faults_are_named() {
    let Some(pg) = pgserver::shared() else { return };
    // Nothing listens on this port.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("port")
        .port();
    let url =
        format!("postgres://scifeed:secret@127.0.0.1:{port}/x?sslmode=disable&connect_timeout=2");
    let err = backend::open(&StateLocation::Postgres(url), &OpenOptions::default())
        .err()
        .expect("unreachable");
    let msg = err.to_string();
    assert!(matches!(err, StoreError::Unreachable { .. }), "{msg}");
    assert!(
        msg.contains(&format!("127.0.0.1:{port}")) && !msg.contains("secret"),
        "{msg}"
    );
    // A database of another program is left alone.
    let other = pg.database("foreign");
    let db = other
        .rsplit('/')
        .next()
        .and_then(|d| d.split('?').next())
        .expect("db");
    pg.psql(db, "CREATE TABLE items (x int)")
        .expect("foreign table");
    let err = backend::open(&StateLocation::Postgres(other), &OpenOptions::default())
        .err()
        .expect("foreign");
    assert!(matches!(err, StoreError::PgForeign { .. }), "{err}");
    // An unknown sslmode is a clear error, not a silent plain connection.
    let bad = pg
        .url("postgres")
        .replace("sslmode=disable", "sslmode=maybe");
    let err = backend::open(&StateLocation::Postgres(bad), &OpenOptions::default())
        .err()
        .expect("bad sslmode");
    assert!(err.to_string().contains("unknown sslmode `maybe`"), "{err}");
}

#[test]
fn an_older_postgres_schema_is_migrated_and_keeps_its_rows() {
    let Some(pg) = pgserver::shared() else { return };
    let url = pg.database("v1");
    let db = url
        .rsplit('/')
        .next()
        .and_then(|d| d.split('?').next())
        .expect("db");
    pg.psql(
        db,
        &format!(
            "CREATE TABLE scifeed_schema (version BIGINT NOT NULL); INSERT INTO scifeed_schema VALUES (1);
             {}
             INSERT INTO items VALUES ('f', 'https://e/a', 'https://e/a', 'A', NULL, 4, NULL, NULL, 'x',
                                       10, 'page', 10, 10, 10, 0, false);",
            PG_MIGRATIONS[0]
        ),
    )
    .expect("v1 database");
    let s = pg_state(&url, 60);
    let c = s.check().expect("check");
    assert_eq!(c.version, super::SCHEMA_VERSION);
    assert_eq!(s.top_items("f", 5).expect("items")[0].title, "A");
    assert_eq!(s.schedule("f").expect("schedule table exists"), None);
}

#[test]
fn tls_as_sslmode_asks() {
    let Some(pg) = pgserver::own_tls() else {
        return;
    };
    let base = pg.database("tls").replace("?sslmode=disable", "");
    let db = base.rsplit('/').next().expect("db").to_string();
    let ca = pg.ca_file();
    let open = |name: &str, q: &str| {
        backend::open(
            &StateLocation::Postgres(format!("{base}?application_name={name}&{q}")),
            &OpenOptions::default(),
        )
    };
    // The server's own view of the connections of one store: "encrypted/all".
    let seen = |name: &str, s: &Arc<dyn StateStore>| {
        s.count_items("x").expect("query");
        pg.psql(
            &db,
            &format!(
                "SELECT count(*) FILTER (WHERE ssl) || '/' || count(*) FROM pg_stat_ssl
                 JOIN pg_stat_activity USING (pid) WHERE application_name = '{name}'"
            ),
        )
        .expect("pg_stat_ssl")
    };
    let require = open("t_require", "sslmode=require").expect("require: no certificate check");
    assert_eq!(seen("t_require", &require), "1/1");
    let full = open(
        "t_full",
        &format!("sslmode=verify-full&sslrootcert={}", ca.display()),
    )
    .expect("verify-full against the issuing CA");
    assert_eq!(seen("t_full", &full), "1/1");
    let plain = open("t_plain", "sslmode=disable").expect("disable");
    assert_eq!(seen("t_plain", &plain), "0/1");
    // Against the system's roots the test CA is unknown: refused, not downgraded.
    let err = open("t_bad", "sslmode=verify-full")
        .err()
        .expect("unknown issuer");
    assert!(matches!(err, StoreError::Unreachable { .. }), "{err}");
}

#[test]
fn failure_streaks_and_remembered_listings() {
    use crate::extract::detect::SelectorSet;
    use crate::heal::{ListingMemory, MemoryKind, RememberedListing};
    for (name, s, _dir) in backends("heal") {
        let streak = s.record_failure("f", "HTTP 503", ts(100), None).expect("1");
        assert_eq!(
            (streak.failures, streak.since),
            (1, Some(ts(100))),
            "{name}"
        );
        let streak = s.record_failure("f", "HTTP 502", ts(200), None).expect("2");
        assert_eq!(
            (streak.failures, streak.since),
            (2, Some(ts(100))),
            "{name}: start stays"
        );
        assert_eq!(
            s.feed_state("f").expect("state").failing_since,
            Some(ts(100))
        );
        s.commit(&commit("f", &[], 300)).expect("success");
        let st = s.feed_state("f").expect("state");
        assert_eq!(
            (st.failures, st.failing_since),
            (0, None),
            "{name}: streak ended"
        );
        let streak = s.record_failure("f", "HTTP 404", ts(400), None).expect("3");
        assert_eq!(streak.since, Some(ts(400)), "{name}: a new streak");

        assert_eq!(s.listing_memory("f").expect("read"), None, "{name}");
        let mut m = ListingMemory {
            config_key: "k1".into(),
            kind: MemoryKind::Pinned,
            listing: RememberedListing::Selectors(SelectorSet {
                card: "li.card".into(),
                title: "h3".into(),
                ..SelectorSet::default()
            }),
            since: ts(100),
            broken: None,
        };
        s.remember_listing("f", &m).expect("save");
        assert_eq!(
            s.listing_memory("f").expect("read"),
            Some(m.clone()),
            "{name}"
        );
        m.kind = MemoryKind::Healed;
        m.broken = Some("div.old".into());
        s.remember_listing("f", &m).expect("replace");
        assert_eq!(
            s.begin_feed("f", "k").expect("start").memory,
            Some(m),
            "{name}"
        );
        let c = s.check().expect("check");
        let f = c.feeds.iter().find(|f| f.feed == "f").expect("listed");
        assert_eq!(
            f.listing.as_ref().map(|l| l.0.as_str()),
            Some("healed"),
            "{name}"
        );
        s.forget_listing("f").expect("forget");
        assert_eq!(s.listing_memory("f").expect("read"), None, "{name}");

        let items = [item("https://e/a", 1), item("https://e/b", 2)];
        s.commit(&commit("g", &items, 5)).expect("commit");
        let ids = s.item_ids("g").expect("ids");
        assert_eq!(ids.len(), 2, "{name}");
        assert!(
            ids.contains("https://e/a") && ids.contains("https://e/b"),
            "{name}"
        );
    }
}
