//! Values kept with the log head they were read at and trusted only while the head has not
//! moved: any commit, of this process or announced by the log's change notifications, makes
//! the next look-up read again. That is how an API process keeps nothing another process can
//! contradict (the keys it has seen, the states folded for checks). Cheap to clone.

use std::borrow::Borrow;
use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Arc, Mutex};

use roster_store::Position;

pub struct HeadCache<K, V> {
    entries: Arc<Mutex<HashMap<K, (Position, V)>>>,
    capacity: usize,
}

impl<K, V> Clone for HeadCache<K, V> {
    fn clone(&self) -> Self {
        Self {
            entries: self.entries.clone(),
            capacity: self.capacity,
        }
    }
}

impl<K: Eq + Hash, V: Clone> HeadCache<K, V> {
    /// A cache of at most `capacity` entries.
    pub fn new(capacity: usize) -> Self {
        Self {
            entries: Arc::default(),
            capacity,
        }
    }

    /// The value kept for `key`, if it was read at `head`.
    pub fn get<Q>(&self, key: &Q, head: Position) -> Option<V>
    where
        K: Borrow<Q>,
        Q: Eq + Hash + ?Sized,
    {
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries
            .get(key)
            .filter(|(at, _)| *at == head)
            .map(|(_, value)| value.clone())
    }

    /// Keeps `value`, read at `head` (read the head before the value, so that the value holds
    /// at least everything up to it). When full, entries of older heads go first.
    pub fn put(&self, key: K, head: Position, value: V) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if entries.len() >= self.capacity {
            entries.retain(|_, (at, _)| *at == head);
            if entries.len() >= self.capacity {
                entries.clear();
            }
        }
        entries.insert(key, (head, value));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_value_holds_only_at_the_head_it_was_read_at() {
        let cache = HeadCache::new(2);
        cache.put("a".to_owned(), 7, 1);
        assert_eq!(cache.get("a", 7), Some(1));
        assert_eq!(cache.get("a", 8), None, "the log moved: read again");
        assert_eq!(cache.get("b", 7), None);
    }

    #[test]
    fn a_full_cache_drops_entries_of_older_heads_first() {
        let cache = HeadCache::new(2);
        cache.put("old".to_owned(), 1, 1);
        cache.put("a".to_owned(), 2, 2);
        cache.put("b".to_owned(), 2, 3);
        assert_eq!((cache.get("a", 2), cache.get("b", 2)), (Some(2), Some(3)));
        assert_eq!(cache.get("old", 1), None);
    }
}
