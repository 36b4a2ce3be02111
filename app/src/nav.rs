//! Which screen the address names, and moving between screens without reloading the page.
//!
//! The phone's addresses are a fixed table of paths with at most one `:id` (`ledger::address`),
//! plus a query string a few forms read. leptos_router did this before, but its route tree is
//! generic over every route's view and path: without it the page's wasm went from 363 to 323 KB
//! as browsers receive it (brotli), under issue 28's 350 KB budget. What is here is the part of
//! it the page used: `history.pushState` with the screen following it, the browser's back
//! button, and links (`<a href>`) to the page's own addresses that change the screen in place.

use leptos::prelude::*;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};

use ledger::address::{route, Screen};

/// Where the page is: the path and the query string (with its `?`), one signal so that no
/// reader ever sees the new path with the old query.
#[derive(Clone, Copy)]
pub struct Location {
    address: RwSignal<(String, String)>,
}

/// The page's location, from a component below the screens' root.
pub fn use_location() -> Location {
    expect_context::<Location>()
}

impl Location {
    /// Starts following the address: the back and forward buttons, and clicks on links to this
    /// page's own addresses. Called once, where the screens are shown.
    pub fn provide() -> Location {
        let location = Location { address: RwSignal::new(address()) };
        provide_context(location);
        let Some(window) = web_sys::window() else { return location };
        let on_pop = Closure::<dyn Fn()>::new(move || location.follow_address());
        let _ = window.add_event_listener_with_callback("popstate", on_pop.as_ref().unchecked_ref());
        on_pop.forget();
        // On the window, so that it runs after the page's own click handlers (Leptos delegates
        // them to the document): they see the screen they were made for, not the next one.
        let on_click = Closure::<dyn Fn(web_sys::MouseEvent)>::new(move |ev| location.follow_link(ev));
        let _ = window.add_event_listener_with_callback("click", on_click.as_ref().unchecked_ref());
        on_click.forget();
        location
    }

    /// The path, tracked.
    pub fn path(self) -> String {
        self.address.with(|(path, _)| path.clone())
    }

    /// The screen shown, changing only when the address names another: another screen, another
    /// id, or another query (`/problems/new?visit=A` and `?enterprise=B` are two forms, each
    /// drawn from its own query).
    pub fn screen(self) -> Memo<(Screen, Option<String>, String)> {
        Memo::new(move |_| {
            self.address.with(|(path, query)| {
                let (screen, id) = route(path);
                (screen, id, query.clone())
            })
        })
    }

    /// Goes to `to` (a path with an optional query), as a new entry in the browser's history, at
    /// the top of the new screen.
    pub fn navigate(self, to: &str) {
        let Some(window) = web_sys::window() else { return };
        if let Ok(history) = window.history() {
            let _ = history.push_state_with_url(&JsValue::NULL, "", Some(to));
        }
        window.scroll_to_with_x_and_y(0.0, 0.0);
        self.follow_address();
    }

    /// The `:id` of the screen shown, as a record id (untracked: a screen is drawn anew for
    /// another id).
    pub fn route_id(self) -> Option<ledger::RecordId> {
        self.address.with_untracked(|(path, _)| route(path).1).and_then(|id| ledger::RecordId::parse(&id))
    }

    /// One value of the query string (`?enterprise=…`), untracked.
    pub fn query(self, name: &str) -> Option<String> {
        let query = self.address.with_untracked(|(_, query)| query.clone());
        web_sys::UrlSearchParams::new_with_str(&query).ok()?.get(name)
    }

    fn follow_address(self) {
        self.address.set(address());
    }

    /// A plain click on a link to one of this page's addresses changes the screen in place, as
    /// a browser would load it but without reloading.
    fn follow_link(self, ev: web_sys::MouseEvent) {
        if ev.default_prevented() || ev.button() != 0 || ev.meta_key() || ev.alt_key() || ev.ctrl_key() || ev.shift_key() {
            return;
        }
        let Some(link) = ev.target().and_then(|t| t.dyn_into::<web_sys::Element>().ok()).and_then(|e| e.closest("a[href]").ok().flatten()) else {
            return;
        };
        let Ok(link) = link.dyn_into::<web_sys::HtmlAnchorElement>() else { return };
        if link.has_attribute("download") || !matches!(link.target().as_str(), "" | "_self") || link.rel().split_whitespace().any(|r| r == "external") {
            return;
        }
        if web_sys::window().and_then(|w| w.location().origin().ok()) != Some(link.origin()) {
            return;
        }
        ev.prevent_default();
        self.navigate(&format!("{}{}{}", link.pathname(), link.search(), link.hash()));
    }
}

/// The current address's path and query.
fn address() -> (String, String) {
    let location = web_sys::window().map(|w| w.location());
    let path = location.as_ref().and_then(|l| l.pathname().ok()).unwrap_or_else(|| "/".into());
    let query = location.and_then(|l| l.search().ok()).unwrap_or_default();
    (path, query)
}
