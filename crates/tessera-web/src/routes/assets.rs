//! Static assets, embedded in the binary and served from our own origin only.

use actix_web::HttpResponse;
use actix_web::http::header::{self, CacheControl, CacheDirective};

const STYLESHEET: &str = include_str!("../../../../static/tessera.css");
const PASSKEY_SCRIPT: &str = include_str!("../../../../static/passkey.js");

pub async fn stylesheet_get() -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, "text/css; charset=utf-8"))
        .insert_header(CacheControl(vec![CacheDirective::Public, CacheDirective::MaxAge(3600)]))
        .body(STYLESHEET)
}

/// `static/passkey.js`: the ES module of the passkey buttons and autofill.
pub async fn passkey_script_get() -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, "text/javascript; charset=utf-8"))
        .insert_header(CacheControl(vec![CacheDirective::Public, CacheDirective::MaxAge(3600)]))
        .body(PASSKEY_SCRIPT)
}
