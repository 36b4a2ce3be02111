//! Problems in the ledger.
//!
//! ```text
//! Problem { title: str, description: Text, category: code, raised_by: code, urgency: code,
//!           responsible: str, contact: str (absent in older records), deadline: "YYYY-MM-DD" | "", status: code, result: Text,
//!           reject_reason: Text, satisfaction: code | "", satisfaction_comment: Text,
//!           visit: id | "", enterprise: id | "", difficulty: code | "",
//!           log: { id: { at: ms, by: str, kind: code, text: str, from: code, to: code } },
//!           supervision: { id: { at: ms, by: str, kind: "supervision", text: str } } (督办意见; absent in older records),
//!           created_at: ms, updated_at: ms, deleted: bool }
//! ```
//! Short fields are scalars, so two people setting one differently offline is a conflict a
//! person settles; long text is Text and merges. The status is a scalar written only through
//! the status machine, and every step also adds a log entry, so a step taken on one phone and
//! progress posted on another both survive.

use automerge::{transaction::Transactable, AutoCommit, ObjId, ReadDoc, ScalarValue};

use super::{LedgerError, Records, UnitLedger};
use crate::codes::Satisfaction;
use crate::lenient::{read_log, FieldProblem, FieldReader};
use crate::problem::{log_kind, Action, Category, Difficulty, Problem, RaisedBy, Status, TransitionError, Urgency, ValidProblem};
use crate::record::LogEntry;
use crate::record::Section;
use crate::record::{Field, FieldKind as K};
use crate::writer::FieldWriter;
use crate::RecordId;

/// The fields of a problem (see [`Field`]).
pub const PROBLEM_FIELDS: &[Field] = &[
    Field::new("title", "问题标题", K::Scalar),
    Field::new("description", "问题描述", K::Text),
    Field::new("category", "问题类别", K::Code),
    Field::new("raised_by", "反映人", K::Code),
    Field::new("urgency", "紧急程度", K::Code),
    Field::new("responsible", "责任人", K::Scalar),
    Field::new("contact", "反映人联系方式", K::Scalar),
    Field::new("deadline", "办结时限", K::Date),
    Field::new("status", "办理状态", K::Code),
    Field::new("visit", "来源走访", K::Link),
    Field::new("enterprise", "企业", K::Link),
    Field::new("difficulty", "困难类型", K::Code),
    Field::new("result", "办理结果", K::Text),
    Field::new("reject_reason", "不予受理理由", K::Text),
    Field::new("satisfaction", "群众评价", K::Code),
    Field::new("satisfaction_comment", "回访意见", K::Text),
];

fn read_problem(doc: &AutoCommit, obj: &ObjId, id: RecordId, problems: &mut Vec<FieldProblem>) -> Problem {
    let mut r = FieldReader::prefetched(doc, obj, id.as_str());
    let log = r.map("log");
    let problem = Problem {
        title: r.string("title"),
        description: r.string("description"),
        category: r.coded("category", Category::from_code, Category::Other),
        raised_by: r.coded("raised_by", RaisedBy::from_code, RaisedBy::Resident),
        urgency: r.coded("urgency", Urgency::from_code, Urgency::Normal),
        responsible: r.string("responsible"),
        contact: r.string("contact"),
        deadline: r.date("deadline"),
        status: r.coded("status", Status::from_code, Status::Pending),
        result: r.string("result"),
        reject_reason: r.string("reject_reason"),
        satisfaction: r.optional_coded("satisfaction", Satisfaction::from_code),
        satisfaction_comment: r.string("satisfaction_comment"),
        visit_id: r.link("visit"),
        enterprise_id: r.link("enterprise"),
        difficulty: r.optional_coded("difficulty", Difficulty::from_code),
        log: read_log(doc, log.as_ref(), problems),
        supervision: read_supervision(doc, obj, problems),
        photos: r.photos(),
        location: r.location(),
        conflicts: r.conflicts(PROBLEM_FIELDS),
        created_at: r.millis("created_at"),
        updated_at: r.millis("updated_at"),
        deleted: r.bool("deleted"),
        id,
    };
    problems.append(&mut r.problems);
    problem
}

