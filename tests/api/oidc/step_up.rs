//! Assurance levels and step-up (issue 4): a department that asks for passkey assurance
//! (`acr_values`, or an essential `acr` in `claims`) never gets a code for a password
//! sign-in; a citizen signed in by password is asked for a passkey, and the ID token
//! reports what was actually performed.

use super::authorize::{Scene, USER, assert_error_redirect, location, redeem, scene, sign_in_and_allow};
use super::browser::{Browser, add_passkey, hidden, location_params, passkey_sign_in};
use super::flows::jwt_parts;
use crate::fixtures::PASSWORD;
use openidconnect::AuthenticationContextClass;
use openidconnect::core::CoreAuthPrompt;
use reqwest::StatusCode;
use tessera_testkit::softkey::SoftPasskey;

const PASSKEY: &str = "urn:tessera:acr:passkey";
const PASSWORD_ACR: &str = "urn:tessera:acr:password";

/// The page a request leads to, with where `/authorize` sent the browser.
async fn open(browser: &Browser, url: &str) -> (String, StatusCode, String) {
    let res = browser.get(url).await;
    let first = location(&res);
    let page = browser.follow(res).await;
    (first, page.status(), page.text().await.unwrap())
}

fn is_step_up_page(html: &str) -> bool {
    html.contains("id=\"signin-stepup\"") && !html.contains("name=\"password\"")
}

fn acr_values(
    values: &[&str],
) -> impl FnOnce(
    openidconnect::AuthorizationRequest<
        '_,
        openidconnect::core::CoreAuthDisplay,
        CoreAuthPrompt,
        openidconnect::core::CoreResponseType,
    >,
) -> openidconnect::AuthorizationRequest<
    '_,
    openidconnect::core::CoreAuthDisplay,
    CoreAuthPrompt,
    openidconnect::core::CoreResponseType,
> {
    let values: Vec<String> = values.iter().map(|v| (*v).to_owned()).collect();
    move |mut r| {
        for v in values {
            r = r.add_auth_context_value(AuthenticationContextClass::new(v));
        }
        r
    }
}

/// A scene whose citizen signed in by password and consented, and owns a passkey.
async fn password_session_with_passkey() -> (Scene, Browser, SoftPasskey) {
    let s = scene().await;
    let browser = Browser::new(&s.app.address);
    let key = add_passkey(&browser, USER).await;
    let first = s.rp.request(&[]);
    // Already signed in by password (adding the passkey): straight to consent.
    let consent = browser.follow(browser.get(first.url.as_str()).await).await;
    let (_, params) = location_params(&browser.consent(consent, true).await);
    let tokens = redeem(&s.rp, &params["code"], first.verifier.unwrap(), &first.nonce).await;
    assert_eq!(tokens.acr.as_deref(), Some(PASSWORD_ACR));
    (s, browser, key)
}

#[tokio::test]
async fn a_password_session_is_asked_for_a_passkey_and_the_id_token_says_passkey() {
    let (s, browser, key) = password_session_with_passkey().await;
    let request = s.rp.request_with(&[], acr_values(&[PASSKEY]));
    let (first, status, page) = open(&browser, request.url.as_str()).await;
    assert!(first.starts_with("/signin?"), "a password session got past a passkey request: {first}");
    assert_eq!(status, StatusCode::OK);
    assert!(is_step_up_page(&page), "{page}");
    assert_eq!(hidden(&page, "username").as_deref(), Some(USER), "step-up is for the signed-in citizen");
    let back = passkey_sign_in(&browser, &page, &key).await;
    let (_, params) = location_params(&back);
    let tokens = redeem(&s.rp, &params["code"], request.verifier.unwrap(), &request.nonce).await;
    assert_eq!(tokens.acr.as_deref(), Some(PASSKEY));
    let (_, claims) = jwt_parts(&tokens.id_token.to_string());
    let amr: Vec<&str> = claims["amr"].as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect();
    assert!(amr.contains(&"user") && (amr.contains(&"hwk") || amr.contains(&"swk")), "amr: {amr:?}");
    assert!(!amr.contains(&"pwd"), "the step-up session was signed in with a passkey: {amr:?}");
}

