//! Refresh tokens as stored: only a digest of the token, never the token.

use crate::{CitizenId, ClientId, GrantId, RefreshTokenId, UnixTime};

/// One refresh token. The token itself is shown once to the client; Tessera keeps its digest.
/// Using a token rotates it (`rotated_at`); presenting a rotated token again is reuse, which
/// revokes its whole family.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefreshTokenRecord {
    pub id: RefreshTokenId,
    /// SHA-256 of the token. Unique.
    pub digest: Vec<u8>,
    /// The grant this token descends from; shared by all its rotations.
    pub family_id: GrantId,
    pub client_id: ClientId,
    pub citizen_id: Option<CitizenId>,
    /// Space-separated granted scope.
    pub scope: String,
    /// The SSO session it was issued under, if any.
    pub session_id: Option<String>,
    /// When the citizen authenticated.
    pub auth_time: Option<UnixTime>,
    pub issued_at: UnixTime,
    pub expires_at: UnixTime,
    pub rotated_at: Option<UnixTime>,
    pub revoked_at: Option<UnixTime>,
    /// The assurance level reached when the grant was made.
    pub acr: Option<String>,
    /// The authentication methods used (RFC 8176).
    pub amr: Vec<String>,
    /// The claims the citizen consented to release under this grant.
    pub claims: Vec<String>,
}

impl RefreshTokenRecord {
    /// Whether the token may be redeemed at `now`: not expired, rotated or revoked.
    pub fn is_usable_at(&self, now: UnixTime) -> bool {
        now < self.expires_at && self.rotated_at.is_none() && self.revoked_at.is_none()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    #[test]
    fn usable_only_before_expiry_and_when_untouched() {
        let mut t = RefreshTokenRecord {
            id: RefreshTokenId::generate(),
            digest: vec![1; 32],
            family_id: GrantId::generate(),
            client_id: ClientId::parse("portal").unwrap(),
            citizen_id: None,
            scope: "openid".into(),
            session_id: None,
            auth_time: None,
            issued_at: UnixTime::from_secs(0),
            expires_at: UnixTime::from_secs(100),
            rotated_at: None,
            revoked_at: None,
            acr: None,
            amr: vec![],
            claims: vec![],
        };
        assert!(t.is_usable_at(UnixTime::from_secs(99)));
        assert!(!t.is_usable_at(UnixTime::from_secs(100)));
        t.rotated_at = Some(UnixTime::from_secs(50));
        assert!(!t.is_usable_at(UnixTime::from_secs(60)));
    }
}
