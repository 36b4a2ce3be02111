//! Photos and places in the ledger (see [`crate::photo`] for the layout).
//!
//! A record's `photos` map is made the first time a photo is added. Two phones adding the
//! first photo of one record offline each make one; Automerge keeps both maps as a conflict
//! and shows one, so the reader unions every concurrent map and a removal deletes the key from
//! each: no photo is hidden by the merge.

use automerge::{transaction::Transactable, AutoCommit, ObjId, ObjType, ReadDoc, ScalarValue, Value};

use super::{LedgerError, UnitLedger};
use crate::photo::{Location, LocationEdit, MediaEdit, PhotoRef, PHOTO_TYPE};
use crate::record::Section;
use crate::RecordId;

/// The sections whose records carry photos and a place.
pub const MEDIA_SECTIONS: [Section; 3] = [Section::Visits, Section::Problems, Section::Enterprises];

/// Every map stored under `key` in `obj`, the conflict's losers too.
fn maps<D: ReadDoc>(doc: &D, obj: &ObjId, key: &str) -> Vec<ObjId> {
    doc.get_all(obj, key).unwrap_or_default().into_iter().filter(|(v, _)| matches!(v, Value::Object(ObjType::Map))).map(|(_, id)| id).collect()
}

/// The photos of the record or entry `obj`, oldest first; references that cannot be read are
/// left out (nothing can be shown for them).
pub fn read_photos<D: ReadDoc>(doc: &D, obj: &ObjId) -> Vec<PhotoRef> {
    let mut photos: Vec<PhotoRef> = Vec::new();
    for map in maps(doc, obj, "photos") {
        for item in doc.map_range(&map, ..) {
            let hash = item.key.to_string();
            if photos.iter().any(|p| p.hash == hash) || !matches!(item.value, automerge::ValueRef::Object(ObjType::Map)) {
                continue;
            }
            let photo = item.id();
            let get = |key: &str| match doc.get(&photo, key) {
                Ok(Some((Value::Scalar(s), _))) => Some(s.into_owned()),
                _ => None,
            };
            let mime = match get("type") {
                Some(ScalarValue::Str(s)) => s.to_string(),
                _ => continue,
            };
            let size = match get("size") {
                Some(ScalarValue::Int(n)) => u32::try_from(n).ok(),
                Some(ScalarValue::Uint(n)) => u32::try_from(n).ok(),
                _ => None,
            };
            let taken_at = match get("taken_at") {
                Some(ScalarValue::Timestamp(t) | ScalarValue::Int(t)) => t,
                _ => 0,
            };
            let Some(size) = size else { continue };
            let p = PhotoRef { hash, mime, size, taken_at };
            if p.check().is_ok() {
                photos.push(p);
            }
        }
    }
    crate::order::sort_by(&mut photos, |a, b| (a.taken_at, &a.hash).cmp(&(b.taken_at, &b.hash)));
    photos
}

/// The place of the record `obj`, if one was recorded and can be read.
pub fn read_location<D: ReadDoc>(doc: &D, obj: &ObjId) -> Option<Location> {
    let map = match doc.get(obj, "location").ok()?? {
        (Value::Object(ObjType::Map), id) => id,
        _ => return None,
    };
    let int = |key: &str| match doc.get(&map, key).ok()?? {
        (Value::Scalar(s), _) => match s.as_ref() {
            ScalarValue::Int(n) | ScalarValue::Timestamp(n) => Some(*n),
            ScalarValue::Uint(n) => i64::try_from(*n).ok(),
            _ => None,
        },
        _ => None,
    };
    let place = Location {
        lat_e6: i32::try_from(int("lat")?).ok()?,
        lon_e6: i32::try_from(int("lon")?).ok()?,
        accuracy_m: u32::try_from(int("accuracy")?).ok()?,
        at: int("at").unwrap_or(0),
    };
    place.check().ok().map(|()| place)
}

/// Writes one photo reference into the map `photos`.
fn put_photo(doc: &mut AutoCommit, photos: &ObjId, p: &PhotoRef) -> Result<(), automerge::AutomergeError> {
    let obj = doc.put_object(photos, p.hash.as_str(), ObjType::Map)?;
    doc.put(&obj, "type", PHOTO_TYPE)?;
    doc.put(&obj, "size", ScalarValue::Int(i64::from(p.size)))?;
    doc.put(&obj, "taken_at", ScalarValue::Timestamp(p.taken_at))?;
    Ok(())
}

