//! What a set of incoming changes touches in a unit ledger, decided from the changes' own
//! operations before any of them is applied: each operation names the object it works on and a
//! key in it, and the object's place in the document is found from the document (or from the
//! operation earlier in the same changes that made it). A change whose operations reach
//! anything but the parts a [`Write`] allows is refused whole.
//!
//! Patches after applying were the other way to see what changed; they are not used because
//! an operation that loses a conflict, or deletes nothing visible, shows in no patch and would
//! still sit in the document for ever.

use std::collections::{HashMap, HashSet};

use automerge::legacy::OpType;
use automerge::{AutoCommit, Change, ObjType, Prop, ReadDoc};

use crate::org::Write;
use crate::record::ChangeNote;

mod schema;
mod status;

pub use schema::{
    BOARD_ONLY_RESIDENTS, CASE_STEP_NOT_YOURS, NOTE_NOT_THE_RECORD, NOT_DELETED, NOT_IN_SCHEMA, NOT_ITS_KIND, NOT_THE_SENDER, RATINGS_ARE_RESIDENTS, REMARKS_ARE_SUPERVISORS,
    SECRETARY_ONLY_ASSIGN, SECRETARY_ONLY_PUBLISH, STRUCTURE_FIXED, SUPERVISORS_ONLY_REMARK, WRITTEN_WITH_THE_RECORD,
};
use status::StatusSteps;
pub use status::{SECRETARY_ONLY_CLOSE, STATUS_NOT_ALONG_THE_MACHINE, STATUS_NOT_A_CODE, STATUS_NOT_DELETED};

/// One step of a path in the document: a map key, or a position in a list or text.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Step {
    Key(String),
    Element,
}

/// Who sends a set of changes: what they may write, and the name their entries and change
/// notes must carry (the person whose device sent them).
#[derive(Debug, Clone, Copy)]
pub struct Sender<'a> {
    pub write: Write,
    pub name: &'a str,
}

/// Checks that `changes`, applied to `doc` in order, fit the ledger's schema and stay within
/// what `sender` may write. `doc` may already hold the changes (the phone checks its own after
/// making them); the verdict is the same.
pub fn check(doc: &AutoCommit, changes: &[Change], sender: Sender<'_>) -> Result<(), String> {
    if sender.write == Write::Nothing {
        return Err("没有写入这本台账的权限".into());
    }
    let skeleton = skeleton();
    let changes: Vec<&Change> = changes.iter().filter(|c| !skeleton.contains(&c.hash())).collect();
    let name = sender.name.trim();
    // A note is one line per item: the name is written there with its line breaks as spaces.
    let note_name = name.replace('\n', " ");
    let mut statuses = StatusSteps::default();
    walk(doc, &changes, |op, made| {
        if op.note.by != note_name {
            return Err(format!("{NOT_THE_SENDER}（修改记录署名“{}”）", op.note.by));
        }
        if let (Some((section, record)), [Step::Key(s), Step::Key(r), ..]) = (&op.note.record, op.path) {
            if section.key() != s || record.as_str() != r {
                return Err(format!("{NOTE_NOT_THE_RECORD}（{}）", schema::shown(op.path)));
            }
        }
        schema::fits(doc, op, made, sender.write, name)?;
        records_and_entries_stay(op, made)?;
        statuses.check(doc, op, &made.records, sender.write)
    })
}

/// The changes every ledger starts from (written by no device), computed once.
fn skeleton() -> &'static [automerge::ChangeHash] {
    static SKELETON: std::sync::OnceLock<Vec<automerge::ChangeHash>> = std::sync::OnceLock::new();
    SKELETON.get_or_init(crate::UnitLedger::skeleton_hashes)
}

/// One operation as the rules see it.
struct OpView<'a> {
    path: &'a [Step],
    action: &'a OpType,
    /// `counter@actor` of this op, and of the ops it overwrites.
    id: String,
    pred: Vec<String>,
    /// The heads the op's change was made on: what its author saw.
    deps: &'a [automerge::ChangeHash],
    /// The note of the op's change: who wrote it, and which record it names.
    note: &'a ChangeNote,
}

/// What these changes made so far: records (section, id), and every object by its path.
#[derive(Default)]
struct Made {
    records: HashSet<(String, String)>,
    paths: HashSet<Vec<Step>>,
}

