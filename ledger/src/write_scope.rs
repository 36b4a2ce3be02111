//! What a set of incoming changes touches in a unit ledger, decided from the changes' own
//! operations before any of them is applied: each operation names the object it works on and a
//! key in it, and the object's place in the document is found from the document (or from the
//! operation earlier in the same changes that made it). A change whose operations reach
//! anything but the parts a [`Write`] allows is refused whole.
//!
//! Patches after applying were the other way to see what changed; they are not used because
//! an operation that loses a conflict, or deletes nothing visible, shows in no patch and would
//! still sit in the document for ever.

use std::collections::HashMap;

use automerge::{AutoCommit, Change, ObjType, Prop, ReadDoc};

use crate::org::Write;

/// One step of a path in the document: a map key, or a position in a list or text.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Step {
    Key(String),
    Element,
}

/// Checks that `changes`, applied to `doc` in order, stay within `write`.
pub fn check(doc: &AutoCommit, changes: &[Change], write: Write) -> Result<(), String> {
    match write {
        Write::Everything => Ok(()),
        Write::Nothing => Err("没有写入这本台账的权限".into()),
        Write::SupervisionOnly => {
            let mut made: HashMap<String, Vec<Step>> = HashMap::new();
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
                    supervision_only(&path, &op.action)?;
                    if let automerge::legacy::OpType::Make(_) = op.action {
                        let id = format!("{}@{}", change.start_op().get() + i as u64, change.actor_id());
                        made.insert(id, path);
                    }
                }
            }
            Ok(())
        }
    }
}

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
fn supervision_only(path: &[Step], action: &automerge::legacy::OpType) -> Result<(), String> {
    use automerge::legacy::OpType;
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
