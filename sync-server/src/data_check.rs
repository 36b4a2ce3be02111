//! `sync-server check`: proves a data directory (or a backup) whole, reading it without
//! changing a byte. SQLite's own integrity and foreign keys; every document loads from its
//! snapshot and chunks, and no chunk waits for a change storage lacks; the read model's rows
//! are exactly what the documents project to; the directory's units, grants and devices hang
//! together. Each thing wrong is named; none found means the data is whole. The same checks
//! run on PostgreSQL (`check --database postgres://…`) in one repeatable-read transaction.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use ledger::org::{Org, Role, Unit, UnitKind};
use ledger::report::{self, Update};
use ledger::UnitLedger;
use ledger_sync::stored::missing_dependencies;
use ledger_sync::DocumentId;
use rusqlite::{Connection, OpenFlags};

use crate::storage::read_model::{decode_heads, row};
use crate::storage::sql::{params, Sql, SqliteSql};
use crate::storage::{Storage, SCHEMA_VERSION};

/// What a check found.
#[derive(Debug, Default)]
pub struct Report {
    /// Each thing wrong, in words an operator can act on.
    pub problems: Vec<String>,
    /// Worth knowing, not wrong (a ledger the next start projects).
    pub notes: Vec<String>,
    pub schema: i64,
    pub documents: usize,
    pub chunks: usize,
    pub ledgers: usize,
    pub records: usize,
    pub units: usize,
    pub people: usize,
    pub photos: usize,
}

impl Report {
    pub fn is_whole(&self) -> bool {
        self.problems.is_empty()
    }

    pub fn summary(&self) -> String {
        format!(
            "schema {}: {} documents ({} chunks), {} unit ledgers with {} records in the read model, {} units, {} people, {} photos",
            self.schema, self.documents, self.chunks, self.ledgers, self.records, self.units, self.people, self.photos
        )
    }
}

fn sql(e: rusqlite::Error) -> String {
    format!("cannot read the database: {e}")
}

/// Checks the database file at `path`. Err: it could not be read at all.
pub fn check_file(path: &Path) -> Result<Report, String> {
    if !path.is_file() {
        return Err(format!("{} does not exist", path.display()));
    }
    let db = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX).map_err(sql)?;
    let mut report = Report { schema: db.query_row("PRAGMA user_version", [], |r| r.get(0)).map_err(sql)?, ..Report::default() };
    // Everything below reads one snapshot of the file, even while a server writes to it.
    db.execute_batch("BEGIN").map_err(sql)?;
    sqlite_integrity(&db, &mut report)?;
    if report.schema > SCHEMA_VERSION {
        report.problems.push(format!("written by a newer version (schema {}; this one knows up to {SCHEMA_VERSION})", report.schema));
        return Ok(report);
    }
    let mut tables_missing = false;
    for table in ["documents", "chunks", "units", "people", "grants", "devices", "rm_records", "rm_ledgers", "settings"] {
        let exists: bool = db.query_row("SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = ?1", [table], |r| r.get::<_, i64>(0)).map_err(sql)? > 0;
        if !exists {
            report.problems.push(format!("table {table} is missing: not a data directory of this server"));
            tables_missing = true;
        }
    }
    if tables_missing {
        return Ok(report);
    }
    let has_photos = db.query_row("SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'photos'", [], |r| r.get::<_, i64>(0)).map_err(sql)? > 0;
    let photos = if has_photos { Photos::Files(path.parent().unwrap_or(Path::new(".")).to_owned()) } else { Photos::None };
    check_in(&mut SqliteSql(&db), &photos, &mut report)?;
    Ok(report)
}

/// Checks what `storage` holds: its SQLite file as [`check_file`] does, or PostgreSQL's tables
/// (one consistent read; photos' bytes are in the database there).
pub fn check_storage(storage: &Storage) -> Result<Report, String> {
    if storage.is_sqlite() {
        return check_file(&storage.dir().join(crate::storage::DATABASE));
    }
    let mut report = Report::default();
    storage.read(|db| {
        let version = db.query_opt("SELECT value FROM settings WHERE key = 'schema_version'", params![], |r| r.get::<String>(0))?;
        report.schema = version.and_then(|v| v.parse().ok()).unwrap_or(0);
        check_in(db, &Photos::InDatabase, &mut report).map_err(Into::into)
    })?;
    Ok(report)
}

