//! [`RedisStore`]: the session store shared by all `tessera` nodes, on Redis ≥ 6.2.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{Client, ErrorKind, RedisError, RedisResult, Script, ServerErrorKind, TlsCertificates};

use crate::{SessionError, SessionStore, ttl_millis};

/// Each connection attempt gives up after this long.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
/// Each command gives up waiting for its reply after this long.
const RESPONSE_TIMEOUT: Duration = Duration::from_secs(2);
/// One whole operation, including waiting for a reconnection in progress, gives up after
/// this long: a Redis that went away yields `Unavailable`, never a hang.
const OPERATION_TIMEOUT: Duration = Duration::from_secs(3);
/// `connect` gives up after this long.
const STARTUP_TIMEOUT: Duration = Duration::from_secs(5);
/// Connection attempts per reconnection (the next operation starts a new round).
const RECONNECT_RETRIES: usize = 2;

/// A [`SessionStore`] on Redis, shared by any number of nodes.
///
/// - Every key is stored under the configured prefix: plain keys as `<prefix>k:<key>`,
///   indexes as `<prefix>i:<index>`, so several deployments or tests can share one Redis.
/// - `take` is `GETDEL` and `put_if_absent` is `SET NX PX`: atomic on the server, hence
///   single-use across all nodes.
/// - An index is a sorted set scored by each member's expiry in milliseconds of the Redis
///   server's clock (`TIME` inside Lua scripts, so all nodes agree); expired members are
///   pruned on add, list and remove, and the set itself expires with its longest-lived
///   member. `index_*` operations and `incr` are Lua scripts, hence atomic.
/// - The connection is a [`ConnectionManager`]: one multiplexed connection, re-established
///   in the background after it drops. Connection attempts and replies time out after
///   2 s and every operation after 3 s, with [`SessionError::Unavailable`].
///
/// Cloning is cheap and clones share the connection.
#[derive(Clone)]
pub struct RedisStore {
    conn: ConnectionManager,
    prefix: Arc<str>,
    scripts: Arc<Scripts>,
    /// The URL with any password redacted, for messages.
    server: Arc<str>,
}

impl std::fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisStore").field("server", &self.server).field("prefix", &self.prefix).finish_non_exhaustive()
    }
}

/// `now` in milliseconds of the server's clock, as an integer string (Lua numbers are
/// doubles, and their default string conversion keeps only 14 digits).
const LUA_NOW: &str = r"
local t = redis.call('TIME')
local now = string.format('%.0f', tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000))
";

/// Re-sets the index key's expiry to that of its longest-lived member.
const LUA_EXPIRE_WITH_LAST: &str = r"
local last = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
if last[2] then
  redis.call('PEXPIREAT', KEYS[1], string.format('%.0f', tonumber(last[2])))
end
";

struct Scripts {
    index_add: Script,
    index_list: Script,
    index_remove: Script,
    index_take_all: Script,
    incr: Script,
}

impl Scripts {
    fn new() -> Self {
        let prune = "redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)\n";
        Self {
            // KEYS[1] = index, ARGV[1] = member, ARGV[2] = ttl in ms
            index_add: Script::new(&format!(
                "{LUA_NOW}{prune}\
                 redis.call('ZADD', KEYS[1], string.format('%.0f', tonumber(now) + tonumber(ARGV[2])), ARGV[1])\n\
                 {LUA_EXPIRE_WITH_LAST}return 1\n"
            )),
            // KEYS[1] = index
            index_list: Script::new(&format!("{LUA_NOW}{prune}return redis.call('ZRANGE', KEYS[1], 0, -1)\n")),
            // KEYS[1] = index, ARGV[1] = member
            index_remove: Script::new(&format!(
                "{LUA_NOW}{prune}\
                 local removed = redis.call('ZREM', KEYS[1], ARGV[1])\n\
                 if removed == 1 then\n{LUA_EXPIRE_WITH_LAST}end\n\
                 return removed\n"
            )),
            // KEYS[1] = index
            index_take_all: Script::new(&format!(
                "{LUA_NOW}\
                 local live = redis.call('ZRANGEBYSCORE', KEYS[1], '(' .. now, '+inf')\n\
                 redis.call('DEL', KEYS[1])\n\
                 return live\n"
            )),
            // KEYS[1] = counter, ARGV[1] = ttl in ms. Returns -1 if the key holds no counter.
            // The expiry is set only on a key without one, i.e. the new counter: a fixed window.
            incr: Script::new(
                r"
local v = redis.call('GET', KEYS[1])
if v and not string.match(v, '^%d+$') then return -1 end
local n = redis.pcall('INCR', KEYS[1])
if type(n) == 'table' and n.err then return -1 end
if redis.call('PTTL', KEYS[1]) == -1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return n
",
            ),
        }
    }
}

