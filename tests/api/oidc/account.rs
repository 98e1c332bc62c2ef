//! The citizen's password on the account page (issue 4): add one to a passkey-only account,
//! change it (every department's tokens issued before end at once), remove it (never the
//! last credential). Each change is audited; every form needs the CSRF token.

use super::authorize::USER;
use super::browser::{Browser, add_passkey, hidden};
use super::flows::{authz, code_for, oauth_error, post_form, redeem, refresh, token_ok, userinfo_status};
use crate::fixtures::PASSWORD;
use crate::helpers::{TestApp, spawn_app};
use reqwest::StatusCode;
use tessera_domain::{AuditKind, TokenEndpointAuthMethod};
use tessera_store::audit::{self, AuditFilter};

const NEW_PASSWORD: &str = "a brand new passphrase 2026";
const ZH_TOO_SHORT: &str = "密碼最少要有 12 個字元";

/// The account page's CSRF token.
async fn account_csrf(browser: &Browser) -> String {
    let page = browser.get("/account").await;
    assert_eq!(page.status(), StatusCode::OK, "signed in");
    hidden(&page.text().await.unwrap(), "csrf").unwrap()
}

async fn set_password(browser: &Browser, password: &str, confirm: &str) -> reqwest::Response {
    let csrf = account_csrf(browser).await;
    browser
        .post_form("/account/password", &[("csrf", &csrf), ("password", password), ("password_confirm", confirm)])
        .await
}

async fn remove_password(browser: &Browser) -> reqwest::Response {
    let csrf = account_csrf(browser).await;
    browser.post_form("/account/password/remove", &[("csrf", &csrf)]).await
}

/// Whether `password` signs `USER` in (a fresh browser, outside any flow).
async fn password_works(app: &TestApp, password: &str) -> bool {
    let browser = Browser::new(&app.address);
    let page = browser.get("/signin").await.text().await.unwrap();
    let csrf = hidden(&page, "csrf").unwrap();
    let res = browser.post_form("/signin", &[("csrf", &csrf), ("username", USER), ("password", password)]).await;
    res.status() == StatusCode::SEE_OTHER
}

async fn audited(app: &TestApp, kind: AuditKind) -> usize {
    let filter = AuditFilter { kind: Some(kind), ..AuditFilter::default() };
    app.db().await.run(move |c| audit::list(c, &filter)).await.unwrap().len()
}

