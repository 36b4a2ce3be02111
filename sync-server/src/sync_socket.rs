//! `/sync`: the automerge-repo WebSocket endpoint. Each connection runs a `ledger` sync
//! engine; this task only moves frames, writes to storage when the engine asks, and tells the
//! engine when the write has committed.

use std::collections::VecDeque;

use axum::extract::ws::{CloseFrame, Message as WsMessage, WebSocket, WebSocketUpgrade};
use std::net::SocketAddr;

use axum::extract::{ConnectInfo, RawQuery, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::Extension;
use futures_util::{FutureExt, SinkExt, StreamExt};
use ledger_sync::{Connection, DocumentId, LocalPeer, Output, MAX_MESSAGE_BYTES};
use tokio::sync::broadcast::error::{RecvError, TryRecvError};

use crate::directory::Principal;
use crate::limits::REFUSALS;
use crate::AppState;

/// Authenticates the upgrade before any protocol message: a bad, expired or lost device is
/// answered with an HTTP error and never reaches the engine.
pub(crate) async fn upgrade(
    ws: WebSocketUpgrade,
    State(state): State<AppState>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
    remote: Option<Extension<ConnectInfo<SocketAddr>>>,
) -> Response {
    let address = remote.map(|Extension(ConnectInfo(a))| a.to_string()).unwrap_or_else(|| "?".into());
    // A page of another site must not open a socket with our cookie (cross-site WebSocket
    // hijacking): `origin::same_origin` refused it before this handler; a token peer (not a
    // browser) names no Origin.
    let (principal, expires_at) = match crate::auth::principal(&state, &headers, query.as_deref()).await {
        Ok((principal, device)) => (principal, device.expires_at),
        Err(refused) => return refused,
    };
    {
        let directory = state.hub.directory.clone();
        let device = principal.device.clone();
        tokio::task::spawn_blocking(move || directory.storage.touch_device(&device, None, crate::directory::now_secs()));
    }
    // Frames a little over the message limit still arrive, so the engine can answer them with
    // a protocol error; anything larger is cut off by the socket itself.
    // Small buffers (tungstenite's default is 128 KiB each way, per connection): most frames
    // are a few hundred bytes, and a thousand idle phones must not cost a quarter gigabyte.
    ws.read_buffer_size(4 * 1024).write_buffer_size(4 * 1024).max_message_size(MAX_MESSAGE_BYTES + 1024).max_frame_size(MAX_MESSAGE_BYTES + 1024).on_upgrade(
        move |socket| async move {
            if let Err(e) = run(socket, state, &address, principal, expires_at).await {
                tracing::debug!(peer = %address, "sync connection ended: {e}");
            }
        },
    )
}

/// When the connection ends, however it ends, the changes it left waiting for dependencies
/// leave the documents' counts with it (on the blocking pool: it takes the counts' locks).
struct ReleaseWaiting {
    hub: std::sync::Arc<crate::hub::Hub>,
    docs: Vec<(DocumentId, ledger_sync::Waiting)>,
}

impl Drop for ReleaseWaiting {
    fn drop(&mut self) {
        if self.docs.is_empty() {
            return;
        }
        // Rare (a change arrives before its dependency only when the peer's bloom filter
        // misjudged what we have): said, so that a phone that never syncs fully can be traced.
        let changes: usize = self.docs.iter().map(|(_, w)| w.changes).sum();
        tracing::info!(documents = self.docs.len(), changes, "a sync connection ended with changes still waiting for their dependencies");
        let (hub, docs) = (self.hub.clone(), std::mem::take(&mut self.docs));
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn_blocking(move || hub.release_waiting(&docs));
        }
    }
}

/// When a device's session (or a retired device's upload window) ends, in tokio's clock.
fn deadline_of(expires_at: Option<i64>) -> tokio::time::Instant {
    let now = crate::directory::now_secs();
    let left = match expires_at {
        Some(at) => std::time::Duration::from_secs(at.saturating_sub(now).max(0) as u64),
        // Never, in practice: a century.
        None => std::time::Duration::from_secs(100 * 365 * 24 * 3600),
    };
    tokio::time::Instant::now() + left
}

