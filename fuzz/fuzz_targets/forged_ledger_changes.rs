//! Forged changes against a real unit ledger, role-aware: a cadre, a secretary or a supervisor
//! does some of the app's own work, then its changes are rewritten the way an attacker of that
//! role would (an op's key moved to a field the role may not write, a value of the wrong kind,
//! a status skipped ahead, an entry's or note's `by` naming someone else, a make over an
//! existing key, a delete, an op moved onto another object) and re-encoded with fresh hashes.
//! Whatever `ledger::write_scope::check` accepts for that role must keep what the role may not
//! touch: the ledger still reads without a field out of kind, no record or entry is gone or
//! rewritten, a supervisor changed nothing but remarks and evaluations, a cadre closed and
//! reassigned nothing, and every new entry and note is signed by the sender.
#![no_main]

use std::sync::OnceLock;

use automerge::{ActorId, AutoCommit, Change, ExpandedChange};
use ledger::org::Write;
use ledger::pledge::{Aim, Evaluator, PledgeDraft};
use ledger::problem::{Action, Status};
use ledger::write_scope::{check, Sender};
use ledger::{ProblemDraft, RecordId, Satisfaction, UnitLedger, VisitDraft};
use libfuzzer_sys::arbitrary::{Result, Unstructured};
use libfuzzer_sys::fuzz_target;
use pioneer_fuzz::{allow_guarded_panics, guarded};
use serde_json::{json, Value};

const NAME: &str = "王芳";
const KEYS: [&str; 16] =
    ["status", "responsible", "by", "title", "heard", "created_at", "deleted", "supervision", "log", "text", "rating", "kind", "whom", "schema", "bogus", "updated_at"];

struct Base {
    saved: Vec<u8>,
    visit: RecordId,
    problem: RecordId,
    pledge: RecordId,
}

/// The ledger every run starts from: a visit, a problem with a remark, a pledge with an
/// evaluation.
fn base() -> &'static Base {
    static BASE: OnceLock<Base> = OnceLock::new();
    BASE.get_or_init(|| {
        let day = chrono::NaiveDate::from_ymd_opt(2026, 12, 4).unwrap();
        let mut l = UnitLedger::create(ActorId::from([1u8; 16]));
        l.set_author("书记");
        let visit = l.add_visit(&VisitDraft { whom: "王大爷".into(), heard: "路灯坏了".into(), ..VisitDraft::new(day) }.validate(day).unwrap(), 1_000).unwrap();
        let problem = l.add_problem(&ProblemDraft { title: "路灯坏了".into(), responsible: "张伟".into(), ..ProblemDraft::default() }.validate().unwrap(), 1_000).unwrap();
        l.add_supervision_remark(&problem, "请本周办结", 1_100).unwrap();
        let pledge = PledgeDraft { content: "每周接访".into(), team: true, aims: vec![Aim::ServiceLead], due: "2026-12-31".into(), ..Default::default() };
        let pledge = l.add_pledge(&pledge.validate().unwrap(), 1_000).unwrap();
        l.add_evaluation(&pledge, Evaluator::Resident, Satisfaction::Dissatisfied, "太慢", 1_200).unwrap();
        Base { saved: l.save(), visit, problem, pledge }
    })
}

/// Some of the app's own work, as `role` would do it.
fn honest_work(u: &mut Unstructured, l: &mut UnitLedger, b: &Base, role: Write) -> Result<()> {
    let day = chrono::NaiveDate::from_ymd_opt(2026, 12, 5).unwrap();
    for _ in 0..u.int_in_range(1..=3)? {
        let _ = match (role, u.int_in_range(0..=5)?) {
            (Write::SupervisionOnly, n) if n % 2 == 0 => l.add_supervision_remark(&b.problem, "督办", 2_000),
            (Write::SupervisionOnly, _) => l.add_evaluation(&b.pledge, Evaluator::Supervisor, Satisfaction::Basic, "", 2_000),
            (_, 0) => l.add_visit(&VisitDraft { whom: "李奶奶".into(), heard: "想装扶手".into(), ..VisitDraft::new(day) }.validate(day).unwrap(), 2_000).map(drop),
            (_, 1) => l.add_problem_progress(&b.problem, "已联系", 2_000),
            (_, 2) => l.change_problem_status(&b.problem, &Action::Start, 2_000).map(drop),
            (_, 3) => l.set_deleted(ledger::Section::Visits, &b.visit, true, 2_000),
            (_, 4) => l.set_pledge_fulfilled(&b.pledge, true, 2_000),
            _ => l.add_evaluation(&b.pledge, Evaluator::Resident, Satisfaction::Satisfied, "", 2_000),
        };
    }
    Ok(())
}

/// A value of some kind, as the change's JSON form writes it.
fn any_value(u: &mut Unstructured) -> Result<Value> {
    Ok(match u.int_in_range(0..=6)? {
        0 => json!({ "action": "set", "value": *u.choose(&["resolved", "rejected", "followed_up", "书记", "", "2026-12-01"])? }),
        1 => json!({ "action": "set", "value": u.arbitrary::<i32>()?, "datatype": "int" }),
        2 => json!({ "action": "set", "value": u.arbitrary::<bool>()? }),
        3 => json!({ "action": "set", "value": 5_000, "datatype": "timestamp" }),
        4 => json!({ "action": "set", "value": 1, "datatype": "counter" }),
        5 => json!({ "action": *u.choose(&["makeMap", "makeText", "makeList"])? }),
        _ => json!({ "action": "del" }),
    })
}

