//! The ledger host: the one place the worker's in-memory ledger meets IndexedDB.
//!
//! Every write follows one rule: apply the change in memory, write everything memory holds
//! beyond storage as a chunk, and only when the IndexedDB transaction has completed answer
//! "saved". If the write fails, memory is rolled back to what storage holds, so the page never
//! shows what a reload would lose. Writes of this worker (local saves, changes from the server,
//! compaction) take turns in one queue; other tabs' workers are other writers, and compaction
//! follows `ledger_sync`'s state machine so no tab's chunk is ever deleted unmerged.

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::sync::Arc;

use automerge::{ActorId, ChangeHash};
use futures_util::lock::{Mutex, OwnedMutexGuard};
use ledger::org::Write;
use ledger::view_cache::{self, LedgerView};
use ledger::worker_protocol::{Answer, FromWorker, OpenLedger, Question, RecordUpdate};
use ledger::{Command, RecordId, Section, UnitLedger};
use ledger_sync::compaction::{CompactionPolicy, Compactor, Outcome};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use crate::page::{self, post};
use crate::store::{StorageError, Store, StoredDoc};

/// Why a change to a ledger this person only reads (a supervisor's) was not saved.
const READ_ONLY: &str = "督查账号在手机上只能查看这本台账，这项修改没有保存。";
/// Past this many changed records one full read is cheaper than many single ones.
const MAX_SINGLE: usize = 2_000;
/// Records per message to the page.
const RECORDS_PER_MESSAGE: usize = 100;

struct Loaded {
    store: Store,
    ledger: UnitLedger,
    /// What storage holds; a save writes the changes after these heads.
    persisted: Vec<ChangeHash>,
    /// The heads the page's lists reflect; what came after is re-read record by record.
    shown: Vec<ChangeHash>,
    /// What the page's lists show, kept here too: the cache is written from it.
    view: LedgerView,
    compactor: Compactor<u64>,
}

struct Shared {
    open: OpenLedger,
    /// The ledger the page shows; the person's other ledgers are kept and synced quietly.
    on_screen: bool,
    loaded: RefCell<Option<Loaded>>,
    /// Held by every write to storage (and by the opening), so writes take turns and
    /// `persisted` moves in order.
    writing: Arc<Mutex<()>>,
    /// Why this device takes no more writes (it was retired or lost), once it knows.
    stopped: RefCell<Option<String>>,
    /// Bumped by every change; a pending cache write goes ahead only if none came after it.
    view_generation: Cell<u64>,
    /// Told after every change that reached storage (the sync engine listens).
    on_change: RefCell<Option<Rc<dyn Fn()>>>,
    tabs: RefCell<Option<(web_sys::BroadcastChannel, Closure<dyn FnMut(web_sys::MessageEvent)>)>>,
}

/// Handle to the ledger, copied freely.
#[derive(Clone)]
pub struct Host(Rc<Shared>);

impl Host {
    /// Starts opening the ledger; every write and question waits until it is open. Only the
    /// ledger `on_screen` tells the page about its records.
    pub fn open(open: OpenLedger, on_screen: bool) -> Self {
        let writing = Arc::new(Mutex::new(()));
        let turn = writing.try_lock_owned().expect("a new lock is free");
        let host = Self(Rc::new(Shared {
            open,
            on_screen,
            loaded: RefCell::new(None),
            writing,
            stopped: RefCell::new(None),
            view_generation: Cell::new(0),
            on_change: RefCell::new(None),
            tabs: RefCell::new(None),
        }));
        let opening = host.clone();
        wasm_bindgen_futures::spawn_local(async move { opening.load(turn).await });
        host
    }

