//! Talking to the page that started this worker, and the few browser facts the worker needs.

use chrono::NaiveDate;
use js_sys::Uint8Array;
use ledger::worker_protocol::{self, FromWorker, ToWorker};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{DedicatedWorkerGlobalScope, MessageEvent};

pub fn scope() -> DedicatedWorkerGlobalScope {
    js_sys::global().unchecked_into()
}

/// Sends a message to the page, moving its bytes rather than copying them.
pub fn post(message: &FromWorker) {
    let bytes = worker_protocol::encode(message);
    let array = Uint8Array::from(&bytes[..]);
    let transfer = js_sys::Array::of1(&array.buffer());
    let _ = scope().post_message_with_transfer(&array, &transfer);
}

/// Hands every message from the page to `handler`, and each photo (`[request, File]`) to
/// `photo`. Bytes that are no message (a page from another build) break the ledger rather than
/// being misread.
pub fn listen(handler: impl Fn(ToWorker) + 'static, photo: impl Fn(u32, web_sys::File) + 'static) {
    let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
        let data = event.data();
        if let Some(pair) = data.dyn_ref::<js_sys::Array>() {
            if let (Some(request), Ok(file)) = (pair.get(0).as_f64(), pair.get(1).dyn_into::<web_sys::File>()) {
                photo(request as u32, file);
            }
            return;
        }
        let bytes = data.dyn_ref::<Uint8Array>().map(Uint8Array::to_vec).unwrap_or_default();
        match worker_protocol::decode(&bytes) {
            Some(message) => handler(message),
            None => post(&FromWorker::Broken("应用版本不一致，请刷新页面。".into())),
        }
    });
    scope().set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    on_message.forget();
}

pub fn now_ms() -> i64 {
    js_sys::Date::now() as i64
}

/// Today in the phone's own time zone: records are dated as the cadre sees the calendar.
pub fn today() -> NaiveDate {
    let d = js_sys::Date::new_0();
    NaiveDate::from_ymd_opt(d.get_full_year() as i32, d.get_month() + 1, d.get_date()).unwrap_or(NaiveDate::MIN)
}

/// Whether the browser believes it has a network.
pub fn online() -> bool {
    scope().navigator().on_line()
}
