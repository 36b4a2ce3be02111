//! Recognition from the record against the real server over real sockets and HTTP: a cadre's
//! phone writes visits and problems; their record (实绩) on the desk holds exactly those, and
//! its .xlsx opens in an independent reader; an award round goes from the office's opening
//! through a secretary's nomination with linked evidence, the bodies' opinions, the shortlist,
//! 公示 on the public pages with an objection that holds the decision until examined, to the
//! commended on their unit's board and in their record; and a table of every person × award
//! action, each cell the exact status.

use crate::common;

use std::collections::HashMap;
use std::sync::atomic::Ordering;

use automerge::ActorId;
use common::{attempt, http, http_bytes, Answer};
use http_api::awards::{AwardRoundDetail, AwardRounds, EvidenceChoices, PeopleList, PersonRecord, SecretaryAwards};
use http_api::office::Opened;
use ledger::problem::ProblemDraft;
use ledger::{UnitLedger, VisitDraft};

use common::counties::{world, World};

fn now() -> i64 {
    sync_server::now_secs() * 1000
}

fn today() -> chrono::NaiveDate {
    ledger::report::day_of(now()).unwrap()
}

const PEOPLE: [&str; 9] = ["office_x", "office_y", "sup_x", "secretary_a", "cadre_a", "secretary_b", "secretary_c", "admin", "anonymous"];

impl World {
    /// A resident's form on the public page (no account).
    async fn public_form(&self, path: &str, form: &str) -> (u16, String) {
        let (status, _, body) = http(self.server.addr, "POST", path, &[("Content-Type", "application/x-www-form-urlencoded")], form).await;
        (status, body)
    }

    async fn page(&self, path: &str) -> (u16, String) {
        let (status, _, body) = http(self.server.addr, "GET", path, &[], "").await;
        (status, body)
    }

    fn days_ahead(&self, days: i64) {
        self.server.state.hub.days_ahead.store(days, Ordering::Relaxed);
    }

    async fn open_round(&self, kind: &str, quota: u32) -> String {
        let by = today() + chrono::Days::new(3);
        let body = format!(r#"{{"node":"{}","title":"年度先进评选","kind":"{kind}","quota":{quota},"nominateBy":"{by}","bodies":["县纪委监委","县委组织部"]}}"#, self.units["X县"]);
        let opened: Opened = self.exactly("office_x", "POST", "/api/office/awards", &body).await;
        opened.id
    }
}

fn url_encode(s: &str) -> String {
    s.bytes().map(|b| if b.is_ascii_alphanumeric() { (b as char).to_string() } else { format!("%{b:02X}") }).collect()
}

/// The cadre's phone writes two visits and a problem this year (and a visit another cadre's
/// phone writes): their record holds exactly theirs, for every reader allowed, and none else.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_persons_record_is_what_their_phone_wrote_and_its_workbook_says_so() {
    use calamine::{Data, Reader};
    let w = world().await;
    let mut phone = UnitLedger::create(ActorId::random());
    phone.set_author("cadre_a名");
    let mut visits = Vec::new();
    for whom in ["张大爷家", "李大妈家"] {
        let v = VisitDraft { whom: whom.into(), heard: "听取意见".into(), ..VisitDraft::new(today()) };
        visits.push(phone.add_visit(&v.validate(today()).unwrap(), now()).unwrap());
    }
    let problem = phone.add_problem(&ProblemDraft { title: "村口路灯不亮".into(), ..ProblemDraft::default() }.validate().unwrap(), now()).unwrap();
    let (answer, _) = attempt(&w.server.url_with(&w.tokens["cadre_a"]), w.ledgers["A村"], phone.doc().clone()).await;
    assert_eq!(answer, Answer::Data);
    let mut other = UnitLedger::create(ActorId::random());
    other.set_author("secretary_a名");
    let theirs = VisitDraft { whom: "王家".into(), heard: "无".into(), ..VisitDraft::new(today()) };
    other.add_visit(&theirs.validate(today()).unwrap(), now()).unwrap();
    let (answer, _) = attempt(&w.server.url_with(&w.tokens["secretary_a"]), w.ledgers["A村"], other.doc().clone()).await;
    assert_eq!(answer, Answer::Data);

