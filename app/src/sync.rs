//! Background sync with the server: a browser WebSocket around `ledger`'s sync engine.
//! It never blocks the person: local saves go to IndexedDB first; this only moves them to
//! the server when there is a network, and brings back what others wrote.

use std::cell::RefCell;
use std::rc::Rc;

use automerge::sync;
use ledger_sync::{Connection, DocumentId, LocalPeer, Output, SingleDocument};
use leptos::prelude::*;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{BinaryType, MessageEvent, WebSocket};

use crate::browser;
use crate::service::LedgerService;
use crate::settings::{SELECTED_LEDGER, SERVER_STORAGE, STORAGE_ID};

/// How long a connection may stay half-open before it is given up and tried again.
const CONNECT_TIMEOUT_MS: u32 = 10_000;

#[derive(Debug, Clone, PartialEq)]
pub enum SyncStatus {
    /// No network, or the server cannot be reached.
    Offline,
    Connecting,
    Syncing,
    /// In step with the server as of this time (ms).
    Synced(i64),
}

/// Where this device stands with the server.
#[derive(Debug, Clone, PartialEq)]
pub enum DeviceState {
    Active,
    /// Retired by an admin: upload what is left, then erase.
    Retired,
    /// The server no longer knows this device: it works offline, and syncs again once
    /// activated anew.
    NotActivated,
    /// Erased (retired after its last upload, or reported lost): why.
    Gone(&'static str),
}

pub const RETIRED_MESSAGE: &str = "此设备已停用：未上传的记录已全部上传，本机数据已清除。";
/// What a save says once the device knows it is retired, before its last upload is done.
pub const RETIRED_NO_WRITES: &str = "此设备已停用，不能再记录新内容。之前保存的记录正在上传，上传完成后本机数据将被清除。";
pub const LOST_MESSAGE: &str = "此设备已被报告丢失，不再同步；本机数据已清除。";

/// The sync state shown in the top bar.
#[derive(Clone, Copy)]
pub struct SyncService {
    pub status: RwSignal<SyncStatus>,
    pub device: RwSignal<DeviceState>,
    /// Local changes the server is not known to have.
    pub unsent: RwSignal<usize>,
    state: StoredValue<Option<Rc<RefCell<Live>>>, LocalStorage>,
    /// Reconnect attempts since the last good connection (for backoff).
    attempts: StoredValue<u32>,
    ledger: LedgerService,
}

/// One live connection.
struct Live {
    socket: WebSocket,
    conn: Connection,
    doc: DocumentId,
    remote_storage: Option<String>,
    _handlers: Vec<Closure<dyn FnMut(JsValue)>>,
}

/// This browser's storage id: sync states saved under it survive reloads.
fn storage_id() -> String {
    if let Some(id) = STORAGE_ID.get() {
        return id;
    }
    let id = format!("browser-{}", DocumentId::random());
    STORAGE_ID.set(&id);
    id
}

impl SyncService {
    pub fn start(ledger: LedgerService, retired: bool) -> Self {
        if retired {
            ledger.stop_writes(RETIRED_NO_WRITES);
        }
        let service = Self {
            status: RwSignal::new(SyncStatus::Offline),
            device: RwSignal::new(if retired { DeviceState::Retired } else { DeviceState::Active }),
            unsent: RwSignal::new(0),
            state: StoredValue::new_local(None),
            attempts: StoredValue::new(0),
            ledger,
        };
        ledger.set_local_change_listener(move || service.local_change());
        service.watch_network();
        leptos::task::spawn_local(async move {
            if ledger.loaded().await.is_some() {
                service.refresh_unsent_from_storage().await;
                service.connect().await;
            }
        });
        service
    }

    fn live(&self) -> Option<Rc<RefCell<Live>>> {
        self.state.try_get_value().flatten()
    }

