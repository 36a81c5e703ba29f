//! Fetching: URL + stored validators -> page bytes, "not modified", or a typed error.
//!
//! Every HTTP request goes through the same path: robots.txt check (once per origin and
//! run, [`robots`]), the host's gate ([`gate`]: concurrency, minimum interval, back-off), one
//! attempt under the whole-request timeout, and the retry policy ([`retry`]). Redirects are
//! followed here, hop by hop, so each hop is gated, checked against robots.txt and watched
//! for loops. Bodies are read chunk by chunk after decompression, so the size cap also
//! defuses gzip/brotli bombs. `file://` URLs read saved pages from disk under the same cap,
//! without robots.txt or gates. This module knows nothing about extraction.

pub mod cache;
pub mod gate;
pub mod retry;
pub mod robots;
pub mod validators;

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, AtomicUsize, Ordering};
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use reqwest::header::{
    CONTENT_TYPE, ETAG, HeaderMap, IF_MODIFIED_SINCE, IF_NONE_MATCH, LAST_MODIFIED, LOCATION,
    RETRY_AFTER, SERVER,
};
use url::Url;

use crate::feed::CrawlSettings;
use cache::CacheHints;
use gate::HostGates;
use retry::{Decision, Outcome, Policy};
use robots::{Denied, HostRobots, RobotsAnswer, RobotsCache, RobotsRegistry};
pub use validators::Validators;

/// Redirects followed for robots.txt (RFC 9309 2.3.1.2: at least five).
const ROBOTS_REDIRECTS: usize = 5;
/// Of an error page we read only enough to recognise a bot challenge.
const ERROR_BODY_BYTES: u64 = 64 * 1024;
/// Retry back-off never grows beyond this.
const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// A fetched page.
#[derive(Debug, Clone)]
pub struct Page {
    /// Final URL after redirects (relative links resolve against it).
    pub url: Url,
    /// HTTP status (200 for files).
    pub status: u16,
    pub body: Vec<u8>,
    pub content_type: Option<String>,
    /// This answer's validators (headers and body fingerprint), to store for the next run.
    pub validators: Validators,
}

/// Outcome of a successful request.
#[derive(Debug, Clone)]
pub enum Fetched {
    /// 304: the stored copy is current.
    NotModified,
    /// 200 with the same bytes as the stored fingerprint: nothing to parse. Carries the
    /// answer's fresh validators.
    Unchanged(Validators),
    Page(Page),
}

impl Fetched {
    /// `Unchanged` when the page's body is the one `stored` describes, else the page.
    fn against(page: Page, stored: &Validators) -> Fetched {
        if stored.same_body(&page.validators) {
            Fetched::Unchanged(page.validators)
        } else {
            Fetched::Page(page)
        }
    }
}

