//! `/api/desk/…`: the supervisor's desk (督查) over HTTP. Figures and lists over every unit
//! ledger below the supervisor's node, counted from the read model (`answers`); one record with
//! its history, read from its document; a supervision remark (督办意见) or evaluation (评议)
//! written into a ledger; the .xlsx export (`export`). Everything is scoped by the person's
//! supervisor roles (`scope`): a unit outside them answers exactly as a unit that does not
//! exist. The answers are the types of `http_api::desk`, which the desk reads.

pub mod answers;
pub mod export;
pub mod scope;

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use http_api::desk::Remark;
use ledger::record::Section;
use ledger::report::ProblemSort;
use ledger::RecordId;
use ledger_sync::DocumentId;
use serde::Serialize;

pub use answers::MAX_LIST_ROWS;
pub use scope::{today, Ask, Scope};

use crate::auth::{principal, refusal};
use crate::directory::{now_secs, Principal};
use crate::hub::{Hub, WriteError};
use crate::AppState;
use scope::Refusal;

async fn supervisor(state: &AppState, headers: &HeaderMap) -> Result<Principal, Response> {
    let (p, _) = principal(state, headers, None).await?;
    if p.retired {
        return Err(refusal(StatusCode::FORBIDDEN, "retired", "这台设备已停用"));
    }
    Ok(p)
}

fn fresh<T: Serialize>(body: T) -> Response {
    ([(axum::http::header::CACHE_CONTROL, "no-store")], Json(body)).into_response()
}

/// Runs desk work for the supervisor on the blocking pool.
async fn answer<T: Serialize + Send + 'static>(
    state: &AppState,
    headers: &HeaderMap,
    ask: Ask,
    f: impl FnOnce(&Hub, &Scope, &str) -> Result<T, String> + Send + 'static,
) -> Response {
    let p = match supervisor(state, headers).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    let hub = state.hub.clone();
    let work = tokio::task::spawn_blocking(move || -> Result<Result<T, String>, Refusal> {
        let scope = Scope::of(hub.directory.org(), &p.person, &ask, today(), crate::board::case_rules(&hub.storage))?;
        Ok(f(&hub, &scope, &p.person))
    });
    match work.await {
        Ok(Ok(Ok(body))) => fresh(body),
        Ok(Ok(Err(e))) => refusal(StatusCode::INTERNAL_SERVER_ERROR, "failed", &e),
        Ok(Err((status, code, message))) => refusal(status, code, &message),
        Err(e) => refusal(StatusCode::INTERNAL_SERVER_ERROR, "failed", &e.to_string()),
    }
}

/// `GET /api/desk/cases?period=&node=`: 差评 and their cases.
pub async fn cases_route(State(state): State<AppState>, headers: HeaderMap, Query(ask): Query<Ask>) -> Response {
    answer(&state, &headers, ask, |hub, scope, _| answers::cases(hub, scope)).await
}

/// `GET /api/desk/overview?period=&node=&category=&status=&urgency=`
pub async fn overview_route(State(state): State<AppState>, headers: HeaderMap, Query(ask): Query<Ask>) -> Response {
    answer(&state, &headers, ask, answers::overview).await
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
    answer(&state, &headers, ask, move |hub, scope, _| answers::problems(hub, scope, overdue, sort)).await
}

/// `GET /api/desk/pledges?period=&node=`
pub async fn pledges_route(State(state): State<AppState>, headers: HeaderMap, Query(ask): Query<Ask>) -> Response {
    answer(&state, &headers, ask, |hub, scope, _| answers::pledges(hub, scope)).await
}

/// `GET /api/desk/posts?node=`
pub async fn posts_route(State(state): State<AppState>, headers: HeaderMap, Query(ask): Query<Ask>) -> Response {
    answer(&state, &headers, ask, |hub, scope, _| answers::posts(hub, scope)).await
}

/// `GET /api/desk/photos?node=&period=`: records with photos, for the printed 通报.
pub async fn photos_route(State(state): State<AppState>, headers: HeaderMap, Query(ask): Query<Ask>) -> Response {
    answer(&state, &headers, ask, |hub, scope, _| answers::photos(hub, scope)).await
}

