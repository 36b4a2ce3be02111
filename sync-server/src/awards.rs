//! Recognition from the record (评先评优) over HTTP. The office opens an award round for the
//! units at or below a node of its (`/api/office/awards…`), records the opinions of the bodies
//! the round names, marks the shortlist, starts the 公示, examines each objection and records
//! the decision; a unit's secretary nominates with evidence linked from the unit's ledger
//! (`/api/awards…`); supervisors, the office and the secretary read a person's record
//! (`/api/desk/people…`). The rules are `ledger::award`'s; this module checks who asks and
//! keeps the round in storage. The public side (公示 and objections) is the board's.
//!
//! Rights: only the office at or above a round's node sees it whole or acts on it; a secretary
//! sees the rounds reaching their unit and only their unit's nominations; anyone else is told it
//! does not exist.

pub(crate) mod record;

use std::collections::HashSet;

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::NaiveDate;
use http_api::awards::{
    AwardRoundDetail, AwardRoundRow, AwardRounds, DecisionForm, Evidence, EvidenceChoices, FindingForm, NewAwardRound, NominatingUnit, NominationForm, NominationRow, ObjectionRow,
    OpinionForm, OpinionRow, PeopleList, SecretaryAwards, ShortlistForm,
};
use http_api::office::Opened;
use ledger::award::{self, AwardKind, NominationDraft, RoundDraft, RoundState, Stage};
use ledger::org::{Org, Role};
use ledger::record::Section;
use ledger::report::Period;
use ledger::RecordId;
use ledger_sync::DocumentId;
use serde::Deserialize;

use crate::auth::{principal, refusal};
use crate::board::now_ms;
use crate::desk::today;
use crate::directory::{random_id, Principal};
use crate::hub::Hub;
use crate::office::ledger_of;
use crate::storage::{AwardRound, Nomination, Objection, Opinion};
use crate::AppState;
use record::{is_secretary_of, person_row};

const NOT_FOUND: &str = "没有这项评选，或不在您的范围内";

/// Why a request was not answered: status, code, message.
type Refusal = (StatusCode, &'static str, String);

fn not_found() -> Refusal {
    (StatusCode::NOT_FOUND, "not_found", NOT_FOUND.into())
}

fn invalid(m: impl Into<String>) -> Refusal {
    (StatusCode::BAD_REQUEST, "invalid", m.into())
}

fn failed(e: impl std::fmt::Display) -> Refusal {
    (StatusCode::INTERNAL_SERVER_ERROR, "failed", e.to_string())
}

fn forbidden(m: &str) -> Refusal {
    (StatusCode::FORBIDDEN, "forbidden", m.into())
}

/// Runs the work on the blocking pool for the signed-in person and answers it as JSON; a
/// change to what the public sees (`public`) drops the boards rendered before it.
async fn answer<T: serde::Serialize + Send + 'static>(
    state: &AppState,
    headers: &HeaderMap,
    public: bool,
    f: impl FnOnce(&Hub, &Principal) -> Result<T, Refusal> + Send + 'static,
) -> Response {
    let p = match principal(state, headers, None).await {
        Ok((p, _)) if p.retired => return refusal(StatusCode::FORBIDDEN, "retired", "这台设备已停用"),
        Ok((p, _)) => p,
        Err(r) => return r,
    };
    let hub = state.hub.clone();
    match tokio::task::spawn_blocking(move || f(&hub, &p)).await {
        Ok(Ok(body)) => {
            if public {
                state.board.forget_all();
            }
            ([(axum::http::header::CACHE_CONTROL, "no-store")], Json(body)).into_response()
        }
        Ok(Err((status, code, message))) => refusal(status, code, &message),
        Err(e) => refusal(StatusCode::INTERNAL_SERVER_ERROR, "failed", &e.to_string()),
    }
}

fn day(s: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()
}

pub(crate) fn state_of(r: &AwardRound) -> RoundState {
    let publicity = day(&r.publicity_from).zip(day(&r.publicity_to));
    RoundState { nominate_by: day(&r.nominate_by).unwrap_or_default(), publicity, decided: r.decided_at > 0 }
}

/// Today as award rounds count it (ahead of the calendar only in a rehearsal).
pub(crate) fn award_today(hub: &Hub) -> NaiveDate {
    let ahead = hub.days_ahead.load(std::sync::atomic::Ordering::Relaxed);
    today().checked_add_signed(chrono::TimeDelta::days(ahead)).unwrap_or_else(today)
}

