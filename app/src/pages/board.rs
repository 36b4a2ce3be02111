//! The unit's side of the public board (先锋广场): what it has put up (posts and published
//! pledges), the ratings residents sent (好差评), and the case each 差评 opened, which the
//! secretary answers here: 签收, then 整改, 解释 or 申诉. The ratings arrive through sync, so
//! all of this reads offline; a step is saved at once and uploaded in the background.

use ledger::org::Write;
use ledger::rating::once::OnceCode;
use ledger::rating::{Case, CaseRules, StepKind, Target};
use ledger::{Command, Rating, RecordId, Section};
use leptos::prelude::*;

use crate::browser;
use crate::pages::parts::{not_found, route_id, Typing};
use crate::pages::write_once::WriteOnce;
use crate::service::LedgerService;

/// The ledger shown, and its unit's public board address (`boardUrl` of `/api/me`; empty when
/// the server gave none).
#[derive(Clone)]
pub struct BoardContext {
    pub document: String,
    pub url: String,
    /// For one-time rating codes: the unit, this phone's device and its signing key (hex).
    pub unit: String,
    pub device: String,
    pub rating_key: String,
    /// The organisation's case limits and working-day calendar, as `/api/me` last said.
    pub case_rules: CaseRules,
}

impl BoardContext {
    /// The address of a one-time code for `target` `id`, signed now; None when this phone has
    /// no key (not activated as a phone) or the server gave no board address.
    fn once_url(&self, target: Target, id: &RecordId) -> Option<String> {
        let key: Vec<u8> = (0..self.rating_key.len() / 2).filter_map(|i| u8::from_str_radix(self.rating_key.get(2 * i..2 * i + 2)?, 16).ok()).collect();
        let origin = self.url.rsplit_once("/b/")?.0;
        if key.len() != 32 || self.unit.is_empty() || origin.is_empty() {
            return None;
        }
        let code = OnceCode { unit: self.unit.clone(), target, id: id.clone(), device: self.device.clone(), issued: browser::now_ms() / 1000 };
        Some(format!("{origin}/r/{}", code.signed(&key)?))
    }
}

/// 一事一评: a QR code the resident scans to rate this visit or this problem's handling, made
/// here offline (signed with this phone's key) and used once.
#[component]
pub fn OnceCodeButton(target: Target, id: RecordId) -> impl IntoView {
    let url = use_context::<BoardContext>().and_then(|b| b.once_url(target, &id))?;
    let what = if target == Target::Visit { "本次走访" } else { "本次问题办理" };
    Some(view! { <QrButton label="请群众评价（一事一评）" testid="once" url words=format!("请群众用手机扫码，评价{what}（每个码只能评价一次）")/> })
}

/// A button that shows `url` as a QR code filling the screen, for a resident's camera.
#[component]
fn QrButton(label: &'static str, testid: &'static str, url: String, words: String) -> impl IntoView {
    let svg = qrcode::QrCode::new(url.as_bytes()).ok()?.render::<qrcode::render::svg::Color>().min_dimensions(240, 240).quiet_zone(true).build();
    let shown = RwSignal::new(false);
    Some(view! {
        <button type="button" class="button secondary" data-testid=format!("{testid}-code") on:click=move |_| shown.set(true)>{label}</button>
        <Show when=move || shown.get()>
            <div class="qr-sheet" role="dialog" aria-label=label data-testid=format!("{testid}-qr") data-link=url.clone()>
                <p>{words.clone()}</p>
                <div class="qr" inner_html=svg.clone()></div>
                <button type="button" class="button primary wide" on:click=move |_| shown.set(false)>"完成"</button>
            </div>
        </Show>
    })
}

/// The A4 poster with the QR code residents scan to rate a post or pledge (served by the board).
pub fn poster_url(target: Target, id: &RecordId) -> Option<String> {
    let board = use_context::<BoardContext>()?.url;
    let kind = match target {
        Target::Post => "post",
        Target::Pledge => "pledge",
        Target::Visit | Target::Problem => return None,
    };
    (!board.is_empty()).then(|| format!("{board}/poster/{kind}/{id}"))
}

/// The organisation's case rules, read where a component is set up (not inside a memo).
fn case_rules() -> CaseRules {
    use_context::<BoardContext>().map(|b| b.case_rules).unwrap_or_default()
}

