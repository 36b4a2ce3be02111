//! Counting what the public sends, per key and in all, in bounded memory.
//!
//! Written here rather than taken from a crate: what is needed is a fixed window per key whose
//! table never grows past a cap (a flood of new addresses or cookies must not grow memory),
//! and a crate's keyed limiter (governor) grows without bound unless swept, and brings a
//! concurrent map and a clock crate for a dozen lines of counting.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// At most `limit` events per key in each `window`, for at most `max_keys` keys at once.
pub(crate) struct Windows {
    limit: u32,
    window: Duration,
    max_keys: usize,
    counts: Mutex<HashMap<String, (Instant, u32)>>,
}

impl Windows {
    pub(crate) fn new(limit: u32, window: Duration, max_keys: usize) -> Self {
        Self { limit, window, max_keys, counts: Mutex::new(HashMap::new()) }
    }

    pub(crate) fn limit(&self) -> u32 {
        self.limit
    }

    pub(crate) fn window(&self) -> Duration {
        self.window
    }

    /// Counts one event for `key`; false when the key has had its `limit` in this window, or
    /// the table is full of keys still in their windows (then everyone waits: memory first).
    pub(crate) fn allow(&self, key: &str, now: Instant) -> bool {
        let mut counts = self.counts.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((start, n)) = counts.get_mut(key) {
            if now.duration_since(*start) >= self.window {
                *start = now;
                *n = 0;
            }
            if *n >= self.limit {
                return false;
            }
            *n += 1;
            return true;
        }
        if counts.len() >= self.max_keys {
            let window = self.window;
            counts.retain(|_, (start, _)| now.duration_since(*start) < window);
            if counts.len() >= self.max_keys {
                return false;
            }
        }
        if self.limit == 0 {
            return false;
        }
        counts.insert(key.to_owned(), (now, 1));
        true
    }

    /// Gives back an event counted for `key` that did not happen (a form refused as invalid
    /// costs a resident nothing).
    pub(crate) fn give_back(&self, key: &str) {
        if let Some((_, n)) = self.counts.lock().unwrap_or_else(|e| e.into_inner()).get_mut(key) {
            *n = n.saturating_sub(1);
        }
    }

    #[cfg(test)]
    fn keys(&self) -> usize {
        self.counts.lock().unwrap().len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_gets_its_limit_per_window_then_again() {
        let w = Windows::new(2, Duration::from_secs(10), 100);
        let t = Instant::now();
        assert!(w.allow("a", t));
        assert!(w.allow("a", t));
        assert!(!w.allow("a", t + Duration::from_secs(9)));
        assert!(w.allow("b", t), "keys are apart");
        let later = t + Duration::from_secs(10);
        assert!(w.allow("a", later));
        assert!(w.allow("a", later));
        assert!(!w.allow("a", later));
        // An event given back is counted no more.
        w.give_back("a");
        assert!(w.allow("a", later));
        assert!(!w.allow("a", later));
    }

    #[test]
    fn a_flood_of_new_keys_never_grows_the_table_past_its_cap() {
        let w = Windows::new(5, Duration::from_secs(60), 1_000);
        let t = Instant::now();
        let allowed = (0..50_000).filter(|i| w.allow(&format!("addr-{i}"), t)).count();
        assert_eq!(allowed, 1_000);
        assert_eq!(w.keys(), 1_000);
        // Once their windows pass, the keys are swept and new ones come in.
        assert!(w.allow("late", t + Duration::from_secs(61)));
        assert_eq!(w.keys(), 1);
    }
}
