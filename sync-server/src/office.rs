//! `/api/office/…`: the campaign office's desk (先锋办). The office opens a round (实施方案 or
//! 制度清理) or publishes a 通报 for the units keeping a ledger at or below a node of its; the
//! server writes it into each unit's ledger as the office (`Write::Office`), so phones receive it
//! with their next sync and read it offline. Where each unit stands is counted from the read
//! model; the office reviews a unit's plan by writing its opinion into that unit's ledger.
//!
//! Rights: only a person holding the office role at or above a round's node sees it or acts on
//! it; anyone else is told it does not exist.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::NaiveDate;
use http_api::desk::UnitRef;
use http_api::office::{NewNotice, NewRound, OfficeView, Opened, QuestionComparison, ReviewForm, RoundDetail, RoundRow, Standing, UnitAnswers};
use ledger::org::{Org, Write};
use ledger::plan::{Filing, PlanPart, ReviewVerdict};
use ledger::record::Section;
use ledger::report::Facts;
use ledger::rule::{CleanupProgress, Rule};
use ledger::unit_ledger::{PlanRound, RoundKind, SatisfactionRound};
use ledger::RecordId;
use ledger_sync::DocumentId;

use crate::auth::{principal, refusal};
use crate::desk::today;
use crate::directory::{now_secs, Principal};
use crate::hub::{Hub, WriteError, Writer};
use crate::storage::OfficeRound;
use crate::AppState;

const NOT_FOUND: &str = "没有这项工作，或不在您的范围内";
pub(crate) const MAX_TITLE: usize = 100;
/// Rounds and notices one office node opens in a day: each is written into every ledger below
/// it, so a runaway script (or a stuck button) must not fill them all.
pub(crate) const MAX_PER_DAY: usize = 30;

async fn office(state: &AppState, headers: &HeaderMap) -> Result<Principal, Response> {
    let (p, _) = principal(state, headers, None).await?;
    if p.retired {
        return Err(refusal(StatusCode::FORBIDDEN, "retired", "这台设备已停用"));
    }
    if state.hub.directory.org().office_nodes(&p.person).is_empty() {
        return Err(refusal(StatusCode::FORBIDDEN, "forbidden", "只有先锋办可以使用这一页"));
    }
    Ok(p)
}

/// Why an office request was not answered: status, code, message.
type Refusal = (StatusCode, &'static str, String);

fn not_found() -> Refusal {
    (StatusCode::NOT_FOUND, "not_found", NOT_FOUND.into())
}

fn invalid(m: impl Into<String>) -> Refusal {
    (StatusCode::BAD_REQUEST, "invalid", m.into())
}

/// Runs office work on the blocking pool and answers it as JSON.
async fn answer<T: serde::Serialize + Send + 'static>(state: &AppState, headers: &HeaderMap, f: impl FnOnce(&Hub, &Principal) -> Result<T, Refusal> + Send + 'static) -> Response {
    let p = match office(state, headers).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    let hub = state.hub.clone();
    match tokio::task::spawn_blocking(move || f(&hub, &p)).await {
        Ok(Ok(body)) => ([(axum::http::header::CACHE_CONTROL, "no-store")], Json(body)).into_response(),
        Ok(Err((status, code, message))) => refusal(status, code, &message),
        Err(e) => refusal(StatusCode::INTERNAL_SERVER_ERROR, "failed", &e.to_string()),
    }
}

fn failed(e: impl std::fmt::Display) -> Refusal {
    (StatusCode::INTERNAL_SERVER_ERROR, "failed", e.to_string())
}

/// The name the office writes under: its node's name and 先锋办 (示范县先锋办).
fn office_name(org: &Org, node: &str) -> String {
    org.units.get(node).map(|u| format!("{}先锋办", u.name)).unwrap_or_else(|| "先锋办".into())
}

/// The node named in a request, which must be at or below one of the person's office nodes.
fn node_for(org: &Org, person: &str, node: &str) -> Result<String, Refusal> {
    let node = node.trim();
    if node.is_empty() {
        return org.office_nodes(person).first().map(|u| u.id.clone()).ok_or_else(not_found);
    }
    if org.units.contains_key(node) && org.is_office_for(person, node) {
        Ok(node.to_owned())
    } else {
        Err(not_found())
    }
}

/// The office node a round was opened from, for `person` (it must be theirs).
fn visible(org: &Org, person: &str, round: Option<OfficeRound>) -> Result<OfficeRound, Refusal> {
    round.filter(|r| org.is_office_for(person, &r.node)).ok_or_else(not_found)
}

