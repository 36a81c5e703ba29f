//! Helpers for the `scifeed serve` tests: the server as a background process on 127.0.0.1
//! (an OS-chosen port, read from its first line of output; it stops by itself after a
//! minute, and when the test drops it), a blocking HTTP client that leaves content codings
//! alone, and raw requests for paths a URL library would normalise.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::proc::Finished;
use crate::server::{Reply, TestServer};
use crate::{Sandbox, card_html, demo_page};

/// A running `scifeed serve`.
pub struct Served {
    child: Option<Child>,
    /// `http://127.0.0.1:PORT/`.
    pub base: String,
    out: PathBuf,
    err: PathBuf,
    /// `?key=...` for servers with a token.
    pub key: String,
}

/// Starts `scifeed serve -c <sandbox>/scifeed.toml --listen 127.0.0.1:0 ARGS` and waits
/// until it listens.
pub fn serve(sb: &Sandbox, args: &[&str]) -> Served {
    serve_config(sb, &sb.path("scifeed.toml"), args)
}

/// Like [`serve`] with another config file.
pub fn serve_config(sb: &Sandbox, config: &std::path::Path, args: &[&str]) -> Served {
    static N: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    let out = sb.path(&format!("serve-out-{n}.txt"));
    let err = sb.path(&format!("serve-err-{n}.txt"));
    let child = Command::new(assert_cmd::cargo::cargo_bin("scifeed"))
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("NO_COLOR", "1")
        .arg("serve")
        .arg("-c")
        .arg(config)
        .args(["--listen", "127.0.0.1:0", "--stop-after", "90s"])
        .args(args)
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&out).expect("stdout file"))
        .stderr(std::fs::File::create(&err).expect("stderr file"))
        .spawn()
        .expect("spawn scifeed serve");
    let mut s = Served {
        child: Some(child),
        base: String::new(),
        out,
        err,
        key: String::new(),
    };
    let started = Instant::now();
    loop {
        let text = std::fs::read_to_string(&s.out).unwrap_or_default();
        if let Some(url) = text
            .lines()
            .find_map(|l| l.strip_prefix("scifeed serve: "))
            .and_then(|l| l.split_whitespace().next())
        {
            s.base = url.to_string();
            return s;
        }
        if let Some(Some(status)) = s.child.as_mut().map(|c| c.try_wait().expect("try_wait")) {
            panic!("serve exited early ({status}):\n{}", s.stderr());
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "serve did not start listening; stderr:\n{}",
            s.stderr()
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

impl Served {
    /// The server's address plus `path` (which must not start with `/`).
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// `host:port`.
    pub fn addr(&self) -> String {
        self.base
            .trim_start_matches("http://")
            .trim_end_matches('/')
            .to_string()
    }

    pub fn stdout(&self) -> String {
        std::fs::read_to_string(&self.out).unwrap_or_default()
    }

    pub fn stderr(&self) -> String {
        std::fs::read_to_string(&self.err).unwrap_or_default()
    }

    pub fn pid(&self) -> u32 {
        self.child.as_ref().map_or(0, Child::id)
    }

    /// The parsed `/health` document.
    pub fn health(&self, http: &Http) -> serde_json::Value {
        let r = http.get(&self.url(&format!("health{}", self.key)), &[]);
        assert_eq!(r.status, 200, "{}", r.text());
        serde_json::from_slice(&r.body).expect("health is JSON")
    }

    /// Waits until `n` rounds have completed.
    pub fn wait_rounds(&self, http: &Http, n: u64, limit: Duration) -> serde_json::Value {
        let started = Instant::now();
        loop {
            let h = self.health(http);
            if h["round"]["completed"].as_u64().unwrap_or(0) >= n {
                return h;
            }
            assert!(
                started.elapsed() < limit,
                "only {} rounds after {limit:?}; stderr:\n{}",
                h["round"]["completed"],
                self.stderr()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Sends `signal` ("TERM", "INT").
    pub fn signal(&self, signal: &str) {
        let status = Command::new("kill")
            .arg(format!("-{signal}"))
            .arg(self.pid().to_string())
            .status()
            .expect("kill(1)");
        assert!(status.success(), "kill -{signal} failed");
    }

    /// Waits at most `limit` for the exit.
    pub fn wait(mut self, limit: Duration) -> Finished {
        let started = Instant::now();
        let mut child = self.child.take().expect("running");
        let status = loop {
            if let Some(s) = child.try_wait().expect("try_wait") {
                break s;
            }
            if started.elapsed() > limit {
                let _ = child.kill();
                let _ = child.wait();
                panic!(
                    "serve did not exit within {limit:?}; stderr:\n{}",
                    self.stderr()
                );
            }
            std::thread::sleep(Duration::from_millis(5));
        };
        Finished {
            status,
            stdout: self.stdout(),
            stderr: self.stderr(),
            elapsed: started.elapsed(),
        }
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// An HTTP answer.
#[derive(Debug)]
pub struct Resp {
    pub status: u16,
    /// Header names lower-cased.
    pub headers: HashMap<String, String>,
    pub body: Vec<u8>,
}

impl Resp {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(String::as_str)
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// A blocking HTTP client (reqwest on a private runtime) that sends exactly the headers it
/// is given: no automatic `Accept-Encoding`, no decompression, no redirects, no proxy.
pub struct Http {
    rt: tokio::runtime::Runtime,
    client: reqwest::Client,
}

impl Http {
    pub fn new() -> Http {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        let client = reqwest::Client::builder()
            .no_gzip()
            .no_brotli()
            .no_deflate()
            .no_proxy()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(20))
            .build()
            .expect("client");
        Http { rt, client }
    }

    pub fn get(&self, url: &str, headers: &[(&str, &str)]) -> Resp {
        self.send(reqwest::Method::GET, url, headers)
    }

    pub fn head(&self, url: &str, headers: &[(&str, &str)]) -> Resp {
        self.send(reqwest::Method::HEAD, url, headers)
    }

    pub fn send(&self, method: reqwest::Method, url: &str, headers: &[(&str, &str)]) -> Resp {
        self.rt.block_on(async {
            let mut req = self.client.request(method, url);
            for (k, v) in headers {
                req = req.header(*k, *v);
            }
            let r = req.send().await.unwrap_or_else(|e| panic!("{url}: {e}"));
            let status = r.status().as_u16();
            let headers = r
                .headers()
                .iter()
                .map(|(k, v)| {
                    (
                        k.as_str().to_string(),
                        v.to_str().unwrap_or_default().to_string(),
                    )
                })
                .collect();
            let body = r.bytes().await.expect("body").to_vec();
            Resp {
                status,
                headers,
                body,
            }
        })
    }
}

/// Sends `request` as is over a new connection and returns the whole answer as text
/// (status line, headers, body), reading until the server closes or 5 s pass.
pub fn raw(addr: &str, request: &str) -> String {
    let mut c = TcpStream::connect(addr).expect("connect");
    c.set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    c.write_all(request.as_bytes()).expect("send");
    let mut buf = Vec::new();
    let _ = c.read_to_end(&mut buf);
    String::from_utf8_lossy(&buf).into_owned()
}

/// `GET <target>` as a raw request; the status code of the answer.
pub fn raw_status(addr: &str, target: &str) -> (u16, String) {
    let answer = raw(
        addr,
        &format!("GET {target} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"),
    );
    let code = answer
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    (code, answer)
}

/// Gunzips `bytes`.
pub fn gunzip(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(bytes)
        .read_to_end(&mut out)
        .expect("gzip");
    out
}

/// Un-brotlis `bytes`.
pub fn unbrotli(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    brotli::BrotliDecompress(&mut &bytes[..], &mut out).expect("brotli");
    out
}

/// A page server whose first page fetch sees the demo page and every later one a new card
/// (`slug`, `title`) on top (robots.txt: 404), with the count of page fetches.
pub fn site_gaining_a_card(slug: &str, title: &str) -> (TestServer, Arc<AtomicUsize>) {
    let fetches = Arc::new(AtomicUsize::new(0));
    let f = fetches.clone();
    let base = demo_page();
    let card = card_html(
        slug,
        title,
        "Ada Lovelace",
        "<time datetime=\"2026-12-01T08:00:00Z\"></time>",
    );
    let first_card = "  <article class=\"ArticleCard\">";
    let changed = base.replacen(first_card, &format!("{card}{first_card}"), 1);
    let site = TestServer::start(move |req| {
        if req.path == "/robots.txt" {
            return Reply::status(404);
        }
        if f.fetch_add(1, Ordering::SeqCst) == 0 {
            Reply::ok(base.clone())
        } else {
            Reply::ok(changed.clone())
        }
    });
    (site, fetches)
}

/// The item titles of a JSON Feed response.
pub fn feed_titles(r: &Resp) -> Vec<String> {
    let v: serde_json::Value = serde_json::from_slice(&r.body).expect("json feed");
    v["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|i| i["title"].as_str().unwrap_or_default().to_string())
        .collect()
}

/// Asks for `url` with `If-None-Match: etag` until it is no longer a 304 (at most `limit`).
pub fn wait_for_change(s: &Served, http: &Http, url: &str, etag: &str, limit: Duration) -> Resp {
    let started = Instant::now();
    loop {
        let r = http.get(url, &[("If-None-Match", etag)]);
        if r.status == 200 {
            return r;
        }
        assert_eq!(r.status, 304);
        assert!(
            started.elapsed() < limit,
            "the change never reached {url}; stderr:\n{}",
            s.stderr()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The shipped demo config with output and state in the sandbox (its pages stay in the
/// repository).
pub fn demo_config(sb: &Sandbox) -> PathBuf {
    let demo = std::fs::read_to_string(crate::repo().join("config/demo.toml")).expect("demo");
    let demo = demo
        .replace("\"../feeds\"", "\"out\"")
        .replace("\"../state/demo.db\"", "\"state.db\"")
        .replace(
            "\"demo/",
            &format!("\"{}/config/demo/", crate::repo().display()),
        );
    sb.write("demo.toml", &demo)
}
