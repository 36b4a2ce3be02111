//! The messages of automerge-repo's network protocol and their CBOR form.

use minicbor::data::{Tag, Type};
use minicbor::{Decoder, Encoder};

use crate::DocumentId;

pub const PROTOCOL_VERSION: &str = "1";
/// The largest message accepted from the wire: enough for the first sync of a large ledger.
pub const MAX_MESSAGE_BYTES: usize = 16 * 1024 * 1024;
/// Peer ids, storage ids, session ids and error texts are short; anything longer is an attack.
const MAX_ID_BYTES: usize = 256;
const MAX_TEXT_BYTES: usize = 4096;
const MAX_LIST: u64 = 64;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeerMetadata {
    pub storage_id: Option<String>,
    pub is_ephemeral: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    Join {
        sender_id: String,
        supported_protocol_versions: Vec<String>,
        metadata: Option<PeerMetadata>,
    },
    Peer {
        sender_id: String,
        target_id: String,
        selected_protocol_version: String,
        metadata: Option<PeerMetadata>,
    },
    Leave {
        sender_id: String,
    },
    /// A sync message that also asks for a `doc-unavailable` answer if the target lacks it.
    Request {
        sender_id: String,
        target_id: String,
        document_id: DocumentId,
        data: Vec<u8>,
    },
    Sync {
        sender_id: String,
        target_id: String,
        document_id: DocumentId,
        data: Vec<u8>,
    },
    DocUnavailable {
        sender_id: String,
        target_id: String,
        document_id: DocumentId,
    },
    Ephemeral {
        sender_id: String,
        target_id: String,
        document_id: DocumentId,
        count: u64,
        session_id: String,
        data: Vec<u8>,
    },
    Error {
        message: String,
    },
    RemoteSubscriptionChange {
        sender_id: String,
        target_id: String,
        add: Vec<String>,
        remove: Vec<String>,
    },
    /// Heads gossip; we neither forward nor act on it, so only its routing fields are kept.
    RemoteHeadsChanged {
        sender_id: String,
        target_id: String,
        document_id: DocumentId,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error("message of {0} bytes is over the {MAX_MESSAGE_BYTES}-byte limit")]
    TooLarge(usize),
    #[error("malformed CBOR: {0}")]
    Cbor(String),
    #[error("a message must be a CBOR map")]
    NotAMap,
    #[error("unknown message type {0:?}")]
    UnknownType(String),
    #[error("field {0} is missing")]
    Missing(&'static str),
    #[error("field {0} is invalid")]
    Invalid(&'static str),
    #[error("trailing bytes after the message")]
    Trailing,
}

impl From<minicbor::decode::Error> for DecodeError {
    fn from(e: minicbor::decode::Error) -> Self {
        Self::Cbor(e.to_string())
    }
}

impl Message {
    pub fn type_name(&self) -> &'static str {
        match self {
            Self::Join { .. } => "join",
            Self::Peer { .. } => "peer",
            Self::Leave { .. } => "leave",
            Self::Request { .. } => "request",
            Self::Sync { .. } => "sync",
            Self::DocUnavailable { .. } => "doc-unavailable",
            Self::Ephemeral { .. } => "ephemeral",
            Self::Error { .. } => "error",
            Self::RemoteSubscriptionChange { .. } => "remote-subscription-change",
            Self::RemoteHeadsChanged { .. } => "remote-heads-changed",
        }
    }

    pub fn encode(&self) -> Vec<u8> {
        let mut e = Encoder::new(Vec::new());
        self.encode_into(&mut e).expect("writing to a Vec cannot fail");
        e.into_writer()
    }

    fn encode_into(&self, e: &mut Encoder<Vec<u8>>) -> Result<(), minicbor::encode::Error<std::convert::Infallible>> {
        let ty = self.type_name();
        match self {
            Self::Join { sender_id, supported_protocol_versions, metadata } => {
                e.map(3 + u64::from(metadata.is_some()))?;
                e.str("type")?.str(ty)?.str("senderId")?.str(sender_id)?;
                e.str("supportedProtocolVersions")?.array(supported_protocol_versions.len() as u64)?;
                for v in supported_protocol_versions {
                    e.str(v)?;
                }
                if let Some(m) = metadata {
                    e.str("peerMetadata")?;
                    encode_metadata(e, m)?;
                }
            }
            Self::Peer { sender_id, target_id, selected_protocol_version, metadata } => {
                e.map(4 + u64::from(metadata.is_some()))?;
                e.str("type")?.str(ty)?.str("senderId")?.str(sender_id)?.str("targetId")?.str(target_id)?;
                e.str("selectedProtocolVersion")?.str(selected_protocol_version)?;
                if let Some(m) = metadata {
                    e.str("peerMetadata")?;
                    encode_metadata(e, m)?;
                }
            }
            Self::Leave { sender_id } => {
                e.map(2)?.str("type")?.str(ty)?.str("senderId")?.str(sender_id)?;
            }
            Self::Request { sender_id, target_id, document_id, data } | Self::Sync { sender_id, target_id, document_id, data } => {
                e.map(5)?.str("type")?.str(ty)?.str("senderId")?.str(sender_id)?.str("targetId")?.str(target_id)?;
                e.str("documentId")?.str(&document_id.to_string())?.str("data")?.bytes(data)?;
            }
            Self::DocUnavailable { sender_id, target_id, document_id } | Self::RemoteHeadsChanged { sender_id, target_id, document_id } => {
                e.map(4)?.str("type")?.str(ty)?.str("senderId")?.str(sender_id)?.str("targetId")?.str(target_id)?;
                e.str("documentId")?.str(&document_id.to_string())?;
            }
            Self::Ephemeral { sender_id, target_id, document_id, count, session_id, data } => {
                e.map(7)?.str("type")?.str(ty)?.str("senderId")?.str(sender_id)?.str("targetId")?.str(target_id)?;
                e.str("documentId")?.str(&document_id.to_string())?.str("count")?.u64(*count)?;
                e.str("sessionId")?.str(session_id)?.str("data")?.bytes(data)?;
            }
            Self::Error { message } => {
                e.map(2)?.str("type")?.str(ty)?.str("message")?.str(message)?;
            }
            Self::RemoteSubscriptionChange { sender_id, target_id, add, remove } => {
                e.map(5)?.str("type")?.str(ty)?.str("senderId")?.str(sender_id)?.str("targetId")?.str(target_id)?;
                e.str("add")?.array(add.len() as u64)?;
                for s in add {
                    e.str(s)?;
                }
                e.str("remove")?.array(remove.len() as u64)?;
                for s in remove {
                    e.str(s)?;
                }
            }
        }
        Ok(())
    }

    /// Decodes one frame. Unknown fields are skipped (peers may add some); unknown message
    /// types, missing or oversized fields are errors.
    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        if bytes.len() > MAX_MESSAGE_BYTES {
            return Err(DecodeError::TooLarge(bytes.len()));
        }
        let mut d = Decoder::new(bytes);
        let mut f = Fields::default();
        let len = match d.datatype()? {
            Type::Map | Type::MapIndef => d.map()?,
            _ => return Err(DecodeError::NotAMap),
        };
        let mut read = 0u64;
        loop {
            match len {
                Some(n) if read == n => break,
                None if d.datatype()? == Type::Break => {
                    d.skip()?;
                    break;
                }
                _ => {}
            }
            read += 1;
            if d.datatype()? != Type::String {
                d.skip()?;
                d.skip()?;
                continue;
            }
            let key = d.str()?;
            match key {
                "type" => f.ty = Some(text(&mut d, MAX_ID_BYTES, "type")?),
                "senderId" => f.sender_id = Some(text(&mut d, MAX_ID_BYTES, "senderId")?),
                "targetId" => f.target_id = Some(text(&mut d, MAX_ID_BYTES, "targetId")?),
                "documentId" => {
                    let s = text(&mut d, MAX_ID_BYTES, "documentId")?;
                    f.document_id = Some(DocumentId::parse(&s).map_err(|_| DecodeError::Invalid("documentId"))?);
                }
                "data" => f.data = Some(byte_string(&mut d)?),
                "message" => f.message = Some(text(&mut d, MAX_TEXT_BYTES, "message")?),
                "sessionId" => f.session_id = Some(text(&mut d, MAX_ID_BYTES, "sessionId")?),
                "count" => f.count = Some(d.u64().map_err(|_| DecodeError::Invalid("count"))?),
                "selectedProtocolVersion" => f.selected_version = Some(text(&mut d, MAX_ID_BYTES, "selectedProtocolVersion")?),
                "supportedProtocolVersions" => f.supported_versions = Some(text_list(&mut d, "supportedProtocolVersions")?),
                "add" => f.add = Some(text_list(&mut d, "add")?),
                "remove" => f.remove = Some(text_list(&mut d, "remove")?),
                // automerge-repo writes `peerMetadata`; older peers of ours wrote `metadata`.
                "peerMetadata" | "metadata" => f.metadata = decode_metadata(&mut d)?,
                _ => d.skip()?,
            }
        }
        if d.position() != bytes.len() {
            return Err(DecodeError::Trailing);
        }
        f.into_message()
    }
}

