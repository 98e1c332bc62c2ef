//! The authorization endpoint, request by request (CONFORMANCE §1–3): what `/authorize`
//! refuses with an error page, what it sends back to the department as an error, and what
//! it must accept. The helpers here are shared with `authorize_prompt` and `authorize_pages`.

use super::browser::{Browser, hidden, location_params};
use super::rp::Rp;
use crate::fixtures::{PASSWORD, REDIRECT_URI, TestClient};
use crate::helpers::{TestApp, spawn_app};
use openidconnect::core::{CoreAuthDisplay, CoreIdToken};
use openidconnect::{
    AuthenticationContextClass, LanguageTag, LoginHint, Nonce, OAuth2TokenResponse, PkceCodeChallenge,
    PkceCodeVerifier, RedirectUrl, TokenResponse,
};
use reqwest::StatusCode;
use std::collections::HashMap;
use tessera_domain::{Clock, SystemClock};

/// The citizen of every scenario (password `fixtures::PASSWORD`).
pub const USER: &str = "chan.taiman";
/// A `state` with characters that must survive encoding and come back byte-exact.
pub const STATE: &str = "st a+t&e=/1";
pub const NONCE: &str = "n-0S6_WzA2Mj";
/// The parameters an error redirect may carry (RFC 6749 §4.1.2.1, RFC 9207).
const ERROR_PARAMS: [&str; 5] = ["error", "error_description", "error_uri", "state", "iss"];

/// A running Tessera with one department client, one citizen and the department's RP.
pub struct Scene {
    pub app: TestApp,
    pub client: TestClient,
    pub rp: Rp,
}

pub async fn scene() -> Scene {
    let app = spawn_app().await;
    let client = app.department_client().await;
    app.citizen(USER).await;
    let rp = Rp::discover(&app.address, &client).await;
    Scene { app, client, rp }
}

/// The RP of `client` whose callback is `redirect_uri` (another department's host).
pub async fn rp_at(app: &TestApp, client: &TestClient, redirect_uri: &str) -> Rp {
    let rp = Rp::discover(&app.address, client).await;
    Rp { client: rp.client.set_redirect_uri(RedirectUrl::new(redirect_uri.into()).unwrap()), http: rp.http }
}

/// A hand-written authorization request, parameters in order (so that a test can repeat,
/// drop or reorder them), with the verifier of its S256 challenge.
pub struct Raw {
    pub params: Vec<(String, String)>,
    pub verifier: PkceCodeVerifier,
}

impl Raw {
    pub fn new(client: &TestClient) -> Raw {
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let params = [
            ("client_id", client.id()),
            ("redirect_uri", REDIRECT_URI),
            ("response_type", "code"),
            ("scope", "openid"),
            ("state", STATE),
            ("nonce", NONCE),
            ("code_challenge", challenge.as_str()),
            ("code_challenge_method", "S256"),
        ];
        Raw { params: params.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect(), verifier }
    }

    /// Gives `name` this single value, in place when it is already there.
    pub fn set(mut self, name: &str, value: &str) -> Raw {
        match self.params.iter().position(|(k, _)| k == name) {
            Some(at) => {
                self.params[at].1 = value.to_owned();
                let mut first = true;
                self.params.retain(|(k, _)| k != name || std::mem::replace(&mut first, false));
            }
            None => self.params.push((name.to_owned(), value.to_owned())),
        }
        self
    }

    pub fn without(mut self, name: &str) -> Raw {
        self.params.retain(|(k, _)| k != name);
        self
    }

    /// Appends `name=value` even when `name` is already there (a repeated parameter).
    pub fn add(mut self, name: &str, value: &str) -> Raw {
        self.params.push((name.to_owned(), value.to_owned()));
        self
    }

    pub fn query(&self) -> String {
        url::form_urlencoded::Serializer::new(String::new()).extend_pairs(&self.params).finish()
    }

    pub fn url(&self, app: &TestApp) -> String {
        format!("{}/authorize?{}", app.address, self.query())
    }
}

