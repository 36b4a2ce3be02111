//! Load generator: N WebSocket clients making edits and waiting until the server confirms each
//! one (its sync reply shows heads that include the edit). Two shapes:
//! - `separate`: each client has its own small document;
//! - `shared`: every client writes to one unit ledger (the real case: a unit's cadres back in
//!   coverage together). At the end a fresh reader checks that every confirmed edit is there.
//!
//! Speaks only the automerge-repo protocol, so it runs against any compatible server.
//!
//! cargo run --release -p sync-server --example load -- ws://127.0.0.1:8080/sync CLIENTS EDITS [separate|shared] [LEDGERS.json]
//!
//! Our server takes only authenticated devices and serves only ledgers the organisation made:
//! `LEDGERS.json` (from `examples/prepare_load`) gives the device token (added to the URL) and
//! the ledger ids to write; without it, fresh document ids (the reference server).

use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use automerge::{ActorId, AutoCommit, ChangeHash};
use futures_util::{SinkExt, StreamExt};
use ledger_sync::{Connection, DocumentId, LocalPeer, Output, SingleDocument};
use tokio::sync::Mutex;
use tokio_tungstenite::tungstenite::Message as Ws;

#[path = "../tests/it/common/mod.rs"]
mod common;

/// The name edits are signed with: the device's person (from `LEDGERS.json`); our server
/// refuses changes signed by anyone else.
static SIGNER: std::sync::OnceLock<String> = std::sync::OnceLock::new();

fn signer() -> &'static str {
    SIGNER.get().map(String::as_str).unwrap_or_default()
}

struct Client {
    id: DocumentId,
    doc: AutoCommit,
    /// Changes known to be in the server's history: ancestors of heads it confirmed. Grows as
    /// confirmations come, so checking one costs only the changes new since the last check (a
    /// `get_changes(shared)` per incoming message made this harness, not the server, the
    /// bottleneck of the shared shape).
    confirmed_history: HashSet<ChangeHash>,
}

impl Client {
    fn host(&mut self) -> SingleDocument<'_> {
        SingleDocument { id: self.id, doc: &mut self.doc }
    }

    /// Whether `edit` is in the history the server confirmed.
    fn confirmed(&mut self, shared: &[ChangeHash], edit: ChangeHash) -> bool {
        let mut stack: Vec<ChangeHash> = shared.iter().filter(|h| !self.confirmed_history.contains(*h)).copied().collect();
        while let Some(hash) = stack.pop() {
            if !self.confirmed_history.insert(hash) {
                continue;
            }
            if let Some(change) = self.doc.get_change_by_hash(&hash) {
                stack.extend(change.deps().iter().filter(|d| !self.confirmed_history.contains(*d)));
            }
        }
        self.confirmed_history.contains(&edit)
    }
}

struct Outcome {
    latencies: Vec<Duration>,
    /// The edits the server confirmed.
    confirmed: Vec<ChangeHash>,
    /// Frames received from and sent to the server in the timed part: how many sync rounds
    /// each edit takes, which is most of what an edit costs a server on a shared document.
    frames_in: usize,
    frames_out: usize,
}

