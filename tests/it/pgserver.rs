//! A throwaway PostgreSQL server for tests, from Debian's `postgresql` binaries: `initdb`
//! into a temporary directory (as the `postgres` user when the tests run as root, since
//! initdb refuses root), `pg_ctl start` on a free loopback port with its sockets in that
//! directory, trust authentication. One shared server per test binary ([`shared`]), one
//! database per test ([`PgServer::database`]); tests that stop the server start their own.
//!
//! A watchdog process stops the server and removes its directory when the test process is
//! gone, however it ended (panic, abort, SIGKILL); a server of one's own also stops on drop.
//! Without the binaries the tests skip with a message, unless `CI` is set: then they fail.
//! Used by the library's unit tests too (`#[path]` include), so it needs nothing but std.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// A running server.
pub struct PgServer {
    dir: PathBuf,
    bin: PathBuf,
    pub port: u16,
    /// Run the server's programs as this user (`Some("postgres")` when we are root).
    run_as: Option<String>,
    next_db: AtomicUsize,
    /// TLS on, with `server.crt` / `server.key` in the directory (signed by `ca.crt`).
    tls: bool,
}

/// The server shared by this test binary, or `None` (with a note on stderr) when the
/// PostgreSQL binaries are missing outside CI.
pub fn shared() -> Option<&'static PgServer> {
    static SERVER: OnceLock<Option<PgServer>> = OnceLock::new();
    SERVER
        .get_or_init(|| match PgServer::start_new() {
            Ok(s) => Some(s),
            Err(e) if must_run() => {
                panic!("CI is set but no PostgreSQL server could be started: {e}")
            }
            Err(e) => {
                eprintln!("skipping PostgreSQL tests: {e}");
                None
            }
        })
        .as_ref()
}

/// A server of the caller's own (for tests that stop it), or `None` as for [`shared`].
pub fn own() -> Option<PgServer> {
    own_with(false)
}

/// A server of one's own that speaks TLS with a certificate for `127.0.0.1`, issued by a
/// throwaway CA ([`PgServer::ca_file`]); made with the `openssl` command.
pub fn own_tls() -> Option<PgServer> {
    own_with(true)
}