/// Why a fetch failed. Messages name the URL, the cause and, for limits, the setting that
/// raises them.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("{url}: timed out: no complete answer within {}s (raise `timeout_secs` in [settings] if the site is just slow)", after.as_secs())]
    Timeout { url: String, after: Duration },
    #[error("{url}: timed out: no data for {}s (raise `read_timeout_secs` in [settings] if the site is just slow)", after.as_secs())]
    ReadTimeout { url: String, after: Duration },
    #[error("{url}: cannot connect within {}s (`connect_timeout_secs` in [settings])", after.as_secs())]
    ConnectTimeout { url: String, after: Duration },
    #[error("{url}: cannot connect: {cause}")]
    Connect { url: String, cause: String },
    /// DNS failed: offline, or a wrong name. Named first, before any URL.
    #[error("cannot resolve host {host}: is the network up? ({url}: {cause})")]
    Resolve {
        url: String,
        host: String,
        cause: String,
    },
    /// The site could not be reached while reading its robots.txt (DNS or connection):
    /// the network failure itself, not a robots.txt verdict.
    #[error("{cause}")]
    HostUnreachable { url: String, cause: String },
    #[error("{url}: connection broken mid-response{}: {cause}", got.map(|g| match expected {
        Some(e) => format!(" after {g} of {e} bytes"),
        None => format!(" after {g} bytes"),
    }).unwrap_or_default())]
    Interrupted {
        url: String,
        got: Option<u64>,
        expected: Option<u64>,
        cause: String,
    },
    #[error("{url}: HTTP {status}")]
    Status { url: String, status: u16 },
    #[error("{url}: blocked by bot protection: HTTP {status} with a captcha/challenge page{} instead of the listing", vendor.map(|v| format!(" from {v}")).unwrap_or_default())]
    BotProtection {
        url: String,
        status: u16,
        vendor: Option<&'static str>,
    },
    #[error("{url}: HTTP {status} and the server asks to retry after {}s, longer than `retry_after_cap_secs` ({}s); giving up for this run", wait.as_secs(), cap.as_secs())]
    WaitTooLong {
        url: String,
        status: u16,
        wait: Duration,
        cap: Duration,
    },
    #[error(
        "{url}: body larger than {limit} bytes, counted after decompression (raise `max_body_bytes` in [settings] if the page is really that big)"
    )]
    TooLarge { url: String, limit: u64 },
    #[error("{url}: more than {limit} redirects ({}) (raise `max_redirects` in [settings] if the chain is legitimate)", chain.join(" -> "))]
    TooManyRedirects {
        url: String,
        limit: usize,
        chain: Vec<String>,
    },
    #[error("{url}: redirect loop: {}", chain.join(" -> "))]
    RedirectLoop { url: String, chain: Vec<String> },
    #[error("{url}: HTTP {status} redirect to an unusable location {location:?}")]
    BadRedirect {
        url: String,
        status: u16,
        location: String,
    },
    #[error(
        "{url}: disallowed by {robots_url} for user-agent `{agent}`; scifeed does not fetch it"
    )]
    RobotsDisallowed {
        url: String,
        robots_url: String,
        agent: String,
    },
    #[error(
        "{url}: {robots_url} could not be read ({cause}); per RFC 9309 the site counts as disallowed until it can (tried again next run)"
    )]
    RobotsUnreachable {
        url: String,
        robots_url: String,
        cause: String,
    },
    #[error("{last} (gave up after {attempts} attempts; `retries` in [settings])")]
    GaveUp {
        attempts: u32,
        last: Box<FetchError>,
    },
    #[error("{url}: cannot read file: {source}")]
    File { url: String, source: std::io::Error },
    #[error("{url}: {cause}")]
    Other { url: String, cause: String },
}

impl FetchError {
    /// How the retry policy sees this error.
    fn retry_outcome(&self) -> Outcome {
        match self {
            FetchError::Timeout { .. }
            | FetchError::ReadTimeout { .. }
            | FetchError::ConnectTimeout { .. } => Outcome::Timeout,
            FetchError::Connect { .. } => Outcome::Connect,
            FetchError::Interrupted { .. } => Outcome::Interrupted,
            FetchError::Status { status, .. } => Outcome::Status(*status),
            _ => Outcome::Permanent,
        }
    }

    /// Whether the host could not be reached at all (name or connection), as opposed to an
    /// answer the host gave.
    fn host_unreachable(&self) -> bool {
        match self {
            FetchError::Resolve { .. }
            | FetchError::Connect { .. }
            | FetchError::ConnectTimeout { .. }
            | FetchError::HostUnreachable { .. } => true,
            FetchError::GaveUp { last, .. } => last.host_unreachable(),
            _ => false,
        }
    }

    /// The HTTP status that ended the fetch, if it ended with an error status.
    fn final_status(&self) -> Option<u16> {
        match self {
            FetchError::Status { status, .. } => Some(*status),
            FetchError::GaveUp { last, .. } => last.final_status(),
            _ => None,
        }
    }
}

/// How much of a body to read.
#[derive(Debug, Clone, Copy)]
enum BodyLimit {
    /// More than this many bytes is an error.
    Fail(u64),
    /// Keep this many bytes, ignore the rest.
    Truncate(u64),
}

/// One HTTP answer, body read.
struct Response {
    status: u16,
    headers: HeaderMap,
    body: Vec<u8>,
}

impl Response {
    fn header(&self, name: impl reqwest::header::AsHeaderName) -> Option<String> {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    }
}

/// The crawler: HTTP client, host gates, robots.txt answers and limits of one run.
pub struct Fetcher {
    client: reqwest::Client,
    crawl: CrawlSettings,
    policy: Policy,
    gates: HostGates,
    robots: RobotsRegistry,
    cache: Arc<dyn RobotsCache>,
    /// Product token robots.txt groups are matched against.
    agent: String,
    /// The round's clock (Unix seconds), for robots.txt cache expiry and header dates.
    now: AtomicI64,
    requests: AtomicUsize,
}