/// Open cases first, the most pressing at the top.
fn open_cases(ratings: &[Rating], rules: &CaseRules) -> Vec<(Rating, Case)> {
    let mut cases: Vec<(Rating, Case)> = ratings.iter().filter(|r| !r.deleted).filter_map(|r| r.case(rules).filter(|c| !c.state.is_settled()).map(|c| (r.clone(), c))).collect();
    ledger::order::sort_by(&mut cases, |a, b| (a.1.due, a.0.created_at).cmp(&(b.1.due, b.0.created_at)));
    cases
}

fn target_label(service: LedgerService, rating: &Rating) -> String {
    let name = rating.target_id.as_ref().and_then(|id| match rating.target {
        Target::Post => service.posts.with_untracked(|all| all.iter().find(|p| p.id == *id).map(|p| p.title.clone())),
        Target::Pledge => service.pledges.with_untracked(|all| all.iter().find(|p| p.id == *id).map(|p| p.content.chars().take(20).collect())),
        Target::Visit | Target::Problem => None,
    });
    match name {
        Some(name) => format!("{}：{name}", rating.target.label()),
        None => rating.target.label().to_owned(),
    }
}

/// 差评 the unit still owes a step on, for the tab's badge.
pub fn open_case_count(service: LedgerService) -> Memo<usize> {
    let rules = case_rules();
    Memo::new(move |_| service.ratings.with(|all| all.iter().filter(|r| !r.deleted && r.case(&rules).is_some_and(|c| c.due.is_some())).count()))
}

#[component]
pub fn BoardPage() -> impl IntoView {
    let service = expect_context::<LedgerService>();
    let secretary = expect_context::<Write>() == Write::Everything;
    let board = use_context::<BoardContext>().map(|b| b.url).unwrap_or_default();
    let today = browser::today();
    let rules = case_rules();
    let cases = Memo::new(move |_| service.ratings.with(|all| open_cases(all, &rules)));
    let posts = Memo::new(move |_| service.posts.with(|all| all.iter().filter(|p| !p.deleted).cloned().collect::<Vec<_>>()));
    let published_pledges = move || service.pledges.with(|all| all.iter().filter(|p| p.is_on_board()).count());
    let rated = move || service.ratings.with(|all| all.iter().filter(|r| !r.deleted).count());
    view! {
        <section class="list-page" data-testid="board">
            <h2>"先锋广场"</h2>
            {(!board.is_empty()).then(|| view! {
                <p class="actions">
                    <a class="button secondary" href=board.clone() target="_blank" rel="noopener" data-testid="board-link">"查看公开页面"</a>
                    <QrButton label="出示广场二维码" testid="board" url=board.clone() words="请群众用手机扫码，查看本单位的岗位、承诺和答复，并可评价、留言".to_owned()/>
                </p>
            })}
            <p class="muted small">{move || format!("公开岗位 {} 个 · 公开承诺 {} 项 · 收到评价 {} 条", posts.with(|p| p.iter().filter(|p| p.is_public()).count()), published_pledges(), rated())}</p>
            <h3>{move || format!("差评待办（{}）", cases.with(Vec::len))}</h3>
            <ul class="cards" data-testid="cases">
                <For each=move || cases.get() key=|(r, c)| (r.id.clone(), r.steps.len(), c.state) let:case>
                    <li>
                        <a class=if case.1.is_overdue(today) { "card overdue" } else { "card" } href=format!("/board/ratings/{}", case.0.id)>
                            <div class="card-head">
                                <span class="status status-pending">{case.1.state.label()}</span>
                                {case.1.is_overdue(today).then(|| view! { <span class="tag danger">"逾期"</span> })}
                                <strong>{case.0.verdict.label()}</strong>
                                <span class="muted small">{case.1.due.map(|d| format!(" · {d} 前"))}</span>
                            </div>
                            <div class="snippet">{target_label(service, &case.0)} " · " {case.0.comment.chars().take(40).collect::<String>()}</div>
                        </a>
                    </li>
                </For>
            </ul>
            <Show when=move || cases.with(Vec::is_empty)>
                <p class="empty">"没有待处理的差评。"</p>
            </Show>
            <h3>"岗位（设岗定责）"</h3>
            <ul class="cards" data-testid="posts">
                <For each=move || posts.get() key=|p| (p.id.clone(), p.updated_at, p.published) let:post>
                    <li>
                        <a class="card" href=format!("/board/posts/{}", post.id)>
                            <div class="card-head">
                                <strong>{post.title.clone()}</strong>
                                <span class="muted small">{format!(" · {}", post.holder)} {if post.published { " · 已公开" } else { " · 未公开" }}</span>
                            </div>
                        </a>
                    </li>
                </For>
            </ul>
            <Show when=move || posts.with(Vec::is_empty)>
                <p class="empty">"还没有设岗。"</p>
            </Show>
            {secretary.then(|| view! { <a class="fab" href="/board/posts/new">"＋ 设岗定责"</a> })}
        </section>
    }
}

