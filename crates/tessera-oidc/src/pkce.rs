//! Proof Key for Code Exchange (RFC 7636), `S256` only.
//!
//! RFC 9700 §2.1.1 forbids `plain` where `S256` is possible; Tessera supports only `S256`.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use tessera_crypto::{constant_time_eq, token_digest};

use crate::error::OAuthError;

/// The only supported `code_challenge_method`.
pub const S256: &str = "S256";

/// Length of an S256 code challenge: BASE64URL of a 32-byte SHA-256 digest, no padding.
pub const CHALLENGE_LEN: usize = 43;

/// Shortest and longest code verifier (RFC 7636 §4.1).
pub const VERIFIER_LEN: std::ops::RangeInclusive<usize> = 43..=128;

/// An `S256` code challenge from an authorization request.
///
/// Serialises as the challenge string and deserialises through the same format check.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct CodeChallenge(String);

/// RFC 7636 §4.1: `code-verifier = 43*128unreserved`, `unreserved = ALPHA / DIGIT / "-" / "." / "_" / "~"`.
fn is_valid_verifier(verifier: &str) -> bool {
    VERIFIER_LEN.contains(&verifier.len())
        && verifier.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
}

/// The S256 transformation (RFC 7636 §4.2): `BASE64URL-ENCODE(SHA256(ASCII(code_verifier)))`.
#[must_use]
pub fn s256(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(token_digest(verifier))
}

impl CodeChallenge {
    /// Reads `code_challenge` and `code_challenge_method` (RFC 7636 §4.3), where `None` means
    /// the parameter was absent.
    ///
    /// - no challenge and no method: `Ok(None)` (whether PKCE is required is the caller's rule);
    /// - a method without a challenge: `invalid_request`;
    /// - a challenge without a method: `invalid_request`, since an absent method means `plain`
    ///   (RFC 7636 §4.3), which Tessera refuses (RFC 9700 §2.1.1);
    /// - a method other than `S256` (`plain` included): `invalid_request`;
    /// - a challenge that is not exactly 43 characters of base64url encoding 32 bytes:
    ///   `invalid_request` (RFC 7636 §4.4.1).
    pub fn parse(challenge: Option<&str>, method: Option<&str>) -> Result<Option<CodeChallenge>, OAuthError> {
        match (challenge, method) {
            (None, None) => Ok(None),
            (None, Some(_)) => Err(OAuthError::invalid_request("code_challenge_method sent without code_challenge")),
            (Some(_), None) => {
                Err(OAuthError::invalid_request("code_challenge_method is missing (plain is not supported; use S256)"))
            }
            (Some(_), Some("plain")) => {
                Err(OAuthError::invalid_request("code_challenge_method plain is not supported; use S256"))
            }
            (Some(_), Some(m)) if m != S256 => {
                Err(OAuthError::invalid_request("code_challenge_method is not supported; use S256"))
            }
            (Some(c), Some(_)) => Self::from_s256(c).map(Some),
        }
    }

    fn from_s256(challenge: &str) -> Result<CodeChallenge, OAuthError> {
        let malformed = || OAuthError::invalid_request("code_challenge must be 43 characters of base64url (S256)");
        if challenge.len() != CHALLENGE_LEN {
            return Err(malformed());
        }
        // Strict decoding also refuses non-canonical final characters, which no digest produces.
        let bytes = URL_SAFE_NO_PAD.decode(challenge).map_err(|_| malformed())?;
        if bytes.len() != 32 {
            return Err(malformed());
        }
        Ok(CodeChallenge(challenge.to_owned()))
    }

    /// The challenge as sent.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The method, always `S256`.
    #[must_use]
    pub fn method(&self) -> &'static str {
        S256
    }

    /// Whether `verifier` proves this challenge (RFC 7636 §4.6): the verifier must be 43 to
    /// 128 characters of `[A-Za-z0-9-._~]` and `BASE64URL(SHA256(verifier))` must equal the
    /// challenge, compared in constant time.
    #[must_use]
    pub fn verify(&self, verifier: &str) -> bool {
        if !is_valid_verifier(verifier) {
            return false;
        }
        constant_time_eq(s256(verifier).as_bytes(), self.0.as_bytes())
    }
}

impl TryFrom<String> for CodeChallenge {
    type Error = OAuthError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::from_s256(&s)
    }
}

impl From<CodeChallenge> for String {
    fn from(c: CodeChallenge) -> String {
        c.0
    }
}

#[cfg(test)]
#[path = "pkce_tests.rs"]
mod tests;
