//! Residents' ratings (好差评) in the ledger, written by the public board.
//!
//! ```text
//! Rating { target: code, target_id: id, verdict: code, comment: str, way: code, code_by: str,
//!          steps: { id: { at, by, kind: code, text: str, verdict: code | "" } },
//!          created_at: ms, updated_at: ms, deleted: bool }
//! ```
//! The rating's own fields are written once, with the record, by the board; a 差评's case
//! grows by steps (see [`crate::rating`]).

use automerge::{AutoCommit, ObjId, ScalarValue};

use super::{LedgerError, Records, UnitLedger};
use crate::codes::Verdict;
use crate::lenient::{read_entries, FieldProblem, FieldReader};
use crate::rating::{check_step, CaseStep, Rating, StepKind, Target, ValidRating, Way};
use crate::record::{sort_by_time, Field, FieldKind as K, Section};
use crate::writer::FieldWriter;
use crate::RecordId;

/// The fields of a rating (see [`Field`]).
pub const RATING_FIELDS: &[Field] = &[
    Field::new("target", "评价对象", K::Code),
    Field::new("target_id", "评价的记录", K::Link),
    Field::new("verdict", "评价", K::Code),
    Field::new("comment", "评价内容", K::Scalar),
    Field::new("way", "评价方式", K::Code),
    Field::new("code_by", "评价码出自", K::Scalar),
];

fn read_rating(doc: &AutoCommit, obj: &ObjId, id: RecordId, problems: &mut Vec<FieldProblem>) -> Rating {
    let mut r = FieldReader::prefetched(doc, obj, id.as_str());
    let steps_obj = r.map("steps");
    let mut steps = read_entries(doc, steps_obj.as_ref(), "step", problems, |sr, id| CaseStep {
        at: sr.millis("at"),
        by: sr.string("by"),
        kind: sr.coded("kind", StepKind::from_code, StepKind::Acknowledge),
        text: sr.string("text"),
        verdict: sr.optional_coded("verdict", Verdict::from_code),
        id,
    });
    sort_by_time(&mut steps, |s| (s.at, &s.id));
    let rating = Rating {
        target: r.coded("target", Target::from_code, Target::Post),
        target_id: r.link("target_id"),
        verdict: r.coded("verdict", Verdict::from_code, Verdict::Basic),
        comment: r.string("comment"),
        way: r.coded("way", Way::from_code, Way::Poster),
        code_by: r.string("code_by"),
        steps,
        conflicts: r.conflicts(RATING_FIELDS),
        created_at: r.millis("created_at"),
        deleted: r.bool("deleted"),
        id,
    };
    problems.append(&mut r.problems);
    rating
}

impl UnitLedger {
    /// Records a resident's rating (the board does, as its own actor).
    pub fn add_rating(&mut self, rating: &ValidRating, now_ms: i64) -> Result<RecordId, LedgerError> {
        let (id, obj) = self.new_record(Section::Ratings, now_ms)?;
        let mut w = FieldWriter::new(&mut self.doc, obj);
        w.scalar("target", rating.target.code())?;
        w.scalar("target_id", rating.target_id.as_str())?;
        w.scalar("verdict", rating.verdict.code())?;
        w.scalar("comment", rating.comment.as_str())?;
        w.scalar("way", rating.way.code())?;
        w.scalar("code_by", rating.code_by.as_str())?;
        w.scalar("updated_at", ScalarValue::Timestamp(now_ms))?;
        w.new_map("steps")?;
        self.commit(format!("群众评价：{}", rating.verdict.label()), Some((Section::Ratings, id.clone())), now_ms);
        Ok(id)
    }

    /// Takes a step of a 差评's case; refused when the case does not allow it now, so a phone
    /// never writes a step its own reading would skip.
    pub fn add_case_step(&mut self, id: &RecordId, kind: StepKind, text: &str, verdict: Option<Verdict>, now_ms: i64) -> Result<(), LedgerError> {
        let text = check_step(kind, text).map_err(|e| LedgerError::Invalid(e.to_string()))?;
        let rating = self.rating(id)?;
        if !rating.allows(kind) {
            let state = rating.case(&Default::default()).map_or("不是差评", |c| c.state.label());
            return Err(LedgerError::Invalid(format!("这条差评{state}，不能{}", kind.label())));
        }
        if (kind == StepKind::Recheck) != verdict.is_some() {
            return Err(LedgerError::Invalid("群众回评需要一项评价".into()));
        }
        // After every step this writer saw, whatever its clock says: the case is read by
        // folding steps in time order, and a step placed before the one it answers (a server
        // a second behind a phone, a phone's clock set back) would be skipped as out of turn.
        let at = rating.steps.iter().map(|s| s.at.saturating_add(1)).fold(now_ms, i64::max);
        let obj = self.record_obj(Section::Ratings, id)?;
        let steps = self.record_map(&obj, "steps")?;
        let verdict = verdict.map_or("", |v| v.code());
        self.add_entry(&steps, at, &[("kind", kind.code().into()), ("text", text.into()), ("verdict", verdict.into())])?;
        self.commit(format!("差评{}", kind.label()), Some((Section::Ratings, id.clone())), at);
        Ok(())
    }

    pub fn rating(&self, id: &RecordId) -> Result<Rating, LedgerError> {
        let obj = self.record_obj(Section::Ratings, id)?;
        Ok(read_rating(&self.doc, &obj, id.clone(), &mut Vec::new()))
    }

    pub fn ratings(&self) -> Records<Rating> {
        self.read_section(Section::Ratings, read_rating)
    }
}
