use std::collections::{BTreeMap, HashMap};

use automerge::ActorId;
use chrono::NaiveDate;
use proptest::prelude::*;

use super::*;
use crate::codes::Satisfaction;
use crate::org::{Org, Unit, UnitKind};
use crate::pledge::{Aim, ValidPledge};
use crate::problem::{Action, Category, ProblemDraft, Status, Urgency};
use crate::record::Section;
use crate::survey::ValidSurvey;
use crate::visit::{ValidVisit, VisitKind};
use crate::UnitLedger;

fn day(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

/// Noon in China on `s`, in ms.
fn at(s: &str) -> i64 {
    day(s).and_hms_opt(4, 0, 0).unwrap().and_utc().timestamp_millis()
}

fn visit(l: &mut UnitLedger, date: &str, kind: VisitKind) -> RecordId {
    let v = ValidVisit {
        date: day(date),
        kind,
        whom: "张大爷".into(),
        place: String::new(),
        heard: "路灯坏了".into(),
        opinions: String::new(),
        follow_up_needed: false,
        follow_up: String::new(),
        enterprise_id: None,
    };
    l.add_visit(&v, at(date)).unwrap()
}

fn problem(l: &mut UnitLedger, raised: &str, deadline: &str, category: Category, urgency: Urgency) -> RecordId {
    let draft = ProblemDraft { title: "村口路灯不亮".into(), category, urgency, deadline: deadline.into(), responsible: "李明".into(), ..ProblemDraft::default() };
    l.add_problem(&draft.validate().unwrap(), at(raised)).unwrap()
}

fn step(l: &mut UnitLedger, id: &RecordId, action: Action, on: &str) {
    l.change_problem_status(id, &action, at(on)).unwrap();
}

fn resolve(on: &str) -> Action {
    let _ = on;
    Action::Resolve { result: "已修好".into() }
}

fn follow_up(s: Satisfaction) -> Action {
    Action::FollowUp { satisfaction: s, comment: "还是不亮".into() }
}

fn pledge(l: &mut UnitLedger, made: &str, due: &str, public: bool) -> RecordId {
    let p = ValidPledge { content: "每周三接待群众".into(), by: "王芳".into(), team: false, aims: vec![Aim::ServiceLead], due: day(due), public };
    l.add_pledge(&p, at(made)).unwrap()
}

fn facts(l: &UnitLedger) -> Vec<Facts> {
    facts::read_all(l).iter().map(Record::facts).collect()
}

fn today() -> NaiveDate {
    day("2026-11-28")
}

#[test]
fn a_problems_facts_follow_its_steps() {
    let mut l = UnitLedger::create(ActorId::random());
    let id = problem(&mut l, "2026-11-02", "2026-11-10", Category::Infrastructure, Urgency::Urgent);
    let f = |l: &UnitLedger| ProblemFacts::of(&l.problem(&id).unwrap());
    assert_eq!((f(&l).raised_on, f(&l).resolved_on, f(&l).days_overdue(today())), (Some(day("2026-11-02")), None, Some(18)));
    step(&mut l, &id, Action::Start, "2026-11-03");
    step(&mut l, &id, resolve("2026-11-12"), "2026-11-12");
    assert_eq!((f(&l).resolved_on, f(&l).resolved_in_time(), f(&l).days_overdue(today())), (Some(day("2026-11-12")), false, None));
    step(&mut l, &id, follow_up(Satisfaction::Dissatisfied), "2026-11-13");
    assert_eq!((f(&l).status, f(&l).resolved_on, f(&l).satisfaction), (Status::InProgress, None, Some(Satisfaction::Dissatisfied)), "reopened: no longer resolved");
    step(&mut l, &id, resolve("2026-11-20"), "2026-11-20");
    step(&mut l, &id, follow_up(Satisfaction::Satisfied), "2026-11-21");
    assert_eq!((f(&l).status, f(&l).resolved_on, f(&l).satisfaction), (Status::FollowedUp, Some(day("2026-11-20")), Some(Satisfaction::Satisfied)));
    l.add_supervision_remark(&id, "请尽快回访", at("2026-11-22")).unwrap();
    assert_eq!(f(&l).remarks, 1);
    let encoded = Facts::Problem(f(&l)).encode();
    assert!(encoded.len() < 80, "{} bytes", encoded.len());
    assert_eq!(Facts::decode(&encoded), Some(Facts::Problem(f(&l))));
    assert_eq!(Facts::decode(&[0xff, 0xff]), None);
}

#[test]
fn days_are_china_days() {
    // 2026-11-27 17:00 UTC is 2026-11-28 01:00 in China.
    let ms = day("2026-11-27").and_hms_opt(17, 0, 0).unwrap().and_utc().timestamp_millis();
    assert_eq!(day_of(ms), Some(day("2026-11-28")));
    assert_eq!(day_of(0), None);
}

/// A unit ledger with one of everything the figures distinguish.
fn sample() -> UnitLedger {
    let mut l = UnitLedger::create(ActorId::random());
    visit(&mut l, "2026-11-01", VisitKind::HomeVisit);
    visit(&mut l, "2026-11-15", VisitKind::HomeVisit);
    visit(&mut l, "2026-11-20", VisitKind::Petition);
    visit(&mut l, "2026-10-31", VisitKind::HomeVisit); // before the period
    let gone = visit(&mut l, "2026-11-21", VisitKind::Forum);
    l.set_deleted(Section::Visits, &gone, true, at("2026-11-22")).unwrap();
    // Pending, overdue.
    problem(&mut l, "2026-11-02", "2026-11-10", Category::Infrastructure, Urgency::Urgent);
    // Resolved in time, followed up satisfied.
    let p = problem(&mut l, "2026-11-03", "2026-11-30", Category::Employment, Urgency::Normal);
    step(&mut l, &p, resolve(""), "2026-11-05");
    step(&mut l, &p, follow_up(Satisfaction::Basic), "2026-11-06");
    // Resolved late.
    let p = problem(&mut l, "2026-11-04", "2026-11-05", Category::Infrastructure, Urgency::Normal);
    step(&mut l, &p, resolve(""), "2026-11-09");
    // Rejected.
    let p = problem(&mut l, "2026-11-05", "", Category::Other, Urgency::Normal);
    step(&mut l, &p, Action::Reject { reason: "不属本村".into() }, "2026-11-06");
    // Raised last month, still overdue now: overdue counts, raised does not.
    problem(&mut l, "2026-10-02", "2026-10-10", Category::Housing, Urgency::Critical);
    // Deleted: nowhere.
    let p = problem(&mut l, "2026-11-06", "2026-11-07", Category::Housing, Urgency::Normal);
    l.set_deleted(Section::Problems, &p, true, at("2026-11-08")).unwrap();
    let done = pledge(&mut l, "2026-11-01", "2026-11-30", true);
    l.set_pledge_fulfilled(&done, true, at("2026-11-10")).unwrap();
    pledge(&mut l, "2026-11-02", "2026-11-20", false); // overdue
    pledge(&mut l, "2026-10-02", "2026-10-20", true); // made before the period
    let q = |l: &UnitLedger, id: &RecordId| l.survey(id).unwrap().questions[0].id.clone();
    let old = l.add_survey(&ValidSurvey { title: "三季度测评".into(), questions: vec!["服务态度".into()], opened_on: day("2026-09-01") }, at("2026-09-01")).unwrap();
    let q0 = q(&l, &old);
    l.add_survey_response(&old, &[(q0, Satisfaction::Dissatisfied)], "", at("2026-09-02")).unwrap();
    let new = l.add_survey(&ValidSurvey { title: "四季度测评".into(), questions: vec!["服务态度".into()], opened_on: day("2026-11-01") }, at("2026-11-01")).unwrap();
    let q1 = q(&l, &new);
    for s in [Satisfaction::Satisfied, Satisfaction::Basic, Satisfaction::Dissatisfied, Satisfaction::Satisfied] {
        l.add_survey_response(&new, &[(q1.clone(), s)], "", at("2026-11-02")).unwrap();
    }
    l
}

#[test]
fn a_units_figures_for_a_month() {
    let l = sample();
    let f = unit_figures(&facts(&l), &Filter::new(Period::parse("2026-11").unwrap()), today());
    let expected = Figures {
        visits_by_kind: [2, 1, 0, 0, 0, 0, 0, 0, 0],
        raised: 4,
        // The one still open was never started: 待办, not 办理中.
        pending: 1,
        in_progress: 0,
        resolved: 2,
        rejected: 1,
        resolved_in_time: 1,
        followed_up: 1,
        satisfied: 1,
        overdue: 2,
        pledges: 2,
        pledges_public: 1,
        pledges_fulfilled: 1,
        pledges_overdue: 1,
        survey_satisfied: 3,
        survey_answers: 4,
        survey_units: 1,
        ..Figures::default()
    };
    assert_eq!(f, expected);
    assert_eq!((f.visits(), f.in_time_per_mille(), f.satisfaction_per_mille(), f.survey_per_mille()), (3, Some(500), Some(1000), Some(750)));

    // In October the latest round is the third quarter's.
    let f = unit_figures(&facts(&l), &Filter::new(Period::parse("2026-10").unwrap()), today());
    assert_eq!((f.visits(), f.raised, f.overdue, f.pledges, f.survey_satisfied, f.survey_answers), (1, 1, 2, 1, 0, 1));
}

/// The phone's own problem summary and the desk's figures count one ledger alike (the same
/// statuses, overdue rule and satisfied verdicts), over a period holding every problem.
#[test]
fn the_phones_summary_and_the_desks_figures_agree() {
    let l = sample();
    let phone = crate::problem::summarize_problems(&l.problems().records, today());
    let f = unit_figures(&facts(&l), &Filter::new(Period::parse("2026-01-01..2026-12-31").unwrap()), today());
    let by = |s: Status| phone.by_status.iter().find(|(x, _)| *x == s).map_or(0, |(_, n)| *n);
    assert_eq!(phone.total, f.raised);
    assert_eq!((by(Status::Pending), by(Status::InProgress)), (f.pending, f.in_progress));
    assert_eq!(by(Status::Resolved) + by(Status::FollowedUp), f.resolved);
    assert_eq!(by(Status::Rejected), f.rejected);
    assert_eq!((phone.overdue, phone.satisfied, phone.followed_up), (f.overdue, f.satisfied, f.followed_up));
    assert_eq!((f.raised, f.overdue), (5, 2), "the sample's five live problems, two overdue");
}

#[test]
fn problem_filters_narrow_every_problem_figure() {
    let l = sample();
    let period = Period::parse("2026-Q4").unwrap();
    let f = unit_figures(&facts(&l), &Filter { category: Some(Category::Infrastructure), ..Filter::new(period) }, today());
    assert_eq!((f.raised, f.pending + f.in_progress, f.resolved, f.overdue, f.visits()), (2, 1, 1, 1, 4), "visits are not problems: unfiltered");
    let f = unit_figures(&facts(&l), &Filter { urgency: Some(Urgency::Critical), ..Filter::new(period) }, today());
    assert_eq!((f.raised, f.overdue), (1, 1));
    let f = unit_figures(&facts(&l), &Filter { status: Some(StatusFilter::Is(Status::Rejected)), ..Filter::new(period) }, today());
    assert_eq!((f.raised, f.rejected, f.overdue), (1, 1, 0));
}

#[test]
fn series_per_month_category_and_round() {
    let l = sample();
    let filter = Filter::new(Period::parse("2026-Q4").unwrap());
    let mut s = Series::new(&filter);
    s.count(&facts(&l), &filter);
    s.count(&facts(&l), &filter); // a second unit alike
    let months: Vec<(u32, usize, usize)> = s.months.iter().map(|m| (m.month, m.raised, m.resolved)).collect();
    assert_eq!(months, vec![(10, 2, 0), (11, 8, 4), (12, 0, 0)]);
    let infrastructure = Category::ALL.iter().position(|c| *c == Category::Infrastructure).unwrap();
    assert_eq!(s.by_category[infrastructure], 4);
    assert_eq!(s.by_category.iter().sum::<usize>(), 10);
    assert_eq!(s.rounds, vec![Round { title: "四季度测评".to_owned(), sheets: 8, satisfied: 6, answers: 8 }]);
}

/// Three people answer a round of three questions: 3 sheets (份答卷), 9 answers.
#[test]
fn a_round_counts_sheets_apart_from_answers() {
    let mut l = UnitLedger::create(ActorId::random());
    let round = ValidSurvey { title: "测评".into(), questions: vec!["服务态度".into(), "办事效率".into(), "廉洁".into()], opened_on: day("2026-11-01") };
    let id = l.add_survey(&round, at("2026-11-01")).unwrap();
    let questions: Vec<RecordId> = l.survey(&id).unwrap().questions.iter().map(|q| q.id.clone()).collect();
    for rating in [Satisfaction::Satisfied, Satisfaction::Satisfied, Satisfaction::Dissatisfied] {
        let answers: Vec<(RecordId, Satisfaction)> = questions.iter().map(|q| (q.clone(), rating)).collect();
        l.add_survey_response(&id, &answers, "", at("2026-11-02")).unwrap();
    }
    let filter = Filter::new(Period::parse("2026-11").unwrap());
    let mut s = Series::new(&filter);
    s.count(&facts(&l), &filter);
    assert_eq!(s.rounds, vec![Round { title: "测评".to_owned(), sheets: 3, satisfied: 6, answers: 9 }]);
}

fn unit(id: &str, kind: UnitKind, parent: Option<&str>, ledger: bool) -> Unit {
    Unit { id: id.into(), name: id.into(), kind, parent: parent.map(Into::into), ledger: ledger.then(|| format!("ledger-{id}")) }
}

fn org() -> Org {
    let mut org = Org::default();
    for u in [
        unit("city", UnitKind::City, None, false),
        unit("county", UnitKind::County, Some("city"), false),
        unit("other-county", UnitKind::County, Some("city"), false),
        unit("town", UnitKind::Township, Some("county"), true),
        unit("village-a", UnitKind::Village, Some("town"), true),
        unit("village-b", UnitKind::Village, Some("town"), true),
        unit("village-c", UnitKind::Village, Some("other-county"), true),
    ] {
        org.units.insert(u.id.clone(), u);
    }
    org
}

#[test]
fn totals_add_up_the_tree_and_stop_at_the_node() {
    let one = |raised| Figures { raised, visits_by_kind: [1, 0, 0, 0, 0, 0, 0, 0, 0], ..Figures::default() };
    let own: BTreeMap<String, Figures> = [("town", 1), ("village-a", 2), ("village-b", 4), ("village-c", 8)].into_iter().map(|(u, n)| (u.to_owned(), one(n))).collect();
    let totals = roll_up(&org(), "city", &own);
    let raised = |t: &BTreeMap<String, Figures>, u: &str| t.get(u).map(|f| (f.raised, f.visits()));
    assert_eq!(raised(&totals, "city"), Some((15, 4)));
    assert_eq!(raised(&totals, "county"), Some((7, 3)));
    assert_eq!(raised(&totals, "town"), Some((7, 3)), "the township's own ledger and its villages'");
    assert_eq!(raised(&totals, "other-county"), Some((8, 1)));
    let totals = roll_up(&org(), "county", &own);
    assert_eq!(raised(&totals, "county"), Some((7, 3)));
    assert_eq!(raised(&totals, "city"), None, "nothing above the node");
    assert_eq!(raised(&totals, "village-c"), None, "nothing beside it");
}

#[test]
fn units_are_counted_at_every_level_up_to_the_node() {
    let units = ["village-a", "village-b", "town", "village-c"];
    let counts = count_below(&org(), "city", units);
    assert_eq!(counts.get("city"), Some(&4));
    assert_eq!(counts.get("county"), Some(&3));
    assert_eq!(counts.get("town"), Some(&3), "the township's own ledger and its two villages");
    assert_eq!(counts.get("village-a"), Some(&1));
    assert_eq!(counts.get("other-county"), Some(&1));
    let counts = count_below(&org(), "county", units);
    assert_eq!(counts.get("county"), Some(&3));
    assert_eq!(counts.get("city"), None, "nothing above the node");
    assert_eq!(counts.get("village-c"), None, "nothing beside it");
    assert!(count_below(&org(), "county", ["village-a"; 0]).is_empty());
}

#[test]
fn lists_of_overdue_problems_sort_three_ways() {
    let l = sample();
    let owned: Vec<(RecordId, ProblemFacts)> = l.problems().records.iter().map(|p| (p.id.clone(), ProblemFacts::of(p))).collect();
    let problems: Vec<(&str, &RecordId, &ProblemFacts)> = owned.iter().map(|(id, f)| ("village-a", id, f)).collect();
    let filter = Filter::new(Period::parse("2026-11").unwrap());
    let mut overdue = problem_lines(problems.clone(), &filter, true, today());
    assert_eq!(overdue.len(), 2, "both overdue, whenever raised");
    sort_problem_lines(&mut overdue, ProblemSort::DaysOverdue, |_| 0);
    assert_eq!(overdue.iter().map(|l| l.days_overdue).collect::<Vec<_>>(), vec![Some(49), Some(18)]);
    sort_problem_lines(&mut overdue, ProblemSort::Urgency, |_| 0);
    assert_eq!(overdue[0].facts.urgency, Urgency::Critical);
    let raised = problem_lines(problems, &filter, false, today());
    assert_eq!(raised.len(), 4, "raised in November, not deleted");
}

#[test]
fn stale_after_three_days_or_never() {
    let now = 1_000_000_000;
    assert!(is_stale(None, now));
    assert!(!is_stale(Some(now - 3 * 86_400), now));
    assert!(is_stale(Some(now - 3 * 86_400 - 1), now));
}

/// What a read model holds after applying `update`.
fn apply(model: &mut HashMap<(Section, RecordId), Facts>, update: Update) {
    match update {
        Update::All(records) => {
            model.clear();
            model.extend(records.iter().map(|r| ((r.section(), r.id().clone()), r.facts())));
        }
        Update::Records { changed, gone } => {
            for r in changed {
                model.insert((r.section(), r.id().clone()), r.facts());
            }
            for key in gone {
                model.remove(&key);
            }
        }
    }
}

#[derive(Debug, Clone)]
enum Edit {
    Visit(u8),
    Problem(u8),
    Step(u8, u8),
    Delete(u8),
    Pledge(bool),
    Merge,
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        any::<u8>().prop_map(Edit::Visit),
        any::<u8>().prop_map(Edit::Problem),
        (any::<u8>(), any::<u8>()).prop_map(|(a, b)| Edit::Step(a, b)),
        any::<u8>().prop_map(Edit::Delete),
        any::<bool>().prop_map(Edit::Pledge),
        Just(Edit::Merge),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]
    /// Edits on two phones, merged now and then, projected after every step from the heads
    /// of the step before: the projection equals one made from scratch.
    #[test]
    fn incremental_projection_equals_a_full_one(edits in proptest::collection::vec(edit(), 1..25)) {
        let mut server = UnitLedger::create(ActorId::random());
        let mut phone = server.fork(ActorId::random());
        let mut model = HashMap::new();
        apply(&mut model, update_since(&mut server, None));
        let mut by_changes = model.clone();
        let mut projected = server.heads();
        let days = ["2026-11-01", "2026-11-09", "2026-11-20"];
        for (i, e) in edits.iter().enumerate() {
            let d = days[i % 3];
            match e {
                Edit::Visit(k) => { visit(&mut server, d, VisitKind::ALL[*k as usize % VisitKind::COUNT]); }
                Edit::Problem(c) => { problem(&mut phone, d, "2026-11-15", Category::ALL[*c as usize % Category::ALL.len()], Urgency::Normal); }
                Edit::Step(which, a) => {
                    let problems = phone.problems().records;
                    if let Some(p) = problems.get(*which as usize % problems.len().max(1)) {
                        let action = match a % 4 { 0 => Action::Start, 1 => resolve(d), 2 => follow_up(Satisfaction::Dissatisfied), _ => Action::Reject { reason: "不属本村".into() } };
                        let _ = phone.change_problem_status(&p.id, &action, at(d));
                    }
                }
                Edit::Delete(which) => {
                    let visits = server.visits().visits;
                    if let Some(v) = visits.get(*which as usize % visits.len().max(1)) {
                        server.set_deleted(Section::Visits, &v.id, !v.deleted, at(d)).unwrap();
                    }
                }
                Edit::Pledge(public) => { pledge(&mut phone, d, "2026-11-30", *public); }
                Edit::Merge => { server.merge(&mut phone).unwrap(); phone.merge(&mut server).unwrap(); }
            }
            // The server's commit hands over the changes it stores instead of the heads.
            let changes = server.doc_mut().get_changes(&projected);
            apply(&mut by_changes, update_for(&mut server, &changes));
            apply(&mut model, update_since(&mut server, Some(&projected)));
            projected = server.heads();
        }
        server.merge(&mut phone).unwrap();
        let changes = server.doc_mut().get_changes(&projected);
        apply(&mut by_changes, update_for(&mut server, &changes));
        apply(&mut model, update_since(&mut server, Some(&projected)));
        let mut full = HashMap::new();
        apply(&mut full, update_since(&mut server, None));
        prop_assert_eq!(&model, &full);
        prop_assert_eq!(by_changes, full);
    }
}

