//! Photos and places on records (照片、位置), always optional and never counted: the rules
//! against formalism forbid forcing photos or tracks as proof of work.
//!
//! A record holds only references to its photos (content hash, type, size, when taken), never
//! the bytes: a document's history is permanent, and a photo must be deletable. The bytes live
//! on the phone (IndexedDB) and on the server (a content-addressed file), found by hash.
//!
//! ```text
//! record.photos: { <sha-256 hex>: { type: "image/jpeg", size: int, taken_at: ms } }
//! record.location: { lat: int (1e-6°), lon: int (1e-6°), accuracy: int (m), at: ms }
//! ```
//!
//! Photos are a map keyed by hash, so two phones adding photos to one record offline both keep
//! theirs, and a removal is the key's deletion. Forms send what they changed ([`MediaEdit`]),
//! never the whole list, so an edit never takes away a photo another phone added meanwhile.

use serde::{Deserialize, Serialize};

pub mod shelf;

/// Photos a form lets one record carry. Two phones adding offline may together leave more;
/// all are kept and shown.
pub const MAX_PHOTOS: usize = 9;
/// The longest side of a stored photo, in pixels, and the JPEG quality it is encoded at.
pub const LONGEST_SIDE: u32 = 1600;
pub const JPEG_QUALITY: f64 = 0.8;
/// A resized 1,600 px JPEG at 0.8 is 150–600 KB; anything past this was not resized by us.
pub const MAX_PHOTO_BYTES: u32 = 3 * 1024 * 1024;
/// The one type the phone stores: re-encoding drops EXIF (location, device).
pub const PHOTO_TYPE: &str = "image/jpeg";

/// Whether `s` is a photo's name: the SHA-256 of its bytes, 64 lowercase hex digits.
pub fn valid_hash(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// A photo a record references.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct PhotoRef {
    pub hash: String,
    #[serde(rename = "type")]
    pub mime: String,
    pub size: u32,
    /// When it was taken or chosen, ms since the epoch.
    pub taken_at: i64,
}

impl PhotoRef {
    /// Why this reference may not be stored, if it may not.
    pub fn check(&self) -> Result<(), String> {
        if !valid_hash(&self.hash) {
            return Err(format!("照片编号无效：{}", self.hash));
        }
        if self.mime != PHOTO_TYPE {
            return Err(format!("照片格式须为 JPEG（收到 {}）", self.mime));
        }
        if self.size == 0 || self.size > MAX_PHOTO_BYTES {
            return Err(format!("照片大小须在 1 字节到 {} MB 之间", MAX_PHOTO_BYTES / 1024 / 1024));
        }
        Ok(())
    }
}

/// Where a record was made, when the cadre tapped 记录位置 (never without that tap).
/// Degrees are kept as millionths (about 0.1 m), so the type compares exactly.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Location {
    pub lat_e6: i32,
    pub lon_e6: i32,
    /// The browser's estimate, in metres (95% confidence).
    pub accuracy_m: u32,
    pub at: i64,
}

impl Location {
    /// A place from the browser's Geolocation reading (WGS-84 degrees), or why it is not one.
    pub fn from_degrees(lat: f64, lon: f64, accuracy: f64, at: i64) -> Result<Location, String> {
        if !(lat.is_finite() && lon.is_finite() && (-90.0..=90.0).contains(&lat) && (-180.0..=180.0).contains(&lon)) {
            return Err("位置无效".into());
        }
        let accuracy = if accuracy.is_finite() && accuracy >= 0.0 { accuracy.round().min(1_000_000.0) as u32 } else { 0 };
        Ok(Location { lat_e6: (lat * 1e6).round() as i32, lon_e6: (lon * 1e6).round() as i32, accuracy_m: accuracy, at })
    }

    pub fn lat(&self) -> f64 {
        f64::from(self.lat_e6) / 1e6
    }

    pub fn lon(&self) -> f64 {
        f64::from(self.lon_e6) / 1e6
    }

    /// Why a stored place is not one, if it is not.
    pub fn check(&self) -> Result<(), String> {
        Location::from_degrees(self.lat(), self.lon(), f64::from(self.accuracy_m), self.at).map(|_| ())
    }

    /// "北纬 30.12345°，东经 120.12345°（精度约 12 米）"
    pub fn label(&self) -> String {
        let ns = if self.lat_e6 >= 0 { "北纬" } else { "南纬" };
        let ew = if self.lon_e6 >= 0 { "东经" } else { "西经" };
        let (lat, lon) = (degrees(self.lat_e6.unsigned_abs(), 5), degrees(self.lon_e6.unsigned_abs(), 5));
        format!("{ns} {lat}°，{ew} {lon}°（精度约 {} 米）", self.accuracy_m)
    }

    /// A link that opens the place in a map (高德, told the coordinates are GPS's WGS-84); no
    /// tiles are served by us.
    pub fn map_link(&self) -> String {
        let signed = |e6: i32| format!("{}{}", if e6 < 0 { "-" } else { "" }, degrees(e6.unsigned_abs(), 6));
        format!("https://uri.amap.com/marker?position={},{}&coordinate=wgs84", signed(self.lon_e6), signed(self.lat_e6))
    }
}

