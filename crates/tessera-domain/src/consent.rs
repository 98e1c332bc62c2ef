//! A citizen's consent to share data with a client.

use crate::{CitizenId, ClientId, ConsentId, UnixTime};

/// What a citizen agreed to share with one client. At most one consent per citizen and client
/// is live (`revoked_at` is `None`); a new grant supersedes the previous one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Consent {
    pub id: ConsentId,
    pub citizen_id: CitizenId,
    pub client_id: ClientId,
    /// Granted scopes.
    pub scopes: Vec<String>,
    /// Claims the citizen left selected (optional claims may be deselected).
    pub claims: Vec<String>,
    pub granted_at: UnixTime,
    /// When the citizen revoked it, or a later grant superseded it.
    pub revoked_at: Option<UnixTime>,
    /// When the client last received the citizen's data under it (to the minute).
    pub last_shared_at: Option<UnixTime>,
}

impl Consent {
    /// Whether this consent is still in force.
    pub fn is_live(&self) -> bool {
        self.revoked_at.is_none()
    }
}
