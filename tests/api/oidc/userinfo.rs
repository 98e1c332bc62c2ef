//! The userinfo endpoint (OIDC Core §5.3, RFC 6750): the three ways to present the token
//! (oidcc-userinfo-get / -post-header / -post-body), bearer errors, no tokens in query
//! strings (RFC 9700), and the claims of each scope (oidcc-scope-*).

use super::flows::{SignedIn, jwt_parts, signed_in_tokens, token_basic, token_ok, userinfo, userinfo_ok};
use crate::helpers::{TestApp, spawn_app};
use reqwest::StatusCode;
use serde_json::Value;

const CITIZEN: &str = "chan.taiman";

async fn setup(scopes: &[&str]) -> (TestApp, SignedIn) {
    let app = spawn_app().await;
    let client = app.department_client().await;
    app.citizen(CITIZEN).await;
    let tokens = signed_in_tokens(&app, &client, CITIZEN, scopes).await;
    (app, tokens)
}

fn id_token_sub(tokens: &SignedIn) -> Value {
    let (_, claims) = jwt_parts(&tokens.id_token);
    assert!(claims["sub"].is_string());
    claims["sub"].clone()
}

fn challenge(res: &reqwest::Response) -> String {
    res.headers()
        .get("www-authenticate")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_else(|| panic!("no WWW-Authenticate on {}: {:?}", res.status(), res.headers()))
}

#[tokio::test]
async fn userinfo_answers_get_with_a_bearer_header() {
    let (app, tokens) = setup(&["profile"]).await;
    let info = userinfo_ok(userinfo(&app, &tokens.access_token).await).await;
    assert_eq!(info["sub"], id_token_sub(&tokens), "{info}");
    assert_eq!(info["name"], "CHAN, Tai Man", "{info}");
}

#[tokio::test]
async fn userinfo_answers_post_with_a_bearer_header() {
    let (app, tokens) = setup(&["profile"]).await;
    let res =
        app.http.post(format!("{}/userinfo", app.address)).bearer_auth(&tokens.access_token).send().await.unwrap();
    let info = userinfo_ok(res).await;
    assert_eq!(info["sub"], id_token_sub(&tokens), "{info}");
    assert_eq!(info["name"], "CHAN, Tai Man", "{info}");
}

#[tokio::test]
async fn userinfo_answers_post_with_the_token_in_the_form_body() {
    let (app, tokens) = setup(&["profile"]).await;
    let res = app
        .http
        .post(format!("{}/userinfo", app.address))
        .form(&[("access_token", tokens.access_token.as_str())])
        .send()
        .await
        .unwrap();
    let info = userinfo_ok(res).await;
    assert_eq!(info["sub"], id_token_sub(&tokens), "{info}");
}

#[tokio::test]
async fn userinfo_without_a_token_is_401_with_a_bearer_challenge() {
    let app = spawn_app().await;
    for res in [
        app.get("/userinfo").await,
        app.http.post(format!("{}/userinfo", app.address)).form(&[("x", "y")]).send().await.unwrap(),
    ] {
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
        let challenge = challenge(&res);
        assert!(challenge.starts_with("Bearer"), "{challenge}");
        // RFC 6750 §3.1: no error code when the request had no authentication at all.
        assert!(!challenge.contains("error="), "{challenge}");
    }
}

#[tokio::test]
async fn userinfo_with_a_garbage_token_is_401_invalid_token() {
    let app = spawn_app().await;
    for token in ["garbage", "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.", "a.b.c"] {
        let res = userinfo(&app, token).await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "{token}");
        let challenge = challenge(&res);
        assert!(challenge.starts_with("Bearer") && challenge.contains("error=\"invalid_token\""), "{challenge}");
    }
}

#[tokio::test]
async fn an_id_token_is_not_accepted_as_an_access_token() {
    let (app, tokens) = setup(&[]).await;
    let res = userinfo(&app, &tokens.id_token).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert!(challenge(&res).contains("error=\"invalid_token\""));
}

