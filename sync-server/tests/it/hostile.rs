//! Crafted messages of a few dozen bytes, over real sockets, against the real router and
//! SQLite: a Bloom filter declaring billions of probes, one with entries but no bits, and a
//! change that writes into an object that does not exist. Each gets an error and a close; the
//! server keeps answering, the document stays as storage holds it, and honest phones carry on.

use crate::common;

use std::net::SocketAddr;
use std::time::Duration;

use automerge::sync::SyncDoc;
use automerge::transaction::Transactable;
use automerge::{sync, ActorId, AutoCommit, ObjType, ROOT};
use common::{End, Phone};
use futures_util::{SinkExt, StreamExt};
use ledger_sync::{DocumentId, Message};
use tokio_tungstenite::tungstenite::Message as Ws;

/// Each server these tests start, by address: its directory and the tester's device.
static SERVERS: std::sync::Mutex<Vec<(SocketAddr, std::sync::Arc<sync_server::Directory>, std::sync::Arc<common::Tester>)>> = std::sync::Mutex::new(Vec::new());

fn register(addr: SocketAddr, state: &sync_server::AppState) {
    let tester = common::seed(&state.hub.directory);
    SERVERS.lock().unwrap().push((addr, state.hub.directory.clone(), std::sync::Arc::new(tester)));
}

fn server_at(addr: SocketAddr) -> (std::sync::Arc<sync_server::Directory>, std::sync::Arc<common::Tester>) {
    let servers = SERVERS.lock().unwrap();
    let (_, d, t) = servers.iter().find(|(a, _, _)| *a == addr).expect("a server these tests started");
    (d.clone(), t.clone())
}

/// The sync URL of the server at `addr`, with the tester's token.
fn url_of(addr: SocketAddr) -> String {
    format!("ws://{addr}/sync?token={}", server_at(addr).1.token)
}

/// A new ledger on the server at `addr` that the tester may write.
fn ledger_at(addr: SocketAddr) -> DocumentId {
    let (directory, tester) = server_at(addr);
    common::add_ledger(&directory, &tester)
}

async fn start() -> (SocketAddr, tempfile::TempDir) {
    let data = tempfile::tempdir().unwrap();
    let dist = tempfile::tempdir().unwrap();
    std::fs::write(dist.path().join("index.html"), "<!DOCTYPE html>").unwrap();
    let state = sync_server::AppState::open(data.path()).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    register(addr, &state);
    let app = sync_server::router_for(state, dist.keep());
    tokio::spawn(async move {
        sync_server::serve(listener, app, sync_server::ConnectionLimits::default(), std::future::pending()).await.unwrap();
    });
    (addr, data)
}

fn leb(out: &mut Vec<u8>, mut n: u32) {
    loop {
        let b = (n & 0x7f) as u8;
        n >>= 7;
        if n == 0 {
            return out.push(b);
        }
        out.push(b | 0x80);
    }
}

/// A sync message for `doc` whose one Bloom filter has these parameters.
fn bloom_message(doc: &mut AutoCommit, entries: u32, bits_per_entry: u32, probes: u32, bits: usize) -> Vec<u8> {
    let mut m = doc.sync().generate_sync_message(&mut sync::State::new()).unwrap();
    let mut filter = Vec::new();
    for n in [entries, bits_per_entry, probes] {
        leb(&mut filter, n);
    }
    filter.extend(std::iter::repeat_n(0xffu8, bits));
    m.have = vec![sync::Have { last_sync: Vec::new(), bloom: sync::BloomFilter::try_from(filter.as_slice()).unwrap() }];
    m.encode()
}

/// Sends a join, then `data` as a sync message for `doc`; returns (error received, closed).
async fn send_crafted(addr: SocketAddr, doc: DocumentId, data: Vec<u8>) -> (Option<String>, bool) {
    let (mut ws, _) = tokio_tungstenite::connect_async(url_of(addr)).await.unwrap();
    let join = Message::Join { sender_id: "attacker".into(), supported_protocol_versions: vec!["1".into()], metadata: None };
    ws.send(Ws::Binary(join.encode().into())).await.unwrap();
    let sync = Message::Sync { sender_id: "attacker".into(), target_id: "server".into(), document_id: doc, data };
    ws.send(Ws::Binary(sync.encode().into())).await.unwrap();
    let (mut error, mut closed) = (None, false);
    while let Ok(Some(frame)) = tokio::time::timeout(Duration::from_secs(10), ws.next()).await {
        match frame {
            Ok(Ws::Binary(f)) => {
                if let Ok(Message::Error { message }) = Message::decode(&f) {
                    error = Some(message);
                }
            }
            Ok(Ws::Close(_)) | Err(_) => {
                closed = true;
                break;
            }
            _ => {}
        }
    }
    (error, closed)
}

