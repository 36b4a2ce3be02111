//! What the public board (先锋广场) serves: a demo unit's board page under load, against a static
//! file of the same size served by the same server in the same run (the baseline), both gzip as
//! a phone asks; then ratings posted at a steady 100 a second, each acknowledged one counted in
//! the ledger's read model afterwards. Client and server share this machine's cores.
//!
//! cargo run --release -p sync-server --example bench_board -- [CONNECTIONS] [SECONDS]

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

/// One response on a kept-alive connection: its status and body length (chunked or not).
async fn answer(r: &mut BufReader<TcpStream>) -> Option<(u16, usize)> {
    let mut line = String::new();
    r.read_line(&mut line).await.ok()?;
    let status: u16 = line.split(' ').nth(1)?.parse().ok()?;
    let (mut length, mut chunked) = (0usize, false);
    loop {
        line.clear();
        r.read_line(&mut line).await.ok()?;
        let l = line.trim_end().to_ascii_lowercase();
        if l.is_empty() {
            break;
        }
        if let Some(v) = l.strip_prefix("content-length: ") {
            length = v.parse().ok()?;
        }
        if l == "transfer-encoding: chunked" {
            chunked = true;
        }
    }
    if !chunked {
        let mut body = vec![0; length];
        r.read_exact(&mut body).await.ok()?;
        return Some((status, length));
    }
    let mut total = 0;
    loop {
        line.clear();
        r.read_line(&mut line).await.ok()?;
        let size = usize::from_str_radix(line.trim(), 16).ok()?;
        let mut chunk = vec![0; size + 2];
        r.read_exact(&mut chunk).await.ok()?;
        total += size;
        if size == 0 {
            return Some((status, total));
        }
    }
}

/// Requests per second for `path` over `connections` kept-alive connections for `seconds`, and
/// the bytes of one answer as transferred.
async fn load(addr: SocketAddr, path: &str, connections: usize, seconds: u64) -> (f64, usize) {
    let until = Instant::now() + Duration::from_secs(seconds);
    let mut tasks = Vec::new();
    for _ in 0..connections {
        let path = path.to_owned();
        tasks.push(tokio::spawn(async move {
            let mut s = BufReader::new(TcpStream::connect(addr).await.unwrap());
            let request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nAccept-Encoding: gzip\r\n\r\n");
            let (mut n, mut size) = (0u64, 0);
            while Instant::now() < until {
                s.get_mut().write_all(request.as_bytes()).await.unwrap();
                let (status, bytes) = answer(&mut s).await.expect("an answer");
                assert_eq!(status, 200, "{path}");
                n += 1;
                size = bytes;
            }
            (n, size)
        }));
    }
    let mut total = 0;
    let mut size = 0;
    for t in tasks {
        let (n, s) = t.await.unwrap();
        total += n;
        size = s;
    }
    (total as f64 / seconds as f64, size)
}