/// A change whose message names one record while its operations change another: the read model
/// follows the operations.
#[test]
fn what_a_change_touches_comes_from_its_operations_not_its_message() {
    use automerge::transaction::{CommitOptions, Transactable};
    use automerge::ReadDoc;
    let mut l = UnitLedger::create(ActorId::random());
    let named = problem(&mut l, "2026-11-02", "2026-11-10", Category::Housing, Urgency::Normal);
    let changed = problem(&mut l, "2026-11-03", "2026-11-10", Category::Housing, Urgency::Normal);
    let before = l.heads();
    let problems = l.doc().get(automerge::ROOT, "problems").unwrap().unwrap().1;
    let record = l.doc().get(&problems, changed.as_str()).unwrap().unwrap().1;
    l.doc_mut().put(&record, "urgency", "critical").unwrap();
    let lie = crate::record::ChangeNote { summary: "修改问题".into(), record: Some((Section::Problems, named.clone())), by: "某人".into() };
    l.doc_mut().commit_with(CommitOptions::default().with_message(lie.encode()));
    match update_since(&mut l, Some(&before)) {
        Update::Records { changed: records, gone } => {
            assert_eq!(records.iter().map(|r| r.id().clone()).collect::<Vec<_>>(), vec![changed.clone()]);
            assert!(gone.is_empty());
            assert!(matches!(&records[0], Record::Problem(p) if p.urgency == Urgency::Critical));
        }
        other => panic!("{other:?}"),
    }
    // An edit at the top of the document outside the sections touches no record.
    let before = l.heads();
    l.doc_mut().put(automerge::ROOT, "note", "x").unwrap();
    l.doc_mut().commit();
    assert_eq!(update_since(&mut l, Some(&before)), Update::Records { changed: vec![], gone: vec![] });
    // A section replaced: everything is read again.
    let before = l.heads();
    l.doc_mut().put_object(automerge::ROOT, "visits", automerge::ObjType::Map).unwrap();
    l.doc_mut().commit();
    assert!(matches!(update_since(&mut l, Some(&before)), Update::All(_)));
}

