//! The documents the server holds in memory, shared by every connection: loaded from storage
//! on demand, evicted when idle, and a channel that tells connections when a document changed
//! (after its change has committed).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use automerge::{sync, ActorId, AutoCommit};
use ledger::protocol::{DocumentHost, DocumentId};
use tokio::sync::broadcast;

use crate::storage::Storage;

struct Loaded {
    doc: AutoCommit,
    last_used: Instant,
}

pub struct Hub {
    pub storage: Arc<Storage>,
    docs: Mutex<HashMap<DocumentId, Loaded>>,
    pub changed: broadcast::Sender<DocumentId>,
    /// Documents idle this long are dropped from memory (storage keeps them).
    pub idle: Duration,
}

impl Hub {
    pub fn new(storage: Arc<Storage>) -> Arc<Self> {
        let (changed, _) = broadcast::channel(4096);
        Arc::new(Self { storage, docs: Mutex::new(HashMap::new()), changed, idle: Duration::from_secs(120) })
    }

    fn docs(&self) -> MutexGuard<'_, HashMap<DocumentId, Loaded>> {
        self.docs.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Loads a document into memory if storage has it (blocking IO: call from the blocking pool).
    pub fn load_blocking(&self, doc: &DocumentId) -> Result<bool, String> {
        if self.docs().contains_key(doc) {
            return Ok(true);
        }
        let Some(bytes) = self.storage.load(doc)? else { return Ok(false) };
        let loaded = if bytes.is_empty() {
            AutoCommit::new()
        } else {
            AutoCommit::load(&bytes).map_err(|e| format!("stored document {doc} is damaged: {e}"))?
        };
        // The server never writes changes of its own: a throwaway actor.
        let loaded = loaded.with_actor(ActorId::random());
        self.docs().entry(*doc).or_insert(Loaded { doc: loaded, last_used: Instant::now() });
        Ok(true)
    }

    pub async fn load(self: &Arc<Self>, doc: DocumentId) -> Result<bool, String> {
        let hub = self.clone();
        tokio::task::spawn_blocking(move || hub.load_blocking(&doc)).await.map_err(|e| e.to_string())?
    }

    /// Drops documents nobody used for `idle`. Returns how many are still in memory.
    pub fn evict_idle(&self) -> usize {
        let mut docs = self.docs();
        let idle = self.idle;
        docs.retain(|_, d| d.last_used.elapsed() < idle);
        docs.len()
    }

    /// The documents as one connection may see them.
    pub fn host(&self) -> HostGuard<'_> {
        HostGuard { docs: self.docs() }
    }
}

/// A locked view of the hub's documents for the sync engine of one connection. Access rules
/// plug in here: until accounts exist, every device belongs to the one demo unit and may read
/// and write every ledger.
pub struct HostGuard<'a> {
    docs: MutexGuard<'a, HashMap<DocumentId, Loaded>>,
}

impl DocumentHost for HostGuard<'_> {
    fn document(&mut self, doc: &DocumentId, create: bool) -> Option<&mut AutoCommit> {
        if create && !self.docs.contains_key(doc) {
            self.docs.insert(*doc, Loaded { doc: AutoCommit::new().with_actor(ActorId::random()), last_used: Instant::now() });
        }
        let loaded = self.docs.get_mut(doc)?;
        loaded.last_used = Instant::now();
        Some(&mut loaded.doc)
    }

    fn may_write(&mut self, _doc: &DocumentId, _message: &sync::Message) -> bool {
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn idle_documents_leave_memory_and_come_back_from_storage() {
        let dir = tempfile::tempdir().unwrap();
        let storage = Arc::new(Storage::open(dir.path()).unwrap());
        let doc = DocumentId::random();
        let mut d = AutoCommit::new();
        automerge::transaction::Transactable::put(&mut d, automerge::ROOT, "k", "v").unwrap();
        storage.create(&doc, &d.save()).unwrap();

        let mut hub = Arc::try_unwrap(Hub::new(storage)).ok().unwrap();
        hub.idle = Duration::from_millis(0);
        assert!(hub.load_blocking(&doc).unwrap());
        assert!(hub.host().document(&doc, false).is_some());
        assert_eq!(hub.evict_idle(), 0, "an idle document stayed in memory");
        assert!(hub.host().document(&doc, false).is_none());
        assert!(hub.load_blocking(&doc).unwrap());
        let heads = hub.host().document(&doc, false).unwrap().get_heads();
        assert_eq!(heads, d.get_heads());
        assert!(!hub.load_blocking(&DocumentId::random()).unwrap(), "a missing document loaded");
    }
}
