//! `/.well-known/openid-configuration` (OpenID Connect Discovery 1.0).

use crate::state::AppState;
use actix_web::http::header::{CacheControl, CacheDirective};
use actix_web::{HttpResponse, web};

pub async fn discovery_get(state: web::Data<AppState>) -> HttpResponse {
    let metadata = tessera_oidc::discovery::provider_metadata(state.oidc.issuer(), &tessera_passkey::ACR_VALUES);
    HttpResponse::Ok()
        .insert_header(CacheControl(vec![CacheDirective::Public, CacheDirective::MaxAge(300)]))
        .insert_header(("Access-Control-Allow-Origin", "*"))
        .json(metadata)
}
