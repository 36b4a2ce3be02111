//! `/api/desk/…`: the supervisor's desk (督查). Figures and lists over every unit ledger below
//! the supervisor's node, counted from the read model; one record with its history, read from
//! its document; a supervision remark (督办意见) or evaluation (评议) written into a ledger.
//! Everything is scoped by the person's supervisor roles: a unit outside them answers exactly
//! as a unit that does not exist.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::NaiveDate;
use ledger::org::{Org, Unit};
use ledger::problem::{Category, Status, Urgency};
use ledger::record::Section;
use ledger::report::{self, Facts, Figures, Filter, Period, ProblemSort, Series};
use ledger::{RecordId, UnitLedger};
use ledger_sync::DocumentId;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::auth::{principal, refusal};
use crate::directory::{now_secs, Principal};
use crate::hub::{Hub, WriteError};
use crate::AppState;

/// Lists stop at this many rows (the count says how many there were): a page a person reads.
pub const MAX_LIST_ROWS: usize = 2_000;

/// What the desk asks for, as its URL keeps it.
#[derive(Debug, Default, Deserialize)]
pub struct Ask {
    pub period: Option<String>,
    pub node: Option<String>,
    pub category: Option<String>,
    pub status: Option<String>,
    pub urgency: Option<String>,
    pub sort: Option<String>,
    pub overdue: Option<String>,
}

/// The part of the organisation a request covers, and how it is filtered.
pub struct Scope {
    pub org: Arc<Org>,
    pub node: String,
    pub filter: Filter,
    pub today: NaiveDate,
}

type Refusal = (StatusCode, &'static str, String);

fn not_found() -> Refusal {
    (StatusCode::NOT_FOUND, "not_found", "没有这个单位，或不在您督查的范围内".into())
}

fn coded<T>(value: &Option<String>, from_code: impl Fn(&str) -> Option<T>, what: &str) -> Result<Option<T>, Refusal> {
    match value.as_deref().map(str::trim).filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(v) => from_code(v).map(Some).ok_or_else(|| (StatusCode::BAD_REQUEST, "invalid", format!("无法识别的{what}“{v}”"))),
    }
}

/// Today in China.
pub fn today() -> NaiveDate {
    report::day_of(now_secs() * 1_000).unwrap_or_default()
}

impl Scope {
    /// The scope of `ask` for `person`: their first node unless one of theirs (or below) is
    /// named; the period this month unless named.
    pub fn of(org: Arc<Org>, person: &str, ask: &Ask, today: NaiveDate) -> Result<Self, Refusal> {
        let nodes = org.supervised_nodes(person);
        let Some(first) = nodes.first() else {
            return Err((StatusCode::FORBIDDEN, "forbidden", "只有督查可以查看督查台".into()));
        };
        let node = match ask.node.as_deref().filter(|n| !n.is_empty()) {
            None => first.id.clone(),
            Some(n) if org.units.contains_key(n) && org.supervises(person, n) => n.to_owned(),
            Some(_) => return Err(not_found()),
        };
        let period = match ask.period.as_deref().filter(|p| !p.is_empty()) {
            None => Period::month_of(today),
            Some(p) => Period::parse(p).map_err(|e| (StatusCode::BAD_REQUEST, "invalid", e))?,
        };
        let filter = Filter {
            period,
            category: coded(&ask.category, Category::from_code, "问题类别")?,
            status: coded(&ask.status, Status::from_code, "办理状态")?,
            urgency: coded(&ask.urgency, Urgency::from_code, "紧急程度")?,
        };
        drop(nodes);
        Ok(Self { org, node, filter, today })
    }

    /// The units at or below the node in tree order, with their depth below it.
    pub fn units(&self) -> Vec<(usize, &Unit)> {
        let base = self.org.path(&self.node).len();
        self.org.tree_order().into_iter().filter(|(_, u)| self.org.is_at_or_below(&u.id, &self.node)).map(|(_, u)| (self.org.path(&u.id).len() - base, u)).collect()
    }

