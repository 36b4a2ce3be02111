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
    if path_of(data_dir, hash).exists() {
        return Ok(());
    }
    let partial = Partial::write(data_dir, hash, bytes)?;
    let placed = partial.place();
    partial.discard();
    placed
}

/// A photo's bytes written and synced under a name of their own (`….partial`) beside where
/// they belong: slow work done before a turn in storage, so that the turn only renames.
struct Partial {
    path: PathBuf,
    target: PathBuf,
}

impl Partial {
    fn write(data_dir: &Path, hash: &str, bytes: &[u8]) -> Result<Self> {
        let target = path_of(data_dir, hash);
        let dir = target.parent().expect("a photo's path has a folder");
        std::fs::create_dir_all(dir).map_err(|e| io_error("create", dir, e))?;
        let mut nonce = [0u8; 8];
        getrandom::fill(&mut nonce).map_err(|e| e.to_string())?;
        let path = dir.join(format!("{hash}.{:016x}.partial", u64::from_le_bytes(nonce)));
        let partial = Self { path, target };
        let written = (|| {
            let mut f = File::create(&partial.path).map_err(|e| io_error("create", &partial.path, e))?;
            f.write_all(bytes).map_err(|e| io_error("write", &partial.path, e))?;
            f.sync_all().map_err(|e| io_error("sync", &partial.path, e))
        })();
        match written {
            Ok(()) => Ok(partial),
            Err(e) => {
                partial.discard();
                Err(e)
            }
        }
    }

    /// Renames the file into place and syncs its folder: from here the photo's file exists.
    fn place(&self) -> Result<()> {
        std::fs::rename(&self.path, &self.target).map_err(|e| io_error("rename", &self.path, e))?;
        let dir = self.target.parent().expect("a photo's path has a folder");
        File::open(dir).and_then(|d| d.sync_all()).map_err(|e| io_error("sync", dir, e))
    }

    /// Removes the file if it was not placed (a refusal, a failure, or the photo already there).
    fn discard(self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

fn io_error(what: &str, p: &Path, e: std::io::Error) -> String {
    format!("cannot {what} {}: {e}", p.display())
}

/// Bytes of photos counted against `unit`.
fn unit_bytes(db: &mut dyn Sql, unit: &str) -> sql::Result<u64> {
    db.query_row("SELECT CAST(COALESCE(SUM(size), 0) AS BIGINT) FROM photos WHERE unit = ?1", params![unit], |r| r.get(0))
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
        self.read(|db| unit_bytes(db, unit))
    }

    /// Stores an uploaded photo for `unit` (the caller checked its hash and who sends it):
    /// the file made durable first, then its row, so a row never names a missing file. A photo
    /// stored already is acknowledged again, counted once. True when this call stored it (two
    /// uploads of one photo at once: one of them).
    ///
    /// The quota is checked and the row written in one turn of the unit's photos, on every
    /// process: uploads of one unit at once cannot all pass a nearly full quota together.
    pub fn put_photo(&self, unit: &str, hash: &str, bytes: &[u8], quota: u64, now: i64) -> std::result::Result<bool, Refusal> {
        if self.photo(hash).map_err(Refusal::Storage)?.is_some() {
            return Ok(false);
        }
        let size = bytes.len() as u64;
        // SQLite keeps files: written and synced before the turn (the database's one writer is
        // not held for a fsync of megabytes), renamed into place inside it.
        let partial = if self.is_sqlite() { Some(Partial::write(&self.dir, hash, bytes).map_err(Refusal::Storage)?) } else { None };
        let outcome = self.write_in_turn(&format!("photos:{unit}"), |db| {
            let used = unit_bytes(db, unit)?;
            if used + size > quota {
                return Ok(Err(Refusal::Quota { used, quota }));
            }
            let stored = db.execute("INSERT INTO photos (hash, size, unit, uploaded_at) VALUES (?1, ?2, ?3, ?4) ON CONFLICT DO NOTHING", params![hash, size, unit, now])? == 1;
            if stored {
                match &partial {
                    // A failure here rolls the row back with it.
                    Some(file) => file.place()?,
                    None => db.execute("INSERT INTO photo_bytes (hash, bytes) VALUES (?1, ?2) ON CONFLICT DO NOTHING", params![hash, bytes]).map(|_| ())?,
                }
            }
            Ok(Ok(stored))
        });
        if let Some(file) = partial {
            file.discard();
        }
        outcome.map_err(Refusal::Storage)?
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
