//! `/authorize` (GET and form POST) and `/authorize/continue`: thin handlers around the
//! authorization flow of tessera-oidc.

use super::{render_status, request_locale};
use crate::cookies::sso_token;
use crate::csrf::verify_csrf;
use crate::errors::WebError;
use crate::form::{FormParams, query_params};
use crate::i18n::Locale;
use crate::state::AppState;
use actix_web::http::StatusCode;
use actix_web::http::header::{self, CacheControl, CacheDirective};
use actix_web::{HttpRequest, HttpResponse, web};
use tessera_domain::{Client, Clock, SystemClock};
use tessera_oidc::flow::Step;
use tessera_oidc::request::FatalReason;

pub async fn authorize_get(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, WebError> {
    let params = query_params(&req);
    let step = state.oidc.authorize(&params.0, sso_token(&req, &state).as_deref(), SystemClock.now()).await?;
    step_response(&req, &state, step)
}

pub async fn authorize_post(
    req: HttpRequest,
    state: web::Data<AppState>,
    form: FormParams,
) -> Result<HttpResponse, WebError> {
    let step = state.oidc.authorize(&form.0, sso_token(&req, &state).as_deref(), SystemClock.now()).await?;
    step_response(&req, &state, step)
}

/// After signing in (or signing up), the flow goes on here.
pub async fn continue_get(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, WebError> {
    let params = query_params(&req);
    let Some(pending) = params.get("authz") else {
        return error_page(&req, &state, FatalReason::Expired);
    };
    let step = state.oidc.continue_flow(pending, sso_token(&req, &state).as_deref(), SystemClock.now()).await?;
    step_response(&req, &state, step)
}

/// `POST /authorize/cancel` `csrf`, `authz`: the citizen gives up on the sign-in page and
/// goes back to the department with an error (never a code).
pub async fn cancel_post(
    req: HttpRequest,
    state: web::Data<AppState>,
    form: FormParams,
) -> Result<HttpResponse, WebError> {
    verify_csrf(&req, &state, form.get("csrf"))?;
    let Some(pending) = form.get("authz") else {
        return error_page(&req, &state, FatalReason::Expired);
    };
    let step = state.oidc.cancel(pending, SystemClock.now()).await?;
    step_response(&req, &state, step)
}

/// 303 to `location`, never cached.
pub fn see_other(location: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, location))
        .insert_header(CacheControl(vec![CacheDirective::NoStore]))
        .finish()
}

/// Turns a step of the flow into a response: a redirect, a page to go to, or an error page.
pub fn step_response(req: &HttpRequest, state: &AppState, step: Step) -> Result<HttpResponse, WebError> {
    match step {
        Step::Redirect(url) => Ok(see_other(&url)),
        Step::SignIn { pending, ui_locales, .. } => Ok(see_other(&page_url("/signin", &pending, ui_locales))),
        Step::Consent { pending, ui_locales, .. } => Ok(see_other(&page_url("/consent", &pending, ui_locales))),
        Step::ErrorPage(reason) => error_page(req, state, reason),
    }
}

/// A page of the flow, carrying the `ui_locales` the department asked for so the page
/// is shown in that language.
fn page_url(path: &str, pending: &str, ui_locales: Option<String>) -> String {
    let mut query = url::form_urlencoded::Serializer::new(String::new());
    query.append_pair("authz", pending);
    if let Some(locales) = ui_locales {
        query.append_pair("ui_locales", &locales);
    }
    format!("{path}?{}", query.finish())
}

/// The error page of a request that cannot go back to the department: it never redirects.
pub fn error_page(req: &HttpRequest, state: &AppState, reason: FatalReason) -> Result<HttpResponse, WebError> {
    let key = match reason {
        FatalReason::Expired => "authorize_error_expired",
        _ => "authorize_error_invalid",
    };
    let locale = request_locale(req, state);
    let catalogs = state.pages.catalogs();
    let mut context = tera::Context::new();
    context.insert("heading", catalogs.message(locale, "authorize_error_title"));
    context.insert("message", catalogs.message(locale, key));
    tracing::info!(reason = ?reason, "authorization request refused with an error page");
    render_status(req, state, "error.html", context, StatusCode::BAD_REQUEST)
}

/// The client as the pages show it, in the page's language.
pub fn client_view(client: &Client, locale: Locale) -> serde_json::Value {
    fn pick<'a>(locale: Locale, en: &'a str, zh: &'a str) -> &'a str {
        if locale == Locale::ZhHk && !zh.is_empty() { zh } else { en }
    }
    serde_json::json!({
        "department": pick(locale, &client.department_en, &client.department_zh),
        "name": pick(locale, &client.name, &client.name_zh),
    })
}
