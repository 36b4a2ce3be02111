//! One problem: its facts, the next steps its status allows, progress, log and history.

use ledger::problem::{describe_entry, describe_value, Action, ActionKind, Status};
use ledger::unit_ledger::PROBLEM_FIELDS;
use ledger::Command;
use ledger::{Problem, RecordId, Satisfaction, Section};
use leptos::prelude::*;

use crate::browser;
use crate::pages::parts::{not_found, route_id, Chips, ConflictChooser, DeleteButton, History, LogList, Typing};
use crate::service::LedgerService;

#[component]
pub fn ProblemDetail() -> impl IntoView {
    let service = expect_context::<LedgerService>();
    Typing::provide();
    let id = route_id();
    let problem = move || id.as_ref().and_then(|id| service.problems.with(|all| all.iter().find(|p| p.id == *id && !p.deleted).cloned()));
    move || match problem() {
        Some(p) => view! { <ProblemView problem=p/> }.into_any(),
        None => not_found("问题", "/problems"),
    }
}

#[component]
fn ProblemView(problem: Problem) -> impl IntoView {
    let service = expect_context::<LedgerService>();
    // Opened: its 督办意见 are seen, on the list and the tab too.
    if let Some(seen) = use_context::<crate::pages::new_remarks::RemarksSeen>() {
        let shown = problem.clone();
        Effect::new(move |_| seen.saw(&shown));
    }
    let today = browser::today();
    let overdue = problem.is_overdue(today);
    let id = problem.id.clone();
    // An enterprise's difficulty speaks of help given (帮扶) and its outcome (成效).
    let for_firm = problem.enterprise_id.is_some();
    // Read in the view, so a restored (or deleted) source visit shows at once.
    let visit_id = problem.visit_id.clone();
    let visit = move || visit_id.as_ref().and_then(|v| service.visit(v));
    let firm = problem.enterprise_id.as_ref().and_then(|f| service.enterprises.with_untracked(|all| all.iter().find(|e| e.id == *f).cloned()));
    let field = |label: &'static str, value: String| (!value.is_empty()).then(|| view! { <div class="field-view"><h3>{label}</h3><p class="pre">{value}</p></div> });
    // Two people moved the status differently: both show, and no step is offered until one is kept.
    let status_conflict = problem.status_conflict();
    // A value two people set differently is marked where it shows; the chooser below settles it.
    let mark = |field: &str, text: String| if problem.conflict(field).is_some() { format!("{text}（有冲突）") } else { text };
    let meta = [
        Some(mark("category", problem.category.label().to_owned())),
        problem.difficulty.map(|d| mark("difficulty", format!("企业困难：{}", d.label()))),
        Some(mark("raised_by", format!("反映人：{}", problem.raised_by.label()))),
        Some(mark("urgency", format!("紧急程度：{}", problem.urgency.label()))),
        (!problem.responsible.is_empty()).then(|| mark("responsible", format!("责任人：{}", problem.responsible))),
        (!problem.contact.is_empty()).then(|| mark("contact", format!("反映人联系方式：{}", problem.contact))),
        problem.deadline.map(|d| mark("deadline", format!("时限：{d}"))),
    ]
    .into_iter()
    .flatten()
    .collect::<Vec<_>>()
    .join(" · ");
    view! {
        <article class="detail" data-testid="problem">
            <a class="back" href="/problems">"‹ 问题台账"</a>
            <h2>{mark("title", problem.title.clone())}</h2>
            <p class="card-head">
                <span class=format!("status status-{}", problem.status.code()) data-testid="problem-status">{problem.status.label()}</span>
                {status_conflict.clone().map(|both| view! { <span class="tag danger" data-testid="status-conflict">{format!("状态冲突：{both}")}</span> })}
                {overdue.then(|| view! { <span class="tag danger">"逾期"</span> })}
            </p>
            <p class="meta">{meta}</p>
            <ConflictChooser section=Section::Problems id=id.clone() conflicts=problem.conflicts.clone() labels=PROBLEM_FIELDS show=describe_value/>
            {field("问题描述", problem.description.clone())}
            <crate::pages::media::PhotoStrip photos=problem.photos.clone()/>
            <crate::pages::media::LocationLine location=problem.location/>
            // 督办意见 from supervisors above the unit (written on the supervisor's desk), with who.
            {(!problem.supervision.is_empty()).then(|| view! {
                <section class="supervision" data-testid="supervision">
                    <h3>"督办意见"</h3>
                    <LogList entries=problem.supervision.clone() show=describe_entry/>
                </section>
            })}
            {move || visit().map(|v| if v.deleted {
                view! { <DeletedSourceVisit visit=v/> }.into_any()
            } else {
                view! { <p><a href=format!("/visits/{}", v.id)>"来源走访：" {v.whom} " · " {v.date.map(|d| d.to_string())}</a></p> }.into_any()
            })}
            {firm.map(|f| view! { <p><a href=format!("/enterprises/{}", f.id)>"企业：" {f.name}</a></p> })}
            {field(if for_firm { "帮扶成效" } else { "办理结果" }, problem.result.clone())}
            {field("不予受理理由", problem.reject_reason.clone())}
            {problem.satisfaction.map(|s| view! {
                <div class="field-view"><h3>"群众评价"</h3><p data-testid="satisfaction">{s.label()} {(!problem.satisfaction_comment.is_empty()).then(|| format!("：{}", problem.satisfaction_comment))}</p></div>
            })}
            {match status_conflict {
                Some(_) => view! { <p class="notice" data-testid="steps-blocked">"办理状态有两个值：请先在上方选定一个，再办理下一步。"</p> }.into_any(),
                None => view! { <StepPanel id=id.clone() status=problem.status for_firm contact=problem.contact.clone()/> }.into_any(),
            }}
            // Once closed, the resident may rate how it was handled (一事一评).
            {matches!(problem.status, ledger::Status::Resolved | ledger::Status::FollowedUp).then(|| view! {
                <crate::pages::board::OnceCodeButton target=ledger::rating::Target::Problem id=id.clone()/>
            })}
            {(expect_context::<ledger::org::Write>() == ledger::org::Write::Everything).then(|| view! { <AssignBox id=id.clone() current=problem.responsible.clone()/> })}
            <ProgressBox id=id.clone() for_firm/>
            <h3>"办理记录"</h3>
            <LogList entries=problem.log.clone() show=describe_entry/>
            <History id=id.clone()/>
            <RecordActions id=id/>
        </article>
    }
}

