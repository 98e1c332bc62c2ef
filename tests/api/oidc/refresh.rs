//! The refresh-token grant: a new ID token for the same authentication (OIDC Core §12.2,
//! oidcc-refresh-token), rotation with reuse detection (RFC 9700 §4.14.2), binding to the
//! client and to the granted scope (RFC 6749 §6).

use super::flows::{
    SignedIn, jwt_parts, oauth_error, refresh, scope_set, scopes, signed_in_tokens, token_ok, userinfo, userinfo_ok,
    userinfo_status, verify_id_token,
};
use crate::fixtures::TestClient;
use crate::helpers::{TestApp, spawn_app};
use openidconnect::core::CoreJwsSigningAlgorithm;
use reqwest::StatusCode;
use serde_json::Value;

const CITIZEN: &str = "chan.taiman";

async fn setup(scopes: &[&str]) -> (TestApp, TestClient, SignedIn) {
    let app = spawn_app().await;
    let client = app.department_client().await;
    app.citizen(CITIZEN).await;
    let tokens = signed_in_tokens(&app, &client, CITIZEN, scopes).await;
    assert!(tokens.refresh_token.is_some(), "a confidential client gets a refresh token: {}", tokens.response);
    (app, client, tokens)
}

fn str_of<'a>(body: &'a Value, name: &str) -> &'a str {
    body[name].as_str().unwrap_or_else(|| panic!("no {name} in {body}"))
}

#[tokio::test]
async fn a_refresh_returns_new_tokens_and_an_id_token_of_the_same_authentication() {
    let (app, client, tokens) = setup(&["profile"]).await;
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let body = token_ok(refresh(&app, &client, tokens.refresh_token(), None).await).await;
    assert_eq!(body["token_type"], "Bearer");
    let access = str_of(&body, "access_token");
    let new_refresh = str_of(&body, "refresh_token");
    assert_ne!(access, tokens.access_token, "a new access token");
    assert_ne!(new_refresh, tokens.refresh_token(), "a new refresh token (rotation)");

    let id_token = str_of(&body, "id_token");
    verify_id_token(&app, &client, id_token, CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256, None)
        .await
        .expect("the refreshed ID token verifies");
    let (_, old) = jwt_parts(&tokens.id_token);
    let (_, new) = jwt_parts(id_token);
    for claim in ["iss", "sub", "aud", "auth_time", "azp", "acr"] {
        assert_eq!(new[claim], old[claim], "{claim} stays the same (OIDC Core §12.2)");
    }
    assert!(new["iat"].as_i64().unwrap() > old["iat"].as_i64().unwrap(), "a new iat: {old} / {new}");
    assert_eq!(userinfo_status(&app, access).await, StatusCode::OK);
}

