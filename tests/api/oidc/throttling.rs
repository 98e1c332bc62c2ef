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

/// Thirty wrong secrets from the address `from` claims (in `X-Forwarded-For`), then one
/// more from each of `from` and `other`: their statuses.
async fn throttled_by_forwarded_address(app: &crate::helpers::TestApp, from: &str, other: &str) -> (u16, u16) {
    let client = app.department_client().await;
    let token_url = format!("{}/token", app.address);
    let attempt = |forwarded_for: &str| {
        app.http
            .post(&token_url)
            .header("x-forwarded-for", forwarded_for)
            .basic_auth(client.id(), Some("wrong-secret"))
            .form(&[("grant_type", "client_credentials")])
            .send()
    };
    for n in 1..=30 {
        let res = attempt(from).await.unwrap();
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "attempt {n}");
    }
    let same = attempt(from).await.unwrap().status().as_u16();
    let different = attempt(other).await.unwrap().status().as_u16();
    (same, different)
}

#[tokio::test]
async fn behind_a_trusted_proxy_each_client_address_is_throttled_on_its_own() {
    // The test's own connections come from 127.0.0.1: here, the load balancer.
    let app = crate::helpers::spawn_app_with(|c| {
        c.trusted_proxies = tessera_server::config::AddressList::List(vec!["127.0.0.0/8".into()]);
    })
    .await;
    // What a client writes itself stays left of what the proxy appends, and is not believed.
    let (same, different) = throttled_by_forwarded_address(&app, "198.51.100.1, 203.0.113.1", "203.0.113.2").await;
    assert_eq!((same, different), (429, 401), "one citizen's failures do not lock out the others");
}

#[tokio::test]
async fn without_trusted_proxies_x_forwarded_for_is_ignored() {
    let app = spawn_app().await;
    // A client cannot escape the throttle by naming another address.
    let (same, different) = throttled_by_forwarded_address(&app, "203.0.113.1", "203.0.113.2").await;
    assert_eq!((same, different), (429, 429));
}
