//! RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0) at `/end_session`: a
//! redirect only to a registered post-logout URI of a verified hint's client, a
//! confirmation page otherwise, and the SSO session (and its refresh tokens) gone after.
//! CONFORMANCE §3 (refresh tokens revoked on logout), §5 (sessions deleted server-side).

use super::browser::{Browser, hidden, location_params};
use super::flows::{SignedIn, authz, cookies, oauth_error, refresh, signed_in_tokens};
use crate::fixtures::{POST_LOGOUT_URI, REDIRECT_URI, TestClient};
use crate::helpers::{TestApp, spawn_app};
use reqwest::StatusCode;
use std::collections::HashMap;

const CITIZEN: &str = "chan.taiman";

async fn setup() -> (TestApp, TestClient, SignedIn) {
    let app = spawn_app().await;
    let client = app.department_client().await;
    app.citizen(CITIZEN).await;
    let tokens = signed_in_tokens(&app, &client, CITIZEN, &[]).await;
    (app, client, tokens)
}

/// `/authorize` with `prompt=none` sent by `http` (which carries the cookies): the
/// parameters of the redirect back to the department.
async fn prompt_none(
    app: &TestApp,
    http: &reqwest::Client,
    cookie: Option<&str>,
    client: &TestClient,
) -> HashMap<String, String> {
    let request = authz(app, client.id(), "openid", true, &[("prompt", "none")]);
    let mut get = http.get(&request.url);
    if let Some(cookie) = cookie {
        get = get.header("cookie", cookie);
    }
    let res = get.send().await.unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER, "prompt=none answers with a redirect");
    let (url, params) = location_params(&res);
    assert!(url.as_str().starts_with(REDIRECT_URI), "{url}");
    assert_eq!(params.get("state"), Some(&request.state));
    params
}

async fn assert_signed_in(app: &TestApp, browser: &Browser, client: &TestClient) {
    let params = prompt_none(app, &browser.http, None, client).await;
    assert!(params.contains_key("code"), "the SSO session should be alive: {params:?}");
}

async fn assert_signed_out(app: &TestApp, browser: &Browser, client: &TestClient) {
    let params = prompt_none(app, &browser.http, None, client).await;
    assert_eq!(params.get("error").map(String::as_str), Some("login_required"), "{params:?}");
    assert!(!params.contains_key("code"));
}

fn end_session_url(pairs: &[(&str, &str)]) -> String {
    let query: String = url::form_urlencoded::Serializer::new(String::new()).extend_pairs(pairs).finish();
    format!("/end_session?{query}")
}

#[tokio::test]
async fn logout_with_a_valid_hint_redirects_to_exactly_the_registered_uri_with_state_and_ends_the_session() {
    let (app, client, tokens) = setup().await;
    assert_signed_in(&app, &tokens.browser, &client).await;
    let state = "st+ate/1=&x y";
    let url = end_session_url(&[
        ("id_token_hint", tokens.id_token.as_str()),
        ("post_logout_redirect_uri", POST_LOGOUT_URI),
        ("state", state),
    ]);
    let res = tokens.browser.get(&url).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let (location, params) = location_params(&res);
    let mut bare = location.clone();
    bare.set_query(None);
    assert_eq!(bare.as_str(), POST_LOGOUT_URI, "{location}");
    assert_eq!(params, HashMap::from([("state".to_owned(), state.to_owned())]), "only state, byte-exact: {location}");
    assert_signed_out(&app, &tokens.browser, &client).await;
}

#[tokio::test]
async fn logout_deletes_the_sso_session_on_the_server() {
    let (app, client, tokens) = setup().await;
    let stolen = cookies(&tokens.jar, &app.address);
    assert!(stolen.contains("tessera_sid="), "{stolen}");
    // Control: replaying the cookie from another client works while the session lives.
    let params = prompt_none(&app, &app.http, Some(&stolen), &client).await;
    assert!(params.contains_key("code"), "{params:?}");

    let url =
        end_session_url(&[("id_token_hint", tokens.id_token.as_str()), ("post_logout_redirect_uri", POST_LOGOUT_URI)]);
    assert_eq!(tokens.browser.get(&url).await.status(), StatusCode::SEE_OTHER);
    let params = prompt_none(&app, &app.http, Some(&stolen), &client).await;
    assert_eq!(params.get("error").map(String::as_str), Some("login_required"), "the old cookie is dead: {params:?}");
}

#[tokio::test]
async fn logout_never_redirects_to_an_unregistered_post_logout_uri() {
    let (_app, _, tokens) = setup().await;
    let lookalikes = [
        format!("{POST_LOGOUT_URI}evil"),
        format!("{POST_LOGOUT_URI}?next=https://evil.example/"),
        "https://portal.transport.example.gov.hk.evil.example/".to_owned(),
        "https://evil.example/".to_owned(),
        REDIRECT_URI.to_owned(),
    ];
    for uri in &lookalikes {
        let url = end_session_url(&[
            ("id_token_hint", tokens.id_token.as_str()),
            ("post_logout_redirect_uri", uri.as_str()),
            ("state", "s"),
        ]);
        let res = tokens.browser.get(&url).await;
        let location = res.headers().get("location").map(|v| v.to_str().unwrap().to_owned());
        assert!(location.is_none(), "{uri} is not registered, yet redirected to {location:?}");
        assert_eq!(res.status(), StatusCode::OK, "a signed-out or confirmation page for {uri}");
        let html = res.text().await.unwrap();
        assert!(!html.contains("http-equiv=\"refresh\""), "no meta refresh either");
    }
}

