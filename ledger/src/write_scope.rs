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
use crate::problem::Status;

/// One step of a path in the document: a map key, or a position in a list or text.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Step {
    Key(String),
    Element,
}

/// Checks that `changes`, applied to `doc` in order, stay within `write`. `doc` may already
/// hold the changes (the phone checks its own after making them); the verdict is the same.
pub fn check(doc: &AutoCommit, changes: &[Change], write: Write) -> Result<(), String> {
    match write {
        Write::Nothing => Err("没有写入这本台账的权限".into()),
        Write::SupervisionOnly => walk(doc, changes, |op, made| {
            supervision_only(op.path, op.action)?;
            records_and_entries_stay(op, made)
        }),
        // Only an op that makes or deletes something, or writes a key these rules name, can
        // break them: changes with none (a text typed into a field, a scalar edited) skip
        // locating every op in the document.
        _ if !changes.iter().any(may_break_the_rules) => Ok(()),
        Write::Everything => {
            let mut statuses = StatusSteps::default();
            walk(doc, changes, |op, made| {
                records_and_entries_stay(op, made)?;
                statuses.check(doc, op, &made.records)
            })
        }
        Write::Cadre => {
            let mut statuses = StatusSteps::default();
            walk(doc, changes, |op, made| {
                records_and_entries_stay(op, made)?;
                cadre(op.path, op.action, &made.records)?;
                statuses.check(doc, op, &made.records)
            })
        }
    }
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
}

/// What these changes made so far: records (section, id), and every object by its path.
#[derive(Default)]
struct Made {
    records: HashSet<(String, String)>,
    paths: HashSet<Vec<Step>>,
}

/// Calls `rule` with each operation and what these changes made before it.
fn walk(doc: &AutoCommit, changes: &[Change], mut rule: impl FnMut(&OpView<'_>, &Made) -> Result<(), String>) -> Result<(), String> {
    let mut made_here = Made::default();
    // Objects' paths: those made in these changes, and those located in the document once.
    let mut made: HashMap<String, Vec<Step>> = HashMap::new();
    for change in changes {
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
            rule(&OpView { path: &path, action: &op.action, id: id.clone(), pred, deps: change.deps() }, &made_here)?;
            if let OpType::Make(_) = op.action {
                made_here.paths.insert(path.clone());
                made.insert(id, path);
            }
        }
    }
    Ok(())
}

/// A cadre (干部) writes everything but what is the secretary's (书记): naming or changing who is
/// responsible for a problem already raised (指派), and closing one (办结, 不予受理). Naming
/// someone while raising a problem is the cadre's own report, and is allowed.
fn cadre(path: &[Step], action: &OpType, new_records: &HashSet<(String, String)>) -> Result<(), String> {
    let [Step::Key(section), Step::Key(record), Step::Key(field)] = path else { return Ok(()) };
    if section != "problems" {
        return Ok(());
    }
    match field.as_str() {
        "responsible" if !new_records.contains(&(section.clone(), record.clone())) => Err(SECRETARY_ONLY_ASSIGN.into()),
        "status" => match action {
            OpType::Put(automerge::ScalarValue::Str(s)) if CLOSED.contains(&s.as_str()) => Err(SECRETARY_ONLY_CLOSE.into()),
            _ => Ok(()),
        },
        _ => Ok(()),
    }
}

/// Whether a change has an op the rules could refuse: one that makes or deletes an object or a
/// key, or writes a key the rules name (a status, who is responsible, a field of an entry, an
/// id-shaped key). Typing into a Text field and editing a record's own scalars have none.
fn may_break_the_rules(change: &Change) -> bool {
    change.decode().operations.iter().any(|op| match (&op.action, &op.key) {
        (OpType::Make(_), _) => true,
        (OpType::Delete, automerge::legacy::Key::Map(_)) => true,
        (_, automerge::legacy::Key::Map(k)) => k == "responsible" || k == "status" || ENTRY_FIELDS.contains(&k.as_str()) || crate::RecordId::parse(k).is_some(),
        _ => false,
    })
}

/// The maps of a record that grow by entries (a log, 督办意见, evaluations, progress, survey
/// responses), each entry keyed by a random id, written once.
const ENTRY_MAPS: [&str; 5] = ["log", "supervision", "evaluations", "progress", "responses"];
/// The fields an entry holds.
const ENTRY_FIELDS: [&str; 10] = ["at", "by", "kind", "text", "from", "to", "evaluator", "rating", "comment", "answers"];

