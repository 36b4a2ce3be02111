//! What the public board (先锋广场) shows of a unit: its published posts and pledges, the
//! residents' questions it has answered, and each 差评 with the unit's reply. Decided here, once,
//! from the records, so that what reaches the public is a rule with tests, not a template's
//! whim. Who rated, residents' names, phone numbers and addresses never appear: nothing here
//! reads them.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::codes::Verdict;
use crate::problem::{RaisedBy, Status};
use crate::rating::{CaseRules, CaseState, StepKind, Target};
use crate::report::day_of;
use crate::{Pledge, Post, Problem, Rating, RecordId};

/// A rating distribution is shown once a post or pledge has at least this many ratings, so no
/// single resident's verdict can be read off it.
pub const MIN_RATINGS_SHOWN: usize = 5;
/// Most answered questions and 差评 the board lists (the newest).
pub const MAX_LISTED: usize = 30;

/// Ratings per level, [`Verdict::ALL`] order.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Distribution(pub [usize; 5]);

impl Distribution {
    pub fn total(&self) -> usize {
        self.0.iter().sum()
    }

    /// 满意率: every level but the two bad ones.
    pub fn satisfied(&self) -> usize {
        self.0[..3].iter().sum()
    }

    fn add(&mut self, v: Verdict) {
        if let Some(i) = Verdict::ALL.iter().position(|x| *x == v) {
            self.0[i] += 1;
        }
    }

    /// The distribution when there are enough ratings to show it.
    pub fn shown(self) -> Option<Self> {
        (self.total() >= MIN_RATINGS_SHOWN).then_some(self)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublicPost {
    pub id: RecordId,
    pub title: String,
    pub holder: String,
    pub duties: String,
    pub hours: String,
    pub ratings: Option<Distribution>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublicPledge {
    pub id: RecordId,
    pub content: String,
    pub by: String,
    pub due: Option<NaiveDate>,
    pub fulfilled: bool,
    /// Progress posts: (day, text), newest first.
    pub progress: Vec<(Option<NaiveDate>, String)>,
    pub ratings: Option<Distribution>,
}

/// A resident's 留言 the unit has closed, with its published answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublicAnswer {
    pub asked_on: Option<NaiveDate>,
    pub question: String,
    pub detail: String,
    /// 已办结 (with what was done) or 不予受理 (with why).
    pub rejected: bool,
    pub answer: String,
}

/// A 差评, anonymised, with where its case stands and the unit's reply.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublicCase {
    pub on: Option<NaiveDate>,
    /// What was rated (the post's or pledge's title; a piece of work is named by its kind).
    pub about: String,
    pub verdict: Verdict,
    pub comment: String,
    pub state: CaseState,
    /// The last day for the unit's next step (签收 or 答复), by the organisation's limits and
    /// calendar; None once it owes none.
    pub due: Option<NaiveDate>,
    /// 整改 or 解释, or the supervisor's 撤销, with its words.
    pub reply: Option<(StepKind, String)>,
}

/// The whole board of one unit.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublicBoard {
    pub posts: Vec<PublicPost>,
    pub pledges: Vec<PublicPledge>,
    pub answers: Vec<PublicAnswer>,
    pub cases: Vec<PublicCase>,
}

impl PublicBoard {
    /// The board of a unit whose records are these.
    pub fn of(posts: &[Post], pledges: &[Pledge], problems: &[Problem], ratings: &[Rating], rules: &CaseRules) -> Self {
        let live: Vec<&Rating> = ratings.iter().filter(|r| !r.deleted).collect();
        let distribution = |target: Target, id: &RecordId| {
            let mut d = Distribution::default();
            for r in live.iter().filter(|r| r.target == target && r.target_id.as_ref() == Some(id)) {
                d.add(r.verdict);
            }
            d.shown()
        };
        let mut shown_posts: Vec<&Post> = posts.iter().filter(|p| p.is_public()).collect();
        crate::order::sort_by(&mut shown_posts, |a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
        let mut shown_pledges: Vec<&Pledge> = pledges.iter().filter(|p| p.is_on_board()).collect();
        crate::order::sort_by(&mut shown_pledges, |a, b| (a.fulfilled, a.due, &a.id).cmp(&(b.fulfilled, b.due, &b.id)));
        let mut answered: Vec<&Problem> =
            problems.iter().filter(|p| !p.deleted && p.raised_by == RaisedBy::Message && matches!(p.status, Status::Resolved | Status::FollowedUp | Status::Rejected)).collect();
        crate::order::sort_by(&mut answered, |a, b| (b.updated_at, &b.id).cmp(&(a.updated_at, &a.id)));
        let mut bad: Vec<&Rating> = live.iter().copied().filter(|r| r.verdict.is_bad()).collect();
        crate::order::sort_by(&mut bad, |a, b| (b.created_at, &b.id).cmp(&(a.created_at, &a.id)));
        let mut board = Self {
            posts: shown_posts
                .into_iter()
                .map(|p| PublicPost {
                    id: p.id.clone(),
                    title: p.title.clone(),
                    holder: p.holder.clone(),
                    duties: p.duties.clone(),
                    hours: p.hours.clone(),
                    ratings: distribution(Target::Post, &p.id),
                })
                .collect(),
            pledges: shown_pledges
                .into_iter()
                .map(|p| PublicPledge {
                    id: p.id.clone(),
                    content: p.content.clone(),
                    by: p.by.clone(),
                    due: p.due,
                    fulfilled: p.fulfilled,
                    progress: p.progress.iter().rev().map(|e| (day_of(e.at), e.text.clone())).collect(),
                    ratings: distribution(Target::Pledge, &p.id),
                })
                .collect(),
            answers: answered
                .into_iter()
                .take(MAX_LISTED)
                .map(|p| {
                    let rejected = p.status == Status::Rejected;
                    PublicAnswer {
                        asked_on: day_of(p.created_at),
                        question: p.title.clone(),
                        detail: p.description.clone(),
                        rejected,
                        answer: if rejected { p.reject_reason.clone() } else { p.result.clone() },
                    }
                })
                .collect(),
            cases: Vec::new(),
        };
        board.cases = bad.into_iter().take(MAX_LISTED).filter_map(|r| board.case(r, rules)).collect();
        board
    }

    /// A 差评 as the board shows it, named by the published post or pledge it rates (a piece of
    /// work, or an item no longer published, by its kind only); None for a rating that is not
    /// a 差评.
    pub fn case(&self, r: &Rating, rules: &CaseRules) -> Option<PublicCase> {
        let case = r.case(rules)?;
        let id = r.target_id.as_ref();
        let about = match r.target {
            Target::Post => self.posts.iter().find(|p| Some(&p.id) == id).map(|p| p.title.clone()),
            Target::Pledge => self.pledges.iter().find(|p| Some(&p.id) == id).map(|p| p.content.chars().take(40).collect()),
            Target::Visit | Target::Problem => None,
        };
        Some(PublicCase {
            on: day_of(r.created_at),
            about: about.unwrap_or_else(|| format!("一次{}", r.target.label())),
            verdict: r.verdict,
            comment: r.comment.clone(),
            state: case.state,
            due: case.due,
            reply: case.answer.map(|s| (s.kind, s.text)),
        })
    }
}

#[cfg(test)]
mod tests;
