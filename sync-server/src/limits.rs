//! Every bound on what a peer can make the server spend, in one place. The protocol's own
//! bounds (message size, Bloom filter parameters, documents per connection) are in
//! [`ledger_sync::limits`] and [`ledger_sync::MAX_MESSAGE_BYTES`], shared with the app.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

// Named here too, so every bound a peer meets is in this one file.
#[allow(unused_imports)]
pub(crate) use ledger_sync::limits::{MAX_BLOOM_BITS_PER_ENTRY, MAX_BLOOM_PROBES, MAX_DOCUMENTS_PER_CONNECTION, MAX_HAVES};
#[allow(unused_imports)]
pub(crate) use ledger_sync::MAX_MESSAGE_BYTES;

/// A sync connection that sends nothing, not even a pong to our pings, for this long is
/// closed: a phone that lost coverage mid-connection, or a socket held open on purpose.
/// Browsers answer pings by themselves, so a live app is never idle this long.
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(90);

/// Desk exports being written at once, in all (each reads every record below the node and
/// writes a workbook: seconds of CPU and a temporary file); more are answered 429.
pub(crate) const MAX_CONCURRENT_EXPORTS: usize = 2;
pub(crate) static EXPORTS: Places = Places::new(MAX_CONCURRENT_EXPORTS);
/// The exports' places across processes sharing PostgreSQL (an advisory-lock key).
pub(crate) const EXPORT_PLACES: i32 = 0x4558_5054;

/// Whole ledgers loaded at once for the desk's record view (a ledger of a few thousand records
/// is tens of MB and a tenth of a second of CPU to load); more are answered 429.
pub(crate) const MAX_CONCURRENT_RECORD_LOADS: usize = 4;
pub(crate) static RECORD_LOADS: Places = Places::new(MAX_CONCURRENT_RECORD_LOADS);

/// At most `max` of one costly thing at once, in all: a place is taken or refused at once
/// (never queued: a queue would hold the requests' memory instead), and given back when the
/// [`Place`] is dropped.
pub(crate) struct Places {
    taken: AtomicUsize,
    max: usize,
}

pub(crate) struct Place(&'static Places);

impl Places {
    pub(crate) const fn new(max: usize) -> Self {
        Self { taken: AtomicUsize::new(0), max }
    }

    pub(crate) fn take(&'static self) -> Option<Place> {
        if self.taken.fetch_add(1, Ordering::SeqCst) >= self.max {
            self.taken.fetch_sub(1, Ordering::SeqCst);
            return None;
        }
        Some(Place(self))
    }
}

impl Drop for Place {
    fn drop(&mut self) {
        self.0.taken.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Most bytes of a request's line and headers (hyper's read buffer).
pub(crate) const MAX_REQUEST_HEAD_BYTES: usize = 64 * 1024;

/// Bounds on connections, before any request is read.
#[derive(Clone, Debug)]
pub struct ConnectionLimits {
    /// A request's head must arrive within this (on a new connection, and between requests on
    /// a kept-alive one).
    pub header_read_timeout: Duration,
    /// Open connections in all, WebSockets included; set below the process's descriptor limit
    /// so the listener, the database and the log always have one.
    pub max_connections: usize,
    /// Open connections from one address. High, because a township's phones may share one
    /// carrier-grade NAT address; it stops one host from taking every slot.
    pub max_connections_per_address: usize,
    /// On SIGTERM, how long requests in progress may take to finish.
    pub shutdown_grace: Duration,
}

impl Default for ConnectionLimits {
    fn default() -> Self {
        let descriptors = raise_descriptor_limit();
        Self {
            header_read_timeout: Duration::from_secs(10),
            max_connections: descriptors.saturating_sub(64).clamp(64, 50_000) as usize,
            max_connections_per_address: 2_000,
            shutdown_grace: Duration::from_secs(5),
        }
    }
}

/// Raises the soft limit on open descriptors to the hard limit; returns the limit now in force.
#[cfg(unix)]
fn raise_descriptor_limit() -> u64 {
    // SAFETY: getrlimit/setrlimit only read and write the struct passed to them.
    unsafe {
        let mut limit = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) != 0 {
            return 1024;
        }
        if limit.rlim_cur < limit.rlim_max {
            let raised = libc::rlimit { rlim_cur: limit.rlim_max, rlim_max: limit.rlim_max };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &raised) == 0 {
                return raised.rlim_cur;
            }
        }
        limit.rlim_cur
    }
}

#[cfg(not(unix))]
fn raise_descriptor_limit() -> u64 {
    1024
}

/// Log lines a minute for refused connections and messages (each names the peer and the
/// document), and for failures while working on a document.
pub const REFUSALS_PER_MINUTE: u64 = 60;
/// Log lines for refused connections and messages.
pub(crate) static REFUSALS: LogBudget = LogBudget::per_minute(REFUSALS_PER_MINUTE);
/// Log lines for failures while working on a document (a panic inside Automerge, a document
/// that does not load, storage refusing a write): a peer that repeats one cannot flood the log.
pub(crate) static FAULTS: LogBudget = LogBudget::per_minute(REFUSALS_PER_MINUTE);

/// At most so many log lines a minute for one kind of refusal, then one line saying how many
/// were left out: a flood of bad connections must not fill the disk with the log.
pub(crate) struct LogBudget {
    per_minute: u64,
    window: Mutex<(Option<Instant>, u64)>,
    dropped: AtomicU64,
}

impl LogBudget {
    pub(crate) const fn per_minute(per_minute: u64) -> Self {
        Self { per_minute, window: Mutex::new((None, 0)), dropped: AtomicU64::new(0) }
    }

    /// Whether a line may be logged now. The first line of a new minute reports how many were
    /// left out in the last one.
    pub(crate) fn allow(&self) -> bool {
        let mut w = self.window.lock().unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        if w.0.is_none_or(|start| now.duration_since(start) >= Duration::from_secs(60)) {
            let dropped = self.dropped.swap(0, Ordering::Relaxed);
            if dropped > 0 {
                tracing::warn!("{dropped} similar log lines were left out in the last minute");
            }
            *w = (Some(now), 0);
        }
        if w.1 < self.per_minute {
            w.1 += 1;
            true
        } else {
            self.dropped.fetch_add(1, Ordering::Relaxed);
            false
        }
    }
}

#[cfg(test)]
mod places_tests {
    use super::*;

    #[test]
    fn places_are_bounded_and_given_back() {
        static TWO: Places = Places::new(2);
        let first = TWO.take().expect("a place");
        let second = TWO.take().expect("a second place");
        assert!(TWO.take().is_none(), "a third is refused");
        drop(first);
        let third = TWO.take().expect("a place again once one ended");
        drop((second, third));
        assert_eq!(TWO.taken.load(Ordering::SeqCst), 0);
    }
}
