//! [`MemoryStore`]: the in-process session store, for a single `tessera` process.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use tokio::time::Instant;

use crate::{SessionError, SessionStore, ttl_millis};

/// The default bound of a [`MemoryStore`]: keys + index members (counters are keys).
pub const DEFAULT_MAX_ENTRIES: usize = 100_000;

/// Expired entries are swept (when any may exist) after this many writes ...
const SWEEP_EVERY_WRITES: u32 = 1024;
/// ... or when this much time has passed since the last sweep, whichever comes first.
const SWEEP_INTERVAL: Duration = Duration::from_secs(30);

/// An in-process [`SessionStore`]: a map behind a mutex.
///
/// - Cloning is cheap and every clone shares the same data.
/// - Expiry is checked on every access, so an expired entry is absent even before it is
///   removed. Expired entries are also swept now and then on writes (no background task, so
///   no runtime is needed to construct one), and whenever the store is full.
/// - Memory is bounded: at most `max_entries` keys plus index members. A write that would
///   exceed the bound first reclaims expired entries and, if still full, fails with
///   [`SessionError::Full`]. Overwriting an existing key never needs room.
/// - Time comes from [`tokio::time::Instant`], so tests may pause and advance it.
///
/// Use it only when one process serves all requests: its state is not shared across nodes.
#[derive(Clone, Debug)]
pub struct MemoryStore {
    state: Arc<Mutex<State>>,
}

impl MemoryStore {
    /// A store bounded to [`DEFAULT_MAX_ENTRIES`] entries.
    pub fn new() -> Self {
        Self::with_max_entries(DEFAULT_MAX_ENTRIES)
    }

    /// A store bounded to `max_entries` keys plus index members.
    pub fn with_max_entries(max_entries: usize) -> Self {
        Self {
            state: Arc::new(Mutex::new(State {
                max_entries,
                entries: HashMap::new(),
                indexes: HashMap::new(),
                members: 0,
                earliest_expiry: None,
                writes_since_sweep: 0,
                last_sweep: Instant::now(),
            })),
        }
    }

    /// The bound given at construction.
    pub fn max_entries(&self) -> usize {
        self.state().max_entries
    }

    /// Entries held right now (keys plus index members), including expired ones not yet
    /// swept. For metrics and tests.
    pub fn stored_entries(&self) -> usize {
        self.state().len()
    }

    /// Removes every expired entry now and returns how many were removed.
    pub fn sweep(&self) -> usize {
        let mut state = self.state();
        let before = state.len();
        state.sweep(Instant::now());
        before - state.len()
    }

    fn state(&self) -> MutexGuard<'_, State> {
        // No code path panics while holding the lock, and every mutation leaves the maps
        // consistent, so a poisoned lock still guards valid data.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Default for MemoryStore {
    fn default() -> Self {
        Self::new()
    }
}

/// One stored value. Counters are values too (decimal strings).
struct Entry {
    value: Vec<u8>,
    expires_at: Instant,
}

struct State {
    max_entries: usize,
    entries: HashMap<String, Entry>,
    indexes: HashMap<String, HashMap<String, Instant>>,
    /// Total number of members over all indexes.
    members: usize,
    /// A lower bound of the earliest expiry of anything stored (`None`: nothing stored
    /// since the last sweep). Nothing can be reclaimed before it.
    earliest_expiry: Option<Instant>,
    writes_since_sweep: u32,
    last_sweep: Instant,
}

impl std::fmt::Debug for State {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Keys may embed secrets: show sizes only.
        f.debug_struct("State")
            .field("max_entries", &self.max_entries)
            .field("keys", &self.entries.len())
            .field("indexes", &self.indexes.len())
            .field("members", &self.members)
            .finish_non_exhaustive()
    }
}

fn expiry(now: Instant, ttl: Duration) -> Result<Instant, SessionError> {
    let ms = ttl_millis(ttl)?;
    now.checked_add(Duration::from_millis(ms)).ok_or(SessionError::InvalidTtl(ttl))
}

impl State {
    fn len(&self) -> usize {
        self.entries.len() + self.members
    }

    fn note_expiry(&mut self, at: Instant) {
        self.earliest_expiry = Some(self.earliest_expiry.map_or(at, |e| e.min(at)));
    }

