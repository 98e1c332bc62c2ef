//! Passkey-only sign-up, the default path: the profile form is posted as plain HTML
//! (`method=passkey`), the account is stored disabled and bound to a registration
//! ceremony, and the page that follows creates the passkey (JavaScript); finishing the
//! ceremony makes the account live and signs the citizen in.

use super::passkey::{Refusal, refusal_of};
use super::render_page;
use super::signin::{next_location, open_session};
use crate::errors::WebError;
use crate::state::AppState;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;
use serde_json::{Value, json};
use std::time::Duration;
use tessera_domain::{CitizenId, Clock, SystemClock};
use tessera_passkey::{AMR_DEVICE_BOUND_PASSKEY, AMR_SYNCED_PASSKEY, CEREMONY_TTL, SignedIn};
use tessera_session::SessionStore;

fn pending_key(ceremony: &str) -> String {
    format!("signup-passkey:{ceremony}")
}

/// After the profile was accepted: start the ceremony and show the "create your passkey" page.
pub async fn begin(
    req: &HttpRequest,
    state: &AppState,
    citizen: tessera_domain::Citizen,
    authz: Option<&str>,
    csrf: &str,
) -> Result<HttpResponse, WebError> {
    let now = SystemClock.now();
    let ceremony = state
        .passkeys
        .start_registration(&citizen, citizen.username.as_str(), now)
        .await
        .map_err(|e| WebError::Passkey(e.to_string()))?;
    let ttl = Duration::from_secs(CEREMONY_TTL.as_secs());
    state
        .sessions
        .put(&pending_key(&ceremony.id), citizen.id.to_string().as_bytes(), ttl)
        .await
        .map_err(|e| WebError::Render(e.to_string()))?;
    let mut context = tera::Context::new();
    context.insert("csrf", csrf);
    context.insert("ceremony", &ceremony.id);
    context.insert("options", &ceremony.options.to_string());
    context.insert("username", citizen.username.as_str());
    if let Some(authz) = authz {
        context.insert("authz", authz);
    }
    render_page(req, state, "signup_passkey.html", context)
}

#[derive(Debug, Deserialize)]
struct Finish {
    ceremony: String,
    credential: Value,
    #[serde(default)]
    authz: Option<String>,
}

/// `POST /signup/passkey/finish` (JSON, CSRF header): the first passkey of a new account.
pub async fn finish_post(req: HttpRequest, state: web::Data<AppState>, body: web::Bytes) -> HttpResponse {
    let result = async {
        let finish: Finish = super::passkey::parse(&req, &state, &body)?;
        if finish.ceremony.len() > 64 {
            return Err(Refusal::new(StatusCode::BAD_REQUEST, "expired"));
        }
        // Single use: the binding of ceremony to new account is taken, never read twice.
        let bound = state.sessions.take(&pending_key(&finish.ceremony)).await.map_err(|_| Refusal::UNAVAILABLE)?;
        let citizen_id = bound
            .and_then(|b| String::from_utf8(b).ok())
            .and_then(|s| CitizenId::parse(&s).ok())
            .ok_or(Refusal::new(StatusCode::BAD_REQUEST, "expired"))?;
        let now = SystemClock.now();
        let passkey = state
            .passkeys
            .finish_registration(&finish.ceremony, citizen_id, &finish.credential, None, now)
            .await
            .map_err(|e| refusal_of(&e))?;
        let citizen = state
            .db
            .run(move |conn| tessera_store::citizens::by_id(conn, citizen_id))
            .await
            .map_err(|_| Refusal::UNAVAILABLE)?
            .ok_or(Refusal::UNAVAILABLE)?;
        state.signup.complete_passkey_signup(&citizen, now).await.map_err(|e| {
            tracing::error!(code = "passkey.signup", error = %e, "could not complete a passkey sign-up");
            Refusal::UNAVAILABLE
        })?;
        // The ceremony itself proved possession and user verification (RFC 8176).
        let amr = if passkey.backup_eligible { AMR_SYNCED_PASSKEY } else { AMR_DEVICE_BOUND_PASSKEY };
        let amr = amr.iter().map(|m| (*m).to_owned()).collect();
        let signed_in = SignedIn { citizen_id, amr, acr: tessera_passkey::ACR_PASSKEY.into() };
        let authz = finish.authz.as_deref();
        let cookie = open_session(&req, &state, signed_in, authz, now).await.map_err(|e| {
            tracing::error!(code = e.code(), error = %e, "could not start the session after a passkey sign-up");
            Refusal::UNAVAILABLE
        })?;
        let mut response = HttpResponse::Ok()
            .insert_header((actix_web::http::header::CACHE_CONTROL, "no-store"))
            .json(json!({ "redirect": next_location(authz, None, "/account") }));
        response.add_cookie(&cookie).map_err(|_| Refusal::UNAVAILABLE)?;
        Ok(response)
    }
    .await;
    match result {
        Ok(response) => response,
        Err(refusal) => refusal.respond(&req, &state),
    }
}
