//! 制度 in the ledger.
//!
//! ```text
//! Rule { name: str, number: str, in_force_from: date, valid_until: date, basis: Text,
//!        replaces: id, replaced_by: id,
//!        changes: { id: { at, by, to: code, reason: str, round: id, decision: code } },
//!        created_at: ms, updated_at: ms, deleted: bool }
//! ```
//! Every change of status is an entry with its reason; the status is folded from them
//! ([`Rule::status`]).

use automerge::{transaction::Transactable, AutoCommit, ObjId, ScalarValue};
use chrono::NaiveDate;

use super::{LedgerError, Records, UnitLedger};
use crate::lenient::{read_entries, FieldProblem, FieldReader};
use crate::record::{sort_by_time, Field, FieldKind as K, Section};
use crate::rule::{check_change, check_decision, Cleanup, Rule, RuleChange, RuleStatus, MAX_NAME, MAX_NUMBER, MAX_TEXT};
use crate::validation::ValidationErrors;
use crate::writer::FieldWriter;
use crate::RecordId;

pub const RULE_FIELDS: &[Field] = &[
    Field::new("name", "制度名称", K::Scalar),
    Field::new("number", "文号", K::Scalar),
    Field::new("in_force_from", "施行日期", K::Date),
    Field::new("valid_until", "有效期至", K::Date),
    Field::new("basis", "制定依据", K::Text),
    Field::new("replaces", "取代的制度", K::Link),
    Field::new("replaced_by", "被哪项制度取代", K::Link),
];

/// A rule as typed.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct RuleDraft {
    pub name: String,
    pub number: String,
    pub in_force_from: Option<NaiveDate>,
    pub valid_until: Option<NaiveDate>,
    pub basis: String,
    pub replaces: Option<RecordId>,
}

impl RuleDraft {
    pub fn check(&self) -> Result<(), ValidationErrors> {
        let mut e = ValidationErrors::default();
        e.required("name", &self.name, "请填写制度名称");
        e.max_len("name", "制度名称", &self.name, MAX_NAME);
        e.max_len("number", "文号", &self.number, MAX_NUMBER);
        e.max_len("basis", "制定依据", &self.basis, MAX_TEXT);
        if let (Some(from), Some(until)) = (self.in_force_from, self.valid_until) {
            if until < from {
                e.push("valid_until", "有效期不能早于施行日期");
            }
        }
        e.into_result(|| ())
    }
}

fn read_rule(doc: &AutoCommit, obj: &ObjId, id: RecordId, problems: &mut Vec<FieldProblem>) -> Rule {
    let mut r = FieldReader::prefetched(doc, obj, id.as_str());
    let changes_obj = r.map("changes");
    let mut changes = read_entries(doc, changes_obj.as_ref(), "change", problems, |cr, id| {
        let to = cr.optional_coded("to", RuleStatus::from_code)?;
        let round = match (cr.link("round"), cr.optional_coded("decision", Cleanup::from_code)) {
            (Some(round), Some(decision)) => Some((round, decision)),
            _ => None,
        };
        Some(RuleChange { at: cr.millis("at"), by: cr.string("by"), to, reason: cr.string("reason"), round, id })
    })
    .into_iter()
    .flatten()
    .collect::<Vec<_>>();
    sort_by_time(&mut changes, |c| (c.at, &c.id));
    let rule = Rule {
        name: r.string("name"),
        number: r.string("number"),
        in_force_from: r.date("in_force_from"),
        valid_until: r.date("valid_until"),
        basis: r.string("basis"),
        replaces: r.link("replaces"),
        replaced_by: r.link("replaced_by"),
        changes,
        conflicts: r.conflicts(RULE_FIELDS),
        created_at: r.millis("created_at"),
        deleted: r.bool("deleted"),
        id,
    };
    problems.append(&mut r.problems);
    rule
}

fn write_rule(doc: &mut AutoCommit, obj: ObjId, d: &RuleDraft) -> Result<Vec<crate::writer::Change>, automerge::AutomergeError> {
    let day = crate::day::format_or_empty;
    let mut w = FieldWriter::new(doc, obj);
    w.scalar("name", d.name.trim())?;
    w.scalar("number", d.number.trim())?;
    w.scalar("in_force_from", day(d.in_force_from))?;
    w.scalar("valid_until", day(d.valid_until))?;
    w.text("basis", d.basis.trim())?;
    w.scalar("replaces", d.replaces.as_ref().map(|r| r.to_string()).unwrap_or_default())?;
    Ok(w.changed)
}