    fn may_have_expired(&self, now: Instant) -> bool {
        self.earliest_expiry.is_some_and(|e| e <= now)
    }

    /// Called at the start of every write: sweeps once in a while, cheaply.
    fn on_write(&mut self, now: Instant) {
        self.writes_since_sweep = self.writes_since_sweep.saturating_add(1);
        let due = self.writes_since_sweep >= SWEEP_EVERY_WRITES
            || now.saturating_duration_since(self.last_sweep) >= SWEEP_INTERVAL;
        if due && self.may_have_expired(now) {
            self.sweep(now);
        }
    }

    fn sweep(&mut self, now: Instant) {
        let mut earliest: Option<Instant> = None;
        let mut note = |at: Instant| earliest = Some(earliest.map_or(at, |e: Instant| e.min(at)));
        self.entries.retain(|_, e| e.expires_at > now);
        for e in self.entries.values() {
            note(e.expires_at);
        }
        let mut members = 0;
        self.indexes.retain(|_, index| {
            index.retain(|_, at| *at > now);
            members += index.len();
            !index.is_empty()
        });
        for at in self.indexes.values().flat_map(|i| i.values()) {
            note(*at);
        }
        self.members = members;
        self.earliest_expiry = earliest;
        self.writes_since_sweep = 0;
        self.last_sweep = now;
    }

    /// Makes room for `extra` more entries, reclaiming expired ones if needed.
    fn reserve(&mut self, extra: usize, now: Instant) -> Result<(), SessionError> {
        if self.len() + extra <= self.max_entries {
            return Ok(());
        }
        if self.may_have_expired(now) {
            self.sweep(now);
            if self.len() + extra <= self.max_entries {
                return Ok(());
            }
        }
        tracing::warn!(max_entries = self.max_entries, "memory session store is full");
        Err(SessionError::Full)
    }

    fn live(&self, key: &str, now: Instant) -> Option<&Entry> {
        self.entries.get(key).filter(|e| e.expires_at > now)
    }

    /// Stores `value` under `key`, reserving room if `key` is new.
    fn insert(&mut self, key: &str, value: Vec<u8>, expires_at: Instant, now: Instant) -> Result<(), SessionError> {
        if let Some(entry) = self.entries.get_mut(key) {
            *entry = Entry { value, expires_at };
        } else {
            self.reserve(1, now)?;
            self.entries.insert(key.to_owned(), Entry { value, expires_at });
        }
        self.note_expiry(expires_at);
        Ok(())
    }

    fn put(&mut self, key: &str, value: &[u8], ttl: Duration, now: Instant) -> Result<(), SessionError> {
        let expires_at = expiry(now, ttl)?;
        self.on_write(now);
        self.insert(key, value.to_vec(), expires_at, now)
    }

    fn put_if_absent(&mut self, key: &str, value: &[u8], ttl: Duration, now: Instant) -> Result<bool, SessionError> {
        let expires_at = expiry(now, ttl)?;
        self.on_write(now);
        if self.live(key, now).is_some() {
            return Ok(false);
        }
        self.insert(key, value.to_vec(), expires_at, now)?;
        Ok(true)
    }

    fn get(&mut self, key: &str, now: Instant) -> Option<Vec<u8>> {
        match self.entries.get(key) {
            Some(e) if e.expires_at > now => Some(e.value.clone()),
            Some(_) => {
                self.entries.remove(key);
                None
            }
            None => None,
        }
    }

    fn take(&mut self, key: &str, now: Instant) -> Option<Vec<u8>> {
        self.entries.remove(key).filter(|e| e.expires_at > now).map(|e| e.value)
    }

    fn touch(&mut self, key: &str, ttl: Duration, now: Instant) -> Result<bool, SessionError> {
        let expires_at = expiry(now, ttl)?;
        self.on_write(now);
        match self.entries.get_mut(key) {
            Some(e) if e.expires_at > now => {
                e.expires_at = expires_at;
                self.note_expiry(expires_at);
                Ok(true)
            }
            Some(_) => {
                self.entries.remove(key);
                Ok(false)
            }
            None => Ok(false),
        }
    }

