//! The root: shared state in context, the top bar with save state, routes, and the undo toast.

use leptos::prelude::*;
use leptos_router::components::{Route, Router, Routes};
use leptos_router::path;
use ledger::RecordId;

use crate::browser;
use crate::pages::{visit_detail::VisitDetail, visit_form::{EditVisit, NewVisit}, visit_list::{ListFilter, VisitList}};
use crate::service::{LedgerService, Phase, SaveState};
use crate::sync::{SyncService, SyncStatus};
use crate::update_banner::UpdateBanner;

/// The visit just deleted, offered for undo.
#[derive(Clone, Copy)]
pub struct Undo(pub RwSignal<Option<RecordId>>);

#[component]
pub fn App() -> impl IntoView {
    let service = LedgerService::new();
    provide_context(service);
    provide_context(SyncService::start(service));
    provide_context(Undo(RwSignal::new(None)));
    provide_context(ListFilter::new());
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
                        </Routes>
                    }.into_any(),
                }}
            </main>
            <UndoToast/>
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
        if let Some(id) = last.get_untracked() {
            last.set(None);
            leptos::task::spawn_local(async move {
                let _ = service.set_deleted(id, false).await;
            });
        }
    };
    view! {
        <Show when=move || last.get().is_some()>
            <div class="toast" role="status">
                <span>"已删除一条走访记录"</span>
                <button class="toast-action" on:click=undo>"撤销"</button>
            </div>
        </Show>
    }
}
