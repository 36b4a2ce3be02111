//! Photos (照片) in storage: the bytes as files in the data directory, named by their SHA-256
//! (`photos/ab/abcdef…`), and two tables. `photos` holds what was uploaded: its size, the unit
//! whose quota it counts against, and since when nothing references it. `rm_photos` is part of
//! the read model: which record of which ledger references which photo, written in the same
//! transaction as the record's row, so who may read a photo is always who may read a record
//! that holds it.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

use super::sql::{self, params, Sql};
use super::{Result, Storage};
use ledger::report::Record;

pub(super) const SCHEMA: &str = "
    CREATE TABLE IF NOT EXISTS photos (
        hash TEXT PRIMARY KEY, size INTEGER NOT NULL, unit TEXT NOT NULL,
        uploaded_at INTEGER NOT NULL, orphaned_at INTEGER) WITHOUT ROWID;
    CREATE INDEX IF NOT EXISTS photos_by_unit ON photos(unit);
    CREATE TABLE IF NOT EXISTS rm_photos (
        hash TEXT NOT NULL, ledger TEXT NOT NULL, section TEXT NOT NULL, id TEXT NOT NULL,
        PRIMARY KEY (hash, ledger, section, id)) WITHOUT ROWID;
    CREATE INDEX IF NOT EXISTS rm_photos_by_record ON rm_photos(ledger, section, id);";

/// The folder of photo files in a data directory.
pub(crate) const DIR: &str = "photos";

/// Where a photo's file lives: two levels, so no folder holds more than a few thousand.
pub(crate) fn path_of(data_dir: &Path, hash: &str) -> PathBuf {
    data_dir.join(DIR).join(&hash[..2]).join(hash)
}

/// Replaces the references `record` holds (a new or changed record), inside the read model's
/// transaction.
pub(super) fn reference(db: &mut dyn Sql, ledger: &str, record: &Record) -> sql::Result<()> {
    let (section, id) = (record.section().key(), record.id().as_str());
    forget(db, ledger, section, id)?;
    for photo in record.photos() {
        db.execute("INSERT INTO rm_photos (hash, ledger, section, id) VALUES (?1, ?2, ?3, ?4) ON CONFLICT DO NOTHING", params![photo.hash, ledger, section, id])?;
    }
    Ok(())
}

/// Removes a gone record's references.
pub(super) fn forget(db: &mut dyn Sql, ledger: &str, section: &str, id: &str) -> sql::Result<()> {
    db.execute("DELETE FROM rm_photos WHERE ledger = ?1 AND section = ?2 AND id = ?3", params![ledger, section, id]).map(|_| ())
}

/// Removes every reference of a ledger projected whole again.
pub(super) fn forget_ledger(db: &mut dyn Sql, ledger: &str) -> sql::Result<()> {
    db.execute("DELETE FROM rm_photos WHERE ledger = ?1", params![ledger]).map(|_| ())
}

/// Writes `bytes` as the file of `hash`: to a file of its own beside it, synced, renamed into
/// place and the folder synced, so a file under its name is always whole. An existing file is
/// kept (same name, same bytes).
pub(crate) fn write_durably(data_dir: &Path, hash: &str, bytes: &[u8]) -> Result<()> {
    let path = path_of(data_dir, hash);
    if path.exists() {
        return Ok(());
    }
    let dir = path.parent().expect("a photo's path has a folder");
    let io = |what: &str, p: &Path, e: std::io::Error| format!("cannot {what} {}: {e}", p.display());
    std::fs::create_dir_all(dir).map_err(|e| io("create", dir, e))?;
    let mut nonce = [0u8; 8];
    getrandom::fill(&mut nonce).map_err(|e| e.to_string())?;
    let partial = dir.join(format!("{hash}.{:016x}.partial", u64::from_le_bytes(nonce)));
    let result = (|| {
        let mut f = File::create(&partial).map_err(|e| io("create", &partial, e))?;
        f.write_all(bytes).map_err(|e| io("write", &partial, e))?;
        f.sync_all().map_err(|e| io("sync", &partial, e))?;
        std::fs::rename(&partial, &path).map_err(|e| io("rename", &partial, e))?;
        File::open(dir).and_then(|d| d.sync_all()).map_err(|e| io("sync", dir, e))
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&partial);
    }
    result
}

/// Why an upload was not stored.
#[derive(Debug, PartialEq, Eq)]
pub enum Refusal {
    /// The unit's photos with this one would take more than its quota (bytes).
    Quota {
        used: u64,
        quota: u64,
    },
    Storage(String),
}

/// One stored photo, as its reader needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredPhoto {
    /// Its file (SQLite: the data directory); None: its bytes are in the database
    /// (PostgreSQL, which every process reads).
    pub path: Option<PathBuf>,
    pub size: u64,
}

