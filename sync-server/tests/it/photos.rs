//! Photos over real sockets: a phone uploads a photo once the record that references it has
//! synced; who may read it is who may read that record, asked on every request; a photo taken
//! off its record is refused at once and its file removed after the grace; a unit's quota
//! refuses plainly; backups carry the files and a restore puts them back.

use crate::common;

use automerge::{ActorId, AutoCommit};
use common::counties::{world, world_with, World};
use common::{attempt, Answer};
use ledger::photo::{MediaEdit, PhotoRef};
use ledger::record::Section;
use ledger::visit::VisitDraft;
use ledger::{RecordId, UnitLedger};
use sha2::{Digest, Sha256};

fn now() -> i64 {
    sync_server::now_secs() * 1000
}

fn today() -> chrono::NaiveDate {
    ledger::report::day_of(now()).unwrap()
}

/// A JPEG's first bytes and `n` more: what the server checks of a photo is its hash and its
/// start-of-image marker, not its pixels.
fn jpeg(seed: u8, n: usize) -> (Vec<u8>, String) {
    let mut bytes = vec![0xFF, 0xD8, 0xFF, 0xE0];
    bytes.extend((0..n).map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed)));
    let hash = Sha256::digest(&bytes).iter().map(|b| format!("{b:02x}")).collect();
    (bytes, hash)
}

fn reference(hash: &str, size: usize) -> PhotoRef {
    PhotoRef { hash: hash.into(), mime: "image/jpeg".into(), size: size as u32, taken_at: now() }
}

