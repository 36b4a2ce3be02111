//! The supervisor's desk against the real server over real sockets and HTTP: who sees which
//! units in figures, lists and records (one table, each cell the exact set of units), a phone's
//! sync reaching the figures, a supervision remark reaching the phone, bad requests.

use crate::common;

use std::collections::{BTreeSet, HashMap};
use std::time::Duration;

use automerge::{ActorId, AutoCommit};
use common::{attempt, http, Answer};
use ledger::enterprise::EnterpriseDraft;
use ledger::org::{Role, UnitKind};
use ledger::{ProblemDraft, RecordId, UnitLedger, VisitDraft};
use ledger_sync::DocumentId;
use serde_json::Value;

/// city ─ county X ─ township T1 ─ villages A, B; city ─ county Y ─ township T2 ─ village C.
struct World {
    server: common::Server,
    ledgers: HashMap<&'static str, DocumentId>,
    tokens: HashMap<&'static str, String>,
    /// One problem per village, raised by its cadre's phone.
    problems: HashMap<&'static str, RecordId>,
}

async fn world() -> (World, tempfile::TempDir) {
    let data = tempfile::tempdir().unwrap();
    let server = common::Server::start(data.path(), Duration::from_secs(5)).await;
    let d = server.state.hub.directory.clone();
    let city = d.org().units.values().find(|u| u.kind == UnitKind::City).unwrap().id.clone();
    let add = |name: &str, kind, parent: &str| d.add_unit(name, kind, Some(parent), None).unwrap();
    let x = add("X县", UnitKind::County, &city);
    let t1 = add("T1镇", UnitKind::Township, &x.id);
    let a = add("A村", UnitKind::Village, &t1.id);
    let b = add("B村", UnitKind::Village, &t1.id);
    let y = add("Y县", UnitKind::County, &city);
    let t2 = add("T2镇", UnitKind::Township, &y.id);
    let c = add("C村", UnitKind::Village, &t2.id);
    let mut tokens = HashMap::new();
    for (who, unit, role) in [
        ("sup_city", &city, Some(Role::Supervisor)),
        ("sup_x", &x.id, Some(Role::Supervisor)),
        ("sup_t1", &t1.id, Some(Role::Supervisor)),
        ("sup_y", &y.id, Some(Role::Supervisor)),
        ("cadre_a", &a.id, Some(Role::Cadre)),
        ("cadre_b", &b.id, Some(Role::Cadre)),
        ("cadre_c", &c.id, Some(Role::Cadre)),
        ("secretary_a", &a.id, Some(Role::Secretary)),
        ("admin", &city, Some(Role::Admin)),
        ("nobody", &a.id, None),
    ] {
        let person = d.add_person(&format!("{who}名"), who, None, None).unwrap();
        if let Some(role) = role {
            d.grant(&person.id, unit, role, None).unwrap();
        }
        tokens.insert(who, d.issue_token(&person.id, who, None).unwrap().token);
    }
    let mut w = World { server, ledgers: HashMap::new(), tokens, problems: HashMap::new() };
    for (name, unit, cadre) in [("A村", &a, "cadre_a"), ("B村", &b, "cadre_b"), ("C村", &c, "cadre_c")] {
        let doc = DocumentId::parse(unit.ledger.as_ref().unwrap()).unwrap();
        w.ledgers.insert(name, doc);
        let (problem, _) = w.phone_raises(cadre, doc, &format!("{name}路灯不亮")).await;
        w.problems.insert(name, problem);
    }
    (w, data)
}

fn today() -> chrono::NaiveDate {
    ledger::report::day_of(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as i64).unwrap()
}

impl World {
    /// A cadre's phone raises an overdue problem and logs a visit offline, then syncs.
    async fn phone_raises(&self, who: &str, doc: DocumentId, title: &str) -> (RecordId, AutoCommit) {
        let mut l = UnitLedger::create(ActorId::random());
        l.set_author(&format!("{who}名"));
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as i64;
        let overdue = today() - chrono::Duration::days(3);
        let draft = ProblemDraft { title: title.into(), deadline: overdue.to_string(), ..ProblemDraft::default() };
        let problem = l.add_problem(&draft.validate().unwrap(), now).unwrap();
        l.add_visit(&VisitDraft { whom: "张大爷".into(), heard: "路灯坏了".into(), ..VisitDraft::new(today()) }.validate(today()).unwrap(), now).unwrap();
        let (answer, doc) = attempt(&self.server.url_with(&self.tokens[who]), doc, l.doc().clone()).await;
        assert_eq!(answer, Answer::Data);
        (problem, doc)
    }

