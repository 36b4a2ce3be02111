//! `/api/office/…`: the campaign office's desk (先锋办). Rounds it opens (实施方案, 制度清理) and
//! notices it publishes (通报) to the units below a node, where each unit stands in them, and the
//! review of a unit's plan.

use serde::{Deserialize, Serialize};

use crate::desk::UnitRef;

/// `POST /api/office/rounds`: a plan round or a clean-up round for every unit keeping a ledger
/// at or below `node`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewRound {
    /// `plan`, `cleanup` or `satisfaction`.
    pub kind: String,
    pub title: String,
    /// YYYY-MM-DD: the plan's filing deadline, the clean-up's, the last day of a satisfaction
    /// round's period.
    pub deadline: String,
    pub node: String,
    /// A satisfaction round's questions, one per line (answered in five levels).
    #[serde(default)]
    pub questions: String,
}

/// `POST /api/office/notices`: a 通报 to every unit keeping a ledger at or below `node`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewNotice {
    pub title: String,
    pub body: String,
    pub node: String,
}

/// What `POST /api/office/rounds` and `/notices` answer: the new id and how many units it reached.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Opened {
    pub id: String,
    pub units: usize,
}

/// One round or notice as the office lists it, with the count of units in each standing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RoundRow {
    pub id: String,
    /// `plan`, `cleanup` or `notice`.
    pub kind: String,
    pub kind_label: String,
    pub title: String,
    pub deadline: String,
    pub node_name: String,
    /// When it was opened (ms).
    pub opened_at: i64,
    pub opened_by: String,
    pub units: usize,
    /// (label, how many units), in the order the standings go.
    pub counts: Vec<(String, usize)>,
}

/// `GET /api/office`: the office's nodes and everything it opened, newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OfficeView {
    pub nodes: Vec<UnitRef>,
    pub today: String,
    pub rounds: Vec<RoundRow>,
}

/// Where one unit stands in a round.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Standing {
    pub unit: String,
    pub name: String,
    pub path: String,
    /// The standing's code (`not_filed`, `approved`, `opened`…) and label.
    pub state: String,
    pub label: String,
    /// What else the office reads at a glance: a plan's versions, a clean-up's progress, when a
    /// notice was opened.
    pub detail: String,
    /// Whether the office acts on it now (a plan awaiting review, a clean-up overdue).
    pub attention: bool,
}

/// `GET /api/office/rounds/{id}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoundDetail {
    pub round: RoundRow,
    pub body: String,
    pub units: Vec<Standing>,
    /// A satisfaction round: each question with every unit's answers side by side, in the
    /// tree's order (units compared on the same questions; never a ranking of people).
    pub comparison: Vec<QuestionComparison>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuestionComparison {
    pub question: String,
    pub units: Vec<UnitAnswers>,
}

/// One unit's answers to one question: the sample and the five levels (非常满意 … 非常不满意).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UnitAnswers {
    pub name: String,
    pub answered: usize,
    pub counts: [usize; 5],
    /// 满意率 (非常满意, 满意, 基本满意 over all) in per mille; None with no answers.
    pub satisfied_per_mille: Option<usize>,
}

/// `POST /api/office/plans/{round}/{unit}/review`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReviewForm {
    /// The version reviewed (the one awaiting review).
    pub submission: String,
    /// `approve` or `return`.
    pub verdict: String,
    pub opinion: String,
    /// Opinions on single parts: (part code, text).
    pub parts: Vec<(String, String)>,
}

/// `GET /api/office/plans/{round}/{unit}`: a unit's plan with every version and opinion.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanView {
    pub unit: String,
    pub name: String,
    pub path: String,
    pub plan: ledger::plan::Plan,
}
