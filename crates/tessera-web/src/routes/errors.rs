//! Error pages in the citizen's language: the 404 for unknown paths, and the page
//! shown instead of any bare 5xx response.

use super::{render_page, request_locale};
use crate::errors::WebError;
use crate::state::AppState;
use actix_web::body::BoxBody;
use actix_web::dev::ServiceResponse;
use actix_web::http::StatusCode;
use actix_web::http::header::{self, ContentType};
use actix_web::middleware::ErrorHandlerResponse;
use actix_web::{HttpRequest, HttpResponse, web};

fn error_context(state: &AppState, req: &HttpRequest, heading: &str, message: &str) -> tera::Context {
    let locale = request_locale(req, state);
    let catalog = state.pages.catalogs();
    let mut context = tera::Context::new();
    context.insert("heading", catalog.message(locale, heading));
    context.insert("message", catalog.message(locale, message));
    context
}

/// The default service: a localized 404 page.
pub async fn not_found(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, WebError> {
    let context = error_context(&state, &req, "error_not_found_title", "error_not_found_body");
    let mut response = render_page(&req, &state, "error.html", context)?;
    *response.status_mut() = StatusCode::NOT_FOUND;
    Ok(response)
}

/// Replaces an empty 5xx body with a localized page saying what to do next.
/// Responses that already carry a body (JSON errors of the protocol endpoints) are left alone.
pub fn server_error<B>(res: ServiceResponse<B>) -> actix_web::Result<ErrorHandlerResponse<B>> {
    replace_empty_body(res, "error_title", "error_internal_body", "Internal error. Please try again later.")
}

/// A refused form (CSRF): a localized page saying what to do next.
pub fn forbidden<B>(res: ServiceResponse<B>) -> actix_web::Result<ErrorHandlerResponse<B>> {
    replace_empty_body(
        res,
        "form_expired_title",
        "form_expired_body",
        "This form has expired. Reload the page and try again.",
    )
}

fn replace_empty_body<B>(
    res: ServiceResponse<B>,
    heading: &str,
    message: &str,
    fallback: &'static str,
) -> actix_web::Result<ErrorHandlerResponse<B>> {
    // Protocol answers (a body of their own, or a bearer challenge) are left alone.
    let protocol =
        res.headers().contains_key(header::CONTENT_TYPE) || res.headers().contains_key(header::WWW_AUTHENTICATE);
    let state = res.request().app_data::<web::Data<AppState>>().cloned();
    let Some(state) = state.filter(|_| !protocol) else {
        return Ok(ErrorHandlerResponse::Response(res.map_into_left_body()));
    };
    let status = res.status();
    let (req, original) = res.into_parts();
    let context = error_context(&state, &req, heading, message);
    let body: BoxBody = match render_page(&req, &state, "error.html", context) {
        Ok(page) => page.into_body(),
        Err(_) => BoxBody::new(fallback),
    };
    let mut response = HttpResponse::build(status).content_type(ContentType::html()).body(body);
    // Keep the headers the handler set (cookies, caching, request id).
    for (name, value) in original.headers() {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            response.headers_mut().append(name.clone(), value.clone());
        }
    }
    Ok(ErrorHandlerResponse::Response(ServiceResponse::new(req, response).map_into_right_body()))
}