/// The visit a problem came from was deleted: say so, by whom and when, and offer it back.
#[component]
fn DeletedSourceVisit(visit: ledger::Visit) -> impl IntoView {
    let service = expect_context::<LedgerService>();
    let writes = Typing::get().writes;
    let failure = RwSignal::new(None::<String>);
    let who = RwSignal::new(String::new());
    let asked = visit.id.clone();
    leptos::task::spawn_local(async move {
        if let Some(h) = service.deletion(Section::Visits, asked).await {
            let by = if h.by.is_empty() { "未署名".to_owned() } else { h.by };
            who.try_set(format!("（{by} 于 {} 删除）", browser::date_time(h.at_seconds * 1000)));
        }
    });
    let id = visit.id.clone();
    let restore = move |_| {
        let id = id.clone();
        writes.run(
            "restore-visit",
            move || service.set_deleted(Section::Visits, id, false),
            move |r| {
                failure.try_set(r.err());
            },
        );
    };
    view! {
        <div class="notice" data-testid="source-visit-deleted">
            <p>{format!("来源走访“{}”已删除", visit.whom)}{who}"。"</p>
            <button type="button" class="button secondary" disabled=move || writes.busy() on:click=restore>{move || writes.label("restore-visit", "恢复这条走访")}</button>
            {move || failure.get().map(|f| view! { <p class="field-error" role="alert">{f}</p> })}
        </div>
    }
}