/// Applies `edit` to the object `obj` (a record, or an entry being made); says whether it
/// changed anything.
fn write_media(doc: &mut AutoCommit, obj: &ObjId, edit: &MediaEdit) -> Result<bool, LedgerError> {
    let current = read_photos(doc, obj);
    edit.check(&current).map_err(LedgerError::Invalid)?;
    let mut changed = false;
    for hash in &edit.remove {
        for map in maps(doc, obj, "photos") {
            if doc.get(&map, hash.as_str())?.is_some() {
                doc.delete(&map, hash.as_str())?;
                changed = true;
            }
        }
    }
    let new: Vec<&PhotoRef> = edit.add.iter().filter(|p| !current.iter().any(|c| c.hash == p.hash)).collect();
    if !new.is_empty() {
        let photos = match maps(doc, obj, "photos").into_iter().next() {
            Some(map) => map,
            None => doc.put_object(obj, "photos", ObjType::Map)?,
        };
        for p in new {
            put_photo(doc, &photos, p)?;
        }
        changed = true;
    }
    match edit.location {
        LocationEdit::Keep => {}
        LocationEdit::Set(place) => {
            if read_location(doc, obj) != Some(place) {
                let map = doc.put_object(obj, "location", ObjType::Map)?;
                doc.put(&map, "lat", ScalarValue::Int(i64::from(place.lat_e6)))?;
                doc.put(&map, "lon", ScalarValue::Int(i64::from(place.lon_e6)))?;
                doc.put(&map, "accuracy", ScalarValue::Int(i64::from(place.accuracy_m)))?;
                doc.put(&map, "at", ScalarValue::Timestamp(place.at))?;
                changed = true;
            }
        }
        LocationEdit::Clear => {
            if doc.get(obj, "location")?.is_some() {
                doc.delete(obj, "location")?;
                changed = true;
            }
        }
    }
    Ok(changed)
}

impl UnitLedger {
    /// Adds and removes photos of a record and sets or clears its place, as one change. With
    /// `entry`, the photos of one of a problem's progress steps: an entry is written once, so
    /// its photos can only be removed later (added ones come with the step).
    pub fn edit_media(&mut self, section: Section, id: &RecordId, entry: Option<&RecordId>, edit: &MediaEdit, now_ms: i64) -> Result<(), LedgerError> {
        if !MEDIA_SECTIONS.contains(&section) {
            return Err(LedgerError::Invalid("这类记录不能附照片".into()));
        }
        if edit.is_empty() {
            return Ok(());
        }
        let record = self.record_obj(section, id)?;
        let target = match entry {
            None => record.clone(),
            Some(_) if section != Section::Problems => return Err(LedgerError::NotFound),
            Some(_) if !edit.add.is_empty() || edit.location != LocationEdit::Keep => {
                return Err(LedgerError::Invalid("进展的照片只能在记录进展时添加".into()));
            }
            Some(entry) => {
                let log = self.record_map(&record, "log")?;
                match self.doc.get(&log, entry.as_str())? {
                    Some((Value::Object(ObjType::Map), obj)) => obj,
                    _ => return Err(LedgerError::NotFound),
                }
            }
        };
        if !write_media(&mut self.doc, &target, edit)? {
            return Ok(());
        }
        self.doc.put(&record, "updated_at", ScalarValue::Timestamp(now_ms))?;
        let mut what = Vec::new();
        if !edit.add.is_empty() {
            what.push(format!("添加照片 {} 张", edit.add.len()));
        }
        if !edit.remove.is_empty() {
            what.push(format!("删除照片 {} 张", edit.remove.len()));
        }
        match edit.location {
            LocationEdit::Set(_) => what.push("记录位置".to_owned()),
            LocationEdit::Clear => what.push("删除位置".to_owned()),
            LocationEdit::Keep => {}
        }
        self.commit(format!("{}：{}", section.noun(), what.join("，")), Some((section, id.clone())), now_ms);
        Ok(())
    }

    /// Posts progress to a problem's log with photos taken for it (at most
    /// [`crate::photo::MAX_PHOTOS`]), as one change.
    pub fn add_problem_progress_with_photos(&mut self, id: &RecordId, text: &str, photos: &[PhotoRef], now_ms: i64) -> Result<(), LedgerError> {
        let edit = MediaEdit { add: photos.to_vec(), ..Default::default() };
        edit.check(&[]).map_err(LedgerError::Invalid)?;
        let entry = self.post_progress_entry(Section::Problems, id, "log", text, now_ms)?;
        if !photos.is_empty() {
            write_media(&mut self.doc, &entry, &edit)?;
        }
        self.commit("记录进展".into(), Some((Section::Problems, id.clone())), now_ms);
        Ok(())
    }

    /// Every photo hash the ledger's live records reference (deleted records' too: a deleted
    /// record can be restored), with its progress steps'.
    pub fn photo_hashes(&self) -> std::collections::HashSet<String> {
        let mut out = std::collections::HashSet::new();
        for section in MEDIA_SECTIONS {
            let Ok(map) = self.section(section) else { continue };
            for (_, obj) in crate::lenient::map_records(&self.doc, &map, "photos", &mut Vec::new()) {
                out.extend(read_photos(&self.doc, &obj).into_iter().map(|p| p.hash));
                for log in maps(&self.doc, &obj, "log") {
                    for (_, entry) in crate::lenient::map_records(&self.doc, &log, "photos", &mut Vec::new()) {
                        out.extend(read_photos(&self.doc, &entry).into_iter().map(|p| p.hash));
                    }
                }
            }
        }
        out
    }
}