async fn healthy(addr: SocketAddr) -> bool {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let Ok(Ok(mut s)) = tokio::time::timeout(Duration::from_secs(2), tokio::net::TcpStream::connect(addr)).await else { return false };
    s.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").await.unwrap();
    let mut out = String::new();
    matches!(tokio::time::timeout(Duration::from_secs(2), s.read_to_string(&mut out)).await, Ok(Ok(_))) && out.ends_with("ok")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crafted_bloom_filters_are_refused_and_the_server_keeps_serving() {
    let (addr, _data) = start().await;
    let url = url_of(addr);
    let id = ledger_at(addr);
    let mut phone = Phone::new("phone", id);
    for i in 0..200 {
        phone.edit(&format!("k{i}"), i);
    }
    assert_eq!(phone.sync(&url, Duration::from_secs(10)).await, End::Quiet);

    for (entries, bits_per_entry, probes, bits) in [(1, 10, u32::MAX, 2), (1, 10, 100_000_000, 2), (5, 0, 7, 0)] {
        let data = bloom_message(&mut phone.doc.clone(), entries, bits_per_entry, probes, bits);
        assert!(data.len() < 100, "the attack is {} bytes", data.len());
        let (error, closed) = send_crafted(addr, id, data).await;
        assert!(error.as_deref().unwrap_or_default().contains("bloom filter"), "{entries}/{bits_per_entry}/{probes}: {error:?}");
        assert!(closed);
        assert!(healthy(addr).await, "the server stopped answering");
    }
    let mut reader = Phone::reader(id);
    assert_eq!(reader.sync(&url, Duration::from_secs(10)).await, End::Quiet);
    assert_eq!(reader.doc.get_heads(), phone.doc.get_heads());
}

/// The stall as it was found: two of these messages at once against a document of 2,000
/// changes kept `/healthz` from answering for about 22 s. Health is asked every 20 ms
/// meanwhile; each answer must come (within `healthy`'s 2 s), and the slowest is printed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_bloom_attacks_at_once_do_not_stall_other_requests() {
    let (addr, _data) = start().await;
    let url = url_of(addr);
    let id = ledger_at(addr);
    let mut phone = Phone::new("phone", id);
    for i in 0..2_000 {
        phone.edit(&format!("k{i}"), i);
    }
    // Setting the stage. One CI run in dozens saw this sync refused, and again on each retry:
    // the server's bloom filter said yes to one of the first edits, and the 1,999 after it
    // were more than the 1,000 changes a connection could leave waiting (now 20,000; the
    // engine's test `a_long_chain_sent_without_its_first_change_waits_whole...` covers it).
    let end = phone.sync(&url, Duration::from_secs(30)).await;
    assert_eq!(end, End::Quiet, "closed: {:?}, errors: {:?}", phone.closed, phone.errors);
    let attack = bloom_message(&mut phone.doc.clone(), 1, 10, 100_000_000, 2);
    let watch = tokio::spawn(async move {
        let mut slowest = Duration::ZERO;
        for _ in 0..50 {
            let asked = std::time::Instant::now();
            assert!(healthy(addr).await, "the server stopped answering");
            slowest = slowest.max(asked.elapsed());
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        slowest
    });
    let (a, b) = tokio::join!(send_crafted(addr, id, attack.clone()), send_crafted(addr, id, attack));
    assert!(a.1 && b.1, "the attackers were not disconnected");
    let slowest = watch.await.unwrap();
    println!("slowest /healthz during two bloom attacks: {slowest:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_change_into_a_missing_object_leaves_the_document_as_stored() {
    let (addr, _data) = start().await;
    let url = url_of(addr);
    let id = ledger_at(addr);
    let mut phone = Phone::new("phone", id);
    phone.edit("k", 1);
    assert_eq!(phone.sync(&url, Duration::from_secs(10)).await, End::Quiet);

    // An honest change that makes a map and writes into it, rewritten so the write targets an
    // object nobody made; its hash is recomputed, so it is a well-formed change.
    let mut forged = phone.doc.fork().with_actor(ActorId::random());
    let map = forged.put_object(ROOT, "m", ObjType::Map).unwrap();
    forged.put(&map, "x", 1).unwrap();
    forged.commit();
    let honest = forged.get_last_local_change().unwrap().clone();
    let mut expanded = honest.decode();
    let mut json = serde_json::to_value(&expanded).unwrap();
    let target = json["ops"][1]["obj"].as_str().unwrap().to_owned();
    let (counter, actor) = target.split_once('@').unwrap();
    let missing = format!("{}@{actor}", counter.parse::<u64>().unwrap() + 999);
    json["ops"][1]["obj"] = serde_json::Value::String(missing);
    expanded = serde_json::from_value(json).unwrap();
    let mut crafted = automerge::Change::from(expanded);
    let message = sync::Message {
        heads: vec![crafted.hash()],
        need: Vec::new(),
        have: vec![sync::Have::default()],
        changes: vec![crafted.bytes().to_vec()].into(),
        flags: None,
        version: sync::MessageVersion::V1,
    };
    let (error, closed) = send_crafted(addr, id, message.encode()).await;
    assert!(healthy(addr).await, "the server stopped answering");

    // Whatever Automerge made of it, the document served and stored is what it was or
    // includes the change whole: a fresh reader loads it, and honest phones carry on.
    let mut reader = Phone::reader(id);
    assert_eq!(reader.sync(&url, Duration::from_secs(10)).await, End::Quiet, "{:?}", reader.closed);
    let reloaded = AutoCommit::load(&reader.doc.save()).expect("the served document loads");
    drop(reloaded);
    phone.edit("k2", 2);
    assert_eq!(phone.sync(&url, Duration::from_secs(10)).await, End::Quiet, "{:?} (attack: {error:?}, closed {closed})", phone.closed);
    assert_eq!(phone.confirmed_edits().len(), 2);
}

/// A socket that goes silent after the upgrade (a phone that lost coverage mid-connection, or
/// one held open on purpose) is closed once it has not answered pings for the idle timeout;
/// one that answers them stays open however long it says nothing else.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn silent_sockets_are_closed_and_live_idle_ones_kept() {
    let data = tempfile::tempdir().unwrap();
    let dist = tempfile::tempdir().unwrap();
    std::fs::write(dist.path().join("index.html"), "<!DOCTYPE html>").unwrap();
    let mut state = sync_server::AppState::open(data.path()).unwrap();
    state.idle_timeout = Duration::from_millis(600);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    register(addr, &state);
    let app = sync_server::router_for(state, dist.keep());
    tokio::spawn(async move {
        sync_server::serve(listener, app, sync_server::ConnectionLimits::default(), std::future::pending()).await.unwrap();
    });
    let join = Message::Join { sender_id: "p".into(), supported_protocol_versions: vec!["1".into()], metadata: None }.encode();

    // Silent: joins, then neither reads nor writes for two seconds.
    let (mut silent, _) = tokio_tungstenite::connect_async(url_of(addr)).await.unwrap();
    silent.send(Ws::Binary(join.clone().into())).await.unwrap();
    // Live but idle: reads (so answers pings) and sends nothing.
    let (mut live, _) = tokio_tungstenite::connect_async(url_of(addr)).await.unwrap();
    live.send(Ws::Binary(join.into())).await.unwrap();
    let live_task = tokio::spawn(async move {
        let started = std::time::Instant::now();
        while started.elapsed() < Duration::from_secs(2) {
            match tokio::time::timeout(Duration::from_millis(100), live.next()).await {
                Ok(Some(Ok(Ws::Close(_)))) | Ok(None) | Ok(Some(Err(_))) => return false,
                _ => {}
            }
        }
        true
    });
    tokio::time::sleep(Duration::from_secs(2)).await;
    let mut closed = false;
    while let Ok(Some(frame)) = tokio::time::timeout(Duration::from_secs(2), silent.next()).await {
        if matches!(frame, Ok(Ws::Close(_)) | Err(_)) {
            closed = true;
            break;
        }
    }
    assert!(closed, "a silent socket was kept open");
    assert!(live_task.await.unwrap(), "a socket that answers pings was closed");
}

/// Sync messages naming made-up documents with made-up heads (no changes): each used to leave
/// an empty document in memory for good (20,000 ids: +246 MB). Now each is answered as
/// unavailable before anything is loaded (no made-up id is a ledger the person may read), the
/// engine keeps nothing for it, and nothing stays in memory; the engine's bound of
/// `MAX_DOCUMENTS_PER_CONNECTION` is then never reached by them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn made_up_documents_leave_nothing_in_memory() {
    let data = tempfile::tempdir().unwrap();
    let server = common::Server::start(data.path(), Duration::from_secs(5)).await;
    let (mut ws, _) = tokio_tungstenite::connect_async(server.url()).await.unwrap();
    let join = Message::Join { sender_id: "attacker".into(), supported_protocol_versions: vec!["1".into()], metadata: None };
    ws.send(Ws::Binary(join.encode().into())).await.unwrap();
    let limit = ledger_sync::limits::MAX_DOCUMENTS_PER_CONNECTION;
    let fake_heads = sync::Message {
        heads: vec![automerge::ChangeHash([7; 32])],
        need: Vec::new(),
        have: Vec::new(),
        changes: Vec::<Vec<u8>>::new().into(),
        flags: None,
        version: sync::MessageVersion::V1,
    }
    .encode();
    let (mut sink, mut stream) = ws.split();
    let sender = tokio::spawn(async move {
        for _ in 0..limit + 10 {
            let sync = Message::Sync { sender_id: "attacker".into(), target_id: "server".into(), document_id: DocumentId::random(), data: fake_heads.clone() };
            if sink.send(Ws::Binary(sync.encode().into())).await.is_err() {
                break;
            }
        }
    });
    let (mut error, mut unavailable) = (None, 0);
    while let Ok(Some(Ok(frame))) = tokio::time::timeout(Duration::from_secs(5), stream.next()).await {
        match frame {
            Ws::Binary(f) => match Message::decode(&f) {
                Ok(Message::Error { message }) => error = Some(message),
                Ok(Message::DocUnavailable { .. }) => unavailable += 1,
                _ => {}
            },
            Ws::Close(_) => break,
            _ => {}
        }
        if unavailable == limit + 10 {
            break;
        }
    }
    let _ = sender.await;
    assert_eq!((unavailable, error), (limit + 10, None), "every made-up id answered as unavailable, nothing refused");
    assert_eq!(server.state.hub.loaded_documents(), 0, "made-up documents stayed in memory");

    // An honest phone still syncs its unit's ledger.
    let id = server.ledger();
    let mut phone = Phone::new("phone", id);
    phone.edit("k", 1);
    assert_eq!(phone.sync(&server.url(), Duration::from_secs(10)).await, End::Quiet);
    assert_eq!(phone.confirmed_edits().len(), 1);
    let mut reader = Phone::reader(id);
    assert_eq!(reader.sync(&server.url(), Duration::from_secs(10)).await, End::Quiet);
    assert_eq!(reader.doc.get_heads(), phone.doc.get_heads());
}

