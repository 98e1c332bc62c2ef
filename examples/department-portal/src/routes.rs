//! The portal's routes. Handlers read cookies and parameters, call the relying party or a store,
//! and answer with a page or a redirect; errors go through [`error_response`].

use std::time::Instant;

use actix_web::cookie::{Cookie, SameSite, time::Duration as CookieDuration};
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::Utc;
use openidconnect::CsrfToken;

use crate::callback::{CallbackParams, constant_time_eq};
use crate::error::{PortalError, error_response};
use crate::html;
use crate::state::{AppState, LOGIN_TTL};
use crate::store::StoreKey;

// Cookies (names in `state.cookies`): `login` names the pending sign-in (state, nonce,
// PKCE verifier) between `/login` and `/callback`; `session` the portal's own session;
// `signed_out` holds the `state` sent to Tessera's end_session_endpoint, to recognise the
// return to `/`.

const STYLE_CSS: &str = include_str!("../static/style.css");

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/", web::get().to(home_get))
        .route("/style.css", web::get().to(style_get))
        .route("/login", web::get().to(login_get))
        .route("/callback", web::get().to(callback_get))
        .route("/me", web::get().to(me_get))
        .route("/refresh", web::post().to(refresh_post))
        .route("/logout", web::post().to(logout_post))
        .default_service(web::to(not_found));
}

async fn home_get(state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    let name = cookie_value(&req, &state.cookies.session)
        .and_then(|key| state.sessions.with(&key, Instant::now(), |session| session.name.clone()));
    let returned_state = query_param(&req, "state");
    let signed_out = match (cookie_value(&req, &state.cookies.signed_out), returned_state) {
        (Some(expected), Some(got)) => constant_time_eq(expected.as_bytes(), got.as_bytes()),
        _ => false,
    };
    let page = html::home_page(&state.config.department, name.as_ref(), signed_out);
    let mut response = page_response(page);
    if signed_out {
        add_cookie(&mut response, removal(&state.cookies.signed_out));
    }
    response
}

async fn style_get() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/css; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "public, max-age=3600"))
        .body(STYLE_CSS)
}

#[tracing::instrument(skip_all)]
async fn login_get(state: web::Data<AppState>) -> HttpResponse {
    let (url, pending) = state.rp.begin_login();
    match state.pending.insert(pending, Instant::now()) {
        Ok(key) => {
            tracing::info!("sign-in started");
            let mut response = see_other(url.as_str());
            add_cookie(&mut response, cookie(&state, &state.cookies.login, key.as_str(), Some(LOGIN_TTL.as_secs())));
            response
        }
        Err(_) => error_response(&state.config.department, &PortalError::Busy),
    }
}

#[tracing::instrument(skip_all)]
async fn callback_get(state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    let mut response = match finish_login(&state, &req).await {
        Ok(session_key) => {
            let mut response = see_other("/me");
            add_cookie(&mut response, cookie(&state, &state.cookies.session, session_key.as_str(), None));
            response
        }
        Err(err) => error_response(&state.config.department, &err),
    };
    add_cookie(&mut response, removal(&state.cookies.login));
    response
}

/// The pending sign-in is taken (so a replayed callback finds nothing) before anything else.
async fn finish_login(state: &AppState, req: &HttpRequest) -> Result<StoreKey, PortalError> {
    let login_key = cookie_value(req, &state.cookies.login).ok_or(PortalError::LoginExpired)?;
    let pending = state.pending.take(&login_key, Instant::now()).ok_or(PortalError::LoginExpired)?;
    let params = CallbackParams::parse(req.query_string())?;
    let signed_in = state.rp.finish_login(pending, params, Utc::now()).await?;
    if let Some(old) = cookie_value(req, &state.cookies.session) {
        state.sessions.take(&old, Instant::now()); // a new sign-in replaces the old session
    }
    state.sessions.insert(signed_in, Instant::now()).map_err(|_| PortalError::Busy)
}

