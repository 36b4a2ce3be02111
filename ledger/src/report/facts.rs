//! What each record of a unit ledger contributes to the supervisor's figures and lists: a few
//! facts per record, small enough that the server keeps every unit's in memory and counts a
//! whole city in milliseconds. The server's read model stores them beside the record itself.

use automerge::ChangeHash;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::codes::Satisfaction;
use crate::enterprise::Enterprise;
use crate::plan::{Plan, PlanState};
use crate::pledge::Pledge;
use crate::post::Post;
use crate::problem::{log_kind, Category, Problem, Status, Urgency};
use crate::rating::Rating;
use crate::record::Section;
use crate::rule::Rule;
use crate::survey::{survey_results, Survey};
use crate::unit_ledger::{Notice, OfficeRound};
use crate::visit::{Visit, VisitKind};
use crate::{RecordId, UnitLedger};

/// China Standard Time (UTC+8, no daylight saving): the day a moment falls on for the people
/// who keep the ledgers, wherever the server runs.
const CHINA_OFFSET_MS: i64 = 8 * 3_600 * 1_000;

/// The day (in China) of a moment in ms since the epoch; None for a moment never set.
pub fn day_of(ms: i64) -> Option<NaiveDate> {
    if ms <= 0 {
        return None;
    }
    chrono::DateTime::from_timestamp_millis(ms + CHINA_OFFSET_MS).map(|t| t.date_naive())
}

/// A record of a section the read model keeps, as read from the ledger. Serialized as the
/// record itself (the read model's body, the desk's record view, the export).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum Record {
    Visit(Visit),
    Problem(Problem),
    Pledge(Pledge),
    Survey(Survey),
    /// Served enterprises: listed in the export, never counted in a figure.
    Enterprise(Enterprise),
    Post(Post),
    Rating(Rating),
    Plan(Plan),
    Rule(Rule),
    Round(OfficeRound),
    Notice(Notice),
}

impl Record {
    pub fn id(&self) -> &RecordId {
        match self {
            Self::Visit(r) => &r.id,
            Self::Problem(r) => &r.id,
            Self::Pledge(r) => &r.id,
            Self::Survey(r) => &r.id,
            Self::Enterprise(r) => &r.id,
            Self::Post(r) => &r.id,
            Self::Rating(r) => &r.id,
            Self::Plan(r) => &r.id,
            Self::Rule(r) => &r.id,
            Self::Round(r) => &r.id,
            Self::Notice(r) => &r.id,
        }
    }

    pub fn section(&self) -> Section {
        match self {
            Self::Visit(_) => Section::Visits,
            Self::Problem(_) => Section::Problems,
            Self::Pledge(_) => Section::Pledges,
            Self::Survey(_) => Section::Surveys,
            Self::Enterprise(_) => Section::Enterprises,
            Self::Post(_) => Section::Posts,
            Self::Rating(_) => Section::Ratings,
            Self::Plan(_) => Section::Plans,
            Self::Rule(_) => Section::Rules,
            Self::Round(_) => Section::Rounds,
            Self::Notice(_) => Section::Notices,
        }
    }

    /// Every photo the record references, its progress steps' included (see [`crate::photo`]).
    pub fn photos(&self) -> Vec<&crate::photo::PhotoRef> {
        match self {
            Self::Visit(v) => v.photos.iter().collect(),
            Self::Problem(p) => p.all_photos().collect(),
            Self::Enterprise(e) => e.photos.iter().collect(),
            _ => Vec::new(),
        }
    }

