//! The SSO session cookie: a random token (the session store holds its digest),
//! `HttpOnly`, `SameSite=Lax` (the sign-in redirect arrives cross-site), and over https
//! `Secure` with the `__Host-` prefix. A browser-session cookie: closing the browser
//! forgets it; the server ends the session anyway after its idle or absolute timeout.

use crate::state::AppState;
use actix_web::HttpRequest;
use actix_web::cookie::{Cookie, SameSite, time::Duration};

/// The SSO cookie's base name.
pub const SSO_COOKIE: &str = "tessera_sid";

/// The browser's SSO token, if it sent one that could be one.
pub fn sso_token(req: &HttpRequest, state: &AppState) -> Option<String> {
    req.cookie(&state.settings.cookie_name(SSO_COOKIE))
        .map(|c| c.value().to_owned())
        .filter(|v| v.len() == 43 && v.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'))
}

/// The cookie that carries a new SSO token.
pub fn sso_cookie(state: &AppState, token: &str) -> Cookie<'static> {
    Cookie::build(state.settings.cookie_name(SSO_COOKIE), token.to_owned())
        .path("/")
        .http_only(true)
        .secure(state.settings.secure_cookies())
        .same_site(SameSite::Lax)
        .finish()
}

/// A cookie that removes the SSO cookie.
pub fn sso_cookie_removal(state: &AppState) -> Cookie<'static> {
    Cookie::build(state.settings.cookie_name(SSO_COOKIE), "")
        .path("/")
        .http_only(true)
        .secure(state.settings.secure_cookies())
        .same_site(SameSite::Lax)
        .max_age(Duration::ZERO)
        .finish()
}

/// Sets a cookie on a response; the only failure is a cookie that cannot be encoded.
pub fn set_cookie(response: &mut actix_web::HttpResponse, cookie: &Cookie<'_>) -> Result<(), crate::errors::WebError> {
    response.add_cookie(cookie).map_err(|e| crate::errors::WebError::Render(e.to_string()))
}