/// `Location` of a redirect, or a panic saying what came instead.
pub fn location(res: &reqwest::Response) -> String {
    match res.headers().get("location") {
        Some(l) => l.to_str().unwrap().to_owned(),
        None => panic!("expected a redirect, got {} without Location", res.status()),
    }
}

/// An error page: 400, HTML, no `Location`, and nothing on it that sends the browser on.
pub async fn assert_error_page(res: reqwest::Response, what: &str) {
    assert_eq!(res.status(), StatusCode::BAD_REQUEST, "{what}: status");
    assert!(res.headers().get("location").is_none(), "{what}: redirected to {:?}", res.headers()["location"]);
    let content_type = res.headers()["content-type"].to_str().unwrap().to_owned();
    assert!(content_type.starts_with("text/html"), "{what}: {content_type}");
    let html = res.text().await.unwrap();
    assert!(html.contains("<html"), "{what}: not a page: {html}");
    assert!(!html.contains("http-equiv"), "{what}: the page redirects: {html}");
    for attribute in ["href=\"", "src=\"", "action=\""] {
        for link in html.split(attribute).skip(1) {
            let local = (link.starts_with('/') && !link.starts_with("//")) || link.starts_with('#');
            assert!(local, "{what}: the page links away from Tessera: {attribute}{}", &link[..link.len().min(80)]);
        }
    }
}

/// The parameters of an error redirect to the registered URI, after checking its shape:
/// 303, only the parameters RFC 6749 and RFC 9207 allow, each once, `iss` the issuer, and
/// an `error_description` of printable ASCII without quotes or backslashes.
pub fn error_redirect(res: &reqwest::Response, app: &TestApp) -> HashMap<String, String> {
    assert_eq!(res.status(), StatusCode::SEE_OTHER, "expected an error redirect");
    let (url, params) = location_params(res);
    assert!(url.as_str().starts_with(&format!("{REDIRECT_URI}?")), "{url}");
    assert_eq!(url.query_pairs().count(), params.len(), "a repeated response parameter: {url}");
    for name in params.keys() {
        assert!(ERROR_PARAMS.contains(&name.as_str()), "{name} in an error redirect: {url}");
    }
    assert_eq!(params.get("iss"), Some(&app.address), "RFC 9207 iss: {url}");
    if let Some(description) = params.get("error_description") {
        let ok = description.bytes().all(|b| (0x20..=0x7e).contains(&b) && b != b'"' && b != b'\\');
        assert!(ok, "error_description outside RFC 6749's character set: {description:?}");
    }
    params
}

/// An error redirect with exactly this `error` and this `state`.
pub fn assert_error_redirect(res: &reqwest::Response, app: &TestApp, error: &str, state: Option<&str>) {
    let params = error_redirect(res, app);
    assert_eq!(params.get("error").map(String::as_str), Some(error), "{params:?}");
    assert_eq!(params.get("state").map(String::as_str), state, "state echoed: {params:?}");
}

/// From an authorization URL: signs `username` in, allows, and returns what the
/// department receives (checked to carry a code).
pub async fn sign_in_and_allow(browser: &Browser, url: &str, username: &str) -> HashMap<String, String> {
    let page = browser.follow(browser.get(url).await).await;
    let page = browser.sign_in(page, username).await;
    let back = browser.consent(page, true).await;
    let (_, params) = location_params(&back);
    assert!(params.contains_key("code"), "no code: {params:?}");
    params
}

/// What a redeemed code gave the department.
pub struct Tokens {
    pub sub: String,
    pub auth_time: i64,
    pub acr: Option<String>,
    pub id_token: CoreIdToken,
    pub access_token: String,
}

/// Redeems `code` with PKCE and checks the ID token (signature, iss, aud, nonce).
pub async fn redeem(rp: &Rp, code: &str, verifier: PkceCodeVerifier, nonce: &Nonce) -> Tokens {
    let tokens = rp.exchange(code, verifier).await.unwrap();
    let id_token = tokens.id_token().expect("an ID token").clone();
    let claims = id_token.claims(&rp.client.id_token_verifier(), nonce).expect("a valid ID token");
    Tokens {
        sub: claims.subject().as_str().to_owned(),
        auth_time: claims.auth_time().expect("auth_time").timestamp(),
        acr: claims.auth_context_ref().map(|a| a.as_str().to_owned()),
        access_token: tokens.access_token().secret().clone(),
        id_token,
    }
}