    /// The ledgers below the node: (unit, ledger).
    pub fn ledgers(&self) -> Vec<(&Unit, DocumentId)> {
        self.units().into_iter().filter_map(|(_, u)| Some((u, DocumentId::parse(u.ledger.as_deref()?).ok()?))).collect()
    }

    fn period_json(&self) -> Value {
        let p = self.filter.period;
        json!({ "key": p.key(), "label": p.label(), "from": p.from(), "to": p.to() })
    }

    fn path_json(&self, unit: &str) -> Value {
        json!(self.org.path_names(unit).join(" / "))
    }
}

fn figures_json(f: &Figures) -> Value {
    json!({
        "figures": f,
        "visits": f.visits(),
        "in_time": f.in_time_per_mille(),
        "satisfaction": f.satisfaction_per_mille(),
        "survey": f.survey_per_mille(),
    })
}

/// The overview: one row per unit at or below the node with its figures (a node's are the sum
/// below it), freshness, and the chart series.
pub fn overview(hub: &Hub, scope: &Scope, person: &str) -> Result<Value, String> {
    let mut own: BTreeMap<String, Figures> = BTreeMap::new();
    let mut changed_at: BTreeMap<String, Option<i64>> = BTreeMap::new();
    let mut series = Series::new(&scope.filter);
    for (unit, ledger) in scope.ledgers() {
        let facts = hub.read_model.facts(&ledger)?;
        own.insert(unit.id.clone(), report::unit_figures(facts.facts(), &scope.filter, scope.today));
        series.count(facts.facts(), &scope.filter);
        changed_at.insert(unit.id.clone(), facts.changed_at);
    }
    let totals = report::roll_up(&scope.org, &scope.node, &own);
    let last_sync = hub.storage.unit_last_sync()?;
    let now = now_secs();
    let units_below = report::count_below(&scope.org, &scope.node, changed_at.keys().map(String::as_str));
    let stale = changed_at.keys().map(String::as_str).filter(|u| report::is_stale(last_sync.get(*u).copied(), now));
    let stale_below = report::count_below(&scope.org, &scope.node, stale);
    let rows: Vec<Value> = scope
        .units()
        .into_iter()
        .map(|(depth, u)| {
            let f = totals.get(&u.id).cloned().unwrap_or_default();
            let mut row = figures_json(&f);
            let keeps = u.ledger.is_some();
            row["unit"] = json!(u.id);
            row["name"] = json!(u.name);
            row["kind"] = json!(u.kind.label());
            row["depth"] = json!(depth);
            row["ledger"] = json!(keeps);
            row["changed_at"] = json!(changed_at.get(&u.id).copied().flatten());
            row["last_sync"] = json!(last_sync.get(&u.id));
            row["stale"] = json!(keeps && report::is_stale(last_sync.get(&u.id).copied(), now));
            row["stale_below"] = json!(stale_below.get(&u.id).copied().unwrap_or(0));
            row["units"] = json!(units_below.get(&u.id).copied().unwrap_or(0));
            row
        })
        .collect();
    let nodes: Vec<Value> = scope.org.supervised_nodes(person).iter().map(|u| json!({ "unit": u.id, "name": u.name })).collect();
    let path: Vec<Value> = scope
        .org
        .path(&scope.node)
        .into_iter()
        .rev()
        .filter(|u| scope.org.supervises(person, &u.id))
        .map(|u| json!({ "unit": u.id, "name": u.name }))
        .collect();
    Ok(json!({
        "node": scope.node,
        "period": scope.period_json(),
        "today": scope.today,
        "generated_at": now,
        "stale_after_days": report::STALE_AFTER_DAYS,
        "nodes": nodes,
        "path": path,
        "rows": rows,
        "series": series,
        "categories": Category::ALL.iter().map(|c| c.label()).collect::<Vec<_>>(),
        "visit_kinds": ledger::VisitKind::ALL.iter().map(|k| k.label()).collect::<Vec<_>>(),
    }))
}

