//! `/sync`: the automerge-repo WebSocket endpoint. Each connection runs a `ledger` sync
//! engine; this task only moves frames, writes to storage when the engine asks, and tells the
//! engine when the write has committed.

use std::collections::HashSet;
use std::sync::Arc;

use axum::extract::ws::{CloseFrame, Message as WsMessage, WebSocket, WebSocketUpgrade};
use axum::extract::State;
use axum::response::Response;
use futures_util::{SinkExt, StreamExt};
use ledger::protocol::{Connection, DocumentId, LocalPeer, Message, Output, MAX_MESSAGE_BYTES};
use tokio::sync::broadcast::error::RecvError;

use crate::AppState;

pub async fn upgrade(ws: WebSocketUpgrade, State(state): State<AppState>) -> Response {
    // Frames a little over the message limit still arrive, so the engine can answer them with
    // a protocol error; anything larger is cut off by the socket itself.
    // Small buffers (tungstenite's default is 128 KiB each way, per connection): most frames
    // are a few hundred bytes, and a thousand idle phones must not cost a quarter gigabyte.
    ws.read_buffer_size(4 * 1024)
        .write_buffer_size(4 * 1024)
        .max_message_size(MAX_MESSAGE_BYTES + 1024)
        .max_frame_size(MAX_MESSAGE_BYTES + 1024)
        .on_upgrade(move |socket| async move {
            if let Err(e) = run(socket, state).await {
                tracing::debug!("sync connection ended: {e}");
            }
        })
}

async fn run(socket: WebSocket, state: AppState) -> Result<(), String> {
    let hub = state.hub.clone();
    let (mut tx, mut rx) = socket.split();
    let mut conn = Connection::accept(LocalPeer { peer_id: state.peer_id.clone(), storage_id: Some(state.storage_id.clone()) });
    let mut changed = hub.changed.subscribe();
    let mut remote_storage: Option<String> = None;
    // Documents this peer syncs on this connection: only their changes concern it.
    let mut docs: HashSet<DocumentId> = HashSet::new();

    loop {
        tokio::select! {
            incoming = rx.next() => match incoming {
                Some(Ok(WsMessage::Binary(frame))) => match Message::decode(&frame) {
                    Ok(message) => {
                        if let Message::Request { document_id, .. } | Message::Sync { document_id, .. } = &message {
                            // Load it first, so the engine sees what storage has.
                            hub.load(*document_id).await?;
                            docs.insert(*document_id);
                        }
                        conn.receive_message(message, &mut hub.host());
                    }
                    Err(e) => conn.abort(format!("bad message: {e}")),
                },
                Some(Ok(WsMessage::Text(_))) => conn.abort("text frames are not part of the protocol"),
                Some(Ok(WsMessage::Close(_))) | None => return Ok(()),
                Some(Ok(_)) => continue, // ping, pong
                Some(Err(e)) => {
                    // Oversized or broken frames: say why, then close.
                    conn.abort(format!("frame refused: {e}"));
                }
            },
            change = changed.recv() => match change {
                Ok(doc) if docs.contains(&doc) => conn.sync_document(doc, &mut hub.host()),
                Ok(_) => continue,
                Err(RecvError::Lagged(_)) => {
                    for doc in &docs {
                        conn.sync_document(*doc, &mut hub.host());
                    }
                }
                Err(RecvError::Closed) => return Ok(()),
            },
        }

        while let Some(output) = conn.poll_output() {
            match output {
                Output::Send(frame) => tx.send(WsMessage::Binary(frame.into())).await.map_err(|e| e.to_string())?,
                Output::Close { reason } => {
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
                Output::Persist { doc, changes, ticket } => {
                    let storage = hub.storage.clone();
                    let committed = tokio::task::spawn_blocking(move || {
                        storage.create(&doc, &[])?;
                        storage.append(&doc, &changes)
                    })
                    .await
                    .map_err(|e| e.to_string())?;
                    match committed {
                        Ok(due) => {
                            conn.persisted(ticket, &mut hub.host());
                            // Other connections hear of the change only now, after the commit.
                            // (One that flushes for its own reasons in the moment before could
                            // already carry it; nothing is lost either way, since the sender is
                            // not acknowledged before this point.)
                            let _ = hub.changed.send(doc);
                            if due {
                                tokio::spawn(compact(hub.clone(), doc));
                            }
                        }
                        Err(e) => {
                            tracing::error!("could not store changes to {doc}: {e}");
                            conn.abort("the server could not store your changes; try again later");
                        }
                    }
                }
                Output::SyncState { doc, state: bytes } => {
                    if let Some(id) = remote_storage.clone() {
                        let storage = hub.storage.clone();
                        let _ = tokio::task::spawn_blocking(move || storage.put_sync_state(&id, &doc, &bytes)).await;
                    }
                }
                Output::Unavailable { .. } => {}
            }
        }
    }
}

/// Folds a document's chunks into a new snapshot: the snapshot is written from what storage
/// holds, and only the chunks it was made from are deleted.
async fn compact(hub: Arc<crate::hub::Hub>, doc: DocumentId) {
    let storage = hub.storage.clone();
    let result = tokio::task::spawn_blocking(move || -> Result<(), String> {
        let upto = storage.last_seq(&doc)?;
        let Some(bytes) = storage.load(&doc)? else { return Ok(()) };
        let mut loaded = automerge::AutoCommit::load(&bytes).map_err(|e| e.to_string())?;
        // `load` read every chunk up to at least `upto`; later ones stay as chunks.
        storage.compact(&doc, &loaded.save(), upto)
    })
    .await;
    if let Ok(Err(e)) | Err(e) = result.map_err(|e| e.to_string()) {
        tracing::warn!("compaction of {doc} failed (nothing lost): {e}");
    }
}
