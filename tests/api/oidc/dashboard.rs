//! The citizen's dashboard (issue 5) through the real OIDC flow: data sharing with
//! receipts and withdrawal (the department's tokens stop working at once, and the next
//! sign-in asks again), the profile, sessions and devices, and the activity list.

use super::authorize::USER;
use super::browser::{Browser, hidden};
use super::flows::{
    SignedIn, authz, basic_of, browser_with_jar, jwt_parts, oauth_error, post_form, refresh, signed_in_tokens_in,
    userinfo_ok, userinfo_status,
};
use crate::fixtures::TestClient;
use crate::helpers::{TestApp, spawn_app};
use reqwest::StatusCode;
use serde_json::Value;
use tessera_domain::{AuditEvent, AuditKind, Clock, SystemClock};
use tessera_store::audit::{self, AuditFilter};

async fn signed_in(app: &TestApp, client: &TestClient, scopes: &[&str]) -> SignedIn {
    let (browser, jar) = browser_with_jar(&app.address);
    signed_in_tokens_in(app, browser, jar, client, USER, scopes).await
}

async fn csrf_of(browser: &Browser, path: &str) -> String {
    let page = browser.get(path).await;
    assert_eq!(page.status(), StatusCode::OK, "{path}");
    hidden(&page.text().await.unwrap(), "csrf").unwrap()
}

async fn introspect_active(app: &TestApp, client: &TestClient, token: &str) -> bool {
    let res = post_form(app, "/introspect", Some(&basic_of(client)), &[("token", token)]).await;
    res.json::<Value>().await.unwrap()["active"] == true
}

async fn events(app: &TestApp, kind: AuditKind) -> Vec<AuditEvent> {
    let filter = AuditFilter { kind: Some(kind), ..AuditFilter::default() };
    app.db().await.run(move |c| audit::list(c, &filter)).await.unwrap()
}

#[tokio::test]
async fn withdrawing_consent_stops_the_departments_tokens_at_once_and_the_next_sign_in_asks_again() {
    let app = spawn_app().await;
    app.citizen(USER).await;
    let client = app.department_client().await;
    let s = signed_in(&app, &client, &["profile", "email"]).await;
    assert_eq!(userinfo_status(&app, &s.access_token).await, StatusCode::OK);

    // The sharing page names the department and what it receives.
    let page = s.browser.get("/account/sharing").await.text().await.unwrap();
    assert!(page.contains("Transport Department"), "{page}");
    assert!(page.contains("aria-current=\"page\""), "the navigation marks the page");
    let receipt_link = page
        .split("href=\"")
        .find_map(|rest| rest.split('"').next().filter(|href| href.starts_with("/account/sharing/receipts/")))
        .expect("a receipt link")
        .to_owned();

    // The receipt: a page in the citizen's language, and the same as a JSON download.
    let view = s.browser.get(&receipt_link).await;
    assert_eq!(view.status(), StatusCode::OK);
    let view = view.text().await.unwrap();
    assert!(view.contains("Consent receipt") && view.contains("Email address"), "{view}");
    let receipt_link = format!("{receipt_link}.json");
    let res = s.browser.get(&receipt_link).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.headers()["content-disposition"].to_str().unwrap().starts_with("attachment"));
    let receipt: Value = res.json().await.unwrap();
    let (_, id_token) = jwt_parts(&s.id_token);
    assert_eq!(receipt["subject"], id_token["sub"], "the receipt names the citizen as the department knows them");
    assert_eq!(receipt["client_id"], client.id());
    assert_eq!(receipt["in_force"], true);
    assert!(receipt["claims"].as_array().unwrap().iter().any(|c| c["claim"] == "email"), "{receipt}");
    assert!(receipt["last_shared_at"].is_string(), "{receipt}");
    // Nobody else's receipt, and no guessing.
    let stranger = Browser::new(&app.address);
    assert_ne!(stranger.get(&receipt_link).await.status(), StatusCode::OK);

    // Withdraw (CSRF first).
    let path = format!("/account/sharing/{}/withdraw", client.id());
    let forged = s.browser.post_form(&path, &[("csrf", "forged")]).await;
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);
    assert_eq!(userinfo_status(&app, &s.access_token).await, StatusCode::OK, "a forged form changed nothing");
    let csrf = csrf_of(&s.browser, "/account/sharing").await;
    let res = s.browser.post_form(&path, &[("csrf", &csrf)]).await;
    assert_eq!(res.headers()["location"], "/account/sharing?done=withdrawn");

    // At once: the refresh token fails, the access token fails at userinfo and introspection.
    oauth_error(refresh(&app, &client, s.refresh_token(), None).await, StatusCode::BAD_REQUEST, "invalid_grant").await;
    assert_eq!(userinfo_status(&app, &s.access_token).await, StatusCode::UNAUTHORIZED);
    assert!(!introspect_active(&app, &client, &s.access_token).await);
    let page = s.browser.get("/account/sharing?done=withdrawn").await.text().await.unwrap();
    assert!(page.contains("You no longer share details with this department."), "{page}");
    let receipt: Value = s.browser.get(&receipt_link).await.json().await.unwrap();
    assert_eq!(receipt["in_force"], false);
    assert!(receipt["withdrawn_at"].is_string());
    let revoked = events(&app, AuditKind::CONSENT_REVOKED).await;
    assert_eq!(revoked.len(), 1);
    assert_eq!(revoked[0].client_id.as_deref(), Some(client.id()));

    // The next sign-in there asks for consent again (the session is still live).
    let again = authz(&app, client.id(), "openid profile email", true, &[]);
    let res = s.browser.follow(s.browser.get(&again.url).await).await;
    assert_eq!(res.url().path(), "/consent", "consent is asked again");
}

