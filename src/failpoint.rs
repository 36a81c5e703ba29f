//! Crash injection for the crash-safety tests: `SCIFEED_FAILPOINT=POINT:FEED` makes the
//! process abort (as abruptly as SIGKILL: no destructors, no flushing) when it reaches the
//! named point for that feed (`*` matches every feed). Unset, a point costs one load of an
//! initialised `OnceLock`. Points: `after-fetch`, `before-commit`, `after-commit`,
//! `after-write` (feed `ID.EXT`, after each file), `before-rename` (feed `ID.EXT`: temp file
//! written, not yet renamed), `after-mark`.

use std::sync::OnceLock;

/// The environment variable that arms a failpoint.
pub const ENV: &str = "SCIFEED_FAILPOINT";

fn armed() -> Option<&'static (String, String)> {
    static ARMED: OnceLock<Option<(String, String)>> = OnceLock::new();
    ARMED
        .get_or_init(|| {
            let v = std::env::var(ENV).ok()?;
            let (point, feed) = v.split_once(':')?;
            Some((point.to_string(), feed.to_string()))
        })
        .as_ref()
}

/// Aborts the process if `point` is armed for `feed`.
pub fn hit(point: &str, feed: &str) {
    if let Some((p, f)) = armed()
        && p == point
        && (f == "*" || f == feed)
    {
        eprintln!("scifeed: failpoint {point}:{feed} reached, aborting");
        std::process::abort();
    }
}
