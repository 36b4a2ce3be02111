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
#[derive(Debug, Clone, PartialEq, Eq)]
enum Step {
    Key(String),
    Element,
}

/// Checks that `changes`, applied to `doc` in order, stay within `write`. `doc` may already
/// hold the changes (the phone checks its own after making them); the verdict is the same.
pub fn check(doc: &AutoCommit, changes: &[Change], write: Write) -> Result<(), String> {
    match write {
        Write::Nothing => Err("没有写入这本台账的权限".into()),
        Write::SupervisionOnly => walk(doc, changes, |op, _| supervision_only(op.path, op.action)),
        // Only an op on a `responsible` or `status` key can break these rules: changes with
        // none (nearly all a phone sends) skip locating every op in the document.
        _ if !changes.iter().any(touches_secretary_keys) => Ok(()),
        Write::Everything => {
            let mut statuses = StatusSteps::default();
            walk(doc, changes, |op, new_records| statuses.check(doc, op, new_records))
        }
        Write::Cadre => {
            let mut statuses = StatusSteps::default();
            walk(doc, changes, |op, new_records| {
                cadre(op.path, op.action, new_records)?;
                statuses.check(doc, op, new_records)
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

/// Calls `rule` with each operation and the records made in these changes.
fn walk(doc: &AutoCommit, changes: &[Change], mut rule: impl FnMut(&OpView<'_>, &HashSet<(String, String)>) -> Result<(), String>) -> Result<(), String> {
    // Objects' paths: those made in these changes, and those located in the document once.
    let mut made: HashMap<String, Vec<Step>> = HashMap::new();
    // (section, record id) of the records these changes make.
    let mut new_records: HashSet<(String, String)> = HashSet::new();
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
                new_records.insert((section.clone(), record.clone()));
            }
            let id = format!("{}@{}", change.start_op().get() + i as u64, change.actor_id());
            let pred = op.pred.iter().map(|p| p.to_string()).collect();
            rule(&OpView { path: &path, action: &op.action, id: id.clone(), pred, deps: change.deps() }, &new_records)?;
            if let OpType::Make(_) = op.action {
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

fn touches_secretary_keys(change: &Change) -> bool {
    change.decode().operations.iter().any(|op| matches!(&op.key, automerge::legacy::Key::Map(k) if k == "responsible" || k == "status"))
}

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
