//! A cached copy of a ledger's records, so a phone shows its lists without waiting for the
//! whole Automerge document to load (loading thousands of records takes seconds on a slow phone).
//!
//! The cache is only ever a head start: the document stays the source of truth, and the lists
//! are replaced by the document's own view as soon as it has loaded. A cache from an older app
//! version or a damaged one is ignored, never an error.

use serde::{Deserialize, Serialize};

use crate::plan::Plan;
use crate::rule::Rule;
use crate::unit_ledger::{Notice, OfficeRound};
use crate::{Enterprise, Pledge, Post, Problem, Rating, Survey, UnitLedger, Visit};

/// Bumped whenever a record type changes shape, so an old cache is ignored rather than misread.
const FORMAT: u32 = 7;

/// Every record of a ledger, as the app's lists show them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LedgerView {
    /// Newest first, the visit list's order ([`crate::sort_visits`]), so the list's filter finds
    /// them sorted (read in the worker, not on the page's thread at each tap).
    pub visits: Vec<Visit>,
    pub problems: Vec<Problem>,
    pub enterprises: Vec<Enterprise>,
    pub pledges: Vec<Pledge>,
    pub surveys: Vec<Survey>,
    /// 岗位, and residents' ratings (好差评) from the public board.
    pub posts: Vec<Post>,
    pub ratings: Vec<Rating>,
    /// What the campaign office sent (实施方案, its rounds, 通报) and the unit's rules (制度).
    pub plans: Vec<Plan>,
    pub rules: Vec<Rule>,
    pub rounds: Vec<OfficeRound>,
    pub notices: Vec<Notice>,
    /// What could not be read, as shown to the person, so the notice survives a cached start.
    pub field_problems: Vec<String>,
}

/// The same records, borrowed: what the app encodes from the lists it shows, without copying
/// every record first. Encodes byte-for-byte like [`LedgerView`].
#[derive(Debug, Clone, Copy, Serialize)]
pub struct LedgerViewRef<'a> {
    pub visits: &'a [Visit],
    pub problems: &'a [Problem],
    pub enterprises: &'a [Enterprise],
    pub pledges: &'a [Pledge],
    pub surveys: &'a [Survey],
    pub posts: &'a [Post],
    pub ratings: &'a [Rating],
    pub plans: &'a [Plan],
    pub rules: &'a [Rule],
    pub rounds: &'a [OfficeRound],
    pub notices: &'a [Notice],
    pub field_problems: &'a [String],
}

impl LedgerViewRef<'_> {
    /// No record at all: nothing a cache could show sooner.
    pub fn is_empty(&self) -> bool {
        self.visits.is_empty()
            && self.problems.is_empty()
            && self.enterprises.is_empty()
            && self.pledges.is_empty()
            && self.surveys.is_empty()
            && self.posts.is_empty()
            && self.ratings.is_empty()
            && self.plans.is_empty()
            && self.rules.is_empty()
            && self.rounds.is_empty()
            && self.notices.is_empty()
    }
}

impl LedgerView {
    /// Reads every record of `ledger`; what could not be read is named in `field_problems`.
    pub fn read(ledger: &UnitLedger) -> Self {
        let mut visits = ledger.visits();
        crate::sort_visits(&mut visits.visits);
        let problems = ledger.problems();
        let enterprises = ledger.enterprises();
        let pledges = ledger.pledges();
        let surveys = ledger.surveys();
        let posts = ledger.posts();
        let ratings = ledger.ratings();
        let (plans, rules, rounds, notices) = (ledger.plans(), ledger.rules(), ledger.rounds(), ledger.notices());
        let field_problems = [
            &visits.problems,
            &problems.problems,
            &enterprises.problems,
            &pledges.problems,
            &surveys.problems,
            &posts.problems,
            &ratings.problems,
            &plans.problems,
            &rules.problems,
            &rounds.problems,
            &notices.problems,
        ]
        .into_iter()
        .flatten()
        .map(ToString::to_string)
        .collect();
        Self {
            visits: visits.visits,
            problems: problems.records,
            enterprises: enterprises.records,
            pledges: pledges.records,
            surveys: surveys.records,
            posts: posts.records,
            ratings: ratings.records,
            plans: plans.records,
            rules: rules.records,
            rounds: rounds.records,
            notices: notices.records,
            field_problems,
        }
    }

    pub fn as_ref(&self) -> LedgerViewRef<'_> {
        LedgerViewRef {
            visits: &self.visits,
            problems: &self.problems,
            enterprises: &self.enterprises,
            pledges: &self.pledges,
            surveys: &self.surveys,
            posts: &self.posts,
            ratings: &self.ratings,
            plans: &self.plans,
            rules: &self.rules,
            rounds: &self.rounds,
            notices: &self.notices,
            field_problems: &self.field_problems,
        }
    }
}