/// How to check the certificate of a Redis reached over TLS (`rediss://`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RedisTls {
    /// PEM certificates of the certificate authorities to trust instead of the system's
    /// (for a Redis whose certificate a private CA issued). `None`: the system's roots.
    pub ca_pem: Option<Vec<u8>>,
}

impl RedisStore {
    /// Connects to the Redis at `url` (`redis://[user][:password@]host[:port][/db]`,
    /// `rediss://...` for TLS, or `redis+unix:///path/to/socket[?db=N&pass=..]`) and checks
    /// that it answers and supports `GETDEL` (Redis ≥ 6.2). All keys will be stored under
    /// `prefix` (e.g. `"tessera:"`). Over TLS the server's certificate is checked against the
    /// system's certificate authorities (see [`connect_with`](Self::connect_with)).
    ///
    /// Fails within a few seconds, never hangs: with [`SessionError::Unavailable`] when
    /// Redis cannot be reached (the message names the URL, password redacted, and why,
    /// such as a certificate that does not verify), or [`SessionError::InvalidConfig`] for an
    /// unusable URL, a refused password, or a Redis without `GETDEL`.
    pub async fn connect(url: &str, prefix: &str) -> Result<Self, SessionError> {
        Self::connect_with(url, prefix, &RedisTls::default()).await
    }

