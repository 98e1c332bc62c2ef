//! The authorization endpoint with a live SSO session: `prompt`, `max_age` and
//! `id_token_hint` (Basic OP modules), stored consent (CONFORMANCE §5), and single sign-on
//! across departments with pairwise or public subjects.

use super::authorize::{
    Scene, Tokens, USER, assert_error_redirect, location, redeem, rp_at, scene, sign_in_and_allow, userinfo,
};
use super::browser::{Browser, hidden, location_params};
use super::rp::{AuthRequest, Rp};
use crate::fixtures::{PASSWORD, REDIRECT_URI, TestClient};
use crate::helpers::TestApp;
use openidconnect::core::CoreAuthPrompt;
use reqwest::StatusCode;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tessera_domain::SubjectType;

const OTHER_USER: &str = "wong.siuming";
const EDUCATION_URI: &str = "https://eservices.education.example.gov.hk/oidc/callback";

/// A full first sign-in (with consent) for `scopes`; returns the tokens.
async fn first_sign_in(rp: &Rp, browser: &Browser, scopes: &[&str], username: &str) -> Tokens {
    let request = rp.request(scopes);
    let params = sign_in_and_allow(browser, request.url.as_str(), username).await;
    redeem(rp, &params["code"], request.verifier.unwrap(), &request.nonce).await
}

/// Opens an authorization request: where `/authorize` sends the browser first (`/signin?..`,
/// `/consent?..` or the department), and the page the browser then lands on.
async fn open(browser: &Browser, request: &AuthRequest) -> (String, reqwest::Response) {
    let res = browser.get(request.url.as_str()).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER, "{}", request.url);
    (location(&res), browser.follow(res).await)
}

/// A request answered straight to the department with a code (no page at all): its tokens.
async fn silent_code(rp: &Rp, browser: &Browser, request: AuthRequest, redirect_uri: &str) -> Tokens {
    let res = browser.get(request.url.as_str()).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let (url, params) = location_params(&res);
    assert!(url.as_str().starts_with(redirect_uri), "expected a code without any page, went to {url}");
    assert_eq!(params.get("state"), Some(request.state.secret()));
    let code = params.get("code").unwrap_or_else(|| panic!("no code: {url}"));
    redeem(rp, code, request.verifier.unwrap(), &request.nonce).await
}

/// A second department on its own host, with its RP.
async fn education(app: &TestApp, subject_type: SubjectType) -> (TestClient, Rp) {
    let client = app
        .client_with(|c| {
            c.department_en = "Education Bureau".into();
            c.department_zh = "教育局".into();
            c.redirect_uris = vec![EDUCATION_URI.into()];
            c.post_logout_redirect_uris = vec!["https://eservices.education.example.gov.hk/".into()];
            c.subject_type = subject_type;
        })
        .await;
    let rp = rp_at(app, &client, EDUCATION_URI).await;
    (client, rp)
}

/// Runs `attempt` from the start of a wall-clock second, again until one run fits within that
/// second. Tessera keeps times in whole seconds: everything in such a run happened at one time.
async fn within_one_second<T>(mut attempt: impl AsyncFnMut() -> T) -> T {
    let now = || SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
    for _ in 0..5 {
        let to_next_second = 1_000_000_000 - u64::from(now().subsec_nanos());
        tokio::time::sleep(Duration::from_nanos(to_next_second + 5_000_000)).await;
        let second = now().as_secs();
        let result = attempt().await;
        if now().as_secs() == second {
            return result;
        }
    }
    panic!("no attempt fitted within one second");
}

async fn is_consent_page(res: reqwest::Response) -> bool {
    res.status() == StatusCode::OK && res.text().await.unwrap().contains("name=\"decision\"")
}

// ---- prompt, max_age, id_token_hint -------------------------------------------------------

#[tokio::test]
async fn prompt_none_without_a_session_is_login_required() {
    let Scene { app, rp, .. } = scene().await;
    let request = rp.request_with(&[], |r| r.add_prompt(CoreAuthPrompt::None));
    let res = app.http.get(request.url.as_str()).send().await.unwrap();
    assert_error_redirect(&res, &app, "login_required", Some(request.state.secret()));
}

