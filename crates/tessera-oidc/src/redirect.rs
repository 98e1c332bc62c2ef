//! Redirect URIs: strict rules at registration, exact string matching at every request.
//!
//! RFC 9700 §4.1.3 and §2.1 (OAuth 2.0 Security BCP): clients register complete redirect URIs
//! and the server compares them by simple string comparison (RFC 3986 §6.2.1); no patterns,
//! no wildcards, no fragments (RFC 6749 §3.1.2), no credentials in the URI, and plain `http`
//! only on the loopback interface (RFC 8252 §7.3, for development).

use url::{Host, Url};

/// The longest redirect URI accepted at registration, in bytes.
pub const MAX_REDIRECT_URI_LEN: usize = 2000;

/// Why a redirect URI cannot be registered. Messages never repeat the URI.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RedirectUriError {
    #[error("redirect URI is empty")]
    Empty,
    #[error("redirect URI is longer than {MAX_REDIRECT_URI_LEN} bytes")]
    TooLong,
    #[error("redirect URI may contain only printable ASCII without spaces (percent-encode the rest)")]
    BadCharacter,
    #[error("redirect URI may not contain '*' (no wildcards)")]
    Wildcard,
    #[error("redirect URI may not contain a fragment ('#')")]
    Fragment,
    #[error("redirect URI is not an absolute URL")]
    NotAbsolute,
    #[error("redirect URI must use https (http only on localhost, 127.0.0.1 or [::1])")]
    Scheme,
    #[error("redirect URI may use http only on localhost, 127.0.0.1 or [::1]")]
    InsecureHttp,
    #[error("redirect URI may not contain a user name or password")]
    UserInfo,
    #[error("redirect URI has no host")]
    NoHost,
    /// The URI is valid but not written the way a URL parser writes it back (upper-case host,
    /// default port, missing path `/`, unencoded characters, ...). Registering the canonical
    /// form keeps what Tessera checks and what browsers follow the same.
    #[error("redirect URI is not in canonical form; register {canonical} instead")]
    NotCanonical { canonical: String },
}

/// A redirect URI that passed the registration rules, kept exactly as written.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RedirectUri {
    raw: String,
    host: String,
}

fn is_loopback(host: &Host<&str>) -> bool {
    match host {
        Host::Domain(d) => *d == "localhost",
        Host::Ipv4(ip) => ip.octets() == [127, 0, 0, 1],
        Host::Ipv6(ip) => ip.is_loopback(),
    }
}

impl RedirectUri {
    /// Checks a redirect URI (or post-logout redirect URI) for registration:
    /// - an absolute URL of at most [`MAX_REDIRECT_URI_LEN`] bytes of printable ASCII;
    /// - `https`, or `http` only with host `localhost`, `127.0.0.1` or `[::1]` (RFC 8252 §7.3);
    /// - no fragment, not even an empty `#` (RFC 6749 §3.1.2);
    /// - no user name or password (RFC 9700 §4.1.1: they confuse readers and parsers);
    /// - no `*` anywhere (RFC 9700 §4.1.3: no wildcards);
    /// - written in canonical form (what [`url::Url`] serialises it to), so the string
    ///   compared by [`matches_registered`] is also the URL that browsers follow.
    ///
    /// The original string is kept unchanged.
    pub fn parse_registration(s: &str) -> Result<RedirectUri, RedirectUriError> {
        if s.is_empty() {
            return Err(RedirectUriError::Empty);
        }
        if s.len() > MAX_REDIRECT_URI_LEN {
            return Err(RedirectUriError::TooLong);
        }
        if !s.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(RedirectUriError::BadCharacter);
        }
        if s.contains('*') {
            return Err(RedirectUriError::Wildcard);
        }
        if s.contains('#') {
            return Err(RedirectUriError::Fragment);
        }
        let url = Url::parse(s).map_err(|_| RedirectUriError::NotAbsolute)?;
        match url.scheme() {
            "https" | "http" => {}
            _ => return Err(RedirectUriError::Scheme),
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(RedirectUriError::UserInfo);
        }
        let host = url.host().ok_or(RedirectUriError::NoHost)?;
        if url.scheme() == "http" && !is_loopback(&host) {
            return Err(RedirectUriError::InsecureHttp);
        }
        if url.as_str() != s {
            return Err(RedirectUriError::NotCanonical { canonical: url.to_string() });
        }
        let host = url.host_str().ok_or(RedirectUriError::NoHost)?.to_owned();
        Ok(RedirectUri { raw: s.to_owned(), host })
    }

    /// The URI exactly as registered.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.raw
    }

    /// The host (lower case; IPv6 in brackets), for example to derive a pairwise sector.
    #[must_use]
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The URI as an owned string.
    #[must_use]
    pub fn into_string(self) -> String {
        self.raw
    }
}

impl AsRef<str> for RedirectUri {
    fn as_ref(&self) -> &str {
        &self.raw
    }
}

impl std::fmt::Display for RedirectUri {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.raw)
    }
}

/// Whether `presented` is one of the `registered` redirect URIs, by exact byte-for-byte string
/// equality (RFC 9700 §4.1.3, OIDC Core §3.1.2.1): no normalisation, no prefix or pattern
/// match, no case folding, no trailing-slash or default-port leniency.
#[must_use]
pub fn matches_registered(registered: &[String], presented: &str) -> bool {
    registered.iter().any(|r| r.as_str() == presented)
}

#[cfg(test)]
#[path = "redirect_tests.rs"]
mod tests;
