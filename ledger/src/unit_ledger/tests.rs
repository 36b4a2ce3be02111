use automerge::{transaction::Transactable, ObjType, ReadDoc};
use chrono::NaiveDate;

use super::*;
use crate::visit::{ValidVisit, VisitDraft, VisitKind};

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 27).unwrap()
}

fn valid(whom: &str, heard: &str) -> ValidVisit {
    VisitDraft { whom: whom.into(), heard: heard.into(), ..VisitDraft::new(today()) }.validate(today()).unwrap()
}

fn ledger() -> UnitLedger {
    UnitLedger::create(ActorId::random())
}

#[test]
fn add_edit_delete_restore() {
    let mut l = ledger();
    let id = l.add_visit(&valid("张大爷家", "路灯坏了"), 1_000).unwrap();
    let v = l.visit(&id).unwrap();
    assert_eq!((v.whom.as_str(), v.heard.as_str(), v.date), ("张大爷家", "路灯坏了", Some(today())));

    let mut edited = valid("张大爷家", "村口路灯坏了两盏");
    edited.kind = VisitKind::Petition;
    l.update_visit(&id, &edited, 2_000).unwrap();
    let v = l.visit(&id).unwrap();
    assert_eq!((v.heard.as_str(), v.kind, v.created_at, v.updated_at), ("村口路灯坏了两盏", VisitKind::Petition, 1_000, 2_000));

    assert_eq!(l.deletion(Section::Visits, &id), None);
    l.set_deleted(Section::Visits, &id, true, 3_000).unwrap();
    assert!(l.visit(&id).unwrap().deleted);
    let deletion = l.deletion(Section::Visits, &id).expect("who deleted it");
    assert_eq!((deletion.at_seconds, deletion.summary.as_str()), (3, "删除走访"));
    l.set_deleted(Section::Visits, &id, false, 4_000).unwrap();
    assert!(!l.visit(&id).unwrap().deleted);
    assert_eq!(l.deletion(Section::Visits, &id), None, "restored: no longer deleted");
    assert_eq!(l.visits().visits.len(), 1);
}

#[test]
fn unsent_work_is_counted_in_records_not_changes() {
    let mut l = ledger();
    let synced = l.heads();
    let id = l.add_visit(&valid("张大爷家", "路灯坏了"), 1_000).unwrap();
    l.update_visit(&id, &valid("张大爷家", "村口路灯坏了两盏"), 2_000).unwrap();
    l.set_deleted(Section::Visits, &id, true, 3_000).unwrap();
    assert_eq!(l.records_changed_since(&synced), 1, "three edits of one visit");
    l.add_visit(&valid("李大妈家", "下水道堵了"), 4_000).unwrap();
    assert_eq!(l.records_changed_since(&synced), 2);
    let now = l.heads();
    assert_eq!(l.records_changed_since(&now), 0);
}

#[test]
fn unknown_ids_are_not_found_and_change_nothing() {
    let mut l = ledger();
    let heads = l.heads();
    let missing = RecordId::random();
    assert!(matches!(l.update_visit(&missing, &valid("a", "b"), 1), Err(LedgerError::NotFound)));
    assert!(matches!(l.set_deleted(Section::Visits, &missing, true, 1), Err(LedgerError::NotFound)));
    assert_eq!(l.heads(), heads);
}

#[test]
fn save_load_and_incremental_chunks_round_trip() {
    let actor = ActorId::random();
    let mut l = UnitLedger::create(actor.clone());
    l.add_visit(&valid("一号", "甲"), 1).unwrap();
    let snapshot = l.save();
    l.add_visit(&valid("二号", "乙"), 2).unwrap();
    let chunk1 = l.save_incremental();
    l.add_visit(&valid("三号", "丙"), 3).unwrap();
    let chunk2 = l.save_incremental();

    let mut reopened = UnitLedger::load(&snapshot, actor).unwrap();
    reopened.load_incremental(&chunk1).unwrap();
    reopened.load_incremental(&chunk2).unwrap();
    let mut whoms: Vec<String> = reopened.visits().visits.into_iter().map(|v| v.whom).collect();
    whoms.sort();
    assert_eq!(whoms, ["一号", "三号", "二号"]);
    assert_eq!(reopened.heads(), l.heads());
}

