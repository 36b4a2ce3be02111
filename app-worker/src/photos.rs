//! The phone's photos (照片): resized, stripped and stored here, uploaded in the background.
//!
//! A photo the page hands over (a `File` from the camera or the gallery) is drawn onto an
//! OffscreenCanvas at most [`LONGEST_SIDE`] px long and encoded as JPEG: the new file carries no
//! EXIF (no place, no device). Its SHA-256 names it; the bytes go to IndexedDB as a Blob (they
//! never pass through Wasm memory) and the page gets the reference its record will hold.
//!
//! Uploads follow sync: once a ledger is in step with the server, every photo a record
//! references and the server lacks is `PUT` by its hash (idempotent; the server answers only
//! once the file is durable). A cut connection leaves the photo waiting, and the next round
//! (after the next sync, or a minute later) sends it again whole. The service worker answers
//! `/api/photos/{hash}` from the same store, so the phone shows its photos offline.

use std::cell::{Cell, RefCell};
use std::collections::HashSet;
use std::rc::Rc;

use idb::{Database, DatabaseEvent, Factory, ObjectStoreParams, Query, TransactionMode};
use js_sys::{Object, Reflect};
use ledger::photo::shelf::{self, Kept};
use ledger::photo::{PhotoRef, JPEG_QUALITY, LONGEST_SIDE, MAX_PHOTO_BYTES, PHOTO_TYPE};
use ledger::worker_protocol::{Answer, FromWorker, PhotoReport};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{Blob, File, ImageBitmap, ImageEncodeOptions, OffscreenCanvas, OffscreenCanvasRenderingContext2d, Request, RequestInit, Response};

use crate::page::{self, post};
use crate::store::{commit, StorageError};

/// The database the service worker reads too (`public/sw.js` names it and its store).
const DB_NAME: &str = "pioneer-photos";
const DB_VERSION: u32 = 1;
const PHOTOS: &str = "photos";
/// How long after a failed round the next one starts by itself.
const RETRY_MS: u32 = 60_000;

thread_local! {
    static SPACE: Cell<u64> = const { Cell::new(shelf::DEFAULT_SPACE) };
    static UPLOADING: Cell<bool> = const { Cell::new(false) };
    /// Another round was asked for while one ran.
    static AGAIN: Cell<bool> = const { Cell::new(false) };
    static PROBLEM: RefCell<Option<String>> = const { RefCell::new(None) };
    static LAST: RefCell<Option<PhotoReport>> = const { RefCell::new(None) };
    static DB: RefCell<Option<Rc<Database>>> = const { RefCell::new(None) };
}

pub fn set_space(bytes: u64) {
    SPACE.with(|s| s.set(bytes.max(10 * 1024 * 1024)));
}

/// The worker's one connection to the photo store, opened on first use and kept: every round,
/// report and photo used to open its own, and connections the garbage collector has not yet
/// closed would hold up a later version of the store. Closed (and forgotten) when another
/// version asks for it or the browser closes it.
async fn open() -> Result<Rc<Database>, StorageError> {
    if let Some(db) = DB.with(|d| d.borrow().clone()) {
        return Ok(db);
    }
    let mut request = Factory::new()?.open(DB_NAME, Some(DB_VERSION))?;
    request.on_upgrade_needed(|event| {
        let Ok(db) = event.database() else { return };
        if !db.store_names().iter().any(|s| s == PHOTOS) {
            let _ = db.create_object_store(PHOTOS, ObjectStoreParams::new());
        }
    });
    let mut db = request.await?;
    db.on_version_change(|event| {
        if let Some(raw) = event.target().and_then(|t| t.dyn_into::<web_sys::IdbDatabase>().ok()) {
            raw.close();
        }
        DB.with(|d| d.borrow_mut().take());
    });
    db.on_close(|_| {
        DB.with(|d| d.borrow_mut().take());
    });
    let db = Rc::new(db);
    // Two callers may have opened at once: the first kept is the one used.
    Ok(DB.with(|d| d.borrow_mut().get_or_insert(db).clone()))
}

