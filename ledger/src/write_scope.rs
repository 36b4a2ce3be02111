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
        Write::Everything => Ok(()),
        Write::Nothing => Err("没有写入这本台账的权限".into()),
        Write::SupervisionOnly => walk(doc, changes, |path, action, _| supervision_only(path, action)),
        // Only an op on a `responsible` or `status` key can be the secretary's: changes with
        // none (nearly all a cadre sends) skip locating every op in the document.
        Write::Cadre if !changes.iter().any(touches_secretary_keys) => Ok(()),
        Write::Cadre => walk(doc, changes, cadre),
    }
}

/// Calls `rule` with each operation's path, its action, and the records made in these changes.
fn walk(doc: &AutoCommit, changes: &[Change], mut rule: impl FnMut(&[Step], &OpType, &HashSet<(String, String)>) -> Result<(), String>) -> Result<(), String> {
    let mut made: HashMap<String, Vec<Step>> = HashMap::new();
    // (section, record id) of the records these changes make.
    let mut new_records: HashSet<(String, String)> = HashSet::new();
    for change in changes {
        for (i, op) in change.decode().operations.iter().enumerate() {
            let object = match &op.obj {
                automerge::legacy::ObjectId::Root => Vec::new(),
                automerge::legacy::ObjectId::Id(id) => path_of(doc, &made, &id.to_string())?,
            };
            let mut path = object;
            path.push(match &op.key {
                automerge::legacy::Key::Map(k) => Step::Key(k.to_string()),
                automerge::legacy::Key::Seq(_) => Step::Element,
            });
            if let (OpType::Make(_), [Step::Key(section), Step::Key(record)]) = (&op.action, path.as_slice()) {
                new_records.insert((section.clone(), record.clone()));
            }
            rule(&path, &op.action, &new_records)?;
            if let OpType::Make(_) = op.action {
                let id = format!("{}@{}", change.start_op().get() + i as u64, change.actor_id());
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

/// The statuses only a secretary sets: 已办结 and 不予受理.
const CLOSED: [&str; 2] = ["resolved", "rejected"];
pub const SECRETARY_ONLY_ASSIGN: &str = "只有书记可以指派或改派问题的责任人";
pub const SECRETARY_ONLY_CLOSE: &str = "只有书记可以办结问题或不予受理";

/// The path of an existing object (`counter@actor`), from those made earlier in the changes or
/// from the document.
fn path_of(doc: &AutoCommit, made: &HashMap<String, Vec<Step>>, id: &str) -> Result<Vec<Step>, String> {
    if let Some(path) = made.get(id) {
        return Ok(path.clone());
    }
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
