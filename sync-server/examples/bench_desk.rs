//! Benchmark of the supervisor's desk on a generated organisation: UNITS villages (default 300)
//! under 10 counties and 30 townships, each ledger with RECORDS records (default 1,000: 45%
//! visits, 45% problems with their logs, 10% pledges with progress), one supervisor at the city.
//!
//! cargo run --release -p sync-server --example bench_desk -- prepare DIR [UNITS] [RECORDS]
//!   generates the data directory; prints generation time and the read model's full rebuild time.
//! cargo run --release -p sync-server --example bench_desk -- measure DIR
//!   overview of the city (first call reads the read model from storage; then from memory),
//!   one unit's overview, the overdue list; the projection cost of one incoming change.
//! cargo run --release -p sync-server --example bench_desk -- export DIR [county]
//!   the export of every record of the city (or of one county), its time and this process's
//!   peak memory (run alone, so the peak is the export's).

use std::sync::Arc;
use std::time::Instant;

use automerge::ActorId;
use ledger::codes::Satisfaction;
use ledger::org::{Role, UnitKind};
use ledger::pledge::{Aim, ValidPledge};
use ledger::problem::{Action, Category, ProblemDraft, Urgency};
use ledger::report;
use ledger::visit::{ValidVisit, VisitKind};
use ledger::UnitLedger;
use ledger_sync::DocumentId;
use sync_server::desk::{Ask, Scope};

const DAY_MS: i64 = 86_400_000;
pub const PASSWORD: &str = "bench-password-1";

fn peak_mb() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status.lines().find_map(|l| l.strip_prefix("VmHWM:")).and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok()).unwrap_or(0.0) / 1024.0
}

/// A cheap deterministic generator (xorshift), so every run builds the same organisation.
struct Rng(u64);

impl Rng {
    fn next(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n.max(1)
    }
}

fn ledger_of(unit: usize, records: usize, now_ms: i64) -> UnitLedger {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15 ^ (unit as u64 + 1) * 7919);
    let mut l = UnitLedger::create(ActorId::random());
    l.set_author(&format!("干部{}", unit % 7));
    let day = |rng: &mut Rng| now_ms - rng.next(365) as i64 * DAY_MS;
    for i in 0..records {
        let at = day(&mut rng);
        let date = report::day_of(at).expect("a day");
        match i % 20 {
            0..=8 => {
                let v = ValidVisit {
                    date,
                    kind: VisitKind::ALL[rng.next(VisitKind::COUNT as u64) as usize],
                    whom: format!("住户{}", rng.next(500)),
                    place: "村委会".into(),
                    heard: "反映村道路灯不亮，夜间出行不便，希望尽快修复。".into(),
                    opinions: String::new(),
                    follow_up_needed: rng.next(3) == 0,
                    follow_up: String::new(),
                    enterprise_id: None,
                };
                l.add_visit(&v, at).unwrap();
            }
            9..=17 => {
                let deadline = date + chrono::Duration::days(rng.next(60) as i64 + 1);
                let draft = ProblemDraft {
                    title: format!("问题{i}：村道路灯不亮"),
                    description: "群众反映村口至学校路段路灯损坏三盏，夜间学生放学不安全。".into(),
                    category: Category::ALL[rng.next(Category::ALL.len() as u64) as usize],
                    urgency: Urgency::ALL[rng.next(3) as usize],
                    responsible: format!("干部{}", rng.next(7)),
                    deadline: deadline.to_string(),
                    ..ProblemDraft::default()
                };
                let id = l.add_problem(&draft.validate().unwrap(), at).unwrap();
                let steps = rng.next(5);
                let delay = 1 + rng.next(20) as i64;
                let step_at = |k: i64| at + k * DAY_MS * delay;
                if steps >= 1 {
                    l.change_problem_status(&id, &Action::Start, at + DAY_MS).unwrap();
                    l.add_problem_progress(&id, "已联系电力所，材料已到位", at + 2 * DAY_MS).unwrap();
                }
                if steps >= 2 {
                    l.change_problem_status(&id, &Action::Resolve { result: "已更换灯具".into() }, step_at(3)).unwrap();
                }
                if steps >= 3 {
                    let s = [Satisfaction::Satisfied, Satisfaction::Basic, Satisfaction::Dissatisfied][rng.next(3) as usize];
                    l.change_problem_status(&id, &Action::FollowUp { satisfaction: s, comment: "回访群众".into() }, step_at(4)).unwrap();
                }
            }
            _ => {
                let p = ValidPledge {
                    content: "每周三下午在村委会接待群众".into(),
                    by: format!("干部{}", rng.next(7)),
                    team: false,
                    aims: vec![Aim::ServiceLead],
                    due: date + chrono::Duration::days(90),
                    public: rng.next(2) == 0,
                };
                let id = l.add_pledge(&p, at).unwrap();
                l.add_pledge_progress(&id, "本月接待群众 12 人次", at + 10 * DAY_MS).unwrap();
                if rng.next(2) == 0 {
                    l.set_pledge_fulfilled(&id, true, at + 60 * DAY_MS).unwrap();
                }
            }
        }
    }
    l
}