pub(crate) fn stage_of(hub: &Hub, r: &AwardRound) -> Stage {
    state_of(r).stage(award_today(hub))
}

fn kind_of(r: &AwardRound) -> AwardKind {
    AwardKind::from_code(&r.kind).unwrap_or(AwardKind::Individual)
}

fn row_of(hub: &Hub, org: &Org, r: &AwardRound) -> Result<AwardRoundRow, Refusal> {
    let nominations = hub.storage.nominations(&r.id).map_err(failed)?;
    let objections = hub.storage.objections(&r.id).map_err(failed)?;
    let stage = stage_of(hub, r);
    Ok(AwardRoundRow {
        id: r.id.clone(),
        title: r.title.clone(),
        kind: r.kind.clone(),
        kind_label: kind_of(r).label().to_owned(),
        node_name: org.units.get(&r.node).map(|u| u.name.clone()).unwrap_or_default(),
        quota: r.quota,
        nominate_by: r.nominate_by.clone(),
        publicity_days: r.publicity_days,
        bodies: r.bodies.clone(),
        stage: stage.code().to_owned(),
        stage_label: stage.label().to_owned(),
        publicity_from: r.publicity_from.clone(),
        publicity_to: r.publicity_to.clone(),
        decided_on: ledger::report::day_of(r.decided_at).map(|d| d.to_string()).unwrap_or_default(),
        decision: r.decision.clone(),
        nominations: nominations.len(),
        shortlisted: nominations.iter().filter(|n| n.shortlisted).count(),
        open_objections: objections.iter().filter(|o| o.settled_at == 0).count(),
    })
}

/// What a linked record is now, from the read model; None when it is gone or deleted.
fn evidence_of(hub: &Hub, doc: &DocumentId, section: &str, id: &str) -> Result<Option<Evidence>, Refusal> {
    let (Some(sec), Some(rid)) = (Section::from_key(section), RecordId::parse(id)) else { return Ok(None) };
    let title_field = match sec {
        Section::Visits => "whom",
        Section::Problems | Section::Posts => "title",
        Section::Pledges => "content",
        Section::Enterprises => "name",
        Section::Ratings => "comment",
        _ => return Ok(None),
    };
    let Some(body) = hub.storage.record_body(doc, sec, &rid).map_err(failed)? else { return Ok(None) };
    let Ok(v) = serde_json::from_str::<serde_json::Value>(&body) else { return Ok(None) };
    if v.get("deleted").and_then(|d| d.as_bool()).unwrap_or(false) {
        return Ok(None);
    }
    let title = v.get(title_field).and_then(|t| t.as_str()).unwrap_or_default();
    let date = v
        .get("date")
        .and_then(|d| d.as_str())
        .map(str::to_owned)
        .or_else(|| v.get("created_at").and_then(|t| t.as_i64()).and_then(ledger::report::day_of).map(|d| d.to_string()))
        .unwrap_or_default();
    let what = match sec {
        Section::Visits => "走访",
        Section::Problems => "问题",
        Section::Posts => "岗位",
        Section::Pledges => "承诺",
        Section::Enterprises => "服务企业",
        _ => "群众评价",
    };
    let label: String = format!("{what}：{title}").chars().take(80).collect();
    Ok(Some(Evidence { section: section.to_owned(), id: id.to_owned(), label, date }))
}

fn nomination_row(hub: &Hub, org: &Org, n: &Nomination, opinions: &[Opinion]) -> Result<NominationRow, Refusal> {
    let doc = ledger_of(org, &n.unit);
    let mut evidence = Vec::new();
    for (section, id) in &n.evidence {
        let found = match &doc {
            Some(doc) => evidence_of(hub, doc, section, id)?,
            None => None,
        };
        // A record deleted since stays listed, said to be gone: the nomination named it.
        evidence.push(found.unwrap_or_else(|| Evidence { section: section.clone(), id: id.clone(), label: String::new(), date: String::new() }));
    }
    Ok(NominationRow {
        id: n.id.clone(),
        unit: n.unit.clone(),
        unit_name: org.units.get(&n.unit).map(|u| u.name.clone()).unwrap_or_default(),
        person: n.person.clone(),
        name: n.name.clone(),
        post: n.post.clone(),
        deeds: n.deeds.clone(),
        summary: n.summary.clone(),
        ledger: doc.map(|d| d.to_string()).unwrap_or_default(),
        evidence,
        opinions: opinions.iter().filter(|o| o.nomination == n.id).map(|o| OpinionRow { body: o.body.clone(), opinion: o.opinion.clone(), given_on: o.given_on.clone() }).collect(),
        shortlisted: n.shortlisted,
        commended: n.commended,
    })
}

