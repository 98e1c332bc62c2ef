//! `/token`, `/introspect` and `/revoke`: JSON in the RFCs' shapes, never cached.

use crate::errors::WebError;
use crate::form::FormParams;
use crate::state::AppState;
use actix_web::http::StatusCode;
use actix_web::http::header::{self, CacheControl, CacheDirective};
use actix_web::{HttpRequest, HttpResponse, web};
use tessera_domain::{Clock, SystemClock};
use tessera_oidc::token_endpoint::TokenError;

fn authorization(req: &HttpRequest) -> Option<&str> {
    req.headers().get(header::AUTHORIZATION).and_then(|v| v.to_str().ok())
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
    response.json(error.error.to_json())
}

pub async fn token_post(
    req: HttpRequest,
    state: web::Data<AppState>,
    form: FormParams,
) -> Result<HttpResponse, WebError> {
    match state.oidc.token(authorization(&req), &form.0, SystemClock.now()).await? {
        Ok(tokens) => Ok(no_store(StatusCode::OK).json(tokens)),
        Err(error) => Ok(token_error(error)),
    }
}

pub async fn introspect_post(
    req: HttpRequest,
    state: web::Data<AppState>,
    form: FormParams,
) -> Result<HttpResponse, WebError> {
    match state.oidc.introspect(authorization(&req), &form.0, SystemClock.now()).await? {
        Ok(body) => Ok(no_store(StatusCode::OK).json(body)),
        Err(error) => Ok(token_error(error)),
    }
}

pub async fn revoke_post(
    req: HttpRequest,
    state: web::Data<AppState>,
    form: FormParams,
) -> Result<HttpResponse, WebError> {
    match state.oidc.revoke(authorization(&req), &form.0, SystemClock.now()).await? {
        Ok(()) => Ok(no_store(StatusCode::OK).finish()),
        Err(error) => Ok(token_error(error)),
    }
}
