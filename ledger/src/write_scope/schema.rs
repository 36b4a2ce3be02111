//! The ledger's schema as the write checks read it: for every place in a unit ledger, what
//! may be written there and by whom. One table for the phone (which checks its own changes
//! before saving them) and the server (which checks every peer's), so the phone never makes a
//! change the server refuses.
//!
//! Record fields come from each section's field table (`unit_ledger/*.rs`), which the readers
//! and writers use too; what those tables do not hold (timestamps, the deleted flag, the maps
//! of entries) is listed here.

use automerge::legacy::OpType;
use automerge::{AutoCommit, ObjType, ScalarValue};

use crate::codes::Satisfaction;
use crate::codes::Verdict;
use crate::org::Write;
use crate::plan::{PlanContent, ReviewVerdict};
use crate::pledge::{Aim, Evaluator};
use crate::problem::{log_kind, Category, Difficulty, RaisedBy, Status, Urgency};
use crate::rating::{StepKind, StepTaker, Target, Way};
use crate::record::{FieldKind, Section};
use crate::rule::{Cleanup, RuleStatus};
use crate::unit_ledger::RoundKind;
use crate::visit::VisitKind;
use crate::RecordId;

use super::{Made, OpView, Step};

/// What a value must be.
#[derive(Clone, Copy)]
pub(super) enum Kind {
    /// Automerge Text, made by `Make(Text)`; its characters are strings put and deleted.
    Text,
    /// A plain string.
    Str,
    /// A string from a code list; `optional` codes may also be "" (none chosen).
    Code {
        valid: fn(&str) -> bool,
        optional: bool,
    },
    /// "" or "YYYY-MM-DD".
    Date,
    Flag,
    /// "" or a record id.
    Link,
    /// Milliseconds, as an Automerge timestamp.
    Time,
    Int,
    /// The name of the person whose device sent the change (an entry's author).
    Sender,
    /// A map of flags whose keys come from a code list (a pledge's aims).
    Flags(fn(&str) -> bool),
    /// A map of entries keyed by random ids (a log, 督办意见), each a map of these fields,
    /// added by `adders`.
    Entries {
        fields: &'static [Slot],
        adders: Who,
    },
    /// A survey response's answers: question id → a satisfaction code.
    Answers,
    /// A map of items keyed by random ids (a draft plan's tasks), each a map of these fields,
    /// which `writers` may change after the item is made; items are never removed, only
    /// marked `deleted`.
    Items {
        fields: &'static [Slot],
        writers: Who,
    },
    /// A plan's submitted version, frozen in bytes: it must read back complete.
    PlanVersion,
    /// A record's or a progress step's photos: a map of references keyed by content hash
    /// (see [`crate::photo`]); a reference is added or deleted whole.
    Photos,
    /// A record's place: a map of integers, set whole or deleted.
    Location,
}

/// Who may write a place once the record holding it exists. In the changes that make a
/// record, whoever may make it writes all of it.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) enum Who {
    /// Cadres and the secretary (干部, 书记).
    Unit,
    /// The secretary only (书记).
    Secretary,
    /// Supervisors and the secretary (督查, 书记).
    Supervision,
    /// Everyone who writes the ledger: the unit and its supervisors.
    Everyone,
    /// Nobody: written only with the record.
    Maker,
    /// The secretary only, in a new record too: what the unit shows the public (公开).
    Publisher,
    /// Whoever takes a step of a 差评's case: the secretary, a supervisor or the board; which
    /// step is whose is checked on the step's kind.
    Case,
    /// The public board only.
    Board,
    /// Who raises a problem: the unit, or the board for a resident's 留言.
    Raiser,
    /// The campaign office (先锋办), through the server.
    Office,
    /// The unit or the office: what both touch on one record (a plan's `updated_at`).
    UnitOrOffice,
}

impl Who {
    fn allows(self, write: Write) -> bool {
        match self {
            Who::Unit => matches!(write, Write::Cadre | Write::Everything),
            Who::Secretary | Who::Publisher => write == Write::Everything,
            Who::Supervision => matches!(write, Write::SupervisionOnly | Write::Everything),
            Who::Everyone => matches!(write, Write::SupervisionOnly | Write::Cadre | Write::Everything),
            Who::Maker => false,
            Who::Case => matches!(write, Write::SupervisionOnly | Write::Everything | Write::Board),
            Who::Board => write == Write::Board,
            Who::Raiser => matches!(write, Write::Cadre | Write::Everything | Write::Board),
            Who::Office => write == Write::Office,
            Who::UnitOrOffice => matches!(write, Write::Cadre | Write::Everything | Write::Office),
        }
    }
}

