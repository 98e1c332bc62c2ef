//! Everything cryptographic in Tessera, and nothing else.
//!
//! - [`tokens`]: random bytes and tokens, SHA-256 digests of tokens, constant-time compare.
//! - [`password`]: Argon2id password hashing on the blocking pool, with a concurrency bound.
//! - [`aead`]: the master key, per-purpose subkeys (HKDF-SHA256) and AES-256-GCM for data at rest.
//! - [`mac`]: per-purpose HMAC-SHA256 keys derived from the master key (pairwise subjects).
//! - [`signing`]: RS256 / ES256 / EdDSA signing keys, compact JWS, public JWKs with RFC 7638 kids.
//! - [`jwk`]: public JWK parsing and RFC 7638 thumbprints.
//!
//! This crate does no I/O apart from running password hashes on tokio's blocking pool,
//! and never logs. No error message carries secret material.

pub mod aead;
mod b64;
mod error;
pub mod jwk;
pub mod mac;
pub mod password;
pub mod signing;
pub mod tokens;
mod wipe;

pub use aead::{Cipher, MasterKey, Purpose};
pub use error::CryptoError;
pub use jwk::jwk_thumbprint;
pub use mac::MacKey;
pub use password::{MAX_PASSWORD_BYTES, PasswordHasher};
pub use signing::{JwsHeader, SigningAlg, SigningKeyPair, jws_header_unverified, verify_jws, verify_p256_der};
pub use tokens::{constant_time_eq, random_bytes, random_token, sha256, token_digest};

#[cfg(test)]
mod tests {
    /// Callers share these across tasks (for example in `web::Data`).
    #[test]
    fn shared_types_are_send_and_sync() {
        fn assert_send_sync<T: Send + Sync + 'static>() {}
        assert_send_sync::<crate::SigningKeyPair>();
        assert_send_sync::<crate::Cipher>();
        assert_send_sync::<crate::MasterKey>();
        assert_send_sync::<crate::PasswordHasher>();
        assert_send_sync::<crate::CryptoError>();
    }
}