fn title_of(title: &str) -> Result<String, Refusal> {
    let title = title.trim();
    match title.chars().count() {
        0 => Err(invalid("请填写名称")),
        n if n > MAX_TITLE => Err(invalid(format!("名称最多 {MAX_TITLE} 字"))),
        _ => Ok(title.to_owned()),
    }
}

/// The ledgers of the units at or below `node`, in tree order.
fn ledgers_below(org: &Org, node: &str) -> Vec<(String, DocumentId)> {
    org.tree_order().into_iter().filter(|(_, u)| org.is_at_or_below(&u.id, node)).filter_map(|(_, u)| Some((u.id.clone(), DocumentId::parse(u.ledger.as_deref()?).ok()?))).collect()
}

/// A unit's ledger, if it keeps one.
pub(crate) fn ledger_of(org: &Org, unit: &str) -> Option<DocumentId> {
    org.units.get(unit).and_then(|u| u.ledger.as_deref()).and_then(|l| DocumentId::parse(l).ok())
}

/// Writes the round into one unit's ledger as the office (nothing if it is there already).
fn deliver(hub: &Hub, org: &Org, round: &OfficeRound, unit: &str) -> Result<(), String> {
    let Some(doc) = ledger_of(org, unit) else { return Ok(()) };
    let name = office_name(org, &round.node);
    let id = RecordId::parse(&round.id).ok_or("a round's id is a record id")?;
    let deadline = ledger::day::parse(&round.deadline);
    let opened = ledger::report::day_of(round.opened_at).unwrap_or_default();
    let (kind, title, body) = (round.kind.clone(), round.title.clone(), round.body.clone());
    let now_ms = crate::board::now_ms();
    let office = name.clone();
    hub.write_as(doc, Writer { write: Write::Office, name: &name, device: None }, move |l| {
        match (kind.as_str(), deadline) {
            ("plan", Some(deadline)) => l.open_plan(&id, &PlanRound { title: &title, deadline, office: &office }, now_ms),
            ("cleanup", Some(deadline)) => l.open_round(&id, RoundKind::Cleanup, &title, deadline, &office, opened, now_ms),
            ("notice", _) => l.publish_notice(&id, &title, &body, &office, opened, now_ms),
            ("satisfaction", Some(closes_on)) => {
                let questions: Vec<String> = body.lines().map(str::to_owned).collect();
                l.open_satisfaction_round(&id, &SatisfactionRound { title: &title, questions: &questions, office: &office, opened_on: opened, closes_on }, now_ms)
            }
            _ => Err(ledger::LedgerError::Invalid(format!("unknown round kind {kind}"))),
        }
        .map(|_| ())
    })
    .map_err(|e| format!("{e:?}"))
}

/// Records the round, then delivers it to every unit. A unit the delivery missed (the server
/// stopped half way) gets it when the office next looks at the round.
pub(crate) fn open(hub: &Hub, person: &str, kind: &str, node: &str, title: &str, deadline: &str, body: &str) -> Result<Opened, Refusal> {
    let org = hub.directory.org();
    let node = node_for(&org, person, node)?;
    let units: Vec<String> = ledgers_below(&org, &node).into_iter().map(|(u, _)| u).collect();
    let office_node = org.office_nodes(person).into_iter().find(|n| org.is_at_or_below(&node, &n.id)).map(|n| n.id.clone()).unwrap_or_else(|| node.clone());
    let below: Vec<&str> = org.units.values().filter(|u| org.is_at_or_below(&u.id, &office_node)).map(|u| u.id.as_str()).collect();
    let since = crate::board::now_ms() - 86_400_000;
    if hub.storage.office_rounds(&below).map_err(failed)?.iter().filter(|r| r.opened_at >= since).count() >= MAX_PER_DAY {
        return Err((StatusCode::TOO_MANY_REQUESTS, "busy", format!("一天内最多下达 {MAX_PER_DAY} 项工作和通报，请明天再下达")));
    }
    if units.is_empty() {
        return Err(invalid("这个单位以下没有建立台账的单位"));
    }
    let round = OfficeRound {
        id: RecordId::random().to_string(),
        kind: kind.to_owned(),
        node: node.clone(),
        title: title.to_owned(),
        deadline: deadline.to_owned(),
        body: body.to_owned(),
        units,
        opened_by: person.to_owned(),
        opened_at: crate::board::now_ms(),
    };
    let label = kind_label(kind);
    let audit = format!("{label}“{}”下达 {} 个单位（{}）", round.title, round.units.len(), org.path_names(&node).join("/"));
    hub.storage.put_office_round(&round, &audit).map_err(failed)?;
    for unit in &round.units {
        if let Err(e) = deliver(hub, &org, &round, unit) {
            tracing::warn!(round = %round.id, unit, "round not delivered yet: {e}");
        }
    }
    Ok(Opened { id: round.id, units: round.units.len() })
}

