//! Passkeys (WebAuthn) on webauthn-rs, with the checks webauthn-rs leaves to the application
//! (CONFORMANCE.md §4).
//!
//! [`PasskeyService`] runs the two ceremonies and the citizen's own passkey management:
//! - **registration** ([`start_registration`](PasskeyService::start_registration) /
//!   [`finish_registration`](PasskeyService::finish_registration)): resident key required, user
//!   verification required, the citizen's existing credentials as `excludeCredentials`, the
//!   citizen id's UUID bytes as the WebAuthn user id, credential ids unique across all citizens
//!   and at most 1023 bytes;
//! - **sign-in** ([`start_authentication`](PasskeyService::start_authentication) /
//!   [`finish_authentication`](PasskeyService::finish_authentication)): discoverable (the
//!   usernameless button and browser autofill) or username-first, user verification required;
//!   only the credentials of the citizen that the `userHandle` (or the typed username) names are
//!   considered (ES256 assertions are verified in [`assertion`] with ring, others by
//!   webauthn-rs); the counter and backup flags are saved after each success; a counter regression
//!   is refused and audited; failures count towards the same [`SignInThrottle`] as passwords;
//! - **management** ([`list`](PasskeyService::list), [`rename`](PasskeyService::rename),
//!   [`remove`](PasskeyService::remove)), refusing to remove an account's last credential.
//!
//! ## Ceremony state
//! Each `start_*` stores the webauthn-rs state, with the time and (for registration) the citizen
//! it is for, in the session store under `webauthn:<ceremony id>` for [`CEREMONY_TTL`]. Each
//! `finish_*` takes it atomically (GETDEL), so a ceremony is single-use on every node; a state
//! older than the TTL by the caller's `now` is refused too, whatever the store says.
//!
//! ## What the browser receives and sends
//! [`Ceremony::options`] is webauthn-rs's `CreationChallengeResponse` or
//! `RequestChallengeResponse` as JSON, with every binary value (`challenge`, `user.id`,
//! `excludeCredentials[].id`, `allowCredentials[].id`) as base64url without padding:
//!
//! ```text
//! registration: {"publicKey": {"rp": {"id", "name"}, "user": {"id", "name", "displayName"},
//!                "challenge", "pubKeyCredParams": [{"type": "public-key", "alg": -7}, ...],
//!                "timeout": 300000, "excludeCredentials": [{"type": "public-key", "id"}],
//!                "authenticatorSelection": {"residentKey": "required", "requireResidentKey": true,
//!                                           "userVerification": "required"},
//!                "attestation": "none", "extensions": {...}}}
//! sign-in:      {"publicKey": {"challenge", "timeout": 300000, "rpId",
//!                "allowCredentials": [{"type": "public-key", "id", "transports": [...]}],
//!                "userVerification": "required", "extensions": {...}},
//!                "mediation": "conditional"}      <- discoverable ceremonies only
//! ```
//!
//! The script decodes those base64url values to `ArrayBuffer`s and calls
//! `navigator.credentials.create({publicKey})` or `navigator.credentials.get({publicKey,
//! mediation})`, passing `mediation: "conditional"` only for autofill (a discoverable ceremony
//! serves both the usernameless button, which omits it, and autofill). It sends back the
//! credential with every binary value as base64url without padding:
//!
//! ```text
//! registration: {"id", "rawId", "type": "public-key",
//!                "response": {"clientDataJSON", "attestationObject", "transports": [...]},
//!                "extensions": {"credProps": {"rk": true}}}   (or "clientExtensionResults")
//! sign-in:      {"id", "rawId", "type": "public-key",
//!                "response": {"clientDataJSON", "authenticatorData", "signature", "userHandle"},
//!                "extensions": {}}                             (or "clientExtensionResults")
//! ```
//!
//! (`PublicKeyCredential.toJSON()` in current browsers produces this layout; extra members
//! such as `authenticatorAttachment` are ignored.)

mod assertion;
mod authentication;
mod manage;
mod registration;

