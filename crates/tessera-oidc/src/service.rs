//! The authorization server as one service handle: everything the protocol endpoints
//! need, built once at start and shared by every request.

use crate::jwt::Jwt;
use crate::sso::SsoSessions;
use tessera_crypto::{Cipher, MacKey};
use tessera_session::AnySessionStore;
use tessera_store::Db;

/// Token lifetimes and other protocol settings.
#[derive(Debug, Clone, Copy)]
pub struct Lifetimes {
    /// Authorization codes (RFC 9700: short; single use).
    pub code_secs: i64,
    /// Access tokens (RFC 9068 JWTs).
    pub access_token_secs: i64,
    /// ID tokens.
    pub id_token_secs: i64,
    /// Refresh tokens without `offline_access`: they end with the working day.
    pub refresh_token_secs: i64,
    /// Refresh tokens with `offline_access`.
    pub offline_refresh_token_secs: i64,
    /// A pending authorization request waiting for the citizen to sign in or consent.
    pub pending_secs: u64,
}

impl Default for Lifetimes {
    fn default() -> Self {
        Lifetimes {
            code_secs: 60,
            access_token_secs: 300,
            id_token_secs: 600,
            refresh_token_secs: 12 * 3600,
            offline_refresh_token_secs: 30 * 24 * 3600,
            pending_secs: 15 * 60,
        }
    }
}

/// The authorization server.
#[derive(Clone)]
pub struct Oidc {
    pub(crate) db: Db,
    pub(crate) store: AnySessionStore,
    pub(crate) sso: SsoSessions,
    pub(crate) jwt: Jwt,
    pub(crate) issuer: String,
    pub(crate) pairwise: MacKey,
    pub(crate) personal_data: Cipher,
    pub(crate) lifetimes: Lifetimes,
}

/// What [`Oidc::new`] needs.
pub struct OidcParts {
    pub db: Db,
    pub store: AnySessionStore,
    pub sso: SsoSessions,
    pub jwt: Jwt,
    /// The issuer URL without a trailing slash.
    pub issuer: String,
    /// The key pairwise subject identifiers are derived with.
    pub pairwise: MacKey,
    /// The cipher personal data (HKID) is sealed with.
    pub personal_data: Cipher,
    pub lifetimes: Lifetimes,
}

impl Oidc {
    pub fn new(parts: OidcParts) -> Oidc {
        Oidc {
            db: parts.db,
            store: parts.store,
            sso: parts.sso,
            jwt: parts.jwt,
            issuer: parts.issuer,
            pairwise: parts.pairwise,
            personal_data: parts.personal_data,
            lifetimes: parts.lifetimes,
        }
    }

    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    pub fn sso(&self) -> &SsoSessions {
        &self.sso
    }

    pub fn jwt(&self) -> &Jwt {
        &self.jwt
    }

    pub fn db(&self) -> &Db {
        &self.db
    }
}

/// Failures that are not the client's fault: the web layer answers `server_error` or
/// an error page, and logs the cause once.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error(transparent)]
    Store(#[from] tessera_store::StoreError),
    #[error(transparent)]
    Session(#[from] tessera_session::SessionError),
    #[error(transparent)]
    Sso(#[from] crate::sso::SsoError),
    #[error(transparent)]
    Jwt(#[from] crate::jwt::JwtError),
    #[error(transparent)]
    Crypto(#[from] tessera_crypto::CryptoError),
    #[error("stored protocol state does not parse: {0}")]
    Corrupt(String),
}

impl ServiceError {
    pub fn code(&self) -> &'static str {
        match self {
            ServiceError::Store(_) => "oidc.store",
            ServiceError::Session(_) => "oidc.session_store",
            ServiceError::Sso(_) => "oidc.sso",
            ServiceError::Jwt(_) => "oidc.jwt",
            ServiceError::Crypto(_) => "oidc.crypto",
            ServiceError::Corrupt(_) => "oidc.corrupt_state",
        }
    }
}

pub(crate) fn to_json<T: serde::Serialize>(value: &T) -> Result<Vec<u8>, ServiceError> {
    serde_json::to_vec(value).map_err(|e| ServiceError::Corrupt(e.to_string()))
}

pub(crate) fn from_json<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Result<T, ServiceError> {
    serde_json::from_slice(bytes).map_err(|e| ServiceError::Corrupt(e.to_string()))
}
