//! Authorization responses: the redirect back to the client (RFC 6749 §4.1.2 and §4.1.2.1,
//! RFC 9207), delivered in the query component (`response_mode=query`).

use url::form_urlencoded::byte_serialize;

use crate::error::OAuthError;

/// Appends `name=value` pairs, `application/x-www-form-urlencoded`, to `base`'s query.
///
/// Any query the registered URI already has is kept as it is (RFC 6749 §3.1.2: "MUST retain
/// the query component when adding additional query parameters"). Registered URIs never have a
/// fragment; if one were present it would be dropped, since the response must not go there.
fn append_query(base: &str, pairs: &[(&str, &str)]) -> String {
    let base = base.split_once('#').map_or(base, |(b, _)| b);
    let mut out = String::with_capacity(base.len() + 128);
    out.push_str(base);
    let mut separator = match base.find('?') {
        None => Some('?'),
        Some(_) if base.ends_with('?') || base.ends_with('&') => None,
        Some(_) => Some('&'),
    };
    for (name, value) in pairs {
        if let Some(sep) = separator {
            out.push(sep);
        }
        separator = Some('&');
        out.extend(byte_serialize(name.as_bytes()));
        out.push('=');
        out.extend(byte_serialize(value.as_bytes()));
    }
    out
}

/// The successful authorization response (RFC 6749 §4.1.2): `code`, then `state` exactly as
/// received (when sent), then `iss` (RFC 9207 §2), appended to the redirect URI's query.
#[must_use]
pub fn code_redirect(redirect_uri: &str, code: &str, state: Option<&str>, issuer: &str) -> String {
    let mut pairs = vec![("code", code)];
    if let Some(state) = state {
        pairs.push(("state", state));
    }
    pairs.push(("iss", issuer));
    append_query(redirect_uri, &pairs)
}

/// The error response (RFC 6749 §4.1.2.1): only `error`, `error_description` (when set),
/// `state` exactly as received (when sent) and `iss` (RFC 9207 §2).
#[must_use]
pub fn error_redirect(redirect_uri: &str, error: &OAuthError, state: Option<&str>, issuer: &str) -> String {
    let mut pairs = vec![("error", error.code().as_str())];
    if let Some(description) = error.description() {
        pairs.push(("error_description", description));
    }
    if let Some(state) = state {
        pairs.push(("state", state));
    }
    pairs.push(("iss", issuer));
    append_query(redirect_uri, &pairs)
}

#[cfg(test)]
#[path = "response_tests.rs"]
mod tests;
