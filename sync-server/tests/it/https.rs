//! HTTPS of the server's own, with a certificate from its local authority; the redirect from
//! plain HTTP; and what the server believes of a reverse proxy in front of it.

use crate::common;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};

const JSON: (&str, &str) = ("Content-Type", "application/json");

/// A server with one person who has a password, served by `transport`.
async fn start(data: &std::path::Path, transport: sync_server::Transport, limits: sync_server::ConnectionLimits) -> SocketAddr {
    let storage = Arc::new(sync_server::Storage::open(data).unwrap());
    let state = sync_server::AppState::with_storage(storage).unwrap();
    if state.hub.storage.person_by_login("sunli").unwrap().is_none() {
        state.hub.directory.add_person("孙丽", "sunli", Some("right password"), None).unwrap();
    }
    let dist = tempfile::tempdir().unwrap();
    std::fs::write(dist.path().join("index.html"), "<!DOCTYPE html>").unwrap();
    let app = sync_server::with_hsts(sync_server::router_for(state, dist.keep()));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(sync_server::serve_with(listener, app, limits, transport, std::future::pending()));
    addr
}

/// A TLS connection to `addr` as `name`, trusting only `ca`.
pub(crate) async fn connect(addr: SocketAddr, name: &str, ca: &std::path::Path) -> tokio_rustls::client::TlsStream<tokio::net::TcpStream> {
    try_connect(addr, name, ca).await.unwrap()
}

async fn try_connect(addr: SocketAddr, name: &str, ca: &std::path::Path) -> Result<tokio_rustls::client::TlsStream<tokio::net::TcpStream>, String> {
    use rustls::pki_types::pem::PemObject;
    let mut roots = rustls::RootCertStore::empty();
    for cert in rustls::pki_types::CertificateDer::pem_file_iter(ca).unwrap() {
        roots.add(cert.unwrap()).unwrap();
    }
    #[allow(deprecated)]
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider).with_safe_default_protocol_versions().unwrap().with_root_certificates(roots).with_no_client_auth();
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let tcp = tokio::net::TcpStream::connect(addr).await.map_err(|e| e.to_string())?;
    connector.connect(rustls::pki_types::ServerName::try_from(name.to_owned()).unwrap(), tcp).await.map_err(|e| e.to_string())
}

/// One request over TLS to `addr` as `name`, trusting only `ca`: (the server's certificate,
/// the whole response).
pub(crate) async fn https(addr: SocketAddr, name: &str, ca: &std::path::Path, request: &str) -> Result<(Vec<u8>, String), String> {
    let mut tls = try_connect(addr, name, ca).await?;
    let served = tls.get_ref().1.peer_certificates().unwrap()[0].to_vec();
    tls.write_all(request.as_bytes()).await.map_err(|e| e.to_string())?;
    let mut out = Vec::new();
    let _ = tls.read_to_end(&mut out).await;
    Ok((served, String::from_utf8_lossy(&out).into_owned()))
}

