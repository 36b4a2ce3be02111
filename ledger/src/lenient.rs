//! Lenient reading of records: a value of an unexpected type (an old app version, another
//! automerge-repo peer, a hand-edited document) must never crash the app. Each field falls back
//! to a default, the problem is reported, and the rest of the record is kept.

use automerge::{ObjId, ObjType, ReadDoc, ScalarValue, Value};
use chrono::NaiveDate;

use crate::record::{Conflict, LogEntry};
use crate::RecordId;

/// A field that could not be read as the schema expects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldProblem {
    /// The record's id (or the map's name for a top-level problem).
    pub record: String,
    pub field: &'static str,
    pub found: String,
}

impl std::fmt::Display for FieldProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "记录 {} 的字段 {} 无法读取（实际为 {}）", self.record, self.field, self.found)
    }
}

/// Reads the fields of one map object, collecting problems instead of failing.
pub struct FieldReader<'a, D: ReadDoc> {
    doc: &'a D,
    obj: &'a ObjId,
    record: String,
    pub problems: Vec<FieldProblem>,
    /// Each field: its key, winning value, object id (for Text and maps), and whether other
    /// concurrent values exist.
    fields: Option<Vec<(String, Value<'a>, ObjId, bool)>>,
}

impl<'a, D: ReadDoc> FieldReader<'a, D> {
    pub fn new(doc: &'a D, obj: &'a ObjId, record: &str) -> Self {
        Self { doc, obj, record: record.to_owned(), problems: Vec::new(), fields: None }
    }

    /// Reads every field of the map in one pass up front: one walk of the object instead of a
    /// lookup per field, which matters when opening thousands of records.
    pub fn prefetched(doc: &'a D, obj: &'a ObjId, record: &str) -> Self {
        let fields = doc
            .map_range(obj, ..)
            .map(|item| {
                let id = item.id();
                let value = match item.value {
                    automerge::ValueRef::Object(t) => Value::Object(t),
                    automerge::ValueRef::Scalar(s) => Value::Scalar(std::borrow::Cow::Owned(automerge::ScalarValue::from(s))),
                };
                (item.key.into_owned(), value, id, item.conflict)
            })
            .collect();
        Self { doc, obj, record: record.to_owned(), problems: Vec::new(), fields: Some(fields) }
    }

    fn value(&self, field: &str) -> Option<(Value<'a>, ObjId)> {
        if let Some(fields) = &self.fields {
            return fields.iter().find(|(k, _, _, _)| k == field).map(|(_, v, id, _)| (v.clone(), id.clone()));
        }
        self.doc.get(self.obj, field).ok().flatten()
    }

    fn problem(&mut self, field: &'static str, found: impl Into<String>) {
        self.problems.push(FieldProblem { record: self.record.clone(), field, found: found.into() });
    }

    /// Any string field: an Automerge Text object (ours for free text; JS automerge 3 for
    /// every string) or a scalar string (ours for short fields; JS `ImmutableString`).
    /// A missing field is empty.
    pub fn string(&mut self, field: &'static str) -> String {
        match self.value(field) {
            None => String::new(),
            Some((Value::Scalar(s), _)) if s.is_str() => s.as_str().unwrap_or_default().to_owned(),
            Some((Value::Object(ObjType::Text), id)) => self.doc.text(&id).unwrap_or_else(|e| {
                self.problem(field, e.to_string());
                String::new()
            }),
            Some((other, _)) => {
                self.problem(field, describe(&other));
                String::new()
            }
        }
    }

    /// A string field parsed by `parse`; an unparseable value is reported and gives None.
    pub fn parsed<T>(&mut self, field: &'static str, parse: impl FnOnce(&str) -> Option<T>) -> Option<T> {
        let reported = self.problems.len();
        let raw = self.string(field);
        let value = parse(&raw);
        if value.is_none() && self.problems.len() == reported {
            self.problem(field, format!("{raw:?}"));
        }
        value
    }

    pub fn bool(&mut self, field: &'static str) -> bool {
        match self.value(field) {
            None => false,
            Some((Value::Scalar(s), _)) => match s.as_ref() {
                ScalarValue::Boolean(b) => *b,
                other => {
                    self.problem(field, format!("{other:?}"));
                    false
                }
            },
            Some((other, _)) => {
                self.problem(field, describe(&other));
                false
            }
        }
    }

    /// Milliseconds since the epoch, from any numeric scalar (JS peers write Date as Timestamp,
    /// numbers as F64 or Int).
    pub fn millis(&mut self, field: &'static str) -> i64 {
        match self.value(field) {
            None => 0,
            Some((Value::Scalar(s), _)) => match s.as_ref() {
                ScalarValue::Int(i) | ScalarValue::Timestamp(i) => *i,
                ScalarValue::Uint(u) => i64::try_from(*u).unwrap_or(i64::MAX),
                ScalarValue::F64(f) if f.is_finite() => *f as i64,
                other => {
                    self.problem(field, format!("{other:?}"));
                    0
                }
            },
            Some((other, _)) => {
                self.problem(field, describe(&other));
                0
            }
        }
    }
    /// A coded field (category, status…); a missing or unknown code is reported and defaulted.
    pub fn coded<T>(&mut self, field: &'static str, from_code: impl FnOnce(&str) -> Option<T>, default: T) -> T {
        self.parsed(field, from_code).unwrap_or(default)
    }

    /// An optional coded field: empty or missing is None without a report.
    pub fn optional_coded<T>(&mut self, field: &'static str, from_code: impl FnOnce(&str) -> Option<T>) -> Option<T> {
        let raw = self.string(field);
        if raw.is_empty() {
            return None;
        }
        let value = from_code(&raw);
        if value.is_none() {
            self.problem(field, format!("{raw:?}"));
        }
        value
    }