/// The steps open from the current status; a step that needs words asks for them first.
#[component]
fn StepPanel(id: RecordId, status: Status, for_firm: bool, contact: String) -> impl IntoView {
    let service = expect_context::<LedgerService>();
    let typing = Typing::get();
    let Typing { step: open, rating, writes, .. } = typing;
    let failure = RwSignal::new(None::<String>);
    let take = move |kind: ActionKind| {
        let note = typing.step_note(kind);
        let action = match kind {
            ActionKind::Start => Action::Start,
            ActionKind::Reopen => Action::Reopen,
            ActionKind::Resolve => Action::Resolve { result: note },
            ActionKind::Reject => Action::Reject { reason: note },
            ActionKind::FollowUp => match rating.get_untracked() {
                Some(satisfaction) => Action::FollowUp { satisfaction, comment: note },
                None => {
                    failure.set(Some("请先选择群众满意度：满意、基本满意或不满意。".into()));
                    return;
                }
            },
        };
        let id = id.clone();
        writes.run(
            kind.code(),
            move || service.apply(Command::StepProblem { id, action }),
            move |result| match result {
                Ok(_) => {
                    open.try_set(None);
                    typing.step_notes.try_update(|n| n.retain(|(k, _)| *k != kind));
                    rating.try_set(None);
                    failure.try_set(None);
                }
                Err(e) => {
                    failure.try_set(Some(e));
                }
            },
        );
    };
    let take = StoredValue::new(take);
    let needs_words = |k: ActionKind| matches!(k, ActionKind::Resolve | ActionKind::Reject | ActionKind::FollowUp);
    let prompt = move |k: ActionKind| match k {
        ActionKind::Resolve if for_firm => "帮扶成效（企业的困难解决得怎样）",
        ActionKind::Resolve => "办理结果（怎么解决的）",
        ActionKind::Reject => "不予受理的理由（会告知群众）",
        _ => "群众的意见（不满意时必填）",
    };
    // 办结 and 不予受理 are the secretary's (书记); a cadre's phone does not offer them.
    let write = use_context::<ledger::org::Write>().unwrap_or(ledger::org::Write::Everything);
    let actions: Vec<ActionKind> =
        status.actions().iter().copied().filter(|k| write == ledger::org::Write::Everything || !matches!(k, ActionKind::Resolve | ActionKind::Reject)).collect();
    (!actions.is_empty()).then(|| view! {
        <section class="steps" aria-label="办理">
            <div class="actions">
                {actions.into_iter().map(|k| view! {
                    <button type="button" class=if k == ActionKind::Reject { "button secondary" } else { "button primary" }
                        data-action=k.code() disabled=move || writes.busy()
                        on:click=move |_| if needs_words(k) { open.set(Some(k)); failure.set(None); } else { take.with_value(|t| t(k)) }>
                        {move || writes.label(k.code(), k.label())}
                    </button>
                }).collect_view()}
            </div>
            {move || open.get().map(|k| view! {
                <div class="step-form">
                    {(k == ActionKind::FollowUp).then(|| {
                        let contact = contact.clone();
                        let phone: String = contact.chars().filter(|c| c.is_ascii_digit() || *c == '+').collect();
                        view! {
                            <p class="contact" data-testid="follow-up-contact">
                                {if contact.is_empty() { "没有留下反映人的联系方式。".to_owned() } else { format!("联系反映人：{contact}") }}
                                {(phone.len() >= 7).then(|| view! { " " <a class="button secondary" href=format!("tel:{phone}")>"拨打"</a> })}
                            </p>
                        }
                    })}
                    {(k == ActionKind::FollowUp).then(|| view! {
                        <Chips label="群众满意度（必选）" name="satisfaction" options=Satisfaction::ALL label_of=Satisfaction::label
                            selected=Signal::derive(move || rating.get()) on_pick=Callback::new(move |s| { rating.set(Some(s)); failure.set(None); })/>
                    })}
                    <label class="field">{prompt(k)}
                        <textarea name="step-note" rows=3 prop:value=move || typing.step_note(k) on:input=move |ev| typing.set_step_note(k, event_target_value(&ev))></textarea>
                    </label>
                    {move || failure.get().map(|f| view! { <div class="alert" role="alert" data-testid="step-error">{f}</div> })}
                    <div class="actions">
                        <button type="button" class="button primary" data-testid="confirm-step" disabled=move || writes.busy()
                            on:click=move |_| take.with_value(|t| t(k))>{move || writes.label(k.code(), if k == ActionKind::FollowUp { "确认回访" } else if k == ActionKind::Resolve { "确认办结" } else { "确认不予受理" })}</button>
                        <button type="button" class="button secondary" on:click=move |_| { open.set(None); failure.set(None); }>"取消"</button>
                    </div>
                </div>
            })}
            {move || (open.get().is_none()).then(|| failure.get().map(|f| view! { <div class="alert" role="alert" data-testid="step-error">{f}</div> }))}
        </section>
    })
}

