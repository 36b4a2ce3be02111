//! Lenient reading of records: a value of an unexpected type (an old app version, another
//! automerge-repo peer, a hand-edited document) must never crash the app. Each field falls back
//! to a default, the problem is reported, and the rest of the record is kept.

use automerge::{ObjId, ObjType, ReadDoc, ScalarValue, Value};

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
    fields: Option<Vec<(String, Value<'a>, ObjId)>>,
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
                (item.key.into_owned(), value, id)
            })
            .collect();
        Self { doc, obj, record: record.to_owned(), problems: Vec::new(), fields: Some(fields) }
    }

    fn value(&self, field: &str) -> Option<(Value<'a>, ObjId)> {
        if let Some(fields) = &self.fields {
            return fields.iter().find(|(k, _, _)| k == field).map(|(_, v, id)| (v.clone(), id.clone()));
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
}

fn describe(v: &Value<'_>) -> String {
    match v {
        Value::Object(t) => format!("{t:?}"),
        Value::Scalar(s) => format!("{:?}", s.as_ref()),
    }
}
