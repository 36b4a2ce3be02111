//! The schema checker against the app's own work (every write it makes passes, as the role
//! that makes it) and against crafted changes, generated for every role and place and judged
//! against a table written out here on its own, from the ledger's documentation rather than
//! from the checker's code.

use automerge::transaction::{CommitOptions, Transactable};
use automerge::{ActorId, AutoCommit, Change, ObjType, ReadDoc, ScalarValue, ROOT};
use chrono::NaiveDate;
use proptest::prelude::*;

use super::{check, Sender};
use crate::org::Write;
use crate::pledge::{Aim, Evaluator, PledgeDraft};
use crate::problem::{Action, ProblemDraft};
use crate::survey::SurveyDraft;
use crate::{EnterpriseDraft, RecordId, Satisfaction, Section, UnitLedger, VisitDraft};

const NAME: &str = "王芳";
const ROLES: [Write; 3] = [Write::SupervisionOnly, Write::Cadre, Write::Everything];

fn as_(write: Write) -> Sender<'static> {
    Sender { write, name: NAME }
}

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 12, 4).unwrap()
}

/// A unit ledger with one record of each section (and a conflict on a visit's place), as the
/// server holds it.
struct World {
    server: UnitLedger,
    visit: RecordId,
    problem: RecordId,
    enterprise: RecordId,
    pledge: RecordId,
    survey: RecordId,
}

fn world() -> World {
    let mut l = UnitLedger::create(ActorId::random());
    l.set_author(NAME);
    let visit = l.add_visit(&VisitDraft { whom: "王大爷".into(), heard: "路灯坏了".into(), ..VisitDraft::new(today()) }.validate(today()).unwrap(), 1_000).unwrap();
    let enterprise =
        l.add_enterprise(&EnterpriseDraft { name: "青石农机厂".into(), credit_code: "91350100M000100Y43".into(), ..Default::default() }.validate().unwrap(), 1_000).unwrap();
    let draft = ProblemDraft { title: "路灯坏了".into(), visit_id: Some(visit.clone()), ..ProblemDraft::default() };
    let problem = l.add_problem(&draft.validate().unwrap(), 1_000).unwrap();
    let pledge = PledgeDraft { content: "每周接访".into(), team: true, aims: vec![Aim::ServiceLead], due: "2026-12-31".into(), ..Default::default() };
    let pledge = l.add_pledge(&pledge.validate().unwrap(), 1_000).unwrap();
    let survey = SurveyDraft { title: "四季度测评".into(), questions: "服务态度\n办事效率".into() };
    let survey = l.add_survey(&survey.validate(today()).unwrap(), 1_000).unwrap();
    World { server: l, visit, problem, enterprise, pledge, survey }
}

/// A phone's copy of the server's ledger, writing as [`NAME`].
fn phone(w: &mut World) -> UnitLedger {
    let mut l = UnitLedger::load(&w.server.save(), ActorId::random()).unwrap();
    l.set_author(NAME);
    l
}

fn new_changes(phone: &mut UnitLedger, server: &UnitLedger) -> Vec<Change> {
    let heads = server.doc().clone().get_heads();
    phone.doc_mut().get_changes(&heads)
}

