//! What the write checks cost a save: on a ledger of 5,000 visits and 2,000 problems, the
//! time of `write_scope::check` on one saved visit (and one status step) beside the time of
//! the save itself (the edit and its incremental bytes), in the same run, as a ratio.
//!
//! cargo run --release -p ledger --example bench_write_check [VISITS] [PROBLEMS] [RUNS]

use std::time::Instant;

use automerge::ActorId;
use ledger::org::Write;
use ledger::problem::Action;
use ledger::write_scope::{check, Sender};
use ledger::{ProblemDraft, UnitLedger, VisitDraft};

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(|a, b| a.partial_cmp(b).unwrap());
    xs[xs.len() / 2]
}

fn main() {
    let mut args = std::env::args().skip(1).map(|a| a.parse::<usize>().unwrap());
    let (visits, problems, runs) = (args.next().unwrap_or(5_000), args.next().unwrap_or(2_000), args.next().unwrap_or(200));
    let day = chrono::NaiveDate::from_ymd_opt(2026, 12, 4).unwrap();
    let mut l = UnitLedger::create(ActorId::random());
    l.set_author("王芳");
    for i in 0..visits {
        let v = VisitDraft { whom: format!("居民{i}"), heard: "路灯坏了，已联系供电所".into(), ..VisitDraft::new(day) };
        l.add_visit(&v.validate(day).unwrap(), 1_000 + i as i64).unwrap();
    }
    let mut ids = Vec::new();
    for i in 0..problems {
        ids.push(l.add_problem(&ProblemDraft { title: format!("问题{i}"), ..ProblemDraft::default() }.validate().unwrap(), 1_000).unwrap());
    }
    let saved = l.save();
    let mut phone = UnitLedger::load(&saved, ActorId::random()).unwrap();
    phone.set_author("王芳");
    let (mut save_visit, mut check_visit, mut save_step, mut check_step) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for run in 0..runs {
        for (step, saves, checks) in [(false, &mut save_visit, &mut check_visit), (true, &mut save_step, &mut check_step)] {
            let before = phone.heads();
            let started = Instant::now();
            if step {
                phone.change_problem_status(&ids[run % ids.len()], &Action::Start, 2_000).ok();
            } else {
                let v = VisitDraft { whom: format!("新居民{run}"), heard: "想装扶手，下周再去".into(), ..VisitDraft::new(day) };
                phone.add_visit(&v.validate(day).unwrap(), 2_000).unwrap();
            }
            let bytes = phone.save_after(&before);
            saves.push(started.elapsed().as_secs_f64() * 1e3);
            assert!(!bytes.is_empty());
            let changes = phone.doc_mut().get_changes(&before);
            let started = Instant::now();
            check(phone.doc(), &changes, Sender { write: Write::Cadre, name: "王芳" }).unwrap();
            checks.push(started.elapsed().as_secs_f64() * 1e3);
        }
    }
    println!("ledger: {visits} visits, {problems} problems; {runs} saves of each kind; medians");
    println!("| save | the save (edit + incremental bytes) | write_scope::check | ratio |");
    println!("|---|---|---|---|");
    for (what, saves, checks) in [("a new visit", save_visit, check_visit), ("a status step (办理中)", save_step, check_step)] {
        let (s, c) = (median(saves), median(checks));
        println!("| {what} | {s:.3} ms | {c:.3} ms | {:.2}x |", c / s);
    }
}
