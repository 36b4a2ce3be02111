//! Checks on what a remote sends before Automerge sees it. Automerge trusts the parameters of a
//! sync message's Bloom filters: a few dozen crafted bytes declaring billions of probes make it
//! allocate gigabytes, and a filter with entries but no bits divides by zero. Honest peers
//! (automerge 0.5 to 0.12, automerge-js 2 and 3) write 10 bits per entry and 7 probes.

use automerge::sync;

/// Most probes a filter may ask for: honest peers use 7.
pub const MAX_BLOOM_PROBES: u32 = 64;
/// Most bits per entry a filter may declare: honest peers use 10.
pub const MAX_BLOOM_BITS_PER_ENTRY: u32 = 64;
/// Most filters one message may carry (one per peer the sender remembers having synced with).
pub const MAX_HAVES: usize = 64;
/// Most bytes the changes of one message may inflate to (a compressed change is DEFLATE: up to
/// a thousand times its size).
pub const MAX_INFLATED_BYTES_PER_MESSAGE: usize = 32 * 1024 * 1024;
/// Most operations one message may carry. Every character typed into a text field is one; a
/// year of a unit's ledger is a few hundred thousand. Applying an operation costs Automerge a
/// few hundred bytes while it works.
pub const MAX_OPS_PER_MESSAGE: usize = 1_000_000;
/// Most changes a connection may have waiting for dependencies it has not sent. A Bloom
/// filter's false positive leaves out one change and sends everything after it, and a phone's
/// offline edits are one chain: a false positive early in a run of 2,000 left 1,999 waiting,
/// and the old limit of 1,000 refused that phone on every retry (the same filter, the same false
/// positive) until the document changed. 20,000 is years of one person's saves; more is a peer
/// filling memory with changes that never apply. Bytes are bounded below.
pub const MAX_WAITING_CHANGES: usize = 20_000;
/// Most bytes (inflated) the changes a connection has waiting may take.
pub const MAX_WAITING_BYTES: usize = 64 * 1024 * 1024;
/// Most changes waiting for dependencies in one document, from all its connections together.
/// A connection's leftovers leave with it (the document goes back to what storage holds).
pub const MAX_WAITING_CHANGES_PER_DOCUMENT: usize = 50_000;
/// Most bytes (inflated) waiting in one document, from all its connections together.
pub const MAX_WAITING_BYTES_PER_DOCUMENT: usize = 256 * 1024 * 1024;
/// Most documents one connection may sync. A phone syncs its unit's ledgers, a supervisor's
/// desk those of the units below: hundreds. Each costs the server a sync state per connection.
pub const MAX_DOCUMENTS_PER_CONNECTION: usize = 4_096;

/// Whether a decoded sync message is safe to hand to Automerge; the reason if not.
pub fn check_sync_message(message: &sync::Message) -> Result<(), String> {
    if message.have.len() > MAX_HAVES {
        return Err(format!("too many bloom filters ({})", message.have.len()));
    }
    for have in &message.have {
        let bytes = have.bloom.to_bytes();
        if bytes.is_empty() {
            continue; // an empty filter: nothing to probe
        }
        let (entries, rest) = leb128_u32(&bytes).ok_or("bloom filter: bad entry count")?;
        let (bits_per_entry, rest) = leb128_u32(rest).ok_or("bloom filter: bad bits per entry")?;
        let (probes, bits) = leb128_u32(rest).ok_or("bloom filter: bad probe count")?;
        if entries == 0 {
            continue;
        }
        if probes == 0 || probes > MAX_BLOOM_PROBES {
            return Err(format!("bloom filter: {probes} probes (at most {MAX_BLOOM_PROBES})"));
        }
        if bits_per_entry == 0 || bits_per_entry > MAX_BLOOM_BITS_PER_ENTRY {
            return Err(format!("bloom filter: {bits_per_entry} bits per entry (at most {MAX_BLOOM_BITS_PER_ENTRY})"));
        }
        if bits.is_empty() {
            return Err("bloom filter: entries but no bits".into());
        }
    }
    Ok(())
}

/// An unsigned LEB128 number that fits in 32 bits, and what follows it.
fn leb128_u32(bytes: &[u8]) -> Option<(u32, &[u8])> {
    let mut value: u64 = 0;
    for (i, b) in bytes.iter().enumerate().take(5) {
        value |= u64::from(b & 0x7f) << (7 * i);
        if b & 0x80 == 0 {
            return u32::try_from(value).ok().map(|v| (v, &bytes[i + 1..]));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use automerge::sync::SyncDoc;
    use automerge::transaction::Transactable;
    use automerge::{AutoCommit, ROOT};

    use super::*;

    /// A sync message whose one filter has these parameters and `bits` bytes of bits: the
    /// crafted messages that crashed or stalled the server.
    pub(crate) fn crafted(entries: u32, bits_per_entry: u32, probes: u32, bits: usize) -> Vec<u8> {
        let mut doc = AutoCommit::new();
        doc.put(ROOT, "k", "v").unwrap();
        doc.commit();
        let mut state = sync::State::new();
        // An honest first message, with its filter replaced by ours.
        let mut m = doc.sync().generate_sync_message(&mut state).unwrap();
        let mut filter = Vec::new();
        for n in [entries, bits_per_entry, probes] {
            leb128_write(&mut filter, n);
        }
        filter.extend(std::iter::repeat_n(0xffu8, bits));
        m.have = vec![sync::Have { last_sync: Vec::new(), bloom: decode_bloom(&filter) }];
        m.encode()
    }

    fn leb128_write(out: &mut Vec<u8>, mut n: u32) {
        loop {
            let b = (n & 0x7f) as u8;
            n >>= 7;
            if n == 0 {
                out.push(b);
                return;
            }
            out.push(b | 0x80);
        }
    }

    fn decode_bloom(filter: &[u8]) -> automerge::sync::BloomFilter {
        automerge::sync::BloomFilter::try_from(filter).unwrap()
    }

    #[test]
    fn honest_messages_pass() {
        let mut a = AutoCommit::new();
        for i in 0..100 {
            a.put(ROOT, format!("k{i}"), i).unwrap();
            a.commit();
        }
        let mut b = a.fork();
        b.put(ROOT, "b", 1).unwrap();
        b.commit();
        let (mut sa, mut sb) = (sync::State::new(), sync::State::new());
        for _ in 0..4 {
            if let Some(m) = a.sync().generate_sync_message(&mut sa) {
                check_sync_message(&m).unwrap();
                b.sync().receive_sync_message(&mut sb, m).unwrap();
            }
            if let Some(m) = b.sync().generate_sync_message(&mut sb) {
                check_sync_message(&m).unwrap();
                a.sync().receive_sync_message(&mut sa, m).unwrap();
            }
        }
        assert_eq!(a.get_heads(), b.get_heads());
    }

    #[test]
    fn crafted_bloom_filters_are_refused() {
        for (entries, bpe, probes, bits, why) in
            [(1, 10, u32::MAX, 2, "probes"), (1, 10, 5_000_000, 2, "probes"), (1, 10, 0, 2, "probes"), (5, 0, 7, 0, "bits per entry"), (1, 1_000, 7, 125, "bits per entry")]
        {
            let m = sync::Message::decode(&crafted(entries, bpe, probes, bits)).unwrap();
            let err = check_sync_message(&m).unwrap_err();
            assert!(err.contains(why), "{entries}/{bpe}/{probes}: {err}");
        }
        let ok = sync::Message::decode(&crafted(3, 10, 7, 4)).unwrap();
        check_sync_message(&ok).unwrap();
    }
}
