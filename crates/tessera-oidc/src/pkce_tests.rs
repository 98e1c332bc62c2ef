#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
use super::*;
use crate::error::ErrorCode;

/// RFC 7636 Appendix B.
const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

fn challenge() -> CodeChallenge {
    CodeChallenge::parse(Some(CHALLENGE), Some("S256")).unwrap().unwrap()
}

fn parse_err(c: Option<&str>, m: Option<&str>) -> ErrorCode {
    CodeChallenge::parse(c, m).unwrap_err().code()
}

#[test]
fn rfc7636_appendix_b_vector() {
    assert_eq!(s256(VERIFIER), CHALLENGE);
    let c = challenge();
    assert_eq!(c.as_str(), CHALLENGE);
    assert_eq!(c.method(), "S256");
    assert!(c.verify(VERIFIER));
}

#[test]
fn wrong_verifiers_fail() {
    let c = challenge();
    let mut flipped = VERIFIER.to_owned();
    flipped.replace_range(0..1, "e");
    for bad in [
        "",
        &flipped,
        &VERIFIER[..42],         // too short (and different)
        &format!("{VERIFIER}A"), // suffix
        &VERIFIER.to_uppercase(),
        CHALLENGE, // the challenge itself (plain downgrade)
        &format!("{VERIFIER} "),
        &"a".repeat(129),
    ] {
        assert!(!c.verify(bad), "{bad:?}");
    }
}

#[test]
fn verifier_character_set_and_length_are_enforced() {
    // A verifier with a forbidden character is refused even if its digest were to match.
    for bad in [
        format!("{}+", "a".repeat(42)),
        format!("{}/", "a".repeat(42)),
        format!("{}=", "a".repeat(42)),
        format!("{} ", "a".repeat(42)),
        format!("{}é", "a".repeat(41)),
        "a".repeat(42),
        "a".repeat(129),
    ] {
        let c = CodeChallenge::parse(Some(&s256(&bad)), Some("S256")).unwrap().unwrap();
        assert!(!c.verify(&bad), "{bad:?}");
    }
    for good in ["a".repeat(43), "a".repeat(128), format!("{}-._~", "Z9".repeat(20))] {
        let c = CodeChallenge::parse(Some(&s256(&good)), Some("S256")).unwrap().unwrap();
        assert!(c.verify(&good), "{good:?}");
    }
}

#[test]
fn no_challenge_is_none() {
    assert_eq!(CodeChallenge::parse(None, None).unwrap(), None);
}

#[test]
fn method_rules() {
    assert_eq!(parse_err(None, Some("S256")), ErrorCode::InvalidRequest, "method without challenge");
    assert_eq!(parse_err(Some(CHALLENGE), None), ErrorCode::InvalidRequest, "absent method means plain");
    for m in ["plain", "s256", "S512", "RS256", "S256 ", ""] {
        assert_eq!(parse_err(Some(CHALLENGE), Some(m)), ErrorCode::InvalidRequest, "{m:?}");
    }
}

#[test]
fn malformed_challenges_are_invalid_request() {
    let mut non_canonical = CHALLENGE.to_owned();
    non_canonical.replace_range(42..43, "N"); // 'M' → 'N' sets a padding bit
    for bad in [
        "",
        &CHALLENGE[..42],
        &format!("{CHALLENGE}A"),
        &format!("{CHALLENGE}="),
        "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw+cM", // standard alphabet
        "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw/cM",
        "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw cM",
        &non_canonical,
    ] {
        assert_eq!(parse_err(Some(bad), Some("S256")), ErrorCode::InvalidRequest, "{bad:?}");
    }
}

#[test]
fn serde_round_trip_checks_the_format() {
    let c = challenge();
    let json = serde_json::to_string(&c).unwrap();
    assert_eq!(json, format!("\"{CHALLENGE}\""));
    assert_eq!(serde_json::from_str::<CodeChallenge>(&json).unwrap(), c);
    assert!(serde_json::from_str::<CodeChallenge>("\"short\"").is_err());
}
