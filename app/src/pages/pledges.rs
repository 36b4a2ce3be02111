//! Service pledges (服务承诺): the list, and one pledge with its progress and evaluations.

use ledger::pledge::Evaluator;
use ledger::rating::Target;
use ledger::record_query::filter_pledges;
use ledger::unit_ledger::PLEDGE_FIELDS;
use ledger::Command;
use ledger::{Pledge, RecordId, Satisfaction, Section};
use leptos::prelude::*;

use crate::browser;
use crate::pages::board::{poster_url, PublishSwitch, RatingsOf};
use crate::pages::parts::{not_found, plain_value, route_id, Chips, ConflictChooser, DeleteButton, History, LogList, Typing};
use crate::service::LedgerService;

#[component]
pub fn PledgeList() -> impl IntoView {
    let service = expect_context::<LedgerService>();
    let text = RwSignal::new(String::new());
    let fulfilled = RwSignal::new(None::<bool>);
    let today = browser::today();
    let shown = Memo::new(move |_| {
        let (t, f) = (text.get(), fulfilled.get());
        service.pledges.with(|all| filter_pledges(all, &t, f).into_iter().cloned().collect::<Vec<Pledge>>())
    });
    let chip = move |label: &'static str, value: Option<bool>| {
        view! {
            <button class="chip" aria-pressed=move || (fulfilled.get() == value).to_string() on:click=move |_| fulfilled.set(value)>{label}</button>
        }
    };
    view! {
        <section class="list-page">
            <div class="search">
                <input type="search" placeholder="搜索承诺内容、承诺人…" aria-label="搜索承诺"
                    prop:value=move || text.get() on:input=move |ev| text.set(event_target_value(&ev))/>
            </div>
            <div class="chips" role="group" aria-label="按兑现情况筛选">
                {chip("全部", None)}{chip("践诺中", Some(false))}{chip("已兑现", Some(true))}
            </div>
            <p class="muted count">{move || format!("共 {} 项", shown.with(Vec::len))}</p>
            <ul class="cards">
                <For each=move || shown.get() key=|p| (p.id.clone(), p.updated_at, p.evaluations.len(), p.progress.len()) let:pledge>
                    <li>
                        <a class=if pledge.is_overdue(today) { "card overdue" } else { "card" } href=format!("/pledges/{}", pledge.id)>
                            <div class="card-head">
                                <span class=if pledge.fulfilled { "status status-resolved" } else { "status status-in_progress" }>{if pledge.fulfilled { "已兑现" } else { "践诺中" }}</span>
                                {pledge.is_overdue(today).then(|| view! { <span class="tag danger">"逾期"</span> })}
                                <span class="muted small">{pledge.by.clone()} {if pledge.public { " · 公开" } else { " · 内部" }}</span>
                            </div>
                            <div class="snippet">{pledge.content.chars().take(60).collect::<String>()}</div>
                        </a>
                    </li>
                </For>
            </ul>
            <Show when=move || shown.with(Vec::is_empty)>
                <p class="empty">"还没有服务承诺。"</p>
            </Show>
            <a class="fab" href="/pledges/new">"＋ 发布承诺"</a>
        </section>
    }
}

#[component]
pub fn PledgeDetail() -> impl IntoView {
    let service = expect_context::<LedgerService>();
    Typing::provide();
    let id = route_id();
    let pledge = move || id.as_ref().and_then(|id| service.pledges.with(|all| all.iter().find(|p| p.id == *id && !p.deleted).cloned()));
    move || match pledge() {
        Some(p) => view! { <PledgeView pledge=p/> }.into_any(),
        None => not_found("承诺", "/pledges"),
    }
}

