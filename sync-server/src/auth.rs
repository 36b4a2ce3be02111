//! Who is asking: the device token from the `pl_device` cookie (our app: HttpOnly, so page
//! scripts never see it, and never in a URL) or from the `token` query parameter (third-party
//! automerge-repo peers, whose WebSocket client cannot set headers; never logged), and the JSON
//! endpoints that make one: activation with a one-time code, desktop login, the first
//! administrator's setup; `/api/me`, which tells a device who it is and what it may use.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use http_api::me::{DeviceRef, LedgerAccess, Login, Me, Member, PersonRef, RoleHeld, SignedIn};
use serde::Deserialize;

use crate::directory::{AuthError, NewDevice, Principal, Refused};
use crate::storage::Device;
use crate::AppState;

pub(crate) const COOKIE: &str = "pl_device";

/// The token a request carries: the cookie, an `Authorization: Bearer` header (tools and
/// peers that can set headers), then the `token` query parameter.
pub(crate) fn token(headers: &HeaderMap, query: Option<&str>) -> Option<String> {
    let bearer = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).and_then(|v| v.strip_prefix("Bearer ")).map(|t| t.trim().to_owned());
    cookie_token(headers).or(bearer).or_else(|| {
        query?.split('&').find_map(|pair| {
            let (name, value) = pair.split_once('=')?;
            (name == "token" && !value.is_empty()).then(|| value.to_owned())
        })
    })
}

/// The device token in the `pl_device` cookie, if the request carries one.
pub(crate) fn cookie_token(headers: &HeaderMap) -> Option<String> {
    headers.get_all(header::COOKIE).iter().filter_map(|v| v.to_str().ok()).flat_map(|v| v.split(';')).find_map(|pair| {
        let (name, value) = pair.trim().split_once('=')?;
        (name == COOKIE && !value.is_empty()).then(|| value.to_owned())
    })
}

/// An answer with a status, a machine-readable code and a message for people.
pub(crate) fn refusal(status: StatusCode, code: &str, message: &str) -> Response {
    crate::metrics::refused(code);
    (status, Json(http_api::Refusal { error: code.to_owned(), message: message.to_owned() })).into_response()
}

fn auth_error(e: AuthError) -> Response {
    match e {
        AuthError::Wrong(message) => refusal(StatusCode::UNAUTHORIZED, "wrong", message),
        AuthError::TooMany => refusal(StatusCode::TOO_MANY_REQUESTS, "too_many_attempts", "尝试次数过多，请 15 分钟后再试"),
        AuthError::Busy => refusal(StatusCode::SERVICE_UNAVAILABLE, "busy", "登录的人较多，请稍后再试"),
        AuthError::Invalid(message) => refusal(StatusCode::BAD_REQUEST, "invalid", &message),
        AuthError::Storage(e) => {
            tracing::error!("directory: {e}");
            refusal(StatusCode::SERVICE_UNAVAILABLE, "unavailable", "服务器暂时无法处理，请稍后再试")
        }
    }
}

pub(crate) fn refused(r: Refused) -> Response {
    let status = if r == Refused::Lost { StatusCode::FORBIDDEN } else { StatusCode::UNAUTHORIZED };
    refusal(status, r.code(), r.message())
}

/// Authenticates a request; the blocking lookup runs on the blocking pool.
pub(crate) async fn principal(state: &AppState, headers: &HeaderMap, query: Option<&str>) -> Result<(Principal, Device), Response> {
    let Some(token) = token(headers, query) else { return Err(refused(Refused::Unknown)) };
    let directory = state.hub.directory.clone();
    match tokio::task::spawn_blocking(move || directory.authenticate(&token)).await {
        Ok(Ok(found)) => Ok(found),
        Ok(Err(Ok(r))) => Err(refused(r)),
        Ok(Err(Err(e))) => Err(auth_error(AuthError::Storage(e))),
        Err(e) => Err(auth_error(AuthError::Storage(e.to_string()))),
    }
}

