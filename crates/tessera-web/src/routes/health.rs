//! Health endpoints for load balancers: `/healthz` says the process is up,
//! `/readyz` says it can serve (database and session store reachable); and `/metrics` for
//! monitoring (see [`crate::metrics`]).

use crate::state::AppState;
use actix_web::http::header::{CacheControl, CacheDirective};
use actix_web::rt::time::timeout;
use actix_web::{HttpResponse, web};
use serde::Serialize;
use std::time::Duration;
use tessera_session::SessionStore;
use tessera_store::Backend;

/// How long a readiness probe waits for each dependency.
const PROBE_TIMEOUT: Duration = Duration::from_secs(2);

/// The Prometheus text exposition, for peers in `metrics.allow`; a plain 404 for anyone else.
pub async fn metrics_get(req: actix_web::HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    let allowed = req.peer_addr().is_some_and(|peer| state.settings.metrics_access.allows(peer.ip()));
    if !allowed {
        return HttpResponse::NotFound().insert_header(CacheControl(vec![CacheDirective::NoStore])).finish();
    }
    HttpResponse::Ok()
        .insert_header(CacheControl(vec![CacheDirective::NoStore]))
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(state.metrics.render())
}

pub async fn healthz_get() -> HttpResponse {
    HttpResponse::Ok()
        .insert_header(CacheControl(vec![CacheDirective::NoStore]))
        .json(serde_json::json!({ "status": "ok" }))
}

#[derive(Debug, Serialize)]
struct Readiness {
    status: &'static str,
    database: Check,
    session_store: Check,
}

#[derive(Debug, Serialize)]
struct Check {
    backend: &'static str,
    status: &'static str,
}

pub async fn readyz_get(state: web::Data<AppState>) -> HttpResponse {
    let (db, sessions) = futures_util::future::join(
        timeout(PROBE_TIMEOUT, state.db.ping()),
        timeout(PROBE_TIMEOUT, state.sessions.ping()),
    )
    .await;
    let backend = match state.db.backend() {
        Backend::Sqlite => "sqlite",
        Backend::Postgres => "postgres",
    };
    let database = check(backend, "database", db.map_err(|_| "timed out").and_then(|r| r.map_err(|_| "unreachable")));
    let session_store = check(
        state.sessions.backend_name(),
        "session store",
        sessions.map_err(|_| "timed out").and_then(|r| r.map_err(|_| "unreachable")),
    );
    let ready = database.status == "ok" && session_store.status == "ok";
    let body = Readiness { status: if ready { "ready" } else { "unready" }, database, session_store };
    let mut response = if ready { HttpResponse::Ok() } else { HttpResponse::ServiceUnavailable() };
    response.insert_header(CacheControl(vec![CacheDirective::NoStore])).json(body)
}

fn check(backend: &'static str, what: &str, outcome: Result<(), &'static str>) -> Check {
    match outcome {
        Ok(()) => Check { backend, status: "ok" },
        Err(reason) => {
            tracing::warn!(component = what, backend, reason, "readiness check failed");
            Check { backend, status: reason }
        }
    }
}
