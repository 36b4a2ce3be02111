//! 总览: one row per unit below the node with its figures; a node's row sums the units below
//! it. A unit's name drills down (the node becomes that unit); stale units are marked.

use ledger::rate::per_cent;
use leptos::prelude::*;

use crate::api::{local_time, Overview, OverviewRow};
use crate::supervise::{answer, api_url, fetch, Desk};
use http_api::route::{Route, View};

#[component]
pub fn OverviewPage() -> impl IntoView {
    let desk = expect_context::<Desk>();
    let (url, data) = fetch::<Overview>(move || api_url("overview", &desk.query(), ""));
    answer(url, data, move |o: Overview| view! { <OverviewBody overview=o/> })
}

/// Where the supervisor stands: their nodes, and the path down to the node shown.
#[component]
pub fn Breadcrumbs(overview: Overview) -> impl IntoView {
    let desk = expect_context::<Desk>();
    let go = move |unit: String| desk.set("node", &unit);
    let up = (overview.path.len() > 1).then(|| overview.path[overview.path.len() - 2].clone());
    view! {
        <p class="crumbs" data-testid="crumbs">
            {up.map(|u| { let unit = u.unit.clone(); view! { <a href="#" class="up" data-testid="up" on:click=move |ev| { ev.prevent_default(); go(unit.clone()) }>{format!("‹ 返回{}", u.name)}</a>"　" } })}
            {overview.path.iter().enumerate().map(|(i, u)| {
                let unit = u.unit.clone();
                view! { {(i > 0).then_some(" › ")}<a href="#" on:click=move |ev| { ev.prevent_default(); go(unit.clone()) }>{u.name.clone()}</a> }
            }).collect_view()}
            {(overview.nodes.len() > 1).then(|| view! {
                <span class="muted">"　督查范围："</span>
                {overview.nodes.iter().map(|u| { let unit = u.unit.clone(); view! { <a href="#" on:click=move |ev| { ev.prevent_default(); go(unit.clone()) }>{u.name.clone()}</a>" " } }).collect_view()}
            })}
        </p>
    }
}

fn freshness(row: &OverviewRow, stale_days: i64) -> AnyView {
    if !row.ledger {
        return match row.stale_below {
            0 => view! { <span class="muted">"—"</span> }.into_any(),
            n => view! { <span class="stale-mark" title=format!("{n} 个单位超过 {stale_days} 天没有设备同步")>{format!("{n} 个单位数据滞后")}</span> }.into_any(),
        };
    }
    let sync = row.last_sync.map_or("从未同步".to_owned(), |t| format!("同步 {}", local_time(t)));
    let change = row.changed_at.map_or(String::new(), |t| format!("；最近修改 {}", local_time(t)));
    if row.stale {
        view! { <span class="stale-mark" data-testid="stale" title=format!("超过 {stale_days} 天没有设备同步，数据可能不是最新的")>"数据滞后 · "{sync}{change}</span> }.into_any()
    } else {
        view! { <span class="muted">{sync}{change}</span> }.into_any()
    }
}

