//! Making the organisation: units (a grass-roots unit with its ledger), people, roles, and
//! the batch import of all three.

use std::collections::HashMap;

use automerge::ActorId;
use ledger::org::{Grant, Role, Unit, UnitKind};
use ledger::UnitLedger;
use ledger_sync::DocumentId;

use super::credentials::{check_password, hash_password};
use super::{now_secs, random_id, Directory};
use crate::storage::{NewLedger, Person};

/// What an import added.
pub(crate) use http_api::admin::Imported as ImportCounts;

/// Why an import added nothing.
#[derive(Debug)]
pub enum ImportError {
    Rows(ledger::org::import::Refused),
    Failed(String),
}

impl Directory {
    /// Adds a unit where the tree allows it; a grass-roots unit gets its ledger. The first one
    /// added to a data directory from before accounts existed adopts that directory's demo
    /// ledger, so nothing typed in it is lost.
    pub fn add_unit(&self, name: &str, kind: UnitKind, parent: Option<&str>, by: Option<&str>) -> Result<Unit, String> {
        self.org().check_new_unit(name, kind, parent).map_err(|e| e.to_string())?;
        let mut unit = Unit { id: random_id(), name: name.trim().to_owned(), kind, parent: parent.map(Into::into), ledger: None };
        let mut adopt = self.adoptable_demo_ledger()?;
        let snapshot = self.give_ledger(&mut unit, &mut adopt);
        self.storage.add_unit(&unit, snapshot.as_ref(), by, now_secs())?;
        self.reload()?;
        Ok(unit)
    }

    /// The demo ledger of a data directory from before accounts existed, while no unit has it.
    fn adoptable_demo_ledger(&self) -> Result<Option<DocumentId>, String> {
        let old = self.storage.setting("demo_ledger")?.and_then(|s| DocumentId::parse(&s).ok());
        Ok(old.filter(|old| self.org().unit_of_ledger(&old.to_string()).is_none()))
    }

    /// Gives a grass-roots unit its ledger (`adopt`, once, else a new one); the new ledger's
    /// first bytes are returned to be stored with the unit.
    fn give_ledger(&self, unit: &mut Unit, adopt: &mut Option<DocumentId>) -> Option<NewLedger> {
        if !unit.kind.keeps_ledger() {
            return None;
        }
        if let Some(old) = adopt.take() {
            unit.ledger = Some(old.to_string());
            return None;
        }
        unit.ledger = Some(DocumentId::random().to_string());
        let mut skeleton = UnitLedger::create(ActorId::random());
        Some(NewLedger { heads: skeleton.heads(), snapshot: skeleton.save() })
    }

    /// Imports a table of units and people (see [`ledger::org::import`]): everything or, when
    /// any row is wrong, nothing, with every wrong row named.
    pub fn import(&self, admin: &str, rows: &[ledger::org::import::Row]) -> Result<ImportCounts, ImportError> {
        let logins: HashMap<String, String> = self.storage.people().map_err(ImportError::Failed)?.into_iter().map(|p| (p.login, p.id)).collect();
        let plan = ledger::org::import::plan(&self.org(), admin, &logins, rows, &mut random_id).map_err(ImportError::Rows)?;
        let mut adopt = self.adoptable_demo_ledger().map_err(ImportError::Failed)?;
        let mut units = Vec::with_capacity(plan.units.len());
        for mut unit in plan.units {
            let snapshot = self.give_ledger(&mut unit, &mut adopt);
            units.push((unit, snapshot));
        }
        let people: Vec<Person> = plan.people.into_iter().map(|p| Person { id: p.id, name: p.name, login: p.login }).collect();
        let counts = ImportCounts { units: units.len(), people: people.len(), grants: plan.grants.len() };
        self.storage.import(&units, &people, &plan.grants, Some(admin), now_secs()).map_err(ImportError::Failed)?;
        self.reload().map_err(ImportError::Failed)?;
        Ok(counts)
    }

    /// Adds a person; a password (desktop roles) is stored as an Argon2id hash.
    pub fn add_person(&self, name: &str, login: &str, password: Option<&str>, by: Option<&str>) -> Result<Person, String> {
        ledger::org::check_person(name, login)?;
        let (name, login) = (name.trim(), login.trim());
        if let Some(p) = password {
            check_password(p)?;
        }
        let hash = password.map(hash_password).transpose()?;
        let person = Person { id: random_id(), name: name.to_owned(), login: login.to_owned() };
        self.storage.add_person(&person, hash.as_deref(), by, now_secs())?;
        Ok(person)
    }

    pub fn grant(&self, person: &str, unit: &str, role: Role, by: Option<&str>) -> Result<(), String> {
        if self.storage.person(person)?.is_none() {
            return Err("没有这个人".into());
        }
        if !self.org().units.contains_key(unit) {
            return Err("没有这个单位".into());
        }
        self.storage.grant(&Grant { person: person.into(), unit: unit.into(), role }, by, now_secs())?;
        self.reload()
    }
}
