//! Running the binary as a background process: for tests that signal, kill or race runs.

use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use crate::Sandbox;

/// A `scifeed` process started in the background, its output going to files.
pub struct Running {
    pub child: Child,
    out: PathBuf,
    err: PathBuf,
}

/// What a finished process left.
pub struct Finished {
    pub status: ExitStatus,
    pub stdout: String,
    pub stderr: String,
    /// From start to exit.
    pub elapsed: Duration,
}

/// Starts `scifeed run -c <sandbox>/scifeed.toml ARGS` with a clean environment plus `env`.
pub fn spawn_run(sb: &Sandbox, args: &[&str], env: &[(&str, &str)]) -> Running {
    let n = unique();
    let out = sb.path(&format!("stdout-{n}.txt"));
    let err = sb.path(&format!("stderr-{n}.txt"));
    let mut cmd = Command::new(assert_cmd::cargo::cargo_bin("scifeed"));
    cmd.env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("NO_COLOR", "1")
        .envs(env.iter().copied())
        .arg("run")
        .arg("-c")
        .arg(sb.path("scifeed.toml"))
        .args(args)
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&out).expect("stdout file"))
        .stderr(std::fs::File::create(&err).expect("stderr file"));
    Running {
        child: cmd.spawn().expect("spawn scifeed"),
        out,
        err,
    }
}

fn unique() -> u64 {
    static N: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    N.fetch_add(1, std::sync::atomic::Ordering::SeqCst)
}

impl Running {
    /// Sends `signal` ("TERM", "INT") with kill(1).
    pub fn signal(&self, signal: &str) {
        let status = Command::new("kill")
            .arg(format!("-{signal}"))
            .arg(self.child.id().to_string())
            .status()
            .expect("kill(1)");
        assert!(status.success(), "kill -{signal} failed");
    }

    /// Waits at most `limit` for the exit (killing the process and failing after that).
    pub fn wait(mut self, limit: Duration) -> Finished {
        let started = Instant::now();
        let status = loop {
            if let Some(s) = self.child.try_wait().expect("try_wait") {
                break s;
            }
            if started.elapsed() > limit {
                let _ = self.child.kill();
                let _ = self.child.wait();
                panic!(
                    "scifeed did not exit within {limit:?}; stderr:\n{}",
                    std::fs::read_to_string(&self.err).unwrap_or_default()
                );
            }
            std::thread::sleep(Duration::from_millis(5));
        };
        Finished {
            status,
            stdout: std::fs::read_to_string(&self.out).unwrap_or_default(),
            stderr: std::fs::read_to_string(&self.err).unwrap_or_default(),
            elapsed: started.elapsed(),
        }
    }
}

/// Polls `cond` every 5 ms for at most `limit`; panics with `what` if it never holds.
pub fn wait_until(limit: Duration, what: &str, mut cond: impl FnMut() -> bool) {
    let started = Instant::now();
    while !cond() {
        assert!(started.elapsed() < limit, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Asserts that the sandbox's store passes `PRAGMA integrity_check`; returns a connection
/// for further queries.
pub fn store_intact(sb: &Sandbox) -> rusqlite::Connection {
    let conn = rusqlite::Connection::open(sb.path("state.db")).expect("open store");
    let verdict: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .expect("integrity_check");
    assert_eq!(
        verdict,
        "ok",
        "store integrity in {}",
        sb.dir.path().display()
    );
    conn
}