/// The cookie that carries a device's token: HttpOnly, same-site only, for the whole site; a
/// phone's lasts ten years (it is retired by an admin, not by time), a session its 12 hours.
fn device_cookie(new: &NewDevice, secure: bool) -> String {
    let age = match new.device.expires_at {
        Some(t) => (t - new.device.created_at).max(0),
        None => 10 * 365 * 24 * 3600,
    };
    let secure = if secure { "; Secure" } else { "" };
    format!("{COOKIE}={}; Path=/; HttpOnly; SameSite=Strict; Max-Age={age}{secure}", new.token)
}

/// Whether the request reached us over HTTPS: over the server's own TLS, or through a trusted
/// proxy that says so (never because a client's header says so).
fn is_https(client: &Option<Extension<crate::Client>>) -> bool {
    client.as_ref().is_some_and(|Extension(c)| c.https)
}

fn address(remote: Option<Extension<ConnectInfo<SocketAddr>>>) -> String {
    remote.map(|Extension(ConnectInfo(a))| a.ip().to_string()).unwrap_or_else(|| "?".into())
}

fn with_device(new: NewDevice, client: &Option<Extension<crate::Client>>, body: impl serde::Serialize) -> Response {
    let cookie = device_cookie(&new, is_https(client));
    ([(header::SET_COOKIE, cookie), (header::CACHE_CONTROL, "no-store".into())], Json(body)).into_response()
}

async fn blocking<T: Send + 'static>(f: impl FnOnce() -> Result<T, AuthError> + Send + 'static) -> Result<T, Response> {
    match tokio::task::spawn_blocking(f).await {
        Ok(r) => r.map_err(auth_error),
        Err(e) => Err(auth_error(AuthError::Storage(e.to_string()))),
    }
}

#[derive(Deserialize)]
pub(crate) struct Activation {
    code: String,
    #[serde(default)]
    device: String,
}

/// `POST /api/activate {code, device}`: a phone, once, online.
pub(crate) async fn activate(
    State(state): State<AppState>,
    client: Option<Extension<crate::Client>>,
    remote: Option<Extension<ConnectInfo<SocketAddr>>>,
    Json(body): Json<Activation>,
) -> Response {
    let (directory, addr) = (state.hub.directory.clone(), address(remote));
    if body.code.len() > 64 || body.device.len() > 1024 {
        return refusal(StatusCode::BAD_REQUEST, "invalid", "激活码无效");
    }
    match blocking(move || directory.activate(&body.code, &body.device, &addr)).await {
        Ok(new) => {
            let device = new.device.id.clone();
            with_device(new, &client, SignedIn { device })
        }
        Err(r) => r,
    }
}

/// `POST /api/login {login, password}`: a desktop session for the working day.
pub(crate) async fn login(
    State(state): State<AppState>,
    client: Option<Extension<crate::Client>>,
    remote: Option<Extension<ConnectInfo<SocketAddr>>>,
    Json(body): Json<Login>,
) -> Response {
    let (directory, addr) = (state.hub.directory.clone(), address(remote));
    if body.login.len() > 100 || body.password.len() > 512 {
        return refusal(StatusCode::UNAUTHORIZED, "wrong", "登录名或密码不对");
    }
    match blocking(move || directory.login(&body.login, &body.password, &addr)).await {
        Ok(new) => {
            let device = new.device.id.clone();
            with_device(new, &client, SignedIn { device })
        }
        Err(r) => r,
    }
}

/// `POST /api/logout`: ends a desktop session (a phone is retired by an admin instead).
pub(crate) async fn logout(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if let Ok((principal, device)) = principal(&state, &headers, None).await {
        if device.kind == "session" {
            let directory = state.hub.directory.clone();
            let _ = tokio::task::spawn_blocking(move || directory.set_device_status(&principal.device, "lost", Some(&principal.person))).await;
        }
    }
    ([(header::SET_COOKIE, format!("{COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0"))], StatusCode::NO_CONTENT).into_response()
}

#[derive(Deserialize)]
pub(crate) struct Setup {
    code: String,
    organisation: String,
    name: String,
    login: String,
    password: String,
}

