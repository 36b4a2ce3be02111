//! Serving the built app: precompressed files (the build writes .br and .gz beside each),
//! cache headers that let hashed assets live for a year while index.html and the service
//! worker are always revalidated, and index.html for every app route.

use std::path::{Path, PathBuf};

use axum::body::Body;
use axum::http::{header, HeaderValue, Request, Response, StatusCode};
use axum::response::IntoResponse;
use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;
use sha2::{Digest, Sha256};
use tower::ServiceExt;
use tower_http::services::{ServeDir, ServeFile};

const IMMUTABLE: &str = "public, max-age=31536000, immutable";
const REVALIDATE: &str = "no-cache";
const SHORT: &str = "public, max-age=86400";
/// Everything from this origin only; scripts only the app's own files and Trunk's inline
/// loader (by its hash, read from the built index.html), WebAssembly allowed to compile; never
/// framed, no plugins, no `<base>` rewriting. An injected script or style does not run.
const POLICY: &str = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'{hashes}; style-src 'self'; img-src 'self' data:; \
     connect-src 'self'; worker-src 'self'; manifest-src 'self'; form-action 'self'; frame-ancestors 'none'; object-src 'none'; base-uri 'self'";

/// The Content-Security-Policy for the app in `dist`.
fn content_security_policy(dist: &Path) -> HeaderValue {
    let index = std::fs::read_to_string(dist.join("index.html")).unwrap_or_default();
    let hashes: String = inline_scripts(&index).map(|script| format!(" 'sha256-{}'", BASE64.encode(Sha256::digest(script.as_bytes())))).collect();
    HeaderValue::from_str(&POLICY.replace("{hashes}", &hashes)).expect("a policy of ASCII text")
}

/// The text of each `<script>` without `src` in a page. Trunk writes index.html itself, with
/// one plain inline module loader, so a scan for the tags is enough (no HTML parser needed).
fn inline_scripts(html: &str) -> impl Iterator<Item = &str> {
    html.split("<script").skip(1).filter_map(|rest| {
        let (attributes, body) = rest.split_once('>')?;
        let (text, _) = body.split_once("</script>")?;
        (!attributes.contains("src=")).then_some(text)
    })
}

pub(crate) fn service(dist: PathBuf) -> axum::routing::MethodRouter {
    let app = Bundle { policy: content_security_policy(&dist), dir: dist.clone() };
    let desk = Bundle { policy: content_security_policy(&dist.join(DESK)), dir: dist.join(DESK) };
    axum::routing::get(move |req: Request<Body>| {
        let in_desk = req.uri().path() == "/desk" || req.uri().path().starts_with("/desk/");
        serve(if in_desk { desk.clone() } else { app.clone() }, req)
    })
}

/// The desktop bundle's folder inside `dist` and its path on the server (`desk/Trunk.toml`).
const DESK: &str = "desk";

/// One built bundle: the phone's app at `/`, or the desk at `/desk/`.
#[derive(Clone)]
struct Bundle {
    dir: PathBuf,
    policy: HeaderValue,
}

async fn serve(bundle: Bundle, req: Request<Body>) -> Response<Body> {
    let Bundle { dir: dist, policy } = bundle;
    let path = req.uri().path().to_owned();
    let last = path.rsplit('/').next().unwrap_or_default();
    let is_app_route = !last.contains('.');
    let result = if is_app_route {
        // A page of the app (/, /visits/…, /desk/…): the router inside index.html picks it.
        ServeFile::new(dist.join("index.html")).precompressed_br().precompressed_gzip().oneshot(req).await
    } else {
        // The desk's files are asked for under /desk/ (Trunk's public_url).
        let req = match path.strip_prefix("/desk") {
            Some(rest) if dist.ends_with(DESK) => {
                let mut req = req;
                *req.uri_mut() = rest.parse().unwrap_or_default();
                req
            }
            _ => req,
        };
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
    // Never inside another site's frame (clickjacking), for browsers that predate CSP too.
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(header::CONTENT_SECURITY_POLICY, policy);
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
    // The desk's own (/desk/index.html, /desk/sw.js) likewise.
    if path.ends_with("/index.html") || path.ends_with("/sw.js") || path.ends_with(".webmanifest") {
        REVALIDATE
    } else if is_hashed(path) {
        IMMUTABLE
    } else if path.ends_with(".js") || path.ends_with(".wasm") {
        // The worker's files: Trunk names a worker's bundle without a hash (the page names it
        // when it starts it), and a page must never meet a worker of another build.
        REVALIDATE
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
    fn the_script_policy_names_each_inline_script_by_its_hash() {
        let dist = tempfile::tempdir().unwrap();
        std::fs::write(dist.path().join("index.html"), "<html><head><script type=\"module\"></script><script src=\"/app.js\"></script></head></html>").unwrap();
        let policy = content_security_policy(dist.path());
        let policy = policy.to_str().unwrap();
        // SHA-256 of the empty text, base64: the one inline script; the external one is not hashed.
        assert!(policy.contains("script-src 'self' 'wasm-unsafe-eval' 'sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU='; "), "{policy}");
        assert_eq!(policy.matches("sha256-").count(), 1, "{policy}");
        assert!(policy.contains("frame-ancestors 'none'") && policy.contains("object-src 'none'"), "{policy}");
    }

    #[test]
    fn policies() {
        assert_eq!(cache_policy("/sw.js"), REVALIDATE);
        assert_eq!(cache_policy("/desk/sw.js"), REVALIDATE);
        assert_eq!(cache_policy("/desk/index.html"), REVALIDATE);
        assert_eq!(cache_policy("/index.html"), REVALIDATE);
        assert_eq!(cache_policy("/app-555f2284e97743ce_bg.wasm"), IMMUTABLE);
        assert_eq!(cache_policy("/icons/icon-192.png"), SHORT);
        // The worker's bundle keeps its name across builds: always revalidated.
        for worker in ["/app-worker.js", "/app-worker_bg.wasm", "/app-worker_loader.js"] {
            assert_eq!(cache_policy(worker), REVALIDATE, "{worker}");
        }
    }
}