/// Every kind of write the app makes passes the check as the role that makes it, checked
/// against the server's copy and on the phone after making it.
#[test]
fn every_write_the_app_makes_passes_as_its_role() {
    type Work = fn(&mut UnitLedger, &World);
    let works: Vec<(&str, Write, Work)> = vec![
        ("add visit", Write::Cadre, |l, _| {
            l.add_visit(
                &VisitDraft { whom: "李奶奶".into(), heard: "想装扶手".into(), follow_up_needed: true, follow_up: "下周再去".into(), ..VisitDraft::new(today()) }
                    .validate(today())
                    .unwrap(),
                2_000,
            )
            .map(|_| ())
            .unwrap()
        }),
        ("edit visit", Write::Cadre, |l, w| {
            let edited =
                VisitDraft {
                    whom: "王大爷".into(), place: "三组".into(), heard: "路灯坏了两盏".into(), enterprise_id: Some(w.enterprise.clone()), ..VisitDraft::new(today())
                };
            l.update_visit(&w.visit, &edited.validate(today()).unwrap(), 2_000).unwrap()
        }),
        ("delete and restore", Write::Cadre, |l, w| {
            l.set_deleted(Section::Visits, &w.visit, true, 2_000).unwrap();
            l.set_deleted(Section::Visits, &w.visit, false, 2_100).unwrap();
        }),
        ("raise problem", Write::Cadre, |l, w| {
            let draft = ProblemDraft {
                title: "下水道堵了".into(),
                description: "雨天倒灌".into(),
                responsible: "张伟".into(),
                contact: "13800000000".into(),
                deadline: "2026-12-20".into(),
                enterprise_id: Some(w.enterprise.clone()),
                difficulty: Some(crate::problem::Difficulty::Land),
                ..ProblemDraft::default()
            };
            l.add_problem(&draft.validate().unwrap(), 2_000).map(|_| ()).unwrap()
        }),
        ("edit problem", Write::Cadre, |l, w| {
            let draft = ProblemDraft { title: "路灯坏了三盏".into(), description: "村口".into(), deadline: "2026-12-31".into(), ..ProblemDraft::default() };
            l.update_problem(&w.problem, &draft.validate().unwrap(), 2_000).unwrap()
        }),
        ("start and progress", Write::Cadre, |l, w| {
            l.change_problem_status(&w.problem, &Action::Start, 2_000).unwrap();
            l.add_problem_progress(&w.problem, "已联系供电所", 2_100).unwrap();
        }),
        ("assign", Write::Everything, |l, w| {
            let draft = ProblemDraft { title: "路灯坏了".into(), responsible: "刘洋".into(), visit_id: Some(w.visit.clone()), ..ProblemDraft::default() };
            l.update_problem(&w.problem, &draft.validate().unwrap(), 2_000).unwrap()
        }),
        ("assign on the problem's page", Write::Everything, |l, w| {
            l.assign_problem(&w.problem, "刘洋", 2_000).unwrap();
            l.assign_problem(&w.problem, "", 2_100).unwrap();
        }),
        ("resolve, follow up, reopen, reject", Write::Everything, |l, w| {
            l.change_problem_status(&w.problem, &Action::Start, 2_000).unwrap();
            l.change_problem_status(&w.problem, &Action::Resolve { result: "修好了".into() }, 2_100).unwrap();
            l.change_problem_status(&w.problem, &Action::FollowUp { satisfaction: Satisfaction::Dissatisfied, comment: "还有一盏".into() }, 2_200).unwrap();
            l.change_problem_status(&w.problem, &Action::Reject { reason: "不归本村".into() }, 2_300).unwrap();
            l.change_problem_status(&w.problem, &Action::Reopen, 2_400).unwrap();
        }),
        ("enterprise", Write::Cadre, |l, w| {
            l.add_enterprise(
                &EnterpriseDraft { name: "河口米业".into(), credit_code: "91440300708461136T".into(), phone: "0571-1234".into(), ..Default::default() }.validate().unwrap(),
                2_000,
            )
            .unwrap();
            l.update_enterprise(
                &w.enterprise,
                &EnterpriseDraft { name: "青石农机厂".into(), credit_code: "91350100M000100Y43".into(), address: "青石镇".into(), ..Default::default() }.validate().unwrap(),
                2_000,
            )
            .unwrap();
        }),
        ("pledge work", Write::Cadre, |l, w| {
            let edited = PledgeDraft {
                content: "每周二接访".into(),
                by: "王芳".into(),
                aims: vec![Aim::ServiceLead, Aim::DevelopmentLead],
                due: "2027-01-31".into(),
                public: true,
                ..Default::default()
            };
            l.update_pledge(&w.pledge, &edited.validate().unwrap(), 2_000).unwrap();
            l.add_pledge_progress(&w.pledge, "接访 3 人", 2_100).unwrap();
            l.set_pledge_fulfilled(&w.pledge, true, 2_200).unwrap();
            l.set_pledge_fulfilled(&w.pledge, false, 2_300).unwrap();
            l.add_evaluation(&w.pledge, Evaluator::Resident, Satisfaction::Satisfied, "", 2_400).unwrap();
            l.add_pledge(
                &PledgeDraft { content: "办实事".into(), by: "王芳".into(), aims: vec![Aim::ServiceLead], due: "2027-03-01".into(), ..Default::default() }.validate().unwrap(),
                2_500,
            )
            .unwrap();
        }),
        ("survey work", Write::Cadre, |l, w| {
            let questions: Vec<RecordId> = l.surveys().records[0].questions.iter().map(|q| q.id.clone()).collect();
            l.add_survey_response(&w.survey, &[(questions[0].clone(), Satisfaction::Satisfied), (questions[1].clone(), Satisfaction::Basic)], "好", 2_000).unwrap();
            l.set_survey_closed(&w.survey, true, 2_100).unwrap();
            l.add_survey(&SurveyDraft { title: "一季度测评".into(), questions: "满意吗".into() }.validate(today()).unwrap(), 2_200).unwrap();
        }),
        ("remark and evaluation", Write::SupervisionOnly, |l, w| {
            l.add_supervision_remark(&w.problem, "请本周办结", 2_000).unwrap();
            l.add_evaluation(&w.pledge, Evaluator::Supervisor, Satisfaction::Dissatisfied, "进度慢", 2_100).unwrap();
        }),
    ];
    for (what, role, work) in works {
        let mut w = world();
        let mut l = phone(&mut w);
        work(&mut l, &w);
        let changes = new_changes(&mut l, &w.server);
        assert!(!changes.is_empty(), "{what}: nothing written");
        assert_eq!(check(w.server.doc(), &changes, as_(role)), Ok(()), "{what} as {role:?}");
        assert_eq!(check(l.doc(), &changes, as_(role)), Ok(()), "{what} as {role:?}, on the phone");
        if role == Write::Cadre {
            assert_eq!(check(w.server.doc(), &changes, as_(Write::Everything)), Ok(()), "{what}: the secretary may too");
        }
    }
}

