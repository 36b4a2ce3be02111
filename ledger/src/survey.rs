//! Satisfaction surveys (群众满意度测评): a unit opens a round with its questions, cadres record
//! residents' answers offline, and results are counted per round and per question. Answers are
//! anonymous: a response keeps who recorded it, never who answered (PIPL).

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::codes::{Satisfaction, Verdict};
use crate::validation::ValidationErrors;
use crate::RecordId;

pub const MAX_TITLE: usize = 100;
pub const MAX_QUESTION: usize = 200;
pub const MAX_QUESTIONS: usize = 30;
pub const MAX_COMMENT: usize = 1_000;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Question {
    pub id: RecordId,
    /// Position in the round, fixed when it is opened.
    pub order: i64,
    pub text: String,
}

/// One resident's answers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Response {
    pub id: RecordId,
    pub at: i64,
    /// The cadre who recorded it.
    pub by: String,
    /// Answers by question id; a question left out was not answered.
    pub answers: Vec<(RecordId, Satisfaction)>,
    /// The same in five levels, in a round of the campaign office (scale 5).
    pub levels: Vec<(RecordId, Verdict)>,
    pub comment: String,
}

/// A survey round as the UI shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Survey {
    pub id: RecordId,
    pub title: String,
    pub opened_on: Option<NaiveDate>,
    pub closed: bool,
    pub questions: Vec<Question>,
    pub responses: Vec<Response>,
    /// 3 (满意, 基本满意, 不满意: the unit's own rounds) or 5 (非常满意 … 非常不满意: the
    /// campaign office's satisfaction rounds, which compare units on the same questions).
    pub scale: u8,
    /// The office that sent the round, "" for the unit's own.
    pub office: String,
    /// The last day answers are taken, for an office's round.
    pub closes_on: Option<NaiveDate>,
    /// Fields two people set differently, both values kept until one is chosen.
    pub conflicts: Vec<crate::record::Conflict>,
    pub created_at: i64,
    pub updated_at: i64,
    pub deleted: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SurveyDraft {
    pub title: String,
    /// One question per line.
    pub questions: String,
}

impl SurveyDraft {
    pub fn validate(&self, today: NaiveDate) -> Result<ValidSurvey, ValidationErrors> {
        let mut e = ValidationErrors::default();
        let title = e.required("title", &self.title, "请填写测评名称，例如“2026 年第四季度群众满意度测评”");
        e.max_len("title", "测评名称", title, MAX_TITLE);
        let questions: Vec<String> = self.questions.lines().map(str::trim).filter(|q| !q.is_empty()).map(str::to_owned).collect();
        if questions.is_empty() {
            e.push("questions", "请至少写一个问题（每行一个）");
        } else if questions.len() > MAX_QUESTIONS {
            e.push("questions", format!("一轮测评最多 {MAX_QUESTIONS} 个问题，现有 {} 个", questions.len()));
        } else if let Some((i, q)) = questions.iter().enumerate().find(|(_, q)| q.chars().count() > MAX_QUESTION) {
            e.push("questions", format!("第 {} 个问题超过 {MAX_QUESTION} 字（{} 字）", i + 1, q.chars().count()));
        }
        e.into_result(|| ValidSurvey { title: title.to_owned(), questions, opened_on: today })
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidSurvey {
    pub title: String,
    pub questions: Vec<String>,
    pub opened_on: NaiveDate,
}

/// Checks a response against its round: open, every answer for one of its questions, at
/// least one answered.
pub fn check_response(survey: &Survey, answers: &[(RecordId, Satisfaction)], comment: &str) -> Result<(), ValidationErrors> {
    let mut e = ValidationErrors::default();
    if survey.scale == 5 {
        e.push("survey", "这一轮测评按五级作答");
    }
    if survey.closed {
        e.push("survey", "本轮测评已结束，不能再录入答卷");
    }
    if answers.is_empty() {
        e.push("answers", "请至少回答一个问题");
    }
    if answers.iter().any(|(q, _)| !survey.questions.iter().any(|x| x.id == *q)) {
        e.push("answers", "答卷里有本轮测评没有的问题");
    }
    e.max_len("comment", "其他意见", comment.trim(), MAX_COMMENT);
    e.into_result(|| ())
}

/// Checks a five-level response against an office's round: open on `today`, every answer for
/// one of its questions, at least one answered.
pub fn check_levels(survey: &Survey, levels: &[(RecordId, Verdict)], comment: &str, today: NaiveDate) -> Result<(), ValidationErrors> {
    let mut e = ValidationErrors::default();
    if survey.scale != 5 {
        e.push("survey", "这一轮测评按三级作答");
    }
    if survey.closed || survey.closes_on.is_some_and(|d| today > d) {
        e.push("survey", "本轮测评已结束，不能再录入答卷");
    }
    if levels.is_empty() {
        e.push("answers", "请至少回答一个问题");
    }
    if levels.iter().any(|(q, _)| !survey.questions.iter().any(|x| x.id == *q)) {
        e.push("answers", "答卷里有本轮测评没有的问题");
    }
    e.max_len("comment", "其他意见", comment.trim(), MAX_COMMENT);
    e.into_result(|| ())
}

/// Five-level counts per question of an office's round, in `Verdict::ALL` order.
pub fn level_results(survey: &Survey) -> Vec<(Question, [usize; 5])> {
    let slot = |v: Verdict| Verdict::ALL.iter().position(|x| *x == v).unwrap_or(2);
    let mut out: Vec<(Question, [usize; 5])> = survey.questions.iter().map(|q| (q.clone(), [0; 5])).collect();
    for response in &survey.responses {
        for (qid, level) in &response.levels {
            if let Some((_, counts)) = out.iter_mut().find(|(q, _)| q.id == *qid) {
                counts[slot(*level)] += 1;
            }
        }
    }
    out
}

/// 满意率 of five-level counts (非常满意, 满意 and 基本满意 over all), per mille.
pub fn levels_satisfied_per_mille(counts: &[usize; 5]) -> Option<usize> {
    crate::rate::per_mille(counts[0] + counts[1] + counts[2], counts.iter().sum())
}

/// Counts for one question.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuestionResult {
    pub question: Question,
    /// 满意, 基本满意, 不满意, in `Satisfaction::ALL` order.
    pub counts: [usize; 3],
}

impl QuestionResult {
    pub fn answered(&self) -> usize {
        self.counts.iter().sum()
    }