/// A sync message for `doc` carrying these changes (V1, one chunk each).
fn changes_message(changes: &mut [automerge::Change]) -> Vec<u8> {
    sync::Message {
        heads: changes.last().map(|c| vec![c.hash()]).unwrap_or_default(),
        need: Vec::new(),
        have: vec![sync::Have::default()],
        changes: changes.iter_mut().map(|c| c.bytes().to_vec()).collect::<Vec<_>>().into(),
        flags: None,
        version: sync::MessageVersion::V1,
    }
    .encode()
}

/// A phone with one stored edit on a fresh document; returns it and the server's URL.
async fn stored_phone(addr: SocketAddr) -> (Phone, DocumentId, String) {
    let url = url_of(addr);
    let id = ledger_at(addr);
    let mut phone = Phone::new("phone", id);
    phone.edit("k", 1);
    assert_eq!(phone.sync(&url, Duration::from_secs(10)).await, End::Quiet);
    (phone, id, url)
}

/// Sends `attack` for `id`: the peer gets an error containing `why` and a close, and then the
/// server is [`unharmed`].
async fn refused_and_unharmed(addr: SocketAddr, phone: &mut Phone, id: DocumentId, url: &str, attack: Vec<u8>, why: &str) {
    let (error, closed) = send_crafted(addr, id, attack).await;
    assert!(error.as_deref().unwrap_or_default().contains(why), "{error:?}");
    assert!(closed);
    unharmed(addr, phone, id, url).await;
}

