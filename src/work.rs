//! Which unit of work a runner takes next: feeds grouped by host, hosts leased from the
//! state, each host's robots.txt first, hosts taking turns.
//!
//! The round's due feeds come in; [`WorkQueue::next`] hands out one [`Work`] at a time (the
//! pipeline's `buffer_unordered` asks whenever a slot is free) and the pipeline reports each
//! one back with [`WorkQueue::finished`]. A host is leased before any request goes to it and
//! given back once its feeds are done, with the time its gate allows the next request, so
//! per-host politeness holds across runners sharing a PostgreSQL state. On SQLite every host
//! is granted at once and the order is what it always was: every robots.txt first (busiest
//! hosts first), then the feeds, hosts taking turns.
//!
//! More hosts are leased only when none of the held ones can start a request now (all busy
//! up to `per_host`, or waiting out their interval), and never more than `concurrency` at
//! once, so a runner takes as many hosts as its slots can keep busy and leaves the rest to
//! other runners. A leased host's feeds are
//! checked again against the schedule the lease read: a feed another runner processed in
//! the meantime is not fetched twice. Hosts another runner holds are left to it.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use chrono::{DateTime, Utc};
use url::Url;

use crate::feed::{FeedSpec, Settings};
use crate::fetch::Fetcher;
use crate::report::{Failure, FeedError, FeedOutcome, FeedStatus};
use crate::schedule::{self, ScheduleConfig};
use crate::shutdown::Shutdown;
use crate::store::StateStore;
use crate::store::backend::HostWant;

/// One unit of work for the round's single `buffer_unordered`.
pub enum Work {
    /// Read the robots.txt governing this URL.
    Robots(Url),
    Feed(Arc<FeedSpec>),
}

impl Work {
    /// The lease key of the host this work talks to.
    pub fn host(&self) -> String {
        match self {
            Work::Robots(url) => host_key_of(url, ""),
            Work::Feed(f) => host_key(f),
        }
    }
}

/// The key a feed's host is leased and gated under: the lower-case host name; `file://`
/// feeds need no politeness and each gets a key of its own.
pub fn host_key(feed: &FeedSpec) -> String {
    host_key_of(&feed.url, &feed.id)
}

fn host_key_of(url: &Url, id: &str) -> String {
    match url.host_str() {
        Some(h) if matches!(url.scheme(), "http" | "https") => h.to_ascii_lowercase(),
        _ => format!("file:{id}"),
    }
}

/// How the round decides whether a leased feed is still due.
pub struct DueCheck {
    pub settings: Settings,
    pub every: Option<Duration>,
    pub due_only: bool,
    pub now: DateTime<Utc>,
}

/// The round's queue of work (see the module docs).
pub struct WorkQueue {
    inner: Mutex<Inner>,
    wake: tokio::sync::Notify,
    store: Arc<dyn StateStore>,
    fetcher: Arc<Fetcher>,
    due: DueCheck,
    /// Hosts asked for in one lease.
    batch: usize,
    /// Hosts held at most at once: as many as the runner has slots (`concurrency`), so
    /// that runners sharing a state split the hosts instead of the first taking them all.
    max_held: usize,
    /// Once triggered, no more work is handed out.
    shutdown: Shutdown,
}

struct Inner {
    /// Hosts not leased yet, busiest first.
    pending: VecDeque<(String, Vec<FeedSpec>)>,
    held: Vec<Held>,
    /// Where the next search for ready work starts (hosts take turns).
    cursor: usize,
    /// Feeds this runner will not fetch, with why.
    skipped: Vec<FeedOutcome>,
}

struct Held {
    host: String,
    queue: VecDeque<Work>,
    in_flight: usize,
    slots: usize,
}

enum Step {
    Lease(Vec<(String, Vec<FeedSpec>)>),
    Wait,
}

