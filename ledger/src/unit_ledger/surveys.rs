//! Satisfaction survey rounds in the ledger.
//!
//! ```text
//! Survey { title: str, opened_on: "YYYY-MM-DD", closed: bool,
//!          scale: "5", office: str, closes_on: "YYYY-MM-DD",   (an office's round only)
//!          questions: { id: { order: int, text: str } },
//!          responses: { id: { at, by, answers: { question id: code }, comment: str } },
//!          created_at: ms, updated_at: ms, deleted: bool }
//! ```
//! Questions are fixed when the round opens; responses from many phones are separate entries
//! and simply add up.

use automerge::{transaction::Transactable, AutoCommit, ObjId, ObjType, ReadDoc, ScalarValue};

use super::{LedgerError, Records, UnitLedger};
use crate::codes::Satisfaction;
use crate::codes::Verdict;
use crate::lenient::{read_entries, FieldProblem, FieldReader};
use crate::record::{sort_by_time, Field, FieldKind as K, Section};
use crate::survey::{check_levels, check_response, Question, Response, Survey, ValidSurvey};
use crate::writer::FieldWriter;
use crate::RecordId;
use chrono::NaiveDate;

/// The fields of a survey round (see [`Field`]).
pub const SURVEY_FIELDS: &[Field] = &[
    Field::new("title", "测评名称", K::Scalar),
    Field::new("opened_on", "开始日期", K::Date),
    Field::new("closed", "已结束", K::Flag),
    // A round of the campaign office's (schema 4): written by the office with the round.
    Field::new("scale", "作答等级", K::Scalar),
    Field::new("office", "下达单位", K::Scalar),
    Field::new("closes_on", "截止日期", K::Date),
];

fn read_survey(doc: &AutoCommit, obj: &ObjId, id: RecordId, problems: &mut Vec<FieldProblem>) -> Survey {
    let mut r = FieldReader::prefetched(doc, obj, id.as_str());
    let questions_obj = r.map("questions");
    let responses_obj = r.map("responses");
    let mut questions = read_entries(doc, questions_obj.as_ref(), "question", problems, |qr, id| Question { order: qr.millis("order"), text: qr.string("text"), id });
    crate::order::sort_by(&mut questions, |a, b| a.order.cmp(&b.order).then_with(|| a.id.cmp(&b.id)));
    let scale = if r.string("scale") == "5" { 5 } else { 3 };
    let mut responses = read_entries(doc, responses_obj.as_ref(), "response", problems, |rr, id| {
        let answers = rr.map("answers");
        let (answers, levels) = match (scale, answers) {
            (5, Some(a)) => (Vec::new(), read_levels(doc, &a)),
            (_, Some(a)) => (read_answers(doc, &a), Vec::new()),
            _ => (Vec::new(), Vec::new()),
        };
        Response { at: rr.millis("at"), by: rr.string("by"), answers, levels, comment: rr.string("comment"), id }
    });
    sort_by_time(&mut responses, |r| (r.at, &r.id));
    let survey = Survey {
        title: r.string("title"),
        opened_on: r.date("opened_on"),
        closed: r.bool("closed"),
        conflicts: r.conflicts(SURVEY_FIELDS),
        questions,
        responses,
        scale,
        office: r.string("office"),
        closes_on: r.date("closes_on"),
        created_at: r.millis("created_at"),
        updated_at: r.millis("updated_at"),
        deleted: r.bool("deleted"),
        id,
    };
    problems.append(&mut r.problems);
    survey
}

/// A response's answers: question id → rating code. Keys or codes that are not ours are
/// skipped (a damaged or foreign document), never counted.
fn read_answers(doc: &AutoCommit, answers: &ObjId) -> Vec<(RecordId, Satisfaction)> {
    doc.map_range(answers, ..)
        .filter_map(|item| {
            let q = RecordId::parse(&item.key)?;
            let automerge::Value::Scalar(code) = item.value.clone().into_value() else { return None };
            Some((q, Satisfaction::from_code(code.as_str()?)?))
        })
        .collect()
}

/// A five-level response's answers: question id → verdict code.
fn read_levels(doc: &AutoCommit, answers: &ObjId) -> Vec<(RecordId, Verdict)> {
    doc.map_range(answers, ..)
        .filter_map(|item| {
            let q = RecordId::parse(&item.key)?;
            let automerge::Value::Scalar(code) = item.value.clone().into_value() else { return None };
            Some((q, Verdict::from_code(code.as_str()?)?))
        })
        .collect()
}

/// What the campaign office writes when it opens a satisfaction round in a unit's ledger.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SatisfactionRound<'a> {
    pub title: &'a str,
    pub questions: &'a [String],
    pub office: &'a str,
    pub opened_on: NaiveDate,
    pub closes_on: NaiveDate,
}

