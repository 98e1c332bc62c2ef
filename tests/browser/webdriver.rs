//! chromedriver + headless Chromium for the browser tests. Follows the pitfalls listed
//! in the design notes: root needs --no-sandbox; no background networking; a fresh
//! profile; always delete the WebDriver session so Chromium does not outlive the test.

use fantoccini::{Client, ClientBuilder};
use serde_json::{Value, json};
use std::future::Future;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

pub type TestResult = Result<(), fantoccini::error::CmdError>;

pub struct Browser {
    driver: Child,
    url: String,
    profile: tempfile::TempDir,
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

fn required() -> bool {
    std::env::var(tessera_testkit::REQUIRE_ENV).as_deref() == Ok("1")
}

impl Browser {
    /// Starts chromedriver, or returns `None` (test skipped) when Chromium is not
    /// installed outside the test command. Under the test command a missing browser fails.
    pub async fn start() -> Option<Browser> {
        let driver_bin = std::env::var("CHROMEDRIVER").unwrap_or_else(|_| "/usr/bin/chromedriver".into());
        let chrome_bin = std::env::var("CHROME_BIN").unwrap_or_else(|_| "/usr/bin/chromium".into());
        if !PathBuf::from(&driver_bin).exists() || !PathBuf::from(&chrome_bin).exists() {
            assert!(
                !required(),
                "Chromium/chromedriver are required under the test command: {chrome_bin}, {driver_bin}"
            );
            eprintln!("SKIPPED: Chromium or chromedriver not installed; run scripts/test");
            return None;
        }
        let port = tessera_testkit::free_port();
        let driver = Command::new(driver_bin)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn chromedriver");
        tessera_testkit::wait_for_port(port, "chromedriver", Duration::from_secs(20));
        Some(Browser { driver, url: format!("http://127.0.0.1:{port}"), profile: tempfile::tempdir().unwrap() })
    }

    async fn client(&self) -> Client {
        let chrome_bin = std::env::var("CHROME_BIN").unwrap_or_else(|_| "/usr/bin/chromium".into());
        let caps = json!({
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": chrome_bin,
                "args": ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                         "--disable-background-networking", "--disable-component-update", "--disable-sync",
                         "--window-size=390,844", "--force-device-scale-factor=1",
                         format!("--user-data-dir={}", self.profile.path().display())]
            }
        });
        let Value::Object(caps) = caps else { unreachable!() };
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        ClientBuilder::new(connector).capabilities(caps).connect(&self.url).await.expect("start a Chromium session")
    }

    /// Runs the test body in its own task, then always closes the WebDriver session (so
    /// Chromium exits) before reporting the body's failure, if any.
    pub async fn run<F, Fut>(&self, body: F)
    where
        F: FnOnce(Client) -> Fut,
        Fut: Future<Output = TestResult> + Send + 'static,
    {
        let client = self.client().await;
        let outcome = tokio::spawn(body(client.clone())).await;
        let _ = client.close().await;
        match outcome {
            Ok(Ok(())) => {}
            Ok(Err(e)) => panic!("WebDriver command failed: {e}"),
            Err(join) => std::panic::resume_unwind(join.into_panic()),
        }
    }
}

/// Saves a PNG of the current page as `target/screenshots/NAME.png`.
pub async fn screenshot(c: &Client, name: &str) -> TestResult {
    let png = c.screenshot().await?;
    let dir = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target"))
        .join("screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join(format!("{name}.png")), png).unwrap();
    Ok(())
}

/// Any command of WebAuthn Level 2 §11 (Automation) under `/session/{id}/webauthn/`, or a
/// chromedriver extension under `/session/{id}/goog/`.
#[derive(Debug)]
struct SessionCommand {
    method: http::Method,
    path: String,
    body: Option<Value>,
}

impl fantoccini::wd::WebDriverCompatibleCommand for SessionCommand {
    fn endpoint(&self, base: &url::Url, session_id: Option<&str>) -> Result<url::Url, url::ParseError> {
        base.join(&format!("session/{}/{}", session_id.unwrap_or_default(), self.path))
    }

    fn method_and_body(&self, _: &url::Url) -> (http::Method, Option<String>) {
        (self.method.clone(), self.body.as_ref().map(Value::to_string))
    }
}

async fn session_command(
    c: &Client,
    method: http::Method,
    path: String,
    body: Option<Value>,
) -> Result<Value, fantoccini::error::CmdError> {
    c.issue_cmd(SessionCommand { method, path, body }).await
}

/// Adds a virtual authenticator to the current tab, like a phone's platform authenticator:
/// CTAP2, internal, resident keys, user verification. `user_verified: false` makes every
/// user verification fail (the citizen's fingerprint is not recognised). Returns its id.
pub async fn add_authenticator(c: &Client, user_verified: bool) -> Result<String, fantoccini::error::CmdError> {
    let id = session_command(
        c,
        http::Method::POST,
        "webauthn/authenticator".into(),
        Some(json!({
            "protocol": "ctap2", "transport": "internal",
            "hasResidentKey": true, "hasUserVerification": true,
            "isUserConsenting": true, "isUserVerified": user_verified,
        })),
    )
    .await?;
    Ok(id.as_str().expect("authenticator id").to_owned())
}

/// Makes the authenticator's user verification succeed or fail from now on.
pub async fn set_user_verified(c: &Client, authenticator: &str, verified: bool) -> TestResult {
    session_command(
        c,
        http::Method::POST,
        format!("webauthn/authenticator/{authenticator}/uv"),
        Some(json!({ "isUserVerified": verified })),
    )
    .await?;
    Ok(())
}

/// The credentials the authenticator holds.
pub async fn credentials(c: &Client, authenticator: &str) -> Result<Vec<Value>, fantoccini::error::CmdError> {
    let list =
        session_command(c, http::Method::GET, format!("webauthn/authenticator/{authenticator}/credentials"), None)
            .await?;
    Ok(list.as_array().cloned().unwrap_or_default())
}

/// Runs a Chrome DevTools Protocol command through chromedriver.
pub async fn cdp(c: &Client, cmd: &str, params: Value) -> Result<Value, fantoccini::error::CmdError> {
    session_command(c, http::Method::POST, "goog/cdp/execute".into(), Some(json!({ "cmd": cmd, "params": params })))
        .await
}
