//! Graceful stop on SIGINT / SIGTERM.
//!
//! The first signal stops new feeds from starting; feeds already past their fetch finish
//! their commit and write (so nothing is left half-done), and feeds still fetching get
//! [`GRACE`] to finish before they are abandoned (a fetch changes nothing, so dropping it is
//! safe). A second signal exits at once: atomic writes and SQLite transactions make even
//! that safe, it only leaves work for the next run.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;

/// How long feeds that are still fetching may go on after the first signal.
pub const GRACE: Duration = Duration::from_secs(5);

/// Whether (and by which signal) the run was asked to stop. Clones share the state.
#[derive(Debug, Clone)]
pub struct Shutdown {
    tx: Arc<watch::Sender<Option<i32>>>,
}

impl Default for Shutdown {
    fn default() -> Self {
        Shutdown {
            tx: Arc::new(watch::Sender::new(None)),
        }
    }
}

/// The conventional name of a signal number we handle.
pub fn signal_name(signal: i32) -> &'static str {
    match signal {
        2 => "SIGINT",
        15 => "SIGTERM",
        _ => "signal",
    }
}

impl Shutdown {
    /// Installs process-wide SIGINT and SIGTERM handlers that trigger this shutdown. Call
    /// from inside the tokio runtime, once the run holds its lock: before that, the default
    /// action (exit) is right, since nothing has been written.
    pub fn listen(&self) -> std::io::Result<()> {
        use tokio::signal::unix::{SignalKind, signal};
        let mut int = signal(SignalKind::interrupt())?;
        let mut term = signal(SignalKind::terminate())?;
        let me = self.clone();
        tokio::spawn(async move {
            loop {
                let sig = tokio::select! {
                    _ = int.recv() => 2,
                    _ = term.recv() => 15,
                };
                if me.signal().is_some() {
                    eprintln!(
                        "scifeed: second signal ({}), stopping now",
                        signal_name(sig)
                    );
                    std::process::exit(128 + sig);
                }
                tracing::warn!(
                    "{} received: finishing the feeds in progress, starting no new ones (again to stop now)",
                    signal_name(sig)
                );
                me.trigger(sig);
            }
        });
        Ok(())
    }

    /// Requests a stop as if `signal` had arrived.
    pub fn trigger(&self, signal: i32) {
        self.tx.send_if_modified(|s| {
            let first = s.is_none();
            if first {
                *s = Some(signal);
            }
            first
        });
    }

    /// The signal that requested the stop, if any.
    pub fn signal(&self) -> Option<i32> {
        *self.tx.borrow()
    }

    /// Resolves once a stop was requested.
    pub async fn requested(&self) {
        let mut rx = self.tx.subscribe();
        // The sender lives in `self`, so the channel cannot close while we wait.
        let _ = rx.wait_for(Option::is_some).await;
    }

    /// Resolves [`GRACE`] after a stop was requested.
    pub async fn grace_over(&self) {
        self.requested().await;
        tokio::time::sleep(GRACE).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn first_signal_wins_and_wakes_waiters() {
        let s = Shutdown::default();
        assert_eq!(s.signal(), None);
        let waiter = tokio::spawn({
            let s = s.clone();
            async move { s.requested().await }
        });
        s.trigger(15);
        s.trigger(2);
        tokio::time::timeout(Duration::from_secs(5), waiter)
            .await
            .expect("woken")
            .expect("joined");
        assert_eq!(s.signal(), Some(15));
        assert_eq!(signal_name(15), "SIGTERM");
    }
}