/// Runs one client on `doc` (starting from `start_doc`); returns its confirmed edits.
async fn client(url: String, id: DocumentId, start_doc: AutoCommit, name: usize, edits: usize, start: Arc<tokio::sync::Barrier>) -> Result<Outcome, String> {
    let (ws, _) = tokio_tungstenite::connect_async(&url).await.map_err(|e| e.to_string())?;
    let (mut tx, mut rx) = ws.split();
    let mut c = Client { id, doc: start_doc.with_actor(ActorId::random()), confirmed_history: HashSet::new() };
    let mut conn = Connection::initiate(LocalPeer { peer_id: format!("load-{}", DocumentId::random()), storage_id: None });
    let mut out = Outcome { latencies: Vec::with_capacity(edits), confirmed: Vec::with_capacity(edits), frames_in: 0, frames_out: 0 };
    // The edit waiting for confirmation, and since when.
    let mut waiting: Option<(ChangeHash, Instant)> = None;
    let mut started = false;
    loop {
        while let Some(o) = conn.poll_output() {
            match o {
                Output::Send(f) => {
                    out.frames_out += usize::from(started);
                    tx.send(Ws::Binary(f.into())).await.map_err(|e| e.to_string())?
                }
                Output::Connected { .. } => conn.sync_document(c.id),
                Output::Load { doc } => conn.process(doc, &mut c.host()),
                Output::Persist { ticket, .. } => conn.persisted(ticket, &mut c.host()),
                Output::Close { reason } => return Err(reason),
                _ => {}
            }
        }
        let shared = conn.shared_heads(&c.id).map(<[_]>::to_vec).unwrap_or_default();
        let ready = match waiting {
            Some((edit, since)) if c.confirmed(&shared, edit) => {
                out.latencies.push(since.elapsed());
                out.confirmed.push(edit);
                true
            }
            Some(_) => false,
            // The first upload (or the first download of the shared ledger) is done.
            None => !shared.is_empty() && shared == c.doc.get_heads(),
        };
        if ready {
            if !started {
                started = true;
                start.wait().await; // everyone connected and in sync: the timed part begins
            }
            if out.confirmed.len() == edits {
                return Ok(out);
            }
            // Eight visits per client, each edited in turn: a cadre's day of notes.
            let key = format!("c{name}-{}", out.confirmed.len() % 8);
            common::put_visit(&mut c.doc, &key, &out.confirmed.len().to_string());
            common::commit_signed(&mut c.doc, signer(), Some(&key));
            waiting = Some((c.doc.get_heads()[0], Instant::now()));
            conn.sync_document(c.id);
            continue;
        }
        match tokio::time::timeout(Duration::from_secs(60), rx.next()).await {
            Ok(Some(Ok(Ws::Binary(f)))) => {
                out.frames_in += usize::from(started);
                conn.receive(&f)
            }
            Ok(Some(Ok(_))) => {}
            other => {
                let heads = c.doc.get_heads();
                let missing = c.doc.get_missing_deps(&[]);
                return Err(format!(
                    "connection ended: {other:?}; waiting for {waiting:?}; heads {heads:?}; shared {shared:?}; missing {missing:?}; pending writes {}",
                    conn.pending_writes()
                ));
            }
        }
    }
}

