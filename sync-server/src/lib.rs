//! Pioneer Ledger's server as a library, so tests drive the same router the binary serves:
//! the app's files, the `/sync` WebSocket, and the small JSON API.

mod hub;
pub mod limits;
mod serve;
mod static_files;
pub mod storage;
mod sync_socket;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use automerge::ActorId;
use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use ledger_sync::DocumentId;
use ledger::UnitLedger;
use tower_http::compression::CompressionLayer;

pub use hub::Hub;
pub use limits::{ConnectionLimits, IDLE_TIMEOUT};
pub use serve::serve;
pub use storage::Storage;

pub struct Config {
    /// The built app (Trunk's `dist/`).
    pub dist: PathBuf,
    pub data_dir: PathBuf,
}

/// How long a write waits for a database lock held elsewhere before it fails (and nothing is
/// acknowledged).
pub const STORAGE_BUSY_TIMEOUT: Duration = Duration::from_secs(5);

#[derive(Clone)]
pub struct AppState {
    pub hub: Arc<Hub>,
    /// This process's peer id (fresh per start) and its storage id (fixed per data directory).
    pub peer_id: String,
    pub storage_id: String,
    /// The one demo unit's ledger, until accounts and the organisation tree exist.
    pub demo_ledger: DocumentId,
    /// [`limits::IDLE_TIMEOUT`], shorter in tests.
    pub idle_timeout: Duration,
}

impl AppState {
    /// Opens storage and makes sure the demo unit's ledger exists.
    pub fn open(data_dir: &std::path::Path) -> Result<Self, String> {
        Self::with_storage(Arc::new(Storage::open_with(data_dir, STORAGE_BUSY_TIMEOUT)?))
    }

    pub fn with_storage(storage: Arc<Storage>) -> Result<Self, String> {
        let storage_id = match storage.setting("storage_id")? {
            Some(id) => id,
            None => {
                let id = format!("server-{}", DocumentId::random());
                storage.put_setting("storage_id", &id)?;
                id
            }
        };
        let demo_ledger = match storage.setting("demo_ledger")?.and_then(|s| DocumentId::parse(&s).ok()) {
            Some(id) => id,
            None => {
                let id = DocumentId::random();
                storage.create(&id, &UnitLedger::create(ActorId::random()).save())?;
                storage.put_setting("demo_ledger", &id.to_string())?;
                id
            }
        };
        let hub = Hub::new(storage);
        Ok(Self { hub, peer_id: format!("server-{}", DocumentId::random()), storage_id, demo_ledger, idle_timeout: IDLE_TIMEOUT })
    }
}

pub fn router(config: Config) -> Result<Router, String> {
    Ok(router_for(AppState::open(&config.data_dir)?, config.dist))
}

/// The router around state opened elsewhere (tests reach its storage this way).
pub fn router_for(state: AppState, dist: PathBuf) -> Router {
    let hub = state.hub.clone();
    // Bounded memory: documents idle for a while are dropped (storage keeps them).
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(Duration::from_secs(30)).await;
            hub.evict_idle();
        }
    });
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/api/ledger", get(demo_ledger))
        .route("/sync", get(sync_socket::upgrade))
        .fallback_service(static_files::service(dist))
        .layer(CompressionLayer::new())
        .with_state(state)
}

/// Which ledger this device works in. Until accounts exist: the demo unit's.
async fn demo_ledger(State(state): State<AppState>) -> Json<serde_json::Value> {
    Json(serde_json::json!({ "documentId": state.demo_ledger.to_string(), "url": state.demo_ledger.url() }))
}
