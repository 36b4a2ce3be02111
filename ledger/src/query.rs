//! Search and filter over visits, as plain functions the UI calls on every keystroke.

use chrono::NaiveDate;

use crate::visit::{Visit, VisitKind};

/// What the visit list is narrowed to. The default shows every visit not deleted.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VisitFilter {
    /// Words to find in any text field; every word must appear (case-insensitive).
    pub text: String,
    pub kind: Option<VisitKind>,
    /// Inclusive date range.
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
}

impl VisitFilter {
    pub fn matches(&self, v: &Visit, words: &[String]) -> bool {
        if v.deleted {
            return false;
        }
        if self.kind.is_some_and(|k| k != v.kind) {
            return false;
        }
        if let Some(from) = self.from {
            if v.date.is_none_or(|d| d < from) {
                return false;
            }
        }
        if let Some(to) = self.to {
            if v.date.is_none_or(|d| d > to) {
                return false;
            }
        }
        words.iter().all(|w| [&v.whom, &v.place, &v.heard, &v.opinions, &v.follow_up].iter().any(|field| contains_folded(field, w)) || v.kind.label().contains(w.as_str()))
    }

    fn words(&self) -> Vec<String> {
        self.text.split_whitespace().map(str::to_lowercase).collect()
    }
}

/// Case-insensitive containment without allocating for the common all-Chinese case.
pub(crate) fn contains_folded(haystack: &str, needle_lower: &str) -> bool {
    if haystack.is_ascii() || !haystack.chars().any(char::is_uppercase) {
        haystack.contains(needle_lower) || haystack.to_lowercase().contains(needle_lower)
    } else {
        haystack.to_lowercase().contains(needle_lower)
    }
}

/// The visits that match, newest first (by visit date, then by when they were entered).
/// Visits given in that order already ([`sort_visits`]) cost one pass: the stable sort finds
/// them sorted, where thousands in document order cost a full sort on every keystroke and tap.
pub fn filter_visits<'a>(visits: &'a [Visit], filter: &VisitFilter) -> Vec<&'a Visit> {
    let words = filter.words();
    let mut out: Vec<&Visit> = visits.iter().filter(|v| filter.matches(v, &words)).collect();
    crate::order::sort_by(&mut out, |a, b| newest_first(a, b));
    out
}

/// Puts visits in the list's order, newest first, as [`filter_visits`] shows them.
pub fn sort_visits(visits: &mut [Visit]) {
    crate::order::sort_by(visits, newest_first);
}

fn newest_first(a: &Visit, b: &Visit) -> std::cmp::Ordering {
    b.date.cmp(&a.date).then(b.created_at.cmp(&a.created_at))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::RecordId;

    fn visit(date: &str, kind: VisitKind, whom: &str, heard: &str, created_at: i64) -> Visit {
        Visit {
            id: RecordId::random(),
            date: crate::day::parse(date),
            kind,
            whom: whom.into(),
            place: String::new(),
            heard: heard.into(),
            opinions: String::new(),
            follow_up_needed: false,
            follow_up: String::new(),
            enterprise_id: None,
            photos: Vec::new(),
            location: None,
            conflicts: Vec::new(),
            created_at,
            updated_at: created_at,
            deleted: false,
        }
    }

    fn sample() -> Vec<Visit> {
        vec![
            visit("2026-11-01", VisitKind::HomeVisit, "张大爷", "路灯坏了", 1),
            visit("2026-11-20", VisitKind::EnterpriseVisit, "宏达 Textile 公司", "招工难", 2),
            visit("2026-11-20", VisitKind::Petition, "李阿姨", "低保申请 路灯", 3),
            Visit { deleted: true, ..visit("2026-11-25", VisitKind::HomeVisit, "王五", "路灯", 4) },
        ]
    }

    fn whoms(v: &[&Visit]) -> Vec<String> {
        v.iter().map(|v| v.whom.clone()).collect()
    }

    #[test]
    fn default_shows_all_live_visits_newest_first() {
        let all = sample();
        assert_eq!(whoms(&filter_visits(&all, &VisitFilter::default())), ["李阿姨", "宏达 Textile 公司", "张大爷"]);
    }

    #[test]
    fn every_word_must_match_somewhere() {
        let all = sample();
        let f = VisitFilter { text: "路灯 低保".into(), ..Default::default() };
        assert_eq!(whoms(&filter_visits(&all, &f)), ["李阿姨"]);
        let f = VisitFilter { text: "textile".into(), ..Default::default() };
        assert_eq!(whoms(&filter_visits(&all, &f)), ["宏达 Textile 公司"]);
        let f = VisitFilter { text: "接访".into(), ..Default::default() };
        assert_eq!(whoms(&filter_visits(&all, &f)), ["李阿姨"]);
    }

    #[test]
    fn kind_and_date_range() {
        let all = sample();
        let f = VisitFilter { kind: Some(VisitKind::HomeVisit), ..Default::default() };
        assert_eq!(whoms(&filter_visits(&all, &f)), ["张大爷"]);
        let f = VisitFilter { from: NaiveDate::from_ymd_opt(2026, 11, 2), to: NaiveDate::from_ymd_opt(2026, 11, 20), ..Default::default() };
        assert_eq!(whoms(&filter_visits(&all, &f)), ["李阿姨", "宏达 Textile 公司"]);
    }
}