/// Assigning (指派) writes who is responsible and a log entry that says so; a cadre's is refused.
#[test]
fn assigning_is_logged_and_the_secretarys() {
    let mut w = world();
    let mut l = phone(&mut w);
    l.assign_problem(&w.problem, " 刘洋 ", 2_000).unwrap();
    let p = l.problem(&w.problem).unwrap();
    assert_eq!(p.responsible, "刘洋");
    let last = p.log.last().unwrap();
    assert_eq!((last.kind.as_str(), crate::problem::describe_entry(last), last.by.as_str()), (crate::problem::log_kind::ASSIGNED, "指派给 刘洋".to_owned(), NAME));
    assert!(l.assign_problem(&w.problem, "刘洋", 2_100).is_err(), "no change, no entry");
    let changes = new_changes(&mut l, &w.server);
    assert_eq!(check(w.server.doc(), &changes, as_(Write::Everything)), Ok(()));
    assert_eq!(check(w.server.doc(), &changes, as_(Write::Cadre)), Err(super::SECRETARY_ONLY_ASSIGN.to_owned()));
    // Through the edit form too.
    let mut l = phone(&mut w);
    let draft = ProblemDraft { title: "路灯坏了".into(), responsible: "赵强".into(), visit_id: Some(w.visit.clone()), ..ProblemDraft::default() };
    l.update_problem(&w.problem, &draft.validate().unwrap(), 3_000).unwrap();
    assert_eq!(crate::problem::describe_entry(l.problem(&w.problem).unwrap().log.last().unwrap()), "指派给 赵强");
}

/// Two phones set one field differently; settling it (the app's 选定) passes.
#[test]
fn settling_a_conflict_passes() {
    let mut w = world();
    let mut a = phone(&mut w);
    let mut b = phone(&mut w);
    for (l, place) in [(&mut a, "一组"), (&mut b, "二组")] {
        let draft = VisitDraft { whom: "王大爷".into(), place: place.into(), heard: "路灯坏了".into(), ..VisitDraft::new(today()) };
        l.update_visit(&w.visit.clone(), &draft.validate(today()).unwrap(), 2_000).unwrap();
        let changes = new_changes(l, &w.server);
        assert_eq!(check(w.server.doc(), &changes, as_(Write::Cadre)), Ok(()));
        w.server.doc_mut().apply_changes(changes).unwrap();
    }
    let mut settler = phone(&mut w);
    settler.resolve_conflict(Section::Visits, &w.visit, "place", "一组", 3_000).unwrap();
    let changes = new_changes(&mut settler, &w.server);
    assert_eq!(check(w.server.doc(), &changes, as_(Write::Cadre)), Ok(()));
}

