//! The one error type of this crate.

use crate::signing::SigningAlg;

/// Everything that can go wrong in `tessera-crypto`.
///
/// Messages never contain secret material: no key bytes, passwords, tokens,
/// plaintexts, or the raw input that failed to parse.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CryptoError {
    /// The operating system's random number generator failed.
    #[error("the system random number generator failed")]
    Rng,

    /// A password was empty.
    #[error("password is empty")]
    PasswordEmpty,

    /// A password was longer than the allowed maximum (a bound on hashing cost).
    #[error("password is longer than {max} bytes")]
    PasswordTooLong {
        /// The maximum length in bytes.
        max: usize,
    },

    /// A stored password hash is not a PHC string Argon2 can verify against.
    #[error("stored password hash is malformed")]
    MalformedPasswordHash,

    /// Argon2 failed while hashing (not a wrong password).
    #[error("password hashing failed")]
    PasswordHashing,

    /// The password hasher was built with a concurrency bound of zero.
    #[error("password hasher needs a concurrency bound of at least 1")]
    InvalidConcurrencyBound,

    /// A task on the blocking pool panicked or was cancelled, or the pool's
    /// semaphore was closed.
    #[error("blocking crypto task failed")]
    BlockingTask,

    /// A master key could not be read.
    #[error("invalid master key: {0}")]
    InvalidMasterKey(&'static str),

    /// Deriving a subkey from the master key failed (ring refused the HKDF output length).
    #[error("subkey derivation failed")]
    KeyDerivation,

    /// Encryption failed (should not happen with a valid key).
    #[error("encryption failed")]
    Encrypt,

    /// A sealed value carries a format version this build does not know.
    #[error("unsupported ciphertext version {0}")]
    UnsupportedCiphertextVersion(u8),

    /// Decryption failed: the ciphertext was tampered with or truncated, or the
    /// key or the associated data is not the one it was sealed with. These causes
    /// are deliberately indistinguishable.
    #[error("decryption failed")]
    Decrypt,

    /// An algorithm name is not one Tessera signs or verifies with (`none` included).
    #[error("unsupported signing algorithm")]
    UnsupportedAlgorithm,

    /// Generating a signing key failed.
    #[error("generating a {0} key failed")]
    KeyGeneration(SigningAlg),

    /// A private key was rejected when loading it.
    #[error("{alg} private key rejected: {reason}")]
    KeyRejected {
        /// The algorithm the key was loaded for.
        alg: SigningAlg,
        /// ring's description of the problem (never key material).
        reason: String,
    },

    /// Signing failed.
    #[error("signing failed")]
    Signing,

    /// A JSON value could not be serialised.
    #[error("JSON serialisation failed")]
    Serialization,

    /// A JWK is missing members, has the wrong types, or describes an
    /// unsupported key.
    #[error("invalid JWK: {0}")]
    InvalidJwk(&'static str),

    /// A compact JWS is not well formed.
    #[error("malformed JWS: {0}")]
    MalformedJws(&'static str),

    /// The JWS header's `alg` (or `kid`) does not match the verification key.
    #[error("JWS algorithm or key id does not match the key")]
    KeyMismatch,

    /// The JWS signature does not verify.
    #[error("JWS signature is invalid")]
    BadSignature,
}
