//! The server's JSON API as types, used by both ends: the server (`sync-server`) serializes its
//! answers from them and reads its requests into them; the desk (`desk`) builds its requests
//! from them and reads the answers into them. A field renamed on one side is renamed on the
//! other. The server's integration tests read every answer through [`exactly`], so an answer
//! that is not exactly its type (a field added, renamed or missing) fails them; the desk reads
//! leniently (a field it does not know is ignored), so a desk kept offline by its service worker
//! still reads a newer server's answers. The desk's route (the view and filters in its URL's
//! hash) lives here too: pure code the native tests reach without compiling Leptos.

pub mod admin;
pub mod awards;
pub mod desk;
pub mod me;
pub mod office;
pub mod route;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

/// Reads `json` as a `T` and checks that `T` says all of it: written again, it is the same
/// JSON (no field dropped, none defaulted, none renamed). For tests of both sides.
pub fn exactly<T: Serialize + DeserializeOwned>(json: &str) -> Result<T, String> {
    let original: serde_json::Value = serde_json::from_str(json).map_err(|e| format!("not JSON: {e}"))?;
    let value: T = serde_json::from_value(original.clone()).map_err(|e| format!("not a {}: {e}", std::any::type_name::<T>()))?;
    let again = serde_json::to_value(&value).map_err(|e| e.to_string())?;
    if again != original {
        return Err(format!(
            "{} does not say all of the answer:
  answer: {original}
  as read: {again}",
            std::any::type_name::<T>()
        ));
    }
    Ok(value)
}

/// Every refusal: a code a program can match and a message a person can read (zh-CN).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Refusal {
    pub error: String,
    pub message: String,
}

/// An answer with nothing to say but that it was done.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Done {
    pub ok: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exactly_refuses_an_answer_its_type_does_not_say_all_of() {
        assert_eq!(exactly::<Refusal>(r#"{"error":"x","message":"不行"}"#), Ok(Refusal { error: "x".into(), message: "不行".into() }));
        let extra = exactly::<Refusal>(r#"{"error":"x","message":"m","rows":[]}"#).unwrap_err();
        assert!(extra.contains("does not say all"), "{extra}");
        let missing = exactly::<Refusal>(r#"{"error":"x"}"#).unwrap_err();
        assert!(missing.contains("missing field `message`"), "{missing}");
        let renamed = exactly::<me::RoleHeld>(r#"{"unit":"u","unit_name":"村","path":"p","role":"cadre","roleLabel":"干部"}"#).unwrap_err();
        assert!(renamed.contains("unitName"), "{renamed}");
    }
}
