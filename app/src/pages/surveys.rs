//! Satisfaction surveys (群众满意度测评): the rounds, opening one, and one round's results with
//! the form to record a resident's answers offline.

use ledger::rate::per_cent;
use ledger::record_query::filter_surveys;
use ledger::survey::survey_results;
use ledger::Command;
use ledger::{RecordId, Satisfaction, Section, Survey, SurveyDraft};
use leptos::ev::SubmitEvent;
use leptos::prelude::*;

use crate::browser;
use crate::pages::parts::{not_found, plain_value, route_id, Chips, ConflictChooser, DeleteButton, History, RecordForm, TextField, Typing};
use crate::service::LedgerService;
use ledger::unit_ledger::SURVEY_FIELDS;

#[component]
pub fn SurveyList() -> impl IntoView {
    let service = expect_context::<LedgerService>();
    let text = RwSignal::new(String::new());
    let shown = Memo::new(move |_| {
        let t = text.get();
        service.surveys.with(|all| filter_surveys(all, &t).into_iter().cloned().collect::<Vec<Survey>>())
    });
    view! {
        <section class="list-page">
            <div class="search">
                <input type="search" placeholder="搜索测评名称…" aria-label="搜索测评"
                    prop:value=move || text.get() on:input=move |ev| text.set(event_target_value(&ev))/>
            </div>
            <ul class="cards">
                <For each=move || shown.get() key=|s| (s.id.clone(), s.updated_at, s.responses.len()) let:survey>
                    <li>
                        <a class="card" href=format!("/surveys/{}", survey.id)>
                            <div class="card-head">
                                <span class=if survey.closed { "status status-followed_up" } else { "status status-in_progress" }>{if survey.closed { "已结束" } else { "进行中" }}</span>
                                {(!survey.office.is_empty()).then(|| view! { <span class="tag">{survey.office.clone()}</span> })}
                                <span class="muted small">{survey.opened_on.map(|d| d.to_string())}</span>
                            </div>
                            <div class="whom">{survey.title.clone()}</div>
                            <div class="snippet">{format!("{} 份答卷 · 满意率 {}", survey.responses.len(), per_cent(satisfied(&survey)))}</div>
                        </a>
                    </li>
                </For>
            </ul>
            <Show when=move || shown.with(Vec::is_empty)>
                <p class="empty">"还没有测评。点右下角开启一轮。"</p>
            </Show>
            <a class="fab" href="/surveys/new">"＋ 开启测评"</a>
        </section>
    }
}

/// A round's 满意率 over all its answers, in three levels or (an office's round) five.
fn satisfied(survey: &Survey) -> Option<usize> {
    if survey.scale != 5 {
        return survey_results(survey).satisfied_per_mille();
    }
    let mut all = [0; 5];
    for (_, counts) in ledger::survey::level_results(survey) {
        for (a, c) in all.iter_mut().zip(counts) {
            *a += c;
        }
    }
    ledger::survey::levels_satisfied_per_mille(&all)
}

#[component]
pub fn NewSurvey() -> impl IntoView {
    let draft = RwSignal::new(SurveyDraft { title: String::new(), questions: "办事效率\n服务态度\n问题解决情况".into() });
    let form = RecordForm::new();
    let errors = form.errors;
    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        let survey = draft.get_untracked();
        let checked = survey.validate(browser::today()).map(|_| ());
        form.submit(checked, Command::AddSurvey { survey }, |id| format!("/surveys/{id}"));
    };
    view! {
        <form class="record-form" on:submit=submit novalidate>
            <a class="back" href="/surveys">"‹ 返回"</a>
            <h2>"开启一轮测评"</h2>
            <TextField label="测评名称" name="title" required=true max=ledger::survey::MAX_TITLE placeholder="例如：2026 年第四季度群众满意度测评" draft errors
                get=|d: &SurveyDraft| &d.title set=|d: &mut SurveyDraft, v| d.title = v/>
            <TextField label="测评问题（每行一个）" name="questions" required=true rows=6 draft errors
                get=|d: &SurveyDraft| &d.questions set=|d: &mut SurveyDraft, v| d.questions = v/>
            <p class="muted small">"每个问题按“满意 / 基本满意 / 不满意”作答，答卷不记录群众姓名。开启后问题不能再改。"</p>
            <div class="sticky-actions">
                {form.failure_view()}
                <button type="submit" class="button primary wide">"开启测评"</button>
            </div>
        </form>
    }
}

