//! Durable storage: each document as a snapshot plus appended chunks, the sync states of peers
//! that keep theirs, the directory, the read model and what the server keeps beside the
//! ledgers. Embedded SQLite (WAL) by default; PostgreSQL (`--database postgres://…`) for
//! several processes sharing one database. Every call is one transaction and returns only
//! after it has committed. Calls block: run them on tokio's blocking pool.

use std::path::Path;
use std::sync::Mutex;
use std::time::Duration;

use ledger_sync::compaction::{Outcome, Plan};
use ledger_sync::{DocumentId, Layout};
use rusqlite::Connection;

mod accounts;
mod awards;
mod board;
pub(crate) use board::WindowCount;
mod office;
pub(crate) mod photos;
pub(crate) mod portable;
mod postgres;
pub(crate) mod read_model;
pub(crate) mod schema;
pub(crate) mod sql;
pub(crate) use accounts::{Device, NewLedger, Person};
pub(crate) use awards::{AwardRound, Nomination, Objection, Opinion};
pub(crate) use office::OfficeRound;
pub(crate) use read_model::{Projection, StoredFacts};
pub use schema::SCHEMA_VERSION;
use sql::{params, Sql};

/// Where storage lives: `--database`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Database {
    /// `ledger.sqlite3` in the data directory (the default).
    Sqlite,
    /// A PostgreSQL database several server processes share (`postgres://user@host/db`).
    Postgres(String),
}

impl std::str::FromStr for Database {
    type Err = String;

    fn from_str(s: &str) -> std::result::Result<Self, String> {
        if s == "sqlite" {
            Ok(Self::Sqlite)
        } else if s.starts_with("postgres://") || s.starts_with("postgresql://") {
            s.parse::<tokio_postgres::Config>().map_err(|e| format!("--database {s}: {e}"))?;
            Ok(Self::Postgres(s.to_owned()))
        } else {
            Err(format!("--database {s}: give sqlite (the default) or postgres://user@host:port/database"))
        }
    }
}

impl Database {
    /// For messages: `sqlite`, or PostgreSQL's address without its password.
    pub fn describe(&self) -> String {
        match self {
            Self::Sqlite => "sqlite".into(),
            Self::Postgres(url) => url.parse::<tokio_postgres::Config>().map(|c| postgres::describe(&c)).unwrap_or_else(|_| "postgres".into()),
        }
    }
}

/// What memory lacks of what another process stored, found while appending.
pub enum Behind {
    /// The chunks stored after the last one memory holds.
    Chunks(Vec<(i64, Vec<u8>)>),
    /// The document was compacted elsewhere: all of it.
    Compacted(Layout<i64>),
}

/// A commit of memory to storage ([`Storage::append_with`]), driven by the one who holds the
/// document in memory.
pub trait Appender {
    /// The snapshot's tag and the last chunk memory holds; None when storage holds nothing of
    /// it yet.
    fn seen(&self) -> Option<(u64, i64)>;
    /// Takes in what another process stored (called while the document's appends wait).
    fn catch_up(&mut self, behind: Behind) -> std::result::Result<(), String>;
    /// The chunk to store now and, for a unit ledger, its read-model rows; `projected` reads
    /// the heads the stored rows are at. None: nothing left to store.
    fn prepare(
        &mut self,
        projected: &mut dyn FnMut() -> std::result::Result<Option<Vec<automerge::ChangeHash>>, String>,
    ) -> std::result::Result<Option<(Vec<u8>, Option<Projection>)>, String>;
}

/// What [`Storage::append_with`] stored.
pub struct Appended {
    pub seq: i64,
    pub bytes: usize,
    pub projection: Option<Projection>,
}

/// What another process sharing the database did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Notice {
    /// It committed a change to this document.
    Changed(DocumentId),
    /// It changed the organisation (units, people, roles).
    Directory,
    /// It retired or lost a device: its open connections must close here too.
    Revoked { device: String, status: String },
    /// Notices may have been missed (the listening connection was lost, or this process fell
    /// behind): look again at everything held.
    Resync,
}