/// Who makes the records of a section (and, in the changes that make one, writes all of it but
/// supervisors' and publishers' places).
fn makers(section: Section) -> Who {
    match section {
        Section::Posts => Who::Publisher,
        Section::Ratings => Who::Board,
        Section::Problems => Who::Raiser,
        Section::Plans | Section::Rounds | Section::Notices => Who::Office,
        // A unit's own survey rounds, and the office's satisfaction rounds.
        Section::Surveys => Who::UnitOrOffice,
        Section::Visits | Section::Enterprises | Section::Pledges | Section::Rules => Who::Unit,
    }
}

/// One named place: a record's field or an entry's.
#[derive(Clone, Copy)]
pub(super) struct Slot {
    pub key: &'static str,
    pub kind: Kind,
    pub who: Who,
}

const fn slot(key: &'static str, kind: Kind, who: Who) -> Slot {
    Slot { key, kind, who }
}

const fn code(valid: fn(&str) -> bool) -> Kind {
    Kind::Code { valid, optional: false }
}

const fn optional_code(valid: fn(&str) -> bool) -> Kind {
    Kind::Code { valid, optional: true }
}

fn status(s: &str) -> bool {
    Status::from_code(s).is_some()
}

fn satisfaction(s: &str) -> bool {
    Satisfaction::from_code(s).is_some()
}

/// Log entries of a problem: raised, status steps, progress.
const LOG: &[Slot] = &[
    slot("at", Kind::Time, Who::Unit),
    slot("by", Kind::Sender, Who::Unit),
    slot("kind", code(|k| [log_kind::RAISED, log_kind::STATUS, log_kind::PROGRESS, log_kind::ASSIGNED].contains(&k)), Who::Unit),
    slot("text", Kind::Str, Who::Unit),
    slot("from", code(status), Who::Unit),
    slot("to", code(status), Who::Unit),
    slot("photos", Kind::Photos, Who::Unit),
];
/// 督办意见.
const SUPERVISION: &[Slot] = &[
    slot("at", Kind::Time, Who::Supervision),
    slot("by", Kind::Sender, Who::Supervision),
    slot("kind", code(|k| k == log_kind::SUPERVISION), Who::Supervision),
    slot("text", Kind::Str, Who::Supervision),
];
/// A pledge's progress posts.
const PROGRESS: &[Slot] =
    &[slot("at", Kind::Time, Who::Unit), slot("by", Kind::Sender, Who::Unit), slot("kind", code(|k| k == log_kind::PROGRESS), Who::Unit), slot("text", Kind::Str, Who::Unit)];
/// A pledge's evaluations (评议), by residents (recorded by the unit) or supervisors.
const EVALUATIONS: &[Slot] = &[
    slot("at", Kind::Time, Who::Everyone),
    slot("by", Kind::Sender, Who::Everyone),
    slot("evaluator", code(|e| Evaluator::from_code(e).is_some()), Who::Everyone),
    slot("rating", code(satisfaction), Who::Everyone),
    slot("comment", Kind::Str, Who::Everyone),
];
/// A survey round's questions, fixed when it opens.
const QUESTIONS: &[Slot] = &[slot("order", Kind::Int, Who::Maker), slot("text", Kind::Str, Who::Maker)];
/// The steps of a 差评's case (see [`crate::rating`]).
const CASE_STEPS: &[Slot] = &[
    slot("at", Kind::Time, Who::Case),
    slot("by", Kind::Sender, Who::Case),
    slot("kind", code(|k| StepKind::from_code(k).is_some()), Who::Case),
    slot("text", Kind::Str, Who::Case),
    slot("verdict", optional_code(|v| Verdict::from_code(v).is_some()), Who::Case),
];
/// Answers to a survey round.
const RESPONSES: &[Slot] =
    &[slot("at", Kind::Time, Who::Unit), slot("by", Kind::Sender, Who::Unit), slot("comment", Kind::Str, Who::Unit), slot("answers", Kind::Answers, Who::Unit)];

