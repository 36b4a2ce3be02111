//! 工作: what the campaign office (先锋办) sent the unit — its 通报, the 实施方案 it asked for and
//! the clean-up rounds of rules — and the unit's own rules (制度). Everything here arrived with
//! a sync and is read offline; the office's deadlines are shown as the office set them.

use ledger::plan::{Plan, PlanContent, PlanState};
use ledger::unit_ledger::{Notice, RoundKind};
use ledger::{Command, RecordId};
use leptos::prelude::*;

use crate::browser;
use crate::pages::parts::{not_found, route_id, History};
use crate::pages::write_once::WriteOnce;
use crate::service::LedgerService;

/// The 工作 tab's badge: notices not yet opened, and for the secretary the plans to draft or
/// revise (a cadre cannot act on those).
pub fn waiting_count(service: LedgerService, write: ledger::org::Write) -> Memo<usize> {
    Memo::new(move |_| {
        let notices = service.notices.with(|n| n.iter().filter(|n| !n.deleted && n.opened_at.is_none()).count());
        let plans = if write == ledger::org::Write::Everything { service.plans.with(|p| p.iter().filter(|p| p.may_edit()).count()) } else { 0 };
        notices + plans
    })
}

#[component]
pub fn WorkPage() -> impl IntoView {
    let service = expect_context::<LedgerService>();
    let today = browser::today();
    let notices = Memo::new(move |_| {
        let mut all: Vec<Notice> = service.notices.with(|n| n.iter().filter(|n| !n.deleted).cloned().collect());
        // Unread first, then newest.
        ledger::order::sort_by(&mut all, |a, b| (a.opened_at.is_some(), std::cmp::Reverse(a.published_on)).cmp(&(b.opened_at.is_some(), std::cmp::Reverse(b.published_on))));
        all
    });
    let plans = Memo::new(move |_| {
        let mut all: Vec<Plan> = service.plans.get();
        ledger::order::sort_by(&mut all, |a, b| b.deadline.cmp(&a.deadline));
        all
    });
    let cleanups = Memo::new(move |_| service.rounds.with(|r| r.iter().filter(|r| !r.deleted && r.kind == RoundKind::Cleanup).cloned().collect::<Vec<_>>()));
    let rules = Memo::new(move |_| service.rules.with(|r| r.iter().filter(|r| !r.deleted).count()));
    view! {
        <section class="list-page" data-testid="work">
            <h2 class="section-title">"通报"</h2>
            <ul class="cards" data-testid="notices">
                <For each=move || notices.get() key=|n| (n.id.clone(), n.opened_at) let:notice>
                    <li>
                        <a class="card" href=format!("/work/notices/{}", notice.id)>
                            <div class="card-head">
                                {if notice.opened_at.is_none() { view! { <span class="tag">"未读"</span> }.into_any() } else { view! { <span class="muted small">"已读"</span> }.into_any() }}
                                <span class="muted small">{notice.office.clone()}" · "{notice.published_on.map(|d| d.to_string())}</span>
                            </div>
                            <div class="whom">{notice.title.clone()}</div>
                        </a>
                    </li>
                </For>
            </ul>
            <Show when=move || notices.with(Vec::is_empty)>
                <p class="empty">"没有通报。"</p>
            </Show>
            <h2 class="section-title">"实施方案"</h2>
            <ul class="cards" data-testid="plans">
                <For each=move || plans.get() key=|p| (p.id.clone(), p.updated_at) let:plan>
                    <li>
                        <a class="card" href=format!("/work/plans/{}", plan.id)>
                            <div class="card-head">
                                <span class=format!("status plan-{}", plan.state().code())>{plan.state().label()}</span>
                                {plan_due(&plan, today)}
                            </div>
                            <div class="whom">{plan.title.clone()}</div>
                            <div class="snippet">{plan.office.clone()}{task_line(&plan, today)}</div>
                        </a>
                    </li>
                </For>
            </ul>
            <Show when=move || plans.with(Vec::is_empty)>
                <p class="empty">"先锋办还没有下达实施方案。"</p>
            </Show>
            <h2 class="section-title">"制度"</h2>
            <ul class="cards">
                <For each=move || cleanups.get() key=|r| r.id.clone() let:round>
                    <li>
                        <a class="card" href="/work/rules">
                            <div class="card-head"><span class="tag">"制度清理"</span>
                                <span class="muted small">{round.deadline.map(|d| format!("{d} 前完成"))}</span></div>
                            <div class="whom">{round.title.clone()}</div>
                            <div class="snippet">{round.office.clone()}</div>
                        </a>
                    </li>
                </For>
                <li>
                    <a class="card" href="/work/rules" data-testid="rules-link">
                        <div class="whom">"本单位制度台账"</div>
                        <div class="snippet">{move || format!("{} 项制度", rules.get())}</div>
                    </a>
                </li>
            </ul>
            <h2 class="section-title">"本机设置"</h2>
            <crate::pages::media::PhotoSpaceSetting/>
        </section>
    }
}

