//! `scifeed serve` over real HTTP: the process is started by the test on 127.0.0.1 with a
//! free port, crawls pages from test servers on loopback, and is asked with a real client.
//! Every header rule (ETag, Last-Modified, 304, HEAD, codings, Vary, Cache-Control,
//! Content-Type), OPML, health, metrics, path escapes, the token, limits, SIGTERM, a change
//! on a page reaching the served feed by itself, and alerts to a webhook receiver.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};

use crate::proc::{store_intact, wait_until};
use crate::serve_kit::{
    Http, demo_config, feed_titles, gunzip, raw, raw_status, serve, serve_config,
    site_gaining_a_card, unbrotli, wait_for_change,
};
use crate::server::{Reply, Request, TestServer};
use crate::{Sandbox, demo_page};

const TYPES: [(&str, &str); 3] = [
    ("rss", "application/rss+xml; charset=utf-8"),
    ("atom", "application/atom+xml; charset=utf-8"),
    ("json", "application/feed+json; charset=utf-8"),
];

/// A page server answering the demo page on every path (404 for robots.txt).
fn demo_site() -> TestServer {
    let page = demo_page();
    TestServer::start(move |req| {
        if req.path == "/robots.txt" {
            Reply::status(404)
        } else {
            Reply::ok(page.clone())
        }
    })
}

fn http_date(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc2822(&s.replace("GMT", "+0000"))
        .unwrap_or_else(|e| panic!("{s:?}: {e}"))
        .with_timezone(&Utc)
}

fn max_age(cache_control: &str) -> i64 {
    cache_control
        .split(',')
        .find_map(|p| p.trim().strip_prefix("max-age="))
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no max-age in {cache_control:?}"))
}

