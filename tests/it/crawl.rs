//! The crawler against real HTTP servers on loopback: conditional GET, retries, limits,
//! robots.txt, politeness, charsets, pagination and bot protection. Timing is measured at the
//! server, with generous tolerances.

use std::io::Write as _;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::server::{BodyMode, Reply, Request, TestServer};
use crate::{Sandbox, card_html, demo_page, page_with, read_rss};

const FORMATS: [&str; 3] = ["rss", "atom", "json"];

fn stdout(a: &assert_cmd::assert::Assert) -> String {
    String::from_utf8_lossy(&a.get_output().stdout).to_string()
}

fn files(sb: &Sandbox, id: &str) -> Vec<Vec<u8>> {
    FORMATS
        .iter()
        .map(|e| sb.read(&format!("out/{id}.{e}")))
        .collect()
}

fn titles(sb: &Sandbox, id: &str) -> Vec<String> {
    read_rss(&sb.path(&format!("out/{id}.rss")))
        .items()
        .iter()
        .map(|i| i.title().unwrap_or_default().to_string())
        .collect()
}

/// A site whose answers can be switched between runs: `None` serves the demo page (and a
/// 404 robots.txt), `Some(f)` lets `f` answer.
type Fault = Arc<dyn Fn(&Request) -> Reply + Send + Sync>;

struct Site {
    srv: TestServer,
    fault: Arc<Mutex<Option<Fault>>>,
}

impl Site {
    fn start() -> Site {
        let page = demo_page();
        let fault: Arc<Mutex<Option<Fault>>> = Arc::new(Mutex::new(None));
        let f2 = fault.clone();
        let srv = TestServer::start(move |req| {
            if let Some(f) = f2.lock().expect("fault").as_ref() {
                return f(req);
            }
            if req.path == "/robots.txt" {
                Reply::status(404)
            } else {
                Reply::ok(page.clone())
            }
        });
        Site { srv, fault }
    }

    fn set(&self, f: impl Fn(&Request) -> Reply + Send + Sync + 'static) {
        *self.fault.lock().expect("fault") = Some(Arc::new(f));
    }
}

/// Runs once healthy, then once with `fault` answering; the second run must fail with every
/// `expect` text in its output and leave the feed's three files byte-identical. Returns the
/// site (its request log covers both runs) and the failed run's output.
fn fault_case(
    settings: &str,
    fault: impl Fn(&Request) -> Reply + Send + Sync + 'static,
    expect: &[&str],
) -> (Site, String) {
    let site = Site::start();
    let sb = Sandbox::new();
    sb.config(&[("ts", &site.srv.url("/news"))], settings);
    sb.run(&["--now", "2026-11-26T10:00:00Z"]).success();
    let before = files(&sb, "ts");
    site.set(fault);
    let out = stdout(&sb.run(&["--now", "2026-11-26T11:00:00Z"]).code(1));
    for e in expect {
        assert!(out.contains(e), "expected {e:?} in:\n{out}");
    }
    assert_eq!(
        files(&sb, "ts"),
        before,
        "files byte-identical after: {out}"
    );
    (site, out)
}

fn page_hits_after_first_run(site: &Site) -> Vec<Request> {
    // The first (healthy) run made exactly one page request.
    site.srv.page_hits().into_iter().skip(1).collect()
}

// ---------------------------------------------------------------- conditional GET

#[test]
fn not_modified_run_sends_validators_and_writes_nothing() {
    let page = demo_page();
    let srv = TestServer::start(move |req| {
        let fresh = req.header("if-none-match") == Some("\"v1\"")
            || req.header("if-modified-since") == Some("Wed, 25 Nov 2026 08:00:00 GMT");
        match req.path.as_str() {
            "/robots.txt" => Reply::status(404),
            _ if fresh => Reply::status(304).header("ETag", "\"v1\""),
            _ => Reply::ok(page.clone())
                .header("ETag", "\"v1\"")
                .header("Last-Modified", "Wed, 25 Nov 2026 08:00:00 GMT"),
        }
    });
    let sb = Sandbox::new();
    sb.config(&[("ts", &srv.url("/news"))], "");
    sb.run(&["--now", "2026-11-26T10:00:00Z"]).success();
    let first = srv.hits("/news");
    assert_eq!(first.len(), 1);
    assert_eq!(first[0].method, "GET");
    assert_eq!(
        first[0].header("if-none-match"),
        None,
        "nothing to validate yet"
    );
    let before = files(&sb, "ts");
    let mtime = || {
        FORMATS.map(|e| {
            std::fs::metadata(sb.path(&format!("out/ts.{e}")))
                .and_then(|m| m.modified())
                .expect("mtime")
        })
    };
    let m0 = mtime();
    std::thread::sleep(Duration::from_millis(20));
    let out = stdout(&sb.run(&["--now", "2026-11-26T11:00:00Z"]).success());
    assert!(out.contains("not modified"), "{out}");
    assert!(out.contains("304"), "{out}");
    let hits = srv.hits("/news");
    assert_eq!(hits.len(), 2);
    assert_eq!(hits[1].header("if-none-match"), Some("\"v1\""));
    assert_eq!(
        hits[1].header("if-modified-since"),
        Some("Wed, 25 Nov 2026 08:00:00 GMT")
    );
    assert_eq!(files(&sb, "ts"), before);
    assert_eq!(mtime(), m0, "a 304 touches no file");
    // robots.txt came from the store's cache on the second run.
    assert_eq!(srv.hits("/robots.txt").len(), 1);
}

