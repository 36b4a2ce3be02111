//! Any sequence of frames sent to the server's engine after an honest handshake, against a real
//! document: the engine answers or refuses, never panics outside Automerge, and the document it
//! leaves (when it did not refuse the peer) saves and loads again with the same heads.
#![no_main]

use automerge::transaction::Transactable;
use automerge::{AutoCommit, ROOT};
use ledger_sync::{Connection, DocumentId, LocalPeer, Message, Output, SingleDocument};
use libfuzzer_sys::fuzz_target;
use pioneer_fuzz::{allow_guarded_panics, guarded};

fuzz_target!(init: allow_guarded_panics(), |data: &[u8]| {
    let id = DocumentId::from_bytes([7; 16]);
    let mut doc = AutoCommit::new();
    doc.put(ROOT, "title", "走访记录").unwrap();
    doc.commit();
    let mut conn = Connection::accept(LocalPeer { peer_id: "server".into(), storage_id: None });
    let join = Message::Join { sender_id: "phone".into(), supported_protocol_versions: vec!["1".into()], metadata: None };
    conn.receive(&join.encode());
    // The input is split into frames at 0xFF 0x00 boundaries; every other frame is wrapped as
    // a sync message for the document, so both the framing and the sync payload are reached.
    for (i, part) in data.split(|b| *b == 0xff).enumerate() {
        if i % 2 == 0 {
            conn.receive(part);
        } else {
            let sync = Message::Sync { sender_id: "phone".into(), target_id: "server".into(), document_id: id, data: part.to_vec() };
            conn.receive(&sync.encode());
        }
        let mut guard = 0;
        while let Some(output) = conn.poll_output() {
            guard += 1;
            assert!(guard < 10_000, "the engine kept producing output");
            let mut host = SingleDocument { id, doc: &mut doc };
            let step = guarded(|| match output {
                Output::Load { doc } => conn.process(doc, &mut host),
                Output::Persist { ticket, .. } => conn.persisted(ticket, &mut host),
                _ => {}
            });
            if step.is_err() {
                return; // a panic inside Automerge: the server sends the document back to storage
            }
        }
        if conn.is_closed() {
            return;
        }
    }
    let saved = doc.save();
    let mut loaded = AutoCommit::load(&saved).expect("a document the engine kept loads");
    assert_eq!(loaded.get_heads(), doc.get_heads());
});
