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
    pub changed: Vec<String>,
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
            self.doc.put(&self.obj, field, value)?;
            self.changed.push(field.to_owned());
        }
        Ok(())
    }

    /// Sets free text by diffing against the stored Text, so two people editing one note merge
    /// character by character. A field that is not Text yet (missing, or a scalar from another
    /// peer) becomes Text.
    pub fn text(&mut self, field: &str, value: &str) -> Result<(), AutomergeError> {
        match self.doc.get(&self.obj, field)? {
            Some((Value::Object(ObjType::Text), text)) => {
                if self.doc.text(&text)? != value {
                    self.doc.update_text(&text, value)?;
                    self.changed.push(field.to_owned());
                }
            }
            _ => {
                let text = self.doc.put_object(&self.obj, field, ObjType::Text)?;
                self.doc.splice_text(&text, 0, 0, value)?;
                self.changed.push(field.to_owned());
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
