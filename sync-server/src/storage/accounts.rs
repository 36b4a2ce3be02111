//! The directory in storage, beside the documents: units, people and their roles, devices (with
//! only a hash of each token), which Automerge actor belongs to which device, one-time codes
//! and the audit log. Same seam as the documents: every call is one transaction.

use super::sql::{self, params, Row, Sql, SqlError};
use super::{Result, Storage};
use ledger::org::{Grant, Org, Role, Unit, UnitKind};

pub(super) const SCHEMA: &str = "
    CREATE TABLE IF NOT EXISTS units (
        id TEXT PRIMARY KEY, name TEXT NOT NULL, kind TEXT NOT NULL,
        parent TEXT REFERENCES units(id), ledger TEXT UNIQUE);
    CREATE TABLE IF NOT EXISTS people (
        id TEXT PRIMARY KEY, name TEXT NOT NULL, login TEXT NOT NULL UNIQUE, password TEXT);
    CREATE TABLE IF NOT EXISTS grants (
        person TEXT NOT NULL REFERENCES people(id), unit TEXT NOT NULL REFERENCES units(id),
        role TEXT NOT NULL, PRIMARY KEY (person, unit, role));
    CREATE TABLE IF NOT EXISTS devices (
        id TEXT PRIMARY KEY, person TEXT NOT NULL REFERENCES people(id), name TEXT NOT NULL,
        kind TEXT NOT NULL, token BLOB NOT NULL UNIQUE, status TEXT NOT NULL DEFAULT 'active',
        created_at INTEGER NOT NULL, last_seen INTEGER, app_version TEXT, expires_at INTEGER);
    CREATE TABLE IF NOT EXISTS actors (actor BLOB PRIMARY KEY, device TEXT NOT NULL REFERENCES devices(id));
    CREATE TABLE IF NOT EXISTS codes (
        code BLOB PRIMARY KEY, person TEXT REFERENCES people(id), purpose TEXT NOT NULL,
        expires_at INTEGER NOT NULL, used_at INTEGER);
    CREATE TABLE IF NOT EXISTS audit (
        seq INTEGER PRIMARY KEY AUTOINCREMENT, at INTEGER NOT NULL, person TEXT,
        action TEXT NOT NULL, detail TEXT NOT NULL);";

/// A new unit's ledger: the skeleton every ledger starts from, and its heads (its read-model
/// rows, none, are projected at those heads when the unit is stored).
#[derive(Debug, Clone)]
pub struct NewLedger {
    pub snapshot: Vec<u8>,
    pub heads: Vec<automerge::ChangeHash>,
}

// Storage's rows are what the admin API shows: one type each, shared with the desk.
pub(crate) use http_api::admin::{AuditEntry, Device, Person};

fn device(r: &Row<'_>) -> sql::Result<Device> {
    Ok(Device {
        id: r.get(0)?,
        person: r.get(1)?,
        name: r.get(2)?,
        kind: r.get(3)?,
        status: r.get(4)?,
        created_at: r.get(5)?,
        last_seen: r.get(6)?,
        app_version: r.get(7)?,
        expires_at: r.get(8)?,
    })
}

fn person(r: &Row<'_>) -> sql::Result<Person> {
    Ok(Person { id: r.get(0)?, name: r.get(1)?, login: r.get(2)? })
}

const DEVICE_COLUMNS: &str = "id, person, name, kind, status, created_at, last_seen, app_version, expires_at";

/// A unit's row and, for kinds that keep one, its ledger's first bytes and empty projection.
fn insert_unit(db: &mut dyn Sql, unit: &Unit, new_ledger: Option<&NewLedger>) -> sql::Result<()> {
    if let (Some(ledger), Some(new)) = (&unit.ledger, new_ledger) {
        db.execute("INSERT INTO documents (id, snapshot) VALUES (?1, ?2) ON CONFLICT DO NOTHING", params![ledger, new.snapshot])?;
        super::read_model::projected_empty(db, ledger, &new.heads)?;
    }
    db.execute("INSERT INTO units (id, name, kind, parent, ledger) VALUES (?1, ?2, ?3, ?4, ?5)", params![unit.id, unit.name, unit.kind.code(), unit.parent, unit.ledger])?;
    Ok(())
}