/// Entries and notes carry the sender's name: the same work signed by anyone else is refused,
/// for every role.
#[test]
fn entries_and_notes_must_name_the_sender() {
    for role in ROLES {
        let mut w = world();
        let mut l = phone(&mut w);
        l.set_author("书记");
        match role {
            Write::SupervisionOnly => l.add_supervision_remark(&w.problem, "请办结", 2_000).unwrap(),
            _ => l.add_problem_progress(&w.problem, "已联系", 2_000).unwrap(),
        }
        let changes = new_changes(&mut l, &w.server);
        let refused = check(w.server.doc(), &changes, as_(role));
        assert!(refused.as_ref().is_err_and(|e| e.starts_with(super::NOT_THE_SENDER)), "{role:?}: {refused:?}");
        assert_eq!(check(w.server.doc(), &changes, Sender { write: role, name: "书记" }), Ok(()), "{role:?}: signed by the sender");
    }
    // A note signed right over an entry signed by someone else.
    let mut w = world();
    let mut crafted = phone(&mut w);
    let log = obj_at(&crafted, &["problems", w.problem.as_str(), "log"]);
    let entry = crafted.doc_mut().put_object(&log, RecordId::random().as_str(), ObjType::Map).unwrap();
    crafted.doc_mut().put(&entry, "at", ScalarValue::Timestamp(2_000)).unwrap();
    crafted.doc_mut().put(&entry, "by", "书记").unwrap();
    commit_as(crafted.doc_mut(), NAME, Some(&w.problem));
    let refused = check(w.server.doc(), &new_changes(&mut crafted, &w.server), as_(Write::Cadre));
    assert!(refused.as_ref().is_err_and(|e| e.starts_with(super::NOT_THE_SENDER) && e.contains("log")), "{refused:?}");
}

/// A change whose note names one record but that writes another is refused: phones re-read
/// only the records notes name.
#[test]
fn a_change_writes_only_the_record_its_note_names() {
    let mut w = world();
    let mut l = phone(&mut w);
    let visit = obj_at(&l, &["visits", w.visit.as_str()]);
    l.doc_mut().put(&visit, "whom", "别人").unwrap();
    commit_as(l.doc_mut(), NAME, Some(&w.problem));
    let refused = check(w.server.doc(), &new_changes(&mut l, &w.server), as_(Write::Cadre));
    assert!(refused.as_ref().is_err_and(|e| e.starts_with(super::NOTE_NOT_THE_RECORD)), "{refused:?}");
}

fn obj_at(l: &UnitLedger, path: &[&str]) -> automerge::ObjId {
    let mut obj = ROOT;
    for key in path {
        obj = l.doc().get(&obj, *key).unwrap().unwrap().1;
    }
    obj
}

/// Commits with a note signed `by`, naming `record` (a problem) or none.
fn commit_as(d: &mut AutoCommit, by: &str, record: Option<&RecordId>) {
    let note = crate::record::ChangeNote { summary: "crafted".into(), record: record.map(|r| (Section::Problems, r.clone())), by: by.into() };
    d.commit_with(CommitOptions::default().with_message(note.encode()));
}

// ---- The table, and changes generated against it ----

/// What the ledger's documentation says a place holds.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Holds {
    Str,
    Text,
    /// A code: one valid sample; `optional` codes may be "".
    Code(&'static str, bool),
    Date,
    Flag,
    Link,
    Time,
}

/// Who may write a field of an existing record.
#[derive(Debug, Clone, Copy, PartialEq)]
enum May {
    Unit,
    Secretary,
    /// Only with the record.
    Nobody,
}

