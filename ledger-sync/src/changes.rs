//! Checks on the changes an untrusted remote sends, before and after Automerge applies them.
//!
//! Automerge trusts what it loads: a 4 KB compressed change inflates to a 4-million-character
//! text (gigabytes while applying), a few run-length-encoded bytes declare millions of ops, and
//! a change whose op counter skips numbers is stored, loads in Rust and fails in automerge-js
//! ("missing ops"). The server therefore takes only change chunks (it never advertises the
//! V2 sync format, whose whole-document chunks compress each column separately), inflates them
//! here against a bound, counts their ops, and checks every change that was applied.
//!
//! Automerge's chunk header is parsed by hand below: automerge does not expose it, and the
//! bound must hold *before* automerge inflates anything.

use std::collections::{HashMap, HashSet};
use std::io::Read;

use automerge::{sync, AutoCommit, Change, ChangeHash};

use crate::limits::{MAX_INFLATED_BYTES_PER_MESSAGE, MAX_OPS_PER_MESSAGE};

const MAGIC: [u8; 4] = [0x85, 0x6f, 0x4a, 0x83];
const CHANGE: u8 = 1;
const COMPRESSED_CHANGE: u8 = 2;

/// What a message brings, once checked.
pub struct Incoming {
    /// The changes the document does not have yet, in the message's order.
    pub new: Vec<Change>,
    /// Bytes the message's changes inflate to.
    pub inflated: usize,
}

/// Checks a sync message's changes before they touch the document: only change chunks, each
/// inflating within the bound, all of them together within the op bound.
pub fn check_incoming(doc: &mut AutoCommit, chunks: &sync::ChunkList) -> Result<Incoming, String> {
    let mut inflated_total = 0usize;
    let mut ops_total = 0usize;
    let mut new = Vec::new();
    let mut in_message: HashMap<ChangeHash, u64> = HashMap::new();
    for element in chunks.iter() {
        let mut rest = element;
        while !rest.is_empty() {
            let (chunk, data_start, after) = split_chunk(rest)?;
            rest = after;
            let chunk_type = chunk[8];
            let data_len = match chunk_type {
                CHANGE => chunk.len(),
                COMPRESSED_CHANGE => inflated_len(&chunk[data_start..], MAX_INFLATED_BYTES_PER_MESSAGE - inflated_total)?,
                0 => return Err("whole-document chunks are not accepted from a peer: send changes".into()),
                other => return Err(format!("chunk type {other} is not accepted from a peer: send changes")),
            };
            inflated_total += data_len;
            if inflated_total > MAX_INFLATED_BYTES_PER_MESSAGE {
                return Err(format!("changes inflate past {MAX_INFLATED_BYTES_PER_MESSAGE} bytes"));
            }
            let change = Change::try_from(chunk).map_err(|e| format!("bad change: {e}"))?;
            ops_total += change.len();
            if ops_total > MAX_OPS_PER_MESSAGE {
                return Err(format!("more than {MAX_OPS_PER_MESSAGE} operations in one message"));
            }
            // Metadata only: building the whole change walks the document's operations.
            if doc.get_change_meta_by_hash(&change.hash()).is_none() {
                check_op_counter(doc, &change, &in_message)?;
                in_message.insert(change.hash(), change.max_op());
                new.push(change);
            }
        }
    }
    Ok(Incoming { new, inflated: inflated_total })
}

/// Splits received changes into those whose dependencies are all known (in the document, or
/// earlier in the first list), in an order where each comes after its dependencies, and those
/// that wait for a dependency the remote has not sent. A remote leaves one out when our bloom
/// filter falsely says we have it (about one change in a hundred) and sends what builds on it;
/// what builds on it names objects the document does not have yet, so it can be checked only
/// once its dependencies are here. Changes already in the document are dropped.
pub fn split_ready(doc: &mut AutoCommit, changes: Vec<Change>) -> (Vec<Change>, Vec<Change>) {
    let mut seen = HashSet::new();
    let changes: Vec<Change> = changes.into_iter().filter(|c| seen.insert(c.hash()) && doc.get_change_meta_by_hash(&c.hash()).is_none()).collect();
    let at: HashMap<ChangeHash, usize> = changes.iter().enumerate().map(|(i, c)| (c.hash(), i)).collect();
    let mut changes: Vec<Option<Change>> = changes.into_iter().map(Some).collect();
    // Kahn's order over the received changes; one whose dependency is nowhere never starts.
    let mut unmet = vec![0usize; changes.len()];
    let mut dependents: HashMap<usize, Vec<usize>> = HashMap::new();
    let mut start = Vec::new();
    for (i, change) in changes.iter().enumerate() {
        let Some(change) = change else { continue };
        let mut nowhere = false;
        for dep in change.deps() {
            match at.get(dep) {
                Some(&j) => {
                    unmet[i] += 1;
                    dependents.entry(j).or_default().push(i);
                }
                None => nowhere |= doc.get_change_meta_by_hash(dep).is_none(),
            }
        }
        if nowhere {
            unmet[i] = usize::MAX;
        } else if unmet[i] == 0 {
            start.push(i);
        }
    }
    let mut ready = Vec::new();
    while let Some(i) = start.pop() {
        ready.extend(changes[i].take());
        for &d in dependents.get(&i).into_iter().flatten() {
            if unmet[d] != usize::MAX {
                unmet[d] -= 1;
                if unmet[d] == 0 {
                    start.push(d);
                }
            }
        }
    }
    (ready, changes.into_iter().flatten().collect())
}

