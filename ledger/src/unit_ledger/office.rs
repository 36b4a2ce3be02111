//! What the campaign office (先锋办) sends a unit besides plans: its other rounds (a clean-up of
//! rules) and its 通报. The server writes both for the office; the unit only marks a notice
//! opened.
//!
//! ```text
//! Round  { kind: code, title: str, deadline: "YYYY-MM-DD", office: str, opened_on: "YYYY-MM-DD",
//!          created_at: ms, updated_at: ms, deleted: bool }
//! Notice { title: str, body: str, office: str, published_on: "YYYY-MM-DD", opened_at: ms,
//!          created_at: ms, updated_at: ms, deleted: bool }
//! ```
//! A notice's body is one string, not Text: the office writes it once and nobody edits it,
//! and a Text would cost an operation per character.

use automerge::{transaction::Transactable, AutoCommit, ObjId, ObjType, ScalarValue};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::{LedgerError, Records, UnitLedger};
use crate::codes::coded_enum;
use crate::lenient::{FieldProblem, FieldReader};
use crate::record::{Field, FieldKind as K, Section};
use crate::writer::FieldWriter;
use crate::RecordId;

pub const MAX_TITLE: usize = 100;
pub const MAX_BODY: usize = 20_000;

coded_enum! {
    /// The office's rounds a unit answers in its ledger, besides plans (which have a section
    /// of their own) and satisfaction rounds (which are surveys).
    pub enum RoundKind {
        Cleanup = ("cleanup", "制度清理"),
    }
}

pub const ROUND_FIELDS: &[Field] = &[
    Field::new("kind", "类别", K::Code),
    Field::new("title", "名称", K::Scalar),
    Field::new("deadline", "截止日期", K::Date),
    Field::new("office", "下达单位", K::Scalar),
    Field::new("opened_on", "开始日期", K::Date),
];

