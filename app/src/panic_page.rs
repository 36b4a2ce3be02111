//! A wasm panic leaves the page dead: replace it with a plain message and a way to reload.
//! IndexedDB is the source of truth, so reloading loses nothing that was saved.
//!
//! The way to reload is a link to this same address, not a button with `onclick`: the page's
//! Content Security Policy refuses inline handlers, and after a panic no Rust code may run.
//! `rel="external"` keeps the page's own link handling (`nav.rs`) out of it.

pub fn install() {
    std::panic::set_hook(Box::new(|info| {
        console_error_panic_hook::hook(info);
        let Some(body) = web_sys::window().and_then(|w| w.document()).and_then(|d| d.body()) else { return };
        body.set_inner_html(
            "<div class=\"alert crash\" role=\"alert\"><p>程序出错了。已保存的记录都在本机，不会丢失。</p>\
             <a class=\"button\" href=\"\" rel=\"external\">重新打开</a></div>",
        );
    }));
}
