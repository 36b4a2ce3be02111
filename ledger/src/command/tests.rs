use automerge::ActorId;
use chrono::NaiveDate;

use super::*;
use crate::pledge::Aim;
use crate::problem::Status;

const NOW: i64 = 1_790_000_000_000;

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 12, 4).unwrap()
}

fn ledger() -> UnitLedger {
    let mut l = UnitLedger::create(ActorId::random());
    l.set_author("王芳");
    l
}

/// Sent as a message and applied where the ledger lives: what arrives is what was sent.
fn across(command: &Command) -> Command {
    let bytes = postcard::to_allocvec(command).expect("a command serializes");
    postcard::from_bytes(&bytes).expect("and reads back")
}

fn apply(l: &mut UnitLedger, command: Command) -> RecordId {
    let arrived = across(&command);
    assert_eq!(arrived, command);
    arrived.apply(l, NOW, today()).unwrap_or_else(|e| panic!("{command:?}: {e}"))
}

fn visit(whom: &str) -> VisitDraft {
    VisitDraft { whom: whom.into(), heard: "路灯坏了".into(), ..VisitDraft::new(today()) }
}

fn problem(title: &str) -> ProblemDraft {
    ProblemDraft { title: title.into(), ..ProblemDraft::default() }
}

#[test]
fn every_command_crosses_as_a_message_and_does_what_it_names() {
    let mut l = ledger();
    // Visits, and a visit that found a problem: the problem is linked to it.
    let v = apply(&mut l, Command::AddVisit { visit: visit("张大爷"), problem: None, media: Default::default() });
    apply(&mut l, Command::UpdateVisit { id: v.clone(), visit: visit("张大娘"), media: Default::default() });
    assert_eq!(l.visit(&v).unwrap().whom, "张大娘");
    let p = apply(&mut l, Command::AddVisit { visit: visit("李师傅"), problem: Some(problem("排水沟堵塞")), media: Default::default() });
    let found = l.problem(&p).unwrap();
    let linked = found.visit_id.clone().expect("linked to its visit");
    assert_eq!(l.visit(&linked).unwrap().whom, "李师傅");

    // A problem through its course.
    let q = apply(&mut l, Command::AddProblem { problem: problem("路灯不亮"), media: Default::default() });
    apply(&mut l, Command::UpdateProblem { id: q.clone(), problem: problem("路灯不亮三盏"), media: Default::default() });
    apply(&mut l, Command::AssignProblem { id: q.clone(), responsible: "刘强".into() });
    apply(&mut l, Command::ProblemProgress { id: q.clone(), text: "已报修".into(), photos: Vec::new() });
    apply(&mut l, Command::StepProblem { id: q.clone(), action: Action::Start });
    apply(&mut l, Command::StepProblem { id: q.clone(), action: Action::Resolve { result: "已换灯".into() } });
    let q_now = l.problem(&q).unwrap();
    assert_eq!((q_now.title.as_str(), q_now.responsible.as_str(), q_now.status), ("路灯不亮三盏", "刘强", Status::Resolved));
    assert!(q_now.log.iter().any(|e| e.text == "已报修"));

    // An enterprise, a pledge, a survey round.
    let code = "91350100M000100Y43";
    let e = apply(
        &mut l,
        Command::AddEnterprise { enterprise: EnterpriseDraft { name: "闽兴机械".into(), credit_code: code.into(), ..Default::default() }, media: Default::default() },
    );
    apply(
        &mut l,
        Command::UpdateEnterprise {
            id: e.clone(),
            enterprise: EnterpriseDraft { name: "闽兴机械有限公司".into(), credit_code: code.into(), ..Default::default() },
            media: Default::default(),
        },
    );
    assert_eq!(l.enterprise(&e).unwrap().name, "闽兴机械有限公司");
    let pledge = PledgeDraft { content: "每周三上门服务".into(), by: "王芳".into(), aims: vec![Aim::ALL[0]], due: "2026-12-31".into(), ..Default::default() };
    let g = apply(&mut l, Command::AddPledge { pledge: pledge.clone() });
    apply(&mut l, Command::UpdatePledge { id: g.clone(), pledge: PledgeDraft { content: "每周三、五上门服务".into(), ..pledge } });
    apply(&mut l, Command::PledgeProgress { id: g.clone(), text: "已上门三次".into() });
    apply(&mut l, Command::EvaluatePledge { id: g.clone(), evaluator: Evaluator::ALL[0], rating: Satisfaction::Satisfied, comment: "好".into() });
    apply(&mut l, Command::SetPledgeFulfilled { id: g.clone(), fulfilled: true });
    let g_now = l.pledge(&g).unwrap();
    assert_eq!((g_now.content.as_str(), g_now.progress.len(), g_now.rating(), g_now.fulfilled), ("每周三、五上门服务", 1, (1, 1), true));
    let s = apply(&mut l, Command::AddSurvey { survey: SurveyDraft { title: "十二月测评".into(), questions: "路灯\n卫生".into() } });
    let questions = l.survey(&s).unwrap().questions;
    let answers = questions.iter().map(|q| (q.id.clone(), Satisfaction::Satisfied)).collect();
    apply(&mut l, Command::AnswerSurvey { id: s.clone(), answers, comment: String::new() });
    apply(&mut l, Command::SetSurveyClosed { id: s.clone(), closed: true });
    let s_now = l.survey(&s).unwrap();
    assert_eq!((s_now.responses.len(), s_now.closed), (1, true));

    // Deleting, and settling a conflict (two phones wrote the title at once).
    apply(&mut l, Command::SetDeleted { section: Section::Visits, id: v.clone(), deleted: true });
    assert!(l.visit(&v).unwrap().deleted);
    let mut other = l.fork(ActorId::random());
    apply(&mut l, Command::UpdateProblem { id: q.clone(), problem: problem("路灯不亮（东段）"), media: Default::default() });
    apply(&mut other, Command::UpdateProblem { id: q.clone(), problem: problem("路灯不亮（西段）"), media: Default::default() });
    l.merge(&mut other).unwrap();
    assert!(!l.problem(&q).unwrap().conflicts.is_empty());
    apply(&mut l, Command::ResolveConflict { section: Section::Problems, id: q.clone(), field: "title".into(), value: "路灯不亮（西段）".into() });
    let settled = l.problem(&q).unwrap();
    assert_eq!(settled.title, "路灯不亮（西段）");
    assert!(!settled.conflicts.iter().any(|c| c.field == "title"), "{:?}", settled.conflicts);
}

