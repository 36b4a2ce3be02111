use automerge::transaction::{CommitOptions, Transactable};
use automerge::{ActorId, Change, ObjType, ROOT};

use super::*;
use crate::pledge::Evaluator;
use crate::{ProblemDraft, Satisfaction, UnitLedger};

/// The person every test ledger writes as, and the server checks them as.
const NAME: &str = "王芳";

fn check(doc: &AutoCommit, changes: &[Change], write: Write) -> Result<(), String> {
    super::check(doc, changes, Sender { write, name: NAME })
}

/// A copy of a saved ledger, writing as [`NAME`] from a new device.
fn load(bytes: &[u8]) -> UnitLedger {
    let mut l = UnitLedger::load(bytes, ActorId::random()).unwrap();
    l.set_author(NAME);
    l
}

/// Commits a crafted change with a note signed as [`NAME`], as a forger who knows the rules would.
fn commit_signed(d: &mut AutoCommit) {
    d.commit_with(CommitOptions::default().with_message(format!("crafted\nby={NAME}")));
}

/// A ledger with one problem and one pledge, and a supervisor's copy of it.
fn ledgers() -> (UnitLedger, UnitLedger, crate::RecordId, crate::RecordId) {
    let mut unit = UnitLedger::create(ActorId::random());
    unit.set_author(NAME);
    let draft = ProblemDraft { title: "路灯坏了".into(), ..ProblemDraft::default() };
    let problem = unit.add_problem(&draft.validate().unwrap(), 1_000).unwrap();
    let pledge = unit
        .add_pledge(
            &crate::PledgeDraft { content: "每周接访".into(), team: true, aims: vec![crate::pledge::Aim::ServiceLead], due: "2026-12-31".into(), ..Default::default() }
                .validate()
                .unwrap(),
            1_000,
        )
        .unwrap();
    let supervisor = load(&unit.save());
    (unit, supervisor, problem, pledge)
}

fn new_changes(from: &mut UnitLedger, to: &UnitLedger) -> Vec<Change> {
    let heads = to.doc().clone().get_heads();
    from.doc_mut().get_changes(&heads)
}

#[test]
fn remarks_and_evaluations_pass_anything_else_is_refused() {
    let (unit, mut sup, problem, pledge) = ledgers();
    sup.add_supervision_remark(&problem, "请本周内办结", 2_000).unwrap();
    sup.add_evaluation(&pledge, Evaluator::Resident, Satisfaction::Satisfied, "", 2_000).unwrap();
    let changes = new_changes(&mut sup, &unit);
    assert_eq!(changes.len(), 2);
    assert_eq!(check(unit.doc(), &changes, Write::SupervisionOnly), Ok(()));

    for (what, edit) in [
        (
            "status",
            Box::new(|l: &mut UnitLedger, p: &crate::RecordId| l.change_problem_status(p, &crate::problem::Action::Start, 3_000).map(|_| ()))
                as Box<dyn Fn(&mut UnitLedger, &crate::RecordId) -> Result<(), crate::LedgerError>>,
        ),
        ("progress", Box::new(|l: &mut UnitLedger, p: &crate::RecordId| l.add_problem_progress(p, "进展", 3_000))),
        ("delete", Box::new(|l: &mut UnitLedger, p: &crate::RecordId| l.set_deleted(crate::Section::Problems, p, true, 3_000))),
    ] {
        let (unit, mut sup, problem, _) = ledgers();
        edit(&mut sup, &problem).unwrap();
        let changes = new_changes(&mut sup, &unit);
        let refused = check(unit.doc(), &changes, Write::SupervisionOnly);
        assert!(refused.as_ref().is_err_and(|e| e.starts_with("督查只能写督办意见和评议")), "{what}: {refused:?}");
        assert_eq!(check(unit.doc(), &changes, Write::Everything), Ok(()));
        assert!(check(unit.doc(), &changes, Write::Nothing).is_err());
    }
}

