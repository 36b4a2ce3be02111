//! Well-formed but forged changes, against a real document. Random bytes rarely carry a valid
//! chunk checksum, so the `changes` target mostly meets the refusals; this one builds honest
//! changes with Automerge's own API, rewrites their fields the way the hand-made attacks did
//! (op counter, sequence number, dependencies, actor, an op's object, key, predecessors,
//! action), and re-encodes them with a fresh hash. Whatever the checks accept must save and load
//! again in Rust; with `PIONEER_FUZZ_KEEP=DIR` the accepted forged documents are also written
//! there for `scripts/fuzz_js_check.mjs`, which loads each in automerge-js.
#![no_main]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;

use automerge::transaction::Transactable;
use automerge::{ActorId, AutoCommit, Change, ExpandedChange, ObjType, ReadDoc, ScalarValue, ROOT};
use ledger_sync::changes::{check_applied, check_incoming};
use libfuzzer_sys::arbitrary::{Result, Unstructured};
use libfuzzer_sys::fuzz_target;
use pioneer_fuzz::{allow_guarded_panics, guarded};
use serde_json::{json, Value};

const KEYS: [&str; 4] = ["title", "status", "note", "heard"];
const KEPT_AT_MOST: usize = 20_000;
static KEPT: AtomicUsize = AtomicUsize::new(0);

/// A ledger-like document: a map, a text, a list and a counter for the forged ops to target.
fn base() -> &'static AutoCommit {
    static BASE: OnceLock<AutoCommit> = OnceLock::new();
    BASE.get_or_init(|| {
        let mut doc = AutoCommit::new().with_actor(ActorId::from([1u8; 16]));
        doc.put(ROOT, "title", "走访记录").unwrap();
        let text = doc.put_object(ROOT, "heard", ObjType::Text).unwrap();
        doc.splice_text(&text, 0, 0, "路灯坏了").unwrap();
        let list = doc.put_object(ROOT, "log", ObjType::List).unwrap();
        doc.insert(&list, 0, "登记").unwrap();
        doc.put(ROOT, "count", ScalarValue::counter(1)).unwrap();
        doc.commit();
        doc
    })
}

/// One of three actors: the base document's own (so sequence numbers can collide), or two others.
fn actor(u: &mut Unstructured) -> Result<ActorId> {
    Ok(ActorId::from([*u.choose(&[1u8, 2, 3])?; 16]))
}

/// Honest edits with Automerge's API, committed in one to three changes.
fn honest_changes(u: &mut Unstructured) -> Result<Vec<Change>> {
    let mut doc = base().clone().with_actor(actor(u)?);
    let heads = doc.get_heads();
    for _ in 0..u.int_in_range(1..=3)? {
        for _ in 0..u.int_in_range(1..=4)? {
            let key = *u.choose(&KEYS)?;
            // Edits Automerge itself refuses (a key that is not a text, say) are simply skipped.
            let _ = match u.int_in_range(0..=6)? {
                0 => doc.put(ROOT, key, u.arbitrary::<i64>()?).map(drop),
                1 => doc.put(ROOT, key, String::from(u.arbitrary::<&str>()?)).map(drop),
                2 => doc.put_object(ROOT, key, *u.choose(&[ObjType::Map, ObjType::List, ObjType::Text])?).map(drop),
                3 => match doc.get(ROOT, "heard") {
                    Ok(Some((_, text))) => {
                        let len = doc.length(&text);
                        let pos = u.int_in_range(0..=len)?;
                        let del = u.int_in_range(0..=(len - pos).min(3))? as isize;
                        doc.splice_text(&text, pos, del, u.arbitrary::<&str>()?).map(drop)
                    }
                    _ => Ok(()),
                },
                4 => match doc.get(ROOT, "log") {
                    Ok(Some((_, list))) => doc.insert(&list, 0, u.arbitrary::<i64>()?).map(drop),
                    _ => Ok(()),
                },
                5 => doc.delete(ROOT, key).map(drop),
                _ => doc.increment(ROOT, "count", u.int_in_range(-5..=5)?).map(drop),
            };
        }
        doc.commit();
    }
    Ok(doc.get_changes(&heads))
}

fn op_id(u: &mut Unstructured, around: u64) -> Result<Value> {
    let counter = around.saturating_add_signed(u.int_in_range(-3..=3)?).max(1);
    Ok(Value::String(format!("{counter}@{}", actor(u)?)))
}