    /// [`connect`](Self::connect), trusting the certificate authorities of `tls` for a
    /// `rediss://` URL. A CA for any other URL is a configuration error, and so is
    /// `#insecure` (certificate checks cannot be switched off).
    ///
    /// # Errors
    /// As [`connect`](Self::connect).
    pub async fn connect_with(url: &str, prefix: &str, tls: &RedisTls) -> Result<Self, SessionError> {
        let server = redact_url(url);
        let scheme = url.split_once("://").map(|(s, _)| s.to_ascii_lowercase());
        let over_tls = match scheme.as_deref() {
            Some("redis" | "redis+unix" | "unix") => false,
            Some("rediss") => true,
            _ => {
                return Err(SessionError::InvalidConfig(format!(
                    "{server} is not a Redis URL: expected redis://host[:port][/db], rediss://host[:port][/db] \
                     or redis+unix:///path"
                )));
            }
        };
        if url.contains('#') {
            return Err(SessionError::InvalidConfig(format!(
                "the Redis URL {server} has a #fragment: certificate checks cannot be switched off (#insecure); \
                 give the Redis's certificate authority as session.tls_ca_file instead"
            )));
        }
        let invalid =
            |e: RedisError| SessionError::InvalidConfig(format!("invalid Redis URL {server}: {}", describe(&e)));
        let client = match (&tls.ca_pem, over_tls) {
            (None, _) => Client::open(url).map_err(invalid)?,
            (Some(ca), true) => {
                use rustls::pki_types::CertificateDer;
                use rustls::pki_types::pem::PemObject as _;
                let certificates: Result<Vec<_>, _> = CertificateDer::pem_slice_iter(ca).collect();
                if !certificates.is_ok_and(|c| !c.is_empty()) {
                    return Err(SessionError::InvalidConfig(format!(
                        "the certificate authority given for the Redis at {server} holds no PEM certificate"
                    )));
                }
                Client::build_with_tls(url, TlsCertificates { client_tls: None, root_cert: Some(ca.clone()) }).map_err(
                    |e| {
                        SessionError::InvalidConfig(format!(
                            "cannot use the certificate authority for the Redis at {server}: {}",
                            describe(&e)
                        ))
                    },
                )?
            }
            (Some(_), false) => {
                return Err(SessionError::InvalidConfig(format!(
                    "a certificate authority is set for the Redis at {server}, but its URL is not rediss:// (TLS)"
                )));
            }
        };
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(CONNECT_TIMEOUT))
            .set_response_timeout(Some(RESPONSE_TIMEOUT))
            .set_number_of_retries(RECONNECT_RETRIES)
            .set_min_delay(Duration::from_millis(100))
            .set_max_delay(Duration::from_secs(1));
        let unreachable = |why: String| {
            tracing::error!(server = %server, error = %why, "Redis session store unreachable at start");
            SessionError::Unavailable(format!("the Redis at {server} could not be reached: {why}"))
        };
        let conn = match tokio::time::timeout(STARTUP_TIMEOUT, ConnectionManager::new_with_config(client, config)).await
        {
            Ok(Ok(conn)) => conn,
            Ok(Err(e)) if matches!(e.kind(), ErrorKind::AuthenticationFailed | ErrorKind::InvalidClientConfig) => {
                return Err(SessionError::InvalidConfig(format!(
                    "the Redis at {server} refused the connection: {}",
                    describe(&e)
                )));
            }
            Ok(Err(e)) => return Err(unreachable(describe(&e))),
            Err(_) => return Err(unreachable(format!("no answer within {STARTUP_TIMEOUT:?}"))),
        };
        let store = Self {
            conn,
            prefix: Arc::from(prefix),
            scripts: Arc::new(Scripts::new()),
            server: Arc::from(server.as_str()),
        };
        // One round trip proves the connection, the credentials and GETDEL (Redis >= 6.2).
        // The probe key is outside the key and index name spaces, and never written.
        let probe = format!("{}probe", store.prefix);
        let mut conn = store.conn.clone();
        match tokio::time::timeout(
            OPERATION_TIMEOUT,
            redis::cmd("GETDEL").arg(&probe).query_async::<Option<Vec<u8>>>(&mut conn),
        )
        .await
        {
            Ok(Ok(_)) => Ok(store),
            Ok(Err(e)) if !is_refusal(&e) && matches!(map_error(&e), SessionError::Unavailable(_)) => {
                Err(unreachable(describe(&e)))
            }
            Ok(Err(e)) => Err(SessionError::InvalidConfig(format!(
                "the Redis at {server} refused the session store's probe command (GETDEL): {}; \
                 it needs Redis 6.2 or later and credentials allowed to run GETDEL, SET, DEL, \
                 PEXPIRE, EVALSHA and SCRIPT LOAD",
                describe(&e)
            ))),
            Err(_) => Err(unreachable(format!("no answer within {OPERATION_TIMEOUT:?}"))),
        }
    }

    /// The key prefix given to [`connect`](Self::connect).
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    fn key(&self, key: &str) -> String {
        format!("{}k:{key}", self.prefix)
    }

    fn index_key(&self, index: &str) -> String {
        format!("{}i:{index}", self.prefix)
    }

    /// Runs one Redis operation with the overall timeout, mapping and logging failures.
    async fn run<T>(
        &self,
        op: &'static str,
        fut: impl Future<Output = RedisResult<T>> + Send,
    ) -> Result<T, SessionError> {
        match tokio::time::timeout(OPERATION_TIMEOUT, fut).await {
            Ok(Ok(v)) => Ok(v),
            Ok(Err(e)) => {
                let err = map_error(&e);
                tracing::warn!(op, server = %self.server, error = %err, "Redis session store operation failed");
                Err(err)
            }
            Err(_) => {
                let err = SessionError::Unavailable(format!("no answer from Redis within {OPERATION_TIMEOUT:?}"));
                tracing::warn!(op, server = %self.server, error = %err, "Redis session store operation timed out");
                Err(err)
            }
        }
    }
}

