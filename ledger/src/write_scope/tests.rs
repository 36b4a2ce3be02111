use automerge::transaction::Transactable;
use automerge::{ActorId, Change, ObjType, ROOT};

use super::*;
use crate::pledge::Evaluator;
use crate::{ProblemDraft, Satisfaction, UnitLedger};

/// A ledger with one problem and one pledge, and a supervisor's copy of it.
fn ledgers() -> (UnitLedger, UnitLedger, crate::RecordId, crate::RecordId) {
    let mut unit = UnitLedger::create(ActorId::random());
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
    let mut supervisor = UnitLedger::load(&unit.save(), ActorId::random()).unwrap();
    supervisor.set_author("督查员");
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
    doc.commit();
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

    let mut attack = UnitLedger::load(&unit.save(), ActorId::random()).unwrap();
    let problems = attack.doc().get(ROOT, "problems").unwrap().unwrap().1;
    let record = attack.doc().get(&problems, problem.as_str()).unwrap().unwrap().1;
    let remarks = attack.doc().get(&record, "supervision").unwrap().unwrap().1;
    let remark = attack.doc().keys(&remarks).next().unwrap();
    attack.doc_mut().delete(&remarks, remark.as_str()).unwrap();
    attack.doc_mut().commit();
    assert!(check(unit.doc(), &new_changes(&mut attack, &unit), Write::SupervisionOnly).is_err(), "a remark removed");

    let mut attack = UnitLedger::load(&unit.save(), ActorId::random()).unwrap();
    attack.doc_mut().put_object(&record, "supervision", ObjType::Map).unwrap();
    attack.doc_mut().put(&record, "supervision", "gone").unwrap();
    attack.doc_mut().commit();
    assert!(check(unit.doc(), &new_changes(&mut attack, &unit), Write::SupervisionOnly).is_err(), "the map overwritten by a value");
}

#[test]
fn changes_to_objects_the_document_lacks_are_refused() {
    let (unit, _, _, _) = ledgers();
    let mut other = UnitLedger::create(ActorId::random());
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
    unit.doc_mut().commit();
    let mut one = UnitLedger::load(&unit.save(), ActorId::random()).unwrap();
    let mut two = UnitLedger::load(&unit.save(), ActorId::random()).unwrap();
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
                cadre.doc_mut().commit();
            }
        }
        let changes = new_changes(&mut cadre, &unit);
        assert_eq!(check(unit.doc(), &changes, Write::Cadre), Err(expected.to_owned()), "{what}");
        assert_eq!(check(cadre.doc(), &changes, Write::Cadre), Err(expected.to_owned()), "{what}, checked on the phone");
        assert_eq!(check(unit.doc(), &changes, Write::Everything), Ok(()), "{what}: a secretary may");
    }
}