/// Problems below the node: overdue ones (whenever raised) or those raised in the period.
pub fn problems(hub: &Hub, scope: &Scope, overdue_only: bool, sort: ProblemSort) -> Result<Value, String> {
    let ledgers = scope.ledgers();
    let mut all = Vec::new();
    for (unit, ledger) in &ledgers {
        let facts = hub.read_model.facts(ledger)?;
        let problems = facts.records.iter().filter_map(|((_, id), f)| match f {
            Facts::Problem(p) => Some((unit.id.as_str(), id, p)),
            _ => None,
        });
        all.extend(report::problem_lines(problems, &scope.filter, overdue_only, scope.today));
    }
    let order: BTreeMap<&str, usize> = scope.units().into_iter().enumerate().map(|(i, (_, u))| (u.id.as_str(), i)).collect();
    report::sort_problem_lines(&mut all, sort, |u| order.get(u).copied().unwrap_or(usize::MAX));
    let total = all.len();
    let ledger_of: BTreeMap<&str, String> = ledgers.iter().map(|(u, l)| (u.id.as_str(), l.to_string())).collect();
    let rows: Vec<Value> = all
        .into_iter()
        .take(MAX_LIST_ROWS)
        .map(|l| {
            let f = &l.facts;
            json!({
                "unit": l.unit, "unit_path": scope.path_json(&l.unit), "ledger": ledger_of.get(l.unit.as_str()),
                "id": l.id, "title": f.title, "category": f.category.label(), "urgency": f.urgency.label(),
                "urgency_code": f.urgency.code(), "status": f.status.label(), "responsible": f.responsible,
                "raised_on": f.raised_on, "deadline": f.deadline, "resolved_on": f.resolved_on,
                "days_overdue": l.days_overdue, "remarks": f.remarks,
                "satisfaction": f.satisfaction.map(|s| s.label()),
            })
        })
        .collect();
    Ok(json!({ "period": scope.period_json(), "today": scope.today, "total": total, "rows": rows }))
}

/// Pledges made in the period below the node, with progress and evaluations.
pub fn pledges(hub: &Hub, scope: &Scope) -> Result<Value, String> {
    let mut rows = Vec::new();
    let mut total = 0;
    for (unit, ledger) in scope.ledgers() {
        let facts = hub.read_model.facts(&ledger)?;
        let mut here: Vec<(&RecordId, &report::facts::PledgeFacts)> = facts
            .records
            .iter()
            .filter_map(|((_, id), f)| match f {
                Facts::Pledge(p) if !p.deleted && p.made_on.is_some_and(|d| scope.filter.period.contains(d)) => Some((id, p)),
                _ => None,
            })
            .collect();
        here.sort_by(|a, b| (a.1.due, a.0).cmp(&(b.1.due, b.0)));
        total += here.len();
        for (id, p) in here {
            if rows.len() >= MAX_LIST_ROWS {
                break;
            }
            rows.push(json!({
                "unit": unit.id, "unit_path": scope.path_json(&unit.id), "ledger": ledger.to_string(), "id": id,
                "content": p.content, "by": p.by, "public": p.public, "fulfilled": p.fulfilled, "due": p.due,
                "overdue": p.is_overdue(scope.today), "progress": p.progress,
                "evaluations": p.evaluations, "evaluations_good": p.evaluations_good,
            }));
        }
    }
    Ok(json!({ "period": scope.period_json(), "today": scope.today, "total": total, "rows": rows }))
}