/// One writer on the first server and one watcher on the second: each edit, made only once
/// the one before reached the watcher, timed from the writer's commit to the watcher having
/// it (the first server stores it, announces it, the second takes it in and passes it on).
async fn propagation(urls: &[String], id: DocumentId, seed: AutoCommit, edits: usize) {
    use std::collections::HashMap;
    let sent: Arc<std::sync::Mutex<HashMap<ChangeHash, Instant>>> = Arc::default();
    let (arrived_tx, mut arrived) = tokio::sync::mpsc::unbounded_channel::<Duration>();
    // The watcher.
    let (watch_url, sent2) = (urls[1 % urls.len()].clone(), sent.clone());
    let watcher_doc = {
        let start = Arc::new(tokio::sync::Barrier::new(1));
        client(urls[0].clone(), id, seed.clone(), usize::MAX - 1, 0, start).await.expect("seeding");
        seed.clone()
    };
    tokio::spawn(async move {
        let (ws, _) = tokio_tungstenite::connect_async(&watch_url).await.expect("watcher connects");
        let (mut tx, mut rx) = ws.split();
        let mut c = Client { id, doc: watcher_doc.with_actor(ActorId::random()), confirmed_history: HashSet::new() };
        let mut conn = Connection::initiate(LocalPeer { peer_id: format!("watcher-{}", DocumentId::random()), storage_id: None });
        loop {
            while let Some(o) = conn.poll_output() {
                match o {
                    Output::Send(f) => tx.send(Ws::Binary(f.into())).await.expect("watcher sends"),
                    Output::Connected { .. } => conn.sync_document(c.id),
                    Output::Load { doc } => conn.process(doc, &mut c.host()),
                    Output::Persist { ticket, .. } => conn.persisted(ticket, &mut c.host()),
                    _ => {}
                }
            }
            let now = Instant::now();
            {
                let mut sent = sent2.lock().unwrap();
                let have: Vec<ChangeHash> = sent.keys().filter(|h| c.doc.get_change_by_hash(h).is_some()).copied().collect();
                for h in have {
                    let _ = arrived_tx.send(now - sent.remove(&h).unwrap());
                }
            }
            match rx.next().await {
                Some(Ok(Ws::Binary(f))) => conn.receive(&f),
                Some(Ok(_)) => {}
                _ => return,
            }
        }
    });
    tokio::time::sleep(Duration::from_millis(500)).await;
    // The writer.
    let (ws, _) = tokio_tungstenite::connect_async(&urls[0]).await.expect("writer connects");
    let (mut tx, mut rx) = ws.split();
    let mut c = Client { id, doc: seed.with_actor(ActorId::random()), confirmed_history: HashSet::new() };
    let mut conn = Connection::initiate(LocalPeer { peer_id: format!("writer-{}", DocumentId::random()), storage_id: None });
    let mut latencies = Vec::new();
    let mut waiting = false;
    let mut synced = false;
    while latencies.len() < edits {
        while let Some(o) = conn.poll_output() {
            match o {
                Output::Send(f) => tx.send(Ws::Binary(f.into())).await.expect("writer sends"),
                Output::Connected { .. } => conn.sync_document(c.id),
                Output::Load { doc } => conn.process(doc, &mut c.host()),
                Output::Persist { ticket, .. } => conn.persisted(ticket, &mut c.host()),
                _ => {}
            }
        }
        synced |= conn.shared_heads(&c.id).is_some_and(|h| h == c.doc.get_heads().as_slice());
        if waiting {
            if let Ok(latency) = arrived.try_recv() {
                latencies.push(latency);
                waiting = false;
            }
        }
        if synced && !waiting {
            let key = format!("p-{}", latencies.len() % 8);
            common::put_visit(&mut c.doc, &key, &latencies.len().to_string());
            common::commit_signed(&mut c.doc, signer(), Some(&key));
            sent.lock().unwrap().insert(c.doc.get_heads()[0], Instant::now());
            waiting = true;
            conn.sync_document(c.id);
            continue;
        }
        match tokio::time::timeout(Duration::from_millis(2), rx.next()).await {
            Ok(Some(Ok(Ws::Binary(f)))) => conn.receive(&f),
            Ok(Some(Ok(_))) | Err(_) => {}
            _ => break,
        }
    }
    latencies.sort();
    let pct = |p: f64| latencies.get(((latencies.len() as f64 * p) as usize).min(latencies.len().saturating_sub(1))).copied().unwrap_or_default().as_secs_f64() * 1000.0;
    println!("{{\"shape\": \"propagation\", \"edits\": {}, \"p50_ms\": {:.1}, \"p99_ms\": {:.1}}}", latencies.len(), pct(0.5), pct(0.99));
}

