//! The documents the server holds in memory, shared by every connection, each with its own
//! owner: a per-document lock under which a connection's work for that document runs whole —
//! load from storage if needed, apply what the peer sent, commit it, and only then answer.
//! Nothing process-wide is held while Automerge works, so one document's work never stalls
//! another's, and no connection sees a change before it has committed.
//!
//! Everything here blocks (Automerge work, SQLite): call it from tokio's blocking pool.

use std::collections::HashMap;
use std::panic::{self, AssertUnwindSafe};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use automerge::{ActorId, AutoCommit};
use ledger_sync::compaction::{CompactionPolicy, Outcome, Plan};
use ledger_sync::stored::{load_document, missing_dependencies};
use ledger_sync::{Connection, DocumentHost, DocumentId, Output, StoredDocument, Waiting};
use tokio::sync::broadcast;

use automerge::ChangeHash;
use ledger::report;
use ledger::UnitLedger;

use crate::directory::{Directory, Principal};
use crate::limits::FAULTS;
use crate::read_model::ReadModel;
use crate::storage::Storage;
use crate::storage::{Appended, Appender, Behind, Projection};

/// What the server knows of one document.
enum Slot {
    /// Not in memory (yet, or again after a failed write): storage is the truth.
    Unloaded,
    /// Storage does not have it.
    Missing,
    Loaded(StoredDocument<i64>),
}

struct Cell {
    slot: Mutex<Slot>,
    /// Changes waiting for dependencies in the document, from all its connections together
    /// (each connection's engine holds its own, outside the document): the bound on them all.
    waiting: Mutex<Waiting>,
    last_used: Mutex<Instant>,
    /// For a unit ledger, the heads its read-model rows were committed at: None until read from
    /// storage, then None inside when it was never projected.
    projected: Mutex<Option<Option<Vec<ChangeHash>>>>,
    /// While loaded: the tag of the stored snapshot memory holds all of, and the last chunk it
    /// holds. What another process appends comes after it (changed only under the slot's lock).
    seen: Mutex<Seen>,
}

#[derive(Debug, Clone, Copy, Default)]
struct Seen {
    tag: u64,
    chunk: i64,
}

impl Cell {
    fn lock(&self) -> MutexGuard<'_, Slot> {
        self.slot.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn projected(&self) -> MutexGuard<'_, Option<Option<Vec<ChangeHash>>>> {
        self.projected.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn seen(&self) -> MutexGuard<'_, Seen> {
        self.seen.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn touch(&self) {
        *self.last_used.lock().unwrap_or_else(|e| e.into_inner()) = Instant::now();
    }
}

pub struct Hub {
    pub storage: Arc<Storage>,
    /// Who may read and write which document.
    pub directory: Arc<Directory>,
    /// Held only to find or insert a document's cell, never while working on one.
    docs: Mutex<HashMap<DocumentId, Arc<Cell>>>,
    /// Tells connections a document changed, after its change has committed.
    pub changed: broadcast::Sender<DocumentId>,
    /// Documents idle this long are dropped from memory (storage keeps them).
    pub idle: Duration,
    pub policy: CompactionPolicy,
    /// The supervisor's read model, kept current with every commit.
    pub read_model: Arc<ReadModel>,
    /// Award rounds count their stages this many days ahead of today (`--days-ahead`, for
    /// rehearsals and tests; 0 otherwise).
    pub days_ahead: std::sync::atomic::AtomicI64,
}

impl Hub {
    pub fn new(storage: Arc<Storage>, directory: Arc<Directory>) -> Arc<Self> {
        let (changed, _) = broadcast::channel(4096);
        let read_model = Arc::new(ReadModel::new(storage.clone()));
        Arc::new(Self {
            storage,
            directory,
            docs: Mutex::new(HashMap::new()),
            changed,
            idle: Duration::from_secs(120),
            policy: CompactionPolicy::default(),
            read_model,
            days_ahead: Default::default(),
        })
    }

    fn cells(&self) -> MutexGuard<'_, HashMap<DocumentId, Arc<Cell>>> {
        self.docs.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn cell(&self, doc: &DocumentId) -> Arc<Cell> {
        let cell = self
            .cells()
            .entry(*doc)
            .or_insert_with(|| {
                Arc::new(Cell {
                    slot: Mutex::new(Slot::Unloaded),
                    waiting: Mutex::default(),
                    last_used: Mutex::new(Instant::now()),
                    projected: Mutex::new(None),
                    seen: Mutex::default(),
                })
            })
            .clone();
        cell.touch();
        cell
    }

