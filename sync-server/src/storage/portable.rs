//! Every row of every table, copied between the two backends: a backup of PostgreSQL is a
//! SQLite file like any other (checked, restored and kept the same way), and a restore into
//! PostgreSQL reads one. Columns are named by the SQLite side's own table, so the copy never
//! depends on the order PostgreSQL gives them.

use super::sql::{self, params, Cell, FromCell, Param, Sql, SqliteSql, Value};
use super::{Backend, Result, SharedPlace, Storage};

/// Every table a backup holds, parents before children (what PostgreSQL's foreign keys ask
/// of a restore). `tests::every_table_is_copied` keeps it whole as tables are added.
pub(crate) const TABLES: &[&str] = &[
    "settings",
    "documents",
    "chunks",
    "sync_states",
    "units",
    "people",
    "grants",
    "devices",
    "actors",
    "codes",
    "audit",
    "rm_records",
    "rm_ledgers",
    "board_actors",
    "board_contacts",
    "board_codes",
    "device_keys",
    "office_rounds",
    "award_rounds",
    "nominations",
    "award_opinions",
    "objections",
    "photos",
    "rm_photos",
];

/// Columns that name a row of their own table: copied empty, then set once every row is in.
const SELF_REFERENCES: &[(&str, &str)] = &[("units", "parent")];

/// Numbered columns: after a restore into PostgreSQL, the next number follows the largest.
pub(crate) const NUMBERED: &[(&str, &str)] = &[("chunks", "seq"), ("audit", "seq")];

/// A column's value, owned: read from one database and bound in the other.
enum Owned {
    Null,
    Int(i64),
    Text(String),
    Bytes(Vec<u8>),
}

impl FromCell for Owned {
    fn from_cell(cell: Cell<'_>) -> std::result::Result<Self, String> {
        Ok(match cell {
            Cell::Null => Owned::Null,
            Cell::Int(n) => Owned::Int(n),
            Cell::Text(s) => Owned::Text(s.to_owned()),
            Cell::Bytes(b) => Owned::Bytes(b.to_vec()),
            Cell::Real(x) => return Err(format!("storage: no table holds a real number ({x})")),
        })
    }
}

impl Param for Owned {
    fn value(&self) -> Value<'_> {
        match self {
            Owned::Null => Value::Null,
            Owned::Int(n) => Value::Int(*n),
            Owned::Text(s) => Value::Text(s),
            Owned::Bytes(b) => Value::Bytes(b),
        }
    }
}

/// The columns of `table` as SQLite has them (`db` is SQLite).
fn columns(db: &mut dyn Sql, table: &str) -> sql::Result<Vec<String>> {
    let names = db.query_map("SELECT name FROM pragma_table_info(?1) ORDER BY cid", params![table], |r| r.get::<String>(0))?;
    if names.is_empty() {
        return Err(format!("storage: the SQLite side has no table {table}").into());
    }
    Ok(names)
}

/// Copies every row of [`TABLES`] from `from` into `to`, whose tables are empty; one of the two
/// is SQLite. Rows are read and written one at a time: a city's chunks need not fit in memory.
/// Returns the rows copied.
pub(crate) fn copy_tables(from: &mut dyn Sql, to: &mut dyn Sql) -> sql::Result<u64> {
    let mut copied = 0;
    for table in TABLES {
        let names = if from.backend() == sql::Kind::Sqlite { columns(from, table)? } else { columns(to, table)? };
        let later = SELF_REFERENCES.iter().find(|(t, _)| t == table).map(|(_, c)| *c);
        let list = names.join(", ");
        let select = format!("SELECT {list} FROM {table}");
        let slots: Vec<String> = (1..=names.len()).map(|i| format!("?{i}")).collect();
        let insert = format!("INSERT INTO {table} ({list}) VALUES ({})", slots.join(", "));
        let later_at = later.map(|c| names.iter().position(|n| n == c).expect("the column is the table's"));
        let mut postponed: Vec<(Owned, Owned)> = Vec::new();
        from.each(&select, params![], &mut |r| {
            let values: Vec<Owned> = (0..names.len()).map(|i| r.get::<Owned>(i)).collect::<sql::Result<_>>()?;
            if let Some(at) = later_at.filter(|at| !matches!(values[*at], Owned::Null)) {
                postponed.push((r.get::<Owned>(0)?, r.get::<Owned>(at)?));
            }
            let bound: Vec<&dyn Param> = values.iter().enumerate().map(|(i, v)| if Some(i) == later_at { &Owned::Null as &dyn Param } else { v as &dyn Param }).collect();
            to.execute(&insert, &bound)?;
            copied += 1;
            Ok(())
        })?;
        if let Some(c) = later {
            let key = &names[0];
            for (id, parent) in &postponed {
                to.execute(&format!("UPDATE {table} SET {c} = ?2 WHERE {key} = ?1"), params![id, parent])?;
            }
        }
    }
    Ok(copied)
}

