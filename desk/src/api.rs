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

/// An answer, and when it was fetched if it comes from what the desk kept (no connection).
#[derive(Debug, Clone, PartialEq)]
pub struct Kept<T> {
    pub value: T,
    /// ms since 1970 of the answer shown, when it is not fresh.
    pub from: Option<f64>,
}

const KEPT_PREFIX: &str = "desk-kept:";
/// The answers kept: the latest views a supervisor opened, enough for a meeting room.
const KEPT_MAX: usize = 40;

fn local_storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok().flatten()
}

/// A GET whose answer the desk keeps (in this browser, by URL), so without a connection it
/// shows the last answer it had, marked with its time.
pub async fn get_kept<T: DeserializeOwned>(url: &str) -> Result<Kept<T>, ApiError> {
    let key = format!("{KEPT_PREFIX}{url}");
    match request::<serde_json::Value>(url, "GET", None, None).await {
        Ok(body) => {
            keep(&key, &body);
            serde_json::from_value(body).map(|value| Kept { value, from: None }).map_err(|e| ApiError::Network(e.to_string()))
        }
        Err(ApiError::Network(why)) => {
            let kept = local_storage().and_then(|s| s.get_item(&key).ok().flatten()).and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok());
            match kept {
                Some(k) => {
                    let value = serde_json::from_value(k["body"].clone()).map_err(|e| ApiError::Network(e.to_string()))?;
                    Ok(Kept { value, from: k["at"].as_f64() })
                }
                None => Err(ApiError::Network(why)),
            }
        }
        Err(e) => Err(e),
    }
}

/// Keeps an answer, dropping the oldest beyond [`KEPT_MAX`] (and any when storage is full).
fn keep(key: &str, body: &serde_json::Value) {
    let Some(storage) = local_storage() else { return };
    let index_key = format!("{KEPT_PREFIX}index");
    let mut index: Vec<String> = storage.get_item(&index_key).ok().flatten().and_then(|t| serde_json::from_str(&t).ok()).unwrap_or_default();
    index.retain(|k| k != key);
    index.push(key.to_owned());
    while index.len() > KEPT_MAX {
        let _ = storage.remove_item(&index.remove(0));
    }
    let entry = serde_json::json!({ "at": js_sys::Date::now(), "body": body }).to_string();
    while storage.set_item(key, &entry).is_err() && index.len() > 1 {
        let _ = storage.remove_item(&index.remove(0));
    }
    let _ = storage.set_item(&index_key, &serde_json::to_string(&index).unwrap_or_default());
}

/// Forgets every kept answer (signing out: the next person at this desk must not read them).
pub fn forget_kept() {
    let Some(storage) = local_storage() else { return };
    let n = storage.length().unwrap_or(0);
    let keys: Vec<String> = (0..n).filter_map(|i| storage.key(i).ok().flatten()).filter(|k| k.starts_with(KEPT_PREFIX)).collect();
    for k in keys {
        let _ = storage.remove_item(&k);
    }
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

    pub fn is_supervisor(&self) -> bool {
        self.roles.iter().any(|r| r.role == "supervisor")
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
    local_time_ms(secs as f64 * 1000.0)
}

pub fn local_time_ms(ms: f64) -> String {
    let d = js_sys::Date::new(&JsValue::from_f64(ms));
    format!("{}-{:02}-{:02} {:02}:{:02}", d.get_full_year(), d.get_month() + 1, d.get_date(), d.get_hours(), d.get_minutes())
}

/// A period as the server names it.
#[derive(Debug, Clone, PartialEq, Deserialize, serde::Serialize)]
pub struct PeriodView {
    pub key: String,
    pub label: String,
    pub from: String,
    pub to: String,
}

/// A unit the supervisor may look at.
#[derive(Debug, Clone, PartialEq, Deserialize, serde::Serialize)]
pub struct UnitRef {
    pub unit: String,
    pub name: String,
}

/// One row of the overview: a unit, or a node with the sum of the units below it.
#[derive(Debug, Clone, PartialEq, Deserialize, serde::Serialize)]
pub struct OverviewRow {
    pub unit: String,
    pub name: String,
    pub kind: String,
    pub depth: usize,
    pub ledger: bool,
    pub figures: ledger::report::Figures,
    pub visits: usize,
    pub in_time: Option<usize>,
    pub satisfaction: Option<usize>,
    pub survey: Option<usize>,
    pub changed_at: Option<i64>,
    pub last_sync: Option<i64>,
    pub stale: bool,
    pub stale_below: usize,
    pub units: usize,
}

/// `/api/desk/overview`.
#[derive(Debug, Clone, PartialEq, Deserialize, serde::Serialize)]
pub struct Overview {
    pub node: String,
    pub period: PeriodView,
    pub today: String,
    pub generated_at: i64,
    pub stale_after_days: i64,
    pub nodes: Vec<UnitRef>,
    pub path: Vec<UnitRef>,
    pub rows: Vec<OverviewRow>,
    pub series: ledger::report::Series,
    pub categories: Vec<String>,
    pub visit_kinds: Vec<String>,
}

/// One problem in a list across units.
#[derive(Debug, Clone, PartialEq, Deserialize, serde::Serialize)]
pub struct ProblemRow {
    pub unit: String,
    pub unit_path: String,
    pub ledger: Option<String>,
    pub id: String,
    pub title: String,
    pub category: String,
    pub urgency: String,
    pub urgency_code: String,
    pub status: String,
    pub responsible: String,
    pub raised_on: Option<String>,
    pub deadline: Option<String>,
    pub resolved_on: Option<String>,
    pub days_overdue: Option<i64>,
    pub remarks: usize,
    pub satisfaction: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Deserialize, serde::Serialize)]
pub struct List<T> {
    pub period: PeriodView,
    pub today: String,
    pub total: usize,
    pub rows: Vec<T>,
}

#[derive(Debug, Clone, PartialEq, Deserialize, serde::Serialize)]
pub struct PledgeRow {
    pub unit: String,
    pub unit_path: String,
    pub ledger: String,
    pub id: String,
    pub content: String,
    pub by: String,
    pub public: bool,
    pub fulfilled: bool,
    pub due: Option<String>,
    pub overdue: bool,
    pub progress: usize,
    pub evaluations: usize,
    pub evaluations_good: usize,
}

#[derive(Debug, Clone, PartialEq, Deserialize, serde::Serialize)]
pub struct HistoryLine {
    pub at: i64,
    pub by: String,
    pub summary: String,
}

/// `/api/desk/records/…`: one record as its ledger holds it, with its history.
#[derive(Debug, Clone, PartialEq, Deserialize, serde::Serialize)]
pub struct RecordView {
    pub section: String,
    pub unit: String,
    pub unit_path: String,
    pub record: serde_json::Value,
    pub history: Vec<HistoryLine>,
    pub may_remark: bool,
}
