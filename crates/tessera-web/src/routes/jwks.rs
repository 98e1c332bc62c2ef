//! The JSON Web Key Set: the public keys relying parties verify Tessera's tokens with.

use crate::errors::WebError;
use crate::state::AppState;
use actix_web::http::header::{CacheControl, CacheDirective};
use actix_web::{HttpResponse, web};
use tessera_domain::{Clock, SystemClock};

pub async fn jwks_get(state: web::Data<AppState>) -> Result<HttpResponse, WebError> {
    let jwks = state.keys.jwks(SystemClock.now()).await?;
    Ok(HttpResponse::Ok()
        .insert_header(CacheControl(vec![CacheDirective::Public, CacheDirective::MaxAge(300)]))
        .insert_header(("Access-Control-Allow-Origin", "*"))
        .content_type("application/jwk-set+json")
        .json(jwks))
}
