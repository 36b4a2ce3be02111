//! The unit ledger document (单位台账): one Automerge document per unit holding its visits,
//! problems, served enterprises, pledges and satisfaction surveys.
//!
//! Schema, version 4:
//! ```text
//! ROOT { schema: 4, visits: {id: Visit}, problems: {id: Problem}, enterprises: {id: Enterprise},
//!        pledges: {id: Pledge}, surveys: {id: Survey}, posts: {id: Post}, ratings: {id: Rating},
//!        plans: {round id: Plan}, rules: {id: Rule}, rounds: {id: Round}, notices: {id: Notice} }
//! ```
//! (each record's fields are listed in its `unit_ledger/*.rs` file). Records live in maps keyed
//! by random id, never in lists by position, and so do the logs inside a record. Deletion is a
//! `deleted` flag rather than removing the key: a delete racing an edit on another phone keeps
//! the edit, and undo is just clearing the flag. Every change's message is a [`ChangeNote`]
//! naming the record and the author, which makes the document's history the audit trail.

use automerge::{
    transaction::{CommitOptions, Transactable},
    ActorId, AutoCommit, ChangeHash, ObjId, ObjType, ReadDoc, ScalarValue, Value, ROOT,
};

use crate::lenient::{map_records, FieldProblem};
use crate::record::{field_label, ChangeNote, Field, FieldKind, HistoryEntry, Section};
use crate::writer::{Change, FieldWriter};
use crate::RecordId;

mod enterprises;
mod media;
mod office;
mod plans;
mod pledges;
mod posts;
mod problems;
mod ratings;
mod rules;
mod surveys;
mod visits;

pub use enterprises::ENTERPRISE_FIELDS;
pub use media::{read_location, read_photos, MEDIA_SECTIONS};
pub use office::{check_notice, Notice, OfficeRound, RoundKind, NOTICE_FIELDS, ROUND_FIELDS};
pub use plans::{part_key, PlanRound, ITEM_LISTS, PLAN_FIELDS};
pub use pledges::PLEDGE_FIELDS;
pub use posts::POST_FIELDS;
pub use problems::PROBLEM_FIELDS;
pub use ratings::RATING_FIELDS;
pub use rules::{RuleDraft, RULE_FIELDS};
pub use surveys::{SatisfactionRound, SURVEY_FIELDS};
pub use visits::{Visits, VISIT_FIELDS};

pub const SCHEMA_VERSION: u64 = 4;
/// The sections schema version 2 added to the version 1 skeleton (which had only visits).
const V2_SECTIONS: [Section; 4] = [Section::Problems, Section::Enterprises, Section::Pledges, Section::Surveys];
/// The sections schema version 3 added: the public board's posts and residents' ratings.
const V3_SECTIONS: [Section; 2] = [Section::Posts, Section::Ratings];
/// The sections schema version 4 added: what the campaign office sends and the unit's rules.
const V4_SECTIONS: [Section; 4] = [Section::Plans, Section::Rules, Section::Rounds, Section::Notices];

#[derive(Debug, thiserror::Error)]
pub enum LedgerError {
    #[error("台账数据已损坏，无法打开：{0}")]
    Corrupt(#[from] automerge::AutomergeError),
    #[error("找不到这条记录")]
    NotFound,
    #[error("台账缺少 {0} 部分")]
    MissingSection(&'static str),
    #[error("{0}")]
    Invalid(String),
}

/// Records of one section as read, plus every field that could not be read.
#[derive(Debug)]
pub struct Records<T> {
    pub records: Vec<T>,
    pub problems: Vec<FieldProblem>,
}

impl<T> Default for Records<T> {
    fn default() -> Self {
        Self { records: Vec::new(), problems: Vec::new() }
    }
}

/// A unit's ledger document.
pub struct UnitLedger {
    doc: AutoCommit,
    /// The name written into change notes and log entries (the person using this device).
    author: String,
}

/// The text of a log entry (进展, 督办意见): trimmed, not empty, within the limit.
fn entry_text<'a>(text: &'a str, what: &str) -> Result<&'a str, LedgerError> {
    let text = text.trim();
    if text.is_empty() {
        return Err(LedgerError::Invalid(format!("请写下{what}")));
    }
    let max = crate::problem::MAX_PROGRESS;
    if text.chars().count() > max {
        return Err(LedgerError::Invalid(format!("{what}最多 {max} 字")));
    }
    Ok(text)
}