fn number(v: &JsValue, key: &str) -> f64 {
    Reflect::get(v, &key.into()).ok().and_then(|n| n.as_f64()).unwrap_or(0.0)
}

/// What the phone keeps, without the bytes.
async fn shelf(db: &Database) -> Result<Vec<Kept>, StorageError> {
    let tx = db.transaction(&[PHOTOS], TransactionMode::ReadOnly)?;
    let store = tx.object_store(PHOTOS)?;
    let keys = store.get_all_keys(None, None)?.await?;
    let values = store.get_all(None, None)?.await?;
    Ok(keys
        .into_iter()
        .zip(values)
        .filter_map(|(k, v)| {
            Some(Kept {
                hash: k.as_string()?,
                size: number(&v, "size") as u64,
                added_at: number(&v, "added_at") as i64,
                uploaded: Reflect::get(&v, &"uploaded".into()).ok().and_then(|u| u.as_bool()).unwrap_or(false),
            })
        })
        .collect())
}

async fn remove(db: &Database, hashes: &[String]) -> Result<(), StorageError> {
    if hashes.is_empty() {
        return Ok(());
    }
    let tx = db.transaction(&[PHOTOS], TransactionMode::ReadWrite)?;
    let store = tx.object_store(PHOTOS)?;
    for hash in hashes {
        store.delete(Query::Key(JsValue::from_str(hash)))?.await?;
    }
    commit(tx).await
}

/// Every photo the person's ledgers reference; None while one of them is still loading (a
/// photo only it references must not be taken for rubbish).
async fn referenced() -> Option<HashSet<String>> {
    let mut all = HashSet::new();
    for held in crate::every_held() {
        if !held.host.loaded().await {
            continue;
        }
        all.extend(held.host.photo_hashes()?);
    }
    Some(all)
}

/// Stores the photo in `file` and answers the page with its reference (or why not).
pub async fn add(request: u32, file: File) {
    let answer = match store_photo(&file).await {
        Ok(photo) => Answer::Photo(photo),
        Err(why) => Answer::Refused(why),
    };
    post(&FromWorker::Answer { request, answer });
    report().await;
}

async fn store_photo(file: &File) -> Result<PhotoRef, String> {
    let blob = resize(file).await.map_err(|e| format!("这张照片无法读取（{}），请换一张或重拍。", describe(&e)))?;
    let size = blob.size() as u64;
    if size > MAX_PHOTO_BYTES as u64 {
        return Err("这张照片压缩后仍然太大，请换一张。".into());
    }
    let hash = sha256(&blob).await.map_err(|e| format!("照片处理失败（{}）", describe(&e)))?;
    let db = open().await.map_err(|e| e.to_string())?;
    let now = page::now_ms();
    let kept = shelf(&db).await.map_err(|e| e.to_string())?;
    if !kept.iter().any(|k| k.hash == hash) {
        let referenced = referenced().await.unwrap_or_default();
        let clear = shelf::make_room(&kept, &referenced, size, SPACE.with(Cell::get), now)?;
        remove(&db, &clear).await.map_err(|e| e.to_string())?;
        let tx = db.transaction(&[PHOTOS], TransactionMode::ReadWrite).map_err(|e| StorageError::from(e).to_string())?;
        let value = Object::new();
        let _ = Reflect::set(&value, &"blob".into(), &blob);
        let _ = Reflect::set(&value, &"size".into(), &JsValue::from_f64(size as f64));
        let _ = Reflect::set(&value, &"added_at".into(), &JsValue::from_f64(now as f64));
        let _ = Reflect::set(&value, &"uploaded".into(), &JsValue::FALSE);
        let put = async {
            tx.object_store(PHOTOS)?.put(&value, Some(&JsValue::from_str(&hash)))?.await?;
            Ok::<_, idb::Error>(())
        };
        put.await.map_err(|e| StorageError::from(e).to_string())?;
        commit(tx).await.map_err(|e| e.to_string())?;
    }
    // A photo from the gallery keeps when it was taken (the file's time); one from the camera
    // was taken now.
    let taken_at = match file.last_modified() as i64 {
        t if t > 0 && t <= now => t,
        _ => now,
    };
    Ok(PhotoRef { hash, mime: PHOTO_TYPE.into(), size: size as u32, taken_at })
}

