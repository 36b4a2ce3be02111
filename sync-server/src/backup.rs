//! Backups and restores of a data directory. A backup is one SQLite file made with `VACUUM
//! INTO` on a connection of its own: one read transaction, so every document and the directory
//! are as they were at one moment, while the server goes on writing (WAL lets readers and the
//! writer pass). It is written beside its name, checked, synced and only then renamed, so a
//! backup file that exists is whole. A restore checks the backup first and keeps whatever the
//! data directory held before.
//!
//! Photos are files beside the database, named by their hash and never changed: a backup
//! copies those its database lists into a `photos` folder beside it, shared by every backup in
//! that folder (each photo once), and a restore copies them back.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use rusqlite::{Connection, OpenFlags};

use crate::data_check::{self, Report};
use crate::storage::{Storage, DATABASE};

/// Where a data directory's own backups go: the scheduled ones and those made before a migration.
pub const DIR: &str = "backups";
/// The scheduled backups' names start with this; only these are pruned.
const SCHEDULED: &str = "pioneer";

/// A new file name in `dir`: `prefix-20261205T120000Z.sqlite3` (UTC), never one that exists.
pub fn path_in(dir: &Path, prefix: &str) -> PathBuf {
    let stamp = stamp();
    let mut path = dir.join(format!("{prefix}-{stamp}.sqlite3"));
    let mut n = 1;
    while path.exists() {
        path = dir.join(format!("{prefix}-{stamp}-{n}.sqlite3"));
        n += 1;
    }
    path
}

/// Now, in UTC, as file names carry it.
fn stamp() -> String {
    let now = chrono::DateTime::from_timestamp(crate::directory::now_secs(), 0).unwrap_or_default();
    now.format("%Y%m%dT%H%M%SZ").to_string()
}

fn io<'a>(what: &str, path: &'a Path) -> impl FnOnce(std::io::Error) -> String + 'a {
    let what = what.to_owned();
    move |e| format!("cannot {what} {}: {e}", path.display())
}

/// Writes a consistent copy of `db`'s database to `to` (which must not exist): to a partial
/// file first, checked by SQLite and synced to the disk, then renamed.
pub(crate) fn vacuum_into(db: &Connection, to: &Path) -> Result<(), String> {
    let partial = partial_for(to)?;
    let path = partial.to_str().ok_or_else(|| format!("{} is not a UTF-8 path", partial.display()))?;
    let result = db.execute("VACUUM INTO ?1", [path]).map_err(|e| format!("backup: {e}")).and_then(|_| finish(&partial, to));
    if result.is_err() {
        let _ = std::fs::remove_file(&partial);
    }
    result
}

/// A new partial file for the backup `to` (which must not exist), its folder made.
fn partial_for(to: &Path) -> Result<PathBuf, String> {
    if to.exists() {
        return Err(format!("{} exists already; a backup never overwrites", to.display()));
    }
    let dir = beside(to);
    std::fs::create_dir_all(dir).map_err(io("create", dir))?;
    let partial = to.with_extension("partial");
    let _ = std::fs::remove_file(&partial);
    Ok(partial)
}

/// The folder a backup file lies in (its photos go there too).
fn beside(file: &Path) -> &Path {
    file.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."))
}

/// Checks the written `partial` copy with SQLite, syncs it to the disk and renames it `to`.
fn finish(partial: &Path, to: &Path) -> Result<(), String> {
    let copy = Connection::open_with_flags(partial, OpenFlags::SQLITE_OPEN_READ_ONLY).map_err(|e| format!("backup: {e}"))?;
    let verdict: String = copy.query_row("PRAGMA quick_check", [], |r| r.get(0)).map_err(|e| format!("backup: {e}"))?;
    if verdict != "ok" {
        return Err(format!("backup: the copy is damaged: {verdict}"));
    }
    drop(copy);
    File::open(partial).and_then(|f| f.sync_all()).map_err(io("sync", partial))?;
    std::fs::rename(partial, to).map_err(io("rename", partial))?;
    let dir = beside(to);
    File::open(dir).and_then(|f| f.sync_all()).map_err(io("sync", dir))
}

/// What a backup wrote.
#[derive(Debug)]
pub struct Backup {
    pub path: PathBuf,
    pub bytes: u64,
    pub took: Duration,
    /// Photos copied beside it this time (those copied for an earlier backup stay).
    pub photos_copied: usize,
    /// Photos its database lists whose file was gone (removed as unreferenced meanwhile).
    pub photos_missing: Vec<String>,
}