#[tokio::test]
async fn changing_the_password_ends_every_departments_tokens_at_once() {
    let app = spawn_app().await;
    app.citizen(USER).await;
    let confidential = app.department_client().await;
    let public = app.client_with(|c| c.token_endpoint_auth_method = TokenEndpointAuthMethod::None).await;
    let browser = Browser::new(&app.address);
    add_passkey(&browser, USER).await;

    // Tokens of two departments: one with a refresh token, one public (access token only).
    let flow = authz(&app, confidential.id(), "openid profile", true, &[]);
    let code = code_for(&browser, &flow, USER).await;
    let tokens = token_ok(redeem(&app, &confidential, &code, flow.verifier.as_deref()).await).await;
    let access = tokens["access_token"].as_str().unwrap().to_owned();
    let refresh_token = tokens["refresh_token"].as_str().unwrap().to_owned();
    let flow = authz(&app, public.id(), "openid", true, &[]);
    let code = code_for(&browser, &flow, USER).await;
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", crate::fixtures::REDIRECT_URI),
        ("client_id", public.id()),
        ("code_verifier", flow.verifier.as_deref().unwrap()),
    ];
    let public_tokens = token_ok(post_form(&app, "/token", None, &form).await).await;
    assert!(public_tokens.get("refresh_token").is_none(), "a public client without offline_access");
    let public_access = public_tokens["access_token"].as_str().unwrap().to_owned();
    assert_eq!(userinfo_status(&app, &access).await, StatusCode::OK);
    assert_eq!(userinfo_status(&app, &public_access).await, StatusCode::OK);

    let res = set_password(&browser, NEW_PASSWORD, NEW_PASSWORD).await;
    assert_eq!(res.headers()["location"], "/account?done=password_changed");
    assert!(!password_works(&app, PASSWORD).await, "the old password is gone");
    assert!(password_works(&app, NEW_PASSWORD).await);
    assert_eq!(userinfo_status(&app, &access).await, StatusCode::UNAUTHORIZED);
    assert_eq!(userinfo_status(&app, &public_access).await, StatusCode::UNAUTHORIZED);
    oauth_error(refresh(&app, &confidential, &refresh_token, None).await, StatusCode::BAD_REQUEST, "invalid_grant")
        .await;
    let page = browser.get("/account?done=password_changed").await.text().await.unwrap();
    assert!(page.contains("Your password has been changed."), "{page}");
    assert_eq!(audited(&app, AuditKind::PASSWORD_SET).await, 1);
    // The citizen's own session goes on.
    assert_eq!(browser.get("/account").await.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_password_is_removed_only_while_a_passkey_remains_and_can_be_added_back() {
    let app = spawn_app().await;
    app.citizen(USER).await;
    let browser = Browser::new(&app.address);
    // Signed in by password, no passkey: removing the only credential is refused.
    let page = browser.get("/signin").await.text().await.unwrap();
    let csrf = hidden(&page, "csrf").unwrap();
    browser.post_form("/signin", &[("csrf", &csrf), ("username", USER), ("password", PASSWORD)]).await;
    let res = remove_password(&browser).await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    assert!(res.text().await.unwrap().contains("it is your only way to sign in"));
    assert!(password_works(&app, PASSWORD).await);

    let browser = Browser::new(&app.address);
    add_passkey(&browser, USER).await;
    let res = remove_password(&browser).await;
    assert_eq!(res.headers()["location"], "/account?done=password_removed");
    assert!(!password_works(&app, PASSWORD).await, "no password sign-in any more");
    let page = browser.get("/account").await.text().await.unwrap();
    assert!(page.contains("You have no password"), "{page}");
    assert!(!page.contains("action=\"/account/password/remove\""), "nothing left to remove");
    assert_eq!(audited(&app, AuditKind::PASSWORD_REMOVED).await, 1);

    // Added back as a fallback.
    let res = set_password(&browser, NEW_PASSWORD, NEW_PASSWORD).await;
    assert_eq!(res.headers()["location"], "/account?done=password_added");
    assert!(password_works(&app, NEW_PASSWORD).await);
    assert_eq!(audited(&app, AuditKind::PASSWORD_SET).await, 1);
}

#[tokio::test]
async fn a_bad_new_password_is_explained_in_the_citizens_language_and_changes_nothing() {
    let app = spawn_app().await;
    app.citizen(USER).await;
    let browser = Browser::new(&app.address);
    add_passkey(&browser, USER).await;
    for (password, confirm, english) in [
        (NEW_PASSWORD, "something else entirely", "The two passwords are different."),
        ("short", "short", "at least 12 characters"),
        ("my name is chan.taiman ok", "my name is chan.taiman ok", "must not contain your username"),
    ] {
        let res = set_password(&browser, password, confirm).await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "{password}");
        assert!(res.text().await.unwrap().contains(english), "{password}");
    }
    let csrf = account_csrf(&browser).await;
    let res = browser
        .http
        .post(browser.url("/account/password"))
        .header("accept-language", "zh-HK")
        .form(&[("csrf", csrf.as_str()), ("password", "short"), ("password_confirm", "short")])
        .send()
        .await
        .unwrap();
    assert!(res.text().await.unwrap().contains(ZH_TOO_SHORT), "the message in Traditional Chinese");
    assert!(password_works(&app, PASSWORD).await, "nothing changed");
    assert_eq!(audited(&app, AuditKind::PASSWORD_SET).await, 0);
}

#[tokio::test]
async fn the_password_forms_need_the_csrf_token_and_a_session() {
    let app = spawn_app().await;
    app.citizen(USER).await;
    let browser = Browser::new(&app.address);
    add_passkey(&browser, USER).await;
    for path in ["/account/password", "/account/password/remove"] {
        let res = browser
            .post_form(path, &[("csrf", "forged"), ("password", NEW_PASSWORD), ("password_confirm", NEW_PASSWORD)])
            .await;
        assert_eq!(res.status(), StatusCode::FORBIDDEN, "{path}");
    }
    // Without a session: sent to sign in, nothing changed.
    let stranger = Browser::new(&app.address);
    let page = stranger.get("/signin").await.text().await.unwrap();
    let csrf = hidden(&page, "csrf").unwrap();
    let res = stranger.post_form("/account/password/remove", &[("csrf", &csrf)]).await;
    assert_eq!(res.headers()["location"], "/signin?next=%2Faccount");
    assert!(password_works(&app, PASSWORD).await);
}
