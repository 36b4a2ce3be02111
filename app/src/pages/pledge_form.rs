//! Publishing and editing a pledge.

use ledger::pledge::Aim;
use ledger::{Command, PledgeDraft, RecordId};
use leptos::ev::SubmitEvent;
use leptos::prelude::*;

use crate::pages::parts::{route_id, FieldError, RecordForm, TextField};
use crate::service::LedgerService;

#[component]
pub fn NewPledge() -> impl IntoView {
    let service = expect_context::<LedgerService>();
    let initial = PledgeDraft { by: service.author.get_untracked(), ..Default::default() };
    view! { <PledgeEditor initial editing=None/> }
}

#[component]
pub fn EditPledge() -> impl IntoView {
    let service = expect_context::<LedgerService>();
    let found = route_id().and_then(|id| service.pledges.with_untracked(|all| all.iter().find(|p| p.id == id && !p.deleted).cloned()));
    match found {
        Some(p) => view! { <PledgeEditor initial=p.to_draft() editing=Some(p.id)/> }.into_any(),
        None => crate::pages::parts::not_found("承诺", "/pledges"),
    }
}

#[component]
fn PledgeEditor(initial: PledgeDraft, editing: Option<RecordId>) -> impl IntoView {
    let draft = RwSignal::new(initial);
    let form = RecordForm::new();
    let errors = form.errors;
    let back = editing.as_ref().map_or_else(|| "/pledges".to_owned(), |id| format!("/pledges/{id}"));
    let is_edit = editing.is_some();
    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        let pledge = draft.get_untracked();
        let checked = pledge.validate().map(|_| ());
        let command = match editing.clone() {
            Some(id) => Command::UpdatePledge { id, pledge },
            None => Command::AddPledge { pledge },
        };
        form.submit(checked, command, |id| format!("/pledges/{id}"));
    };
    let toggle = |aim: Aim| move |_| draft.update(|d| if d.aims.contains(&aim) { d.aims.retain(|a| *a != aim) } else { d.aims.push(aim) });
    view! {
        <form class="record-form" on:submit=submit novalidate>
            <a class="back" href=back>"‹ 返回"</a>
            <h2>{if is_edit { "修改承诺" } else { "发布服务承诺" }}</h2>
            <TextField label="承诺内容" name="content" required=true max=ledger::pledge::MAX_CONTENT rows=4 placeholder="承诺为群众办什么事、做到什么程度" draft errors
                get=|d: &PledgeDraft| &d.content set=|d: &mut PledgeDraft, v| d.content = v/>
            <label class="check">
                <input type="checkbox" name="team" prop:checked=move || draft.with(|d| d.team) on:change=move |ev| draft.update(|d| d.team = event_target_checked(&ev))/>
                "班子承诺"
            </label>
            <TextField label="承诺人（不是班子承诺时必填）" name="by" draft errors get=|d: &PledgeDraft| &d.by set=|d: &mut PledgeDraft, v| d.by = v/>
            <div class="field">
                <span>"服务目标（四争先 / 四领先）"</span> <span class="req">"必填"</span>
                <div class="chips" role="group" aria-label="服务目标">
                    {Aim::ALL.iter().copied().map(|a| view! {
                        <button type="button" class="chip" aria-pressed=move || draft.with(|d| d.aims.contains(&a)).to_string() on:click=toggle(a)>{a.label()}</button>
                    }).collect_view()}
                </div>
                <FieldError errors name="aims"/>
            </div>
            <TextField label="兑现期限" name="due" input_type="date" required=true draft errors get=|d: &PledgeDraft| &d.due set=|d: &mut PledgeDraft, v| d.due = v/>
            <label class="check">
                <input type="checkbox" name="public" prop:checked=move || draft.with(|d| d.public) on:change=move |ev| draft.update(|d| d.public = event_target_checked(&ev))/>
                "向群众公开"
            </label>
            <div class="sticky-actions">
                {form.failure_view()}
                <button type="submit" class="button primary wide">"保存"</button>
            </div>
        </form>
    }
}
