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
    server.apply_changes(changes).unwrap();
    assert_eq!(check_applied(&mut server, &heads), Ok(3));
}

#[test]
fn a_gap_in_the_op_counter_is_refused_after_applying() {
    let mut server = base();
    let mut phone = server.fork();
    phone.empty_change(CommitOptions::default());
    let honest = phone.get_last_local_change().unwrap().clone();
    let mut expanded = honest.decode();
    expanded.start_op = expanded.start_op.checked_add(5).unwrap();
    let crafted = Change::from(expanded);
    let heads = server.get_heads();
    assert!(check_incoming(&mut server, &chunks_of(std::slice::from_ref(&crafted))).is_ok(), "nothing to see before applying");
    server.apply_changes([crafted]).unwrap();
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
