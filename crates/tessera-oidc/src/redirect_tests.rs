#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
use super::*;

fn err(s: &str) -> RedirectUriError {
    RedirectUri::parse_registration(s).unwrap_err()
}

#[test]
fn accepts_https_and_loopback_http() {
    for good in [
        "https://rp.example.gov.hk/callback",
        "https://rp.example.gov.hk/cb?tenant=td&x=1",
        "https://rp.example.gov.hk:8443/oidc/cb",
        "https://rp.example.gov.hk/",
        "https://203.0.113.7/cb",
        "http://localhost:8080/callback",
        "http://localhost/",
        "http://127.0.0.1:53123/cb",
        "http://[::1]:8080/cb",
        "https://www.certification.openid.net/test/a/tessera/callback",
    ] {
        let r = RedirectUri::parse_registration(good).unwrap_or_else(|e| panic!("{good}: {e}"));
        assert_eq!(r.as_str(), good, "kept exactly");
        assert_eq!(r.to_string(), good);
    }
    assert_eq!(RedirectUri::parse_registration("https://rp.example.gov.hk/cb").unwrap().host(), "rp.example.gov.hk");
    assert_eq!(RedirectUri::parse_registration("http://[::1]:8080/cb").unwrap().host(), "[::1]");
}

#[test]
fn refuses_fragments_even_empty_ones() {
    assert_eq!(err("https://rp.example/cb#"), RedirectUriError::Fragment);
    assert_eq!(err("https://rp.example/cb#frag"), RedirectUriError::Fragment);
    assert_eq!(err("https://rp.example/cb?a=1#x"), RedirectUriError::Fragment);
}

#[test]
fn refuses_userinfo() {
    assert_eq!(err("https://user@rp.example/cb"), RedirectUriError::UserInfo);
    assert_eq!(err("https://user:pass@rp.example/cb"), RedirectUriError::UserInfo);
    assert_eq!(err("https://:pass@rp.example/cb"), RedirectUriError::UserInfo);
    assert!(matches!(err("https://@rp.example/cb"), RedirectUriError::NotCanonical { .. }));
}

#[test]
fn refuses_wildcards_anywhere() {
    for bad in ["https://*.example.gov.hk/cb", "https://rp.example/*", "https://rp.example/cb?x=*"] {
        assert_eq!(err(bad), RedirectUriError::Wildcard, "{bad}");
    }
}

#[test]
fn refuses_plain_http_off_loopback() {
    for bad in [
        "http://rp.example.gov.hk/cb",
        "http://localhost.evil.example/cb",
        "http://127.0.0.2/cb",
        "http://10.0.0.1/cb",
        "http://0.0.0.0/cb",
        "http://[::2]/cb",
    ] {
        assert_eq!(err(bad), RedirectUriError::InsecureHttp, "{bad}");
    }
}

#[test]
fn refuses_other_schemes_and_relative_uris() {
    for bad in [
        "javascript:alert(1)",
        "data:text/html,hi",
        "file:///etc/passwd",
        "ftp://rp.example/cb",
        "com.example.app:/cb",
        "wss://rp.example/cb",
    ] {
        assert_eq!(err(bad), RedirectUriError::Scheme, "{bad}");
    }
    for bad in ["/callback", "callback", "//rp.example/cb", "rp.example/cb", "https://"] {
        assert!(
            matches!(err(bad), RedirectUriError::NotAbsolute | RedirectUriError::NoHost | RedirectUriError::Scheme),
            "{bad}"
        );
    }
}

#[test]
fn refuses_whitespace_controls_and_non_ascii() {
    for bad in [
        " https://rp.example/cb",
        "https://rp.example/cb ",
        "https://rp.example/c b",
        "https://rp.example/cb\n",
        "https://rp.ex\tample/cb",
        "https://rp.example/c\u{0}b",
        "https://rp.exämple/cb",
        "https://rp.example/caf\u{e9}",
    ] {
        assert_eq!(err(bad), RedirectUriError::BadCharacter, "{bad:?}");
    }
    assert_eq!(err(""), RedirectUriError::Empty);
}

#[test]
fn refuses_overlong_uris() {
    let long = format!("https://rp.example/{}", "a".repeat(MAX_REDIRECT_URI_LEN));
    assert_eq!(err(&long), RedirectUriError::TooLong);
    let just_fits = format!("https://rp.example/{}", "a".repeat(MAX_REDIRECT_URI_LEN - 19));
    assert_eq!(just_fits.len(), MAX_REDIRECT_URI_LEN);
    assert!(RedirectUri::parse_registration(&just_fits).is_ok());
}

#[test]
fn refuses_non_canonical_spellings() {
    for (bad, canonical) in [
        ("https://RP.Example.gov.hk/cb", "https://rp.example.gov.hk/cb"),
        ("https://rp.example:443/cb", "https://rp.example/cb"),
        ("http://localhost:80/cb", "http://localhost/cb"),
        ("https://rp.example", "https://rp.example/"),
        ("https://rp.example/a/../cb", "https://rp.example/cb"),
        ("http://127.1/cb", "http://127.0.0.1/cb"),
        ("HTTPS://rp.example/cb", "https://rp.example/cb"),
        ("https://rp.example/{x}", "https://rp.example/%7Bx%7D"),
    ] {
        assert_eq!(err(bad), RedirectUriError::NotCanonical { canonical: canonical.to_owned() }, "{bad}");
    }
}

#[test]
fn error_messages_do_not_repeat_the_uri() {
    let e = err("http://secret-host.example/cb");
    assert!(!e.to_string().contains("secret-host"));
}

#[test]
fn matching_is_exact_string_equality() {
    let registered = vec!["https://rp.example.gov.hk/cb".to_owned(), "https://rp.example.gov.hk/cb?x=1".to_owned()];
    assert!(matches_registered(&registered, "https://rp.example.gov.hk/cb"));
    assert!(matches_registered(&registered, "https://rp.example.gov.hk/cb?x=1"));
    for bad in [
        "https://rp.example.gov.hk/cbx",                     // suffix appended
        "https://rp.example.gov.hk/cb.evil.example",         // suffix appended to the path
        "https://rp.example.gov.hk/cb/extra",                // extra path segment
        "https://rp.example.gov.hk/cb/",                     // trailing slash
        "https://rp.example.gov.hk/cb?x=2",                  // other query
        "https://rp.example.gov.hk/cb?x=1&y=2",              // extra query
        "https://rp.example.gov.hk/cb?",                     // empty query
        "https://rp.example.gov.hk/CB",                      // different case, path
        "https://RP.example.gov.hk/cb",                      // different case, host
        "HTTPS://rp.example.gov.hk/cb",                      // different case, scheme
        "https://rp.example.gov.hk:443/cb",                  // default port spelled out
        "https://rp.example.gov.hk/cb#",                     // empty fragment
        "https://rp.example.gov.hk/cb#frag",                 // fragment
        "https://user@rp.example.gov.hk/cb",                 // userinfo
        "http://rp.example.gov.hk/cb",                       // http instead of https
        "https://rp.example.gov.hk.evil.example/cb",         // host suffix
        "https://evil.example/https://rp.example.gov.hk/cb", // contains it
        "https://rp.example.gov.hk/%63b",                    // percent-encoded equivalent
        "https://rp.example.gov.hk/cb ",                     // trailing space
        " https://rp.example.gov.hk/cb",                     // leading space
        "javascript:alert(1)",
        "/cb",
        "",
    ] {
        assert!(!matches_registered(&registered, bad), "{bad:?}");
    }
    assert!(!matches_registered(&[], "https://rp.example.gov.hk/cb"));
}