fn write_problem(doc: &mut AutoCommit, obj: ObjId, p: &ValidProblem) -> Result<Vec<crate::writer::Change>, automerge::AutomergeError> {
    let mut w = FieldWriter::new(doc, obj);
    w.scalar("title", p.title.as_str())?;
    w.text("description", &p.description)?;
    w.scalar("category", p.category.code())?;
    w.scalar("raised_by", p.raised_by.code())?;
    w.scalar("urgency", p.urgency.code())?;
    w.scalar("responsible", p.responsible.as_str())?;
    w.added_scalar("contact", p.contact.as_str())?;
    w.optional("deadline", p.deadline)?;
    w.optional("visit", p.visit_id.as_ref())?;
    w.optional("enterprise", p.enterprise_id.as_ref())?;
    w.optional("difficulty", p.difficulty.map(|d| d.code()))?;
    Ok(w.changed)
}

/// Supervision remarks: every `supervision` map the problem holds, merged. Two supervisors who
/// each remark on an older problem offline each make the map; Automerge keeps both as a
/// conflict, and no remark may be lost to it.
fn read_supervision(doc: &AutoCommit, obj: &ObjId, problems: &mut Vec<FieldProblem>) -> Vec<LogEntry> {
    let maps = doc.get_all(obj, "supervision").unwrap_or_default();
    let mut remarks: Vec<LogEntry> = maps
        .into_iter()
        .filter_map(|(value, id)| matches!(value, automerge::Value::Object(automerge::ObjType::Map)).then_some(id))
        .flat_map(|map| read_log(doc, Some(&map), problems))
        .collect();
    crate::record::sort_by_time(&mut remarks, |e| (e.at, &e.id));
    remarks
}

impl UnitLedger {
    /// Adds a supervision remark (督办意见) to a problem: the one thing besides evaluations that
    /// a supervisor writes in a unit's ledger.
    pub fn add_supervision_remark(&mut self, id: &RecordId, text: &str, now_ms: i64) -> Result<(), LedgerError> {
        let text = super::entry_text(text, "督办意见")?;
        let obj = self.record_obj(Section::Problems, id)?;
        let map = match self.record_map(&obj, "supervision") {
            Ok(map) => map,
            Err(_) => self.doc.put_object(&obj, "supervision", automerge::ObjType::Map)?,
        };
        self.add_entry(&map, now_ms, &[("kind", log_kind::SUPERVISION.into()), ("text", text.into())])?;
        self.commit("督办意见".into(), Some((Section::Problems, id.clone())), now_ms);
        Ok(())
    }

    /// Raises a problem (待办), logging who raised it.
    pub fn add_problem(&mut self, problem: &ValidProblem, now_ms: i64) -> Result<RecordId, LedgerError> {
        if let Some(visit) = &problem.visit_id {
            self.record_obj(Section::Visits, visit).map_err(|_| LedgerError::Invalid("来源走访记录不存在".into()))?;
        }
        if let Some(enterprise) = &problem.enterprise_id {
            self.record_obj(Section::Enterprises, enterprise).map_err(|_| LedgerError::Invalid("企业不存在".into()))?;
        }
        let (id, obj) = self.new_record(Section::Problems, now_ms)?;
        write_problem(&mut self.doc, obj.clone(), problem)?;
        let mut w = FieldWriter::new(&mut self.doc, obj.clone());
        w.scalar("status", Status::Pending.code())?;
        w.scalar("updated_at", ScalarValue::Timestamp(now_ms))?;
        let log = w.new_map("log")?;
        w.new_map("supervision")?;
        self.add_entry(&log, now_ms, &[("kind", log_kind::RAISED.into()), ("to", Status::Pending.code().into())])?;
        self.commit(format!("提出问题：{}", problem.title), Some((Section::Problems, id.clone())), now_ms);
        Ok(id)
    }