impl Fetcher {
    /// Builds the client (rustls with the ring provider and a lazily loaded platform
    /// verifier, gzip/brotli/deflate, no automatic redirects: [`Fetcher::fetch`] follows them
    /// itself).
    pub fn new(
        user_agent: &str,
        crawl: &CrawlSettings,
        gates: HostGates,
        cache: Arc<dyn RobotsCache>,
        now: DateTime<Utc>,
    ) -> Result<Fetcher, FetchError> {
        // Ignore the error: another part of the process may have installed one already.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let client = reqwest::Client::builder()
            .tls_backend_preconfigured(tls_config())
            .user_agent(user_agent)
            .connect_timeout(crawl.connect_timeout)
            .read_timeout(crawl.read_timeout)
            .redirect(reqwest::redirect::Policy::none())
            .gzip(true)
            .brotli(true)
            .deflate(true)
            .pool_idle_timeout(Duration::from_secs(30))
            .build()
            .map_err(|e| FetchError::Other {
                url: String::new(),
                cause: format!("cannot build HTTP client: {e}"),
            })?;
        Ok(Fetcher {
            client,
            policy: Policy {
                retries: crawl.retries,
                base: crawl.retry_backoff,
                max_backoff: MAX_BACKOFF,
                retry_after_cap: crawl.retry_after_cap,
            },
            crawl: crawl.clone(),
            gates,
            robots: RobotsRegistry::default(),
            cache,
            agent: robots::product_token(user_agent),
            now: AtomicI64::new(now.timestamp()),
            requests: AtomicUsize::new(0),
        })
    }

    /// Requests `host` may have in flight at once (its `per_host`).
    pub fn host_slots(&self, host: &str) -> usize {
        self.gates.slots(host)
    }

    /// When `host`'s gate lets the next request start (`None`: now).
    pub fn host_next_start(&self, host: &str) -> Option<tokio::time::Instant> {
        self.gates.gate(host).next_start()
    }

    /// Holds every request to `host` for `wait` (a previous holder's interval, carried over).
    pub fn hold_host(&self, host: &str, wait: Duration) {
        self.gates.gate(host).hold_for(wait);
    }

    /// HTTP requests sent so far (robots.txt, retries and redirect hops included).
    pub fn requests(&self) -> usize {
        self.requests.load(Ordering::Relaxed)
    }

    /// Starts a new crawl round at `now` (a long-running process such as `serve` reuses one
    /// fetcher, its connections and host gates): robots.txt is asked again (from the store's
    /// cache while that is fresh) and dates are read against the new clock.
    pub fn begin_round(&self, now: DateTime<Utc>) {
        self.now.store(now.timestamp(), Ordering::Relaxed);
        self.robots.clear();
    }

    /// The round's clock.
    fn now(&self) -> DateTime<Utc> {
        Utc.timestamp_opt(self.now.load(Ordering::Relaxed), 0)
            .single()
            .unwrap_or_default()
    }

    /// Fetches `url`, sending the stored validators as a conditional GET: a 304 is
    /// [`Fetched::NotModified`], a body with the stored fingerprint [`Fetched::Unchanged`].
    pub async fn fetch(&self, url: &Url, validators: &Validators) -> Result<Fetched, FetchError> {
        self.fetch_with_hints(url, validators).await.0
    }

    /// Like [`Fetcher::fetch`], and also returns what the last response (a page, a 304 or an
    /// error status) said about when to ask again.
    pub async fn fetch_with_hints(
        &self,
        url: &Url,
        validators: &Validators,
    ) -> (Result<Fetched, FetchError>, CacheHints) {
        let mut hints = CacheHints::default();
        let result = self.fetch_inner(url, validators, &mut hints).await;
        (result, hints)
    }

    async fn fetch_inner(
        &self,
        url: &Url,
        validators: &Validators,
        hints: &mut CacheHints,
    ) -> Result<Fetched, FetchError> {
        if url.scheme() == "file" {
            return self
                .read_file(url)
                .await
                .map(|page| Fetched::against(page, validators));
        }
        let mut current = url.clone();
        let mut chain = vec![url.clone()];
        loop {
            self.check_robots(&current).await?;
            let resp = self
                .request(
                    &current,
                    validators,
                    BodyLimit::Fail(self.crawl.max_body_bytes),
                    hints,
                )
                .await?;
            match resp.status {
                304 => return Ok(Fetched::NotModified),
                200..=299 => {
                    let page = Page {
                        url: current,
                        status: resp.status,
                        content_type: resp.header(CONTENT_TYPE),
                        validators: Validators::of(
                            resp.header(ETAG),
                            resp.header(LAST_MODIFIED),
                            &resp.body,
                        ),
                        body: resp.body,
                    };
                    return Ok(Fetched::against(page, validators));
                }
                _ => {
                    let next = redirect_target(&current, &resp)?;
                    current = follow(&mut chain, next, self.crawl.max_redirects)?;
                }
            }
        }
    }

