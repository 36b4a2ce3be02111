//! The server's JSON API as the desk uses it: `fetch` with the session cookie, answers parsed
//! into the types below.

use ledger::org::{Grant, Unit};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

/// Why a request gave no answer.
#[derive(Debug, Clone, PartialEq)]
pub enum ApiError {
    /// No session (or it was ended): the login page.
    SignedOut,
    /// The server refused, with its message and the whole answer (import row problems).
    Refused { message: String, body: serde_json::Value },
    /// No connection, or an answer that is not ours.
    Network(String),
}

impl ApiError {
    pub fn message(&self) -> String {
        match self {
            ApiError::SignedOut => "登录已失效，请重新登录".into(),
            ApiError::Refused { message, .. } => message.clone(),
            ApiError::Network(e) => format!("连不上服务器：{e}"),
        }
    }
}

pub async fn get<T: DeserializeOwned>(url: &str) -> Result<T, ApiError> {
    request(url, "GET", None, None).await
}

pub async fn post<T: DeserializeOwned>(url: &str, body: &serde_json::Value) -> Result<T, ApiError> {
    request(url, "POST", Some(JsValue::from_str(&body.to_string())), Some("application/json")).await
}

/// Posts a file's bytes as they are.
pub async fn post_file<T: DeserializeOwned>(url: &str, file: &web_sys::File) -> Result<T, ApiError> {
    request(url, "POST", Some(file.clone().into()), Some("application/octet-stream")).await
}

async fn request<T: DeserializeOwned>(url: &str, method: &str, body: Option<JsValue>, content_type: Option<&str>) -> Result<T, ApiError> {
    let network = |e: JsValue| ApiError::Network(e.as_string().unwrap_or_else(|| format!("{e:?}")));
    let window = web_sys::window().ok_or_else(|| ApiError::Network("no window".into()))?;
    let init = web_sys::RequestInit::new();
    init.set_method(method);
    if let Some(body) = &body {
        init.set_body(body);
    }
    if let Some(content_type) = content_type {
        let headers = web_sys::Headers::new().map_err(network)?;
        headers.set("content-type", content_type).map_err(network)?;
        init.set_headers(&headers);
    }
    let response: web_sys::Response = JsFuture::from(window.fetch_with_str_and_init(url, &init)).await.map_err(network)?.unchecked_into();
    let text = JsFuture::from(response.text().map_err(network)?).await.map_err(network)?.as_string().unwrap_or_default();
    let status = response.status();
    if status == 401 {
        return Err(ApiError::SignedOut);
    }
    let body: serde_json::Value = serde_json::from_str(&text).map_err(|_| ApiError::Network(format!("HTTP {status}")))?;
    if !(200..300).contains(&status) {
        let message = body.get("message").and_then(|m| m.as_str()).unwrap_or("请求被拒绝").to_owned();
        return Err(ApiError::Refused { message, body });
    }
    serde_json::from_value(body).map_err(|e| ApiError::Network(e.to_string()))
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Person {
    pub id: String,
    pub name: String,
    pub login: String,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct RoleHeld {
    pub unit: String,
    pub path: String,
    pub role: String,
    #[serde(rename = "roleLabel")]
    pub role_label: String,
}

/// `/api/me`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Me {
    pub person: Person,
    pub roles: Vec<RoleHeld>,
}

impl Me {
    pub fn is_admin(&self) -> bool {
        self.roles.iter().any(|r| r.role == "admin")
    }
}

/// `/api/admin/org`: what the admin manages.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
pub struct OrgView {
    pub units: Vec<Unit>,
    pub people: Vec<Person>,
    pub grants: Vec<Grant>,
}

impl OrgView {
    pub fn org(&self) -> ledger::org::Org {
        ledger::org::Org { units: self.units.iter().map(|u| (u.id.clone(), u.clone())).collect(), grants: self.grants.iter().cloned().collect() }
    }

    pub fn person_name(&self, id: &str) -> String {
        self.people.iter().find(|p| p.id == id).map(|p| p.name.clone()).unwrap_or_else(|| id.to_owned())
    }
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Device {
    pub id: String,
    pub person: String,
    pub name: String,
    pub kind: String,
    pub status: String,
    pub last_seen: Option<i64>,
    pub app_version: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct AuditEntry {
    pub at: i64,
    pub person: Option<String>,
    pub action: String,
    pub detail: String,
}

/// A time in seconds since 1970 as local date and time (2026-11-29 14:05).
pub fn local_time(secs: i64) -> String {
    let d = js_sys::Date::new(&JsValue::from_f64(secs as f64 * 1000.0));
    format!("{}-{:02}-{:02} {:02}:{:02}", d.get_full_year(), d.get_month() + 1, d.get_date(), d.get_hours(), d.get_minutes())
}
