//! CSRF protection for every form: a random token in an HttpOnly cookie that the server
//! also writes into the form as a hidden field (double submit). A cross-site page can
//! neither read the cookie nor set it (`__Host-` prefix over https), so it cannot forge
//! the field. POSTs must also come from our own origin when the browser says where
//! they come from (`Origin`). Stateless, so it works on every node.

use crate::state::AppState;
use actix_web::HttpRequest;
use actix_web::cookie::{Cookie, SameSite};
use actix_web::http::header;

/// The CSRF cookie's base name (prefixed `__Host-` over https).
pub const CSRF_COOKIE: &str = "tessera_csrf";
/// The hidden form field.
pub const CSRF_FIELD: &str = "csrf";

/// The token to put into a form, and the cookie to set when the browser had none.
pub struct CsrfToken {
    pub token: String,
    pub set_cookie: Option<Cookie<'static>>,
}

fn well_formed(token: &str) -> bool {
    token.len() == 43 && token.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

impl CsrfToken {
    /// Sets the cookie on the page that carries the token, when the browser had none.
    pub fn set_on(self, response: &mut actix_web::HttpResponse) -> Result<(), crate::errors::WebError> {
        match self.set_cookie {
            Some(cookie) => crate::cookies::set_cookie(response, &cookie),
            None => Ok(()),
        }
    }
}

/// The browser's CSRF token, or a fresh one with the cookie that carries it.
pub fn csrf_token(req: &HttpRequest, state: &AppState) -> Result<CsrfToken, tessera_crypto::CryptoError> {
    let name = state.settings.cookie_name(CSRF_COOKIE);
    if let Some(cookie) = req.cookie(&name)
        && well_formed(cookie.value())
    {
        return Ok(CsrfToken { token: cookie.value().to_owned(), set_cookie: None });
    }
    let token = tessera_crypto::random_token()?;
    let cookie = Cookie::build(name, token.clone())
        .path("/")
        .http_only(true)
        .secure(state.settings.secure_cookies())
        .same_site(SameSite::Lax)
        .finish();
    Ok(CsrfToken { token, set_cookie: Some(cookie) })
}

/// Why a form submission was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CsrfFailure {
    MissingCookie,
    Mismatch,
    ForeignOrigin,
}

/// Checks a submitted form: the field must equal the cookie (constant time), and an
/// `Origin` header, when it names an origin, must be this Tessera's origin.
pub fn verify_csrf(req: &HttpRequest, state: &AppState, submitted: Option<&str>) -> Result<(), CsrfFailure> {
    // Browsers send `Origin: null` on every POST from a page whose referrer policy is
    // `no-referrer` (ours): that says nothing, and the token below still decides.
    if let Some(origin) = req.headers().get(header::ORIGIN).filter(|o| o.as_bytes() != b"null") {
        let expected = state.settings.issuer.origin().ascii_serialization();
        if origin.as_bytes() != expected.as_bytes() {
            return Err(CsrfFailure::ForeignOrigin);
        }
    }
    let cookie = req.cookie(&state.settings.cookie_name(CSRF_COOKIE)).ok_or(CsrfFailure::MissingCookie)?;
    let submitted = submitted.ok_or(CsrfFailure::Mismatch)?;
    if well_formed(cookie.value()) && tessera_crypto::constant_time_eq(cookie.value().as_bytes(), submitted.as_bytes())
    {
        Ok(())
    } else {
        Err(CsrfFailure::Mismatch)
    }
}

/// The request header that carries the CSRF token on the JSON endpoints of our own script.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// Checks a `fetch` from our own script: the `X-CSRF-Token` header must equal the cookie
/// (constant time, as for forms), `Origin` must be ours when it names one, and a browser
/// that says where the request comes from (`Sec-Fetch-Site`) must say our own origin.
/// A cross-site page cannot send the custom header without a CORS preflight we never allow.
pub fn verify_csrf_header(req: &HttpRequest, state: &AppState) -> Result<(), CsrfFailure> {
    if let Some(site) = req.headers().get("sec-fetch-site")
        && site.as_bytes() != b"same-origin"
    {
        return Err(CsrfFailure::ForeignOrigin);
    }
    let submitted = req.headers().get(CSRF_HEADER).and_then(|v| v.to_str().ok());
    verify_csrf(req, state, submitted)
}
