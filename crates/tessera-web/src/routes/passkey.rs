//! The JSON endpoints of `static/passkey.js`: the WebAuthn ceremonies of signing in with a
//! passkey and of adding one to a signed-in account.
//!
//! - `POST /passkey/signin/start` `{"username"?}` → `{"ceremony", "options"}`
//! - `POST /passkey/signin/finish` `{"ceremony", "credential", "authz"?, "next"?}` → `{"redirect"}`
//!   and the new SSO cookie
//! - `POST /passkey/register/start` `{}` → `{"ceremony", "options"}` (signed in)
//! - `POST /passkey/register/finish` `{"ceremony", "credential", "name"?}` → `{"ok": true}` (signed in)
//!
//! A refusal is `{"error": code, "message": text}` with a 4xx/5xx status, the text in the
//! request's language (the script sends the page's language as `ui_locales`).
//!
//! CSRF: the bodies must be JSON (a cross-site form cannot send that), the
//! `X-CSRF-Token` header must match the CSRF cookie (a cross-site page cannot set a custom
//! header without a CORS preflight, which we never grant), and `Origin`/`Sec-Fetch-Site`
//! must name our own origin when the browser sends them.

use super::account::signed_in_citizen;
use super::request_locale;
use super::signin::{next_location, open_session};
use crate::csrf::verify_csrf_header;
use crate::state::AppState;
use actix_web::http::StatusCode;
use actix_web::http::header::{self, CacheControl, CacheDirective};
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use tessera_domain::{Clock, SystemClock};
use tessera_passkey::{PasskeyError, SignInOutcome};

/// The largest JSON body accepted: an attestation object is a few kilobytes.
pub const MAX_JSON_BYTES: usize = 64 * 1024;

/// The longest passkey name, in characters.
pub const MAX_NAME_CHARS: usize = 64;

/// Why a request was refused, as the script sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Refusal {
    pub status: StatusCode,
    /// A stable code; the message is the catalog entry `passkey_error_<code>` (or
    /// `account_error_name` for `name`).
    pub code: &'static str,
    pub retry_after: Option<u64>,
}

impl Refusal {
    pub(crate) const fn new(status: StatusCode, code: &'static str) -> Refusal {
        Refusal { status, code, retry_after: None }
    }

    const BAD_REQUEST: Refusal = Refusal::new(StatusCode::BAD_REQUEST, "invalid");
    const FORBIDDEN: Refusal = Refusal::new(StatusCode::FORBIDDEN, "form_expired");
    const SIGNIN_REQUIRED: Refusal = Refusal::new(StatusCode::UNAUTHORIZED, "signin_required");
    pub(crate) const UNAVAILABLE: Refusal = Refusal::new(StatusCode::SERVICE_UNAVAILABLE, "unavailable");

    fn throttled(wait: std::time::Duration) -> Refusal {
        Refusal { status: StatusCode::TOO_MANY_REQUESTS, code: "throttled", retry_after: Some(wait.as_secs().max(1)) }
    }

    fn message_key(&self) -> String {
        match self.code {
            "name" => "account_error_name".to_owned(),
            code => format!("passkey_error_{code}"),
        }
    }

    /// The JSON answer, in the request's language.
    pub fn respond(&self, req: &HttpRequest, state: &AppState) -> HttpResponse {
        let locale = request_locale(req, state);
        let key = self.message_key();
        let mut message = state.pages.catalogs().message(locale, &key).to_owned();
        if let Some(seconds) = self.retry_after {
            message = message.replace("{seconds}", &seconds.to_string());
        }
        let mut body = json!({ "error": self.code, "message": message });
        let mut response = HttpResponse::build(self.status);
        response.insert_header(CacheControl(vec![CacheDirective::NoStore]));
        if let Some(seconds) = self.retry_after {
            body["retry_after"] = json!(seconds);
            response.insert_header((header::RETRY_AFTER, seconds.to_string()));
        }
        response.json(body)
    }
}

