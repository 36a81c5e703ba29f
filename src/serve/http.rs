//! The routes: `/`, `/<id>.rss|.atom|.json|.html`, `/feeds.opml`, `/health`, `/metrics`;
//! everything else is 404. A URL names a document by feed id, looked up among the config's
//! feeds: no part of a URL ever reaches the filesystem.
//!
//! Feed files and pages are served from the [`Catalog`] with a strong ETag (content hash),
//! `Last-Modified` (when the feed's items last changed), 304s, their precompressed gzip or
//! brotli form by `Accept-Encoding` (with `Vary`), and `Cache-Control: max-age` up to the
//! feed's next fetch. OPML, health and metrics are made per request and compressed by
//! tower-http.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, get};
use chrono::{DateTime, Utc};
use serde::Serialize;
use tower_http::compression::CompressionLayer;
use tower_http::timeout::TimeoutLayer;

use crate::render::Format;
use crate::serve::catalog::{Catalog, Doc, Encoding, Rendered, Snapshot, etag, version_of};
use crate::serve::headers;
use crate::serve::metrics::{self, Metrics};
use crate::serve::opml;
use crate::serve::status::Word;

/// Longest time one request may take once its headers are in.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// What every handler sees.
pub struct App {
    pub catalog: Arc<Catalog>,
    pub metrics: Arc<Metrics>,
}

/// The server's routes.
///
/// No middleware on the hot path: every handler checks the token and counts its response
/// itself ([`admit`], [`counted`]), which spares each request a boxed middleware future and
/// a copy of its headers; that is a tenth of the server's CPU per request.
pub fn router(app: Arc<App>) -> Router {
    // What is made per request is compressed by tower-http and bounded in time; feed files
    // and pages come precompressed from memory (a render has its own time limit).
    let compress = CompressionLayer::new();
    let timeout = TimeoutLayer::with_status_code(StatusCode::REQUEST_TIMEOUT, REQUEST_TIMEOUT);
    Router::new()
        .route("/", get(index).fallback(method_not_allowed))
        .route("/feeds.opml", dynamic(get(opml_list), &compress, &timeout))
        .route("/health", dynamic(get(health), &compress, &timeout))
        .route("/metrics", dynamic(get(metrics_text), &compress, &timeout))
        .route("/{file}", get(file).fallback(method_not_allowed))
        .fallback(not_found)
        .with_state(app)
}

/// A route made per request: compressed by tower-http, and bounded in time.
fn dynamic(
    route: MethodRouter<Arc<App>>,
    compress: &CompressionLayer,
    timeout: &TimeoutLayer,
) -> MethodRouter<Arc<App>> {
    route
        .fallback(method_not_allowed)
        .layer::<_, Infallible>(compress.clone())
        .layer::<_, Infallible>(*timeout)
}

/// With `[serve] token`, every path needs the token: `Some` is the 401 to send.
fn admit(app: &App, req: &Request) -> Option<Response> {
    let token = app.catalog.config.serve.token.as_ref()?;
    let auth = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    if headers::authorized(auth, req.uri().query(), token) {
        return None;
    }
    let mut r = plain(
        StatusCode::UNAUTHORIZED,
        "401 Unauthorized: add ?key=TOKEN to the URL or send Authorization: Bearer TOKEN\n",
    );
    r.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static("Bearer realm=\"scifeed\""),
    );
    Some(r)
}

/// Counts `r` by status for `/metrics` and passes it on.
fn counted(app: &App, r: Response) -> Response {
    app.metrics.record_response(r.status().as_u16());
    r
}

/// The token check, then `f`, the response counted either way.
macro_rules! guarded {
    ($app:expr, $req:expr, $body:expr) => {{
        match admit(&$app, &$req) {
            Some(r) => counted(&$app, r),
            None => {
                let r = $body;
                counted(&$app, r)
            }
        }
    }};
}

async fn method_not_allowed(State(app): State<Arc<App>>, req: Request) -> Response {
    guarded!(app, req, {
        let mut r = plain(StatusCode::METHOD_NOT_ALLOWED, "405 Method Not Allowed\n");
        r.headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static("GET,HEAD"));
        r
    })
}

fn plain(status: StatusCode, text: &'static str) -> Response {
    let mut r = (status, text).into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    r.headers_mut().insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    r
}

async fn not_found(State(app): State<Arc<App>>, req: Request) -> Response {
    guarded!(app, req, not_found_response())
}

