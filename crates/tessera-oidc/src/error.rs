//! Protocol errors, shaped as the RFCs define them.
//!
//! Every error Tessera returns to a client carries one [`ErrorCode`] from RFC 6749 §4.1.2.1 and
//! §5.2, OIDC Core §3.1.2.6, RFC 6750 §3.1 or RFC 7009 §2.2.1, plus an optional
//! `error_description`. The description is sanitised when the error is built, so no code path
//! can put a quote, a backslash or a non-ASCII character into a redirect or a JSON body
//! (RFC 6749 §4.1.2.1: `error_description = *( %x20-21 / %x23-5B / %x5D-7E )`).
//!
//! Mapping an error to an HTTP status and headers is the web layer's job.

use std::fmt;

use serde_json::{Map, Value};

macro_rules! error_codes {
    ($( $(#[$m:meta])* $variant:ident => $text:literal, $ctor:ident; )+) => {
        /// An OAuth 2.0 / OpenID Connect error code.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum ErrorCode {
            $( $(#[$m])* $variant, )+
        }

        impl ErrorCode {
            /// Every code, in declaration order.
            pub const ALL: &'static [ErrorCode] = &[$(ErrorCode::$variant),+];

            /// The code as it appears in the `error` parameter.
            #[must_use]
            pub const fn as_str(self) -> &'static str {
                match self {
                    $( ErrorCode::$variant => $text, )+
                }
            }
        }

        impl OAuthError {
            $(
                #[doc = concat!("An `", $text, "` error with a (sanitised) description.")]
                #[must_use]
                pub fn $ctor(description: impl AsRef<str>) -> Self {
                    Self::new(ErrorCode::$variant, description)
                }
            )+
        }
    };
}

error_codes! {
    /// RFC 6749 §4.1.2.1, §5.2: missing, repeated or malformed parameter.
    InvalidRequest => "invalid_request", invalid_request;
    /// RFC 6749 §4.1.2.1, §5.2: the client may not use this grant or response type.
    UnauthorizedClient => "unauthorized_client", unauthorized_client;
    /// RFC 6749 §4.1.2.1: the citizen or the server denied the request.
    AccessDenied => "access_denied", access_denied;
    /// RFC 6749 §4.1.2.1: only `code` is supported.
    UnsupportedResponseType => "unsupported_response_type", unsupported_response_type;
    /// RFC 6749 §4.1.2.1, §5.2: the scope is invalid, unknown or exceeds what was granted.
    InvalidScope => "invalid_scope", invalid_scope;
    /// RFC 6749 §4.1.2.1: an unexpected condition on the server.
    ServerError => "server_error", server_error;
    /// RFC 6749 §4.1.2.1: overloaded or in maintenance.
    TemporarilyUnavailable => "temporarily_unavailable", temporarily_unavailable;
    /// OIDC Core §3.1.2.6: `prompt=none` but some interaction is needed.
    InteractionRequired => "interaction_required", interaction_required;
    /// OIDC Core §3.1.2.6: `prompt=none` but the citizen is not signed in.
    LoginRequired => "login_required", login_required;
    /// OIDC Core §3.1.2.6: `prompt=none` but an account must be chosen.
    AccountSelectionRequired => "account_selection_required", account_selection_required;
    /// OIDC Core §3.1.2.6: `prompt=none` but consent is needed.
    ConsentRequired => "consent_required", consent_required;
    /// OIDC Core §3.1.2.6: the `request_uri` is invalid.
    InvalidRequestUri => "invalid_request_uri", invalid_request_uri;
    /// OIDC Core §3.1.2.6: the request object is invalid.
    InvalidRequestObject => "invalid_request_object", invalid_request_object;
    /// OIDC Core §3.1.2.6: the `request` parameter is not supported.
    RequestNotSupported => "request_not_supported", request_not_supported;
    /// OIDC Core §3.1.2.6: the `request_uri` parameter is not supported.
    RequestUriNotSupported => "request_uri_not_supported", request_uri_not_supported;
    /// OpenID Connect Core Unmet Authentication Requirements 1.0: the sign-in could not
    /// meet the requested authentication level (the citizen has no passkey, or gave up).
    UnmetAuthenticationRequirements => "unmet_authentication_requirements", unmet_authentication_requirements;
    /// RFC 6749 §5.2: client authentication failed.
    InvalidClient => "invalid_client", invalid_client;
    /// RFC 6749 §5.2: the code or refresh token is invalid, expired, revoked or another client's.
    InvalidGrant => "invalid_grant", invalid_grant;
    /// RFC 6749 §5.2: the grant type is not supported.
    UnsupportedGrantType => "unsupported_grant_type", unsupported_grant_type;
    /// RFC 6750 §3.1: the access token is expired, revoked, malformed or invalid.
    InvalidToken => "invalid_token", invalid_token;
    /// RFC 6750 §3.1: the access token lacks the scope needed.
    InsufficientScope => "insufficient_scope", insufficient_scope;
    /// RFC 7009 §2.2.1: revocation of this token type is not supported.
    UnsupportedTokenType => "unsupported_token_type", unsupported_token_type;
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The longest `error_description` kept; longer ones are cut (they end up in URLs).
pub const MAX_DESCRIPTION_CHARS: usize = 256;

/// An error answered to a client: a code and an optional description.
///
/// The description is private so it can only be set through [`OAuthError::new`], which
/// sanitises it. `Display` is `code` or `code: description`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OAuthError {
    /// The error code.
    pub code: ErrorCode,
    description: Option<String>,
}

impl fmt::Display for OAuthError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.description {
            Some(d) => write!(f, "{}: {d}", self.code),
            None => f.write_str(self.code.as_str()),
        }
    }
}

