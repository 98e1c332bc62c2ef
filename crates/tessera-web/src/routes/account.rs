//! The citizen's own account page: who is signed in, their passkeys (rename, remove, add
//! one with `static/passkey.js`), and signing out. Plain HTML forms with CSRF tokens.
//!
//! - `GET /account`
//! - `POST /account/passkeys/{id}/rename` `csrf`, `name`
//! - `POST /account/passkeys/{id}/remove` `csrf` (needs a sign-in in the last 10 minutes)
//! - `POST /account/password` `csrf`, `password`, `password_confirm`: add or change the
//!   password (recent sign-in); a change ends every department's tokens issued before it
//! - `POST /account/password/remove` `csrf` (recent sign-in; refused without a passkey)
//!
//! Signing out is the form of `/end_session/confirm`.

use super::authorize::see_other;
use super::passkey::passkey_name;
use super::render_status;
use crate::cookies::sso_token;
use crate::csrf::{csrf_token, verify_csrf};
use crate::errors::WebError;
use crate::form::{FormParams, query_params};
use crate::state::AppState;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::json;
use tessera_domain::{Citizen, CitizenStatus, Clock, PasskeyId, PasskeyRecord, SystemClock, UnixTime};
use tessera_oidc::service::ServiceError;
use tessera_oidc::sso::SsoSession;
use tessera_passkey::{CredentialError, PasskeyError, PasswordChange};

/// How recent a sign-in must be to remove a passkey.
pub const RECENT_SIGN_IN_SECS: i64 = 10 * 60;

/// Where a visitor without a session is sent: sign in, then come back.
const SIGN_IN_FOR_ACCOUNT: &str = "/signin?next=%2Faccount";

/// The live SSO session of this browser and its citizen, if any (and the citizen may
/// still sign in).
pub async fn signed_in_citizen(
    req: &HttpRequest,
    state: &AppState,
    now: UnixTime,
) -> Result<Option<(SsoSession, Citizen)>, WebError> {
    let Some(token) = sso_token(req, state) else { return Ok(None) };
    let Some(session) = state.oidc.sso().find(&token, now).await? else { return Ok(None) };
    let id = session.citizen_id;
    // No citizen service has a lookup by id yet: the store's, through the pool.
    let citizen = state
        .db
        .run(move |conn| tessera_store::citizens::by_id(conn, id))
        .await
        .map_err(ServiceError::from)?
        .filter(|c| c.status == CitizenStatus::Active);
    Ok(citizen.map(|c| (session, c)))
}

/// Whether the citizen signed in (not merely passed through with the SSO cookie) in the
/// last [`RECENT_SIGN_IN_SECS`]: required to remove a passkey.
pub fn signed_in_recently(session: &SsoSession, now: UnixTime) -> bool {
    now.secs_since(session.auth_time) <= RECENT_SIGN_IN_SECS
}

/// The citizen of this browser for a change that needs a sign-in in the last
/// [`RECENT_SIGN_IN_SECS`], or where to send them first: to sign in (no session), or to
/// sign in again (too old); either way back to `page` (one of the sign-in return pages).
pub(crate) async fn recent_citizen(
    req: &HttpRequest,
    state: &AppState,
    now: UnixTime,
    page: &str,
) -> Result<Result<Citizen, HttpResponse>, WebError> {
    let next = url::form_urlencoded::byte_serialize(page.as_bytes()).collect::<String>();
    match signed_in_citizen(req, state, now).await? {
        None => Ok(Err(see_other(&format!("/signin?next={next}")))),
        Some((session, _)) if !signed_in_recently(&session, now) => {
            Ok(Err(see_other(&format!("/signin?next={next}&reauth=1"))))
        }
        Some((_, citizen)) => Ok(Ok(citizen)),
    }
}

/// A time as the account page shows it: Hong Kong time (UTC+8, no daylight saving),
/// `YYYY-MM-DD HH:MM`, and the UTC instant for `<time datetime>`.
pub fn hong_kong_time(at: UnixTime) -> (String, String) {
    let (y, mo, d, h, mi, _) = at.civil(8 * 3600);
    (format!("{y:04}-{mo:02}-{d:02} {h:02}:{mi:02}"), at.rfc3339())
}

fn passkey_view(passkey: &PasskeyRecord) -> serde_json::Value {
    let (created, created_iso) = hong_kong_time(passkey.created_at);
    let last_used = passkey.last_used_at.map(hong_kong_time);
    json!({
        "id": passkey.id.to_string(),
        "name": passkey.name,
        "created": created,
        "created_iso": created_iso,
        "last_used": last_used.as_ref().map(|(shown, _)| shown),
        "last_used_iso": last_used.as_ref().map(|(_, iso)| iso),
        "backed_up": passkey.backup_state,
    })
}

