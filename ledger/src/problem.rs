//! Problems (突出问题清单): raised from a visit or on their own, followed through a fixed status
//! machine to the residents' verdict at the follow-up.
//!
//! ```text
//! 待办 ──开始办理──▶ 办理中 ──办结──▶ 已办结 ──回访(满意/基本满意)──▶ 已回访
//!  │  └──────────办结(当场解决)──────▶   ▲         │
//!  │                 │                   │         └─回访(不满意)──▶ 办理中 (reopened)
//!  └──不予受理──▶ 不予受理 ◀──不予受理───┘
//!                    └──重新受理──▶ 待办
//! ```

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::codes::{coded_enum, Satisfaction};
use crate::record::{Conflict, LogEntry};
use crate::validation::ValidationErrors;
use crate::RecordId;

coded_enum! {
    /// 问题类别
    pub enum Category {
        Employment = ("employment", "就业"),
        Medical = ("medical", "就医"),
        Education = ("education", "教育"),
        Housing = ("housing", "住房"),
        Dispute = ("dispute", "矛盾纠纷"),
        Business = ("business", "企业经营"),
        Infrastructure = ("infrastructure", "基础设施"),
        Environment = ("environment", "生态环境"),
        Conduct = ("conduct", "党风党纪"),
        Other = ("other", "其他"),
    }
}

coded_enum! {
    /// 反映人: who raised the problem.
    pub enum RaisedBy {
        Resident = ("resident", "群众"),
        Enterprise = ("enterprise", "企业"),
        Cadre = ("cadre", "干部"),
        /// A resident's question or complaint on the public board; its 办结 result (or its
        /// 不予受理 reason) is the answer the board publishes.
        Message = ("message", "群众留言"),
    }
}

coded_enum! {
    /// 紧急程度
    pub enum Urgency {
        Normal = ("normal", "一般"),
        Urgent = ("urgent", "紧急"),
        Critical = ("critical", "特急"),
    }
}

coded_enum! {
    /// 办理状态
    pub enum Status {
        Pending = ("pending", "待办"),
        InProgress = ("in_progress", "办理中"),
        Resolved = ("resolved", "已办结"),
        FollowedUp = ("followed_up", "已回访"),
        Rejected = ("rejected", "不予受理"),
    }
}

coded_enum! {
    /// 企业困难类型: what kind of difficulty a served enterprise raised.
    pub enum Difficulty {
        Labor = ("labor", "用工"),
        Finance = ("finance", "融资"),
        Land = ("land", "用地"),
        Approval = ("approval", "审批"),
        Market = ("market", "市场"),
        Technology = ("technology", "技术"),
        Other = ("other", "其他"),
    }
}

coded_enum! {
    /// The steps a problem can take; which are open depends on its status.
    pub enum ActionKind {
        Start = ("start", "开始办理"),
        Resolve = ("resolve", "办结"),
        Reject = ("reject", "不予受理"),
        FollowUp = ("follow_up", "回访"),
        Reopen = ("reopen", "重新受理"),
    }
}

/// A status change with what it requires.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Action {
    Start,
    /// 办结, with what was done (办理结果).
    Resolve {
        result: String,
    },
    /// 不予受理, with the reason the residents will be told.
    Reject {
        reason: String,
    },
    /// 回访: the residents' verdict; 不满意 reopens the problem.
    FollowUp {
        satisfaction: Satisfaction,
        comment: String,
    },
    Reopen,
}

impl Action {
    pub fn kind(&self) -> ActionKind {
        match self {
            Self::Start => ActionKind::Start,
            Self::Resolve { .. } => ActionKind::Resolve,
            Self::Reject { .. } => ActionKind::Reject,
            Self::FollowUp { .. } => ActionKind::FollowUp,
            Self::Reopen => ActionKind::Reopen,
        }
    }

    /// The words the log keeps for this step.
    pub fn note(&self) -> String {
        match self {
            Self::Start | Self::Reopen => String::new(),
            Self::Resolve { result } => result.trim().to_owned(),
            Self::Reject { reason } => reason.trim().to_owned(),
            Self::FollowUp { satisfaction, comment } => {
                let comment = comment.trim();
                if comment.is_empty() {
                    satisfaction.label().to_owned()
                } else {
                    format!("{}：{comment}", satisfaction.label())
                }
            }
        }
    }
}

