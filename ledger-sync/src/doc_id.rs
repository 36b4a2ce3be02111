//! Document ids: 16 random bytes, written bs58check-encoded, shown as `automerge:<id>`.

use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DocumentId([u8; 16]);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DocumentIdError {
    #[error("document id is not valid base58check")]
    Encoding,
    #[error("document id must be 16 bytes, found {0}")]
    Length(usize),
}

impl DocumentId {
    pub fn random() -> Self {
        let mut bytes = [0u8; 16];
        getrandom::fill(&mut bytes).expect("the platform has no random source");
        Self(bytes)
    }

    pub const fn from_bytes(bytes: [u8; 16]) -> Self {
        Self(bytes)
    }

    pub fn as_bytes(&self) -> &[u8; 16] {
        &self.0
    }

    /// Parses the bs58check form, with or without the `automerge:` prefix.
    pub fn parse(s: &str) -> Result<Self, DocumentIdError> {
        let s = s.strip_prefix("automerge:").unwrap_or(s);
        // 16 bytes plus a 4-byte checksum is at most 28 base58 characters.
        if s.is_empty() || s.len() > 32 {
            return Err(DocumentIdError::Encoding);
        }
        let bytes = bs58::decode(s).with_check(None).into_vec().map_err(|_| DocumentIdError::Encoding)?;
        let bytes: [u8; 16] = bytes.as_slice().try_into().map_err(|_| DocumentIdError::Length(bytes.len()))?;
        Ok(Self(bytes))
    }

    pub fn url(&self) -> String {
        format!("automerge:{self}")
    }
}

impl fmt::Display for DocumentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&bs58::encode(self.0).with_check().into_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_through_text_and_url() {
        let id = DocumentId::random();
        assert_eq!(DocumentId::parse(&id.to_string()), Ok(id));
        assert_eq!(DocumentId::parse(&id.url()), Ok(id));
        assert!(id.url().starts_with("automerge:"));
    }

    #[test]
    fn matches_automerge_repo() {
        // What automerge-repo 2.5's stringifyAutomergeUrl gives for the bytes 0x00..0x0f.
        let id = DocumentId::from_bytes(core::array::from_fn(|i| i as u8));
        assert_eq!(id.url(), "automerge:1Bhh3pU9gLXZiNDL6PEa1Gs9fh");
        assert_eq!(DocumentId::parse("automerge:1Bhh3pU9gLXZiNDL6PEa1Gs9fh"), Ok(id));
    }

    #[test]
    fn rejects_bad_ids() {
        let id = DocumentId::random().to_string();
        let mut corrupted = id.clone().into_bytes();
        corrupted[3] = if corrupted[3] == b'2' { b'3' } else { b'2' };
        assert_eq!(DocumentId::parse(std::str::from_utf8(&corrupted).unwrap()), Err(DocumentIdError::Encoding));
        assert_eq!(DocumentId::parse(""), Err(DocumentIdError::Encoding));
        assert_eq!(DocumentId::parse("0OIl"), Err(DocumentIdError::Encoding));
        assert_eq!(DocumentId::parse(&"z".repeat(100)), Err(DocumentIdError::Encoding));
        let short = bs58::encode([1u8; 8]).with_check().into_string();
        assert_eq!(DocumentId::parse(&short), Err(DocumentIdError::Length(8)));
    }
}
