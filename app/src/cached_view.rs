//! The cached lists, read straight from IndexedDB while the worker is still starting (or, when
//! nothing is stored yet, the knowledge that the lists are empty): the first screen never waits
//! for Automerge. Read only, and the connection closed at once: the worker
//! owns the database and its upgrades, so a database that does not exist yet stays uncreated.

use js_sys::{Function, Promise, Reflect, Uint8Array};
use ledger::view_cache::{self, LedgerView};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{IdbDatabase, IdbOpenDbRequest, IdbRequest, IdbTransactionMode};

const DB_NAME: &str = "pioneer-ledger";
const VIEWS: &str = "views";
const SNAPSHOTS: &str = "snapshots";
const CHUNKS: &str = "chunks";
const CHUNKS_BY_DOC: &str = "by_doc";

/// The lists as cached, and the document heads they were read at.
pub struct CachedView {
    pub heads: String,
    pub view: LedgerView,
}

/// What the page can show before the worker has the document.
pub enum Start {
    Cached(CachedView),
    /// Nothing is stored for this ledger (a fresh install, or a ledger never opened here): its
    /// lists are empty until the worker, or a sync, says otherwise.
    Empty,
    /// A ledger is stored but no current lists of it: wait for the worker.
    Unknown,
}

/// Resolves when `request` succeeds, fails when it fails.
async fn done(request: &IdbRequest) -> Result<JsValue, JsValue> {
    let promise = Promise::new(&mut |resolve: Function, reject: Function| {
        request.set_onsuccess(Some(&resolve));
        request.set_onerror(Some(&reject));
    });
    JsFuture::from(promise).await?;
    request.result()
}

pub async fn read(key: &str) -> Start {
    let Some(factory) = web_sys::window().and_then(|w| w.indexed_db().ok().flatten()) else { return Start::Unknown };
    let Ok(open) = factory.open(DB_NAME) else { return Start::Unknown };
    // A first start: no database yet. Creating it here (empty, at version 1) would stand in the
    // way of the worker's own creation, so the creation is called off.
    let created = std::rc::Rc::new(std::cell::Cell::new(false));
    let noticed = created.clone();
    let abort = Closure::once_into_js(move |event: web_sys::Event| {
        noticed.set(true);
        if let Some(tx) = event.target().and_then(|t| t.dyn_into::<IdbOpenDbRequest>().ok()).and_then(|r| r.transaction()) {
            let _ = tx.abort();
        }
    });
    open.set_onupgradeneeded(Some(abort.unchecked_ref()));
    let db: IdbDatabase = match done(&open).await.ok().and_then(|db| db.dyn_into().ok()) {
        Some(db) => db,
        None if created.get() => return Start::Empty,
        None => return Start::Unknown,
    };
    let start = read_from(&db, key).await.unwrap_or(Start::Unknown);
    db.close();
    start
}

async fn read_from(db: &IdbDatabase, key: &str) -> Option<Start> {
    let names = db.object_store_names();
    if ![VIEWS, SNAPSHOTS, CHUNKS].iter().all(|name| names.contains(name)) {
        return None;
    }
    let stores = js_sys::Array::of3(&VIEWS.into(), &SNAPSHOTS.into(), &CHUNKS.into());
    let tx = db.transaction_with_str_sequence_and_mode(&stores, IdbTransactionMode::Readonly).ok()?;
    let doc = JsValue::from_str(key);
    let value = done(&tx.object_store(VIEWS).ok()?.get(&doc).ok()?).await.ok()?;
    if let (Ok(heads), Ok(bytes)) = (Reflect::get(&value, &"heads".into()), Reflect::get(&value, &"bytes".into())) {
        let bytes = bytes.dyn_into::<Uint8Array>().map(|b| b.to_vec()).unwrap_or_default();
        if let (Some(heads), Some(view)) = (heads.as_string(), view_cache::decode(&bytes)) {
            return Some(Start::Cached(CachedView { heads, view }));
        }
    }
    let snapshots = done(&tx.object_store(SNAPSHOTS).ok()?.count_with_key(&doc).ok()?).await.ok()?.as_f64()?;
    let chunks = done(&tx.object_store(CHUNKS).ok()?.index(CHUNKS_BY_DOC).ok()?.count_with_key(&doc).ok()?).await.ok()?.as_f64()?;
    Some(if snapshots == 0.0 && chunks == 0.0 { Start::Empty } else { Start::Unknown })
}

/// Deletes every ledger this device holds when no worker has it open (a device found lost
/// before any ledger opened). Does not wait for other tabs to let go of it.
pub async fn delete_database() {
    let Some(factory) = web_sys::window().and_then(|w| w.indexed_db().ok().flatten()) else { return };
    let Ok(request) = factory.delete_database(DB_NAME) else { return };
    let finished = done(&request);
    let timeout = gloo_timers::future::TimeoutFuture::new(2_000);
    futures_util::future::select(Box::pin(finished), timeout).await;
}