pub use authentication::{AMR_DEVICE_BOUND_PASSKEY, AMR_SYNCED_PASSKEY};

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use tessera_crypto::random_token;
use tessera_domain::{AuditEvent, CitizenId, UnixTime};
use tessera_session::{AnySessionStore, SessionError, SessionStore};
use tessera_store::{Db, StoreError, audit};
use webauthn_rs::prelude::{
    Credential, DiscoverableAuthentication, Passkey, PasskeyRegistration, Url, Webauthn, WebauthnBuilder,
};

use crate::throttle::SignInThrottle;

/// How long a ceremony may take from `start_*` to `finish_*` (WebAuthn's recommended
/// authenticator timeout, which is also the `timeout` in the options).
pub const CEREMONY_TTL: Duration = Duration::from_secs(5 * 60);

/// The longest passkey name, in characters.
pub const MAX_PASSKEY_NAME_CHARS: usize = 64;

/// Prefix of the session-store keys of ceremony state.
const CEREMONY_PREFIX: &str = "webauthn:";

/// A ceremony in progress: its id (to send back with the browser's answer) and the options
/// for `navigator.credentials.create()` / `.get()`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Ceremony {
    /// A random 43-character base64url token naming the server-side state.
    pub id: String,
    /// webauthn-rs's `CreationChallengeResponse` / `RequestChallengeResponse` as JSON.
    pub options: serde_json::Value,
}

/// Why a passkey operation failed. Each variant is something the web layer can say in both
/// languages; none carries credential bytes, challenges or personal data.
#[derive(Debug, thiserror::Error)]
pub enum PasskeyError {
    /// The ceremony is unknown, already finished, or older than [`CEREMONY_TTL`]: start again.
    #[error("the passkey ceremony has expired or was already used")]
    Expired,
    /// The browser's answer did not verify (wrong origin or RP id, user verification missing,
    /// bad signature, malformed, unknown user, a credential id over 1023 bytes, ...).
    #[error("the passkey response did not verify")]
    Invalid,
    /// This credential is already registered (to this or another account).
    #[error("this passkey is already registered")]
    DuplicateCredential,
    /// The authenticator's signature counter did not increase: the credential may be cloned.
    #[error("the passkey's signature counter went backwards")]
    CounterRegression,
    /// The credential, passkey or ceremony belongs to someone else (or does not exist).
    #[error("this passkey does not belong to this account")]
    NotYours,
    /// Removing this passkey would leave the account with no way to sign in.
    #[error("the account's last credential cannot be removed")]
    LastCredential,
    /// A passkey name must be 1 to 64 characters without control characters.
    #[error("a passkey name must be 1 to {MAX_PASSKEY_NAME_CHARS} characters without control characters")]
    InvalidName,
    /// Too many failed sign-ins: answer 429 with `Retry-After`.
    #[error("too many failed sign-ins: retry after {} s", .0.as_secs())]
    Throttled(Duration),
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The session store failed: answer 503 (fail closed).
    #[error("the session store is unavailable: {0}")]
    Session(#[from] SessionError),
    #[error("internal passkey error: {0}")]
    Internal(String),
}

/// Passkey registration, sign-in and management. Cheap to clone.
#[derive(Clone)]
pub struct PasskeyService {
    webauthn: Arc<Webauthn>,
    /// What assertions verified with ring (see [`assertion`]) are checked against.
    rp: Arc<assertion::RelyingParty>,
    db: Db,
    store: AnySessionStore,
    throttle: SignInThrottle,
    ceremony_ttl: Duration,
}

impl fmt::Debug for PasskeyService {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PasskeyService")
            .field("origins", &self.webauthn.get_allowed_origins())
            .field("ceremony_ttl", &self.ceremony_ttl)
            .finish_non_exhaustive()
    }
}

