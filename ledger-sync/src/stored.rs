//! A document as its one owner keeps it: the live Automerge document, the heads storage is
//! known to hold, and its compaction state. Browser and server both follow it.
//!
//! Memory may run ahead of storage only between applying a change and committing it, and
//! [`StoredDocument::unsaved`] is then *everything* memory holds beyond storage (not only the
//! change just applied): a write that failed before is carried by the next one, so storage never
//! holds a change without the changes it depends on. A host whose write fails and that cannot
//! retry drops the document and loads it again from storage (memory goes back to storage).

use automerge::{AutoCommit, ChangeHash, LoadOptions, OnPartialLoad};

use crate::compaction::{CompactionPolicy, Compactor, Tag};

/// What storage holds for one document: its snapshot (possibly empty) and the chunks written
/// after it, in order, each with the key storage knows it by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layout<K> {
    pub tag: Tag,
    pub snapshot: Vec<u8>,
    pub chunks: Vec<(K, Vec<u8>)>,
}

impl<K> Layout<K> {
    /// The bytes `AutoCommit::load` reads: the snapshot followed by every chunk.
    pub fn concatenated(&self) -> Vec<u8> {
        let mut all = self.snapshot.clone();
        for (_, c) in &self.chunks {
            all.extend_from_slice(c);
        }
        all
    }
}

/// Why stored bytes could not be made into a document.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("stored document does not load: {0}")]
pub struct LoadError(pub String);

/// Loads stored bytes as tolerantly as is safe: changes whose dependencies are missing (written
/// by an older server after a failed write) are kept aside by Automerge instead of refusing the
/// whole document; [`missing_dependencies`] says whether that happened.
pub fn load_document(bytes: &[u8]) -> Result<AutoCommit, LoadError> {
    if bytes.is_empty() {
        return Ok(AutoCommit::new());
    }
    AutoCommit::load_with_options(bytes, LoadOptions::new().on_partial_load(OnPartialLoad::Ignore)).map_err(|e| LoadError(e.to_string()))
}

/// Changes the document depends on but does not hold (its waiting changes are not part of it
/// and would be dropped by a `save()`).
pub fn missing_dependencies(doc: &mut AutoCommit) -> Vec<ChangeHash> {
    doc.get_missing_deps(&[])
}

/// Changes as one chunk to append to storage (their encoded bytes, one after another, as
/// Automerge loads them).
pub fn chunk_of(changes: &[automerge::Change]) -> Vec<u8> {
    changes.iter().flat_map(|c| c.raw_bytes().iter().copied()).collect()
}

pub struct StoredDocument<K> {
    doc: AutoCommit,
    /// The heads of what storage holds.
    durable: Vec<ChangeHash>,
    /// Whether storage holds anything for it yet (a document made in memory is not stored
    /// until its first write).
    exists: bool,
    pub compactor: Compactor<K>,
}

impl<K: Clone + PartialEq> StoredDocument<K> {
    /// A document that exists only in memory so far: everything in it is unsaved.
    pub fn new_in_memory(doc: AutoCommit, policy: CompactionPolicy) -> Self {
        Self { doc, durable: Vec::new(), exists: false, compactor: Compactor::new(policy) }
    }

    /// Loads what storage holds.
    pub fn load(layout: &Layout<K>, policy: CompactionPolicy) -> Result<Self, LoadError> {
        let mut doc = load_document(&layout.concatenated())?;
        let durable = doc.get_heads();
        let mut compactor = Compactor::new(policy);
        compactor.loaded(layout.tag, layout.snapshot.len(), layout.chunks.iter().map(|(k, c)| (k.clone(), c.len())));
        Ok(Self { doc, durable, exists: true, compactor })
    }

    pub fn doc(&mut self) -> &mut AutoCommit {
        &mut self.doc
    }

    pub fn exists(&self) -> bool {
        self.exists
    }

    /// Everything memory holds beyond storage, as one chunk to append; None when storage is
    /// up to date.
    pub fn unsaved(&mut self) -> Option<Vec<u8>> {
        self.unsaved_changes().map(|changes| chunk_of(&changes))
    }

    /// The changes [`unsaved`](Self::unsaved) is made of, for a host that also reads them
    /// (the server's read model): asking Automerge once instead of twice.
    pub fn unsaved_changes(&mut self) -> Option<Vec<automerge::Change>> {
        let heads = self.doc.get_heads();
        if heads == self.durable && self.exists {
            return None;
        }
        Some(self.doc.get_changes(&self.durable))
    }