pub const NOTICE_FIELDS: &[Field] =
    &[Field::new("title", "标题", K::Scalar), Field::new("body", "正文", K::Scalar), Field::new("office", "发布单位", K::Scalar), Field::new("published_on", "发布日期", K::Date)];

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OfficeRound {
    pub id: RecordId,
    pub kind: RoundKind,
    pub title: String,
    pub deadline: Option<NaiveDate>,
    pub office: String,
    pub opened_on: Option<NaiveDate>,
    pub deleted: bool,
    pub conflicts: Vec<crate::record::Conflict>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notice {
    pub id: RecordId,
    pub title: String,
    pub body: String,
    pub office: String,
    pub published_on: Option<NaiveDate>,
    /// When the unit first opened it (已阅), if it has.
    pub opened_at: Option<i64>,
    pub deleted: bool,
    pub conflicts: Vec<crate::record::Conflict>,
}

fn read_round(doc: &AutoCommit, obj: &ObjId, id: RecordId, problems: &mut Vec<FieldProblem>) -> OfficeRound {
    let mut r = FieldReader::prefetched(doc, obj, id.as_str());
    let round = OfficeRound {
        kind: r.coded("kind", RoundKind::from_code, RoundKind::Cleanup),
        title: r.string("title"),
        deadline: r.date("deadline"),
        office: r.string("office"),
        opened_on: r.date("opened_on"),
        deleted: r.bool("deleted"),
        conflicts: r.conflicts(ROUND_FIELDS),
        id,
    };
    problems.append(&mut r.problems);
    round
}

fn read_notice(doc: &AutoCommit, obj: &ObjId, id: RecordId, problems: &mut Vec<FieldProblem>) -> Notice {
    let mut r = FieldReader::prefetched(doc, obj, id.as_str());
    let opened = r.millis("opened_at");
    let notice = Notice {
        title: r.string("title"),
        body: r.string("body"),
        office: r.string("office"),
        published_on: r.date("published_on"),
        opened_at: (opened > 0).then_some(opened),
        deleted: r.bool("deleted"),
        conflicts: r.conflicts(NOTICE_FIELDS),
        id,
    };
    problems.append(&mut r.problems);
    notice
}

/// A notice as the office writes it, checked.
pub fn check_notice(title: &str, body: &str) -> Result<(), String> {
    let (title, body) = (title.trim(), body.trim());
    match () {
        _ if title.is_empty() => Err("请填写通报标题".into()),
        _ if title.chars().count() > MAX_TITLE => Err(format!("标题最多 {MAX_TITLE} 字")),
        _ if body.is_empty() => Err("请填写通报正文".into()),
        _ if body.chars().count() > MAX_BODY => Err(format!("正文最多 {MAX_BODY} 字")),
        _ => Ok(()),
    }
}

impl UnitLedger {
    /// Makes the office's record `id` in `section` unless it is there; whether it made it.
    fn office_record(&mut self, section: Section, id: &RecordId, now_ms: i64, fields: &[(&str, String)], summary: String) -> Result<bool, LedgerError> {
        if self.record_obj(section, id).is_ok() {
            return Ok(false);
        }
        let map = self.section(section)?;
        let obj = self.doc.put_object(&map, id.as_str(), ObjType::Map)?;
        self.doc.put(&obj, "created_at", ScalarValue::Timestamp(now_ms))?;
        self.doc.put(&obj, "updated_at", ScalarValue::Timestamp(now_ms))?;
        self.doc.put(&obj, "deleted", false)?;
        let mut w = FieldWriter::new(&mut self.doc, obj);
        for (key, value) in fields {
            w.scalar(key, value.as_str())?;
        }
        self.commit(summary, Some((section, id.clone())), now_ms);
        Ok(true)
    }

    /// Opens the office's round `id` in this unit's ledger; opening it again changes nothing.
    pub fn open_round(&mut self, id: &RecordId, kind: RoundKind, title: &str, deadline: NaiveDate, office: &str, today: NaiveDate, now_ms: i64) -> Result<bool, LedgerError> {
        let fields = [
            ("kind", kind.code().to_owned()),
            ("title", title.trim().to_owned()),
            ("deadline", crate::day::format(deadline)),
            ("office", office.trim().to_owned()),
            ("opened_on", crate::day::format(today)),
        ];
        self.office_record(Section::Rounds, id, now_ms, &fields, format!("下达{}：{}", kind.label(), title.trim()))
    }

    pub fn rounds(&self) -> Records<OfficeRound> {
        self.read_section(Section::Rounds, read_round)
    }

    /// Publishes the office's notice `id` to this unit; publishing it again changes nothing.
    pub fn publish_notice(&mut self, id: &RecordId, title: &str, body: &str, office: &str, today: NaiveDate, now_ms: i64) -> Result<bool, LedgerError> {
        check_notice(title, body).map_err(LedgerError::Invalid)?;
        let fields = [("title", title.trim().to_owned()), ("body", body.trim().to_owned()), ("office", office.trim().to_owned()), ("published_on", crate::day::format(today))];
        self.office_record(Section::Notices, id, now_ms, &fields, format!("通报：{}", super::note_value(title)))
    }

    pub fn notices(&self) -> Records<Notice> {
        self.read_section(Section::Notices, read_notice)
    }

    /// 已阅: the unit opened the notice. Only the first opening is written.
    pub fn open_notice(&mut self, id: &RecordId, now_ms: i64) -> Result<bool, LedgerError> {
        let obj = self.record_obj(Section::Notices, id)?;
        if read_notice(&self.doc, &obj, id.clone(), &mut Vec::new()).opened_at.is_some() {
            return Ok(false);
        }
        self.doc.put(&obj, "opened_at", ScalarValue::Timestamp(now_ms))?;
        self.doc.put(&obj, "updated_at", ScalarValue::Timestamp(now_ms))?;
        self.commit("已阅通报".into(), Some((Section::Notices, id.clone())), now_ms);
        Ok(true)
    }
}
