//! The password fallback.

use diesel::Connection as _;
use serde_json::json;
use tessera_crypto::{CryptoError, MAX_PASSWORD_BYTES, PasswordHasher};
use tessera_domain::{AuditEvent, AuditKind, CitizenId, CitizenStatus, PasswordCredential, UnixTime, Username};
use tessera_store::{Db, StoreError, audit, citizens, credentials, passkeys};

/// The shortest password accepted. Passwords are only a fallback to passkeys, but they
/// are a single factor, so length is what makes them hard to guess (NIST SP 800-63B).
pub const MIN_PASSWORD_CHARS: usize = 12;

#[derive(Debug, thiserror::Error)]
pub enum CredentialError {
    #[error("the password is shorter than {MIN_PASSWORD_CHARS} characters")]
    PasswordTooShort,
    #[error("the password is longer than {MAX_PASSWORD_BYTES} bytes")]
    PasswordTooLong,
    #[error("the password must not contain the username")]
    PasswordContainsUsername,
    #[error("no such citizen")]
    UnknownCitizen,
    #[error("the citizen has no password")]
    NoPassword,
    #[error("the password is the citizen's only way to sign in")]
    LastCredential,
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("password hashing failed: {0}")]
    Crypto(CryptoError),
}

impl From<CryptoError> for CredentialError {
    fn from(e: CryptoError) -> Self {
        match e {
            CryptoError::PasswordTooLong { .. } => CredentialError::PasswordTooLong,
            other => CredentialError::Crypto(other),
        }
    }
}

/// The outcome of a password sign-in attempt. Callers must show the same message for
/// every refusal, so that nobody can learn which usernames exist.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PasswordVerdict {
    Accepted(CitizenId),
    /// Unknown username, no password set, wrong password or a disabled account.
    Refused,
}

/// What [`PasswordService::change_password`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PasswordChange {
    /// The citizen had no password (a passkey-only account) and now has one.
    Added,
    /// The citizen's password was replaced: what was issued under the old one should end.
    Replaced,
}

/// Sets and checks citizens' passwords.
#[derive(Clone)]
pub struct PasswordService {
    db: Db,
    hasher: PasswordHasher,
}

impl PasswordService {
    pub fn new(db: Db, hasher: PasswordHasher) -> Self {
        PasswordService { db, hasher }
    }

    /// Checks the policy: length in characters, the byte bound, and not containing the username.
    pub fn check_policy(username: &Username, password: &str) -> Result<(), CredentialError> {
        if password.chars().count() < MIN_PASSWORD_CHARS {
            return Err(CredentialError::PasswordTooShort);
        }
        if password.len() > MAX_PASSWORD_BYTES {
            return Err(CredentialError::PasswordTooLong);
        }
        if password.to_lowercase().contains(username.as_str()) {
            return Err(CredentialError::PasswordContainsUsername);
        }
        Ok(())
    }

    /// Sets (or replaces) the citizen's password after checking the policy.
    pub async fn set_password(
        &self,
        citizen_id: CitizenId,
        password: &str,
        now: UnixTime,
    ) -> Result<(), CredentialError> {
        let citizen =
            self.db.run(move |conn| citizens::by_id(conn, citizen_id)).await?.ok_or(CredentialError::UnknownCitizen)?;
        Self::check_policy(&citizen.username, password)?;
        let phc = self.hasher.hash(password).await?;
        let credential = PasswordCredential { citizen_id, phc, created_at: now, updated_at: now };
        self.db.run(move |conn| credentials::set_password(conn, &credential)).await?;
        Ok(())
    }

    /// Verifies a username and password. Every refusal costs one Argon2id verification,
    /// whether or not the username exists, so timing does not reveal it either. A hash
    /// made with older parameters is replaced after a successful check.
    pub async fn verify(
        &self,
        username: &Username,
        password: &str,
        now: UnixTime,
    ) -> Result<PasswordVerdict, CredentialError> {
        let name = username.clone();
        let found = self
            .db
            .run(move |conn| {
                let Some(citizen) = citizens::by_username(conn, &name)? else { return Ok(None) };
                let credential = credentials::password_for(conn, citizen.id)?;
                Ok(Some((citizen, credential)))
            })
            .await?;
        let Some((citizen, Some(credential))) = found else {
            self.burn(password).await;
            return Ok(PasswordVerdict::Refused);
        };
        let matches = match self.hasher.verify(password, &credential.phc).await {
            Ok(matches) => matches,
            // An over-long or empty password is simply wrong; a malformed stored hash is not.
            Err(CryptoError::PasswordEmpty | CryptoError::PasswordTooLong { .. }) => false,
            Err(e) => return Err(CredentialError::Crypto(e)),
        };
        if !matches || citizen.status != CitizenStatus::Active {
            return Ok(PasswordVerdict::Refused);
        }
        if PasswordHasher::needs_rehash(&credential.phc).unwrap_or(false) {
            let phc = self.hasher.hash(password).await?;
            let renewed = PasswordCredential { phc, updated_at: now, ..credential };
            self.db.run(move |conn| credentials::set_password(conn, &renewed)).await?;
        }
        Ok(PasswordVerdict::Accepted(citizen.id))
    }