#[test]
fn a_refused_command_says_why_and_leaves_the_ledger_as_it_was() {
    let mut l = ledger();
    let q = apply(&mut l, Command::AddProblem { problem: problem("路灯不亮"), media: Default::default() });
    let before = l.heads();
    let refusals = [
        // A draft its form would refuse.
        (Command::AddVisit { visit: visit(""), problem: None, media: Default::default() }, "走访对象"),
        (Command::AddVisit { visit: visit("张大爷"), problem: Some(problem("")), media: Default::default() }, "问题"),
        // A step not open from 待办.
        (Command::StepProblem { id: q.clone(), action: Action::Reopen }, ""),
        // Refused after the visit was written: its problem names a firm the ledger lacks.
        (
            Command::AddVisit {
                visit: visit("张大爷"),
                problem: Some(ProblemDraft {
                    enterprise_id: RecordId::parse("0123456789abcdef0123456789abcdef"),
                    difficulty: Some(crate::problem::Difficulty::ALL[0]),
                    ..problem("缺工")
                }),
                media: Default::default(),
            },
            "企业不存在",
        ),
        (Command::ProblemProgress { id: RecordId::parse("0123456789abcdef0123456789abcdef").unwrap(), text: "进展".into(), photos: Vec::new() }, "找不到"),
    ];
    for (command, why) in refusals {
        let refused = across(&command).apply(&mut l, NOW, today()).expect_err(&format!("{command:?} is refused"));
        assert!(refused.to_string().contains(why), "{command:?}: {refused}");
        assert_eq!(l.heads(), before, "{command:?} left a change behind");
    }
    assert!(l.visits().visits.is_empty());
    assert_eq!(l.problems().records.len(), 1);
    // And the ledger still takes the next change.
    apply(&mut l, Command::AddVisit { visit: visit("张大爷"), problem: None, media: Default::default() });
    assert_eq!(l.visits().visits.len(), 1);
}

/// The board's commands: a post set up and published, a pledge published, and a 差评's case
/// answered by the unit. A step out of turn, or a resident's 回评 from a phone, is refused and
/// changes nothing.
#[test]
fn posts_are_published_and_a_bad_rating_is_answered_in_turn() {
    use crate::rating::{StepKind, Target, ValidRating, Way};
    use crate::Verdict;
    let mut l = ledger();
    let draft = PostDraft { title: "便民服务窗口".into(), holder: "李梅".into(), duties: "代办社保".into(), hours: "工作日".into() };
    let post = apply(&mut l, Command::AddPost { post: draft.clone() });
    apply(&mut l, Command::UpdatePost { id: post.clone(), post: PostDraft { holder: "王芳".into(), ..draft } });
    apply(&mut l, Command::SetPublished { section: Section::Posts, id: post.clone(), published: true });
    let shown = l.post(&post).unwrap();
    assert_eq!((shown.holder.as_str(), shown.is_public()), ("王芳", true));
    let pledge = apply(
        &mut l,
        Command::AddPledge {
            pledge: PledgeDraft { content: "三日内回复".into(), by: "王芳".into(), aims: vec![Aim::ALL[0]], due: "2026-12-31".into(), ..Default::default() }
        },
    );
    apply(&mut l, Command::SetPublished { section: Section::Pledges, id: pledge.clone(), published: true });
    assert!(l.pledge(&pledge).unwrap().published);

    let rating = ValidRating { target: Target::Post, target_id: post, verdict: Verdict::Dissatisfied, comment: "窗口没人".into(), way: Way::Poster, code_by: String::new() };
    let bad = l.add_rating(&rating, NOW).unwrap();
    let heads = l.heads();
    for refused in [
        Command::CaseStep { id: bad.clone(), kind: StepKind::Rectify, text: "已安排值班".into() },
        Command::CaseStep { id: bad.clone(), kind: StepKind::Recheck, text: String::new() },
        Command::CaseStep { id: bad.clone(), kind: StepKind::Withdraw, text: "不成立".into() },
    ] {
        assert!(across(&refused).apply(&mut l, NOW, today()).is_err(), "{refused:?}");
        assert_eq!(l.heads(), heads, "{refused:?} changed the ledger");
    }
    apply(&mut l, Command::CaseStep { id: bad.clone(), kind: StepKind::Acknowledge, text: String::new() });
    let no_text = Command::CaseStep { id: bad.clone(), kind: StepKind::Rectify, text: " ".into() };
    assert!(no_text.apply(&mut l, NOW, today()).is_err());
    apply(&mut l, Command::CaseStep { id: bad.clone(), kind: StepKind::Rectify, text: "已安排专人值班".into() });
    let case = l.rating(&bad).unwrap().case(&Default::default()).unwrap();
    assert_eq!(case.state, crate::rating::CaseState::Answered);
}
