//! Pledges in the ledger.
//!
//! ```text
//! Pledge { content: Text, by: str, team: bool, aims: { code: true }, due: "YYYY-MM-DD",
//!          public: bool, published: bool, fulfilled: bool, fulfilled_at: ms,
//!          progress: { id: { at, by, kind: "progress", text } },
//!          evaluations: { id: { at, by, evaluator: code, rating: code, comment: str } },
//!          created_at: ms, updated_at: ms, deleted: bool }
//! ```
//! Aims are a map of flags, so two people ticking different aims both keep theirs.

use automerge::{transaction::Transactable, AutoCommit, ObjId, ReadDoc, ScalarValue};

use super::{LedgerError, Records, UnitLedger};
use crate::codes::Satisfaction;
use crate::lenient::{read_entries, read_log, FieldProblem, FieldReader};
use crate::pledge::{check_evaluation, Aim, Evaluation, Evaluator, Pledge, ValidPledge};
use crate::record::{sort_by_time, Section};
use crate::record::{Field, FieldKind as K};
use crate::writer::FieldWriter;
use crate::RecordId;

/// The fields of a pledge (see [`Field`]).
pub const PLEDGE_FIELDS: &[Field] = &[
    Field::new("content", "承诺内容", K::Text),
    Field::new("by", "承诺人", K::Scalar),
    Field::new("team", "班子承诺", K::Flag),
    Field::new("aims", "目标", K::Flags),
    Field::new("due", "期限", K::Date),
    Field::new("public", "公开", K::Flag),
    Field::new("fulfilled", "已兑现", K::Flag),
    // On the public board (先锋广场): the secretary's choice, apart from the pledger's `public`.
    Field::new("published", "在先锋广场公开", K::Flag),
];

fn read_pledge(doc: &AutoCommit, obj: &ObjId, id: RecordId, problems: &mut Vec<FieldProblem>) -> Pledge {
    let mut r = FieldReader::prefetched(doc, obj, id.as_str());
    let aims_obj = r.map("aims");
    let progress = r.map("progress");
    let evaluations_obj = r.map("evaluations");
    let mut aims: Vec<Aim> = aims_obj
        .map(|m| {
            doc.map_range(&m, ..)
                .filter(|i| matches!(i.value.clone().into_value(), automerge::Value::Scalar(s) if *s == ScalarValue::Boolean(true)))
                .filter_map(|i| Aim::from_code(&i.key))
                .collect()
        })
        .unwrap_or_default();
    crate::order::sort(&mut aims);
    let mut evaluations = read_entries(doc, evaluations_obj.as_ref(), "evaluation", problems, |er, id| Evaluation {
        at: er.millis("at"),
        evaluator: er.coded("evaluator", Evaluator::from_code, Evaluator::Resident),
        by: er.string("by"),
        rating: er.coded("rating", Satisfaction::from_code, Satisfaction::Basic),
        comment: er.string("comment"),
        id,
    });
    sort_by_time(&mut evaluations, |e| (e.at, &e.id));
    let pledge = Pledge {
        content: r.string("content"),
        by: r.string("by"),
        team: r.bool("team"),
        aims,
        due: r.date("due"),
        public: r.bool("public"),
        published: r.bool("published"),
        fulfilled: r.bool("fulfilled"),
        fulfilled_at: r.millis("fulfilled_at"),
        progress: read_log(doc, progress.as_ref(), problems),
        evaluations,
        conflicts: r.conflicts(PLEDGE_FIELDS),
        created_at: r.millis("created_at"),
        updated_at: r.millis("updated_at"),
        deleted: r.bool("deleted"),
        id,
    };
    problems.append(&mut r.problems);
    pledge
}

fn write_pledge(doc: &mut AutoCommit, obj: ObjId, p: &ValidPledge, aims: &ObjId) -> Result<Vec<crate::writer::Change>, automerge::AutomergeError> {
    let mut w = FieldWriter::new(doc, obj);
    w.text("content", &p.content)?;
    w.scalar("by", p.by.as_str())?;
    w.scalar("team", p.team)?;
    w.scalar("due", p.due.to_string())?;
    w.scalar("public", p.public)?;
    let mut changed = w.changed;
    let mut aims_w = FieldWriter::new(doc, aims.clone());
    for aim in Aim::ALL {
        aims_w.scalar(aim.code(), p.aims.contains(aim))?;
    }
    if !aims_w.changed.is_empty() {
        changed.push(crate::writer::Change::new("aims", String::new(), String::new()));
    }
    Ok(changed)
}

