//! Helper of `scripts/bench-vs-rsspls.sh` (not part of scifeed): a loopback page server with
//! latency and ETag/304, writers of equivalent scifeed and rsspls configs for the same pages
//! and selectors, and store fillers for the history benchmark.
//!
//! ```text
//! benchkit serve   --pages DIR --hosts M --latency MS[-MS] --port-file F [--salt S] [--deadline-secs N]
//! benchkit stats   --port P                      # requests, 304s, peak per host (then resets them)
//! benchkit salt    --port P --salt S             # change the salt of a running server
//! benchkit configs --out DIR --feeds N --hosts M [--port P | --file-dir DIR] [--pages DIR]
//!                  [--selectors FILE] [--offset K] [--synthetic] [--per-host K] [--concurrency C]
//!                  [--min-interval MS] [--sites K]
//! benchkit prefill --state FILE --items N --feeds N
//! benchkit forget-pages --state FILE             # keep robots.txt answers, drop everything else
//! ```
//!
//! Host `i` is 127.0.(i/200).(i%200+2): hosts 0..19 are 127.0.0.2 ..= 127.0.0.21. Paths:
//! `/robots.txt`; `/c/<n>/<page>.html`, a saved corpus page; `/s/<n>`, a small synthetic
//! listing of 20 cards whose first card depends on the salt (a new salt = one new item per
//! feed). ETags depend on the path and the salt. `--sites K` writes the feeds of the scifeed
//! config into K files `sites/s<k>.toml` that the main file includes (feed i in file i % K). The server stops by itself after
//! `--deadline-secs` (default 900).

use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use chrono::{TimeZone, Utc};
use scifeed::model::{DateSource, Item};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

type Res<T> = Result<T, Box<dyn std::error::Error>>;

fn main() -> Res<()> {
    let argv: Vec<String> = std::env::args().skip(1).collect();
    let cmd = argv.first().cloned().unwrap_or_default();
    let args = Args(argv);
    match cmd.as_str() {
        "serve" => serve(&args),
        "stats" => ctl(&args, "/__stats"),
        "salt" => ctl(&args, &format!("/__salt/{}", args.req("--salt")?)),
        "configs" => configs(&args),
        "prefill" => prefill(&args),
        "forget-pages" => forget_pages(&args),
        // `cargo bench` runs every bench target with `--bench`: this one is a tool of
        // `scripts/bench-vs-rsspls.sh`, with nothing to measure on its own.
        "--bench" => {
            println!("benchkit: a helper of scripts/bench-vs-rsspls.sh; nothing to run here");
            Ok(())
        }
        _ => Err("usage: benchkit serve|stats|configs|prefill|forget-pages ...".into()),
    }
}

struct Args(Vec<String>);

impl Args {
    fn get(&self, name: &str) -> Option<&str> {
        let i = self.0.iter().position(|a| a == name)?;
        self.0.get(i + 1).map(String::as_str)
    }
    fn req(&self, name: &str) -> Res<&str> {
        self.get(name)
            .ok_or_else(|| format!("missing {name}").into())
    }
    fn num(&self, name: &str, default: u64) -> Res<u64> {
        self.get(name).map_or(Ok(default), |v| {
            v.parse().map_err(|e| format!("{name}: {e}").into())
        })
    }
    fn flag(&self, name: &str) -> bool {
        self.0.iter().any(|a| a == name)
    }
}

fn host_ip(i: usize) -> String {
    format!("127.0.{}.{}", i / 200, i % 200 + 2)
}

// ---------------------------------------------------------------------------------------
// Server

struct State {
    pages: HashMap<String, Vec<u8>>,
    salt: std::sync::Mutex<String>,
    latency: (u64, u64),
    requests: AtomicUsize,
    not_modified: AtomicUsize,
    active: Vec<AtomicUsize>,
    peak: AtomicUsize,
    counter: AtomicUsize,
}

