//! The cached lists, read straight from IndexedDB while the worker is still starting: the first
//! screen never waits for Automerge. Read only, and the connection closed at once: the worker
//! owns the database and its upgrades, so a database that does not exist yet stays uncreated.

use js_sys::{Function, Promise, Reflect, Uint8Array};
use ledger::view_cache::{self, LedgerView};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{IdbDatabase, IdbOpenDbRequest, IdbRequest, IdbTransactionMode};

const DB_NAME: &str = "pioneer-ledger";
const VIEWS: &str = "views";

/// The lists as cached, and the document heads they were read at.
pub struct CachedView {
    pub heads: String,
    pub view: LedgerView,
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

pub async fn read(key: &str) -> Option<CachedView> {
    let factory = web_sys::window()?.indexed_db().ok()??;
    let open: IdbOpenDbRequest = factory.open(DB_NAME).ok()?;
    // A first start: no database yet. Creating it here (empty, at version 1) would stand in the
    // way of the worker's own creation, so the creation is called off.
    let abort = Closure::once_into_js(|event: web_sys::Event| {
        if let Some(tx) = event.target().and_then(|t| t.dyn_into::<IdbOpenDbRequest>().ok()).and_then(|r| r.transaction()) {
            let _ = tx.abort();
        }
    });
    open.set_onupgradeneeded(Some(abort.unchecked_ref()));
    let db: IdbDatabase = done(&open).await.ok()?.dyn_into().ok()?;
    let cached = read_from(&db, key).await;
    db.close();
    cached
}

async fn read_from(db: &IdbDatabase, key: &str) -> Option<CachedView> {
    if !db.object_store_names().contains(VIEWS) {
        return None;
    }
    let tx = db.transaction_with_str_and_mode(VIEWS, IdbTransactionMode::Readonly).ok()?;
    let value = done(&tx.object_store(VIEWS).ok()?.get(&JsValue::from_str(key)).ok()?).await.ok()?;
    let heads = Reflect::get(&value, &"heads".into()).ok()?.as_string()?;
    let bytes = Reflect::get(&value, &"bytes".into()).ok()?.dyn_into::<Uint8Array>().ok()?.to_vec();
    Some(CachedView { heads, view: view_cache::decode(&bytes)? })
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