/// Regression: validators were kept per URL, so a second feed on the same page saw the first
/// feed's fingerprint, called the page "unchanged" and never got its items.
#[test]
fn feeds_sharing_a_page_each_get_their_items() {
    let site = Site::start();
    let sb = Sandbox::new();
    let url = site.srv.url("/news");
    sb.config(&[("first", &url), ("second", &url)], "concurrency = 1");
    sb.run(&[]).success();
    assert_eq!(titles(&sb, "first").len(), 8);
    assert_eq!(titles(&sb, "second").len(), 8);
}

#[test]
fn identical_body_without_validators_is_unchanged_and_writes_nothing() {
    let page = demo_page();
    let srv = TestServer::start(move |req| match req.path.as_str() {
        "/robots.txt" => Reply::status(404),
        _ => Reply::ok(page.clone()),
    });
    let sb = Sandbox::new();
    sb.config(&[("ts", &srv.url("/news"))], "");
    sb.run(&["--now", "2026-11-26T10:00:00Z"]).success();
    let m0 = std::fs::metadata(sb.path("out/ts.atom"))
        .and_then(|m| m.modified())
        .expect("mtime");
    std::thread::sleep(Duration::from_millis(20));
    let out = stdout(&sb.run(&["--now", "2026-11-26T11:00:00Z"]).success());
    assert!(out.contains("unchanged"), "{out}");
    let m1 = std::fs::metadata(sb.path("out/ts.atom"))
        .and_then(|m| m.modified())
        .expect("mtime");
    assert_eq!(m0, m1);
    assert_eq!(srv.hits("/news").len(), 2);
}

// ---------------------------------------------------------------- retries

#[test]
fn retry_after_on_429_is_honoured() {
    let page = demo_page();
    let n = Arc::new(AtomicUsize::new(0));
    let n2 = n.clone();
    let srv = TestServer::start(move |req| match req.path.as_str() {
        "/robots.txt" => Reply::status(404),
        _ if n2.fetch_add(1, Ordering::SeqCst) == 0 => {
            Reply::status(429).header("Retry-After", "1")
        }
        _ => Reply::ok(page.clone()),
    });
    let sb = Sandbox::new();
    sb.config(
        &[("ts", &srv.url("/news"))],
        "retries = 2\nretry_backoff_ms = 10",
    );
    sb.run(&[]).success();
    let t = srv.times("/news");
    assert_eq!(t.len(), 2, "one 429, one success");
    let gap = t[1] - t[0];
    assert!(
        gap >= Duration::from_millis(900),
        "waited {gap:?}, Retry-After: 1"
    );
    assert!(gap < Duration::from_secs(5), "waited {gap:?}");
    assert_eq!(read_rss(&sb.path("out/ts.rss")).items().len(), 8);
}

#[test]
fn retry_after_beyond_the_cap_gives_up_at_once() {
    let (site, _) = fault_case(
        "retries = 3\nretry_backoff_ms = 10\nretry_after_cap_secs = 5",
        |req| match req.path.as_str() {
            "/robots.txt" => Reply::status(404),
            _ => Reply::status(429).header("Retry-After", "3600"),
        },
        &[
            "HTTP 429 and the server asks to retry after 3600s",
            "`retry_after_cap_secs` (5s)",
        ],
    );
    assert_eq!(
        page_hits_after_first_run(&site).len(),
        1,
        "no pointless retry"
    );
}

#[test]
fn server_errors_are_retried_until_success() {
    let page = demo_page();
    let n = Arc::new(AtomicUsize::new(0));
    let n2 = n.clone();
    let srv = TestServer::start(move |req| match req.path.as_str() {
        "/robots.txt" => Reply::status(404),
        _ => match n2.fetch_add(1, Ordering::SeqCst) {
            0 => Reply::status(503),
            1 => Reply::status(500),
            _ => Reply::ok(page.clone()),
        },
    });
    let sb = Sandbox::new();
    sb.config(
        &[("ts", &srv.url("/news"))],
        "retries = 3\nretry_backoff_ms = 100",
    );
    let out = stdout(&sb.run(&[]).success());
    assert!(out.contains("1 ok, 0 failed"), "{out}");
    let t = srv.times("/news");
    assert_eq!(t.len(), 3);
    // Back-off: 50-100 ms, then 100-200 ms (equal jitter), measured at the server with
    // slack for arrival jitter on a loaded machine.
    assert!(t[1] - t[0] >= Duration::from_millis(30), "{t:?}");
    assert!(t[2] - t[1] >= Duration::from_millis(70), "{t:?}");
}

