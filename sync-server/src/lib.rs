//! Pioneer Ledger's server as a library, so tests drive the same router the binary serves.

mod static_files;

use std::path::PathBuf;

use axum::{routing::get, Router};
use tower_http::compression::CompressionLayer;

pub struct Config {
    /// The built app (Trunk's `dist/`).
    pub dist: PathBuf,
}

pub fn router(config: Config) -> Router {
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .fallback_service(static_files::service(config.dist))
        .layer(CompressionLayer::new())
}
