//! Counting facts: one unit's figures for a period and a filter, totals up the tree, the
//! monthly and per-category series the charts draw. Plain functions over the facts, the same
//! wherever they run.

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};

use super::facts::{day_of, Facts, ProblemFacts, SurveyFacts};
use super::period::Period;
use crate::problem::{Category, Status, Urgency};
use crate::rate::per_mille;
use crate::rating::CaseRules;
use crate::visit::VisitKind;

/// What the supervisor chose to look at. The period applies to everything; the problem
/// filters to problems.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Filter {
    pub period: Period,
    pub category: Option<Category>,
    pub status: Option<StatusFilter>,
    pub urgency: Option<Urgency>,
    /// The organisation's time limits for a 差评's case, for what is overdue.
    #[serde(default)]
    pub case_rules: CaseRules,
}

/// The problems a status filter keeps: one status, or 已办结 as the figures count it
/// (办结 or 已回访), so the list behind the 已办结 figure holds exactly what it counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum StatusFilter {
    Is(Status),
    Closed,
}

impl StatusFilter {
    /// The code in the desk's URL: a status's code, or `closed`.
    pub const CLOSED: &'static str = "closed";

    pub fn from_code(code: &str) -> Option<Self> {
        if code == Self::CLOSED {
            return Some(Self::Closed);
        }
        Status::from_code(code).map(Self::Is)
    }

    pub fn keeps(self, status: Status) -> bool {
        match self {
            Self::Is(s) => s == status,
            Self::Closed => matches!(status, Status::Resolved | Status::FollowedUp),
        }
    }
}

impl Filter {
    pub fn new(period: Period) -> Self {
        Self { period, category: None, status: None, urgency: None, case_rules: CaseRules::default() }
    }

    /// Category, status and urgency (not the period).
    pub fn keeps(&self, p: &ProblemFacts) -> bool {
        !p.deleted && self.category.is_none_or(|c| c == p.category) && self.status.is_none_or(|s| s.keeps(p.status)) && self.urgency.is_none_or(|u| u == p.urgency)
    }

    /// Raised in the period and kept by the filters: the problems the figures count.
    pub fn counts(&self, p: &ProblemFacts) -> bool {
        self.keeps(p) && p.raised_on.is_some_and(|d| self.period.contains(d))
    }
}

/// One unit's figures (or a node's, summed over the units below it). Counts add up; rates are
/// computed from the summed counts, never averaged.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Figures {
    /// Visits dated in the period, per kind in [`VisitKind::ALL`] order.
    pub visits_by_kind: [usize; VisitKind::COUNT],
    /// Problems raised in the period (登记), then what became of them.
    pub raised: usize,
    /// 待办: not started.
    pub pending: usize,
    /// 办理中: started, not closed.
    pub in_progress: usize,
    /// 已办结 or 已回访.
    pub resolved: usize,
    pub rejected: usize,
    /// Of the resolved, those resolved by their deadline (or with none).
    pub resolved_in_time: usize,
    /// Of the raised, those with a follow-up verdict, and those rated 满意 or 基本满意.
    pub followed_up: usize,
    pub satisfied: usize,
    /// Open and past the deadline today, whenever raised (逾期 is a fact of now).
    pub overdue: usize,
    /// Pledges made in the period.
    pub pledges: usize,
    pub pledges_public: usize,
    pub pledges_fulfilled: usize,
    /// Of those, past their due date unfulfilled today.
    pub pledges_overdue: usize,
    /// Answers of each unit's latest survey round opened by the end of the period: 满意 +
    /// 基本满意, and all; and how many units such a round counts from.
    pub survey_satisfied: usize,
    pub survey_answers: usize,
    pub survey_units: usize,
    /// Residents' ratings (好差评) from the public board in the period, and of those 满意 or
    /// better (非常满意, 满意, 基本满意).
    #[serde(default)]
    pub ratings: usize,
    #[serde(default)]
    pub ratings_good: usize,
    /// 差评 whose case the unit has not settled (whenever rated), and of those past the
    /// step's deadline today (逾期, like an overdue problem).
    #[serde(default)]
    pub cases_open: usize,
    #[serde(default)]
    pub cases_overdue: usize,
}