/// Records and entries are only added, for every role: a record, an entry map or an entry is
/// made over nothing (an op that overwrites one replaces it: "the whole record map replaced"),
/// none of them is deleted (a record is marked deleted instead), and an entry's fields are
/// written only in the changes that make the entry (a remark's text, an evaluation's rating,
/// a log's `by` stay as written).
fn records_and_entries_stay(op: &OpView<'_>, made: &Made) -> Result<(), String> {
    let keys: Vec<&str> = op.path.iter().map(|s| if let Step::Key(k) = s { k.as_str() } else { "#" }).collect();
    let overwrites = !op.pred.is_empty();
    let entry_map = keys.get(2).is_some_and(|m| ENTRY_MAPS.contains(m));
    match (keys.len(), op.action) {
        (2, OpType::Make(_)) if overwrites => Err(RECORD_NOT_REPLACED.into()),
        (2, OpType::Delete) => Err(RECORD_NOT_DELETED.into()),
        (3 | 4, OpType::Make(ObjType::Map)) if entry_map && !overwrites => Ok(()),
        (3 | 4, _) if entry_map => Err(format!("{ENTRY_ONLY_ADDED}（{}）", keys.join("/"))),
        (n, _) if n >= 5 && entry_map && !made.paths.contains(&op.path[..4]) => Err(format!("{ENTRY_ONLY_ADDED}（{}）", keys[..4].join("/"))),
        _ => Ok(()),
    }
}

pub const RECORD_NOT_REPLACED: &str = "不能替换已有的记录";
pub const RECORD_NOT_DELETED: &str = "记录不能删除，只能标记为已删除";
pub const ENTRY_ONLY_ADDED: &str = "办理记录、督办意见和评议只能新增，不能修改或删除";

/// A problem's status is a plain string from its code list, and moves only along the machine
/// of [`crate::problem::Status`]: from the value each status op overwrites (its `pred`, found
/// in the document, in these changes, or in the document's history when another phone has
/// overwritten it since) to its own. A new status (nothing overwritten) only on a problem
/// made in these changes, as 待办. Text holding "resolved" is not a status the app would write,
/// and the desk would count it: refused.
#[derive(Default)]
struct StatusSteps {
    /// Status ops of these changes: op id → status.
    seen: HashMap<String, Status>,
}

impl StatusSteps {
    fn check(&mut self, doc: &AutoCommit, op: &OpView<'_>, new_records: &HashSet<(String, String)>) -> Result<(), String> {
        let [Step::Key(section), Step::Key(record), Step::Key(field)] = op.path else { return Ok(()) };
        if section != "problems" || field != "status" {
            return Ok(());
        }
        let to = match op.action {
            OpType::Put(automerge::ScalarValue::Str(s)) => Status::from_code(s).ok_or_else(|| format!("{STATUS_NOT_A_CODE}（“{s}”）"))?,
            // Automerge settles a conflict on a value already there by deleting the others:
            // allowed while a value the op leaves stays.
            OpType::Delete if status_left_after(doc, record, &op.pred, op.deps) => return Ok(()),
            OpType::Delete => return Err(STATUS_NOT_DELETED.into()),
            _ => return Err(STATUS_NOT_A_CODE.into()),
        };
        if op.pred.is_empty() {
            if !new_records.contains(&(section.clone(), record.clone())) || to != Status::Pending {
                return Err(STATUS_NOT_ALONG_THE_MACHINE.into());
            }
        }
        let from: Vec<Option<Status>> = op.pred.iter().map(|pred| self.seen.get(pred).copied().or_else(|| status_of_op(doc, record, pred, op.deps))).collect();
        // Choosing one of the values it overwrites settles a conflict (two phones stepped
        // differently offline): no step is taken. Otherwise each value it overwrites must lead
        // to it; a value that was never a status (an older or broken record) may be set right.
        if !from.contains(&Some(to)) {
            for from in from.into_iter().flatten() {
                if !to.follows(from) {
                    return Err(format!("{STATUS_NOT_ALONG_THE_MACHINE}（{} → {}）", from.label(), to.label()));
                }
            }
        }
        self.seen.insert(op.id.clone(), to);
        Ok(())
    }
}

