//! 制度台账: the unit's rules, each with its number, dates, basis and every change of status with
//! its reason; a rule is kept, revised or repealed in the office's clean-up round (制度清理)
//! from its page.

use ledger::rule::{Cleanup, Rule};
use ledger::unit_ledger::{OfficeRound, RoundKind, RuleDraft};
use ledger::{Command, ValidationErrors};
use leptos::ev::SubmitEvent;
use leptos::prelude::*;

use crate::browser;
use crate::pages::parts::{not_found, Chips, History, RecordForm, TextField};
use crate::pages::write_once::WriteOnce;
use crate::service::LedgerService;

/// The open clean-up rounds (not withdrawn), newest first.
fn cleanups(service: LedgerService) -> Vec<OfficeRound> {
    let mut all: Vec<OfficeRound> = service.rounds.with(|r| r.iter().filter(|r| !r.deleted && r.kind == RoundKind::Cleanup).cloned().collect());
    ledger::order::sort_by(&mut all, |a, b| b.opened_on.cmp(&a.opened_on));
    all
}

#[component]
pub fn RuleList() -> impl IntoView {
    let service = expect_context::<LedgerService>();
    let today = browser::today();
    let rules = Memo::new(move |_| {
        let mut all: Vec<Rule> = service.rules.with(|r| r.iter().filter(|r| !r.deleted).cloned().collect());
        ledger::order::sort_by(&mut all, |a, b| (!a.status(today).binds(), &a.name).cmp(&(!b.status(today).binds(), &b.name)));
        all
    });
    let rounds = cleanups(service);
    let progress = rounds
        .into_iter()
        .map(|round| {
            let opened = round.opened_on.unwrap_or(today);
            let p = service.rules.with(|r| ledger::rule::CleanupProgress::of(r, &round.id, opened, today));
            view! {
                <p class="notice" data-testid="cleanup">{round.title.clone()}"："{format!("已清理 {} / {} 项", p.decided, p.rules)}
                    {round.deadline.map(|d| format!("，{d} 前完成"))}"。在每项制度页选择保留、修订或废止。"</p>
            }
        })
        .collect_view();
    view! {
        <section class="list-page" data-testid="rules">
            <a class="back" href="/work">"‹ 工作"</a>
            {progress}
            <ul class="cards">
                <For each=move || rules.get() key=|r| (r.id.clone(), r.changes.len(), r.name.clone()) let:rule>
                    <li>
                        <a class="card" href=format!("/work/rules/{}", rule.id)>
                            <div class="card-head">
                                <span class="status">{rule.status(today).label()}</span>
                                <span class="muted small">{rule.number.clone()}</span>
                            </div>
                            <div class="whom">{rule.name.clone()}</div>
                            <div class="snippet">{rule.valid_until.map(|d| format!("有效期至 {d}"))}</div>
                        </a>
                    </li>
                </For>
            </ul>
            <Show when=move || rules.with(Vec::is_empty)>
                <p class="empty">"还没有登记制度。点右下角新增。"</p>
            </Show>
            <a class="fab" href="/work/rules/new">"＋ 新增制度"</a>
        </section>
    }
}

/// A rule as typed: dates as text until saved.
#[derive(Clone, Default)]
struct RuleForm {
    name: String,
    number: String,
    in_force_from: String,
    valid_until: String,
    basis: String,
    /// The id of the rule this one replaces, or "".
    replaces: String,
}

impl RuleForm {
    fn draft(&self) -> Result<RuleDraft, ValidationErrors> {
        let date = |s: &str| ledger::day::parse(s.trim());
        let d = RuleDraft {
            name: self.name.trim().to_owned(),
            number: self.number.trim().to_owned(),
            in_force_from: date(&self.in_force_from),
            valid_until: date(&self.valid_until),
            basis: self.basis.trim().to_owned(),
            replaces: ledger::RecordId::parse(&self.replaces),
        };
        d.check().map(|()| d)
    }
}