/// `POST /api/office/rounds`.
pub(crate) async fn open_round(State(state): State<AppState>, headers: HeaderMap, Json(body): Json<NewRound>) -> Response {
    answer(&state, &headers, move |hub, p| {
        let kind = match body.kind.as_str() {
            k @ ("plan" | "cleanup" | "satisfaction") => k,
            _ => return Err(invalid("请选择工作类别：实施方案、制度清理或满意度测评")),
        };
        let title = title_of(&body.title)?;
        let deadline = NaiveDate::parse_from_str(body.deadline.trim(), "%Y-%m-%d").map_err(|_| invalid("请填写截止日期（年-月-日）"))?;
        if deadline < today() {
            return Err(invalid("截止日期不能早于今天"));
        }
        // A satisfaction round's questions, checked as a unit's own round's are.
        let questions = match kind {
            "satisfaction" => {
                let draft = ledger::SurveyDraft { title: title.clone(), questions: body.questions.clone() };
                draft.validate(today()).map_err(|e| invalid(e.messages().join("；")))?.questions.join("\n")
            }
            _ => String::new(),
        };
        open(hub, &p.person, kind, &body.node, &title, &deadline.to_string(), &questions)
    })
    .await
}

/// `POST /api/office/notices`.
pub(crate) async fn publish_notice(State(state): State<AppState>, headers: HeaderMap, Json(body): Json<NewNotice>) -> Response {
    answer(&state, &headers, move |hub, p| {
        ledger::unit_ledger::check_notice(&body.title, &body.body).map_err(invalid)?;
        open(hub, &p.person, "notice", &body.node, body.title.trim(), "", body.body.trim())
    })
    .await
}

/// Where one unit stands in `round`, from its ledger's facts; None when the round has not
/// reached the ledger yet.
fn standing(round: &OfficeRound, facts: &crate::read_model::LedgerFacts, today: NaiveDate) -> Option<(String, String, String, bool)> {
    let id = RecordId::parse(&round.id)?;
    match round.kind.as_str() {
        "plan" => {
            let Some(Facts::Plan(plan)) = facts.records.get(&(Section::Plans, id)) else { return None };
            let filing = plan.filing(today);
            let detail = match (plan.versions, plan.tasks.iter().filter(|t| t.overdue(today)).count()) {
                (0, _) => String::new(),
                (v, 0) => format!("第 {v} 稿"),
                (v, late) => format!("第 {v} 稿；{late} 项任务逾期"),
            };
            Some((filing.code().into(), filing.label().into(), detail, filing == Filing::Submitted))
        }
        "cleanup" => {
            let Some(Facts::Round(r)) = facts.records.get(&(Section::Rounds, id.clone())) else { return None };
            let rules: Vec<Rule> = facts.records.values().filter_map(|f| if let Facts::Rule(r) = f { Some((**r).clone()) } else { None }).filter(|r| !r.deleted).collect();
            let opened = r.opened_on.unwrap_or(today);
            let p = CleanupProgress::of(&rules, &id, opened, today);
            let late = r.deadline.is_some_and(|d| today > d);
            let (code, label) = match (p.done(), late) {
                // Nothing registered is not nothing to clean up: the unit has yet to list its rules.
                _ if p.rules == 0 => ("no_rules", "未登记制度"),
                (true, _) => ("done", "已完成"),
                (false, true) => ("overdue", "逾期未完成"),
                (false, false) => ("open", "进行中"),
            };
            let mut detail = format!("已清理 {} / {} 项（保留 {}，修订 {}，废止 {}）", p.decided, p.rules, p.kept, p.revised, p.repealed);
            if p.past_validity > 0 {
                detail.push_str(&format!("；{} 项已过有效期", p.past_validity));
            }
            Some((code.into(), label.into(), detail, late && (p.rules == 0 || !p.done())))
        }
        "satisfaction" => {
            let Some(Facts::Levels(l)) = facts.records.get(&(Section::Surveys, id)) else { return None };
            let closed = NaiveDate::parse_from_str(&round.deadline, "%Y-%m-%d").is_ok_and(|d| today > d);
            Some(match (l.responses, closed) {
                (0, false) => ("open".into(), "未开展".into(), String::new(), false),
                (0, true) => ("none".into(), "无答卷".into(), String::new(), true),
                (n, false) => ("open".into(), "进行中".into(), format!("{n} 份答卷"), false),
                (n, true) => ("closed".into(), "已结束".into(), format!("{n} 份答卷"), false),
            })
        }
        _ => {
            let Some(Facts::Notice(n)) = facts.records.get(&(Section::Notices, id)) else { return None };
            Some(match n.opened_at.and_then(ledger::report::day_of) {
                Some(day) => ("opened".into(), "已阅".into(), format!("{day} 已阅"), false),
                None => ("unopened".into(), "未阅".into(), String::new(), false),
            })
        }
    }
}

