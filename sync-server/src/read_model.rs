//! The supervisor's read model in memory: each unit ledger's facts, read from storage the first
//! time the desk asks and kept current by every projection the hub commits after. The desk's
//! figures and lists are counted from these with `ledger::report`, never from the documents.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use ledger::org::Org;
use ledger::record::Section;
use ledger::report::{self, Facts, Update};
use ledger::{RecordId, UnitLedger};
use ledger_sync::DocumentId;

use crate::storage::{Projection, Storage, StoredFacts};

/// One ledger's facts by record, and when its last change reached the server.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LedgerFacts {
    pub records: HashMap<(Section, RecordId), Facts>,
    pub changed_at: Option<i64>,
}

impl From<StoredFacts> for LedgerFacts {
    fn from(s: StoredFacts) -> Self {
        Self { records: s.records.into_iter().map(|(section, id, f)| ((section, id), f)).collect(), changed_at: s.changed_at }
    }
}

impl LedgerFacts {
    pub fn apply(&mut self, update: &Update) {
        match update {
            Update::All(records) => {
                self.records = records.iter().map(|r| ((r.section(), r.id().clone()), r.facts())).collect();
            }
            Update::Records { changed, gone } => {
                for r in changed {
                    self.records.insert((r.section(), r.id().clone()), r.facts());
                }
                for key in gone {
                    self.records.remove(key);
                }
            }
        }
    }

    pub fn facts(&self) -> impl Iterator<Item = &Facts> {
        self.records.values()
    }
}

#[derive(Default)]
struct State {
    ledgers: HashMap<DocumentId, Arc<LedgerFacts>>,
    /// Projections committed per ledger since the process started: a ledger read from storage
    /// while one committed is not cached (it may lack it).
    generation: HashMap<DocumentId, u64>,
}

pub struct ReadModel {
    storage: Arc<Storage>,
    state: Mutex<State>,
}

impl ReadModel {
    pub fn new(storage: Arc<Storage>) -> Self {
        Self { storage, state: Mutex::default() }
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A projection of `doc` committed (called under the document's lock, after the commit).
    pub fn committed(&self, doc: &DocumentId, p: &Projection) {
        let mut state = self.state();
        *state.generation.entry(*doc).or_default() += 1;
        if let Some(entry) = state.ledgers.get_mut(doc) {
            let facts = Arc::make_mut(entry);
            facts.apply(&p.update);
            facts.changed_at = Some(facts.changed_at.unwrap_or(0).max(p.at));
        }
    }

    /// Another process committed to `doc`: its facts are read from storage next time.
    pub fn forget(&self, doc: &DocumentId) {
        let mut state = self.state();
        *state.generation.entry(*doc).or_default() += 1;
        state.ledgers.remove(doc);
    }

    /// The ledger's facts as committed.
    pub fn facts(&self, doc: &DocumentId) -> Result<Arc<LedgerFacts>, String> {
        for _ in 0..3 {
            let generation = {
                let state = self.state();
                if let Some(f) = state.ledgers.get(doc) {
                    return Ok(f.clone());
                }
                state.generation.get(doc).copied().unwrap_or(0)
            };
            let facts = Arc::new(LedgerFacts::from(self.storage.stored_facts(doc)?));
            let mut state = self.state();
            if state.generation.get(doc).copied().unwrap_or(0) == generation {
                state.ledgers.insert(*doc, facts.clone());
                return Ok(facts);
            }
        }
        // A ledger changing faster than it can be read: answer from storage, uncached.
        Ok(Arc::new(LedgerFacts::from(self.storage.stored_facts(doc)?)))
    }
}

impl ReadModel {
    /// The ledger's facts without keeping them: from memory when they are there, else read from
    /// storage and dropped after use (an export walks every ledger once; caching them all would
    /// make its memory grow with the records).
    pub fn facts_passing(&self, doc: &DocumentId) -> Result<Arc<LedgerFacts>, String> {
        if let Some(f) = self.state().ledgers.get(doc) {
            return Ok(f.clone());
        }
        Ok(Arc::new(LedgerFacts::from(self.storage.stored_facts(doc)?)))
    }
}

/// Projects one stored ledger from scratch: its rows are replaced by what the document holds.
pub(crate) fn project_from_storage(storage: &Storage, doc: &DocumentId) -> Result<(), String> {
    let Some(layout) = storage.load(doc)? else { return Ok(()) };
    let mut ledger = UnitLedger::load(&layout.concatenated(), automerge::ActorId::random()).map_err(|e| e.to_string())?;
    let heads = ledger.heads();
    let update = report::update_since(&mut ledger, None);
    // `at` 0 keeps the time the last change reached the server, if one is stored.
    storage.project(doc, &Projection { update, heads, at: 0 })
}

/// Rebuilds the read model of every unit ledger from the documents (`sync-server
/// rebuild-read-model`, with the server stopped). Returns how many ledgers were projected.
pub fn rebuild(storage: &Storage, org: &Org) -> Result<usize, String> {
    let mut n = 0;
    for unit in org.units.values() {
        let Some(ledger) = unit.ledger.as_deref().and_then(|l| DocumentId::parse(l).ok()) else { continue };
        project_from_storage(storage, &ledger).map_err(|e| format!("{}: {e}", unit.name))?;
        n += 1;
    }
    Ok(n)
}

#[cfg(test)]
mod tests;
