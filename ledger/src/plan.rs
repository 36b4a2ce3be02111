//! 实施方案: a unit's implementation plan for a round the campaign office (先锋办) opened. The
//! secretary drafts it offline; submitting adds a version, locked; the office approves that
//! version or returns it with an opinion (and, where it wants, one per part); a returned plan
//! is drafted on and submitted again as a new version. Every version and every opinion is kept.
//!
//! ```text
//! 起草中 ──报送(书记)──▶ 待审核 ──批准(先锋办)──▶ 已批准
//!                          └──退回(先锋办)──▶ 已退回 ──报送(书记)──▶ 待审核 …
//! ```
//! As with a 差评's steps, versions and reviews are entries added, never changed, and the state
//! is read from them: the latest version (by time, then id) is the one that counts, and only a
//! review of that version decides it. Two phones of one unit submitting at once offline make two
//! versions; the later one is what the office reviews, the other stays in the history.
//!
//! Not yet kept in a unit's ledger: this is the model the office's rounds (issue 31) are built on.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::codes::coded_enum;
use crate::pledge::Aim;
use crate::validation::ValidationErrors;
use crate::RecordId;

pub const MAX_TEXT: usize = 5_000;
pub const MAX_ITEM: usize = 500;
pub const MAX_NAME: usize = 50;
/// Carriers, steps and tasks of one plan, each.
pub const MAX_ITEMS: usize = 100;

coded_enum! {
    /// The parts of a plan, in the order the campaign's template gives them; the office may
    /// return a plan with an opinion on each.
    pub enum PlanPart {
        Goals = ("goals", "目标任务"),
        Carriers = ("carriers", "主要载体"),
        Steps = ("steps", "方法步骤"),
        Leadership = ("leadership", "组织领导"),
        Requirements = ("requirements", "工作要求"),
        Tasks = ("tasks", "任务清单"),
    }
}

/// 主要载体: what the unit will do under one of the campaign's 四争先 or 四领先.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Carrier {
    pub aim: Aim,
    pub text: String,
}

/// 方法步骤: one stage, with its dates.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stage {
    pub text: String,
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
}

/// One line of the task list: what, who, by when. Its id stays the same across versions, so
/// an approved plan's task is followed as one item however often the plan was revised.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanTask {
    pub id: RecordId,
    pub what: String,
    pub who: String,
    pub due: Option<NaiveDate>,
}

/// What a plan says: the campaign's template, part by part.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanContent {
    pub goals: String,
    pub carriers: Vec<Carrier>,
    pub stages: Vec<Stage>,
    /// 组织领导: the leader and the liaison.
    pub leader: String,
    pub liaison: String,
    pub requirements: String,
    pub tasks: Vec<PlanTask>,
}

impl PlanContent {
    /// What must be there before a plan is submitted, each message under its part's field.
    /// A draft may be saved incomplete; only its sizes are bounded ([`Self::check_sizes`]).
    pub fn check_complete(&self) -> Result<(), ValidationErrors> {
        let mut e = self.sizes();
        if self.goals.trim().is_empty() {
            e.push("goals", "请填写目标任务");
        }
        if self.carriers.iter().all(|c| c.text.trim().is_empty()) {
            e.push("carriers", "请至少写一项主要载体");
        }
        if self.stages.iter().all(|s| s.text.trim().is_empty()) {
            e.push("stages", "请写明方法步骤");
        }
        if let Some(s) = self.stages.iter().find(|s| matches!((s.from, s.to), (Some(a), Some(b)) if b < a)) {
            e.push("stages", format!("“{}”的结束日期早于开始日期", cut(&s.text)));
        }
        if self.leader.trim().is_empty() || self.liaison.trim().is_empty() {
            e.push("leadership", "请填写组织领导的负责人和联络员");
        }
        if self.tasks.is_empty() {
            e.push("tasks", "请至少列出一项任务");
        }
        if let Some(t) = self.tasks.iter().find(|t| t.what.trim().is_empty() || t.who.trim().is_empty() || t.due.is_none()) {
            let named = if t.what.trim().is_empty() { "一项任务".to_owned() } else { format!("任务“{}”", cut(&t.what)) };
            e.push("tasks", format!("{named}要写明做什么、谁负责、何时完成"));
        }
        e.into_result(|| ())
    }

    /// Sizes, which bound a draft as much as a submitted plan.
    pub fn check_sizes(&self) -> Result<(), ValidationErrors> {
        self.sizes().into_result(|| ())
    }

