//! The read model against the documents: random edits to several unit ledgers, made through
//! the hub as the server makes every change (under the document's lock, checked, stored with
//! the projection); then the rows equal a projection from scratch, in memory and in storage,
//! and a rebuild changes nothing.

use std::collections::HashMap;
use std::sync::Arc;

use ledger::codes::Satisfaction;
use ledger::enterprise::EnterpriseDraft;
use ledger::org::{Role, UnitKind};
use ledger::problem::{Action, Category, ProblemDraft};
use ledger::record::Section;
use ledger::visit::VisitDraft;
use proptest::prelude::*;

use super::*;
use crate::directory::{Directory, Principal};
use crate::hub::Hub;

struct World {
    _dir: tempfile::TempDir,
    hub: Arc<Hub>,
    /// Each village's ledger and its secretary's principal.
    villages: Vec<(DocumentId, Principal)>,
}

fn world() -> World {
    world_with(Storage::open_for_tests)
}

/// `open`: the backend (SQLite always, for a test that edits its file).
fn world_with(open: fn(&std::path::Path) -> Result<Storage, String>) -> World {
    let dir = tempfile::tempdir().unwrap();
    let storage = Arc::new(open(dir.path()).unwrap());
    let directory = Directory::open(storage.clone()).unwrap();
    let city = directory.add_unit("示范市", UnitKind::City, None, None).unwrap();
    let county = directory.add_unit("示范县", UnitKind::County, Some(&city.id), None).unwrap();
    let town = directory.add_unit("青石镇", UnitKind::Township, Some(&county.id), None).unwrap();
    let mut villages = Vec::new();
    for (i, name) in ["青石村", "河口村", "柳林社区"].iter().enumerate() {
        let kind = if i == 2 { UnitKind::Community } else { UnitKind::Village };
        let unit = directory.add_unit(name, kind, Some(&town.id), None).unwrap();
        let name = format!("书记{i}");
        let person = directory.add_person(&name, &format!("sec{i}"), None, None).unwrap();
        directory.grant(&person.id, &unit.id, Role::Secretary, None).unwrap();
        let device = directory.issue_token(&person.id, "phone", None).unwrap().device;
        let doc = DocumentId::parse(unit.ledger.as_ref().unwrap()).unwrap();
        villages.push((doc, Principal { person: person.id, name, device: device.id, retired: false }));
    }
    World { _dir: dir, hub: Hub::new(storage, directory), villages }
}

fn day(n: u8) -> String {
    format!("2026-11-{:02}", 1 + n % 28)
}

fn at(n: u8) -> i64 {
    1_790_000_000_000 + i64::from(n) * 86_400_000
}

#[derive(Debug, Clone)]
enum Edit {
    Visit(u8),
    Problem(u8),
    Step(u8, u8),
    Delete(u8),
    Remark(u8),
    /// Registers the firm, or renames it once registered.
    Enterprise(u8),
}

fn edit() -> impl Strategy<Value = (usize, Edit)> {
    let e = prop_oneof![
        any::<u8>().prop_map(Edit::Visit),
        any::<u8>().prop_map(Edit::Problem),
        (any::<u8>(), any::<u8>()).prop_map(|(a, b)| Edit::Step(a, b)),
        any::<u8>().prop_map(Edit::Delete),
        any::<u8>().prop_map(Edit::Remark),
        any::<u8>().prop_map(Edit::Enterprise),
    ];
    (0..3usize, e)
}

