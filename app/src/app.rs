//! The root: shared state in context, the top bar with save state, routes, and the undo toast.

use ledger::org::Write;
use ledger::{RecordId, Section};
use leptos::prelude::*;

use crate::account::{self, LedgerEntry, Me};
use crate::browser;
use crate::nav::Location;
use crate::pages::board::{BoardContext, BoardPage, RatingDetail};
use crate::pages::enterprise_form::{EditEnterprise, NewEnterprise};
use crate::pages::enterprises::{EnterpriseDetail, EnterpriseList};
use crate::pages::plan_form::EditPlan;
use crate::pages::pledge_form::{EditPledge, NewPledge};
use crate::pages::pledges::{PledgeDetail, PledgeList};
use crate::pages::posts::{EditPost, NewPost, PostDetail};
use crate::pages::problem_detail::ProblemDetail;
use crate::pages::problem_form::{EditProblem, NewProblem};
use crate::pages::problem_list::{ProblemList, ProblemListState};
use crate::pages::rules::{NewRule, RuleDetail, RuleList};
use crate::pages::surveys::{NewSurvey, SurveyDetail, SurveyList};
use crate::pages::work::{NoticeDetail, PlanDetail, WorkPage};
use crate::pages::{
    visit_detail::VisitDetail,
    visit_form::{EditVisit, NewVisit},
    visit_list::{ListFilter, VisitList},
};
use crate::service::{LedgerService, Phase, SaveState};
use crate::sync::{DeviceState, SyncService, SyncStatus};
use crate::update_banner::UpdateBanner;
use ledger::address::Screen;

/// The record just deleted, offered for undo.
#[derive(Clone, Copy)]
pub struct Undo(pub RwSignal<Option<(Section, RecordId)>>);

