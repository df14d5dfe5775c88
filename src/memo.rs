//! A bounded memo: a value computed once per key and shared by every later asker, the oldest
//! entries forgotten first so memory stays bounded however long a fleet run lasts. Concurrent
//! askers of one key wait for the first one's value rather than compute it again.
//!
//! Used for what a run sees many times: the description of a presented chain
//! (`net::observation`) and the verdicts on it (`pki::verdicts`).
//!
//! [`Recent`] sits in front of such a memo where even its key costs too much to compute for
//! every ask: the last few values, found by comparing them.

use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::hash::Hash;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

pub struct Memo<K, V> {
    capacity: usize,
    state: Mutex<State<K, V>>,
}

struct State<K, V> {
    slots: HashMap<K, Arc<OnceLock<V>>>,
    /// Insertion order, for eviction.
    order: VecDeque<K>,
}

impl<K, V> fmt::Debug for Memo<K, V> {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("Memo")
            .field("capacity", &self.capacity)
            .field("len", &self.lock().slots.len())
            .finish()
    }
}

impl<K, V> Memo<K, V> {
    /// A memo keeping at most `capacity` values (at least one).
    pub fn new(capacity: usize) -> Self {
        Memo {
            capacity: capacity.max(1),
            state: Mutex::new(State {
                slots: HashMap::new(),
                order: VecDeque::new(),
            }),
        }
    }

    /// A poisoned lock only means an asker panicked between two steps of an insertion; every
    /// slot is whole, so carry on.
    fn lock(&self) -> std::sync::MutexGuard<'_, State<K, V>> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// How many values are kept.
    pub fn len(&self) -> usize {
        self.lock().slots.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl<K: Eq + Hash + Clone, V: Clone> Memo<K, V> {
    /// The value for `key`: `compute`d on the first ask (outside the memo's lock), shared after.
    pub fn get_or_compute(&self, key: K, compute: impl FnOnce() -> V) -> V {
        self.slot(key).0.get_or_init(compute).clone()
    }

    /// Makes room for `key`'s value, so that later askers wait for the first one's
    /// computation: `true` when nobody had asked for it yet. For a caller that hands the
    /// computation to another thread and wants only the first of several such callers to.
    pub fn reserve(&self, key: K) -> bool {
        self.slot(key).1
    }

    /// `key`'s slot, and whether it was made now.
    fn slot(&self, key: K) -> (Arc<OnceLock<V>>, bool) {
        let mut state = self.lock();
        if let Some(slot) = state.slots.get(&key) {
            return (Arc::clone(slot), false);
        }
        // `order` holds every key in `slots`, so bounding it bounds both.
        while state.order.len() >= self.capacity {
            match state.order.pop_front() {
                Some(oldest) => {
                    state.slots.remove(&oldest);
                }
                None => break,
            }
        }
        let slot = Arc::new(OnceLock::new());
        state.order.push_back(key.clone());
        state.slots.insert(key, Arc::clone(&slot));
        (slot, true)
    }

    /// Whether a value for `key` is kept.
    pub fn contains(&self, key: &K) -> bool {
        self.lock().slots.contains_key(key)
    }
}

/// The few values seen last, found by a scan rather than by a key: for what a run is shown
/// again and again (a gateway's three ports and a fleet's gateways present the same
/// certificates), where comparing a handful costs less than hashing or parsing anew. The
/// oldest is forgotten first; a miss only costs the work the caller does anyway.
pub struct Recent<T> {
    capacity: usize,
    values: Mutex<VecDeque<T>>,
}

impl<T> fmt::Debug for Recent<T> {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("Recent")
            .field("capacity", &self.capacity)
            .field("len", &self.lock().len())
            .finish()
    }
}

impl<T> Recent<T> {
    /// At most `capacity` values (at least one).
    pub fn new(capacity: usize) -> Self {
        Recent {
            capacity: capacity.max(1),
            values: Mutex::new(VecDeque::with_capacity(capacity.max(1))),
        }
    }

