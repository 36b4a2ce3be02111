//! The ledger as the page sees it: the lists on screen, kept up to date by the worker that
//! holds the document (`app-worker`), and each change a person makes sent there as a
//! [`Command`]. The page never waits for Automerge: the cached lists are read straight from
//! IndexedDB while the worker starts, and "已保存" shows only once the worker says the
//! IndexedDB transaction has committed.

use ledger::worker_protocol::{Answer, FromWorker, OpenLedger, Question, StorageFailure, ToWorker, VERSION};
use ledger::{Command, Enterprise, HistoryEntry, Pledge, Post, Problem, Rating, RecordId, Section, Survey, Visit};
use leptos::prelude::*;

use crate::browser;
use crate::cached_view::Start;
use crate::worker::WorkerLink;

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

/// Handle to the ledger, copied freely into components.
#[derive(Clone, Copy)]
pub struct LedgerService {
    worker: StoredValue<Option<WorkerLink>, LocalStorage>,
    pub phase: RwSignal<Phase>,
    pub visits: RwSignal<Vec<Visit>>,
    pub problems: RwSignal<Vec<Problem>>,
    pub enterprises: RwSignal<Vec<Enterprise>>,
    pub pledges: RwSignal<Vec<Pledge>>,
    pub surveys: RwSignal<Vec<Survey>>,
    /// 岗位 and residents' ratings (好差评) of the public board.
    pub posts: RwSignal<Vec<Post>>,
    pub ratings: RwSignal<Vec<Rating>>,
    /// What the campaign office sent (实施方案, its rounds, 通报) and the unit's rules (制度).
    pub plans: RwSignal<Vec<ledger::plan::Plan>>,
    pub rules: RwSignal<Vec<ledger::rule::Rule>>,
    pub rounds: RwSignal<Vec<ledger::unit_ledger::OfficeRound>>,
    pub notices: RwSignal<Vec<ledger::unit_ledger::Notice>>,
    /// Fields that could not be read, shown so nobody silently loses data.
    pub field_problems: RwSignal<Vec<String>>,
    /// The name written into logs and history: the person this phone was activated for.
    pub author: RwSignal<String>,
    pub save_state: RwSignal<SaveState>,
    /// False while the lists show the cached view and the document is still loading.
    pub live: RwSignal<bool>,
    /// Told what the worker says about sync and the device (the sync service listens).
    on_sync: StoredValue<Option<std::rc::Rc<dyn Fn(FromWorker)>>, LocalStorage>,
    /// Why this device takes no more writes (it was retired or lost), once it knows.
    stopped: StoredValue<Option<&'static str>>,
    /// This phone's photos: which wait for upload, and why uploads stopped if they did.
    pub photos: RwSignal<ledger::worker_protocol::PhotoReport>,
    /// Whether the worker has said where the photos stand at least once.
    photos_heard: StoredValue<bool>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum SaveError {
    Storage(StorageFailure),
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
    /// Shows the cached lists at once and starts the worker, which opens `open` and then keeps
    /// `kept` (the person's other ledgers) current and uploaded in the background.
    pub fn new(open: OpenLedger, kept: Vec<OpenLedger>) -> Self {
        let service = Self {
            worker: StoredValue::new_local(None),
            phase: RwSignal::new(Phase::Opening),
            visits: RwSignal::new(Vec::new()),
            problems: RwSignal::new(Vec::new()),
            enterprises: RwSignal::new(Vec::new()),
            pledges: RwSignal::new(Vec::new()),
            surveys: RwSignal::new(Vec::new()),
            posts: RwSignal::new(Vec::new()),
            ratings: RwSignal::new(Vec::new()),
            plans: RwSignal::new(Vec::new()),
            rules: RwSignal::new(Vec::new()),
            rounds: RwSignal::new(Vec::new()),
            notices: RwSignal::new(Vec::new()),
            field_problems: RwSignal::new(Vec::new()),
            author: RwSignal::new(open.author.clone()),
            save_state: RwSignal::new(SaveState::Idle),
            live: RwSignal::new(false),
            on_sync: StoredValue::new_local(None),
            stopped: StoredValue::new(None),
            photos: RwSignal::new(Default::default()),
            photos_heard: StoredValue::new(false),
        };
        // In parallel: the worker downloads and compiles Automerge while the page reads the cache.
        match WorkerLink::start(move |message| service.heard(message)) {
            Ok(link) => service.worker.set_value(Some(link)),
            Err(why) => service.phase.set(Phase::Broken(format!("浏览器无法启动后台线程（{why}）"))),
        }
        leptos::task::spawn_local(async move { service.open(open, kept).await });
        service
    }

    async fn open(self, mut open: OpenLedger, kept: Vec<OpenLedger>) {
        let start = crate::cached_view::read(&open.key).await;
        browser::mark("pioneer:storage-read");
        // With the cached lists on screen (or none to show) the person can start at once: the
        // lists say they are still loading, and a save is applied as soon as the worker has the
        // document. Otherwise the pages wait for the worker's first word: a record's page opened
        // by its address must find its record.
        match start {
            Start::Cached(cached) => {
                open.shown_heads = Some(cached.heads);
                self.set_view(cached.view);
                self.ready();
                browser::mark("pioneer:view-shown");
            }
            Start::Empty => {
                open.shown_heads = Some(String::new());
                self.ready();
            }
            Start::Unknown => {}
        }
        self.send(&ToWorker::Open(open));
        self.send(&ToWorker::PhotoSpace(crate::settings::PHOTO_SPACE.get().unwrap_or(ledger::photo::shelf::DEFAULT_SPACE)));
        if !kept.is_empty() {
            self.send(&ToWorker::Keep(kept));
        }
    }

    /// What the worker said.
    fn heard(self, message: FromWorker) {
        match message {
            FromWorker::Hello { version } if version != VERSION => self.phase.set(Phase::Broken("应用版本不一致，请刷新页面。".into())),
            FromWorker::Hello { .. } => {}
            FromWorker::Live => {
                browser::mark("pioneer:ledger-open");
                self.live.set(true);
                self.ready();
                leptos::task::spawn_local(browser::warm_date_fields());
            }
            FromWorker::Broken(why) => self.phase.set(Phase::Broken(why)),
            FromWorker::View(view) => {
                self.set_view(view);
                self.ready();
                browser::mark("pioneer:view-replaced");
            }
            FromWorker::Photos(report) => {
                self.photos.try_set(report.clone());
                self.photos_heard.set_value(true);
                // A retired phone erases only once its photos are up too.
                if let Some(listener) = self.on_sync.try_get_value().flatten() {
                    listener(FromWorker::Photos(report));
                }
            }
            FromWorker::Records(updates) => {
                // A measure, not a mark: how long the page's lists take to take a batch in
                // (`bench/worker.mjs` reads it during a sync); drawing follows in the same task.
                let started = browser::perf_now();
                self.apply_updates(updates);
                browser::measure_since("pioneer:records-applied", started);
            }
            other => {
                if let Some(listener) = self.on_sync.try_get_value().flatten() {
                    listener(other);
                }
            }
        }
    }

    fn ready(&self) {
        if self.phase.get_untracked() == Phase::Opening {
            self.phase.set(Phase::Ready);
        }
    }

    pub(crate) fn send(&self, message: &ToWorker) {
        if let Some(link) = self.worker.try_get_value().flatten() {
            link.send(message);
        }
    }

    pub fn set_sync_listener(&self, listener: impl Fn(FromWorker) + 'static) {
        self.on_sync.set_value(Some(std::rc::Rc::new(listener)));
    }

    async fn ask(self, question: Question) -> Option<Answer> {
        let link = self.worker.try_get_value().flatten()?;
        link.request(|request| ToWorker::Ask { request, question }).await
    }

    pub fn visit(&self, id: &RecordId) -> Option<Visit> {
        self.visits.with(|all| all.iter().find(|v| v.id == *id).cloned())
    }

    /// A record's history (修改记录), read from the document.
    pub async fn history(self, id: RecordId) -> Vec<HistoryEntry> {
        match self.ask(Question::History(id)).await {
            Some(Answer::History(lines)) => lines,
            _ => Vec::new(),
        }
    }

    /// Who wrote each value of a field in conflict: (value, author).
    pub async fn conflict_authors(self, section: Section, id: RecordId, field: String) -> Vec<(String, String)> {
        match self.ask(Question::ConflictAuthors { section, id, field }).await {
            Some(Answer::ConflictAuthors(authors)) => authors,
            _ => Vec::new(),
        }
    }

    /// Who deleted a record, and when.
    pub async fn deletion(self, section: Section, id: RecordId) -> Option<HistoryEntry> {
        match self.ask(Question::Deletion { section, id }).await {
            Some(Answer::Deletion(entry)) => entry,
            _ => None,
        }
    }

    pub async fn set_deleted(self, section: Section, id: RecordId, deleted: bool) -> Result<RecordId, SaveError> {
        self.apply(Command::SetDeleted { section, id, deleted }).await
    }

    /// Applies a person's change (a form saved, a button pressed): Ok once it is durable.
    pub async fn apply(self, command: Command) -> Result<RecordId, SaveError> {
        if let Some(why) = self.stopped.get_value() {
            return Err(SaveError::Ledger(why.into()));
        }
        let Some(link) = self.worker.try_get_value().flatten() else { return Err(SaveError::NotReady) };
        let started = browser::perf_now();
        let before = self.save_state.get_untracked();
        self.save_state.set(SaveState::Saving);
        match link.request(|request| ToWorker::Apply { request, command }).await {
            Some(Answer::Saved(id)) => {
                self.save_state.try_set(SaveState::Saved(browser::now_ms()));
                browser::measure_since("pioneer:save", started);
                leptos::task::spawn_local(browser::request_persistence_once());
                Ok(id)
            }
            Some(Answer::StorageFailed(failure)) => {
                self.save_state.try_set(SaveState::Failed(failure.to_string()));
                Err(SaveError::Storage(failure))
            }
            Some(Answer::Refused(why)) => {
                self.save_state.try_set(before);
                Err(SaveError::Ledger(why))
            }
            _ => {
                self.save_state.try_set(before);
                Err(SaveError::NotReady)
            }
        }
    }

    /// Stores a photo on this phone (resized, without EXIF) and gives the reference a record
    /// will hold; the form adds it on save.
    pub async fn add_photo(self, file: web_sys::File) -> Result<ledger::photo::PhotoRef, String> {
        if let Some(why) = self.stopped.get_value() {
            return Err(why.into());
        }
        let Some(link) = self.worker.try_get_value().flatten() else { return Err(SaveError::NotReady.to_string()) };
        match link.send_photo(file).await {
            Some(Answer::Photo(photo)) => Ok(photo),
            Some(Answer::Refused(why)) => Err(why),
            _ => Err(SaveError::NotReady.to_string()),
        }
    }

    /// Every photo taken here is on the server, as far as the worker has said.
    pub fn photos_uploaded(&self) -> bool {
        self.photos_heard.get_value() && self.photos.with_untracked(|p| p.waiting.is_empty())
    }

    /// Changes how much space this phone's photos may take.
    pub fn set_photo_space(self, bytes: u64) {
        crate::settings::PHOTO_SPACE.set(&bytes);
        self.send(&ToWorker::PhotoSpace(bytes));
    }

    /// Takes no more writes from now on, saying `why`: the device was retired (what it holds
    /// is still uploaded) or lost. Nothing written before is touched.
    pub fn stop_writes(self, why: &'static str) {
        self.stopped.set_value(Some(why));
        self.send(&ToWorker::StopWrites { why: why.into() });
    }

    /// Stops syncing and erases everything this device stores.
    pub async fn erase(self) {
        if let Some(link) = self.worker.try_get_value().flatten() {
            link.request(|request| ToWorker::Erase { request }).await;
        }
    }
}
