//! Tessera's vocabulary: identifiers, parsed value types and the entities the store keeps.
//!
//! Everything here is plain data with no I/O and no async. Raw strings become types at the
//! edge through `parse` (or `FromStr`), so code that holds a [`Username`], [`Email`] or
//! [`ClientId`] holds a valid one. Parse errors are [`DomainError`]s, which name the field
//! that was invalid and why, but never repeat the value (it may be personal data).

mod acr;
mod admin;
mod audit;
mod citizen;
mod client;
mod consent;
mod error;
mod ids;
mod key;
mod macros;
mod passkey;
mod person;
mod time;
mod token;

pub use acr::{ACR_PASSKEY, ACR_PASSWORD, ACR_VALUES, acr_level, weakest_level};
pub use admin::{ChangeKind, ChangeStatus, ClientChange, Enrolment};
pub use audit::{AuditEvent, AuditKind, Outcome};
pub use citizen::{Citizen, CitizenStatus, PasswordCredential, Profile, Role};
pub use client::{Client, SubjectType, TokenEndpointAuthMethod};
pub use consent::Consent;
pub use error::DomainError;
pub use ids::{ChangeId, CitizenId, ClientId, ConsentId, GrantId, Kid, PasskeyId, RefreshTokenId};
pub use key::{KeyState, SigningKeyRecord};
pub use passkey::{CredentialId, PasskeyRecord};
pub use person::{Birthdate, Email, Gender, Phone, Username};
pub use time::{Clock, FixedClock, SystemClock, UnixTime};
pub use token::RefreshTokenRecord;
