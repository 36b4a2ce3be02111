//! Posts (岗位) in the ledger.
//!
//! ```text
//! Post { title: str, holder: str, duties: Text, hours: str, published: bool,
//!        created_at: ms, updated_at: ms, deleted: bool }
//! ```
//! Only the secretary makes, edits and publishes posts: they are what the unit tells the public.

use automerge::{transaction::Transactable, AutoCommit, ObjId, ScalarValue};

use super::{LedgerError, Records, UnitLedger};
use crate::lenient::{FieldProblem, FieldReader};
use crate::post::{Post, ValidPost};
use crate::record::{Field, FieldKind as K, Section};
use crate::writer::FieldWriter;
use crate::RecordId;

/// The fields of a post (see [`Field`]).
pub const POST_FIELDS: &[Field] = &[
    Field::new("title", "岗位名称", K::Scalar),
    Field::new("holder", "责任人", K::Scalar),
    Field::new("duties", "岗位职责", K::Text),
    Field::new("hours", "服务时间", K::Scalar),
    Field::new("published", "公开", K::Flag),
];

fn read_post(doc: &AutoCommit, obj: &ObjId, id: RecordId, problems: &mut Vec<FieldProblem>) -> Post {
    let mut r = FieldReader::prefetched(doc, obj, id.as_str());
    let post = Post {
        title: r.string("title"),
        holder: r.string("holder"),
        duties: r.string("duties"),
        hours: r.string("hours"),
        published: r.bool("published"),
        conflicts: r.conflicts(POST_FIELDS),
        created_at: r.millis("created_at"),
        updated_at: r.millis("updated_at"),
        deleted: r.bool("deleted"),
        id,
    };
    problems.append(&mut r.problems);
    post
}

fn write_post(doc: &mut AutoCommit, obj: ObjId, p: &ValidPost) -> Result<Vec<crate::writer::Change>, automerge::AutomergeError> {
    let mut w = FieldWriter::new(doc, obj);
    w.scalar("title", p.title.as_str())?;
    w.scalar("holder", p.holder.as_str())?;
    w.text("duties", &p.duties)?;
    w.scalar("hours", p.hours.as_str())?;
    Ok(w.changed)
}

impl UnitLedger {
    /// Sets up a post (设岗定责), not yet published.
    pub fn add_post(&mut self, post: &ValidPost, now_ms: i64) -> Result<RecordId, LedgerError> {
        let (id, obj) = self.new_record(Section::Posts, now_ms)?;
        let mut w = FieldWriter::new(&mut self.doc, obj.clone());
        w.scalar("published", false)?;
        w.scalar("updated_at", ScalarValue::Timestamp(now_ms))?;
        write_post(&mut self.doc, obj, post)?;
        self.commit(format!("设立岗位：{}", post.title), Some((Section::Posts, id.clone())), now_ms);
        Ok(id)
    }

    pub fn update_post(&mut self, id: &RecordId, post: &ValidPost, now_ms: i64) -> Result<(), LedgerError> {
        let obj = self.record_obj(Section::Posts, id)?;
        let changed = write_post(&mut self.doc, obj.clone(), post)?;
        if !changed.is_empty() {
            self.doc.put(&obj, "updated_at", ScalarValue::Timestamp(now_ms))?;
        }
        self.commit_edit(Section::Posts, id, &changed, POST_FIELDS, now_ms);
        Ok(())
    }

    /// Publishes a post or a pledge on the public board (公开), or takes it down.
    pub fn set_published(&mut self, section: Section, id: &RecordId, published: bool, now_ms: i64) -> Result<(), LedgerError> {
        if !matches!(section, Section::Posts | Section::Pledges) {
            return Err(LedgerError::Invalid(format!("{}不在先锋广场公开", section.noun())));
        }
        let obj = self.record_obj(section, id)?;
        let mut w = FieldWriter::new(&mut self.doc, obj);
        w.scalar("published", published)?;
        w.scalar("updated_at", ScalarValue::Timestamp(now_ms))?;
        let verb = if published { "在先锋广场公开" } else { "从先锋广场撤下" };
        self.commit(format!("{verb}{}", section.noun()), Some((section, id.clone())), now_ms);
        Ok(())
    }

    pub fn post(&self, id: &RecordId) -> Result<Post, LedgerError> {
        let obj = self.record_obj(Section::Posts, id)?;
        Ok(read_post(&self.doc, &obj, id.clone(), &mut Vec::new()))
    }

    pub fn posts(&self) -> Records<Post> {
        self.read_section(Section::Posts, read_post)
    }
}
