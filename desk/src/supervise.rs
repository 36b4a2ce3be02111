//! The supervisor's desk (督查台): figures of every unit below the supervisor's node, lists
//! across units, records with their history, 督办. The view and its filters live in the URL's
//! hash (see `http_api::route`); every answer is kept in this browser, so without a connection
//! the desk shows the last one it had, marked with its time.

use ledger::problem::{Category, Status, Urgency};
use leptos::prelude::*;
use leptos::task::spawn_local;
use serde::de::DeserializeOwned;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::JsCast;

use crate::api::{self, ApiError, Kept, Me};
use http_api::route::{Query, Route, View};

/// The route, shared by every part of the desk.
#[derive(Clone, Copy)]
pub struct Desk {
    pub route: RwSignal<Route>,
    /// Bumped to fetch the current view again (after a remark).
    pub reloads: RwSignal<u32>,
    /// The answer to the last action (a remark written, or refused with the reason). Kept here
    /// because the view is drawn again when its data is fetched again.
    pub notice: RwSignal<Option<Result<String, String>>>,
}

impl Desk {
    /// Goes to `route` (a new history entry: the back button returns).
    pub fn go(self, route: Route) {
        self.notice.set(None);
        if let Some(w) = web_sys::window() {
            let _ = w.location().set_hash(&route.hash());
        }
        self.route.set(route);
    }

    pub fn go_view(self, view: View) {
        let query = self.route.get_untracked().query;
        self.go(Route { view, query });
    }

    pub fn set(self, key: &str, value: &str) {
        let route = self.route.get_untracked();
        self.go(Route { query: route.query.with(key, value), view: route.view });
    }

    pub fn query(self) -> Query {
        self.route.get().query
    }
}

/// Tabs that go to a view of the route (the office's and the secretary's desks).
#[component]
pub fn ViewTabs(tabs: Vec<(View, &'static str)>) -> impl IntoView {
    let desk = expect_context::<Desk>();
    view! {
        <nav class="tabs">
            {tabs.into_iter().map(|(v, label)| {
                let (slug, active) = (v.slug(), v.clone());
                view! { <button class:active=move || desk.route.get().view == active data-tab=slug on:click=move |_| desk.go_view(v.clone())>{label}</button> }
            }).collect_view()}
        </nav>
    }
}

/// The desk's route, kept in the URL's hash and followed on back, forward and pasted links,
/// for every page below (the office's and the secretary's desks route their records too).
pub fn provide_desk() -> Desk {
    let desk = Desk { route: RwSignal::new(Route::parse(&current_hash())), reloads: RwSignal::new(0), notice: RwSignal::new(None) };
    provide_context(desk);
    let on_hash = Closure::<dyn Fn()>::new(move || {
        let route = Route::parse(&current_hash());
        if route != desk.route.get_untracked() {
            desk.route.set(route);
        }
    });
    if let Some(w) = web_sys::window() {
        let _ = w.add_event_listener_with_callback("hashchange", on_hash.as_ref().unchecked_ref());
    }
    on_hash.forget();
    desk
}

fn current_hash() -> String {
    web_sys::window().and_then(|w| w.location().hash().ok()).unwrap_or_default()
}

/// Fetches `url()` whenever it changes (or the desk reloads), keeping the answer with its URL
/// so a late answer for an older URL is never shown for the current one.
pub fn fetch<T: DeserializeOwned + Clone + Send + Sync + 'static>(
    url: impl Fn() -> String + Send + Sync + 'static,
) -> (Memo<String>, RwSignal<Option<(String, Result<Kept<T>, ApiError>)>>) {
    let desk = expect_context::<Desk>();
    let url = Memo::new(move |_| url());
    let data = RwSignal::new(None);
    Effect::new(move |_| {
        let u = url.get();
        desk.reloads.track();
        spawn_local(async move {
            let answer = api::get_kept::<T>(&u).await;
            data.set(Some((u, answer)));
        });
    });
    (url, data)
}

