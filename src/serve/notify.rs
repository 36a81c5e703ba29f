//! Alerts: a JSON POST to `[serve] notify_url` when a feed turns failing (after
//! `notify_after` consecutive failures), recovers, or heals.
//!
//! [`transition`] is the pure rule that compares a feed's health before and after a round.
//! Alerts go through a bounded queue to their own task, so a slow or dead receiver never
//! holds up a round: when the queue is full an alert is dropped with a warning. Each alert is
//! retried with the crawler's retry policy (exponential back-off with jitter, `Retry-After`
//! honoured), a few times, then given up.

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Serialize;
use tokio::sync::mpsc;
use url::Url;

use crate::fetch::retry::{self, Decision, Outcome, Policy};
use crate::serve::status::Health;

/// What happened to a feed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Event {
    /// It has failed `notify_after` times in a row.
    Failing,
    /// It succeeded again after failing.
    Recovered,
    /// Its card selector stopped matching and scifeed found the listing again by itself.
    Healed,
}

/// The body of one alert.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Alert {
    pub event: Event,
    pub feed: String,
    pub title: String,
    /// The listing page the feed is made from.
    pub source: String,
    /// The feed's page on this server.
    pub page: String,
    pub consecutive_failures: u32,
    /// The last error (for `failing`; the cause that was fixed for `recovered`).
    pub error: Option<String>,
    pub last_success: Option<DateTime<Utc>>,
    pub at: DateTime<Utc>,
}

/// The event, if any, when a feed's health goes from `before` to `after`. A feed that heals
/// while failing gets one alert, `healed`.
pub fn transition(before: &Health, after: &Health) -> Option<Event> {
    match (before, after) {
        (Health::Healed { since: a, .. }, Health::Healed { since: b, .. }) if a == b => None,
        (_, Health::Healed { .. }) => Some(Event::Healed),
        (b, a) if !b.failing() && a.failing() => Some(Event::Failing),
        (b, Health::Ok) if b.failing() => Some(Event::Recovered),
        _ => None,
    }
}

/// Alerts queued at most; beyond that new ones are dropped (a receiver that far behind is
/// down, and the index shows every status anyway).
const QUEUE: usize = 256;

/// How persistently one alert is delivered.
const POLICY: Policy = Policy {
    retries: 5,
    base: Duration::from_secs(1),
    max_backoff: Duration::from_secs(60),
    retry_after_cap: Duration::from_secs(300),
};