pub const MAX_NOTE: usize = 2_000;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransitionError {
    #[error("“{status}”的问题不能“{action}”")]
    NotAllowed { status: &'static str, action: &'static str },
    #[error("{0}")]
    Missing(&'static str),
    #[error("说明最多 {MAX_NOTE} 字")]
    TooLong,
    #[error("两人同时改了状态（{0}），请先选定一个")]
    Conflicted(String),
}

impl Status {
    /// The steps open from this status, in the order the app offers them.
    pub fn actions(self) -> &'static [ActionKind] {
        use ActionKind::*;
        match self {
            Self::Pending => &[Start, Resolve, Reject],
            Self::InProgress => &[Resolve, Reject],
            Self::Resolved => &[FollowUp],
            Self::FollowedUp => &[],
            Self::Rejected => &[Reopen],
        }
    }

    /// Whether one step of the machine leads from `from` to this status (or it stays).
    pub fn follows(self, from: Status) -> bool {
        use ActionKind::*;
        self == from
            || from.actions().iter().any(|a| match a {
                Start => self == Self::InProgress,
                Resolve => self == Self::Resolved,
                Reject => self == Self::Rejected,
                // A dissatisfied follow-up reopens the problem as in progress.
                FollowUp => matches!(self, Self::FollowedUp | Self::InProgress),
                Reopen => self == Self::Pending,
            })
    }

    /// Still someone's work to do: the statuses a deadline applies to.
    pub fn is_open(self) -> bool {
        matches!(self, Self::Pending | Self::InProgress)
    }

    /// Where `action` leads from here, or why it cannot be taken.
    pub fn apply(self, action: &Action) -> Result<Status, TransitionError> {
        let kind = action.kind();
        if !self.actions().contains(&kind) {
            return Err(TransitionError::NotAllowed { status: self.label(), action: kind.label() });
        }
        if action.note().chars().count() > MAX_NOTE {
            return Err(TransitionError::TooLong);
        }
        Ok(match action {
            Action::Start => Self::InProgress,
            Action::Resolve { result } if result.trim().is_empty() => return Err(TransitionError::Missing("请写明办理结果")),
            Action::Resolve { .. } => Self::Resolved,
            Action::Reject { reason } if reason.trim().is_empty() => return Err(TransitionError::Missing("请写明不予受理的理由")),
            Action::Reject { .. } => Self::Rejected,
            Action::FollowUp { satisfaction: Satisfaction::Dissatisfied, comment } if comment.trim().is_empty() => {
                return Err(TransitionError::Missing("群众不满意时，请记下不满意的原因"))
            }
            Action::FollowUp { satisfaction: Satisfaction::Dissatisfied, .. } => Self::InProgress,
            Action::FollowUp { .. } => Self::FollowedUp,
            Action::Reopen => Self::Pending,
        })
    }
}

/// Log entry kinds of a problem.
pub mod log_kind {
    pub const RAISED: &str = "raised";
    pub const STATUS: &str = "status";
    pub const PROGRESS: &str = "progress";
    /// 指派: who is responsible now (the text), written whenever it changes after raising.
    pub const ASSIGNED: &str = "assigned";
    /// A supervision remark (督办意见), in the `supervision` map.
    pub const SUPERVISION: &str = "supervision";
}

pub const MAX_TITLE: usize = 100;
pub const MAX_DESCRIPTION: usize = 10_000;
pub const MAX_PERSON: usize = 50;
pub const MAX_CONTACT: usize = 100;
pub const MAX_PROGRESS: usize = 5_000;

