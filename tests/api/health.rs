//! `/healthz` and `/readyz`, including a Redis that goes away and comes back.

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