/// The status an op (`counter@actor`) put on the problem `record`: as the document was when
/// the overwriting change was made (`deps`: what its author saw), else as it is now, else from
/// its history (rare: a change whose dependencies are not in the document yet). None when it
/// was no status.
fn status_of_op(doc: &AutoCommit, record: &str, op: &str, deps: &[automerge::ChangeHash]) -> Option<Status> {
    let found = |values: Vec<(automerge::Value<'_>, automerge::ObjId)>| values.iter().find(|(_, id)| id.to_string() == op).map(|(v, _)| v.as_str().and_then(Status::from_code));
    let at = |heads: Option<&[automerge::ChangeHash]>| -> Option<Option<Status>> {
        let problems = match heads {
            Some(h) => doc.get_at(automerge::ROOT, "problems", h),
            None => doc.get(automerge::ROOT, "problems"),
        };
        let (_, problems) = problems.ok()??;
        let record = match heads {
            Some(h) => doc.get_at(&problems, record, h),
            None => doc.get(&problems, record),
        };
        let (_, obj) = record.ok()??;
        match heads {
            Some(h) => found(doc.get_all_at(&obj, "status", h).ok()?),
            None => found(doc.get_all(&obj, "status").ok()?),
        }
    };
    if let Some(status) = at(Some(deps)).or_else(|| at(None)) {
        return status;
    }
    let (counter, actor) = op.split_once('@')?;
    let counter: u64 = counter.parse().ok()?;
    let mut history = doc.clone();
    for change in history.get_changes(&[]) {
        let start = change.start_op().get();
        if change.actor_id().to_hex_string() != actor || counter < start || counter >= start + change.len() as u64 {
            continue;
        }
        let decoded = change.decode();
        return match &decoded.operations.get((counter - start) as usize)?.action {
            OpType::Put(automerge::ScalarValue::Str(s)) => Status::from_code(s),
            _ => None,
        };
    }
    None
}

/// Whether the problem `record` still has a status once the ops `deleted` are gone, as the
/// deleting change's author saw it (`deps`).
fn status_left_after(doc: &AutoCommit, record: &str, deleted: &[String], deps: &[automerge::ChangeHash]) -> bool {
    let values = (|| {
        let (_, problems) = doc.get_at(automerge::ROOT, "problems", deps).ok()??;
        let (_, obj) = doc.get_at(&problems, record, deps).ok()??;
        doc.get_all_at(&obj, "status", deps).ok()
    })();
    values.is_some_and(|values| values.iter().any(|(_, id)| !deleted.contains(&id.to_string())))
}

pub const STATUS_NOT_A_CODE: &str = "办理状态必须是待办、办理中、已办结、已回访或不予受理之一";
pub const STATUS_NOT_DELETED: &str = "办理状态不能删除";
pub const STATUS_NOT_ALONG_THE_MACHINE: &str = "办理状态只能按办理流程一步步改变";

/// The statuses only a secretary sets: 已办结 and 不予受理.
const CLOSED: [&str; 2] = ["resolved", "rejected"];
pub const SECRETARY_ONLY_ASSIGN: &str = "只有书记可以指派或改派问题的责任人";
pub const SECRETARY_ONLY_CLOSE: &str = "只有书记可以办结问题或不予受理";

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

/// The parts a supervisor writes: `problems/<id>/supervision/<remark>/…` and
/// `pledges/<id>/evaluations/<evaluation>/…`. The map itself may only be made (never
/// overwritten or deleted) and a remark only added, not removed.
fn supervision_only(path: &[Step], action: &OpType) -> Result<(), String> {
    let key = |i: usize| match path.get(i) {
        Some(Step::Key(k)) => Some(k.as_str()),
        _ => None,
    };
    let allowed = matches!((key(0), key(2)), (Some("problems"), Some("supervision")) | (Some("pledges"), Some("evaluations"))) && key(1).is_some();
    let ok = allowed
        && match path.len() {
            3 | 4 => matches!(action, OpType::Make(ObjType::Map)),
            _ => !matches!(action, OpType::Delete) || path.len() > 5,
        };
    if ok {
        return Ok(());
    }
    let shown: Vec<&str> = path.iter().map(|s| if let Step::Key(k) = s { k.as_str() } else { "#" }).collect();
    Err(format!("督查只能写督办意见和评议，不能修改 {}", shown.join("/")))
}

#[cfg(test)]
mod tests;
