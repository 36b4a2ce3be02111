//! What the lists on screen show: the cached view at start, then what the worker sends.

use ledger::view_cache::LedgerView;
use ledger::worker_protocol::{put_all, put_visits, Changed, RecordUpdate};
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
        self.posts.set(view.posts);
        self.ratings.set(view.ratings);
        self.plans.set(view.plans);
        self.rules.set(view.rules);
        self.rounds.set(view.rounds);
        self.notices.set(view.notices);
    }

    /// Puts each changed record in place of its old self, touching only the lists it is in.
    pub(super) fn apply_updates(&self, updates: Vec<RecordUpdate>) {
        let changed = Changed::sort(updates);
        if !changed.visits.is_empty() {
            self.visits.update(|all| put_visits(all, changed.visits));
        }
        merge(self.problems, changed.problems, |r| &r.id);
        merge(self.enterprises, changed.enterprises, |r| &r.id);
        merge(self.pledges, changed.pledges, |r| &r.id);
        merge(self.surveys, changed.surveys, |r| &r.id);
        merge(self.posts, changed.posts, |r| &r.id);
        merge(self.ratings, changed.ratings, |r| &r.id);
        merge(self.plans, changed.plans, |r| &r.id);
        merge(self.rules, changed.rules, |r| &r.id);
        merge(self.rounds, changed.rounds, |r| &r.id);
        merge(self.notices, changed.notices, |r| &r.id);
    }
}

fn merge<T: Send + Sync + 'static>(list: RwSignal<Vec<T>>, changed: Vec<T>, id_of: fn(&T) -> &ledger::RecordId) {
    if !changed.is_empty() {
        list.update(|all| put_all(all, changed, id_of));
    }
}
