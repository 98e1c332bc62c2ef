//! The portal driven through its whole flow against a stand-in provider (`mock_provider`), the
//! way a browser would: cookies kept, redirects followed by hand.
#![expect(clippy::unwrap_used, clippy::panic, reason = "tests fail loudly")]

mod mock_provider;

use std::collections::HashMap;
use std::net::TcpListener;
use std::sync::Arc;

use department_portal::{CONTENT_SECURITY_POLICY, Config};
use mock_provider::{CLIENT_ID, CLIENT_SECRET, MockProvider};
use reqwest::StatusCode;
use reqwest::redirect::Policy;

struct TestApp {
    portal: String,
    provider: Arc<MockProvider>,
    browser: reqwest::Client,
}

fn config(issuer: &str, base_url: &str, extra: &[(&str, &str)]) -> Config {
    let mut vars: HashMap<String, String> = [
        ("PORTAL_ISSUER", issuer),
        ("PORTAL_CLIENT_ID", CLIENT_ID),
        ("PORTAL_CLIENT_SECRET", CLIENT_SECRET),
        ("PORTAL_BASE_URL", base_url),
        ("PORTAL_LISTEN", "127.0.0.1:0"),
        ("PORTAL_DISCOVERY_WAIT_SECS", "0"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    vars.extend(extra.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())));
    Config::from_vars(|name| vars.get(name).cloned()).unwrap()
}

async fn spawn_app(extra: &[(&str, &str)]) -> TestApp {
    let provider = MockProvider::start();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let portal = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
    *provider.redirect_uri.lock().unwrap() = format!("{portal}/callback");
    let (server, _port) =
        department_portal::build_with_listener(config(&provider.issuer, &portal, extra), listener).await.unwrap();
    actix_web::rt::spawn(server);
    let browser = reqwest::Client::builder().cookie_store(true).redirect(Policy::none()).build().unwrap();
    TestApp { portal, provider, browser }
}

impl TestApp {
    async fn get(&self, url: &str) -> reqwest::Response {
        self.browser.get(url).send().await.unwrap()
    }

    async fn post(&self, path: &str) -> reqwest::Response {
        self.browser.post(format!("{}{path}", self.portal)).send().await.unwrap()
    }