pub async fn userinfo(app: &TestApp, access_token: &str) -> serde_json::Value {
    let res = app.http.get(format!("{}/userinfo", app.address)).bearer_auth(access_token).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK, "userinfo");
    res.json().await.unwrap()
}

async fn authorize(app: &TestApp, raw: &Raw) -> reqwest::Response {
    app.get(&format!("/authorize?{}", raw.query())).await
}

// ---- Error pages: never a redirect ------------------------------------------------------

#[tokio::test]
async fn missing_client_id_gets_an_error_page() {
    let s = scene().await;
    assert_error_page(authorize(&s.app, &Raw::new(&s.client).without("client_id")).await, "no client_id").await;
    assert_error_page(authorize(&s.app, &Raw::new(&s.client).set("client_id", "")).await, "empty client_id").await;
}

#[tokio::test]
async fn unknown_client_id_gets_an_error_page() {
    let s = scene().await;
    let raw = Raw::new(&s.client).set("client_id", "AAAAAAAAAAAAAAAAAAAAAA");
    assert_error_page(authorize(&s.app, &raw).await, "unknown client").await;
}

#[tokio::test]
async fn disabled_client_gets_an_error_page() {
    let s = scene().await;
    let id = s.client.client.id.clone();
    s.app
        .db()
        .await
        .run(move |conn| tessera_store::clients::set_enabled(conn, &id, false, SystemClock.now()))
        .await
        .unwrap();
    assert_error_page(authorize(&s.app, &Raw::new(&s.client)).await, "disabled client").await;
}

#[tokio::test]
async fn missing_redirect_uri_gets_an_error_page() {
    let s = scene().await;
    assert_error_page(authorize(&s.app, &Raw::new(&s.client).without("redirect_uri")).await, "no redirect_uri").await;
}

#[tokio::test]
async fn every_variant_of_the_registered_redirect_uri_gets_an_error_page() {
    let s = scene().await;
    let variants = [
        ("suffix", "https://portal.transport.example.gov.hk/callbackxyz"),
        ("extra path segment", "https://portal.transport.example.gov.hk/callback/extra"),
        ("added query", "https://portal.transport.example.gov.hk/callback?x=1"),
        ("upper-case host", "https://PORTAL.transport.example.gov.hk/callback"),
        ("upper-case path", "https://portal.transport.example.gov.hk/Callback"),
        ("trailing slash", "https://portal.transport.example.gov.hk/callback/"),
        ("explicit :443", "https://portal.transport.example.gov.hk:443/callback"),
        ("fragment", "https://portal.transport.example.gov.hk/callback#frag"),
        ("http", "http://portal.transport.example.gov.hk/callback"),
        ("user info", "https://user@portal.transport.example.gov.hk/callback"),
        ("sub-domain of the host", "https://portal.transport.example.gov.hk.evil.example/callback"),
        ("other host", "https://evil.example.com/callback"),
        ("percent-encoded path", "https://portal.transport.example.gov.hk/%63allback"),
    ];
    for (what, uri) in variants {
        assert_error_page(authorize(&s.app, &Raw::new(&s.client).set("redirect_uri", uri)).await, what).await;
    }
}

#[tokio::test]
async fn repeated_client_id_gets_an_error_page() {
    let s = scene().await;
    let raw = Raw::new(&s.client).add("client_id", s.client.id());
    assert_error_page(authorize(&s.app, &raw).await, "client_id twice").await;
}

#[tokio::test]
async fn repeated_redirect_uri_gets_an_error_page() {
    let s = scene().await;
    let raw = Raw::new(&s.client).add("redirect_uri", REDIRECT_URI);
    assert_error_page(authorize(&s.app, &raw).await, "redirect_uri twice").await;
}