/// Every unit's standing in `round`, delivering the round to a unit it has not reached.
fn standings(hub: &Hub, org: &Org, round: &OfficeRound, today: NaiveDate) -> Result<Vec<Standing>, Refusal> {
    let mut out = Vec::new();
    for unit in &round.units {
        let Some(u) = org.units.get(unit) else { continue };
        let Some(doc) = ledger_of(org, unit) else { continue };
        let mut found = standing(round, &*hub.read_model.facts(&doc).map_err(failed)?, today);
        if found.is_none() {
            deliver(hub, org, round, unit).map_err(failed)?;
            found = standing(round, &*hub.read_model.facts(&doc).map_err(failed)?, today);
        }
        let (state, label, detail, attention) = found.unwrap_or_else(|| ("undelivered".into(), "未送达".into(), String::new(), true));
        out.push(Standing { unit: u.id.clone(), name: u.name.clone(), path: org.path_names(&u.id).join(" / "), state, label, detail, attention });
    }
    Ok(out)
}

fn kind_label(kind: &str) -> &'static str {
    match kind {
        "plan" => "实施方案",
        "cleanup" => "制度清理",
        "satisfaction" => "满意度测评",
        _ => "通报",
    }
}

fn row(hub: &Hub, org: &Org, round: &OfficeRound, units: &[Standing]) -> RoundRow {
    let mut counts: Vec<(String, usize)> = Vec::new();
    for s in units {
        match counts.iter_mut().find(|(l, _)| *l == s.label) {
            Some((_, n)) => *n += 1,
            None => counts.push((s.label.clone(), 1)),
        }
    }
    let opener = hub.storage.person(&round.opened_by).ok().flatten().map(|p| p.name).unwrap_or_default();
    RoundRow {
        id: round.id.clone(),
        kind: round.kind.clone(),
        kind_label: kind_label(&round.kind).into(),
        title: round.title.clone(),
        deadline: round.deadline.clone(),
        node_name: org.units.get(&round.node).map(|u| u.name.clone()).unwrap_or_default(),
        opened_at: round.opened_at,
        opened_by: opener,
        units: round.units.len(),
        counts,
    }
}

/// `GET /api/office`.
pub(crate) async fn view(State(state): State<AppState>, headers: HeaderMap) -> Response {
    answer(&state, &headers, |hub, p| {
        let org = hub.directory.org();
        let today = today();
        let nodes: Vec<UnitRef> = org.office_nodes(&p.person).into_iter().map(|u| UnitRef { unit: u.id.clone(), name: u.name.clone() }).collect();
        let ids: Vec<&str> = nodes.iter().map(|n| n.unit.as_str()).collect();
        let mut below: Vec<String> = Vec::new();
        for u in org.units.values() {
            if ids.iter().any(|n| org.is_at_or_below(&u.id, n)) {
                below.push(u.id.clone());
            }
        }
        let below: Vec<&str> = below.iter().map(String::as_str).collect();
        let mut rounds = Vec::new();
        for round in hub.storage.office_rounds(&below).map_err(failed)? {
            let units = standings(hub, &org, &round, today)?;
            rounds.push(row(hub, &org, &round, &units));
        }
        Ok(OfficeView { nodes, today: today.to_string(), rounds })
    })
    .await
}

/// `GET /api/office/rounds/{id}`.
pub(crate) async fn round_detail(State(state): State<AppState>, headers: HeaderMap, Path(id): Path<String>) -> Response {
    answer(&state, &headers, move |hub, p| {
        let org = hub.directory.org();
        let round = visible(&org, &p.person, hub.storage.office_round(&id).map_err(failed)?)?;
        let units = standings(hub, &org, &round, today())?;
        let comparison = if round.kind == "satisfaction" { compare(hub, &org, &round)? } else { Vec::new() };
        let body = if round.kind == "notice" || round.kind == "satisfaction" { round.body.clone() } else { String::new() };
        Ok(RoundDetail { round: row(hub, &org, &round, &units), body, units, comparison })
    })
    .await
}