/// The items of a draft plan's lists.
const CARRIER_ITEM: &[Slot] = &[
    slot("aim", code(|a| Aim::from_code(a).is_some()), Who::Secretary),
    slot("text", Kind::Str, Who::Secretary),
    slot("at", Kind::Time, Who::Secretary),
    slot("deleted", Kind::Flag, Who::Secretary),
];
const STAGE_ITEM: &[Slot] = &[
    slot("text", Kind::Str, Who::Secretary),
    slot("from", Kind::Date, Who::Secretary),
    slot("to", Kind::Date, Who::Secretary),
    slot("at", Kind::Time, Who::Secretary),
    slot("deleted", Kind::Flag, Who::Secretary),
];
const TASK_ITEM: &[Slot] = &[
    slot("what", Kind::Str, Who::Secretary),
    slot("who", Kind::Str, Who::Secretary),
    slot("due", Kind::Date, Who::Secretary),
    slot("at", Kind::Time, Who::Secretary),
    slot("deleted", Kind::Flag, Who::Secretary),
];
/// 报送: a version, by the secretary.
const SUBMISSIONS: &[Slot] = &[slot("at", Kind::Time, Who::Secretary), slot("by", Kind::Sender, Who::Secretary), slot("content", Kind::PlanVersion, Who::Secretary)];
/// The office's reviews.
const REVIEWS: &[Slot] = &[
    slot("at", Kind::Time, Who::Office),
    slot("by", Kind::Sender, Who::Office),
    slot("submission", Kind::Link, Who::Office),
    slot("verdict", code(|v| ReviewVerdict::from_code(v).is_some()), Who::Office),
    slot("opinion", Kind::Str, Who::Office),
    slot("on_goals", Kind::Str, Who::Office),
    slot("on_carriers", Kind::Str, Who::Office),
    slot("on_steps", Kind::Str, Who::Office),
    slot("on_leadership", Kind::Str, Who::Office),
    slot("on_requirements", Kind::Str, Who::Office),
    slot("on_tasks", Kind::Str, Who::Office),
];
/// 任务跟进 of an approved plan's tasks, by the unit.
const FOLLOW: &[Slot] = &[
    slot("at", Kind::Time, Who::Unit),
    slot("by", Kind::Sender, Who::Unit),
    slot("task", Kind::Link, Who::Unit),
    slot("done", Kind::Flag, Who::Unit),
    slot("text", Kind::Str, Who::Unit),
];
/// A rule's status changes, each with its reason, by the unit.
const RULE_CHANGES: &[Slot] = &[
    slot("at", Kind::Time, Who::Unit),
    slot("by", Kind::Sender, Who::Unit),
    // 失效 comes by date, never by hand.
    slot("to", code(|s| RuleStatus::from_code(s).is_some_and(|s| s != RuleStatus::Lapsed)), Who::Unit),
    slot("reason", Kind::Str, Who::Unit),
    slot("round", Kind::Link, Who::Unit),
    slot("decision", optional_code(|d| Cleanup::from_code(d).is_some()), Who::Unit),
];

const PLAN_PLACES: &[Slot] = &[
    slot("carriers", Kind::Items { fields: CARRIER_ITEM, writers: Who::Secretary }, Who::Maker),
    slot("stages", Kind::Items { fields: STAGE_ITEM, writers: Who::Secretary }, Who::Maker),
    slot("tasks", Kind::Items { fields: TASK_ITEM, writers: Who::Secretary }, Who::Maker),
    slot("submissions", Kind::Entries { fields: SUBMISSIONS, adders: Who::Secretary }, Who::Maker),
    slot("reviews", Kind::Entries { fields: REVIEWS, adders: Who::Office }, Who::Maker),
    slot("follow", Kind::Entries { fields: FOLLOW, adders: Who::Unit }, Who::Maker),
    slot("updated_at", Kind::Time, Who::UnitOrOffice),
    // A round is withdrawn by the office, never a unit's plan by the unit.
    slot("deleted", Kind::Flag, Who::Office),
];
const RULE_PLACES: &[Slot] = &[slot("changes", Kind::Entries { fields: RULE_CHANGES, adders: Who::Unit }, Who::Maker)];
const ROUND_PLACES: &[Slot] = &[slot("updated_at", Kind::Time, Who::Office), slot("deleted", Kind::Flag, Who::Office)];
const NOTICE_PLACES: &[Slot] = &[
    // 已阅: the unit opened it (any of its people; the office sees units, not people).
    slot("opened_at", Kind::Time, Who::Unit),
    slot("updated_at", Kind::Time, Who::UnitOrOffice),
    slot("deleted", Kind::Flag, Who::Office),
];