#[test]
fn feeds_carry_every_header_rule() {
    let site = demo_site();
    let sb = Sandbox::new();
    sb.config(&[("a", &site.url("/a"))], "robots = false");
    let s = serve(&sb, &["--every", "1h"]);
    let http = Http::new();
    s.wait_rounds(&http, 1, Duration::from_secs(30));
    for (ext, ctype) in TYPES {
        let url = s.url(&format!("a.{ext}"));
        let r = http.get(&url, &[]);
        assert_eq!(r.status, 200, "{ext}: {}", r.text());
        assert_eq!(r.header("content-type"), Some(ctype), "{ext}");
        // The served bytes are the file `run` writes.
        assert_eq!(r.body, sb.read(&format!("out/a.{ext}")), "{ext}");
        let etag = r.header("etag").expect("etag").to_string();
        assert!(
            etag.len() == 34 && etag.starts_with('"') && etag.ends_with('"'),
            "strong ETag: {etag}"
        );
        assert_eq!(r.header("vary"), Some("Accept-Encoding"));
        assert_eq!(r.header("content-encoding"), None);
        let lm = http_date(r.header("last-modified").expect("last-modified"));
        assert!(
            lm <= Utc::now() && lm > Utc::now() - chrono::Duration::minutes(2),
            "{lm}"
        );
        // Up to the next fetch: an hour, give or take the schedule's jitter.
        let age = max_age(r.header("cache-control").expect("cache-control"));
        assert!((3000..=4000).contains(&age), "max-age {age}");

        // 304 on If-None-Match (weak comparison), with the validators and no body.
        for tag in [etag.clone(), format!("W/{etag}"), format!("\"x\", {etag}")] {
            let nm = http.get(&url, &[("If-None-Match", tag.as_str())]);
            assert_eq!(nm.status, 304, "{tag}");
            assert!(nm.body.is_empty());
            assert_eq!(nm.header("etag"), Some(etag.as_str()));
            assert_eq!(nm.header("last-modified"), r.header("last-modified"));
            assert_eq!(nm.header("vary"), Some("Accept-Encoding"));
            assert!(
                nm.header("cache-control")
                    .is_some_and(|c| c.starts_with("max-age="))
            );
        }
        assert_eq!(
            http.get(&url, &[("If-None-Match", "\"other\"")]).status,
            200
        );
        // If-Modified-Since: not modified since the last change, modified since before it.
        let since = r.header("last-modified").expect("lm");
        assert_eq!(http.get(&url, &[("If-Modified-Since", since)]).status, 304);
        let before = httpdate_of(lm - chrono::Duration::seconds(1));
        assert_eq!(
            http.get(&url, &[("If-Modified-Since", &before)]).status,
            200
        );
        // If-None-Match wins over If-Modified-Since.
        let both = http.get(
            &url,
            &[("If-None-Match", "\"other\""), ("If-Modified-Since", since)],
        );
        assert_eq!(both.status, 200);

        // HEAD: the same headers, no body.
        let h = http.head(&url, &[]);
        assert_eq!(h.status, 200);
        assert!(h.body.is_empty());
        assert_eq!(h.header("etag"), Some(etag.as_str()));
        assert_eq!(h.header("content-type"), Some(ctype));
        assert_eq!(
            h.header("content-length"),
            Some(r.body.len().to_string().as_str())
        );

        // gzip and brotli by Accept-Encoding, each with its own strong tag.
        let gz = http.get(&url, &[("Accept-Encoding", "gzip")]);
        assert_eq!(gz.header("content-encoding"), Some("gzip"));
        assert_eq!(gz.header("vary"), Some("Accept-Encoding"));
        assert_eq!(gunzip(&gz.body), r.body);
        assert!(gz.body.len() < r.body.len() / 2);
        let gz_tag = gz.header("etag").expect("etag");
        assert_eq!(gz_tag, format!("{}-gzip\"", etag.trim_end_matches('"')));
        let br = http.get(&url, &[("Accept-Encoding", "gzip, deflate, br")]);
        assert_eq!(br.header("content-encoding"), Some("br"));
        assert_eq!(unbrotli(&br.body), r.body);
        let nm = http.get(
            &url,
            &[("Accept-Encoding", "gzip"), ("If-None-Match", gz_tag)],
        );
        assert_eq!(nm.status, 304);
        assert_eq!(nm.header("etag"), Some(gz_tag));
        let hgz = http.head(&url, &[("Accept-Encoding", "gzip")]);
        assert_eq!(
            hgz.header("content-length"),
            Some(gz.body.len().to_string().as_str())
        );
        assert!(hgz.body.is_empty());
    }
    // The HTML pages get ETags and 304s too, and no-cache (their status line changes).
    let page = http.get(&s.url("a.html"), &[]);
    assert_eq!(page.status, 200);
    assert_eq!(
        page.header("content-type"),
        Some("text/html; charset=utf-8")
    );
    assert_eq!(page.header("cache-control"), Some("no-cache"));
    assert_eq!(page.header("referrer-policy"), Some("no-referrer"));
    assert!(
        page.header("content-security-policy")
            .is_some_and(|c| c.contains("default-src 'none'"))
    );
    let tag = page.header("etag").expect("etag");
    assert_eq!(
        http.get(&s.url("a.html"), &[("If-None-Match", tag)]).status,
        304
    );
    let index = http.get(&s.url(""), &[("Accept-Encoding", "br")]);
    assert_eq!(index.header("content-encoding"), Some("br"));
    assert!(String::from_utf8_lossy(&unbrotli(&index.body)).contains("a.rss"));
    // Other methods are refused; unknown formats and ids are 404.
    assert_eq!(
        http.send(reqwest::Method::POST, &s.url("a.rss"), &[])
            .status,
        405
    );
    for path in ["a.xml", "b.rss", "a", "A.rss", "a.rss.bak", "favicon.ico"] {
        assert_eq!(http.get(&s.url(path), &[]).status, 404, "{path}");
    }
}

fn httpdate_of(t: DateTime<Utc>) -> String {
    t.format("%a, %d %b %Y %H:%M:%S GMT").to_string()
}

#[test]
fn a_change_on_the_page_reaches_the_served_feed_by_itself() {
    let (site, fetches) = site_gaining_a_card("2026/12/01/brand-new-story", "A Brand New Story");
    let sb = Sandbox::new();
    sb.config(&[("a", &site.url("/a"))], "robots = false");
    let s = serve(&sb, &["--every", "1s"]);
    let http = Http::new();
    s.wait_rounds(&http, 1, Duration::from_secs(30));
    let first = http.get(&s.url("a.json"), &[]);
    assert_eq!(feed_titles(&first).len(), 8);
    let etag = first.header("etag").expect("etag").to_string();
    // Nobody touches the server: the schedule fetches again, and the new item appears.
    let now = wait_for_change(&s, &http, &s.url("a.json"), &etag, Duration::from_secs(30));
    let titles = feed_titles(&now);
    assert_eq!(titles.len(), 9, "{titles:?}");
    assert!(
        titles.contains(&"A Brand New Story".to_string()),
        "{titles:?}"
    );
    assert_ne!(now.header("etag"), Some(etag.as_str()));
    let lm1 = http_date(first.header("last-modified").expect("lm"));
    let lm2 = http_date(now.header("last-modified").expect("lm"));
    assert!(lm2 > lm1, "{lm1} -> {lm2}");
    // Later rounds see the same page: the feed, its tag and Last-Modified stay (the
    // last change of the items, not the last render).
    let done = s.health(&http)["round"]["completed"].as_u64().expect("n");
    s.wait_rounds(&http, done + 2, Duration::from_secs(30));
    assert!(fetches.load(Ordering::SeqCst) >= 3);
    let later = http.get(&s.url("a.json"), &[]);
    assert_eq!(later.body, now.body);
    assert_eq!(later.header("etag"), now.header("etag"));
    assert_eq!(later.header("last-modified"), now.header("last-modified"));
}

