//! Scopes (RFC 6749 §3.3): a space-delimited, order-free set of scope tokens.

use std::collections::BTreeSet;
use std::fmt;

use crate::error::OAuthError;

/// Every scope Tessera knows (OIDC Core §5.4 plus `offline_access` of §11 and the Hong Kong
/// identity scope). Published as `scopes_supported`.
pub const SUPPORTED_SCOPES: [&str; 7] =
    ["openid", "profile", "email", "phone", "address", "offline_access", "hk_identity"];

/// The scope that makes an OAuth request an OpenID Connect one (OIDC Core §3.1.2.1).
pub const OPENID: &str = "openid";

/// The scope that asks for a refresh token (OIDC Core §11).
pub const OFFLINE_ACCESS: &str = "offline_access";

/// The longest `scope` value accepted, in bytes: a bound on hostile input.
pub const MAX_SCOPE_LEN: usize = 2048;

/// Whether `scope` is one of [`SUPPORTED_SCOPES`].
#[must_use]
pub fn is_supported(scope: &str) -> bool {
    SUPPORTED_SCOPES.contains(&scope)
}

/// RFC 6749 §3.3: `scope-token = 1*( %x21 / %x23-5B / %x5D-7E )`.
fn is_scope_token(token: &str) -> bool {
    !token.is_empty() && token.bytes().all(|b| matches!(b, 0x21 | 0x23..=0x5b | 0x5d..=0x7e))
}

/// A set of valid scope tokens, sorted and without duplicates.
///
/// Serialises as the space-separated string and deserialises through [`ScopeSet::parse`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ScopeSet(BTreeSet<String>);

impl ScopeSet {
    /// Parses a `scope` value: tokens separated by spaces (RFC 6749 §3.3). Runs of spaces are
    /// tolerated; an empty string is the empty set. A token with a character outside the
    /// scope-token set (control characters, tabs, `"`, `\`, non-ASCII), or a value longer than
    /// [`MAX_SCOPE_LEN`], is `invalid_scope`.
    pub fn parse(s: &str) -> Result<Self, OAuthError> {
        if s.len() > MAX_SCOPE_LEN {
            return Err(OAuthError::invalid_scope("scope is too long"));
        }
        let mut set = BTreeSet::new();
        for token in s.split(' ').filter(|t| !t.is_empty()) {
            if !is_scope_token(token) {
                return Err(OAuthError::invalid_scope("scope contains a character not allowed in a scope token"));
            }
            set.insert(token.to_owned());
        }
        Ok(Self(set))
    }

    /// The empty set.
    #[must_use]
    pub fn empty() -> Self {
        Self::default()
    }

    /// Whether `scope` is in the set.
    #[must_use]
    pub fn contains(&self, scope: &str) -> bool {
        self.0.contains(scope)
    }

    /// Whether every scope of `self` is in `other` (RFC 6749 §6: a refresh may not widen).
    #[must_use]
    pub fn is_subset(&self, other: &ScopeSet) -> bool {
        self.0.is_subset(&other.0)
    }

    /// The scopes in both sets.
    #[must_use]
    pub fn intersection(&self, other: &ScopeSet) -> ScopeSet {
        Self(self.0.intersection(&other.0).cloned().collect())
    }

    /// The scopes, in sorted order.
    pub fn iter(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(String::as_str)
    }

    /// Whether the set is empty.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// How many scopes the set holds.
    #[must_use]
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// The set without the scopes Tessera does not know. RFC 6749 §3.3 lets the server ignore
    /// them (and the issued scope then differs from the requested one).
    #[must_use]
    pub fn supported_only(&self) -> ScopeSet {
        Self(self.0.iter().filter(|s| is_supported(s)).cloned().collect())
    }

    /// The scopes of `self` that are in `allowed` (for example a client's allowed scopes).
    #[must_use]
    pub fn restricted_to(&self, allowed: &[String]) -> ScopeSet {
        Self(self.0.iter().filter(|s| allowed.contains(s)).cloned().collect())
    }
}

impl fmt::Display for ScopeSet {
    /// The scopes joined by single spaces, in sorted order.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, s) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(" ")?;
            }
            f.write_str(s)?;
        }
        Ok(())
    }
}

impl TryFrom<String> for ScopeSet {
    type Error = OAuthError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<ScopeSet> for String {
    fn from(s: ScopeSet) -> String {
        s.to_string()
    }
}

impl std::str::FromStr for ScopeSet {
    type Err = OAuthError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

#[cfg(test)]
#[path = "scope_tests.rs"]
mod tests;