/// Places every record has besides its field table.
const EVERY_RECORD: &[Slot] = &[slot("created_at", Kind::Time, Who::Maker), slot("updated_at", Kind::Time, Who::Unit), slot("deleted", Kind::Flag, Who::Unit)];

const POST_PLACES: &[Slot] = &[];
/// Photos and a place, on the records that carry them.
const MEDIA_PLACES: &[Slot] = &[slot("photos", Kind::Photos, Who::Unit), slot("location", Kind::Location, Who::Unit)];
const PROBLEM_PLACES: &[Slot] = &[
    slot("log", Kind::Entries { fields: LOG, adders: Who::Unit }, Who::Maker),
    // Older problems have no map yet: a supervisor's first remark makes it.
    slot("supervision", Kind::Entries { fields: SUPERVISION, adders: Who::Supervision }, Who::Everyone),
    slot("photos", Kind::Photos, Who::Unit),
    slot("location", Kind::Location, Who::Unit),
];
const RATING_PLACES: &[Slot] = &[
    slot("steps", Kind::Entries { fields: CASE_STEPS, adders: Who::Case }, Who::Maker),
    // Written with the record; the case's steps have times of their own.
    slot("updated_at", Kind::Time, Who::Maker),
    // Nobody takes a resident's rating away.
    slot("deleted", Kind::Flag, Who::Maker),
];
const PLEDGE_PLACES: &[Slot] = &[
    slot("progress", Kind::Entries { fields: PROGRESS, adders: Who::Unit }, Who::Maker),
    slot("evaluations", Kind::Entries { fields: EVALUATIONS, adders: Who::Everyone }, Who::Maker),
    slot("fulfilled_at", Kind::Time, Who::Unit),
];
const SURVEY_PLACES: &[Slot] = &[
    slot("questions", Kind::Entries { fields: QUESTIONS, adders: Who::Maker }, Who::Maker),
    slot("responses", Kind::Entries { fields: RESPONSES, adders: Who::Unit }, Who::Maker),
];

/// Places of a section's records besides its field table.
fn extra_places(section: Section) -> &'static [Slot] {
    match section {
        Section::Problems => PROBLEM_PLACES,
        Section::Pledges => PLEDGE_PLACES,
        Section::Surveys => SURVEY_PLACES,
        Section::Posts => POST_PLACES,
        Section::Ratings => RATING_PLACES,
        Section::Plans => PLAN_PLACES,
        Section::Rules => RULE_PLACES,
        Section::Rounds => ROUND_PLACES,
        Section::Notices => NOTICE_PLACES,
        Section::Visits | Section::Enterprises => MEDIA_PLACES,
    }
}

/// The code list of a record field of kind [`FieldKind::Code`]: (valid, may be "").
fn code_list(section: Section, key: &str) -> Option<Kind> {
    Some(match (section, key) {
        (Section::Visits, "kind") => code(|c| VisitKind::from_code(c).is_some()),
        (Section::Problems, "category") => code(|c| Category::from_code(c).is_some()),
        (Section::Problems, "raised_by") => code(|c| RaisedBy::from_code(c).is_some()),
        (Section::Problems, "urgency") => code(|c| Urgency::from_code(c).is_some()),
        (Section::Problems, "status") => code(status),
        (Section::Problems, "difficulty") => optional_code(|c| Difficulty::from_code(c).is_some()),
        (Section::Problems, "satisfaction") => optional_code(satisfaction),
        (Section::Ratings, "target") => code(|c| Target::from_code(c).is_some()),
        (Section::Ratings, "verdict") => code(|c| Verdict::from_code(c).is_some()),
        (Section::Ratings, "way") => code(|c| Way::from_code(c).is_some()),
        (Section::Rounds, "kind") => code(|c| RoundKind::from_code(c).is_some()),
        _ => return None,
    })
}

