//! Merge scenarios for problems, pledges, enterprises and surveys on two and three forked
//! documents: what two people do offline must all survive, and a field both set differently
//! must show as a conflict until someone chooses.

use automerge::{
    transaction::{CommitOptions, Transactable},
    ActorId, AutoCommit, ObjType, ROOT,
};
use chrono::NaiveDate;

use super::*;
use crate::codes::Satisfaction;
use crate::enterprise::EnterpriseDraft;
use crate::pledge::{Aim, Evaluator, PledgeDraft};
use crate::problem::{Action, Category, Difficulty, ProblemDraft, Status};
use crate::survey::{survey_results, SurveyDraft};
use crate::visit::VisitDraft;

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 27).unwrap()
}

fn device(name: &str) -> UnitLedger {
    let mut l = UnitLedger::create(ActorId::random());
    l.set_author(name);
    l
}

fn fork(l: &mut UnitLedger, name: &str) -> UnitLedger {
    let mut f = l.fork(ActorId::random());
    f.set_author(name);
    f
}

fn sync(a: &mut UnitLedger, b: &mut UnitLedger) {
    a.merge(b).unwrap();
    b.merge(a).unwrap();
    assert_eq!(a.heads(), b.heads());
}

fn problem_draft(title: &str) -> ProblemDraft {
    ProblemDraft { title: title.into(), description: "村口两盏路灯不亮".into(), deadline: "2026-12-10".into(), ..Default::default() }
}

fn raise(l: &mut UnitLedger, title: &str) -> RecordId {
    l.add_problem(&problem_draft(title).validate().unwrap(), 1_000).unwrap()
}

#[test]
fn different_fields_of_one_problem_both_keep_their_change() {
    let mut a = device("张三");
    let id = raise(&mut a, "路灯不亮");
    let mut b = fork(&mut a, "李四");
    let mut edit_a = a.problem(&id).unwrap().to_draft();
    edit_a.responsible = "王电工".into();
    a.update_problem(&id, &edit_a.validate().unwrap(), 2_000).unwrap();
    let mut edit_b = b.problem(&id).unwrap().to_draft();
    edit_b.deadline = "2026-12-01".into();
    edit_b.description = "村口两盏路灯不亮，已持续一周".into();
    b.update_problem(&id, &edit_b.validate().unwrap(), 2_000).unwrap();
    sync(&mut a, &mut b);
    for l in [&a, &b] {
        let p = l.problem(&id).unwrap();
        assert_eq!(p.responsible, "王电工");
        assert_eq!(p.deadline, NaiveDate::from_ymd_opt(2026, 12, 1));
        assert_eq!(p.description, "村口两盏路灯不亮，已持续一周");
        assert!(p.conflicts.is_empty(), "{:?}", p.conflicts);
    }
}

#[test]
fn the_same_field_set_differently_is_a_conflict_until_someone_chooses() {
    let mut a = device("张三");
    let id = raise(&mut a, "路灯不亮");
    let mut b = fork(&mut a, "李四");
    for (l, who) in [(&mut a, "王电工"), (&mut b, "赵主任")] {
        let mut d = l.problem(&id).unwrap().to_draft();
        d.responsible = who.into();
        l.update_problem(&id, &d.validate().unwrap(), 2_000).unwrap();
    }
    sync(&mut a, &mut b);
    let conflict = a.problem(&id).unwrap().conflict("responsible").cloned().expect("conflict shown");
    let mut values = conflict.values.clone();
    values.sort();
    assert_eq!(values, vec!["王电工", "赵主任"]);
    assert_eq!(b.problem(&id).unwrap().conflict("responsible").map(|c| c.values.len()), Some(2));

    // Choosing a value that is not in conflict is refused and changes nothing.
    let heads = b.heads();
    assert!(b.resolve_conflict(Section::Problems, &id, "responsible", "钱五", 3_000).is_err());
    assert_eq!(b.heads(), heads);

    b.resolve_conflict(Section::Problems, &id, "responsible", "赵主任", 3_000).unwrap();
    sync(&mut a, &mut b);
    for l in [&a, &b] {
        let p = l.problem(&id).unwrap();
        assert_eq!(p.responsible, "赵主任");
        assert!(p.conflicts.is_empty());
    }
}

