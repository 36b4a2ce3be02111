//! Service worker registration, and the "新版本可用" banner. A new version never reloads the
//! page by itself: the person may be half-way through a form. It waits until they tap.

use leptos::prelude::*;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::{ServiceWorker, ServiceWorkerRegistration, ServiceWorkerState};

#[component]
pub fn UpdateBanner() -> impl IntoView {
    let waiting = RwSignal::new_local(None::<ServiceWorker>);
    let update_requested = RwSignal::new(false);
    leptos::task::spawn_local(async move {
        if let Err(e) = register(waiting, update_requested).await {
            web_sys::console::warn_2(&"service worker not registered".into(), &e);
        }
    });
    let activate = move |_| {
        let Some(worker) = waiting.get_untracked() else { return };
        update_requested.set(true);
        let _ = worker.post_message(&JsValue::from_str("skip-waiting"));
    };
    view! {
        <Show when=move || waiting.with(Option::is_some)>
            <div class="update-banner" role="status">
                <span>"新版本可用"</span>
                <button class="toast-action" on:click=activate>"更新"</button>
            </div>
        </Show>
    }
}

async fn register(waiting: RwSignal<Option<ServiceWorker>, LocalStorage>, update_requested: RwSignal<bool>) -> Result<(), JsValue> {
    let window = web_sys::window().ok_or("no window")?;
    let navigator = window.navigator();
    // Absent on insecure origins and in some embedded browsers: the app still works online.
    if !js_sys::Reflect::has(&navigator, &"serviceWorker".into())? {
        return Ok(());
    }
    let container = navigator.service_worker();
    let registration: ServiceWorkerRegistration = JsFuture::from(container.register("/sw.js")).await?.dyn_into()?;

    // The new worker took over after the person asked for it: load the new app shell. (The
    // first install also changes the controller, through clients.claim(); that must not reload.)
    let on_controller_change = Closure::<dyn FnMut()>::new(move || {
        if update_requested.get_untracked() {
            crate::browser::reload();
        }
    });
    container.set_oncontrollerchange(Some(on_controller_change.as_ref().unchecked_ref()));
    on_controller_change.forget();

    // A waiting worker with a controller in place is an update; without one it is the first
    // install, which needs no one's permission.
    if let Some(worker) = registration.waiting() {
        if is_update() {
            waiting.set(Some(worker));
        }
    }
    // (A worker still installing when the app starts needs no watching here: `register()` waits
    // behind that install job, so it shows up as `waiting` above.)
    let reg = registration.clone();
    let on_update_found = Closure::<dyn FnMut()>::new(move || {
        if let Some(worker) = reg.installing() {
            offer_when_installed(worker, waiting);
        }
    });
    registration.set_onupdatefound(Some(on_update_found.as_ref().unchecked_ref()));
    on_update_found.forget();

    // The app stays open for a whole day in the field; browsers check for a new version only on
    // navigation, which a single-page app rarely makes. So it checks every hour, and as soon as
    // the phone is back in coverage.
    let check = Closure::<dyn FnMut()>::new(move || {
        // Offline, the check fails; the next one tries again.
        if let Ok(checked) = registration.update() {
            leptos::task::spawn_local(async move {
                let _ = JsFuture::from(checked).await;
            });
        }
    });
    window.set_interval_with_callback_and_timeout_and_arguments_0(check.as_ref().unchecked_ref(), UPDATE_CHECK_MS)?;
    window.add_event_listener_with_callback("online", check.as_ref().unchecked_ref())?;
    check.forget();
    Ok(())
}

/// How often an open app asks the server for a new version.
const UPDATE_CHECK_MS: i32 = 60 * 60 * 1000;

fn is_update() -> bool {
    web_sys::window().is_some_and(|w| w.navigator().service_worker().controller().is_some())
}

/// Offers the new version once `worker` has installed (unless it is the first install).
fn offer_when_installed(worker: ServiceWorker, waiting: RwSignal<Option<ServiceWorker>, LocalStorage>) {
    let watched = worker.clone();
    let on_state = Closure::<dyn FnMut()>::new(move || {
        if watched.state() == ServiceWorkerState::Installed && is_update() {
            waiting.try_set(Some(watched.clone()));
        }
    });
    worker.set_onstatechange(Some(on_state.as_ref().unchecked_ref()));
    on_state.forget();
}
