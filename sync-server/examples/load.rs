//! Load generator: N WebSocket clients, each with its own small document, making edits and
//! waiting until the server confirms each one (its sync reply shows the new heads). Speaks
//! only the automerge-repo protocol, so it runs against any compatible server.
//!
//! cargo run --release -p sync-server --example load -- ws://127.0.0.1:8080/sync CLIENTS EDITS

use std::sync::Arc;
use std::time::{Duration, Instant};

use automerge::transaction::Transactable;
use automerge::{ActorId, AutoCommit, ROOT};
use futures_util::{SinkExt, StreamExt};
use ledger_sync::{Connection, DocumentId, LocalPeer, Output, SingleDocument};
use tokio::sync::Mutex;
use tokio_tungstenite::tungstenite::Message as Ws;

struct Client {
    id: DocumentId,
    doc: AutoCommit,
}

impl Client {
    fn host(&mut self) -> SingleDocument<'_> {
        SingleDocument { id: self.id, doc: &mut self.doc }
    }
}

/// Runs one client; returns the latency of each confirmed edit.
async fn client(url: String, edits: usize, start: Arc<tokio::sync::Barrier>) -> Result<Vec<Duration>, String> {
    let (ws, _) = tokio_tungstenite::connect_async(&url).await.map_err(|e| e.to_string())?;
    let (mut tx, mut rx) = ws.split();
    let mut c = Client { id: DocumentId::random(), doc: AutoCommit::new().with_actor(ActorId::random()) };
    c.doc.put(ROOT, "title", "走访记录").unwrap();
    c.doc.commit();
    let mut conn = Connection::initiate(LocalPeer { peer_id: format!("load-{}", DocumentId::random()), storage_id: None });
    let mut latencies = Vec::with_capacity(edits);
    let mut waiting_since: Option<Instant> = None;
    let mut done = 0;
    let mut started = false;
    loop {
        while let Some(o) = conn.poll_output() {
            match o {
                Output::Send(f) => tx.send(Ws::Binary(f.into())).await.map_err(|e| e.to_string())?,
                Output::Connected { .. } => conn.sync_document(c.id),
                Output::Load { doc } => conn.process(doc, &mut c.host()),
                Output::Persist { ticket, .. } => conn.persisted(ticket, &mut c.host()),
                Output::Close { reason } => return Err(reason),
                _ => {}
            }
        }
        // Confirmed: the server's last sync message acknowledged our heads.
        let heads = c.doc.get_heads();
        let confirmed = conn.shared_heads(&c.id).is_some_and(|h| h == heads.as_slice());
        if confirmed {
            if !started {
                started = true;
                start.wait().await; // everyone connected and uploaded: the timed part begins
            } else if let Some(t) = waiting_since.take() {
                latencies.push(t.elapsed());
                done += 1;
            }
            if done == edits {
                return Ok(latencies);
            }
            c.doc.put(ROOT, format!("k{}", done % 8), done as i64).unwrap();
            c.doc.commit();
            waiting_since = Some(Instant::now());
            conn.sync_document(c.id);
            continue;
        }
        match tokio::time::timeout(Duration::from_secs(30), rx.next()).await {
            Ok(Some(Ok(Ws::Binary(f)))) => conn.receive(&f),
            Ok(Some(Ok(_))) => {}
            other => return Err(format!("connection ended: {other:?}")),
        }
    }
}

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let url = args.next().unwrap_or_else(|| "ws://127.0.0.1:8080/sync".into());
    let clients: usize = args.next().and_then(|s| s.parse().ok()).unwrap_or(1000);
    let edits: usize = args.next().and_then(|s| s.parse().ok()).unwrap_or(20);
    let start = Arc::new(tokio::sync::Barrier::new(clients + 1));
    let results = Arc::new(Mutex::new(Vec::new()));
    let mut tasks = Vec::new();
    for i in 0..clients {
        let (url, start, results) = (url.clone(), start.clone(), results.clone());
        tasks.push(tokio::spawn(async move {
            let r = client(url, edits, start.clone()).await;
            if let Err(e) = &r {
                eprintln!("client {i}: {e}");
            }
            results.lock().await.push(r);
        }));
        if i % 50 == 49 {
            tokio::time::sleep(Duration::from_millis(20)).await; // do not SYN-flood the listener
        }
    }
    start.wait().await;
    let t0 = Instant::now();
    for t in tasks {
        let _ = t.await;
    }
    let wall = t0.elapsed();
    let results = results.lock().await;
    let mut lat: Vec<Duration> = results.iter().filter_map(|r| r.as_ref().ok()).flatten().copied().collect();
    let failed = results.iter().filter(|r| r.is_err()).count();
    lat.sort();
    let pct = |p: f64| lat.get(((lat.len() as f64 * p) as usize).min(lat.len().saturating_sub(1))).copied().unwrap_or_default();
    println!(
        "{{\"clients\": {clients}, \"failed\": {failed}, \"edits\": {}, \"seconds\": {:.3}, \"edits_per_second\": {:.0}, \"p50_ms\": {:.1}, \"p99_ms\": {:.1}}}",
        lat.len(),
        wall.as_secs_f64(),
        lat.len() as f64 / wall.as_secs_f64(),
        pct(0.50).as_secs_f64() * 1000.0,
        pct(0.99).as_secs_f64() * 1000.0
    );
}