impl WorkQueue {
    /// A queue over `feeds` (the round's due feeds). With a store that is not shared every
    /// host is leased in one go.
    pub fn new(
        feeds: Vec<FeedSpec>,
        store: Arc<dyn StateStore>,
        fetcher: Arc<Fetcher>,
        due: DueCheck,
        shutdown: Shutdown,
    ) -> WorkQueue {
        let mut index: HashMap<String, usize> = HashMap::new();
        let mut groups: Vec<(String, Vec<FeedSpec>)> = Vec::new();
        for feed in feeds {
            let key = host_key(&feed);
            let i = *index.entry(key.clone()).or_insert_with(|| {
                groups.push((key, Vec::new()));
                groups.len() - 1
            });
            groups[i].1.push(feed);
        }
        // Stable: equal queues keep config order.
        groups.sort_by_key(|g| std::cmp::Reverse(g.1.len()));
        let (batch, max_held) = if store.shared() {
            let c = due.settings.crawl.concurrency.max(1);
            (c.clamp(4, 64), c)
        } else {
            (groups.len().max(1), usize::MAX)
        };
        WorkQueue {
            inner: Mutex::new(Inner {
                pending: groups.into(),
                held: Vec::new(),
                cursor: 0,
                skipped: Vec::new(),
            }),
            wake: tokio::sync::Notify::new(),
            store,
            fetcher,
            due,
            batch,
            max_held,
            shutdown,
        }
    }

