//! The compaction state machine against a model of storage shared by several writers (tabs of
//! one phone, or server processes), in every interleaving proptest finds: no change ever
//! appended may go missing from storage.

use std::collections::BTreeSet;

use proptest::prelude::*;

use super::*;

#[test]
fn compacts_on_many_chunks_or_large_chunks() {
    let p = CompactionPolicy::default();
    assert!(!p.should_compact(3, 500, 100_000));
    assert!(p.should_compact(65, 500, 100_000));
    assert!(p.should_compact(10, 60_000, 100_000));
    assert!(!p.should_compact(10, 8_000, 1_000), "small totals wait");
    assert!(p.should_compact(10, 20_000, 1_000));
}

type Changes = BTreeSet<u32>;

#[derive(Default)]
struct Storage {
    tag: Tag,
    snapshot: Changes,
    chunks: Vec<(u32, Changes)>,
    next_key: u32,
}

impl Storage {
    fn all(&self) -> Changes {
        let mut all = self.snapshot.clone();
        for (_, c) in &self.chunks {
            all.extend(c);
        }
        all
    }

    fn keys(&self) -> Vec<u32> {
        self.chunks.iter().map(|(k, _)| *k).collect()
    }
}

/// How a writer builds the new snapshot.
#[derive(Clone, Copy, Debug)]
enum Mode {
    /// The browser: folds the planned chunks into its in-memory document inside the
    /// replacing transaction and saves the whole document.
    FoldIntoMemory,
    /// The server: reads the base snapshot and the planned chunks from storage (outside any
    /// lock), loads them, saves; then replaces in a second transaction.
    ReadFromStorage,
}

struct Writer {
    mode: Mode,
    memory: Changes,
    compactor: Compactor<u32>,
    running: Option<(Plan<u32>, Option<Changes>)>,
}

fn small_policy() -> CompactionPolicy {
    CompactionPolicy { max_chunks: 2, max_chunk_percent: 50, min_chunk_bytes: 1 }
}

impl Writer {
    fn new(mode: Mode, storage: &Storage) -> Self {
        let mut w = Writer { mode, memory: Changes::new(), compactor: Compactor::new(small_policy()), running: None };
        w.reload(storage);
        w
    }

    fn reload(&mut self, s: &Storage) {
        self.memory.extend(s.all());
        self.compactor.loaded(s.tag, s.snapshot.len(), s.chunks.iter().map(|(k, c)| (*k, c.len())));
    }
}

#[derive(Clone, Copy, Debug)]
enum Step {
    Write,
    Reload,
    Start,
    /// Server mode: read what the plan names.
    Build,
    Replace,
    Fail,
}

/// Runs `steps` and returns the changes lost (written, acknowledged, and no longer stored).
/// `check_tag` off is the naive compaction that replaces whatever is stored.
fn run(modes: &[Mode], steps: &[(usize, Step)], check_tag: bool) -> Changes {
    let mut storage = Storage::default();
    let mut writers: Vec<Writer> = modes.iter().map(|m| Writer::new(*m, &storage)).collect();
    let mut written = Changes::new();
    let mut next_change = 0;
    let mut next_tag = 100;
    for &(w, step) in steps {
        let w = &mut writers[w % modes.len()];
        match step {
            Step::Write => {
                next_change += 1;
                w.memory.insert(next_change);
                storage.next_key += 1;
                storage.chunks.push((storage.next_key, Changes::from([next_change])));
                w.compactor.appended(storage.next_key, 1);
                written.insert(next_change);
            }
            Step::Reload => w.reload(&storage),
            Step::Start => {
                next_tag += 1;
                if let Some(plan) = w.compactor.start(next_tag) {
                    assert!(w.running.is_none(), "a second compaction started while one runs");
                    w.running = Some((plan, None));
                }
            }
            Step::Build => {
                if let (Mode::ReadFromStorage, Some((plan, built @ None))) = (w.mode, &mut w.running) {
                    if storage.tag == plan.base || !check_tag {
                        let mut b = storage.snapshot.clone();
                        for (k, c) in &storage.chunks {
                            if plan.chunks.contains(k) {
                                b.extend(c);
                            }
                        }
                        *built = Some(b);
                    } else {
                        let id = plan.id;
                        w.running = None;
                        w.compactor.finished(id, Outcome::Stale);
                    }
                }
            }
            Step::Replace => {
                let Some((plan, built)) = w.running.take() else { continue };
                let new = match w.mode {
                    Mode::ReadFromStorage => match built {
                        Some(b) => b,
                        None => {
                            w.running = Some((plan, None));
                            continue;
                        }
                    },
                    Mode::FoldIntoMemory => {
                        for (k, c) in &storage.chunks {
                            if plan.chunks.contains(k) {
                                w.memory.extend(c);
                            }
                        }
                        w.memory.clone()
                    }
                };
                if !check_tag || plan.may_replace(storage.tag, &storage.keys()) {
                    storage.snapshot = new;
                    storage.tag = plan.new_tag;
                    storage.chunks.retain(|(k, _)| !plan.chunks.contains(k));
                    w.compactor.finished(plan.id, Outcome::Replaced { snapshot_bytes: storage.snapshot.len() });
                } else {
                    w.compactor.finished(plan.id, Outcome::Stale);
                }
            }
            Step::Fail => {
                if let Some((plan, _)) = w.running.take() {
                    w.compactor.finished(plan.id, Outcome::Failed);
                }
            }
        }
        let stored = storage.all();
        let lost: Changes = written.difference(&stored).copied().collect();
        if !lost.is_empty() {
            return lost;
        }
    }
    Changes::new()
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        4 => Just(Step::Write),
        1 => Just(Step::Reload),
        2 => Just(Step::Start),
        2 => Just(Step::Build),
        2 => Just(Step::Replace),
        1 => Just(Step::Fail),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn two_tabs_never_lose_a_change(steps in prop::collection::vec((0..2usize, step()), 1..60)) {
        let lost = run(&[Mode::FoldIntoMemory, Mode::FoldIntoMemory], &steps, true);
        prop_assert!(lost.is_empty(), "lost {:?}", lost);
    }

    #[test]
    fn server_processes_never_lose_a_change(steps in prop::collection::vec((0..3usize, step()), 1..60)) {
        let lost = run(&[Mode::ReadFromStorage, Mode::ReadFromStorage, Mode::ReadFromStorage], &steps, true);
        prop_assert!(lost.is_empty(), "lost {:?}", lost);
    }

    #[test]
    fn mixed_writers_never_lose_a_change(steps in prop::collection::vec((0..3usize, step()), 1..60)) {
        let lost = run(&[Mode::ReadFromStorage, Mode::FoldIntoMemory, Mode::ReadFromStorage], &steps, true);
        prop_assert!(lost.is_empty(), "lost {:?}", lost);
    }
}