/// PostgreSQL keeps each photo's bytes in a row of their own beside its `photos` row: every
/// process sharing the database reads them, and a photo's row and bytes are stored and
/// removed in one transaction. (A photo is at most 3 MB: a `bytea` value, not a large object,
/// which would need its own clean-up and its own access rights.)
pub(super) const POSTGRES_BYTES: &str = "
    CREATE TABLE IF NOT EXISTS photo_bytes (hash TEXT COLLATE \"C\" PRIMARY KEY REFERENCES photos(hash), bytes BYTEA NOT NULL);";

impl Storage {
    /// The ledgers whose records reference `hash`.
    pub fn photo_ledgers(&self, hash: &str) -> Result<Vec<String>> {
        self.read(|db| db.query_map("SELECT DISTINCT ledger FROM rm_photos WHERE hash = ?1", params![hash], |r| r.get(0)))
    }

    /// The records of `ledger` that reference photos: (section, id).
    pub fn records_with_photos(&self, ledger: &str) -> Result<Vec<(String, String)>> {
        self.read(|db| db.query_map("SELECT DISTINCT section, id FROM rm_photos WHERE ledger = ?1", params![ledger], |r| Ok((r.get(0)?, r.get(1)?))))
    }

    /// Where the photo is, if it was uploaded.
    pub fn photo(&self, hash: &str) -> Result<Option<StoredPhoto>> {
        let size: Option<u64> = self.read(|db| db.query_opt("SELECT size FROM photos WHERE hash = ?1", params![hash], |r| r.get(0)))?;
        Ok(size.map(|size| StoredPhoto { path: self.is_sqlite().then(|| path_of(&self.dir, hash)), size }))
    }

    /// The photo's bytes, wherever they are kept; None when it was not uploaded.
    pub fn photo_content(&self, hash: &str) -> Result<Option<Vec<u8>>> {
        if self.is_sqlite() {
            let Some(photo) = self.photo(hash)? else { return Ok(None) };
            let path = photo.path.expect("SQLite keeps files");
            return std::fs::read(&path).map(Some).map_err(|e| format!("cannot read {}: {e}", path.display()));
        }
        self.read(|db| db.query_opt("SELECT bytes FROM photo_bytes WHERE hash = ?1", params![hash], |r| r.get(0)))
    }

    /// Bytes of photos counted against `unit`.
    pub fn photo_bytes(&self, unit: &str) -> Result<u64> {
        self.read(|db| db.query_row("SELECT CAST(COALESCE(SUM(size), 0) AS BIGINT) FROM photos WHERE unit = ?1", params![unit], |r| r.get(0)))
    }

    /// Stores an uploaded photo for `unit` (the caller checked its hash and who sends it):
    /// the file made durable first, then its row, so a row never names a missing file. A photo
    /// stored already is acknowledged again, counted once. True when this call stored it (two
    /// uploads of one photo at once: one of them).
    pub fn put_photo(&self, unit: &str, hash: &str, bytes: &[u8], quota: u64, now: i64) -> std::result::Result<bool, Refusal> {
        if self.photo(hash).map_err(Refusal::Storage)?.is_some() {
            return Ok(false);
        }
        let used = self.photo_bytes(unit).map_err(Refusal::Storage)?;
        if used + bytes.len() as u64 > quota {
            return Err(Refusal::Quota { used, quota });
        }
        let in_database = !self.is_sqlite();
        if !in_database {
            write_durably(&self.dir, hash, bytes).map_err(Refusal::Storage)?;
        }
        self.write(|db| {
            let stored =
                db.execute("INSERT INTO photos (hash, size, unit, uploaded_at) VALUES (?1, ?2, ?3, ?4) ON CONFLICT DO NOTHING", params![hash, bytes.len(), unit, now])? == 1;
            if in_database && stored {
                db.execute("INSERT INTO photo_bytes (hash, bytes) VALUES (?1, ?2) ON CONFLICT DO NOTHING", params![hash, bytes])?;
            }
            Ok(stored)
        })
        .map_err(Refusal::Storage)
    }

    /// Removes the photos no record has referenced for `grace` seconds: marks those that just
    /// lost their last reference, unmarks those referenced again, deletes the rows of the
    /// rest and then their files. Returns the hashes removed.
    pub fn collect_photos(&self, now: i64, grace: i64) -> Result<Vec<String>> {
        let gone: Vec<String> = self.write(|db| {
            db.execute("UPDATE photos SET orphaned_at = NULL WHERE orphaned_at IS NOT NULL AND EXISTS (SELECT 1 FROM rm_photos r WHERE r.hash = photos.hash)", params![])?;
            db.execute("UPDATE photos SET orphaned_at = ?1 WHERE orphaned_at IS NULL AND NOT EXISTS (SELECT 1 FROM rm_photos r WHERE r.hash = photos.hash)", params![now])?;
            let gone: Vec<String> = db.query_map("SELECT hash FROM photos WHERE orphaned_at <= ?1", params![now - grace], |r| r.get(0))?;
            for hash in &gone {
                if db.backend() == sql::Kind::Postgres {
                    db.execute("DELETE FROM photo_bytes WHERE hash = ?1", params![hash])?;
                }
                db.execute("DELETE FROM photos WHERE hash = ?1", params![hash])?;
            }
            Ok(gone)
        })?;
        // A crash between the commit and here leaves a file no row names: never served, and
        // taken as it is if the same photo is uploaded again.
        for hash in &gone {
            let _ = std::fs::remove_file(path_of(&self.dir, hash));
        }
        Ok(gone)
    }
}
