//! What the phone's page and its worker say to each other (页面与后台线程之间的消息).
//!
//! The page holds only what it shows; a dedicated Web Worker holds the Automerge document,
//! IndexedDB, compaction and sync, so loading a large ledger or applying a large sync never
//! freezes a tap. Everything that crosses is plain data, encoded with postcard and moved as
//! bytes: a person's change is a [`Command`], and the worker answers with the records that
//! changed. This module has no IO; the page (`app`) and the worker (`app-worker`) move the bytes.

use serde::{Deserialize, Serialize};

use crate::org::Write;
use crate::plan::Plan;
use crate::rule::Rule;
use crate::unit_ledger::{Notice, OfficeRound};
use crate::view_cache::LedgerView;
use crate::{Command, Enterprise, HistoryEntry, Pledge, Post, Problem, Rating, RecordId, Section, Survey, Visit};

/// Bumped whenever a message changes shape. The page and the worker come from one build and
/// one precache, so a mismatch means a half-updated cache: the page asks for a reload.
pub const VERSION: u32 = 5;

/// From the page to the worker.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum ToWorker {
    /// The first message: which ledger to open, and as whom.
    Open(OpenLedger),
    /// The person's other ledgers (a cadre in two units): kept and synced in the background
    /// once the one shown is open, so each is current and uploaded whichever the page shows.
    Keep(Vec<OpenLedger>),
    /// A person's change (a form saved, a button pressed), answered once it is durable.
    Apply { request: u32, command: Command },
    /// A read the lists on screen do not hold (history, who wrote a conflicting value).
    Ask { request: u32, question: Question },
    /// Take no more changes from now on, saying why (the device was retired or lost).
    StopWrites { why: String },
    /// The network came back or the app came to the foreground: connect now if not connected.
    Reconnect,
    /// The browser says it is offline: close the connection.
    Offline,
    /// Stop syncing and erase everything this device stores, then answer [`Answer::Erased`].
    Erase { request: u32 },
    /// How many bytes of photos this phone may keep (the person's setting).
    PhotoSpace(u64),
}

// A photo to add travels beside these messages, not in them: the page posts `[request, File]`
// and the worker answers [`Answer::Photo`] (the File is handed over, never copied into Wasm
// memory on the page).

/// Which ledger the page shows, and what the worker needs to keep and sync it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OpenLedger {
    /// Where the ledger lives in IndexedDB.
    pub key: String,
    /// The ledger's document id on the server.
    pub document: String,
    /// Who writes: the name in logs and change notes.
    pub author: String,
    pub write: Write,
    /// The heads of the cached lists the page already shows (None: it shows none).
    pub shown_heads: Option<String>,
    /// This browser's storage id, so the server keeps sync states across reloads.
    pub storage_id: String,
    /// The server's storage id as last seen, to count unsent records while offline.
    pub server_storage: Option<String>,
    /// Where to sync (`wss://host/sync`); None: do not sync (the device may not).
    pub sync_url: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Question {
    History(RecordId),
    /// Who wrote each of the values of a field in conflict.
    ConflictAuthors {
        section: Section,
        id: RecordId,
        field: String,
    },
    /// Who deleted a record, and when.
    Deletion {
        section: Section,
        id: RecordId,
    },
}

/// From the worker to the page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum FromWorker {
    /// The worker runs and takes messages; sent once, before anything else.
    Hello {
        version: u32,
    },
    /// The document has loaded: the lists now show the document itself.
    Live,
    /// The ledger could not be opened; nothing is written.
    Broken(String),
    /// Every record, replacing the lists (opening without a current cache, or a large change).
    View(LedgerView),
    /// Records that changed, each replacing the one with its id or added.
    Records(Vec<RecordUpdate>),
    Answer {
        request: u32,
        answer: Answer,
    },
    /// Where the sync of `document` stands (this tab's worker syncs it, or another tab's does
    /// and this one follows); for the ledger shown and for each one kept.
    Sync {
        document: String,
        report: SyncReport,
    },
    /// The connection ended or a ledger was refused: the page asks the server who this device
    /// is now (the account lives with the page).
    CheckDevice,
    /// The server's storage id, for the page to remember.
    ServerStorage(String),
    /// Where this phone's photos stand: sent whenever it changes.
    Photos(PhotoReport),
}

