//! `/api/admin/…`: the organisation, people, roles, codes, devices, the audit log and import.

use ledger::org::{Grant, Org, Unit};
use serde::{Deserialize, Serialize};

/// A person as the admin sees them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Person {
    pub id: String,
    pub name: String,
    pub login: String,
}

/// `GET /api/admin/org`: what the admin manages.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct OrgView {
    pub units: Vec<Unit>,
    pub people: Vec<Person>,
    pub grants: Vec<Grant>,
}

impl OrgView {
    pub fn org(&self) -> Org {
        Org { units: self.units.iter().map(|u| (u.id.clone(), u.clone())).collect(), grants: self.grants.iter().cloned().collect() }
    }

    pub fn person_name(&self, id: &str) -> String {
        self.people.iter().find(|p| p.id == id).map(|p| p.name.clone()).unwrap_or_else(|| id.to_owned())
    }
}

/// `POST /api/admin/units`; the answer is the new [`Unit`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewUnit {
    pub name: String,
    /// A [`ledger::org::UnitKind`] code.
    pub kind: String,
    pub parent: String,
}

/// `POST /api/admin/people`: a person with a first role; the answer is the new [`Person`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewPerson {
    pub name: String,
    pub login: String,
    /// For a desktop role; a phone is activated with a code instead.
    #[serde(default)]
    pub password: Option<String>,
    pub unit: String,
    /// A [`ledger::org::Role`] code.
    pub role: String,
}

/// `POST /api/admin/grants`; the answer is [`crate::Done`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewGrant {
    pub person: String,
    pub unit: String,
    pub role: String,
}

/// `POST /api/admin/codes` (a phone's activation code; `device` unused) and
/// `POST /api/admin/tokens` (a token for a third-party automerge-repo peer named `device`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ForPerson {
    pub person: String,
    #[serde(default)]
    pub device: String,
}

/// `POST /api/admin/codes`' answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IssuedCode {
    pub code: String,
    pub expires_in_days: u64,
}

/// `POST /api/admin/tokens`' answer: the token, shown once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IssuedToken {
    pub device: String,
    pub token: String,
}

/// A device (`GET /api/admin/devices`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Device {
    pub id: String,
    pub person: String,
    pub name: String,
    /// "phone" (activated with a code), "session" (a desktop login), "token" (a third-party peer).
    pub kind: String,
    /// "active", "retired" (may still upload, then erases) or "lost" (refused).
    pub status: String,
    pub created_at: i64,
    pub last_seen: Option<i64>,
    pub app_version: Option<String>,
    pub expires_at: Option<i64>,
}

/// `POST /api/admin/devices/{id}/{retire|lose}`' answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceStatus {
    pub device: String,
    pub status: String,
}

/// One line of the audit log (`GET /api/admin/audit`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    pub at: i64,
    pub person: Option<String>,
    pub action: String,
    pub detail: String,
}

/// `POST /api/admin/import`'s answer: what was added.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Imported {
    pub units: usize,
    pub people: usize,
    pub grants: usize,
}

/// A wrong row of an import file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RowError {
    /// The row's line in the file (the header is line 1).
    pub line: usize,
    pub message: String,
}

/// `POST /api/admin/import` refused (400): nothing was imported; each wrong row's line and
/// reason, the first of them (`total` says how many there were).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportRefused {
    pub error: String,
    pub message: String,
    pub rows: Vec<RowError>,
    pub total: usize,
}
