//! The campaign office's records (plans, rounds, notices) and the unit's rules: every action
//! the app makes, checked as every writer, against a table written out here from the issue's
//! rights (only the office opens rounds, reviews and publishes; only the secretary drafts and
//! submits a plan; the unit follows tasks, opens notices and keeps rules), and crafted changes
//! a phone could send.

use automerge::transaction::{CommitOptions, Transactable};
use automerge::{ActorId, ObjType, ReadDoc, ScalarValue};
use chrono::NaiveDate;

use super::schema::{INCOMPLETE_VERSION, NOT_ITS_KIND, OFFICE_ONLY_ITS_OWN, ONLY_THE_OFFICE, SECRETARY_ONLY_PLAN};
use super::{check, Sender, RECORD_NOT_DELETED, RECORD_NOT_REPLACED};
use crate::codes::Verdict;
use crate::org::Write;
use crate::plan::tests_support::complete;
use crate::plan::{PlanContent, PlanPart, ReviewVerdict};
use crate::rule::{Cleanup, RuleStatus};
use crate::unit_ledger::{PlanRound, RoundKind, RuleDraft, SatisfactionRound};
use crate::{RecordId, Section, UnitLedger};

const NAME: &str = "王芳";
const WRITERS: [Write; 6] = [Write::Board, Write::Office, Write::Nothing, Write::SupervisionOnly, Write::Cadre, Write::Everything];

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2027, 3, 1).unwrap()
}

/// The server's ledger: a plan round opened (its draft complete and submitted once when
/// `submitted`), a clean-up round, a notice and a rule.
struct World {
    server: UnitLedger,
    plan: RecordId,
    notice: RecordId,
    rule: RecordId,
    round: RecordId,
    survey: RecordId,
}

