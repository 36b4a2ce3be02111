//! The public board (先锋广场) against the real server over real sockets: a resident rates and
//! asks with plain HTTP forms, the unit's phone receives what they sent through sync and
//! answers, the resident sees the answer; and everything the public can send is bounded.

use crate::common;

use std::time::Duration;

use automerge::{ActorId, AutoCommit};
use common::{Answer, End, Phone, Server};
use ledger::calendar::WorkCalendar;
use ledger::rating::StepKind;
use ledger::record::Section;
use ledger::{RecordId, UnitLedger};
use ledger_sync::DocumentId;

/// A server, a unit whose tester is its secretary, and the tester's phone holding its ledger
/// with one published post.
struct Unit {
    server: Server,
    _data: tempfile::TempDir,
    id: String,
    doc: DocumentId,
    phone: Phone,
    post: RecordId,
}

async fn unit() -> Unit {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start(data.path(), Duration::from_secs(5)).await;
    unit_on(server, data).await
}

async fn unit_on(server: Server, data: tempfile::TempDir) -> Unit {
    let doc = server.ledger();
    let d = &server.state.hub.directory;
    let id = d.org().units.values().find(|u| u.ledger.as_deref() == Some(&doc.to_string())).unwrap().id.clone();
    d.grant(&server.tester.person, &id, ledger::org::Role::Secretary, None).unwrap();
    let mut phone = Phone::new("secretary", doc);
    let post = edit(&mut phone, |l| {
        let draft = ledger::PostDraft { title: "便民服务窗口".into(), holder: "王芳".into(), duties: "代办社保、医保".into(), hours: "工作日".into() };
        let id = l.add_post(&draft.validate().unwrap(), now())?;
        l.set_published(Section::Posts, &id, true, now())?;
        Ok(id)
    });
    let end = phone.sync(&server.url(), Duration::from_secs(20)).await;
    assert_eq!(end, End::Quiet, "closed: {:?}, errors: {:?}", phone.closed, phone.errors);
    Unit { server, _data: data, id, doc, phone, post }
}

fn now() -> i64 {
    sync_server::now_secs() * 1000
}

/// An edit on the phone through the ledger's own API, signed as the tester.
fn edit<R>(phone: &mut Phone, f: impl FnOnce(&mut UnitLedger) -> Result<R, ledger::LedgerError>) -> R {
    UnitLedger::reading(&mut phone.doc, |l| {
        l.set_author(common::TESTER);
        f(l)
    })
    .unwrap()
}

fn read<R>(phone: &mut Phone, f: impl FnOnce(&mut UnitLedger) -> R) -> R {
    UnitLedger::reading(&mut phone.doc, f)
}

impl Unit {
    async fn get(&self, path: &str, cookie: Option<&str>) -> (u16, String, String) {
        let headers: Vec<(&str, &str)> = cookie.map(|c| vec![("Cookie", c)]).unwrap_or_default();
        common::http(self.server.addr, "GET", path, &headers, "").await
    }

    async fn post(&self, path: &str, cookie: Option<&str>, form: &[(&str, &str)]) -> (u16, String, String) {
        post_at(self.server.addr, path, cookie, form).await
    }

    fn heads(&self) -> Vec<automerge::ChangeHash> {
        self.server.state.hub.heads_in_memory(&self.doc).unwrap_or_default()
    }

    async fn sync(&mut self) {
        assert_eq!(self.phone.sync(&self.server.url(), Duration::from_secs(20)).await, End::Quiet);
    }
}

/// A form posted as a browser does.
async fn post_at(addr: std::net::SocketAddr, path: &str, cookie: Option<&str>, form: &[(&str, &str)]) -> (u16, String, String) {
    let body: String = form.iter().map(|(k, v)| format!("{k}={}", encode(v))).collect::<Vec<_>>().join("&");
    let mut headers = vec![("Content-Type", "application/x-www-form-urlencoded")];
    if let Some(c) = cookie {
        headers.push(("Cookie", c));
    }
    common::http(addr, "POST", path, &headers, &body).await
}

fn encode(s: &str) -> String {
    s.bytes().map(|b| if b.is_ascii_alphanumeric() { (b as char).to_string() } else { format!("%{b:02X}") }).collect()
}

/// The browser cookie a page set.
fn cookie_of(head: &str) -> String {
    head.lines().find_map(|l| l.strip_prefix("set-cookie: ")).and_then(|c| c.split(';').next()).expect("a browser cookie").to_owned()
}

