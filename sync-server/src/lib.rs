//! Pioneer Ledger's server as a library, so tests drive the same router the binary serves:
//! the app's files, the `/sync` WebSocket, and the small JSON API.

// What the binary, the tests and the benchmarks use is public; everything else is the crate's
// own (`unreachable_pub` keeps it so).
#![warn(unreachable_pub)]

mod admin;
mod auth;
mod awards;
pub mod backup;
pub mod board;
pub mod data_check;
pub mod demo;
pub mod desk;
mod directory;
mod hub;
mod import;
mod limits;
mod metrics;
mod office;
mod origin;
pub mod photos;
mod read_model;
mod serve;
mod static_files;
mod storage;
mod sync_socket;
#[doc(hidden)]
pub mod test_postgres;
pub mod tls;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use axum::routing::{get, post};
use axum::Router;
use ledger_sync::DocumentId;
use tower_http::compression::CompressionLayer;

pub use directory::{hash_password, now_secs, Directory};
pub use hub::Hub;
pub use import::{read_table as read_import_table, MAX_FILE_BYTES as MAX_IMPORT_BYTES};
pub use limits::{ConnectionLimits, IDLE_TIMEOUT, REFUSALS_PER_MINUTE};
pub use read_model::{rebuild as rebuild_read_model, ReadModel};
pub use serve::{serve, serve_with, Client, Transport};
pub use storage::{Database, SharedPlace, Storage, DATABASE, SCHEMA_VERSION};

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
    /// [`limits::IDLE_TIMEOUT`], shorter in tests.
    pub idle_timeout: Duration,
    /// The bearer token `/metrics` wants on the public listener; None: it does not exist there.
    pub metrics_token: Option<Arc<str>>,
    /// The public board (先锋广场): its limits, rendered pages and secret.
    pub board: Arc<board::Board>,
    /// Bytes of photos each unit may keep ([`photos::DEFAULT_QUOTA`] unless set).
    pub photo_quota: u64,
    health: Arc<tokio::sync::Mutex<Option<(std::time::Instant, Result<(), String>)>>>,
}

impl AppState {
    /// Opens storage and the directory.
    pub fn open(data_dir: &std::path::Path) -> Result<Self, String> {
        Self::with_storage(Arc::new(Storage::open_with(data_dir, STORAGE_BUSY_TIMEOUT)?))
    }

    pub fn with_storage(storage: Arc<Storage>) -> Result<Self, String> {
        Self::with_board(storage, &board::BoardLimits::default(), None)
    }

    /// With the public board's limits and its public address (`--public-url`).
    pub fn with_board(storage: Arc<Storage>, limits: &board::BoardLimits, public_url: Option<String>) -> Result<Self, String> {
        let storage_id = match storage.setting("storage_id")? {
            Some(id) => id,
            None => {
                let id = format!("server-{}", DocumentId::random());
                storage.put_setting("storage_id", &id)?;
                id
            }
        };
        let shared = (!storage.is_sqlite()).then(|| storage.clone());
        let board = Arc::new(board::Board::new(storage.board_secret()?, limits, public_url, shared));
        let directory = Directory::open(storage.clone())?;
        let hub = Hub::new(storage, directory);
        Ok(Self {
            hub,
            peer_id: format!("server-{}", DocumentId::random()),
            storage_id,
            idle_timeout: IDLE_TIMEOUT,
            metrics_token: None,
            board,
            photo_quota: photos::DEFAULT_QUOTA,
            health: Arc::default(),
        })
    }
}

/// With PostgreSQL shared by several processes: what the others commit reaches this one's
/// documents, connections, figures and directory. Notices that arrive together are taken
/// together, each document once.
fn follow_other_processes(state: &AppState) {
    let Some(mut notices) = state.hub.storage.listen() else { return };
    let (hub, board) = (state.hub.clone(), state.board.clone());
    tokio::spawn(async move {
        while let Some(first) = notices.recv().await {
            let mut batch = vec![first];
            while batch.len() < 1024 {
                match notices.try_recv() {
                    Ok(n) => batch.push(n),
                    Err(_) => break,
                }
            }
            let (hub, board) = (hub.clone(), board.clone());
            let done = tokio::task::spawn_blocking(move || {
                let mut docs = std::collections::BTreeSet::new();
                for notice in batch {
                    match notice {
                        storage::Notice::Changed(doc) => {
                            docs.insert(doc);
                        }
                        storage::Notice::Directory => {
                            if let Err(e) = hub.directory.reload() {
                                tracing::warn!("directory not read again: {e}");
                            }
                            // Boards show what the organisation sets (its case rules).
                            board.forget_all();
                        }
                        storage::Notice::Revoked { device, status } => {
                            let _ = hub.directory.revoked.send(directory::Revoked { device, status });
                        }
                        storage::Notice::Resync => {
                            if let Err(e) = hub.directory.reload() {
                                tracing::warn!("directory not read again: {e}");
                            }
                            hub.refresh_all();
                            board.forget_all();
                        }
                    }
                }
                for doc in docs {
                    hub.refresh(&doc);
                }
            })
            .await;
            if let Err(e) = done {
                tracing::error!("following other processes: {e}");
            }
        }
    });
}

