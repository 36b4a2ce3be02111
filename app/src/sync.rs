//! Sync as the page shows it: the worker (`app-worker`) holds the connection; the page shows
//! where it stands, tells the worker when the network comes back, and asks the server who this
//! device is when the worker says a connection ended (the account lives with the page).

pub use ledger::worker_protocol::SyncStatus;

use ledger::worker_protocol::{FromWorker, SyncBoard, ToWorker};
use leptos::prelude::*;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use crate::service::LedgerService;
use crate::settings::{SERVER_STORAGE, STORAGE_ID};

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
    /// Where every ledger the phone keeps stands: the unit switcher shows each one's records not
    /// yet uploaded, and a retired phone erases once all are uploaded.
    pub board: RwSignal<SyncBoard>,
    shown: StoredValue<String>,
    ledger: LedgerService,
}

impl SyncService {
    /// Sync of the ledger `shown` and of the ledgers `kept` in the background.
    pub fn start(ledger: LedgerService, retired: bool, shown: &str, kept: &[String]) -> Self {
        if retired {
            ledger.stop_writes(RETIRED_NO_WRITES);
        }
        let service = Self {
            status: RwSignal::new(SyncStatus::Offline),
            device: RwSignal::new(if retired { DeviceState::Retired } else { DeviceState::Active }),
            unsent: RwSignal::new(0),
            board: RwSignal::new(SyncBoard::new(std::iter::once(shown).chain(kept.iter().map(String::as_str)))),
            shown: StoredValue::new(shown.to_owned()),
            ledger,
        };
        ledger.set_sync_listener(move |message| service.heard(message));
        service.watch_network();
        service
    }

    fn heard(self, message: FromWorker) {
        match message {
            FromWorker::Sync { document, report } => {
                self.board.try_update(|b| b.heard(&document, report));
                if self.shown.with_value(|s| *s == document) {
                    self.status.try_set(report.status);
                    self.unsent.try_set(report.unsent);
                }
                self.erase_once_uploaded();
            }
            FromWorker::Photos(_) => self.erase_once_uploaded(),
            FromWorker::CheckDevice => leptos::task::spawn_local(self.check_device()),
            FromWorker::ServerStorage(remote) => {
                SERVER_STORAGE.set(&remote);
            }
            _ => {}
        }
    }

    /// A retired device has uploaded everything, from every ledger, photos too: now it erases.
    fn erase_once_uploaded(self) {
        if self.board.with_untracked(SyncBoard::all_uploaded) && self.ledger.photos_uploaded() && self.device.get_untracked() == DeviceState::Retired {
            leptos::task::spawn_local(async move {
                self.ledger.erase().await;
                crate::account::erase_settings(RETIRED_MESSAGE);
                self.device.try_set(DeviceState::Gone(RETIRED_MESSAGE));
            });
        }
    }

    /// Tells the worker to reconnect on the `online` event and when the page comes back into
    /// view, and to close on `offline`.
    fn watch_network(self) {
        let Some(window) = web_sys::window() else { return };
        let retry = Closure::<dyn FnMut()>::new(move || self.ledger.send(&ToWorker::Reconnect));
        let _ = window.add_event_listener_with_callback("online", retry.as_ref().unchecked_ref());
        if let Some(doc) = window.document() {
            let _ = doc.add_event_listener_with_callback("visibilitychange", retry.as_ref().unchecked_ref());
        }
        retry.forget();
        let offline = Closure::<dyn FnMut()>::new(move || self.ledger.send(&ToWorker::Offline));
        let _ = window.add_event_listener_with_callback("offline", offline.as_ref().unchecked_ref());
        offline.forget();
    }

    /// Asks the server who this device is after a connection ended or a ledger was refused:
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
                        self.ledger.send(&ToWorker::Reconnect);
                    }
                }
            }
            crate::account::Answer::NotActivated => {
                self.device.try_set(DeviceState::NotActivated);
            }
            crate::account::Answer::Lost => {
                self.ledger.stop_writes(LOST_MESSAGE);
                self.ledger.erase().await;
                crate::account::erase_settings(LOST_MESSAGE);
                self.device.try_set(DeviceState::Gone(LOST_MESSAGE));
            }
            crate::account::Answer::Unreachable => {}
        }
    }
}

/// This browser's storage id: sync states saved under it survive reloads.
pub fn storage_id() -> String {
    if let Some(id) = STORAGE_ID.get() {
        return id;
    }
    let id = format!("browser-{}", ledger::RecordId::random().as_str());
    STORAGE_ID.set(&id);
    id
}

/// Where the worker syncs: this page's own server.
pub fn sync_url() -> Option<String> {
    let location = web_sys::window()?.location();
    let scheme = if location.protocol().ok()? == "https:" { "wss" } else { "ws" };
    Some(format!("{scheme}://{}/sync", location.host().ok()?))
}
