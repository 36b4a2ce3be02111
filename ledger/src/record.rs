//! What every record type shares: the ledger's sections, conflicting values kept for a person
//! to decide, append-only log entries, and the change notes that make each record's history.

use serde::{Deserialize, Serialize};

use crate::RecordId;

/// The record maps at the root of a unit ledger.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum Section {
    Visits,
    Problems,
    Enterprises,
    Pledges,
    Surveys,
    /// 岗位 (schema version 3).
    Posts,
    /// 好差评 from the public board (schema version 3).
    Ratings,
    /// 实施方案: one per round of the campaign office (先锋办), opened by it (schema version 4).
    Plans,
    /// 制度台账 (schema version 4).
    Rules,
    /// The office's other rounds a unit answers, such as a clean-up of rules (schema version 4).
    Rounds,
    /// 通报 from the office (schema version 4).
    Notices,
}

impl Section {
    pub const ALL: [Section; 11] =
        [Self::Visits, Self::Problems, Self::Enterprises, Self::Pledges, Self::Surveys, Self::Posts, Self::Ratings, Self::Plans, Self::Rules, Self::Rounds, Self::Notices];

    /// The key of the section's map in the document.
    pub fn key(self) -> &'static str {
        match self {
            Self::Visits => "visits",
            Self::Problems => "problems",
            Self::Enterprises => "enterprises",
            Self::Pledges => "pledges",
            Self::Surveys => "surveys",
            Self::Posts => "posts",
            Self::Ratings => "ratings",
            Self::Plans => "plans",
            Self::Rules => "rules",
            Self::Rounds => "rounds",
            Self::Notices => "notices",
        }
    }

    pub fn from_key(key: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.key() == key)
    }

    /// The record type's field table.
    pub fn fields(self) -> &'static [Field] {
        use crate::unit_ledger::{
            ENTERPRISE_FIELDS, NOTICE_FIELDS, PLAN_FIELDS, PLEDGE_FIELDS, POST_FIELDS, PROBLEM_FIELDS, RATING_FIELDS, ROUND_FIELDS, RULE_FIELDS, SURVEY_FIELDS, VISIT_FIELDS,
        };
        match self {
            Self::Visits => VISIT_FIELDS,
            Self::Problems => PROBLEM_FIELDS,
            Self::Enterprises => ENTERPRISE_FIELDS,
            Self::Pledges => PLEDGE_FIELDS,
            Self::Surveys => SURVEY_FIELDS,
            Self::Posts => POST_FIELDS,
            Self::Ratings => RATING_FIELDS,
            Self::Plans => PLAN_FIELDS,
            Self::Rules => RULE_FIELDS,
            Self::Rounds => ROUND_FIELDS,
            Self::Notices => NOTICE_FIELDS,
        }
    }

    /// A stored value of one of this record type's fields as a person reads it: codes by
    /// their labels, flags as 是 / 否, an empty value as （空）.
    pub fn describe_value(self, field: &str, value: &str) -> String {
        match self {
            Self::Problems => crate::problem::describe_value(field, value),
            Self::Visits => crate::visit::describe_value(field, value),
            _ => match value {
                "true" => "是".to_owned(),
                "false" => "否".to_owned(),
                "" => "（空）".to_owned(),
                other => other.to_owned(),
            },
        }
    }

    /// The record noun, as in "修改问题".
    pub fn noun(self) -> &'static str {
        match self {
            Self::Visits => "走访",
            Self::Problems => "问题",
            Self::Enterprises => "企业",
            Self::Pledges => "承诺",
            Self::Surveys => "测评",
            Self::Posts => "岗位",
            Self::Ratings => "评价",
            Self::Plans => "实施方案",
            Self::Rules => "制度",
            Self::Rounds => "工作轮次",
            Self::Notices => "通报",
        }
    }
}

/// How a record's field is stored, which decides what two concurrent writes of it mean.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldKind {
    /// Automerge Text: concurrent edits merge character by character, never a conflict.
    Text,
    /// One plain string (a name, a phone number).
    Scalar,
    /// A code from a fixed list (status, category).
    Code,
    /// "YYYY-MM-DD".
    Date,
    /// true or false.
    Flag,
    /// The id of another record.
    Link,
    /// A map of flags (a pledge's aims): each flag merges on its own, never a conflict.
    Flags,
}

/// One field of a record type: its key in the document, its label, and its kind. Each record
/// type has one table of these; its reader lists conflicts from it, change notes and history
/// name fields from it, and the tests write every field through it, so no field can be
/// forgotten in one of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Field {
    pub key: &'static str,
    pub label: &'static str,
    pub kind: FieldKind,
}

impl Field {
    pub const fn new(key: &'static str, label: &'static str, kind: FieldKind) -> Self {
        Self { key, label, kind }
    }

