//! Durable storage in SQLite (WAL): each document as a snapshot plus appended chunks, and the
//! sync states of peers that keep theirs. Every call is one transaction; a call returns only
//! after it has committed. Calls block: run them on tokio's blocking pool.

use std::path::Path;
use std::sync::Mutex;

use ledger::protocol::DocumentId;
use ledger::storage::CompactionPolicy;
use rusqlite::{params, Connection, OptionalExtension};

pub struct Storage {
    db: Mutex<Connection>,
    policy: CompactionPolicy,
}

pub type Result<T> = std::result::Result<T, String>;

fn err(e: rusqlite::Error) -> String {
    format!("storage: {e}")
}

impl Storage {
    pub fn open(dir: &Path) -> Result<Self> {
        std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        let db = Connection::open(dir.join("ledger.sqlite3")).map_err(err)?;
        // WAL: readers never block the writer. synchronous=FULL: a commit survives power loss,
        // not only a killed process, before anything is acknowledged.
        db.execute_batch(
            "PRAGMA journal_mode = WAL;
             PRAGMA synchronous = FULL;
             PRAGMA foreign_keys = ON;
             CREATE TABLE IF NOT EXISTS documents (
                 id TEXT PRIMARY KEY,
                 snapshot BLOB NOT NULL,
                 created_at INTEGER NOT NULL DEFAULT (unixepoch())
             );
             CREATE TABLE IF NOT EXISTS chunks (
                 seq INTEGER PRIMARY KEY AUTOINCREMENT,
                 doc TEXT NOT NULL REFERENCES documents(id),
                 bytes BLOB NOT NULL
             );
             CREATE INDEX IF NOT EXISTS chunks_by_doc ON chunks(doc, seq);
             CREATE TABLE IF NOT EXISTS sync_states (
                 storage_id TEXT NOT NULL,
                 doc TEXT NOT NULL,
                 state BLOB NOT NULL,
                 PRIMARY KEY (storage_id, doc)
             );
             CREATE TABLE IF NOT EXISTS settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);",
        )
        .map_err(err)?;
        Ok(Self { db: Mutex::new(db), policy: CompactionPolicy::default() })
    }

    fn db(&self) -> std::sync::MutexGuard<'_, Connection> {
        // A panic while holding the lock leaves SQLite itself consistent; carry on.
        self.db.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Creates a document with its first bytes, unless it exists.
    pub fn create(&self, doc: &DocumentId, snapshot: &[u8]) -> Result<bool> {
        let n = self
            .db()
            .execute("INSERT OR IGNORE INTO documents (id, snapshot) VALUES (?1, ?2)", params![doc.to_string(), snapshot])
            .map_err(err)?;
        Ok(n == 1)
    }

    /// The document's bytes (snapshot followed by its chunks), or None if it does not exist.
    pub fn load(&self, doc: &DocumentId) -> Result<Option<Vec<u8>>> {
        let db = self.db();
        let id = doc.to_string();
        let Some(mut bytes) = db
            .query_row("SELECT snapshot FROM documents WHERE id = ?1", [&id], |r| r.get::<_, Vec<u8>>(0))
            .optional()
            .map_err(err)?
        else {
            return Ok(None);
        };
        let mut stmt = db.prepare_cached("SELECT bytes FROM chunks WHERE doc = ?1 ORDER BY seq").map_err(err)?;
        let chunks = stmt.query_map([&id], |r| r.get::<_, Vec<u8>>(0)).map_err(err)?;
        for chunk in chunks {
            bytes.extend(chunk.map_err(err)?);
        }
        Ok(Some(bytes))
    }

    /// Appends changes; returns whether the document is due for compaction.
    pub fn append(&self, doc: &DocumentId, changes: &[u8]) -> Result<bool> {
        let db = self.db();
        let id = doc.to_string();
        db.execute("INSERT INTO chunks (doc, bytes) VALUES (?1, ?2)", params![id, changes]).map_err(err)?;
        let (count, chunk_bytes, snapshot_bytes): (i64, i64, i64) = db
            .query_row(
                "SELECT COUNT(*), COALESCE(SUM(LENGTH(c.bytes)), 0), (SELECT LENGTH(snapshot) FROM documents WHERE id = ?1)
                 FROM chunks c WHERE c.doc = ?1",
                [&id],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .map_err(err)?;
        Ok(self.policy.should_compact(count as usize, chunk_bytes as usize, snapshot_bytes as usize))
    }

    /// Replaces the snapshot with `snapshot` and deletes exactly the chunks up to `upto_seq`,
    /// which the caller has folded into it. Chunks appended meanwhile stay.
    pub fn compact(&self, doc: &DocumentId, snapshot: &[u8], upto_seq: i64) -> Result<()> {
        let mut db = self.db();
        let tx = db.transaction().map_err(err)?;
        let id = doc.to_string();
        tx.execute("UPDATE documents SET snapshot = ?2 WHERE id = ?1", params![id, snapshot]).map_err(err)?;
        tx.execute("DELETE FROM chunks WHERE doc = ?1 AND seq <= ?2", params![id, upto_seq]).map_err(err)?;
        tx.commit().map_err(err)
    }

    /// The newest chunk's sequence number, for `compact`.
    pub fn last_seq(&self, doc: &DocumentId) -> Result<i64> {
        self.db()
            .query_row("SELECT COALESCE(MAX(seq), 0) FROM chunks WHERE doc = ?1", [doc.to_string()], |r| r.get(0))
            .map_err(err)
    }

    pub fn sync_states(&self, storage_id: &str) -> Result<Vec<(DocumentId, Vec<u8>)>> {
        let db = self.db();
        let mut stmt = db.prepare_cached("SELECT doc, state FROM sync_states WHERE storage_id = ?1").map_err(err)?;
        let rows = stmt
            .query_map([storage_id], |r| Ok((r.get::<_, String>(0)?, r.get::<_, Vec<u8>>(1)?)))
            .map_err(err)?;
        let mut out = Vec::new();
        for row in rows {
            let (doc, state) = row.map_err(err)?;
            if let Ok(doc) = DocumentId::parse(&doc) {
                out.push((doc, state));
            }
        }
        Ok(out)
    }

    pub fn put_sync_state(&self, storage_id: &str, doc: &DocumentId, state: &[u8]) -> Result<()> {
        self.db()
            .execute(
                "INSERT INTO sync_states (storage_id, doc, state) VALUES (?1, ?2, ?3)
                 ON CONFLICT (storage_id, doc) DO UPDATE SET state = excluded.state",
                params![storage_id, doc.to_string(), state],
            )
            .map(|_| ())
            .map_err(err)
    }

    pub fn setting(&self, key: &str) -> Result<Option<String>> {
        self.db()
            .query_row("SELECT value FROM settings WHERE key = ?1", [key], |r| r.get(0))
            .optional()
            .map_err(err)
    }

    pub fn put_setting(&self, key: &str, value: &str) -> Result<()> {
        self.db()
            .execute("INSERT INTO settings (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE SET value = excluded.value", params![key, value])
            .map(|_| ())
            .map_err(err)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_chunks_and_compaction() {
        let dir = tempfile::tempdir().unwrap();
        let s = Storage::open(dir.path()).unwrap();
        let doc = DocumentId::random();
        assert_eq!(s.load(&doc).unwrap(), None);
        assert!(s.create(&doc, b"S").unwrap());
        assert!(!s.create(&doc, b"X").unwrap(), "create must not overwrite");
        s.append(&doc, b"a").unwrap();
        s.append(&doc, b"b").unwrap();
        assert_eq!(s.load(&doc).unwrap().unwrap(), b"Sab");
        let upto = s.last_seq(&doc).unwrap();
        s.append(&doc, b"c").unwrap(); // written after the compactor read: must survive
        s.compact(&doc, b"SAB", upto).unwrap();
        assert_eq!(s.load(&doc).unwrap().unwrap(), b"SABc");
        drop(s);
        let s = Storage::open(dir.path()).unwrap();
        assert_eq!(s.load(&doc).unwrap().unwrap(), b"SABc");
    }

    #[test]
    fn sync_states_are_per_storage_id() {
        let dir = tempfile::tempdir().unwrap();
        let s = Storage::open(dir.path()).unwrap();
        let doc = DocumentId::random();
        s.put_sync_state("phone-1", &doc, b"one").unwrap();
        s.put_sync_state("phone-1", &doc, b"two").unwrap();
        assert_eq!(s.sync_states("phone-1").unwrap(), vec![(doc, b"two".to_vec())]);
        assert!(s.sync_states("phone-2").unwrap().is_empty());
    }
}
