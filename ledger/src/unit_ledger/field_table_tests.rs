//! Every field of every record type, driven from the field tables: two phones set it
//! differently offline, and either both values are shown until a person chooses (every field
//! that holds one value) or both edits merge (text, flag maps). And every key the writers put
//! into a record is in its table, so a new field cannot be left out of conflicts and history.

use automerge::{transaction::Transactable, ActorId, ObjType, ReadDoc, ScalarValue, Value};
use chrono::NaiveDate;

use super::*;
use crate::codes::Satisfaction;
use crate::codes::Verdict;
use crate::enterprise::EnterpriseDraft;
use crate::pledge::{Aim, PledgeDraft};
use crate::post::PostDraft;
use crate::problem::{Action, ProblemDraft};
use crate::rating::{StepKind, Target, ValidRating, Way};
use crate::record::{Conflict, FieldKind};
use crate::survey::SurveyDraft;
use crate::visit::VisitDraft;

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 27).unwrap()
}

/// A record of `section` written through the app's own API, every writer path taken.
fn record(l: &mut UnitLedger, section: Section) -> RecordId {
    match section {
        Section::Visits => {
            let d = VisitDraft { whom: "张大爷".into(), heard: "路灯不亮".into(), follow_up_needed: true, follow_up: "联系供电所".into(), ..VisitDraft::new(today()) };
            l.add_visit(&d.validate(today()).unwrap(), 1_000).unwrap()
        }
        Section::Problems => {
            let d = ProblemDraft {
                title: "路灯不亮".into(),
                description: "村口两盏".into(),
                contact: "张大爷 13800000000".into(),
                deadline: "2026-12-10".into(),
                ..Default::default()
            };
            let id = l.add_problem(&d.validate().unwrap(), 1_000).unwrap();
            l.change_problem_status(&id, &Action::Start, 1_100).unwrap();
            l.change_problem_status(&id, &Action::Resolve { result: "已修好".into() }, 1_200).unwrap();
            l.change_problem_status(&id, &Action::FollowUp { satisfaction: Satisfaction::Satisfied, comment: "很好".into() }, 1_300).unwrap();
            let _ = l.change_problem_status(&id, &Action::Reopen, 1_400);
            id
        }
        Section::Enterprises => {
            let d = EnterpriseDraft { name: "闽兴机械".into(), credit_code: "91350100M000100Y43".into(), ..Default::default() };
            l.add_enterprise(&d.validate().unwrap(), 1_000).unwrap()
        }
        Section::Pledges => {
            let d = PledgeDraft { content: "每周三接待群众".into(), by: "张三".into(), aims: vec![Aim::ServiceLead], due: "2026-12-31".into(), ..Default::default() };
            let id = l.add_pledge(&d.validate().unwrap(), 1_000).unwrap();
            l.set_pledge_fulfilled(&id, true, 1_100).unwrap();
            id
        }
        Section::Surveys => {
            let d = SurveyDraft { title: "第四季度测评".into(), questions: "办事效率\n服务态度".into() };
            let id = l.add_survey(&d.validate(today()).unwrap(), 1_000).unwrap();
            l.set_survey_closed(&id, true, 1_100).unwrap();
            id
        }
        Section::Posts => {
            let d = PostDraft { title: "便民服务窗口".into(), holder: "李梅".into(), duties: "代办社保".into(), hours: "工作日".into() };
            let id = l.add_post(&d.validate().unwrap(), 1_000).unwrap();
            l.set_published(Section::Posts, &id, true, 1_100).unwrap();
            id
        }
        Section::Ratings => {
            let r = ValidRating {
                target: Target::Post,
                target_id: RecordId::random(),
                verdict: Verdict::Dissatisfied,
                comment: "窗口常没人".into(),
                way: Way::Once,
                code_by: "张三".into(),
            };
            let id = l.add_rating(&r, 1_000).unwrap();
            l.add_case_step(&id, StepKind::Acknowledge, "", None, 1_100).unwrap();
            l.add_case_step(&id, StepKind::Rectify, "已排班", None, 1_200).unwrap();
            l.add_case_step(&id, StepKind::Recheck, "", Some(Verdict::Satisfied), 1_300).unwrap();
            id
        }
        Section::Plans => {
            let id = RecordId::random();
            l.open_plan(&id, &PlanRound { title: "2027 年实施方案", deadline: today(), office: "青山县先锋办" }, 1_000).unwrap();
            l.save_plan_draft(&id, &crate::plan::tests_support::complete(), 1_100).unwrap();
            l.submit_plan(&id, 1_200).unwrap();
            id
        }
        Section::Rules => {
            let d = RuleDraft { name: "村务公开制度".into(), number: "青石村〔2025〕1号".into(), basis: "村民委员会组织法".into(), ..Default::default() };
            let old = l.add_rule(&RuleDraft { name: "旧制度".into(), ..Default::default() }, today(), 900).unwrap();
            let d = RuleDraft { replaces: Some(old), ..d };
            let id = l.add_rule(&d, today(), 1_000).unwrap();
            l.change_rule(&id, crate::rule::RuleStatus::UnderRevision, "与新条例不符", today(), 1_100).unwrap();
            id
        }
        Section::Rounds => {
            let id = RecordId::random();
            l.open_round(&id, RoundKind::Cleanup, "2027 年制度清理", today(), "青山县先锋办", today(), 1_000).unwrap();
            id
        }
        Section::Notices => {
            let id = RecordId::random();
            l.publish_notice(&id, "关于一季度工作的通报", "各单位：……", "青山县先锋办", today(), 1_000).unwrap();
            l.open_notice(&id, 1_100).unwrap();
            id
        }
    }
}