impl UnitLedger {
    /// Records a rule. One that replaces another (制定新制度 in place of an old one) marks the
    /// old one 已修订 and says by which, in a change of its own, committed with the new rule's.
    pub fn add_rule(&mut self, draft: &RuleDraft, today: NaiveDate, now_ms: i64) -> Result<RecordId, LedgerError> {
        draft.check().map_err(|e| LedgerError::Invalid(e.messages().join("；")))?;
        let replaced = match &draft.replaces {
            Some(old) => {
                let old = self.rule(old).map_err(|_| LedgerError::Invalid("要取代的制度不在本单位台账中".into()))?;
                if !old.status(today).next().contains(&RuleStatus::Revised) {
                    return Err(LedgerError::Invalid(format!("《{}》已“{}”，不能再被取代", old.name, old.status(today).label())));
                }
                Some(old)
            }
            None => None,
        };
        let (id, obj) = self.new_record(Section::Rules, now_ms)?;
        self.doc.put_object(&obj, "changes", automerge::ObjType::Map)?;
        self.doc.put(&obj, "updated_at", ScalarValue::Timestamp(now_ms))?;
        self.doc.put(&obj, "replaced_by", "")?;
        write_rule(&mut self.doc, obj, draft)?;
        self.commit(format!("新增制度：{}", super::note_value(&draft.name)), Some((Section::Rules, id.clone())), now_ms);
        if let Some(old) = replaced {
            let old_obj = self.record_obj(Section::Rules, &old.id)?;
            self.doc.put(&old_obj, "replaced_by", id.as_str())?;
            let reason = format!("由《{}》取代", draft.name.trim());
            self.add_rule_change(&old.id, &[("to", RuleStatus::Revised.code().into()), ("reason", reason.into())], "制度已修订".into(), now_ms)?;
        }
        Ok(id)
    }

    pub fn update_rule(&mut self, id: &RecordId, draft: &RuleDraft, now_ms: i64) -> Result<(), LedgerError> {
        draft.check().map_err(|e| LedgerError::Invalid(e.messages().join("；")))?;
        let obj = self.record_obj(Section::Rules, id)?;
        let changed = write_rule(&mut self.doc, obj.clone(), draft)?;
        if !changed.is_empty() {
            self.doc.put(&obj, "updated_at", ScalarValue::Timestamp(now_ms))?;
        }
        self.commit_edit(Section::Rules, id, &changed, RULE_FIELDS, now_ms);
        Ok(())
    }

    pub fn rule(&self, id: &RecordId) -> Result<Rule, LedgerError> {
        let obj = self.record_obj(Section::Rules, id)?;
        Ok(read_rule(&self.doc, &obj, id.clone(), &mut Vec::new()))
    }

    pub fn rules(&self) -> Records<Rule> {
        self.read_section(Section::Rules, read_rule)
    }

    /// Changes a rule's status with a reason (修订中, 已修订, 废止, or back to 现行).
    pub fn change_rule(&mut self, id: &RecordId, to: RuleStatus, reason: &str, today: NaiveDate, now_ms: i64) -> Result<(), LedgerError> {
        let rule = self.rule(id)?;
        check_change(&rule, to, reason, today).map_err(|e| LedgerError::Invalid(e.messages().join("；")))?;
        self.add_rule_change(id, &[("to", to.code().into()), ("reason", reason.trim().into())], format!("制度{}", to.label()), now_ms)
    }

    /// A clean-up round's decision on a rule: kept, revised or repealed, with a reason.
    pub fn decide_rule(&mut self, id: &RecordId, round: &RecordId, decision: Cleanup, reason: &str, today: NaiveDate, now_ms: i64) -> Result<(), LedgerError> {
        let rule = self.rule(id)?;
        check_decision(&rule, decision, reason, today).map_err(|e| LedgerError::Invalid(e.messages().join("；")))?;
        let fields = [("to", decision.status().code().into()), ("reason", reason.trim().into()), ("round", round.as_str().into()), ("decision", decision.code().into())];
        self.add_rule_change(id, &fields, format!("制度清理：{}", decision.label()), now_ms)
    }

    fn add_rule_change(&mut self, id: &RecordId, fields: &[(&str, ScalarValue)], summary: String, now_ms: i64) -> Result<(), LedgerError> {
        let obj = self.record_obj(Section::Rules, id)?;
        let log = self.record_map(&obj, "changes")?;
        self.add_entry(&log, now_ms, fields)?;
        self.doc.put(&obj, "updated_at", ScalarValue::Timestamp(now_ms))?;
        self.commit(summary, Some((Section::Rules, id.clone())), now_ms);
        Ok(())
    }
}
