//! Storage's suite. The tests that open storage with `open_for_tests` run on SQLite, and on
//! PostgreSQL when the run sets `PIONEER_TEST_DATABASE=postgres` (`.ci/run` runs both); those
//! that open it with `open` are about SQLite's own file.

use std::sync::Arc;

use super::*;

fn bytes(layout: &Layout<i64>) -> Vec<u8> {
    layout.concatenated()
}

#[test]
fn documents_chunks_and_compaction() {
    let dir = tempfile::tempdir().unwrap();
    let s = Storage::open_for_tests(dir.path()).unwrap();
    let doc = DocumentId::random();
    assert_eq!(s.load(&doc).unwrap(), None);
    assert!(s.create(&doc, b"S").unwrap());
    assert!(!s.create(&doc, b"X").unwrap(), "create must not overwrite");
    let a = s.append(&doc, b"a").unwrap();
    let b = s.append(&doc, b"b").unwrap();
    assert_eq!(bytes(&s.load(&doc).unwrap().unwrap()), b"Sab");
    let plan = Plan { id: 1, base: 0, chunks: vec![a, b], new_tag: 7 };
    assert_eq!(s.read_plan(&doc, &plan).unwrap().unwrap(), b"Sab");
    s.append(&doc, b"c").unwrap(); // written after the compactor read: must survive
    assert_eq!(s.replace(&doc, &plan, b"SAB").unwrap(), Outcome::Replaced { snapshot_bytes: 3 });
    let layout = s.load(&doc).unwrap().unwrap();
    assert_eq!((layout.tag, bytes(&layout)), (7, b"SABc".to_vec()));
    drop(s);
    let s = Storage::open_for_tests(dir.path()).unwrap();
    assert_eq!(bytes(&s.load(&doc).unwrap().unwrap()), b"SABc");
}

/// The race that lost confirmed edits: two compactions of one document overlap and the
/// older snapshot lands last. The second is refused and every chunk is kept.
#[test]
fn an_older_compaction_never_replaces_a_newer_one() {
    let dir = tempfile::tempdir().unwrap();
    let s = Storage::open_for_tests(dir.path()).unwrap();
    let doc = DocumentId::random();
    let c1 = s.append(&doc, b"1").unwrap();
    let c2 = s.append(&doc, b"2").unwrap();
    let older = Plan { id: 1, base: 0, chunks: vec![c1, c2], new_tag: 10 };
    let older_bytes = s.read_plan(&doc, &older).unwrap().unwrap();
    let c3 = s.append(&doc, b"3").unwrap();
    let newer = Plan { id: 2, base: 0, chunks: vec![c1, c2, c3], new_tag: 11 };
    let newer_bytes = s.read_plan(&doc, &newer).unwrap().unwrap();
    assert!(matches!(s.replace(&doc, &newer, &newer_bytes).unwrap(), Outcome::Replaced { .. }));
    assert_eq!(s.replace(&doc, &older, &older_bytes).unwrap(), Outcome::Stale);
    assert_eq!(s.read_plan(&doc, &older).unwrap(), None, "a stale plan reads nothing");
    let layout = s.load(&doc).unwrap().unwrap();
    assert_eq!((layout.tag, bytes(&layout)), (11, b"123".to_vec()));
    assert_eq!(s.layout_sizes(&doc).unwrap(), Some((11, 3, vec![])));
}

#[test]
fn a_compaction_gives_the_pages_of_deleted_chunks_back_to_the_disk() {
    let dir = tempfile::tempdir().unwrap();
    let s = Storage::open(dir.path()).unwrap();
    let doc = DocumentId::random();
    let small = s.page_count().unwrap();
    let big: Vec<u8> = (0..8 * 1024 * 1024u32).map(|i| (i.wrapping_mul(2654435761) >> 13) as u8).collect();
    let c1 = s.append(&doc, &big).unwrap();
    let grown = s.page_count().unwrap();
    assert!(grown > small + 1_000, "{small} -> {grown}");
    let plan = Plan { id: 1, base: 0, chunks: vec![c1], new_tag: 7 };
    assert!(matches!(s.replace(&doc, &plan, b"small snapshot").unwrap(), Outcome::Replaced { .. }));
    let after = s.page_count().unwrap();
    assert!(after < small + 20, "the 8 MB chunk's pages stayed: {small} -> {grown} -> {after}");
}