/// Every field of every record, from the schema comments of `unit_ledger/*.rs` (the status,
/// which moves by its machine, has tests of its own).
const TABLE: &[(&str, &str, Holds, May)] = &[
    ("visits", "date", Holds::Date, May::Unit),
    ("visits", "kind", Holds::Code("home", false), May::Unit),
    ("visits", "whom", Holds::Str, May::Unit),
    ("visits", "place", Holds::Str, May::Unit),
    ("visits", "heard", Holds::Text, May::Unit),
    ("visits", "opinions", Holds::Text, May::Unit),
    ("visits", "follow_up_needed", Holds::Flag, May::Unit),
    ("visits", "follow_up", Holds::Text, May::Unit),
    ("visits", "enterprise", Holds::Link, May::Unit),
    ("visits", "created_at", Holds::Time, May::Nobody),
    ("visits", "updated_at", Holds::Time, May::Unit),
    ("visits", "deleted", Holds::Flag, May::Unit),
    ("problems", "title", Holds::Str, May::Unit),
    ("problems", "description", Holds::Text, May::Unit),
    ("problems", "category", Holds::Code("housing", false), May::Unit),
    ("problems", "raised_by", Holds::Code("enterprise", false), May::Unit),
    ("problems", "urgency", Holds::Code("urgent", false), May::Unit),
    ("problems", "responsible", Holds::Str, May::Secretary),
    ("problems", "contact", Holds::Str, May::Unit),
    ("problems", "deadline", Holds::Date, May::Unit),
    ("problems", "visit", Holds::Link, May::Unit),
    ("problems", "enterprise", Holds::Link, May::Unit),
    ("problems", "difficulty", Holds::Code("finance", true), May::Unit),
    ("problems", "result", Holds::Text, May::Unit),
    ("problems", "reject_reason", Holds::Text, May::Unit),
    ("problems", "satisfaction", Holds::Code("satisfied", true), May::Unit),
    ("problems", "satisfaction_comment", Holds::Text, May::Unit),
    ("problems", "updated_at", Holds::Time, May::Unit),
    ("enterprises", "name", Holds::Str, May::Unit),
    ("enterprises", "credit_code", Holds::Str, May::Unit),
    ("enterprises", "phone", Holds::Str, May::Unit),
    ("enterprises", "deleted", Holds::Flag, May::Unit),
    ("pledges", "content", Holds::Text, May::Unit),
    ("pledges", "by", Holds::Str, May::Unit),
    ("pledges", "team", Holds::Flag, May::Unit),
    ("pledges", "due", Holds::Date, May::Unit),
    ("pledges", "public", Holds::Flag, May::Unit),
    ("pledges", "fulfilled", Holds::Flag, May::Unit),
    ("pledges", "fulfilled_at", Holds::Time, May::Unit),
    ("surveys", "title", Holds::Str, May::Unit),
    ("surveys", "opened_on", Holds::Date, May::Unit),
    ("surveys", "closed", Holds::Flag, May::Unit),
    ("surveys", "created_at", Holds::Time, May::Nobody),
];

/// A value a crafted op writes.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Value {
    Word,
    Empty,
    Day,
    Id,
    Sample,
    Bool,
    Int,
    Time,
    Counter,
    MakeText,
    MakeMap,
    MakeList,
    Delete,
}

const VALUES: [Value; 13] = [
    Value::Word,
    Value::Empty,
    Value::Day,
    Value::Id,
    Value::Sample,
    Value::Bool,
    Value::Int,
    Value::Time,
    Value::Counter,
    Value::MakeText,
    Value::MakeMap,
    Value::MakeList,
    Value::Delete,
];

/// The table's verdict on writing `value` into a field that `holds`, as `role`.
fn expected(holds: Holds, may: May, value: Value, role: Write) -> bool {
    let role_may = match may {
        May::Unit => matches!(role, Write::Cadre | Write::Everything),
        May::Secretary => role == Write::Everything,
        May::Nobody => false,
    };
    let fits = match holds {
        Holds::Str => matches!(value, Value::Word | Value::Empty | Value::Day | Value::Id | Value::Sample),
        Holds::Text => value == Value::MakeText,
        Holds::Code(_, optional) => value == Value::Sample || optional && value == Value::Empty,
        // A field that has no code list is given a day as its sample.
        Holds::Date => matches!(value, Value::Empty | Value::Day | Value::Sample),
        Holds::Link => matches!(value, Value::Empty | Value::Id),
        Holds::Flag => value == Value::Bool,
        Holds::Time => value == Value::Time,
    };
    role_may && fits
}