fn own_with(tls: bool) -> Option<PgServer> {
    let openssl = || {
        Command::new("openssl")
            .arg("version")
            .stdout(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    };
    if tls && !openssl() {
        // Debian's postgresql pulls openssl in (ssl-cert); without it there is no certificate.
        eprintln!("skipping PostgreSQL TLS test: no `openssl` command to make a certificate");
        return None;
    }
    match PgServer::start_new_with(tls) {
        Ok(s) => Some(s),
        Err(e) if must_run() => panic!("CI is set but no PostgreSQL server could be started: {e}"),
        Err(e) => {
            eprintln!("skipping PostgreSQL test: {e}");
            None
        }
    }
}

fn must_run() -> bool {
    std::env::var_os("CI").is_some_and(|v| !v.is_empty() && v != "0" && v != "false")
}

/// The newest `initdb` of Debian's layout (`/usr/lib/postgresql/N/bin`), else one on PATH.
fn find_bin() -> Result<PathBuf, String> {
    let mut best: Option<(u32, PathBuf)> = None;
    if let Ok(rd) = std::fs::read_dir("/usr/lib/postgresql") {
        for e in rd.flatten() {
            let v: u32 = e.file_name().to_string_lossy().parse().unwrap_or(0);
            let bin = e.path().join("bin");
            if bin.join("initdb").exists() && best.as_ref().is_none_or(|(b, _)| v > *b) {
                best = Some((v, bin));
            }
        }
    }
    if let Some((_, bin)) = best {
        return Ok(bin);
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    for d in std::env::split_paths(&path) {
        if d.join("initdb").exists() && d.join("pg_ctl").exists() {
            return Ok(d);
        }
    }
    Err("no initdb found (install Debian's `postgresql` package)".into())
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

fn free_port() -> Result<u16, String> {
    let l = std::net::TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
    l.local_addr().map(|a| a.port()).map_err(|e| e.to_string())
}

impl PgServer {
    fn start_new() -> Result<PgServer, String> {
        Self::start_new_with(false)
    }

    fn start_new_with(tls: bool) -> Result<PgServer, String> {
        let bin = find_bin()?;
        let run_as = is_root().then(|| "postgres".to_string());
        let dir = std::env::temp_dir().join(format!(
            "scifeed-pg-{}-{}",
            std::process::id(),
            STARTED.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        if let Some(user) = &run_as {
            let out = Command::new("chown")
                .arg(format!("{user}:"))
                .arg(&dir)
                .output()
                .map_err(|e| format!("chown: {e}"))?;
            if !out.status.success() {
                return Err(format!(
                    "chown {user} {}: {}",
                    dir.display(),
                    String::from_utf8_lossy(&out.stderr)
                ));
            }
        }
        let server = PgServer {
            dir,
            bin,
            port: free_port()?,
            run_as,
            next_db: AtomicUsize::new(0),
            tls,
        };
        server.watchdog();
        if tls {
            server.make_certificates()?;
        }
        let data = server.dir.join("data");
        let out = server
            .cmd("initdb")
            .args([
                "-A",
                "trust",
                "-U",
                "postgres",
                "-E",
                "UTF8",
                "--no-sync",
                "-D",
            ])
            .arg(&data)
            .output()
            .map_err(|e| format!("initdb: {e}"))?;
        if !out.status.success() {
            return Err(format!(
                "initdb failed: {}",
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        server.start()?;
        Ok(server)
    }

    fn cmd(&self, program: &str) -> Command {
        let path = self.bin.join(program);
        let mut c = match &self.run_as {
            Some(user) => {
                let mut c = Command::new("runuser");
                c.args(["-u", user, "--"]).arg(path);
                c
            }
            None => Command::new(path),
        };
        c.stdin(Stdio::null()).current_dir(&self.dir);
        c
    }

    /// Stops the server and removes its directory once this process is gone.
    fn watchdog(&self) {
        let stop = match &self.run_as {
            Some(u) => format!(
                "runuser -u {u} -- '{}' -D '{}' -m immediate stop",
                self.bin.join("pg_ctl").display(),
                self.dir.join("data").display()
            ),
            None => format!(
                "'{}' -D '{}' -m immediate stop",
                self.bin.join("pg_ctl").display(),
                self.dir.join("data").display()
            ),
        };
        let script = format!(
            "while kill -0 {pid} 2>/dev/null; do sleep 0.5; done; {stop} >/dev/null 2>&1; rm -rf '{dir}'",
            pid = std::process::id(),
            dir = self.dir.display()
        );
        let _ = Command::new("sh")
            .args(["-c", &script])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn();
    }

    /// A CA and a server certificate for 127.0.0.1 signed by it, readable by the server.
    fn make_certificates(&self) -> Result<(), String> {
        let d = &self.dir;
        let ssl = |args: &[&str]| -> Result<(), String> {
            let out = Command::new("openssl")
                .args(args)
                .current_dir(d)
                .stdin(Stdio::null())
                .output()
                .map_err(|e| format!("openssl: {e}"))?;
            if out.status.success() {
                Ok(())
            } else {
                Err(format!(
                    "openssl {args:?}: {}",
                    String::from_utf8_lossy(&out.stderr)
                ))
            }
        };
        ssl(&[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=scifeed test CA",
            "-keyout",
            "ca.key",
            "-out",
            "ca.crt",
        ])?;
        ssl(&[
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-subj",
            "/CN=127.0.0.1",
            "-keyout",
            "server.key",
            "-out",
            "server.csr",
        ])?;
        std::fs::write(d.join("san.ext"), "subjectAltName=IP:127.0.0.1\n")
            .map_err(|e| e.to_string())?;
        ssl(&[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "ca.crt",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-days",
            "2",
            "-extfile",
            "san.ext",
            "-out",
            "server.crt",
        ])?;
        if let Some(user) = &self.run_as {
            let _ = Command::new("chown")
                .arg(format!("{user}:"))
                .args([d.join("server.key"), d.join("server.crt")])
                .status();
        }
        let _ = Command::new("chmod")
            .arg("600")
            .arg(d.join("server.key"))
            .status();
        Ok(())
    }

    /// The CA that issued the server's certificate (TLS servers only).
    pub fn ca_file(&self) -> PathBuf {
        self.dir.join("ca.crt")
    }

    /// Starts (or restarts) the server on its port; waits until it accepts connections.
    pub fn start(&self) -> Result<(), String> {
        let mut opts = format!(
            "-p {} -c listen_addresses=127.0.0.1 -k {} -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200",
            self.port,
            self.dir.display()
        );
        if self.tls {
            opts.push_str(&format!(
                " -c ssl=on -c ssl_cert_file={0}/server.crt -c ssl_key_file={0}/server.key",
                self.dir.display()
            ));
        }
        let out = self
            .cmd("pg_ctl")
            .arg("-D")
            .arg(self.dir.join("data"))
            .args(["-o", &opts, "-l"])
            .arg(self.dir.join("log"))
            .args(["-w", "-t", "60", "start"])
            .output()
            .map_err(|e| format!("pg_ctl: {e}"))?;
        if !out.status.success() {
            let log = std::fs::read_to_string(self.dir.join("log")).unwrap_or_default();
            return Err(format!(
                "pg_ctl start failed: {}{}",
                String::from_utf8_lossy(&out.stderr),
                log
            ));
        }
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if std::net::TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Err("server did not listen within 30 s".into())
    }

    /// Stops the server (fast shutdown: open connections are cut).
    pub fn stop(&self) {
        let _ = self
            .cmd("pg_ctl")
            .arg("-D")
            .arg(self.dir.join("data"))
            .args(["-m", "fast", "-w", "stop"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }

    /// Runs one SQL command as the superuser on database `db`.
    pub fn psql(&self, db: &str, sql: &str) -> Result<String, String> {
        let out = self
            .cmd("psql")
            .args(["-X", "-q", "-t", "-A", "-v", "ON_ERROR_STOP=1", "-h"])
            .arg(&self.dir)
            .args([
                "-p",
                &self.port.to_string(),
                "-U",
                "postgres",
                "-d",
                db,
                "-c",
                sql,
            ])
            .output()
            .map_err(|e| format!("psql: {e}"))?;
        if out.status.success() {
            Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
        } else {
            Err(String::from_utf8_lossy(&out.stderr).into_owned())
        }
    }

    /// A new empty database; returns its URL.
    pub fn database(&self, hint: &str) -> String {
        let n = self.next_db.fetch_add(1, Ordering::Relaxed);
        let clean: String = hint
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() {
                    c.to_ascii_lowercase()
                } else {
                    '_'
                }
            })
            .take(40)
            .collect();
        let name = format!("t{n}_{clean}");
        if let Err(e) = self.psql("postgres", &format!("CREATE DATABASE \"{name}\"")) {
            panic!("CREATE DATABASE {name}: {e}");
        }
        self.url(&name)
    }

    /// The URL of database `db` (TLS off: the test server has no certificate).
    pub fn url(&self, db: &str) -> String {
        format!(
            "postgres://postgres@127.0.0.1:{}/{db}?sslmode=disable",
            self.port
        )
    }

    /// The server's directory (its log is `log` there).
    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

static STARTED: AtomicUsize = AtomicUsize::new(0);

impl Drop for PgServer {
    fn drop(&mut self) {
        let _ = self
            .cmd("pg_ctl")
            .arg("-D")
            .arg(self.dir.join("data"))
            .args(["-m", "immediate", "stop"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
