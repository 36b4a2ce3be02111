//! The ledger service: the one place the app's in-memory ledger meets IndexedDB.
//!
//! Every write follows one rule: apply the change in memory, write everything memory holds
//! beyond storage as a chunk, and only when the IndexedDB transaction has completed say
//! "saved". If the write fails, memory is rolled back to what storage holds, so the app never
//! shows what a reload would lose. Writes of this tab (local saves, changes from the server,
//! compaction) take turns in one queue; other tabs are other writers, and compaction follows
//! `ledger_sync`'s state machine so no tab's chunk is ever deleted unmerged.

use std::cell::RefCell;
use std::rc::Rc;

use automerge::{ActorId, ChangeHash};
use ledger::org::Write;
use ledger::{Command, Enterprise, Pledge, Problem, RecordId, Section, Survey, UnitLedger, Visit};
use ledger_sync::compaction::{CompactionPolicy, Compactor, Outcome};
use leptos::prelude::*;
use wasm_bindgen::prelude::*;

use crate::browser;
use crate::store::{StorageError, Store, StoredDoc};

mod view;

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
    compactor: Compactor<u64>,
    /// Held by every write to storage, so writes take turns and `persisted` moves in order.
    writing: Rc<futures_util::lock::Mutex<()>>,
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
    /// The name written into logs and history: the person this phone was activated for.
    pub author: RwSignal<String>,
    /// Where this ledger lives in IndexedDB ([`crate::account::storage_key`]).
    key: StoredValue<String>,
    pub save_state: RwSignal<SaveState>,
    /// False while the list shows the cached view and the document is still loading.
    pub live: RwSignal<bool>,
    /// Bumped by every save; a pending cache write goes ahead only if no save came after it.
    view_generation: StoredValue<u64>,
    /// Told after every local change has been saved (the sync client listens).
    on_local_change: StoredValue<Option<Rc<dyn Fn()>>, LocalStorage>,
    /// What this person may write in this ledger. Every local change is checked with the rule
    /// the server applies (`ledger::write_scope`) before it is saved: a change the server would
    /// refuse is never kept, so it can never hold up the sync of everything after it.
    write: StoredValue<Write>,
    /// Why this device takes no more writes (it was retired or lost), once it knows.
    stopped: StoredValue<Option<&'static str>>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum SaveError {
    Storage(StorageError),
    Ledger(String),
    NotReady,
}

