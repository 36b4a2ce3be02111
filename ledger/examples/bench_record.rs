//! What a person's record (实绩) costs the server: on a ledger of VISITS visits and PROBLEMS
//! problems (each resolved) written by 10 people's phones, the time of `work_record` for one
//! person over a year beside the time of loading the ledger from its bytes (what the server does
//! first for every record it reads), in the same run, as a ratio.
//!
//! cargo run --release -p ledger --example bench_record [VISITS] [PROBLEMS] [RUNS]

use std::collections::HashSet;
use std::time::Instant;

use automerge::ActorId;
use ledger::achievement::{work_record, Worker};
use ledger::problem::Action;
use ledger::report::Period;
use ledger::{ProblemDraft, UnitLedger, VisitDraft};

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(|a, b| a.partial_cmp(b).unwrap());
    xs[xs.len() / 2]
}

fn main() {
    let mut args = std::env::args().skip(1).map(|a| a.parse::<usize>().unwrap());
    let (visits, problems, runs) = (args.next().unwrap_or(5_000), args.next().unwrap_or(2_000), args.next().unwrap_or(20));
    let day = chrono::NaiveDate::from_ymd_opt(2026, 6, 1).unwrap();
    let at = day.and_hms_opt(4, 0, 0).unwrap().and_utc().timestamp_millis();
    let phones: Vec<ActorId> = (0..10).map(|_| ActorId::random()).collect();
    let mut l = UnitLedger::create(phones[0].clone());
    for i in 0..visits {
        l.doc_mut().set_actor(phones[i % phones.len()].clone());
        let v = VisitDraft { whom: format!("居民{i}"), heard: "路灯坏了，已联系供电所".into(), ..VisitDraft::new(day) };
        l.add_visit(&v.validate(day).unwrap(), at).unwrap();
    }
    for i in 0..problems {
        l.doc_mut().set_actor(phones[i % phones.len()].clone());
        let id = l.add_problem(&ProblemDraft { title: format!("问题{i}"), ..ProblemDraft::default() }.validate().unwrap(), at).unwrap();
        l.change_problem_status(&id, &Action::Resolve { result: "已解决".into() }, at).unwrap();
    }
    let bytes = l.save();
    let mine: HashSet<ActorId> = [phones[3].clone()].into();
    let (mut loads, mut records) = (Vec::new(), Vec::new());
    let mut lines = 0;
    for _ in 0..runs {
        let started = Instant::now();
        let ledger = UnitLedger::load(&bytes, ActorId::random()).unwrap();
        loads.push(started.elapsed().as_secs_f64() * 1e3);
        let started = Instant::now();
        let r = work_record(&ledger, &Worker { name: "张伟", actors: &mine, whole_unit: false }, Period::Year(2026));
        records.push(started.elapsed().as_secs_f64() * 1e3);
        lines = r.visits.len() + r.problems_raised.len() + r.problems_resolved.len();
    }
    let (load, record) = (median(loads), median(records));
    println!("ledger: {visits} visits, {problems} problems, {} KB; one person's lines: {lines}", bytes.len() / 1024);
    println!("load {load:.1} ms, work_record {record:.1} ms (median of {runs}); record / load = {:.2}x", record / load);
}