impl Storage {
    /// Copies everything into `to`, a new SQLite database with this version's tables and no
    /// rows, in one consistent read. PostgreSQL keeps photos' bytes in the database: each photo
    /// `lacks` names is handed to `photo` (its hash and bytes) within the same read.
    pub(crate) fn copy_into(&self, to: &rusqlite::Connection, lacks: &dyn Fn(&str) -> bool, photo: &mut dyn FnMut(&str, &[u8]) -> Result<()>) -> Result<u64> {
        self.read(|db| {
            let copied = copy_tables(db, &mut SqliteSql(to))?;
            if db.backend() == sql::Kind::Postgres {
                let hashes = db.query_map("SELECT hash FROM photos", params![], |r| r.get::<String>(0))?;
                for hash in hashes.iter().filter(|h| lacks(h)) {
                    let bytes = db.query_row("SELECT bytes FROM photo_bytes WHERE hash = ?1", params![hash], |r| r.get::<Vec<u8>>(0))?;
                    photo(hash, &bytes)?;
                }
            }
            Ok(copied)
        })
    }

    /// Replaces everything PostgreSQL holds with what the SQLite database `from` holds (a
    /// checked backup at this version's layout), in one transaction: all of it or nothing.
    /// `photo` reads each listed photo's bytes from beside the backup.
    pub(crate) fn replace_with(&self, from: &rusqlite::Connection, photo: &dyn Fn(&str) -> Result<Vec<u8>>) -> Result<u64> {
        if self.is_sqlite() {
            return Err("a restore into SQLite replaces its file (backup::restore)".into());
        }
        self.write(|db| {
            let mut all: Vec<&str> = TABLES.to_vec();
            all.extend(["photo_bytes", "login_attempts", "board_windows"]);
            db.execute(&format!("TRUNCATE {}", all.join(", ")), params![])?;
            let copied = copy_tables(&mut SqliteSql(from), db)?;
            let hashes = SqliteSql(from).query_hashes()?;
            for hash in &hashes {
                db.execute("INSERT INTO photo_bytes (hash, bytes) VALUES (?1, ?2)", params![hash, photo(hash)?])?;
            }
            for (table, column) in NUMBERED {
                db.execute(&format!("SELECT setval(pg_get_serial_sequence('{table}', '{column}'), (SELECT COALESCE(MAX({column}), 0) + 1 FROM {table}), false)"), params![])?;
            }
            let versions = [("schema_version", super::SCHEMA_VERSION), ("read_model_version", super::read_model::PROJECTION_VERSION)];
            for (key, version) in versions {
                db.execute("INSERT INTO settings (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE SET value = excluded.value", params![key, version.to_string()])?;
            }
            Ok(copied)
        })
    }

    /// Held while this process serves. On PostgreSQL: shared with every other serving process,
    /// and a restore is refused meanwhile (nor can a server start while one runs). On SQLite
    /// the data directory's lock does this: no place.
    pub fn hold_serving(&self) -> Result<SharedPlace> {
        match &self.backend {
            Backend::Sqlite(_) => Ok(SharedPlace(None)),
            Backend::Postgres(pg) => pg.hold_serving(false).map(|p| SharedPlace(Some(p))),
        }
    }

    /// Held by a restore into PostgreSQL: refused while any process serves.
    pub(crate) fn hold_alone(&self) -> Result<SharedPlace> {
        match &self.backend {
            Backend::Sqlite(_) => Ok(SharedPlace(None)),
            Backend::Postgres(pg) => pg.hold_serving(true).map(|p| SharedPlace(Some(p))),
        }
    }
}

impl SqliteSql<'_> {
    fn query_hashes(&mut self) -> sql::Result<Vec<String>> {
        let db: &mut dyn Sql = self;
        db.query_map("SELECT hash FROM photos", params![], |r| r.get::<String>(0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A table added to the schema and forgotten here would be missing from every backup of
    /// PostgreSQL: this fails first.
    #[test]
    fn every_table_is_copied() {
        let dir = tempfile::tempdir().unwrap();
        let storage = crate::storage::Storage::open(dir.path()).unwrap();
        let mut tables = storage
            .read(|db| db.query_map("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name", params![], |r| r.get::<String>(0)))
            .unwrap();
        tables.sort();
        let mut listed: Vec<String> = TABLES.iter().map(|t| t.to_string()).collect();
        listed.sort();
        assert_eq!(listed, tables);
    }
}
