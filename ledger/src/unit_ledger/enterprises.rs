//! Served enterprises in the ledger.
//!
//! ```text
//! Enterprise { name: str, credit_code: str, industry: str, contact: str, phone: str,
//!              address: str, created_at: ms, updated_at: ms, deleted: bool }
//! ```

use automerge::{AutoCommit, ObjId, ScalarValue};

use super::{LedgerError, Records, UnitLedger};
use crate::enterprise::{Enterprise, ValidEnterprise};
use crate::lenient::{FieldProblem, FieldReader};
use crate::record::Section;
use crate::record::{Field, FieldKind as K};
use crate::writer::FieldWriter;
use crate::RecordId;

/// The fields of an enterprise (see [`Field`]).
pub const ENTERPRISE_FIELDS: &[Field] = &[
    Field::new("name", "企业名称", K::Scalar),
    Field::new("credit_code", "统一社会信用代码", K::Scalar),
    Field::new("industry", "所属行业", K::Scalar),
    Field::new("contact", "联系人", K::Scalar),
    Field::new("phone", "联系电话", K::Scalar),
    Field::new("address", "地址", K::Scalar),
];

fn read_enterprise(doc: &AutoCommit, obj: &ObjId, id: RecordId, problems: &mut Vec<FieldProblem>) -> Enterprise {
    let mut r = FieldReader::prefetched(doc, obj, id.as_str());
    let enterprise = Enterprise {
        name: r.string("name"),
        credit_code: r.string("credit_code"),
        industry: r.string("industry"),
        contact: r.string("contact"),
        phone: r.string("phone"),
        address: r.string("address"),
        photos: r.photos(),
        location: r.location(),
        conflicts: r.conflicts(ENTERPRISE_FIELDS),
        created_at: r.millis("created_at"),
        updated_at: r.millis("updated_at"),
        deleted: r.bool("deleted"),
        id,
    };
    problems.append(&mut r.problems);
    enterprise
}

fn write_enterprise(doc: &mut AutoCommit, obj: ObjId, e: &ValidEnterprise, now_ms: i64) -> Result<Vec<crate::writer::Change>, automerge::AutomergeError> {
    let mut w = FieldWriter::new(doc, obj);
    w.scalar("name", e.name.as_str())?;
    w.scalar("credit_code", e.credit_code.as_str())?;
    w.scalar("industry", e.industry.as_str())?;
    w.scalar("contact", e.contact.as_str())?;
    w.scalar("phone", e.phone.as_str())?;
    w.scalar("address", e.address.as_str())?;
    if !w.changed.is_empty() {
        w.scalar("updated_at", ScalarValue::Timestamp(now_ms))?;
    }
    Ok(w.changed)
}

impl UnitLedger {
    /// Adds a served enterprise. Its credit code must not already be in the ledger.
    pub fn add_enterprise(&mut self, enterprise: &ValidEnterprise, now_ms: i64) -> Result<RecordId, LedgerError> {
        self.check_unique_code(None, &enterprise.credit_code)?;
        let (id, obj) = self.new_record(Section::Enterprises, now_ms)?;
        write_enterprise(&mut self.doc, obj, enterprise, now_ms)?;
        self.commit(format!("新增企业：{}", enterprise.name), Some((Section::Enterprises, id.clone())), now_ms);
        Ok(id)
    }

    pub fn update_enterprise(&mut self, id: &RecordId, enterprise: &ValidEnterprise, now_ms: i64) -> Result<(), LedgerError> {
        self.check_unique_code(Some(id), &enterprise.credit_code)?;
        let obj = self.record_obj(Section::Enterprises, id)?;
        let changed = write_enterprise(&mut self.doc, obj, enterprise, now_ms)?;
        self.commit_edit(Section::Enterprises, id, &changed, ENTERPRISE_FIELDS, now_ms);
        Ok(())
    }

    fn check_unique_code(&self, except: Option<&RecordId>, code: &str) -> Result<(), LedgerError> {
        let taken = self.enterprises().records.into_iter().find(|e| !e.deleted && e.credit_code == code && Some(&e.id) != except);
        match taken {
            Some(e) => Err(LedgerError::Invalid(format!("信用代码 {code} 已登记为“{}”", e.name))),
            None => Ok(()),
        }
    }

    pub fn enterprise(&self, id: &RecordId) -> Result<Enterprise, LedgerError> {
        let obj = self.record_obj(Section::Enterprises, id)?;
        Ok(read_enterprise(&self.doc, &obj, id.clone(), &mut Vec::new()))
    }

    pub fn enterprises(&self) -> Records<Enterprise> {
        self.read_section(Section::Enterprises, read_enterprise)
    }
}