#[test]
fn a_status_conflict_blocks_the_next_step_until_chosen() {
    let mut a = device("张三");
    let id = raise(&mut a, "路灯不亮");
    let mut b = fork(&mut a, "李四");
    a.change_problem_status(&id, &Action::Resolve { result: "已修好".into() }, 2_000).unwrap();
    b.change_problem_status(&id, &Action::Reject { reason: "属供电公司职责".into() }, 2_000).unwrap();
    sync(&mut a, &mut b);
    let p = a.problem(&id).unwrap();
    let mut statuses = p.conflict("status").unwrap().values.clone();
    statuses.sort();
    assert_eq!(statuses, vec!["rejected", "resolved"]);
    let mut who = a.conflict_authors(Section::Problems, &id, "status");
    who.sort();
    assert_eq!(who, vec![("rejected".to_owned(), "李四".to_owned()), ("resolved".to_owned(), "张三".to_owned())]);
    // Both steps are in the log, whichever status wins.
    assert_eq!(p.log.iter().filter(|e| e.kind == "status").count(), 2);
    let heads = a.heads();
    let err = a.change_problem_status(&id, &Action::FollowUp { satisfaction: Satisfaction::Satisfied, comment: String::new() }, 3_000).unwrap_err();
    assert!(err.to_string().contains("请先选定"), "{err}");
    assert_eq!(a.heads(), heads, "a refused step writes nothing");
    a.resolve_conflict(Section::Problems, &id, "status", "resolved", 3_000).unwrap();
    a.change_problem_status(&id, &Action::FollowUp { satisfaction: Satisfaction::Satisfied, comment: String::new() }, 4_000).unwrap();
    sync(&mut a, &mut b);
    assert_eq!(b.problem(&id).unwrap().status, Status::FollowedUp);
}

#[test]
fn progress_from_two_phones_interleaves_by_time() {
    let mut a = device("张三");
    let id = raise(&mut a, "路灯不亮");
    let mut b = fork(&mut a, "李四");
    a.add_problem_progress(&id, "A1 联系电工", 10_000).unwrap();
    b.add_problem_progress(&id, "B1 上报供电所", 11_000).unwrap();
    a.add_problem_progress(&id, "A2 电工到场", 12_000).unwrap();
    b.add_problem_progress(&id, "B2 换灯泡", 13_000).unwrap();
    sync(&mut a, &mut b);
    for l in [&a, &b] {
        let texts: Vec<String> = l.problem(&id).unwrap().log.iter().filter(|e| e.kind == "progress").map(|e| e.text.clone()).collect();
        assert_eq!(texts, ["A1 联系电工", "B1 上报供电所", "A2 电工到场", "B2 换灯泡"]);
    }
    let log = a.problem(&id).unwrap().log;
    assert_eq!(log.iter().find(|e| e.text.starts_with("B1")).unwrap().by, "李四");
}

#[test]
fn closing_on_one_phone_while_another_adds_progress_keeps_both() {
    let mut a = device("张三");
    let id = raise(&mut a, "路灯不亮");
    a.change_problem_status(&id, &Action::Start, 1_500).unwrap();
    let mut b = fork(&mut a, "李四");
    a.change_problem_status(&id, &Action::Resolve { result: "已更换灯泡".into() }, 2_000).unwrap();
    b.add_problem_progress(&id, "已向供电所报修", 2_100).unwrap();
    sync(&mut a, &mut b);
    let p = b.problem(&id).unwrap();
    assert_eq!(p.status, Status::Resolved);
    assert_eq!(p.result, "已更换灯泡");
    assert!(p.log.iter().any(|e| e.text == "已向供电所报修"));
    assert!(p.conflicts.is_empty());
}