    pub fn facts(&self) -> Facts {
        match self {
            Self::Visit(v) => Facts::Visit(VisitFacts { date: v.date, kind: v.kind, deleted: v.deleted }),
            Self::Problem(p) => Facts::Problem(ProblemFacts::of(p)),
            Self::Pledge(p) => Facts::Pledge(PledgeFacts::of(p)),
            // The office's rounds compare units on the same questions, in five levels.
            Self::Survey(s) if s.scale == 5 => Facts::Levels(LevelFacts::of(s)),
            Self::Survey(s) => Facts::Survey(SurveyFacts::of(s)),
            Self::Enterprise(e) => Facts::Enterprise(EnterpriseFacts { name: cut(&e.name), deleted: e.deleted }),
            Self::Post(p) => Facts::Post(PostFacts { title: cut(&p.title), holder: cut(&p.holder), published: p.published, deleted: p.deleted }),
            Self::Rating(r) => Facts::Rating(Box::new(rating_facts(r))),
            Self::Plan(p) => Facts::Plan(PlanFacts::of(p)),
            Self::Rule(r) => Facts::Rule(Box::new(Rule { basis: cut(&r.basis), name: cut(&r.name), ..r.clone() })),
            Self::Round(r) => Facts::Round(OfficeRound { title: cut(&r.title), office: cut(&r.office), ..r.clone() }),
            Self::Notice(n) => Facts::Notice(NoticeFacts { title: cut(&n.title), published_on: n.published_on, opened_at: n.opened_at, deleted: n.deleted }),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Facts {
    Visit(VisitFacts),
    Problem(ProblemFacts),
    Pledge(PledgeFacts),
    Survey(SurveyFacts),
    /// Last, so facts stored before it still decode.
    Enterprise(EnterpriseFacts),
    /// After it, for the same reason (schema version 3).
    Post(PostFacts),
    /// The rating with its texts cut: enough to read its case with any [`crate::rating::CaseRules`].
    Rating(Box<Rating>),
    /// After it, each (schema version 4).
    Plan(PlanFacts),
    Rule(Box<Rule>),
    Round(OfficeRound),
    Notice(NoticeFacts),
    /// A satisfaction round of the office's (five levels).
    Levels(LevelFacts),
}

impl Facts {
    pub fn deleted(&self) -> bool {
        match self {
            Self::Visit(f) => f.deleted,
            Self::Problem(f) => f.deleted,
            Self::Pledge(f) => f.deleted,
            Self::Survey(f) => f.deleted,
            Self::Enterprise(f) => f.deleted,
            Self::Post(f) => f.deleted,
            Self::Rating(r) => r.deleted,
            Self::Plan(p) => p.deleted,
            Self::Rule(r) => r.deleted,
            Self::Round(r) => r.deleted,
            Self::Notice(n) => n.deleted,
            Self::Levels(l) => l.deleted,
        }
    }

    /// The compact stored form.
    pub fn encode(&self) -> Vec<u8> {
        postcard::to_allocvec(self).expect("facts serialize")
    }

    pub fn decode(bytes: &[u8]) -> Option<Self> {
        postcard::from_bytes(bytes).ok()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PostFacts {
    pub title: String,
    pub holder: String,
    pub published: bool,
    pub deleted: bool,
}

/// A rating as the read model counts it: the resident's words and the steps' texts cut to
/// list length (the record itself has them whole).
fn rating_facts(r: &Rating) -> Rating {
    let mut r = r.clone();
    r.comment = cut(&r.comment);
    for step in &mut r.steps {
        step.text = cut(&step.text);
    }
    r
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnterpriseFacts {
    pub name: String,
    pub deleted: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VisitFacts {
    pub date: Option<NaiveDate>,
    pub kind: VisitKind,
    pub deleted: bool,
}

/// Titles in lists are cut to this many characters (the record itself has the whole).
pub const LIST_TEXT: usize = 60;

pub(crate) fn cut(text: &str) -> String {
    text.chars().take(LIST_TEXT).collect()
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProblemFacts {
    pub title: String,
    pub category: Category,
    pub urgency: Urgency,
    pub status: Status,
    pub responsible: String,
    /// The day it was raised (登记).
    pub raised_on: Option<NaiveDate>,
    pub deadline: Option<NaiveDate>,
    /// The day it was last resolved (办结), while it stays resolved or followed up.
    pub resolved_on: Option<NaiveDate>,
    /// The residents' last verdict at the follow-up (回访).
    pub satisfaction: Option<Satisfaction>,
    /// Supervision remarks (督办意见) on it.
    pub remarks: usize,
    pub deleted: bool,
}

impl ProblemFacts {
    pub fn of(p: &Problem) -> Self {
        let resolved_on = match p.status {
            Status::Resolved | Status::FollowedUp => {
                p.log.iter().rev().find(|e| e.kind == log_kind::STATUS && e.to == Status::Resolved.code()).map_or(day_of(p.updated_at), |e| day_of(e.at))
            }
            _ => None,
        };
        Self {
            title: cut(&p.title),
            category: p.category,
            urgency: p.urgency,
            status: p.status,
            responsible: cut(&p.responsible),
            raised_on: day_of(p.created_at),
            deadline: p.deadline,
            resolved_on,
            satisfaction: p.satisfaction,
            remarks: p.supervision.len(),
            deleted: p.deleted,
        }
    }

    /// Open and past its deadline on `today` (逾期), by how many days.
    pub fn days_overdue(&self, today: NaiveDate) -> Option<i64> {
        let deadline = self.deadline?;
        (self.status.is_open() && deadline < today && !self.deleted).then(|| (today - deadline).num_days())
    }

    /// Resolved no later than its deadline (or with none).
    pub fn resolved_in_time(&self) -> bool {
        match (self.resolved_on, self.deadline) {
            (Some(on), Some(deadline)) => on <= deadline,
            (Some(_), None) => true,
            (None, _) => false,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PledgeFacts {
    pub content: String,
    pub by: String,
    pub public: bool,
    pub fulfilled: bool,
    pub due: Option<NaiveDate>,
    pub made_on: Option<NaiveDate>,
    pub progress: usize,
    /// Evaluations (评议) rated 满意 or 基本满意, and all.
    pub evaluations_good: usize,
    pub evaluations: usize,
    pub deleted: bool,
}

impl PledgeFacts {
    pub fn of(p: &Pledge) -> Self {
        let (good, all) = p.rating();
        Self {
            content: cut(&p.content),
            by: cut(&p.by),
            public: p.public,
            fulfilled: p.fulfilled,
            due: p.due,
            made_on: day_of(p.created_at),
            progress: p.progress.len(),
            evaluations_good: good,
            evaluations: all,
            deleted: p.deleted,
        }
    }

    pub fn is_overdue(&self, today: NaiveDate) -> bool {
        !self.fulfilled && self.due.is_some_and(|d| d < today)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SurveyFacts {
    pub title: String,
    pub opened_on: Option<NaiveDate>,
    pub created_at: i64,
    pub responses: usize,
    /// Answers 满意, 基本满意, 不满意 over every question of the round.
    pub answers: [usize; 3],
    pub deleted: bool,
}

impl SurveyFacts {
    pub fn of(s: &Survey) -> Self {
        let results = survey_results(s);
        Self { title: cut(&s.title), opened_on: s.opened_on, created_at: s.created_at, responses: results.responses, answers: results.overall, deleted: s.deleted }
    }
}

/// A unit's plan as the office's and the supervisor's desks count it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanFacts {
    pub title: String,
    pub deadline: Option<NaiveDate>,
    pub office: String,
    pub state: PlanState,
    /// When the version that counts was submitted.
    pub submitted_at: Option<i64>,
    pub versions: usize,
    /// The approved plan's tasks as the unit follows them.
    pub tasks: Vec<TaskFacts>,
    pub deleted: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskFacts {
    pub id: RecordId,
    pub what: String,
    pub who: String,
    pub due: Option<NaiveDate>,
    pub done_at: Option<i64>,
}

impl TaskFacts {
    pub fn overdue(&self, today: NaiveDate) -> bool {
        self.done_at.is_none() && self.due.is_some_and(|d| today > d)
    }
}

impl PlanFacts {
    pub fn of(p: &Plan) -> Self {
        let tasks =
            p.followed_tasks().into_iter().map(|t| TaskFacts { what: cut(&t.task.what), who: cut(&t.task.who), due: t.task.due, done_at: t.done_at, id: t.task.id }).collect();
        Self {
            title: cut(&p.title),
            deadline: p.deadline,
            office: cut(&p.office),
            state: p.state(),
            submitted_at: p.latest().map(|s| s.at),
            versions: p.submissions.len(),
            tasks,
            deleted: false,
        }
    }

    pub fn filing(&self, today: NaiveDate) -> crate::plan::Filing {
        crate::plan::filing_of(Some(self.state), self.deadline.unwrap_or(NaiveDate::MAX), today)
    }
}

/// An office's satisfaction round as one unit answered it: per question, the five-level counts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LevelFacts {
    pub responses: usize,
    /// (question text, counts in `Verdict::ALL` order), in the round's order.
    pub questions: Vec<(String, [usize; 5])>,
    pub deleted: bool,
}

impl LevelFacts {
    pub fn of(s: &Survey) -> Self {
        let questions = crate::survey::level_results(s).into_iter().map(|(q, counts)| (cut(&q.text), counts)).collect();
        Self { responses: s.responses.iter().filter(|r| !r.levels.is_empty()).count(), questions, deleted: s.deleted }
    }
}

/// A notice as the office's desk counts it: whether the unit opened it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NoticeFacts {
    pub title: String,
    pub published_on: Option<NaiveDate>,
    pub opened_at: Option<i64>,
    pub deleted: bool,
}

/// One record as it stands in the ledger; None for a record the ledger does not have.
pub fn read_record(ledger: &UnitLedger, section: Section, id: &RecordId) -> Option<Record> {
    match section {
        Section::Visits => ledger.visit(id).ok().map(Record::Visit),
        Section::Problems => ledger.problem(id).ok().map(Record::Problem),
        Section::Pledges => ledger.pledge(id).ok().map(Record::Pledge),
        Section::Surveys => ledger.survey(id).ok().map(Record::Survey),
        Section::Enterprises => ledger.enterprise(id).ok().map(Record::Enterprise),
        Section::Posts => ledger.post(id).ok().map(Record::Post),
        Section::Ratings => ledger.rating(id).ok().map(Record::Rating),
        Section::Plans => ledger.plan(id).ok().map(Record::Plan),
        Section::Rules => ledger.rule(id).ok().map(Record::Rule),
        Section::Rounds => ledger.rounds().records.into_iter().find(|r| &r.id == id).map(Record::Round),
        Section::Notices => ledger.notices().records.into_iter().find(|n| &n.id == id).map(Record::Notice),
    }
}

/// Every record of the ledger, deleted ones included (their facts say so).
pub fn read_all(ledger: &UnitLedger) -> Vec<Record> {
    let mut out: Vec<Record> = ledger.visits().visits.into_iter().map(Record::Visit).collect();
    out.extend(ledger.problems().records.into_iter().map(Record::Problem));
    out.extend(ledger.pledges().records.into_iter().map(Record::Pledge));
    out.extend(ledger.surveys().records.into_iter().map(Record::Survey));
    out.extend(ledger.enterprises().records.into_iter().map(Record::Enterprise));
    out.extend(ledger.posts().records.into_iter().map(Record::Post));
    out.extend(ledger.ratings().records.into_iter().map(Record::Rating));
    out.extend(ledger.plans().records.into_iter().map(Record::Plan));
    out.extend(ledger.rules().records.into_iter().map(Record::Rule));
    out.extend(ledger.rounds().records.into_iter().map(Record::Round));
    out.extend(ledger.notices().records.into_iter().map(Record::Notice));
    out
}

/// What the read model must do to catch up with the ledger from the heads it has.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Update {
    /// These records changed: store them as they are now (records gone are in `gone`).
    Records { changed: Vec<Record>, gone: Vec<(Section, RecordId)> },
    /// A change named no record (another kind of peer, a schema upgrade) or the heads are not
    /// in the ledger: replace everything of this ledger with these.
    All(Vec<Record>),
}

/// The update that brings a projection made at `projected` up to the ledger as it is: the
/// records the changes since then touch, read as they are now. What a change touches is found
/// from its operations, never from its message (a peer writes that as it likes: a note naming
/// one record on a change to another would leave the other stale). A change costs the reading
/// of the records it touches, not of the ledger.
pub fn update_since(ledger: &mut UnitLedger, projected: Option<&[ChangeHash]>) -> Update {
    let Some(heads) = projected else { return Update::All(read_all(ledger)) };
    if heads.iter().any(|h| ledger.doc_mut().get_change_meta_by_hash(h).is_none()) {
        return Update::All(read_all(ledger));
    }
    let changes = ledger.doc_mut().get_changes(heads);
    update_for(ledger, &changes)
}

/// What the read model must do for `changes`, already in the ledger and all it lacks since its
/// last projection (a host that has them at hand, as a commit does, need not ask Automerge).
pub fn update_for(ledger: &mut UnitLedger, changes: &[automerge::Change]) -> Update {
    match touched_records(ledger.doc(), changes) {
        None => Update::All(read_all(ledger)),
        Some(ids) => {
            let mut changed = Vec::new();
            let mut gone = Vec::new();
            for (section, id) in ids {
                match read_record(ledger, section, &id) {
                    Some(record) => changed.push(record),
                    None => gone.push((section, id)),
                }
            }
            Update::Records { changed, gone }
        }
    }
}

/// The records `changes` (already in `doc`) touch: each operation's object is located in the
/// document (once per object), and its path begins with the section and the record's id.
/// None when an operation reaches a section itself (a schema upgrade, a section replaced):
/// then everything is read again. Operations elsewhere at the top of the document touch no
/// record and are not counted.
pub fn touched_records(doc: &automerge::AutoCommit, changes: &[automerge::Change]) -> Option<Vec<(Section, RecordId)>> {
    use automerge::{Prop, ReadDoc};
    use std::collections::HashMap;
    let mut out: Vec<(Section, RecordId)> = Vec::new();
    let push = |section: &str, id: &str, out: &mut Vec<(Section, RecordId)>| {
        if let (Some(section), Some(id)) = (Section::from_key(section), RecordId::parse(id)) {
            if !out.iter().any(|(s, i)| *s == section && *i == id) {
                out.push((section, id));
            }
        }
    };
    // Object id → the first two keys of its path (section, record), or fewer.
    let mut located: HashMap<String, Vec<String>> = HashMap::new();
    for change in changes {
        for op in change.decode().operations.iter() {
            let key = match &op.key {
                automerge::legacy::Key::Map(k) => Some(k.to_string()),
                automerge::legacy::Key::Seq(_) => None,
            };
            let obj = match &op.obj {
                automerge::legacy::ObjectId::Root => {
                    // A section replaced or made again: the structure changed.
                    if key.as_deref().is_some_and(|k| Section::from_key(k).is_some()) {
                        return None;
                    }
                    continue;
                }
                automerge::legacy::ObjectId::Id(id) => id.to_string(),
            };
            let path = match located.get(&obj) {
                Some(p) => p.clone(),
                None => {
                    // An object the document does not have (it came in a change still waiting
                    // for its dependencies) touches nothing yet.
                    let Ok(ex) = doc.import_obj(&obj) else { continue };
                    let Ok(parents) = doc.parents(&ex) else { continue };
                    let mut path: Vec<String> = parents
                        .map(|p| match p.prop {
                            Prop::Map(k) => k,
                            Prop::Seq(i) => i.to_string(),
                        })
                        .collect();
                    path.reverse();
                    path.truncate(2);
                    located.insert(obj, path.clone());
                    path
                }
            };
            match (path.as_slice(), &key) {
                ([section, record, ..], _) => push(section, record, &mut out),
                // An operation on a section's map: the key is the record.
                ([section], Some(record)) => push(section, record, &mut out),
                _ => {}
            }
        }
    }
    Some(out)
}
