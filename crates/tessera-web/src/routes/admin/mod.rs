//! The operators' admin page, `/admin`: department clients (with maker-checker), the
//! audit log, signing keys and operators.
//!
//! Every route is registered through [`admin_routes!`], which builds the `/admin` scope
//! and the list [`ROUTES`] from the same table, and the scope is wrapped in [`guard`]: a
//! route cannot be added without the check, and tests walk [`ROUTES`] to prove it.
//! The guard lets through only a citizen with the operator role whose session signed in
//! with a passkey within `admin.recent_sign_in_secs` (10 minutes by default); anyone else
//! is sent to sign in (with a passkey) or refused (403). Every form also carries a CSRF
//! token, checked first thing in each POST handler.

mod audit_log;
mod clients;
mod operators;

use super::account::signed_in_citizen;
use super::{render_status, request_locale};
use crate::csrf::csrf_token;
use crate::errors::WebError;
use crate::state::AppState;
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::middleware::{Next, from_fn};
use actix_web::{HttpMessage, HttpRequest, HttpResponse, web};
use tessera_domain::{ACR_PASSKEY, Citizen, CitizenId, Clock, Role, SystemClock, UnixTime};
use tessera_oidc::sso::SsoSession;

pub(crate) use clients::has_logo;
pub use clients::logo_get;
pub use operators::{enrol_get, enrol_post};

/// Where the guard sends a visitor who must sign in with a passkey first.
pub const SIGN_IN_FOR_ADMIN: &str = "/signin?next=%2Fadmin";
/// Where it sends an operator whose passkey sign-in is too old (or was a password).
pub const STEP_UP_FOR_ADMIN: &str = "/signin?next=%2Fadmin&reauth=1";

/// The operator a request acts as (put there by [`guard`]).
#[derive(Debug, Clone)]
pub struct Operator {
    pub citizen: Citizen,
    pub session: SsoSession,
}

impl Operator {
    pub fn id(&self) -> CitizenId {
        self.citizen.id
    }
}

macro_rules! admin_routes {
    ($( $method:ident $path:literal => $handler:path ),* $(,)?) => {
        /// Every admin route: (method, path under `/admin`).
        pub const ROUTES: &[(&str, &str)] = &[$((stringify!($method), $path)),*];

        /// The `/admin` scope, every route behind [`guard`].
        pub fn scope() -> actix_web::Scope<
            impl actix_web::dev::ServiceFactory<
                ServiceRequest,
                Config = (),
                Response = ServiceResponse<impl MessageBody>,
                Error = actix_web::Error,
                InitError = (),
            >,
        > {
            web::scope("/admin").wrap(from_fn(guard))$(.route($path, web::$method().to($handler)))*
        }
    };
}

admin_routes! {
    get "" => overview_get,
    get "/clients" => clients::list_get,
    get "/clients/new" => clients::new_get,
    post "/clients" => clients::create_post,
    get "/clients/{id}" => clients::detail_get,
    get "/clients/{id}/created" => clients::created_get,
    post "/clients/{id}" => clients::edit_post,
    post "/clients/{id}/disable" => clients::disable_post,
    post "/clients/{id}/enable" => clients::enable_post,
    post "/clients/{id}/secret" => clients::secret_post,
    post "/clients/{id}/logo" => clients::logo_post,
    post "/clients/{id}/logo/remove" => clients::logo_remove_post,
    get "/approvals" => clients::approvals_get,
    post "/approvals/{id}/approve" => clients::approve_post,
    post "/approvals/{id}/reject" => clients::reject_post,
    get "/audit" => audit_log::audit_get,
    get "/keys" => audit_log::keys_get,
    post "/keys/rotate" => audit_log::rotate_post,
    get "/operators" => operators::operators_get,
    post "/operators/invite" => operators::invite_post,
}