    fn inner(&self) -> MutexGuard<'_, Inner> {
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The next unit of work, or `None` when there is no more for this runner (work handed
    /// out may still be running). Leasing errors end the queue: the feeds not leased are
    /// reported as failed with the cause.
    pub async fn next(&self) -> Option<Work> {
        loop {
            if self.shutdown.signal().is_some() {
                return None;
            }
            let notified = self.wake.notified();
            let step = {
                let mut st = self.inner();
                if let Some(w) = st.take_ready(&self.fetcher, false) {
                    return Some(w);
                }
                let room = self.max_held.saturating_sub(st.held.len());
                if !st.pending.is_empty() && room > 0 {
                    let n = self.batch.min(st.pending.len()).min(room);
                    Step::Lease(st.pending.drain(..n).collect())
                } else if let Some(w) = st.take_ready(&self.fetcher, true) {
                    return Some(w);
                } else if st.held.iter().all(|h| h.queue.is_empty()) {
                    return None;
                } else {
                    Step::Wait
                }
            };
            match step {
                Step::Lease(groups) => self.lease(groups).await,
                // A slot of a held host frees up when its work finishes; the timeout only
                // guards against a lost wake-up.
                Step::Wait => {
                    let _ = tokio::time::timeout(Duration::from_secs(1), notified).await;
                }
            }
        }
    }

    /// Leases `groups`; the granted hosts join the held ones, the others are left to the
    /// runners holding them.
    async fn lease(&self, groups: Vec<(String, Vec<FeedSpec>)>) {
        let wants: Vec<HostWant> = groups
            .iter()
            .map(|(host, feeds)| HostWant {
                host: host.clone(),
                feeds: feeds
                    .iter()
                    .map(|f| (f.id.clone(), crate::publish::validators_key(f)))
                    .collect(),
            })
            .collect();
        let store = Arc::clone(&self.store);
        let max = wants.len();
        let granted = tokio::task::spawn_blocking(move || store.lease_hosts(&wants, max))
            .await
            .unwrap_or_else(|e| {
                Err(crate::store::StoreError::Postgres {
                    target: String::new(),
                    cause: format!("lease task failed: {e}"),
                })
            });
        let mut st = self.inner();
        let granted = match granted {
            Ok(g) => g,
            Err(e) => {
                let failure = Failure::new(FeedError::Store(e));
                let rest: Vec<_> = st.pending.drain(..).collect();
                for (_, feeds) in groups.into_iter().chain(rest) {
                    for f in feeds {
                        let mut o = FeedOutcome::new(&f.id, f.url.as_str());
                        o.status = FeedStatus::Failed(failure.clone());
                        st.skipped.push(o);
                    }
                }
                return;
            }
        };
        let mut by_host: HashMap<String, Vec<FeedSpec>> = groups.into_iter().collect();
        for leased in granted {
            let Some(feeds) = by_host.remove(&leased.host) else {
                continue;
            };
            if let Some(t) = leased.not_before {
                let wait = (t - Utc::now()).to_std().unwrap_or_default();
                if !wait.is_zero() {
                    self.fetcher.hold_host(&leased.host, wait);
                }
            }
            let fresh: HashMap<&str, &crate::store::backend::LeasedFeed> =
                leased.feeds.iter().map(|f| (f.id.as_str(), f)).collect();
            let mut queue = VecDeque::new();
            for feed in feeds {
                let lf = fresh.get(feed.id.as_str());
                match self.still_due(&feed, lf.copied()) {
                    Ok(()) => {
                        if queue.is_empty() && matches!(feed.url.scheme(), "http" | "https") {
                            queue.push_back(Work::Robots(feed.url.clone()));
                        }
                        queue.push_back(Work::Feed(Arc::new(feed)));
                    }
                    Err(status) => {
                        let mut o = FeedOutcome::new(&feed.id, feed.url.as_str());
                        o.status = status;
                        st.skipped.push(o);
                    }
                }
            }
            if queue.is_empty() {
                self.store.release_host(&leased.host, None);
                continue;
            }
            st.held.push(Held {
                slots: self.fetcher.host_slots(&leased.host),
                host: leased.host,
                queue,
                in_flight: 0,
            });
        }
        // Not granted: another runner holds them.
        for (_, feeds) in by_host {
            for f in feeds {
                let mut o = FeedOutcome::new(&f.id, f.url.as_str());
                o.status = FeedStatus::Elsewhere;
                st.skipped.push(o);
            }
        }
    }

    /// Whether a leased feed is still to be fetched, with what the lease read of it.
    fn still_due(
        &self,
        feed: &FeedSpec,
        fresh: Option<&crate::store::backend::LeasedFeed>,
    ) -> Result<(), FeedStatus> {
        let Some(lf) = fresh else { return Ok(()) };
        let cfg = ScheduleConfig::for_feed(feed, &self.due.settings, self.due.every);
        if self.due.due_only
            && let Some(cfg) = &cfg
            && let Err(next) = schedule::due(cfg, lf.schedule.as_ref(), self.due.now)
        {
            return Err(FeedStatus::NotDue { next });
        }
        if lf.done_this_round {
            return Err(match (&cfg, &lf.schedule) {
                (Some(cfg), Some(_)) => schedule::next_due(cfg, lf.schedule.as_ref())
                    .map_or(FeedStatus::Elsewhere, |next| FeedStatus::NotDue { next }),
                _ => FeedStatus::Elsewhere,
            });
        }
        Ok(())
    }

    /// Reports that work on `host` ended; a host with nothing left is given back.
    pub fn finished(&self, host: &str) {
        let release = {
            let mut st = self.inner();
            let Some(i) = st.held.iter().position(|h| h.host == host) else {
                return;
            };
            let h = &mut st.held[i];
            h.in_flight = h.in_flight.saturating_sub(1);
            if h.queue.is_empty() && h.in_flight == 0 {
                st.held.remove(i);
                if st.cursor > i {
                    st.cursor -= 1;
                }
                true
            } else {
                false
            }
        };
        if release {
            let next = self.fetcher.host_next_start(host).map(|t| {
                let wait = t.saturating_duration_since(tokio::time::Instant::now());
                Utc::now() + chrono::Duration::from_std(wait).unwrap_or_default()
            });
            self.store.release_host(host, next);
        }
        self.wake.notify_waiters();
    }

    /// Feeds this runner did not fetch (not due any more, or another runner's).
    pub fn take_skipped(&self) -> Vec<FeedOutcome> {
        std::mem::take(&mut self.inner().skipped)
    }

    /// Feeds queued on held hosts that were never handed out (the round was stopped).
    pub fn take_unstarted(&self) -> Vec<Arc<FeedSpec>> {
        let mut st = self.inner();
        let mut out = Vec::new();
        for h in &mut st.held {
            for w in h.queue.drain(..) {
                if let Work::Feed(f) = w {
                    out.push(f);
                }
            }
        }
        for (_, feeds) in st.pending.drain(..) {
            out.extend(feeds.into_iter().map(Arc::new));
        }
        out
    }
}

impl Inner {
    /// Work of a held host with a free slot, hosts taking turns: one whose gate is open now,
    /// or with `any`, the one whose gate opens first.
    fn take_ready(&mut self, fetcher: &Fetcher, any: bool) -> Option<Work> {
        let n = self.held.len();
        let now = tokio::time::Instant::now();
        let mut best: Option<(usize, tokio::time::Instant)> = None;
        for k in 0..n {
            let i = (self.cursor + k) % n;
            let h = &self.held[i];
            if h.queue.is_empty() || h.in_flight >= h.slots {
                continue;
            }
            let at = fetcher.host_next_start(&h.host).unwrap_or(now);
            if at <= now {
                best = Some((i, at));
                break;
            }
            if any && best.is_none_or(|(_, b)| at < b) {
                best = Some((i, at));
            }
        }
        let (i, _) = best?;
        let h = &mut self.held[i];
        h.in_flight += 1;
        self.cursor = (i + 1) % n;
        h.queue.pop_front()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn setup(feeds: &[(&str, &str)]) -> (WorkQueue, tempfile::TempDir) {
        let text = feeds
            .iter()
            .map(|(id, url)| {
                format!(
                    "[[feed]]\nid = \"{id}\"\ntitle = \"T\"\nurl = \"{url}\"\nbase_url = \"https://x.org/\"\n[feed.select]\ncard = \"li\"\ntitle = \"a\"\n"
                )
            })
            .collect::<String>();
        let cfg = crate::config::parse(
            &text,
            std::path::Path::new("t.toml"),
            &crate::config::Overrides::default(),
        )
        .expect("valid");
        let dir = tempfile::tempdir().expect("tmp");
        let store: Arc<dyn StateStore> = Arc::new(crate::store::backend::SqliteState::new(
            crate::store::Store::open(&dir.path().join("s.db"), false).expect("store"),
        ));
        let fetcher = Fetcher::new(
            "scifeed-test",
            &cfg.settings.crawl,
            crate::fetch::gate::HostGates::for_run(&cfg.settings.crawl, []),
            Arc::new(crate::store::backend::StateRobots(Arc::clone(&store))),
            Utc::now(),
        )
        .expect("fetcher");
        let q = WorkQueue::new(
            cfg.feeds,
            store,
            Arc::new(fetcher),
            DueCheck {
                settings: cfg.settings,
                every: None,
                due_only: true,
                now: Utc::now(),
            },
            Shutdown::default(),
        );
        (q, dir)
    }

    fn name(w: &Work) -> String {
        match w {
            Work::Robots(u) => format!("robots {}", u.origin().ascii_serialization()),
            Work::Feed(f) => f.id.clone(),
        }
    }

    /// Every robots.txt first, busiest hosts first, then the feeds with hosts taking turns:
    /// config order (one site's feeds in a row) would fill every slot with one host.
    #[tokio::test]
    async fn robots_first_then_hosts_take_turns_busiest_first() {
        let (q, _dir) = setup(&[
            ("a1", "https://a.org/1"),
            ("a2", "https://a.org/2"),
            ("b1", "http://b.org:8080/1"),
            ("c1", "https://c.org/1"),
            ("c2", "https://C.org/2"),
            ("c3", "https://c.org/3"),
            ("f1", "page.html"),
        ]);
        let mut got = Vec::new();
        while let Some(w) = q.next().await {
            got.push(name(&w));
            q.finished(&w.host());
        }
        assert_eq!(
            got,
            [
                "robots https://c.org",
                "robots https://a.org",
                "robots http://b.org:8080",
                "f1",
                "c1",
                "a1",
                "b1",
                "c2",
                "a2",
                "c3"
            ]
        );
        assert!(
            q.take_skipped().is_empty(),
            "an unshared store grants every host"
        );
    }

    /// A host with `per_host` requests in flight is passed over for the others.
    #[tokio::test]
    async fn a_busy_host_waits_for_its_slot() {
        let (q, _dir) = setup(&[
            ("a1", "https://a.org/1"),
            ("a2", "https://a.org/2"),
            ("b1", "https://b.org/1"),
        ]);
        let first = q.next().await.expect("work");
        assert_eq!(name(&first), "robots https://a.org");
        let second = q.next().await.expect("work");
        assert_eq!(name(&second), "robots https://b.org");
        q.finished(&second.host());
        // a.org is still busy with its robots.txt: b.org's feed goes first.
        let third = q.next().await.expect("work");
        assert_eq!(name(&third), "b1");
        q.finished(&first.host());
        assert_eq!(name(&q.next().await.expect("work")), "a1");
    }
}