impl Figures {
    pub fn visits(&self) -> usize {
        self.visits_by_kind.iter().sum()
    }

    pub fn add(&mut self, o: &Figures) {
        for (a, b) in self.visits_by_kind.iter_mut().zip(o.visits_by_kind) {
            *a += b;
        }
        self.raised += o.raised;
        self.pending += o.pending;
        self.in_progress += o.in_progress;
        self.resolved += o.resolved;
        self.rejected += o.rejected;
        self.resolved_in_time += o.resolved_in_time;
        self.followed_up += o.followed_up;
        self.satisfied += o.satisfied;
        self.overdue += o.overdue;
        self.pledges += o.pledges;
        self.pledges_public += o.pledges_public;
        self.pledges_fulfilled += o.pledges_fulfilled;
        self.pledges_overdue += o.pledges_overdue;
        self.survey_satisfied += o.survey_satisfied;
        self.survey_answers += o.survey_answers;
        self.survey_units += o.survey_units;
        self.ratings += o.ratings;
        self.ratings_good += o.ratings_good;
        self.cases_open += o.cases_open;
        self.cases_overdue += o.cases_overdue;
    }

    /// 按期办结率, per mille.
    pub fn in_time_per_mille(&self) -> Option<usize> {
        per_mille(self.resolved_in_time, self.resolved)
    }

    /// 回访满意率, per mille.
    pub fn satisfaction_per_mille(&self) -> Option<usize> {
        per_mille(self.satisfied, self.followed_up)
    }

    /// 群众评价满意率 (the board's ratings), per mille.
    pub fn ratings_per_mille(&self) -> Option<usize> {
        per_mille(self.ratings_good, self.ratings)
    }

    /// The latest survey rounds' 满意率, per mille.
    pub fn survey_per_mille(&self) -> Option<usize> {
        per_mille(self.survey_satisfied, self.survey_answers)
    }
}

/// One unit's figures from its records' facts.
pub fn unit_figures<'a>(facts: impl IntoIterator<Item = &'a Facts>, filter: &Filter, today: NaiveDate) -> Figures {
    let mut f = Figures::default();
    let mut latest: Option<&SurveyFacts> = None;
    for fact in facts {
        match fact {
            Facts::Visit(v) if !v.deleted && v.date.is_some_and(|d| filter.period.contains(d)) => {
                let slot = VisitKind::ALL.iter().position(|k| *k == v.kind).unwrap_or(VisitKind::COUNT - 1);
                f.visits_by_kind[slot] += 1;
            }
            Facts::Problem(p) => {
                if filter.keeps(p) && p.days_overdue(today).is_some() {
                    f.overdue += 1;
                }
                if !filter.counts(p) {
                    continue;
                }
                f.raised += 1;
                match p.status {
                    Status::Pending => f.pending += 1,
                    Status::InProgress => f.in_progress += 1,
                    Status::Resolved | Status::FollowedUp => f.resolved += 1,
                    Status::Rejected => f.rejected += 1,
                }
                f.resolved_in_time += usize::from(p.resolved_in_time());
                if let Some(s) = p.satisfaction {
                    f.followed_up += 1;
                    f.satisfied += usize::from(s.counts_as_satisfied());
                }
            }
            Facts::Pledge(p) if !p.deleted && p.made_on.is_some_and(|d| filter.period.contains(d)) => {
                f.pledges += 1;
                f.pledges_public += usize::from(p.public);
                f.pledges_fulfilled += usize::from(p.fulfilled);
                f.pledges_overdue += usize::from(p.is_overdue(today));
            }
            Facts::Rating(r) if !r.deleted => {
                if day_of(r.created_at).is_some_and(|d| filter.period.contains(d)) {
                    f.ratings += 1;
                    f.ratings_good += usize::from(r.verdict.counts_as_satisfied());
                }
                if let Some(case) = r.case(&filter.case_rules).filter(|c| !c.state.is_settled()) {
                    f.cases_open += 1;
                    f.cases_overdue += usize::from(case.is_overdue(today));
                }
            }
            Facts::Survey(s) if !s.deleted && s.opened_on.is_some_and(|d| d <= filter.period.to()) => {
                let newer = latest.is_none_or(|l| (s.opened_on, s.created_at) > (l.opened_on, l.created_at));
                if newer {
                    latest = Some(s);
                }
            }
            _ => {}
        }
    }
    if let Some(s) = latest {
        f.survey_satisfied = s.answers[0] + s.answers[1];
        f.survey_answers = s.answers.iter().sum();
        f.survey_units = 1;
    }
    f
}

