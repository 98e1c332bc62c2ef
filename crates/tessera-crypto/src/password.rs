//! Argon2id password hashing on tokio's blocking pool, with a concurrency bound.
//!
//! Parameters are `argon2::Argon2::default()`: Argon2id, version 19 (0x13),
//! m = 19456 KiB, t = 2, p = 1 (the OWASP recommendation). One hash costs about
//! 19 MiB of memory and tens of milliseconds of CPU, so the number of hashes in
//! flight is bounded by a semaphore: with bound `k`, at most `k * 19 MiB` is used
//! by password hashing however many sign-in requests arrive at once.

use std::fmt;
use std::sync::Arc;

use argon2::password_hash::{self, PasswordHash, PasswordHasher as _, PasswordVerifier as _, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use tokio::sync::Semaphore;

use crate::CryptoError;
use crate::tokens::random_bytes;
use crate::wipe::WipeOnDrop;

/// The longest password accepted, in bytes (UTF-8). A bound on hashing cost, so
/// that a megabyte "password" cannot be used to burn CPU.
pub const MAX_PASSWORD_BYTES: usize = 1024;

/// Salt length in bytes (128 bits).
const SALT_BYTES: usize = 16;

/// Hashes and verifies passwords with Argon2id.
///
/// Cheap to clone: clones share one semaphore, so the concurrency bound holds
/// across all clones. A permit is held by the blocking task itself, so the bound
/// holds even when the awaiting request is cancelled mid-hash.
#[derive(Clone)]
pub struct PasswordHasher {
    permits: Arc<Semaphore>,
    max_concurrent: usize,
    /// A hash of a random password nobody knows, for [`PasswordHasher::verify_dummy`].
    dummy_phc: Arc<str>,
}

impl fmt::Debug for PasswordHasher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PasswordHasher").field("max_concurrent", &self.max_concurrent).finish_non_exhaustive()
    }
}

impl PasswordHasher {
    /// Builds a hasher that runs at most `max_concurrent` hashes or verifications
    /// at once; further calls wait their turn.
    ///
    /// Computes the dummy hash used by [`PasswordHasher::verify_dummy`] once, here,
    /// synchronously (one Argon2id hash): call this at startup, not per request.
    ///
    /// # Errors
    /// [`CryptoError::InvalidConcurrencyBound`] if `max_concurrent` is 0 or above
    /// tokio's semaphore limit; [`CryptoError::Rng`] or
    /// [`CryptoError::PasswordHashing`] if the dummy hash cannot be computed.
    pub fn new(max_concurrent: usize) -> Result<Self, CryptoError> {
        if max_concurrent == 0 || max_concurrent > Semaphore::MAX_PERMITS {
            return Err(CryptoError::InvalidConcurrencyBound);
        }
        let unknowable = WipeOnDrop(random_bytes::<32>()?.to_vec());
        let dummy_phc = hash_blocking(&unknowable.0, &random_bytes::<SALT_BYTES>()?)?;
        Ok(Self { permits: Arc::new(Semaphore::new(max_concurrent)), max_concurrent, dummy_phc: dummy_phc.into() })
    }

    /// Hashes `password` with a fresh random salt and returns the PHC string
    /// (`$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>`) to store.
    ///
    /// # Errors
    /// [`CryptoError::PasswordEmpty`] or [`CryptoError::PasswordTooLong`] before
    /// any work is done; [`CryptoError::Rng`], [`CryptoError::PasswordHashing`] or
    /// [`CryptoError::BlockingTask`] if hashing itself fails.
    pub async fn hash(&self, password: &str) -> Result<String, CryptoError> {
        check_length(password)?;
        let password = WipeOnDrop(password.as_bytes().to_vec());
        let salt = random_bytes::<SALT_BYTES>()?;
        self.run(move || hash_blocking(&password.0, &salt)).await
    }

    /// Checks `password` against a stored PHC string, in constant time with
    /// respect to the hash output. `Ok(false)` means the password is wrong.
    ///
    /// The Argon2 parameters are read from `phc`, so hashes made with older
    /// parameters still verify (see [`PasswordHasher::needs_rehash`]).
    ///
    /// # Errors
    /// [`CryptoError::PasswordEmpty`] / [`CryptoError::PasswordTooLong`] before any
    /// work; [`CryptoError::MalformedPasswordHash`] if `phc` is not a complete
    /// Argon2 PHC string (a corrupt row is an error, never a silent `false`);
    /// [`CryptoError::BlockingTask`] if the blocking task fails.
    pub async fn verify(&self, password: &str, phc: &str) -> Result<bool, CryptoError> {
        check_length(password)?;
        let password = WipeOnDrop(password.as_bytes().to_vec());
        let phc = phc.to_owned();
        self.run(move || verify_blocking(&password.0, &phc)).await
    }

