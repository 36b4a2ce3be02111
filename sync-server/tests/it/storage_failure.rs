//! Storage failing in the middle of syncs (the database locked by another process, the disk
//! full, writes failing with an I/O error): nothing is acknowledged that is not stored, memory never runs ahead of storage, and
//! once the failure clears every document loads and every phone's changes arrive.

use crate::common;

use std::path::Path;
use std::time::Duration;

use common::{End, Phone, Server};

/// A short wait for locks, so a locked database fails a write quickly.
async fn start(data: &Path) -> Server {
    Server::start(data, Duration::from_millis(200)).await
}

const BUDGET: Duration = Duration::from_secs(10);

/// Holds the database's write lock from another connection, as another process would.
fn lock_database(data: &Path) -> rusqlite::Connection {
    let other = rusqlite::Connection::open(data.join("ledger.sqlite3")).unwrap();
    other.execute_batch("BEGIN EXCLUSIVE").unwrap();
    other
}

async fn check_failure_and_recovery(fail: impl Fn(&Server, &Path) -> Box<dyn FnOnce()>) {
    let data = common::sqlite_dir();
    let server = start(data.path()).await;
    let id = server.ledger();
    let mut phone = Phone::new("phone", id);
    phone.edit("c1", 1);
    assert_eq!(phone.sync(&server.url(), BUDGET).await, End::Quiet);
    assert_eq!(phone.confirmed_edits().len(), 1);
    let mut colleague = Phone::new("colleague", id);
    assert_eq!(colleague.sync(&server.url(), BUDGET).await, End::Quiet);

    let clear = fail(&server, data.path());
    // c2 cannot be stored: the phone is told so, and nothing confirms it.
    phone.edit_long("c2", 200_000);
    assert_eq!(phone.sync(&server.url(), BUDGET).await, End::Closed);
    assert!(phone.closed.as_deref().unwrap_or_default().contains("could not store"), "{:?}", phone.closed);
    assert_eq!(phone.confirmed_edits().len(), 1, "a change storage refused was confirmed");
    // Memory did not run ahead of storage: a colleague syncing now does not get c2.
    let before = colleague.doc.get_heads();
    colleague.sync(&server.url(), BUDGET).await;
    assert_eq!(colleague.doc.get_heads(), before, "a change that was never stored reached another phone");
    // c3, made while storage still fails, is refused too (today it was stored without c2).
    phone.edit_long("c3", 200_000);
    assert_eq!(phone.sync(&server.url(), BUDGET).await, End::Closed);
    assert_eq!(phone.confirmed_edits().len(), 1);

    clear();
    assert_eq!(phone.sync(&server.url(), BUDGET).await, End::Quiet, "{:?}", phone.closed);
    assert_eq!(phone.confirmed_edits().len(), 3);

    // After a restart the document loads, with every change.
    server.stop().await;
    let server = start(data.path()).await;
    let mut reader = Phone::reader(id);
    assert_eq!(reader.sync(&server.url(), BUDGET).await, End::Quiet);
    assert!(reader.errors.is_empty(), "{:?}", reader.errors);
    assert_eq!(reader.doc.get_heads(), phone.doc.get_heads());
    assert_eq!(colleague.sync(&server.url(), BUDGET).await, End::Quiet);
    assert_eq!(colleague.doc.get_heads(), phone.doc.get_heads());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_locked_database_acknowledges_nothing_and_recovers() {
    check_failure_and_recovery(|_, data| {
        let lock = lock_database(data);
        Box::new(move || lock.execute_batch("ROLLBACK").unwrap())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_database_acknowledges_nothing_and_recovers() {
    check_failure_and_recovery(|server, _| {
        let storage = server.state.hub.storage.clone();
        let pages = storage.page_count().unwrap();
        storage.set_max_pages(pages).unwrap();
        Box::new(move || storage.set_max_pages(1 << 30).unwrap())
    })
    .await;
}

/// Sets or clears the inode's immutable flag (ext4 and most Linux filesystems): from then on a
/// write to the file fails with EPERM even through descriptors already open, even for root,
/// which SQLite reports as an I/O error (`SQLITE_IOERR_WRITE`), as a failing disk would.
fn immutable(file: &Path, on: bool) {
    let status = std::process::Command::new("chattr").arg(if on { "+i" } else { "-i" }).arg(file).status().expect("chattr (e2fsprogs) is needed");
    assert!(status.success(), "chattr failed on {}", file.display());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_io_error_acknowledges_nothing_and_recovers() {
    check_failure_and_recovery(|_, data| {
        // In WAL mode every commit writes the -wal file first.
        let wal = data.join("ledger.sqlite3-wal");
        assert!(wal.exists(), "the database is not in WAL mode");
        immutable(&wal, true);
        Box::new(move || immutable(&wal, false))
    })
    .await;
}

/// A stored document that cannot be loaded gets an `error` naming it; the connection and
/// every other document keep working.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_damaged_document_is_reported_and_the_others_keep_working() {
    let data = common::sqlite_dir();
    let server = start(data.path()).await;
    let good = server.ledger();
    let mut phone = Phone::new("phone", good);
    phone.edit("k", 1);
    assert_eq!(phone.sync(&server.url(), BUDGET).await, End::Quiet);

    let damaged = server.ledger();
    let db = rusqlite::Connection::open(data.path().join("ledger.sqlite3")).unwrap();
    db.execute("UPDATE documents SET snapshot = ?2 WHERE id = ?1", rusqlite::params![damaged.to_string(), vec![0x85u8, 0x6f, 0x4a, 0x83, 0xde, 0xad, 0xbe, 0xef]]).unwrap();
    drop(db);
    let mut victim = Phone::new("victim", damaged);
    victim.edit("x", 1);
    let end = victim.sync(&server.url(), BUDGET).await;
    assert_eq!(end, End::Quiet, "the connection was dropped: {:?}", victim.closed);
    assert!(victim.errors.iter().any(|e| e.contains(&damaged.to_string())), "{:?}", victim.errors);

    let mut other = Phone::reader(good);
    assert_eq!(other.sync(&server.url(), BUDGET).await, End::Quiet);
    assert_eq!(other.doc.get_heads(), phone.doc.get_heads());
}
