//! SSO sessions: once a citizen has signed in, the browser carries a random token in
//! a cookie and every later authorization passes through without signing in again,
//! until the session ends (sign-out, idle timeout, absolute timeout).
//!
//! The session lives in the shared session store under the SHA-256 of the cookie token
//! (a store dump reveals no usable cookie). A per-citizen index allows "sign out
//! everywhere". The public session id (`sid` in ID tokens) is a separate random value,
//! so an ID token never carries the cookie secret.

use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::time::Duration;
use tessera_crypto::{CryptoError, random_token, token_digest};
use tessera_domain::{CitizenId, UnixTime};
use tessera_session::{AnySessionStore, SessionError, SessionStore};

/// A live SSO session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SsoSession {
    /// The public session id, `sid` in ID tokens (OIDC front/back-channel logout).
    pub sid: String,
    pub citizen_id: CitizenId,
    /// When the citizen last authenticated (`auth_time`).
    pub auth_time: UnixTime,
    /// Authentication methods used (RFC 8176), e.g. `["pwd"]`.
    pub amr: Vec<String>,
    /// The assurance level reached, e.g. `urn:tessera:acr:password`.
    pub acr: String,
    pub created_at: UnixTime,
    pub last_seen: UnixTime,
    /// Clients the citizen signed in to during this session.
    pub clients: BTreeSet<String>,
    /// The browser's description, for the citizen's list of sessions.
    pub user_agent: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum SsoError {
    #[error("session store: {0}")]
    Store(#[from] SessionError),
    #[error("random token: {0}")]
    Crypto(#[from] CryptoError),
    #[error("a stored session does not parse: {0}")]
    Corrupt(String),
}

/// Timeouts of SSO sessions.
#[derive(Debug, Clone, Copy)]
pub struct SsoPolicy {
    /// A session unused this long ends.
    pub idle: Duration,
    /// No session lives longer than this, however active.
    pub absolute: Duration,
    /// `last_seen` is written back at most this often (saves a store write per request).
    pub touch_every: Duration,
}

impl Default for SsoPolicy {
    fn default() -> Self {
        SsoPolicy {
            idle: Duration::from_secs(30 * 60),
            absolute: Duration::from_secs(12 * 3600),
            touch_every: Duration::from_secs(60),
        }
    }
}

/// Creates, finds and ends SSO sessions.
#[derive(Clone)]
pub struct SsoSessions {
    store: AnySessionStore,
    policy: SsoPolicy,
}

/// How the citizen authenticated, recorded in a new session.
#[derive(Debug, Clone)]
pub struct Authentication {
    pub citizen_id: CitizenId,
    pub amr: Vec<String>,
    pub acr: String,
    pub user_agent: Option<String>,
}

fn session_key(cookie_token: &str) -> String {
    format!("sso:{}", hex(&token_digest(cookie_token)))
}

fn index_key(citizen: CitizenId) -> String {
    format!("sso-citizen:{citizen}")
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

impl SsoSessions {
    pub fn new(store: AnySessionStore, policy: SsoPolicy) -> Self {
        SsoSessions { store, policy }
    }

    pub fn policy(&self) -> SsoPolicy {
        self.policy
    }

    /// Starts a new session after a successful sign-in and returns the cookie token.
    /// `replacing` is the browser's previous session token, if any: it is ended, so
    /// the session id always changes at sign-in (no session fixation).
    pub async fn start(
        &self,
        auth: Authentication,
        replacing: Option<&str>,
        now: UnixTime,
    ) -> Result<(String, SsoSession), SsoError> {
        let mut clients = BTreeSet::new();
        if let Some(old) = replacing {
            if let Some(previous) = self.find(old, now).await? {
                // Re-authentication of the same citizen keeps the list of clients signed in to.
                if previous.citizen_id == auth.citizen_id {
                    clients = previous.clients;
                }
            }
            self.end(old).await?;
        }
        let token = random_token()?;
        let session = SsoSession {
            sid: random_token()?,
            citizen_id: auth.citizen_id,
            auth_time: now,
            amr: auth.amr,
            acr: auth.acr,
            created_at: now,
            last_seen: now,
            clients,
            user_agent: auth.user_agent.map(|ua| ua.chars().take(200).collect()),
        };
        let key = session_key(&token);
        self.save(&key, &session, now).await?;
        self.store.index_add(&index_key(session.citizen_id), &key, self.policy.absolute).await?;
        Ok((token, session))
    }

    /// The live session of this cookie token, if any. Enforces the idle and absolute
    /// timeouts server-side and refreshes `last_seen`.
    pub async fn find(&self, cookie_token: &str, now: UnixTime) -> Result<Option<SsoSession>, SsoError> {
        let key = session_key(cookie_token);
        let Some(bytes) = self.store.get(&key).await? else { return Ok(None) };
        let mut session: SsoSession = serde_json::from_slice(&bytes).map_err(|e| SsoError::Corrupt(e.to_string()))?;
        if self.expired(&session, now) {
            self.store.delete(&key).await?;
            return Ok(None);
        }
        if now.secs_since(session.last_seen) >= self.policy.touch_every.as_secs() as i64 {
            session.last_seen = now;
            self.save(&key, &session, now).await?;
        }
        Ok(Some(session))
    }

    /// Records that the citizen signed in to `client_id` during this session.
    pub async fn add_client(&self, cookie_token: &str, client_id: &str, now: UnixTime) -> Result<(), SsoError> {
        let key = session_key(cookie_token);
        let Some(mut session) = self.find(cookie_token, now).await? else { return Ok(()) };
        if session.clients.insert(client_id.to_owned()) {
            self.save(&key, &session, now).await?;
        }
        Ok(())
    }

    /// Ends one session (sign-out). Returns the session that ended, if it was live.
    pub async fn end(&self, cookie_token: &str) -> Result<Option<SsoSession>, SsoError> {
        let key = session_key(cookie_token);
        let Some(bytes) = self.store.take(&key).await? else { return Ok(None) };
        let session: SsoSession = serde_json::from_slice(&bytes).map_err(|e| SsoError::Corrupt(e.to_string()))?;
        self.store.index_remove(&index_key(session.citizen_id), &key).await?;
        Ok(Some(session))
    }

    /// The citizen's live sessions (every browser they are signed in on), newest first.
    pub async fn list(&self, citizen: CitizenId, now: UnixTime) -> Result<Vec<SsoSession>, SsoError> {
        let mut sessions = Vec::new();
        for key in self.store.index_list(&index_key(citizen)).await? {
            let Some(bytes) = self.store.get(&key).await? else { continue };
            let session: SsoSession = serde_json::from_slice(&bytes).map_err(|e| SsoError::Corrupt(e.to_string()))?;
            if session.citizen_id == citizen && !self.expired(&session, now) {
                sessions.push(session);
            }
        }
        sessions.sort_by_key(|s| std::cmp::Reverse((s.last_seen, s.created_at)));
        Ok(sessions)
    }

    /// Ends the citizen's session whose public id is `sid` (signing out one browser from
    /// another). Returns it, if it was live and theirs.
    pub async fn end_sid(&self, citizen: CitizenId, sid: &str) -> Result<Option<SsoSession>, SsoError> {
        let index = index_key(citizen);
        for key in self.store.index_list(&index).await? {
            let Some(bytes) = self.store.get(&key).await? else { continue };
            let session: SsoSession = serde_json::from_slice(&bytes).map_err(|e| SsoError::Corrupt(e.to_string()))?;
            if session.citizen_id == citizen && session.sid == sid {
                self.store.index_remove(&index, &key).await?;
                return Ok(self.store.take(&key).await?.map(|_| session));
            }
        }
        Ok(None)
    }

    fn expired(&self, session: &SsoSession, now: UnixTime) -> bool {
        now.secs_since(session.created_at) >= self.policy.absolute.as_secs() as i64
            || now.secs_since(session.last_seen) >= self.policy.idle.as_secs() as i64
    }

    /// Ends every session of a citizen ("sign out everywhere", password change, disabling).
    pub async fn end_all(&self, citizen: CitizenId) -> Result<usize, SsoError> {
        let keys = self.store.index_take_all(&index_key(citizen)).await?;
        let mut ended = 0;
        for key in keys {
            if self.store.delete(&key).await? {
                ended += 1;
            }
        }
        Ok(ended)
    }

    async fn save(&self, key: &str, session: &SsoSession, now: UnixTime) -> Result<(), SsoError> {
        let bytes = serde_json::to_vec(session).map_err(|e| SsoError::Corrupt(e.to_string()))?;
        // Lives until the idle timeout, but never past the absolute one.
        let left = (self.policy.absolute.as_secs() as i64 - now.secs_since(session.created_at)).max(1) as u64;
        let ttl = self.policy.idle.min(Duration::from_secs(left));
        self.store.put(key, &bytes, ttl).await?;
        Ok(())
    }
}

#[cfg(test)]
#[path = "sso_tests.rs"]
mod tests;