/// Problems raised and resolved in one month (the 问题登记与办结 chart).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Month {
    pub year: i32,
    pub month: u32,
    pub raised: usize,
    pub resolved: usize,
}

/// Per month of the period: problems raised that month, and problems resolved that month
/// (whenever raised), both kept by the filters.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Series {
    pub months: Vec<Month>,
    /// Problems raised in the period, per category in [`Category::ALL`] order.
    pub by_category: Vec<usize>,
    /// Survey rounds opened in the period, by title, summed over units, by the day the first
    /// unit opened it.
    pub rounds: Vec<Round>,
}

/// One survey round's answers, summed over units.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Round {
    pub title: String,
    /// 答卷: one per person who answered.
    pub sheets: usize,
    /// 满意 + 基本满意, over every question of every sheet.
    pub satisfied: usize,
    /// Every answer: each sheet answers each question of the round.
    pub answers: usize,
}

impl Series {
    pub fn new(filter: &Filter) -> Self {
        let months = filter.period.months().into_iter().map(|(year, month)| Month { year, month, ..Month::default() }).collect();
        Self { months, by_category: vec![0; Category::ALL.len()], rounds: Vec::new() }
    }

    /// Counts one unit's facts into the series (call for each unit below the node).
    pub fn count<'a>(&mut self, facts: impl IntoIterator<Item = &'a Facts>, filter: &Filter) {
        for fact in facts {
            match fact {
                Facts::Problem(p) if filter.keeps(p) => {
                    if let Some(d) = p.raised_on.filter(|d| filter.period.contains(*d)) {
                        if let Some(m) = self.months.iter_mut().find(|m| m.year == d.year() && m.month == d.month()) {
                            m.raised += 1;
                        }
                        let slot = Category::ALL.iter().position(|c| *c == p.category).unwrap_or(0);
                        self.by_category[slot] += 1;
                    }
                    if let Some(d) = p.resolved_on.filter(|d| filter.period.contains(*d)) {
                        if let Some(m) = self.months.iter_mut().find(|m| m.year == d.year() && m.month == d.month()) {
                            m.resolved += 1;
                        }
                    }
                }
                Facts::Survey(s) if !s.deleted && s.opened_on.is_some_and(|d| filter.period.contains(d)) => {
                    let round = match self.rounds.iter().position(|r| r.title == s.title) {
                        Some(i) => &mut self.rounds[i],
                        None => {
                            self.rounds.push(Round { title: s.title.clone(), ..Round::default() });
                            self.rounds.last_mut().expect("just pushed")
                        }
                    };
                    round.sheets += s.responses;
                    round.satisfied += s.answers[0] + s.answers[1];
                    round.answers += s.answers.iter().sum::<usize>();
                }
                _ => {}
            }
        }
    }
}

/// Figures per unit, summed up the tree: each node's total is its own ledger's figures plus
/// every unit's below it. `own` holds the figures of units that keep a ledger.
pub fn roll_up(org: &crate::org::Org, node: &str, own: &BTreeMap<String, Figures>) -> BTreeMap<String, Figures> {
    let mut totals: BTreeMap<String, Figures> = BTreeMap::new();
    for (unit, figures) in own {
        if !org.is_at_or_below(unit, node) {
            continue;
        }
        for above in org.path(unit) {
            totals.entry(above.id.clone()).or_default().add(figures);
            if above.id == node {
                break;
            }
        }
    }
    totals
}

/// How many of `units` are at or below each node up to `node` (units outside it are not
/// counted): each unit's path is walked once, not every unit once per row of the overview.
pub fn count_below<'a>(org: &crate::org::Org, node: &str, units: impl IntoIterator<Item = &'a str>) -> BTreeMap<String, usize> {
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for unit in units {
        if !org.is_at_or_below(unit, node) {
            continue;
        }
        for above in org.path(unit) {
            *counts.entry(above.id.clone()).or_default() += 1;
            if above.id == node {
                break;
            }
        }
    }
    counts
}
