//! Served enterprises (服务企业): the list, and one firm with its visits, difficulties and the
//! help given.

use ledger::record_query::{filter_enterprises, filter_problems, ProblemFilter};
use ledger::unit_ledger::ENTERPRISE_FIELDS;
use ledger::{Enterprise, Section};
use leptos::prelude::*;

use crate::browser;
use crate::pages::parts::{not_found, route_id, ConflictChooser, DeleteButton, History};
use crate::pages::problem_list::ProblemCard;
use crate::service::LedgerService;

#[component]
pub fn EnterpriseList() -> impl IntoView {
    let service = expect_context::<LedgerService>();
    let text = RwSignal::new(String::new());
    let shown = Memo::new(move |_| {
        let t = text.get();
        service.enterprises.with(|all| filter_enterprises(all, &t).into_iter().cloned().collect::<Vec<Enterprise>>())
    });
    let open_problems =
        move |id: &ledger::RecordId| service.problems.with(|all| all.iter().filter(|p| !p.deleted && p.status.is_open() && p.enterprise_id.as_ref() == Some(id)).count());
    view! {
        <section class="list-page">
            <div class="search">
                <input type="search" placeholder="搜索企业名称、信用代码、行业…" aria-label="搜索企业"
                    prop:value=move || text.get() on:input=move |ev| text.set(event_target_value(&ev))/>
            </div>
            <p class="muted count">{move || format!("共 {} 家", shown.with(Vec::len))}</p>
            <ul class="cards">
                <For each=move || shown.get() key=|e| (e.id.clone(), e.updated_at) let:firm>
                    <li>
                        <a class="card" href=format!("/enterprises/{}", firm.id)>
                            <div class="whom">{firm.name.clone()}</div>
                            // On a line of its own: in the snippet line it was cut off behind the code.
                            {let id = firm.id.clone(); move || { let n = open_problems(&id); (n > 0).then(|| view! { <div class="card-head"><span class="tag" data-testid="open-difficulties">{format!("{n} 项困难待解决")}</span></div> }) }}
                            <div class="snippet">{firm.industry.clone()} " " {firm.credit_code.clone()}</div>
                        </a>
                    </li>
                </For>
            </ul>
            <Show when=move || shown.with(Vec::is_empty)>
                <p class="empty">"还没有服务企业。点右下角添加。"</p>
            </Show>
            <a class="fab" href="/enterprises/new">"＋ 添加企业"</a>
        </section>
    }
}

#[component]
pub fn EnterpriseDetail() -> impl IntoView {
    let service = expect_context::<LedgerService>();
    let id = route_id();
    let firm = move || id.as_ref().and_then(|id| service.enterprises.with(|all| all.iter().find(|e| e.id == *id && !e.deleted).cloned()));
    move || match firm() {
        Some(f) => view! { <EnterpriseView firm=f/> }.into_any(),
        None => not_found("企业", "/enterprises"),
    }
}

#[component]
fn EnterpriseView(firm: Enterprise) -> impl IntoView {
    let service = expect_context::<LedgerService>();
    let today = browser::today();
    let id = firm.id.clone();
    let difficulties = {
        let id = id.clone();
        move || {
            let filter = ProblemFilter { enterprise: Some(id.clone()), ..Default::default() };
            service.problems.with(|all| filter_problems(all, &filter, today).into_iter().cloned().collect::<Vec<_>>())
        }
    };
    let visits = {
        let id = id.clone();
        // The page's visits are newest first (`put_visits`), as the visit list shows them.
        move || service.visits.with(|all| all.iter().filter(|v| !v.deleted && v.enterprise_id.as_ref() == Some(&id)).cloned().collect::<Vec<_>>())
    };
    let line = |label: &'static str, value: &str| (!value.is_empty()).then(|| view! { <p><span class="muted">{label} "："</span>{value.to_owned()}</p> });
    view! {
        <article class="detail" data-testid="enterprise">
            <a class="back" href="/enterprises">"‹ 服务企业"</a>
            <h2>{firm.name.clone()}</h2>
            {line("统一社会信用代码", &firm.credit_code)}
            {line("所属行业", &firm.industry)}
            {line("联系人", &firm.contact)}
            {line("联系电话", &firm.phone)}
            {line("地址", &firm.address)}
            <crate::pages::media::PhotoStrip photos=firm.photos.clone()/>
            <crate::pages::media::LocationLine location=firm.location/>
            <ConflictChooser section=Section::Enterprises id=id.clone() conflicts=firm.conflicts.clone() labels=ENTERPRISE_FIELDS show=crate::pages::parts::plain_value/>
            <div class="actions">
                <a class="button primary" href=format!("/problems/new?enterprise={id}")>"登记企业困难"</a>
                <a class="button" href=format!("/visits/new?enterprise={id}")>"记企业走访"</a>
                <a class="button secondary" href=format!("/enterprises/{id}/edit")>"编辑"</a>
                <DeleteButton section=Section::Enterprises id=id.clone() back="/enterprises"/>
            </div>
            <h3>"企业困难与帮扶"</h3>
            <ul class="cards">
                {move || difficulties().into_iter().map(|p| view! { <ProblemCard problem=p today/> }).collect_view()}
            </ul>
            <h3>"走访记录"</h3>
            <ul class="plain">
                {move || visits().into_iter().map(|v| view! {
                    <li><a href=format!("/visits/{}", v.id)>{v.date.map(|d| d.to_string())} " " {v.heard.chars().take(40).collect::<String>()}</a></li>
                }).collect_view()}
            </ul>
            <History id=id/>
        </article>
    }
}