    /// Reads the robots.txt that governs `url` ahead of its first use (no-op for files or
    /// with robots off), so that a run can ask every host at once instead of host by host.
    pub async fn warm_up(&self, url: &Url) {
        if self.crawl.robots && url.scheme() != "file" {
            self.robots_for(url).await;
        }
    }

    /// This run's robots.txt answer for `url`'s origin, read on first use.
    async fn robots_for(&self, url: &Url) -> Arc<HostRobots> {
        let origin = url.origin().ascii_serialization();
        let cell = self.robots.cell(&origin);
        cell.get_or_init(|| self.load_robots(&origin, url))
            .await
            .clone()
    }

    /// Fails with a clear error when robots.txt forbids `url` (no-op when robots are off).
    async fn check_robots(&self, url: &Url) -> Result<(), FetchError> {
        if !self.crawl.robots {
            return Ok(());
        }
        let robots = self.robots_for(url).await;
        robots.check(url).map_err(|d| match d {
            Denied::Disallowed => FetchError::RobotsDisallowed {
                url: url.to_string(),
                robots_url: robots.robots_url.clone(),
                agent: self.agent.clone(),
            },
            Denied::Unreachable(cause) => FetchError::RobotsUnreachable {
                url: url.to_string(),
                robots_url: robots.robots_url.clone(),
                cause,
            },
            Denied::HostUnreachable(cause) => FetchError::HostUnreachable {
                url: url.to_string(),
                cause,
            },
        })
    }

    /// This run's robots.txt answer for `origin`: the store's unexpired copy, else a fresh one.
    async fn load_robots(&self, origin: &str, url: &Url) -> Arc<HostRobots> {
        let cached = self.cache.load(origin);
        let robots = match cached {
            Some(rec) if rec.expires > self.now() => {
                tracing::debug!("{origin}/robots.txt: cached until {}", rec.expires);
                HostRobots::from_record(&rec, &self.agent)
            }
            stale => {
                let answer = self.fetch_robots(origin).await;
                let (robots, record) =
                    robots::resolve(origin, answer, stale, &self.agent, self.now());
                if let Some(rec) = record {
                    self.cache.save(&rec);
                }
                robots
            }
        };
        if let (Some(delay), Some(host)) = (robots.crawl_delay, url.host_str()) {
            // Crawl-delay beyond the longest wait we accept anywhere would stall the run.
            let cap = self.crawl.retry_after_cap;
            if delay > cap {
                tracing::warn!(
                    "{}: Crawl-delay {}s capped at {}s (`retry_after_cap_secs`)",
                    robots.robots_url,
                    delay.as_secs(),
                    cap.as_secs()
                );
            }
            self.gates.gate(host).raise_min_interval(delay.min(cap));
        }
        Arc::new(robots)
    }

    async fn fetch_robots(&self, origin: &str) -> RobotsAnswer {
        let Ok(mut current) = Url::parse(&format!("{origin}/robots.txt")) else {
            return RobotsAnswer::Failed(format!("{origin} has no usable robots.txt URL"));
        };
        let mut chain = vec![current.clone()];
        loop {
            let resp = match self
                .request(
                    &current,
                    &Validators::default(),
                    BodyLimit::Truncate(robots::MAX_ROBOTS_BYTES),
                    &mut CacheHints::default(),
                )
                .await
            {
                Ok(r) => r,
                // An HTTP status is an answer (4xx allows all, 5xx disallows), not a failure.
                Err(e) => {
                    return match e.final_status() {
                        Some(status) => RobotsAnswer::Status {
                            status,
                            body: Vec::new(),
                        },
                        None if e.host_unreachable() => {
                            RobotsAnswer::HostUnreachable(e.to_string())
                        }
                        None => RobotsAnswer::Failed(e.to_string()),
                    };
                }
            };
            if !(300..400).contains(&resp.status) || resp.status == 304 {
                return RobotsAnswer::Status {
                    status: resp.status,
                    body: resp.body,
                };
            }
            let next = match redirect_target(&current, &resp) {
                Ok(n) => n,
                Err(e) => return RobotsAnswer::Failed(e.to_string()),
            };
            current = match follow(&mut chain, next, ROBOTS_REDIRECTS) {
                Ok(n) => n,
                Err(e) => return RobotsAnswer::Failed(e.to_string()),
            };
        }
    }

