//! The root: shared state in context, the top bar with save state, routes, and the undo toast.

use leptos::prelude::*;
use leptos_router::components::{Route, Router, Routes};
use leptos_router::path;
use ledger::{RecordId, Section};

use crate::browser;
use crate::pages::enterprise_form::{EditEnterprise, NewEnterprise};
use crate::pages::enterprises::{EnterpriseDetail, EnterpriseList};
use crate::pages::pledge_form::{EditPledge, NewPledge};
use crate::pages::pledges::{PledgeDetail, PledgeList};
use crate::pages::problem_detail::ProblemDetail;
use crate::pages::problem_form::{EditProblem, NewProblem};
use crate::pages::problem_list::{ProblemList, ProblemListState};
use crate::pages::surveys::{NewSurvey, SurveyDetail, SurveyList};
use crate::pages::{visit_detail::VisitDetail, visit_form::{EditVisit, NewVisit}, visit_list::{ListFilter, VisitList}};
use crate::service::{LedgerService, Phase, SaveState};
use crate::sync::{SyncService, SyncStatus};
use crate::update_banner::UpdateBanner;

/// The record just deleted, offered for undo.
#[derive(Clone, Copy)]
pub struct Undo(pub RwSignal<Option<(Section, RecordId)>>);

#[component]
pub fn App() -> impl IntoView {
    let service = LedgerService::new();
    provide_context(service);
    provide_context(SyncService::start(service));
    provide_context(Undo(RwSignal::new(None)));
    provide_context(ListFilter::new());
    provide_context(ProblemListState::new());
    browser::set_title("先锋台账");

    view! {
        <Router>
            <UpdateBanner/>
            <TopBar/>
            <main>
                {move || match service.phase.get() {
                    Phase::Opening => view! { <p class="muted center">"正在打开台账…"</p> }.into_any(),
                    Phase::Broken(why) => view! {
                        <div class="alert" role="alert">
                            <p>"台账无法打开：" {why}</p>
                            <p>"本机数据没有被改动。请刷新重试；如仍失败，请联系管理员。"</p>
                            <button class="button" on:click=|_| browser::reload()>"刷新"</button>
                        </div>
                    }.into_any(),
                    Phase::Ready => view! {
                        <Routes fallback=|| view! { <p class="center">"找不到这个页面。"</p> }>
                            <Route path=path!("/") view=VisitList/>
                            <Route path=path!("/visits/new") view=NewVisit/>
                            <Route path=path!("/visits/:id") view=VisitDetail/>
                            <Route path=path!("/visits/:id/edit") view=EditVisit/>
                            <Route path=path!("/problems") view=ProblemList/>
                            <Route path=path!("/problems/new") view=NewProblem/>
                            <Route path=path!("/problems/:id") view=ProblemDetail/>
                            <Route path=path!("/problems/:id/edit") view=EditProblem/>
                            <Route path=path!("/enterprises") view=EnterpriseList/>
                            <Route path=path!("/enterprises/new") view=NewEnterprise/>
                            <Route path=path!("/enterprises/:id") view=EnterpriseDetail/>
                            <Route path=path!("/enterprises/:id/edit") view=EditEnterprise/>
                            <Route path=path!("/pledges") view=PledgeList/>
                            <Route path=path!("/pledges/new") view=NewPledge/>
                            <Route path=path!("/pledges/:id") view=PledgeDetail/>
                            <Route path=path!("/pledges/:id/edit") view=EditPledge/>
                            <Route path=path!("/surveys") view=SurveyList/>
                            <Route path=path!("/surveys/new") view=NewSurvey/>
                            <Route path=path!("/surveys/:id") view=SurveyDetail/>
                        </Routes>
                    }.into_any(),
                }}
            </main>
            <UndoToast/>
            <BottomNav/>
        </Router>
    }
}

#[component]
fn TopBar() -> impl IntoView {
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
        if unsent > 0 { format!("{state} · {unsent} 条未上传") } else { state }
    };
    let sync_class = move || match sync.status.get() {
        SyncStatus::Offline => "sync-state offline",
        SyncStatus::Connecting | SyncStatus::Syncing => "sync-state syncing",
        SyncStatus::Synced(_) => "sync-state synced",
    };
    view! {
        <header class="topbar">
            <a href="/" class="brand">"先锋台账"</a>
            <AuthorName/>
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
    let location = leptos_router::hooks::use_location();
    let overdue = crate::pages::problem_list::overdue_count(expect_context::<LedgerService>());
    let current = move |prefix: &'static str| {
        move || {
            let path = location.pathname.get();
            let here = if prefix == "/" { path == "/" || path.starts_with("/visits") } else { path.starts_with(prefix) };
            if here { "page" } else { "false" }
        }
    };
    view! {
        <nav class="bottom-nav" aria-label="主导航">
            <a href="/" aria-current=current("/")>"走访"</a>
            <a href="/problems" aria-current=current("/problems") data-testid="problems-tab">
                "问题"
                {move || (overdue.get() > 0).then(|| view! { <span class="badge" aria-label=format!("{} 件逾期", overdue.get())>{overdue.get()}</span> })}
            </a>
            <a href="/enterprises" aria-current=current("/enterprises")>"企业"</a>
            <a href="/pledges" aria-current=current("/pledges")>"承诺"</a>
            <a href="/surveys" aria-current=current("/surveys")>"测评"</a>
        </nav>
    }
}

/// The person's name, written into logs and history; asked for once, changeable any time.
#[component]
fn AuthorName() -> impl IntoView {
    let service = expect_context::<LedgerService>();
    let editing = RwSignal::new(false);
    let typed = RwSignal::new(String::new());
    let save = move || {
        service.set_author(&typed.get_untracked());
        editing.set(false);
    };
    view! {
        {move || if editing.get() {
            view! {
                <form class="author-form" on:submit=move |ev| { ev.prevent_default(); save(); }>
                    <input type="text" name="author" placeholder="我的姓名" aria-label="我的姓名" maxlength="50"
                        prop:value=move || typed.get() on:input=move |ev| typed.set(event_target_value(&ev))/>
                    <button type="submit" class="chip">"确定"</button>
                </form>
            }.into_any()
        } else {
            let name = service.author.get();
            view! {
                <button type="button" class="author" data-testid="author"
                    on:click=move |_| { typed.set(service.author.get_untracked()); editing.set(true); }>
                    {if name.is_empty() { "填写姓名".to_owned() } else { name }}
                </button>
            }.into_any()
        }}
    }
}
