//! Passkey-only sign-up, the default path, in real Chromium with a virtual authenticator:
//! a new citizen arrives from a department portal, creates their digital identity with a
//! passkey and no password, and the department receives passkey assurance.

use crate::common::{arrive, start_portal, text_of};
use crate::helpers::spawn_app;
use crate::webdriver::{self, Browser};
use fantoccini::{Client, Locator};

async fn fill(c: &Client, name: &str, value: &str) -> Result<(), fantoccini::error::CmdError> {
    c.find(Locator::Css(&format!("[name=\"{name}\"]"))).await?.send_keys(value).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_citizen_signs_up_with_a_passkey_only() {
    let Some(browser) = Browser::start().await else { return };
    let app = spawn_app().await;
    let portal = start_portal(&app, "Social Welfare Department", "社會福利署").await;
    let tessera = app.address.clone();
    browser
        .run(|c| async move {
            let authenticator = webdriver::add_authenticator(&c, true).await?;
            c.goto(&format!("{portal}/")).await?;
            c.find(Locator::Css("a[href=\"/login\"]")).await?.click().await?;
            arrive(&c, &format!("{tessera}/signin")).await?;
            c.find(Locator::Css("a[href^=\"/signup\"]")).await?.click().await?;
            fill(&c, "username", "wong.siuming").await?;
            fill(&c, "name_en", "WONG, Siu Ming").await?;
            fill(&c, "name_zh", "黃小明").await?;
            // No password: the passkey choice.
            c.find(Locator::Css("button[name=method][value=passkey]")).await?.click().await?;
            let page = arrive(&c, &format!("{tessera}/signup/passkey?ceremony=")).await?;
            webdriver::screenshot(&c, "signup-passkey-01-create").await?;
            // Switching the language keeps the sign-up going: the same ceremony, in Chinese.
            c.find(Locator::Css("a.lang-switch")).await?.click().await?;
            arrive(&c, &page).await?;
            assert_eq!(text_of(&c, "h1").await?, "建立你的通行密鑰");
            webdriver::screenshot(&c, "signup-passkey-01-create-zh").await?;
            let button = c.wait().for_element(Locator::Css("#passkey-create")).await?;
            button.click().await?;

            // The passkey exists on the authenticator, the account is live, consent follows.
            arrive(&c, &format!("{tessera}/consent")).await?;
            let stored = webdriver::credentials(&c, &authenticator).await?;
            assert_eq!(stored.len(), 1, "one resident credential");
            c.find(Locator::Css("button[name=decision][value=allow]")).await?.click().await?;
            arrive(&c, &format!("{portal}/me")).await?;
            let page = c.source().await?;
            assert!(page.contains("WONG, Siu Ming"), "the portal received the name");
            assert!(page.contains("urn:tessera:acr:passkey"), "passkey assurance reported");
            webdriver::screenshot(&c, "signup-passkey-02-portal").await?;
            assert!(!text_of(&c, "h1").await?.is_empty());
            Ok(())
        })
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_passkey_sign_up_with_problems_shows_them_and_creates_nothing() {
    let Some(browser) = Browser::start().await else { return };
    let app = spawn_app().await;
    let tessera = app.address.clone();
    browser
        .run(|c| async move {
            c.goto(&format!("{tessera}/signup")).await?;
            fill(&c, "username", "x").await?;
            c.find(Locator::Css("button[name=method][value=passkey]")).await?.click().await?;
            // The same sign-up page again, with the problems listed (name missing, username too short).
            let summary = c.wait().for_element(Locator::Css("[role=alert]")).await?.text().await?;
            assert!(!summary.is_empty());
            assert!(c.find(Locator::Css("#passkey-create")).await.is_err(), "no ceremony was started");
            Ok(())
        })
        .await;
}
