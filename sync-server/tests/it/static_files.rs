//! The router as the browser meets it: MIME types, compression, cache headers, app routes.

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use http_body_util::BodyExt;
use tower::ServiceExt;

fn dist() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path();
    std::fs::write(p.join("index.html"), "<!DOCTYPE html><title>先锋台账</title>").unwrap();
    std::fs::write(p.join("sw.js"), "// sw").unwrap();
    std::fs::write(p.join("app-0123456789abcdef_bg.wasm"), b"\0asm\x01\0\0\0").unwrap();
    std::fs::write(p.join("app-0123456789abcdef.js"), "export default 1;".repeat(200)).unwrap();
    std::fs::write(p.join("manifest.webmanifest"), "{}").unwrap();
    dir
}

async fn get(dir: &tempfile::TempDir, path: &str, accept_encoding: Option<&str>) -> axum::response::Response {
    let data = tempfile::tempdir().unwrap();
    let app = sync_server::router(sync_server::Config { dist: dir.path().to_owned(), data_dir: data.path().to_owned() }).unwrap();
    let mut req = Request::get(path);
    if let Some(enc) = accept_encoding {
        req = req.header(header::ACCEPT_ENCODING, enc);
    }
    app.oneshot(req.body(Body::empty()).unwrap()).await.unwrap()
}

fn header<'a>(r: &'a axum::response::Response, name: header::HeaderName) -> &'a str {
    r.headers().get(name).map(|v| v.to_str().unwrap()).unwrap_or("")
}

#[tokio::test]
async fn healthz() {
    let d = dist();
    let r = get(&d, "/healthz", None).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.into_body().collect().await.unwrap().to_bytes(), "ok");
}

#[tokio::test]
async fn app_routes_get_index_html_uncached() {
    let d = dist();
    for path in ["/", "/visits/new", "/visits/0123456789abcdef0123456789abcdef/edit"] {
        let r = get(&d, path, None).await;
        assert_eq!(r.status(), StatusCode::OK, "{path}");
        assert!(header(&r, header::CONTENT_TYPE).starts_with("text/html"), "{path}");
        assert_eq!(header(&r, header::CACHE_CONTROL), "no-cache", "{path}");
    }
}

#[tokio::test]
async fn assets_have_mime_types_and_cache_policies() {
    let d = dist();
    let r = get(&d, "/app-0123456789abcdef_bg.wasm", None).await;
    assert_eq!(header(&r, header::CONTENT_TYPE), "application/wasm");
    assert_eq!(header(&r, header::CACHE_CONTROL), "public, max-age=31536000, immutable");
    let r = get(&d, "/sw.js", None).await;
    assert!(header(&r, header::CONTENT_TYPE).contains("javascript"));
    assert_eq!(header(&r, header::CACHE_CONTROL), "no-cache");
    let r = get(&d, "/manifest.webmanifest", None).await;
    assert_eq!(header(&r, header::CONTENT_TYPE), "application/manifest+json");
}

#[tokio::test]
async fn missing_files_are_404_not_index_html() {
    let d = dist();
    let r = get(&d, "/app-ffffffffffffffff.js", None).await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let r = get(&d, "/../Cargo.toml", None).await;
    assert_ne!(r.status(), StatusCode::OK);
}

#[tokio::test]
async fn responses_are_compressed_when_asked() {
    let d = dist();
    let r = get(&d, "/app-0123456789abcdef.js", Some("gzip")).await;
    assert_eq!(header(&r, header::CONTENT_ENCODING), "gzip");
    // Precompressed siblings written by the build are served as they are.
    std::fs::write(d.path().join("app-0123456789abcdef.js.br"), b"BR").unwrap();
    let r = get(&d, "/app-0123456789abcdef.js", Some("br, gzip")).await;
    assert_eq!(header(&r, header::CONTENT_ENCODING), "br");
    assert_eq!(r.into_body().collect().await.unwrap().to_bytes(), "BR");
}

#[tokio::test]
async fn every_response_varies_by_encoding_and_refuses_framing() {
    let d = dist();
    std::fs::write(d.path().join("app-0123456789abcdef.js.br"), b"BR").unwrap();
    for (path, enc) in [("/app-0123456789abcdef.js", Some("br")), ("/app-0123456789abcdef.js", None), ("/", Some("gzip")), ("/sw.js", None)] {
        let r = get(&d, path, enc).await;
        assert!(header(&r, header::VARY).to_ascii_lowercase().contains("accept-encoding"), "{path} {enc:?}");
        assert_eq!(header(&r, header::X_FRAME_OPTIONS), "DENY", "{path}");
        assert!(header(&r, header::CONTENT_SECURITY_POLICY).contains("frame-ancestors 'none'"), "{path}");
    }
}