    /// Reconnects on the `online` event and when the page comes back into view.
    fn watch_network(self) {
        let Some(window) = web_sys::window() else { return };
        let retry = Closure::<dyn FnMut()>::new(move || {
            if self.live().is_none() {
                self.attempts.set_value(0);
                leptos::task::spawn_local(self.connect());
            }
        });
        let _ = window.add_event_listener_with_callback("online", retry.as_ref().unchecked_ref());
        if let Some(doc) = window.document() {
            let _ = doc.add_event_listener_with_callback("visibilitychange", retry.as_ref().unchecked_ref());
        }
        retry.forget();
        let offline = Closure::<dyn FnMut()>::new(move || {
            if let Some(live) = self.live() {
                let _ = live.borrow().socket.close();
            }
        });
        let _ = window.add_event_listener_with_callback("offline", offline.as_ref().unchecked_ref());
        offline.forget();
    }

    /// The ledger's document id, as the account chose it.
    fn ledger_id(&self) -> Option<DocumentId> {
        let id = SELECTED_LEDGER.get()?;
        DocumentId::parse(&id).ok()
    }

    /// Asks the server who this device is after a connection failed or a ledger was refused:
    /// lost devices erase at once, retired ones finish their upload first.
    async fn check_device(self) {
        match crate::account::fetch_me().await {
            crate::account::Answer::Me(json) => {
                if let Some(me) = crate::account::remember(&json) {
                    if me.device_status == "retired" && self.device.get_untracked() == DeviceState::Active {
                        // From now on nothing new is taken (after a reload too): what was saved is
                        // uploaded, then erased.
                        crate::account::mark_retired();
                        self.ledger.stop_writes(RETIRED_NO_WRITES);
                        self.device.try_set(DeviceState::Retired);
                        self.settle_later();
                    }
                }
            }
            crate::account::Answer::NotActivated => {
                self.device.try_set(DeviceState::NotActivated);
            }
            crate::account::Answer::Lost => {
                self.ledger.stop_writes(LOST_MESSAGE);
                crate::account::erase_everything(LOST_MESSAGE).await;
                self.device.try_set(DeviceState::Gone(LOST_MESSAGE));
            }
            crate::account::Answer::Unreachable => {}
        }
    }

    async fn connect(self) {
        if self.live().is_some() || matches!(self.device.get_untracked(), DeviceState::Gone(_) | DeviceState::NotActivated) {
            return;
        }
        // Known offline: wait for the `online` event (a socket to a nearby address may still
        // open, and would then be cut at once).
        if web_sys::window().is_some_and(|w| !w.navigator().on_line()) {
            self.status.set(SyncStatus::Offline);
            return;
        }
        self.status.set(SyncStatus::Connecting);
        let Some(doc) = self.ledger_id() else {
            self.status.set(SyncStatus::Offline);
            return self.retry_later();
        };
        let Some(url) = sync_url() else { return };
        let Ok(socket) = WebSocket::new(&url) else {
            self.status.set(SyncStatus::Offline);
            return self.retry_later();
        };
        socket.set_binary_type(BinaryType::Arraybuffer);
        let conn = Connection::initiate(LocalPeer { peer_id: format!("browser-{}", DocumentId::random()), storage_id: Some(storage_id()) });
        let live = Rc::new(RefCell::new(Live { socket: socket.clone(), conn, doc, remote_storage: None, _handlers: Vec::new() }));

        // The `offline` event may come while no socket is live; a socket that opens then is
        // closed at once.
        let on_open = Closure::<dyn FnMut(JsValue)>::new(move |_| {
            if web_sys::window().is_some_and(|w| !w.navigator().on_line()) {
                if let Some(live) = self.live() {
                    let _ = live.borrow().socket.close();
                }
                return;
            }
            self.pump()
        });
        let on_message = Closure::<dyn FnMut(JsValue)>::new(move |event: JsValue| {
            let Ok(event) = event.dyn_into::<MessageEvent>() else { return };
            let Ok(buffer) = event.data().dyn_into::<js_sys::ArrayBuffer>() else { return };
            let frame = js_sys::Uint8Array::new(&buffer).to_vec();
            self.receive(&frame);
        });
        let on_close = Closure::<dyn FnMut(JsValue)>::new(move |_| self.closed());
        socket.set_onopen(Some(on_open.as_ref().unchecked_ref()));
        socket.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        socket.set_onclose(Some(on_close.as_ref().unchecked_ref()));
        live.borrow_mut()._handlers = vec![on_open, on_message, on_close];
        self.state.set_value(Some(live));
        // A socket that neither opens nor fails (weak signal) is given up after a while.
        leptos::task::spawn_local(async move {
            gloo_timers::future::TimeoutFuture::new(CONNECT_TIMEOUT_MS).await;
            if socket.ready_state() == WebSocket::CONNECTING {
                let _ = socket.close();
            }
        });
    }