/// The place `key` of a record in `section`, if the schema has one.
pub(super) fn record_place(section: Section, key: &str) -> Option<Slot> {
    // A section's own places come first: they may set an every-record place apart.
    if let Some(place) = extra_places(section).iter().chain(EVERY_RECORD).find(|s| s.key == key) {
        return Some(match (section, place.who) {
            // Posts are the secretary's from the start (设岗定责).
            (Section::Posts, Who::Unit) => slot(place.key, place.kind, Who::Secretary),
            _ => *place,
        });
    }
    let field = section.fields().iter().find(|f| f.key == key)?;
    let kind = match field.kind {
        FieldKind::Text => Kind::Text,
        FieldKind::Scalar => Kind::Str,
        FieldKind::Code => code_list(section, key)?,
        FieldKind::Date => Kind::Date,
        FieldKind::Flag => Kind::Flag,
        FieldKind::Link => Kind::Link,
        FieldKind::Flags => Kind::Flags(|a| Aim::from_code(a).is_some()),
    };
    // Naming or changing who is responsible for a problem already raised is the secretary's
    // (指派); naming someone while raising it is the cadre's own report.
    let who = match (section, key) {
        (Section::Problems, "responsible") => Who::Secretary,
        (Section::Posts | Section::Pledges, "published") => Who::Publisher,
        (Section::Posts, _) => Who::Secretary,
        // A resident's rating stays as the board wrote it.
        (Section::Ratings, _) => Who::Maker,
        // The round as the office opened it; the draft, the secretary's.
        (Section::Plans, "title" | "deadline" | "office") | (Section::Rounds | Section::Notices, _) => Who::Maker,
        (Section::Plans, _) => Who::Secretary,
        // What makes a survey the office's round: the office's alone, even in a new record.
        (Section::Surveys, "scale" | "office" | "closes_on") => Who::Office,
        _ => Who::Unit,
    };
    Some(slot(field.key, kind, who))
}

/// The reason a change is refused: what it tried, where.
fn refused(what: &str, path: &[Step]) -> String {
    format!("{what}（{}）", shown(path))
}

pub(super) fn shown(path: &[Step]) -> String {
    let keys: Vec<&str> = path.iter().map(|s| if let Step::Key(k) = s { k.as_str() } else { "#" }).collect();
    keys.join("/")
}

