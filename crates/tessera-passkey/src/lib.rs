//! tessera-passkey: the credential service. Citizens prove who they are with a passkey
//! (WebAuthn, arriving in its own issue) or, as a fallback, a password.
//!
//! [`password::PasswordService`] owns the password fallback: the policy, Argon2id hashing
//! on the bounded blocking pool, and verification that answers an unknown username with
//! the same work as a wrong password.

pub mod password;

pub use password::{CredentialError, PasswordService, PasswordVerdict};
