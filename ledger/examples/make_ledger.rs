//! Writes a realistic unit ledger for benchmarks and load tests, and times opening it natively.
//!
//! cargo run --release -p ledger --example make_ledger -- VISITS OUT.automerge [PROBLEMS PLEDGES]
//!
//! Problems are raised from visits and walked through their statuses with progress posts;
//! pledges get progress and evaluations, as a year of real use would leave them.

use std::time::Instant;

use automerge::ActorId;
use chrono::{Duration, NaiveDate};
use ledger::pledge::{Aim, Evaluator, PledgeDraft};
use ledger::problem::{Action, Category};
use ledger::{ProblemDraft, Satisfaction, UnitLedger, VisitDraft, VisitKind};

const PLACES: [&str; 6] = ["东村一组", "东村三组", "西村二组", "南街社区", "工业园区", "北山村"];
const WHOM: [&str; 6] = ["张大爷家", "李阿姨", "王五家", "宏达纺织公司", "赵家", "新兴电子厂"];
const HEARD: [&str; 5] = [
    "反映村口路灯坏了两盏，晚上出行不便，希望尽快修好。",
    "家中老人行动不便，希望了解居家养老服务的申请办法。",
    "企业反映今年招工难，熟练工缺口约三十人，订单交付有压力。",
    "雨季路面积水严重，排水沟堵塞，已拍照留存。",
    "询问低保复核进度，材料已按要求补齐。",
];

fn main() {
    let mut args = std::env::args().skip(1);
    let n: usize = args.next().and_then(|s| s.parse().ok()).unwrap_or(5_000);
    let out = args.next().unwrap_or_else(|| "ledger.automerge".into());
    let problems: usize = args.next().and_then(|s| s.parse().ok()).unwrap_or(0);
    let pledges: usize = args.next().and_then(|s| s.parse().ok()).unwrap_or(0);
    let today = NaiveDate::from_ymd_opt(2026, 11, 27).unwrap();
    let mut ledger = UnitLedger::create(ActorId::random());
    let started = Instant::now();
    for i in 0..n {
        let draft = VisitDraft {
            date: (today - Duration::days((i % 600) as i64)).to_string(),
            kind: VisitKind::ALL[i % VisitKind::ALL.len()],
            whom: format!("{}{}", WHOM[i % WHOM.len()], i),
            place: PLACES[i % PLACES.len()].into(),
            heard: HEARD[i % HEARD.len()].into(),
            opinions: if i % 3 == 0 { "希望村里统一协调解决。".into() } else { String::new() },
            follow_up_needed: i % 4 == 0,
            follow_up: if i % 4 == 0 { "下周回访".into() } else { String::new() },
            enterprise_id: None,
        };
        let visit = draft.validate(today).expect("generated visits are valid");
        ledger.add_visit(&visit, 1_764_000_000_000 + i as i64 * 60_000).unwrap();
    }
    let visit_ids: Vec<_> = ledger.visits().visits.into_iter().map(|v| v.id).collect();
    for i in 0..problems {
        let now = 1_765_000_000_000 + i as i64 * 60_000;
        let draft = ProblemDraft {
            title: format!("{}（第{i}件）", HEARD[i % HEARD.len()].chars().take(12).collect::<String>()),
            description: HEARD[(i + 1) % HEARD.len()].into(),
            category: Category::ALL[i % Category::ALL.len()],
            responsible: WHOM[i % WHOM.len()].into(),
            deadline: (today + Duration::days((i % 60) as i64 - 20)).to_string(),
            visit_id: visit_ids.get(i).cloned(),
            ..ProblemDraft::default()
        };
        let id = ledger.add_problem(&draft.validate().expect("generated problems are valid"), now).unwrap();
        if i % 2 == 0 {
            ledger.change_problem_status(&id, &Action::Start, now + 1).unwrap();
            ledger.add_problem_progress(&id, "已联系相关部门，正在协调。", now + 2).unwrap();
        }
        if i % 4 == 0 {
            ledger.change_problem_status(&id, &Action::Resolve { result: "已解决".into() }, now + 3).unwrap();
            let verdict = Action::FollowUp { satisfaction: Satisfaction::Satisfied, comment: String::new() };
            ledger.change_problem_status(&id, &verdict, now + 4).unwrap();
        }
    }
    for i in 0..pledges {
        let now = 1_766_000_000_000 + i as i64 * 60_000;
        let draft = PledgeDraft {
            content: format!("每周{}下午在党群服务中心接待群众，当场能办的当场办（{i}）", ["一", "三", "五"][i % 3]),
            by: WHOM[i % WHOM.len()].into(),
            aims: vec![Aim::ALL[i % Aim::ALL.len()]],
            due: (today + Duration::days(30)).to_string(),
            ..PledgeDraft::default()
        };
        let id = ledger.add_pledge(&draft.validate().expect("generated pledges are valid"), now).unwrap();
        ledger.add_pledge_progress(&id, "本周接待群众 12 人次，办结 9 件。", now + 1).unwrap();
        ledger.add_evaluation(&id, Evaluator::Resident, Satisfaction::Satisfied, "态度好", now + 2).unwrap();
    }
    let built = started.elapsed();
    let bytes = ledger.save();
    std::fs::write(&out, &bytes).unwrap();

    let started = Instant::now();
    let mut reopened = UnitLedger::load(&bytes, ActorId::random()).unwrap();
    let loaded = started.elapsed();
    let started = Instant::now();
    let visits = reopened.visits();
    let read_problems = reopened.problems();
    let read_pledges = reopened.pledges();
    let hydrated = started.elapsed();
    assert_eq!(visits.visits.len(), n);
    assert_eq!((read_problems.records.len(), read_pledges.records.len()), (problems, pledges));
    // Another device's edit arriving: finding the records it touched vs re-reading them all.
    let mut other = reopened.fork(ActorId::random());
    let some_visit = visits.visits[0].to_draft().validate(today).expect("stored visits are valid");
    other.update_visit(&visits.visits[0].id, &ledger::ValidVisit { place: "另一个地点".into(), ..some_visit }, 1_767_000_000_000).unwrap();
    let before = reopened.heads();
    reopened.merge(&mut other).unwrap();
    let started = Instant::now();
    let changed = reopened.changed_records(&before).expect("only records changed");
    let diffed = started.elapsed();
    assert_eq!(changed.len(), 1);
    println!(
        "{n} visits, {problems} problems, {pledges} pledges: {} bytes saved; built in {built:.2?}; native load {loaded:.2?}, read all records {hydrated:.2?}, find the one record another device changed {diffed:.2?}",
        bytes.len()
    );
}
