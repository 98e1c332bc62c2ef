//! Brute-force protection for sign-in, counted in the shared session store so that every
//! node sees the same counts.
//!
//! Two limits, both counting *failed* attempts only:
//! - per account: after a few failures within a window every further attempt must wait a
//!   delay that doubles with each failure (capped); after more failures the account is
//!   locked for a while;
//! - per IP address (per /64 network for IPv6): at most so many failures within a window.
//!
//! The account key is whatever names the account in the attempt (a normalised username or
//! a citizen id), whether or not such an account exists: an unknown username is counted,
//! delayed and locked exactly like a real one, so the throttle reveals nothing about which
//! accounts exist. (A lock can be provoked by anyone who knows a username; that is the price
//! of a per-account lock, and why it is temporary.)
//!
//! Store keys hold only SHA-256 digests of the account key and of the IP address, so a
//! reader of Redis learns neither. Windows, delays and locks are computed from the `now`
//! passed in, against times stored in the values; the store's own TTLs only clean up, so
//! the logic is the same on every backend and testable with explicit times.
//!
//! Every session-store error fails closed: [`SignInThrottle::check`] returns
//! [`ThrottleError::Unavailable`], which the caller must answer with 503, never by letting
//! the attempt through.

use std::fmt;
use std::fmt::Write as _;
use std::net::IpAddr;
use std::time::Duration;

use tessera_crypto::token_digest;
use tessera_domain::UnixTime;
use tessera_session::{AnySessionStore, SessionError, SessionStore};

/// The limits. [`ThrottlePolicy::default`] gives the documented defaults.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ThrottlePolicy {
    /// Failures of one account are counted within this window, which starts at the first
    /// failure. Default 15 minutes.
    pub account_window: Duration,
    /// Failures allowed within the window before delays begin. Default 3.
    pub free_failures: u32,
    /// The delay after the first failure beyond `free_failures`; it doubles with each
    /// further failure. Default 1 s (so 1 s, 2 s, 4 s, 8 s, ...).
    pub first_delay: Duration,
    /// The longest delay. Default 30 s.
    pub max_delay: Duration,
    /// Failures within the window that lock the account. Default 10.
    pub lock_after: u32,
    /// How long a lock lasts. Default 15 minutes.
    pub lock_duration: Duration,
    /// Failures from one IP address are counted within this window, which starts at the
    /// first failure. Default 5 minutes.
    pub ip_window: Duration,
    /// Failures from one IP address allowed within its window. Default 30.
    pub ip_max_failures: u32,
}

impl Default for ThrottlePolicy {
    fn default() -> Self {
        Self {
            account_window: Duration::from_secs(15 * 60),
            free_failures: 3,
            first_delay: Duration::from_secs(1),
            max_delay: Duration::from_secs(30),
            lock_after: 10,
            lock_duration: Duration::from_secs(15 * 60),
            ip_window: Duration::from_secs(5 * 60),
            ip_max_failures: 30,
        }
    }
}

impl ThrottlePolicy {
    /// The wait required after the latest failure when the window holds `failures`.
    pub fn delay_after(&self, failures: u64) -> Duration {
        let Some(beyond) = failures.checked_sub(u64::from(self.free_failures)) else {
            return Duration::ZERO;
        };
        let factor = 1u32.checked_shl(u32::try_from(beyond).unwrap_or(u32::MAX)).unwrap_or(u32::MAX);
        self.first_delay.saturating_mul(factor).min(self.max_delay)
    }
}

/// Why an attempt must wait.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ThrottleReason {
    /// Too many failures: the account is locked.
    Locked,
    /// The progressive delay since the last failure has not passed yet.
    TooSoon,
    /// Too many failures from this IP address.
    IpLimited,
}

impl ThrottleReason {
    /// A stable code for logs and metrics: `locked`, `too_soon`, `ip_limited`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Locked => "locked",
            Self::TooSoon => "too_soon",
            Self::IpLimited => "ip_limited",
        }
    }
}

/// An attempt refused before its credentials were looked at. Answer with HTTP 429 and
/// `Retry-After` (whole seconds, rounded up), with the same message whether or not the
/// account exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("sign-in throttled ({}): retry after {} s", .reason.as_str(), .retry_after.as_secs())]
pub struct Throttled {
    /// How long to wait; at least one second.
    pub retry_after: Duration,
    pub reason: ThrottleReason,
}

/// What [`SignInThrottle::check`] can answer besides "go ahead".
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ThrottleError {
    /// Refused: answer 429.
    #[error(transparent)]
    Throttled(#[from] Throttled),
    /// The session store failed (or holds something unreadable in our keys), so the attempt
    /// cannot be counted: fail closed, answer 503.
    #[error("the sign-in throttle cannot reach its store: {0}")]
    Unavailable(#[from] SessionError),
}

/// Counts failed sign-ins per account and per IP address in a [`SessionStore`].
#[derive(Clone)]
pub struct SignInThrottle<S: SessionStore = AnySessionStore> {
    store: S,
    policy: ThrottlePolicy,
}

impl<S: SessionStore> fmt::Debug for SignInThrottle<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SignInThrottle").field("policy", &self.policy).finish_non_exhaustive()
    }
}