/// A problem as the UI shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Problem {
    pub id: RecordId,
    pub title: String,
    pub description: String,
    pub category: Category,
    pub raised_by: RaisedBy,
    pub urgency: Urgency,
    /// 责任人
    pub responsible: String,
    /// How to reach the person who raised it (反映人联系方式), for the 回访; optional.
    #[serde(default)]
    pub contact: String,
    /// 办结时限
    pub deadline: Option<NaiveDate>,
    pub status: Status,
    /// 办理结果, set when resolved.
    pub result: String,
    /// 不予受理理由
    pub reject_reason: String,
    /// The last follow-up's verdict and comment.
    pub satisfaction: Option<Satisfaction>,
    pub satisfaction_comment: String,
    /// The visit it was raised at (linked both ways: the visit lists its problems).
    pub visit_id: Option<RecordId>,
    /// The served enterprise that raised it, with the kind of difficulty.
    pub enterprise_id: Option<RecordId>,
    pub difficulty: Option<Difficulty>,
    /// Status changes and progress, oldest first.
    pub log: Vec<LogEntry>,
    /// Supervision remarks (督办意见) from supervisors above the unit, oldest first.
    pub supervision: Vec<LogEntry>,
    /// Photos (see [`crate::photo`]), oldest first.
    #[serde(default)]
    pub photos: Vec<crate::photo::PhotoRef>,
    /// Where it was recorded, when the cadre tapped 记录位置.
    #[serde(default)]
    pub location: Option<crate::photo::Location>,
    pub conflicts: Vec<Conflict>,
    pub created_at: i64,
    pub updated_at: i64,
    pub deleted: bool,
}

impl Problem {
    /// Past its deadline and not yet dealt with (逾期).
    pub fn is_overdue(&self, today: NaiveDate) -> bool {
        self.status.is_open() && self.deadline.is_some_and(|d| d < today)
    }

    pub fn conflict(&self, field: &str) -> Option<&Conflict> {
        self.conflicts.iter().find(|c| c.field == field)
    }

    /// The problem's own photos, then those taken for its progress steps, in the log's order.
    pub fn all_photos(&self) -> impl Iterator<Item = &crate::photo::PhotoRef> {
        self.photos.iter().chain(self.log.iter().flat_map(|e| &e.photos))
    }

    /// The statuses two people moved it to, as read ("已办结 / 不予受理"), while that conflict
    /// is unsettled; no step may be taken until then.
    pub fn status_conflict(&self) -> Option<String> {
        let c = self.conflict("status")?;
        Some(c.values.iter().map(|v| Status::from_code(v).map_or(v.clone(), |s| s.label().to_owned())).collect::<Vec<_>>().join(" / "))
    }

    pub fn to_draft(&self) -> ProblemDraft {
        ProblemDraft {
            title: self.title.clone(),
            description: self.description.clone(),
            category: self.category,
            raised_by: self.raised_by,
            urgency: self.urgency,
            responsible: self.responsible.clone(),
            contact: self.contact.clone(),
            deadline: self.deadline.map(|d| d.to_string()).unwrap_or_default(),
            visit_id: self.visit_id.clone(),
            enterprise_id: self.enterprise_id.clone(),
            difficulty: self.difficulty,
            raised_on: None,
        }
    }
}

/// What a problem form holds, unvalidated.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProblemDraft {
    pub title: String,
    pub description: String,
    pub category: Category,
    pub raised_by: RaisedBy,
    pub urgency: Urgency,
    pub responsible: String,
    pub contact: String,
    pub deadline: String,
    pub visit_id: Option<RecordId>,
    pub enterprise_id: Option<RecordId>,
    pub difficulty: Option<Difficulty>,
    /// The problem's own date (the day it was raised, as the phone's calendar has it): a
    /// 时限 before it is refused. None: not checked.
    pub raised_on: Option<NaiveDate>,
}

impl Default for ProblemDraft {
    fn default() -> Self {
        Self {
            title: String::new(),
            description: String::new(),
            category: Category::Other,
            raised_by: RaisedBy::Resident,
            urgency: Urgency::Normal,
            responsible: String::new(),
            contact: String::new(),
            deadline: String::new(),
            visit_id: None,
            enterprise_id: None,
            difficulty: None,
            raised_on: None,
        }
    }
}

impl ProblemDraft {
    /// A difficulty an enterprise raised: filed under 企业经营, raised by the enterprise. Its
    /// type is left for the person to choose: a required choice has no default.
    pub fn for_enterprise(enterprise: RecordId) -> Self {
        Self { category: Category::Business, raised_by: RaisedBy::Enterprise, enterprise_id: Some(enterprise), ..Self::default() }
    }