async fn me_get(state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    let refreshed = query_param(&req, "refreshed").is_some();
    let page = cookie_value(&req, &state.cookies.session).and_then(|key| {
        state.sessions.with(&key, Instant::now(), |session| {
            html::me_page(&state.config.department, session, refreshed, Utc::now())
        })
    });
    match page {
        Some(page) => page_response(page),
        None => see_other("/"),
    }
}

#[tracing::instrument(skip_all)]
async fn refresh_post(state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    let Some(key) = cookie_value(&req, &state.cookies.session) else {
        return see_other("/");
    };
    let input = state.sessions.with(&key, Instant::now(), |session| {
        (session.tokens.refresh.clone(), session.subject.clone(), session.nonce.clone())
    });
    let (refresh_token, subject, nonce) = match input {
        None => return see_other("/"),
        Some((None, ..)) => return error_response(&state.config.department, &PortalError::NoRefreshToken),
        Some((Some(refresh_token), subject, nonce)) => (refresh_token, subject, nonce),
    };
    match state.rp.refresh(&refresh_token, &subject, &nonce, Utc::now()).await {
        Ok(refreshed) => {
            state.sessions.with(&key, Instant::now(), |session| session.apply(refreshed));
            see_other("/me?refreshed=1")
        }
        Err(err) => error_response(&state.config.department, &err),
    }
}

/// Forgets the portal session, then sends the browser to Tessera's end_session_endpoint.
#[tracing::instrument(skip_all)]
async fn logout_post(state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    let session = cookie_value(&req, &state.cookies.session).and_then(|key| state.sessions.take(&key, Instant::now()));
    let mut response = match session {
        Some(session) => {
            tracing::info!("citizen signed out");
            let (location, logout_state) = match state.rp.logout_url(&session.id_token) {
                Some((url, logout_state)) => (url.to_string(), logout_state),
                None => {
                    let logout_state = CsrfToken::new_random();
                    (format!("/?state={}", logout_state.secret()), logout_state)
                }
            };
            let mut response = see_other(&location);
            add_cookie(
                &mut response,
                cookie(&state, &state.cookies.signed_out, logout_state.secret(), Some(LOGIN_TTL.as_secs())),
            );
            response
        }
        None => see_other("/"),
    };
    add_cookie(&mut response, removal(&state.cookies.session));
    response
}

async fn not_found(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::NotFound().content_type(html::CONTENT_TYPE).body(html::not_found_page(&state.config.department))
}

fn page_response(page: String) -> HttpResponse {
    HttpResponse::Ok().content_type(html::CONTENT_TYPE).body(page)
}

fn see_other(location: &str) -> HttpResponse {
    HttpResponse::SeeOther().insert_header((header::LOCATION, location)).finish()
}

fn cookie_value(req: &HttpRequest, name: &str) -> Option<String> {
    req.cookie(name).map(|c| c.value().to_owned()).filter(|v| !v.is_empty())
}

fn query_param(req: &HttpRequest, name: &str) -> Option<String> {
    url::form_urlencoded::parse(req.query_string().as_bytes()).find(|(k, _)| k == name).map(|(_, v)| v.into_owned())
}

/// An HttpOnly, SameSite=Lax cookie for the whole site; `Secure` when the portal is on HTTPS.
fn cookie(state: &AppState, name: &str, value: &str, max_age_secs: Option<u64>) -> Cookie<'static> {
    let mut cookie = Cookie::build(name.to_owned(), value.to_owned())
        .path("/")
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(state.config.base_url.is_https())
        .finish();
    if let Some(secs) = max_age_secs {
        cookie.set_max_age(CookieDuration::seconds(i64::try_from(secs).unwrap_or(i64::MAX)));
    }
    cookie
}

fn removal(name: &str) -> Cookie<'static> {
    let mut cookie = Cookie::build(name.to_owned(), "").path("/").http_only(true).same_site(SameSite::Lax).finish();
    cookie.make_removal();
    cookie
}

fn add_cookie(response: &mut HttpResponse, cookie: Cookie<'_>) {
    if let Err(err) = response.add_cookie(&cookie) {
        tracing::warn!(cookie = cookie.name(), error = %err, "could not set a cookie");
    }
}