fn serve(args: &Args) -> Res<()> {
    let hosts = usize::try_from(args.num("--hosts", 1)?)?.clamp(1, 10_000);
    let latency = match args.get("--latency").unwrap_or("0").split_once('-') {
        Some((a, b)) => (a.parse()?, b.parse()?),
        None => {
            let v: u64 = args.get("--latency").unwrap_or("0").parse()?;
            (v, v)
        }
    };
    let mut pages = HashMap::new();
    if let Some(dir) = args.get("--pages") {
        for e in std::fs::read_dir(dir)? {
            let p = e?.path();
            if p.extension().is_some_and(|x| x == "html") {
                let name = p.file_name().map(|n| n.to_string_lossy().into_owned());
                pages.insert(name.unwrap_or_default(), std::fs::read(&p)?);
            }
        }
    }
    let state = Arc::new(State {
        pages,
        salt: std::sync::Mutex::new(args.get("--salt").unwrap_or("").to_string()),
        latency,
        requests: AtomicUsize::new(0),
        not_modified: AtomicUsize::new(0),
        active: (0..hosts).map(|_| AtomicUsize::new(0)).collect(),
        peak: AtomicUsize::new(0),
        counter: AtomicUsize::new(0),
    });
    let deadline = Duration::from_secs(args.num("--deadline-secs", 900)?);
    let port_file = PathBuf::from(args.req("--port-file")?);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    rt.block_on(async move {
        let listeners = bind_all(hosts).await?;
        let port = listeners[0].local_addr()?.port();
        std::fs::write(&port_file, format!("{port}\n"))?;
        for (i, l) in listeners.into_iter().enumerate() {
            let st = Arc::clone(&state);
            tokio::spawn(async move {
                while let Ok((conn, _)) = l.accept().await {
                    let _ = conn.set_nodelay(true);
                    tokio::spawn(handle(conn, i, Arc::clone(&st)));
                }
            });
        }
        tokio::time::sleep(deadline).await;
        Ok::<(), Box<dyn std::error::Error>>(())
    })
}

/// One listener per host, all on the same port (so configs differ only in the address).
async fn bind_all(hosts: usize) -> Res<Vec<TcpListener>> {
    'retry: for _ in 0..50 {
        let first = TcpListener::bind((host_ip(0).as_str(), 0)).await?;
        let port = first.local_addr()?.port();
        let mut all = vec![first];
        for i in 1..hosts {
            match TcpListener::bind((host_ip(i).as_str(), port)).await {
                Ok(l) => all.push(l),
                Err(_) => continue 'retry,
            }
        }
        return Ok(all);
    }
    Err("no port free on every loopback host".into())
}

async fn handle(conn: TcpStream, host: usize, st: Arc<State>) {
    let (r, mut w) = conn.into_split();
    let mut r = BufReader::new(r);
    loop {
        let mut line = String::new();
        match tokio::time::timeout(Duration::from_secs(60), r.read_line(&mut line)).await {
            Ok(Ok(n)) if n > 0 => {}
            _ => return,
        }
        let path = line.split_whitespace().nth(1).unwrap_or("/").to_string();
        let mut inm = None;
        loop {
            let mut h = String::new();
            if r.read_line(&mut h).await.unwrap_or(0) == 0 || h.trim().is_empty() {
                break;
            }
            if let Some((k, v)) = h.split_once(':')
                && k.trim().eq_ignore_ascii_case("if-none-match")
            {
                inm = Some(v.trim().to_string());
            }
        }
        if let Some(new) = path.strip_prefix("/__salt/") {
            *st.salt.lock().unwrap_or_else(|e| e.into_inner()) = new.to_string();
            let _ = respond(&mut w, "200 OK", "text/plain", None, b"ok\n").await;
            continue;
        }
        if path == "/__stats" {
            let body = format!(
                "requests {} not_modified {} peak_per_host {}\n",
                st.requests.swap(0, Ordering::SeqCst),
                st.not_modified.swap(0, Ordering::SeqCst),
                st.peak.swap(0, Ordering::SeqCst)
            );
            let _ = respond(&mut w, "200 OK", "text/plain", None, body.as_bytes()).await;
            continue;
        }
        st.requests.fetch_add(1, Ordering::SeqCst);
        let now = st.active[host].fetch_add(1, Ordering::SeqCst) + 1;
        st.peak.fetch_max(now, Ordering::SeqCst);
        let n = st.counter.fetch_add(1, Ordering::Relaxed) as u64;
        let spread = st.latency.1.saturating_sub(st.latency.0) + 1;
        let wait = st.latency.0 + n.wrapping_mul(0x9e37_79b9_7f4a_7c15) % spread;
        if wait > 0 {
            tokio::time::sleep(Duration::from_millis(wait)).await;
        }
        let salt = st.salt.lock().unwrap_or_else(|e| e.into_inner()).clone();
        let etag = format!(
            "\"{:016x}\"",
            xxhash_rust::xxh3::xxh3_64(format!("{path}|{salt}").as_bytes())
        );
        let ok = if path == "/robots.txt" {
            respond(
                &mut w,
                "200 OK",
                "text/plain",
                None,
                b"User-agent: *\nDisallow: /private/\n",
            )
            .await
        } else if inm.as_deref() == Some(etag.as_str()) {
            st.not_modified.fetch_add(1, Ordering::SeqCst);
            respond(&mut w, "304 Not Modified", "text/html", Some(&etag), b"").await
        } else if let Some(n) = path.strip_prefix("/s/") {
            let body = synthetic(n, &salt);
            respond(
                &mut w,
                "200 OK",
                "text/html; charset=utf-8",
                Some(&etag),
                body.as_bytes(),
            )
            .await
        } else if let Some(page) = path.rsplit('/').next().and_then(|name| st.pages.get(name)) {
            respond(
                &mut w,
                "200 OK",
                "text/html; charset=utf-8",
                Some(&etag),
                page,
            )
            .await
        } else {
            respond(&mut w, "404 Not Found", "text/plain", None, b"not found\n").await
        };
        st.active[host].fetch_sub(1, Ordering::SeqCst);
        if ok.is_err() {
            return;
        }
    }
}

