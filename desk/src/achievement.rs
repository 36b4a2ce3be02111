//! 实绩: the people below the reader, and one person's record for a period — visits, problems
//! raised and resolved, enterprises served, pledges kept, residents' ratings and commendations,
//! each line a link to its record. Facts only: no score, no total, no ranking. Exported as
//! .xlsx and printable.

use http_api::awards::{PeopleList, PersonRecord};
use http_api::route::{Route, View};
use leptos::prelude::*;

use crate::supervise::{answer, fetch, Desk};

fn encode(v: &str) -> String {
    v.bytes().map(|b| if b.is_ascii_alphanumeric() || b"-_.".contains(&b) { (b as char).to_string() } else { format!("%{b:02X}") }).collect()
}

/// The period of the route, or this year.
fn period_of(desk: Desk) -> String {
    let p = desk.query().period;
    if p.is_empty() {
        js_sys::Date::new_0().get_full_year().to_string()
    } else {
        p
    }
}

#[component]
pub fn PeoplePage() -> impl IntoView {
    let desk = expect_context::<Desk>();
    let (url, data) = fetch::<PeopleList>(|| "/api/desk/people".to_owned());
    answer(url, data, move |list: PeopleList| {
        let empty = list.people.is_empty();
        let rows = list
            .people
            .into_iter()
            .map(|p| {
                let id = p.id.clone();
                view! {
                    <tr class="link" data-person=p.name.clone() on:click=move |_| desk.go_view(View::Person { id: id.clone() })>
                        <td>{p.name.clone()}</td>
                        <td>{p.path.clone()}</td>
                        <td>{p.role_label.clone()}</td>
                    </tr>
                }
            })
            .collect_view();
        view! {
            <section class="card">
                <h2>"实绩"</h2>
                <p class="muted">"每个人的实绩取自所在单位台账中本人手机记下的走访、问题、企业服务和承诺，以及群众评价；只列事实，不打分、不排名。"</p>
                {empty.then(|| view! { <p class="muted">"范围内还没有人员。"</p> })}
                <table class="grid" data-testid="people">
                    <thead><tr><th>"姓名"</th><th>"单位"</th><th>"角色"</th></tr></thead>
                    <tbody>{rows}</tbody>
                </table>
            </section>
        }
    })
}

#[component]
pub fn PersonPage(id: String) -> impl IntoView {
    let desk = expect_context::<Desk>();
    let person = id.clone();
    let (url, data) = fetch::<PersonRecord>(move || format!("/api/desk/people/{}/record?period={}", encode(&person), encode(&period_of(desk))));
    let period = RwSignal::new(period_of(desk));
    let apply = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        desk.set("period", period.get_untracked().trim());
    };
    let print = move |_| {
        if let Some(w) = web_sys::window() {
            let _ = w.print();
        }
    };
    view! {
        <form class="filters noprint" on:submit=apply>
            <label>"期间（2026、2026-Q4、2026-11 或 2026-01-01..2026-06-30）" <input name="period" bind:value=period/></label>
            <button type="submit">"查看"</button>
            <button type="button" on:click=print>"打印"</button>
        </form>
        {answer(url, data, move |r: PersonRecord| view! { <RecordSheet r=r/> })}
    }
}

#[component]
fn RecordSheet(r: PersonRecord) -> impl IntoView {
    let desk = expect_context::<Desk>();
    let xlsx = format!("/api/desk/people/{}/record.xlsx?period={}", encode(&r.person.id), encode(&r.period));
    let ledger = r.ledger.clone();
    let sections = r
        .record
        .sections()
        .into_iter()
        .map(|(heading, lines)| {
            let rows = lines
                .iter()
                .map(|l| {
                    let route = Route { view: View::Record { ledger: ledger.clone(), section: l.section.clone(), id: l.id.to_string() }, query: desk.route.get_untracked().query };
                    view! {
                        <tr class="link" on:click=move |_| desk.go(route.clone())>
                            <td>{l.date.map(|d| d.to_string()).unwrap_or_default()}</td>
                            <td>{l.title.clone()}</td>
                            <td>{l.outcome.clone()}</td>
                        </tr>
                    }
                })
                .collect_view();
            let none = lines.is_empty();
            view! {
                <h3>{heading}</h3>
                {if none {
                    view! { <p class="muted">"期间内没有记录。"</p> }.into_any()
                } else {
                    view! {
                        <table class="grid" data-section=heading>
                            <thead><tr><th>"日期"</th><th>"事项"</th><th>"结果"</th></tr></thead>
                            <tbody>{rows}</tbody>
                        </table>
                    }.into_any()
                }}
            }
        })
        .collect_view();
    let commendations = r
        .commendations
        .iter()
        .map(
            |c| view! { <li>{c.decided_on.clone()}" · "{c.round_title.clone()}"（"{c.kind_label.clone()}"）"{(!c.decision.is_empty()).then(|| format!(" · {}", c.decision))}</li> },
        )
        .collect_view();
    let commended = !r.commendations.is_empty();
    view! {
        <section class="card printable" data-testid="person-record">
            <h2>{r.person.name.clone()}" · 实绩"</h2>
            <p class="muted">{r.person.path.clone()}" · "{r.person.role_label.clone()}" · "{r.from.clone()}" 至 "{r.to.clone()}</p>
            <p class="noprint"><a href=xlsx download>"导出 Excel（.xlsx）"</a></p>
            {sections}
            <h3>"表彰"</h3>
            {if commended {
                view! { <ul data-testid="commendations">{commendations}</ul> }.into_any()
            } else {
                view! { <p class="muted">"暂无。"</p> }.into_any()
            }}
        </section>
    }
}