    /// Drops documents nobody used for `idle` and nobody is working on, whose memory holds
    /// nothing storage lacks. Returns how many are still in memory.
    pub fn evict_idle(&self) -> usize {
        let idle = self.idle;
        let mut cells = self.cells();
        cells.retain(|_, cell| {
            let used = *cell.last_used.lock().unwrap_or_else(|e| e.into_inner());
            if used.elapsed() < idle || Arc::strong_count(cell) > 1 {
                return true;
            }
            match cell.slot.try_lock() {
                Ok(mut slot) => match &mut *slot {
                    Slot::Loaded(d) => d.is_ahead(),
                    _ => false,
                },
                Err(_) => true,
            }
        });
        cells.len()
    }

    /// Carries out the connection's work for `doc` (its answer to [`Output::Load`]) under the
    /// document's lock, writing to storage what it receives before anything is answered.
    /// Returns the outputs the socket must handle (frames to send, sync states, a close), in
    /// order.
    pub fn work(self: &Arc<Self>, doc: DocumentId, conn: &mut Connection, principal: &Principal) -> Vec<Output> {
        // A document the person may not read is answered as a missing one, before anything is
        // loaded: nobody learns that it exists, and no made-up id reaches storage.
        let rights = self.directory.rights(&principal.person, &doc);
        if !rights.read {
            crate::metrics::refused("not_readable");
            conn.process(doc, &mut Forbidden);
            return std::iter::from_fn(|| conn.poll_output()).collect();
        }
        let access = Access { directory: &self.directory, device: &principal.device, name: &principal.name, write: rights.write };
        let cell = self.cell(&doc);
        let mut slot = cell.lock();
        if let Slot::Unloaded = &*slot {
            match self.load(&doc, &cell) {
                Ok(loaded) => *slot = loaded,
                Err(e) => {
                    if FAULTS.allow() {
                        tracing::error!(document = %doc, peer = conn.remote_name().unwrap_or("?"), "document cannot be loaded: {e}");
                    }
                    conn.document_failed(doc, "the server cannot load this document");
                    return std::iter::from_fn(|| conn.poll_output()).collect();
                }
            }
        }
        let mut committed = false;
        let mut out = Vec::new();
        // Automerge may panic or fail half-way through applying a crafted change; what it
        // applied before is then in memory and must not be served, stored or built on.
        let mut waiting = cell.waiting.lock().unwrap_or_else(|e| e.into_inner());
        let applied = panic::catch_unwind(AssertUnwindSafe(|| conn.process(doc, &mut SlotHost { id: doc, slot: &mut slot, waiting: Some(&mut waiting), access: &access })));
        drop(waiting);
        if applied.is_err() {
            if FAULTS.allow() {
                tracing::error!(document = %doc, peer = conn.remote_name().unwrap_or("?"), "applying a peer's message panicked; the document goes back to what storage holds");
            }
            conn.abort("the server could not apply your changes to this document");
        }
        if conn.is_closed() {
            // What it applied, and every change waiting in the document, go; storage is the truth.
            *slot = Slot::Unloaded;
        }
        while let Some(output) = conn.poll_output() {
            let Output::Persist { ticket, doc: persist_doc, applied } = output else {
                out.push(output);
                continue;
            };
            debug_assert_eq!(persist_doc, doc);
            let Slot::Loaded(stored) = &mut *slot else { continue };
            // Everything memory holds beyond storage, not only this message's changes.
            match stored.unsaved_changes_after(applied) {
                None => self.answer(doc, ticket, conn, &mut slot, &access),
                Some(changes) => match self.commit(&doc, &cell, stored, &changes) {
                    Ok(()) => {
                        committed = true;
                        self.answer(doc, ticket, conn, &mut slot, &access);
                    }
                    Err(e) => {
                        if FAULTS.allow() {
                            tracing::error!(document = %doc, peer = conn.remote_name().unwrap_or("?"), "could not store changes: {e}");
                        }
                        // Memory goes back to storage: the document is read again next time.
                        *slot = Slot::Unloaded;
                        conn.abort("the server could not store your changes; try again later");
                    }
                },
            }
        }
        // A document a peer only named (heads, no changes it could apply) is not kept: made-up
        // ids must not fill memory with empty documents nobody stored.
        if let Slot::Loaded(stored) = &mut *slot {
            if !stored.exists() && stored.doc().get_heads().is_empty() {
                *slot = Slot::Missing;
            }
        }
        if committed {
            // Other connections hear of the change only now, after the commit.
            let _ = self.changed.send(doc);
        }
        if let Slot::Loaded(stored) = &mut *slot {
            if stored.compactor.is_due() && missing_dependencies(stored.doc()).is_empty() {
                if let Some(plan) = stored.compactor.start(random_tag()) {
                    let hub = self.clone();
                    let cell = cell.clone();
                    tokio::runtime::Handle::current().spawn_blocking(move || hub.compact(doc, &cell, plan));
                }
            }
        }
        if !matches!(*slot, Slot::Loaded(_)) {
            *cell.waiting.lock().unwrap_or_else(|e| e.into_inner()) = Waiting::default();
        }
        drop(slot);
        cell.touch();
        out
    }