fn objection_row(o: &Objection) -> ObjectionRow {
    let filed = chrono::DateTime::from_timestamp_millis(o.filed_at + 8 * 3_600_000).map(|t| t.format("%Y-%m-%d %H:%M").to_string()).unwrap_or_default();
    ObjectionRow {
        id: o.id.clone(),
        nomination: o.nomination.clone(),
        text: o.text.clone(),
        contact: o.contact.clone(),
        filed_at: filed,
        finding: o.finding.clone(),
        upheld: o.upheld,
        settled: o.settled_at > 0,
    }
}

// ---- the office ----

fn office_round(hub: &Hub, person: &str, id: &str) -> Result<AwardRound, Refusal> {
    let org = hub.directory.org();
    hub.storage.award_round(id).map_err(failed)?.filter(|r| org.is_office_for(person, &r.node)).ok_or_else(not_found)
}

/// `GET /api/office/awards`
pub(crate) async fn office_rounds(State(state): State<AppState>, headers: HeaderMap) -> Response {
    answer(&state, &headers, false, |hub, p| {
        let org = hub.directory.org();
        if org.office_nodes(&p.person).is_empty() {
            return Err(forbidden("只有先锋办可以使用这一页"));
        }
        let rounds = hub.storage.award_rounds().map_err(failed)?.into_iter().filter(|r| org.is_office_for(&p.person, &r.node));
        Ok(AwardRounds { rounds: rounds.map(|r| row_of(hub, &org, &r)).collect::<Result<_, _>>()? })
    })
    .await
}

/// `POST /api/office/awards`
pub(crate) async fn open_round(State(state): State<AppState>, headers: HeaderMap, Json(form): Json<NewAwardRound>) -> Response {
    answer(&state, &headers, false, move |hub, p| {
        let org = hub.directory.org();
        let node = if form.node.trim().is_empty() { org.office_nodes(&p.person).first().map(|u| u.id.clone()) } else { Some(form.node.trim().to_owned()) };
        let Some(node) = node.filter(|n| org.units.contains_key(n) && org.is_office_for(&p.person, n)) else {
            return Err(if org.office_nodes(&p.person).is_empty() { forbidden("只有先锋办可以发起评选") } else { not_found() });
        };
        let valid =
            RoundDraft { title: &form.title, kind: &form.kind, quota: form.quota, nominate_by: &form.nominate_by, publicity_days: form.publicity_days, bodies: &form.bodies }
                .validate(award_today(hub))
                .map_err(invalid)?;
        let now = now_ms();
        let today_opened = hub.storage.award_rounds().map_err(failed)?.iter().filter(|r| r.node == node && now - r.opened_at < 86_400_000).count();
        if today_opened >= crate::office::MAX_PER_DAY {
            return Err((StatusCode::TOO_MANY_REQUESTS, "too_many", format!("一天最多发起 {} 项评选", crate::office::MAX_PER_DAY)));
        }
        let units = org.subtree(&node).iter().filter(|u| u.ledger.is_some()).count();
        let round = AwardRound {
            id: random_id(),
            node,
            title: valid.title,
            kind: valid.kind.code().to_owned(),
            quota: valid.quota,
            nominate_by: valid.nominate_by.to_string(),
            publicity_days: valid.publicity_days,
            bodies: valid.bodies,
            opened_by: p.person.clone(),
            opened_at: now,
            publicity_from: String::new(),
            publicity_to: String::new(),
            decided_at: 0,
            decided_by: String::new(),
            decision: String::new(),
        };
        hub.storage.put_award_round(&round).map_err(failed)?;
        Ok(Opened { id: round.id, units })
    })
    .await
}

/// `GET /api/office/awards/{id}`: every nomination, with opinions and objections.
pub(crate) async fn office_round_detail(State(state): State<AppState>, headers: HeaderMap, Path(id): Path<String>) -> Response {
    answer(&state, &headers, false, move |hub, p| {
        let round = office_round(hub, &p.person, &id)?;
        detail(hub, &round, |_| true, true)
    })
    .await
}