impl PasskeyService {
    /// `rp_id` is the issuer's host (`localhost`, `login.gov.hk`), `origin` the issuer's origin
    /// (`http://localhost:8080`, `https://login.gov.hk`); `rp_id` must be `origin`'s host or a
    /// parent domain of it, and cannot be an IP address. `rp_name` may be shown by the browser.
    ///
    /// # Errors
    /// [`PasskeyError::Internal`] when webauthn-rs refuses the configuration.
    pub fn new(
        db: Db,
        store: AnySessionStore,
        throttle: SignInThrottle,
        rp_id: &str,
        origin: &Url,
        rp_name: &str,
    ) -> Result<Self, PasskeyError> {
        let webauthn = WebauthnBuilder::new(rp_id, origin)
            .and_then(|b| b.rp_name(rp_name).timeout(CEREMONY_TTL).build())
            .map_err(|e| {
                PasskeyError::Internal(format!(
                    "WebAuthn configuration refused (rp id {rp_id:?}, origin {origin}): {e}"
                ))
            })?;
        let rp = Arc::new(assertion::RelyingParty::new(rp_id, origin));
        Ok(Self { webauthn: Arc::new(webauthn), rp, db, store, throttle, ceremony_ttl: CEREMONY_TTL })
    }

    /// Replaces the ceremony lifetime (both the store TTL and the `now` check). Only for
    /// tests that need a ceremony to expire in the store within a second; keep the default.
    #[must_use]
    pub fn with_ceremony_ttl(mut self, ttl: Duration) -> Self {
        self.ceremony_ttl = ttl;
        self
    }

    /// Stores the state of a new ceremony and returns its id.
    async fn put_ceremony(&self, step: Step, now: UnixTime) -> Result<String, PasskeyError> {
        let id = random_token().map_err(|e| PasskeyError::Internal(e.to_string()))?;
        let value = serde_json::to_vec(&StoredCeremony { created_at: now, step })
            .map_err(|e| PasskeyError::Internal(format!("ceremony state does not serialise: {e}")))?;
        self.store.put(&ceremony_key(&id), &value, self.ceremony_ttl).await?;
        Ok(id)
    }

    /// Takes (atomically, once) the state of ceremony `id`, refusing it if it is older than
    /// the ceremony lifetime by `now`.
    async fn take_ceremony(&self, id: &str, now: UnixTime) -> Result<Step, PasskeyError> {
        if !is_ceremony_id(id) {
            return Err(PasskeyError::Expired);
        }
        let Some(bytes) = self.store.take(&ceremony_key(id)).await? else {
            tracing::info!("passkey ceremony unknown, already used or expired in the store");
            return Err(PasskeyError::Expired);
        };
        let stored: StoredCeremony = serde_json::from_slice(&bytes)
            .map_err(|e| PasskeyError::Internal(format!("stored ceremony state does not parse: {e}")))?;
        let age = now.secs_since(stored.created_at);
        if age > secs(self.ceremony_ttl) {
            tracing::info!(age_secs = age, "passkey ceremony too old");
            return Err(PasskeyError::Expired);
        }
        Ok(stored.step)
    }

    async fn audit(&self, event: AuditEvent) -> Result<(), StoreError> {
        self.db.run(move |conn| audit::append(conn, &event)).await
    }
}

/// What lives in the session store between `start_*` and `finish_*`.
#[derive(Serialize, Deserialize)]
struct StoredCeremony {
    created_at: UnixTime,
    step: Step,
}

#[derive(Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
enum Step {
    /// Registering a passkey for this citizen.
    Registration { citizen_id: CitizenId, state: PasskeyRegistration },
    /// Signing in. `challenge` is the one in the options (base64url), for [`assertion`]; a
    /// ceremony stored without it (by an older node) is verified by webauthn-rs alone.
    Authentication {
        expected: Expected,
        state: DiscoverableAuthentication,
        #[serde(default)]
        challenge: Option<String>,
    },
}

/// Whom a sign-in ceremony may sign in.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "who", rename_all = "snake_case")]
enum Expected {
    /// Discoverable: whoever the `userHandle` names.
    Anyone,
    /// Username-first for an existing citizen.
    Citizen { citizen_id: CitizenId, account_key: String },
    /// Username-first for a name with no account: nobody can succeed.
    Nobody { account_key: String },
}

fn ceremony_key(id: &str) -> String {
    format!("{CEREMONY_PREFIX}{id}")
}

