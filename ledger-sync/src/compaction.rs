//! Keeping a document as one snapshot plus incremental chunks, and folding the chunks into a
//! fresh snapshot now and then: the storage policy and the one compaction state machine that the
//! browser (IndexedDB, where two tabs are two writers) and the server (SQLite) both follow.
//!
//! The rules that keep every stored change:
//! - A compaction starts from a [`Plan`]: the snapshot it found (named by its [`Tag`]) and
//!   exactly the chunks it will fold in. At most one runs at a time per [`Compactor`].
//! - The host builds the new snapshot from at least that snapshot and those chunks, then, in
//!   one storage transaction, checks [`Plan::may_replace`] against what storage holds *now*,
//!   writes the snapshot with the plan's new tag and deletes exactly the planned chunks.
//! - A snapshot written by anyone else in the meantime changed the tag, so a stale plan is
//!   refused ([`Outcome::Stale`]) and nothing is written: an older snapshot can never replace a
//!   newer one, and a chunk is deleted only by the compaction whose snapshot contains it.

/// Names one snapshot as written. Every compaction writes a fresh one; a document that has
/// never been compacted (or was written before tags existed) has tag 0.
pub type Tag = u64;

/// When to fold the chunks into a fresh snapshot. Loading many small chunks is slower than one
/// snapshot, and chunks repeat what a snapshot compresses away; compacting too often rewrites a
/// large snapshot for every small edit.
#[derive(Debug, Clone, Copy)]
pub struct CompactionPolicy {
    pub max_chunks: usize,
    /// Compact once the chunks add up to this fraction of the snapshot (in percent)...
    pub max_chunk_percent: usize,
    /// ...but never for less than this many chunk bytes.
    pub min_chunk_bytes: usize,
}

impl Default for CompactionPolicy {
    fn default() -> Self {
        Self { max_chunks: 64, max_chunk_percent: 50, min_chunk_bytes: 16 * 1024 }
    }
}

impl CompactionPolicy {
    pub fn should_compact(&self, chunk_count: usize, chunk_bytes: usize, snapshot_bytes: usize) -> bool {
        chunk_count > self.max_chunks || (chunk_bytes >= self.min_chunk_bytes && chunk_bytes * 100 > snapshot_bytes * self.max_chunk_percent)
    }
}

/// What one compaction folds: the snapshot it starts from and exactly the chunks it deletes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan<K> {
    pub id: u64,
    /// The snapshot the new one must contain (and may only replace).
    pub base: Tag,
    /// The chunks the new snapshot must contain; only these are deleted.
    pub chunks: Vec<K>,
    /// The tag to write with the new snapshot.
    pub new_tag: Tag,
}

impl<K: PartialEq> Plan<K> {
    /// The check a host makes inside the transaction that replaces the snapshot: the snapshot
    /// stored now must still be the plan's base, and every planned chunk must still be there.
    pub fn may_replace(&self, stored_tag: Tag, stored_chunks: &[K]) -> bool {
        stored_tag == self.base && self.chunks.iter().all(|c| stored_chunks.contains(c))
    }
}

/// How a compaction ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The snapshot was replaced and the planned chunks deleted; the new snapshot's size.
    Replaced { snapshot_bytes: usize },
    /// Storage no longer held the plan's base (another writer compacted): nothing was written.
    /// The host reloads the layout ([`Compactor::loaded`]) before the next plan.
    Stale,
    /// Storage failed: nothing was written; the chunks stay and a later plan tries again.
    Failed,
}

#[derive(Debug, Clone)]
struct Chunk<K> {
    key: K,
    bytes: usize,
}

/// One document's compaction state on one writer: what it knows storage holds, whether a
/// compaction is running, and when the next one is due.
#[derive(Debug, Clone)]
pub struct Compactor<K> {
    policy: CompactionPolicy,
    tag: Tag,
    snapshot_bytes: usize,
    chunks: Vec<Chunk<K>>,
    running: Option<Plan<K>>,
    next_plan: u64,
    /// Set when a plan came back stale: no new plan until the layout is reloaded.
    needs_reload: bool,
}

impl<K: Clone + PartialEq> Compactor<K> {
    pub fn new(policy: CompactionPolicy) -> Self {
        Self { policy, tag: 0, snapshot_bytes: 0, chunks: Vec::new(), running: None, next_plan: 1, needs_reload: false }
    }

    /// What storage holds, as just read: the snapshot's tag and size, and the chunks in order.
    /// A running compaction stays running (its result is still reported with `finished`).
    pub fn loaded(&mut self, tag: Tag, snapshot_bytes: usize, chunks: impl IntoIterator<Item = (K, usize)>) {
        self.tag = tag;
        self.snapshot_bytes = snapshot_bytes;
        self.chunks = chunks.into_iter().map(|(key, bytes)| Chunk { key, bytes }).collect();
        self.needs_reload = false;
    }

    /// This writer appended a chunk (its transaction committed).
    pub fn appended(&mut self, key: K, bytes: usize) {
        self.chunks.push(Chunk { key, bytes });
    }

    pub fn chunk_count(&self) -> usize {
        self.chunks.len()
    }

    pub fn chunk_bytes(&self) -> usize {
        self.chunks.iter().map(|c| c.bytes).sum()
    }

    pub fn tag(&self) -> Tag {
        self.tag
    }

    pub fn is_running(&self) -> bool {
        self.running.is_some()
    }

    /// Whether the policy asks for a compaction now (none running, none refused since the last
    /// reload).
    pub fn is_due(&self) -> bool {
        self.running.is_none() && !self.needs_reload && !self.chunks.is_empty() && self.policy.should_compact(self.chunks.len(), self.chunk_bytes(), self.snapshot_bytes)
    }

    /// Starts a compaction if one is due: the plan to carry out. `new_tag` is a fresh random
    /// tag from the host (the core has no randomness of its own), never 0.
    pub fn start(&mut self, new_tag: Tag) -> Option<Plan<K>> {
        if !self.is_due() {
            return None;
        }
        self.force_start(new_tag)
    }

    /// Starts a compaction of every known chunk whether or not the policy asks (an explicit
    /// request), unless one is running.
    pub fn force_start(&mut self, new_tag: Tag) -> Option<Plan<K>> {
        if self.running.is_some() || self.chunks.is_empty() {
            return None;
        }
        let new_tag = if new_tag == 0 || new_tag == self.tag { self.tag.wrapping_add(1).max(1) } else { new_tag };
        let plan = Plan { id: self.next_plan, base: self.tag, chunks: self.chunks.iter().map(|c| c.key.clone()).collect(), new_tag };
        self.next_plan += 1;
        self.running = Some(plan.clone());
        Some(plan)
    }

    /// The running compaction `plan_id` ended. A result for any other plan is ignored.
    pub fn finished(&mut self, plan_id: u64, outcome: Outcome) {
        let Some(plan) = self.running.take_if(|p| p.id == plan_id) else { return };
        match outcome {
            Outcome::Replaced { snapshot_bytes } => {
                self.tag = plan.new_tag;
                self.snapshot_bytes = snapshot_bytes;
                self.chunks.retain(|c| !plan.chunks.contains(&c.key));
            }
            Outcome::Stale => self.needs_reload = true,
            Outcome::Failed => {}
        }
    }
}

#[cfg(test)]
mod tests;
