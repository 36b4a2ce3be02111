//! `/api/me` and signing in.

use ledger::org::Rights;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PersonRef {
    pub id: String,
    pub name: String,
    pub login: String,
}

/// The device a request came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceRef {
    pub id: String,
    pub name: String,
    pub kind: String,
    pub status: String,
    /// A phone's key for signing one-time rating codes (一事一评), in hex; empty for other
    /// devices, and for a phone no longer active.
    #[serde(default, rename = "ratingKey")]
    pub rating_key: String,
}

/// A role the person holds on a unit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RoleHeld {
    pub unit: String,
    pub unit_name: String,
    /// The unit's path from the root, names joined by " / ".
    pub path: String,
    pub role: String,
    pub role_label: String,
}

/// A member of a unit whom problems can be assigned to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Member {
    pub id: String,
    pub name: String,
    pub role: String,
}

/// A ledger the person may read, with their rights and the unit's people (what a phone keeps
/// for offline use).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LedgerAccess {
    pub document_id: String,
    /// `automerge:<id>`.
    pub url: String,
    pub unit: String,
    pub unit_name: String,
    pub path: String,
    pub rights: Rights,
    pub members: Vec<Member>,
    /// The unit's public board (先锋广场), as residents reach it.
    #[serde(default)]
    pub board_url: String,
}

/// `GET /api/me`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Me {
    pub person: PersonRef,
    pub device: DeviceRef,
    pub roles: Vec<RoleHeld>,
    pub ledgers: Vec<LedgerAccess>,
    /// The organisation's time limits for a 差评's case and its working-day calendar, so a
    /// phone shows offline the deadlines the desk counts by.
    #[serde(default, rename = "caseRules")]
    pub case_rules: ledger::rating::CaseRules,
}

impl Me {
    /// A unit's secretary: nominates the unit's people on the desk (评先评优).
    pub fn is_secretary(&self) -> bool {
        self.roles.iter().any(|r| r.role == "secretary")
    }

    pub fn is_admin(&self) -> bool {
        self.roles.iter().any(|r| r.role == "admin")
    }

    pub fn is_office(&self) -> bool {
        self.roles.iter().any(|r| r.role == "office")
    }

    pub fn is_supervisor(&self) -> bool {
        self.roles.iter().any(|r| r.role == "supervisor")
    }
}

/// `POST /api/login`: a desktop session for the working day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Login {
    pub login: String,
    pub password: String,
}

/// The answer to a login or an activation: the device now signed in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedIn {
    pub device: String,
}

/// `POST /api/setup`'s answer: the first administrator, signed in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SetUp {
    pub person: String,
}
