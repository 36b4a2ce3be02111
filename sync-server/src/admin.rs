//! `/api/admin/…`: what an administrator does, each within the part of the tree they manage
//! (at or below the node where they hold the admin role), each written to the audit log.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use http_api::admin::{DeviceStatus, ForPerson, ImportRefused, IssuedCode, IssuedToken, NewGrant, NewPerson, NewUnit, OrgView, RowError, Settings};
use ledger::org::{Role, UnitKind};
use serde::Serialize;

use crate::auth::{principal, refusal};
use crate::directory::{Directory, ImportError, Principal};
use crate::AppState;

/// The admin's principal, or the refusal to answer with.
async fn admin(state: &AppState, headers: &HeaderMap) -> Result<Principal, Response> {
    let (p, _) = principal(state, headers, None).await?;
    let org = state.hub.directory.org();
    if p.retired || !org.grants.iter().any(|g| g.person == p.person && g.role == Role::Admin) {
        return Err(refusal(StatusCode::FORBIDDEN, "forbidden", "只有管理员可以这样做"));
    }
    Ok(p)
}

/// Runs directory work on the blocking pool; a refusal is a 400 with the message.
async fn run<T: Serialize + Send + 'static>(state: &AppState, f: impl FnOnce(&Directory) -> Result<T, String> + Send + 'static) -> Response {
    let directory = state.hub.directory.clone();
    match tokio::task::spawn_blocking(move || f(&directory)).await {
        Ok(Ok(body)) => Json(body).into_response(),
        Ok(Err(message)) => refusal(StatusCode::BAD_REQUEST, "invalid", &message),
        Err(e) => refusal(StatusCode::INTERNAL_SERVER_ERROR, "failed", &e.to_string()),
    }
}

/// Runs `f` as the admin making the request (a refusal if they are not one).
async fn as_admin<T: Serialize + Send + 'static>(state: &AppState, headers: &HeaderMap, f: impl FnOnce(&Directory, Principal) -> Result<T, String> + Send + 'static) -> Response {
    match admin(state, headers).await {
        Ok(admin) => run(state, move |d| f(d, admin)).await,
        Err(refused) => refused,
    }
}

/// `GET /api/admin/org`: the units, people and roles the admin manages.
pub(crate) async fn org(State(state): State<AppState>, headers: HeaderMap) -> Response {
    as_admin(&state, &headers, move |d, admin| {
        let org = d.org();
        let units = org.units.values().filter(|u| org.may_administer(&admin.person, &u.id)).cloned().collect();
        let people = d.storage.people()?.into_iter().filter(|p| org.may_manage_person(&admin.person, &p.id)).collect();
        let grants = org.grants.iter().filter(|g| org.may_administer(&admin.person, &g.unit)).cloned().collect();
        Ok(OrgView { units, people, grants })
    })
    .await
}

/// `POST /api/admin/units {name, kind, parent}`.
pub(crate) async fn add_unit(State(state): State<AppState>, headers: HeaderMap, Json(body): Json<NewUnit>) -> Response {
    as_admin(&state, &headers, move |d, admin| {
        let kind = UnitKind::from_code(&body.kind).ok_or("未知的单位类型")?;
        if !d.org().may_administer(&admin.person, &body.parent) {
            return Err("只能在自己管理的单位之下添加".into());
        }
        let unit = d.add_unit(&body.name, kind, Some(&body.parent), Some(&admin.person))?;
        Ok(unit)
    })
    .await
}

/// `POST /api/admin/people {name, login, password?, unit, role}`: a person with a first role.
pub(crate) async fn add_person(State(state): State<AppState>, headers: HeaderMap, Json(body): Json<NewPerson>) -> Response {
    as_admin(&state, &headers, move |d, admin| {
        let role = Role::from_code(&body.role).ok_or("未知的角色")?;
        if !d.org().may_administer(&admin.person, &body.unit) {
            return Err("只能在自己管理的单位中添加人员".into());
        }
        let password = body.password.filter(|p| !p.is_empty());
        let person = d.add_person(&body.name, &body.login, password.as_deref(), Some(&admin.person))?;
        d.grant(&person.id, &body.unit, role, Some(&admin.person))?;
        Ok(person)
    })
    .await
}

/// `POST /api/admin/grants {person, unit, role}`.
pub(crate) async fn grant(State(state): State<AppState>, headers: HeaderMap, Json(body): Json<NewGrant>) -> Response {
    as_admin(&state, &headers, move |d, admin| {
        let role = Role::from_code(&body.role).ok_or("未知的角色")?;
        let org = d.org();
        if !org.may_administer(&admin.person, &body.unit) || !org.may_manage_person(&admin.person, &body.person) {
            return Err("只能管理自己单位及以下的人员".into());
        }
        d.grant(&body.person, &body.unit, role, Some(&admin.person))?;
        Ok(http_api::Done { ok: true })
    })
    .await
}

