//! Writes a realistic unit ledger for benchmarks and load tests, and times opening it natively.
//!
//! cargo run --release -p ledger --example make_ledger -- VISITS OUT.automerge

use std::time::Instant;

use automerge::ActorId;
use chrono::{Duration, NaiveDate};
use ledger::{UnitLedger, VisitDraft, VisitKind};

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
        };
        let visit = draft.validate(today).expect("generated visits are valid");
        ledger.add_visit(&visit, 1_764_000_000_000 + i as i64 * 60_000).unwrap();
    }
    let built = started.elapsed();
    let bytes = ledger.save();
    std::fs::write(&out, &bytes).unwrap();

    let started = Instant::now();
    let reopened = UnitLedger::load(&bytes, ActorId::random()).unwrap();
    let loaded = started.elapsed();
    let started = Instant::now();
    let visits = reopened.visits();
    let hydrated = started.elapsed();
    assert_eq!(visits.visits.len(), n);
    println!(
        "{n} visits: {} bytes saved; built in {built:.2?}; native load {loaded:.2?}, read all visits {hydrated:.2?}",
        bytes.len()
    );
}
