//! The retry policy: one pure function that decides, after a failed attempt, whether to try
//! again and after how long.
//!
//! Inputs are the attempt number, what went wrong, the server's `Retry-After` header and the
//! current time; randomness (jitter) comes in as an argument so the function stays pure and
//! table-testable. The caller does the waiting (through the host gate, so a 429 slows every
//! request to that host, not just this one).

use std::time::Duration;

use chrono::{DateTime, NaiveDateTime, Utc};

/// What one attempt ended with, as far as retrying is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The server answered with this status.
    Status(u16),
    /// No answer (or no data) within a timeout.
    Timeout,
    /// The connection could not be opened (refused, reset during the handshake).
    Connect,
    /// The connection broke mid-response (reset, body cut short).
    Interrupted,
    /// A failure that another attempt will not fix (DNS, TLS certificate, bad encoding,
    /// a limit such as the body size cap).
    Permanent,
}

/// How persistent to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    /// Retries after the first attempt.
    pub retries: u32,
    /// Back-off before the first retry; doubles with each further retry.
    pub base: Duration,
    /// Back-off never grows beyond this.
    pub max_backoff: Duration,
    /// Longest `Retry-After` we honour; a longer one gives up for this run.
    pub retry_after_cap: Duration,
}

/// What to do after a failed attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Try again once this long has passed.
    Retry(Duration),
    /// Stop: the failure is permanent or the retries are used up.
    GiveUp,
    /// The server asked us to come back later than `retry_after_cap`: stop for this run.
    WaitTooLong(Duration),
}

/// Decides whether attempt number `attempt` (0 = the first request) is followed by another.
///
/// Retried: timeouts, connection failures and interruptions, 408, 429 and 5xx other than
/// 501/505 (which say "never"). `Retry-After` (delta seconds or an HTTP date) is honoured as
/// a lower bound on the wait; without it the wait is capped exponential back-off with "equal
/// jitter": between half and all of `base * 2^attempt`, where `jitter` in `[0, 1]` picks the
/// point.
pub fn decide(
    policy: &Policy,
    attempt: u32,
    outcome: Outcome,
    retry_after: Option<&str>,
    now: DateTime<Utc>,
    jitter: f64,
) -> Decision {
    let retryable = match outcome {
        Outcome::Timeout | Outcome::Connect | Outcome::Interrupted => true,
        Outcome::Status(s) => {
            matches!(s, 408 | 429) || ((500..600).contains(&s) && !matches!(s, 501 | 505))
        }
        Outcome::Permanent => false,
    };
    if !retryable || attempt >= policy.retries {
        return Decision::GiveUp;
    }
    let exp = policy
        .base
        .saturating_mul(2u32.saturating_pow(attempt.min(20)))
        .min(policy.max_backoff);
    let backoff = exp.mul_f64(0.5 + 0.5 * jitter.clamp(0.0, 1.0));
    match retry_after.and_then(|v| parse_retry_after(v, now)) {
        Some(wait) if wait > policy.retry_after_cap => Decision::WaitTooLong(wait),
        Some(wait) => Decision::Retry(wait.max(backoff)),
        None => Decision::Retry(backoff),
    }
}

/// Parses `Retry-After`: delta seconds, or an HTTP date (IMF-fixdate, RFC 850 or asctime),
/// as a wait from `now`. A date in the past means "now"; garbage means "not given".
pub fn parse_retry_after(value: &str, now: DateTime<Utc>) -> Option<Duration> {
    let v = value.trim();
    if let Ok(secs) = v.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let when = parse_http_date(v)?;
    Some((when - now).to_std().unwrap_or(Duration::ZERO))
}