fn plan_due(plan: &Plan, today: chrono::NaiveDate) -> impl IntoView {
    let late = plan.may_edit() && plan.deadline.is_some_and(|d| today > d);
    plan.deadline.map(|d| {
        let class = if late { "due overdue" } else { "due" };
        view! { <span class=class>{if late { format!("已逾期（{d} 前报送）") } else { format!("{d} 前报送") }}</span> }
    })
}

fn task_line(plan: &Plan, today: chrono::NaiveDate) -> String {
    let tasks = plan.followed_tasks();
    if tasks.is_empty() {
        return String::new();
    }
    let done = tasks.iter().filter(|t| t.done_at.is_some()).count();
    let late = tasks.iter().filter(|t| t.overdue(today)).count();
    match late {
        0 => format!(" · 任务 {done}/{} 完成", tasks.len()),
        n => format!(" · 任务 {done}/{} 完成，{n} 项逾期", tasks.len()),
    }
}

#[component]
pub fn NoticeDetail() -> impl IntoView {
    let service = expect_context::<LedgerService>();
    let id = StoredValue::new(route_id());
    let notice = move || id.with_value(|id| id.as_ref().and_then(|id| service.notices.with(|all| all.iter().find(|n| n.id == *id && !n.deleted).cloned())));
    // Opening it says 已阅 for the unit, once (anyone of the unit who may write).
    let writes = WriteOnce::provide();
    let may_write = expect_context::<ledger::org::Write>() >= ledger::org::Write::Cadre;
    Effect::new(move |_| {
        if let Some(n) = notice() {
            if n.opened_at.is_none() && may_write {
                let id = n.id.clone();
                writes.run("open", move || service.apply(Command::OpenNotice { id }), |_| ());
            }
        }
    });
    move || match notice() {
        Some(n) => view! {
            <article class="detail" data-testid="notice">
                <a class="back" href="/work">"‹ 工作"</a>
                <h2>{n.title.clone()}</h2>
                <p class="meta">{n.office.clone()}" · "{n.published_on.map(|d| d.to_string())}</p>
                <p class="pre">{n.body.clone()}</p>
            </article>
        }
        .into_any(),
        None => not_found("通报", "/work"),
    }
}

#[component]
pub fn PlanDetail() -> impl IntoView {
    let service = expect_context::<LedgerService>();
    let writes = WriteOnce::provide();
    let failure = RwSignal::new(None::<String>);
    let id = route_id();
    let plan = move || id.as_ref().and_then(|id| service.plans.with(|all| all.iter().find(|p| p.id == *id).cloned()));
    move || match plan() {
        Some(p) => view! { <PlanView plan=p writes failure/> }.into_any(),
        None => not_found("实施方案", "/work"),
    }
}

