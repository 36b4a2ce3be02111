//! Any bytes as the changes of a sync message, against a real document: whatever the checks
//! let through and Automerge applies, and the checks then accept, leaves a document that saves
//! and loads again with the same heads.
#![no_main]

use automerge::transaction::Transactable;
use automerge::{AutoCommit, ObjType, ROOT};
use ledger_sync::changes::{check_applied, check_incoming};
use libfuzzer_sys::fuzz_target;
use pioneer_fuzz::{allow_guarded_panics, guarded};

fn base() -> AutoCommit {
    let mut doc = AutoCommit::new();
    doc.put(ROOT, "title", "走访记录").unwrap();
    let text = doc.put_object(ROOT, "heard", ObjType::Text).unwrap();
    doc.splice_text(&text, 0, 0, "路灯坏了").unwrap();
    doc.commit();
    doc
}

fuzz_target!(init: allow_guarded_panics(), |data: &[u8]| {
    let mut doc = base();
    let chunks = automerge::sync::ChunkList::from(data.to_vec());
    if check_incoming(&mut doc, &chunks).is_err() {
        return;
    }
    let before = doc.get_heads();
    // Automerge may refuse or panic on what passes the checks; the server catches the panic and
    // sends the document back to storage. What it accepts must pass or fail the after-check
    // cleanly and, when it passes, load again.
    let applied = guarded(|| doc.load_incremental(data));
    if !matches!(applied, Ok(Ok(_))) {
        return;
    }
    if matches!(guarded(|| check_applied(&mut doc, &before)), Ok(Ok(_))) {
        let saved = doc.save();
        let mut loaded = AutoCommit::load(&saved).expect("an accepted document loads");
        assert_eq!(loaded.get_heads(), doc.get_heads());
    }
});
