//! The consent page: the department, and each claim it asks for; optional claims can be
//! deselected; Allow or Don't allow.

use super::authorize::{client_view, error_page, step_response};
use super::{render_page, request_locale};
use crate::cookies::sso_token;
use crate::csrf::{csrf_token, verify_csrf};
use crate::errors::WebError;
use crate::form::{FormParams, query_params};
use crate::state::AppState;
use actix_web::{HttpRequest, HttpResponse, web};
use tessera_domain::{Clock, SystemClock};
use tessera_oidc::flow::Step;
use tessera_oidc::request::FatalReason;

pub async fn consent_get(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, WebError> {
    let query = query_params(&req);
    let Some(authz) = query.get("authz") else { return error_page(&req, &state, FatalReason::Expired) };
    let token = sso_token(&req, &state);
    let step = state.oidc.continue_flow(authz, token.as_deref(), SystemClock.now()).await?;
    let Step::Consent { pending, client, claims, offline_access, .. } = step else {
        // Consent is no longer needed (or sign-in is): follow the flow.
        return step_response(&req, &state, step);
    };
    let username = state.oidc.signed_in_username(token.as_deref(), SystemClock.now()).await?;
    let csrf = csrf_token(&req, &state)?;
    let mut context = tera::Context::new();
    context.insert("csrf", &csrf.token);
    context.insert("authz", &pending);
    context.insert("client", &client_view(&client, request_locale(&req, &state)));
    if super::admin::has_logo(&state, &client.id).await? {
        context.insert("logo", &format!("/clients/{}/logo", client.id));
    }
    context.insert("claims", &claims);
    context.insert("offline_access", &offline_access);
    context.insert("signed_in_as", &username.unwrap_or_default());
    let mut response = render_page(&req, &state, "consent.html", context)?;
    csrf.set_on(&mut response)?;
    Ok(response)
}

pub async fn consent_post(
    req: HttpRequest,
    state: web::Data<AppState>,
    form: FormParams,
) -> Result<HttpResponse, WebError> {
    verify_csrf(&req, &state, form.get("csrf"))?;
    let Some(authz) = form.get("authz") else { return error_page(&req, &state, FatalReason::Expired) };
    let allow = form.get("decision") == Some("allow");
    let chosen: Vec<String> = form.all("claim").into_iter().map(str::to_owned).collect();
    let token = sso_token(&req, &state);
    let step = state.oidc.consent_decision(authz, token.as_deref(), allow, &chosen, SystemClock.now()).await?;
    step_response(&req, &state, step)
}
