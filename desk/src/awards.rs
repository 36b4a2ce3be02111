//! 评先评优 on the desk. The office opens a round, reads each nomination with its evidence (links
//! to the records), records the opinions of the bodies the round names, marks the shortlist,
//! starts the 公示, examines each objection and records the decision. A unit's secretary
//! nominates: the person (or the unit), 事迹, 简要事迹, and evidence ticked from the record.
//! Every rule is the server's; a refusal shows its reason and changes nothing.

use http_api::awards::{
    AwardRoundDetail, AwardRoundRow, AwardRounds, DecisionForm, EvidenceChoices, FindingForm, NewAwardRound, NominationForm, NominationRow, ObjectionRow, OpinionForm,
    SecretaryAwards, ShortlistForm,
};
use http_api::office::Opened;
use http_api::route::{Route, View};
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::api::{self, ApiError};
use crate::supervise::Desk;

/// The page's state: what is open, the answer to the last action, and a counter bumped after
/// every action so what is shown is fetched again.
#[derive(Clone, Copy)]
struct Awards {
    open: RwSignal<Option<String>>,
    message: RwSignal<Option<Result<String, String>>>,
    reloads: RwSignal<u32>,
    /// The decision's 文号 as typed: kept while the round is fetched again (an objection
    /// examined after a refused decision).
    decision: RwSignal<String>,
}

impl Awards {
    fn new() -> Self {
        let a = Awards { open: RwSignal::new(None), message: RwSignal::new(None), reloads: RwSignal::new(0), decision: RwSignal::new(String::new()) };
        provide_context(a);
        a
    }

    /// Posts `body` to `url`; on success says `done` and fetches again.
    fn act<B: serde::Serialize + 'static>(self, url: String, body: B, done: &'static str) {
        spawn_local(async move {
            match api::post::<serde_json::Value>(&url, &body).await {
                Ok(_) => {
                    self.message.set(Some(Ok(done.to_owned())));
                    self.reloads.update(|n| *n += 1);
                }
                Err(e) => self.message.set(Some(Err(e.message()))),
            }
        });
    }
}

/// Fetches `url` whenever the page reloads.
fn fetched<T: serde::de::DeserializeOwned + Clone + Send + Sync + 'static>(url: impl Fn() -> Option<String> + Send + Sync + 'static) -> RwSignal<Option<Result<T, ApiError>>> {
    let a = expect_context::<Awards>();
    let data = RwSignal::new(None);
    Effect::new(move |_| {
        a.reloads.track();
        let Some(u) = url() else { return data.set(None) };
        spawn_local(async move { data.set(Some(api::get::<T>(&u).await)) });
    });
    data
}

fn stage_line(r: &AwardRoundRow) -> String {
    let mut s = format!("{} · 推荐截止 {}", r.stage_label, r.nominate_by);
    if !r.publicity_from.is_empty() {
        s.push_str(&format!(" · 公示 {} 至 {}", r.publicity_from, r.publicity_to));
    }
    if !r.decided_on.is_empty() {
        s.push_str(&format!(" · {} 决定表彰", r.decided_on));
    }
    s
}

#[component]
pub fn OfficeAwards() -> impl IntoView {
    let a = Awards::new();
    let rounds = fetched::<AwardRounds>(|| Some("/api/office/awards".into()));
    view! {
        <NewAwardRoundForm/>
        <crate::org_tree::Outcome message=a.message/>
        {move || match rounds.get() {
            None => view! { <p class="muted">"正在读取…"</p> }.into_any(),
            Some(Err(e)) => view! { <p class="error">{e.message()}</p> }.into_any(),
            Some(Ok(list)) => view! { <RoundList rounds=list.rounds/> }.into_any(),
        }}
        {move || a.open.get().map(|id| view! { <OfficeRound id=id/> })}
    }
}

