//! The session store: SSO sessions and short-lived protocol state (authorization requests
//! in flight, authorization codes, WebAuthn ceremony state, CSRF tokens, rate-limit
//! counters, revoked grant ids).
//!
//! One trait, [`SessionStore`], and two implementations: [`MemoryStore`] (one process) and
//! [`RedisStore`] (any number of nodes sharing one Redis). [`AnySessionStore`] picks one at
//! runtime from configuration without `dyn`.
//!
//! Values are opaque bytes (callers serialise them). Keys are caller-chosen strings such as
//! `sso:<id>` or `code:<digest>`. This crate never logs keys or values, and no error carries
//! them: keys may embed bearer secrets. Callers should still prefer keys built from digests
//! of secrets rather than the secrets themselves.
//!
//! ## Key spaces
//! Plain keys (`put`, `get`, `take`, `incr`, ...) and index names (`index_*`) are separate
//! name spaces: an index named `x` and a key named `x` never collide. Counters live in the
//! plain key space: `incr` stores the count as a decimal string, so `get` on a counter
//! returns e.g. `b"3"`, and `delete` resets it.
//!
//! ## Time-to-live
//! Every entry expires. A TTL must be between 1 ms and [`MAX_TTL`] inclusive; anything
//! outside is rejected with [`SessionError::InvalidTtl`] (a zero TTL is almost always a
//! caller bug, and "forever" has no place in a bounded store). Sub-millisecond parts are
//! rounded up to the next millisecond, Redis's resolution. An entry is live while
//! `now < stored_at + ttl`; an expired entry is absent to every operation, even before it is
//! physically removed.

mod any;
mod error;
mod memory;
mod redis;

use std::future::Future;
use std::time::Duration;

pub use crate::any::AnySessionStore;
pub use crate::error::SessionError;
pub use crate::memory::{DEFAULT_MAX_ENTRIES, MemoryStore};
pub use crate::redis::{RedisStore, RedisTls};

/// The longest time-to-live accepted by any store operation: 366 days.
pub const MAX_TTL: Duration = Duration::from_secs(366 * 24 * 60 * 60);

/// A key-value store with expiry, atomic single-use reads, per-user indexes and counters.
///
/// Every implementation gives the same guarantees (the contract tests in
/// `tests/contract.rs` run against each one):
/// - every write takes a TTL (see the crate docs for its bounds), and expired data is
///   invisible to every operation;
/// - each operation is atomic on its own: in particular, of any number of concurrent
///   [`take`](SessionStore::take)s of one key, in one process or across many nodes sharing
///   one backend, exactly one returns the value;
/// - an [`Unavailable`](SessionError::Unavailable) error comes back within a few seconds
///   when the backend is down, never a hang; the operation may or may not have taken
///   effect, so callers must fail closed.
pub trait SessionStore: Send + Sync + 'static {
    /// Stores `value` under `key` for `ttl`, replacing any previous value and expiry.
    fn put(&self, key: &str, value: &[u8], ttl: Duration) -> impl Future<Output = Result<(), SessionError>> + Send;

    /// Stores `value` under `key` for `ttl` only if `key` holds no live value (SET NX).
    /// Returns `true` if it was stored, `false` if a live value was already there (which is
    /// left untouched).
    fn put_if_absent(
        &self,
        key: &str,
        value: &[u8],
        ttl: Duration,
    ) -> impl Future<Output = Result<bool, SessionError>> + Send;

    /// The live value under `key`, if any.
    fn get(&self, key: &str) -> impl Future<Output = Result<Option<Vec<u8>>, SessionError>> + Send;

    /// Atomically reads and deletes the live value under `key` (GETDEL). Of any number of
    /// concurrent takes of one key, exactly one gets the value; the others get `None`. This
    /// is what makes authorization codes and ceremony state single-use.
    fn take(&self, key: &str) -> impl Future<Output = Result<Option<Vec<u8>>, SessionError>> + Send;

    /// Deletes `key`. Returns `true` if a live value was deleted.
    fn delete(&self, key: &str) -> impl Future<Output = Result<bool, SessionError>> + Send;

    /// Sets the expiry of a live `key` to `now + ttl` (it may shorten it). Returns `false`
    /// if the key is absent or expired, in which case nothing is stored.
    fn touch(&self, key: &str, ttl: Duration) -> impl Future<Output = Result<bool, SessionError>> + Send;

    /// Adds `member` to the set `index` (e.g. a user's session ids), expiring at
    /// `now + ttl`. Re-adding a member sets its expiry to `now + ttl`. Members expire one by
    /// one; the index disappears when its last member does.
    fn index_add(
        &self,
        index: &str,
        member: &str,
        ttl: Duration,
    ) -> impl Future<Output = Result<(), SessionError>> + Send;

    /// The live members of `index`, sorted (byte-wise ascending). Empty if there is none.
    fn index_list(&self, index: &str) -> impl Future<Output = Result<Vec<String>, SessionError>> + Send;

    /// Removes `member` from `index`. Returns `true` if it was a live member.
    fn index_remove(&self, index: &str, member: &str) -> impl Future<Output = Result<bool, SessionError>> + Send;

    /// Atomically deletes the whole `index` and returns its live members, sorted. Of
    /// concurrent calls, each member is returned by exactly one ("sign out everywhere").
    fn index_take_all(&self, index: &str) -> impl Future<Output = Result<Vec<String>, SessionError>> + Send;

    /// Increments the counter at `key` and returns the new value (1 for a new counter).
    /// A new counter expires `ttl` after its creation; later increments do NOT extend it
    /// (a fixed window, for rate limits and lockouts). Fails with
    /// [`NotACounter`](SessionError::NotACounter) if `key` holds a non-counter value.
    fn incr(&self, key: &str, ttl: Duration) -> impl Future<Output = Result<u64, SessionError>> + Send;

    /// Checks that the backend answers (for `/readyz`).
    fn ping(&self) -> impl Future<Output = Result<(), SessionError>> + Send;
}

/// Validates a TTL and rounds it up to whole milliseconds.
pub(crate) fn ttl_millis(ttl: Duration) -> Result<u64, SessionError> {
    if ttl.is_zero() || ttl > MAX_TTL {
        return Err(SessionError::InvalidTtl(ttl));
    }
    let whole = ttl.as_millis();
    let ms = if ttl.subsec_nanos().is_multiple_of(1_000_000) { whole } else { whole + 1 };
    // MAX_TTL is about 3.2e10 ms, far below u64::MAX.
    u64::try_from(ms).map_err(|_| SessionError::InvalidTtl(ttl))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ttl_bounds_and_rounding() {
        assert_eq!(ttl_millis(Duration::ZERO), Err(SessionError::InvalidTtl(Duration::ZERO)));
        assert_eq!(ttl_millis(Duration::from_nanos(1)), Ok(1));
        assert_eq!(ttl_millis(Duration::from_millis(1)), Ok(1));
        assert_eq!(ttl_millis(Duration::from_micros(1500)), Ok(2));
        assert_eq!(ttl_millis(Duration::from_secs(2)), Ok(2000));
        assert_eq!(ttl_millis(MAX_TTL), Ok(366 * 24 * 60 * 60 * 1000));
        let too_long = MAX_TTL + Duration::from_millis(1);
        assert_eq!(ttl_millis(too_long), Err(SessionError::InvalidTtl(too_long)));
        assert!(ttl_millis(Duration::MAX).is_err());
    }
}
