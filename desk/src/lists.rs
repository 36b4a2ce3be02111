//! Lists across the units below the node: problems (every overdue one, or those raised in the
//! period), pledges, posts and the approved plans' tasks. A row opens its record.

use leptos::prelude::*;

use crate::api::{List, PledgeRow, PostRow, ProblemRow};
use crate::supervise::{answer, api_url, fetch, Desk};
use http_api::desk::TaskRow;
use http_api::route::{Route, View};

fn open(desk: Desk, ledger: String, section: &'static str, id: String) {
    let query = desk.route.get_untracked().query;
    desk.go(Route { view: View::Record { ledger, section: section.into(), id }, query });
}

#[component]
pub fn ProblemList(overdue: bool) -> impl IntoView {
    let desk = expect_context::<Desk>();
    let (url, data) = fetch::<List<ProblemRow>>(move || api_url("problems", &desk.query(), if overdue { "overdue=1" } else { "" }));
    answer(url, data, move |list: List<ProblemRow>| {
        let title = if overdue { format!("逾期问题（截至 {}）", list.today) } else { format!("{} 登记的问题", list.period.label) };
        let rows = list
            .rows
            .into_iter()
            .map(|p| {
                let (ledger, id) = (p.ledger.clone().unwrap_or_default(), p.id.clone());
                view! {
                    <tr class="link" data-problem=p.title.clone() on:click=move |_| open(desk, ledger.clone(), "problems", id.clone())>
                        <td>{p.unit_path.clone()}</td>
                        <td>{p.title.clone()}</td>
                        <td>{p.category.clone()}</td>
                        <td class=format!("urgency-{}", p.urgency_code)>{p.urgency.clone()}</td>
                        <td>{p.status.clone()}</td>
                        <td>{p.responsible.clone()}</td>
                        <td>{p.raised_on.clone().unwrap_or_default()}</td>
                        <td>{p.deadline.clone().unwrap_or_default()}</td>
                        <td class="num" class:alert=p.days_overdue.is_some()>{p.days_overdue.map(|d| format!("{d} 天")).unwrap_or_default()}</td>
                        <td class="num">{(p.remarks > 0).then(|| format!("{} 条", p.remarks))}</td>
                    </tr>
                }
            })
            .collect_view();
        view! {
            <section class="card">
                <h2>{title}" · 共 "{list.total}" 条"</h2>
                {(list.total == 0).then(|| view! { <p class="muted">"没有符合条件的问题"</p> })}
                <table class="grid" data-testid="problems">
                    <thead><tr><th>"单位"</th><th>"问题"</th><th>"类别"</th><th>"紧急程度"</th><th>"状态"</th><th>"责任人"</th><th>"登记"</th><th>"时限"</th><th>"逾期"</th><th>"督办"</th></tr></thead>
                    <tbody>{rows}</tbody>
                </table>
            </section>
        }
    })
}

#[component]
pub fn PledgeList() -> impl IntoView {
    let desk = expect_context::<Desk>();
    let (url, data) = fetch::<List<PledgeRow>>(move || api_url("pledges", &desk.query(), ""));
    answer(url, data, move |list: List<PledgeRow>| {
        let rows = list
            .rows
            .into_iter()
            .map(|p| {
                let (ledger, id) = (p.ledger.clone(), p.id.clone());
                let state = if p.fulfilled {
                    "已兑现"
                } else if p.overdue {
                    "逾期未兑现"
                } else {
                    "践诺中"
                };
                view! {
                    <tr class="link" class:alert=p.overdue on:click=move |_| open(desk, ledger.clone(), "pledges", id.clone())>
                        <td>{p.unit_path.clone()}</td>
                        <td>{p.content.clone()}</td>
                        <td>{p.by.clone()}</td>
                        <td>{p.due.clone().unwrap_or_default()}</td>
                        <td>{if p.public { "公开" } else { "内部" }}</td>
                        <td>{state}</td>
                        <td class="num">{p.progress}</td>
                        <td class="num">{if p.evaluations == 0 { "—".to_owned() } else { format!("{} / {} 满意", p.evaluations_good, p.evaluations) }}</td>
                    </tr>
                }
            })
            .collect_view();
        view! {
            <section class="card">
                <h2>{list.period.label.clone()}" 作出的承诺 · 共 "{list.total}" 项"</h2>
                <table class="grid" data-testid="pledges">
                    <thead><tr><th>"单位"</th><th>"承诺内容"</th><th>"承诺人"</th><th>"期限"</th><th>"公开"</th><th>"兑现"</th><th>"进展"</th><th>"评议"</th></tr></thead>
                    <tbody>{rows}</tbody>
                </table>
            </section>
        }
    })
}

