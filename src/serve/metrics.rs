//! `/metrics`: Prometheus text format (0.0.4) by the `prometheus-client` crate, every name
//! prefixed `scifeed_`. Per feed: last success time, items, consecutive failures; per round:
//! fetch outcomes by kind, fetch durations, the share of listing fetches answered 304,
//! robots.txt denials; per HTTP response of the server: its status.

use std::sync::atomic::AtomicU64;

use prometheus_client::encoding::{EncodeLabelSet, prometheus_text};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::{Registry, Unit};

use crate::feed::FeedSpec;
use crate::fetch::FetchError;
use crate::report::{FeedError, FeedOutcome, FeedStatus, RunReport};
use crate::serve::catalog::Snapshot;

/// `Content-Type` of `/metrics`.
pub const CONTENT_TYPE: &str = prometheus_text::CONTENT_TYPE;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct FeedLabel {
    feed: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct KindLabel {
    kind: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StatusLabel {
    status: u16,
}

/// Every metric the server exports.
pub struct Metrics {
    registry: Registry,
    last_success: Family<FeedLabel, Gauge>,
    items: Family<FeedLabel, Gauge>,
    failures: Family<FeedLabel, Gauge>,
    outcomes: Family<KindLabel, Counter>,
    duration: Histogram,
    http_fetches: Counter,
    not_modified: Counter,
    not_modified_share: Gauge<f64, AtomicU64>,
    robots_denials: Counter,
    rounds: Counter,
    responses: Family<StatusLabel, Counter>,
    /// The counters of the usual statuses, looked up once: counting a response then costs
    /// one atomic add instead of a locked map lookup.
    usual: Vec<(u16, Counter)>,
    cache_bytes: Gauge,
}

/// Statuses the server answers most.
const USUAL: [u16; 8] = [200, 304, 404, 401, 503, 405, 400, 408];

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// A registry with every metric at zero.
    pub fn new() -> Metrics {
        let mut registry = Registry::with_prefix("scifeed");
        let m = Metrics {
            last_success: Family::default(),
            items: Family::default(),
            failures: Family::default(),
            outcomes: Family::default(),
            // 10 ms .. about 160 s.
            duration: Histogram::new(exponential_buckets(0.01, 2.0, 15)),
            http_fetches: Counter::default(),
            not_modified: Counter::default(),
            not_modified_share: Gauge::default(),
            robots_denials: Counter::default(),
            rounds: Counter::default(),
            responses: Family::default(),
            usual: Vec::new(),
            cache_bytes: Gauge::default(),
            registry: Registry::default(),
        };
        registry.register_with_unit(
            "feed_last_success",
            "When the feed was last fetched successfully (Unix time)",
            Unit::Seconds,
            m.last_success.clone(),
        );
        registry.register("feed_items", "Items in the feed's history", m.items.clone());
        registry.register(
            "feed_consecutive_failures",
            "Failed fetches of the feed since its last success",
            m.failures.clone(),
        );
        registry.register(
            "fetch_outcomes",
            "Feed fetches by outcome: updated, unchanged, not_modified, failed_fetch, failed_listing, failed_local, robots_denied, not_run",
            m.outcomes.clone(),
        );
        registry.register_with_unit(
            "fetch_duration",
            "Time per feed from its fetch to its files written",
            Unit::Seconds,
            m.duration.clone(),
        );
        registry.register(
            "http_fetches",
            "Listing pages fetched over HTTP(S)",
            m.http_fetches.clone(),
        );
        registry.register(
            "http_not_modified",
            "Listing page fetches answered 304 Not Modified",
            m.not_modified.clone(),
        );
        registry.register(
            "http_not_modified_share",
            "Share of listing page fetches answered 304 (0..1, since start)",
            m.not_modified_share.clone(),
        );
        registry.register(
            "robots_denials",
            "Feed fetches refused because robots.txt disallows the page",
            m.robots_denials.clone(),
        );
        registry.register("rounds", "Crawl rounds completed", m.rounds.clone());
        registry.register(
            "server_responses",
            "HTTP responses of this server by status",
            m.responses.clone(),
        );
        registry.register_with_unit(
            "cache",
            "Rendered documents held in memory",
            Unit::Bytes,
            m.cache_bytes.clone(),
        );
        let usual = USUAL
            .iter()
            .map(|&status| {
                let c = m.responses.get_or_create_owned(&StatusLabel { status });
                (status, c)
            })
            .collect();
        Metrics {
            registry,
            usual,
            ..m
        }
    }

    /// Counts one finished round.
    pub fn record_round(&self, report: &RunReport) {
        self.rounds.inc();
        for o in &report.outcomes {
            if matches!(o.status, FeedStatus::NotDue { .. }) {
                continue;
            }
            let kind = outcome_kind(o);
            self.outcomes.get_or_create(&KindLabel { kind }).inc();
            if kind == "robots_denied" {
                self.robots_denials.inc();
            }
            if o.status != FeedStatus::Pending {
                self.duration.observe(o.elapsed.as_secs_f64());
            }
            if o.http_status.is_some() && o.url.starts_with("http") {
                self.http_fetches.inc();
                if o.http_status == Some(304) {
                    self.not_modified.inc();
                }
            }
        }
        let all = self.http_fetches.get();
        if all > 0 {
            self.not_modified_share
                .set(self.not_modified.get() as f64 / all as f64);
        }
    }

    /// Sets the per-feed gauges from a snapshot.
    pub fn record_feeds(&self, feeds: &[FeedSpec], snap: &Snapshot) {
        for (spec, view) in feeds.iter().zip(&snap.feeds) {
            let label = FeedLabel {
                feed: spec.id.clone(),
            };
            if let Some(t) = view.summary.last_ok {
                self.last_success.get_or_create(&label).set(t.timestamp());
            }
            self.items
                .get_or_create(&label)
                .set(i64::try_from(view.summary.items).unwrap_or(i64::MAX));
            self.failures
                .get_or_create(&label)
                .set(i64::from(view.summary.failures));
        }
    }

    /// Counts one response of the server.
    pub fn record_response(&self, status: u16) {
        match self.usual.iter().find(|(s, _)| *s == status) {
            Some((_, c)) => {
                c.inc();
            }
            None => {
                self.responses.get_or_create(&StatusLabel { status }).inc();
            }
        }
    }

    /// The text exposition, with the cache size as of now.
    pub fn encode(&self, cache_bytes: u64) -> String {
        self.cache_bytes
            .set(i64::try_from(cache_bytes).unwrap_or(i64::MAX));
        let mut out = String::new();
        // Writing to a String cannot fail.
        let _ = prometheus_text::encode(&mut out, &self.registry);
        out
    }
}

/// The outcome kind of one feed in a round: how it succeeded, or what kind of failure.
pub fn outcome_kind(o: &FeedOutcome) -> &'static str {
    match &o.status {
        FeedStatus::Pending => "not_run",
        FeedStatus::NotDue { .. } => "not_due",
        FeedStatus::Elsewhere => "other_runner",
        FeedStatus::Updated { .. } => "updated",
        FeedStatus::Unchanged { .. } => "unchanged",
        FeedStatus::NotModified { .. } => "not_modified",
        FeedStatus::Failed(f) => match &*f.error {
            FeedError::Fetch(FetchError::RobotsDisallowed { .. }) => "robots_denied",
            FeedError::Fetch(_) => "failed_fetch",
            FeedError::Listing { .. } => "failed_listing",
            FeedError::Store(_) | FeedError::Write { .. } | FeedError::Internal(_) => {
                "failed_local"
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn rounds_and_responses_are_exported() {
        let m = Metrics::new();
        let mut a = FeedOutcome::new("a", "https://a/");
        a.status = FeedStatus::NotModified { total: 3 };
        a.http_status = Some(304);
        a.elapsed = Duration::from_millis(30);
        let mut b = FeedOutcome::new("b", "https://b/");
        b.status = FeedStatus::Failed(crate::report::Failure::new(FeedError::Fetch(
            FetchError::RobotsDisallowed {
                url: "https://b/x".into(),
                robots_url: "https://b/robots.txt".into(),
                agent: "scifeed".into(),
            },
        )));
        let mut c = FeedOutcome::new("c", "https://c/");
        c.status = FeedStatus::Updated {
            new: 1,
            updated: 0,
            total: 1,
            files_written: 3,
        };
        c.http_status = Some(200);
        m.record_round(&RunReport {
            outcomes: vec![a, b, c],
            interrupted: None,
        });
        m.record_response(200);
        m.record_response(404);
        m.record_response(404);
        let text = m.encode(1234);
        for line in [
            "scifeed_fetch_outcomes_total{kind=\"not_modified\"} 1",
            "scifeed_fetch_outcomes_total{kind=\"robots_denied\"} 1",
            "scifeed_fetch_outcomes_total{kind=\"updated\"} 1",
            "scifeed_robots_denials_total 1",
            "scifeed_http_fetches_total 2",
            "scifeed_http_not_modified_total 1",
            "scifeed_http_not_modified_share 0.5",
            "scifeed_fetch_duration_seconds_count 3",
            "scifeed_server_responses_total{status=\"404\"} 2",
            "scifeed_cache_bytes 1234",
            "scifeed_rounds_total 1",
        ] {
            assert!(text.lines().any(|l| l == line), "{line} missing in\n{text}");
        }
    }
}
