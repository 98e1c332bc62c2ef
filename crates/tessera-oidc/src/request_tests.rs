#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
use super::*;
use crate::clients::test_client;
use crate::error::ErrorCode;

const CB: &str = "https://rp.example.gov.hk/cb";
const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

fn client() -> Client {
    let mut c = test_client("rp");
    c.redirect_uris = vec![CB.to_owned(), format!("{CB}?tenant=td")];
    c.allowed_scopes = ["openid", "profile", "email", "offline_access"].map(str::to_owned).to_vec();
    c
}

/// A valid request: code flow, openid profile, S256 PKCE, a state.
fn base() -> Vec<(String, String)> {
    [
        ("client_id", "rp"),
        ("redirect_uri", CB),
        ("response_type", "code"),
        ("scope", "openid profile"),
        ("state", "st-1"),
        ("code_challenge", CHALLENGE),
        ("code_challenge_method", "S256"),
    ]
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .to_vec()
}

fn with(mut params: Vec<(String, String)>, name: &str, value: &str) -> Vec<(String, String)> {
    params.retain(|(k, _)| k != name);
    params.push((name.to_owned(), value.to_owned()));
    params
}

fn without(mut params: Vec<(String, String)>, name: &str) -> Vec<(String, String)> {
    params.retain(|(k, _)| k != name);
    params
}

fn added(mut params: Vec<(String, String)>, name: &str, value: &str) -> Vec<(String, String)> {
    params.push((name.to_owned(), value.to_owned()));
    params
}

fn parse_with(params: &[(String, String)], c: Client) -> Result<AuthorizationRequest, AuthorizeError> {
    parse_authorization_request(params, |id| (c.id == *id).then_some(c.clone()))
}

fn parse(params: &[(String, String)]) -> Result<AuthorizationRequest, AuthorizeError> {
    parse_with(params, client())
}

fn fatal(params: &[(String, String)]) -> FatalReason {
    match parse(params) {
        Err(AuthorizeError::Fatal(reason)) => reason,
        other => panic!("expected a fatal error, got {other:?}"),
    }
}

/// The redirect error: (code, state carried).
fn redirected(params: &[(String, String)]) -> (ErrorCode, Option<String>) {
    redirected_with(params, client())
}

fn redirected_with(params: &[(String, String)], c: Client) -> (ErrorCode, Option<String>) {
    match parse_with(params, c) {
        Err(AuthorizeError::Redirect { redirect_uri, state, error }) => {
            assert_eq!(redirect_uri, CB, "errors go to the presented, registered URI");
            (error.code(), state)
        }
        other => panic!("expected a redirect error, got {other:?}"),
    }
}

#[test]
fn a_valid_request_parses() {
    let r = parse(&base()).unwrap();
    assert_eq!(r.client_id.as_str(), "rp");
    assert_eq!(r.redirect_uri, CB);
    assert_eq!(r.state.as_deref(), Some("st-1"));
    assert_eq!(r.scope.to_string(), "openid profile");
    assert_eq!(r.code_challenge.as_ref().unwrap().as_str(), CHALLENGE);
    assert_eq!(r.nonce, None);
    assert!(r.prompt.is_empty());
    assert!(!r.prompt_none() && !r.prompt_login() && !r.prompt_consent() && !r.prompt_select_account());
    assert_eq!(r.max_age, None);
    assert_eq!(r.display, None);
    assert!(r.acr_values.is_empty());
    assert!(r.claims.is_empty());
    assert_eq!(
        r.requested_claims().into_iter().collect::<Vec<_>>(),
        ["birthdate", "gender", "name", "name#zh-Hant-HK", "updated_at"]
    );
    assert!(r.essential_claims().is_empty());
}

#[test]
fn parameter_order_does_not_matter_and_unknown_parameters_are_ignored() {
    let mut reversed = base();
    reversed.reverse();
    assert_eq!(parse(&reversed).unwrap(), parse(&base()).unwrap());
    let extra = added(added(added(base(), "extra", "foobar"), "extra", "again"), "registration", "{}");
    assert_eq!(parse(&extra).unwrap(), parse(&base()).unwrap());
}

