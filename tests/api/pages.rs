//! The home page in both languages, the language switch, error pages and the security
//! headers every page carries.

use crate::helpers::spawn_app;
use reqwest::StatusCode;

#[tokio::test]
async fn home_page_is_english_by_default() {
    let app = spawn_app().await;
    let res = app.get("/").await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["content-language"], "en");
    let html = res.text().await.unwrap();
    assert!(html.contains(r#"<html lang="en">"#));
    assert!(html.contains("Sign in once, use every government service"));
    assert!(html.contains(r#"href="/language?lang=zh-HK&amp;return=%2F""#), "language switch link: {html}");
}

#[tokio::test]
async fn home_page_in_traditional_chinese_from_accept_language() {
    let app = spawn_app().await;
    let res = app.get_with("/", &[("Accept-Language", "zh-HK,zh;q=0.9,en;q=0.8")]).await;
    assert_eq!(res.headers()["content-language"], "zh-HK");
    let html = res.text().await.unwrap();
    assert!(html.contains(r#"<html lang="zh-HK">"#));
    assert!(html.contains("登入一次，使用所有政府服務"));
    assert!(html.contains(r#"hreflang="en""#));
}

#[tokio::test]
async fn ui_locales_wins_over_cookie_and_header() {
    let app = spawn_app().await;
    let res =
        app.get_with("/?ui_locales=zh-HK%20en", &[("Accept-Language", "en"), ("Cookie", "tessera_lang=en")]).await;
    assert_eq!(res.headers()["content-language"], "zh-HK");
    let res = app.get_with("/", &[("Accept-Language", "en"), ("Cookie", "tessera_lang=zh-HK")]).await;
    assert_eq!(res.headers()["content-language"], "zh-HK", "the cookie wins over Accept-Language");
}

#[tokio::test]
async fn language_switch_sets_a_cookie_and_returns_to_the_page() {
    let app = spawn_app().await;
    let res = app.get("/language?lang=zh-HK&return=%2F%3Fa%3D1").await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(res.headers()["location"], "/?a=1");
    let cookie = res.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(cookie.starts_with("tessera_lang=zh-HK"), "{cookie}");
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax") && cookie.contains("Path=/"), "{cookie}");
    // Over http on localhost the cookie cannot be Secure, so it has no __Host- prefix.
    assert!(!cookie.contains("Secure"), "{cookie}");
}

#[tokio::test]
async fn language_switch_is_not_an_open_redirect() {
    let app = spawn_app().await;
    for target in ["https://evil.example/", "//evil.example/", "/\\evil.example", "javascript:alert(1)"] {
        let encoded: String = url::form_urlencoded::byte_serialize(target.as_bytes()).collect();
        let res = app.get(&format!("/language?lang=en&return={encoded}")).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        assert_eq!(res.headers()["location"], "/", "return={target}");
    }
}

#[tokio::test]
async fn unknown_language_keeps_the_current_one() {
    let app = spawn_app().await;
    let res = app.get("/language?lang=fr&return=/").await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert!(res.headers().get("set-cookie").is_none());
}

#[tokio::test]
async fn every_page_carries_the_security_headers() {
    let app = spawn_app().await;
    for path in ["/", "/healthz", "/no-such-page", "/static/tessera.css"] {
        let res = app.get(path).await;
        let h = res.headers();
        let csp = h["content-security-policy"].to_str().unwrap();
        assert!(csp.contains("frame-ancestors 'none'"), "{path}: {csp}");
        assert!(csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"), "{path}: {csp}");
        assert_eq!(h["x-frame-options"], "DENY", "{path}");
        assert_eq!(h["referrer-policy"], "no-referrer", "{path}");
        assert_eq!(h["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(h["x-request-id"].len(), 32, "{path}");
    }
}

#[tokio::test]
async fn request_ids_differ_per_request() {
    let app = spawn_app().await;
    let a = app.get("/healthz").await.headers()["x-request-id"].clone();
    let b = app.get("/healthz").await.headers()["x-request-id"].clone();
    assert_ne!(a, b);
}

#[tokio::test]
async fn not_found_page_is_localized() {
    let app = spawn_app().await;
    let res = app.get_with("/nowhere", &[("Accept-Language", "zh-HK")]).await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    let html = res.text().await.unwrap();
    assert!(html.contains("找不到網頁"), "{html}");
    let res = app.get("/nowhere").await;
    assert!(res.text().await.unwrap().contains("Page not found"));
}

#[tokio::test]
async fn pages_use_no_third_party_resources() {
    let app = spawn_app().await;
    for lang in ["en", "zh-HK"] {
        let html = app.get_with("/", &[("Accept-Language", lang)]).await.text().await.unwrap();
        assert!(!html.contains("http://") && !html.contains("https://"), "absolute URL in {lang} page");
        assert!(!html.contains("<script") || html.contains("src=\"/static/"), "inline script in {lang} page");
        assert!(!html.contains("style="), "inline style in {lang} page (CSP forbids it)");
    }
}

#[tokio::test]
async fn stylesheet_is_served_from_our_origin() {
    let app = spawn_app().await;
    let res = app.get("/static/tessera.css").await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.headers()["content-type"].to_str().unwrap().starts_with("text/css"));
}
