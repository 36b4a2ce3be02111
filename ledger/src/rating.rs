//! Residents' ratings (好差评) from the public board (先锋广场), and the case a 差评 opens.
//!
//! The server writes each rating into the unit's ledger as a record of the board's own actor;
//! nobody edits it afterwards. A 差评 (不满意 or 非常不满意) is a case the unit must answer:
//!
//! ```text
//! 待签收 ──签收(书记)──▶ 待答复 ──整改 / 解释(书记)──▶ 已答复 ──群众回评(once)
//!                          │
//!                          └──申诉(书记)──▶ 申诉中 ──撤销(督查)──▶ 已撤销
//!                                              └──维持(督查)──▶ 待答复 (the unit answers after all)
//! ```
//! Steps are entries added to the record, never changed. Two phones taking a step at once
//! (both 签收 offline) each add theirs; the state is read by folding the steps in time order
//! and skipping one the state does not allow then, so every phone and the server read the
//! same state from the same steps.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::calendar::WorkCalendar;
use crate::codes::{coded_enum, Verdict};
use crate::report::day_of;
use crate::validation::ValidationErrors;
use crate::RecordId;

coded_enum! {
    /// What a rating is about.
    pub enum Target {
        Post = ("posts", "岗位"),
        Pledge = ("pledges", "承诺"),
        Visit = ("visits", "走访"),
        Problem = ("problems", "问题"),
    }
}

coded_enum! {
    /// How the resident came to rate.
    pub enum Way {
        /// A poster's QR code on the wall (per post or pledge).
        Poster = ("poster", "扫码评价"),
        /// A one-time code a cadre's phone showed at the end of a piece of work (一事一评).
        Once = ("once", "一事一评"),
    }
}

coded_enum! {
    /// A step of a 差评's case.
    pub enum StepKind {
        Acknowledge = ("acknowledge", "签收"),
        Rectify = ("rectify", "整改"),
        Explain = ("explain", "解释"),
        Appeal = ("appeal", "申诉"),
        Uphold = ("uphold", "维持差评"),
        Withdraw = ("withdraw", "撤销差评"),
        /// The resident's verdict on the answer, once, through the link they were given.
        Recheck = ("recheck", "群众回评"),
    }
}

/// Who takes a step: the unit's secretary, a supervisor, or the board for the resident.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StepTaker {
    Secretary,
    Supervisor,
    Board,
}

impl StepKind {
    pub fn taker(self) -> StepTaker {
        match self {
            Self::Acknowledge | Self::Rectify | Self::Explain | Self::Appeal => StepTaker::Secretary,
            Self::Uphold | Self::Withdraw => StepTaker::Supervisor,
            Self::Recheck => StepTaker::Board,
        }
    }

    /// Whether the step must say something (what was done, why, on what grounds).
    pub fn needs_text(self) -> bool {
        !matches!(self, Self::Acknowledge | Self::Recheck)
    }
}

pub const MAX_COMMENT: usize = 500;
pub const MAX_STEP_TEXT: usize = 1_000;
/// Digits of a follow-up phone number, as a resident may type it (with spaces or dashes).
pub const MAX_PHONE: usize = 20;

/// One rating as the ledger holds it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rating {
    pub id: RecordId,
    pub target: Target,
    /// The rated record; None for a target that no longer reads as an id.
    pub target_id: Option<RecordId>,
    pub verdict: Verdict,
    /// The resident's words; shown on the board without who wrote them.
    pub comment: String,
    pub way: Way,
    /// For 一事一评: the cadre whose phone made the code.
    pub code_by: String,
    pub steps: Vec<CaseStep>,
    /// Only a damaged or foreign document has any: nobody may write a rating's fields twice.
    pub conflicts: Vec<crate::record::Conflict>,
    pub created_at: i64,
    pub deleted: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseStep {
    pub id: RecordId,
    pub at: i64,
    pub by: String,
    pub kind: StepKind,
    pub text: String,
    /// The resident's verdict, for [`StepKind::Recheck`].
    pub verdict: Option<Verdict>,
}

