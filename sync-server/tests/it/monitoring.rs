//! What an operator watches: `/metrics` (never public) and `/healthz` (fails when storage
//! takes no writes).

use crate::common;

use std::time::Duration;

use common::{End, Phone, Server};

/// A value of the metrics text: the line starting with `name` (labels included).
fn value(text: &str, name: &str) -> Option<f64> {
    text.lines().find(|l| l.starts_with(name) && l[name.len()..].starts_with(' ')).and_then(|l| l.rsplit(' ').next()?.parse().ok())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_are_served_to_the_token_or_the_internal_address_only_and_count_what_happens() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start(data.path(), Duration::from_secs(5)).await;
    // No token configured: the public listener has no /metrics at all.
    assert_eq!(common::http(server.addr, "GET", "/metrics", &[], "").await.0, 404);

    let mut state = server.state.clone();
    state.metrics_token = Some("a-token-of-the-operator-0123456789".into());
    let public = sync_server::router_for(state.clone(), data.path().to_owned());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(sync_server::serve(listener, public, sync_server::ConnectionLimits::default(), std::future::pending()));
    assert_eq!(common::http(addr, "GET", "/metrics", &[], "").await.0, 401);
    assert_eq!(common::http(addr, "GET", "/metrics", &[("Authorization", "Bearer a-token-of-the-operator-012345678")], "").await.0, 401);

    let id = server.ledger();
    let mut phone = Phone::new("p", id);
    phone.edit("v", 1);
    assert_eq!(phone.sync(&server.url(), Duration::from_secs(10)).await, End::Quiet);
    let origin = common::origin(server.addr);
    let wrong =
        common::http(server.addr, "POST", "/api/login", &[("Origin", &origin), ("Content-Type", "application/json")], r#"{"login":"tester","password":"not the password"}"#).await;
    assert_eq!(wrong.0, 401, "{wrong:?}");

    let (status, head, text) = common::http(addr, "GET", "/metrics", &[("Authorization", "Bearer a-token-of-the-operator-0123456789")], "").await;
    assert_eq!(status, 200, "{head}");
    assert!(head.to_ascii_lowercase().contains("content-type: application/openmetrics-text"), "{head}");
    for counter in [
        "pioneer_sync_messages_received_total",
        "pioneer_sync_messages_sent_total",
        "pioneer_sync_bytes_received_total",
        "pioneer_sync_bytes_sent_total",
        "pioneer_persist_seconds_count",
    ] {
        assert!(value(&text, counter).unwrap_or(0.0) >= 1.0, "{counter}:\n{text}");
    }
    assert!(value(&text, "pioneer_storage_bytes").unwrap() > 4096.0, "{text}");
    assert!(value(&text, "pioneer_documents_in_memory").unwrap() >= 1.0, "{text}");
    assert!(value(&text, "pioneer_connections").unwrap() >= 1.0, "this request's own connection: {text}");
    assert!(value(&text, r#"pioneer_refusals_total{reason="metrics_token"}"#).unwrap() >= 2.0, "{text}");
    assert!(value(&text, r#"pioneer_refusals_total{reason="wrong"}"#).unwrap() >= 1.0, "{text}");
    assert!(text.contains(&format!("pioneer_build_info{{version=\"{}\"}} 1", env!("CARGO_PKG_VERSION"))), "{text}");
    assert!(text.contains("pioneer_backup_age_seconds"), "{text}");
    assert!(text.trim_end().ends_with("# EOF"), "{text}");

    // The internal listener answers without a token.
    let internal = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let internal_addr = internal.local_addr().unwrap();
    tokio::spawn(sync_server::serve(internal, sync_server::metrics_router(state), sync_server::ConnectionLimits::default(), std::future::pending()));
    let (status, _, text) = common::http(internal_addr, "GET", "/metrics", &[], "").await;
    assert_eq!(status, 200);
    assert!(value(&text, "pioneer_sync_messages_received_total").unwrap() >= 1.0);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_health_check_fails_while_storage_takes_no_writes_and_recovers() {
    let data = common::sqlite_dir();
    let server = Server::start(data.path(), Duration::from_millis(200)).await;
    let other = rusqlite::Connection::open(data.path().join(sync_server::DATABASE)).unwrap();
    other.execute_batch("BEGIN EXCLUSIVE").unwrap();
    let (status, _, body) = common::http(server.addr, "GET", "/healthz", &[], "").await;
    assert_eq!(status, 503, "{body}");
    assert!(body.contains("storage does not accept writes") && body.contains("locked"), "{body}");
    other.execute_batch("ROLLBACK").unwrap();
    // One verdict stands for the probe period, however many ask.
    assert_eq!(common::http(server.addr, "GET", "/healthz", &[], "").await.0, 503);
    tokio::time::sleep(Duration::from_millis(5_100)).await;
    let (status, _, body) = common::http(server.addr, "GET", "/healthz", &[], "").await;
    assert_eq!((status, body.as_str()), (200, "ok"));
    server.stop().await;
}
