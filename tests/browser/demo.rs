//! The demo click-through in real Chromium: a citizen signs up and signs in at one
//! department's portal, then at a second portal without a password, then signs out.

use crate::common::{arrive, start_portal, text_of};
use crate::helpers::spawn_app;
use crate::webdriver::{self, Browser};
use fantoccini::{Client, Locator};

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
            c.find(Locator::Css("button[name=method][value=password]")).await?.click().await?;

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
