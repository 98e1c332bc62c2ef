//! The token endpoint's authorization-code grant: the token response, the ID token and the
//! access token it carries, and the bindings of a code (single use, client, redirect URI,
//! PKCE, lifetime). CONFORMANCE §1, §2 (oidcc-server, -idtoken-signature, -codereuse), §3.

use super::browser::Browser;
use super::flows::{
    Authz, authz, browser_with_jar, code_for, jwks, jwt_parts, now_secs, oauth_error, redeem, refresh, scope_set,
    scopes, signed_in_tokens, token_basic, token_ok, userinfo_status, verify_id_token, verify_with_jwks,
};
use crate::fixtures::{REDIRECT_URI, TestClient};
use crate::helpers::{TestApp, spawn_app};
use openidconnect::core::CoreJwsSigningAlgorithm;
use reqwest::StatusCode;
use serde_json::Value;

const CITIZEN: &str = "chan.taiman";

/// An app with a department client and a citizen.
async fn setup() -> (TestApp, TestClient) {
    let app = spawn_app().await;
    let client = app.department_client().await;
    app.citizen(CITIZEN).await;
    (app, client)
}

/// A signed-in browser and a fresh code (with PKCE) for `scope`.
async fn fresh_code(app: &TestApp, client: &TestClient, scope: &str) -> (Browser, Authz, String) {
    let (browser, _) = browser_with_jar(&app.address);
    let authz = authz(app, client.id(), scope, true, &[]);
    let code = code_for(&browser, &authz, CITIZEN).await;
    (browser, authz, code)
}

#[tokio::test]
async fn the_token_response_is_uncached_json_with_a_bearer_access_token_and_an_id_token() {
    let (app, client) = setup().await;
    let (_, authz, code) = fresh_code(&app, &client, "openid profile").await;
    let body = token_ok(redeem(&app, &client, &code, authz.verifier.as_deref()).await).await;
    assert!(body["access_token"].as_str().is_some_and(|t| !t.is_empty()), "{body}");
    assert_eq!(body["token_type"], "Bearer", "{body}");
    assert!(body["id_token"].as_str().is_some_and(|t| t.split('.').count() == 3), "{body}");
    assert!(body["expires_in"].as_i64().is_some_and(|e| e > 0), "expires_in must be a positive number: {body}");
    if body.get("scope").is_some() {
        assert_eq!(scopes(&body["scope"]), scope_set(&["openid", "profile"]), "{body}");
    }
}

#[tokio::test]
async fn the_id_token_carries_every_required_claim() {
    let (app, client) = setup().await;
    let before = now_secs();
    let tokens = signed_in_tokens(&app, &client, CITIZEN, &["profile"]).await;
    let verified = verify_id_token(
        &app,
        &client,
        &tokens.id_token,
        CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256,
        Some(&tokens.authz.nonce),
    )
    .await
    .expect("the ID token verifies against the JWKS with its nonce");
    assert_eq!(verified.issuer().as_str(), app.address);

    let (_, claims) = jwt_parts(&tokens.id_token);
    let now = now_secs();
    assert_eq!(claims["iss"], app.address.as_str(), "{claims}");
    assert!(claims["sub"].as_str().is_some_and(|s| !s.is_empty()), "{claims}");
    let aud_ok = match &claims["aud"] {
        Value::String(a) => a == client.id(),
        Value::Array(list) => list.iter().any(|a| a == client.id()),
        _ => false,
    };
    assert!(aud_ok, "aud must contain the client id: {claims}");
    let iat = claims["iat"].as_i64().expect("iat in seconds");
    let exp = claims["exp"].as_i64().expect("exp in seconds");
    assert!(iat <= now && iat >= before - 1, "iat not in the future: iat {iat}, now {now}");
    assert!(exp > now && exp < now + 24 * 3600, "exp in seconds, in the future: {exp}");
    assert_eq!(claims["nonce"], tokens.authz.nonce.as_str(), "nonce echoed");
    let auth_time = claims["auth_time"].as_i64().expect("auth_time");
    assert!(auth_time <= iat && auth_time >= before - 1, "auth_time is the sign-in: {auth_time}");
    assert!(claims["acr"].as_str().is_some_and(|a| !a.is_empty()), "acr is never an empty string: {claims}");
    assert!(claims["amr"].as_array().is_some_and(|a| !a.is_empty() && a.iter().all(Value::is_string)), "{claims}");
    assert!(claims["sid"].as_str().is_some_and(|s| !s.is_empty()), "sid: {claims}");
}

