//! The browser's durable store: IndexedDB holding each document as one snapshot plus
//! incremental chunks. A write returns only after its transaction has completed.

use idb::{Database, DatabaseEvent, Factory, KeyPath, ObjectStoreParams, Query, TransactionMode};
use js_sys::{Object, Reflect, Uint8Array};
use ledger_sync::compaction::{Outcome, Plan, Tag};
use wasm_bindgen::{JsCast, JsValue};

const DB_NAME: &str = "pioneer-ledger";
const DB_VERSION: u32 = 3;
const SNAPSHOTS: &str = "snapshots";
/// Cached visit lists (see `ledger::view_cache`), version 2 of the database.
const VIEWS: &str = "views";
const CHUNKS: &str = "chunks";
/// Sync states per (server storage id, document), version 3 of the database.
const SYNC_STATES: &str = "sync_states";
const CHUNKS_BY_DOC: &str = "by_doc";

/// Why a read or write failed, in words a cadre can act on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StorageError {
    /// The browser refused to store more (QuotaExceededError).
    Full,
    /// IndexedDB is missing or blocked (private mode, disabled by policy, another tab upgrading).
    Unavailable(String),
    Failed(String),
}

impl std::fmt::Display for StorageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        ledger::worker_protocol::StorageFailure::from(self.clone()).fmt(f)
    }
}

impl From<StorageError> for ledger::worker_protocol::StorageFailure {
    fn from(e: StorageError) -> Self {
        match e {
            StorageError::Full => Self::Full,
            StorageError::Unavailable(why) => Self::Unavailable(why),
            StorageError::Failed(why) => Self::Failed(why),
        }
    }
}

impl From<idb::Error> for StorageError {
    fn from(e: idb::Error) -> Self {
        let text = e.to_string();
        let name = match &e {
            idb::Error::DomException(d) => d.name(),
            _ => text.clone(),
        };
        if name.contains("QuotaExceeded") {
            Self::Full
        } else if matches!(e, idb::Error::IndexedDbNotFound(_) | idb::Error::IndexedDbOpenFailed(_)) || name.contains("InvalidState") {
            Self::Unavailable(text)
        } else {
            Self::Failed(text)
        }
    }
}

/// A document as stored: its snapshot (with the tag of the compaction that wrote it) and the
/// chunks written after it, by key.
pub struct StoredDoc {
    pub snapshot: Option<Vec<u8>>,
    pub tag: Tag,
    pub chunks: Vec<(u64, Vec<u8>)>,
    /// The cached view and the document heads it was made at.
    pub view: Option<CachedView>,
}

pub struct CachedView {
    pub heads: String,
    pub bytes: Vec<u8>,
}

#[derive(Clone)]
pub struct Store {
    db: std::rc::Rc<Database>,
}

impl Store {
    pub async fn open() -> Result<Self, StorageError> {
        let factory = Factory::new()?;
        let mut request = factory.open(DB_NAME, Some(DB_VERSION))?;
        request.on_upgrade_needed(|event| {
            let Ok(db) = event.database() else { return };
            if !db.store_names().iter().any(|s| s == SNAPSHOTS) {
                let _ = db.create_object_store(SNAPSHOTS, ObjectStoreParams::new());
            }
            if !db.store_names().iter().any(|s| s == SYNC_STATES) {
                let _ = db.create_object_store(SYNC_STATES, ObjectStoreParams::new());
            }
            if !db.store_names().iter().any(|s| s == VIEWS) {
                let _ = db.create_object_store(VIEWS, ObjectStoreParams::new());
            }
            if !db.store_names().iter().any(|s| s == CHUNKS) {
                let mut params = ObjectStoreParams::new();
                params.auto_increment(true);
                if let Ok(store) = db.create_object_store(CHUNKS, params) {
                    let _ = store.create_index(CHUNKS_BY_DOC, KeyPath::new_single("doc"), None);
                }
            }
        });
        let db = request.await?;
        Ok(Self { db: std::rc::Rc::new(db) })
    }

