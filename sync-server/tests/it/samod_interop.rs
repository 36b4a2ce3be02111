//! Interop with `samod`, the Rust automerge-repo implementation: samod peers create, edit and
//! read documents through our server, and our own engine sees what they wrote.

use std::time::Duration;

use automerge::transaction::Transactable;
use automerge::{Automerge, ReadDoc, ROOT};
use samod::{BackoffConfig, Repo, Url};

use crate::common;

async fn connected_repo(url: &str) -> (Repo, samod::DialerHandle<std::convert::Infallible>) {
    let repo = Repo::build_tokio().load().await;
    let dialer = repo.dial_websocket(Url::parse(url).unwrap(), BackoffConfig::default()).unwrap();
    tokio::time::timeout(Duration::from_secs(10), dialer.established()).await.unwrap().unwrap();
    (repo, dialer)
}

fn read(doc: &Automerge, key: &str) -> Option<String> {
    common::visit_value(doc, key)
}

/// A samod peer records `value` in the visit under `key`, as the tester, in one change the
/// ledger's schema allows (see `common::put_visit`).
fn write_visit(doc: &mut Automerge, key: &str, value: &str) {
    use automerge::{ObjType, ScalarValue};
    let id = common::visit_id(key);
    let note = ledger::record::ChangeNote { summary: "samod 修改".into(), record: Some((ledger::Section::Visits, id.clone())), by: common::TESTER.into() };
    doc.transact_with::<_, _, automerge::AutomergeError, _>(
        |_| automerge::transaction::CommitOptions::default().with_message(note.encode()),
        |tx| {
            let visits = tx.get(ROOT, "visits")?.expect("a ledger skeleton").1;
            let record = match tx.get(&visits, id.as_str())? {
                Some((_, record)) => record,
                None => {
                    let record = tx.put_object(&visits, id.as_str(), ObjType::Map)?;
                    tx.put(&record, "created_at", ScalarValue::Timestamp(1_000))?;
                    tx.put(&record, "deleted", false)?;
                    tx.put(&record, "place", key)?;
                    record
                }
            };
            tx.put(&record, "whom", value)?;
            Ok(())
        },
    )
    .unwrap();
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

/// Samod peers, each with a device token an admin issued (the `token` query parameter), edit
/// a unit's ledger through our server and see each other's edits.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn samod_peers_with_issued_tokens_sync_a_unit_ledger_through_our_server() {
    let data = tempfile::tempdir().unwrap();
    let server = common::Server::start(data.path(), Duration::from_secs(5)).await;
    let ledger_id = server.ledger();
    let id: samod::DocumentId = ledger_id.to_string().parse().unwrap();
    let (alice, alice_dial) = connected_repo(&server.url()).await;
    let handle = tokio::time::timeout(Duration::from_secs(10), alice.find(id.clone())).await.unwrap().unwrap().expect("alice could not find the ledger");
    assert!(handle.with_document(|d| d.get(ROOT, "visits").unwrap().is_some()), "the unit's ledger skeleton");
    handle.with_document(|d| write_visit(d, "visit", "张大爷家"));
    let conn = alice_dial.connection_id().unwrap();
    tokio::time::timeout(Duration::from_secs(10), handle.they_have_our_changes(conn)).await.expect("server never confirmed alice's edit");

    // Bob, another samod peer with a token of his own, finds it through the server.
    let bob_token = server.state.hub.directory.issue_token(&server.tester.person, "bob's samod", None).unwrap().token;
    let (bob, _bob_dial) = connected_repo(&server.url_with(&bob_token)).await;
    let found = tokio::time::timeout(Duration::from_secs(10), bob.find(id)).await.unwrap().unwrap().expect("bob could not find the document");
    assert_eq!(found.with_document(|d| read(d, "visit")).as_deref(), Some("张大爷家"));

    // Bob edits; Alice sees it.
    found.with_document(|d| write_visit(d, "follow_up", "联系电工"));
    assert!(eventually(|| handle.with_document(|d| read(d, "follow_up")).as_deref() == Some("联系电工")).await, "alice never saw bob's edit");
    assert_eq!(ledger_sync::DocumentId::parse(&handle.document_id().to_string()).unwrap(), ledger_id);
    alice.stop().await;
    bob.stop().await;
}

/// A document samod makes itself is not accepted (nobody creates a document by syncing), and
/// an unknown id is unavailable; a peer without a token never connects.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn samod_cannot_create_documents_or_find_unknown_ones() {
    let data = tempfile::tempdir().unwrap();
    let server = common::Server::start(data.path(), Duration::from_secs(5)).await;
    let (repo, _dial) = connected_repo(&server.url()).await;
    let unknown: samod::DocumentId = ledger_sync::DocumentId::random().to_string().parse().unwrap();
    let missing = tokio::time::timeout(Duration::from_secs(10), repo.find(unknown)).await.unwrap().unwrap();
    assert!(missing.is_none());
    let mut initial = Automerge::new();
    initial
        .transact::<_, _, automerge::AutomergeError>(|tx| {
            tx.put(ROOT, "visit", "x")?;
            Ok(())
        })
        .unwrap();
    let made = repo.create(initial).await.unwrap();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let id = ledger_sync::DocumentId::parse(&made.document_id().to_string()).unwrap();
    assert!(server.state.hub.storage.load(&id).unwrap().is_none(), "a document a peer made was stored");
    repo.stop().await;

    let anonymous = Repo::build_tokio().load().await;
    let dialer = anonymous.dial_websocket(Url::parse(&format!("ws://{}/sync", server.addr)).unwrap(), BackoffConfig::default()).unwrap();
    assert!(tokio::time::timeout(Duration::from_secs(2), dialer.established()).await.is_err(), "a peer without a token connected");
    anonymous.stop().await;
}