#[tokio::test]
async fn the_profile_is_edited_with_the_sign_up_rules_and_departments_see_the_change() {
    let app = spawn_app().await;
    app.citizen(USER).await;
    let client = app.department_client().await;
    let s = signed_in(&app, &client, &["profile", "email", "address"]).await;
    let page = s.browser.get("/account/profile").await.text().await.unwrap();
    assert!(page.contains("A123***(*)"), "the HKID is shown masked: {page}");
    assert!(!page.contains("A123456"), "never the whole HKID");
    assert!(page.contains("taiman.chan@example.hk"));

    let csrf = hidden(&page, "csrf").unwrap();
    let form = |email: &'static str| {
        vec![
            ("csrf", csrf.clone()),
            ("name_en", "CHAN, Tai Man".to_owned()),
            ("name_zh", "陳大文".to_owned()),
            ("birthdate", "1980-02-29".to_owned()),
            ("gender", "male".to_owned()),
            ("email", email.to_owned()),
            ("phone", String::new()),
            ("residential_address", "2 Garden Road\nCentral".to_owned()),
            ("postal_address", String::new()),
        ]
    };
    let bad: Vec<(&str, String)> = form("not an email");
    let bad: Vec<(&str, &str)> = bad.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let res = s.browser.post_form("/account/profile", &bad).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = res.text().await.unwrap();
    assert!(html.contains("error-summary") && html.contains("value=\"not an email\""), "{html}");

    let good: Vec<(&str, String)> = form("tai.man@example.hk");
    let good: Vec<(&str, &str)> = good.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let res = s.browser.post_form("/account/profile", &good).await;
    assert_eq!(res.headers()["location"], "/account/profile?done=saved");
    let info = userinfo_ok(super::flows::userinfo(&app, &s.access_token).await).await;
    assert_eq!(info["email"], "tai.man@example.hk", "{info}");
    assert_eq!(info["email_verified"], false, "a new email is not verified");
    let updated = events(&app, AuditKind::CITIZEN_UPDATED).await;
    assert_eq!(updated.len(), 1);
    assert!(updated[0].detail.contains("email") && updated[0].detail.contains("residential_address"));
    assert!(!updated[0].detail.contains("example.hk"), "no personal data in the audit log");
    // The same values again: nothing changes, nothing is audited.
    let res = s.browser.post_form("/account/profile", &good).await;
    assert_eq!(res.headers()["location"], "/account/profile?done=unchanged");
    assert_eq!(events(&app, AuditKind::CITIZEN_UPDATED).await.len(), 1);
}