/// A place held across processes ([`Storage::shared_place`]), given back when dropped.
pub struct SharedPlace(#[allow(dead_code)] Option<postgres::PgPlace>);

enum Backend {
    Sqlite(Mutex<Connection>),
    Postgres(postgres::Pg),
}

pub struct Storage {
    backend: Backend,
    /// The data directory (photos, backups, the lock; the database too, on SQLite).
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

    /// Opens the storage `database` names for the data directory `dir`.
    pub fn open_database(database: &Database, dir: &Path, busy: Duration) -> Result<Self> {
        match database {
            Database::Sqlite => Self::open_with(dir, busy),
            Database::Postgres(url) => {
                std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
                Ok(Self { backend: Backend::Postgres(postgres::Pg::open(url)?), dir: dir.to_owned() })
            }
        }
    }

    /// Opens SQLite storage; a write waits at most `busy` for a lock another process holds on
    /// the database before it fails (and nothing is acknowledged).
    pub fn open_with(dir: &Path, busy: Duration) -> Result<Self> {
        std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        let db = Connection::open(dir.join(DATABASE)).map_err(err)?;
        db.busy_timeout(busy).map_err(err)?;
        // Every statement storage runs, prepared once per connection.
        db.set_prepared_statement_cache_capacity(256);
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
        Ok(Self { backend: Backend::Sqlite(Mutex::new(db)), dir: dir.to_owned() })
    }

    /// Which database this is, for messages: the SQLite file, or PostgreSQL's address
    /// without its password.
    pub fn describe(&self) -> String {
        match &self.backend {
            Backend::Sqlite(_) => self.dir.join(DATABASE).display().to_string(),
            Backend::Postgres(pg) => pg.describe(),
        }
    }

    /// Whether this is the embedded SQLite database (backups, `check` and page limits are
    /// SQLite's files and pragmas).
    pub fn is_sqlite(&self) -> bool {
        matches!(self.backend, Backend::Sqlite(_))
    }

    /// Caps the database at `pages` pages (SQLite's `max_page_count`): past it every write fails
    /// as on a full disk. An operator's quota; the tests use it to fill storage on purpose.
    pub fn set_max_pages(&self, pages: u64) -> Result<()> {
        self.sqlite("a page limit")?.query_row(&format!("PRAGMA max_page_count = {pages}"), [], |_| Ok(())).map_err(err)
    }

    /// Pages the database uses now.
    pub fn page_count(&self) -> Result<u64> {
        self.sqlite("a page count")?.query_row("PRAGMA page_count", [], |r| r.get::<_, i64>(0)).map(|n| n as u64).map_err(err)
    }

    /// The data directory this storage lives in.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Bytes the database takes on the disk, its write-ahead log included.
    pub fn bytes_on_disk(&self) -> u64 {
        match &self.backend {
            Backend::Sqlite(_) => ["", "-wal"].iter().filter_map(|side| std::fs::metadata(self.dir.join(format!("{DATABASE}{side}"))).ok()).map(|m| m.len()).sum(),
            Backend::Postgres(_) => {
                self.read(|db| db.query_row("SELECT CAST(pg_database_size(current_database()) AS BIGINT)", params![], |r| r.get::<i64>(0))).map_or(0, |n| n as u64)
            }
        }
    }

    /// Proves storage accepts a write now: one small committed (and synced) transaction.
    pub fn probe_write(&self, now: i64) -> Result<()> {
        self.put_setting("health_probe", &now.to_string())
    }

    /// The SQLite connection, for what only SQLite has (pragmas, backups, its tests).
    fn sqlite(&self, what: &str) -> Result<std::sync::MutexGuard<'_, Connection>> {
        match &self.backend {
            // A panic while holding the lock leaves SQLite itself consistent; carry on.
            Backend::Sqlite(db) => Ok(db.lock().unwrap_or_else(|e| e.into_inner())),
            Backend::Postgres(_) => Err(format!("{what} is SQLite's; this server stores in PostgreSQL")),
        }
    }

    /// Runs `f` in one transaction that only reads: it sees one consistent state.
    pub(crate) fn read<T>(&self, f: impl FnOnce(&mut dyn Sql) -> sql::Result<T>) -> Result<T> {
        match &self.backend {
            // No transaction needed: every write of this process goes through this one
            // connection, held here, and no other process writes the file (the data
            // directory's lock), so what `f` reads is one state without BEGIN and COMMIT
            // around each read.
            Backend::Sqlite(db) => Ok(f(&mut sql::SqliteSql(&db.lock().unwrap_or_else(|e| e.into_inner())))?),
            Backend::Postgres(pg) => pg.read(f),
        }
    }

    /// Runs `f` in one transaction that writes, committed before this returns. On PostgreSQL
    /// the transaction is serialisable and `f` runs again when another process's overlapped
    /// it, so `f` must do nothing but storage's work.
    pub(crate) fn write<T>(&self, mut f: impl FnMut(&mut dyn Sql) -> sql::Result<T>) -> Result<T> {
        match &self.backend {
            Backend::Sqlite(db) => {
                let mut db = db.lock().unwrap_or_else(|e| e.into_inner());
                let tx = db.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate).map_err(err)?;
                let v = f(&mut sql::SqliteSql(&tx))?;
                tx.commit().map_err(err)?;
                Ok(v)
            }
            Backend::Postgres(pg) => pg.write(f),
        }
    }

    /// Runs `f` in one transaction that writes, taking turns with every other transaction of
    /// any process given the same `key` (a document's appends and projections). On
    /// PostgreSQL: read committed, after a transaction-scoped advisory lock on the key, so
    /// that every statement sees what the one before it in turn committed.
    pub(crate) fn write_in_turn<T>(&self, key: &str, f: impl FnMut(&mut dyn Sql) -> sql::Result<T>) -> Result<T> {
        match &self.backend {
            Backend::Sqlite(_) => self.write(f),
            Backend::Postgres(pg) => pg.write_in_turn(key, f),
        }
    }

    /// Creates a document with its first bytes, unless it exists.
    pub fn create(&self, doc: &DocumentId, snapshot: &[u8]) -> Result<bool> {
        let id = doc.to_string();
        let n = self.write(|db| db.execute("INSERT INTO documents (id, snapshot) VALUES (?1, ?2) ON CONFLICT DO NOTHING", params![id, snapshot]))?;
        Ok(n == 1)
    }

    /// What storage holds for the document (one consistent read), or None if it does not exist.
    pub fn load(&self, doc: &DocumentId) -> Result<Option<Layout<i64>>> {
        let id = doc.to_string();
        self.read(|db| {
            let Some((snapshot, tag)) = db.query_opt("SELECT snapshot, tag FROM documents WHERE id = ?1", params![id], |r| Ok((r.get::<Vec<u8>>(0)?, r.get::<i64>(1)?)))? else {
                return Ok(None);
            };
            let chunks = db.query_map("SELECT seq, bytes FROM chunks WHERE doc = ?1 ORDER BY seq", params![id], |r| Ok((r.get::<i64>(0)?, r.get::<Vec<u8>>(1)?)))?;
            Ok(Some(Layout { tag: tag as u64, snapshot, chunks }))
        })
    }

    /// Appends a chunk (creating the document if it is new) in one transaction; returns the
    /// chunk's key once committed.
    pub fn append(&self, doc: &DocumentId, changes: &[u8]) -> Result<i64> {
        self.append_projected(doc, changes, None)
    }

    /// Appends a chunk and, for a unit ledger, the read model's rows for what it changed, in
    /// one transaction: both or neither.
    pub fn append_projected(&self, doc: &DocumentId, changes: &[u8], projection: Option<&Projection>) -> Result<i64> {
        let id = doc.to_string();
        self.write_in_turn(&id, |db| {
            let exists = db.query_opt("SELECT 1 FROM documents WHERE id = ?1", params![id], |_| Ok(()))?.is_some();
            self.append_in(db, &id, exists, changes, projection)
        })
    }

    fn append_in(&self, db: &mut dyn Sql, id: &str, exists: bool, changes: &[u8], projection: Option<&Projection>) -> sql::Result<i64> {
        if !exists {
            db.execute("INSERT INTO documents (id, snapshot) VALUES (?1, ?2) ON CONFLICT DO NOTHING", params![id, &[][..]])?;
        }
        let seq = db.query_row("INSERT INTO chunks (doc, bytes) VALUES (?1, ?2) RETURNING seq", params![id, changes], |r| r.get::<i64>(0))?;
        if let Some(p) = projection {
            read_model::write(db, id, p)?;
        }
        if let Backend::Postgres(pg) = &self.backend {
            db.execute("SELECT pg_notify(?1, ?2)", params![postgres::CHANGES, pg.notice(id)])?;
        }
        Ok(seq)
    }

    /// Commits what `a` holds of `doc` beyond storage. On PostgreSQL the document's appends
    /// take turns across processes (its chunks are numbered in the order they commit); when
    /// another process stored to it since the state `a` has seen, `a` takes that in first,
    /// still in its turn, and only then prepares what to store: every commit is made on top
    /// of everything stored before it, its read-model rows too, however many processes write.
    /// Every process listening hears of the chunk once it commits. None: nothing to store.
    pub fn append_with(&self, doc: &DocumentId, a: &mut dyn Appender) -> Result<Option<Appended>> {
        let id = doc.to_string();
        let shared = !self.is_sqlite();
        // Only whether it exists, on SQLite: `tag` lies after the snapshot in the row, and
        // reading it walks the snapshot's overflow pages; the key alone is in the index.
        let existing = if shared { "SELECT tag FROM documents WHERE id = ?1" } else { "SELECT 0 FROM documents WHERE id = ?1" };
        self.write_in_turn(&id, |db| {
            let tag = db.query_opt(existing, params![id], |r| r.get::<i64>(0))?;
            if let (true, Some((seen_tag, seen_chunk)), Some(tag)) = (shared, a.seen(), tag) {
                if tag as u64 != seen_tag {
                    let snapshot = db.query_row("SELECT snapshot FROM documents WHERE id = ?1", params![id], |r| r.get::<Vec<u8>>(0))?;
                    let chunks = db.query_map("SELECT seq, bytes FROM chunks WHERE doc = ?1 ORDER BY seq", params![id], |r| Ok((r.get::<i64>(0)?, r.get::<Vec<u8>>(1)?)))?;
                    a.catch_up(Behind::Compacted(Layout { tag: tag as u64, snapshot, chunks }))?;
                } else {
                    let chunks = chunks_after_in(db, &id, seen_chunk)?;
                    if !chunks.is_empty() {
                        a.catch_up(Behind::Chunks(chunks))?;
                    }
                }
            }
            let mut projected = || -> Result<Option<Vec<automerge::ChangeHash>>> {
                let heads = db.query_opt("SELECT heads FROM rm_ledgers WHERE ledger = ?1", params![id], |r| r.get::<Vec<u8>>(0)).map_err(String::from)?;
                Ok(heads.and_then(|b| read_model::decode_heads(&b)))
            };
            let Some((bytes, projection)) = a.prepare(&mut projected)? else { return Ok(None) };
            let seq = self.append_in(db, &id, tag.is_some(), &bytes, projection.as_ref())?;
            Ok(Some(Appended { seq, bytes: bytes.len(), projection }))
        })
    }

    /// The snapshot's tag and the chunks after `seq`, for a process that holds the document
    /// and heard another one append to it.
    pub fn chunks_after(&self, doc: &DocumentId, seq: i64) -> Result<Option<(u64, Vec<(i64, Vec<u8>)>)>> {
        let id = doc.to_string();
        self.read(|db| {
            let Some(tag) = db.query_opt("SELECT tag FROM documents WHERE id = ?1", params![id], |r| r.get::<i64>(0))? else { return Ok(None) };
            Ok(Some((tag as u64, chunks_after_in(db, &id, seq)?)))
        })
    }

    /// One of `max` places of `kind` held across every process sharing the database (exports
    /// of the desk: each process's own bound, and this one for them all); None when all are
    /// taken. On SQLite, which one process owns, its own bound is the bound: always a place.
    pub(crate) fn shared_place(&self, kind: i32, max: usize) -> Result<Option<SharedPlace>> {
        match &self.backend {
            Backend::Sqlite(_) => Ok(Some(SharedPlace(None))),
            Backend::Postgres(pg) => Ok(pg.place(kind, max)?.map(|p| SharedPlace(Some(p)))),
        }
    }

    /// Announces, inside `db`'s transaction, that the organisation changed or (`revoked`) a
    /// device was retired or lost (PostgreSQL: the other processes hear it once it commits).
    pub(crate) fn directory_changed(&self, db: &mut dyn Sql, revoked: Option<(&str, &str)>) -> sql::Result<()> {
        if let Backend::Postgres(pg) = &self.backend {
            let payload = match revoked {
                None => format!("{} org", pg.instance()),
                Some((device, status)) => format!("{} device {device} {status}", pg.instance()),
            };
            db.execute("SELECT pg_notify(?1, ?2)", params![postgres::DIRECTORY, payload])?;
        }
        Ok(())
    }

    /// Ends every connection listening for notices on this database (what a restart of
    /// PostgreSQL or a network fault does to them); how many. For the tests.
    #[doc(hidden)]
    pub fn end_listeners(&self) -> Result<usize> {
        self.write(|db| {
            db.query_map("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND query LIKE 'LISTEN %'", params![], |r| r.get::<bool>(0))
        })
        .map(|ended| ended.into_iter().filter(|e| *e).count())
    }

    /// Ends every other connection to this database, pooled or listening, whatever it is
    /// doing (what a restart of PostgreSQL does mid-commit); how many. For the tests.
    #[doc(hidden)]
    pub fn end_other_connections(&self) -> Result<usize> {
        self.write(|db| {
            db.query_map("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()", params![], |r| r.get::<bool>(0))
        })
        .map(|ended| ended.into_iter().filter(|e| *e).count())
    }

    /// Tells this process what other processes sharing the database commit (PostgreSQL; None
    /// on SQLite, which one process owns).
    pub fn listen(&self) -> Option<tokio::sync::mpsc::Receiver<Notice>> {
        match &self.backend {
            Backend::Sqlite(_) => None,
            Backend::Postgres(pg) => Some(pg.listen()),
        }
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
        let id = doc.to_string();
        let outcome = self.write(|db| {
            // The row lock makes two compactions of one document take turns, on every process.
            let lock = if db.backend() == sql::Kind::Postgres { " FOR UPDATE" } else { "" };
            let Some(tag) = db.query_opt(&format!("SELECT tag FROM documents WHERE id = ?1{lock}"), params![id], |r| r.get::<i64>(0))? else {
                return Ok(Outcome::Stale);
            };
            let keys = db.query_map("SELECT seq FROM chunks WHERE doc = ?1 ORDER BY seq", params![id], |r| r.get::<i64>(0))?;
            if !plan.may_replace(tag as u64, &keys) {
                return Ok(Outcome::Stale);
            }
            db.execute("UPDATE documents SET snapshot = ?2, tag = ?3 WHERE id = ?1", params![id, snapshot, plan.new_tag as i64])?;
            for seq in &plan.chunks {
                db.execute("DELETE FROM chunks WHERE doc = ?1 AND seq = ?2", params![id, seq])?;
            }
            Ok(Outcome::Replaced { snapshot_bytes: snapshot.len() })
        })?;
        if let (Backend::Sqlite(db), Outcome::Replaced { .. }) = (&self.backend, &outcome) {
            // The deleted chunks' pages go back to the disk (best effort: they are free either way).
            let _ = free_pages(&db.lock().unwrap_or_else(|e| e.into_inner()));
        }
        Ok(outcome)
    }

    /// The sizes a compactor needs (tag, snapshot bytes, each chunk's key and bytes), without
    /// reading the bytes themselves.
    pub fn layout_sizes(&self, doc: &DocumentId) -> Result<Option<(u64, usize, Vec<(i64, usize)>)>> {
        let id = doc.to_string();
        self.read(|db| {
            let Some((tag, snapshot)) = db.query_opt("SELECT tag, LENGTH(snapshot) FROM documents WHERE id = ?1", params![id], |r| Ok((r.get::<i64>(0)?, r.get::<usize>(1)?)))?
            else {
                return Ok(None);
            };
            let chunks = db.query_map("SELECT seq, LENGTH(bytes) FROM chunks WHERE doc = ?1 ORDER BY seq", params![id], |r| Ok((r.get::<i64>(0)?, r.get::<usize>(1)?)))?;
            Ok(Some((tag as u64, snapshot, chunks)))
        })
    }

    pub fn sync_states(&self, storage_id: &str) -> Result<Vec<(DocumentId, Vec<u8>)>> {
        let rows =
            self.read(|db| db.query_map("SELECT doc, state FROM sync_states WHERE storage_id = ?1", params![storage_id], |r| Ok((r.get::<String>(0)?, r.get::<Vec<u8>>(1)?))))?;
        Ok(rows.into_iter().filter_map(|(doc, state)| DocumentId::parse(&doc).ok().map(|d| (d, state))).collect())
    }

    pub fn put_sync_state(&self, storage_id: &str, doc: &DocumentId, state: &[u8]) -> Result<()> {
        let id = doc.to_string();
        self.write(|db| {
            db.execute(
                "INSERT INTO sync_states (storage_id, doc, state) VALUES (?1, ?2, ?3)
                 ON CONFLICT (storage_id, doc) DO UPDATE SET state = excluded.state",
                params![storage_id, id, state],
            )
        })
        .map(|_| ())
    }

    pub fn setting(&self, key: &str) -> Result<Option<String>> {
        self.read(|db| db.query_opt("SELECT value FROM settings WHERE key = ?1", params![key], |r| r.get(0)))
    }

    pub fn put_setting(&self, key: &str, value: &str) -> Result<()> {
        self.put_settings(&[(key, value.to_owned())])
    }

    /// Several settings, all or none.
    pub fn put_settings(&self, pairs: &[(&str, String)]) -> Result<()> {
        self.write(|db| {
            for (key, value) in pairs {
                db.execute("INSERT INTO settings (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE SET value = excluded.value", params![key, value])?;
            }
            Ok(())
        })
    }
}