pub fn router(config: Config) -> Result<Router, String> {
    Ok(router_for(AppState::open(&config.data_dir)?, config.dist))
}

/// The router around state opened elsewhere (tests reach its storage this way).
pub fn router_for(state: AppState, dist: PathBuf) -> Router {
    let hub = state.hub.clone();
    // Ledgers from before the read model existed are projected once, in the background.
    let catching_up = state.hub.clone();
    tokio::task::spawn_blocking(move || {
        for unit in catching_up.directory.org().units.values() {
            let Some(doc) = unit.ledger.as_deref().and_then(|l| DocumentId::parse(l).ok()) else { continue };
            if let Err(e) = catching_up.catch_up(doc) {
                tracing::warn!(document = %doc, "read model not projected: {e}");
            }
        }
    });
    board::watch_changes(&state);
    follow_other_processes(&state);
    photos::collect_in_background(&state);
    // Bounded memory: documents idle for a while are dropped (storage keeps them).
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(Duration::from_secs(30)).await;
            hub.evict_idle();
        }
    });
    Router::new()
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics::with_token))
        .route("/api/me", get(auth::me))
        .route("/api/activate", post(auth::activate))
        .route("/api/login", post(auth::login))
        .route("/api/logout", post(auth::logout))
        .route("/api/setup", post(auth::setup))
        .route("/setup", get(setup_page))
        .route("/api/admin/org", get(admin::org))
        .route("/api/admin/units", post(admin::add_unit))
        .route("/api/admin/people", post(admin::add_person))
        .route("/api/admin/grants", post(admin::grant))
        .route("/api/admin/codes", post(admin::issue_code))
        .route("/api/admin/tokens", post(admin::issue_token))
        .route("/api/admin/devices", get(admin::devices))
        .route("/api/admin/devices/{id}/{action}", post(admin::device_status))
        .route("/api/admin/audit", get(admin::audit))
        .route("/api/admin/settings", get(admin::settings).post(admin::change_settings))
        .route("/api/admin/import", post(admin::import).layer(axum::extract::DefaultBodyLimit::max(import::MAX_FILE_BYTES)))
        .route("/api/admin/import/{file}", get(admin::import_template))
        .route("/api/desk/overview", get(desk::overview_route))
        .route("/api/desk/problems", get(desk::problems_route))
        .route("/api/desk/pledges", get(desk::pledges_route))
        .route("/api/desk/posts", get(desk::posts_route))
        .route("/api/desk/cases", get(desk::cases_route))
        .route("/api/desk/tasks", get(desk::tasks_route))
        .route("/api/desk/photos", get(desk::photos_route))
        .route("/api/board/contacts/{ledger}/{rating}", get(board::contact::contact_route))
        .route("/api/desk/export.xlsx", get(desk::export_route))
        .route("/api/desk/records/{ledger}/{section}/{id}", get(desk::record_route))
        .route("/api/desk/records/{ledger}/{section}/{id}/remarks", post(desk::remark_route))
        .route("/api/office", get(office::view))
        .route("/api/office/rounds", post(office::open_round))
        .route("/api/office/rounds/{id}", get(office::round_detail))
        .route("/api/office/notices", post(office::publish_notice))
        .route("/api/office/plans/{round}/{unit}", get(office::plan))
        .route("/api/office/plans/{round}/{unit}/review", post(office::review))
        .route("/api/office/awards", get(awards::office_rounds).post(awards::open_round))
        .route("/api/office/awards/{id}", get(awards::office_round_detail))
        .route("/api/office/awards/{round}/nominations/{id}/opinions", post(awards::record_opinion))
        .route("/api/office/awards/{round}/nominations/{id}/shortlist", post(awards::shortlist))
        .route("/api/office/awards/{round}/publicity", post(awards::start_publicity))
        .route("/api/office/awards/{round}/objections/{id}", post(awards::settle_objection))
        .route("/api/office/awards/{round}/decision", post(awards::decide))
        .route("/api/awards", get(awards::secretary_rounds))
        .route("/api/awards/evidence", get(awards::evidence_choices))
        .route("/api/awards/{id}", get(awards::secretary_round_detail))
        .route("/api/awards/{round}/nominations", post(awards::nominate))
        .route("/api/awards/{round}/nominations/{id}/withdraw", post(awards::withdraw))
        .route("/api/desk/people", get(awards::people))
        .route("/api/desk/people/{id}/record", get(awards::person_record))
        .route("/api/desk/people/{id}/record.xlsx", get(awards::person_record_xlsx))
        .route("/api/photos/{hash}", get(photos::get).put(photos::put).layer(axum::extract::DefaultBodyLimit::max(photos::MAX_UPLOAD)))
        .route("/sync", get(sync_socket::upgrade))
        .merge(board::routes())
        .fallback_service(static_files::service(dist))
        .layer(axum::middleware::from_fn(origin::same_origin))
        .layer(CompressionLayer::new())
        .with_state(state)
}

