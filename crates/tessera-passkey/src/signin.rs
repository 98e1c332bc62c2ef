//! Signing in with a password: throttling first, then the password check, then the
//! record of what happened. The same answer and the same work for an unknown username
//! and a wrong password.

use crate::password::{CredentialError, PasswordService, PasswordVerdict};
use crate::throttle::{SignInThrottle, ThrottleError};
use std::time::Duration;
use tessera_domain::{AuditEvent, AuditKind, CitizenId, Outcome, UnixTime, Username};
use tessera_session::SessionError;
use tessera_store::{Db, StoreError, audit};

pub use tessera_domain::{ACR_PASSKEY, ACR_PASSWORD, ACR_VALUES};

/// A successful authentication.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedIn {
    pub citizen_id: CitizenId,
    /// RFC 8176 authentication method references.
    pub amr: Vec<String>,
    pub acr: String,
}

/// The outcome of a sign-in attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignInOutcome {
    SignedIn(SignedIn),
    /// Unknown username or wrong password (indistinguishable on purpose).
    Refused,
    /// Too many failures: wait this long.
    Throttled(Duration),
}

#[derive(Debug, thiserror::Error)]
pub enum SignInError {
    #[error(transparent)]
    Credentials(#[from] CredentialError),
    #[error("the sign-in throttle is unavailable: {0}")]
    Throttle(#[from] SessionError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Password sign-in with brute-force protection.
#[derive(Clone)]
pub struct SignInService {
    db: Db,
    passwords: PasswordService,
    throttle: SignInThrottle,
}

impl SignInService {
    pub fn new(db: Db, passwords: PasswordService, throttle: SignInThrottle) -> Self {
        SignInService { db, passwords, throttle }
    }

    /// Signs in with a username and password typed by a person; `ip` is the client address.
    pub async fn password(
        &self,
        username: &str,
        password: &str,
        ip: &str,
        now: UnixTime,
    ) -> Result<SignInOutcome, SignInError> {
        let account_key = username.trim().to_lowercase();
        match self.throttle.check(&account_key, ip, now).await {
            Ok(()) => {}
            Err(ThrottleError::Throttled(t)) => return Ok(SignInOutcome::Throttled(t.retry_after)),
            Err(ThrottleError::Unavailable(e)) => return Err(e.into()),
        }
        let verdict = match Username::parse(username) {
            Ok(name) => self.passwords.verify(&name, password, now).await?,
            Err(_) => {
                // Not even a possible username: the same work as any refusal.
                self.passwords.burn(password).await;
                PasswordVerdict::Refused
            }
        };
        match verdict {
            PasswordVerdict::Accepted(citizen_id) => {
                self.throttle.record_success(&account_key).await?;
                self.record(citizen_id.to_string().into(), Outcome::Success, ip, now).await?;
                Ok(SignInOutcome::SignedIn(SignedIn { citizen_id, amr: vec!["pwd".into()], acr: ACR_PASSWORD.into() }))
            }
            PasswordVerdict::Refused => {
                let locked = self.throttle.record_failure(&account_key, ip, now).await?;
                self.record(None, Outcome::Failure, ip, now).await?;
                if locked {
                    audit_lockout(&self.db, &account_key, ip, now).await?;
                }
                Ok(SignInOutcome::Refused)
            }
        }
    }

    /// Audits one attempt. A failure names no citizen (who typed the name is not proven),
    /// as a passkey failure names one only once the signature verified.
    async fn record(&self, actor: Option<String>, outcome: Outcome, ip: &str, now: UnixTime) -> Result<(), StoreError> {
        let event =
            AuditEvent { outcome, actor, ip: Some(ip.to_owned()), ..AuditEvent::new(AuditKind::SIGNIN_PASSWORD, now) };
        self.db.run(move |conn| audit::append(conn, &event)).await
    }
}

/// Audits that repeated failures locked the account named `account_key` (the username as
/// typed, normalised; it may not exist, and the lock looks the same either way).
pub(crate) async fn audit_lockout(db: &Db, account_key: &str, ip: &str, now: UnixTime) -> Result<(), StoreError> {
    let event = AuditEvent {
        outcome: Outcome::Failure,
        ip: Some(ip.to_owned()),
        detail: serde_json::json!({ "account": account_key }).to_string(),
        ..AuditEvent::new(AuditKind::SIGNIN_LOCKED, now)
    };
    db.run(move |conn| audit::append(conn, &event)).await
}
