//! Operators: the list, inviting another operator (a one-time enrolment link, shown once),
//! and the enrolment pages the link opens (outside `/admin`: the invitee has no account yet).
//!
//! - `GET /enrol?token=..` the invitation; `POST /enrol` `csrf`, `token`: creates the
//!   account (disabled) and goes on to the passkey page of sign-up, which activates it
//!   when the passkey exists and the link is still unused.

use super::{admin_page, operator_of};
use crate::csrf::{csrf_token, verify_csrf};
use crate::errors::WebError;
use crate::form::{FormParams, query_params};
use crate::routes::account::hong_kong_time;
use crate::routes::render_status;
use crate::routes::signup_passkey::{self, Then};
use crate::state::AppState;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::{Value, json};
use tessera_domain::{Clock, Role, SystemClock};
use tessera_oidc::service::ServiceError;
use tessera_passkey::enrolment::{self, EnrolmentError};

/// The enrolment link of an invitation.
fn enrolment_link(state: &AppState, token: &str) -> String {
    let base = state.settings.issuer.as_str().trim_end_matches('/');
    format!("{base}/enrol?token={token}")
}

async fn operators_page(
    req: &HttpRequest,
    state: &AppState,
    invited: Option<Value>,
    problem: Option<&str>,
    status: StatusCode,
) -> Result<HttpResponse, WebError> {
    let operator = operator_of(req)?;
    let all = state
        .db
        .run(|conn| tessera_store::citizens::with_role(conn, Role::Operator))
        .await
        .map_err(ServiceError::from)?;
    let views: Vec<Value> = all
        .iter()
        .map(|c| {
            json!({
                "username": c.username.as_str(),
                "active": c.status == tessera_domain::CitizenStatus::Active,
                "since": hong_kong_time(c.created_at).0,
            })
        })
        .collect();
    let mut context = tera::Context::new();
    context.insert("operators", &views);
    if let Some(invited) = invited {
        context.insert("invited", &invited);
    }
    if let Some(problem) = problem {
        context.insert("problem", problem);
    }
    admin_page(req, state, &operator, "admin_operators.html", "/admin/operators", context, status)
}

pub async fn operators_get(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, WebError> {
    operators_page(&req, &state, None, None, StatusCode::OK).await
}

pub async fn invite_post(
    req: HttpRequest,
    state: web::Data<AppState>,
    form: FormParams,
) -> Result<HttpResponse, WebError> {
    verify_csrf(&req, &state, form.get("csrf"))?;
    let operator = operator_of(&req)?;
    let username = form.get("username").unwrap_or_default().trim().to_lowercase();
    let name = form.get("name_en").unwrap_or_default();
    let now = SystemClock.now();
    match enrolment::invite(&state.db, &username, name, Some(operator.id()), now).await {
        Ok(invitation) => {
            let invited = json!({
                "username": invitation.enrolment.username.as_str(),
                "link": enrolment_link(&state, &invitation.token),
                "expires": hong_kong_time(invitation.enrolment.expires_at).0,
            });
            operators_page(&req, &state, Some(invited), None, StatusCode::OK).await
        }
        Err(EnrolmentError::Username(_)) => {
            operators_page(&req, &state, None, Some("admin_invite_bad_username"), StatusCode::UNPROCESSABLE_ENTITY)
                .await
        }
        Err(EnrolmentError::Name) => {
            operators_page(&req, &state, None, Some("admin_invite_bad_name"), StatusCode::UNPROCESSABLE_ENTITY).await
        }
        Err(EnrolmentError::Taken) => {
            operators_page(&req, &state, None, Some("admin_invite_taken"), StatusCode::CONFLICT).await
        }
        Err(e) => Err(WebError::Passkey(e.to_string())),
    }
}

fn enrol_page(
    req: &HttpRequest,
    state: &AppState,
    token: Option<&str>,
    username: Option<&str>,
    problem: Option<&str>,
    status: StatusCode,
) -> Result<HttpResponse, WebError> {
    let csrf = csrf_token(req, state)?;
    let mut context = tera::Context::new();
    context.insert("csrf", &csrf.token);
    if let (Some(token), Some(username)) = (token, username) {
        context.insert("token", token);
        context.insert("username", username);
    }
    if let Some(problem) = problem {
        context.insert("problem", problem);
    }
    let mut response = render_status(req, state, "enrol.html", context, status)?;
    csrf.set_on(&mut response)?;
    Ok(response)
}

/// `GET /enrol?token=..`: the invitation, with a button (a GET never uses the link, so a
/// link checker or preview cannot spend it).
pub async fn enrol_get(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, WebError> {
    let query = query_params(&req);
    let token = query.get("token").unwrap_or_default();
    let found =
        enrolment::find(&state.db, token, SystemClock.now()).await.map_err(|e| WebError::Passkey(e.to_string()))?;
    match found {
        Some(enrolment) => {
            enrol_page(&req, &state, Some(token), Some(enrolment.username.as_str()), None, StatusCode::OK)
        }
        None => enrol_page(&req, &state, None, None, Some("enrol_invalid"), StatusCode::NOT_FOUND),
    }
}

/// `POST /enrol`: creates the operator's account and goes on to create its passkey.
pub async fn enrol_post(
    req: HttpRequest,
    state: web::Data<AppState>,
    form: FormParams,
) -> Result<HttpResponse, WebError> {
    verify_csrf(&req, &state, form.get("csrf"))?;
    let token = form.get("token").unwrap_or_default();
    let now = SystemClock.now();
    match enrolment::start(&state.db, &state.signup, token, now).await {
        Ok((citizen, digest)) => {
            let then = Then { authz: None, next: Some("/admin"), enrolment: Some(digest) };
            signup_passkey::begin(&state, citizen, then, form.get("csrf").unwrap_or_default()).await
        }
        Err(EnrolmentError::Invalid) => {
            enrol_page(&req, &state, None, None, Some("enrol_invalid"), StatusCode::NOT_FOUND)
        }
        Err(EnrolmentError::Taken) => enrol_page(&req, &state, None, None, Some("enrol_taken"), StatusCode::CONFLICT),
        Err(e) => Err(WebError::Passkey(e.to_string())),
    }
}
