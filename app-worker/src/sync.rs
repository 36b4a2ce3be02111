//! Background sync with the server: a WebSocket around `ledger_sync`'s engine, in the worker.
//!
//! One tab of a phone syncs at a time: its worker holds a Web Lock named after the ledger for
//! as long as it lives, and the workers of other tabs wait for it, following what the syncing
//! tab stores (through IndexedDB and a broadcast) and showing the state it broadcasts. When the
//! syncing tab closes, the browser hands the lock to the next one, which connects.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use automerge::sync;
use ledger::worker_protocol::{self, FromWorker, OpenLedger, SyncReport, SyncStatus};
use ledger_sync::{Connection, DocumentId, LocalPeer, Output, SingleDocument};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{BinaryType, BroadcastChannel, MessageEvent, WebSocket};

use crate::host::Host;
use crate::page::{self, post};

/// How long a connection may stay half-open before it is given up and tried again.
const CONNECT_TIMEOUT_MS: u32 = 10_000;
/// What a tab that follows asks the syncing tab on the status channel.
const ASK_STATUS: &str = "status?";

struct State {
    host: Host,
    /// The document as the page names it, in reports.
    document: String,
    doc: Option<DocumentId>,
    url: Option<String>,
    storage_id: String,
    server_storage: RefCell<Option<String>>,
    live: RefCell<Option<Rc<RefCell<Live>>>>,
    /// Reconnect attempts since the last good connection (for backoff).
    attempts: Cell<u32>,
    /// Frames received so far: the ledger is synced once this has stood still for a moment.
    received: Cell<u64>,
    /// Whether this worker holds the ledger's sync lock.
    owner: Cell<bool>,
    /// Erased or stopped for good: no more connections.
    stopped: Cell<bool>,
    report: Cell<SyncReport>,
    status_channel: RefCell<Option<(BroadcastChannel, Closure<dyn FnMut(MessageEvent)>)>>,
}

/// One live connection.
struct Live {
    socket: WebSocket,
    conn: Connection,
    doc: DocumentId,
    remote_storage: Option<String>,
    _handlers: Vec<Closure<dyn FnMut(JsValue)>>,
}

#[derive(Clone)]
pub struct Sync(Rc<State>);

impl Sync {
    pub fn start(host: Host, open: &OpenLedger) -> Self {
        let sync = Self(Rc::new(State {
            host: host.clone(),
            document: open.document.clone(),
            doc: DocumentId::parse(&open.document).ok(),
            url: open.sync_url.clone(),
            storage_id: open.storage_id.clone(),
            server_storage: RefCell::new(open.server_storage.clone()),
            live: RefCell::new(None),
            attempts: Cell::new(0),
            received: Cell::new(0),
            owner: Cell::new(false),
            stopped: Cell::new(open.sync_url.is_none()),
            report: Cell::new(SyncReport { status: SyncStatus::Offline, unsent: 0, owner: false }),
            status_channel: RefCell::new(None),
        }));
        let on_change = sync.clone();
        host.set_change_listener(move || on_change.local_change());
        sync.listen_for_status(&open.document);
        let starting = sync.clone();
        let lock = format!("pioneer-sync:{}", open.document);
        wasm_bindgen_futures::spawn_local(async move {
            if !starting.0.host.loaded().await {
                return;
            }
            starting.clone().refresh_unsent_from_storage().await;
            let owner = starting.clone();
            let locked = hold_lock(&lock, move || {
                owner.0.owner.set(true);
                owner.report(owner.0.report.get().status);
                wasm_bindgen_futures::spawn_local(owner.clone().connect());
            });
            if !locked {
                // No Web Locks in this browser: every tab syncs on its own, as before.
                starting.0.owner.set(true);
                starting.connect().await;
            }
        });
        sync
    }

    fn live(&self) -> Option<Rc<RefCell<Live>>> {
        self.0.live.borrow().clone()
    }

    /// Tells the page where sync stands, and the other tabs too when this one syncs.
    fn report(&self, status: SyncStatus) {
        let report = SyncReport { status, owner: self.0.owner.get(), ..self.0.report.get() };
        self.0.report.set(report);
        if !self.0.owner.get() {
            return;
        }
        self.tell_page(report);
        if let Some((channel, _)) = &*self.0.status_channel.borrow() {
            let bytes = worker_protocol::encode(&report);
            let _ = channel.post_message(&js_sys::Uint8Array::from(&bytes[..]));
        }
    }

    fn tell_page(&self, report: SyncReport) {
        post(&FromWorker::Sync { document: self.0.document.clone(), report });
    }