    /// `/login`, then the provider's authorization endpoint: the callback URL it redirects to.
    async fn authorize(&self) -> String {
        let login = self.get(&format!("{}/login", self.portal)).await;
        assert_eq!(login.status(), StatusCode::SEE_OTHER);
        let cookie = login.headers().get("set-cookie").unwrap().to_str().unwrap().to_owned();
        assert!(cookie.starts_with("portal_login_") && cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"));
        let authorize_url = location(&login);
        assert!(authorize_url.starts_with(&format!("{}/authorize?", self.provider.issuer)));
        let back = self.get(&authorize_url).await;
        assert_eq!(back.status(), StatusCode::FOUND, "the mock refused the authorization request");
        location(&back)
    }

    async fn sign_in(&self) {
        let callback = self.get(&self.authorize().await).await;
        assert_eq!(callback.status(), StatusCode::SEE_OTHER, "{}", callback.text().await.unwrap());
        assert_eq!(location(&callback), "/me");
    }

    async fn page(&self, path: &str) -> (StatusCode, String) {
        let response = self.get(&format!("{}{path}", self.portal)).await;
        (response.status(), response.text().await.unwrap())
    }
}

fn location(response: &reqwest::Response) -> String {
    response.headers().get("location").unwrap().to_str().unwrap().to_owned()
}

fn with_param(url: &str, name: &str, value: &str) -> String {
    let mut url = url::Url::parse(url).unwrap();
    let pairs: Vec<(String, String)> = url.query_pairs().into_owned().filter(|(k, _)| k != name).collect();
    url.query_pairs_mut().clear().extend_pairs(pairs).append_pair(name, value);
    url.to_string()
}

#[actix_web::test]
async fn sign_in_refresh_and_sign_out() {
    let app = spawn_app(&[("PORTAL_ACR_VALUES", "urn:tessera:loa:2")]).await;
    let (status, home) = app.page("/").await;
    assert_eq!(status, StatusCode::OK);
    assert!(home.contains(r#"href="/login""#) && home.contains("運輸署"));

    app.sign_in().await;
    let (status, me) = app.page("/me").await;
    assert_eq!(status, StatusCode::OK);
    for expected in
        ["CHAN, Tai Man", "陳大文", "name#zh-Hant-HK", "tessera-session-7", "urn:tessera:loa:2", "auth_time"]
    {
        assert!(me.contains(expected), "/me lacks {expected}");
    }
    assert!(me.contains(r#"action="/refresh""#) && me.contains(r#"action="/logout""#));
    let (_, home) = app.page("/").await;
    assert!(home.contains("陳大文") && home.contains(r#"href="/me""#) && !home.contains("/login"));

    // The provider rotates its signing key: the refreshed ID token verifies after a JWKS reload.
    app.provider.rotate_keys();
    let refresh = app.post("/refresh").await;
    assert_eq!(refresh.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&refresh), "/me?refreshed=1");
    let (_, me) = app.page("/me?refreshed=1").await;
    assert!(me.contains("Tokens refreshed") && me.contains("Last refreshed"));

    let logout = app.post("/logout").await;
    assert_eq!(logout.status(), StatusCode::SEE_OTHER);
    let end_session = url::Url::parse(&location(&logout)).unwrap();
    assert_eq!(end_session.path(), "/end_session");
    let params: HashMap<String, String> = end_session.query_pairs().into_owned().collect();
    assert_eq!(params["post_logout_redirect_uri"], format!("{}/", app.portal));
    assert_eq!(params["client_id"], CLIENT_ID);
    assert_eq!(params["id_token_hint"].split('.').count(), 3);
    app.get(end_session.as_str()).await;
    assert!(app.provider.end_session_query().is_some());

    let (_, home) = app.page(&format!("/?state={}", params["state"])).await;
    assert!(home.contains("You have signed out.") && home.contains(r#"href="/login""#));
    let (_, home) = app.page(&format!("/?state={}", params["state"])).await;
    assert!(!home.contains("You have signed out."), "the sign-out notice shows once");
    let me = app.get(&format!("{}/me", app.portal)).await;
    assert_eq!((me.status(), location(&me)), (StatusCode::SEE_OTHER, "/".to_owned()));
}

#[actix_web::test]
async fn replayed_or_forged_callbacks_show_error_pages() {
    let app = spawn_app(&[]).await;

    let callback_url = app.authorize().await;
    assert_eq!(app.get(&callback_url).await.status(), StatusCode::SEE_OTHER);
    let (status, page) = app.page(callback_url.trim_start_matches(&app.portal)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(page.contains("login_expired") && page.contains("請重新登入"));

    let forged = with_param(&app.authorize().await, "state", "forged");
    let response = app.get(&forged).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert!(response.text().await.unwrap().contains("state_mismatch"));

    let mixed_up = with_param(&app.authorize().await, "iss", "https://evil.example");
    assert!(app.get(&mixed_up).await.text().await.unwrap().contains("issuer_mismatch"));

    let without_iss = app.authorize().await.replace("&iss=", "&x=");
    assert!(app.get(&without_iss).await.text().await.unwrap().contains("issuer_mismatch"));

    let callback_url = app.authorize().await;
    let denied = url::Url::parse(&callback_url).unwrap();
    let state: String = denied.query_pairs().find(|(k, _)| k == "state").unwrap().1.into_owned();
    let denied = format!(
        "{}/callback?error=access_denied&error_description=%3Cb%3Eno%3C%2Fb%3E&state={state}&iss={}",
        app.portal, app.provider.issuer
    );
    let response = app.get(&denied).await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let page = response.text().await.unwrap();
    assert!(page.contains("access_denied") && page.contains("&lt;b&gt;no&lt;/b&gt;") && !page.contains("<b>no"));

    let no_cookie = reqwest::Client::builder().redirect(Policy::none()).build().unwrap();
    let response = no_cookie.get(format!("{}/callback?code=x&state=y", app.portal)).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);

    let (status, me) = app.page("/me").await;
    assert_eq!(status, StatusCode::OK, "failed callbacks leave the earlier session alone");
    assert!(me.contains("陳大文"));
}

#[actix_web::test]
async fn an_unmet_acr_is_refused() {
    let app = spawn_app(&[("PORTAL_ACR_VALUES", "urn:tessera:loa:3")]).await;
    let callback = app.get(&app.authorize().await).await;
    assert_eq!(callback.status(), StatusCode::FORBIDDEN);
    assert!(callback.text().await.unwrap().contains("acr_not_met"));
}

#[actix_web::test]
async fn every_response_carries_the_security_headers() {
    let app = spawn_app(&[]).await;
    for path in ["/", "/style.css", "/nowhere", "/me"] {
        let response = app.get(&format!("{}{path}", app.portal)).await;
        let header = |name: &str| response.headers().get(name).map(|v| v.to_str().unwrap().to_owned());
        assert_eq!(header("content-security-policy").as_deref(), Some(CONTENT_SECURITY_POLICY), "{path}");
        assert_eq!(header("x-content-type-options").as_deref(), Some("nosniff"), "{path}");
        assert_eq!(header("referrer-policy").as_deref(), Some("no-referrer"), "{path}");
    }
    let css = app.get(&format!("{}/style.css", app.portal)).await;
    assert!(css.headers()["content-type"].to_str().unwrap().starts_with("text/css"));
    let (status, page) = app.page("/nowhere").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(page.contains("找不到網頁"));
    let refresh = app.post("/refresh").await;
    assert_eq!(refresh.status(), StatusCode::SEE_OTHER, "no session: back to the home page");
}

#[actix_web::test]
async fn startup_fails_with_one_line_when_the_provider_is_down() {
    let closed = TcpListener::bind("127.0.0.1:0").unwrap();
    let issuer = format!("http://127.0.0.1:{}", closed.local_addr().unwrap().port());
    drop(closed);
    let err = match department_portal::build(config(&issuer, "http://127.0.0.1:1", &[])).await {
        Ok(_) => panic!("discovery from a closed port succeeded"),
        Err(err) => format!("{err:#}"),
    };
    assert!(err.contains("discovery") && err.contains(&issuer), "{err}");
    assert!(!err.contains('\n'), "{err}");
}