/// The store keys of one counted subject (an account or an IP address).
struct Keys {
    /// The window's start time (Unix seconds), set by the first failure.
    start: String,
    /// Prefix of the failure counter, completed with the window's start time so that a
    /// stale counter can never be mistaken for the current window's.
    count_prefix: String,
    /// The time of the latest failure (accounts only).
    last: String,
    /// The end of the lock (accounts only).
    lock: String,
}

impl Keys {
    fn new(kind: &str, subject: &str) -> Self {
        let digest = hex(&token_digest(&format!("{kind}:{subject}")));
        let base = format!("throttle:{kind}:{digest}");
        Self {
            start: format!("{base}:start"),
            count_prefix: format!("{base}:n:"),
            last: format!("{base}:last"),
            lock: format!("{base}:lock"),
        }
    }

    fn count(&self, start: UnixTime) -> String {
        format!("{}{}", self.count_prefix, start.as_secs())
    }
}

impl<S: SessionStore> SignInThrottle<S> {
    pub fn new(store: S, policy: ThrottlePolicy) -> Self {
        Self { store, policy }
    }

    /// The limits in force.
    pub fn policy(&self) -> &ThrottlePolicy {
        &self.policy
    }

    /// Call before verifying any credential. `Ok(())` means the attempt may proceed.
    /// When several limits apply, the one with the longest wait is reported.
    ///
    /// # Errors
    /// [`ThrottleError::Throttled`] (429) or [`ThrottleError::Unavailable`] (503).
    pub async fn check(&self, account_key: &str, ip: &str, now: UnixTime) -> Result<(), ThrottleError> {
        let account = Keys::new("acct", &normalise(account_key));
        let address = Keys::new("ip", &address_key(ip));
        let mut waits: Vec<(i64, ThrottleReason)> = Vec::with_capacity(3);

        if let Some(until) = self.read_time(&account.lock).await? {
            waits.push((until.secs_since(now), ThrottleReason::Locked));
        }
        let (failures, _) = self.failures(&account, self.policy.account_window, now).await?;
        let delay = self.policy.delay_after(failures);
        if !delay.is_zero()
            && let Some(last) = self.read_time(&account.last).await?
        {
            waits.push((last.plus_secs(secs(delay)).secs_since(now), ThrottleReason::TooSoon));
        }
        let (ip_failures, ip_start) = self.failures(&address, self.policy.ip_window, now).await?;
        if ip_failures >= u64::from(self.policy.ip_max_failures)
            && let Some(start) = ip_start
        {
            waits.push((start.plus_secs(secs(self.policy.ip_window)).secs_since(now), ThrottleReason::IpLimited));
        }

        match waits.into_iter().filter(|(wait, _)| *wait > 0).max_by_key(|(wait, _)| *wait) {
            None => Ok(()),
            Some((wait, reason)) => {
                Err(Throttled { retry_after: Duration::from_secs(wait.unsigned_abs()), reason }.into())
            }
        }
    }

    /// Call after a refused credential (wrong password, unknown account, failed passkey
    /// ceremony). Counts the failure for the account and the IP address, and locks the
    /// account when it reaches the limit. Returns whether this failure locked it (once per
    /// lock, so the caller can audit the lockout).
    ///
    /// # Errors
    /// A store error: the failure may not have been counted, so answer 503.
    pub async fn record_failure(&self, account_key: &str, ip: &str, now: UnixTime) -> Result<bool, SessionError> {
        let account = Keys::new("acct", &normalise(account_key));
        let address = Keys::new("ip", &address_key(ip));
        let failures = self.count_failure(&account, self.policy.account_window, now).await?;
        self.store.put(&account.last, now.as_secs().to_string().as_bytes(), self.policy.account_window).await?;
        let locked = failures >= u64::from(self.policy.lock_after);
        if locked {
            let until = now.plus_secs(secs(self.policy.lock_duration));
            self.store.put(&account.lock, until.as_secs().to_string().as_bytes(), self.policy.lock_duration).await?;
            tracing::info!(reason = ThrottleReason::Locked.as_str(), "sign-in throttle locked an account");
        }
        self.count_failure(&address, self.policy.ip_window, now).await?;
        Ok(locked && failures == u64::from(self.policy.lock_after))
    }

    /// Call after a successful sign-in: forgets the account's failures and delay. A running
    /// lock is left to expire (a success cannot pass [`check`](Self::check) while locked),
    /// and the IP address's count stays, so that one good account cannot be used to reset
    /// the count of an address that is guessing at others.
    ///
    /// # Errors
    /// A store error.
    pub async fn record_success(&self, account_key: &str) -> Result<(), SessionError> {
        let account = Keys::new("acct", &normalise(account_key));
        if let Some(start) = self.store.take(&account.start).await? {
            let start = parse_time(&start)?;
            self.store.delete(&account.count(start)).await?;
        }
        self.store.delete(&account.last).await?;
        Ok(())
    }

