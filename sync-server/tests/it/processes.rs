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

/// Two server processes on one new database, and a unit ledger made on the first that the
/// second has heard of.
struct Two {
    database: sync_server::Database,
    s1: Server,
    s2: Server,
    id: ledger_sync::DocumentId,
    _dirs: (tempfile::TempDir, tempfile::TempDir),
}

async fn two_processes() -> Two {
    let database = shared_database();
    let dirs = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let s1 = Server::start_shared(&database, dirs.0.path()).await;
    let s2 = Server::start_shared(&database, dirs.1.path()).await;
    let id = s1.ledger();
    assert!(eventually(Duration::from_secs(5), || s2.state.hub.directory.unit_of(&id).is_some()).await, "the second process never learnt of the new unit");
    Two { database, s1, s2, id, _dirs: dirs }
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
    let Two { s1, s2, id, _dirs, .. } = two_processes().await;

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
    let Two { s1, s2, id, _dirs, .. } = two_processes().await;
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

/// Two real `sync-server` processes on one PostgreSQL, a phone writing through each; one of
/// them is killed with SIGKILL at a different moment each round while both write. Every change
/// either process confirmed is there afterwards, read through the process that stayed up, and
/// once the killed one is back both serve the same document.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn confirmed_changes_survive_kill_9_of_one_of_two_processes() {
    use crate::kill_durability::{free_port, sync, wait_healthy, Client};
    use std::process::{Command, Stdio};
    let url = sync_server::test_postgres::database().unwrap();
    let database = sync_server::Database::Postgres(url.clone());
    let (token, ledger) = {
        let seeding = tempfile::tempdir().unwrap();
        let storage = std::sync::Arc::new(sync_server::Storage::open_database(&database, seeding.path(), Duration::from_secs(5)).unwrap());
        let directory = sync_server::Directory::open(storage).unwrap();
        let tester = common::seed(&directory);
        (tester.token.clone(), common::add_ledger(&directory, &tester))
    };
    let dist = tempfile::tempdir().unwrap();
    std::fs::write(dist.path().join("index.html"), "<!DOCTYPE html>").unwrap();
    let (d1, d2) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (p1, p2) = (free_port(), free_port());
    let spawn = |data: &std::path::Path, port: u16| {
        Command::new(env!("CARGO_BIN_EXE_sync-server"))
            .args(["--listen", &format!("127.0.0.1:{port}"), "--database", &url, "--data-dir"])
            .arg(data)
            .arg("--dist")
            .arg(dist.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap()
    };
    let mut stays = spawn(d2.path(), p2);
    wait_healthy(p2).await;
    let mut a = Client { id: ledger, doc: common::skeleton() };
    let mut b = Client { id: ledger, doc: common::skeleton() };
    let (mut confirmed_a, mut confirmed_b) = (Vec::new(), Vec::new());
    for round in 0..5u64 {
        let mut killed = spawn(d1.path(), p1);
        wait_healthy(p1).await;
        for i in 0..20 {
            for (client, who) in [(&mut a, "a"), (&mut b, "b")] {
                let key = format!("{who}{round}-{i}");
                common::put_visit(&mut client.doc, &key, &i.to_string());
                common::commit_signed(&mut client.doc, common::TESTER, Some(&key));
            }
        }
        // From mid-handshake to after quiet, while the other phone writes through the other.
        let budget = Duration::from_millis(5 + round * 60);
        tokio::join!(sync(p1, &token, &mut a, budget, &mut confirmed_a), sync(p2, &token, &mut b, Duration::from_millis(1500), &mut confirmed_b));
        killed.kill().unwrap();
        killed.wait().unwrap();
        let mut reader = Client { id: ledger, doc: automerge::AutoCommit::new() };
        sync(p2, &token, &mut reader, Duration::from_secs(3), &mut Vec::new()).await;
        for hash in confirmed_a.iter().chain(&confirmed_b) {
            assert!(reader.doc.get_change_by_hash(hash).is_some(), "round {round}: confirmed change {hash} lost");
        }
    }
    assert!(!confirmed_a.is_empty() && !confirmed_b.is_empty(), "nothing was ever confirmed: the test proved nothing");
    // Back up, the two serve one document.
    let mut back = spawn(d1.path(), p1);
    wait_healthy(p1).await;
    sync(p1, &token, &mut a, Duration::from_secs(3), &mut confirmed_a).await;
    sync(p2, &token, &mut b, Duration::from_secs(3), &mut confirmed_b).await;
    let mut via_1 = Client { id: ledger, doc: automerge::AutoCommit::new() };
    let mut via_2 = Client { id: ledger, doc: automerge::AutoCommit::new() };
    sync(p1, &token, &mut via_1, Duration::from_secs(3), &mut Vec::new()).await;
    sync(p2, &token, &mut via_2, Duration::from_secs(3), &mut Vec::new()).await;
    assert_eq!(via_1.doc.get_heads(), via_2.doc.get_heads());
    for client in [&mut a, &mut b] {
        for change in client.doc.get_changes(&[]) {
            assert!(via_1.doc.get_change_by_hash(&change.hash()).is_some(), "an edit of a phone never reached storage");
        }
    }
    for p in [&mut back, &mut stays] {
        p.kill().unwrap();
        p.wait().unwrap();
    }
}

/// A guesser spreading wrong passwords over two processes gets no more tries than on one:
/// the count is the database's.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_logins_count_across_processes() {
    let Two { s1, s2, _dirs, .. } = two_processes().await;
    s1.state.hub.directory.add_person("孙丽", "sunli", Some("right password"), None).unwrap();
    const JSON: (&str, &str) = ("Content-Type", "application/json");
    let login = |addr, password: &str| {
        let body = format!(r#"{{"login":"sunli","password":"{password}"}}"#);
        async move { common::http(addr, "POST", "/api/login", &[JSON], &body).await.0 }
    };
    assert_eq!(login(s2.addr, "right password").await, 200, "an account made on one process logs in on the other");
    // Five wrong passwords, alternating between the processes: the sixth try is refused on both.
    for n in 0..5 {
        let addr = if n % 2 == 0 { s1.addr } else { s2.addr };
        assert_eq!(login(addr, "wrong").await, 401);
    }
    assert_eq!(login(s1.addr, "right password").await, 429);
    assert_eq!(login(s2.addr, "right password").await, 429);
    s1.stop().await;
    s2.stop().await;
}

/// The listening connection is cut (PostgreSQL ends it, as a restart or a network fault
/// would); an edit made on the other process while nobody listened still reaches the phone,
/// once the listener is back, without waiting for a later edit.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_edit_announced_while_the_listener_was_away_is_not_lost() {
    let Two { database, s1, s2, id, _dirs } = two_processes().await;
    let mut first = Phone::new("p0", id);
    common::put_visit(&mut first.doc, "base", "起点");
    common::commit_signed(&mut first.doc, common::TESTER, Some("base"));
    assert_eq!(first.sync(&s1.url(), Duration::from_secs(20)).await, End::Quiet);
    let mut watcher = Phone::reader(id);
    watcher.doc = first.doc.clone().with_actor(ActorId::random());
    let url = s2.url();
    let watching = tokio::spawn(async move {
        let end = watcher.session(&url, Duration::from_secs(30), Duration::from_secs(5), 0, Duration::ZERO).await;
        (watcher, end)
    });
    tokio::time::sleep(Duration::from_millis(500)).await;
    // Every listening connection is ended; the edit is made at once, before any listens again.
    let sync_server::Database::Postgres(url) = &database else { unreachable!() };
    let ended = {
        let storage = sync_server::Storage::open_database(&database, tempfile::tempdir().unwrap().path(), Duration::from_secs(5)).unwrap();
        let _ = url;
        storage.end_listeners().unwrap()
    };
    assert!(ended >= 2, "both processes listen: {ended}");
    let mut writer = Phone::new("w", id);
    writer.doc = first.doc.clone().with_actor(ActorId::random());
    writer.edit("after-cut", 1);
    assert_eq!(writer.sync(&s1.url(), Duration::from_secs(20)).await, End::Quiet);
    let edit = writer.edits[0];
    let (mut watcher, end) = watching.await.unwrap();
    assert_eq!(end, End::Quiet, "{:?}", watcher.closed);
    assert!(watcher.doc.get_change_by_hash(&edit).is_some(), "the edit made while nobody listened never reached the phone on the other process");
    s1.stop().await;
    s2.stop().await;
}

