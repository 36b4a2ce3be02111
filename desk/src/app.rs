//! The desk's root: who is signed in, then the supervisor's desk or the admin's pages as tabs
//! (the tab is kept in the URL's hash, so a reload stays on it).

use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::api::{self, ApiError, Me, OrgView};

fn current_hash() -> String {
    web_sys::window().and_then(|w| w.location().hash().ok()).unwrap_or_default()
}

/// Where the desk stands.
#[derive(Clone, PartialEq)]
enum Session {
    Checking,
    SignedOut,
    SignedIn(Me),
    Unreachable(String),
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Tab {
    Org,
    People,
    Devices,
    Import,
    Audit,
    Settings,
}

impl Tab {
    const ALL: [Tab; 6] = [Tab::Org, Tab::People, Tab::Devices, Tab::Import, Tab::Audit, Tab::Settings];

    fn slug(self) -> &'static str {
        match self {
            Tab::Org => "org",
            Tab::People => "people",
            Tab::Devices => "devices",
            Tab::Import => "import",
            Tab::Audit => "audit",
            Tab::Settings => "settings",
        }
    }

    fn label(self) -> &'static str {
        match self {
            Tab::Org => "组织架构",
            Tab::People => "人员与激活码",
            Tab::Devices => "设备",
            Tab::Import => "批量导入",
            Tab::Audit => "操作日志",
            Tab::Settings => "设置",
        }
    }

    fn from_hash() -> Tab {
        let hash = current_hash();
        Tab::ALL.into_iter().find(|t| hash.trim_start_matches('#') == t.slug()).unwrap_or(Tab::Org)
    }
}

/// The organisation the admin manages, shared by the pages; `reload` fetches it again after a
/// change. A page is drawn again whenever the organisation reloads, so what it must keep
/// across that (the answer to the last action, an import's outcome) lives here.
#[derive(Clone, Copy)]
pub struct Directory {
    pub org: RwSignal<Option<Result<OrgView, ApiError>>>,
    /// The answer to the last action: done (with what) or refused (with the server's reason).
    pub message: RwSignal<Option<Result<String, String>>>,
    pub import: RwSignal<Option<crate::import::Outcome>>,
}

impl Directory {
    pub fn reload(self) {
        spawn_local(async move {
            let answer = api::get::<OrgView>("/api/admin/org").await;
            self.org.set(Some(answer));
        });
    }
}

#[component]
pub fn App() -> impl IntoView {
    let session = RwSignal::new(Session::Checking);
    let check = move || {
        spawn_local(async move {
            session.set(match api::get_kept::<Me>("/api/me").await {
                Ok(me) => Session::SignedIn(me.value),
                Err(ApiError::SignedOut | ApiError::Refused { .. }) => Session::SignedOut,
                Err(e) => Session::Unreachable(e.message()),
            });
        })
    };
    check();
    view! {
        <main class="desk">
            {move || match session.get() {
                Session::Checking => view! { <p class="muted">"正在连接…"</p> }.into_any(),
                Session::SignedOut => view! { <crate::login::Login on_signed_in=move || check()/> }.into_any(),
                Session::Unreachable(why) => view! { <p class="error">{why}</p> }.into_any(),
                // A supervisor who is also an admin gets the supervisor's desk when the link is
                // one of its views, the admin pages otherwise.
                Session::SignedIn(me) if me.is_supervisor() && (!me.is_admin() || http_api::route::Route::is_supervisor_hash(&current_hash())) => {
                    view! { <crate::supervise::SupervisorDesk me=me on_signed_out=move || session.set(Session::SignedOut)/> }.into_any()
                }
                Session::SignedIn(me) if me.is_office() && !me.is_admin() => view! { <crate::office::OfficeDesk me=me on_signed_out=move || session.set(Session::SignedOut)/> }.into_any(),
                Session::SignedIn(me) if me.is_admin() => view! { <AdminDesk me=me on_signed_out=move || session.set(Session::SignedOut)/> }.into_any(),
                Session::SignedIn(me) if me.is_secretary() => view! { <SecretaryDesk me=me on_signed_out=move || session.set(Session::SignedOut)/> }.into_any(),
                Session::SignedIn(me) => view! {
                    <section class="card">
                        <h1>{me.person.name.clone()}</h1>
                        <p>"桌面端供管理员、督查、先锋办和书记使用；此账号没有这些角色。干部请使用手机上的先锋台账。"</p>
                        <SignOut on_signed_out=move || session.set(Session::SignedOut)/>
                    </section>
                }.into_any(),
            }}
        </main>
    }
}