#[component]
fn PledgeView(pledge: Pledge) -> impl IntoView {
    let service = expect_context::<LedgerService>();
    let id = pledge.id.clone();
    let failure = RwSignal::new(None::<String>);
    let Typing { progress, writes, .. } = Typing::get();
    let run = move |button: &'static str, command: Command, after: Box<dyn Fn()>| {
        writes.run(
            button,
            move || service.apply(command),
            move |result| match result {
                Ok(_) => {
                    failure.try_set(None);
                    after();
                }
                Err(e) => {
                    failure.try_set(Some(e));
                }
            },
        );
    };
    let post = {
        let id = id.clone();
        move |_| {
            let (id, words) = (id.clone(), progress.get_untracked());
            run("progress", Command::PledgeProgress { id, text: words }, Box::new(move || progress.set(String::new())));
        }
    };
    let fulfil = {
        let (id, done) = (id.clone(), pledge.fulfilled);
        move |_| {
            let id = id.clone();
            run("fulfil", Command::SetPledgeFulfilled { id, fulfilled: !done }, Box::new(|| ()));
        }
    };
    let (good, total) = pledge.rating();
    let aims = pledge.aims.iter().map(|a| a.label()).collect::<Vec<_>>().join("、");
    view! {
        <article class="detail" data-testid="pledge">
            <a class="back" href="/pledges">"‹ 服务承诺"</a>
            <h2>{if pledge.team { "班子承诺" } else { "党员承诺" }} " · " {pledge.by.clone()}</h2>
            <p class="pre">{pledge.content.clone()}</p>
            <p class="meta">{aims} " · 期限 " {pledge.due.map(|d| d.to_string())} {if pledge.public { " · 公开" } else { " · 内部" }}</p>
            <p data-testid="pledge-state">{if pledge.fulfilled { format!("已兑现（{}）", browser::date_time(pledge.fulfilled_at)) } else { "践诺中".to_owned() }}</p>
            <ConflictChooser section=Section::Pledges id=id.clone() conflicts=pledge.conflicts.clone() labels=PLEDGE_FIELDS show=plain_value/>
            {pledge.public.then(|| view! { <PublishSwitch section=Section::Pledges id=id.clone() published=pledge.published/> })}
            {pledge.is_on_board().then(|| poster_url(Target::Pledge, &id)).flatten().map(|href| view! {
                <a class="button secondary" href=href target="_blank" rel="noopener" data-testid="poster">"打印评价海报"</a>
            })}
            {move || failure.get().map(|f| view! { <div class="alert" role="alert" data-testid="step-error">{f}</div> })}
            <div class="actions">
                <button type="button" class="button primary" data-testid="fulfil" disabled=move || writes.busy() on:click=fulfil>
                    {move || writes.label("fulfil", if pledge.fulfilled { "撤回“已兑现”" } else { "标记已兑现" })}
                </button>
                <a class="button secondary" href=format!("/pledges/{id}/edit")>"编辑"</a>
                <DeleteButton section=Section::Pledges id=id.clone() back="/pledges"/>
            </div>
            <h3>"践诺进展"</h3>
            <LogList entries=pledge.progress.clone() show=|e| e.text.clone()/>
            <label class="field">"记录进展"
                <textarea name="progress" rows=2 prop:value=move || progress.get() on:input=move |ev| progress.set(event_target_value(&ev))></textarea>
            </label>
            <button type="button" class="button secondary" data-testid="post-progress" disabled=move || writes.busy() on:click=post>{move || writes.label("progress", "记录进展")}</button>
            <h3>{format!("评议（{total} 条，满意及基本满意 {good} 条）")}</h3>
            <ul class="plain" data-testid="evaluations">
                {pledge.evaluations.iter().map(|e| view! {
                    <li>{e.evaluator.label()} " · " <strong>{e.rating.label()}</strong> {(!e.comment.is_empty()).then(|| format!("：{}", e.comment))}
                        <span class="muted small">" " {browser::date_time(e.at)}</span></li>
                }).collect_view()}
            </ul>
            <EvaluationForm id=id.clone()/>
            <RatingsOf target=Target::Pledge id=id.clone()/>
            <History id=id/>
        </article>
    }
}

#[component]
fn EvaluationForm(id: RecordId) -> impl IntoView {
    let service = expect_context::<LedgerService>();
    let Typing { evaluator, rating, note: comment, writes, .. } = Typing::get();
    let failure = RwSignal::new(None::<String>);
    let submit = move |_| {
        let id = id.clone();
        let (Some(who), Some(r)) = (evaluator.get_untracked(), rating.get_untracked()) else {
            failure.set(Some(match evaluator.get_untracked() {
                None => "请先选择评议人。".into(),
                Some(_) => "请先选择评价：满意、基本满意或不满意。".into(),
            }));
            return;
        };
        let c = comment.get_untracked();
        writes.run(
            "evaluate",
            move || service.apply(Command::EvaluatePledge { id, evaluator: who, rating: r, comment: c }),
            move |result| match result {
                Ok(_) => {
                    // The next evaluator chooses afresh: nothing carries over.
                    comment.try_set(String::new());
                    rating.try_set(None);
                    evaluator.try_set(None);
                    failure.try_set(None);
                }
                Err(e) => {
                    failure.try_set(Some(e));
                }
            },
        );
    };
    view! {
        <details class="evaluate">
            <summary>"录入评议"</summary>
            <Chips label="评议人（必选）" name="evaluator" options=Evaluator::ALL label_of=Evaluator::label
                selected=Signal::derive(move || evaluator.get()) on_pick=Callback::new(move |e| { evaluator.set(Some(e)); failure.set(None); })/>
            <Chips label="评价（必选）" name="rating" options=Satisfaction::ALL label_of=Satisfaction::label
                selected=Signal::derive(move || rating.get()) on_pick=Callback::new(move |s| { rating.set(Some(s)); failure.set(None); })/>
            <label class="field">"意见"
                <textarea name="comment" rows=2 prop:value=move || comment.get() on:input=move |ev| comment.set(event_target_value(&ev))></textarea>
            </label>
            {move || failure.get().map(|f| view! { <p class="field-error" role="alert">{f}</p> })}
            <button type="button" class="button primary" data-testid="submit-evaluation" disabled=move || writes.busy() on:click=submit>{move || writes.label("evaluate", "提交评议")}</button>
        </details>
    }
}