#[tokio::test]
async fn sessions_are_listed_and_one_or_all_can_be_signed_out() {
    let app = spawn_app().await;
    app.citizen(USER).await;
    let client = app.department_client().await;
    let phone = signed_in(&app, &client, &[]).await;
    let laptop = signed_in(&app, &client, &[]).await;

    let page = laptop.browser.get("/account/sessions").await.text().await.unwrap();
    assert_eq!(page.matches("class=\"passkey session\"").count(), 2, "{page}");
    assert_eq!(page.matches("This browser").count(), 1);
    assert!(page.contains("Transport Department"), "the department signed in to");

    // Sign the phone out from the laptop: its session and what it issued end.
    let phone_sid = jwt_parts(&phone.id_token).1["sid"].as_str().unwrap().to_owned();
    let csrf = hidden(&page, "csrf").unwrap();
    let res = laptop.browser.post_form(&format!("/account/sessions/{phone_sid}/end"), &[("csrf", &csrf)]).await;
    assert_eq!(res.headers()["location"], "/account/sessions?done=ended");
    assert_eq!(phone.browser.get("/account").await.status(), StatusCode::SEE_OTHER, "the phone is signed out");
    oauth_error(refresh(&app, &client, phone.refresh_token(), None).await, StatusCode::BAD_REQUEST, "invalid_grant")
        .await;
    assert_eq!(laptop.browser.get("/account").await.status(), StatusCode::OK, "the laptop is not");
    // Another citizen's session id ends nothing.
    let res = laptop.browser.post_form("/account/sessions/not-a-session/end", &[("csrf", &csrf)]).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);

    // Everywhere: the laptop too, with the signed-out page.
    let res = laptop.browser.post_form("/account/sessions/end-all", &[("csrf", &csrf)]).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.text().await.unwrap().contains("signed out"));
    assert_eq!(laptop.browser.get("/account").await.status(), StatusCode::SEE_OTHER);
    oauth_error(refresh(&app, &client, laptop.refresh_token(), None).await, StatusCode::BAD_REQUEST, "invalid_grant")
        .await;
    assert!(events(&app, AuditKind::SIGNOUT).await.len() >= 2);
}

#[tokio::test]
async fn activity_is_the_citizens_own_newest_first_and_paginated() {
    let app = spawn_app().await;
    let citizen = app.citizen(USER).await;
    let other = app.citizen("wong.siuming").await;
    let client = app.department_client().await;
    let s = signed_in(&app, &client, &[]).await;
    // Some history: 25 renames of a passkey, and one event of someone else.
    let db = app.db().await;
    let now = SystemClock.now();
    for i in 0..25 {
        let event = AuditEvent {
            actor: Some(citizen.id.to_string()),
            ..AuditEvent::new(AuditKind::PASSKEY_RENAMED, now.plus_secs(i))
        };
        db.run(move |c| audit::append(c, &event)).await.unwrap();
    }
    let foreign = AuditEvent { actor: Some(other.id.to_string()), ..AuditEvent::new(AuditKind::PASSWORD_REMOVED, now) };
    db.run(move |c| audit::append(c, &foreign)).await.unwrap();

    let page = s.browser.get("/account/activity").await.text().await.unwrap();
    assert_eq!(page.matches("class=\"activity-event").count(), 20, "a page of 20");
    assert!(page.contains("Passkey renamed"));
    assert!(!page.contains("Password removed"), "never another citizen's activity");
    let older = page.split("id=\"activity-older\"").next().unwrap().rsplit("href=\"").next().unwrap();
    let older = older.split('"').next().unwrap().replace("&amp;", "&").replace("&#x2F;", "/");
    let next = s.browser.get(&older).await.text().await.unwrap();
    assert!(next.contains("Agreed to share details") && next.contains("Signed in with a password"), "{next}");
    assert!(next.contains("data-kind=\"signin.password\""));
    let zh = s.browser.get("/account/activity?ui_locales=zh-HK").await;
    assert_eq!(zh.status(), StatusCode::OK);
}

#[tokio::test]
async fn every_dashboard_page_needs_a_session_and_every_form_the_csrf_token() {
    let app = spawn_app().await;
    app.citizen(USER).await;
    let client = app.department_client().await;
    let stranger = Browser::new(&app.address);
    for page in ["/account", "/account/profile", "/account/sharing", "/account/sessions", "/account/activity"] {
        let res = stranger.get(page).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "{page}");
        let location = res.headers()["location"].to_str().unwrap().to_owned();
        assert!(location.starts_with("/signin?next="), "{page}: {location}");
    }
    let s = signed_in(&app, &client, &[]).await;
    for page in ["/account", "/account/profile", "/account/sharing", "/account/sessions", "/account/activity"] {
        let res = s.browser.get(page).await;
        assert_eq!(res.status(), StatusCode::OK, "{page}");
        let zh = s.browser.get(&format!("{page}?ui_locales=zh-HK")).await.text().await.unwrap();
        assert!(zh.contains("lang=\"zh-HK\"") || zh.contains("lang=\"zh-Hant-HK\""), "{page} in Chinese");
    }
    for action in [
        "/account/profile",
        "/account/password",
        "/account/password/remove",
        &format!("/account/sharing/{}/withdraw", client.id()),
        "/account/sessions/x/end",
        "/account/sessions/end-all",
    ] {
        let res = s.browser.post_form(action, &[("csrf", "forged")]).await;
        assert_eq!(res.status(), StatusCode::FORBIDDEN, "{action}");
        let res = s.browser.post_form(action, &[]).await;
        assert_eq!(res.status(), StatusCode::FORBIDDEN, "{action} without a token");
    }
}