#[derive(Serialize, Deserialize)]
struct Cached<V> {
    format: u32,
    view: V,
}

pub fn encode(view: LedgerViewRef<'_>) -> Vec<u8> {
    postcard::to_allocvec(&Cached { format: FORMAT, view }).unwrap_or_default()
}

pub fn decode(bytes: &[u8]) -> Option<LedgerView> {
    // The format comes first, so an old cache is recognised before its body is misread.
    let (format, _) = postcard::take_from_bytes::<u32>(bytes).ok()?;
    if format != FORMAT {
        return None;
    }
    let cached: Cached<LedgerView> = postcard::from_bytes(bytes).ok()?;
    let mut view = cached.view;
    // Caches written before `put_visits` kept visits in the order saves and syncs appended
    // them; the lists take the page's visits as newest first. Sorted already, this is one pass.
    crate::sort_visits(&mut view.visits);
    Some(view)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{ProblemDraft, UnitLedger, VisitDraft};
    use automerge::transaction::Transactable;
    use automerge::{ActorId, ReadDoc};
    use chrono::NaiveDate;

    #[test]
    fn round_trips_and_rejects_garbage() {
        let today = NaiveDate::from_ymd_opt(2026, 11, 27).unwrap();
        let mut l = UnitLedger::create(ActorId::random());
        for i in 0..3 {
            let d = VisitDraft { whom: format!("户{i}"), heard: "内容".into(), ..VisitDraft::new(today) };
            l.add_visit(&d.validate(today).unwrap(), i).unwrap();
        }
        let p = ProblemDraft { title: "路灯".into(), ..Default::default() };
        l.add_problem(&p.validate().unwrap(), 9).unwrap();
        let view = LedgerView::read(&l);
        let bytes = encode(view.as_ref());
        assert_eq!(decode(&bytes), Some(view));
        assert_eq!(decode(b"\xff\xff garbage"), None);
        assert_eq!(decode(&[]), None);
        let mut other_format = bytes.clone();
        other_format[0] = 1;
        assert_eq!(decode(&other_format), None);
    }

    #[test]
    fn reads_visits_in_the_lists_order_newest_first() {
        let today = NaiveDate::from_ymd_opt(2026, 11, 27).unwrap();
        let mut l = UnitLedger::create(ActorId::random());
        // Entered out of date order, two on one day (the later entry first in the list).
        for (i, day) in [3, 9, 1, 9, 5].into_iter().enumerate() {
            let d = VisitDraft { whom: format!("户{i}"), heard: "内容".into(), ..VisitDraft::new(NaiveDate::from_ymd_opt(2026, 11, day).unwrap()) };
            l.add_visit(&d.validate(today).unwrap(), i as i64).unwrap();
        }
        let view = LedgerView::read(&l);
        let shown: Vec<&str> = view.visits.iter().map(|v| v.whom.as_str()).collect();
        assert_eq!(shown, ["户3", "户1", "户4", "户0", "户2"]);
        let filtered: Vec<&str> = crate::filter_visits(&view.visits, &crate::VisitFilter::default()).iter().map(|v| v.whom.as_str()).collect();
        assert_eq!(filtered, shown, "the list shows them in the order they were read");
        // A cache written with them in another order (an older version appended new ones) is
        // read back in the list's order.
        let mut appended = view.clone();
        appended.visits.reverse();
        assert_eq!(decode(&encode(appended.as_ref())), Some(view));
    }

    #[test]
    fn reads_every_section_and_names_what_it_could_not_read() {
        let today = NaiveDate::from_ymd_opt(2026, 11, 27).unwrap();
        let mut l = UnitLedger::create(ActorId::random());
        let d = VisitDraft { whom: "张家".into(), heard: "内容".into(), ..VisitDraft::new(today) };
        let visit = l.add_visit(&d.validate(today).unwrap(), 1).unwrap();
        let p = ProblemDraft { title: "路灯".into(), ..Default::default() };
        l.add_problem(&p.validate().unwrap(), 2).unwrap();
        let clean = LedgerView::read(&l);
        assert_eq!((clean.visits.len(), clean.problems.len(), clean.enterprises.len()), (1, 1, 0));
        assert!(clean.field_problems.is_empty());

        // Another program wrote a number where the visit kind belongs.
        let visits = l.section(crate::Section::Visits).unwrap();
        let (_, obj) = l.doc_mut().get(&visits, visit.as_str()).unwrap().unwrap();
        l.doc_mut().put(&obj, "kind", 7_i64).unwrap();
        let damaged = LedgerView::read(&l);
        assert_eq!(damaged.visits.len(), 1, "the rest of the record is still shown");
        assert_eq!(damaged.field_problems.len(), 1);
        assert!(damaged.field_problems[0].contains("kind"), "{:?}", damaged.field_problems);
    }
}