/// The phone's photos: those not yet on the server, and why uploading stopped if it did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PhotoReport {
    /// Hashes taken on this phone and not yet uploaded (a record shows 照片待上传 for these).
    pub waiting: Vec<String>,
    /// Bytes of photos this phone keeps.
    pub bytes: u64,
    /// Why uploads stopped, in words for the cadre (the server's quota is full).
    pub problem: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum RecordUpdate {
    Visit(Visit),
    Problem(Problem),
    Enterprise(Enterprise),
    Pledge(Pledge),
    Survey(Survey),
    Post(Post),
    Rating(Rating),
    Plan(Plan),
    Rule(Rule),
    Round(OfficeRound),
    Notice(Notice),
}

impl RecordUpdate {
    pub fn id(&self) -> &RecordId {
        match self {
            Self::Visit(r) => &r.id,
            Self::Problem(r) => &r.id,
            Self::Enterprise(r) => &r.id,
            Self::Pledge(r) => &r.id,
            Self::Survey(r) => &r.id,
            Self::Post(r) => &r.id,
            Self::Rating(r) => &r.id,
            Self::Plan(r) => &r.id,
            Self::Rule(r) => &r.id,
            Self::Round(r) => &r.id,
            Self::Notice(r) => &r.id,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Answer {
    /// Durable: the IndexedDB transaction has committed.
    Saved(RecordId),
    /// Refused before anything was written (invalid, or not this person's to write).
    Refused(String),
    /// Storage failed; memory was rolled back to what storage holds.
    StorageFailed(StorageFailure),
    /// The ledger is not open (it broke); nothing was written.
    NotOpen,
    History(Vec<HistoryEntry>),
    /// (value, who wrote it) for each value of the field.
    ConflictAuthors(Vec<(String, String)>),
    Deletion(Option<HistoryEntry>),
    Erased,
    /// A photo resized, stripped and stored on this phone: the reference a record holds.
    Photo(crate::photo::PhotoRef),
}

/// Why a write to the browser's storage failed, in words a cadre can act on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum StorageFailure {
    /// The browser refused to store more (QuotaExceededError).
    Full,
    /// IndexedDB is missing or blocked (private mode, disabled by policy, another tab upgrading).
    Unavailable(String),
    Failed(String),
}

impl std::fmt::Display for StorageFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Full => f.write_str("手机存储空间不足，这次没有保存。请清理手机空间后再点保存，已填写的内容还在。"),
            Self::Unavailable(why) => write!(f, "浏览器不允许本应用保存数据（{why}）。请退出无痕模式或允许本站存储后再试，已填写的内容还在。"),
            Self::Failed(why) => write!(f, "保存失败（{why}），已填写的内容还在，请稍后再点保存。"),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncReport {
    pub status: SyncStatus,
    /// Records changed here that the server is not known to have.
    pub unsent: usize,
    /// Whether this tab's worker holds the connection (one tab of a phone syncs at a time).
    pub owner: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum SyncStatus {
    /// No network, or the server cannot be reached.
    Offline,
    Connecting,
    Syncing,
    /// In step with the server as of this time (ms), with nothing left to send.
    Synced(i64),
}

/// Where each of the phone's ledgers stands with the server: the one shown and those kept in
/// the background. A retired phone erases only once every one of them has uploaded everything.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SyncBoard {
    reports: std::collections::BTreeMap<String, Option<SyncReport>>,
}

impl SyncBoard {
    /// The documents this phone keeps; reports of others are ignored.
    pub fn new<'a>(documents: impl IntoIterator<Item = &'a str>) -> Self {
        Self { reports: documents.into_iter().map(|d| (d.to_owned(), None)).collect() }
    }

    pub fn heard(&mut self, document: &str, report: SyncReport) {
        if let Some(slot) = self.reports.get_mut(document) {
            *slot = Some(report);
        }
    }

    pub fn report(&self, document: &str) -> Option<SyncReport> {
        self.reports.get(document).copied().flatten()
    }

    /// Every ledger is in step with the server with nothing left to send. A ledger not heard
    /// from yet (still loading) may hold unsent records: not uploaded.
    pub fn all_uploaded(&self) -> bool {
        self.reports.values().all(|r| matches!(r, Some(SyncReport { status: SyncStatus::Synced(_), unsent: 0, .. })))
    }

    /// Records not yet uploaded in `document`, as last reported.
    pub fn unsent(&self, document: &str) -> usize {
        self.report(document).map_or(0, |r| r.unsent)
    }
}

/// Puts each of `records` in place of the one with its id, or adds it at the end. One pass
/// over `all` however many records changed (a sync may bring thousands).
pub fn put_all<T>(all: &mut Vec<T>, records: Vec<T>, id_of: fn(&T) -> &RecordId) {
    if records.len() < 8 {
        for record in records {
            match all.iter_mut().find(|r| id_of(r) == id_of(&record)) {
                Some(slot) => *slot = record,
                None => all.push(record),
            }
        }
        return;
    }
    // Where each record goes, found before anything moves: the index borrows the ids in place
    // rather than copying thousands of them for each batch of a sync.
    let slots: Vec<Option<usize>> = {
        let at: std::collections::HashMap<&RecordId, usize> = all.iter().enumerate().map(|(i, r)| (id_of(r), i)).collect();
        records.iter().map(|r| at.get(id_of(r)).copied()).collect()
    };
    let mut added: std::collections::HashMap<RecordId, usize> = std::collections::HashMap::new();
    for (record, slot) in records.into_iter().zip(slots) {
        match slot.or_else(|| added.get(id_of(&record)).copied()) {
            Some(i) => all[i] = record,
            None => {
                added.insert(id_of(&record).clone(), all.len());
                all.push(record);
            }
        }
    }
}

/// [`put_all`] for visits, keeping them newest first ([`crate::sort_visits`]), the order the
/// visit list and an enterprise's 走访记录 show: a visit saved or synced would otherwise sit at the
/// end, and one whose date was edited where it was. Nearly sorted, the sort is one pass.
pub fn put_visits(all: &mut Vec<Visit>, changed: Vec<Visit>) {
    if changed.is_empty() {
        return;
    }
    put_all(all, changed, |r| &r.id);
    crate::sort_visits(all);
}

impl LedgerView {
    /// Takes in records that changed.
    pub fn apply(&mut self, updates: Vec<RecordUpdate>) {
        let changed = Changed::sort(updates);
        put_visits(&mut self.visits, changed.visits);
        put_all(&mut self.problems, changed.problems, |r| &r.id);
        put_all(&mut self.enterprises, changed.enterprises, |r| &r.id);
        put_all(&mut self.pledges, changed.pledges, |r| &r.id);
        put_all(&mut self.surveys, changed.surveys, |r| &r.id);
        put_all(&mut self.posts, changed.posts, |r| &r.id);
        put_all(&mut self.ratings, changed.ratings, |r| &r.id);
        put_all(&mut self.plans, changed.plans, |r| &r.id);
        put_all(&mut self.rules, changed.rules, |r| &r.id);
        put_all(&mut self.rounds, changed.rounds, |r| &r.id);
        put_all(&mut self.notices, changed.notices, |r| &r.id);
    }
}

/// Changed records sorted by section, for the lists that show them.
#[derive(Default)]
pub struct Changed {
    pub visits: Vec<Visit>,
    pub problems: Vec<Problem>,
    pub enterprises: Vec<Enterprise>,
    pub pledges: Vec<Pledge>,
    pub surveys: Vec<Survey>,
    pub posts: Vec<Post>,
    pub ratings: Vec<Rating>,
    pub plans: Vec<Plan>,
    pub rules: Vec<Rule>,
    pub rounds: Vec<OfficeRound>,
    pub notices: Vec<Notice>,
}

impl Changed {
    pub fn sort(updates: Vec<RecordUpdate>) -> Self {
        let mut changed = Self::default();
        for update in updates {
            match update {
                RecordUpdate::Visit(r) => changed.visits.push(r),
                RecordUpdate::Problem(r) => changed.problems.push(r),
                RecordUpdate::Enterprise(r) => changed.enterprises.push(r),
                RecordUpdate::Pledge(r) => changed.pledges.push(r),
                RecordUpdate::Survey(r) => changed.surveys.push(r),
                RecordUpdate::Post(r) => changed.posts.push(r),
                RecordUpdate::Rating(r) => changed.ratings.push(r),
                RecordUpdate::Plan(r) => changed.plans.push(r),
                RecordUpdate::Rule(r) => changed.rules.push(r),
                RecordUpdate::Round(r) => changed.rounds.push(r),
                RecordUpdate::Notice(r) => changed.notices.push(r),
            }
        }
        changed
    }
}

/// Encodes a message for the other side.
pub fn encode<T: Serialize>(message: &T) -> Vec<u8> {
    postcard::to_allocvec(message).expect("messages are plain data")
}

/// Decodes a message; None for bytes that are not one (a half-updated cache: see [`VERSION`]).
pub fn decode<'a, T: Deserialize<'a>>(bytes: &'a [u8]) -> Option<T> {
    postcard::from_bytes(bytes).ok()
}

#[cfg(test)]
mod tests;
