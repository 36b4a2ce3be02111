//! Backups taken while phones write, restores, and `check` finding what is wrong with a data
//! directory, over real sockets and real SQLite.

use crate::common;

use std::path::Path;
use std::time::{Duration, Instant};

use common::{End, Phone, Server};
use sync_server::backup;
use sync_server::data_check::check_file;

const QUIET: Duration = if cfg!(optimized) { Duration::from_secs(2) } else { Duration::from_secs(15) };

fn database(dir: &Path) -> std::path::PathBuf {
    dir.join(sync_server::DATABASE)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_taken_while_twelve_phones_write_restores_whole_with_every_edit_acknowledged_before_it() {
    let data = common::sqlite_dir();
    let server = Server::start(data.path(), Duration::from_secs(5)).await;
    let id = server.ledger();
    let mut first = Phone::new("p0", id);
    for i in 0..500 {
        common::put_visit(&mut first.doc, &format!("record-{i}"), &format!("走访记录 {i}"));
    }
    common::commit_signed(&mut first.doc, common::TESTER, None);
    assert_eq!(first.sync(&server.url(), Duration::from_secs(20)).await, End::Quiet);
    let base = first.doc.clone();

    let tasks = common::twelve_writers(&server.url(), id, &base, 40, 10, QUIET);
    // Half way through the writing, a backup, as `sync-server backup` makes it from outside.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let backups = tempfile::tempdir().unwrap();
    let file = backups.path().join("during.sqlite3");
    let began = Instant::now();
    let (d, f) = (data.path().to_owned(), file.clone());
    let made = tokio::task::spawn_blocking(move || backup::backup(&d, &f)).await.unwrap().unwrap();
    assert!(made.bytes > 0);
    let mut phones = common::all_quiet(tasks).await;
    server.stop().await;
    let before: usize = phones.iter_mut().map(|p| p.confirmed_before(began).len()).sum();
    let all: usize = phones.iter_mut().map(|p| p.confirmed_edits().len()).sum();
    assert!(before > 0 && before < all, "the backup must fall while edits are confirmed: {before} of {all} before it");

    let report = check_file(&file).unwrap();
    assert!(report.is_whole(), "{:?}", report.problems);
    assert_eq!(report.ledgers, 1);

    let restored = common::sqlite_dir();
    let done = backup::restore(&file, restored.path()).unwrap();
    assert!(done.kept.is_none());
    let server = Server::start(restored.path(), Duration::from_secs(5)).await;
    let mut reader = Phone::reader(id);
    assert_eq!(reader.sync(&server.url(), Duration::from_secs(30)).await, End::Quiet);
    for p in phones.iter_mut() {
        for hash in p.confirmed_before(began) {
            assert!(reader.doc.get_change_by_hash(&hash).is_some(), "{}'s edit {hash}, acknowledged before the backup began, is not in it", p.name);
        }
    }
    server.stop().await;
    assert!(check_file(&database(restored.path())).unwrap().is_whole());
}

/// A data directory with one ledger holding a few visits, no server on it (a restored copy:
/// a stopped test server's storage stays open in this process).
async fn some_data() -> (tempfile::TempDir, ledger_sync::DocumentId) {
    let data = common::sqlite_dir();
    let server = Server::start(data.path(), Duration::from_secs(5)).await;
    let id = server.ledger();
    let mut phone = Phone::new("p", id);
    for round in 0..3 {
        for i in 0..4 {
            phone.edit(&format!("v{i}"), round * 10 + i);
        }
        assert_eq!(phone.sync(&server.url(), Duration::from_secs(10)).await, End::Quiet);
    }
    server.stop().await;
    let copy = tempfile::tempdir().unwrap();
    let file = copy.path().join("copy.sqlite3");
    backup::backup(data.path(), &file).unwrap();
    backup::restore(&file, copy.path()).unwrap();
    std::fs::remove_file(file).unwrap();
    (copy, id)
}

fn damage(dir: &Path, sql: &str) {
    let db = rusqlite::Connection::open(database(dir)).unwrap();
    db.execute_batch(sql).unwrap();
}

fn problems(dir: &Path) -> Vec<String> {
    let report = check_file(&database(dir)).unwrap();
    assert_eq!(report.is_whole(), report.problems.is_empty());
    report.problems
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_finds_a_whole_directory_whole_and_names_each_kind_of_damage() {
    let (data, id) = some_data().await;
    let report = check_file(&database(data.path())).unwrap();
    assert!(report.is_whole(), "{:?}", report.problems);
    assert_eq!((report.documents, report.ledgers, report.records), (1, 1, 4));
    assert!(report.chunks >= 2, "the fixture must have several chunks: {}", report.chunks);
    let pristine = std::fs::read(database(data.path())).unwrap();
    let reset = |dir: &Path| {
        for side in ["-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{side}", database(dir).display()));
        }
        std::fs::write(database(dir), &pristine).unwrap();
    };

    // A chunk lost: the later ones depend on its changes.
    damage(data.path(), &format!("DELETE FROM chunks WHERE seq = (SELECT MIN(seq) FROM chunks WHERE doc = '{id}')"));
    let found = problems(data.path());
    assert!(found.iter().any(|p| p.contains("depend on are not stored")), "{found:?}");
    reset(data.path());

    // A chunk's bytes damaged.
    damage(data.path(), &format!("UPDATE chunks SET bytes = x'00112233' WHERE seq = (SELECT MAX(seq) FROM chunks WHERE doc = '{id}')"));
    let found = problems(data.path());
    assert!(found.iter().any(|p| p.contains("does not load")), "{found:?}");
    reset(data.path());

    // A chunk of no document.
    damage(data.path(), "PRAGMA foreign_keys = OFF; INSERT INTO chunks (doc, bytes) VALUES ('nobody', x'00');");
    let found = problems(data.path());
    assert!(found.iter().any(|p| p.contains("1 chunks belong to no document")), "{found:?}");
    reset(data.path());

    // The read model edited behind the documents' back, and a row too many.
    damage(data.path(), "UPDATE rm_records SET body = '{}' WHERE id = (SELECT MIN(id) FROM rm_records)");
    let found = problems(data.path());
    assert!(found.iter().any(|p| p.contains("read model differs from the document in 1 record")), "{found:?}");
    reset(data.path());
    damage(data.path(), &format!("INSERT INTO rm_records SELECT ledger, section, 'ffffffffffffffffffffffffffffffff', facts, body FROM rm_records WHERE ledger = '{id}' LIMIT 1"));
    let found = problems(data.path());
    assert!(found.iter().any(|p| p.contains("read model has extra 1 record")), "{found:?}");
    reset(data.path());

    // The directory: a grant at a unit that does not exist, a unit under itself.
    damage(data.path(), "PRAGMA foreign_keys = OFF; INSERT INTO grants SELECT person, 'no-such-unit', role FROM grants LIMIT 1;");
    let found = problems(data.path());
    assert!(found.iter().any(|p| p.contains("grants row") && p.contains("refers to a missing row of units")), "{found:?}");
    reset(data.path());
    damage(data.path(), "UPDATE units SET parent = id WHERE kind = 'township'");
    let found = problems(data.path());
    assert!(found.iter().any(|p| p.contains("is its own ancestor")), "{found:?}");
    reset(data.path());

    // A unit's ledger gone from storage.
    damage(data.path(), &format!("PRAGMA foreign_keys = OFF; DELETE FROM chunks WHERE doc = '{id}'; DELETE FROM documents WHERE id = '{id}';"));
    let found = problems(data.path());
    assert!(found.iter().any(|p| p.contains(&format!("ledger {id} is not stored"))), "{found:?}");
    reset(data.path());

    // Not a database at all.
    std::fs::write(database(data.path()), b"not a database, just bytes; long enough to be read as a header").unwrap();
    assert!(check_file(&database(data.path())).is_err());
    reset(data.path());
    assert!(problems(data.path()).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_damaged_backup_is_refused_and_the_directory_keeps_what_it_held() {
    let (data, _) = some_data().await;
    let (good, _) = some_data().await;
    let file = data.path().join("broken.sqlite3");
    backup::backup(data.path(), &file).unwrap();
    let db = rusqlite::Connection::open(&file).unwrap();
    db.execute_batch("UPDATE chunks SET bytes = x'00' WHERE seq = (SELECT MAX(seq) FROM chunks)").unwrap();
    drop(db);
    let held = std::fs::read(database(good.path())).unwrap();
    let refused = backup::restore(&file, good.path()).unwrap_err();
    assert!(refused.contains("is not whole; nothing was restored") && refused.contains("does not load"), "{refused}");
    assert_eq!(std::fs::read(database(good.path())).unwrap(), held);
    assert!(std::fs::read_dir(good.path()).unwrap().flatten().all(|e| !e.file_name().to_string_lossy().contains("restoring")));

    // A whole backup replaces it, and what it held is moved aside, not deleted.
    let whole = data.path().join("whole.sqlite3");
    backup::backup(data.path(), &whole).unwrap();
    let done = backup::restore(&whole, good.path()).unwrap();
    assert_eq!(std::fs::read(done.kept.unwrap()).unwrap(), held);
    assert!(check_file(&database(good.path())).unwrap().is_whole());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restore_waits_for_the_server_to_stop_and_a_backup_never_overwrites() {
    let (data, _) = some_data().await;
    let file = data.path().join("b.sqlite3");
    backup::backup(data.path(), &file).unwrap();
    let target = tempfile::tempdir().unwrap();
    let lock = backup::DataDirLock::take(target.path()).unwrap();
    assert!(backup::DataDirLock::take(target.path()).is_err(), "two servers on one data directory");
    let refused = backup::restore(&file, target.path()).unwrap_err();
    assert!(refused.contains("another sync-server uses"), "{refused}");
    assert!(!database(target.path()).exists());
    drop(lock);
    backup::restore(&file, target.path()).unwrap();
    let again = backup::backup(data.path(), &file).unwrap_err();
    assert!(again.contains("exists already"), "{again}");
    let empty = tempfile::tempdir().unwrap();
    assert!(backup::backup(empty.path(), &empty.path().join("x.sqlite3")).unwrap_err().contains("holds no data"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scheduled_backups_keep_the_newest_few() {
    let (data, _) = some_data().await;
    let dir = data.path().join(backup::DIR);
    let mut made = Vec::new(); // oldest first
    let storage = sync_server::Storage::open(data.path()).unwrap();
    for _ in 0..4 {
        made.push(backup::scheduled_backup(&storage, &dir, 2).unwrap().path);
    }
    let left: std::collections::BTreeSet<_> = std::fs::read_dir(&dir).unwrap().flatten().map(|e| e.path()).collect();
    assert_eq!(left, made[2..].iter().cloned().collect(), "the two newest stay");
    assert!(backup::newest(&dir).is_some());
    for f in left {
        assert!(check_file(&f).unwrap().is_whole());
    }
}

/// A phone's edits and one photo, stored by a server on `database`; what was written.
async fn written_on(database: &sync_server::Database, data: &Path) -> (ledger_sync::DocumentId, Vec<automerge::ChangeHash>, String, Vec<u8>) {
    let server = Server::start_shared(database, data).await;
    let id = server.ledger();
    let mut phone = Phone::new("p", id);
    for i in 0..6 {
        phone.edit(&format!("v{i}"), i);
    }
    assert_eq!(phone.sync(&server.url(), Duration::from_secs(10)).await, End::Quiet);
    let photo = b"\xff\xd8 a photo's bytes \xff\xd9".to_vec();
    let hash: String = <sha2::Sha256 as sha2::Digest>::digest(&photo).iter().map(|b| format!("{b:02x}")).collect();
    let unit = server.state.hub.directory.unit_of(&id).unwrap();
    server.state.hub.storage.put_photo(&unit, &hash, &photo, 1 << 30, sync_server::now_secs()).unwrap();
    server.stop().await;
    (id, phone.confirmed_edits(), hash, photo)
}

/// A reader syncing from a server on `database` has every one of `edits`.
async fn serves_all(database: &sync_server::Database, data: &Path, id: ledger_sync::DocumentId, edits: &[automerge::ChangeHash]) {
    let server = Server::start_shared(database, data).await;
    // The tester restored is the one who wrote: a cadre of the unit.
    let mut reader = Phone::reader(id);
    assert_eq!(reader.sync(&server.url(), Duration::from_secs(20)).await, End::Quiet);
    for hash in edits {
        assert!(reader.doc.get_change_by_hash(hash).is_some(), "edit {hash} is not served after the restore");
    }
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_backs_up_to_a_checked_file_that_restores_into_postgres_or_sqlite_and_sqlite_moves_to_postgres() {
    let source = sync_server::Database::Postgres(sync_server::test_postgres::database().unwrap());
    let home = tempfile::tempdir().unwrap();
    let (id, edits, hash, photo) = written_on(&source, home.path()).await;
    assert_eq!(edits.len(), 6);

    // Backed up while a server serves from it; the file is a backup like SQLite's.
    let running = Server::start_shared(&source, home.path()).await;
    let storage = sync_server::Storage::open_database(&source, home.path(), Duration::from_secs(5)).unwrap();
    let folder = tempfile::tempdir().unwrap();
    let file = folder.path().join("city.sqlite3");
    let made = backup::backup_storage(&storage, &file).unwrap();
    assert_eq!(made.photos_copied, 1);
    let report = check_file(&file).unwrap();
    assert!(report.is_whole(), "{:?}", report.problems);
    assert_eq!((report.schema, report.ledgers, report.photos), (sync_server::SCHEMA_VERSION, 1, 1));
    assert_eq!(std::fs::read(folder.path().join("photos").join(&hash[..2]).join(&hash)).unwrap(), photo);
    let whole = sync_server::data_check::check_storage(&storage).unwrap();
    assert!(whole.is_whole(), "{:?}", whole.problems);
    assert_eq!((whole.documents, whole.chunks, whole.photos), (report.documents, report.chunks, 1));
    assert!(backup::backup_storage(&storage, &file).unwrap_err().contains("exists already"));

    // Not into a database a server serves from: nothing changes.
    let refused = backup::restore_into(&file, &storage).unwrap_err();
    assert!(refused.contains("serves from"), "{refused}");
    running.stop().await;

    // Into another PostgreSQL database, empty: a second city from the first one's backup.
    let other = sync_server::Database::Postgres(sync_server::test_postgres::database().unwrap());
    let other_home = tempfile::tempdir().unwrap();
    let target = sync_server::Storage::open_database(&other, other_home.path(), Duration::from_secs(5)).unwrap();
    let done = backup::restore_into(&file, &target).unwrap();
    assert!(done.kept.is_none(), "an empty database keeps nothing aside");
    let again = sync_server::data_check::check_storage(&target).unwrap();
    assert!(again.is_whole(), "{:?}", again.problems);
    assert_eq!((again.documents, again.chunks, again.records), (whole.documents, whole.chunks, whole.records));
    assert_eq!(target.photo_content(&hash).unwrap(), Some(photo.clone()));
    drop(target);
    serves_all(&other, other_home.path(), id, &edits).await;

    // Into SQLite: the same file moves the city off PostgreSQL.
    let sqlite = common::sqlite_dir();
    backup::restore(&file, sqlite.path()).unwrap();
    assert!(check_file(&database(sqlite.path())).unwrap().is_whole());
    serves_all(&sync_server::Database::Sqlite, sqlite.path(), id, &edits).await;

    // And from SQLite back into the first database, which held data: that is kept first.
    let sqlite_file = folder.path().join("from-sqlite.sqlite3");
    backup::backup(sqlite.path(), &sqlite_file).unwrap();
    let storage = sync_server::Storage::open_database(&source, home.path(), Duration::from_secs(5)).unwrap();
    let done = backup::restore_into(&sqlite_file, &storage).unwrap();
    let kept = done.kept.expect("what the database held is backed up before it is replaced");
    assert!(check_file(&kept).unwrap().is_whole());
    assert!(sync_server::data_check::check_storage(&storage).unwrap().is_whole());
    drop(storage);
    serves_all(&source, home.path(), id, &edits).await;

    // A backup that is not whole (its photos left behind) is refused, and nothing changes.
    let bare = tempfile::tempdir().unwrap();
    std::fs::copy(&file, bare.path().join("bare.sqlite3")).unwrap();
    let storage = sync_server::Storage::open_database(&other, other_home.path(), Duration::from_secs(5)).unwrap();
    let refused = backup::restore_into(&bare.path().join("bare.sqlite3"), &storage).unwrap_err();
    assert!(refused.contains("not whole"), "{refused}");
    assert_eq!(storage.photo_content(&hash).unwrap(), Some(photo));
}