fn login_request(host: &str) -> String {
    let body = r#"{"login":"sunli","password":"right password"}"#;
    format!("POST /api/login HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}", body.len())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn https_from_the_local_authority_sets_secure_cookies_and_hsts_and_serves_a_replaced_certificate_without_restart() {
    let data = tempfile::tempdir().unwrap();
    let authority = sync_server::tls::LocalAuthority::in_data_dir(data.path());
    let names = vec!["pioneer.test".to_owned(), "127.0.0.1".to_owned()];
    let issued = authority.issue(&names).unwrap();
    let certificates = sync_server::tls::Certificates::open(&issued.cert, &issued.key).unwrap();
    certificates.watch();
    let transport = sync_server::Transport { tls: Some(certificates.acceptor()), trusted_proxies: Arc::from([]) };
    let addr = start(data.path(), transport, sync_server::ConnectionLimits::default()).await;

    let (first, response) = https(addr, "pioneer.test", &issued.ca, &login_request("pioneer.test")).await.unwrap();
    let head = response.split("\r\n\r\n").next().unwrap().to_ascii_lowercase();
    assert!(head.starts_with("http/1.1 200"), "{response}");
    assert!(head.contains("set-cookie:") && head.contains("; secure"), "the cookie must be Secure over our own TLS: {head}");
    assert!(head.contains("strict-transport-security: max-age=31536000"), "{head}");
    // The certificate is for its names only, and the authority is what a client trusts.
    assert!(https(addr, "other.test", &issued.ca, &login_request("other.test")).await.is_err());
    let stranger = tempfile::tempdir().unwrap();
    let other_ca = sync_server::tls::LocalAuthority::in_data_dir(stranger.path()).issue(&names).unwrap().ca;
    assert!(https(addr, "pioneer.test", &other_ca, &login_request("pioneer.test")).await.is_err());

    // A half-written replacement changes nothing: the certificate in use stays.
    tokio::time::sleep(Duration::from_millis(1_100)).await;
    std::fs::write(&issued.cert, "-----BEGIN CERTIFICATE-----\nnot yet\n").unwrap();
    tokio::time::sleep(Duration::from_millis(2_500)).await;
    let (still, _) = https(addr, "pioneer.test", &issued.ca, "GET /healthz HTTP/1.1\r\nHost: pioneer.test\r\nConnection: close\r\n\r\n").await.unwrap();
    assert_eq!(still, first);

    // The whole new pair on disk: served within a few seconds, no restart.
    let renewed = authority.issue(&names).unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let (served, response) = https(addr, "pioneer.test", &renewed.ca, "GET /healthz HTTP/1.1\r\nHost: pioneer.test\r\nConnection: close\r\n\r\n").await.unwrap();
        if served != first {
            use rustls::pki_types::pem::PemObject;
            assert_eq!(served, rustls::pki_types::CertificateDer::from_pem_file(&renewed.cert).unwrap().to_vec());
            assert!(response.ends_with("ok"), "{response}");
            break;
        }
        assert!(Instant::now() < deadline, "the replaced certificate was not served");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tls_socket_that_never_says_hello_is_closed() {
    let data = tempfile::tempdir().unwrap();
    let issued = sync_server::tls::LocalAuthority::in_data_dir(data.path()).issue(&["127.0.0.1".to_owned()]).unwrap();
    let certificates = sync_server::tls::Certificates::open(&issued.cert, &issued.key).unwrap();
    let transport = sync_server::Transport { tls: Some(certificates.acceptor()), trusted_proxies: Arc::from([]) };
    let limits = sync_server::ConnectionLimits { header_read_timeout: Duration::from_millis(300), ..Default::default() };
    let addr = start(data.path(), transport, limits).await;
    let mut silent = tokio::net::TcpStream::connect(addr).await.unwrap();
    let mut buf = [0u8; 16];
    let closed = tokio::time::timeout(Duration::from_secs(5), silent.read(&mut buf)).await;
    assert!(matches!(closed, Ok(Ok(0)) | Ok(Err(_))), "the silent socket stayed open: {closed:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plain_http_beside_https_only_redirects_and_hands_out_the_local_authority() {
    let ca = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(ca.path(), "-----BEGIN CERTIFICATE-----\n").unwrap();
    let app = sync_server::redirect_router(8443, Some(ca.path().to_owned()));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(sync_server::serve(listener, app, sync_server::ConnectionLimits::default(), std::future::pending()));
    let head = raw(addr, "POST /api/login?next=%2Fvisits HTTP/1.1\r\nHost: 192.168.1.20:8080\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}").await;
    assert!(head.starts_with("HTTP/1.1 308"), "{head}");
    assert!(head.contains("location: https://192.168.1.20:8443/api/login?next=%2Fvisits"), "{head}");
    let (status, head, body) = common::http(addr, "GET", "/ca.crt", &[], "").await;
    assert_eq!(status, 200);
    assert!(head.contains("application/x-x509-ca-cert") && body.starts_with("-----BEGIN CERTIFICATE-----"), "{head}");
    let app = sync_server::redirect_router(443, None);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(sync_server::serve(listener, app, sync_server::ConnectionLimits::default(), std::future::pending()));
    let head = raw(addr, "GET /ca.crt HTTP/1.1\r\nHost: ledger.example.cn\r\nConnection: close\r\n\r\n").await;
    assert!(head.starts_with("HTTP/1.1 308"), "without --lan there is no certificate to hand out: {head}");
    assert!(head.contains("location: https://ledger.example.cn/ca.crt"), "{head}");
}

/// A request written as it is; the answer.
async fn raw(addr: SocketAddr, request: &str) -> String {
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    s.write_all(request.as_bytes()).await.unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).await.unwrap();
    out
}

/// Logs in as nobody with a wrong password from `forwarded` (as X-Forwarded-For): the status.
async fn wrong_login(addr: SocketAddr, forwarded: &str, n: usize) -> u16 {
    let body = format!(r#"{{"login":"nobody{n}","password":"wrong"}}"#);
    common::http(addr, "POST", "/api/login", &[JSON, ("X-Forwarded-For", forwarded)], &body).await.0
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forwarded_headers_count_only_from_a_trusted_proxy() {
    // Not behind a proxy: a client's own X-Forwarded-Proto does not make the cookie Secure, and
    // its X-Forwarded-For does not escape the per-address limit on failed logins.
    let data = tempfile::tempdir().unwrap();
    let direct = start(data.path(), sync_server::Transport::default(), sync_server::ConnectionLimits::default()).await;
    let (status, head, _) = common::http(direct, "POST", "/api/login", &[JSON, ("X-Forwarded-Proto", "https")], r#"{"login":"sunli","password":"right password"}"#).await;
    assert_eq!(status, 200);
    assert!(!head.to_ascii_lowercase().contains("; secure"), "{head}");
    let mut statuses = Vec::new();
    for n in 0..21 {
        statuses.push(wrong_login(direct, &format!("198.51.100.{n}"), n).await);
    }
    assert_eq!(statuses.last(), Some(&429), "{statuses:?}");

    // Behind a trusted proxy (loopback here): the proxy's word is taken.
    let data = tempfile::tempdir().unwrap();
    let transport = sync_server::Transport { tls: None, trusted_proxies: Arc::from(["127.0.0.1".parse().unwrap()]) };
    let proxied = start(data.path(), transport, sync_server::ConnectionLimits::default()).await;
    let (status, head, _) = common::http(
        proxied,
        "POST",
        "/api/login",
        &[JSON, ("X-Forwarded-Proto", "https"), ("X-Forwarded-For", "203.0.113.9")],
        r#"{"login":"sunli","password":"right password"}"#,
    )
    .await;
    assert_eq!(status, 200);
    assert!(head.to_ascii_lowercase().contains("; secure"), "{head}");
    // The limit counts each client: 20 failures from one lock it out, another is still heard.
    // A client that writes its own X-Forwarded-For is judged by the address the proxy appends.
    let mut statuses = Vec::new();
    for n in 0..21 {
        statuses.push(wrong_login(proxied, &format!("192.0.2.{n}, 203.0.113.7"), n).await);
    }
    assert_eq!(statuses[..20], [401; 20], "{statuses:?}");
    assert_eq!(statuses[20], 429, "{statuses:?}");
    assert_eq!(wrong_login(proxied, "203.0.113.8", 99).await, 401, "another client behind the proxy is not locked out");
}