/// Whether `op` writes a place the schema has, a value of that place's kind, as someone the
/// place allows.
pub(super) fn fits(doc: &AutoCommit, op: &OpView<'_>, made: &Made, write: Write, sender: &str) -> Result<(), String> {
    let path = op.path;
    let keys: Vec<Option<&str>> = path.iter().map(|s| if let Step::Key(k) = s { Some(k.as_str()) } else { None }).collect();
    let Some(Some(section_key)) = keys.first() else { return Err(refused(NOT_IN_SCHEMA, path)) };
    let Some(section) = Section::from_key(section_key) else {
        return Err(refused(if path.len() == 1 { STRUCTURE_FIXED } else { NOT_IN_SCHEMA }, path));
    };
    if path.len() == 1 {
        return Err(refused(STRUCTURE_FIXED, path));
    }
    let Some(record) = keys[1].filter(|k| RecordId::parse(k).is_some()) else { return Err(refused(NOT_IN_SCHEMA, path)) };
    let new_record = made.records.contains(&(section_key.to_string(), record.to_string()));
    if path.len() == 2 {
        // A record: made (over nothing, see `records_and_entries_stay`) by its section's makers.
        return match op.action {
            OpType::Make(ObjType::Map) if makers(section).allows(write) => Ok(()),
            OpType::Make(ObjType::Map) => Err(refused(not_made_by(section, write), path)),
            _ => Err(refused(NOT_ITS_KIND, path)),
        };
    }
    let Some(field) = keys[2].and_then(|k| record_place(section, k)) else { return Err(refused(NOT_IN_SCHEMA, path)) };
    // In the changes that make a record, its makers write all of it but supervisors',
    // publishers' and the office's places.
    let may = |who: Who| who.allows(write) || new_record && !matches!(who, Who::Supervision | Who::Publisher | Who::Office) && makers(section).allows(write);
    let denied = |who: Who| {
        Err(match (who, write) {
            (_, Write::SupervisionOnly) => refused(SUPERVISORS_ONLY_REMARK, path),
            (_, Write::Board) => refused(BOARD_ONLY_RESIDENTS, path),
            (_, Write::Office) => refused(OFFICE_ONLY_ITS_OWN, path),
            (Who::Office, _) => refused(ONLY_THE_OFFICE, path),
            (Who::Secretary, _) if section == Section::Plans => refused(SECRETARY_ONLY_PLAN, path),
            (Who::Publisher, _) => refused(SECRETARY_ONLY_PUBLISH, path),
            (Who::Secretary, _) => SECRETARY_ONLY_ASSIGN.to_owned(),
            (Who::Supervision, _) => refused(REMARKS_ARE_SUPERVISORS, path),
            _ => refused(WRITTEN_WITH_THE_RECORD, path),
        })
    };
    match (&path[3..], field.kind) {
        (rest, Kind::Photos) => match may(field.who) {
            true => photos_fit(rest, op, path),
            false => denied(field.who),
        },
        (rest, Kind::Location) => match may(field.who) {
            true => location_fits(rest, op, path),
            false => denied(field.who),
        },
        ([], kind) => {
            if !may(field.who) {
                return denied(field.who);
            }
            match op.action {
                // Its values and steps are judged by `StatusSteps`, with reasons of their own.
                _ if (section, field.key) == (Section::Problems, "status") => Ok(()),
                // A resident's 留言 is a problem the board raises as such, and only such.
                OpType::Put(ScalarValue::Str(s)) if write == Write::Board && (section, field.key) == (Section::Problems, "raised_by") && s.as_str() != RaisedBy::Message.code() => {
                    Err(refused(BOARD_ONLY_RESIDENTS, path))
                }
                // Automerge settles a conflict on a value already there by deleting the
                // others: allowed while a value the op leaves stays.
                OpType::Delete if super::value_left_after(doc, path, &op.pred, op.deps) => Ok(()),
                OpType::Delete => Err(refused(NOT_DELETED, path)),
                _ => value_fits(kind, op, sender, path),
            }
        }
        // A character of a text.
        ([Step::Element], Kind::Text) => match op.action {
            _ if !may(field.who) => denied(field.who),
            OpType::Put(ScalarValue::Str(_)) | OpType::Delete => Ok(()),
            _ => Err(refused(NOT_ITS_KIND, path)),
        },
        ([Step::Key(flag)], Kind::Flags(valid)) => match op.action {
            _ if !may(field.who) => denied(field.who),
            OpType::Put(ScalarValue::Boolean(_)) if valid(flag) => Ok(()),
            _ => Err(refused(NOT_ITS_KIND, path)),
        },
        ([Step::Key(entry), rest @ ..], Kind::Entries { fields, adders }) => {
            if RecordId::parse(entry).is_none() {
                return Err(refused(NOT_IN_SCHEMA, path));
            }
            if !may(adders) {
                return denied(adders);
            }
            match rest {
                [] => match op.action {
                    OpType::Make(ObjType::Map) => Ok(()),
                    _ => Err(refused(NOT_ITS_KIND, path)),
                },
                [Step::Key(key), inner @ ..] => {
                    let Some(place) = fields.iter().find(|s| s.key == key) else { return Err(refused(NOT_IN_SCHEMA, path)) };
                    match (inner, place.kind) {
                        // A case's step is taken by the one it belongs to.
                        ([], _) if (section, key.as_str()) == (Section::Ratings, "kind") => match op.action {
                            OpType::Put(ScalarValue::Str(k)) => match StepKind::from_code(k) {
                                Some(kind) if step_taker_allows(kind.taker(), write) => Ok(()),
                                Some(kind) => Err(refused(&format!("{CASE_STEP_NOT_YOURS}（{}）", kind.label()), path)),
                                None => Err(refused(NOT_ITS_KIND, path)),
                            },
                            _ => Err(refused(NOT_ITS_KIND, path)),
                        },
                        (inner, Kind::Photos) => photos_fit(inner, op, path),
                        ([], kind) => value_fits(kind, op, sender, path),
                        ([Step::Key(question)], Kind::Answers) => match op.action {
                            // Three levels in a unit's round, five in the office's.
                            OpType::Put(ScalarValue::Str(s)) if RecordId::parse(question).is_some() && (satisfaction(s) || Verdict::from_code(s).is_some()) => Ok(()),
                            _ => Err(refused(NOT_ITS_KIND, path)),
                        },
                        _ => Err(refused(NOT_IN_SCHEMA, path)),
                    }
                }
                _ => Err(refused(NOT_IN_SCHEMA, path)),
            }
        }
        ([Step::Key(item), rest @ ..], Kind::Items { fields, writers }) => {
            if RecordId::parse(item).is_none() {
                return Err(refused(NOT_IN_SCHEMA, path));
            }
            if !may(writers) {
                return denied(writers);
            }
            match rest {
                [] => match op.action {
                    OpType::Make(ObjType::Map) => Ok(()),
                    OpType::Delete => Err(refused(super::RECORD_NOT_DELETED, path)),
                    _ => Err(refused(NOT_ITS_KIND, path)),
                },
                [Step::Key(key)] => match fields.iter().find(|s| s.key == key) {
                    Some(place) => value_fits(place.kind, op, sender, path),
                    None => Err(refused(NOT_IN_SCHEMA, path)),
                },
                _ => Err(refused(NOT_IN_SCHEMA, path)),
            }
        }
        _ => Err(refused(NOT_IN_SCHEMA, path)),
    }
}

