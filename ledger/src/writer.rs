//! Writing record fields so that only what changed becomes an operation.
//!
//! Written by hand rather than with autosurgeon's `Reconcile`: autosurgeon's `Text` splices at
//! UTF-8 byte offsets while automerge counts code points, which corrupts edits of Chinese text
//! (`InvalidIndex`), and reconciling a fresh `Text` replaces the text object, which would drop a
//! concurrent edit of the same note. automerge's own `update_text` diffs and splices correctly.

use automerge::{transaction::Transactable, AutoCommit, AutomergeError, ObjId, ObjType, ReadDoc, ScalarValue, Value};

pub struct FieldWriter<'a> {
    doc: &'a mut AutoCommit,
    obj: ObjId,
    /// The fields this writer actually changed, for the change note.
    pub changed: Vec<Change>,
}

/// A field an edit changed, with what it held before and holds now as stored (codes for coded
/// fields), so the record's history can say "问题标题「旧」→「新」".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub field: String,
    pub before: String,
    pub after: String,
}

impl Change {
    pub fn new(field: &str, before: String, after: String) -> Self {
        Self { field: field.to_owned(), before, after }
    }
}

/// A scalar as its change note shows it: strings without quotes, flags as true/false.
fn stored(value: &ScalarValue) -> String {
    match value {
        ScalarValue::Str(s) => s.to_string(),
        ScalarValue::Boolean(b) => b.to_string(),
        other => other.to_string(),
    }
}

impl<'a> FieldWriter<'a> {
    pub fn new(doc: &'a mut AutoCommit, obj: ObjId) -> Self {
        Self { doc, obj, changed: Vec::new() }
    }

    /// Puts a scalar unless the field already holds exactly that value without a conflict.
    /// Writing an unchanged field would needlessly conflict with another device's edit of it.
    pub fn scalar(&mut self, field: &str, value: impl Into<ScalarValue>) -> Result<(), AutomergeError> {
        let value = value.into();
        let current = self.doc.get_all(&self.obj, field)?;
        let unchanged = matches!(current.as_slice(), [(Value::Scalar(s), _)] if s.as_ref() == &value);
        if !unchanged {
            // A conflicted field shows the value Automerge shows first, as the record does.
            let before = match current.last() {
                Some((Value::Scalar(s), _)) => stored(s),
                _ => String::new(),
            };
            let after = stored(&value);
            self.doc.put(&self.obj, field, value)?;
            self.changed.push(Change::new(field, before, after));
        }
        Ok(())
    }

    /// Sets free text by diffing against the stored Text, so two people editing one note merge
    /// character by character. A field that is not Text yet (missing, or a scalar from another
    /// peer) becomes Text.
    pub fn text(&mut self, field: &str, value: &str) -> Result<(), AutomergeError> {
        match self.doc.get(&self.obj, field)? {
            Some((Value::Object(ObjType::Text), text)) => {
                let before = self.doc.text(&text)?;
                if before != value {
                    self.doc.update_text(&text, value)?;
                    self.changed.push(Change::new(field, before, value.to_owned()));
                }
            }
            other => {
                let before = match other {
                    Some((Value::Scalar(s), _)) => stored(&s),
                    _ => String::new(),
                };
                let text = self.doc.put_object(&self.obj, field, ObjType::Text)?;
                self.doc.splice_text(&text, 0, 0, value)?;
                self.changed.push(Change::new(field, before, value.to_owned()));
            }
        }
        Ok(())
    }

    /// An optional value stored as a string; None is stored as "".
    /// Sets a scalar added to the schema later: an empty value is not written into a record
    /// that never had the field (an edit that changed nothing must commit nothing).
    pub fn added_scalar(&mut self, field: &str, value: &str) -> Result<(), AutomergeError> {
        if value.is_empty() && self.doc.get(&self.obj, field)?.is_none() {
            return Ok(());
        }
        self.scalar(field, value)
    }

    pub fn optional(&mut self, field: &str, value: Option<impl ToString>) -> Result<(), AutomergeError> {
        self.scalar(field, value.map(|v| v.to_string()).unwrap_or_default())
    }

    /// Creates a nested map (a log, a list keyed by id) as part of creating its record, so two
    /// devices never race to create the same one.
    pub fn new_map(&mut self, field: &str) -> Result<ObjId, AutomergeError> {
        self.doc.put_object(&self.obj, field, ObjType::Map)
    }
}
