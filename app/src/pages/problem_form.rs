//! Raising a problem (from a visit, for an enterprise, or on its own) and editing one.

use ledger::problem::{Category, Difficulty, RaisedBy, Urgency};
use ledger::{Command, ProblemDraft, RecordId};
use leptos::ev::SubmitEvent;
use leptos::prelude::*;

use crate::pages::media::MediaField;
use crate::pages::parts::{route_id, Chips, FieldError, MemberList, RecordForm, TextField};
use crate::service::LedgerService;
use ledger::photo::{Location, MediaEdit, PhotoRef};

#[component]
pub fn NewProblem() -> impl IntoView {
    let location = crate::nav::use_location();
    let link = |key: &str| location.query(key).and_then(|s| RecordId::parse(&s));
    let mut draft = match link("enterprise") {
        Some(firm) => ProblemDraft::for_enterprise(firm),
        None => ProblemDraft { visit_id: link("visit"), ..Default::default() },
    };
    draft.raised_on = Some(crate::browser::today());
    view! { <ProblemEditor initial=draft editing=None photos=Vec::new() location=None/> }
}

#[component]
pub fn EditProblem() -> impl IntoView {
    let service = expect_context::<LedgerService>();
    let found = route_id().and_then(|id| service.problems.with_untracked(|all| all.iter().find(|p| p.id == id && !p.deleted).cloned()));
    match found {
        Some(p) => {
            let draft = ProblemDraft { raised_on: Some(crate::browser::date_of(p.created_at)), ..p.to_draft() };
            view! { <ProblemEditor initial=draft editing=Some(p.id) photos=p.photos location=p.location/> }.into_any()
        }
        None => crate::pages::parts::not_found("问题", "/problems"),
    }
}

#[component]
fn ProblemEditor(initial: ProblemDraft, editing: Option<RecordId>, photos: Vec<PhotoRef>, location: Option<Location>) -> impl IntoView {
    let media = RwSignal::new(MediaEdit::default());
    let for_enterprise = initial.enterprise_id.is_some();
    let (initial_enterprise, initial_visit) = (initial.enterprise_id.clone(), initial.visit_id.clone());
    let from_visit = initial.visit_id.is_some();
    // A cadre names who is responsible when raising a problem; changing it later is the
    // secretary's (指派).
    let assigns = editing.is_none() || use_context::<ledger::org::Write>().unwrap_or(ledger::org::Write::Everything) == ledger::org::Write::Everything;
    let draft = RwSignal::new(initial);
    let form = RecordForm::new();
    let (errors, saving) = (form.errors, form.saving);
    let title = match (&editing, for_enterprise) {
        (Some(_), _) => "修改问题",
        (None, true) => "登记企业困难",
        (None, false) => "登记问题",
    };
    // Back to where the person came from: the problem, the firm or the visit it was started on.
    let back = match (&editing, &initial_enterprise, &initial_visit) {
        (Some(id), _, _) => format!("/problems/{id}"),
        (None, Some(firm), _) => format!("/enterprises/{firm}"),
        (None, None, Some(visit)) => format!("/visits/{visit}"),
        (None, None, None) => "/problems".to_owned(),
    };
    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        let problem = draft.get_untracked();
        let checked = problem.validate().map(|_| ());
        let command = match editing.clone() {
            Some(id) => Command::UpdateProblem { id, problem, media: media.get_untracked() },
            None => Command::AddProblem { problem, media: media.get_untracked() },
        };
        form.submit(checked, command, |id| format!("/problems/{id}"));
    };

    view! {
        <form class="record-form" on:submit=submit novalidate>
            <a class="back" href=back>"‹ 返回"</a>
            <h2>{title}</h2>
            {from_visit.then(|| view! { <p class="muted small">"来自一次走访，保存后两边互相关联。"</p> })}
            <TextField label="问题标题" name="title" required=true max=ledger::problem::MAX_TITLE placeholder="一句话说清是什么问题" draft errors
                get=|d: &ProblemDraft| &d.title set=|d: &mut ProblemDraft, v| d.title = v/>
            {for_enterprise.then(|| view! {
                <div class="choice">
                    <Chips label="困难类型（必选）" name="difficulty" options=Difficulty::ALL label_of=Difficulty::label
                        selected=Signal::derive(move || draft.with(|d| d.difficulty))
                        on_pick=Callback::new(move |c| draft.update(|d| d.difficulty = Some(c)))/>
                    <FieldError errors name="difficulty"/>
                </div>
            })}
            <label class="field">"问题类别"
                <select name="category" on:change=move |ev| {
                    let code = event_target_value(&ev);
                    draft.update(|d| d.category = Category::from_code(&code).unwrap_or(Category::Other));
                }>
                    {Category::ALL.iter().map(|c| view! {
                        <option value=c.code() selected=move || draft.with(|d| d.category == *c)>{c.label()}</option>
                    }).collect_view()}
                </select>
            </label>
            <Chips label="反映人" name="raised_by" options=RaisedBy::ALL label_of=RaisedBy::label
                selected=Signal::derive(move || draft.with(|d| Some(d.raised_by)))
                on_pick=Callback::new(move |c| draft.update(|d| d.raised_by = c))/>
            <Chips label="紧急程度" name="urgency" options=Urgency::ALL label_of=Urgency::label
                selected=Signal::derive(move || draft.with(|d| Some(d.urgency)))
                on_pick=Callback::new(move |c| draft.update(|d| d.urgency = c))/>
            <TextField label="反映人联系方式" name="contact" input_type="tel" placeholder="选填：回访时联系，仅本单位可见" max=ledger::problem::MAX_CONTACT draft errors
                get=|d: &ProblemDraft| &d.contact set=|d: &mut ProblemDraft, v| d.contact = v/>
            {if assigns {
                view! {
                    <TextField label="责任人" name="responsible" placeholder="选填，可从本单位人员中选" list="unit-members" draft errors
                        get=|d: &ProblemDraft| &d.responsible set=|d: &mut ProblemDraft, v| d.responsible = v/>
                }.into_any()
            } else {
                view! {
                    <p class="field" data-testid="responsible-fixed">"责任人：" {move || draft.with(|d| if d.responsible.is_empty() { "未指派".to_owned() } else { d.responsible.clone() })} "（由书记指派）"</p>
                }.into_any()
            }}
            <MemberList id="unit-members"/>
            <TextField label="办结时限" name="deadline" input_type="date" draft errors
                get=|d: &ProblemDraft| &d.deadline set=|d: &mut ProblemDraft, v| d.deadline = v/>
            <TextField label="问题描述" name="description" max=ledger::problem::MAX_DESCRIPTION placeholder="选填：具体情况、涉及多少人" rows=4 draft errors
                get=|d: &ProblemDraft| &d.description set=|d: &mut ProblemDraft, v| d.description = v/>
            <MediaField current=photos location edit=media/>
            <div class="sticky-actions">
                {form.failure_view()}
                <button type="submit" class="button primary wide" disabled=move || saving.get()>
                    {move || if saving.get() { "正在保存…" } else { "保存" }}
                </button>
            </div>
        </form>
    }
}
