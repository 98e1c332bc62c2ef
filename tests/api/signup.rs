//! Passkey-only sign-up over HTTP (the browser flow is in tests/browser/signup_passkey.rs):
//! the profile POST answers 303 to a page of its own, which survives a reload or a language
//! switch, and which only the browser that posted the profile can use.

use crate::helpers::{TestApp, spawn_app};
use crate::oidc::browser::{Browser, attribute, hidden, post_json};
use reqwest::StatusCode;
use serde_json::{Value, json};
use tessera_domain::{CitizenStatus, Username};
use tessera_testkit::softkey::SoftPasskey;

/// Posts the profile with the passkey choice; returns the address of the passkey page.
async fn post_profile(browser: &Browser, username: &str) -> String {
    let page = browser.get("/signup").await.text().await.unwrap();
    let csrf = hidden(&page, "csrf").unwrap();
    let form = [("csrf", csrf.as_str()), ("username", username), ("name_en", "WONG, Siu Ming"), ("method", "passkey")];
    let res = browser.post_form("/signup", &form).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER, "post, redirect, get");
    let location = res.headers()["location"].to_str().unwrap().to_owned();
    assert!(location.starts_with("/signup/passkey?ceremony="), "{location}");
    location
}

async fn status_of(app: &TestApp, username: &str) -> Option<CitizenStatus> {
    let name = Username::parse(username).unwrap();
    let db = app.db().await;
    db.run(move |c| tessera_store::citizens::by_username(c, &name)).await.unwrap().map(|c| c.status)
}

#[tokio::test]
async fn the_create_passkey_page_survives_a_language_switch_and_finishes_the_sign_up() {
    let app = spawn_app().await;
    let browser = Browser::new(&app.address);
    let page_url = post_profile(&browser, "wong.siuming").await;
    let first = browser.get(&page_url).await.text().await.unwrap();
    assert!(first.contains("Create your passkey"), "{first}");

    let switch = format!(
        "/language?lang=zh-HK&return={}",
        url::form_urlencoded::byte_serialize(page_url.as_bytes()).collect::<String>()
    );
    let back = browser.get(&switch).await;
    assert_eq!(back.headers()["location"].to_str().unwrap(), page_url, "back to the same page");
    let page = browser.get(&page_url).await.text().await.unwrap();
    assert!(page.contains("建立你的通行密鑰"), "{page}");
    assert_eq!(attribute(&page, "data-ceremony"), attribute(&first, "data-ceremony"), "the same ceremony");

    let options: Value = serde_json::from_str(&attribute(&page, "data-options").unwrap()).unwrap();
    let mut key = SoftPasskey::new();
    let credential = key.create(&options, &browser.base);
    let csrf = hidden(&page, "csrf").unwrap();
    let body = json!({ "ceremony": attribute(&page, "data-ceremony"), "credential": credential });
    let (status, done) = post_json(&browser, "/signup/passkey/finish", &csrf, body).await;
    assert_eq!(status, StatusCode::OK, "{done}");
    assert_eq!(done["redirect"], "/account");
    assert_eq!(status_of(&app, "wong.siuming").await, Some(CitizenStatus::Active));
    assert_eq!(browser.get("/account").await.status(), StatusCode::OK, "signed in");
    // Single use: the page of a finished sign-up is gone.
    assert_eq!(browser.get(&page_url).await.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn only_the_browser_that_posted_the_profile_can_use_its_page() {
    let app = spawn_app().await;
    let browser = Browser::new(&app.address);
    let page_url = post_profile(&browser, "lee.kaho").await;
    let page = browser.get(&page_url).await.text().await.unwrap();
    let ceremony = attribute(&page, "data-ceremony").unwrap();
    let options: Value = serde_json::from_str(&attribute(&page, "data-options").unwrap()).unwrap();

    // Another browser that learnt the address: an "expired" page, no options, no ceremony.
    let other = Browser::new(&app.address);
    let seen = other.get(&page_url).await;
    assert_eq!(seen.status(), StatusCode::NOT_FOUND);
    let seen = seen.text().await.unwrap();
    assert!(seen.contains("id=\"signup-passkey-expired\"") && !seen.contains("data-options"), "{seen}");
    // ... and it cannot finish the ceremony with its own authenticator either.
    let other_page = other.get("/signup").await.text().await.unwrap();
    let other_csrf = hidden(&other_page, "csrf").unwrap();
    let credential = SoftPasskey::new().create(&options, &other.base);
    let (status, answer) = post_json(
        &other,
        "/signup/passkey/finish",
        &other_csrf,
        json!({ "ceremony": ceremony, "credential": credential }),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
    assert_eq!(answer["error"], "expired");
    assert_eq!(status_of(&app, "lee.kaho").await, Some(CitizenStatus::Disabled), "the account stays unfinished");
}
