//! Pioneer Ledger's sync core (同步核心), with no IO.
//!
//! The automerge-repo network protocol, version "1" (one CBOR map per binary frame), document
//! ids, the sans-IO sync engine ([`Connection`]) that browser and server both run, the storage
//! policy and the one compaction state machine ([`compaction::Compactor`]) both sides follow.
//! Everything from the wire is bounded and validated: a bad frame is an error, never a panic.
//! The runtimes around it (a browser WebSocket and IndexedDB, an axum WebSocket and SQLite, a
//! test's simulated link) only move bytes and report when writes have committed.

pub mod changes;
pub mod compaction;
mod connection;
mod doc_id;
pub mod limits;
mod message;
pub mod stored;

pub use compaction::{CompactionPolicy, Compactor, Outcome, Plan, Tag};
pub use connection::{Applied, Connection, DocumentHost, LocalPeer, Output, SingleDocument, Waiting};
pub use doc_id::{DocumentId, DocumentIdError};
pub use message::{DecodeError, Message, PeerMetadata, MAX_MESSAGE_BYTES, PROTOCOL_VERSION};
pub use stored::{Layout, LoadError, StoredDocument};
