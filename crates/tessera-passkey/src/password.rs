//! The password fallback.

use tessera_crypto::{CryptoError, MAX_PASSWORD_BYTES, PasswordHasher};
use tessera_domain::{CitizenId, CitizenStatus, PasswordCredential, UnixTime, Username};
use tessera_store::{Db, StoreError, citizens, credentials};

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

    /// Removes the citizen's password (passkey-only account). Returns whether one was set.
    pub async fn remove_password(&self, citizen_id: CitizenId) -> Result<bool, CredentialError> {
        Ok(self.db.run(move |conn| credentials::remove_password(conn, citizen_id)).await?)
    }

    pub(crate) async fn burn(&self, password: &str) {
        // The dummy verification exists only for its cost; its result is meaningless.
        let _ = self.hasher.verify_dummy(password).await;
    }
}