    /// A connection ended with changes still waiting for dependencies: they leave with it
    /// (the engine held them, never Automerge), and so does their share of each document's count.
    pub fn release_waiting(&self, shares: &[(DocumentId, Waiting)]) {
        for (doc, share) in shares {
            let Some(cell) = self.cells().get(doc).cloned() else { continue };
            let mut all = cell.waiting.lock().unwrap_or_else(|e| e.into_inner());
            all.changes = all.changes.saturating_sub(share.changes);
            all.bytes = all.bytes.saturating_sub(share.bytes);
        }
    }

    /// Stores `unsaved` (what memory holds beyond storage) and, for a unit ledger, the read
    /// model's rows for what they changed, in one transaction. When another process sharing
    /// the database stored to the document since memory last caught up, what it stored is
    /// taken in first, in the document's turn (see [`Storage::append_with`]).
    fn commit(&self, doc: &DocumentId, cell: &Cell, stored: &mut StoredDocument<i64>, unsaved: &[automerge::Change]) -> Result<(), String> {
        let started = std::time::Instant::now();
        let mut commit = Commit { hub: self, doc, cell, stored, unsaved: Some(std::borrow::Cow::Borrowed(unsaved)) };
        let Some(Appended { seq, bytes, projection }) = self.storage.append_with(doc, &mut commit)? else { return Ok(()) };
        crate::metrics::persisted(started);
        commit.stored.saved(seq, bytes);
        cell.seen().chunk = seq;
        if let Some(p) = projection {
            *cell.projected() = Some(Some(p.heads.clone()));
            self.read_model.committed(doc, &p);
        }
        Ok(())
    }

    /// Takes in what other processes stored to `doc` since memory last caught up (told by
    /// storage's notices): the chunks after the last one memory holds, or, if another process
    /// compacted the document meanwhile, the document read again at its next use. Then every
    /// connection on it hears of the change, and the desk's figures are read afresh.
    pub fn refresh(&self, doc: &DocumentId) {
        self.read_model.forget(doc);
        let Some(cell) = self.cells().get(doc).cloned() else {
            // Nobody here holds it open; what was drawn from it (a board) is drawn again.
            let _ = self.changed.send(*doc);
            return;
        };
        let mut slot = cell.lock();
        *cell.projected() = None;
        let fresh = match &mut *slot {
            Slot::Loaded(stored) if stored.exists() => {
                let seen = *cell.seen();
                match self.storage.chunks_after(doc, seen.chunk) {
                    Ok(Some((tag, chunks))) if tag == seen.tag => {
                        let last = chunks.last().map(|(k, _)| *k);
                        let adopted = stored.adopt(chunks).map_err(|e| e.to_string());
                        if let (Ok(()), Some(last)) = (&adopted, last) {
                            cell.seen().chunk = last;
                        }
                        adopted
                    }
                    Ok(_) => Err("compacted elsewhere".into()),
                    Err(e) => Err(e),
                }
            }
            // Made by another process since it was looked for here.
            Slot::Loaded(_) | Slot::Missing => Err("made elsewhere".into()),
            Slot::Unloaded => Ok(()),
        };
        if fresh.is_err() {
            // Storage is the truth: read again at the next use.
            *slot = Slot::Unloaded;
            *cell.waiting.lock().unwrap_or_else(|e| e.into_inner()) = Waiting::default();
        }
        drop(slot);
        let _ = self.changed.send(*doc);
    }