    /// Does the same work as [`PasswordHasher::verify`] against a fixed dummy hash
    /// and throws the result away. Call it when the username is unknown, then
    /// answer exactly as for a wrong password: the response time then does not
    /// reveal whether the account exists.
    ///
    /// The length checks are the same as in `verify`, so an empty or over-long
    /// password fails identically for known and unknown users.
    ///
    /// # Errors
    /// As for [`PasswordHasher::verify`].
    pub async fn verify_dummy(&self, password: &str) -> Result<(), CryptoError> {
        check_length(password)?;
        let password = WipeOnDrop(password.as_bytes().to_vec());
        let phc = Arc::clone(&self.dummy_phc);
        self.run(move || verify_blocking(&password.0, &phc).map(|_| ())).await
    }

    /// Whether a stored hash was made with anything other than the current
    /// algorithm and parameters (Argon2id v19, m=19456, t=2, p=1, 32-byte output).
    /// After a successful [`PasswordHasher::verify`], rehash and store when true.
    ///
    /// # Errors
    /// [`CryptoError::MalformedPasswordHash`] if `phc` cannot be parsed.
    pub fn needs_rehash(phc: &str) -> Result<bool, CryptoError> {
        let parsed = PasswordHash::new(phc).map_err(|_| CryptoError::MalformedPasswordHash)?;
        let params = Params::try_from(&parsed).map_err(|_| CryptoError::MalformedPasswordHash)?;
        let current = Params::default();
        let output_len = parsed.hash.map(|h| h.len());
        Ok(parsed.algorithm != Algorithm::Argon2id.ident()
            || parsed.version != Some(Version::V0x13.into())
            || params.m_cost() != current.m_cost()
            || params.t_cost() != current.t_cost()
            || params.p_cost() != current.p_cost()
            || output_len != Some(Params::DEFAULT_OUTPUT_LEN))
    }

    /// Runs `work` on the blocking pool once a permit is free; the permit moves
    /// into the task and is released when the work ends, not when the caller
    /// stops waiting.
    async fn run<T, F>(&self, work: F) -> Result<T, CryptoError>
    where
        T: Send + 'static,
        F: FnOnce() -> Result<T, CryptoError> + Send + 'static,
    {
        let permit = Arc::clone(&self.permits).acquire_owned().await.map_err(|_| CryptoError::BlockingTask)?;
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            work()
        })
        .await
        .map_err(|_| CryptoError::BlockingTask)?
    }
}

fn check_length(password: &str) -> Result<(), CryptoError> {
    if password.is_empty() {
        return Err(CryptoError::PasswordEmpty);
    }
    if password.len() > MAX_PASSWORD_BYTES {
        return Err(CryptoError::PasswordTooLong { max: MAX_PASSWORD_BYTES });
    }
    Ok(())
}

fn hash_blocking(password: &[u8], salt: &[u8; SALT_BYTES]) -> Result<String, CryptoError> {
    let salt = SaltString::encode_b64(salt).map_err(|_| CryptoError::PasswordHashing)?;
    Argon2::default()
        .hash_password(password, &salt)
        .map(|hash| hash.to_string())
        .map_err(|_| CryptoError::PasswordHashing)
}