/// Whether this session may use the admin pages now: an operator, signed in with a passkey
/// within the last `window_secs`.
pub fn may_administer(citizen: &Citizen, session: &SsoSession, now: UnixTime, window_secs: i64) -> Result<(), Refused> {
    if !citizen.roles.contains(&Role::Operator) {
        return Err(Refused::NotOperator);
    }
    if session.acr != ACR_PASSKEY || now.secs_since(session.auth_time) > window_secs {
        return Err(Refused::StepUp);
    }
    Ok(())
}

/// Why the guard turned a request away.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    SignIn,
    NotOperator,
    StepUp,
}

async fn guard(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let Some(state) = req.app_data::<web::Data<AppState>>().cloned() else {
        return Ok(req.into_response(HttpResponse::InternalServerError().finish()).map_into_right_body());
    };
    let now = SystemClock.now();
    let found = signed_in_citizen(req.request(), &state, now).await;
    let refused = match &found {
        Err(e) => {
            tracing::error!(code = e.code(), error = %e, "admin guard could not read the session");
            return Ok(req.into_response(HttpResponse::ServiceUnavailable().finish()).map_into_right_body());
        }
        Ok(None) => Some(Refused::SignIn),
        Ok(Some((session, citizen))) => {
            may_administer(citizen, session, now, state.settings.admin_recent_sign_in_secs).err()
        }
    };
    match (refused, found) {
        (None, Ok(Some((session, citizen)))) => {
            req.extensions_mut().insert(Operator { citizen, session });
            Ok(next.call(req).await?.map_into_left_body())
        }
        (refused, _) => {
            let response = match refused {
                Some(Refused::NotOperator) => not_operator(req.request(), &state),
                Some(Refused::StepUp) => Ok(super::authorize::see_other(STEP_UP_FOR_ADMIN)),
                _ => Ok(super::authorize::see_other(SIGN_IN_FOR_ADMIN)),
            };
            let response = response.unwrap_or_else(|_| HttpResponse::Forbidden().finish());
            Ok(req.into_response(response).map_into_right_body())
        }
    }
}

/// 403 in the visitor's language: signed in, but not an operator.
fn not_operator(req: &HttpRequest, state: &AppState) -> Result<HttpResponse, WebError> {
    let locale = request_locale(req, state);
    let catalogs = state.pages.catalogs();
    let mut context = tera::Context::new();
    context.insert("heading", catalogs.message(locale, "admin_forbidden_title"));
    context.insert("message", catalogs.message(locale, "admin_forbidden_body"));
    render_status(req, state, "error.html", context, StatusCode::FORBIDDEN)
}

/// Renders an admin page: the CSRF token, the operator's name and the admin navigation's
/// current page (never cached, as every page).
pub(crate) fn admin_page(
    req: &HttpRequest,
    state: &AppState,
    operator: &Operator,
    template: &str,
    current: &str,
    mut context: tera::Context,
    status: StatusCode,
) -> Result<HttpResponse, WebError> {
    let csrf = csrf_token(req, state)?;
    context.insert("csrf", &csrf.token);
    context.insert("operator", operator.citizen.username.as_str());
    context.insert("admin_page", current);
    context.insert("maker_checker", &state.settings.maker_checker);
    let mut response = render_status(req, state, template, context, status)?;
    csrf.set_on(&mut response)?;
    Ok(response)
}

/// The operator of this request (the guard put it there).
pub(crate) fn operator_of(req: &HttpRequest) -> Result<Operator, WebError> {
    req.extensions().get::<Operator>().cloned().ok_or_else(|| WebError::Render("admin route without its guard".into()))
}

/// `GET /admin`: what waits for the operator.
pub async fn overview_get(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, WebError> {
    let operator = operator_of(&req)?;
    let pending = tessera_oidc::client_admin::pending_changes(&state.db).await.map_err(clients::admin_failure)?;
    let waiting = pending.iter().filter(|c| c.proposed_by != operator.id()).count();
    let mut context = tera::Context::new();
    context.insert("pending", &pending.len());
    context.insert("waiting_for_me", &waiting);
    admin_page(&req, &state, &operator, "admin_overview.html", "/admin", context, StatusCode::OK)
}
