//! Data directories written by earlier versions (`tests/fixtures/schema-N/`): the server of
//! today opens each, migrates it, finds it whole, and a phone syncs with it.

use crate::common;

use std::path::{Path, PathBuf};
use std::time::Duration;

use common::{End, Phone, Server};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// The visits every fixture holds: written by two phones of the tester, 12 each.
const PHONES: usize = 2;
const EDITS: usize = 12;

fn expected_value(phone: usize, edit: usize) -> String {
    format!("固定样本 {phone}-{edit}")
}

/// Not a test: writes the fixture of the schema this build writes, into
/// `tests/fixtures/schema-NEW/`. Run it once when a release changes the schema
/// (`cargo test --profile ci -p sync-server --test it -- --ignored write_fixture`), rename the
/// folder to the schema's number and commit it; fixtures are never rewritten afterwards.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore]
async fn write_fixture() {
    let data = common::sqlite_dir();
    let server = Server::start(data.path(), Duration::from_secs(5)).await;
    let id = server.ledger();
    for p in 0..PHONES {
        let mut phone = Phone::new(&format!("fixture-phone-{p}"), id);
        for e in 0..EDITS {
            common::put_visit(&mut phone.doc, &format!("fixture-{p}-{e}"), &expected_value(p, e));
            common::commit_signed(&mut phone.doc, common::TESTER, Some(&format!("fixture-{p}-{e}")));
        }
        assert_eq!(phone.sync(&server.url(), Duration::from_secs(20)).await, End::Quiet);
    }
    let out = fixtures().join("schema-NEW");
    std::fs::create_dir_all(&out).unwrap();
    let file = out.join("ledger.sqlite3");
    let _ = std::fs::remove_file(&file);
    // One consistent copy, without the write-ahead log beside it.
    let db = rusqlite::Connection::open(data.path().join("ledger.sqlite3")).unwrap();
    db.execute("VACUUM INTO ?1", [file.to_str().unwrap()]).unwrap();
    std::fs::write(out.join("ledger-id"), id.to_string()).unwrap();
    std::fs::write(out.join("tester-login"), "tester").unwrap();
    server.stop().await;
}

/// Every fixture, copied to a temporary data directory (the fixture itself is never written).
fn each_fixture() -> Vec<(String, tempfile::TempDir, ledger_sync::DocumentId)> {
    let mut found: Vec<_> = std::fs::read_dir(fixtures()).unwrap().flatten().filter(|e| e.file_name().to_string_lossy().starts_with("schema-")).collect();
    found.sort_by_key(|e| e.file_name());
    assert!(!found.is_empty(), "no fixtures in {}", fixtures().display());
    found
        .into_iter()
        .map(|e| {
            let copy = common::sqlite_dir();
            std::fs::copy(e.path().join("ledger.sqlite3"), copy.path().join(sync_server::DATABASE)).unwrap();
            let id = ledger_sync::DocumentId::parse(std::fs::read_to_string(e.path().join("ledger-id")).unwrap().trim()).unwrap();
            (e.file_name().to_string_lossy().into_owned(), copy, id)
        })
        .collect()
}

fn user_version(dir: &Path) -> i64 {
    rusqlite::Connection::open(dir.join(sync_server::DATABASE)).unwrap().query_row("PRAGMA user_version", [], |r| r.get(0)).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_earlier_data_directory_is_backed_up_migrated_found_whole_and_syncs() {
    for (name, data, id) in each_fixture() {
        let before = user_version(data.path());
        assert!(before < sync_server::SCHEMA_VERSION, "{name} is not an earlier schema");
        let server = Server::start(data.path(), Duration::from_secs(5)).await;
        // The automatic backup holds the data as it was, before any migration.
        let backups: Vec<_> = std::fs::read_dir(data.path().join(sync_server::backup::DIR)).unwrap().flatten().map(|e| e.path()).collect();
        assert_eq!(backups.len(), 1, "{name}: {backups:?}");
        assert!(backups[0].file_name().unwrap().to_string_lossy().starts_with(&format!("before-schema-{}", sync_server::SCHEMA_VERSION)));
        let saved = rusqlite::Connection::open(&backups[0]).unwrap();
        assert_eq!(saved.query_row("PRAGMA user_version", [], |r| r.get::<_, i64>(0)).unwrap(), before);
        let visits = |db: &rusqlite::Connection| db.query_row("SELECT COUNT(*) FROM rm_records", [], |r| r.get::<_, i64>(0)).unwrap();
        assert_eq!(visits(&saved), (PHONES * EDITS) as i64, "{name}: the backup before the migration lacks records");

        // Every visit the old version stored is served to a phone, and a new edit is taken.
        let mut reader = Phone::reader(id);
        assert_eq!(reader.sync(&server.url(), Duration::from_secs(20)).await, End::Quiet, "{name}");
        for p in 0..PHONES {
            for e in 0..EDITS {
                assert_eq!(common::visit_value(&reader.doc, &format!("fixture-{p}-{e}")), Some(expected_value(p, e)), "{name}: visit {p}-{e}");
            }
        }
        let mut phone = Phone::new("after-upgrade", id);
        phone.doc = reader.doc.clone().with_actor(automerge::ActorId::random());
        phone.edit("after-upgrade", 1);
        assert_eq!(phone.sync(&server.url(), Duration::from_secs(20)).await, End::Quiet, "{name}");
        assert_eq!(phone.confirmed_edits().len(), 1, "{name}: the edit after the upgrade was not stored");
        server.stop().await;

        assert_eq!(user_version(data.path()), sync_server::SCHEMA_VERSION, "{name}");
        let copy = common::sqlite_dir();
        let file = copy.path().join("after.sqlite3");
        sync_server::backup::backup(data.path(), &file).unwrap();
        let report = sync_server::data_check::check_file(&file).unwrap();
        assert!(report.is_whole(), "{name}: {:?}", report.problems);
        assert_eq!(report.records, PHONES * EDITS + 1, "{name}");
    }
}

#[test]
fn a_data_directory_from_a_newer_version_is_refused_untouched() {
    let (_, data, _) = each_fixture().pop().unwrap();
    let db = rusqlite::Connection::open(data.path().join(sync_server::DATABASE)).unwrap();
    db.execute_batch(&format!("PRAGMA user_version = {}", sync_server::SCHEMA_VERSION + 1)).unwrap();
    drop(db);
    let held = std::fs::read(data.path().join(sync_server::DATABASE)).unwrap();
    let refused = sync_server::Storage::open(data.path()).err().expect("a newer schema must be refused");
    assert!(refused.contains("newer version") && refused.contains(&format!("schema {}", sync_server::SCHEMA_VERSION + 1)), "{refused}");
    assert_eq!(std::fs::read(data.path().join(sync_server::DATABASE)).unwrap(), held);
    assert!(!data.path().join(sync_server::backup::DIR).exists());
}
