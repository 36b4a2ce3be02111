use super::credentials::*;
use super::units::ImportCounts;
use super::*;
use crate::storage::Person;
use automerge::Change;
use ledger::org::{Role, Unit, UnitKind};

fn directory() -> (tempfile::TempDir, Arc<Directory>) {
    let dir = tempfile::tempdir().unwrap();
    let storage = Arc::new(Storage::open_for_tests(dir.path()).unwrap());
    (dir, Directory::open(storage).unwrap())
}

/// A city with one village and a cadre in it.
fn village(d: &Directory) -> (Unit, Person) {
    let city = d.add_unit("示范市", UnitKind::City, None, None).unwrap();
    let county = d.add_unit("示范县", UnitKind::County, Some(&city.id), None).unwrap();
    let town = d.add_unit("青石镇", UnitKind::Township, Some(&county.id), None).unwrap();
    let village = d.add_unit("青石村", UnitKind::Village, Some(&town.id), None).unwrap();
    let person = d.add_person("张伟", "zhangwei", None, None).unwrap();
    d.grant(&person.id, &village.id, Role::Cadre, None).unwrap();
    (village, person)
}

#[test]
fn an_activation_code_works_once_and_its_token_authenticates() {
    let (_dir, d) = directory();
    let (village, person) = village(&d);
    assert!(village.ledger.is_some() && d.storage.load(&DocumentId::parse(village.ledger.as_ref().unwrap()).unwrap()).unwrap().is_some(), "the village's ledger is stored with it");
    let code = d.issue_activation_code(&person.id, None).unwrap();
    let typed = code.to_lowercase().replace('-', " ");
    let new = d.activate(&typed, "张伟的手机", "10.0.0.1").unwrap();
    assert_eq!(new.device.person, person.id);
    assert_eq!(d.activate(&code, "second", "10.0.0.1").err(), Some(AuthError::Wrong("激活码无效、已使用或已过期")), "a code is used once");
    let (principal, device) = d.authenticate(&new.token).unwrap();
    assert_eq!((principal.person.as_str(), device.kind.as_str(), principal.retired), (person.id.as_str(), "phone", false));
    assert_eq!(d.authenticate("pl_made_up").err(), Some(Ok(Refused::Unknown)));
    // Only the hash is stored.
    assert!(d.storage.device_by_token(new.token.as_bytes()).unwrap().is_none());
    assert!(d.storage.device_by_token(&hash_secret(&new.token)).unwrap().is_some());
}

#[test]
fn an_expired_code_is_refused() {
    let (_dir, d) = directory();
    let (_, person) = village(&d);
    let code = "ABCD-EFGH-JK";
    d.storage.add_code(&hash_secret(&normalise_code(code)), Some(&person.id), "activate", now_secs() - 1, None, now_secs()).unwrap();
    assert!(matches!(d.activate(code, "x", "a"), Err(AuthError::Wrong(_))));
}

#[test]
fn retired_devices_still_authenticate_flagged_lost_ones_do_not() {
    let (_dir, d) = directory();
    let (_, person) = village(&d);
    let a = d.activate(&d.issue_activation_code(&person.id, None).unwrap(), "a", "x").unwrap();
    let b = d.activate(&d.issue_activation_code(&person.id, None).unwrap(), "b", "x").unwrap();
    let mut news = d.revoked.subscribe();
    d.set_device_status(&a.device.id, "retired", None).unwrap();
    d.set_device_status(&b.device.id, "lost", None).unwrap();
    assert_eq!(news.try_recv().unwrap(), Revoked { device: a.device.id.clone(), status: "retired".into() });
    assert!(d.authenticate(&a.token).unwrap().0.retired);
    assert_eq!(d.authenticate(&b.token).err(), Some(Ok(Refused::Lost)));
    assert!(d.set_device_status("nope", "lost", None).is_err());
}