    fn set_unsent(&self, unsent: usize) {
        let report = self.0.report.get();
        if report.unsent != unsent {
            self.0.report.set(SyncReport { unsent, ..report });
            self.report(report.status);
        }
    }

    /// A tab that follows shows the syncing tab's state; the syncing tab answers when asked.
    fn listen_for_status(&self, document: &str) {
        let Ok(channel) = BroadcastChannel::new(&format!("pioneer-sync-status:{document}")) else { return };
        let sync = self.clone();
        let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
            if event.data().as_string().as_deref() == Some(ASK_STATUS) {
                if sync.0.owner.get() {
                    sync.report(sync.0.report.get().status);
                }
                return;
            }
            if sync.0.owner.get() {
                return;
            }
            let bytes = event.data().dyn_ref::<js_sys::Uint8Array>().map(js_sys::Uint8Array::to_vec).unwrap_or_default();
            if let Some(report) = worker_protocol::decode::<SyncReport>(&bytes) {
                sync.tell_page(SyncReport { owner: false, ..report });
            }
        });
        channel.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        *self.0.status_channel.borrow_mut() = Some((channel, on_message));
    }

    fn ask_status(&self) {
        if let Some((channel, _)) = &*self.0.status_channel.borrow() {
            let _ = channel.post_message(&JsValue::from_str(ASK_STATUS));
        }
    }

    /// The page saw the network come back, came to the foreground, or learnt something about
    /// the device: connect, or say again where sync stands.
    pub fn reconnect(&self) {
        if self.live().is_some() {
            self.refresh_unsent();
            self.settle_later();
        } else if self.0.owner.get() {
            self.0.attempts.set(0);
            wasm_bindgen_futures::spawn_local(self.clone().connect());
        }
    }

    /// The browser is offline: close now rather than wait for a timeout.
    pub fn offline(&self) {
        if let Some(live) = self.live() {
            let _ = live.borrow().socket.close();
        }
    }

    /// No more syncing (the device is being erased).
    pub fn stop(&self) {
        self.0.stopped.set(true);
        self.offline();
    }

    async fn connect(self) {
        if self.live().is_some() || self.0.stopped.get() || !self.0.owner.get() {
            return;
        }
        // Known offline: wait for the page's word that the network is back (a socket to a
        // nearby address may still open, and would then be cut at once).
        if !page::online() {
            return self.report(SyncStatus::Offline);
        }
        self.report(SyncStatus::Connecting);
        let (Some(doc), Some(url)) = (self.0.doc, self.0.url.clone()) else {
            return self.report(SyncStatus::Offline);
        };
        let Ok(socket) = WebSocket::new(&url) else {
            self.report(SyncStatus::Offline);
            return self.retry_later();
        };
        socket.set_binary_type(BinaryType::Arraybuffer);
        let conn = Connection::initiate(LocalPeer { peer_id: format!("browser-{}", DocumentId::random()), storage_id: Some(self.0.storage_id.clone()) });
        let live = Rc::new(RefCell::new(Live { socket: socket.clone(), conn, doc, remote_storage: None, _handlers: Vec::new() }));

        let (opened, received, closed) = (self.clone(), self.clone(), self.clone());
        let on_open = Closure::<dyn FnMut(JsValue)>::new(move |_| {
            // The network may have gone while the socket opened.
            if !page::online() {
                opened.offline();
                return;
            }
            opened.pump()
        });
        let on_message = Closure::<dyn FnMut(JsValue)>::new(move |event: JsValue| {
            let Ok(event) = event.dyn_into::<MessageEvent>() else { return };
            let Ok(buffer) = event.data().dyn_into::<js_sys::ArrayBuffer>() else { return };
            received.receive(&js_sys::Uint8Array::new(&buffer).to_vec());
        });
        let on_close = Closure::<dyn FnMut(JsValue)>::new(move |_| closed.closed());
        socket.set_onopen(Some(on_open.as_ref().unchecked_ref()));
        socket.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        socket.set_onclose(Some(on_close.as_ref().unchecked_ref()));
        live.borrow_mut()._handlers = vec![on_open, on_message, on_close];
        *self.0.live.borrow_mut() = Some(live);
        // A socket that neither opens nor fails (weak signal) is given up after a while.
        wasm_bindgen_futures::spawn_local(async move {
            gloo_timers::future::TimeoutFuture::new(CONNECT_TIMEOUT_MS).await;
            if socket.ready_state() == WebSocket::CONNECTING {
                let _ = socket.close();
            }
        });
    }

    fn closed(&self) {
        let old = self.0.live.borrow_mut().take();
        // Any end may mean this device was retired or lost: the page asks (an HTTP answer says
        // why; a refused WebSocket upgrade cannot). Offline, the question fails quietly.
        post(&FromWorker::CheckDevice);
        if let Some(live) = &old {
            let l = live.borrow();
            l.socket.set_onopen(None);
            l.socket.set_onmessage(None);
            l.socket.set_onclose(None);
        }
        // This runs inside the socket's close handler, which `old` owns: drop it a tick later.
        wasm_bindgen_futures::spawn_local(async move { drop(old) });
        self.report(SyncStatus::Offline);
        self.retry_later();
    }

    /// Exponential backoff with jitter, 1 s to 60 s; the page's word that the network is back
    /// skips the wait.
    fn retry_later(&self) {
        let attempt = self.0.attempts.get().min(6);
        self.0.attempts.set(attempt + 1);
        let base = 1_000u32 << attempt;
        let jitter = (js_sys::Math::random() * f64::from(base) / 2.0) as u32;
        let sync = self.clone();
        wasm_bindgen_futures::spawn_local(async move {
            gloo_timers::future::TimeoutFuture::new(base.min(60_000) + jitter).await;
            if sync.live().is_none() {
                sync.connect().await;
            }
        });
    }

    fn receive(&self, frame: &[u8]) {
        let Some(live) = self.live() else { return };
        live.borrow_mut().conn.receive(frame);
        self.0.received.set(self.0.received.get() + 1);
        if self.0.report.get().status != SyncStatus::Syncing {
            self.report(SyncStatus::Syncing);
        }
        self.pump();
        // A frame that changes nothing (the server's last word, arriving after the ledger was
        // marked synced) leaves no sync state to store: settle from here too, or the status
        // would say 正在同步 until the next change.
        self.settle_later();
    }

    /// A change reached storage (this tab's, or another tab's merged here): offer it.
    fn local_change(&self) {
        self.refresh_unsent();
        let Some(live) = self.live() else { return };
        {
            let mut l = live.borrow_mut();
            let doc = l.doc;
            l.conn.sync_document(doc);
        }
        self.pump();
    }

    /// Carries out what the engine asked for, once the socket is open: a CONNECTING socket
    /// refuses a send, and the first frame the engine gives up is its join, the handshake. A
    /// save while the phone connects would otherwise lose it, and both ends would wait for the
    /// other until the server's idle timeout. The socket's `open` pumps what waited.
    fn pump(&self) {
        let Some(live) = self.live() else { return };
        if live.borrow().socket.ready_state() != WebSocket::OPEN {
            return;
        }
        loop {
            let output = live.borrow_mut().conn.poll_output();
            let Some(output) = output else { break };
            match output {
                Output::Send(frame) => {
                    let _ = live.borrow().socket.send_with_u8_array(&frame);
                }
                Output::Close { .. } => {
                    let _ = live.borrow().socket.close();
                }
                Output::Load { doc } => {
                    // The ledger is this connection's one document, in memory once it has loaded.
                    let sync = self.clone();
                    let live = live.clone();
                    wasm_bindgen_futures::spawn_local(async move {
                        if sync.0.host.loaded().await {
                            {
                                let mut l = live.borrow_mut();
                                sync.0.host.with_ledger(|ledger| l.conn.process(doc, &mut SingleDocument { id: doc, doc: ledger.doc_mut() }));
                            }
                            sync.pump();
                        }
                    });
                }
                Output::RemoteError { message } => {
                    web_sys::console::warn_1(&format!("同步服务器报告：{message}").into());
                }
                Output::Connected { remote_storage, .. } => {
                    self.0.attempts.set(0);
                    // Retired while offline? The server still takes the upload; asked once per connection.
                    post(&FromWorker::CheckDevice);
                    self.report(SyncStatus::Syncing);
                    live.borrow_mut().remote_storage = remote_storage.clone();
                    if let Some(remote) = &remote_storage {
                        *self.0.server_storage.borrow_mut() = Some(remote.clone());
                        post(&FromWorker::ServerStorage(remote.clone()));
                    }
                    let sync = self.clone();
                    let live = live.clone();
                    wasm_bindgen_futures::spawn_local(async move {
                        let doc = live.borrow().doc;
                        if let (Some(store), Some(remote)) = (sync.0.host.store(), remote_storage) {
                            if let Ok(Some(state)) = store.sync_state(&format!("{remote}|{doc}")).await {
                                live.borrow_mut().conn.restore_sync_state(doc, &state);
                            }
                        }
                        live.borrow_mut().conn.sync_document(doc);
                        sync.pump();
                        sync.settle_later();
                    });
                }
                Output::Persist { ticket, .. } => {
                    let sync = self.clone();
                    let live = live.clone();
                    wasm_bindgen_futures::spawn_local(async move {
                        // Acknowledged to the server only once IndexedDB has committed.
                        if sync.0.host.save_remote_changes().await.is_ok() {
                            {
                                let mut l = live.borrow_mut();
                                let doc = l.doc;
                                sync.0.host.with_ledger(|ledger| l.conn.persisted(ticket, &mut SingleDocument { id: doc, doc: ledger.doc_mut() }));
                            }
                            sync.pump();
                        } else {
                            let _ = live.borrow().socket.close();
                        }
                    });
                }
                Output::SyncState { doc, state } => {
                    let remote = live.borrow().remote_storage.clone();
                    if let (Some(store), Some(remote)) = (self.0.host.store(), remote) {
                        wasm_bindgen_futures::spawn_local(async move {
                            let _ = store.put_sync_state(&format!("{remote}|{doc}"), &state).await;
                        });
                    }
                    self.refresh_unsent();
                    self.settle_later();
                }
                Output::Unavailable { .. } => {
                    // The person may no longer use this ledger: the page asks who they are now.
                    post(&FromWorker::CheckDevice);
                }
            }
        }
    }

    /// Marks the ledger synced once no frame has arrived for a moment (only the check of the
    /// last frame counts), nothing waits to be stored and nothing is left to send.
    fn settle_later(&self) {
        let sync = self.clone();
        let received = self.0.received.get();
        wasm_bindgen_futures::spawn_local(async move {
            gloo_timers::future::TimeoutFuture::new(400).await;
            let Some(live) = sync.live() else { return };
            if sync.0.received.get() == received && live.borrow().conn.pending_writes() == 0 && sync.0.report.get().unsent == 0 {
                sync.report(SyncStatus::Synced(page::now_ms()));
                // The records are on the server: their photos may follow.
                crate::photos::kick();
            }
        });
    }

    fn refresh_unsent(&self) {
        let Some(live) = self.live() else {
            wasm_bindgen_futures::spawn_local(self.clone().refresh_unsent_from_storage());
            return;
        };
        let shared = {
            let l = live.borrow();
            l.conn.shared_heads(&l.doc).map(<[_]>::to_vec).unwrap_or_default()
        };
        if let Some(n) = self.0.host.with_ledger(|ledger| ledger.records_changed_since(&shared)) {
            self.set_unsent(n);
        }
    }

    /// While offline: count against what the server had at the last sync.
    async fn refresh_unsent_from_storage(self) {
        let remote = self.0.server_storage.borrow().clone();
        let mut shared = Vec::new();
        if let (Some(remote), Some(doc), Some(store)) = (remote, self.0.doc, self.0.host.store()) {
            if let Ok(Some(bytes)) = store.sync_state(&format!("{remote}|{doc}")).await {
                shared = sync::State::decode(&bytes).map(|s| s.shared_heads).unwrap_or_default();
            }
        }
        if let Some(n) = self.0.host.with_ledger(|l| l.records_changed_since(&shared)) {
            self.0.report.set(SyncReport { unsent: n, ..self.0.report.get() });
            if self.0.owner.get() {
                self.report(self.0.report.get().status);
            } else {
                // A tab that follows shows the syncing tab's state: ask for it again, now that
                // this tab is ready to hear it.
                self.ask_status();
            }
        }
    }
}

/// Asks the browser for the lock named `name`, held until this worker ends; `granted` runs
/// once it is ours. False when the browser has no Web Locks.
fn hold_lock(name: &str, granted: impl FnOnce() + 'static) -> bool {
    let navigator = page::scope().navigator();
    let Ok(locks) = js_sys::Reflect::get(&navigator, &"locks".into()) else { return false };
    let Ok(request) = js_sys::Reflect::get(&locks, &"request".into()).and_then(|r| r.dyn_into::<js_sys::Function>()) else { return false };
    let callback = Closure::once_into_js(move |_lock: JsValue| -> JsValue {
        granted();
        // Never settles: the lock is released only when this worker ends (its tab closed).
        js_sys::Promise::new(&mut |_, _| {}).into()
    });
    request.call2(&locks, &name.into(), &callback).is_ok()
}