    async fn load(self, turn: OwnedMutexGuard<()>) {
        let result = async {
            let store = Store::open().await.map_err(|e| e.to_string())?;
            let stored = store.load(&self.0.open.key).await.map_err(|e| e.to_string())?;
            let (mut ledger, persisted) = open_ledger(&stored)?;
            ledger.set_author(&self.0.open.author);
            // A version 1 ledger gets the version 2 skeleton now, saved with the next write.
            ledger.upgrade().map_err(|e| e.to_string())?;
            Ok::<_, String>((store, stored, ledger, persisted))
        }
        .await;
        let (store, stored, mut ledger, persisted) = match result {
            Ok(opened) => opened,
            Err(why) => return self.tell_page(FromWorker::Broken(why)),
        };
        let mut compactor = Compactor::new(CompactionPolicy::default());
        compactor.loaded(stored.tag, stored.snapshot.as_ref().map_or(0, Vec::len), stored.chunks.iter().map(|(k, c)| (*k, c.len())));
        let heads = ledger.heads();
        let cache_current = stored.view.as_ref().is_some_and(|v| v.heads == heads_key(&heads));
        let page_current = self.0.open.shown_heads.as_deref() == Some(heads_key(&heads).as_str());
        // A cache written at exactly these heads is what reading the document would give:
        // skip a second or more of reading on a slow phone.
        let view = match stored.view.as_ref().filter(|_| cache_current).and_then(|v| view_cache::decode(&v.bytes)) {
            Some(view) => view,
            None => LedgerView::read(&ledger),
        };
        let shown = ledger.heads();
        *self.0.loaded.borrow_mut() = Some(Loaded { store, ledger, persisted, shown, view, compactor });
        *self.0.tabs.borrow_mut() = self.listen_to_other_tabs();
        if !page_current {
            self.show_what_changed_since(self.0.open.shown_heads.as_deref());
        }
        self.tell_page(FromWorker::Live);
        drop(turn);
        // An empty ledger has nothing to show faster, and a fresh install then writes nothing
        // to storage before the person's first save. Not at once: the first seconds belong to
        // the person's first taps.
        let empty = self.with_loaded(|l| l.view.as_ref().is_empty()).unwrap_or(true);
        if !cache_current && !empty {
            self.schedule_view_write(3_000);
        }
    }

    /// Tells the page about the ledger it shows. A kept ledger that cannot open stays closed
    /// (it does not sync) and says why in the console; the page finds out when it shows it.
    fn tell_page(&self, message: FromWorker) {
        if self.0.on_screen {
            post(&message);
        } else if let FromWorker::Broken(why) = message {
            web_sys::console::warn_1(&format!("台账 {}：{why}", self.0.open.document).into());
        }
    }

    /// Tells the page what differs from the lists it shows, which were read at `shown_heads`.
    fn show_what_changed_since(&self, shown_heads: Option<&str>) {
        let before: Option<Vec<ChangeHash>> = shown_heads.map(|h| h.split(',').filter(|s| !s.is_empty()).filter_map(|s| s.parse().ok()).collect());
        let changed = self.with_loaded(|l| before.and_then(|b| l.ledger.changed_records(&b))).flatten();
        match changed {
            Some(records) if records.len() <= MAX_SINGLE => self.send_records(&records),
            _ => {
                if let Some(view) = self.with_loaded(|l| l.view.clone()) {
                    self.tell_page(FromWorker::View(view));
                }
            }
        }
    }

    fn with_loaded<R>(&self, f: impl FnOnce(&mut Loaded) -> R) -> Option<R> {
        self.0.loaded.borrow_mut().as_mut().map(f)
    }

    /// Runs `f` on the loaded ledger (None while it is still loading, or if it broke).
    pub fn with_ledger<R>(&self, f: impl FnOnce(&mut UnitLedger) -> R) -> Option<R> {
        self.with_loaded(|l| f(&mut l.ledger))
    }

    /// Waits until the ledger has been opened; false if it could not be.
    pub async fn loaded(&self) -> bool {
        drop(self.0.writing.clone().lock_owned().await);
        self.0.loaded.borrow().is_some()
    }

    /// Every photo the ledger's records reference; None until it is loaded.
    pub fn photo_hashes(&self) -> Option<std::collections::HashSet<String>> {
        self.with_loaded(|l| l.ledger.photo_hashes())
    }

    /// The ledger's document id on the server.
    pub fn document(&self) -> &str {
        &self.0.open.document
    }