fn verify_blocking(password: &[u8], phc: &str) -> Result<bool, CryptoError> {
    let parsed = PasswordHash::new(phc).map_err(|_| CryptoError::MalformedPasswordHash)?;
    // argon2 answers "wrong password" for a PHC string without salt or hash;
    // for us that is a corrupt row.
    if parsed.salt.is_none() || parsed.hash.is_none() {
        return Err(CryptoError::MalformedPasswordHash);
    }
    match Argon2::default().verify_password(password, &parsed) {
        Ok(()) => Ok(true),
        Err(password_hash::Error::Password) => Ok(false),
        Err(_) => Err(CryptoError::MalformedPasswordHash),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;

    fn hasher() -> PasswordHasher {
        PasswordHasher::new(4).unwrap()
    }

    #[test]
    fn default_params_are_owasp_argon2id() {
        let params = Params::default();
        assert_eq!(params.m_cost(), 19_456);
        assert_eq!(params.t_cost(), 2);
        assert_eq!(params.p_cost(), 1);
        assert_eq!(Algorithm::default(), Algorithm::Argon2id);
        assert_eq!(Version::default(), Version::V0x13);
    }

    #[tokio::test]
    async fn hash_is_phc_with_expected_params() {
        let phc = hasher().hash("correct horse battery staple").await.unwrap();
        assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "unexpected PHC prefix: {phc}");
        assert!(!PasswordHasher::needs_rehash(&phc).unwrap());
    }

    #[tokio::test]
    async fn verify_good_and_bad_password() {
        let h = hasher();
        let phc = h.hash("correct horse").await.unwrap();
        assert!(h.verify("correct horse", &phc).await.unwrap());
        assert!(!h.verify("correct horsf", &phc).await.unwrap());
        assert!(!h.verify("Correct horse", &phc).await.unwrap());
    }

    #[tokio::test]
    async fn same_password_gets_different_salts() {
        let h = hasher();
        let a = h.hash("pw").await.unwrap();
        let b = h.hash("pw").await.unwrap();
        assert_ne!(a, b);
        assert!(h.verify("pw", &a).await.unwrap());
        assert!(h.verify("pw", &b).await.unwrap());
    }

    #[tokio::test]
    async fn malformed_phc_is_an_error_not_false() {
        let h = hasher();
        for bad in [
            "",
            "not a hash",
            "$argon2id$v=19$m=19456,t=2,p=1$",
            "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0",
            "$bcrypt$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0$aGFzaA",
            "$argon2id$v=19$m=abc,t=2,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaA",
        ] {
            let result = h.verify("pw", bad).await;
            assert!(matches!(result, Err(CryptoError::MalformedPasswordHash)), "{bad:?} gave {result:?}");
        }
        assert!(PasswordHasher::needs_rehash("garbage").is_err());
    }

    #[tokio::test]
    async fn empty_and_overlong_passwords_are_rejected_before_hashing() {
        let h = hasher();
        let phc = h.hash("pw").await.unwrap();
        let long = "x".repeat(MAX_PASSWORD_BYTES + 1);
        assert!(matches!(h.hash("").await, Err(CryptoError::PasswordEmpty)));
        assert!(matches!(h.hash(&long).await, Err(CryptoError::PasswordTooLong { max: MAX_PASSWORD_BYTES })));
        assert!(matches!(h.verify("", &phc).await, Err(CryptoError::PasswordEmpty)));
        assert!(matches!(h.verify(&long, &phc).await, Err(CryptoError::PasswordTooLong { .. })));
        assert!(matches!(h.verify_dummy("").await, Err(CryptoError::PasswordEmpty)));
        assert!(matches!(h.verify_dummy(&long).await, Err(CryptoError::PasswordTooLong { .. })));
        // The bound counts bytes, not characters: 342 three-byte characters is too long.
        assert!(matches!(h.hash(&"香".repeat(342)).await, Err(CryptoError::PasswordTooLong { .. })));
        let max = "x".repeat(MAX_PASSWORD_BYTES);
        let phc = h.hash(&max).await.unwrap();
        assert!(h.verify(&max, &phc).await.unwrap());
    }

    #[tokio::test]
    async fn verify_dummy_does_the_same_work() {
        let h = hasher();
        assert!(h.dummy_phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(!PasswordHasher::needs_rehash(&h.dummy_phc).unwrap());
        h.verify_dummy("whatever").await.unwrap();
        // Clones share the same dummy hash (computed once).
        assert!(Arc::ptr_eq(&h.dummy_phc, &h.clone().dummy_phc));
    }

    #[test]
    fn zero_bound_is_rejected() {
        assert!(matches!(PasswordHasher::new(0), Err(CryptoError::InvalidConcurrencyBound)));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn bound_of_one_serialises_but_completes_all() {
        let h = PasswordHasher::new(1).unwrap();
        let (a, b) = tokio::join!(h.hash("first"), h.hash("second"));
        let (a, b) = (a.unwrap(), b.unwrap());
        assert!(h.verify("first", &a).await.unwrap());
        assert!(h.verify("second", &b).await.unwrap());
        assert_eq!(h.permits.available_permits(), 1);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn work_waits_for_a_free_permit() {
        let h = PasswordHasher::new(1).unwrap();
        // Take the only permit, as a hash in flight would.
        let held = Arc::clone(&h.permits).acquire_owned().await.unwrap();
        let clone = h.clone();
        let mut task = tokio::spawn(async move { clone.hash("queued").await });
        let waited = tokio::time::timeout(std::time::Duration::from_millis(300), &mut task).await;
        assert!(waited.is_err(), "hash ran although no permit was free");
        drop(held);
        let phc = task.await.unwrap().unwrap();
        assert!(h.verify("queued", &phc).await.unwrap());
        assert_eq!(h.permits.available_permits(), 1);
    }

    #[tokio::test]
    async fn old_parameters_verify_and_need_rehash() {
        let weak = Argon2::new(Algorithm::Argon2id, Version::V0x13, Params::new(8 * 1024, 1, 1, None).unwrap());
        let salt = SaltString::encode_b64(b"0123456789abcdef").unwrap();
        let phc = weak.hash_password(b"legacy", &salt).unwrap().to_string();
        assert!(PasswordHasher::needs_rehash(&phc).unwrap());
        assert!(hasher().verify("legacy", &phc).await.unwrap());
    }
}