#[component]
pub fn SignOut(on_signed_out: impl Fn() + Copy + Send + Sync + 'static) -> impl IntoView {
    let sign_out = move |_| {
        spawn_local(async move {
            let _ = api::post::<serde_json::Value>("/api/logout", &serde_json::json!({})).await;
            api::forget_kept();
            on_signed_out();
        })
    };
    view! { <button class="plain" on:click=sign_out>"退出登录"</button> }
}

#[component]
fn AdminDesk(me: Me, on_signed_out: impl Fn() + Copy + Send + Sync + 'static) -> impl IntoView {
    let tab = RwSignal::new(Tab::from_hash());
    let directory = Directory { org: RwSignal::new(None), message: RwSignal::new(None), import: RwSignal::new(None) };
    provide_context(directory);
    directory.reload();
    let nodes: Vec<String> = me.roles.iter().filter(|r| r.role == "admin").map(|r| r.path.clone()).collect();
    let show = move |t: Tab| {
        tab.set(t);
        directory.message.set(None);
        if let Some(w) = web_sys::window() {
            let _ = w.location().set_hash(t.slug());
        }
    };
    view! {
        <header class="bar">
            <strong>"先锋台账 · 管理端"</strong>
            <span class="who" data-testid="who">{me.person.name.clone()}" · 管理员 · "{nodes.join("，")}</span>
            <SignOut on_signed_out=on_signed_out/>
        </header>
        <nav class="tabs">
            {Tab::ALL.into_iter().map(|t| view! {
                <button class:active=move || tab.get() == t data-tab=t.slug() on:click=move |_| show(t)>{t.label()}</button>
            }).collect_view()}
        </nav>
        {move || match directory.org.get() {
            None => view! { <p class="muted">"正在读取组织架构…"</p> }.into_any(),
            Some(Err(ApiError::SignedOut)) => { on_signed_out(); view! { <p/> }.into_any() }
            Some(Err(e)) => view! { <p class="error">{e.message()}</p> }.into_any(),
            Some(Ok(org)) => match tab.get() {
                Tab::Org => view! { <crate::org_tree::OrgTree org=org/> }.into_any(),
                Tab::People => view! { <crate::people::People org=org/> }.into_any(),
                Tab::Devices => view! { <crate::devices::Devices org=org/> }.into_any(),
                Tab::Import => view! { <crate::import::Import/> }.into_any(),
                Tab::Audit => view! { <crate::audit::Audit org=org/> }.into_any(),
                Tab::Settings => view! { <crate::settings::Settings/> }.into_any(),
            },
        }}
    }
}

/// A unit's secretary on the desk: the award rounds reaching their unit (推荐), and their
/// people's records. Their ledger work stays on the phone.
#[component]
fn SecretaryDesk(me: Me, on_signed_out: impl Fn() + Copy + Send + Sync + 'static) -> impl IntoView {
    use http_api::route::View;
    let desk = crate::supervise::provide_desk();
    let units: Vec<String> = me.roles.iter().filter(|r| r.role == "secretary").map(|r| r.path.clone()).collect();
    let tabs = [(View::Awards, "评先评优"), (View::Records, "实绩")];
    view! {
        <header class="bar">
            <strong>"先锋台账 · 书记"</strong>
            <span class="who" data-testid="who">{me.person.name.clone()}" · 书记 · "{units.join("，")}</span>
            <SignOut on_signed_out=on_signed_out/>
        </header>
        <crate::supervise::ViewTabs tabs=tabs.to_vec()/>
        {move || match desk.route.get().view {
            View::Records => view! { <crate::achievement::PeoplePage/> }.into_any(),
            View::Person { id } => view! { <crate::achievement::PersonPage id=id/> }.into_any(),
            _ => view! { <crate::awards::SecretaryAwards/> }.into_any(),
        }}
    }
}