    /// Every document in memory looked at again (notices may have been missed).
    pub fn refresh_all(&self) {
        let docs: Vec<DocumentId> = self.cells().keys().copied().collect();
        for doc in docs {
            self.refresh(&doc);
        }
    }

    /// The read-model rows a commit of `doc` brings, if it is a unit ledger: the records the
    /// changes since the last projection name, read as they are now. When the rows are as
    /// current as storage (the usual case), those changes are `unsaved`, which the commit
    /// already has: Automerge is not asked for them again (walking the change graph is most of
    /// a projection's cost on a long history).
    fn projection(
        &self,
        doc: &DocumentId,
        cell: &Cell,
        stored: &mut StoredDocument<i64>,
        unsaved: &[automerge::Change],
        read_heads: &mut dyn FnMut() -> Result<Option<Vec<ChangeHash>>, String>,
    ) -> Option<Projection> {
        self.directory.unit_of(doc)?;
        let mut projected = cell.projected();
        if projected.is_none() {
            match read_heads() {
                Ok(heads) => *projected = Some(heads),
                Err(e) => {
                    // The rows catch up with the next commit, which projects from what storage has.
                    tracing::warn!(document = %doc, "read model not updated: {e}");
                    return None;
                }
            }
        }
        let since = projected.clone().flatten();
        drop(projected);
        let heads = stored.doc().get_heads();
        let current = since.as_deref() == Some(stored.durable()) && stored.exists();
        let update = panic::catch_unwind(AssertUnwindSafe(|| {
            UnitLedger::reading(stored.doc(), |l| if current { report::update_for(l, unsaved) } else { report::update_since(l, since.as_deref()) })
        }));
        match update {
            Ok(update) => Some(Projection { update, heads, at: crate::directory::now_secs() }),
            Err(_) => {
                tracing::error!(document = %doc, "reading the records a change touched panicked; the read model catches up with the next change");
                None
            }
        }
    }

    /// Makes a change on the server for `principal` (a supervisor's 督办意见 from the desk):
    /// under the document's lock, checked by the same rules as a peer's change (write scope,
    /// attribution to the principal's device), stored with its read-model rows, then announced.
    /// Nothing of a refused or failed change stays in memory.
    pub fn write<R>(&self, doc: DocumentId, principal: &Principal, edit: impl FnOnce(&mut UnitLedger) -> Result<R, ledger::LedgerError>) -> Result<R, WriteError> {
        let rights = self.directory.rights(&principal.person, &doc);
        if !rights.read || rights.write == ledger::org::Write::Nothing {
            return Err(WriteError::Refused("没有写这本台账的权限".into()));
        }
        self.write_as(doc, Writer { write: rights.write, name: &principal.name, device: Some(&principal.device) }, edit)
    }

    /// [`Hub::write`] for a writer that is not a person: the public board (its changes checked
    /// as [`ledger::org::Write::Board`], its actors kept apart so no device can ever use one).
    /// A ledger from before schema 3 is upgraded in the same commit.
    pub fn write_as<R>(&self, doc: DocumentId, writer: Writer<'_>, edit: impl FnOnce(&mut UnitLedger) -> Result<R, ledger::LedgerError>) -> Result<R, WriteError> {
        let cell = self.cell(&doc);
        let mut slot = cell.lock();
        if let Slot::Unloaded = &*slot {
            *slot = self.load(&doc, &cell).map_err(WriteError::Failed)?;
        }
        let Slot::Loaded(stored) = &mut *slot else { return Err(WriteError::Refused("没有这本台账".into())) };
        let before = stored.doc().get_heads();
        let actor = ActorId::random();
        stored.doc().set_actor(actor.clone());
        let board = writer.device.is_none();
        let edited = panic::catch_unwind(AssertUnwindSafe(|| {
            UnitLedger::reading(stored.doc(), |l| {
                l.set_author(writer.name);
                if board {
                    l.upgrade()?;
                }
                edit(l)
            })
        }));
        let outcome = match edited {
            Ok(Ok(value)) => {
                let changes: Vec<automerge::Change> = stored.doc().get_changes(&before);
                ledger::write_scope::check(stored.doc(), &changes, ledger::write_scope::Sender { write: writer.write, name: writer.name })
                    .and_then(|()| match writer.device {
                        Some(device) => self.directory.check_attribution(device, &changes),
                        None => self.directory.claim_for_board(&actor, &changes),
                    })
                    .map_err(WriteError::Refused)
                    .and_then(|()| match stored.unsaved_changes() {
                        None => Ok(value),
                        Some(unsaved) => self.commit(&doc, &cell, stored, &unsaved).map(|()| value).map_err(WriteError::Failed),
                    })
            }
            Ok(Err(e)) => Err(WriteError::Refused(e.to_string())),
            Err(_) => Err(WriteError::Failed("the edit panicked".into())),
        };
        match &outcome {
            Ok(_) => {
                if let Slot::Loaded(stored) = &mut *slot {
                    stored.doc().set_actor(ActorId::random());
                }
                let _ = self.changed.send(doc);
            }
            // Memory goes back to what storage holds.
            Err(_) => *slot = Slot::Unloaded,
        }
        if !matches!(*slot, Slot::Loaded(_)) {
            *cell.waiting.lock().unwrap_or_else(|e| e.into_inner()) = Waiting::default();
        }
        drop(slot);
        cell.touch();
        outcome
    }

