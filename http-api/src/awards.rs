//! Recognition from the record: a person's record (实绩) for a period, and award rounds
//! (评先评优) — `/api/office/awards…` for the campaign office, `/api/awards…` for a unit's
//! secretary nominating, `/api/desk/people…` for reading records.

use ledger::achievement::WorkRecord;
use serde::{Deserialize, Serialize};

/// `GET /api/desk/people`: the people whose records the reader may open.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PeopleList {
    pub people: Vec<PersonRow>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PersonRow {
    pub id: String,
    pub name: String,
    pub unit: String,
    pub unit_name: String,
    pub path: String,
    pub role_label: String,
}

/// A commendation as the record and the board show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Commendation {
    pub round_title: String,
    /// 先进集体 or 先进个人.
    pub kind_label: String,
    pub name: String,
    pub unit_name: String,
    pub post: String,
    pub summary: String,
    /// YYYY-MM-DD
    pub decided_on: String,
    pub decision: String,
}

/// `GET /api/desk/people/{id}/record?period=…`: a person's record for a period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PersonRecord {
    pub person: PersonRow,
    /// The period as written in the URL, and its first and last day.
    pub period: String,
    pub from: String,
    pub to: String,
    /// The unit's ledger, for the links to each record (`/api/desk/records/{ledger}/…`).
    pub ledger: String,
    pub record: WorkRecord,
    pub commendations: Vec<Commendation>,
}

/// `POST /api/office/awards`: an award round for the units at or below `node`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NewAwardRound {
    pub node: String,
    pub title: String,
    /// `collective` or `individual`.
    pub kind: String,
    pub quota: u32,
    /// YYYY-MM-DD
    pub nominate_by: String,
    /// Working days; 5 when left out.
    #[serde(default)]
    pub publicity_days: Option<u32>,
    /// The bodies whose opinions are sought (纪检监察, 组织部…).
    #[serde(default)]
    pub bodies: Vec<String>,
}

/// An award round as every reader sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AwardRoundRow {
    pub id: String,
    pub title: String,
    pub kind: String,
    pub kind_label: String,
    pub node_name: String,
    pub quota: u32,
    pub nominate_by: String,
    pub publicity_days: u32,
    pub bodies: Vec<String>,
    pub stage: String,
    pub stage_label: String,
    /// "" until 公示 starts.
    pub publicity_from: String,
    pub publicity_to: String,
    /// "" until decided.
    pub decided_on: String,
    pub decision: String,
    pub nominations: usize,
    pub shortlisted: usize,
    /// Objections not yet examined.
    pub open_objections: usize,
}

/// A record given as evidence, linked: what it is now, read from the unit's ledger.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Evidence {
    pub section: String,
    pub id: String,
    /// What the record is (走访 / 问题 …) and its title, as the ledger says now; empty for a
    /// record since deleted.
    pub label: String,
    pub date: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OpinionRow {
    pub body: String,
    pub opinion: String,
    pub given_on: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ObjectionRow {
    pub id: String,
    pub nomination: String,
    pub text: String,
    /// How to reach whoever filed it (the office's eyes only).
    pub contact: String,
    /// YYYY-MM-DD HH:MM (China).
    pub filed_at: String,
    /// "" while not examined.
    pub finding: String,
    pub upheld: bool,
    pub settled: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NominationRow {
    pub id: String,
    pub unit: String,
    pub unit_name: String,
    /// "" for a collective.
    pub person: String,
    pub name: String,
    pub post: String,
    pub deeds: String,
    pub summary: String,
    /// The unit's ledger, for the evidence's links.
    pub ledger: String,
    pub evidence: Vec<Evidence>,
    pub opinions: Vec<OpinionRow>,
    pub shortlisted: bool,
    pub commended: bool,
}

/// `GET /api/office/awards`: the office's rounds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AwardRounds {
    pub rounds: Vec<AwardRoundRow>,
}

/// `GET /api/office/awards/{id}` (every nomination, objections with contacts) and
/// `GET /api/awards/{id}` (the secretary's own unit's nominations, no objections).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AwardRoundDetail {
    pub round: AwardRoundRow,
    pub nominations: Vec<NominationRow>,
    pub objections: Vec<ObjectionRow>,
}

/// `POST /api/awards/{round}/nominations`: a unit's nomination, new or (with `id`) edited.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NominationForm {
    #[serde(default)]
    pub id: Option<String>,
    pub unit: String,
    /// The person nominated; "" for a collective round.
    #[serde(default)]
    pub person: String,
    #[serde(default)]
    pub post: String,
    pub deeds: String,
    pub summary: String,
    /// (section key, record id) of the unit's ledger.
    #[serde(default)]
    pub evidence: Vec<(String, String)>,
}

/// `GET /api/awards`: the rounds open to the secretary's units, with what each may nominate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecretaryAwards {
    pub rounds: Vec<AwardRoundRow>,
    pub units: Vec<NominatingUnit>,
}

/// A unit the reader nominates for, with its people.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NominatingUnit {
    pub unit: String,
    pub name: String,
    pub people: Vec<PersonRow>,
}

/// `GET /api/awards/evidence?unit=…&person=…&period=…`: the records a nomination may link —
/// the person's record, or the unit's for a collective.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EvidenceChoices {
    pub ledger: String,
    pub record: WorkRecord,
}

/// `POST /api/office/awards/{round}/nominations/{id}/opinions`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OpinionForm {
    pub body: String,
    pub opinion: String,
    pub given_on: String,
}

/// `POST /api/office/awards/{round}/nominations/{id}/shortlist`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShortlistForm {
    pub on: bool,
}

/// `POST /api/office/awards/{round}/objections/{id}`: how an objection was examined.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FindingForm {
    pub finding: String,
    pub upheld: bool,
}

/// `POST /api/office/awards/{round}/decision`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DecisionForm {
    #[serde(default)]
    pub decision: String,
}