/// Where a 差评's case stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum CaseState {
    /// 待签收
    Open,
    /// 待答复: acknowledged, or the appeal was not upheld.
    Acknowledged,
    /// 申诉中: waiting for the supervisor.
    Appealed,
    /// 已答复: rectified or explained.
    Answered,
    /// 已撤销: the supervisor withdrew the 差评 on appeal.
    Withdrawn,
}

impl CaseState {
    pub fn label(self) -> &'static str {
        match self {
            Self::Open => "待签收",
            Self::Acknowledged => "待答复",
            Self::Appealed => "申诉中",
            Self::Answered => "已答复",
            Self::Withdrawn => "已撤销",
        }
    }

    /// The steps open from this state.
    pub fn next_steps(self) -> &'static [StepKind] {
        match self {
            Self::Open => &[StepKind::Acknowledge],
            Self::Acknowledged => &[StepKind::Rectify, StepKind::Explain, StepKind::Appeal],
            Self::Appealed => &[StepKind::Uphold, StepKind::Withdraw],
            Self::Answered => &[StepKind::Recheck],
            Self::Withdrawn => &[],
        }
    }

    /// The unit's part is done (it may still be rechecked).
    pub fn is_settled(self) -> bool {
        matches!(self, Self::Answered | Self::Withdrawn)
    }
}

/// The organisation's time limits for a 差评, in working days of its calendar.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseRules {
    /// 签收 within this many working days of the rating.
    pub acknowledge_days: u32,
    /// 整改, 解释 or 申诉 within this many working days of the rating (or of a 维持).
    pub answer_days: u32,
    /// Which days are working days (the holidays and worked weekends the admin entered).
    #[serde(default)]
    pub calendar: WorkCalendar,
}

impl Default for CaseRules {
    fn default() -> Self {
        Self { acknowledge_days: 1, answer_days: 5, calendar: WorkCalendar::default() }
    }
}

impl CaseRules {
    pub const MAX_DAYS: u32 = 60;

    pub fn check(self) -> Result<Self, String> {
        for (days, what) in [(self.acknowledge_days, "签收时限"), (self.answer_days, "答复时限")] {
            if days == 0 || days > Self::MAX_DAYS {
                return Err(format!("{what}应在 1 到 {} 个工作日之间", Self::MAX_DAYS));
            }
        }
        if self.acknowledge_days > self.answer_days {
            return Err("签收时限不能长于答复时限".into());
        }
        Ok(Self { calendar: self.calendar.check()?, ..self })
    }
}

/// A case as read from its steps.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Case {
    pub state: CaseState,
    /// The step that settled it (整改 or 解释 with its text; 撤销 with the supervisor's reason).
    pub answer: Option<CaseStep>,
    /// The resident's verdict on the answer.
    pub recheck: Option<Verdict>,
    /// The last day to take the next step the unit owes; None when it owes none.
    pub due: Option<NaiveDate>,
}

impl Case {
    pub fn is_overdue(&self, today: NaiveDate) -> bool {
        self.due.is_some_and(|d| today > d)
    }
}

