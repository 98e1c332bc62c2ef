//! The pages of the authorization flow (CONFORMANCE §3 and §5): security headers, CSRF and
//! Origin checks on every form, the sign-in form's answers (no user enumeration, throttling)
//! and the SSO session cookie.

use super::authorize::{Raw, USER, location, scene};
use super::browser::{Browser, hidden};
use crate::fixtures::{PASSWORD, TestClient};
use crate::helpers::TestApp;
use reqwest::StatusCode;

const UNKNOWN_USER: &str = "nobody.here";
/// A well-formed CSRF token that is not the browser's.
const FORGED_CSRF: &str = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";

/// The sign-in page of a fresh authorization request: the response, before reading it.
async fn open_sign_in(browser: &Browser, app: &TestApp, client: &TestClient) -> reqwest::Response {
    let res = browser.get(&Raw::new(client).url(app)).await;
    assert!(location(&res).starts_with("/signin?authz="), "{}", location(&res));
    browser.follow(res).await
}

/// The sign-in page's HTML, CSRF token and pending request id.
async fn sign_in_form(browser: &Browser, app: &TestApp, client: &TestClient) -> (String, String, String) {
    let html = open_sign_in(browser, app, client).await.text().await.unwrap();
    let csrf = hidden(&html, "csrf").expect("csrf field");
    let authz = hidden(&html, "authz").expect("authz field");
    (html, csrf, authz)
}

async fn post_sign_in(browser: &Browser, csrf: &str, authz: &str, username: &str, password: &str) -> reqwest::Response {
    browser
        .post_form("/signin", &[("csrf", csrf), ("authz", authz), ("username", username), ("password", password)])
        .await
}

/// The `Set-Cookie` header that sets `name`, if any.
fn set_cookie(res: &reqwest::Response, name: &str) -> Option<String> {
    res.headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .find(|c| c.starts_with(&format!("{name}=")))
}

fn cookie_value(set_cookie: &str) -> &str {
    let pair = set_cookie.split(';').next().unwrap();
    pair.split_once('=').unwrap().1
}

/// Whether a browser sending `cookie` has a live SSO session (prompt=none is not `login_required`).
async fn has_session(app: &TestApp, client: &TestClient, cookie: Option<&str>) -> bool {
    let mut req = app.http.get(Raw::new(client).set("prompt", "none").url(app));
    if let Some(cookie) = cookie {
        req = req.header("cookie", cookie);
    }
    let res = req.send().await.unwrap();
    !location(&res).contains("error=login_required")
}

fn assert_security_headers(res: &reqwest::Response, what: &str) {
    let h = res.headers();
    let csp = h.get("content-security-policy").map(|v| v.to_str().unwrap()).unwrap_or_default();
    assert!(csp.contains("frame-ancestors 'none'"), "{what}: CSP {csp:?}");
    assert_eq!(h.get("x-frame-options").map(|v| v.to_str().unwrap()), Some("DENY"), "{what}");
    assert_eq!(h.get("referrer-policy").map(|v| v.to_str().unwrap()), Some("no-referrer"), "{what}");
    assert!(h["content-type"].to_str().unwrap().starts_with("text/html"), "{what}");
}

/// Every `<form>` of a page carries a non-empty CSRF field; the page loads nothing from elsewhere.
fn assert_forms_protected(html: &str, what: &str) {
    let forms: Vec<&str> = html.split("<form").skip(1).map(|f| f.split("</form>").next().unwrap()).collect();
    assert!(!forms.is_empty(), "{what}: no form");
    for form in forms {
        assert!(hidden(form, "csrf").is_some_and(|t| t.len() >= 22), "{what}: a form without a CSRF field: {form}");
    }
    assert!(!html.contains("http://") && !html.contains("https://"), "{what}: third-party resource: {html}");
}

