#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
use super::*;
use crate::error::ErrorCode;

fn set(s: &str) -> ScopeSet {
    ScopeSet::parse(s).unwrap()
}

#[test]
fn parses_sorts_and_deduplicates() {
    let s = set("profile openid email openid");
    assert_eq!(s.to_string(), "email openid profile");
    assert_eq!(s.len(), 3);
    assert_eq!(s.iter().collect::<Vec<_>>(), ["email", "openid", "profile"]);
    assert!(s.contains("openid"));
    assert!(!s.contains("phone"));
    assert!(!s.contains("OPENID"), "scopes are case-sensitive");
}

#[test]
fn order_does_not_matter() {
    assert_eq!(set("openid email profile"), set("profile email openid"));
}

#[test]
fn extra_spaces_and_empty_values_are_tolerated() {
    assert_eq!(set("  openid   profile "), set("openid profile"));
    assert!(set("").is_empty());
    assert!(set("   ").is_empty());
    assert_eq!(ScopeSet::empty(), set(""));
}

#[test]
fn scope_token_characters_follow_rfc6749() {
    // %x21 / %x23-5B / %x5D-7E: printable ASCII except space, '"' and '\'.
    assert!(ScopeSet::parse("urn:example:read!#$%&'()*+,-./:;<=>?@[]^_`{|}~").is_ok());
    for bad in ["openid\tprofile", "open\"id", "open\\id", "openid\nprofile", "ünïcode", "a\u{7f}", "a\u{0}", "\u{a0}"]
    {
        let err = ScopeSet::parse(bad).unwrap_err();
        assert_eq!(err.code(), ErrorCode::InvalidScope, "{bad:?}");
    }
}

#[test]
fn overlong_values_are_refused() {
    let long = "a ".repeat(MAX_SCOPE_LEN);
    assert_eq!(ScopeSet::parse(&long).unwrap_err().code(), ErrorCode::InvalidScope);
}

#[test]
fn set_operations() {
    let granted = set("openid profile email");
    let asked = set("openid email");
    assert!(asked.is_subset(&granted));
    assert!(!granted.is_subset(&asked));
    assert_eq!(granted.intersection(&set("email phone")), set("email"));
    assert_eq!(granted.restricted_to(&["openid".to_owned(), "phone".to_owned()]), set("openid"));
}

#[test]
fn unknown_scopes_can_be_dropped() {
    let s = set("openid profile custom:thing hk_identity Email");
    assert_eq!(s.supported_only(), set("openid profile hk_identity"));
    for scope in SUPPORTED_SCOPES {
        assert!(is_supported(scope));
        assert!(set(scope).supported_only().contains(scope));
    }
    assert!(!is_supported("admin"));
}

#[test]
fn serde_uses_the_space_separated_string() {
    let s = set("profile openid");
    let json = serde_json::to_string(&s).unwrap();
    assert_eq!(json, "\"openid profile\"");
    assert_eq!(serde_json::from_str::<ScopeSet>(&json).unwrap(), s);
    assert!(serde_json::from_str::<ScopeSet>("\"bad\\\\scope\"").is_err());
    assert_eq!("openid".parse::<ScopeSet>().unwrap(), set("openid"));
}
