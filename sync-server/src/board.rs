//! 先锋广场: the public board residents reach by a QR code, with no account. A unit's board is
//! read from the read model and rendered once per change of its ledger; what residents send
//! (ratings, 留言, the recheck of an answer) is written into the unit's ledger by the server as
//! the board's own writer, checked by the same write rules as any peer, and acknowledged only
//! once it is stored. Every input is bounded: form size, field lengths, rates per browser, per
//! address and in all.

pub(crate) mod contact;
mod once;
mod pages;
mod publicity;
mod throttle;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Extension, Form, Router};
use chrono::NaiveDate;
use hmac::{Mac, SimpleHmac};
use ledger::board::PublicBoard;
use ledger::org::Write;
use ledger::problem::{Category, RaisedBy, Urgency};
use ledger::rating::{phone_digits, CaseRules, RatingForm, StepKind, Target, ValidRating, Way};
use ledger::record::Section;
use ledger::{Pledge, Post, Problem, ProblemDraft, Rating, RecordId};
use ledger_sync::DocumentId;
use serde::Deserialize;
use throttle::Windows;

use crate::hub::{WriteError, Writer};
use crate::storage::WindowCount;
use crate::{AppState, Client};

/// The name the board's entries and change notes carry.
pub(crate) const BOARD_NAME: &str = "先锋广场";
pub(crate) const MAX_QUESTION_TITLE: usize = 60;
pub(crate) const MAX_QUESTION_DETAIL: usize = 1_000;
/// Largest form body the board reads (the longest form is well under it).
pub(crate) const MAX_FORM_BYTES: usize = 16 * 1024;
/// The cookie that tells one browser from another, for its limits only (random, no account).
const BROWSER_COOKIE: &str = "pb";
/// Browsers and addresses the limits remember at once; past it, new ones wait (memory first).
const MAX_TRACKED: usize = 100_000;

/// How much the public may send.
#[derive(Debug, Clone)]
pub struct BoardLimits {
    /// Ratings, 留言 and rechecks stored per second, from everyone: past it, "稍后再试".
    pub writes_per_second: u32,
    /// From one address per hour (high: a township's phones may share a carrier's address).
    pub writes_per_address_per_hour: u32,
    /// From one browser per hour.
    pub writes_per_browser_per_hour: u32,
}

impl Default for BoardLimits {
    fn default() -> Self {
        Self { writes_per_second: 200, writes_per_address_per_hour: 300, writes_per_browser_per_hour: 30 }
    }
}

/// A unit's board as last rendered.
struct Rendered {
    unit: String,
    /// What is overdue depends on the day: rendered again on the next.
    day: NaiveDate,
    board: PublicBoard,
    html: axum::body::Bytes,
}

pub struct Board {
    global: Windows,
    per_address: Windows,
    per_browser: Windows,
    /// One rating of one post or pledge per browser per day.
    per_browser_target: Windows,
    rendered: Mutex<HashMap<DocumentId, Arc<Rendered>>>,
    secret: Vec<u8>,
    /// PostgreSQL shared with other processes: the per-address, per-browser and per-target
    /// windows are counted there too, so that spreading writes over processes gains nothing.
    /// (The global per-second bound protects this process: it stays its own.)
    shared: Option<Arc<crate::storage::Storage>>,
    /// Where residents reach the board (`--public-url`), for QR codes and `boardUrl`; None:
    /// the address the request came to.
    pub public_url: Option<String>,
}

impl Board {
    pub(crate) fn new(secret: Vec<u8>, limits: &BoardLimits, public_url: Option<String>, shared: Option<Arc<crate::storage::Storage>>) -> Self {
        let hour = Duration::from_secs(3_600);
        Self {
            global: Windows::new(limits.writes_per_second, Duration::from_secs(1), 1),
            per_address: Windows::new(limits.writes_per_address_per_hour, hour, MAX_TRACKED),
            per_browser: Windows::new(limits.writes_per_browser_per_hour, hour, MAX_TRACKED),
            per_browser_target: Windows::new(1, Duration::from_secs(86_400), 2 * MAX_TRACKED),
            rendered: Mutex::new(HashMap::new()),
            secret,
            shared,
            public_url: public_url.map(|u| u.trim_end_matches('/').to_owned()),
        }
    }

