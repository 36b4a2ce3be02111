//! The page's end of the worker (`app-worker`): starts it, sends it messages once it has said
//! hello, and pairs each answer with the request that asked for it.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;

use futures_channel::oneshot;
use js_sys::Uint8Array;
use ledger::worker_protocol::{self, Answer, FromWorker, ToWorker};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::MessageEvent;

/// Where Trunk puts the worker's loader (`data-loader-shim` in app/index.html).
const WORKER_URL: &str = "/app-worker_loader.js";

#[derive(Clone)]
pub struct WorkerLink(Rc<Link>);

struct Link {
    worker: web_sys::Worker,
    /// Messages sent before the worker said hello (a message before its handler is lost).
    queue: RefCell<Option<Vec<Vec<u8>>>>,
    pending: RefCell<HashMap<u32, oneshot::Sender<Answer>>>,
    next: Cell<u32>,
    _on_message: RefCell<Option<Closure<dyn FnMut(MessageEvent)>>>,
    _on_error: RefCell<Option<Closure<dyn FnMut(JsValue)>>>,
}

impl WorkerLink {
    /// Starts the worker; `on_message` gets everything it says except answers to requests.
    pub fn start(on_message: impl Fn(FromWorker) + 'static) -> Result<Self, String> {
        let on_message = Rc::new(on_message);
        let on_failure = on_message.clone();
        let worker = web_sys::Worker::new(WORKER_URL).map_err(|e| format!("{e:?}"))?;
        let link = Self(Rc::new(Link {
            worker,
            queue: RefCell::new(Some(Vec::new())),
            pending: RefCell::new(HashMap::new()),
            next: Cell::new(1),
            _on_message: RefCell::new(None),
            _on_error: RefCell::new(None),
        }));
        let weak = Rc::downgrade(&link.0);
        let handler = Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
            let Some(link) = weak.upgrade().map(WorkerLink) else { return };
            let bytes = event.data().dyn_ref::<Uint8Array>().map(Uint8Array::to_vec).unwrap_or_default();
            match worker_protocol::decode::<FromWorker>(&bytes) {
                Some(FromWorker::Answer { request, answer }) => {
                    if let Some(reply) = link.0.pending.borrow_mut().remove(&request) {
                        let _ = reply.send(answer);
                    }
                }
                Some(message) => {
                    if matches!(message, FromWorker::Hello { .. }) {
                        link.flush();
                    }
                    on_message(message);
                }
                None => on_message(FromWorker::Broken("应用版本不一致，请刷新页面。".into())),
            }
        });
        link.0.worker.set_onmessage(Some(handler.as_ref().unchecked_ref()));
        // The worker failed (it could not load, or its code stopped on an error): nothing more
        // will be answered. Every waiting save is told (its form stays), and the page says so.
        let weak = Rc::downgrade(&link.0);
        let on_error = Closure::<dyn FnMut(JsValue)>::new(move |event: JsValue| {
            let Some(link) = weak.upgrade() else { return };
            let message = js_sys::Reflect::get(&event, &"message".into()).ok().and_then(|m| m.as_string()).unwrap_or_default();
            // Fatal: the worker never started, or its code trapped (a Rust panic aborts as
            // `unreachable`, and the instance is unusable after). Anything else was one event's
            // handler failing; the worker goes on.
            let started = link.queue.borrow().is_none();
            if started && !message.contains("RuntimeError") && !message.contains("unreachable") {
                web_sys::console::warn_1(&format!("后台线程：{message}").into());
                return;
            }
            link.pending.borrow_mut().clear();
            on_failure(FromWorker::Broken("后台线程出错，台账暂停保存。请刷新页面；已保存的记录不受影响。".into()));
        });
        link.0.worker.set_onerror(Some(on_error.as_ref().unchecked_ref()));
        *link.0._on_message.borrow_mut() = Some(handler);
        *link.0._on_error.borrow_mut() = Some(on_error);
        Ok(link)
    }

    fn flush(&self) {
        let queued = self.0.queue.borrow_mut().take().unwrap_or_default();
        for bytes in queued {
            self.post(&bytes);
        }
    }

    fn post(&self, bytes: &[u8]) {
        let array = Uint8Array::from(bytes);
        let transfer = js_sys::Array::of1(&array.buffer());
        let _ = self.0.worker.post_message_with_transfer(&array, &transfer);
    }

    pub fn send(&self, message: &ToWorker) {
        let bytes = worker_protocol::encode(message);
        let mut queue = self.0.queue.borrow_mut();
        match queue.as_mut() {
            Some(waiting) => waiting.push(bytes),
            None => {
                drop(queue);
                self.post(&bytes);
            }
        }
    }

    /// Hands a photo's file to the worker (the File itself, not its bytes) and waits for the
    /// reference it stored; None before the worker started or once it is gone.
    pub async fn send_photo(&self, file: web_sys::File) -> Option<Answer> {
        if self.0.queue.borrow().is_some() {
            return None;
        }
        let request = self.0.next.get();
        self.0.next.set(request.wrapping_add(1));
        let (reply, answer) = oneshot::channel();
        self.0.pending.borrow_mut().insert(request, reply);
        let _ = self.0.worker.post_message(&js_sys::Array::of2(&JsValue::from(request), &file));
        answer.await.ok()
    }

    /// Sends what `make` builds with a fresh request number and waits for its answer (None if
    /// the worker is gone).
    pub async fn request(&self, make: impl FnOnce(u32) -> ToWorker) -> Option<Answer> {
        let request = self.0.next.get();
        self.0.next.set(request.wrapping_add(1));
        let (reply, answer) = oneshot::channel();
        self.0.pending.borrow_mut().insert(request, reply);
        self.send(&make(request));
        answer.await.ok()
    }
}
