//! Pioneer Ledger's desktop bundle (桌面端), served at `/desk`: the admin pages (organisation
//! tree, people, activation codes, devices, import, audit log) and the supervisor's desk
//! (督查台: figures, lists, records, 督办, 通报) and the campaign office's (先锋办: rounds, plan
//! reviews, notices). A bundle of its own, so nothing here reaches
//! the phone's app shell.

mod achievement;
mod api;
mod app;
mod audit;
mod awards;
mod cases;
mod charts;
mod devices;
mod import;
mod lists;
mod login;
mod office;
mod org_tree;
mod overview;
mod people;
mod record;
mod report;
mod settings;

mod supervise;

/// The class that indents a unit `depth` levels below the node shown (`depth-0` … `depth-8`).
/// A class, not a `style` attribute: the server's CSP (`style-src 'self'`) drops inline styles,
/// which left every tree flat.
pub fn depth_class(depth: usize) -> String {
    format!("depth-{}", depth.min(8))
}

fn main() {
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(app::App);
}