    /// Every rendered board is stale: the organisation's case rules changed.
    pub(crate) fn forget_all(&self) {
        self.forget(None);
    }

    fn forget(&self, doc: Option<&DocumentId>) {
        let mut rendered = self.rendered.lock().unwrap_or_else(|e| e.into_inner());
        match doc {
            Some(doc) => {
                rendered.remove(doc);
            }
            None => rendered.clear(),
        }
    }

    /// The key of a resident's link to their 差评's case.
    fn case_key(&self, doc: &DocumentId, rating: &RecordId) -> String {
        let mut mac = <SimpleHmac<sha2::Sha256> as Mac>::new_from_slice(&self.secret).expect("any key length");
        mac.update(format!("case:{doc}:{rating}").as_bytes());
        mac.finalize().into_bytes()[..16].iter().map(|b| format!("{b:02x}")).collect()
    }

    fn case_key_matches(&self, doc: &DocumentId, rating: &RecordId, key: &str) -> bool {
        // Compared in constant time, as a MAC must be.
        let expected = self.case_key(doc, rating);
        expected.len() == key.len() && expected.bytes().zip(key.bytes()).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0
    }
}

/// Drops a unit's rendered board whenever its ledger commits a change.
pub(crate) fn watch_changes(state: &AppState) {
    let mut changed = state.hub.changed.subscribe();
    let board = state.board.clone();
    tokio::spawn(async move {
        loop {
            match changed.recv().await {
                Ok(doc) => board.forget(Some(&doc)),
                Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => board.forget(None),
                Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
            }
        }
    });
}

/// The board's routes, on the main address and on `--public-listen`.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/b/{unit}", get(board_page))
        .route("/b/{unit}/rate/{target}/{id}", get(rate_page).post(rate))
        .route("/b/{unit}/ask", get(ask_page).post(ask))
        .route("/b/{unit}/case/{id}", get(case_page).post(recheck))
        .route("/b/{unit}/poster/{target}/{id}", get(poster))
        .route("/r/{code}", get(once::once_page).post(once::once_rate))
        .route("/gongshi", get(publicity::index))
        .route("/gongshi/{round}", get(publicity::round))
        .route("/gongshi/{round}/objections", axum::routing::post(publicity::object))
        .layer(axum::extract::DefaultBodyLimit::max(MAX_FORM_BYTES))
}

/// The board's address of `unit`, as residents reach it.
pub(crate) fn board_url(state: &AppState, headers: &HeaderMap, https: bool, unit: &str) -> String {
    format!("{}/b/{unit}", origin(state, headers, https))
}

fn origin(state: &AppState, headers: &HeaderMap, https: bool) -> String {
    if let Some(url) = &state.board.public_url {
        return url.clone();
    }
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok()).filter(|h| h.parse::<axum::http::uri::Authority>().is_ok()).unwrap_or("localhost");
    format!("{}://{host}", if https { "https" } else { "http" })
}

fn is_https(client: &Option<Extension<Client>>) -> bool {
    client.as_ref().is_some_and(|c| c.https)
}

fn today() -> NaiveDate {
    ledger::report::day_of(now_ms()).unwrap_or_default()
}

pub(crate) fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
}

/// The board pages' policy: no script at all, the one inline style sheet by its hash, forms
/// only to this server, never framed.
fn policy(style: &str) -> HeaderValue {
    use base64::Engine;
    use sha2::Digest;
    let hash = base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(style.as_bytes()));
    HeaderValue::from_str(&format!("default-src 'none'; style-src 'sha256-{hash}'; img-src data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")).expect("ascii")
}