    let path = format!("/api/desk/people/{}/record", w.people["cadre_a"]);
    let r: PersonRecord = w.exactly("sup_x", "GET", &path, "").await;
    let mut got: Vec<_> = r.record.visits.iter().map(|l| l.id.clone()).collect();
    got.sort();
    visits.sort();
    assert_eq!(got, visits, "their two visits, not the secretary's");
    assert_eq!(r.record.problems_raised.iter().map(|l| &l.id).collect::<Vec<_>>(), [&problem]);
    assert_eq!((r.person.name.as_str(), r.person.unit_name.as_str(), r.ledger.as_str()), ("cadre_a名", "A村", w.ledgers["A村"].to_string().as_str()));
    // Every link opens the record it names, for the office as for the supervisor.
    for reader in ["sup_x", "office_x"] {
        let (status, body) = w.call(reader, "GET", &format!("/api/desk/records/{}/visits/{}", r.ledger, visits[0]), "").await;
        assert_eq!(status, 200, "{reader}: {body}");
    }

    let expected: HashMap<&str, u16> = [
        ("office_x", 200),
        ("sup_x", 200),
        ("secretary_a", 200),
        ("office_y", 404),
        ("cadre_a", 404),
        ("secretary_b", 404),
        ("secretary_c", 404),
        ("admin", 404),
        ("anonymous", 401),
    ]
    .into();
    for who in PEOPLE {
        let (status, body) = w.call(who, "GET", &path, "").await;
        assert_eq!(status, expected[who], "{who} reading the record: {body}");
        let list = w.call(who, "GET", "/api/desk/people", "").await;
        if status == 200 {
            let people: PeopleList = http_api::exactly(&list.1).unwrap();
            assert!(people.people.iter().any(|p| p.id == w.people["cadre_a"]), "{who} lists the cadre");
        } else if who != "anonymous" {
            let people: PeopleList = http_api::exactly(&list.1).unwrap();
            assert!(!people.people.iter().any(|p| p.id == w.people["cadre_a"]), "{who} does not list the cadre");
        }
    }
    let (status, body) = w.call("sup_x", "GET", &format!("{path}?period=明年"), "").await;
    assert_eq!(status, 400, "{body}");

    // The workbook, read by calamine: one row per fact, the facts of the record.
    let auth = format!("Bearer {}", w.tokens["sup_x"]);
    let (status, _, bytes) = http_bytes(w.server.addr, &format!("{path}.xlsx"), &[("Authorization", &auth)]).await;
    assert_eq!(status, 200);
    let mut book: calamine::Xlsx<_> = calamine::open_workbook_from_rs(std::io::Cursor::new(bytes)).unwrap();
    let sheet = book.worksheet_range("实绩").unwrap();
    let rows: Vec<Vec<String>> = sheet.rows().map(|r| r.iter().map(|c| if let Data::String(s) = c { s.clone() } else { String::new() }).collect()).collect();
    assert!(rows[0][0].starts_with("cadre_a名（"), "{:?}", rows[0]);
    assert_eq!(rows[3], ["类别", "日期", "事项", "结果"]);
    let kinds: Vec<&str> = rows[4..].iter().map(|r| r[0].as_str()).collect();
    assert_eq!(kinds, ["走访", "走访", "发现问题"]);
    assert!(rows[4..].iter().any(|r| r[2] == "张大爷家"));
    assert!(rows.iter().all(|r| !r.iter().any(|c| c.contains("王家"))), "the secretary's visit is not the cadre's");
}

