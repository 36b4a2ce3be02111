use super::*;

fn resolve() -> Action {
    Action::Resolve { result: "已协调电工修好".into() }
}

#[test]
fn the_whole_path_to_a_follow_up() {
    let s = Status::Pending.apply(&Action::Start).unwrap();
    assert_eq!(s, Status::InProgress);
    let s = s.apply(&resolve()).unwrap();
    assert_eq!(s, Status::Resolved);
    let s = s.apply(&Action::FollowUp { satisfaction: Satisfaction::Satisfied, comment: String::new() }).unwrap();
    assert_eq!(s, Status::FollowedUp);
    assert!(s.actions().is_empty());
}

#[test]
fn dissatisfied_reopens_and_needs_a_reason() {
    let unhappy = |comment: &str| Action::FollowUp { satisfaction: Satisfaction::Dissatisfied, comment: comment.into() };
    assert_eq!(Status::Resolved.apply(&unhappy("  ")), Err(TransitionError::Missing("群众不满意时，请记下不满意的原因")));
    assert_eq!(Status::Resolved.apply(&unhappy("灯还是不亮")), Ok(Status::InProgress));
    let basic = Action::FollowUp { satisfaction: Satisfaction::Basic, comment: String::new() };
    assert_eq!(Status::Resolved.apply(&basic), Ok(Status::FollowedUp));
}

#[test]
fn every_transition_not_in_the_machine_is_refused() {
    let actions = [
        Action::Start,
        resolve(),
        Action::Reject { reason: "不属于本单位职责".into() },
        Action::FollowUp { satisfaction: Satisfaction::Satisfied, comment: String::new() },
        Action::Reopen,
    ];
    let mut allowed = 0;
    for status in Status::ALL {
        for action in &actions {
            let result = status.apply(action);
            if status.actions().contains(&action.kind()) {
                assert!(result.is_ok(), "{status:?} {action:?}");
                allowed += 1;
            } else {
                let err = result.unwrap_err();
                assert!(matches!(err, TransitionError::NotAllowed { .. }), "{status:?} {action:?}");
                assert!(err.to_string().contains(status.label()));
            }
        }
    }
    assert_eq!(allowed, 7);
    assert_eq!(Status::FollowedUp.apply(&Action::Start).unwrap_err().to_string(), "“已回访”的问题不能“开始办理”");
}

#[test]
fn what_each_step_requires() {
    assert_eq!(Status::InProgress.apply(&Action::Resolve { result: " ".into() }), Err(TransitionError::Missing("请写明办理结果")));
    assert_eq!(Status::Pending.apply(&Action::Reject { reason: String::new() }), Err(TransitionError::Missing("请写明不予受理的理由")));
    let long = Action::Resolve { result: "字".repeat(MAX_NOTE + 1) };
    assert_eq!(Status::InProgress.apply(&long), Err(TransitionError::TooLong));
    assert_eq!(Status::Rejected.apply(&Action::Reopen), Ok(Status::Pending));
    // Solved on the spot: straight from 待办 to 已办结.
    assert_eq!(Status::Pending.apply(&resolve()), Ok(Status::Resolved));
}

#[test]
fn drafts_are_validated_field_by_field() {
    let e = ProblemDraft::default().validate().unwrap_err();
    assert!(e.for_field("title").is_some());
    let d = ProblemDraft { title: "路灯不亮".into(), deadline: "2026-13-01".into(), ..Default::default() };
    assert!(d.validate().unwrap_err().for_field("deadline").unwrap().contains("格式"));
    let d = ProblemDraft { title: "题".repeat(MAX_TITLE + 1), ..Default::default() };
    assert!(d.validate().unwrap_err().for_field("title").unwrap().contains("最多 100 字"));
    // A 时限 before the problem's own date is refused; the same day is fine.
    let raised_on = NaiveDate::from_ymd_opt(2026, 11, 20);
    let d = ProblemDraft { title: "路灯不亮".into(), deadline: "2026-11-19".into(), raised_on, ..Default::default() };
    assert!(d.validate().unwrap_err().for_field("deadline").unwrap().contains("不能早于"));
    let d = ProblemDraft { deadline: "2026-11-20".into(), ..d };
    assert_eq!(d.validate().unwrap().deadline, raised_on);
    let mut d = ProblemDraft::for_enterprise(RecordId::random());
    assert!(d.validate().unwrap_err().for_field("difficulty").is_some(), "no type is chosen for the person");
    d.difficulty = Some(Difficulty::Finance);
    d.title = "流动资金紧张".into();
    let v = d.validate().unwrap();
    assert_eq!(v.category, Category::Business);
    d.difficulty = None;
    assert!(d.validate().unwrap_err().for_field("difficulty").is_some());
    let d = ProblemDraft { title: " 路灯不亮 ".into(), deadline: "2026-12-01".into(), ..Default::default() };
    let v = d.validate().unwrap();
    assert_eq!(v.title, "路灯不亮");
    assert_eq!(v.deadline, NaiveDate::from_ymd_opt(2026, 12, 1));
}

fn problem(status: Status, deadline: Option<NaiveDate>) -> Problem {
    Problem {
        id: RecordId::random(),
        title: "t".into(),
        description: String::new(),
        category: Category::Other,
        raised_by: RaisedBy::Resident,
        urgency: Urgency::Normal,
        responsible: String::new(),
        contact: String::new(),
        deadline,
        status,
        result: String::new(),
        reject_reason: String::new(),
        satisfaction: None,
        satisfaction_comment: String::new(),
        visit_id: None,
        enterprise_id: None,
        difficulty: None,
        supervision: Vec::new(),
        log: Vec::new(),
        photos: Vec::new(),
        location: None,
        conflicts: Vec::new(),
        created_at: 0,
        updated_at: 0,
        deleted: false,
    }
}

#[test]
fn overdue_means_open_and_past_the_deadline() {
    let today = NaiveDate::from_ymd_opt(2026, 11, 27).unwrap();
    let yesterday = today.pred_opt();
    assert!(problem(Status::Pending, yesterday).is_overdue(today));
    assert!(problem(Status::InProgress, yesterday).is_overdue(today));
    assert!(!problem(Status::InProgress, Some(today)).is_overdue(today));
    assert!(!problem(Status::Resolved, yesterday).is_overdue(today));
    assert!(!problem(Status::Rejected, yesterday).is_overdue(today));
    assert!(!problem(Status::Pending, None).is_overdue(today));
}

#[test]
fn summary_counts_statuses_overdue_and_satisfaction() {
    let today = NaiveDate::from_ymd_opt(2026, 11, 27).unwrap();
    let mut list = vec![problem(Status::Pending, today.pred_opt()), problem(Status::InProgress, None), problem(Status::FollowedUp, None), problem(Status::InProgress, None)];
    list[2].satisfaction = Some(Satisfaction::Basic);
    list[3].satisfaction = Some(Satisfaction::Dissatisfied);
    let mut deleted = problem(Status::Pending, today.pred_opt());
    deleted.deleted = true;
    list.push(deleted);
    let s = summarize_problems(&list, today);
    assert_eq!(s.total, 4);
    assert_eq!(s.overdue, 1);
    assert_eq!(s.by_status.iter().find(|(st, _)| *st == Status::InProgress).unwrap().1, 2);
    assert_eq!((s.satisfied, s.followed_up), (1, 2));
}
