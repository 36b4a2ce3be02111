//! The two main lists (走访, 问题) drawn once off-screen once the ledger is open, so that a
//! first tap on their tab finds their code ready.
//!
//! V8 compiles a WebAssembly function on its first call: about half the script of a first tap
//! on 走访 was compiling the list's functions (session 33's trace: 226 lazy compiles, 23–44 ms
//! at 4x throttling). Drawing the list once into an element never attached to the page runs
//! those functions (no style, layout or paint: it is not in the document), in idle moments:
//! each list twice, without its cards and then with one, so that no task is long (one pass with
//! a card took 13–52 ms at 4x).
//!
//! Not while the document loads: there the passes made the page's longest task 63–92 ms
//! (none over 50 ms without them), and a tap during the load was not measurably faster
//! (`bench/worker.mjs`, session 35).

use leptos::prelude::*;
use leptos::tachys::view::Render;

use crate::service::{LedgerService, Phase};
use ledger::address::Screen;

/// In context while a screen is drawn off-screen, with how many cards its list draws: it must
/// not say it was shown.
#[derive(Clone, Copy)]
struct WarmingUp(usize);

/// How many cards a list draws when it is only warming up its code.
pub fn warming_up() -> Option<usize> {
    use_context::<WarmingUp>().map(|w| w.0)
}

/// Marks `name` once the screen is in the DOM (the moment the benchmarks call it interactive),
/// unless it is only being drawn to warm up.
pub fn mark_when_shown(name: &'static str) {
    if warming_up().is_none() {
        Effect::new(move |_| crate::browser::mark(name));
    }
}

/// Once the worker has opened the ledger's document, draws each main list that is not the
/// screen shown, under a reactive owner of its own (below the caller's, for its contexts) that
/// is cleaned up at once. Call where the screens' contexts are provided.
pub fn lists_once_open(service: LedgerService, shown: impl Fn() -> Screen + 'static) {
    let Some(owner) = Owner::current() else { return };
    let started = StoredValue::new(false);
    Effect::new(move |_| {
        if !service.live.get() || started.get_value() {
            return;
        }
        started.set_value(true);
        let first = shown();
        let owner = owner.clone();
        leptos::task::spawn_local(async move {
            crate::browser::next_paint().await;
            for screen in [Screen::VisitList, Screen::ProblemList] {
                for cards in [0, 1] {
                    crate::browser::idle().await;
                    if screen == first || service.phase.get_untracked() != Phase::Ready {
                        continue;
                    }
                    let start = crate::browser::perf_now();
                    let child = owner.child();
                    child.with(|| {
                        provide_context(WarmingUp(cards));
                        drop(crate::app::screen_view(screen).build());
                    });
                    child.cleanup();
                    crate::browser::measure_since("pioneer:warmed-up", start);
                }
            }
        });
    });
}