#[component]
pub fn NewRule() -> impl IntoView {
    let service = expect_context::<LedgerService>();
    let today = browser::today();
    // A new rule may take the place of one still in force (制定新制度, 废旧立新).
    let replaceable: Vec<(String, String)> =
        service.rules.with_untracked(|r| r.iter().filter(|r| !r.deleted && r.status(today).binds()).map(|r| (r.id.to_string(), r.name.clone())).collect());
    let draft = RwSignal::new(RuleForm::default());
    let form = RecordForm::new();
    let errors = form.errors;
    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        match draft.get_untracked().draft() {
            Ok(rule) => form.submit(Ok(()), Command::AddRule { rule }, |id| format!("/work/rules/{id}")),
            Err(e) => form.submit(Err(e), Command::AddRule { rule: RuleDraft::default() }, |_| String::new()),
        }
    };
    view! {
        <form class="record-form" on:submit=submit novalidate>
            <a class="back" href="/work/rules">"‹ 返回"</a>
            <h2>"新增制度"</h2>
            <TextField label="制度名称" name="name" required=true max=ledger::rule::MAX_NAME draft errors get=|d: &RuleForm| &d.name set=|d: &mut RuleForm, v| d.name = v/>
            <TextField label="文号" name="number" placeholder="如：青石村〔2027〕1号（选填）" draft errors get=|d: &RuleForm| &d.number set=|d: &mut RuleForm, v| d.number = v/>
            <TextField label="施行日期" name="in_force_from" input_type="date" draft errors get=|d: &RuleForm| &d.in_force_from set=|d: &mut RuleForm, v| d.in_force_from = v/>
            <TextField label="有效期至" name="valid_until" input_type="date" draft errors get=|d: &RuleForm| &d.valid_until set=|d: &mut RuleForm, v| d.valid_until = v/>
            <TextField label="制定依据" name="basis" rows=3 max=ledger::rule::MAX_TEXT draft errors get=|d: &RuleForm| &d.basis set=|d: &mut RuleForm, v| d.basis = v/>
            {(!replaceable.is_empty()).then(|| view! {
                <label class="field">"取代的制度（选填；选中的制度将标为已修订）"
                    <select name="replaces" on:change=move |ev| draft.update(|d| d.replaces = event_target_value(&ev))>
                        <option value="">"不取代其他制度"</option>
                        {replaceable.into_iter().map(|(id, name)| view! { <option value=id>{name}</option> }).collect_view()}
                    </select>
                </label>
            })}
            <div class="sticky-actions">
                {form.failure_view()}
                <button type="submit" class="button primary wide">"保存"</button>
            </div>
        </form>
    }
}

#[component]
pub fn RuleDetail() -> impl IntoView {
    let service = expect_context::<LedgerService>();
    let writes = WriteOnce::provide();
    let reason = RwSignal::new(String::new());
    let decision = RwSignal::new(None::<Cleanup>);
    let failure = RwSignal::new(None::<String>);
    // A rule links to the rule it replaced: the same screen with another id, drawn anew.
    let id = crate::pages::parts::route_id();
    let rule = move || {
        let id = id.clone()?;
        service.rules.with(|all| all.iter().find(|r| r.id == id && !r.deleted).cloned())
    };
    move || match rule() {
        Some(r) => view! { <RuleView rule=r writes reason decision failure/> }.into_any(),
        None => not_found("制度", "/work/rules"),
    }
}

