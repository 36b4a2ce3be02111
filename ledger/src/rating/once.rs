//! One-time rating codes (一事一评): at the end of a visit, or when a problem is closed, the
//! cadre's phone shows a QR code for the resident to rate that piece of work. The phone makes
//! it offline and signs it with a key the server gave its device; the server checks the
//! signature against the device's key (so a code names truthfully which device, and so which
//! cadre, made it) and takes one rating per code.
//!
//! A code is text safe in a URL path: `unit.kind.record.device.issued.signature`, the
//! signature the first 16 bytes of HMAC-SHA256 over everything before it, in hex.

use hmac::{Mac, SimpleHmac};
use sha2::Sha256;

use super::Target;
use crate::RecordId;

/// How long a code may be used after the phone made it.
pub const VALID_FOR_SECS: i64 = 30 * 86_400;
/// The longest code accepted (a URL path segment; the parts are ids and a number).
pub const MAX_LEN: usize = 200;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OnceCode {
    /// The unit whose ledger holds the record.
    pub unit: String,
    /// [`Target::Visit`] or [`Target::Problem`].
    pub target: Target,
    pub id: RecordId,
    /// The device that made it (its key signs it).
    pub device: String,
    /// Seconds since 1970 on the phone's clock.
    pub issued: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeError {
    /// Not a code at all, or a part that is not what it should be.
    Malformed,
    /// The signature is not the device's (forged, or the device's key changed).
    Forged,
    /// Made too long ago (or, by more than a day, in the future).
    Expired,
}

impl CodeError {
    pub fn message(self) -> &'static str {
        match self {
            Self::Malformed | Self::Forged => "这个评价码无效",
            Self::Expired => "这个评价码已过期",
        }
    }
}

fn kind_letter(target: Target) -> Option<char> {
    match target {
        Target::Visit => Some('v'),
        Target::Problem => Some('p'),
        Target::Post | Target::Pledge => None,
    }
}

fn is_id_part(part: &str) -> bool {
    !part.is_empty() && part.len() <= 64 && part.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

fn signature(key: &[u8], body: &str) -> String {
    let mut mac = <SimpleHmac<Sha256> as Mac>::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(body.as_bytes());
    mac.finalize().into_bytes()[..16].iter().map(|b| format!("{b:02x}")).collect()
}

impl OnceCode {
    /// The code's text, signed with the device's `key`; None for a target that has no
    /// one-time code (posts and pledges are rated from their posters).
    pub fn signed(&self, key: &[u8]) -> Option<String> {
        let body = format!("{}.{}.{}.{}.{}", self.unit, kind_letter(self.target)?, self.id, self.device, self.issued);
        let sig = signature(key, &body);
        Some(format!("{body}.{sig}"))
    }

    /// Reads a code without checking its signature: which device's key to check it with.
    pub fn read(code: &str) -> Result<Self, CodeError> {
        if code.len() > MAX_LEN {
            return Err(CodeError::Malformed);
        }
        let parts: Vec<&str> = code.split('.').collect();
        let [unit, kind, id, device, issued, sig] = parts.as_slice() else { return Err(CodeError::Malformed) };
        let target = match *kind {
            "v" => Target::Visit,
            "p" => Target::Problem,
            _ => return Err(CodeError::Malformed),
        };
        if !is_id_part(unit) || !is_id_part(device) || sig.len() != 32 || !sig.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(CodeError::Malformed);
        }
        let id = RecordId::parse(id).ok_or(CodeError::Malformed)?;
        let issued = issued.parse().map_err(|_| CodeError::Malformed)?;
        Ok(Self { unit: (*unit).to_owned(), target, id, device: (*device).to_owned(), issued })
    }

    /// Reads and checks a code: signed with `key` (the device's), and within its time at
    /// `now_secs`. The signature is compared in constant time.
    pub fn check(code: &str, key: &[u8], now_secs: i64) -> Result<Self, CodeError> {
        let read = Self::read(code)?;
        let (body, sig) = code.rsplit_once('.').ok_or(CodeError::Malformed)?;
        let mut mac = <SimpleHmac<Sha256> as Mac>::new_from_slice(key).expect("HMAC takes any key length");
        mac.update(body.as_bytes());
        let sig: Vec<u8> = (0..16).filter_map(|i| u8::from_str_radix(&sig[2 * i..2 * i + 2], 16).ok()).collect();
        mac.verify_truncated_left(&sig).map_err(|_| CodeError::Forged)?;
        if now_secs - read.issued > VALID_FOR_SECS || read.issued - now_secs > 86_400 {
            return Err(CodeError::Expired);
        }
        Ok(read)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_796_000_000;

    fn code() -> OnceCode {
        OnceCode { unit: "u7Fq2".into(), target: Target::Visit, id: RecordId::random(), device: "d-9Kx".into(), issued: NOW }
    }

    #[test]
    fn a_signed_code_checks_with_its_key_and_no_other() {
        let (key, other) = ([7u8; 32], [8u8; 32]);
        let c = code();
        let text = c.signed(&key).unwrap();
        assert!(text.len() <= MAX_LEN, "{text}");
        assert_eq!(OnceCode::check(&text, &key, NOW + 3_600), Ok(c.clone()));
        assert_eq!(OnceCode::check(&text, &other, NOW), Err(CodeError::Forged));
        // Any part changed, the signature kept: forged.
        let changed = text.replacen(".v.", ".p.", 1);
        assert_eq!(OnceCode::check(&changed, &key, NOW), Err(CodeError::Forged));
        let later = text.replacen(&NOW.to_string(), &(NOW + 1).to_string(), 1);
        assert_eq!(OnceCode::check(&later, &key, NOW), Err(CodeError::Forged));
        let mut flipped = text.clone();
        let last = if flipped.ends_with('0') { "1" } else { "0" };
        flipped.replace_range(flipped.len() - 1.., last);
        assert_eq!(OnceCode::check(&flipped, &key, NOW), Err(CodeError::Forged));
        assert_eq!(OnceCode::check(&text, &key, NOW + VALID_FOR_SECS + 1), Err(CodeError::Expired));
        assert_eq!(OnceCode::check(&text, &key, NOW - 2 * 86_400), Err(CodeError::Expired), "made in the future");
    }

    #[test]
    fn posts_and_pledges_have_no_one_time_code_and_garbage_is_malformed() {
        assert_eq!(OnceCode { target: Target::Post, ..code() }.signed(&[1]), None);
        for bad in ["", "a.b.c", "u.x.abc.d.1.00000000000000000000000000000000", "u..r.d.1.sig", &"a".repeat(MAX_LEN + 1), "u.v.!!.d.1.00000000000000000000000000000000"] {
            assert_eq!(OnceCode::check(bad, &[1], NOW), Err(CodeError::Malformed), "{bad}");
        }
    }
}
