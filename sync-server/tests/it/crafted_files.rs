//! Files made to hurt, uploaded as an organisation import by an admin against the real server:
//! a workbook that declares a dense grid (cells at A1 and XFD1048576), one wide and long
//! (cells across to XFD in 2,000 rows), a zip bomb, a table of a million rows. Each gets a
//! clear answer, nothing is imported, and the server's memory stays small (measured in a
//! process of its own).

use std::io::Write;
use std::time::Duration;

use ledger::org::{Role, UnitKind};

use crate::common;

/// Posts `body` to `/api/admin/import` with `token`: (status, answer).
async fn import(addr: std::net::SocketAddr, token: &str, body: &[u8]) -> (u16, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    let head = format!(
        "POST /api/admin/import HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\nContent-Type: application/octet-stream\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    s.write_all(head.as_bytes()).await.unwrap();
    s.write_all(body).await.unwrap();
    let mut out = Vec::new();
    tokio::time::timeout(Duration::from_secs(120), s.read_to_end(&mut out)).await.expect("no answer").unwrap();
    let out = String::from_utf8_lossy(&out).into_owned();
    let (head, body) = out.split_once("\r\n\r\n").unwrap_or((&out, ""));
    (head.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0), body.to_owned())
}

/// A workbook: the template's header row, then `cells` ((row, column), text).
fn workbook(cells: &[((u32, u16), &str)]) -> Vec<u8> {
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    for (c, h) in ledger::org::import::HEADERS.iter().enumerate() {
        sheet.write_string(0, c as u16, *h).unwrap();
    }
    for ((r, c), text) in cells {
        sheet.write_string(*r, *c, *text).unwrap();
    }
    book.save_to_buffer().unwrap()
}

/// A zip whose one part unpacks to `bytes` of spaces (a few hundred KB packed).
fn zip_bomb(bytes: usize) -> Vec<u8> {
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    zip.start_file("xl/worksheets/sheet1.xml", zip::write::SimpleFileOptions::default().large_file(true)).unwrap();
    let block = vec![b' '; 1 << 20];
    for _ in 0..bytes / block.len() {
        zip.write_all(&block).unwrap();
    }
    zip.finish().unwrap().into_inner()
}

#[test]
fn crafted_imports_get_a_clear_answer_and_leave_memory_small() {
    common::own_process("crafted_files::crafted_imports_get_a_clear_answer_and_leave_memory_small", crafted_imports());
}

async fn crafted_imports() {
    let data = tempfile::tempdir().unwrap();
    let server = common::Server::start(data.path(), Duration::from_secs(5)).await;
    let d = server.state.hub.directory.clone();
    let city = d.org().units.values().find(|u| u.kind == UnitKind::City).unwrap().id.clone();
    let admin = d.add_person("管理员", "admin", None, None).unwrap();
    d.grant(&admin.id, &city, Role::Admin, None).unwrap();
    let token = d.issue_token(&admin.id, "脚本", None).unwrap().token;
    let units_before = d.org().units.len();

    let dense = workbook(&[((1_048_575, 16_383), "x")]);
    // 1,999 rows, each with a unit path (but no unit type) in A and a cell at XFD.
    let wide: Vec<((u32, u16), &str)> = (1..2_000).flat_map(|r| [((r, 0), "测试市/宽村"), ((r, 16_383), "x")]).collect();
    let wide = workbook(&wide);
    let bomb = zip_bomb(200 << 20);
    let mut million = String::from("单位路径,单位类型,姓名,登录名,角色\n");
    for i in 0..1_000_000 {
        million.push_str(if i % 2 == 0 { "x,,,,\n" } else { "y,,,,\n" });
    }
    assert!(million.len() < sync_server::MAX_IMPORT_BYTES, "the table fits the upload limit: {}", million.len());
    eprintln!("files: dense {} B, wide {} B, bomb {} B, million {} B", dense.len(), wide.len(), bomb.len(), million.len());

    let before = common::rss_mb();
    let (status, body) = import(server.addr, &token, &dense).await;
    assert_eq!(status, 400, "dense grid: {body}");
    assert!(body.contains("表中没有数据行"), "dense grid: {body}");
    let (status, body) = import(server.addr, &token, &wide).await;
    assert_eq!(status, 400, "wide: {body}");
    let refused: http_api::admin::ImportRefused = http_api::exactly(&body).unwrap();
    assert_eq!((refused.total, refused.rows[0].line), (1_999, 2), "every row is read, and none is a unit of a known type: {}", &body[..body.len().min(300)]);
    let (status, body) = import(server.addr, &token, &bomb).await;
    assert_eq!(status, 400, "zip bomb: {body}");
    assert!(body.contains("解压后超过"), "zip bomb: {body}");
    let (status, body) = import(server.addr, &token, million.as_bytes()).await;
    assert_eq!(status, 400, "a million rows: {}", &body[..body.len().min(300)]);
    let refused: http_api::admin::ImportRefused = http_api::exactly(&body).unwrap();
    assert!(refused.rows[0].message.contains("一次最多导入"), "{:?}", &refused.rows[..3.min(refused.rows.len())]);
    assert_eq!((refused.rows[0].line, refused.total), (100_002, 100_001), "the rows past the limit were never read");
    let grown = common::rss_mb() - before;
    eprintln!("four crafted imports: memory +{grown:.0} MB");
    // About 25 MB here; the dense grid alone asked calamine for 512 GiB before.
    assert!(grown < 100.0, "memory grew {grown:.0} MB");
    assert_eq!(d.org().units.len(), units_before, "nothing was imported");
    let (status, _, _) = common::http(server.addr, "GET", "/healthz", &[], "").await;
    assert_eq!(status, 200, "the server is still up");
}