#[test]
fn persistent_server_errors_fail_after_the_retries_and_keep_files() {
    let (site, _) = fault_case(
        "retries = 2\nretry_backoff_ms = 20",
        |req| match req.path.as_str() {
            "/robots.txt" => Reply::status(404),
            _ => Reply::status(502),
        },
        &["/news: HTTP 502 (gave up after 3 attempts; `retries` in [settings])"],
    );
    assert_eq!(page_hits_after_first_run(&site).len(), 3);
}

#[test]
fn client_errors_are_not_retried() {
    let (site, out) = fault_case(
        "retries = 3\nretry_backoff_ms = 20",
        |req| match req.path.as_str() {
            "/robots.txt" => Reply::status(404),
            _ => Reply::status(410),
        },
        &["/news: HTTP 410"],
    );
    assert!(!out.contains("gave up"), "{out}");
    assert_eq!(page_hits_after_first_run(&site).len(), 1);
}

// ---------------------------------------------------------------- limits

#[test]
fn slow_server_times_out_with_the_setting_named() {
    let page = demo_page();
    let started = Instant::now();
    fault_case(
        "timeout_secs = 1",
        move |req| match req.path.as_str() {
            "/robots.txt" => Reply::status(404),
            _ => Reply::ok(page.clone()).delayed(Duration::from_secs(4)),
        },
        &[
            "/news: timed out: no complete answer within 1s",
            "`timeout_secs`",
        ],
    );
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "did not wait for the server"
    );
}

#[test]
fn trickling_body_hits_the_whole_request_timeout() {
    let page = demo_page();
    fault_case(
        "timeout_secs = 1",
        move |req| match req.path.as_str() {
            "/robots.txt" => Reply::status(404),
            _ => Reply::ok(page.clone()).mode(BodyMode::Trickle(Duration::from_millis(50))),
        },
        &["timed out: no complete answer within 1s"],
    );
}

#[test]
fn silent_server_hits_the_read_timeout() {
    let page = demo_page();
    fault_case(
        "timeout_secs = 10\nread_timeout_secs = 1",
        move |req| match req.path.as_str() {
            "/robots.txt" => Reply::status(404),
            _ => Reply::ok(page.clone()).delayed(Duration::from_secs(3)),
        },
        &["/news: timed out: no data for 1s", "`read_timeout_secs`"],
    );
}

#[test]
fn truncated_body_is_an_error() {
    let page = demo_page();
    let len = page.len();
    let (_, out) = fault_case(
        "",
        move |req| match req.path.as_str() {
            "/robots.txt" => Reply::status(404),
            _ => Reply::ok(page.clone()).mode(BodyMode::Truncate(1000)),
        },
        &["/news: connection broken mid-response"],
    );
    assert!(out.contains(&format!("of {len} bytes")), "{out}");
}

#[test]
fn redirect_loop_is_detected() {
    let (site, _) = fault_case(
        "",
        |req| match req.path.as_str() {
            "/robots.txt" => Reply::status(404),
            "/news" => Reply::redirect(302, "/a"),
            "/a" => Reply::redirect(301, "/b"),
            _ => Reply::redirect(307, "/news"),
        },
        &["/news: redirect loop: ", "/news -> ", "/a -> ", "/b -> "],
    );
    assert_eq!(page_hits_after_first_run(&site).len(), 3, "each hop once");
}

#[test]
fn redirect_chain_beyond_the_cap_fails_and_short_chains_work() {
    fault_case(
        "max_redirects = 2",
        |req| match req.path.as_str() {
            "/robots.txt" => Reply::status(404),
            p => {
                let n: u32 = p.trim_start_matches("/news").parse().unwrap_or(0);
                Reply::redirect(301, &format!("/news{}", n + 1))
            }
        },
        &["more than 2 redirects", "raise `max_redirects`"],
    );
    let page = demo_page();
    let srv = TestServer::start(move |req| match req.path.as_str() {
        "/robots.txt" => Reply::status(404),
        "/old" => Reply::redirect(301, "/news"),
        _ => Reply::ok(page.clone()),
    });
    let sb = Sandbox::new();
    sb.config(&[("ts", &srv.url("/old"))], "max_redirects = 2");
    sb.run(&[]).success();
    assert_eq!(srv.hits("/news").len(), 1);
}

