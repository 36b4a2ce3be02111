//! 实施方案 in the ledger: one record per round of the campaign office, under the round's id.
//!
//! ```text
//! Plan { title: str, deadline: "YYYY-MM-DD", office: str,          (the office's, at opening)
//!        goals: Text, requirements: Text, leader: str, liaison: str,  (the draft: the secretary's)
//!        carriers: { id: { aim: code, text: str, at: ms, deleted: bool } },
//!        stages:   { id: { text: str, from: date, to: date, at: ms, deleted: bool } },
//!        tasks:    { id: { what: str, who: str, due: date, at: ms, deleted: bool } },
//!        submissions: { id: { at, by, content: bytes } },             (报送, the secretary's)
//!        reviews: { id: { at, by, submission: id, verdict: code, opinion: str,
//!                         on_goals … on_tasks: str } },                (审核, the office's)
//!        follow: { id: { at, by, task: id, done: bool, text: str } },  (任务跟进, the unit's)
//!        created_at: ms, updated_at: ms, deleted: bool }
//! ```
//! The server makes the record for the office when the round opens, so two phones never start
//! two plans for one round. The draft's lists are items keyed by id, each field merging on its
//! own: two phones adding tasks offline keep both. A version is the whole content frozen in one
//! value ([`PlanContent::encode`]), since it is never edited.

use automerge::{transaction::Transactable, AutoCommit, ObjId, ObjType, ScalarValue};
use chrono::NaiveDate;

use super::{entry_text, LedgerError, Records, UnitLedger};
use crate::lenient::{map_records, read_entries, FieldProblem, FieldReader};
use crate::plan::{Carrier, Plan, PlanContent, PlanPart, PlanTask, Review, ReviewVerdict, Stage, Submission, TaskStep, MAX_NOTE, MAX_OPINION};
use crate::pledge::Aim;
use crate::record::{sort_by_time, Field, FieldKind as K, Section};
use crate::writer::FieldWriter;
use crate::RecordId;

/// The fields of a plan (see [`Field`]).
pub const PLAN_FIELDS: &[Field] = &[
    Field::new("title", "方案名称", K::Scalar),
    Field::new("deadline", "报送截止", K::Date),
    Field::new("office", "下达单位", K::Scalar),
    Field::new("goals", "目标任务", K::Text),
    Field::new("requirements", "工作要求", K::Text),
    Field::new("leader", "负责人", K::Scalar),
    Field::new("liaison", "联络员", K::Scalar),
];

/// The key of a review's opinion on one part.
pub fn part_key(part: PlanPart) -> &'static str {
    match part {
        PlanPart::Goals => "on_goals",
        PlanPart::Carriers => "on_carriers",
        PlanPart::Steps => "on_steps",
        PlanPart::Leadership => "on_leadership",
        PlanPart::Requirements => "on_requirements",
        PlanPart::Tasks => "on_tasks",
    }
}

/// The draft's lists, each a map of items.
pub const ITEM_LISTS: [&str; 3] = ["carriers", "stages", "tasks"];