#[tokio::test]
async fn error_page_shows_words_not_message_catalog_keys() {
    let s = scene().await;
    for lang in ["en", "zh-HK"] {
        let url = format!("/authorize?{}", Raw::new(&s.client).set("client_id", "AAAAAAAAAAAAAAAAAAAAAA").query());
        let html = s.app.get_with(&url, &[("Accept-Language", lang)]).await.text().await.unwrap();
        assert!(!html.contains("authorize_error_"), "{lang}: untranslated catalog key on the error page: {html}");
    }
}

#[tokio::test]
async fn request_object_with_an_unregistered_redirect_uri_gets_an_error_page() {
    let s = scene().await;
    let raw = Raw::new(&s.client)
        .set("redirect_uri", "https://evil.example.com/callback")
        .set("request", "eyJhbGciOiJub25lIn0.eyJyZWRpcmVjdF91cmkiOiJodHRwczovL2V2aWwuZXhhbXBsZS5jb20vY2FsbGJhY2sifQ.");
    assert_error_page(authorize(&s.app, &raw).await, "request object, bad outer redirect_uri").await;
}

// ---- Errors sent back to the department -------------------------------------------------

#[tokio::test]
async fn missing_response_type_is_invalid_request() {
    let s = scene().await;
    let res = authorize(&s.app, &Raw::new(&s.client).without("response_type")).await;
    assert_error_redirect(&res, &s.app, "invalid_request", Some(STATE));
}

#[tokio::test]
async fn response_type_token_is_unsupported_response_type() {
    let s = scene().await;
    let res = authorize(&s.app, &Raw::new(&s.client).set("response_type", "token")).await;
    assert_error_redirect(&res, &s.app, "unsupported_response_type", Some(STATE));
}

#[tokio::test]
async fn response_type_code_id_token_is_unsupported_response_type() {
    let s = scene().await;
    let res = authorize(&s.app, &Raw::new(&s.client).set("response_type", "code id_token")).await;
    assert_error_redirect(&res, &s.app, "unsupported_response_type", Some(STATE));
}

#[tokio::test]
async fn scope_without_openid_is_invalid_scope() {
    let s = scene().await;
    let res = authorize(&s.app, &Raw::new(&s.client).set("scope", "profile email")).await;
    assert_error_redirect(&res, &s.app, "invalid_scope", Some(STATE));
}

#[tokio::test]
async fn scope_the_client_is_not_allowed_is_invalid_scope() {
    let s = scene().await;
    let narrow = s.app.client_with(|c| c.allowed_scopes = vec!["openid".into(), "profile".into()]).await;
    let res = authorize(&s.app, &Raw::new(&narrow).set("scope", "openid profile email")).await;
    assert_error_redirect(&res, &s.app, "invalid_scope", Some(STATE));
}

#[tokio::test]
async fn request_parameter_is_request_not_supported() {
    let s = scene().await;
    let raw = Raw::new(&s.client).set("request", "eyJhbGciOiJub25lIn0.eyJzY29wZSI6Im9wZW5pZCJ9.");
    assert_error_redirect(&authorize(&s.app, &raw).await, &s.app, "request_not_supported", Some(STATE));
}

#[tokio::test]
async fn request_uri_is_request_uri_not_supported_and_never_fetched() {
    let s = scene().await;
    // A port that accepts nothing: a fetch would show up as a pending connection.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let uri = format!("http://127.0.0.1:{}/request.jwt", listener.local_addr().unwrap().port());
    let res = authorize(&s.app, &Raw::new(&s.client).set("request_uri", &uri)).await;
    assert_error_redirect(&res, &s.app, "request_uri_not_supported", Some(STATE));
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let attempt = listener.accept();
    assert!(
        matches!(&attempt, Err(e) if e.kind() == std::io::ErrorKind::WouldBlock),
        "Tessera connected to the request_uri: {attempt:?}"
    );
}

#[tokio::test]
async fn missing_pkce_is_invalid_request_when_the_client_requires_it() {
    let s = scene().await;
    let raw = Raw::new(&s.client).without("code_challenge").without("code_challenge_method");
    assert_error_redirect(&authorize(&s.app, &raw).await, &s.app, "invalid_request", Some(STATE));
}