/// The sending side of the alert queue.
pub struct Notifier {
    tx: Option<mpsc::Sender<Alert>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl Notifier {
    /// Starts the delivery task when `url` is set; without it alerts go nowhere.
    pub fn start(url: Option<Url>, user_agent: &str) -> Notifier {
        let Some(url) = url else {
            return Notifier {
                tx: None,
                task: None,
            };
        };
        let client = match crate::fetch::plain_client(user_agent, Duration::from_secs(10)) {
            Ok(c) => c,
            Err(e) => {
                tracing::error!("alerts disabled: {e}");
                return Notifier {
                    tx: None,
                    task: None,
                };
            }
        };
        let (tx, rx) = mpsc::channel(QUEUE);
        let task = tokio::spawn(deliver_all(client, url, rx));
        Notifier {
            tx: Some(tx),
            task: Some(task),
        }
    }

    /// Queues `alert` without waiting.
    pub fn send(&self, alert: Alert) {
        let Some(tx) = &self.tx else { return };
        if let Err(e) = tx.try_send(alert) {
            let alert = match e {
                mpsc::error::TrySendError::Full(a) | mpsc::error::TrySendError::Closed(a) => a,
            };
            tracing::warn!(
                feed = %alert.feed,
                "alert queue full ({QUEUE}); dropped the {:?} alert",
                alert.event
            );
        }
    }

    /// Stops taking alerts and gives the queued ones up to `within` to go out.
    pub async fn finish(mut self, within: Duration) {
        self.tx = None;
        if let Some(task) = self.task.take() {
            let abort = task.abort_handle();
            if tokio::time::timeout(within, task).await.is_err() {
                tracing::warn!("alerts still queued at exit were not sent");
                abort.abort();
            }
        }
    }
}

async fn deliver_all(client: reqwest::Client, url: Url, mut rx: mpsc::Receiver<Alert>) {
    while let Some(alert) = rx.recv().await {
        deliver(&client, &url, &alert).await;
    }
}

/// Posts one alert, retrying transient failures.
async fn deliver(client: &reqwest::Client, url: &Url, alert: &Alert) {
    let body = match serde_json::to_vec(alert) {
        Ok(b) => b,
        Err(e) => {
            tracing::error!("cannot encode alert: {e}");
            return;
        }
    };
    let mut attempt = 0;
    loop {
        let sent = client
            .post(url.clone())
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body.clone())
            .send()
            .await;
        let (outcome, retry_after, what) = match sent {
            Ok(r) if r.status().is_success() => {
                tracing::info!(feed = %alert.feed, "{:?} alert delivered to {url}", alert.event);
                return;
            }
            Ok(r) => (
                Outcome::Status(r.status().as_u16()),
                r.headers()
                    .get(reqwest::header::RETRY_AFTER)
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_string),
                format!("HTTP {}", r.status().as_u16()),
            ),
            Err(e) if e.is_timeout() => (Outcome::Timeout, None, e.to_string()),
            Err(e) if e.is_connect() => (Outcome::Connect, None, e.to_string()),
            Err(e) => (Outcome::Interrupted, None, e.to_string()),
        };
        let jitter = f64::from(Utc::now().timestamp_subsec_nanos() % 1000) / 1000.0;
        match retry::decide(
            &POLICY,
            attempt,
            outcome,
            retry_after.as_deref(),
            Utc::now(),
            jitter,
        ) {
            Decision::Retry(wait) => {
                tracing::warn!(
                    feed = %alert.feed,
                    "alert to {url} failed ({what}); retrying in {:.1}s",
                    wait.as_secs_f64()
                );
                tokio::time::sleep(wait).await;
                attempt += 1;
            }
            Decision::GiveUp | Decision::WaitTooLong(_) => {
                tracing::error!(
                    feed = %alert.feed,
                    "alert to {url} failed ({what}); giving up after {} attempt(s)",
                    attempt + 1
                );
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failing(n: u32) -> Health {
        Health::Failing {
            failures: n,
            since: None,
            last_ok: None,
            cause: "x".into(),
        }
    }

    fn flaky(n: u32) -> Health {
        Health::Flaky {
            failures: n,
            cause: "x".into(),
        }
    }

    fn healed(h: u32) -> Health {
        Health::Healed {
            since: chrono::TimeZone::with_ymd_and_hms(&Utc, 2026, 12, 1, h, 0, 0)
                .single()
                .expect("valid"),
            broken: "div.old".into(),
        }
    }

    #[test]
    fn transition_table() {
        let rows = [
            (Health::New, Health::Ok, None),
            (Health::Ok, Health::Ok, None),
            (Health::Ok, flaky(1), None),
            (flaky(2), failing(3), Some(Event::Failing)),
            (Health::New, failing(3), Some(Event::Failing)),
            // Still failing: no second alert.
            (failing(3), failing(4), None),
            (failing(4), Health::Ok, Some(Event::Recovered)),
            // A blip that never reached `notify_after` is not news.
            (flaky(2), Health::Ok, None),
            (Health::Ok, healed(1), Some(Event::Healed)),
            (failing(5), healed(1), Some(Event::Healed)),
            (healed(1), healed(1), None),
            (healed(1), healed(2), Some(Event::Healed)),
            (healed(1), Health::Ok, None),
        ];
        for (before, after, want) in rows {
            assert_eq!(transition(&before, &after), want, "{before:?} -> {after:?}");
        }
    }
}