/// The items of one of the draft's lists that are not deleted, oldest first.
fn read_items<T>(
    doc: &AutoCommit,
    map: Option<&ObjId>,
    what: &'static str,
    problems: &mut Vec<FieldProblem>,
    read: impl Fn(&mut FieldReader<'_, AutoCommit>, RecordId) -> T,
) -> Vec<T> {
    let mut items: Vec<(i64, RecordId, bool, T)> = read_entries(doc, map, what, problems, |r, id| {
        let (at, deleted) = (r.millis("at"), r.bool("deleted"));
        (at, id.clone(), deleted, read(r, id))
    });
    crate::order::sort_by(&mut items, |a, b| (a.0, &a.1).cmp(&(b.0, &b.1)));
    items.into_iter().filter(|i| !i.2).map(|i| i.3).collect()
}

fn read_plan(doc: &AutoCommit, obj: &ObjId, id: RecordId, problems: &mut Vec<FieldProblem>) -> Plan {
    let mut r = FieldReader::prefetched(doc, obj, id.as_str());
    let [carriers, stages, tasks] = ITEM_LISTS.map(|k| r.map(k));
    let (submissions_obj, reviews_obj, follow_obj) = (r.map("submissions"), r.map("reviews"), r.map("follow"));
    let draft = PlanContent {
        goals: r.string("goals"),
        carriers: read_items(doc, carriers.as_ref(), "carrier", problems, |ir, id| Carrier { aim: ir.coded("aim", Aim::from_code, Aim::ServiceLead), text: ir.string("text"), id }),
        stages: read_items(doc, stages.as_ref(), "stage", problems, |ir, id| Stage { text: ir.string("text"), from: ir.date("from"), to: ir.date("to"), id }),
        leader: r.string("leader"),
        liaison: r.string("liaison"),
        requirements: r.string("requirements"),
        tasks: read_items(doc, tasks.as_ref(), "task", problems, |ir, id| PlanTask { what: ir.string("what"), who: ir.string("who"), due: ir.date("due"), id }),
    };
    // A version that cannot be read (damaged, or a layout this build does not know) is left
    // out and reported, never shown as an empty plan.
    let mut submissions: Vec<Submission> = read_entries(doc, submissions_obj.as_ref(), "submission", problems, |sr, id| {
        let content = match sr.bytes("content").as_deref().map(PlanContent::decode) {
            Some(Some(content)) => Some(content),
            _ => None,
        };
        content.map(|content| Submission { at: sr.millis("at"), by: sr.string("by"), content, id })
    })
    .into_iter()
    .flatten()
    .collect();
    sort_by_time(&mut submissions, |s| (s.at, &s.id));
    let mut reviews = read_entries(doc, reviews_obj.as_ref(), "review", problems, |rr, id| {
        let verdict = rr.optional_coded("verdict", ReviewVerdict::from_code);
        let submission = rr.link("submission");
        let parts = PlanPart::ALL.iter().map(|p| (*p, rr.string(part_key(*p)))).filter(|(_, t)| !t.is_empty()).collect();
        match (verdict, submission) {
            (Some(verdict), Some(submission)) => Some(Review { at: rr.millis("at"), by: rr.string("by"), submission, verdict, opinion: rr.string("opinion"), parts, id }),
            _ => None,
        }
    })
    .into_iter()
    .flatten()
    .collect::<Vec<_>>();
    sort_by_time(&mut reviews, |r| (r.at, &r.id));
    let mut follow = read_entries(doc, follow_obj.as_ref(), "follow", problems, |fr, id| {
        fr.link("task").map(|task| TaskStep { at: fr.millis("at"), by: fr.string("by"), task, done: fr.bool("done"), text: fr.string("text"), id })
    })
    .into_iter()
    .flatten()
    .collect::<Vec<_>>();
    sort_by_time(&mut follow, |s| (s.at, &s.id));
    let plan = Plan {
        title: r.string("title"),
        deadline: r.date("deadline"),
        office: r.string("office"),
        draft,
        submissions,
        reviews,
        follow,
        conflicts: r.conflicts(PLAN_FIELDS),
        created_at: r.millis("created_at"),
        updated_at: r.millis("updated_at"),
        id,
    };
    problems.append(&mut r.problems);
    plan
}

/// What the office writes when it opens a plan round.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanRound<'a> {
    pub title: &'a str,
    pub deadline: NaiveDate,
    pub office: &'a str,
}

impl UnitLedger {
    /// Opens the office's plan round `id` in this unit's ledger (the server does, for the office).
    /// Opening it again changes nothing.
    pub fn open_plan(&mut self, id: &RecordId, round: &PlanRound<'_>, now_ms: i64) -> Result<bool, LedgerError> {
        if self.record_obj(Section::Plans, id).is_ok() {
            return Ok(false);
        }
        let map = self.section(Section::Plans)?;
        let obj = self.doc.put_object(&map, id.as_str(), ObjType::Map)?;
        self.doc.put(&obj, "created_at", ScalarValue::Timestamp(now_ms))?;
        self.doc.put(&obj, "updated_at", ScalarValue::Timestamp(now_ms))?;
        self.doc.put(&obj, "deleted", false)?;
        for field in PLAN_FIELDS.iter().filter(|f| f.kind == K::Text) {
            self.doc.put_object(&obj, field.key, ObjType::Text)?;
        }
        for list in ITEM_LISTS.iter().chain(&["submissions", "reviews", "follow"]) {
            self.doc.put_object(&obj, *list, ObjType::Map)?;
        }
        let mut w = FieldWriter::new(&mut self.doc, obj);
        w.scalar("title", round.title.trim())?;
        w.scalar("deadline", crate::day::format(round.deadline))?;
        w.scalar("office", round.office.trim())?;
        self.commit(format!("下达实施方案：{}", round.title.trim()), Some((Section::Plans, id.clone())), now_ms);
        Ok(true)
    }

