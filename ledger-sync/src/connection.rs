//! One sync connection as a sans-IO state machine: frames in, actions out. The runtime around
//! it (a browser WebSocket, an axum WebSocket, a test's simulated link) only moves bytes,
//! writes to storage when asked, and reports back when the write has committed.
//!
//! - Many documents share the connection; each has its own automerge sync state.
//! - The engine owns each document's work on this connection: a frame is decoded here, and a
//!   message for a document is queued until the host has it at hand. The engine asks for it
//!   with [`Output::Load`] (the way it asks for writes with [`Output::Persist`]); the host
//!   loads it if needed, takes whatever lock it keeps per document, and calls
//!   [`Connection::process`]. A host never has to look inside a frame.
//! - Nothing received is acknowledged before it is durable: changes from the remote come out
//!   as [`Output::Persist`], and the reply for that document (which tells the remote what we
//!   now have) is held until the host calls [`Connection::persisted`].
//! - Sync states are fresh per connection; only their shared heads are persisted
//!   ([`Output::SyncState`]) and restored on the next connection, so a reconnect with nothing
//!   new costs a few hundred bytes, and lost or repeated messages of an old connection cannot
//!   make two peers loop.
//! - The host decides what the remote may see and write ([`DocumentHost`]); a document the
//!   remote may not read answers exactly like a missing one.

use std::collections::{BTreeMap, VecDeque};

use automerge::sync::{self, SyncDoc};
use automerge::{AutoCommit, Change, ChangeHash};

use crate::{DocumentId, Message, PeerMetadata, PROTOCOL_VERSION};

/// Who this side is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalPeer {
    pub peer_id: String,
    /// Present when this peer keeps sync states across connections (it has durable storage).
    pub storage_id: Option<String>,
}

/// The host's documents and its rules about them.
pub trait DocumentHost {
    /// The document, if it exists and the remote may read it; `create` asks the host to make
    /// an empty one if the remote may create it (a phone's first sync of a ledger it made
    /// offline). None means "unavailable", whether missing or forbidden.
    fn document(&mut self, doc: &DocumentId, create: bool) -> Option<&mut AutoCommit>;
    /// Whether the remote may write these changes: those about to be applied, each after its
    /// dependencies (in the document or earlier in the list), checked by [`crate::changes`]
    /// first; empty on a side that does not check. Refusing closes the connection with the
    /// reason and applies nothing.
    fn may_write(&mut self, doc: &DocumentId, changes: &[automerge::Change]) -> Result<(), String>;
    /// Changes waiting for dependencies in `doc` from all its remotes together, for a host that
    /// serves many (the server); the engine keeps it up to date with this remote's share and
    /// refuses past [`crate::limits::MAX_WAITING_CHANGES_PER_DOCUMENT`]. None: not counted.
    fn waiting(&mut self, _doc: &DocumentId) -> Option<&mut Waiting> {
        None
    }
}

/// A host holding one document and accepting what the remote sends for it: a phone's side
/// (the server is the one that decides who may write), load clients and test peers.
pub struct SingleDocument<'a> {
    pub id: DocumentId,
    pub doc: &'a mut AutoCommit,
}

