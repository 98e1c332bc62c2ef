//! Client authentication at the token, introspection and revocation endpoints
//! (RFC 6749 §2.3.1, OIDC Core §9): `client_secret_basic`, `client_secret_post`, or a public
//! client that only names itself (and proves possession with PKCE instead).

use std::fmt;

use base64::Engine as _;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use tessera_crypto::{constant_time_eq, token_digest};
use tessera_domain::{Client, ClientId, TokenEndpointAuthMethod};

use crate::error::OAuthError;

/// The longest client secret considered, in bytes (Tessera's are 43 characters).
pub const MAX_SECRET_LEN: usize = 512;
/// The longest `Authorization` header considered, in bytes.
const MAX_HEADER_LEN: usize = 2048;

/// Standard base64 (RFC 7617 §2), with or without padding.
const BASIC_B64: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// The credentials a request presented. `Debug` never shows the secret.
#[derive(Clone, PartialEq, Eq)]
pub struct PresentedClient {
    pub client_id: ClientId,
    pub secret: Option<String>,
    /// `client_secret_basic`, `client_secret_post`, or `none` for a public client.
    pub method: TokenEndpointAuthMethod,
    /// Whether the credentials came in the `Authorization` header: a failure must then be a
    /// 401 with `WWW-Authenticate: Basic` (RFC 6749 §5.2).
    pub via_header: bool,
}

impl fmt::Debug for PresentedClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PresentedClient")
            .field("client_id", &self.client_id)
            .field("secret", &self.secret.as_ref().map(|_| "<redacted>"))
            .field("method", &self.method)
            .field("via_header", &self.via_header)
            .finish()
    }
}

/// Reads the client credentials of a token, introspection or revocation request.
///
/// - `Authorization: Basic BASE64(id ":" secret)`, where id and secret were each
///   `application/x-www-form-urlencoded` before encoding (RFC 6749 §2.3.1) and are decoded
///   here: `client_secret_basic`. The scheme name is case-insensitive (RFC 7617 §2).
/// - `client_id` and `client_secret` in the form body: `client_secret_post`.
/// - `client_id` alone in the body: a public client (method `none`, no secret).
/// - nothing: `Ok(None)`.
///
/// Errors: both the header and a body `client_secret` (RFC 6749 §2.3: one method per request),
/// a body `client_id` different from the header's, a repeated `client_id` or `client_secret`,
/// or a `client_secret` without `client_id`: `invalid_request`. An `Authorization` header that
/// is not well-formed Basic credentials, or a client id that is not a valid [`ClientId`]:
/// `invalid_client`. (A failure when a header was sent must be answered with 401 and
/// `WWW-Authenticate`.)
pub fn client_credentials(
    authorization_header: Option<&str>,
    form: &[(String, String)],
) -> Result<Option<PresentedClient>, OAuthError> {
    let body_id = single(form, "client_id")?;
    let body_secret = single(form, "client_secret")?;

    if let Some(header) = authorization_header {
        if body_secret.is_some() {
            return Err(OAuthError::invalid_request("use one client authentication method, not two"));
        }
        let (id, secret) = parse_basic(header)?;
        if body_id.is_some_and(|b| b != id) {
            return Err(OAuthError::invalid_request("client_id differs from the authenticated client"));
        }
        return Ok(Some(PresentedClient {
            client_id: client_id(&id)?,
            secret: Some(secret),
            method: TokenEndpointAuthMethod::ClientSecretBasic,
            via_header: true,
        }));
    }

    match (body_id, body_secret) {
        (None, None) => Ok(None),
        (None, Some(_)) => Err(OAuthError::invalid_request("client_secret sent without client_id")),
        (Some(id), secret) => {
            if secret.is_some_and(|s| s.len() > MAX_SECRET_LEN) {
                return Err(OAuthError::invalid_client("client authentication failed"));
            }
            let method = if secret.is_some() {
                TokenEndpointAuthMethod::ClientSecretPost
            } else {
                TokenEndpointAuthMethod::None
            };
            Ok(Some(PresentedClient {
                client_id: client_id(id)?,
                secret: secret.map(str::to_owned),
                method,
                via_header: false,
            }))
        }
    }
}

