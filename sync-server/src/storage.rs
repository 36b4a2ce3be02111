//! Durable storage in SQLite (WAL): each document as a snapshot plus appended chunks, and the
//! sync states of peers that keep theirs. Every call is one transaction; a call returns only
//! after it has committed. Calls block: run them on tokio's blocking pool.

use std::path::Path;
use std::sync::Mutex;
use std::time::Duration;

use ledger_sync::compaction::{Outcome, Plan};
use ledger_sync::{DocumentId, Layout};
use rusqlite::{params, Connection, OptionalExtension};

mod accounts;
mod awards;
mod board;
mod office;
pub(crate) mod photos;
pub(crate) mod read_model;
pub(crate) mod schema;
pub(crate) use accounts::{Device, NewLedger, Person};
pub(crate) use awards::{AwardRound, Nomination, Objection, Opinion};
pub(crate) use office::OfficeRound;
pub(crate) use read_model::{Projection, StoredFacts};
pub use schema::SCHEMA_VERSION;

pub struct Storage {
    db: Mutex<Connection>,
    /// The data directory.
    dir: std::path::PathBuf,
}

pub(crate) type Result<T> = std::result::Result<T, String>;

/// The database's file in a data directory.
pub const DATABASE: &str = "ledger.sqlite3";

/// SQLite's `auto_vacuum` value for incremental vacuuming.
const INCREMENTAL: i64 = 2;

fn err(e: rusqlite::Error) -> String {
    format!("storage: {e}")
}

/// Gives free pages back to the disk. SQLite frees one page per step of the pragma, so it is
/// stepped to the end (running it once, as `execute_batch` does, frees one page).
fn free_pages(db: &Connection) -> rusqlite::Result<()> {
    let mut stmt = db.prepare_cached("PRAGMA incremental_vacuum")?;
    let mut rows = stmt.query([])?;
    while rows.next()?.is_some() {}
    Ok(())
}

impl Storage {
    pub fn open(dir: &Path) -> Result<Self> {
        Self::open_with(dir, Duration::from_secs(5))
    }

    /// Opens storage; a write waits at most `busy` for a lock another process holds on the
    /// database before it fails (and nothing is acknowledged).
    pub fn open_with(dir: &Path, busy: Duration) -> Result<Self> {
        std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        let db = Connection::open(dir.join(DATABASE)).map_err(err)?;
        db.busy_timeout(busy).map_err(err)?;
        let version = schema::version(&db)?;
        if version > SCHEMA_VERSION {
            return Err(format!(
                "{} was written by a newer version of the server (schema {version}; this one knows up to {SCHEMA_VERSION}): run that version, or restore a backup made by this one",
                dir.display()
            ));
        }
        let pending: Vec<_> = schema::pending(version).collect();
        if !pending.is_empty() && schema::has_tables(&db)? {
            let backup = crate::backup::path_in(&dir.join(crate::backup::DIR), &format!("before-schema-{SCHEMA_VERSION}"));
            crate::backup::vacuum_into(&db, &backup)?;
            // Whole like any backup: with the photos it lists beside it (restorable as it is).
            crate::backup::copy_photos(&backup, dir, &dir.join(crate::backup::DIR))?;
            tracing::info!("schema {version} → {SCHEMA_VERSION}: backed up to {} first", backup.display());
        }
        for m in pending {
            schema::run(&db, m)?;
        }
        // WAL: readers never block the writer. synchronous=FULL: a commit survives power loss,
        // not only a killed process, before anything is acknowledged. (After the migrations:
        // the first one may convert a database with VACUUM, which needs its own journal.)
        db.execute_batch("PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;").map_err(err)?;
        read_model::migrate(&db)?;
        Ok(Self { db: Mutex::new(db), dir: dir.to_owned() })
    }

    /// Caps the database at `pages` pages (SQLite's `max_page_count`): past it every write fails
    /// as on a full disk. An operator's quota; the tests use it to fill storage on purpose.
    pub fn set_max_pages(&self, pages: u64) -> Result<()> {
        self.db().query_row(&format!("PRAGMA max_page_count = {pages}"), [], |_| Ok(())).map_err(err)
    }