/// The board's ratings count in the period they were given; a 差评 is open until the unit
/// settles it, and overdue (whenever given) once the step it owes is late by the
/// organisation's limits.
#[test]
fn residents_ratings_and_their_cases_are_counted() {
    use crate::rating::{CaseRules, StepKind, Target, ValidRating, Way};
    use crate::Verdict;
    let mut l = UnitLedger::create(ActorId::random());
    let mut rate = |verdict: Verdict, on: &str| {
        let r = ValidRating { target: Target::Post, target_id: RecordId::random(), verdict, comment: String::new(), way: Way::Poster, code_by: String::new() };
        l.add_rating(&r, at(on)).unwrap()
    };
    rate(Verdict::VerySatisfied, "2026-11-02");
    rate(Verdict::Basic, "2026-11-03");
    let late = rate(Verdict::Dissatisfied, "2026-11-20"); // a Friday: 签收 due Monday the 23rd
    let answered = rate(Verdict::VeryDissatisfied, "2026-11-26");
    let october = rate(Verdict::VeryDissatisfied, "2026-10-10");
    l.add_case_step(&answered, StepKind::Acknowledge, "", None, at("2026-11-26")).unwrap();
    l.add_case_step(&answered, StepKind::Explain, "窗口当天临时停电", None, at("2026-11-27")).unwrap();
    l.add_case_step(&october, StepKind::Acknowledge, "", None, at("2026-10-12")).unwrap();

    let f = unit_figures(&facts(&l), &Filter::new(Period::parse("2026-11").unwrap()), today());
    assert_eq!((f.ratings, f.ratings_good), (4, 2), "October's rating is outside the period");
    assert_eq!(f.ratings_per_mille(), Some(500));
    // Open: the late one, and October's (acknowledged, answer due 5 working days on: overdue).
    assert_eq!((f.cases_open, f.cases_overdue), (2, 2));
    // Longer limits: October's answer is still late, the November one not.
    let patient = Filter { case_rules: CaseRules { acknowledge_days: 10, answer_days: 60, ..CaseRules::default() }, ..Filter::new(Period::parse("2026-11").unwrap()) };
    assert_eq!(unit_figures(&facts(&l), &patient, today()).cases_overdue, 0);
    // Acknowledged late, it is still late: its answer was due five working days after the
    // rating (the 27th). Answered, it is settled.
    l.add_case_step(&late, StepKind::Acknowledge, "", None, at("2026-11-28")).unwrap();
    let f = unit_figures(&facts(&l), &Filter::new(Period::parse("2026-11").unwrap()), today());
    assert_eq!((f.cases_open, f.cases_overdue), (2, 2));
    l.add_case_step(&late, StepKind::Rectify, "已安排专人值守", None, at("2026-11-28")).unwrap();
    let f = unit_figures(&facts(&l), &Filter::new(Period::parse("2026-11").unwrap()), today());
    assert_eq!((f.cases_open, f.cases_overdue), (1, 1));
}