#[tokio::main(flavor = "multi_thread")]
async fn main() -> Result<(), String> {
    let mut args = std::env::args().skip(1);
    let connections: usize = args.next().and_then(|s| s.parse().ok()).unwrap_or(32);
    let seconds: u64 = args.next().and_then(|s| s.parse().ok()).unwrap_or(5);
    let data = std::env::temp_dir().join(format!("bench-board-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&data);
    let storage = Arc::new(sync_server::Storage::open(&data)?);
    // Every rating comes from this one address: its hourly limit is lifted for the bench.
    let limits = sync_server::board::BoardLimits { writes_per_address_per_hour: 1_000_000, writes_per_browser_per_hour: 1_000_000, ..Default::default() };
    let state = sync_server::AppState::with_board(storage.clone(), &limits, None)?;
    let hub = state.hub.clone();
    tokio::task::spawn_blocking(move || sync_server::demo::seed(&hub)).await.map_err(|e| e.to_string())??;
    let org = state.hub.directory.org();
    let unit = org.units.values().find(|u| u.name == sync_server::demo::DEMO_BOARD_UNIT).ok_or("no demo board")?.clone();
    let doc = ledger_sync::DocumentId::parse(unit.ledger.as_deref().unwrap_or_default()).map_err(|e| e.to_string())?;

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.map_err(|e| e.to_string())?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    let dist = data.join("dist");
    std::fs::create_dir_all(&dist).map_err(|e| e.to_string())?;
    std::fs::write(dist.join("index.html"), "<!doctype html>").map_err(|e| e.to_string())?;
    let app = sync_server::router_for(state.clone(), dist.clone());
    tokio::spawn(sync_server::serve(listener, app, sync_server::ConnectionLimits::default(), std::future::pending()));

    // The baseline: the board page's own bytes as a static file of the same server.
    let board = format!("/b/{}", unit.id);
    let page = {
        let mut s = TcpStream::connect(addr).await.map_err(|e| e.to_string())?;
        s.write_all(format!("GET {board} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").as_bytes()).await.map_err(|e| e.to_string())?;
        let mut out = String::new();
        s.read_to_string(&mut out).await.map_err(|e| e.to_string())?;
        out.split_once("\r\n\r\n").map(|(_, body)| body.to_owned()).unwrap_or_default()
    };
    std::fs::write(dist.join("same-size.html"), &page).map_err(|e| e.to_string())?;
    println!("board page: {} bytes uncompressed; {connections} connections, {seconds} s each", page.len());
    let (static_rps, static_bytes) = load(addr, "/same-size.html", connections, seconds).await;
    let (board_rps, board_bytes) = load(addr, &board, connections, seconds).await;
    println!("static file of the same bytes: {static_rps:.0} req/s ({static_bytes} bytes gzip)");
    println!("board page:                    {board_rps:.0} req/s ({board_bytes} bytes gzip), {:.2}x the static file", board_rps / static_rps);

    // Ratings at 100 a second for `seconds`, each from a browser of its own.
    let post = page.split("/rate/post/").nth(1).and_then(|r| r.get(..32)).ok_or("no post on the board")?.to_owned();
    let path = format!("{board}/rate/post/{post}");
    let total = 100 * seconds as usize;
    let started = Instant::now();
    let mut tasks = Vec::new();
    for i in 0..total {
        let at = started + Duration::from_millis(10 * i as u64);
        let path = path.clone();
        tasks.push(tokio::spawn(async move {
            tokio::time::sleep_until(at.into()).await;
            let sent = Instant::now();
            let body = format!("verdict=satisfied&comment=bench-{i}");
            let mut s = BufReader::new(TcpStream::connect(addr).await.unwrap());
            let cookie = format!("pb={i:032x}");
            let request = format!(
                "POST {path} HTTP/1.1\r\nHost: {addr}\r\nCookie: {cookie}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{body}",
                body.len()
            );
            s.get_mut().write_all(request.as_bytes()).await.unwrap();
            let (status, _) = answer(&mut s).await.expect("an answer");
            (status, sent.elapsed())
        }));
    }
    let mut acknowledged = 0;
    let mut latencies = Vec::new();
    for t in tasks {
        let (status, took) = t.await.map_err(|e| e.to_string())?;
        if status == 200 {
            acknowledged += 1;
        }
        latencies.push(took);
    }
    let took = started.elapsed();
    latencies.sort();
    let mut stored = 0;
    storage.each_body(&[doc], ledger::record::Section::Ratings, |_, _| {
        stored += 1;
        Ok(())
    })?;
    println!(
        "ratings: {total} sent at 100/s over {:.1} s; {acknowledged} acknowledged, {stored} in the read model; latency p50 {:.1} ms, p99 {:.1} ms",
        took.as_secs_f64(),
        latencies[latencies.len() / 2].as_secs_f64() * 1e3,
        latencies[latencies.len() * 99 / 100].as_secs_f64() * 1e3
    );
    if stored != acknowledged {
        return Err(format!("{acknowledged} acknowledged but {stored} stored"));
    }
    let _ = std::fs::remove_dir_all(&data);
    Ok(())
}
