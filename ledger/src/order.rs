//! Stable sorting that compiles once in the browser.
//!
//! `slice::sort_by` instantiates the standard library's driftsort (about 3 KB of wasm) for every
//! element type and comparator it is called with; the phone's two bundles carried about forty of
//! them (68 KB of the page's code before wasm-opt, 119 KB of the worker's). On wasm32 these
//! functions sort positions (`usize`) behind one `dyn` comparator, so the sort itself is compiled
//! once, and put the items in that order by following each cycle of the permutation. Same result
//! as `sort_by`: stable, and `cmp` is called O(n log n) times. Natively (the server, the desk's
//! reports) code size does not matter and the indirect comparisons did: they are std's sorts.

use std::cmp::Ordering;

/// Sorts `items` by `cmp`, keeping equal items in their order (like `slice::sort_by`).
pub fn sort_by<T>(items: &mut [T], cmp: impl Fn(&T, &T) -> Ordering) {
    #[cfg(target_arch = "wasm32")]
    sort_by_positions(items, cmp);
    #[cfg(not(target_arch = "wasm32"))]
    items.sort_by(cmp);
}

/// Sorts `items` by the key `key` computes, stable (like `slice::sort_by_key`).
pub fn sort_by_key<T, K: Ord>(items: &mut [T], key: impl Fn(&T) -> K) {
    sort_by(items, |a, b| key(a).cmp(&key(b)));
}

/// Sorts `items` by a key computed once per item, stable (like `slice::sort_by_cached_key`).
pub fn sort_by_cached_key<T, K: Ord>(items: &mut [T], key: impl Fn(&T) -> K) {
    #[cfg(target_arch = "wasm32")]
    sort_by_cached_key_positions(items, key);
    #[cfg(not(target_arch = "wasm32"))]
    items.sort_by_cached_key(key);
}

/// Sorts `items` in their natural order, stable (like `slice::sort`).
pub fn sort<T: Ord>(items: &mut [T]) {
    sort_by(items, T::cmp);
}

/// [`sort_by`] on wasm32.
#[cfg_attr(not(any(target_arch = "wasm32", test)), allow(dead_code))]
fn sort_by_positions<T>(items: &mut [T], cmp: impl Fn(&T, &T) -> Ordering) {
    let order = sorted_positions(items.len(), &|a, b| cmp(&items[a], &items[b]));
    permute(items, order);
}

/// [`sort_by_cached_key`] on wasm32.
#[cfg_attr(not(any(target_arch = "wasm32", test)), allow(dead_code))]
fn sort_by_cached_key_positions<T, K: Ord>(items: &mut [T], key: impl Fn(&T) -> K) {
    let keys: Vec<K> = items.iter().map(key).collect();
    let order = sorted_positions(items.len(), &|a, b| keys[a].cmp(&keys[b]));
    permute(items, order);
}

/// The positions `0..len` in the order `cmp` gives them; equal positions keep their order.
#[cfg_attr(not(any(target_arch = "wasm32", test)), allow(dead_code))]
#[inline(never)]
fn sorted_positions(len: usize, cmp: &dyn Fn(usize, usize) -> Ordering) -> Vec<usize> {
    let mut order: Vec<usize> = (0..len).collect();
    order.sort_by(|&a, &b| cmp(a, b));
    order
}

/// Rearranges `items` so that position `i` holds what was at `order[i]`, in place.
#[cfg_attr(not(any(target_arch = "wasm32", test)), allow(dead_code))]
fn permute<T>(items: &mut [T], mut order: Vec<usize>) {
    for start in 0..items.len() {
        let mut at = start;
        loop {
            let from = order[at];
            order[at] = at;
            if from == start || from == at {
                break;
            }
            items.swap(at, from);
            at = from;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// The same order as the standard library's stable sort, ties included.
        #[test]
        fn orders_as_the_standard_sort_does(items in proptest::collection::vec((0u8..6, any::<u16>()), 0..200)) {
            let mut expected = items.clone();
            expected.sort_by_key(|i| i.0);
            let mut got = items.clone();
            sort_by_positions(&mut got, |a, b| a.0.cmp(&b.0));
            prop_assert_eq!(&got, &expected);

            let mut cached = items.clone();
            sort_by_cached_key_positions(&mut cached, |i| std::cmp::Reverse(i.0));
            expected.clear();
            expected.extend(items.iter().copied());
            expected.sort_by_cached_key(|i| std::cmp::Reverse(i.0));
            prop_assert_eq!(&cached, &expected);

            let mut natural = items.clone();
            sort_by_positions(&mut natural, Ord::cmp);
            let mut std_natural = items;
            std_natural.sort();
            prop_assert_eq!(natural, std_natural);
        }
    }

    #[test]
    fn items_that_own_memory_move_without_loss() {
        let mut names: Vec<String> = ["丙", "甲", "丁", "乙", "甲"].iter().map(|s| s.to_string()).collect();
        sort_by_positions(&mut names, |a, b| b.cmp(a));
        assert_eq!(names, ["甲", "甲", "乙", "丙", "丁"]); // by code point, descending
        let mut empty: Vec<String> = Vec::new();
        sort_by_positions(&mut empty, Ord::cmp);
        assert!(empty.is_empty());
    }
}