#[test]
fn all_optional_parameters_are_kept() {
    let claims = r#"{"userinfo":{"email":{"essential":true},"hkid":null,"x-unknown":null},"id_token":{"acr":{"essential":true,"values":["urn:a"]}}}"#;
    let params = [
        ("nonce", "n-0S6_WzA2Mj"),
        ("prompt", "login consent"),
        ("max_age", "3600"),
        ("display", "popup"),
        ("login_hint", "citizen@example.hk"),
        ("id_token_hint", "eyJhbGciOiJSUzI1NiJ9.e30.sig"),
        ("acr_values", "urn:b urn:a urn:b"),
        ("ui_locales", "zh-HK en"),
        ("claims_locales", "en"),
        ("claims", claims),
        ("response_mode", "query"),
    ];
    let all = params.iter().fold(base(), |p, (k, v)| with(p, k, v));
    let r = parse(&all).unwrap();
    assert_eq!(r.nonce.as_deref(), Some("n-0S6_WzA2Mj"));
    assert!(r.prompt_login() && r.prompt_consent() && !r.prompt_none());
    assert_eq!(r.max_age, Some(3600));
    assert_eq!(r.display, Some(DisplayMode::Popup));
    assert_eq!(r.login_hint.as_deref(), Some("citizen@example.hk"));
    assert_eq!(r.id_token_hint.as_deref(), Some("eyJhbGciOiJSUzI1NiJ9.e30.sig"));
    assert_eq!(r.acr_values, ["urn:b", "urn:a"], "order kept, duplicates dropped");
    assert_eq!(r.ui_locales_list(), ["zh-HK", "en"]);
    assert_eq!(r.claims_locales.as_deref(), Some("en"));
    assert_eq!(r.claims.acr_request(), Some((true, vec!["urn:a".to_owned()])));
    // email is allowed (though not requested by scope); hkid's scope is not allowed: dropped.
    assert!(r.requested_claims().contains("email"));
    assert!(!r.requested_claims().contains("hkid"));
    assert!(!r.claims.requested().contains("hkid"));
    assert!(r.claims.requested().contains("x-unknown"), "unknown claims are kept");
    assert!(!r.requested_claims().contains("x-unknown"));
    assert_eq!(r.essential_claims().into_iter().collect::<Vec<_>>(), ["email"]);
}