    /// Pages the database uses now.
    pub fn page_count(&self) -> Result<u64> {
        self.db().query_row("PRAGMA page_count", [], |r| r.get::<_, i64>(0)).map(|n| n as u64).map_err(err)
    }

    /// The data directory this storage lives in.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Bytes the database takes on the disk, its write-ahead log included.
    pub fn bytes_on_disk(&self) -> u64 {
        ["", "-wal"].iter().filter_map(|side| std::fs::metadata(self.dir.join(format!("{DATABASE}{side}"))).ok()).map(|m| m.len()).sum()
    }

    /// Proves storage accepts a write now: one small committed (and synced) transaction.
    pub fn probe_write(&self, now: i64) -> Result<()> {
        self.put_setting("health_probe", &now.to_string())
    }

    fn db(&self) -> std::sync::MutexGuard<'_, Connection> {
        // A panic while holding the lock leaves SQLite itself consistent; carry on.
        self.db.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Creates a document with its first bytes, unless it exists.
    pub fn create(&self, doc: &DocumentId, snapshot: &[u8]) -> Result<bool> {
        let n = self.db().execute("INSERT OR IGNORE INTO documents (id, snapshot) VALUES (?1, ?2)", params![doc.to_string(), snapshot]).map_err(err)?;
        Ok(n == 1)
    }

