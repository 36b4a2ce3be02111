//! The database's layout version (SQLite's `user_version`) and the numbered migrations that
//! bring an older data directory to it. Each runs at the start, in order, after an automatic
//! backup; a data directory from a newer version is refused rather than guessed at. Every
//! earlier layout has a fixture in `tests/fixtures/schema-N/` that the tests migrate.

use rusqlite::Connection;

use super::{accounts, awards, board, err, office, photos, read_model, Result, INCREMENTAL};

/// Documents, their chunks, peers' sync states and the server's settings.
pub(crate) const CORE: &str = "
    CREATE TABLE IF NOT EXISTS documents (
        id TEXT PRIMARY KEY,
        snapshot BLOB NOT NULL,
        created_at INTEGER NOT NULL DEFAULT (unixepoch()),
        tag INTEGER NOT NULL DEFAULT 0);
    CREATE TABLE IF NOT EXISTS chunks (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        doc TEXT NOT NULL REFERENCES documents(id),
        bytes BLOB NOT NULL);
    CREATE INDEX IF NOT EXISTS chunks_by_doc ON chunks(doc, seq);
    CREATE TABLE IF NOT EXISTS sync_states (
        storage_id TEXT NOT NULL,
        doc TEXT NOT NULL,
        state BLOB NOT NULL,
        PRIMARY KEY (storage_id, doc));
    CREATE TABLE IF NOT EXISTS settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);";

/// The layout this build writes. 0 is every database from before versions (0.1.0).
pub const SCHEMA_VERSION: i64 = 5;

pub(super) struct Migration {
    /// The version the database has once it ran.
    pub to: i64,
    pub what: &'static str,
    run: fn(&Connection) -> Result<()>,
}

/// In order; a new one goes at the end with the next number, and a fixture of the layout it
/// leaves behind is added to the tests when it is released.
pub(super) const MIGRATIONS: &[Migration] = &[
    Migration { to: 1, what: "the layout of 0.1.0, made whole and numbered", run: to_1 },
    Migration { to: 2, what: "the public board: its actors, residents' contacts, used codes, devices' code keys", run: to_2 },
    Migration { to: 3, what: "the campaign office's rounds and notices", run: to_3 },
    Migration { to: 4, what: "award rounds: nominations, opinions, objections, decisions", run: to_4 },
    Migration { to: 5, what: "photos: uploaded files and the records that reference them", run: to_5 },
];

pub(super) fn version(db: &Connection) -> Result<i64> {
    db.query_row("PRAGMA user_version", [], |r| r.get(0)).map_err(err)
}

pub(super) fn has_tables(db: &Connection) -> Result<bool> {
    Ok(db.query_row("SELECT COUNT(*) FROM sqlite_master", [], |r| r.get::<_, i64>(0)).map_err(err)? > 0)
}

/// The migrations a database at `version` still needs.
pub(super) fn pending(version: i64) -> impl Iterator<Item = &'static Migration> {
    MIGRATIONS.iter().filter(move |m| m.to > version)
}

/// Runs one migration and records its number (the number only once it has run whole).
pub(super) fn run(db: &Connection, m: &Migration) -> Result<()> {
    (m.run)(db).map_err(|e| format!("migration {} ({}): {e}", m.to, m.what))?;
    db.execute_batch(&format!("PRAGMA user_version = {}", m.to)).map_err(err)
}

/// Makes a new database's tables at this version's layout, holding no rows (a backup of
/// PostgreSQL is copied into one).
pub(crate) fn create_empty(db: &Connection) -> Result<()> {
    if has_tables(db)? {
        return Err("a new database was expected, not one with tables".into());
    }
    for m in MIGRATIONS {
        run(db, m)?;
    }
    // The migrations record the read model's version; the copy brings the source's own.
    db.execute_batch("DELETE FROM settings").map_err(err)
}

/// 0 → 1: what every start of 0.1.0 did to whatever it found (each step a no-op where done):
/// incremental vacuum, the tables, the read model's layout, the compaction tag.
fn to_1(db: &Connection) -> Result<()> {
    let auto_vacuum: i64 = db.query_row("PRAGMA auto_vacuum", [], |r| r.get(0)).map_err(err)?;
    if auto_vacuum != INCREMENTAL {
        // The mode must be chosen before the first table exists; a database made before it is
        // converted with VACUUM.
        db.execute_batch("PRAGMA auto_vacuum = INCREMENTAL").map_err(err)?;
        if has_tables(db)? {
            db.execute_batch("VACUUM").map_err(err)?;
        }
    }
    db.execute_batch(CORE).map_err(err)?;
    db.execute_batch(accounts::SCHEMA).map_err(err)?;
    db.execute_batch(read_model::SCHEMA).map_err(err)?;
    read_model::migrate(db)?;
    // Each snapshot carries the tag of the compaction that wrote it (0 before compaction tags
    // existed): a compaction replaces only the snapshot it started from.
    let has_tag: bool = db.query_row("SELECT COUNT(*) FROM pragma_table_info('documents') WHERE name = 'tag'", [], |r| r.get::<_, i64>(0)).map_err(err)? > 0;
    if !has_tag {
        db.execute_batch("ALTER TABLE documents ADD COLUMN tag INTEGER NOT NULL DEFAULT 0").map_err(err)?;
    }
    Ok(())
}

/// 1 → 2: the public board's tables.
fn to_2(db: &Connection) -> Result<()> {
    db.execute_batch(board::SCHEMA).map_err(err)
}

/// 2 → 3: the campaign office's rounds.
fn to_3(db: &Connection) -> Result<()> {
    db.execute_batch(office::SCHEMA).map_err(err)
}

/// 3 → 4: award rounds (评先评优).
fn to_4(db: &Connection) -> Result<()> {
    db.execute_batch(awards::SCHEMA).map_err(err)
}

/// 4 → 5: photos (照片). Which records reference which photo is filled in by projecting every
/// ledger again (the read model's version went up with it).
fn to_5(db: &Connection) -> Result<()> {
    db.execute_batch(photos::SCHEMA).map_err(err)
}
