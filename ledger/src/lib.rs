//! Pioneer Ledger's pure core (先锋台账核心).
//!
//! Everything both the browser app and the sync server need, written once and with no IO:
//! the domain records and their Automerge schema, validation with messages a cadre can act on,
//! search and filter as plain functions.
//! It compiles natively (tested with `cargo test`) and to wasm32 (used by `app`).

pub mod achievement;
pub mod address;
pub mod award;
pub mod board;
pub mod calendar;
pub mod codes;
pub mod command;
pub mod day;
pub mod enterprise;
pub mod id;
pub mod lenient;
pub mod order;
pub mod org;
pub mod photo;
pub mod plan;
pub mod pledge;
pub mod post;
pub mod problem;
pub mod query;
pub mod rate;
pub mod rating;
pub mod record;
pub mod record_query;
pub mod report;
pub mod rule;
pub mod survey;
pub mod unit_ledger;
pub mod validation;
pub mod view_cache;
pub mod visit;
pub mod worker_protocol;
pub mod write_scope;
mod writer;

pub use codes::{Satisfaction, Verdict};
pub use command::Command;
pub use enterprise::{Enterprise, EnterpriseDraft};
pub use id::RecordId;
pub use lenient::FieldProblem;
pub use pledge::{Pledge, PledgeDraft};
pub use post::{Post, PostDraft};
pub use problem::{Problem, ProblemDraft, Status};
pub use query::{filter_visits, sort_visits, VisitFilter};
pub use rating::Rating;
pub use record::{Conflict, HistoryEntry, LogEntry, Section};
pub use survey::{Survey, SurveyDraft};
pub use unit_ledger::Records;
pub use unit_ledger::{LedgerError, UnitLedger};
pub use validation::ValidationErrors;
pub use visit::{ValidVisit, Visit, VisitDraft, VisitKind};
