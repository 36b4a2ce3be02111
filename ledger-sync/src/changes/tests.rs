use automerge::sync::SyncDoc;
use automerge::transaction::{CommitOptions, Transactable};
use automerge::{AutoCommit, ObjType, ROOT};

use super::*;

fn chunks_of(changes: &[Change]) -> sync::ChunkList {
    changes.iter().map(|c| c.clone().bytes().into_owned()).collect::<Vec<Vec<u8>>>().into()
}

fn base() -> AutoCommit {
    let mut doc = AutoCommit::new();
    doc.put(ROOT, "title", "走访记录").unwrap();
    doc.commit();
    doc
}

#[test]
fn honest_changes_pass_both_checks() {
    let mut server = base();
    let mut phone = server.fork();
    let before = phone.get_heads();
    let text = phone.put_object(ROOT, "heard", ObjType::Text).unwrap();
    phone.splice_text(&text, 0, 0, "路灯坏了，已报修。").unwrap();
    phone.commit();
    phone.empty_change(CommitOptions::default());
    phone.put(ROOT, "n", 1).unwrap();
    phone.commit();
    let changes: Vec<Change> = phone.get_changes(&before);
    let incoming = check_incoming(&mut server, &chunks_of(&changes)).unwrap();
    assert_eq!(incoming.new.len(), 3);
    let heads = server.get_heads();
    server.apply_changes(changes.clone()).unwrap();
    let applied = check_applied(&mut server, &heads).unwrap();
    assert_eq!(applied.iter().map(Change::hash).collect::<Vec<_>>(), changes.iter().map(Change::hash).collect::<Vec<_>>());
}

/// A change made by `phone` with its op counter moved by `shift`, re-hashed.
fn shifted(change: &Change, shift: i64) -> Change {
    let mut expanded = change.decode();
    expanded.start_op = std::num::NonZeroU64::new(expanded.start_op.get().checked_add_signed(shift).unwrap()).unwrap();
    Change::from(expanded)
}

#[test]
fn a_gap_in_the_op_counter_is_refused_before_applying() {
    let mut server = base();
    let mut phone = server.fork();
    phone.empty_change(CommitOptions::default());
    let crafted = shifted(&phone.get_last_local_change().unwrap(), 5);
    let why = check_incoming(&mut server, &chunks_of(std::slice::from_ref(&crafted))).err().unwrap();
    assert!(why.contains("gap in the op counter"), "{why}");
}

/// Op ids that collide with the document's own: Automerge applies such a change and then
/// panics reading the document back, so it must never reach Automerge.
#[test]
fn an_op_counter_reusing_existing_op_ids_is_refused_before_applying() {
    let mut server = base();
    server.put(ROOT, "a", 1).unwrap();
    server.put(ROOT, "b", 2).unwrap();
    server.commit();
    let mut phone = server.fork();
    phone.delete(ROOT, "title").unwrap();
    phone.commit();
    let crafted = shifted(&phone.get_last_local_change().unwrap(), -2);
    let heads = server.get_heads();
    let why = check_incoming(&mut server, &chunks_of(std::slice::from_ref(&crafted))).err().unwrap();
    assert!(why.contains("gap in the op counter"), "{why}");
    assert_eq!(server.get_heads(), heads);
}

/// Within one message a change may depend on one sent just before it.
#[test]
fn a_gap_after_a_change_in_the_same_message_is_refused_before_applying() {
    let mut server = base();
    let mut phone = server.fork();
    phone.put(ROOT, "first", 1).unwrap();
    phone.commit();
    let first = phone.get_last_local_change().unwrap().clone();
    phone.put(ROOT, "second", 2).unwrap();
    phone.commit();
    let second = phone.get_last_local_change().unwrap().clone();
    assert!(check_incoming(&mut server, &chunks_of(&[first.clone(), second.clone()])).is_ok());
    let why = check_incoming(&mut server, &chunks_of(&[first, shifted(&second, 1)])).err().unwrap();
    assert!(why.contains("gap in the op counter"), "{why}");
}

/// A change whose dependency has not arrived cannot be checked before; once the dependency
/// comes and Automerge applies both, the after-check refuses it.
#[test]
fn a_gap_in_a_change_that_waited_for_its_dependency_is_refused_after_applying() {
    let mut server = base();
    let mut phone = server.fork();
    phone.put(ROOT, "first", 1).unwrap();
    phone.commit();
    let first = phone.get_last_local_change().unwrap().clone();
    phone.empty_change(CommitOptions::default());
    let crafted = shifted(&phone.get_last_local_change().unwrap(), 3);
    let heads = server.get_heads();
    assert!(check_incoming(&mut server, &chunks_of(std::slice::from_ref(&crafted))).is_ok(), "its dependency is unknown yet");
    server.apply_changes([crafted]).unwrap();
    assert!(check_incoming(&mut server, &chunks_of(std::slice::from_ref(&first))).is_ok());
    server.apply_changes([first]).unwrap();
    let why = check_applied(&mut server, &heads).unwrap_err();
    assert!(why.contains("gap in the op counter"), "{why}");
}

