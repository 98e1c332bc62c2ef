//! Route handlers: thin functions that extract input, call one service, and answer.

pub mod account;
pub mod admin;
pub mod assets;
pub mod authorize;
pub mod consent;
pub mod dashboard;
pub mod discovery;
pub mod errors;
pub mod health;
pub mod home;
pub mod jwks;
pub mod language;
pub mod logout;
pub mod passkey;
pub mod signin;
pub mod signup_passkey;
pub mod token;
pub mod userinfo;

use crate::errors::WebError;
use crate::i18n::Locale;
use crate::state::AppState;
use actix_web::http::StatusCode;
use actix_web::http::header::{self, ContentType};
use actix_web::{HttpRequest, HttpResponse};
use tera::Context;

/// The language cookie's base name (prefixed `__Host-` over https).
pub const LANGUAGE_COOKIE: &str = "tessera_lang";

/// The locale of this request: `ui_locales`, then the language cookie, then `Accept-Language`.
pub fn request_locale(req: &HttpRequest, state: &AppState) -> Locale {
    let ui_locales = url::form_urlencoded::parse(req.query_string().as_bytes())
        .find(|(k, _)| k == "ui_locales")
        .map(|(_, v)| v.into_owned());
    let cookie = req.cookie(&state.settings.cookie_name(LANGUAGE_COOKIE));
    let accept = req.headers().get(header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok());
    Locale::resolve(ui_locales.as_deref(), cookie.as_ref().map(|c| c.value()), accept)
}

/// The path and query of this request without `ui_locales`, so that the language
/// switch returns to the same page without the parameter overriding the new choice.
pub fn return_path(req: &HttpRequest) -> String {
    let query: Vec<(String, String)> = url::form_urlencoded::parse(req.query_string().as_bytes())
        .filter(|(k, _)| k != "ui_locales")
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    if query.is_empty() {
        req.path().to_owned()
    } else {
        let encoded = url::form_urlencoded::Serializer::new(String::new()).extend_pairs(query).finish();
        format!("{}?{encoded}", req.path())
    }
}

/// Renders a page in the request's language.
pub fn render_page(
    req: &HttpRequest,
    state: &AppState,
    template: &str,
    context: Context,
) -> Result<HttpResponse, WebError> {
    render_status(req, state, template, context, StatusCode::OK)
}

/// Renders a page in the request's language with a status other than 200. Pages are
/// never cached: they may carry a CSRF token or personal data.
pub fn render_status(
    req: &HttpRequest,
    state: &AppState,
    template: &str,
    context: Context,
    status: StatusCode,
) -> Result<HttpResponse, WebError> {
    let locale = request_locale(req, state);
    let html = state.pages.render(template, locale, &return_path(req), context)?;
    Ok(HttpResponse::build(status)
        .content_type(ContentType::html())
        .insert_header((header::CONTENT_LANGUAGE, locale.tag()))
        .insert_header((header::VARY, "Accept-Language, Cookie"))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(html))
}