/// Reads `id` from the server as a fresh peer until nothing more arrives.
async fn read(url: &str, id: DocumentId) -> Result<AutoCommit, String> {
    let (ws, _) = tokio_tungstenite::connect_async(url).await.map_err(|e| e.to_string())?;
    let (mut tx, mut rx) = ws.split();
    let mut c = Client { id, doc: AutoCommit::new(), confirmed_history: HashSet::new() };
    let mut conn = Connection::initiate(LocalPeer { peer_id: format!("reader-{}", DocumentId::random()), storage_id: None });
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
        match tokio::time::timeout(Duration::from_secs(2), rx.next()).await {
            Ok(Some(Ok(Ws::Binary(f)))) => conn.receive(&f),
            Ok(Some(Ok(_))) => {}
            Err(_) => return Ok(c.doc),
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
    let shared = args.next().as_deref() == Some("shared");
    let (url, ledgers) = match args.next() {
        Some(path) => {
            let json: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&path).expect("LEDGERS.json")).expect("LEDGERS.json");
            let ledgers: Vec<DocumentId> = json["ledgers"].as_array().expect("ledgers").iter().map(|l| DocumentId::parse(l.as_str().unwrap()).unwrap()).collect();
            let _ = SIGNER.set(json["name"].as_str().unwrap_or_default().to_owned());
            let token = json["token"].as_str().expect("token");
            (url.split(',').map(|u| format!("{u}?token={token}")).collect::<Vec<_>>().join(","), ledgers)
        }
        None => (url, Vec::new()),
    };

    // The shared ledger is uploaded once, then every client starts from it. It starts from the
    // skeleton every unit ledger has (the one the organisation wrote when it made the unit), so
    // a server that makes the ledgers and one that takes any document sync the same bytes.
    let mut seed = common::skeleton();
    common::put_visit(&mut seed, "title", "走访记录");
    common::commit_signed(&mut seed, signer(), Some("title"));
    // Several servers (comma-separated URLs, one process each on one database): client i
    // talks to server i mod N; the reader asks the last one.
    let urls: Vec<String> = url.split(',').map(str::to_owned).collect();
    let url = urls[0].clone();
    let shared_id = ledgers.first().copied().unwrap_or_else(DocumentId::random);
    if std::env::args().nth(4).as_deref() == Some("propagation") {
        propagation(&urls, shared_id, seed, edits).await;
        return;
    }
    if shared {
        let start = Arc::new(tokio::sync::Barrier::new(1));
        if let Err(e) = client(url.clone(), shared_id, seed.clone(), usize::MAX, 0, start).await {
            eprintln!("seeding the shared ledger failed: {e}");
            std::process::exit(1);
        }
    }

    let start = Arc::new(tokio::sync::Barrier::new(clients + 1));
    let results = Arc::new(Mutex::new(Vec::new()));
    let mut tasks = Vec::new();
    for i in 0..clients {
        let (url, start, results) = (urls[i % urls.len()].clone(), start.clone(), results.clone());
        let own = if ledgers.is_empty() { DocumentId::random() } else { ledgers[i % ledgers.len()] };
        let (id, doc) = if shared { (shared_id, seed.clone()) } else { (own, seed.clone()) };
        tasks.push(tokio::spawn(async move {
            let r = client(url, id, doc, i, edits, start.clone()).await;
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
    let mut lat: Vec<Duration> = results.iter().filter_map(|r| r.as_ref().ok()).flat_map(|o| o.latencies.iter().copied()).collect();
    let failed = results.iter().filter(|r| r.is_err()).count();
    // Shared: every confirmed edit must be in what a fresh reader gets.
    let lost = if shared {
        let confirmed: HashSet<ChangeHash> = results.iter().filter_map(|r| r.as_ref().ok()).flat_map(|o| o.confirmed.iter().copied()).collect();
        match read(urls.last().expect("a server"), shared_id).await {
            Ok(mut doc) => confirmed.iter().filter(|h| doc.get_change_by_hash(h).is_none()).count(),
            Err(e) => {
                eprintln!("reader: {e}");
                confirmed.len()
            }
        }
    } else {
        0
    };
    let ok = || results.iter().filter_map(|r| r.as_ref().ok());
    let (frames_in, frames_out): (usize, usize) = (ok().map(|o| o.frames_in).sum(), ok().map(|o| o.frames_out).sum());
    lat.sort();
    let pct = |p: f64| lat.get(((lat.len() as f64 * p) as usize).min(lat.len().saturating_sub(1))).copied().unwrap_or_default();
    println!(
        "{{\"shape\": \"{}\", \"clients\": {clients}, \"failed\": {failed}, \"edits\": {}, \"lost\": {lost}, \"seconds\": {:.3}, \"edits_per_second\": {:.0}, \"p50_ms\": {:.1}, \"p99_ms\": {:.1}, \"frames_in_per_edit\": {:.2}, \"frames_out_per_edit\": {:.2}}}",
        if shared { "shared" } else { "separate" },
        lat.len(),
        wall.as_secs_f64(),
        lat.len() as f64 / wall.as_secs_f64(),
        pct(0.50).as_secs_f64() * 1000.0,
        pct(0.99).as_secs_f64() * 1000.0,
        frames_in as f64 / lat.len().max(1) as f64,
        frames_out as f64 / lat.len().max(1) as f64
    );
}