/// The first administrator's setup page (the link the server prints on its first start).
/// A page of its own, not part of the phone's shell.
async fn setup_page() -> axum::response::Html<&'static str> {
    axum::response::Html(include_str!("setup.html"))
}

/// How long one proof that storage takes writes stands for: a flood of health checks costs one
/// synced write per period, not one each.
const HEALTH_PROBE_PERIOD: Duration = Duration::from_secs(5);

/// `/healthz`: 200 once storage has accepted a write within the probe period, else 503 naming
/// why (a full disk, a database locked by another process).
async fn healthz(axum::extract::State(state): axum::extract::State<AppState>) -> axum::response::Response {
    use axum::response::IntoResponse;
    let mut last = state.health.lock().await;
    let fresh = last.as_ref().filter(|(at, _)| at.elapsed() < HEALTH_PROBE_PERIOD).map(|(_, r)| r.clone());
    let verdict = match fresh {
        Some(r) => r,
        None => {
            let storage = state.hub.storage.clone();
            let r = tokio::task::spawn_blocking(move || storage.probe_write(directory::now_secs())).await.unwrap_or_else(|e| Err(e.to_string()));
            *last = Some((std::time::Instant::now(), r.clone()));
            r
        }
    };
    match verdict {
        Ok(()) => "ok".into_response(),
        Err(e) => (axum::http::StatusCode::SERVICE_UNAVAILABLE, format!("storage does not accept writes: {e}")).into_response(),
    }
}

/// Tells `/metrics` where the scheduled backups are, for their age.
pub fn watch_backups(dir: PathBuf) {
    metrics::watch_backups(dir);
}

/// The public board alone (`--public-listen`): what an IT office exposes to the internet while
/// the app, sync and the desk stay on the internal network.
pub fn public_router(state: AppState) -> Router {
    board::watch_changes(&state);
    follow_other_processes(&state);
    board::routes().layer(axum::middleware::from_fn(origin::same_origin)).layer(CompressionLayer::new()).with_state(state)
}

/// The internal listener's router (`--metrics-listen`): `/metrics` for whoever reaches it, and
/// `/healthz` (what a container's health check asks, with `sync-server health`).
pub fn metrics_router(state: AppState) -> Router {
    Router::new().route("/metrics", get(metrics::internal)).route("/healthz", get(healthz)).with_state(state)
}

/// The plain-HTTP listener beside HTTPS: it only sends every request to the same path over
/// HTTPS (308, so a POST stays a POST), except the local authority's certificate, which a phone
/// must fetch before it can trust anything over HTTPS (`--lan` only; it is public).
pub fn redirect_router(https_port: u16, local_authority: Option<PathBuf>) -> Router {
    use axum::http::{header, StatusCode, Uri};
    use axum::response::IntoResponse;
    let redirect = move |headers: axum::http::HeaderMap, uri: Uri| async move {
        let Some(host) = headers.get(header::HOST).and_then(|h| h.to_str().ok()).and_then(|h| h.parse::<axum::http::uri::Authority>().ok()) else {
            return (StatusCode::BAD_REQUEST, "no Host").into_response();
        };
        let port = if https_port == 443 { String::new() } else { format!(":{https_port}") };
        let path = uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
        (StatusCode::PERMANENT_REDIRECT, [(header::LOCATION, format!("https://{}{port}{path}", host.host()))]).into_response()
    };
    let mut router = Router::new();
    if let Some(ca) = local_authority {
        router = router.route(
            "/ca.crt",
            get(move || async move {
                match tokio::fs::read(&ca).await {
                    Ok(pem) => ([(header::CONTENT_TYPE, "application/x-x509-ca-cert"), (header::CONTENT_DISPOSITION, "attachment; filename=\"pioneer-ledger-ca.crt\"")], pem)
                        .into_response(),
                    Err(_) => StatusCode::NOT_FOUND.into_response(),
                }
            }),
        );
    }
    router.fallback(redirect)
}

/// Tells browsers to come back over HTTPS only, for a year (on the server's own TLS).
pub fn with_hsts(app: Router) -> Router {
    app.layer(tower_http::set_header::SetResponseHeaderLayer::if_not_present(
        axum::http::header::STRICT_TRANSPORT_SECURITY,
        axum::http::HeaderValue::from_static("max-age=31536000"),
    ))
}