/// After an attack on `id`: the server answers, a fresh reader gets exactly the honest
/// history, and the honest phone's next edit is confirmed.
async fn unharmed(addr: SocketAddr, phone: &mut Phone, id: DocumentId, url: &str) {
    assert!(healthy(addr).await, "the server stopped answering");
    let mut reader = Phone::reader(id);
    assert_eq!(reader.sync(url, Duration::from_secs(10)).await, End::Quiet, "{:?}", reader.closed);
    assert_eq!(reader.doc.get_heads(), phone.doc.get_heads(), "the served document changed");
    phone.edit("after", 2);
    assert_eq!(phone.sync(url, Duration::from_secs(10)).await, End::Quiet, "{:?}", phone.closed);
    assert_eq!(phone.confirmed_edits().len(), 2);
}

/// A change with no ops whose op counter skips numbers: stored, it loaded in Rust and failed
/// in automerge-js ("missing ops"). Now refused, and nothing of it is stored or served.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gap_in_the_op_counter_is_refused_and_never_stored() {
    let (addr, _data) = start().await;
    let (mut phone, id, url) = stored_phone(addr).await;
    let mut forged = phone.doc.fork().with_actor(ActorId::random());
    forged.empty_change(automerge::transaction::CommitOptions::default());
    let mut expanded = forged.get_last_local_change().unwrap().decode();
    expanded.start_op = expanded.start_op.checked_add(3).unwrap();
    refused_and_unharmed(addr, &mut phone, id, &url, changes_message(&mut [automerge::Change::from(expanded)]), "gap in the op counter").await;
}

