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
//! Kept in the unit's ledger as one record per round, which the server makes for the office
//! when the round opens (`unit_ledger/plans.rs`): two phones can never start two plans for one
//! round.

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
/// A review's opinion, overall or on one part.
pub const MAX_OPINION: usize = 2_000;
/// A task's follow-up note.
pub const MAX_NOTE: usize = 500;
const CONTENT_LAYOUT: u8 = 1;

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
    /// The draft item's id (a version keeps it, so a reviewer's reference stays put).
    pub id: RecordId,
    pub aim: Aim,
    pub text: String,
}

/// 方法步骤: one stage, with its dates.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stage {
    pub id: RecordId,
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

    /// A submitted version as the ledger keeps it: frozen whole in one value, since a version is
    /// never edited and must read back exactly as the office reviewed it. The first byte says
    /// the layout, so a later layout can still read the versions of this one.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = vec![CONTENT_LAYOUT];
        out.extend(postcard::to_allocvec(self).expect("a plan serializes"));
        out
    }

    pub fn decode(bytes: &[u8]) -> Option<Self> {
        match bytes.split_first() {
            Some((&CONTENT_LAYOUT, rest)) => postcard::from_bytes(rest).ok(),
            _ => None,
        }
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
        if let Some(t) = self.tasks.iter().find(|t| self.tasks.iter().filter(|u| u.id == t.id).count() > 1) {
            e.push("tasks", format!("任务“{}”重复", cut(&t.what)));
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

/// 任务跟进: a task of the approved plan marked done (or reopened) with a note; the latest
/// entry per task is where it stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskStep {
    pub id: RecordId,
    pub at: i64,
    pub by: String,
    pub task: RecordId,
    pub done: bool,
    pub text: String,
}

/// An approved task as the unit follows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FollowedTask {
    pub task: PlanTask,
    /// When it was marked done, if it stands done.
    pub done_at: Option<i64>,
    pub steps: Vec<TaskStep>,
}

impl FollowedTask {
    /// Past its date and not done: what the supervisor's desk lists.
    pub fn overdue(&self, today: NaiveDate) -> bool {
        self.done_at.is_none() && self.task.due.is_some_and(|due| today > due)
    }
}

/// A unit's plan for one round. Its id is the round's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Plan {
    pub id: RecordId,
    /// The round's title, deadline and the office that opened it, as the office wrote them.
    pub title: String,
    pub deadline: Option<NaiveDate>,
    pub office: String,
    /// What the secretary is writing now (the next version).
    pub draft: PlanContent,
    pub submissions: Vec<Submission>,
    pub reviews: Vec<Review>,
    pub follow: Vec<TaskStep>,
    pub conflicts: Vec<crate::record::Conflict>,
    pub created_at: i64,
    pub updated_at: i64,
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

    /// The approved tasks with where each stands, in the plan's order.
    pub fn followed_tasks(&self) -> Vec<FollowedTask> {
        self.approved_tasks()
            .iter()
            .map(|task| {
                let mut steps: Vec<TaskStep> = self.follow.iter().filter(|s| s.task == task.id).cloned().collect();
                crate::order::sort_by(&mut steps, |a, b| (a.at, &a.id).cmp(&(b.at, &b.id)));
                let done_at = steps.last().filter(|s| s.done).map(|s| s.at);
                FollowedTask { task: task.clone(), done_at, steps }
            })
            .collect()
    }

    /// Where the unit stands in the round on `today`.
    pub fn filing(&self, today: NaiveDate) -> Filing {
        filing(Some(self), self.deadline.unwrap_or(NaiveDate::MAX), today)
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
    filing_of(plan.map(Plan::state), deadline, today)
}

/// The same from the plan's state alone (what the read model keeps of it).
pub fn filing_of(state: Option<PlanState>, deadline: NaiveDate, today: NaiveDate) -> Filing {
    match state {
        None | Some(PlanState::Drafting) if today > deadline => Filing::Overdue,
        None | Some(PlanState::Drafting) => Filing::NotFiled,
        Some(PlanState::Submitted) => Filing::Submitted,
        Some(PlanState::Returned) => Filing::Returned,
        Some(PlanState::Approved) => Filing::Approved,
    }
}

/// A complete plan, for tests here and in the ledger's.
#[cfg(test)]
pub(crate) mod tests_support {
    use super::*;

    pub fn day(s: &str) -> NaiveDate {
        crate::day::parse(s).unwrap()
    }

    pub fn complete() -> PlanContent {
        PlanContent {
            goals: "全年解决群众急难愁盼问题 20 件".into(),
            carriers: vec![Carrier { id: RecordId::random(), aim: Aim::ServiceLead, text: "党员中心户联系群众".into() }],
            stages: vec![Stage { id: RecordId::random(), text: "动员部署".into(), from: Some(day("2027-03-01")), to: Some(day("2027-03-15")) }],
            leader: "王芳".into(),
            liaison: "张伟".into(),
            requirements: "每月调度一次".into(),
            tasks: vec![PlanTask { id: RecordId::random(), what: "修复村口路灯".into(), who: "张伟".into(), due: Some(day("2027-04-30")) }],
        }
    }
}

#[cfg(test)]
mod tests;
