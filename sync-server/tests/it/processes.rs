//! Several server processes on one PostgreSQL (here: several servers in this process, each
//! with its own storage, pool, listener and memory, sharing nothing but the database): phones
//! on different processes see each other's edits while connected, the read model holds every
//! record whichever process stored it, and the directory and a revocation reach every process.

use std::time::{Duration, Instant};

use automerge::ActorId;
use ledger::record::Section;

use crate::common::{self, End, Phone, Server};

fn shared_database() -> sync_server::Database {
    sync_server::Database::Postgres(sync_server::test_postgres::database().unwrap())
}

/// Waits (up to `budget`) until `done` holds; whether it did.
async fn eventually(budget: Duration, mut done: impl FnMut() -> bool) -> bool {
    let until = Instant::now() + budget;
    while Instant::now() < until {
        if done() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    done()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn phones_on_two_processes_see_each_others_edits_live_and_every_record_reaches_the_read_model() {
    let database = shared_database();
    let (d1, d2) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let s1 = Server::start_shared(&database, d1.path()).await;
    let s2 = Server::start_shared(&database, d2.path()).await;
    // A unit made on the first process: the second one's directory hears of it.
    let id = s1.ledger();
    assert!(eventually(Duration::from_secs(5), || s2.state.hub.directory.unit_of(&id).is_some()).await, "the second process never learnt of the new unit");

    let mut first = Phone::new("p0", id);
    common::put_visit(&mut first.doc, "base", "起点");
    common::commit_signed(&mut first.doc, common::TESTER, Some("base"));
    assert_eq!(first.sync(&s1.url(), Duration::from_secs(20)).await, End::Quiet);
    let base = first.doc.clone();

    // A watcher on the second process, connected before anything below is written: what it
    // ends with came to it live, over the one connection.
    let mut watcher = Phone::reader(id);
    watcher.doc = base.clone().with_actor(ActorId::random());
    let watcher_url = s2.url();
    let watching = tokio::spawn(async move {
        let end = watcher.session(&watcher_url, Duration::from_secs(90), Duration::from_secs(4), 0, Duration::ZERO).await;
        (watcher, end)
    });
    tokio::time::sleep(Duration::from_millis(500)).await;

    // Three phones on each process write at once.
    let writers: Vec<_> = (0..6)
        .map(|n| {
            let mut phone = Phone::new(&format!("w{n}"), id);
            phone.doc = base.clone().with_actor(ActorId::random());
            let url = if n % 2 == 0 { s1.url() } else { s2.url() };
            tokio::spawn(async move {
                let end = phone.session(&url, Duration::from_secs(60), Duration::from_millis(1500), 12, Duration::from_millis(40 + n * 5)).await;
                (phone, end)
            })
        })
        .collect();
    let mut phones = common::all_quiet(writers).await;
    let (mut watcher, end) = watching.await.unwrap();
    assert_eq!(end, End::Quiet, "{:?}", watcher.closed);

    let everything: Vec<_> = phones.iter_mut().flat_map(|p| p.edits.clone()).collect();
    assert_eq!(everything.len(), 72);
    for hash in &everything {
        assert!(watcher.doc.get_change_by_hash(hash).is_some(), "edit {hash} never reached the watcher on the other process");
    }
    // Every phone has everything, wherever it synced.
    for p in phones.iter_mut() {
        let lacking = everything.iter().filter(|h| p.doc.get_change_by_hash(h).is_none()).count();
        eprintln!("{} lacks {lacking}, closed {:?}, errors {:?}", p.name, p.closed, p.errors);
    }
    for p in phones.iter_mut() {
        for hash in &everything {
            assert!(p.doc.get_change_by_hash(hash).is_some(), "{} lacks {hash}", p.name);
        }
    }

    // The read model, written by both processes, holds every visit as the document has it.
    let stored = s2.state.hub.storage.stored_facts(&id).unwrap();
    let visits = stored.records.iter().filter(|(s, _, _)| *s == Section::Visits).count();
    assert_eq!(visits, 1 + 6 * 12, "one row per visit");
    for p in &phones {
        for n in 0..12 {
            let key = format!("{}-{}", p.name, n);
            let want = common::visit_value(&watcher.doc, &key).unwrap();
            let body = s1.state.hub.storage.record_body(&id, Section::Visits, &common::visit_id(&key)).unwrap().unwrap();
            assert!(body.contains(&format!("\"whom\":\"{want}\"")), "{key}: the row says {body}, the ledger {want}");
        }
    }
    // Each process's figures agree.
    let f1 = s1.state.hub.read_model.facts(&id).unwrap();
    let f2 = s2.state.hub.read_model.facts(&id).unwrap();
    assert_eq!(f1.facts().count(), f2.facts().count());
    s1.stop().await;
    s2.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_device_lost_on_one_process_is_cut_off_on_the_other() {
    let database = shared_database();
    let (d1, d2) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let s1 = Server::start_shared(&database, d1.path()).await;
    let s2 = Server::start_shared(&database, d2.path()).await;
    let id = s1.ledger();
    assert!(eventually(Duration::from_secs(5), || s2.state.hub.directory.unit_of(&id).is_some()).await);
    // The phone activated on the first process syncs with the second.
    let mut phone = Phone::new("lost", id);
    let url = s2.url_with(&s1.tester.token);
    let connected = tokio::spawn(async move {
        let end = phone.session(&url, Duration::from_secs(60), Duration::from_secs(30), 0, Duration::ZERO).await;
        (phone, end)
    });
    tokio::time::sleep(Duration::from_millis(700)).await;
    assert!(!connected.is_finished(), "the phone should still be connected");
    let lost_at = Instant::now();
    s1.state.hub.directory.set_device_status(&s1.tester.device, "lost", None).unwrap();
    let (phone, end) = tokio::time::timeout(Duration::from_secs(10), connected).await.expect("the other process never closed the lost phone's socket").unwrap();
    assert_eq!(end, End::Closed, "{:?}", phone.closed);
    eprintln!("a lost device's socket on the other process closed {} ms after it was marked lost", lost_at.elapsed().as_millis());
    // And it cannot come back on either.
    for s in [&s1, &s2] {
        let mut again = Phone::new("again", id);
        let end = again.sync(&s.url_with(&s1.tester.token), Duration::from_secs(5)).await;
        assert_ne!(end, End::Quiet, "a lost device synced again");
    }
    s1.stop().await;
    s2.stop().await;
}