#[tokio::test]
async fn prompt_none_with_a_session_and_consent_returns_a_code_without_ui() {
    let Scene { app, rp, .. } = scene().await;
    let browser = Browser::new(&app.address);
    let first = first_sign_in(&rp, &browser, &["profile"], USER).await;
    let request = rp.request_with(&["profile"], |r| r.add_prompt(CoreAuthPrompt::None));
    let again = silent_code(&rp, &browser, request, REDIRECT_URI).await;
    assert_eq!(again.sub, first.sub);
    assert_eq!(again.auth_time, first.auth_time);
}

#[tokio::test]
async fn prompt_none_with_a_session_but_no_consent_is_consent_required() {
    let Scene { app, rp, .. } = scene().await;
    let browser = Browser::new(&app.address);
    first_sign_in(&rp, &browser, &[], USER).await;
    // Consent covers `openid` only; `email` was never granted.
    let request = rp.request_with(&["email"], |r| r.add_prompt(CoreAuthPrompt::None));
    let res = browser.get(request.url.as_str()).await;
    assert_error_redirect(&res, &app, "consent_required", Some(request.state.secret()));
}

#[tokio::test]
async fn prompt_login_on_a_live_session_signs_in_again_with_a_later_auth_time() {
    let Scene { app, rp, .. } = scene().await;
    let browser = Browser::new(&app.address);
    let first = first_sign_in(&rp, &browser, &[], USER).await;
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let request = rp.request_with(&[], |r| r.add_prompt(CoreAuthPrompt::Login));
    let (hop, page) = open(&browser, &request).await;
    assert!(hop.starts_with("/signin?"), "prompt=login skipped the sign-in: {hop}");
    let back = browser.sign_in(page, USER).await;
    let (_, params) = location_params(&back);
    let again = redeem(&rp, &params["code"], request.verifier.unwrap(), &request.nonce).await;
    assert_eq!(again.sub, first.sub);
    assert!(again.auth_time > first.auth_time, "auth_time {} not after {}", again.auth_time, first.auth_time);
}

#[tokio::test]
async fn prompt_login_is_not_met_by_a_sign_in_made_before_the_request_in_the_same_second() {
    let Scene { app, rp, .. } = scene().await;
    let browser = Browser::new(&app.address);
    first_sign_in(&rp, &browser, &[], USER).await;
    let next = within_one_second(async || {
        let html = browser.get("/signin").await.text().await.unwrap();
        let csrf = hidden(&html, "csrf").unwrap();
        let res = browser.post_form("/signin", &[("csrf", &csrf), ("username", USER), ("password", PASSWORD)]).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "sign-in refused");
        let request = rp.request_with(&[], |r| r.add_prompt(CoreAuthPrompt::Login));
        let hop = location(&browser.get(request.url.as_str()).await);
        let authz = hop.strip_prefix("/signin?authz=").unwrap_or_else(|| panic!("no sign-in page: {hop}")).to_owned();
        // The browser skips the sign-in page and goes straight on with the request.
        location(&browser.get(&format!("/authorize/continue?authz={authz}")).await)
    })
    .await;
    assert!(next.starts_with("/signin?"), "prompt=login answered without a new sign-in: {next}");
}

#[tokio::test]
async fn max_age_1_after_2_seconds_forces_sign_in_with_a_later_auth_time() {
    let Scene { app, rp, .. } = scene().await;
    let browser = Browser::new(&app.address);
    let first = first_sign_in(&rp, &browser, &[], USER).await;
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let request = rp.request_with(&[], |r| r.set_max_age(Duration::from_secs(1)));
    let (hop, page) = open(&browser, &request).await;
    assert!(hop.starts_with("/signin?"), "max_age=1 skipped the sign-in: {hop}");
    let back = browser.sign_in(page, USER).await;
    let (_, params) = location_params(&back);
    let again = redeem(&rp, &params["code"], request.verifier.unwrap(), &request.nonce).await;
    assert!(again.auth_time > first.auth_time, "auth_time {} not after {}", again.auth_time, first.auth_time);
}

#[tokio::test]
async fn large_max_age_keeps_the_session_and_its_auth_time() {
    let Scene { app, rp, .. } = scene().await;
    let browser = Browser::new(&app.address);
    let first = first_sign_in(&rp, &browser, &[], USER).await;
    tokio::time::sleep(Duration::from_millis(1100)).await;
    for max_age in [15000, 10000] {
        let request = rp.request_with(&[], |r| r.set_max_age(Duration::from_secs(max_age)));
        let again = silent_code(&rp, &browser, request, REDIRECT_URI).await;
        assert_eq!(again.auth_time, first.auth_time, "max_age={max_age}");
        assert_eq!(again.sub, first.sub);
    }
}