#[test]
fn corrupt_bytes_are_an_error_not_a_panic() {
    assert!(UnitLedger::load(b"not automerge", ActorId::random()).is_err());
    let mut l = ledger();
    let heads = l.heads();
    // automerge skips a truncated trailing chunk rather than failing; either way nothing changes.
    let _ = l.load_incremental(&[0x85, 0x6f, 0x4a, 0x83, 1, 2, 3]);
    assert_eq!(l.heads(), heads);
    // A valid automerge document that is not a ledger.
    let mut other = AutoCommit::new();
    other.put(ROOT, "hello", "world").unwrap();
    assert!(matches!(UnitLedger::load(&other.save(), ActorId::random()), Err(LedgerError::MissingSection(_))));
}

#[test]
fn ledgers_created_independently_merge_without_losing_visits() {
    let mut a = ledger();
    let mut b = ledger();
    a.add_visit(&valid("甲户", "a"), 1).unwrap();
    b.add_visit(&valid("乙户", "b"), 2).unwrap();
    a.merge(&mut b).unwrap();
    assert_eq!(a.visits().visits.len(), 2);
}

#[test]
fn concurrent_edits_of_different_fields_both_stay() {
    let mut a = ledger();
    let id = a.add_visit(&valid("张家", "原始记录"), 1).unwrap();
    let mut b = a.fork(ActorId::random());

    let mut on_a = valid("张家", "原始记录");
    on_a.place = "东村".into();
    a.update_visit(&id, &on_a, 2).unwrap();
    let mut on_b = valid("张家", "原始记录");
    on_b.opinions = "希望修路".into();
    b.update_visit(&id, &on_b, 3).unwrap();

    a.merge(&mut b).unwrap();
    let v = a.visit(&id).unwrap();
    assert_eq!((v.place.as_str(), v.opinions.as_str()), ("东村", "希望修路"));
}

#[test]
fn concurrent_edits_of_one_note_merge_character_by_character() {
    let mut a = ledger();
    let id = a.add_visit(&valid("张家", "路灯坏了。"), 1).unwrap();
    let mut b = a.fork(ActorId::random());
    a.update_visit(&id, &valid("张家", "村口路灯坏了。"), 2).unwrap();
    b.update_visit(&id, &valid("张家", "路灯坏了。已报修。"), 3).unwrap();
    a.merge(&mut b).unwrap();
    b.merge(&mut a).unwrap();
    assert_eq!(a.visit(&id).unwrap().heard, "村口路灯坏了。已报修。");
    assert_eq!(b.visit(&id).unwrap().heard, "村口路灯坏了。已报修。");
}

#[test]
fn a_delete_racing_an_edit_keeps_the_edit() {
    let mut a = ledger();
    let id = a.add_visit(&valid("张家", "旧"), 1).unwrap();
    let mut b = a.fork(ActorId::random());
    a.set_deleted(Section::Visits, &id, true, 2).unwrap();
    b.update_visit(&id, &valid("张家", "新的内容"), 3).unwrap();
    a.merge(&mut b).unwrap();
    let v = a.visit(&id).unwrap();
    assert!(v.deleted);
    assert_eq!(v.heard, "新的内容");
    a.set_deleted(Section::Visits, &id, false, 4).unwrap();
    assert_eq!(a.visit(&id).unwrap().heard, "新的内容");
}

#[test]
fn fields_of_unexpected_types_are_reported_and_the_rest_kept() {
    let mut l = ledger();
    let id = l.add_visit(&valid("张家", "内容"), 1).unwrap();
    let visits = l.section(Section::Visits).unwrap();
    let (_, obj) = l.doc.get(&visits, id.as_str()).unwrap().unwrap();
    l.doc.put(&obj, "follow_up_needed", "yes").unwrap();
    l.doc.put(&obj, "kind", "spaceship").unwrap();
    l.doc.put(&obj, "date", 42).unwrap();
    // A peer that stored a record where a map belongs, and a key that is not an id.
    l.doc.put(&visits, RecordId::random().as_str(), "garbage").unwrap();
    l.doc.put_object(&visits, "../../etc", ObjType::Map).unwrap();

    let all = l.visits();
    assert_eq!(all.visits.len(), 1);
    let v = &all.visits[0];
    assert_eq!((v.whom.as_str(), v.heard.as_str(), v.kind, v.date, v.follow_up_needed), ("张家", "内容", VisitKind::Other, None, false));
    let fields: Vec<&str> = all.problems.iter().map(|p| p.field).collect();
    for f in ["follow_up_needed", "kind", "date", "visits", "id"] {
        assert!(fields.contains(&f), "{f} not reported in {fields:?}");
    }
}

