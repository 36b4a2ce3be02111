use std::collections::HashSet;

use automerge::ActorId;
use chrono::NaiveDate;

use super::*;
use crate::codes::{Satisfaction, Verdict};
use crate::enterprise::ValidEnterprise;
use crate::pledge::{Aim, Evaluator, ValidPledge};
use crate::post::PostDraft;
use crate::problem::{Action, ProblemDraft};
use crate::rating::{ValidRating, Way};
use crate::visit::{ValidVisit, VisitKind};

fn day(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

/// Noon in China on `s`, in ms.
fn at(s: &str) -> i64 {
    day(s).and_hms_opt(4, 0, 0).unwrap().and_utc().timestamp_millis()
}

fn visit(l: &mut UnitLedger, date: &str, whom: &str, enterprise: Option<&RecordId>) -> RecordId {
    let v = ValidVisit {
        date: day(date),
        kind: if enterprise.is_some() { VisitKind::EnterpriseVisit } else { VisitKind::HomeVisit },
        whom: whom.into(),
        place: String::new(),
        heard: "听取意见".into(),
        opinions: String::new(),
        follow_up_needed: false,
        follow_up: String::new(),
        enterprise_id: enterprise.cloned(),
    };
    l.add_visit(&v, at(date)).unwrap()
}

fn problem(l: &mut UnitLedger, on: &str, title: &str, enterprise: Option<&RecordId>) -> RecordId {
    let draft = ProblemDraft { title: title.into(), deadline: "2026-12-31".into(), ..ProblemDraft::default() };
    let mut valid = draft.validate().unwrap();
    valid.enterprise_id = enterprise.cloned();
    l.add_problem(&valid, at(on)).unwrap()
}

fn resolve(l: &mut UnitLedger, id: &RecordId, on: &str) {
    l.change_problem_status(id, &Action::Resolve { result: "已解决".into() }, at(on)).unwrap();
}

fn pledge(l: &mut UnitLedger, by: &str, team: bool, content: &str) -> RecordId {
    let p = ValidPledge { content: content.into(), by: by.into(), team, aims: vec![Aim::ServiceLead], due: day("2026-12-31"), public: true };
    l.add_pledge(&p, at("2026-10-01")).unwrap()
}

fn rate(l: &mut UnitLedger, target: Target, id: &RecordId, verdict: Verdict, on: &str) -> RecordId {
    let r = ValidRating { target, target_id: id.clone(), verdict, comment: String::new(), way: Way::Poster, code_by: String::new() };
    l.add_rating(&r, at(on)).unwrap()
}

fn ids(lines: &[WorkLine]) -> Vec<&RecordId> {
    lines.iter().map(|l| &l.id).collect()
}

/// Two people of one unit, one of them with two phones, writing one ledger offline and merging:
/// each one's record holds what their own phones wrote, whoever merged it.
#[test]
fn a_persons_record_is_what_their_phones_wrote() {
    let (zhang_1, zhang_2, liu) = (ActorId::random(), ActorId::random(), ActorId::random());
    let mut phone_a = UnitLedger::create(zhang_1.clone());
    let mut phone_b = phone_a.fork(zhang_2.clone());
    let mut phone_c = phone_a.fork(liu.clone());

    let firm = phone_a
        .add_enterprise(
            &ValidEnterprise {
                name: "恒达机械".into(), credit_code: String::new(), industry: String::new(), contact: String::new(), phone: String::new(), address: String::new()
            },
            at("2026-10-02"),
        )
        .unwrap();
    let mut other = phone_a.fork(liu.clone());
    phone_c.merge(&mut other).unwrap();
    phone_b.merge(&mut phone_a).unwrap();

    // 张伟, first phone: two visits in November (one to the firm), one in October, one deleted.
    let v1 = visit(&mut phone_a, "2026-11-03", "张大爷家", None);
    let v2 = visit(&mut phone_a, "2026-11-20", "恒达机械", Some(&firm));
    visit(&mut phone_a, "2026-10-15", "李大妈家", None);
    let gone = visit(&mut phone_a, "2026-11-05", "错录", None);
    phone_a.set_deleted(Section::Visits, &gone, true, at("2026-11-05")).unwrap();
    let p1 = problem(&mut phone_a, "2026-11-20", "企业用工难", Some(&firm));
    // 张伟, second phone: a pledge of his kept, a team pledge kept (not his), a post he holds.
    let own = pledge(&mut phone_b, "张伟", false, "每周三接待群众");
    let team = pledge(&mut phone_b, "张伟", true, "班子承诺：修路");
    phone_b.set_pledge_fulfilled(&own, true, at("2026-11-25")).unwrap();
    phone_b.set_pledge_fulfilled(&team, true, at("2026-11-25")).unwrap();
    phone_b.add_evaluation(&own, Evaluator::Resident, Satisfaction::Satisfied, "", at("2026-11-26")).unwrap();
    let post = phone_b
        .add_post(&PostDraft { title: "网格服务岗".into(), holder: "张伟".into(), duties: "入户走访".into(), hours: "每周二".into() }.validate().unwrap(), at("2026-10-01"))
        .unwrap();
    // 刘洋: a visit, a problem of his own.
    let v_liu = visit(&mut phone_c, "2026-11-10", "王家", None);
    let p2 = problem(&mut phone_c, "2026-11-10", "路灯不亮", None);

    let mut merged = phone_a.fork(ActorId::random());
    merged.merge(&mut phone_b).unwrap();
    merged.merge(&mut phone_c).unwrap();
    // After the merge: 刘洋 resolves 张伟's problem, 张伟's second phone resolves 刘洋's, and a
    // resident rates 张伟's post and 刘洋's visit.
    let mut liu_again = merged.fork(liu.clone());
    resolve(&mut liu_again, &p1, "2026-11-28");
    liu_again.change_problem_status(&p1, &Action::FollowUp { satisfaction: Satisfaction::Satisfied, comment: String::new() }, at("2026-11-29")).unwrap();
    let mut zhang_again = merged.fork(zhang_2.clone());
    resolve(&mut zhang_again, &p2, "2026-11-27");
    let board = ActorId::random();
    let mut board_doc = merged.fork(board);
    let r_post = rate(&mut board_doc, Target::Post, &post, Verdict::VerySatisfied, "2026-11-12");
    let r_visit = rate(&mut board_doc, Target::Visit, &v_liu, Verdict::Satisfied, "2026-11-12");
    merged.merge(&mut liu_again).unwrap();
    merged.merge(&mut zhang_again).unwrap();
    merged.merge(&mut board_doc).unwrap();

    let november = Period::Month(2026, 11);
    let zhang_actors: HashSet<ActorId> = [zhang_1, zhang_2].into();
    let zhang = work_record(&merged, &Worker { name: "张伟", actors: &zhang_actors, whole_unit: false }, november);
    assert_eq!(ids(&zhang.visits), [&v1, &v2], "November's, not deleted, oldest first");
    assert_eq!(ids(&zhang.problems_raised), [&p1]);
    assert_eq!(zhang.problems_raised[0].outcome, "已回访；回访满意");
    assert_eq!(ids(&zhang.problems_resolved), [&p2], "the 办结 his phone recorded, not the one of his 刘洋 resolved");
    assert_eq!(ids(&zhang.pledges_kept), [&own], "his own pledge, not the team's");
    assert_eq!(zhang.pledges_kept[0].outcome, "已践诺；评议满意");
    assert_eq!(ids(&zhang.ratings), [&r_post]);
    assert_eq!((zhang.ratings[0].title.as_str(), zhang.ratings[0].outcome.as_str()), ("岗位：网格服务岗", "非常满意"));
    assert_eq!(zhang.enterprises.len(), 1);
    assert_eq!(zhang.enterprises[0].outcome, "走访 1 次；企业反映问题 1 个，已办结 1 个，回访满意 1 个");
    assert_eq!(zhang.enterprises[0].date, Some(day("2026-11-20")));

    let liu_actors: HashSet<ActorId> = [liu].into();
    let liu_record = work_record(&merged, &Worker { name: "刘洋", actors: &liu_actors, whole_unit: false }, november);
    assert_eq!(ids(&liu_record.visits), [&v_liu]);
    assert_eq!(ids(&liu_record.problems_raised), [&p2]);
    assert_eq!(ids(&liu_record.problems_resolved), [&p1]);
    assert_eq!(ids(&liu_record.ratings), [&r_visit]);
    assert!(liu_record.pledges_kept.is_empty() && liu_record.enterprises.is_empty(), "the firm was 张伟's, and 刘洋 only resolved its problem");

    // October holds only the October visit; another person's name takes nothing.
    let october = work_record(&merged, &Worker { name: "张伟", actors: &zhang_actors, whole_unit: false }, Period::Month(2026, 10));
    assert_eq!(october.visits.len(), 1);
    assert!(october.problems_raised.is_empty() && october.pledges_kept.is_empty());
    let nobody = work_record(&merged, &Worker { name: "", actors: &HashSet::new(), whole_unit: false }, november);
    assert!(nobody.is_empty(), "no actors and no name: nothing, not everything");

    // The unit's own record (a collective's): everyone's work, the team's pledge too.
    let unit = work_record(&merged, &Worker { name: "", actors: &HashSet::new(), whole_unit: true }, november);
    assert_eq!(unit.visits.len(), 3);
    assert_eq!(unit.problems_raised.len(), 2);
    assert_eq!(unit.problems_resolved.len(), 2);
    assert_eq!(ids(&unit.pledges_kept).len(), 2, "his pledge and the team's");
    assert!(ids(&unit.pledges_kept).contains(&&team));
    assert_eq!(unit.ratings.len(), 2);
}

/// A problem sent back by an unsatisfied follow-up after one person's 办结 and resolved again by another counts for the
/// last one only.
#[test]
fn a_reopened_problem_belongs_to_who_resolved_it_last() {
    let (a, b) = (ActorId::random(), ActorId::random());
    let mut l = UnitLedger::create(a.clone());
    let p = problem(&mut l, "2026-11-01", "下水道堵塞", None);
    resolve(&mut l, &p, "2026-11-02");
    l.change_problem_status(&p, &Action::FollowUp { satisfaction: Satisfaction::Dissatisfied, comment: "还是堵".into() }, at("2026-11-03")).unwrap();
    let mut other = l.fork(b.clone());
    resolve(&mut other, &p, "2026-11-04");
    l.merge(&mut other).unwrap();
    let month = Period::Month(2026, 11);
    let first = work_record(&l, &Worker { name: "甲", actors: &[a].into(), whole_unit: false }, month);
    let second = work_record(&l, &Worker { name: "乙", actors: &[b].into(), whole_unit: false }, month);
    assert!(first.problems_resolved.is_empty());
    assert_eq!(ids(&second.problems_resolved), [&p]);
    assert_eq!(second.problems_resolved[0].date, Some(day("2026-11-04")));
}
