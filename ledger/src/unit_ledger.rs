//! The unit ledger document (单位台账): one Automerge document per unit holding its visits
//! (and, as the ledger grows, problems, pledges, enterprise records and surveys).
//!
//! Schema, version 1:
//! ```text
//! ROOT { schema: 1, visits: { <RecordId>: Visit } }
//! Visit { date: "YYYY-MM-DD", kind: code, whom: str, place: str, heard: Text,
//!         opinions: Text, follow_up_needed: bool, follow_up: Text,
//!         created_at: ms, updated_at: ms, deleted: bool }
//! ```
//! Records live in a map keyed by random id, never in a list by position. Deletion is a
//! `deleted` flag rather than removing the key: a delete racing an edit on another phone keeps
//! the edit, and undo is just clearing the flag.

use automerge::{transaction::{CommitOptions, Transactable}, ActorId, AutoCommit, ChangeHash, ObjId, ObjType, ReadDoc, ScalarValue, ROOT};
use chrono::NaiveDate;

use crate::lenient::{FieldProblem, FieldReader};
use crate::writer::FieldWriter;
use crate::visit::{ValidVisit, Visit, VisitKind};
use crate::RecordId;

pub const SCHEMA_VERSION: u64 = 1;
const VISITS: &str = "visits";

#[derive(Debug, thiserror::Error)]
pub enum LedgerError {
    #[error("台账数据已损坏，无法打开：{0}")]
    Corrupt(#[from] automerge::AutomergeError),
    #[error("找不到这条记录")]
    NotFound,
    #[error("台账缺少 {0} 部分")]
    MissingSection(&'static str),
}

/// Reads a stored visit leniently: every field that cannot be read is reported and defaulted.
fn read_visit<D: ReadDoc>(doc: &D, obj: &ObjId, id: RecordId, problems: &mut Vec<FieldProblem>) -> Visit {
    let mut r = FieldReader::prefetched(doc, obj, id.as_str());
    let date = r.parsed("date", |s| NaiveDate::parse_from_str(s, "%Y-%m-%d").ok());
    let kind = r.parsed("kind", VisitKind::from_code).unwrap_or(VisitKind::Other);
    let visit = Visit {
        id,
        date,
        kind,
        whom: r.string("whom"),
        place: r.string("place"),
        heard: r.string("heard"),
        opinions: r.string("opinions"),
        follow_up_needed: r.bool("follow_up_needed"),
        follow_up: r.string("follow_up"),
        created_at: r.millis("created_at"),
        updated_at: r.millis("updated_at"),
        deleted: r.bool("deleted"),
    };
    problems.append(&mut r.problems);
    visit
}

/// Writes a validated visit's fields; unchanged fields add no operation.
fn write_visit(doc: &mut AutoCommit, obj: ObjId, v: &ValidVisit, now_ms: i64) -> Result<(), automerge::AutomergeError> {
    let mut w = FieldWriter::new(doc, obj);
    w.scalar("date", v.date.to_string())?;
    w.scalar("kind", v.kind.code())?;
    w.scalar("whom", v.whom.as_str())?;
    w.scalar("place", v.place.as_str())?;
    w.text("heard", &v.heard)?;
    w.text("opinions", &v.opinions)?;
    w.scalar("follow_up_needed", v.follow_up_needed)?;
    w.text("follow_up", &v.follow_up)?;
    w.scalar("updated_at", ScalarValue::Timestamp(now_ms))?;
    Ok(())
}

/// All visits of a ledger, plus every field that could not be read.
#[derive(Debug, Default)]
pub struct Visits {
    pub visits: Vec<Visit>,
    pub problems: Vec<FieldProblem>,
}

/// A unit's ledger document.
pub struct UnitLedger {
    doc: AutoCommit,
}

impl UnitLedger {
    /// A new, empty ledger whose changes are attributed to `actor`.
    ///
    /// The skeleton (schema version, the empty record maps) is written by one fixed actor at a
    /// fixed time, so every device that creates it produces the byte-identical first change:
    /// ledgers created independently offline then merge instead of fighting over whose
    /// `visits` map wins.
    pub fn create(actor: ActorId) -> Self {
        let mut doc = AutoCommit::new().with_actor(ActorId::from([0u8; 16]));
        doc.put(ROOT, "schema", SCHEMA_VERSION).expect("fresh document");
        doc.put_object(ROOT, VISITS, ObjType::Map).expect("fresh document");
        doc.commit_with(CommitOptions::default().with_time(0).with_message("台账初始化"));
        doc.set_actor(actor);
        Self { doc }
    }

    /// Opens a saved ledger (a snapshot, optionally followed by incremental chunks).
    pub fn load(bytes: &[u8], actor: ActorId) -> Result<Self, LedgerError> {
        let doc = AutoCommit::load(bytes)?.with_actor(actor);
        let ledger = Self { doc };
        ledger.visits_obj()?;
        Ok(ledger)
    }

    /// Merges more saved bytes (chunks from storage, or another device's save) into this ledger.
    pub fn load_incremental(&mut self, bytes: &[u8]) -> Result<(), LedgerError> {
        self.doc.load_incremental(bytes)?;
        Ok(())
    }

    pub fn merge(&mut self, other: &mut UnitLedger) -> Result<(), LedgerError> {
        self.doc.merge(&mut other.doc)?;
        Ok(())
    }

    /// A copy that writes as `actor`, for tests and what-if views.
    pub fn fork(&mut self, actor: ActorId) -> Self {
        Self { doc: self.doc.fork().with_actor(actor) }
    }

    /// Drops every change made after `heads` (used when a write could not be made durable, so
    /// memory never runs ahead of storage). Later changes get a fresh actor: the dropped
    /// change's sequence number must never be reused for different content.
    pub fn rollback_to(&mut self, heads: &[ChangeHash]) -> Result<(), LedgerError> {
        self.doc = self.doc.fork_at(heads)?.with_actor(ActorId::random());
        Ok(())
    }

    /// The changes after `heads`, in the incremental storage format.
    pub fn save_after(&mut self, heads: &[ChangeHash]) -> Vec<u8> {
        self.doc.save_after(heads)
    }

    /// The whole document, compressed.
    pub fn save(&mut self) -> Vec<u8> {
        self.doc.save()
    }

    /// The changes made or loaded since the last `save` or `save_incremental`.
    pub fn save_incremental(&mut self) -> Vec<u8> {
        self.doc.save_incremental()
    }

    pub fn heads(&mut self) -> Vec<ChangeHash> {
        self.doc.get_heads()
    }

    /// How many changes this ledger has beyond `heads` (what a peer is known to have).
    pub fn changes_since(&mut self, heads: &[ChangeHash]) -> usize {
        self.doc.get_changes_meta(heads).len()
    }

    pub fn actor(&self) -> &ActorId {
        self.doc.get_actor()
    }

    pub fn doc(&self) -> &AutoCommit {
        &self.doc
    }

    pub fn doc_mut(&mut self) -> &mut AutoCommit {
        &mut self.doc
    }

    fn visits_obj(&self) -> Result<ObjId, LedgerError> {
        match self.doc.get(ROOT, VISITS)? {
            Some((automerge::Value::Object(ObjType::Map), id)) => Ok(id),
            _ => Err(LedgerError::MissingSection(VISITS)),
        }
    }

    fn commit(&mut self, message: String, now_ms: i64) {
        self.doc.commit_with(CommitOptions::default().with_message(message).with_time(now_ms / 1000));
    }

    /// Adds a visit and returns its new id.
    pub fn add_visit(&mut self, visit: &ValidVisit, now_ms: i64) -> Result<RecordId, LedgerError> {
        let id = RecordId::random();
        let visits = self.visits_obj()?;
        let obj = self.doc.put_object(&visits, id.as_str(), ObjType::Map)?;
        self.doc.put(&obj, "created_at", ScalarValue::Timestamp(now_ms))?;
        self.doc.put(&obj, "deleted", false)?;
        write_visit(&mut self.doc, obj, visit, now_ms)?;
        self.commit(format!("新增走访 {id}"), now_ms);
        Ok(id)
    }

    /// Replaces a visit's fields with the edited ones; unchanged fields are left untouched, so
    /// they cannot clobber a concurrent edit made on another device.
    pub fn update_visit(&mut self, id: &RecordId, visit: &ValidVisit, now_ms: i64) -> Result<(), LedgerError> {
        let obj = self.visit_obj(id)?;
        write_visit(&mut self.doc, obj, visit, now_ms)?;
        self.commit(format!("修改走访 {id}"), now_ms);
        Ok(())
    }

    /// Marks a visit deleted (or restores it, for undo).
    pub fn set_visit_deleted(&mut self, id: &RecordId, deleted: bool, now_ms: i64) -> Result<(), LedgerError> {
        let obj = self.visit_obj(id)?;
        let mut w = FieldWriter::new(&mut self.doc, obj);
        w.scalar("deleted", deleted)?;
        w.scalar("updated_at", ScalarValue::Timestamp(now_ms))?;
        let verb = if deleted { "删除" } else { "恢复" };
        self.commit(format!("{verb}走访 {id}"), now_ms);
        Ok(())
    }

    fn visit_obj(&self, id: &RecordId) -> Result<ObjId, LedgerError> {
        let visits = self.visits_obj()?;
        match self.doc.get(&visits, id.as_str())? {
            Some((automerge::Value::Object(ObjType::Map), obj)) => Ok(obj),
            _ => Err(LedgerError::NotFound),
        }
    }

    /// One visit, deleted or not.
    pub fn visit(&self, id: &RecordId) -> Result<Visit, LedgerError> {
        let obj = self.visit_obj(id)?;
        Ok(read_visit(&self.doc, &obj, id.clone(), &mut Vec::new()))
    }

    /// Every visit in the ledger, including deleted ones (filters decide what to show).
    pub fn visits(&self) -> Visits {
        let mut out = Visits::default();
        let Ok(visits) = self.visits_obj() else {
            out.problems.push(FieldProblem { record: "ROOT".into(), field: VISITS, found: "missing".into() });
            return out;
        };
        out.visits.reserve(self.doc.length(&visits));
        for item in self.doc.map_range(&visits, ..) {
            let Some(id) = RecordId::parse(&item.key) else {
                out.problems.push(FieldProblem { record: item.key.to_string(), field: "id", found: "invalid id".into() });
                continue;
            };
            if !matches!(item.value, automerge::ValueRef::Object(ObjType::Map)) {
                out.problems.push(FieldProblem { record: id.to_string(), field: "visit", found: format!("{:?}", item.value) });
                continue;
            }
            out.visits.push(read_visit(&self.doc, &item.id(), id, &mut out.problems));
        }
        out
    }
}

#[cfg(test)]
mod tests;