/// The photos the database at `db_file` lists.
fn listed_photos(db_file: &Path) -> Result<Vec<String>, String> {
    let db = Connection::open_with_flags(db_file, OpenFlags::SQLITE_OPEN_READ_ONLY).map_err(|e| format!("cannot open {}: {e}", db_file.display()))?;
    let has: bool = db.query_row("SELECT COUNT(*) FROM sqlite_master WHERE name = 'photos'", [], |r| r.get::<_, i64>(0)).map_err(|e| e.to_string())? > 0;
    if !has {
        return Ok(Vec::new());
    }
    let mut stmt = db.prepare("SELECT hash FROM photos").map_err(|e| e.to_string())?;
    let rows = stmt.query_map([], |r| r.get(0)).map_err(|e| e.to_string())?;
    rows.collect::<Result<_, _>>().map_err(|e| e.to_string())
}

/// Copies the photos `db_file` lists from the folder `from` (a data directory or a backup's
/// folder) to `to`, each that `to` lacks: to a partial file, synced, then renamed. Returns how
/// many were copied and which were missing in `from`.
pub(crate) fn copy_photos(db_file: &Path, from: &Path, to: &Path) -> Result<(usize, Vec<String>), String> {
    let (mut copied, mut missing) = (0, Vec::new());
    for hash in listed_photos(db_file)? {
        if !ledger::photo::valid_hash(&hash) {
            continue;
        }
        let (source, target) = (crate::storage::photos::path_of(from, &hash), crate::storage::photos::path_of(to, &hash));
        if target.exists() {
            continue;
        }
        if !source.exists() {
            missing.push(hash);
            continue;
        }
        let dir = target.parent().expect("a photo's path has a folder");
        std::fs::create_dir_all(dir).map_err(io("create", dir))?;
        let partial = target.with_extension("partial");
        std::fs::copy(&source, &partial).map_err(io("copy to", &partial))?;
        File::open(&partial).and_then(|f| f.sync_all()).map_err(io("sync", &partial))?;
        std::fs::rename(&partial, &target).map_err(io("rename", &partial))?;
        File::open(dir).and_then(|f| f.sync_all()).map_err(io("sync", dir))?;
        copied += 1;
    }
    Ok((copied, missing))
}

/// Removes the photos in `dir`'s shared folder that no backup in `dir` lists any more.
fn prune_photos(dir: &Path) -> Result<usize, String> {
    let root = dir.join(crate::storage::photos::DIR);
    if !root.is_dir() {
        return Ok(0);
    }
    let mut kept = std::collections::HashSet::new();
    let entries = std::fs::read_dir(dir).map_err(io("read", dir))?;
    for e in entries.flatten() {
        if e.file_name().to_str().is_some_and(|n| n.ends_with(".sqlite3")) {
            kept.extend(listed_photos(&e.path())?);
        }
    }
    let mut removed = 0;
    for shard in std::fs::read_dir(&root).map_err(io("read", &root))?.flatten() {
        for file in std::fs::read_dir(shard.path()).into_iter().flatten().flatten() {
            if file.file_name().to_str().is_some_and(|n| !kept.contains(n)) && std::fs::remove_file(file.path()).is_ok() {
                removed += 1;
            }
        }
    }
    Ok(removed)
}

/// Backs up the data directory `data_dir` to `to`, whether a server runs on it or not.
pub fn backup(data_dir: &Path, to: &Path) -> Result<Backup, String> {
    let started = std::time::Instant::now();
    let source = data_dir.join(DATABASE);
    if !source.is_file() {
        return Err(format!("{} holds no data ({DATABASE} is missing)", data_dir.display()));
    }
    let db = Connection::open_with_flags(&source, OpenFlags::SQLITE_OPEN_READ_WRITE).map_err(|e| format!("cannot open {}: {e}", source.display()))?;
    db.busy_timeout(crate::STORAGE_BUSY_TIMEOUT).map_err(|e| e.to_string())?;
    vacuum_into(&db, to)?;
    let bytes = std::fs::metadata(to).map(|m| m.len()).unwrap_or(0);
    let beside = to.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let (photos_copied, photos_missing) = copy_photos(to, data_dir, beside)?;
    Ok(Backup { path: to.to_owned(), bytes, took: started.elapsed(), photos_copied, photos_missing })
}

