//! Static assets, embedded in the binary and served from our own origin only.

use actix_web::HttpResponse;
use actix_web::http::header::{self, CacheControl, CacheDirective};

const STYLESHEET: &str = include_str!("../../../../static/tessera.css");

pub async fn stylesheet_get() -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, "text/css; charset=utf-8"))
        .insert_header(CacheControl(vec![CacheDirective::Public, CacheDirective::MaxAge(3600)]))
        .body(STYLESHEET)
}
