//! Per-host politeness: every request waits at its host's gate.
//!
//! A gate lets at most `per_host` requests to one host be in flight and spaces their starts at
//! least `min_interval` apart. Crawl-delay from robots.txt raises the interval; a retry
//! back-off (after a 429 or 503) holds the whole host, not just the request that got it.
//! Gates live in a map keyed by host name (not port: politeness is owed to a machine), created
//! on first use with the limits the config gives for that host.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tokio::sync::{Semaphore, SemaphorePermit};
use tokio::time::Instant;

use crate::feed::CrawlSettings;

/// Limits of one host.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HostLimits {
    /// Requests in flight at once.
    pub per_host: usize,
    /// Minimum gap between request starts.
    pub min_interval: Duration,
}

/// The gates of every host seen in a run.
#[derive(Debug)]
pub struct HostGates {
    default: HostLimits,
    overrides: HashMap<String, HostLimits>,
    gates: Mutex<HashMap<String, Arc<HostGate>>>,
}

impl HostGates {
    /// Gates for a run: `[settings]` limits, overridden per host by `[hosts."name"]` tables
    /// and, for the interval, by the feeds' `min_interval_ms` (the largest wish on a host wins,
    /// a `[hosts]` value beats every feed). `feeds` gives each http(s) feed's host and wish.
    pub fn for_run<'a>(
        crawl: &CrawlSettings,
        feeds: impl IntoIterator<Item = (&'a str, Option<Duration>)>,
    ) -> HostGates {
        let default = HostLimits {
            per_host: crawl.per_host,
            min_interval: crawl.min_interval,
        };
        let mut wishes: HashMap<String, Duration> = HashMap::new();
        for (host, wish) in feeds {
            if let Some(w) = wish {
                let e = wishes.entry(host.to_ascii_lowercase()).or_default();
                *e = (*e).max(w);
            }
        }
        let mut overrides = HashMap::new();
        for (host, wish) in &wishes {
            overrides.insert(
                host.clone(),
                HostLimits {
                    min_interval: *wish,
                    ..default
                },
            );
        }
        for (host, o) in &crawl.hosts {
            let e = overrides.entry(host.clone()).or_insert(default);
            if let Some(n) = o.per_host {
                e.per_host = n;
            }
            if let Some(i) = o.min_interval {
                e.min_interval = i;
            }
        }
        HostGates::new(default, overrides)
    }

    /// Gates with `default` limits, except for the hosts (lower-case names) in `overrides`.
    pub fn new(default: HostLimits, overrides: HashMap<String, HostLimits>) -> HostGates {
        HostGates {
            default,
            overrides,
            gates: Mutex::new(HashMap::new()),
        }
    }

    /// Requests `host` may have in flight at once.
    pub fn slots(&self, host: &str) -> usize {
        let host = host.to_ascii_lowercase();
        self.overrides
            .get(&host)
            .copied()
            .unwrap_or(self.default)
            .per_host
            .max(1)
    }

    /// The gate of `host` (created on first use).
    pub fn gate(&self, host: &str) -> Arc<HostGate> {
        let host = host.to_ascii_lowercase();
        let mut gates = self.gates.lock().unwrap_or_else(|e| e.into_inner());
        let limits = self.overrides.get(&host).copied().unwrap_or(self.default);
        Arc::clone(
            gates
                .entry(host)
                .or_insert_with(|| Arc::new(HostGate::new(limits))),
        )
    }
}

/// One host's gate.
#[derive(Debug)]
pub struct HostGate {
    slots: Semaphore,
    schedule: Mutex<Schedule>,
}

#[derive(Debug)]
struct Schedule {
    min_interval: Duration,
    /// Start time given to the latest request (possibly still in the future).
    last_start: Option<Instant>,
    /// No request starts before this (retry back-off).
    hold_until: Option<Instant>,
}

/// Proof of passage: the request is in flight until this is dropped.
#[derive(Debug)]
pub struct HostPermit<'a> {
    _slot: SemaphorePermit<'a>,
}

impl HostGate {
    fn new(limits: HostLimits) -> HostGate {
        HostGate {
            slots: Semaphore::new(limits.per_host.max(1)),
            schedule: Mutex::new(Schedule {
                min_interval: limits.min_interval,
                last_start: None,
                hold_until: None,
            }),
        }
    }

