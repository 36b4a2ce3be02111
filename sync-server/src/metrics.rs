//! `/metrics` in Prometheus' text format: what an operator watches. Counters are bumped where
//! things happen (one process-wide set, like the log); what is a state rather than an event
//! (documents in memory, storage size, backup age) is read when scraped. Never public: served
//! on `--metrics-listen` (an internal address) or to a bearer of `--metrics-token-file`.

use std::path::PathBuf;
use std::sync::atomic::AtomicU64;
use std::sync::{LazyLock, OnceLock};
use std::time::{Duration, Instant, SystemTime};

use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;

use crate::AppState;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Reason {
    reason: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Outcome {
    outcome: &'static str,
}

struct Metrics {
    connections: Gauge,
    sync_sessions: Gauge,
    documents_in_memory: Gauge,
    messages_in: Counter,
    messages_out: Counter,
    bytes_in: Counter,
    bytes_out: Counter,
    persist_seconds: Histogram,
    refusals: Family<Reason, Counter>,
    compactions: Family<Outcome, Counter>,
    storage_bytes: Gauge,
    backup_age_seconds: Gauge<f64, AtomicU64>,
    backups: Family<Outcome, Counter>,
    board_writes: Family<Outcome, Counter>,
    registry: Registry,
}

static METRICS: LazyLock<Metrics> = LazyLock::new(|| {
    let mut registry = Registry::with_prefix("pioneer");
    macro_rules! metric {
        ($name:literal, $help:literal, $value:expr) => {{
            let value = $value;
            registry.register($name, $help, value.clone());
            value
        }};
    }
    Metrics {
        connections: metric!("connections", "Open HTTP and WebSocket connections", Gauge::default()),
        sync_sessions: metric!("sync_sessions", "Open sync WebSockets", Gauge::default()),
        documents_in_memory: metric!("documents_in_memory", "Documents the server holds in memory", Gauge::default()),
        messages_in: metric!("sync_messages_received", "Sync messages received", Counter::default()),
        messages_out: metric!("sync_messages_sent", "Sync messages sent", Counter::default()),
        bytes_in: metric!("sync_bytes_received", "Bytes of sync messages received", Counter::default()),
        bytes_out: metric!("sync_bytes_sent", "Bytes of sync messages sent", Counter::default()),
        // 0.5 ms to about 8 s: a commit is a few ms with fsync, and seconds mean a sick disk.
        persist_seconds: metric!("persist_seconds", "Time to commit received changes to storage", Histogram::new(exponential_buckets(0.0005, 2.0, 15))),
        refusals: metric!("refusals", "Requests, connections and changes refused, by reason", Family::default()),
        compactions: metric!("compactions", "Compactions of stored documents, by outcome", Family::default()),
        board_writes: metric!("board_writes", "Ratings, 留言 and rechecks the public board stored, by kind", Family::default()),
        storage_bytes: metric!("storage_bytes", "Bytes of the database and its write-ahead log", Gauge::default()),
        backup_age_seconds: metric!("backup_age_seconds", "Seconds since the newest scheduled backup (-1: none)", Gauge::default()),
        backups: metric!("backups", "Scheduled backups, by outcome", Family::default()),
        registry: {
            registry.register("build", "The server's version", prometheus_client::metrics::info::Info::new(vec![("version", env!("CARGO_PKG_VERSION"))]));
            registry
        },
    }
});

/// Compares a secret without telling by the time taken how much of it was right: the digests
/// are compared, whatever the lengths.
fn same_secret(given: &[u8], expected: &[u8]) -> bool {
    use sha2::{Digest, Sha256};
    let (a, b) = (Sha256::digest(given), Sha256::digest(expected));
    a.iter().zip(b.iter()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Where scheduled backups go, once the server knows (for their age).
static BACKUP_DIR: OnceLock<PathBuf> = OnceLock::new();

pub(crate) fn watch_backups(dir: PathBuf) {
    let _ = BACKUP_DIR.set(dir);
}

pub(crate) fn connection_opened() {
    METRICS.connections.inc();
}

pub(crate) fn connection_closed() {
    METRICS.connections.dec();
}

/// An open sync socket: counted while the guard lives.
pub(crate) struct SyncSession;

impl SyncSession {
    pub(crate) fn open() -> Self {
        METRICS.sync_sessions.inc();
        Self
    }
}

impl Drop for SyncSession {
    fn drop(&mut self) {
        METRICS.sync_sessions.dec();
    }
}

pub(crate) fn received(bytes: usize) {
    METRICS.messages_in.inc();
    METRICS.bytes_in.inc_by(bytes as u64);
}

pub(crate) fn sent(bytes: usize) {
    METRICS.messages_out.inc();
    METRICS.bytes_out.inc_by(bytes as u64);
}

pub(crate) fn persisted(started: Instant) {
    METRICS.persist_seconds.observe(started.elapsed().as_secs_f64());
}

/// Something refused; `reason` is a short code (`wrong`, `write_scope`, `connection_limit`).
pub(crate) fn refused(reason: &str) {
    METRICS.refusals.get_or_create(&Reason { reason: reason.to_owned() }).inc();
}

/// The public board turned a write away by one of its limits (`address`, `browser`,
/// `browser_target`, `global`).
pub(crate) fn board_refused(limit: &str) {
    refused(&format!("board_{limit}"));
}

pub(crate) fn board_stored(kind: &'static str) {
    METRICS.board_writes.get_or_create(&Outcome { outcome: kind }).inc();
}

pub(crate) fn compacted(outcome: &'static str) {
    METRICS.compactions.get_or_create(&Outcome { outcome }).inc();
}

pub(crate) fn backup_done() {
    METRICS.backups.get_or_create(&Outcome { outcome: "done" }).inc();
}

pub(crate) fn backup_failed() {
    METRICS.backups.get_or_create(&Outcome { outcome: "failed" }).inc();
}

/// The text an operator's Prometheus reads, with the states read now.
pub(crate) fn render(state: &AppState) -> String {
    let m = &*METRICS;
    m.documents_in_memory.set(state.hub.loaded_documents() as i64);
    m.storage_bytes.set(state.hub.storage.bytes_on_disk() as i64);
    let age = BACKUP_DIR.get().and_then(|d| crate::backup::newest(d)).and_then(|t| SystemTime::now().duration_since(t).ok());
    m.backup_age_seconds.set(age.map_or(-1.0, |a: Duration| a.as_secs_f64()));
    let mut out = String::new();
    prometheus_client::encoding::text::encode(&mut out, &m.registry).expect("writing to a String");
    out
}

fn reply(state: &AppState) -> Response {
    ([(header::CONTENT_TYPE, "application/openmetrics-text; version=1.0.0; charset=utf-8")], render(state)).into_response()
}

/// `/metrics` on the internal listener: whoever reaches that address may read it.
pub(crate) async fn internal(State(state): State<AppState>) -> Response {
    reply(&state)
}

/// `/metrics` on the public listener: only with the operator's token (as `Authorization:
/// Bearer …`); without a token configured it does not exist.
pub(crate) async fn with_token(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let Some(expected) = state.metrics_token.as_deref() else { return StatusCode::NOT_FOUND.into_response() };
    let given = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).and_then(|v| v.strip_prefix("Bearer ")).unwrap_or("");
    if !same_secret(given.as_bytes(), expected.as_bytes()) {
        refused("metrics_token");
        return StatusCode::UNAUTHORIZED.into_response();
    }
    reply(&state)
}