#[test]
fn logins_are_rate_limited_per_account_and_per_address() {
    let (_dir, d) = directory();
    let sup = d.add_person("孙丽", "sunli", Some("correct horse"), None).unwrap();
    assert!(d.login("sunli", "correct horse", "1.1.1.1").is_ok());
    for _ in 0..MAX_FAILURES_PER_ACCOUNT {
        assert!(matches!(d.login("sunli", "wrong password", "1.1.1.1"), Err(AuthError::Wrong(_))));
    }
    assert_eq!(d.login("sunli", "correct horse", "2.2.2.2").err(), Some(AuthError::TooMany), "the account is locked for a while, from any address");
    for i in 0..MAX_FAILURES_PER_ADDRESS {
        let _ = d.login(&format!("nobody{i}"), "x", "3.3.3.3");
    }
    let other = d.add_person("李四", "lisi", Some("another secret"), None).unwrap();
    assert_eq!(d.login("lisi", "another secret", "3.3.3.3").err(), Some(AuthError::TooMany), "the address is locked");
    assert!(d.login("lisi", "another secret", "4.4.4.4").is_ok());
    let session = d.authenticate(&d.login("lisi", "another secret", "4.4.4.4").unwrap().token).unwrap().1;
    assert_eq!(session.kind, "session");
    assert!(session.expires_at.unwrap() > now_secs());
    let refused = d.storage.audit_log(100).unwrap().iter().filter(|e| e.action == "login_refused").count();
    assert!(refused >= MAX_FAILURES_PER_ACCOUNT, "refused logins are audited");
    let _ = (sup, other);
}

#[test]
fn an_actor_belongs_to_the_first_device_that_sent_it() {
    let (_dir, d) = directory();
    let (_, person) = village(&d);
    let a = d.activate(&d.issue_activation_code(&person.id, None).unwrap(), "a", "x").unwrap().device.id;
    let b = d.activate(&d.issue_activation_code(&person.id, None).unwrap(), "b", "x").unwrap().device.id;
    let (a, b) = (a.as_str(), b.as_str());
    let mut doc = automerge::AutoCommit::new();
    automerge::transaction::Transactable::put(&mut doc, automerge::ROOT, "k", 1).unwrap();
    doc.commit();
    let changes: Vec<Change> = doc.get_changes(&[]).into_iter().collect();
    assert_eq!(d.check_attribution(a, &changes), Ok(()));
    assert_eq!(d.check_attribution(a, &changes), Ok(()));
    assert!(d.check_attribution(b, &changes).unwrap_err().contains("belongs to another device"));
    // The binding is durable, not only cached.
    let fresh = Directory::open(d.storage.clone()).unwrap();
    assert!(fresh.check_attribution(b, &changes).is_err());

    let mut skeleton = UnitLedger::create(ActorId::random());
    let skeleton_changes: Vec<Change> = skeleton.doc_mut().get_changes(&[]).into_iter().collect();
    assert_eq!(d.check_attribution(b, &skeleton_changes), Ok(()), "the shared skeleton is no device's");
    let mut forged = automerge::AutoCommit::new().with_actor(ActorId::from([0u8; 16]));
    automerge::transaction::Transactable::put(&mut forged, automerge::ROOT, "k", 2).unwrap();
    forged.commit();
    assert!(d.check_attribution(b, &forged.get_changes(&[])).is_err(), "the zero actor writes nothing else");
}

#[test]
fn the_setup_code_makes_the_first_admin_once() {
    let (_dir, d) = directory();
    let code = d.issue_setup_code().unwrap().unwrap();
    assert!(matches!(d.setup(&code, "某市", "管理员", "admin", "short", "a"), Err(AuthError::Invalid(_))));
    let (admin, session) = d.setup(&code, "某市", "管理员", "admin", "a long password", "a").unwrap();
    assert!(d.org().grants.iter().any(|g| g.person == admin.id && g.role == Role::Admin));
    assert_eq!(session.device.kind, "session");
    assert!(matches!(d.setup(&code, "别的市", "x", "x2", "a long password", "a"), Err(AuthError::Invalid(_)) | Err(AuthError::Wrong(_))));
    assert_eq!(d.issue_setup_code().unwrap(), None, "no setup once someone exists");
}

#[test]
fn the_first_ledger_unit_adopts_an_older_data_directorys_demo_ledger() {
    let (_dir, d) = directory();
    let old = DocumentId::random();
    d.storage.create(&old, &UnitLedger::create(ActorId::random()).save()).unwrap();
    d.storage.put_setting("demo_ledger", &old.to_string()).unwrap();
    let (village, _) = village(&d);
    assert_eq!(village.ledger, Some(old.to_string()));
    let town = village.parent.clone().unwrap();
    let second = d.add_unit("第二个村", UnitKind::Village, Some(&town), None).unwrap();
    assert_ne!(second.ledger, Some(old.to_string()));
}