/// Backs up what `storage` holds to `to`, while servers run or not. SQLite: [`backup`] of its
/// data directory. PostgreSQL: every table copied, in one consistent read, into a new SQLite
/// file of this version's layout, and every photo's bytes written as a file beside it: a
/// backup like any other, which `check` checks and `restore` restores into either backend.
pub fn backup_storage(storage: &Storage, to: &Path) -> Result<Backup, String> {
    if storage.is_sqlite() {
        return backup(storage.dir(), to);
    }
    let started = std::time::Instant::now();
    let partial = partial_for(to)?;
    let folder = beside(to).to_owned();
    let mut photos_copied = 0;
    let result = (|| {
        let db = Connection::open(&partial).map_err(|e| format!("backup: {e}"))?;
        crate::storage::schema::create_empty(&db)?;
        db.execute_batch("BEGIN").map_err(|e| format!("backup: {e}"))?;
        let lacks = |hash: &str| ledger::photo::valid_hash(hash) && !crate::storage::photos::path_of(&folder, hash).exists();
        let mut photo = |hash: &str, bytes: &[u8]| {
            photos_copied += 1;
            crate::storage::photos::write_durably(&folder, hash, bytes)
        };
        storage.copy_into(&db, &lacks, &mut photo)?;
        // PostgreSQL's own record of its layout; the file's is SQLite's `user_version`.
        db.execute_batch("DELETE FROM settings WHERE key = 'schema_version'; COMMIT").map_err(|e| format!("backup: {e}"))?;
        drop(db);
        finish(&partial, to)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&partial);
    }
    result?;
    let bytes = std::fs::metadata(to).map(|m| m.len()).unwrap_or(0);
    Ok(Backup { path: to.to_owned(), bytes, took: started.elapsed(), photos_copied, photos_missing: Vec::new() })
}

/// Restores the backup `from` into the PostgreSQL database `storage` opened, while no server
/// serves from it. The backup is checked first and refused unless whole; one from an older
/// version is brought to this one's layout on a copy first. What the database held is backed
/// up into the data directory's `backups` before it is replaced, in one transaction. This is
/// also how a SQLite data directory moves to PostgreSQL: back it up, restore it here.
pub fn restore_into(from: &Path, storage: &Storage) -> Result<Restored, String> {
    if storage.is_sqlite() {
        return restore(from, storage.dir());
    }
    let _alone = storage.hold_alone()?;
    let report = data_check::check_file(from)?;
    if !report.is_whole() {
        return Err(format!("{} is not whole; nothing was restored:\n  {}", from.display(), report.problems.join("\n  ")));
    }
    let photos_from = beside(from).to_owned();
    // An older layout is migrated on a copy, in a folder of the data directory's own.
    let work = storage.dir().join(format!("restoring-{}", stamp()));
    let source = if report.schema < crate::storage::SCHEMA_VERSION {
        std::fs::create_dir_all(&work).map_err(io("create", &work))?;
        std::fs::copy(from, work.join(DATABASE)).map_err(io("copy to", &work))?;
        drop(Storage::open(&work)?);
        work.join(DATABASE)
    } else {
        from.to_owned()
    };
    let result = (|| {
        let held =
            storage.read(|db| db.query_row("SELECT (SELECT COUNT(*) FROM documents) + (SELECT COUNT(*) FROM units)", crate::storage::sql::params![], |r| r.get::<i64>(0)))?;
        let kept = if held > 0 { Some(backup_storage(storage, &path_in(&storage.dir().join(DIR), "before-restore"))?.path) } else { None };
        let db = Connection::open_with_flags(&source, OpenFlags::SQLITE_OPEN_READ_ONLY).map_err(|e| format!("cannot open {}: {e}", source.display()))?;
        let photo = |hash: &str| {
            let file = crate::storage::photos::path_of(&photos_from, hash);
            std::fs::read(&file).map_err(|e| format!("photo {hash}: cannot read {}: {e}", file.display()))
        };
        storage.replace_with(&db, &photo)?;
        Ok(Restored { report, kept, photos_missing: Vec::new() })
    })();
    let _ = std::fs::remove_dir_all(&work);
    result
}

/// The data directory held by one process: a server while it runs, or a restore. Released when
/// dropped (or when the process ends, however it ends).
pub struct DataDirLock {
    _file: File,
}

impl DataDirLock {
    pub fn take(data_dir: &Path) -> Result<Self, String> {
        std::fs::create_dir_all(data_dir).map_err(io("create", data_dir))?;
        let path = data_dir.join("server.lock");
        let file = File::options().create(true).truncate(false).write(true).open(&path).map_err(io("open", &path))?;
        match file.try_lock() {
            Ok(()) => Ok(Self { _file: file }),
            Err(std::fs::TryLockError::WouldBlock) => Err(format!("another sync-server uses {} (stop it first)", data_dir.display())),
            Err(std::fs::TryLockError::Error(e)) => Err(format!("cannot lock {}: {e}", path.display())),
        }
    }
}

/// What a restore did.
#[derive(Debug)]
pub struct Restored {
    pub report: Report,
    /// Where the data the directory held before now lies.
    pub kept: Option<PathBuf>,
    /// Photos the backup lists but its folder does not hold.
    pub photos_missing: Vec<String>,
}

