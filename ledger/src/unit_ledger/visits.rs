//! Visits in the ledger.
//!
//! ```text
//! Visit { date: "YYYY-MM-DD", kind: code, whom: str, place: str, heard: Text,
//!         opinions: Text, follow_up_needed: bool, follow_up: Text, enterprise: id | "",
//!         created_at: ms, updated_at: ms, deleted: bool }
//! ```

use automerge::{AutoCommit, ObjId, ScalarValue};

use super::{LedgerError, Records, UnitLedger};
use crate::lenient::{FieldProblem, FieldReader};
use crate::record::Section;
use crate::record::{Field, FieldKind as K};
use crate::visit::{ValidVisit, Visit, VisitKind};
use crate::writer::FieldWriter;
use crate::RecordId;

/// The fields of a visit (see [`Field`]).
pub const VISIT_FIELDS: &[Field] = &[
    Field::new("date", "日期", K::Date),
    Field::new("kind", "类型", K::Code),
    Field::new("whom", "走访对象", K::Scalar),
    Field::new("place", "地点", K::Scalar),
    Field::new("heard", "走访情况", K::Text),
    Field::new("opinions", "意见建议", K::Text),
    Field::new("follow_up_needed", "是否跟进", K::Flag),
    Field::new("follow_up", "跟进事项", K::Text),
    Field::new("enterprise", "企业", K::Link),
];

/// All visits of a ledger, plus every field that could not be read.
#[derive(Debug, Default)]
pub struct Visits {
    pub visits: Vec<Visit>,
    pub problems: Vec<FieldProblem>,
}

/// Reads a stored visit leniently: every field that cannot be read is reported and defaulted.
fn read_visit(doc: &AutoCommit, obj: &ObjId, id: RecordId, problems: &mut Vec<FieldProblem>) -> Visit {
    let mut r = FieldReader::prefetched(doc, obj, id.as_str());
    let date = r.parsed("date", |s| crate::day::parse(s));
    let visit = Visit {
        id,
        date,
        kind: r.coded("kind", VisitKind::from_code, VisitKind::Other),
        whom: r.string("whom"),
        place: r.string("place"),
        heard: r.string("heard"),
        opinions: r.string("opinions"),
        follow_up_needed: r.bool("follow_up_needed"),
        follow_up: r.string("follow_up"),
        enterprise_id: r.link("enterprise"),
        photos: r.photos(),
        location: r.location(),
        conflicts: r.conflicts(VISIT_FIELDS),
        created_at: r.millis("created_at"),
        updated_at: r.millis("updated_at"),
        deleted: r.bool("deleted"),
    };
    problems.append(&mut r.problems);
    visit
}

/// Writes a validated visit's fields; unchanged fields add no operation.
fn write_visit(doc: &mut AutoCommit, obj: ObjId, v: &ValidVisit, now_ms: i64) -> Result<Vec<crate::writer::Change>, automerge::AutomergeError> {
    let mut w = FieldWriter::new(doc, obj);
    w.scalar("date", v.date.to_string())?;
    w.scalar("kind", v.kind.code())?;
    w.scalar("whom", v.whom.as_str())?;
    w.scalar("place", v.place.as_str())?;
    w.text("heard", &v.heard)?;
    w.text("opinions", &v.opinions)?;
    w.scalar("follow_up_needed", v.follow_up_needed)?;
    w.text("follow_up", &v.follow_up)?;
    w.optional("enterprise", v.enterprise_id.as_ref())?;
    if !w.changed.is_empty() {
        w.scalar("updated_at", ScalarValue::Timestamp(now_ms))?;
    }
    Ok(w.changed)
}

impl UnitLedger {
    /// Adds a visit and returns its new id.
    pub fn add_visit(&mut self, visit: &ValidVisit, now_ms: i64) -> Result<RecordId, LedgerError> {
        let (id, obj) = self.new_record(Section::Visits, now_ms)?;
        write_visit(&mut self.doc, obj, visit, now_ms)?;
        self.commit(format!("新增走访：{}", visit.whom), Some((Section::Visits, id.clone())), now_ms);
        Ok(id)
    }

    /// Replaces a visit's fields with the edited ones; unchanged fields are left untouched, so
    /// they cannot clobber a concurrent edit made on another device.
    pub fn update_visit(&mut self, id: &RecordId, visit: &ValidVisit, now_ms: i64) -> Result<(), LedgerError> {
        let obj = self.record_obj(Section::Visits, id)?;
        let changed = write_visit(&mut self.doc, obj, visit, now_ms)?;
        self.commit_edit(Section::Visits, id, &changed, VISIT_FIELDS, now_ms);
        Ok(())
    }

    /// One visit, deleted or not.
    pub fn visit(&self, id: &RecordId) -> Result<Visit, LedgerError> {
        let obj = self.record_obj(Section::Visits, id)?;
        Ok(read_visit(&self.doc, &obj, id.clone(), &mut Vec::new()))
    }

    /// Every visit in the ledger, including deleted ones (filters decide what to show).
    pub fn visits(&self) -> Visits {
        let Records { records, problems } = self.read_section(Section::Visits, read_visit);
        Visits { visits: records, problems }
    }
}