/// `POST /api/setup`: the first administrator and the root of the tree, from the one-time link
/// the server printed on its first start.
pub(crate) async fn setup(
    State(state): State<AppState>,
    client: Option<Extension<crate::Client>>,
    remote: Option<Extension<ConnectInfo<SocketAddr>>>,
    Json(body): Json<Setup>,
) -> Response {
    let (directory, addr) = (state.hub.directory.clone(), address(remote));
    if [&body.code, &body.organisation, &body.name, &body.login, &body.password].iter().any(|f| f.len() > 512) {
        return refusal(StatusCode::BAD_REQUEST, "invalid", "填写的内容过长");
    }
    match blocking(move || directory.setup(&body.code, &body.organisation, &body.name, &body.login, &body.password, &addr)).await {
        Ok((person, new)) => with_device(new, &client, http_api::me::SetUp { person: person.id }),
        Err(r) => r,
    }
}

#[derive(Deserialize)]
pub(crate) struct MeQuery {
    #[serde(default)]
    version: Option<String>,
}

/// `GET /api/me`: the person, their units and roles, the device, and every ledger they may use
/// with its rights and the unit's people (what the phone keeps for offline use).
pub(crate) async fn me(State(state): State<AppState>, headers: HeaderMap, client: Option<Extension<crate::Client>>, Query(q): Query<MeQuery>) -> Response {
    let (principal, device) = match principal(&state, &headers, None).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    let board_base = crate::board::board_url(&state, &headers, is_https(&client), "");
    let directory = state.hub.directory.clone();
    let version: Option<String> = q.version.map(|v| v.chars().take(40).collect());
    let built = tokio::task::spawn_blocking(move || -> Result<Me, String> {
        let storage = &directory.storage;
        storage.touch_device(&device.id, version.as_deref(), crate::directory::now_secs())?;
        let person = storage.person(&principal.person)?.ok_or("the device's person is gone")?;
        let org = directory.org();
        let people: std::collections::HashMap<String, String> = storage.people()?.into_iter().map(|p| (p.id, p.name)).collect();
        let roles = org
            .grants
            .iter()
            .filter(|g| g.person == person.id)
            .filter_map(|g| {
                let u = org.units.get(&g.unit)?;
                Some(RoleHeld {
                    unit: u.id.clone(),
                    unit_name: u.name.clone(),
                    path: org.path_names(&u.id).join(" / "),
                    role: g.role.code().to_owned(),
                    role_label: g.role.label().to_owned(),
                })
            })
            .collect();
        let ledgers = org
            .readable_ledgers(&person.id)
            .into_iter()
            .map(|(unit, rights)| {
                let doc = unit.ledger.clone().unwrap_or_default();
                let members = org
                    .members(&unit.id)
                    .into_iter()
                    .filter(|(_, role)| matches!(role, ledger::org::Role::Cadre | ledger::org::Role::Secretary))
                    .map(|(p, role)| Member { id: p.to_owned(), name: people.get(p).cloned().unwrap_or_default(), role: role.code().to_owned() })
                    .collect();
                LedgerAccess {
                    url: format!("automerge:{doc}"),
                    document_id: doc,
                    unit: unit.id.clone(),
                    unit_name: unit.name.clone(),
                    path: org.path_names(&unit.id).join(" / "),
                    rights,
                    members,
                    board_url: format!("{board_base}{}", unit.id),
                }
            })
            .collect();
        // Only an active phone signs codes: a retired one finishes uploading, a lost one is refused.
        let rating_key = match (device.kind.as_str(), device.status.as_str()) {
            ("phone", "active") => storage.device_key(&device.id)?.iter().map(|b| format!("{b:02x}")).collect(),
            _ => String::new(),
        };
        Ok(Me {
            person: PersonRef { id: person.id, name: person.name, login: person.login },
            device: DeviceRef { id: device.id, name: device.name, kind: device.kind, status: device.status, rating_key },
            roles,
            ledgers,
            case_rules: crate::board::case_rules(storage),
        })
    })
    .await;
    match built {
        Ok(Ok(body)) => ([(header::CACHE_CONTROL, "no-store")], Json(body)).into_response(),
        Ok(Err(e)) => auth_error(AuthError::Storage(e)),
        Err(e) => auth_error(AuthError::Storage(e.to_string())),
    }
}