#[test]
fn opml_health_and_metrics() {
    let page = demo_page();
    let site = TestServer::start(move |req| match req.path.as_str() {
        "/robots.txt" => Reply::robots("User-agent: *\nDisallow: /private/\n"),
        "/broken" => Reply::status(500),
        _ => Reply::ok(page.clone()),
    });
    let sb = Sandbox::new();
    sb.config(
        &[
            ("a", &site.url("/a")),
            ("b", &site.url("/broken")),
            ("c", &site.url("/private/c")),
        ],
        "",
    );
    let s = serve(&sb, &["--every", "1h"]);
    let http = Http::new();
    let health = s.wait_rounds(&http, 1, Duration::from_secs(30));

    // OPML parsed back: one outline per feed, linking the served feeds and their sources.
    let r = http.get(&s.url("feeds.opml"), &[]);
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some("text/x-opml; charset=utf-8"));
    let outlines = parse_opml(&r.body);
    assert_eq!(
        outlines,
        vec![
            (
                "Feed a".to_string(),
                s.url("a.rss"),
                "https://www.demo.scifeed.example/".to_string()
            ),
            (
                "Feed b".to_string(),
                s.url("b.rss"),
                "https://www.demo.scifeed.example/".to_string()
            ),
            (
                "Feed c".to_string(),
                s.url("c.rss"),
                "https://www.demo.scifeed.example/".to_string()
            ),
        ]
    );
    let atom = parse_opml(&http.get(&s.url("feeds.opml?format=atom"), &[]).body);
    assert!(
        atom.iter().all(|(_, x, _)| x.ends_with(".atom")),
        "{atom:?}"
    );
    assert_eq!(http.get(&s.url("feeds.opml?format=xml"), &[]).status, 400);
    // The OPML's feed URLs work.
    assert_eq!(http.get(&outlines[0].1, &[]).status, 200);

    // Health: each feed's status, last success and consecutive failures.
    assert_eq!(
        health["status"], "ok",
        "one failure is not failing yet: {health:#}"
    );
    let feeds = health["feeds"].as_array().expect("feeds");
    let by_id = |id: &str| feeds.iter().find(|f| f["id"] == id).expect(id).clone();
    let a = by_id("a");
    assert_eq!(
        (a["status"].as_str(), a["items"].as_u64()),
        (Some("ok"), Some(8))
    );
    assert_eq!(a["consecutive_failures"], 0);
    assert!(
        a["last_success"]
            .as_str()
            .is_some_and(|t| t.starts_with("20"))
    );
    let b = by_id("b");
    assert_eq!(b["consecutive_failures"], 1);
    assert_eq!(b["last_success"], serde_json::Value::Null);
    assert!(
        b["last_error"]
            .as_str()
            .is_some_and(|e| e.contains("HTTP 500")),
        "{b}"
    );
    assert!(
        b["status_text"]
            .as_str()
            .is_some_and(|t| t.contains("the last fetch failed")),
        "{b}"
    );
    let c = by_id("c");
    assert!(
        c["last_error"]
            .as_str()
            .is_some_and(|e| e.contains("disallowed by")),
        "{c}"
    );
    // A feed never fetched successfully has no file to serve yet.
    let none = http.get(&s.url("b.rss"), &[]);
    assert_eq!(none.status, 503);
    assert!(none.header("retry-after").is_some());
    // Its page says why.
    let page = http.get(&s.url("b.html"), &[]).text();
    assert!(page.contains("HTTP 500"), "{page}");

    http.get(&s.url("nope"), &[]);
    http.get(&s.url("nope2"), &[]);
    let r = http.get(&s.url("metrics"), &[("Accept-Encoding", "gzip")]);
    assert_eq!(r.status, 200);
    assert_eq!(
        r.header("content-type"),
        Some("text/plain; version=0.0.4; charset=utf-8")
    );
    assert_eq!(
        r.header("content-encoding"),
        Some("gzip"),
        "compressed by tower-http"
    );
    let text = String::from_utf8(gunzip(&r.body)).expect("utf-8");
    let has = |line: &str| text.lines().any(|l| l == line);
    for line in [
        "scifeed_feed_items{feed=\"a\"} 8",
        "scifeed_feed_consecutive_failures{feed=\"b\"} 1",
        "scifeed_fetch_outcomes_total{kind=\"updated\"} 1",
        "scifeed_fetch_outcomes_total{kind=\"failed_fetch\"} 1",
        "scifeed_fetch_outcomes_total{kind=\"robots_denied\"} 1",
        "scifeed_robots_denials_total 1",
        "scifeed_rounds_total 1",
        "scifeed_server_responses_total{status=\"404\"} 2",
        "scifeed_server_responses_total{status=\"503\"} 1",
        "scifeed_http_not_modified_share 0.0",
    ] {
        assert!(has(line), "{line} missing:\n{text}");
    }
    assert!(
        text.contains("scifeed_feed_last_success_seconds{feed=\"a\"} 1"),
        "{text}"
    );
    assert!(
        text.contains("scifeed_fetch_duration_seconds_bucket{le=\"+Inf\"} 3"),
        "{text}"
    );
    assert!(
        text.contains("# TYPE scifeed_fetch_duration_seconds histogram"),
        "{text}"
    );
}

