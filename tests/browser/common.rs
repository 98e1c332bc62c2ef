//! Helpers shared by the browser tests: a department portal started in-process and
//! registered with the test Tessera (or with a client registered elsewhere), waiting for
//! navigations and page conditions, and a tab without passkey autofill.

use crate::helpers::TestApp;
use crate::webdriver;
use fantoccini::error::CmdError;
use fantoccini::{Client, Locator};
use serde_json::{Value, json};
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
    let base = base_url_of(&listener);
    let client = app
        .client_with(|c| {
            c.department_en = department_en.into();
            c.department_zh = department_zh.into();
            c.redirect_uris = vec![format!("{base}/callback")];
            c.post_logout_redirect_uris = vec![format!("{base}/")];
        })
        .await;
    let secret = client.secret.clone().unwrap();
    start_portal_for(&app.address, listener, client.id(), &secret, department_en, department_zh, settings).await
}

/// The base URL a portal started on `listener` has: `http://localhost:PORT`.
pub fn base_url_of(listener: &TcpListener) -> String {
    format!("http://localhost:{}", listener.local_addr().unwrap().port())
}

/// Starts a department portal on `listener` as the client `client_id` of the Tessera at
/// `issuer`, registered beforehand (for example through the admin pages) with the redirect
/// URI `{base}/callback` and the post-logout URI `{base}/`, where `base` is
/// [`base_url_of`] the listener. Returns `base`.
pub async fn start_portal_for(
    issuer: &str,
    listener: TcpListener,
    client_id: &str,
    secret: &str,
    department_en: &str,
    department_zh: &str,
    settings: &[(&str, &str)],
) -> String {
    let base = base_url_of(&listener);
    let mut vars = vec![
        ("PORTAL_ISSUER", issuer.to_owned()),
        ("PORTAL_CLIENT_ID", client_id.to_owned()),
        ("PORTAL_CLIENT_SECRET", secret.to_owned()),
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

/// Waits (up to 15 s) until the JavaScript expression `condition` is truthy; returns its value.
pub async fn until(c: &Client, condition: &str) -> Result<Value, CmdError> {
    let script = format!("return ({condition}) || null;");
    for _ in 0..150 {
        let value = c.execute(&script, vec![]).await?;
        if !value.is_null() {
            return Ok(value);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    webdriver::screenshot(c, "browser-failed").await?;
    panic!("still not true: {condition}: {}", text_of(c, "body").await?);
}

/// Makes this tab a browser without passkey autofill (conditional mediation), so that a
/// sign-in page does not sign in by itself: with a virtual authenticator holding a
/// discoverable credential, an autofill request resolves on its own as soon as the page
/// loads. Call it before the first navigation.
pub async fn without_autofill(c: &Client) -> Result<(), CmdError> {
    webdriver::cdp(c, "Page.enable", json!({})).await?;
    webdriver::cdp(
        c,
        "Page.addScriptToEvaluateOnNewDocument",
        json!({"source": "if (window.PublicKeyCredential) Object.defineProperty(PublicKeyCredential, \
            'isConditionalMediationAvailable', {value: () => Promise.resolve(false), configurable: true});"}),
    )
    .await?;
    Ok(())
}