fn html(status: StatusCode, body: impl Into<axum::body::Body>) -> Response {
    static POLICY: std::sync::OnceLock<HeaderValue> = std::sync::OnceLock::new();
    let policy = POLICY.get_or_init(|| policy(pages::STYLE)).clone();
    (
        status,
        [
            (header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8")),
            (header::CONTENT_SECURITY_POLICY, policy),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
        ],
        body.into(),
    )
        .into_response()
}

fn not_found() -> Response {
    html(StatusCode::NOT_FOUND, pages::message("先锋广场", "没有找到这个页面", "二维码可能已失效，或这项内容已不再公开。"))
}

/// A form that could not be read: too large (413), or not a form (400).
fn unreadable(unit: &str, rejection: &axum::extract::rejection::FormRejection) -> Response {
    let status = rejection.status();
    if status == StatusCode::PAYLOAD_TOO_LARGE {
        return html(status, pages::message(unit, "提交的内容太长", "请删减后再提交。"));
    }
    html(StatusCode::BAD_REQUEST, pages::message(unit, "提交的内容无法识别", "请返回重新填写。"))
}

fn failed(e: impl std::fmt::Display) -> Response {
    tracing::error!("board: {e}");
    html(StatusCode::SERVICE_UNAVAILABLE, pages::message("先锋广场", "暂时无法处理", "请稍后再试。您提交的内容没有保存。"))
}

/// A unit's name and ledger, if it has a board.
fn unit_ledger(state: &AppState, unit: &str) -> Option<(String, DocumentId)> {
    let org = state.hub.directory.org();
    let u = org.units.get(unit)?;
    Some((u.name.clone(), DocumentId::parse(u.ledger.as_deref()?).ok()?))
}

/// The organisation's time limits for a 差评 and its calendar (settings, else the defaults).
pub(crate) fn case_rules(storage: &crate::Storage) -> CaseRules {
    let days = |key: &str| storage.setting(key).ok().flatten().and_then(|v| v.parse().ok());
    let calendar = storage.setting("work_calendar").ok().flatten().and_then(|v| serde_json::from_str(&v).ok()).unwrap_or_default();
    let d = CaseRules::default();
    CaseRules { acknowledge_days: days("case_acknowledge_days").unwrap_or(d.acknowledge_days), answer_days: days("case_answer_days").unwrap_or(d.answer_days), calendar }
        .check()
        .unwrap_or(d)
}

/// Stores checked rules, all at once.
pub(crate) fn put_case_rules(storage: &crate::Storage, rules: &CaseRules) -> Result<(), String> {
    let calendar = serde_json::to_string(&rules.calendar).map_err(|e| e.to_string())?;
    storage.put_settings(&[("case_acknowledge_days", rules.acknowledge_days.to_string()), ("case_answer_days", rules.answer_days.to_string()), ("work_calendar", calendar)])
}

/// Reads a unit's public records from the read model.
fn read_board(storage: &crate::Storage, doc: &DocumentId) -> Result<PublicBoard, String> {
    fn rows<T: serde::de::DeserializeOwned>(storage: &crate::Storage, doc: &DocumentId, section: Section) -> Result<Vec<T>, String> {
        let mut out = Vec::new();
        storage.each_body(std::slice::from_ref(doc), section, |_, body| {
            // A row that does not read as today's record (an older projection) is left out.
            if let Ok(r) = serde_json::from_str(body) {
                out.push(r);
            }
            Ok(())
        })?;
        Ok(out)
    }
    let posts: Vec<Post> = rows(storage, doc, Section::Posts)?;
    let pledges: Vec<Pledge> = rows(storage, doc, Section::Pledges)?;
    let problems: Vec<Problem> = rows(storage, doc, Section::Problems)?;
    let ratings: Vec<Rating> = rows(storage, doc, Section::Ratings)?;
    Ok(PublicBoard::of(&posts, &pledges, &problems, &ratings, &case_rules(storage)))
}

/// What a one-time code's record is called on its rating form: a problem's title, a visit's
/// day (never whom the cadre visited). None until the record reaches the server.
fn record_title(storage: &crate::Storage, doc: &DocumentId, section: Section, id: &RecordId) -> Option<String> {
    let body = storage.record_body(doc, section, id).ok()??;
    match section {
        Section::Problems => serde_json::from_str::<Problem>(&body).ok().map(|p| p.title),
        _ => serde_json::from_str::<ledger::Visit>(&body).ok().and_then(|v| v.date).map(|d| d.to_string()),
    }
}

/// The unit's board, rendered once per change of its ledger.
async fn rendered(state: &AppState, unit: &str) -> Result<Option<Arc<Rendered>>, String> {
    let Some((name, doc)) = unit_ledger(state, unit) else { return Ok(None) };
    if let Some(r) = state.board.rendered.lock().unwrap_or_else(|e| e.into_inner()).get(&doc) {
        if r.unit == name && r.day == today() {
            return Ok(Some(r.clone()));
        }
    }
    let storage = state.hub.storage.clone();
    let hub = state.hub.clone();
    let org = state.hub.directory.org();
    let base = format!("/b/{unit}");
    let unit = unit.to_owned();
    let r = tokio::task::spawn_blocking(move || -> Result<Rendered, String> {
        let board = read_board(&storage, &doc)?;
        let day = today();
        let awards = publicity::unit_sections(&hub, &org, &unit)?;
        let html = pages::board(&name, &base, &board, &awards, day);
        Ok(Rendered { unit: name, day, board, html: html.into() })
    })
    .await
    .map_err(|e| e.to_string())??;
    let r = Arc::new(r);
    state.board.rendered.lock().unwrap_or_else(|e| e.into_inner()).insert(doc, r.clone());
    Ok(Some(r))
}

async fn board_page(State(state): State<AppState>, Path(unit): Path<String>) -> Response {
    match rendered(&state, &unit).await {
        // The rendered bytes are shared, not copied, per request.
        Ok(Some(r)) => html(StatusCode::OK, r.html.clone()),
        Ok(None) => not_found(),
        Err(e) => failed(e),
    }
}

/// What a poster's rating is about: the post's title or the pledge's content, and more.
fn target_of(board: &PublicBoard, target: &str, id: &str) -> Option<(Target, RecordId, String, String)> {
    let id = RecordId::parse(id)?;
    match target {
        "post" => board.posts.iter().find(|p| p.id == id).map(|p| (Target::Post, id, p.title.clone(), format!("责任人：{}", p.holder))),
        "pledge" => board.pledges.iter().find(|p| p.id == id).map(|p| (Target::Pledge, id, p.content.clone(), format!("承诺人：{}", p.by))),
        _ => None,
    }
}

/// The browser's cookie, if it sent a well-formed one.
fn browser(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|c| c.trim().split_once('='))
        .find(|(k, v)| *k == BROWSER_COOKIE && v.len() == 32 && v.bytes().all(|b| b.is_ascii_hexdigit()))
        .map(|(_, v)| v.to_owned())
}

