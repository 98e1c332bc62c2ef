//! `/token`, `/introspect` and `/revoke`: JSON in the RFCs' shapes, never cached.

use crate::errors::WebError;
use crate::form::FormParams;
use crate::state::AppState;
use actix_web::http::StatusCode;
use actix_web::http::header::{self, CacheControl, CacheDirective};
use actix_web::{HttpRequest, HttpResponse, web};
use tessera_domain::{Clock, SystemClock};
use tessera_oidc::error::OAuthError;
use tessera_oidc::token_endpoint::{ClientRequest, TokenError};

fn client_request<'a>(req: &'a HttpRequest, form: &'a FormParams, ip: &'a str) -> ClientRequest<'a> {
    ClientRequest {
        authorization: req.headers().get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()),
        form: &form.0,
        ip,
    }
}

fn no_store(status: StatusCode) -> actix_web::HttpResponseBuilder {
    let mut builder = HttpResponse::build(status);
    builder.insert_header(CacheControl(vec![CacheDirective::NoStore])).insert_header((header::PRAGMA, "no-cache"));
    builder
}

/// The RFC 6749 §5.2 error response; `invalid_client` is a 401 with `WWW-Authenticate`.
pub fn token_error(error: TokenError) -> HttpResponse {
    let status = StatusCode::from_u16(error.status).unwrap_or(StatusCode::BAD_REQUEST);
    let mut response = no_store(status);
    if status == StatusCode::UNAUTHORIZED {
        response.insert_header((header::WWW_AUTHENTICATE, "Basic realm=\"tessera\", charset=\"UTF-8\""));
    }
    if let Some(seconds) = error.retry_after {
        response.insert_header((header::RETRY_AFTER, seconds.to_string()));
    }
    response.json(error.error.to_json())
}

/// The form body of a protocol request; `None` when it is not one.
fn protocol_form(req: &HttpRequest, body: &web::Bytes) -> Option<FormParams> {
    let is_form = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim().to_ascii_lowercase().starts_with("application/x-www-form-urlencoded"));
    is_form.then(|| FormParams::parse(body))
}

/// The RFC 6749 error for a body that is not a form.
fn not_a_form() -> HttpResponse {
    token_error(OAuthError::invalid_request("the body must be application/x-www-form-urlencoded").into())
}

pub async fn token_post(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: web::Bytes,
) -> Result<HttpResponse, WebError> {
    let Some(form) = protocol_form(&req, &body) else { return Ok(not_a_form()) };
    match state.oidc.token(client_request(&req, &form, &state.settings.client_ip(&req)), SystemClock.now()).await? {
        Ok(tokens) => Ok(no_store(StatusCode::OK).json(tokens)),
        Err(error) => Ok(token_error(error)),
    }
}

pub async fn introspect_post(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: web::Bytes,
) -> Result<HttpResponse, WebError> {
    let Some(form) = protocol_form(&req, &body) else { return Ok(not_a_form()) };
    match state.oidc.introspect(client_request(&req, &form, &state.settings.client_ip(&req)), SystemClock.now()).await?
    {
        Ok(body) => Ok(no_store(StatusCode::OK).json(body)),
        Err(error) => Ok(token_error(error)),
    }
}

pub async fn revoke_post(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: web::Bytes,
) -> Result<HttpResponse, WebError> {
    let Some(form) = protocol_form(&req, &body) else { return Ok(not_a_form()) };
    match state.oidc.revoke(client_request(&req, &form, &state.settings.client_ip(&req)), SystemClock.now()).await? {
        Ok(()) => Ok(no_store(StatusCode::OK).finish()),
        Err(error) => Ok(token_error(error)),
    }
}