/// The single non-empty value of `name`; empty counts as absent, repeated is `invalid_request`.
fn single<'a>(form: &'a [(String, String)], name: &str) -> Result<Option<&'a str>, OAuthError> {
    let mut found = form.iter().filter(|(k, _)| k == name);
    let first = found.next();
    if found.next().is_some() {
        return Err(OAuthError::invalid_request(format!("parameter {name} is repeated")));
    }
    Ok(first.map(|(_, v)| v.as_str()).filter(|v| !v.is_empty()))
}

fn client_id(id: &str) -> Result<ClientId, OAuthError> {
    ClientId::parse(id).map_err(|_| OAuthError::invalid_client("client authentication failed"))
}

/// Splits `Basic <credentials>` into the form-decoded client id and secret.
fn parse_basic(header: &str) -> Result<(String, String), OAuthError> {
    let malformed = || OAuthError::invalid_client("malformed Basic client credentials");
    if header.len() > MAX_HEADER_LEN {
        return Err(malformed());
    }
    let (scheme, credentials) = header.trim().split_once(' ').ok_or_else(malformed)?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return Err(OAuthError::invalid_client("only Basic client authentication is supported"));
    }
    let decoded = BASIC_B64.decode(credentials.trim_start()).map_err(|_| malformed())?;
    let decoded = String::from_utf8(decoded).map_err(|_| malformed())?;
    let (id, secret) = decoded.split_once(':').ok_or_else(malformed)?;
    let id = form_decode(id).ok_or_else(malformed)?;
    let secret = form_decode(secret).ok_or_else(malformed)?;
    if id.is_empty() || secret.is_empty() || secret.len() > MAX_SECRET_LEN {
        return Err(malformed());
    }
    Ok((id, secret))
}

/// Decodes one `application/x-www-form-urlencoded` component: `+` is a space, `%XX` a byte.
/// A `%` not followed by two hex digits, or bytes that are not UTF-8, give `None`.
fn form_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        match b {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = bytes.get(i + 1..i + 3)?;
                let hex = std::str::from_utf8(hex).ok()?;
                if !hex.bytes().all(|h| h.is_ascii_hexdigit()) {
                    return None;
                }
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 2;
            }
            _ => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).ok()
}

/// Authenticates `presented` as `client` (RFC 6749 §2.3.1, §3.2.1).
///
/// `invalid_client` when: the ids differ; the client is disabled; the method is not the one
/// the client is registered with (OIDC Core §9: `token_endpoint_auth_method`); a confidential
/// client presents no secret or has no stored digest; or `SHA-256(secret)` does not equal the
/// stored digest (compared in constant time). The error description never says which.
pub fn authenticate(client: &Client, presented: &PresentedClient) -> Result<(), OAuthError> {
    let failed = || OAuthError::invalid_client("client authentication failed");
    if presented.client_id != client.id || !client.enabled || presented.method != client.token_endpoint_auth_method {
        return Err(failed());
    }
    match client.token_endpoint_auth_method {
        TokenEndpointAuthMethod::None => {
            if presented.secret.is_some() {
                return Err(failed());
            }
            Ok(())
        }
        TokenEndpointAuthMethod::ClientSecretBasic | TokenEndpointAuthMethod::ClientSecretPost => {
            let presented_digest = token_digest(presented.secret.as_deref().unwrap_or_default());
            let matches = client.secret_digest.is_some_and(|stored| constant_time_eq(&presented_digest, &stored));
            if matches && presented.secret.is_some() { Ok(()) } else { Err(failed()) }
        }
    }
}

#[cfg(test)]
#[path = "client_auth_tests.rs"]
mod tests;