#[component]
fn PlanView(plan: Plan, writes: WriteOnce, failure: RwSignal<Option<String>>) -> impl IntoView {
    let service = expect_context::<LedgerService>();
    let write = expect_context::<ledger::org::Write>();
    let secretary = write == ledger::org::Write::Everything;
    let today = browser::today();
    let state = plan.state();
    let id = plan.id.clone();
    // The opinion that sent it back, where the secretary will look first.
    let returned = (state == PlanState::Returned).then(|| plan.decision().cloned()).flatten().map(|r| {
        view! {
            <div class="alert" role="alert" data-testid="returned">
                <p><strong>{r.by.clone()}"退回修改"</strong>{(!r.opinion.is_empty()).then(|| format!("：{}", r.opinion))}</p>
                <ul>{r.parts.iter().map(|(part, text)| view! { <li>{part.label()}"："{text.clone()}</li> }).collect_view()}</ul>
            </div>
        }
    });
    let shown: PlanContent = match state {
        PlanState::Drafting | PlanState::Returned => plan.draft.clone(),
        _ => plan.latest().map(|s| s.content.clone()).unwrap_or_default(),
    };
    let submit = {
        let id = id.clone();
        move |_| {
            let id = id.clone();
            writes.run(
                "submit",
                move || service.apply(Command::SubmitPlan { id }),
                move |r| match r {
                    Ok(_) => failure.set(None),
                    Err(e) => failure.set(Some(e)),
                },
            );
        }
    };
    let actions = (secretary && plan.may_edit()).then(|| {
        view! {
            <div class="actions">
                <a class="button secondary" href=format!("/work/plans/{id}/edit") data-testid="edit-plan">"编写方案"</a>
                <button class="button primary" data-testid="submit-plan" disabled=move || writes.busy() on:click=submit>{move || writes.label("submit", "报送先锋办")}</button>
            </div>
            <p class="muted small">"报送后方案锁定，由先锋办审核；退回后可修改再报。"</p>
        }
    });
    let tasks = plan.followed_tasks();
    let follow = (!tasks.is_empty()).then(|| {
        let may = write >= ledger::org::Write::Cadre;
        let rows = tasks
            .into_iter()
            .map(|t| {
                let late = t.overdue(today);
                let done = t.done_at.is_some();
                let (plan_id, task) = (id.clone(), t.task.id.clone());
                let toggle = may.then(|| {
                    view! {
                        <button class="button secondary small" data-testid="task-done" disabled=move || writes.busy()
                            on:click=move |_| {
                                let (id, task) = (plan_id.clone(), task.clone());
                                writes.run("task", move || service.apply(Command::FollowTask { id, task, done: !done, note: String::new() }), move |r| if let Err(e) = r { failure.set(Some(e)) });
                            }>{if done { "重新打开" } else { "标记完成" }}</button>
                    }
                });
                view! {
                    <li class:overdue=late data-task=t.task.what.clone()>
                        <span>{t.task.what.clone()}" · "{t.task.who.clone()}" · "{t.task.due.map(|d| format!("{d} 前"))}</span>
                        <span class="muted small">{match (done, late) {
                            (true, _) => format!("已完成 {}", t.done_at.map(browser::date_time).unwrap_or_default()),
                            (false, true) => "已逾期".to_owned(),
                            (false, false) => "进行中".to_owned(),
                        }}</span>
                        {toggle}
                    </li>
                }
            })
            .collect_view();
        view! {
            <h3>"任务跟进"</h3>
            <p class="muted small">"方案已批准：完成一项标记一项即可，不需另报进度。"</p>
            <ul class="tasks" data-testid="tasks">{rows}</ul>
        }
    });
    view! {
        <article class="detail" data-testid="plan">
            <a class="back" href="/work">"‹ 工作"</a>
            <h2>{plan.title.clone()}</h2>
            <p class="meta">
                <span class=format!("status plan-{}", state.code()) data-testid="plan-state">{state.label()}</span>
                " · "{plan.office.clone()}" · "{plan_due(&plan, today)}
            </p>
            {returned}
            {move || failure.get().map(|f| view! { <div class="alert" role="alert" data-testid="save-error">{f}</div> })}
            {actions}
            {follow}
            <PlanContentView content=shown/>
            <h3>"报送与审核"</h3>
            <ul class="log">
                {versions(&plan).into_iter().map(|(at, line)| view! { <li>{browser::date_time(at)}" "{line}</li> }).collect_view()}
            </ul>
            <History id=plan.id.clone()/>
        </article>
    }
}

fn versions(plan: &Plan) -> Vec<(i64, String)> {
    let mut lines: Vec<(i64, String)> = plan.submissions.iter().enumerate().map(|(i, s)| (s.at, format!("{} 报送第 {} 稿", s.by, i + 1))).collect();
    for r in &plan.reviews {
        lines.push((r.at, format!("{}：{}{}", r.by, r.verdict.label(), if r.opinion.is_empty() { String::new() } else { format!("。{}", r.opinion) })));
    }
    ledger::order::sort(&mut lines);
    lines
}

#[component]
pub fn PlanContentView(content: PlanContent) -> impl IntoView {
    let carriers = ledger::pledge::Aim::ALL
        .iter()
        .filter_map(|aim| {
            let items: Vec<String> = content.carriers.iter().filter(|c| c.aim == *aim && !c.text.is_empty()).map(|c| c.text.clone()).collect();
            (!items.is_empty()).then(|| view! { <li><strong>{aim.label()}"："</strong>{items.join("；")}</li> })
        })
        .collect_view();
    let empty = |s: &str| if s.trim().is_empty() { "（未填写）".to_owned() } else { s.to_owned() };
    view! {
        <dl class="plan-content">
            <dt>"目标任务"</dt><dd class="pre">{empty(&content.goals)}</dd>
            <dt>"主要载体"</dt><dd><ul>{carriers}</ul></dd>
            <dt>"方法步骤"</dt>
            <dd><ol>{content.stages.iter().map(|s| view! {
                <li>{s.text.clone()}" "{match (s.from, s.to) { (Some(a), Some(b)) => format!("（{a} 至 {b}）"), (Some(a), None) => format!("（{a} 起）"), _ => String::new() }}</li>
            }).collect_view()}</ol></dd>
            <dt>"组织领导"</dt><dd>"负责人："{empty(&content.leader)}"；联络员："{empty(&content.liaison)}</dd>
            <dt>"工作要求"</dt><dd class="pre">{empty(&content.requirements)}</dd>
            <dt>"任务清单"</dt>
            <dd><ul>{content.tasks.iter().map(|t| view! { <li>{t.what.clone()}" · "{t.who.clone()}" · "{t.due.map(|d| format!("{d} 前"))}</li> }).collect_view()}</ul></dd>
        </dl>
    }
}

/// A fresh id for a line added in an editor.
pub fn new_id() -> RecordId {
    RecordId::random()
}