#[tokio::test]
async fn code_challenge_method_plain_is_invalid_request() {
    let s = scene().await;
    let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    let raw = Raw::new(&s.client).set("code_challenge", verifier).set("code_challenge_method", "plain");
    assert_error_redirect(&authorize(&s.app, &raw).await, &s.app, "invalid_request", Some(STATE));
}

#[tokio::test]
async fn malformed_code_challenge_is_invalid_request() {
    let s = scene().await;
    for challenge in ["tooshort", "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!", &"A".repeat(44)] {
        let raw = Raw::new(&s.client).set("code_challenge", challenge);
        let res = authorize(&s.app, &raw).await;
        assert_error_redirect(&res, &s.app, "invalid_request", Some(STATE));
    }
}

#[tokio::test]
async fn repeated_scope_is_invalid_request() {
    let s = scene().await;
    let raw = Raw::new(&s.client).add("scope", "openid profile");
    assert_error_redirect(&authorize(&s.app, &raw).await, &s.app, "invalid_request", Some(STATE));
}

#[tokio::test]
async fn repeated_state_is_invalid_request() {
    let s = scene().await;
    let raw = Raw::new(&s.client).add("state", "another");
    let params = error_redirect(&authorize(&s.app, &raw).await, &s.app);
    assert_eq!(params["error"], "invalid_request");
    // Which of two states to echo is undefined; echoing one of them is acceptable.
    assert!(params.get("state").is_none_or(|st| st == STATE || st == "another"), "{params:?}");
}

#[tokio::test]
async fn prompt_none_with_login_is_invalid_request() {
    let s = scene().await;
    let raw = Raw::new(&s.client).set("prompt", "none login");
    assert_error_redirect(&authorize(&s.app, &raw).await, &s.app, "invalid_request", Some(STATE));
}

#[tokio::test]
async fn malformed_max_age_is_invalid_request() {
    let s = scene().await;
    for max_age in ["-1", "1.5", "ten", "0x10"] {
        let res = authorize(&s.app, &Raw::new(&s.client).set("max_age", max_age)).await;
        assert_error_redirect(&res, &s.app, "invalid_request", Some(STATE));
    }
}

#[tokio::test]
async fn unknown_display_is_invalid_request() {
    let s = scene().await;
    let res = authorize(&s.app, &Raw::new(&s.client).set("display", "fullscreen")).await;
    assert_error_redirect(&res, &s.app, "invalid_request", Some(STATE));
}

#[tokio::test]
async fn error_description_never_echoes_quotes_backslashes_or_non_ascii() {
    let s = scene().await;
    // Hostile input in the parameters that end up named in error descriptions.
    let hostile = [
        ("scope", "openid \"x\\y\"é"),
        ("claims", "{\"userinfo\": \"\\\"é\\\\\"}"),
        ("max_age", "\"1\\\"é"),
        ("response_type", "code \"\\é"),
    ];
    for (name, value) in hostile {
        let res = authorize(&s.app, &Raw::new(&s.client).set(name, value)).await;
        // error_redirect checks the character set of error_description.
        let params = error_redirect(&res, &s.app);
        assert!(params.contains_key("error"), "{name}: {params:?}");
    }
}

// ---- Requests that must succeed ------------------------------------------------------------

#[tokio::test]
async fn empty_optional_parameters_count_as_absent() {
    let s = scene().await;
    let raw = ["prompt", "max_age", "display", "nonce", "login_hint", "ui_locales", "acr_values", "claims"]
        .into_iter()
        .fold(Raw::new(&s.client), |raw, name| raw.set(name, ""));
    let res = authorize(&s.app, &raw).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert!(location(&res).starts_with("/signin?authz="), "{}", location(&res));
}

#[tokio::test]
async fn unknown_parameter_is_ignored() {
    let s = scene().await;
    let browser = Browser::new(&s.app.address);
    let request = s.rp.request_with(&[], |r| r.add_extra_param("extra", "foobar"));
    let params = sign_in_and_allow(&browser, request.url.as_str(), USER).await;
    assert_eq!(params["state"], *request.state.secret());
    redeem(&s.rp, &params["code"], request.verifier.unwrap(), &request.nonce).await;
}