#[tokio::test]
async fn userinfo_does_not_accept_an_access_token_in_the_query_string() {
    let (app, tokens) = setup(&["profile"]).await;
    let query: String =
        url::form_urlencoded::Serializer::new(String::new()).append_pair("access_token", &tokens.access_token).finish();
    let res = app.get(&format!("/userinfo?{query}")).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "RFC 9700 §2.4: no access tokens in query strings");
    let text = res.text().await.unwrap();
    assert!(!text.contains("CHAN"), "{text}");
    // Control: the same token in the header is good.
    userinfo_ok(userinfo(&app, &tokens.access_token).await).await;
}

#[tokio::test]
async fn userinfo_refuses_a_token_sent_both_in_the_header_and_the_body() {
    let (app, tokens) = setup(&[]).await;
    let res = app
        .http
        .post(format!("{}/userinfo", app.address))
        .bearer_auth(&tokens.access_token)
        .form(&[("access_token", tokens.access_token.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST, "RFC 6750 §2: one method per request");
    assert!(challenge(&res).contains("invalid_request"));
}

#[tokio::test]
async fn userinfo_returns_the_claims_of_the_profile_email_phone_and_address_scopes() {
    let (app, tokens) = setup(&["profile", "email", "phone", "address"]).await;
    let info = userinfo_ok(userinfo(&app, &tokens.access_token).await).await;
    assert_eq!(info["sub"], id_token_sub(&tokens), "{info}");
    assert_eq!(info["name"], "CHAN, Tai Man", "{info}");
    assert_eq!(info["name#zh-Hant-HK"], "陳大文", "{info}");
    assert_eq!(info["birthdate"], "1980-02-29", "{info}");
    assert_eq!(info["gender"], "male", "{info}");
    assert!(info["updated_at"].is_i64(), "updated_at in seconds: {info}");
    assert_eq!(info["email"], "taiman.chan@example.hk", "{info}");
    assert!(info["email_verified"].is_boolean(), "{info}");
    assert_eq!(info["phone_number"], "+85291234567", "E.164: {info}");
    assert!(info["phone_number_verified"].is_boolean(), "{info}");
    assert_eq!(info["address"]["formatted"], "Flat A, 1/F, 1 Queen's Road Central, Hong Kong", "{info}");
    assert!(info.get("hkid").is_none(), "hkid needs hk_identity: {info}");
}

#[tokio::test]
async fn userinfo_returns_the_hkid_for_the_hk_identity_scope() {
    let (app, tokens) = setup(&["hk_identity"]).await;
    let info = userinfo_ok(userinfo(&app, &tokens.access_token).await).await;
    assert_eq!(info["hkid"], "A123456(3)", "{info}");
    assert!(info.get("email").is_none(), "{info}");
}

#[tokio::test]
async fn userinfo_returns_only_the_subject_for_the_openid_scope_alone() {
    let (app, tokens) = setup(&[]).await;
    let info = userinfo_ok(userinfo(&app, &tokens.access_token).await).await;
    assert_eq!(info["sub"], id_token_sub(&tokens), "{info}");
    for name in ["name", "name#zh-Hant-HK", "birthdate", "gender", "email", "phone_number", "address", "hkid"] {
        assert!(info.get(name).is_none(), "{name} was not granted: {info}");
    }
}

#[tokio::test]
async fn userinfo_refuses_a_client_credentials_token() {
    let app = spawn_app().await;
    let client = app.department_client().await;
    let body = token_ok(token_basic(&app, &client, &[("grant_type", "client_credentials")]).await).await;
    let res = userinfo(&app, body["access_token"].as_str().unwrap()).await;
    let status = res.status();
    let challenge = challenge(&res);
    match status {
        StatusCode::FORBIDDEN => assert!(challenge.contains("error=\"insufficient_scope\""), "{challenge}"),
        StatusCode::UNAUTHORIZED => assert!(challenge.contains("error=\"invalid_token\""), "{challenge}"),
        other => panic!("a token without a citizen must be refused, got {other}"),
    }
    assert!(challenge.starts_with("Bearer"), "{challenge}");
}