/// Calls `rule` with each operation and what these changes made before it.
fn walk(doc: &AutoCommit, changes: &[&Change], mut rule: impl FnMut(&OpView<'_>, &Made) -> Result<(), String>) -> Result<(), String> {
    let mut made_here = Made::default();
    // Objects' paths: those made in these changes, and those located in the document once.
    let mut made: HashMap<String, Vec<Step>> = HashMap::new();
    for change in changes {
        let note = ChangeNote::parse(change.message().as_deref().unwrap_or_default());
        for (i, op) in change.decode().operations.iter().enumerate() {
            let object = match &op.obj {
                automerge::legacy::ObjectId::Root => Vec::new(),
                automerge::legacy::ObjectId::Id(id) => {
                    let id = id.to_string();
                    match made.get(&id) {
                        Some(path) => path.clone(),
                        // Located once per object: a typed note is an op per character.
                        None => {
                            let path = path_of(doc, &id)?;
                            made.insert(id, path.clone());
                            path
                        }
                    }
                }
            };
            let mut path = object;
            path.push(match &op.key {
                automerge::legacy::Key::Map(k) => Step::Key(k.to_string()),
                automerge::legacy::Key::Seq(_) => Step::Element,
            });
            if let (OpType::Make(_), [Step::Key(section), Step::Key(record)]) = (&op.action, path.as_slice()) {
                made_here.records.insert((section.clone(), record.clone()));
            }
            let id = format!("{}@{}", change.start_op().get() + i as u64, change.actor_id());
            let pred = op.pred.iter().map(|p| p.to_string()).collect();
            rule(&OpView { path: &path, action: &op.action, id: id.clone(), pred, deps: change.deps(), note: &note }, &made_here)?;
            if let OpType::Make(_) = op.action {
                made_here.paths.insert(path.clone());
                made.insert(id, path);
            }
        }
    }
    Ok(())
}

/// Whether the field at `path` (section, record, field) still holds a value once the ops
/// `deleted` are gone, as the deleting change's author saw it (`deps`).
fn value_left_after(doc: &AutoCommit, path: &[Step], deleted: &[String], deps: &[automerge::ChangeHash]) -> bool {
    let [Step::Key(section), Step::Key(record), Step::Key(field)] = path else { return false };
    let values = (|| {
        let (_, records) = doc.get_at(automerge::ROOT, section.as_str(), deps).ok()??;
        let (_, obj) = doc.get_at(&records, record.as_str(), deps).ok()??;
        doc.get_all_at(&obj, field.as_str(), deps).ok()
    })();
    values.is_some_and(|values| values.iter().any(|(_, id)| !deleted.contains(&id.to_string())))
}

/// The maps of a record that grow by entries (a log, 督办意见, evaluations, progress, survey
/// responses), each entry keyed by a random id, written once.
const ENTRY_MAPS: [&str; 11] = ["log", "supervision", "evaluations", "progress", "responses", "questions", "steps", "submissions", "reviews", "follow", "changes"];

/// The maps of a record whose items are edited in place (a draft plan's lists): an item is made
/// over nothing and never deleted (it is marked `deleted`), like a record.
const ITEM_MAPS: [&str; 3] = crate::unit_ledger::ITEM_LISTS;

/// Records and entries are only added, for every role: a record, an entry map or an entry is
/// made over nothing (an op that overwrites one replaces it: "the whole record map replaced"),
/// none of them is deleted (a record is marked deleted instead), and an entry's fields are
/// written only in the changes that make the entry (a remark's text, an evaluation's rating,
/// a log's `by` stay as written).
fn records_and_entries_stay(op: &OpView<'_>, made: &Made) -> Result<(), String> {
    let keys: Vec<&str> = op.path.iter().map(|s| if let Step::Key(k) = s { k.as_str() } else { "#" }).collect();
    let overwrites = !op.pred.is_empty();
    let entry_map = keys.get(2).is_some_and(|m| ENTRY_MAPS.contains(m));
    let item_map = keys.get(2).is_some_and(|m| ITEM_MAPS.contains(m));
    match (keys.len(), op.action) {
        (4, OpType::Make(_)) if item_map && overwrites => Err(RECORD_NOT_REPLACED.into()),
        (4, OpType::Delete) if item_map => Err(RECORD_NOT_DELETED.into()),
        (2, OpType::Make(_)) if overwrites => Err(RECORD_NOT_REPLACED.into()),
        (2, OpType::Delete) => Err(RECORD_NOT_DELETED.into()),
        (3 | 4, OpType::Make(ObjType::Map)) if entry_map && !overwrites => Ok(()),
        (3 | 4, _) if entry_map => Err(format!("{ENTRY_ONLY_ADDED}（{}）", keys.join("/"))),
        // A photo can be taken off a progress step later: photos must stay deletable.
        (6, OpType::Delete) if entry_map && keys[4] == "photos" => Ok(()),
        (n, _) if n >= 5 && entry_map && !made.paths.contains(&op.path[..4]) => Err(format!("{ENTRY_ONLY_ADDED}（{}）", keys[..4].join("/"))),
        _ => Ok(()),
    }
}

pub const RECORD_NOT_REPLACED: &str = "不能替换已有的记录";
pub const RECORD_NOT_DELETED: &str = "记录不能删除，只能标记为已删除";
pub const ENTRY_ONLY_ADDED: &str = "办理记录、督办意见和评议只能新增，不能修改或删除";

/// The path of an object (`counter@actor`) in the document.
fn path_of(doc: &AutoCommit, id: &str) -> Result<Vec<Step>, String> {
    let obj = doc.import_obj(id).map_err(|_| format!("修改了台账中不存在的对象 {id}"))?;
    let parents = doc.parents(&obj).map_err(|_| format!("修改了台账中不存在的对象 {id}"))?;
    let mut path: Vec<Step> = parents
        .map(|p| match p.prop {
            Prop::Map(k) => Step::Key(k),
            Prop::Seq(_) => Step::Element,
        })
        .collect();
    path.reverse();
    Ok(path)
}

#[cfg(test)]
mod board_tests;
#[cfg(test)]
mod media_tests;
#[cfg(test)]
mod office_tests;
#[cfg(test)]
mod schema_tests;
#[cfg(test)]
mod tests;