#[tokio::test]
async fn every_page_of_the_flow_has_the_security_headers_and_csrf_fields() {
    let s = scene().await;
    let browser = Browser::new(&s.app.address);

    let page = open_sign_in(&browser, &s.app, &s.client).await;
    assert_security_headers(&page, "sign-in page");
    let html = page.text().await.unwrap();
    assert_forms_protected(&html, "sign-in page");

    let csrf = hidden(&html, "csrf").unwrap();
    let authz = hidden(&html, "authz").unwrap();
    let consent = browser.follow(post_sign_in(&browser, &csrf, &authz, USER, PASSWORD).await).await;
    assert_security_headers(&consent, "consent page");
    let html = consent.text().await.unwrap();
    assert!(html.contains("name=\"decision\""), "not the consent page: {html}");
    assert_forms_protected(&html, "consent page");

    let error = browser.get(&Raw::new(&s.client).set("client_id", "AAAAAAAAAAAAAAAAAAAAAA").url(&s.app)).await;
    assert_eq!(error.status(), StatusCode::BAD_REQUEST);
    assert_security_headers(&error, "error page");
}

#[tokio::test]
async fn authorize_allows_no_cross_origin_reads() {
    let s = scene().await;
    let url = format!("/authorize?{}", Raw::new(&s.client).query());
    let res = s.app.get_with(&url, &[("Origin", "https://evil.example")]).await;
    assert!(res.headers().get("access-control-allow-origin").is_none(), "CORS on /authorize");
    assert!(res.headers().get("access-control-allow-credentials").is_none(), "CORS on /authorize");
}

#[tokio::test]
async fn sign_in_without_or_with_a_wrong_csrf_token_is_forbidden_and_starts_no_session() {
    let s = scene().await;
    for (what, csrf) in [("no csrf", None), ("wrong csrf", Some(FORGED_CSRF))] {
        let browser = Browser::new(&s.app.address);
        let (_, _, authz) = sign_in_form(&browser, &s.app, &s.client).await;
        let mut form = vec![("authz", authz.as_str()), ("username", USER), ("password", PASSWORD)];
        if let Some(csrf) = csrf {
            form.push(("csrf", csrf));
        }
        let res = browser.post_form("/signin", &form).await;
        assert_eq!(res.status(), StatusCode::FORBIDDEN, "{what}");
        assert!(res.headers().get("location").is_none(), "{what}");
        assert!(set_cookie(&res, "tessera_sid").is_none(), "{what}: a session cookie was set");
        let after = browser.get(&Raw::new(&s.client).set("prompt", "none").url(&s.app)).await;
        assert!(location(&after).contains("error=login_required"), "{what}: signed in anyway");
    }
}