#[tokio::test]
async fn id_tokens_are_rs256_with_a_kid_published_in_the_jwks_by_default() {
    let (app, client) = setup().await;
    let tokens = signed_in_tokens(&app, &client, CITIZEN, &[]).await;
    let (header, _) = jwt_parts(&tokens.id_token);
    assert_eq!(header["alg"], "RS256", "{header}");
    let kid = header["kid"].as_str().expect("a kid");
    let keys = jwks(&app).await;
    let key = keys["keys"].as_array().unwrap().iter().find(|k| k["kid"] == kid).expect("the kid is in the JWKS");
    assert_eq!(key["kty"], "RSA", "{key}");
    assert!(verify_with_jwks(&tokens.id_token, &keys, CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256));
    // The check is not vacuous: a changed signature no longer verifies.
    let mut parts: Vec<String> = tokens.id_token.split('.').map(str::to_owned).collect();
    let first = if parts[2].starts_with('A') { "B" } else { "A" };
    parts[2].replace_range(0..1, first);
    assert!(!verify_with_jwks(&parts.join("."), &keys, CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256));
}

async fn id_token_alg_is_honoured(alg: &str, expected: CoreJwsSigningAlgorithm, kty: &str) {
    let app = spawn_app().await;
    let client = app.client_with(|c| c.id_token_alg = alg.into()).await;
    app.citizen(CITIZEN).await;
    let tokens = signed_in_tokens(&app, &client, CITIZEN, &[]).await;
    let (header, _) = jwt_parts(&tokens.id_token);
    assert_eq!(header["alg"], alg, "{header}");
    let keys = jwks(&app).await;
    let key = keys["keys"].as_array().unwrap().iter().find(|k| k["kid"] == header["kid"]).expect("kid in the JWKS");
    assert_eq!(key["kty"], kty, "{key}");
    let claims = verify_id_token(&app, &client, &tokens.id_token, expected.clone(), Some(&tokens.authz.nonce))
        .await
        .unwrap_or_else(|e| panic!("the {alg} ID token does not verify: {e}"));
    assert_eq!(claims.audiences()[0].as_str(), client.id());
    // And an RP that only allows RS256 refuses it: the algorithm really is the client's.
    let rs256 =
        verify_id_token(&app, &client, &tokens.id_token, CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256, None).await;
    assert!(rs256.is_err(), "an {alg} token must not pass as RS256");
}

#[tokio::test]
async fn a_client_registered_for_es256_gets_es256_id_tokens() {
    id_token_alg_is_honoured("ES256", CoreJwsSigningAlgorithm::EcdsaP256Sha256, "EC").await;
}

#[tokio::test]
async fn a_client_registered_for_eddsa_gets_eddsa_id_tokens() {
    id_token_alg_is_honoured("EdDSA", CoreJwsSigningAlgorithm::EdDsa, "OKP").await;
}

/// Claims that belong in userinfo, never in an ID token unless asked for.
const PROFILE_CLAIMS: [&str; 12] = [
    "name",
    "name#zh-Hant-HK",
    "birthdate",
    "gender",
    "updated_at",
    "email",
    "email_verified",
    "phone_number",
    "phone_number_verified",
    "address",
    "hkid",
    "preferred_username",
];

#[tokio::test]
async fn the_id_token_holds_only_protocol_claims_when_an_access_token_is_issued() {
    let (app, client) = setup().await;
    let tokens =
        signed_in_tokens(&app, &client, CITIZEN, &["profile", "email", "phone", "address", "hk_identity"]).await;
    let (_, claims) = jwt_parts(&tokens.id_token);
    for name in PROFILE_CLAIMS {
        assert!(claims.get(name).is_none(), "{name} must not be in the ID token: {claims}");
    }
    // The claims were released, just not into the ID token.
    let info: Value = super::flows::userinfo(&app, &tokens.access_token).await.json().await.unwrap();
    assert_eq!(info["email"], "taiman.chan@example.hk", "{info}");
}