/// Where the photos' bytes are.
enum Photos {
    /// A layout from before photos.
    None,
    /// Files in this folder (`photos/ab/…`): a data directory, or beside a backup.
    Files(std::path::PathBuf),
    /// PostgreSQL's `photo_bytes`.
    InDatabase,
}

/// Every check past the database's own integrity.
fn check_in(db: &mut dyn Sql, photos: &Photos, report: &mut Report) -> Result<(), String> {
    let org = directory(db, report)?;
    let ledgers: BTreeMap<String, &Unit> = org.units.values().filter_map(|u| Some((u.ledger.clone()?, u))).collect();
    documents(db, &ledgers, report)?;
    check_photos(db, photos, report)
}

/// Every photo the database lists has its bytes, of its size: a file beside the database
/// (`photos/ab/…`, in a data directory or beside a backup, where the backup copied them), or
/// on PostgreSQL a row of `photo_bytes`.
fn check_photos(db: &mut dyn Sql, photos: &Photos, report: &mut Report) -> Result<(), String> {
    let rows: Vec<(String, i64, Option<i64>)> = match photos {
        Photos::None => return Ok(()),
        Photos::Files(_) => db.query_map("SELECT hash, size FROM photos", params![], |r| Ok((r.get(0)?, r.get(1)?, None)))?,
        Photos::InDatabase => db.query_map("SELECT p.hash, p.size, CAST(LENGTH(b.bytes) AS BIGINT) FROM photos p LEFT JOIN photo_bytes b ON b.hash = p.hash", params![], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })?,
    };
    let mut missing = Vec::new();
    for (hash, size, stored) in &rows {
        if !ledger::photo::valid_hash(hash) {
            report.problems.push(format!("photo row {hash:?} is not a photo's hash"));
            continue;
        }
        let held = match photos {
            Photos::Files(beside) => std::fs::metadata(crate::storage::photos::path_of(beside, hash)).ok().map(|m| m.len()),
            _ => stored.map(|n| n as u64),
        };
        match held {
            Some(n) if n == *size as u64 => {}
            Some(n) => report.problems.push(format!("photo {hash}: its file holds {n} bytes, not {size}")),
            None => missing.push(hash.clone()),
        }
    }
    if let Some(first) = missing.first() {
        let place = match photos {
            Photos::Files(beside) => format!("no file under {}", beside.join("photos").display()),
            _ => "no bytes in photo_bytes".into(),
        };
        report.problems.push(format!("{} photo(s) listed have {place} (first: {first})", missing.len()));
    }
    report.photos = rows.len();
    Ok(())
}

fn sqlite_integrity(db: &Connection, report: &mut Report) -> Result<(), String> {
    let mut stmt = db.prepare("PRAGMA integrity_check").map_err(sql)?;
    let rows: Vec<String> = stmt.query_map([], |r| r.get(0)).map_err(sql)?.collect::<Result<_, _>>().map_err(sql)?;
    if rows != ["ok"] {
        report.problems.extend(rows.into_iter().map(|r| format!("SQLite integrity: {r}")));
    }
    let mut stmt = db.prepare("PRAGMA foreign_key_check").map_err(sql)?;
    let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, Option<i64>>(1)?, r.get::<_, String>(2)?))).map_err(sql)?;
    for row in rows {
        let (table, rowid, parent) = row.map_err(sql)?;
        report.problems.push(format!("{table} row {} refers to a missing row of {parent}", rowid.map_or("?".into(), |r| r.to_string())));
    }
    Ok(())
}

