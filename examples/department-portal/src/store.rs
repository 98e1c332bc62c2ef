//! In-memory stores keyed by random cookie values: pending sign-ins (state, nonce and PKCE
//! verifier; ten minutes, single use) and the portal's own sessions.
//!
//! The methods take `now`, so expiry is tested without waiting.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use openidconnect::CsrfToken;

/// A random, URL-safe key (256 bits) naming an entry; it is the value of a cookie.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct StoreKey(String);

impl StoreKey {
    fn random() -> Self {
        Self(CsrfToken::new_random_len(32).into_secret())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The store holds as many live entries as it may.
#[derive(Debug, thiserror::Error)]
#[error("the store is full")]
pub struct StoreFull;

struct Entry<V> {
    value: V,
    expires_at: Instant,
}

/// Values that expire `ttl` after they are inserted, at most `capacity` of them alive at once.
pub struct TtlStore<V> {
    entries: Mutex<HashMap<StoreKey, Entry<V>>>,
    ttl: Duration,
    capacity: usize,
}

impl<V> TtlStore<V> {
    pub fn new(ttl: Duration, capacity: usize) -> Self {
        Self { entries: Mutex::new(HashMap::new()), ttl, capacity }
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<StoreKey, Entry<V>>> {
        // A panic while holding the lock cannot leave a HashMap half-updated in a way that matters here.
        self.entries.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Stores `value` under a new random key. Expired entries are dropped first.
    pub fn insert(&self, value: V, now: Instant) -> Result<StoreKey, StoreFull> {
        let mut entries = self.lock();
        entries.retain(|_, entry| entry.expires_at > now);
        if entries.len() >= self.capacity {
            return Err(StoreFull);
        }
        let key = StoreKey::random();
        entries.insert(key.clone(), Entry { value, expires_at: now + self.ttl });
        Ok(key)
    }

    /// Removes and returns the value under `key` if it has not expired: a second call finds nothing.
    pub fn take(&self, key: &str, now: Instant) -> Option<V> {
        let entry = self.lock().remove(&StoreKey(key.to_owned()))?;
        (entry.expires_at > now).then_some(entry.value)
    }

    /// Runs `f` on the value under `key` if it has not expired.
    pub fn with<R>(&self, key: &str, now: Instant, f: impl FnOnce(&mut V) -> R) -> Option<R> {
        let mut entries = self.lock();
        let key = StoreKey(key.to_owned());
        match entries.get_mut(&key) {
            Some(entry) if entry.expires_at > now => Some(f(&mut entry.value)),
            Some(_) => {
                entries.remove(&key);
                None
            }
            None => None,
        }
    }

    /// The number of entries held, expired ones included until the next insert.
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    #[cfg(test)]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    #![expect(clippy::unwrap_used, reason = "tests fail loudly")]

    use super::*;

    const TEN_MINUTES: Duration = Duration::from_secs(600);

    #[test]
    fn take_is_single_use() {
        let store = TtlStore::new(TEN_MINUTES, 10);
        let now = Instant::now();
        let key = store.insert("pending", now).unwrap();
        assert_eq!(store.take(key.as_str(), now), Some("pending"));
        assert_eq!(store.take(key.as_str(), now), None, "a replayed key finds nothing");
        assert!(store.is_empty());
    }

    #[test]
    fn entries_expire_after_the_ttl() {
        let store = TtlStore::new(TEN_MINUTES, 10);
        let now = Instant::now();
        let key = store.insert(1, now).unwrap();
        assert_eq!(store.with(key.as_str(), now + TEN_MINUTES - Duration::from_secs(1), |v| *v), Some(1));
        assert_eq!(store.take(key.as_str(), now + TEN_MINUTES), None);
        assert!(store.is_empty(), "an expired entry is dropped when it is looked up");

        let key = store.insert(2, now).unwrap();
        assert_eq!(store.with(key.as_str(), now + TEN_MINUTES, |v| *v), None);
        assert!(store.is_empty());
    }

    #[test]
    fn unknown_keys_find_nothing() {
        let store: TtlStore<u8> = TtlStore::new(TEN_MINUTES, 10);
        assert_eq!(store.take("nope", Instant::now()), None);
        assert_eq!(store.with("", Instant::now(), |v| *v), None);
    }

    #[test]
    fn keys_are_random_and_long() {
        let store = TtlStore::new(TEN_MINUTES, 10);
        let now = Instant::now();
        let a = store.insert((), now).unwrap();
        let b = store.insert((), now).unwrap();
        assert_ne!(a, b);
        assert_eq!(a.as_str().len(), 43, "32 random bytes, base64url without padding");
        assert!(a.as_str().bytes().all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_'));
    }

    #[test]
    fn with_updates_in_place() {
        let store = TtlStore::new(TEN_MINUTES, 10);
        let now = Instant::now();
        let key = store.insert(vec![1], now).unwrap();
        store.with(key.as_str(), now, |v| v.push(2));
        assert_eq!(store.take(key.as_str(), now), Some(vec![1, 2]));
    }

    #[test]
    fn capacity_counts_only_live_entries() {
        let store = TtlStore::new(TEN_MINUTES, 2);
        let now = Instant::now();
        store.insert(1, now).unwrap();
        store.insert(2, now).unwrap();
        assert!(store.insert(3, now).is_err());
        let later = now + TEN_MINUTES;
        store.insert(4, later).unwrap();
        assert_eq!(store.len(), 1, "expired entries were purged by the insert");
    }
}