    /// The same as [`unsaved_changes`](Self::unsaved_changes), taking what a received message
    /// applied when it is exactly what storage lacks (storage was up to date before it, and
    /// nothing came after it), instead of rebuilding those changes from the document.
    pub fn unsaved_changes_after(&mut self, applied: crate::Applied) -> Option<Vec<automerge::Change>> {
        if applied.since != applied.heads && self.durable == applied.since && self.doc.get_heads() == applied.heads {
            return Some(applied.changes);
        }
        self.unsaved_changes()
    }

    /// The heads of what storage holds.
    pub fn durable(&self) -> &[ChangeHash] {
        &self.durable
    }

    /// The chunk from [`unsaved`](Self::unsaved) committed under `key`.
    pub fn saved(&mut self, key: K, bytes: usize) {
        self.durable = self.doc.get_heads();
        self.exists = true;
        self.compactor.appended(key, bytes);
    }

    /// Takes in chunks another process stored (each under its key), in order. Memory may hold
    /// changes storage lacks: they stay unsaved, and what the chunks bring counts as stored.
    pub fn adopt(&mut self, chunks: Vec<(K, Vec<u8>)>) -> Result<(), LoadError> {
        let before = self.doc.get_heads();
        for (key, bytes) in chunks {
            self.doc.load_incremental(&bytes).map_err(|e| LoadError(e.to_string()))?;
            self.compactor.appended(key, bytes.len());
        }
        // Stored now: what was, and the changes the chunks brought (their direct dependencies
        // are not heads; an older head left among them names nothing more than it did).
        let theirs = self.doc.get_changes(&before);
        let deps: std::collections::HashSet<ChangeHash> = theirs.iter().flat_map(|c| c.deps().iter().copied()).collect();
        let mut durable: Vec<ChangeHash> = self.durable.iter().copied().chain(theirs.iter().map(|c| c.hash())).filter(|h| !deps.contains(h)).collect();
        durable.sort();
        durable.dedup();
        self.durable = durable;
        self.exists = true;
        if self.doc.get_changes(&self.durable).is_empty() {
            self.durable = self.doc.get_heads();
        }
        Ok(())
    }

    /// Whether memory holds changes storage lacks.
    pub fn is_ahead(&mut self) -> bool {
        !self.exists || self.doc.get_heads() != self.durable
    }
}

#[cfg(test)]
mod tests {
    use automerge::transaction::Transactable;
    use automerge::ROOT;

    use super::*;

    fn edit(doc: &mut AutoCommit, key: &str) {
        doc.put(ROOT, key, 1).unwrap();
        doc.commit();
    }

    #[test]
    fn unsaved_carries_everything_a_failed_write_left_behind() {
        let mut stored = StoredDocument::<u32>::new_in_memory(AutoCommit::new(), CompactionPolicy::default());
        edit(stored.doc(), "c1");
        let first = stored.unsaved().unwrap();
        stored.saved(1, first.len());
        edit(stored.doc(), "c2");
        let _failed = stored.unsaved().unwrap(); // the write of c2 fails: not saved
        edit(stored.doc(), "c3");
        let next = stored.unsaved().unwrap();
        // Storage = first + next must load, with c2 and c3.
        let layout = Layout { tag: 0, snapshot: Vec::new(), chunks: vec![(1, first), (2, next)] };
        let mut reloaded = StoredDocument::load(&layout, CompactionPolicy::default()).unwrap();
        assert!(missing_dependencies(reloaded.doc()).is_empty());
        assert_eq!(reloaded.doc().get_heads(), stored.doc().get_heads());
        assert_eq!(reloaded.unsaved(), None);
    }

    fn applied_since(stored: &mut StoredDocument<u32>, since: &[ChangeHash]) -> crate::Applied {
        let heads = stored.doc().get_heads();
        crate::Applied { since: since.to_vec(), heads, changes: stored.doc().get_changes(since) }
    }

    #[test]
    fn what_a_message_applied_is_stored_only_when_it_is_all_storage_lacks() {
        let mut stored = StoredDocument::<u32>::new_in_memory(AutoCommit::new(), CompactionPolicy::default());
        // A document made by the message: everything is the message's.
        edit(stored.doc(), "c1");
        let first = applied_since(&mut stored, &[]);
        assert_eq!(stored.unsaved_changes_after(first.clone()), Some(first.changes.clone()));
        stored.saved(1, first.bytes().len());
        let durable = stored.durable().to_vec();

        // The write of c2 failed: the next message's changes alone are not what storage lacks.
        edit(stored.doc(), "c2");
        let after_c2 = stored.doc().get_heads();
        edit(stored.doc(), "c3");
        let only_c3 = applied_since(&mut stored, &after_c2);
        let unsaved = stored.unsaved_changes_after(only_c3).unwrap();
        assert_eq!(unsaved.len(), 2, "c2 and c3 from the document, not the message's c3 alone");

        // More arrived after the message (its applied set is stale): the document is asked.
        let c4_message = applied_since(&mut stored, &durable);
        edit(stored.doc(), "c4");
        assert_eq!(stored.unsaved_changes_after(c4_message).unwrap().len(), 3);

        // Exactly what storage lacks: the message's changes are used as they are.
        let all = applied_since(&mut stored, &durable);
        assert_eq!(stored.unsaved_changes_after(all.clone()), Some(all.changes));

        // Nothing applied, storage up to date: nothing to store.
        stored.saved(2, 0);
        let heads = stored.doc().get_heads();
        let nothing = crate::Applied { since: heads.clone(), heads, changes: Vec::new() };
        assert_eq!(stored.unsaved_changes_after(nothing), None);
    }

