//! The phone's worker (先锋台账后台线程): the ledger's Automerge document, its IndexedDB store,
//! compaction and sync with the server, in a dedicated Web Worker. Loading a large ledger or
//! applying a large sync takes seconds on a cheap phone; here it never holds up a tap. The
//! page sends plain-data messages (`ledger::worker_protocol`) and gets back the records that
//! changed.

mod host;
mod page;
mod photos;
mod store;
mod sync;

use std::cell::RefCell;

use ledger::worker_protocol::{Answer, FromWorker, OpenLedger, ToWorker, VERSION};

use crate::host::Host;
use crate::page::post;
use crate::sync::Sync;

/// A ledger the worker holds, with its sync.
#[derive(Clone)]
struct Held {
    host: Host,
    sync: Sync,
}

impl Held {
    fn open(ledger: OpenLedger, on_screen: bool) -> Self {
        let host = Host::open(ledger.clone(), on_screen);
        let sync = Sync::start(host.clone(), &ledger);
        Self { host, sync }
    }
}

thread_local! {
    /// The ledger the page shows, once it has said which.
    static SHOWN: RefCell<Option<Held>> = const { RefCell::new(None) };
    /// The person's other ledgers, kept current and uploaded in the background.
    static KEPT: RefCell<Vec<Held>> = const { RefCell::new(Vec::new()) };
    /// Why no more changes are taken, once the page says (a retired or lost device): for the
    /// ledgers kept later too.
    static STOPPED: RefCell<Option<String>> = const { RefCell::new(None) };
}

fn main() {
    console_error_panic_hook::set_once();
    page::listen(dispatch, |request, file| wasm_bindgen_futures::spawn_local(photos::add(request, file)));
    post(&FromWorker::Hello { version: VERSION });
}

fn every_held() -> Vec<Held> {
    let mut all: Vec<Held> = SHOWN.with(|s| s.borrow().clone()).into_iter().collect();
    all.extend(KEPT.with(|k| k.borrow().clone()));
    all
}

fn dispatch(message: ToWorker) {
    let shown = SHOWN.with(|s| s.borrow().clone());
    let Some(Held { host, .. }) = shown else {
        // The page opens a ledger first; nothing else comes before.
        if let ToWorker::Open(ledger) = message {
            let held = Held::open(ledger, true);
            SHOWN.with(|s| *s.borrow_mut() = Some(held.clone()));
            // What waits from an earlier session is shown, and sent when the server is reached.
            wasm_bindgen_futures::spawn_local(async move {
                if held.host.loaded().await {
                    photos::kick();
                }
            });
        }
        return;
    };
    match message {
        // One ledger shown per page: switching ledgers reloads the page.
        ToWorker::Open(_) => {}
        ToWorker::Keep(ledgers) => wasm_bindgen_futures::spawn_local(keep(host, ledgers)),
        ToWorker::Apply { request, command } => wasm_bindgen_futures::spawn_local(async move {
            let photos = command.touches_photos();
            let answer = host.apply(command).await;
            post(&FromWorker::Answer { request, answer });
            if photos {
                photos::kick();
            }
        }),
        ToWorker::Ask { request, question } => wasm_bindgen_futures::spawn_local(async move {
            let answer = host.ask(question).await;
            post(&FromWorker::Answer { request, answer });
        }),
        ToWorker::StopWrites { why } => {
            STOPPED.with(|s| *s.borrow_mut() = Some(why.clone()));
            every_held().iter().for_each(|held| held.host.stop_writes(why.clone()));
        }
        ToWorker::Reconnect => {
            every_held().iter().for_each(|held| held.sync.reconnect());
            photos::kick();
        }
        ToWorker::PhotoSpace(bytes) => photos::set_space(bytes),
        ToWorker::Offline => every_held().iter().for_each(|held| held.sync.offline()),
        ToWorker::Erase { request } => wasm_bindgen_futures::spawn_local(async move {
            let all = every_held();
            all.iter().for_each(|held| held.sync.stop());
            for held in &all {
                held.host.erase().await;
            }
            photos::erase().await;
            post(&FromWorker::Answer { request, answer: Answer::Erased });
        }),
    }
}

/// Opens the person's other ledgers one after another once the shown one is open: the first
/// seconds of the worker belong to the ledger on screen.
async fn keep(shown: Host, ledgers: Vec<OpenLedger>) {
    if !shown.loaded().await {
        return;
    }
    for ledger in ledgers {
        let known = every_held().iter().any(|held| held.host.document() == ledger.document);
        if known {
            continue;
        }
        let held = Held::open(ledger, false);
        if let Some(why) = STOPPED.with(|s| s.borrow().clone()) {
            held.host.stop_writes(why);
        }
        KEPT.with(|k| k.borrow_mut().push(held.clone()));
        held.host.loaded().await;
    }
}