#[test]
fn oversized_bodies_are_refused_declared_or_endless() {
    let big = "x".repeat(300 * 1024);
    fault_case(
        "max_body_bytes = 100000",
        move |req| match req.path.as_str() {
            "/robots.txt" => Reply::status(404),
            _ => Reply::ok(big.clone()),
        },
        &[
            "/news: body larger than 100000 bytes",
            "raise `max_body_bytes`",
        ],
    );
    fault_case(
        "max_body_bytes = 100000",
        |req| match req.path.as_str() {
            "/robots.txt" => Reply::status(404),
            _ => Reply::ok(Vec::new()).mode(BodyMode::Endless),
        },
        &["/news: body larger than 100000 bytes"],
    );
}

#[test]
fn gzip_and_brotli_bombs_stop_at_the_decompressed_cap() {
    let zeros = vec![b' '; 16 * 1024 * 1024];
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    gz.write_all(&zeros).expect("gzip");
    let gz = gz.finish().expect("gzip");
    let mut br = Vec::new();
    {
        let mut w = brotli::CompressorWriter::new(&mut br, 4096, 9, 22);
        w.write_all(&zeros).expect("brotli");
    }
    assert!(
        gz.len() < 100_000 && br.len() < 100_000,
        "bombs are small on the wire"
    );
    for (encoding, body) in [("gzip", gz), ("br", br)] {
        let (site, _) = fault_case(
            "max_body_bytes = 1048576",
            move |req| match req.path.as_str() {
                "/robots.txt" => Reply::status(404),
                _ => Reply::ok(body.clone()).header("Content-Encoding", encoding),
            },
            &["body larger than 1048576 bytes, counted after decompression"],
        );
        let hit = &page_hits_after_first_run(&site)[0];
        assert!(
            hit.header("accept-encoding")
                .unwrap_or("")
                .contains(encoding),
            "{encoding} offered"
        );
    }
}

#[test]
fn compressed_pages_are_decoded() {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(demo_page().as_bytes()).expect("gzip");
    let body = gz.finish().expect("gzip");
    let srv = TestServer::start(move |req| match req.path.as_str() {
        "/robots.txt" => Reply::status(404),
        _ => Reply::ok(body.clone()).header("Content-Encoding", "gzip"),
    });
    let sb = Sandbox::new();
    sb.config(&[("ts", &srv.url("/news"))], "");
    sb.run(&[]).success();
    assert_eq!(titles(&sb, "ts").len(), 8);
}

#[test]
fn max_cards_warning_names_the_setting() {
    let site = Site::start();
    let sb = Sandbox::new();
    sb.config(&[("ts", &site.srv.url("/news"))], "max_cards = 3");
    let out = sb.run(&["-v"]).success();
    let err = String::from_utf8_lossy(&out.get_output().stderr).to_string();
    assert!(
        err.contains("8 cards matched; only the first 3 were used"),
        "{err}"
    );
    assert!(err.contains("`max_cards`"), "{err}");
    assert_eq!(titles(&sb, "ts").len(), 3);
}

// ---------------------------------------------------------------- robots.txt

#[test]
fn robots_disallow_is_a_clear_error_and_robots_is_fetched_once_per_run() {
    let page = demo_page();
    let srv = TestServer::start(move |req| match req.path.as_str() {
        "/robots.txt" => {
            Reply::robots("User-agent: *\nDisallow: /\n\nUser-agent: scifeed\nDisallow: /private\n")
        }
        _ => Reply::ok(page.clone()),
    });
    let sb = Sandbox::new();
    sb.config(
        &[
            ("open1", &srv.url("/news")),
            ("open2", &srv.url("/news?page=1")),
            ("closed", &srv.url("/private/news")),
        ],
        "",
    );
    let out = stdout(&sb.run(&[]).code(1));
    assert!(out.contains("2 ok, 1 failed"), "{out}");
    assert!(
        out.contains(&format!(
            "error: feed \"closed\": {}: disallowed by {} for user-agent `scifeed`",
            srv.url("/private/news"),
            srv.url("/robots.txt")
        )),
        "{out}"
    );
    assert!(srv.hits("/private/news").is_empty(), "never fetched");
    assert_eq!(srv.hits("/robots.txt").len(), 1, "once per host and run");
    assert!(!sb.path("out/closed.rss").exists());
    // Cached in the store for the next run.
    sb.run(&[]).code(1);
    assert_eq!(srv.hits("/robots.txt").len(), 1, "served from the store");
}

#[test]
fn robots_user_agent_token_comes_from_the_configured_user_agent() {
    let page = demo_page();
    let srv = TestServer::start(move |req| match req.path.as_str() {
        "/robots.txt" => Reply::robots("User-agent: labbot\nDisallow: /\n"),
        _ => Reply::ok(page.clone()),
    });
    let sb = Sandbox::new();
    sb.config(
        &[("ts", &srv.url("/news"))],
        "user_agent = \"LabBot/2.0 (+https://lab.example/contact)\"",
    );
    let out = stdout(&sb.run(&[]).code(1));
    assert!(out.contains("for user-agent `labbot`"), "{out}");
}