/// Posting progress (办理进展, or help given to a firm).
#[component]
pub fn ProgressBox(id: RecordId, for_firm: bool) -> impl IntoView {
    let service = expect_context::<LedgerService>();
    // Photos of this step: written with it, once.
    let Typing { progress: text, progress_media: media, writes, .. } = Typing::get();
    let failure = RwSignal::new(None::<String>);
    let post = move |_| {
        let id = id.clone();
        let words = text.get_untracked();
        let photos = media.get_untracked().add;
        writes.run(
            "progress",
            move || service.apply(Command::ProblemProgress { id, text: words, photos }),
            move |result| match result {
                Ok(_) => {
                    text.try_set(String::new());
                    media.try_set(Default::default());
                    failure.try_set(None);
                }
                Err(e) => {
                    failure.try_set(Some(e));
                }
            },
        );
    };
    let label = if for_firm { "记录帮扶措施" } else { "记录进展" };
    view! {
        <div class="progress-box">
            <label class="field">{label}
                <textarea name="progress" rows=2 placeholder="今天做了什么、结果如何" prop:value=move || text.get() on:input=move |ev| text.set(event_target_value(&ev))></textarea>
            </label>
            <crate::pages::media::MediaField current=Vec::new() location=None edit=media no_location=true/>
            {move || failure.get().map(|f| view! { <p class="field-error" role="alert">{f}</p> })}
            <button type="button" class="button secondary" data-testid="post-progress" disabled=move || writes.busy() on:click=post>{move || writes.label("progress", label)}</button>
        </div>
    }
}

/// 指派: the secretary names who is responsible, on the problem's page (not only in 编辑); the
/// log records it.
#[component]
fn AssignBox(id: RecordId, current: String) -> impl IntoView {
    let service = expect_context::<LedgerService>();
    // The typed name lives with the page: this box is drawn again whenever the record changes
    // (a sync arriving between typing and tapping once sent an empty name).
    let Typing { assignee: typed, writes, .. } = Typing::get();
    let members = expect_context::<crate::app::Members>().0.get_value();
    let current = StoredValue::new(current);
    let name = move || typed.get().unwrap_or_else(|| current.get_value());
    let failure = RwSignal::new(None::<String>);
    let assign = move |_| {
        let id = id.clone();
        let who = typed.get_untracked().unwrap_or_else(|| current.get_value());
        writes.run(
            "assign",
            move || service.apply(Command::AssignProblem { id, responsible: who }),
            move |result| {
                if result.is_ok() {
                    typed.try_set(None);
                }
                failure.try_set(result.err());
            },
        );
    };
    view! {
        <div class="assign-box" data-testid="assign">
            <label class="field">"责任人（指派）"
                <input name="assign" list="assign-members" placeholder="从本单位人员中选，或填写姓名" prop:value=name on:input=move |ev| typed.set(Some(event_target_value(&ev)))/>
            </label>
            <datalist id="assign-members">{members.into_iter().map(|m| view! { <option value=m/> }).collect_view()}</datalist>
            {move || failure.get().map(|f| view! { <p class="field-error" role="alert">{f}</p> })}
            <button type="button" class="button secondary" disabled=move || writes.busy() on:click=assign>{move || writes.label("assign", "指派")}</button>
        </div>
    }
}

#[component]
fn RecordActions(id: RecordId) -> impl IntoView {
    let edit = format!("/problems/{id}/edit");
    view! {
        <div class="actions">
            <a class="button" href=edit>"编辑"</a>
            <DeleteButton section=Section::Problems id back="/problems"/>
        </div>
    }
}
