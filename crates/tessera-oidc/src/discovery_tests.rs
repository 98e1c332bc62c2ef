#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
use super::*;

const ISS: &str = "https://id.example.gov.hk";

fn strings(v: &Value) -> Vec<&str> {
    v.as_array().unwrap().iter().map(|s| s.as_str().unwrap()).collect()
}

#[test]
fn config_op_requirements() {
    let m = provider_metadata(ISS, &["urn:tessera:acr:password", "urn:tessera:acr:passkey"]);
    assert_eq!(m["issuer"], ISS, "issuer is exactly the base URL");
    assert!(strings(&m["id_token_signing_alg_values_supported"]).contains(&"RS256"));
    assert!(strings(&m["subject_types_supported"]).contains(&"public"));
    assert!(strings(&m["subject_types_supported"]).contains(&"pairwise"));
    assert_eq!(strings(&m["response_types_supported"]), ["code"]);
    assert!(strings(&m["scopes_supported"]).contains(&"openid"));
    assert!(!strings(&m["claims_supported"]).is_empty());
    assert_eq!(strings(&m["code_challenge_methods_supported"]), ["S256"]);
    assert_eq!(m["authorization_response_iss_parameter_supported"], true);
    assert_eq!(strings(&m["acr_values_supported"]), ["urn:tessera:acr:password", "urn:tessera:acr:passkey"]);
}

#[test]
fn every_endpoint_is_under_the_issuer() {
    let m = provider_metadata(ISS, &[]);
    let expected = [
        ("authorization_endpoint", "/authorize"),
        ("token_endpoint", "/token"),
        ("userinfo_endpoint", "/userinfo"),
        ("jwks_uri", "/jwks"),
        ("introspection_endpoint", "/introspect"),
        ("revocation_endpoint", "/revoke"),
        ("end_session_endpoint", "/end_session"),
    ];
    for (key, path) in expected {
        assert_eq!(m[key], format!("{ISS}{path}"), "{key}");
    }
    let endpoints = m.as_object().unwrap().iter().filter(|(k, _)| k.ends_with("_endpoint") || *k == "jwks_uri");
    assert_eq!(endpoints.count(), expected.len());
}

#[test]
fn a_trailing_slash_does_not_double_up_in_endpoints() {
    let m = provider_metadata("https://id.example.gov.hk/tessera/", &[]);
    assert_eq!(m["issuer"], "https://id.example.gov.hk/tessera/", "issuer is never altered");
    assert_eq!(m["token_endpoint"], "https://id.example.gov.hk/tessera/token");
}

#[test]
fn supported_values() {
    let m = provider_metadata(ISS, &[]);
    assert!(m.get("acr_values_supported").is_none(), "omitted when empty");
    assert_eq!(strings(&m["scopes_supported"]), SUPPORTED_SCOPES);
    assert_eq!(strings(&m["response_modes_supported"]), ["query"]);
    assert_eq!(strings(&m["grant_types_supported"]), ["authorization_code", "refresh_token", "client_credentials"]);
    assert_eq!(strings(&m["id_token_signing_alg_values_supported"]), ["RS256", "ES256", "EdDSA"]);
    for key in [
        "token_endpoint_auth_methods_supported",
        "introspection_endpoint_auth_methods_supported",
        "revocation_endpoint_auth_methods_supported",
    ] {
        assert_eq!(strings(&m[key]), ["client_secret_basic", "client_secret_post"], "{key}");
    }
    assert_eq!(strings(&m["prompt_values_supported"]), ["none", "login", "consent", "select_account"]);
    assert_eq!(strings(&m["display_values_supported"]), ["page", "popup", "touch", "wap"]);
    assert_eq!(strings(&m["ui_locales_supported"]), ["en", "zh-HK"]);
    assert_eq!(strings(&m["claims_locales_supported"]), ["en", "zh-HK"]);
    assert_eq!(m["claims_parameter_supported"], true);
    for key in [
        "request_parameter_supported",
        "request_uri_parameter_supported",
        "require_request_uri_registration",
        "frontchannel_logout_supported",
        "backchannel_logout_supported",
    ] {
        assert_eq!(m[key], false, "{key}");
    }
}

#[test]
fn claims_supported_lists_the_catalogue_and_protocol_claims() {
    let m = provider_metadata(ISS, &[]);
    let claims = strings(&m["claims_supported"]);
    for c in CLAIMS {
        assert!(claims.contains(&c.name), "{}", c.name);
    }
    for c in ["sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "acr", "amr", "sid", "name#zh-Hant-HK", "hkid"] {
        assert!(claims.contains(&c), "{c}");
    }
    let mut unique = claims.clone();
    unique.sort_unstable();
    unique.dedup();
    assert_eq!(unique.len(), claims.len(), "no duplicates");
}
