//! Every change a person makes to a ledger, as plain data (命令): what the form held or the
//! button meant, never a closure. The page builds a command and whoever owns the ledger applies
//! it: today the page itself, and once the ledger moves into a Web Worker (issue 28), the
//! worker, with the command sent across as a message. A form's draft is validated again where
//! it is applied, so a command can never write what its form would refuse.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::codes::{Satisfaction, Verdict};
use crate::photo::{MediaEdit, PhotoRef};
use crate::plan::PlanContent;
use crate::pledge::Evaluator;
use crate::problem::Action;
use crate::rating::StepKind;
use crate::rule::{Cleanup, RuleStatus};
use crate::unit_ledger::RuleDraft;
use crate::validation::ValidationErrors;
use crate::{EnterpriseDraft, LedgerError, PledgeDraft, PostDraft, ProblemDraft, RecordId, Section, SurveyDraft, UnitLedger, VisitDraft};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Command {
    /// A visit, and the problem found on it if any: one change, neither kept alone.
    AddVisit {
        visit: VisitDraft,
        problem: Option<ProblemDraft>,
        /// The visit's photos and place.
        #[serde(default)]
        media: MediaEdit,
    },
    UpdateVisit {
        id: RecordId,
        visit: VisitDraft,
        /// Photos added and removed, the place set or cleared (see [`crate::photo`]).
        #[serde(default)]
        media: MediaEdit,
    },
    AddProblem {
        problem: ProblemDraft,
        /// Photos added and removed, the place set or cleared (see [`crate::photo`]).
        #[serde(default)]
        media: MediaEdit,
    },
    UpdateProblem {
        id: RecordId,
        problem: ProblemDraft,
        /// Photos added and removed, the place set or cleared (see [`crate::photo`]).
        #[serde(default)]
        media: MediaEdit,
    },
    /// A step of the problem's course (受理, 办结, 回访…).
    StepProblem {
        id: RecordId,
        action: Action,
    },
    /// 指派: who is responsible now.
    AssignProblem {
        id: RecordId,
        responsible: String,
    },
    /// 办理进展 (or 帮扶措施 for an enterprise's difficulty).
    ProblemProgress {
        id: RecordId,
        text: String,
        /// Photos taken for this step.
        #[serde(default)]
        photos: Vec<PhotoRef>,
    },
    AddEnterprise {
        enterprise: EnterpriseDraft,
        /// Photos added and removed, the place set or cleared (see [`crate::photo`]).
        #[serde(default)]
        media: MediaEdit,
    },
    UpdateEnterprise {
        id: RecordId,
        enterprise: EnterpriseDraft,
        /// Photos added and removed, the place set or cleared (see [`crate::photo`]).
        #[serde(default)]
        media: MediaEdit,
    },
    AddPledge {
        pledge: PledgeDraft,
    },
    UpdatePledge {
        id: RecordId,
        pledge: PledgeDraft,
    },
    PledgeProgress {
        id: RecordId,
        text: String,
    },
    SetPledgeFulfilled {
        id: RecordId,
        fulfilled: bool,
    },
    /// 评议 of a pledge.
    EvaluatePledge {
        id: RecordId,
        evaluator: Evaluator,
        rating: Satisfaction,
        comment: String,
    },
    AddSurvey {
        survey: SurveyDraft,
    },
    SetSurveyClosed {
        id: RecordId,
        closed: bool,
    },
    /// One resident's answer sheet (答卷).
    AnswerSurvey {
        id: RecordId,
        answers: Vec<(RecordId, Satisfaction)>,
        comment: String,
    },
    /// One resident's five-level answers in a satisfaction round of the office's.
    AnswerRound {
        id: RecordId,
        levels: Vec<(RecordId, Verdict)>,
        comment: String,
    },
    /// 岗位 (设岗定责).
    AddPost {
        post: PostDraft,
    },
    UpdatePost {
        id: RecordId,
        post: PostDraft,
    },
    /// A post or pledge shown on the public board (先锋广场) or taken off it.
    SetPublished {
        section: Section,
        id: RecordId,
        published: bool,
    },
    /// The unit's step on a 差评's case: 签收, 整改, 解释 or 申诉 (or a supervisor's 维持/撤销).
    CaseStep {
        id: RecordId,
        kind: StepKind,
        text: String,
    },
    /// The secretary's draft of the office's 实施方案 (the plan's id is the round's).
    SavePlanDraft {
        id: RecordId,
        content: PlanContent,
    },
    /// 报送: the draft as it stands becomes a version for the office.
    SubmitPlan {
        id: RecordId,
    },
    /// A task of the approved plan done, or not done any more.
    FollowTask {
        id: RecordId,
        task: RecordId,
        done: bool,
        note: String,
    },
    /// 已阅 of the office's 通报.
    OpenNotice {
        id: RecordId,
    },
    AddRule {
        rule: RuleDraft,
    },
    UpdateRule {
        id: RecordId,
        rule: RuleDraft,
    },
    ChangeRule {
        id: RecordId,
        to: RuleStatus,
        reason: String,
    },
    /// A clean-up round's decision on a rule.
    DecideRule {
        id: RecordId,
        round: RecordId,
        decision: Cleanup,
        reason: String,
    },
    /// Photos added to or removed from a record, its place set or cleared; with `entry`, a
    /// photo removed from one of a problem's progress steps.
    EditMedia {
        section: Section,
        id: RecordId,
        entry: Option<RecordId>,
        media: MediaEdit,
    },
    SetDeleted {
        section: Section,
        id: RecordId,
        deleted: bool,
    },
    /// Settles a field two people changed at once with the value chosen.
    ResolveConflict {
        section: Section,
        id: RecordId,
        field: String,
        value: String,
    },
}