#[tokio::test]
async fn reordered_parameters_and_scopes_succeed() {
    let s = scene().await;
    let browser = Browser::new(&s.app.address);
    let mut raw = Raw::new(&s.client).set("scope", "email openid profile");
    raw.params.reverse();
    let params = sign_in_and_allow(&browser, &raw.url(&s.app), USER).await;
    assert_eq!(params["state"], STATE);
    let tokens = redeem(&s.rp, &params["code"], raw.verifier, &Nonce::new(NONCE.into())).await;
    let claims = userinfo(&s.app, &tokens.access_token).await;
    assert_eq!(claims["email"], "taiman.chan@example.hk");
    assert_eq!(claims["name"], "CHAN, Tai Man");
}

#[tokio::test]
async fn display_page_and_popup_succeed() {
    let s = scene().await;
    for (display, username) in [(CoreAuthDisplay::Page, "display.page"), (CoreAuthDisplay::Popup, "display.popup")] {
        s.app.citizen(username).await;
        let browser = Browser::new(&s.app.address);
        let request = s.rp.request_with(&[], |r| r.set_display(display.clone()));
        assert!(request.url.as_str().contains("display="), "{}", request.url);
        let params = sign_in_and_allow(&browser, request.url.as_str(), username).await;
        redeem(&s.rp, &params["code"], request.verifier.unwrap(), &request.nonce).await;
    }
}

#[tokio::test]
async fn authorization_request_as_a_form_post_succeeds() {
    let s = scene().await;
    let browser = Browser::new(&s.app.address);
    let raw = Raw::new(&s.client);
    let res = browser
        .http
        .post(format!("{}/authorize", s.app.address))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(raw.query())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert!(location(&res).starts_with("/signin?authz="), "{}", location(&res));
    let page = browser.sign_in(browser.follow(res).await, USER).await;
    let (_, params) = location_params(&browser.consent(page, true).await);
    assert_eq!(params["state"], STATE);
    redeem(&s.rp, &params["code"], raw.verifier, &Nonce::new(NONCE.into())).await;
}

#[tokio::test]
async fn request_without_nonce_or_pkce_succeeds_for_a_client_that_does_not_require_pkce() {
    let s = scene().await;
    let client = s.app.client_with(|c| c.require_pkce = false).await;
    let browser = Browser::new(&s.app.address);
    let raw = Raw::new(&client).without("nonce").without("code_challenge").without("code_challenge_method");
    let params = sign_in_and_allow(&browser, &raw.url(&s.app), USER).await;

    let encode = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
    let res = s
        .app
        .http
        .post(format!("{}/token", s.app.address))
        .basic_auth(encode(client.id()), Some(encode(client.secret())))
        .form(&[("grant_type", "authorization_code"), ("code", &params["code"]), ("redirect_uri", REDIRECT_URI)])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let body: serde_json::Value = res.json().await.unwrap();
    let id_token: CoreIdToken = serde_json::from_value(body["id_token"].clone()).unwrap();
    let rp = Rp::discover(&s.app.address, &client).await;
    let no_nonce = |n: Option<&Nonce>| if n.is_none() { Ok(()) } else { Err("unexpected nonce".to_owned()) };
    id_token.claims(&rp.client.id_token_verifier(), no_nonce).expect("a valid ID token without nonce");
}

#[tokio::test]
async fn login_hint_prefills_the_username() {
    let s = scene().await;
    let browser = Browser::new(&s.app.address);
    let request = s.rp.request_with(&[], |r| r.set_login_hint(LoginHint::new(USER.into())));
    let page = browser.follow(browser.get(request.url.as_str()).await).await;
    let html = page.text().await.unwrap();
    assert_eq!(hidden(&html, "username").as_deref(), Some(USER), "{html}");
}