/// (title, xmlUrl, htmlUrl) of every outline.
fn parse_opml(xml: &[u8]) -> Vec<(String, String, String)> {
    use quick_xml::events::Event;
    let mut reader = quick_xml::Reader::from_reader(xml);
    let mut out = Vec::new();
    let mut buf = Vec::new();
    let mut root = false;
    loop {
        match reader.read_event_into(&mut buf).expect("well-formed OPML") {
            Event::Eof => break,
            Event::Start(e) if e.name().as_ref() == b"opml" => {
                let v = e
                    .try_get_attribute("version")
                    .expect("attr")
                    .expect("version");
                assert_eq!(&*v.value, b"2.0");
                root = true;
            }
            Event::Empty(e) if e.name().as_ref() == b"outline" => {
                let attr = |k: &str| {
                    e.try_get_attribute(k)
                        .expect("attr")
                        .map(|a| {
                            a.decoded_and_normalized_value(
                                quick_xml::XmlVersion::Implicit1_0,
                                reader.decoder(),
                            )
                            .expect("value")
                            .into_owned()
                        })
                        .unwrap_or_else(|| panic!("outline without {k}"))
                };
                out.push((attr("title"), attr("xmlUrl"), attr("htmlUrl")));
            }
            _ => {}
        }
        buf.clear();
    }
    assert!(root, "no <opml version=\"2.0\">");
    out
}

#[test]
fn no_path_reaches_the_filesystem() {
    let site = demo_site();
    let sb = Sandbox::new();
    sb.config(&[("a", &site.url("/a"))], "robots = false");
    sb.write("secret.txt", "TOP SECRET");
    let s = serve(&sb, &["--every", "1h"]);
    let http = Http::new();
    s.wait_rounds(&http, 1, Duration::from_secs(30));
    let addr = s.addr();
    let dir = sb.dir.path().display().to_string();
    let targets = [
        "/../state.db".to_string(),
        "/%2e%2e/state.db".into(),
        "/%2E%2E%2Fstate.db".into(),
        "/..%2fstate.db".into(),
        "/..%5cstate.db".into(),
        "/.%2e/.%2e/scifeed.toml".into(),
        "/a.rss/../../state.db".into(),
        "/out/a.rss".into(),
        "/out%2fa.rss".into(),
        "/state.db".into(),
        "/scifeed.toml".into(),
        "/secret.txt".into(),
        "//etc/passwd".into(),
        "/etc/passwd".into(),
        format!("/{dir}/state.db"),
        format!("/{}", dir.replace('/', "%2f")),
        format!("{dir}/state.db"),
        format!("http://{addr}/../state.db"),
        "/a.rss%00.html".into(),
        "/a.rss;.db".into(),
    ];
    for t in &targets {
        let (code, answer) = raw_status(&addr, t);
        assert!(matches!(code, 400 | 404), "{t}: {answer}");
        for leak in ["SQLite format", "TOP SECRET", "root:", "[settings]"] {
            assert!(!answer.contains(leak), "{t} leaked {leak}: {answer}");
        }
    }
    // The real thing still works over a raw connection, percent-encoded or not: names are
    // looked up among the feeds, whatever their spelling.
    for t in ["/a.rss", "/%61.rss", "/a%2Erss"] {
        let (code, answer) = raw_status(&addr, t);
        assert_eq!(code, 200, "{t}: {answer}");
        assert!(answer.contains("<rss"));
    }
}