/// Parses an HTTP date (IMF-fixdate, RFC 850 or asctime, RFC 9110 5.6.7).
pub fn parse_http_date(value: &str) -> Option<DateTime<Utc>> {
    let v = value.trim();
    DateTime::parse_from_rfc2822(v)
        .map(|d| d.with_timezone(&Utc))
        .ok()
        .or_else(|| {
            ["%A, %d-%b-%y %H:%M:%S GMT", "%a %b %e %H:%M:%S %Y"]
                .iter()
                .find_map(|f| NaiveDateTime::parse_from_str(v, f).ok())
                .map(|n| n.and_utc())
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    const P: Policy = Policy {
        retries: 3,
        base: Duration::from_millis(1000),
        max_backoff: Duration::from_secs(30),
        retry_after_cap: Duration::from_secs(120),
    };

    fn now() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-11-26T10:00:00Z")
            .expect("valid")
            .with_timezone(&Utc)
    }

    #[test]
    fn decision_table() {
        use Decision::{GiveUp, Retry, WaitTooLong};
        use Outcome::{Connect, Interrupted, Permanent, Status, Timeout};
        let ms = Duration::from_millis;
        let s = Duration::from_secs;
        #[rustfmt::skip]
        let rows: &[(u32, Outcome, Option<&str>, f64, Decision)] = &[
            // transient failures, back-off doubling from 1 s, jitter picks half..all
            (0, Timeout, None, 1.0, Retry(s(1))),
            (0, Timeout, None, 0.0, Retry(ms(500))),
            (1, Connect, None, 1.0, Retry(s(2))),
            (2, Interrupted, None, 0.5, Retry(ms(3000))),
            (0, Status(408), None, 1.0, Retry(s(1))),
            (0, Status(429), None, 1.0, Retry(s(1))),
            (0, Status(500), None, 1.0, Retry(s(1))),
            (0, Status(502), None, 1.0, Retry(s(1))),
            (0, Status(503), None, 1.0, Retry(s(1))),
            (0, Status(504), None, 1.0, Retry(s(1))),
            // retries used up
            (3, Status(503), None, 1.0, GiveUp),
            (3, Timeout, None, 1.0, GiveUp),
            // never retried
            (0, Status(400), None, 1.0, GiveUp),
            (0, Status(403), None, 1.0, GiveUp),
            (0, Status(404), None, 1.0, GiveUp),
            (0, Status(410), None, 1.0, GiveUp),
            (0, Status(501), None, 1.0, GiveUp),
            (0, Status(505), None, 1.0, GiveUp),
            (0, Status(200), None, 1.0, GiveUp),
            (0, Permanent, None, 1.0, GiveUp),
            (0, Status(404), Some("5"), 1.0, GiveUp),
            // Retry-After: seconds, HTTP dates, a lower bound on the back-off, capped
            (0, Status(429), Some("7"), 1.0, Retry(s(7))),
            (0, Status(503), Some(" 2 "), 1.0, Retry(s(2))),
            (2, Status(429), Some("1"), 1.0, Retry(s(4))),
            (0, Status(503), Some("Thu, 26 Nov 2026 10:00:30 GMT"), 1.0, Retry(s(30))),
            (0, Status(503), Some("Thursday, 26-Nov-26 10:01:00 GMT"), 1.0, Retry(s(60))),
            (0, Status(503), Some("Thu Nov 26 10:00:10 2026"), 1.0, Retry(s(10))),
            (0, Status(503), Some("Thu, 26 Nov 2026 09:00:00 GMT"), 1.0, Retry(s(1))),
            (0, Status(429), Some("soon"), 1.0, Retry(s(1))),
            (0, Status(429), Some("120"), 1.0, Retry(s(120))),
            (0, Status(429), Some("121"), 1.0, WaitTooLong(s(121))),
            (0, Status(503), Some("Fri, 27 Nov 2026 10:00:00 GMT"), 1.0, WaitTooLong(s(86_400))),
            (3, Status(429), Some("999"), 1.0, GiveUp),
            // the back-off is capped
            (10, Timeout, None, 1.0, Retry(s(30))),
        ];
        let policy = Policy { retries: 20, ..P };
        for (attempt, outcome, ra, jitter, want) in rows {
            // rows about running out of retries use the default policy
            let p = if *attempt == 3 { &P } else { &policy };
            let got = decide(p, *attempt, *outcome, *ra, now(), *jitter);
            assert_eq!(
                got, *want,
                "attempt {attempt} {outcome:?} retry-after {ra:?}"
            );
        }
    }

    #[test]
    fn zero_retries_never_retry() {
        let p = Policy { retries: 0, ..P };
        assert_eq!(
            decide(&p, 0, Outcome::Status(503), None, now(), 0.3),
            Decision::GiveUp
        );
    }

    #[test]
    fn jitter_outside_unit_range_is_clamped() {
        let got = decide(&P, 0, Outcome::Timeout, None, now(), 7.0);
        assert_eq!(got, Decision::Retry(Duration::from_secs(1)));
        let got = decide(&P, 0, Outcome::Timeout, None, now(), -1.0);
        assert_eq!(got, Decision::Retry(Duration::from_millis(500)));
    }
}