    /// One request through the host gate, retried per the policy. Returns any answer below
    /// 400; an error status becomes `FetchError::Status` (or `BotProtection`). `hints` gets
    /// the caching headers of the last answer.
    async fn request(
        &self,
        url: &Url,
        validators: &Validators,
        limit: BodyLimit,
        hints: &mut CacheHints,
    ) -> Result<Response, FetchError> {
        let gate = self.gates.gate(url.host_str().unwrap_or_default());
        let mut attempt = 0u32;
        loop {
            let result = {
                let _permit = gate.acquire().await;
                self.requests.fetch_add(1, Ordering::Relaxed);
                let started = std::time::Instant::now();
                let result =
                    tokio::time::timeout(self.crawl.timeout, self.attempt(url, validators, limit))
                        .await
                        .unwrap_or_else(|_| {
                            Err(FetchError::Timeout {
                                url: url.to_string(),
                                after: self.crawl.timeout,
                            })
                        });
                tracing::debug!(
                    "GET {url} attempt {}: {} in {:.2}s",
                    attempt + 1,
                    match &result {
                        Ok(r) => r.status.to_string(),
                        Err(e) => e.to_string(),
                    },
                    started.elapsed().as_secs_f64()
                );
                result
            };
            if let Ok(resp) = &result {
                *hints = CacheHints::from_headers(&resp.headers, self.now());
            }
            let (err, retry_after) = match result {
                Ok(resp) if resp.status < 400 => return Ok(resp),
                Ok(resp) => {
                    if let Some(vendor) = challenge(&resp.headers, &resp.body) {
                        // A challenge is a deliberate answer; asking again will not help.
                        return Err(FetchError::BotProtection {
                            url: url.to_string(),
                            status: resp.status,
                            vendor,
                        });
                    }
                    let retry_after = resp.header(RETRY_AFTER);
                    let err = FetchError::Status {
                        url: url.to_string(),
                        status: resp.status,
                    };
                    (err, retry_after)
                }
                Err(e) => (e, None),
            };
            let decision = retry::decide(
                &self.policy,
                attempt,
                err.retry_outcome(),
                retry_after.as_deref(),
                Utc::now(),
                jitter(url, attempt),
            );
            match decision {
                Decision::Retry(wait) => {
                    tracing::info!("{err}; retrying in {:.1}s", wait.as_secs_f64());
                    // Hold the whole host: a 429 or 503 is about all our requests to it.
                    gate.hold_for(wait);
                    attempt += 1;
                }
                Decision::GiveUp if attempt == 0 => return Err(err),
                Decision::GiveUp => {
                    return Err(FetchError::GaveUp {
                        attempts: attempt + 1,
                        last: Box::new(err),
                    });
                }
                Decision::WaitTooLong(wait) => {
                    let FetchError::Status { url, status } = err else {
                        return Err(err);
                    };
                    return Err(FetchError::WaitTooLong {
                        url,
                        status,
                        wait,
                        cap: self.crawl.retry_after_cap,
                    });
                }
            }
        }
    }

    /// One attempt: send, then read the body under `limit`.
    async fn attempt(
        &self,
        url: &Url,
        validators: &Validators,
        limit: BodyLimit,
    ) -> Result<Response, FetchError> {
        let mut req = self.client.get(url.clone());
        if let Some(etag) = &validators.etag {
            req = req.header(IF_NONE_MATCH, etag);
        }
        if let Some(lm) = &validators.last_modified {
            req = req.header(IF_MODIFIED_SINCE, lm);
        }
        let mut resp = req
            .send()
            .await
            .map_err(|e| self.transport_error(url, &e, None))?;
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let body = match status {
            200..=299 => self.read_body(&mut resp, url, limit).await?,
            // Enough of an error page to recognise a challenge; a broken one is just empty.
            400.. => self
                .read_body(&mut resp, url, BodyLimit::Truncate(ERROR_BODY_BYTES))
                .await
                .unwrap_or_default(),
            _ => Vec::new(),
        };
        Ok(Response {
            status,
            headers,
            body,
        })
    }

