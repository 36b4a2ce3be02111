//! Connections that never end, over real TCP against the binary's accept loop: a socket that
//! says nothing, a request sent a byte at a time (slowloris), more sockets from one address than
//! it may hold (a WebSocket keeps its place until it closes), and half-sent requests at
//! shutdown. Each used to hold a descriptor for ever.

use crate::common;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use common::Server;
use sync_server::ConnectionLimits;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

fn limits(header: Duration, per_address: usize) -> ConnectionLimits {
    ConnectionLimits { header_read_timeout: header, max_connections: 10_000, max_connections_per_address: per_address, shutdown_grace: Duration::from_secs(1) }
}

/// Whether the server closes the socket within `within` (reads until end of stream).
async fn closed_within(stream: &mut TcpStream, within: Duration) -> bool {
    let mut buf = [0u8; 1024];
    let deadline = Instant::now() + within;
    loop {
        match tokio::time::timeout_at(deadline.into(), stream.read(&mut buf)).await {
            Err(_) => return false,
            Ok(Ok(0)) | Ok(Err(_)) => return true,
            Ok(Ok(_)) => {}
        }
    }
}

/// `GET /healthz` from `source` (any 127.x.y.z address is this machine's loopback).
async fn healthz_from(source: [u8; 4], server: SocketAddr) -> Option<String> {
    let socket = TcpSocket::new_v4().unwrap();
    socket.bind(SocketAddr::from((source, 0))).unwrap();
    let mut stream = socket.connect(server).await.ok()?;
    stream.write_all(b"GET /healthz HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n").await.ok()?;
    let mut out = Vec::new();
    tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut out)).await.ok()?.ok()?;
    Some(String::from_utf8_lossy(&out).into_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_socket_and_a_slowloris_are_closed_after_the_header_timeout() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start_with(data.path(), Duration::from_secs(5), limits(Duration::from_millis(500), 100)).await;

    let mut silent = TcpStream::connect(server.addr).await.unwrap();
    assert!(closed_within(&mut silent, Duration::from_secs(5)).await, "a socket that says nothing was kept open");

    // A request head dribbled a byte every 50 ms never completes: closed all the same.
    let slow = TcpStream::connect(server.addr).await.unwrap();
    let dribble = tokio::spawn(async move {
        let head = b"GET /healthz HTTP/1.1\r\nHost: t\r\nX-Padding: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
        let (mut reader, mut writer) = slow.into_split();
        let started = Instant::now();
        for byte in head {
            if writer.write_all(&[*byte]).await.is_err() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
            let mut probe = [0u8; 64];
            if let Ok(Ok(0)) = tokio::time::timeout(Duration::from_millis(1), reader.read(&mut probe)).await {
                return Some(started.elapsed());
            }
        }
        None
    });
    let closed_after = dribble.await.unwrap();
    assert!(closed_after.is_some_and(|t| t < Duration::from_secs(5)), "a slowloris was kept open: {closed_after:?}");

    // An honest request still gets its answer.
    assert!(healthz_from([127, 0, 0, 1], server.addr).await.unwrap_or_default().starts_with("HTTP/1.1 200"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_address_holds_at_most_its_share_and_a_websocket_keeps_its_place() {
    let data = tempfile::tempdir().unwrap();
    let per_address = 20;
    let server = Server::start_with(data.path(), Duration::from_secs(5), limits(Duration::from_secs(30), per_address)).await;

    // A flood from 127.0.0.1: the first 20 are held (silent, until the header timeout); the
    // rest are closed at once.
    let mut held = Vec::new();
    for _ in 0..per_address {
        held.push(TcpStream::connect(server.addr).await.unwrap());
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    for _ in 0..10 {
        let mut extra = TcpStream::connect(server.addr).await.unwrap();
        assert!(closed_within(&mut extra, Duration::from_secs(2)).await, "a connection over the per-address limit was kept");
    }
    assert!(healthz_from([127, 0, 0, 1], server.addr).await.is_none_or(|r| !r.starts_with("HTTP/1.1 200")), "the flooding address got past its limit");
    // Another address is served meanwhile.
    let answer = healthz_from([127, 0, 0, 2], server.addr).await.unwrap_or_default();
    assert!(answer.starts_with("HTTP/1.1 200"), "another address was not served: {answer:?}");

    // Places come back when sockets close. An upgraded WebSocket keeps its place until it
    // closes (the server's count travels inside the upgraded stream).
    held.clear();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut sockets = Vec::new();
    for _ in 0..per_address {
        let (ws, _) = tokio_tungstenite::connect_async(server.url()).await.expect("a WebSocket within the limit");
        sockets.push(ws);
    }
    let mut extra = TcpStream::connect(server.addr).await.unwrap();
    assert!(closed_within(&mut extra, Duration::from_secs(2)).await, "open WebSockets were not counted");
    sockets.pop();
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(healthz_from([127, 0, 0, 1], server.addr).await.unwrap_or_default().starts_with("HTTP/1.1 200"), "a closed WebSocket's place did not come back");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn half_sent_requests_hold_a_shutdown_at_most_its_grace() {
    let data = tempfile::tempdir().unwrap();
    let storage = std::sync::Arc::new(sync_server::Storage::open(data.path()).unwrap());
    let state = sync_server::AppState::with_storage(storage).unwrap();
    let dist = tempfile::tempdir().unwrap();
    std::fs::write(dist.path().join("index.html"), "<!DOCTYPE html>").unwrap();
    let app = sync_server::router_for(state, dist.path().to_owned());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let serving = tokio::spawn(sync_server::serve(listener, app, limits(Duration::from_secs(60), 100), async {
        let _ = stopped.await;
    }));

    let mut half_sent = Vec::new();
    for _ in 0..20 {
        let mut s = TcpStream::connect(addr).await.unwrap();
        s.write_all(b"GET /healthz HTTP/1.1\r\nHost: t\r\n").await.unwrap();
        half_sent.push(s);
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    let started = Instant::now();
    stop.send(()).unwrap();
    let ended = tokio::time::timeout(Duration::from_secs(10), serving).await;
    assert!(ended.is_ok(), "shutdown waited for half-sent requests past its grace");
    assert!(started.elapsed() < Duration::from_secs(5), "shutdown took {:?} with a 1 s grace", started.elapsed());
}

/// 5,000 silent sockets and 50 slowloris connections from two addresses, with the limits the
/// binary runs with: `/healthz` from a third address keeps answering, and memory stays bounded.
#[test]
fn five_thousand_silent_sockets_and_a_slowloris_leave_the_server_answering() {
    common::own_process(
        "connections::five_thousand_silent_sockets_and_a_slowloris_leave_the_server_answering",
        five_thousand_silent_sockets_and_a_slowloris_leave_the_server_answering_alone(),
    );
}

async fn five_thousand_silent_sockets_and_a_slowloris_leave_the_server_answering_alone() {
    let data = tempfile::tempdir().unwrap();
    let limits = ConnectionLimits::default();
    assert!(limits.max_connections > 2_100, "the descriptor limit is too low for this test: {limits:?}");
    let server = Server::start_with(data.path(), Duration::from_secs(5), limits).await;
    let before = common::rss_mb();

    let mut silent = Vec::new();
    for _ in 0..5_000 {
        match TcpStream::connect(server.addr).await {
            Ok(s) => silent.push(s),
            Err(e) => panic!("connect failed after {}: {e}", silent.len()),
        }
    }
    let mut slow = Vec::new();
    for _ in 0..50 {
        let socket = TcpSocket::new_v4().unwrap();
        socket.bind(SocketAddr::from(([127, 0, 0, 3], 0))).unwrap();
        let mut s = socket.connect(server.addr).await.unwrap();
        s.write_all(b"GET /healthz HTTP/1.1\r\nHost: t\r\nX-A: ").await.unwrap();
        slow.push(s);
    }
    let mut worst = Duration::ZERO;
    for _ in 0..20 {
        let started = Instant::now();
        let answer = healthz_from([127, 0, 0, 2], server.addr).await.unwrap_or_default();
        worst = worst.max(started.elapsed());
        assert!(answer.starts_with("HTTP/1.1 200"), "/healthz stopped answering: {answer:?}");
        for s in slow.iter_mut() {
            let _ = s.write_all(b"a").await;
        }
    }
    let grown = common::rss_mb() - before;
    eprintln!("5,050 hostile sockets: slowest /healthz {worst:?}, memory +{grown:.0} MB");
    assert!(grown < 256.0, "memory grew {grown:.0} MB");
}
