//! The accept loops: hyper's HTTP/1.1 server with limits on connections, header size and the
//! time a client may take to send its headers (slowloris), and a graceful stop that lets
//! in-flight requests finish.
//!
//! One loop per core, each on its own single-threaded runtime with its own listening socket
//! (`SO_REUSEPORT`: the kernel spreads new connections over them), like nginx's worker
//! processes: a connection lives on one thread, so serving a request never wakes another
//! thread. The crawl rounds run on the main runtime beside them.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::{TcpListener, TcpSocket};
use tokio::sync::Semaphore;

use crate::shutdown::Shutdown;

/// Limits of the HTTP server.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Connections served at once, over all threads; more wait in the kernel's accept queue.
    pub max_connections: usize,
    /// Time to send a request's headers, from the first byte (or from the end of the last
    /// response on a kept-alive connection): idle and slowloris connections are closed after it.
    pub header_timeout: Duration,
    /// Request line plus headers, in bytes; more is answered 431.
    pub max_header_bytes: usize,
    /// How long in-flight requests may go on after a stop was asked for.
    pub drain: Duration,
}

impl Limits {
    /// The limits of `scifeed serve`, with `max_connections` from the config.
    pub fn new(max_connections: usize) -> Limits {
        Limits {
            max_connections,
            header_timeout: Duration::from_secs(10),
            max_header_bytes: 16 * 1024,
            drain: Duration::from_secs(5),
        }
    }
}

/// Threads that accept and serve connections: one per core.
pub fn threads() -> usize {
    std::thread::available_parallelism().map_or(2, std::num::NonZeroUsize::get)
}

/// Binds `addr` `n` times with `SO_REUSEPORT` (port 0: the port the first socket got).
/// Call inside a runtime.
pub fn bind(addr: SocketAddr, n: usize) -> std::io::Result<Vec<std::net::TcpListener>> {
    let mut out: Vec<std::net::TcpListener> = Vec::with_capacity(n);
    let mut at = addr;
    for _ in 0..n.max(1) {
        let socket = if at.is_ipv4() {
            TcpSocket::new_v4()?
        } else {
            TcpSocket::new_v6()?
        };
        socket.set_reuseaddr(true)?;
        socket.set_reuseport(true)?;
        socket.set_nodelay(true)?;
        socket.bind(at)?;
        let listener = socket.listen(4096)?;
        at = listener.local_addr()?;
        out.push(listener.into_std()?);
    }
    Ok(out)
}

/// Serves `app` on `listeners` (one thread each) until `shutdown` is asked for, then stops
/// accepting, lets the requests in flight finish (closing idle connections at once) and
/// returns, after `limits.drain` at the latest.
pub async fn serve(
    listeners: Vec<std::net::TcpListener>,
    app: axum::Router,
    limits: Limits,
    shutdown: Shutdown,
) {
    let permits = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let mut done = Vec::new();
    for (i, listener) in listeners.into_iter().enumerate() {
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let (app, permits, shutdown) = (app.clone(), Arc::clone(&permits), shutdown.clone());
        let spawned = std::thread::Builder::new()
            .name(format!("scifeed-http-{i}"))
            .spawn(move || {
                // Renders run on the main runtime's blocking pool, not here.
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .max_blocking_threads(1)
                    .build();
                match rt {
                    Ok(rt) => rt.block_on(async move {
                        match TcpListener::from_std(listener) {
                            Ok(l) => accept_loop(l, app, limits, permits, shutdown).await,
                            Err(e) => tracing::error!("cannot use the listening socket: {e}"),
                        }
                    }),
                    Err(e) => tracing::error!("cannot start an HTTP thread: {e}"),
                }
                let _ = tx.send(());
            });
        match spawned {
            Ok(_) => done.push(rx),
            Err(e) => tracing::error!("cannot start an HTTP thread: {e}"),
        }
    }
    for rx in done {
        let _ = rx.await;
    }
}

async fn accept_loop(
    listener: TcpListener,
    app: axum::Router,
    limits: Limits,
    permits: Arc<Semaphore>,
    shutdown: Shutdown,
) {
    let graceful = GracefulShutdown::new();
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout)
        .max_header_size(limits.max_header_bytes)
        .keep_alive(true);
    loop {
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(e) => {
                    // Out of file descriptors, or a connection reset before we took it:
                    // wait a moment rather than spin.
                    tracing::warn!("accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = shutdown.requested() => break,
        };
        // At the limit the connection waits, unread, and this thread accepts no other: new
        // connections queue in the kernel. (Taking the permit before `accept` would let a
        // thread with no free permit sit on the connections the kernel gave its socket.)
        let permit = match Arc::clone(&permits).try_acquire_owned() {
            Ok(p) => p,
            Err(_) => tokio::select! {
                p = Arc::clone(&permits).acquire_owned() => match p {
                    Ok(p) => p,
                    Err(_) => break,
                },
                () = shutdown.requested() => break,
            },
        };
        let _ = stream.set_nodelay(true);
        let conn =
            http.serve_connection(TokioIo::new(stream), TowerToHyperService::new(app.clone()));
        let conn = graceful.watch(conn);
        tokio::spawn(async move {
            if let Err(e) = conn.await {
                tracing::debug!("connection ended: {e}");
            }
            drop(permit);
        });
    }
    drop(listener);
    tokio::select! {
        () = graceful.shutdown() => {}
        () = tokio::time::sleep(limits.drain) => {
            tracing::warn!("requests still running {}s after the stop; closing them", limits.drain.as_secs());
        }
    }
}