#[test]
fn a_token_guards_every_path_and_keys_the_links() {
    let site = demo_site();
    let sb = Sandbox::new();
    let token = "t0ken-with+&odd=chars";
    sb.config_ext(
        &[("a", &site.url("/a"), "")],
        "robots = false",
        &format!("[serve]\ntoken = \"{token}\"\n"),
    );
    let mut s = serve(&sb, &["--every", "1h"]);
    let key = "?key=t0ken-with%2B%26odd%3Dchars";
    s.key = key.to_string();
    let http = Http::new();
    s.wait_rounds(&http, 1, Duration::from_secs(30));
    for path in [
        "",
        "a.rss",
        "a.html",
        "feeds.opml",
        "health",
        "metrics",
        "nope",
    ] {
        let r = http.get(&s.url(path), &[]);
        assert_eq!(r.status, 401, "{path}");
        assert_eq!(
            r.header("www-authenticate"),
            Some("Bearer realm=\"scifeed\"")
        );
        assert!(!r.text().contains("Feed a"));
        assert_eq!(
            http.get(&s.url(&format!("{path}?key=wrong-token-123456")), &[])
                .status,
            401
        );
        let bearer = format!("Bearer {token}");
        let ok = http.get(&s.url(path), &[("Authorization", bearer.as_str())]);
        assert_eq!(ok.status, if path == "nope" { 404 } else { 200 }, "{path}");
        let keyed = http.get(&s.url(&format!("{path}{key}")), &[]);
        assert_eq!(keyed.status, ok.status, "{path}");
    }
    let feed = http.get(&s.url(&format!("a.rss{key}")), &[]);
    assert!(
        feed.header("cache-control")
            .is_some_and(|c| c.starts_with("private, max-age="))
    );
    let index = http.get(&s.url(key), &[]).text();
    for link in [
        "a.rss",
        "a.atom",
        "a.json",
        "a.html",
        "feeds.opml",
        "health",
    ] {
        let keyed = format!("href=\"{link}{}\"", key.replace('&', "&amp;"));
        assert!(index.contains(&keyed), "{keyed} in\n{index}");
    }
    let opml = parse_opml(&http.get(&s.url(&format!("feeds.opml{key}")), &[]).body);
    assert_eq!(opml[0].1, s.url(&format!("a.rss{key}")));
    assert_eq!(
        http.get(&opml[0].1, &[]).status,
        200,
        "keyed OPML links work"
    );
}

#[test]
fn sigterm_stops_accepting_and_lets_the_round_finish_its_feeds() {
    let page = demo_page();
    let seen = Arc::new(Mutex::new(0usize));
    let s2 = seen.clone();
    // Feed b's page is slow, so the first round is still running when the signal comes.
    let site = TestServer::start(move |req: &Request| {
        if req.path == "/robots.txt" {
            return Reply::status(404);
        }
        *s2.lock().expect("count") += 1;
        let r = Reply::ok(page.clone());
        if req.path == "/b" {
            r.delayed(Duration::from_millis(4000))
        } else {
            r
        }
    });
    let sb = Sandbox::new();
    sb.config(
        &[("a", &site.url("/a")), ("b", &site.url("/b"))],
        "robots = false\nconcurrency = 2",
    );
    let s = serve(&sb, &["--every", "1h"]);
    let http = Http::new();
    wait_until(Duration::from_secs(20), "feed a served", || {
        http.get(&s.url("a.rss"), &[]).status == 200
    });
    assert_eq!(
        s.health(&http)["round"]["running"],
        true,
        "b is still fetching"
    );
    let addr = s.addr();
    let signalled = Instant::now();
    s.signal("TERM");
    // New connections are refused at once, while b finishes.
    wait_until(Duration::from_secs(2), "the listener closed", || {
        std::net::TcpStream::connect(&addr).is_err()
    });
    let done = s.wait(Duration::from_secs(15));
    assert_eq!(done.status.code(), Some(0), "{}", done.stderr);
    assert!(
        signalled.elapsed() < Duration::from_secs(10),
        "{:?}",
        signalled.elapsed()
    );
    // The feed in progress was finished as `run` finishes it, its files complete.
    let b = crate::read_rss(&sb.path("out/b.rss"));
    assert_eq!(b.items().len(), 8);
    assert_eq!(
        *seen.lock().expect("count"),
        2,
        "no round started after the signal"
    );
    store_intact(&sb);
}