/// A round end to end, with an objection during 公示 holding the decision until examined.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_award_round_from_opening_to_the_board() {
    let w = world().await;
    let mut phone = UnitLedger::create(ActorId::random());
    phone.set_author("cadre_a名");
    let v = VisitDraft { whom: "张大爷家".into(), heard: "听取意见".into(), ..VisitDraft::new(today()) };
    let visit = phone.add_visit(&v.validate(today()).unwrap(), now()).unwrap();
    let (answer, _) = attempt(&w.server.url_with(&w.tokens["cadre_a"]), w.ledgers["A村"], phone.doc().clone()).await;
    assert_eq!(answer, Answer::Data);

    let round = w.open_round("individual", 1).await;
    let list: AwardRounds = w.exactly("office_x", "GET", "/api/office/awards", "").await;
    assert_eq!((list.rounds.len(), list.rounds[0].stage.as_str(), list.rounds[0].publicity_days), (1, "nominating", 5));

    // The secretary sees the round and what the cadre's record offers as evidence.
    let mine: SecretaryAwards = w.exactly("secretary_a", "GET", "/api/awards", "").await;
    assert_eq!(mine.rounds.len(), 1);
    assert!(mine.units[0].people.iter().any(|p| p.id == w.people["cadre_a"]));
    let choices: EvidenceChoices = w.exactly("secretary_a", "GET", &format!("/api/awards/evidence?unit={}&person={}", w.units["A村"], w.people["cadre_a"]), "").await;
    assert_eq!(choices.record.visits.iter().map(|l| &l.id).collect::<Vec<_>>(), [&visit]);

    let nominate = |person: &str, evidence: &str| {
        format!(r#"{{"unit":"{}","person":"{person}","post":"网格员","deeds":"全年走访农户 200 余户","summary":"走遍全村","evidence":{evidence}}}"#, w.units["A村"])
    };
    let path = format!("/api/awards/{round}/nominations");
    let good_evidence = format!(r#"[["visits","{visit}"]]"#);
    // Bad input is refused whole: a record not in the unit's ledger, a person of another unit.
    let (status, body) = w.call("secretary_a", "POST", &path, &nominate(&w.people["cadre_a"], r#"[["visits","0000000000000000000000000000000000000000"]]"#)).await;
    assert_eq!((status, body.contains("佐证记录须是本单位台账中的记录")), (400, true), "{body}");
    let (status, body) = w.call("secretary_a", "POST", &path, &nominate(&w.people["secretary_b"], "[]")).await;
    assert_eq!((status, body.contains("请从本单位的人员中选择推荐对象")), (400, true), "{body}");
    let d: AwardRoundDetail = w.exactly("secretary_a", "GET", &format!("/api/awards/{round}"), "").await;
    assert!(d.nominations.is_empty(), "nothing stored by a refused nomination");
    let (status, body) = w.call("secretary_a", "POST", &path, &nominate(&w.people["cadre_a"], &good_evidence)).await;
    assert_eq!(status, 200, "{body}");
    let nomination = serde_json::from_str::<serde_json::Value>(&body).unwrap()["id"].as_str().unwrap().to_owned();
    let (status, body) = w.call("secretary_a", "POST", &path, &nominate(&w.people["secretary_a"], "[]")).await;
    assert_eq!((status, body.contains("每个单位最多推荐 1 个")), (400, true), "{body}");

    // Opinions wait for the deadline; nominations stop at it.
    let opinion = |body: &str| format!(r#"{{"body":"{body}","opinion":"未发现违纪违法问题","givenOn":"{}"}}"#, today() + chrono::Days::new(4));
    let opinions = format!("/api/office/awards/{round}/nominations/{nomination}/opinions");
    let (status, _) = w.call("office_x", "POST", &opinions, &opinion("县纪委监委")).await;
    assert_eq!(status, 409);
    w.days_ahead(4);
    let (status, _) = w.call("secretary_a", "POST", &path, &nominate(&w.people["cadre_a"], "[]")).await;
    assert_eq!(status, 409, "nominating is over");
    let shortlist = format!("/api/office/awards/{round}/nominations/{nomination}/shortlist");
    let (status, body) = w.call("office_x", "POST", &shortlist, r#"{"on":true}"#).await;
    assert_eq!((status, body.contains("还没有记录县纪委监委的意见")), (400, true), "{body}");
    let (status, body) = w.call("office_x", "POST", &opinions, &opinion("县公安局")).await;
    assert_eq!((status, body.contains("这一轮没有征求这个单位的意见")), (400, true), "{body}");
    for body in ["县纪委监委", "县委组织部"] {
        let (status, text) = w.call("office_x", "POST", &opinions, &opinion(body)).await;
        assert_eq!(status, 200, "{text}");
    }
    let (status, body) = w.call("office_x", "POST", &shortlist, r#"{"on":true}"#).await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = w.call("office_x", "POST", &format!("/api/office/awards/{round}/publicity"), "").await;
    assert_eq!(status, 200, "{body}");

    // 公示: on the round's page and the unit's board, name and 简要事迹, never a contact.
    let (status, page) = w.page(&format!("/gongshi/{round}")).await;
    assert_eq!(status, 200);
    assert!(page.contains("cadre_a名") && page.contains("走遍全村") && page.contains("提出异议"), "{page}");
    assert!(!page.contains("全年走访农户"), "the full 事迹 stays with the office");
    let (status, index) = w.page("/gongshi").await;
    assert!(status == 200 && index.contains(&format!("/gongshi/{round}")) && index.contains("X县先锋办"), "{index}");
    let (_, board) = w.page(&format!("/b/{}", w.units["A村"])).await;
    assert!(board.contains("评先评优公示") && board.contains("cadre_a名"), "{board}");
    let (_, other_board) = w.page(&format!("/b/{}", w.units["B村"])).await;
    assert!(!other_board.contains("cadre_a名"));
    let objections = format!("/gongshi/{round}/objections");
    let (status, _) = w.public_form(&objections, &format!("nomination={nomination}&text=%E4%B8%8D%E5%A5%BD")).await;
    assert_eq!(status, 400, "too short an objection");
    let text = url_encode("该同志走访记录与实际不符");
    let (status, body) = w.public_form(&objections, &format!("nomination={nomination}&text={text}&contact=13800000000")).await;
    assert_eq!(status, 200, "{body}");
    let d: AwardRoundDetail = w.exactly("office_x", "GET", &format!("/api/office/awards/{round}"), "").await;
    assert_eq!((d.objections.len(), d.objections[0].contact.as_str(), d.objections[0].settled), (1, "13800000000", false));
    let (_, page) = w.page(&format!("/gongshi/{round}")).await;
    assert!(!page.contains("13800000000"), "an objector's contact is never public");
    let secretary: AwardRoundDetail = w.exactly("secretary_a", "GET", &format!("/api/awards/{round}"), "").await;
    assert!(secretary.objections.is_empty(), "objections are the office's");

    // The decision waits for the period, then for every objection.
    let decision = format!("/api/office/awards/{round}/decision");
    let (status, body) = w.call("office_x", "POST", &decision, r#"{"decision":"县先锋办〔2026〕1号"}"#).await;
    assert_eq!((status, body.contains("公示期未满")), (409, true), "{body}");
    w.days_ahead(40);
    let (status, _) = w.public_form(&objections, &format!("nomination={nomination}&text={text}")).await;
    assert_eq!(status, 409, "公示 is over");
    let (status, body) = w.call("office_x", "POST", &decision, r#"{"decision":"县先锋办〔2026〕1号"}"#).await;
    assert_eq!((status, body.contains("还有 1 条异议没有核查办结")), (409, true), "{body}");
    let settle = format!("/api/office/awards/{round}/objections/{}", d.objections[0].id);
    let (status, _) = w.call("office_x", "POST", &settle, r#"{"finding":"  ","upheld":false}"#).await;
    assert_eq!(status, 400);
    let (status, body) = w.call("office_x", "POST", &settle, r#"{"finding":"经核对走访台账和入户回访，反映不实","upheld":false}"#).await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = w.call("office_x", "POST", &decision, r#"{"decision":"县先锋办〔2026〕1号"}"#).await;
    assert_eq!(status, 200, "{body}");
    let (status, _) = w.call("office_x", "POST", &decision, "{}").await;
    assert_eq!(status, 409, "decided once");

    // Commended: on the unit's board and in the person's record.
    let (_, board) = w.page(&format!("/b/{}", w.units["A村"])).await;
    assert!(board.contains("先进事迹") && board.contains("cadre_a名") && !board.contains("评先评优公示"), "{board}");
    let (_, index) = w.page("/gongshi").await;
    assert!(index.contains("目前没有正在公示的评选") && index.contains("查看表彰名单"), "{index}");
    let (_, page) = w.page(&format!("/gongshi/{round}")).await;
    assert!(page.contains("县先锋办〔2026〕1号") && page.contains("cadre_a名") && !page.contains("提交异议"), "{page}");
    let r: PersonRecord = w.exactly("sup_x", "GET", &format!("/api/desk/people/{}/record", w.people["cadre_a"]), "").await;
    assert_eq!(r.commendations.len(), 1);
    assert_eq!((r.commendations[0].kind_label.as_str(), r.commendations[0].decision.as_str()), ("先进个人", "县先锋办〔2026〕1号"));
}

/// Two nominees of two units on the shortlist, an objection against each: the one upheld takes
/// its nominee off the list, so only the other is commended.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upheld_objection_takes_its_nominee_off_the_list() {
    let w = world().await;
    let round = w.open_round("individual", 2).await;
    let mut ids = Vec::new();
    for (secretary, unit, person) in [("secretary_a", "A村", "cadre_a"), ("secretary_b", "B村", "secretary_b")] {
        let body = format!(r#"{{"unit":"{}","person":"{}","post":"委员","deeds":"扎实肯干","summary":"扎实肯干"}}"#, w.units[unit], w.people[person]);
        let (status, text) = w.call(secretary, "POST", &format!("/api/awards/{round}/nominations"), &body).await;
        assert_eq!(status, 200, "{text}");
        ids.push(serde_json::from_str::<serde_json::Value>(&text).unwrap()["id"].as_str().unwrap().to_owned());
    }
    w.days_ahead(4);
    for id in &ids {
        for body in ["县纪委监委", "县委组织部"] {
            let form = format!(r#"{{"body":"{body}","opinion":"同意","givenOn":"{}"}}"#, today());
            let (status, text) = w.call("office_x", "POST", &format!("/api/office/awards/{round}/nominations/{id}/opinions"), &form).await;
            assert_eq!(status, 200, "{text}");
        }
        let (status, text) = w.call("office_x", "POST", &format!("/api/office/awards/{round}/nominations/{id}/shortlist"), r#"{"on":true}"#).await;
        assert_eq!(status, 200, "{text}");
    }
    let (status, _) = w.call("office_x", "POST", &format!("/api/office/awards/{round}/publicity"), "").await;
    assert_eq!(status, 200);
    let text = url_encode("群众反映其工作作风粗暴");
    for id in &ids {
        let (status, body) = w.public_form(&format!("/gongshi/{round}/objections"), &format!("nomination={id}&text={text}")).await;
        assert_eq!(status, 200, "{body}");
    }
    w.days_ahead(40);
    let d: AwardRoundDetail = w.exactly("office_x", "GET", &format!("/api/office/awards/{round}"), "").await;
    for o in &d.objections {
        let upheld = o.nomination == ids[1];
        let form = format!(r#"{{"finding":"经走访核实","upheld":{upheld}}}"#);
        let (status, body) = w.call("office_x", "POST", &format!("/api/office/awards/{round}/objections/{}", o.id), &form).await;
        assert_eq!(status, 200, "{body}");
    }
    let (status, body) = w.call("office_x", "POST", &format!("/api/office/awards/{round}/decision"), "{}").await;
    assert_eq!(status, 200, "{body}");
    let d: AwardRoundDetail = w.exactly("office_x", "GET", &format!("/api/office/awards/{round}"), "").await;
    // Nominations made in the same second list in no fixed order: compared by name.
    let mut state: Vec<(&str, bool, bool)> = d.nominations.iter().map(|n| (n.name.as_str(), n.shortlisted, n.commended)).collect();
    state.sort();
    assert_eq!(state, [("cadre_a名", true, true), ("secretary_b名", false, false)]);
    let (_, page) = w.page(&format!("/gongshi/{round}")).await;
    assert!(page.contains("cadre_a名") && !page.contains("secretary_b名"), "{page}");
    let (_, board) = w.page(&format!("/b/{}", w.units["B村"])).await;
    assert!(!board.contains("先进事迹"), "{board}");
    let r: PersonRecord = w.exactly("sup_x", "GET", &format!("/api/desk/people/{}/record", w.people["secretary_b"]), "").await;
    assert!(r.commendations.is_empty());
}

/// Every person × award action, each cell the exact status: the office above the round acts,
/// the office of another county and everyone else are told it does not exist (or that the page
/// is the office's), a secretary nominates only for their own unit, and nobody without an
/// account does anything.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn who_may_do_what_in_an_award_round() {
    let w = world().await;
    let round = w.open_round("collective", 2).await;
    let own = format!(r#"{{"unit":"{}","deeds":"全村路灯亮起来","summary":"路灯全覆盖"}}"#, w.units["A村"]);
    // A nomination made first, for the actions on it.
    let (status, body) = w.call("secretary_a", "POST", &format!("/api/awards/{round}/nominations"), &own).await;
    assert_eq!(status, 200, "{body}");
    let nomination = serde_json::from_str::<serde_json::Value>(&body).unwrap()["id"].as_str().unwrap().to_owned();
    let open_x = format!(r#"{{"node":"{}","title":"再一轮","kind":"individual","quota":1,"nominateBy":"{}"}}"#, w.units["X县"], today());

    let actions: Vec<(&str, &str, String, String, [u16; 9])> = vec![
        // office_x, office_y, sup_x, secretary_a, cadre_a, secretary_b, secretary_c, admin, anonymous
        ("list the office's rounds", "GET", "/api/office/awards".into(), String::new(), [200, 200, 403, 403, 403, 403, 403, 403, 401]),
        ("open a round below X县", "POST", "/api/office/awards".into(), open_x, [200, 404, 403, 403, 403, 403, 403, 403, 401]),
        ("read the round whole", "GET", format!("/api/office/awards/{round}"), String::new(), [200, 404, 404, 404, 404, 404, 404, 404, 401]),
        ("read it as a nominating unit", "GET", format!("/api/awards/{round}"), String::new(), [404, 404, 404, 200, 404, 200, 404, 404, 401]),
        ("nominate A村", "POST", format!("/api/awards/{round}/nominations"), own.clone(), [404, 404, 404, 400, 404, 404, 404, 404, 401]),
        (
            "record an opinion while nominating",
            "POST",
            format!("/api/office/awards/{round}/nominations/{nomination}/opinions"),
            r#"{"body":"县纪委监委","opinion":"无","givenOn":"2026-01-01"}"#.into(),
            [409, 404, 404, 404, 404, 404, 404, 404, 401],
        ),
        (
            "shortlist while nominating",
            "POST",
            format!("/api/office/awards/{round}/nominations/{nomination}/shortlist"),
            r#"{"on":true}"#.into(),
            [409, 404, 404, 404, 404, 404, 404, 404, 401],
        ),
        ("start 公示 while nominating", "POST", format!("/api/office/awards/{round}/publicity"), String::new(), [409, 404, 404, 404, 404, 404, 404, 404, 401]),
        ("decide while nominating", "POST", format!("/api/office/awards/{round}/decision"), "{}".into(), [409, 404, 404, 404, 404, 404, 404, 404, 401]),
        ("withdraw A村's nomination", "POST", format!("/api/awards/{round}/nominations/{nomination}/withdraw"), String::new(), [404, 404, 404, 200, 404, 404, 404, 404, 401]),
    ];
    for (what, method, path, body, expected) in &actions {
        for (who, want) in PEOPLE.iter().zip(expected) {
            // Each writer acts on the state the table describes: the nomination is there until
            // the last row, and a second A村 nomination is refused as a repeat (400).
            let (status, text) = w.call(who, method, path, body).await;
            assert_eq!(status, *want, "{who} may {what}? {text}");
        }
    }
    let d: AwardRoundDetail = w.exactly("office_x", "GET", &format!("/api/office/awards/{round}"), "").await;
    assert!(d.nominations.is_empty(), "withdrawn by its secretary");
    // A day's bound on rounds per office node.
    for _ in 0..40 {
        let (status, _) = w
            .call(
                "office_x",
                "POST",
                "/api/office/awards",
                &format!(r#"{{"node":"{}","title":"再一轮","kind":"individual","quota":1,"nominateBy":"{}"}}"#, w.units["X县"], today()),
            )
            .await;
        if status == 429 {
            return;
        }
        assert_eq!(status, 200);
    }
    panic!("no bound on the rounds an office opens in a day");
}