    pub fn plan(&self, id: &RecordId) -> Result<Plan, LedgerError> {
        let obj = self.record_obj(Section::Plans, id)?;
        Ok(read_plan(&self.doc, &obj, id.clone(), &mut Vec::new()))
    }

    pub fn plans(&self) -> Records<Plan> {
        self.read_section(Section::Plans, read_plan)
    }

    /// Saves the draft as `content` says, writing only what differs: items whose id is new are
    /// added, items no longer listed are marked deleted. Refused while the office holds a version.
    pub fn save_plan_draft(&mut self, id: &RecordId, content: &PlanContent, now_ms: i64) -> Result<(), LedgerError> {
        let plan = self.plan(id)?;
        if !plan.may_edit() {
            return Err(LedgerError::Invalid(LOCKED.into()));
        }
        content.check_sizes().map_err(|e| LedgerError::Invalid(e.messages().join("；")))?;
        let obj = self.record_obj(Section::Plans, id)?;
        let mut w = FieldWriter::new(&mut self.doc, obj.clone());
        w.text("goals", content.goals.trim())?;
        w.text("requirements", content.requirements.trim())?;
        w.scalar("leader", content.leader.trim())?;
        w.scalar("liaison", content.liaison.trim())?;
        let mut changed = w.changed;
        let lists: [(&str, Vec<(RecordId, Vec<(&str, String)>)>); 3] = [
            ("carriers", content.carriers.iter().map(|c| (c.id.clone(), vec![("aim", c.aim.code().to_owned()), ("text", c.text.trim().to_owned())])).collect()),
            (
                "stages",
                content
                    .stages
                    .iter()
                    .map(|s| (s.id.clone(), vec![("text", s.text.trim().to_owned()), ("from", crate::day::format_or_empty(s.from)), ("to", crate::day::format_or_empty(s.to))]))
                    .collect(),
            ),
            (
                "tasks",
                content
                    .tasks
                    .iter()
                    .map(|t| (t.id.clone(), vec![("what", t.what.trim().to_owned()), ("who", t.who.trim().to_owned()), ("due", crate::day::format_or_empty(t.due))]))
                    .collect(),
            ),
        ];
        for (order, (list, items)) in lists.into_iter().enumerate() {
            let map = self.record_map(&obj, ITEM_LISTS[order])?;
            if self.save_items(&map, &items, now_ms)? {
                changed.push(crate::writer::Change::new(list, String::new(), String::new()));
            }
        }
        if changed.is_empty() {
            return Ok(());
        }
        self.doc.put(&obj, "updated_at", ScalarValue::Timestamp(now_ms))?;
        let parts: Vec<&str> = changed.iter().map(|c| crate::record::field_label(PLAN_FIELDS, &c.field)).map(list_label).collect();
        self.commit(format!("修改实施方案：{}", parts.join("、")), Some((Section::Plans, id.clone())), now_ms);
        Ok(())
    }

    /// Brings the items of `map` to `items`; whether anything changed.
    fn save_items(&mut self, map: &ObjId, items: &[(RecordId, Vec<(&str, String)>)], now_ms: i64) -> Result<bool, LedgerError> {
        let mut changed = false;
        let existing: Vec<(RecordId, ObjId)> = map_records(&self.doc, map, "item", &mut Vec::new());
        for (n, (id, fields)) in items.iter().enumerate() {
            let obj = match existing.iter().find(|(e, _)| e == id) {
                Some((_, obj)) => obj.clone(),
                None => {
                    let obj = self.doc.put_object(map, id.as_str(), ObjType::Map)?;
                    // Items added in one save keep the order they were listed in.
                    self.doc.put(&obj, "at", ScalarValue::Timestamp(now_ms + n as i64))?;
                    changed = true;
                    obj
                }
            };
            let mut w = FieldWriter::new(&mut self.doc, obj);
            w.scalar("deleted", false)?;
            for (key, value) in fields {
                w.scalar(key, value.as_str())?;
            }
            changed |= !w.changed.is_empty();
        }
        for (id, obj) in existing.iter().filter(|(e, _)| !items.iter().any(|(i, _)| i == e)) {
            let _ = id;
            let mut w = FieldWriter::new(&mut self.doc, obj.clone());
            w.scalar("deleted", true)?;
            changed |= !w.changed.is_empty();
        }
        Ok(changed)
    }

