//! `/healthz`, `/readyz` (including a Redis that goes away and comes back) and `/metrics`.

use crate::helpers::{spawn_app, spawn_app_with};
use reqwest::StatusCode;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

#[tokio::test]
async fn healthz_says_the_process_is_up() {
    let app = spawn_app().await;
    let res = app.get("/healthz").await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["cache-control"], "no-store");
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["status"], "ok");
}

#[tokio::test]
async fn readyz_checks_database_and_session_store() {
    let app = spawn_app().await;
    let res = app.get("/readyz").await;
    assert_eq!(res.status(), StatusCode::OK);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["status"], "ready");
    assert_eq!(body["database"]["status"], "ok");
    assert_eq!(body["session_store"]["status"], "ok");
    let expected = if tessera_testkit::production_stack() { ("postgres", "redis") } else { ("sqlite", "memory") };
    assert_eq!(body["database"]["backend"], expected.0);
    assert_eq!(body["session_store"]["backend"], expected.1);
}

#[tokio::test]
async fn metrics_count_requests_by_route_pattern_for_loopback_only() {
    let app = spawn_app().await;
    for _ in 0..3 {
        assert_eq!(app.get("/healthz").await.status(), StatusCode::OK);
    }
    // Identifiers and query strings stay out of the labels: only the route pattern is kept.
    let res = app.http.post(format!("{}/account/passkeys/secret-passkey-id/rename", app.address)).send().await.unwrap();
    assert!(res.status().is_client_error() || res.status().is_redirection(), "{}", res.status());
    app.get("/authorize?client_id=someone&state=private-state").await;
    app.get("/no/such/page-with-an-id-123").await;

    let res = app.get("/metrics").await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["content-type"], "text/plain; version=0.0.4; charset=utf-8");
    assert_eq!(res.headers()["cache-control"], "no-store");
    let text = res.text().await.unwrap();
    assert!(
        text.contains("tessera_http_requests_total{route=\"/healthz\",method=\"GET\",status=\"200\"} 3\n"),
        "{text}"
    );
    assert!(text.contains("tessera_http_request_duration_seconds_count{route=\"/healthz\"} 3\n"), "{text}");
    assert!(text.contains("route=\"/account/passkeys/{id}/rename\",method=\"POST\""), "{text}");
    assert!(text.contains("route=\"/authorize\",method=\"GET\""), "{text}");
    assert!(text.contains("route=\"unmatched\",method=\"GET\",status=\"404\""), "{text}");
    for private in ["secret-passkey-id", "someone", "private-state", "page-with-an-id"] {
        assert!(!text.contains(private), "{private} leaked into the metrics");
    }
    assert!(text.contains(&format!("tessera_build_info{{version=\"{}\"}} 1", env!("CARGO_PKG_VERSION"))));

    // A peer outside `metrics.allow` sees nothing (here: loopback, with only a test network allowed).
    let closed =
        spawn_app_with(|c| c.metrics.allow = tessera_server::config::AddressList::List(vec!["192.0.2.0/24".into()]))
            .await;
    let res = closed.get("/metrics").await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    assert!(!res.text().await.unwrap().contains("tessera_"));
    // Not even through a trusted proxy's header: the check uses the TCP peer.
    let proxied = spawn_app_with(|c| {
        c.metrics.allow = tessera_server::config::AddressList::List(vec!["192.0.2.0/24".into()]);
        c.trusted_proxies = tessera_server::config::AddressList::List(vec!["127.0.0.0/8".into()]);
    })
    .await;
    let res = proxied
        .http
        .get(format!("{}/metrics", proxied.address))
        .header("x-forwarded-for", "192.0.2.9")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
}

/// A redis-server of this test's own, so stopping it disturbs no other test.
struct OwnRedis {
    child: Child,
    port: u16,
}

impl OwnRedis {
    fn start(port: u16) -> OwnRedis {
        let child = Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start redis-server");
        tessera_testkit::wait_for_port(port, "redis-server", Duration::from_secs(10));
        OwnRedis { child, port }
    }

    fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for OwnRedis {
    fn drop(&mut self) {
        self.stop();
    }
}

fn redis_server_available() -> bool {
    let found = Command::new("redis-server").arg("--version").stdout(Stdio::null()).status().is_ok_and(|s| s.success());
    if !found {
        assert!(
            std::env::var(tessera_testkit::REQUIRE_ENV).as_deref() != Ok("1"),
            "redis-server is required under the test command but is not on PATH"
        );
        eprintln!("SKIPPED: redis-server is not installed");
    }
    found
}

async fn wait_for_status(app: &crate::helpers::TestApp, want: StatusCode, within: Duration) -> serde_json::Value {
    let deadline = Instant::now() + within;
    loop {
        let res = app.get("/readyz").await;
        let status = res.status();
        let body: serde_json::Value = res.json().await.unwrap();
        if status == want {
            return body;
        }
        assert!(Instant::now() < deadline, "readyz stayed {status} ({body}) instead of {want}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test]
async fn readyz_turns_unready_while_redis_is_down_and_ready_when_it_returns() {
    if !redis_server_available() {
        return;
    }
    let port = tessera_testkit::free_port();
    let mut redis = OwnRedis::start(port);
    let app = spawn_app_with(|raw| raw.session.store = Some(format!("redis://127.0.0.1:{}", redis.port))).await;
    wait_for_status(&app, StatusCode::OK, Duration::from_secs(5)).await;

    redis.stop();
    let started = Instant::now();
    let body = wait_for_status(&app, StatusCode::SERVICE_UNAVAILABLE, Duration::from_secs(10)).await;
    assert_eq!(body["status"], "unready");
    assert_ne!(body["session_store"]["status"], "ok");
    assert_eq!(body["database"]["status"], "ok");
    // The probe answers promptly even while Redis is gone: no hang.
    let probe = Instant::now();
    assert_eq!(app.get("/readyz").await.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(probe.elapsed() < Duration::from_secs(5), "readyz hung for {:?}", probe.elapsed());
    assert!(started.elapsed() < Duration::from_secs(10));

    let _redis = OwnRedis::start(port);
    wait_for_status(&app, StatusCode::OK, Duration::from_secs(15)).await;
    // The server itself kept serving pages throughout.
    assert_eq!(app.get("/").await.status(), StatusCode::OK);
}