    async fn read_body(
        &self,
        resp: &mut reqwest::Response,
        url: &Url,
        limit: BodyLimit,
    ) -> Result<Vec<u8>, FetchError> {
        let expected = resp.content_length();
        let too_large = || FetchError::TooLarge {
            url: url.to_string(),
            limit: self.crawl.max_body_bytes,
        };
        if let BodyLimit::Fail(max) = limit
            && expected.is_some_and(|n| n > max)
        {
            return Err(too_large());
        }
        let mut body = Vec::new();
        loop {
            let chunk = match resp.chunk().await {
                Ok(Some(c)) => c,
                Ok(None) => break,
                Err(e) => {
                    return Err(self.transport_error(url, &e, Some((body.len() as u64, expected))));
                }
            };
            let room = match limit {
                BodyLimit::Fail(max) | BodyLimit::Truncate(max) => {
                    max.saturating_sub(body.len() as u64)
                }
            };
            if chunk.len() as u64 > room {
                match limit {
                    BodyLimit::Fail(_) => return Err(too_large()),
                    BodyLimit::Truncate(_) => {
                        body.extend_from_slice(&chunk[..usize::try_from(room).unwrap_or(0)]);
                        break;
                    }
                }
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body)
    }

    async fn read_file(&self, url: &Url) -> Result<Page, FetchError> {
        let file_err = |source| FetchError::File {
            url: url.to_string(),
            source,
        };
        let path = url.to_file_path().map_err(|()| {
            file_err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                "not a local path",
            ))
        })?;
        let limit = self.crawl.max_body_bytes;
        let len = std::fs::metadata(&path).map_err(file_err)?.len();
        if len > limit {
            return Err(FetchError::TooLarge {
                url: url.to_string(),
                limit,
            });
        }
        let body = std::fs::read(&path).map_err(file_err)?;
        Ok(Page {
            url: url.clone(),
            status: 200,
            validators: Validators::of(None, None, &body),
            body,
            content_type: None,
        })
    }

    /// Names a transport failure; `progress` is (bytes read, declared length) mid-body.
    fn transport_error(
        &self,
        url: &Url,
        e: &reqwest::Error,
        progress: Option<(u64, Option<u64>)>,
    ) -> FetchError {
        let url_s = url.to_string();
        let cause = error_chain(e);
        if e.is_timeout() {
            if e.is_connect() {
                FetchError::ConnectTimeout {
                    url: url_s,
                    after: self.crawl.connect_timeout,
                }
            } else {
                FetchError::ReadTimeout {
                    url: url_s,
                    after: self.crawl.read_timeout,
                }
            }
        } else if e.is_decode() && !body_read_failed(e) {
            FetchError::Other {
                url: url_s,
                cause: format!("cannot decode the body: {cause}"),
            }
        } else if e.is_connect() {
            // DNS and certificate failures are answers, not glitches: not retried.
            if e.is_dns() {
                // reqwest's chain repeats the URL and layers; the resolver's own words say it.
                FetchError::Resolve {
                    url: url_s,
                    host: url.host_str().unwrap_or_default().to_string(),
                    cause: root_cause(e),
                }
            } else if cause.contains("certificate") {
                FetchError::Other { url: url_s, cause }
            } else {
                FetchError::Connect { url: url_s, cause }
            }
        } else if e.is_builder() {
            FetchError::Other { url: url_s, cause }
        } else {
            FetchError::Interrupted {
                url: url_s,
                got: progress.map(|p| p.0),
                expected: progress.and_then(|p| p.1),
                cause,
            }
        }
    }
}

/// A client for requests outside the crawl (`serve`'s alerts): the crawler's TLS settings
/// and user agent, one overall timeout, redirects not followed.
pub fn plain_client(user_agent: &str, timeout: Duration) -> Result<reqwest::Client, FetchError> {
    // Ignore the error: another part of the process may have installed one already.
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .tls_backend_preconfigured(tls_config())
        .user_agent(user_agent)
        .timeout(timeout)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|e| FetchError::Other {
            url: String::new(),
            cause: format!("cannot build HTTP client: {e}"),
        })
}

/// Whether a (decode) error wraps a failure to read the body off the connection: the
/// decompression layer reports a connection cut mid-body as a decode error.
fn body_read_failed(e: &reqwest::Error) -> bool {
    let mut cur = std::error::Error::source(e);
    while let Some(c) = cur {
        if c.downcast_ref::<reqwest::Error>()
            .is_some_and(reqwest::Error::is_body)
        {
            return true;
        }
        cur = c.source();
    }
    false
}

