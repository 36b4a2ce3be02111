//! Property test: three phones take random steps on one problem, one pledge and one survey
//! round, syncing with each other at random. Whatever the order, once everyone has merged
//! everything, all three see the same records, and nothing anyone saved is missing.

use automerge::ActorId;
use proptest::prelude::*;

use super::*;
use crate::codes::Satisfaction;
use crate::pledge::{Aim, Evaluator, PledgeDraft};
use crate::problem::{Action, ProblemDraft};
use crate::survey::SurveyDraft;

#[derive(Debug, Clone)]
enum Op {
    Progress,
    Step(u8),
    Responsible(u8),
    PledgeProgress,
    Evaluate(u8),
    ToggleAim(u8),
    Answer(u8),
    CloseSurvey,
    Sync(usize),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        Just(Op::Progress),
        (0u8..6).prop_map(Op::Step),
        (0u8..3).prop_map(Op::Responsible),
        Just(Op::PledgeProgress),
        (0u8..3).prop_map(Op::Evaluate),
        (0u8..8).prop_map(Op::ToggleAim),
        (0u8..3).prop_map(Op::Answer),
        Just(Op::CloseSurvey),
        (0usize..3).prop_map(Op::Sync),
    ]
}

fn action(n: u8) -> Action {
    match n {
        0 => Action::Start,
        1 => Action::Resolve { result: "已处理".into() },
        2 => Action::Reject { reason: "不属本单位".into() },
        3 => Action::FollowUp { satisfaction: Satisfaction::Satisfied, comment: String::new() },
        4 => Action::FollowUp { satisfaction: Satisfaction::Dissatisfied, comment: "未解决".into() },
        _ => Action::Reopen,
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 40, .. ProptestConfig::default() })]

    #[test]
    fn three_phones_converge_and_lose_nothing(script in proptest::collection::vec((0usize..3, op()), 1..40)) {
        let today = chrono::NaiveDate::from_ymd_opt(2026, 11, 27).unwrap();
        let mut first = UnitLedger::create(ActorId::random());
        let problem = first.add_problem(&ProblemDraft { title: "路灯".into(), ..Default::default() }.validate().unwrap(), 0).unwrap();
        let pledge_draft = PledgeDraft { content: "接待群众".into(), by: "张三".into(), aims: vec![Aim::ServiceLead], due: "2026-12-31".into(), ..Default::default() };
        let pledge = first.add_pledge(&pledge_draft.validate().unwrap(), 0).unwrap();
        let survey = first.add_survey(&SurveyDraft { title: "测评".into(), questions: "效率".into() }.validate(today).unwrap(), 0).unwrap();
        let question = first.survey(&survey).unwrap().questions[0].id.clone();
        let mut phones: Vec<UnitLedger> = (0..3).map(|_| first.fork(ActorId::random())).collect();

        let (mut progress, mut steps, mut pledge_posts, mut evaluations, mut answers) = (0usize, 0usize, 0usize, 0usize, 0usize);
        for (at, (who, op)) in script.into_iter().enumerate() {
            let now = 1_000 + at as i64;
            match op {
                Op::Sync(other) if other != who => {
                    let (a, b) = if who < other { let (l, r) = phones.split_at_mut(other); (&mut l[who], &mut r[0]) } else { let (l, r) = phones.split_at_mut(who); (&mut r[0], &mut l[other]) };
                    a.merge(b).unwrap();
                    b.merge(a).unwrap();
                }
                Op::Sync(_) => {}
                Op::Progress => { phones[who].add_problem_progress(&problem, "进展", now).unwrap(); progress += 1; }
                Op::Step(n) => if phones[who].change_problem_status(&problem, &action(n), now).is_ok() { steps += 1 },
                Op::Responsible(n) => {
                    let l = &mut phones[who];
                    let mut d = l.problem(&problem).unwrap().to_draft();
                    d.responsible = ["王", "李", "赵"][n as usize].into();
                    l.update_problem(&problem, &d.validate().unwrap(), now).unwrap();
                }
                Op::PledgeProgress => { phones[who].add_pledge_progress(&pledge, "进展", now).unwrap(); pledge_posts += 1; }
                Op::Evaluate(n) => { phones[who].add_evaluation(&pledge, Evaluator::Resident, Satisfaction::ALL[n as usize], "意见", now).unwrap(); evaluations += 1; }
                Op::ToggleAim(n) => {
                    let l = &mut phones[who];
                    let mut d = l.pledge(&pledge).unwrap().to_draft();
                    let aim = Aim::ALL[n as usize];
                    if d.aims.contains(&aim) && d.aims.len() > 1 { d.aims.retain(|a| *a != aim) } else if !d.aims.contains(&aim) { d.aims.push(aim) }
                    l.update_pledge(&pledge, &d.validate().unwrap(), now).unwrap();
                }
                Op::Answer(n) => if phones[who].add_survey_response(&survey, &[(question.clone(), Satisfaction::ALL[n as usize])], "", now).is_ok() { answers += 1 },
                Op::CloseSurvey => { phones[who].set_survey_closed(&survey, true, now).unwrap(); }
            }
            prop_assert_eq!(phones[who].doc_mut().pending_ops(), 0);
        }
        let (a, rest) = phones.split_first_mut().unwrap();
        for p in rest.iter_mut() { a.merge(p).unwrap(); }
        for p in rest.iter_mut() { p.merge(a).unwrap(); }
        let views: Vec<_> = phones.iter().map(|l| (l.problem(&problem).unwrap(), l.pledge(&pledge).unwrap(), l.survey(&survey).unwrap())).collect();
        prop_assert_eq!(&views[0], &views[1]);
        prop_assert_eq!(&views[0], &views[2]);
        let (p, g, s) = &views[0];
        prop_assert_eq!(p.log.iter().filter(|e| e.kind == "progress").count(), progress);
        prop_assert_eq!(p.log.iter().filter(|e| e.kind == "status").count(), steps);
        prop_assert_eq!(g.progress.len(), pledge_posts);
        prop_assert_eq!(g.evaluations.len(), evaluations);
        prop_assert!(!g.aims.is_empty() || g.conflicts.is_empty());
        prop_assert_eq!(s.responses.len(), answers);
        // The log is in time order on every phone.
        prop_assert!(p.log.windows(2).all(|w| (w[0].at, &w[0].id) <= (w[1].at, &w[1].id)));
    }
}
