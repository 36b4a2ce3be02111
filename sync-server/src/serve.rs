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

/// Why a connection was refused: (the metric's reason code, words for the log).
type Refusal = (&'static str, &'static str);

fn admit(counts: &Arc<Mutex<Counts>>, address: IpAddr, limits: &ConnectionLimits, proxy: bool) -> Result<Admission, Refusal> {
    let mut c = counts.lock().unwrap_or_else(|e| e.into_inner());
    if c.total >= limits.max_connections {
        return Err(("connection_limit", "the server's connection limit"));
    }
    let mine = c.by_address.entry(address).or_insert(0);
    if *mine >= limits.max_connections_per_address && !proxy {
        return Err(("per_address_limit", "the per-address connection limit"));
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

/// How a listener meets its clients: over its own TLS or plain, and which peers are proxies
/// whose `X-Forwarded-For` and `-Proto` it believes.
#[derive(Clone, Default)]
pub struct Transport {
    pub tls: Option<tokio_rustls::TlsAcceptor>,
    pub trusted_proxies: Arc<[IpAddr]>,
}

/// Who a request came from, as the handlers see it (an extension of every request): the
/// client's address (behind a trusted proxy, the one it names) and whether the request reached
/// the server, or the trusted proxy, over HTTPS. Never taken from a header a client sends
/// straight to us.
#[derive(Clone, Copy, Debug)]
pub struct Client {
    pub address: SocketAddr,
    pub https: bool,
}

impl Client {
    fn of(request: &axum::http::request::Parts, remote: SocketAddr, tls: bool, proxies: &[IpAddr]) -> Self {
        if !proxies.contains(&remote.ip()) {
            return Self { address: remote, https: tls };
        }
        // The nearest address not a proxy of ours, reading X-Forwarded-For from its end (what a
        // client wrote at its start is not to be believed).
        let forwarded: Vec<IpAddr> =
            request.headers.get_all("x-forwarded-for").iter().filter_map(|v| v.to_str().ok()).flat_map(|v| v.split(',')).filter_map(|a| a.trim().parse().ok()).collect();
        let client = forwarded.iter().rev().find(|a| !proxies.contains(a)).or(forwarded.first()).copied().unwrap_or(remote.ip());
        let https = tls || request.headers.get("x-forwarded-proto").and_then(|v| v.to_str().ok()).is_some_and(|p| p.trim().eq_ignore_ascii_case("https"));
        Self { address: SocketAddr::new(client, 0), https }
    }
}

/// Serves `app` on `listener` until `shutdown` completes; then stops accepting, lets requests
/// in progress finish for at most `limits.shutdown_grace`, and returns. Open WebSockets are
/// the sync engine's: it has committed everything it acknowledged, so they end with the process.
pub async fn serve(listener: TcpListener, app: Router, limits: ConnectionLimits, shutdown: impl Future<Output = ()>) -> io::Result<()> {
    serve_with(listener, app, limits, Transport::default(), shutdown).await
}

/// [`serve`] over TLS, or behind trusted proxies.
pub async fn serve_with(listener: TcpListener, app: Router, limits: ConnectionLimits, transport: Transport, shutdown: impl Future<Output = ()>) -> io::Result<()> {
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
        // A proxy of ours carries many clients: only the total bounds it.
        let admission = match admit(&counts, remote.ip(), &limits, transport.trusted_proxies.contains(&remote.ip())) {
            Ok(a) => a,
            Err((code, which)) => {
                crate::metrics::refused(code);
                if refusals.allow() {
                    tracing::warn!(peer = %remote, "connection refused: {which}");
                }
                drop(stream);
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let stream = Admitted { stream, _admission: admission };
        let (app, limits, stop, done, transport) = (app.clone(), limits.clone(), stop_rx.clone(), done_tx.clone(), transport.clone());
        tokio::spawn(async move {
            let Some(tls) = transport.tls.clone() else {
                return connection(stream, remote, false, app, limits, transport.trusted_proxies, stop, done).await;
            };
            // The handshake too must finish within the header timeout: a socket that opens and
            // says nothing is closed as on plain HTTP.
            match tokio::time::timeout(limits.header_read_timeout, tls.accept(stream)).await {
                Ok(Ok(stream)) => connection(stream, remote, true, app, limits, transport.trusted_proxies, stop, done).await,
                Ok(Err(e)) => tracing::debug!(peer = %remote, "TLS handshake failed: {e}"),
                Err(_) => tracing::debug!(peer = %remote, "TLS handshake timed out"),
            }
        });
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

#[allow(clippy::too_many_arguments)]
async fn connection<S>(
    stream: S,
    remote: SocketAddr,
    tls: bool,
    app: Router,
    limits: ConnectionLimits,
    proxies: Arc<[IpAddr]>,
    mut stop: watch::Receiver<bool>,
    _done: tokio::sync::mpsc::Sender<()>,
) where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        // The whole request head must arrive within this, on a new connection and between
        // requests on a kept-alive one: a silent socket or a slowloris is closed.
        .header_read_timeout(limits.header_read_timeout)
        .max_buf_size(limits::MAX_REQUEST_HEAD_BYTES);
    // Handlers see who is on the other end (`Extension<ConnectInfo<SocketAddr>>`, for logs
    // and rate limits; behind a trusted proxy the client it names) and how it reached us.
    let app = tower::ServiceExt::map_request(app, move |request: axum::extract::Request<hyper::body::Incoming>| {
        let (mut parts, body) = request.into_parts();
        let client = Client::of(&parts, remote, tls, &proxies);
        parts.extensions.insert(axum::extract::ConnectInfo(client.address));
        parts.extensions.insert(client);
        axum::extract::Request::from_parts(parts, body)
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