/// Rewrites one thing of the change the way an attacker of any role would.
fn forge(u: &mut Unstructured, change: &mut Value, objects: &[String]) -> Result<()> {
    if u.int_in_range(0..=9)? == 0 {
        change["message"] = json!(format!("伪造\nby={}", u.choose(&["书记", "督查员", ""])?));
        return Ok(());
    }
    let Some(ops) = change["ops"].as_array_mut() else { return Ok(()) };
    if ops.is_empty() {
        return Ok(());
    }
    let i = u.choose_index(ops.len())?;
    let op = &mut ops[i];
    match u.int_in_range(0..=4)? {
        0 if op.get("key").is_some() => op["key"] = json!(*u.choose(&KEYS)?),
        1 => {
            let value = any_value(u)?;
            for field in ["action", "value", "datatype"] {
                op.as_object_mut().unwrap().remove(field);
            }
            for (k, v) in value.as_object().unwrap() {
                op[k] = v.clone();
            }
        }
        2 => op["pred"] = json!([]),
        3 if !objects.is_empty() => op["obj"] = json!(objects[u.choose_index(objects.len())?]),
        _ => {
            let copy = op.clone();
            ops.insert(i, copy);
        }
    }
    Ok(())
}

/// The objects of the base document, `counter@actor`, for ops to be moved onto.
fn objects(doc: &AutoCommit) -> Vec<String> {
    let mut out = Vec::new();
    for change in doc.clone().get_changes(&[]) {
        let decoded = change.decode();
        for (i, op) in decoded.operations.iter().enumerate() {
            if let automerge::legacy::OpType::Make(_) = op.action {
                out.push(format!("{}@{}", change.start_op().get() + i as u64, change.actor_id()));
            }
        }
    }
    out
}

/// Every entry of a ledger (log entries, remarks, evaluations) by its id, as read.
fn entries(l: &UnitLedger) -> std::collections::BTreeMap<String, String> {
    let mut out = std::collections::BTreeMap::new();
    for p in l.problems().records {
        for e in p.log.iter().chain(&p.supervision) {
            out.insert(e.id.to_string(), format!("{e:?}"));
        }
    }
    for p in l.pledges().records {
        for e in &p.evaluations {
            out.insert(e.id.to_string(), format!("{e:?}"));
        }
    }
    out
}

/// What a supervisor may not change: everything but remarks and evaluations.
fn beyond_supervision(l: &UnitLedger) -> String {
    let mut problems = l.problems().records;
    problems.iter_mut().for_each(|p| p.supervision.clear());
    let mut pledges = l.pledges().records;
    pledges.iter_mut().for_each(|p| p.evaluations.clear());
    format!("{problems:?}{pledges:?}{:?}{:?}{:?}", l.visits().visits, l.enterprises().records, l.surveys().records)
}

fuzz_target!(init: allow_guarded_panics(), |data: &[u8]| {
    let mut u = Unstructured::new(data);
    let b = base();
    let Ok(role) = u.choose(&[Write::SupervisionOnly, Write::Cadre, Write::Everything]).copied() else { return };
    let mut l = UnitLedger::load(&b.saved, ActorId::random()).unwrap();
    l.set_author(NAME);
    let before = l.heads();
    if honest_work(&mut u, &mut l, b, role).is_err() {
        return;
    }
    let server = UnitLedger::load(&b.saved, ActorId::random()).unwrap();
    let objects = objects(server.doc());
    let mut changes = Vec::new();
    for change in l.doc_mut().get_changes(&before) {
        let mut value = serde_json::to_value(change.decode()).unwrap();
        for _ in 0..u.int_in_range(0..=2).unwrap_or(0) {
            if forge(&mut u, &mut value, &objects).is_err() {
                break;
            }
        }
        value.as_object_mut().unwrap().remove("hash");
        let Ok(expanded) = serde_json::from_value::<ExpandedChange>(value) else { return };
        changes.push(Change::from(expanded));
    }
    if changes.is_empty() || check(server.doc(), &changes, Sender { write: role, name: NAME }).is_err() {
        return;
    }
    // Accepted: applied as the server would, the role's limits hold.
    let mut after = UnitLedger::load(&b.saved, ActorId::random()).unwrap();
    let Ok(Ok(())) = guarded(|| after.doc_mut().apply_changes(changes.clone())) else { return };
    // Entries already there stay as written.
    let now = entries(&after);
    for (id, entry) in entries(&server) {
        assert_eq!(now.get(&id), Some(&entry), "{role:?} rewrote or removed an entry");
    }
    if role == Write::SupervisionOnly {
        assert_eq!(beyond_supervision(&after), beyond_supervision(&server), "a supervisor changed more than remarks and evaluations");
    }
    let (problems, pledges) = (after.problems(), after.pledges());
    let read_problems = problems.problems.len() + pledges.problems.len() + after.visits().problems.len() + after.surveys().problems.len() + after.enterprises().problems.len();
    assert_eq!(read_problems, 0, "an accepted change left a field out of kind: {:?} {:?}", problems.problems, pledges.problems);
    assert!(after.problems().records.iter().all(|p| p.id != b.problem || role == Write::Everything || !matches!(p.status, Status::Resolved | Status::Rejected)), "{role:?} closed a problem");
    if role != Write::Everything {
        assert!(after.problems().records.iter().all(|p| p.id != b.problem || p.responsible == "张伟"), "{role:?} reassigned a problem");
    }
    for p in &problems.records {
        for e in p.log.iter().chain(&p.supervision).filter(|e| e.at >= 2_000) {
            assert_eq!(e.by, NAME, "an entry signed by someone else");
        }
    }
    for change in &changes {
        let note = ledger::record::ChangeNote::parse(change.message().as_deref().unwrap_or_default());
        assert_eq!(note.by, NAME, "a note signed by someone else");
    }
});