#[test]
fn a_remark_smuggled_beside_a_forbidden_op_in_one_change_is_refused_whole() {
    let (unit, mut sup, problem, _) = ledgers();
    sup.add_supervision_remark(&problem, "督办", 2_000).unwrap();
    let doc = sup.doc_mut();
    doc.put(ROOT, "schema", 99u64).unwrap();
    commit_signed(doc);
    let changes = new_changes(&mut sup, &unit);
    assert!(check(unit.doc(), &changes, Write::SupervisionOnly).is_err());
}

#[test]
fn overwriting_or_deleting_the_remarks_map_or_a_remark_is_refused() {
    let (unit, mut sup, problem, _) = ledgers();
    sup.add_supervision_remark(&problem, "第一条", 2_000).unwrap();
    let mut unit = unit;
    let sup_changes = new_changes(&mut sup, &unit);
    unit.doc_mut().apply_changes(sup_changes).unwrap();

    let mut attack = load(&unit.save());
    let problems = attack.doc().get(ROOT, "problems").unwrap().unwrap().1;
    let record = attack.doc().get(&problems, problem.as_str()).unwrap().unwrap().1;
    let remarks = attack.doc().get(&record, "supervision").unwrap().unwrap().1;
    let remark = attack.doc().keys(&remarks).next().unwrap();
    attack.doc_mut().delete(&remarks, remark.as_str()).unwrap();
    commit_signed(attack.doc_mut());
    assert!(check(unit.doc(), &new_changes(&mut attack, &unit), Write::SupervisionOnly).is_err(), "a remark removed");

    let mut attack = load(&unit.save());
    attack.doc_mut().put_object(&record, "supervision", ObjType::Map).unwrap();
    attack.doc_mut().put(&record, "supervision", "gone").unwrap();
    commit_signed(attack.doc_mut());
    assert!(check(unit.doc(), &new_changes(&mut attack, &unit), Write::SupervisionOnly).is_err(), "the map overwritten by a value");
}

#[test]
fn changes_to_objects_the_document_lacks_are_refused() {
    let (unit, _, _, _) = ledgers();
    let mut other = UnitLedger::create(ActorId::random());
    other.set_author(NAME);
    let draft = ProblemDraft { title: "别处的问题".into(), ..ProblemDraft::default() };
    let elsewhere = other.add_problem(&draft.validate().unwrap(), 1_000).unwrap();
    let before = other.heads();
    other.add_supervision_remark(&elsewhere, "x", 2_000).unwrap();
    let changes: Vec<Change> = other.doc_mut().get_changes(&before);
    let refused = check(unit.doc(), &changes, Write::SupervisionOnly);
    assert!(refused.is_err_and(|e| e.contains("不存在的对象")));
}

#[test]
fn remarks_two_supervisors_make_on_an_older_problem_offline_both_survive() {
    let (mut unit, _, problem, _) = ledgers();
    // An older problem: no supervision map yet.
    let problems = unit.doc().get(ROOT, "problems").unwrap().unwrap().1;
    let record = unit.doc().get(&problems, problem.as_str()).unwrap().unwrap().1;
    unit.doc_mut().delete(&record, "supervision").unwrap();
    commit_signed(unit.doc_mut());
    let mut one = load(&unit.save());
    let mut two = load(&unit.save());
    one.add_supervision_remark(&problem, "一", 2_000).unwrap();
    two.add_supervision_remark(&problem, "二", 3_000).unwrap();
    for sup in [&mut one, &mut two] {
        let changes = new_changes(sup, &unit);
        assert_eq!(check(unit.doc(), &changes, Write::SupervisionOnly), Ok(()));
    }
    unit.merge(&mut one).unwrap();
    unit.merge(&mut two).unwrap();
    let texts: Vec<String> = unit.problem(&problem).unwrap().supervision.into_iter().map(|r| r.text).collect();
    assert_eq!(texts, ["一", "二"]);
}