/// `n` changes on top of `phone`'s document that depend on one never sent, as a sync message;
/// each change carries `bytes` of a value that compresses to almost nothing.
fn orphans(phone: &mut Phone, n: usize, bytes: usize) -> Vec<u8> {
    let mut forged = phone.doc.fork().with_actor(ActorId::random());
    common::put_visit(&mut forged, "withheld", "0");
    common::commit_signed(&mut forged, common::TESTER, Some("withheld"));
    let withheld = forged.get_heads();
    for i in 0..n {
        common::put_visit(&mut forged, "orphan", &format!("{i}{}", "a".repeat(bytes)));
        common::commit_signed(&mut forged, common::TESTER, Some("orphan"));
    }
    changes_message(&mut forged.get_changes(&withheld))
}

/// Sends `messages` for `doc` on one connection, each once the server answered the one before;
/// returns the open socket, or the error that closed it.
async fn hold(addr: SocketAddr, doc: DocumentId, messages: Vec<Vec<u8>>) -> Result<WebSocket, String> {
    let (mut ws, _) = tokio_tungstenite::connect_async(url_of(addr)).await.unwrap();
    let join = Message::Join { sender_id: "attacker".into(), supported_protocol_versions: vec!["1".into()], metadata: None };
    ws.send(Ws::Binary(join.encode().into())).await.unwrap();
    for data in messages {
        let sync = Message::Sync { sender_id: "attacker".into(), target_id: "server".into(), document_id: doc, data };
        ws.send(Ws::Binary(sync.encode().into())).await.unwrap();
        loop {
            match tokio::time::timeout(ANSWER_WITHIN, ws.next()).await.expect("no answer") {
                Some(Ok(Ws::Binary(f))) => match Message::decode(&f) {
                    Ok(Message::Error { message }) => return Err(message),
                    Ok(Message::Sync { .. }) => break,
                    _ => {}
                },
                Some(Ok(Ws::Close(_))) | Some(Err(_)) | None => return Err("closed".into()),
                _ => {}
            }
        }
    }
    Ok(ws)
}

