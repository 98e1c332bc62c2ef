//! Failed client authentication is throttled per address (CONFORMANCE §3: "throttled").

use crate::helpers::spawn_app;
use reqwest::StatusCode;

#[tokio::test]
async fn repeated_wrong_client_secrets_get_429_with_retry_after() {
    let app = spawn_app().await;
    let client = app.department_client().await;
    let token_url = format!("{}/token", app.address);
    let attempt = |secret: &'static str| {
        app.http
            .post(&token_url)
            .basic_auth(client.id(), Some(secret))
            .form(&[("grant_type", "client_credentials")])
            .send()
    };
    for n in 1..=30 {
        let res = attempt("wrong-secret").await.unwrap();
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "attempt {n}");
        assert!(res.headers().contains_key("www-authenticate"));
    }
    let res = attempt("wrong-secret").await.unwrap();
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(res.headers()["retry-after"], "300");
    assert_eq!(res.headers()["cache-control"], "no-store");
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["error"], "invalid_client");

    // The right secret still works: only failures are counted, and a 256-bit secret
    // cannot be guessed anyway.
    let ok = app
        .http
        .post(&token_url)
        .basic_auth(client.id(), Some(client.secret()))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), StatusCode::OK);
}
