//! The one error type of the session store.
//!
//! No variant ever carries a stored value or a key: keys such as `sso:<id>` embed bearer
//! secrets, so messages hold only what went wrong and where (operation, backend, cause).

use std::time::Duration;

/// What can go wrong when talking to a session store.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SessionError {
    /// The backend could not be reached or did not answer in time. The operation may or may
    /// not have taken effect (e.g. a `take` whose reply was lost has consumed the value):
    /// callers must fail closed. The message names the cause, never a key or value.
    #[error("session store unavailable: {0}")]
    Unavailable(String),
    /// The store's memory bound is reached (for `MemoryStore`: its entry limit even after
    /// reclaiming expired entries; for Redis: the server refused the write with OOM).
    #[error("session store is full")]
    Full,
    /// A time-to-live outside `1 ms ..= MAX_TTL` was given.
    #[error("invalid session store ttl {0:?}: must be at least 1 ms and at most {max:?}", max = crate::MAX_TTL)]
    InvalidTtl(Duration),
    /// `incr` was called on a key that holds something other than a counter (a decimal
    /// integer in `0..=i64::MAX`), or the counter would overflow.
    #[error("session store key does not hold a counter")]
    NotACounter,
    /// The store specification or URL given at start-up is not usable.
    #[error("invalid session store configuration: {0}")]
    InvalidConfig(String),
    /// The backend answered with something this crate did not expect (a bug or a foreign
    /// writer in our key space), as opposed to being unreachable.
    #[error("session store backend error: {0}")]
    Backend(String),
}