#[component]
fn NewAwardRoundForm() -> impl IntoView {
    let a = expect_context::<Awards>();
    let (title, kind, quota, nominate_by, days, bodies) = (
        RwSignal::new(String::new()),
        RwSignal::new("individual".to_owned()),
        RwSignal::new("10".to_owned()),
        RwSignal::new(String::new()),
        RwSignal::new("5".to_owned()),
        RwSignal::new("纪检监察机关\n组织部门".to_owned()),
    );
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let form = NewAwardRound {
            node: String::new(),
            title: title.get_untracked(),
            kind: kind.get_untracked(),
            quota: quota.get_untracked().trim().parse().unwrap_or(0),
            nominate_by: nominate_by.get_untracked(),
            publicity_days: days.get_untracked().trim().parse().ok(),
            bodies: bodies.get_untracked().lines().map(str::to_owned).collect(),
        };
        spawn_local(async move {
            match api::post::<Opened>("/api/office/awards", &form).await {
                Ok(o) => {
                    a.message.set(Some(Ok(format!("已发起，{} 个单位可以推荐", o.units))));
                    title.set(String::new());
                    a.open.set(Some(o.id));
                    a.reloads.update(|n| *n += 1);
                }
                Err(e) => a.message.set(Some(Err(e.message()))),
            }
        });
    };
    view! {
        <section class="card">
            <h2>"发起评选"</h2>
            <form class="office-new" on:submit=submit data-testid="new-award">
                <label>"名称" <input name="title" maxlength="100" bind:value=title/></label>
                <label>"类别"
                    <select name="kind" prop:value=move || kind.get() on:change=move |ev| kind.set(event_target_value(&ev))>
                        <option value="individual">"先进个人"</option>
                        <option value="collective">"先进集体"</option>
                    </select>
                </label>
                <label>"名额" <input name="quota" type="number" min="1" bind:value=quota/></label>
                <label>"推荐截止日期" <input name="nominateBy" type="date" bind:value=nominate_by/></label>
                <label>"公示期（工作日）" <input name="publicityDays" type="number" min="1" max="30" bind:value=days/></label>
                <label>"征求意见单位（每行一个）" <textarea name="bodies" rows="3" bind:value=bodies></textarea></label>
                <button type="submit" class="primary">"发起"</button>
            </form>
        </section>
    }
}