#[tokio::test]
async fn a_rotated_refresh_token_presented_again_is_invalid_grant_and_revokes_the_family() {
    let (app, client, tokens) = setup(&[]).await;
    let second = token_ok(refresh(&app, &client, tokens.refresh_token(), None).await).await;
    let third = token_ok(refresh(&app, &client, str_of(&second, "refresh_token"), None).await).await;
    let newest_access = str_of(&third, "access_token");
    let newest_refresh = str_of(&third, "refresh_token");
    assert_eq!(userinfo_status(&app, newest_access).await, StatusCode::OK);

    // The first refresh token again: replayed, so the whole family ends.
    oauth_error(refresh(&app, &client, tokens.refresh_token(), None).await, StatusCode::BAD_REQUEST, "invalid_grant")
        .await;
    oauth_error(refresh(&app, &client, newest_refresh, None).await, StatusCode::BAD_REQUEST, "invalid_grant").await;
    assert_eq!(
        userinfo_status(&app, newest_access).await,
        StatusCode::UNAUTHORIZED,
        "the newest access token is revoked"
    );
    assert_eq!(userinfo_status(&app, &tokens.access_token).await, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_refresh_token_of_another_client_is_invalid_grant() {
    let (app, client, tokens) = setup(&[]).await;
    let other = app.department_client().await;
    oauth_error(refresh(&app, &other, tokens.refresh_token(), None).await, StatusCode::BAD_REQUEST, "invalid_grant")
        .await;
    // Control: its own client can still use it.
    token_ok(refresh(&app, &client, tokens.refresh_token(), None).await).await;
}

#[tokio::test]
async fn a_refresh_with_a_narrower_scope_is_allowed() {
    let (app, client, tokens) = setup(&["profile", "email"]).await;
    let body = token_ok(refresh(&app, &client, tokens.refresh_token(), Some("openid email")).await).await;
    let (_, claims) = jwt_parts(str_of(&body, "access_token"));
    assert_eq!(scopes(&claims["scope"]), scope_set(&["openid", "email"]), "the narrower scope: {claims}");
    if body.get("scope").is_some() {
        assert_eq!(scopes(&body["scope"]), scope_set(&["openid", "email"]), "{body}");
    }
}

#[tokio::test]
async fn a_refresh_with_a_wider_scope_is_invalid_scope() {
    let (app, client, tokens) = setup(&["profile"]).await;
    let res = refresh(&app, &client, tokens.refresh_token(), Some("openid profile email")).await;
    oauth_error(res, StatusCode::BAD_REQUEST, "invalid_scope").await;
    // offline_access is a scope like any other: not granted, not added by a refresh.
    let again = signed_in_tokens(&app, &client, CITIZEN, &["profile"]).await;
    let res = refresh(&app, &client, again.refresh_token(), Some("openid profile offline_access")).await;
    oauth_error(res, StatusCode::BAD_REQUEST, "invalid_scope").await;
}

#[tokio::test]
async fn a_refresh_refused_for_its_scope_leaves_the_refresh_token_usable() {
    let (app, client, tokens) = setup(&["profile"]).await;
    let res = refresh(&app, &client, tokens.refresh_token(), Some("openid profile email")).await;
    oauth_error(res, StatusCode::BAD_REQUEST, "invalid_scope").await;
    // No new refresh token was issued, so the presented one must still be the live one:
    // burning it (or treating the retry as a replay) would end a legitimate grant.
    token_ok(refresh(&app, &client, tokens.refresh_token(), None).await).await;
    assert_eq!(userinfo_status(&app, &tokens.access_token).await, StatusCode::OK);
}

#[tokio::test]
async fn a_narrowed_access_token_releases_only_the_claims_of_its_scope() {
    let (app, client, tokens) = setup(&["profile", "email"]).await;
    let before = userinfo_ok(userinfo(&app, &tokens.access_token).await).await;
    assert_eq!(before["email"], "taiman.chan@example.hk", "{before}");
    assert_eq!(before["name"], "CHAN, Tai Man", "{before}");
    let body = token_ok(refresh(&app, &client, tokens.refresh_token(), Some("openid email")).await).await;
    let info = userinfo_ok(userinfo(&app, str_of(&body, "access_token")).await).await;
    assert_eq!(info["email"], "taiman.chan@example.hk", "{info}");
    assert!(info.get("name").is_none(), "a token narrowed to `openid email` must not release profile claims: {info}");
    assert!(info.get("birthdate").is_none(), "{info}");
}

#[tokio::test]
async fn a_narrowed_refresh_keeps_the_refresh_tokens_original_scope() {
    // RFC 6749 §6: "If a new refresh token is issued, the refresh token scope MUST be
    // identical to that of the refresh token included by the client in the request."
    let (app, client, tokens) = setup(&["profile", "email"]).await;
    let narrowed = token_ok(refresh(&app, &client, tokens.refresh_token(), Some("openid email")).await).await;
    let body =
        token_ok(refresh(&app, &client, str_of(&narrowed, "refresh_token"), Some("openid profile email")).await).await;
    let (_, claims) = jwt_parts(str_of(&body, "access_token"));
    assert_eq!(scopes(&claims["scope"]), scope_set(&["openid", "profile", "email"]), "{claims}");
}