/// Classifies a Redis error. Messages come from the client library or the server's error
/// line, which never echo keys or values.
fn map_error(e: &RedisError) -> SessionError {
    if e.code() == Some("OOM") {
        return SessionError::Full;
    }
    // Credentials or permissions that stopped working (e.g. a password rotated on the
    // server) make the store unavailable, like a network failure.
    let refused = e.code().is_some_and(|c| matches!(c, "NOAUTH" | "WRONGPASS" | "NOPERM"));
    let unavailable = refused
        || e.is_io_error()
        || e.is_timeout()
        || e.is_connection_dropped()
        || e.is_connection_refusal()
        || matches!(
            e.kind(),
            ErrorKind::AuthenticationFailed
                | ErrorKind::ClusterConnectionNotFound
                | ErrorKind::Server(
                    ServerErrorKind::BusyLoading
                        | ServerErrorKind::TryAgain
                        | ServerErrorKind::MasterDown
                        | ServerErrorKind::ClusterDown
                        | ServerErrorKind::ReadOnly
                )
        );
    if unavailable { SessionError::Unavailable(describe(e)) } else { SessionError::Backend(describe(e)) }
}

/// The server answered but refused us (credentials or permissions), as opposed to not
/// answering at all.
fn is_refusal(e: &RedisError) -> bool {
    e.kind() == ErrorKind::AuthenticationFailed
        || e.code().is_some_and(|c| matches!(c, "ERR" | "NOAUTH" | "WRONGPASS" | "NOPERM"))
}

fn describe(e: &RedisError) -> String {
    e.to_string()
}

/// The URL with its password (userinfo or `pass`/`password` query parameter) replaced by
/// `***`, fit for messages and logs.
pub(crate) fn redact_url(raw: &str) -> String {
    const HIDDEN: &str = "<URL not shown: it may hold a password>";
    let Ok(mut url) = url::Url::parse(raw) else {
        return if raw.contains('@') || raw.contains('?') { HIDDEN.to_owned() } else { raw.to_owned() };
    };
    if url.password().is_some() && url.set_password(Some("***")).is_err() {
        return HIDDEN.to_owned();
    }
    if url.query().is_some() {
        let pairs: Vec<(String, String)> = url
            .query_pairs()
            .map(|(k, v)| {
                let secret = k.eq_ignore_ascii_case("pass") || k.eq_ignore_ascii_case("password");
                (k.into_owned(), if secret { "***".to_owned() } else { v.into_owned() })
            })
            .collect();
        url.query_pairs_mut().clear().extend_pairs(pairs);
    }
    url.to_string()
}

impl SessionStore for RedisStore {
    async fn put(&self, key: &str, value: &[u8], ttl: Duration) -> Result<(), SessionError> {
        let ms = ttl_millis(ttl)?;
        let mut conn = self.conn.clone();
        let mut cmd = redis::cmd("SET");
        cmd.arg(self.key(key)).arg(value).arg("PX").arg(ms);
        self.run("put", async move { cmd.query_async::<()>(&mut conn).await }).await
    }

    async fn put_if_absent(&self, key: &str, value: &[u8], ttl: Duration) -> Result<bool, SessionError> {
        let ms = ttl_millis(ttl)?;
        let mut conn = self.conn.clone();
        let mut cmd = redis::cmd("SET");
        cmd.arg(self.key(key)).arg(value).arg("NX").arg("PX").arg(ms);
        let reply = self.run("put_if_absent", async move { cmd.query_async::<redis::Value>(&mut conn).await }).await?;
        Ok(!matches!(reply, redis::Value::Nil))
    }

    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, SessionError> {
        let mut conn = self.conn.clone();
        let mut cmd = redis::cmd("GET");
        cmd.arg(self.key(key));
        self.run("get", async move { cmd.query_async(&mut conn).await }).await
    }

    async fn take(&self, key: &str) -> Result<Option<Vec<u8>>, SessionError> {
        let mut conn = self.conn.clone();
        let mut cmd = redis::cmd("GETDEL");
        cmd.arg(self.key(key));
        self.run("take", async move { cmd.query_async(&mut conn).await }).await
    }