#[test]
fn survives_the_session_store() {
    let params = with(with(with(base(), "prompt", "none"), "claims", r#"{"userinfo":{"name":null}}"#), "max_age", "0");
    let r = parse(&params).unwrap();
    let json = serde_json::to_string(&r).unwrap();
    let back: AuthorizationRequest = serde_json::from_str(&json).unwrap();
    assert_eq!(back, r);
    assert!(back.prompt_none());
    assert_eq!(back.max_age, Some(0));
}

// ---- Fatal: error page, never a redirect ----

#[test]
fn client_problems_are_fatal() {
    assert_eq!(fatal(&without(base(), "client_id")), FatalReason::MissingClientId);
    assert_eq!(fatal(&with(base(), "client_id", "")), FatalReason::MissingClientId);
    assert_eq!(fatal(&with(base(), "client_id", "not valid!")), FatalReason::InvalidClientId);
    assert_eq!(fatal(&with(base(), "client_id", "unknown")), FatalReason::UnknownClient);
    assert_eq!(fatal(&added(base(), "client_id", "rp")), FatalReason::RepeatedClientId);
    assert_eq!(fatal(&added(base(), "client_id", "")), FatalReason::RepeatedClientId);
    let mut disabled = client();
    disabled.enabled = false;
    assert!(matches!(parse_with(&base(), disabled), Err(AuthorizeError::Fatal(FatalReason::DisabledClient))));
}

#[test]
fn redirect_uri_problems_are_fatal() {
    assert_eq!(fatal(&without(base(), "redirect_uri")), FatalReason::MissingRedirectUri);
    assert_eq!(fatal(&with(base(), "redirect_uri", "")), FatalReason::MissingRedirectUri);
    assert_eq!(fatal(&added(base(), "redirect_uri", CB)), FatalReason::RepeatedRedirectUri);
    for bad in [
        format!("{CB}x"),
        format!("{CB}/extra"),
        format!("{CB}/"),
        format!("{CB}?x=1"),
        format!("{CB}?tenant=td&x=1"),
        format!("{CB}#"),
        format!("{CB}#f"),
        "https://rp.example.gov.hk:443/cb".to_owned(),
        "https://RP.example.gov.hk/cb".to_owned(),
        "https://rp.example.gov.hk/CB".to_owned(),
        "http://rp.example.gov.hk/cb".to_owned(),
        "https://user@rp.example.gov.hk/cb".to_owned(),
        "https://evil.example/cb".to_owned(),
        "javascript:alert(1)".to_owned(),
        "/cb".to_owned(),
    ] {
        assert_eq!(fatal(&with(base(), "redirect_uri", &bad)), FatalReason::UnregisteredRedirectUri, "{bad}");
    }
    // The other registered URI is fine.
    assert_eq!(
        parse(&with(base(), "redirect_uri", &format!("{CB}?tenant=td"))).unwrap().redirect_uri,
        "https://rp.example.gov.hk/cb?tenant=td"
    );
}

#[test]
fn fatal_checks_come_before_everything_else() {
    // Broken everything, but with an unregistered redirect URI: still only an error page.
    let params = [
        ("client_id", "rp"),
        ("redirect_uri", "https://evil.example/cb"),
        ("response_type", "token"),
        ("scope", "profile"),
        ("request", "eyJ..."),
        ("prompt", "none login"),
    ]
    .map(|(k, v)| (k.to_owned(), v.to_owned()));
    assert_eq!(fatal(&params), FatalReason::UnregisteredRedirectUri);
    assert_eq!(fatal(&without(with(base(), "client_id", "unknown"), "redirect_uri")), FatalReason::UnknownClient);
    let err = parse(&with(base(), "client_id", "unknown")).unwrap_err();
    assert_eq!(err.redirect_url("https://id.example"), None);
}

#[test]
fn the_client_lookup_must_return_the_named_client() {
    let other = test_client("someone-else");
    let r = parse_authorization_request(&base(), |_| Some(other.clone()));
    assert!(matches!(r, Err(AuthorizeError::Fatal(FatalReason::UnknownClient))));
}

#[test]
fn requested_client_id_helper() {
    assert_eq!(requested_client_id(&base()).unwrap().as_str(), "rp");
    assert_eq!(requested_client_id(&added(base(), "client_id", "rp")), None);
    assert_eq!(requested_client_id(&with(base(), "client_id", "bad id")), None);
    assert_eq!(requested_client_id(&without(base(), "client_id")), None);
}

// ---- Redirect errors ----

#[test]
fn request_objects_are_not_supported() {
    assert_eq!(redirected(&added(base(), "request", "eyJhbGciOiJub25lIn0.e30.")).0, ErrorCode::RequestNotSupported);
    assert_eq!(
        redirected(&added(base(), "request_uri", "https://rp.example/req.jwt")).0,
        ErrorCode::RequestUriNotSupported
    );
    assert!(parse(&added(base(), "request", "")).is_ok(), "empty counts as absent");
}

#[test]
fn response_type_rules() {
    assert_eq!(redirected(&without(base(), "response_type")), (ErrorCode::InvalidRequest, Some("st-1".to_owned())));
    for bad in ["token", "id_token", "code id_token", "code token", "Code", "code ", "none"] {
        assert_eq!(redirected(&with(base(), "response_type", bad)).0, ErrorCode::UnsupportedResponseType, "{bad:?}");
    }
}

#[test]
fn response_mode_must_be_query() {
    for bad in ["fragment", "form_post", "query.jwt", "QUERY"] {
        assert_eq!(redirected(&with(base(), "response_mode", bad)).0, ErrorCode::InvalidRequest, "{bad}");
    }
    assert!(parse(&with(base(), "response_mode", "")).is_ok());
}

#[test]
fn scope_rules() {
    assert_eq!(redirected(&without(base(), "scope")).0, ErrorCode::InvalidScope);
    assert_eq!(redirected(&with(base(), "scope", "")).0, ErrorCode::InvalidScope);
    assert_eq!(redirected(&with(base(), "scope", "profile email")).0, ErrorCode::InvalidScope);
    assert_eq!(redirected(&with(base(), "scope", "OpenID")).0, ErrorCode::InvalidScope);
    assert_eq!(redirected(&with(base(), "scope", "openid\\x")).0, ErrorCode::InvalidScope);
    // Supported but not allowed for this client.
    assert_eq!(redirected(&with(base(), "scope", "openid hk_identity")).0, ErrorCode::InvalidScope);
    assert_eq!(redirected(&with(base(), "scope", "openid phone")).0, ErrorCode::InvalidScope);
    // Unknown scopes are dropped.
    let r = parse(&with(base(), "scope", "openid email custom:read offline_access")).unwrap();
    assert_eq!(r.scope.to_string(), "email offline_access openid");
}

#[test]
fn pkce_rules() {
    let no_pkce = without(without(base(), "code_challenge"), "code_challenge_method");
    assert_eq!(redirected(&no_pkce).0, ErrorCode::InvalidRequest, "required by this client");
    let mut relaxed = client();
    relaxed.require_pkce = false;
    assert_eq!(parse_with(&no_pkce, relaxed.clone()).unwrap().code_challenge, None, "optional when not required");
    // A public client always needs PKCE, whatever its flag says.
    let mut public = relaxed.clone();
    public.token_endpoint_auth_method = TokenEndpointAuthMethod::None;
    assert_eq!(redirected_with(&no_pkce, public).0, ErrorCode::InvalidRequest);
    // Malformed PKCE is refused even when PKCE is optional.
    for params in [
        with(base(), "code_challenge_method", "plain"),
        without(base(), "code_challenge_method"),
        with(base(), "code_challenge", "too-short"),
        without(base(), "code_challenge"),
    ] {
        assert_eq!(redirected_with(&params, relaxed.clone()).0, ErrorCode::InvalidRequest, "{params:?}");
    }
}

#[test]
fn prompt_rules() {
    assert!(parse(&with(base(), "prompt", "none")).unwrap().prompt_none());
    assert!(parse(&with(base(), "prompt", "select_account")).unwrap().prompt_select_account());
    assert!(parse(&with(base(), "prompt", "login  login")).unwrap().prompt_login());
    for bad in ["none login", "consent none", "create", "LOGIN", "login,consent", "none\tlogin"] {
        assert_eq!(redirected(&with(base(), "prompt", bad)).0, ErrorCode::InvalidRequest, "{bad:?}");
    }
}

#[test]
fn max_age_rules() {
    assert_eq!(parse(&with(base(), "max_age", "0")).unwrap().max_age, Some(0));
    assert_eq!(parse(&with(base(), "max_age", "1")).unwrap().max_age, Some(1));
    assert_eq!(parse(&with(base(), "max_age", &MAX_MAX_AGE.to_string())).unwrap().max_age, Some(MAX_MAX_AGE));
    for bad in [
        "-1",
        "+5",
        " 5",
        "5 ",
        "1.5",
        "1e3",
        "abc",
        "0x10",
        "٣",
        &(MAX_MAX_AGE + 1).to_string(),
        "99999999999999999999999999",
    ] {
        assert_eq!(redirected(&with(base(), "max_age", bad)).0, ErrorCode::InvalidRequest, "{bad:?}");
    }
}

#[test]
fn display_rules() {
    for (raw, mode) in [
        ("page", DisplayMode::Page),
        ("popup", DisplayMode::Popup),
        ("touch", DisplayMode::Touch),
        ("wap", DisplayMode::Wap),
    ] {
        assert_eq!(parse(&with(base(), "display", raw)).unwrap().display, Some(mode));
    }
    for bad in ["Page", "full", "page popup"] {
        assert_eq!(redirected(&with(base(), "display", bad)).0, ErrorCode::InvalidRequest, "{bad}");
    }
}

#[test]
fn length_limits() {
    let cases = [
        ("nonce", MAX_NONCE_LEN),
        ("login_hint", MAX_LOGIN_HINT_LEN),
        ("id_token_hint", MAX_ID_TOKEN_HINT_LEN),
        ("acr_values", MAX_ACR_VALUES_LEN),
    ];
    for (name, max) in cases {
        assert!(parse(&with(base(), name, &"a".repeat(max))).is_ok(), "{name} at the limit");
        assert_eq!(redirected(&with(base(), name, &"a".repeat(max + 1))).0, ErrorCode::InvalidRequest, "{name}");
    }
    for name in ["ui_locales", "claims_locales"] {
        assert!(parse(&with(base(), name, &"a".repeat(MAX_LOCALES_LEN))).is_ok());
        assert_eq!(redirected(&with(base(), name, &"a".repeat(MAX_LOCALES_LEN + 1))).0, ErrorCode::InvalidRequest);
        assert_eq!(redirected(&with(base(), name, "en;q=1")).0, ErrorCode::InvalidRequest);
    }
    assert_eq!(redirected(&with(base(), "acr_values", "urn:a\turn:b")).0, ErrorCode::InvalidRequest);
}

#[test]
fn state_is_echoed_byte_exact_and_bounded() {
    let odd = "a b&c=d#e?f/g%20\u{1F642}漢\"'<>";
    let r = parse(&with(base(), "state", odd)).unwrap();
    assert_eq!(r.state.as_deref(), Some(odd));
    let at_limit = "s".repeat(MAX_STATE_LEN);
    assert_eq!(parse(&with(base(), "state", &at_limit)).unwrap().state.as_deref(), Some(at_limit.as_str()));
    // Errors carry the state back…
    let (code, state) = redirected(&with(with(base(), "state", odd), "response_type", "token"));
    assert_eq!((code, state.as_deref()), (ErrorCode::UnsupportedResponseType, Some(odd)));
    // …except one too long to accept, which is itself the error.
    let too_long = "s".repeat(MAX_STATE_LEN + 1);
    assert_eq!(redirected(&with(base(), "state", &too_long)), (ErrorCode::InvalidRequest, None));
    // No state, no state in the error.
    assert_eq!(redirected(&with(without(base(), "state"), "prompt", "bad")), (ErrorCode::InvalidRequest, None));
}

#[test]
fn repeated_parameters_are_invalid_request() {
    for name in ["response_type", "scope", "state", "nonce", "prompt", "code_challenge", "claims", "max_age"] {
        let value = base().iter().find(|(k, _)| k == name).map_or("x".to_owned(), |(_, v)| v.clone());
        let (code, state) = redirected(&added(added(base(), name, &value), name, &value));
        assert_eq!(code, ErrorCode::InvalidRequest, "{name}");
        if name == "state" {
            assert_eq!(state, None, "an ambiguous state is not echoed");
        } else {
            assert_eq!(state.as_deref(), Some("st-1"));
        }
    }
}

#[test]
fn empty_values_count_as_absent() {
    for name in
        ["nonce", "prompt", "max_age", "display", "login_hint", "id_token_hint", "acr_values", "claims", "ui_locales"]
    {
        assert_eq!(parse(&with(base(), name, "")).unwrap(), parse(&base()).unwrap(), "{name}");
    }
    assert_eq!(parse(&with(base(), "state", "")).unwrap().state, None);
}

#[test]
fn malformed_claims_are_invalid_request() {
    for bad in ["{", "[]", r#"{"userinfo":[]}"#, r#"{"id_token":{"acr":{"value":3}}}"#] {
        assert_eq!(redirected(&with(base(), "claims", bad)).0, ErrorCode::InvalidRequest, "{bad}");
    }
}

#[test]
fn redirect_errors_build_their_url() {
    let err = parse(&with(base(), "response_type", "token")).unwrap_err();
    let url = err.redirect_url("https://id.example.gov.hk").unwrap();
    assert!(url.starts_with(&format!("{CB}?error=unsupported_response_type&error_description=")), "{url}");
    assert!(url.ends_with("&state=st-1&iss=https%3A%2F%2Fid.example.gov.hk"), "{url}");
}
