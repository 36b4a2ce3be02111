//! 实绩: what one person did in a period, read from their unit's ledger — the visits they made,
//! the problems they raised and saw through, the enterprises they served and how that ended,
//! the pledges they kept, and what residents said of their posts, pledges and work.
//!
//! Facts with a link to each record, never a score, a point total or a ranking: the campaign's
//! recognition is drawn from the record, and counting volume would reward the wrong thing.
//!
//! Who made a record is who the server knows wrote it: the actor that created it (part of its
//! object id), which the server binds to the device that sent it, whose person is known. What a
//! record names by hand (a pledge's 承诺人, a post's 责任人) is matched by the person's name
//! within their own unit, as the forms write it.

use std::collections::HashSet;

use automerge::ActorId;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::problem::{log_kind, Status};
use crate::rating::{StepKind, Target};
use crate::record::Section;
use crate::report::{day_of, Period};
use crate::{RecordId, UnitLedger};

/// The person the record is of.
pub struct Worker<'a> {
    /// As the unit's forms name them (承诺人, 责任人).
    pub name: &'a str,
    /// Every actor of every device of theirs.
    pub actors: &'a HashSet<ActorId>,
    /// The unit's own record (a collective's): everything its people did, and the team's
    /// pledges with theirs.
    pub whole_unit: bool,
}

impl Worker<'_> {
    fn made(&self, actor: Option<ActorId>) -> bool {
        self.whole_unit || actor.is_some_and(|a| self.actors.contains(&a))
    }

    fn named(&self, name: &str) -> bool {
        self.whole_unit || (!self.name.is_empty() && name.trim() == self.name)
    }
}

/// One fact, linked to its record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkLine {
    /// The section's key (`visits`, `problems`…), as the desk's record links name it.
    pub section: String,
    pub id: RecordId,
    pub date: Option<NaiveDate>,
    pub title: String,
    /// How it ended, in words: status, follow-up verdict, residents' verdict.
    pub outcome: String,
}

/// A person's record for a period: lists, each oldest first.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkRecord {
    /// 走访: visits they entered, by the visit's date.
    pub visits: Vec<WorkLine>,
    /// 发现问题: problems they entered, by the day entered.
    pub problems_raised: Vec<WorkLine>,
    /// 解决问题: problems whose 办结 they recorded, by that day, with the follow-up verdict.
    pub problems_resolved: Vec<WorkLine>,
    /// 服务企业: enterprises they visited or raised a problem for, with what came of it.
    pub enterprises: Vec<WorkLine>,
    /// 践诺: their own pledges (not the team's) kept, by the day kept.
    pub pledges_kept: Vec<WorkLine>,
    /// 群众评价: residents' ratings of their posts, pledges, visits and problems.
    pub ratings: Vec<WorkLine>,
}

impl WorkRecord {
    pub fn is_empty(&self) -> bool {
        self.sections().iter().all(|(_, lines)| lines.is_empty())
    }

