use automerge::ActorId;

use super::*;
use crate::pledge::Aim;
use crate::post::PostDraft;
use crate::problem::{Action, RaisedBy};
use crate::rating::{StepKind, ValidRating, Way};
use crate::record::Section;
use crate::{PledgeDraft, ProblemDraft, UnitLedger};

fn board(l: &UnitLedger) -> PublicBoard {
    PublicBoard::of(&l.posts().records, &l.pledges().records, &l.problems().records, &l.ratings().records, &CaseRules::default())
}

fn rate(l: &mut UnitLedger, target: Target, id: &RecordId, verdict: Verdict, comment: &str) -> RecordId {
    let r = ValidRating { target, target_id: id.clone(), verdict, comment: comment.into(), way: Way::Poster, code_by: String::new() };
    l.add_rating(&r, 1_800_000_000_000).unwrap()
}

#[test]
fn only_what_the_secretary_published_is_on_the_board() {
    let mut l = UnitLedger::create(ActorId::random());
    let post = PostDraft { title: "便民窗口".into(), holder: "李梅".into(), duties: "代办社保".into(), hours: "工作日".into() }.validate().unwrap();
    let shown = l.add_post(&post, 1).unwrap();
    let _unpublished = l.add_post(&post, 2).unwrap();
    let taken_down = l.add_post(&post, 3).unwrap();
    l.set_published(Section::Posts, &shown, true, 4).unwrap();
    l.set_published(Section::Posts, &taken_down, true, 4).unwrap();
    l.set_deleted(Section::Posts, &taken_down, true, 5).unwrap();
    let pledge =
        |public| PledgeDraft { content: "每周三接访".into(), team: true, aims: vec![Aim::ServiceLead], due: "2026-12-31".into(), public, ..Default::default() }.validate().unwrap();
    let public = l.add_pledge(&pledge(true), 1).unwrap();
    let internal = l.add_pledge(&pledge(false), 1).unwrap();
    let _unpublished = l.add_pledge(&pledge(true), 1).unwrap();
    l.set_published(Section::Pledges, &public, true, 2).unwrap();
    // Published but the pledger keeps it internal: not shown.
    l.set_published(Section::Pledges, &internal, true, 2).unwrap();
    l.add_pledge_progress(&public, "已接访 3 次", 3).unwrap();
    let b = board(&l);
    assert_eq!(b.posts.iter().map(|p| &p.id).collect::<Vec<_>>(), [&shown]);
    assert_eq!(b.pledges.iter().map(|p| &p.id).collect::<Vec<_>>(), [&public]);
    assert_eq!(b.pledges[0].progress[0].1, "已接访 3 次");
}

#[test]
fn a_distribution_shows_from_five_ratings_and_never_who() {
    let mut l = UnitLedger::create(ActorId::random());
    let id = l.add_post(&PostDraft { title: "调解岗".into(), holder: "王五".into(), duties: "调解".into(), hours: String::new() }.validate().unwrap(), 1).unwrap();
    l.set_published(Section::Posts, &id, true, 2).unwrap();
    for v in [Verdict::VerySatisfied, Verdict::Satisfied, Verdict::Satisfied, Verdict::Basic] {
        rate(&mut l, Target::Post, &id, v, "");
    }
    assert_eq!(board(&l).posts[0].ratings, None, "four ratings: not yet");
    rate(&mut l, Target::Post, &id, Verdict::Dissatisfied, "调解不公");
    let d = board(&l).posts[0].ratings.unwrap();
    assert_eq!(d.0, [1, 2, 1, 1, 0]);
    assert_eq!((d.satisfied(), d.total()), (4, 5));
    let b = board(&l);
    assert_eq!(b.cases.len(), 1);
    assert_eq!((b.cases[0].about.as_str(), b.cases[0].comment.as_str(), b.cases[0].state), ("调解岗", "调解不公", CaseState::Open));
}

#[test]
fn a_case_shows_the_units_reply_once_answered() {
    let mut l = UnitLedger::create(ActorId::random());
    let visit = RecordId::random();
    let r = rate(&mut l, Target::Visit, &visit, Verdict::VeryDissatisfied, "说好的事没下文");
    l.add_case_step(&r, StepKind::Acknowledge, "", None, 1_800_000_100_000).unwrap();
    assert_eq!(board(&l).cases[0].reply, None);
    l.add_case_step(&r, StepKind::Explain, "已于周一答复并上门说明", None, 1_800_000_200_000).unwrap();
    let case = &board(&l).cases[0];
    assert_eq!(case.about, "一次走访", "a piece of work is named by its kind, never by whom it was for");
    assert_eq!(case.state, CaseState::Answered);
    assert_eq!(case.reply, Some((StepKind::Explain, "已于周一答复并上门说明".into())));
}

#[test]
fn only_closed_messages_are_answered_questions_and_contacts_never_show() {
    let mut l = UnitLedger::create(ActorId::random());
    let ask = |l: &mut UnitLedger, raised_by| {
        let d = ProblemDraft { title: "三号楼路灯不亮".into(), description: "晚上看不见路".into(), raised_by, contact: "13800138000".into(), ..Default::default() };
        l.add_problem(&d.validate().unwrap(), 1).unwrap()
    };
    let open = ask(&mut l, RaisedBy::Message);
    let answered = ask(&mut l, RaisedBy::Message);
    let refused = ask(&mut l, RaisedBy::Message);
    let cadres = ask(&mut l, RaisedBy::Resident);
    l.change_problem_status(&answered, &Action::Resolve { result: "已更换灯泡".into() }, 2).unwrap();
    l.change_problem_status(&refused, &Action::Reject { reason: "属物业管理范围，已转告物业".into() }, 2).unwrap();
    l.change_problem_status(&cadres, &Action::Resolve { result: "已修".into() }, 2).unwrap();
    let b = board(&l);
    assert_eq!(b.answers.len(), 2, "{:?}", b.answers);
    assert!(b.answers.iter().any(|a| a.answer == "已更换灯泡" && !a.rejected));
    assert!(b.answers.iter().any(|a| a.answer.starts_with("属物业") && a.rejected));
    let _ = open;
    let json = format!("{b:?}");
    assert!(!json.contains("13800138000"), "a contact reached the board: {json}");
}
