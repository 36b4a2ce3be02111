//! The log names the peer and the document of every refusal, and a flood of refusals cannot
//! fill the disk: at most a budget of lines a minute (a log used to grow 417 bytes per
//! malformed connection, without bound). Runs in a process of its own: the log subscriber is global.

use crate::common;

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use ledger_sync::{DocumentId, Message};
use tokio_tungstenite::tungstenite::Message as Ws;

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Connects as `attacker`, sends a sync message for `doc` that is not one, waits for the close.
async fn refused(url: &str, doc: DocumentId) {
    let (mut ws, _) = tokio_tungstenite::connect_async(url).await.unwrap();
    let join = Message::Join { sender_id: "attacker".into(), supported_protocol_versions: vec!["1".into()], metadata: None };
    ws.send(Ws::Binary(join.encode().into())).await.unwrap();
    let sync = Message::Sync { sender_id: "attacker".into(), target_id: "server".into(), document_id: doc, data: vec![0x42, 0x13, 0x37] };
    ws.send(Ws::Binary(sync.encode().into())).await.unwrap();
    while let Ok(Some(Ok(frame))) = tokio::time::timeout(Duration::from_secs(5), ws.next()).await {
        if let Ws::Close(_) = frame {
            break;
        }
    }
}

#[test]
fn refusals_are_logged_with_peer_and_document_within_a_budget() {
    common::own_process("logs::refusals_are_logged_with_peer_and_document_within_a_budget", refusals_are_logged_with_peer_and_document_within_a_budget_alone());
}

async fn refusals_are_logged_with_peer_and_document_within_a_budget_alone() {
    let log = Captured::default();
    let writer = log.clone();
    tracing_subscriber::fmt().with_ansi(false).with_writer(move || writer.clone()).with_max_level(tracing::Level::INFO).init();

    let data = tempfile::tempdir().unwrap();
    let server = common::Server::start(data.path(), Duration::from_secs(5)).await;
    let doc = server.ledger();
    let floods = 300;
    for _ in 0..floods {
        refused(&server.url(), doc).await;
    }
    tokio::time::sleep(Duration::from_millis(200)).await;

    let text = String::from_utf8(log.0.lock().unwrap().clone()).unwrap();
    let refusals: Vec<&str> = text.lines().filter(|l| l.contains("refused:")).collect();
    let first = refusals.first().copied().unwrap_or_default();
    assert!(first.contains(&doc.to_string()), "the document is not named: {first}");
    assert!(first.contains("127.0.0.1"), "the peer's address is not named: {first}");
    assert!(first.contains("attacker"), "the peer's id is not named: {first}");
    let budget = sync_server::REFUSALS_PER_MINUTE as usize;
    assert!(refusals.len() <= budget, "{} refusal lines for {floods} refusals (budget {budget} a minute)", refusals.len());
    assert!(refusals.len() >= budget.min(floods) / 2, "refusals went unlogged: {}", refusals.len());
    assert!(text.len() < 40 * 1024, "the log grew {} bytes for {floods} refusals", text.len());
    // Every one of those connections carried the device token in its URL: none reached the log.
    assert!(server.url().contains(&server.tester.token));
    assert!(!text.contains(&server.tester.token), "a device token was written to the log");
}