    pub fn store(&self) -> Option<Store> {
        self.with_loaded(|l| l.store.clone())
    }

    pub fn set_change_listener(&self, listener: impl Fn() + 'static) {
        *self.0.on_change.borrow_mut() = Some(Rc::new(listener));
    }

    fn changed(&self) {
        let listener = self.0.on_change.borrow().clone();
        if let Some(listener) = listener {
            listener();
        }
    }

    pub fn stop_writes(&self, why: String) {
        *self.0.stopped.borrow_mut() = Some(why);
    }

    /// Answers a question the page's lists do not hold.
    pub async fn ask(&self, question: Question) -> Answer {
        if !self.loaded().await {
            return Answer::NotOpen;
        }
        self.with_ledger(|l| match question {
            Question::History(id) => Answer::History(l.history(&id)),
            Question::ConflictAuthors { section, id, field } => Answer::ConflictAuthors(l.conflict_authors(section, &id, &field)),
            Question::Deletion { section, id } => Answer::Deletion(l.deletion(section, &id)),
        })
        .unwrap_or(Answer::NotOpen)
    }

    /// Applies a person's change and makes it durable, rolling memory back if storage fails.
    pub async fn apply(&self, command: Command) -> Answer {
        if let Some(why) = self.0.stopped.borrow().clone() {
            return Answer::Refused(why);
        }
        let turn = self.0.writing.clone().lock_owned().await;
        let prepared = self.with_loaded(|i| {
            let before = i.ledger.heads();
            let id = match command.apply(&mut i.ledger, page::now_ms(), page::today()) {
                Ok(id) => id,
                Err(e) => {
                    // Refused input must leave nothing half-written behind for the next commit.
                    i.ledger.doc_mut().rollback();
                    return Err(e.to_string());
                }
            };
            // The server's own check, so the phone never keeps a change the server refuses.
            let write = self.0.open.write;
            let changes = i.ledger.doc_mut().get_changes(&before);
            if let Err(why) = ledger::write_scope::check(i.ledger.doc(), &changes, ledger::write_scope::Sender { write, name: &self.0.open.author }) {
                if let Err(broken) = i.ledger.rollback_to(&before) {
                    self.tell_page(FromWorker::Broken(broken.to_string()));
                }
                return Err(if matches!(write, Write::Nothing | Write::SupervisionOnly) { READ_ONLY.into() } else { format!("{why}，这项修改没有保存。") });
            }
            let chunk = i.ledger.save_after(&i.persisted);
            // What the chunk holds; changes a sync applies while it is written are not in it.
            let heads = i.ledger.heads();
            Ok((i.store.clone(), before, id, chunk, heads))
        });
        let (store, before, id, chunk, heads) = match prepared {
            None => return Answer::NotOpen,
            Some(Err(why)) => return Answer::Refused(why),
            Some(Ok(prepared)) => prepared,
        };
        match store.append_chunk(&self.0.open.key, &chunk).await {
            Ok(key) => {
                self.with_loaded(|i| {
                    i.persisted = heads;
                    i.compactor.appended(key, chunk.len());
                });
                self.refresh_changed();
                self.tell_other_tabs();
                self.schedule_view_write(1_500);
                self.changed();
                drop(turn);
                let host = self.clone();
                wasm_bindgen_futures::spawn_local(async move { host.compact_if_due().await });
                Answer::Saved(id)
            }
            Err(e) => {
                if let Some(Err(why)) = self.with_loaded(|i| i.ledger.rollback_to(&before)) {
                    self.tell_page(FromWorker::Broken(why.to_string()));
                }
                self.refresh_changed();
                Answer::StorageFailed(e.into())
            }
        }
    }

