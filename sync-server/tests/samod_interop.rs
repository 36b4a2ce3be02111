//! Interop with `samod`, the Rust automerge-repo implementation: samod peers create, edit and
//! read documents through our server, and our own engine sees what they wrote.

use std::time::Duration;

use automerge::transaction::Transactable;
use automerge::{Automerge, ReadDoc, ROOT};
use samod::{BackoffConfig, Repo, Url};

async fn start() -> (std::net::SocketAddr, tempfile::TempDir) {
    let data = tempfile::tempdir().unwrap();
    let dist = tempfile::tempdir().unwrap();
    std::fs::write(dist.path().join("index.html"), "<!DOCTYPE html>").unwrap();
    let app = sync_server::router(sync_server::Config { dist: dist.keep(), data_dir: data.path().to_owned() }).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { sync_server::serve(listener, app, sync_server::ConnectionLimits::default(), std::future::pending()).await.unwrap() });
    (addr, data)
}

async fn connected_repo(addr: std::net::SocketAddr) -> (Repo, samod::DialerHandle<std::convert::Infallible>) {
    let repo = Repo::build_tokio().load().await;
    let dialer = repo.dial_websocket(Url::parse(&format!("ws://{addr}/sync")).unwrap(), BackoffConfig::default()).unwrap();
    tokio::time::timeout(Duration::from_secs(10), dialer.established()).await.unwrap().unwrap();
    (repo, dialer)
}

fn read(doc: &Automerge, key: &str) -> Option<String> {
    doc.get(ROOT, key).unwrap().map(|(v, _)| v.to_string().trim_matches('"').to_owned())
}

/// Polls until `f` holds or ten seconds pass.
async fn eventually(mut f: impl FnMut() -> bool) -> bool {
    for _ in 0..200 {
        if f() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    false
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn samod_peers_sync_through_our_server() {
    let (addr, _data) = start().await;
    let (alice, alice_dial) = connected_repo(addr).await;
    let mut initial = Automerge::new();
    initial.transact::<_, _, automerge::AutomergeError>(|tx| {
        tx.put(ROOT, "visit", "张大爷家")?;
        Ok(())
    }).unwrap();
    let handle = alice.create(initial).await.unwrap();
    let conn = alice_dial.connection_id().unwrap();
    tokio::time::timeout(Duration::from_secs(10), handle.they_have_our_changes(conn)).await.expect("server never confirmed alice's document");

    // Bob, another samod peer, finds it through the server.
    let (bob, _bob_dial) = connected_repo(addr).await;
    let found = tokio::time::timeout(Duration::from_secs(10), bob.find(handle.document_id().clone())).await.unwrap().unwrap().expect("bob could not find the document");
    assert_eq!(found.with_document(|d| read(d, "visit")).as_deref(), Some("张大爷家"));

    // Bob edits; Alice sees it.
    found.with_document(|d| {
        d.transact::<_, _, automerge::AutomergeError>(|tx| {
            tx.put(ROOT, "follow_up", "联系电工")?;
            Ok(())
        })
        .unwrap();
    });
    assert!(eventually(|| handle.with_document(|d| read(d, "follow_up")).as_deref() == Some("联系电工")).await, "alice never saw bob's edit");

    // Our document ids and samod's are the same strings.
    let ours = ledger_sync::DocumentId::parse(&handle.url().to_string()).unwrap();
    assert_eq!(ours.to_string(), handle.document_id().to_string());
    alice.stop().await;
    bob.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn samod_reads_the_demo_ledger_and_gets_unavailable_for_unknown_documents() {
    let (addr, data) = start().await;
    let state = sync_server::AppState::open(data.path()).unwrap();
    let (repo, _dial) = connected_repo(addr).await;
    let id: samod::DocumentId = state.demo_ledger.to_string().parse().unwrap();
    let ledger = tokio::time::timeout(Duration::from_secs(10), repo.find(id)).await.unwrap().unwrap().expect("demo ledger unavailable");
    assert!(ledger.with_document(|d| d.get(ROOT, "visits").unwrap().is_some()));
    let unknown: samod::DocumentId = ledger_sync::DocumentId::random().to_string().parse().unwrap();
    let missing = tokio::time::timeout(Duration::from_secs(10), repo.find(unknown)).await.unwrap().unwrap();
    assert!(missing.is_none());
    repo.stop().await;
}