    pub fn validate(&self) -> Result<ValidProblem, ValidationErrors> {
        let mut e = ValidationErrors::default();
        let title = e.required("title", &self.title, "请填写问题标题（一句话说清是什么问题）");
        e.max_len("title", "问题标题", title, MAX_TITLE);
        let description = self.description.trim();
        e.max_len("description", "问题描述", description, MAX_DESCRIPTION);
        let responsible = self.responsible.trim();
        e.max_len("responsible", "责任人", responsible, MAX_PERSON);
        let contact = self.contact.trim();
        e.max_len("contact", "反映人联系方式", contact, MAX_CONTACT);
        let deadline = e.optional_date("deadline", "办结时限", &self.deadline);
        if let (Some(deadline), Some(raised_on)) = (deadline, self.raised_on) {
            if deadline < raised_on {
                e.push("deadline", format!("办结时限不能早于问题登记的日期（{raised_on}）"));
            }
        }
        if self.enterprise_id.is_some() && self.difficulty.is_none() {
            e.push("difficulty", "请选择企业困难的类型");
        }
        e.into_result(|| ValidProblem {
            title: title.to_owned(),
            description: description.to_owned(),
            category: self.category,
            raised_by: self.raised_by,
            urgency: self.urgency,
            responsible: responsible.to_owned(),
            contact: contact.to_owned(),
            deadline,
            visit_id: self.visit_id.clone(),
            enterprise_id: self.enterprise_id.clone(),
            difficulty: self.difficulty,
        })
    }
}

/// A problem that passed validation: the only input the ledger accepts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidProblem {
    pub title: String,
    pub description: String,
    pub category: Category,
    pub raised_by: RaisedBy,
    pub urgency: Urgency,
    pub responsible: String,
    pub contact: String,
    pub deadline: Option<NaiveDate>,
    pub visit_id: Option<RecordId>,
    pub enterprise_id: Option<RecordId>,
    pub difficulty: Option<Difficulty>,
}

/// Counts for a unit's problem overview.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProblemSummary {
    pub total: usize,
    pub by_status: Vec<(Status, usize)>,
    pub overdue: usize,
    /// Follow-ups rated 满意 or 基本满意, out of all follow-ups.
    pub satisfied: usize,
    pub followed_up: usize,
}

/// Counts by status, overdue, and the follow-up verdicts, over problems not deleted.
pub fn summarize_problems(problems: &[Problem], today: NaiveDate) -> ProblemSummary {
    let live: Vec<&Problem> = problems.iter().filter(|p| !p.deleted).collect();
    ProblemSummary {
        total: live.len(),
        by_status: Status::ALL.iter().map(|s| (*s, live.iter().filter(|p| p.status == *s).count())).collect(),
        overdue: live.iter().filter(|p| p.is_overdue(today)).count(),
        satisfied: live.iter().filter(|p| p.satisfaction.is_some_and(Satisfaction::counts_as_satisfied)).count(),
        followed_up: live.iter().filter(|p| p.satisfaction.is_some()).count(),
    }
}

/// A stored value of a problem field (a code, for coded fields) as a person reads it: what
/// the conflict chooser shows.
pub fn describe_value(field: &str, value: &str) -> String {
    let label = match field {
        "status" => Status::from_code(value).map(Status::label),
        "category" => Category::from_code(value).map(Category::label),
        "raised_by" => RaisedBy::from_code(value).map(RaisedBy::label),
        "urgency" => Urgency::from_code(value).map(Urgency::label),
        "difficulty" => Difficulty::from_code(value).map(Difficulty::label),
        "satisfaction" => Satisfaction::from_code(value).map(Satisfaction::label),
        _ => None,
    };
    match label {
        Some(l) => l.to_owned(),
        None if value.is_empty() => "（空）".to_owned(),
        None => value.to_owned(),
    }
}

/// One line of a problem's log as a person reads it.
pub fn describe_entry(e: &LogEntry) -> String {
    let status = |code: &str| Status::from_code(code).map_or(code.to_owned(), |s| s.label().to_owned());
    match e.kind.as_str() {
        log_kind::RAISED => "登记问题".to_owned(),
        log_kind::STATUS if e.text.is_empty() => format!("{} → {}", status(&e.from), status(&e.to)),
        log_kind::STATUS => format!("{} → {}：{}", status(&e.from), status(&e.to), e.text),
        log_kind::ASSIGNED if e.text.is_empty() => "取消指派".to_owned(),
        log_kind::ASSIGNED => format!("指派给 {}", e.text),
        _ => e.text.clone(),
    }
}

#[cfg(test)]
mod tests;