#[derive(Default)]
struct Fields {
    ty: Option<String>,
    sender_id: Option<String>,
    target_id: Option<String>,
    document_id: Option<DocumentId>,
    data: Option<Vec<u8>>,
    message: Option<String>,
    session_id: Option<String>,
    count: Option<u64>,
    selected_version: Option<String>,
    supported_versions: Option<Vec<String>>,
    add: Option<Vec<String>>,
    remove: Option<Vec<String>>,
    metadata: Option<PeerMetadata>,
}

impl Fields {
    fn into_message(self) -> Result<Message, DecodeError> {
        fn need<T>(v: Option<T>, name: &'static str) -> Result<T, DecodeError> {
            v.ok_or(DecodeError::Missing(name))
        }
        let ty = need(self.ty, "type")?;
        Ok(match ty.as_str() {
            "join" => Message::Join {
                sender_id: need(self.sender_id, "senderId")?,
                supported_protocol_versions: need(self.supported_versions, "supportedProtocolVersions")?,
                metadata: self.metadata,
            },
            "peer" => Message::Peer {
                sender_id: need(self.sender_id, "senderId")?,
                target_id: need(self.target_id, "targetId")?,
                selected_protocol_version: need(self.selected_version, "selectedProtocolVersion")?,
                metadata: self.metadata,
            },
            "leave" => Message::Leave { sender_id: need(self.sender_id, "senderId")? },
            "request" | "sync" => {
                let (sender_id, target_id) = (need(self.sender_id, "senderId")?, need(self.target_id, "targetId")?);
                let (document_id, data) = (need(self.document_id, "documentId")?, need(self.data, "data")?);
                if ty == "request" {
                    Message::Request { sender_id, target_id, document_id, data }
                } else {
                    Message::Sync { sender_id, target_id, document_id, data }
                }
            }
            "doc-unavailable" => Message::DocUnavailable {
                sender_id: need(self.sender_id, "senderId")?,
                target_id: need(self.target_id, "targetId")?,
                document_id: need(self.document_id, "documentId")?,
            },
            "ephemeral" => Message::Ephemeral {
                sender_id: need(self.sender_id, "senderId")?,
                target_id: need(self.target_id, "targetId")?,
                document_id: need(self.document_id, "documentId")?,
                count: need(self.count, "count")?,
                session_id: need(self.session_id, "sessionId")?,
                data: need(self.data, "data")?,
            },
            "error" => Message::Error { message: self.message.unwrap_or_default() },
            "remote-subscription-change" => Message::RemoteSubscriptionChange {
                sender_id: need(self.sender_id, "senderId")?,
                target_id: need(self.target_id, "targetId")?,
                add: self.add.unwrap_or_default(),
                remove: self.remove.unwrap_or_default(),
            },
            "remote-heads-changed" => Message::RemoteHeadsChanged {
                sender_id: need(self.sender_id, "senderId")?,
                target_id: need(self.target_id, "targetId")?,
                document_id: need(self.document_id, "documentId")?,
            },
            _ => return Err(DecodeError::UnknownType(ty)),
        })
    }
}

