//! 差评办理: the residents' 差评 below the node and where each case stands. Open cases are
//! listed whenever rated, overdue first, like overdue problems; a case the unit appealed
//! (申诉) waits for a supervisor, who upholds the 差评 (维持: the unit must answer after all)
//! or withdraws it (撤销), with a reason, written into the unit's ledger.

use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::api::{self, CaseRow, List};
use crate::supervise::{answer, api_url, fetch, Desk};

#[component]
pub fn CaseList() -> impl IntoView {
    let desk = expect_context::<Desk>();
    let (url, data) = fetch::<List<CaseRow>>(move || api_url("cases", &desk.query(), ""));
    let listed = answer(url, data, move |list: List<CaseRow>| {
        let overdue = list.rows.iter().filter(|c| c.overdue).count();
        let rows = list.rows.into_iter().map(|c| view! { <CaseLine case=c/> }).collect_view();
        view! {
            <section class="card">
                <h2>"差评办理 · 共 "{list.total}" 件"{(overdue > 0).then(|| format!("，逾期 {overdue} 件"))}</h2>
                <p class="muted small">"未办结的差评不论何时收到都列出，逾期在前；已办结的列出本期（"{list.period.label.clone()}"）收到的。单位申诉的，由督查维持或撤销。"</p>
                {(list.total == 0).then(|| view! { <p class="muted">"没有差评"</p> })}
                <table class="grid" data-testid="cases">
                    <thead><tr><th>"单位"</th><th>"评价对象"</th><th>"评价"</th><th>"群众意见"</th><th>"收到"</th><th>"状态"</th><th>"时限"</th><th>"答复 / 申诉理由"</th><th>"回评"</th></tr></thead>
                    <tbody>{rows}</tbody>
                </table>
            </section>
        }
    });
    // Outside the list, which is drawn again when it is fetched again after a decision.
    view! { <crate::org_tree::Outcome message=desk.notice/> {listed} }
}

#[component]
fn CaseLine(case: CaseRow) -> impl IntoView {
    let said = case.appeal.clone().map(|a| format!("申诉：{a}")).or(case.answer.clone()).unwrap_or_default();
    let decide = case.appealed.then(|| view! { <Decision ledger=case.ledger.clone() id=case.id.clone()/> });
    view! {
        <tr class:alert=case.overdue data-case=case.id.clone()>
            <td>{case.unit_path.clone()}</td>
            <td>{case.target.clone()}</td>
            <td>{case.verdict.clone()}</td>
            <td>{case.comment.clone()}</td>
            <td>{case.rated_on.clone().unwrap_or_default()}</td>
            <td data-col="state">{case.state.clone()}{case.overdue.then_some("（逾期）")}</td>
            <td>{case.due.clone().unwrap_or_default()}</td>
            <td>{said}{decide}</td>
            <td>{case.recheck.clone().unwrap_or_default()}</td>
        </tr>
    }
}

/// 维持 or 撤销 an appealed 差评, with the reason the unit will read.
#[component]
fn Decision(ledger: String, id: String) -> impl IntoView {
    let desk = expect_context::<Desk>();
    let reason = RwSignal::new(String::new());
    let url = StoredValue::new(format!("/api/desk/records/{ledger}/ratings/{id}/remarks"));
    let decide = move |step: &'static str| {
        let body = http_api::desk::Remark { text: reason.get_untracked(), rating: None, step: Some(step.to_owned()) };
        spawn_local(async move {
            match api::post::<http_api::Done>(&url.get_value(), &body).await {
                Ok(_) => {
                    desk.notice.set(Some(Ok(if step == "withdraw" { "已撤销该差评，已写入该单位台账" } else { "已维持该差评，单位须重新答复" }.into())));
                    desk.reloads.update(|n| *n += 1);
                }
                Err(e) => desk.notice.set(Some(Err(e.message()))),
            }
        });
    };
    view! {
        <div class="decision">
            <textarea rows="2" maxlength="1000" placeholder="维持或撤销的理由（必填）" bind:value=reason></textarea>
            <button class="primary" data-testid="uphold" on:click=move |_| decide("uphold")>"维持差评"</button>
            <button data-testid="withdraw" on:click=move |_| decide("withdraw")>"撤销差评"</button>
        </div>
    }
}