    async fn delete(&self, key: &str) -> Result<bool, SessionError> {
        let mut conn = self.conn.clone();
        let mut cmd = redis::cmd("DEL");
        cmd.arg(self.key(key));
        let n: u64 = self.run("delete", async move { cmd.query_async(&mut conn).await }).await?;
        Ok(n > 0)
    }

    async fn touch(&self, key: &str, ttl: Duration) -> Result<bool, SessionError> {
        let ms = ttl_millis(ttl)?;
        let mut conn = self.conn.clone();
        let mut cmd = redis::cmd("PEXPIRE");
        cmd.arg(self.key(key)).arg(ms);
        let n: u64 = self.run("touch", async move { cmd.query_async(&mut conn).await }).await?;
        Ok(n > 0)
    }

    async fn index_add(&self, index: &str, member: &str, ttl: Duration) -> Result<(), SessionError> {
        let ms = ttl_millis(ttl)?;
        let mut conn = self.conn.clone();
        let mut inv = self.scripts.index_add.prepare_invoke();
        inv.key(self.index_key(index)).arg(member).arg(ms);
        self.run("index_add", async move { inv.invoke_async::<()>(&mut conn).await }).await
    }

    async fn index_list(&self, index: &str) -> Result<Vec<String>, SessionError> {
        let mut conn = self.conn.clone();
        let mut inv = self.scripts.index_list.prepare_invoke();
        inv.key(self.index_key(index));
        let mut members: Vec<String> = self.run("index_list", async move { inv.invoke_async(&mut conn).await }).await?;
        members.sort_unstable();
        Ok(members)
    }

    async fn index_remove(&self, index: &str, member: &str) -> Result<bool, SessionError> {
        let mut conn = self.conn.clone();
        let mut inv = self.scripts.index_remove.prepare_invoke();
        inv.key(self.index_key(index)).arg(member);
        let n: u64 = self.run("index_remove", async move { inv.invoke_async(&mut conn).await }).await?;
        Ok(n > 0)
    }

    async fn index_take_all(&self, index: &str) -> Result<Vec<String>, SessionError> {
        let mut conn = self.conn.clone();
        let mut inv = self.scripts.index_take_all.prepare_invoke();
        inv.key(self.index_key(index));
        let mut members: Vec<String> =
            self.run("index_take_all", async move { inv.invoke_async(&mut conn).await }).await?;
        members.sort_unstable();
        Ok(members)
    }

    async fn incr(&self, key: &str, ttl: Duration) -> Result<u64, SessionError> {
        let ms = ttl_millis(ttl)?;
        let mut conn = self.conn.clone();
        let mut inv = self.scripts.incr.prepare_invoke();
        inv.key(self.key(key)).arg(ms);
        let n: i64 = self.run("incr", async move { inv.invoke_async(&mut conn).await }).await?;
        u64::try_from(n).ok().filter(|n| *n > 0).ok_or(SessionError::NotACounter)
    }

    async fn ping(&self) -> Result<(), SessionError> {
        let mut conn = self.conn.clone();
        self.run("ping", async move { redis::cmd("PING").query_async::<()>(&mut conn).await }).await
    }
}

#[cfg(test)]
mod tests {
    use super::redact_url;

    #[test]
    fn passwords_never_show() {
        assert_eq!(redact_url("redis://127.0.0.1:6379"), "redis://127.0.0.1:6379");
        assert_eq!(redact_url("redis://:s3cret@host:6379/2"), "redis://:***@host:6379/2");
        assert_eq!(redact_url("redis://user:s3cret@host"), "redis://user:***@host");
        let unix = redact_url("redis+unix:///run/redis.sock?db=1&pass=s3cret");
        assert!(!unix.contains("s3cret"), "{unix}");
        assert!(unix.contains("db=1"), "{unix}");
        assert!(!redact_url("not a url:s3cret@x").contains("s3cret"));
        assert_eq!(redact_url("memry"), "memry");
    }
}