/// Each question of a satisfaction round with every unit's answers, in the tree's order.
fn compare(hub: &Hub, org: &Org, round: &OfficeRound) -> Result<Vec<QuestionComparison>, Refusal> {
    let id = RecordId::parse(&round.id).ok_or_else(not_found)?;
    let mut out: Vec<QuestionComparison> = round.body.lines().map(|q| QuestionComparison { question: q.to_owned(), units: Vec::new() }).collect();
    for unit in &round.units {
        let (Some(u), Some(doc)) = (org.units.get(unit), ledger_of(org, unit)) else { continue };
        let facts = hub.read_model.facts(&doc).map_err(failed)?;
        let answers = match facts.records.get(&(Section::Surveys, id.clone())) {
            Some(Facts::Levels(l)) => l.questions.iter().map(|(_, c)| *c).collect(),
            _ => Vec::new(),
        };
        for (n, q) in out.iter_mut().enumerate() {
            let counts = answers.get(n).copied().unwrap_or_default();
            q.units.push(UnitAnswers { name: u.name.clone(), answered: counts.iter().sum(), counts, satisfied_per_mille: ledger::survey::levels_satisfied_per_mille(&counts) });
        }
    }
    Ok(out)
}

/// A unit's plan in a plan round the person's office opened: (round, the unit's ledger).
fn plan_of(hub: &Hub, p: &Principal, round: &str, unit: &str) -> Result<(OfficeRound, DocumentId, RecordId), Refusal> {
    let org = hub.directory.org();
    let round = visible(&org, &p.person, hub.storage.office_round(round).map_err(failed)?)?;
    if round.kind != "plan" || !round.units.iter().any(|u| u == unit) {
        return Err(not_found());
    }
    let doc = ledger_of(&org, unit).ok_or_else(not_found)?;
    let id = RecordId::parse(&round.id).ok_or_else(not_found)?;
    Ok((round, doc, id))
}

/// `GET /api/office/plans/{round}/{unit}`: the unit's plan with every version and opinion.
pub(crate) async fn plan(State(state): State<AppState>, headers: HeaderMap, Path((round, unit)): Path<(String, String)>) -> Response {
    answer(&state, &headers, move |hub, p| {
        let (_, doc, id) = plan_of(hub, p, &round, &unit)?;
        let layout = hub.storage.load(&doc).map_err(failed)?.ok_or_else(not_found)?;
        let ledger = ledger::UnitLedger::load(&layout.concatenated(), automerge::ActorId::random()).map_err(failed)?;
        let plan = ledger.plan(&id).map_err(|_| not_found())?;
        let org = hub.directory.org();
        let name = org.units.get(&unit).map(|u| u.name.clone()).unwrap_or_default();
        Ok(http_api::office::PlanView { unit: unit.clone(), name, path: org.path_names(&unit).join(" / "), plan })
    })
    .await
}

/// `POST /api/office/plans/{round}/{unit}/review`: 批准 or 退回 the version awaiting review.
pub(crate) async fn review(State(state): State<AppState>, headers: HeaderMap, Path((round, unit)): Path<(String, String)>, Json(body): Json<ReviewForm>) -> Response {
    answer(&state, &headers, move |hub, p| {
        let verdict = ReviewVerdict::from_code(&body.verdict).ok_or_else(|| invalid("请选择批准或退回修改"))?;
        let submission = RecordId::parse(&body.submission).ok_or_else(|| invalid("请刷新后再审"))?;
        let mut parts = Vec::new();
        for (part, text) in &body.parts {
            parts.push((PlanPart::from_code(part).ok_or_else(|| invalid(format!("没有“{part}”这一部分")))?, text.clone()));
        }
        let (round, doc, id) = plan_of(hub, p, &round, &unit)?;
        let org = hub.directory.org();
        let name = office_name(&org, &round.node);
        let now_ms = crate::board::now_ms();
        let opinion = body.opinion.clone();
        let written = hub.write_as(doc, Writer { write: Write::Office, name: &name, device: None }, move |l| l.review_plan(&id, &submission, verdict, &opinion, &parts, now_ms));
        match written {
            Ok(_) => {
                let unit_name = org.units.get(&unit).map(|u| u.name.clone()).unwrap_or_default();
                let detail = format!("{}“{}”：{}", verdict.label(), round.title, unit_name);
                hub.storage.audit(Some(&p.person), "office_review", &detail, now_secs()).map_err(failed)?;
                Ok(http_api::Done { ok: true })
            }
            Err(WriteError::Refused(m)) => Err(invalid(m)),
            Err(WriteError::Failed(m)) => Err((StatusCode::SERVICE_UNAVAILABLE, "failed", m)),
        }
    })
    .await
}