    /// Whether two different values written concurrently are kept for a person to choose:
    /// every field whose value is one scalar.
    pub const fn conflicts(&self) -> bool {
        !matches!(self.kind, FieldKind::Text | FieldKind::Flags)
    }
}

/// The label of `key` in `table`, or the key itself.
pub fn field_label<'a>(table: &[Field], key: &'a str) -> &'a str {
    table.iter().find(|f| f.key == key).map_or(key, |f| f.label)
}

/// A field that two people set to different values without seeing each other's change.
/// Automerge keeps both; the app shows both until someone chooses.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Conflict {
    pub field: String,
    /// The stored values (codes for coded fields), the one Automerge would show first.
    pub values: Vec<String>,
}

/// One entry of a record's log (进展、状态变更、回访、评议): written once, never edited, kept in a
/// map keyed by random id so entries from two phones interleave by time instead of colliding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogEntry {
    pub id: RecordId,
    /// When, in ms since the epoch.
    pub at: i64,
    /// Who wrote it (the name the person gave on their device).
    pub by: String,
    /// What kind of entry, as a code the record type defines (e.g. "progress", "status").
    pub kind: String,
    pub text: String,
    /// For a status change: from and to, as status codes.
    pub from: String,
    pub to: String,
    /// Photos taken for a progress step (see [`crate::photo`]).
    #[serde(default)]
    pub photos: Vec<crate::photo::PhotoRef>,
}

/// Orders entries (log lines, evaluations, responses) by time; entries at the same
/// millisecond by id, so every device shows the same order.
pub fn sort_by_time<T>(entries: &mut [T], key: impl Fn(&T) -> (i64, &RecordId)) {
    crate::order::sort_by(entries, |a, b| key(a).cmp(&key(b)));
}

/// What a change did, written into the Automerge change message so the document's own history
/// is the audit trail: the first line is for people, the rest names the record and the author.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangeNote {
    pub summary: String,
    pub record: Option<(Section, RecordId)>,
    pub by: String,
}

impl ChangeNote {
    pub fn encode(&self) -> String {
        let mut out = self.summary.replace('\n', " ");
        if let Some((section, id)) = &self.record {
            out.push_str(&format!("\nrecord={}/{}", section.key(), id));
        }
        if !self.by.is_empty() {
            out.push_str(&format!("\nby={}", self.by.replace('\n', " ")));
        }
        out
    }

    /// Reads a change message. Messages from older versions ("新增走访 <id>") and from other
    /// peers have no record line; the id is then looked for in the text itself.
    pub fn parse(message: &str) -> Self {
        let mut lines = message.lines();
        let summary = lines.next().unwrap_or_default().to_owned();
        let mut note = ChangeNote { summary, record: None, by: String::new() };
        for line in lines {
            if let Some(rest) = line.strip_prefix("record=") {
                if let Some((section, id)) = rest.split_once('/') {
                    if let (Some(section), Some(id)) = (Section::from_key(section), RecordId::parse(id)) {
                        note.record = Some((section, id));
                    }
                }
            } else if let Some(by) = line.strip_prefix("by=") {
                note.by = by.to_owned();
            }
        }
        note
    }

    /// Whether this change touched the record `id`.
    pub fn concerns(&self, message: &str, id: &RecordId) -> bool {
        match &self.record {
            Some((_, r)) => r == id,
            None => message.contains(id.as_str()),
        }
    }
}

/// One line of a record's history (修改记录): who changed what, when, from which device.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryEntry {
    /// Seconds since the epoch, as the change recorded it.
    pub at_seconds: i64,
    pub by: String,
    pub summary: String,
    /// The first 8 hex digits of the writing actor: which device (page load) made the change.
    pub device: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn change_notes_round_trip() {
        let id = RecordId::random();
        let note = ChangeNote { summary: "修改问题：负责人".into(), record: Some((Section::Problems, id.clone())), by: "李四".into() };
        let parsed = ChangeNote::parse(&note.encode());
        assert_eq!(parsed, note);
        assert!(parsed.concerns("", &id));
        assert!(!parsed.concerns("", &RecordId::random()));
    }

    #[test]
    fn old_and_foreign_messages_still_parse() {
        let id = RecordId::random();
        let message = format!("新增走访 {id}");
        let note = ChangeNote::parse(&message);
        assert_eq!(note.summary, message);
        assert_eq!(note.record, None);
        assert!(note.concerns(&message, &id));
        // A forged record line with a bad id is ignored rather than trusted.
        let note = ChangeNote::parse("x\nrecord=problems/../../etc\nby=张三");
        assert_eq!(note.record, None);
        assert_eq!(note.by, "张三");
    }
}