    /// Reads a document's snapshot and chunks in one consistent transaction.
    pub async fn load(&self, doc: &str) -> Result<StoredDoc, StorageError> {
        let tx = self.db.transaction(&[SNAPSHOTS, CHUNKS, VIEWS], TransactionMode::ReadOnly)?;
        let (snapshot, tag) = read_snapshot(&tx, doc).await?;
        let chunks = read_chunks(&tx, doc).await?;
        let view = tx.object_store(VIEWS)?.get(JsValue::from_str(doc))?.await?.map(|v| CachedView {
            heads: Reflect::get(&v, &"heads".into()).ok().and_then(|h| h.as_string()).unwrap_or_default(),
            bytes: to_bytes(&Reflect::get(&v, &"bytes".into()).unwrap_or(JsValue::UNDEFINED)),
        });
        tx.await?;
        Ok(StoredDoc { snapshot, tag, chunks, view })
    }

    /// Appends a chunk; returns its key once it is durable.
    pub async fn append_chunk(&self, doc: &str, bytes: &[u8]) -> Result<u64, StorageError> {
        let tx = self.db.transaction(&[CHUNKS], TransactionMode::ReadWrite)?;
        let value = Object::new();
        let _ = Reflect::set(&value, &"doc".into(), &doc.into());
        let _ = Reflect::set(&value, &"bytes".into(), &Uint8Array::from(bytes));
        let key = tx.object_store(CHUNKS)?.add(&value, None)?.await?;
        commit(tx).await?;
        Ok(key_number(&key))
    }

    pub async fn sync_state(&self, key: &str) -> Result<Option<Vec<u8>>, StorageError> {
        let tx = self.db.transaction(&[SYNC_STATES], TransactionMode::ReadOnly)?;
        let value = tx.object_store(SYNC_STATES)?.get(JsValue::from_str(key))?.await?;
        Ok(value.map(|v| to_bytes(&v)))
    }

    pub async fn put_sync_state(&self, key: &str, state: &[u8]) -> Result<(), StorageError> {
        let tx = self.db.transaction(&[SYNC_STATES], TransactionMode::ReadWrite)?;
        tx.object_store(SYNC_STATES)?.put(&Uint8Array::from(state), Some(&JsValue::from_str(key)))?.await?;
        commit(tx).await
    }

    /// Empties every store, in one transaction (a retired or lost device erases what it holds;
    /// clearing works beside the app's own open connection, where deleting the database would
    /// wait for it).
    pub async fn clear_all(&self) -> Result<(), StorageError> {
        let stores = [SNAPSHOTS, SYNC_STATES, VIEWS, CHUNKS];
        let tx = self.db.transaction(&stores, TransactionMode::ReadWrite)?;
        for name in stores {
            tx.object_store(name)?.clear()?.await?;
        }
        commit(tx).await
    }

    /// Replaces the cached view of a document.
    pub async fn put_view(&self, doc: &str, heads: &str, bytes: &[u8]) -> Result<(), StorageError> {
        let tx = self.db.transaction(&[VIEWS], TransactionMode::ReadWrite)?;
        let value = Object::new();
        let _ = Reflect::set(&value, &"heads".into(), &heads.into());
        let _ = Reflect::set(&value, &"bytes".into(), &Uint8Array::from(bytes));
        tx.object_store(VIEWS)?.put(&value, Some(&JsValue::from_str(doc)))?.await?;
        commit(tx).await
    }