/// A new unit's ledger is stored already projected at its skeleton's heads (no rows), by hand
/// and by import: the read model never has to catch it up.
#[test]
fn a_new_ledger_is_projected_when_its_unit_is_made() {
    let (_dir, d) = directory();
    let (village, _) = village(&d);
    let admin = d.add_person("周敏", "zhoumin", None, None).unwrap();
    d.grant(&admin.id, &d.org().path(&village.id).last().unwrap().id, Role::Admin, None).unwrap();
    d.import(&admin.id, &rows(&[["示范市/示范县/白河镇", "乡镇", "", "", ""], ["示范市/示范县/白河镇/白河村", "村", "", "", ""]])).unwrap();
    let org = d.org();
    let imported = org.units.values().find(|u| u.name == "白河村").unwrap();
    for unit in [&village, imported] {
        let ledger = DocumentId::parse(unit.ledger.as_ref().unwrap()).unwrap();
        let layout = d.storage.load(&ledger).unwrap().unwrap();
        let stored_heads = UnitLedger::load(&layout.concatenated(), ActorId::random()).unwrap().heads();
        assert_eq!(d.storage.projected_heads(&ledger).unwrap(), Some(stored_heads), "{}", unit.name);
        let facts = d.storage.stored_facts(&ledger).unwrap();
        assert!(facts.records.is_empty());
        assert_eq!(facts.changed_at, None, "no change has reached the server");
    }
}

fn rows(lines: &[[&str; 5]]) -> Vec<ledger::org::import::Row> {
    lines
        .iter()
        .enumerate()
        .map(|(i, cells)| {
            let [unit_path, unit_kind, name, login, role] = cells.map(str::to_owned);
            ledger::org::import::Row { line: i + 2, unit_path, unit_kind, name, login, role }
        })
        .collect()
}

#[test]
fn an_import_adds_everything_or_nothing() {
    let (_dir, d) = directory();
    let (village, _) = village(&d);
    let admin = d.add_person("周敏", "zhoumin", None, None).unwrap();
    let county = d.org().path(&village.id).iter().find(|u| u.kind == UnitKind::County).unwrap().id.clone();
    d.grant(&admin.id, &county, Role::Admin, None).unwrap();
    let before = (d.org(), d.storage.people().unwrap().len());
    // One wrong row (a login already used by another person) among good ones: nothing lands.
    let bad = rows(&[
        ["示范市/示范县/白河镇", "乡镇", "", "", ""],
        ["示范市/示范县/白河镇/白河村", "村", "陈一", "chenyi", "干部"],
        ["示范市/示范县/白河镇/白河村", "", "张伟二", "zhangwei", ""],
    ]);
    let Err(ImportError::Rows(refused)) = d.import(&admin.id, &bad) else { panic!("a wrong row must refuse the import") };
    assert_eq!(refused.errors.iter().map(|e| e.line).collect::<Vec<_>>(), [4]);
    assert_eq!((d.org(), d.storage.people().unwrap().len()), before, "nothing of the good rows was stored");
    // The same without the wrong row: units with ledgers, a person who can activate a phone.
    let counts = d.import(&admin.id, &bad[..2]).unwrap();
    assert_eq!(counts, ImportCounts { units: 2, people: 1, grants: 1 });
    let org = d.org();
    let new_village = org.units.values().find(|u| u.name == "白河村").unwrap();
    let ledger = DocumentId::parse(new_village.ledger.as_ref().unwrap()).unwrap();
    assert!(d.storage.load(&ledger).unwrap().is_some(), "the new village's ledger is stored");
    let chen = d.storage.person_by_login("chenyi").unwrap().unwrap().0;
    assert_eq!(org.readable_ledgers(&chen.id).len(), 1);
    let code = d.issue_activation_code(&chen.id, Some(&admin.id)).unwrap();
    assert!(d.activate(&code, "陈一的手机", "10.0.0.9").is_ok());
    assert!(d.storage.audit_log(10).unwrap().iter().any(|e| e.action == "import"));
}

#[test]
fn a_password_is_checked_in_the_places_memory_and_only_against_our_parameters() {
    let hash = hash_password("correct horse").unwrap();
    let mut memory = Vec::new();
    assert!(password_matches("correct horse", &hash, &mut memory));
    assert!(!password_matches("correct horsf", &hash, &mut memory));
    assert_eq!(memory.len(), argon2::Params::DEFAULT.block_count(), "the memory is kept for the next check");
    assert!(password_matches("correct horse", &hash, &mut memory), "and reused");
    // A hash asking for more memory than this server's parameters is refused, not obeyed.
    let greedy = hash.replace("m=19456", "m=1048576");
    assert_ne!(greedy, hash);
    assert!(!password_matches("correct horse", &greedy, &mut memory));
    assert!(!password_matches("correct horse", "not a hash", &mut memory));
}
