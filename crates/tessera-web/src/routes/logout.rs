//! RP-initiated logout: `/end_session` (GET or POST from a department) and the
//! confirmation form `/end_session/confirm`.

use super::authorize::{client_view, see_other};
use super::{render_page, request_locale};
use crate::cookies::{sso_cookie_removal, sso_token};
use crate::csrf::{csrf_token, verify_csrf};
use crate::errors::WebError;
use crate::form::{FormParams, query_params};
use crate::state::AppState;
use actix_web::{HttpRequest, HttpResponse, web};
use tessera_domain::{Clock, SystemClock};
use tessera_oidc::logout::{Logout, LogoutRequest};

fn logout_request(params: &FormParams) -> LogoutRequest {
    LogoutRequest {
        id_token_hint: params.get("id_token_hint").map(str::to_owned),
        post_logout_redirect_uri: params.get("post_logout_redirect_uri").map(str::to_owned),
        state: params.get("state").map(str::to_owned),
        client_id: params.get("client_id").map(str::to_owned),
    }
}

async fn answer(req: &HttpRequest, state: &AppState, outcome: Logout) -> Result<HttpResponse, WebError> {
    let mut response = match outcome {
        Logout::Redirect(url) => see_other(&url),
        Logout::SignedOut => render_page(req, state, "signed_out.html", tera::Context::new())?,
        Logout::Confirm { client, post_logout_redirect_uri, state: rp_state, client_id } => {
            let csrf = csrf_token(req, state)?;
            let mut context = tera::Context::new();
            context.insert("csrf", &csrf.token);
            if let Some(client) = client {
                context.insert("client", &client_view(&client, request_locale(req, state)));
            }
            context.insert("post_logout_redirect_uri", &post_logout_redirect_uri);
            context.insert("state", &rp_state);
            context.insert("client_id", &client_id);
            let mut page = render_page(req, state, "end_session.html", context)?;
            csrf.set_on(&mut page)?;
            return Ok(page);
        }
    };
    crate::cookies::set_cookie(&mut response, &sso_cookie_removal(state))?;
    Ok(response)
}

pub async fn end_session_get(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, WebError> {
    let request = logout_request(&query_params(&req));
    let outcome = state.oidc.end_session(request, sso_token(&req, &state).as_deref(), SystemClock.now()).await?;
    answer(&req, &state, outcome).await
}

pub async fn end_session_post(
    req: HttpRequest,
    state: web::Data<AppState>,
    form: FormParams,
) -> Result<HttpResponse, WebError> {
    let outcome =
        state.oidc.end_session(logout_request(&form), sso_token(&req, &state).as_deref(), SystemClock.now()).await?;
    answer(&req, &state, outcome).await
}

pub async fn end_session_confirm_post(
    req: HttpRequest,
    state: web::Data<AppState>,
    form: FormParams,
) -> Result<HttpResponse, WebError> {
    verify_csrf(&req, &state, form.get("csrf"))?;
    let outcome = state
        .oidc
        .confirm_end_session(logout_request(&form), sso_token(&req, &state).as_deref(), SystemClock.now())
        .await?;
    answer(&req, &state, outcome).await
}
