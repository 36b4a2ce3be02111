//! The read model in storage (督查读模型): each unit ledger's records projected into rows, one
//! per record, with the facts the figures count and the record itself as JSON (lists, export),
//! plus the heads each ledger was projected at. A projection is written in the transaction
//! that stores the changes it follows from, so the rows never lag or lead the document.

use automerge::ChangeHash;
use ledger::record::Section;
use ledger::report::{Facts, Record, Update};
use ledger::RecordId;
use ledger_sync::DocumentId;
use rusqlite::OptionalExtension;

use super::sql::{self, params, Sql};
use super::{err, Result, Storage};

pub(super) const SCHEMA: &str = "
    CREATE TABLE IF NOT EXISTS rm_records (
        ledger TEXT NOT NULL, section TEXT NOT NULL, id TEXT NOT NULL,
        facts BLOB NOT NULL, body TEXT NOT NULL,
        PRIMARY KEY (ledger, section, id)) WITHOUT ROWID;
    CREATE TABLE IF NOT EXISTS rm_ledgers (
        ledger TEXT PRIMARY KEY, heads BLOB NOT NULL, changed_at INTEGER NOT NULL) WITHOUT ROWID;";

/// What the rows hold: 2 added served enterprises (for the export), 3 records' photos and
/// places. Ledgers projected by an older version are projected again at the next start.
pub(super) const PROJECTION_VERSION: i64 = 3;

pub(super) fn migrate(db: &rusqlite::Connection) -> Result<()> {
    without_rowid(db)?;
    let version: i64 = db
        .query_row("SELECT value FROM settings WHERE key = 'read_model_version'", [], |r| r.get::<_, String>(0))
        .optional()
        .map_err(err)?
        .and_then(|v| v.parse().ok())
        .unwrap_or(1);
    if version >= PROJECTION_VERSION {
        return Ok(());
    }
    // Heads that cannot be decoded read as "never projected": the start's catch-up projects
    // each ledger whole, and keeps the time its last change arrived.
    db.execute_batch(&format!(
        "BEGIN IMMEDIATE;
         UPDATE rm_ledgers SET heads = X'00';
         INSERT OR REPLACE INTO settings (key, value) VALUES ('read_model_version', '{PROJECTION_VERSION}');
         COMMIT;"
    ))
    .map_err(err)
}

/// Session 9 made `rm_ledgers` a rowid table: every commit then wrote two pages (the row and
/// its key's index) where one does. Its rows are copied into the table as it is now.
fn without_rowid(db: &rusqlite::Connection) -> Result<()> {
    let sql: String = db.query_row("SELECT sql FROM sqlite_master WHERE name = 'rm_ledgers'", [], |r| r.get(0)).map_err(err)?;
    if sql.contains("WITHOUT ROWID") {
        return Ok(());
    }
    db.execute_batch(
        "BEGIN IMMEDIATE;
         CREATE TABLE rm_ledgers_new (ledger TEXT PRIMARY KEY, heads BLOB NOT NULL, changed_at INTEGER NOT NULL) WITHOUT ROWID;
         INSERT INTO rm_ledgers_new SELECT ledger, heads, changed_at FROM rm_ledgers;
         DROP TABLE rm_ledgers;
         ALTER TABLE rm_ledgers_new RENAME TO rm_ledgers;
         COMMIT;",
    )
    .map_err(err)
}

/// Rows an export reads from storage at a time.
pub(crate) const BODY_BATCH: usize = 256;

/// A projection to store: what changed, and the heads it brings the ledger's rows to.
pub struct Projection {
    pub update: Update,
    pub heads: Vec<ChangeHash>,
    /// When the change reached the server (seconds).
    pub at: i64,
}

/// One ledger's stored facts, and when its last change reached the server.
#[derive(Debug, Default, Clone)]
pub struct StoredFacts {
    pub records: Vec<(Section, RecordId, Facts)>,
    pub changed_at: Option<i64>,
}

fn encode_heads(heads: &[ChangeHash]) -> Vec<u8> {
    heads.iter().flat_map(|h| h.0).collect()
}

pub(crate) fn decode_heads(bytes: &[u8]) -> Option<Vec<ChangeHash>> {
    if bytes.len() % 32 != 0 {
        return None;
    }
    Some(bytes.chunks(32).map(|c| ChangeHash(c.try_into().expect("32 bytes"))).collect())
}

/// Records that a new ledger, holding no record yet, is projected at `heads` (its skeleton's),
/// so the read model need not catch it up at the next start. No change has reached the server.
pub(super) fn projected_empty(db: &mut dyn Sql, ledger: &str, heads: &[ChangeHash]) -> sql::Result<()> {
    db.execute("INSERT INTO rm_ledgers (ledger, heads, changed_at) VALUES (?1, ?2, 0) ON CONFLICT DO NOTHING", params![ledger, encode_heads(heads)]).map(|_| ())
}

/// A record's row as stored: (section, id, facts, body). `check` compares stored rows with these.
pub(crate) fn row(r: &Record) -> (&'static str, String, Vec<u8>, String) {
    (r.section().key(), r.id().as_str().to_owned(), r.facts().encode(), serde_json::to_string(r).expect("records serialize"))
}

