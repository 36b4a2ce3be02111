//! Service pledges (服务承诺): published by a member or the leadership team, followed by posted
//! progress, marked fulfilled, and evaluated (评议) by residents and supervisors.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::codes::{coded_enum, Satisfaction};
use crate::record::{Conflict, LogEntry};
use crate::validation::ValidationErrors;
use crate::RecordId;

coded_enum! {
    /// The campaign aims a pledge serves: the 四争先 (what members strive for) and the 四领先
    /// (where the unit means to lead). The wording follows the campaign's usual phrasing.
    pub enum Aim {
        PoliticalLead = ("zheng_political", "争当政治坚定先锋"),
        DevelopmentLead = ("zheng_development", "争当科学发展先锋"),
        ServiceLead = ("zheng_service", "争当服务群众先锋"),
        ConductLead = ("zheng_conduct", "争当清正廉洁先锋"),
        EconomyAhead = ("ling_economy", "经济发展领先"),
        GovernanceAhead = ("ling_governance", "社会治理领先"),
        LivelihoodAhead = ("ling_livelihood", "民生改善领先"),
        EcologyAhead = ("ling_ecology", "生态环境领先"),
    }
}

coded_enum! {
    /// Who evaluates a pledge.
    pub enum Evaluator {
        Resident = ("resident", "群众"),
        Supervisor = ("supervisor", "督查组"),
    }
}

pub const MAX_CONTENT: usize = 2_000;
pub const MAX_BY: usize = 50;
pub const MAX_COMMENT: usize = 1_000;

/// A pledge as the UI shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pledge {
    pub id: RecordId,
    pub content: String,
    /// 承诺人: a member's name, or the leadership team.
    pub by: String,
    /// 班子承诺 rather than a member's own.
    pub team: bool,
    pub aims: Vec<Aim>,
    pub due: Option<NaiveDate>,
    /// 公开承诺: shown to the public; otherwise internal.
    pub public: bool,
    /// Published on the board (先锋广场) by the secretary; shown there only if `public` too.
    #[serde(default)]
    pub published: bool,
    pub fulfilled: bool,
    pub fulfilled_at: i64,
    /// Progress posts, oldest first.
    pub progress: Vec<LogEntry>,
    pub evaluations: Vec<Evaluation>,
    pub conflicts: Vec<Conflict>,
    pub created_at: i64,
    pub updated_at: i64,
    pub deleted: bool,
}

impl Pledge {
    /// Shown on the public board.
    pub fn is_on_board(&self) -> bool {
        self.public && self.published && !self.deleted
    }

    pub fn is_overdue(&self, today: NaiveDate) -> bool {
        !self.fulfilled && self.due.is_some_and(|d| d < today)
    }

    /// Evaluations rated 满意 or 基本满意, and all evaluations.
    pub fn rating(&self) -> (usize, usize) {
        let good = self.evaluations.iter().filter(|e| e.rating.counts_as_satisfied()).count();
        (good, self.evaluations.len())
    }

    pub fn to_draft(&self) -> PledgeDraft {
        PledgeDraft {
            content: self.content.clone(),
            by: self.by.clone(),
            team: self.team,
            aims: self.aims.clone(),
            due: self.due.map(|d| d.to_string()).unwrap_or_default(),
            public: self.public,
        }
    }
}

/// One evaluation (评议) of a pledge.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Evaluation {
    pub id: RecordId,
    pub at: i64,
    pub evaluator: Evaluator,
    /// Who recorded it.
    pub by: String,
    pub rating: Satisfaction,
    pub comment: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PledgeDraft {
    pub content: String,
    pub by: String,
    pub team: bool,
    pub aims: Vec<Aim>,
    pub due: String,
    pub public: bool,
}

impl Default for PledgeDraft {
    fn default() -> Self {
        Self { content: String::new(), by: String::new(), team: false, aims: Vec::new(), due: String::new(), public: true }
    }
}

impl PledgeDraft {
    pub fn validate(&self) -> Result<ValidPledge, ValidationErrors> {
        let mut e = ValidationErrors::default();
        let content = e.required("content", &self.content, "请写明承诺的内容");
        e.max_len("content", "承诺内容", content, MAX_CONTENT);
        let by = self.by.trim();
        if by.is_empty() && !self.team {
            e.push("by", "请填写承诺人，或勾选“班子承诺”");
        }
        e.max_len("by", "承诺人", by, MAX_BY);
        if self.aims.is_empty() {
            e.push("aims", "请至少选择一项“四争先”或“四领先”目标");
        }
        let due = e.optional_date("due", "兑现期限", &self.due);
        if self.due.trim().is_empty() {
            e.push("due", "请填写承诺兑现的期限");
        }
        let mut aims = self.aims.clone();
        crate::order::sort(&mut aims);
        aims.dedup();
        e.into_result(|| ValidPledge {
            content: content.to_owned(),
            by: if by.is_empty() { "班子".to_owned() } else { by.to_owned() },
            team: self.team,
            aims,
            due: due.expect("checked above"),
            public: self.public,
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidPledge {
    pub content: String,
    pub by: String,
    pub team: bool,
    pub aims: Vec<Aim>,
    pub due: NaiveDate,
    pub public: bool,
}

/// Checks an evaluation's comment; a 不满意 needs one, so the member knows what to improve.
pub fn check_evaluation(rating: Satisfaction, comment: &str) -> Result<String, ValidationErrors> {
    let mut e = ValidationErrors::default();
    let comment = comment.trim();
    if rating == Satisfaction::Dissatisfied && comment.is_empty() {
        e.push("comment", "评为不满意时，请写下意见");
    }
    e.max_len("comment", "评议意见", comment, MAX_COMMENT);
    e.into_result(|| comment.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drafts_need_content_who_aims_and_due_date() {
        let e = PledgeDraft::default().validate().unwrap_err();
        for field in ["content", "by", "aims", "due"] {
            assert!(e.for_field(field).is_some(), "{field}: {e}");
        }
        let d = PledgeDraft {
            content: "每周三下午在村委会接待群众".into(),
            team: true,
            aims: vec![Aim::ServiceLead, Aim::ServiceLead, Aim::PoliticalLead],
            due: "2026-12-31".into(),
            ..Default::default()
        };
        let v = d.validate().unwrap();
        assert_eq!(v.by, "班子");
        assert_eq!(v.aims, vec![Aim::PoliticalLead, Aim::ServiceLead]);
        let d = PledgeDraft { due: "明年".into(), ..d };
        assert!(d.validate().unwrap_err().for_field("due").unwrap().contains("格式"));
    }

    #[test]
    fn a_dissatisfied_evaluation_needs_a_comment() {
        assert!(check_evaluation(Satisfaction::Dissatisfied, " ").is_err());
        assert_eq!(check_evaluation(Satisfaction::Dissatisfied, " 接待时间常变 ").unwrap(), "接待时间常变");
        assert_eq!(check_evaluation(Satisfaction::Satisfied, "").unwrap(), "");
        assert!(check_evaluation(Satisfaction::Satisfied, &"字".repeat(MAX_COMMENT + 1)).is_err());
    }
}
