//! Signing in on a desktop with login name and password (a session cookie for the working day).

use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::api;

#[component]
pub fn Login(on_signed_in: impl Fn() + Copy + Send + Sync + 'static) -> impl IntoView {
    let (login, password) = (RwSignal::new(String::new()), RwSignal::new(String::new()));
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        busy.set(true);
        let body = http_api::me::Login { login: login.get_untracked().trim().to_owned(), password: password.get_untracked() };
        spawn_local(async move {
            match api::post::<http_api::me::SignedIn>("/api/login", &body).await {
                Ok(_) => on_signed_in(),
                Err(api::ApiError::SignedOut) => error.set(Some("登录名或密码不对".into())),
                Err(e) => error.set(Some(e.message())),
            }
            busy.set(false);
        });
    };
    view! {
        <form class="card login" on:submit=submit>
            <h1>"先锋台账 · 桌面端"</h1>
            <label>"登录名"<input name="login" autocomplete="username" required bind:value=login/></label>
            <label>"密码"<input name="password" type="password" autocomplete="current-password" required bind:value=password/></label>
            {move || error.get().map(|e| view! { <p class="error" role="alert">{e}</p> })}
            <button type="submit" class="primary" disabled=busy>"登录"</button>
        </form>
    }
}