/// Rewrites one field of the change the way an attacker (or a buggy peer) would.
fn forge(u: &mut Unstructured, change: &mut Value, others: &[String]) -> Result<()> {
    let start_op = change["startOp"].as_u64().unwrap_or(1);
    match u.int_in_range(0..=10)? {
        0 => change["startOp"] = json!(start_op.saturating_add_signed(u.int_in_range(-3..=3)?).max(1)),
        1 => change["seq"] = json!(change["seq"].as_u64().unwrap_or(1).saturating_add_signed(u.int_in_range(-2..=2)?)),
        2 => change["actor"] = json!(actor(u)?.to_hex_string()),
        3 => {
            let deps = change["deps"].as_array_mut().unwrap();
            match u.int_in_range(0..=2)? {
                0 => deps.clear(),
                1 => deps.push(json!(hex(&u.arbitrary::<[u8; 32]>()?))),
                _ => {
                    if let Some(other) = others.get(u.choose_index(others.len().max(1))?) {
                        deps.push(json!(other));
                    }
                }
            }
        }
        _ => {
            let Some(ops) = change["ops"].as_array_mut() else { return Ok(()) };
            if ops.is_empty() {
                return Ok(());
            }
            let i = u.choose_index(ops.len())?;
            match u.int_in_range(0..=6)? {
                0 => ops[i]["obj"] = if u.arbitrary()? { json!("_root") } else { op_id(u, start_op)? },
                1 => {
                    ops[i].as_object_mut().unwrap().remove("key");
                    ops[i]["elemId"] = if u.arbitrary()? { json!("_head") } else { op_id(u, start_op)? };
                }
                2 => {
                    let pred = op_id(u, start_op)?;
                    match ops[i]["pred"].as_array_mut() {
                        Some(preds) if u.arbitrary()? => preds.push(pred),
                        _ => ops[i]["pred"] = json!([]),
                    }
                }
                3 => ops[i]["insert"] = json!(!ops[i]["insert"].as_bool().unwrap_or(false)),
                4 => ops[i]["action"] = json!(*u.choose(&["makeMap", "makeList", "makeText", "del", "inc", "set"])?),
                5 => {
                    let copy = ops[i].clone();
                    ops.insert(i, copy);
                }
                _ => {
                    ops.remove(i);
                }
            }
        }
    }
    Ok(())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The honest changes with some forged, re-encoded with fresh hashes; a later change that
/// depended on a forged one may be re-pointed at its new hash (a consistent forged history) or
/// left dangling (an orphan).
fn forged_changes(u: &mut Unstructured) -> Result<(Vec<u8>, bool)> {
    let honest = honest_changes(u)?;
    let hashes: Vec<String> = honest.iter().map(|c| c.hash().to_string()).collect();
    let mut renamed: Vec<(String, String)> = Vec::new();
    let mut out = Vec::new();
    let mut forged_any = false;
    for change in honest {
        let mut value = serde_json::to_value(change.decode()).unwrap();
        if u.arbitrary()? {
            for (old, new) in &renamed {
                for dep in value["deps"].as_array_mut().unwrap() {
                    if dep.as_str() == Some(old) {
                        *dep = json!(new);
                    }
                }
            }
        }
        for _ in 0..u.int_in_range(0..=2)? {
            forge(u, &mut value, &hashes)?;
            forged_any = true;
        }
        value.as_object_mut().unwrap().remove("hash");
        let Ok(expanded) = serde_json::from_value::<ExpandedChange>(value) else { continue };
        let mut forged = Change::from(expanded);
        renamed.push((change.hash().to_string(), forged.hash().to_string()));
        // Large changes go compressed (as Automerge sends them) or raw.
        out.push(if u.arbitrary()? { forged.bytes().to_vec() } else { forged.raw_bytes().to_vec() });
    }
    if u.arbitrary()? {
        out.reverse();
    }
    Ok((out.concat(), forged_any))
}

fuzz_target!(init: allow_guarded_panics(), |data: &[u8]| {
    let mut u = Unstructured::new(data);
    let Ok((bytes, forged)) = forged_changes(&mut u) else { return };
    if std::env::var_os("PIONEER_FUZZ_DEBUG").is_some() {
        for change in automerge::sync::ChunkList::from(bytes.clone()).iter().filter_map(|c| Change::from_bytes(c.to_vec()).ok()) {
            eprintln!("{}", serde_json::to_string(&change.decode()).unwrap());
        }
    }
    let mut doc = base().clone();
    if check_incoming(&mut doc, &automerge::sync::ChunkList::from(bytes.clone())).is_err() {
        return;
    }
    let before = doc.get_heads();
    let applied = guarded(|| doc.load_incremental(&bytes));
    if !matches!(applied, Ok(Ok(_))) {
        return;
    }
    // The server runs this inside the same panic guard as Automerge's apply.
    let checked = guarded(|| check_applied(&mut doc, &before));
    let Ok(Ok(applied)) = checked else { return };
    let saved = doc.save();
    let mut loaded = AutoCommit::load(&saved).expect("an accepted document loads");
    assert_eq!(loaded.get_heads(), doc.get_heads());
    // What the server appends to storage is the changes check_applied returned, after what it
    // held: that must load to the same document too.
    let mut stored = base().clone().save();
    stored.extend(applied.iter().flat_map(|c| c.raw_bytes().iter().copied()));
    let mut reloaded = AutoCommit::load(&stored).expect("what the server stores loads");
    assert_eq!(reloaded.get_heads(), doc.get_heads());
    if forged && doc.get_heads() != before {
        keep(&saved, &doc.get_heads());
    }
});

/// Writes an accepted forged document for the automerge-js check, named by its heads (at most
/// `KEPT_AT_MOST` of them).
fn keep(saved: &[u8], heads: &[automerge::ChangeHash]) {
    let Some(dir) = std::env::var_os("PIONEER_FUZZ_KEEP") else { return };
    // The first 16 hex digits of each head: enough to compare, short enough for a file name.
    let name: Vec<String> = heads.iter().map(|h| h.to_string()[..16].to_owned()).collect();
    let path = std::path::Path::new(&dir).join(format!("{}.automerge", name.join("-")));
    if path.exists() || KEPT.fetch_add(1, Ordering::Relaxed) >= KEPT_AT_MOST {
        return;
    }
    let _ = std::fs::write(path, saved);
}
