//! The nginx configuration in `deploy/nginx/` in front of a real server: HTTPS at nginx, the
//! WebSocket upgrade through it, the request body an import needs, and the server taking
//! nginx's word (and only nginx's) that the client came over HTTPS. Runs Debian's nginx: from
//! PATH, `/usr/sbin`, or where `scripts/setup.sh` unpacks it (`target/tools/nginx`).

use crate::common;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use tokio_tungstenite::tungstenite::Message as Ws;

fn nginx() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let candidates = [std::env::var("NGINX_BIN").map(PathBuf::from).unwrap_or_default(), PathBuf::from("/usr/sbin/nginx"), root.join("target/tools/nginx/usr/sbin/nginx")];
    candidates.into_iter().find(|p| p.is_file()).expect("nginx is missing: scripts/setup.sh unpacks Debian's")
}

/// The shipped configuration with this test's ports, certificate and upstream.
fn configuration(listen: u16, upstream: std::net::SocketAddr, cert: &Path, key: &Path) -> String {
    let shipped = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../deploy/nginx/pioneer-ledger.conf")).unwrap();
    // The port-80 redirect is nginx's own and needs a privileged port: left out here.
    let plain = shipped.find("server {\n    listen 80;").expect("the shipped configuration has its port-80 server");
    let end = plain + shipped[plain..].find("\n}\n").unwrap() + 3;
    let conf = format!("{}{}", &shipped[..plain], &shipped[end..]);
    for needed in ["listen 443 ssl;", "listen [::]:443 ssl;", "server 127.0.0.1:8080;", "/etc/ssl/pioneer-ledger/fullchain.pem", "/etc/ssl/pioneer-ledger/privkey.pem"] {
        assert!(conf.contains(needed), "the shipped configuration changed: {needed} is gone");
    }
    conf.replace("listen 443 ssl;", &format!("listen 127.0.0.1:{listen} ssl;"))
        .replace("    listen [::]:443 ssl;\n", "")
        .replace("server 127.0.0.1:8080;", &format!("server {upstream};"))
        .replace("/etc/ssl/pioneer-ledger/fullchain.pem", cert.to_str().unwrap())
        .replace("/etc/ssl/pioneer-ledger/privkey.pem", key.to_str().unwrap())
}