#[component]
pub fn SurveyDetail() -> impl IntoView {
    let service = expect_context::<LedgerService>();
    Typing::provide();
    let id = route_id();
    let survey = move || id.as_ref().and_then(|id| service.surveys.with(|all| all.iter().find(|s| s.id == *id && !s.deleted).cloned()));
    move || match survey() {
        Some(s) => view! { <SurveyView survey=s/> }.into_any(),
        None => not_found("测评", "/surveys"),
    }
}

#[component]
fn SurveyView(survey: Survey) -> impl IntoView {
    let service = expect_context::<LedgerService>();
    let results = survey_results(&survey);
    let id = survey.id.clone();
    let closed = survey.closed;
    let failure = RwSignal::new(None::<String>);
    let writes = Typing::get().writes;
    let toggle_closed = {
        let id = id.clone();
        move |_| {
            let id = id.clone();
            writes.run(
                "close",
                move || service.apply(Command::SetSurveyClosed { id, closed: !closed }),
                move |r| {
                    failure.try_set(r.err());
                },
            );
        }
    };
    let comments: Vec<(i64, String)> = survey.responses.iter().filter(|r| !r.comment.trim().is_empty()).map(|r| (r.at, r.comment.clone())).collect();
    if survey.scale == 5 {
        return view! { <RoundView survey=survey comments/> }.into_any();
    }
    view! {
        <article class="detail" data-testid="survey">
            <a class="back" href="/surveys">"‹ 满意度测评"</a>
            <h2>{survey.title.clone()}</h2>
            <ConflictChooser section=Section::Surveys id=id.clone() conflicts=survey.conflicts.clone() labels=SURVEY_FIELDS show=plain_value/>
            <p class="meta">{survey.opened_on.map(|d| format!("{d} 开启"))} {if closed { " · 已结束" } else { " · 进行中" }}</p>
            <p class="big" data-testid="survey-summary">{format!("{} 份答卷 · 总满意率 {}", results.responses, per_cent(results.satisfied_per_mille()))}</p>
            <table class="results" data-testid="survey-results">
                <thead><tr><th>"问题"</th><th>"满意"</th><th>"基本满意"</th><th>"不满意"</th><th>"满意率"</th></tr></thead>
                <tbody>
                    {results.per_question.iter().map(|q| view! {
                        <tr><td>{q.question.text.clone()}</td><td>{q.counts[0]}</td><td>{q.counts[1]}</td><td>{q.counts[2]}</td><td>{per_cent(q.satisfied_per_mille())}</td></tr>
                    }).collect_view()}
                </tbody>
            </table>
            <Comments comments=comments/>
            {(!closed).then(|| view! {
                <AnswerSheet survey=survey.clone() answers=Typing::get().answers options=Satisfaction::ALL label_of=Satisfaction::label
                    command=|id, answers, comment| Command::AnswerSurvey { id, answers, comment }/>
            })}
            {move || failure.get().map(|f| view! { <div class="alert" role="alert">{f}</div> })}
            <div class="actions">
                <button type="button" class="button secondary" disabled=move || writes.busy() on:click=toggle_closed>{move || writes.label("close", if closed { "重新开启" } else { "结束本轮测评" })}</button>
                <DeleteButton section=Section::Surveys id=id.clone() back="/surveys"/>
            </div>
            <History id=id/>
        </article>
    }
    .into_any()
}

