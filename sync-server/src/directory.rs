//! Who is who: the organisation in memory (rebuilt from storage after every change to it),
//! and what is built on it, one job a file: making units with their ledgers and people
//! (`units`), credentials (accounts, devices and their tokens, one-time codes, passwords, the
//! limits on guessing them, and the news that a device was retired or lost: `credentials`), and
//! the actor → device binding that attributes every change (`attribution`).
//!
//! Everything here may block (SQLite, Argon2): call it from tokio's blocking pool.

mod attribution;
mod credentials;
mod units;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};

use automerge::ActorId;
use ledger::org::{Org, Rights};
use ledger::UnitLedger;
use ledger_sync::DocumentId;
use tokio::sync::broadcast;

pub(crate) use attribution::BOARD_OWNER;
pub use credentials::hash_password;
pub(crate) use credentials::{AuthError, NewDevice, Refused, ACTIVATION_CODE_TTL};
pub(crate) use units::ImportError;

use crate::storage::Storage;

/// The person behind an authenticated request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub person: String,
    /// The person's name: what their entries and change notes must carry.
    pub name: String,
    pub device: String,
    /// Retired: may upload what it has not sent, then erases its data.
    pub retired: bool,
}

/// A device retired or lost, told to every open connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Revoked {
    pub device: String,
    pub status: String,
}

pub struct Directory {
    pub storage: Arc<Storage>,
    org: RwLock<Arc<Org>>,
    /// Each ledger's unit, so a message's rights are found without walking the units.
    ledgers: RwLock<Arc<HashMap<DocumentId, String>>>,
    /// actor → device, as bound in storage (bindings never change, so they are cached).
    actors: Mutex<HashMap<ActorId, String>>,
    skeleton: Vec<automerge::ChangeHash>,
    pub revoked: broadcast::Sender<Revoked>,
    failures: Mutex<credentials::Failures>,
    hash_places: credentials::HashPlaces,
    /// Reloads take turns, each reading storage and installing what it read before the next
    /// reads: an older reading (another process's notice) never replaces a newer one.
    reloading: Mutex<()>,
}

pub fn now_secs() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0)
}

fn random_bytes<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes).expect("the platform has no random source");
    bytes
}

pub(crate) fn random_id() -> String {
    random_bytes::<12>().iter().map(|b| format!("{b:02x}")).collect()
}

impl Directory {
    pub fn open(storage: Arc<Storage>) -> Result<Arc<Self>, String> {
        let org = storage.org()?;
        let (revoked, _) = broadcast::channel(256);
        Ok(Arc::new(Self {
            storage,
            ledgers: RwLock::new(Arc::new(ledger_index(&org))),
            org: RwLock::new(Arc::new(org)),
            actors: Mutex::new(HashMap::new()),
            skeleton: UnitLedger::skeleton_hashes(),
            revoked,
            failures: Mutex::new(credentials::Failures::default()),
            hash_places: credentials::HashPlaces::default(),
            reloading: Mutex::new(()),
        }))
    }

    pub fn org(&self) -> Arc<Org> {
        self.org.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    pub(crate) fn reload(&self) -> Result<(), String> {
        let _turn = self.reloading.lock().unwrap_or_else(|e| e.into_inner());
        let org = self.storage.org()?;
        let index = ledger_index(&org);
        *self.org.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(org);
        *self.ledgers.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(index);
        Ok(())
    }

    /// The unit whose ledger `doc` is, if it is one.
    pub fn unit_of(&self, doc: &DocumentId) -> Option<String> {
        self.ledgers.read().unwrap_or_else(|e| e.into_inner()).get(doc).cloned()
    }

    /// Rights of `person` on the ledger `doc`; none for a document that is no unit's ledger.
    pub fn rights(&self, person: &str, doc: &DocumentId) -> Rights {
        match self.unit_of(doc) {
            Some(unit) => self.org().ledger_rights(person, &unit),
            None => Rights::NONE,
        }
    }
}

fn ledger_index(org: &Org) -> HashMap<DocumentId, String> {
    org.units.values().filter_map(|u| Some((DocumentId::parse(u.ledger.as_deref()?).ok()?, u.id.clone()))).collect()
}

#[cfg(test)]
mod tests;