/// `POST /api/admin/codes {person}`: a one-time activation code for the person's phone.
pub(crate) async fn issue_code(State(state): State<AppState>, headers: HeaderMap, Json(body): Json<ForPerson>) -> Response {
    as_admin(&state, &headers, move |d, admin| {
        if !d.org().may_manage_person(&admin.person, &body.person) {
            return Err("只能管理自己单位及以下的人员".into());
        }
        let code = d.issue_activation_code(&body.person, Some(&admin.person))?;
        Ok(IssuedCode { code, expires_in_days: crate::directory::ACTIVATION_CODE_TTL.as_secs() / 86_400 })
    })
    .await
}

/// `POST /api/admin/tokens {person, device}`: a token for a third-party automerge-repo peer.
pub(crate) async fn issue_token(State(state): State<AppState>, headers: HeaderMap, Json(body): Json<ForPerson>) -> Response {
    as_admin(&state, &headers, move |d, admin| {
        if !d.org().may_manage_person(&admin.person, &body.person) {
            return Err("只能管理自己单位及以下的人员".into());
        }
        let new = d.issue_token(&body.person, &body.device, Some(&admin.person))?;
        Ok(IssuedToken { device: new.device.id, token: new.token })
    })
    .await
}

/// `GET /api/admin/devices`: the devices of the people the admin manages, with last contact.
pub(crate) async fn devices(State(state): State<AppState>, headers: HeaderMap) -> Response {
    as_admin(&state, &headers, move |d, admin| {
        let org = d.org();
        let devices: Vec<_> = d.storage.devices()?.into_iter().filter(|dev| org.may_manage_person(&admin.person, &dev.person)).collect();
        Ok(devices)
    })
    .await
}

/// `POST /api/admin/devices/{id}/{retire|lose}`.
pub(crate) async fn device_status(State(state): State<AppState>, headers: HeaderMap, Path((id, action)): Path<(String, String)>) -> Response {
    let status = match action.as_str() {
        "retire" => "retired",
        "lose" => "lost",
        _ => return refusal(StatusCode::NOT_FOUND, "not_found", "没有这个操作"),
    };
    as_admin(&state, &headers, move |d, admin| {
        let device = d.storage.device(&id)?.ok_or("没有这台设备")?;
        if !d.org().may_manage_person(&admin.person, &device.person) {
            return Err("没有这台设备".into());
        }
        d.set_device_status(&id, status, Some(&admin.person))?;
        Ok(DeviceStatus { device: id, status: status.to_owned() })
    })
    .await
}

/// `GET /api/admin/audit`: the latest 500 entries the admin may see: their own and those of
/// the people they manage; entries of the server itself only for an admin of the whole tree.
pub(crate) async fn audit(State(state): State<AppState>, headers: HeaderMap) -> Response {
    as_admin(&state, &headers, |d, admin| {
        let org = d.org();
        let of_root = admin_of_root(&org, &admin.person);
        let visible = |by: &Option<String>| match by {
            Some(person) => *person == admin.person || org.may_manage_person(&admin.person, person),
            None => of_root,
        };
        let entries: Vec<_> = d.storage.audit_log(5_000)?.into_iter().filter(|e| visible(&e.person)).take(500).collect();
        Ok(entries)
    })
    .await
}

/// Whether `person` is an admin of the whole tree (its root): who may change the organisation's
/// settings, and see the server's own audit entries.
fn admin_of_root(org: &ledger::org::Org, person: &str) -> bool {
    org.grants.iter().any(|g| g.person == person && g.role == Role::Admin && org.units.get(&g.unit).is_some_and(|u| u.parent.is_none()))
}

fn settings_of(d: &Directory, admin: &Principal) -> Settings {
    let rules = crate::board::case_rules(&d.storage);
    Settings {
        case_acknowledge_days: rules.acknowledge_days,
        case_answer_days: rules.answer_days,
        holidays: Some(ledger::calendar::format_days(&rules.calendar.holidays)),
        workdays: Some(ledger::calendar::format_days(&rules.calendar.workdays)),
        may_change: admin_of_root(&d.org(), &admin.person),
    }
}

/// `GET /api/admin/settings`.
pub(crate) async fn settings(State(state): State<AppState>, headers: HeaderMap) -> Response {
    as_admin(&state, &headers, |d, admin| Ok(settings_of(d, &admin))).await
}