    async fn get(&self, who: &str, path: &str) -> (u16, Value) {
        let auth = format!("Bearer {}", self.tokens.get(who).map(String::as_str).unwrap_or("none"));
        let headers: Vec<(&str, &str)> = if who == "anonymous" { vec![] } else { vec![("Authorization", auth.as_str())] };
        let (status, _, body) = http(self.server.addr, "GET", path, &headers, "").await;
        (status, serde_json::from_str(&body).unwrap_or(Value::Null))
    }

    /// The answer's status and its body exactly as sent.
    async fn raw(&self, who: &str, method: &str, path: &str, body: &str) -> (u16, String) {
        let auth = format!("Bearer {}", self.tokens.get(who).map(String::as_str).unwrap_or("none"));
        let (status, _, body) = http(self.server.addr, method, path, &[("Authorization", &auth), ("Content-Type", "application/json")], body).await;
        (status, body)
    }

    /// `who`'s answer to `path`, read as exactly a `T` (see `http_api::exactly`).
    async fn exactly<T: serde::Serialize + serde::de::DeserializeOwned>(&self, who: &str, method: &str, path: &str, body: &str) -> T {
        let (status, text) = self.raw(who, method, path, body).await;
        assert!((200..300).contains(&status), "{method} {path} as {who}: {status} {text}");
        http_api::exactly::<T>(&text).unwrap_or_else(|e| panic!("{method} {path}: {e}"))
    }

    async fn post(&self, who: &str, path: &str, body: &str) -> (u16, Value) {
        let auth = format!("Bearer {}", self.tokens[who]);
        let (status, _, body) = http(self.server.addr, "POST", path, &[("Authorization", &auth), ("Content-Type", "application/json")], body).await;
        (status, serde_json::from_str(&body).unwrap_or(Value::Null))
    }

    fn unit_id(&self, name: &str) -> String {
        self.server.state.hub.directory.org().units.values().find(|u| u.name == name).unwrap().id.clone()
    }

    fn record_path(&self, village: &'static str) -> String {
        format!("/api/desk/records/{}/problems/{}", self.ledgers[village], self.problems[village])
    }

    /// One cell: the units `who` gets from `what`, or the refusal's status.
    async fn cell(&self, who: &str, what: &str) -> String {
        let names = |rows: &Value, key: &str| -> String {
            let set: BTreeSet<String> = rows.as_array().unwrap().iter().map(|r| r[key].as_str().unwrap().rsplit(" / ").next().unwrap().to_owned()).collect();
            set.into_iter().collect::<Vec<_>>().join(",")
        };
        let (path, key) = match what {
            "overview" => ("/api/desk/overview".to_owned(), "name"),
            "overdue" => ("/api/desk/problems?overdue=1".to_owned(), "unit_path"),
            "raised" => ("/api/desk/problems".to_owned(), "unit_path"),
            "node=T1" => (format!("/api/desk/overview?node={}", self.unit_id("T1镇")), "name"),
            "node=Y" => (format!("/api/desk/overview?node={}", self.unit_id("Y县")), "name"),
            record => (
                self.record_path(match record {
                    "record A" => "A村",
                    _ => "C村",
                }),
                "unit_path",
            ),
        };
        let (status, body) = self.get(who, &path).await;
        if status != 200 {
            return status.to_string();
        }
        match body.get("rows") {
            Some(rows) => names(rows, key),
            None => names(&Value::Array(vec![body.clone()]), key),
        }
    }
}