/// The phone checks its own new changes against the document it has already applied them to
/// (it has no copy from before); the verdicts must be the server's.
#[test]
fn checked_against_the_document_after_the_changes_the_verdict_is_the_same() {
    let (unit, mut sup, problem, pledge) = ledgers();
    sup.add_supervision_remark(&problem, "请本周内办结", 2_000).unwrap();
    sup.add_evaluation(&pledge, Evaluator::Resident, Satisfaction::Satisfied, "", 2_000).unwrap();
    let changes = new_changes(&mut sup, &unit);
    assert_eq!(check(sup.doc(), &changes, Write::SupervisionOnly), Ok(()));
    let (unit, mut sup, problem, _) = ledgers();
    let today = chrono::NaiveDate::from_ymd_opt(2026, 11, 29).unwrap();
    let visit = crate::VisitDraft { whom: "王大爷".into(), heard: "路灯".into(), ..crate::VisitDraft::new(today) };
    sup.add_visit(&visit.validate(today).unwrap(), 3_000).unwrap();
    sup.add_problem_progress(&problem, "进展", 3_000).unwrap();
    let changes = new_changes(&mut sup, &unit);
    assert_eq!(check(sup.doc(), &changes, Write::SupervisionOnly).is_err(), check(unit.doc(), &changes, Write::SupervisionOnly).is_err());
    assert!(check(sup.doc(), &changes, Write::SupervisionOnly).is_err());
}

/// A cadre raises, edits, starts and follows up problems; assigning one already raised and
/// closing one (办结, 不予受理) are the secretary's.
#[test]
fn a_cadre_may_not_assign_a_raised_problem_or_close_one() {
    use crate::problem::Action;
    let fresh = || {
        let (unit, cadre, problem, _) = ledgers();
        (unit, cadre, problem)
    };
    // Raising a problem with someone responsible, starting it, editing its words: allowed.
    let (unit, mut cadre, problem) = fresh();
    let draft = ProblemDraft { title: "下水道堵了".into(), responsible: "张伟".into(), ..ProblemDraft::default() };
    cadre.add_problem(&draft.validate().unwrap(), 2_000).unwrap();
    cadre.change_problem_status(&problem, &Action::Start, 2_000).unwrap();
    cadre.add_problem_progress(&problem, "已联系", 2_000).unwrap();
    let changes = new_changes(&mut cadre, &unit);
    assert_eq!(check(unit.doc(), &changes, Write::Cadre), Ok(()));
    // Each of the secretary's steps is refused, alone or beside allowed work.
    for (what, expected) in [("resolve", SECRETARY_ONLY_CLOSE), ("reject", SECRETARY_ONLY_CLOSE), ("assign", SECRETARY_ONLY_ASSIGN)] {
        let (unit, mut cadre, problem) = fresh();
        cadre.add_problem_progress(&problem, "进展", 2_000).unwrap();
        match what {
            "resolve" => cadre.change_problem_status(&problem, &Action::Resolve { result: "修好了".into() }, 3_000).map(|_| ()).unwrap(),
            "reject" => cadre.change_problem_status(&problem, &Action::Reject { reason: "不归本村".into() }, 3_000).map(|_| ()).unwrap(),
            _ => {
                let obj = cadre.doc().get(ROOT, "problems").unwrap().unwrap().1;
                let record = cadre.doc().get(&obj, problem.as_str()).unwrap().unwrap().1;
                cadre.doc_mut().put(&record, "responsible", "刘洋").unwrap();
                commit_signed(cadre.doc_mut());
            }
        }
        let changes = new_changes(&mut cadre, &unit);
        assert_eq!(check(unit.doc(), &changes, Write::Cadre), Err(expected.to_owned()), "{what}");
        assert_eq!(check(cadre.doc(), &changes, Write::Cadre), Err(expected.to_owned()), "{what}, checked on the phone");
        assert_eq!(check(unit.doc(), &changes, Write::Everything), Ok(()), "{what}: a secretary may");
    }
}

/// The problem's record object in `l`.
fn problem_obj(l: &UnitLedger, problem: &crate::RecordId) -> automerge::ObjId {
    let problems = l.doc().get(ROOT, "problems").unwrap().unwrap().1;
    l.doc().get(&problems, problem.as_str()).unwrap().unwrap().1
}