#[test]
fn alerts_reach_a_webhook_when_a_feed_fails_and_recovers() {
    let page = demo_page();
    let broken = Arc::new(Mutex::new(true));
    let b2 = broken.clone();
    let site = TestServer::start(move |req| {
        if req.path == "/robots.txt" {
            Reply::status(404)
        } else if *b2.lock().expect("flag") {
            Reply::status(503)
        } else {
            Reply::ok(page.clone())
        }
    });
    // The receiver refuses its first delivery: the alert must be retried.
    let hook = Sink::start(1);
    let sb = Sandbox::new();
    sb.config_ext(
        &[("a", &site.url("/a"), "")],
        "robots = false\nretries = 0",
        &format!(
            "[serve]\nnotify_url = \"http://{}/alerts\"\nnotify_after = 2\n",
            hook.addr
        ),
    );
    let s = serve(&sb, &["--every", "1s"]);
    wait_until(Duration::from_secs(30), "the failing alert", || {
        !hook.bodies().is_empty()
    });
    let fetches_when_failing = site.page_hits().len();
    *broken.lock().expect("flag") = false;
    wait_until(Duration::from_secs(30), "the recovered alert", || {
        hook.bodies().len() >= 2
    });
    let bodies = hook.bodies();
    assert_eq!(
        hook.requests(),
        3,
        "one refused delivery retried, no duplicates"
    );
    let alert =
        |i: usize| -> serde_json::Value { serde_json::from_str(&bodies[i]).expect("JSON alert") };
    let failing = alert(0);
    assert_eq!(failing["event"], "failing", "{failing}");
    assert_eq!(failing["feed"], "a");
    assert_eq!(failing["title"], "Feed a");
    assert_eq!(
        failing["consecutive_failures"], 2,
        "after notify_after failures"
    );
    assert!(
        failing["error"]
            .as_str()
            .is_some_and(|e| e.contains("HTTP 503")),
        "{failing}"
    );
    assert_eq!(failing["page"], s.url("a.html"));
    assert_eq!(failing["source"], site.url("/a"));
    assert_eq!(fetches_when_failing, 2, "alerted at the second failure");
    let recovered = alert(1);
    assert_eq!(recovered["event"], "recovered", "{recovered}");
    assert_eq!(recovered["consecutive_failures"], 0);
    assert!(recovered["last_success"].as_str().is_some());
    assert_eq!(bodies.len(), 2, "{bodies:?}");
    let http = Http::new();
    assert_eq!(s.health(&http)["feeds"][0]["status"], "ok");
}

/// A webhook receiver on 127.0.0.3 that keeps the bodies it gets and refuses (503) the
/// first `refuse` requests. It stops after 90 s.
struct Sink {
    addr: String,
    bodies: Arc<Mutex<Vec<String>>>,
    requests: Arc<AtomicUsize>,
}

impl Sink {
    fn start(refuse: usize) -> Sink {
        use std::io::{BufRead, BufReader, Read, Write};
        let listener = std::net::TcpListener::bind("127.0.0.3:0").expect("bind");
        let addr = listener.local_addr().expect("addr").to_string();
        listener.set_nonblocking(true).expect("nonblocking");
        let bodies = Arc::new(Mutex::new(Vec::new()));
        let requests = Arc::new(AtomicUsize::new(0));
        let (b, n) = (bodies.clone(), requests.clone());
        std::thread::spawn(move || {
            let started = Instant::now();
            while started.elapsed() < Duration::from_secs(90) {
                let Ok((conn, _)) = listener.accept() else {
                    std::thread::sleep(Duration::from_millis(5));
                    continue;
                };
                let _ = conn.set_nonblocking(false);
                let _ = conn.set_read_timeout(Some(Duration::from_secs(5)));
                let mut r = BufReader::new(conn.try_clone().expect("clone"));
                let mut len = 0;
                let mut line = String::new();
                let _ = r.read_line(&mut line);
                let post = line.starts_with("POST /alerts ");
                loop {
                    let mut h = String::new();
                    if r.read_line(&mut h).unwrap_or(0) == 0 || h.trim().is_empty() {
                        break;
                    }
                    if let Some((k, v)) = h.split_once(':') {
                        if k.eq_ignore_ascii_case("content-length") {
                            len = v.trim().parse().unwrap_or(0);
                        }
                        if k.eq_ignore_ascii_case("content-type") {
                            assert_eq!(v.trim(), "application/json");
                        }
                    }
                }
                let mut body = vec![0; len];
                let _ = r.read_exact(&mut body);
                let mut w = conn;
                if n.fetch_add(1, Ordering::SeqCst) < refuse || !post {
                    let _ = w.write_all(
                        b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                    );
                    continue;
                }
                b.lock()
                    .expect("bodies")
                    .push(String::from_utf8_lossy(&body).into_owned());
                let _ = w.write_all(b"HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n");
            }
        });
        Sink {
            addr,
            bodies,
            requests,
        }
    }

