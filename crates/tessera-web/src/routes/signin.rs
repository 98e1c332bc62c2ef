//! The sign-in and sign-up pages. Plain HTML forms: they work without JavaScript. The
//! passkey button and autofill on the sign-in page come from `static/passkey.js`, which
//! talks to [`super::passkey`].

use super::account::signed_in_citizen;
use super::authorize::{client_view, see_other};
use super::{render_status, request_locale};
use crate::cookies::{sso_cookie, sso_token};
use crate::csrf::{csrf_token, verify_csrf};
use crate::errors::WebError;
use crate::form::{FormParams, query_params};
use crate::state::AppState;
use actix_web::cookie::Cookie;
use actix_web::http::StatusCode;
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::{Map, Value, json};
use tessera_domain::{Clock, SystemClock, UnixTime};
use tessera_oidc::sso::Authentication;
use tessera_passkey::{ACR_PASSWORD, ProblemKind, SignInOutcome, SignedIn, SignupError, SignupForm};

/// Pages of Tessera itself that a sign-in may return to (`next`), besides the
/// authorization flow. A fixed list: never an open redirect.
const RETURN_PAGES: [&str; 6] =
    ["/account", "/account/profile", "/account/sharing", "/account/sessions", "/account/activity", "/admin"];

/// `next` if it names one of [`RETURN_PAGES`].
pub(crate) fn valid_next(next: Option<&str>) -> Option<&'static str> {
    next.and_then(|n| RETURN_PAGES.iter().copied().find(|page| *page == n))
}

/// Where to go after signing in: back into the pending authorization, to the page that
/// sent the citizen to sign in again, or `default`.
pub(crate) fn next_location(authz: Option<&str>, next: Option<&str>, default: &str) -> String {
    match (authz.filter(|a| valid_authz(a)), valid_next(next)) {
        (Some(authz), _) => format!("/authorize/continue?authz={authz}"),
        (None, Some(page)) => page.to_owned(),
        (None, None) => default.to_owned(),
    }
}

