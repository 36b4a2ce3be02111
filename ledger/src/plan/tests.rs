use super::tests_support::{complete, day};
use super::*;

fn submitted(content: PlanContent, at: i64) -> Submission {
    Submission { id: RecordId::random(), at, by: "王芳".into(), content }
}

fn review(of: &Submission, verdict: ReviewVerdict, at: i64) -> Review {
    let parts = if verdict == ReviewVerdict::Return { vec![(PlanPart::Tasks, "任务要有完成时限".to_owned())] } else { Vec::new() };
    Review { id: RecordId::random(), at, by: "先锋办".into(), submission: of.id.clone(), verdict, opinion: "意见".into(), parts }
}

fn plan() -> Plan {
    Plan {
        id: RecordId::random(),
        title: "2027 年实施方案".into(),
        deadline: Some(day("2027-03-31")),
        office: "青山县先锋办".into(),
        draft: PlanContent::default(),
        submissions: Vec::new(),
        reviews: Vec::new(),
        follow: Vec::new(),
        conflicts: Vec::new(),
        created_at: 0,
        updated_at: 0,
    }
}

#[test]
fn a_plan_goes_through_a_return_and_a_new_version_to_approval_keeping_everything() {
    let mut p = plan();
    assert_eq!((p.state(), p.may_edit()), (PlanState::Drafting, true));
    let v1 = submitted(complete(), 1_000);
    p.submissions.push(v1.clone());
    assert_eq!((p.state(), p.may_edit()), (PlanState::Submitted, false), "a submitted plan is locked");
    assert_eq!(p.awaiting_review().map(|s| &s.id), Some(&v1.id));
    p.reviews.push(review(&v1, ReviewVerdict::Return, 2_000));
    assert_eq!((p.state(), p.may_edit()), (PlanState::Returned, true));
    assert!(p.approved_tasks().is_empty());
    let mut revised = complete();
    revised.goals = "全年解决群众急难愁盼问题 30 件".into();
    let v2 = submitted(revised, 3_000);
    p.submissions.push(v2.clone());
    assert_eq!(p.state(), PlanState::Submitted, "the return was of the version before");
    p.reviews.push(review(&v2, ReviewVerdict::Approve, 4_000));
    assert_eq!(p.state(), PlanState::Approved);
    assert_eq!(p.approved_tasks(), v2.content.tasks.as_slice());
    assert_eq!((p.submissions.len(), p.reviews.len()), (2, 2), "every version and opinion is kept");
}

#[test]
fn two_phones_submitting_at_once_leave_one_version_to_review_and_both_in_the_history() {
    let mut p = plan();
    let (a, b) = (submitted(complete(), 1_000), submitted(complete(), 1_000));
    p.submissions.extend([a.clone(), b.clone()]);
    let later = if (a.at, &a.id) > (b.at, &b.id) { &a } else { &b };
    let earlier = if later.id == a.id { &b } else { &a };
    assert_eq!(p.awaiting_review().map(|s| &s.id), Some(&later.id));
    // An approval of the version that lost the tie decides nothing.
    p.reviews.push(review(earlier, ReviewVerdict::Approve, 2_000));
    assert_eq!(p.state(), PlanState::Submitted);
    p.reviews.push(review(later, ReviewVerdict::Approve, 2_000));
    assert_eq!(p.state(), PlanState::Approved);
    // The same state whatever order the entries arrived in.
    let mut q = p.clone();
    q.submissions.reverse();
    q.reviews.reverse();
    assert_eq!(q.state(), PlanState::Approved);
    assert_eq!(q.latest().map(|s| &s.id), Some(&later.id));
}

#[test]
fn only_a_complete_plan_is_submitted_and_sizes_bound_every_draft() {
    assert!(complete().check_complete().is_ok());
    let e = PlanContent::default().check_complete().unwrap_err();
    for field in ["goals", "carriers", "stages", "leadership", "tasks"] {
        assert!(e.for_field(field).is_some(), "{field}: {:?}", e.messages());
    }
    assert!(PlanContent::default().check_sizes().is_ok(), "an empty draft may be saved");
    let mut c = complete();
    c.tasks[0].due = None;
    assert!(c.check_complete().unwrap_err().for_field("tasks").unwrap().contains("修复村口路灯"));
    let mut c = complete();
    c.stages[0].to = Some(day("2027-02-01"));
    assert!(c.check_complete().unwrap_err().for_field("stages").unwrap().contains("结束日期早于开始日期"));
    let mut c = complete();
    c.goals = "长".repeat(MAX_TEXT + 1);
    assert!(c.check_sizes().unwrap_err().for_field("goals").unwrap().contains("最多 5000 字"));
    let mut c = complete();
    c.tasks = (0..=MAX_ITEMS).map(|_| complete().tasks[0].clone()).collect();
    assert!(c.check_sizes().is_err());
}

#[test]
fn the_office_sees_each_unit_filed_overdue_returned_or_approved() {
    let deadline = day("2027-03-31");
    let (before, after) = (day("2027-03-31"), day("2027-04-01"));
    assert_eq!(filing(None, deadline, before), Filing::NotFiled);
    assert_eq!(filing(None, deadline, after), Filing::Overdue);
    let mut p = plan();
    assert_eq!(filing(Some(&p), deadline, after), Filing::Overdue, "a draft is not a filing");
    let v1 = submitted(complete(), 1_000);
    p.submissions.push(v1.clone());
    assert_eq!(filing(Some(&p), deadline, after), Filing::Submitted);
    p.reviews.push(review(&v1, ReviewVerdict::Return, 2_000));
    assert_eq!(filing(Some(&p), deadline, after), Filing::Returned);
    let v2 = submitted(complete(), 3_000);
    p.submissions.push(v2.clone());
    p.reviews.push(review(&v2, ReviewVerdict::Approve, 4_000));
    assert_eq!(filing(Some(&p), deadline, after), Filing::Approved);
}