    /// Carries out a compaction `plan` in one transaction: only if the stored snapshot is still
    /// the plan's base and every planned chunk is still there (another tab may have compacted
    /// meanwhile), `fold` gets exactly the planned chunks, must merge them into the document
    /// that already holds the base, and returns the new snapshot, which is written with the
    /// plan's tag while exactly the planned chunks are deleted. Otherwise nothing is written.
    pub async fn compact(&self, doc: &str, plan: &Plan<u64>, fold: impl FnOnce(&[Vec<u8>]) -> Vec<u8>) -> Result<Outcome, StorageError> {
        let tx = self.db.transaction(&[SNAPSHOTS, CHUNKS], TransactionMode::ReadWrite)?;
        let (_, tag) = read_snapshot(&tx, doc).await?;
        let chunks = read_chunks(&tx, doc).await?;
        let keys: Vec<u64> = chunks.iter().map(|(k, _)| *k).collect();
        if !plan.may_replace(tag, &keys) {
            let _ = commit(tx).await;
            return Ok(Outcome::Stale);
        }
        let planned: Vec<Vec<u8>> = chunks.into_iter().filter(|(k, _)| plan.chunks.contains(k)).map(|(_, c)| c).collect();
        let snapshot = fold(&planned);
        let value = Object::new();
        let _ = Reflect::set(&value, &"bytes".into(), &Uint8Array::from(&snapshot[..]));
        let _ = Reflect::set(&value, &"tag".into(), &JsValue::from_f64(plan.new_tag as f64));
        tx.object_store(SNAPSHOTS)?.put(&value, Some(&JsValue::from_str(doc)))?.await?;
        let store = tx.object_store(CHUNKS)?;
        for key in &plan.chunks {
            store.delete(Query::Key(JsValue::from_f64(*key as f64)))?.await?;
        }
        commit(tx).await?;
        Ok(Outcome::Replaced { snapshot_bytes: snapshot.len() })
    }
}

/// The snapshot and its tag. A snapshot written before tags existed is plain bytes: tag 0.
async fn read_snapshot(tx: &idb::Transaction, doc: &str) -> Result<(Option<Vec<u8>>, Tag), StorageError> {
    let Some(value) = tx.object_store(SNAPSHOTS)?.get(JsValue::from_str(doc))?.await? else { return Ok((None, 0)) };
    if value.is_instance_of::<Uint8Array>() {
        return Ok((Some(to_bytes(&value)), 0));
    }
    let bytes = to_bytes(&Reflect::get(&value, &"bytes".into()).unwrap_or(JsValue::UNDEFINED));
    let tag = Reflect::get(&value, &"tag".into()).ok().and_then(|t| t.as_f64()).unwrap_or(0.0) as Tag;
    Ok((Some(bytes), tag))
}

/// IndexedDB's auto-increment keys are numbers below 2^53.
fn key_number(key: &JsValue) -> u64 {
    key.as_f64().unwrap_or(0.0) as u64
}

async fn read_chunks(tx: &idb::Transaction, doc: &str) -> Result<Vec<(u64, Vec<u8>)>, StorageError> {
    let index = tx.object_store(CHUNKS)?.index(CHUNKS_BY_DOC)?;
    let keys = index.get_all_keys(Some(Query::Key(JsValue::from_str(doc))), None)?.await?;
    let values = index.get_all(Some(Query::Key(JsValue::from_str(doc))), None)?.await?;
    Ok(keys.into_iter().zip(values).map(|(k, v)| (key_number(&k), to_bytes(&Reflect::get(&v, &"bytes".into()).unwrap_or(JsValue::UNDEFINED)))).collect())
}

/// Waits for the transaction to complete. An abort (quota exceeded shows up this way, after
/// the request itself succeeded) is reported with the transaction's own error.
pub(crate) async fn commit(tx: idb::Transaction) -> Result<(), StorageError> {
    let raw: web_sys::IdbTransaction = tx.into();
    match idb::Transaction::from(raw.clone()).await? {
        idb::TransactionResult::Committed => Ok(()),
        idb::TransactionResult::Aborted => Err(match raw.error() {
            Some(e) => StorageError::from(idb::Error::DomException(e)),
            None => StorageError::Failed("事务被中止".into()),
        }),
    }
}

fn to_bytes(v: &JsValue) -> Vec<u8> {
    v.dyn_ref::<Uint8Array>().map(Uint8Array::to_vec).unwrap_or_default()
}