#[test]
fn a_database_from_before_incremental_vacuum_is_converted() {
    let dir = tempfile::tempdir().unwrap();
    {
        let db = Connection::open(dir.path().join("ledger.sqlite3")).unwrap();
        db.execute_batch("CREATE TABLE documents (id TEXT PRIMARY KEY, snapshot BLOB NOT NULL, created_at INTEGER NOT NULL DEFAULT (unixepoch()));").unwrap();
        assert_eq!(db.query_row("PRAGMA auto_vacuum", [], |r| r.get::<_, i64>(0)).unwrap(), 0);
    }
    let s = Storage::open(dir.path()).unwrap();
    assert_eq!(s.sqlite("test").unwrap().query_row("PRAGMA auto_vacuum", [], |r| r.get::<_, i64>(0)).unwrap(), INCREMENTAL);
}

#[test]
fn a_read_model_from_session_9_keeps_its_rows_in_the_table_as_it_is_now() {
    let dir = tempfile::tempdir().unwrap();
    let doc = DocumentId::random();
    {
        let db = Connection::open(dir.path().join("ledger.sqlite3")).unwrap();
        db.execute_batch("CREATE TABLE rm_ledgers (ledger TEXT PRIMARY KEY, heads BLOB NOT NULL, changed_at INTEGER NOT NULL);").unwrap();
        db.execute("INSERT INTO rm_ledgers VALUES (?1, x'', 42)", [doc.to_string()]).unwrap();
    }
    let s = Storage::open(dir.path()).unwrap();
    let sql: String = s.sqlite("test").unwrap().query_row("SELECT sql FROM sqlite_master WHERE name = 'rm_ledgers'", [], |r| r.get(0)).unwrap();
    assert!(sql.contains("WITHOUT ROWID"), "{sql}");
    // Its rows lack enterprises: it is projected again at the start, as never projected.
    assert_eq!(s.projected_heads(&doc).unwrap(), None);
    assert_eq!(s.sqlite("test").unwrap().query_row("SELECT changed_at FROM rm_ledgers", [], |r| r.get::<_, i64>(0)).unwrap(), 42);
    drop(s);
    // Opening it again changes nothing.
    let s = Storage::open(dir.path()).unwrap();
    assert_eq!(s.sqlite("test").unwrap().query_row("SELECT changed_at FROM rm_ledgers", [], |r| r.get::<_, i64>(0)).unwrap(), 42);
    assert_eq!(s.projected_heads(&doc).unwrap(), None);
}

#[test]
fn a_database_from_before_tags_opens_and_compacts() {
    let dir = tempfile::tempdir().unwrap();
    {
        let db = Connection::open(dir.path().join("ledger.sqlite3")).unwrap();
        db.execute_batch(
            "CREATE TABLE documents (id TEXT PRIMARY KEY, snapshot BLOB NOT NULL, created_at INTEGER NOT NULL DEFAULT (unixepoch()));
             CREATE TABLE chunks (seq INTEGER PRIMARY KEY AUTOINCREMENT, doc TEXT NOT NULL REFERENCES documents(id), bytes BLOB NOT NULL);",
        )
        .unwrap();
    }
    let s = Storage::open(dir.path()).unwrap();
    let doc = DocumentId::random();
    s.create(&doc, b"S").unwrap();
    let layout = s.load(&doc).unwrap().unwrap();
    assert_eq!(layout.tag, 0);
}

#[test]
fn sync_states_are_per_storage_id() {
    let dir = tempfile::tempdir().unwrap();
    let s = Storage::open_for_tests(dir.path()).unwrap();
    let doc = DocumentId::random();
    s.put_sync_state("phone-1", &doc, b"one").unwrap();
    s.put_sync_state("phone-1", &doc, b"two").unwrap();
    assert_eq!(s.sync_states("phone-1").unwrap(), vec![(doc, b"two".to_vec())]);
    assert!(s.sync_states("phone-2").unwrap().is_empty());
}

fn open_any() -> (tempfile::TempDir, Storage) {
    let dir = tempfile::tempdir().unwrap();
    let s = Storage::open_for_tests(dir.path()).unwrap();
    (dir, s)
}