async fn respond(
    w: &mut tokio::net::tcp::OwnedWriteHalf,
    status: &str,
    ctype: &str,
    etag: Option<&str>,
    body: &[u8],
) -> std::io::Result<()> {
    let mut head = format!("HTTP/1.1 {status}\r\nContent-Type: {ctype}\r\n");
    if let Some(e) = etag {
        let _ = write!(head, "ETag: {e}\r\n");
    }
    let _ = write!(head, "Content-Length: {}\r\n\r\n", body.len());
    w.write_all(head.as_bytes()).await?;
    w.write_all(body).await?;
    w.flush().await
}

/// A small listing in the demo page's markup: 20 cards unique to `n`; the first card's
/// link depends on `salt`, so a new salt brings exactly one new item per feed.
fn synthetic(n: &str, salt: &str) -> String {
    let mut s = String::from(
        "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>Bench listing</title></head><body>\n<section class=\"ArticleList\">\n",
    );
    for j in 0..20 {
        let slug = if j == 0 {
            format!("new-{salt}")
        } else {
            format!("story-{j}")
        };
        let _ = writeln!(
            s,
            "<article class=\"ArticleCard\"><div class=\"ArticleCard_body\">\
             <h3 class=\"ArticleCard_title\"><a href=\"/s/{n}/{slug}\">Story {slug} of feed {n}</a></h3>\
             <p class=\"ArticleCard_teaser\">A teaser long enough to look like one, about story {j}, with some words in it.</p>\
             <p class=\"ArticleCard_byline\">Written by<a href=\"/author/x\">Ada Lovelace</a> | 3 min read</p>\
             <time datetime=\"2026-11-{:02}T08:00:00Z\"></time></div></article>",
            28 - j
        );
    }
    s.push_str("</section>\n</body></html>\n");
    s
}

