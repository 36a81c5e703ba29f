//! Fetching: URL + stored validators -> page bytes, "not modified", or a typed error.
//!
//! One shared HTTP client (passed in, never global); bodies are read chunk by chunk so the
//! size cap also bounds decompressed size (gzip/brotli bombs). `file://` URLs read saved
//! pages from disk under the same cap.

use std::time::Duration;

use reqwest::StatusCode;
use reqwest::header::{CONTENT_TYPE, ETAG, IF_MODIFIED_SINCE, IF_NONE_MATCH, LAST_MODIFIED};
use url::Url;

use crate::feed::CrawlSettings;
use crate::store::Validators;

/// A fetched page.
#[derive(Debug, Clone)]
pub struct Page {
    /// Final URL after redirects (relative links resolve against it).
    pub url: Url,
    /// HTTP status (200 for files).
    pub status: u16,
    pub body: Vec<u8>,
    pub content_type: Option<String>,
    pub etag: Option<String>,
    pub last_modified: Option<String>,
}

/// Outcome of a successful request.
#[derive(Debug, Clone)]
pub enum Fetched {
    /// 304: the stored copy is current.
    NotModified,
    Page(Page),
}

/// Why a fetch failed. Messages name the URL, the cause and, for limits, how to raise them.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("{url}: timed out after {}s (raise `timeout_secs` in [settings] if the site is just slow)", after.as_secs())]
    Timeout { url: String, after: Duration },
    #[error("{url}: cannot connect: {cause}")]
    Connect { url: String, cause: String },
    #[error("{url}: HTTP {status}")]
    Status { url: String, status: u16 },
    #[error("{url}: body larger than {limit} bytes (raise `max_body_bytes` in [settings])")]
    TooLarge { url: String, limit: u64 },
    #[error(
        "{url}: more than {limit} redirects or a redirect loop (raise `max_redirects` in [settings] if the chain is legitimate)"
    )]
    Redirects { url: String, limit: usize },
    #[error("{url}: cannot read file: {source}")]
    File { url: String, source: std::io::Error },
    #[error("{url}: {cause}")]
    Other { url: String, cause: String },
}

/// The HTTP client with scifeed's settings applied.
#[derive(Clone)]
pub struct Fetcher {
    client: reqwest::Client,
    crawl: CrawlSettings,
}

impl Fetcher {
    /// Builds the client (rustls with the ring provider, gzip/brotli/deflate, redirect cap).
    pub fn new(user_agent: &str, crawl: &CrawlSettings) -> Result<Fetcher, FetchError> {
        // Ignore the error: another part of the process may have installed one already.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let client = reqwest::Client::builder()
            .user_agent(user_agent)
            .connect_timeout(crawl.connect_timeout)
            .timeout(crawl.timeout)
            .redirect(reqwest::redirect::Policy::limited(crawl.max_redirects))
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
            crawl: crawl.clone(),
        })
    }

    /// Fetches `url`, sending the stored validators as a conditional GET.
    pub async fn fetch(&self, url: &Url, validators: &Validators) -> Result<Fetched, FetchError> {
        if url.scheme() == "file" {
            return self.read_file(url).await;
        }
        let mut req = self.client.get(url.clone());
        if let Some(etag) = &validators.etag {
            req = req.header(IF_NONE_MATCH, etag);
        }
        if let Some(lm) = &validators.last_modified {
            req = req.header(IF_MODIFIED_SINCE, lm);
        }
        let mut resp = req.send().await.map_err(|e| self.map_err(url, &e))?;
        let status = resp.status();
        if status == StatusCode::NOT_MODIFIED {
            return Ok(Fetched::NotModified);
        }
        if !status.is_success() {
            return Err(FetchError::Status {
                url: url.to_string(),
                status: status.as_u16(),
            });
        }
        let header = |name| {
            resp.headers()
                .get(name)
                .and_then(|v: &reqwest::header::HeaderValue| v.to_str().ok())
                .map(str::to_string)
        };
        let content_type = header(CONTENT_TYPE);
        let etag = header(ETAG);
        let last_modified = header(LAST_MODIFIED);
        let final_url = resp.url().clone();
        let limit = self.crawl.max_body_bytes;
        if resp.content_length().is_some_and(|n| n > limit) {
            return Err(FetchError::TooLarge {
                url: url.to_string(),
                limit,
            });
        }
        let mut body = Vec::new();
        while let Some(chunk) = resp.chunk().await.map_err(|e| self.map_err(url, &e))? {
            if body.len() as u64 + chunk.len() as u64 > limit {
                return Err(FetchError::TooLarge {
                    url: url.to_string(),
                    limit,
                });
            }
            body.extend_from_slice(&chunk);
        }
        Ok(Fetched::Page(Page {
            url: final_url,
            status: status.as_u16(),
            body,
            content_type,
            etag,
            last_modified,
        }))
    }

    async fn read_file(&self, url: &Url) -> Result<Fetched, FetchError> {
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
        Ok(Fetched::Page(Page {
            url: url.clone(),
            status: 200,
            body,
            content_type: None,
            etag: None,
            last_modified: None,
        }))
    }

    fn map_err(&self, url: &Url, e: &reqwest::Error) -> FetchError {
        let url_s = url.to_string();
        if e.is_timeout() {
            FetchError::Timeout {
                url: url_s,
                after: self.crawl.timeout,
            }
        } else if e.is_redirect() {
            FetchError::Redirects {
                url: url_s,
                limit: self.crawl.max_redirects,
            }
        } else if e.is_connect() {
            FetchError::Connect {
                url: url_s,
                cause: error_chain(e),
            }
        } else {
            FetchError::Other {
                url: url_s,
                cause: error_chain(e),
            }
        }
    }
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
