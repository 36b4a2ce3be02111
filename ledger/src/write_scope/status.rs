//! A problem's status moves only along the machine the app uses ([`crate::problem::Status`]),
//! judged from what each status op overwrites.

use std::collections::{HashMap, HashSet};

use automerge::legacy::OpType;
use automerge::{AutoCommit, ReadDoc};

use super::{OpView, Step};
use crate::org::Write;
use crate::problem::Status;

/// A problem's status is a plain string from its code list, and moves only along the machine
/// of [`crate::problem::Status`]: from the value each status op overwrites (its `pred`, found
/// in the document, in these changes, or in the document's history when another phone has
/// overwritten it since) to its own. A new status (nothing overwritten) only on a problem
/// made in these changes, as 待办. Text holding "resolved" is not a status the app would write,
/// and the desk would count it: refused.
#[derive(Default)]
pub(super) struct StatusSteps {
    /// Status ops of these changes: op id → status.
    seen: HashMap<String, Status>,
}

impl StatusSteps {
    pub(super) fn check(&mut self, doc: &AutoCommit, op: &OpView<'_>, new_records: &HashSet<(String, String)>, write: Write) -> Result<(), String> {
        let [Step::Key(section), Step::Key(record), Step::Key(field)] = op.path else { return Ok(()) };
        if section != "problems" || field != "status" {
            return Ok(());
        }
        if write != Write::Everything {
            if let OpType::Put(automerge::ScalarValue::Str(s)) = op.action {
                if CLOSED.contains(&s.as_str()) {
                    return Err(SECRETARY_ONLY_CLOSE.into());
                }
            }
        }
        let to = match op.action {
            OpType::Put(automerge::ScalarValue::Str(s)) => Status::from_code(s).ok_or_else(|| format!("{STATUS_NOT_A_CODE}（“{s}”）"))?,
            // Automerge settles a conflict on a value already there by deleting the others:
            // allowed while a value the op leaves stays.
            OpType::Delete if super::value_left_after(doc, op.path, &op.pred, op.deps) => return Ok(()),
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

pub const STATUS_NOT_A_CODE: &str = "办理状态必须是待办、办理中、已办结、已回访或不予受理之一";
pub const STATUS_NOT_DELETED: &str = "办理状态不能删除";
pub const STATUS_NOT_ALONG_THE_MACHINE: &str = "办理状态只能按办理流程一步步改变";

/// The statuses only a secretary (书记) sets: 已办结 and 不予受理.
const CLOSED: [&str; 2] = ["resolved", "rejected"];
pub const SECRETARY_ONLY_CLOSE: &str = "只有书记可以办结问题或不予受理";