#[tokio::test]
async fn id_token_hint_with_prompt_none_returns_a_code_for_the_same_subject() {
    let Scene { app, rp, .. } = scene().await;
    let browser = Browser::new(&app.address);
    let first = first_sign_in(&rp, &browser, &[], USER).await;
    let hint = first.id_token.to_string();
    let request = rp.request_with(&[], |r| r.add_prompt(CoreAuthPrompt::None).add_extra_param("id_token_hint", hint));
    let again = silent_code(&rp, &browser, request, REDIRECT_URI).await;
    assert_eq!(again.sub, first.sub);
}

#[tokio::test]
async fn id_token_hint_of_another_citizen_with_prompt_none_is_login_required() {
    let Scene { app, rp, .. } = scene().await;
    app.citizen(OTHER_USER).await;
    let browser = Browser::new(&app.address);
    first_sign_in(&rp, &browser, &[], USER).await;
    let other = first_sign_in(&rp, &Browser::new(&app.address), &[], OTHER_USER).await;
    let hint = other.id_token.to_string();
    let request = rp.request_with(&[], |r| r.add_prompt(CoreAuthPrompt::None).add_extra_param("id_token_hint", hint));
    let res = browser.get(request.url.as_str()).await;
    assert_error_redirect(&res, &app, "login_required", Some(request.state.secret()));
}

// ---- Consent ----------------------------------------------------------------------------------

#[tokio::test]
async fn denying_consent_is_access_denied_with_state() {
    let Scene { app, rp, .. } = scene().await;
    let browser = Browser::new(&app.address);
    let request = rp.request(&["profile"]);
    let page = browser.sign_in(browser.follow(browser.get(request.url.as_str()).await).await, USER).await;
    let res = browser.consent(page, false).await;
    assert_error_redirect(&res, &app, "access_denied", Some(request.state.secret()));
}

#[tokio::test]
async fn a_wider_scope_asks_for_consent_again() {
    let Scene { app, rp, .. } = scene().await;
    let browser = Browser::new(&app.address);
    first_sign_in(&rp, &browser, &["profile"], USER).await;
    let request = rp.request(&["profile", "email"]);
    let (hop, page) = open(&browser, &request).await;
    assert!(hop.starts_with("/consent?"), "wider scope without consent: {hop}");
    assert!(is_consent_page(page).await);
}

#[tokio::test]
async fn the_same_or_a_narrower_scope_does_not_ask_again() {
    let Scene { app, rp, .. } = scene().await;
    let browser = Browser::new(&app.address);
    first_sign_in(&rp, &browser, &["profile", "email"], USER).await;
    silent_code(&rp, &browser, rp.request(&["profile", "email"]), REDIRECT_URI).await;
    silent_code(&rp, &browser, rp.request(&["email"]), REDIRECT_URI).await;
}

#[tokio::test]
async fn a_deselected_optional_claim_is_not_released_and_not_asked_again() {
    let Scene { app, rp, .. } = scene().await;
    let browser = Browser::new(&app.address);
    let request = rp.request(&["profile", "email"]);
    let page = browser.sign_in(browser.follow(browser.get(request.url.as_str()).await).await, USER).await;
    let profile_only = ["name", "name#zh-Hant-HK", "birthdate", "gender", "updated_at"];
    let (_, params) = location_params(&browser.consent_with(page, true, Some(&profile_only)).await);
    let tokens = redeem(&rp, &params["code"], request.verifier.unwrap(), &request.nonce).await;
    let info = userinfo(&app, &tokens.access_token).await;
    assert_eq!(info["name"], "CHAN, Tai Man", "{info}");
    assert!(info.get("email").is_none() && info.get("email_verified").is_none(), "deselected email released: {info}");

    let again = silent_code(&rp, &browser, rp.request(&["profile", "email"]), REDIRECT_URI).await;
    let info = userinfo(&app, &again.access_token).await;
    assert!(info.get("email").is_none(), "deselected email released later: {info}");
}