#[tokio::test]
async fn ui_locales_zh_hk_renders_the_sign_in_page_in_chinese() {
    let s = scene().await;
    let browser = Browser::new(&s.app.address);
    let request = s.rp.request_with(&[], |r| r.add_ui_locale(LanguageTag::new("zh-HK".into())));
    let page = browser.follow(browser.get(request.url.as_str()).await).await;
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    assert!(html.contains("name=\"password\""), "not the sign-in page: {html}");
    assert!(html.contains(r#"<html lang="zh-HK">"#), "sign-in page not in Chinese: {html}");
}

#[tokio::test]
async fn ui_locales_zh_hk_renders_the_consent_page_in_chinese() {
    let s = scene().await;
    let browser = Browser::new(&s.app.address);
    let request = s.rp.request_with(&["email"], |r| r.add_ui_locale(LanguageTag::new("zh-HK".into())));
    let page = browser.sign_in(browser.follow(browser.get(request.url.as_str()).await).await, USER).await;
    let html = page.text().await.unwrap();
    assert!(html.contains("name=\"decision\""), "not the consent page: {html}");
    assert!(html.contains(r#"<html lang="zh-HK">"#), "consent page not in Chinese: {html}");
    let department = s.client.client.department_zh.as_str();
    assert!(
        html.contains(department) && html.contains("續領駕駛執照"),
        "the department and service in Chinese: {html}"
    );
    assert!(!html.contains(s.client.client.name.as_str()), "not the English service name: {html}");
}

#[tokio::test]
async fn essential_claim_in_the_claims_parameter_is_returned_by_userinfo() {
    let s = scene().await;
    let browser = Browser::new(&s.app.address);
    let claims = r#"{"userinfo":{"email":{"essential":true}}}"#;
    let request = s.rp.request_with(&[], |r| r.add_extra_param("claims", claims));
    let page = browser.sign_in(browser.follow(browser.get(request.url.as_str()).await).await, USER).await;
    let (_, params) = location_params(&browser.consent_with(page, true, Some(&[])).await);
    let tokens = redeem(&s.rp, &params["code"], request.verifier.unwrap(), &request.nonce).await;
    let info = userinfo(&s.app, &tokens.access_token).await;
    assert_eq!(info["email"], "taiman.chan@example.hk", "{info}");
    assert_eq!(info["sub"], tokens.sub.as_str());
}

#[tokio::test]
async fn acr_values_are_accepted_and_the_id_token_has_an_acr() {
    let s = scene().await;
    let browser = Browser::new(&s.app.address);
    let request = s.rp.request_with(&[], |r| {
        r.add_auth_context_value(AuthenticationContextClass::new("urn:tessera:acr:password".into()))
            .add_auth_context_value(AuthenticationContextClass::new("urn:mace:incommon:iap:silver".into()))
    });
    let params = sign_in_and_allow(&browser, request.url.as_str(), USER).await;
    let tokens = redeem(&s.rp, &params["code"], request.verifier.unwrap(), &request.nonce).await;
    assert!(tokens.acr.as_deref().is_some_and(|a| !a.is_empty()), "acr: {:?}", tokens.acr);
}

#[tokio::test]
async fn an_essential_acr_that_was_not_met_is_never_answered_with_a_code() {
    let s = scene().await;
    let browser = Browser::new(&s.app.address);
    let claims = r#"{"id_token":{"acr":{"essential":true,"values":["urn:tessera:acr:passkey"]}}}"#;
    let request = s.rp.request_with(&[], |r| r.add_extra_param("claims", claims));
    let page = browser.follow(browser.get(request.url.as_str()).await).await.text().await.unwrap();
    // Only a passkey meets the request: the page offers no password form, and a password
    // posted anyway leads back to it, never to a code (tests/api/oidc/step_up.rs has more).
    assert!(page.contains("id=\"signin-stepup\"") && !page.contains("name=\"password\""), "{page}");
    let csrf = super::browser::hidden(&page, "csrf").unwrap();
    let authz = super::browser::hidden(&page, "authz").unwrap();
    let form = [("csrf", csrf.as_str()), ("authz", authz.as_str()), ("username", USER), ("password", PASSWORD)];
    let res = browser.follow(browser.post_form("/signin", &form).await).await;
    assert_eq!(res.status(), StatusCode::OK, "a password sign-in left Tessera: {:?}", res.headers().get("location"));
}
