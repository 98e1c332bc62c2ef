//! Helpers shared by the browser tests: a department portal started in-process and
//! registered with the test Tessera, and waiting for navigations.

use crate::helpers::TestApp;
use crate::webdriver;
use fantoccini::error::CmdError;
use fantoccini::{Client, Locator};
use std::net::TcpListener;
use std::time::Duration;

/// Starts a department portal (the example crate) registered as a client of `app`.
pub async fn start_portal(app: &TestApp, department_en: &str, department_zh: &str) -> String {
    start_portal_with(app, department_en, department_zh, &[]).await
}

/// [`start_portal`] with more `PORTAL_*` settings (for example `PORTAL_ACR_VALUES`).
pub async fn start_portal_with(
    app: &TestApp,
    department_en: &str,
    department_zh: &str,
    settings: &[(&str, &str)],
) -> String {
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
    let mut vars = vec![
        ("PORTAL_ISSUER", app.address.clone()),
        ("PORTAL_CLIENT_ID", client.id().to_owned()),
        ("PORTAL_CLIENT_SECRET", client.secret.clone().unwrap()),
        ("PORTAL_BASE_URL", base.clone()),
        ("PORTAL_DEPARTMENT_EN", department_en.into()),
        ("PORTAL_DEPARTMENT_ZH", department_zh.into()),
        ("PORTAL_DISCOVERY_WAIT_SECS", "0".into()),
    ];
    vars.extend(settings.iter().map(|(k, v)| (*k, (*v).to_owned())));
    let config =
        department_portal::Config::from_vars(|name| vars.iter().find(|(k, _)| *k == name).map(|(_, v)| v.clone()))
            .unwrap();
    let (server, _) = department_portal::build_with_listener(config, listener).await.unwrap();
    tokio::spawn(server);
    base
}

pub async fn text_of(c: &Client, css: &str) -> Result<String, CmdError> {
    c.find(Locator::Css(css)).await?.text().await
}

/// Waits (up to 15 s) for the browser to arrive at a URL starting with `prefix`.
pub async fn arrive(c: &Client, prefix: &str) -> Result<String, CmdError> {
    for _ in 0..150 {
        let url = c.current_url().await?.to_string();
        if url.starts_with(prefix) {
            return Ok(url);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let url = c.current_url().await?;
    webdriver::screenshot(c, "browser-failed").await?;
    panic!("expected {prefix}..., at {url}: {}", text_of(c, "body").await?);
}
