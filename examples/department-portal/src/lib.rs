//! A fictional government department's portal that signs citizens in through Tessera, exactly as
//! a department integrates with any certified OpenID Connect provider: discovery, the authorization
//! code flow with PKCE, ID token verification, userinfo, refresh and RP-initiated logout, through
//! the `openidconnect` crate.
//!
//! ```no_run
//! # async fn example() -> anyhow::Result<()> {
//! let config = department_portal::Config::from_env()?;
//! let (server, port) = department_portal::build(config).await?;
//! println!("listening on port {port}");
//! server.await?;
//! # Ok(())
//! # }
//! ```

mod callback;
mod claims;
pub mod config;
mod error;
mod html;
mod oidc;
mod routes;
mod state;
mod store;

use std::net::TcpListener;
use std::time::Instant;

use actix_web::dev::{Server, Service};
use actix_web::middleware::DefaultHeaders;
use actix_web::{App, HttpServer, web};
use anyhow::Context;

pub use config::{Config, ConfigError};

/// The Content-Security-Policy of every response: no scripts, styles only from `/style.css`.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; style-src 'self'; frame-ancestors 'none'";

/// Binds `config.listen` (port 0 picks a free port), discovers Tessera and returns the server,
/// not yet running, with the port it listens on. Await or spawn the server to serve.
pub async fn build(config: Config) -> anyhow::Result<(Server, u16)> {
    let listener = TcpListener::bind(config.listen)
        .with_context(|| format!("PORTAL_LISTEN: cannot listen on {}", config.listen))?;
    build_with_listener(config, listener).await
}

/// Like [`build`], on a listener the caller bound already: a test can bind port 0 first, then put
/// `http://127.0.0.1:{port}` in `config.base_url` and register that redirect URI with Tessera.
pub async fn build_with_listener(config: Config, listener: TcpListener) -> anyhow::Result<(Server, u16)> {
    let addr = listener.local_addr()?;
    let rp = oidc::RelyingParty::discover(&config).await?;
    let state = web::Data::new(state::AppState::new(config, rp));
    let server = HttpServer::new(move || {
        App::new()
            .app_data(state.clone())
            .wrap(
                DefaultHeaders::new()
                    .add(("Content-Security-Policy", CONTENT_SECURITY_POLICY))
                    .add(("X-Content-Type-Options", "nosniff"))
                    .add(("X-Frame-Options", "DENY"))
                    .add(("Referrer-Policy", "no-referrer"))
                    .add(("Cache-Control", "no-store")),
            )
            .wrap_fn(|req, srv| {
                // Path only: the query of /callback carries the authorization code.
                let (method, path, started) = (req.method().clone(), req.path().to_owned(), Instant::now());
                let response = srv.call(req);
                async move {
                    let response = response.await?;
                    tracing::info!(
                        %method,
                        path,
                        status = response.status().as_u16(),
                        ms = started.elapsed().as_millis() as u64,
                        "request"
                    );
                    Ok(response)
                }
            })
            .configure(routes::configure)
    })
    .workers(2)
    .listen(listener)?
    .run();
    tracing::info!(%addr, "department portal listening");
    Ok((server, addr.port()))
}
