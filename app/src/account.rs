//! Who this phone works for: the person, their unit ledgers and the people of those units, as
//! `/api/me` last told it (kept in localStorage, so the app opens offline with no prompt), and
//! the one-time activation with a code. The device token itself is an HttpOnly cookie the
//! server sets: page scripts never see it.

use leptos::prelude::*;
use wasm_bindgen::JsCast;

use crate::browser;
use crate::settings::{self, DEVICE_GONE, DEVICE_RETIRED, HOME_LEDGER, ME, SELECTED_LEDGER};

/// One ledger the person may use.
#[derive(Debug, Clone, PartialEq)]
pub struct LedgerEntry {
    pub document_id: String,
    /// The unit's id (its one-time rating codes name it).
    pub unit: String,
    pub unit_name: String,
    pub path: String,
    /// What the person may write here: everything (书记), all but assigning and closing
    /// (干部), only supervision remarks and evaluations (督查).
    pub write: ledger::org::Write,
    /// Names of the unit's cadres and secretaries, to assign a problem to.
    pub members: Vec<String>,
    /// The unit's page on the public board (先锋广场), for its link and posters.
    pub board_url: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Me {
    pub name: String,
    /// "active", "retired" (finish uploading, then erase) or "lost".
    pub device_status: String,
    pub ledgers: Vec<LedgerEntry>,
    /// This phone's device id, and its key for signing one-time rating codes (hex; empty when
    /// the server gave none).
    pub device_id: String,
    pub rating_key: String,
    /// The organisation's limits for a 差评's case and its working-day calendar.
    pub case_rules: ledger::rating::CaseRules,
}

fn get(v: &wasm_bindgen::JsValue, key: &str) -> wasm_bindgen::JsValue {
    js_sys::Reflect::get(v, &key.into()).unwrap_or(wasm_bindgen::JsValue::UNDEFINED)
}

fn text(v: &wasm_bindgen::JsValue, key: &str) -> String {
    get(v, key).as_string().unwrap_or_default()
}

fn array(v: &wasm_bindgen::JsValue, key: &str) -> Vec<wasm_bindgen::JsValue> {
    get(v, key).dyn_into::<js_sys::Array>().map(|a| a.iter().collect()).unwrap_or_default()
}

/// `caseRules` as the server wrote it (`ledger::rating::CaseRules`'s serde form), checked as
/// the server checks it; the defaults when absent (an older server) or unreadable.
fn case_rules(v: &wasm_bindgen::JsValue) -> ledger::rating::CaseRules {
    let days = |key: &str| get(v, key).as_f64().filter(|d| d.fract() == 0.0 && *d >= 0.0).map(|d| d as u32);
    let dates = |key: &str| array(&get(v, "calendar"), key).iter().filter_map(|d| d.as_string()).collect::<Vec<_>>().join(" ");
    let (Some(acknowledge_days), Some(answer_days)) = (days("acknowledge_days"), days("answer_days")) else { return Default::default() };
    let Ok(calendar) = ledger::calendar::WorkCalendar::parse(&dates("holidays"), &dates("workdays")) else { return Default::default() };
    ledger::rating::CaseRules { acknowledge_days, answer_days, calendar }.check().unwrap_or_default()
}

impl Me {
    /// Reads `/api/me`'s JSON (read by hand with `JSON.parse`: serde_json would add to the
    /// phone's shell for one small object).
    fn parse(json: &str) -> Option<Self> {
        let v = js_sys::JSON::parse(json).ok()?;
        let person = get(&v, "person");
        let ledgers = array(&v, "ledgers")
            .iter()
            .map(|l| LedgerEntry {
                document_id: text(l, "documentId"),
                unit: text(l, "unit"),
                unit_name: text(l, "unitName"),
                path: text(l, "path"),
                write: match text(&get(l, "rights"), "write").as_str() {
                    "everything" => ledger::org::Write::Everything,
                    "cadre" => ledger::org::Write::Cadre,
                    "supervision_only" => ledger::org::Write::SupervisionOnly,
                    _ => ledger::org::Write::Nothing,
                },
                members: array(l, "members").iter().map(|m| text(m, "name")).collect(),
                board_url: text(l, "boardUrl"),
            })
            .filter(|l| !l.document_id.is_empty())
            .collect();
        let device = get(&v, "device");
        Some(Self {
            name: text(&person, "name"),
            device_status: text(&device, "status"),
            ledgers,
            device_id: text(&device, "id"),
            rating_key: text(&device, "ratingKey"),
            case_rules: case_rules(&get(&v, "caseRules")),
        })
    }

