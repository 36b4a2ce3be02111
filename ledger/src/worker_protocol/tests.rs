use automerge::ActorId;
use chrono::NaiveDate;

use super::*;
use crate::{ProblemDraft, UnitLedger, VisitDraft};

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 12, 5).unwrap()
}

fn ledger_with_records() -> UnitLedger {
    let mut l = UnitLedger::create(ActorId::random());
    for i in 0..3 {
        let d = VisitDraft { whom: format!("户{i}"), heard: "反映路灯不亮".into(), ..VisitDraft::new(today()) };
        l.add_visit(&d.validate(today()).unwrap(), i).unwrap();
    }
    let p = ProblemDraft { title: "路灯".into(), ..Default::default() };
    l.add_problem(&p.validate().unwrap(), 9).unwrap();
    l
}

fn open(document: &str) -> OpenLedger {
    OpenLedger {
        key: format!("unit-{document}"),
        document: document.into(),
        author: "李书记".into(),
        write: Write::Everything,
        shown_heads: Some("ab,cd".into()),
        storage_id: "browser-1".into(),
        server_storage: None,
        sync_url: Some("wss://example.org/sync".into()),
    }
}

#[test]
fn every_message_the_page_sends_round_trips() {
    let visit = VisitDraft { whom: "张大爷".into(), heard: "内容".into(), ..VisitDraft::new(today()) };
    let messages = [
        ToWorker::Open(open("2b7c")),
        ToWorker::Keep(vec![open("9d1e"), OpenLedger { shown_heads: None, write: Write::SupervisionOnly, ..open("77aa") }]),
        ToWorker::Apply { request: 7, command: Command::AddVisit { visit, problem: None, media: Default::default() } },
        ToWorker::Ask { request: 8, question: Question::ConflictAuthors { section: Section::Problems, id: RecordId::random(), field: "title".into() } },
        ToWorker::StopWrites { why: "此设备已停用".into() },
        ToWorker::Reconnect,
        ToWorker::Offline,
        ToWorker::Erase { request: u32::MAX },
    ];
    for message in messages {
        assert_eq!(decode::<ToWorker>(&encode(&message)), Some(message));
    }
}

#[test]
fn records_and_views_from_the_worker_round_trip() {
    let l = ledger_with_records();
    let view = LedgerView::read(&l);
    let updates: Vec<RecordUpdate> = view.visits.iter().cloned().map(RecordUpdate::Visit).chain(view.problems.iter().cloned().map(RecordUpdate::Problem)).collect();
    assert_eq!(updates[3].id(), &view.problems[0].id);
    let messages = [
        FromWorker::Hello { version: VERSION },
        FromWorker::View(view),
        FromWorker::Records(updates),
        FromWorker::Answer { request: 1, answer: Answer::StorageFailed(StorageFailure::Full) },
        FromWorker::Answer { request: 2, answer: Answer::ConflictAuthors(vec![("甲".into(), "张三".into())]) },
        FromWorker::Sync { document: "2b7c".into(), report: SyncReport { status: SyncStatus::Synced(1_764_900_000_000), unsent: 0, owner: false } },
    ];
    for message in messages {
        assert_eq!(decode::<FromWorker>(&encode(&message)), Some(message));
    }
}

fn report(status: SyncStatus, unsent: usize) -> SyncReport {
    SyncReport { status, unsent, owner: true }
}

#[test]
fn a_retired_phone_has_uploaded_everything_only_when_every_ledger_it_keeps_has() {
    let mut board = SyncBoard::new(["shown", "kept"]);
    // Nothing heard yet: a ledger still loading may hold unsent records.
    assert!(!board.all_uploaded());
    board.heard("shown", report(SyncStatus::Synced(1), 0));
    assert!(!board.all_uploaded(), "the kept ledger has not reported");
    board.heard("kept", report(SyncStatus::Syncing, 3));
    assert!(!board.all_uploaded());
    assert_eq!(board.unsent("kept"), 3);
    // In step but with records left (the server has not acknowledged them): not yet.
    board.heard("kept", report(SyncStatus::Synced(2), 1));
    assert!(!board.all_uploaded());
    board.heard("kept", report(SyncStatus::Synced(3), 0));
    assert!(board.all_uploaded());
    // A later local change there (another tab) takes it back.
    board.heard("kept", report(SyncStatus::Offline, 1));
    assert!(!board.all_uploaded());
    // A document the phone does not keep changes nothing.
    board.heard("kept", report(SyncStatus::Synced(4), 0));
    board.heard("stranger", report(SyncStatus::Offline, 9));
    assert!(board.all_uploaded());
    assert_eq!(board.unsent("stranger"), 0);
    assert_eq!(board.report("stranger"), None);
}

