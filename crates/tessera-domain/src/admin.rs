//! What the operators' admin page keeps: client changes under maker-checker, and one-time
//! enrolment links for new operators.

use crate::macros::string_enum;
use crate::{ChangeId, CitizenId, ClientId, Role, UnixTime, Username};

string_enum! {
    /// What a client change does.
    pub enum ChangeKind ("change kind") {
        /// A new client: it stays disabled until approved.
        Create => "create",
        /// New redirect URIs, post-logout URIs or scopes for an existing client.
        Update => "update",
    }
}

string_enum! {
    /// Where a client change stands.
    pub enum ChangeStatus ("change status") {
        Pending => "pending",
        Approved => "approved",
        Rejected => "rejected",
    }
}

/// A change to a department client proposed by one operator (the maker) and approved or
/// rejected by another (the checker).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientChange {
    pub id: ChangeId,
    pub client_id: ClientId,
    pub kind: ChangeKind,
    /// JSON of the settings the change gives the client.
    pub proposal: String,
    /// JSON of the same settings before the change (`{}` for a new client).
    pub previous: String,
    pub proposed_by: CitizenId,
    pub proposed_at: UnixTime,
    pub status: ChangeStatus,
    pub decided_by: Option<CitizenId>,
    pub decided_at: Option<UnixTime>,
}

/// A one-time link that lets a new operator create their account with a passkey. Only the
/// SHA-256 of the link's token is kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Enrolment {
    pub digest: [u8; 32],
    pub username: Username,
    pub name_en: String,
    pub role: Role,
    /// The operator who invited (`None` from the command line).
    pub created_by: Option<CitizenId>,
    pub created_at: UnixTime,
    pub expires_at: UnixTime,
    pub used_at: Option<UnixTime>,
    /// The account the link created, once used.
    pub citizen_id: Option<CitizenId>,
}
