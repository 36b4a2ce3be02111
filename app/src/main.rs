//! Pioneer Ledger's browser app (先锋台账): a Leptos client-side PWA. The domain lives in
//! `ledger`; this crate only shows it and moves bytes to and from IndexedDB.

mod account;
mod app;
mod browser;
mod cached_view;
mod nav;
mod pages;
mod panic_page;
mod service;
mod settings;
mod sync;
mod update_banner;
mod warm_up;
mod worker;

fn main() {
    panic_page::install();
    settings::upgrade_stored_format();
    leptos::mount::mount_to_body(app::App);
}