#[test]
fn bytes_that_are_no_message_are_refused_not_misread() {
    assert_eq!(decode::<ToWorker>(&[]), None);
    assert_eq!(decode::<ToWorker>(&[200, 1, 2]), None);
    assert_eq!(decode::<FromWorker>(b"\xff\xff\xff\xff\xff"), None);
    // A page's message is not a worker's: an Open read as FromWorker fails or differs.
    let open = encode(&ToWorker::Reconnect);
    assert_ne!(decode::<FromWorker>(&open), Some(FromWorker::Live));
}

#[test]
fn storage_failures_say_what_to_do_and_that_the_form_is_kept() {
    for failure in [StorageFailure::Full, StorageFailure::Unavailable("InvalidStateError".into()), StorageFailure::Failed("AbortError".into())] {
        let text = failure.to_string();
        assert!(text.contains("已填写的内容还在"), "{text}");
    }
    assert!(StorageFailure::Unavailable("InvalidStateError".into()).to_string().contains("InvalidStateError"));
}

#[test]
fn a_changed_record_replaces_its_old_self_and_a_new_one_is_added() {
    let mut l = ledger_with_records();
    let mut view = LedgerView::read(&l);
    let first = view.visits[0].id.clone();
    let edited = VisitDraft { whom: "王大娘".into(), heard: "路灯已修好".into(), ..VisitDraft::new(today()) };
    l.update_visit(&first, &edited.validate(today()).unwrap(), 20).unwrap();
    let added = VisitDraft { whom: "新户".into(), heard: "反映排水".into(), ..VisitDraft::new(today()) };
    let new_id = l.add_visit(&added.validate(today()).unwrap(), 21).unwrap();
    view.apply(vec![RecordUpdate::Visit(l.visit(&first).unwrap()), RecordUpdate::Visit(l.visit(&new_id).unwrap())]);
    assert_eq!(view.visits.len(), 4);
    // Newest first, as a fresh read orders them: the new visit (same day, entered last) on top.
    assert_eq!(view.visits[0].id, new_id);
    assert_eq!(view.visits.iter().find(|v| v.id == first).unwrap().whom, "王大娘");
    assert_eq!(view, LedgerView::read(&l));
}

#[test]
fn a_visit_whose_date_is_edited_moves_to_its_place_in_the_list() {
    let mut l = ledger_with_records();
    let mut view = LedgerView::read(&l);
    let oldest = view.visits.last().unwrap().id.clone();
    let tomorrow = today().succ_opt().unwrap();
    let moved = VisitDraft { whom: "户0".into(), heard: "反映路灯不亮".into(), ..VisitDraft::new(tomorrow) };
    l.update_visit(&oldest, &moved.validate(tomorrow).unwrap(), 30).unwrap();
    view.apply(vec![RecordUpdate::Visit(l.visit(&oldest).unwrap())]);
    assert_eq!(view.visits[0].id, oldest);
    assert_eq!(view, LedgerView::read(&l));
}

#[test]
fn many_changed_records_are_put_in_place_once_each() {
    let mut l = UnitLedger::create(ActorId::random());
    let mut ids = Vec::new();
    for i in 0..30 {
        let d = VisitDraft { whom: format!("户{i}"), heard: "内容".into(), ..VisitDraft::new(today()) };
        ids.push(l.add_visit(&d.validate(today()).unwrap(), i).unwrap());
    }
    let mut view = LedgerView::read(&l);
    view.visits.retain(|v| ids[..10].contains(&v.id));
    // Twenty edited (ten shown, ten not yet), one of them twice: the later copy wins.
    let mut updates = Vec::new();
    for (i, id) in ids.iter().enumerate().take(20) {
        let d = VisitDraft { whom: format!("改{i}"), heard: "内容".into(), ..VisitDraft::new(today()) };
        l.update_visit(id, &d.validate(today()).unwrap(), 100).unwrap();
        updates.push(RecordUpdate::Visit(l.visit(id).unwrap()));
    }
    let mut again = l.visit(&ids[15]).unwrap();
    again.whom = "再改".into();
    updates.push(RecordUpdate::Visit(again));
    view.apply(updates);
    assert_eq!(view.visits.len(), 20);
    assert_eq!(view.visits.iter().filter(|v| v.id == ids[15]).count(), 1);
    assert_eq!(view.visits.iter().find(|v| v.id == ids[15]).unwrap().whom, "再改");
    assert!(view.visits.iter().all(|v| v.whom.starts_with('改') || v.whom == "再改"), "{:?}", view.visits);
}