fn village(name: &str) -> ledger::org::Unit {
    ledger::org::Unit { id: format!("u-{name}"), name: name.into(), kind: ledger::org::UnitKind::Village, parent: None, ledger: Some(DocumentId::random().to_string()) }
}

fn person(id: &str, login: &str) -> Person {
    Person { id: id.into(), name: format!("{id}的名字"), login: login.into() }
}

#[test]
fn the_directory_keeps_units_people_roles_and_refuses_a_taken_login_without_a_trace() {
    use ledger::org::{Grant, Role};
    let (_dir, s) = open_any();
    let unit = village("青石村");
    let new = NewLedger { snapshot: b"skeleton".to_vec(), heads: vec![] };
    s.add_unit(&unit, Some(&new), Some("admin"), 10).unwrap();
    let doc = DocumentId::parse(unit.ledger.as_ref().unwrap()).unwrap();
    assert_eq!(bytes(&s.load(&doc).unwrap().unwrap()), b"skeleton");
    assert_eq!(s.projected_heads(&doc).unwrap(), Some(vec![]), "a new ledger is projected at its skeleton");
    s.add_person(&person("p1", "zhang"), Some("hash"), Some("admin"), 11).unwrap();
    let refused = s.add_person(&person("p2", "zhang"), None, Some("admin"), 12).unwrap_err();
    assert!(refused.contains("zhang"), "{refused}");
    assert_eq!(s.people_count().unwrap(), 1);
    let grant = Grant { person: "p1".into(), unit: unit.id.clone(), role: Role::Cadre };
    s.grant(&grant, Some("admin"), 13).unwrap();
    s.grant(&grant, Some("admin"), 14).unwrap();
    let org = s.org().unwrap();
    assert_eq!(org.units[&unit.id], unit);
    assert_eq!(org.grants.len(), 1);
    assert_eq!(s.person_by_login("zhang").unwrap(), Some((person("p1", "zhang"), Some("hash".into()))));
    assert_eq!(s.person("p2").unwrap(), None);
    // An import with a taken login adds nothing at all.
    let other = village("河口村");
    let refused = s.import(&[(other.clone(), Some(new.clone()))], &[person("p3", "li"), person("p4", "zhang")], &[], Some("admin"), 15).unwrap_err();
    assert!(refused.contains("zhang"), "{refused}");
    assert!(!s.org().unwrap().units.contains_key(&other.id));
    assert_eq!(s.people().unwrap(), vec![person("p1", "zhang")]);
    s.import(&[(other.clone(), Some(new))], &[person("p3", "li")], &[Grant { person: "p3".into(), unit: other.id.clone(), role: Role::Secretary }], Some("admin"), 16).unwrap();
    assert_eq!(s.people().unwrap().iter().map(|p| p.login.as_str()).collect::<Vec<_>>(), ["li", "zhang"]);
    let log = s.audit_log(10).unwrap();
    assert_eq!(log.iter().map(|e| e.action.as_str()).collect::<Vec<_>>(), ["import", "grant", "grant", "add_person", "add_unit"], "newest first; nothing of what was refused");
}

#[test]
fn codes_work_once_for_their_purpose_before_they_expire() {
    let (_dir, s) = open_any();
    s.add_person(&person("p1", "zhang"), None, None, 1).unwrap();
    s.add_code(b"c1", Some("p1"), "activate", 100, None, 1).unwrap();
    s.add_code(b"setup", None, "setup", 100, None, 1).unwrap();
    assert_eq!(s.use_code(b"c1", "setup", 50).unwrap(), None, "another purpose");
    assert_eq!(s.use_code(b"c1", "activate", 100).unwrap(), None, "expired");
    assert_eq!(s.use_code(b"c1", "activate", 50).unwrap(), Some(Some("p1".into())));
    assert_eq!(s.use_code(b"c1", "activate", 51).unwrap(), None, "used once, ever");
    assert_eq!(s.use_code(b"setup", "setup", 50).unwrap(), Some(None));
    assert_eq!(s.use_code(b"nope", "setup", 50).unwrap(), None);
}

/// Device d1, p1's phone, made at 5.
fn phone_of_p1() -> Device {
    Device {
        id: "d1".into(),
        person: "p1".into(),
        name: "手机".into(),
        kind: "phone".into(),
        status: "active".into(),
        created_at: 5,
        last_seen: None,
        app_version: None,
        expires_at: None,
    }
}