#[test]
fn a_whole_document_chunk_is_refused() {
    let mut server = AutoCommit::new();
    let mut phone = base();
    let why = check_incoming(&mut server, &sync::ChunkList::from(phone.save())).err().unwrap();
    assert!(why.contains("whole-document"), "{why}");
}

#[test]
fn a_compressed_change_that_inflates_past_the_bound_is_refused_before_automerge_inflates_it() {
    let mut server = base();
    let mut phone = server.fork();
    let before = phone.get_heads();
    phone.put(ROOT, "bomb", "a".repeat(MAX_INFLATED_BYTES_PER_MESSAGE + 1)).unwrap();
    phone.commit();
    let mut change = phone.get_changes(&before)[0].clone();
    let bytes = change.bytes().into_owned();
    assert!(bytes.len() < MAX_INFLATED_BYTES_PER_MESSAGE / 100, "the change did not compress: {} bytes", bytes.len());
    assert_eq!(bytes[8], COMPRESSED_CHANGE);
    let why = check_incoming(&mut server, &sync::ChunkList::from(bytes)).err().unwrap();
    assert!(why.contains("inflate past"), "{why}");
}

#[test]
fn too_many_operations_in_one_message_are_refused() {
    let mut server = base();
    let mut phone = server.fork();
    let before = phone.get_heads();
    let list = phone.put_object(ROOT, "list", ObjType::List).unwrap();
    // Each insert is one op; identical values compress to a few bytes.
    phone.splice(&list, 0, 0, std::iter::repeat_n(automerge::ScalarValue::Int(1), MAX_OPS_PER_MESSAGE + 1)).unwrap();
    phone.commit();
    let changes: Vec<Change> = phone.get_changes(&before);
    let why = check_incoming(&mut server, &chunks_of(&changes)).err().unwrap();
    assert!(why.contains("operations"), "{why}");
}

#[test]
fn garbage_and_truncated_chunks_are_errors_not_panics() {
    let mut server = base();
    let mut phone = server.fork();
    phone.put(ROOT, "k", "v").unwrap();
    phone.commit();
    let good = phone.get_last_local_change().unwrap().clone().bytes().into_owned();
    for bad in [vec![], vec![0x85, 0x6f, 0x4a, 0x83, 0, 0, 0, 0, 1], good[..good.len() - 1].to_vec(), vec![0xff; 40], {
        let mut huge_len = good[..9].to_vec();
        huge_len.extend([0xff; 10]);
        huge_len
    }] {
        let list = sync::ChunkList::from(bad.clone());
        if bad.is_empty() {
            assert!(check_incoming(&mut server, &list).is_ok());
        } else {
            assert!(check_incoming(&mut server, &list).is_err(), "{bad:?}");
        }
    }
    // A sync message from an honest peer still passes.
    let mut state = sync::State::new();
    let _ = phone.sync().generate_sync_message(&mut state);
}

/// Three changes in a chain, the middle one missing: the first is ready, the last waits for
/// the middle, and the middle is what to ask for. Out of order, duplicated or already known,
/// the ready ones come after their dependencies, once, and only if new.
#[test]
fn changes_are_ready_in_dependency_order_and_those_missing_a_dependency_wait() {
    let mut server = base();
    let mut phone = server.fork();
    let mut chain = Vec::new();
    for n in 0..3 {
        let before = phone.get_heads();
        let obj = phone.put_object(ROOT, format!("post{n}"), ObjType::Map).unwrap();
        phone.put(&obj, "title", "窗口").unwrap();
        phone.commit();
        chain.extend(phone.get_changes(&before));
    }
    let hashes: Vec<ChangeHash> = chain.iter().map(Change::hash).collect();

    let (ready, waiting) = split_ready(&mut server, vec![chain[2].clone(), chain[0].clone()]);
    assert_eq!(ready.iter().map(Change::hash).collect::<Vec<_>>(), vec![hashes[0]]);
    assert_eq!(waiting.iter().map(Change::hash).collect::<Vec<_>>(), vec![hashes[2]]);
    assert_eq!(still_needed(&mut server, &waiting, &[]), vec![hashes[1]]);
    // What Automerge asks for stays asked for, unless it is among the waiting or known.
    let known = server.get_heads()[0];
    assert_eq!(still_needed(&mut server, &waiting, &[hashes[2], known, hashes[1]]), vec![hashes[1]]);

    let (ready, waiting) = split_ready(&mut server, vec![chain[2].clone(), chain[1].clone(), chain[2].clone(), chain[0].clone()]);
    assert_eq!(ready.iter().map(Change::hash).collect::<Vec<_>>(), hashes);
    assert!(waiting.is_empty());

    server.apply_changes(ready).unwrap();
    let (ready, waiting) = split_ready(&mut server, chain.clone());
    assert!(ready.is_empty() && waiting.is_empty(), "changes the document has are dropped");
}