fn not_found_response() -> Response {
    plain(StatusCode::NOT_FOUND, "404 Not Found\n")
}

async fn index(State(app): State<Arc<App>>, req: Request) -> Response {
    guarded!(app, req, document(&app, 0, Doc::Index, req.headers()).await)
}

/// `/<id>.<ext>`: `ext` picks the document; only ids of the config and formats it writes.
/// The name is percent-decoded and looked up among the feeds, nothing else.
async fn file(State(app): State<Arc<App>>, req: Request) -> Response {
    guarded!(app, req, {
        let raw = req.uri().path().strip_prefix('/').unwrap_or_default();
        match percent_encoding::percent_decode_str(raw).decode_utf8() {
            Ok(name) => match find(&app.catalog, &name) {
                Some((idx, doc)) => document(&app, idx, doc, req.headers()).await,
                None => not_found_response(),
            },
            Err(_) => not_found_response(),
        }
    })
}

/// The document a file name names.
fn find(cat: &Catalog, name: &str) -> Option<(usize, Doc)> {
    let (id, ext) = name.rsplit_once('.')?;
    let idx = cat.index_of(id)?;
    if ext == "html" {
        return Some((idx, Doc::Page));
    }
    let f = Format::ALL
        .into_iter()
        .find(|f| f.extension() == ext && cat.config.settings.formats.contains(f))?;
    Some((idx, Doc::Feed(f)))
}

fn header_str<'a>(h: &'a HeaderMap, name: &HeaderName) -> Option<&'a str> {
    h.get(name).and_then(|v| v.to_str().ok())
}

/// A rendered document with every header rule: ETag, Last-Modified, 304, coding, caching.
async fn document(app: &Arc<App>, idx: usize, doc: Doc, req: &HeaderMap) -> Response {
    let cat = &app.catalog;
    let inm = header_str(req, &header::IF_NONE_MATCH);
    let ims = header_str(req, &header::IF_MODIFIED_SINCE);
    // Cached documents and known hashes are answered without an await.
    let (meta, lm, snap) = match cat.with_snapshot(|snap| prepare(app, snap, idx, doc, req)) {
        Step::Done(r) => return r,
        Step::Render(meta, lm) => (meta, lm, cat.snapshot()),
    };
    let rendered = match cat.document(idx, doc, &snap).await {
        Ok(r) => r,
        Err(e) => {
            tracing::error!("cannot render {doc:?} of feed #{idx}: {e}");
            return plain(
                StatusCode::SERVICE_UNAVAILABLE,
                "503 Service Unavailable: the feed history cannot be read right now\n",
            );
        }
    };
    if headers::not_modified(inm, ims, &rendered.hash, lm) {
        return meta.not_modified(rendered.etag_header(meta.enc));
    }
    meta.ok(&rendered)
}

/// What [`prepare`] decided.
enum Step {
    Done(Response),
    /// The document must be rendered first; its headers and last change.
    Render(Meta, Option<DateTime<Utc>>),
}

/// Everything of [`document`] that needs no render: the headers, the 503 of a feed not
/// fetched yet, 304s for known hashes, and cached documents.
fn prepare(app: &App, snap: &Arc<Snapshot>, idx: usize, doc: Doc, req: &HeaderMap) -> Step {
    let cat = &app.catalog;
    let now = Utc::now();
    let view = (doc != Doc::Index).then(|| &snap.feeds[idx]);
    let private = cat.config.serve.token.is_some();
    let (content_type, last_modified, cache_control) = match (doc, view) {
        (Doc::Feed(f), Some(v)) => {
            if v.summary.items == 0 {
                return Step::Done(not_fetched_yet(v.next_fetch, now));
            }
            let age = headers::max_age(v.next_fetch, now);
            (
                content_type(f),
                v.last_modified.clone(),
                cache_control(age, private),
            )
        }
        _ => (
            HTML,
            None,
            HeaderValue::from_static(if private {
                "private, no-cache"
            } else {
                "no-cache"
            }),
        ),
    };
    let enc = headers::negotiate(header_str(req, &header::ACCEPT_ENCODING));
    let inm = header_str(req, &header::IF_NONE_MATCH);
    let ims = header_str(req, &header::IF_MODIFIED_SINCE);
    let lm = last_modified.as_ref().map(|(t, _)| *t);
    let meta = Meta {
        content_type,
        last_modified: last_modified.map(|(_, v)| v),
        cache_control,
        enc,
        html: !matches!(doc, Doc::Feed(_)),
    };
    let version = version_of(snap, idx, doc);
    let served = cat.cached(idx, doc, version, |r| {
        if headers::not_modified(inm, ims, &r.hash, lm) {
            meta.not_modified(r.etag_header(enc))
        } else {
            meta.ok(r)
        }
    });
    if let Some(r) = served {
        return Step::Done(r);
    }
    // A reader asking "changed?" about a document rendered before needs no render, even
    // when its body has left the cache.
    if (inm.is_some() || ims.is_some())
        && let Some(hash) = cat.known_hash(idx, doc, version)
        && headers::not_modified(inm, ims, &hash, lm)
    {
        return Step::Done(meta.not_modified(etag_value(&hash, enc)));
    }
    Step::Render(meta, lm)
}

