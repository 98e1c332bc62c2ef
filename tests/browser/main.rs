//! Browser end-to-end tests: the real server, real headless Chromium through chromedriver.
//! Pure Rust (fantoccini). Screenshots go to `target/screenshots/`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod admin;
mod common;
mod demo;
#[path = "../api/fixtures.rs"]
#[allow(dead_code)]
mod fixtures;
#[path = "../api/helpers.rs"]
#[allow(dead_code)]
mod helpers;
mod passkeys;
mod signup_passkey;
mod webdriver;

use fantoccini::Locator;
use webdriver::Browser;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn home_page_on_a_phone_in_both_languages() {
    let Some(browser) = Browser::start().await else { return };
    let app = helpers::spawn_app().await;
    browser
        .run(|c| async move {
            c.goto(&format!("{}/", app.address)).await?;
            let lang = c.find(Locator::Css("html")).await?.attr("lang").await?;
            assert_eq!(lang.as_deref(), Some("en"));
            let h1 = c.find(Locator::Css("h1")).await?.text().await?;
            assert_eq!(h1, "Sign in once, use every government service");
            assert_fits_the_screen(&c).await?;
            webdriver::screenshot(&c, "home-en-phone").await?;

            // The language switch is a plain link: no JavaScript needed.
            c.find(Locator::Css("a.lang-switch")).await?.click().await?;
            let lang = c.find(Locator::Css("html")).await?.attr("lang").await?;
            assert_eq!(lang.as_deref(), Some("zh-HK"));
            let h1 = c.find(Locator::Css("h1")).await?.text().await?;
            assert_eq!(h1, "登入一次，使用所有政府服務");
            assert_fits_the_screen(&c).await?;
            webdriver::screenshot(&c, "home-zh-HK-phone").await?;

            // The choice is remembered by the cookie on the next visit.
            c.goto(&format!("{}/", app.address)).await?;
            let lang = c.find(Locator::Css("html")).await?.attr("lang").await?;
            assert_eq!(lang.as_deref(), Some("zh-HK"));
            Ok(())
        })
        .await;
}

/// No horizontal scrolling on a 390 px wide phone screen.
async fn assert_fits_the_screen(c: &fantoccini::Client) -> Result<(), fantoccini::error::CmdError> {
    let widths = c.execute("return [document.documentElement.scrollWidth, window.innerWidth];", vec![]).await?;
    let scroll = widths[0].as_f64().unwrap();
    let inner = widths[1].as_f64().unwrap();
    assert!(scroll <= inner, "page is {scroll}px wide on a {inner}px screen");
    Ok(())
}