    /// Projects a unit ledger never projected (one from before the read model existed), under
    /// its lock so no commit interleaves. Returns whether it did.
    pub fn catch_up(&self, doc: DocumentId) -> Result<bool, String> {
        let cell = self.cell(&doc);
        let _slot = cell.lock();
        let mut projected = cell.projected();
        if projected.is_none() {
            *projected = Some(self.storage.projected_heads(&doc)?);
        }
        if matches!(&*projected, Some(Some(_))) {
            return Ok(false);
        }
        crate::read_model::project_from_storage(&self.storage, &doc)?;
        *projected = Some(self.storage.projected_heads(&doc)?);
        Ok(true)
    }

    /// Tells the engine a write committed, so it answers the peer (Automerge builds the reply).
    fn answer(&self, doc: DocumentId, ticket: u64, conn: &mut Connection, slot: &mut Slot, access: &Access<'_>) {
        let answered = panic::catch_unwind(AssertUnwindSafe(|| conn.persisted(ticket, &mut SlotHost { id: doc, slot: &mut *slot, waiting: None, access })));
        if answered.is_err() {
            if FAULTS.allow() {
                tracing::error!(document = %doc, peer = conn.remote_name().unwrap_or("?"), "building a reply panicked; the document is read again from storage");
            }
            *slot = Slot::Unloaded;
            conn.abort("the server could not answer for this document");
        }
    }

    fn load(&self, doc: &DocumentId, cell: &Cell) -> Result<Slot, String> {
        let Some(layout) = self.storage.load(doc)? else { return Ok(Slot::Missing) };
        let mut stored = StoredDocument::load(&layout, self.policy).map_err(|e| e.to_string())?;
        *cell.seen() = Seen { tag: layout.tag, chunk: layout.chunks.last().map_or(0, |(k, _)| *k) };
        let missing = missing_dependencies(stored.doc());
        if !missing.is_empty() {
            tracing::warn!(document = %doc, "stored document lacks {} change(s) some of its chunks depend on; those chunks wait for them", missing.len());
        }
        // The server never writes changes of its own: a throwaway actor.
        let actor = ActorId::random();
        stored.doc().set_actor(actor);
        Ok(Slot::Loaded(stored))
    }

    /// Folds the planned chunks into a new snapshot, outside the document's lock: reads the
    /// plan's base and chunks from storage, and replaces them only if they are still stored.
    fn compact(&self, doc: DocumentId, cell: &Cell, plan: Plan<i64>) {
        let result = (|| -> Result<Outcome, String> {
            let Some(bytes) = self.storage.read_plan(&doc, &plan)? else { return Ok(Outcome::Stale) };
            let mut folded = load_document(&bytes).map_err(|e| e.to_string())?;
            if !missing_dependencies(&mut folded).is_empty() {
                return Err("the chunks depend on changes storage does not have".into());
            }
            self.storage.replace(&doc, &plan, &folded.save())
        })();
        let outcome = result.unwrap_or_else(|e| {
            tracing::warn!(document = %doc, "compaction failed (nothing lost): {e}");
            Outcome::Failed
        });
        crate::metrics::compacted(match outcome {
            Outcome::Replaced { .. } => "replaced",
            Outcome::Stale => "stale",
            Outcome::Failed => "failed",
        });
        let mut slot = cell.lock();
        if let Slot::Loaded(stored) = &mut *slot {
            let mut seen = cell.seen();
            if matches!(outcome, Outcome::Replaced { .. }) && seen.tag == plan.base {
                // Its snapshot is made of the base and chunks memory held: memory holds it all.
                seen.tag = plan.new_tag;
            }
            drop(seen);
            stored.compactor.finished(plan.id, outcome);
            if outcome == Outcome::Stale {
                if let Ok(Some((tag, snapshot, chunks))) = self.storage.layout_sizes(&doc) {
                    stored.compactor.loaded(tag, snapshot, chunks);
                }
            }
        }
    }