/// Sends one control request (`/__stats`, `/__salt/S`) to a running server, prints the answer.
fn ctl(args: &Args, path: &str) -> Res<()> {
    use std::io::{Read, Write};
    let port: u16 = args.req("--port")?.parse()?;
    let mut c = std::net::TcpStream::connect((host_ip(0).as_str(), port))?;
    c.set_read_timeout(Some(Duration::from_secs(5)))?;
    c.write_all(format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").as_bytes())?;
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    // Read until the one-line body has arrived (the server keeps the connection open).
    loop {
        let text = String::from_utf8_lossy(&buf);
        if text
            .split_once("\r\n\r\n")
            .is_some_and(|(_, body)| body.ends_with('\n'))
        {
            break;
        }
        let n = c.read(&mut chunk)?;
        if n == 0 {
            break;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    let text = String::from_utf8_lossy(&buf);
    print!("{}", text.split("\r\n\r\n").nth(1).unwrap_or(""));
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Configs

/// One feed's selectors, as scifeed's `[feed.select]` table.
struct Sel {
    page: String,
    base_url: Option<String>,
    select: toml::Table,
}

fn corpus_selectors(file: &Path) -> Res<Vec<Sel>> {
    let doc: toml::Table = toml::from_str(&std::fs::read_to_string(file)?)?;
    let feeds = doc
        .get("feed")
        .and_then(|f| f.as_array())
        .ok_or("no [[feed]] in selectors file")?;
    let mut out = Vec::new();
    for f in feeds {
        let id = f
            .get("id")
            .and_then(|v| v.as_str())
            .ok_or("feed without id")?;
        out.push(Sel {
            page: format!("{id}.html"),
            base_url: f
                .get("base_url")
                .and_then(|v| v.as_str())
                .map(str::to_string),
            select: f
                .get("select")
                .and_then(|v| v.as_table())
                .cloned()
                .ok_or("feed without [feed.select]")?,
        });
    }
    Ok(out)
}

fn synthetic_selectors() -> Res<Vec<Sel>> {
    let select: toml::Table = toml::from_str(
        "card = \"section.ArticleList > article.ArticleCard\"\ntitle = \"h3.ArticleCard_title\"\n\
         author = \"p.ArticleCard_byline\"\nteaser = \"p.ArticleCard_teaser\"\ndate = \"time@datetime\"\n",
    )?;
    Ok(vec![Sel {
        page: String::new(),
        base_url: None,
        select,
    }])
}

fn q(s: &str) -> String {
    toml::Value::String(s.to_string()).to_string()
}

fn configs(args: &Args) -> Res<()> {
    let out = PathBuf::from(args.req("--out")?);
    std::fs::create_dir_all(&out)?;
    let out = out.canonicalize()?;
    let feeds = usize::try_from(args.num("--feeds", 100)?)?;
    let hosts = usize::try_from(args.num("--hosts", 1)?)?.max(1);
    let synthetic = args.flag("--synthetic");
    let sels = if synthetic {
        synthetic_selectors()?
    } else {
        corpus_selectors(Path::new(args.req("--selectors")?))?
    };
    let file_dir = args.get("--file-dir").map(PathBuf::from);
    let port = args.get("--port").unwrap_or("0");
    let offset = usize::try_from(args.num("--offset", 0)?)?;
    let sites = usize::try_from(args.num("--sites", 0)?)?;
    let mut site_files = vec![String::new(); sites];
    if let Some(dir) = &file_dir {
        // One file per feed, so both tools read 100 distinct files.
        let pages = PathBuf::from(args.req("--pages")?);
        std::fs::create_dir_all(dir)?;
        for i in 0..feeds {
            let s = &sels[(i + offset) % sels.len()];
            std::fs::copy(pages.join(&s.page), dir.join(format!("{i}-{}", s.page)))?;
        }
    }
    let mut sf = format!(
        "[settings]\noutput_dir = {}\nstate = {}\nuser_agent = \"scifeed-bench/1 (+https://example.org/bench)\"\n\
         min_interval_ms = {}\nper_host = {}\nconcurrency = {}\nrobots = true\n",
        q(&out.join("out-scifeed").to_string_lossy()),
        q(&out.join("state/scifeed.db").to_string_lossy()),
        args.num("--min-interval", 0)?,
        args.num("--per-host", 1)?,
        args.num("--concurrency", 16)?,
    );
    if sites > 0 {
        sf.insert_str(0, "include = [\"sites/*.toml\"]\n");
    }
    let mut rf = format!(
        "[rsspls]\noutput = {}\nfile_urls = true\n",
        q(&out.join("out-rsspls").to_string_lossy())
    );
    for i in 0..feeds {
        let s = &sels[(i + offset) % sels.len()];
        let url = match &file_dir {
            Some(dir) => {
                url::Url::from_file_path(dir.canonicalize()?.join(format!("{i}-{}", s.page)))
                    .map_err(|()| "bad file path")?
                    .to_string()
            }
            None if synthetic => format!("http://{}:{port}/s/{i}", host_ip(i % hosts)),
            None => format!("http://{}:{port}/c/{i}/{}", host_ip(i % hosts), s.page),
        };
        let feed_file = match sites {
            0 => &mut sf,
            k => &mut site_files[i % k],
        };
        let _ = write!(
            feed_file,
            "\n[[feed]]\nid = \"f{i}\"\ntitle = \"Feed {i}\"\nurl = {}\n",
            q(&url)
        );
        if let Some(b) = &s.base_url {
            let _ = writeln!(feed_file, "base_url = {}", q(b));
        }
        let _ = write!(feed_file, "[feed.select]\n{}", toml::to_string(&s.select)?);

        let get = |k: &str| {
            s.select
                .get(k)
                .and_then(|v| v.as_str())
                .map(|v| v.split('@').next().unwrap_or(v).to_string())
        };
        let _ = write!(
            rf,
            "\n[[feed]]\ntitle = \"Feed {i}\"\nfilename = \"f{i}.xml\"\n[feed.config]\nurl = {}\nitem = {}\nheading = {}\nlink = \"a[href]\"\n",
            q(&url),
            q(&get("card").unwrap_or_default()),
            q(&get("title").unwrap_or_default()),
        );
        for (ours, theirs) in [("teaser", "summary"), ("date", "date"), ("image", "media")] {
            if let Some(v) = get(ours) {
                let _ = writeln!(rf, "{theirs} = {}", q(&v));
            }
        }
    }
    std::fs::write(out.join("scifeed.toml"), sf)?;
    if sites > 0 {
        std::fs::create_dir_all(out.join("sites"))?;
        for (k, text) in site_files.iter().enumerate() {
            std::fs::write(out.join(format!("sites/s{k}.toml")), text)?;
        }
    }
    std::fs::write(out.join("rsspls.toml"), rf)?;
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Store fillers

/// Fills a store with `--items` old items spread over feeds `f0..f{--feeds}` (ids unlike any
/// page's), seen a day ago so retention keeps them.
fn prefill(args: &Args) -> Res<()> {
    let path = PathBuf::from(args.req("--state")?);
    let total = usize::try_from(args.num("--items", 1_000_000)?)?;
    let feeds = usize::try_from(args.num("--feeds", 10_000)?)?.max(1);
    let mut store = scifeed::store::Store::open(&path, false)?;
    let now = Utc::now();
    let day_ago = now - chrono::Duration::days(1);
    let per_feed = total.div_ceil(feeds);
    let mut done = 0;
    for f in 0..feeds {
        let n = per_feed.min(total - done);
        let items: Vec<Item> = (0..n)
            .map(|k| {
                let published = Utc
                    .timestamp_opt(day_ago.timestamp() - 86_400 * 30 - 60 * k as i64, 0)
                    .single()
                    .unwrap_or(day_ago);
                let id = format!("https://bench.invalid/f{f}/old-{k}");
                Item {
                    link: id.clone(),
                    id,
                    title: format!("Old story {k} of feed {f}"),
                    authors: vec!["Ada Lovelace".into()],
                    read_time: Some(3),
                    teaser: Some("An older teaser that a previous run stored.".into()),
                    image: None,
                    categories: Vec::new(),
                    published,
                    date_source: DateSource::Page,
                    updated: published,
                    first_seen: published,
                    last_seen: day_ago,
                    position: u32::try_from(k).unwrap_or(0),
                    read_time_estimated: false,
                }
            })
            .collect();
        store.commit_feed(&format!("f{f}"), &items, &[], false, day_ago)?;
        done += n;
    }
    println!("prefilled {done} items over {feeds} feeds");
    Ok(())
}

/// Drops items, validators and feed state; keeps the robots.txt cache (as a cron run within
/// 24 h of the last has it).
fn forget_pages(args: &Args) -> Res<()> {
    let store = scifeed::store::Store::open(Path::new(args.req("--state")?), false)?;
    store
        .conn()
        .execute_batch("DELETE FROM items; DELETE FROM http_cache; DELETE FROM feed_state;")?;
    Ok(())
}
