//! The demo click-through in real Chromium: a citizen signs up and signs in at one
//! department's portal, then at a second portal without a password, then signs out.

use crate::helpers::{TestApp, spawn_app};
use crate::webdriver::{self, Browser};
use fantoccini::{Client, Locator};
use std::net::TcpListener;

/// Starts a department portal (the example crate) registered as a client of `app`.
async fn start_portal(app: &TestApp, department_en: &str, department_zh: &str) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://localhost:{}", listener.local_addr().unwrap().port());
    let client = app
        .client_with(|c| {
            c.department_en = department_en.into();
            c.department_zh = department_zh.into();
            c.redirect_uris = vec![format!("{base}/callback")];
            c.post_logout_redirect_uris = vec![format!("{base}/")];
        })
        .await;
    let vars = [
        ("PORTAL_ISSUER", app.address.clone()),
        ("PORTAL_CLIENT_ID", client.id().to_owned()),
        ("PORTAL_CLIENT_SECRET", client.secret.clone().unwrap()),
        ("PORTAL_BASE_URL", base.clone()),
        ("PORTAL_DEPARTMENT_EN", department_en.into()),
        ("PORTAL_DEPARTMENT_ZH", department_zh.into()),
        ("PORTAL_DISCOVERY_WAIT_SECS", "0".into()),
    ];
    let config =
        department_portal::Config::from_vars(|name| vars.iter().find(|(k, _)| *k == name).map(|(_, v)| v.clone()))
            .unwrap();
    let (server, _) = department_portal::build_with_listener(config, listener).await.unwrap();
    tokio::spawn(server);
    base
}

async fn text_of(c: &Client, css: &str) -> Result<String, fantoccini::error::CmdError> {
    c.find(Locator::Css(css)).await?.text().await
}

/// Waits (up to 10 s) for the browser to arrive at a URL starting with `prefix`: a click
/// returns before the navigation it starts has finished.
async fn arrive(c: &Client, prefix: &str) -> Result<String, fantoccini::error::CmdError> {
    for _ in 0..100 {
        let url = c.current_url().await?.to_string();
        if url.starts_with(prefix) {
            return Ok(url);
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let url = c.current_url().await?;
    webdriver::screenshot(c, "demo-failed").await?;
    panic!("expected {prefix}..., at {url}: {}", text_of(c, "body").await?);
}

async fn fill(c: &Client, name: &str, value: &str) -> Result<(), fantoccini::error::CmdError> {
    c.find(Locator::Css(&format!("[name=\"{name}\"]"))).await?.send_keys(value).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_citizen_signs_up_signs_in_at_two_departments_and_signs_out() {
    let Some(browser) = Browser::start().await else { return };
    let app = spawn_app().await;
    let transport = start_portal(&app, "Transport Department", "運輸署").await;
    let housing = start_portal(&app, "Housing Department", "房屋署").await;
    let tessera = app.address.clone();
    browser
        .run(|c| async move {
            // The Transport portal sends the citizen to Tessera's sign-in page.
            c.goto(&format!("{transport}/")).await?;
            c.find(Locator::Css("a[href=\"/login\"]")).await?.click().await?;
            arrive(&c, &format!("{tessera}/signin")).await?;
            webdriver::screenshot(&c, "demo-01-signin").await?;

            // No account yet: create the digital identity.
            c.find(Locator::Css("a[href^=\"/signup\"]")).await?.click().await?;
            fill(&c, "username", "chan.taiman").await?;
            fill(&c, "password", "correct horse battery staple").await?;
            fill(&c, "password_confirm", "correct horse battery staple").await?;
            fill(&c, "name_en", "CHAN, Tai Man").await?;
            fill(&c, "name_zh", "陳大文").await?;
            fill(&c, "email", "taiman.chan@example.hk").await?;
            fill(&c, "phone", "91234567").await?;
            webdriver::screenshot(&c, "demo-02-signup").await?;
            c.find(Locator::Css("form[action=\"/signup\"] button[type=submit]")).await?.click().await?;

            // Consent: the department and the details it asks for.
            arrive(&c, &format!("{tessera}/consent")).await?;
            let page = c.source().await?;
            assert!(page.contains("Transport Department"), "the consent page names the department");
            webdriver::screenshot(&c, "demo-03-consent").await?;
            c.find(Locator::Css("button[name=decision][value=allow]")).await?.click().await?;

            // Back at the portal, which shows what it received.
            arrive(&c, &format!("{transport}/me")).await?;
            let page = c.source().await?;
            assert!(page.contains("CHAN, Tai Man") && page.contains("陳大文"), "claims shown: {page}");
            webdriver::screenshot(&c, "demo-04-transport-me").await?;

            // The Housing portal: single sign-on, no password, only its own consent.
            c.goto(&format!("{housing}/")).await?;
            c.find(Locator::Css("a[href=\"/login\"]")).await?.click().await?;
            arrive(&c, &format!("{tessera}/consent")).await?; // no sign-in page: single sign-on
            assert!(c.source().await?.contains("Housing Department"));
            c.find(Locator::Css("button[name=decision][value=allow]")).await?.click().await?;
            arrive(&c, &format!("{housing}/me")).await?;
            webdriver::screenshot(&c, "demo-05-housing-me").await?;

            // Signing out at Housing ends the Tessera session and returns to the portal.
            c.find(Locator::Css("form[action=\"/logout\"] button")).await?.click().await?;
            arrive(&c, &format!("{housing}/?state=")).await?;
            webdriver::screenshot(&c, "demo-06-signed-out").await?;
            c.goto(&format!("{transport}/login")).await?;
            arrive(&c, &format!("{tessera}/signin")).await?; // Tessera forgot the session
            assert!(text_of(&c, "h1").await?.len() > 3);
            Ok(())
        })
        .await;
}
