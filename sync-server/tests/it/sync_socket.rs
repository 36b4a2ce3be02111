//! The `/sync` endpoint over real WebSockets and real SQLite: a Rust client running the same
//! `ledger` engine as the app, against the server's router on a loopback port.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use automerge::{ActorId, AutoCommit};
use futures_util::{SinkExt, StreamExt};
use ledger_sync::{Connection, DocumentHost, DocumentId, LocalPeer, Message, Output};
use tokio_tungstenite::tungstenite::Message as Ws;

use crate::common;

use common::Server;

async fn start(data: &Path) -> Server {
    Server::start(data, Duration::from_secs(5)).await
}

#[derive(Default)]
struct Client {
    docs: HashMap<DocumentId, AutoCommit>,
}

impl DocumentHost for Client {
    fn document(&mut self, doc: &DocumentId, _create: bool) -> Option<&mut AutoCommit> {
        self.docs.get_mut(doc)
    }
    fn may_write(&mut self, _: &DocumentId, _: &[automerge::Change]) -> Result<(), String> {
        Ok(())
    }
}

/// Connects, syncs the given documents until the server has nothing more to say, returns
/// whether the connection stayed healthy.
async fn sync_once(server: &Server, client: &mut Client, docs: &[DocumentId]) -> bool {
    let (mut ws, _) = tokio_tungstenite::connect_async(server.url()).await.unwrap();
    let mut conn = Connection::initiate(LocalPeer { peer_id: format!("test-{}", DocumentId::random()), storage_id: None });
    let mut healthy = true;
    loop {
        while let Some(o) = conn.poll_output() {
            match o {
                Output::Send(f) => ws.send(Ws::Binary(f.into())).await.unwrap(),
                Output::Connected { .. } => {
                    for d in docs {
                        conn.sync_document(*d);
                    }
                }
                Output::Load { doc } => conn.process(doc, client),
                Output::Persist { ticket, .. } => conn.persisted(ticket, client),
                Output::Close { .. } => healthy = false,
                _ => {}
            }
        }
        match tokio::time::timeout(Duration::from_millis(300), ws.next()).await {
            Ok(Some(Ok(Ws::Binary(f)))) => conn.receive(&f),
            Ok(Some(Ok(Ws::Close(_)))) | Ok(None) | Ok(Some(Err(_))) => return false,
            Ok(Some(Ok(_))) => {}
            Err(_) => return healthy, // quiet: in sync
        }
    }
}

/// A ledger holding one visit recorded under `key` that says `value`, signed by the tester.
fn doc_with(key: &str, value: &str) -> AutoCommit {
    let mut d = common::skeleton();
    common::put_visit(&mut d, key, value);
    common::commit_signed(&mut d, common::TESTER, Some(key));
    d
}

fn value(d: &AutoCommit, key: &str) -> Option<String> {
    common::visit_value(d, key)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn changes_reach_another_client_and_survive_a_restart() {
    let data = tempfile::tempdir().unwrap();
    let server = start(data.path()).await;
    let id = server.ledger();
    let mut phone = Client::default();
    phone.docs.insert(id, doc_with("visit", "张大爷家"));
    assert!(sync_once(&server, &mut phone, &[id]).await);

    // The server restarts on the same data directory.
    server.stop().await;
    let server = start(data.path()).await;
    let mut desktop = Client::default();
    desktop.docs.insert(id, AutoCommit::new());
    assert!(sync_once(&server, &mut desktop, &[id]).await);
    assert_eq!(value(&desktop.docs[&id], "visit").as_deref(), Some("张大爷家"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_device_is_told_its_ledgers_and_syncs_them() {
    let data = tempfile::tempdir().unwrap();
    let server = start(data.path()).await;
    let made = server.ledger();
    let body: serde_json::Value = serde_json::from_str(&http_get(server.addr, "/api/me", &server.tester.token).await).unwrap();
    assert_eq!(body["person"]["name"], "测试员");
    let id = DocumentId::parse(body["ledgers"][0]["documentId"].as_str().unwrap()).unwrap();
    assert_eq!(id, made);
    assert_eq!(body["ledgers"][0]["rights"]["write"], "cadre", "the tester is a cadre of the ledger");
    let mut phone = Client::default();
    phone.docs.insert(id, AutoCommit::new());
    assert!(sync_once(&server, &mut phone, &[id]).await);
    let ledger = ledger::UnitLedger::load(&phone.docs.get_mut(&id).unwrap().save(), ActorId::random()).unwrap();
    assert!(ledger.visits().visits.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_frames_get_an_error_and_a_close_and_the_server_keeps_serving() {
    let data = tempfile::tempdir().unwrap();
    let server = start(data.path()).await;
    let id = server.ledger();
    let mut phone = Client::default();
    phone.docs.insert(id, doc_with("k", "v"));
    assert!(sync_once(&server, &mut phone, &[id]).await);

    let join = Message::Join { sender_id: "evil".into(), supported_protocol_versions: vec!["1".into()], metadata: None }.encode();
    let bad_sync = Message::Sync { sender_id: "evil".into(), target_id: "s".into(), document_id: id, data: vec![0x42, 0xde, 0xad] }.encode();
    let huge = vec![0u8; ledger_sync::MAX_MESSAGE_BYTES + 10];
    let unknown_type = {
        let mut m = Message::Leave { sender_id: "evil".into() }.encode();
        let at = m.windows(5).position(|w| w == b"leave").unwrap();
        m[at..at + 5].copy_from_slice(b"party");
        m
    };
    for frames in
        [vec![vec![0xff, 0x13, 0x37]], vec![join.clone(), bad_sync], vec![join.clone(), huge], vec![join.clone(), unknown_type], vec![join, b"{\"type\":\"join\"}".to_vec()]]
    {
        let (mut ws, _) = tokio_tungstenite::connect_async(server.url()).await.unwrap();
        for f in frames {
            let _ = ws.send(Ws::Binary(f.into())).await;
        }
        let mut saw_error = false;
        let mut closed = false;
        while let Ok(Some(msg)) = tokio::time::timeout(Duration::from_secs(5), ws.next()).await {
            match msg {
                Ok(Ws::Binary(f)) => saw_error |= matches!(Message::decode(&f), Ok(Message::Error { .. })),
                Ok(Ws::Close(_)) | Err(_) => {
                    closed = true;
                    break;
                }
                _ => {}
            }
        }
        assert!(saw_error && closed, "error sent: {saw_error}, closed: {closed}");
    }
    // Stored documents are unchanged and the server still serves.
    let mut other = Client::default();
    other.docs.insert(id, AutoCommit::new());
    assert!(sync_once(&server, &mut other, &[id]).await);
    assert_eq!(value(&other.docs[&id], "k").as_deref(), Some("v"));
    assert_eq!(other.docs.get_mut(&id).unwrap().get_heads(), phone.docs.get_mut(&id).unwrap().get_heads());
}

/// A plain HTTP GET over a TcpStream (no HTTP client dependency for one request).
async fn http_get(addr: SocketAddr, path: &str, token: &str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    s.write_all(format!("GET {path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\nConnection: close\r\n\r\n").as_bytes()).await.unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).await.unwrap();
    out.split("\r\n\r\n").nth(1).unwrap_or_default().to_owned()
}