impl Rating {
    /// The case this rating opened: None for a rating that is not a 差评.
    pub fn case(&self, rules: &CaseRules) -> Option<Case> {
        if !self.verdict.is_bad() {
            return None;
        }
        let created = day_of(self.created_at);
        let mut case = Case { state: CaseState::Open, answer: None, recheck: None, due: created.map(|d| rules.calendar.after(d, rules.acknowledge_days)) };
        let mut steps: Vec<&CaseStep> = self.steps.iter().collect();
        crate::order::sort_by(&mut steps, |a, b| (a.at, &a.id).cmp(&(b.at, &b.id)));
        // The answer is due from the rating's day, or again from the day a supervisor upheld it.
        let mut answer_from = created;
        for step in steps {
            if !case.state.next_steps().contains(&step.kind) || (step.kind == StepKind::Recheck && case.recheck.is_some()) {
                continue;
            }
            match step.kind {
                StepKind::Acknowledge => case.state = CaseState::Acknowledged,
                StepKind::Rectify | StepKind::Explain => {
                    case.state = CaseState::Answered;
                    case.answer = Some(step.clone());
                }
                StepKind::Appeal => case.state = CaseState::Appealed,
                StepKind::Uphold => {
                    case.state = CaseState::Acknowledged;
                    answer_from = day_of(step.at);
                }
                StepKind::Withdraw => {
                    case.state = CaseState::Withdrawn;
                    case.answer = Some(step.clone());
                }
                StepKind::Recheck => case.recheck = step.verdict,
            }
        }
        case.due = match case.state {
            CaseState::Open => created.map(|d| rules.calendar.after(d, rules.acknowledge_days)),
            CaseState::Acknowledged => answer_from.map(|d| rules.calendar.after(d, rules.answer_days)),
            // The supervisor's decision and the resident's recheck are not the unit's to owe.
            CaseState::Appealed | CaseState::Answered | CaseState::Withdrawn => None,
        };
        Some(case)
    }

    /// Whether the case allows `kind` now (a resident's recheck only once).
    pub fn allows(&self, kind: StepKind) -> bool {
        self.case(&CaseRules::default()).is_some_and(|c| c.state.next_steps().contains(&kind) && !(kind == StepKind::Recheck && c.recheck.is_some()))
    }
}

/// A resident's rating as the board received it, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidRating {
    pub target: Target,
    pub target_id: RecordId,
    pub verdict: Verdict,
    pub comment: String,
    pub way: Way,
    pub code_by: String,
}

/// What a resident sends from the board's form. Nothing defaults: no verdict, no rating.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct RatingForm {
    pub verdict: String,
    pub comment: String,
    pub phone: String,
}

impl RatingForm {
    /// The verdict, comment and follow-up phone (digits only, may be empty).
    pub fn validate(&self) -> Result<(Verdict, String, String), ValidationErrors> {
        let mut e = ValidationErrors::default();
        let verdict = Verdict::from_code(self.verdict.trim());
        if verdict.is_none() {
            e.push("verdict", "请选择一项评价");
        }
        let comment = self.comment.trim();
        e.max_len("comment", "评价内容", comment, MAX_COMMENT);
        if verdict.is_some_and(Verdict::is_bad) && comment.is_empty() {
            e.push("comment", "给出差评时，请写下原因，以便整改");
        }
        let phone = phone_digits(&self.phone);
        if phone.is_err() {
            e.push("phone", "手机号码格式不对（11 位数字）");
        }
        e.into_result(|| (verdict.expect("checked above"), comment.to_owned(), phone.unwrap_or_default()))
    }
}

/// A follow-up phone number as typed: "" or 11 digits starting with 1 (spaces and dashes
/// dropped), or a landline of 7 to 12 digits with its area code.
pub fn phone_digits(typed: &str) -> Result<String, ()> {
    let typed = typed.trim();
    if typed.chars().count() > MAX_PHONE {
        return Err(());
    }
    let digits: String = typed.chars().filter(|c| !matches!(c, ' ' | '-')).collect();
    if digits.is_empty() {
        return Ok(digits);
    }
    if !digits.chars().all(|c| c.is_ascii_digit()) {
        return Err(());
    }
    let mobile = digits.len() == 11 && digits.starts_with('1');
    let landline = digits.starts_with('0') && (10..=12).contains(&digits.len());
    if mobile || landline {
        Ok(digits)
    } else {
        Err(())
    }
}

/// Checks a step's words: required for every step but 签收 and 回评.
pub fn check_step(kind: StepKind, text: &str) -> Result<String, ValidationErrors> {
    let mut e = ValidationErrors::default();
    let text = text.trim();
    if kind.needs_text() && text.is_empty() {
        e.push("text", format!("请写明{}的内容", kind.label()));
    }
    e.max_len("text", kind.label(), text, MAX_STEP_TEXT);
    e.into_result(|| text.to_owned())
}

pub mod once;
#[cfg(test)]
mod tests;