#[test]
fn three_phones_converge_whatever_the_merge_order() {
    let mut a = device("张三");
    let id = raise(&mut a, "路灯不亮");
    let mut b = fork(&mut a, "李四");
    let mut c = fork(&mut a, "王五");
    a.change_problem_status(&id, &Action::Start, 2_000).unwrap();
    b.add_problem_progress(&id, "B 记录", 2_500).unwrap();
    let mut d = c.problem(&id).unwrap().to_draft();
    d.category = Category::Infrastructure;
    c.update_problem(&id, &d.validate().unwrap(), 3_000).unwrap();
    let mut ab = fork(&mut a, "x");
    ab.merge(&mut b).unwrap();
    ab.merge(&mut c).unwrap();
    let mut cb = fork(&mut c, "y");
    cb.merge(&mut b).unwrap();
    cb.merge(&mut a).unwrap();
    let (p1, p2) = (ab.problem(&id).unwrap(), cb.problem(&id).unwrap());
    assert_eq!(p1, p2);
    assert_eq!((p1.status, p1.category, p1.log.len()), (Status::InProgress, Category::Infrastructure, 3));
}

#[test]
fn dissatisfied_follow_up_reopens_and_is_kept_in_the_log() {
    let mut a = device("张三");
    let id = raise(&mut a, "路灯不亮");
    a.change_problem_status(&id, &Action::Resolve { result: "已修".into() }, 2_000).unwrap();
    let next = a.change_problem_status(&id, &Action::FollowUp { satisfaction: Satisfaction::Dissatisfied, comment: "晚上又灭了".into() }, 3_000).unwrap();
    assert_eq!(next, Status::InProgress);
    let p = a.problem(&id).unwrap();
    assert_eq!((p.satisfaction, p.satisfaction_comment.as_str()), (Some(Satisfaction::Dissatisfied), "晚上又灭了"));
    let steps: Vec<(&str, &str)> = p.log.iter().filter(|e| e.kind == "status").map(|e| (e.from.as_str(), e.to.as_str())).collect();
    assert_eq!(steps, [("pending", "resolved"), ("resolved", "in_progress")]);
}

#[test]
fn bad_steps_and_links_are_refused_and_change_nothing() {
    let mut a = device("张三");
    let id = raise(&mut a, "路灯不亮");
    let heads = a.heads();
    assert!(a.change_problem_status(&id, &Action::FollowUp { satisfaction: Satisfaction::Satisfied, comment: String::new() }, 2_000).is_err());
    assert!(a.change_problem_status(&id, &Action::Resolve { result: " ".into() }, 2_000).is_err());
    assert!(a.add_problem_progress(&id, "   ", 2_000).is_err());
    assert!(matches!(a.change_problem_status(&RecordId::random(), &Action::Start, 2_000), Err(LedgerError::NotFound)));
    let mut linked = problem_draft("x");
    linked.visit_id = Some(RecordId::random());
    assert!(a.add_problem(&linked.validate().unwrap(), 2_000).is_err());
    assert!(a.add_survey_response(&RecordId::random(), &[], "", 2_000).is_err());
    assert_eq!(a.heads(), heads);
    assert_eq!(a.doc_mut().pending_ops(), 0);
    assert_eq!(a.problems().records.len(), 1);
}