/// What a [`PasskeyError`] means to the citizen. Internal failures are logged here.
pub fn refusal_of(error: &PasskeyError) -> Refusal {
    match error {
        PasskeyError::Expired => Refusal::new(StatusCode::BAD_REQUEST, "expired"),
        // A credential of another citizen looks like any credential we cannot verify.
        PasskeyError::Invalid | PasskeyError::NotYours => Refusal::BAD_REQUEST,
        PasskeyError::InvalidName => Refusal::new(StatusCode::BAD_REQUEST, "name"),
        PasskeyError::DuplicateCredential => Refusal::new(StatusCode::CONFLICT, "duplicate"),
        PasskeyError::CounterRegression => Refusal::new(StatusCode::BAD_REQUEST, "counter"),
        PasskeyError::Throttled(wait) => Refusal::throttled(*wait),
        other => {
            tracing::error!(code = "web.passkey", error = %other, "passkey ceremony could not be completed");
            Refusal::UNAVAILABLE
        }
    }
}

fn ok_json(body: Value) -> HttpResponse {
    HttpResponse::Ok().insert_header(CacheControl(vec![CacheDirective::NoStore])).json(body)
}

/// Checks the CSRF header and origin, then parses the JSON body.
pub(crate) fn parse<T: DeserializeOwned>(req: &HttpRequest, state: &AppState, body: &[u8]) -> Result<T, Refusal> {
    if let Err(failure) = verify_csrf_header(req, state) {
        tracing::warn!(code = "web.csrf", ?failure, "passkey request refused");
        return Err(Refusal::FORBIDDEN);
    }
    let is_json = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.to_ascii_lowercase().starts_with("application/json"));
    if !is_json {
        return Err(Refusal::new(StatusCode::UNSUPPORTED_MEDIA_TYPE, "invalid"));
    }
    if body.len() > MAX_JSON_BYTES {
        return Err(Refusal::new(StatusCode::PAYLOAD_TOO_LARGE, "invalid"));
    }
    serde_json::from_slice(body).map_err(|_| Refusal::BAD_REQUEST)
}

/// A ceremony id as the script sends it back: short and printable.
fn valid_ceremony(id: &str) -> bool {
    !id.is_empty() && id.len() <= 128 && id.bytes().all(|b| b.is_ascii_graphic())
}

#[derive(Debug, Deserialize)]
struct SignInStart {
    #[serde(default)]
    username: Option<String>,
}

#[derive(Debug, Deserialize)]
struct SignInFinish {
    ceremony: String,
    credential: Value,
    #[serde(default)]
    authz: Option<String>,
    #[serde(default)]
    next: Option<String>,
}

#[derive(Debug, Deserialize)]
struct RegisterFinish {
    ceremony: String,
    credential: Value,
    #[serde(default)]
    name: Option<String>,
}

/// A passkey name as typed: trimmed, `None` when empty, refused when too long.
pub fn passkey_name(name: Option<&str>) -> Result<Option<String>, Refusal> {
    let Some(name) = name.map(str::trim).filter(|n| !n.is_empty()) else { return Ok(None) };
    if name.chars().count() > MAX_NAME_CHARS || name.chars().any(char::is_control) {
        return Err(Refusal::new(StatusCode::BAD_REQUEST, "name"));
    }
    Ok(Some(name.to_owned()))
}

fn answer(req: &HttpRequest, state: &AppState, result: Result<HttpResponse, Refusal>) -> HttpResponse {
    result.unwrap_or_else(|refusal| refusal.respond(req, state))
}

pub async fn signin_start_post(req: HttpRequest, state: web::Data<AppState>, body: web::Bytes) -> HttpResponse {
    let result = async {
        let start: SignInStart = parse(&req, &state, &body)?;
        let username = start.username.as_deref().map(str::trim).filter(|u| !u.is_empty());
        let ceremony =
            state.passkeys.start_authentication(username, SystemClock.now()).await.map_err(|e| refusal_of(&e))?;
        Ok(ok_json(json!({ "ceremony": ceremony.id, "options": ceremony.options })))
    }
    .await;
    answer(&req, &state, result)
}