/// Gives a browser its cookie with the form it will send.
fn with_browser_cookie(mut response: Response, headers: &HeaderMap, https: bool) -> Response {
    if browser(headers).is_none() {
        let mut id = [0u8; 16];
        let _ = getrandom::fill(&mut id);
        let id: String = id.iter().map(|b| format!("{b:02x}")).collect();
        let secure = if https { "; Secure" } else { "" };
        if let Ok(v) = HeaderValue::from_str(&format!("{BROWSER_COOKIE}={id}; Path=/b; Max-Age=31536000; HttpOnly; SameSite=Lax{secure}")) {
            response.headers_mut().append(header::SET_COOKIE, v);
        }
    }
    response
}

async fn rate_page(State(state): State<AppState>, Path((unit, target, id)): Path<(String, String, String)>, headers: HeaderMap, client: Option<Extension<Client>>) -> Response {
    let r = match rendered(&state, &unit).await {
        Ok(Some(r)) => r,
        Ok(None) => return not_found(),
        Err(e) => return failed(e),
    };
    let Some((_, _, what, _)) = target_of(&r.board, &target, &id) else { return not_found() };
    let page = pages::rate_form(&r.unit, &what, &format!("/b/{unit}/rate/{target}/{id}"), &pages::Filled::default());
    with_browser_cookie(html(StatusCode::OK, page), &headers, is_https(&client))
}

/// Why the public's write was not taken, before anything was stored.
enum Turned {
    Busy,
    TooMany,
    AlreadyRated,
}

impl Turned {
    fn response(self, unit: &str) -> Response {
        let (status, title, words) = match self {
            Turned::Busy => (StatusCode::SERVICE_UNAVAILABLE, "系统繁忙", "提交的人较多，请稍后再试。您填写的内容没有保存。"),
            Turned::TooMany => (StatusCode::TOO_MANY_REQUESTS, "提交过于频繁", "请稍后再试。"),
            Turned::AlreadyRated => (StatusCode::TOO_MANY_REQUESTS, "今天已评价过", "每项内容每天可评价一次，感谢您的监督。"),
        };
        let mut r = html(status, pages::message(unit, title, words));
        r.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static(if matches!(status, StatusCode::SERVICE_UNAVAILABLE) { "1" } else { "600" }));
        r
    }
}