    fn schedule(&self) -> MutexGuard<'_, Schedule> {
        // The schedule holds plain values; a panic elsewhere cannot leave it inconsistent.
        self.schedule.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Waits for a free slot, then for this request's turn.
    pub async fn acquire(&self) -> HostPermit<'_> {
        let slot = self
            .slots
            .acquire()
            .await
            .expect("gate semaphores are never closed");
        // Reserve a start time under the lock, sleep outside it: concurrent callers get
        // successive slots `min_interval` apart even while they sleep.
        let start = {
            let mut s = self.schedule();
            let mut start = Instant::now();
            if let Some(last) = s.last_start {
                start = start.max(last + s.min_interval);
            }
            if let Some(hold) = s.hold_until {
                start = start.max(hold);
            }
            s.last_start = Some(start);
            start
        };
        tokio::time::sleep_until(start).await;
        HostPermit { _slot: slot }
    }

    /// Raises the minimum interval to at least `interval` (robots.txt Crawl-delay).
    pub fn raise_min_interval(&self, interval: Duration) {
        let mut s = self.schedule();
        s.min_interval = s.min_interval.max(interval);
    }

    /// Holds every request to this host for `wait` from now (retry back-off).
    pub fn hold_for(&self, wait: Duration) {
        let until = Instant::now() + wait;
        let mut s = self.schedule();
        s.hold_until = Some(s.hold_until.map_or(until, |h| h.max(until)));
    }

    /// The earliest moment a new request could start (`None`: now): the minimum interval
    /// after the latest start, or the end of a back-off. What a host's next holder must
    /// respect when another runner takes it over.
    pub fn next_start(&self) -> Option<Instant> {
        let s = self.schedule();
        let after_last = s.last_start.map(|l| l + s.min_interval);
        match (after_last, s.hold_until) {
            (Some(a), Some(h)) => Some(a.max(h)),
            (a, h) => a.or(h),
        }
        .filter(|t| *t > Instant::now())
    }

    /// The current minimum interval.
    pub fn min_interval(&self) -> Duration {
        self.schedule().min_interval
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(per_host: usize, ms: u64) -> HostLimits {
        HostLimits {
            per_host,
            min_interval: Duration::from_millis(ms),
        }
    }

    #[test]
    fn host_tables_beat_feed_wishes_which_beat_settings() {
        let mut crawl = CrawlSettings {
            per_host: 2,
            min_interval: Duration::from_millis(1000),
            ..CrawlSettings::default()
        };
        crawl.hosts.insert(
            "a.org".into(),
            crate::feed::HostOverride {
                per_host: Some(3),
                min_interval: None,
            },
        );
        crawl.hosts.insert(
            "b.org".into(),
            crate::feed::HostOverride {
                per_host: None,
                min_interval: Some(Duration::from_millis(50)),
            },
        );
        let ms = |n| Some(Duration::from_millis(n));
        let feeds = [
            ("a.org", ms(200)),
            ("A.org", ms(300)),
            ("b.org", ms(5000)),
            ("c.org", ms(10)),
            ("c.org", None),
        ];
        let g = HostGates::for_run(&crawl, feeds);
        let got = |h: &str| g.overrides.get(h).copied().unwrap_or(g.default);
        assert_eq!(got("a.org"), limits(3, 300));
        assert_eq!(got("b.org"), limits(2, 50));
        assert_eq!(got("c.org"), limits(2, 10));
        assert_eq!(got("d.org"), limits(2, 1000));
    }

    #[tokio::test(start_paused = true)]
    async fn starts_are_spaced_by_min_interval() {
        let gates = HostGates::new(limits(4, 100), HashMap::new());
        let gate = gates.gate("Example.org");
        let t0 = Instant::now();
        let mut starts = Vec::new();
        for _ in 0..3 {
            let _p = gate.acquire().await;
            starts.push(t0.elapsed());
        }
        let ms: Vec<u128> = starts.iter().map(Duration::as_millis).collect();
        assert_eq!(ms, [0, 100, 200]);
        assert!(
            Arc::ptr_eq(&gate, &gates.gate("example.org")),
            "one gate per host"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn per_host_limit_and_overrides() {
        let mut o = HashMap::new();
        o.insert("slow.org".to_string(), limits(1, 0));
        let gates = Arc::new(HostGates::new(limits(2, 0), o));
        let peak = |host: &'static str| {
            let gates = Arc::clone(&gates);
            async move {
                let active = Arc::new(std::sync::atomic::AtomicUsize::new(0));
                let peak = Arc::new(std::sync::atomic::AtomicUsize::new(0));
                let mut tasks = Vec::new();
                for _ in 0..6 {
                    let (g, a, p) = (gates.gate(host), active.clone(), peak.clone());
                    tasks.push(tokio::spawn(async move {
                        let _permit = g.acquire().await;
                        let n = a.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1;
                        p.fetch_max(n, std::sync::atomic::Ordering::SeqCst);
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        a.fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
                    }));
                }
                for t in tasks {
                    t.await.expect("task");
                }
                peak.load(std::sync::atomic::Ordering::SeqCst)
            }
        };
        assert_eq!(peak("fast.org").await, 2);
        assert_eq!(peak("slow.org").await, 1);
    }

    #[tokio::test(start_paused = true)]
    async fn crawl_delay_and_hold_delay_later_requests() {
        let gates = HostGates::new(limits(1, 0), HashMap::new());
        let gate = gates.gate("h");
        let t0 = Instant::now();
        drop(gate.acquire().await);
        gate.raise_min_interval(Duration::from_millis(300));
        gate.raise_min_interval(Duration::from_millis(100));
        assert_eq!(gate.min_interval(), Duration::from_millis(300));
        drop(gate.acquire().await);
        assert_eq!(t0.elapsed().as_millis(), 300);
        gate.hold_for(Duration::from_secs(2));
        drop(gate.acquire().await);
        assert_eq!(t0.elapsed().as_millis(), 2300);
    }
}
