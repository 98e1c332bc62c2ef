//! Client authentication at the token endpoint (RFC 6749 §2.3.1, §3.2.1, §5.2; OIDC Core §9),
//! the shape of its error responses, unsupported grants, and the client-credentials grant.
//! CONFORMANCE §2 (oidcc-server-client-secret-post), §3 (client authentication, no ROPC,
//! repeated parameters). Throttling is in `throttling.rs`.

use super::flows::{
    authz, b64_encode, basic, basic_of, basic_raw, browser_with_jar, code_for, jwt_parts, oauth_error, post_form,
    token_basic, token_ok,
};
use crate::fixtures::{REDIRECT_URI, TestClient};
use crate::helpers::{TestApp, spawn_app};
use reqwest::StatusCode;
use tessera_domain::TokenEndpointAuthMethod;

const CITIZEN: &str = "chan.taiman";
const CLIENT_CREDENTIALS: [(&str, &str); 1] = [("grant_type", "client_credentials")];

/// Replaces a client's secret (the digest Tessera stores), to test secrets with characters
/// that generated ones never contain.
async fn set_secret(app: &TestApp, client: &TestClient, secret: &str) {
    let mut updated = client.client.clone();
    updated.secret_digest = Some(tessera_crypto::token_digest(secret));
    app.db().await.run(move |conn| tessera_store::clients::update(conn, &updated)).await.unwrap();
}

#[tokio::test]
async fn client_secret_basic_form_decodes_the_client_id() {
    let app = spawn_app().await;
    let client = app.client_with(|c| c.client_id = Some("dept_a-1".into())).await;
    assert_eq!(client.id(), "dept_a-1");
    let secret = url::form_urlencoded::byte_serialize(client.secret().as_bytes()).collect::<String>();

    // As is, and with '_' and '-' percent-encoded (a conforming client may encode any byte).
    token_ok(post_form(&app, "/token", Some(&basic_of(&client)), &CLIENT_CREDENTIALS).await).await;
    let encoded = basic_raw(&format!("dept%5Fa%2D1:{secret}"));
    token_ok(post_form(&app, "/token", Some(&encoded), &CLIENT_CREDENTIALS).await).await;
    // Control: a different id, encoded the same way, is refused.
    let other = basic_raw(&format!("dept%5Fa%2D2:{secret}"));
    oauth_error(
        post_form(&app, "/token", Some(&other), &CLIENT_CREDENTIALS).await,
        StatusCode::UNAUTHORIZED,
        "invalid_client",
    )
    .await;
}

#[tokio::test]
async fn client_secret_basic_form_decodes_plus_and_percent_escapes_in_the_secret() {
    let app = spawn_app().await;
    let client = app.client_with(|c| c.client_id = Some("dept_a-1".into())).await;
    let secret = "plus+and space/100%:colon";
    set_secret(&app, &client, secret).await;

    // Form-urlencoded before base64: '+' is sent as %2B, the space as '+'.
    let header = basic("dept_a-1", secret);
    assert!(b64_encode(b"dept_a-1:plus%2Band+space%2F100%25%3Acolon") == header["Basic ".len()..], "{header}");
    token_ok(post_form(&app, "/token", Some(&header), &CLIENT_CREDENTIALS).await).await;

    // Sent without the encoding, '+' would decode to a space: not the secret.
    let raw = basic_raw("dept_a-1:plus+and space/100%25:colon");
    oauth_error(
        post_form(&app, "/token", Some(&raw), &CLIENT_CREDENTIALS).await,
        StatusCode::UNAUTHORIZED,
        "invalid_client",
    )
    .await;
}

#[tokio::test]
async fn client_secret_post_works_for_a_client_registered_for_it() {
    let app = spawn_app().await;
    let client = app.client_with(|c| c.token_endpoint_auth_method = TokenEndpointAuthMethod::ClientSecretPost).await;
    app.citizen(CITIZEN).await;
    let (browser, _) = browser_with_jar(&app.address);
    let authz = authz(&app, client.id(), "openid", true, &[]);
    let code = code_for(&browser, &authz, CITIZEN).await;
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", REDIRECT_URI),
        ("code_verifier", authz.verifier.as_deref().unwrap()),
        ("client_id", client.id()),
        ("client_secret", client.secret()),
    ];
    let body = token_ok(post_form(&app, "/token", None, &form).await).await;
    assert!(body["id_token"].is_string(), "{body}");
}