/// The model catches the loss DESIGN.md warns of: without the tag check, an older snapshot
/// replaces a newer one whose chunks were already deleted.
#[test]
fn the_model_sees_the_naive_compaction_lose_changes() {
    use Step::*;
    let steps = [(0, Write), (0, Write), (0, Write), (0, Start), (0, Build), (1, Reload), (1, Write), (1, Write), (1, Start), (1, Build), (1, Replace), (0, Replace)];
    let modes = [Mode::ReadFromStorage, Mode::ReadFromStorage];
    assert!(!run(&modes, &steps, false).is_empty(), "the naive compaction lost nothing here");
    assert!(run(&modes, &steps, true).is_empty());
    // The same race between two tabs.
    let steps = [(0, Write), (0, Write), (0, Write), (1, Reload), (1, Write), (0, Start), (1, Start), (1, Replace), (0, Replace)];
    let modes = [Mode::FoldIntoMemory, Mode::FoldIntoMemory];
    assert!(!run(&modes, &steps, false).is_empty(), "the naive compaction lost nothing here");
    assert!(run(&modes, &steps, true).is_empty());
}

#[test]
fn one_compaction_at_a_time_and_stale_plans_wait_for_a_reload() {
    let mut c = Compactor::<u32>::new(small_policy());
    c.loaded(7, 10, [(1, 1), (2, 1), (3, 1)]);
    let plan = c.start(9).expect("due");
    assert_eq!((plan.base, plan.chunks.clone(), plan.new_tag), (7, vec![1, 2, 3], 9));
    c.appended(4, 1);
    assert_eq!(c.start(10), None, "a second compaction while one runs");
    c.finished(plan.id + 1, Outcome::Replaced { snapshot_bytes: 1 });
    assert!(c.is_running(), "another plan's result ended this one");
    c.finished(plan.id, Outcome::Replaced { snapshot_bytes: 20 });
    assert_eq!((c.tag(), c.chunk_count()), (9, 1), "chunk 4 came after the plan and stays");

    c.appended(5, 1);
    c.appended(6, 1);
    let plan = c.start(11).unwrap();
    c.finished(plan.id, Outcome::Stale);
    c.appended(7, 1);
    assert_eq!(c.start(12), None, "a stale writer plans again before reloading");
    c.loaded(50, 30, [(7, 1), (8, 1), (9, 1)]);
    assert_eq!(c.start(12).unwrap().base, 50);
}

#[test]
fn a_new_tag_never_repeats_the_base() {
    let mut c = Compactor::<u32>::new(small_policy());
    c.loaded(5, 1, [(1, 1), (2, 1), (3, 1)]);
    assert_ne!(c.start(5).unwrap().new_tag, 5);
    let mut c = Compactor::<u32>::new(small_policy());
    c.loaded(5, 1, [(1, 1), (2, 1), (3, 1)]);
    assert_ne!(c.start(0).unwrap().new_tag, 0);
}

#[test]
fn a_plan_is_refused_when_a_chunk_it_names_is_gone() {
    let plan = Plan { id: 1, base: 3, chunks: vec![1u32, 2], new_tag: 4 };
    assert!(plan.may_replace(3, &[1, 2, 5]));
    assert!(!plan.may_replace(4, &[1, 2, 5]));
    assert!(!plan.may_replace(3, &[2, 5]));
}
