//! 先锋办: the campaign office's desk. It opens a round (实施方案 or 制度清理) or publishes a 通报
//! for the units below one of its nodes, sees where each unit stands, and reviews each unit's
//! plan (批准, or 退回 with a reason, per part where it wants). What the units answer comes from
//! their ledgers; nobody fills in a report for this page.

use http_api::office::{NewNotice, NewRound, OfficeView, Opened, PlanView, ReviewForm, RoundDetail, RoundRow};
use ledger::plan::{Plan, PlanContent, PlanPart, ReviewVerdict};
use leptos::prelude::*;
use leptos::task::spawn_local;

use http_api::route::View;

use crate::api::{self, ApiError, Me};

/// What the office desk shows below its list: a round's units, or one unit's plan.
#[derive(Clone, PartialEq)]
enum Open {
    Nothing,
    Round(String),
    Plan { round: String, unit: String },
}

#[derive(Clone, Copy)]
struct OfficeDeskState {
    view: RwSignal<Option<Result<OfficeView, ApiError>>>,
    open: RwSignal<Open>,
    message: RwSignal<Option<Result<String, String>>>,
    /// Bumped after an action, so what is open is fetched again.
    reloads: RwSignal<u32>,
}

impl OfficeDeskState {
    fn reload(self) {
        self.reloads.update(|n| *n += 1);
        spawn_local(async move {
            self.view.set(Some(api::get::<OfficeView>("/api/office").await));
        });
    }
}

#[component]
pub fn OfficeDesk(me: Me, on_signed_out: impl Fn() + Copy + Send + Sync + 'static) -> impl IntoView {
    let state = OfficeDeskState { view: RwSignal::new(None), open: RwSignal::new(Open::Nothing), message: RwSignal::new(None), reloads: RwSignal::new(0) };
    provide_context(state);
    state.reload();
    let nodes: Vec<String> = me.roles.iter().filter(|r| r.role == "office").map(|r| r.path.clone()).collect();
    let desk = crate::supervise::provide_desk();
    let tabs = [(View::Overview, "下达工作"), (View::Awards, "评先评优"), (View::Records, "实绩")];
    view! {
        <header class="bar">
            <strong>"先锋台账 · 先锋办"</strong>
            <span class="who" data-testid="who">{me.person.name.clone()}" · 先锋办 · "{nodes.join("，")}</span>
            <crate::app::SignOut on_signed_out=on_signed_out/>
        </header>
        <crate::supervise::ViewTabs tabs=tabs.to_vec()/>
        {move || match desk.route.get().view {
            View::Awards => view! { <crate::awards::OfficeAwards/> }.into_any(),
            View::Records => view! { <crate::achievement::PeoplePage/> }.into_any(),
            View::Person { id } => view! { <crate::achievement::PersonPage id=id/> }.into_any(),
            View::Record { ledger, section, id } => view! { <crate::record::RecordPage ledger=ledger section=section id=id/> }.into_any(),
            _ => view! { <OfficeWork on_signed_out=on_signed_out/> }.into_any(),
        }}
    }
}

/// 下达工作: rounds and notices, and what is open of them.
#[component]
fn OfficeWork(on_signed_out: impl Fn() + Copy + Send + Sync + 'static) -> impl IntoView {
    let state = expect_context::<OfficeDeskState>();
    view! {
        {move || match state.view.get() {
            None => view! { <p class="muted">"正在读取…"</p> }.into_any(),
            Some(Err(ApiError::SignedOut)) => { on_signed_out(); view! { <p/> }.into_any() }
            Some(Err(e)) => view! { <p class="error">{e.message()}</p> }.into_any(),
            Some(Ok(view)) => view! {
                <NewWork view=view.clone()/>
                <crate::org_tree::Outcome message=state.message/>
                <Rounds rounds=view.rounds.clone()/>
            }.into_any(),
        }}
        {move || match state.open.get() {
            Open::Nothing => ().into_any(),
            Open::Round(id) => view! { <RoundUnits id=id/> }.into_any(),
            Open::Plan { round, unit } => view! { <PlanReview round=round unit=unit/> }.into_any(),
        }}
    }
}