/// Millionths of a degree written with `places` decimals (at most 6), the last one rounded
/// half up. Whole numbers rather than `{:.5}` of a float: the phone's page formats no other
/// float, and float formatting is 4 KB of its download.
fn degrees(e6: u32, places: u32) -> String {
    let unit = 10u32.pow(6 - places);
    let scaled = (u64::from(e6) + u64::from(unit / 2)) / u64::from(unit);
    let whole = 10u64.pow(places);
    format!("{}.{:0width$}", scaled / whole, scaled % whole, width = places as usize)
}

/// What to do with a record's place.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum LocationEdit {
    #[default]
    Keep,
    Set(Location),
    Clear,
}

/// What a form changed in a record's photos and place.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MediaEdit {
    pub add: Vec<PhotoRef>,
    /// Hashes of photos taken off the record.
    pub remove: Vec<String>,
    pub location: LocationEdit,
}

impl MediaEdit {
    pub fn is_empty(&self) -> bool {
        self.add.is_empty() && self.remove.is_empty() && self.location == LocationEdit::Keep
    }

    /// Why this edit of a record holding `current` may not be made, if it may not: a bad
    /// reference, a bad place, or more than [`MAX_PHOTOS`] after it.
    pub fn check(&self, current: &[PhotoRef]) -> Result<(), String> {
        for p in &self.add {
            p.check()?;
        }
        if let LocationEdit::Set(location) = &self.location {
            location.check()?;
        }
        let mut after: Vec<&str> = current.iter().map(|p| p.hash.as_str()).filter(|h| !self.remove.iter().any(|r| r == h)).collect();
        for p in &self.add {
            if !after.contains(&p.hash.as_str()) {
                after.push(&p.hash);
            }
        }
        if after.len() > MAX_PHOTOS {
            return Err(format!("每条记录最多 {MAX_PHOTOS} 张照片"));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn photo(n: u8) -> PhotoRef {
        PhotoRef { hash: format!("{n:02x}").repeat(32), mime: PHOTO_TYPE.into(), size: 200_000, taken_at: 1_700_000_000_000 + i64::from(n) }
    }

    #[test]
    fn a_hash_is_64_lowercase_hex_digits() {
        assert!(valid_hash(&"ab".repeat(32)));
        assert!(!valid_hash(&"AB".repeat(32)));
        assert!(!valid_hash(&"ab".repeat(31)));
        assert!(!valid_hash(&format!("{}g", "a".repeat(63))));
        assert!(!valid_hash("../../etc/passwd"));
    }

    #[test]
    fn a_reference_must_be_a_resized_jpeg() {
        assert_eq!(photo(1).check(), Ok(()));
        assert!(PhotoRef { mime: "image/png".into(), ..photo(1) }.check().unwrap_err().contains("JPEG"));
        assert!(PhotoRef { size: 0, ..photo(1) }.check().is_err());
        assert!(PhotoRef { size: MAX_PHOTO_BYTES + 1, ..photo(1) }.check().is_err());
        assert!(PhotoRef { hash: "x".into(), ..photo(1) }.check().unwrap_err().contains("编号"));
    }

    #[test]
    fn nine_photos_at_most_counting_what_the_record_holds() {
        let current: Vec<PhotoRef> = (0..8).map(photo).collect();
        let one_more = MediaEdit { add: vec![photo(8)], ..Default::default() };
        assert_eq!(one_more.check(&current), Ok(()));
        let two_more = MediaEdit { add: vec![photo(8), photo(9)], ..Default::default() };
        assert!(two_more.check(&current).unwrap_err().contains('9'));
        let swap = MediaEdit { add: vec![photo(8), photo(9)], remove: vec![photo(0).hash], ..Default::default() };
        assert_eq!(swap.check(&current), Ok(()));
        // Adding a photo the record already holds adds nothing.
        let again = MediaEdit { add: vec![photo(0), photo(8)], ..Default::default() };
        assert_eq!(again.check(&current), Ok(()));
    }

    #[test]
    fn a_place_is_kept_to_a_tenth_of_a_metre_and_refused_when_impossible() {
        let p = Location::from_degrees(30.274_084_3, 120.155_070_1, 12.4, 5).unwrap();
        assert_eq!((p.lat_e6, p.lon_e6, p.accuracy_m), (30_274_084, 120_155_070, 12));
        assert_eq!(p.label(), "北纬 30.27408°，东经 120.15507°（精度约 12 米）");
        assert_eq!(p.map_link(), "https://uri.amap.com/marker?position=120.155070,30.274084&coordinate=wgs84");
        let south_west = Location { lat_e6: -33_868_820, lon_e6: -70_000_005, accuracy_m: 3, at: 5 };
        assert_eq!(south_west.label(), "南纬 33.86882°，西经 70.00001°（精度约 3 米）", "the fifth decimal rounds half up");
        assert_eq!(south_west.map_link(), "https://uri.amap.com/marker?position=-70.000005,-33.868820&coordinate=wgs84");
        let edge = Location { lat_e6: 89_999_996, lon_e6: 0, accuracy_m: 0, at: 5 };
        assert_eq!(edge.label(), "北纬 90.00000°，东经 0.00000°（精度约 0 米）");
        assert!(Location::from_degrees(91.0, 0.0, 1.0, 0).is_err());
        assert!(Location::from_degrees(f64::NAN, 0.0, 1.0, 0).is_err());
        let edit = MediaEdit { location: LocationEdit::Set(Location { lat_e6: 95_000_000, ..p }), ..Default::default() };
        assert!(edit.check(&[]).is_err());
    }
}
