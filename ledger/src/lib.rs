//! Pioneer Ledger's pure core (先锋台账核心).
//!
//! Everything both the browser app and the sync server need, written once and with no IO:
//! the domain records and their Automerge schema, validation with messages a cadre can act on,
//! search and filter as plain functions, and the storage policy both sides follow.
//! It compiles natively (tested with `cargo test`) and to wasm32 (used by `app`).

pub mod id;
pub mod lenient;
pub mod protocol;
pub mod query;
pub mod storage;
pub mod unit_ledger;
pub mod view_cache;
pub mod visit;
mod writer;

pub use id::RecordId;
pub use lenient::FieldProblem;
pub use query::{filter_visits, VisitFilter};
pub use unit_ledger::{LedgerError, UnitLedger};
pub use visit::{ValidVisit, ValidationErrors, Visit, VisitDraft, VisitKind};