fn conflicts(l: &UnitLedger, section: Section, id: &RecordId) -> Vec<Conflict> {
    match section {
        Section::Visits => l.visit(id).unwrap().conflicts,
        Section::Problems => l.problem(id).unwrap().conflicts,
        Section::Enterprises => l.enterprise(id).unwrap().conflicts,
        Section::Pledges => l.pledge(id).unwrap().conflicts,
        Section::Surveys => l.survey(id).unwrap().conflicts,
        Section::Posts => l.post(id).unwrap().conflicts,
        Section::Ratings => l.rating(id).unwrap().conflicts,
        Section::Plans => l.plan(id).unwrap().conflicts,
        Section::Rules => l.rule(id).unwrap().conflicts,
        Section::Rounds => l.rounds().records.into_iter().find(|r| &r.id == id).unwrap().conflicts,
        Section::Notices => l.notices().records.into_iter().find(|n| &n.id == id).unwrap().conflicts,
    }
}

/// Two different values a phone could store for a field of this kind.
fn two_values(kind: FieldKind) -> [ScalarValue; 2] {
    match kind {
        FieldKind::Scalar => ["王电工".into(), "赵主任".into()],
        FieldKind::Code => ["urgent".into(), "normal".into()],
        FieldKind::Date => ["2026-12-01".into(), "2026-12-02".into()],
        FieldKind::Flag => [true.into(), false.into()],
        FieldKind::Link => [RecordId::random().as_str().into(), RecordId::random().as_str().into()],
        FieldKind::Text | FieldKind::Flags => unreachable!("merges, never conflicts"),
    }
}

/// Sets the field as a phone would: a real change even when the value was already there
/// (Automerge writes nothing for a put of the current value, and a person who set a flag back
/// and forth still changed it).
fn write_raw(l: &mut UnitLedger, section: Section, id: &RecordId, key: &str, value: ScalarValue) {
    let obj = l.record_obj(section, id).unwrap();
    if matches!(l.doc.get(&obj, key).unwrap(), Some((Value::Scalar(s), _)) if *s == value) {
        let other = match value {
            ScalarValue::Boolean(b) => ScalarValue::Boolean(!b),
            _ => ScalarValue::Str("……".into()),
        };
        l.doc.put(&obj, key, other).unwrap();
    }
    l.doc.put(&obj, key, value).unwrap();
    l.commit(format!("test {key}"), Some((section, id.clone())), 2_000);
}