#[tokio::test]
async fn a_client_registered_for_client_secret_basic_cannot_use_client_secret_post() {
    let app = spawn_app().await;
    let client = app.department_client().await;
    assert_eq!(client.client.token_endpoint_auth_method, TokenEndpointAuthMethod::ClientSecretBasic);
    let form = [("grant_type", "client_credentials"), ("client_id", client.id()), ("client_secret", client.secret())];
    oauth_error(post_form(&app, "/token", None, &form).await, StatusCode::UNAUTHORIZED, "invalid_client").await;
    // Control: the same credentials in the header work.
    token_ok(token_basic(&app, &client, &CLIENT_CREDENTIALS).await).await;
}

#[tokio::test]
async fn a_client_registered_for_client_secret_post_cannot_use_client_secret_basic() {
    let app = spawn_app().await;
    let client = app.client_with(|c| c.token_endpoint_auth_method = TokenEndpointAuthMethod::ClientSecretPost).await;
    oauth_error(token_basic(&app, &client, &CLIENT_CREDENTIALS).await, StatusCode::UNAUTHORIZED, "invalid_client")
        .await;
}

#[tokio::test]
async fn two_client_authentication_methods_in_one_request_are_invalid_request() {
    let app = spawn_app().await;
    let client = app.department_client().await;
    let form = [("grant_type", "client_credentials"), ("client_id", client.id()), ("client_secret", client.secret())];
    oauth_error(
        post_form(&app, "/token", Some(&basic_of(&client)), &form).await,
        StatusCode::BAD_REQUEST,
        "invalid_request",
    )
    .await;
}

#[tokio::test]
async fn a_wrong_client_secret_is_401_invalid_client_with_www_authenticate() {
    let app = spawn_app().await;
    let client = app.department_client().await;
    let wrong = format!("{}x", client.secret());
    let res = post_form(&app, "/token", Some(&basic(client.id(), &wrong)), &CLIENT_CREDENTIALS).await;
    let challenge = res.headers().get("www-authenticate").map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default();
    oauth_error(res, StatusCode::UNAUTHORIZED, "invalid_client").await;
    assert!(challenge.to_ascii_lowercase().starts_with("basic"), "a Basic challenge: {challenge:?}");
}

#[tokio::test]
async fn an_unknown_client_is_401_invalid_client() {
    let app = spawn_app().await;
    let res = post_form(&app, "/token", Some(&basic("no-such-client", "some-secret")), &CLIENT_CREDENTIALS).await;
    oauth_error(res, StatusCode::UNAUTHORIZED, "invalid_client").await;
    let form = [("grant_type", "client_credentials"), ("client_id", "no-such-client"), ("client_secret", "x")];
    oauth_error(post_form(&app, "/token", None, &form).await, StatusCode::UNAUTHORIZED, "invalid_client").await;
}

#[tokio::test]
async fn a_token_request_without_client_authentication_is_401_invalid_client() {
    let app = spawn_app().await;
    let client = app.department_client().await;
    oauth_error(post_form(&app, "/token", None, &CLIENT_CREDENTIALS).await, StatusCode::UNAUTHORIZED, "invalid_client")
        .await;
    // A confidential client naming itself without its secret is not authenticated either.
    let form = [("grant_type", "client_credentials"), ("client_id", client.id())];
    oauth_error(post_form(&app, "/token", None, &form).await, StatusCode::UNAUTHORIZED, "invalid_client").await;
}

#[tokio::test]
async fn repeated_token_parameters_are_invalid_request() {
    let app = spawn_app().await;
    let client = app.department_client().await;
    app.citizen(CITIZEN).await;
    let (browser, _) = browser_with_jar(&app.address);
    let authz = authz(&app, client.id(), "openid", true, &[]);
    let code = code_for(&browser, &authz, CITIZEN).await;
    let verifier = authz.verifier.as_deref().unwrap();
    let base = vec![
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", REDIRECT_URI),
        ("code_verifier", verifier),
    ];
    for repeated in [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", REDIRECT_URI),
        ("code_verifier", verifier),
    ] {
        let mut form = base.clone();
        form.push(repeated);
        oauth_error(token_basic(&app, &client, &form).await, StatusCode::BAD_REQUEST, "invalid_request").await;
    }
    let mut form = base.clone();
    form.extend([("client_id", client.id()), ("client_id", client.id())]);
    oauth_error(token_basic(&app, &client, &form).await, StatusCode::BAD_REQUEST, "invalid_request").await;
    // Control: the same request without the repetition redeems the code.
    token_ok(token_basic(&app, &client, &base).await).await;
}