#[test]
fn a_status_is_a_code_string_that_moves_only_along_the_machine() {
    use crate::problem::Action;
    // The app's own steps pass, for the secretary and (short of closing) for a cadre, and a
    // phone checking its own changes after making them reaches the same verdict.
    let (unit, mut secretary, problem, _) = ledgers();
    secretary.change_problem_status(&problem, &Action::Start, 2_000).unwrap();
    secretary.change_problem_status(&problem, &Action::Resolve { result: "修好了".into() }, 3_000).unwrap();
    secretary.change_problem_status(&problem, &Action::FollowUp { satisfaction: Satisfaction::Dissatisfied, comment: "还是不亮".into() }, 4_000).unwrap();
    secretary.change_problem_status(&problem, &Action::Reject { reason: "不归本村".into() }, 5_000).unwrap();
    secretary.change_problem_status(&problem, &Action::Reopen, 6_000).unwrap();
    let changes = new_changes(&mut secretary, &unit);
    assert_eq!(check(unit.doc(), &changes, Write::Everything), Ok(()));
    assert_eq!(check(secretary.doc(), &changes, Write::Everything), Ok(()), "checked after they were made");
    let draft = ProblemDraft { title: "新问题".into(), ..ProblemDraft::default() };
    let (unit, mut cadre, _, _) = ledgers();
    let raised = cadre.add_problem(&draft.validate().unwrap(), 2_000).unwrap();
    cadre.change_problem_status(&raised, &Action::Start, 2_500).unwrap();
    let changes = new_changes(&mut cadre, &unit);
    assert_eq!(check(unit.doc(), &changes, Write::Cadre), Ok(()));

    // Crafted: Text holding "resolved", a number, a code not on the list, a step the machine
    // has not (待办 → 已回访), a deleted status. Refused for every role that writes.
    for (what, craft) in [
        (
            "text",
            Box::new(|d: &mut AutoCommit, obj: &automerge::ObjId| {
                let text = d.put_object(obj, "status", ObjType::Text).unwrap();
                d.splice_text(&text, 0, 0, "resolved").unwrap();
            }) as Box<dyn Fn(&mut AutoCommit, &automerge::ObjId)>,
        ),
        ("number", Box::new(|d: &mut AutoCommit, obj: &automerge::ObjId| d.put(obj, "status", 3).unwrap())),
        ("unknown code", Box::new(|d: &mut AutoCommit, obj: &automerge::ObjId| d.put(obj, "status", "done").unwrap())),
        ("pending to followed_up", Box::new(|d: &mut AutoCommit, obj: &automerge::ObjId| d.put(obj, "status", "followed_up").unwrap())),
        ("deleted", Box::new(|d: &mut AutoCommit, obj: &automerge::ObjId| d.delete(obj, "status").unwrap())),
    ] {
        let (unit, mut attacker, problem, _) = ledgers();
        let obj = problem_obj(&attacker, &problem);
        craft(attacker.doc_mut(), &obj);
        commit_signed(attacker.doc_mut());
        let changes = new_changes(&mut attacker, &unit);
        for write in [Write::Everything, Write::Cadre] {
            let refused = check(unit.doc(), &changes, write);
            assert!(refused.as_ref().is_err_and(|e| e.starts_with("办理状态")), "{what} as {write:?}: {refused:?}");
        }
    }
    // A status put on an existing problem as if new (overwriting nothing) is refused too.
    let (unit, _, problem, _) = ledgers();
    let mut lone = AutoCommit::new().with_actor(ActorId::random());
    let problems = lone.put_object(ROOT, "problems", ObjType::Map).unwrap();
    let record = lone.put_object(&problems, problem.as_str(), ObjType::Map).unwrap();
    lone.put(&record, "status", "resolved").unwrap();
    commit_signed(&mut lone);
    let changes = lone.get_changes(&[]);
    assert!(check(unit.doc(), &changes, Write::Everything).is_err());
}