impl UnitLedger {
    pub fn add_pledge(&mut self, pledge: &ValidPledge, now_ms: i64) -> Result<RecordId, LedgerError> {
        let (id, obj) = self.new_record(Section::Pledges, now_ms)?;
        let mut w = FieldWriter::new(&mut self.doc, obj.clone());
        let aims = w.new_map("aims")?;
        w.new_map("progress")?;
        w.new_map("evaluations")?;
        w.scalar("fulfilled", false)?;
        w.scalar("updated_at", ScalarValue::Timestamp(now_ms))?;
        write_pledge(&mut self.doc, obj, pledge, &aims)?;
        let summary: String = pledge.content.chars().take(30).collect();
        self.commit(format!("发布承诺：{summary}"), Some((Section::Pledges, id.clone())), now_ms);
        Ok(id)
    }

    pub fn update_pledge(&mut self, id: &RecordId, pledge: &ValidPledge, now_ms: i64) -> Result<(), LedgerError> {
        let obj = self.record_obj(Section::Pledges, id)?;
        let aims = self.record_map(&obj, "aims")?;
        let changed = write_pledge(&mut self.doc, obj.clone(), pledge, &aims)?;
        if !changed.is_empty() {
            self.doc.put(&obj, "updated_at", ScalarValue::Timestamp(now_ms))?;
        }
        self.commit_edit(Section::Pledges, id, &changed, PLEDGE_FIELDS, now_ms);
        Ok(())
    }

    /// Posts progress on a pledge.
    pub fn add_pledge_progress(&mut self, id: &RecordId, text: &str, now_ms: i64) -> Result<(), LedgerError> {
        self.post_progress(Section::Pledges, id, "progress", text, now_ms)
    }

    /// Marks a pledge fulfilled (践诺), or takes that back.
    pub fn set_pledge_fulfilled(&mut self, id: &RecordId, fulfilled: bool, now_ms: i64) -> Result<(), LedgerError> {
        let obj = self.record_obj(Section::Pledges, id)?;
        let mut w = FieldWriter::new(&mut self.doc, obj);
        w.scalar("fulfilled", fulfilled)?;
        w.scalar("fulfilled_at", ScalarValue::Timestamp(if fulfilled { now_ms } else { 0 }))?;
        w.scalar("updated_at", ScalarValue::Timestamp(now_ms))?;
        let summary = if fulfilled { "承诺已兑现" } else { "撤回“已兑现”" };
        self.commit(summary.into(), Some((Section::Pledges, id.clone())), now_ms);
        Ok(())
    }

    /// Records an evaluation (评议) of a pledge.
    pub fn add_evaluation(&mut self, id: &RecordId, evaluator: Evaluator, rating: Satisfaction, comment: &str, now_ms: i64) -> Result<(), LedgerError> {
        let comment = check_evaluation(rating, comment).map_err(|e| LedgerError::Invalid(e.to_string()))?;
        let obj = self.record_obj(Section::Pledges, id)?;
        let evaluations = self.record_map(&obj, "evaluations")?;
        self.add_entry(&evaluations, now_ms, &[("evaluator", evaluator.code().into()), ("rating", rating.code().into()), ("comment", comment.into())])?;
        self.commit(format!("{}评议：{}", evaluator.label(), rating.label()), Some((Section::Pledges, id.clone())), now_ms);
        Ok(())
    }

    pub fn pledge(&self, id: &RecordId) -> Result<Pledge, LedgerError> {
        let obj = self.record_obj(Section::Pledges, id)?;
        Ok(read_pledge(&self.doc, &obj, id.clone(), &mut Vec::new()))
    }

    pub fn pledges(&self) -> Records<Pledge> {
        self.read_section(Section::Pledges, read_pledge)
    }
}