    fn sizes(&self) -> ValidationErrors {
        let mut e = ValidationErrors::default();
        e.max_len("goals", "目标任务", &self.goals, MAX_TEXT);
        e.max_len("requirements", "工作要求", &self.requirements, MAX_TEXT);
        e.max_len("leadership", "负责人", &self.leader, MAX_NAME);
        e.max_len("leadership", "联络员", &self.liaison, MAX_NAME);
        for (field, name, n) in [("carriers", "主要载体", self.carriers.len()), ("stages", "方法步骤", self.stages.len()), ("tasks", "任务", self.tasks.len())] {
            if n > MAX_ITEMS {
                e.push(field, format!("{name}最多 {MAX_ITEMS} 项，现有 {n} 项"));
            }
        }
        for c in &self.carriers {
            e.max_len("carriers", "每项主要载体", &c.text, MAX_ITEM);
        }
        for s in &self.stages {
            e.max_len("stages", "每个步骤", &s.text, MAX_ITEM);
        }
        for t in &self.tasks {
            e.max_len("tasks", "每项任务", &t.what, MAX_ITEM);
            e.max_len("tasks", "任务负责人", &t.who, MAX_NAME);
        }
        e
    }
}

fn cut(text: &str) -> String {
    let text = text.trim();
    if text.chars().count() > 20 {
        format!("{}…", text.chars().take(20).collect::<String>())
    } else {
        text.to_owned()
    }
}

/// 报送: one submitted version, as it was.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Submission {
    pub id: RecordId,
    pub at: i64,
    pub by: String,
    pub content: PlanContent,
}

coded_enum! {
    pub enum ReviewVerdict {
        Approve = ("approve", "批准"),
        Return = ("return", "退回修改"),
    }
}

/// The office's opinion on one version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Review {
    pub id: RecordId,
    pub at: i64,
    pub by: String,
    /// The version reviewed.
    pub submission: RecordId,
    pub verdict: ReviewVerdict,
    pub opinion: String,
    /// Opinions on single parts (a returned plan says where to change it).
    pub parts: Vec<(PlanPart, String)>,
}

coded_enum! {
    pub enum PlanState {
        Drafting = ("drafting", "起草中"),
        Submitted = ("submitted", "待审核"),
        Returned = ("returned", "已退回"),
        Approved = ("approved", "已批准"),
    }
}

/// A unit's plan for one round.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Plan {
    pub id: RecordId,
    /// The office's round it answers.
    pub round: RecordId,
    /// What the secretary is writing now (the next version).
    pub draft: PlanContent,
    pub submissions: Vec<Submission>,
    pub reviews: Vec<Review>,
}

impl Plan {
    /// The version that counts: the latest submitted.
    pub fn latest(&self) -> Option<&Submission> {
        self.submissions.iter().max_by(|a, b| (a.at, &a.id).cmp(&(b.at, &b.id)))
    }

    /// The review that decided the latest version, if any has.
    pub fn decision(&self) -> Option<&Review> {
        let latest = self.latest()?;
        self.reviews.iter().filter(|r| r.submission == latest.id).max_by(|a, b| (a.at, &a.id).cmp(&(b.at, &b.id)))
    }

    pub fn state(&self) -> PlanState {
        match (self.latest(), self.decision()) {
            (None, _) => PlanState::Drafting,
            (Some(_), None) => PlanState::Submitted,
            (Some(_), Some(r)) if r.verdict == ReviewVerdict::Approve => PlanState::Approved,
            (Some(_), Some(_)) => PlanState::Returned,
        }
    }

    /// The draft may change, and be submitted, only while the office holds no version of it.
    pub fn may_edit(&self) -> bool {
        matches!(self.state(), PlanState::Drafting | PlanState::Returned)
    }

    /// The office reviews the latest version, once.
    pub fn awaiting_review(&self) -> Option<&Submission> {
        (self.state() == PlanState::Submitted).then(|| self.latest()).flatten()
    }

    /// The approved version's tasks: what the unit follows in its ledger.
    pub fn approved_tasks(&self) -> &[PlanTask] {
        match self.state() {
            PlanState::Approved => self.latest().map_or(&[], |s| s.content.tasks.as_slice()),
            _ => &[],
        }
    }
}

coded_enum! {
    /// Where a unit stands in a plan round, as the office's desk lists it.
    pub enum Filing {
        NotFiled = ("not_filed", "未报送"),
        Overdue = ("overdue", "逾期未报送"),
        Submitted = ("submitted", "待审核"),
        Returned = ("returned", "已退回"),
        Approved = ("approved", "已批准"),
    }
}

/// A unit's filing in a round with `deadline`: a plan never submitted is overdue the day after.
pub fn filing(plan: Option<&Plan>, deadline: NaiveDate, today: NaiveDate) -> Filing {
    match plan.map(Plan::state) {
        None | Some(PlanState::Drafting) if today > deadline => Filing::Overdue,
        None | Some(PlanState::Drafting) => Filing::NotFiled,
        Some(PlanState::Submitted) => Filing::Submitted,
        Some(PlanState::Returned) => Filing::Returned,
        Some(PlanState::Approved) => Filing::Approved,
    }
}

#[cfg(test)]
mod tests;