fn describe(e: &JsValue) -> String {
    e.dyn_ref::<js_sys::Error>().map(|e| String::from(e.message())).or_else(|| e.as_string()).unwrap_or_else(|| format!("{e:?}"))
}

/// Draws the image at most [`LONGEST_SIDE`] px long and encodes it as JPEG (the browser turns
/// it upright by its EXIF first; the new file has none).
async fn resize(file: &File) -> Result<Blob, JsValue> {
    let scope = page::scope();
    let bitmap: ImageBitmap = JsFuture::from(scope.create_image_bitmap_with_blob(file)?).await?.dyn_into()?;
    let (w, h) = (bitmap.width().max(1), bitmap.height().max(1));
    let scale = (LONGEST_SIDE as f64 / w.max(h) as f64).min(1.0);
    let (tw, th) = (((w as f64 * scale).round() as u32).max(1), ((h as f64 * scale).round() as u32).max(1));
    let canvas = OffscreenCanvas::new(tw, th)?;
    let context: OffscreenCanvasRenderingContext2d = canvas.get_context("2d")?.ok_or("no 2d context")?.dyn_into()?;
    // JPEG has no transparency: a transparent screenshot gets white, not black.
    context.set_fill_style_str("#fff");
    context.fill_rect(0.0, 0.0, tw as f64, th as f64);
    context.draw_image_with_image_bitmap_and_dw_and_dh(&bitmap, 0.0, 0.0, tw as f64, th as f64)?;
    bitmap.close();
    let options = ImageEncodeOptions::new();
    options.set_type(PHOTO_TYPE);
    options.set_quality(JPEG_QUALITY);
    JsFuture::from(canvas.convert_to_blob_with_options(&options)?).await?.dyn_into()
}

async fn sha256(blob: &Blob) -> Result<String, JsValue> {
    let buffer: js_sys::Object = JsFuture::from(blob.array_buffer()).await?.dyn_into()?;
    let subtle = page::scope().crypto()?.subtle();
    let digest = JsFuture::from(subtle.digest_with_str_and_buffer_source("SHA-256", &buffer)?).await?;
    Ok(js_sys::Uint8Array::new(&digest).to_vec().iter().map(|b| format!("{b:02x}")).collect())
}

/// Starts an upload round unless one runs (then another follows it).
pub fn kick() {
    if UPLOADING.with(|u| u.replace(true)) {
        AGAIN.with(|a| a.set(true));
        return;
    }
    wasm_bindgen_futures::spawn_local(async {
        loop {
            AGAIN.with(|a| a.set(false));
            let finished = upload_round().await;
            report().await;
            if AGAIN.with(Cell::get) {
                continue;
            }
            UPLOADING.with(|u| u.set(false));
            if !finished {
                gloo_timers::future::TimeoutFuture::new(RETRY_MS).await;
                kick();
            }
            break;
        }
    });
}

/// Uploads what waits, then clears rubbish. False if something is still waiting that another
/// round should try (no network, the server busy).
async fn upload_round() -> bool {
    let Ok(db) = open().await else { return true };
    let Some(referenced) = referenced().await else { return true };
    let Ok(kept) = shelf(&db).await else { return true };
    let _ = remove(&db, &shelf::garbage(&kept, &referenced, page::now_ms())).await;
    let waiting: Vec<Kept> = shelf::to_upload(&kept, &referenced).into_iter().cloned().collect();
    if waiting.is_empty() || !page::online() {
        return waiting.is_empty();
    }
    let mut finished = true;
    for photo in waiting {
        match upload(&db, &photo.hash).await {
            Ok(Uploaded::Stored) => PROBLEM.with(|p| *p.borrow_mut() = None),
            // The server has not got the record yet: the next sync brings it, then a round.
            Ok(Uploaded::NotYet) => {}
            Ok(Uploaded::Refused(why)) => {
                PROBLEM.with(|p| *p.borrow_mut() = Some(why));
                return false;
            }
            Err(_) => {
                finished = false;
                break;
            }
        }
    }
    finished
}

