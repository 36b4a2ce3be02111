//! The public board's writes and the secretary's publishing, cell by cell: who may make each
//! change the board brings (ratings, 留言, a case's steps, posts, publishing), and the exact
//! reason everyone else is refused.

use automerge::{ActorId, Change};

use super::*;
use crate::codes::Verdict;
use crate::post::PostDraft;
use crate::problem::RaisedBy;
use crate::rating::{StepKind, Target, ValidRating, Way};
use crate::record::Section;
use crate::{ProblemDraft, RecordId, UnitLedger};

const NAME: &str = "先锋广场";

/// A unit's ledger with a published post, a pledge and a 差评 of the post at `steps`.
fn ledger(steps: &[StepKind]) -> (UnitLedger, RecordId, RecordId, RecordId) {
    let mut l = UnitLedger::create(ActorId::random());
    l.set_author(NAME);
    let post = l.add_post(&PostDraft { title: "便民窗口".into(), holder: "李梅".into(), duties: "代办".into(), hours: String::new() }.validate().unwrap(), 1_000).unwrap();
    let pledge = l
        .add_pledge(
            &crate::PledgeDraft { content: "每周接访".into(), team: true, aims: vec![crate::pledge::Aim::ServiceLead], due: "2026-12-31".into(), ..Default::default() }
                .validate()
                .unwrap(),
            1_000,
        )
        .unwrap();
    let rating = l.add_rating(&bad_rating(&post), 1_000).unwrap();
    for (i, step) in steps.iter().enumerate() {
        let verdict = (*step == StepKind::Recheck).then_some(Verdict::Satisfied);
        l.add_case_step(&rating, *step, "说明", verdict, 2_000 + i as i64).unwrap();
    }
    (l, post, pledge, rating)
}

fn bad_rating(post: &RecordId) -> ValidRating {
    ValidRating { target: Target::Post, target_id: post.clone(), verdict: Verdict::VeryDissatisfied, comment: "窗口常没人".into(), way: Way::Poster, code_by: String::new() }
}

/// The changes `edit` makes on a copy of `base`, checked as `write` sends them.
fn verdict(base: &mut UnitLedger, write: Write, edit: impl FnOnce(&mut UnitLedger) -> Result<(), crate::LedgerError>) -> Result<(), String> {
    let mut copy = base.fork(ActorId::random());
    let before = base.heads();
    edit(&mut copy).expect("the ledger's own API makes the change");
    let changes: Vec<Change> = copy.doc_mut().get_changes(&before);
    assert!(!changes.is_empty());
    super::check(base.doc(), &changes, Sender { write, name: NAME })
}

fn refused_with(result: Result<(), String>, reason: &str, what: &str) {
    assert!(result.as_ref().is_err_and(|e| e.starts_with(reason)), "{what}: expected “{reason}”, got {result:?}");
}

const PERSONS: [Write; 3] = [Write::Cadre, Write::Everything, Write::SupervisionOnly];

#[test]
fn only_the_board_records_a_rating() {
    let (mut l, post, ..) = ledger(&[]);
    let add = |l: &mut UnitLedger| l.add_rating(&bad_rating(&post), 3_000).map(|_| ());
    assert_eq!(verdict(&mut l, Write::Board, add), Ok(()));
    refused_with(verdict(&mut l, Write::Everything, add), RATINGS_ARE_RESIDENTS, "secretary");
    refused_with(verdict(&mut l, Write::Cadre, add), RATINGS_ARE_RESIDENTS, "cadre");
    refused_with(verdict(&mut l, Write::SupervisionOnly, add), SUPERVISORS_ONLY_REMARK, "supervisor");
    assert!(verdict(&mut l, Write::Nothing, add).is_err());
}

#[test]
fn the_board_raises_only_residents_messages_and_nothing_else() {
    let (mut l, post, pledge, _) = ledger(&[]);
    let message = |raised_by: RaisedBy| {
        move |l: &mut UnitLedger| {
            let draft = ProblemDraft { title: "小区路灯不亮".into(), description: "三号楼前".into(), raised_by, ..Default::default() };
            l.add_problem(&draft.validate().unwrap(), 3_000).map(|_| ())
        }
    };
    assert_eq!(verdict(&mut l, Write::Board, message(RaisedBy::Message)), Ok(()));
    refused_with(verdict(&mut l, Write::Board, message(RaisedBy::Resident)), BOARD_ONLY_RESIDENTS, "a problem raised as a cadre's");
    // The unit raises problems as before.
    assert_eq!(verdict(&mut l, Write::Cadre, message(RaisedBy::Resident)), Ok(()));

    let visit = |l: &mut UnitLedger| {
        let today = chrono::NaiveDate::from_ymd_opt(2026, 12, 5).unwrap();
        let d = crate::VisitDraft { whom: "张大爷".into(), heard: "路灯".into(), ..crate::VisitDraft::new(today) };
        l.add_visit(&d.validate(today).unwrap(), 3_000).map(|_| ())
    };
    refused_with(verdict(&mut l, Write::Board, visit), BOARD_ONLY_RESIDENTS, "a visit");
    let evaluation = |l: &mut UnitLedger| l.add_evaluation(&pledge, crate::pledge::Evaluator::Resident, crate::Satisfaction::Satisfied, "", 3_000);
    refused_with(verdict(&mut l, Write::Board, evaluation), BOARD_ONLY_RESIDENTS, "a pledge's evaluation");
    let publish = |l: &mut UnitLedger| l.set_published(Section::Posts, &post, false, 3_000);
    refused_with(verdict(&mut l, Write::Board, publish), BOARD_ONLY_RESIDENTS, "taking a post down");
    let post_edit = |l: &mut UnitLedger| {
        l.add_post(&PostDraft { title: "假岗位".into(), holder: "某".into(), duties: "无".into(), hours: String::new() }.validate().unwrap(), 3_000).map(|_| ())
    };
    refused_with(verdict(&mut l, Write::Board, post_edit), BOARD_ONLY_RESIDENTS, "a post");
}

