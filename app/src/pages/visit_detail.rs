//! One visit, with edit and delete.

use ledger::unit_ledger::VISIT_FIELDS;
use ledger::visit::describe_value;
use ledger::{Section, Visit};
use leptos::prelude::*;

use crate::browser;
use crate::service::LedgerService;

#[component]
pub fn VisitDetail() -> impl IntoView {
    let service = expect_context::<LedgerService>();
    let id = crate::pages::parts::route_id();
    let visit = move || id.clone().and_then(|id| service.visit(&id)).filter(|v| !v.deleted);
    view! {
        {move || match visit() {
            Some(v) => view! { <VisitView visit=v/> }.into_any(),
            None => crate::pages::parts::not_found("走访记录", "/"),
        }}
    }
}

#[component]
fn VisitView(visit: Visit) -> impl IntoView {
    let service = expect_context::<LedgerService>();
    let linked = {
        let id = visit.id.clone();
        move || service.problems.with(|all| all.iter().filter(|p| !p.deleted && p.visit_id.as_ref() == Some(&id)).cloned().collect::<Vec<_>>())
    };
    let today = browser::today();
    let firm = visit.enterprise_id.as_ref().and_then(|f| service.enterprises.with_untracked(|all| all.iter().find(|e| e.id == *f).cloned()));
    let field = |label: &'static str, value: String| (!value.is_empty()).then(|| view! { <div class="field-view"><h3>{label}</h3><p class="pre">{value}</p></div> });
    view! {
        <article class="detail">
            <a class="back" href="/">"‹ 返回"</a>
            <h2>{visit.whom.clone()}</h2>
            <p class="meta">
                {visit.date.map(|d| d.to_string()).unwrap_or_else(|| "日期不明".into())}
                " · " {visit.kind.label()}
                {(!visit.place.is_empty()).then(|| format!(" · {}", visit.place))}
            </p>
            <crate::pages::parts::ConflictChooser section=Section::Visits id=visit.id.clone() conflicts=visit.conflicts.clone() labels=VISIT_FIELDS show=describe_value/>
            {firm.map(|f| view! { <p><a href=format!("/enterprises/{}", f.id)>"企业：" {f.name}</a></p> })}
            {field("走访情况", visit.heard.clone())}
            {field("意见建议", visit.opinions.clone())}
            <crate::pages::media::PhotoStrip photos=visit.photos.clone()/>
            <crate::pages::media::LocationLine location=visit.location/>
            {visit.follow_up_needed.then(|| view! { <div class="field-view follow"><h3>"需要跟进"</h3><p class="pre">{visit.follow_up.clone()}</p></div> })}
            <h3>"发现的问题"</h3>
            <ul class="cards" data-testid="linked-problems">
                {move || linked().into_iter().map(|p| view! { <crate::pages::problem_list::ProblemCard problem=p today/> }).collect_view()}
            </ul>
            <a class="button secondary" href=format!("/problems/new?visit={}", visit.id)>"＋ 由此登记问题"</a>
            <crate::pages::board::OnceCodeButton target=ledger::rating::Target::Visit id=visit.id.clone()/>
            <p class="muted small">"录入于 " {browser::date_time(visit.created_at)} "，最后修改 " {browser::date_time(visit.updated_at)}</p>
            <div class="actions">
                <a class="button" href=format!("/visits/{}/edit", visit.id)>"编辑"</a>
                <crate::pages::parts::DeleteButton section=Section::Visits id=visit.id.clone() back="/"/>
            </div>
            <crate::pages::parts::History id=visit.id.clone()/>
        </article>
    }
}
