//! Middleware every response passes through: the request id and access log line,
//! and the security headers.

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::{DefaultHeaders, Next};
use std::time::Instant;
use tracing::Instrument;

/// The content security policy of every page: our own scripts, styles and images only,
/// no inline script, never framed.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
img-src 'self' data:; font-src 'self'; connect-src 'self'; base-uri 'none'; frame-ancestors 'none'";

/// Security headers on every response. Added only where a handler did not set its own.
/// `Strict-Transport-Security` is sent only when the issuer is https.
pub fn security_headers(https: bool) -> DefaultHeaders {
    let headers = DefaultHeaders::new()
        .add(("Content-Security-Policy", CONTENT_SECURITY_POLICY))
        .add(("X-Frame-Options", "DENY"))
        .add(("X-Content-Type-Options", "nosniff"))
        .add(("Referrer-Policy", "no-referrer"))
        .add(("Cross-Origin-Opener-Policy", "same-origin"))
        .add(("Cross-Origin-Resource-Policy", "same-origin"))
        .add(("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=()"));
    if https { headers.add(("Strict-Transport-Security", "max-age=31536000; includeSubDomains")) } else { headers }
}

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Gives each request a fresh id, runs it inside a tracing span carrying that id, writes
/// one log line when it completes and returns the id in `X-Request-Id`. The query string
/// is never logged: it can hold authorization codes and other secrets.
pub async fn request_context(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let request_id = uuid::Uuid::new_v4().simple().to_string();
    let span = tracing::info_span!(
        "request",
        request_id = %request_id,
        method = %req.method(),
        path = %req.path(),
    );
    let started = Instant::now();
    let state = req.app_data::<actix_web::web::Data<crate::AppState>>().cloned();
    let method = req.method().clone();
    let result = next.call(req).instrument(span.clone()).await;
    let elapsed = started.elapsed();
    let elapsed_ms = elapsed.as_secs_f64() * 1000.0;
    if let Some(state) = &state {
        match &result {
            Ok(res) => {
                state.metrics.record(res.request().match_pattern().as_deref(), &method, res.status().as_u16(), elapsed);
            }
            Err(e) => state.metrics.record(None, &method, e.as_response_error().status_code().as_u16(), elapsed),
        }
    }
    let _entered = span.enter();
    match result {
        Ok(mut res) => {
            tracing::info!(status = res.status().as_u16(), elapsed_ms, "request completed");
            if let Ok(value) = HeaderValue::from_str(&request_id) {
                res.headers_mut().insert(REQUEST_ID, value);
            }
            Ok(res)
        }
        Err(e) => {
            tracing::warn!(status = e.as_response_error().status_code().as_u16(), elapsed_ms, "request failed");
            Err(e)
        }
    }
}