/// Where the app stands before a ledger opens.
#[derive(Clone, PartialEq)]
enum Start {
    Checking,
    Ready(Me),
    /// Not activated: the code screen.
    Activate,
    /// Never activated and no network: activation needs one.
    NeedsNetwork,
    /// This device was reported lost: everything is erased.
    Gone(&'static str),
}

/// Who this phone works for, from what it remembers (offline, no prompt) or from the server;
/// then the ledger.
#[component]
pub fn App() -> impl IntoView {
    browser::set_title("先锋台账");
    let start = RwSignal::new(Start::Checking);
    let (activations, activated) = signal(0u32);
    Effect::new(move |_| {
        activations.track();
        leptos::task::spawn_local(async move {
            if let Some(me) = account::cached() {
                start.set(Start::Ready(me));
                // Refreshed in the background; used from the next start on.
                if let account::Answer::Me(json) = account::fetch_me().await {
                    account::remember(&json);
                }
                return;
            }
            start.set(match account::fetch_me().await {
                // A retired device that has erased itself starts over with a new code.
                account::Answer::Me(json) => match account::parse(&json) {
                    Some(me) if me.device_status != "retired" => account::remember(&json).map_or(Start::Activate, Start::Ready),
                    _ => Start::Activate,
                },
                account::Answer::NotActivated => Start::Activate,
                account::Answer::Lost => {
                    crate::cached_view::delete_database().await;
                    account::erase_settings(crate::sync::LOST_MESSAGE);
                    Start::Gone(crate::sync::LOST_MESSAGE)
                }
                account::Answer::Unreachable => Start::NeedsNetwork,
            });
        });
    });
    move || match start.get() {
        Start::Checking => view! { <p class="muted center">"正在打开…"</p> }.into_any(),
        Start::Activate => view! { <account::Activation activated/> }.into_any(),
        Start::NeedsNetwork => view! {
            <div class="alert" role="alert">
                <p>"首次使用需要联网激活本机。请连上网络后重试。"</p>
                <button class="button" on:click=move |_| activated.update(|n| *n += 1)>"重试"</button>
            </div>
        }
        .into_any(),
        Start::Gone(why) => view! { <div class="alert" role="alert" data-testid="device-gone"><p>{why}</p></div> }.into_any(),
        Start::Ready(me) => match me.selected().cloned() {
            Some(ledger) => view! { <Workspace me=me.clone() ledger/> }.into_any(),
            None => view! { <div class="alert" role="alert"><p>"您还没有可用的台账，请联系管理员把您加入单位。"</p></div> }.into_any(),
        },
    }
}

/// The ledger of one unit, with everything that works on it.
#[component]
fn Workspace(me: Me, ledger: LedgerEntry) -> impl IntoView {
    let write = ledger.write;
    // The person's other ledgers they write in (a cadre in two units) are kept current and
    // uploaded by the worker whichever one is shown. Ledgers they only read open when shown:
    // a county supervisor may read dozens, and there is nothing of theirs to upload.
    let kept: Vec<LedgerEntry> = me.ledgers.iter().filter(|l| l.document_id != ledger.document_id && l.write > Write::SupervisionOnly).cloned().collect();
    let service = LedgerService::new(open_ledger(&me, &ledger), kept.iter().map(|l| open_ledger(&me, l)).collect());
    provide_context(write);
    provide_context(service);
    let kept_documents: Vec<String> = kept.iter().map(|l| l.document_id.clone()).collect();
    let sync = SyncService::start(service, me.device_status == "retired" || account::known_retired(), &ledger.document_id, &kept_documents);
    provide_context(sync);
    provide_context(Members(StoredValue::new(ledger.members.clone())));
    provide_context(BoardContext {
        document: ledger.document_id.clone(),
        url: ledger.board_url.clone(),
        unit: ledger.unit.clone(),
        device: me.device_id.clone(),
        rating_key: me.rating_key.clone(),
        case_rules: me.case_rules.clone(),
    });
    provide_context(Undo(RwSignal::new(None)));
    provide_context(ListFilter::new());
    provide_context(ProblemListState::new());
    provide_context(crate::pages::new_remarks::RemarksSeen::new(&account::storage_key(&ledger.document_id)));
    let me = StoredValue::new(me);
    let unit = ledger.unit_name.clone();

    let screen = Location::provide().screen();
    crate::warm_up::lists_once_open(service, move || screen.with_untracked(|s| s.0));

    view! {
        <UpdateBanner/>
        <TopBar me unit/>
        <DeviceNotice/>
        <crate::pages::media::PhotoNotice/>
        {(write <= Write::SupervisionOnly).then(|| view! {
            <p class="notice" data-testid="read-only">"督查：可查看本单位台账，不能在手机上修改。"</p>
        })}
        <main class:read-only=write <= Write::SupervisionOnly>
            {move || match service.phase.get() {
                // Erased: nothing of the ledger is shown any more (the notice above says why).
                _ if matches!(sync.device.get(), DeviceState::Gone(_)) => view! {
                    <button class="button" on:click=|_| browser::reload()>"用新的激活码激活本机"</button>
                }.into_any(),
                Phase::Opening => view! { <p class="muted center">"正在打开台账…"</p> }.into_any(),
                Phase::Broken(why) => view! {
                    <div class="alert" role="alert">
                        <p>"台账无法打开：" {why}</p>
                        <p>"本机数据没有被改动。请刷新重试；如仍失败，请联系管理员。"</p>
                        <button class="button" on:click=|_| browser::reload()>"刷新"</button>
                    </div>
                }.into_any(),
                // Each screen drawn under a reactive owner of its own, as leptos_router did:
                // what a screen provides (its `WriteOnce`) is disposed with it, and the next
                // screen never finds it.
                Phase::Ready => {
                    let shown = screen.get().0;
                    (move || screen_view(shown)).into_any()
                }
            }}
        </main>
        <UndoToast/>
        <BottomNav/>
    }
}

/// The screen the address names.
pub(crate) fn screen_view(screen: Screen) -> AnyView {
    match screen {
        Screen::VisitList => view! { <VisitList/> }.into_any(),
        Screen::NewVisit => view! { <NewVisit/> }.into_any(),
        Screen::VisitDetail => view! { <VisitDetail/> }.into_any(),
        Screen::EditVisit => view! { <EditVisit/> }.into_any(),
        Screen::ProblemList => view! { <ProblemList/> }.into_any(),
        Screen::NewProblem => view! { <NewProblem/> }.into_any(),
        Screen::ProblemDetail => view! { <ProblemDetail/> }.into_any(),
        Screen::EditProblem => view! { <EditProblem/> }.into_any(),
        Screen::EnterpriseList => view! { <EnterpriseList/> }.into_any(),
        Screen::NewEnterprise => view! { <NewEnterprise/> }.into_any(),
        Screen::EnterpriseDetail => view! { <EnterpriseDetail/> }.into_any(),
        Screen::EditEnterprise => view! { <EditEnterprise/> }.into_any(),
        Screen::PledgeList => view! { <PledgeList/> }.into_any(),
        Screen::NewPledge => view! { <NewPledge/> }.into_any(),
        Screen::PledgeDetail => view! { <PledgeDetail/> }.into_any(),
        Screen::EditPledge => view! { <EditPledge/> }.into_any(),
        Screen::SurveyList => view! { <SurveyList/> }.into_any(),
        Screen::NewSurvey => view! { <NewSurvey/> }.into_any(),
        Screen::SurveyDetail => view! { <SurveyDetail/> }.into_any(),
        Screen::Board => view! { <BoardPage/> }.into_any(),
        Screen::NewPost => view! { <NewPost/> }.into_any(),
        Screen::PostDetail => view! { <PostDetail/> }.into_any(),
        Screen::EditPost => view! { <EditPost/> }.into_any(),
        Screen::RatingDetail => view! { <RatingDetail/> }.into_any(),
        Screen::Work => view! { <WorkPage/> }.into_any(),
        Screen::NoticeDetail => view! { <NoticeDetail/> }.into_any(),
        Screen::PlanDetail => view! { <PlanDetail/> }.into_any(),
        Screen::EditPlan => view! { <EditPlan/> }.into_any(),
        Screen::RuleList => view! { <RuleList/> }.into_any(),
        Screen::NewRule => view! { <NewRule/> }.into_any(),
        Screen::RuleDetail => view! { <RuleDetail/> }.into_any(),
        Screen::NotFound => view! { <p class="center">"找不到这个页面。"</p> }.into_any(),
    }
}

/// What the worker needs to open `ledger` for `me`, before any cached list is shown.
fn open_ledger(me: &Me, ledger: &LedgerEntry) -> ledger::worker_protocol::OpenLedger {
    ledger::worker_protocol::OpenLedger {
        key: account::storage_key(&ledger.document_id),
        document: ledger.document_id.clone(),
        author: me.name.clone(),
        write: ledger.write,
        shown_heads: None,
        storage_id: crate::sync::storage_id(),
        server_storage: crate::settings::SERVER_STORAGE.get(),
        sync_url: crate::sync::sync_url(),
    }
}

/// The people of the unit, to assign a problem to (from `/api/me`, so it works offline).
#[derive(Clone, Copy)]
pub struct Members(pub StoredValue<Vec<String>>);

/// Why syncing stopped, when the server no longer accepts this device.
#[component]
fn DeviceNotice() -> impl IntoView {
    let sync = expect_context::<SyncService>();
    move || match sync.device.get() {
        DeviceState::Active => None,
        DeviceState::Retired => Some(view! { <p class="alert" role="alert" data-testid="device-notice">"此设备已被停用：正在上传剩余记录，完成后将清除本机数据。"</p> }.into_any()),
        DeviceState::NotActivated => Some(
            view! {
                <p class="alert" role="alert" data-testid="device-notice">"本机激活已失效，暂停同步（记录仍保存在本机）。请向管理员要新的激活码。"</p>
            }
            .into_any(),
        ),
        DeviceState::Gone(why) => Some(view! { <div class="alert" role="alert" data-testid="device-gone"><p>{why}</p></div> }.into_any()),
    }
}

#[component]
fn TopBar(me: StoredValue<Me>, unit: String) -> impl IntoView {
    let service = expect_context::<LedgerService>();
    let status = move || match service.save_state.get() {
        SaveState::Idle => ("idle", "本机保存".to_owned()),
        SaveState::Saving => ("saving", "正在保存…".to_owned()),
        SaveState::Saved(at) => ("saved", format!("已保存 {}", browser::clock(at))),
        SaveState::Failed(_) => ("failed", "保存失败".to_owned()),
    };
    let sync = expect_context::<SyncService>();
    let sync_text = move || {
        let unsent = sync.unsent.get();
        let state = match sync.status.get() {
            SyncStatus::Offline => "离线".to_owned(),
            SyncStatus::Connecting => "正在连接…".to_owned(),
            SyncStatus::Syncing => "正在同步…".to_owned(),
            SyncStatus::Synced(at) => format!("已同步 {}", browser::clock(at)),
        };
        let photos = service.photos.with(|p| p.waiting.len());
        let mut text = state;
        if unsent > 0 {
            text.push_str(&format!(" · {unsent} 条未上传"));
        }
        if photos > 0 {
            text.push_str(&format!(" · {photos} 张照片待上传"));
        }
        text
    };
    let sync_class = move || match sync.status.get() {
        SyncStatus::Offline => "sync-state offline",
        SyncStatus::Connecting | SyncStatus::Syncing => "sync-state syncing",
        SyncStatus::Synced(_) => "sync-state synced",
    };
    view! {
        <header class="topbar">
            <a href="/" class="brand">"先锋台账"</a>
            <Identity me unit/>
            <span class="states">
                <span class=sync_class data-testid="sync-state" role="status">{sync_text}</span>
                <span class=move || format!("save-state {}", status().0) data-testid="save-state">{move || status().1}</span>
            </span>
        </header>
    }
}

#[component]
fn UndoToast() -> impl IntoView {
    let service = expect_context::<LedgerService>();
    let Undo(last) = expect_context::<Undo>();
    // The toast stays for a while, then the deletion stands (it can still be undone from history).
    Effect::new(move |_| {
        if let Some(id) = last.get() {
            leptos::task::spawn_local(async move {
                gloo_timers::future::TimeoutFuture::new(8_000).await;
                if last.try_get_untracked().flatten().as_ref() == Some(&id) {
                    last.try_set(None);
                }
            });
        }
    });
    let undo = move |_| {
        if let Some((section, id)) = last.get_untracked() {
            last.set(None);
            leptos::task::spawn_local(async move {
                let _ = service.set_deleted(section, id, false).await;
            });
        }
    };
    view! {
        <Show when=move || last.get().is_some()>
            <div class="toast" role="status">
                <span>{move || format!("已删除一条{}记录", last.get().map_or("", |(s, _)| s.noun()))}</span>
                <button class="toast-action" on:click=undo>"撤销"</button>
            </div>
        </Show>
    }
}

/// The tab bar at the bottom, where a thumb reaches: one tab per part of the ledger.
#[component]
fn BottomNav() -> impl IntoView {
    let location = crate::nav::use_location();
    let overdue = crate::pages::problem_list::overdue_count(expect_context::<LedgerService>());
    let cases = crate::pages::board::open_case_count(expect_context::<LedgerService>());
    let work = crate::pages::work::waiting_count(expect_context::<LedgerService>(), expect_context::<Write>());
    let remarks = crate::pages::new_remarks::new_count(expect_context::<LedgerService>(), expect_context::<crate::pages::new_remarks::RemarksSeen>());
    let current = move |prefix: &'static str| {
        move || {
            let path = location.path();
            let here = if prefix == "/" { path == "/" || path.starts_with("/visits") } else { path.starts_with(prefix) };
            if here {
                "page"
            } else {
                "false"
            }
        }
    };
    view! {
        <nav class="bottom-nav" aria-label="主导航">
            <a href="/" aria-current=current("/")>"走访"</a>
            <a href="/problems" aria-current=current("/problems") data-testid="problems-tab">
                "问题"
                {move || (overdue.get() > 0).then(|| view! { <span class="badge" aria-label=format!("{} 件逾期", overdue.get())>{overdue.get()}</span> })}
                {move || (remarks.get() > 0).then(|| view! { <span class="badge remark" data-testid="new-remarks-badge" aria-label=format!("{} 件新督办", remarks.get())>{format!("督{}", remarks.get())}</span> })}
            </a>
            <a href="/enterprises" aria-current=current("/enterprises")>"企业"</a>
            <a href="/pledges" aria-current=current("/pledges")>"承诺"</a>
            <a href="/surveys" aria-current=current("/surveys")>"测评"</a>
            <a href="/board" aria-current=current("/board") data-testid="board-tab">
                "广场"
                {move || (cases.get() > 0).then(|| view! { <span class="badge" aria-label=format!("{} 件差评待办", cases.get())>{cases.get()}</span> })}
            </a>
            <a href="/work" aria-current=current("/work") data-testid="work-tab">
                "工作"
                {move || (work.get() > 0).then(|| view! { <span class="badge" aria-label=format!("{} 项待办", work.get())>{work.get()}</span> })}
            </a>
        </nav>
    }
}