pub async fn signin_finish_post(req: HttpRequest, state: web::Data<AppState>, body: web::Bytes) -> HttpResponse {
    let result = async {
        let finish: SignInFinish = parse(&req, &state, &body)?;
        if !valid_ceremony(&finish.ceremony) {
            return Err(Refusal::new(StatusCode::BAD_REQUEST, "expired"));
        }
        let now = SystemClock.now();
        let outcome = state
            .passkeys
            .finish_authentication(&finish.ceremony, &finish.credential, &state.settings.client_ip(&req), now)
            .await
            .map_err(|e| refusal_of(&e))?;
        let signed_in = match outcome {
            SignInOutcome::SignedIn(signed_in) => signed_in,
            SignInOutcome::Refused => return Err(Refusal::BAD_REQUEST),
            SignInOutcome::Throttled(wait) => return Err(Refusal::throttled(wait)),
        };
        let authz = finish.authz.as_deref();
        let cookie = open_session(&req, &state, signed_in, authz, now).await.map_err(|e| {
            tracing::error!(code = e.code(), error = %e, "could not start the session after a passkey sign-in");
            Refusal::UNAVAILABLE
        })?;
        let mut response = ok_json(json!({ "redirect": next_location(authz, finish.next.as_deref(), "/account") }));
        response.add_cookie(&cookie).map_err(|_| Refusal::UNAVAILABLE)?;
        Ok(response)
    }
    .await;
    answer(&req, &state, result)
}

pub async fn register_start_post(req: HttpRequest, state: web::Data<AppState>, body: web::Bytes) -> HttpResponse {
    let result = async {
        let _: Value = parse(&req, &state, &body)?;
        let now = SystemClock.now();
        let (_, citizen) = signed_in_citizen(&req, &state, now)
            .await
            .map_err(|e| {
                tracing::error!(code = e.code(), error = %e, "could not look up the session");
                Refusal::UNAVAILABLE
            })?
            .ok_or(Refusal::SIGNIN_REQUIRED)?;
        let display_name = citizen.username.as_str().to_owned();
        let ceremony =
            state.passkeys.start_registration(&citizen, &display_name, now).await.map_err(|e| refusal_of(&e))?;
        Ok(ok_json(json!({ "ceremony": ceremony.id, "options": ceremony.options })))
    }
    .await;
    answer(&req, &state, result)
}

pub async fn register_finish_post(req: HttpRequest, state: web::Data<AppState>, body: web::Bytes) -> HttpResponse {
    let result = async {
        let finish: RegisterFinish = parse(&req, &state, &body)?;
        if !valid_ceremony(&finish.ceremony) {
            return Err(Refusal::new(StatusCode::BAD_REQUEST, "expired"));
        }
        let name = passkey_name(finish.name.as_deref())?;
        let now = SystemClock.now();
        let (_, citizen) = signed_in_citizen(&req, &state, now)
            .await
            .map_err(|e| {
                tracing::error!(code = e.code(), error = %e, "could not look up the session");
                Refusal::UNAVAILABLE
            })?
            .ok_or(Refusal::SIGNIN_REQUIRED)?;
        state
            .passkeys
            .finish_registration(&finish.ceremony, citizen.id, &finish.credential, name.as_deref(), now)
            .await
            .map_err(|e| refusal_of(&e))?;
        Ok(ok_json(json!({ "ok": true })))
    }
    .await;
    answer(&req, &state, result)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn names_are_trimmed_and_bounded() {
        assert_eq!(passkey_name(None).unwrap(), None);
        assert_eq!(passkey_name(Some("   ")).unwrap(), None);
        assert_eq!(passkey_name(Some("  My phone ")).unwrap().as_deref(), Some("My phone"));
        assert_eq!(passkey_name(Some(&"手".repeat(64))).unwrap().map(|n| n.chars().count()), Some(64));
        assert_eq!(passkey_name(Some(&"a".repeat(65))).unwrap_err().code, "name");
        assert_eq!(passkey_name(Some("a\u{0}b")).unwrap_err().code, "name");
    }

    #[test]
    fn ceremony_ids_are_short_and_printable() {
        assert!(valid_ceremony("abc-DEF_123"));
        assert!(!valid_ceremony(""));
        assert!(!valid_ceremony("a b"));
        assert!(!valid_ceremony(&"a".repeat(129)));
    }

    #[test]
    fn refusals_name_their_catalog_message() {
        assert_eq!(Refusal::BAD_REQUEST.message_key(), "passkey_error_invalid");
        assert_eq!(Refusal::new(StatusCode::BAD_REQUEST, "name").message_key(), "account_error_name");
        let t = Refusal::throttled(std::time::Duration::from_millis(10));
        assert_eq!((t.status, t.retry_after), (StatusCode::TOO_MANY_REQUESTS, Some(1)));
    }
}
