//! The campaign office's rounds and notices as the server keeps them: who opened what, for
//! which units. What each unit answers lives in its ledger (the plan, its rules' decisions,
//! the notice opened); this is the office's own list, and the units a round covered the day
//! it opened (a unit added later is not asked after the fact).

use super::sql::{self, params, Row};
use super::{Result, Storage};

pub(super) const SCHEMA: &str = "
    CREATE TABLE IF NOT EXISTS office_rounds (
        id TEXT PRIMARY KEY,
        kind TEXT NOT NULL,
        node TEXT NOT NULL,
        title TEXT NOT NULL,
        deadline TEXT NOT NULL,
        body TEXT NOT NULL,
        units TEXT NOT NULL,
        opened_by TEXT NOT NULL,
        opened_at INTEGER NOT NULL) WITHOUT ROWID;
    CREATE INDEX IF NOT EXISTS office_rounds_by_node ON office_rounds(node, opened_at);";

/// One round or notice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct OfficeRound {
    pub id: String,
    /// `plan`, `cleanup` or `notice`.
    pub kind: String,
    /// The office's node it was opened from.
    pub node: String,
    pub title: String,
    /// YYYY-MM-DD; "" for a notice.
    pub deadline: String,
    /// A notice's text.
    pub body: String,
    /// The units covered, each keeping a ledger.
    pub units: Vec<String>,
    /// The office person who opened it, and when (ms: two opened in one second still list in
    /// the order they were opened).
    pub opened_by: String,
    pub opened_at: i64,
}

fn row(r: &Row<'_>) -> sql::Result<OfficeRound> {
    let units: String = r.get(6)?;
    Ok(OfficeRound {
        id: r.get(0)?,
        kind: r.get(1)?,
        node: r.get(2)?,
        title: r.get(3)?,
        deadline: r.get(4)?,
        body: r.get(5)?,
        units: units.split(',').filter(|u| !u.is_empty()).map(str::to_owned).collect(),
        opened_by: r.get(7)?,
        opened_at: r.get(8)?,
    })
}

const COLUMNS: &str = "id, kind, node, title, deadline, body, units, opened_by, opened_at";

impl Storage {
    /// Records a round, with the audit entry saying so, in one transaction.
    pub(crate) fn put_office_round(&self, r: &OfficeRound, audit: &str) -> Result<()> {
        self.write(|db| {
            db.execute(
                &format!("INSERT INTO office_rounds ({COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"),
                params![r.id, r.kind, r.node, r.title, r.deadline, r.body, r.units.join(","), r.opened_by, r.opened_at],
            )?;
            super::accounts::audit(db, r.opened_at / 1_000, Some(&r.opened_by), &format!("office_{}", r.kind), audit)
        })
    }

    /// The rounds opened from any of `nodes`, newest first.
    pub(crate) fn office_rounds(&self, nodes: &[&str]) -> Result<Vec<OfficeRound>> {
        let mut out = self.read(|db| {
            let mut out = Vec::new();
            for node in nodes {
                out.extend(db.query_map(&format!("SELECT {COLUMNS} FROM office_rounds WHERE node = ?1 ORDER BY opened_at DESC, id"), params![node], row)?);
            }
            Ok(out)
        })?;
        out.sort_by(|a, b| b.opened_at.cmp(&a.opened_at).then_with(|| a.id.cmp(&b.id)));
        Ok(out)
    }

    pub(crate) fn office_round(&self, id: &str) -> Result<Option<OfficeRound>> {
        self.read(|db| db.query_opt(&format!("SELECT {COLUMNS} FROM office_rounds WHERE id = ?1"), params![id], row))
    }
}