impl DocumentHost for SingleDocument<'_> {
    fn document(&mut self, doc: &DocumentId, _create: bool) -> Option<&mut AutoCommit> {
        (*doc == self.id).then_some(&mut *self.doc)
    }

    fn may_write(&mut self, _doc: &DocumentId, _changes: &[automerge::Change]) -> Result<(), String> {
        Ok(())
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Output {
    /// One binary frame to send.
    Send(Vec<u8>),
    /// The engine has work for `doc` (a message received, a sync asked for, a handshake done):
    /// make the document available (load it from storage if it is not in memory), then call
    /// [`Connection::process`] with a host that holds it. Asked once until processed.
    Load { doc: DocumentId },
    /// The connection must close (after sending what came before).
    Close { reason: String },
    /// The handshake is done. A host with storage now restores the persisted sync states for
    /// `remote_storage` with [`Connection::restore_sync_state`], then starts syncing.
    Connected { remote_peer: String, remote_storage: Option<String> },
    /// Changes received for `doc`, to be made durable; then call [`Connection::persisted`].
    Persist { doc: DocumentId, applied: Applied, ticket: u64 },
    /// The state to keep for (remote storage id, doc), for the next connection.
    SyncState { doc: DocumentId, state: Vec<u8> },
    /// The remote does not have `doc` (or will not share it).
    Unavailable { doc: DocumentId },
    /// The remote reported an error (for the log, or to show).
    RemoteError { message: String },
}

/// What one received message added to a document (its changes, and any that waited for them).
/// Handed to the host as built once here: rebuilding changes from the document walks its
/// operations, and a host that stores them should not have to do it again.
#[derive(Debug, Clone, PartialEq)]
pub struct Applied {
    /// The document's heads before the message.
    pub since: Vec<ChangeHash>,
    /// Its heads after it.
    pub heads: Vec<ChangeHash>,
    /// The changes between the two.
    pub changes: Vec<Change>,
}

impl Applied {
    /// The changes as one chunk to append to storage.
    pub fn bytes(&self) -> Vec<u8> {
        crate::stored::chunk_of(&self.changes)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Phase {
    /// Initiator: join sent, waiting for peer. Receiver: waiting for join.
    Handshake,
    Open {
        remote_peer: String,
    },
    Closed,
}

#[derive(Default)]
struct DocSync {
    state: sync::State,
    /// Received changes waiting to be made durable: replies for this document wait for all.
    pending: std::collections::BTreeSet<u64>,
    /// Sync messages received and not yet applied (waiting for the host's `process`).
    inbox: VecDeque<Vec<u8>>,
    /// Whether we owe the remote a flush (a local change, another peer's commit, a handshake).
    dirty: bool,
    /// Whether an `Output::Load` for this document is outstanding.
    load_asked: bool,
    /// Whether we have sent anything for this document on this connection.
    started: bool,
    last_persisted_shared: Vec<automerge::ChangeHash>,
    /// Changes this remote sent that wait for dependencies it has not sent yet (on a side
    /// that checks changes), and their count.
    held: Vec<Change>,
    waiting: Waiting,
    /// The document's heads when `held` was last sorted into ready and waiting: until they move
    /// or the remote sends changes, nothing held can have become ready, and sorting thousands
    /// again for every message would be work a remote could ask for at will.
    held_sorted_at: Vec<automerge::ChangeHash>,
    /// Whether this document is synced on this connection (asked for by either side), as
    /// opposed to only carrying a sync state restored from an earlier one.
    synced: bool,
}

/// Changes a remote sent that wait for dependencies not sent yet: how many, and how many bytes
/// they inflate to.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Waiting {
    pub changes: usize,
    pub bytes: usize,
}

pub struct Connection {
    local: LocalPeer,
    initiator: bool,
    /// Whether the remote is untrusted (the server's side): its changes are checked
    /// ([`crate::changes`]) and it is never offered the V2 sync format.
    checks_changes: bool,
    phase: Phase,
    docs: BTreeMap<DocumentId, DocSync>,
    out: VecDeque<Output>,
    next_ticket: u64,
    /// The remote's peer id from the handshake, kept after the connection closes (for logs).
    remote_name: Option<String>,
    /// Why this side ended the connection, if it refused something the remote sent.
    refusal: Option<String>,
}

impl Connection {
    /// The side that opened the connection (a phone): sends `join` at once.
    pub fn initiate(local: LocalPeer) -> Self {
        let mut c = Self::new(local, true);
        let join = Message::Join { sender_id: c.local.peer_id.clone(), supported_protocol_versions: vec![PROTOCOL_VERSION.into()], metadata: Some(c.metadata()) };
        c.send(&join);
        c
    }

    /// The side that accepted the connection (the server): waits for `join`.
    pub fn accept(local: LocalPeer) -> Self {
        Self::new(local, false)
    }

    fn new(local: LocalPeer, initiator: bool) -> Self {
        Self {
            local,
            initiator,
            checks_changes: !initiator,
            phase: Phase::Handshake,
            docs: BTreeMap::new(),
            out: VecDeque::new(),
            next_ticket: 1,
            remote_name: None,
            refusal: None,
        }
    }

    fn metadata(&self) -> PeerMetadata {
        PeerMetadata { storage_id: self.local.storage_id.clone(), is_ephemeral: self.local.storage_id.is_none() }
    }

    pub fn poll_output(&mut self) -> Option<Output> {
        self.out.pop_front()
    }

    pub fn is_open(&self) -> bool {
        matches!(self.phase, Phase::Open { .. })
    }

    pub fn is_closed(&self) -> bool {
        self.phase == Phase::Closed
    }

    pub fn remote_peer(&self) -> Option<&str> {
        match &self.phase {
            Phase::Open { remote_peer } => Some(remote_peer),
            _ => None,
        }
    }

    /// The remote's peer id, once the handshake named it; kept after the close.
    pub fn remote_name(&self) -> Option<&str> {
        self.remote_name.as_deref()
    }

    /// Why this side ended the connection, when it refused something the remote sent (a bad
    /// message, a bound exceeded, a write not allowed); None for an ordinary end.
    pub fn refusal(&self) -> Option<&str> {
        self.refusal.as_deref()
    }

    /// The heads both sides are known to have for `doc` on this connection.
    pub fn shared_heads(&self, doc: &DocumentId) -> Option<&[automerge::ChangeHash]> {
        self.docs.get(doc).map(|d| d.state.shared_heads.as_slice())
    }

    /// Whether `doc` is synced on this connection: the remote or we asked for it, and it was
    /// not answered as unavailable. The runtime announces other peers' commits only for these,
    /// so it keeps no set of its own that made-up ids could grow.
    pub fn syncs(&self, doc: &DocumentId) -> bool {
        self.docs.get(doc).is_some_and(|d| d.synced)
    }

    /// Every document synced on this connection (see [`Connection::syncs`]).
    pub fn synced_documents(&self) -> Vec<DocumentId> {
        self.docs.iter().filter(|(_, d)| d.synced).map(|(id, _)| *id).collect()
    }

    /// This remote's changes waiting for dependencies, per document: the host's count for the
    /// whole document goes down by them when the connection ends.
    pub fn waiting_shares(&self) -> Vec<(DocumentId, Waiting)> {
        self.docs.iter().filter(|(_, d)| d.waiting != Waiting::default()).map(|(id, d)| (*id, d.waiting)).collect()
    }

    /// Documents with a received change not yet durable.
    pub fn pending_writes(&self) -> usize {
        self.docs.values().filter(|d| !d.pending.is_empty()).count()
    }

    /// Asks the host for `doc` unless already asked.
    fn ask_load(&mut self, doc: DocumentId) {
        let entry = self.docs.entry(doc).or_default();
        if !entry.load_asked {
            entry.load_asked = true;
            self.out.push_back(Output::Load { doc });
        }
    }

    fn send(&mut self, m: &Message) {
        self.out.push_back(Output::Send(m.encode()));
    }

    fn fail(&mut self, reason: impl Into<String>) {
        if self.phase == Phase::Closed {
            return;
        }
        let reason = reason.into();
        self.refusal = Some(reason.clone());
        self.send(&Message::Error { message: reason.clone() });
        self.out.push_back(Output::Close { reason });
        self.phase = Phase::Closed;
    }

    /// Restores the shared heads persisted for this document from an earlier connection.
    /// A damaged state is ignored: the sync just starts from scratch.
    pub fn restore_sync_state(&mut self, doc: DocumentId, state: &[u8]) {
        if let Ok(state) = sync::State::decode(state) {
            let entry = self.docs.entry(doc).or_default();
            entry.last_persisted_shared = state.shared_heads.clone();
            entry.state = state;
        }
    }

    /// Starts or continues syncing `doc`: call after connecting, after every local change and
    /// when another peer's change to it has committed. The engine answers with
    /// [`Output::Load`] (at once, or when the handshake completes).
    pub fn sync_document(&mut self, doc: DocumentId) {
        if self.phase == Phase::Closed {
            return;
        }
        let entry = self.docs.entry(doc).or_default();
        entry.dirty = true;
        entry.synced = true;
        if self.is_open() {
            self.ask_load(doc);
        }
    }

    /// Does the work waiting for `doc` (answering an [`Output::Load`]): applies the messages
    /// received for it, in order, and sends what the remote lacks.
    pub fn process(&mut self, doc: DocumentId, host: &mut impl DocumentHost) {
        let Some(entry) = self.docs.get_mut(&doc) else { return };
        entry.load_asked = false;
        self.drain_inbox(doc, host);
    }

    /// Applies the queued messages for `doc` one at a time, each that applied changes answered
    /// before the next is applied, and stops while a received change waits to be made durable:
    /// Automerge's sync assumes every message received is answered before the next arrives (a
    /// message repeating our heads marks them as sent), so applying a second message before
    /// answering the first would swallow the acknowledgement of the first and leave the remote
    /// waiting for ever. A message that applied nothing has nothing to acknowledge: when more
    /// are queued, the answer to the last stands for it.
    fn drain_inbox(&mut self, doc: DocumentId, host: &mut impl DocumentHost) {
        loop {
            if self.phase == Phase::Closed {
                return;
            }
            let Some(entry) = self.docs.get_mut(&doc) else { return };
            if !entry.pending.is_empty() {
                return; // resumed by `persisted`
            }
            let Some(data) = entry.inbox.pop_front() else { break };
            self.on_sync(doc, &data, host);
        }
        if self.docs.get(&doc).is_some_and(|e| e.dirty) {
            self.flush(doc, host);
        }
    }

    /// The host could not make `doc` available (its stored bytes do not load, storage failed):
    /// the remote gets an `error` naming it, the work queued for it is dropped, and every other
    /// document on this connection carries on.
    /// It is then answered as unavailable too, so a peer waiting for it (automerge-repo only logs
    /// errors) stops waiting.
    pub fn document_failed(&mut self, doc: DocumentId, reason: &str) {
        if self.docs.remove(&doc).is_some() && self.is_open() {
            self.send(&Message::Error { message: format!("document {doc} is unavailable: {reason}") });
            let sender_id = self.local.peer_id.clone();
            let target_id = self.remote_peer().unwrap_or_default().to_owned();
            self.send(&Message::DocUnavailable { sender_id, target_id, document_id: doc });
        }
    }

    /// Tells the connection that the write with this ticket has committed.
    pub fn persisted(&mut self, ticket: u64, host: &mut impl DocumentHost) {
        let Some(doc) = self.docs.iter().find(|(_, d)| d.pending.contains(&ticket)).map(|(id, _)| *id) else { return };
        let Some(entry) = self.docs.get_mut(&doc) else { return };
        entry.pending.remove(&ticket);
        if entry.pending.is_empty() {
            self.flush(doc, host);
            self.drain_inbox(doc, host);
        }
    }

    /// Handles one frame from the remote.
    pub fn receive(&mut self, frame: &[u8]) {
        if self.phase == Phase::Closed {
            return;
        }
        match Message::decode(frame) {
            Ok(m) => self.receive_message(m),
            Err(e) => self.fail(format!("bad message: {e}")),
        }
    }

    /// Fails the connection from outside (a frame the transport refused, say): sends an error
    /// message and asks for a close.
    pub fn abort(&mut self, reason: impl Into<String>) {
        self.fail(reason);
    }

    /// Handles one decoded message.
    pub fn receive_message(&mut self, message: Message) {
        if self.phase == Phase::Closed {
            return;
        }
        match (&self.phase, message) {
            // An error alone does not end the connection: a remote that gives up closes it
            // itself, and one that reports a single document (it cannot load it) carries on
            // with the others.
            (_, Message::Error { message }) => self.out.push_back(Output::RemoteError { message }),
            (Phase::Handshake, Message::Join { sender_id, supported_protocol_versions, metadata }) if !self.initiator => {
                if !supported_protocol_versions.iter().any(|v| v == PROTOCOL_VERSION) {
                    return self.fail("unsupported protocol version");
                }
                let peer = Message::Peer {
                    sender_id: self.local.peer_id.clone(),
                    target_id: sender_id.clone(),
                    selected_protocol_version: PROTOCOL_VERSION.into(),
                    metadata: Some(self.metadata()),
                };
                self.send(&peer);
                self.open(sender_id, metadata);
            }
            (Phase::Handshake, Message::Peer { sender_id, selected_protocol_version, metadata, .. }) if self.initiator => {
                if selected_protocol_version != PROTOCOL_VERSION {
                    return self.fail("unsupported protocol version");
                }
                self.open(sender_id, metadata);
            }
            (Phase::Handshake, other) => self.fail(format!("expected handshake, got {}", other.type_name())),
            (Phase::Open { .. }, Message::Request { document_id, data, .. } | Message::Sync { document_id, data, .. }) => {
                let max = crate::limits::MAX_DOCUMENTS_PER_CONNECTION;
                if !self.docs.contains_key(&document_id) && self.docs.len() >= max {
                    return self.fail(format!("too many documents on one connection (at most {max})"));
                }
                let entry = self.docs.entry(document_id).or_default();
                entry.inbox.push_back(data);
                entry.synced = true;
                self.ask_load(document_id);
            }
            (Phase::Open { .. }, Message::DocUnavailable { document_id, .. }) => {
                self.out.push_back(Output::Unavailable { doc: document_id });
            }
            (Phase::Open { .. }, Message::Leave { .. }) => {
                self.out.push_back(Output::Close { reason: "remote left".into() });
                self.phase = Phase::Closed;
            }
            // Ephemeral messages and heads gossip are not used by this app; ignoring them is
            // what the protocol allows.
            (Phase::Open { .. }, Message::Ephemeral { .. } | Message::RemoteSubscriptionChange { .. } | Message::RemoteHeadsChanged { .. }) => {}
            (Phase::Open { .. }, other) => self.fail(format!("unexpected {} after handshake", other.type_name())),
            (Phase::Closed, _) => {}
        }
    }

    fn open(&mut self, remote_peer: String, metadata: Option<PeerMetadata>) {
        let remote_storage = metadata.and_then(|m| m.storage_id);
        self.remote_name = Some(remote_peer.clone());
        self.phase = Phase::Open { remote_peer: remote_peer.clone() };
        self.out.push_back(Output::Connected { remote_peer, remote_storage });
        let waiting: Vec<DocumentId> = self.docs.keys().copied().collect();
        for doc in waiting {
            self.ask_load(doc);
        }
    }

    /// Applies one received sync message: a change is handed to the host to make durable
    /// (the answer waits for it), anything else is answered at once.
    fn on_sync(&mut self, doc: DocumentId, data: &[u8], host: &mut impl DocumentHost) {
        let message = match sync::Message::decode(data) {
            Ok(m) => m,
            Err(e) => {
                self.fail(format!("bad sync message for {doc}: {e}"));
                return;
            }
        };
        if let Err(why) = crate::limits::check_sync_message(&message) {
            self.fail(format!("refused sync message for {doc}: {why}"));
            return;
        }
        // A peer that holds the document may create it here (a phone made it offline;
        // automerge-repo announces new documents with a plain sync). A peer that has nothing,
        // asking for a document we do not know, is answered as for one it may not read.
        let create = !message.heads.is_empty();
        let Some(document) = host.document(&doc, create) else {
            self.docs.remove(&doc);
            let sender_id = self.local.peer_id.clone();
            let target_id = self.remote_peer().unwrap_or_default().to_owned();
            self.send(&Message::DocUnavailable { sender_id, target_id, document_id: doc });
            return;
        };
        let heads_before = document.get_heads();
        let mut message = message;
        let carries_changes = !message.changes.is_empty();
        let entry = self.docs.entry(doc).or_default();
        // A change waits here, unchecked and unapplied, until its dependencies are in the
        // document; then it is checked and handed to Automerge with them. Automerge's own queue
        // is never used on this side: a change in it would be applied, unchecked, by whichever
        // connection brought its dependency.
        let held_may_be_ready = !entry.held.is_empty() && entry.held_sorted_at != heads_before;
        let checking = self.checks_changes && (carries_changes || held_may_be_ready);
        let mut ready = Vec::new();
        let mut waiting_share = None;
        if checking {
            let mut received = std::mem::take(&mut entry.held);
            if carries_changes {
                match crate::changes::check_incoming(document, &message.changes) {
                    Ok(incoming) => received.extend(incoming.new),
                    Err(why) => return self.fail(format!("refused changes for {doc}: {why}")),
                }
            }
            let (now_ready, held) = crate::changes::split_ready(document, received);
            ready = now_ready;
            let before = entry.waiting;
            entry.waiting = Waiting { changes: held.len(), bytes: held.iter().map(|c| c.raw_bytes().len()).sum() };
            entry.held = held;
            entry.held_sorted_at.clone_from(&heads_before);
            let now = entry.waiting;
            waiting_share = Some((before, now));
            let (max, max_bytes) = (crate::limits::MAX_WAITING_CHANGES, crate::limits::MAX_WAITING_BYTES);
            if now.changes > max || now.bytes > max_bytes {
                return self.fail(format!("refused changes for {doc}: more than {max} changes or {max_bytes} bytes wait for dependencies never sent"));
            }
            message.changes = sync::ChunkList::from(ready.iter().map(|c| c.raw_bytes().to_vec()).collect::<Vec<_>>());
        }
        if carries_changes || !ready.is_empty() {
            if let Err(why) = host.may_write(&doc, &ready) {
                return self.fail(format!("not allowed to write {doc}: {why}"));
            }
        }
        let Some(document) = host.document(&doc, false) else { return };
        let entry = self.docs.entry(doc).or_default();
        if let Err(e) = document.sync().receive_sync_message(&mut entry.state, message) {
            self.fail(format!("invalid changes for {doc}: {e}"));
            return;
        }
        let new_changes = document.get_heads() != heads_before;
        let mut applied_changes = None;
        if checking && new_changes {
            // What was applied must be what every implementation writes; a failure closes the
            // connection, and the host sends the document back to what storage holds.
            match crate::changes::check_applied(document, &heads_before) {
                Ok(changes) => applied_changes = Some(changes),
                Err(why) => return self.fail(format!("refused changes for {doc}: {why}")),
            }
        }
        let saved =
            new_changes.then(|| Applied { changes: applied_changes.unwrap_or_else(|| document.get_changes(&heads_before)), since: heads_before, heads: document.get_heads() });
        if let Some((before, now)) = waiting_share {
            if let Some(all) = host.waiting(&doc) {
                all.changes = (all.changes + now.changes).saturating_sub(before.changes);
                all.bytes = (all.bytes + now.bytes).saturating_sub(before.bytes);
                let (max, max_bytes) = (crate::limits::MAX_WAITING_CHANGES_PER_DOCUMENT, crate::limits::MAX_WAITING_BYTES_PER_DOCUMENT);
                if all.changes > max || all.bytes > max_bytes {
                    return self.fail(format!("refused changes for {doc}: more than {max} changes or {max_bytes} bytes wait for dependencies in this document"));
                }
            }
        }
        if let Some(applied) = saved {
            let entry = self.docs.entry(doc).or_default();
            let ticket = self.next_ticket;
            self.next_ticket += 1;
            entry.pending.insert(ticket);
            self.out.push_back(Output::Persist { doc, applied, ticket });
        } else if self.docs.get(&doc).is_some_and(|e| !e.inbox.is_empty()) {
            // A later message from the remote is already here: the one answer to it tells the
            // remote all an answer to this one would (nothing was applied, so there is nothing
            // to acknowledge). Under contention a busy document's replies lag, and answering
            // each stale message made the remote answer again: a round trip each, for nothing.
            self.docs.entry(doc).or_default().dirty = true;
        } else {
            self.flush(doc, host);
        }
    }

    /// Sends what the remote lacks for `doc`, unless a received change awaits durability.
    fn flush(&mut self, doc: DocumentId, host: &mut impl DocumentHost) {
        let entry = self.docs.entry(doc).or_default();
        if !entry.pending.is_empty() {
            return;
        }
        entry.dirty = false;
        let Some(document) = host.document(&doc, false) else { return };
        let was_started = entry.started;
        let mut messages = Vec::new();
        loop {
            let Some(mut m) = document.sync().generate_sync_message(&mut entry.state) else { break };
            if self.checks_changes {
                // No capability flags: the remote then sends changes (V1), never the
                // whole-document chunks of V2, which cannot be checked before inflating.
                m.flags = None;
                if !entry.held.is_empty() {
                    // Ask for what the waiting changes build on: Automerge asks only for what
                    // its own queue misses, and that queue is not used on this side.
                    m.need = crate::changes::still_needed(document, &entry.held, &m.need);
                }
            }
            messages.push(m.encode());
            // generate_sync_message yields one message per round trip; loop guards a bug.
            if messages.len() > 1 {
                break;
            }
        }
        let shared = entry.state.shared_heads.clone();
        let persist_state = shared != entry.last_persisted_shared && self.local.storage_id.is_some();
        if persist_state {
            entry.last_persisted_shared = shared;
        }
        let state_bytes = persist_state.then(|| entry.state.encode());
        if !messages.is_empty() {
            entry.started = true;
        }
        let sender_id = self.local.peer_id.clone();
        let target_id = self.remote_peer().unwrap_or_default().to_owned();
        for (i, data) in messages.into_iter().enumerate() {
            // The first message for a document asks for an answer even if the remote lacks it.
            let m = if !was_started && i == 0 && self.initiator {
                Message::Request { sender_id: sender_id.clone(), target_id: target_id.clone(), document_id: doc, data }
            } else {
                Message::Sync { sender_id: sender_id.clone(), target_id: target_id.clone(), document_id: doc, data }
            };
            self.send(&m);
        }
        if let Some(state) = state_bytes {
            self.out.push_back(Output::SyncState { doc, state });
        }
    }
}

#[cfg(test)]
mod many_writers;
#[cfg(test)]
mod tests;
