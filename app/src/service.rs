//! The ledger service: the one place the app's in-memory ledger meets IndexedDB.
//!
//! Every write follows one rule: apply the change in memory, write exactly the new changes as
//! a chunk, and only when the IndexedDB transaction has completed say "saved". If the write
//! fails, memory is rolled back to what storage holds, so the app never shows what a reload
//! would lose.

use std::cell::RefCell;
use std::rc::Rc;

use automerge::{ActorId, ChangeHash};
use leptos::prelude::*;
use ledger_sync::CompactionPolicy;
use ledger::{Enterprise, Pledge, Problem, RecordId, Section, Survey, UnitLedger, Visit};
use wasm_bindgen::prelude::*;

use crate::browser;
use crate::store::{StorageError, Store, StoredDoc};

mod view;

/// The key of this device's unit ledger in storage. The sync issue replaces it with the
/// document id the server assigns.
const LEDGER_KEY: &str = "unit-ledger";
const AUTHOR_KEY: &str = "pioneer.my-name";

#[derive(Debug, Clone, PartialEq)]
pub enum SaveState {
    Idle,
    Saving,
    /// Durable at this time (ms).
    Saved(i64),
    Failed(String),
}

#[derive(Debug, Clone, PartialEq)]
pub enum Phase {
    Opening,
    Ready,
    /// The ledger could not be opened; nothing is written until a reload.
    Broken(String),
}

pub(crate) struct Inner {
    store: Store,
    ledger: UnitLedger,
    /// What storage holds; a save writes the changes after these heads.
    persisted: Vec<ChangeHash>,
    /// The heads the lists on screen reflect; what came after is re-read record by record.
    shown: Vec<ChangeHash>,
    chunk_count: usize,
    chunk_bytes: usize,
    snapshot_bytes: usize,
    _channel: Option<(web_sys::BroadcastChannel, Closure<dyn FnMut(web_sys::MessageEvent)>)>,
}

/// Handle to the ledger, copied freely into components.
#[derive(Clone, Copy)]
pub struct LedgerService {
    inner: StoredValue<Option<Rc<RefCell<Inner>>>, LocalStorage>,
    pub phase: RwSignal<Phase>,
    pub visits: RwSignal<Vec<Visit>>,
    pub problems: RwSignal<Vec<Problem>>,
    pub enterprises: RwSignal<Vec<Enterprise>>,
    pub pledges: RwSignal<Vec<Pledge>>,
    pub surveys: RwSignal<Vec<Survey>>,
    /// Fields that could not be read, shown so nobody silently loses data.
    pub field_problems: RwSignal<Vec<String>>,
    /// The name this device writes into logs and history (我的姓名), kept in localStorage.
    pub author: RwSignal<String>,
    pub save_state: RwSignal<SaveState>,
    /// False while the list shows the cached view and the document is still loading.
    pub live: RwSignal<bool>,
    /// Bumped by every save; a pending cache write goes ahead only if no save came after it.
    view_generation: StoredValue<u64>,
    /// Told after every local change has been saved (the sync client listens).
    on_local_change: StoredValue<Option<Rc<dyn Fn()>>, LocalStorage>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum SaveError {
    Storage(StorageError),
    Ledger(String),
    NotReady,
}

impl std::fmt::Display for SaveError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Storage(e) => e.fmt(f),
            Self::Ledger(e) => f.write_str(e),
            Self::NotReady => f.write_str("台账还没有打开，请稍候再保存。"),
        }
    }
}

impl LedgerService {
    pub fn new() -> Self {
        let service = Self {
            inner: StoredValue::new_local(None),
            phase: RwSignal::new(Phase::Opening),
            visits: RwSignal::new(Vec::new()),
            problems: RwSignal::new(Vec::new()),
            enterprises: RwSignal::new(Vec::new()),
            pledges: RwSignal::new(Vec::new()),
            surveys: RwSignal::new(Vec::new()),
            field_problems: RwSignal::new(Vec::new()),
            author: RwSignal::new(browser::local_setting(AUTHOR_KEY).unwrap_or_default()),
            save_state: RwSignal::new(SaveState::Idle),
            live: RwSignal::new(false),
            view_generation: StoredValue::new(0),
            on_local_change: StoredValue::new_local(None),
        };
        leptos::task::spawn_local(async move { service.open().await });
        service
    }