fn detail(hub: &Hub, round: &AwardRound, show: impl Fn(&Nomination) -> bool, objections: bool) -> Result<AwardRoundDetail, Refusal> {
    let org = hub.directory.org();
    let opinions = hub.storage.opinions(&round.id).map_err(failed)?;
    let nominations = hub.storage.nominations(&round.id).map_err(failed)?.iter().filter(|n| show(n)).map(|n| nomination_row(hub, &org, n, &opinions)).collect::<Result<_, _>>()?;
    let objections = if objections { hub.storage.objections(&round.id).map_err(failed)?.iter().map(objection_row).collect() } else { Vec::new() };
    Ok(AwardRoundDetail { round: row_of(hub, &org, round)?, nominations, objections })
}

fn round_nomination(hub: &Hub, round: &AwardRound, id: &str) -> Result<Nomination, Refusal> {
    hub.storage.nomination(id).map_err(failed)?.filter(|n| n.round == round.id).ok_or_else(not_found)
}

fn in_stage(hub: &Hub, round: &AwardRound, stage: Stage, what: &str) -> Result<(), Refusal> {
    let now = stage_of(hub, round);
    if now == stage {
        Ok(())
    } else {
        Err((StatusCode::CONFLICT, "stage", format!("这一轮现在{}，不能{what}", now.label())))
    }
}

/// `POST /api/office/awards/{round}/nominations/{id}/opinions`
pub(crate) async fn record_opinion(State(state): State<AppState>, headers: HeaderMap, Path((round, id)): Path<(String, String)>, Json(form): Json<OpinionForm>) -> Response {
    answer(&state, &headers, false, move |hub, p| {
        let round = office_round(hub, &p.person, &round)?;
        let n = round_nomination(hub, &round, &id)?;
        in_stage(hub, &round, Stage::Reviewing, "记录意见")?;
        let (opinion, given_on) = award::check_opinion(&round.bodies, &form.body, &form.opinion, &form.given_on, award_today(hub)).map_err(invalid)?;
        hub.storage
            .put_opinion(&Opinion { nomination: n.id, body: form.body.trim().to_owned(), opinion, given_on: given_on.to_string(), recorded_by: p.person.clone(), at: now_ms() })
            .map_err(failed)?;
        Ok(serde_json::json!({ "ok": true }))
    })
    .await
}

/// `POST /api/office/awards/{round}/nominations/{id}/shortlist`
pub(crate) async fn shortlist(State(state): State<AppState>, headers: HeaderMap, Path((round, id)): Path<(String, String)>, Json(form): Json<ShortlistForm>) -> Response {
    answer(&state, &headers, false, move |hub, p| {
        let round = office_round(hub, &p.person, &round)?;
        let n = round_nomination(hub, &round, &id)?;
        in_stage(hub, &round, Stage::Reviewing, "调整拟表彰名单")?;
        if form.on && !n.shortlisted {
            let heard: Vec<String> = hub.storage.opinions(&round.id).map_err(failed)?.into_iter().filter(|o| o.nomination == n.id).map(|o| o.body).collect();
            let shortlisted = hub.storage.nominations(&round.id).map_err(failed)?.iter().filter(|n| n.shortlisted).count();
            award::check_shortlist(&round.bodies, &heard, shortlisted, round.quota).map_err(invalid)?;
        }
        hub.storage.set_shortlisted(&n.id, form.on, &p.person, now_ms()).map_err(failed)?;
        Ok(serde_json::json!({ "ok": true }))
    })
    .await
}

/// `POST /api/office/awards/{round}/publicity`: the shortlist goes public from today (or the
/// next working day) for the round's working days.
pub(crate) async fn start_publicity(State(state): State<AppState>, headers: HeaderMap, Path(round): Path<String>) -> Response {
    answer(&state, &headers, true, move |hub, p| {
        let round = office_round(hub, &p.person, &round)?;
        in_stage(hub, &round, Stage::Reviewing, "公示")?;
        if !hub.storage.nominations(&round.id).map_err(failed)?.iter().any(|n| n.shortlisted) {
            return Err(invalid("还没有拟表彰对象，不能公示"));
        }
        let calendar = crate::board::case_rules(&hub.storage).calendar;
        let (from, to) = award::publicity_period(&calendar, award_today(hub), round.publicity_days);
        hub.storage.start_publicity(&round.id, &from.to_string(), &to.to_string(), &p.person, now_ms()).map_err(failed)?;
        Ok(serde_json::json!({ "from": from.to_string(), "to": to.to_string() }))
    })
    .await
}