#[test]
fn a_problem_raised_at_a_visit_links_both_ways_and_history_names_who() {
    let mut a = device("张三");
    let visit = VisitDraft { whom: "张大爷家".into(), heard: "路灯坏了".into(), ..VisitDraft::new(today()) };
    let visit_id = a.add_visit(&visit.validate(today()).unwrap(), 500).unwrap();
    let mut d = problem_draft("路灯不亮");
    d.visit_id = Some(visit_id.clone());
    let id = a.add_problem(&d.validate().unwrap(), 1_000_000).unwrap();
    let mut b = fork(&mut a, "李四");
    b.change_problem_status(&id, &Action::Start, 2_000_000).unwrap();
    sync(&mut a, &mut b);
    let from_visit: Vec<RecordId> = a.problems().records.into_iter().filter(|p| p.visit_id.as_ref() == Some(&visit_id)).map(|p| p.id).collect();
    assert_eq!(from_visit, [id.clone()]);
    let history = a.history(&id);
    let lines: Vec<(String, String, i64)> = history.iter().map(|h| (h.by.clone(), h.summary.clone(), h.at_seconds)).collect();
    assert_eq!(lines, [("张三".to_owned(), "提出问题：路灯不亮".to_owned(), 1_000), ("李四".to_owned(), "开始办理：待办 → 办理中".to_owned(), 2_000),]);
    assert_ne!(history[0].device, history[1].device);
    assert!(a.history(&visit_id).iter().all(|h| h.summary.starts_with("新增走访")));
}

#[test]
fn enterprises_check_codes_and_their_difficulties_are_problems() {
    let mut a = device("张三");
    let firm = EnterpriseDraft { name: "闽兴机械".into(), credit_code: "91350100M000100Y43".into(), ..Default::default() };
    let firm_id = a.add_enterprise(&firm.validate().unwrap(), 1_000).unwrap();
    let heads = a.heads();
    let err = a.add_enterprise(&firm.validate().unwrap(), 1_100).unwrap_err();
    assert!(err.to_string().contains("已登记"), "{err}");
    assert_eq!(a.heads(), heads);
    let mut d = ProblemDraft::for_enterprise(firm_id.clone());
    d.difficulty = Some(Difficulty::Labor);
    d.title = "缺熟练工三十人".into();
    let pid = a.add_problem(&d.validate().unwrap(), 2_000).unwrap();
    a.add_problem_progress(&pid, "对接人社局招聘会", 3_000).unwrap();
    let p = a.problem(&pid).unwrap();
    assert_eq!((p.enterprise_id.as_ref(), p.difficulty), (Some(&firm_id), Some(Difficulty::Labor)));
    // Two people correcting the contact differently offline see a conflict.
    let mut b = fork(&mut a, "李四");
    for (l, who) in [(&mut a, "陈经理"), (&mut b, "林主管")] {
        let mut e = l.enterprise(&firm_id).unwrap().to_draft();
        e.contact = who.into();
        l.update_enterprise(&firm_id, &e.validate().unwrap(), 4_000).unwrap();
    }
    sync(&mut a, &mut b);
    assert_eq!(a.enterprise(&firm_id).unwrap().conflicts.len(), 1);
}

#[test]
fn pledges_merge_aims_progress_and_evaluations() {
    let mut a = device("张三");
    let draft = PledgeDraft { content: "每周三接待群众".into(), by: "张三".into(), aims: vec![Aim::ServiceLead], due: "2026-12-31".into(), ..Default::default() };
    let id = a.add_pledge(&draft.validate().unwrap(), 1_000).unwrap();
    let mut b = fork(&mut a, "李四");
    let mut da = a.pledge(&id).unwrap().to_draft();
    da.aims.push(Aim::LivelihoodAhead);
    a.update_pledge(&id, &da.validate().unwrap(), 2_000).unwrap();
    let mut db = b.pledge(&id).unwrap().to_draft();
    db.aims.push(Aim::PoliticalLead);
    b.update_pledge(&id, &db.validate().unwrap(), 2_000).unwrap();
    a.add_pledge_progress(&id, "本周接待 5 人", 3_000).unwrap();
    b.add_evaluation(&id, Evaluator::Resident, Satisfaction::Satisfied, "", 3_500).unwrap();
    a.add_evaluation(&id, Evaluator::Supervisor, Satisfaction::Dissatisfied, "台账不全", 3_600).unwrap();
    b.set_pledge_fulfilled(&id, true, 4_000).unwrap();
    assert!(a.add_evaluation(&id, Evaluator::Resident, Satisfaction::Dissatisfied, "", 4_100).is_err());
    sync(&mut a, &mut b);
    let p = a.pledge(&id).unwrap();
    assert_eq!(p.aims, [Aim::PoliticalLead, Aim::ServiceLead, Aim::LivelihoodAhead]);
    assert_eq!(p.progress.len(), 1);
    assert_eq!(p.rating(), (1, 2));
    assert!(p.fulfilled);
    assert_eq!(p.evaluations[1].comment, "台账不全");
}