    fn bodies(&self) -> Vec<String> {
        self.bodies.lock().expect("bodies").clone()
    }

    fn requests(&self) -> usize {
        self.requests.load(Ordering::SeqCst)
    }
}

#[test]
fn limits_on_headers_slow_clients_and_connections() {
    let site = demo_site();
    let sb = Sandbox::new();
    sb.config_ext(
        &[("a", &site.url("/a"), "")],
        "robots = false",
        "[serve]\nmax_connections = 2\n",
    );
    let s = serve(&sb, &["--every", "1h"]);
    let http = Http::new();
    s.wait_rounds(&http, 1, Duration::from_secs(30));
    let addr = s.addr();
    // Headers beyond 16 KiB: 431.
    let big = format!(
        "GET /a.rss HTTP/1.1\r\nHost: x\r\nX-Big: {}\r\nConnection: close\r\n\r\n",
        "y".repeat(20_000)
    );
    let answer = raw(&addr, &big);
    assert!(
        answer.starts_with("HTTP/1.1 431"),
        "{}",
        &answer[..answer.len().min(200)]
    );

    // A client that never finishes its headers is cut off after the header timeout.
    use std::io::{Read, Write};
    let mut slow = std::net::TcpStream::connect(&addr).expect("connect");
    slow.write_all(b"GET /a.rss HTTP/1.1\r\nHost: x\r\n")
        .expect("send");
    slow.set_read_timeout(Some(Duration::from_secs(20)))
        .expect("timeout");
    let t0 = Instant::now();
    let mut buf = [0u8; 512];
    let n = slow.read(&mut buf).unwrap_or(0);
    let cut = t0.elapsed();
    assert!(
        cut >= Duration::from_secs(8) && cut < Duration::from_secs(15),
        "closed after {cut:?} ({n} bytes)"
    );
    drop(slow);

    // Two connections held open: a third waits until one goes away.
    let hold1 = std::net::TcpStream::connect(&addr).expect("connect");
    let hold2 = std::net::TcpStream::connect(&addr).expect("connect");
    std::thread::sleep(Duration::from_millis(200));
    let mut third = std::net::TcpStream::connect(&addr).expect("the kernel queues it");
    third
        .write_all(b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .expect("send");
    third
        .set_read_timeout(Some(Duration::from_millis(700)))
        .expect("timeout");
    assert!(
        third.read(&mut buf).is_err(),
        "served beyond max_connections"
    );
    drop(hold1);
    third
        .set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    let n = third.read(&mut buf).expect("served once a slot is free");
    assert!(String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 200"));
    drop(hold2);
}

#[test]
fn demo_config_serves_offline() {
    let sb = Sandbox::new();
    let cfg = demo_config(&sb);
    let s = serve_config(&sb, &cfg, &[]);
    let http = Http::new();
    let h = s.wait_rounds(&http, 1, Duration::from_secs(30));
    assert_eq!(h["status"], "ok", "{h:#}");
    for (id, n) in [("the-scientist-demo", 8), ("lab-notes-demo", 5)] {
        let r = http.get(&s.url(&format!("{id}.rss")), &[]);
        assert_eq!(r.status, 200);
        let ch = rss::Channel::read_from(&r.body[..]).expect("rss");
        assert_eq!(ch.items().len(), n);
        assert!(sb.path(&format!("out/{id}.atom")).exists());
    }
    // Without --every and [settings] every: every 30 minutes.
    assert!(s.stdout().contains("every 30m"), "{}", s.stdout());
    let index = http.get(&s.url(""), &[]).text();
    assert!(index.contains("The Scientist (demo)") && index.contains("Lab Notes (demo)"));
}

#[test]
fn serve_waits_for_a_run_and_a_run_is_refused_while_serve_holds_the_state() {
    let site = demo_site();
    let sb = Sandbox::new();
    sb.config(&[("a", &site.url("/a"))], "robots = false");
    // Hold the state as a run would.
    let lock = scifeed::store::lock(&sb.path("state.db"), false).expect("lock");
    let s = serve(&sb, &["--every", "1h"]);
    std::thread::sleep(Duration::from_millis(800));
    assert!(
        site.page_hits().is_empty(),
        "no round while another run holds the state"
    );
    assert!(
        s.stderr().contains("another scifeed run is using"),
        "{}",
        s.stderr()
    );
    drop(lock);
    let http = Http::new();
    s.wait_rounds(&http, 1, Duration::from_secs(30));
    let run = sb.run(&[]);
    let out = run.get_output();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("another scifeed run is using the state")
    );
}

#[test]
fn opml_command_writes_the_list_for_static_hosting() {
    let sb = Sandbox::new();
    let cfg = sb.config(
        &[
            ("a", "https://www.demo.scifeed.example/a"),
            ("b", "https://www.demo.scifeed.example/b"),
        ],
        "",
    );
    let done = crate::scifeed()
        .arg("opml")
        .arg("-c")
        .arg(&cfg)
        .assert()
        .success();
    let out = String::from_utf8_lossy(&done.get_output().stdout).to_string();
    assert!(out.contains("feeds.opml: 2 feed(s)"), "{out}");
    let list = parse_opml(&sb.read("out/feeds.opml"));
    assert_eq!(
        list,
        vec![
            (
                "Feed a".to_string(),
                "https://feeds.example.org/a.rss".to_string(),
                "https://www.demo.scifeed.example/".to_string()
            ),
            (
                "Feed b".to_string(),
                "https://feeds.example.org/b.rss".to_string(),
                "https://www.demo.scifeed.example/".to_string()
            ),
        ]
    );
    let done = crate::scifeed()
        .args(["opml", "--format", "json", "-o", "-", "-c"])
        .arg(&cfg)
        .assert()
        .success();
    let list = parse_opml(&done.get_output().stdout);
    assert_eq!(list[1].1, "https://feeds.example.org/b.json");

    // Absolute URLs need public_url; a format that is not written has no files to link.
    let text = std::fs::read_to_string(&cfg).expect("config");
    sb.write(
        "scifeed.toml",
        &text.replace("public_url = \"https://feeds.example.org/\"\n", ""),
    );
    let failed = crate::scifeed()
        .arg("opml")
        .arg("-c")
        .arg(&cfg)
        .assert()
        .code(2);
    let err = String::from_utf8_lossy(&failed.get_output().stderr).to_string();
    assert!(err.contains("`[settings] public_url` is not set"), "{err}");
    sb.write(
        "scifeed.toml",
        &text.replace("[settings]\n", "[settings]\nformats = [\"atom\"]\n"),
    );
    let failed = crate::scifeed()
        .args(["opml", "--format", "rss", "-c"])
        .arg(&cfg)
        .assert()
        .code(2);
    let err = String::from_utf8_lossy(&failed.get_output().stderr).to_string();
    assert!(
        err.contains("format `rss` is not in `[settings] formats`"),
        "{err}"
    );
}

#[test]
fn a_feed_that_heals_is_shown_healed_and_alerted() {
    let fetches = Arc::new(AtomicUsize::new(0));
    let f = fetches.clone();
    let page = demo_page();
    // After the first fetch the site is redesigned: every class renamed, same articles.
    let redesigned = page
        .replace("ArticleCard", "StoryTile")
        .replace("ArticleList", "StoryGrid");
    let site = TestServer::start(move |req| {
        if req.path == "/robots.txt" {
            Reply::status(404)
        } else if f.fetch_add(1, Ordering::SeqCst) == 0 {
            Reply::ok(page.clone())
        } else {
            Reply::ok(redesigned.clone())
        }
    });
    let hook = Sink::start(0);
    let sb = Sandbox::new();
    sb.config_ext(
        &[("a", &site.url("/a"), "")],
        "robots = false",
        &format!("[serve]\nnotify_url = \"http://{}/alerts\"\n", hook.addr),
    );
    let s = serve(&sb, &["--every", "1s"]);
    let http = Http::new();
    wait_until(Duration::from_secs(30), "the healed alert", || {
        !hook.bodies().is_empty()
    });
    let alert: serde_json::Value = serde_json::from_str(&hook.bodies()[0]).expect("JSON");
    assert_eq!(alert["event"], "healed", "{alert}");
    assert_eq!(alert["feed"], "a");
    let h = s.health(&http);
    let feed = &h["feeds"][0];
    assert_eq!(feed["status"], "healed", "{h:#}");
    assert!(
        feed["status_text"].as_str().is_some_and(
            |t| t.contains("`section.ArticleList > article.ArticleCard` stopped matching")
        ),
        "{feed}"
    );
    assert_eq!(feed["items"], 8, "the same articles, nothing duplicated");
    let index = http.get(&s.url(""), &[]).text();
    assert!(index.contains("st-healed\">healed</span>"), "{index}");
    // Still healed, and alerted once, on the next rounds.
    let done = h["round"]["completed"].as_u64().expect("n");
    s.wait_rounds(&http, done + 1, Duration::from_secs(30));
    assert_eq!(s.health(&http)["feeds"][0]["status"], "healed");
    assert_eq!(hook.bodies().len(), 1, "{:?}", hook.bodies());
}