#[component]
fn OverviewBody(overview: Overview) -> impl IntoView {
    let desk = expect_context::<Desk>();
    let stale_days = overview.stale_after_days;
    let rows = overview
        .rows
        .iter()
        .map(|r| {
            let unit = r.unit.clone();
            // A unit with a ledger opens its problems; a node opens the units below it.
            let is_ledger = r.ledger;
            let drill = {
                let unit = unit.clone();
                move |ev: leptos::ev::MouseEvent| {
                    ev.prevent_default();
                    if is_ledger {
                        desk.go(Route { view: View::Problems, query: desk.route.get_untracked().query.with("node", &unit) });
                    } else {
                        desk.set("node", &unit);
                    }
                }
            };
            // Each figure opens the list it counts: the problems of that unit with that status.
            let figure = |n: usize, view: View, status: &'static str, col: &'static str| {
                let unit = unit.clone();
                let open = move |ev: leptos::ev::MouseEvent| {
                    ev.prevent_default();
                    let query = desk.route.get_untracked().query.with("node", &unit);
                    let query = if status.is_empty() { query } else { query.with("status", status) };
                    desk.go(Route { view: view.clone(), query });
                };
                view! { <td class="num" class:alert={col == "overdue" && n > 0} data-col=col><a href="#" on:click=open>{n}</a></td> }
            };
            let f = &r.figures;
            let kinds = overview.visit_kinds.iter().zip(f.visits_by_kind).filter(|(_, n)| *n > 0).map(|(k, n)| format!("{k} {n}")).collect::<Vec<_>>().join("，");
            view! {
                <tr class:node=!r.ledger class:stale=r.stale data-unit=r.name.clone()>
                    <td class=crate::depth_class(r.depth)><a href="#" on:click=drill>{r.name.clone()}</a>" "<span class="muted small">{r.kind.clone()}</span></td>
                    <td class="num" title=kinds data-col="visits">{r.visits}</td>
                    {figure(f.raised, View::Problems, "", "raised")}
                    {figure(f.pending, View::Problems, "pending", "pending")}
                    {figure(f.in_progress, View::Problems, "in_progress", "in_progress")}
                    {figure(f.resolved, View::Problems, ledger::report::StatusFilter::CLOSED, "resolved")}
                    {figure(f.overdue, View::Overdue, "", "overdue")}
                    <td class="num" data-col="in_time">{per_cent(r.in_time)}</td>
                    <td class="num" data-col="satisfaction">{per_cent(r.satisfaction)}</td>
                    <td class="num" data-col="pledges">{format!("{} / {} / {}", f.pledges_public, f.pledges_fulfilled, f.pledges_overdue)}</td>
                    <td class="num" data-col="survey">{per_cent(r.survey)}</td>
                    <td class="num" class:alert={f.cases_overdue > 0} data-col="ratings">{ratings_cell(f)}</td>
                    <td class="fresh">{freshness(r, stale_days)}</td>
                </tr>
            }
        })
        .collect_view();
    let series = overview.series.clone();
    let categories = overview.categories.clone();
    let to_overdue = move |ev: leptos::ev::MouseEvent| {
        ev.prevent_default();
        desk.go(Route { view: View::Overdue, query: desk.route.get_untracked().query });
    };
    view! {
        <Breadcrumbs overview=overview.clone()/>
        <section class="card">
            <h2>{overview.period.label.clone()}" · 各单位情况"</h2>
            <p class="muted small">"登记、办理、办结、按期办结率、回访满意率按本期登记的问题计；逾期为当前仍未办结且已过时限的问题（"<a href="#" on:click=to_overdue>"逾期清单"</a>"）；承诺为本期作出的承诺（公开 / 已兑现 / 逾期）；测评为各单位截至期末最近一轮；群众评价为本期先锋广场收到的评价的满意率（条数），及未办结的差评（其中逾期）。超过 "{stale_days}" 天没有设备同步的单位标为“数据滞后”。"</p>
            <table class="grid overview" data-testid="overview">
                <thead><tr><th>"单位"</th><th>"走访"</th><th>"登记问题"</th><th>"待办"</th><th>"办理中"</th><th>"已办结"</th><th>"逾期"</th><th>"按期办结率"</th><th>"回访满意率"</th><th>"承诺"</th><th>"测评满意率"</th><th>"群众评价"</th><th>"数据"</th></tr></thead>
                <tbody>{rows}</tbody>
            </table>
        </section>
        <section class="card charts">
            <crate::charts::Monthly series=series.clone()/>
            <crate::charts::ByCategory series=series.clone() labels=categories/>
            <crate::charts::Rounds series=series/>
        </section>
    }
}

/// 群众评价: the period's board ratings (satisfied share and count), and the 差评 still open.
pub fn ratings_cell(f: &ledger::report::Figures) -> String {
    let rated = if f.ratings == 0 { "—".to_owned() } else { format!("{}（{} 条）", per_cent(f.ratings_per_mille()), f.ratings) };
    match (f.cases_open, f.cases_overdue) {
        (0, _) => rated,
        (open, 0) => format!("{rated} · 差评 {open}"),
        (open, late) => format!("{rated} · 差评 {open}（逾期 {late}）"),
    }
}