/// Shows what `fetch` brought for the current URL: loading, the refusal, or `show` with a note
/// when the answer is one kept from before (no connection).
pub fn answer<T: Clone + Send + Sync + 'static, V: IntoView + 'static>(
    url: Memo<String>,
    data: RwSignal<Option<(String, Result<Kept<T>, ApiError>)>>,
    show: impl Fn(T) -> V + Send + Sync + 'static,
) -> impl IntoView {
    move || match data.get() {
        Some((u, answer)) if u == url.get() => match answer {
            Ok(Kept { value, from }) => view! {
                {from.map(|at| view! { <p class="offline" role="status" data-testid="offline">"未连接服务器：以下是 "{api::local_time_ms(at)}" 的数据"</p> })}
                {show(value)}
            }
            .into_any(),
            Err(e) => view! { <p class="error" role="alert">{e.message()}</p> }.into_any(),
        },
        _ => view! { <p class="muted">"正在读取…"</p> }.into_any(),
    }
}

/// `/api/desk/<what>?<the route's query>` (and `extra`).
pub fn api_url(what: &str, query: &Query, extra: &str) -> String {
    let q = query.encode();
    let joined: Vec<&str> = [q.as_str(), extra].into_iter().filter(|s| !s.is_empty()).collect();
    if joined.is_empty() {
        format!("/api/desk/{what}")
    } else {
        format!("/api/desk/{what}?{}", joined.join("&"))
    }
}

#[component]
pub fn SupervisorDesk(me: Me, on_signed_out: impl Fn() + Copy + Send + Sync + 'static) -> impl IntoView {
    let desk = provide_desk();
    let nodes: Vec<String> = me.roles.iter().filter(|r| r.role == "supervisor").map(|r| r.path.clone()).collect();
    let sign_out = move |_| {
        spawn_local(async move {
            let _ = api::post::<serde_json::Value>("/api/logout", &serde_json::json!({})).await;
            api::forget_kept();
            on_signed_out();
        })
    };
    view! {
        <header class="bar">
            <strong>"先锋台账 · 督查台"</strong>
            <span class="who" data-testid="who">{me.person.name.clone()}" · 督查 · "{nodes.join("，")}</span>
            <button class="plain" on:click=sign_out>"退出登录"</button>
        </header>
        <nav class="tabs">
            {View::TABS.into_iter().map(|v| {
                let slug = v.slug();
                let active = v.clone();
                view! { <button class:active=move || desk.route.get().view == active data-tab=slug on:click=move |_| desk.go_view(v.clone())>{v.label()}</button> }
            }).collect_view()}
        </nav>
        {move || {
            let view = desk.route.get().view;
            match view {
                View::Record { ledger, section, id } => view! { <crate::record::RecordPage ledger=ledger section=section id=id/> }.into_any(),
                View::Person { id } => view! { <crate::achievement::PersonPage id=id/> }.into_any(),
                View::Records => view! { <crate::achievement::PeoplePage/> }.into_any(),
                view => view! {
                    // Posts stand until removed: no period or problem filter applies to them.
                    {(!matches!(view, View::Posts | View::Tasks)).then(|| view! { <Filters show_sort=view == View::Overdue/> })}
                    {match view {
                        View::Overview => view! { <crate::overview::OverviewPage/> }.into_any(),
                        View::Overdue => view! { <crate::lists::ProblemList overdue=true/> }.into_any(),
                        View::Problems => view! { <crate::lists::ProblemList overdue=false/> }.into_any(),
                        View::Pledges => view! { <crate::lists::PledgeList/> }.into_any(),
                        View::Posts => view! { <crate::lists::PostList/> }.into_any(),
                        View::Tasks => view! { <crate::lists::TaskList/> }.into_any(),
                        View::Cases => view! { <crate::cases::CaseList/> }.into_any(),
                        _ => view! { <crate::report::ReportPage/> }.into_any(),
                    }}
                }.into_any(),
            }
        }}
    }
}

/// What a period choice is: a month, a quarter, a year or a range of days.
fn period_kind(period: &str) -> &'static str {
    if period.contains("..") {
        "range"
    } else if period.contains("-Q") {
        "quarter"
    } else if period.contains('-') || period.is_empty() {
        "month"
    } else {
        "year"
    }
}

