//! `/userinfo` (GET and POST) with a bearer token in the `Authorization` header, or in
//! the form body of a POST (RFC 6750 §2.2). Never in the query string.

use crate::errors::WebError;
use crate::form::FormParams;
use crate::state::AppState;
use actix_web::http::header::{self, CacheControl, CacheDirective};
use actix_web::{HttpRequest, HttpResponse, web};
use tessera_domain::{Clock, SystemClock};
use tessera_oidc::userinfo::BearerError;

fn bearer(req: &HttpRequest) -> Option<&str> {
    let value = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim()).filter(|t| !t.is_empty())
}

fn refused(error: BearerError) -> HttpResponse {
    let (mut response, challenge) = match error {
        BearerError::InvalidToken => (
            HttpResponse::Unauthorized(),
            "Bearer realm=\"tessera\", error=\"invalid_token\", error_description=\"The access token is invalid, expired or revoked\"",
        ),
        BearerError::InsufficientScope => {
            (HttpResponse::Forbidden(), "Bearer realm=\"tessera\", error=\"insufficient_scope\", scope=\"openid\"")
        }
    };
    response
        .insert_header((header::WWW_AUTHENTICATE, challenge))
        .insert_header(CacheControl(vec![CacheDirective::NoStore]))
        .finish()
}

async fn answer(state: &AppState, token: Option<&str>) -> Result<HttpResponse, WebError> {
    let Some(token) = token else {
        return Ok(HttpResponse::Unauthorized()
            .insert_header((header::WWW_AUTHENTICATE, "Bearer realm=\"tessera\""))
            .insert_header(CacheControl(vec![CacheDirective::NoStore]))
            .finish());
    };
    match state.oidc.userinfo(token, SystemClock.now()).await? {
        Ok(claims) => Ok(HttpResponse::Ok()
            .insert_header(CacheControl(vec![CacheDirective::NoStore]))
            .insert_header(("Access-Control-Allow-Origin", "*"))
            .json(claims)),
        Err(error) => Ok(refused(error)),
    }
}

pub async fn userinfo_get(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, WebError> {
    answer(&state, bearer(&req)).await
}

pub async fn userinfo_post(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: web::Bytes,
) -> Result<HttpResponse, WebError> {
    let form = FormParams::parse(&body);
    let in_body = form.single("access_token").ok().flatten();
    match (bearer(&req), in_body) {
        // One method per request (RFC 6750 §2).
        (Some(_), Some(_)) => Ok(HttpResponse::BadRequest()
            .insert_header((header::WWW_AUTHENTICATE, "Bearer realm=\"tessera\", error=\"invalid_request\""))
            .finish()),
        (Some(token), None) | (None, Some(token)) => answer(&state, Some(token)).await,
        (None, None) => answer(&state, None).await,
    }
}