    /// Makes changes that arrived from the server (already applied in memory) durable, then
    /// shows them. What is written is everything memory holds beyond storage, and it counts as
    /// persisted: the next local save does not write it again.
    pub async fn save_remote_changes(&self) -> Result<(), StorageError> {
        let turn = self.0.writing.clone().lock_owned().await;
        let prepared = self.with_loaded(|i| {
            let heads = i.ledger.heads();
            (heads != i.persisted).then(|| (i.store.clone(), i.ledger.save_after(&i.persisted), heads))
        });
        let (store, chunk, heads) = match prepared {
            None => return Err(StorageError::Failed("台账未打开".into())),
            Some(None) => return Ok(()),
            Some(Some(prepared)) => prepared,
        };
        let key = store.append_chunk(&self.0.open.key, &chunk).await?;
        self.with_loaded(|i| {
            i.persisted = heads;
            i.compactor.appended(key, chunk.len());
        });
        drop(turn);
        self.refresh_changed();
        self.schedule_view_write(1_500);
        self.tell_other_tabs();
        let host = self.clone();
        wasm_bindgen_futures::spawn_local(async move { host.compact_if_due().await });
        Ok(())
    }

    /// Folds the chunks into a new snapshot when the policy says so, one compaction at a time,
    /// in the write queue. The fold merges the planned chunks (other tabs' too) into memory,
    /// which already holds the plan's base snapshot, so the new snapshot holds everything it
    /// replaces; a plan another tab overtook is refused by the store and the layout reloaded.
    async fn compact_if_due(self) {
        let turn = self.0.writing.clone().lock_owned().await;
        let Some(Some((plan, store))) = self.with_loaded(|i| i.compactor.start(random_tag()).map(|plan| (plan, i.store.clone()))) else { return };
        let result = store
            .compact(&self.0.open.key, &plan, |chunks| {
                self.with_loaded(|i| {
                    for bytes in chunks {
                        let _ = i.ledger.load_incremental(bytes);
                    }
                    i.ledger.save()
                })
                .unwrap_or_default()
            })
            .await;
        let outcome = result.unwrap_or(Outcome::Failed);
        self.with_loaded(|i| i.compactor.finished(plan.id, outcome));
        drop(turn);
        if outcome == Outcome::Stale {
            self.reload_from_store().await;
        }
        // A failed compaction loses nothing: the chunks are still there and a later one retries.
    }

    /// Another tab saved: merge whatever storage holds now.
    async fn reload_from_store(self) {
        let turn = self.0.writing.clone().lock_owned().await;
        let Some(store) = self.store() else { return };
        let Ok(stored) = store.load(&self.0.open.key).await else { return };
        let grew = self.with_loaded(|i| {
            let before = i.ledger.heads();
            // Whether memory held anything storage lacked (changes from the server whose save
            // is queued): then `persisted` stays, and that save writes them.
            let all_saved = before == i.persisted;
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
            i.ledger.heads() != before
        });
        drop(turn);
        if grew == Some(true) {
            self.refresh_changed();
            self.schedule_view_write(1_500);
            // What another tab saved goes to the server from the tab that syncs.
            self.changed();
        }
    }

    fn listen_to_other_tabs(&self) -> Option<(web_sys::BroadcastChannel, Closure<dyn FnMut(web_sys::MessageEvent)>)> {
        let channel = web_sys::BroadcastChannel::new("pioneer-ledger").ok()?;
        let host = self.clone();
        let on_message = Closure::<dyn FnMut(web_sys::MessageEvent)>::new(move |event: web_sys::MessageEvent| {
            if event.data().as_string().as_deref() == Some(host.0.open.key.as_str()) {
                wasm_bindgen_futures::spawn_local(host.clone().reload_from_store());
            }
        });
        channel.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        Some((channel, on_message))
    }

    fn tell_other_tabs(&self) {
        if let Some((channel, _)) = &*self.0.tabs.borrow() {
            let _ = channel.post_message(&JsValue::from_str(&self.0.open.key));
        }
    }

    /// Sends the page what changed since its lists were last told: record by record when the
    /// changes say which records they touched, or everything.
    fn refresh_changed(&self) {
        let changed = self.with_loaded(|i| {
            let shown = std::mem::take(&mut i.shown);
            let changed = i.ledger.changed_records(&shown);
            i.shown = i.ledger.heads();
            changed
        });
        match changed.flatten() {
            Some(records) if records.len() <= MAX_SINGLE => self.send_records(&records),
            Some(_) | None => {
                let Some(view) = self.with_loaded(|i| {
                    i.view = LedgerView::read(&i.ledger);
                    i.view.clone()
                }) else {
                    return;
                };
                self.tell_page(FromWorker::View(view));
            }
        }
        self.0.view_generation.set(self.0.view_generation.get() + 1);
    }