#[test]
fn devices_their_status_expiry_and_actors() {
    let (_dir, s) = open_any();
    s.add_person(&person("p1", "zhang"), None, None, 1).unwrap();
    let device = phone_of_p1();
    s.add_device(&device, b"token-hash", 5).unwrap();
    s.add_device(&Device { id: "d2".into(), created_at: 6, ..device.clone() }, b"other-hash", 6).unwrap();
    assert_eq!(s.device_by_token(b"token-hash").unwrap(), Some(device.clone()));
    assert_eq!(s.device_by_token(b"unknown").unwrap(), None);
    s.touch_device("d1", Some("1.2.0"), 20).unwrap();
    s.touch_device("d1", None, 21).unwrap();
    let seen = s.device("d1").unwrap().unwrap();
    assert_eq!((seen.last_seen, seen.app_version.as_deref()), (Some(21), Some("1.2.0")));
    assert!(s.set_device_status("d1", "retired", Some(1_000), Some("admin"), 22).unwrap());
    assert_eq!(s.device("d1").unwrap().unwrap().expires_at, Some(1_000));
    assert!(s.set_device_status("d1", "retired", Some(2_000), Some("admin"), 23).unwrap());
    assert_eq!(s.device("d1").unwrap().unwrap().expires_at, Some(1_000), "never later than it was");
    assert!(s.set_device_status("d1", "lost", None, Some("admin"), 24).unwrap());
    assert_eq!(s.device("d1").unwrap().unwrap().status, "lost");
    assert!(!s.set_device_status("nobody", "lost", None, Some("admin"), 25).unwrap());
    assert_eq!(s.devices().unwrap().iter().map(|d| d.id.as_str()).collect::<Vec<_>>(), ["d1", "d2"]);
    // An actor belongs to the first device that sent it; the board's to nobody's.
    assert_eq!(s.bind_actor(b"actor-1", "d2").unwrap(), "d2");
    assert_eq!(s.bind_actor(b"actor-1", "d1").unwrap(), "d2");
    assert_eq!(s.actor_owner(b"actor-1").unwrap(), Some(("d2".into(), "p1".into())));
    assert_eq!(s.person_actors("p1").unwrap(), vec![b"actor-1".to_vec()]);
    s.claim_board_actor(b"board").unwrap();
    s.claim_board_actor(b"board").unwrap();
    assert_eq!(s.bind_actor(b"board", "d1").unwrap(), crate::directory::BOARD_OWNER);
    assert_eq!(s.actor_owner(b"board").unwrap(), None);
}

#[test]
fn the_board_keeps_contacts_codes_and_keys() {
    let (dir, s) = open_any();
    s.put_contact("r1", "L1", "13800000000", 1).unwrap();
    s.put_contact("r1", "L1", "13900000000", 2).unwrap();
    assert_eq!(s.contact("L1", "r1").unwrap().as_deref(), Some("13900000000"));
    assert_eq!(s.contact("L2", "r1").unwrap(), None, "another ledger's secretary sees nothing");
    assert!(s.use_rating_code("code", "L1", 3).unwrap());
    assert!(!s.use_rating_code("code", "L1", 4).unwrap(), "once");
    assert!(s.rating_code_used("code").unwrap());
    s.unuse_rating_code("code").unwrap();
    assert!(!s.rating_code_used("code").unwrap(), "given back when its rating was not stored");
    assert!(s.use_rating_code("code", "L1", 5).unwrap());
    s.code_rated("code", "r9").unwrap();
    s.unuse_rating_code("code").unwrap();
    assert!(s.rating_code_used("code").unwrap(), "a code whose rating is stored is never given back");
    s.add_person(&person("p1", "zhang"), None, None, 1).unwrap();
    let device = phone_of_p1();
    s.add_device(&device, b"t", 5).unwrap();
    assert_eq!(s.existing_device_key("d1").unwrap(), None);
    let key = s.device_key("d1").unwrap();
    assert_eq!(key.len(), 32);
    assert_eq!(s.device_key("d1").unwrap(), key);
    assert_eq!(s.existing_device_key("d1").unwrap(), Some(key));
    let secret = s.board_secret().unwrap();
    drop(s);
    let s = Storage::open_for_tests(dir.path()).unwrap();
    assert_eq!(s.board_secret().unwrap(), secret, "made once per data directory");
}

