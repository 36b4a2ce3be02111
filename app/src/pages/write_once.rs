//! One write per intent (一次操作只记一次). A double tap, or a second tap while the first is
//! still being written to IndexedDB, must not log a note twice, store two answer sheets or
//! flip a toggle back. Every button that writes goes through [`WriteOnce`].

use std::future::Future;
use std::time::Duration;

use leptos::prelude::*;

/// How long a button stays "done" after its write landed: a double tap's second touch comes
/// within this, and a person sees that the first one took.
const HOLD_AFTER_WRITE: Duration = Duration::from_millis(900);

#[derive(Clone, Copy, PartialEq, Eq)]
enum Phase {
    Ready,
    Writing,
    Written,
}

/// The writes of one page, one at a time. It lives above the part of the page that is rebuilt
/// when the record changes (the write itself changes it), or the rebuilt button would be ready
/// again for the double tap's second touch.
#[derive(Clone, Copy)]
pub struct WriteOnce {
    phase: RwSignal<Phase>,
    /// Which button started the write, for its words.
    button: RwSignal<&'static str>,
}

impl WriteOnce {
    pub fn new() -> Self {
        Self { phase: RwSignal::new(Phase::Ready), button: RwSignal::new("") }
    }

    /// The page's writer: the one the page provided, or a new one.
    pub fn of_page() -> Self {
        use_context::<Self>().unwrap_or_default()
    }

    /// Call in the page component, outside the part that is rebuilt.
    pub fn provide() -> Self {
        let this = Self::new();
        provide_context(this);
        this
    }

    /// A tap now would be ignored (for `disabled`).
    pub fn busy(self) -> bool {
        self.phase.get() != Phase::Ready
    }

    /// The words of the button `button`: `idle`, or while its write runs 正在保存…, then
    /// 已保存 ✓ for a moment.
    pub fn label(self, button: &'static str, idle: &'static str) -> &'static str {
        if self.button.get() != button {
            return idle;
        }
        match self.phase.get() {
            Phase::Ready => idle,
            Phase::Writing => "正在保存…",
            Phase::Written => "已保存 ✓",
        }
    }

    /// Starts `write` unless a write of this button runs or just landed; `landed` gets its
    /// result. A refused write frees the button at once (the person corrects and taps again).
    pub fn run<T: 'static, E: ToString, F: Future<Output = Result<T, E>> + 'static>(
        self,
        button: &'static str,
        write: impl FnOnce() -> F,
        landed: impl FnOnce(Result<T, String>) + 'static,
    ) {
        if self.phase.get_untracked() != Phase::Ready {
            return;
        }
        self.button.set(button);
        self.phase.set(Phase::Writing);
        let future = write();
        leptos::task::spawn_local(async move {
            let result = future.await.map_err(|e| e.to_string());
            let ok = result.is_ok();
            landed(result);
            if !ok {
                self.phase.try_set(Phase::Ready);
                return;
            }
            self.phase.try_set(Phase::Written);
            gloo_timers::future::sleep(HOLD_AFTER_WRITE).await;
            self.phase.try_set(Phase::Ready);
        });
    }
}

impl Default for WriteOnce {
    fn default() -> Self {
        Self::new()
    }
}
