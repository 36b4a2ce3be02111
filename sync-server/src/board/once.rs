//! `/r/{code}`: a one-time rating code (一事一评) a cadre's phone showed at the end of a visit or
//! when a problem was closed. The code names the unit, the record and the device that made it,
//! signed with that device's key ([`ledger::rating::once`]); the server checks the signature,
//! that the device is not lost and its person works in the unit, and takes one rating per code.
//! The record itself may not have reached the server yet (the phone made it offline): the
//! rating names it, and the two meet once the phone syncs.

use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::http::StatusCode;
use axum::response::Response;
use axum::{Extension, Form};
use ledger::org::Write;
use ledger::rating::once::{CodeError, OnceCode};
use ledger::rating::{RatingForm, Target, ValidRating, Way};
use ledger::record::Section;
use ledger_sync::DocumentId;

use super::{admit, failed, give_back, html, now_ms, pages, stored_contact, unreadable, write, write_failed};
use crate::{AppState, Client};

/// A checked code: the unit's name and ledger, who made it, and what the form says is rated.
struct Checked {
    code: OnceCode,
    unit_name: String,
    doc: DocumentId,
    by: String,
    what: String,
    used: bool,
}

/// Why a code opens nothing: unknown device, forged, expired, a lost device, a person no longer
/// of the unit. Each is answered alike to the public (with the reason in the log).
async fn checked(state: &AppState, text: &str) -> Result<Checked, Response> {
    let (storage, directory, text) = (state.hub.storage.clone(), state.hub.directory.clone(), text.to_owned());
    let found = tokio::task::spawn_blocking(move || -> Result<Result<Checked, CodeError>, String> {
        let Ok(code) = OnceCode::read(&text) else { return Ok(Err(CodeError::Malformed)) };
        let Some(key) = storage.existing_device_key(&code.device)? else { return Ok(Err(CodeError::Forged)) };
        let code = match OnceCode::check(&text, &key, crate::directory::now_secs()) {
            Ok(code) => code,
            Err(e) => return Ok(Err(e)),
        };
        let Some(device) = storage.device(&code.device)? else { return Ok(Err(CodeError::Forged)) };
        let org = directory.org();
        let unit = org.units.get(&code.unit).filter(|_| device.status != "lost" && org.ledger_rights(&device.person, &code.unit).write >= Write::Cadre);
        let Some((unit, doc)) = unit.and_then(|u| Some((u, DocumentId::parse(u.ledger.as_deref()?).ok()?))) else { return Ok(Err(CodeError::Forged)) };
        let by = storage.person(&device.person)?.map(|p| p.name).unwrap_or_default();
        let section = if code.target == Target::Visit { Section::Visits } else { Section::Problems };
        let what = match (code.target, super::record_title(&storage, &doc, section, &code.id)) {
            (Target::Problem, Some(title)) => format!("问题办理：{title}"),
            (Target::Problem, None) => "本次问题办理".to_owned(),
            (_, Some(day)) => format!("{day} 的走访"),
            (_, None) => "本次走访".to_owned(),
        };
        let used = storage.rating_code_used(&text)?;
        Ok(Ok(Checked { unit_name: unit.name.clone(), doc, by, what, used, code }))
    })
    .await
    .map_err(|e| failed(e))?
    .map_err(failed)?;
    found.map_err(|e| {
        tracing::info!("board: a one-time code was refused: {e:?}");
        html(StatusCode::NOT_FOUND, pages::message(super::BOARD_NAME, e.message(), "请向为您服务的干部重新索取评价码。"))
    })
}

fn used(unit: &str) -> Response {
    html(StatusCode::CONFLICT, pages::message(unit, "已经评价过了", "每个评价码只能评价一次，感谢您的监督。"))
}

pub(super) async fn once_page(State(state): State<AppState>, Path(code): Path<String>) -> Response {
    let c = match checked(&state, &code).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    if c.used {
        return used(&c.unit_name);
    }
    html(StatusCode::OK, pages::rate_form(&c.unit_name, &c.what, &format!("/r/{code}"), &pages::Filled::default()))
}

pub(super) async fn once_rate(
    State(state): State<AppState>,
    Path(text): Path<String>,
    headers: HeaderMap,
    client: Option<Extension<Client>>,
    form: Result<Form<RatingForm>, axum::extract::rejection::FormRejection>,
) -> Response {
    let c = match checked(&state, &text).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    if c.used {
        return used(&c.unit_name);
    }
    let form = match form {
        Ok(Form(form)) => form,
        Err(e) => return unreadable(&c.unit_name, &e),
    };
    let (verdict, comment, phone) = match form.validate() {
        Ok(v) => v,
        Err(e) => {
            let filled = pages::Filled { errors: e.messages(), verdict: &form.verdict, comment: &form.comment, phone: &form.phone };
            return html(StatusCode::BAD_REQUEST, pages::rate_form(&c.unit_name, &c.what, &format!("/r/{text}"), &filled));
        }
    };
    let counted = match admit(&state.board, &client, &headers, None).await {
        Ok(counted) => counted,
        Err(t) => return t.response(&c.unit_name),
    };
    // Taken before the rating is written, so two submissions at once store one; given back if
    // the rating could not be stored.
    let (storage, key, ledger) = (state.hub.storage.clone(), text.clone(), c.doc.to_string());
    let at = now_ms();
    match tokio::task::spawn_blocking(move || storage.use_rating_code(&key, &ledger, at / 1000)).await {
        Ok(Ok(true)) => {}
        Ok(Ok(false)) => {
            give_back(&state.board, counted);
            return used(&c.unit_name);
        }
        Ok(Err(e)) => {
            give_back(&state.board, counted);
            return failed(e);
        }
        Err(e) => {
            give_back(&state.board, counted);
            return failed(e);
        }
    }
    let rating = ValidRating { target: c.code.target, target_id: c.code.id.clone(), verdict, comment, way: Way::Once, code_by: c.by.clone() };
    match write(&state, c.doc, move |l| l.add_rating(&rating, at)).await {
        Ok(rating_id) => {
            let storage = state.hub.storage.clone();
            let (key, id) = (text.clone(), rating_id.to_string());
            let _ = tokio::task::spawn_blocking(move || storage.code_rated(&key, &id)).await;
            stored_contact(&state, &c.doc, &rating_id, &phone, at).await;
            crate::metrics::board_stored("once");
            let unit = &c.code.unit;
            let link = verdict.is_bad().then(|| format!("/b/{unit}/case/{rating_id}?k={}", state.board.case_key(&c.doc, &rating_id)));
            html(StatusCode::OK, pages::rated(&c.unit_name, &format!("/b/{unit}"), link.as_deref()))
        }
        Err(e) => {
            give_back(&state.board, counted);
            let storage = state.hub.storage.clone();
            let _ = tokio::task::spawn_blocking(move || storage.unuse_rating_code(&text)).await;
            write_failed(&c.unit_name, e)
        }
    }
}