/// `GET /api/desk/tasks?node=`: the approved plans' tasks, overdue first.
pub async fn tasks_route(State(state): State<AppState>, headers: HeaderMap, Query(ask): Query<Ask>) -> Response {
    answer(&state, &headers, ask, |hub, scope, _| answers::tasks(hub, scope)).await
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
    // The record view loads the whole ledger: at most a few at once.
    let Some(place) = crate::limits::RECORD_LOADS.take() else {
        return refusal(StatusCode::TOO_MANY_REQUESTS, "busy", "正在打开的记录较多，请稍后再试");
    };
    let hub = state.hub.clone();
    match tokio::task::spawn_blocking(move || {
        let _place = place;
        answers::record(&hub, &p.person, &doc, section, &id)
    })
    .await
    {
        Ok(Ok(Some(body))) => fresh(body),
        Ok(Ok(None)) => refusal(StatusCode::NOT_FOUND, "not_found", "没有这条记录"),
        Ok(Err(e)) => refusal(StatusCode::INTERNAL_SERVER_ERROR, "failed", &e),
        Err(e) => refusal(StatusCode::INTERNAL_SERVER_ERROR, "failed", &e.to_string()),
    }
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
    let step = match (section, body.step.as_deref()) {
        (Section::Ratings, Some(code)) => match ledger::rating::StepKind::from_code(code) {
            Some(kind @ (ledger::rating::StepKind::Uphold | ledger::rating::StepKind::Withdraw)) => Some(kind),
            _ => return refusal(StatusCode::BAD_REQUEST, "invalid", "请选择维持或撤销差评"),
        },
        (Section::Ratings, None) => return refusal(StatusCode::BAD_REQUEST, "invalid", "请选择维持或撤销差评"),
        _ => None,
    };
    let rating = match (section, body.rating.as_deref()) {
        (Section::Pledges, Some(code)) => match ledger::Satisfaction::from_code(code) {
            Some(r) => Some(r),
            None => return refusal(StatusCode::BAD_REQUEST, "invalid", "请选择评议结果"),
        },
        (Section::Pledges, None) => return refusal(StatusCode::BAD_REQUEST, "invalid", "请选择评议结果"),
        (Section::Problems | Section::Ratings, _) => None,
        _ => return refusal(StatusCode::NOT_FOUND, "not_found", "没有这条记录"),
    };
    let hub = state.hub.clone();
    let work = tokio::task::spawn_blocking(move || {
        if !hub.directory.unit_of(&doc).is_some_and(|unit| hub.directory.org().supervises(&p.person, &unit)) {
            return Err(WriteError::Refused("没有这条记录".into()));
        }
        let now_ms = now_secs() * 1_000;
        hub.write(doc, &p, |l| match (step, rating) {
            (Some(kind), _) => l.add_case_step(&id, kind, &body.text, None, now_ms),
            (None, None) => l.add_supervision_remark(&id, &body.text, now_ms),
            (None, Some(rating)) => l.add_evaluation(&id, ledger::pledge::Evaluator::Supervisor, rating, &body.text, now_ms),
        })
    });
    match work.await {
        Ok(Ok(())) => Json(http_api::Done { ok: true }).into_response(),
        Ok(Err(WriteError::Refused(m))) if m == "没有这条记录" || m.contains("找不到") => refusal(StatusCode::NOT_FOUND, "not_found", "没有这条记录"),
        Ok(Err(WriteError::Refused(m))) => refusal(StatusCode::BAD_REQUEST, "refused", &m),
        Ok(Err(WriteError::Failed(m))) => refusal(StatusCode::SERVICE_UNAVAILABLE, "failed", &m),
        Err(e) => refusal(StatusCode::INTERNAL_SERVER_ERROR, "failed", &e.to_string()),
    }
}

/// `GET /api/desk/export.xlsx?period=&node=&category=&status=&urgency=`: the export as a file,
/// written to a temporary file (unlinked at once) and streamed from it.
pub async fn export_route(State(state): State<AppState>, client: Option<axum::Extension<crate::Client>>, headers: HeaderMap, Query(ask): Query<Ask>) -> Response {
    // Photo links in the workbook point where this desk reached the server.
    let https = client.as_ref().is_some_and(|axum::Extension(c)| c.https);
    let host = headers.get(axum::http::header::HOST).and_then(|h| h.to_str().ok()).filter(|h| h.parse::<axum::http::uri::Authority>().is_ok()).unwrap_or("localhost").to_owned();
    let photo_base = format!("{}://{host}", if https { "https" } else { "http" });
    let p = match supervisor(&state, &headers).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    let Some(slot) = crate::limits::EXPORTS.take() else {
        return refusal(StatusCode::TOO_MANY_REQUESTS, "busy", "正在导出的文件较多，请稍后再试");
    };
    let hub = state.hub.clone();
    let work = tokio::task::spawn_blocking(move || -> Result<Result<(std::fs::File, String), String>, Refusal> {
        let _slot = slot;
        // And a place among the exports of every process sharing the database.
        let _shared = match hub.storage.shared_place(crate::limits::EXPORT_PLACES, crate::limits::MAX_CONCURRENT_EXPORTS) {
            Ok(Some(place)) => place,
            Ok(None) => return Err((StatusCode::TOO_MANY_REQUESTS, "busy", "正在导出的文件较多，请稍后再试".to_owned())),
            Err(e) => return Ok(Err(e)),
        };
        let scope = Scope::of(hub.directory.org(), &p.person, &ask, today(), crate::board::case_rules(&hub.storage))?;
        let path = std::env::temp_dir().join(format!("pioneer-export-{}.xlsx", crate::directory::random_id()));
        let written = std::fs::File::options().read(true).write(true).create_new(true).open(&path).map_err(|e| e.to_string()).and_then(|file| {
            export::write(&hub, &scope, &photo_base, &file)?;
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