/// `POST /api/office/awards/{round}/objections/{id}`: how an objection was examined.
pub(crate) async fn settle_objection(State(state): State<AppState>, headers: HeaderMap, Path((round, id)): Path<(String, String)>, Json(form): Json<FindingForm>) -> Response {
    answer(&state, &headers, true, move |hub, p| {
        let round = office_round(hub, &p.person, &round)?;
        let o = hub.storage.objection(&id).map_err(failed)?.filter(|o| o.round == round.id).ok_or_else(not_found)?;
        if o.settled_at > 0 {
            return Err((StatusCode::CONFLICT, "settled", "这条异议已经核查办结".into()));
        }
        let finding = award::check_finding(&form.finding).map_err(invalid)?;
        hub.storage.settle_objection(&o, &finding, form.upheld, &p.person, now_ms()).map_err(failed)?;
        Ok(serde_json::json!({ "ok": true }))
    })
    .await
}

/// `POST /api/office/awards/{round}/decision`
pub(crate) async fn decide(State(state): State<AppState>, headers: HeaderMap, Path(round): Path<String>, Json(form): Json<DecisionForm>) -> Response {
    answer(&state, &headers, true, move |hub, p| {
        let round = office_round(hub, &p.person, &round)?;
        let unsettled = hub.storage.objections(&round.id).map_err(failed)?.iter().filter(|o| o.settled_at == 0).count();
        award::check_decision(stage_of(hub, &round), unsettled).map_err(|m| (StatusCode::CONFLICT, "stage", m))?;
        let decision = form.decision.trim();
        if decision.chars().count() > award::MAX_TITLE {
            return Err(invalid(format!("决定文号最多 {} 字", award::MAX_TITLE)));
        }
        hub.storage.decide_award(&round.id, decision, &p.person, now_ms()).map_err(failed)?;
        Ok(serde_json::json!({ "ok": true }))
    })
    .await
}

// ---- the unit's secretary ----

/// The units `person` nominates for in a round: where they are the secretary, below its node.
fn nominating_units<'a>(org: &'a Org, person: &str, round: &AwardRound) -> Vec<&'a ledger::org::Unit> {
    org.grants_of(person)
        .filter(|g| g.role == Role::Secretary && org.is_at_or_below(&g.unit, &round.node))
        .filter_map(|g| org.units.get(&g.unit))
        .filter(|u| u.ledger.is_some())
        .collect()
}

fn secretary_round(hub: &Hub, person: &str, id: &str) -> Result<AwardRound, Refusal> {
    let org = hub.directory.org();
    hub.storage.award_round(id).map_err(failed)?.filter(|r| !nominating_units(&org, person, r).is_empty()).ok_or_else(not_found)
}

/// `GET /api/awards`
pub(crate) async fn secretary_rounds(State(state): State<AppState>, headers: HeaderMap) -> Response {
    answer(&state, &headers, false, |hub, p| {
        let org = hub.directory.org();
        let mut units: Vec<NominatingUnit> = Vec::new();
        let mut rounds = Vec::new();
        // Everyone the secretary may read, once: each unit's people are picked from it.
        let readable = record::people(hub, &p.person).map_err(failed)?;
        for r in hub.storage.award_rounds().map_err(failed)? {
            let mine = nominating_units(&org, &p.person, &r);
            if mine.is_empty() {
                continue;
            }
            for u in mine {
                if !units.iter().any(|x| x.unit == u.id) {
                    let people = readable.iter().filter(|x| x.unit == u.id).cloned().collect();
                    units.push(NominatingUnit { unit: u.id.clone(), name: u.name.clone(), people });
                }
            }
            rounds.push(row_of(hub, &org, &r)?);
        }
        Ok(SecretaryAwards { rounds, units })
    })
    .await
}

/// `GET /api/awards/{id}`: the round with the secretary's own units' nominations.
pub(crate) async fn secretary_round_detail(State(state): State<AppState>, headers: HeaderMap, Path(id): Path<String>) -> Response {
    answer(&state, &headers, false, move |hub, p| {
        let round = secretary_round(hub, &p.person, &id)?;
        let org = hub.directory.org();
        let mine: HashSet<String> = nominating_units(&org, &p.person, &round).iter().map(|u| u.id.clone()).collect();
        detail(hub, &round, |n| mine.contains(&n.unit), false)
    })
    .await
}

