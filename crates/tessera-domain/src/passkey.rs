//! Registered passkeys.

use crate::{CitizenId, DomainError, PasskeyId, UnixTime};

/// A WebAuthn credential id: 1 to 1023 bytes (the WebAuthn Level 3 limit). Unique across all
/// citizens: one authenticator credential belongs to one account.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CredentialId(Vec<u8>);

impl CredentialId {
    /// The longest credential id WebAuthn allows.
    pub const MAX_LEN: usize = 1023;

    /// Accepts the raw credential id bytes if their length is 1 to 1023.
    pub fn new(bytes: Vec<u8>) -> Result<Self, DomainError> {
        if bytes.is_empty() || bytes.len() > Self::MAX_LEN {
            return Err(DomainError::invalid("credential id", "must be 1 to 1023 bytes"));
        }
        Ok(Self(bytes))
    }

    /// The raw bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// The raw bytes, owned.
    pub fn into_bytes(self) -> Vec<u8> {
        self.0
    }
}

impl TryFrom<Vec<u8>> for CredentialId {
    type Error = DomainError;
    fn try_from(bytes: Vec<u8>) -> Result<Self, Self::Error> {
        Self::new(bytes)
    }
}

impl AsRef<[u8]> for CredentialId {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

/// One passkey registered to a citizen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasskeyRecord {
    pub id: PasskeyId,
    pub citizen_id: CitizenId,
    pub credential_id: CredentialId,
    /// The webauthn-rs `Passkey` serialised as JSON; opaque to everything but tessera-passkey.
    pub passkey_json: String,
    /// The citizen's label for it ("iPhone", "YubiKey").
    pub name: String,
    /// The authenticator's signature counter as last seen (0 for authenticators without one).
    pub sign_count: u32,
    pub backup_eligible: bool,
    pub backup_state: bool,
    /// WebAuthn transport hints (`internal`, `hybrid`, `usb`, ...), as reported.
    pub transports: Vec<String>,
    pub created_at: UnixTime,
    pub last_used_at: Option<UnixTime>,
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    #[test]
    fn credential_id_length_is_bounded() {
        assert_eq!(CredentialId::new(vec![7]).unwrap().as_bytes(), &[7]);
        assert_eq!(CredentialId::new(vec![0; 1023]).unwrap().into_bytes().len(), 1023);
        let err = CredentialId::new(vec![0; 1024]).unwrap_err();
        assert_eq!(err.what, "credential id");
        assert!(CredentialId::new(Vec::new()).is_err());
        assert!(CredentialId::try_from(vec![0; 5000]).is_err());
    }
}