/// `who`'s request with a body of bytes: (status, head, body).
async fn send(w: &World, who: &str, method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> (u16, String, Vec<u8>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let addr = w.server.addr;
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    let mut request = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n", body.len());
    if let Some(token) = w.tokens.get(who) {
        request.push_str(&format!("Authorization: Bearer {token}\r\n"));
    }
    for (k, v) in headers {
        request.push_str(&format!("{k}: {v}\r\n"));
    }
    request.push_str("\r\n");
    s.write_all(request.as_bytes()).await.unwrap();
    s.write_all(body).await.unwrap();
    let mut out = Vec::new();
    s.read_to_end(&mut out).await.unwrap();
    let split = out.windows(4).position(|w| w == b"\r\n\r\n").map_or(out.len(), |i| i + 4);
    let head = String::from_utf8_lossy(&out[..split]).into_owned();
    let status = head.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    (status, head, out[split..].to_vec())
}

async fn put(w: &World, who: &str, hash: &str, bytes: &[u8]) -> (u16, String) {
    let (status, _, body) = send(w, who, "PUT", &format!("/api/photos/{hash}"), &[("Content-Type", "image/jpeg")], bytes).await;
    (status, String::from_utf8_lossy(&body).into_owned())
}

async fn get(w: &World, who: &str, hash: &str) -> (u16, Vec<u8>) {
    let (status, _, body) = send(w, who, "GET", &format!("/api/photos/{hash}"), &[], &[]).await;
    (status, body)
}

/// `who` of A村 writes a visit holding `photos` offline and syncs it; the visit's id and the
/// phone's document.
async fn visit_with(w: &World, who: &str, photos: Vec<PhotoRef>) -> (RecordId, AutoCommit) {
    let mut l = UnitLedger::create(ActorId::random());
    l.set_author(&format!("{who}名"));
    let id = l.add_visit(&VisitDraft { whom: "李师傅".into(), heard: "渠道堵了".into(), ..VisitDraft::new(today()) }.validate(today()).unwrap(), now()).unwrap();
    l.edit_media(Section::Visits, &id, None, &MediaEdit { add: photos, ..MediaEdit::default() }, now()).unwrap();
    let (answer, doc) = attempt(&w.server.url_with(&w.tokens[who]), w.ledgers["A村"], l.doc().clone()).await;
    assert_eq!(answer, Answer::Data);
    (id, doc)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_photo_goes_up_after_its_record_and_only_readers_of_that_record_see_it() {
    let w = world().await;
    let (bytes, hash) = jpeg(1, 50_000);

    // Before its record is on the server, nobody may upload it: bytes no record names.
    let (status, body) = put(&w, "cadre_a", &hash, &bytes).await;
    assert_eq!((status, body.contains("not_referenced")), (409, true), "{body}");
    let (id, mut doc) = visit_with(&w, "cadre_a", vec![reference(&hash, bytes.len())]).await;

    // Synced but not uploaded: its readers are told it is on its way, others that it is not.
    let (status, body) = get(&w, "sup_x", &hash).await;
    assert_eq!((status, String::from_utf8_lossy(&body).contains("pending")), (404, true));
    let (status, body) = get(&w, "secretary_c", &hash).await;
    assert_eq!((status, String::from_utf8_lossy(&body).contains("not_found")), (404, true));

    // Wrong bytes, not a JPEG, another unit's phone, no account: each refused, nothing stored.
    let (other, _) = jpeg(2, 50_000);
    assert_eq!(put(&w, "cadre_a", &hash, &other).await.0, 400);
    let mut png = bytes.clone();
    png[..4].copy_from_slice(&[0x89, b'P', b'N', b'G']);
    assert_eq!(put(&w, "cadre_a", &hash, &png).await.0, 415);
    assert_eq!(put(&w, "secretary_c", &hash, &bytes).await.0, 409);
    assert_eq!(put(&w, "sup_x", &hash, &bytes).await.0, 409, "a supervisor reads A村's ledger but writes no photo into it");
    assert_eq!(put(&w, "anonymous", &hash, &bytes).await.0, 401);
    assert_eq!(put(&w, "cadre_a", "not-a-hash", &bytes).await.0, 404);
    assert_eq!(get(&w, "sup_x", &hash).await.0, 404);
    assert_eq!(w.server.state.hub.storage.photo_bytes(&w.units["A村"]).unwrap(), 0);

    // The phone's upload: stored (201), again acknowledged without a second copy (200).
    assert_eq!(put(&w, "cadre_a", &hash, &bytes).await.0, 201);
    assert_eq!(put(&w, "cadre_a", &hash, &bytes).await.0, 200);
    assert_eq!(w.server.state.hub.storage.photo_bytes(&w.units["A村"]).unwrap(), bytes.len() as u64);
    let storage = &w.server.state.hub.storage;
    assert_eq!(storage.photo_content(&hash).unwrap().as_ref(), Some(&bytes), "stored under its hash, exactly the bytes");
    if storage.is_sqlite() {
        let file = w.data.path().join("photos").join(&hash[..2]).join(&hash);
        assert_eq!(std::fs::read(&file).unwrap(), bytes, "the file is named by its hash and holds exactly the bytes");
    }

    // Every role of the organisation × read and upload, each cell the exact answer: who reads
    // A村's ledger reads the photo; only its cadres and secretary upload; the offices and the
    // admin keep no unit's records, so for them it does not exist.
    let table = [
        // (who, GET, PUT)
        ("cadre_a", 200, 200),
        ("secretary_a", 200, 200),
        ("sup_x", 200, 409),
        ("secretary_b", 404, 409),
        ("secretary_c", 404, 409),
        ("office_x", 404, 409),
        ("office_y", 404, 409),
        ("admin", 404, 409),
        ("anonymous", 401, 401),
    ];
    for (who, read, upload) in table {
        let (status, body) = get(&w, who, &hash).await;
        assert_eq!(status, read, "GET as {who}");
        if read == 200 {
            assert_eq!(body, bytes, "{who}");
        }
        assert_eq!(put(&w, who, &hash, &bytes).await.0, upload, "PUT as {who}");
    }
    assert_eq!(w.server.state.hub.storage.photo_bytes(&w.units["A村"]).unwrap(), bytes.len() as u64, "counted once");
    // The supervisor's export links the visit's photo where the server serves it.
    let year = today().format("%Y");
    let auth = format!("Bearer {}", w.tokens["sup_x"]);
    let (status, _, workbook) = common::http_bytes(w.server.addr, &format!("/api/desk/export.xlsx?period={year}"), &[("Authorization", &auth)]).await;
    assert_eq!(status, 200);
    {
        use calamine::Reader;
        let mut book: calamine::Xlsx<_> = calamine::open_workbook_from_rs(std::io::Cursor::new(workbook)).unwrap();
        let visits = book.worksheet_range("走访记录").unwrap();
        let row: Vec<String> = visits.rows().nth(1).unwrap().iter().map(|c| c.to_string()).collect();
        assert_eq!(row[9], "1 张", "{row:?}");
        assert_eq!(row[10], format!("http://{}/api/photos/{hash}", w.server.addr));
    }
    // The 通报's site photos: the visit and its photo, for the supervisor's node and year.
    let list: http_api::desk::List<http_api::desk::PhotoRow> = w.exactly("sup_x", "GET", &format!("/api/desk/photos?period={year}"), "").await;
    assert_eq!(list.total, 1);
    assert_eq!((list.rows[0].section.as_str(), list.rows[0].title.as_str(), list.rows[0].photos.clone()), ("visits", "李师傅", vec![hash.clone()]));
    let (_, never) = jpeg(3, 10);
    assert_eq!(get(&w, "sup_x", &never).await.0, 404, "a photo that never existed answers as another unit's does");

    // A cache must ask again: the answer is no-cache, and a repeat with its ETag is 304.
    let (_, head, _) = send(&w, "sup_x", "GET", &format!("/api/photos/{hash}"), &[], &[]).await;
    let head = head.to_ascii_lowercase();
    assert!(head.contains("cache-control: private, no-cache") && head.contains(&format!("etag: \"{hash}\"")), "{head}");
    let (status, _, body) = send(&w, "sup_x", "GET", &format!("/api/photos/{hash}"), &[("If-None-Match", &format!("\"{hash}\""))], &[]).await;
    assert_eq!((status, body.len()), (304, 0));
    assert_eq!(send(&w, "secretary_c", "GET", &format!("/api/photos/{hash}"), &[("If-None-Match", &format!("\"{hash}\""))], &[]).await.0, 404);

    // Taken off the record: refused at once, its file kept through the grace, then removed.
    UnitLedger::reading(&mut doc, |l| {
        l.set_author("cadre_a名");
        l.edit_media(Section::Visits, &id, None, &MediaEdit { remove: vec![hash.clone()], ..MediaEdit::default() }, now())
    })
    .unwrap();
    let (answer, _) = attempt(&w.server.url_with(&w.tokens["cadre_a"]), w.ledgers["A村"], doc).await;
    assert_eq!(answer, Answer::Data);
    assert_eq!(get(&w, "cadre_a", &hash).await.0, 404);
    let storage = &w.server.state.hub.storage;
    let grace = sync_server::photos::GRACE.as_secs() as i64;
    let t = sync_server::now_secs();
    assert_eq!(storage.collect_photos(t, grace).unwrap(), Vec::<String>::new());
    assert!(storage.photo_content(&hash).unwrap().is_some(), "kept through the grace");
    assert_eq!(storage.collect_photos(t + grace, grace).unwrap(), vec![hash.clone()]);
    assert_eq!(storage.photo_content(&hash).unwrap(), None);
    assert!(!w.data.path().join("photos").join(&hash[..2]).join(&hash).exists());
    assert_eq!(storage.photo_bytes(&w.units["A村"]).unwrap(), 0);
}

/// An upload cut halfway (the phone lost coverage mid-body) stores nothing, leaves no partial
/// file, and the phone's next attempt, whole, is stored.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upload_cut_halfway_stores_nothing_and_the_next_attempt_does() {
    use tokio::io::AsyncWriteExt;
    let w = world().await;
    let (bytes, hash) = jpeg(9, 400_000);
    visit_with(&w, "cadre_a", vec![reference(&hash, bytes.len())]).await;
    let mut s = tokio::net::TcpStream::connect(w.server.addr).await.unwrap();
    let head = format!(
        "PUT /api/photos/{hash} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\nContent-Type: image/jpeg\r\nContent-Length: {}\r\n\r\n",
        w.tokens["cadre_a"],
        bytes.len()
    );
    s.write_all(head.as_bytes()).await.unwrap();
    s.write_all(&bytes[..bytes.len() / 2]).await.unwrap();
    s.flush().await.unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    drop(s);
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(get(&w, "sup_x", &hash).await.0, 404, "still pending");
    let photos = w.data.path().join("photos");
    let files: Vec<_> = walk(&photos);
    assert!(files.is_empty(), "nothing half-written is left: {files:?}");
    assert_eq!(put(&w, "cadre_a", &hash, &bytes).await.0, 201);
    assert_eq!(get(&w, "sup_x", &hash).await, (200, bytes));
    assert_eq!(walk(&photos).len(), if w.server.state.hub.storage.is_sqlite() { 1 } else { 0 }, "a file on SQLite, a row on PostgreSQL");
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else { return Vec::new() };
    entries.flatten().flat_map(|e| if e.path().is_dir() { walk(&e.path()) } else { vec![e.path()] }).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_photo_referenced_again_within_the_grace_is_kept() {
    let w = world().await;
    let (bytes, hash) = jpeg(4, 1000);
    let (id, mut doc) = visit_with(&w, "cadre_a", vec![reference(&hash, bytes.len())]).await;
    assert_eq!(put(&w, "cadre_a", &hash, &bytes).await.0, 201);
    let url = w.server.url_with(&w.tokens["cadre_a"]);
    let sync = |doc| attempt(&url, w.ledgers["A村"], doc);
    let edit = |doc: &mut AutoCommit, media: MediaEdit| {
        UnitLedger::reading(doc, |l| {
            l.set_author("cadre_a名");
            l.edit_media(Section::Visits, &id, None, &media, now())
        })
        .unwrap()
    };
    edit(&mut doc, MediaEdit { remove: vec![hash.clone()], ..MediaEdit::default() });
    let (answer, mut doc) = sync(doc).await;
    assert_eq!(answer, Answer::Data);
    assert_eq!(get(&w, "sup_x", &hash).await.0, 404);
    let storage = &w.server.state.hub.storage;
    let t = sync_server::now_secs();
    storage.collect_photos(t, 100).unwrap();
    edit(&mut doc, MediaEdit { add: vec![reference(&hash, bytes.len())], ..MediaEdit::default() });
    let (answer, _) = sync(doc).await;
    assert_eq!(answer, Answer::Data);
    assert_eq!(storage.collect_photos(t + 1000, 100).unwrap(), Vec::<String>::new());
    assert_eq!(get(&w, "sup_x", &hash).await, (200, bytes));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_units_quota_refuses_plainly_and_stores_nothing() {
    let w = world_with(|state| state.photo_quota = 100_000).await;
    let (first, h1) = jpeg(5, 60_000);
    let (second, h2) = jpeg(6, 60_000);
    visit_with(&w, "cadre_a", vec![reference(&h1, first.len()), reference(&h2, second.len())]).await;
    assert_eq!(put(&w, "cadre_a", &h1, &first).await.0, 201);
    let (status, body) = put(&w, "cadre_a", &h2, &second).await;
    assert_eq!(status, 507, "{body}");
    assert!(body.contains("quota") && body.contains("照片空间已满"), "{body}");
    assert_eq!(get(&w, "sup_x", &h2).await.0, 404);
    assert!(!w.data.path().join("photos").join(&h2[..2]).join(&h2).exists());
    assert_eq!(w.server.state.hub.storage.photo_content(&h2).unwrap(), None);
    assert_eq!(w.server.state.hub.storage.photo_bytes(&w.units["A村"]).unwrap(), first.len() as u64);
    // Over the largest photo the ledger admits: refused before it is read whole.
    let (huge, h3) = jpeg(7, ledger::photo::MAX_PHOTO_BYTES as usize + 10_000);
    assert_eq!(put(&w, "cadre_a", &h3, &huge).await.0, 413);
}

/// The quota is checked and the photo's row written in one turn of the unit: eight uploads at
/// once with room for two store two, whichever they are, and refuse six with the quota.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uploads_at_once_never_pass_a_units_quota_together() {
    let w = world_with(|state| state.photo_quota = 100_000).await;
    let photos: Vec<_> = (0..8).map(|i| jpeg(20 + i, 40_000)).collect();
    visit_with(&w, "cadre_a", photos.iter().map(|(bytes, hash)| reference(hash, bytes.len())).collect()).await;
    let answers = futures_util::future::join_all(photos.iter().map(|(bytes, hash)| put(&w, "cadre_a", hash, bytes))).await;
    let stored = answers.iter().filter(|(status, _)| *status == 201).count();
    let refused = answers.iter().filter(|(status, body)| *status == 507 && body.contains("quota")).count();
    assert_eq!((stored, refused), (2, 6), "{answers:?}");
    let storage = &w.server.state.hub.storage;
    assert_eq!(storage.photo_bytes(&w.units["A村"]).unwrap(), 2 * photos[0].0.len() as u64);
    for ((bytes, hash), (status, _)) in photos.iter().zip(&answers) {
        let kept = storage.photo_content(hash).unwrap();
        assert_eq!(kept.as_ref(), (*status == 201).then_some(bytes), "{hash}: {status}");
    }
    if storage.is_sqlite() {
        // Two files, no partial one left behind by the refused.
        let files: usize = std::fs::read_dir(w.data.path().join("photos")).unwrap().map(|d| std::fs::read_dir(d.unwrap().path()).unwrap().count()).sum();
        assert_eq!(files, 2);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_carries_the_photos_and_a_restore_puts_them_back() {
    let w = common::counties::world_in(common::sqlite_dir(), |_| {}).await;
    let (bytes, hash) = jpeg(8, 20_000);
    visit_with(&w, "cadre_a", vec![reference(&hash, bytes.len())]).await;
    assert_eq!(put(&w, "cadre_a", &hash, &bytes).await.0, 201);
    let backups = tempfile::tempdir().unwrap();
    let to = backups.path().join("one.sqlite3");
    let done = sync_server::backup::backup(w.data.path(), &to).unwrap();
    assert_eq!((done.photos_copied, done.photos_missing.len()), (1, 0));
    let copy = backups.path().join("photos").join(&hash[..2]).join(&hash);
    assert_eq!(std::fs::read(&copy).unwrap(), bytes);
    // A second backup shares the copy.
    let again = sync_server::backup::backup(w.data.path(), &backups.path().join("two.sqlite3")).unwrap();
    assert_eq!(again.photos_copied, 0);

    let restored_into = tempfile::tempdir().unwrap();
    let restored = sync_server::backup::restore(&to, restored_into.path()).unwrap();
    assert!(restored.photos_missing.is_empty());
    assert_eq!(std::fs::read(restored_into.path().join("photos").join(&hash[..2]).join(&hash)).unwrap(), bytes);
    assert_eq!(restored.report.photos, 1);
    let storage = sync_server::Storage::open(restored_into.path()).unwrap();
    assert_eq!(storage.photo(&hash).unwrap().map(|p| p.size), Some(bytes.len() as u64));
    drop(storage);

    // A backup whose photos folder was not copied with it is refused, naming what is missing.
    let lone = tempfile::tempdir().unwrap();
    std::fs::copy(&to, lone.path().join("one.sqlite3")).unwrap();
    let refused = sync_server::backup::restore(&lone.path().join("one.sqlite3"), tempfile::tempdir().unwrap().path()).unwrap_err();
    assert!(refused.contains("photo(s) listed have no file"), "{refused}");
    let check = sync_server::data_check::check_file(&w.data.path().join("ledger.sqlite3")).unwrap();
    assert!(check.is_whole(), "{:?}", check.problems);
}
