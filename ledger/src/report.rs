//! The supervisor's desk (督查): what unit ledgers amount to for a period, counted from a few
//! facts per record ([`facts`]), summed up the organisation tree, and the cross-unit lists.
//! The server keeps the facts in its read model; these functions are all the counting there is.

pub mod facts;
mod figures;
pub mod period;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

pub use facts::{day_of, update_for, update_since, Facts, LevelFacts, NoticeFacts, PlanFacts, ProblemFacts, Record, TaskFacts, Update};
pub use figures::{count_below, roll_up, unit_figures, Figures, Filter, Month, Round, Series, StatusFilter};
pub use period::Period;

use crate::RecordId;

/// A unit's data is stale (数据滞后) when no device of the unit has reached the server for
/// this many days: the desk marks it, so old figures are never taken for current ones.
pub const STALE_AFTER_DAYS: i64 = 3;

/// Whether a unit whose devices last reached the server at `last_sync_secs` (None: never) is
/// stale at `now_secs`.
pub fn is_stale(last_sync_secs: Option<i64>, now_secs: i64) -> bool {
    last_sync_secs.is_none_or(|t| now_secs - t > STALE_AFTER_DAYS * 86_400)
}

/// One problem in a list across units.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProblemLine {
    /// The unit (its id) whose ledger holds it.
    pub unit: String,
    pub id: RecordId,
    pub facts: ProblemFacts,
    pub days_overdue: Option<i64>,
}

/// How a list of problems is ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProblemSort {
    /// Most days overdue first.
    #[default]
    DaysOverdue,
    /// Most urgent first, then most days overdue.
    Urgency,
    /// By the unit's place in the tree (`unit_order` gives it), then most days overdue.
    Unit,
}

impl ProblemSort {
    pub fn parse(code: &str) -> Option<Self> {
        match code {
            "days" | "days_overdue" => Some(Self::DaysOverdue),
            "urgency" => Some(Self::Urgency),
            "unit" => Some(Self::Unit),
            _ => None,
        }
    }
}

/// The problems of the units (`(unit, id, facts)`) kept by the filter; only those overdue today
/// when `overdue_only`, whenever raised; otherwise those raised in the period.
pub fn problem_lines<'a>(problems: impl IntoIterator<Item = (&'a str, &'a RecordId, &'a ProblemFacts)>, filter: &Filter, overdue_only: bool, today: NaiveDate) -> Vec<ProblemLine> {
    problems
        .into_iter()
        .filter(|(_, _, p)| if overdue_only { filter.keeps(p) && p.days_overdue(today).is_some() } else { filter.counts(p) })
        .map(|(unit, id, p)| ProblemLine { unit: unit.to_owned(), id: id.clone(), facts: p.clone(), days_overdue: p.days_overdue(today) })
        .collect()
}

/// Orders lines; `unit_order` is each unit's position in the tree.
pub fn sort_problem_lines(lines: &mut [ProblemLine], sort: ProblemSort, unit_order: impl Fn(&str) -> usize) {
    let days = |l: &ProblemLine| std::cmp::Reverse(l.days_overdue.unwrap_or(i64::MIN));
    let urgency = |l: &ProblemLine| std::cmp::Reverse(crate::problem::Urgency::ALL.iter().position(|u| *u == l.facts.urgency));
    match sort {
        ProblemSort::DaysOverdue => crate::order::sort_by_key(lines, |l| (days(l), urgency(l), l.id.clone())),
        ProblemSort::Urgency => crate::order::sort_by_key(lines, |l| (urgency(l), days(l), l.id.clone())),
        ProblemSort::Unit => crate::order::sort_by_key(lines, |l| (unit_order(&l.unit), days(l), l.id.clone())),
    }
}

#[cfg(test)]
mod tests;
