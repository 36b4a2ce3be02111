//! Search and filter over problems, enterprises, pledges and surveys: plain functions the UI
//! calls on every keystroke, offline.

use chrono::NaiveDate;

use crate::enterprise::Enterprise;
use crate::pledge::Pledge;
use crate::problem::{Category, Problem, Status};
use crate::query::contains_folded;
use crate::survey::Survey;
use crate::RecordId;

/// The search words of a query, lower-cased; every one must appear in some field.
fn words(text: &str) -> Vec<String> {
    text.split_whitespace().map(str::to_lowercase).collect()
}

fn all_found(fields: &[&str], words: &[String]) -> bool {
    words.iter().all(|w| fields.iter().any(|f| contains_folded(f, w)))
}

/// What the problem list is narrowed to. The default shows every problem not deleted.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProblemFilter {
    pub text: String,
    pub status: Option<Status>,
    pub category: Option<Category>,
    pub overdue_only: bool,
    /// Only the difficulties of one enterprise.
    pub enterprise: Option<RecordId>,
}

/// The problems that match: overdue ones first (they need attention), then the most urgent,
/// then the newest.
pub fn filter_problems<'a>(problems: &'a [Problem], filter: &ProblemFilter, today: NaiveDate) -> Vec<&'a Problem> {
    let words = words(&filter.text);
    let mut out: Vec<&Problem> = problems
        .iter()
        .filter(|p| !p.deleted)
        .filter(|p| filter.status.is_none_or(|s| s == p.status))
        .filter(|p| filter.category.is_none_or(|c| c == p.category))
        .filter(|p| !filter.overdue_only || p.is_overdue(today))
        .filter(|p| filter.enterprise.is_none() || filter.enterprise == p.enterprise_id)
        .filter(|p| words.is_empty() || all_found(&[&p.title, &p.description, &p.responsible, &p.result, p.category.label(), p.status.label()], &words))
        .collect();
    crate::order::sort_by_cached_key(&mut out, |p| (!p.is_overdue(today), std::cmp::Reverse(p.urgency), std::cmp::Reverse(p.created_at)));
    out
}

/// Enterprises whose name, code, industry or contact match, by name.
pub fn filter_enterprises<'a>(enterprises: &'a [Enterprise], text: &str) -> Vec<&'a Enterprise> {
    let words = words(text);
    let mut out: Vec<&Enterprise> = enterprises.iter().filter(|e| !e.deleted && all_found(&[&e.name, &e.credit_code, &e.industry, &e.contact], &words)).collect();
    crate::order::sort_by(&mut out, |a, b| a.name.cmp(&b.name));
    out
}

/// Pledges that match; open ones first by due date, then fulfilled ones.
pub fn filter_pledges<'a>(pledges: &'a [Pledge], text: &str, fulfilled: Option<bool>) -> Vec<&'a Pledge> {
    let words = words(text);
    let mut out: Vec<&Pledge> = pledges
        .iter()
        .filter(|p| !p.deleted && fulfilled.is_none_or(|f| f == p.fulfilled))
        .filter(|p| words.is_empty() || all_found(&[&p.content, &p.by], &words) || p.aims.iter().any(|a| all_found(&[a.label()], &words)))
        .collect();
    crate::order::sort_by_key(&mut out, |p| (p.fulfilled, p.due, std::cmp::Reverse(p.created_at)));
    out
}

/// Survey rounds that match, newest first.
pub fn filter_surveys<'a>(surveys: &'a [Survey], text: &str) -> Vec<&'a Survey> {
    let words = words(text);
    let mut out: Vec<&Survey> = surveys.iter().filter(|s| !s.deleted && all_found(&[&s.title], &words)).collect();
    crate::order::sort_by_key(&mut out, |s| std::cmp::Reverse(s.created_at));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::problem::{ProblemDraft, Urgency};
    use crate::UnitLedger;
    use automerge::ActorId;

    fn ledger_with_problems() -> (UnitLedger, Vec<RecordId>) {
        let mut l = UnitLedger::create(ActorId::random());
        let mut ids = Vec::new();
        for (i, (title, deadline, urgency, category)) in [
            ("路灯不亮", "2026-11-01", Urgency::Normal, Category::Infrastructure),
            ("低保复核慢", "", Urgency::Urgent, Category::Other),
            ("排水沟堵塞", "2026-12-30", Urgency::Critical, Category::Infrastructure),
            ("Wifi 信号差", "2026-11-20", Urgency::Normal, Category::Other),
        ]
        .into_iter()
        .enumerate()
        {
            let d = ProblemDraft { title: title.into(), deadline: deadline.into(), urgency, category, ..Default::default() };
            ids.push(l.add_problem(&d.validate().unwrap(), i as i64).unwrap());
        }
        (l, ids)
    }

    #[test]
    fn problems_filter_by_words_status_category_and_overdue() {
        let today = NaiveDate::from_ymd_opt(2026, 11, 27).unwrap();
        let (mut l, ids) = ledger_with_problems();
        l.change_problem_status(&ids[3], &crate::problem::Action::Resolve { result: "已装中继".into() }, 10).unwrap();
        let all = l.problems().records;
        let titles = |f: &ProblemFilter| filter_problems(&all, f, today).iter().map(|p| p.title.clone()).collect::<Vec<_>>();
        // Overdue first, then by urgency, then newest.
        assert_eq!(titles(&ProblemFilter::default()), ["路灯不亮", "排水沟堵塞", "低保复核慢", "Wifi 信号差"]);
        assert_eq!(titles(&ProblemFilter { overdue_only: true, ..Default::default() }), ["路灯不亮"]);
        assert_eq!(titles(&ProblemFilter { text: "wifi".into(), ..Default::default() }), ["Wifi 信号差"]);
        assert_eq!(titles(&ProblemFilter { text: "中继".into(), ..Default::default() }), ["Wifi 信号差"]);
        assert_eq!(titles(&ProblemFilter { text: "已办结".into(), ..Default::default() }), ["Wifi 信号差"]);
        assert_eq!(titles(&ProblemFilter { status: Some(Status::Resolved), ..Default::default() }), ["Wifi 信号差"]);
        assert_eq!(titles(&ProblemFilter { category: Some(Category::Infrastructure), ..Default::default() }), ["路灯不亮", "排水沟堵塞"]);
        assert!(titles(&ProblemFilter { text: "路灯 低保".into(), ..Default::default() }).is_empty());
        l.set_deleted(crate::Section::Problems, &ids[0], true, 20).unwrap();
        let all = l.problems().records;
        assert_eq!(filter_problems(&all, &ProblemFilter::default(), today).len(), 3);
    }
}