thread_local! {
    /// The last `Cache-Control` value this thread made: a busy feed asks for the same one
    /// many times a second.
    static CACHE_CONTROL: std::cell::RefCell<Option<(i64, bool, HeaderValue)>> =
        const { std::cell::RefCell::new(None) };
}

/// `Cache-Control: [private, ]max-age=<age>`.
fn cache_control(age: i64, private: bool) -> HeaderValue {
    CACHE_CONTROL.with(|cell| {
        if let Some((a, p, v)) = &*cell.borrow()
            && *a == age
            && *p == private
        {
            return v.clone();
        }
        let text = format!("{}max-age={age}", if private { "private, " } else { "" });
        let v = HeaderValue::from_str(&text).unwrap_or(HeaderValue::from_static("no-cache"));
        *cell.borrow_mut() = Some((age, private, v.clone()));
        v
    })
}

fn etag_value(hash: &str, enc: Encoding) -> HeaderValue {
    HeaderValue::from_str(&etag(hash, enc)).unwrap_or(HeaderValue::from_static("\"\""))
}

const HTML: HeaderValue = HeaderValue::from_static("text/html; charset=utf-8");

/// `Content-Type` of a feed format.
fn content_type(f: Format) -> HeaderValue {
    HeaderValue::from_static(match f {
        Format::Rss => "application/rss+xml; charset=utf-8",
        Format::Atom => "application/atom+xml; charset=utf-8",
        Format::Json => "application/feed+json; charset=utf-8",
    })
}

/// The headers a document's 200 and 304 share.
struct Meta {
    content_type: HeaderValue,
    last_modified: Option<HeaderValue>,
    cache_control: HeaderValue,
    enc: Encoding,
    html: bool,
}

impl Meta {
    fn common(&self, h: &mut HeaderMap, etag: HeaderValue) {
        h.insert(header::ETAG, etag);
        if let Some(lm) = &self.last_modified {
            h.insert(header::LAST_MODIFIED, lm.clone());
        }
        h.insert(header::CACHE_CONTROL, self.cache_control.clone());
        h.insert(header::VARY, HeaderValue::from_static("Accept-Encoding"));
    }

    fn not_modified(&self, etag: HeaderValue) -> Response {
        let mut r = StatusCode::NOT_MODIFIED.into_response();
        self.common(r.headers_mut(), etag);
        r
    }

    fn ok(&self, doc: &Rendered) -> Response {
        let mut h = HeaderMap::with_capacity(12);
        self.common(&mut h, doc.etag_header(self.enc));
        h.insert(header::CONTENT_TYPE, self.content_type.clone());
        if let Some(c) = self.enc.header() {
            h.insert(header::CONTENT_ENCODING, HeaderValue::from_static(c));
        }
        h.insert(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        );
        if self.html {
            // Plain HTML and CSS: no script runs, and images load only over http(s).
            h.insert(
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static(
                    "default-src 'none'; style-src 'unsafe-inline'; img-src http: https:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
                ),
            );
            h.insert(
                header::REFERRER_POLICY,
                HeaderValue::from_static("no-referrer"),
            );
        }
        let mut r = Response::new(Body::from(doc.body(self.enc)));
        *r.headers_mut() = h;
        r
    }
}

/// 503 for a feed that has no items yet (never fetched successfully), with `Retry-After`.
fn not_fetched_yet(next: Option<DateTime<Utc>>, now: DateTime<Utc>) -> Response {
    let mut r = plain(
        StatusCode::SERVICE_UNAVAILABLE,
        "503 Service Unavailable: this feed has not been fetched successfully yet\n",
    );
    let wait = headers::max_age(next, now).max(60);
    if let Ok(v) = HeaderValue::from_str(&wait.to_string()) {
        r.headers_mut().insert(header::RETRY_AFTER, v);
    }
    r
}