async fn run(socket: WebSocket, state: AppState, address: &str, principal: Principal, expires_at: Option<i64>) -> Result<(), String> {
    // The socket ends when the session that opened it does (a desktop session's 12 hours, a
    // retired device's upload window), not only at its next attempt.
    let _session = crate::metrics::SyncSession::open();
    let expiry = tokio::time::sleep_until(deadline_of(expires_at));
    tokio::pin!(expiry);
    let hub = state.hub.clone();
    let mut revoked = hub.directory.revoked.subscribe();
    let (mut tx, mut rx) = socket.split();
    let mut conn = Connection::accept(LocalPeer { peer_id: state.peer_id.clone(), storage_id: Some(state.storage_id.clone()) });
    let mut release = ReleaseWaiting { hub: hub.clone(), docs: Vec::new() };
    let mut changed = hub.changed.subscribe();
    let mut remote_storage: Option<String> = None;
    // Documents this peer syncs on this connection: only their changes concern it.
    // Pings at a third of the idle timeout; any frame from the peer (a pong too) is a sign of life.
    let beat = state.idle_timeout / 3;
    let mut heartbeat = tokio::time::interval_at(tokio::time::Instant::now() + beat, beat);
    heartbeat.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut last_heard = tokio::time::Instant::now();

    loop {
        tokio::select! {
            _ = heartbeat.tick() => {
                if last_heard.elapsed() >= state.idle_timeout {
                    let frame = CloseFrame { code: 1001, reason: "idle".into() };
                    let _ = tokio::time::timeout(state.idle_timeout / 3, tx.send(WsMessage::Close(Some(frame)))).await;
                    return Ok(());
                }
                // A peer that does not read cannot block us: the ping waits at most a beat.
                let ping = tokio::time::timeout(state.idle_timeout / 3, tx.send(WsMessage::Ping(Vec::new().into())));
                if !matches!(ping.await, Ok(Ok(()))) {
                    return Ok(());
                }
                continue;
            },
            incoming = rx.next() => {
                last_heard = tokio::time::Instant::now();
                // Every frame that has already arrived goes in before the documents are worked
                // on, so a burst costs one turn per document, not one per frame.
                let mut incoming = incoming;
                loop {
                    match incoming {
                        Some(Ok(WsMessage::Binary(frame))) => {
                            crate::metrics::received(frame.len());
                            conn.receive(&frame)
                        }
                        Some(Ok(WsMessage::Text(_))) => conn.abort("text frames are not part of the protocol"),
                        Some(Ok(WsMessage::Close(_))) | None => return Ok(()),
                        Some(Ok(_)) => {} // ping, pong
                        // Oversized or broken frames: say why, then close.
                        Some(Err(e)) => conn.abort(format!("frame refused: {e}")),
                    }
                    if conn.is_closed() {
                        break;
                    }
                    match rx.next().now_or_never() {
                        Some(next) => incoming = next,
                        None => break,
                    }
                }
            },
            _ = &mut expiry => {
                let frame = CloseFrame { code: 4001, reason: "session expired".into() };
                let _ = tokio::time::timeout(state.idle_timeout / 3, tx.send(WsMessage::Close(Some(frame)))).await;
                return Ok(());
            },
            news = revoked.recv() => {
                // A device retired or reported lost is cut off at once; its next attempt is
                // refused (lost) or told to finish and erase (retired).
                // A connection opened already retired (uploading its last changes) stays.
                let cut = match news {
                    Ok(r) => r.device == principal.device && (r.status == "lost" || !principal.retired),
                    Err(RecvError::Lagged(_)) => {
                        let directory = hub.directory.clone();
                        let device = principal.device.clone();
                        let status = tokio::task::spawn_blocking(move || directory.storage.device(&device)).await.ok().and_then(|d| d.ok().flatten()).map(|d| d.status);
                        status.as_deref() != Some(if principal.retired { "retired" } else { "active" })
                    }
                    Err(RecvError::Closed) => false,
                };
                if cut {
                    let frame = CloseFrame { code: 4001, reason: "device revoked".into() };
                    let _ = tokio::time::timeout(state.idle_timeout / 3, tx.send(WsMessage::Close(Some(frame)))).await;
                    return Ok(());
                }
                continue;
            },
            change = changed.recv() => {
                // Likewise every commit announced so far: one turn per document.
                let mut change = change;
                loop {
                    match change {
                        // A retired device uploads what it holds; others' new changes are not
                        // offered to it.
                        Ok(_) if principal.retired => {}
                        Ok(doc) if conn.syncs(&doc) => conn.sync_document(doc),
                        Ok(_) => {}
                        Err(RecvError::Lagged(_)) if principal.retired => {}
                        Err(RecvError::Lagged(_)) => {
                            for doc in conn.synced_documents() {
                                conn.sync_document(doc);
                            }
                        }
                        Err(RecvError::Closed) => return Ok(()),
                    }
                    match changed.try_recv() {
                        Ok(doc) => change = Ok(doc),
                        Err(TryRecvError::Lagged(n)) => change = Err(RecvError::Lagged(n)),
                        Err(_) => break,
                    }
                }
            },
        }

        // Outputs the document work handed back come first, in order, then the engine's own.
        let mut handed_back: VecDeque<Output> = VecDeque::new();
        while let Some(output) = handed_back.pop_front().or_else(|| conn.poll_output()) {
            match output {
                // A peer that stops reading cannot hold this task: a send waits at most the idle
                // timeout.
                Output::Send(frame) => match {
                    crate::metrics::sent(frame.len());
                    tokio::time::timeout(state.idle_timeout, tx.send(WsMessage::Binary(frame.into()))).await
                } {
                    Ok(sent) => sent.map_err(|e| e.to_string())?,
                    Err(_) => return Err("peer stopped reading".into()),
                },
                Output::Close { reason } => {
                    if let Some(refusal) = conn.refusal() {
                        crate::metrics::refused("sync_protocol");
                        if REFUSALS.allow() {
                            tracing::info!(peer = %address, peer_id = conn.remote_name().unwrap_or("?"), "refused: {refusal}");
                        }
                    }
                    let frame = CloseFrame { code: 1008, reason: reason.chars().take(100).collect::<String>().into() };
                    let _ = tx.send(WsMessage::Close(Some(frame))).await;
                    return Ok(());
                }
                Output::Connected { remote_storage: storage_id, .. } => {
                    if let Some(id) = &storage_id {
                        let storage = hub.storage.clone();
                        let id = id.clone();
                        let states = tokio::task::spawn_blocking(move || storage.sync_states(&id)).await.map_err(|e| e.to_string())??;
                        for (doc, bytes) in states {
                            conn.restore_sync_state(doc, &bytes);
                        }
                    }
                    remote_storage = storage_id;
                }
                Output::Load { doc } => {
                    // The document's whole turn (load, apply, commit, answer) runs on the
                    // blocking pool under its own lock; the engine goes along and comes back.
                    let worker = hub.clone();
                    let who = principal.clone();
                    let (back, outputs) = tokio::task::spawn_blocking(move || {
                        let outputs = worker.work(doc, &mut conn, &who);
                        (conn, outputs)
                    })
                    .await
                    .map_err(|e| format!("document work failed: {e}"))?;
                    conn = back;
                    release.docs = conn.waiting_shares();
                    handed_back.extend(outputs);
                }
                Output::Persist { doc, .. } => {
                    // Only document work produces writes, and it makes them itself.
                    tracing::error!(document = %doc, "a write asked for outside document work was dropped");
                }
                Output::SyncState { doc, state: bytes } => {
                    if let Some(id) = remote_storage.clone() {
                        let storage = hub.storage.clone();
                        let _ = tokio::task::spawn_blocking(move || storage.put_sync_state(&id, &doc, &bytes)).await;
                    }
                }
                Output::Unavailable { .. } => {}
                Output::RemoteError { message } => tracing::debug!("peer reported: {message}"),
            }
        }
    }
}