/// The organisation as stored, with what does not hang together named.
fn directory(db: &mut dyn Sql, report: &mut Report) -> Result<Org, String> {
    let mut org = Org::default();
    let rows = db.query_map("SELECT id, name, kind, parent, ledger FROM units", params![], |r| {
        Ok((r.get::<String>(0)?, r.get::<String>(1)?, r.get::<String>(2)?, r.get::<Option<String>>(3)?, r.get::<Option<String>>(4)?))
    })?;
    for (id, name, kind, parent, ledger) in rows {
        let Some(kind) = UnitKind::from_code(&kind) else {
            report.problems.push(format!("unit {id} ({name}) has an unknown kind {kind}"));
            continue;
        };
        if let Some(l) = &ledger {
            if DocumentId::parse(l).is_err() {
                report.problems.push(format!("unit {id} ({name}) names a ledger that is not a document id: {l}"));
            }
        }
        org.units.insert(id.clone(), Unit { id, name, kind, parent, ledger });
    }
    for unit in org.units.values() {
        match unit.parent.as_deref() {
            Some(p) if !org.units.contains_key(p) => report.problems.push(format!("unit {} ({}) is under a unit that does not exist: {p}", unit.id, unit.name)),
            // `path` stops once it is longer than the tree: only a cycle makes it so.
            Some(_) if org.path(&unit.id).len() > org.units.len() => report.problems.push(format!("unit {} ({}) is its own ancestor", unit.id, unit.name)),
            _ => {}
        }
    }
    let roots = org.units.values().filter(|u| u.parent.is_none()).count();
    if roots > 1 {
        report.problems.push(format!("{roots} units have no parent; one city is the top"));
    }
    let rows = db.query_map("SELECT person, unit, role FROM grants", params![], |r| Ok((r.get::<String>(0)?, r.get::<String>(1)?, r.get::<String>(2)?)))?;
    for (person, unit, role) in rows {
        match Role::from_code(&role) {
            Some(role) => {
                org.grants.insert(ledger::org::Grant { person, unit, role });
            }
            None => report.problems.push(format!("person {person} holds an unknown role {role} at unit {unit}")),
        }
    }
    report.units = org.units.len();
    report.people = db.query_row("SELECT COUNT(*) FROM people", params![], |r| r.get::<i64>(0))? as usize;
    let storage_id: Option<String> = db.query_opt("SELECT value FROM settings WHERE key = 'storage_id'", params![], |r| r.get(0))?;
    if storage_id.is_none() && report.units > 0 {
        // Not damage: the next start makes one; phones then offer everything again once.
        report.notes.push("no storage id yet: the server makes one when it starts".into());
    }
    Ok(org)
}

fn documents(db: &mut dyn Sql, ledgers: &BTreeMap<String, &Unit>, report: &mut Report) -> Result<(), String> {
    let stored_chunks = db.query_row("SELECT COUNT(*) FROM chunks", params![], |r| r.get::<i64>(0))? as usize;
    let ids: Vec<String> = db.query_map("SELECT id FROM documents ORDER BY id", params![], |r| r.get(0))?;
    let stored: BTreeSet<&str> = ids.iter().map(String::as_str).collect();
    for (ledger, unit) in ledgers {
        if !stored.contains(ledger.as_str()) {
            report.problems.push(format!("unit {} ({})'s ledger {ledger} is not stored", unit.id, unit.name));
        }
    }
    for id in &ids {
        report.documents += 1;
        let Some(doc) = load(db, id, report)? else { continue };
        match ledgers.get(id) {
            Some(unit) => read_model(db, id, unit, doc, report)?,
            None => report.notes.push(format!("document {id} is no unit's ledger")),
        }
    }
    if stored_chunks != report.chunks {
        report.problems.push(format!("{} chunks belong to no document", stored_chunks - report.chunks));
    }
    Ok(())
}

/// Parses stored bytes as a whole: the server's own load takes what it can of damaged bytes
/// and goes on (a partial load), which is right for serving and wrong for a proof. A chunk
/// read alone lacks the changes it builds on: that is no fault of its bytes (whether the
/// document has them is checked once every chunk is in).
fn strict(bytes: &[u8]) -> Result<(), automerge::AutomergeError> {
    let options = automerge::LoadOptions::new().on_partial_load(automerge::OnPartialLoad::Error).verification_mode(automerge::VerificationMode::Check);
    match automerge::Automerge::load_with_options(bytes, options) {
        Ok(_) | Err(automerge::AutomergeError::MissingDeps) => Ok(()),
        Err(e) => Err(e),
    }
}

