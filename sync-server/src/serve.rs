//! The accept loop: HTTP/1.1 with WebSocket upgrades, where every connection is bounded.
//! `axum::serve` has no header timeout and no connection cap, so a socket that says nothing, a
//! request sent a byte at a time (slowloris) or a flood of sockets from one address each held a
//! descriptor for ever (1,100 of them exhausted the process's descriptors and `/healthz`
//! stopped answering), and half-sent requests held a SIGTERM shutdown open. hyper's own
//! connection builder has the header timeout; the caps and the shutdown deadline are here.

use std::collections::HashMap;
use std::future::Future;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

use crate::limits::{self, ConnectionLimits};

/// Open connections, in all and per remote address.
struct Counts {
    total: usize,
    by_address: HashMap<IpAddr, usize>,
}

/// One admitted connection's place in [`Counts`], given back when the socket closes, even
/// long after an upgrade to WebSocket (the socket travels inside the upgraded stream).
struct Admission {
    counts: Arc<Mutex<Counts>>,
    address: IpAddr,
}

impl Drop for Admission {
    fn drop(&mut self) {
        crate::metrics::connection_closed();
        let mut c = self.counts.lock().unwrap_or_else(|e| e.into_inner());
        c.total -= 1;
        if let Some(n) = c.by_address.get_mut(&self.address) {
            *n -= 1;
            if *n == 0 {
                c.by_address.remove(&self.address);
            }
        }
    }
}

fn admit(counts: &Arc<Mutex<Counts>>, address: IpAddr, limits: &ConnectionLimits) -> Result<Admission, &'static str> {
    let mut c = counts.lock().unwrap_or_else(|e| e.into_inner());
    if c.total >= limits.max_connections {
        return Err("the server's connection limit");
    }
    let mine = c.by_address.entry(address).or_insert(0);
    if *mine >= limits.max_connections_per_address {
        return Err("the per-address connection limit");
    }
    *mine += 1;
    c.total += 1;
    crate::metrics::connection_opened();
    Ok(Admission { counts: counts.clone(), address })
}

/// A TCP stream that holds its connection's admission.
struct Admitted {
    stream: TcpStream,
    _admission: Admission,
}

impl AsyncRead for Admitted {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_read(cx, buf)
    }
}

impl AsyncWrite for Admitted {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write(cx, buf)
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }
    fn poll_write_vectored(mut self: Pin<&mut Self>, cx: &mut Context<'_>, bufs: &[io::IoSlice<'_>]) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write_vectored(cx, bufs)
    }
    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }
}

/// Serves `app` on `listener` until `shutdown` completes; then stops accepting, lets requests
/// in progress finish for at most `limits.shutdown_grace`, and returns. Open WebSockets are
/// the sync engine's: it has committed everything it acknowledged, so they end with the process.
pub async fn serve(listener: TcpListener, app: Router, limits: ConnectionLimits, shutdown: impl Future<Output = ()>) -> io::Result<()> {
    let counts = Arc::new(Mutex::new(Counts { total: 0, by_address: HashMap::new() }));
    let (stop_tx, stop_rx) = watch::channel(false);
    // Tells when every HTTP connection task has ended (each holds a clone).
    let (done_tx, mut done_rx) = tokio::sync::mpsc::channel::<()>(1);
    let refusals = &limits::REFUSALS;
    tokio::pin!(shutdown);
    loop {
        let (stream, remote) = tokio::select! {
            _ = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    // Out of descriptors, say: back off instead of spinning.
                    if refusals.allow() {
                        tracing::warn!("accept failed: {e}");
                    }
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let admission = match admit(&counts, remote.ip(), &limits) {
            Ok(a) => a,
            Err(which) => {
                crate::metrics::refused(if which.contains("per-address") { "per_address_limit" } else { "connection_limit" });
                if refusals.allow() {
                    tracing::warn!(peer = %remote, "connection refused: {which}");
                }
                drop(stream);
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        tokio::spawn(connection(Admitted { stream, _admission: admission }, remote, app.clone(), limits.clone(), stop_rx.clone(), done_tx.clone()));
    }
    drop(listener);
    let _ = stop_tx.send(true);
    drop(done_tx);
    // `recv` returns None once every connection task has dropped its sender.
    if tokio::time::timeout(limits.shutdown_grace, done_rx.recv()).await.is_err() {
        tracing::warn!("requests still open after {:?}; stopping anyway", limits.shutdown_grace);
    }
    Ok(())
}

async fn connection(stream: Admitted, remote: SocketAddr, app: Router, limits: ConnectionLimits, mut stop: watch::Receiver<bool>, _done: tokio::sync::mpsc::Sender<()>) {
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        // The whole request head must arrive within this, on a new connection and between
        // requests on a kept-alive one: a silent socket or a slowloris is closed.
        .header_read_timeout(limits.header_read_timeout)
        .max_buf_size(limits::MAX_REQUEST_HEAD_BYTES);
    // Handlers see who is on the other end (`Extension<ConnectInfo<SocketAddr>>`), for logs.
    let app = tower::ServiceExt::map_request(app, move |mut request: axum::extract::Request<hyper::body::Incoming>| {
        request.extensions_mut().insert(axum::extract::ConnectInfo(remote));
        request
    });
    let conn = builder.serve_connection(TokioIo::new(stream), TowerToHyperService::new(app)).with_upgrades();
    tokio::pin!(conn);
    tokio::select! {
        result = conn.as_mut() => {
            if let Err(e) = result {
                tracing::debug!(peer = %remote, "connection ended: {e}");
            }
        }
        _ = async { let _ = stop.wait_for(|stopping| *stopping).await; } => {
            conn.as_mut().graceful_shutdown();
            let _ = conn.await;
        }
    }
}
