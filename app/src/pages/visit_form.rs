//! The visit form, for a new visit and for editing one. Saving is local and instant; a
//! storage failure is told in plain words and the typed text stays in the form.

use ledger::problem::Category;
use ledger::{Command, ProblemDraft, RecordId, ValidationErrors, VisitDraft, VisitKind};
use leptos::ev::SubmitEvent;
use leptos::prelude::*;

use crate::browser;
use crate::pages::media::MediaField;
use crate::pages::parts::{RecordForm, TextField};
use crate::service::LedgerService;
use ledger::photo::{Location, MediaEdit, PhotoRef};

#[component]
pub fn NewVisit() -> impl IntoView {
    let service = expect_context::<LedgerService>();
    let firm = crate::nav::use_location()
        .query("enterprise")
        .and_then(|s| RecordId::parse(&s))
        .and_then(|id| service.enterprises.with_untracked(|all| all.iter().find(|e| e.id == id).cloned()));
    let mut initial = VisitDraft::new(browser::today());
    if let Some(firm) = firm {
        initial.kind = VisitKind::EnterpriseVisit;
        initial.whom = firm.name;
        initial.enterprise_id = Some(firm.id);
    }
    view! { <VisitEditor initial editing=None photos=Vec::new() location=None/> }
}

#[component]
pub fn EditVisit() -> impl IntoView {
    let service = expect_context::<LedgerService>();
    let id = crate::pages::parts::route_id();
    match id.and_then(|id| service.visit(&id)).filter(|v| !v.deleted) {
        Some(v) => view! { <VisitEditor initial=v.to_draft() editing=Some(v.id) photos=v.photos location=v.location/> }.into_any(),
        None => crate::pages::parts::not_found("走访记录", "/"),
    }
}

#[component]
fn VisitEditor(initial: VisitDraft, editing: Option<RecordId>, photos: Vec<PhotoRef>, location: Option<Location>) -> impl IntoView {
    let media = RwSignal::new(MediaEdit::default());
    let from_firm = initial.enterprise_id.clone();
    let draft = RwSignal::new(initial);
    let form = RecordForm::new();
    let (errors, saving) = (form.errors, form.saving);
    let title = if editing.is_some() { "修改走访记录" } else { "记一次走访" };
    // Back to where the person came from: the visit, the firm it was started on, or the list.
    let back = match (&editing, &from_firm) {
        (Some(id), _) => format!("/visits/{id}"),
        (None, Some(firm)) => format!("/enterprises/{firm}"),
        (None, None) => "/".to_owned(),
    };
    // A problem found on this visit, entered in the same form: the common case takes no detour.
    let problem = RwSignal::new(None::<ProblemDraft>);
    let is_new = editing.is_none();

    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        let (visit, found) = (draft.get_untracked(), problem.get_untracked());
        let with_problem = found.is_some();
        let checked = match (visit.validate(browser::today()), found.as_ref().map(ProblemDraft::validate).transpose()) {
            (Ok(_), Ok(_)) => Ok(()),
            (v, p) => {
                let mut all = v.err().unwrap_or_default();
                if let Err(pe) = p {
                    all.0.extend(pe.0.into_iter().map(|(f, m)| (if f == "title" { "problem_title" } else { f }, m)));
                }
                Err(all)
            }
        };
        let is_edit = editing.is_some();
        // A visit with a problem is one command: one IndexedDB transaction, neither saved alone.
        let command = match editing.clone() {
            Some(id) => Command::UpdateVisit { id, visit, media: media.get_untracked() },
            None => Command::AddVisit { visit, problem: found, media: media.get_untracked() },
        };
        let page_of = move |id: &RecordId| match (is_edit, with_problem) {
            (true, _) => format!("/visits/{id}"),
            (false, true) => format!("/problems/{id}"),
            (false, false) => "/".to_owned(),
        };
        form.submit(checked, command, page_of);
    };

    let error = move |field: &'static str| move || errors.with(|e| e.for_field(field).map(|m| view! { <p class="field-error">{m.to_owned()}</p> }));
    let invalid = move |field: &'static str| move || errors.with(|e| e.for_field(field).is_some()).to_string();

    view! {
        <form class="visit-form" on:submit=submit novalidate>
            <a class="back" href=back>"‹ 返回"</a>
            <h2>{title}</h2>

            <label class="field">"走访日期"
                <input type="date" name="date" aria-invalid=invalid("date")
                    prop:value=move || draft.with(|d| d.date.clone())
                    on:input=move |ev| draft.update(|d| d.date = event_target_value(&ev))/>
                {error("date")}
            </label>
            <label class="field">"类型"
                <select name="kind" on:change=move |ev| {
                    let code = event_target_value(&ev);
                    draft.update(|d| d.kind = VisitKind::from_code(&code).unwrap_or(VisitKind::Other));
                }>
                    {VisitKind::ALL.into_iter().map(|k| view! {
                        <option value=k.code() selected=move || draft.with(|d| d.kind == k)>{k.label()}</option>
                    }).collect_view()}
                </select>
            </label>
            <EnterprisePicker draft/>
            <TextField label="走访对象" name="whom" required=true max=ledger::visit::MAX_WHOM placeholder="户主姓名、群众或企业名称" draft errors
                get=|d: &VisitDraft| &d.whom set=|d: &mut VisitDraft, v| d.whom = v/>
            <TextField label="地点" name="place" max=ledger::visit::MAX_PLACE placeholder="选填" draft errors
                get=|d: &VisitDraft| &d.place set=|d: &mut VisitDraft, v| d.place = v/>
            <TextField label="走访情况" name="heard" required=true max=ledger::visit::MAX_HEARD placeholder="听到了什么、看到了什么" rows=5 draft errors
                get=|d: &VisitDraft| &d.heard set=|d: &mut VisitDraft, v| d.heard = v/>
            // Right under what was heard: a cadre who found a problem does not scroll past the rest.
            {is_new.then(|| view! { <QuickProblem problem errors/> })}
            <TextField label="意见建议" name="opinions" max=ledger::visit::MAX_OPINIONS placeholder="选填" rows=3 draft errors
                get=|d: &VisitDraft| &d.opinions set=|d: &mut VisitDraft, v| d.opinions = v/>
            <MediaField current=photos location edit=media/>
            <label class="check">
                <input type="checkbox" name="follow_up_needed"
                    prop:checked=move || draft.with(|d| d.follow_up_needed)
                    on:change=move |ev| draft.update(|d| d.follow_up_needed = event_target_checked(&ev))/>
                "需要跟进"
            </label>
            <Show when=move || draft.with(|d| d.follow_up_needed)>
                <TextField label="跟进事项" name="follow_up" max=ledger::visit::MAX_FOLLOW_UP rows=3 draft errors
                    get=|d: &VisitDraft| &d.follow_up set=|d: &mut VisitDraft, v| d.follow_up = v/>
            </Show>
            <div class="sticky-actions">
                {form.failure_view()}
                <button type="submit" class="button primary wide" disabled=move || saving.get()>
                    {move || if saving.get() { "正在保存…" } else { "保存" }}
                </button>
            </div>
        </form>
    }
}