impl Storage {
    /// The whole organisation (units and grants) as the pure core reasons about it.
    pub fn org(&self) -> Result<Org> {
        self.read(|db| {
            let mut org = Org::default();
            let units = db.query_map("SELECT id, name, kind, parent, ledger FROM units", params![], |r| {
                Ok((r.get::<String>(0)?, r.get::<String>(1)?, r.get::<String>(2)?, r.get::<Option<String>>(3)?, r.get::<Option<String>>(4)?))
            })?;
            for (id, name, kind, parent, ledger) in units {
                let kind = UnitKind::from_code(&kind).ok_or_else(|| format!("storage: unit {id} has unknown kind {kind}"))?;
                org.units.insert(id.clone(), Unit { id, name, kind, parent, ledger });
            }
            let grants = db.query_map("SELECT person, unit, role FROM grants", params![], |r| Ok((r.get::<String>(0)?, r.get::<String>(1)?, r.get::<String>(2)?)))?;
            for (person, unit, role) in grants {
                let role = Role::from_code(&role).ok_or_else(|| format!("storage: unknown role {role}"))?;
                org.grants.insert(Grant { person, unit, role });
            }
            Ok(org)
        })
    }

    /// Adds a unit and, for kinds that keep one, its ledger document, in one transaction.
    pub fn add_unit(&self, unit: &Unit, new_ledger: Option<&NewLedger>, by: Option<&str>, now: i64) -> Result<()> {
        self.write(|db| {
            insert_unit(db, unit, new_ledger)?;
            self.directory_changed(db, None)?;
            audit(db, now, by, "add_unit", &format!("{} {} ({})", unit.id, unit.name, unit.kind.label()))
        })
    }

    /// An import's units (with their new ledgers' first bytes), people and roles, in one
    /// transaction: all of them or, if storage fails half way, none.
    pub fn import(&self, units: &[(Unit, Option<NewLedger>)], people: &[Person], grants: &[Grant], by: Option<&str>, now: i64) -> Result<()> {
        self.write(|db| {
            for (unit, new_ledger) in units {
                insert_unit(db, unit, new_ledger.as_ref())?;
            }
            for person in people {
                db.execute("INSERT INTO people (id, name, login) VALUES (?1, ?2, ?3)", params![person.id, person.name, person.login])
                    .map_err(|e| SqlError { message: format!("登录名“{}”已被使用（{e}）", person.login), retry: e.retry })?;
            }
            for grant in grants {
                db.execute("INSERT INTO grants (person, unit, role) VALUES (?1, ?2, ?3) ON CONFLICT DO NOTHING", params![grant.person, grant.unit, grant.role.code()])?;
            }
            self.directory_changed(db, None)?;
            audit(db, now, by, "import", &format!("{} 个单位、{} 名人员、{} 个角色", units.len(), people.len(), grants.len()))
        })
    }

    /// Adds a person; `password` is already an Argon2id hash (desktop roles) or None (phones).
    pub fn add_person(&self, person: &Person, password: Option<&str>, by: Option<&str>, now: i64) -> Result<()> {
        self.write(|db| {
            let n = db.execute(
                "INSERT INTO people (id, name, login, password) VALUES (?1, ?2, ?3, ?4) ON CONFLICT DO NOTHING",
                params![person.id, person.name, person.login, password],
            )?;
            if n == 0 {
                return Err(format!("登录名“{}”已被使用", person.login).into());
            }
            self.directory_changed(db, None)?;
            audit(db, now, by, "add_person", &format!("{} {} ({})", person.id, person.name, person.login))
        })
    }

    pub fn set_password(&self, person: &str, hash: &str, by: Option<&str>, now: i64) -> Result<()> {
        self.write(|db| {
            db.execute("UPDATE people SET password = ?2 WHERE id = ?1", params![person, hash])?;
            audit(db, now, by, "set_password", person)
        })
    }

    pub fn grant(&self, grant: &Grant, by: Option<&str>, now: i64) -> Result<()> {
        self.write(|db| {
            db.execute("INSERT INTO grants (person, unit, role) VALUES (?1, ?2, ?3) ON CONFLICT DO NOTHING", params![grant.person, grant.unit, grant.role.code()])?;
            self.directory_changed(db, None)?;
            audit(db, now, by, "grant", &format!("{} {} {}", grant.person, grant.unit, grant.role.code()))
        })
    }

    pub fn person(&self, id: &str) -> Result<Option<Person>> {
        self.read(|db| db.query_opt("SELECT id, name, login FROM people WHERE id = ?1", params![id], person))
    }

    /// The person with this login and their password hash, if they have one.
    pub fn person_by_login(&self, login: &str) -> Result<Option<(Person, Option<String>)>> {
        self.read(|db| db.query_opt("SELECT id, name, login, password FROM people WHERE login = ?1", params![login], |r| Ok((person(r)?, r.get(3)?))))
    }

