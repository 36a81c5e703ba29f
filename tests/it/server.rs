#![allow(
    dead_code,
    reason = "a shared test utility: not every test binary uses every helper"
)]
//! A small HTTP/1.1 server for tests, bound to a loopback address. Thread per connection,
//! `Connection: close` on every reply, and it stops when dropped. It can misbehave on
//! purpose (delays, truncated and endless bodies) and records every request it saw.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// A request as the server saw it.
#[derive(Debug, Clone)]
pub struct Request {
    pub method: String,
    pub path: String,
    /// Header names lower-cased.
    pub headers: HashMap<String, String>,
    /// When the request line arrived, relative to server start.
    pub at: Duration,
}

impl Request {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .get(&name.to_ascii_lowercase())
            .map(String::as_str)
    }
}

/// How the body is sent.
#[derive(Debug, Clone, Default)]
pub enum BodyMode {
    /// Content-Length and the whole body.
    #[default]
    Full,
    /// Declares the full length but closes after this many bytes.
    Truncate(usize),
    /// Sends the body again and again without end (until the client hangs up or 60 s pass).
    Endless,
    /// Headers, then this body one byte every interval (slowloris).
    Trickle(Duration),
}

/// What the handler answers.
#[derive(Debug, Clone, Default)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// Wait before sending anything.
    pub delay: Duration,
    pub mode: BodyMode,
}

impl Reply {
    pub fn ok(body: impl Into<Vec<u8>>) -> Reply {
        Reply {
            status: 200,
            headers: vec![("Content-Type".into(), "text/html; charset=utf-8".into())],
            body: body.into(),
            ..Reply::default()
        }
    }

    pub fn status(status: u16) -> Reply {
        Reply {
            status,
            body: format!("status {status}").into_bytes(),
            ..Reply::default()
        }
    }

    /// A redirect to `location`.
    pub fn redirect(status: u16, location: &str) -> Reply {
        Reply::status(status).header("Location", location)
    }

    /// robots.txt with this text.
    pub fn robots(text: &str) -> Reply {
        Reply::ok(text).header("Content-Type", "text/plain")
    }

    pub fn delayed(mut self, delay: Duration) -> Reply {
        self.delay = delay;
        self
    }

    pub fn mode(mut self, mode: BodyMode) -> Reply {
        self.mode = mode;
        self
    }

    pub fn header(mut self, name: &str, value: &str) -> Reply {
        self.headers.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
        self.headers.push((name.into(), value.into()));
        self
    }
}

type Handler = dyn Fn(&Request) -> Reply + Send + Sync;

/// A running test server; dropping it stops it.
pub struct TestServer {
    pub addr: SocketAddr,
    /// When the server started (request times are relative to it).
    pub started: Instant,
    stop: Arc<AtomicBool>,
    log: Arc<Mutex<Vec<Request>>>,
    active: Arc<AtomicUsize>,
    peak: Arc<AtomicUsize>,
    thread: Option<JoinHandle<()>>,
}

