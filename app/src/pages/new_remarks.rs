//! 督办意见 a cadre has not seen yet: a supervisor's remark that arrived by sync is flagged on
//! the problem's card, counted on the 问题 tab and announced on the first screen, until the
//! problem is opened on this phone.
//!
//! What was seen is the time of the newest remark shown, per problem, kept as a small setting
//! beside the ledger.

use std::collections::HashMap;

use ledger::Problem;
use leptos::prelude::*;

use crate::service::LedgerService;
use crate::settings::{remarks_seen, Setting};

#[derive(Clone, Copy)]
pub struct RemarksSeen {
    /// The storage key of the ledger the remarks are of.
    ledger_key: StoredValue<String>,
    seen: RwSignal<HashMap<String, i64>>,
}

fn newest(problem: &Problem) -> Option<i64> {
    problem.supervision.iter().map(|r| r.at).max()
}

impl RemarksSeen {
    /// For the ledger stored under `ledger_key`.
    pub fn new(ledger_key: &str) -> Self {
        let seen = remarks_seen(ledger_key).get().unwrap_or_default();
        Self { ledger_key: StoredValue::new(ledger_key.to_owned()), seen: RwSignal::new(seen) }
    }

    /// Whether `problem` holds a remark newer than any shown on this phone.
    pub fn is_new(&self, problem: &Problem) -> bool {
        let Some(newest) = newest(problem) else { return false };
        self.seen.with(|seen| seen.get(problem.id.as_str()).is_none_or(|at| newest > *at))
    }

    /// The problem's remarks were shown.
    pub fn saw(&self, problem: &Problem) {
        let Some(newest) = newest(problem) else { return };
        if !self.is_new(problem) {
            return;
        }
        self.seen.update(|seen| {
            seen.insert(problem.id.to_string(), newest);
        });
        let setting: Setting<HashMap<String, i64>> = remarks_seen(&self.ledger_key.get_value());
        self.seen.with_untracked(|seen| setting.set(seen));
    }
}

/// How many problems (not deleted) hold a remark not seen yet.
pub fn new_count(service: LedgerService, seen: RemarksSeen) -> Memo<usize> {
    Memo::new(move |_| service.problems.with(|all| all.iter().filter(|p| !p.deleted && seen.is_new(p)).count()))
}

/// A notice on the first screen while any problem holds a new remark; a tap lists problems.
#[component]
pub fn NewRemarksNotice() -> impl IntoView {
    let service = expect_context::<LedgerService>();
    let seen = expect_context::<RemarksSeen>();
    let count = new_count(service, seen);
    move || {
        let n = count.get();
        (n > 0)
            .then(|| view! { <a class="overdue-notice remark-notice" href="/problems" data-testid="new-remarks-notice">{format!("📌 {n} 件问题收到新的督办意见，点此查看")}</a> })
    }
}
