//! 通报: the period's figures for the node as a page to print (the browser prints it to PDF):
//! a summary in words, each unit's figures, the charts. The print stylesheet leaves out the
//! desk's controls.

use ledger::rate::per_cent;
use leptos::prelude::*;

use crate::api::{local_time, Overview};
use crate::supervise::{answer, api_url, fetch, Desk};

#[component]
pub fn ReportPage() -> impl IntoView {
    let desk = expect_context::<Desk>();
    let (url, data) = fetch::<Overview>(move || api_url("overview", &desk.query(), ""));
    answer(url, data, |o: Overview| view! { <div class="noprint"><crate::overview::Breadcrumbs overview=o.clone()/></div><Report overview=o/> })
}

#[component]
fn Report(overview: Overview) -> impl IntoView {
    let Some(top) = overview.rows.first().cloned() else { return view! { <p class="muted">"没有单位"</p> }.into_any() };
    let f = &top.figures;
    let summary = format!(
        "{}，{}共走访 {} 次，登记问题 {} 个，已办结 {} 个、办理中 {} 个、待办 {} 个，按期办结率 {}，回访满意率 {}；当前逾期问题 {} 个。作出承诺 {} 项，已兑现 {} 项，逾期未兑现 {} 项。{}{}",
        overview.period.label,
        top.name,
        top.visits,
        f.raised,
        f.resolved,
        f.in_progress,
        f.pending,
        per_cent(top.in_time),
        per_cent(top.satisfaction),
        f.overdue,
        f.pledges,
        f.pledges_fulfilled,
        f.pledges_overdue,
        if f.ratings > 0 || f.cases_open > 0 {
            format!("先锋广场收到群众评价 {} 条，满意率 {}；未办结的差评 {} 件，其中逾期 {} 件。", f.ratings, per_cent(f.ratings_per_mille()), f.cases_open, f.cases_overdue)
        } else {
            String::new()
        },
        if top.stale_below > 0 {
            format!("另有 {} 个单位超过 {} 天没有设备同步，数据可能不全。", top.stale_below, overview.stale_after_days)
        } else {
            String::new()
        },
    );
    // The units below the node; a unit with none below it is its own row.
    let below = usize::from(overview.rows.len() > 1);
    let rows = overview
        .rows
        .iter()
        .skip(below)
        .map(|r| {
            view! {
                <tr class:node=!r.ledger>
                    <td class=crate::depth_class(r.depth)>{r.name.clone()}{r.stale.then_some("（数据滞后）")}</td>
                    <td class="num">{r.visits}</td>
                    <td class="num">{r.figures.raised}</td>
                    <td class="num">{r.figures.pending}</td>
                    <td class="num">{r.figures.in_progress}</td>
                    <td class="num">{r.figures.resolved}</td>
                    <td class="num">{r.figures.overdue}</td>
                    <td class="num">{per_cent(r.in_time)}</td>
                    <td class="num">{per_cent(r.satisfaction)}</td>
                    <td class="num">{format!("{} / {}", r.figures.pledges_fulfilled, r.figures.pledges)}</td>
                </tr>
            }
        })
        .collect_view();
    let print = |_| {
        if let Some(w) = web_sys::window() {
            let _ = w.print();
        }
    };
    let series = overview.series.clone();
    view! {
        <article class="card report" data-testid="report">
            <p class="noprint"><button class="primary" on:click=print>"打印 / 保存为 PDF"</button></p>
            <h1>{format!("{}“科学发展当先锋”工作通报", top.name)}</h1>
            <p class="muted">{format!("统计期间：{}（{} 至 {}）　生成时间：{}", overview.period.label, overview.period.from, overview.period.to, local_time(overview.generated_at))}</p>
            <p class="summary" data-testid="summary">{summary}</p>
            <table class="grid">
                <thead><tr><th>"单位"</th><th>"走访"</th><th>"登记问题"</th><th>"待办"</th><th>"办理中"</th><th>"已办结"</th><th>"逾期"</th><th>"按期办结率"</th><th>"回访满意率"</th><th>"承诺兑现"</th></tr></thead>
                <tbody>{rows}</tbody>
            </table>
            <crate::charts::Monthly series=series.clone()/>
            <crate::charts::ByCategory series=series.clone() labels=overview.categories.clone()/>
            <crate::charts::Rounds series=series/>
            <SitePhotos/>
        </article>
    }
    .into_any()
}

/// 现场照片: on request, the records below the node that hold photos in the period, each with
/// its photos, printed with the 通报 (the newest 60).
#[component]
fn SitePhotos() -> impl IntoView {
    let desk = expect_context::<Desk>();
    let wanted = RwSignal::new(false);
    view! {
        <p class="noprint"><label><input type="checkbox" data-testid="with-photos" on:change=move |ev| wanted.set(event_target_checked(&ev))/>" 附现场照片"</label></p>
        <Show when=move || wanted.get()>
            {
                let (url, data) = fetch::<http_api::desk::List<http_api::desk::PhotoRow>>(move || api_url("photos", &desk.query(), ""));
                answer(url, data, |list: http_api::desk::List<http_api::desk::PhotoRow>| {
                    let shown = list.rows.len();
                    let items = list
                        .rows
                        .into_iter()
                        .map(|r| {
                            let caption = format!("{} · {}{}", r.unit_path, r.title, r.day.map(|d| format!(" · {d}")).unwrap_or_default());
                            let photos = r.photos.iter().map(|h| view! { <img src=format!("/api/photos/{h}") alt="现场照片" loading="eager"/> }).collect_view();
                            view! { <figure class="site-photo"><div class="photos">{photos}</div><figcaption>{caption}</figcaption></figure> }
                        })
                        .collect_view();
                    view! {
                        <section class="site-photos" data-testid="site-photos">
                            <h2>"现场照片"</h2>
                            {(list.total == 0).then(|| view! { <p class="muted">"这一期间没有带照片的记录。"</p> })}
                            {(list.total > shown).then(|| view! { <p class="muted">{format!("共 {} 条带照片的记录，这里附最近的 {shown} 条。", list.total)}</p> })}
                            {items}
                        </section>
                    }
                })
            }
        </Show>
    }
}