/// Restores `from` into `data_dir` (no server may run on it). The backup is checked first and
/// refused, with what is wrong, unless whole. What the directory held is moved aside, not deleted.
pub fn restore(from: &Path, data_dir: &Path) -> Result<Restored, String> {
    let _lock = DataDirLock::take(data_dir)?;
    let report = data_check::check_file(from)?;
    if !report.is_whole() {
        return Err(format!("{} is not whole; nothing was restored:\n  {}", from.display(), report.problems.join("\n  ")));
    }
    let target = data_dir.join(DATABASE);
    let incoming = data_dir.join(format!("{DATABASE}.restoring"));
    std::fs::copy(from, &incoming).map_err(io("copy to", &incoming))?;
    File::open(&incoming).and_then(|f| f.sync_all()).map_err(io("sync", &incoming))?;
    let mut kept = None;
    if target.exists() {
        let aside = data_dir.join(format!("{DATABASE}.before-restore-{}", stamp()));
        std::fs::rename(&target, &aside).map_err(io("move aside", &target))?;
        for side in ["-wal", "-shm"] {
            let file = data_dir.join(format!("{DATABASE}{side}"));
            if file.exists() {
                let to = PathBuf::from(format!("{}{side}", aside.display()));
                std::fs::rename(&file, &to).map_err(io("move aside", &file))?;
            }
        }
        kept = Some(aside);
    }
    // The photos first: a database never names a file that is not there.
    let beside = from.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let (_, photos_missing) = copy_photos(&incoming, beside, data_dir)?;
    std::fs::rename(&incoming, &target).map_err(io("rename", &incoming))?;
    File::open(data_dir).and_then(|f| f.sync_all()).map_err(io("sync", data_dir))?;
    Ok(Restored { report, kept, photos_missing })
}

/// The scheduled backups in `dir`, oldest first.
fn scheduled(dir: &Path) -> Vec<(SystemTime, PathBuf)> {
    let Ok(entries) = std::fs::read_dir(dir) else { return Vec::new() };
    let mut found: Vec<(SystemTime, PathBuf)> = entries
        .flatten()
        .filter(|e| e.file_name().to_str().is_some_and(|n| n.starts_with(&format!("{SCHEDULED}-")) && n.ends_with(".sqlite3")))
        .filter_map(|e| Some((e.metadata().ok()?.modified().ok()?, e.path())))
        .collect();
    found.sort();
    found
}

/// Makes one scheduled backup in `dir` and deletes the oldest beyond `keep`.
pub fn scheduled_backup(storage: &Storage, dir: &Path, keep: usize) -> Result<Backup, String> {
    let done = backup_storage(storage, &path_in(dir, SCHEDULED))?;
    let all = scheduled(dir);
    for (_, old) in all.iter().take(all.len().saturating_sub(keep.max(1))) {
        if let Err(e) = std::fs::remove_file(old) {
            tracing::warn!("cannot delete the old backup {}: {e}", old.display());
        }
    }
    if let Err(e) = prune_photos(dir) {
        tracing::warn!("cannot prune the backups' photos in {}: {e}", dir.display());
    }
    Ok(done)
}

/// When the newest scheduled backup in `dir` was made.
pub fn newest(dir: &Path) -> Option<SystemTime> {
    scheduled(dir).last().map(|(t, _)| *t)
}

/// Backs storage up every `every` into `dir`, keeping `keep`, for as long as the server runs.
/// The first is due `every` after the newest one already there (at once if none). Several
/// processes sharing PostgreSQL: give one of them `--backup-every`.
pub fn schedule(storage: std::sync::Arc<Storage>, dir: PathBuf, every: Duration, keep: usize) {
    tokio::spawn(async move {
        loop {
            let since = newest(&dir).and_then(|t| t.elapsed().ok());
            if let Some(since) = since.filter(|s| *s < every) {
                tokio::time::sleep(every - since).await;
            }
            let (s, b) = (storage.clone(), dir.clone());
            match tokio::task::spawn_blocking(move || scheduled_backup(&s, &b, keep)).await {
                Ok(Ok(done)) => {
                    crate::metrics::backup_done();
                    tracing::info!("backed up to {} ({} bytes in {:.1} s)", done.path.display(), done.bytes, done.took.as_secs_f64());
                }
                Ok(Err(e)) => {
                    crate::metrics::backup_failed();
                    tracing::error!("the scheduled backup failed: {e}");
                    // Try again sooner than a whole period, but not in a loop.
                    tokio::time::sleep(every.min(Duration::from_secs(600))).await;
                }
                Err(e) => tracing::error!("the scheduled backup panicked: {e}"),
            }
        }
    });
}