/// The dependencies of `waiting` changes that neither the document nor they hold: what to ask
/// the remote for, beside what Automerge asks for (`need`) that is not among them.
pub fn still_needed(doc: &mut AutoCommit, waiting: &[Change], need: &[ChangeHash]) -> Vec<ChangeHash> {
    let held: HashSet<ChangeHash> = waiting.iter().map(Change::hash).collect();
    let mut needed: Vec<ChangeHash> = need.iter().chain(waiting.iter().flat_map(|c| c.deps())).filter(|h| !held.contains(h)).copied().collect();
    needed.retain(|h| doc.get_change_meta_by_hash(h).is_none());
    needed.sort();
    needed.dedup();
    needed
}

/// A change whose dependencies are all known (in the document or earlier in the message) must
/// start its op counter right after theirs. Checked before applying: Automerge applies a change
/// whose op ids collide with existing ones and then panics reading the document back. A change
/// waiting for a dependency is checked by `check_applied` once it is applied.
fn check_op_counter(doc: &mut AutoCommit, change: &Change, in_message: &HashMap<ChangeHash, u64>) -> Result<(), String> {
    let mut max_dep = 0;
    for dep in change.deps() {
        let max_op = match in_message.get(dep) {
            Some(max_op) => *max_op,
            None => match doc.get_change_meta_by_hash(dep) {
                Some(d) => d.max_op,
                None => return Ok(()),
            },
        };
        max_dep = max_dep.max(max_op);
    }
    gap(&change.hash(), change.start_op().get(), max_dep)
}

fn gap(hash: &ChangeHash, start_op: u64, max_dep: u64) -> Result<(), String> {
    if start_op != max_dep + 1 {
        return Err(format!("change {hash} starts its operations at {start_op}, not {} (a gap in the op counter)", max_dep + 1));
    }
    Ok(())
}

/// Checks every change applied since `before`: each starts its op counter right after the
/// largest counter of its dependencies, as every implementation writes them and as
/// automerge-js requires to load the document. Returns the applied changes, for storage.
pub fn check_applied(doc: &mut AutoCommit, before: &[ChangeHash]) -> Result<Vec<Change>, String> {
    // Whole changes, not metadata: rebuilding each applied change from the document is what
    // `save()` will do, and a forged change that cannot be rebuilt must be refused here (the
    // forged_changes fuzz target found one that metadata let through, whose document then
    // did not load). The rebuilt changes are what storage appends, so the work is done once.
    let applied = doc.get_changes(before);
    for change in &applied {
        let mut max_dep = 0;
        for dep in change.deps() {
            let Some(d) = doc.get_change_meta_by_hash(dep) else { return Err(format!("change {} applied without its dependency {dep}", change.hash())) };
            max_dep = max_dep.max(d.max_op);
        }
        gap(&change.hash(), change.start_op().get(), max_dep)?;
    }
    Ok(applied)
}

/// Splits off the first chunk (magic, checksum, type, LEB128 length, data): the chunk, where
/// its data starts, and the rest.
fn split_chunk(bytes: &[u8]) -> Result<(&[u8], usize, &[u8]), String> {
    if bytes.len() < 10 || bytes[..4] != MAGIC {
        return Err("not an Automerge chunk".into());
    }
    let (len, header) = leb128_u64(&bytes[9..]).ok_or("bad chunk length")?;
    let total = (9 + header).checked_add(usize::try_from(len).map_err(|_| "bad chunk length")?).ok_or("bad chunk length")?;
    if total > bytes.len() {
        return Err("chunk longer than the message".into());
    }
    let (chunk, rest) = bytes.split_at(total);
    Ok((chunk, 9 + header, rest))
}

/// How many bytes `deflated` inflates to, refusing at `limit` without inflating further.
fn inflated_len(deflated: &[u8], limit: usize) -> Result<usize, String> {
    let decoder = flate2::bufread::DeflateDecoder::new(deflated);
    let mut sink = std::io::sink();
    let n = std::io::copy(&mut decoder.take(limit as u64 + 1), &mut sink).map_err(|_| "a compressed change does not inflate")?;
    if n > limit as u64 {
        return Err(format!("changes inflate past {MAX_INFLATED_BYTES_PER_MESSAGE} bytes"));
    }
    Ok(n as usize)
}

/// An unsigned LEB128 number and how many bytes it took.
fn leb128_u64(bytes: &[u8]) -> Option<(u64, usize)> {
    let mut value: u64 = 0;
    for (i, b) in bytes.iter().enumerate().take(10) {
        value |= u64::from(b & 0x7f).checked_shl(7 * i as u32)?;
        if b & 0x80 == 0 {
            return Some((value, i + 1));
        }
    }
    None
}

#[cfg(test)]
mod tests;
