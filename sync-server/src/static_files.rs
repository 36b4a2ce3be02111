//! Serving the built app: precompressed files (the build writes .br and .gz beside each),
//! cache headers that let hashed assets live for a year while index.html and the service
//! worker are always revalidated, and index.html for every app route.

use std::path::{Path, PathBuf};

use axum::body::Body;
use axum::http::{header, HeaderValue, Request, Response, StatusCode};
use axum::response::IntoResponse;
use tower::ServiceExt;
use tower_http::services::{ServeDir, ServeFile};

const IMMUTABLE: &str = "public, max-age=31536000, immutable";
const REVALIDATE: &str = "no-cache";
const SHORT: &str = "public, max-age=86400";
/// The part of a Content-Security-Policy that cannot break the app: where it may be framed,
/// plugins, `<base>`. (Restricting scripts needs the hash of Trunk's inline loader.)
const FRAME_POLICY: &str = "frame-ancestors 'none'; object-src 'none'; base-uri 'self'";

pub fn service(dist: PathBuf) -> axum::routing::MethodRouter {
    axum::routing::get(move |req: Request<Body>| serve(dist.clone(), req))
}

async fn serve(dist: PathBuf, req: Request<Body>) -> Response<Body> {
    let path = req.uri().path().to_owned();
    let last = path.rsplit('/').next().unwrap_or_default();
    let is_app_route = !last.contains('.');
    let result = if is_app_route {
        // A page of the app (/, /visits/…): the router inside index.html picks it.
        ServeFile::new(dist.join("index.html")).precompressed_br().precompressed_gzip().oneshot(req).await
    } else {
        ServeDir::new(&dist).precompressed_br().precompressed_gzip().oneshot(req).await
    };
    let mut response = match result {
        Ok(r) => r.map(Body::new),
        Err(e) => return (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
    };
    if response.status().is_success() || response.status() == StatusCode::NOT_MODIFIED {
        let policy = if is_app_route { REVALIDATE } else { cache_policy(&path) };
        response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static(policy));
    }
    let headers = response.headers_mut();
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    // The same URL is sent brotli, gzip or plain by what the browser accepts: a shared cache
    // must keep them apart.
    headers.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    // Never inside another site's frame (clickjacking); no plugins, no base rewriting.
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(FRAME_POLICY));
    if path.ends_with(".webmanifest") {
        response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/manifest+json"));
    }
    response
}

/// Trunk names built assets `name-<16 hex digits>` (then `_bg` for the wasm, then the extension).
fn is_hashed(path: &str) -> bool {
    let file = Path::new(path).file_stem().and_then(|s| s.to_str()).unwrap_or_default();
    let file = file.strip_suffix("_bg").unwrap_or(file);
    file.rsplit_once('-').is_some_and(|(_, hash)| hash.len() >= 15 && hash.bytes().all(|b| b.is_ascii_hexdigit()))
}

fn cache_policy(path: &str) -> &'static str {
    if path == "/index.html" || path == "/sw.js" || path.ends_with(".webmanifest") {
        REVALIDATE
    } else if is_hashed(path) {
        IMMUTABLE
    } else {
        SHORT
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashed_names_are_recognised() {
        assert!(is_hashed("/app-555f2284e97743ce.js"));
        assert!(is_hashed("/app-555f2284e97743ce_bg.wasm"));
        assert!(is_hashed("/style-4c3e82b93777e1e.css"));
        assert!(!is_hashed("/sw.js"));
        assert!(!is_hashed("/icons/icon-192.png"));
        assert!(!is_hashed("/my-file.js"));
    }

    #[test]
    fn policies() {
        assert_eq!(cache_policy("/sw.js"), REVALIDATE);
        assert_eq!(cache_policy("/index.html"), REVALIDATE);
        assert_eq!(cache_policy("/app-555f2284e97743ce_bg.wasm"), IMMUTABLE);
        assert_eq!(cache_policy("/icons/icon-192.png"), SHORT);
    }
}
