//! Pioneer Ledger's desktop bundle (桌面端), served at `/desk`: the admin pages (organisation
//! tree, people, activation codes, devices, import, audit log). A bundle of its own, so nothing
//! here reaches the phone's app shell. The supervisor's desk grows here too.

mod api;
mod app;
mod audit;
mod devices;
mod import;
mod login;
mod org_tree;
mod people;

fn main() {
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(app::App);
}