/// One record as its document holds it now, with who changed what when. None when the person
/// does not supervise the unit, or it has no such record (answered alike).
pub fn record(hub: &Hub, person: &str, doc: &DocumentId, section: Section, id: &RecordId) -> Result<Option<Value>, String> {
    let Some(unit) = hub.directory.unit_of(doc) else { return Ok(None) };
    if !hub.directory.org().supervises(person, &unit) {
        return Ok(None);
    }
    let Some(layout) = hub.storage.load(doc)? else { return Ok(None) };
    let mut ledger = UnitLedger::load(&layout.concatenated(), automerge::ActorId::random()).map_err(|e| e.to_string())?;
    let Some(record) = report::facts::read_record(&ledger, section, id) else { return Ok(None) };
    let history: Vec<Value> = ledger.history(id).into_iter().map(|h| json!({ "at": h.at_seconds, "by": h.by, "summary": h.summary })).collect();
    let org = hub.directory.org();
    let write = hub.directory.rights(person, doc).write;
    Ok(Some(json!({
        "section": section.key(), "unit": unit, "unit_path": org.path_names(&unit).join(" / "),
        "record": record, "history": history,
        "may_remark": write >= ledger::org::Write::SupervisionOnly,
    })))
}

async fn supervisor(state: &AppState, headers: &HeaderMap) -> Result<Principal, Response> {
    let (p, _) = principal(state, headers, None).await?;
    if p.retired {
        return Err(refusal(StatusCode::FORBIDDEN, "retired", "这台设备已停用"));
    }
    Ok(p)
}

/// Runs desk work for the supervisor on the blocking pool.
async fn answer(state: &AppState, headers: &HeaderMap, ask: Ask, f: impl FnOnce(&Hub, &Scope, &str, &Ask) -> Result<Value, String> + Send + 'static) -> Response {
    let p = match supervisor(state, headers).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    let hub = state.hub.clone();
    let work = tokio::task::spawn_blocking(move || -> Result<Result<Value, String>, Refusal> {
        let scope = Scope::of(hub.directory.org(), &p.person, &ask, today())?;
        Ok(f(&hub, &scope, &p.person, &ask))
    });
    match work.await {
        Ok(Ok(Ok(body))) => ([(axum::http::header::CACHE_CONTROL, "no-store")], Json(body)).into_response(),
        Ok(Ok(Err(e))) => refusal(StatusCode::INTERNAL_SERVER_ERROR, "failed", &e),
        Ok(Err((status, code, message))) => refusal(status, code, &message),
        Err(e) => refusal(StatusCode::INTERNAL_SERVER_ERROR, "failed", &e.to_string()),
    }
}

/// `GET /api/desk/overview?period=&node=&category=&status=&urgency=`
pub async fn overview_route(State(state): State<AppState>, headers: HeaderMap, Query(ask): Query<Ask>) -> Response {
    answer(&state, &headers, ask, |hub, scope, person, _| overview(hub, scope, person)).await
}

/// `GET /api/desk/problems?…&overdue=1&sort=days|urgency|unit`
pub async fn problems_route(State(state): State<AppState>, headers: HeaderMap, Query(ask): Query<Ask>) -> Response {
    let sort = match ask.sort.as_deref().filter(|s| !s.is_empty()) {
        None => ProblemSort::default(),
        Some(s) => match ProblemSort::parse(s) {
            Some(s) => s,
            None => return refusal(StatusCode::BAD_REQUEST, "invalid", &format!("无法识别的排序“{s}”")),
        },
    };
    let overdue = ask.overdue.as_deref().is_some_and(|o| o == "1" || o == "true");
    answer(&state, &headers, ask, move |hub, scope, _, _| problems(hub, scope, overdue, sort)).await
}

/// `GET /api/desk/pledges?period=&node=`
pub async fn pledges_route(State(state): State<AppState>, headers: HeaderMap, Query(ask): Query<Ask>) -> Response {
    answer(&state, &headers, ask, |hub, scope, _, _| pledges(hub, scope)).await
}

