//! `GET /api/board/contacts/{ledger}/{rating}`: the follow-up phone number a resident left with
//! a rating, for the unit's secretary alone (书记回访). It is kept beside the ledger on the
//! server, never in the ledger every cadre's phone holds; each look is in the audit log.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use ledger::org::Write;
use ledger_sync::DocumentId;

use crate::auth::{principal, refusal};
use crate::AppState;

/// The answer: the number, or None when the resident left none.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
pub(crate) struct Contact {
    pub phone: Option<String>,
}

pub(crate) async fn contact_route(State(state): State<AppState>, headers: HeaderMap, Path((ledger, rating)): Path<(String, String)>) -> Response {
    let (p, device) = match principal(&state, &headers, None).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    let (Ok(doc), Some(rating)) = (DocumentId::parse(&ledger), ledger::RecordId::parse(&rating)) else {
        return refusal(StatusCode::NOT_FOUND, "not_found", "没有这条评价");
    };
    let directory = state.hub.directory.clone();
    let work = tokio::task::spawn_blocking(move || -> Result<Option<Option<String>>, String> {
        // Only the unit's secretary; anyone else is answered as for a rating that is not there.
        if p.retired || directory.rights(&p.person, &doc).write != Write::Everything {
            return Ok(None);
        }
        let phone = directory.storage.contact(&doc.to_string(), rating.as_str())?;
        let detail = format!("{doc}/{rating}（设备 {}）", device.id);
        directory.storage.audit(Some(&p.person), "board.contact", &detail, crate::directory::now_secs())?;
        Ok(Some(phone))
    });
    match work.await {
        Ok(Ok(Some(phone))) => ([(axum::http::header::CACHE_CONTROL, "no-store")], Json(Contact { phone })).into_response(),
        Ok(Ok(None)) => refusal(StatusCode::NOT_FOUND, "not_found", "没有这条评价"),
        Ok(Err(e)) => refusal(StatusCode::SERVICE_UNAVAILABLE, "failed", &e),
        Err(e) => refusal(StatusCode::INTERNAL_SERVER_ERROR, "failed", &e.to_string()),
    }
}