#[test]
fn survey_answers_recorded_on_two_phones_add_up() {
    let mut a = device("张三");
    let draft = SurveyDraft { title: "四季度测评".into(), questions: "办事效率\n服务态度".into() };
    let id = a.add_survey(&draft.validate(today()).unwrap(), 1_000).unwrap();
    let mut b = fork(&mut a, "李四");
    let questions: Vec<RecordId> = a.survey(&id).unwrap().questions.into_iter().map(|q| q.id).collect();
    assert_eq!(a.survey(&id).unwrap().questions[0].text, "办事效率");
    a.add_survey_response(&id, &[(questions[0].clone(), Satisfaction::Satisfied), (questions[1].clone(), Satisfaction::Basic)], "", 2_000).unwrap();
    b.add_survey_response(&id, &[(questions[0].clone(), Satisfaction::Dissatisfied)], "窗口人少", 2_000).unwrap();
    // Closed on one phone while the other is still recording: the answer recorded offline stays.
    a.set_survey_closed(&id, true, 3_000).unwrap();
    b.add_survey_response(&id, &[(questions[1].clone(), Satisfaction::Satisfied)], "", 3_100).unwrap();
    sync(&mut a, &mut b);
    let s = a.survey(&id).unwrap();
    assert!(s.closed);
    let r = survey_results(&s);
    assert_eq!(r.responses, 3);
    assert_eq!(r.per_question[0].counts, [1, 0, 1]);
    assert_eq!(r.per_question[1].counts, [1, 1, 0]);
    // Once closed, this device refuses new answers.
    assert!(a.add_survey_response(&id, &[(questions[0].clone(), Satisfaction::Satisfied)], "", 4_000).is_err());
}

/// The version 1 skeleton exactly as the first release wrote it.
fn v1_ledger() -> UnitLedger {
    let mut doc = AutoCommit::new().with_actor(ActorId::from([0u8; 16]));
    doc.put(ROOT, "schema", 1u64).unwrap();
    doc.put_object(ROOT, "visits", ObjType::Map).unwrap();
    doc.commit_with(CommitOptions::default().with_time(0).with_message("台账初始化"));
    let bytes = doc.save();
    UnitLedger::load(&bytes, ActorId::random()).unwrap()
}

#[test]
fn version_1_ledgers_upgraded_on_two_phones_merge_without_conflict() {
    let mut a = v1_ledger();
    let visit = VisitDraft { whom: "张家".into(), heard: "内容".into(), ..VisitDraft::new(today()) }.validate(today()).unwrap();
    a.add_visit(&visit, 1).unwrap();
    let mut b = a.fork(ActorId::random());
    b.add_visit(&visit, 2).unwrap();
    assert!(a.problems().problems.iter().any(|p| p.field == "problems"));
    assert!(a.upgrade().unwrap());
    assert!(!a.upgrade().unwrap(), "upgrading twice is a no-op");
    assert!(b.upgrade().unwrap());
    let pa = raise(&mut a, "A 的问题");
    let pb = raise(&mut b, "B 的问题");
    sync(&mut a, &mut b);
    let ids: Vec<RecordId> = a.problems().records.into_iter().map(|p| p.id).collect();
    assert!(ids.contains(&pa) && ids.contains(&pb), "{ids:?}");
    assert_eq!(a.visits().visits.len(), 2);
    // A freshly created ledger has the same skeleton: it merges with the upgraded ones too.
    let mut c = UnitLedger::create(ActorId::random());
    c.merge(&mut a).unwrap();
    assert_eq!(c.problems().records.len(), 2);
    let conflicted = c.doc().get_all(ROOT, "problems").unwrap().len();
    assert_eq!(conflicted, 1);
}

