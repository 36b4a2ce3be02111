//! Several phones writing to one unit ledger at once (the normal case: a unit's cadres back
//! in coverage together) over real WebSockets and real SQLite, while compaction runs; then the
//! server restarts on the same data directory. Every edit the server confirmed is still there.

use crate::common;

use std::time::Duration;

use common::{End, Phone, Server};

/// How long a phone hears nothing before it takes its session as over. In a debug build
/// (`cargo test`) Automerge is about ten times slower, and a phone queued behind eleven others
/// on this ledger's lock heard nothing for over 2 s (179 of 480 edits confirmed when the
/// sessions ended; all 480 with 15 s). The size and the assertions are the same in both.
const QUIET: Duration = if cfg!(optimized) { Duration::from_secs(2) } else { Duration::from_secs(15) };

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twelve_phones_on_one_ledger_lose_no_confirmed_edit_across_compaction_and_restart() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start(data.path(), Duration::from_secs(5)).await;
    let id = server.ledger();

    // The unit's ledger already holds a few thousand records, so compactions take a while.
    let mut first = Phone::new("p0", id);
    for i in 0..3_000 {
        common::put_visit(&mut first.doc, &format!("record-{i}"), &format!("走访记录 {i} 张大爷家 路灯不亮 已联系供电所"));
        if i % 100 == 99 {
            common::commit_signed(&mut first.doc, common::TESTER, None);
        }
    }
    common::commit_signed(&mut first.doc, common::TESTER, None);
    assert_eq!(first.sync(&server.url(), Duration::from_secs(20)).await, End::Quiet);
    let base = first.doc.clone();

    // Twelve phones start from the ledger and write at once: 40 edits each, 5 to 25 ms apart.
    let tasks = common::twelve_writers(&server.url(), id, &base, 40, 5, QUIET);
    let mut phones = common::all_quiet(tasks).await;
    let confirmed: usize = phones.iter_mut().map(|p| p.confirmed_edits().len()).sum();
    assert_eq!(confirmed, 12 * 40, "every edit was confirmed while the server stayed up");
    let sizes = server.state.hub.storage.layout_sizes(&id).unwrap().unwrap();
    assert_ne!(sizes.0, 0, "no compaction ran: the test did not cover it");

    // The server stops and starts again on the same data.
    server.stop().await;
    let server = Server::start(data.path(), Duration::from_secs(5)).await;
    let mut reader = Phone::reader(id);
    assert_eq!(reader.sync(&server.url(), Duration::from_secs(30)).await, End::Quiet);
    for p in phones.iter_mut() {
        for hash in p.confirmed_edits() {
            assert!(reader.doc.get_change_by_hash(&hash).is_some(), "{}'s confirmed edit {hash} was lost", p.name);
        }
    }
}