    /// An optional date ("YYYY-MM-DD"); empty is None, anything else unreadable is reported.
    pub fn date(&mut self, field: &'static str) -> Option<NaiveDate> {
        self.optional_coded(field, |s| crate::day::parse(s))
    }

    /// An optional link to another record.
    pub fn link(&mut self, field: &'static str) -> Option<RecordId> {
        self.optional_coded(field, RecordId::parse)
    }

    /// Bytes (a frozen value, such as a plan's version); anything else is reported.
    pub fn bytes(&mut self, field: &'static str) -> Option<Vec<u8>> {
        match self.value(field) {
            None => None,
            Some((Value::Scalar(s), _)) if matches!(s.as_ref(), automerge::ScalarValue::Bytes(_)) => match s.into_owned() {
                automerge::ScalarValue::Bytes(b) => Some(b),
                _ => None,
            },
            Some((other, _)) => {
                self.problem(field, describe(&other));
                None
            }
        }
    }

    /// The nested map stored under `field`, if it is one.
    pub fn map(&mut self, field: &'static str) -> Option<ObjId> {
        match self.value(field) {
            None => None,
            Some((Value::Object(ObjType::Map), id)) => Some(id),
            Some((other, _)) => {
                self.problem(field, describe(&other));
                None
            }
        }
    }

    /// The photos of this record or entry (see [`crate::photo`]).
    pub fn photos(&self) -> Vec<crate::photo::PhotoRef> {
        if !self.holds("photos") {
            return Vec::new();
        }
        crate::unit_ledger::read_photos(self.doc, self.obj)
    }

    /// Whether the map may hold `field`: read from the prefetched fields when there are some,
    /// so the records without photos or a place (most) cost no lookup.
    fn holds(&self, field: &str) -> bool {
        self.fields.as_ref().is_none_or(|fields| fields.iter().any(|(k, _, _, _)| k == field))
    }

    /// The place recorded for this record, if any.
    pub fn location(&self) -> Option<crate::photo::Location> {
        if !self.holds("location") {
            return None;
        }
        crate::unit_ledger::read_location(self.doc, self.obj)
    }

    /// Every field of the table that can conflict and holds concurrent values, with all of
    /// them (as strings).
    pub fn conflicts(&self, table: &[crate::record::Field]) -> Vec<Conflict> {
        let Some(all) = &self.fields else { return Vec::new() };
        all.iter()
            .filter(|(k, _, _, conflict)| *conflict && table.iter().any(|f| f.conflicts() && f.key == k.as_str()))
            .filter_map(|(k, _, _, _)| {
                let values: Vec<String> = self.doc.get_all(self.obj, k.as_str()).ok()?.into_iter().map(|(v, _)| conflict_value(&v)).collect();
                (values.len() > 1).then(|| Conflict { field: k.clone(), values })
            })
            .collect()
    }
}

/// One of a conflict's values as stored, as a string (codes and text as they are).
pub fn conflict_value(v: &Value) -> String {
    match v {
        Value::Scalar(s) => s.as_str().map(str::to_owned).unwrap_or_else(|| s.to_string()),
        Value::Object(t) => format!("{t:?}"),
    }
}

/// The records of a map of maps keyed by record id: the pattern of every section and of every
/// log inside a record. Keys that are not ids and values that are not maps are reported.
pub fn map_records<D: ReadDoc>(doc: &D, obj: &ObjId, what: &'static str, problems: &mut Vec<FieldProblem>) -> Vec<(RecordId, ObjId)> {
    let mut out = Vec::with_capacity(doc.length(obj));
    for item in doc.map_range(obj, ..) {
        let Some(id) = RecordId::parse(&item.key) else {
            problems.push(FieldProblem { record: item.key.to_string(), field: "id", found: "invalid id".into() });
            continue;
        };
        if !matches!(item.value, automerge::ValueRef::Object(ObjType::Map)) {
            problems.push(FieldProblem { record: id.to_string(), field: what, found: format!("{:?}", item.value) });
            continue;
        }
        out.push((id, item.id()));
    }
    out
}

/// The entries of a map of maps inside a record (a log, evaluations, questions, responses),
/// each read leniently by `read`; a missing map has none.
pub fn read_entries<D: ReadDoc, T>(
    doc: &D,
    map: Option<&ObjId>,
    what: &'static str,
    problems: &mut Vec<FieldProblem>,
    read: impl Fn(&mut FieldReader<'_, D>, RecordId) -> T,
) -> Vec<T> {
    let Some(map) = map else { return Vec::new() };
    map_records(doc, map, what, problems)
        .into_iter()
        .map(|(id, obj)| {
            let mut r = FieldReader::prefetched(doc, &obj, id.as_str());
            let entry = read(&mut r, id);
            problems.append(&mut r.problems);
            entry
        })
        .collect()
}

/// The entries of a record's log, oldest first.
pub fn read_log<D: ReadDoc>(doc: &D, log: Option<&ObjId>, problems: &mut Vec<FieldProblem>) -> Vec<LogEntry> {
    let mut entries = read_entries(doc, log, "log", problems, |r, id| LogEntry {
        at: r.millis("at"),
        by: r.string("by"),
        kind: r.string("kind"),
        text: r.string("text"),
        from: r.string("from"),
        to: r.string("to"),
        photos: r.photos(),
        id,
    });
    crate::record::sort_by_time(&mut entries, |e| (e.at, &e.id));
    entries
}

fn describe(v: &Value<'_>) -> String {
    match v {
        Value::Object(t) => format!("{t:?}"),
        Value::Scalar(s) => format!("{:?}", s.as_ref()),
    }
}