/// 下达工作: a round or a notice for the units below a node.
#[component]
fn NewWork(view: OfficeView) -> impl IntoView {
    let state = expect_context::<OfficeDeskState>();
    let kind = RwSignal::new("plan".to_owned());
    let title = RwSignal::new(String::new());
    let deadline = RwSignal::new(String::new());
    let body = RwSignal::new(String::new());
    let questions = RwSignal::new("办事效率\n服务态度\n问题解决情况".to_owned());
    let node = RwSignal::new(view.nodes.first().map(|n| n.unit.clone()).unwrap_or_default());
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let (k, n) = (kind.get_untracked(), node.get_untracked());
        spawn_local(async move {
            let answer = if k == "notice" {
                api::post::<Opened>("/api/office/notices", &NewNotice { title: title.get_untracked(), body: body.get_untracked(), node: n }).await
            } else {
                let questions = if k == "satisfaction" { questions.get_untracked() } else { String::new() };
                api::post::<Opened>("/api/office/rounds", &NewRound { kind: k.clone(), title: title.get_untracked(), deadline: deadline.get_untracked(), node: n, questions }).await
            };
            match answer {
                Ok(o) => {
                    state.message.set(Some(Ok(format!("已下达 {} 个单位，各单位手机同步后即可看到", o.units))));
                    title.set(String::new());
                    body.set(String::new());
                    state.open.set(Open::Round(o.id));
                    state.reload();
                }
                Err(e) => state.message.set(Some(Err(e.message()))),
            }
        });
    };
    let nodes = view.nodes.clone();
    view! {
        <section class="card">
            <h2>"下达工作"</h2>
            <form class="office-new" on:submit=submit data-testid="new-work">
                <label>"类别"
                    <select name="kind" prop:value=move || kind.get() on:change=move |ev| kind.set(event_target_value(&ev))>
                        <option value="plan">"实施方案"</option>
                        <option value="cleanup">"制度清理"</option>
                        <option value="satisfaction">"满意度测评"</option>
                        <option value="notice">"通报"</option>
                    </select>
                </label>
                <label>"范围"
                    <select name="node" prop:value=move || node.get() on:change=move |ev| node.set(event_target_value(&ev))>
                        {nodes.into_iter().map(|n| view! { <option value=n.unit.clone()>{n.name.clone()}"及以下各单位"</option> }).collect_view()}
                    </select>
                </label>
                <label>{move || if kind.get() == "notice" { "标题" } else { "名称" }}
                    <input name="title" maxlength="100" bind:value=title/>
                </label>
                {move || (kind.get() != "notice").then(|| view! {
                    <label>{move || if kind.get() == "satisfaction" { "测评截止日期" } else { "截止日期" }} <input type="date" name="deadline" bind:value=deadline/></label>
                })}
                {move || (kind.get() == "satisfaction").then(|| view! {
                    <label>"测评问题（每行一个，按非常满意至非常不满意五级作答）" <textarea name="questions" rows="4" bind:value=questions></textarea></label>
                })}
                {move || (kind.get() == "notice").then(|| view! {
                    <label>"正文" <textarea name="body" rows="6" maxlength="20000" bind:value=body></textarea></label>
                })}
                <button type="submit" class="primary">"下达"</button>
            </form>
        </section>
    }
}