fn no_store(mut r: Response, content_type: &'static str) -> Response {
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    r
}

/// `/feeds.opml[?format=rss|atom|json]`: every feed, linked at the server's address.
async fn opml_list(State(app): State<Arc<App>>, req: Request) -> Response {
    guarded!(app, req, opml_response(&app, &req))
}

fn opml_response(app: &App, req: &Request) -> Response {
    let cat = &app.catalog;
    let wanted = req.uri().query().and_then(|q| {
        url::form_urlencoded::parse(q.as_bytes())
            .find(|(k, _)| k == "format")
            .map(|(_, v)| v.into_owned())
    });
    let format = match wanted.as_deref() {
        None => None,
        Some(w) => match Format::ALL.into_iter().find(|f| f.extension() == w) {
            Some(f) => Some(f),
            None => {
                return plain(
                    StatusCode::BAD_REQUEST,
                    "400 Bad Request: format is rss, atom or json\n",
                );
            }
        },
    };
    let Ok(format) = opml::pick_format(&cat.config, format) else {
        return plain(
            StatusCode::NOT_FOUND,
            "404 Not Found: this server does not write that format\n",
        );
    };
    let list = opml::outlines(&cat.config.feeds, &cat.base, format, &cat.key_suffix);
    let body = opml::render("scifeed feeds", &list);
    let mut r = Response::new(Body::from(body));
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/x-opml; charset=utf-8"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    r
}

#[derive(Serialize)]
struct HealthDoc<'a> {
    /// "ok" when no feed is failing, else "failing".
    status: &'static str,
    feeds_total: usize,
    feeds_failing: usize,
    round: RoundDoc,
    feeds: Vec<FeedHealthDoc<'a>>,
}

#[derive(Serialize)]
struct RoundDoc {
    running: bool,
    last_started: Option<DateTime<Utc>>,
    last_finished: Option<DateTime<Utc>>,
    next: Option<DateTime<Utc>>,
    completed: u64,
}

#[derive(Serialize)]
struct FeedHealthDoc<'a> {
    id: &'a str,
    title: &'a str,
    status: Word,
    status_text: String,
    items: usize,
    last_success: Option<DateTime<Utc>>,
    last_failure: Option<DateTime<Utc>>,
    consecutive_failures: u32,
    last_error: Option<&'a str>,
    next_fetch: Option<DateTime<Utc>>,
}

/// `/health`: every feed's status, last success and consecutive failures, as JSON.
async fn health(State(app): State<Arc<App>>, req: Request) -> Response {
    guarded!(app, req, health_response(&app))
}

fn health_response(app: &App) -> Response {
    let cat = &app.catalog;
    let snap = cat.snapshot();
    let feeds: Vec<FeedHealthDoc<'_>> = cat
        .config
        .feeds
        .iter()
        .zip(&snap.feeds)
        .map(|(spec, v)| FeedHealthDoc {
            id: &spec.id,
            title: &spec.title,
            status: v.health.word(),
            status_text: v.health.describe(),
            items: v.summary.items,
            last_success: v.summary.last_ok,
            last_failure: v.summary.last_failure,
            consecutive_failures: v.summary.failures,
            last_error: v.summary.last_error.as_deref(),
            next_fetch: v.next_fetch,
        })
        .collect();
    let failing = snap.feeds.iter().filter(|f| f.health.failing()).count();
    let doc = HealthDoc {
        status: if failing == 0 { "ok" } else { "failing" },
        feeds_total: feeds.len(),
        feeds_failing: failing,
        round: RoundDoc {
            running: snap.round.running,
            last_started: snap.round.last_started,
            last_finished: snap.round.last_finished,
            next: snap.round.next,
            completed: snap.round.completed,
        },
        feeds,
    };
    let body = serde_json::to_vec_pretty(&doc).unwrap_or_default();
    no_store(Response::new(Body::from(body)), "application/json")
}

/// `/metrics`: Prometheus text format.
async fn metrics_text(State(app): State<Arc<App>>, req: Request) -> Response {
    guarded!(app, req, {
        let text = app.metrics.encode(app.catalog.cached_bytes());
        no_store(Response::new(Body::from(text)), metrics::CONTENT_TYPE)
    })
}
