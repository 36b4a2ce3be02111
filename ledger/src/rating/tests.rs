use super::*;

fn day(d: &str) -> NaiveDate {
    NaiveDate::parse_from_str(d, "%Y-%m-%d").unwrap()
}

/// Noon in China on `d`, in ms.
fn noon(d: &str) -> i64 {
    day(d).and_hms_opt(4, 0, 0).unwrap().and_utc().timestamp_millis()
}

fn rating(verdict: Verdict, on: &str, steps: &[(StepKind, &str)]) -> Rating {
    Rating {
        id: RecordId::random(),
        target: Target::Pledge,
        target_id: Some(RecordId::random()),
        verdict,
        comment: "等了一上午".into(),
        way: Way::Poster,
        code_by: String::new(),
        steps: steps
            .iter()
            .enumerate()
            .map(|(i, (kind, at))| CaseStep {
                id: RecordId::random(),
                at: noon(at) + i as i64,
                by: "书记".into(),
                kind: *kind,
                text: "说明".into(),
                verdict: (*kind == StepKind::Recheck).then_some(Verdict::Satisfied),
            })
            .collect(),
        conflicts: Vec::new(),
        created_at: noon(on),
        deleted: false,
    }
}

#[test]
fn a_case_owes_by_the_organisations_calendar() {
    // Rated on the Friday before a week off (Mon 8 to Fri 12 February) with Sunday 7 worked.
    let rules = CaseRules { calendar: crate::calendar::WorkCalendar::parse("2027-02-08~2027-02-12", "2027-02-07").unwrap(), ..CaseRules::default() };
    let case = rating(Verdict::VeryDissatisfied, "2027-02-05", &[]).case(&rules).unwrap();
    assert_eq!(case.due, Some(day("2027-02-07")), "签收 on the worked Sunday");
    let case = rating(Verdict::VeryDissatisfied, "2027-02-05", &[(StepKind::Acknowledge, "2027-02-05")]).case(&rules).unwrap();
    assert_eq!(case.due, Some(day("2027-02-18")), "the answer: Sunday, then Monday to Thursday after the holiday");
    assert_eq!(rating(Verdict::VeryDissatisfied, "2027-02-05", &[]).case(&CaseRules::default()).unwrap().due, Some(day("2027-02-08")));
}

#[test]
fn only_a_bad_rating_opens_a_case() {
    for v in Verdict::ALL {
        assert_eq!(rating(*v, "2026-12-01", &[]).case(&CaseRules::default()).is_some(), v.is_bad(), "{v:?}");
    }
}

#[test]
fn a_case_moves_along_its_steps_and_owes_by_working_days() {
    use StepKind::*;
    let rules = CaseRules::default();
    // Rated on Friday: 签收 due Monday, the answer due the next Friday.
    let open = rating(Verdict::Dissatisfied, "2026-12-04", &[]).case(&rules).unwrap();
    assert_eq!((open.state, open.due), (CaseState::Open, Some(day("2026-12-07"))));
    assert!(!open.is_overdue(day("2026-12-07")));
    assert!(open.is_overdue(day("2026-12-08")));

    let acknowledged = rating(Verdict::Dissatisfied, "2026-12-04", &[(Acknowledge, "2026-12-07")]).case(&rules).unwrap();
    assert_eq!((acknowledged.state, acknowledged.due), (CaseState::Acknowledged, Some(day("2026-12-11"))));

    let answered = rating(Verdict::Dissatisfied, "2026-12-04", &[(Acknowledge, "2026-12-07"), (Rectify, "2026-12-08")]).case(&rules).unwrap();
    assert_eq!((answered.state, answered.due), (CaseState::Answered, None));
    assert_eq!(answered.answer.unwrap().kind, Rectify);

    let appealed = rating(Verdict::Dissatisfied, "2026-12-04", &[(Acknowledge, "2026-12-07"), (Appeal, "2026-12-08")]).case(&rules).unwrap();
    assert_eq!((appealed.state, appealed.due), (CaseState::Appealed, None), "the supervisor's decision is not the unit's to owe");

    // Upheld on the 14th: the unit owes its answer five working days from then.
    let upheld = rating(Verdict::Dissatisfied, "2026-12-04", &[(Acknowledge, "2026-12-07"), (Appeal, "2026-12-08"), (Uphold, "2026-12-14")]).case(&rules).unwrap();
    assert_eq!((upheld.state, upheld.due), (CaseState::Acknowledged, Some(day("2026-12-21"))));

    let withdrawn = rating(Verdict::Dissatisfied, "2026-12-04", &[(Acknowledge, "2026-12-07"), (Appeal, "2026-12-08"), (Withdraw, "2026-12-09")]).case(&rules).unwrap();
    assert_eq!(withdrawn.state, CaseState::Withdrawn);
    assert!(withdrawn.state.is_settled());

    let longer = CaseRules { acknowledge_days: 2, answer_days: 10, ..CaseRules::default() };
    assert_eq!(rating(Verdict::Dissatisfied, "2026-12-04", &[]).case(&longer).unwrap().due, Some(day("2026-12-08")));
}