/// Whether `op`, at `rest` inside a photos map, adds or deletes a well-formed reference.
fn photos_fit(rest: &[Step], op: &OpView<'_>, path: &[Step]) -> Result<(), String> {
    use crate::photo::{valid_hash, MAX_PHOTO_BYTES, PHOTO_TYPE};
    let ok = match (rest, op.action) {
        // Made over nothing: replacing the map would hide the photos it holds.
        ([], OpType::Make(ObjType::Map)) => op.pred.is_empty(),
        ([], OpType::Delete) => return Err(refused(NOT_DELETED, path)),
        ([Step::Key(hash)], OpType::Make(ObjType::Map) | OpType::Delete) => valid_hash(hash),
        ([Step::Key(hash), Step::Key(field)], action) if valid_hash(hash) => match (field.as_str(), action) {
            ("type", OpType::Put(ScalarValue::Str(s))) => s.as_str() == PHOTO_TYPE,
            ("size", OpType::Put(ScalarValue::Int(n))) => (1..=i64::from(MAX_PHOTO_BYTES)).contains(n),
            ("taken_at", OpType::Put(ScalarValue::Timestamp(_))) => true,
            _ => false,
        },
        _ => return Err(refused(NOT_IN_SCHEMA, path)),
    };
    of_its_kind(ok, path)
}

/// Whether `op`, at `rest` inside a record's place, sets or deletes it with numbers in range.
fn location_fits(rest: &[Step], op: &OpView<'_>, path: &[Step]) -> Result<(), String> {
    let ok = match (rest, op.action) {
        ([], OpType::Make(ObjType::Map) | OpType::Delete) => true,
        ([Step::Key(field)], action) => match (field.as_str(), action) {
            ("lat", OpType::Put(ScalarValue::Int(n))) => n.abs() <= 90_000_000,
            ("lon", OpType::Put(ScalarValue::Int(n))) => n.abs() <= 180_000_000,
            ("accuracy", OpType::Put(ScalarValue::Int(n))) => (0..=1_000_000).contains(n),
            ("at", OpType::Put(ScalarValue::Timestamp(_))) => true,
            _ => false,
        },
        _ => return Err(refused(NOT_IN_SCHEMA, path)),
    };
    of_its_kind(ok, path)
}

/// A value check's verdict: refused as not of its place's kind unless `ok`.
fn of_its_kind(ok: bool, path: &[Step]) -> Result<(), String> {
    if ok {
        Ok(())
    } else {
        Err(refused(NOT_ITS_KIND, path))
    }
}

fn step_taker_allows(taker: StepTaker, write: Write) -> bool {
    match taker {
        StepTaker::Secretary => write == Write::Everything,
        StepTaker::Supervisor => write == Write::SupervisionOnly,
        StepTaker::Board => write == Write::Board,
    }
}