/// "发现问题" on a new visit: a title and a category, saved as a problem linked to the visit.
#[component]
fn QuickProblem(problem: RwSignal<Option<ProblemDraft>>, errors: RwSignal<ValidationErrors>) -> impl IntoView {
    view! {
        <label class="check">
            <input type="checkbox" name="has_problem"
                prop:checked=move || problem.with(Option::is_some)
                on:change=move |ev| problem.set(event_target_checked(&ev).then(ProblemDraft::default))/>
            "发现问题，登记到问题台账"
        </label>
        <Show when=move || problem.with(Option::is_some)>
            <label class="field">"问题标题"
                <input type="text" name="problem_title" placeholder="一句话说清是什么问题"
                    aria-invalid=move || errors.with(|e| e.for_field("problem_title").is_some()).to_string()
                    prop:value=move || problem.with(|p| p.as_ref().map(|p| p.title.clone()).unwrap_or_default())
                    on:input=move |ev| problem.update(|p| if let Some(p) = p { p.title = event_target_value(&ev) })/>
                {move || errors.with(|e| e.for_field("problem_title").map(|m| view! { <p class="field-error">{m.to_owned()}</p> }))}
            </label>
            <label class="field">"问题类别"
                <select name="problem_category" on:change=move |ev| {
                    let code = event_target_value(&ev);
                    problem.update(|p| if let Some(p) = p { p.category = Category::from_code(&code).unwrap_or(Category::Other) });
                }>
                    {Category::ALL.iter().map(|c| view! {
                        <option value=c.code() selected=move || problem.with(|p| p.as_ref().is_some_and(|p| p.category == *c))>{c.label()}</option>
                    }).collect_view()}
                </select>
            </label>
        </Show>
    }
}

/// For an enterprise visit: which served enterprise, so the visit shows on the firm's page.
#[component]
fn EnterprisePicker(draft: RwSignal<VisitDraft>) -> impl IntoView {
    let service = expect_context::<LedgerService>();
    let firms = move || service.enterprises.with(|all| all.iter().filter(|e| !e.deleted).map(|e| (e.id.clone(), e.name.clone())).collect::<Vec<_>>());
    view! {
        <Show when=move || draft.with(|d| d.kind == VisitKind::EnterpriseVisit) && !firms().is_empty()>
            <label class="field">"服务企业"
                <select name="enterprise" on:change=move |ev| {
                    let id = RecordId::parse(&event_target_value(&ev));
                    let name_of = |id: &Option<RecordId>| id.as_ref().and_then(|id| firms().into_iter().find(|(f, _)| f == id).map(|(_, n)| n));
                    let name = name_of(&id);
                    draft.update(|d| {
                        // The firm's name goes in 走访对象 unless the cadre wrote someone there
                        // (a name the picker put there before is replaced).
                        let written_by_hand = !d.whom.trim().is_empty() && name_of(&d.enterprise_id).as_deref() != Some(d.whom.trim());
                        d.enterprise_id = id;
                        if let (Some(name), false) = (name, written_by_hand) {
                            d.whom = name;
                        }
                    });
                }>
                    <option value="" selected=move || draft.with(|d| d.enterprise_id.is_none())>"（不在服务企业名单中）"</option>
                    {move || firms().into_iter().map(|(id, name)| {
                        let selected = { let id = id.clone(); move || draft.with(|d| d.enterprise_id.as_ref() == Some(&id)) };
                        view! { <option value=id.to_string() selected=selected>{name}</option> }
                    }).collect_view()}
                </select>
            </label>
        </Show>
    }
}
