//! Checking the authorization response that Tessera sends the browser back with
//! (`/callback?code=…&state=…&iss=…`), before anything is sent to Tessera.

use openidconnect::{AuthorizationCode, CsrfToken, IssuerUrl};

use crate::error::PortalError;

/// Longest `error_description` shown on the page.
const MAX_DESCRIPTION_CHARS: usize = 300;

/// The parameters of an authorization response, each at most once (RFC 6749 §3.1).
#[derive(Debug, Default, PartialEq, Eq)]
pub struct CallbackParams {
    pub code: Option<String>,
    pub state: Option<String>,
    pub iss: Option<String>,
    pub error: Option<String>,
    pub error_description: Option<String>,
}

impl CallbackParams {
    /// Parses a query string. Unknown parameters are ignored; a repeated one is an error.
    pub fn parse(query: &str) -> Result<Self, PortalError> {
        let mut params = Self::default();
        for (name, value) in url::form_urlencoded::parse(query.as_bytes()) {
            let slot = match name.as_ref() {
                "code" => &mut params.code,
                "state" => &mut params.state,
                "iss" => &mut params.iss,
                "error" => &mut params.error,
                "error_description" => &mut params.error_description,
                _ => continue,
            };
            if slot.replace(value.into_owned()).is_some() {
                return Err(PortalError::MalformedResponse("a parameter is repeated"));
            }
        }
        Ok(params)
    }
}

/// Checks the response against the pending sign-in, in this order: `state` (so that nobody can
/// plant a response in this browser), `iss` (RFC 9207 mix-up defence; required when the provider
/// advertises `authorization_response_iss_parameter_supported`), then `error`, then `code`.
pub fn check(
    params: CallbackParams,
    expected_state: &CsrfToken,
    issuer: &IssuerUrl,
    iss_required: bool,
) -> Result<AuthorizationCode, PortalError> {
    let state = params.state.ok_or(PortalError::StateMismatch)?;
    if !constant_time_eq(state.as_bytes(), expected_state.secret().as_bytes()) {
        return Err(PortalError::StateMismatch);
    }
    match params.iss {
        Some(iss) if iss != issuer.as_str() => return Err(PortalError::IssuerMismatch("differs from the issuer")),
        None if iss_required => return Err(PortalError::IssuerMismatch("missing although advertised")),
        _ => {}
    }
    if let Some(error) = params.error {
        let description = params.error_description.map(|d| d.chars().take(MAX_DESCRIPTION_CHARS).collect());
        return Err(PortalError::Authorization { error: error.chars().take(64).collect(), description });
    }
    match params.code {
        Some(code) if !code.is_empty() => Ok(AuthorizationCode::new(code)),
        _ => Err(PortalError::MalformedResponse("no code")),
    }
}

/// Compares two secrets without an early exit on the first differing byte.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    #![expect(clippy::unwrap_used, clippy::panic, reason = "tests fail loudly")]

    use super::*;

    fn issuer() -> IssuerUrl {
        IssuerUrl::new("http://localhost:8080".into()).unwrap()
    }

    fn state() -> CsrfToken {
        CsrfToken::new("the-state".into())
    }

    fn run(query: &str, iss_required: bool) -> Result<AuthorizationCode, PortalError> {
        check(CallbackParams::parse(query)?, &state(), &issuer(), iss_required)
    }

    #[test]
    fn a_good_response_yields_the_code() {
        let code = run("code=abc&state=the-state&iss=http%3A%2F%2Flocalhost%3A8080", true).unwrap();
        assert_eq!(code.secret(), "abc");
        assert!(run("code=abc&state=the-state&extra=1", false).is_ok(), "iss is optional unless advertised");
    }

    #[test]
    fn state_is_checked_first() {
        assert!(matches!(run("code=abc&state=other", false), Err(PortalError::StateMismatch)));
        assert!(matches!(run("code=abc", false), Err(PortalError::StateMismatch)));
        assert!(matches!(run("error=access_denied&state=forged", false), Err(PortalError::StateMismatch)));
    }

    #[test]
    fn issuer_mix_up_is_refused() {
        let evil = "code=abc&state=the-state&iss=https%3A%2F%2Fevil.example";
        assert!(matches!(run(evil, false), Err(PortalError::IssuerMismatch(_))));
        assert!(matches!(run("code=abc&state=the-state", true), Err(PortalError::IssuerMismatch(_))));
        let trailing_slash = "code=abc&state=the-state&iss=http%3A%2F%2Flocalhost%3A8080%2F";
        assert!(matches!(run(trailing_slash, false), Err(PortalError::IssuerMismatch(_))), "exact comparison");
    }

    #[test]
    fn error_responses_carry_the_error() {
        match run("error=login_required&error_description=Please+sign+in&state=the-state", false) {
            Err(PortalError::Authorization { error, description }) => {
                assert_eq!(error, "login_required");
                assert_eq!(description.as_deref(), Some("Please sign in"));
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn malformed_responses_are_refused() {
        assert!(matches!(run("code=a&code=b&state=the-state", false), Err(PortalError::MalformedResponse(_))));
        assert!(matches!(run("state=the-state", false), Err(PortalError::MalformedResponse(_))));
        assert!(matches!(run("code=&state=the-state", false), Err(PortalError::MalformedResponse(_))));
    }

    #[test]
    fn constant_time_eq_compares_content_and_length() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"abcd"));
    }
}
