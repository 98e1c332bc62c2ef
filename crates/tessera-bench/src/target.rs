//! The only servers this tool may load: plain HTTP on the loopback interface of this
//! machine. Anything else is refused before a single request is sent.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use url::{Host, Url};

/// Why a target URL is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TargetError {
    /// Not a URL at all.
    Unparsable(String),
    /// Not `http` (TLS is out of scope: the load goes over loopback).
    Scheme(String),
    /// A host other than `localhost`, `127.0.0.0/8` or `[::1]`.
    NotLoopback(String),
    /// Credentials, a path, a query or a fragment: the base URL is an origin only.
    NotAnOrigin,
}

impl std::fmt::Display for TargetError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TargetError::Unparsable(e) => write!(f, "the target is not a URL: {e}"),
            TargetError::Scheme(s) => write!(f, "only http:// targets are supported, not {s}://"),
            TargetError::NotLoopback(h) => {
                write!(f, "refusing to load {h}: only localhost, 127.0.0.0/8 and [::1] are allowed")
            }
            TargetError::NotAnOrigin => f.write_str("the target must be an origin such as http://127.0.0.1:8080"),
        }
    }
}

impl std::error::Error for TargetError {}

/// Whether `host` names this machine's loopback interface.
pub fn is_loopback(host: &Host<&str>) -> bool {
    match host {
        Host::Domain(name) => name.eq_ignore_ascii_case("localhost"),
        Host::Ipv4(ip) => ip.is_loopback(),
        Host::Ipv6(ip) => ip.is_loopback(),
    }
}

/// Parses and checks the base URL of the server to load: `http`, a loopback host, no
/// credentials, path `/` only.
pub fn loopback_origin(text: &str) -> Result<Url, TargetError> {
    let url = Url::parse(text.trim()).map_err(|e| TargetError::Unparsable(e.to_string()))?;
    if url.scheme() != "http" {
        return Err(TargetError::Scheme(url.scheme().to_owned()));
    }
    let host = url.host().ok_or_else(|| TargetError::NotLoopback(String::new()))?;
    if !is_loopback(&host) {
        return Err(TargetError::NotLoopback(host.to_string()));
    }
    if !url.username().is_empty()
        || url.password().is_some()
        || url.path() != "/"
        || url.query().is_some()
        || url.fragment().is_some()
    {
        return Err(TargetError::NotAnOrigin);
    }
    Ok(url)
}

/// The socket address `localhost` is pinned to, so that name resolution cannot send the
/// load anywhere else.
pub fn resolve_localhost(url: &Url) -> Option<IpAddr> {
    match url.host()? {
        Host::Domain(_) => Some(IpAddr::V4(Ipv4Addr::LOCALHOST)),
        Host::Ipv4(ip) => Some(IpAddr::V4(ip)),
        Host::Ipv6(ip) if ip == Ipv6Addr::LOCALHOST => Some(IpAddr::V6(ip)),
        Host::Ipv6(_) => None,
    }
}

/// Whether `url` is on the same origin as `base` (scheme, host and port).
pub fn same_origin(url: &Url, base: &Url) -> bool {
    url.origin() == base.origin()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;

    #[test]
    fn loopback_targets_are_accepted() {
        for ok in [
            "http://127.0.0.1:8080",
            "http://127.0.0.1:8080/",
            "http://localhost:9000",
            "http://LOCALHOST:9000/",
            "http://127.1.2.3:80",
            "http://[::1]:8080",
        ] {
            assert!(loopback_origin(ok).is_ok(), "{ok} was refused");
        }
    }

    #[test]
    fn other_hosts_are_refused() {
        for bad in [
            "http://10.0.0.1:8080",
            "http://192.168.1.10",
            "http://172.16.0.1",
            "http://8.8.8.8",
            "http://0.0.0.0:8080",
            "http://example.com",
            "http://localhost.example.com",
            "http://127.0.0.1.nip.io",
            "http://[::2]:8080",
            "http://[::ffff:10.0.0.1]",
        ] {
            assert!(
                matches!(loopback_origin(bad), Err(TargetError::NotLoopback(_))),
                "{bad} was not refused as non-loopback: {:?}",
                loopback_origin(bad)
            );
        }
    }

    #[test]
    fn non_http_and_non_origins_are_refused() {
        assert!(matches!(loopback_origin("https://127.0.0.1"), Err(TargetError::Scheme(_))));
        assert!(matches!(loopback_origin("ftp://localhost"), Err(TargetError::Scheme(_))));
        assert!(matches!(loopback_origin("not a url"), Err(TargetError::Unparsable(_))));
        assert!(matches!(loopback_origin("http://u:p@127.0.0.1"), Err(TargetError::NotAnOrigin)));
        assert!(matches!(loopback_origin("http://127.0.0.1/token"), Err(TargetError::NotAnOrigin)));
        assert!(matches!(loopback_origin("http://127.0.0.1/?a=b"), Err(TargetError::NotAnOrigin)));
    }

    #[test]
    fn localhost_resolves_to_loopback_only() {
        let url = loopback_origin("http://localhost:8080").unwrap();
        assert_eq!(resolve_localhost(&url), Some(IpAddr::V4(Ipv4Addr::LOCALHOST)));
        let url = loopback_origin("http://[::1]:8080").unwrap();
        assert_eq!(resolve_localhost(&url), Some(IpAddr::V6(Ipv6Addr::LOCALHOST)));
    }

    #[test]
    fn origins_compare_scheme_host_and_port() {
        let base = loopback_origin("http://127.0.0.1:8080").unwrap();
        assert!(same_origin(&base.join("/signin?authz=x").unwrap(), &base));
        assert!(!same_origin(&Url::parse("http://127.0.0.1:9/cb").unwrap(), &base));
        assert!(!same_origin(&Url::parse("http://localhost:8080/").unwrap(), &base));
    }
}