    fn index_add(&mut self, index: &str, member: &str, ttl: Duration, now: Instant) -> Result<(), SessionError> {
        let expires_at = expiry(now, ttl)?;
        self.on_write(now);
        let present = self.indexes.get(index).is_some_and(|i| i.contains_key(member));
        if !present {
            self.reserve(1, now)?;
            self.members += 1;
        }
        self.indexes.entry(index.to_owned()).or_default().insert(member.to_owned(), expires_at);
        self.note_expiry(expires_at);
        Ok(())
    }

    /// Drops the expired members of `index` (and the index if it becomes empty).
    fn prune_index(&mut self, index: &str, now: Instant) {
        let Some(members) = self.indexes.get_mut(index) else {
            return;
        };
        let before = members.len();
        members.retain(|_, at| *at > now);
        self.members -= before - members.len();
        if members.is_empty() {
            self.indexes.remove(index);
        }
    }

    fn index_list(&mut self, index: &str, now: Instant) -> Vec<String> {
        self.prune_index(index, now);
        let mut live: Vec<String> = self.indexes.get(index).map(|m| m.keys().cloned().collect()).unwrap_or_default();
        live.sort_unstable();
        live
    }

    fn index_remove(&mut self, index: &str, member: &str, now: Instant) -> bool {
        self.prune_index(index, now);
        let Some(members) = self.indexes.get_mut(index) else {
            return false;
        };
        let removed = members.remove(member).is_some();
        if removed {
            self.members -= 1;
        }
        if members.is_empty() {
            self.indexes.remove(index);
        }
        removed
    }

    fn index_take_all(&mut self, index: &str, now: Instant) -> Vec<String> {
        let Some(members) = self.indexes.remove(index) else {
            return Vec::new();
        };
        self.members -= members.len();
        let mut live: Vec<String> = members.into_iter().filter(|(_, at)| *at > now).map(|(m, _)| m).collect();
        live.sort_unstable();
        live
    }

    fn incr(&mut self, key: &str, ttl: Duration, now: Instant) -> Result<u64, SessionError> {
        let expires_at = expiry(now, ttl)?;
        self.on_write(now);
        if let Some(entry) = self.entries.get_mut(key).filter(|e| e.expires_at > now) {
            let next = parse_counter(&entry.value)
                .and_then(|n| n.checked_add(1))
                .filter(|n| i64::try_from(*n).is_ok())
                .ok_or(SessionError::NotACounter)?;
            entry.value = next.to_string().into_bytes();
            return Ok(next);
        }
        self.insert(key, b"1".to_vec(), expires_at, now)?;
        Ok(1)
    }
}

/// A counter is stored as a decimal string, as Redis's INCR does.
fn parse_counter(value: &[u8]) -> Option<u64> {
    std::str::from_utf8(value).ok()?.parse().ok()
}

impl SessionStore for MemoryStore {
    async fn put(&self, key: &str, value: &[u8], ttl: Duration) -> Result<(), SessionError> {
        self.state().put(key, value, ttl, Instant::now())
    }

    async fn put_if_absent(&self, key: &str, value: &[u8], ttl: Duration) -> Result<bool, SessionError> {
        self.state().put_if_absent(key, value, ttl, Instant::now())
    }

    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, SessionError> {
        Ok(self.state().get(key, Instant::now()))
    }

    async fn take(&self, key: &str) -> Result<Option<Vec<u8>>, SessionError> {
        Ok(self.state().take(key, Instant::now()))
    }

    async fn delete(&self, key: &str) -> Result<bool, SessionError> {
        // Deleting is `take` without the value.
        Ok(self.state().take(key, Instant::now()).is_some())
    }

    async fn touch(&self, key: &str, ttl: Duration) -> Result<bool, SessionError> {
        self.state().touch(key, ttl, Instant::now())
    }

    async fn index_add(&self, index: &str, member: &str, ttl: Duration) -> Result<(), SessionError> {
        self.state().index_add(index, member, ttl, Instant::now())
    }

    async fn index_list(&self, index: &str) -> Result<Vec<String>, SessionError> {
        Ok(self.state().index_list(index, Instant::now()))
    }

    async fn index_remove(&self, index: &str, member: &str) -> Result<bool, SessionError> {
        Ok(self.state().index_remove(index, member, Instant::now()))
    }

    async fn index_take_all(&self, index: &str) -> Result<Vec<String>, SessionError> {
        Ok(self.state().index_take_all(index, Instant::now()))
    }

