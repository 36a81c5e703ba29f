//! Crawl benchmark (not a timed test): N feeds over M hosts on loopback with simulated
//! latency, run through the release `scifeed` binary twice (cold, then warm: robots.txt cached
//! and every page answering 304).
//!
//! ```sh
//! cargo bench --bench crawl -- --feeds 100 --hosts 20 --latency 50-200
//! cargo bench --bench crawl -- --feeds 1000 --hosts 50 --latency 50-200
//! cargo bench --bench crawl -- --feeds 500 --hosts 50 --min-interval 1000
//! cargo bench --bench crawl -- --feeds 1000 --hosts 50 --every 30m
//! ```
//!
//! With `--every`, the config has `every` set and the runs are: cold (every feed due), idle
//! (a cron tick right after: nothing due) and `run --all` (every page answering 304).
//!
//! Hosts are 127.0.0.2 .. 127.0.0.(M+1), one server each (thread per connection,
//! keep-alive). Feeds are listed host by host (the worst order for a naive scheduler).
//! Settings: `min_interval_ms = 0` (or `--min-interval MS`), robots on, other crawl settings
//! at their defaults (`concurrency = 16`, `per_host = 1`). Prints wall time, CPU time, requests served, peak
//! concurrency per host and peak RSS (from `/usr/bin/time -v` when present).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// A run that takes longer than this is killed: the benchmark always ends.
const RUN_DEADLINE: Duration = Duration::from_secs(300);
const CARDS_PER_PAGE: usize = 20;

struct Args {
    feeds: usize,
    hosts: usize,
    latency: (u64, u64),
    min_interval_ms: u64,
    /// `every` of the config (then the runs are cold, idle and `--all`).
    every: Option<String>,
}

fn parse_args() -> Option<Args> {
    let argv: Vec<String> = std::env::args().collect();
    // `cargo bench` passes --bench; anything else (cargo test --benches) should not crawl.
    if !argv.iter().any(|a| a == "--bench") {
        return None;
    }
    let get = |name: &str| {
        argv.iter()
            .position(|a| a == name)
            .and_then(|i| argv.get(i + 1))
            .cloned()
    };
    let feeds = get("--feeds").and_then(|v| v.parse().ok()).unwrap_or(100);
    let hosts = get("--hosts")
        .and_then(|v| v.parse().ok())
        .unwrap_or(20usize)
        .clamp(1, 250);
    let latency = get("--latency")
        .and_then(|v| {
            let (a, b) = v.split_once('-')?;
            Some((a.parse().ok()?, b.parse().ok()?))
        })
        .unwrap_or((50, 200));
    let min_interval_ms = get("--min-interval")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    Some(Args {
        feeds,
        hosts,
        latency,
        min_interval_ms,
        every: get("--every"),
    })
}

/// Counters one host server keeps.
#[derive(Default)]
struct Stats {
    requests: AtomicUsize,
    not_modified: AtomicUsize,
    active: AtomicUsize,
    peak: AtomicUsize,
}

struct Host {
    addr: std::net::SocketAddr,
    stats: Arc<Stats>,
}

fn main() {
    let Some(args) = parse_args() else {
        println!("crawl benchmark: run it with `cargo bench --bench crawl -- --feeds N --hosts M`");
        return;
    };
    let stop = Arc::new(AtomicBool::new(false));
    let hosts: Vec<Host> = (0..args.hosts)
        .map(|i| start_host(&format!("127.0.0.{}", i + 2), args.latency, stop.clone()))
        .collect();
    let dir = tempfile::tempdir().expect("temp dir");
    let config = dir.path().join("bench.toml");
    std::fs::write(&config, config_text(&args, &hosts)).expect("write config");
    println!(
        "crawl benchmark: {} feeds over {} hosts, latency {}-{} ms, concurrency 16, per_host 1, min_interval {} ms, robots on",
        args.feeds, args.hosts, args.latency.0, args.latency.1, args.min_interval_ms
    );
    let mean = (args.latency.0 + args.latency.1) as f64 / 2000.0;
    let per_host_max = args.feeds.div_ceil(args.hosts) + 1;
    // Request starts on one host are at least max(latency, min_interval) apart.
    let step = mean.max(args.min_interval_ms as f64 / 1000.0);
    println!(
        "lower bounds: slowest host queue {:.2}s ({} requests x {:.3}s), global {:.2}s ({} requests / 16 slots)",
        (per_host_max - 1) as f64 * step + mean,
        per_host_max,
        step,
        (args.feeds + args.hosts) as f64 * mean / 16.0,
        args.feeds + args.hosts
    );
    let runs: &[(&str, &[&str])] = if args.every.is_some() {
        &[("cold", &[]), ("idle", &[]), ("all", &["--all"])]
    } else {
        &[("cold", &[]), ("warm", &[])]
    };
    for (label, extra) in runs {
        let before: usize = hosts
            .iter()
            .map(|h| h.stats.requests.load(Ordering::SeqCst))
            .sum();
        let nm_before: usize = hosts
            .iter()
            .map(|h| h.stats.not_modified.load(Ordering::SeqCst))
            .sum();
        for h in &hosts {
            h.stats.peak.store(0, Ordering::SeqCst);
        }
        let m = run_scifeed(&config, extra);
        let served: usize = hosts
            .iter()
            .map(|h| h.stats.requests.load(Ordering::SeqCst))
            .sum::<usize>()
            - before;
        let nm: usize = hosts
            .iter()
            .map(|h| h.stats.not_modified.load(Ordering::SeqCst))
            .sum::<usize>()
            - nm_before;
        let peak = hosts
            .iter()
            .map(|h| h.stats.peak.load(Ordering::SeqCst))
            .max()
            .unwrap_or(0);
        println!(
            "{label:>4}: wall {:.2}s  cpu {}  requests {served} ({nm} x 304)  peak per host {peak}  peak RSS {}  exit {}",
            m.wall.as_secs_f64(),
            m.cpu.map_or("n/a".into(), |c| format!("{c:.2}s")),
            m.rss_kb
                .map_or("n/a".into(), |k| format!("{:.1} MiB", k as f64 / 1024.0)),
            m.exit
        );
    }
    stop.store(true, Ordering::SeqCst);
}

