//! The problem ledger (突出问题清单): overdue problems first, filter by status, search offline.

use ledger::problem::{summarize_problems, Category, Status};
use ledger::record_query::{filter_problems, ProblemFilter};
use ledger::Problem;
use leptos::prelude::*;

use crate::browser;
use crate::service::LedgerService;

/// Cards rendered at once: a phone's screen shows six to eight, and twenty render within a
/// tap's time on a cheap phone however large the ledger; more on request (显示更多).
const PAGE: usize = 20;

/// Which problems the list shows; kept at the root so it survives opening one and coming back.
#[derive(Clone, Copy)]
pub struct ProblemListState {
    text: RwSignal<String>,
    /// None: all; Some(None): overdue only; Some(Some(s)): one status.
    view: RwSignal<Option<Option<Status>>>,
    category: RwSignal<Option<Category>>,
}

impl ProblemListState {
    pub fn new() -> Self {
        Self { text: RwSignal::new(String::new()), view: RwSignal::new(None), category: RwSignal::new(None) }
    }

    /// The list as the overdue notice opens it: overdue problems only.
    pub fn show_overdue(&self) {
        self.text.set(String::new());
        self.category.set(None);
        self.view.set(Some(None));
    }
}

/// How many problems are past their 时限, for the tab bar and the first screen.
pub fn overdue_count(service: LedgerService) -> Memo<usize> {
    let today = browser::today();
    Memo::new(move |_| service.problems.with(|all| summarize_problems(all, today).overdue))
}

/// A notice on the first screen while any problem is overdue; a tap lists them.
#[component]
pub fn OverdueNotice() -> impl IntoView {
    let service = expect_context::<LedgerService>();
    let state = expect_context::<ProblemListState>();
    let overdue = overdue_count(service);
    move || {
        let n = overdue.get();
        (n > 0).then(|| {
            view! {
                <a class="overdue-notice" href="/problems" data-testid="overdue-notice" on:click=move |_| state.show_overdue()>
                    {format!("⚠ {n} 件问题已逾期，点此查看")}
                </a>
            }
        })
    }
}

#[component]
pub fn ProblemList() -> impl IntoView {
    let service = expect_context::<LedgerService>();
    let state = expect_context::<ProblemListState>();
    let limit = crate::pages::parts::card_limit(PAGE);
    let today = browser::today();
    let shown = Memo::new(move |_| {
        let filter = ProblemFilter {
            text: state.text.get(),
            status: state.view.get().flatten(),
            overdue_only: state.view.get() == Some(None),
            category: state.category.get(),
            ..Default::default()
        };
        let n = limit.get();
        service.problems.with(|all| {
            let matched = filter_problems(all, &filter, today);
            (matched.len(), matched.into_iter().take(n).cloned().collect::<Vec<Problem>>())
        })
    });
    crate::warm_up::mark_when_shown("pioneer:problems-ready");
    let summary = Memo::new(move |_| service.problems.with(|all| summarize_problems(all, today)));
    let chip = move |label: String, view: Option<Option<Status>>| {
        view! {
            <button class="chip" aria-pressed=move || (state.view.get() == view).to_string()
                on:click=move |_| { state.view.set(view); limit.set(PAGE); }>{label}</button>
        }
    };
    view! {
        <section class="list-page">
            <div class="search">
                <input type="search" placeholder="搜索问题、责任人、办理结果…" aria-label="搜索问题"
                    prop:value=move || state.text.get()
                    on:input=move |ev| { state.text.set(event_target_value(&ev)); limit.set(PAGE); }/>
            </div>
            <div class="chips" role="group" aria-label="按状态筛选">
                {chip("全部".into(), None)}
                {move || { let n = summary.with(|s| s.overdue); chip(format!("逾期 {n}"), Some(None)) }}
                {Status::ALL.iter().map(|s| chip(s.label().into(), Some(Some(*s)))).collect_view()}
            </div>
            <select class="category-filter" aria-label="按类别筛选" on:change=move |ev| {
                state.category.set(Category::from_code(&event_target_value(&ev)));
                limit.set(PAGE);
            }>
                <option value="" selected=move || state.category.get().is_none()>"全部类别"</option>
                {Category::ALL.iter().map(|c| view! { <option value=c.code() selected=move || state.category.get() == Some(*c)>{c.label()}</option> }).collect_view()}
            </select>
            <p class="summary" data-testid="problem-summary">{move || summary.with(|s| {
                let mut parts: Vec<String> = s.by_status.iter().filter(|(_, n)| *n > 0).map(|(st, n)| format!("{} {n}", st.label())).collect();
                if s.followed_up > 0 {
                    parts.push(format!("回访满意率 {}", ledger::rate::per_cent_of(s.satisfied, s.followed_up)));
                }
                parts.join(" · ")
            })}</p>
            <p class="muted count" data-testid="problem-count">{move || format!("共 {} 件", shown.with(|(n, _)| *n))}</p>
            <ul class="cards">
                <For each=move || shown.get().1 key=|p| (p.id.clone(), p.updated_at, p.conflicts.len()) let:problem>
                    <ProblemCard problem today/>
                </For>
            </ul>
            <Show when=move || shown.with(|(n, _)| *n == 0)>
                <p class="empty">"没有符合条件的问题。"</p>
            </Show>
            <Show when=move || { shown.with(|(n, _)| *n > limit.get()) && limit.get() >= PAGE }>
                <button class="button secondary wide" on:click=move |_| limit.update(|n| *n += PAGE)>"显示更多"</button>
            </Show>
            <a class="fab" href="/problems/new">"＋ 登记问题"</a>
        </section>
    }
}

#[component]
pub fn ProblemCard(problem: Problem, today: chrono::NaiveDate) -> impl IntoView {
    let overdue = problem.is_overdue(today);
    let new_remark = use_context::<crate::pages::new_remarks::RemarksSeen>().is_some_and(|seen| seen.is_new(&problem));
    view! {
        <li>
            <a class=if overdue { "card overdue" } else { "card" } href=format!("/problems/{}", problem.id)>
                <div class="card-head">
                    <span class=format!("status status-{}", problem.status.code())>{problem.status.label()}</span>
                    {overdue.then(|| view! { <span class="tag danger">"逾期"</span> })}
                    {(!problem.conflicts.is_empty()).then(|| view! { <span class="tag">"有冲突"</span> })}
                    {new_remark.then(|| view! { <span class="tag remark" data-testid="new-remark">"新督办意见"</span> })}
                    <span class="muted small">{problem.category.label()}</span>
                </div>
                <div class="whom">{problem.title.clone()}</div>
                <div class="snippet">
                    {(!problem.responsible.is_empty()).then(|| format!("责任人 {} ", problem.responsible))}
                    {problem.deadline.map(|d| format!("时限 {d}"))}
                </div>
            </a>
        </li>
    }
}