#[test]
fn a_step_taken_offline_is_judged_from_what_its_author_saw() {
    use crate::problem::Action;
    // The secretary resolves; a cadre offline starts the same problem from 待办. When the
    // cadre's change arrives, the server's document says 已办结, but the cadre overwrote 待办:
    // 待办 → 办理中 is a step of the machine, so it passes (and the two are a conflict a
    // person settles).
    let (mut server, mut cadre, problem, _) = ledgers();
    let before = cadre.save();
    let mut secretary = load(&server.save());
    secretary.change_problem_status(&problem, &Action::Resolve { result: "修好了".into() }, 2_000).unwrap();
    let resolved = new_changes(&mut secretary, &server);
    server.doc_mut().apply_changes(resolved).unwrap();
    cadre.change_problem_status(&problem, &Action::Start, 2_500).unwrap();
    let started = new_changes(&mut cadre, &server);
    let started: Vec<Change> = started.into_iter().filter(|c| c.actor_id() == cadre.doc().get_actor()).collect();
    assert_eq!(check(server.doc(), &started, Write::Cadre), Ok(()));
    // The cadre's 已回访 from the same 待办 is no step of the machine, whatever the server holds.
    let mut cadre2 = load(&before);
    let obj = problem_obj(&cadre2, &problem);
    cadre2.doc_mut().put(&obj, "status", "followed_up").unwrap();
    commit_signed(cadre2.doc_mut());
    let jumped: Vec<Change> = cadre2.doc_mut().get_changes(&[]).into_iter().filter(|c| c.actor_id() == cadre2.doc().get_actor()).collect();
    assert!(check(server.doc(), &jumped, Write::Cadre).is_err());
}

#[test]
fn settling_a_status_conflict_picks_a_side_and_is_no_step() {
    use crate::problem::Action;
    // Two follow-ups offline on one resolved problem: satisfied (已回访) on one phone,
    // dissatisfied (back to 办理中) on the other. Settling on either side passes, though
    // 办理中 → 已回访 is no step of the machine.
    let (mut server, mut first, problem, _) = ledgers();
    first.change_problem_status(&problem, &Action::Start, 2_000).unwrap();
    first.change_problem_status(&problem, &Action::Resolve { result: "修好了".into() }, 2_100).unwrap();
    let resolved = new_changes(&mut first, &server);
    server.doc_mut().apply_changes(resolved).unwrap();
    let mut second = load(&server.save());
    let mut first = load(&server.save());
    first.change_problem_status(&problem, &Action::FollowUp { satisfaction: Satisfaction::Satisfied, comment: String::new() }, 3_000).unwrap();
    second.change_problem_status(&problem, &Action::FollowUp { satisfaction: Satisfaction::Dissatisfied, comment: "还是不亮".into() }, 3_000).unwrap();
    for phone in [&mut first, &mut second] {
        let changes = new_changes(phone, &server);
        assert_eq!(check(server.doc(), &changes, Write::Everything), Ok(()));
        server.doc_mut().apply_changes(changes).unwrap();
    }
    assert!(server.problem(&problem).unwrap().status_conflict().is_some(), "the two follow-ups are a conflict");
    for (side, label) in [(crate::problem::Status::FollowedUp, "已回访"), (crate::problem::Status::InProgress, "办理中")] {
        let mut settler = load(&server.save());
        settler.resolve_conflict(crate::Section::Problems, &problem, "status", side.code(), 4_000).unwrap();
        let changes = new_changes(&mut settler, &server);
        assert_eq!(check(server.doc(), &changes, Write::Everything), Ok(()), "settled on {label}");
    }
}

/// The object of `path` (map keys from the root) in `l`.
fn obj_at(l: &UnitLedger, path: &[&str]) -> automerge::ObjId {
    let mut obj = ROOT;
    for key in path {
        obj = l.doc().get(&obj, *key).unwrap().unwrap().1;
    }
    obj
}