fn prepare(dir: &str, units: usize, records: usize) -> Result<(), String> {
    let started = Instant::now();
    let storage = Arc::new(sync_server::Storage::open(std::path::Path::new(dir))?);
    let directory = sync_server::Directory::open(storage.clone())?;
    let city = directory.add_unit("压测市", UnitKind::City, None, None)?;
    let supervisor = directory.add_person("市督查组", "supervisor", Some(PASSWORD), None)?;
    directory.grant(&supervisor.id, &city.id, Role::Supervisor, None)?;
    let now_ms = sync_server::now_secs() * 1000;
    let mut townships = Vec::new();
    for c in 0..10 {
        let county = directory.add_unit(&format!("第{c}县"), UnitKind::County, Some(&city.id), None)?;
        for t in 0..3 {
            townships.push(directory.add_unit(&format!("第{c}县第{t}镇"), UnitKind::Township, Some(&county.id), None)?);
        }
    }
    let mut ledgers = Vec::new();
    for u in 0..units {
        let town = &townships[u % townships.len()];
        let unit = directory.add_unit(&format!("{}第{u}村", town.name), UnitKind::Village, Some(&town.id), None)?;
        let doc = DocumentId::parse(unit.ledger.as_ref().unwrap()).map_err(|e| e.to_string())?;
        let mut l = ledger_of(u, records, now_ms);
        let layout = storage.load(&doc)?.ok_or("no ledger")?;
        storage.append(&doc, &l.save_after(&UnitLedger::load(&layout.concatenated(), ActorId::random()).map_err(|e| e.to_string())?.heads()))?;
        ledgers.push(doc);
    }
    let generated = started.elapsed();
    let rebuild = Instant::now();
    let n = sync_server::rebuild_read_model(&storage, &directory.org())?;
    println!(
        "generated {units} units x {records} records in {:.1} s; full rebuild of the read model ({n} ledgers): {:.2} s",
        generated.as_secs_f64(),
        rebuild.elapsed().as_secs_f64()
    );
    Ok(())
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[v.len() / 2]
}