#[test]
fn strings_written_as_text_or_scalars_both_read() {
    // JS automerge 3 writes every string as Text; older Rust peers write scalars.
    let mut l = ledger();
    let id = l.add_visit(&valid("张家", "内容"), 1).unwrap();
    let visits = l.section(Section::Visits).unwrap();
    let (_, obj) = l.doc.get(&visits, id.as_str()).unwrap().unwrap();
    let whom = l.doc.put_object(&obj, "whom", ObjType::Text).unwrap();
    l.doc.splice_text(&whom, 0, 0, "李家").unwrap();
    l.doc.put(&obj, "heard", "标量文本").unwrap();
    let v = l.visit(&id).unwrap();
    assert_eq!((v.whom.as_str(), v.heard.as_str()), ("李家", "标量文本"));
    // And editing such a record writes our schema back.
    l.update_visit(&id, &valid("李家", "标量文本，已补充"), 2).unwrap();
    assert_eq!(l.visit(&id).unwrap().heard, "标量文本，已补充");
    assert!(l.visits().problems.is_empty());
}

#[test]
fn unchanged_saves_add_no_operations() {
    let mut l = ledger();
    let v = valid("张家", "内容");
    let id = l.add_visit(&v, 1).unwrap();
    let before = l.doc.get_changes(&[]).len();
    let ops_before: usize = l.doc.get_changes(&[]).iter().map(|c| c.len()).sum();
    l.update_visit(&id, &v, 1).unwrap();
    let ops_after: usize = l.doc.get_changes(&[]).iter().map(|c| c.len()).sum();
    assert!(l.doc.get_changes(&[]).len() <= before + 1);
    assert_eq!(ops_before, ops_after, "an unchanged save wrote operations");
}

#[test]
fn rollback_drops_unsaved_changes_and_changes_actor() {
    let mut l = ledger();
    let kept = l.add_visit(&valid("留下", "a"), 1).unwrap();
    let heads = l.heads();
    let actor = l.actor().clone();
    let dropped = l.add_visit(&valid("撤回", "b"), 2).unwrap();
    l.rollback_to(&heads).unwrap();
    assert!(l.visit(&kept).is_ok());
    assert!(matches!(l.visit(&dropped), Err(LedgerError::NotFound)));
    assert_ne!(l.actor(), &actor);
    l.add_visit(&valid("再记", "c"), 3).unwrap();
    assert_eq!(l.visits().visits.len(), 2);
}

#[test]
fn save_after_holds_exactly_the_new_changes() {
    let mut l = ledger();
    let mut copy = UnitLedger::load(&l.save(), ActorId::random()).unwrap();
    let heads = l.heads();
    l.add_visit(&valid("新", "x"), 1).unwrap();
    copy.load_incremental(&l.save_after(&heads)).unwrap();
    assert_eq!(copy.heads(), l.heads());
}

/// History says what an edit changed from and to, codes by their labels, long texts cut.
#[test]
fn an_edit_names_each_field_with_its_old_and_new_value() {
    let mut l = ledger();
    let id = l.add_visit(&valid("张大爷家", "路灯坏了"), 1_000).unwrap();
    let mut edited = valid("张大爷一家", "村口的路灯坏了两盏，晚上出行很不方便，老人孩子容易摔倒，希望尽快修好");
    edited.kind = VisitKind::Petition;
    l.update_visit(&id, &edited, 2_000).unwrap();
    let last = l.history(&id).pop().unwrap();
    assert_eq!(
        last.summary,
        format!(
            "修改走访：类型「{}」→「{}」；走访对象「张大爷家」→「张大爷一家」；走访情况「路灯坏了」→「村口的路灯坏了两盏，晚上出行很不方便，老人孩子容…」",
            VisitKind::HomeVisit.label(),
            VisitKind::Petition.label()
        )
    );
}
