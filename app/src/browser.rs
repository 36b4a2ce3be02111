//! Small browser facts the rest of the app needs: today's date, the clock, persistence.

use chrono::NaiveDate;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

/// Today in the phone's own time zone: visits are dated as the cadre sees the calendar.
pub fn today() -> NaiveDate {
    let d = js_sys::Date::new_0();
    NaiveDate::from_ymd_opt(d.get_full_year() as i32, d.get_month() + 1, d.get_date()).unwrap_or(NaiveDate::MIN)
}

/// The local calendar date of a millisecond timestamp.
pub fn date_of(ms: i64) -> NaiveDate {
    let d = js_sys::Date::new(&(ms as f64).into());
    NaiveDate::from_ymd_opt(d.get_full_year() as i32, d.get_month() + 1, d.get_date()).unwrap_or(NaiveDate::MIN)
}

pub fn now_ms() -> i64 {
    js_sys::Date::now() as i64
}

/// "HH:MM" of a millisecond timestamp, local time.
pub fn clock(ms: i64) -> String {
    let d = js_sys::Date::new(&(ms as f64).into());
    format!("{:02}:{:02}", d.get_hours(), d.get_minutes())
}

/// "YYYY-MM-DD HH:MM" of a millisecond timestamp, local time.
pub fn date_time(ms: i64) -> String {
    let d = js_sys::Date::new(&(ms as f64).into());
    format!("{}-{:02}-{:02} {}", d.get_full_year(), d.get_month() + 1, d.get_date(), clock(ms))
}

/// Asks the browser not to evict our data under storage pressure, once, after the first real
/// save (asking earlier, with nothing saved, is refused by most browsers).
pub async fn request_persistence_once() {
    use crate::settings::PERSISTENCE;
    if PERSISTENCE.get().is_some() {
        return;
    }
    let Some(storage) = web_sys::window().map(|w| w.navigator().storage()) else { return };
    if let Ok(promise) = storage.persist() {
        let granted = JsFuture::from(promise).await.ok().and_then(|v| v.as_bool()).unwrap_or(false);
        PERSISTENCE.set(&(if granted { "granted" } else { "denied" }).to_owned());
    }
}

pub fn reload() {
    if let Some(w) = web_sys::window() {
        let _ = w.location().reload();
    }
}

pub fn set_title(title: &str) {
    if let Some(doc) = web_sys::window().and_then(|w| w.document()) {
        doc.set_title(title);
    }
}

fn performance() -> Option<web_sys::Performance> {
    web_sys::window()?.performance()
}

/// Milliseconds since the page started loading, for User Timing marks.
pub fn perf_now() -> f64 {
    performance().map_or(0.0, |p| p.now())
}

/// Records a User Timing mark (read by the benchmarks in bench/).
pub fn mark(name: &str) {
    if let Some(p) = performance() {
        let _ = p.mark(name);
    }
}

/// Records a User Timing measure from `start` (a `perf_now` reading) to now.
pub fn measure_since(name: &str, start: f64) {
    let Some(p) = performance() else { return };
    let options = js_sys::Object::new();
    let _ = js_sys::Reflect::set(&options, &"start".into(), &start.into());
    let _ = js_sys::Reflect::set(&options, &"end".into(), &p.now().into());
    if let Ok(measure) = js_sys::Reflect::get(&p, &"measure".into()) {
        let _ = js_sys::Function::from(measure).call2(&p, &name.into(), &options);
    }
}

/// Resolves after the browser has had a chance to paint: a frame, then a task.
pub async fn next_paint() {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        let Some(window) = web_sys::window() else {
            let _ = resolve.call0(&wasm_bindgen::JsValue::NULL);
            return;
        };
        let after_frame = wasm_bindgen::closure::Closure::once_into_js(move || {
            if let Some(w) = web_sys::window() {
                let _ = w.set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, 0);
            }
        });
        let _ = window.request_animation_frame(after_frame.unchecked_ref());
    });
    let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
}

/// Resolves once the browser is idle (`requestIdleCallback`: no input waiting, time left before
/// the next frame), or after 300 ms at most: a load or a sync may keep the page busy for
/// seconds, and what waits here should not wait that long. Looked up rather than bound through
/// web-sys: Safari has no `requestIdleCallback`, and there a timeout stands in.
pub async fn idle() {
    use wasm_bindgen::JsCast;
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        let Some(window) = web_sys::window() else {
            let _ = resolve.call0(&wasm_bindgen::JsValue::NULL);
            return;
        };
        let request = js_sys::Reflect::get(&window, &"requestIdleCallback".into()).ok().and_then(|f| f.dyn_into::<js_sys::Function>().ok());
        match request {
            Some(request) => {
                let options = js_sys::Object::new();
                let _ = js_sys::Reflect::set(&options, &"timeout".into(), &300.into());
                let _ = request.call2(&window, &resolve, &options);
            }
            None => {
                let _ = window.set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, 300);
            }
        }
    });
    let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
}

/// Readies the browser's date fields before a screen needs one. The first `<input type="date">`
/// of a page sets up the browser's date formats for the locale: 14 ms at 4x CPU throttling on
/// the benchmarks' machine, every later one under 1 ms. Done once, once the ledger is open and
/// painted (never in the way of the first screen), on an input never shown, so the first form
/// or date filter opened does not pay it.
pub async fn warm_date_fields() {
    static WARMED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
    if WARMED.swap(true, std::sync::atomic::Ordering::Relaxed) {
        return;
    }
    next_paint().await;
    if let Some(input) = web_sys::window().and_then(|w| w.document()).and_then(|d| d.create_element("input").ok()) {
        let _ = input.set_attribute("type", "date");
    }
}

/// Brings the first field in error into view, centred (clear of the top bar and the sticky
/// save bar), and focuses it, once the messages are on screen, unless the person has moved to a
/// field meanwhile.
pub async fn show_first_error() {
    let focused = || web_sys::window().and_then(|w| w.document()).and_then(|d| d.active_element());
    let before = focused();
    next_paint().await;
    // The person has already moved on (tapped into a field): their focus stays where it is.
    if focused() != before {
        return;
    }
    let Some(document) = web_sys::window().and_then(|w| w.document()) else { return };
    let Ok(Some(first)) = document.query_selector(r#"form [aria-invalid="true"], form .field-error"#) else { return };
    let target = if first.matches(r#"[aria-invalid="true"]"#).unwrap_or(false) {
        Some(first)
    } else {
        // A message under a row of chips (a `.choice`, or a field holding one): its first chip.
        first.closest(".choice, .field").ok().flatten().and_then(|c| c.query_selector("button, input, textarea, select").ok().flatten())
    };
    let Some(target) = target else { return };
    let call = |name: &str, options: &js_sys::Object| {
        if let Ok(f) = js_sys::Reflect::get(&target, &name.into()) {
            let _ = js_sys::Function::from(f).call1(&target, options);
        }
    };
    let no_scroll = js_sys::Object::new();
    let _ = js_sys::Reflect::set(&no_scroll, &"preventScroll".into(), &true.into());
    call("focus", &no_scroll);
    let centre = js_sys::Object::new();
    let _ = js_sys::Reflect::set(&centre, &"block".into(), &"center".into());
    call("scrollIntoView", &centre);
}