impl UnitLedger {
    /// Opens the office's satisfaction round `id` (five-level answers) in this unit's ledger;
    /// opening it again changes nothing.
    pub fn open_satisfaction_round(&mut self, id: &RecordId, round: &SatisfactionRound<'_>, now_ms: i64) -> Result<bool, LedgerError> {
        if self.record_obj(Section::Surveys, id).is_ok() {
            return Ok(false);
        }
        let map = self.section(Section::Surveys)?;
        let obj = self.doc.put_object(&map, id.as_str(), ObjType::Map)?;
        self.doc.put(&obj, "created_at", ScalarValue::Timestamp(now_ms))?;
        self.doc.put(&obj, "deleted", false)?;
        let mut w = FieldWriter::new(&mut self.doc, obj);
        w.scalar("title", round.title.trim())?;
        w.scalar("opened_on", round.opened_on.to_string())?;
        w.scalar("closed", false)?;
        w.scalar("scale", "5")?;
        w.scalar("office", round.office.trim())?;
        w.scalar("closes_on", round.closes_on.to_string())?;
        w.scalar("updated_at", ScalarValue::Timestamp(now_ms))?;
        let questions = w.new_map("questions")?;
        w.new_map("responses")?;
        self.put_questions(&questions, round.questions)?;
        self.commit(format!("下达满意度测评：{}", round.title.trim()), Some((Section::Surveys, id.clone())), now_ms);
        Ok(true)
    }

    /// Records one resident's five-level answers in an office's round.
    pub fn add_survey_levels(&mut self, id: &RecordId, levels: &[(RecordId, Verdict)], comment: &str, today: NaiveDate, now_ms: i64) -> Result<(), LedgerError> {
        let survey = self.survey(id)?;
        check_levels(&survey, levels, comment, today).map_err(|e| LedgerError::Invalid(e.messages().join("；")))?;
        self.put_answer_sheet(id, levels.iter().map(|(q, l)| (q, l.code())), comment, now_ms)
    }

    fn put_questions(&mut self, questions: &ObjId, texts: &[String]) -> Result<(), LedgerError> {
        for (order, text) in texts.iter().enumerate() {
            let q = self.doc.put_object(questions, RecordId::random().as_str(), ObjType::Map)?;
            self.doc.put(&q, "order", order as i64)?;
            self.doc.put(&q, "text", text.as_str())?;
        }
        Ok(())
    }

    /// One answer sheet: an entry of the round's responses with its answers (question → code).
    fn put_answer_sheet<'a>(&mut self, id: &RecordId, answers: impl Iterator<Item = (&'a RecordId, &'static str)>, comment: &str, now_ms: i64) -> Result<(), LedgerError> {
        let obj = self.record_obj(Section::Surveys, id)?;
        let responses = self.record_map(&obj, "responses")?;
        let response = self.add_entry(&responses, now_ms, &[("comment", comment.trim().into())])?;
        let entry = match self.doc.get(&responses, response.as_str())? {
            Some((automerge::Value::Object(ObjType::Map), obj)) => obj,
            _ => return Err(LedgerError::NotFound),
        };
        let answers_obj = self.doc.put_object(&entry, "answers", ObjType::Map)?;
        for (question, code) in answers {
            self.doc.put(&answers_obj, question.as_str(), code)?;
        }
        self.commit("录入答卷".into(), Some((Section::Surveys, id.clone())), now_ms);
        Ok(())
    }

    /// Opens a survey round with its questions.
    pub fn add_survey(&mut self, survey: &ValidSurvey, now_ms: i64) -> Result<RecordId, LedgerError> {
        let (id, obj) = self.new_record(Section::Surveys, now_ms)?;
        let mut w = FieldWriter::new(&mut self.doc, obj);
        w.scalar("title", survey.title.as_str())?;
        w.scalar("opened_on", survey.opened_on.to_string())?;
        w.scalar("closed", false)?;
        w.scalar("updated_at", ScalarValue::Timestamp(now_ms))?;
        let questions = w.new_map("questions")?;
        w.new_map("responses")?;
        self.put_questions(&questions, &survey.questions)?;
        self.commit(format!("开启测评：{}", survey.title), Some((Section::Surveys, id.clone())), now_ms);
        Ok(id)
    }

    /// Records one resident's answers. Refused when the round is closed (as this device knows it).
    pub fn add_survey_response(&mut self, id: &RecordId, answers: &[(RecordId, Satisfaction)], comment: &str, now_ms: i64) -> Result<(), LedgerError> {
        let survey = self.survey(id)?;
        check_response(&survey, answers, comment).map_err(|e| LedgerError::Invalid(e.to_string()))?;
        self.put_answer_sheet(id, answers.iter().map(|(q, a)| (q, a.code())), comment, now_ms)
    }

    /// Closes (or reopens) a round.
    pub fn set_survey_closed(&mut self, id: &RecordId, closed: bool, now_ms: i64) -> Result<(), LedgerError> {
        let obj = self.record_obj(Section::Surveys, id)?;
        let mut w = FieldWriter::new(&mut self.doc, obj);
        w.scalar("closed", closed)?;
        w.scalar("updated_at", ScalarValue::Timestamp(now_ms))?;
        self.commit(if closed { "结束测评" } else { "重新开启测评" }.into(), Some((Section::Surveys, id.clone())), now_ms);
        Ok(())
    }

    pub fn survey(&self, id: &RecordId) -> Result<Survey, LedgerError> {
        let obj = self.record_obj(Section::Surveys, id)?;
        Ok(read_survey(&self.doc, &obj, id.clone(), &mut Vec::new()))
    }

    pub fn surveys(&self) -> Records<Survey> {
        self.read_section(Section::Surveys, read_survey)
    }
}