#[derive(Debug, Deserialize)]
pub(crate) struct EvidenceAsk {
    unit: String,
    #[serde(default)]
    person: String,
    #[serde(default)]
    period: String,
}

/// `GET /api/awards/evidence?unit=&person=&period=`: what a nomination may link.
pub(crate) async fn evidence_choices(State(state): State<AppState>, headers: HeaderMap, Query(ask): Query<EvidenceAsk>) -> Response {
    answer(&state, &headers, false, move |hub, p| {
        let org = hub.directory.org();
        if !is_secretary_of(&org, &p.person, &ask.unit) {
            return Err(not_found());
        }
        let doc = ledger_of(&org, &ask.unit).ok_or_else(not_found)?;
        let period = if ask.period.trim().is_empty() { Period::Year(chrono::Datelike::year(&today())) } else { Period::parse(&ask.period).map_err(invalid)? };
        let person = if ask.person.is_empty() {
            None
        } else {
            let row = person_row(hub, &org, &ask.person).map_err(failed)?.filter(|r| r.unit == ask.unit).ok_or_else(not_found)?;
            Some((ask.person.clone(), row.name))
        };
        let record = record::record_of(hub, &doc, person.as_ref().map(|(id, name)| (id.as_str(), name.as_str())), period).map_err(failed)?;
        Ok(EvidenceChoices { ledger: doc.to_string(), record })
    })
    .await
}

/// `POST /api/awards/{round}/nominations`: a nomination, new or edited, while nominating.
pub(crate) async fn nominate(State(state): State<AppState>, headers: HeaderMap, Path(round): Path<String>, Json(form): Json<NominationForm>) -> Response {
    answer(&state, &headers, false, move |hub, p| {
        let round = secretary_round(hub, &p.person, &round)?;
        let org = hub.directory.org();
        if !nominating_units(&org, &p.person, &round).iter().any(|u| u.id == form.unit) {
            return Err(not_found());
        }
        in_stage(hub, &round, Stage::Nominating, "推荐")?;
        let kind = kind_of(&round);
        let valid = NominationDraft { kind, post: &form.post, deeds: &form.deeds, summary: &form.summary, evidence: form.evidence.len() }.validate().map_err(invalid)?;
        let name = match kind {
            AwardKind::Collective if !form.person.is_empty() => return Err(invalid("这一轮评选先进集体，推荐的是本单位")),
            AwardKind::Collective => org.units.get(&form.unit).map(|u| u.name.clone()).unwrap_or_default(),
            AwardKind::Individual => {
                person_row(hub, &org, &form.person).map_err(failed)?.filter(|r| r.unit == form.unit).map(|r| r.name).ok_or_else(|| invalid("请从本单位的人员中选择推荐对象"))?
            }
        };
        let existing = hub.storage.nominations(&round.id).map_err(failed)?;
        let edited = match &form.id {
            Some(id) => Some(existing.iter().find(|n| &n.id == id && n.unit == form.unit).ok_or_else(not_found)?),
            None => None,
        };
        let others: Vec<&Nomination> = existing.iter().filter(|n| n.unit == form.unit && Some(&n.id) != form.id.as_ref()).collect();
        if others.iter().any(|n| n.person == form.person) {
            return Err(invalid(format!("{name}已经推荐过了")));
        }
        if others.len() as u64 >= u64::from(round.quota) {
            return Err(invalid(format!("每个单位最多推荐 {} 个", round.quota)));
        }
        let doc = ledger_of(&org, &form.unit).ok_or_else(not_found)?;
        let mut evidence: Vec<(String, String)> = Vec::new();
        for (section, id) in &form.evidence {
            if evidence_of(hub, &doc, section, id)?.is_none() {
                return Err(invalid("佐证记录须是本单位台账中的记录"));
            }
            if !evidence.iter().any(|(s, i)| s == section && i == id) {
                evidence.push((section.clone(), id.clone()));
            }
        }
        let n = Nomination {
            id: edited.map(|n| n.id.clone()).unwrap_or_else(random_id),
            round: round.id.clone(),
            unit: form.unit.clone(),
            person: form.person.clone(),
            name: name.clone(),
            post: valid.post,
            deeds: valid.deeds,
            summary: valid.summary,
            evidence,
            by_person: p.person.clone(),
            at: edited.map(|n| n.at).unwrap_or_else(now_ms),
            shortlisted: false,
            commended: false,
        };
        hub.storage.put_nomination(&n, &format!("{} {}", round.id, name)).map_err(failed)?;
        Ok(serde_json::json!({ "id": n.id }))
    })
    .await
}