    /// 满意率 in per mille (满意 + 基本满意 over all answers), None with no answers.
    pub fn satisfied_per_mille(&self) -> Option<usize> {
        let n = self.answered();
        crate::rate::per_mille(self.counts[0] + self.counts[1], n)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SurveyResults {
    pub responses: usize,
    pub per_question: Vec<QuestionResult>,
    /// All answers of the round together.
    pub overall: [usize; 3],
}

impl SurveyResults {
    pub fn satisfied_per_mille(&self) -> Option<usize> {
        let n: usize = self.overall.iter().sum();
        crate::rate::per_mille(self.overall[0] + self.overall[1], n)
    }
}

/// Results of a round, per question and overall. Answers to questions the round does not have
/// (a damaged or foreign document) are not counted.
pub fn survey_results(survey: &Survey) -> SurveyResults {
    let slot = |s: Satisfaction| Satisfaction::ALL.iter().position(|x| *x == s).unwrap_or(2);
    let mut per_question: Vec<QuestionResult> = survey.questions.iter().map(|q| QuestionResult { question: q.clone(), counts: [0; 3] }).collect();
    let mut overall = [0; 3];
    for response in &survey.responses {
        for (qid, answer) in &response.answers {
            if let Some(result) = per_question.iter_mut().find(|r| r.question.id == *qid) {
                result.counts[slot(*answer)] += 1;
                overall[slot(*answer)] += 1;
            }
        }
    }
    SurveyResults { responses: survey.responses.len(), per_question, overall }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 27).unwrap()
    }

    #[test]
    fn drafts_split_questions_by_line() {
        let d = SurveyDraft { title: "四季度测评".into(), questions: "办事效率\n\n  服务态度  \n".into() };
        let v = d.validate(today()).unwrap();
        assert_eq!(v.questions, vec!["办事效率", "服务态度"]);
        let e = SurveyDraft::default().validate(today()).unwrap_err();
        assert!(e.for_field("title").is_some() && e.for_field("questions").is_some());
        let many = SurveyDraft { title: "t".into(), questions: "问\n".repeat(MAX_QUESTIONS + 1) };
        assert!(many.validate(today()).unwrap_err().for_field("questions").unwrap().contains("最多 30 个"));
    }

    fn survey() -> Survey {
        let q = |order, text: &str| Question { id: RecordId::random(), order, text: text.into() };
        Survey {
            id: RecordId::random(),
            title: "t".into(),
            opened_on: Some(today()),
            closed: false,
            questions: vec![q(0, "办事效率"), q(1, "服务态度")],
            responses: Vec::new(),
            scale: 3,
            office: String::new(),
            closes_on: None,
            conflicts: Vec::new(),
            created_at: 0,
            updated_at: 0,
            deleted: false,
        }
    }

    #[test]
    fn results_per_question_and_overall() {
        let mut s = survey();
        let (q0, q1) = (s.questions[0].id.clone(), s.questions[1].id.clone());
        let response =
            |answers: Vec<(RecordId, Satisfaction)>| Response { id: RecordId::random(), at: 0, by: "王五".into(), answers, levels: Vec::new(), comment: String::new() };
        s.responses.push(response(vec![(q0.clone(), Satisfaction::Satisfied), (q1.clone(), Satisfaction::Dissatisfied)]));
        s.responses.push(response(vec![(q0.clone(), Satisfaction::Basic)]));
        s.responses.push(response(vec![(q0.clone(), Satisfaction::Dissatisfied), (RecordId::random(), Satisfaction::Satisfied)]));
        let r = survey_results(&s);
        assert_eq!(r.responses, 3);
        assert_eq!(r.per_question[0].counts, [1, 1, 1]);
        assert_eq!(r.per_question[0].satisfied_per_mille(), Some(667));
        assert_eq!(r.per_question[1].counts, [0, 0, 1]);
        assert_eq!(r.overall, [1, 1, 2]);
        assert_eq!(r.satisfied_per_mille(), Some(500));
        assert_eq!(survey_results(&survey()).satisfied_per_mille(), None);
    }

    #[test]
    fn responses_are_checked_against_the_round() {
        let mut s = survey();
        let q0 = s.questions[0].id.clone();
        assert!(check_response(&s, &[(q0.clone(), Satisfaction::Satisfied)], "").is_ok());
        assert!(check_response(&s, &[], "").unwrap_err().for_field("answers").is_some());
        assert!(check_response(&s, &[(RecordId::random(), Satisfaction::Satisfied)], "").is_err());
        s.closed = true;
        assert!(check_response(&s, &[(q0, Satisfaction::Satisfied)], "").unwrap_err().for_field("survey").unwrap().contains("已结束"));
    }
}
