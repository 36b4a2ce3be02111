//! The workspace's patched automerge (vendor/automerge/PATCHES.md) decides which sent changes a
//! remote now has from the clock at its heads, instead of walking the history. This checks it
//! through the public sync API against the answer found by walking the dependencies: random
//! histories of several writers who merge each other's work, random heads (old and new,
//! unknown ones too) and random sets of changes "sent".

use std::collections::BTreeSet;

use automerge::sync::{self, MessageVersion, SyncDoc};
use automerge::transaction::Transactable;
use automerge::{ActorId, AutoCommit, ChangeHash, ROOT};
use proptest::prelude::*;

#[derive(Debug, Clone)]
enum Step {
    /// Writer `0` makes a change.
    Edit(usize),
    /// Writer `0` merges what writer `1` has.
    Merge(usize, usize),
}

fn step(writers: usize) -> impl Strategy<Value = Step> {
    prop_oneof![
        3 => (0..writers).prop_map(Step::Edit),
        1 => (0..writers, 0..writers).prop_map(|(a, b)| Step::Merge(a, b)),
    ]
}

/// `heads` and all their ancestors, by walking the dependencies.
fn ancestors(doc: &mut AutoCommit, heads: &[ChangeHash]) -> BTreeSet<ChangeHash> {
    let mut seen = BTreeSet::new();
    let mut stack: Vec<ChangeHash> = heads.to_vec();
    while let Some(hash) = stack.pop() {
        let Some(change) = doc.get_change_by_hash(&hash) else { continue };
        if seen.insert(hash) {
            stack.extend(change.deps().iter().copied());
        }
    }
    seen
}

/// What a received message with `heads` (and nothing else) leaves of `sent`.
fn sent_after_message(doc: &mut AutoCommit, sent: &BTreeSet<ChangeHash>, heads: Vec<ChangeHash>) -> BTreeSet<ChangeHash> {
    let mut state = sync::State::new();
    state.sent_hashes = sent.clone();
    let message = sync::Message { heads, need: vec![], have: vec![], changes: sync::ChunkList::empty(), flags: None, version: MessageVersion::V1 };
    doc.sync().receive_sync_message(&mut state, message).unwrap();
    state.sent_hashes
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]
    #[test]
    fn sent_changes_the_remote_has_are_exactly_the_ancestors_of_its_heads(
        steps in prop::collection::vec(step(4), 1..60),
        picks in prop::collection::vec(any::<prop::sample::Index>(), 1..4),
        sent_picks in prop::collection::vec(any::<prop::sample::Index>(), 0..12),
        with_unknown in any::<bool>(),
    ) {
        let mut base = {
            let mut d = AutoCommit::new().with_actor(ActorId::random());
            d.put(ROOT, "title", "走访记录").unwrap();
            d.commit();
            d
        };
        let mut writers: Vec<AutoCommit> = (0..4).map(|_| base.fork().with_actor(ActorId::random())).collect();
        for (i, s) in steps.iter().enumerate() {
            match *s {
                Step::Edit(w) => {
                    writers[w].put(ROOT, format!("k{}", i % 5), i as i64).unwrap();
                    writers[w].commit();
                }
                Step::Merge(a, b) if a != b => {
                    let mut other = writers[b].clone();
                    writers[a].merge(&mut other).unwrap();
                }
                Step::Merge(..) => {}
            }
        }
        let mut all = base.clone();
        for w in &mut writers {
            all.merge(w).unwrap();
        }
        let hashes: Vec<ChangeHash> = all.get_changes(&[]).iter().map(|c| c.hash()).collect();
        // The remote's heads: any changes of the history (not only current heads), and
        // sometimes one this document never saw (it is ignored, as upstream does).
        let mut heads: Vec<ChangeHash> = picks.iter().map(|p| *p.get(&hashes)).collect();
        let unknown = ChangeHash([7; 32]);
        if with_unknown {
            heads.push(unknown);
        }
        let mut sent: BTreeSet<ChangeHash> = sent_picks.iter().map(|p| *p.get(&hashes)).collect();
        if with_unknown {
            sent.insert(ChangeHash([9; 32]));
        }
        let known = ancestors(&mut all, &heads);
        let expected: BTreeSet<ChangeHash> = sent.difference(&known).copied().collect();
        prop_assert_eq!(sent_after_message(&mut all, &sent, heads), expected);
    }
}

#[test]
fn nothing_sent_stays_nothing_and_the_current_heads_clear_everything() {
    let mut doc = AutoCommit::new().with_actor(ActorId::random());
    for i in 0..40 {
        doc.put(ROOT, "n", i).unwrap();
        doc.commit();
    }
    let heads = doc.get_heads();
    let all: BTreeSet<ChangeHash> = doc.get_changes(&[]).iter().map(|c| c.hash()).collect();
    assert_eq!(sent_after_message(&mut doc, &BTreeSet::new(), heads.clone()), BTreeSet::new());
    assert_eq!(sent_after_message(&mut doc, &all, heads), BTreeSet::new());
    // Heads the document does not know trim nothing.
    assert_eq!(sent_after_message(&mut doc, &all, vec![ChangeHash([3; 32])]), all);
}