/// Why a change to a ledger this person only reads (a supervisor's) was not saved.
pub const READ_ONLY: &str = "督查账号在手机上只能查看这本台账，这项修改没有保存。";

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
    pub fn new(key: String, author: String, write: Write) -> Self {
        let service = Self {
            inner: StoredValue::new_local(None),
            phase: RwSignal::new(Phase::Opening),
            visits: RwSignal::new(Vec::new()),
            problems: RwSignal::new(Vec::new()),
            enterprises: RwSignal::new(Vec::new()),
            pledges: RwSignal::new(Vec::new()),
            surveys: RwSignal::new(Vec::new()),
            field_problems: RwSignal::new(Vec::new()),
            author: RwSignal::new(author),
            key: StoredValue::new(key),
            save_state: RwSignal::new(SaveState::Idle),
            live: RwSignal::new(false),
            view_generation: StoredValue::new(0),
            on_local_change: StoredValue::new_local(None),
            write: StoredValue::new(write),
            stopped: StoredValue::new(None),
        };
        leptos::task::spawn_local(async move { service.open().await });
        service
    }

    async fn open(self) {
        let result = async {
            let store = Store::open().await.map_err(|e| e.to_string())?;
            let stored = store.load(&self.key()).await.map_err(|e| e.to_string())?;
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
                let mut compactor = Compactor::new(CompactionPolicy::default());
                compactor.loaded(stored.tag, stored.snapshot.as_ref().map_or(0, Vec::len), stored.chunks.iter().map(|(k, c)| (*k, c.len())));
                let inner =
                    Rc::new(RefCell::new(Inner { store, ledger, persisted, shown: Vec::new(), compactor, writing: Rc::new(futures_util::lock::Mutex::new(())), _channel: None }));
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

    /// The storage key of this ledger.
    pub(crate) fn key(&self) -> String {
        self.key.get_value()
    }

    pub fn visit(&self, id: &RecordId) -> Option<Visit> {
        self.visits.with(|all| all.iter().find(|v| v.id == *id).cloned())
    }

    pub async fn set_deleted(self, section: Section, id: RecordId, deleted: bool) -> Result<RecordId, SaveError> {
        self.apply(Command::SetDeleted { section, id, deleted }).await
    }

    /// Applies a person's change (a form saved, a button pressed) and makes it durable.
    pub async fn apply(self, command: Command) -> Result<RecordId, SaveError> {
        self.write(move |l, now| command.apply(l, now, browser::today())).await
    }

    /// Takes no more writes from now on, saying `why`: the device was retired (what it holds
    /// is still uploaded) or lost. Nothing written before is touched.
    pub fn stop_writes(self, why: &'static str) {
        self.stopped.set_value(Some(why));
    }

    /// Applies `change` in memory and makes it durable, rolling memory back if storage fails.
    async fn write(self, change: impl FnOnce(&mut UnitLedger, i64) -> Result<RecordId, ledger::LedgerError>) -> Result<RecordId, SaveError> {
        if let Some(why) = self.stopped.get_value() {
            return Err(SaveError::Ledger(why.into()));
        }
        let inner = self.loaded().await.ok_or(SaveError::NotReady)?;
        let writing = inner.borrow().writing.clone();
        let _turn = writing.lock().await;
        let started = browser::perf_now();
        let (store, before, id, chunk, heads) = {
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
            // The server's own check, so the phone never keeps a change the server refuses.
            let write = self.write.get_value();
            let changes = i.ledger.doc_mut().get_changes(&before);
            let author = self.author.get_untracked();
            if let Err(why) = ledger::write_scope::check(i.ledger.doc(), &changes, ledger::write_scope::Sender { write, name: &author }) {
                if let Err(broken) = i.ledger.rollback_to(&before) {
                    self.phase.set(Phase::Broken(broken.to_string()));
                }
                let message = if matches!(write, Write::Nothing | Write::SupervisionOnly) { READ_ONLY.into() } else { format!("{why}，这项修改没有保存。") };
                return Err(SaveError::Ledger(message));
            }
            let persisted = i.persisted.clone();
            let chunk = i.ledger.save_after(&persisted);
            // What the chunk holds; changes a sync applies while it is written are not in it.
            let heads = i.ledger.heads();
            (i.store.clone(), before, id, chunk, heads)
        };
        self.save_state.set(SaveState::Saving);
        match store.append_chunk(&self.key(), &chunk).await {
            Ok(key) => {
                {
                    let mut i = inner.borrow_mut();
                    i.persisted = heads;
                    i.compactor.appended(key, chunk.len());
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
                drop(_turn);
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

    /// Makes changes that arrived from the server (already applied in memory) durable, then
    /// shows them. What is written is everything memory holds beyond storage, and it counts as
    /// persisted: the next local save does not write it again.
    pub async fn save_remote_changes(self) -> Result<(), StorageError> {
        let Some(inner) = self.inner() else { return Err(StorageError::Failed("台账未打开".into())) };
        let writing = inner.borrow().writing.clone();
        let _turn = writing.lock().await;
        let (store, chunk, heads) = {
            let mut i = inner.borrow_mut();
            let persisted = i.persisted.clone();
            let heads = i.ledger.heads();
            if heads == persisted {
                return Ok(());
            }
            (i.store.clone(), i.ledger.save_after(&persisted), heads)
        };
        let key = store.append_chunk(&self.key(), &chunk).await?;
        {
            let mut i = inner.borrow_mut();
            i.persisted = heads;
            i.compactor.appended(key, chunk.len());
        }
        drop(_turn);
        self.refresh_changed();
        self.schedule_view_write(1_500);
        if let Some((channel, _)) = &inner.borrow()._channel {
            let _ = channel.post_message(&JsValue::from_str("changed"));
        }
        leptos::task::spawn_local(self.compact_if_due());
        Ok(())
    }

    /// Folds the chunks into a new snapshot when the policy says so, one compaction at a time,
    /// in the write queue. The fold merges the planned chunks (other tabs' too) into memory,
    /// which already holds the plan's base snapshot, so the new snapshot holds everything it
    /// replaces; a plan another tab overtook is refused by the store and the layout reloaded.
    async fn compact_if_due(self) {
        let Some(inner) = self.inner() else { return };
        let writing = inner.borrow().writing.clone();
        let _turn = writing.lock().await;
        let (plan, store) = {
            let mut i = inner.borrow_mut();
            let Some(plan) = i.compactor.start(random_tag()) else { return };
            (plan, i.store.clone())
        };
        let result = store
            .compact(&self.key(), &plan, |chunks| {
                let mut i = inner.borrow_mut();
                for bytes in chunks {
                    let _ = i.ledger.load_incremental(bytes);
                }
                i.ledger.save()
            })
            .await;
        let outcome = result.unwrap_or(Outcome::Failed);
        inner.borrow_mut().compactor.finished(plan.id, outcome);
        if outcome == Outcome::Stale {
            drop(_turn);
            self.reload_from_store().await;
        }
        // A failed compaction loses nothing: the chunks are still there and a later one retries.
    }

    /// Another tab saved: merge whatever storage holds now.
    async fn reload_from_store(self) {
        let Some(inner) = self.inner() else { return };
        let writing = inner.borrow().writing.clone();
        let _turn = writing.lock().await;
        let store = inner.borrow().store.clone();
        let Ok(stored) = store.load(&self.key()).await else { return };
        {
            let mut i = inner.borrow_mut();
            // Whether memory held anything storage lacked (changes from the server whose save
            // is queued): then `persisted` stays, and that save writes them.
            let all_saved = {
                let Inner { ledger, persisted, .. } = &mut *i;
                ledger.heads() == *persisted
            };
            if let Some(snapshot) = &stored.snapshot {
                let _ = i.ledger.load_incremental(snapshot);
            }
            for (_, chunk) in &stored.chunks {
                let _ = i.ledger.load_incremental(chunk);
            }
            if all_saved {
                i.persisted = i.ledger.heads();
            }
            i.compactor.loaded(stored.tag, stored.snapshot.as_ref().map_or(0, Vec::len), stored.chunks.iter().map(|(k, c)| (*k, c.len())));
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

fn random_tag() -> u64 {
    // Below 2^53: IndexedDB keeps numbers as doubles.
    (js_sys::Math::random() * (1u64 << 53) as f64) as u64 | 1
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