/// 在先锋广场公开: the secretary's switch on a post or pledge; others see where it stands.
#[component]
pub fn PublishSwitch(section: Section, id: RecordId, published: bool) -> impl IntoView {
    let service = expect_context::<LedgerService>();
    let secretary = expect_context::<Write>() == Write::Everything;
    let writes = WriteOnce::of_page();
    let failure = RwSignal::new(None::<String>);
    let toggle = move |_| {
        let id = id.clone();
        writes.run(
            "publish",
            move || service.apply(Command::SetPublished { section, id, published: !published }),
            move |result| {
                failure.try_set(result.err());
            },
        );
    };
    let state = if published { "已在先锋广场公开" } else { "未在先锋广场公开" };
    view! {
        <p data-testid="published">{state}</p>
        {move || failure.get().map(|f| view! { <div class="alert" role="alert">{f}</div> })}
        {secretary.then(|| view! {
            <button type="button" class="button secondary" data-testid="publish" disabled=move || writes.busy() on:click=toggle>
                {move || writes.label("publish", if published { "撤下公开" } else { "在先锋广场公开" })}
            </button>
        })}
    }
}

/// The ratings residents gave one post or pledge.
#[component]
pub fn RatingsOf(target: Target, id: RecordId) -> impl IntoView {
    let service = expect_context::<LedgerService>();
    let ratings =
        Memo::new(move |_| service.ratings.with(|all| all.iter().filter(|r| r.target == target && r.target_id.as_ref() == Some(&id) && !r.deleted).cloned().collect::<Vec<_>>()));
    view! {
        <h3>{move || format!("群众评价（{} 条）", ratings.with(Vec::len))}</h3>
        <ul class="plain" data-testid="ratings">
            {move || ratings.get().into_iter().map(|r| view! {
                <li><a href=format!("/board/ratings/{}", r.id)><strong>{r.verdict.label()}</strong></a>
                    {(!r.comment.is_empty()).then(|| format!("：{}", r.comment))}
                    <span class="muted small">" " {browser::date_time(r.created_at)}</span></li>
            }).collect_view()}
        </ul>
    }
}

#[component]
pub fn RatingDetail() -> impl IntoView {
    let service = expect_context::<LedgerService>();
    Typing::provide();
    let id = route_id();
    let rating = move || id.as_ref().and_then(|id| service.ratings.with(|all| all.iter().find(|r| r.id == *id && !r.deleted).cloned()));
    move || match rating() {
        Some(r) => view! { <RatingView rating=r/> }.into_any(),
        None => not_found("评价", "/board"),
    }
}