/// Loads one document the way the server does; None (with the problem named) when it cannot.
fn load(db: &mut dyn Sql, id: &str, report: &mut Report) -> Result<Option<UnitLedger>, String> {
    let snapshot: Vec<u8> = db.query_row("SELECT snapshot FROM documents WHERE id = ?1", params![id], |r| r.get(0))?;
    let mut doc = match strict(&snapshot).and_then(|()| automerge::AutoCommit::load(&snapshot)) {
        Ok(d) => d,
        Err(e) => {
            report.problems.push(format!("document {id}: its snapshot does not load: {e}"));
            report.chunks += db.query_row("SELECT COUNT(*) FROM chunks WHERE doc = ?1", params![id], |r| r.get::<i64>(0))? as usize;
            return Ok(None);
        }
    };
    let mut whole = true;
    // One chunk in memory at a time: a document's chunks may be many.
    db.each("SELECT seq, bytes FROM chunks WHERE doc = ?1 ORDER BY seq", params![id], &mut |r| {
        let (seq, bytes) = (r.get::<i64>(0)?, r.get::<Vec<u8>>(1)?);
        report.chunks += 1;
        if let Err(e) = strict(&bytes).and_then(|()| doc.load_incremental(&bytes).map(|_| ())) {
            report.problems.push(format!("document {id}: chunk {seq} does not load: {e}"));
            whole = false;
        }
        Ok(())
    })?;
    let missing = missing_dependencies(&mut doc);
    if !missing.is_empty() {
        report.problems.push(format!("document {id}: {} change(s) its chunks depend on are not stored (first: {})", missing.len(), missing[0]));
        whole = false;
    }
    if !whole {
        return Ok(None);
    }
    let bytes = doc.save();
    match UnitLedger::load(&bytes, automerge::ActorId::random()) {
        Ok(l) => Ok(Some(l)),
        // Not a unit ledger's shape: fine for a document no unit keeps, checked by the caller.
        Err(e) => {
            report.notes.push(format!("document {id} is not shaped as a unit ledger: {e}"));
            Ok(None)
        }
    }
}

/// The read model's rows of one ledger against what its document projects to.
fn read_model(db: &mut dyn Sql, id: &str, unit: &Unit, mut ledger: UnitLedger, report: &mut Report) -> Result<(), String> {
    report.ledgers += 1;
    let heads: Option<Vec<u8>> = db.query_opt("SELECT heads FROM rm_ledgers WHERE ledger = ?1", params![id], |r| r.get(0))?;
    let Some(mut projected) = heads.as_deref().and_then(decode_heads) else {
        report.notes.push(format!("{}'s ledger is not projected yet: the server projects it when it starts", unit.name));
        return Ok(());
    };
    let mut actual = ledger.heads();
    projected.sort();
    actual.sort();
    if projected != actual {
        report.problems.push(format!("{}'s read model was projected at other heads than its document's", unit.name));
        return Ok(());
    }
    let Update::All(records) = report::update_since(&mut ledger, None) else { unreachable!("a projection from nothing is whole") };
    let want: BTreeMap<(String, String), (Vec<u8>, String)> = records
        .iter()
        .map(|r| {
            let (section, id, facts, body) = row(r);
            ((section.to_owned(), id), (facts, body))
        })
        .collect();
    let rows = db.query_map("SELECT section, id, facts, body FROM rm_records WHERE ledger = ?1", params![id], |r| {
        Ok(((r.get::<String>(0)?, r.get::<String>(1)?), (r.get::<Vec<u8>>(2)?, r.get::<String>(3)?)))
    })?;
    let have: BTreeMap<(String, String), (Vec<u8>, String)> = rows.into_iter().collect();
    report.records += have.len();
    let missing: Vec<_> = want.keys().filter(|k| !have.contains_key(*k)).collect();
    let extra: Vec<_> = have.keys().filter(|k| !want.contains_key(*k)).collect();
    let differ: Vec<_> = want.iter().filter(|(k, v)| have.get(*k).is_some_and(|h| h != *v)).map(|(k, _)| k).collect();
    for (what, keys) in [("lacks", &missing), ("has extra", &extra), ("differs from the document in", &differ)] {
        if let Some((section, record)) = keys.first() {
            report.problems.push(format!("{}'s read model {what} {} record(s) (first: {section}/{record})", unit.name, keys.len()));
        }
    }
    Ok(())
}