/// Writes a projection inside the transaction that stores its change.
pub(super) fn write(db: &mut dyn Sql, ledger: &str, p: &Projection) -> sql::Result<()> {
    let (changed, gone): (&[Record], &[(Section, RecordId)]) = match &p.update {
        Update::All(records) => {
            db.execute("DELETE FROM rm_records WHERE ledger = ?1", params![ledger])?;
            super::photos::forget_ledger(db, ledger)?;
            (records, &[])
        }
        Update::Records { changed, gone } => (changed, gone),
    };
    for r in changed {
        let (section, id, facts, body) = row(r);
        db.execute(
            "INSERT INTO rm_records (ledger, section, id, facts, body) VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT (ledger, section, id) DO UPDATE SET facts = excluded.facts, body = excluded.body",
            params![ledger, section, id, facts, body],
        )?;
        super::photos::reference(db, ledger, r)?;
    }
    for (section, id) in gone {
        db.execute("DELETE FROM rm_records WHERE ledger = ?1 AND section = ?2 AND id = ?3", params![ledger, section.key(), id.as_str()])?;
        super::photos::forget(db, ledger, section.key(), id.as_str())?;
    }
    db.execute(
        "INSERT INTO rm_ledgers (ledger, heads, changed_at) VALUES (?1, ?2, ?3)
         ON CONFLICT (ledger) DO UPDATE SET heads = excluded.heads,
         changed_at = CASE WHEN excluded.changed_at > rm_ledgers.changed_at THEN excluded.changed_at ELSE rm_ledgers.changed_at END",
        params![ledger, encode_heads(&p.heads), p.at],
    )?;
    Ok(())
}

impl Storage {
    /// The heads the ledger's rows were projected at; None when it was never projected.
    pub fn projected_heads(&self, doc: &DocumentId) -> Result<Option<Vec<ChangeHash>>> {
        let ledger = doc.to_string();
        let bytes: Option<Vec<u8>> = self.read(|db| db.query_opt("SELECT heads FROM rm_ledgers WHERE ledger = ?1", params![ledger], |r| r.get(0)))?;
        // Unreadable heads are treated as none: the next change projects the whole ledger.
        Ok(bytes.and_then(|b| decode_heads(&b)))
    }

    /// Stores a projection on its own (a rebuild).
    pub fn project(&self, doc: &DocumentId, projection: &Projection) -> Result<()> {
        let ledger = doc.to_string();
        self.write_in_turn(&ledger, |db| write(db, &ledger, projection))
    }

    /// A ledger's facts as stored. Rows whose facts cannot be read (written by a newer
    /// version) are left out rather than failing the whole overview.
    pub fn stored_facts(&self, doc: &DocumentId) -> Result<StoredFacts> {
        let ledger = doc.to_string();
        self.read(|db| {
            // 0: projected by a rebuild, before any change reached this server.
            let changed_at = db.query_opt("SELECT changed_at FROM rm_ledgers WHERE ledger = ?1", params![ledger], |r| r.get::<i64>(0))?.filter(|t| *t > 0);
            let mut records = Vec::new();
            db.each("SELECT section, id, facts FROM rm_records WHERE ledger = ?1", params![ledger], &mut |r| {
                let (section, id, facts) = (r.get::<String>(0)?, r.get::<String>(1)?, r.get::<Vec<u8>>(2)?);
                if let (Some(section), Some(id), Some(facts)) = (Section::from_key(&section), RecordId::parse(&id), Facts::decode(&facts)) {
                    records.push((section, id, facts));
                }
                Ok(())
            })?;
            Ok(StoredFacts { records, changed_at })
        })
    }

    /// One record's stored JSON.
    pub fn record_body(&self, doc: &DocumentId, section: Section, id: &RecordId) -> Result<Option<String>> {
        let ledger = doc.to_string();
        self.read(|db| db.query_opt("SELECT body FROM rm_records WHERE ledger = ?1 AND section = ?2 AND id = ?3", params![ledger, section.key(), id.as_str()], |r| r.get(0)))
    }

    /// Calls `each` with every stored record of `section` in the ledgers, ledger by ledger, read
    /// in batches of [`BODY_BATCH`] rows: an export of any size holds one batch in memory, and
    /// storage is free for the syncing between batches (an export never stalls a commit long).
    pub fn each_body(&self, ledgers: &[DocumentId], section: Section, mut each: impl FnMut(&DocumentId, &str) -> Result<()>) -> Result<()> {
        for ledger in ledgers {
            let id = ledger.to_string();
            let mut after = String::new();
            loop {
                let batch: Vec<(String, String)> = self.read(|db| {
                    db.query_map(
                        "SELECT id, body FROM rm_records WHERE ledger = ?1 AND section = ?2 AND id > ?3 ORDER BY id LIMIT ?4",
                        params![id, section.key(), after, BODY_BATCH as i64],
                        |r| Ok((r.get::<String>(0)?, r.get::<String>(1)?)),
                    )
                })?;
                let Some((last, _)) = batch.last() else { break };
                after = last.clone();
                let full = batch.len() == BODY_BATCH;
                for (_, body) in &batch {
                    each(ledger, body)?;
                }
                if !full {
                    break;
                }
            }
        }
        Ok(())
    }

    /// When a device of each unit last reached the server (seconds): the latest contact of any
    /// phone (or third-party peer) of a person holding a cadre's or secretary's role there.
    /// Desktop sessions do not count: they sync nothing.
    pub fn unit_last_sync(&self) -> Result<std::collections::HashMap<String, i64>> {
        let rows = self.read(|db| {
            db.query_map(
                "SELECT g.unit, MAX(d.last_seen) FROM grants g JOIN devices d ON d.person = g.person
                 WHERE g.role IN ('cadre', 'secretary') AND d.kind IN ('phone', 'token') AND d.last_seen IS NOT NULL GROUP BY g.unit",
                params![],
                |r| Ok((r.get::<String>(0)?, r.get::<i64>(1)?)),
            )
        })?;
        Ok(rows.into_iter().collect())
    }
}