#[component]
fn RatingView(rating: Rating) -> impl IntoView {
    let service = expect_context::<LedgerService>();
    let case = rating.case(&case_rules());
    let today = browser::today();
    let mut steps = rating.steps.clone();
    ledger::order::sort_by(&mut steps, |a, b| (a.at, &a.id).cmp(&(b.at, &b.id)));
    view! {
        <article class="detail" data-testid="rating">
            <a class="back" href="/board">"‹ 先锋广场"</a>
            <h2>{rating.verdict.label()}</h2>
            <p class="meta">{target_label(service, &rating)} " · " {rating.way.label()} " · " {browser::date_time(rating.created_at)}</p>
            {(!rating.comment.is_empty()).then(|| view! { <p class="pre">{rating.comment.clone()}</p> })}
            {case.clone().map(|c| view! {
                <p data-testid="case-state">
                    "差评处理：" <strong>{c.state.label()}</strong>
                    {c.due.map(|d| format!(" · {d} 前办理"))}
                    {c.is_overdue(today).then(|| view! { <span class="tag danger">" 逾期"</span> })}
                    {c.recheck.map(|v| format!(" · 群众回评：{}", v.label()))}
                </p>
            })}
            <ul class="plain" data-testid="case-steps">
                {steps.into_iter().map(|s| view! {
                    <li><strong>{s.kind.label()}</strong> " · " {s.by.clone()} {(!s.text.is_empty()).then(|| format!("：{}", s.text))}
                        {s.verdict.map(|v| format!("（{}）", v.label()))}
                        <span class="muted small">" " {browser::date_time(s.at)}</span></li>
                }).collect_view()}
            </ul>
            {case.map(|c| view! { <CaseSteps id=rating.id.clone() next=c.state.next_steps()/> })}
            <Contact id=rating.id.clone()/>
        </article>
    }
}

/// The steps the unit's secretary (or, on appeal, a supervisor) may take now.
#[component]
fn CaseSteps(id: RecordId, next: &'static [StepKind]) -> impl IntoView {
    let service = expect_context::<LedgerService>();
    let write = expect_context::<Write>();
    let Typing { note, writes, .. } = Typing::get();
    let failure = RwSignal::new(None::<String>);
    // The phone's steps are the secretary's; 维持/撤销 are a supervisor's on the desk.
    let mine: Vec<StepKind> = next.iter().copied().filter(|k| k.taker() == ledger::rating::StepTaker::Secretary && write == Write::Everything).collect();
    if mine.is_empty() {
        return None;
    }
    let take = Callback::new(move |kind: StepKind| {
        let id = id.clone();
        let text = note.get_untracked();
        writes.run(
            kind.code(),
            move || service.apply(Command::CaseStep { id, kind, text }),
            move |result| match result {
                Ok(_) => {
                    note.try_set(String::new());
                    failure.try_set(None);
                }
                Err(e) => {
                    failure.try_set(Some(e));
                }
            },
        );
    });
    let needs_words = mine.iter().any(|k| k.needs_text());
    Some(view! {
        <div class="case-steps">
            {needs_words.then(|| view! {
                <label class="field">"办理情况（整改措施、解释或申诉理由）"
                    <textarea name="case-note" rows=3 prop:value=move || note.get() on:input=move |ev| note.set(event_target_value(&ev))></textarea>
                </label>
            })}
            {move || failure.get().map(|f| view! { <div class="alert" role="alert" data-testid="step-error">{f}</div> })}
            <div class="actions">
                {mine.into_iter().map(|kind| view! {
                    <button type="button" class=if kind == StepKind::Appeal { "button secondary" } else { "button primary" } data-testid=format!("case-{}", kind.code())
                        disabled=move || writes.busy()
                        on:click=move |_| take.run(kind)>
                        {move || writes.label(kind.code(), kind.label())}
                    </button>
                }).collect_view()}
            </div>
        </div>
    })
}

/// 回访电话: what the resident left for a call back, fetched from the server for the secretary.
#[component]
fn Contact(id: RecordId) -> impl IntoView {
    let secretary = expect_context::<Write>() == Write::Everything;
    let document = use_context::<BoardContext>().map(|b| b.document).unwrap_or_default();
    let shown = RwSignal::new(None::<Result<Option<String>, String>>);
    let ask = move |_| {
        let (document, id) = (document.clone(), id.to_string());
        leptos::task::spawn_local(async move {
            shown.set(Some(crate::account::board_contact(&document, &id).await));
        });
    };
    secretary.then(|| {
        view! {
            <p data-testid="contact">
                {move || match shown.get() {
                    None => view! { <button type="button" class="button secondary" on:click=ask.clone()>"查看回访电话"</button> }.into_any(),
                    Some(Ok(Some(phone))) => view! { <a href=format!("tel:{phone}")>{format!("回访电话：{phone}")}</a> }.into_any(),
                    Some(Ok(None)) => view! { <span class="muted">"群众未留电话"</span> }.into_any(),
                    Some(Err(why)) => view! { <span class="alert">{why}</span> }.into_any(),
                }}
            </p>
        }
    })
}
