//! What the lists on screen show: the cached view at start, and re-reading records after
//! changes — record by record when the change notes say which, all of them otherwise.

use ledger::view_cache::{self, LedgerView, LedgerViewRef};
use ledger::{RecordId, Section};
use leptos::prelude::*;

use super::{LedgerService, Phase};
use crate::browser;
use crate::store::StoredDoc;

impl LedgerService {
    /// Shows the cached list at once, and lets the browser paint it before the document's
    /// long synchronous load begins.
    pub(super) async fn show_cached_view(self, stored: &StoredDoc) -> bool {
        let Some(view) = stored.view.as_ref().and_then(|v| view_cache::decode(&v.bytes)) else { return false };
        self.set_view(view);
        self.phase.set(Phase::Ready);
        browser::mark("pioneer:view-shown");
        browser::next_paint().await;
        true
    }

    pub(super) fn heads_key(&self) -> String {
        let Some(inner) = self.inner() else { return String::new() };
        let heads = inner.borrow_mut().ledger.heads();
        heads.iter().map(ToString::to_string).collect::<Vec<_>>().join(",")
    }

    /// Refreshes the cached list `delay_ms` from now, unless another save comes first: the
    /// cache costs a full encode, so it is written once things have settled, off the save path.
    pub(super) fn schedule_view_write(self, delay_ms: u32) {
        let generation = self.view_generation.get_value() + 1;
        self.view_generation.set_value(generation);
        leptos::task::spawn_local(async move {
            gloo_timers::future::TimeoutFuture::new(delay_ms).await;
            if self.view_generation.try_get_value() != Some(generation) {
                return;
            }
            let Some(inner) = self.inner() else { return };
            let store = inner.borrow().store.clone();
            let heads = self.heads_key();
            let Some(bytes) = self.with_view(view_cache::encode) else { return };
            // A failed cache write costs only speed at the next start.
            let _ = store.put_view(&self.key(), &heads, &bytes).await;
        });
    }

    pub(super) fn set_view(&self, view: LedgerView) {
        self.field_problems.set(view.field_problems);
        self.visits.set(view.visits);
        self.problems.set(view.problems);
        self.enterprises.set(view.enterprises);
        self.pledges.set(view.pledges);
        self.surveys.set(view.surveys);
    }

    /// Runs `f` on the lists as shown, borrowed (None once the app is gone).
    pub(super) fn with_view<R>(&self, f: impl FnOnce(LedgerViewRef<'_>) -> R) -> Option<R> {
        self.visits.try_with_untracked(|visits| {
            self.problems.with_untracked(|problems| {
                self.enterprises.with_untracked(|enterprises| {
                    self.pledges.with_untracked(|pledges| {
                        self.surveys.with_untracked(|surveys| {
                            self.field_problems.with_untracked(|field_problems| f(LedgerViewRef { visits, problems, enterprises, pledges, surveys, field_problems }))
                        })
                    })
                })
            })
        })
    }

    pub(super) fn refresh_all(&self) {
        let Some(inner) = self.inner() else { return };
        let view = {
            let mut i = inner.borrow_mut();
            i.shown = i.ledger.heads();
            LedgerView::read(&i.ledger)
        };
        self.set_view(view);
    }

    /// Shows what changed since the lists were last read: record by record when the changes
    /// say which records they touched (a save, a few changes from another phone), or everything.
    pub(super) fn refresh_changed(&self) {
        /// Past this many records one full read is cheaper than many single ones.
        const MAX_SINGLE: usize = 200;
        let Some(inner) = self.inner() else { return };
        let changed = {
            let mut i = inner.borrow_mut();
            let shown = std::mem::take(&mut i.shown);
            let changed = i.ledger.changed_records(&shown);
            i.shown = i.ledger.heads();
            changed
        };
        match changed {
            Some(records) if records.len() <= MAX_SINGLE => {
                for (section, id) in records {
                    self.refresh_one(section, &id);
                }
            }
            _ => self.refresh_all(),
        }
    }

    /// Re-reads one record, rather than the whole ledger.
    pub(super) fn refresh_one(&self, section: Section, id: &RecordId) {
        let Some(inner) = self.inner() else { return };
        let i = inner.borrow();
        let l = &i.ledger;
        match section {
            Section::Visits => replace(self.visits, l.visit(id), |v| &v.id, id),
            Section::Problems => replace(self.problems, l.problem(id), |v| &v.id, id),
            Section::Enterprises => replace(self.enterprises, l.enterprise(id), |v| &v.id, id),
            Section::Pledges => replace(self.pledges, l.pledge(id), |v| &v.id, id),
            Section::Surveys => replace(self.surveys, l.survey(id), |v| &v.id, id),
        }
    }
}

fn replace<T: Clone + Send + Sync + 'static>(signal: RwSignal<Vec<T>>, read: Result<T, ledger::LedgerError>, id_of: fn(&T) -> &RecordId, id: &RecordId) {
    let Ok(record) = read else { return };
    signal.update(|all| match all.iter_mut().find(|r| id_of(r) == id) {
        Some(slot) => *slot = record,
        None => all.push(record),
    });
}
