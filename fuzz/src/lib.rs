//! What the fuzz targets share: a panic guard that lets a target catch the panics the server
//! catches. libfuzzer-sys aborts on every panic before unwinding (its hook), but the server runs
//! Automerge's work inside `catch_unwind` and sends the document back to storage when it panics;
//! a target that stopped at each such panic would never get past the first one.

use std::cell::Cell;
use std::panic::{self, AssertUnwindSafe};

thread_local! {
    static GUARDED: Cell<bool> = const { Cell::new(false) };
}

/// Call once from the target's `init`: panics inside [`guarded`] unwind quietly, every other
/// panic still aborts (a finding).
pub fn allow_guarded_panics() {
    let abort = panic::take_hook();
    panic::set_hook(Box::new(move |info| {
        if !GUARDED.with(Cell::get) {
            abort(info);
        }
    }));
}

/// Runs `f` as the server does document work: a panic is an error, not the end of the process.
pub fn guarded<T>(f: impl FnOnce() -> T) -> Result<T, ()> {
    GUARDED.with(|g| g.set(true));
    let result = panic::catch_unwind(AssertUnwindSafe(f));
    GUARDED.with(|g| g.set(false));
    result.map_err(drop)
}
