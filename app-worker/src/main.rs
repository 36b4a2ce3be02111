//! The phone's worker (先锋台账后台线程): the ledger's Automerge document, its IndexedDB store,
//! compaction and sync with the server, in a dedicated Web Worker. Loading a large ledger or
//! applying a large sync takes seconds on a cheap phone; here it never holds up a tap. The
//! page sends plain-data messages (`ledger::worker_protocol`) and gets back the records that
//! changed.

mod host;
mod page;
mod store;
mod sync;

use std::cell::RefCell;

use ledger::worker_protocol::{Answer, FromWorker, ToWorker, VERSION};

use crate::host::Host;
use crate::page::post;
use crate::sync::Sync;

thread_local! {
    /// The open ledger and its sync, once the page has said which.
    static OPEN: RefCell<Option<(Host, Sync)>> = const { RefCell::new(None) };
}

fn main() {
    console_error_panic_hook::set_once();
    page::listen(dispatch);
    post(&FromWorker::Hello { version: VERSION });
}

fn dispatch(message: ToWorker) {
    let open = OPEN.with(|o| o.borrow().clone());
    let Some((host, sync)) = open else {
        // The page opens a ledger first; nothing else comes before.
        if let ToWorker::Open(ledger) = message {
            let host = Host::open(ledger.clone());
            let sync = Sync::start(host.clone(), &ledger);
            OPEN.with(|o| *o.borrow_mut() = Some((host, sync)));
        }
        return;
    };
    match message {
        // One ledger per page: switching ledgers reloads the page.
        ToWorker::Open(_) => {}
        ToWorker::Apply { request, command } => wasm_bindgen_futures::spawn_local(async move {
            let answer = host.apply(command).await;
            post(&FromWorker::Answer { request, answer });
        }),
        ToWorker::Ask { request, question } => wasm_bindgen_futures::spawn_local(async move {
            let answer = host.ask(question).await;
            post(&FromWorker::Answer { request, answer });
        }),
        ToWorker::StopWrites { why } => host.stop_writes(why),
        ToWorker::Reconnect => sync.reconnect(),
        ToWorker::Offline => sync.offline(),
        ToWorker::Erase { request } => wasm_bindgen_futures::spawn_local(async move {
            sync.stop();
            host.erase().await;
            post(&FromWorker::Answer { request, answer: Answer::Erased });
        }),
    }
}
