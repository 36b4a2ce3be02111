//! The campaign office (先锋办) against the real server over real sockets and HTTP: a plan round
//! opened for the units below its node reaches a village's phone by sync, the secretary drafts
//! offline and submits, the office returns it with a reason and approves the next version, the
//! approved tasks are followed in the ledger; a notice and a clean-up round reach the units and
//! the office sees who opened and decided; and a table of every person × office action, each
//! cell the exact status.

use crate::common;

use automerge::{ActorId, AutoCommit};
use common::{attempt, Answer};
use http_api::office::{OfficeView, Opened, PlanView, RoundDetail};
use ledger::plan::{Carrier, PlanContent, PlanTask, Stage};
use ledger::pledge::Aim;
use ledger::rule::Cleanup;
use ledger::unit_ledger::RuleDraft;
use ledger::{RecordId, UnitLedger};

use common::counties::{world, World};

fn now() -> i64 {
    sync_server::now_secs() * 1000
}

fn today() -> chrono::NaiveDate {
    ledger::report::day_of(now()).unwrap()
}

impl World {
    /// `who`'s phone: syncs `local` with the server and gives back what it then holds.
    async fn sync(&self, who: &str, village: &str, local: AutoCommit) -> (Answer, AutoCommit) {
        attempt(&self.server.url_with(&self.tokens[who]), self.ledgers[village], local).await
    }

    async fn standings(&self, round: &str) -> Vec<(String, String)> {
        let d: RoundDetail = self.exactly("office_x", "GET", &format!("/api/office/rounds/{round}"), "").await;
        d.units.into_iter().map(|s| (s.name, s.label)).collect()
    }
}

/// A phone's edit through the ledger's own API, as `who`.
fn edit<R>(doc: &mut AutoCommit, who: &str, f: impl FnOnce(&mut UnitLedger) -> Result<R, ledger::LedgerError>) -> R {
    UnitLedger::reading(doc, |l| {
        l.set_author(&format!("{who}名"));
        f(l)
    })
    .unwrap()
}