fn write_value(d: &mut AutoCommit, obj: &automerge::ObjId, key: &str, value: Value, sample: &str) {
    match value {
        Value::Word => d.put(obj, key, "随便写").map(|_| ()),
        Value::Empty => d.put(obj, key, "").map(|_| ()),
        Value::Day => d.put(obj, key, "2026-12-01").map(|_| ()),
        Value::Id => d.put(obj, key, RecordId::random().as_str()).map(|_| ()),
        Value::Sample => d.put(obj, key, sample).map(|_| ()),
        Value::Bool => d.put(obj, key, true).map(|_| ()),
        Value::Int => d.put(obj, key, 7i64).map(|_| ()),
        Value::Time => d.put(obj, key, ScalarValue::Timestamp(9_000)).map(|_| ()),
        Value::Counter => d.put(obj, key, ScalarValue::counter(1)).map(|_| ()),
        Value::MakeText => d.put_object(obj, key, ObjType::Text).and_then(|t| d.splice_text(&t, 0, 0, "已办结")),
        Value::MakeMap => d.put_object(obj, key, ObjType::Map).and_then(|m| d.put(&m, "x", "y")),
        Value::MakeList => d.put_object(obj, key, ObjType::List).map(|_| ()),
        Value::Delete => d.delete(obj, key),
    }
    .unwrap();
}