#[tokio::test]
async fn a_claim_requested_for_the_id_token_with_the_claims_parameter_is_in_it() {
    let (app, client) = setup().await;
    let (browser, _) = browser_with_jar(&app.address);
    let claims_param = r#"{"id_token":{"email":null}}"#;
    let authz = authz(&app, client.id(), "openid profile email", true, &[("claims", claims_param)]);
    let code = code_for(&browser, &authz, CITIZEN).await;
    let body = token_ok(redeem(&app, &client, &code, authz.verifier.as_deref()).await).await;
    let (_, claims) = jwt_parts(body["id_token"].as_str().unwrap());
    assert_eq!(claims["email"], "taiman.chan@example.hk", "asked for in the id_token member: {claims}");
    assert!(claims.get("name").is_none(), "name was not asked for in the ID token: {claims}");
    assert!(claims.get("birthdate").is_none(), "{claims}");
}

#[tokio::test]
async fn the_access_token_is_an_rfc_9068_jwt() {
    let (app, client) = setup().await;
    let before = now_secs();
    let tokens = signed_in_tokens(&app, &client, CITIZEN, &["profile"]).await;
    let (header, claims) = jwt_parts(&tokens.access_token);
    assert_eq!(header["typ"], "at+jwt", "RFC 9068 §2.1: {header}");
    let alg = header["alg"].as_str().expect("alg");
    assert_ne!(alg, "none");
    let expected = match alg {
        "RS256" => CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256,
        "ES256" => CoreJwsSigningAlgorithm::EcdsaP256Sha256,
        "EdDSA" => CoreJwsSigningAlgorithm::EdDsa,
        other => panic!("unexpected access token algorithm {other}"),
    };
    assert!(verify_with_jwks(&tokens.access_token, &jwks(&app).await, expected), "signed with a published key");
    assert_eq!(claims["iss"], app.address.as_str(), "{claims}");
    let (_, id_claims) = jwt_parts(&tokens.id_token);
    assert_eq!(claims["sub"], id_claims["sub"], "the same subject as the ID token: {claims}");
    assert!(claims["aud"].as_str().is_some_and(|a| !a.is_empty()) || claims["aud"].is_array(), "aud: {claims}");
    assert_eq!(claims["client_id"], client.id(), "{claims}");
    assert_eq!(scopes(&claims["scope"]), scope_set(&["openid", "profile"]), "{claims}");
    assert!(claims["jti"].as_str().is_some_and(|j| j.len() >= 16), "jti: {claims}");
    let iat = claims["iat"].as_i64().expect("iat");
    let exp = claims["exp"].as_i64().expect("exp");
    assert!(iat >= before - 1 && iat <= now_secs(), "iat: {iat}");
    assert!((exp - iat - 300).abs() <= 5, "a five-minute access token: iat {iat}, exp {exp}");
    assert_eq!(tokens.response["expires_in"].as_i64(), Some(exp - iat), "expires_in matches the token");
}

#[tokio::test]
async fn a_code_redeemed_twice_is_invalid_grant_and_revokes_what_the_first_redemption_issued() {
    let (app, client) = setup().await;
    let (_, authz, code) = fresh_code(&app, &client, "openid profile").await;
    let first = token_ok(redeem(&app, &client, &code, authz.verifier.as_deref()).await).await;
    let access = first["access_token"].as_str().unwrap();
    let refresh_token = first["refresh_token"].as_str().expect("a refresh token with the first redemption");
    assert_eq!(userinfo_status(&app, access).await, StatusCode::OK, "the first access token works");

    oauth_error(
        redeem(&app, &client, &code, authz.verifier.as_deref()).await,
        StatusCode::BAD_REQUEST,
        "invalid_grant",
    )
    .await;
    assert_eq!(userinfo_status(&app, access).await, StatusCode::UNAUTHORIZED, "oidcc-codereuse: access token revoked");
    oauth_error(refresh(&app, &client, refresh_token, None).await, StatusCode::BAD_REQUEST, "invalid_grant").await;
}

