//! 编写实施方案: the secretary drafts the plan the office asked for, part by part as the
//! campaign's template has it, offline. Saving keeps the draft (nothing goes to the office until
//! 报送); each line of a list keeps its id, so two phones adding tasks offline keep both.

use chrono::NaiveDate;
use ledger::plan::{Carrier, PlanContent, PlanTask, Stage};
use ledger::pledge::Aim;
use ledger::{Command, RecordId};
use leptos::ev::SubmitEvent;
use leptos::prelude::*;

use crate::pages::parts::{not_found, route_id, FieldError, MemberList, RecordForm};
use crate::pages::work::new_id;
use crate::service::LedgerService;

#[component]
pub fn EditPlan() -> impl IntoView {
    let service = expect_context::<LedgerService>();
    let found = route_id().and_then(|id| service.plans.with_untracked(|all| all.iter().find(|p| p.id == id).cloned()));
    match found {
        Some(p) if p.may_edit() => view! { <PlanEditor id=p.id.clone() title=p.title.clone() initial=p.draft/> }.into_any(),
        Some(p) => view! {
            <p class="alert" role="alert">"方案已报送，正在审核或已批准，不能修改。"</p>
            <a class="back" href=format!("/work/plans/{}", p.id)>"‹ 返回"</a>
        }
        .into_any(),
        None => not_found("实施方案", "/work"),
    }
}

fn date(s: &str) -> Option<NaiveDate> {
    ledger::day::parse(s.trim())
}

/// The carriers under one aim as lines of text.
fn carrier_lines(c: &PlanContent, aim: Aim) -> String {
    c.carriers.iter().filter(|x| x.aim == aim).map(|x| x.text.as_str()).collect::<Vec<_>>().join("\n")
}

/// Sets the carriers under `aim` from lines of text, the n-th line keeping the n-th carrier's id.
fn set_carrier_lines(c: &mut PlanContent, aim: Aim, text: &str) {
    let mut ids: Vec<RecordId> = c.carriers.iter().filter(|x| x.aim == aim).map(|x| x.id.clone()).collect();
    ids.reverse();
    c.carriers.retain(|x| x.aim != aim);
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
        c.carriers.push(Carrier { id: ids.pop().unwrap_or_else(new_id), aim, text: line.to_owned() });
    }
}

#[component]
fn PlanEditor(id: RecordId, title: String, initial: PlanContent) -> impl IntoView {
    let draft = RwSignal::new(initial);
    let form = RecordForm::new();
    let errors = form.errors;
    let back = format!("/work/plans/{id}");
    let submit = {
        let id = id.clone();
        move |ev: SubmitEvent| {
            ev.prevent_default();
            let content = draft.get_untracked();
            let checked = content.check_sizes();
            form.submit(checked, Command::SavePlanDraft { id: id.clone(), content }, |id| format!("/work/plans/{id}"));
        }
    };
    let text =
        |get: fn(&PlanContent) -> &String, set: fn(&mut PlanContent, String)| (move || draft.with(|d| get(d).clone()), move |ev| draft.update(|d| set(d, event_target_value(&ev))));
    let (goals, set_goals) = text(|d| &d.goals, |d, v| d.goals = v);
    let (leader, set_leader) = text(|d| &d.leader, |d, v| d.leader = v);
    let (liaison, set_liaison) = text(|d| &d.liaison, |d, v| d.liaison = v);
    let (requirements, set_requirements) = text(|d| &d.requirements, |d, v| d.requirements = v);
    view! {
        <form class="record-form" on:submit=submit novalidate data-testid="plan-form">
            <a class="back" href=back>"‹ 返回"</a>
            <h2>"编写实施方案"</h2>
            <p class="muted small">{title}</p>
            <label class="field">"目标任务" <textarea name="goals" rows="4" prop:value=goals on:input=set_goals></textarea>
                <FieldError errors name="goals"/></label>
            <fieldset class="field">
                <legend>"主要载体（每行一项，按“四争先”“四领先”分列）"</legend>
                {Aim::ALL.iter().map(|aim| {
                    let aim = *aim;
                    view! {
                        <label class="field">{aim.label()}
                            <textarea name=format!("carrier-{}", aim.code()) rows="2"
                                prop:value=move || draft.with(|d| carrier_lines(d, aim))
                                on:change=move |ev| draft.update(|d| set_carrier_lines(d, aim, &event_target_value(&ev)))></textarea>
                        </label>
                    }
                }).collect_view()}
                <FieldError errors name="carriers"/>
            </fieldset>
            <fieldset class="field">
                <legend>"方法步骤"</legend>
                <For each=move || draft.with(|d| d.stages.iter().map(|s| s.id.clone()).collect::<Vec<_>>()) key=|id| id.clone() let:sid>
                    <StageRow draft sid/>
                </For>
                <button type="button" class="button secondary small" data-testid="add-stage"
                    on:click=move |_| draft.update(|d| d.stages.push(Stage { id: new_id(), text: String::new(), from: None, to: None }))>"＋ 添加步骤"</button>
                <FieldError errors name="stages"/>
            </fieldset>
            <label class="field">"组织领导：负责人" <input name="leader" list="unit-members" prop:value=leader on:input=set_leader/></label>
            <label class="field">"组织领导：联络员" <input name="liaison" list="unit-members" prop:value=liaison on:input=set_liaison/>
                <FieldError errors name="leadership"/></label>
            <label class="field">"工作要求" <textarea name="requirements" rows="3" prop:value=requirements on:input=set_requirements></textarea>
                <FieldError errors name="requirements"/></label>
            <fieldset class="field">
                <legend>"任务清单（做什么、谁负责、何时完成）"</legend>
                <For each=move || draft.with(|d| d.tasks.iter().map(|t| t.id.clone()).collect::<Vec<_>>()) key=|id| id.clone() let:tid>
                    <TaskRow draft tid/>
                </For>
                <button type="button" class="button secondary small" data-testid="add-task"
                    on:click=move |_| draft.update(|d| d.tasks.push(PlanTask { id: new_id(), what: String::new(), who: String::new(), due: None }))>"＋ 添加任务"</button>
                <FieldError errors name="tasks"/>
            </fieldset>
            <MemberList id="unit-members"/>
            <p class="muted small">"保存只存在本机和本单位台账中；写完后在方案页点“报送先锋办”。"</p>
            <div class="sticky-actions">
                {form.failure_view()}
                <button type="submit" class="button primary wide">"保存草稿"</button>
            </div>
        </form>
    }
}

