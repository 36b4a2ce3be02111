//! Award rounds (评先评优) as the server keeps them: the office's rounds, the units'
//! nominations with their evidence linked (record ids, never copies), the opinions of the
//! bodies consulted, objections filed during 公示 and how each was examined, and the decision.
//! Kept outside the ledgers: a nomination is the unit's formal submission to the office, made
//! online by its secretary, and objections come from anyone without an account.

use super::sql::{self, params, Row, Sql};
use super::{Result, Storage};

pub(super) const SCHEMA: &str = "
    CREATE TABLE IF NOT EXISTS award_rounds (
        id TEXT PRIMARY KEY,
        node TEXT NOT NULL,
        title TEXT NOT NULL,
        kind TEXT NOT NULL,
        quota INTEGER NOT NULL,
        nominate_by TEXT NOT NULL,
        publicity_days INTEGER NOT NULL,
        bodies TEXT NOT NULL,
        opened_by TEXT NOT NULL,
        opened_at INTEGER NOT NULL,
        publicity_from TEXT NOT NULL DEFAULT '',
        publicity_to TEXT NOT NULL DEFAULT '',
        decided_at INTEGER NOT NULL DEFAULT 0,
        decided_by TEXT NOT NULL DEFAULT '',
        decision TEXT NOT NULL DEFAULT '') WITHOUT ROWID;
    CREATE TABLE IF NOT EXISTS nominations (
        id TEXT PRIMARY KEY,
        round TEXT NOT NULL REFERENCES award_rounds(id),
        unit TEXT NOT NULL,
        person TEXT NOT NULL,
        name TEXT NOT NULL,
        post TEXT NOT NULL,
        deeds TEXT NOT NULL,
        summary TEXT NOT NULL,
        evidence TEXT NOT NULL,
        by_person TEXT NOT NULL,
        at INTEGER NOT NULL,
        shortlisted INTEGER NOT NULL DEFAULT 0,
        commended INTEGER NOT NULL DEFAULT 0) WITHOUT ROWID;
    CREATE INDEX IF NOT EXISTS nominations_by_round ON nominations(round, unit);
    CREATE TABLE IF NOT EXISTS award_opinions (
        nomination TEXT NOT NULL REFERENCES nominations(id),
        body TEXT NOT NULL,
        opinion TEXT NOT NULL,
        given_on TEXT NOT NULL,
        recorded_by TEXT NOT NULL,
        at INTEGER NOT NULL,
        PRIMARY KEY (nomination, body)) WITHOUT ROWID;
    CREATE TABLE IF NOT EXISTS objections (
        id TEXT PRIMARY KEY,
        round TEXT NOT NULL REFERENCES award_rounds(id),
        nomination TEXT NOT NULL REFERENCES nominations(id),
        text TEXT NOT NULL,
        contact TEXT NOT NULL,
        filed_at INTEGER NOT NULL,
        finding TEXT NOT NULL DEFAULT '',
        upheld INTEGER NOT NULL DEFAULT 0,
        settled_by TEXT NOT NULL DEFAULT '',
        settled_at INTEGER NOT NULL DEFAULT 0) WITHOUT ROWID;
    CREATE INDEX IF NOT EXISTS objections_by_round ON objections(round, filed_at);";

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct AwardRound {
    pub id: String,
    pub node: String,
    pub title: String,
    /// An [`ledger::award::AwardKind`] code.
    pub kind: String,
    pub quota: u32,
    /// YYYY-MM-DD, as are the 公示 dates ("" until it starts).
    pub nominate_by: String,
    pub publicity_days: u32,
    pub bodies: Vec<String>,
    pub opened_by: String,
    /// ms
    pub opened_at: i64,
    pub publicity_from: String,
    pub publicity_to: String,
    /// ms; 0 until decided.
    pub decided_at: i64,
    pub decided_by: String,
    /// The decision's reference (文号) or note.
    pub decision: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Nomination {
    pub id: String,
    pub round: String,
    pub unit: String,
    /// The person nominated; "" for a collective (the unit itself).
    pub person: String,
    /// The person's or the unit's name, as it was when nominated.
    pub name: String,
    pub post: String,
    pub deeds: String,
    pub summary: String,
    /// (section key, record id) of the unit's ledger.
    pub evidence: Vec<(String, String)>,
    pub by_person: String,
    pub at: i64,
    pub shortlisted: bool,
    pub commended: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Opinion {
    pub nomination: String,
    pub body: String,
    pub opinion: String,
    pub given_on: String,
    pub recorded_by: String,
    pub at: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Objection {
    pub id: String,
    pub round: String,
    pub nomination: String,
    pub text: String,
    /// How to reach whoever filed it, if they gave it; the office's eyes only.
    pub contact: String,
    pub filed_at: i64,
    pub finding: String,
    pub upheld: bool,
    pub settled_by: String,
    /// ms; 0 while not yet examined.
    pub settled_at: i64,
}

const ROUND_COLUMNS: &str =
    "id, node, title, kind, quota, nominate_by, publicity_days, bodies, opened_by, opened_at, publicity_from, publicity_to, decided_at, decided_by, decision";
const NOMINATION_COLUMNS: &str = "id, round, unit, person, name, post, deeds, summary, evidence, by_person, at, shortlisted, commended";
const OBJECTION_COLUMNS: &str = "id, round, nomination, text, contact, filed_at, finding, upheld, settled_by, settled_at";

fn round_row(r: &Row<'_>) -> sql::Result<AwardRound> {
    let bodies: String = r.get(7)?;
    Ok(AwardRound {
        id: r.get(0)?,
        node: r.get(1)?,
        title: r.get(2)?,
        kind: r.get(3)?,
        quota: r.get(4)?,
        nominate_by: r.get(5)?,
        publicity_days: r.get(6)?,
        bodies: serde_json::from_str(&bodies).unwrap_or_default(),
        opened_by: r.get(8)?,
        opened_at: r.get(9)?,
        publicity_from: r.get(10)?,
        publicity_to: r.get(11)?,
        decided_at: r.get(12)?,
        decided_by: r.get(13)?,
        decision: r.get(14)?,
    })
}

fn nomination_row(r: &Row<'_>) -> sql::Result<Nomination> {
    let evidence: String = r.get(8)?;
    Ok(Nomination {
        id: r.get(0)?,
        round: r.get(1)?,
        unit: r.get(2)?,
        person: r.get(3)?,
        name: r.get(4)?,
        post: r.get(5)?,
        deeds: r.get(6)?,
        summary: r.get(7)?,
        evidence: serde_json::from_str(&evidence).unwrap_or_default(),
        by_person: r.get(9)?,
        at: r.get(10)?,
        shortlisted: r.get(11)?,
        commended: r.get(12)?,
    })
}

fn objection_row(r: &Row<'_>) -> sql::Result<Objection> {
    Ok(Objection {
        id: r.get(0)?,
        round: r.get(1)?,
        nomination: r.get(2)?,
        text: r.get(3)?,
        contact: r.get(4)?,
        filed_at: r.get(5)?,
        finding: r.get(6)?,
        upheld: r.get(7)?,
        settled_by: r.get(8)?,
        settled_at: r.get(9)?,
    })
}

impl Storage {
    /// Runs `f` in one transaction with an audit entry by `person` (none for an anonymous
    /// objection, whose row is its own record).
    fn award_tx(&self, at_ms: i64, person: &str, action: &str, detail: &str, mut f: impl FnMut(&mut dyn Sql) -> sql::Result<()>) -> Result<()> {
        self.write(|db| {
            f(db)?;
            if !person.is_empty() {
                super::accounts::audit(db, at_ms / 1_000, Some(person), action, detail)?;
            }
            Ok(())
        })
    }

    pub(crate) fn put_award_round(&self, r: &AwardRound) -> Result<()> {
        let bodies = serde_json::to_string(&r.bodies).map_err(|e| e.to_string())?;
        self.award_tx(r.opened_at, &r.opened_by, "award_round", &r.title, |db| {
            db.execute(
                &format!("INSERT INTO award_rounds ({ROUND_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, '', '', 0, '', '')"),
                params![r.id, r.node, r.title, r.kind, r.quota, r.nominate_by, r.publicity_days, bodies, r.opened_by, r.opened_at],
            )
            .map(|_| ())
        })
    }

    /// Every round, newest first (a city has a few a year).
    pub(crate) fn award_rounds(&self) -> Result<Vec<AwardRound>> {
        self.read(|db| db.query_map(&format!("SELECT {ROUND_COLUMNS} FROM award_rounds ORDER BY opened_at DESC, id"), params![], round_row))
    }

    pub(crate) fn award_round(&self, id: &str) -> Result<Option<AwardRound>> {
        self.read(|db| db.query_opt(&format!("SELECT {ROUND_COLUMNS} FROM award_rounds WHERE id = ?1"), params![id], round_row))
    }

    /// Inserts a nomination, or replaces one of the same id (the secretary's edit).
    pub(crate) fn put_nomination(&self, n: &Nomination, audit_detail: &str) -> Result<()> {
        let evidence = serde_json::to_string(&n.evidence).map_err(|e| e.to_string())?;
        self.award_tx(n.at, &n.by_person, "nominate", audit_detail, |db| {
            db.execute(
                &format!(
                    "INSERT INTO nominations ({NOMINATION_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, 0, 0)
                     ON CONFLICT (id) DO UPDATE SET round = excluded.round, unit = excluded.unit, person = excluded.person, name = excluded.name,
                     post = excluded.post, deeds = excluded.deeds, summary = excluded.summary, evidence = excluded.evidence,
                     by_person = excluded.by_person, at = excluded.at, shortlisted = 0, commended = 0"
                ),
                params![n.id, n.round, n.unit, n.person, n.name, n.post, n.deeds, n.summary, evidence, n.by_person, n.at],
            )
            .map(|_| ())
        })
    }

    pub(crate) fn withdraw_nomination(&self, id: &str, person: &str, at_ms: i64, audit_detail: &str) -> Result<()> {
        self.award_tx(at_ms, person, "withdraw_nomination", audit_detail, |db| {
            db.execute("DELETE FROM award_opinions WHERE nomination = ?1", params![id])?;
            db.execute("DELETE FROM nominations WHERE id = ?1", params![id]).map(|_| ())
        })
    }

    /// A round's nominations in the order they came.
    pub(crate) fn nominations(&self, round: &str) -> Result<Vec<Nomination>> {
        self.read(|db| db.query_map(&format!("SELECT {NOMINATION_COLUMNS} FROM nominations WHERE round = ?1 ORDER BY at, id"), params![round], nomination_row))
    }

    pub(crate) fn nomination(&self, id: &str) -> Result<Option<Nomination>> {
        self.read(|db| db.query_opt(&format!("SELECT {NOMINATION_COLUMNS} FROM nominations WHERE id = ?1"), params![id], nomination_row))
    }

    /// Every nomination commended, of any round, for the board and the person's record.
    pub(crate) fn commended(&self) -> Result<Vec<Nomination>> {
        self.read(|db| db.query_map(&format!("SELECT {NOMINATION_COLUMNS} FROM nominations WHERE commended = 1 ORDER BY at, id"), params![], nomination_row))
    }

    /// Records one body's opinion (again: the newer replaces it).
    pub(crate) fn put_opinion(&self, o: &Opinion) -> Result<()> {
        self.award_tx(o.at, &o.recorded_by, "award_opinion", &format!("{} {}", o.nomination, o.body), |db| {
            db.execute(
                "INSERT INTO award_opinions (nomination, body, opinion, given_on, recorded_by, at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                 ON CONFLICT (nomination, body) DO UPDATE SET opinion = excluded.opinion, given_on = excluded.given_on, recorded_by = excluded.recorded_by, at = excluded.at",
                params![o.nomination, o.body, o.opinion, o.given_on, o.recorded_by, o.at],
            )
            .map(|_| ())
        })
    }

    /// The opinions on a round's nominations.
    pub(crate) fn opinions(&self, round: &str) -> Result<Vec<Opinion>> {
        self.read(|db| {
            db.query_map(
                "SELECT o.nomination, o.body, o.opinion, o.given_on, o.recorded_by, o.at FROM award_opinions o JOIN nominations n ON n.id = o.nomination WHERE n.round = ?1 ORDER BY o.at, o.nomination, o.body",
                params![round],
                |r| Ok(Opinion { nomination: r.get(0)?, body: r.get(1)?, opinion: r.get(2)?, given_on: r.get(3)?, recorded_by: r.get(4)?, at: r.get(5)? }),
            )
        })
    }

    pub(crate) fn set_shortlisted(&self, nomination: &str, on: bool, person: &str, at_ms: i64) -> Result<()> {
        self.award_tx(at_ms, person, if on { "shortlist" } else { "unshortlist" }, nomination, |db| {
            db.execute("UPDATE nominations SET shortlisted = ?2 WHERE id = ?1", params![nomination, on]).map(|_| ())
        })
    }

    pub(crate) fn start_publicity(&self, round: &str, from: &str, to: &str, person: &str, at_ms: i64) -> Result<()> {
        self.award_tx(at_ms, person, "publicity", &format!("{round} {from}..{to}"), |db| {
            db.execute("UPDATE award_rounds SET publicity_from = ?2, publicity_to = ?3 WHERE id = ?1", params![round, from, to]).map(|_| ())
        })
    }

    pub(crate) fn put_objection(&self, o: &Objection) -> Result<()> {
        self.award_tx(o.filed_at, "", "", "", |db| {
            db.execute(
                &format!("INSERT INTO objections ({OBJECTION_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, '', 0, '', 0)"),
                params![o.id, o.round, o.nomination, o.text, o.contact, o.filed_at],
            )
            .map(|_| ())
        })
    }

    /// Objections filed in a round since `since_ms` (the page's flood bound counts them).
    pub(crate) fn objections(&self, round: &str) -> Result<Vec<Objection>> {
        self.read(|db| db.query_map(&format!("SELECT {OBJECTION_COLUMNS} FROM objections WHERE round = ?1 ORDER BY filed_at, id"), params![round], objection_row))
    }

    pub(crate) fn objection(&self, id: &str) -> Result<Option<Objection>> {
        self.read(|db| db.query_opt(&format!("SELECT {OBJECTION_COLUMNS} FROM objections WHERE id = ?1"), params![id], objection_row))
    }

    /// Records how an objection was examined; an upheld one takes its nomination off the
    /// shortlist.
    pub(crate) fn settle_objection(&self, o: &Objection, finding: &str, upheld: bool, person: &str, at_ms: i64) -> Result<()> {
        self.award_tx(at_ms, person, "settle_objection", &o.id, |db| {
            db.execute("UPDATE objections SET finding = ?2, upheld = ?3, settled_by = ?4, settled_at = ?5 WHERE id = ?1", params![o.id, finding, upheld, person, at_ms])?;
            if upheld {
                db.execute("UPDATE nominations SET shortlisted = 0 WHERE id = ?1", params![o.nomination])?;
            }
            Ok(())
        })
    }

    /// Records the decision: every nomination still on the shortlist is commended.
    pub(crate) fn decide_award(&self, round: &str, decision: &str, person: &str, at_ms: i64) -> Result<()> {
        self.award_tx(at_ms, person, "award_decision", round, |db| {
            db.execute("UPDATE award_rounds SET decided_at = ?2, decided_by = ?3, decision = ?4 WHERE id = ?1", params![round, at_ms, person, decision])?;
            db.execute("UPDATE nominations SET commended = 1 WHERE round = ?1 AND shortlisted = 1", params![round]).map(|_| ())
        })
    }
}
