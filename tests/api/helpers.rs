//! `spawn_app()`: the real Tessera on 127.0.0.1:0 with its own database and session store.

use std::path::PathBuf;
use tessera_server::config::{RawConfig, RawDatabase, RawSession, Settings, validate};
use tessera_server::startup::Application;

pub struct TestApp {
    /// `http://localhost:PORT` (WebAuthn later needs a host name, not an IP).
    pub address: String,
    pub settings: Settings,
    /// A client that does not follow redirects and keeps no cookies.
    pub http: reqwest::Client,
    _data_dir: std::sync::Arc<tempfile::TempDir>,
    handle: actix_web::dev::ServerHandle,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        let handle = self.handle.clone();
        // Stop accepting; the runtime drops the server task when the test ends.
        drop(handle.stop(false));
    }
}

/// Which stack this run uses, for messages.
pub fn stack_name() -> &'static str {
    if tessera_testkit::production_stack() { "postgres+redis" } else { "sqlite+memory" }
}

/// The raw configuration of a test server: port 0, a fresh data directory and database.
pub fn test_config(data_dir: PathBuf) -> RawConfig {
    let (database, store) = if tessera_testkit::production_stack() {
        let db = tessera_testkit::fresh_postgres_database().expect("the production stack needs PostgreSQL");
        let redis = tessera_testkit::redis_url().expect("the production stack needs Redis");
        (db, redis)
    } else {
        (format!("sqlite://{}", data_dir.join("tessera.db").display()), "memory".to_owned())
    };
    RawConfig {
        issuer: "http://localhost:8080".into(),
        listen: "127.0.0.1:0".into(),
        data_dir,
        workers: 1,
        database: RawDatabase { url: Some(database), max_connections: 4, ..RawDatabase::default() },
        session: RawSession {
            store: Some(store),
            key_prefix: tessera_testkit::unique_prefix(),
            ..RawSession::default()
        },
        ..RawConfig::default()
    }
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// Starts a server after letting the test adjust its configuration.
pub async fn spawn_app_with(adjust: impl FnOnce(&mut RawConfig)) -> TestApp {
    let dir = tempfile::tempdir().unwrap();
    // Bind first so the issuer can name the real port.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let mut raw = test_config(dir.path().join("data"));
    raw.issuer = format!("http://localhost:{port}");
    adjust(&mut raw);
    let settings = validate(raw).unwrap();
    let app = Application::build_on(&settings, listener)
        .await
        .unwrap_or_else(|e| panic!("server did not start on {}: {e:#}", stack_name()));
    let handle = app.handle();
    tokio::spawn(app.run_until_stopped());
    let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    TestApp { address: format!("http://localhost:{port}"), settings, http, _data_dir: std::sync::Arc::new(dir), handle }
}

/// Several Tessera nodes behind one issuer, sharing one PostgreSQL, one Redis (and key
/// prefix) and one master key, as in production. `None` outside the production stack:
/// in-memory session stores cannot be shared between processes.
pub async fn spawn_cluster(nodes: usize) -> Option<Vec<TestApp>> {
    if !tessera_testkit::production_stack() {
        eprintln!("SKIPPED: a cluster needs the production stack (PostgreSQL + Redis)");
        return None;
    }
    let dir = std::sync::Arc::new(tempfile::tempdir().unwrap());
    let listeners: Vec<_> = (0..nodes).map(|_| std::net::TcpListener::bind("127.0.0.1:0").unwrap()).collect();
    let first_port = listeners[0].local_addr().unwrap().port();
    let mut raw = test_config(dir.path().join("data"));
    raw.issuer = format!("http://localhost:{first_port}");
    let settings = validate(raw).unwrap();
    let mut apps = Vec::new();
    for listener in listeners {
        let port = listener.local_addr().unwrap().port();
        let app = Application::build_on(&settings, listener).await.unwrap();
        let handle = app.handle();
        tokio::spawn(app.run_until_stopped());
        let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        apps.push(TestApp {
            address: format!("http://localhost:{port}"),
            settings: settings.clone(),
            http,
            _data_dir: dir.clone(),
            handle,
        });
    }
    Some(apps)
}

impl TestApp {
    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.http.get(format!("{}{path}", self.address)).send().await.unwrap()
    }

    pub async fn get_with(&self, path: &str, headers: &[(&str, &str)]) -> reqwest::Response {
        let mut request = self.http.get(format!("{}{path}", self.address));
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        request.send().await.unwrap()
    }
}