#[test]
fn office_rounds_list_newest_first() {
    let (_dir, s) = open_any();
    let round = |id: &str, node: &str, at: i64| OfficeRound {
        id: id.into(),
        kind: "plan".into(),
        node: node.into(),
        title: format!("工作{id}"),
        deadline: "2026-12-31".into(),
        body: String::new(),
        units: vec!["a".into(), "b".into()],
        opened_by: "p".into(),
        opened_at: at,
    };
    s.put_office_round(&round("r1", "n1", 1_000), "r1").unwrap();
    s.put_office_round(&round("r2", "n2", 3_000), "r2").unwrap();
    s.put_office_round(&round("r3", "n1", 2_000), "r3").unwrap();
    assert!(s.put_office_round(&round("r3", "n1", 2_000), "again").is_err(), "one id once");
    assert_eq!(s.office_rounds(&["n1", "n2"]).unwrap().iter().map(|r| r.id.as_str()).collect::<Vec<_>>(), ["r2", "r3", "r1"]);
    assert_eq!(s.office_round("r3").unwrap(), Some(round("r3", "n1", 2_000)));
    assert_eq!(s.audit_log(10).unwrap().len(), 3);
}

#[test]
fn an_award_round_from_nomination_to_decision() {
    let (_dir, s) = open_any();
    let round = AwardRound {
        id: "a1".into(),
        node: "city".into(),
        title: "2026年度先锋".into(),
        kind: "person".into(),
        quota: 2,
        nominate_by: "2026-12-20".into(),
        publicity_days: 5,
        bodies: vec!["纪委".into()],
        opened_by: "office".into(),
        opened_at: 1_000,
        publicity_from: String::new(),
        publicity_to: String::new(),
        decided_at: 0,
        decided_by: String::new(),
        decision: String::new(),
    };
    s.put_award_round(&round).unwrap();
    let nomination = |id: &str, at: i64| Nomination {
        id: id.into(),
        round: "a1".into(),
        unit: "u".into(),
        person: format!("p-{id}"),
        name: format!("名{id}"),
        post: "书记".into(),
        deeds: "事迹".into(),
        summary: "简要".into(),
        evidence: vec![("visits".into(), "v1".into())],
        by_person: "sec".into(),
        at,
        shortlisted: false,
        commended: false,
    };
    s.put_nomination(&nomination("n1", 2_000), "n1").unwrap();
    s.put_nomination(&nomination("n2", 3_000), "n2").unwrap();
    s.set_shortlisted("n1", true, "office", 4_000).unwrap();
    // An edit by the secretary replaces it, and takes it off the list until looked at again.
    s.put_nomination(&Nomination { deeds: "改过的事迹".into(), ..nomination("n1", 2_000) }, "n1 again").unwrap();
    let n1 = s.nomination("n1").unwrap().unwrap();
    assert_eq!((n1.deeds.as_str(), n1.shortlisted), ("改过的事迹", false));
    s.put_opinion(&Opinion { nomination: "n1".into(), body: "纪委".into(), opinion: "无意见".into(), given_on: "2026-12-01".into(), recorded_by: "office".into(), at: 5_000 })
        .unwrap();
    s.put_opinion(&Opinion { nomination: "n1".into(), body: "纪委".into(), opinion: "同意".into(), given_on: "2026-12-02".into(), recorded_by: "office".into(), at: 5_001 })
        .unwrap();
    assert_eq!(s.opinions("a1").unwrap().iter().map(|o| o.opinion.as_str()).collect::<Vec<_>>(), ["同意"], "the newer replaces it");
    s.set_shortlisted("n1", true, "office", 6_000).unwrap();
    s.set_shortlisted("n2", true, "office", 6_001).unwrap();
    s.start_publicity("a1", "2026-12-21", "2026-12-26", "office", 7_000).unwrap();
    let objection = Objection {
        id: "o1".into(),
        round: "a1".into(),
        nomination: "n2".into(),
        text: "不属实".into(),
        contact: "139".into(),
        filed_at: 8_000,
        finding: String::new(),
        upheld: false,
        settled_by: String::new(),
        settled_at: 0,
    };
    s.put_objection(&objection).unwrap();
    s.settle_objection(&objection, "经核查属实", true, "office", 9_000).unwrap();
    let settled = s.objection("o1").unwrap().unwrap();
    assert_eq!((settled.upheld, settled.settled_at, settled.finding.as_str()), (true, 9_000, "经核查属实"));
    assert!(!s.nomination("n2").unwrap().unwrap().shortlisted, "an upheld objection takes it off");
    s.decide_award("a1", "市委〔2026〕1号", "office", 10_000).unwrap();
    assert_eq!(s.commended().unwrap().iter().map(|n| n.id.as_str()).collect::<Vec<_>>(), ["n1"]);
    let decided = s.award_round("a1").unwrap().unwrap();
    assert_eq!((decided.decision.as_str(), decided.publicity_to.as_str(), decided.bodies), ("市委〔2026〕1号", "2026-12-26", vec!["纪委".to_owned()]));
    assert_eq!(s.nominations("a1").unwrap().len(), 2);
    assert_eq!(s.objections("a1").unwrap().len(), 1);
    // Withdrawn while nominating: gone with its opinions.
    s.put_nomination(&nomination("n3", 11_000), "n3").unwrap();
    s.put_opinion(&Opinion { nomination: "n3".into(), body: "纪委".into(), opinion: "同意".into(), given_on: "2026-12-02".into(), recorded_by: "office".into(), at: 11_001 })
        .unwrap();
    s.withdraw_nomination("n3", "sec", 11_002, "n3").unwrap();
    assert_eq!(s.nominations("a1").unwrap().iter().map(|n| n.id.as_str()).collect::<Vec<_>>(), ["n1", "n2"]);
    assert_eq!(s.opinions("a1").unwrap().len(), 1);
}

