//! The phone's shelf of photos (手机上的照片): which to keep, which to upload, which to clear,
//! within the space the person allows. Photos waiting for upload are never cleared to make
//! room: they exist nowhere else. Pure: the worker keeps the bytes in IndexedDB and asks here.

use std::collections::HashSet;

/// A photo the phone keeps.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Kept {
    pub hash: String,
    pub size: u64,
    /// When it was stored here (ms).
    pub added_at: i64,
    /// On the server (acknowledged durable there).
    pub uploaded: bool,
}

const MB: u64 = 1024 * 1024;
/// What the phone keeps unless the person chooses otherwise: about 1,000 photos.
pub const DEFAULT_SPACE: u64 = 300 * MB;
/// The choices the settings page offers.
pub const SPACE_CHOICES: [u64; 4] = [100 * MB, 300 * MB, 1000 * MB, 3000 * MB];
/// A photo no saved record references (its form was left, or it was taken off its record) is
/// cleared after this long: a form may stay open a while.
pub const UNREFERENCED_GRACE_MS: i64 = 24 * 3600 * 1000;

/// `bytes` in MB with one decimal (`12.3`), rounded as `format!("{:.1}", bytes as f64 / MB)`
/// rounds it, in whole numbers: the phone's page formats no other float, and float formatting
/// is 4 KB of its download.
pub fn megabytes(bytes: u64) -> String {
    let tenths = u128::from(bytes) * 10;
    let (mut whole, rest) = (tenths / u128::from(MB), tenths % u128::from(MB));
    // Half way rounds to even, as float formatting does.
    if rest * 2 > u128::from(MB) || (rest * 2 == u128::from(MB) && whole % 2 == 1) {
        whole += 1;
    }
    format!("{}.{}", whole / 10, whole % 10)
}

/// The photos to upload: referenced by a record and not yet on the server, oldest first. A
/// photo of a form not saved is not uploaded (the server would refuse it: no record names it).
pub fn to_upload<'a>(kept: &'a [Kept], referenced: &HashSet<String>) -> Vec<&'a Kept> {
    let mut waiting: Vec<&Kept> = kept.iter().filter(|k| !k.uploaded && referenced.contains(&k.hash)).collect();
    crate::order::sort_by_key(&mut waiting, |k| k.added_at);
    waiting
}

/// Photos no record has referenced for the grace: cleared whether uploaded or not.
pub fn garbage(kept: &[Kept], referenced: &HashSet<String>, now: i64) -> Vec<String> {
    kept.iter().filter(|k| !referenced.contains(&k.hash) && now - k.added_at >= UNREFERENCED_GRACE_MS).map(|k| k.hash.clone()).collect()
}

/// What to clear so that a new photo of `size` fits in `space`: garbage first, then uploaded
/// photos oldest first (the server keeps them; the phone shows them again when online). Refused,
/// in words for the cadre, when only photos waiting for upload would have to go.
pub fn make_room(kept: &[Kept], referenced: &HashSet<String>, size: u64, space: u64, now: i64) -> Result<Vec<String>, String> {
    let used: u64 = kept.iter().map(|k| k.size).sum();
    if used + size <= space {
        return Ok(Vec::new());
    }
    let rubbish: HashSet<String> = garbage(kept, referenced, now).into_iter().collect();
    let mut candidates: Vec<&Kept> = kept.iter().filter(|k| rubbish.contains(&k.hash) || (k.uploaded && referenced.contains(&k.hash))).collect();
    // Garbage before anything still shown, then the oldest.
    crate::order::sort_by_key(&mut candidates, |k| (!rubbish.contains(&k.hash), k.added_at));
    let mut freed = 0;
    let mut clear = Vec::new();
    for k in candidates {
        if used + size - freed <= space {
            break;
        }
        freed += k.size;
        clear.push(k.hash.clone());
    }
    if used + size - freed <= space {
        Ok(clear)
    } else {
        Err(format!("手机上的照片已占满设定的空间（{} MB），剩下的都是还没上传的照片，不能清理。请联网让照片上传，或在“设置”里调大照片空间。", space / MB))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn megabytes_are_written_as_float_formatting_writes_them() {
        assert_eq!(megabytes(0), "0.0");
        assert_eq!(megabytes(MB / 4), "0.2", "half way rounds to even");
        assert_eq!(megabytes(3 * MB / 4), "0.8");
        assert_eq!(megabytes(3000 * MB), "3000.0");
        for bytes in [1, 52_428, 52_429, 104_857, 104_858, 157_286, MB - 1, MB, 12_345_678, 1 << 53] {
            assert_eq!(megabytes(bytes), format!("{:.1}", bytes as f64 / MB as f64), "{bytes}");
        }
    }

    proptest::proptest! {
        // Below 2^53 bytes the float is exact, so the two must agree to the digit.
        #[test]
        fn megabytes_agree_with_float_formatting(bytes in 0u64..(1 << 53)) {
            proptest::prop_assert_eq!(megabytes(bytes), format!("{:.1}", bytes as f64 / MB as f64));
        }
    }

    fn kept(hash: &str, size: u64, added_at: i64, uploaded: bool) -> Kept {
        Kept { hash: hash.into(), size, added_at, uploaded }
    }

    fn set(hashes: &[&str]) -> HashSet<String> {
        hashes.iter().map(|h| (*h).to_owned()).collect()
    }

    #[test]
    fn only_referenced_photos_not_yet_on_the_server_are_uploaded_oldest_first() {
        let all = [kept("b", 1, 20, false), kept("a", 1, 10, false), kept("c", 1, 5, true), kept("draft", 1, 1, false)];
        let order: Vec<&str> = to_upload(&all, &set(&["a", "b", "c"])).iter().map(|k| k.hash.as_str()).collect();
        assert_eq!(order, ["a", "b"]);
    }

    #[test]
    fn unreferenced_photos_are_cleared_only_after_the_grace() {
        let all = [kept("old", 1, 0, false), kept("new", 1, UNREFERENCED_GRACE_MS, true), kept("used", 1, 0, false)];
        assert_eq!(garbage(&all, &set(&["used"]), UNREFERENCED_GRACE_MS), vec!["old".to_owned()]);
    }

    #[test]
    fn room_is_made_from_garbage_then_the_oldest_uploaded_never_from_waiting_photos() {
        let now = UNREFERENCED_GRACE_MS * 2;
        let all = [kept("waiting", 40, 0, false), kept("up-old", 20, 1, true), kept("up-new", 20, 2, true), kept("rubbish", 10, 0, true)];
        let referenced = set(&["waiting", "up-old", "up-new"]);
        assert_eq!(make_room(&all, &referenced, 10, 100, now), Ok(vec![]));
        assert_eq!(make_room(&all, &referenced, 15, 100, now), Ok(vec!["rubbish".to_owned()]));
        assert_eq!(make_room(&all, &referenced, 40, 100, now), Ok(vec!["rubbish".to_owned(), "up-old".to_owned()]));
        assert_eq!(make_room(&all, &referenced, 60, 100, now), Ok(vec!["rubbish".to_owned(), "up-old".to_owned(), "up-new".to_owned()]));
        let refused = make_room(&all, &referenced, 61, 100, now).unwrap_err();
        assert!(refused.contains("还没上传") && refused.contains("设置"), "{refused}");
    }
}