#[tokio::test]
async fn prompt_consent_asks_again_even_when_consent_covers_the_request() {
    let Scene { app, rp, .. } = scene().await;
    let browser = Browser::new(&app.address);
    first_sign_in(&rp, &browser, &["profile"], USER).await;
    // Past the second of that consent (see prompt_consent_right_after_a_consent_still_asks).
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let request = rp.request_with(&["profile"], |r| r.add_prompt(CoreAuthPrompt::Consent));
    let (hop, page) = open(&browser, &request).await;
    assert!(hop.starts_with("/consent?"), "prompt=consent skipped the consent: {hop}");
    let (_, params) = location_params(&browser.consent(page, true).await);
    redeem(&rp, &params["code"], request.verifier.unwrap(), &request.nonce).await;
}

#[tokio::test]
async fn prompt_consent_right_after_a_consent_still_asks() {
    let Scene { app, rp, .. } = scene().await;
    let browser = Browser::new(&app.address);
    first_sign_in(&rp, &browser, &["profile"], USER).await;
    let status = within_one_second(async || {
        let first = rp.request_with(&["profile"], |r| r.add_prompt(CoreAuthPrompt::Consent));
        let (_, page) = open(&browser, &first).await;
        let (_, params) = location_params(&browser.consent(page, true).await);
        assert!(params.contains_key("code"), "{params:?}");
        let second = rp.request_with(&["profile"], |r| r.add_prompt(CoreAuthPrompt::Consent));
        let (hop, page) = open(&browser, &second).await;
        assert!(hop.starts_with("/consent?"), "{hop}");
        page.status()
    })
    .await;
    assert_eq!(status, StatusCode::OK, "prompt=consent answered with a code, without the consent page");
}

// ---- Single sign-on across departments ------------------------------------------------------

#[tokio::test]
async fn a_second_department_skips_the_sign_in_page() {
    let Scene { app, rp, .. } = scene().await;
    let browser = Browser::new(&app.address);
    first_sign_in(&rp, &browser, &[], USER).await;
    let (_, education_rp) = education(&app, SubjectType::Pairwise).await;
    let request = education_rp.request(&["email"]);
    let (hop, page) = open(&browser, &request).await;
    assert!(hop.starts_with("/consent?"), "SSO asked for the password again: {hop}");
    let back = browser.consent(page, true).await;
    let (url, params) = location_params(&back);
    assert!(url.as_str().starts_with(EDUCATION_URI), "{url}");
    redeem(&education_rp, &params["code"], request.verifier.unwrap(), &request.nonce).await;
}

#[tokio::test]
async fn pairwise_subjects_differ_between_departments_and_are_stable_within_one() {
    let Scene { app, rp, .. } = scene().await;
    let browser = Browser::new(&app.address);
    let transport = first_sign_in(&rp, &browser, &[], USER).await;
    let (_, education_rp) = education(&app, SubjectType::Pairwise).await;
    let request = education_rp.request(&[]);
    let page = browser.follow(browser.get(request.url.as_str()).await).await;
    let (_, params) = location_params(&browser.consent(page, true).await);
    let education = redeem(&education_rp, &params["code"], request.verifier.unwrap(), &request.nonce).await;
    assert_ne!(transport.sub, education.sub, "two departments can join their records on sub");

    // Signing in again in another browser (consent is stored: straight back with a code).
    let other_browser = Browser::new(&app.address);
    let request = rp.request(&[]);
    let back =
        other_browser.sign_in(other_browser.follow(other_browser.get(request.url.as_str()).await).await, USER).await;
    let (_, params) = location_params(&back);
    let later = redeem(&rp, &params["code"], request.verifier.unwrap(), &request.nonce).await;
    assert_eq!(later.sub, transport.sub, "pairwise sub changed between two sign-ins");
}

#[tokio::test]
async fn public_subject_clients_see_the_same_subject() {
    let Scene { app, .. } = scene().await;
    let public_transport = app.client_with(|c| c.subject_type = SubjectType::Public).await;
    let rp = Rp::discover(&app.address, &public_transport).await;
    let browser = Browser::new(&app.address);
    let transport = first_sign_in(&rp, &browser, &[], USER).await;
    let (_, education_rp) = education(&app, SubjectType::Public).await;
    let request = education_rp.request(&[]);
    let page = browser.follow(browser.get(request.url.as_str()).await).await;
    let (_, params) = location_params(&browser.consent(page, true).await);
    let education = redeem(&education_rp, &params["code"], request.verifier.unwrap(), &request.nonce).await;
    assert_eq!(transport.sub, education.sub);
}