impl Command {
    /// Whether it adds or takes off photos (the phone's uploads then have news).
    pub fn touches_photos(&self) -> bool {
        match self {
            Self::AddVisit { media, .. }
            | Self::UpdateVisit { media, .. }
            | Self::AddProblem { media, .. }
            | Self::UpdateProblem { media, .. }
            | Self::AddEnterprise { media, .. }
            | Self::UpdateEnterprise { media, .. }
            | Self::EditMedia { media, .. } => !media.add.is_empty() || !media.remove.is_empty(),
            Self::ProblemProgress { photos, .. } => !photos.is_empty(),
            _ => false,
        }
    }

    /// Applies the command at `now_ms` (`today` is the phone's calendar day, for the checks
    /// of dates). Returns the record it is about: a new record's id, or the problem a visit
    /// raised. A refused command (a draft that does not validate, a step not open from the
    /// status) says why and leaves the ledger as it was, even when it had written part of
    /// itself (the visit of a visit with a problem).
    pub fn apply(&self, ledger: &mut UnitLedger, now_ms: i64, today: NaiveDate) -> Result<RecordId, LedgerError> {
        let before = ledger.heads();
        let result = self.apply_to(ledger, now_ms, today);
        if result.is_err() {
            // Operations not yet committed go first: reading the heads would commit them.
            ledger.doc_mut().rollback();
            if ledger.heads() != before {
                ledger.rollback_to(&before)?;
            }
        }
        result
    }