    /// The failures in the current window of `keys` and the window's start, if a window is open.
    async fn failures(
        &self,
        keys: &Keys,
        window: Duration,
        now: UnixTime,
    ) -> Result<(u64, Option<UnixTime>), SessionError> {
        let Some(start) = self.read_time(&keys.start).await? else { return Ok((0, None)) };
        if window_over(start, window, now) {
            return Ok((0, None));
        }
        let count = match self.store.get(&keys.count(start)).await? {
            None => 0,
            Some(bytes) => std::str::from_utf8(&bytes)
                .ok()
                .and_then(|s| s.parse::<u64>().ok())
                .ok_or_else(|| SessionError::Backend("a sign-in throttle counter is not a number".into()))?,
        };
        Ok((count, Some(start)))
    }

    /// Counts one failure in the window of `keys`, opening a new window if none is open,
    /// and returns the count in the window.
    async fn count_failure(&self, keys: &Keys, window: Duration, now: UnixTime) -> Result<u64, SessionError> {
        let stamp = now.as_secs().to_string();
        // The first failure opens the window; concurrent first failures agree on one start.
        let start = if self.store.put_if_absent(&keys.start, stamp.as_bytes(), window).await? {
            now
        } else {
            match self.read_time(&keys.start).await? {
                Some(start) if !window_over(start, window, now) => start,
                // Gone in between, or over by our clock though not yet expired in the store.
                _ => {
                    self.store.put(&keys.start, stamp.as_bytes(), window).await?;
                    now
                }
            }
        };
        self.store.incr(&keys.count(start), window).await
    }

    async fn read_time(&self, key: &str) -> Result<Option<UnixTime>, SessionError> {
        self.store.get(key).await?.map(|bytes| parse_time(&bytes)).transpose()
    }
}

/// The same normalisation as usernames get (trim, ASCII lower-case), applied to every key
/// so that `Chan.TaiMan` and `chan.taiman ` are one account, valid username or not.
fn normalise(account_key: &str) -> String {
    account_key.trim().to_ascii_lowercase()
}

/// The counted unit of an address: an IPv4 address (also when IPv4-mapped), or the /64
/// network of an IPv6 address, since one IPv6 host usually holds a whole /64. Text that is
/// not an IP address is counted as given (trimmed).
fn address_key(ip: &str) -> String {
    match ip.trim().parse::<IpAddr>() {
        Ok(IpAddr::V6(v6)) if v6.to_ipv4_mapped().is_none() => {
            let [a, b, c, d, ..] = v6.segments();
            format!("{a:x}:{b:x}:{c:x}:{d:x}::/64")
        }
        Ok(IpAddr::V6(v6)) => v6.to_canonical().to_string(),
        Ok(IpAddr::V4(v4)) => v4.to_string(),
        Err(_) => ip.trim().to_owned(),
    }
}

fn window_over(start: UnixTime, window: Duration, now: UnixTime) -> bool {
    now.secs_since(start) >= secs(window)
}

fn secs(d: Duration) -> i64 {
    i64::try_from(d.as_secs()).unwrap_or(i64::MAX)
}

fn parse_time(bytes: &[u8]) -> Result<UnixTime, SessionError> {
    std::str::from_utf8(bytes)
        .ok()
        .and_then(|s| s.parse::<i64>().ok())
        .map(UnixTime::from_secs)
        .ok_or_else(|| SessionError::Backend("a sign-in throttle time is not a number".into()))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().fold(String::with_capacity(bytes.len() * 2), |mut out, b| {
        let _ = write!(out, "{b:02x}");
        out
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    #[test]
    fn delays_double_from_the_fourth_failure_and_stop_at_the_cap() {
        let p = ThrottlePolicy::default();
        let delays: Vec<u64> = (0..=12).map(|n| p.delay_after(n).as_secs()).collect();
        assert_eq!(delays, [0, 0, 0, 1, 2, 4, 8, 16, 30, 30, 30, 30, 30]);
        assert_eq!(p.delay_after(u64::MAX), Duration::from_secs(30));
    }

    #[test]
    fn keys_hide_the_subject() {
        let keys = Keys::new("acct", "chan.taiman");
        for key in [&keys.start, &keys.last, &keys.lock, &keys.count(UnixTime::from_secs(5))] {
            assert!(!key.contains("chan"), "{key}");
            assert!(key.starts_with("throttle:acct:"), "{key}");
        }
        assert_eq!(keys.start.len(), "throttle:acct:".len() + 64 + ":start".len());
        assert_ne!(Keys::new("ip", "chan.taiman").start, keys.start);
    }

    #[test]
    fn addresses_are_counted_per_ipv4_address_or_ipv6_64() {
        assert_eq!(address_key(" 203.0.113.7 "), "203.0.113.7");
        assert_eq!(address_key("::ffff:203.0.113.7"), "203.0.113.7");
        assert_eq!(address_key("2001:db8:1:2:aaaa::1"), "2001:db8:1:2::/64");
        assert_eq!(address_key("2001:0DB8:1:2:bbbb:cccc:dddd:eeee"), "2001:db8:1:2::/64");
        assert_ne!(address_key("2001:db8:1:3::1"), address_key("2001:db8:1:2::1"));
        assert_eq!(address_key("unknown"), "unknown");
    }
}
