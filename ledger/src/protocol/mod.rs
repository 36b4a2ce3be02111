//! The automerge-repo network protocol, version "1": what goes over the sync WebSocket.
//!
//! One CBOR map per binary frame. This module only encodes and decodes; the sync engine
//! that decides what to send lives beside it. Everything from the wire is bounded and
//! validated: a bad frame is an error, never a panic.

mod connection;
mod doc_id;
mod message;

pub use connection::{Connection, DocumentHost, LocalPeer, Output, SingleDocument};
pub use doc_id::{DocumentId, DocumentIdError};
pub use message::{DecodeError, Message, PeerMetadata, MAX_MESSAGE_BYTES, PROTOCOL_VERSION};