    async fn open(self) {
        let result = async {
            let store = Store::open().await.map_err(|e| e.to_string())?;
            let stored = store.load(LEDGER_KEY).await.map_err(|e| e.to_string())?;
            browser::mark("pioneer:storage-read");
            let cache_shown = self.show_cached_view(&stored).await;
            let (mut ledger, persisted) = open_ledger(&stored)?;
            ledger.set_author(&self.author.get_untracked());
            // A version 1 ledger gets the version 2 skeleton now, saved with the next write.
            ledger.upgrade().map_err(|e| e.to_string())?;
            browser::mark("pioneer:doc-loaded");
            Ok::<_, String>((store, stored, ledger, persisted, cache_shown))
        }
        .await;
        match result {
            Ok((store, stored, ledger, persisted, cache_shown)) => {
                let cached_heads = stored.view.as_ref().map(|v| v.heads.clone());
                let inner = Rc::new(RefCell::new(Inner {
                    store,
                    ledger,
                    persisted,
                    shown: Vec::new(),
                    chunk_count: stored.chunks.len(),
                    chunk_bytes: stored.chunk_bytes(),
                    snapshot_bytes: stored.snapshot.as_ref().map_or(0, Vec::len),
                    _channel: None,
                }));
                inner.borrow_mut()._channel = self.listen_to_other_tabs();
                self.inner.set_value(Some(inner));
                // A cache written at exactly these heads is what reading the document would
                // give: skip a second or more of reading on a slow phone.
                let cache_current = cache_shown && cached_heads == Some(self.heads_key());
                if cache_current {
                    let i = self.inner().expect("just set");
                    let heads = i.borrow_mut().ledger.heads();
                    i.borrow_mut().shown = heads;
                } else {
                    self.refresh_all();
                }
                browser::mark("pioneer:visits-read");
                self.live.set(true);
                self.phase.set(Phase::Ready);
                browser::mark("pioneer:ledger-open");
                // An empty ledger has nothing to show faster, and a fresh install then writes
                // nothing to storage before the person's first save.
                let empty = self.with_view(|v| v.is_empty()).unwrap_or(true);
                if !cache_current && !empty {
                    // Not at once: the first seconds belong to the person's first taps.
                    self.schedule_view_write(3_000);
                }
            }
            Err(why) => self.phase.set(Phase::Broken(why)),
        }
    }

    fn inner(&self) -> Option<Rc<RefCell<Inner>>> {
        self.inner.try_get_value().flatten()
    }

    /// The ledger once its document has loaded; waits for it if a save comes in earlier.
    pub(crate) async fn loaded(&self) -> Option<Rc<RefCell<Inner>>> {
        for _ in 0..600 {
            if let Some(inner) = self.inner() {
                return Some(inner);
            }
            if matches!(self.phase.try_get_untracked(), Some(Phase::Broken(_)) | None) {
                return None;
            }
            gloo_timers::future::TimeoutFuture::new(50).await;
        }
        None
    }

    /// Remembers the person's name for logs and history on this device.
    pub fn set_author(&self, name: &str) {
        let name = name.trim().to_owned();
        browser::set_local_setting(AUTHOR_KEY, &name);
        if let Some(inner) = self.inner() {
            inner.borrow_mut().ledger.set_author(&name);
        }
        self.author.set(name);
    }


    pub fn visit(&self, id: &RecordId) -> Option<Visit> {
        self.visits.with(|all| all.iter().find(|v| v.id == *id).cloned())
    }

    pub async fn set_deleted(self, section: Section, id: RecordId, deleted: bool) -> Result<RecordId, SaveError> {
        self.write(move |l, now| l.set_deleted(section, &id, deleted, now).map(|()| id)).await
    }

    /// Applies `change` in memory and makes it durable, rolling memory back if storage fails.
    pub async fn write(
        self,
        change: impl FnOnce(&mut UnitLedger, i64) -> Result<RecordId, ledger::LedgerError>,
    ) -> Result<RecordId, SaveError> {
        let inner = self.loaded().await.ok_or(SaveError::NotReady)?;
        let started = browser::perf_now();
        let (store, before, id, chunk) = {
            let mut i = inner.borrow_mut();
            let before = i.ledger.heads();
            let id = match change(&mut i.ledger, browser::now_ms()) {
                Ok(id) => id,
                Err(e) => {
                    // Refused input must leave nothing half-written behind for the next commit.
                    i.ledger.doc_mut().rollback();
                    return Err(SaveError::Ledger(e.to_string()));
                }
            };
            let persisted = i.persisted.clone();
            let chunk = i.ledger.save_after(&persisted);
            (i.store.clone(), before, id, chunk)
        };
        self.save_state.set(SaveState::Saving);
        match store.append_chunk(LEDGER_KEY, &chunk).await {
            Ok(()) => {
                {
                    let mut i = inner.borrow_mut();
                    i.persisted = i.ledger.heads();
                    i.chunk_count += 1;
                    i.chunk_bytes += chunk.len();
                }
                self.refresh_changed();
                self.save_state.set(SaveState::Saved(browser::now_ms()));
                browser::measure_since("pioneer:save", started);
                if let Some((channel, _)) = &inner.borrow()._channel {
                    let _ = channel.post_message(&JsValue::from_str("changed"));
                }
                self.schedule_view_write(1_500);
                if let Some(listener) = self.on_local_change.try_get_value().flatten() {
                    listener();
                }
                leptos::task::spawn_local(async move {
                    browser::request_persistence_once().await;
                    self.compact_if_due().await;
                });
                Ok(id)
            }
            Err(e) => {
                let rolled_back = inner.borrow_mut().ledger.rollback_to(&before);
                if let Err(why) = rolled_back {
                    self.phase.set(Phase::Broken(why.to_string()));
                }
                self.refresh_all();
                self.save_state.set(SaveState::Failed(e.to_string()));
                Err(SaveError::Storage(e))
            }
        }
    }