fn config_text(args: &Args, hosts: &[Host]) -> String {
    let mut s = String::from(
        "[settings]\noutput_dir = \"out\"\nstate = \"state.db\"\nrobots = true\n\
         user_agent = \"scifeed-bench/1 (+https://example.org/bench)\"\n",
    );
    s.push_str(&format!("min_interval_ms = {}\n", args.min_interval_ms));
    if let Some(every) = &args.every {
        s.push_str(&format!("every = \"{every}\"\n"));
    }
    for i in 0..args.feeds {
        // Host by host: feeds of one host are adjacent in the config.
        let host = &hosts[i * hosts.len() / args.feeds.max(1)];
        s.push_str(&format!(
            "\n[[feed]]\nid = \"f{i}\"\ntitle = \"Feed {i}\"\nurl = \"http://{}/feed/{i}\"\n[feed.select]\n\
             card = \"section.ArticleList > article.ArticleCard\"\ntitle = \"h3.ArticleCard_title\"\n\
             author = \"p.ArticleCard_byline\"\nteaser = \"p.ArticleCard_teaser\"\ndate = \"time@datetime\"\n",
            host.addr
        ));
    }
    s
}

struct Measured {
    wall: Duration,
    cpu: Option<f64>,
    rss_kb: Option<u64>,
    exit: String,
}

fn run_scifeed(config: &std::path::Path, extra: &[&str]) -> Measured {
    let bin = env!("CARGO_BIN_EXE_scifeed");
    let time = std::path::Path::new("/usr/bin/time");
    let mut cmd = if time.exists() {
        let mut c = Command::new(time);
        c.arg("-v").arg(bin);
        c
    } else {
        Command::new(bin)
    };
    cmd.arg("run")
        .arg("-q")
        .arg("-c")
        .arg(config)
        .args(extra)
        .env_remove("RUST_LOG")
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    let started = Instant::now();
    let mut child = cmd.spawn().expect("spawn scifeed");
    let mut stderr = child.stderr.take().expect("stderr");
    let reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stderr.read_to_string(&mut s);
        s
    });
    let status = loop {
        match child.try_wait() {
            Ok(Some(s)) => break Some(s),
            Ok(None) if started.elapsed() > RUN_DEADLINE => {
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(5)),
            Err(_) => break None,
        }
    };
    let wall = started.elapsed();
    let err = reader.join().unwrap_or_default();
    let field = |name: &str| {
        err.lines().find_map(|l| {
            l.trim()
                .strip_prefix(name)
                .map(str::trim)
                .map(str::to_string)
        })
    };
    let secs = |name: &str| field(name).and_then(|v| v.parse::<f64>().ok());
    let cpu = match (secs("User time (seconds):"), secs("System time (seconds):")) {
        (Some(u), Some(s)) => Some(u + s),
        _ => None,
    };
    let rss_kb = field("Maximum resident set size (kbytes):").and_then(|v| v.parse().ok());
    let failures = err.lines().filter(|l| l.starts_with("error:")).count();
    let exit = match status {
        Some(s) if failures > 0 => format!("{} ({failures} failed feeds)", s.code().unwrap_or(-1)),
        Some(s) => s.code().map_or("signal".into(), |c| c.to_string()),
        None => format!("killed after {}s", RUN_DEADLINE.as_secs()),
    };
    Measured {
        wall,
        cpu,
        rss_kb,
        exit,
    }
}