fn passkey_failure(e: PasskeyError) -> WebError {
    WebError::Passkey(e.to_string())
}

fn password_failure(e: CredentialError) -> WebError {
    WebError::Passkey(e.to_string())
}

/// Renders the account page. `notice` and `problem` are catalog keys.
async fn account_page(
    req: &HttpRequest,
    state: &AppState,
    citizen: &Citizen,
    notice: Option<&str>,
    problem: Option<&str>,
    status: StatusCode,
) -> Result<HttpResponse, WebError> {
    let csrf = csrf_token(req, state)?;
    let mut passkeys = state.passkeys.list(citizen.id).await.map_err(passkey_failure)?;
    passkeys.sort_by_key(|p| p.created_at);
    let has_password = state.passwords.has_password(citizen.id).await.map_err(password_failure)?;
    let mut context = tera::Context::new();
    context.insert("csrf", &csrf.token);
    context.insert("username", citizen.username.as_str());
    context.insert("passkeys", &passkeys.iter().map(passkey_view).collect::<Vec<_>>());
    context.insert("has_password", &has_password);
    if let Some(notice) = notice {
        context.insert("notice", notice);
    }
    if let Some(problem) = problem {
        context.insert("problem", problem);
    }
    let mut response = render_status(req, state, "account.html", context, status)?;
    csrf.set_on(&mut response)?;
    Ok(response)
}