/// Counts one write against every limit it falls under; a refusal gives back what it counted.
/// On PostgreSQL the windows of addresses, browsers and targets are counted for every process
/// as well (after this process's own, which also bound its memory under a flood).
async fn admit(board: &Board, client: &Option<Extension<Client>>, headers: &HeaderMap, target: Option<&str>) -> Result<Vec<(&'static str, String)>, Turned> {
    let counted = admit_here(board, client, headers, target)?;
    let Some(storage) = board.shared.clone() else { return Ok(counted) };
    let counts: Vec<WindowCount> = counted
        .iter()
        .filter(|(which, _)| *which != "global")
        .map(|(which, key)| {
            let w = windows(board, which);
            WindowCount { kind: which, key: key.clone(), limit: w.limit(), window: w.window().as_secs() as i64 }
        })
        .collect();
    let now = crate::directory::now_secs();
    let shared = tokio::task::spawn_blocking(move || match storage.count_in_windows(&counts, now) {
        Ok(None) => Ok(()),
        Ok(Some(full)) => Err(Some(counts[full].kind)),
        Err(e) => {
            tracing::warn!("the board's shared count failed: {e}");
            Err(None)
        }
    })
    .await
    .unwrap_or(Err(None));
    match shared {
        Ok(()) => Ok(counted),
        Err(which) => {
            give_back_here(board, counted);
            crate::metrics::board_refused(which.unwrap_or("global"));
            Err(match which {
                Some("browser_target") => Turned::AlreadyRated,
                Some(_) => Turned::TooMany,
                // Storage did not answer: as when everyone writes at once, try again shortly.
                None => Turned::Busy,
            })
        }
    }
}