/// PostgreSQL cuts every connection of two serving processes again and again while phones on
/// both write (as a restart of PostgreSQL does, mid-commit): a commit cut off is not
/// acknowledged, the phone sends it again, and once the cuts stop every edit any phone made
/// is stored, and the read model holds every visit as the ledger has it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn commits_cut_off_by_postgresql_are_sent_again_and_nothing_acknowledged_is_lost() {
    let Two { database, s1, s2, id, _dirs } = two_processes().await;
    let writers: Vec<_> = (0..4)
        .map(|n| {
            let mut phone = Phone::new(&format!("w{n}"), id);
            let url = if n % 2 == 0 { s1.url() } else { s2.url() };
            tokio::spawn(async move {
                // A cut closes the phone's socket: it connects again, as a phone does.
                let until = Instant::now() + Duration::from_secs(40);
                while phone.edits.len() < 30 && Instant::now() < until {
                    let left = 30 - phone.edits.len();
                    phone.session(&url, Duration::from_secs(20), Duration::from_millis(1500), left, Duration::from_millis(60 + n * 7)).await;
                }
                phone
            })
        })
        .collect();
    let cutter = sync_server::Storage::open_database(&database, tempfile::tempdir().unwrap().path(), Duration::from_secs(5)).unwrap();
    let mut cut = 0;
    for _ in 0..12 {
        tokio::time::sleep(Duration::from_millis(150)).await;
        cut += tokio::task::block_in_place(|| cutter.end_other_connections()).unwrap();
    }
    assert!(cut >= 12, "connections were cut: {cut}");
    let mut phones = Vec::new();
    for w in writers {
        phones.push(w.await.unwrap());
    }
    // Whatever a cut closed, each phone syncs again until the server has all it holds.
    for (n, p) in phones.iter_mut().enumerate() {
        let url = if n % 2 == 0 { s1.url() } else { s2.url() };
        assert_eq!(p.sync(&url, Duration::from_secs(20)).await, End::Quiet, "{}: {:?} {:?}", p.name, p.closed, p.errors);
        assert_eq!(p.edits.len(), 30);
    }
    // Read back through a third process that was never cut.
    let d3 = tempfile::tempdir().unwrap();
    let s3 = Server::start_shared(&database, d3.path()).await;
    let mut reader = Phone::reader(id);
    assert_eq!(reader.sync(&s3.url(), Duration::from_secs(20)).await, End::Quiet);
    for p in phones.iter_mut() {
        for hash in p.edits.clone() {
            assert!(reader.doc.get_change_by_hash(&hash).is_some(), "{}'s edit {hash} is not stored", p.name);
        }
    }
    // The read model followed every commit that was made.
    let stored = s3.state.hub.storage.stored_facts(&id).unwrap();
    // Each phone writes sixteen visits over and over.
    assert_eq!(stored.records.iter().filter(|(s, _, _)| *s == Section::Visits).count(), 4 * 16, "every visit in the read model");
    for p in &phones {
        for n in 0..16 {
            let key = format!("{}-{n}", p.name);
            let want = common::visit_value(&reader.doc, &key).unwrap();
            let body = s3.state.hub.storage.record_body(&id, Section::Visits, &common::visit_id(&key)).unwrap().unwrap();
            assert!(body.contains(&format!("\"whom\":\"{want}\"")), "{key}: the row says {body}, the ledger {want}");
        }
    }
    for s in [s1, s2, s3] {
        s.stop().await;
    }
}