/// `POST /api/awards/{round}/nominations/{id}/withdraw`
pub(crate) async fn withdraw(State(state): State<AppState>, headers: HeaderMap, Path((round, id)): Path<(String, String)>) -> Response {
    answer(&state, &headers, false, move |hub, p| {
        let round = secretary_round(hub, &p.person, &round)?;
        let org = hub.directory.org();
        let n = round_nomination(hub, &round, &id)?;
        if !is_secretary_of(&org, &p.person, &n.unit) {
            return Err(not_found());
        }
        in_stage(hub, &round, Stage::Nominating, "撤回推荐")?;
        hub.storage.withdraw_nomination(&n.id, &p.person, now_ms(), &format!("{} {}", round.id, n.name)).map_err(failed)?;
        Ok(serde_json::json!({ "ok": true }))
    })
    .await
}

// ---- records ----

#[derive(Debug, Deserialize)]
pub(crate) struct PeriodAsk {
    #[serde(default)]
    period: String,
}

fn period_of(ask: &PeriodAsk) -> Result<(Period, String), Refusal> {
    let period = if ask.period.trim().is_empty() { Period::Year(chrono::Datelike::year(&today())) } else { Period::parse(&ask.period).map_err(invalid)? };
    Ok((period, period.key()))
}

/// `GET /api/desk/people`
pub(crate) async fn people(State(state): State<AppState>, headers: HeaderMap) -> Response {
    answer(&state, &headers, false, |hub, p| Ok(PeopleList { people: record::people(hub, &p.person).map_err(failed)? })).await
}

/// `GET /api/desk/people/{id}/record?period=`
pub(crate) async fn person_record(State(state): State<AppState>, headers: HeaderMap, Path(id): Path<String>, Query(ask): Query<PeriodAsk>) -> Response {
    answer(&state, &headers, false, move |hub, p| {
        let (period, key) = period_of(&ask)?;
        record::person_record(hub, &p.person, &id, period, &key).map_err(failed)?.ok_or_else(|| (StatusCode::NOT_FOUND, "not_found", "没有这个人，或不在您的范围内".into()))
    })
    .await
}

/// `GET /api/desk/people/{id}/record.xlsx?period=`
pub(crate) async fn person_record_xlsx(State(state): State<AppState>, headers: HeaderMap, Path(id): Path<String>, Query(ask): Query<PeriodAsk>) -> Response {
    let p = match principal(&state, &headers, None).await {
        Ok((p, _)) if !p.retired => p,
        Ok(_) => return refusal(StatusCode::FORBIDDEN, "retired", "这台设备已停用"),
        Err(r) => return r,
    };
    let hub = state.hub.clone();
    let work = tokio::task::spawn_blocking(move || -> Result<(Vec<u8>, String), Refusal> {
        let (period, key) = period_of(&ask)?;
        let r = record::person_record(&hub, &p.person, &id, period, &key)
            .map_err(failed)?
            .ok_or_else(|| (StatusCode::NOT_FOUND, "not_found", "没有这个人，或不在您的范围内".into()))?;
        Ok((record::workbook(&r).map_err(failed)?, format!("实绩-{}-{key}.xlsx", r.person.name)))
    });
    match work.await {
        Ok(Ok((bytes, name))) => {
            let encoded: String = name.bytes().map(|b| if b.is_ascii_alphanumeric() || b"-._".contains(&b) { (b as char).to_string() } else { format!("%{b:02X}") }).collect();
            (
                [
                    (axum::http::header::CONTENT_TYPE, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet".to_owned()),
                    (axum::http::header::CONTENT_DISPOSITION, format!("attachment; filename=\"record.xlsx\"; filename*=UTF-8''{encoded}")),
                    (axum::http::header::CACHE_CONTROL, "no-store".to_owned()),
                ],
                bytes,
            )
                .into_response()
        }
        Ok(Err((status, code, message))) => refusal(status, code, &message),
        Err(e) => refusal(StatusCode::INTERNAL_SERVER_ERROR, "failed", &e.to_string()),
    }
}