/// The TLS settings reqwest would build itself (platform verifier, TLS 1.2 and 1.3, ALPN h2
/// then http/1.1), except that the verifier loads the system's root certificates on the first
/// handshake instead of at start-up: that load is about half the CPU of a one-feed run, and a
/// run of http:// or file:// feeds, or one where every https page answers from a reused
/// connection, must not pay it before it needs it.
fn tls_config() -> rustls::ClientConfig {
    let provider = rustls::crypto::CryptoProvider::get_default()
        .cloned()
        .unwrap_or_else(|| Arc::new(rustls::crypto::ring::default_provider()));
    let verifier = Arc::new(LazyVerifier {
        provider: Arc::clone(&provider),
        inner: std::sync::OnceLock::new(),
    });
    let mut tls = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("the ring provider supports the default TLS versions")
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth();
    tls.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    tls
}

/// The platform certificate verifier, built on first use (see [`tls_config`]).
#[derive(Debug)]
struct LazyVerifier {
    provider: Arc<rustls::crypto::CryptoProvider>,
    inner: std::sync::OnceLock<Result<rustls_platform_verifier::Verifier, rustls::Error>>,
}

impl LazyVerifier {
    fn inner(&self) -> Result<&rustls_platform_verifier::Verifier, rustls::Error> {
        self.inner
            .get_or_init(|| rustls_platform_verifier::Verifier::new(Arc::clone(&self.provider)))
            .as_ref()
            .map_err(Clone::clone)
    }
}

impl rustls::client::danger::ServerCertVerifier for LazyVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &rustls::pki_types::CertificateDer<'_>,
        intermediates: &[rustls::pki_types::CertificateDer<'_>],
        server_name: &rustls::pki_types::ServerName<'_>,
        ocsp_response: &[u8],
        now: rustls::pki_types::UnixTime,
    ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        self.inner()?
            .verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &rustls::pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        self.inner()?.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &rustls::pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        self.inner()?.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        match self.inner() {
            Ok(v) => v.supported_verify_schemes(),
            // The handshake fails at verification with the load error; offer what the
            // provider can check meanwhile.
            Err(_) => self
                .provider
                .signature_verification_algorithms
                .supported_schemes(),
        }
    }
}

/// The absolute http(s) target of a redirect response.
fn redirect_target(current: &Url, resp: &Response) -> Result<Url, FetchError> {
    let bad = |location: String| FetchError::BadRedirect {
        url: current.to_string(),
        status: resp.status,
        location,
    };
    let location = resp
        .header(LOCATION)
        .ok_or_else(|| bad("(no Location header)".into()))?;
    match current.join(location.trim()) {
        Ok(u) if matches!(u.scheme(), "http" | "https") && u.host().is_some() => Ok(u),
        _ => Err(bad(location)),
    }
}

/// Adds `next` to the redirect chain and returns it, refusing loops and chains longer than
/// `limit`.
fn follow(chain: &mut Vec<Url>, next: Url, limit: usize) -> Result<Url, FetchError> {
    let first = chain.first().map(ToString::to_string).unwrap_or_default();
    let mut names: Vec<String> = chain.iter().map(ToString::to_string).collect();
    names.push(next.to_string());
    if chain.contains(&next) {
        return Err(FetchError::RedirectLoop {
            url: first,
            chain: names,
        });
    }
    if chain.len() > limit {
        return Err(FetchError::TooManyRedirects {
            url: first,
            limit,
            chain: names,
        });
    }
    chain.push(next.clone());
    Ok(next)
}

/// A value in `[0, 1)` that differs between requests, attempts and moments: retry jitter,
/// so clients that failed together do not come back together.
fn jitter(url: &Url, attempt: u32) -> f64 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let h = xxhash_rust::xxh3::xxh3_64(format!("{url}|{attempt}|{nanos}").as_bytes());
    (h >> 11) as f64 / (1u64 << 53) as f64
}

/// Whether page text (lower-cased) is a bot-protection challenge or captcha.
pub fn challenge_markup(lower: &str) -> bool {
    [
        "cf-chl",
        "challenge-platform",
        "attention required! | cloudflare",
        "cf-browser-verification",
        "g-recaptcha",
        "hcaptcha",
        "are you a robot",
        "captcha-delivery",
        "px-captcha",
    ]
    .iter()
    .any(|m| lower.contains(m))
}

