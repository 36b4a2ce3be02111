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
    let data = tempfile::tempdir().unwrap();
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
