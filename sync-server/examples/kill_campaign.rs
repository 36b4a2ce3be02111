//! Soak, outside CI: the real `sync-server` binary killed with SIGKILL at random moments while
//! phones write, many iterations. Six phones share one unit ledger, four more have a ledger
//! each; every phone keeps its document and sync state across iterations (as a phone does).
//! After every kill the server starts again on the same data and a fresh reader checks that
//! every edit the server had confirmed to any phone is there. Loopback only, bounded.
//!
//! cargo run --release -p sync-server --example kill_campaign -- [ITERATIONS] [SERVER_BINARY]

#[path = "../tests/it/common/mod.rs"]
mod common;

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::Phone;
use ledger_sync::DocumentId;

fn random(below: u64) -> u64 {
    let mut b = [0u8; 8];
    getrandom::fill(&mut b).unwrap();
    u64::from_le_bytes(b) % below.max(1)
}

fn spawn(binary: &str, data: &std::path::Path, dist: &std::path::Path, port: u16) -> Child {
    Command::new(binary)
        .args(["--listen", &format!("127.0.0.1:{port}"), "--data-dir"])
        .arg(data)
        .arg("--dist")
        .arg(dist)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start sync-server")
}

async fn wait_healthy(port: u16) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_ok() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("server did not start");
}

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let iterations: usize = args.next().and_then(|s| s.parse().ok()).unwrap_or(100);
    let binary = args.next().unwrap_or_else(|| "target/release/sync-server".into());
    let data = tempfile::tempdir().unwrap();
    let dist = tempfile::tempdir().unwrap();
    std::fs::write(dist.path().join("index.html"), "<!DOCTYPE html>").unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    // The organisation, the ledgers and a device, made before the first start.
    let (tester, directory) = {
        let storage = std::sync::Arc::new(sync_server::Storage::open(data.path()).unwrap());
        let directory = sync_server::Directory::open(storage).unwrap();
        (common::seed(&directory), directory)
    };
    let url = format!("ws://127.0.0.1:{port}/sync?token={}", tester.token);

    let shared = common::add_ledger(&directory, &tester);
    let mut phones: Vec<Phone> = (0..6).map(|i| Phone::new(&format!("shared{i}"), shared)).collect();
    phones.extend((0..4).map(|i| Phone::new(&format!("own{i}"), common::add_ledger(&directory, &tester))));
    drop(directory);
    let mut lost_total = 0;
    let started = Instant::now();

    for iteration in 0..iterations {
        let mut server = spawn(&binary, data.path(), dist.path(), port);
        wait_healthy(port).await;
        let kill_after = Duration::from_millis(50 + random(1_500));
        let mut tasks = Vec::new();
        for mut phone in phones.drain(..) {
            let url = url.clone();
            let edits = 5 + random(20) as usize;
            let interval = Duration::from_millis(5 + random(21));
            tasks.push(tokio::spawn(async move {
                phone.session(&url, Duration::from_secs(20), Duration::from_millis(500), edits, interval).await;
                phone
            }));
        }
        tokio::time::sleep(kill_after).await;
        server.kill().unwrap(); // SIGKILL
        server.wait().unwrap();
        for t in tasks {
            phones.push(t.await.unwrap());
        }

        // Everything confirmed so far must be on disk.
        let mut server = spawn(&binary, data.path(), dist.path(), port);
        wait_healthy(port).await;
        let mut docs: Vec<DocumentId> = phones.iter().map(|p| p.id).collect();
        docs.dedup();
        let mut readers = Vec::new();
        for id in docs {
            let mut reader = Phone::reader(id);
            reader.sync(&url, Duration::from_secs(20)).await;
            readers.push(reader);
        }
        let (mut confirmed, mut lost) = (0, 0);
        for p in phones.iter_mut() {
            let reader = readers.iter_mut().find(|r| r.id == p.id).unwrap();
            for hash in p.confirmed_edits() {
                confirmed += 1;
                if reader.doc.get_change_by_hash(&hash).is_none() {
                    lost += 1;
                }
            }
        }
        lost_total += lost;
        println!("iteration {iteration}: killed after {} ms, {confirmed} edits confirmed so far, {lost} lost", kill_after.as_millis());
        server.kill().unwrap();
        server.wait().unwrap();
    }
    let edits: usize = phones.iter().map(|p| p.edits.len()).sum();
    let confirmed: usize = phones.iter_mut().map(|p| p.confirmed_edits().len()).sum();
    println!(
        "{{\"iterations\": {iterations}, \"edits_made\": {edits}, \"edits_confirmed\": {confirmed}, \"lost\": {lost_total}, \"seconds\": {:.0}}}",
        started.elapsed().as_secs_f64()
    );
    if lost_total > 0 {
        std::process::exit(1);
    }
}
