//! Durability: the real `sync-server` binary is killed with SIGKILL at random moments while a
//! client syncs. After every restart, every change the server had confirmed to the client (the
//! client's sync state says the server has it) is still there. Bounded: a fixed number of kills.

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use automerge::{sync, AutoCommit, ChangeHash};
use futures_util::{SinkExt, StreamExt};
use ledger_sync::{Connection, DocumentId, LocalPeer, Output, SingleDocument};
use tokio_tungstenite::tungstenite::Message as Ws;

use crate::common;

pub(crate) struct Client {
    pub id: DocumentId,
    pub doc: AutoCommit,
}

impl Client {
    fn host(&mut self) -> SingleDocument<'_> {
        SingleDocument { id: self.id, doc: &mut self.doc }
    }
}

pub(crate) fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn spawn(data: &std::path::Path, dist: &std::path::Path, port: u16) -> Child {
    Command::new(env!("CARGO_BIN_EXE_sync-server"))
        .args(["--listen", &format!("127.0.0.1:{port}"), "--data-dir"])
        .arg(data)
        .arg("--dist")
        .arg(dist)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

pub(crate) async fn wait_healthy(port: u16) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        if tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_ok() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("server did not start");
}

/// Syncs until quiet, the connection dies, or `budget` runs out; returns the heads the server
/// confirmed (the shared heads of the last sync state it produced).
pub(crate) async fn sync(port: u16, token: &str, client: &mut Client, budget: Duration, confirmed: &mut Vec<ChangeHash>) {
    let Ok(Ok((mut ws, _))) = tokio::time::timeout(budget, tokio_tungstenite::connect_async(format!("ws://127.0.0.1:{port}/sync?token={token}"))).await else {
        return;
    };
    let mut conn = Connection::initiate(LocalPeer { peer_id: format!("c-{}", DocumentId::random()), storage_id: Some("durability-client".into()) });
    let deadline = Instant::now() + budget;
    loop {
        while let Some(o) = conn.poll_output() {
            match o {
                Output::Send(f) => {
                    if ws.send(Ws::Binary(f.into())).await.is_err() {
                        return;
                    }
                }
                Output::Connected { .. } => conn.sync_document(client.id),
                Output::Load { doc } => conn.process(doc, &mut client.host()),
                Output::Persist { ticket, .. } => conn.persisted(ticket, &mut client.host()),
                Output::SyncState { state, .. } => *confirmed = sync::State::decode(&state).unwrap().shared_heads,
                _ => {}
            }
        }
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left.min(Duration::from_millis(200)), ws.next()).await {
            Ok(Some(Ok(Ws::Binary(f)))) => conn.receive(&f),
            Ok(Some(Ok(_))) => {}
            _ => return,
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn confirmed_changes_survive_kill_9() {
    let data = tempfile::tempdir().unwrap();
    let dist = tempfile::tempdir().unwrap();
    std::fs::write(dist.path().join("index.html"), "<!DOCTYPE html>").unwrap();
    let port = free_port();
    // The organisation, a ledger and a device token, made before the first start.
    let (token, ledger) = {
        let storage = std::sync::Arc::new(sync_server::Storage::open(data.path()).unwrap());
        let directory = sync_server::Directory::open(storage).unwrap();
        let tester = common::seed(&directory);
        (tester.token.clone(), common::add_ledger(&directory, &tester))
    };
    let mut client = Client { id: ledger, doc: common::skeleton() };
    let mut confirmed: Vec<ChangeHash> = Vec::new();

    for round in 0..8u64 {
        let mut server = spawn(data.path(), dist.path(), port);
        wait_healthy(port).await;
        for i in 0..20 {
            let key = format!("k{round}-{i}");
            common::put_visit(&mut client.doc, &key, &i.to_string());
            common::commit_signed(&mut client.doc, common::TESTER, Some(&key));
        }
        // Kill at a different moment each round: from mid-handshake to after quiet.
        let budget = Duration::from_millis(5 + round * 40);
        sync(port, &token, &mut client, budget, &mut confirmed).await;
        server.kill().unwrap(); // SIGKILL
        server.wait().unwrap();

        // Everything confirmed so far must be on disk: a fresh reader gets it from a new server.
        let mut server = spawn(data.path(), dist.path(), port);
        wait_healthy(port).await;
        let mut reader = Client { id: client.id, doc: AutoCommit::new() };
        let mut ignored = Vec::new();
        sync(port, &token, &mut reader, Duration::from_secs(3), &mut ignored).await;
        for hash in &confirmed {
            assert!(reader.doc.get_change_by_hash(hash).is_some(), "round {round}: confirmed change {hash} lost");
        }
        server.kill().unwrap();
        server.wait().unwrap();
    }
    assert!(!confirmed.is_empty(), "no round ever confirmed anything: the test proved nothing");

    // And once the server stays up, everything converges.
    let mut server = spawn(data.path(), dist.path(), port);
    wait_healthy(port).await;
    sync(port, &token, &mut client, Duration::from_secs(5), &mut confirmed).await;
    let mut reader = Client { id: client.id, doc: AutoCommit::new() };
    sync(port, &token, &mut reader, Duration::from_secs(5), &mut Vec::new()).await;
    assert_eq!(reader.doc.get_heads(), client.doc.get_heads());
    server.kill().unwrap();
    server.wait().unwrap();
}

/// A form posted on a connection of its own; None when the server went away (killed) before it
/// answered in full.
async fn post_form(addr: std::net::SocketAddr, path: &str, form: &str) -> Option<u16> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut s = tokio::net::TcpStream::connect(addr).await.ok()?;
    let request =
        format!("POST {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{form}", form.len());
    s.write_all(request.as_bytes()).await.ok()?;
    let mut answer = Vec::new();
    s.read_to_end(&mut answer).await.ok()?;
    let head = String::from_utf8_lossy(&answer);
    // A whole page: the acknowledgement is the thanks page, not a status line cut short.
    head.contains("</html>").then(|| head.split(' ').nth(1)?.parse().ok()).flatten()
}

/// Residents' ratings at 100 a second while the real binary is killed with SIGKILL: every
/// rating the board acknowledged (200, "已收到") is in the unit's ledger on disk afterwards, once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_ratings_survive_kill_9() {
    let data = tempfile::tempdir().unwrap();
    let dist = tempfile::tempdir().unwrap();
    std::fs::write(dist.path().join("index.html"), "<!DOCTYPE html>").unwrap();
    // The demo organisation with its board, seeded before the first start in a runtime of its
    // own (dropped with everything it spawned before the binary opens the same storage).
    let dir = data.path().to_owned();
    let (unit, doc) = std::thread::spawn(move || {
        let rt = tokio::runtime::Runtime::new().unwrap();
        rt.block_on(async move {
            let storage = std::sync::Arc::new(sync_server::Storage::open(&dir).unwrap());
            let state = sync_server::AppState::with_board(storage, &Default::default(), None).unwrap();
            let hub = state.hub.clone();
            tokio::task::spawn_blocking(move || sync_server::demo::seed(&hub)).await.unwrap().unwrap();
            let org = state.hub.directory.org();
            let unit = org.units.values().find(|u| u.name == sync_server::demo::DEMO_BOARD_UNIT).unwrap().clone();
            (unit.id.clone(), DocumentId::parse(unit.ledger.as_deref().unwrap()).unwrap())
        })
    })
    .join()
    .unwrap();
    let count = |tag: &str| -> Vec<String> {
        let storage = sync_server::Storage::open(data.path()).unwrap();
        let bytes = storage.load(&doc).unwrap().unwrap().concatenated();
        let ledger = ledger::UnitLedger::load(&bytes, automerge::ActorId::random()).unwrap();
        ledger.ratings().records.into_iter().map(|r| r.comment).filter(|c| c.starts_with(tag)).collect()
    };

    let port = free_port();
    let addr: std::net::SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    let mut acknowledged_total = 0;
    for round in 0..2u64 {
        let mut server = Command::new(env!("CARGO_BIN_EXE_sync-server"))
            .args(["--listen", &format!("127.0.0.1:{port}"), "--public-writes-per-address-per-hour", "1000000", "--data-dir"])
            .arg(data.path())
            .arg("--dist")
            .arg(dist.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        wait_healthy(port).await;
        let (_, _, page) = common::http(addr, "GET", &format!("/b/{unit}"), &[], "").await;
        let post = page.split("/rate/post/").nth(1).and_then(|r| r.get(..32)).expect("a post on the demo board").to_owned();
        let path = format!("/b/{unit}/rate/post/{post}");
        let started = Instant::now();
        let tasks: Vec<_> = (0..400usize)
            .map(|i| {
                let path = path.clone();
                tokio::spawn(async move {
                    tokio::time::sleep_until((started + Duration::from_millis(10 * i as u64)).into()).await;
                    let form = format!("verdict=satisfied&comment=kill{round}-{i}");
                    let status = tokio::time::timeout(Duration::from_secs(5), post_form(addr, &path, &form)).await;
                    matches!(status, Ok(Some(200))).then_some(format!("kill{round}-{i}"))
                })
            })
            .collect();
        // SIGKILL in the middle of the stream (about 150 sent), at a different moment each round.
        tokio::time::sleep(Duration::from_millis(1_500 + 170 * round)).await;
        server.kill().unwrap();
        server.wait().unwrap();
        let mut acknowledged = Vec::new();
        for t in tasks {
            acknowledged.extend(t.await.unwrap());
        }
        let stored = count(&format!("kill{round}-"));
        for a in &acknowledged {
            assert_eq!(stored.iter().filter(|s| *s == a).count(), 1, "round {round}: acknowledged rating {a} not stored exactly once");
        }
        assert!(acknowledged.len() > 50, "round {round}: only {} acknowledged before the kill: the test proved little", acknowledged.len());
        acknowledged_total += acknowledged.len();
    }
    assert!(acknowledged_total > 0);
}