impl std::error::Error for OAuthError {}

impl OAuthError {
    /// An error with `code` and `description`, sanitised by [`sanitize_description`]; a
    /// description that is empty after sanitising is dropped.
    #[must_use]
    pub fn new(code: ErrorCode, description: impl AsRef<str>) -> Self {
        let description = sanitize_description(description.as_ref());
        Self { code, description: (!description.is_empty()).then_some(description) }
    }

    /// An error with no description.
    #[must_use]
    pub const fn bare(code: ErrorCode) -> Self {
        Self { code, description: None }
    }

    /// The error code.
    #[must_use]
    pub const fn code(&self) -> ErrorCode {
        self.code
    }

    /// The sanitised description, if any.
    #[must_use]
    pub fn description(&self) -> Option<&str> {
        self.description.as_deref()
    }

    /// The JSON error body of RFC 6749 §5.2: `{"error": .., "error_description": ..}`, the
    /// description omitted when there is none.
    #[must_use]
    pub fn to_json(&self) -> Value {
        let mut body = Map::new();
        body.insert("error".to_owned(), Value::from(self.code.as_str()));
        if let Some(d) = &self.description {
            body.insert("error_description".to_owned(), Value::from(d.as_str()));
        }
        Value::Object(body)
    }
}

impl From<ErrorCode> for OAuthError {
    fn from(code: ErrorCode) -> Self {
        Self::bare(code)
    }
}

/// Makes `text` a valid `error_description` (RFC 6749 §4.1.2.1): `"` becomes `'`, `\` becomes
/// `/`, whitespace becomes a space, every other character outside `%x20-7E` becomes `?`; runs
/// of spaces collapse, the ends are trimmed, and the result is cut to
/// [`MAX_DESCRIPTION_CHARS`].
#[must_use]
pub fn sanitize_description(text: &str) -> String {
    let mut out = String::with_capacity(text.len().min(MAX_DESCRIPTION_CHARS));
    for c in text.chars() {
        let c = match c {
            '"' => '\'',
            '\\' => '/',
            c if c.is_whitespace() => ' ',
            ' '..='~' => c,
            _ => '?',
        };
        if c == ' ' && (out.is_empty() || out.ends_with(' ')) {
            continue;
        }
        if out.len() == MAX_DESCRIPTION_CHARS {
            break;
        }
        out.push(c);
    }
    out.truncate(out.trim_end().len());
    out
}

#[cfg(test)]
#[path = "error_tests.rs"]
mod tests;