impl UnitLedger {
    /// A new, empty ledger whose changes are attributed to `actor`.
    ///
    /// The skeleton (schema version, the empty record maps) is written by one fixed actor at a
    /// fixed time, so every device that creates it produces byte-identical changes: ledgers
    /// created independently offline then merge instead of fighting over whose `visits` map
    /// wins. Version 1 wrote one such change; version 2 adds a second on top of it.
    pub fn create(actor: ActorId) -> Self {
        let mut doc = AutoCommit::new().with_actor(ActorId::from([0u8; 16]));
        doc.put(ROOT, "schema", 1u64).expect("fresh document");
        doc.put_object(ROOT, Section::Visits.key(), ObjType::Map).expect("fresh document");
        doc.commit_with(CommitOptions::default().with_time(0).with_message("台账初始化"));
        Self::write_v2_skeleton(&mut doc);
        Self::write_v3_skeleton(&mut doc);
        Self::write_v4_skeleton(&mut doc);
        doc.set_actor(actor);
        Self { doc, author: String::new() }
    }

    /// Reads a document someone else owns (the server's copy under its lock) as a ledger, for
    /// as long as `read` runs; the document is handed back even if `read` panics.
    pub fn reading<R>(doc: &mut AutoCommit, read: impl FnOnce(&mut UnitLedger) -> R) -> R {
        struct HandBack<'a> {
            owner: &'a mut AutoCommit,
            ledger: UnitLedger,
        }
        impl Drop for HandBack<'_> {
            fn drop(&mut self) {
                std::mem::swap(self.owner, &mut self.ledger.doc);
            }
        }
        let doc_taken = std::mem::take(doc);
        let mut guard = HandBack { owner: doc, ledger: UnitLedger { doc: doc_taken, author: String::new() } };
        read(&mut guard.ledger)
    }

    /// The hashes of the skeleton changes every ledger starts from, written by the all-zero
    /// actor that no device owns (the server accepts that actor's changes only if they are these).
    pub fn skeleton_hashes() -> Vec<ChangeHash> {
        let mut skeleton = Self::create(ActorId::from([0u8; 16]));
        skeleton.doc.get_changes(&[]).iter().map(|c| c.hash()).collect()
    }

    fn write_v2_skeleton(doc: &mut AutoCommit) {
        doc.put(ROOT, "schema", 2u64).expect("skeleton");
        for section in V2_SECTIONS {
            doc.put_object(ROOT, section.key(), ObjType::Map).expect("skeleton");
        }
        doc.commit_with(CommitOptions::default().with_time(0).with_message("台账升级：问题、企业、承诺、测评"));
    }

    fn write_v3_skeleton(doc: &mut AutoCommit) {
        doc.put(ROOT, "schema", 3u64).expect("skeleton");
        for section in V3_SECTIONS {
            doc.put_object(ROOT, section.key(), ObjType::Map).expect("skeleton");
        }
        doc.commit_with(CommitOptions::default().with_time(0).with_message("台账升级：岗位、好差评"));
    }

    fn write_v4_skeleton(doc: &mut AutoCommit) {
        doc.put(ROOT, "schema", SCHEMA_VERSION).expect("skeleton");
        for section in V4_SECTIONS {
            doc.put_object(ROOT, section.key(), ObjType::Map).expect("skeleton");
        }
        doc.commit_with(CommitOptions::default().with_time(0).with_message("台账升级：实施方案、制度、工作轮次、通报"));
    }

    /// Opens a saved ledger (a snapshot, optionally followed by incremental chunks). A version 1
    /// ledger opens as it is; call [`UnitLedger::upgrade`] once all its chunks are in.
    pub fn load(bytes: &[u8], actor: ActorId) -> Result<Self, LedgerError> {
        let doc = AutoCommit::load(bytes)?.with_actor(actor);
        let ledger = Self { doc, author: String::new() };
        ledger.section(Section::Visits)?;
        Ok(ledger)
    }

    /// Brings a version 1 ledger to the current schema by merging the same deterministic
    /// skeleton change every device makes, so upgrades on many phones are one change, not a
    /// conflict. Returns whether anything changed (the caller then saves).
    pub fn upgrade(&mut self) -> Result<bool, LedgerError> {
        if V2_SECTIONS.iter().chain(&V3_SECTIONS).chain(&V4_SECTIONS).all(|s| self.section(*s).is_ok()) {
            return Ok(false);
        }
        let mut skeleton = Self::create(ActorId::from([0u8; 16]));
        let genesis = skeleton.doc.get_changes(&[]).first().map(|c| c.hash()).expect("skeleton has changes");
        if self.doc.get_change_meta_by_hash(&genesis).is_none() {
            // Someone else's document: merging our skeleton would only make conflicts.
            return Err(LedgerError::MissingSection("problems"));
        }
        self.doc.merge(&mut skeleton.doc)?;
        Ok(true)
    }

    /// The name written into what this device changes from now on.
    pub fn set_author(&mut self, name: &str) {
        self.author = name.trim().to_owned();
    }

    pub fn author(&self) -> &str {
        &self.author
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
        Self { doc: self.doc.fork().with_actor(actor), author: self.author.clone() }
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
    /// How many records were written since `heads` (what the server is known to have): the
    /// "N 条未上传" a person reads. Several edits of one record count once; a change that names
    /// no record (written by another implementation) counts on its own.
    pub fn records_changed_since(&mut self, heads: &[ChangeHash]) -> usize {
        let mut records = std::collections::HashSet::new();
        let mut unnamed = 0;
        for meta in self.doc.get_changes_meta(heads) {
            match meta.message.as_deref().map(ChangeNote::parse).and_then(|n| n.record) {
                Some(record) => {
                    records.insert(record);
                }
                None => unnamed += 1,
            }
        }
        records.len() + unnamed
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

    pub(crate) fn section(&self, section: Section) -> Result<ObjId, LedgerError> {
        match self.doc.get(ROOT, section.key())? {
            Some((Value::Object(ObjType::Map), id)) => Ok(id),
            _ => Err(LedgerError::MissingSection(section.key())),
        }
    }

    fn record_obj(&self, section: Section, id: &RecordId) -> Result<ObjId, LedgerError> {
        let map = self.section(section)?;
        match self.doc.get(&map, id.as_str())? {
            Some((Value::Object(ObjType::Map), obj)) => Ok(obj),
            _ => Err(LedgerError::NotFound),
        }
    }

    /// Starts a new record in `section`: a map under a fresh random id, with every text field
    /// of its table in place (empty), so two phones that fill one in offline (two people
    /// rejecting a problem, each with a reason) edit one text and merge instead of each making
    /// its own and one silently winning.
    fn new_record(&mut self, section: Section, now_ms: i64) -> Result<(RecordId, ObjId), LedgerError> {
        let id = RecordId::random();
        let map = self.section(section)?;
        let obj = self.doc.put_object(&map, id.as_str(), ObjType::Map)?;
        self.doc.put(&obj, "created_at", ScalarValue::Timestamp(now_ms))?;
        self.doc.put(&obj, "deleted", false)?;
        for field in section.fields().iter().filter(|f| f.kind == crate::record::FieldKind::Text) {
            self.doc.put_object(&obj, field.key, ObjType::Text)?;
        }
        Ok((id, obj))
    }

    /// Appends an entry to the log map `log` of a record, written once and never edited.
    fn add_entry(&mut self, log: &ObjId, now_ms: i64, fields: &[(&str, ScalarValue)]) -> Result<RecordId, LedgerError> {
        let id = RecordId::random();
        let entry = self.doc.put_object(log, id.as_str(), ObjType::Map)?;
        self.doc.put(&entry, "at", ScalarValue::Timestamp(now_ms))?;
        self.doc.put(&entry, "by", self.author.as_str())?;
        for (field, value) in fields {
            self.doc.put(&entry, *field, value.clone())?;
        }
        Ok(id)
    }

    /// Posts a progress entry (进展) to the log map `log` of a record.
    fn post_progress(&mut self, section: Section, id: &RecordId, log: &'static str, text: &str, now_ms: i64) -> Result<(), LedgerError> {
        self.post_progress_entry(section, id, log, text, now_ms)?;
        self.commit("记录进展".into(), Some((section, id.clone())), now_ms);
        Ok(())
    }

    /// Writes a progress entry without committing; returns the entry.
    fn post_progress_entry(&mut self, section: Section, id: &RecordId, log: &'static str, text: &str, now_ms: i64) -> Result<ObjId, LedgerError> {
        let text = entry_text(text, "进展")?;
        let obj = self.record_obj(section, id)?;
        let log = self.record_map(&obj, log)?;
        let entry = self.add_entry(&log, now_ms, &[("kind", crate::problem::log_kind::PROGRESS.into()), ("text", text.into())])?;
        self.doc.put(&obj, "updated_at", ScalarValue::Timestamp(now_ms))?;
        match self.doc.get(&log, entry.as_str())? {
            Some((_, entry)) => Ok(entry),
            None => Err(LedgerError::NotFound),
        }
    }

    /// The nested map `field` of a record (created with the record).
    fn record_map(&self, record: &ObjId, field: &'static str) -> Result<ObjId, LedgerError> {
        match self.doc.get(record, field)? {
            Some((Value::Object(ObjType::Map), id)) => Ok(id),
            _ => Err(LedgerError::MissingSection(field)),
        }
    }

    fn commit(&mut self, summary: String, record: Option<(Section, RecordId)>, now_ms: i64) {
        let note = ChangeNote { summary, record, by: self.author.clone() };
        self.doc.commit_with(CommitOptions::default().with_message(note.encode()).with_time(now_ms / 1000));
    }

    /// Commits an edit of a record, naming the fields that changed; an edit that changed
    /// nothing commits nothing.
    fn commit_edit(&mut self, section: Section, id: &RecordId, changed: &[Change], table: &[Field], now_ms: i64) {
        if changed.is_empty() {
            return;
        }
        let parts: Vec<String> = changed.iter().filter(|c| c.field != "updated_at").map(|c| describe_change(section, table, c)).collect();
        self.commit(format!("修改{}：{}", section.noun(), parts.join("；")), Some((section, id.clone())), now_ms);
    }

    /// Marks a record deleted (or restores it, for undo).
    pub fn set_deleted(&mut self, section: Section, id: &RecordId, deleted: bool, now_ms: i64) -> Result<(), LedgerError> {
        let obj = self.record_obj(section, id)?;
        let mut w = FieldWriter::new(&mut self.doc, obj);
        w.scalar("deleted", deleted)?;
        w.scalar("updated_at", ScalarValue::Timestamp(now_ms))?;
        let verb = if deleted { "删除" } else { "恢复" };
        self.commit(format!("{verb}{}", section.noun()), Some((section, id.clone())), now_ms);
        Ok(())
    }

    /// Settles a field two people set differently: `value` (one of the conflict's values)
    /// becomes the only one.
    pub fn resolve_conflict(&mut self, section: Section, id: &RecordId, field: &str, value: &str, now_ms: i64) -> Result<(), LedgerError> {
        let obj = self.record_obj(section, id)?;
        let chosen = self
            .doc
            .get_all(&obj, field)?
            .into_iter()
            .find_map(|(v, _)| match v {
                Value::Scalar(s) if s.as_str() == Some(value) || s.to_string() == value => Some(s.into_owned()),
                _ => None,
            })
            .ok_or_else(|| LedgerError::Invalid("这个值已不在冲突之中，请刷新后再选".into()))?;
        self.doc.put(&obj, field, chosen)?;
        self.doc.put(&obj, "updated_at", ScalarValue::Timestamp(now_ms))?;
        let label = field_label(section.fields(), field);
        self.commit(format!("两人同时改了{label}，选定「{}」", note_value(&section.describe_value(field, value))), Some((section, id.clone())), now_ms);
        Ok(())
    }

    /// The records the changes after `before` touched, as their change notes name them, so a
    /// phone that merged a few changes from another device re-reads those records instead of
    /// all of them (Automerge's own `diff` walks the whole document: as slow as re-reading it).
    /// None when a change names no record (another kind of peer, a schema upgrade): re-read all.
    /// Every change this app makes touches exactly the record its note names.
    pub fn changed_records(&mut self, before: &[ChangeHash]) -> Option<Vec<(Section, RecordId)>> {
        if before.iter().any(|h| self.doc.get_change_meta_by_hash(h).is_none()) {
            return None;
        }
        let mut out: Vec<(Section, RecordId)> = Vec::new();
        for meta in self.doc.get_changes_meta(before) {
            let (section, id) = ChangeNote::parse(meta.message.as_deref()?).record?;
            if !out.iter().any(|(s, i)| *s == section && *i == id) {
                out.push((section, id));
            }
        }
        Some(out)
    }

    /// Who changed a record, and when, from the document's own change history; oldest first.
    pub fn history(&mut self, id: &RecordId) -> Vec<HistoryEntry> {
        let mut out: Vec<HistoryEntry> = self
            .doc
            .get_changes_meta(&[])
            .into_iter()
            .filter_map(|meta| {
                let message = meta.message.as_deref()?;
                let note = ChangeNote::parse(message);
                note.concerns(message, id).then(|| HistoryEntry {
                    at_seconds: meta.timestamp,
                    by: note.by,
                    summary: note.summary.replace(id.as_str(), "").trim().to_owned(),
                    device: meta.actor.to_hex_string().chars().take(8).collect(),
                })
            })
            .collect();
        crate::order::sort_by_key(&mut out, |h| h.at_seconds);
        out
    }

    /// Who set each value of a field two people set differently: (stored value, author) in the
    /// order [`crate::record::Conflict::values`] lists them; an author unknown (a change from
    /// another implementation) is "".
    pub fn conflict_authors(&mut self, section: Section, id: &RecordId, field: &str) -> Vec<(String, String)> {
        let Ok(obj) = self.record_obj(section, id) else { return Vec::new() };
        let set: Vec<(String, Option<(u64, ActorId)>)> = self
            .doc
            .get_all(&obj, field)
            .unwrap_or_default()
            .into_iter()
            .map(|(value, op)| {
                let value = crate::lenient::conflict_value(&value);
                let op = match op {
                    ObjId::Id(counter, actor, _) => Some((counter, actor)),
                    ObjId::Root => None,
                };
                (value, op)
            })
            .collect();
        let changes = self.doc.get_changes_meta(&[]);
        set.into_iter()
            .map(|(value, op)| {
                let by = op
                    .and_then(|(counter, actor)| changes.iter().find(|c| *c.actor == actor && c.start_op <= counter && counter <= c.max_op))
                    .and_then(|c| c.message.as_deref().map(|m| ChangeNote::parse(m).by))
                    .unwrap_or_default();
                (value, by)
            })
            .collect()
    }

    /// Who deleted the record, and when: the last 删除 in its history, if it is deleted now.
    pub fn deletion(&mut self, section: Section, id: &RecordId) -> Option<HistoryEntry> {
        let obj = self.record_obj(section, id).ok()?;
        let deleted = matches!(self.doc.get(&obj, "deleted"), Ok(Some((Value::Scalar(s), _))) if s.as_bool() == Some(true));
        if !deleted {
            return None;
        }
        self.history(id).into_iter().rev().find(|h| h.summary.starts_with("删除"))
    }

    /// Reads every record of a section with `read`, collecting what could not be read.
    fn read_section<T>(&self, section: Section, read: impl Fn(&AutoCommit, &ObjId, RecordId, &mut Vec<FieldProblem>) -> T) -> Records<T> {
        let mut out = Records::default();
        let Ok(map) = self.section(section) else {
            out.problems.push(FieldProblem { record: "ROOT".into(), field: section.key(), found: "missing".into() });
            return out;
        };
        for (id, obj) in map_records(&self.doc, &map, section.key(), &mut out.problems) {
            out.records.push(read(&self.doc, &obj, id, &mut out.problems));
        }
        out
    }
}

/// One field of an edit as its history line reads: "问题标题「旧」→「新」". Links and flag maps
/// name the field only (an id, or a set of flags, says nothing to a person).
fn describe_change(section: Section, table: &[Field], change: &Change) -> String {
    let label = field_label(table, &change.field);
    let kind = table.iter().find(|f| f.key == change.field).map(|f| f.kind);
    if matches!(kind, Some(FieldKind::Link | FieldKind::Flags)) {
        return label.to_owned();
    }
    let shown = |v: &str| note_value(&section.describe_value(&change.field, v));
    format!("{label}「{}」→「{}」", shown(&change.before), shown(&change.after))
}

/// A value as a change note quotes it: one line, at most [`NOTE_VALUE_CHARS`] characters. The
/// note is a line of history, not a copy of the record: the record holds the whole text.
fn note_value(value: &str) -> String {
    let line: String = value.split_whitespace().collect::<Vec<_>>().join(" ");
    if line.chars().count() <= NOTE_VALUE_CHARS {
        return line;
    }
    let mut cut: String = line.chars().take(NOTE_VALUE_CHARS).collect();
    cut.push('…');
    cut
}

const NOTE_VALUE_CHARS: usize = 24;

#[cfg(test)]
mod field_table_tests;
#[cfg(test)]
mod merge_props;
#[cfg(test)]
mod merge_tests;
#[cfg(test)]
mod tests;

/// Who made what: the actor that created an object is part of its id, and the server binds
/// every actor to the device that first sent it, so these answer "whose phone wrote this".
impl UnitLedger {
    /// The actor whose change created the record.
    pub fn creator(&self, section: Section, id: &RecordId) -> Option<ActorId> {
        match self.record_obj(section, id).ok()? {
            ObjId::Id(_, actor, _) => Some(actor),
            ObjId::Root => None,
        }
    }

    /// The actor whose change wrote one entry of a record's log (`list` is the log's field).
    pub fn entry_creator(&self, section: Section, id: &RecordId, list: &'static str, entry: &RecordId) -> Option<ActorId> {
        let record = self.record_obj(section, id).ok()?;
        let log = self.record_map(&record, list).ok()?;
        match self.doc.get(&log, entry.as_str()).ok()?? {
            (Value::Object(ObjType::Map), ObjId::Id(_, actor, _)) => Some(actor),
            _ => None,
        }
    }
}