    fn apply_to(&self, ledger: &mut UnitLedger, now_ms: i64, today: NaiveDate) -> Result<RecordId, LedgerError> {
        match self {
            Self::AddVisit { visit, problem, media } => {
                let visit = visit.validate(today).map_err(refused)?;
                let problem = problem.as_ref().map(ProblemDraft::validate).transpose().map_err(refused)?;
                let visit_id = ledger.add_visit(&visit, now_ms)?;
                ledger.edit_media(Section::Visits, &visit_id, None, media, now_ms)?;
                match problem {
                    Some(mut problem) => {
                        problem.visit_id = Some(visit_id);
                        ledger.add_problem(&problem, now_ms)
                    }
                    None => Ok(visit_id),
                }
            }
            Self::UpdateVisit { id, visit, media } => {
                ledger.update_visit(id, &visit.validate(today).map_err(refused)?, now_ms)?;
                with_media(ledger, Section::Visits, id.clone(), media, now_ms)
            }
            Self::AddProblem { problem, media } => {
                let id = ledger.add_problem(&problem.validate().map_err(refused)?, now_ms)?;
                with_media(ledger, Section::Problems, id, media, now_ms)
            }
            Self::UpdateProblem { id, problem, media } => {
                ledger.update_problem(id, &problem.validate().map_err(refused)?, now_ms)?;
                with_media(ledger, Section::Problems, id.clone(), media, now_ms)
            }
            Self::StepProblem { id, action } => ledger.change_problem_status(id, action, now_ms).map(|_| id.clone()),
            Self::AssignProblem { id, responsible } => ledger.assign_problem(id, responsible, now_ms).map(done(id)),
            Self::ProblemProgress { id, text, photos } => ledger.add_problem_progress_with_photos(id, text, photos, now_ms).map(done(id)),
            Self::AddEnterprise { enterprise, media } => {
                let id = ledger.add_enterprise(&enterprise.validate().map_err(refused)?, now_ms)?;
                with_media(ledger, Section::Enterprises, id, media, now_ms)
            }
            Self::UpdateEnterprise { id, enterprise, media } => {
                ledger.update_enterprise(id, &enterprise.validate().map_err(refused)?, now_ms)?;
                with_media(ledger, Section::Enterprises, id.clone(), media, now_ms)
            }
            Self::EditMedia { section, id, entry, media } => ledger.edit_media(*section, id, entry.as_ref(), media, now_ms).map(done(id)),
            Self::AddPledge { pledge } => ledger.add_pledge(&pledge.validate().map_err(refused)?, now_ms),
            Self::UpdatePledge { id, pledge } => ledger.update_pledge(id, &pledge.validate().map_err(refused)?, now_ms).map(done(id)),
            Self::PledgeProgress { id, text } => ledger.add_pledge_progress(id, text, now_ms).map(done(id)),
            Self::SetPledgeFulfilled { id, fulfilled } => ledger.set_pledge_fulfilled(id, *fulfilled, now_ms).map(done(id)),
            Self::EvaluatePledge { id, evaluator, rating, comment } => ledger.add_evaluation(id, *evaluator, *rating, comment, now_ms).map(done(id)),
            Self::AddSurvey { survey } => ledger.add_survey(&survey.validate(today).map_err(refused)?, now_ms),
            Self::SetSurveyClosed { id, closed } => ledger.set_survey_closed(id, *closed, now_ms).map(done(id)),
            Self::AnswerSurvey { id, answers, comment } => ledger.add_survey_response(id, answers, comment, now_ms).map(done(id)),
            Self::AnswerRound { id, levels, comment } => ledger.add_survey_levels(id, levels, comment, today, now_ms).map(done(id)),
            Self::AddPost { post } => ledger.add_post(&post.validate().map_err(refused)?, now_ms),
            Self::UpdatePost { id, post } => ledger.update_post(id, &post.validate().map_err(refused)?, now_ms).map(done(id)),
            Self::SetPublished { section, id, published } => ledger.set_published(*section, id, *published, now_ms).map(done(id)),
            // A resident's 群众回评 comes only through the board, never from a phone.
            Self::CaseStep { kind: StepKind::Recheck, .. } => Err(LedgerError::Invalid("群众回评只能由群众在先锋广场填写".into())),
            Self::CaseStep { id, kind, text } => ledger.add_case_step(id, *kind, text, None, now_ms).map(done(id)),
            Self::SavePlanDraft { id, content } => ledger.save_plan_draft(id, content, now_ms).map(done(id)),
            Self::SubmitPlan { id } => ledger.submit_plan(id, now_ms).map(|_| id.clone()),
            Self::FollowTask { id, task, done: finished, note } => ledger.follow_task(id, task, *finished, note, now_ms).map(done(id)),
            Self::OpenNotice { id } => ledger.open_notice(id, now_ms).map(|_| id.clone()),
            Self::AddRule { rule } => ledger.add_rule(rule, today, now_ms),
            Self::UpdateRule { id, rule } => ledger.update_rule(id, rule, now_ms).map(done(id)),
            Self::ChangeRule { id, to, reason } => ledger.change_rule(id, *to, reason, today, now_ms).map(done(id)),
            Self::DecideRule { id, round, decision, reason } => ledger.decide_rule(id, round, *decision, reason, today, now_ms).map(done(id)),
            // Plans, rounds and notices are the office's: a phone neither makes nor removes them.
            Self::SetDeleted { section: Section::Plans | Section::Rounds | Section::Notices, .. } => Err(LedgerError::Invalid("先锋办下达的内容不能在手机上删除".into())),
            Self::SetDeleted { section, id, deleted } => ledger.set_deleted(*section, id, *deleted, now_ms).map(done(id)),
            Self::ResolveConflict { section, id, field, value } => ledger.resolve_conflict(*section, id, field, value, now_ms).map(done(id)),
        }
    }
}

/// Applies a form's photo and place changes to the record it just wrote; returns the record.
fn with_media(ledger: &mut UnitLedger, section: Section, id: RecordId, media: &MediaEdit, now_ms: i64) -> Result<RecordId, LedgerError> {
    ledger.edit_media(section, &id, None, media, now_ms).map(|()| id)
}

/// The record a change that returns nothing was about.
fn done(id: &RecordId) -> impl FnOnce(()) -> RecordId + '_ {
    move |()| id.clone()
}

/// A draft's messages as one refusal (the form showed them field by field already).
fn refused(errors: ValidationErrors) -> LedgerError {
    LedgerError::Invalid(errors.0.into_iter().map(|(_, message)| message).collect::<Vec<_>>().join("；"))
}

#[cfg(test)]
mod tests;