fn parse_target(ledger: &str, section: &str, id: &str) -> Option<(DocumentId, Section, RecordId)> {
    Some((DocumentId::parse(ledger).ok()?, Section::from_key(section)?, RecordId::parse(id)?))
}

/// `GET /api/desk/records/{ledger}/{section}/{id}`: the record and its history.
pub async fn record_route(State(state): State<AppState>, headers: HeaderMap, Path((ledger, section, id)): Path<(String, String, String)>) -> Response {
    let p = match supervisor(&state, &headers).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    let Some((doc, section, id)) = parse_target(&ledger, &section, &id) else { return refusal(StatusCode::NOT_FOUND, "not_found", "没有这条记录") };
    let hub = state.hub.clone();
    match tokio::task::spawn_blocking(move || record(&hub, &p.person, &doc, section, &id)).await {
        Ok(Ok(Some(body))) => ([(axum::http::header::CACHE_CONTROL, "no-store")], Json(body)).into_response(),
        Ok(Ok(None)) => refusal(StatusCode::NOT_FOUND, "not_found", "没有这条记录"),
        Ok(Err(e)) => refusal(StatusCode::INTERNAL_SERVER_ERROR, "failed", &e),
        Err(e) => refusal(StatusCode::INTERNAL_SERVER_ERROR, "failed", &e.to_string()),
    }
}

#[derive(Deserialize)]
pub struct Remark {
    text: String,
    /// For a pledge's evaluation: 满意 / 基本满意 / 不满意 as a code.
    rating: Option<String>,
}

/// `POST /api/desk/records/{ledger}/{problems|pledges}/{id}/remarks`: a supervision remark on
/// a problem (督办意见) or a supervisor's evaluation of a pledge (评议), written into the ledger
/// by the supervisor, so the unit's phones receive it with their next sync.
pub async fn remark_route(State(state): State<AppState>, headers: HeaderMap, Path((ledger, section, id)): Path<(String, String, String)>, Json(body): Json<Remark>) -> Response {
    let p = match supervisor(&state, &headers).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    let Some((doc, section, id)) = parse_target(&ledger, &section, &id) else { return refusal(StatusCode::NOT_FOUND, "not_found", "没有这条记录") };
    let rating = match (section, body.rating.as_deref()) {
        (Section::Pledges, Some(code)) => match ledger::Satisfaction::from_code(code) {
            Some(r) => Some(r),
            None => return refusal(StatusCode::BAD_REQUEST, "invalid", "请选择评议结果"),
        },
        (Section::Pledges, None) => return refusal(StatusCode::BAD_REQUEST, "invalid", "请选择评议结果"),
        (Section::Problems, _) => None,
        _ => return refusal(StatusCode::NOT_FOUND, "not_found", "没有这条记录"),
    };
    let hub = state.hub.clone();
    let work = tokio::task::spawn_blocking(move || {
        if !hub.directory.unit_of(&doc).is_some_and(|unit| hub.directory.org().supervises(&p.person, &unit)) {
            return Err(WriteError::Refused("没有这条记录".into()));
        }
        let name = hub.storage.person(&p.person).map_err(WriteError::Failed)?.map(|x| x.name).unwrap_or_default();
        let now_ms = now_secs() * 1_000;
        hub.write(doc, &p, &name, |l| match rating {
            None => l.add_supervision_remark(&id, &body.text, now_ms),
            Some(rating) => l.add_evaluation(&id, ledger::pledge::Evaluator::Supervisor, rating, &body.text, now_ms),
        })
    });
    match work.await {
        Ok(Ok(())) => Json(json!({ "ok": true })).into_response(),
        Ok(Err(WriteError::Refused(m))) if m == "没有这条记录" || m.contains("找不到") => refusal(StatusCode::NOT_FOUND, "not_found", "没有这条记录"),
        Ok(Err(WriteError::Refused(m))) => refusal(StatusCode::BAD_REQUEST, "refused", &m),
        Ok(Err(WriteError::Failed(m))) => refusal(StatusCode::SERVICE_UNAVAILABLE, "failed", &m),
        Err(e) => refusal(StatusCode::INTERNAL_SERVER_ERROR, "failed", &e.to_string()),
    }
}