    fn closed(self) {
        let old = self.state.try_get_value().flatten();
        // Any end may mean this device was retired or lost: ask (an HTTP answer says why; a
        // refused WebSocket upgrade cannot). Offline, the question fails quietly.
        leptos::task::spawn_local(self.check_device());
        if let Some(live) = &old {
            let l = live.borrow();
            l.socket.set_onopen(None);
            l.socket.set_onmessage(None);
            l.socket.set_onclose(None);
        }
        self.state.set_value(None);
        // This runs inside the socket's close handler, which `old` owns: drop it a tick later.
        leptos::task::spawn_local(async move { drop(old) });
        self.status.try_set(SyncStatus::Offline);
        self.retry_later();
    }

    /// Exponential backoff with jitter, 1 s to 60 s; `online` and visibility skip the wait.
    fn retry_later(self) {
        let attempt = self.attempts.get_value().min(6);
        self.attempts.set_value(attempt + 1);
        let base = 1_000u32 << attempt;
        let jitter = (js_sys::Math::random() * f64::from(base) / 2.0) as u32;
        leptos::task::spawn_local(async move {
            gloo_timers::future::TimeoutFuture::new(base.min(60_000) + jitter).await;
            if self.state.try_get_value().flatten().is_none() {
                self.connect().await;
            }
        });
    }

    fn receive(self, frame: &[u8]) {
        let Some(live) = self.live() else { return };
        live.borrow_mut().conn.receive(frame);
        self.status.set(SyncStatus::Syncing);
        self.pump();
    }

    /// A local save: offer it to the server.
    fn local_change(self) {
        self.refresh_unsent();
        let Some(live) = self.live() else { return };
        {
            let mut l = live.borrow_mut();
            let doc = l.doc;
            l.conn.sync_document(doc);
        }
        self.pump();
    }