    /// The ledger this phone works in: the one chosen before if still the person's, else the first.
    pub fn selected(&self) -> Option<&LedgerEntry> {
        let chosen = SELECTED_LEDGER.get();
        self.ledgers.iter().find(|l| Some(&l.document_id) == chosen.as_ref()).or(self.ledgers.first())
    }
}

/// What `/api/me` said.
pub enum Answer {
    Me(String),
    /// Not activated (401): the code screen.
    NotActivated,
    /// Reported lost (403): erase.
    Lost,
    /// No network or no server.
    Unreachable,
}

pub async fn fetch_me() -> Answer {
    let Some(window) = web_sys::window() else { return Answer::Unreachable };
    let url = format!("/api/me?version={}", env!("CARGO_PKG_VERSION"));
    let Ok(response) = wasm_bindgen_futures::JsFuture::from(window.fetch_with_str(&url)).await else { return Answer::Unreachable };
    let Ok(response) = response.dyn_into::<web_sys::Response>() else { return Answer::Unreachable };
    match response.status() {
        200 => {
            let Ok(body) = response.text() else { return Answer::Unreachable };
            match wasm_bindgen_futures::JsFuture::from(body).await.ok().and_then(|t| t.as_string()) {
                Some(json) => Answer::Me(json),
                None => Answer::Unreachable,
            }
        }
        401 => Answer::NotActivated,
        403 => Answer::Lost,
        _ => Answer::Unreachable,
    }
}

/// The follow-up number a resident left with a rating of `document`, for the unit's secretary
/// (kept on the server, never in the ledger). Ok(None): the resident left none.
pub async fn board_contact(document: &str, rating: &str) -> Result<Option<String>, String> {
    let window = web_sys::window().ok_or("no window")?;
    let url = format!("/api/board/contacts/{document}/{rating}");
    let offline = || "需要联网才能查看回访电话".to_owned();
    let response = wasm_bindgen_futures::JsFuture::from(window.fetch_with_str(&url)).await.map_err(|_| offline())?;
    let response: web_sys::Response = response.dyn_into().map_err(|_| offline())?;
    if !response.ok() {
        return Err(if response.status() == 404 { "只有本单位书记可以查看回访电话".into() } else { offline() });
    }
    let body = wasm_bindgen_futures::JsFuture::from(response.text().map_err(|_| offline())?).await.ok().and_then(|t| t.as_string()).ok_or_else(offline)?;
    let v = js_sys::JSON::parse(&body).map_err(|_| offline())?;
    Ok(get(&v, "phone").as_string())
}

pub fn parse(json: &str) -> Option<Me> {
    Me::parse(json)
}

pub fn cached() -> Option<Me> {
    ME.get().and_then(|json| Me::parse(&json))
}

/// Keeps what the server said (and the first ledger as this phone's home). Only an active
/// device's answer is kept: a retired one must not come back after it has erased itself.
pub fn remember(json: &str) -> Option<Me> {
    let me = Me::parse(json)?;
    if me.device_status != "active" {
        return Some(me);
    }
    ME.set(&json.to_owned());
    if let Some(selected) = me.selected() {
        if HOME_LEDGER.get().is_none() {
            HOME_LEDGER.set(&selected.document_id);
        }
        SELECTED_LEDGER.set(&selected.document_id);
    }
    Some(me)
}

/// Where a ledger's data lives in IndexedDB: the first ledger this phone opened keeps the
/// original key (so nothing stored before accounts existed moves), every other its own.
pub fn storage_key(document_id: &str) -> String {
    match HOME_LEDGER.get() {
        Some(home) if home == document_id => "unit-ledger".into(),
        _ => format!("ledger:{document_id}"),
    }
}

/// Switches to another of the person's ledgers (the page reloads into it).
pub fn switch_to(document_id: &str) {
    SELECTED_LEDGER.set(&document_id.to_owned());
    browser::reload();
}

/// Erases every setting this phone holds (a retired or lost device; its ledgers are erased by
/// the worker, or with the database before one started), keeping only `why`, shown above the
/// activation form until the phone is activated anew.
pub fn erase_settings(why: &str) {
    settings::clear_all();
    DEVICE_GONE.set(&why.to_owned());
}

pub fn mark_retired() {
    DEVICE_RETIRED.set(&true);
}

pub fn known_retired() -> bool {
    DEVICE_RETIRED.get() == Some(true)
}

/// The activation code in the address (`/#activate=CODE`, what the QR code holds).
fn code_from_address() -> Option<String> {
    let hash = web_sys::window()?.location().hash().ok()?;
    let code = hash.strip_prefix("#activate=")?;
    let code: String = code.chars().filter(|c| c.is_ascii_alphanumeric() || *c == '-').take(20).collect();
    (!code.is_empty()).then_some(code)
}

/// Why this phone erased itself, if it did and was not activated since.
pub fn gone_reason() -> Option<String> {
    DEVICE_GONE.get()
}

/// `POST /api/activate`: the server sets the device cookie. Err: the message to show.
pub async fn activate(code: &str, device: &str) -> Result<(), String> {
    let window = web_sys::window().ok_or("no window")?;
    let body = js_sys::Object::new();
    let _ = js_sys::Reflect::set(&body, &"code".into(), &code.trim().into());
    let _ = js_sys::Reflect::set(&body, &"device".into(), &device.into());
    let init = web_sys::RequestInit::new();
    init.set_method("POST");
    init.set_body(&js_sys::JSON::stringify(&body).map_err(|_| "bad input")?.into());
    let headers = web_sys::Headers::new().map_err(|_| "no headers")?;
    let _ = headers.set("content-type", "application/json");
    init.set_headers(&headers);
    let response = wasm_bindgen_futures::JsFuture::from(window.fetch_with_str_and_init("/api/activate", &init)).await.map_err(|_| "无法连接服务器，请联网后再试".to_owned())?;
    let response: web_sys::Response = response.dyn_into().map_err(|_| "bad response")?;
    if response.ok() {
        return Ok(());
    }
    let body = match response.text() {
        Ok(p) => wasm_bindgen_futures::JsFuture::from(p).await.ok().and_then(|t| t.as_string()).unwrap_or_default(),
        Err(_) => String::new(),
    };
    let message = js_sys::JSON::parse(&body).ok().map(|v| text(&v, "message")).filter(|m| !m.is_empty());
    Err(message.unwrap_or_else(|| "激活失败，请稍后再试".into()))
}

/// The code screen of a phone not yet activated: one field, one button.
#[component]
pub fn Activation(activated: WriteSignal<u32>) -> impl IntoView {
    // Opened from the QR code the admin showed: the code is in the address, filled in here.
    let code = RwSignal::new(code_from_address().unwrap_or_default());
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let submit = move || {
        if busy.get_untracked() {
            return;
        }
        if code.get_untracked().trim().is_empty() {
            error.set(Some("请输入激活码（管理员给您的 XXXX-XXXX-XX）".into()));
            return;
        }
        busy.set(true);
        error.set(None);
        leptos::task::spawn_local(async move {
            let agent = web_sys::window().and_then(|w| w.navigator().user_agent().ok()).unwrap_or_default();
            // Whole: the server reads it as 安卓手机 · 微信, and the browser comes last in it.
            let device: String = agent.chars().take(400).collect();
            match activate(&code.get_untracked(), &device).await {
                Ok(()) => {
                    DEVICE_GONE.remove();
                    // The code is used: it leaves the address (and the history's entry).
                    if let Some(w) = web_sys::window() {
                        let _ = w.history().and_then(|h| h.replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some("/")));
                    }
                    activated.update(|n| *n += 1)
                }
                Err(e) => error.set(Some(e)),
            }
            busy.set(false);
        });
    };
    view! {
        <form class="activation" on:submit=move |ev| { ev.prevent_default(); submit(); }>
            {gone_reason().map(|why| view! { <p class="alert" role="alert" data-testid="device-gone">{why}</p> })}
            <h1>"激活本机"</h1>
            <p>"请输入管理员给您的激活码（只需一次，需要联网）。激活后离线也能使用。"</p>
            <label for="activation-code">"激活码"</label>
            <input id="activation-code" name="code" autocomplete="one-time-code" autocapitalize="characters" maxlength="20"
                placeholder="XXXX-XXXX-XX" prop:value=move || code.get() on:input=move |ev| code.set(event_target_value(&ev))/>
            {move || error.get().map(|e| view! { <p class="field-error" role="alert">{e}</p> })}
            <button type="submit" class="button primary" disabled=move || busy.get()>
                {move || if busy.get() { "正在激活…" } else { "激活" }}
            </button>
        </form>
    }
}