#[test]
fn a_chunk_that_needs_the_upgrade_loads_once_the_upgrade_is_in() {
    // Device B upgraded and raised a problem; device A (still version 1 in storage) receives
    // B's changes as a chunk before it has upgraded itself.
    let mut a = v1_ledger();
    let base = a.heads();
    let mut b = a.fork(ActorId::random());
    b.upgrade().unwrap();
    let pid = raise(&mut b, "B 的问题");
    let chunk = b.save_after(&base);
    a.load_incremental(&chunk).unwrap();
    a.upgrade().unwrap();
    assert_eq!(a.problem(&pid).unwrap().title, "B 的问题");
    let saved = a.save();
    let reopened = UnitLedger::load(&saved, ActorId::random()).unwrap();
    assert_eq!(reopened.problem(&pid).unwrap().title, "B 的问题");
}

#[test]
fn a_visit_field_set_differently_on_two_phones_is_a_conflict_too() {
    let mut a = device("张三");
    let draft = VisitDraft { whom: "张家".into(), heard: "内容".into(), ..VisitDraft::new(today()) };
    let id = a.add_visit(&draft.validate(today()).unwrap(), 1).unwrap();
    let mut b = fork(&mut a, "李四");
    for (l, place) in [(&mut a, "东村一组"), (&mut b, "东村二组")] {
        let mut d = l.visit(&id).unwrap().to_draft();
        d.place = place.into();
        d.heard = format!("{}，补充{place}", d.heard);
        l.update_visit(&id, &d.validate(today()).unwrap(), 2).unwrap();
    }
    sync(&mut a, &mut b);
    let v = a.visit(&id).unwrap();
    assert_eq!(v.conflicts.len(), 1, "{:?}", v.conflicts);
    assert_eq!(v.conflicts[0].field, "place");
    // Free text is not a conflict: both additions are merged.
    assert!(v.heard.contains("补充东村一组") && v.heard.contains("补充东村二组"), "{}", v.heard);
    a.resolve_conflict(Section::Visits, &id, "place", "东村二组", 3).unwrap();
    assert!(a.visit(&id).unwrap().conflicts.is_empty());
    assert_eq!(a.visit(&id).unwrap().place, "东村二组");
}

#[test]
fn changed_records_names_exactly_what_a_merge_touched() {
    let mut a = device("张三");
    let p1 = raise(&mut a, "路灯不亮");
    let p2 = raise(&mut a, "排水沟堵塞");
    let mut b = fork(&mut a, "李四");
    let before = a.heads();
    b.add_problem_progress(&p1, "已报修", 2_000).unwrap();
    let firm = EnterpriseDraft { name: "闽兴机械".into(), credit_code: "91350100M000100Y43".into(), ..Default::default() };
    let firm_id = b.add_enterprise(&firm.validate().unwrap(), 2_100).unwrap();
    a.merge(&mut b).unwrap();
    let after = a.heads();
    let mut changed = a.changed_records(&before).unwrap();
    changed.sort_by_key(|(s, _)| s.key());
    assert_eq!(changed, [(Section::Enterprises, firm_id), (Section::Problems, p1)]);
    assert!(!changed.iter().any(|(_, id)| *id == p2));
    assert_eq!(a.changed_records(&after), Some(vec![]));
    // A change that names no record (the schema upgrade, a foreign peer) asks for a full re-read.
    let mut old = v1_ledger();
    let before = old.heads();
    old.upgrade().unwrap();
    assert_eq!(old.changed_records(&before), None);
    let mut foreign = device("x");
    let before = foreign.heads();
    foreign.doc_mut().put(ROOT, "note", "hi").unwrap();
    foreign.doc_mut().commit();
    assert_eq!(foreign.changed_records(&before), None);
}