#[test]
fn records_and_entries_are_only_added_for_every_role() {
    // The app's own work passes: a remark and an evaluation by the supervisor, progress and
    // steps by the unit (entries added), a record marked deleted.
    let (unit, mut sup, problem, pledge) = ledgers();
    sup.add_supervision_remark(&problem, "请本周内办结", 2_000).unwrap();
    sup.add_evaluation(&pledge, Evaluator::Supervisor, Satisfaction::Dissatisfied, "进度慢", 2_000).unwrap();
    let remarks = new_changes(&mut sup, &unit);
    assert_eq!(check(unit.doc(), &remarks, Write::SupervisionOnly), Ok(()));
    let mut unit = unit;
    unit.doc_mut().apply_changes(remarks).unwrap();
    let mut cadre = load(&unit.save());
    cadre.add_problem_progress(&problem, "已联系供电所", 3_000).unwrap();
    cadre.set_deleted(crate::Section::Pledges, &pledge, true, 3_000).unwrap();
    let work = new_changes(&mut cadre, &unit);
    assert_eq!(check(unit.doc(), &work, Write::Cadre), Ok(()));

    let remark = |l: &UnitLedger| l.doc().keys(obj_at(l, &["problems", problem.as_str(), "supervision"])).next().unwrap();
    let evaluation = |l: &UnitLedger| l.doc().keys(obj_at(l, &["pledges", pledge.as_str(), "evaluations"])).next().unwrap();
    let raised = |l: &UnitLedger| l.doc().keys(obj_at(l, &["problems", problem.as_str(), "log"])).next().unwrap();
    type Craft<'a> = Box<dyn Fn(&mut UnitLedger) + 'a>;
    let crafts: Vec<(&str, Craft<'_>, Vec<Write>)> = vec![
        (
            "a replaced record",
            Box::new(|l| {
                let problems = obj_at(l, &["problems"]);
                let record = l.doc_mut().put_object(&problems, problem.as_str(), ObjType::Map).unwrap();
                l.doc_mut().put(&record, "title", "换掉的问题").unwrap();
            }),
            vec![Write::Cadre, Write::Everything, Write::SupervisionOnly],
        ),
        (
            "a deleted record",
            Box::new(|l| {
                let problems = obj_at(l, &["problems"]);
                l.doc_mut().delete(&problems, problem.as_str()).unwrap();
            }),
            vec![Write::Cadre, Write::Everything, Write::SupervisionOnly],
        ),
        (
            "a remark's text rewritten",
            Box::new(|l| {
                let entry = obj_at(l, &["problems", problem.as_str(), "supervision", &remark(l)]);
                l.doc_mut().put(&entry, "text", "已办结，无需督办").unwrap();
            }),
            vec![Write::Cadre, Write::Everything, Write::SupervisionOnly],
        ),
        (
            "a remark's author rewritten",
            Box::new(|l| {
                let entry = obj_at(l, &["problems", problem.as_str(), "supervision", &remark(l)]);
                l.doc_mut().put(&entry, "by", "书记").unwrap();
            }),
            vec![Write::Cadre, Write::Everything, Write::SupervisionOnly],
        ),
        (
            "a remark deleted",
            Box::new(|l| {
                let map = obj_at(l, &["problems", problem.as_str(), "supervision"]);
                let key = remark(l);
                l.doc_mut().delete(&map, key.as_str()).unwrap();
            }),
            vec![Write::Cadre, Write::Everything, Write::SupervisionOnly],
        ),
        (
            "the remarks wiped",
            Box::new(|l| {
                let record = obj_at(l, &["problems", problem.as_str()]);
                l.doc_mut().put_object(&record, "supervision", ObjType::Map).unwrap();
            }),
            vec![Write::Cadre, Write::Everything, Write::SupervisionOnly],
        ),
        (
            "an evaluation turned",
            Box::new(|l| {
                let entry = obj_at(l, &["pledges", pledge.as_str(), "evaluations", &evaluation(l)]);
                l.doc_mut().put(&entry, "rating", "satisfied").unwrap();
            }),
            vec![Write::Cadre, Write::Everything, Write::SupervisionOnly],
        ),
        (
            "a log entry's author forged",
            Box::new(|l| {
                let entry = obj_at(l, &["problems", problem.as_str(), "log", &raised(l)]);
                l.doc_mut().put(&entry, "by", "书记").unwrap();
            }),
            vec![Write::Cadre, Write::Everything],
        ),
    ];
    for (what, craft, roles) in crafts {
        let mut attacker = load(&unit.save());
        craft(&mut attacker);
        commit_signed(attacker.doc_mut());
        let changes = new_changes(&mut attacker, &unit);
        assert!(!changes.is_empty(), "{what}: no change");
        for write in roles {
            assert!(check(unit.doc(), &changes, write).is_err(), "{what} passed as {write:?}");
        }
    }
}