#[test]
fn steps_out_of_turn_or_twice_are_skipped_the_same_way_everywhere() {
    use StepKind::*;
    // Two phones both 签收 offline, one answers before the other's 签收 arrives, a second
    // 回评 comes from a replayed link: the state reads as the first valid of each.
    let r = rating(
        Verdict::VeryDissatisfied,
        "2026-12-04",
        &[
            (Rectify, "2026-12-05"),
            (Acknowledge, "2026-12-07"),
            (Acknowledge, "2026-12-07"),
            (Explain, "2026-12-08"),
            (Rectify, "2026-12-09"),
            (Recheck, "2026-12-10"),
            (Recheck, "2026-12-11"),
        ],
    );
    let case = r.case(&CaseRules::default()).unwrap();
    assert_eq!(case.state, CaseState::Answered);
    assert_eq!(case.answer.as_ref().unwrap().kind, Explain);
    assert_eq!(case.recheck, Some(Verdict::Satisfied));
    assert!(!r.allows(Recheck), "a resident rechecks once");
    let mut shuffled = r.clone();
    shuffled.steps.reverse();
    assert_eq!(shuffled.case(&CaseRules::default()), Some(case), "the order steps arrive in does not matter");
}

#[test]
fn a_form_with_nothing_chosen_is_no_rating() {
    let e = RatingForm::default().validate().unwrap_err();
    assert!(e.for_field("verdict").is_some());
    let bad = RatingForm { verdict: "dissatisfied".into(), ..Default::default() };
    assert!(bad.validate().unwrap_err().for_field("comment").is_some(), "a 差评 says why");
    let good = RatingForm { verdict: "very_satisfied".into(), comment: " ".into(), phone: "138 0013 8000".into() };
    assert_eq!(good.validate().unwrap(), (Verdict::VerySatisfied, String::new(), "13800138000".into()));
    for phone in ["12345", "1380013800a", "138001380001", "<script>"] {
        let f = RatingForm { phone: phone.into(), ..good.clone() };
        assert!(f.validate().unwrap_err().for_field("phone").is_some(), "{phone}");
    }
    assert_eq!(phone_digits("0591-8765-4321"), Ok("059187654321".into()));
    let long = RatingForm { comment: "长".repeat(MAX_COMMENT + 1), ..good };
    assert!(long.validate().unwrap_err().for_field("comment").is_some());
}

#[test]
fn case_rules_are_checked() {
    assert!(CaseRules::default().check().is_ok());
    assert!(CaseRules { acknowledge_days: 0, answer_days: 5, ..CaseRules::default() }.check().is_err());
    assert!(CaseRules { acknowledge_days: 3, answer_days: 2, ..CaseRules::default() }.check().is_err());
    assert!(CaseRules { acknowledge_days: 1, answer_days: 61, ..CaseRules::default() }.check().is_err());
}

/// A step is placed after every step its writer saw, whatever the writer's clock says: a
/// supervisor's server a second behind the phone that appealed, or a phone set back a day,
/// still moves the case on instead of writing a step the fold would skip.
#[test]
fn a_step_follows_the_steps_its_writer_saw_even_with_a_clock_behind() {
    let mut l = crate::UnitLedger::create(automerge::ActorId::random());
    let r = ValidRating { target: Target::Post, target_id: RecordId::random(), verdict: Verdict::Dissatisfied, comment: String::new(), way: Way::Poster, code_by: String::new() };
    let id = l.add_rating(&r, noon("2026-12-01")).unwrap();
    l.add_case_step(&id, StepKind::Acknowledge, "", None, noon("2026-12-02")).unwrap();
    l.add_case_step(&id, StepKind::Appeal, "停电", None, noon("2026-12-02") + 1).unwrap();
    l.add_case_step(&id, StepKind::Withdraw, "属实", None, noon("2026-12-02")).unwrap();
    let rating = l.rating(&id).unwrap();
    assert_eq!(rating.case(&CaseRules::default()).unwrap().state, CaseState::Withdrawn);
    let withdraw = rating.steps.iter().find(|s| s.kind == StepKind::Withdraw).unwrap();
    assert_eq!(withdraw.at, noon("2026-12-02") + 2);
}