    #[test]
    fn a_chunk_whose_dependencies_were_lost_still_loads_the_rest() {
        // What an older server could store: c3 without the c2 it depends on.
        let mut doc = AutoCommit::new();
        edit(&mut doc, "c1");
        let c1 = doc.save();
        let h1 = doc.get_heads();
        edit(&mut doc, "c2");
        let h2 = doc.get_heads();
        edit(&mut doc, "c3");
        let c3 = doc.save_after(&h2);
        let _ = h1;
        let layout = Layout { tag: 0, snapshot: c1, chunks: vec![(1, c3)] };
        let mut loaded = StoredDocument::load(&layout, CompactionPolicy::default()).unwrap();
        assert_eq!(missing_dependencies(loaded.doc()), h2, "the missing change is reported");
        assert_eq!(loaded.doc().get_heads(), h1);
    }

    /// Two processes holding one document, sharing one store: what each takes in from the
    /// other counts as stored, what it made itself and has not stored stays unsaved, and the
    /// store's chunks always load to the union without a missing change.
    #[test]
    fn adopted_chunks_count_as_stored_and_only_what_memory_made_stays_unsaved() {
        let policy = CompactionPolicy::default;
        let mut store: Vec<(u32, Vec<u8>)> = Vec::new();
        let mut a = StoredDocument::<u32>::new_in_memory(AutoCommit::new(), policy());
        edit(a.doc(), "c1");
        store.push((1, a.unsaved().unwrap()));
        a.saved(1, store[0].1.len());

        let mut b = StoredDocument::load(&Layout { tag: 0, snapshot: Vec::new(), chunks: store.clone() }, policy()).unwrap();
        edit(b.doc(), "c2");
        store.push((2, b.unsaved().unwrap()));
        b.saved(2, store[1].1.len());

        // A made c3 meanwhile and has not stored it; it takes in B's chunk first.
        edit(a.doc(), "c3");
        a.adopt(vec![store[1].clone()]).unwrap();
        assert!(a.is_ahead());
        let unsaved = a.unsaved_changes().unwrap();
        assert_eq!(unsaved.len(), 1, "only c3: c2 is stored already");
        store.push((3, chunk_of(&unsaved)));
        a.saved(3, store[2].1.len());
        assert!(!a.is_ahead());

        // B takes in A's chunk with nothing of its own unsaved: it is not ahead.
        b.adopt(vec![store[2].clone()]).unwrap();
        assert!(!b.is_ahead());
        assert_eq!(b.unsaved(), None);
        assert_eq!(b.doc().get_heads(), a.doc().get_heads());

        // What the store holds loads whole to what both hold.
        let mut reloaded = StoredDocument::load(&Layout { tag: 0, snapshot: Vec::new(), chunks: store.clone() }, policy()).unwrap();
        assert!(missing_dependencies(reloaded.doc()).is_empty());
        assert_eq!(reloaded.doc().get_heads(), a.doc().get_heads());

        // Damaged bytes from the store (Automerge's incremental load skips what is no change)
        // change nothing memory holds or counts stored.
        let (durable, heads) = (b.durable().to_vec(), b.doc().get_heads());
        let _ = b.adopt(vec![(4, vec![0x85, 0x6f, 0x4a, 0x83, 9, 9])]);
        assert_eq!(b.doc().get_heads(), heads);
        assert_eq!(b.durable(), durable.as_slice());
        assert!(!b.is_ahead());
    }

    #[test]
    fn damaged_bytes_are_an_error_not_a_panic() {
        let layout = Layout { tag: 0, snapshot: vec![0x85, 0x6f, 0x4a, 0x83, 1, 2, 3], chunks: Vec::<(u32, Vec<u8>)>::new() };
        assert!(StoredDocument::load(&layout, CompactionPolicy::default()).is_err());
    }
}