#[test]
fn every_field_set_differently_offline_is_shown_until_chosen_or_merges() {
    for section in Section::ALL {
        for field in section.fields() {
            let mut a = UnitLedger::create(ActorId::random());
            let id = record(&mut a, section);
            let mut b = a.fork(ActorId::random());
            let what = format!("{}.{}", section.key(), field.key);
            if field.conflicts() {
                let [va, vb] = two_values(field.kind);
                write_raw(&mut a, section, &id, field.key, va);
                write_raw(&mut b, section, &id, field.key, vb);
                a.merge(&mut b).unwrap();
                let shown = conflicts(&a, section, &id);
                let conflict = shown.iter().find(|c| c.field == field.key).unwrap_or_else(|| panic!("{what}: no conflict shown: {shown:?}"));
                assert_eq!(conflict.values.len(), 2, "{what}: {conflict:?}");
                let chosen = conflict.values[1].clone();
                a.resolve_conflict(section, &id, field.key, &chosen, 3_000).unwrap();
                assert!(conflicts(&a, section, &id).iter().all(|c| c.field != field.key), "{what}: still in conflict after choosing");
                let history = a.history(&id);
                let last = history.last().unwrap();
                assert!(last.summary.contains(field.label), "{what}: history says {:?}", last.summary);
            } else {
                // Both phones edit: both edits survive and nothing asks a person to choose.
                let obj = |l: &mut UnitLedger| l.record_obj(section, &id).unwrap();
                for (l, word) in [(&mut a, "甲"), (&mut b, "乙")] {
                    let o = obj(l);
                    match field.kind {
                        FieldKind::Text => {
                            let text = match l.doc.get(&o, field.key).unwrap() {
                                Some((Value::Object(ObjType::Text), t)) => t,
                                _ => l.doc.put_object(&o, field.key, ObjType::Text).unwrap(),
                            };
                            l.doc.splice_text(&text, 0, 0, word).unwrap();
                        }
                        FieldKind::Flags => {
                            let map = match l.doc.get(&o, field.key).unwrap() {
                                Some((Value::Object(ObjType::Map), m)) => m,
                                _ => panic!("{what}: flags map missing"),
                            };
                            l.doc.put(&map, if word == "甲" { "zheng_service" } else { "ling_economy" }, true).unwrap();
                        }
                        _ => unreachable!(),
                    }
                    l.commit(format!("test {}", field.key), Some((section, id.clone())), 2_000);
                }
                a.merge(&mut b).unwrap();
                assert!(conflicts(&a, section, &id).iter().all(|c| c.field != field.key), "{what}: a merging field shown as a conflict");
                let o = obj(&mut a);
                let merged = match a.doc.get(&o, field.key).unwrap() {
                    Some((Value::Object(ObjType::Text), t)) => a.doc.text(&t).unwrap(),
                    Some((Value::Object(ObjType::Map), m)) => a.doc.keys(&m).collect::<Vec<_>>().join(","),
                    other => panic!("{what}: {other:?}"),
                };
                match field.kind {
                    FieldKind::Text => assert!(merged.contains('甲') && merged.contains('乙'), "{what}: {merged}"),
                    _ => assert!(merged.contains("zheng_service") && merged.contains("ling_economy"), "{what}: {merged}"),
                }
            }
        }
    }
}

/// Keys a record keeps for itself (times, deletion, its logs and entries), not fields a person
/// edits.
const BOOKKEEPING: &[&str] = &[
    "created_at",
    "updated_at",
    "deleted",
    "log",
    "progress",
    "evaluations",
    "supervision",
    "questions",
    "responses",
    "fulfilled_at",
    "steps",
    "carriers",
    "stages",
    "tasks",
    "submissions",
    "reviews",
    "follow",
    "changes",
    "opened_at",
];

#[test]
fn every_key_a_writer_stores_is_in_its_field_table() {
    for section in Section::ALL {
        let mut l = UnitLedger::create(ActorId::random());
        let id = record(&mut l, section);
        let obj = l.record_obj(section, &id).unwrap();
        for key in l.doc.keys(&obj) {
            assert!(BOOKKEEPING.contains(&key.as_str()) || section.fields().iter().any(|f| f.key == key), "{}.{key} is written but not in the field table", section.key());
        }
    }
}