fn text(d: &mut Decoder<'_>, max: usize, field: &'static str) -> Result<String, DecodeError> {
    let s = d.str().map_err(|_| DecodeError::Invalid(field))?;
    if s.len() > max {
        return Err(DecodeError::Invalid(field));
    }
    Ok(s.to_owned())
}

fn text_list(d: &mut Decoder<'_>, field: &'static str) -> Result<Vec<String>, DecodeError> {
    let n = d.array().map_err(|_| DecodeError::Invalid(field))?.ok_or(DecodeError::Invalid(field))?;
    if n > MAX_LIST {
        return Err(DecodeError::Invalid(field));
    }
    (0..n).map(|_| text(d, MAX_ID_BYTES, field)).collect()
}

/// A byte string; JS peers (cbor-x) may wrap a Uint8Array in the typed-array tag 64.
fn byte_string(d: &mut Decoder<'_>) -> Result<Vec<u8>, DecodeError> {
    if d.datatype()? == Type::Tag {
        let tag = d.tag()?;
        if tag != Tag::new(64) {
            return Err(DecodeError::Invalid("data"));
        }
    }
    Ok(d.bytes().map_err(|_| DecodeError::Invalid("data"))?.to_vec())
}

fn decode_metadata(d: &mut Decoder<'_>) -> Result<Option<PeerMetadata>, DecodeError> {
    if d.datatype()? != Type::Map {
        d.skip()?;
        return Ok(None);
    }
    let n = d.map()?.unwrap_or(0);
    if n > MAX_LIST {
        return Err(DecodeError::Invalid("metadata"));
    }
    let mut m = PeerMetadata { storage_id: None, is_ephemeral: false };
    for _ in 0..n {
        if d.datatype()? != Type::String {
            d.skip()?;
            d.skip()?;
            continue;
        }
        match d.str()? {
            "storageId" if d.datatype()? == Type::String => m.storage_id = Some(text(d, MAX_ID_BYTES, "storageId")?),
            "isEphemeral" if d.datatype()? == Type::Bool => m.is_ephemeral = d.bool()?,
            _ => d.skip()?,
        }
    }
    Ok(Some(m))
}

fn encode_metadata(e: &mut Encoder<Vec<u8>>, m: &PeerMetadata) -> Result<(), minicbor::encode::Error<std::convert::Infallible>> {
    e.map(1 + u64::from(m.storage_id.is_some()))?;
    if let Some(s) = &m.storage_id {
        e.str("storageId")?.str(s)?;
    }
    e.str("isEphemeral")?.bool(m.is_ephemeral)?;
    Ok(())
}

#[cfg(test)]
mod tests;