enum Uploaded {
    Stored,
    NotYet,
    Refused(String),
}

async fn upload(db: &Database, hash: &str) -> Result<Uploaded, JsValue> {
    let value = {
        let tx = db.transaction(&[PHOTOS], TransactionMode::ReadOnly).map_err(|e| JsValue::from_str(&e.to_string()))?;
        let found = tx.object_store(PHOTOS).map_err(|e| JsValue::from_str(&e.to_string()))?.get(JsValue::from_str(hash)).map_err(|e| JsValue::from_str(&e.to_string()))?;
        found.await.map_err(|e| JsValue::from_str(&e.to_string()))?
    };
    let Some(value) = value else { return Ok(Uploaded::NotYet) };
    let blob: Blob = Reflect::get(&value, &"blob".into())?.dyn_into()?;
    let init = RequestInit::new();
    init.set_method("PUT");
    init.set_body(&blob);
    let headers = web_sys::Headers::new()?;
    headers.set("Content-Type", PHOTO_TYPE)?;
    init.set_headers(&headers);
    let request = Request::new_with_str_and_init(&format!("/api/photos/{hash}"), &init)?;
    let response: Response = JsFuture::from(page::scope().fetch_with_request(&request)).await?.dyn_into()?;
    match response.status() {
        200 | 201 => {
            mark_uploaded(db, hash, &value).await.map_err(|e| JsValue::from_str(&e.to_string()))?;
            Ok(Uploaded::Stored)
        }
        409 => Ok(Uploaded::NotYet),
        507 | 413 | 415 | 400 | 403 => {
            // The server's refusal is JSON with a `message` for the person; a proxy's page is not.
            let body = match response.json() {
                Ok(parsing) => JsFuture::from(parsing).await.unwrap_or(JsValue::NULL),
                Err(_) => JsValue::NULL,
            };
            let message = Reflect::get(&body, &"message".into()).ok().and_then(|m| m.as_string()).filter(|m| !m.is_empty());
            Ok(Uploaded::Refused(message.unwrap_or_else(|| "服务器拒收这张照片".to_owned())))
        }
        // Signed out, the server restarting, a proxy in the way: try again later.
        _ => Err(JsValue::from_str("not stored")),
    }
}

async fn mark_uploaded(db: &Database, hash: &str, value: &JsValue) -> Result<(), StorageError> {
    let _ = Reflect::set(value, &"uploaded".into(), &JsValue::TRUE);
    let tx = db.transaction(&[PHOTOS], TransactionMode::ReadWrite)?;
    tx.object_store(PHOTOS)?.put(value, Some(&JsValue::from_str(hash)))?.await?;
    commit(tx).await
}

/// Tells the page where the photos stand, when that changed.
pub async fn report() {
    // A store that cannot be opened holds no photo: nothing waits (a retired phone may erase).
    let kept = match open().await {
        Ok(db) => shelf(&db).await.unwrap_or_default(),
        Err(_) => Vec::new(),
    };
    let referenced = referenced().await.unwrap_or_default();
    let report = PhotoReport {
        waiting: shelf::to_upload(&kept, &referenced).iter().map(|k| k.hash.clone()).collect(),
        bytes: kept.iter().map(|k| k.size).sum(),
        problem: PROBLEM.with(|p| p.borrow().clone()),
    };
    let changed = LAST.with(|l| l.borrow().as_ref() != Some(&report));
    if changed {
        LAST.with(|l| *l.borrow_mut() = Some(report.clone()));
        post(&FromWorker::Photos(report));
    }
}

/// Clears every photo (the device was retired or lost).
pub async fn erase() {
    if let Ok(db) = open().await {
        if let Ok(tx) = db.transaction(&[PHOTOS], TransactionMode::ReadWrite) {
            if let Ok(store) = tx.object_store(PHOTOS) {
                if let Ok(clear) = store.clear() {
                    let _ = clear.await;
                }
            }
            let _ = commit(tx).await;
        }
    }
}