    /// Carries out what the engine asked for.
    fn pump(self) {
        let Some(live) = self.live() else { return };
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
                    // The ledger is this connection's one document, in memory once it has
                    // opened; a large one may still be loading when the server first speaks.
                    let done = {
                        let mut l = live.borrow_mut();
                        self.ledger.with_ledger(|ledger| l.conn.process(doc, &mut SingleDocument { id: doc, doc: ledger.doc_mut() }))
                    };
                    if done.is_none() {
                        let live = live.clone();
                        leptos::task::spawn_local(async move {
                            if self.ledger.loaded().await.is_some() {
                                {
                                    let mut l = live.borrow_mut();
                                    self.ledger.with_ledger(|ledger| l.conn.process(doc, &mut SingleDocument { id: doc, doc: ledger.doc_mut() }));
                                }
                                self.pump();
                            }
                        });
                    }
                }
                Output::RemoteError { message } => {
                    leptos::logging::warn!("同步服务器报告：{message}");
                }
                Output::Connected { remote_storage, .. } => {
                    self.attempts.set_value(0);
                    // Retired while offline? The server still takes the upload; ask once per connection.
                    leptos::task::spawn_local(self.check_device());
                    self.status.set(SyncStatus::Syncing);
                    live.borrow_mut().remote_storage = remote_storage.clone();
                    if let Some(remote) = &remote_storage {
                        SERVER_STORAGE.set(remote);
                    }
                    let live = live.clone();
                    leptos::task::spawn_local(async move {
                        let doc = live.borrow().doc;
                        if let (Some(store), Some(remote)) = (self.ledger.store(), remote_storage) {
                            if let Ok(Some(state)) = store.sync_state(&format!("{remote}|{doc}")).await {
                                live.borrow_mut().conn.restore_sync_state(doc, &state);
                            }
                        }
                        live.borrow_mut().conn.sync_document(doc);
                        self.pump();
                        self.settle_later();
                    });
                }
                Output::Persist { ticket, .. } => {
                    let live = live.clone();
                    leptos::task::spawn_local(async move {
                        // Acknowledged to the server only once IndexedDB has committed.
                        if self.ledger.save_remote_changes().await.is_ok() {
                            {
                                let mut l = live.borrow_mut();
                                let doc = l.doc;
                                self.ledger.with_ledger(|ledger| l.conn.persisted(ticket, &mut SingleDocument { id: doc, doc: ledger.doc_mut() }));
                            }
                            self.pump();
                        } else {
                            let _ = live.borrow().socket.close();
                        }
                    });
                }
                Output::SyncState { doc, state } => {
                    let remote = live.borrow().remote_storage.clone();
                    if let (Some(store), Some(remote)) = (self.ledger.store(), remote) {
                        leptos::task::spawn_local(async move {
                            let _ = store.put_sync_state(&format!("{remote}|{doc}"), &state).await;
                        });
                    }
                    self.refresh_unsent();
                    self.settle_later();
                }
                Output::Unavailable { .. } => {
                    // The person may no longer use this ledger: ask who they are now.
                    leptos::task::spawn_local(self.check_device());
                }
            }
        }
    }

    /// Marks the ledger synced once no message has moved for a moment.
    fn settle_later(self) {
        leptos::task::spawn_local(async move {
            gloo_timers::future::TimeoutFuture::new(400).await;
            let Some(live) = self.live() else { return };
            if live.borrow().conn.pending_writes() == 0 && self.unsent.get_untracked() == 0 {
                self.status.try_set(SyncStatus::Synced(browser::now_ms()));
                // A retired device has uploaded everything: now it erases.
                if self.device.get_untracked() == DeviceState::Retired {
                    let _ = live.borrow().socket.close();
                    crate::account::erase_everything(RETIRED_MESSAGE).await;
                    self.device.try_set(DeviceState::Gone(RETIRED_MESSAGE));
                }
            }
        });
    }

    fn refresh_unsent(self) {
        let Some(live) = self.live() else {
            leptos::task::spawn_local(self.refresh_unsent_from_storage());
            return;
        };
        let l = live.borrow();
        let shared = l.conn.shared_heads(&l.doc).map(<[_]>::to_vec).unwrap_or_default();
        if let Some(n) = self.ledger.with_ledger(|ledger| ledger.records_changed_since(&shared)) {
            self.unsent.try_set(n);
        }
    }

    /// While offline: count against what the server had at the last sync.
    async fn refresh_unsent_from_storage(self) {
        let remembered = SERVER_STORAGE.get().zip(SELECTED_LEDGER.get());
        let mut shared = Vec::new();
        if let (Some((remote, doc)), Some(store)) = (remembered, self.ledger.store()) {
            if let Ok(Some(bytes)) = store.sync_state(&format!("{remote}|{doc}")).await {
                shared = sync::State::decode(&bytes).map(|s| s.shared_heads).unwrap_or_default();
            }
        }
        if let Some(n) = self.ledger.with_ledger(|l| l.records_changed_since(&shared)) {
            self.unsent.set(n);
        }
    }
}

fn sync_url() -> Option<String> {
    let location = web_sys::window()?.location();
    let scheme = if location.protocol().ok()? == "https:" { "wss" } else { "ws" };
    Some(format!("{scheme}://{}/sync", location.host().ok()?))
}