#[tokio::test]
async fn an_essential_passkey_acr_steps_up_and_a_later_password_request_passes_silently() {
    let (s, browser, key) = password_session_with_passkey().await;
    let claims = format!(r#"{{"id_token":{{"acr":{{"essential":true,"values":["{PASSKEY}"]}}}}}}"#);
    let request = s.rp.request_with(&[], |r| r.add_extra_param("claims", claims));
    let (_, _, page) = open(&browser, request.url.as_str()).await;
    assert!(is_step_up_page(&page), "{page}");
    let back = passkey_sign_in(&browser, &page, &key).await;
    let (_, params) = location_params(&back);
    assert!(params.contains_key("code"), "{params:?}");
    // A passkey session meets a request for the password level: a code, no page, and
    // the ID token reports the passkey that was actually used.
    let request = s.rp.request_with(&[], acr_values(&[PASSWORD_ACR]));
    let res = browser.get(request.url.as_str()).await;
    let (_, params) = location_params(&res);
    let tokens = redeem(&s.rp, &params["code"], request.verifier.unwrap(), &request.nonce).await;
    assert_eq!(tokens.acr.as_deref(), Some(PASSKEY));
}

#[tokio::test]
async fn prompt_none_below_the_requested_level_is_interaction_required() {
    let (s, browser, _key) = password_session_with_passkey().await;
    let request = s.rp.request_with(&[], |r| acr_values(&[PASSKEY])(r.add_prompt(CoreAuthPrompt::None)));
    let res = browser.get(request.url.as_str()).await;
    assert_error_redirect(&res, &s.app, "interaction_required", Some(request.state.secret()));
}

#[tokio::test]
async fn a_password_posted_during_step_up_gives_no_code() {
    let (s, browser, _key) = password_session_with_passkey().await;
    let request = s.rp.request_with(&[], acr_values(&[PASSKEY]));
    let (_, _, page) = open(&browser, request.url.as_str()).await;
    assert!(is_step_up_page(&page));
    let csrf = hidden(&page, "csrf").unwrap();
    let authz = hidden(&page, "authz").unwrap();
    let res = browser
        .post_form("/signin", &[("csrf", &csrf), ("authz", &authz), ("username", USER), ("password", PASSWORD)])
        .await;
    let res = browser.follow(res).await;
    assert_eq!(res.status(), StatusCode::OK, "a password sign-in must not leave Tessera with a code");
    assert!(is_step_up_page(&res.text().await.unwrap()));
}

#[tokio::test]
async fn without_a_session_a_passkey_request_shows_only_the_passkey_sign_in() {
    let s = scene().await;
    let browser = Browser::new(&s.app.address);
    let key = add_passkey(&browser, USER).await;
    let browser = Browser::new(&s.app.address); // another browser: no session
    let request = s.rp.request_with(&[], acr_values(&[PASSKEY]));
    let (_, _, page) = open(&browser, request.url.as_str()).await;
    assert!(is_step_up_page(&page), "{page}");
    assert!(hidden(&page, "username").is_none(), "usernameless: nobody is signed in");
    let consent = passkey_sign_in(&browser, &page, &key).await;
    let back = browser.consent(consent, true).await;
    let (_, params) = location_params(&back);
    let tokens = redeem(&s.rp, &params["code"], request.verifier.unwrap(), &request.nonce).await;
    assert_eq!(tokens.acr.as_deref(), Some(PASSKEY));
}

#[tokio::test]
async fn a_citizen_without_a_passkey_is_told_what_to_do_in_both_languages() {
    let s = scene().await;
    let browser = Browser::new(&s.app.address);
    let first = s.rp.request(&[]);
    sign_in_and_allow(&browser, first.url.as_str(), USER).await;
    for (locales, text) in [("en", "has no passkey yet"), ("zh-HK", "尚未有通行密鑰")] {
        let request = s.rp.request_with(&[], |r| acr_values(&[PASSKEY])(r.add_extra_param("ui_locales", locales)));
        let (_, _, page) = open(&browser, request.url.as_str()).await;
        assert!(page.contains("id=\"signin-stepup-no-passkey\"") && page.contains(text), "{locales}: {page}");
        assert!(page.contains("href=\"/account\""));
    }
}

#[tokio::test]
async fn cancelling_step_up_is_unmet_authentication_requirements_and_single_use() {
    let (s, browser, _key) = password_session_with_passkey().await;
    let request = s.rp.request_with(&[], acr_values(&[PASSKEY]));
    let (_, _, page) = open(&browser, request.url.as_str()).await;
    let csrf = hidden(&page, "csrf").unwrap();
    let authz = hidden(&page, "authz").unwrap();
    let res = browser.post_form("/authorize/cancel", &[("csrf", &csrf), ("authz", &authz)]).await;
    assert_error_redirect(&res, &s.app, "unmet_authentication_requirements", Some(request.state.secret()));
    let again = browser.post_form("/authorize/cancel", &[("csrf", &csrf), ("authz", &authz)]).await;
    assert_eq!(again.status(), StatusCode::BAD_REQUEST, "a cancelled request is gone");
    assert!(again.headers().get("location").is_none());
}

#[tokio::test]
async fn cancelling_an_ordinary_sign_in_is_access_denied_and_needs_the_csrf_token() {
    let s = scene().await;
    let browser = Browser::new(&s.app.address);
    let request = s.rp.request(&[]);
    let (_, _, page) = open(&browser, request.url.as_str()).await;
    assert!(page.contains("name=\"password\""), "an ordinary request keeps the password form");
    let csrf = hidden(&page, "csrf").unwrap();
    let authz = hidden(&page, "authz").unwrap();
    let forged = browser.post_form("/authorize/cancel", &[("csrf", "forged"), ("authz", &authz)]).await;
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);
    let res = browser.post_form("/authorize/cancel", &[("csrf", &csrf), ("authz", &authz)]).await;
    assert_error_redirect(&res, &s.app, "access_denied", Some(request.state.secret()));
}

#[tokio::test]
async fn an_essential_acr_tessera_cannot_perform_is_refused_before_any_page() {
    let s = scene().await;
    let browser = Browser::new(&s.app.address);
    let claims = r#"{"id_token":{"acr":{"essential":true,"values":["urn:mace:incommon:iap:gold"]}}}"#;
    let request = s.rp.request_with(&[], |r| r.add_extra_param("claims", claims));
    let res = browser.get(request.url.as_str()).await;
    assert_error_redirect(&res, &s.app, "unmet_authentication_requirements", Some(request.state.secret()));
}

#[tokio::test]
async fn prompt_login_with_a_session_signs_in_again_as_the_same_citizen() {
    let (s, browser, _key) = password_session_with_passkey().await;
    let request = s.rp.request_with(&[], |r| r.add_prompt(CoreAuthPrompt::Login));
    let (_, _, page) = open(&browser, request.url.as_str()).await;
    assert!(page.contains("id=\"signin-again\""), "{page}");
    assert!(page.contains(&format!("value=\"{USER}\"")), "the username is filled in");
    assert!(page.contains("name=\"password\""), "prompt=login alone does not demand a passkey");
}