    async fn incr(&self, key: &str, ttl: Duration) -> Result<u64, SessionError> {
        self.state().incr(key, ttl, Instant::now())
    }

    async fn ping(&self) -> Result<(), SessionError> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #![expect(clippy::unwrap_used, reason = "tests")]

    use super::*;

    const SEC: Duration = Duration::from_secs(1);

    fn state(max: usize, now: Instant) -> State {
        State {
            max_entries: max,
            entries: HashMap::new(),
            indexes: HashMap::new(),
            members: 0,
            earliest_expiry: None,
            writes_since_sweep: 0,
            last_sweep: now,
        }
    }

    #[test]
    fn periodic_sweep_reclaims_expired_entries_on_writes() {
        let t0 = Instant::now();
        let mut s = state(10_000, t0);
        for i in 0..100 {
            s.put(&format!("k{i}"), b"v", SEC, t0).unwrap();
            s.index_add("ix", &format!("m{i}"), SEC, t0).unwrap();
        }
        assert_eq!(s.len(), 200);
        // After the interval, the next write sweeps everything that expired.
        let later = t0 + SWEEP_INTERVAL + SEC;
        s.put("fresh", b"v", SEC, later).unwrap();
        assert_eq!(s.len(), 1);
        assert!(s.indexes.is_empty());
    }

    #[test]
    fn no_sweep_when_nothing_can_have_expired() {
        let t0 = Instant::now();
        let mut s = state(10_000, t0);
        s.put("a", b"v", Duration::from_secs(3600), t0).unwrap();
        let later = t0 + SWEEP_INTERVAL + SEC;
        s.put("b", b"v", SEC, later).unwrap();
        // The sweep was skipped, so its bookkeeping was not reset.
        assert_eq!(s.last_sweep, t0);
        assert_eq!(s.len(), 2);
    }

    #[test]
    fn full_store_reclaims_only_after_something_expired() {
        let t0 = Instant::now();
        let mut s = state(3, t0);
        s.put("a", b"v", SEC, t0).unwrap();
        s.index_add("ix", "m", SEC, t0).unwrap();
        s.incr("c", SEC, t0).unwrap();
        assert_eq!(s.put("d", b"v", SEC, t0), Err(SessionError::Full));
        assert_eq!(s.index_add("ix", "m2", SEC, t0), Err(SessionError::Full));
        // Overwrites and re-adds need no room.
        s.put("a", b"w", SEC, t0).unwrap();
        s.index_add("ix", "m", SEC, t0).unwrap();
        assert_eq!(s.incr("c", SEC, t0), Ok(2));
        let later = t0 + 2 * SEC;
        s.put("d", b"v", SEC, later).unwrap();
        assert_eq!(s.len(), 1);
    }

    #[test]
    fn counters_reject_non_numbers_and_overflow() {
        let t0 = Instant::now();
        let mut s = state(10, t0);
        s.put("k", b"abc", SEC, t0).unwrap();
        assert_eq!(s.incr("k", SEC, t0), Err(SessionError::NotACounter));
        s.put("k", i64::MAX.to_string().as_bytes(), SEC, t0).unwrap();
        assert_eq!(s.incr("k", SEC, t0), Err(SessionError::NotACounter));
        s.put("k", b"41", SEC, t0).unwrap();
        assert_eq!(s.incr("k", SEC, t0), Ok(42));
    }

    #[test]
    fn member_count_stays_consistent() {
        let t0 = Instant::now();
        let mut s = state(100, t0);
        s.index_add("ix", "a", SEC, t0).unwrap();
        s.index_add("ix", "b", 3 * SEC, t0).unwrap();
        s.index_add("iy", "a", SEC, t0).unwrap();
        assert_eq!(s.members, 3);
        let later = t0 + 2 * SEC;
        assert_eq!(s.index_list("ix", later), vec!["b".to_owned()]);
        assert_eq!(s.members, 2);
        assert!(!s.index_remove("iy", "a", later));
        assert_eq!(s.members, 1);
        assert!(!s.indexes.contains_key("iy"));
        assert_eq!(s.index_take_all("ix", later), vec!["b".to_owned()]);
        assert_eq!(s.members, 0);
        assert!(s.indexes.is_empty());
    }
}