    /// How many documents are in memory (for tests and diagnosis).
    pub fn loaded_documents(&self) -> usize {
        let cells: Vec<Arc<Cell>> = self.cells().values().cloned().collect();
        cells.iter().filter(|c| matches!(&*c.lock(), Slot::Loaded(_))).count()
    }

    /// Whether the document is in memory and what its heads are (for tests and diagnosis).
    pub fn heads_in_memory(&self, doc: &DocumentId) -> Option<Vec<automerge::ChangeHash>> {
        let cell = self.cells().get(doc)?.clone();
        let mut slot = cell.lock();
        match &mut *slot {
            Slot::Loaded(d) => Some(d.doc().get_heads()),
            _ => None,
        }
    }
}

/// One commit of a document held in memory, as storage drives it.
struct Commit<'a> {
    hub: &'a Hub,
    doc: &'a DocumentId,
    cell: &'a Cell,
    stored: &'a mut StoredDocument<i64>,
    /// The changes to store, while known without asking the document (until a catch-up).
    unsaved: Option<std::borrow::Cow<'a, [automerge::Change]>>,
}

impl Appender for Commit<'_> {
    fn seen(&self) -> Option<(u64, i64)> {
        let seen = *self.cell.seen();
        self.stored.exists().then_some((seen.tag, seen.chunk))
    }

    fn catch_up(&mut self, behind: Behind) -> Result<(), String> {
        *self.cell.projected() = None;
        self.hub.read_model.forget(self.doc);
        self.unsaved = None;
        match behind {
            Behind::Chunks(chunks) => {
                let last = chunks.last().map(|(k, _)| *k);
                self.stored.adopt(chunks).map_err(|e| e.to_string())?;
                if let Some(last) = last {
                    self.cell.seen().chunk = last;
                }
            }
            Behind::Compacted(layout) => {
                // Read again as stored, with what memory holds beyond storage on top.
                let mine = self.stored.unsaved_changes().unwrap_or_default();
                let mut fresh = StoredDocument::load(&layout, self.hub.policy).map_err(|e| e.to_string())?;
                fresh.doc().set_actor(ActorId::random());
                fresh.doc().apply_changes(mine).map_err(|e| e.to_string())?;
                *self.cell.seen() = Seen { tag: layout.tag, chunk: layout.chunks.last().map_or(0, |(k, _)| *k) };
                *self.stored = fresh;
            }
        }
        Ok(())
    }

    fn prepare(&mut self, projected: &mut dyn FnMut() -> Result<Option<Vec<ChangeHash>>, String>) -> Result<Option<(Vec<u8>, Option<Projection>)>, String> {
        let unsaved = match self.unsaved.take() {
            Some(u) => u,
            None => match self.stored.unsaved_changes() {
                Some(changes) if !changes.is_empty() => std::borrow::Cow::Owned(changes),
                // Another process stored these very changes (the same phone reached both).
                _ => return Ok(None),
            },
        };
        let bytes = ledger_sync::stored::chunk_of(&unsaved);
        let projection = self.hub.projection(self.doc, self.cell, self.stored, &unsaved, projected);
        // Kept for a transaction run again (PostgreSQL breaking a deadlock).
        self.unsaved = Some(unsaved);
        Ok(Some((bytes, projection)))
    }
}

fn random_tag() -> u64 {
    let mut bytes = [0u8; 8];
    let _ = getrandom::fill(&mut bytes);
    u64::from_le_bytes(bytes) | 1
}

/// Who makes a change on the server: what they may write, the name their entries carry, and
/// the device whose actors they use (None: the public board, whose actors are its own).
#[derive(Debug, Clone, Copy)]
pub struct Writer<'a> {
    pub write: ledger::org::Write,
    pub name: &'a str,
    pub device: Option<&'a str>,
}