#[component]
fn RuleView(rule: Rule, writes: WriteOnce, reason: RwSignal<String>, decision: RwSignal<Option<Cleanup>>, failure: RwSignal<Option<String>>) -> impl IntoView {
    let service = expect_context::<LedgerService>();
    let may = expect_context::<ledger::org::Write>() >= ledger::org::Write::Cadre;
    let today = browser::today();
    let status = rule.status(today);
    let id = rule.id.clone();
    // The latest clean-up round this rule has not been decided in yet, while it binds.
    let round = cleanups(service).into_iter().find(|r| rule.decision_in(&r.id).is_none()).filter(|_| status.binds());
    let decide = round.clone().filter(|_| may).map(|round| {
        let (id, round_id) = (id.clone(), round.id.clone());
        view! {
            <section class="step" data-testid="decide">
                <h3>{round.title.clone()}</h3>
                <Chips label="清理意见" name="decision" options=Cleanup::ALL label_of=Cleanup::label
                    selected=Signal::derive(move || decision.get()) on_pick=Callback::new(move |c| decision.set(Some(c)))/>
                <label class="field">"理由（修订、废止必填）" <textarea name="reason" rows="2" bind:value=reason></textarea></label>
                <button class="button primary" disabled=move || writes.busy() on:click=move |_| {
                    let Some(choice) = decision.get_untracked() else { failure.set(Some("请选择保留、修订或废止".into())); return };
                    let (id, round) = (id.clone(), round_id.clone());
                    let text = reason.get_untracked();
                    writes.run("decide", move || service.apply(Command::DecideRule { id, round, decision: choice, reason: text }), move |r| match r {
                        Ok(_) => { failure.set(None); reason.set(String::new()); decision.set(None); }
                        Err(e) => failure.set(Some(e)),
                    });
                }>{move || writes.label("decide", "保存清理意见")}</button>
            </section>
        }
    });
    let change = (may && round.is_none() && !status.next().is_empty()).then(|| {
        let id = id.clone();
        view! {
            <section class="step">
                <h3>"变更状态"</h3>
                <div class="chips">
                    {status.next().iter().map(|to| {
                        let (to, id) = (*to, id.clone());
                        view! {
                            <button type="button" class="chip" disabled=move || writes.busy() on:click=move |_| {
                                let id = id.clone();
                                let text = reason.get_untracked();
                                writes.run("change", move || service.apply(Command::ChangeRule { id, to, reason: text }), move |r| match r {
                                    Ok(_) => { failure.set(None); reason.set(String::new()); }
                                    Err(e) => failure.set(Some(e)),
                                });
                            }>{format!("改为{}", to.label())}</button>
                        }
                    }).collect_view()}
                </div>
                <label class="field">"变更理由（必填）" <textarea name="change-reason" rows="2" bind:value=reason></textarea></label>
            </section>
        }
    });
    let changes = rule
        .changes
        .iter()
        .map(|c| {
            let what = match &c.round {
                Some((_, d)) => format!("制度清理：{}", d.label()),
                None => format!("改为{}", c.to.label()),
            };
            view! { <li>{browser::date_time(c.at)}" "{c.by.clone()}" "{what}{(!c.reason.is_empty()).then(|| format!("（{}）", c.reason))}</li> }
        })
        .collect_view();
    view! {
        <article class="detail" data-testid="rule">
            <a class="back" href="/work/rules">"‹ 制度台账"</a>
            <h2>{rule.name.clone()}</h2>
            <p class="meta"><span class="status" data-testid="rule-status">{status.label()}</span>" "{rule.number.clone()}</p>
            <p class="meta">{rule.in_force_from.map(|d| format!("{d} 起施行"))}" "{rule.valid_until.map(|d| format!("有效期至 {d}"))}</p>
            {(!rule.basis.is_empty()).then(|| view! { <p class="pre">"制定依据："{rule.basis.clone()}</p> })}
            {rule.replaces.as_ref().map(|r| view! { <p class="meta">"取代："<RuleLink id=r.clone()/></p> })}
            {rule.replaced_by.as_ref().map(|r| view! { <p class="meta" data-testid="replaced-by">"已被取代："<RuleLink id=r.clone()/></p> })}
            {move || failure.get().map(|f| view! { <div class="alert" role="alert" data-testid="save-error">{f}</div> })}
            {decide}
            {change}
            <h3>"变更记录"</h3>
            <ul class="log">{changes}</ul>
            <History id=rule.id.clone()/>
        </article>
    }
}

/// Another rule of the unit by name, linked.
#[component]
fn RuleLink(id: ledger::RecordId) -> impl IntoView {
    let service = expect_context::<LedgerService>();
    let name = service.rules.with_untracked(|r| r.iter().find(|r| r.id == id).map(|r| format!("《{}》", r.name))).unwrap_or_else(|| "（另一项制度）".into());
    view! { <a href=format!("/work/rules/{id}")>{name}</a> }
}