#[tokio::test]
async fn a_forged_hint_gets_the_confirmation_page_and_no_redirect() {
    let (app, client, tokens) = setup().await;
    let mut parts: Vec<String> = tokens.id_token.split('.').map(str::to_owned).collect();
    let first = if parts[2].starts_with('A') { "B" } else { "A" };
    parts[2].replace_range(0..1, first);
    let forged = parts.join(".");
    let url = end_session_url(&[("id_token_hint", forged.as_str()), ("post_logout_redirect_uri", POST_LOGOUT_URI)]);
    let res = tokens.browser.get(&url).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.headers().get("location").is_none());
    let html = res.text().await.unwrap();
    assert!(hidden(&html, "csrf").is_some(), "the confirmation form: {html}");
    assert_signed_in(&app, &tokens.browser, &client).await;
}

#[tokio::test]
async fn logout_without_a_hint_asks_for_confirmation_with_a_csrf_token() {
    let (app, client, tokens) = setup().await;
    let url =
        end_session_url(&[("post_logout_redirect_uri", POST_LOGOUT_URI), ("state", "s1"), ("client_id", client.id())]);
    let res = tokens.browser.get(&url).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.headers().get("location").is_none(), "no redirect without a verified hint");
    let html = res.text().await.unwrap();
    assert!(html.contains("action=\"/end_session/confirm\""), "{html}");
    assert!(hidden(&html, "csrf").is_some_and(|t| t.len() >= 22), "a CSRF field: {html}");
    assert_signed_in(&app, &tokens.browser, &client).await;
}

#[tokio::test]
async fn confirming_logout_ends_the_session() {
    let (app, client, tokens) = setup().await;
    let url =
        end_session_url(&[("post_logout_redirect_uri", POST_LOGOUT_URI), ("state", "s2"), ("client_id", client.id())]);
    let html = tokens.browser.get(&url).await.text().await.unwrap();
    let csrf = hidden(&html, "csrf").expect("csrf field");
    let mut form = vec![("csrf".to_owned(), csrf)];
    for name in ["post_logout_redirect_uri", "state", "client_id"] {
        if let Some(value) = hidden(&html, name) {
            form.push((name.to_owned(), value));
        }
    }
    let res =
        tokens.browser.http.post(format!("{}/end_session/confirm", app.address)).form(&form).send().await.unwrap();
    assert!(res.status() == StatusCode::OK || res.status() == StatusCode::SEE_OTHER, "{}", res.status());
    if let Some(location) = res.headers().get("location") {
        let location = location.to_str().unwrap();
        assert!(
            location.starts_with(POST_LOGOUT_URI) || location.starts_with('/'),
            "only to a registered URI: {location}"
        );
    }
    assert_signed_out(&app, &tokens.browser, &client).await;
}

#[tokio::test]
async fn confirming_logout_without_the_csrf_token_is_refused() {
    let (app, client, tokens) = setup().await;
    let html = tokens.browser.get(&end_session_url(&[("client_id", client.id())])).await.text().await.unwrap();
    assert!(hidden(&html, "csrf").is_some());
    let form = [("csrf", "A".repeat(43)), ("client_id", client.id().to_owned())];
    let res =
        tokens.browser.http.post(format!("{}/end_session/confirm", app.address)).form(&form).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert_signed_in(&app, &tokens.browser, &client).await;
}

#[tokio::test]
async fn a_hint_for_another_citizen_does_not_sign_this_browser_out() {
    let (app, client, tokens) = setup().await;
    app.citizen("lee.siuming").await;
    let other = signed_in_tokens(&app, &client, "lee.siuming", &[]).await;
    let url =
        end_session_url(&[("id_token_hint", other.id_token.as_str()), ("post_logout_redirect_uri", POST_LOGOUT_URI)]);
    let res = tokens.browser.get(&url).await;
    assert!(res.headers().get("location").is_none(), "no redirect for a hint naming someone else");
    assert_eq!(res.status(), StatusCode::OK);
    assert_signed_in(&app, &tokens.browser, &client).await;
}

#[tokio::test]
async fn logout_revokes_the_refresh_tokens_of_the_session() {
    let (app, client, tokens) = setup().await;
    let url =
        end_session_url(&[("id_token_hint", tokens.id_token.as_str()), ("post_logout_redirect_uri", POST_LOGOUT_URI)]);
    assert_eq!(tokens.browser.get(&url).await.status(), StatusCode::SEE_OTHER);
    assert_signed_out(&app, &tokens.browser, &client).await;
    oauth_error(refresh(&app, &client, tokens.refresh_token(), None).await, StatusCode::BAD_REQUEST, "invalid_grant")
        .await;
}
