//! `/api/photos/{hash}`: a photo's bytes, uploaded by a phone of the unit whose record
//! references it and read by whoever may read such a record, checked on every request (the
//! answer may be cached only as "ask again": `no-cache` with the hash as its ETag).
//!
//! A phone uploads a photo after the record that references it has synced: a photo no record
//! references is refused, so nobody can fill the server with bytes the ledger does not name,
//! and the unit whose quota it counts against is the one whose ledger holds it.

use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use ledger::org::Write;
use ledger::photo::{valid_hash, MAX_PHOTO_BYTES, PHOTO_TYPE};
use ledger_sync::DocumentId;
use sha2::{Digest, Sha256};

use crate::auth::{principal, refusal};
use crate::storage::photos::Refusal;
use crate::AppState;

/// Bytes of photos a unit may keep on the server unless the operator says otherwise
/// (`--photo-quota-mb`): about 7,000 photos as the phone sends them.
pub const DEFAULT_QUOTA: u64 = 2 * 1024 * 1024 * 1024;

/// How long a photo no record references any more is kept: long enough for a phone that
/// removed it by mistake to be told, short enough that deleting means deleted.
pub const GRACE: Duration = Duration::from_secs(24 * 3600);

/// How often unreferenced photos are looked for.
const COLLECT_EVERY: Duration = Duration::from_secs(3600);

fn not_found() -> Response {
    refusal(StatusCode::NOT_FOUND, "not_found", "没有这张照片")
}

/// The ledgers referencing `hash` that `person` may read (`write`: may write as a cadre).
fn ledgers_for(state: &AppState, person: &str, hash: &str, write: bool) -> Result<Vec<DocumentId>, String> {
    let ledgers = state.hub.storage.photo_ledgers(hash)?;
    let directory = &state.hub.directory;
    Ok(ledgers
        .iter()
        .filter_map(|l| DocumentId::parse(l).ok())
        .filter(|doc| {
            let rights = directory.rights(person, doc);
            if write {
                rights.write >= Write::Cadre
            } else {
                rights.read
            }
        })
        .collect())
}

/// `GET /api/photos/{hash}`: the JPEG to a reader of a record that holds it; 404 `pending`
/// when such a record exists but its phone has not uploaded the photo yet (the app says
/// 照片待上传), 404 `not_found` to everyone else, as for a photo that never existed.
pub(crate) async fn get(State(state): State<AppState>, headers: HeaderMap, Path(hash): Path<String>) -> Response {
    let (p, _) = match principal(&state, &headers, None).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    if p.retired || !valid_hash(&hash) {
        return not_found();
    }
    let etag = format!("\"{hash}\"");
    let found = {
        let (state, hash) = (state.clone(), hash.clone());
        tokio::task::spawn_blocking(move || -> Result<_, String> {
            if ledgers_for(&state, &p.person, &hash, false)?.is_empty() {
                return Ok(None);
            }
            Ok(Some(state.hub.storage.photo(&hash)?))
        })
        .await
    };
    let stored = match found {
        Ok(Ok(Some(Some(stored)))) => stored,
        Ok(Ok(Some(None))) => return refusal(StatusCode::NOT_FOUND, "pending", "照片待上传"),
        Ok(Ok(None)) => return not_found(),
        Ok(Err(e)) => return refusal(StatusCode::INTERNAL_SERVER_ERROR, "failed", &e),
        Err(e) => return refusal(StatusCode::INTERNAL_SERVER_ERROR, "failed", &e.to_string()),
    };
    let cache = [(header::CACHE_CONTROL, "private, no-cache".to_owned()), (header::ETAG, etag.clone())];
    if headers.get(header::IF_NONE_MATCH).and_then(|v| v.to_str().ok()).is_some_and(|v| v.split(',').any(|t| t.trim() == etag)) {
        return (StatusCode::NOT_MODIFIED, cache).into_response();
    }
    let head = (cache, [(header::CONTENT_TYPE, PHOTO_TYPE.to_owned()), (header::CONTENT_LENGTH, stored.size.to_string())]);
    let Some(path) = stored.path else {
        // In the database (PostgreSQL): read whole (at most 3 MB), on the blocking pool.
        let storage = state.hub.storage.clone();
        return match tokio::task::spawn_blocking(move || storage.photo_content(&hash)).await {
            Ok(Ok(Some(bytes))) => (head, bytes).into_response(),
            Ok(Ok(None)) => not_found(),
            Ok(Err(e)) => refusal(StatusCode::INTERNAL_SERVER_ERROR, "failed", &e),
            Err(e) => refusal(StatusCode::INTERNAL_SERVER_ERROR, "failed", &e.to_string()),
        };
    };
    // Streamed from the file: a reader costs a buffer, not the photo's size in memory.
    let file = match tokio::fs::File::open(&path).await {
        Ok(f) => f,
        Err(e) => return refusal(StatusCode::INTERNAL_SERVER_ERROR, "failed", &format!("照片文件无法读取：{e}")),
    };
    let body = axum::body::Body::from_stream(tokio_util::io::ReaderStream::new(file));
    (head, body).into_response()
}