#[component]
fn Rounds(rounds: Vec<RoundRow>) -> impl IntoView {
    let state = expect_context::<OfficeDeskState>();
    let empty = rounds.is_empty();
    let rows = rounds
        .into_iter()
        .map(|r| {
            let id = r.id.clone();
            let counts = r.counts.iter().map(|(l, n)| format!("{l} {n}")).collect::<Vec<_>>().join(" · ");
            view! {
                <tr data-round=r.id.clone()>
                    <td>{r.kind_label.clone()}</td>
                    <td>{r.title.clone()}</td>
                    <td>{if r.deadline.is_empty() { api::local_time_ms(r.opened_at as f64) } else { format!("{} 前", r.deadline) }}</td>
                    <td>{r.node_name.clone()}" · "{r.units}" 个单位"</td>
                    <td data-col="counts">{counts}</td>
                    <td><button class="plain" on:click=move |_| state.open.set(Open::Round(id.clone()))>"查看"</button></td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <section class="card">
            <h2>"已下达"</h2>
            {empty.then(|| view! { <p class="muted">"还没有下达工作"</p> })}
            <table class="grid" data-testid="rounds">
                <thead><tr><th>"类别"</th><th>"名称"</th><th>"截止 / 发布"</th><th>"范围"</th><th>"各单位"</th><th></th></tr></thead>
                <tbody>{rows}</tbody>
            </table>
        </section>
    }
}

/// A round's units and where each stands.
#[component]
fn RoundUnits(id: String) -> impl IntoView {
    let state = expect_context::<OfficeDeskState>();
    let detail = RwSignal::new(None::<Result<RoundDetail, String>>);
    let url = format!("/api/office/rounds/{id}");
    Effect::new(move |_| {
        state.reloads.get();
        let url = url.clone();
        spawn_local(async move { detail.set(Some(api::get::<RoundDetail>(&url).await.map_err(|e| e.message()))) });
    });
    move || match detail.get() {
        None => view! { <p class="muted">"正在读取…"</p> }.into_any(),
        Some(Err(e)) => view! { <p class="error">{e}</p> }.into_any(),
        Some(Ok(d)) => {
            let plan = d.round.kind == "plan";
            let round = d.round.id.clone();
            let rows = d
                .units
                .into_iter()
                .map(|s| {
                    let (round, unit) = (round.clone(), s.unit.clone());
                    let open =
                        plan.then(|| view! { <button class="plain" on:click=move |_| state.open.set(Open::Plan { round: round.clone(), unit: unit.clone() })>"查看方案"</button> });
                    view! {
                        <tr class:alert=s.attention data-unit=s.name.clone()>
                            <td>{s.path.clone()}</td>
                            <td data-col="state">{s.label.clone()}</td>
                            <td>{s.detail.clone()}</td>
                            <td>{open}</td>
                        </tr>
                    }
                })
                .collect_view();
            view! {
                <section class="card" data-testid="round">
                    <h2>{d.round.kind_label.clone()}" · "{d.round.title.clone()}</h2>
                    {(!d.body.is_empty() && d.round.kind == "notice").then(|| view! { <pre class="notice-body">{d.body.clone()}</pre> })}
                    <table class="grid">
                        <thead><tr><th>"单位"</th><th>"状态"</th><th>"说明"</th><th></th></tr></thead>
                        <tbody>{rows}</tbody>
                    </table>
                    {d.comparison.into_iter().map(|q| view! { <Comparison q=q/> }).collect_view()}
                </section>
            }
            .into_any()
        }
    }
}

/// One unit's plan: the version that counts part by part, every version and opinion, and the
/// review of the version awaiting it.
#[component]
fn PlanReview(round: String, unit: String) -> impl IntoView {
    let state = expect_context::<OfficeDeskState>();
    let loaded = RwSignal::new(None::<Result<PlanView, String>>);
    let url = format!("/api/office/plans/{round}/{unit}");
    let fetch_url = url.clone();
    Effect::new(move |_| {
        state.reloads.get();
        let url = fetch_url.clone();
        spawn_local(async move { loaded.set(Some(api::get::<PlanView>(&url).await.map_err(|e| e.message()))) });
    });
    let review_url = StoredValue::new(format!("{url}/review"));
    move || match loaded.get() {
        None => view! { <p class="muted">"正在读取…"</p> }.into_any(),
        Some(Err(e)) => view! { <p class="error">{e}</p> }.into_any(),
        Some(Ok(v)) => {
            let plan = v.plan;
            let latest = plan.latest().cloned();
            let awaiting = plan.awaiting_review().map(|s| s.id.to_string());
            view! {
                <section class="card" data-testid="plan">
                    <h2>{v.path.clone()}" · "{plan.title.clone()}" · "{plan.state().label()}</h2>
                    {match latest {
                        None => view! { <p class="muted">"尚未报送"</p> }.into_any(),
                        Some(s) => view! {
                            <p class="muted small">"第 "{plan.submissions.len()}" 稿，"{api::local_time_ms(s.at as f64)}" 由 "{s.by.clone()}" 报送"</p>
                            <Content content=s.content.clone()/>
                        }.into_any(),
                    }}
                    <History plan=plan.clone()/>
                    {awaiting.map(|submission| view! { <ReviewBox submission=submission url=review_url.get_value()/> })}
                </section>
            }
            .into_any()
        }
    }
}

#[component]
fn Content(content: PlanContent) -> impl IntoView {
    let carriers = ledger::pledge::Aim::ALL
        .iter()
        .filter_map(|aim| {
            let items: Vec<String> = content.carriers.iter().filter(|c| c.aim == *aim).map(|c| c.text.clone()).collect();
            (!items.is_empty()).then(|| view! { <li><strong>{aim.label()}"："</strong>{items.join("；")}</li> })
        })
        .collect_view();
    let stages = content
        .stages
        .iter()
        .map(|s| {
            let dates = format!("{} 至 {}", s.from.map(|d| d.to_string()).unwrap_or_default(), s.to.map(|d| d.to_string()).unwrap_or_default());
            view! { <li>{s.text.clone()}" （"{dates}"）"</li> }
        })
        .collect_view();
    let tasks = content
        .tasks
        .iter()
        .map(|t| view! { <tr><td>{t.what.clone()}</td><td>{t.who.clone()}</td><td>{t.due.map(|d| d.to_string()).unwrap_or_default()}</td></tr> })
        .collect_view();
    view! {
        <dl class="plan-content">
            <dt>"目标任务"</dt><dd class="pre">{content.goals.clone()}</dd>
            <dt>"主要载体"</dt><dd><ul>{carriers}</ul></dd>
            <dt>"方法步骤"</dt><dd><ol>{stages}</ol></dd>
            <dt>"组织领导"</dt><dd>"负责人："{content.leader.clone()}"；联络员："{content.liaison.clone()}</dd>
            <dt>"工作要求"</dt><dd class="pre">{content.requirements.clone()}</dd>
            <dt>"任务清单"</dt>
            <dd><table class="grid"><thead><tr><th>"任务"</th><th>"责任人"</th><th>"完成时限"</th></tr></thead><tbody>{tasks}</tbody></table></dd>
        </dl>
    }
}

/// Every version and opinion, oldest first.
#[component]
fn History(plan: Plan) -> impl IntoView {
    let mut lines: Vec<(i64, String)> = plan.submissions.iter().enumerate().map(|(i, s)| (s.at, format!("{} 报送第 {} 稿", s.by, i + 1))).collect();
    for r in &plan.reviews {
        let mut line = format!("{}：{}", r.by, r.verdict.label());
        if !r.opinion.is_empty() {
            line.push_str(&format!("。{}", r.opinion));
        }
        for (part, text) in &r.parts {
            line.push_str(&format!("（{}：{}）", part.label(), text));
        }
        lines.push((r.at, line));
    }
    lines.sort();
    view! {
        <h3>"报送与审核记录"</h3>
        <ul class="history" data-testid="plan-history">
            {lines.into_iter().map(|(at, l)| view! { <li>{api::local_time_ms(at as f64)}" "{l}</li> }).collect_view()}
        </ul>
    }
}

#[component]
fn ReviewBox(submission: String, url: String) -> impl IntoView {
    let state = expect_context::<OfficeDeskState>();
    let opinion = RwSignal::new(String::new());
    let parts: Vec<(PlanPart, RwSignal<String>)> = PlanPart::ALL.iter().map(|p| (*p, RwSignal::new(String::new()))).collect();
    let parts = StoredValue::new(parts);
    let (submission, url) = (StoredValue::new(submission), StoredValue::new(url));
    let send = move |verdict: ReviewVerdict| {
        let form = ReviewForm {
            submission: submission.get_value(),
            verdict: verdict.code().to_owned(),
            opinion: opinion.get_untracked(),
            parts: parts.get_value().iter().map(|(p, t)| (p.code().to_owned(), t.get_untracked())).filter(|(_, t)| !t.trim().is_empty()).collect(),
        };
        spawn_local(async move {
            match api::post::<http_api::Done>(&url.get_value(), &form).await {
                Ok(_) => {
                    state.message.set(Some(Ok(format!("已{}，已写入该单位台账", verdict.label()))));
                    state.reload();
                }
                Err(e) => state.message.set(Some(Err(e.message()))),
            }
        });
    };
    view! {
        <div class="review" data-testid="review">
            <h3>"审核"</h3>
            <label>"审核意见" <textarea name="opinion" rows="3" maxlength="2000" bind:value=opinion></textarea></label>
            <details>
                <summary>"分部分提出意见"</summary>
                {parts.get_value().into_iter().map(|(p, text)| view! {
                    <label>{p.label()} <textarea name=format!("on_{}", p.code()) rows="2" maxlength="2000" bind:value=text></textarea></label>
                }).collect_view()}
            </details>
            <button class="primary" on:click=move |_| send(ReviewVerdict::Approve)>"批准"</button>
            <button on:click=move |_| send(ReviewVerdict::Return)>"退回修改"</button>
        </div>
    }
}

/// One question of a satisfaction round, every unit side by side in the tree's order: the
/// sample and the five levels. Units are compared on the same question; nobody is ranked.
#[component]
fn Comparison(q: http_api::office::QuestionComparison) -> impl IntoView {
    let per_cent = |p: Option<usize>| p.map(|p| format!("{}.{}%", p / 10, p % 10)).unwrap_or_else(|| "—".into());
    view! {
        <h3>{q.question.clone()}</h3>
        <table class="grid" data-testid="comparison">
            <thead><tr><th>"单位"</th><th>"样本量"</th><th>"非常满意"</th><th>"满意"</th><th>"基本满意"</th><th>"不满意"</th><th>"非常不满意"</th><th>"满意率"</th></tr></thead>
            <tbody>
                {q.units.into_iter().map(|u| view! {
                    <tr data-unit=u.name.clone()>
                        <td>{u.name.clone()}</td><td class="num">{u.answered}</td>
                        {u.counts.iter().map(|n| view! { <td class="num">{*n}</td> }).collect_view()}
                        <td class="num" data-col="rate">{per_cent(u.satisfied_per_mille)}</td>
                    </tr>
                }).collect_view()}
            </tbody>
        </table>
    }
}