/// Ceremony ids are [`random_token`]s; anything else cannot name a ceremony.
fn is_ceremony_id(id: &str) -> bool {
    id.len() == tessera_crypto::tokens::TOKEN_CHARS
        && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

fn secs(d: Duration) -> i64 {
    i64::try_from(d.as_secs()).unwrap_or(i64::MAX)
}

fn b64url(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// The first bytes of a credential id in hex, enough to tell credentials apart in a log
/// without logging the id.
fn id_prefix(bytes: &[u8]) -> String {
    bytes.iter().take(4).map(|b| format!("{b:02x}")).collect()
}

/// What tessera keeps in columns of its own, read from the webauthn-rs `Passkey`.
struct PasskeyFacts {
    counter: u32,
    backup_eligible: bool,
    backup_state: bool,
}

impl PasskeyFacts {
    fn of(passkey: &Passkey) -> Self {
        Self::of_credential(&Credential::from(passkey.clone()))
    }

    fn of_credential(cred: &Credential) -> Self {
        Self { counter: cred.counter, backup_eligible: cred.backup_eligible, backup_state: cred.backup_state }
    }
}

fn passkey_json(passkey: &Passkey) -> Result<String, PasskeyError> {
    serde_json::to_string(passkey).map_err(|e| PasskeyError::Internal(format!("a passkey does not serialise: {e}")))
}

fn parse_passkey(json: &str) -> Result<Passkey, PasskeyError> {
    serde_json::from_str(json).map_err(|e| PasskeyError::Internal(format!("a stored passkey does not parse: {e}")))
}

/// Trims a passkey name and checks it: 1 to [`MAX_PASSKEY_NAME_CHARS`] characters, no
/// control characters.
///
/// # Errors
/// [`PasskeyError::InvalidName`].
pub fn normalise_passkey_name(name: &str) -> Result<String, PasskeyError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > MAX_PASSKEY_NAME_CHARS || name.chars().any(char::is_control) {
        return Err(PasskeyError::InvalidName);
    }
    Ok(name.to_owned())
}

/// The name a passkey gets when the citizen gives none: `Passkey 2026-11-29` (UTC date).
pub fn default_passkey_name(now: UnixTime) -> String {
    let (y, m, d) = civil_date(now);
    format!("Passkey {y:04}-{m:02}-{d:02}")
}

/// The proleptic Gregorian UTC date of `t` (H. Hinnant's `civil_from_days`).
fn civil_date(t: UnixTime) -> (i64, i64, i64) {
    let z = t.as_secs().div_euclid(86_400) + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    #[test]
    fn the_service_can_be_shared_between_tasks() {
        fn assert_send_sync<T: Send + Sync + Clone + 'static>() {}
        assert_send_sync::<PasskeyService>();
    }

    #[test]
    fn default_names_carry_the_utc_date() {
        assert_eq!(default_passkey_name(UnixTime::EPOCH), "Passkey 1970-01-01");
        // 2026-11-29T23:59:59Z and one second later.
        assert_eq!(default_passkey_name(UnixTime::from_secs(1_795_996_799)), "Passkey 2026-11-29");
        assert_eq!(default_passkey_name(UnixTime::from_secs(1_795_996_800)), "Passkey 2026-11-30");
        assert_eq!(default_passkey_name(UnixTime::from_secs(951_782_400)), "Passkey 2000-02-29");
        assert_eq!(default_passkey_name(UnixTime::from_secs(-1)), "Passkey 1969-12-31");
    }

    #[test]
    fn names_are_trimmed_and_bounded() {
        assert_eq!(normalise_passkey_name("  iPhone ").unwrap(), "iPhone");
        assert_eq!(normalise_passkey_name("陳大文的手機").unwrap(), "陳大文的手機");
        assert_eq!(normalise_passkey_name(&"é".repeat(64)).unwrap().chars().count(), 64);
        for bad in ["", "   ", "a\nb", "tab\there", &"x".repeat(65)] {
            assert!(matches!(normalise_passkey_name(bad), Err(PasskeyError::InvalidName)), "{bad:?}");
        }
    }

    #[test]
    fn ceremony_ids_are_tokens() {
        assert!(is_ceremony_id(&random_token().unwrap()));
        for bad in ["", "short", &"a".repeat(44), &format!("{}:", "a".repeat(42)), &"é".repeat(21)] {
            assert!(!is_ceremony_id(bad), "{bad:?}");
        }
    }
}