#[test]
fn unreachable_robots_disallows_the_run_clearly_then_a_stale_copy_is_used() {
    let page = demo_page();
    let robots = Arc::new(Mutex::new(Reply::status(503)));
    let r2 = robots.clone();
    let srv = TestServer::start(move |req| match req.path.as_str() {
        "/robots.txt" => r2.lock().expect("robots").clone(),
        _ => Reply::ok(page.clone()),
    });
    let sb = Sandbox::new();
    sb.config(&[("ts", &srv.url("/news"))], "");
    let out = stdout(&sb.run(&["--now", "2026-11-26T10:00:00Z"]).code(1));
    assert!(
        out.contains(&format!(
            "{}: {} could not be read (HTTP 503); per RFC 9309 the site counts as disallowed",
            srv.url("/news"),
            srv.url("/robots.txt")
        )),
        "{out}"
    );
    assert!(srv.hits("/news").is_empty(), "page not fetched");
    // Not cached: the next run asks again, and a 404 allows everything.
    *robots.lock().expect("robots") = Reply::status(404);
    sb.run(&["--now", "2026-11-26T11:00:00Z"]).success();
    assert_eq!(srv.hits("/robots.txt").len(), 2);
    // Two days later the cached answer has expired; robots.txt fails again, and the stale
    // copy (RFC 9309 2.4) is used instead of disallowing.
    *robots.lock().expect("robots") = Reply::status(500);
    sb.run(&["--now", "2026-11-28T11:00:00Z"]).success();
    assert_eq!(srv.hits("/robots.txt").len(), 3);
    assert_eq!(srv.hits("/news").len(), 2);
}

#[test]
fn crawl_delay_spaces_requests_to_the_host() {
    let page = demo_page();
    let srv = TestServer::start(move |req| match req.path.as_str() {
        "/robots.txt" => Reply::robots("User-agent: *\nCrawl-delay: 1\n"),
        _ => Reply::ok(page.clone()),
    });
    let sb = Sandbox::new();
    sb.config(
        &[("a", &srv.url("/a")), ("b", &srv.url("/b"))],
        "concurrency = 4\nper_host = 2",
    );
    sb.run(&[]).success();
    let mut t: Vec<Duration> = srv.requests().iter().map(|r| r.at).collect();
    t.sort();
    assert_eq!(t.len(), 3, "robots.txt + two pages");
    for w in t.windows(2) {
        assert!(w[1] - w[0] >= Duration::from_millis(850), "gaps {t:?}");
    }
}

// ---------------------------------------------------------------- politeness

#[test]
fn min_interval_per_feed_and_per_host_table() {
    let page = demo_page();
    let p2 = page.clone();
    let a = TestServer::start_on("127.0.0.2", move |req| match req.path.as_str() {
        "/robots.txt" => Reply::status(404),
        _ => Reply::ok(page.clone()),
    });
    let b = TestServer::start_on("127.0.0.3", move |req| match req.path.as_str() {
        "/robots.txt" => Reply::status(404),
        _ => Reply::ok(p2.clone()),
    });
    let sb = Sandbox::new();
    sb.config_ext(
        &[
            ("a1", &a.url("/1"), "min_interval_ms = 250"),
            ("a2", &a.url("/2"), ""),
            ("a3", &a.url("/3"), ""),
            ("b1", &b.url("/1"), "min_interval_ms = 5000"),
            ("b2", &b.url("/2"), ""),
        ],
        "concurrency = 8\nrobots = false",
        "[hosts.\"127.0.0.3\"]\nmin_interval_ms = 300\n",
    );
    sb.run(&[]).success();
    // Configured 250 ms (a) and 300 ms (b); measured at the server, where connection set-up
    // and the accept loop add tens of milliseconds of jitter to each arrival on a busy machine.
    for (srv, min) in [(&a, 200), (&b, 250)] {
        let t: Vec<Duration> = srv.requests().iter().map(|r| r.at).collect();
        for w in t.windows(2) {
            assert!(w[1] - w[0] >= Duration::from_millis(min), "{t:?}");
            assert!(w[1] - w[0] < Duration::from_millis(min + 2000), "{t:?}");
        }
    }
}