#[component]
fn RoundList(rounds: Vec<AwardRoundRow>) -> impl IntoView {
    let a = expect_context::<Awards>();
    let empty = rounds.is_empty();
    let rows = rounds
        .into_iter()
        .map(|r| {
            let id = r.id.clone();
            view! {
                <tr data-award=r.id.clone()>
                    <td>{r.title.clone()}</td>
                    <td>{r.kind_label.clone()}" · 名额 "{r.quota}</td>
                    <td data-col="stage">{stage_line(&r)}</td>
                    <td>{r.nominations}" 个推荐 · "{r.shortlisted}" 个拟表彰"{(r.open_objections > 0).then(|| format!(" · {} 条异议待核查", r.open_objections))}</td>
                    <td><button class="plain" on:click=move |_| a.open.set(Some(id.clone()))>"查看"</button></td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <section class="card">
            <h2>"评选"</h2>
            {empty.then(|| view! { <p class="muted">"还没有发起评选"</p> })}
            <table class="grid" data-testid="awards">
                <thead><tr><th>"名称"</th><th>"类别"</th><th>"进度"</th><th>"推荐"</th><th></th></tr></thead>
                <tbody>{rows}</tbody>
            </table>
        </section>
    }
}

#[component]
fn OfficeRound(id: String) -> impl IntoView {
    let a = expect_context::<Awards>();
    let url = format!("/api/office/awards/{id}");
    let detail = fetched::<AwardRoundDetail>(move || Some(url.clone()));
    move || match detail.get() {
        None => view! { <p class="muted">"正在读取…"</p> }.into_any(),
        Some(Err(e)) => view! { <p class="error">{e.message()}</p> }.into_any(),
        Some(Ok(d)) => {
            let round = d.round.clone();
            let reviewing = round.stage == "reviewing";
            let base = format!("/api/office/awards/{}", round.id);
            let publicity = {
                let url = format!("{base}/publicity");
                move |_| a.act(url.clone(), serde_json::json!({}), "已开始公示")
            };
            let decision = a.decision;
            let decide = {
                let url = format!("{base}/decision");
                move |ev: leptos::ev::SubmitEvent| {
                    ev.prevent_default();
                    a.act(url.clone(), DecisionForm { decision: decision.get_untracked() }, "已作出表彰决定")
                }
            };
            let nominations = d
                .nominations
                .iter()
                .map(|n| view! { <NominationCard round=round.clone() n=n.clone() objections=d.objections.iter().filter(|o| o.nomination == n.id).cloned().collect()/> })
                .collect_view();
            let public_page = format!("/gongshi/{}", round.id);
            view! {
                <section class="card" data-testid="award-round">
                    <h2>{round.title.clone()}</h2>
                    <p class="muted">{round.kind_label.clone()}" · 名额 "{round.quota}" · "{stage_line(&round)}" · 征求意见："{round.bodies.join("、")}</p>
                    {(!round.publicity_from.is_empty()).then(|| view! { <p><a href=public_page.clone() target="_blank">"公示页面（群众可在此提出异议）"</a></p> })}
                    {reviewing.then(|| view! { <button class="primary" data-testid="start-publicity" on:click=publicity>"开始公示"</button> })}
                    {(round.stage == "deciding").then(|| view! {
                        <form class="review" on:submit=decide data-testid="decide">
                            <label>"表彰决定文号（选填）" <input name="decision" maxlength="100" bind:value=decision/></label>
                            <button type="submit" class="primary">"作出表彰决定"</button>
                        </form>
                    })}
                    {d.nominations.is_empty().then(|| view! { <p class="muted">"还没有单位推荐"</p> })}
                    {nominations}
                </section>
            }
            .into_any()
        }
    }
}

fn evidence_list(ledger: &str, n: &NominationRow) -> impl IntoView {
    let desk = use_context::<Desk>();
    n.evidence
        .iter()
        .map(|e| {
            let route = Route { view: View::Record { ledger: ledger.to_owned(), section: e.section.clone(), id: e.id.clone() }, query: Default::default() };
            let label = if e.label.is_empty() { "（记录已删除）".to_owned() } else { format!("{} {}", e.date, e.label) };
            match desk {
                Some(desk) => view! { <li><a href="#" on:click=move |ev| { ev.prevent_default(); desk.go(route.clone()) }>{label}</a></li> }.into_any(),
                None => view! { <li>{label}</li> }.into_any(),
            }
        })
        .collect_view()
}

#[component]
fn NominationCard(round: AwardRoundRow, n: NominationRow, objections: Vec<ObjectionRow>) -> impl IntoView {
    let a = expect_context::<Awards>();
    let base = format!("/api/office/awards/{}/nominations/{}", round.id, n.id);
    let reviewing = round.stage == "reviewing";
    let (body, opinion, given_on) = (RwSignal::new(round.bodies.first().cloned().unwrap_or_default()), RwSignal::new(String::new()), RwSignal::new(String::new()));
    let record_opinion = {
        let url = format!("{base}/opinions");
        move |ev: leptos::ev::SubmitEvent| {
            ev.prevent_default();
            a.act(url.clone(), OpinionForm { body: body.get_untracked(), opinion: opinion.get_untracked(), given_on: given_on.get_untracked() }, "已记录意见")
        }
    };
    let shortlisted = n.shortlisted;
    let toggle = {
        let url = format!("{base}/shortlist");
        move |_| a.act(url.clone(), ShortlistForm { on: !shortlisted }, if shortlisted { "已移出拟表彰名单" } else { "已列入拟表彰名单" })
    };
    let opinions = n.opinions.iter().map(|o| view! { <li>{o.body.clone()}"（"{o.given_on.clone()}"）："{o.opinion.clone()}</li> }).collect_view();
    let bodies = round.bodies.clone();
    let objections = objections.into_iter().map(|o| view! { <Objection round=round.id.clone() o=o/> }).collect_view();
    let state = if n.commended {
        "已表彰"
    } else if n.shortlisted {
        "拟表彰"
    } else {
        ""
    };
    view! {
        <div class="nomination" data-nomination=n.name.clone()>
            <h3>{n.name.clone()}" · "{n.unit_name.clone()}{(!n.post.is_empty()).then(|| format!(" · {}", n.post))}" "<span class="tag">{state}</span></h3>
            <p><b>"简要事迹："</b>{n.summary.clone()}</p>
            <details><summary>"事迹全文"</summary><p class="pre">{n.deeds.clone()}</p></details>
            <p><b>"佐证记录"</b></p>
            <ul>{evidence_list(&n.ledger, &n)}</ul>
            <p><b>"征求意见"</b></p>
            <ul data-testid="opinions">{opinions}</ul>
            {reviewing.then(|| view! {
                <form class="review" on:submit=record_opinion data-testid="opinion">
                    <label>"单位" <select name="body" prop:value=move || body.get() on:change=move |ev| body.set(event_target_value(&ev))>
                        {bodies.iter().map(|b| view! { <option value=b.clone()>{b.clone()}</option> }).collect_view()}
                    </select></label>
                    <label>"意见" <textarea name="opinion" rows="2" bind:value=opinion></textarea></label>
                    <label>"出具日期" <input name="givenOn" type="date" bind:value=given_on/></label>
                    <button type="submit">"记录意见"</button>
                </form>
                <button class="primary" data-testid="shortlist" on:click=toggle>{if shortlisted { "移出拟表彰名单" } else { "列入拟表彰名单" }}</button>
            })}
            {objections}
        </div>
    }
}

#[component]
fn Objection(round: String, o: ObjectionRow) -> impl IntoView {
    let a = expect_context::<Awards>();
    let finding = RwSignal::new(String::new());
    let settle = move |upheld: bool| {
        let url = format!("/api/office/awards/{round}/objections/{}", o.id);
        a.act(url, FindingForm { finding: finding.get_untracked(), upheld }, "已记录核查情况");
    };
    let settle_b = settle.clone();
    view! {
        <div class="objection" data-testid="objection">
            <p><b>"异议（"{o.filed_at.clone()}"）："</b>{o.text.clone()}{(!o.contact.is_empty()).then(|| format!(" · 联系方式：{}", o.contact))}</p>
            {if o.settled {
                view! { <p>"核查情况："{o.finding.clone()}" · "{if o.upheld { "异议成立，已移出拟表彰名单" } else { "异议不成立" }}</p> }.into_any()
            } else {
                view! {
                    <label>"核查情况" <textarea name="finding" rows="2" bind:value=finding></textarea></label>
                    <button on:click=move |_| settle(false)>"异议不成立"</button>
                    " "
                    <button on:click=move |_| settle_b(true)>"异议成立"</button>
                }.into_any()
            }}
        </div>
    }
}

/// Evidence lines listed at once in the nomination form (the rest by filtering).
const EVIDENCE_SHOWN: usize = 200;

/// The secretary's desk: the rounds reaching their unit, their nominations, a new one.
#[component]
pub fn SecretaryAwards() -> impl IntoView {
    let a = Awards::new();
    let data = fetched::<SecretaryAwards>(|| Some("/api/awards".into()));
    view! {
        <crate::org_tree::Outcome message=a.message/>
        {move || match data.get() {
            None => view! { <p class="muted">"正在读取…"</p> }.into_any(),
            Some(Err(e)) => view! { <p class="error">{e.message()}</p> }.into_any(),
            Some(Ok(s)) if s.rounds.is_empty() => view! { <section class="card"><p class="muted">"目前没有评选"</p></section> }.into_any(),
            Some(Ok(s)) => {
                let units = s.units.clone();
                s.rounds.into_iter().map(|r| view! { <SecretaryRound round=r units=units.clone()/> }).collect_view().into_any()
            }
        }}
    }
}

#[component]
fn SecretaryRound(round: AwardRoundRow, units: Vec<http_api::awards::NominatingUnit>) -> impl IntoView {
    let a = expect_context::<Awards>();
    let url = format!("/api/awards/{}", round.id);
    let detail = fetched::<AwardRoundDetail>(move || Some(url.clone()));
    let nominating = round.stage == "nominating";
    let id = round.id.clone();
    view! {
        <section class="card" data-award=round.title.clone()>
            <h2>{round.title.clone()}</h2>
            <p class="muted">{round.kind_label.clone()}" · 每单位最多推荐 "{round.quota}" 个 · "{stage_line(&round)}</p>
            {move || match detail.get() {
                Some(Ok(d)) => d.nominations.into_iter().map(|n| {
                    let withdraw = {
                        let url = format!("/api/awards/{}/nominations/{}/withdraw", id, n.id);
                        move |_| a.act(url.clone(), serde_json::json!({}), "已撤回推荐")
                    };
                    let state = if n.commended { "已表彰" } else if n.shortlisted { "拟表彰" } else { "已推荐" };
                    view! {
                        <div class="nomination" data-nomination=n.name.clone()>
                            <h3>{n.name.clone()}{(!n.post.is_empty()).then(|| format!(" · {}", n.post))}" "<span class="tag">{state}</span></h3>
                            <p>{n.summary.clone()}</p>
                            <ul>{evidence_list(&n.ledger, &n)}</ul>
                            {nominating.then(|| view! { <button class="plain" on:click=withdraw>"撤回"</button> })}
                        </div>
                    }
                }).collect_view().into_any(),
                Some(Err(e)) => view! { <p class="error">{e.message()}</p> }.into_any(),
                None => ().into_any(),
            }}
            {nominating.then(|| view! { <NominationEditor round=round.clone() units=units.clone()/> })}
        </section>
    }
}

#[component]
fn NominationEditor(round: AwardRoundRow, units: Vec<http_api::awards::NominatingUnit>) -> impl IntoView {
    let a = expect_context::<Awards>();
    let individual = round.kind == "individual";
    let unit = RwSignal::new(units.first().map(|u| u.unit.clone()).unwrap_or_default());
    let person = RwSignal::new(String::new());
    let (post, deeds, summary) = (RwSignal::new(String::new()), RwSignal::new(String::new()), RwSignal::new(String::new()));
    let chosen = RwSignal::new(Vec::<(String, String)>::new());
    let filter = RwSignal::new(String::new());
    let choices = fetched::<EvidenceChoices>(move || {
        let (u, p) = (unit.get(), person.get());
        (!u.is_empty() && (!individual || !p.is_empty())).then(|| format!("/api/awards/evidence?unit={u}&person={p}"))
    });
    let round_id = round.id.clone();
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let form = NominationForm {
            id: None,
            unit: unit.get_untracked(),
            person: if individual { person.get_untracked() } else { String::new() },
            post: post.get_untracked(),
            deeds: deeds.get_untracked(),
            summary: summary.get_untracked(),
            evidence: chosen.get_untracked(),
        };
        a.act(format!("/api/awards/{round_id}/nominations"), form, "已推荐");
    };
    let units_for_people = units.clone();
    view! {
        <form class="review" on:submit=submit data-testid="nominate">
            <h3>"推荐"</h3>
            <label>"单位" <select name="unit" prop:value=move || unit.get() on:change=move |ev| { unit.set(event_target_value(&ev)); person.set(String::new()); chosen.set(Vec::new()); }>
                {units.iter().map(|u| view! { <option value=u.unit.clone()>{u.name.clone()}</option> }).collect_view()}
            </select></label>
            {individual.then(|| view! {
                <label>"推荐对象" <select name="person" prop:value=move || person.get() on:change=move |ev| { person.set(event_target_value(&ev)); chosen.set(Vec::new()); }>
                    <option value="">"请选择"</option>
                    {move || units_for_people.iter().filter(|u| u.unit == unit.get()).flat_map(|u| u.people.clone()).map(|p| view! { <option value=p.id.clone()>{p.name.clone()}" · "{p.role_label.clone()}</option> }).collect_view()}
                </select></label>
                <label>"职务" <input name="post" maxlength="40" bind:value=post/></label>
            })}
            <label>"事迹（2000 字以内）" <textarea name="deeds" rows="8" maxlength="2000" bind:value=deeds></textarea></label>
            <label>"简要事迹（300 字以内，公示时公开）" <textarea name="summary" rows="3" maxlength="300" bind:value=summary></textarea></label>
            <fieldset data-testid="evidence"><legend>"佐证记录（从台账中勾选，只链接、不复制）"</legend>
                <label>"筛选" <input name="evidence-filter" placeholder="输入关键字，如走访对象、问题名称" bind:value=filter/></label>
                {move || match choices.get() {
                    None => view! { <p class="muted">{if individual { "先选择推荐对象" } else { "正在读取…" }}</p> }.into_any(),
                    Some(Err(e)) => view! { <p class="error">{e.message()}</p> }.into_any(),
                    Some(Ok(c)) => {
                        // A unit's year can hold thousands of lines: the ticked ones always show,
                        // then what matches the filter, at most EVIDENCE_SHOWN of them.
                        let words = filter.get();
                        let ticked = chosen.get();
                        let all: Vec<_> = c.record.sections().into_iter().flat_map(|(heading, lines)| lines.clone().into_iter().map(move |l| (heading, l))).collect();
                        let matching: Vec<_> = all
                            .into_iter()
                            .filter(|(heading, l)| ticked.contains(&(l.section.clone(), l.id.to_string())) || words.trim().is_empty() || format!("{heading}{}{}", l.title, l.outcome).contains(words.trim()))
                            .collect();
                        let hidden = matching.len().saturating_sub(EVIDENCE_SHOWN);
                        let rows = matching.into_iter().take(EVIDENCE_SHOWN).map(|(heading, l)| {
                            let key = (l.section.clone(), l.id.to_string());
                            let k2 = key.clone();
                            view! {
                                <label class="check"><input type="checkbox" prop:checked=move || chosen.get().contains(&k2)
                                    on:change=move |ev| { let on = event_target_checked(&ev); let key = key.clone(); chosen.update(|c| { c.retain(|x| *x != key); if on { c.push(key) } }) }/>
                                    {heading}" · "{l.date.map(|d| d.to_string()).unwrap_or_default()}" "{l.title.clone()}" · "{l.outcome.clone()}</label>
                            }
                        }).collect_view();
                        view! {
                            {rows}
                            {(hidden > 0).then(|| view! { <p class="muted">"还有 "{hidden}" 条未列出，请输入关键字筛选"</p> })}
                        }.into_any()
                    }
                }}
            </fieldset>
            <button type="submit" class="primary">"提交推荐"</button>
        </form>
    }
}