    pub fn people(&self) -> Result<Vec<Person>> {
        self.read(|db| db.query_map("SELECT id, name, login FROM people ORDER BY login", params![], person))
    }

    pub fn people_count(&self) -> Result<i64> {
        self.read(|db| db.query_row("SELECT COUNT(*) FROM people", params![], |r| r.get(0)))
    }

    /// Stores a one-time code (its hash) for `person` (None: the first administrator's setup).
    pub fn add_code(&self, code_hash: &[u8], person: Option<&str>, purpose: &str, expires_at: i64, by: Option<&str>, now: i64) -> Result<()> {
        self.write(|db| {
            db.execute("INSERT INTO codes (code, person, purpose, expires_at) VALUES (?1, ?2, ?3, ?4)", params![code_hash, person, purpose, expires_at])?;
            audit(db, now, by, "issue_code", &format!("{purpose} {}", person.unwrap_or("-")))
        })
    }

    /// Uses a one-time code: marks it used if it exists, is unused, has not expired and is for
    /// `purpose`, and returns its person (Some(None) for a setup code). Used once, ever.
    pub fn use_code(&self, code_hash: &[u8], purpose: &str, now: i64) -> Result<Option<Option<String>>> {
        self.write(|db| {
            // One statement: of two uses at once, on any process, one finds it unused.
            db.query_opt(
                "UPDATE codes SET used_at = ?4 WHERE code = ?1 AND purpose = ?2 AND used_at IS NULL AND expires_at > ?3 RETURNING person",
                params![code_hash, purpose, now, now],
                |r| r.get::<Option<String>>(0),
            )
        })
    }

    /// Adds a device with the hash of its token.
    pub fn add_device(&self, device: &Device, token_hash: &[u8], now: i64) -> Result<()> {
        self.write(|db| {
            db.execute(
                "INSERT INTO devices (id, person, name, kind, token, status, created_at, expires_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                params![device.id, device.person, device.name, device.kind, token_hash, device.status, device.created_at, device.expires_at],
            )?;
            audit(db, now, Some(&device.person), "add_device", &format!("{} {} ({})", device.id, device.name, device.kind))
        })
    }

    pub fn device_by_token(&self, token_hash: &[u8]) -> Result<Option<Device>> {
        self.read(|db| db.query_opt(&format!("SELECT {DEVICE_COLUMNS} FROM devices WHERE token = ?1"), params![token_hash], device))
    }

    pub fn device(&self, id: &str) -> Result<Option<Device>> {
        self.read(|db| db.query_opt(&format!("SELECT {DEVICE_COLUMNS} FROM devices WHERE id = ?1"), params![id], device))
    }

    pub fn devices(&self) -> Result<Vec<Device>> {
        self.read(|db| db.query_map(&format!("SELECT {DEVICE_COLUMNS} FROM devices ORDER BY created_at, id"), params![], device))
    }

    /// Sets a device's status and, with `expires_by`, makes it expire no later than then.
    pub fn set_device_status(&self, id: &str, status: &str, expires_by: Option<i64>, by: Option<&str>, now: i64) -> Result<bool> {
        self.write(|db| {
            let n = match expires_by {
                None => db.execute("UPDATE devices SET status = ?2 WHERE id = ?1", params![id, status])?,
                Some(at) => db.execute(
                    "UPDATE devices SET status = ?2, expires_at = CASE WHEN expires_at IS NULL OR expires_at > ?3 THEN ?3 ELSE expires_at END WHERE id = ?1",
                    params![id, status, at],
                )?,
            };
            audit(db, now, by, &format!("device_{status}"), id)?;
            if n == 1 && status != "active" {
                self.directory_changed(db, Some((id, status)))?;
            }
            Ok(n == 1)
        })
    }

    /// Makes a device expire at `at` (seconds since 1970).
    pub fn set_device_expiry(&self, id: &str, at: i64) -> Result<()> {
        self.write(|db| db.execute("UPDATE devices SET expires_at = ?2 WHERE id = ?1", params![id, at])).map(|_| ())
    }

    /// Notes that a device was heard from (and with which app version).
    pub fn touch_device(&self, id: &str, app_version: Option<&str>, now: i64) -> Result<()> {
        self.write(|db| db.execute("UPDATE devices SET last_seen = ?2, app_version = COALESCE(?3, app_version) WHERE id = ?1", params![id, now, app_version])).map(|_| ())
    }