#[test]
fn per_host_concurrency_is_never_exceeded_and_hosts_run_in_parallel() {
    let page = demo_page();
    let slow = Duration::from_millis(150);
    let mk = |ip: &str| {
        let page = page.clone();
        TestServer::start_on(ip, move |req| match req.path.as_str() {
            "/robots.txt" => Reply::status(404).delayed(slow),
            _ => Reply::ok(page.clone()).delayed(slow),
        })
    };
    let (a, b, c) = (mk("127.0.0.2"), mk("127.0.0.3"), mk("127.0.0.4"));
    let urls: Vec<(String, String)> = [(&a, "a"), (&b, "b"), (&c, "c")]
        .iter()
        .flat_map(|(s, n)| (0..6).map(move |i| (format!("{n}{i}"), s.url(&format!("/{i}")))))
        .collect();
    let feeds: Vec<(&str, &str, &str)> = urls
        .iter()
        .map(|(i, u)| (i.as_str(), u.as_str(), ""))
        .collect();
    let sb = Sandbox::new();
    sb.config_ext(
        &feeds,
        "concurrency = 16\nper_host = 1",
        "[hosts.\"127.0.0.4\"]\nper_host = 3\n",
    );
    sb.run(&[]).success();
    assert_eq!(a.peak_concurrency(), 1);
    assert_eq!(b.peak_concurrency(), 1);
    assert!(
        (2..=3).contains(&c.peak_concurrency()),
        "per_host = 3 gives up to 3, got {}",
        c.peak_concurrency()
    );
    for s in [&a, &b, &c] {
        assert_eq!(s.requests().len(), 7, "robots.txt + 6 pages");
    }
    // Measured at the servers: one request at a time, the 21 requests would span at least
    // 20 x 150 ms = 3 s; one host's queue spans about 0.9 s.
    let starts: Vec<Instant> = [&a, &b, &c]
        .iter()
        .flat_map(|s| s.requests().into_iter().map(|r| s.started + r.at))
        .collect();
    let span = *starts.iter().max().expect("requests") - *starts.iter().min().expect("requests");
    assert!(
        span < Duration::from_millis(2200),
        "hosts ran in parallel: {span:?}"
    );
}

// ---------------------------------------------------------------- charsets

fn charset_page(title: &str) -> String {
    page_with(
        &[],
        &card_html(
            "cafe",
            title,
            "Zoë Brontë",
            "<time datetime=\"2026-11-20T00:00:00Z\"></time>",
        ),
    )
    .replace(
        "<meta charset=\"utf-8\">",
        "<meta charset=\"windows-1252\">",
    )
}

#[test]
fn charsets_come_out_right_even_when_headers_lie() {
    let title = "Café naïve – “quoted” ½";
    let utf8 = charset_page(title).into_bytes();
    let encode = |enc: &'static encoding_rs::Encoding, text: &str| enc.encode(text).0.into_owned();
    let cp1252 = encode(encoding_rs::WINDOWS_1252, &charset_page(title));
    let sjis = encode(
        encoding_rs::SHIFT_JIS,
        &charset_page("日本語の見出し").replace("windows-1252", "shift_jis"),
    );
    let with_bom = [b"\xef\xbb\xbf".as_slice(), &utf8].concat();
    let cases: Vec<(&str, Vec<u8>, Option<&str>, &str)> = vec![
        // UTF-8 bytes, header and meta both claim a single-byte charset
        (
            "lie",
            utf8.clone(),
            Some("text/html; charset=iso-8859-1"),
            title,
        ),
        // windows-1252 bytes, header claims UTF-8: the bytes do not validate
        (
            "meta",
            cp1252.clone(),
            Some("text/html; charset=utf-8"),
            title,
        ),
        // windows-1252 bytes, no charset anywhere but the meta tag
        ("nohdr", cp1252, Some("text/html"), title),
        // a BOM beats everything
        (
            "bom",
            with_bom,
            Some("text/html; charset=windows-1252"),
            title,
        ),
        // a real multi-byte legacy encoding, named only by the header
        (
            "sjis",
            sjis,
            Some("text/html; charset=Shift_JIS"),
            "日本語の見出し",
        ),
    ];
    let bodies: Vec<(String, Vec<u8>, Option<String>)> = cases
        .iter()
        .map(|(p, b, ct, _)| (format!("/{p}"), b.clone(), ct.map(str::to_string)))
        .collect();
    let srv = TestServer::start(
        move |req| match bodies.iter().find(|(p, _, _)| *p == req.path) {
            Some((_, body, ct)) => {
                let mut r = Reply::ok(body.clone());
                r.headers.clear();
                if let Some(ct) = ct {
                    r = r.header("Content-Type", ct);
                }
                r
            }
            None => Reply::status(404),
        },
    );
    let sb = Sandbox::new();
    let urls: Vec<(String, String)> = cases
        .iter()
        .map(|(p, ..)| (p.to_string(), srv.url(&format!("/{p}"))))
        .collect();
    let feeds: Vec<(&str, &str)> = urls.iter().map(|(i, u)| (i.as_str(), u.as_str())).collect();
    sb.config(&feeds, "");
    sb.run(&[]).success();
    for (id, _, _, want) in &cases {
        let t = titles(&sb, id);
        assert_eq!(t, vec![want.to_string()], "{id}");
        let json = String::from_utf8(sb.read(&format!("out/{id}.json"))).expect("utf-8");
        assert!(
            !json.contains('\u{fffd}') && !json.contains("Ã"),
            "{id}: {json}"
        );
    }
}