fn world(stage: Stage) -> World {
    let mut l = UnitLedger::create(ActorId::random());
    l.set_author(NAME);
    let plan = RecordId::random();
    l.open_plan(&plan, &PlanRound { title: "2027 年实施方案", deadline: today(), office: "青山县先锋办" }, 1_000).unwrap();
    if stage >= Stage::Submitted {
        l.save_plan_draft(&plan, &complete(), 1_100).unwrap();
        let version = l.submit_plan(&plan, 1_200).unwrap();
        if stage == Stage::Approved {
            l.review_plan(&plan, &version, ReviewVerdict::Approve, "同意", &[], 1_300).unwrap();
        }
    }
    let round = RecordId::random();
    l.open_round(&round, RoundKind::Cleanup, "制度清理", today(), "青山县先锋办", today(), 1_000).unwrap();
    let notice = RecordId::random();
    l.publish_notice(&notice, "一季度通报", "各单位：……", "青山县先锋办", today(), 1_000).unwrap();
    let rule = l.add_rule(&RuleDraft { name: "村务公开制度".into(), ..Default::default() }, today(), 1_000).unwrap();
    let survey = RecordId::random();
    let questions = ["办事效率".to_owned(), "服务态度".to_owned()];
    l.open_satisfaction_round(
        &survey,
        &SatisfactionRound { title: "一季度满意度测评", questions: &questions, office: "青山县先锋办", opened_on: today(), closes_on: today() },
        1_000,
    )
    .unwrap();
    World { server: l, plan, notice, rule, round, survey }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Stage {
    Opened,
    Submitted,
    Approved,
}

fn phone(w: &mut World) -> UnitLedger {
    let mut l = UnitLedger::load(&w.server.save(), ActorId::random()).unwrap();
    l.set_author(NAME);
    l
}

type Work = fn(&mut UnitLedger, &World);

/// Each action, the stage it needs, and who may take it.
fn actions() -> Vec<(&'static str, Stage, Work, &'static [Write])> {
    const OFFICE: &[Write] = &[Write::Office];
    const SECRETARY: &[Write] = &[Write::Everything];
    const UNIT: &[Write] = &[Write::Cadre, Write::Everything];
    vec![
        (
            "open a plan round",
            Stage::Opened,
            |l, _| assert!(l.open_plan(&RecordId::random(), &PlanRound { title: "补充方案", deadline: today(), office: "先锋办" }, 2_000).unwrap()),
            OFFICE,
        ),
        ("draft the plan", Stage::Opened, |l, w| l.save_plan_draft(&w.plan, &complete(), 2_000).unwrap(), SECRETARY),
        (
            "draft, then take a task out",
            Stage::Opened,
            |l, w| {
                let mut c = complete();
                c.tasks.push(crate::plan::PlanTask { id: RecordId::random(), what: "第二项".into(), who: "李".into(), due: Some(today()) });
                l.save_plan_draft(&w.plan, &c, 2_000).unwrap();
                c.tasks.pop();
                c.goals.push_str("，再加一条");
                l.save_plan_draft(&w.plan, &c, 2_100).unwrap();
            },
            SECRETARY,
        ),
        (
            "submit the plan",
            Stage::Opened,
            |l, w| {
                l.save_plan_draft(&w.plan, &complete(), 2_000).unwrap();
                l.submit_plan(&w.plan, 2_100).unwrap();
            },
            SECRETARY,
        ),
        (
            "return the plan with opinions",
            Stage::Submitted,
            |l, w| {
                let v = l.plan(&w.plan).unwrap().latest().unwrap().id.clone();
                l.review_plan(&w.plan, &v, ReviewVerdict::Return, "请细化", &[(PlanPart::Tasks, "任务要有时限".into())], 2_000).unwrap();
            },
            OFFICE,
        ),
        (
            "follow a task",
            Stage::Approved,
            |l, w| {
                let task = l.plan(&w.plan).unwrap().approved_tasks()[0].id.clone();
                l.follow_task(&w.plan, &task, true, "已完成", 2_000).unwrap();
            },
            UNIT,
        ),
        ("open a clean-up round", Stage::Opened, |l, _| assert!(l.open_round(&RecordId::random(), RoundKind::Cleanup, "清理", today(), "先锋办", today(), 2_000).unwrap()), OFFICE),
        ("publish a notice", Stage::Opened, |l, _| assert!(l.publish_notice(&RecordId::random(), "通报", "正文", "先锋办", today(), 2_000).unwrap()), OFFICE),
        ("open a notice", Stage::Opened, |l, w| assert!(l.open_notice(&w.notice, 2_000).unwrap()), UNIT),
        (
            "keep rules",
            Stage::Opened,
            |l, w| {
                let id =
                    l.add_rule(&RuleDraft { name: "财务制度".into(), number: "〔2027〕1号".into(), valid_until: Some(today()), ..Default::default() }, today(), 2_000).unwrap();
                l.update_rule(&id, &RuleDraft { name: "财务管理制度".into(), ..Default::default() }, 2_100).unwrap();
                l.change_rule(&w.rule, RuleStatus::UnderRevision, "条例修订", today(), 2_200).unwrap();
            },
            UNIT,
        ),
        (
            "open a satisfaction round",
            Stage::Opened,
            |l, _| {
                let q = ["满意吗".to_owned()];
                assert!(l
                    .open_satisfaction_round(
                        &RecordId::random(),
                        &SatisfactionRound { title: "测评", questions: &q, office: "先锋办", opened_on: today(), closes_on: today() },
                        2_000
                    )
                    .unwrap());
            },
            OFFICE,
        ),
        (
            "answer a satisfaction round in five levels",
            Stage::Opened,
            |l, w| {
                let s = l.survey(&w.survey).unwrap();
                let levels = vec![(s.questions[0].id.clone(), Verdict::VerySatisfied), (s.questions[1].id.clone(), Verdict::Dissatisfied)];
                l.add_survey_levels(&w.survey, &levels, "", today(), 2_000).unwrap();
            },
            UNIT,
        ),
        (
            "write a new rule in place of an old one",
            Stage::Opened,
            |l, w| drop(l.add_rule(&RuleDraft { name: "村务公开办法".into(), replaces: Some(w.rule.clone()), ..Default::default() }, today(), 2_000).unwrap()),
            UNIT,
        ),
        ("decide a rule in a clean-up", Stage::Opened, |l, w| l.decide_rule(&w.rule, &w.round, Cleanup::Repeal, "已过时", today(), 2_000).unwrap(), UNIT),
    ]
}

#[test]
fn every_action_is_taken_by_exactly_the_writers_the_table_names() {
    for (what, stage, work, may) in actions() {
        let mut w = world(stage);
        let mut l = phone(&mut w);
        work(&mut l, &w);
        let heads = w.server.heads();
        let changes = l.doc_mut().get_changes(&heads);
        assert!(!changes.is_empty(), "{what}: nothing written");
        for writer in WRITERS {
            let verdict = check(w.server.doc(), &changes, Sender { write: writer, name: NAME });
            assert_eq!(verdict.is_ok(), may.contains(&writer), "{what} as {writer:?}: {verdict:?}");
        }
    }
}

#[test]
fn refusals_say_why() {
    let mut w = world(Stage::Opened);
    let mut l = phone(&mut w);
    l.save_plan_draft(&w.plan, &complete(), 2_000).unwrap();
    let changes = l.doc_mut().get_changes(&w.server.heads());
    let as_ = |write| check(w.server.doc(), &changes, Sender { write, name: NAME }).unwrap_err();
    assert!(as_(Write::Cadre).starts_with(SECRETARY_ONLY_PLAN), "{}", as_(Write::Cadre));
    assert!(as_(Write::Office).starts_with(OFFICE_ONLY_ITS_OWN), "{}", as_(Write::Office));
    let mut l = phone(&mut w);
    l.publish_notice(&RecordId::random(), "通报", "正文", "先锋办", today(), 2_000).unwrap();
    let changes = l.doc_mut().get_changes(&w.server.heads());
    let why = check(w.server.doc(), &changes, Sender { write: Write::Everything, name: NAME }).unwrap_err();
    assert!(why.starts_with(ONLY_THE_OFFICE), "{why}");
}

/// Crafted changes the secretary's own phone could send, each refused with its reason.
#[test]
fn crafted_plan_changes_are_refused() {
    type Craft = fn(&mut UnitLedger, &World);
    let crafted: Vec<(&str, Craft, &str)> = vec![
        (
            "a version that is not complete",
            |l, w| {
                let version = PlanContent { goals: "只有目标".into(), ..Default::default() };
                put_entry(l, w, "submissions", &[("content", ScalarValue::Bytes(version.encode()))]);
            },
            INCOMPLETE_VERSION,
        ),
        ("a version of garbage", |l, w| put_entry(l, w, "submissions", &[("content", ScalarValue::Bytes(vec![1, 0xff, 0xff]))]), NOT_ITS_KIND),
        ("a version as text", |l, w| put_entry(l, w, "submissions", &[("content", "全文".into())]), NOT_ITS_KIND),
        ("the secretary's own review", |l, w| put_entry(l, w, "reviews", &[("verdict", "approve".into())]), ONLY_THE_OFFICE),
        (
            "a draft task replaced whole",
            |l, w| {
                let tasks = obj(l, &["plans", w.plan.as_str(), "tasks"]);
                let id = l.doc().keys(&tasks).next().unwrap();
                l.doc_mut().put_object(&tasks, &id, ObjType::Map).unwrap();
                commit(l, w);
            },
            RECORD_NOT_REPLACED,
        ),
        (
            "a draft task removed",
            |l, w| {
                let tasks = obj(l, &["plans", w.plan.as_str(), "tasks"]);
                let id = l.doc().keys(&tasks).next().unwrap();
                l.doc_mut().delete(&tasks, &id).unwrap();
                commit(l, w);
            },
            RECORD_NOT_DELETED,
        ),
        (
            "the round's deadline moved",
            |l, w| {
                let plan = obj(l, &["plans", w.plan.as_str()]);
                l.doc_mut().put(&plan, "deadline", "2027-12-31").unwrap();
                commit(l, w);
            },
            super::schema::WRITTEN_WITH_THE_RECORD,
        ),
        (
            "the plan withdrawn by the unit",
            |l, w| {
                let plan = obj(l, &["plans", w.plan.as_str()]);
                l.doc_mut().put(&plan, "deleted", true).unwrap();
                commit(l, w);
            },
            ONLY_THE_OFFICE,
        ),
    ];
    for (what, craft, why) in crafted {
        let mut w = world(Stage::Opened);
        let mut setup = phone(&mut w);
        setup.save_plan_draft(&w.plan, &complete(), 1_500).unwrap();
        w.server = UnitLedger::load(&setup.save(), ActorId::random()).unwrap();
        let mut l = phone(&mut w);
        craft(&mut l, &w);
        let changes = l.doc_mut().get_changes(&w.server.heads());
        let verdict = check(w.server.doc(), &changes, Sender { write: Write::Everything, name: NAME });
        assert!(verdict.as_ref().is_err_and(|e| e.contains(why)), "{what}: {verdict:?}");
    }
}

fn obj(l: &UnitLedger, path: &[&str]) -> automerge::ObjId {
    let mut at = automerge::ROOT;
    for key in path {
        at = l.doc().get(&at, *key).unwrap().unwrap().1;
    }
    at
}

fn commit(l: &mut UnitLedger, w: &World) {
    let note = crate::record::ChangeNote { summary: "crafted".into(), record: Some((Section::Plans, w.plan.clone())), by: NAME.into() };
    l.doc_mut().commit_with(CommitOptions::default().with_message(note.encode()));
}

fn put_entry(l: &mut UnitLedger, w: &World, map: &str, fields: &[(&str, ScalarValue)]) {
    let log = obj(l, &["plans", w.plan.as_str(), map]);
    let entry = l.doc_mut().put_object(&log, RecordId::random().as_str(), ObjType::Map).unwrap();
    l.doc_mut().put(&entry, "at", ScalarValue::Timestamp(5_000)).unwrap();
    l.doc_mut().put(&entry, "by", NAME).unwrap();
    for (k, v) in fields {
        l.doc_mut().put(&entry, *k, v.clone()).unwrap();
    }
    commit(l, w);
}

#[test]
fn a_plan_goes_round_in_the_ledger_and_merges_across_phones() {
    let mut w = world(Stage::Opened);
    let (mut a, mut b) = (phone(&mut w), phone(&mut w));
    // Two phones of the secretary add a task each offline: both kept.
    let mut ca = complete();
    ca.tasks[0].what = "甲的任务".into();
    let mut cb = complete();
    cb.tasks[0].what = "乙的任务".into();
    a.save_plan_draft(&w.plan, &ca, 2_000).unwrap();
    b.save_plan_draft(&w.plan, &cb, 2_000).unwrap();
    a.merge(&mut b).unwrap();
    let draft = a.plan(&w.plan).unwrap().draft;
    let whats: Vec<&str> = draft.tasks.iter().map(|t| t.what.as_str()).collect();
    assert_eq!(whats.len(), 2, "{whats:?}");
    assert!(whats.contains(&"甲的任务") && whats.contains(&"乙的任务"));
    // Submitted: locked on the phone.
    let v1 = a.submit_plan(&w.plan, 3_000).unwrap();
    assert!(a.save_plan_draft(&w.plan, &ca, 3_100).is_err(), "a submitted plan is locked");
    assert!(a.submit_plan(&w.plan, 3_100).is_err());
    // The office returns it: a reason is required.
    assert!(a.review_plan(&w.plan, &v1, ReviewVerdict::Return, " ", &[], 4_000).is_err());
    a.review_plan(&w.plan, &v1, ReviewVerdict::Return, "", &[(PlanPart::Goals, "目标要量化".into())], 4_000).unwrap();
    assert!(a.review_plan(&w.plan, &v1, ReviewVerdict::Approve, "", &[], 4_100).is_err(), "a decided version is not reviewed again");
    ca.goals = "解决问题 30 件".into();
    ca.tasks = a.plan(&w.plan).unwrap().draft.tasks;
    a.save_plan_draft(&w.plan, &ca, 5_000).unwrap();
    let v2 = a.submit_plan(&w.plan, 5_100).unwrap();
    a.review_plan(&w.plan, &v2, ReviewVerdict::Approve, "同意", &[], 6_000).unwrap();
    let plan = a.plan(&w.plan).unwrap();
    assert_eq!(plan.submissions.len(), 2);
    assert_eq!(plan.submissions[0].content.tasks.len(), 2, "the first version reads back as it was");
    assert_eq!(plan.reviews[0].parts, vec![(PlanPart::Goals, "目标要量化".to_owned())]);
    assert_eq!(plan.approved_tasks().len(), 2);
    let task = plan.approved_tasks()[0].id.clone();
    a.follow_task(&w.plan, &task, true, "", 7_000).unwrap();
    assert!(a.follow_task(&w.plan, &RecordId::random(), true, "", 7_100).is_err(), "only the approved plan's tasks");
    let followed = a.plan(&w.plan).unwrap().followed_tasks();
    assert_eq!(followed.iter().filter(|t| t.done_at == Some(7_000)).count(), 1);
    // The read model's facts say the same.
    let facts = crate::report::PlanFacts::of(&a.plan(&w.plan).unwrap());
    assert_eq!((facts.state, facts.versions, facts.tasks.len()), (crate::plan::PlanState::Approved, 2, 2));
    assert_eq!(facts.tasks.iter().filter(|t| t.overdue(NaiveDate::from_ymd_opt(2027, 6, 1).unwrap())).count(), 1, "the task not done is overdue after its date");
}

#[test]
fn a_satisfaction_round_counts_five_levels_and_closes_with_its_period() {
    let mut w = world(Stage::Opened);
    let mut l = phone(&mut w);
    let s = l.survey(&w.survey).unwrap();
    assert_eq!((s.scale, s.office.as_str(), s.closes_on), (5, "青山县先锋办", Some(today())));
    let (q0, q1) = (s.questions[0].id.clone(), s.questions[1].id.clone());
    l.add_survey_levels(&w.survey, &[(q0.clone(), Verdict::VerySatisfied), (q1.clone(), Verdict::Basic)], "", today(), 2_000).unwrap();
    l.add_survey_levels(&w.survey, &[(q0.clone(), Verdict::VeryDissatisfied)], "", today(), 2_100).unwrap();
    assert!(l.add_survey_levels(&w.survey, &[(q0.clone(), Verdict::Satisfied)], "", today().succ_opt().unwrap(), 2_200).is_err(), "the period is over");
    assert!(l.add_survey_response(&w.survey, &[(q0.clone(), crate::Satisfaction::Satisfied)], "", 2_300).is_err(), "three levels in a five-level round");
    let facts = crate::report::LevelFacts::of(&l.survey(&w.survey).unwrap());
    assert_eq!(facts.responses, 2);
    assert_eq!(facts.questions[0], ("办事效率".to_owned(), [1, 0, 0, 0, 1]));
    assert_eq!(facts.questions[1], ("服务态度".to_owned(), [0, 0, 1, 0, 0]));
    assert_eq!(crate::survey::levels_satisfied_per_mille(&facts.questions[0].1), Some(500));
    // The unit may not rewrite what makes the round the office's.
    let mut forged = phone(&mut w);
    let surveys = obj(&forged, &["surveys", w.survey.as_str()]);
    forged.doc_mut().put(&surveys, "closes_on", "2099-12-31").unwrap();
    let note = crate::record::ChangeNote { summary: "crafted".into(), record: Some((Section::Surveys, w.survey.clone())), by: NAME.into() };
    forged.doc_mut().commit_with(CommitOptions::default().with_message(note.encode()));
    let changes = forged.doc_mut().get_changes(&w.server.heads());
    assert!(check(w.server.doc(), &changes, Sender { write: Write::Everything, name: NAME }).is_err());
}

#[test]
fn a_new_rule_in_place_of_an_old_one_marks_it_revised_and_links_both() {
    let mut w = world(Stage::Opened);
    let mut l = phone(&mut w);
    let new = l.add_rule(&RuleDraft { name: "村务公开办法".into(), replaces: Some(w.rule.clone()), ..Default::default() }, today(), 2_000).unwrap();
    let (old, added) = (l.rule(&w.rule).unwrap(), l.rule(&new).unwrap());
    assert_eq!((old.status(today()), old.replaced_by.as_ref(), added.replaces.as_ref()), (RuleStatus::Revised, Some(&new), Some(&w.rule)));
    assert_eq!(old.changes.last().unwrap().reason, "由《村务公开办法》取代");
    // 已修订 is final: it is not replaced twice, and nothing is written.
    let heads = l.heads();
    let again = l.add_rule(&RuleDraft { name: "另一个".into(), replaces: Some(w.rule.clone()), ..Default::default() }, today(), 3_000);
    assert!(again.unwrap_err().to_string().contains("已修订"));
    assert_eq!(l.heads(), heads);
    let unknown = l.add_rule(&RuleDraft { name: "另一个".into(), replaces: Some(RecordId::random()), ..Default::default() }, today(), 3_000);
    assert!(unknown.is_err());
}
