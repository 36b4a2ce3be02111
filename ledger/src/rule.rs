//! 制度: the rules a unit keeps (its 制度台账), each with where it comes from, how long it is
//! valid, what it replaced or was replaced by, and every change of status with its reason. The
//! campaign asks units to sort them out: retire the outdated (梳理和废止过时的制度) and write new
//! ones (制定新制度); the office may open a clean-up round (清理) in which each unit marks each
//! rule in force kept, revised or repealed, with a reason.
//!
//! Changes are entries added, never changed; the status is read from the latest one, except that
//! a rule past its `valid_until` is 失效 whatever its last entry said, since nobody has to act
//! for a rule to lapse.
//!
//! Kept in the unit's ledger by `unit_ledger/rules.rs`.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::codes::coded_enum;
use crate::validation::ValidationErrors;
use crate::RecordId;

pub const MAX_NAME: usize = 200;
pub const MAX_NUMBER: usize = 50;
pub const MAX_TEXT: usize = 2_000;

coded_enum! {
    pub enum RuleStatus {
        InForce = ("in_force", "现行"),
        UnderRevision = ("under_revision", "修订中"),
        Revised = ("revised", "已修订"),
        Repealed = ("repealed", "废止"),
        Lapsed = ("lapsed", "失效"),
    }
}

impl RuleStatus {
    /// Whether the rule still binds: a clean-up round asks about these.
    pub fn binds(self) -> bool {
        matches!(self, Self::InForce | Self::UnderRevision)
    }

    /// The statuses a person may set from this one (失效 comes by date, never by hand; 已修订
    /// and 废止 are final: a revised rule lives on as the new rule that replaced it).
    pub fn next(self) -> &'static [RuleStatus] {
        match self {
            Self::InForce => &[Self::UnderRevision, Self::Revised, Self::Repealed],
            Self::UnderRevision => &[Self::InForce, Self::Revised, Self::Repealed],
            Self::Revised | Self::Repealed | Self::Lapsed => &[],
        }
    }
}

coded_enum! {
    /// What a unit decided of one rule in a clean-up round.
    pub enum Cleanup {
        Keep = ("keep", "保留"),
        Revise = ("revise", "修订"),
        Repeal = ("repeal", "废止"),
    }
}

impl Cleanup {
    /// The status a decision leads to.
    pub fn status(self) -> RuleStatus {
        match self {
            Self::Keep => RuleStatus::InForce,
            Self::Revise => RuleStatus::UnderRevision,
            Self::Repeal => RuleStatus::Repealed,
        }
    }
}

/// One change of a rule's status, with why, and the round it answers if any.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleChange {
    pub id: RecordId,
    pub at: i64,
    pub by: String,
    pub to: RuleStatus,
    pub reason: String,
    /// The clean-up round this decision answers, and what was decided in it.
    pub round: Option<(RecordId, Cleanup)>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rule {
    pub id: RecordId,
    pub name: String,
    /// 文号, e.g. 青石村〔2027〕3号.
    pub number: String,
    pub in_force_from: Option<NaiveDate>,
    pub valid_until: Option<NaiveDate>,
    /// 制定依据.
    pub basis: String,
    /// The rule this one replaced, and the one that replaced it.
    pub replaces: Option<RecordId>,
    pub replaced_by: Option<RecordId>,
    pub changes: Vec<RuleChange>,
    pub conflicts: Vec<crate::record::Conflict>,
    pub created_at: i64,
    pub deleted: bool,
}

impl Rule {
    fn ordered(&self) -> Vec<&RuleChange> {
        let mut changes: Vec<&RuleChange> = self.changes.iter().collect();
        crate::order::sort_by(&mut changes, |a, b| (a.at, &a.id).cmp(&(b.at, &b.id)));
        changes
    }

    /// The status on `today`: the changes folded in time order, each taken only if the status
    /// then allows it (two phones repealing and revising at once agree which came first), and
    /// 失效 once past `valid_until` unless already 已修订 or 废止.
    pub fn status(&self, today: NaiveDate) -> RuleStatus {
        let mut status = RuleStatus::InForce;
        for c in self.ordered() {
            if status.next().contains(&c.to) || (c.to == status && c.round.is_some()) {
                status = c.to;
            }
        }
        match self.valid_until {
            Some(until) if today > until && status.binds() => RuleStatus::Lapsed,
            _ => status,
        }
    }

    /// What this unit decided of the rule in `round`, if it has.
    pub fn decision_in(&self, round: &RecordId) -> Option<(Cleanup, &RuleChange)> {
        self.ordered().into_iter().rev().find_map(|c| match &c.round {
            Some((r, d)) if r == round => Some((*d, c)),
            _ => None,
        })
    }
}

/// A status change as typed, checked against the rule: only an allowed step, always with a
/// reason (the campaign wants every change's reason kept).
pub fn check_change(rule: &Rule, to: RuleStatus, reason: &str, today: NaiveDate) -> Result<(), ValidationErrors> {
    let mut e = ValidationErrors::default();
    let now = rule.status(today);
    if !now.next().contains(&to) {
        e.push("status", format!("“{}”的制度不能改为“{}”", now.label(), to.label()));
    }
    e.required("reason", reason, "请写明变更的理由");
    e.max_len("reason", "理由", reason, MAX_TEXT);
    e.into_result(|| ())
}

/// A clean-up decision as typed: on a rule that binds today, with a reason.
pub fn check_decision(rule: &Rule, decision: Cleanup, reason: &str, today: NaiveDate) -> Result<(), ValidationErrors> {
    let mut e = ValidationErrors::default();
    let now = rule.status(today);
    if !now.binds() {
        e.push("status", format!("这项制度已“{}”，无需清理", now.label()));
    }
    if decision != Cleanup::Keep || !reason.trim().is_empty() {
        e.required("reason", reason, "请写明修订或废止的理由");
    }
    e.max_len("reason", "理由", reason, MAX_TEXT);
    e.into_result(|| ())
}

/// A unit's progress in a clean-up round: of the rules that bound when the round opened, how
/// many it has decided on.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CleanupProgress {
    pub rules: usize,
    pub decided: usize,
    pub kept: usize,
    pub revised: usize,
    pub repealed: usize,
    /// Rules in force past their validity today (they lapse; the desk lists them).
    pub past_validity: usize,
}

impl CleanupProgress {
    pub fn of(rules: &[Rule], round: &RecordId, opened: NaiveDate, today: NaiveDate) -> Self {
        let mut p = Self::default();
        for rule in rules {
            if rule.valid_until.is_some_and(|u| today > u) && rule.status(today) == RuleStatus::Lapsed {
                p.past_validity += 1;
            }
            // Asked about: the rules that bound on the day the round opened (a rule written
            // later is a new rule, 制定新制度, not one to clean up).
            if crate::report::day_of(rule.created_at).is_some_and(|d| d > opened) {
                continue;
            }
            let at_open = Rule { changes: rule.changes.iter().filter(|c| crate::report::day_of(c.at).is_some_and(|d| d < opened)).cloned().collect(), ..rule.clone() };
            if !at_open.status(opened).binds() {
                continue;
            }
            p.rules += 1;
            if let Some((decision, _)) = rule.decision_in(round) {
                p.decided += 1;
                match decision {
                    Cleanup::Keep => p.kept += 1,
                    Cleanup::Revise => p.revised += 1,
                    Cleanup::Repeal => p.repealed += 1,
                }
            }
        }
        p
    }

    pub fn done(&self) -> bool {
        self.decided == self.rules
    }
}

#[cfg(test)]
mod tests;
