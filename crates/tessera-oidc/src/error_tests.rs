#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
use super::*;

#[test]
fn codes_use_the_rfc_names() {
    let expected = [
        "invalid_request",
        "unauthorized_client",
        "access_denied",
        "unsupported_response_type",
        "invalid_scope",
        "server_error",
        "temporarily_unavailable",
        "interaction_required",
        "login_required",
        "account_selection_required",
        "consent_required",
        "invalid_request_uri",
        "invalid_request_object",
        "request_not_supported",
        "request_uri_not_supported",
        "unmet_authentication_requirements",
        "invalid_client",
        "invalid_grant",
        "unsupported_grant_type",
        "invalid_token",
        "insufficient_scope",
        "unsupported_token_type",
    ];
    let names: Vec<&str> = ErrorCode::ALL.iter().map(|c| c.as_str()).collect();
    assert_eq!(names, expected);
    assert_eq!(ErrorCode::LoginRequired.to_string(), "login_required");
}

#[test]
fn constructors_set_code_and_description() {
    let e = OAuthError::invalid_request("response_type is missing");
    assert_eq!(e.code(), ErrorCode::InvalidRequest);
    assert_eq!(e.description(), Some("response_type is missing"));
    assert_eq!(e.to_string(), "invalid_request: response_type is missing");
    assert_eq!(OAuthError::invalid_grant("x").code(), ErrorCode::InvalidGrant);
    assert_eq!(OAuthError::unsupported_token_type("x").code(), ErrorCode::UnsupportedTokenType);
    let bare = OAuthError::bare(ErrorCode::LoginRequired);
    assert_eq!(bare.description(), None);
    assert_eq!(bare.to_string(), "login_required");
    assert_eq!(OAuthError::from(ErrorCode::ServerError), OAuthError::bare(ErrorCode::ServerError));
}

#[test]
fn json_body_has_error_and_optional_description() {
    let e = OAuthError::invalid_client("client authentication failed");
    assert_eq!(
        e.to_json(),
        serde_json::json!({"error": "invalid_client", "error_description": "client authentication failed"})
    );
    assert_eq!(OAuthError::bare(ErrorCode::InvalidToken).to_json(), serde_json::json!({"error": "invalid_token"}));
}

fn allowed(c: char) -> bool {
    matches!(c, '\x20'..='\x21' | '\x23'..='\x5b' | '\x5d'..='\x7e')
}

#[test]
fn descriptions_are_sanitised_to_the_rfc_character_set() {
    let hostile = "bad \"quote\" and \\backslash\\\n\r\tnew\u{0}line é 漢字 \u{7f} \u{202e}rtl";
    let e = OAuthError::invalid_request(hostile);
    let d = e.description().unwrap();
    assert!(d.chars().all(allowed), "{d:?}");
    assert_eq!(d, "bad 'quote' and /backslash/ new?line ? ?? ? ?rtl");
    assert!(e.to_json().to_string().chars().filter(|c| *c == '\\').count() == 0);
}

#[test]
fn empty_or_blank_descriptions_are_dropped() {
    for blank in ["", "   ", "\n\t"] {
        assert_eq!(OAuthError::invalid_scope(blank).description(), None, "{blank:?}");
    }
    assert_eq!(OAuthError::invalid_scope("  padded  ").description(), Some("padded"));
}

#[test]
fn long_descriptions_are_cut() {
    let long = "x".repeat(10_000);
    assert_eq!(OAuthError::server_error(&long).description().unwrap().len(), MAX_DESCRIPTION_CHARS);
    let spaced = format!("{} y", "z".repeat(MAX_DESCRIPTION_CHARS - 1));
    let d = sanitize_description(&spaced);
    assert_eq!(d.len(), MAX_DESCRIPTION_CHARS - 1, "no trailing space after the cut");
}