    /// Binds an Automerge actor to the device that first sent it; returns the device it is
    /// bound to (this one, or the one that sent it first).
    pub fn bind_actor(&self, actor: &[u8], device: &str) -> Result<String> {
        self.write(|db| {
            // The public board's actors are nobody's device's.
            if db.query_opt("SELECT 1 FROM board_actors WHERE actor = ?1", params![actor], |_| Ok(()))?.is_some() {
                return Ok(crate::directory::BOARD_OWNER.to_owned());
            }
            db.execute("INSERT INTO actors (actor, device) VALUES (?1, ?2) ON CONFLICT DO NOTHING", params![actor, device])?;
            db.query_row("SELECT device FROM actors WHERE actor = ?1", params![actor], |r| r.get(0))
        })
    }

    /// Who owns each actor: actor → (device, person), for history and the read model.
    pub fn actor_owner(&self, actor: &[u8]) -> Result<Option<(String, String)>> {
        self.read(|db| db.query_opt("SELECT d.id, d.person FROM actors a JOIN devices d ON d.id = a.device WHERE a.actor = ?1", params![actor], |r| Ok((r.get(0)?, r.get(1)?))))
    }

    /// Every actor of every device of a person's: what their phones wrote.
    pub fn person_actors(&self, person: &str) -> Result<Vec<Vec<u8>>> {
        self.read(|db| db.query_map("SELECT a.actor FROM actors a JOIN devices d ON d.id = a.device WHERE d.person = ?1", params![person], |r| r.get(0)))
    }

    pub fn audit_log(&self, limit: usize) -> Result<Vec<AuditEntry>> {
        self.read(|db| {
            db.query_map("SELECT at, person, action, detail FROM audit ORDER BY seq DESC LIMIT ?1", params![limit as i64], |r| {
                Ok(AuditEntry { at: r.get(0)?, person: r.get(1)?, action: r.get(2)?, detail: r.get(3)? })
            })
        })
    }

    /// Writes one audit entry on its own (for actions with no other write, such as a refused login).
    pub fn audit(&self, by: Option<&str>, action: &str, detail: &str, now: i64) -> Result<()> {
        self.write(|db| audit(db, now, by, action, detail))
    }
}

/// PostgreSQL keeps recent login and code attempts per key ("account:…", "address:…") for
/// every process sharing it (`at` in ms). Rows per key stay within its limit: an attempt past
/// it is refused, not recorded; rows older than the window go at every count.
pub(super) const POSTGRES_ATTEMPTS: &str = "
    CREATE TABLE IF NOT EXISTS login_attempts (seq BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, key TEXT COLLATE \"C\" NOT NULL, at BIGINT NOT NULL);
    CREATE INDEX IF NOT EXISTS login_attempts_by_key ON login_attempts(key, at);
    CREATE INDEX IF NOT EXISTS login_attempts_by_at ON login_attempts(at);";

impl Storage {
    /// Counts an attempt on every key unless one of them has `max` attempts within `window`
    /// ms of `now` already; whether it was counted. Serialisable: two processes counting the
    /// same key at once cannot both pass a check made before the other's row.
    pub(crate) fn count_attempt(&self, keys: &[(String, usize)], now: i64, window: i64) -> Result<bool> {
        let sweep = {
            let mut b = [0u8];
            let _ = getrandom::fill(&mut b);
            b[0] < 3
        };
        self.write(|db| {
            if sweep {
                // Now and then, every key's old rows (addresses never seen again among them).
                db.execute("DELETE FROM login_attempts WHERE at < ?1", params![now - window])?;
            }
            for (key, _) in keys {
                db.execute("DELETE FROM login_attempts WHERE key = ?1 AND at < ?2", params![key, now - window])?;
            }
            for (key, max) in keys {
                let n = db.query_row("SELECT COUNT(*) FROM login_attempts WHERE key = ?1", params![key], |r| r.get::<usize>(0))?;
                if n >= *max {
                    return Ok(false);
                }
            }
            for (key, _) in keys {
                db.execute("INSERT INTO login_attempts (key, at) VALUES (?1, ?2)", params![key, now])?;
            }
            Ok(true)
        })
    }

    /// Takes back the newest attempt counted on each key.
    pub(crate) fn take_back_attempt(&self, keys: &[(String, usize)]) -> Result<()> {
        self.write(|db| {
            for (key, _) in keys {
                db.execute("DELETE FROM login_attempts WHERE seq = (SELECT MAX(seq) FROM login_attempts WHERE key = ?1)", params![key])?;
            }
            Ok(())
        })
    }
}

pub(super) fn audit(db: &mut dyn Sql, at: i64, by: Option<&str>, action: &str, detail: &str) -> sql::Result<()> {
    db.execute("INSERT INTO audit (at, person, action, detail) VALUES (?1, ?2, ?3, ?4)", params![at, by, action, detail]).map(|_| ())
}
