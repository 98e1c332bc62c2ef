//! Citizens, their profile claims and their password credential.

use std::fmt;

use crate::macros::string_enum;
use crate::{Birthdate, CitizenId, Email, Gender, Phone, UnixTime, Username};

string_enum! {
    /// Whether a citizen may sign in.
    pub enum CitizenStatus ("citizen status") {
        /// May sign in.
        Active => "active",
        /// May not sign in; existing sessions and tokens should be ended by the caller.
        Disabled => "disabled",
    }
}

string_enum! {
    /// A privilege beyond being a citizen.
    pub enum Role ("role") {
        /// May use the operator console (clients, keys, audit).
        Operator => "operator",
    }
}

/// A citizen's account. Profile claims live in [`Profile`], credentials elsewhere.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Citizen {
    pub id: CitizenId,
    pub username: Username,
    pub status: CitizenStatus,
    /// Distinct roles; order carries no meaning.
    pub roles: Vec<Role>,
    pub created_at: UnixTime,
    pub updated_at: UnixTime,
}

impl Citizen {
    /// A new active citizen with a fresh id and no roles, created at `now`.
    pub fn new(username: Username, now: UnixTime) -> Self {
        Self {
            id: CitizenId::generate(),
            username,
            status: CitizenStatus::Active,
            roles: Vec::new(),
            created_at: now,
            updated_at: now,
        }
    }

    /// Whether the citizen holds `role`.
    pub fn has_role(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }
}

/// The claims Tessera can release about a citizen, with consent.
///
/// `Debug` prints only which fields are present, never their values.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Profile {
    /// Name in English, as on the identity card.
    pub name_en: String,
    /// Name in Chinese, if the citizen has one.
    pub name_zh: Option<String>,
    pub birthdate: Option<Birthdate>,
    pub gender: Gender,
    pub email: Option<Email>,
    pub email_verified: bool,
    pub phone: Option<Phone>,
    pub phone_verified: bool,
    pub residential_address: Option<String>,
    pub postal_address: Option<String>,
    /// The HKID number sealed (encrypted) by the caller with tessera-crypto. The plaintext
    /// never passes through this type.
    pub hkid_sealed: Option<Vec<u8>>,
}

impl Profile {
    /// A profile with only the English name; everything else absent, unverified, undisclosed.
    pub fn new(name_en: impl Into<String>) -> Self {
        Self { name_en: name_en.into(), ..Self::default() }
    }
}

impl fmt::Debug for Profile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const HIDDEN: &str = "<redacted>";
        let present = |b: bool| if b { HIDDEN } else { "None" };
        f.debug_struct("Profile")
            .field("name_en", &HIDDEN)
            .field("name_zh", &present(self.name_zh.is_some()))
            .field("birthdate", &present(self.birthdate.is_some()))
            .field("gender", &HIDDEN)
            .field("email", &present(self.email.is_some()))
            .field("email_verified", &self.email_verified)
            .field("phone", &present(self.phone.is_some()))
            .field("phone_verified", &self.phone_verified)
            .field("residential_address", &present(self.residential_address.is_some()))
            .field("postal_address", &present(self.postal_address.is_some()))
            .field("hkid_sealed", &present(self.hkid_sealed.is_some()))
            .finish()
    }
}

/// A citizen's password hash, in PHC string form (Argon2id). `Debug` hides the hash.
#[derive(Clone, PartialEq, Eq)]
pub struct PasswordCredential {
    pub citizen_id: CitizenId,
    /// `$argon2id$v=19$m=...,t=...,p=...$salt$hash`.
    pub phc: String,
    pub created_at: UnixTime,
    pub updated_at: UnixTime,
}

impl fmt::Debug for PasswordCredential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PasswordCredential")
            .field("citizen_id", &self.citizen_id)
            .field("phc", &"<redacted>")
            .field("created_at", &self.created_at)
            .field("updated_at", &self.updated_at)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    #[test]
    fn status_and_role_round_trip() {
        for s in CitizenStatus::ALL {
            assert_eq!(s.as_str().parse::<CitizenStatus>().unwrap(), *s);
        }
        assert_eq!("operator".parse::<Role>().unwrap(), Role::Operator);
        let err = "admin".parse::<Role>().unwrap_err();
        assert_eq!(err.what, "role");
        assert!("Active".parse::<CitizenStatus>().is_err());
        assert!("".parse::<CitizenStatus>().is_err());
    }

    #[test]
    fn new_citizen_is_active_without_roles() {
        let now = UnixTime::from_secs(10);
        let c = Citizen::new(Username::parse("chan.tai.man").unwrap(), now);
        assert_eq!(c.status, CitizenStatus::Active);
        assert!(!c.has_role(Role::Operator));
        assert_eq!((c.created_at, c.updated_at), (now, now));
    }

    #[test]
    fn profile_debug_reveals_no_values() {
        let p = Profile {
            name_zh: Some("陳大文".into()),
            email: Some(Email::parse("tai.man@example.com").unwrap()),
            residential_address: Some("1 Queen's Road".into()),
            hkid_sealed: Some(vec![1, 2, 3]),
            ..Profile::new("CHAN, Tai Man")
        };
        let text = format!("{p:?}");
        for secret in ["CHAN", "陳", "tai.man", "Queen", "[1, 2, 3]"] {
            assert!(!text.contains(secret), "{text}");
        }
        assert!(text.contains("postal_address: \"None\""));
    }

    #[test]
    fn password_debug_hides_the_hash() {
        let c = PasswordCredential {
            citizen_id: CitizenId::generate(),
            phc: "$argon2id$v=19$secret".into(),
            created_at: UnixTime::EPOCH,
            updated_at: UnixTime::EPOCH,
        };
        assert!(!format!("{c:?}").contains("argon2id"));
    }
}
