//! Bytes and round trips of the sync engine, between two in-memory peers (no network, so the
//! figures are exact and repeatable).
//!
//! cargo run --release -p ledger-sync --example sync_bench

use std::collections::HashMap;

use automerge::{ActorId, AutoCommit};
use chrono::NaiveDate;
use ledger::{UnitLedger, VisitDraft};
use ledger_sync::{Connection, DocumentHost, DocumentId, LocalPeer, Output};

#[derive(Default)]
struct Peer {
    docs: HashMap<DocumentId, AutoCommit>,
    states: HashMap<DocumentId, Vec<u8>>,
}

impl DocumentHost for Peer {
    fn document(&mut self, doc: &DocumentId, create: bool) -> Option<&mut AutoCommit> {
        if create {
            self.docs.entry(*doc).or_insert_with(|| AutoCommit::new().with_actor(ActorId::random()));
        }
        self.docs.get_mut(doc)
    }
    fn may_write(&mut self, _: &DocumentId, _: &[automerge::Change]) -> Result<(), String> {
        Ok(())
    }
}

/// Connects phone to server, syncs everything; returns (bytes both ways, round trips after the handshake).
fn session(phone: &mut Peer, server: &mut Peer, keep_states: bool) -> (usize, usize) {
    let local = |name: &str| LocalPeer { peer_id: name.into(), storage_id: Some(format!("{name}-storage")) };
    let mut a = Connection::initiate(local("phone"));
    let mut b = Connection::accept(local("server"));
    let (mut to_b, mut to_a): (Vec<Vec<u8>>, Vec<Vec<u8>>) = (Vec::new(), Vec::new());
    let (mut bytes, mut rounds) = (0usize, 0usize);
    loop {
        for (conn, peer, out) in [(&mut a, &mut *phone, &mut to_b), (&mut b, &mut *server, &mut to_a)] {
            while let Some(o) = conn.poll_output() {
                match o {
                    Output::Send(f) => out.push(f),
                    Output::Connected { .. } => {
                        let docs: Vec<_> = peer.docs.keys().copied().collect();
                        for d in &docs {
                            if let (true, Some(s)) = (keep_states, peer.states.get(d)) {
                                conn.restore_sync_state(*d, &s.clone());
                            }
                        }
                        // The phone (initiator) offers every document it holds.
                        if conn.remote_peer() == Some("server") {
                            for d in docs {
                                conn.sync_document(d);
                            }
                        }
                    }
                    Output::Load { doc } => conn.process(doc, peer),
                    Output::Persist { ticket, .. } => conn.persisted(ticket, peer),
                    Output::SyncState { doc, state } => {
                        peer.states.insert(doc, state);
                    }
                    _ => {}
                }
            }
        }
        if to_a.is_empty() && to_b.is_empty() {
            break;
        }
        rounds += 1;
        for f in std::mem::take(&mut to_b) {
            bytes += f.len();
            b.receive(&f);
        }
        for f in std::mem::take(&mut to_a) {
            bytes += f.len();
            a.receive(&f);
        }
    }
    // Two rounds of the handshake (join, peer); two rounds make a round trip.
    (bytes, rounds.saturating_sub(2).div_ceil(2))
}

fn visits(ledger: &mut UnitLedger, n: usize, offset: usize) {
    let today = NaiveDate::from_ymd_opt(2026, 11, 27).unwrap();
    for i in offset..offset + n {
        let d = VisitDraft { whom: format!("户{i}"), heard: format!("第{i}次走访：反映村口路灯坏了，晚上出行不便。"), ..VisitDraft::new(today) };
        ledger.add_visit(&d.validate(today).unwrap(), i as i64).unwrap();
    }
}

fn main() {
    // 1. Reconnecting a ledger of 5,000 visits with nothing new.
    let mut ledger = UnitLedger::create(ActorId::random());
    visits(&mut ledger, 5_000, 0);
    let id = DocumentId::random();
    let mut phone = Peer::default();
    phone.docs.insert(id, ledger.doc().clone());
    let mut server = Peer::default();
    let (first, _) = session(&mut phone, &mut server, true);
    let (saved, _) = session(&mut phone, &mut server, true);
    let (fresh, _) = session(&mut phone, &mut server, false);
    println!(
        "5,000-visit ledger: first upload {first} B; reconnect, nothing new: {saved} B with saved sync states, {fresh} B with fresh ones ({:.0}x)",
        fresh as f64 / saved as f64
    );

    // 2. Twenty new visits.
    let mut l = UnitLedger::load(&phone.docs.get_mut(&id).unwrap().save(), ActorId::random()).unwrap();
    let before = l.heads();
    visits(&mut l, 20, 5_000);
    let change_bytes = l.save_after(&before).len();
    phone.docs.insert(id, l.doc().clone());
    let (twenty, trips) = session(&mut phone, &mut server, true);
    println!("20 new visits: {twenty} B on the wire for {change_bytes} B of compressed changes ({:.2}x), {trips} round trips", twenty as f64 / change_bytes as f64);

    // 3. Fifty documents brought up to date over one connection.
    let mut phone = Peer::default();
    let mut server = Peer::default();
    for i in 0..50 {
        let mut l = UnitLedger::create(ActorId::random());
        visits(&mut l, 10, i * 10);
        server.docs.insert(DocumentId::random(), l.doc().clone());
    }
    for (id, doc) in &server.docs {
        let mut copy = doc.clone();
        phone.docs.insert(*id, copy.fork().with_actor(ActorId::random()));
    }
    for doc in server.docs.values_mut() {
        let mut l = UnitLedger::load(&doc.save(), ActorId::random()).unwrap();
        visits(&mut l, 2, 9_000);
        *doc = l.doc().clone();
    }
    let (bytes, trips) = session(&mut phone, &mut server, false);
    println!("50 documents, each with 2 new visits on the server: {trips} round trips after the handshake, {bytes} B");
}