fn measure(dir: &str) -> Result<(), String> {
    let state = sync_server::AppState::open(std::path::Path::new(dir))?;
    let hub = state.hub.clone();
    let org = hub.directory.org();
    let person = hub.storage.person_by_login("supervisor")?.ok_or("no supervisor")?.0.id;
    let today = sync_server::desk::today();
    let year = Ask { period: Some(format!("{}", chrono::Datelike::year(&today))), ..Ask::default() };
    let scope = Scope::of(org.clone(), &person, &year, today, Default::default()).map_err(|e| e.2)?;
    let t = Instant::now();
    let first = sync_server::desk::answers::overview(&hub, &scope, &person)?;
    let cold = t.elapsed().as_secs_f64() * 1000.0;
    let mut warm = Vec::new();
    for _ in 0..10 {
        let t = Instant::now();
        sync_server::desk::answers::overview(&hub, &scope, &person)?;
        warm.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    let rows = first.rows.len();
    let unit = org.units.values().find(|u| u.ledger.is_some()).unwrap().id.clone();
    let one = Scope::of(org.clone(), &person, &Ask { node: Some(unit.clone()), ..year }, today, Default::default()).map_err(|e| e.2)?;
    let mut drill = Vec::new();
    for _ in 0..10 {
        let t = Instant::now();
        sync_server::desk::answers::overview(&hub, &one, &person)?;
        drill.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    let mut overdue = Vec::new();
    let mut total = 0;
    for _ in 0..5 {
        let t = Instant::now();
        let list = sync_server::desk::answers::problems(&hub, &scope, true, report::ProblemSort::DaysOverdue)?;
        total = list.total as u64;
        overdue.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    println!("overview of the city ({rows} rows): first {cold:.0} ms (read model from storage), then median {:.1} ms", median(warm));
    println!("one unit's overview: median {:.2} ms; overdue list of the city ({total} problems): median {:.1} ms", median(drill), median(overdue));

    // The projection of one incoming change on a ledger of this size: the records the change
    // names, read again, their facts and rows.
    let doc = DocumentId::parse(org.units[&unit].ledger.as_ref().unwrap()).map_err(|e| e.to_string())?;
    let layout = hub.storage.load(&doc)?.ok_or("no ledger")?;
    let mut l = UnitLedger::load(&layout.concatenated(), ActorId::random()).map_err(|e| e.to_string())?;
    let problem = l.problems().records[0].id.clone();
    let mut per_change = Vec::new();
    for i in 0..200 {
        let before = l.heads();
        l.add_problem_progress(&problem, &format!("进展 {i}"), 1_800_000_000_000 + i).unwrap();
        let t = Instant::now();
        let update = report::update_since(&mut l, Some(&before));
        if let report::Update::Records { changed, .. } = &update {
            for r in changed {
                std::hint::black_box((r.facts().encode(), serde_json::to_string(r).unwrap()));
            }
        }
        per_change.push(t.elapsed().as_secs_f64() * 1e6);
    }
    println!("projection of one incoming change on a ledger of {} records: median {:.0} µs", report::facts::read_all(&l).len(), median(per_change));
    Ok(())
}

fn export(dir: &str, county: bool) -> Result<(), String> {
    let state = sync_server::AppState::open(std::path::Path::new(dir))?;
    let hub = state.hub.clone();
    let org = hub.directory.org();
    let person = hub.storage.person_by_login("supervisor")?.ok_or("no supervisor")?.0.id;
    let node = county.then(|| org.units.values().find(|u| u.kind == UnitKind::County).unwrap().id.clone());
    // Every record: a period of ten years back from today.
    let today = sync_server::desk::today();
    let ask = Ask { period: Some(format!("{}..{today}", today - chrono::Duration::days(3_650))), node, ..Ask::default() };
    let scope = Scope::of(org, &person, &ask, today, Default::default()).map_err(|e| e.2)?;
    let before = peak_mb();
    let path = std::env::temp_dir().join(format!("bench-export-{}.xlsx", std::process::id()));
    let file = std::fs::File::create(&path).map_err(|e| e.to_string())?;
    let t = Instant::now();
    let written = sync_server::desk::export::write(&hub, &scope, "http://localhost", &file)?;
    let size = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
    let _ = std::fs::remove_file(&path);
    println!(
        "export of {} ({} problems, {} visits, {} pledges): {:.2} s, {:.1} MB file; peak memory {:.0} MB (before: {:.0} MB)",
        if county { "one county" } else { "the city" },
        written.problems,
        written.visits,
        written.pledges,
        t.elapsed().as_secs_f64(),
        size as f64 / 1e6,
        peak_mb(),
        before
    );
    Ok(())
}

fn main() -> Result<(), String> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let arg = |i: usize| args.get(i).map(String::as_str);
    match (arg(0), arg(1)) {
        (Some("prepare"), Some(dir)) => prepare(dir, arg(2).and_then(|s| s.parse().ok()).unwrap_or(300), arg(3).and_then(|s| s.parse().ok()).unwrap_or(1_000)),
        (Some("measure"), Some(dir)) => measure(dir),
        (Some("export"), Some(dir)) => export(dir, arg(2) == Some("county")),
        _ => Err("usage: bench_desk prepare DIR [UNITS] [RECORDS] | measure DIR | export DIR [county]".into()),
    }
}
