//! Building the running server from validated settings: connect the database and the
//! session store, apply migrations, make sure signing keys exist, bind the listener.

use crate::config::{Settings, issuer_string, redact_url};
use crate::keyfile;
use actix_web::dev::Server;
use actix_web::{HttpServer, web};
use anyhow::Context;
use std::net::TcpListener;
use tessera_session::{AnySessionStore, MemoryStore, RedisTls};
use tessera_store::{Db, DbOptions};
use tessera_web::metrics::Metrics;
use tessera_web::pages::Pages;
use tessera_web::{AppState, WebSettings};

/// A bound, not yet running server.
pub struct Application {
    port: u16,
    server: Server,
}

/// Connects the database named in the settings, with a clear error when it cannot be reached.
pub async fn connect_database(settings: &Settings) -> anyhow::Result<Db> {
    let url = settings.database.url.expose();
    let options = DbOptions {
        max_connections: settings.database.max_connections,
        connect_timeout: settings.database.connect_timeout,
        ..DbOptions::default()
    };
    // Connecting blocks (up to the connect timeout): keep it off the async runtime.
    let owned = url.to_owned();
    let db = tokio::task::spawn_blocking(move || Db::connect(&owned, &options))
        .await
        .context("the database connection task failed")?
        .with_context(|| format!("database {} is not usable", redact_url(url)))?;
    Ok(db)
}

/// Connects the database and applies pending migrations, returning their names.
pub async fn migrate(settings: &Settings) -> anyhow::Result<Vec<String>> {
    let db = connect_database(settings).await?;
    db.migrate().await.context("database migrations failed")
}

impl Application {
    /// Binds `settings.listen` and builds the server.
    pub async fn build(settings: &Settings) -> anyhow::Result<Application> {
        let listener =
            TcpListener::bind(settings.listen).with_context(|| format!("cannot listen on {}", settings.listen))?;
        Application::build_on(settings, listener).await
    }

    /// Builds the server on a listener the caller has bound (tests bind port 0 first so
    /// the issuer can name the real port).
    pub async fn build_on(settings: &Settings, listener: TcpListener) -> anyhow::Result<Application> {
        let master_key = keyfile::load_master_key(&settings.master_key)?;
        let db = connect_database(settings).await?;
        let applied = db.migrate().await.context("database migrations failed")?;
        if !applied.is_empty() {
            tracing::info!(migrations = ?applied, "applied database migrations");
        }
        let store_spec = settings.session.store.expose();
        let sessions = if store_spec == "memory" {
            AnySessionStore::Memory(MemoryStore::with_max_entries(settings.session.memory_max_entries))
        } else {
            let tls = RedisTls { ca_pem: settings.session.tls_ca_pem.clone() };
            AnySessionStore::from_config_with(store_spec, &settings.session.key_prefix, &tls)
                .await
                .with_context(|| format!("session store {} is not usable", redact_url(store_spec)))?
        };
        let services = crate::services::build(settings, &db, &sessions, &master_key).await?;
        let pages = Pages::load().context("the built-in pages are broken")?;

        let state = web::Data::new(AppState {
            settings: WebSettings {
                issuer: settings.issuer.clone(),
                maker_checker: settings.admin.maker_checker,
                admin_recent_sign_in_secs: settings.admin.recent_sign_in.as_secs() as i64,
                trusted_proxies: settings.trusted_proxies.clone(),
                metrics_access: settings.metrics_access.clone(),
            },
            pages,
            db,
            sessions,
            keys: services.keys,
            oidc: services.oidc,
            signin: services.signin,
            signup: services.signup,
            passkeys: services.passkeys,
            passwords: services.passwords,
            metrics: Metrics::default(),
        });
        let port = listener.local_addr().context("cannot read the listening address")?.port();
        let mut server = HttpServer::new(move || tessera_web::app(state.clone()))
            .shutdown_timeout(10)
            .listen(listener)
            .with_context(|| format!("cannot listen on {}", settings.listen))?;
        if settings.workers > 0 {
            server = server.workers(settings.workers);
        }
        tracing::info!(
            issuer = %issuer_string(&settings.issuer),
            listen = %settings.listen,
            port,
            database = %state_backend_label(settings),
            session_store = %if store_spec == "memory" { "memory" } else { "redis" },
            "tessera is serving"
        );
        Ok(Application { port, server: server.run() })
    }

    /// The port actually bound (useful when `listen` asked for port 0).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Runs until SIGTERM/SIGINT, then finishes in-flight requests (up to 10 s) and returns.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.server.await
    }

    /// A handle to stop the server from a test.
    pub fn handle(&self) -> actix_web::dev::ServerHandle {
        self.server.handle()
    }
}

fn state_backend_label(settings: &Settings) -> &'static str {
    if settings.database.url.expose().starts_with("sqlite:") { "sqlite" } else { "postgres" }
}