/// `PUT /api/photos/{hash}` with the JPEG as the body, from a phone of the unit whose record
/// references it: stored durably before the answer (201, or 200 when it was stored already).
/// Refused: bytes that are not the hash's (400), not a JPEG (415), no record of the sender's
/// units references it yet (409 `not_referenced`: sync first), over the unit's quota (507).
pub(crate) async fn put(State(state): State<AppState>, headers: HeaderMap, Path(hash): Path<String>, body: axum::body::Bytes) -> Response {
    let (p, _) = match principal(&state, &headers, None).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    if !valid_hash(&hash) {
        return not_found();
    }
    // Baseline JPEG starts with a start-of-image marker; the phone writes nothing else.
    if !body.starts_with(&[0xFF, 0xD8, 0xFF]) {
        return refusal(StatusCode::UNSUPPORTED_MEDIA_TYPE, "not_jpeg", "照片须为 JPEG 格式");
    }
    let state2 = state.clone();
    let result = tokio::task::spawn_blocking(move || -> Result<Response, String> {
        if hex(&Sha256::digest(&body)) != hash {
            return Ok(refusal(StatusCode::BAD_REQUEST, "hash_mismatch", "照片内容与其编号不符，请重新上传"));
        }
        let ledgers = ledgers_for(&state2, &p.person, &hash, true)?;
        let Some(unit) = ledgers.first().and_then(|doc| state2.hub.directory.unit_of(doc)) else {
            return Ok(refusal(StatusCode::CONFLICT, "not_referenced", "引用这张照片的记录尚未同步，请先同步"));
        };
        match state2.hub.storage.put_photo(&unit, &hash, &body, state2.photo_quota, crate::directory::now_secs()) {
            Ok(stored) => Ok((if stored { StatusCode::CREATED } else { StatusCode::OK }, "stored").into_response()),
            Err(Refusal::Quota { used, quota }) => Ok(refusal(
                StatusCode::INSUFFICIENT_STORAGE,
                "quota",
                &format!("本单位的照片空间已满（已用 {} MB，上限 {} MB），请联系管理员", used / (1024 * 1024), quota / (1024 * 1024)),
            )),
            Err(Refusal::Storage(e)) => Err(e),
        }
    })
    .await;
    match result {
        Ok(Ok(r)) => r,
        Ok(Err(e)) => refusal(StatusCode::SERVICE_UNAVAILABLE, "failed", &format!("照片未能保存：{e}")),
        Err(e) => refusal(StatusCode::INTERNAL_SERVER_ERROR, "failed", &e.to_string()),
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The body limit of an upload: a photo as large as the ledger admits, and a little.
pub(crate) const MAX_UPLOAD: usize = MAX_PHOTO_BYTES as usize + 1024;

/// Removes unreferenced photos every [`COLLECT_EVERY`], after [`GRACE`].
pub(crate) fn collect_in_background(state: &AppState) {
    let storage = state.hub.storage.clone();
    tokio::spawn(async move {
        loop {
            let storage = storage.clone();
            let result = tokio::task::spawn_blocking(move || storage.collect_photos(crate::directory::now_secs(), GRACE.as_secs() as i64)).await;
            match result {
                Ok(Ok(gone)) if !gone.is_empty() => tracing::info!(removed = gone.len(), "photos no record references any more were removed"),
                Ok(Err(e)) => tracing::warn!("photo collection failed: {e}"),
                _ => {}
            }
            tokio::time::sleep(COLLECT_EVERY).await;
        }
    });
}