/// The document's chunks stored after `seq`, in order.
fn chunks_after_in(db: &mut dyn Sql, id: &str, seq: i64) -> sql::Result<Vec<(i64, Vec<u8>)>> {
    db.query_map("SELECT seq, bytes FROM chunks WHERE doc = ?1 AND seq > ?2 ORDER BY seq", params![id, seq], |r| Ok((r.get::<i64>(0)?, r.get::<Vec<u8>>(1)?)))
}

/// The database each test's data directory was given.
static TEST_DATABASES: Mutex<Option<std::collections::HashMap<std::path::PathBuf, Database>>> = Mutex::new(None);

impl Storage {
    /// Storage for a test's data directory in the backend the test run asks for:
    /// `PIONEER_TEST_DATABASE=postgres` runs the same tests on a database of their own on the
    /// process's PostgreSQL ([`crate::test_postgres`]); otherwise SQLite in `dir`. Opened again
    /// for the same `dir`, it is the same database.
    #[doc(hidden)]
    pub fn open_for_tests(dir: &Path) -> Result<Self> {
        Self::open_database(&Self::test_database(dir)?, dir, Duration::from_secs(5))
    }

    /// The database [`Self::open_for_tests`] opens for `dir`.
    #[doc(hidden)]
    pub fn test_database(dir: &Path) -> Result<Database> {
        if std::env::var("PIONEER_TEST_DATABASE").as_deref() != Ok("postgres") {
            return Ok(Database::Sqlite);
        }
        let mut known = TEST_DATABASES.lock().unwrap_or_else(|e| e.into_inner());
        let known = known.get_or_insert_with(Default::default);
        if let Some(database) = known.get(dir) {
            return Ok(database.clone());
        }
        let database = Database::Postgres(crate::test_postgres::database()?);
        known.insert(dir.to_owned(), database.clone());
        Ok(database)
    }

    /// Keeps a test's `dir` on SQLite whatever the run asks for: the test is about SQLite's
    /// file (its locks, its size, backups of it).
    #[doc(hidden)]
    pub fn test_on_sqlite(dir: &Path) {
        TEST_DATABASES.lock().unwrap_or_else(|e| e.into_inner()).get_or_insert_with(Default::default).insert(dir.to_owned(), Database::Sqlite);
    }
}

#[cfg(test)]
mod tests;