impl TestServer {
    /// Starts a server on `ip` (a 127.x.y.z address) with an OS-chosen port.
    pub fn start_on(
        ip: &str,
        handler: impl Fn(&Request) -> Reply + Send + Sync + 'static,
    ) -> TestServer {
        assert!(ip.starts_with("127."), "tests only talk to loopback");
        let listener = TcpListener::bind((ip, 0)).expect("bind loopback");
        listener.set_nonblocking(true).expect("nonblocking");
        let addr = listener.local_addr().expect("addr");
        let stop = Arc::new(AtomicBool::new(false));
        let log = Arc::new(Mutex::new(Vec::new()));
        let active = Arc::new(AtomicUsize::new(0));
        let peak = Arc::new(AtomicUsize::new(0));
        let handler: Arc<Handler> = Arc::new(handler);
        let (s, l, a, p) = (stop.clone(), log.clone(), active.clone(), peak.clone());
        let started = Instant::now();
        let t0 = started;
        let thread = std::thread::spawn(move || {
            // Hard stop after 120 s so a forgotten server never outlives its test run.
            while !s.load(Ordering::SeqCst) && started.elapsed() < Duration::from_secs(120) {
                match listener.accept() {
                    Ok((conn, _)) => {
                        let (h, l, a, p, s) =
                            (handler.clone(), l.clone(), a.clone(), p.clone(), s.clone());
                        std::thread::spawn(move || serve(conn, &*h, &l, &a, &p, &s, started));
                    }
                    Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                        std::thread::sleep(Duration::from_millis(2));
                    }
                    Err(_) => break,
                }
            }
        });
        TestServer {
            addr,
            started: t0,
            stop,
            log,
            active,
            peak,
            thread: Some(thread),
        }
    }

    pub fn start(handler: impl Fn(&Request) -> Reply + Send + Sync + 'static) -> TestServer {
        Self::start_on("127.0.0.1", handler)
    }

    /// `http://ADDR` + path.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// Every request seen so far.
    pub fn requests(&self) -> Vec<Request> {
        self.log.lock().expect("log").clone()
    }

    /// Requests for `path`.
    pub fn hits(&self, path: &str) -> Vec<Request> {
        self.requests()
            .into_iter()
            .filter(|r| r.path == path)
            .collect()
    }

    /// Start times (server clock) of the requests for `path`.
    pub fn times(&self, path: &str) -> Vec<Duration> {
        self.hits(path).iter().map(|r| r.at).collect()
    }

    /// Requests other than for /robots.txt.
    pub fn page_hits(&self) -> Vec<Request> {
        self.requests()
            .into_iter()
            .filter(|r| r.path != "/robots.txt")
            .collect()
    }

    /// Most requests ever in progress at once.
    pub fn peak_concurrency(&self) -> usize {
        self.peak.load(Ordering::SeqCst)
    }

    #[allow(dead_code)]
    pub fn active(&self) -> usize {
        self.active.load(Ordering::SeqCst)
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn serve(
    conn: TcpStream,
    handler: &Handler,
    log: &Mutex<Vec<Request>>,
    active: &AtomicUsize,
    peak: &AtomicUsize,
    stop: &AtomicBool,
    started: Instant,
) {
    let _ = conn.set_nonblocking(false);
    let _ = conn.set_read_timeout(Some(Duration::from_secs(10)));
    let _ = conn.set_write_timeout(Some(Duration::from_secs(10)));
    let Ok(read_half) = conn.try_clone() else {
        return;
    };
    let mut reader = BufReader::new(read_half);
    let mut line = String::new();
    if reader.read_line(&mut line).unwrap_or(0) == 0 {
        return;
    }
    let at = started.elapsed();
    let mut parts = line.split_whitespace();
    let method = parts.next().unwrap_or("").to_string();
    let path = parts.next().unwrap_or("").to_string();
    let mut headers = HashMap::new();
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h).unwrap_or(0) == 0 || h.trim().is_empty() {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_string());
        }
    }
    if let Some(n) = headers
        .get("content-length")
        .and_then(|n| n.parse::<usize>().ok())
    {
        let mut sink = vec![0; n.min(1 << 20)];
        let _ = reader.read_exact(&mut sink);
    }
    let req = Request {
        method,
        path,
        headers,
        at,
    };
    log.lock().expect("log").push(req.clone());
    let now = active.fetch_add(1, Ordering::SeqCst) + 1;
    peak.fetch_max(now, Ordering::SeqCst);
    let reply = handler(&req);
    let _ = write_reply(conn, &reply, stop);
    active.fetch_sub(1, Ordering::SeqCst);
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        301 => "Moved Permanently",
        302 => "Found",
        303 => "See Other",
        304 => "Not Modified",
        307 => "Temporary Redirect",
        308 => "Permanent Redirect",
        403 => "Forbidden",
        404 => "Not Found",
        408 => "Request Timeout",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "Status",
    }
}

fn write_reply(mut conn: TcpStream, reply: &Reply, stop: &AtomicBool) -> std::io::Result<()> {
    let deadline = Instant::now() + reply.delay;
    while Instant::now() < deadline {
        if stop.load(Ordering::SeqCst) {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(5).min(deadline - Instant::now()));
    }
    let mut head = format!(
        "HTTP/1.1 {} {}\r\nConnection: close\r\n",
        reply.status,
        reason(reply.status)
    );
    for (k, v) in &reply.headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    let no_body = reply.status == 304 || (100..200).contains(&reply.status);
    match reply.mode {
        BodyMode::Endless => {}
        _ if no_body => {}
        _ => head.push_str(&format!("Content-Length: {}\r\n", reply.body.len())),
    }
    head.push_str("\r\n");
    conn.write_all(head.as_bytes())?;
    if no_body {
        return conn.flush();
    }
    match &reply.mode {
        BodyMode::Full => conn.write_all(&reply.body)?,
        BodyMode::Truncate(n) => conn.write_all(&reply.body[..(*n).min(reply.body.len())])?,
        BodyMode::Endless => {
            let started = Instant::now();
            let chunk = if reply.body.is_empty() {
                vec![b'x'; 8192]
            } else {
                reply.body.clone()
            };
            while !stop.load(Ordering::SeqCst) && started.elapsed() < Duration::from_secs(60) {
                conn.write_all(&chunk)?;
            }
        }
        BodyMode::Trickle(every) => {
            for b in &reply.body {
                if stop.load(Ordering::SeqCst) {
                    break;
                }
                conn.write_all(&[*b])?;
                conn.flush()?;
                std::thread::sleep(*every);
            }
        }
    }
    conn.flush()
}
