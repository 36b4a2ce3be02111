//! The server's JSON API as the desk uses it: `fetch` with the session cookie, requests built
//! from and answers parsed into the types of `http_api`, the ones the server writes.

use gloo_storage::{LocalStorage, Storage};
pub use http_api::admin::{AuditEntry, Device, OrgView};
pub use http_api::desk::{CaseRow, List, Overview, OverviewRow, PledgeRow, PostRow, ProblemRow, RecordView};
pub use http_api::me::Me;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

/// Why a request gave no answer.
#[derive(Debug, Clone, PartialEq)]
pub enum ApiError {
    /// No session (or it was ended): the login page.
    SignedOut,
    /// The server refused, with its message and the whole answer (import row problems).
    Refused { message: String, body: serde_json::Value },
    /// No connection (the request never reached the server).
    Network(String),
    /// No connection, and this page was never opened here before, so nothing is kept of it.
    NotKept,
    /// An answer the desk cannot read (a proxy's error page, a server of another version).
    Unreadable(String),
}

impl ApiError {
    pub fn message(&self) -> String {
        match self {
            ApiError::SignedOut => "登录已失效，请重新登录".into(),
            ApiError::Refused { message, .. } => message.clone(),
            // What went wrong in the browser is for the console, not for the person.
            ApiError::Network(_) => "连不上服务器：请检查网络后重试。".into(),
            ApiError::NotKept => "离线，此页尚未缓存：本机没有保存过这一页，请联网后再打开。已打开过的页面离线时仍可查看。".into(),
            ApiError::Unreadable(_) => "服务器的回答无法读取，请稍后重试；如仍不行，请联系管理员。".into(),
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

/// One kept answer, stored as JSON under its URL's key.
#[derive(Serialize, Deserialize)]
struct KeptAnswer {
    /// ms since 1970 when it was fetched.
    at: f64,
    body: serde_json::Value,
}

fn kept_index_key() -> String {
    format!("{KEPT_PREFIX}index")
}

/// A GET whose answer the desk keeps (in this browser, by URL), so without a connection it
/// shows the last answer it had, marked with its time.
pub async fn get_kept<T: DeserializeOwned>(url: &str) -> Result<Kept<T>, ApiError> {
    let key = format!("{KEPT_PREFIX}{url}");
    match request::<serde_json::Value>(url, "GET", None, None).await {
        Ok(body) => {
            keep(&key, &body);
            serde_json::from_value(body).map(|value| Kept { value, from: None }).map_err(|e| ApiError::Unreadable(e.to_string()))
        }
        Err(ApiError::Network(why)) => {
            web_sys::console::warn_1(&format!("{url}: {why}").into());
            match LocalStorage::get::<KeptAnswer>(&key) {
                Ok(k) => {
                    let value = serde_json::from_value(k.body).map_err(|e| ApiError::Unreadable(e.to_string()))?;
                    Ok(Kept { value, from: Some(k.at) })
                }
                Err(_) => Err(ApiError::NotKept),
            }
        }
        Err(e) => Err(e),
    }
}

/// Keeps an answer, dropping the oldest beyond [`KEPT_MAX`] (and any when storage is full).
fn keep(key: &str, body: &serde_json::Value) {
    let mut index: Vec<String> = LocalStorage::get(kept_index_key()).unwrap_or_default();
    index.retain(|k| k != key);
    index.push(key.to_owned());
    while index.len() > KEPT_MAX {
        LocalStorage::delete(index.remove(0));
    }
    let entry = KeptAnswer { at: js_sys::Date::now(), body: body.clone() };
    while LocalStorage::set(key, &entry).is_err() && index.len() > 1 {
        LocalStorage::delete(index.remove(0));
    }
    let _ = LocalStorage::set(kept_index_key(), &index);
}

/// Forgets every kept answer (signing out: the next person at this desk must not read them).
pub fn forget_kept() {
    let raw = LocalStorage::raw();
    let keys: Vec<String> = (0..raw.length().unwrap_or(0)).filter_map(|i| raw.key(i).ok().flatten()).filter(|k| k.starts_with(KEPT_PREFIX)).collect();
    for k in keys {
        LocalStorage::delete(k);
    }
}

pub async fn post<T: DeserializeOwned>(url: &str, body: &impl Serialize) -> Result<T, ApiError> {
    let body = serde_json::to_string(body).map_err(|e| ApiError::Unreadable(e.to_string()))?;
    request(url, "POST", Some(JsValue::from_str(&body)), Some("application/json")).await
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
    let body: serde_json::Value = serde_json::from_str(&text).map_err(|_| ApiError::Unreadable(format!("HTTP {status}")))?;
    if !(200..300).contains(&status) {
        let message = body.get("message").and_then(|m| m.as_str()).unwrap_or("请求被拒绝").to_owned();
        return Err(ApiError::Refused { message, body });
    }
    serde_json::from_value(body).map_err(|e| ApiError::Unreadable(e.to_string()))
}

/// A time in seconds since 1970 as local date and time (2026-11-29 14:05).
pub fn local_time(secs: i64) -> String {
    local_time_ms(secs as f64 * 1000.0)
}

pub fn local_time_ms(ms: f64) -> String {
    let d = js_sys::Date::new(&JsValue::from_f64(ms));
    format!("{}-{:02}-{:02} {:02}:{:02}", d.get_full_year(), d.get_month() + 1, d.get_date(), d.get_hours(), d.get_minutes())
}
