//! A wasm panic leaves the page dead: replace it with a plain message and a reload button.
//! IndexedDB is the source of truth, so reloading loses nothing that was saved.

pub fn install() {
    std::panic::set_hook(Box::new(|info| {
        console_error_panic_hook::hook(info);
        let Some(body) = web_sys::window().and_then(|w| w.document()).and_then(|d| d.body()) else { return };
        body.set_inner_html(
            "<div class=\"alert crash\" role=\"alert\"><p>程序出错了。已保存的记录都在本机，不会丢失。</p>\
             <button class=\"button\" onclick=\"location.reload()\">重新打开</button></div>",
        );
    }));
}
