//! A cached copy of a ledger's visit list, so a phone shows its list without waiting for the
//! whole Automerge document to load (loading 5,000 visits takes seconds on a slow phone).
//!
//! The cache is only ever a head start: the document stays the source of truth, and the list
//! is replaced by the document's own view as soon as it has loaded. A cache from an older app
//! version or a damaged one is ignored, never an error.

use serde::{Deserialize, Serialize};

use crate::Visit;

/// Bumped whenever `Visit` changes shape, so an old cache is ignored rather than misread.
const FORMAT: u32 = 1;

#[derive(Serialize, Deserialize)]
struct CachedVisits {
    format: u32,
    visits: Vec<Visit>,
}

#[derive(Serialize)]
struct CachedVisitsRef<'a> {
    format: u32,
    visits: &'a [Visit],
}

pub fn encode_visits(visits: &[Visit]) -> Vec<u8> {
    postcard::to_allocvec(&CachedVisitsRef { format: FORMAT, visits }).unwrap_or_default()
}

pub fn decode_visits(bytes: &[u8]) -> Option<Vec<Visit>> {
    let cached: CachedVisits = postcard::from_bytes(bytes).ok()?;
    (cached.format == FORMAT).then_some(cached.visits)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{UnitLedger, VisitDraft};
    use automerge::ActorId;
    use chrono::NaiveDate;

    #[test]
    fn round_trips_and_rejects_garbage() {
        let today = NaiveDate::from_ymd_opt(2026, 11, 27).unwrap();
        let mut l = UnitLedger::create(ActorId::random());
        for i in 0..3 {
            let d = VisitDraft { whom: format!("户{i}"), heard: "内容".into(), ..VisitDraft::new(today) };
            l.add_visit(&d.validate(today).unwrap(), i).unwrap();
        }
        let visits = l.visits().visits;
        let bytes = encode_visits(&visits);
        assert_eq!(decode_visits(&bytes), Some(visits));
        assert_eq!(decode_visits(b"\xff\xff garbage"), None);
        assert_eq!(decode_visits(&[]), None);
        let mut other_format = bytes.clone();
        other_format[0] = 99;
        assert_eq!(decode_visits(&other_format), None);
    }
}