/// How long [`hold`] waits for each answer: the server checks and holds changes of up to a few
/// MB, which a debug build (`cargo test`) on a busy machine takes several times longer to do.
const ANSWER_WITHIN: Duration = if cfg!(optimized) { Duration::from_secs(10) } else { Duration::from_secs(60) };

type WebSocket = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Changes whose dependency is never sent wait in memory; a peer may not pile them up.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn changes_waiting_for_dependencies_never_sent_are_bounded() {
    let (addr, _data) = start().await;
    let (mut phone, id, url) = stored_phone(addr).await;
    let attack = orphans(&mut phone, ledger_sync::limits::MAX_WAITING_CHANGES + 1, 1);
    refused_and_unharmed(addr, &mut phone, id, &url, attack, "wait for dependencies").await;
}

/// A few changes may wait too, if they are large: bytes count as well as changes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn large_changes_waiting_for_dependencies_are_bounded_in_bytes() {
    let (addr, _data) = start().await;
    let (mut phone, id, url) = stored_phone(addr).await;
    let large = ledger_sync::limits::MAX_INFLATED_BYTES_PER_MESSAGE - 1024 * 1024;
    let messages = (0..ledger_sync::limits::MAX_WAITING_BYTES / large + 1).map(|_| orphans(&mut phone, 1, large)).collect();
    let refused = hold(addr, id, messages).await.err().unwrap_or_default();
    assert!(refused.contains("wait for dependencies never sent"), "{refused}");
    unharmed(addr, &mut phone, id, &url).await;
}

/// Many connections together may not pile changes up in one document either; and what a
/// connection left waiting leaves the document when it closes (it used to stay in memory, so
/// reconnecting again and again grew the document without bound).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn changes_waiting_in_one_document_are_bounded_and_leave_with_their_connection() {
    use ledger_sync::limits::{MAX_WAITING_CHANGES, MAX_WAITING_CHANGES_PER_DOCUMENT};
    let (addr, _data) = start().await;
    let (mut phone, id, url) = stored_phone(addr).await;
    let each = MAX_WAITING_CHANGES - 1;
    let fill = MAX_WAITING_CHANGES_PER_DOCUMENT / each;
    for round in 0..2 {
        let mut held = Vec::new();
        for n in 0..fill {
            let accepted = hold(addr, id, vec![orphans(&mut phone, each, 1)]).await;
            held.push(accepted.unwrap_or_else(|e| panic!("round {round}, connection {n} refused: {e}")));
        }
        if round == 0 {
            // One more is over the document's bound, though within its own.
            let refused = hold(addr, id, vec![orphans(&mut phone, each, 1)]).await.err().unwrap_or_default();
            assert!(refused.contains("wait for dependencies in this document"), "{refused}");
        } else {
            // One connection leaves; what it left waiting goes, and one more fits.
            held.pop().unwrap().close(None).await.unwrap();
            tokio::time::sleep(Duration::from_secs(1)).await;
            let accepted = hold(addr, id, vec![orphans(&mut phone, each, 1)]).await;
            assert!(accepted.is_ok(), "{:?}", accepted.err());
        }
        for mut ws in held {
            let _ = ws.close(None).await;
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    unharmed(addr, &mut phone, id, &url).await;
}

/// A few kilobytes that inflate past the bound (a 100 MB value came from 97 KB) are refused
/// before Automerge inflates them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_inflation_bomb_is_refused() {
    let (addr, _data) = start().await;
    let (mut phone, id, url) = stored_phone(addr).await;
    let mut forged = phone.doc.fork().with_actor(ActorId::random());
    let before = forged.get_heads();
    forged.put(ROOT, "bomb", "a".repeat(ledger_sync::limits::MAX_INFLATED_BYTES_PER_MESSAGE + 1)).unwrap();
    forged.commit();
    let mut bomb = forged.get_changes(&before);
    let message = changes_message(&mut bomb);
    assert!(message.len() < 100 * 1024, "the bomb is {} bytes", message.len());
    refused_and_unharmed(addr, &mut phone, id, &url, message, "inflate past").await;
}