    /// Runs `f` on the loaded ledger (None while it is still loading).
    pub fn with_ledger<R>(&self, f: impl FnOnce(&mut UnitLedger) -> R) -> Option<R> {
        let inner = self.inner()?;
        let mut i = inner.borrow_mut();
        Some(f(&mut i.ledger))
    }

    pub fn set_local_change_listener(&self, listener: impl Fn() + 'static) {
        self.on_local_change.set_value(Some(Rc::new(listener)));
    }

    pub fn store(&self) -> Option<Store> {
        self.inner().map(|i| i.borrow().store.clone())
    }

    /// Makes changes that arrived from the server durable, then shows them.
    pub async fn save_remote_changes(self, changes: Vec<u8>) -> Result<(), StorageError> {
        let Some(inner) = self.inner() else { return Err(StorageError::Failed("台账未打开".into())) };
        let store = inner.borrow().store.clone();
        store.append_chunk(LEDGER_KEY, &changes).await?;
        {
            let mut i = inner.borrow_mut();
            i.chunk_count += 1;
            i.chunk_bytes += changes.len();
        }
        self.refresh_changed();
        self.schedule_view_write(1_500);
        if let Some((channel, _)) = &inner.borrow()._channel {
            let _ = channel.post_message(&JsValue::from_str("changed"));
        }
        leptos::task::spawn_local(self.compact_if_due());
        Ok(())
    }

    async fn compact_if_due(self) {
        let Some(inner) = self.inner() else { return };
        let (due, store) = {
            let i = inner.borrow();
            (CompactionPolicy::default().should_compact(i.chunk_count, i.chunk_bytes, i.snapshot_bytes), i.store.clone())
        };
        if !due {
            return;
        }
        let mut snapshot_len = 0;
        let result = store
            .compact(LEDGER_KEY, |chunks| {
                let mut i = inner.borrow_mut();
                for (_, bytes) in chunks {
                    let _ = i.ledger.load_incremental(bytes);
                }
                let snapshot = i.ledger.save();
                snapshot_len = snapshot.len();
                snapshot
            })
            .await;
        if result.is_ok() {
            let mut i = inner.borrow_mut();
            i.persisted = i.ledger.heads();
            i.chunk_count = 0;
            i.chunk_bytes = 0;
            i.snapshot_bytes = snapshot_len;
        }
        // A failed compaction loses nothing: the chunks are still there and the next save retries.
    }

    /// Another tab saved: merge whatever storage holds now.
    async fn reload_from_store(self) {
        let Some(inner) = self.inner() else { return };
        let store = inner.borrow().store.clone();
        let Ok(stored) = store.load(LEDGER_KEY).await else { return };
        {
            let mut i = inner.borrow_mut();
            if let Some(snapshot) = &stored.snapshot {
                let _ = i.ledger.load_incremental(snapshot);
            }
            for (_, chunk) in &stored.chunks {
                let _ = i.ledger.load_incremental(chunk);
            }
            // Everything just loaded came from storage, and our own saves are all durable.
            i.persisted = i.ledger.heads();
            i.chunk_count = stored.chunks.len();
            i.chunk_bytes = stored.chunk_bytes();
        }
        self.refresh_changed();
        self.schedule_view_write(1_500);
    }

    fn listen_to_other_tabs(self) -> Option<(web_sys::BroadcastChannel, Closure<dyn FnMut(web_sys::MessageEvent)>)> {
        let channel = browser::tabs_channel()?;
        let on_message = Closure::<dyn FnMut(web_sys::MessageEvent)>::new(move |_| {
            leptos::task::spawn_local(self.reload_from_store());
        });
        channel.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        Some((channel, on_message))
    }
}

/// Builds the in-memory ledger from what storage holds. Each page load writes as a fresh
/// actor: two tabs open at once must never write the same actor's sequence numbers.
fn open_ledger(stored: &StoredDoc) -> Result<(UnitLedger, Vec<ChangeHash>), String> {
    let actor = ActorId::random();
    let mut ledger = match &stored.snapshot {
        Some(bytes) => UnitLedger::load(bytes, actor).map_err(|e| e.to_string())?,
        None => UnitLedger::create(actor),
    };
    for (_, chunk) in &stored.chunks {
        ledger.load_incremental(chunk).map_err(|e| e.to_string())?;
    }
    // A ledger never saved has nothing in storage: its first chunk carries the skeleton too.
    let persisted = if stored.snapshot.is_none() && stored.chunks.is_empty() { Vec::new() } else { ledger.heads() };
    Ok((ledger, persisted))
}
