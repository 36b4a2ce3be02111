//! Random record ids: the keys of every record map, so concurrent additions never collide.

use std::fmt;

/// A record's id: 16 random bytes as 32 lowercase hex digits.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
pub struct RecordId(String);

impl RecordId {
    pub fn random() -> Self {
        let mut bytes = [0u8; 16];
        getrandom::fill(&mut bytes).expect("the platform has no random source");
        Self(bytes.iter().map(|b| format!("{b:02x}")).collect())
    }

    /// Accepts only what [`RecordId::random`] makes, so an id from a URL or a document
    /// cannot smuggle anything else into a map key.
    pub fn parse(s: &str) -> Option<Self> {
        let ok = s.len() == 32 && s.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
        ok.then(|| Self(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for RecordId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn random_ids_parse_and_differ() {
        let a = RecordId::random();
        let b = RecordId::random();
        assert_ne!(a, b);
        assert_eq!(RecordId::parse(a.as_str()), Some(a));
    }

    #[test]
    fn parse_rejects_anything_else() {
        for bad in ["", "xyz", "0123456789abcdef0123456789ABCDEF", "0123456789abcdef0123456789abcde", "../0123456789abcdef0123456789abc"] {
            assert_eq!(RecordId::parse(bad), None, "{bad}");
        }
    }
}