/// `POST /api/admin/settings {case_acknowledge_days, case_answer_days, holidays?, workdays?}`:
/// checked, stored and audited; the desk and the board count by them from the next request,
/// phones after their next `/api/me`.
pub(crate) async fn change_settings(State(state): State<AppState>, headers: HeaderMap, Json(body): Json<Settings>) -> Response {
    let board = state.board.clone();
    as_admin(&state, &headers, move |d, admin| {
        if !admin_of_root(&d.org(), &admin.person) {
            return Err("只有全市（组织顶层）的管理员可以修改设置".into());
        }
        let now = crate::board::case_rules(&d.storage).calendar;
        let calendar = ledger::calendar::WorkCalendar::parse(
            &body.holidays.unwrap_or_else(|| ledger::calendar::format_days(&now.holidays)),
            &body.workdays.unwrap_or_else(|| ledger::calendar::format_days(&now.workdays)),
        )?;
        let rules = ledger::rating::CaseRules { acknowledge_days: body.case_acknowledge_days, answer_days: body.case_answer_days, calendar }.check()?;
        crate::board::put_case_rules(&d.storage, &rules)?;
        // The public case pages show deadlines by these rules.
        board.forget_all();
        let detail = format!(
            "差评签收时限 {} 个工作日，答复时限 {} 个工作日；节假日 {} 天，调休上班 {} 天",
            rules.acknowledge_days,
            rules.answer_days,
            rules.calendar.holidays.len(),
            rules.calendar.workdays.len()
        );
        d.storage.audit(Some(&admin.person), "settings", &detail, crate::directory::now_secs())?;
        Ok(settings_of(d, &admin))
    })
    .await
}

/// `POST /api/admin/import` with a .xlsx or CSV file as the body: every row imported, or
/// none with each wrong row's line and reason (`rows`, `total`).
pub(crate) async fn import(State(state): State<AppState>, headers: HeaderMap, body: axum::body::Bytes) -> Response {
    let admin = match admin(&state, &headers).await {
        Ok(admin) => admin,
        Err(refused) => return refused,
    };
    let directory = state.hub.directory.clone();
    let outcome = tokio::task::spawn_blocking(move || {
        let rows = crate::import::read_table(&body).map_err(ImportError::Failed)?;
        directory.import(&admin.person, &rows)
    })
    .await;
    match outcome {
        Ok(Ok(counts)) => Json(counts).into_response(),
        Ok(Err(ImportError::Rows(refused))) => {
            let message = format!("有 {} 行有误，未导入任何内容", refused.total);
            let rows = refused.errors.into_iter().map(|e| RowError { line: e.line, message: e.message }).collect();
            (StatusCode::BAD_REQUEST, Json(ImportRefused { error: "invalid".into(), message, rows, total: refused.total })).into_response()
        }
        Ok(Err(ImportError::Failed(message))) => refusal(StatusCode::BAD_REQUEST, "invalid", &message),
        Err(e) => refusal(StatusCode::INTERNAL_SERVER_ERROR, "failed", &e.to_string()),
    }
}

/// `GET /api/admin/import/template.{xlsx|csv}`: the table to fill in, its examples placed
/// under the admin's own node.
pub(crate) async fn import_template(State(state): State<AppState>, headers: HeaderMap, Path(file): Path<String>) -> Response {
    let admin = match admin(&state, &headers).await {
        Ok(admin) => admin,
        Err(refused) => return refused,
    };
    let org = state.hub.directory.org();
    let root = org.grants.iter().find(|g| g.person == admin.person && g.role == Role::Admin).map(|g| org.path_names(&g.unit).join("/")).unwrap_or_default();
    let (bytes, mime) = match file.as_str() {
        "template.xlsx" => match crate::import::template_xlsx(&root) {
            Ok(bytes) => (bytes, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
            Err(e) => return refusal(StatusCode::INTERNAL_SERVER_ERROR, "failed", &e),
        },
        "template.csv" => (crate::import::template_csv(&root), "text/csv; charset=utf-8"),
        _ => return refusal(StatusCode::NOT_FOUND, "not_found", "没有这个模板"),
    };
    let disposition =
        format!("attachment; filename=\"org-template.{}\"; filename*=UTF-8''%E7%BB%84%E7%BB%87%E6%9E%B6%E6%9E%84%E5%AF%BC%E5%85%A5%E6%A8%A1%E6%9D%BF.{}", &file[9..], &file[9..]);
    ([(axum::http::header::CONTENT_TYPE, mime.to_owned()), (axum::http::header::CONTENT_DISPOSITION, disposition)], bytes).into_response()
}