#[test]
fn settings_and_unit_last_sync() {
    use ledger::org::{Grant, Role};
    let (_dir, s) = open_any();
    assert_eq!(s.setting("k").unwrap(), None);
    s.put_settings(&[("k", "1".into()), ("j", "2".into())]).unwrap();
    s.put_setting("k", "3").unwrap();
    assert_eq!((s.setting("k").unwrap(), s.setting("j").unwrap()), (Some("3".into()), Some("2".into())));
    s.probe_write(42).unwrap();
    assert!(s.bytes_on_disk() > 0);
    let unit = village("青石村");
    s.add_unit(&unit, None, None, 1).unwrap();
    s.add_person(&person("p1", "zhang"), None, None, 1).unwrap();
    s.grant(&Grant { person: "p1".into(), unit: unit.id.clone(), role: Role::Cadre }, None, 1).unwrap();
    let device = phone_of_p1();
    s.add_device(&device, b"t", 5).unwrap();
    assert!(s.unit_last_sync().unwrap().is_empty());
    s.touch_device("d1", None, 77).unwrap();
    assert_eq!(s.unit_last_sync().unwrap().get(&unit.id), Some(&77));
}

/// Two server processes on one PostgreSQL: writers on both append to one document while both
/// compact it, again and again. Every chunk either stays or is folded into the snapshot by a
/// compaction that held it: the bytes stored are exactly what was appended, in order.
#[test]
fn two_processes_appending_and_compacting_one_document_lose_nothing() {
    let url = crate::test_postgres::database().unwrap();
    let open = || Arc::new(Storage::open_database(&Database::Postgres(url.clone()), tempfile::tempdir().unwrap().path(), Duration::from_secs(5)).unwrap());
    let (a, b) = (open(), open());
    let doc = DocumentId::random();
    a.create(&doc, b"").unwrap();
    let mut threads = Vec::new();
    for (w, s) in [(0u8, a.clone()), (1, b.clone()), (2, a.clone()), (3, b.clone())] {
        let doc = doc.clone();
        threads.push(std::thread::spawn(move || {
            for i in 0..60u8 {
                s.append(&doc, &[w, i]).unwrap();
            }
        }));
    }
    for (c, s) in [(0u64, a.clone()), (1, b.clone())] {
        let doc = doc.clone();
        threads.push(std::thread::spawn(move || {
            for round in 0..40u64 {
                let Some((tag, _, chunks)) = s.layout_sizes(&doc).unwrap() else { continue };
                let plan = Plan { id: round, base: tag, chunks: chunks.iter().map(|(k, _)| *k).collect(), new_tag: 1 + round * 2 + c };
                let Some(bytes) = s.read_plan(&doc, &plan).unwrap() else { continue };
                s.replace(&doc, &plan, &bytes).unwrap();
            }
        }));
    }
    for t in threads {
        t.join().unwrap();
    }
    let stored = bytes(&a.load(&doc).unwrap().unwrap());
    assert_eq!(stored.len(), 4 * 60 * 2, "every chunk once");
    for w in 0..4u8 {
        let mine: Vec<u8> = stored.chunks(2).filter(|c| c[0] == w).map(|c| c[1]).collect();
        assert_eq!(mine, (0..60u8).collect::<Vec<_>>(), "writer {w}'s chunks in the order it wrote them");
    }
    assert_eq!(bytes(&b.load(&doc).unwrap().unwrap()), stored, "both processes read the same");
}