    /// Re-reads the named records, keeps them in the worker's view and sends them to the page.
    fn send_records(&self, records: &[(Section, RecordId)]) {
        if records.is_empty() {
            return;
        }
        let updates: Vec<RecordUpdate> = self
            .with_loaded(|i| {
                let l = &i.ledger;
                let updates: Vec<RecordUpdate> = records
                    .iter()
                    .filter_map(|(section, id)| match section {
                        Section::Visits => l.visit(id).ok().map(RecordUpdate::Visit),
                        Section::Problems => l.problem(id).ok().map(RecordUpdate::Problem),
                        Section::Enterprises => l.enterprise(id).ok().map(RecordUpdate::Enterprise),
                        Section::Pledges => l.pledge(id).ok().map(RecordUpdate::Pledge),
                        Section::Surveys => l.survey(id).ok().map(RecordUpdate::Survey),
                        Section::Posts => l.post(id).ok().map(RecordUpdate::Post),
                        Section::Ratings => l.rating(id).ok().map(RecordUpdate::Rating),
                        Section::Plans => l.plan(id).ok().map(RecordUpdate::Plan),
                        Section::Rules => l.rule(id).ok().map(RecordUpdate::Rule),
                        Section::Rounds => l.rounds().records.into_iter().find(|r| &r.id == id).map(RecordUpdate::Round),
                        Section::Notices => l.notices().records.into_iter().find(|n| &n.id == id).map(RecordUpdate::Notice),
                    })
                    .collect();
                i.view.apply(updates.clone());
                updates
            })
            .unwrap_or_default();
        // In batches: the page takes each in a task of its own, so a sync of thousands of
        // records never holds a tap up for long.
        for batch in updates.chunks(RECORDS_PER_MESSAGE) {
            self.tell_page(FromWorker::Records(batch.to_vec()));
        }
    }

    /// Refreshes the cached lists `delay_ms` from now, unless another change comes first: the
    /// cache costs a full encode, so it is written once things have settled, off the save path.
    fn schedule_view_write(&self, delay_ms: u32) {
        let generation = self.0.view_generation.get() + 1;
        self.0.view_generation.set(generation);
        let host = self.clone();
        wasm_bindgen_futures::spawn_local(async move {
            gloo_timers::future::TimeoutFuture::new(delay_ms).await;
            if host.0.view_generation.get() != generation {
                return;
            }
            let Some((store, heads, bytes)) = host.with_loaded(|i| (i.store.clone(), heads_key(&i.ledger.heads()), view_cache::encode(i.view.as_ref()))) else { return };
            // A failed cache write costs only speed at the next start.
            let _ = store.put_view(&host.0.open.key, &heads, &bytes).await;
        });
    }

    /// Erases everything this device stores (every ledger, view and sync state).
    pub async fn erase(&self) {
        let _turn = self.0.writing.clone().lock_owned().await;
        *self.0.stopped.borrow_mut() = Some("本机数据已清除。".into());
        if let Ok(store) = Store::open().await {
            let _ = store.clear_all().await;
        }
        // Nothing held in memory may be written back after this (a save from the server queued
        // behind the erasing).
        *self.0.loaded.borrow_mut() = None;
    }
}

/// The heads as the cache and the page write them: hex, comma-separated.
pub fn heads_key(heads: &[ChangeHash]) -> String {
    heads.iter().map(ToString::to_string).collect::<Vec<_>>().join(",")
}

fn random_tag() -> u64 {
    // Below 2^53: IndexedDB keeps numbers as doubles.
    (js_sys::Math::random() * (1u64 << 53) as f64) as u64 | 1
}

/// Builds the in-memory ledger from what storage holds. Each worker writes as a fresh actor:
/// two tabs open at once must never write the same actor's sequence numbers.
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
