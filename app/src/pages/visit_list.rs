//! The visit list (走访记录): newest first, searchable and filterable offline.

use ledger::{filter_visits, Visit, VisitFilter, VisitKind};
use leptos::prelude::*;

use crate::service::LedgerService;

/// Cards rendered at once: a phone's screen shows six to eight, and twenty render within a
/// tap's time on a cheap phone however large the ledger; more on request (显示更多).
const PAGE: usize = 20;

/// The list's filter, kept at the root so it survives opening a visit and coming back.
#[derive(Clone, Copy)]
pub struct ListFilter {
    text: RwSignal<String>,
    kind: RwSignal<Option<VisitKind>>,
    from: RwSignal<String>,
    to: RwSignal<String>,
}

impl ListFilter {
    pub fn new() -> Self {
        Self { text: RwSignal::new(String::new()), kind: RwSignal::new(None), from: RwSignal::new(String::new()), to: RwSignal::new(String::new()) }
    }

    fn get(&self) -> VisitFilter {
        let date = |s: String| ledger::day::parse(&s);
        VisitFilter { text: self.text.get(), kind: self.kind.get(), from: date(self.from.get()), to: date(self.to.get()) }
    }
}

#[component]
pub fn VisitList() -> impl IntoView {
    let service = expect_context::<LedgerService>();
    let filter = expect_context::<ListFilter>();
    let limit = crate::pages::parts::card_limit(PAGE);
    let shown = Memo::new(move |_| {
        let f = filter.get();
        let n = limit.get();
        service.visits.with(|all| {
            let matched = filter_visits(all, &f);
            (matched.len(), matched.into_iter().take(n).cloned().collect::<Vec<Visit>>())
        })
    });
    let total = move || shown.with(|(n, _)| *n);
    // Open when a date is set, so a filter in force is never hidden on coming back to the list.
    let dates_open = RwSignal::new(!filter.from.get_untracked().is_empty() || !filter.to.get_untracked().is_empty());
    // Runs once the list is in the DOM: the moment the benchmarks call "interactive".
    crate::warm_up::mark_when_shown("pioneer:list-ready");

    view! {
        <section class="list-page">
            <crate::pages::problem_list::OverdueNotice/>
            <crate::pages::new_remarks::NewRemarksNotice/>
            <div class="search">
                <input type="search" placeholder="搜索走访对象、地点、内容…" aria-label="搜索"
                    prop:value=move || filter.text.get()
                    on:input=move |ev| { filter.text.set(event_target_value(&ev)); limit.set(PAGE); }/>
            </div>
            <div class="chips" role="group" aria-label="按类型筛选">
                <KindChip filter label="全部" kind=None/>
                {VisitKind::ALL.into_iter().map(|k| view! { <KindChip filter label=k.label() kind=Some(k)/> }).collect_view()}
            </div>
            // The date fields are made when the filter is opened: most taps on 走访 never open
            // it, and two date fields are the dearest part of drawing the list.
            <details class="date-range" prop:open=dates_open.get_untracked()
                on:toggle=move |ev| dates_open.set(event_target::<web_sys::Element>(&ev).has_attribute("open"))>
                <summary>"按日期筛选"</summary>
                <Show when=move || dates_open.get()>
                    <label>"从" <input type="date" aria-label="开始日期" prop:value=move || filter.from.get()
                        on:input=move |ev| filter.from.set(event_target_value(&ev))/></label>
                    <label>"到" <input type="date" aria-label="结束日期" prop:value=move || filter.to.get()
                        on:input=move |ev| filter.to.set(event_target_value(&ev))/></label>
                    <button class="link" on:click=move |_| { filter.from.set(String::new()); filter.to.set(String::new()); }>"清除日期"</button>
                </Show>
            </details>
            <ProblemsNotice/>
            <p class="muted count" data-testid="visit-count" data-live=move || service.live.get().to_string()>
                {move || format!("共 {} 条", total())}
                {move || (!service.live.get()).then(|| view! { <span class="loading">" · 正在载入…"</span> })}
            </p>
            <ul class="cards">
                <For each=move || shown.get().1 key=|v| (v.id.clone(), v.updated_at) let:visit>
                    <VisitCard visit/>
                </For>
            </ul>
            <Show when=move || { total() == 0 }>
                <p class="empty">{move || if service.visits.with(|v| v.iter().all(|v| v.deleted)) { "还没有走访记录。点右下角“记走访”开始。" } else { "没有符合条件的记录。" }}</p>
            </Show>
            <Show when=move || { total() > limit.get() && limit.get() >= PAGE }>
                <button class="button secondary wide" on:click=move |_| limit.update(|n| *n += PAGE)>"显示更多"</button>
            </Show>
            <a class="fab" href="/visits/new">"＋ 记走访"</a>
        </section>
    }
}

#[component]
fn KindChip(filter: ListFilter, label: &'static str, kind: Option<VisitKind>) -> impl IntoView {
    view! {
        <button class="chip" aria-pressed=move || (filter.kind.get() == kind).to_string()
            on:click=move |_| filter.kind.set(kind)>{label}</button>
    }
}

#[component]
fn VisitCard(visit: Visit) -> impl IntoView {
    let href = format!("/visits/{}", visit.id);
    let date = visit.date.map(|d| d.to_string()).unwrap_or_else(|| "日期不明".into());
    let snippet: String = visit.heard.chars().take(60).collect();
    view! {
        <li>
            <a class="card" href=href>
                <div class="card-head">
                    <span class="date">{date}</span>
                    <span class=format!("kind kind-{}", visit.kind.code())>{visit.kind.label()}</span>
                    {visit.follow_up_needed.then(|| view! { <span class="tag">"需跟进"</span> })}
                </div>
                <div class="whom">{visit.whom.clone()}
                    {(!visit.place.is_empty()).then(|| view! { <span class="place">" · " {visit.place.clone()}</span> })}
                </div>
                <div class="snippet">{snippet}</div>
            </a>
        </li>
    }
}

#[component]
fn ProblemsNotice() -> impl IntoView {
    let service = expect_context::<LedgerService>();
    view! {
        <Show when=move || service.field_problems.with(|p| !p.is_empty())>
            <details class="notice">
                <summary>{move || format!("有 {} 处数据无法读取，其余记录不受影响", service.field_problems.with(Vec::len))}</summary>
                <ul>{move || service.field_problems.get().into_iter().take(20).map(|p| view! { <li>{p}</li> }).collect_view()}</ul>
            </details>
        </Show>
    }
}