    /// Edits a problem's description fields (not its status, which moves only by steps). A
    /// new person responsible is written to the log too, as [`UnitLedger::assign_problem`] does.
    pub fn update_problem(&mut self, id: &RecordId, problem: &ValidProblem, now_ms: i64) -> Result<(), LedgerError> {
        let obj = self.record_obj(Section::Problems, id)?;
        let changed = write_problem(&mut self.doc, obj.clone(), problem)?;
        if !changed.is_empty() {
            self.doc.put(&obj, "updated_at", ScalarValue::Timestamp(now_ms))?;
        }
        if changed.iter().any(|c| c.field == "responsible") {
            let log = self.record_map(&obj, "log")?;
            self.add_entry(&log, now_ms, &[("kind", log_kind::ASSIGNED.into()), ("text", problem.responsible.as_str().into())])?;
        }
        self.commit_edit(Section::Problems, id, &changed, PROBLEM_FIELDS, now_ms);
        Ok(())
    }

    /// Takes one step of the status machine, recording it in the problem's log. A status that
    /// two people set differently must be settled first.
    pub fn change_problem_status(&mut self, id: &RecordId, action: &Action, now_ms: i64) -> Result<Status, LedgerError> {
        let current = self.problem(id)?;
        if let Some(both) = current.status_conflict() {
            return Err(LedgerError::Invalid(TransitionError::Conflicted(both).to_string()));
        }
        let next = current.status.apply(action).map_err(|e| LedgerError::Invalid(e.to_string()))?;
        let obj = self.record_obj(Section::Problems, id)?;
        let log = self.record_map(&obj, "log")?;
        let mut w = FieldWriter::new(&mut self.doc, obj);
        w.scalar("status", next.code())?;
        match action {
            Action::Resolve { result } => w.text("result", result.trim())?,
            Action::Reject { reason } => w.text("reject_reason", reason.trim())?,
            Action::FollowUp { satisfaction, comment } => {
                w.scalar("satisfaction", satisfaction.code())?;
                w.text("satisfaction_comment", comment.trim())?;
            }
            Action::Start | Action::Reopen => {}
        }
        w.scalar("updated_at", ScalarValue::Timestamp(now_ms))?;
        self.add_entry(&log, now_ms, &[("kind", log_kind::STATUS.into()), ("text", action.note().into()), ("from", current.status.code().into()), ("to", next.code().into())])?;
        let summary = format!("{}：{} → {}", action.kind().label(), current.status.label(), next.label());
        self.commit(summary, Some((Section::Problems, id.clone())), now_ms);
        Ok(next)
    }

    /// Names who is responsible for a problem already raised (指派, the secretary's), in the
    /// record and its log.
    pub fn assign_problem(&mut self, id: &RecordId, responsible: &str, now_ms: i64) -> Result<(), LedgerError> {
        let responsible = responsible.trim();
        let max = crate::problem::MAX_PERSON;
        if responsible.chars().count() > max {
            return Err(LedgerError::Invalid(format!("责任人最多 {max} 字")));
        }
        if self.problem(id)?.responsible == responsible {
            return Err(LedgerError::Invalid("责任人没有变化".into()));
        }
        let obj = self.record_obj(Section::Problems, id)?;
        let log = self.record_map(&obj, "log")?;
        self.doc.put(&obj, "responsible", responsible)?;
        self.doc.put(&obj, "updated_at", ScalarValue::Timestamp(now_ms))?;
        self.add_entry(&log, now_ms, &[("kind", log_kind::ASSIGNED.into()), ("text", responsible.into())])?;
        let summary = if responsible.is_empty() { "取消指派".to_owned() } else { format!("指派：{responsible}") };
        self.commit(summary, Some((Section::Problems, id.clone())), now_ms);
        Ok(())
    }

    /// Posts progress (办理进展, or help given to an enterprise) to a problem's log.
    pub fn add_problem_progress(&mut self, id: &RecordId, text: &str, now_ms: i64) -> Result<(), LedgerError> {
        self.post_progress(Section::Problems, id, "log", text, now_ms)
    }

    pub fn problem(&self, id: &RecordId) -> Result<Problem, LedgerError> {
        let obj = self.record_obj(Section::Problems, id)?;
        Ok(read_problem(&self.doc, &obj, id.clone(), &mut Vec::new()))
    }

    /// Every problem, deleted ones included.
    pub fn problems(&self) -> Records<Problem> {
        self.read_section(Section::Problems, read_problem)
    }
}