fn apply(world: &World, village: usize, e: &Edit) {
    let (doc, principal) = &world.villages[village];
    let result = world.hub.write(*doc, principal, |l| match e {
        Edit::Visit(n) => {
            let draft =
                VisitDraft { whom: format!("住户{n}"), heard: "路灯坏了".into(), date: day(*n), ..VisitDraft::new(chrono::NaiveDate::from_ymd_opt(2026, 11, 1).unwrap()) };
            l.add_visit(&draft.validate(chrono::NaiveDate::from_ymd_opt(2026, 12, 31).unwrap()).unwrap(), at(*n)).map(|_| ())
        }
        Edit::Problem(n) => {
            let draft = ProblemDraft { title: format!("问题{n}"), category: Category::ALL[*n as usize % Category::ALL.len()], deadline: day(*n), ..ProblemDraft::default() };
            l.add_problem(&draft.validate().unwrap(), at(*n)).map(|_| ())
        }
        Edit::Step(which, a) => {
            let problems = l.problems().records;
            let Some(p) = problems.get(*which as usize % problems.len().max(1)) else { return Ok(()) };
            let action = match a % 4 {
                0 => Action::Start,
                1 => Action::Resolve { result: "已解决".into() },
                2 => Action::FollowUp { satisfaction: Satisfaction::Dissatisfied, comment: "没修好".into() },
                _ => Action::FollowUp { satisfaction: Satisfaction::Satisfied, comment: String::new() },
            };
            // A step not open from the status is refused by the ledger: nothing changes.
            l.change_problem_status(&p.id, &action, at(*a)).map(|_| ()).or(Ok(()))
        }
        Edit::Delete(which) => {
            let visits = l.visits().visits;
            let Some(v) = visits.get(*which as usize % visits.len().max(1)) else { return Ok(()) };
            l.set_deleted(Section::Visits, &v.id, !v.deleted, at(*which))
        }
        Edit::Remark(which) => {
            let problems = l.problems().records;
            let Some(p) = problems.get(*which as usize % problems.len().max(1)) else { return Ok(()) };
            l.add_supervision_remark(&p.id, "请按期办结", at(*which))
        }
        Edit::Enterprise(n) => {
            let firm = EnterpriseDraft { name: format!("闽兴机械{n}"), credit_code: "91350100M000100Y43".into(), ..Default::default() }.validate().unwrap();
            match l.enterprises().records.first() {
                Some(e) => l.update_enterprise(&e.id, &firm, at(*n)),
                None => l.add_enterprise(&firm, at(*n)).map(|_| ()),
            }
        }
    });
    result.unwrap();
}

/// What a projection from scratch of the stored document holds.
fn from_scratch(storage: &Storage, doc: &DocumentId) -> LedgerFacts {
    let layout = storage.load(doc).unwrap().unwrap();
    let mut ledger = UnitLedger::load(&layout.concatenated(), automerge::ActorId::random()).unwrap();
    let mut facts = LedgerFacts::default();
    facts.apply(&report::update_since(&mut ledger, None));
    facts
}

fn rows(storage: &Storage, doc: &DocumentId) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for section in ledger::record::Section::ALL {
        storage
            .each_body(&[*doc], section, |_, body| {
                out.push((section.key().to_owned(), body.to_owned()));
                Ok(())
            })
            .unwrap();
    }
    out.sort();
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]
    #[test]
    fn the_read_model_equals_a_projection_from_the_documents(edits in proptest::collection::vec(edit(), 1..30), warm in any::<bool>()) {
        let world = world();
        if warm {
            // The desk read every ledger before the edits: the cache is updated, not re-read.
            for (doc, _) in &world.villages {
                world.hub.read_model.facts(doc).unwrap();
            }
        }
        for (village, e) in &edits {
            apply(&world, *village, e);
        }
        let storage = &world.hub.storage;
        let mut before_rebuild = HashMap::new();
        for (doc, _) in &world.villages {
            let expected = from_scratch(storage, doc);
            let in_memory = world.hub.read_model.facts(doc).unwrap();
            prop_assert_eq!(&in_memory.records, &expected.records);
            let stored = LedgerFacts::from(storage.stored_facts(doc).unwrap());
            prop_assert_eq!(&stored.records, &expected.records);
            before_rebuild.insert(*doc, rows(storage, doc));
        }
        let n = rebuild(storage, &world.hub.directory.org()).unwrap();
        prop_assert_eq!(n, 3, "the three villages keep ledgers (the township does not)");
        for (doc, _) in &world.villages {
            prop_assert_eq!(&rows(storage, doc), &before_rebuild[doc], "a rebuild changed rows");
        }
    }
}