/// Why `write` may not make a record of `section`.
fn not_made_by(section: Section, write: Write) -> &'static str {
    match (section, write) {
        (_, Write::SupervisionOnly) => SUPERVISORS_ONLY_REMARK,
        (_, Write::Board) => BOARD_ONLY_RESIDENTS,
        (_, Write::Office) => OFFICE_ONLY_ITS_OWN,
        (Section::Plans | Section::Rounds | Section::Notices, _) => ONLY_THE_OFFICE,
        (Section::Posts, _) => SECRETARY_ONLY_PUBLISH,
        (Section::Ratings, _) => RATINGS_ARE_RESIDENTS,
        _ => WRITTEN_WITH_THE_RECORD,
    }
}

/// Whether `op` sets a place of `kind` to a value of that kind.
fn value_fits(kind: Kind, op: &OpView<'_>, sender: &str, path: &[Step]) -> Result<(), String> {
    let ok = match (kind, op.action) {
        (Kind::Text, OpType::Make(ObjType::Text)) => true,
        (Kind::Str, OpType::Put(ScalarValue::Str(_))) => true,
        (Kind::Code { valid, optional }, OpType::Put(ScalarValue::Str(s))) => valid(s) || optional && s.is_empty(),
        (Kind::Date, OpType::Put(ScalarValue::Str(s))) => s.is_empty() || crate::day::parse(s).is_some(),
        (Kind::Flag, OpType::Put(ScalarValue::Boolean(_))) => true,
        (Kind::Link, OpType::Put(ScalarValue::Str(s))) => s.is_empty() || RecordId::parse(s).is_some(),
        (Kind::Time, OpType::Put(ScalarValue::Timestamp(_))) => true,
        (Kind::Int, OpType::Put(ScalarValue::Int(_))) => true,
        (Kind::Sender, OpType::Put(ScalarValue::Str(s))) => {
            if s.as_str() != sender {
                return Err(format!("{NOT_THE_SENDER}（{}：“{s}”）", shown(path)));
            }
            true
        }
        (Kind::Flags(_) | Kind::Entries { .. } | Kind::Answers | Kind::Items { .. } | Kind::Photos | Kind::Location, OpType::Make(ObjType::Map)) => true,
        (Kind::PlanVersion, OpType::Put(ScalarValue::Bytes(b))) => {
            let Some(content) = PlanContent::decode(b) else { return Err(refused(NOT_ITS_KIND, path)) };
            if let Err(e) = content.check_complete() {
                return Err(refused(&format!("{INCOMPLETE_VERSION}：{}", e.messages().join("；")), path));
            }
            true
        }
        _ => false,
    };
    of_its_kind(ok, path)
}

pub const STRUCTURE_FIXED: &str = "台账的结构不能修改";
pub const NOT_IN_SCHEMA: &str = "台账中没有这一项";
pub const NOT_ITS_KIND: &str = "写入的内容与这一项的类型不符";
pub const SUPERVISORS_ONLY_REMARK: &str = "督查只能写督办意见和评议，不能修改";
pub const REMARKS_ARE_SUPERVISORS: &str = "督办意见只能由督查写";
pub const WRITTEN_WITH_THE_RECORD: &str = "这一项只在新建记录时写入，之后不能修改";
pub const NOT_DELETED: &str = "这一项不能删除";
pub const NOT_THE_SENDER: &str = "署名必须是发送修改的本人";
pub const SECRETARY_ONLY_ASSIGN: &str = "只有书记可以指派或改派问题的责任人";
pub const BOARD_ONLY_RESIDENTS: &str = "先锋广场只能写入群众的评价和留言";
pub const SECRETARY_ONLY_PUBLISH: &str = "岗位和公开内容只能由书记设置";
pub const RATINGS_ARE_RESIDENTS: &str = "群众评价只能由群众在先锋广场提交";
pub const CASE_STEP_NOT_YOURS: &str = "这一步不由你办理";
pub const ONLY_THE_OFFICE: &str = "只有先锋办可以下达工作、审核方案和发布通报";
pub const OFFICE_ONLY_ITS_OWN: &str = "先锋办只能下达工作、审核方案和发布通报";
pub const SECRETARY_ONLY_PLAN: &str = "实施方案由书记起草和报送";
pub const INCOMPLETE_VERSION: &str = "报送的方案不完整";
pub const NOTE_NOT_THE_RECORD: &str = "一项修改只能改动它所记的那条记录";