fn record_of(w: &World, section: &str) -> RecordId {
    match section {
        "visits" => w.visit.clone(),
        "problems" => w.problem.clone(),
        "enterprises" => w.enterprise.clone(),
        "pledges" => w.pledge.clone(),
        _ => w.survey.clone(),
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// One crafted write into an existing record's field, as any role, signed right: the
    /// verdict is the table's, and a refusal says why.
    #[test]
    fn a_crafted_field_write_gets_the_tables_verdict(place in 0..TABLE.len(), value in 0..VALUES.len(), role in 0..ROLES.len()) {
        let (section, key, holds, may) = TABLE[place];
        let (value, role) = (VALUES[value], ROLES[role]);
        let mut w = world();
        let mut l = phone(&mut w);
        let record = record_of(&w, section);
        let obj = obj_at(&l, &[section, record.as_str()]);
        let sample = if let Holds::Code(s, _) = holds { s } else { "2026-12-01" };
        write_value(l.doc_mut(), &obj, key, value, sample);
        let note = crate::record::ChangeNote { summary: "crafted".into(), record: Some((Section::from_key(section).unwrap(), record.clone())), by: NAME.into() };
        l.doc_mut().commit_with(CommitOptions::default().with_message(note.encode()));
        let changes = new_changes(&mut l, &w.server);
        // Writing the value a field already holds makes no op (Automerge skips it).
        prop_assume!(changes.iter().any(|c| c.len() > 0));
        let verdict = check(w.server.doc(), &changes, as_(role));
        prop_assert_eq!(verdict.is_ok(), expected(holds, may, value, role), "{}/{} ← {:?} as {:?}: {:?}", section, key, value, role, verdict);
        if let Err(why) = verdict {
            prop_assert!(!why.is_empty());
        }
    }

    /// The same field written in the change that makes its record: the unit writes any field
    /// of the right kind (created_at and who is responsible too); supervisors make no record.
    #[test]
    fn a_crafted_new_record_gets_the_tables_verdict(place in 0..TABLE.len(), value in 0..VALUES.len(), role in 0..ROLES.len()) {
        let (section, key, holds, _) = TABLE[place];
        let (value, role) = (VALUES[value], ROLES[role]);
        prop_assume!(value != Value::Delete);
        let mut w = world();
        let mut l = phone(&mut w);
        let map = obj_at(&l, &[section]);
        let id = RecordId::random();
        let obj = l.doc_mut().put_object(&map, id.as_str(), ObjType::Map).unwrap();
        let sample = if let Holds::Code(s, _) = holds { s } else { "2026-12-01" };
        write_value(l.doc_mut(), &obj, key, value, sample);
        let note = crate::record::ChangeNote { summary: "crafted".into(), record: Some((Section::from_key(section).unwrap(), id)), by: NAME.into() };
        l.doc_mut().commit_with(CommitOptions::default().with_message(note.encode()));
        let verdict = check(w.server.doc(), &new_changes(&mut l, &w.server), as_(role));
        prop_assert_eq!(verdict.is_ok(), expected(holds, May::Unit, value, role), "new {}/{} ← {:?} as {:?}: {:?}", section, key, value, role, verdict);
    }

    /// Entries: made over nothing in a map of the record, each field of its kind, signed by the
    /// sender; a supervisor adds only remarks and evaluations, a cadre no remarks.
    #[test]
    fn a_crafted_entry_gets_the_tables_verdict(map in 0..5usize, field in 0..4usize, value in 0..4usize, role in 0..ROLES.len(), over_existing in any::<bool>()) {
        // (section, map, who adds: 'u'nit, 's'upervision, 'e'veryone, fields (key, valid value, wrong value))
        const MAPS: [(&str, &str, char, [(&str, &str); 3]); 5] = [
            ("problems", "log", 'u', [("kind", "progress"), ("from", "pending"), ("text", "")]),
            ("problems", "supervision", 's', [("kind", "supervision"), ("text", "请办结"), ("at", "")]),
            ("pledges", "progress", 'u', [("kind", "progress"), ("text", "接访"), ("at", "")]),
            ("pledges", "evaluations", 'e', [("evaluator", "resident"), ("rating", "dissatisfied"), ("comment", "")]),
            ("surveys", "responses", 'u', [("comment", "好"), ("comment", ""), ("at", "")]),
        ];
        let (section, map_key, adders, fields) = MAPS[map];
        let role = ROLES[role];
        let mut w = world();
        let mut l = phone(&mut w);
        let record = record_of(&w, section);
        let map_obj = obj_at(&l, &[section, record.as_str(), map_key]);
        let key = if over_existing {
            // An entry already there (the raise of the problem; else one the server adds now).
            match l.doc().keys(&map_obj).next() {
                Some(k) => k,
                None => { let k = RecordId::random(); l.doc_mut().put_object(&map_obj, k.as_str(), ObjType::Map).unwrap(); l.doc_mut().commit(); w.server = UnitLedger::load(&l.save(), ActorId::random()).unwrap(); k.as_str().to_owned() }
            }
        } else {
            RecordId::random().as_str().to_owned()
        };
        let entry = l.doc_mut().put_object(&map_obj, key.as_str(), ObjType::Map).unwrap();
        // value: 0 the right field with its valid value, 1 a forged `by`, 2 a field the entry has
        // not, 3 a number where its kind is a string.
        let (fkey, fvalue) = fields[field % 3];
        match value {
            0 => { l.doc_mut().put(&entry, fkey, fvalue).unwrap(); }
            1 => { l.doc_mut().put(&entry, "by", "书记").unwrap(); }
            2 => { l.doc_mut().put(&entry, "bogus", "x").unwrap(); }
            _ => { l.doc_mut().put(&entry, fkey, 5i64).unwrap(); }
        }
        let note = crate::record::ChangeNote { summary: "crafted".into(), record: Some((Section::from_key(section).unwrap(), record)), by: NAME.into() };
        l.doc_mut().commit_with(CommitOptions::default().with_message(note.encode()));
        let verdict = check(w.server.doc(), &new_changes(&mut l, &w.server), as_(role));
        let role_adds = match adders {
            'u' => matches!(role, Write::Cadre | Write::Everything),
            's' => matches!(role, Write::SupervisionOnly | Write::Everything),
            _ => true,
        };
        // Every sample value is valid but an `at` that is a string.
        let valid_value = value == 0 && fkey != "at";
        let expected = role_adds && !over_existing && valid_value;
        prop_assert_eq!(verdict.is_ok(), expected, "{}/{} entry, field {} value {} as {:?}, over existing {}: {:?}", section, map_key, fkey, value, role, over_existing, verdict);
    }
}