#[test]
fn a_refused_change_leaves_no_rows_and_nothing_in_memory() {
    let world = world();
    let (doc, secretary) = world.villages[0].clone();
    // The secretary of another village may not write here at all.
    let (_, stranger) = world.villages[1].clone();
    let refused = world.hub.write(doc, &stranger, |l| {
        let draft = ProblemDraft { title: "不该有".into(), ..ProblemDraft::default() };
        l.add_problem(&draft.validate().unwrap(), at(1)).map(|_| ())
    });
    assert!(matches!(refused, Err(crate::hub::WriteError::Refused(_))), "{refused:?}");
    // An invalid edit (a step not open) is refused by the ledger and stores nothing.
    let draft = ProblemDraft { title: "路灯".into(), ..ProblemDraft::default() };
    let id = world.hub.write(doc, &secretary, |l| l.add_problem(&draft.validate().unwrap(), at(1))).unwrap();
    let heads = world.hub.storage.projected_heads(&doc).unwrap();
    let refused = world.hub.write(doc, &secretary, |l| l.change_problem_status(&id, &Action::Reopen, at(2)).map(|_| ()));
    assert!(matches!(refused, Err(crate::hub::WriteError::Refused(_))));
    assert_eq!(world.hub.storage.projected_heads(&doc).unwrap(), heads, "nothing projected");
    assert_eq!(world.hub.read_model.facts(&doc).unwrap().records.len(), 1);
    assert_eq!(from_scratch(&world.hub.storage, &doc).records, world.hub.read_model.facts(&doc).unwrap().records);
}

#[test]
fn an_export_reads_every_row_in_batches() {
    let world = world();
    let (doc, _) = world.villages[0].clone();
    let mut l = UnitLedger::create(automerge::ActorId::random());
    let n = crate::storage::read_model::BODY_BATCH * 2 + 7;
    for i in 0..n {
        let draft = VisitDraft { whom: format!("住户{i}"), heard: "路灯坏了".into(), ..VisitDraft::new(chrono::NaiveDate::from_ymd_opt(2026, 11, 1).unwrap()) };
        l.add_visit(&draft.validate(chrono::NaiveDate::from_ymd_opt(2026, 12, 31).unwrap()).unwrap(), at(1)).unwrap();
    }
    let heads = l.heads();
    world.hub.storage.project(&doc, &Projection { update: report::update_since(&mut l, None), heads, at: 1 }).unwrap();
    let mut seen = std::collections::HashSet::new();
    world
        .hub
        .storage
        .each_body(&[doc], Section::Visits, |_, body| {
            seen.insert(body.to_owned());
            Ok(())
        })
        .unwrap();
    assert_eq!(seen.len(), n, "every row once, across batches");
}

#[test]
fn a_store_projected_before_enterprises_were_kept_is_projected_again_once_at_the_next_start() {
    let world = world_with(Storage::open);
    let (doc, _) = world.villages[0].clone();
    apply(&world, 0, &Edit::Visit(1));
    apply(&world, 0, &Edit::Enterprise(2));
    let before = world.hub.storage.stored_facts(&doc).unwrap();
    assert!(before.changed_at.is_some());
    assert!(before.records.iter().any(|(s, _, f)| *s == Section::Enterprises && matches!(f, report::Facts::Enterprise(e) if e.name == "闽兴机械2")));
    // As the version before left the store: no enterprise rows, no version mark.
    let file = rusqlite::Connection::open(world._dir.path().join("ledger.sqlite3")).unwrap();
    file.execute_batch("DELETE FROM rm_records WHERE section = 'enterprises'; DELETE FROM settings WHERE key = 'read_model_version';").unwrap();

    let storage = Arc::new(Storage::open(world._dir.path()).unwrap());
    assert_eq!(storage.projected_heads(&doc).unwrap(), None, "marked for projection");
    let hub = Hub::new(storage.clone(), Directory::open(storage.clone()).unwrap());
    assert!(hub.catch_up(doc).unwrap());
    let after = storage.stored_facts(&doc).unwrap();
    assert_eq!(after.changed_at, before.changed_at, "the time the last change arrived is kept");
    assert_eq!(LedgerFacts::from(after).records, LedgerFacts::from(before).records);
    assert_eq!(rows(&storage, &doc).iter().filter(|(s, _)| s == "enterprises").count(), 1);

    // Once: the next start finds it current.
    drop(hub);
    let storage = Storage::open(world._dir.path()).unwrap();
    assert!(storage.projected_heads(&doc).unwrap().is_some());
}