    /// A poisoned lock only means a caller panicked while the list was held; every value in
    /// it is whole.
    fn lock(&self) -> std::sync::MutexGuard<'_, VecDeque<T>> {
        self.values.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// How many values are kept.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// What `pick` takes from the newest kept value it takes anything from: a handle to the
    /// part wanted, never a copy of the whole value.
    pub fn find<R>(&self, pick: impl Fn(&T) -> Option<R>) -> Option<R> {
        self.lock().iter().rev().find_map(pick)
    }

    /// Keeps `value` unless a kept one is `same` as it (another caller may have kept it
    /// meanwhile), forgetting the oldest when full.
    pub fn remember(&self, value: T, same: impl Fn(&T) -> bool) {
        let mut values = self.lock();
        if values.iter().any(same) {
            return;
        }
        if values.len() >= self.capacity {
            values.pop_front();
        }
        values.push_back(value);
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    #[test]
    fn a_value_is_computed_once_per_key() {
        let memo: Memo<&str, usize> = Memo::new(8);
        let computed = AtomicUsize::new(0);
        let compute = || computed.fetch_add(1, Ordering::SeqCst) + 10;
        assert_eq!(memo.get_or_compute("a", compute), 10);
        assert_eq!(memo.get_or_compute("a", compute), 10);
        assert_eq!(memo.get_or_compute("b", compute), 11);
        assert_eq!(computed.load(Ordering::SeqCst), 2);
        assert_eq!(memo.len(), 2);
    }

    #[test]
    fn only_the_first_reserver_is_told_to_compute_and_askers_get_its_value() {
        let memo: Memo<&str, usize> = Memo::new(8);
        assert!(memo.reserve("a"));
        assert!(!memo.reserve("a"));
        // Reserved, not computed: the first asker computes it, later ones share it.
        assert_eq!(memo.get_or_compute("a", || 7), 7);
        assert_eq!(memo.get_or_compute("a", || 8), 7);
        assert!(!memo.reserve("a"));
        // A reserving thread and an asking one: the value is computed once.
        let computed = AtomicUsize::new(0);
        std::thread::scope(|scope| {
            assert!(memo.reserve("b"));
            let worker = scope.spawn(|| {
                memo.get_or_compute("b", || computed.fetch_add(1, Ordering::SeqCst) + 20)
            });
            let asked = memo.get_or_compute("b", || computed.fetch_add(1, Ordering::SeqCst) + 20);
            assert_eq!(worker.join().unwrap(), asked);
        });
        assert_eq!(computed.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn the_memo_stays_bounded() {
        const KEPT: usize = 4096;
        let memo: Memo<String, usize> = Memo::new(KEPT);
        for index in 0..KEPT + 10 {
            memo.get_or_compute(format!("gw-{index}"), || index);
        }
        assert_eq!(memo.len(), KEPT);
        assert!(!memo.contains(&"gw-0".to_owned()));
        assert!(memo.contains(&format!("gw-{}", KEPT + 9)));
    }

    #[test]
    fn recent_values_are_found_and_stay_bounded() {
        let recent: Recent<(u32, &str)> = Recent::new(2);
        assert!(recent.is_empty());
        recent.remember((1, "one"), |kept| kept.0 == 1);
        recent.remember((1, "one again"), |kept| kept.0 == 1);
        assert_eq!(recent.len(), 1);
        let named =
            |number: u32| move |kept: &(u32, &'static str)| (kept.0 == number).then_some(kept.1);
        assert_eq!(recent.find(named(1)), Some("one"));
        recent.remember((2, "two"), |kept| kept.0 == 2);
        recent.remember((3, "three"), |kept| kept.0 == 3);
        assert_eq!(recent.len(), 2);
        assert_eq!(recent.find(named(1)), None);
        assert_eq!(recent.find(named(3)), Some("three"));
    }
}