/// Why a change the server was asked to make was not made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WriteError {
    /// Not allowed, or not valid: the reason, for the person.
    Refused(String),
    /// Storage failed: nothing was kept.
    Failed(String),
}

/// What the connection's person may do with the document at hand.
struct Access<'a> {
    directory: &'a Directory,
    device: &'a str,
    /// The name the sender's entries and change notes must carry.
    name: &'a str,
    write: ledger::org::Write,
}

/// A document the person may not read: unavailable, exactly like a missing one.
struct Forbidden;

impl DocumentHost for Forbidden {
    fn document(&mut self, _doc: &DocumentId, _create: bool) -> Option<&mut AutoCommit> {
        None
    }

    fn may_write(&mut self, _doc: &DocumentId, _changes: &[automerge::Change]) -> Result<(), String> {
        Err("not readable".into())
    }
}

/// One locked document as the sync engine sees it, with the rules of the person connected.
/// Documents are made only with their unit (by the directory), never by a peer's sync.
struct SlotHost<'a> {
    id: DocumentId,
    slot: &'a mut Slot,
    waiting: Option<&'a mut Waiting>,
    access: &'a Access<'a>,
}

impl DocumentHost for SlotHost<'_> {
    fn document(&mut self, doc: &DocumentId, _create: bool) -> Option<&mut AutoCommit> {
        if *doc != self.id {
            return None;
        }
        match self.slot {
            Slot::Loaded(d) => Some(d.doc()),
            _ => None,
        }
    }

    /// What a change touches is decided against the document before it is applied, then who
    /// made it: an actor belongs to the device that sent it first.
    fn may_write(&mut self, doc: &DocumentId, changes: &[automerge::Change]) -> Result<(), String> {
        if *doc != self.id {
            return Err("not this document".into());
        }
        let Slot::Loaded(stored) = self.slot else { return Err("not loaded".into()) };
        let verdict = ledger::write_scope::check(stored.doc(), changes, ledger::write_scope::Sender { write: self.access.write, name: self.access.name })
            .and_then(|()| self.access.directory.check_attribution(self.access.device, changes));
        if verdict.is_err() {
            crate::metrics::refused("write_scope");
        }
        verdict
    }

    fn waiting(&mut self, doc: &DocumentId) -> Option<&mut Waiting> {
        if *doc != self.id {
            return None;
        }
        self.waiting.as_deref_mut()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn idle_documents_leave_memory_and_come_back_from_storage() {
        let dir = tempfile::tempdir().unwrap();
        let storage = Arc::new(Storage::open(dir.path()).unwrap());
        let directory = Directory::open(storage.clone()).unwrap();
        let city = directory.add_unit("市", ledger::org::UnitKind::City, None, None).unwrap();
        let unit = directory.add_unit("部门", ledger::org::UnitKind::Department, Some(&city.id), None).unwrap();
        let person = directory.add_person("张伟", "zw", None, None).unwrap();
        directory.grant(&person.id, &unit.id, ledger::org::Role::Cadre, None).unwrap();
        let principal = Principal { person: person.id, name: person.name, device: "d".into(), retired: false };
        let doc = DocumentId::parse(unit.ledger.as_ref().unwrap()).unwrap();
        let mut d = AutoCommit::load(&storage.load(&doc).unwrap().unwrap().concatenated()).unwrap();

        let mut hub = Arc::try_unwrap(Hub::new(storage, directory)).ok().unwrap();
        hub.idle = Duration::from_millis(0);
        let hub = Arc::new(hub);
        let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
        let _guard = rt.enter();
        let mut conn = Connection::accept(ledger_sync::LocalPeer { peer_id: "s".into(), storage_id: None });
        hub.work(doc, &mut conn, &principal);
        assert_eq!(hub.heads_in_memory(&doc), Some(d.get_heads()));
        assert_eq!(hub.evict_idle(), 0, "an idle document stayed in memory");
        assert_eq!(hub.heads_in_memory(&doc), None);
        hub.work(doc, &mut conn, &principal);
        assert_eq!(hub.heads_in_memory(&doc), Some(d.get_heads()));
        let stranger = Principal { person: "stranger".into(), ..principal };
        hub.evict_idle();
        hub.work(doc, &mut conn, &stranger);
        assert_eq!(hub.heads_in_memory(&doc), None, "a document the person may not read is not even loaded");
    }
}