    /// Each list with its heading, in the order the desk and the export show them.
    pub fn sections(&self) -> [(&'static str, &Vec<WorkLine>); 6] {
        [
            ("走访", &self.visits),
            ("发现问题", &self.problems_raised),
            ("解决问题", &self.problems_resolved),
            ("服务企业", &self.enterprises),
            ("践行承诺", &self.pledges_kept),
            ("群众评价", &self.ratings),
        ]
    }
}

fn line(section: Section, id: &RecordId, date: Option<NaiveDate>, title: &str, outcome: String) -> WorkLine {
    WorkLine { section: section.key().to_owned(), id: id.clone(), date, title: crate::report::facts::cut(title), outcome }
}

fn by_date(lines: &mut [WorkLine]) {
    crate::order::sort_by(lines, |a, b| (a.date, &a.id).cmp(&(b.date, &b.id)));
}

/// Reads `worker`'s record for `period` from their unit's ledger.
pub fn work_record(ledger: &UnitLedger, worker: &Worker<'_>, period: Period) -> WorkRecord {
    let within = |d: Option<NaiveDate>| d.is_some_and(|d| period.contains(d));
    let mut out = WorkRecord::default();
    let visits: Vec<_> = ledger.visits().visits.into_iter().filter(|v| !v.deleted).collect();
    let problems: Vec<_> = ledger.problems().records.into_iter().filter(|p| !p.deleted).collect();
    let my_visits: Vec<_> = visits.iter().filter(|v| worker.made(ledger.creator(Section::Visits, &v.id))).collect();
    let my_problems: HashSet<&RecordId> = problems.iter().filter(|p| worker.made(ledger.creator(Section::Problems, &p.id))).map(|p| &p.id).collect();

    for v in my_visits.iter().filter(|v| within(v.date)) {
        out.visits.push(line(Section::Visits, &v.id, v.date, &v.whom, v.kind.label().to_owned()));
    }
    let follow_up = |p: &crate::Problem| p.satisfaction.map(|s| format!("；回访{}", s.label())).unwrap_or_default();
    for p in &problems {
        let raised = day_of(p.created_at);
        if my_problems.contains(&p.id) && within(raised) {
            out.problems_raised.push(line(Section::Problems, &p.id, raised, &p.title, format!("{}{}", p.status.label(), follow_up(p))));
        }
        // The latest 办结 on record, if they wrote it: a problem reopened and resolved again
        // belongs to whoever saw it through the last time.
        let resolved = p.log.iter().rev().find(|e| e.kind == log_kind::STATUS && e.to == Status::Resolved.code());
        if let Some(entry) = resolved.filter(|_| matches!(p.status, Status::Resolved | Status::FollowedUp)) {
            let day = day_of(entry.at);
            if within(day) && worker.made(ledger.entry_creator(Section::Problems, &p.id, "log", &entry.id)) {
                out.problems_resolved.push(line(Section::Problems, &p.id, day, &p.title, format!("已办结{}", follow_up(p))));
            }
        }
    }

    for e in ledger.enterprises().records.iter().filter(|e| !e.deleted) {
        let visited: Vec<_> = my_visits.iter().filter(|v| v.enterprise_id.as_ref() == Some(&e.id) && within(v.date)).collect();
        let raised: Vec<_> = problems.iter().filter(|p| p.enterprise_id.as_ref() == Some(&e.id) && my_problems.contains(&p.id) && within(day_of(p.created_at))).collect();
        if visited.is_empty() && raised.is_empty() {
            continue;
        }
        let theirs: Vec<_> = problems.iter().filter(|p| p.enterprise_id.as_ref() == Some(&e.id)).collect();
        let done = theirs.iter().filter(|p| matches!(p.status, Status::Resolved | Status::FollowedUp)).count();
        let satisfied = theirs.iter().filter(|p| p.satisfaction == Some(crate::Satisfaction::Satisfied)).count();
        let last = visited.iter().filter_map(|v| v.date).chain(raised.iter().filter_map(|p| day_of(p.created_at))).max();
        let outcome = format!("走访 {} 次；企业反映问题 {} 个，已办结 {} 个，回访满意 {} 个", visited.len(), theirs.len(), done, satisfied);
        out.enterprises.push(line(Section::Enterprises, &e.id, last, &e.name, outcome));
    }

    let pledges: Vec<_> = ledger.pledges().records.into_iter().filter(|p| !p.deleted).collect();
    let mine_by_name = |name: &str| worker.named(name);
    let theirs = |p: &crate::Pledge| (worker.whole_unit || !p.team) && mine_by_name(&p.by);
    for p in pledges.iter().filter(|p| p.fulfilled && theirs(p)) {
        let day = day_of(p.fulfilled_at);
        if within(day) {
            let heard = p.evaluations.last().map(|e| format!("；评议{}", e.rating.label())).unwrap_or_default();
            out.pledges_kept.push(line(Section::Pledges, &p.id, day, &p.content, format!("已践诺{heard}")));
        }
    }

    let posts = ledger.posts().records;
    let visit_ids: HashSet<&RecordId> = my_visits.iter().map(|v| &v.id).collect();
    for r in ledger.ratings().records.iter().filter(|r| !r.deleted) {
        let day = day_of(r.created_at);
        if !within(day) {
            continue;
        }
        let Some(target) = r.target_id.as_ref() else { continue };
        let about = match r.target {
            Target::Post => posts.iter().find(|p| &p.id == target && !p.deleted && mine_by_name(&p.holder)).map(|p| format!("岗位：{}", p.title)),
            Target::Pledge => pledges.iter().find(|p| &p.id == target && theirs(p)).map(|p| format!("承诺：{}", p.content)),
            Target::Visit => visits.iter().find(|v| &v.id == target && visit_ids.contains(&v.id)).map(|v| format!("走访：{}", v.whom)),
            Target::Problem => problems.iter().find(|p| &p.id == target && my_problems.contains(&p.id)).map(|p| format!("问题：{}", p.title)),
        };
        let Some(about) = about else { continue };
        let withdrawn = if r.steps.iter().any(|s| s.kind == StepKind::Withdraw) { "（差评已撤销）" } else { "" };
        out.ratings.push(line(Section::Ratings, &r.id, day, &about, format!("{}{withdrawn}", r.verdict.label())));
    }

    for lines in [&mut out.visits, &mut out.problems_raised, &mut out.problems_resolved, &mut out.enterprises, &mut out.pledges_kept, &mut out.ratings] {
        by_date(lines);
    }
    out
}

#[cfg(test)]
mod tests;