/// Recognises a challenge answer (usually 403 or 503): Cloudflare's `cf-mitigated: challenge`
/// header, or challenge markup in the body. Returns the vendor when known.
fn challenge(headers: &HeaderMap, body: &[u8]) -> Option<Option<&'static str>> {
    let header = |n: &str| {
        headers
            .get(n)
            .and_then(|v| v.to_str().ok())
            .map(str::to_ascii_lowercase)
    };
    let cloudflare = header(SERVER.as_str()).is_some_and(|s| s.contains("cloudflare"))
        || headers.contains_key("cf-ray");
    let vendor = if cloudflare {
        Some("Cloudflare")
    } else if headers.contains_key("x-datadome") {
        Some("DataDome")
    } else {
        None
    };
    if header("cf-mitigated").is_some_and(|v| v.contains("challenge")) {
        return Some(Some("Cloudflare"));
    }
    let text = String::from_utf8_lossy(body).to_ascii_lowercase();
    let markup = challenge_markup(&text) || (cloudflare && text.contains("just a moment..."));
    markup.then_some(vendor)
}

/// The innermost cause of an error: the message closest to what actually went wrong.
fn root_cause(e: &dyn std::error::Error) -> String {
    let mut cur: &dyn std::error::Error = e;
    while let Some(next) = cur.source() {
        cur = next;
    }
    cur.to_string()
}

/// The whole source chain of an error on one line ("a: b: c").
pub fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        let m = c.to_string();
        if !s.contains(&m) {
            s.push_str(": ");
            s.push_str(&m);
        }
        cur = c.source();
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn u(s: &str) -> Url {
        Url::parse(s).expect("url")
    }

    #[test]
    fn redirect_chains_stop_at_loops_and_the_cap() {
        let mut chain = vec![u("http://a/1")];
        follow(&mut chain, u("http://a/2"), 2).expect("hop 1");
        follow(&mut chain, u("http://b/3"), 2).expect("hop 2");
        let e = follow(&mut chain, u("http://a/2"), 2).expect_err("loop");
        assert_eq!(
            e.to_string(),
            "http://a/1: redirect loop: http://a/1 -> http://a/2 -> http://b/3 -> http://a/2"
        );
        let e = follow(&mut chain, u("http://c/4"), 2).expect_err("cap");
        assert!(e.to_string().contains("more than 2 redirects"), "{e}");
        assert!(e.to_string().contains("`max_redirects`"), "{e}");
    }

    #[test]
    fn network_failures_are_named_first() {
        let dns = FetchError::Resolve {
            url: "https://www.nature.com/robots.txt".into(),
            host: "www.nature.com".into(),
            cause: "failed to lookup address information".into(),
        };
        assert!(
            dns.to_string()
                .starts_with("cannot resolve host www.nature.com: is the network up? ("),
            "{dns}"
        );
        // A retried failure and a robots.txt that could not be fetched for it say the same.
        let gave_up = FetchError::GaveUp {
            attempts: 3,
            last: Box::new(FetchError::Connect {
                url: "http://a/robots.txt".into(),
                cause: "refused".into(),
            }),
        };
        for e in [&dns, &gave_up] {
            assert!(e.host_unreachable(), "{e}");
        }
        let not = FetchError::Status {
            url: "http://a/".into(),
            status: 503,
        };
        assert!(!not.host_unreachable());
    }

    #[test]
    fn challenge_detection() {
        let mut cf = HeaderMap::new();
        cf.insert(SERVER, "cloudflare".parse().expect("hv"));
        let plain = HeaderMap::new();
        let mut mitigated = HeaderMap::new();
        mitigated.insert("cf-mitigated", "challenge".parse().expect("hv"));
        let moment = b"<title>Just a moment...</title>".as_slice();
        let chl = b"<script src=/cdn-cgi/challenge-platform/x.js>".as_slice();
        assert_eq!(challenge(&mitigated, b""), Some(Some("Cloudflare")));
        assert_eq!(challenge(&cf, moment), Some(Some("Cloudflare")));
        assert_eq!(challenge(&cf, chl), Some(Some("Cloudflare")));
        assert_eq!(challenge(&plain, chl), Some(None));
        assert_eq!(
            challenge(&plain, moment),
            None,
            "generic title alone is not enough"
        );
        assert_eq!(challenge(&cf, b"<h1>503 Service Unavailable</h1>"), None);
    }
}