#[tokio::test]
async fn sign_in_from_another_origin_is_forbidden() {
    let s = scene().await;
    let browser = Browser::new(&s.app.address);
    let (_, csrf, authz) = sign_in_form(&browser, &s.app, &s.client).await;
    let res = browser
        .http
        .post(format!("{}/signin", s.app.address))
        .header("origin", "https://evil.example")
        .form(&[("csrf", csrf.as_str()), ("authz", &authz), ("username", USER), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert!(set_cookie(&res, "tessera_sid").is_none(), "a session cookie was set");
}

#[tokio::test]
async fn consent_without_or_with_a_wrong_csrf_token_is_forbidden_and_records_nothing() {
    let s = scene().await;
    let browser = Browser::new(&s.app.address);
    let (_, csrf, authz) = sign_in_form(&browser, &s.app, &s.client).await;
    let page = browser.follow(post_sign_in(&browser, &csrf, &authz, USER, PASSWORD).await).await;
    let html = page.text().await.unwrap();
    let authz = hidden(&html, "authz").expect("consent page");
    for (what, csrf) in [("no csrf", None), ("wrong csrf", Some(FORGED_CSRF))] {
        let mut form = vec![("authz", authz.as_str()), ("decision", "allow")];
        if let Some(csrf) = csrf {
            form.push(("csrf", csrf));
        }
        let res = browser.post_form("/consent", &form).await;
        assert_eq!(res.status(), StatusCode::FORBIDDEN, "{what}");
        assert!(res.headers().get("location").is_none(), "{what}: went on to {:?}", res.headers()["location"]);
    }
    let again = browser.get(&format!("/consent?authz={authz}")).await;
    assert_eq!(again.status(), StatusCode::OK, "the consent page is gone");
    assert!(again.text().await.unwrap().contains("name=\"decision\""), "consent was recorded");
}

#[tokio::test]
async fn wrong_password_and_unknown_username_get_the_same_answer() {
    let s = scene().await;
    let browser = Browser::new(&s.app.address);
    let (_, csrf, authz) = sign_in_form(&browser, &s.app, &s.client).await;
    let wrong = post_sign_in(&browser, &csrf, &authz, USER, "not the password at all").await;
    let unknown = post_sign_in(&browser, &csrf, &authz, UNKNOWN_USER, "not the password at all").await;
    assert_eq!(wrong.status(), unknown.status());
    assert!(wrong.status().is_client_error(), "{}", wrong.status());
    let normalise = |html: String, username: &str| html.replace(&csrf, "CSRF").replace(username, "USERNAME");
    let wrong = normalise(wrong.text().await.unwrap(), USER);
    let unknown = normalise(unknown.text().await.unwrap(), UNKNOWN_USER);
    assert_eq!(wrong, unknown, "the two pages differ");
    assert!(wrong.contains("name=\"password\""), "not the sign-in page again: {wrong}");
}

#[tokio::test]
async fn repeated_failures_are_throttled_with_429_and_retry_after_whether_or_not_the_account_exists() {
    let s = scene().await;
    for username in [USER, UNKNOWN_USER] {
        let browser = Browser::new(&s.app.address);
        let (_, csrf, authz) = sign_in_form(&browser, &s.app, &s.client).await;
        let mut throttled = None;
        for attempt in 1..=6 {
            let res = post_sign_in(&browser, &csrf, &authz, username, "guess").await;
            if res.status() == StatusCode::TOO_MANY_REQUESTS {
                throttled = Some((attempt, res));
                break;
            }
            assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "{username}: attempt {attempt}");
        }
        let (attempt, res) = throttled.unwrap_or_else(|| panic!("{username}: 6 failures in a row, never throttled"));
        assert!(attempt <= 5, "{username}: throttled only at attempt {attempt}");
        let retry_after = res.headers().get("retry-after").map(|v| v.to_str().unwrap().to_owned());
        let seconds: u64 = retry_after.as_deref().and_then(|v| v.parse().ok()).unwrap_or_default();
        assert!(seconds >= 1, "{username}: Retry-After {retry_after:?}");
        assert!(set_cookie(&res, "tessera_sid").is_none());
    }
}

#[tokio::test]
async fn sso_cookie_is_http_only_lax_for_the_whole_site_and_not_secure_over_http() {
    let s = scene().await;
    let browser = Browser::new(&s.app.address);
    let (_, csrf, authz) = sign_in_form(&browser, &s.app, &s.client).await;
    let res = post_sign_in(&browser, &csrf, &authz, USER, PASSWORD).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER, "303 after a credential POST");
    let cookie = set_cookie(&res, "tessera_sid").expect("an SSO cookie");
    let attributes: Vec<String> = cookie.split(';').skip(1).map(|a| a.trim().to_ascii_lowercase()).collect();
    assert!(attributes.contains(&"httponly".to_owned()), "{cookie}");
    assert!(attributes.contains(&"samesite=lax".to_owned()), "{cookie}");
    assert!(attributes.contains(&"path=/".to_owned()), "{cookie}");
    assert!(!attributes.contains(&"secure".to_owned()), "Secure over http://localhost: {cookie}");
    let value = cookie_value(&cookie);
    assert!(value.len() >= 22, "session id under 128 bits: {cookie}");
    assert!(!location(&res).contains(value), "the session id is in a URL");
}

#[tokio::test]
async fn signing_in_again_rotates_the_session_cookie() {
    let s = scene().await;
    let browser = Browser::new(&s.app.address);
    let (_, csrf, authz) = sign_in_form(&browser, &s.app, &s.client).await;
    let first = post_sign_in(&browser, &csrf, &authz, USER, PASSWORD).await;
    let first = cookie_value(&set_cookie(&first, "tessera_sid").expect("an SSO cookie")).to_owned();

    let html = browser.get("/signin").await.text().await.unwrap();
    let csrf = hidden(&html, "csrf").unwrap();
    let second = post_sign_in(&browser, &csrf, "", USER, PASSWORD).await;
    assert_eq!(second.status(), StatusCode::SEE_OTHER);
    let second = cookie_value(&set_cookie(&second, "tessera_sid").expect("a new SSO cookie")).to_owned();

    assert_ne!(first, second, "the session id did not change at sign-in");
    assert!(!has_session(&s.app, &s.client, Some(&format!("tessera_sid={first}"))).await, "the old session lives on");
    assert!(has_session(&s.app, &s.client, Some(&format!("tessera_sid={second}"))).await, "the new session is dead");
}
