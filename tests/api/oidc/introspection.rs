//! Token introspection (RFC 7662) and revocation (RFC 7009): authenticated clients learn
//! about, and revoke, only their own tokens.

use super::flows::{
    SignedIn, assert_json, assert_no_store, basic_of, jwt_parts, oauth_error, post_form, refresh, signed_in_tokens,
    token_ok, userinfo_status,
};
use crate::fixtures::TestClient;
use crate::helpers::{TestApp, spawn_app};
use reqwest::StatusCode;
use serde_json::{Value, json};

const CITIZEN: &str = "chan.taiman";

async fn setup() -> (TestApp, TestClient, SignedIn) {
    let app = spawn_app().await;
    let client = app.department_client().await;
    app.citizen(CITIZEN).await;
    let tokens = signed_in_tokens(&app, &client, CITIZEN, &["profile"]).await;
    (app, client, tokens)
}

async fn introspect(app: &TestApp, client: &TestClient, token: &str) -> Value {
    let res = post_form(app, "/introspect", Some(&basic_of(client)), &[("token", token)]).await;
    let status = res.status();
    let headers = res.headers().clone();
    let text = res.text().await.unwrap();
    assert_eq!(status, StatusCode::OK, "{text}");
    assert_json(&headers);
    assert_no_store(&headers);
    serde_json::from_str(&text).unwrap()
}

async fn revoke(app: &TestApp, client: &TestClient, token: &str, hint: Option<&str>) -> reqwest::Response {
    let mut form = vec![("token", token)];
    if let Some(h) = hint {
        form.push(("token_type_hint", h));
    }
    post_form(app, "/revoke", Some(&basic_of(client)), &form).await
}

#[tokio::test]
async fn a_clients_own_access_token_introspects_as_active_with_its_claims() {
    let (app, client, tokens) = setup().await;
    let info = introspect(&app, &client, &tokens.access_token).await;
    let (_, claims) = jwt_parts(&tokens.access_token);
    assert_eq!(info["active"], true, "{info}");
    assert_eq!(info["client_id"], client.id(), "{info}");
    assert_eq!(info["sub"], claims["sub"], "{info}");
    assert_eq!(info["exp"], claims["exp"], "{info}");
    assert!(info["exp"].as_i64().is_some_and(|e| e > super::flows::now_secs()), "{info}");
    let scope: std::collections::BTreeSet<&str> = info["scope"].as_str().expect("scope").split(' ').collect();
    assert_eq!(scope, ["openid", "profile"].into(), "{info}");
}

#[tokio::test]
async fn a_clients_own_refresh_token_introspects_as_active() {
    let (app, client, tokens) = setup().await;
    let info = introspect(&app, &client, tokens.refresh_token()).await;
    assert_eq!(info["active"], true, "{info}");
    assert_eq!(info["client_id"], client.id(), "{info}");
}

#[tokio::test]
async fn a_rotated_refresh_token_introspects_as_inactive() {
    let (app, client, tokens) = setup().await;
    token_ok(refresh(&app, &client, tokens.refresh_token(), None).await).await;
    assert_eq!(introspect(&app, &client, tokens.refresh_token()).await, json!({ "active": false }));
}

#[tokio::test]
async fn revoked_and_garbage_tokens_introspect_as_inactive() {
    let (app, client, tokens) = setup().await;
    assert_eq!(introspect(&app, &client, "garbage").await, json!({ "active": false }));
    assert_eq!(
        introspect(&app, &client, &tokens.id_token).await,
        json!({ "active": false }),
        "an ID token is no access token"
    );
    assert_eq!(introspect(&app, &client, &tokens.access_token).await["active"], true, "active before revocation");
    assert_eq!(revoke(&app, &client, tokens.refresh_token(), None).await.status(), StatusCode::OK);
    assert_eq!(introspect(&app, &client, &tokens.access_token).await, json!({ "active": false }));
    assert_eq!(introspect(&app, &client, tokens.refresh_token()).await, json!({ "active": false }));
}

#[tokio::test]
async fn another_clients_tokens_introspect_as_inactive() {
    let (app, client, tokens) = setup().await;
    let other = app.department_client().await;
    assert_eq!(introspect(&app, &other, &tokens.access_token).await, json!({ "active": false }));
    assert_eq!(introspect(&app, &other, tokens.refresh_token()).await, json!({ "active": false }));
    // Control: they are live tokens.
    assert_eq!(introspect(&app, &client, &tokens.access_token).await["active"], true);
}

#[tokio::test]
async fn introspection_without_client_authentication_is_401() {
    let (app, client, tokens) = setup().await;
    let res = post_form(&app, "/introspect", None, &[("token", tokens.access_token.as_str())]).await;
    oauth_error(res, StatusCode::UNAUTHORIZED, "invalid_client").await;
    let wrong = super::flows::basic(client.id(), "wrong-secret");
    let res = post_form(&app, "/introspect", Some(&wrong), &[("token", tokens.access_token.as_str())]).await;
    let status = res.status();
    let text = res.text().await.unwrap();
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{text}");
    assert!(!text.contains("\"active\":true"), "{text}");
}

#[tokio::test]
async fn revoking_a_refresh_token_ends_the_refresh_and_the_grants_access_token() {
    let (app, client, tokens) = setup().await;
    assert_eq!(userinfo_status(&app, &tokens.access_token).await, StatusCode::OK);
    let res = revoke(&app, &client, tokens.refresh_token(), Some("refresh_token")).await;
    assert_eq!(res.status(), StatusCode::OK);
    oauth_error(refresh(&app, &client, tokens.refresh_token(), None).await, StatusCode::BAD_REQUEST, "invalid_grant")
        .await;
    assert_eq!(userinfo_status(&app, &tokens.access_token).await, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn revoking_an_access_token_makes_it_unusable() {
    let (app, client, tokens) = setup().await;
    let res = revoke(&app, &client, &tokens.access_token, Some("access_token")).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(userinfo_status(&app, &tokens.access_token).await, StatusCode::UNAUTHORIZED);
    assert_eq!(introspect(&app, &client, &tokens.access_token).await, json!({ "active": false }));
}

#[tokio::test]
async fn revoking_an_unknown_token_is_200() {
    let (app, client, _) = setup().await;
    assert_eq!(revoke(&app, &client, "no-such-token", None).await.status(), StatusCode::OK);
    assert_eq!(revoke(&app, &client, "no-such-token", Some("refresh_token")).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn revoking_another_clients_token_does_not_revoke_it() {
    let (app, client, tokens) = setup().await;
    let other = app.department_client().await;
    for token in [tokens.refresh_token(), tokens.access_token.as_str()] {
        let res = revoke(&app, &other, token, None).await;
        assert!(res.status() == StatusCode::OK || res.status().is_client_error(), "{}", res.status());
    }
    assert_eq!(userinfo_status(&app, &tokens.access_token).await, StatusCode::OK, "the access token still works");
    token_ok(refresh(&app, &client, tokens.refresh_token(), None).await).await;
}

#[tokio::test]
async fn revocation_without_client_authentication_is_401() {
    let (app, client, tokens) = setup().await;
    let res = post_form(&app, "/revoke", None, &[("token", tokens.refresh_token())]).await;
    oauth_error(res, StatusCode::UNAUTHORIZED, "invalid_client").await;
    token_ok(refresh(&app, &client, tokens.refresh_token(), None).await).await;
}