fn start_host(ip: &str, latency: (u64, u64), stop: Arc<AtomicBool>) -> Host {
    let listener = TcpListener::bind((ip, 0)).expect("bind loopback");
    listener.set_nonblocking(true).expect("nonblocking");
    let addr = listener.local_addr().expect("addr");
    let stats = Arc::new(Stats::default());
    let st = stats.clone();
    std::thread::spawn(move || {
        let started = Instant::now();
        // Hard stop: a server never outlives the benchmark by much.
        while !stop.load(Ordering::SeqCst) && started.elapsed() < RUN_DEADLINE * 3 {
            match listener.accept() {
                Ok((conn, _)) => {
                    let (st, stop) = (st.clone(), stop.clone());
                    std::thread::spawn(move || serve(conn, &st, latency, &stop));
                }
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                    std::thread::sleep(Duration::from_millis(1));
                }
                Err(_) => break,
            }
        }
    });
    Host { addr, stats }
}

/// Serves requests on one keep-alive connection until the client closes it or idles 5 s.
fn serve(conn: TcpStream, stats: &Stats, latency: (u64, u64), stop: &AtomicBool) {
    let _ = conn.set_nonblocking(false);
    let _ = conn.set_read_timeout(Some(Duration::from_secs(5)));
    let Ok(read_half) = conn.try_clone() else {
        return;
    };
    let mut reader = BufReader::new(read_half);
    let mut out = conn;
    let mut n = 0u64;
    while !stop.load(Ordering::SeqCst) {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        let path = line.split_whitespace().nth(1).unwrap_or("/").to_string();
        let mut inm = None;
        loop {
            let mut h = String::new();
            if reader.read_line(&mut h).unwrap_or(0) == 0 || h.trim().is_empty() {
                break;
            }
            if let Some((k, v)) = h.split_once(':')
                && k.trim().eq_ignore_ascii_case("if-none-match")
            {
                inm = Some(v.trim().to_string());
            }
        }
        stats.requests.fetch_add(1, Ordering::SeqCst);
        let now = stats.active.fetch_add(1, Ordering::SeqCst) + 1;
        stats.peak.fetch_max(now, Ordering::SeqCst);
        n += 1;
        let spread = latency.1.saturating_sub(latency.0) + 1;
        let h = path
            .bytes()
            .fold(n.wrapping_mul(0x9e37_79b9_7f4a_7c15), |a, b| {
                (a ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
            });
        std::thread::sleep(Duration::from_millis(latency.0 + h % spread));
        let etag = format!("\"{}\"", path.len());
        let (status, body, ctype) = if path == "/robots.txt" {
            (
                "200 OK",
                "User-agent: *\nDisallow: /private/\n".to_string(),
                "text/plain",
            )
        } else if inm.as_deref() == Some(etag.as_str()) {
            stats.not_modified.fetch_add(1, Ordering::SeqCst);
            ("304 Not Modified", String::new(), "text/html")
        } else {
            ("200 OK", listing(&path), "text/html; charset=utf-8")
        };
        let head = format!(
            "HTTP/1.1 {status}\r\nContent-Type: {ctype}\r\nETag: {etag}\r\nContent-Length: {}\r\n\r\n",
            if status.starts_with("304") {
                0
            } else {
                body.len()
            }
        );
        let ok = out.write_all(head.as_bytes()).is_ok()
            && (status.starts_with("304") || out.write_all(body.as_bytes()).is_ok())
            && out.flush().is_ok();
        stats.active.fetch_sub(1, Ordering::SeqCst);
        if !ok {
            return;
        }
    }
}

/// A listing page in the demo page's markup, unique per path.
fn listing(path: &str) -> String {
    let mut s = String::from(
        "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>Bench listing</title></head><body>\n<section class=\"ArticleList\">\n",
    );
    for j in 0..CARDS_PER_PAGE {
        s.push_str(&format!(
            "<article class=\"ArticleCard\"><div class=\"ArticleCard_body\">\
             <h3 class=\"ArticleCard_title\"><a href=\"{path}/story-{j}\">Story {j} of {path}</a></h3>\
             <p class=\"ArticleCard_teaser\">A teaser long enough to look like one, about story {j}, with some words in it.</p>\
             <p class=\"ArticleCard_byline\">Written by<a href=\"/author/x\">Ada Lovelace</a> | 3 min read</p>\
             <time datetime=\"2026-11-{:02}T08:00:00Z\"></time></div></article>\n",
            1 + j % 28
        ));
    }
    s.push_str("</section>\n</body></html>\n");
    s
}