/// 设岗定责: every unit's posts, published ones first, with how residents rated each.
#[component]
pub fn PostList() -> impl IntoView {
    let desk = expect_context::<Desk>();
    let (url, data) = fetch::<List<PostRow>>(move || api_url("posts", &desk.query(), ""));
    answer(url, data, move |list: List<PostRow>| {
        let rows = list
            .rows
            .into_iter()
            .map(|p| {
                let (ledger, id) = (p.ledger.clone(), p.id.clone());
                view! {
                    <tr class="link" data-post=p.title.clone() on:click=move |_| open(desk, ledger.clone(), "posts", id.clone())>
                        <td>{p.unit_path.clone()}</td>
                        <td>{p.title.clone()}</td>
                        <td>{p.holder.clone()}</td>
                        <td>{if p.published { "已公开" } else { "未公开" }}</td>
                        <td class="num">{if p.ratings == 0 { "—".to_owned() } else { format!("{} / {} 满意", p.ratings_good, p.ratings) }}</td>
                    </tr>
                }
            })
            .collect_view();
        view! {
            <section class="card">
                <h2>"设岗定责 · 共 "{list.total}" 个岗位"</h2>
                {(list.total == 0).then(|| view! { <p class="muted">"下属单位还没有设立岗位（由各单位书记在手机“广场”中设立并公开）"</p> })}
                <table class="grid" data-testid="posts">
                    <thead><tr><th>"单位"</th><th>"岗位"</th><th>"责任人"</th><th>"先锋广场"</th><th>"群众评价"</th></tr></thead>
                    <tbody>{rows}</tbody>
                </table>
            </section>
        }
    })
}

/// 方案任务: the tasks of every approved 实施方案 below the node, overdue first. Units report
/// nothing for this: each task is marked done in its unit's ledger.
#[component]
pub fn TaskList() -> impl IntoView {
    let desk = expect_context::<Desk>();
    let (url, data) = fetch::<List<TaskRow>>(move || api_url("tasks", &desk.query(), ""));
    answer(url, data, move |list: List<TaskRow>| {
        let overdue = list.rows.iter().filter(|t| t.overdue).count();
        let rows = list
            .rows
            .into_iter()
            .map(|t| {
                let state = match (t.done_at, t.overdue) {
                    (Some(at), _) => format!("已完成 {}", crate::api::local_time_ms(at as f64)),
                    (None, true) => "逾期".to_owned(),
                    (None, false) => "进行中".to_owned(),
                };
                view! {
                    <tr class:alert=t.overdue data-task=t.what.clone()>
                        <td>{t.unit_path.clone()}</td>
                        <td>{t.plan_title.clone()}</td>
                        <td>{t.what.clone()}</td>
                        <td>{t.who.clone()}</td>
                        <td>{t.due.clone()}</td>
                        <td data-col="state">{state}</td>
                    </tr>
                }
            })
            .collect_view();
        view! {
            <section class="card">
                <h2>"方案任务 · 共 "{list.total}" 项"{(overdue > 0).then(|| format!("，逾期 {overdue} 项"))}</h2>
                <p class="muted small">"各单位实施方案经先锋办批准后的任务清单；单位在手机上标记完成，不另报进度。"</p>
                {(list.total == 0).then(|| view! { <p class="muted">"还没有已批准的实施方案"</p> })}
                <table class="grid" data-testid="tasks">
                    <thead><tr><th>"单位"</th><th>"方案"</th><th>"任务"</th><th>"责任人"</th><th>"完成时限"</th><th>"状态"</th></tr></thead>
                    <tbody>{rows}</tbody>
                </table>
            </section>
        }
    })
}