#[tokio::test]
async fn a_code_reused_after_thirty_seconds_still_revokes_the_first_tokens_and_their_refreshes() {
    let (app, client) = setup().await;
    let (_, authz, code) = fresh_code(&app, &client, "openid").await;
    let first = token_ok(redeem(&app, &client, &code, authz.verifier.as_deref()).await).await;
    // The department refreshes meanwhile: the rotated tokens descend from the first redemption.
    let refreshed = token_ok(refresh(&app, &client, first["refresh_token"].as_str().unwrap(), None).await).await;
    let access = refreshed["access_token"].as_str().unwrap();
    assert_eq!(userinfo_status(&app, access).await, StatusCode::OK);

    tokio::time::sleep(std::time::Duration::from_secs(31)).await;
    oauth_error(
        redeem(&app, &client, &code, authz.verifier.as_deref()).await,
        StatusCode::BAD_REQUEST,
        "invalid_grant",
    )
    .await;
    assert_eq!(userinfo_status(&app, access).await, StatusCode::UNAUTHORIZED, "oidcc-codereuse-30seconds");
    let res = refresh(&app, &client, refreshed["refresh_token"].as_str().unwrap(), None).await;
    oauth_error(res, StatusCode::BAD_REQUEST, "invalid_grant").await;
}

#[tokio::test]
async fn a_code_issued_to_one_client_cannot_be_redeemed_by_another() {
    let (app, client) = setup().await;
    let other = app.department_client().await;
    let (_, authz, code) = fresh_code(&app, &client, "openid").await;
    oauth_error(redeem(&app, &other, &code, authz.verifier.as_deref()).await, StatusCode::BAD_REQUEST, "invalid_grant")
        .await;
}

#[tokio::test]
async fn a_code_redeemed_with_another_redirect_uri_is_invalid_grant() {
    let (app, client) = setup().await;
    let (_, authz, code) = fresh_code(&app, &client, "openid").await;
    let other_uri = format!("{REDIRECT_URI}/other");
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", other_uri.as_str()),
        ("code_verifier", authz.verifier.as_deref().unwrap()),
    ];
    oauth_error(token_basic(&app, &client, &form).await, StatusCode::BAD_REQUEST, "invalid_grant").await;
}

#[tokio::test]
async fn a_code_redeemed_without_its_redirect_uri_is_refused() {
    let (app, client) = setup().await;
    let (_, authz, code) = fresh_code(&app, &client, "openid").await;
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("code_verifier", authz.verifier.as_deref().unwrap()),
    ];
    let res = token_basic(&app, &client, &form).await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let body: Value = res.json().await.unwrap();
    assert!(body["error"] == "invalid_request" || body["error"] == "invalid_grant", "{body}");
}

#[tokio::test]
async fn a_wrong_pkce_verifier_is_invalid_grant() {
    let (app, client) = setup().await;
    let (_, _, code) = fresh_code(&app, &client, "openid").await;
    let wrong = "a".repeat(43);
    oauth_error(redeem(&app, &client, &code, Some(&wrong)).await, StatusCode::BAD_REQUEST, "invalid_grant").await;
}

#[tokio::test]
async fn a_missing_pkce_verifier_is_invalid_grant() {
    let (app, client) = setup().await;
    let (_, _, code) = fresh_code(&app, &client, "openid").await;
    oauth_error(redeem(&app, &client, &code, None).await, StatusCode::BAD_REQUEST, "invalid_grant").await;
}

#[tokio::test]
async fn a_pkce_verifier_for_a_code_issued_without_a_challenge_is_invalid_grant() {
    let app = spawn_app().await;
    let client = app.client_with(|c| c.require_pkce = false).await;
    app.citizen(CITIZEN).await;
    let (browser, _) = browser_with_jar(&app.address);

    // Without PKCE the code is good (oidcc-ensure-request-without-nonce-succeeds-for-code-flow) ...
    let plain = authz(&app, client.id(), "openid", false, &[]);
    assert!(!plain.url.contains("code_challenge"));
    let code = code_for(&browser, &plain, CITIZEN).await;
    token_ok(redeem(&app, &client, &code, None).await).await;

    // ... but a verifier sent for such a code is a downgrade attempt.
    let plain = authz(&app, client.id(), "openid", false, &[]);
    let code = code_for(&browser, &plain, CITIZEN).await;
    let verifier = "b".repeat(43);
    oauth_error(redeem(&app, &client, &code, Some(&verifier)).await, StatusCode::BAD_REQUEST, "invalid_grant").await;
}

#[tokio::test]
async fn a_code_expires_after_sixty_seconds() {
    let (app, client) = setup().await;
    let (_, authz, code) = fresh_code(&app, &client, "openid").await;
    tokio::time::sleep(std::time::Duration::from_secs(62)).await;
    oauth_error(
        redeem(&app, &client, &code, authz.verifier.as_deref()).await,
        StatusCode::BAD_REQUEST,
        "invalid_grant",
    )
    .await;
}