/// A one-time code used at once from two processes works for exactly one of them.
#[test]
fn a_code_used_at_once_on_two_processes_works_once() {
    let url = crate::test_postgres::database().unwrap();
    let open = || Arc::new(Storage::open_database(&Database::Postgres(url.clone()), tempfile::tempdir().unwrap().path(), Duration::from_secs(5)).unwrap());
    let (a, b) = (open(), open());
    a.add_person(&person("p1", "zhang"), None, None, 1).unwrap();
    for round in 0..20u8 {
        let code = [round];
        a.add_code(&code, Some("p1"), "activate", 100, None, 1).unwrap();
        let barrier = Arc::new(std::sync::Barrier::new(2));
        let uses: Vec<_> = [a.clone(), b.clone()]
            .into_iter()
            .map(|s| {
                let barrier = barrier.clone();
                std::thread::spawn(move || {
                    barrier.wait();
                    s.use_code(&code, "activate", 50).unwrap()
                })
            })
            .collect();
        let worked = uses.into_iter().map(|t| t.join().unwrap()).filter(|u| u.is_some()).count();
        assert_eq!(worked, 1, "round {round}");
    }
}

#[test]
fn a_postgres_database_from_a_newer_server_is_refused() {
    let url = crate::test_postgres::database().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let s = Storage::open_database(&Database::Postgres(url.clone()), dir.path(), Duration::from_secs(5)).unwrap();
    s.put_setting("schema_version", &(SCHEMA_VERSION + 1).to_string()).unwrap();
    drop(s);
    let refused = Storage::open_database(&Database::Postgres(url), dir.path(), Duration::from_secs(5)).err().unwrap();
    assert!(refused.contains("newer version"), "{refused}");
}

/// The desk's exports are bounded across every process: the places are held in PostgreSQL,
/// given back when dropped, and by PostgreSQL when a process goes away.
#[test]
fn places_are_shared_by_every_process_and_freed_when_one_goes() {
    let url = crate::test_postgres::database().unwrap();
    let open = || Storage::open_database(&Database::Postgres(url.clone()), tempfile::tempdir().unwrap().path(), Duration::from_secs(5)).unwrap();
    let (a, b) = (open(), open());
    let first = a.shared_place(7, 2).unwrap().expect("a place");
    let second = b.shared_place(7, 2).unwrap().expect("a second place, on the other process");
    assert!(a.shared_place(7, 2).unwrap().is_none(), "a third is refused on either");
    assert!(b.shared_place(7, 2).unwrap().is_none());
    assert!(b.shared_place(8, 2).unwrap().is_some(), "another kind of place is another bound");
    drop(first);
    let third = b.shared_place(7, 2).unwrap().expect("a place again once one was given back");
    // The process holding two goes away without giving them back.
    let c = open();
    drop((second, third));
    let held: Vec<_> = (0..2).map(|_| c.shared_place(9, 2).unwrap().expect("a place")).collect();
    assert!(a.shared_place(9, 2).unwrap().is_none());
    std::mem::forget(held);
    drop(c);
    let back = (0..50).find_map(|_| {
        std::thread::sleep(Duration::from_millis(20));
        a.shared_place(9, 2).unwrap()
    });
    assert!(back.is_some(), "the places of a process gone are free again");
    // And SQLite, which one process owns, always has a place (its own bound is the bound).
    let dir = tempfile::tempdir().unwrap();
    assert!(Storage::open(dir.path()).unwrap().shared_place(7, 0).unwrap().is_some());
}