/// The first link in a page that starts with `prefix`.
fn link(body: &str, prefix: &str) -> String {
    let at = body.find(&format!("href=\"{prefix}")).unwrap_or_else(|| panic!("no link to {prefix} in {body}"));
    let rest = &body[at + 6..];
    rest[..rest.find('"').unwrap()].replace("&amp;", "&")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_residents_bad_rating_reaches_the_phone_is_answered_and_rechecked_once() {
    let mut u = unit().await;
    let board = format!("/b/{}", u.id);
    let (status, _, page) = u.get(&board, None).await;
    assert_eq!(status, 200);
    assert!(page.contains("便民服务窗口") && page.contains("责任人：王芳"), "{page}");
    assert!(!page.contains("<script"), "the board needs no script");
    let rate = format!("{board}/rate/post/{}", u.post);
    let (status, head, form) = u.get(&rate, None).await;
    assert_eq!(status, 200);
    assert!(!form.contains(" checked"), "nothing is pre-selected");
    let cookie = cookie_of(&head);

    // Nothing chosen, or a 差评 with no reason: asked again, nothing stored.
    let before = u.heads();
    for form in [vec![("comment", "还行")], vec![("verdict", "dissatisfied")], vec![("verdict", "great")], vec![("verdict", "satisfied"), ("phone", "12345")]] {
        let (status, _, page) = u.post(&rate, Some(&cookie), &form).await;
        assert_eq!(status, 400, "{form:?}: {page}");
    }
    assert_eq!(u.heads(), before);

    let (status, _, thanks) = u.post(&rate, Some(&cookie), &[("verdict", "dissatisfied"), ("comment", "窗口中午常没人"), ("phone", "138 0013 8000")]).await;
    assert_eq!(status, 200, "{thanks}");
    assert!(thanks.contains("已收到您的评价"));
    let case = link(&thanks, &format!("{board}/case/"));
    // The same browser rates the same post once a day.
    let (status, _, _) = u.post(&rate, Some(&cookie), &[("verdict", "satisfied")]).await;
    assert_eq!(status, 429);

    // The phone gets the rating with its next sync; the resident's phone number is not in the
    // ledger every cadre's phone holds, only beside it on the server.
    u.sync().await;
    let ratings = read(&mut u.phone, |l| l.ratings().records);
    assert_eq!(ratings.len(), 1);
    let rating = ratings[0].clone();
    assert_eq!((rating.verdict, rating.comment.as_str(), rating.target_id.as_ref()), (ledger::Verdict::Dissatisfied, "窗口中午常没人", Some(&u.post)));
    let history = read(&mut u.phone, |l| l.history(&rating.id));
    assert_eq!(history[0].by, "先锋广场");
    let bytes = u.phone.doc.save();
    assert!(!bytes.windows(11).any(|w| w == b"13800138000"), "the phone number reached the ledger");
    let phone = u.server.state.hub.storage.contact(&u.doc.to_string(), rating.id.as_str()).unwrap();
    assert_eq!(phone.as_deref(), Some("13800138000"));
    // The secretary's phone asks for it to call back; a cadre of the unit, or no one, cannot.
    let contact = format!("/api/board/contacts/{}/{}", u.doc, rating.id);
    let bearer = |token: &str| format!("Bearer {token}");
    let (status, _, body) = common::http(u.server.addr, "GET", &contact, &[("Authorization", &bearer(&u.server.tester.token))], "").await;
    assert_eq!((status, body.as_str()), (200, r#"{"phone":"13800138000"}"#));
    let d = u.server.state.hub.directory.clone();
    let cadre = d.add_person("干部", "board_cadre", None, None).unwrap();
    d.grant(&cadre.id, &u.id, ledger::org::Role::Cadre, None).unwrap();
    let cadre_token = d.issue_token(&cadre.id, "phone", None).unwrap().token;
    assert_eq!(common::http(u.server.addr, "GET", &contact, &[("Authorization", &bearer(&cadre_token))], "").await.0, 404);
    assert_eq!(common::http(u.server.addr, "GET", &contact, &[], "").await.0, 401);
    let unknown = format!("/api/board/contacts/{}/{}", u.doc, ledger::RecordId::random());
    let (status, _, body) = common::http(u.server.addr, "GET", &unknown, &[("Authorization", &bearer(&u.server.tester.token))], "").await;
    assert_eq!((status, body.as_str()), (200, r#"{"phone":null}"#), "a rating with no number left");

    // The resident's link: the case waits; a recheck before an answer is refused.
    let (status, _, page) = u.get(&case, None).await;
    assert_eq!(status, 200);
    assert!(page.contains("待签收"), "{page}");
    let (status, _, _) = u.post(&case, None, &[("verdict", "satisfied")]).await;
    assert_eq!(status, 409);
    // The same link with its key's last digit changed.
    let last = if case.ends_with('0') { '1' } else { '0' };
    let forged = format!("{}{last}", &case[..case.len() - 1]);
    assert_eq!(u.get(&forged, None).await.0, 404, "a link with a wrong key opens nothing");

    // The secretary answers offline, then syncs.
    edit(&mut u.phone, |l| l.add_case_step(&rating.id, StepKind::Acknowledge, "", None, now()));
    edit(&mut u.phone, |l| l.add_case_step(&rating.id, StepKind::Rectify, "已安排午间轮岗，窗口不再空岗", None, now() + 1));
    u.sync().await;
    let (_, _, page) = u.get(&case, None).await;
    assert!(page.contains("已答复") && page.contains("已安排午间轮岗"), "{page}");
    let (_, _, public) = u.get(&board, None).await;
    assert!(public.contains("差评及整改") && public.contains("窗口中午常没人") && public.contains("已安排午间轮岗"), "{public}");
    assert!(!public.contains("13800138000"));

    // One recheck, then no more.
    let (status, head, _) = u.post(&case, None, &[("verdict", "basic"), ("comment", "好些了")]).await;
    assert_eq!(status, 303, "{head}");
    let (status, _, _) = u.post(&case, None, &[("verdict", "very_satisfied")]).await;
    assert_eq!(status, 409);
    u.sync().await;
    let rating = read(&mut u.phone, |l| l.rating(&rating.id).unwrap());
    let case = rating.case(&Default::default()).unwrap();
    assert_eq!(case.recheck, Some(ledger::Verdict::Basic));
    assert_eq!(rating.steps.iter().filter(|s| s.kind == StepKind::Recheck).count(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_question_becomes_a_problem_and_its_answer_is_published_once_closed() {
    let mut u = unit().await;
    let ask = format!("/b/{}/ask", u.id);
    let (status, _, _) = u.post(&ask, None, &[("title", ""), ("detail", "没写标题")]).await;
    assert_eq!(status, 400);
    let (status, _, page) = u.post(&ask, None, &[("title", "三号楼前路灯不亮"), ("detail", "晚上老人出门看不见路"), ("phone", "13900139000")]).await;
    assert_eq!(status, 200, "{page}");
    u.sync().await;
    let problems = read(&mut u.phone, |l| l.problems().records);
    assert_eq!(problems.len(), 1);
    let p = problems[0].clone();
    assert_eq!((p.raised_by, p.status, p.contact.as_str()), (ledger::problem::RaisedBy::Message, ledger::Status::Pending, "13900139000"));
    let board = format!("/b/{}", u.id);
    assert!(!u.get(&board, None).await.2.contains("三号楼前路灯"), "an open question is not on the board");
    edit(&mut u.phone, |l| l.change_problem_status(&p.id, &ledger::problem::Action::Resolve { result: "已更换灯泡并加装一盏".into() }, now()).map(|_| ()));
    u.sync().await;
    let (_, _, page) = u.get(&board, None).await;
    assert!(page.contains("群众留言答复") && page.contains("三号楼前路灯不亮") && page.contains("已更换灯泡并加装一盏"), "{page}");
    assert!(!page.contains("13900139000"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_phone_writes_a_residents_record_or_uses_the_boards_actor() {
    let mut u = unit().await;
    let rate = format!("/b/{}/rate/post/{}", u.id, u.post);
    assert_eq!(u.post(&rate, None, &[("verdict", "very_satisfied")]).await.0, 200);
    u.sync().await;
    // A cadre's phone makes up a rating of its own: refused whole, nothing stored.
    let mut forged = u.phone.doc.fork().with_actor(ActorId::random());
    UnitLedger::reading(&mut forged, |l| {
        l.set_author(common::TESTER);
        let r = ledger::rating::ValidRating {
            target: ledger::rating::Target::Post,
            target_id: u.post.clone(),
            verdict: ledger::Verdict::VerySatisfied,
            comment: "好".into(),
            way: ledger::rating::Way::Poster,
            code_by: String::new(),
        };
        l.add_rating(&r, now()).unwrap();
    });
    let (answer, _) = common::attempt(&u.server.url(), u.doc, forged).await;
    assert!(matches!(&answer, Answer::Refused(r) if r.contains(ledger::write_scope::RATINGS_ARE_RESIDENTS)), "{answer:?}");
    // A phone that writes with the board's actor is refused as another device's.
    let board_actor = read(&mut u.phone, |l| {
        let rating = l.ratings().records[0].id.clone();
        let change = l.doc_mut().get_changes(&[]).into_iter().find(|c| c.message().is_some_and(|m| m.contains(rating.as_str()))).unwrap();
        change.actor_id().clone()
    });
    let mut posing: AutoCommit = u.phone.doc.fork().with_actor(board_actor);
    common::put_visit(&mut posing, "posing", "1");
    common::commit_signed(&mut posing, common::TESTER, Some("posing"));
    let (answer, _) = common::attempt(&u.server.url(), u.doc, posing).await;
    assert!(matches!(&answer, Answer::Refused(r) if r.contains("belongs to another device")), "{answer:?}");
    // Neither reached storage: a fresh reader finds the one real rating and no visit.
    let mut reader = Phone::new("reader", u.doc);
    assert_eq!(reader.sync(&u.server.url(), Duration::from_secs(20)).await, End::Quiet);
    assert_eq!(read(&mut reader, |l| l.ratings().records.len()), 1);
    assert_eq!(common::visit_value(&reader.doc, "posing"), None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_of_ratings_is_bounded_loses_none_it_acknowledged_and_leaves_the_server_up() {
    let u = unit().await;
    let rate = format!("/b/{}/rate/post/{}", u.id, u.post);
    // An oversized form is refused before it is read.
    let huge = "评".repeat(20_000);
    let (status, _, _) = u.post(&rate, None, &[("verdict", "satisfied"), ("comment", &huge)]).await;
    assert_eq!(status, 413);
    // One address, no cookie, as fast as it can: the address's hourly limit (300) holds; some
    // may meet the global cap (200 a second) instead. Every answer is one of the three.
    let mut tasks = Vec::new();
    for i in 0..40 {
        let addr = u.server.addr;
        let path = rate.clone();
        tasks.push(tokio::spawn(async move {
            let mut codes = Vec::new();
            for j in 0..10 {
                let body = format!("verdict=satisfied&comment=flood-{i}-{j}");
                let (status, _, _) = common::http(addr, "POST", &path, &[("Content-Type", "application/x-www-form-urlencoded")], &body).await;
                codes.push(status);
            }
            codes
        }));
    }
    let mut codes = Vec::new();
    for t in tasks {
        codes.extend(t.await.unwrap());
    }
    let stored = codes.iter().filter(|c| **c == 200).count();
    assert!(codes.iter().all(|c| matches!(c, 200 | 429 | 503)), "{codes:?}");
    assert!(stored <= 300, "{stored} stored from one address");
    assert!(codes.iter().filter(|c| **c != 200).count() >= 100, "{codes:?}");
    assert_eq!(common::http(u.server.addr, "GET", "/healthz", &[], "").await.0, 200);
    assert_eq!(u.get(&format!("/b/{}", u.id), None).await.0, 200);
    // Exactly what was acknowledged is in the ledger.
    let mut reader = Phone::new("reader", u.doc);
    assert_eq!(reader.sync(&u.server.url(), Duration::from_secs(30)).await, End::Quiet);
    let in_ledger = read(&mut reader, |l| l.ratings().records.len());
    assert_eq!(in_ledger, stored);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_ledger_carries_its_board_url_and_the_public_listener_serves_the_board_alone() {
    let u = unit().await;
    let auth = format!("Bearer {}", u.server.tester.token);
    let (status, _, me) = common::http(u.server.addr, "GET", "/api/me", &[("Authorization", &auth)], "").await;
    assert_eq!(status, 200);
    let me: serde_json::Value = serde_json::from_str(&me).unwrap();
    let entry = me["ledgers"].as_array().unwrap().iter().find(|l| l["documentId"] == u.doc.to_string()).unwrap().clone();
    assert_eq!(entry["boardUrl"], format!("http://{}/b/{}", u.server.addr, u.id));

    let public = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = public.local_addr().unwrap();
    let router = sync_server::public_router(u.server.state.clone());
    tokio::spawn(sync_server::serve(public, router, sync_server::ConnectionLimits::default(), std::future::pending()));
    assert_eq!(common::http(addr, "GET", &format!("/b/{}", u.id), &[], "").await.0, 200);
    let (status, _, poster) = common::http(addr, "GET", &format!("/b/{}/poster/post/{}", u.id, u.post), &[], "").await;
    assert_eq!(status, 200);
    assert!(poster.contains("<svg") && poster.contains(&format!("http://{addr}/b/{}/rate/post/{}", u.id, u.post)), "{poster}");
    for internal in ["/api/me", "/sync", "/", "/desk", "/api/desk/overview", "/healthz"] {
        assert_eq!(common::http(addr, "GET", internal, &[("Authorization", &auth)], "").await.0, 404, "{internal}");
    }
    assert_eq!(common::http(addr, "GET", "/b/000000000000000000000000", &[], "").await.0, 404, "an unknown unit");
    assert_eq!(common::http(addr, "GET", &format!("/b/{}/rate/post/{}", u.id, RecordId::random()), &[], "").await.0, 404, "a post not published");
}

/// A supervisor's desk lists a 差评 the unit appealed, counts it in the unit's figures, and
/// decides it: 撤销 needs a reason and lands in the ledger, where the secretary's phone reads
/// the case as withdrawn. The unit's secretary cannot reach the desk.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_desk_counts_an_appealed_bad_rating_and_a_supervisor_withdraws_it() {
    let mut u = unit().await;
    let rate = format!("/b/{}/rate/post/{}", u.id, u.post);
    assert_eq!(u.post(&rate, None, &[("verdict", "very_dissatisfied"), ("comment", "没见到人")]).await.0, 200);
    assert_eq!(u.post(&rate, None, &[("verdict", "satisfied")]).await.0, 200);
    u.sync().await;
    let bad = read(&mut u.phone, |l| l.ratings().records.into_iter().find(|r| r.verdict.is_bad()).unwrap());
    edit(&mut u.phone, |l| l.add_case_step(&bad.id, StepKind::Acknowledge, "", None, now()));
    edit(&mut u.phone, |l| l.add_case_step(&bad.id, StepKind::Appeal, "当天窗口停电，已在门口张贴告示", None, now() + 1));
    u.sync().await;

    let d = u.server.state.hub.directory.clone();
    let supervisor = d.add_person("督查员", "board_supervisor", None, None).unwrap();
    d.grant(&supervisor.id, &u.id, ledger::org::Role::Supervisor, None).unwrap();
    let token = d.issue_token(&supervisor.id, "desk", None).unwrap().token;
    let addr = u.server.addr;
    let desk = move |method: &'static str, path: String, body: String, token: String| async move {
        let auth = format!("Bearer {token}");
        common::http(addr, method, &path, &[("Authorization", &auth), ("Content-Type", "application/json")], &body).await
    };
    let (status, _, text) = desk("GET", "/api/desk/cases".into(), String::new(), token.clone()).await;
    assert_eq!(status, 200, "{text}");
    let cases: http_api::desk::List<http_api::desk::CaseRow> = http_api::exactly(&text).unwrap();
    assert_eq!(cases.total, 1, "only the 差评 is a case");
    let row = &cases.rows[0];
    assert_eq!((row.verdict.as_str(), row.state.as_str(), row.appealed, row.comment.as_str()), ("非常不满意", "申诉中", true, "没见到人"));
    assert_eq!(row.appeal.as_deref(), Some("当天窗口停电，已在门口张贴告示"));
    assert!(row.target.contains("便民服务窗口"), "{}", row.target);
    let (_, _, text) = desk("GET", "/api/desk/overview".into(), String::new(), token.clone()).await;
    let overview: http_api::desk::Overview = http_api::exactly(&text).unwrap();
    let figures = &overview.rows.iter().find(|r| r.unit == u.id).unwrap().figures;
    assert_eq!((figures.ratings, figures.ratings_good, figures.cases_open), (2, 1, 1));

    // 设岗定责: the unit's posts, the published one first with its two ratings, then one the
    // secretary keeps off the board; its record opens on the desk.
    edit(&mut u.phone, |l| {
        let draft = ledger::PostDraft { title: "党员先锋岗".into(), holder: "李强".into(), duties: "接待来访".into(), hours: "周一至周五".into() };
        l.add_post(&draft.validate().unwrap(), now())
    });
    u.sync().await;
    let (status, _, text) = desk("GET", "/api/desk/posts".into(), String::new(), token.clone()).await;
    assert_eq!(status, 200, "{text}");
    let posts: http_api::desk::List<http_api::desk::PostRow> = http_api::exactly(&text).unwrap();
    let seen: Vec<_> = posts.rows.iter().map(|p| (p.title.as_str(), p.holder.as_str(), p.published, p.ratings, p.ratings_good)).collect();
    assert_eq!(seen, [("便民服务窗口", "王芳", true, 2, 1), ("党员先锋岗", "李强", false, 0, 0)]);
    let (status, _, text) = desk("GET", format!("/api/desk/records/{}/posts/{}", u.doc, u.post), String::new(), token.clone()).await;
    assert_eq!(status, 200, "{text}");
    assert!(text.contains("代办社保、医保"), "{text}");
    let (status, _, _) = desk("GET", "/api/desk/posts".into(), String::new(), u.server.tester.token.clone()).await;
    assert_eq!(status, 403, "the unit's secretary supervises nothing");

    let path = format!("/api/desk/records/{}/ratings/{}/remarks", u.doc, bad.id);
    let stored = |u: &Unit| {
        let layout = u.server.state.hub.storage.load(&u.doc).unwrap().unwrap();
        AutoCommit::load(&layout.concatenated()).unwrap().get_heads()
    };
    let before = stored(&u);
    for (body, why) in [
        (r#"{"text":"","step":"withdraw"}"#, "a withdrawal without its reason"),
        (r#"{"text":"理由","step":"recheck"}"#, "a resident's step"),
        (r#"{"text":"理由","step":"acknowledge"}"#, "the unit's step"),
        (r#"{"text":"理由"}"#, "no decision"),
    ] {
        let (status, _, text) = desk("POST", path.clone(), body.into(), token.clone()).await;
        assert_eq!(status, 400, "{why}: {text}");
    }
    assert_eq!(stored(&u), before, "nothing refused was written");
    let secretary = u.server.tester.token.clone();
    let (status, _, text) = desk("GET", "/api/desk/cases".into(), String::new(), secretary.clone()).await;
    assert_eq!(status, 403, "{text}");
    // A ledger the person does not supervise answers as one that does not exist.
    assert_eq!(desk("POST", path.clone(), r#"{"text":"理由","step":"withdraw"}"#.into(), secretary).await.0, 404);

    let (status, _, text) = desk("POST", path.clone(), r#"{"text":"情况属实，撤销","step":"withdraw"}"#.into(), token.clone()).await;
    assert_eq!(status, 200, "{text}");
    let (_, _, text) = desk("GET", "/api/desk/cases".into(), String::new(), token.clone()).await;
    let cases: http_api::desk::List<http_api::desk::CaseRow> = http_api::exactly(&text).unwrap();
    assert_eq!((cases.rows[0].state.as_str(), cases.rows[0].answer.as_deref()), ("已撤销", Some("撤销差评：情况属实，撤销")));
    u.sync().await;
    let case = read(&mut u.phone, |l| l.rating(&bad.id).unwrap().case(&Default::default()).unwrap());
    assert_eq!(case.state, ledger::rating::CaseState::Withdrawn);
}

/// The case limits and the working-day calendar are the organisation's: an admin of the whole
/// tree changes them (checked, audited), a lower admin only reads them, and the desk's, the
/// public board's and the phones' deadlines follow at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_case_limits_are_set_by_the_top_admin_and_the_deadlines_follow() {
    let mut u = unit().await;
    let rate = format!("/b/{}/rate/post/{}", u.id, u.post);
    assert_eq!(u.post(&rate, None, &[("verdict", "dissatisfied"), ("comment", "等了一上午")]).await.0, 200);
    u.sync().await;
    let d = u.server.state.hub.directory.clone();
    let org = d.org();
    let root = org.units.values().find(|u| u.parent.is_none()).unwrap().id.clone();
    let township = u.server.tester.township.clone();
    let mut tokens = Vec::new();
    for (login, unit, role) in
        [("top_admin", &root, ledger::org::Role::Admin), ("town_admin", &township, ledger::org::Role::Admin), ("town_sup", &township, ledger::org::Role::Supervisor)]
    {
        let p = d.add_person(login, login, None, None).unwrap();
        d.grant(&p.id, unit, role, None).unwrap();
        tokens.push(d.issue_token(&p.id, "desk", None).unwrap().token);
    }
    let call = |method: &'static str, path: &'static str, body: &str, token: String| {
        let (addr, body) = (u.server.addr, body.to_owned());
        async move { common::http(addr, method, path, &[("Authorization", &format!("Bearer {token}")), ("Content-Type", "application/json")], &body).await }
    };
    let (status, _, text) = call("GET", "/api/admin/settings", "", tokens[0].clone()).await;
    assert_eq!(status, 200);
    let s: http_api::admin::Settings = http_api::exactly(&text).unwrap();
    assert_eq!((s.case_acknowledge_days, s.case_answer_days, s.may_change), (1, 5, true));
    let (_, _, text) = call("GET", "/api/admin/settings", "", tokens[1].clone()).await;
    assert!(!http_api::exactly::<http_api::admin::Settings>(&text).unwrap().may_change);
    let due = |text: String| http_api::exactly::<http_api::desk::List<http_api::desk::CaseRow>>(&text).unwrap().rows[0].due.clone().unwrap();
    let before = due(call("GET", "/api/desk/cases", "", tokens[2].clone()).await.2);

    for (body, token, why) in [
        (r#"{"case_acknowledge_days":0,"case_answer_days":5}"#, 0, "no day to acknowledge"),
        (r#"{"case_acknowledge_days":6,"case_answer_days":5}"#, 0, "acknowledging after the answer is due"),
        (r#"{"case_acknowledge_days":1,"case_answer_days":61}"#, 0, "past the longest limit"),
        (r#"{"case_acknowledge_days":3,"case_answer_days":10}"#, 1, "a township's admin"),
    ] {
        let (status, _, text) = call("POST", "/api/admin/settings", body, tokens[token].clone()).await;
        assert_eq!(status, 400, "{why}: {text}");
    }
    assert_eq!(call("POST", "/api/admin/settings", r#"{"case_acknowledge_days":3,"case_answer_days":10}"#, tokens[2].clone()).await.0, 403, "a supervisor");
    assert_eq!(due(call("GET", "/api/desk/cases", "", tokens[2].clone()).await.2), before, "nothing refused changed the limits");

    let (status, _, text) = call("POST", "/api/admin/settings", r#"{"case_acknowledge_days":3,"case_answer_days":10}"#, tokens[0].clone()).await;
    assert_eq!(status, 200, "{text}");
    let after = due(call("GET", "/api/desk/cases", "", tokens[2].clone()).await.2);
    let (before, after) = (chrono::NaiveDate::parse_from_str(&before, "%Y-%m-%d").unwrap(), chrono::NaiveDate::parse_from_str(&after, "%Y-%m-%d").unwrap());
    let today = ledger::report::day_of(now()).unwrap();
    let weekdays = WorkCalendar::default();
    assert_eq!((before, after), (weekdays.after(today, 1), weekdays.after(today, 3)));
    let board = format!("/b/{}", u.id);
    let (_, _, page) = u.get(&board, None).await;
    assert!(page.contains(&format!("应于 {after} 前签收")), "the public sees the unit's deadline: {page}");

    // The holidays: the next working day is declared off. A weekend day named as a holiday,
    // or a weekday as a worked weekend, is refused and changes nothing.
    let off = weekdays.after(today, 1);
    let weekend = (1..8).map(|n| today + chrono::Duration::days(n)).find(|d| !weekdays.is_working(*d)).unwrap();
    for (body, says) in [
        (format!(r#"{{"case_acknowledge_days":3,"case_answer_days":10,"holidays":"{weekend}"}}"#), "是周末"),
        (format!(r#"{{"case_acknowledge_days":3,"case_answer_days":10,"workdays":"{off}"}}"#), "不是周六或周日"),
        (r#"{"case_acknowledge_days":3,"case_answer_days":10,"holidays":"明天"}"#.to_owned(), "不是日期"),
    ] {
        let (status, _, text) = call("POST", "/api/admin/settings", &body, tokens[0].clone()).await;
        assert_eq!(status, 400, "{body}: {text}");
        assert!(text.contains(says), "{body}: {text}");
    }
    assert_eq!(due(call("GET", "/api/desk/cases", "", tokens[2].clone()).await.2), after.to_string(), "nothing refused changed the calendar");
    let body = format!(r#"{{"case_acknowledge_days":3,"case_answer_days":10,"holidays":"{off}","workdays":""}}"#);
    let (status, _, text) = call("POST", "/api/admin/settings", &body, tokens[0].clone()).await;
    assert_eq!(status, 200, "{text}");
    let saved: http_api::admin::Settings = http_api::exactly(&text).unwrap();
    assert_eq!((saved.holidays.as_deref(), saved.workdays.as_deref()), (Some(off.to_string().as_str()), Some("")));
    let calendar = WorkCalendar::parse(&off.to_string(), "").unwrap();
    let later = calendar.after(today, 3);
    assert_eq!(later, weekdays.after(today, 4));
    assert_eq!(due(call("GET", "/api/desk/cases", "", tokens[2].clone()).await.2), later.to_string(), "the desk skips the holiday");
    // The board's page was rendered before the change; the change drops it.
    let (_, _, page) = u.get(&board, None).await;
    assert!(page.contains(&format!("应于 {later} 前签收")), "{page}");
    // Phones get the rules (and keep them offline) from /api/me.
    let (_, _, me) = common::http(u.server.addr, "GET", "/api/me", &[("Authorization", &format!("Bearer {}", u.server.tester.token))], "").await;
    let rules = http_api::exactly::<http_api::me::Me>(&me).unwrap().case_rules;
    assert_eq!((rules.acknowledge_days, rules.answer_days, rules.calendar), (3, 10, calendar));
    // A change that leaves the calendar out keeps it.
    let (status, _, text) = call("POST", "/api/admin/settings", r#"{"case_acknowledge_days":2,"case_answer_days":10}"#, tokens[0].clone()).await;
    assert_eq!(status, 200, "{text}");
    assert_eq!(http_api::exactly::<http_api::admin::Settings>(&text).unwrap().holidays, Some(off.to_string()));

    let (_, _, audit) = call("GET", "/api/admin/audit", "", tokens[0].clone()).await;
    assert!(audit.contains("差评签收时限 3 个工作日，答复时限 10 个工作日；节假日 1 天，调休上班 0 天"), "{audit}");
}

/// 一事一评: the secretary's phone, activated with a code, gets its signing key from /api/me
/// and makes a code offline for a visit the server has not seen yet. The resident rates once
/// through it; the same code again, a forged one, one signed with another key, and one of a
/// lost phone are refused, and nothing of theirs is stored.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_one_time_code_rates_once_and_forged_or_replayed_codes_are_refused() {
    use ledger::rating::once::OnceCode;
    let mut u = unit().await;
    let d = u.server.state.hub.directory.clone();
    let code = d.issue_activation_code(&u.server.tester.person, None).unwrap();
    let body = format!(r#"{{"code":"{code}","device":"书记的手机"}}"#);
    let (status, head, _) = common::http(u.server.addr, "POST", "/api/activate", &[("Content-Type", "application/json")], &body).await;
    assert_eq!(status, 200, "{head}");
    let cookie = head.lines().find_map(|l| l.strip_prefix("set-cookie: ")).unwrap().split(';').next().unwrap().to_owned();
    let (_, _, me) = common::http(u.server.addr, "GET", "/api/me", &[("Cookie", &cookie)], "").await;
    let me: http_api::me::Me = http_api::exactly(&me).unwrap();
    let key: Vec<u8> = (0..me.device.rating_key.len() / 2).map(|i| u8::from_str_radix(&me.device.rating_key[2 * i..2 * i + 2], 16).unwrap()).collect();
    assert_eq!(key.len(), 32, "a phone gets its key");
    let (_, _, again) = common::http(u.server.addr, "GET", "/api/me", &[("Cookie", &cookie)], "").await;
    assert_eq!(http_api::exactly::<http_api::me::Me>(&again).unwrap().device.rating_key, me.device.rating_key, "the same key each time");
    let (_, _, token_me) = common::http(u.server.addr, "GET", "/api/me", &[("Authorization", &format!("Bearer {}", u.server.tester.token))], "").await;
    assert!(http_api::exactly::<http_api::me::Me>(&token_me).unwrap().device.rating_key.is_empty(), "a peer's token signs nothing");

    // Offline, at the end of a visit the server does not know yet.
    let visit = ledger::RecordId::random();
    let made = OnceCode { unit: u.id.clone(), target: ledger::rating::Target::Visit, id: visit.clone(), device: me.device.id.clone(), issued: sync_server::now_secs() };
    let text = made.signed(&key).unwrap();
    let path = format!("/r/{text}");
    let (status, _, page) = u.get(&path, None).await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("本次走访") && !page.contains(" checked"), "{page}");

    let stored = |u: &Unit| {
        let layout = u.server.state.hub.storage.load(&u.doc).unwrap().unwrap();
        AutoCommit::load(&layout.concatenated()).unwrap().get_heads()
    };
    let mut forged_key = key.clone();
    forged_key[0] ^= 1;
    let lost_phone = {
        let other = d.issue_activation_code(&u.server.tester.person, None).unwrap();
        let body = format!(r#"{{"code":"{other}","device":"丢失的手机"}}"#);
        let (_, head, _) = common::http(u.server.addr, "POST", "/api/activate", &[("Content-Type", "application/json")], &body).await;
        let cookie = head.lines().find_map(|l| l.strip_prefix("set-cookie: ")).unwrap().split(';').next().unwrap().to_owned();
        let (_, _, me) = common::http(u.server.addr, "GET", "/api/me", &[("Cookie", &cookie)], "").await;
        let me: http_api::me::Me = http_api::exactly(&me).unwrap();
        let key: Vec<u8> = (0..32).map(|i| u8::from_str_radix(&me.device.rating_key[2 * i..2 * i + 2], 16).unwrap()).collect();
        d.set_device_status(&me.device.id, "lost", None).unwrap();
        OnceCode { device: me.device.id, ..made.clone() }.signed(&key).unwrap()
    };
    let before = stored(&u);
    for (bad, why) in [
        (made.signed(&forged_key).unwrap(), "signed with another key"),
        (OnceCode { id: ledger::RecordId::random(), ..made.clone() }.signed(&forged_key).unwrap(), "another record, forged"),
        (format!("{}{}", &text[..text.len() - 1], if text.ends_with('0') { '1' } else { '0' }), "a digit of the signature changed"),
        (OnceCode { issued: made.issued - ledger::rating::once::VALID_FOR_SECS - 10, ..made.clone() }.signed(&key).unwrap(), "expired"),
        (OnceCode { unit: "not-a-unit".into(), ..made.clone() }.signed(&key).unwrap(), "another unit"),
        (lost_phone, "a lost phone's"),
        ("garbage".to_owned(), "not a code"),
    ] {
        let (status, _, page) = u.post(&format!("/r/{bad}"), None, &[("verdict", "satisfied")]).await;
        assert_eq!(status, 404, "{why}: {page}");
        assert!(page.contains("评价码无效") || page.contains("评价码已过期"), "{why}: {page}");
    }
    assert_eq!(stored(&u), before, "nothing refused was stored");

    let (status, _, thanks) = u.post(&path, None, &[("verdict", "very_satisfied"), ("comment", "王书记讲得很清楚")]).await;
    assert_eq!(status, 200, "{thanks}");
    let (status, _, page) = u.post(&path, None, &[("verdict", "very_dissatisfied"), ("comment", "再评一次")]).await;
    assert_eq!(status, 409, "{page}");
    assert_eq!(u.get(&path, None).await.0, 409, "the form is not shown again");
    u.sync().await;
    let ratings = read(&mut u.phone, |l| l.ratings().records);
    let once: Vec<_> = ratings.iter().filter(|r| r.way == ledger::rating::Way::Once).collect();
    assert_eq!(once.len(), 1);
    assert_eq!((once[0].target_id.as_ref(), once[0].code_by.as_str(), once[0].verdict), (Some(&visit), common::TESTER, ledger::Verdict::VerySatisfied));
}

/// Two processes on one PostgreSQL show one board and count the public's writes together: a
/// post published through one is on the other's board at once; a browser that rated a
/// post on one cannot rate it again on the other, and its hourly limit (30) is one limit
/// whichever process its writes reach.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_board_and_the_publics_limits_are_one_across_processes() {
    let database = sync_server::Database::Postgres(sync_server::test_postgres::database().unwrap());
    let data = tempfile::tempdir().unwrap();
    let u = unit_on(Server::start_shared(&database, data.path()).await, data).await;
    let other_data = tempfile::tempdir().unwrap();
    let other = Server::start_shared(&database, other_data.path()).await;
    let until = std::time::Instant::now() + Duration::from_secs(5);
    while other.state.hub.directory.unit_of(&u.doc).is_none() && std::time::Instant::now() < until {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // The other process's board, drawn once, is drawn again when the secretary publishes
    // through the first.
    let board = format!("/b/{}", u.id);
    assert!(common::http(other.addr, "GET", &board, &[], "").await.2.contains("便民服务窗口"));
    let mut u = u;
    edit(&mut u.phone, |l| {
        let draft = ledger::PostDraft { title: "老年食堂".into(), holder: "李强".into(), duties: "午餐配送".into(), hours: "每天".into() };
        let id = l.add_post(&draft.validate().unwrap(), now())?;
        l.set_published(Section::Posts, &id, true, now())
    });
    u.sync().await;
    let until = std::time::Instant::now() + Duration::from_secs(5);
    while !common::http(other.addr, "GET", &board, &[], "").await.2.contains("老年食堂") {
        assert!(std::time::Instant::now() < until, "the other process's board never showed the post published through the first");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    let rate = format!("/b/{}/rate/post/{}", u.id, u.post);
    let (_, head, _) = u.get(&rate, None).await;
    let cookie = cookie_of(&head);
    let (status, _, page) = u.post(&rate, Some(&cookie), &[("verdict", "satisfied")]).await;
    assert_eq!(status, 200, "{page}");
    let (status, _, page) = post_at(other.addr, &rate, Some(&cookie), &[("verdict", "satisfied")]).await;
    assert_eq!(status, 429, "the same browser rated the same post again on the other process: {page}");
    assert!(page.contains("今天已评价过"), "{page}");

    let ask = format!("/b/{}/ask", u.id);
    let mut accepted = 0;
    for i in 0..34 {
        let addr = if i % 2 == 0 { u.server.addr } else { other.addr };
        let title = format!("路灯不亮{i}");
        let (status, _, page) = post_at(addr, &ask, Some(&cookie), &[("title", &title), ("detail", "晚上看不见路")]).await;
        match status {
            200 => accepted += 1,
            429 => assert!(page.contains("提交过于频繁"), "{page}"),
            other => panic!("{other}: {page}"),
        }
    }
    // The rating counted one of the browser's 30.
    assert_eq!(accepted, 29, "one browser's hourly limit spread over two processes");
    // Another browser is another count.
    let (_, head, _) = common::http(other.addr, "GET", &ask, &[], "").await;
    let (status, _, _) = post_at(other.addr, &ask, Some(&cookie_of(&head)), &[("title", "另一位居民"), ("detail", "问题")]).await;
    assert_eq!(status, 200);
    other.stop().await;
}