/// The period and problem filters, written into the URL as they change.
#[component]
fn Filters(show_sort: bool) -> impl IntoView {
    let desk = expect_context::<Desk>();
    let today = js_sys::Date::new_0();
    let (year, month, day) = (today.get_full_year() as i32, today.get_month() + 1, today.get_date());
    let default_for = move |kind: &str| match kind {
        "quarter" => format!("{year}-Q{}", (month + 2) / 3),
        "year" => format!("{year}"),
        "range" => format!("{year}-{month:02}-01..{year}-{month:02}-{day:02}"),
        _ => format!("{year}-{month:02}"),
    };
    let kind = move || period_kind(&desk.query().period);
    let choose_kind = move |ev: leptos::ev::Event| desk.set("period", &default_for(&event_target_value(&ev)));
    let select = |key: &'static str, label: &'static str, options: Vec<(&'static str, &'static str)>| {
        view! {
            <label>{label}
                <select name=key prop:value=move || desk.query().get(key).to_owned() on:change=move |ev| desk.set(key, &event_target_value(&ev))>
                    <option value="">"全部"</option>
                    {options.into_iter().map(|(code, label)| view! { <option value=code>{label}</option> }).collect_view()}
                </select>
            </label>
        }
    };
    let period_input = move || {
        let p = desk.query().period;
        let p = if p.is_empty() { default_for("month") } else { p };
        match kind() {
            "range" => {
                let (from, to) = p.split_once("..").map(|(a, b)| (a.to_owned(), b.to_owned())).unwrap_or_default();
                let (f2, t2) = (from.clone(), to.clone());
                view! {
                    <label>"从"<input type="date" name="from" prop:value=from on:change=move |ev| desk.set("period", &format!("{}..{t2}", event_target_value(&ev)))/></label>
                    <label>"到"<input type="date" name="to" prop:value=to on:change=move |ev| desk.set("period", &format!("{f2}..{}", event_target_value(&ev)))/></label>
                }
                .into_any()
            }
            "month" => view! { <label>"月份"<input type="month" name="month" prop:value=p on:change=move |ev| desk.set("period", &event_target_value(&ev))/></label> }.into_any(),
            _ => view! { <label>{if kind() == "year" { "年份（如 2026）" } else { "季度（如 2026-Q4）" }}<input name="period" prop:value=p on:change=move |ev| desk.set("period", event_target_value(&ev).trim())/></label> }.into_any(),
        }
    };
    let categories: Vec<_> = Category::ALL.iter().map(|c| (c.code(), c.label())).collect();
    let mut statuses: Vec<_> = Status::ALL.iter().map(|s| (s.code(), s.label())).collect();
    statuses.push((ledger::report::StatusFilter::CLOSED, "已办结（含已回访）"));
    let urgencies: Vec<_> = Urgency::ALL.iter().map(|u| (u.code(), u.label())).collect();
    view! {
        <form class="card inline filters" on:submit=|ev| ev.prevent_default()>
            <label>"统计期间"
                <select name="period-kind" prop:value=kind on:change=choose_kind>
                    <option value="month">"月"</option>
                    <option value="quarter">"季度"</option>
                    <option value="year">"年"</option>
                    <option value="range">"自定义"</option>
                </select>
            </label>
            {period_input}
            {select("category", "问题类别", categories)}
            {select("status", "办理状态", statuses)}
            {select("urgency", "紧急程度", urgencies)}
            <a class="button" data-testid="export" href=move || api_url("export.xlsx", &desk.query(), "") download="" title="按当前的期间和筛选导出单位汇总、问题台账、走访记录、承诺、测评和服务企业">"导出 Excel"</a>
            {show_sort.then(|| view! {
                <label>"排序"
                    <select name="sort" prop:value=move || desk.query().sort on:change=move |ev| desk.set("sort", &event_target_value(&ev))>
                        <option value="">"逾期天数"</option>
                        <option value="urgency">"紧急程度"</option>
                        <option value="unit">"单位"</option>
                    </select>
                </label>
            })}
        </form>
    }
}
