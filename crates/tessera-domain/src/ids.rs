//! Identifier newtypes. Never pass a bare `String` or `Uuid` where one of these is meant.

use std::fmt;
use std::str::FromStr;

use crate::DomainError;
use crate::macros::uuid_id;

uuid_id!(
    /// A citizen's internal identifier. Never shown to clients as-is: `sub` is derived from it.
    CitizenId,
    "citizen id"
);
uuid_id!(
    /// The identifier of one registered passkey (ours, not the WebAuthn credential id).
    PasskeyId,
    "passkey id"
);
uuid_id!(
    /// The identifier of one consent record.
    ConsentId,
    "consent id"
);
uuid_id!(
    /// The identifier of one refresh token record.
    RefreshTokenId,
    "refresh token id"
);
uuid_id!(
    /// The grant (token family) identifier: shared by every refresh token rotated from one
    /// authorization grant and by the access tokens minted from it, so the whole family can
    /// be revoked at once.
    GrantId,
    "grant id"
);

uuid_id!(
    /// A proposed change to a department client, waiting for (or decided by) a second operator.
    ChangeId,
    "change id"
);

fn is_token_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '-' || c == '_'
}

/// An OAuth client identifier: 1 to 64 characters of `[A-Za-z0-9_-]`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ClientId(String);

impl ClientId {
    /// The longest accepted client id.
    pub const MAX_LEN: usize = 64;

    /// Parses a client id exactly as given (no trimming, case preserved).
    pub fn parse(s: &str) -> Result<Self, DomainError> {
        const WHAT: &str = "client id";
        if s.is_empty() || s.len() > Self::MAX_LEN {
            return Err(DomainError::invalid(WHAT, "must be 1 to 64 characters"));
        }
        if !s.chars().all(is_token_char) {
            return Err(DomainError::invalid(WHAT, "may contain only A-Z, a-z, 0-9, '-' and '_'"));
        }
        Ok(Self(s.to_owned()))
    }

    /// The client id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A JSON Web Key identifier (`kid`): 1 to 128 characters of `[A-Za-z0-9._-]`, so it is safe
/// in a JOSE header, a URL and a log line.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Kid(String);

impl Kid {
    /// The longest accepted key id.
    pub const MAX_LEN: usize = 128;

    /// Parses a key id exactly as given.
    pub fn parse(s: &str) -> Result<Self, DomainError> {
        const WHAT: &str = "key id";
        if s.is_empty() || s.len() > Self::MAX_LEN {
            return Err(DomainError::invalid(WHAT, "must be 1 to 128 characters"));
        }
        if !s.chars().all(|c| is_token_char(c) || c == '.') {
            return Err(DomainError::invalid(WHAT, "may contain only A-Z, a-z, 0-9, '.', '-' and '_'"));
        }
        Ok(Self(s.to_owned()))
    }

    /// The key id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

macro_rules! string_newtype_impls {
    ($name:ident) => {
        impl FromStr for $name {
            type Err = DomainError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::parse(s)
            }
        }
        impl TryFrom<String> for $name {
            type Error = DomainError;
            fn try_from(s: String) -> Result<Self, Self::Error> {
                Self::parse(&s)
            }
        }
        impl From<$name> for String {
            fn from(v: $name) -> String {
                v.0
            }
        }
        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

string_newtype_impls!(ClientId);
string_newtype_impls!(Kid);

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    #[test]
    fn uuid_ids_round_trip_through_text() {
        let id = CitizenId::generate();
        let text = id.to_string();
        assert_eq!(text.len(), 36);
        assert_eq!(CitizenId::parse(&text).unwrap(), id);
        assert_eq!(text.parse::<CitizenId>().unwrap(), id);
        assert_ne!(PasskeyId::generate(), PasskeyId::generate());
    }

    #[test]
    fn uuid_ids_reject_garbage() {
        for bad in ["", "not-a-uuid", "1234", "00000000-0000-0000-0000-00000000000g"] {
            let err = ConsentId::parse(bad).unwrap_err();
            assert_eq!(err.what, "consent id");
        }
        assert!(RefreshTokenId::parse("zzz").is_err());
        assert!(GrantId::parse("").is_err());
    }

    #[test]
    fn ids_serialize_as_validated_strings() {
        let id = PasskeyId::generate();
        let json = serde_json::to_string(&id).unwrap();
        assert_eq!(json, format!("\"{id}\""));
        assert_eq!(serde_json::from_str::<PasskeyId>(&json).unwrap(), id);
        let client: ClientId = serde_json::from_str("\"portal\"").unwrap();
        assert_eq!(client.as_str(), "portal");
        assert!(serde_json::from_str::<ClientId>("\"not valid\"").is_err());
    }

    #[test]
    fn client_id_accepts_token_characters() {
        for good in ["a", "portal", "Dept-Portal_2", &"x".repeat(64)] {
            assert_eq!(ClientId::parse(good).unwrap().as_str(), good);
        }
    }

    #[test]
    fn client_id_rejects_other_characters_and_lengths() {
        for bad in ["", &"x".repeat(65), "has space", "dot.ted", "slash/", "ümlaut", " lead", "a\n"] {
            let err = ClientId::parse(bad).unwrap_err();
            assert_eq!(err.what, "client id", "{bad:?}");
        }
    }

    #[test]
    fn kid_accepts_dots_and_rejects_specials() {
        assert!(Kid::parse("2026-11-29.rs256_a").is_ok());
        assert!(Kid::parse(&"k".repeat(128)).is_ok());
        for bad in ["", &"k".repeat(129), "a b", "a/b", "a\"b", "a+b"] {
            assert!(Kid::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn string_ids_convert_both_ways() {
        let id: ClientId = "portal".parse().unwrap();
        assert_eq!(id.to_string(), "portal");
        assert_eq!(String::from(id.clone()), "portal");
        assert_eq!(ClientId::try_from("portal".to_owned()).unwrap(), id);
        assert!(ClientId::try_from("no way".to_owned()).is_err());
    }
}