    /// Whether the citizen has a password.
    pub async fn has_password(&self, citizen_id: CitizenId) -> Result<bool, CredentialError> {
        Ok(self.db.run(move |conn| credentials::password_for(conn, citizen_id)).await?.is_some())
    }

    /// The citizen sets a password on their account page: added to a passkey-only account,
    /// or replacing the one they had. Checked against the policy, stored as Argon2id, and
    /// audited (`password.set`, with whether one was replaced) in the same transaction.
    ///
    /// # Errors
    /// The policy's errors, [`CredentialError::UnknownCitizen`], store and hashing failures.
    pub async fn change_password(
        &self,
        citizen_id: CitizenId,
        password: &str,
        now: UnixTime,
    ) -> Result<PasswordChange, CredentialError> {
        let citizen =
            self.db.run(move |conn| citizens::by_id(conn, citizen_id)).await?.ok_or(CredentialError::UnknownCitizen)?;
        Self::check_policy(&citizen.username, password)?;
        let phc = self.hasher.hash(password).await?;
        let credential = PasswordCredential { citizen_id, phc, created_at: now, updated_at: now };
        let change = self
            .db
            .run(move |conn| {
                conn.transaction::<_, StoreError, _>(|conn| {
                    citizens::lock(conn, citizen_id)?;
                    let previous = credentials::password_for(conn, citizen_id)?;
                    let credential = match &previous {
                        Some(old) => PasswordCredential { created_at: old.created_at, ..credential },
                        None => credential,
                    };
                    credentials::set_password(conn, &credential)?;
                    let change = if previous.is_some() { PasswordChange::Replaced } else { PasswordChange::Added };
                    let event = AuditEvent {
                        actor: Some(citizen_id.to_string()),
                        detail: json!({ "replaced": change == PasswordChange::Replaced }).to_string(),
                        ..AuditEvent::new(AuditKind::PASSWORD_SET, now)
                    };
                    audit::append(conn, &event)?;
                    Ok(change)
                })
            })
            .await?;
        tracing::info!(citizen_id = %citizen_id, change = ?change, "password set");
        Ok(change)
    }

    /// The citizen removes their password, leaving their passkeys. Refused when they have
    /// no passkey (it would lock them out). The citizen's row is locked first, so a passkey
    /// removal at the same moment cannot leave the account with no credential. Audited
    /// (`password.removed`) in the same transaction.
    ///
    /// # Errors
    /// [`CredentialError::NoPassword`], [`CredentialError::LastCredential`], store failures.
    pub async fn remove_password(&self, citizen_id: CitizenId, now: UnixTime) -> Result<(), CredentialError> {
        let event =
            AuditEvent { actor: Some(citizen_id.to_string()), ..AuditEvent::new(AuditKind::PASSWORD_REMOVED, now) };
        let outcome = self
            .db
            .run(move |conn| {
                conn.transaction::<_, StoreError, _>(|conn| {
                    if !citizens::lock(conn, citizen_id)? {
                        return Ok(Err(CredentialError::UnknownCitizen));
                    }
                    if credentials::password_for(conn, citizen_id)?.is_none() {
                        return Ok(Err(CredentialError::NoPassword));
                    }
                    if passkeys::list_for_citizen(conn, citizen_id)?.is_empty() {
                        return Ok(Err(CredentialError::LastCredential));
                    }
                    credentials::remove_password(conn, citizen_id)?;
                    audit::append(conn, &event)?;
                    Ok(Ok(()))
                })
            })
            .await?;
        match &outcome {
            Ok(()) => tracing::info!(citizen_id = %citizen_id, "password removed"),
            Err(e) => tracing::info!(citizen_id = %citizen_id, error = %e, "password not removed"),
        }
        outcome
    }

    pub(crate) async fn burn(&self, password: &str) {
        // The dummy verification exists only for its cost; its result is meaningless.
        let _ = self.hasher.verify_dummy(password).await;
    }
}
