//! [`AnySessionStore`]: the store chosen at runtime from configuration.

use std::time::Duration;

use crate::redis::RedisTls;
use crate::redis::redact_url;
use crate::{MemoryStore, RedisStore, SessionError, SessionStore};

/// One of the session store implementations, chosen at start-up, without `dyn`.
#[derive(Clone, Debug)]
pub enum AnySessionStore {
    /// In-process: for a single node.
    Memory(MemoryStore),
    /// Redis: shared by all nodes.
    Redis(RedisStore),
}

impl AnySessionStore {
    /// Builds the store named by `spec`:
    /// - `"memory"`: a [`MemoryStore`] with the default bound (`prefix` is not used);
    /// - `"redis://..."`, `"rediss://..."` (TLS, checked against the system's certificate
    ///   authorities) or `"redis+unix://..."`: a [`RedisStore::connect`]ed with `prefix`;
    /// - anything else: an error naming the accepted values.
    pub async fn from_config(spec: &str, prefix: &str) -> Result<Self, SessionError> {
        Self::from_config_with(spec, prefix, &RedisTls::default()).await
    }

    /// [`from_config`](Self::from_config), with `tls` for a `rediss://` store.
    ///
    /// # Errors
    /// As [`from_config`](Self::from_config) and [`RedisStore::connect_with`].
    pub async fn from_config_with(spec: &str, prefix: &str, tls: &RedisTls) -> Result<Self, SessionError> {
        let spec = spec.trim();
        if spec.eq_ignore_ascii_case("memory") {
            return Ok(Self::Memory(MemoryStore::new()));
        }
        let scheme = spec.split_once("://").map(|(s, _)| s.to_ascii_lowercase());
        match scheme.as_deref() {
            Some("redis" | "rediss" | "redis+unix" | "unix") => {
                Ok(Self::Redis(RedisStore::connect_with(spec, prefix, tls).await?))
            }
            _ => Err(SessionError::InvalidConfig(format!(
                "unknown session store {:?}: expected \"memory\" or a Redis URL \
                 (redis://host[:port][/db], rediss://host[:port][/db] or redis+unix:///path/to/socket)",
                redact_url(spec)
            ))),
        }
    }

    /// `"memory"` or `"redis"`, for logs and metrics.
    pub fn backend_name(&self) -> &'static str {
        match self {
            Self::Memory(_) => "memory",
            Self::Redis(_) => "redis",
        }
    }
}

impl From<MemoryStore> for AnySessionStore {
    fn from(store: MemoryStore) -> Self {
        Self::Memory(store)
    }
}

impl From<RedisStore> for AnySessionStore {
    fn from(store: RedisStore) -> Self {
        Self::Redis(store)
    }
}

/// Forwards one call to whichever store is inside.
macro_rules! delegate {
    ($self:ident, $store:ident => $call:expr) => {
        match $self {
            AnySessionStore::Memory($store) => $call.await,
            AnySessionStore::Redis($store) => $call.await,
        }
    };
}

impl SessionStore for AnySessionStore {
    async fn put(&self, key: &str, value: &[u8], ttl: Duration) -> Result<(), SessionError> {
        delegate!(self, s => s.put(key, value, ttl))
    }

    async fn put_if_absent(&self, key: &str, value: &[u8], ttl: Duration) -> Result<bool, SessionError> {
        delegate!(self, s => s.put_if_absent(key, value, ttl))
    }

    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, SessionError> {
        delegate!(self, s => s.get(key))
    }

    async fn take(&self, key: &str) -> Result<Option<Vec<u8>>, SessionError> {
        delegate!(self, s => s.take(key))
    }

    async fn delete(&self, key: &str) -> Result<bool, SessionError> {
        delegate!(self, s => s.delete(key))
    }

    async fn touch(&self, key: &str, ttl: Duration) -> Result<bool, SessionError> {
        delegate!(self, s => s.touch(key, ttl))
    }

    async fn index_add(&self, index: &str, member: &str, ttl: Duration) -> Result<(), SessionError> {
        delegate!(self, s => s.index_add(index, member, ttl))
    }

    async fn index_list(&self, index: &str) -> Result<Vec<String>, SessionError> {
        delegate!(self, s => s.index_list(index))
    }

    async fn index_remove(&self, index: &str, member: &str) -> Result<bool, SessionError> {
        delegate!(self, s => s.index_remove(index, member))
    }

    async fn index_take_all(&self, index: &str) -> Result<Vec<String>, SessionError> {
        delegate!(self, s => s.index_take_all(index))
    }

    async fn incr(&self, key: &str, ttl: Duration) -> Result<u64, SessionError> {
        delegate!(self, s => s.incr(key, ttl))
    }

    async fn ping(&self) -> Result<(), SessionError> {
        delegate!(self, s => s.ping())
    }
}
