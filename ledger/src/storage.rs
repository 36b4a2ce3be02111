//! The storage policy both the browser and the server follow for a document kept as one
//! snapshot plus incremental chunks.

/// When to fold the chunks into a fresh snapshot. Loading many small chunks is slower than one
/// snapshot, and chunks repeat what a snapshot compresses away; compacting too often rewrites a
/// large snapshot for every small edit.
#[derive(Debug, Clone, Copy)]
pub struct CompactionPolicy {
    pub max_chunks: usize,
    /// Compact once the chunks add up to this fraction of the snapshot (in percent)...
    pub max_chunk_percent: usize,
    /// ...but never for less than this many chunk bytes.
    pub min_chunk_bytes: usize,
}

impl Default for CompactionPolicy {
    fn default() -> Self {
        Self { max_chunks: 64, max_chunk_percent: 50, min_chunk_bytes: 16 * 1024 }
    }
}

impl CompactionPolicy {
    pub fn should_compact(&self, chunk_count: usize, chunk_bytes: usize, snapshot_bytes: usize) -> bool {
        chunk_count > self.max_chunks
            || (chunk_bytes >= self.min_chunk_bytes && chunk_bytes * 100 > snapshot_bytes * self.max_chunk_percent)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compacts_on_many_chunks_or_large_chunks() {
        let p = CompactionPolicy::default();
        assert!(!p.should_compact(3, 500, 100_000));
        assert!(p.should_compact(65, 500, 100_000));
        assert!(p.should_compact(10, 60_000, 100_000));
        assert!(!p.should_compact(10, 8_000, 1_000), "small totals wait");
        assert!(p.should_compact(10, 20_000, 1_000));
    }
}