/// [`admit`]'s count in this process's memory.
fn admit_here(board: &Board, client: &Option<Extension<Client>>, headers: &HeaderMap, target: Option<&str>) -> Result<Vec<(&'static str, String)>, Turned> {
    let now = Instant::now();
    let address = client.as_ref().map_or_else(|| "unknown".to_owned(), |c| c.address.ip().to_string());
    let browser = browser(headers);
    let mut counted: Vec<(&'static str, String)> = Vec::new();
    let mut checks: Vec<(&'static str, String, Turned)> = vec![("address", address, Turned::TooMany)];
    if let Some(b) = &browser {
        checks.push(("browser", b.clone(), Turned::TooMany));
        if let Some(t) = target {
            checks.push(("browser_target", format!("{b}:{t}"), Turned::AlreadyRated));
        }
    }
    checks.push(("global", String::new(), Turned::Busy));
    for (which, key, turned) in checks {
        if !windows(board, which).allow(&key, now) {
            give_back_here(board, counted);
            crate::metrics::board_refused(which);
            return Err(turned);
        }
        counted.push((which, key));
    }
    Ok(counted)
}

/// Gives back what [`admit`] counted for a write that was not stored.
fn give_back(board: &Board, counted: Vec<(&'static str, String)>) {
    if let Some(storage) = board.shared.clone() {
        let shared: Vec<(&'static str, String)> = counted.iter().filter(|(which, _)| *which != "global").cloned().collect();
        // Not waited for: the resident's answer does not depend on it.
        tokio::task::spawn_blocking(move || {
            if let Err(e) = storage.uncount_in_windows(&shared) {
                tracing::warn!("the board's shared count was not given back: {e}");
            }
        });
    }
    give_back_here(board, counted);
}

fn give_back_here(board: &Board, counted: Vec<(&'static str, String)>) {
    for (which, key) in counted {
        windows(board, which).give_back(&key);
    }
}

fn windows<'a>(board: &'a Board, which: &str) -> &'a Windows {
    match which {
        "address" => &board.per_address,
        "browser" => &board.per_browser,
        "browser_target" => &board.per_browser_target,
        _ => &board.global,
    }
}

/// Writes into the unit's ledger as the board, under the ledger's lock; returns once stored.
async fn write<R: Send + 'static>(
    state: &AppState,
    doc: DocumentId,
    edit: impl FnOnce(&mut ledger::UnitLedger) -> Result<R, ledger::LedgerError> + Send + 'static,
) -> Result<R, WriteError> {
    let hub = state.hub.clone();
    tokio::task::spawn_blocking(move || hub.write_as(doc, Writer { write: Write::Board, name: BOARD_NAME, device: None }, edit))
        .await
        .unwrap_or_else(|e| Err(WriteError::Failed(e.to_string())))
}

async fn rate(
    State(state): State<AppState>,
    Path((unit, target, id)): Path<(String, String, String)>,
    headers: HeaderMap,
    client: Option<Extension<Client>>,
    form: Result<Form<RatingForm>, axum::extract::rejection::FormRejection>,
) -> Response {
    let r = match rendered(&state, &unit).await {
        Ok(Some(r)) => r,
        Ok(None) => return not_found(),
        Err(e) => return failed(e),
    };
    let Some((target_kind, target_id, what, _)) = target_of(&r.board, &target, &id) else { return not_found() };
    let form = match form {
        Ok(Form(form)) => form,
        Err(e) => return unreadable(&r.unit, &e),
    };
    let action = format!("/b/{unit}/rate/{target}/{id}");
    let (verdict, comment, phone) = match form.validate() {
        Ok(v) => v,
        Err(e) => {
            let filled = pages::Filled { errors: e.messages(), verdict: &form.verdict, comment: &form.comment, phone: &form.phone };
            return html(StatusCode::BAD_REQUEST, pages::rate_form(&r.unit, &what, &action, &filled));
        }
    };
    let counted = match admit(&state.board, &client, &headers, Some(&format!("{target}:{id}"))).await {
        Ok(c) => c,
        Err(t) => return t.response(&r.unit),
    };
    let Some((_, doc)) = unit_ledger(&state, &unit) else { return not_found() };
    let rating = ValidRating { target: target_kind, target_id, verdict, comment, way: Way::Poster, code_by: String::new() };
    let at = now_ms();
    match write(&state, doc, move |l| l.add_rating(&rating, at)).await {
        Ok(rating_id) => {
            stored_contact(&state, &doc, &rating_id, &phone, at).await;
            crate::metrics::board_stored("rating");
            let link = verdict.is_bad().then(|| format!("/b/{unit}/case/{rating_id}?k={}", state.board.case_key(&doc, &rating_id)));
            html(StatusCode::OK, pages::rated(&r.unit, &format!("/b/{unit}"), link.as_deref()))
        }
        Err(e) => {
            give_back(&state.board, counted);
            write_failed(&r.unit, e)
        }
    }
}

/// Keeps a resident's follow-up phone beside the rating, for the unit's secretary only.
async fn stored_contact(state: &AppState, doc: &DocumentId, rating: &RecordId, phone: &str, at: i64) {
    if phone.is_empty() {
        return;
    }
    let (storage, doc, rating, phone) = (state.hub.storage.clone(), doc.to_string(), rating.to_string(), phone.to_owned());
    let stored = tokio::task::spawn_blocking(move || storage.put_contact(&rating, &doc, &phone, at / 1000)).await;
    if !matches!(stored, Ok(Ok(()))) {
        // The rating itself is stored; only the way to call back is lost, and said so.
        tracing::error!("board: a resident's follow-up phone could not be stored");
    }
}

fn write_failed(unit: &str, e: WriteError) -> Response {
    match e {
        WriteError::Refused(why) => {
            tracing::warn!("board: a write was refused: {why}");
            html(StatusCode::CONFLICT, pages::message(unit, "未能提交", &why))
        }
        WriteError::Failed(why) => failed(why),
    }
}

#[derive(Debug, Default, Deserialize)]
struct AskForm {
    #[serde(default)]
    title: String,
    #[serde(default)]
    detail: String,
    #[serde(default)]
    phone: String,
}

impl AskForm {
    fn validate(&self) -> Result<ProblemDraft, Vec<String>> {
        let mut errors = Vec::new();
        let title = self.title.trim();
        let detail = self.detail.trim();
        if title.is_empty() {
            errors.push("请用一句话说明您要反映的事".to_owned());
        }
        if title.chars().count() > MAX_QUESTION_TITLE {
            errors.push(format!("一句话说明最多 {MAX_QUESTION_TITLE} 字"));
        }
        if detail.chars().count() > MAX_QUESTION_DETAIL {
            errors.push(format!("详细情况最多 {MAX_QUESTION_DETAIL} 字"));
        }
        let phone = phone_digits(&self.phone).unwrap_or_else(|()| {
            errors.push("手机号码格式不对（11 位数字）".to_owned());
            String::new()
        });
        if !errors.is_empty() {
            return Err(errors);
        }
        let draft = ProblemDraft {
            title: title.to_owned(),
            description: detail.to_owned(),
            category: Category::Other,
            raised_by: RaisedBy::Message,
            urgency: Urgency::Normal,
            contact: phone,
            ..Default::default()
        };
        draft.validate().map(|_| draft.clone()).map_err(|e| e.messages())
    }
}

async fn ask_page(State(state): State<AppState>, Path(unit): Path<String>, headers: HeaderMap, client: Option<Extension<Client>>) -> Response {
    let Some((name, _)) = unit_ledger(&state, &unit) else { return not_found() };
    let page = pages::ask_form(&name, &format!("/b/{unit}/ask"), &pages::AskFilled { errors: Vec::new(), title: "", detail: "", phone: "" });
    with_browser_cookie(html(StatusCode::OK, page), &headers, is_https(&client))
}

async fn ask(
    State(state): State<AppState>,
    Path(unit): Path<String>,
    headers: HeaderMap,
    client: Option<Extension<Client>>,
    form: Result<Form<AskForm>, axum::extract::rejection::FormRejection>,
) -> Response {
    let Some((name, doc)) = unit_ledger(&state, &unit) else { return not_found() };
    let form = match form {
        Ok(Form(form)) => form,
        Err(e) => return unreadable(&name, &e),
    };
    let draft = match form.validate() {
        Ok(d) => d,
        Err(errors) => {
            let filled = pages::AskFilled { errors, title: &form.title, detail: &form.detail, phone: &form.phone };
            return html(StatusCode::BAD_REQUEST, pages::ask_form(&name, &format!("/b/{unit}/ask"), &filled));
        }
    };
    let counted = match admit(&state.board, &client, &headers, None).await {
        Ok(c) => c,
        Err(t) => return t.response(&name),
    };
    let at = now_ms();
    let valid = draft.validate().expect("validated above");
    match write(&state, doc, move |l| l.add_problem(&valid, at)).await {
        Ok(_) => {
            crate::metrics::board_stored("message");
            html(StatusCode::OK, pages::asked(&name, &format!("/b/{unit}")))
        }
        Err(e) => {
            give_back(&state.board, counted);
            write_failed(&name, e)
        }
    }
}

#[derive(Debug, Deserialize)]
struct CaseQuery {
    #[serde(default)]
    k: String,
}

/// A resident's 差评 and its case, if the link's key is right.
async fn own_case(state: &AppState, unit: &str, id: &str, key: &str) -> Result<Option<(String, DocumentId, Rating, ledger::board::PublicCase)>, String> {
    let (Some((name, doc)), Some(id)) = (unit_ledger(state, unit), RecordId::parse(id)) else { return Ok(None) };
    if !state.board.case_key_matches(&doc, &id, key) {
        return Ok(None);
    }
    // The board as rendered names what was rated; only the rating itself is read.
    let Some(board) = rendered(state, unit).await? else { return Ok(None) };
    let storage = state.hub.storage.clone();
    let found = tokio::task::spawn_blocking(move || -> Result<Option<(Rating, CaseRules)>, String> {
        let Some(body) = storage.record_body(&doc, Section::Ratings, &id)? else { return Ok(None) };
        Ok(serde_json::from_str::<Rating>(&body).ok().map(|r| (r, case_rules(&storage))))
    })
    .await
    .map_err(|e| e.to_string())??;
    Ok(found.and_then(|(rating, rules)| {
        let case = board.board.case(&rating, &rules)?;
        Some((name, doc, rating, case))
    }))
}

async fn case_page(State(state): State<AppState>, Path((unit, id)): Path<(String, String)>, Query(q): Query<CaseQuery>) -> Response {
    match own_case(&state, &unit, &id, &q.k).await {
        Ok(Some((name, _, rating, case))) => {
            let action = format!("/b/{unit}/case/{id}?k={}", q.k);
            let rechecked = rating.steps.iter().find(|s| s.kind == StepKind::Recheck).and_then(|s| s.verdict);
            let open = rating.allows(StepKind::Recheck).then_some(action.as_str());
            html(StatusCode::OK, pages::case_page(&name, &format!("/b/{unit}"), &case, today(), open, rechecked, &pages::Filled::default()))
        }
        Ok(None) => not_found(),
        Err(e) => failed(e),
    }
}

async fn recheck(
    State(state): State<AppState>,
    Path((unit, id)): Path<(String, String)>,
    Query(q): Query<CaseQuery>,
    headers: HeaderMap,
    client: Option<Extension<Client>>,
    form: Result<Form<RatingForm>, axum::extract::rejection::FormRejection>,
) -> Response {
    let (name, doc, rating, case) = match own_case(&state, &unit, &id, &q.k).await {
        Ok(Some(found)) => found,
        Ok(None) => return not_found(),
        Err(e) => return failed(e),
    };
    let form = match form {
        Ok(Form(form)) => form,
        Err(e) => return unreadable(&name, &e),
    };
    let action = format!("/b/{unit}/case/{id}?k={}", q.k);
    let verdict = ledger::Verdict::from_code(form.verdict.trim());
    let comment = form.comment.trim().to_owned();
    let mut errors = Vec::new();
    if verdict.is_none() {
        errors.push("请选择一项评价".to_owned());
    }
    if comment.chars().count() > ledger::rating::MAX_COMMENT {
        errors.push(format!("意见最多 {} 字", ledger::rating::MAX_COMMENT));
    }
    if !errors.is_empty() {
        let filled = pages::Filled { errors, verdict: &form.verdict, comment: &form.comment, phone: "" };
        return html(StatusCode::BAD_REQUEST, pages::case_page(&name, &format!("/b/{unit}"), &case, today(), Some(&action), None, &filled));
    }
    if !rating.allows(StepKind::Recheck) {
        return html(StatusCode::CONFLICT, pages::message(&name, "不能评价", "单位尚未答复，或您已对答复作出过评价。"));
    }
    let counted = match admit(&state.board, &client, &headers, None).await {
        Ok(c) => c,
        Err(t) => return t.response(&name),
    };
    let id = rating.id.clone();
    let at = now_ms();
    match write(&state, doc, move |l| l.add_case_step(&id, StepKind::Recheck, &comment, verdict, at)).await {
        Ok(()) => {
            crate::metrics::board_stored("recheck");
            let mut response = html(StatusCode::SEE_OTHER, String::new());
            if let Ok(v) = HeaderValue::from_str(&action) {
                response.headers_mut().insert(header::LOCATION, v);
            }
            response
        }
        Err(e) => {
            give_back(&state.board, counted);
            write_failed(&name, e)
        }
    }
}

/// An A4 poster with the QR code of a post's or pledge's rating page.
async fn poster(State(state): State<AppState>, Path((unit, target, id)): Path<(String, String, String)>, headers: HeaderMap, client: Option<Extension<Client>>) -> Response {
    let r = match rendered(&state, &unit).await {
        Ok(Some(r)) => r,
        Ok(None) => return not_found(),
        Err(e) => return failed(e),
    };
    let Some((kind, _, what, detail)) = target_of(&r.board, &target, &id) else { return not_found() };
    let url = format!("{}/b/{unit}/rate/{target}/{id}", origin(&state, &headers, is_https(&client)));
    let Ok(qr) = qrcode::QrCode::new(url.as_bytes()) else { return failed("the poster's address does not fit a QR code") };
    let svg = qr.render::<qrcode::render::svg::Color>().quiet_zone(true).build();
    let heading = match kind {
        Target::Post => "岗位评价",
        _ => "承诺评价",
    };
    static POLICY: std::sync::OnceLock<HeaderValue> = std::sync::OnceLock::new();
    let mut response = html(StatusCode::OK, pages::poster(&r.unit, heading, &what, &detail, &url, &svg));
    response.headers_mut().insert(header::CONTENT_SECURITY_POLICY, POLICY.get_or_init(|| policy(pages::POSTER_STYLE)).clone());
    response
}

#[cfg(test)]
mod tests;