/// A satisfaction round of the campaign office: five levels, the office's period; the unit
/// records answers and neither closes nor removes it.
#[component]
fn RoundView(survey: Survey, comments: Vec<(i64, String)>) -> impl IntoView {
    let today = browser::today();
    let open = !survey.closed && survey.closes_on.is_none_or(|d| today <= d);
    let results = ledger::survey::level_results(&survey);
    let answered = survey.responses.iter().filter(|r| !r.levels.is_empty()).count();
    view! {
        <article class="detail" data-testid="survey">
            <a class="back" href="/surveys">"‹ 满意度测评"</a>
            <h2>{survey.title.clone()}</h2>
            <p class="meta">{survey.office.clone()}" 下达 · "{survey.closes_on.map(|d| format!("{d} 截止"))}{if open { " · 进行中" } else { " · 已结束" }}</p>
            <p class="big" data-testid="survey-summary">{format!("{answered} 份答卷")}</p>
            <table class="results" data-testid="survey-results">
                <thead><tr><th>"问题"</th>{ledger::Verdict::ALL.iter().map(|v| view! { <th>{v.label()}</th> }).collect_view()}<th>"满意率"</th></tr></thead>
                <tbody>
                    {results.iter().map(|(q, c)| view! {
                        <tr><td>{q.text.clone()}</td>{c.iter().map(|n| view! { <td>{*n}</td> }).collect_view()}<td>{per_cent(ledger::survey::levels_satisfied_per_mille(c))}</td></tr>
                    }).collect_view()}
                </tbody>
            </table>
            <Comments comments=comments/>
            {open.then(|| view! {
                <AnswerSheet survey=survey.clone() answers=Typing::get().levels options=ledger::Verdict::ALL label_of=ledger::Verdict::label
                    command=|id, levels, comment| Command::AnswerRound { id, levels, comment }/>
            })}
            <History id=survey.id.clone()/>
        </article>
    }
}

/// Residents' other opinions (其他意见) written with their answers, newest last.
#[component]
fn Comments(comments: Vec<(i64, String)>) -> impl IntoView {
    (!comments.is_empty()).then(|| {
        view! {
            <details class="comments" data-testid="survey-comments">
                <summary>{format!("其他意见（{} 条）", comments.len())}</summary>
                <ul class="plain">
                    {comments.into_iter().map(|(at, c)| view! { <li><p class="pre">{c}</p><span class="muted small">{browser::date_time(at)}</span></li> }).collect_view()}
                </ul>
            </details>
        }
    })
}

/// One resident's answers: a row of big buttons per question, three levels in the unit's own
/// rounds and five in the office's (`answers`, `options` and `command` say which).
#[component]
fn AnswerSheet<C: Copy + PartialEq + Send + Sync + 'static>(
    survey: Survey,
    answers: RwSignal<Vec<(RecordId, C)>>,
    options: &'static [C],
    label_of: fn(C) -> &'static str,
    command: fn(RecordId, Vec<(RecordId, C)>, String) -> Command,
) -> impl IntoView {
    let service = expect_context::<LedgerService>();
    let Typing { note: comment, saved, writes, .. } = Typing::get();
    let failure = RwSignal::new(None::<String>);
    let id = survey.id.clone();
    let submit = move |_| {
        let c = command(id.clone(), answers.get_untracked(), comment.get_untracked());
        writes.run(
            "response",
            move || service.apply(c),
            move |result| match result {
                Ok(_) => {
                    answers.try_set(Vec::new());
                    comment.try_set(String::new());
                    failure.try_set(None);
                    saved.try_update(|n| *n += 1);
                }
                Err(e) => {
                    failure.try_set(Some(e));
                }
            },
        );
    };
    view! {
        <section class="response-form" aria-label="录入答卷">
            <h3>"录入一份答卷"</h3>
            {survey.questions.into_iter().map(|q| {
                let (qa, qb) = (q.id.clone(), q.id);
                let selected = Signal::derive(move || answers.with(|a| a.iter().find(|(q, _)| *q == qa).map(|(_, s)| *s)));
                let pick = Callback::new(move |s| answers.update(|a| {
                    a.retain(|(q, _)| *q != qb);
                    a.push((qb.clone(), s));
                }));
                view! { <Chips label=q.text options label_of selected on_pick=pick/> }
            }).collect_view()}
            <label class="field">"其他意见（选填）"
                <textarea name="comment" rows=2 prop:value=move || comment.get() on:input=move |ev| comment.set(event_target_value(&ev))></textarea>
            </label>
            {move || failure.get().map(|f| view! { <p class="field-error" role="alert">{f}</p> })}
            <button type="button" class="button primary wide" data-testid="save-response" disabled=move || writes.busy() on:click=submit>{move || writes.label("response", "保存答卷")}</button>
            {move || (saved.get() > 0).then(|| view! { <p class="saved-note" role="status" data-testid="responses-saved">{format!("已保存。本次已录入 {} 份", saved.get())}</p> })}
        </section>
    }
}