/// A pending-request id as we issue them (43 base64url characters).
pub(crate) fn valid_authz(authz: &str) -> bool {
    authz.len() == 43 && authz.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// Renders the sign-in page. `error` is a catalog key.
#[allow(clippy::too_many_arguments)]
async fn signin_page(
    req: &HttpRequest,
    state: &AppState,
    authz: Option<&str>,
    next: Option<&str>,
    username: &str,
    error: Option<&str>,
    retry_after: Option<u64>,
    status: StatusCode,
) -> Result<HttpResponse, WebError> {
    let csrf = csrf_token(req, state)?;
    let authz = authz.filter(|a| valid_authz(a));
    let mut context = tera::Context::new();
    context.insert("csrf", &csrf.token);
    context.insert("username", username);
    if let Some(next) = valid_next(next) {
        context.insert("next", next);
        // The admin page takes a passkey only: its sign-in page offers nothing else.
        if next == "/admin" {
            context.insert("passkey_required", &true);
            context.insert("admin", &true);
            if let Some((_, citizen)) = signed_in_citizen(req, state, SystemClock.now()).await? {
                context.insert("signed_in_as", citizen.username.as_str());
                let passkeys = state.passkeys.list(citizen.id).await.map_err(|e| WebError::Passkey(e.to_string()))?;
                context.insert("has_passkey", &!passkeys.is_empty());
            }
        }
    }
    if query_params(req).get("reauth") == Some("1") {
        context.insert("reauth", &true);
    }
    context.insert(
        "signup_url",
        &match authz {
            Some(a) => format!("/signup?authz={a}"),
            None => "/signup".into(),
        },
    );
    if let Some(authz) = authz {
        context.insert("authz", authz);
        if let Some((pending, client)) = state.oidc.load_pending(authz).await? {
            context.insert("client", &client_view(&client, request_locale(req, state)));
            if super::admin::has_logo(state, &client.id).await? {
                context.insert("logo", &format!("/clients/{}/logo", client.id));
            }
            let signed_in = signed_in_citizen(req, state, SystemClock.now()).await?;
            // A citizen already signed in is here to sign in again (prompt=login, max_age,
            // or a level above their sign-in): as themselves, unless they type another name.
            let hint = pending.request.login_hint.as_deref().or(signed_in.as_ref().map(|(_, c)| c.username.as_str()));
            if username.is_empty()
                && let Some(hint) = hint
            {
                context.insert("username", hint);
            }
            if let Some((_, citizen)) = &signed_in {
                context.insert("signed_in_as", citizen.username.as_str());
            }
            // Step-up: only a passkey meets this request.
            if !pending.request.assurance().met_by(ACR_PASSWORD) {
                context.insert("passkey_required", &true);
                if let Some((_, citizen)) = &signed_in {
                    let passkeys =
                        state.passkeys.list(citizen.id).await.map_err(|e| WebError::Passkey(e.to_string()))?;
                    context.insert("has_passkey", &!passkeys.is_empty());
                }
            }
        }
    }
    if let Some(error) = error {
        context.insert("error", error);
    }
    if let Some(seconds) = retry_after {
        context.insert("retry_after", &seconds);
    }
    let mut response = render_status(req, state, "signin.html", context, status)?;
    csrf.set_on(&mut response)?;
    if let Some(seconds) = retry_after
        && let Ok(value) = header::HeaderValue::from_str(&seconds.to_string())
    {
        response.headers_mut().insert(header::RETRY_AFTER, value);
    }
    Ok(response)
}

pub async fn signin_get(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, WebError> {
    let query = query_params(&req);
    signin_page(&req, &state, query.get("authz"), query.get("next"), "", None, None, StatusCode::OK).await
}

pub async fn signin_post(
    req: HttpRequest,
    state: web::Data<AppState>,
    form: FormParams,
) -> Result<HttpResponse, WebError> {
    verify_csrf(&req, &state, form.get("csrf"))?;
    let authz = form.get("authz");
    let next = form.get("next");
    let username = form.get("username").unwrap_or("");
    let password = form.get("password").unwrap_or("");
    let now = SystemClock.now();
    let outcome = state.signin.password(username, password, &state.settings.client_ip(&req), now).await;
    match outcome {
        Ok(SignInOutcome::SignedIn(signed_in)) => start_session(&req, &state, signed_in, authz, next, now).await,
        Ok(SignInOutcome::Refused) => {
            signin_page(
                &req,
                &state,
                authz,
                next,
                username,
                Some("signin_error_invalid"),
                None,
                StatusCode::UNAUTHORIZED,
            )
            .await
        }
        Ok(SignInOutcome::Throttled(wait)) => {
            let seconds = wait.as_secs().max(1);
            signin_page(
                &req,
                &state,
                authz,
                next,
                username,
                Some("signin_error_throttled"),
                Some(seconds),
                StatusCode::TOO_MANY_REQUESTS,
            )
            .await
        }
        Err(e) => {
            tracing::error!(code = "web.signin", error = %e, "sign-in could not be completed");
            signin_page(
                &req,
                &state,
                authz,
                next,
                username,
                Some("signin_error_unavailable"),
                None,
                StatusCode::SERVICE_UNAVAILABLE,
            )
            .await
        }
    }
}

/// Starts a fresh SSO session (a new id: never the one the browser had) and goes on.
pub(crate) async fn start_session(
    req: &HttpRequest,
    state: &AppState,
    signed_in: SignedIn,
    authz: Option<&str>,
    next: Option<&str>,
    now: UnixTime,
) -> Result<HttpResponse, WebError> {
    let cookie = open_session(req, state, signed_in, authz, now).await?;
    let mut response = see_other(&next_location(authz, next, "/"));
    crate::cookies::set_cookie(&mut response, &cookie)?;
    Ok(response)
}

/// Starts a fresh SSO session, records it in the pending authorization (it satisfies
/// `prompt=login` and `max_age` there), and returns the cookie that carries it.
pub(crate) async fn open_session(
    req: &HttpRequest,
    state: &AppState,
    signed_in: SignedIn,
    authz: Option<&str>,
    now: UnixTime,
) -> Result<Cookie<'static>, WebError> {
    let user_agent = req.headers().get(header::USER_AGENT).and_then(|v| v.to_str().ok()).map(str::to_owned);
    let auth = Authentication { citizen_id: signed_in.citizen_id, amr: signed_in.amr, acr: signed_in.acr, user_agent };
    let previous = sso_token(req, state);
    let (token, session) = state.oidc.sso().start(auth, previous.as_deref(), now).await?;
    if let Some(authz) = authz.filter(|a| valid_authz(a)) {
        state.oidc.note_sign_in(authz, &session.sid).await?;
    }
    Ok(sso_cookie(state, &token))
}

const SIGNUP_FIELDS: [&str; 11] = [
    "username",
    "name_en",
    "name_zh",
    "birthdate",
    "gender",
    "email",
    "phone",
    "residential_address",
    "postal_address",
    "hkid",
    "authz",
];

async fn signup_page(
    req: &HttpRequest,
    state: &AppState,
    form: &FormParams,
    errors: Map<String, Value>,
    status: StatusCode,
) -> Result<HttpResponse, WebError> {
    let csrf = csrf_token(req, state)?;
    let mut values = Map::new();
    for field in SIGNUP_FIELDS {
        if let Some(v) = form.get(field) {
            values.insert(field.into(), json!(v));
        }
    }
    let authz = form.get("authz").filter(|a| valid_authz(a));
    let mut context = tera::Context::new();
    context.insert("csrf", &csrf.token);
    context.insert("values", &values);
    context.insert("errors", &errors);
    context.insert(
        "signin_url",
        &match authz {
            Some(a) => format!("/signin?authz={a}"),
            None => "/signin".into(),
        },
    );
    if let Some(authz) = authz {
        context.insert("authz", authz);
    }
    let mut response = render_status(req, state, "signup.html", context, status)?;
    csrf.set_on(&mut response)?;
    Ok(response)
}

pub async fn signup_get(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, WebError> {
    signup_page(&req, &state, &query_params(&req), Map::new(), StatusCode::OK).await
}

pub(crate) fn problem_key(kind: &ProblemKind) -> &'static str {
    match kind {
        ProblemKind::Required => "signup_problem_required",
        ProblemKind::TooShort => "signup_problem_too_short",
        ProblemKind::TooLong => "signup_problem_too_long",
        ProblemKind::Mismatch => "signup_problem_mismatch",
        ProblemKind::Taken => "signup_problem_taken",
        ProblemKind::PasswordTooShort => "signup_problem_password_too_short",
        ProblemKind::PasswordContainsUsername => "signup_problem_password_contains_username",
        _ => "signup_problem_invalid",
    }
}

pub async fn signup_post(
    req: HttpRequest,
    state: web::Data<AppState>,
    form: FormParams,
) -> Result<HttpResponse, WebError> {
    verify_csrf(&req, &state, form.get("csrf"))?;
    let field = |name: &str| form.get(name).map(str::to_owned);
    let signup = SignupForm {
        username: field("username").unwrap_or_default(),
        password: field("password"),
        password_confirm: field("password_confirm"),
        name_en: field("name_en").unwrap_or_default(),
        name_zh: field("name_zh"),
        birthdate: field("birthdate"),
        gender: field("gender"),
        email: field("email"),
        phone: field("phone"),
        residential_address: field("residential_address"),
        postal_address: field("postal_address"),
        hkid: field("hkid"),
    };
    let now = SystemClock.now();
    let with_passkey = form.get("method") == Some("passkey");
    let registered = if with_passkey {
        state.signup.begin_passkey_signup(signup, now).await
    } else {
        state.signup.register(signup, now).await
    };
    match registered {
        Ok(citizen) if with_passkey => {
            let authz = form.get("authz").filter(|a| valid_authz(a));
            let csrf = form.get("csrf").unwrap_or_default();
            let then = super::signup_passkey::Then { authz, ..Default::default() };
            super::signup_passkey::begin(&state, citizen, then, csrf).await
        }
        Ok(citizen) => {
            let signed_in =
                SignedIn { citizen_id: citizen.id, amr: vec!["pwd".into()], acr: tessera_passkey::ACR_PASSWORD.into() };
            start_session(&req, &state, signed_in, form.get("authz"), None, now).await
        }
        Err(SignupError::Invalid(problems)) => {
            let mut errors = Map::new();
            for p in problems {
                errors.entry(p.field.to_owned()).or_insert_with(|| json!(problem_key(&p.problem)));
            }
            signup_page(&req, &state, &form, errors, StatusCode::UNPROCESSABLE_ENTITY).await
        }
        Err(e) => Err(WebError::Signup(e.to_string())),
    }
}