    /// 报送: freezes the draft as a new version for the office to review.
    pub fn submit_plan(&mut self, id: &RecordId, now_ms: i64) -> Result<RecordId, LedgerError> {
        let plan = self.plan(id)?;
        if !plan.may_edit() {
            return Err(LedgerError::Invalid(LOCKED.into()));
        }
        plan.draft.check_complete().map_err(|e| LedgerError::Invalid(e.messages().join("；")))?;
        let obj = self.record_obj(Section::Plans, id)?;
        let log = self.record_map(&obj, "submissions")?;
        let version = self.add_entry(&log, now_ms, &[("content", ScalarValue::Bytes(plan.draft.encode()))])?;
        self.doc.put(&obj, "updated_at", ScalarValue::Timestamp(now_ms))?;
        let n = plan.submissions.len() + 1;
        self.commit(format!("报送实施方案（第 {n} 稿）"), Some((Section::Plans, id.clone())), now_ms);
        Ok(version)
    }

    /// The office's review of the version awaiting it (`submission`, which it must still be):
    /// 批准, or 退回 with an opinion overall or on a part.
    pub fn review_plan(
        &mut self,
        id: &RecordId,
        submission: &RecordId,
        verdict: ReviewVerdict,
        opinion: &str,
        parts: &[(PlanPart, String)],
        now_ms: i64,
    ) -> Result<RecordId, LedgerError> {
        let plan = self.plan(id)?;
        if plan.awaiting_review().map(|s| &s.id) != Some(submission) {
            return Err(LedgerError::Invalid("这一稿已不是待审核的一稿，请刷新后再审".into()));
        }
        let opinion = opinion.trim();
        let parts: Vec<(PlanPart, &str)> = parts.iter().map(|(p, t)| (*p, t.trim())).filter(|(_, t)| !t.is_empty()).collect();
        if verdict == ReviewVerdict::Return && opinion.is_empty() && parts.is_empty() {
            return Err(LedgerError::Invalid("退回修改请写明理由".into()));
        }
        if opinion.chars().count() > MAX_OPINION || parts.iter().any(|(_, t)| t.chars().count() > MAX_OPINION) {
            return Err(LedgerError::Invalid(format!("审核意见每项最多 {MAX_OPINION} 字")));
        }
        let obj = self.record_obj(Section::Plans, id)?;
        let log = self.record_map(&obj, "reviews")?;
        let mut fields: Vec<(&str, ScalarValue)> = vec![("submission", submission.as_str().into()), ("verdict", verdict.code().into()), ("opinion", opinion.into())];
        fields.extend(parts.iter().map(|(p, t)| (part_key(*p), ScalarValue::from(*t))));
        let review = self.add_entry(&log, now_ms, &fields)?;
        self.doc.put(&obj, "updated_at", ScalarValue::Timestamp(now_ms))?;
        self.commit(format!("{}实施方案", verdict.label()), Some((Section::Plans, id.clone())), now_ms);
        Ok(review)
    }

    /// Marks a task of the approved plan done, or not done, with an optional note.
    pub fn follow_task(&mut self, id: &RecordId, task: &RecordId, done: bool, note: &str, now_ms: i64) -> Result<(), LedgerError> {
        let plan = self.plan(id)?;
        let Some(followed) = plan.followed_tasks().into_iter().find(|t| &t.task.id == task) else {
            return Err(LedgerError::Invalid("这项任务不在已批准的方案中".into()));
        };
        let note = note.trim();
        if note.chars().count() > MAX_NOTE {
            return Err(LedgerError::Invalid(format!("说明最多 {MAX_NOTE} 字")));
        }
        if followed.done_at.is_some() == done && note.is_empty() {
            return Ok(());
        }
        let note = if note.is_empty() { note } else { entry_text(note, "说明")? };
        let obj = self.record_obj(Section::Plans, id)?;
        let log = self.record_map(&obj, "follow")?;
        self.add_entry(&log, now_ms, &[("task", task.as_str().into()), ("done", done.into()), ("text", note.into())])?;
        self.doc.put(&obj, "updated_at", ScalarValue::Timestamp(now_ms))?;
        let verb = if done { "完成任务" } else { "任务重新打开" };
        self.commit(format!("{verb}：{}", super::note_value(&followed.task.what)), Some((Section::Plans, id.clone())), now_ms);
        Ok(())
    }
}

const LOCKED: &str = "方案已报送，正在审核或已批准，不能再修改";

fn list_label(label: &str) -> &str {
    match label {
        "carriers" => "主要载体",
        "stages" => "方法步骤",
        "tasks" => "任务清单",
        other => other,
    }
}