/// Every person × what they ask for, each cell the exact units in the answer (or the status).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_supervisor_sees_exactly_the_units_below_their_node() {
    let (w, _data) = world().await;
    let all = "A村,B村,C村,T1镇,T2镇,X县,Y县,测试县,测试市,测试镇";
    #[rustfmt::skip]
    let table: &[(&str, &str, &str)] = &[
        ("sup_city", "overview", all),
        ("sup_city", "overdue", "A村,B村,C村"),
        ("sup_city", "node=Y", "C村,T2镇,Y县"),
        ("sup_city", "record C", "C村"),
        ("sup_x", "overview", "A村,B村,T1镇,X县"),
        ("sup_x", "overdue", "A村,B村"),
        ("sup_x", "raised", "A村,B村"),
        ("sup_x", "node=T1", "A村,B村,T1镇"),
        ("sup_x", "node=Y", "404"),
        ("sup_x", "record A", "A村"),
        ("sup_x", "record C", "404"),
        ("sup_t1", "overview", "A村,B村,T1镇"),
        ("sup_t1", "overdue", "A村,B村"),
        ("sup_t1", "node=Y", "404"),
        ("sup_t1", "record C", "404"),
        ("sup_y", "overview", "C村,T2镇,Y县"),
        ("sup_y", "overdue", "C村"),
        ("sup_y", "node=T1", "404"),
        ("sup_y", "record A", "404"),
        ("cadre_a", "overview", "403"),
        ("cadre_a", "record A", "404"),
        ("secretary_a", "overdue", "403"),
        ("admin", "overview", "403"),
        ("admin", "record A", "404"),
        ("nobody", "overview", "403"),
        ("anonymous", "overview", "401"),
        ("anonymous", "record A", "401"),
    ];
    let mut wrong = Vec::new();
    for (who, what, expected) in table {
        let got = w.cell(who, what).await;
        if got != *expected {
            wrong.push(format!("{who} × {what}: expected {expected}, got {got}"));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_phones_sync_reaches_the_figures_and_a_remark_reaches_the_phone() {
    let (w, _data) = world().await;
    let (status, overview) = w.get("sup_t1", "/api/desk/overview").await;
    assert_eq!(status, 200, "{overview}");
    let row = |o: &Value, name: &str| o["rows"].as_array().unwrap().iter().find(|r| r["name"] == name).cloned().unwrap();
    let a = row(&overview, "A村");
    assert_eq!((a["figures"]["raised"].as_u64(), a["figures"]["overdue"].as_u64(), a["visits"].as_u64()), (Some(1), Some(1), Some(1)));
    assert_eq!(a["stale"], false, "its cadre's phone just synced");
    let t1 = row(&overview, "T1镇");
    assert_eq!((t1["figures"]["raised"].as_u64(), t1["units"].as_u64(), t1["stale_below"].as_u64()), (Some(2), Some(2), Some(0)));

    // Another problem from A's phone: the figures follow at once.
    w.phone_raises("cadre_a", w.ledgers["A村"], "A村水管破裂").await;
    let (_, overview) = w.get("sup_t1", "/api/desk/overview").await;
    assert_eq!(row(&overview, "A村")["figures"]["raised"].as_u64(), Some(2));
    assert_eq!(row(&overview, "T1镇")["figures"]["raised"].as_u64(), Some(3));
    let (_, overdue) = w.get("sup_t1", "/api/desk/problems?overdue=1&sort=unit").await;
    assert_eq!(overdue["total"].as_u64(), Some(3));
    assert_eq!(overdue["rows"][0]["days_overdue"].as_i64(), Some(3));

    // 督办: the supervisor's remark is written into A's ledger.
    let remark = r#"{"text":"请本周内修好并回访"}"#;
    let (status, body) = w.post("sup_t1", &format!("{}/remarks", w.record_path("A村")), remark).await;
    assert_eq!(status, 200, "{body}");
    let (_, record) = w.get("sup_t1", &w.record_path("A村")).await;
    let supervision = record["record"]["supervision"].as_array().unwrap();
    assert_eq!((supervision.len(), supervision[0]["by"].as_str()), (1, Some("sup_t1名")));
    assert!(record["history"].as_array().unwrap().iter().any(|h| h["by"] == "sup_t1名"), "{record}");
    let (_, overdue) = w.get("sup_t1", "/api/desk/problems?overdue=1").await;
    assert!(overdue["rows"].as_array().unwrap().iter().any(|r| r["remarks"] == 1));

    // The phone's next sync brings the remark, with who wrote it.
    let mut phone = UnitLedger::create(ActorId::random());
    let (_, doc) = attempt(&w.server.url_with(&w.tokens["cadre_a"]), w.ledgers["A村"], phone.doc().clone()).await;
    phone = UnitLedger::load(&doc.clone().save(), ActorId::random()).unwrap();
    let p = phone.problem(&w.problems["A村"]).unwrap();
    assert_eq!(p.supervision.iter().map(|e| (e.by.as_str(), e.text.as_str())).collect::<Vec<_>>(), [("sup_t1名", "请本周内修好并回访")]);

    // Outside the node: refused as missing, nothing written.
    let heads = w.server.state.hub.storage.projected_heads(&w.ledgers["C村"]).unwrap();
    let (status, _) = w.post("sup_t1", &format!("{}/remarks", w.record_path("C村")), remark).await;
    assert_eq!(status, 404);
    assert_eq!(w.server.state.hub.storage.projected_heads(&w.ledgers["C村"]).unwrap(), heads);
    // An empty remark is refused with the reason.
    let (status, body) = w.post("sup_t1", &format!("{}/remarks", w.record_path("A村")), r#"{"text":"  "}"#).await;
    assert_eq!((status, body["message"].as_str()), (400, Some("请写下督办意见")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_requests_get_a_reason_and_stale_units_are_marked() {
    let (w, _data) = world().await;
    for (path, reason) in [
        ("/api/desk/overview?period=2026-13", "无法识别的统计期间"),
        ("/api/desk/overview?period=2026-11-30..2026-11-01", "早于"),
        ("/api/desk/overview?category=roads", "无法识别的问题类别"),
        ("/api/desk/problems?sort=random", "无法识别的排序"),
        ("/api/desk/overview?node=nonsense", "没有这个单位"),
    ] {
        let (status, body) = w.get("sup_city", path).await;
        assert!(status == 400 || status == 404, "{path}: {status}");
        assert!(body["message"].as_str().unwrap_or_default().contains(reason), "{path}: {body}");
    }
    // A unit whose devices have not reached the server for days is stale.
    let storage = &w.server.state.hub.storage;
    let b_cadre = storage.person_by_login("cadre_b").unwrap().unwrap().0;
    let device = storage.devices().unwrap().into_iter().find(|d| d.person == b_cadre.id).unwrap();
    storage.touch_device(&device.id, None, 1_000).unwrap();
    let year = chrono::Datelike::year(&today());
    let (_, overview) = w.get("sup_t1", &format!("/api/desk/overview?period={year}")).await;
    let row = |name: &str| overview["rows"].as_array().unwrap().iter().find(|r| r["name"] == name).cloned().unwrap();
    assert_eq!((row("A村")["stale"].as_bool(), row("B村")["stale"].as_bool()), (Some(false), Some(true)));
    assert_eq!(row("T1镇")["stale_below"].as_u64(), Some(1));
    assert_eq!(overview["period"]["label"], format!("{year}年"));
}

/// The export opened by an independent reader (calamine): the sheets, headers, row counts,
/// Chinese text intact, dates as dates; another county's units nowhere.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_export_is_a_real_workbook_of_exactly_the_supervisors_units() {
    use calamine::{Data, Reader};
    let (w, _data) = world().await;
    let year = chrono::Datelike::year(&today());
    // A村 serves a firm: one difficulty of it, one visit to it; another firm was deleted.
    {
        let mut l = UnitLedger::create(ActorId::random());
        l.set_author("cadre_a名");
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as i64;
        let firm = EnterpriseDraft { name: "闽兴机械".into(), credit_code: "91350100M000100Y43".into(), industry: "机械制造".into(), ..Default::default() };
        let firm = l.add_enterprise(&firm.validate().unwrap(), now).unwrap();
        let gone = EnterpriseDraft { name: "已注销的厂".into(), credit_code: "91110000100000000R".into(), ..Default::default() };
        let gone = l.add_enterprise(&gone.validate().unwrap(), now).unwrap();
        l.set_deleted(ledger::record::Section::Enterprises, &gone, true, now).unwrap();
        let draft =
            ProblemDraft { title: "缺熟练工".into(), enterprise_id: Some(firm.clone()), difficulty: Some(ledger::problem::Difficulty::ALL[0]), ..ProblemDraft::default() };
        l.add_problem(&draft.validate().unwrap(), now).unwrap();
        let visit = VisitDraft { whom: "闽兴机械".into(), heard: "用工紧".into(), enterprise_id: Some(firm), ..VisitDraft::new(today()) };
        l.add_visit(&visit.validate(today()).unwrap(), now).unwrap();
        let (answer, _) = attempt(&w.server.url_with(&w.tokens["cadre_a"]), w.ledgers["A村"], l.doc().clone()).await;
        assert_eq!(answer, Answer::Data);
    }
    // A 督办意见 on A村's problem: the export carries its words, not a count.
    let (status, body) = w.post("sup_t1", &format!("{}/remarks", w.record_path("A村")), r#"{"text":"请三天内修好"}"#).await;
    assert_eq!(status, 200, "{body}");
    let auth = format!("Bearer {}", w.tokens["sup_t1"]);
    let (status, head, bytes) = common::http_bytes(w.server.addr, &format!("/api/desk/export.xlsx?period={year}"), &[("Authorization", &auth)]).await;
    assert_eq!(status, 200, "{head}");
    assert!(head.contains("spreadsheetml") && head.contains("filename*=UTF-8''"), "{head}");
    let mut book: calamine::Xlsx<_> = calamine::open_workbook_from_rs(std::io::Cursor::new(bytes)).unwrap();
    assert_eq!(book.sheet_names(), ["单位汇总", "问题台账", "走访记录", "承诺", "测评", "服务企业"]);
    let summary = book.worksheet_range("单位汇总").unwrap();
    let units: Vec<String> = summary.rows().skip(1).map(|r| r[0].to_string()).collect();
    assert_eq!(units, ["测试市 / X县 / T1镇 / A村", "测试市 / X县 / T1镇 / B村"]);
    assert_eq!(summary.rows().nth(1).unwrap()[2], Data::Float(2.0), "A村 raised two problems, one a firm's difficulty");
    let problems = book.worksheet_range("问题台账").unwrap();
    let head: Vec<String> = problems.rows().next().unwrap().iter().map(|c| c.to_string()).collect();
    assert_eq!(&head[..9], ["单位", "问题", "类别", "反映人", "紧急程度", "状态", "责任人", "登记日期", "办结时限"]);
    let rows: Vec<&[Data]> = problems.rows().skip(1).collect();
    let mut titles: Vec<String> = rows.iter().map(|r| r[1].to_string()).collect();
    titles.sort();
    assert_eq!(titles, ["A村路灯不亮", "B村路灯不亮", "缺熟练工"]);
    for r in rows.iter().filter(|r| r[1].to_string() != "缺熟练工") {
        assert!(matches!(r[7], Data::DateTime(_)), "登记日期 is a date: {:?}", r[7]);
        assert!(matches!(r[8], Data::DateTime(_)), "办结时限 is a date: {:?}", r[8]);
        assert_eq!(r[11], Data::Float(3.0), "three days overdue");
        assert_eq!(r[5].to_string(), "待办");
    }
    let remark = rows.iter().find(|r| r[1].to_string() == "A村路灯不亮").unwrap()[16].to_string();
    assert!(remark.ends_with("sup_t1名：请三天内修好"), "{remark}");
    assert_eq!(rows.iter().find(|r| r[1].to_string() == "B村路灯不亮").unwrap()[16], Data::Empty);
    assert_eq!(book.worksheet_range("测评").unwrap().rows().count(), 1, "header only: no round opened");
    assert_eq!(book.worksheet_range("走访记录").unwrap().rows().count(), 4, "header + one visit per village + the firm's");
    // The firms served: the deleted one left out, the other's difficulty and visit counted.
    let firms = book.worksheet_range("服务企业").unwrap();
    let firms: Vec<Vec<String>> = firms.rows().map(|r| r.iter().map(|c| c.to_string()).collect()).collect();
    assert_eq!(firms[0], ["单位", "企业名称", "统一社会信用代码", "所属行业", "地址", "困难", "未解决困难", "走访"]);
    assert_eq!(firms[1..], [vec!["测试市 / X县 / T1镇 / A村", "闽兴机械", "91350100M000100Y43", "机械制造", "", "1", "1", "1"]]);
    assert_eq!(book.worksheet_range("承诺").unwrap().rows().count(), 1, "header only");
    // Another county's supervisor gets theirs only; a cadre gets nothing.
    let auth = format!("Bearer {}", w.tokens["sup_y"]);
    let (_, _, bytes) = common::http_bytes(w.server.addr, &format!("/api/desk/export.xlsx?period={year}"), &[("Authorization", &auth)]).await;
    let mut book: calamine::Xlsx<_> = calamine::open_workbook_from_rs(std::io::Cursor::new(bytes)).unwrap();
    let titles: Vec<String> = book.worksheet_range("问题台账").unwrap().rows().skip(1).map(|r| r[1].to_string()).collect();
    assert_eq!(titles, ["C村路灯不亮"]);
    let auth = format!("Bearer {}", w.tokens["cadre_a"]);
    let (status, _, _) = common::http_bytes(w.server.addr, "/api/desk/export.xlsx", &[("Authorization", &auth)]).await;
    assert_eq!(status, 403);
}

/// A field longer than a spreadsheet cell (a peer may write one: 40,000 characters of a
/// problem's description) is cut with a visible marker; the export of every node above it
/// still succeeds.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_over_long_field_is_cut_with_a_marker_and_the_export_still_succeeds() {
    use automerge::transaction::Transactable;
    use automerge::ReadDoc;
    use calamine::Reader;
    let (w, _data) = world().await;
    let doc = w.ledgers["A村"];
    let (problem, mut local) = w.phone_raises("cadre_a", doc, "超长描述的问题").await;
    let problems = local.get(automerge::ROOT, "problems").unwrap().unwrap().1;
    let record = local.get(&problems, problem.as_str()).unwrap().unwrap().1;
    let long = "长".repeat(40_000);
    match local.get(&record, "description").unwrap() {
        Some((automerge::Value::Object(automerge::ObjType::Text), text)) => local.splice_text(&text, 0, 0, &long).unwrap(),
        _ => local.put(&record, "description", long.as_str()).unwrap(),
    }
    let note = ledger::record::ChangeNote { summary: "修改问题".into(), record: Some((ledger::Section::Problems, problem.clone())), by: "cadre_a名".into() };
    local.commit_with(automerge::transaction::CommitOptions::default().with_message(note.encode()));
    let (answer, _) = attempt(&w.server.url_with(&w.tokens["cadre_a"]), doc, local).await;
    assert_eq!(answer, Answer::Data);
    // The server stores it (a debug build takes a while over 40,000 operations).
    let path = format!("/api/desk/records/{doc}/problems/{problem}");
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        let (_, record) = w.get("sup_t1", &path).await;
        if record["record"]["description"].as_str().is_some_and(|d| d.chars().count() == 40_000) {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "the long description never arrived: {}", &record.to_string()[..200.min(record.to_string().len())]);
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let year = chrono::Datelike::year(&today());
    for who in ["sup_t1", "sup_x", "sup_city"] {
        let auth = format!("Bearer {}", w.tokens[who]);
        let (status, head, bytes) = common::http_bytes(w.server.addr, &format!("/api/desk/export.xlsx?period={year}"), &[("Authorization", &auth)]).await;
        assert_eq!(status, 200, "{who}: {head}");
        let mut book: calamine::Xlsx<_> = calamine::open_workbook_from_rs(std::io::Cursor::new(bytes)).unwrap();
        let rows = book.worksheet_range("问题台账").unwrap();
        let cell = rows.rows().skip(1).find(|r| r[1].to_string() == "超长描述的问题").map(|r| r[17].to_string()).expect("the problem is exported");
        assert_eq!(cell.chars().count(), 32_767, "{who}");
        assert!(cell.starts_with("长长长") && cell.ends_with("超出表格单元格上限，已截断）"), "{who}");
    }
}

/// The desk reads the server's answers with the types the server writes them with
/// (`http_api`): every answer the desk reads is exactly its type, so a field renamed, added
/// or dropped on one side fails here, not in a supervisor's browser.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_answer_the_desk_reads_is_exactly_its_type() {
    use http_api::{admin, desk, me};
    let (w, _data) = world().await;
    let me: me::Me = w.exactly("sup_t1", "GET", "/api/me", "").await;
    assert!(me.is_supervisor() && !me.is_admin());
    let overview: desk::Overview = w.exactly("sup_t1", "GET", "/api/desk/overview", "").await;
    assert_eq!(overview.rows.iter().map(|r| r.name.as_str()).collect::<Vec<_>>(), ["T1镇", "A村", "B村"]);
    let overdue: desk::List<desk::ProblemRow> = w.exactly("sup_t1", "GET", "/api/desk/problems?overdue=1", "").await;
    assert_eq!(overdue.total, 2);
    let _: desk::List<desk::ProblemRow> = w.exactly("sup_t1", "GET", "/api/desk/problems?sort=urgency", "").await;
    let _: desk::List<desk::PledgeRow> = w.exactly("sup_t1", "GET", "/api/desk/pledges", "").await;
    let _: desk::List<desk::PostRow> = w.exactly("sup_t1", "GET", "/api/desk/posts", "").await;
    let _: desk::List<desk::CaseRow> = w.exactly("sup_t1", "GET", "/api/desk/cases", "").await;
    let _: admin::Settings = w.exactly("admin", "GET", "/api/admin/settings", "").await;
    let record: desk::RecordView = w.exactly("sup_t1", "GET", &w.record_path("A村"), "").await;
    assert!(record.may_remark && !record.history.is_empty());
    let remark = serde_json::to_string(&desk::Remark { text: "请本周内办结".into(), rating: None, step: None }).unwrap();
    let done: http_api::Done = w.exactly("sup_t1", "POST", &format!("{}/remarks", w.record_path("A村")), &remark).await;
    assert!(done.ok);

    let org: admin::OrgView = w.exactly("admin", "GET", "/api/admin/org", "").await;
    let town = org.units.iter().find(|u| u.name == "T1镇").unwrap().id.clone();
    fn body(v: &impl serde::Serialize) -> String {
        serde_json::to_string(v).unwrap()
    }
    let unit: ledger::org::Unit = w.exactly("admin", "POST", "/api/admin/units", &body(&admin::NewUnit { name: "D村".into(), kind: "village".into(), parent: town.clone() })).await;
    assert!(unit.ledger.is_some());
    let new = admin::NewPerson { name: "新干部".into(), login: "new_cadre".into(), password: None, unit: unit.id.clone(), role: "cadre".into() };
    let person: admin::Person = w.exactly("admin", "POST", "/api/admin/people", &body(&new)).await;
    let _: http_api::Done = w.exactly("admin", "POST", "/api/admin/grants", &body(&admin::NewGrant { person: person.id.clone(), unit: town, role: "cadre".into() })).await;
    let code: admin::IssuedCode = w.exactly("admin", "POST", "/api/admin/codes", &body(&admin::ForPerson { person: person.id.clone(), device: String::new() })).await;
    assert_eq!(code.expires_in_days, 7);
    let token: admin::IssuedToken = w.exactly("admin", "POST", "/api/admin/tokens", &body(&admin::ForPerson { person: person.id.clone(), device: "外部系统".into() })).await;
    let status: admin::DeviceStatus = w.exactly("admin", "POST", &format!("/api/admin/devices/{}/retire", token.device), "{}").await;
    assert_eq!(status.status, "retired");
    let devices: Vec<admin::Device> = w.exactly("admin", "GET", "/api/admin/devices", "").await;
    assert!(devices.iter().any(|d| d.id == token.device && d.status == "retired"));
    let audit: Vec<admin::AuditEntry> = w.exactly("admin", "GET", "/api/admin/audit", "").await;
    assert!(!audit.is_empty());

    let (status, text) = w.raw("nobody", "GET", "/api/desk/overview", "").await;
    assert_eq!(status, 403);
    let refusal: http_api::Refusal = http_api::exactly(&text).unwrap();
    assert_eq!(refusal.error, "forbidden");
    // The import's answers are read exactly in access.rs.
}

/// The record view loads a whole ledger: at most a few at once, the rest refused at once
/// (429, busy) rather than queued; every answer is either the record or that refusal.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn record_views_at_once_are_bounded() {
    let (w, _data) = world().await;
    let path = w.record_path("A村");
    let w = std::sync::Arc::new(w);
    let asks: Vec<_> = (0..24)
        .map(|_| {
            let (w, path) = (w.clone(), path.clone());
            tokio::spawn(async move { w.raw("sup_t1", "GET", &path, "").await })
        })
        .collect();
    let mut shown = 0;
    for ask in asks {
        let (status, body) = ask.await.unwrap();
        match status {
            200 => {
                let record: http_api::desk::RecordView = http_api::exactly(&body).unwrap();
                assert_eq!(record.unit_path, "测试市 / X县 / T1镇 / A村");
                shown += 1;
            }
            429 => assert_eq!(http_api::exactly::<http_api::Refusal>(&body).unwrap().error, "busy"),
            other => panic!("{other}: {body}"),
        }
    }
    assert!(shown >= 1, "no record view was answered");
}