// ---------------------------------------------------------------- pagination

fn listing(cards: &[(&str, &str)], next: Option<&str>) -> String {
    let cards: String = cards
        .iter()
        .map(|(slug, title)| {
            card_html(
                slug,
                title,
                "A. Author",
                "<time datetime=\"2026-11-20T00:00:00Z\"></time>",
            )
        })
        .collect();
    // The demo page's own pagination gives way to the test's.
    let link = next
        .map(|n| format!("<nav class=\"Pagination\"><a rel=\"next\" href=\"{n}\">Older</a></nav>"))
        .unwrap_or_default();
    page_with(&[], &cards).replace(
        "<nav class=\"Pagination\"><a rel=\"next\" href=\"/news?page=2\">Next page</a></nav>",
        &link,
    )
}

type Pages = Arc<Mutex<Vec<(String, String)>>>;

fn paged_site(pages: &Pages) -> TestServer {
    let pages = pages.clone();
    TestServer::start(move |req| {
        let pages = pages.lock().expect("pages");
        match pages.iter().find(|(p, _)| *p == req.path) {
            Some((_, html)) => Reply::ok(html.clone()),
            None => Reply::status(404),
        }
    })
}

#[test]
fn pagination_follows_next_merges_in_page_order_and_stops() {
    let pages: Pages = Arc::new(Mutex::new(vec![
        (
            "/news".into(),
            listing(&[("a1", "A1"), ("a2", "A2")], Some("/news?page=2")),
        ),
        // page 2 repeats A2 (lists shift while we crawl): deduplicated
        (
            "/news?page=2".into(),
            listing(&[("a2", "A2"), ("b1", "B1")], Some("page3")),
        ),
        ("/page3".into(), listing(&[("c1", "C1")], Some("/news"))),
        ("/news?page=4".into(), listing(&[("d1", "D1")], None)),
    ]));
    let srv = paged_site(&pages);
    let sb = Sandbox::new();
    sb.config_ext(
        &[(
            "p",
            &srv.url("/news"),
            "next = \"a[rel=next]@href\"\nmax_pages = 5",
        )],
        "robots = false",
        "",
    );
    let out = stdout(&sb.run(&["--now", "2026-11-26T10:00:00Z"]).success());
    assert!(out.contains("updated"), "{out}");
    let json: serde_json::Value = serde_json::from_slice(&sb.read("out/p.json")).expect("json");
    let mut got: Vec<(String, String)> = json["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|i| {
            (
                i["title"].as_str().unwrap_or_default().to_string(),
                i["url"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    got.sort();
    let titles: Vec<&str> = got.iter().map(|(t, _)| t.as_str()).collect();
    assert_eq!(titles, ["A1", "A2", "B1", "C1"]);
    // page 3 links back to page 1: a loop, not followed
    let paths: Vec<String> = srv.requests().iter().map(|r| r.path.clone()).collect();
    assert_eq!(paths, ["/news", "/news?page=2", "/page3"]);

    // Next run: page 1 changed (one new item), page 2 brings nothing new -> stop there.
    pages.lock().expect("pages")[0].1 = listing(
        &[("new", "New"), ("a1", "A1"), ("a2", "A2")],
        Some("/news?page=2"),
    );
    let out = stdout(&sb.run(&["--now", "2026-11-26T11:00:00Z"]).success());
    assert!(out.contains("updated"), "{out}");
    let paths: Vec<String> = srv.requests().iter().map(|r| r.path.clone()).collect();
    assert_eq!(paths[3..], ["/news", "/news?page=2"]);
    let t = titles_of(&sb);
    assert_eq!(t.len(), 5);

    // Page 1 with only known items: no pagination at all.
    pages.lock().expect("pages")[0].1 =
        listing(&[("a1", "A1 (edited)"), ("a2", "A2")], Some("/news?page=2"));
    sb.run(&["--now", "2026-11-26T12:00:00Z"]).success();
    let paths: Vec<String> = srv.requests().iter().map(|r| r.path.clone()).collect();
    assert_eq!(paths[5..], ["/news"]);
}

fn titles_of(sb: &Sandbox) -> Vec<String> {
    titles(sb, "p")
}

#[test]
fn pagination_respects_max_pages_and_survives_a_failing_later_page() {
    let pages: Pages = Arc::new(Mutex::new(vec![
        ("/news".into(), listing(&[("a1", "A1")], Some("/p2"))),
        ("/p2".into(), listing(&[("b1", "B1")], Some("/p3"))),
        ("/p3".into(), listing(&[("c1", "C1")], Some("/p4"))),
    ]));
    let srv = paged_site(&pages);
    let sb = Sandbox::new();
    sb.config_ext(
        &[
            (
                "two",
                &srv.url("/news"),
                "next = \"a[rel=next]\"\nmax_pages = 2",
            ),
            (
                "all",
                &srv.url("/news"),
                "next = \"nav a[rel=next]@href\"\nmax_pages = 9",
            ),
            ("one", &srv.url("/news"), "next = \"a[rel=next]@href\""),
        ],
        "robots = false\nconcurrency = 1",
        "",
    );
    let out = sb.run(&["-vv"]).success();
    let err = String::from_utf8_lossy(&out.get_output().stderr).to_string();
    assert_eq!(titles(&sb, "two").len(), 2, "max_pages = 2: {err}");
    assert_eq!(titles(&sb, "one").len(), 1, "max_pages defaults to 1");
    // "all" reached /p4, a 404: the items of pages 1-3 are kept, with a warning.
    assert_eq!(titles(&sb, "all").len(), 3);
    assert!(err.contains("page 4 not fetched"), "{err}");
    assert!(err.contains("/p4: HTTP 404"), "{err}");
    assert_eq!(srv.hits("/p4").len(), 1);
    // The incomplete crawl is not remembered as "unchanged": the next run paginates again.
    pages
        .lock()
        .expect("pages")
        .push(("/p4".into(), listing(&[("d1", "D1")], None)));
    sb.run(&["--feed", "all"]).success();
    assert_eq!(titles(&sb, "all").len(), 4);
}

// ---------------------------------------------------------------- bot protection

#[test]
fn cloudflare_challenge_is_reported_as_bot_protection_not_a_status() {
    let challenge = "<!DOCTYPE html><html><head><title>Just a moment...</title></head><body>\
        <div id=\"challenge-running\"></div><script src=\"/cdn-cgi/challenge-platform/h/b/orchestrate/chl_page/v1\"></script></body></html>";
    for (status, headers) in [
        (
            403,
            vec![("cf-mitigated", "challenge"), ("Server", "cloudflare")],
        ),
        (
            503,
            vec![("Server", "cloudflare"), ("CF-RAY", "8a1b2c3d4e5f-AMS")],
        ),
    ] {
        let (site, out) = fault_case(
            "retries = 3\nretry_backoff_ms = 10",
            move |req| match req.path.as_str() {
                "/robots.txt" => Reply::status(404),
                _ => {
                    let mut r = Reply::ok(challenge).header("Content-Type", "text/html");
                    r.status = status;
                    for (k, v) in &headers {
                        r = r.header(k, v);
                    }
                    r
                }
            },
            &[&format!(
                "/news: blocked by bot protection: HTTP {status} with a captcha/challenge page from Cloudflare"
            )],
        );
        assert!(!out.contains(&format!("/news: HTTP {status}")), "{out}");
        assert_eq!(
            page_hits_after_first_run(&site).len(),
            1,
            "a challenge is not retried"
        );
    }
}

#[test]
fn challenge_and_javascript_shells_served_with_200_are_named() {
    let cases = [
        (
            "<html><head><title>Just a moment...</title></head><body><div class=\"cf-chl-widget\"></div></body></html>",
            "blocked by bot protection",
        ),
        (
            "<html><head><script src=\"/_next/app.js\"></script></head><body><div id=\"__next\"></div><script id=\"__NEXT_DATA__\" type=\"application/json\">{\"props\":{}}</script></body></html>",
            "page is rendered by JavaScript",
        ),
        ("", "the server sent an empty page"),
    ];
    for (html, want) in cases {
        let (_, out) = fault_case(
            "",
            move |req| match req.path.as_str() {
                "/robots.txt" => Reply::status(404),
                _ => Reply::ok(html),
            },
            &[
                want,
                "card selector `section.ArticleList > article.ArticleCard` matched nothing",
            ],
        );
        assert!(!out.contains("0 cards"), "{out}");
    }
}

#[test]
fn connection_refused_names_the_url() {
    // Bind and drop: nothing listens on this port any more.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("port")
        .port();
    let url = format!("http://127.0.0.1:{port}/news");
    let sb = Sandbox::new();
    sb.config(&[("ts", &url)], "robots = false");
    let out = stdout(&sb.run(&[]).code(1));
    assert!(out.contains(&format!("{url}: cannot connect")), "{out}");
}

/// A host that cannot be reached is reported as such, not as a robots.txt verdict, even
/// though robots.txt is the first request to it.
#[test]
fn unreachable_host_is_named_plainly_not_as_a_robots_txt_verdict() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("port")
        .port();
    let url = format!("http://127.0.0.1:{port}/news");
    let sb = Sandbox::new();
    sb.config(&[("ts", &url)], "robots = true");
    let out = stdout(&sb.run(&[]).code(1));
    assert!(
        out.contains(&format!(
            "error: feed \"ts\": http://127.0.0.1:{port}/robots.txt: cannot connect"
        )),
        "{out}"
    );
    assert!(!out.contains("RFC 9309"), "{out}");
}