struct Nginx(std::process::Child);

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn behind_the_shipped_nginx_configuration_https_websockets_and_imports_pass_and_cookies_are_secure() {
    let data = tempfile::tempdir().unwrap();
    let storage = Arc::new(sync_server::Storage::open(data.path()).unwrap());
    let state = sync_server::AppState::with_storage(storage).unwrap();
    state.hub.directory.add_person("孙丽", "sunli", Some("right password"), None).unwrap();
    let tester = common::seed(&state.hub.directory);
    let dist = tempfile::tempdir().unwrap();
    std::fs::write(dist.path().join("index.html"), "<!DOCTYPE html><title>先锋台账</title>").unwrap();
    let app = sync_server::router_for(state, dist.path().to_owned());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let upstream = listener.local_addr().unwrap();
    let transport = sync_server::Transport { tls: None, trusted_proxies: Arc::from(["127.0.0.1".parse().unwrap()]) };
    tokio::spawn(sync_server::serve_with(listener, app, sync_server::ConnectionLimits::default(), transport, std::future::pending()));

    let issued = sync_server::tls::LocalAuthority::in_data_dir(data.path()).issue(&["pioneer.test".to_owned()]).unwrap();
    let prefix = tempfile::tempdir().unwrap();
    let port = free_port();
    std::fs::write(prefix.path().join("pioneer-ledger.conf"), configuration(port, upstream, &issued.cert, &issued.key)).unwrap();
    std::fs::write(
        prefix.path().join("nginx.conf"),
        format!(
            "pid {0}/nginx.pid;\nerror_log stderr warn;\nevents {{}}\nhttp {{\n  access_log off;\n  client_body_temp_path {0}/body;\n  proxy_temp_path {0}/proxy;\n  fastcgi_temp_path {0}/fastcgi;\n  uwsgi_temp_path {0}/uwsgi;\n  scgi_temp_path {0}/scgi;\n  include {0}/pioneer-ledger.conf;\n}}\n",
            prefix.path().display()
        ),
    )
    .unwrap();
    let binary = nginx();
    let tested = std::process::Command::new(&binary).args(["-t", "-p"]).arg(prefix.path()).arg("-c").arg(prefix.path().join("nginx.conf")).output().unwrap();
    assert!(tested.status.success(), "nginx -t: {}", String::from_utf8_lossy(&tested.stderr));
    let _nginx = Nginx(
        std::process::Command::new(&binary)
            // One process, no workers: nothing outlives the test holding its output open.
            .args(["-g", "daemon off; master_process off;", "-p"])
            .arg(prefix.path())
            .arg("-c")
            .arg(prefix.path().join("nginx.conf"))
            .stdout(std::process::Stdio::null())
            .spawn()
            .unwrap(),
    );
    let addr: std::net::SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while tokio::net::TcpStream::connect(addr).await.is_err() {
        assert!(Instant::now() < deadline, "nginx did not start");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // A login over nginx's HTTPS: the server believes nginx that it was HTTPS.
    let body = r#"{"login":"sunli","password":"right password"}"#;
    let request = format!("POST /api/login HTTP/1.1\r\nHost: pioneer.test:{port}\r\nOrigin: https://pioneer.test:{port}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}", body.len());
    let (_, response) = crate::https::https(addr, "pioneer.test", &issued.ca, &request).await.unwrap();
    let head = response.split("\r\n\r\n").next().unwrap().to_ascii_lowercase();
    assert!(head.starts_with("http/1.1 200"), "{response}");
    assert!(head.contains("; secure") && head.contains("strict-transport-security: max-age=31536000"), "{head}");

    // An import-sized body reaches the server (which answers it, not nginx's 413).
    let big = "x".repeat(12 * 1024 * 1024);
    let request =
        format!("POST /api/admin/import HTTP/1.1\r\nHost: pioneer.test:{port}\r\nContent-Type: text/csv\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{big}", big.len());
    let response = reading_while_sending(addr, &issued.ca, request).await;
    let status = response.split(' ').nth(1).unwrap_or("");
    assert!(matches!(status, "401" | "403"), "the server, not nginx, must answer an import-sized body: {}", &response[..response.len().min(300)]);

    // The sync WebSocket through nginx: upgraded, and the server answers the engine's join.
    let tls = crate::https::connect(addr, "pioneer.test", &issued.ca).await;
    let url = format!("wss://pioneer.test:{port}/sync?token={}", tester.token);
    let (mut ws, answer) = tokio_tungstenite::client_async(url, tls).await.unwrap();
    assert_eq!(answer.status(), 101);
    let mut conn = ledger_sync::Connection::initiate(ledger_sync::LocalPeer { peer_id: "through-nginx".into(), storage_id: None });
    while let Some(out) = conn.poll_output() {
        if let ledger_sync::Output::Send(frame) = out {
            ws.send(Ws::Binary(frame.into())).await.unwrap();
        }
    }
    let reply = tokio::time::timeout(Duration::from_secs(10), ws.next()).await.unwrap().unwrap().unwrap();
    let Ws::Binary(frame) = reply else { panic!("{reply:?}") };
    assert!(matches!(ledger_sync::Message::decode(&frame), Ok(ledger_sync::Message::Peer { .. })), "{:?}", ledger_sync::Message::decode(&frame));
}

/// Sends `request` over TLS while reading the answer. The server refuses an unauthenticated
/// import before reading its body, and nginx passes the answer on and closes while the client
/// may still be sending: read only after the last byte is written, the answer can be lost to the
/// reset that close causes (a CI run of session 21 failed that way; it had passed many times).
async fn reading_while_sending(addr: std::net::SocketAddr, ca: &std::path::Path, request: String) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let (mut read, mut write) = tokio::io::split(crate::https::connect(addr, "pioneer.test", ca).await);
    let writer = tokio::spawn(async move {
        let _ = write.write_all(request.as_bytes()).await;
        let _ = write.flush().await;
    });
    let mut out = Vec::new();
    let _ = read.read_to_end(&mut out).await;
    writer.abort();
    String::from_utf8_lossy(&out).into_owned()
}
