//! `/api/desk/…`: the supervisor's desk (督查台): figures and lists over the units below the
//! supervisor's node, one record with its history, and remarks written into a ledger.

use ledger::report::{Figures, Series};
use serde::{Deserialize, Serialize};

/// A period as the server names it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PeriodView {
    pub key: String,
    pub label: String,
    pub from: String,
    pub to: String,
}

/// A unit the supervisor may look at.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnitRef {
    pub unit: String,
    pub name: String,
}

/// One row of the overview: a unit, or a node with the sum of the units below it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OverviewRow {
    pub unit: String,
    pub name: String,
    /// The unit kind's label.
    pub kind: String,
    /// Below the node asked for (0 for the node itself).
    pub depth: usize,
    /// Whether the unit keeps a ledger of its own.
    pub ledger: bool,
    pub figures: Figures,
    pub visits: usize,
    /// Rates per mille, where anything was counted.
    pub in_time: Option<usize>,
    pub satisfaction: Option<usize>,
    pub survey: Option<usize>,
    /// Seconds since 1970 of the ledger's latest change, and of its phones' latest sync.
    pub changed_at: Option<i64>,
    pub last_sync: Option<i64>,
    /// No phone of the unit synced for [`Overview::stale_after_days`] days (数据滞后).
    pub stale: bool,
    /// Stale units at or below this one, and units with a ledger at or below it.
    pub stale_below: usize,
    pub units: usize,
}

impl OverviewRow {
    /// The row of a unit with its figures; freshness and counts below are set by the caller.
    pub fn new(unit: &ledger::org::Unit, depth: usize, figures: Figures) -> Self {
        Self {
            unit: unit.id.clone(),
            name: unit.name.clone(),
            kind: unit.kind.label().to_owned(),
            depth,
            ledger: unit.ledger.is_some(),
            visits: figures.visits(),
            in_time: figures.in_time_per_mille(),
            satisfaction: figures.satisfaction_per_mille(),
            survey: figures.survey_per_mille(),
            figures,
            changed_at: None,
            last_sync: None,
            stale: false,
            stale_below: 0,
            units: 0,
        }
    }
}

/// `GET /api/desk/overview`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Overview {
    pub node: String,
    pub period: PeriodView,
    /// `YYYY-MM-DD`, China's date.
    pub today: String,
    pub generated_at: i64,
    pub stale_after_days: i64,
    /// The nodes the supervisor supervises, and the path from the first of them to this node.
    pub nodes: Vec<UnitRef>,
    pub path: Vec<UnitRef>,
    pub rows: Vec<OverviewRow>,
    pub series: Series,
    pub categories: Vec<String>,
    pub visit_kinds: Vec<String>,
}

/// One problem in a list across units.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProblemRow {
    pub unit: String,
    pub unit_path: String,
    pub ledger: Option<String>,
    pub id: String,
    pub title: String,
    pub category: String,
    pub urgency: String,
    pub urgency_code: String,
    pub status: String,
    pub responsible: String,
    pub raised_on: Option<String>,
    pub deadline: Option<String>,
    pub resolved_on: Option<String>,
    pub days_overdue: Option<i64>,
    pub remarks: usize,
    pub satisfaction: Option<String>,
}

/// `GET /api/desk/problems` and `/api/desk/pledges`: at most a page of rows, and how many
/// there were.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct List<T> {
    pub period: PeriodView,
    pub today: String,
    pub total: usize,
    pub rows: Vec<T>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PledgeRow {
    pub unit: String,
    pub unit_path: String,
    pub ledger: String,
    pub id: String,
    pub content: String,
    pub by: String,
    pub public: bool,
    pub fulfilled: bool,
    pub due: Option<String>,
    pub overdue: bool,
    pub progress: usize,
    pub evaluations: usize,
    pub evaluations_good: usize,
}

/// `GET /api/desk/posts`: a unit's post (设岗定责) and how residents rated it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PostRow {
    pub unit: String,
    pub unit_path: String,
    pub ledger: String,
    pub id: String,
    pub title: String,
    pub holder: String,
    /// On the public board.
    pub published: bool,
    /// Residents' ratings of it, ever, and how many were 满意 or 非常满意.
    pub ratings: usize,
    pub ratings_good: usize,
}

/// `GET /api/desk/photos`: a record below the node that holds photos, for the printed 通报.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PhotoRow {
    pub unit_path: String,
    pub ledger: String,
    /// `visits`, `problems` or `enterprises`.
    pub section: String,
    pub id: String,
    /// What the record is: the problem's title, the visit's person, the firm's name.
    pub title: String,
    /// The visit's date, the day the problem was raised (none for a firm).
    pub day: Option<String>,
    /// Its photos' hashes (`/api/photos/{hash}`), a problem's progress steps' included.
    pub photos: Vec<String>,
}

/// `GET /api/desk/tasks`: one task of a unit's approved 实施方案 and where it stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskRow {
    pub unit: String,
    pub unit_path: String,
    pub ledger: String,
    /// The plan (its id is the office's round) and its title.
    pub plan: String,
    pub plan_title: String,
    pub task: String,
    pub what: String,
    pub who: String,
    /// YYYY-MM-DD, or "".
    pub due: String,
    /// When it was marked done (ms), if it stands done.
    pub done_at: Option<i64>,
    pub overdue: bool,
}

/// `GET /api/desk/cases`: one 差评 and where its case stands (差评办理).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseRow {
    pub unit: String,
    pub unit_path: String,
    pub ledger: String,
    pub id: String,
    /// What was rated (岗位 / 承诺 …) and its name, when the ledger still has it.
    pub target: String,
    pub verdict: String,
    pub comment: String,
    pub rated_on: Option<String>,
    /// `ledger::rating::CaseState` in words, and whether a supervisor decides it now (申诉中).
    pub state: String,
    pub appealed: bool,
    /// The last day for the step the unit owes, and whether that day has passed.
    pub due: Option<String>,
    pub overdue: bool,
    /// The unit's 申诉 grounds, while appealed; its answer (整改 / 解释), or the reason it was
    /// withdrawn, once settled; and the resident's verdict on the answer.
    pub appeal: Option<String>,
    pub answer: Option<String>,
    pub recheck: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryLine {
    pub at: i64,
    pub by: String,
    pub summary: String,
}

/// `GET /api/desk/records/{ledger}/{section}/{id}`: one record as its ledger holds it, with
/// its history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecordView {
    pub section: String,
    pub unit: String,
    pub unit_path: String,
    /// The record as `ledger::report::facts::read_record` serializes it.
    pub record: serde_json::Value,
    pub history: Vec<HistoryLine>,
    pub may_remark: bool,
    /// The enterprise a problem is a difficulty of (企业困难), by name.
    #[serde(default)]
    pub enterprise: Option<String>,
}

/// `POST /api/desk/records/{ledger}/{problems|pledges}/{id}/remarks`: a supervision remark
/// on a problem (督办意见) or a supervisor's evaluation of a pledge (评议); the answer is
/// [`crate::Done`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Remark {
    pub text: String,
    /// For a pledge's evaluation: 满意 / 基本满意 / 不满意 as a `ledger::Satisfaction` code.
    #[serde(default)]
    pub rating: Option<String>,
    /// For a 差评 on appeal: the supervisor's decision, `uphold` (维持差评) or `withdraw` (撤销差评),
    /// a `ledger::rating::StepKind` code.
    #[serde(default)]
    pub step: Option<String>,
}