#[test]
fn posts_and_publishing_are_the_secretarys() {
    let (mut l, post, pledge, _) = ledger(&[]);
    let new_post = |l: &mut UnitLedger| {
        l.add_post(&PostDraft { title: "调解岗".into(), holder: "王五".into(), duties: "调解纠纷".into(), hours: String::new() }.validate().unwrap(), 3_000).map(|_| ())
    };
    let edit_post = |l: &mut UnitLedger| {
        l.update_post(&post, &PostDraft { title: "便民窗口".into(), holder: "赵六".into(), duties: "代办".into(), hours: String::new() }.validate().unwrap(), 3_000)
    };
    let delete_post = |l: &mut UnitLedger| l.set_deleted(Section::Posts, &post, true, 3_000);
    let publish_pledge = |l: &mut UnitLedger| l.set_published(Section::Pledges, &pledge, true, 3_000);
    for (what, edit) in [
        ("a new post", &new_post as &dyn Fn(&mut UnitLedger) -> Result<(), crate::LedgerError>),
        ("a post's holder", &edit_post),
        ("a post deleted", &delete_post),
        ("a pledge published", &publish_pledge),
    ] {
        assert_eq!(verdict(&mut l, Write::Everything, edit), Ok(()), "{what}");
        let cadre = verdict(&mut l, Write::Cadre, edit);
        assert!(cadre.as_ref().is_err_and(|e| e.starts_with(SECRETARY_ONLY_PUBLISH) || e.starts_with(SECRETARY_ONLY_ASSIGN)), "{what}: {cadre:?}");
        refused_with(verdict(&mut l, Write::SupervisionOnly, edit), SUPERVISORS_ONLY_REMARK, what);
    }
}

#[test]
fn a_cadre_cannot_publish_a_pledge_in_the_change_that_makes_it() {
    let (mut l, ..) = ledger(&[]);
    let sneak = |l: &mut UnitLedger| {
        let id = l.add_pledge(
            &crate::PledgeDraft { content: "公开承诺".into(), team: true, aims: vec![crate::pledge::Aim::ServiceLead], due: "2026-12-31".into(), ..Default::default() }
                .validate()
                .unwrap(),
            3_000,
        )?;
        l.set_published(Section::Pledges, &id, true, 3_000)
    };
    refused_with(verdict(&mut l, Write::Cadre, sneak), SECRETARY_ONLY_PUBLISH, "published with the pledge");
    assert_eq!(verdict(&mut l, Write::Everything, sneak), Ok(()));
}

#[test]
fn each_step_of_a_case_is_taken_only_by_its_own_taker() {
    use StepKind::*;
    // (the steps before, the step, who may take it)
    let cells: [(&[StepKind], StepKind, Write); 7] = [
        (&[], Acknowledge, Write::Everything),
        (&[Acknowledge], Rectify, Write::Everything),
        (&[Acknowledge], Explain, Write::Everything),
        (&[Acknowledge], Appeal, Write::Everything),
        (&[Acknowledge, Appeal], Uphold, Write::SupervisionOnly),
        (&[Acknowledge, Appeal], Withdraw, Write::SupervisionOnly),
        (&[Acknowledge, Rectify], Recheck, Write::Board),
    ];
    for (before, step, taker) in cells {
        let (mut l, _, _, rating) = ledger(before);
        let take = |l: &mut UnitLedger| l.add_case_step(&rating, step, "说明", (step == Recheck).then_some(Verdict::Basic), 5_000);
        for write in [Write::Board].into_iter().chain(PERSONS) {
            let result = verdict(&mut l, write, take);
            if write == taker {
                assert_eq!(result, Ok(()), "{step:?} by {write:?}");
            } else if write == Write::Cadre {
                assert!(result.is_err(), "{step:?} by a cadre: {result:?}");
            } else {
                refused_with(result, CASE_STEP_NOT_YOURS, &format!("{step:?} by {write:?}"));
            }
        }
    }
}

#[test]
fn nobody_changes_or_removes_a_residents_rating() {
    let (mut l, _, _, rating) = ledger(&[]);
    let delete = |l: &mut UnitLedger| l.set_deleted(Section::Ratings, &rating, true, 3_000);
    let reword = |l: &mut UnitLedger| {
        use automerge::transaction::{CommitOptions, Transactable};
        let doc = l.doc_mut();
        let (_, ratings) = doc.get(automerge::ROOT, "ratings")?.unwrap();
        let (_, obj) = doc.get(&ratings, rating.as_str())?.unwrap();
        doc.put(&obj, "verdict", Verdict::Satisfied.code())?;
        let note = ChangeNote { summary: "改评价".into(), record: Some((Section::Ratings, rating.clone())), by: NAME.into() };
        doc.commit_with(CommitOptions::default().with_message(note.encode()));
        Ok(())
    };
    for write in [Write::Board, Write::Everything, Write::Cadre] {
        assert!(verdict(&mut l, write, delete).is_err(), "deleted by {write:?}");
        assert!(verdict(&mut l, write, reword).is_err(), "reworded by {write:?}");
    }
}