#[component]
fn StageRow(draft: RwSignal<PlanContent>, sid: RecordId) -> impl IntoView {
    let sid = StoredValue::new(sid);
    let get = move |f: fn(&Stage) -> String| move || draft.with(|d| d.stages.iter().find(|s| s.id == sid.get_value()).map(f).unwrap_or_default());
    let set = move |f: fn(&mut Stage, String)| {
        move |ev| {
            draft.update(|d| {
                if let Some(s) = d.stages.iter_mut().find(|s| s.id == sid.get_value()) {
                    f(s, event_target_value(&ev))
                }
            })
        }
    };
    view! {
        <div class="item-row" data-testid="stage">
            <input name="stage-text" placeholder="步骤，如：动员部署" prop:value=get(|s| s.text.clone()) on:input=set(|s, v| s.text = v)/>
            <input type="date" name="stage-from" aria-label="开始" prop:value=get(|s| ledger::day::format_or_empty(s.from)) on:change=set(|s, v| s.from = date(&v))/>
            <input type="date" name="stage-to" aria-label="结束" prop:value=get(|s| ledger::day::format_or_empty(s.to)) on:change=set(|s, v| s.to = date(&v))/>
            <button type="button" class="plain" aria-label="删除这一步" on:click=move |_| draft.update(|d| d.stages.retain(|s| s.id != sid.get_value()))>"删除"</button>
        </div>
    }
}

#[component]
fn TaskRow(draft: RwSignal<PlanContent>, tid: RecordId) -> impl IntoView {
    let tid = StoredValue::new(tid);
    let get = move |f: fn(&PlanTask) -> String| move || draft.with(|d| d.tasks.iter().find(|t| t.id == tid.get_value()).map(f).unwrap_or_default());
    let set = move |f: fn(&mut PlanTask, String)| {
        move |ev| {
            draft.update(|d| {
                if let Some(t) = d.tasks.iter_mut().find(|t| t.id == tid.get_value()) {
                    f(t, event_target_value(&ev))
                }
            })
        }
    };
    view! {
        <div class="item-row" data-testid="task">
            <input name="task-what" placeholder="做什么" prop:value=get(|t| t.what.clone()) on:input=set(|t, v| t.what = v)/>
            <input name="task-who" placeholder="谁负责" list="unit-members" prop:value=get(|t| t.who.clone()) on:input=set(|t, v| t.who = v)/>
            <input type="date" name="task-due" aria-label="完成时限" prop:value=get(|t| ledger::day::format_or_empty(t.due)) on:change=set(|t, v| t.due = date(&v))/>
            <button type="button" class="plain" aria-label="删除这项任务" on:click=move |_| draft.update(|d| d.tasks.retain(|t| t.id != tid.get_value()))>"删除"</button>
        </div>
    }
}
