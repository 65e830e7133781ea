//! A bounded cache with a time to live per entry, where concurrent lookups of a missing key
//! share one fetch: a burst of admissions for the same image makes one registry lookup.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::OnceCell;

struct Entry<V> {
    value: V,
    expires: Instant,
    /// Insertion order, to evict the oldest first.
    order: u64,
}

struct State<V> {
    entries: HashMap<String, Entry<V>>,
    inflight: HashMap<String, Arc<OnceCell<V>>>,
    next: u64,
}

/// How a value was had.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Cached,
    /// Another lookup of the same key was already fetching it; its result was shared.
    Shared,
    Fetched,
}

impl Source {
    /// As metrics label it.
    pub fn name(self) -> &'static str {
        match self {
            Source::Cached => "cached",
            Source::Shared => "shared",
            Source::Fetched => "fetched",
        }
    }
}

pub struct Cache<V> {
    state: Mutex<State<V>>,
    capacity: usize,
}

impl<V> std::fmt::Debug for Cache<V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cache")
            .field("entries", &crate::lock(&self.state).entries.len())
            .field("capacity", &self.capacity)
            .finish()
    }
}

impl<V: Clone> Cache<V> {
    pub fn new(capacity: usize) -> Cache<V> {
        Cache {
            state: Mutex::new(State { entries: HashMap::new(), inflight: HashMap::new(), next: 0 }),
            capacity: capacity.max(1),
        }
    }

    pub fn len(&self) -> usize {
        crate::lock(&self.state).entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The cached value of `key` while it lives, else the result of `fetch` (shared with every
    /// concurrent lookup of the key), kept for `ttl(&value)` (not at all when zero).
    pub async fn get_or_fetch<F, Fut>(&self, key: &str, ttl: impl Fn(&V) -> Duration, fetch: F) -> (V, Source)
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = V>,
    {
        let cell = {
            let mut state = crate::lock(&self.state);
            if let Some(entry) = state.entries.get(key) {
                if entry.expires > Instant::now() {
                    return (entry.value.clone(), Source::Cached);
                }
                state.entries.remove(key);
            }
            Arc::clone(state.inflight.entry(key.to_string()).or_default())
        };
        let mut fetched = false;
        let value = cell
            .get_or_init(|| {
                fetched = true;
                fetch()
            })
            .await
            .clone();
        if !fetched {
            return (value, Source::Shared);
        }
        let mut state = crate::lock(&self.state);
        if state.inflight.get(key).is_some_and(|c| Arc::ptr_eq(c, &cell)) {
            state.inflight.remove(key);
        }
        let ttl = ttl(&value);
        if !ttl.is_zero() {
            let order = state.next;
            state.next += 1;
            state.entries.insert(key.to_string(), Entry { value: value.clone(), expires: Instant::now() + ttl, order });
            if state.entries.len() > self.capacity {
                let now = Instant::now();
                state.entries.retain(|_, e| e.expires > now);
                while state.entries.len() > self.capacity {
                    let oldest = state.entries.iter().min_by_key(|(_, e)| e.order).map(|(k, _)| k.clone());
                    match oldest {
                        Some(k) => state.entries.remove(&k),
                        None => break,
                    };
                }
            }
        }
        (value, Source::Fetched)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_lookups_share_one_fetch_and_entries_expire_and_are_bounded() {
        let cache = Arc::new(Cache::<u32>::new(2));
        let fetches = Arc::new(AtomicUsize::new(0));
        let mut lookups = Vec::new();
        for _ in 0..20 {
            let (cache, fetches) = (Arc::clone(&cache), Arc::clone(&fetches));
            lookups.push(tokio::spawn(async move {
                cache
                    .get_or_fetch(
                        "a",
                        |_| Duration::from_millis(200),
                        || async move {
                            fetches.fetch_add(1, Ordering::SeqCst);
                            tokio::time::sleep(Duration::from_millis(50)).await;
                            7
                        },
                    )
                    .await
            }));
        }
        let mut sources = Vec::new();
        for l in lookups {
            let (value, source) = l.await.expect("lookup");
            assert_eq!(value, 7);
            sources.push(source);
        }
        assert_eq!(fetches.load(Ordering::SeqCst), 1, "one fetch for 20 concurrent lookups");
        assert_eq!(sources.iter().filter(|s| **s == Source::Fetched).count(), 1);
        let fetch = |v: u32| move || async move { v };
        assert_eq!(cache.get_or_fetch("a", |_| Duration::ZERO, fetch(8)).await, (7, Source::Cached));
        tokio::time::sleep(Duration::from_millis(250)).await;
        assert_eq!(cache.get_or_fetch("a", |_| Duration::from_secs(9), fetch(8)).await, (8, Source::Fetched));
        // A zero time to live keeps nothing.
        assert_eq!(cache.get_or_fetch("z", |_| Duration::ZERO, fetch(1)).await.1, Source::Fetched);
        assert_eq!(cache.get_or_fetch("z", |_| Duration::ZERO, fetch(1)).await.1, Source::Fetched);
        // Past the capacity the oldest entry goes.
        cache.get_or_fetch("b", |_| Duration::from_secs(9), fetch(2)).await;
        cache.get_or_fetch("c", |_| Duration::from_secs(9), fetch(3)).await;
        assert_eq!(cache.len(), 2);
        assert_eq!(cache.get_or_fetch("a", |_| Duration::from_secs(9), fetch(9)).await, (9, Source::Fetched));
    }
}