#[tokio::test]
async fn the_password_implicit_and_device_code_grants_are_unsupported() {
    let app = spawn_app().await;
    let client = app.department_client().await;
    app.citizen(CITIZEN).await;
    let password = [
        ("grant_type", "password"),
        ("username", CITIZEN),
        ("password", crate::fixtures::PASSWORD),
        ("scope", "openid"),
    ];
    oauth_error(token_basic(&app, &client, &password).await, StatusCode::BAD_REQUEST, "unsupported_grant_type").await;
    let implicit = [("grant_type", "implicit"), ("scope", "openid")];
    oauth_error(token_basic(&app, &client, &implicit).await, StatusCode::BAD_REQUEST, "unsupported_grant_type").await;
    let device = [
        ("grant_type", "urn:ietf:params:oauth:grant-type:device_code"),
        ("device_code", "GmRhmhcxhwAzkoEqiMEg_DnyEysNkuNhszIySk9eS"),
    ];
    oauth_error(token_basic(&app, &client, &device).await, StatusCode::BAD_REQUEST, "unsupported_grant_type").await;
}

#[tokio::test]
async fn a_token_request_without_grant_type_is_invalid_request() {
    let app = spawn_app().await;
    let client = app.department_client().await;
    oauth_error(token_basic(&app, &client, &[("scope", "openid")]).await, StatusCode::BAD_REQUEST, "invalid_request")
        .await;
    // Empty counts as absent.
    oauth_error(token_basic(&app, &client, &[("grant_type", "")]).await, StatusCode::BAD_REQUEST, "invalid_request")
        .await;
}

#[tokio::test]
async fn a_token_request_that_is_not_form_encoded_gets_a_json_oauth_error() {
    let app = spawn_app().await;
    let client = app.department_client().await;
    let res = app
        .http
        .post(format!("{}/token", app.address))
        .header("authorization", basic_of(&client))
        .header("content-type", "application/json")
        .body(r#"{"grant_type":"client_credentials"}"#)
        .send()
        .await
        .unwrap();
    let status = res.status();
    assert!(status == StatusCode::BAD_REQUEST || status == StatusCode::UNSUPPORTED_MEDIA_TYPE, "{status}");
    oauth_error(res, status, "invalid_request").await;
}

#[tokio::test]
async fn client_credentials_gives_a_confidential_client_an_access_token_only() {
    let app = spawn_app().await;
    let client = app.department_client().await;
    let body = token_ok(token_basic(&app, &client, &CLIENT_CREDENTIALS).await).await;
    assert_eq!(body["token_type"], "Bearer", "{body}");
    assert!(body["expires_in"].as_i64().is_some_and(|e| e > 0), "{body}");
    assert!(body.get("id_token").is_none(), "no ID token without a citizen: {body}");
    assert!(body.get("refresh_token").is_none(), "no refresh token for client credentials: {body}");
    let (header, claims) = jwt_parts(body["access_token"].as_str().unwrap());
    assert_eq!(header["typ"], "at+jwt");
    assert_eq!(claims["client_id"], client.id(), "{claims}");
}

#[tokio::test]
async fn client_credentials_with_the_openid_scope_is_invalid_scope() {
    let app = spawn_app().await;
    let client = app.department_client().await;
    let form = [("grant_type", "client_credentials"), ("scope", "openid")];
    oauth_error(token_basic(&app, &client, &form).await, StatusCode::BAD_REQUEST, "invalid_scope").await;
}

#[tokio::test]
async fn a_public_client_cannot_use_client_credentials() {
    let app = spawn_app().await;
    let client = app
        .client_with(|c| {
            c.token_endpoint_auth_method = TokenEndpointAuthMethod::None;
            c.require_pkce = true;
        })
        .await;
    assert!(client.secret.is_none());
    let form = [("grant_type", "client_credentials"), ("client_id", client.id())];
    let res = post_form(&app, "/token", None, &form).await;
    match res.status() {
        StatusCode::BAD_REQUEST => oauth_error(res, StatusCode::BAD_REQUEST, "unauthorized_client").await,
        _ => oauth_error(res, StatusCode::UNAUTHORIZED, "invalid_client").await,
    };
    // It is a working public client otherwise: it redeems its own codes with PKCE alone.
    app.citizen(CITIZEN).await;
    let (browser, _) = browser_with_jar(&app.address);
    let authz = authz(&app, client.id(), "openid", true, &[]);
    let code = code_for(&browser, &authz, CITIZEN).await;
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", REDIRECT_URI),
        ("code_verifier", authz.verifier.as_deref().unwrap()),
        ("client_id", client.id()),
    ];
    token_ok(post_form(&app, "/token", None, &form).await).await;
}