/// Who is writing (the activated person) and in which unit; a switcher when the person
/// belongs to several.
#[component]
fn Identity(me: StoredValue<Me>, unit: String) -> impl IntoView {
    let name = me.with_value(|m| m.name.clone());
    let ledgers = me.with_value(|m| m.ledgers.clone());
    let chosen = me.with_value(|m| m.selected().map(|l| l.document_id.clone()).unwrap_or_default());
    let sync = expect_context::<SyncService>();
    let switcher = (ledgers.len() > 1).then(|| {
        view! {
            <select class="unit-switch" aria-label="切换单位" data-testid="unit-switch"
                on:change=move |ev| account::switch_to(&event_target_value(&ev))>
                {ledgers.into_iter().map(|l| {
                    let selected = l.document_id == chosen;
                    // What a kept ledger has not uploaded yet shows beside its name (the shown
                    // one's is in the sync bar).
                    let document = l.document_id.clone();
                    let label = move || match if selected { 0 } else { sync.board.with(|b| b.unsent(&document)) } {
                        0 => l.unit_name.clone(),
                        n => format!("{}（{n} 条未上传）", l.unit_name),
                    };
                    view! { <option value=l.document_id.clone() selected=selected>{label}</option> }
                }).collect_view()}
            </select>
        }
    });
    view! {
        <span class="identity">
            <span class="author" data-testid="author">{name}</span>
            {match switcher {
                Some(s) => s.into_any(),
                None => view! { <span class="unit" data-testid="unit">{unit}</span> }.into_any(),
            }}
        </span>
    }
}