    /// What storage holds for the document (one consistent read), or None if it does not exist.
    pub fn load(&self, doc: &DocumentId) -> Result<Option<Layout<i64>>> {
        let mut db = self.db();
        let tx = db.transaction().map_err(err)?;
        let id = doc.to_string();
        let Some((snapshot, tag)) =
            tx.query_row("SELECT snapshot, tag FROM documents WHERE id = ?1", [&id], |r| Ok((r.get::<_, Vec<u8>>(0)?, r.get::<_, i64>(1)?))).optional().map_err(err)?
        else {
            return Ok(None);
        };
        let chunks = {
            let mut stmt = tx.prepare_cached("SELECT seq, bytes FROM chunks WHERE doc = ?1 ORDER BY seq").map_err(err)?;
            let rows = stmt.query_map([&id], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, Vec<u8>>(1)?))).map_err(err)?;
            rows.collect::<std::result::Result<Vec<_>, _>>().map_err(err)?
        };
        tx.commit().map_err(err)?;
        Ok(Some(Layout { tag: tag as u64, snapshot, chunks }))
    }

    /// Appends a chunk (creating the document if it is new) in one transaction; returns the
    /// chunk's key once committed.
    pub fn append(&self, doc: &DocumentId, changes: &[u8]) -> Result<i64> {
        self.append_projected(doc, changes, None)
    }

    /// Appends a chunk and, for a unit ledger, the read model's rows for what it changed, in
    /// one transaction: both or neither.
    pub fn append_projected(&self, doc: &DocumentId, changes: &[u8], projection: Option<&Projection>) -> Result<i64> {
        let mut db = self.db();
        let tx = db.transaction().map_err(err)?;
        let id = doc.to_string();
        // Cached statements: every commit runs these, and parsing them was a tenth of its time.
        tx.prepare_cached("INSERT OR IGNORE INTO documents (id, snapshot) VALUES (?1, x'')").and_then(|mut s| s.execute([&id])).map_err(err)?;
        tx.prepare_cached("INSERT INTO chunks (doc, bytes) VALUES (?1, ?2)").and_then(|mut s| s.execute(params![id, changes])).map_err(err)?;
        let seq = tx.last_insert_rowid();
        if let Some(p) = projection {
            read_model::write(&tx, &id, p)?;
        }
        tx.commit().map_err(err)?;
        Ok(seq)
    }

    /// The bytes a compaction folds (the plan's base snapshot and exactly its chunks), or None
    /// when the stored snapshot is no longer the plan's base.
    pub fn read_plan(&self, doc: &DocumentId, plan: &Plan<i64>) -> Result<Option<Vec<u8>>> {
        let Some(layout) = self.load(doc)? else { return Ok(None) };
        let keys: Vec<i64> = layout.chunks.iter().map(|(k, _)| *k).collect();
        if !plan.may_replace(layout.tag, &keys) {
            return Ok(None);
        }
        let mut bytes = layout.snapshot;
        for (k, c) in layout.chunks {
            if plan.chunks.contains(&k) {
                bytes.extend(c);
            }
        }
        Ok(Some(bytes))
    }

    /// Replaces the snapshot with `snapshot` (made from the plan's base and chunks) and deletes
    /// exactly the plan's chunks, in one transaction, only if storage still holds the plan's
    /// base and every one of its chunks. Chunks appended meanwhile stay.
    pub fn replace(&self, doc: &DocumentId, plan: &Plan<i64>, snapshot: &[u8]) -> Result<Outcome> {
        let mut db = self.db();
        let tx = db.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate).map_err(err)?;
        let id = doc.to_string();
        let Some(tag) = tx.query_row("SELECT tag FROM documents WHERE id = ?1", [&id], |r| r.get::<_, i64>(0)).optional().map_err(err)? else {
            return Ok(Outcome::Stale);
        };
        let keys: Vec<i64> = {
            let mut stmt = tx.prepare_cached("SELECT seq FROM chunks WHERE doc = ?1 ORDER BY seq").map_err(err)?;
            let rows = stmt.query_map([&id], |r| r.get::<_, i64>(0)).map_err(err)?;
            rows.collect::<std::result::Result<Vec<_>, _>>().map_err(err)?
        };
        if !plan.may_replace(tag as u64, &keys) {
            return Ok(Outcome::Stale);
        }
        tx.execute("UPDATE documents SET snapshot = ?2, tag = ?3 WHERE id = ?1", params![id, snapshot, plan.new_tag as i64]).map_err(err)?;
        {
            let mut delete = tx.prepare_cached("DELETE FROM chunks WHERE doc = ?1 AND seq = ?2").map_err(err)?;
            for seq in &plan.chunks {
                delete.execute(params![id, seq]).map_err(err)?;
            }
        }
        tx.commit().map_err(err)?;
        // The deleted chunks' pages go back to the disk (best effort: they are free either way).
        let _ = free_pages(&db);
        Ok(Outcome::Replaced { snapshot_bytes: snapshot.len() })
    }

    /// The sizes a compactor needs (tag, snapshot bytes, each chunk's key and bytes), without
    /// reading the bytes themselves.
    pub fn layout_sizes(&self, doc: &DocumentId) -> Result<Option<(u64, usize, Vec<(i64, usize)>)>> {
        let db = self.db();
        let id = doc.to_string();
        let Some((tag, snapshot)) =
            db.query_row("SELECT tag, LENGTH(snapshot) FROM documents WHERE id = ?1", [&id], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?))).optional().map_err(err)?
        else {
            return Ok(None);
        };
        let mut stmt = db.prepare_cached("SELECT seq, LENGTH(bytes) FROM chunks WHERE doc = ?1 ORDER BY seq").map_err(err)?;
        let rows = stmt.query_map([&id], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)? as usize))).map_err(err)?;
        let chunks = rows.collect::<std::result::Result<Vec<_>, _>>().map_err(err)?;
        Ok(Some((tag as u64, snapshot as usize, chunks)))
    }

    pub fn sync_states(&self, storage_id: &str) -> Result<Vec<(DocumentId, Vec<u8>)>> {
        let db = self.db();
        let mut stmt = db.prepare_cached("SELECT doc, state FROM sync_states WHERE storage_id = ?1").map_err(err)?;
        let rows = stmt.query_map([storage_id], |r| Ok((r.get::<_, String>(0)?, r.get::<_, Vec<u8>>(1)?))).map_err(err)?;
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
        self.db().query_row("SELECT value FROM settings WHERE key = ?1", [key], |r| r.get(0)).optional().map_err(err)
    }

    pub fn put_setting(&self, key: &str, value: &str) -> Result<()> {
        self.put_settings(&[(key, value.to_owned())])
    }

    /// Several settings, all or none.
    pub fn put_settings(&self, pairs: &[(&str, String)]) -> Result<()> {
        let mut db = self.db();
        let tx = db.transaction().map_err(err)?;
        for (key, value) in pairs {
            tx.execute("INSERT INTO settings (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE SET value = excluded.value", params![key, value]).map_err(err)?;
        }
        tx.commit().map_err(err)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bytes(layout: &Layout<i64>) -> Vec<u8> {
        layout.concatenated()
    }

    #[test]
    fn documents_chunks_and_compaction() {
        let dir = tempfile::tempdir().unwrap();
        let s = Storage::open(dir.path()).unwrap();
        let doc = DocumentId::random();
        assert_eq!(s.load(&doc).unwrap(), None);
        assert!(s.create(&doc, b"S").unwrap());
        assert!(!s.create(&doc, b"X").unwrap(), "create must not overwrite");
        let a = s.append(&doc, b"a").unwrap();
        let b = s.append(&doc, b"b").unwrap();
        assert_eq!(bytes(&s.load(&doc).unwrap().unwrap()), b"Sab");
        let plan = Plan { id: 1, base: 0, chunks: vec![a, b], new_tag: 7 };
        assert_eq!(s.read_plan(&doc, &plan).unwrap().unwrap(), b"Sab");
        s.append(&doc, b"c").unwrap(); // written after the compactor read: must survive
        assert_eq!(s.replace(&doc, &plan, b"SAB").unwrap(), Outcome::Replaced { snapshot_bytes: 3 });
        let layout = s.load(&doc).unwrap().unwrap();
        assert_eq!((layout.tag, bytes(&layout)), (7, b"SABc".to_vec()));
        drop(s);
        let s = Storage::open(dir.path()).unwrap();
        assert_eq!(bytes(&s.load(&doc).unwrap().unwrap()), b"SABc");
    }

    /// The race that lost confirmed edits: two compactions of one document overlap and the
    /// older snapshot lands last. The second is refused and every chunk is kept.
    #[test]
    fn an_older_compaction_never_replaces_a_newer_one() {
        let dir = tempfile::tempdir().unwrap();
        let s = Storage::open(dir.path()).unwrap();
        let doc = DocumentId::random();
        let c1 = s.append(&doc, b"1").unwrap();
        let c2 = s.append(&doc, b"2").unwrap();
        let older = Plan { id: 1, base: 0, chunks: vec![c1, c2], new_tag: 10 };
        let older_bytes = s.read_plan(&doc, &older).unwrap().unwrap();
        let c3 = s.append(&doc, b"3").unwrap();
        let newer = Plan { id: 2, base: 0, chunks: vec![c1, c2, c3], new_tag: 11 };
        let newer_bytes = s.read_plan(&doc, &newer).unwrap().unwrap();
        assert!(matches!(s.replace(&doc, &newer, &newer_bytes).unwrap(), Outcome::Replaced { .. }));
        assert_eq!(s.replace(&doc, &older, &older_bytes).unwrap(), Outcome::Stale);
        assert_eq!(s.read_plan(&doc, &older).unwrap(), None, "a stale plan reads nothing");
        let layout = s.load(&doc).unwrap().unwrap();
        assert_eq!((layout.tag, bytes(&layout)), (11, b"123".to_vec()));
        assert_eq!(s.layout_sizes(&doc).unwrap(), Some((11, 3, vec![])));
    }

    #[test]
    fn a_compaction_gives_the_pages_of_deleted_chunks_back_to_the_disk() {
        let dir = tempfile::tempdir().unwrap();
        let s = Storage::open(dir.path()).unwrap();
        let doc = DocumentId::random();
        let small = s.page_count().unwrap();
        let big: Vec<u8> = (0..8 * 1024 * 1024u32).map(|i| (i.wrapping_mul(2654435761) >> 13) as u8).collect();
        let c1 = s.append(&doc, &big).unwrap();
        let grown = s.page_count().unwrap();
        assert!(grown > small + 1_000, "{small} -> {grown}");
        let plan = Plan { id: 1, base: 0, chunks: vec![c1], new_tag: 7 };
        assert!(matches!(s.replace(&doc, &plan, b"small snapshot").unwrap(), Outcome::Replaced { .. }));
        let after = s.page_count().unwrap();
        assert!(after < small + 20, "the 8 MB chunk's pages stayed: {small} -> {grown} -> {after}");
    }

    #[test]
    fn a_database_from_before_incremental_vacuum_is_converted() {
        let dir = tempfile::tempdir().unwrap();
        {
            let db = Connection::open(dir.path().join("ledger.sqlite3")).unwrap();
            db.execute_batch("CREATE TABLE documents (id TEXT PRIMARY KEY, snapshot BLOB NOT NULL, created_at INTEGER NOT NULL DEFAULT (unixepoch()));").unwrap();
            assert_eq!(db.query_row("PRAGMA auto_vacuum", [], |r| r.get::<_, i64>(0)).unwrap(), 0);
        }
        let s = Storage::open(dir.path()).unwrap();
        assert_eq!(s.db().query_row("PRAGMA auto_vacuum", [], |r| r.get::<_, i64>(0)).unwrap(), INCREMENTAL);
    }

    #[test]
    fn a_read_model_from_session_9_keeps_its_rows_in_the_table_as_it_is_now() {
        let dir = tempfile::tempdir().unwrap();
        let doc = DocumentId::random();
        {
            let db = Connection::open(dir.path().join("ledger.sqlite3")).unwrap();
            db.execute_batch("CREATE TABLE rm_ledgers (ledger TEXT PRIMARY KEY, heads BLOB NOT NULL, changed_at INTEGER NOT NULL);").unwrap();
            db.execute("INSERT INTO rm_ledgers VALUES (?1, x'', 42)", [doc.to_string()]).unwrap();
        }
        let s = Storage::open(dir.path()).unwrap();
        let sql: String = s.db().query_row("SELECT sql FROM sqlite_master WHERE name = 'rm_ledgers'", [], |r| r.get(0)).unwrap();
        assert!(sql.contains("WITHOUT ROWID"), "{sql}");
        // Its rows lack enterprises: it is projected again at the start, as never projected.
        assert_eq!(s.projected_heads(&doc).unwrap(), None);
        assert_eq!(s.db().query_row("SELECT changed_at FROM rm_ledgers", [], |r| r.get::<_, i64>(0)).unwrap(), 42);
        drop(s);
        // Opening it again changes nothing.
        let s = Storage::open(dir.path()).unwrap();
        assert_eq!(s.db().query_row("SELECT changed_at FROM rm_ledgers", [], |r| r.get::<_, i64>(0)).unwrap(), 42);
        assert_eq!(s.projected_heads(&doc).unwrap(), None);
    }

    #[test]
    fn a_database_from_before_tags_opens_and_compacts() {
        let dir = tempfile::tempdir().unwrap();
        {
            let db = Connection::open(dir.path().join("ledger.sqlite3")).unwrap();
            db.execute_batch(
                "CREATE TABLE documents (id TEXT PRIMARY KEY, snapshot BLOB NOT NULL, created_at INTEGER NOT NULL DEFAULT (unixepoch()));
                 CREATE TABLE chunks (seq INTEGER PRIMARY KEY AUTOINCREMENT, doc TEXT NOT NULL REFERENCES documents(id), bytes BLOB NOT NULL);",
            )
            .unwrap();
        }
        let s = Storage::open(dir.path()).unwrap();
        let doc = DocumentId::random();
        s.create(&doc, b"S").unwrap();
        let layout = s.load(&doc).unwrap().unwrap();
        assert_eq!(layout.tag, 0);
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