pub async fn account_get(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, WebError> {
    let Some((_, citizen)) = signed_in_citizen(&req, &state, SystemClock.now()).await? else {
        return Ok(see_other(SIGN_IN_FOR_ACCOUNT));
    };
    let notice = match query_params(&req).get("done") {
        Some("added") => Some("account_notice_added"),
        Some("renamed") => Some("account_notice_renamed"),
        Some("removed") => Some("account_notice_removed"),
        Some("password_added") => Some("account_notice_password_added"),
        Some("password_changed") => Some("account_notice_password_changed"),
        Some("password_removed") => Some("account_notice_password_removed"),
        _ => None,
    };
    account_page(&req, &state, &citizen, notice, None, StatusCode::OK).await
}

pub async fn rename_post(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
    form: FormParams,
) -> Result<HttpResponse, WebError> {
    verify_csrf(&req, &state, form.get("csrf"))?;
    let now = SystemClock.now();
    let Some((_, citizen)) = signed_in_citizen(&req, &state, now).await? else {
        return Ok(see_other(SIGN_IN_FOR_ACCOUNT));
    };
    let Ok(id) = PasskeyId::parse(&path) else {
        return account_page(&req, &state, &citizen, None, Some("account_error_not_found"), StatusCode::NOT_FOUND)
            .await;
    };
    let Ok(Some(name)) = passkey_name(form.get("name")) else {
        return account_page(
            &req,
            &state,
            &citizen,
            None,
            Some("account_error_name"),
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    };
    match state.passkeys.rename(citizen.id, id, &name, now).await {
        Ok(_) => Ok(see_other("/account?done=renamed")),
        Err(PasskeyError::NotYours) => {
            account_page(&req, &state, &citizen, None, Some("account_error_not_found"), StatusCode::NOT_FOUND).await
        }
        Err(PasskeyError::InvalidName) => {
            account_page(&req, &state, &citizen, None, Some("account_error_name"), StatusCode::UNPROCESSABLE_ENTITY)
                .await
        }
        Err(e) => Err(passkey_failure(e)),
    }
}

pub async fn remove_post(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
    form: FormParams,
) -> Result<HttpResponse, WebError> {
    verify_csrf(&req, &state, form.get("csrf"))?;
    let now = SystemClock.now();
    let citizen = match recent_citizen(&req, &state, now, "/account").await? {
        Ok(citizen) => citizen,
        Err(elsewhere) => return Ok(elsewhere),
    };
    let Ok(id) = PasskeyId::parse(&path) else {
        return account_page(&req, &state, &citizen, None, Some("account_error_not_found"), StatusCode::NOT_FOUND)
            .await;
    };
    match state.passkeys.remove(citizen.id, id, now).await {
        Ok(_) => Ok(see_other("/account?done=removed")),
        Err(PasskeyError::LastCredential) => {
            account_page(&req, &state, &citizen, None, Some("account_error_last_credential"), StatusCode::CONFLICT)
                .await
        }
        Err(PasskeyError::NotYours) => {
            account_page(&req, &state, &citizen, None, Some("account_error_not_found"), StatusCode::NOT_FOUND).await
        }
        Err(e) => Err(passkey_failure(e)),
    }
}

/// The password form's problems, as catalog keys.
fn password_problem(e: &CredentialError) -> Option<&'static str> {
    match e {
        CredentialError::PasswordTooShort => Some("signup_problem_password_too_short"),
        CredentialError::PasswordTooLong => Some("account_error_password_too_long"),
        CredentialError::PasswordContainsUsername => Some("signup_problem_password_contains_username"),
        CredentialError::LastCredential => Some("account_error_last_password"),
        CredentialError::NoPassword => Some("account_error_no_password"),
        _ => None,
    }
}

pub async fn password_post(
    req: HttpRequest,
    state: web::Data<AppState>,
    form: FormParams,
) -> Result<HttpResponse, WebError> {
    verify_csrf(&req, &state, form.get("csrf"))?;
    let now = SystemClock.now();
    let citizen = match recent_citizen(&req, &state, now, "/account").await? {
        Ok(citizen) => citizen,
        Err(elsewhere) => return Ok(elsewhere),
    };
    let password = form.get("password").unwrap_or("");
    if form.get("password_confirm").unwrap_or("") != password {
        return account_page(
            &req,
            &state,
            &citizen,
            None,
            Some("signup_problem_mismatch"),
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    }
    match state.passwords.change_password(citizen.id, password, now).await {
        Ok(PasswordChange::Added) => Ok(see_other("/account?done=password_added")),
        Ok(PasswordChange::Replaced) => {
            // Whoever knew the old password must not keep what it obtained.
            let ended = state.oidc.revoke_citizen_grants(citizen.id, None, now).await?;
            tracing::info!(citizen_id = %citizen.id, grants = ended, "grants ended after a password change");
            Ok(see_other("/account?done=password_changed"))
        }
        Err(e) => match password_problem(&e) {
            Some(key) => account_page(&req, &state, &citizen, None, Some(key), StatusCode::UNPROCESSABLE_ENTITY).await,
            None => Err(password_failure(e)),
        },
    }
}

pub async fn password_remove_post(
    req: HttpRequest,
    state: web::Data<AppState>,
    form: FormParams,
) -> Result<HttpResponse, WebError> {
    verify_csrf(&req, &state, form.get("csrf"))?;
    let now = SystemClock.now();
    let citizen = match recent_citizen(&req, &state, now, "/account").await? {
        Ok(citizen) => citizen,
        Err(elsewhere) => return Ok(elsewhere),
    };
    match state.passwords.remove_password(citizen.id, now).await {
        Ok(()) => {
            let ended = state.oidc.revoke_citizen_grants(citizen.id, None, now).await?;
            tracing::info!(citizen_id = %citizen.id, grants = ended, "grants ended after the password was removed");
            Ok(see_other("/account?done=password_removed"))
        }
        Err(e) => match password_problem(&e) {
            Some(key) => account_page(&req, &state, &citizen, None, Some(key), StatusCode::CONFLICT).await,
            None => Err(password_failure(e)),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tessera_domain::CitizenId;

    #[test]
    fn removing_needs_a_sign_in_in_the_last_ten_minutes() {
        let at = UnixTime::from_secs(1_000_000);
        let session = SsoSession {
            sid: "s".into(),
            citizen_id: CitizenId::generate(),
            auth_time: at,
            amr: vec!["pwd".into()],
            acr: tessera_passkey::ACR_PASSWORD.into(),
            created_at: at,
            last_seen: at,
            clients: Default::default(),
            user_agent: None,
        };
        assert!(signed_in_recently(&session, at));
        assert!(signed_in_recently(&session, at.plus_secs(600)));
        assert!(!signed_in_recently(&session, at.plus_secs(601)));
    }

    #[test]
    fn times_are_shown_in_hong_kong_time() {
        assert_eq!(hong_kong_time(UnixTime::EPOCH), ("1970-01-01 08:00".to_owned(), "1970-01-01T00:00:00Z".to_owned()));
        // 2024-02-29T16:30:05Z is 2024-03-01 00:30 in Hong Kong.
        assert_eq!(
            hong_kong_time(UnixTime::from_secs(1_709_224_205)),
            ("2024-03-01 00:30".to_owned(), "2024-02-29T16:30:05Z".to_owned())
        );
    }
}