fn plan_content(due: chrono::NaiveDate) -> PlanContent {
    PlanContent {
        goals: "全年解决群众急难愁盼问题 20 件".into(),
        carriers: vec![Carrier { id: RecordId::random(), aim: Aim::ServiceLead, text: "党员中心户联系群众".into() }],
        stages: vec![Stage { id: RecordId::random(), text: "动员部署".into(), from: Some(today()), to: Some(today()) }],
        leader: "王芳".into(),
        liaison: "张伟".into(),
        requirements: "每月调度一次".into(),
        tasks: vec![
            PlanTask { id: RecordId::random(), what: "修复村口路灯".into(), who: "张伟".into(), due: Some(due) },
            PlanTask { id: RecordId::random(), what: "建立议事会".into(), who: "刘洋".into(), due: Some(today() + chrono::Days::new(60)) },
        ],
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plan_round_goes_from_the_office_to_a_phone_and_back_until_approved() {
    let w = world().await;
    let deadline = today() + chrono::Days::new(30);
    let body = format!(r#"{{"kind":"plan","title":"2027 年实施方案","deadline":"{deadline}","node":"{}"}}"#, w.units["X县"]);
    let opened: Opened = w.exactly("office_x", "POST", "/api/office/rounds", &body).await;
    assert_eq!(opened.units, 2, "A村 and B村 keep ledgers below X县");
    let round = RecordId::parse(&opened.id).unwrap();
    assert_eq!(w.standings(&opened.id).await, vec![("A村".into(), "未报送".into()), ("B村".into(), "未报送".into())]);

    // The secretary's phone receives the round, drafts offline, then submits.
    let (answer, mut phone) = w.sync("secretary_a", "A村", UnitLedger::create(ActorId::random()).doc().clone()).await;
    assert_eq!(answer, Answer::Data);
    let received = edit(&mut phone, "secretary_a", |l| l.plan(&round));
    assert_eq!((received.title.as_str(), received.deadline, received.office.as_str()), ("2027 年实施方案", Some(deadline), "X县先锋办"));
    // An overdue task once approved: due yesterday.
    let content = plan_content(today() - chrono::Days::new(1));
    edit(&mut phone, "secretary_a", |l| l.save_plan_draft(&round, &content, now()));
    let v1 = edit(&mut phone, "secretary_a", |l| l.submit_plan(&round, now()));
    let (answer, phone) = w.sync("secretary_a", "A村", phone).await;
    assert_eq!(answer, Answer::Data);
    assert_eq!(w.standings(&opened.id).await[0], ("A村".into(), "待审核".into()));

    // A cadre's phone may not touch the plan: refused whole, nothing stored.
    let (_, mut cadre) = w.sync("cadre_a", "A村", UnitLedger::create(ActorId::random()).doc().clone()).await;
    UnitLedger::reading(&mut cadre, |l| {
        l.set_author("cadre_a名");
        // The phone's own lock is bypassed: the cadre writes the draft's field directly.
        let plans = automerge::ReadDoc::get(l.doc(), automerge::ROOT, "plans").unwrap().unwrap().1;
        let plan = automerge::ReadDoc::get(l.doc(), &plans, round.as_str()).unwrap().unwrap().1;
        automerge::transaction::Transactable::put(l.doc_mut(), &plan, "leader", "冒名").unwrap();
        let note = ledger::record::ChangeNote { summary: "改方案".into(), record: Some((ledger::Section::Plans, round.clone())), by: "cadre_a名".into() };
        l.doc_mut().commit_with(automerge::transaction::CommitOptions::default().with_message(note.encode()));
    });
    let (answer, _) = w.sync("cadre_a", "A村", cadre).await;
    assert!(matches!(&answer, Answer::Refused(why) if why.contains("实施方案由书记起草和报送")), "{answer:?}");

    // The office reads the version and returns it with a reason on one part.
    let view: PlanView = w.exactly("office_x", "GET", &format!("/api/office/plans/{}/{}", opened.id, w.units["A村"]), "").await;
    assert_eq!((view.plan.submissions.len(), view.plan.submissions[0].id.clone(), view.plan.submissions[0].content.tasks.len()), (1, v1.clone(), 2));
    let review = |submission: &RecordId, verdict: &str, opinion: &str, parts: &str| {
        format!(r#"{{"submission":"{submission}","verdict":"{verdict}","opinion":"{opinion}","parts":{parts}}}"#)
    };
    let path = format!("/api/office/plans/{}/{}/review", opened.id, w.units["A村"]);
    let (status, text) = w.call("office_x", "POST", &path, &review(&v1, "return", "", "[]")).await;
    assert_eq!(status, 400, "a return needs a reason: {text}");
    assert!(text.contains("退回修改请写明理由"), "{text}");
    let (status, _) = w.call("office_x", "POST", &path, &review(&v1, "return", "", r#"[["bogus","x"]]"#)).await;
    assert_eq!(status, 400);
    let _: http_api::Done = w.exactly("office_x", "POST", &path, &review(&v1, "return", "请细化", r#"[["tasks","任务要有完成时限"]]"#)).await;
    let (status, text) = w.call("office_x", "POST", &path, &review(&v1, "approve", "", "[]")).await;
    assert_eq!(status, 400, "a version decided is not reviewed again: {text}");
    assert_eq!(w.standings(&opened.id).await[0], ("A村".into(), "已退回".into()));

    // The phone sees the opinion, revises and submits again; the office approves.
    let (_, mut phone) = w.sync("secretary_a", "A村", phone).await;
    let returned = edit(&mut phone, "secretary_a", |l| l.plan(&round));
    assert_eq!(returned.reviews[0].parts, vec![(ledger::plan::PlanPart::Tasks, "任务要有完成时限".to_owned())]);
    assert_eq!(returned.reviews[0].by, "X县先锋办");
    let mut revised = returned.draft.clone();
    revised.goals = "全年解决群众急难愁盼问题 30 件".into();
    edit(&mut phone, "secretary_a", |l| l.save_plan_draft(&round, &revised, now()));
    let v2 = edit(&mut phone, "secretary_a", |l| l.submit_plan(&round, now()));
    let (_, phone) = w.sync("secretary_a", "A村", phone).await;
    let _: http_api::Done = w.exactly("office_x", "POST", &path, &review(&v2, "approve", "同意", "[]")).await;
    let view: PlanView = w.exactly("office_x", "GET", &format!("/api/office/plans/{}/{}", opened.id, w.units["A村"]), "").await;
    assert_eq!((view.plan.submissions.len(), view.plan.reviews.len()), (2, 2), "every version and opinion kept");
    let detail: RoundDetail = w.exactly("office_x", "GET", &format!("/api/office/rounds/{}", opened.id), "").await;
    assert_eq!((detail.units[0].label.as_str(), detail.units[0].detail.as_str()), ("已批准", "第 2 稿；1 项任务逾期"));

    // The approved tasks are followed in the ledger; the overdue one is on the supervisor's desk.
    let (_, mut phone) = w.sync("secretary_a", "A村", phone).await;
    let tasks = edit(&mut phone, "secretary_a", |l| l.plan(&round)).followed_tasks();
    assert_eq!(tasks.len(), 2);
    let (status, body) = w.call("sup_x", "GET", "/api/desk/tasks", "").await;
    assert_eq!(status, 200, "{body}");
    let list: http_api::desk::List<http_api::desk::TaskRow> = http_api::exactly(&body).unwrap();
    let overdue: Vec<&str> = list.rows.iter().filter(|r| r.overdue).map(|r| r.what.as_str()).collect();
    assert_eq!(overdue, vec!["修复村口路灯"]);
    let done = tasks.iter().find(|t| t.task.what == "修复村口路灯").unwrap().task.id.clone();
    edit(&mut phone, "secretary_a", |l| l.follow_task(&round, &done, true, "已修好", now()));
    let (answer, _) = w.sync("secretary_a", "A村", phone).await;
    assert_eq!(answer, Answer::Data);
    let list: http_api::desk::List<http_api::desk::TaskRow> = w.exactly("sup_x", "GET", "/api/desk/tasks", "").await;
    assert!(list.rows.iter().all(|r| !r.overdue), "done, no longer overdue: {:?}", list.rows);
    assert_eq!(list.rows.iter().filter(|r| r.done_at.is_some()).count(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_notice_and_a_clean_up_round_reach_the_units_and_the_office_sees_who_answered() {
    let w = world().await;
    let notice: Opened = w.exactly("office_x", "POST", "/api/office/notices", &format!(r#"{{"title":"一季度通报","body":"各单位：……","node":"{}"}}"#, w.units["X县"])).await;
    assert_eq!(notice.units, 2);
    let (status, text) = w.call("office_x", "POST", "/api/office/notices", &format!(r#"{{"title":" ","body":"x","node":"{}"}}"#, w.units["X县"])).await;
    assert_eq!(status, 400, "{text}");
    let deadline = today() + chrono::Days::new(10);
    let cleanup: Opened =
        w.exactly("office_x", "POST", "/api/office/rounds", &format!(r#"{{"kind":"cleanup","title":"制度清理","deadline":"{deadline}","node":"{}"}}"#, w.units["X县"])).await;

    // A村's cadre keeps two rules and opens the notice; the secretary decides both in the round.
    let (_, mut phone) = w.sync("cadre_a", "A村", UnitLedger::create(ActorId::random()).doc().clone()).await;
    let notice_id = RecordId::parse(&notice.id).unwrap();
    let round = RecordId::parse(&cleanup.id).unwrap();
    let notices = edit(&mut phone, "cadre_a", |l| Ok(l.notices().records));
    assert_eq!((notices.len(), notices[0].title.as_str(), notices[0].office.as_str()), (1, "一季度通报", "X县先锋办"));
    edit(&mut phone, "cadre_a", |l| l.open_notice(&notice_id, now()));
    let rules: Vec<RecordId> = ["村务公开制度", "财务管理制度"]
        .iter()
        .map(|n| edit(&mut phone, "cadre_a", |l| l.add_rule(&RuleDraft { name: (*n).into(), ..Default::default() }, today(), now() - 86_400_000 * 2)))
        .collect();
    let (answer, _) = w.sync("cadre_a", "A村", phone).await;
    assert_eq!(answer, Answer::Data);
    let standings = w.exactly::<RoundDetail>("office_x", "GET", &format!("/api/office/rounds/{}", notice.id), "").await;
    let labels: Vec<(&str, &str)> = standings.units.iter().map(|s| (s.name.as_str(), s.label.as_str())).collect();
    assert_eq!(labels, vec![("A村", "已阅"), ("B村", "未阅")]);
    assert_eq!(standings.body, "各单位：……");

    let (_, mut phone) = w.sync("secretary_a", "A村", UnitLedger::create(ActorId::random()).doc().clone()).await;
    edit(&mut phone, "secretary_a", |l| l.decide_rule(&rules[0], &round, Cleanup::Keep, "", today(), now()));
    let d = w.exactly::<RoundDetail>("office_x", "GET", &format!("/api/office/rounds/{}", cleanup.id), "").await;
    assert_eq!(d.units[0].detail, "已清理 0 / 2 项（保留 0，修订 0，废止 0）", "not synced yet");
    edit(&mut phone, "secretary_a", |l| l.decide_rule(&rules[1], &round, Cleanup::Repeal, "已被新制度取代", today(), now()));
    let (answer, _) = w.sync("secretary_a", "A村", phone).await;
    assert_eq!(answer, Answer::Data);
    let d = w.exactly::<RoundDetail>("office_x", "GET", &format!("/api/office/rounds/{}", cleanup.id), "").await;
    let got: Vec<(&str, &str, &str)> = d.units.iter().map(|s| (s.name.as_str(), s.label.as_str(), s.detail.as_str())).collect();
    assert_eq!(got, vec![("A村", "已完成", "已清理 2 / 2 项（保留 1，修订 0，废止 1）"), ("B村", "未登记制度", "已清理 0 / 0 项（保留 0，修订 0，废止 0）")]);
    let view: OfficeView = w.exactly("office_x", "GET", "/api/office", "").await;
    assert_eq!(view.rounds.len(), 2);
    assert_eq!(view.rounds.iter().map(|r| r.kind.as_str()).collect::<Vec<_>>(), vec!["cleanup", "notice"], "newest first");
}

/// Every person × office action, each cell the exact status: the office of another county is
/// told the round does not exist, everyone else that the office's pages are not theirs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_person_gets_exactly_the_office_answer_the_table_says() {
    let w = world().await;
    let deadline = today() + chrono::Days::new(30);
    let opened: Opened =
        w.exactly("office_x", "POST", "/api/office/rounds", &format!(r#"{{"kind":"plan","title":"方案","deadline":"{deadline}","node":"{}"}}"#, w.units["X县"])).await;
    let (x, a) = (w.units["X县"].clone(), w.units["A村"].clone());
    let actions: Vec<(&str, &str, String, String)> = vec![
        ("view", "GET", "/api/office".into(), String::new()),
        ("round", "GET", format!("/api/office/rounds/{}", opened.id), String::new()),
        ("plan", "GET", format!("/api/office/plans/{}/{a}", opened.id), String::new()),
        (
            "review",
            "POST",
            format!("/api/office/plans/{}/{a}/review", opened.id),
            format!(r#"{{"submission":"{}","verdict":"approve","opinion":"","parts":[]}}"#, RecordId::random()),
        ),
        ("open", "POST", "/api/office/rounds".into(), format!(r#"{{"kind":"plan","title":"再一轮","deadline":"{deadline}","node":"{x}"}}"#)),
        ("notice", "POST", "/api/office/notices".into(), format!(r#"{{"title":"通报","body":"正文","node":"{x}"}}"#)),
        ("bad kind", "POST", "/api/office/rounds".into(), format!(r#"{{"kind":"party","title":"x","deadline":"{deadline}","node":"{x}"}}"#)),
        ("past", "POST", "/api/office/rounds".into(), format!(r#"{{"kind":"plan","title":"x","deadline":"2000-01-01","node":"{x}"}}"#)),
    ];
    // (who, the status of each action in order)
    let table: [(&str, [u16; 8]); 7] = [
        ("office_x", [200, 200, 200, 400, 200, 200, 400, 400]),
        ("office_y", [200, 404, 404, 404, 404, 404, 400, 400]),
        ("sup_x", [403; 8]),
        ("secretary_a", [403; 8]),
        ("cadre_a", [403; 8]),
        ("admin", [403; 8]),
        ("anonymous", [401; 8]),
    ];
    for (who, expected) in table {
        for ((what, method, path, body), want) in actions.iter().zip(expected) {
            let (status, text) = w.call(who, method, path, body).await;
            assert_eq!(status, want, "{who} {what}: {text}");
        }
    }
    // office_y's own view lists nothing of X县's.
    let view: OfficeView = w.exactly("office_y", "GET", "/api/office", "").await;
    assert!(view.rounds.is_empty());

    // A day's rounds and notices are bounded per office: the next is refused with why, and
    // nothing is written; another county's office is not held up by it.
    let notice = format!(r#"{{"title":"通报","body":"正文","node":"{x}"}}"#);
    let mut opened = w.exactly::<OfficeView>("office_x", "GET", "/api/office", "").await.rounds.len();
    while opened < 30 {
        let (status, text) = w.call("office_x", "POST", "/api/office/notices", &notice).await;
        assert_eq!(status, 200, "{text}");
        opened += 1;
    }
    let (status, text) = w.call("office_x", "POST", "/api/office/notices", &notice).await;
    assert_eq!(status, 429, "{text}");
    assert!(text.contains("一天内最多下达 30 项"), "{text}");
    assert_eq!(w.exactly::<OfficeView>("office_x", "GET", "/api/office", "").await.rounds.len(), 30);
    let y = w.server.state.hub.directory.org().units.values().find(|u| u.name == "Y县").unwrap().id.clone();
    let (status, text) = w.call("office_y", "POST", "/api/office/notices", &format!(r#"{{"title":"通报","body":"正文","node":"{y}"}}"#)).await;
    assert_eq!(status, 200, "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_satisfaction_round_compares_units_on_the_same_questions() {
    let w = world().await;
    let deadline = today() + chrono::Days::new(30);
    let body =
        |questions: &str| format!(r#"{{"kind":"satisfaction","title":"一季度群众满意度测评","deadline":"{deadline}","node":"{}","questions":"{questions}"}}"#, w.units["X县"]);
    let (status, text) = w.call("office_x", "POST", "/api/office/rounds", &body("  ")).await;
    assert_eq!(status, 400, "a round needs questions: {text}");
    let opened: Opened = w.exactly("office_x", "POST", "/api/office/rounds", &body("办事效率\\n服务态度")).await;
    let round = RecordId::parse(&opened.id).unwrap();

    // A村's cadre records two residents' answers offline, in five levels.
    let (_, mut phone) = w.sync("cadre_a", "A村", UnitLedger::create(ActorId::random()).doc().clone()).await;
    let survey = edit(&mut phone, "cadre_a", |l| l.survey(&round));
    assert_eq!((survey.scale, survey.office.as_str(), survey.closes_on, survey.questions.len()), (5, "X县先锋办", Some(deadline), 2));
    let (q0, q1) = (survey.questions[0].id.clone(), survey.questions[1].id.clone());
    use ledger::codes::Verdict;
    edit(&mut phone, "cadre_a", |l| l.add_survey_levels(&round, &[(q0.clone(), Verdict::VerySatisfied), (q1.clone(), Verdict::Basic)], "", today(), now()));
    edit(&mut phone, "cadre_a", |l| l.add_survey_levels(&round, &[(q0.clone(), Verdict::Dissatisfied)], "", today(), now()));
    let (answer, _) = w.sync("cadre_a", "A村", phone).await;
    assert_eq!(answer, Answer::Data);

    let d: RoundDetail = w.exactly("office_x", "GET", &format!("/api/office/rounds/{}", opened.id), "").await;
    let standings: Vec<(&str, &str, &str)> = d.units.iter().map(|s| (s.name.as_str(), s.label.as_str(), s.detail.as_str())).collect();
    assert_eq!(standings, vec![("A村", "进行中", "2 份答卷"), ("B村", "未开展", "")]);
    assert_eq!(d.comparison.len(), 2);
    assert_eq!(d.comparison[0].question, "办事效率");
    let a = &d.comparison[0].units[0];
    assert_eq!((a.name.as_str(), a.answered, a.counts, a.satisfied_per_mille), ("A村", 2, [1, 0, 0, 1, 0], Some(500)));
    let b = &d.comparison[0].units[1];
    assert_eq!((b.name.as_str(), b.answered, b.satisfied_per_mille), ("B村", 0, None));
    assert_eq!(d.comparison[1].units[0].counts, [0, 0, 1, 0, 0]);
}
