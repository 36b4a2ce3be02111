//! What the lists on screen show: the cached view at start, then what the worker sends.

use ledger::view_cache::LedgerView;
use ledger::worker_protocol::{put, RecordUpdate};
use leptos::prelude::*;

use super::LedgerService;

impl LedgerService {
    pub(super) fn set_view(&self, view: LedgerView) {
        self.field_problems.set(view.field_problems);
        self.visits.set(view.visits);
        self.problems.set(view.problems);
        self.enterprises.set(view.enterprises);
        self.pledges.set(view.pledges);
        self.surveys.set(view.surveys);
    }

    /// Puts each changed record in place of its old self, touching only the lists it is in.
    pub(super) fn apply_updates(&self, updates: Vec<RecordUpdate>) {
        let (mut visits, mut problems, mut enterprises, mut pledges, mut surveys) = (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for update in updates {
            match update {
                RecordUpdate::Visit(r) => visits.push(r),
                RecordUpdate::Problem(r) => problems.push(r),
                RecordUpdate::Enterprise(r) => enterprises.push(r),
                RecordUpdate::Pledge(r) => pledges.push(r),
                RecordUpdate::Survey(r) => surveys.push(r),
            }
        }
        merge(self.visits, visits, |r| &r.id);
        merge(self.problems, problems, |r| &r.id);
        merge(self.enterprises, enterprises, |r| &r.id);
        merge(self.pledges, pledges, |r| &r.id);
        merge(self.surveys, surveys, |r| &r.id);
    }
}

fn merge<T: Send + Sync + 'static>(list: RwSignal<Vec<T>>, changed: Vec<T>, id_of: fn(&T) -> &ledger::RecordId) {
    if changed.is_empty() {
        return;
    }
    list.update(|all| {
        for record in changed {
            put(all, record, id_of);
        }
    });
}
