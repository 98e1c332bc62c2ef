//! Token signing keys as stored.

use std::fmt;

use crate::macros::string_enum;
use crate::{Kid, UnixTime};

string_enum! {
    /// Where a signing key is in its life: published ahead (`next`), signing (`active`), or
    /// kept only so tokens it signed still verify (`retired`). Per algorithm there is at most one
    /// `next` and one `active` key.
    pub enum KeyState ("key state") {
        Next => "next",
        Active => "active",
        Retired => "retired",
    }
}

/// A signing key. The private key is sealed (AEAD) by tessera-crypto before it gets here.
/// `Debug` shows the sealed key's length only.
#[derive(Clone, PartialEq, Eq)]
pub struct SigningKeyRecord {
    pub kid: Kid,
    /// JWS algorithm (`RS256`, `ES256`, `EdDSA`).
    pub alg: String,
    pub state: KeyState,
    pub private_key_sealed: Vec<u8>,
    /// The public key as a JWK, JSON text.
    pub public_jwk: String,
    pub created_at: UnixTime,
    pub activated_at: Option<UnixTime>,
    pub retired_at: Option<UnixTime>,
}

impl fmt::Debug for SigningKeyRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningKeyRecord")
            .field("kid", &self.kid)
            .field("alg", &self.alg)
            .field("state", &self.state)
            .field("private_key_sealed", &format_args!("<{} bytes>", self.private_key_sealed.len()))
            .field("public_jwk", &self.public_jwk)
            .field("created_at", &self.created_at)
            .field("activated_at", &self.activated_at)
            .field("retired_at", &self.retired_at)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    #[test]
    fn key_states_round_trip() {
        for s in KeyState::ALL {
            assert_eq!(s.as_str().parse::<KeyState>().unwrap(), *s);
        }
        assert!("expired".parse::<KeyState>().is_err());
        assert!("ACTIVE".parse::<KeyState>().is_err());
    }

    #[test]
    fn debug_hides_the_sealed_key() {
        let k = SigningKeyRecord {
            kid: Kid::parse("k1").unwrap(),
            alg: "ES256".into(),
            state: KeyState::Next,
            private_key_sealed: vec![0xAB; 48],
            public_jwk: "{}".into(),
            created_at: UnixTime::EPOCH,
            activated_at: None,
            retired_at: None,
        };
        let text = format!("{k:?}");
        assert!(text.contains("<48 bytes>"));
        assert!(!text.contains("171"));
    }
}