static EXPORTS_RUNNING: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// One of the [`crate::limits::MAX_CONCURRENT_EXPORTS`] places for an export being written.
struct ExportSlot;

impl ExportSlot {
    fn take() -> Option<Self> {
        use std::sync::atomic::Ordering::SeqCst;
        if EXPORTS_RUNNING.fetch_add(1, SeqCst) >= crate::limits::MAX_CONCURRENT_EXPORTS {
            EXPORTS_RUNNING.fetch_sub(1, SeqCst);
            return None;
        }
        Some(ExportSlot)
    }
}

impl Drop for ExportSlot {
    fn drop(&mut self) {
        EXPORTS_RUNNING.fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
    }
}

/// `GET /api/desk/export.xlsx?period=&node=&category=&status=&urgency=`: the export as a file,
/// written to a temporary file (unlinked at once) and streamed from it.
pub async fn export_route(State(state): State<AppState>, headers: HeaderMap, Query(ask): Query<Ask>) -> Response {
    let p = match supervisor(&state, &headers).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    let Some(slot) = ExportSlot::take() else {
        return refusal(StatusCode::TOO_MANY_REQUESTS, "busy", "正在导出的文件较多，请稍后再试");
    };
    let hub = state.hub.clone();
    let work = tokio::task::spawn_blocking(move || -> Result<Result<(std::fs::File, String), String>, Refusal> {
        let _slot = slot;
        let scope = Scope::of(hub.directory.org(), &p.person, &ask, today())?;
        let path = std::env::temp_dir().join(format!("pioneer-export-{}.xlsx", crate::directory::random_id()));
        let written = std::fs::File::options().read(true).write(true).create_new(true).open(&path).map_err(|e| e.to_string()).and_then(|file| {
            crate::export::write(&hub, &scope, &file)?;
            Ok(file)
        });
        // Unlinked at once: the open file stays readable, nothing is left behind.
        let _ = std::fs::remove_file(&path);
        Ok(written.map(|file| (file, format!("督查导出-{}.xlsx", scope.filter.period.key()))))
    });
    match work.await {
        Ok(Ok(Ok((mut file, name)))) => {
            use std::io::Seek;
            if let Err(e) = file.rewind() {
                return refusal(StatusCode::INTERNAL_SERVER_ERROR, "failed", &e.to_string());
            }
            let encoded: String = name.bytes().map(|b| if b.is_ascii_alphanumeric() || b"-._".contains(&b) { (b as char).to_string() } else { format!("%{b:02X}") }).collect();
            let body = axum::body::Body::from_stream(tokio_util::io::ReaderStream::new(tokio::fs::File::from_std(file)));
            (
                [
                    (axum::http::header::CONTENT_TYPE, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet".to_owned()),
                    (axum::http::header::CONTENT_DISPOSITION, format!("attachment; filename=\"export.xlsx\"; filename*=UTF-8''{encoded}")),
                    (axum::http::header::CACHE_CONTROL, "no-store".to_owned()),
                ],
                body,
            )
                .into_response()
        }
        Ok(Ok(Err(e))) => refusal(StatusCode::INTERNAL_SERVER_ERROR, "failed", &e),
        Ok(Err((status, code, message))) => refusal(status, code, &message),
        Err(e) => refusal(StatusCode::INTERNAL_SERVER_ERROR, "failed", &e.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exports_at_once_are_bounded() {
        let first = ExportSlot::take().expect("a place");
        let second = ExportSlot::take().expect("a second place");
        assert!(ExportSlot::take().is_none(), "a third export waits");
        drop(first);
        let third = ExportSlot::take().expect("a place again once one ended");
        drop((second, third));
    }
}
