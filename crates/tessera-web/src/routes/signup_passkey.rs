//! Passkey-only sign-up, the default path: the profile form is posted as plain HTML
//! (`method=passkey`), the account is stored disabled and bound to a registration
//! ceremony, and the page that follows creates the passkey (JavaScript); finishing the
//! ceremony makes the account live and signs the citizen in.

use super::authorize::see_other;
use super::passkey::{Refusal, refusal_of};
use super::render_status;
use super::signin::{next_location, open_session};
use crate::csrf::CSRF_COOKIE;
use crate::errors::WebError;
use crate::form::query_params;
use crate::state::AppState;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::time::Duration;
use tessera_domain::{CitizenId, Clock, SystemClock};
use tessera_oidc::service::ServiceError;
use tessera_passkey::{AMR_DEVICE_BOUND_PASSKEY, AMR_SYNCED_PASSKEY, CEREMONY_TTL, SignedIn};
use tessera_session::SessionStore;

fn pending_key(ceremony: &str) -> String {
    format!("signup-passkey:{ceremony}")
}

/// What a sign-up ceremony is bound to, in the session store for the ceremony's lifetime:
/// the new (still disabled) account, the options the page hands to the browser, and the
/// CSRF token of the browser that posted the profile. Only that browser may show the page
/// or finish the ceremony, so a leaked page address is worth nothing.
#[derive(Debug, Serialize, Deserialize)]
struct Binding {
    citizen: CitizenId,
    options: Value,
    csrf: String,
    /// Where to go once signed in (an operator's enrolment goes to `/admin`).
    #[serde(default)]
    next: Option<String>,
    /// The operator's enrolment link this sign-up uses; marked used when the passkey exists.
    #[serde(default)]
    enrolment: Option<[u8; 32]>,
}

/// What a sign-up ceremony leads to besides the new account.
#[derive(Debug, Default, Clone, Copy)]
pub struct Then<'a> {
    /// The pending authorization to continue.
    pub authz: Option<&'a str>,
    /// A page of Tessera to go to (one of the sign-in page's return pages).
    pub next: Option<&'static str>,
    /// An operator's enrolment link (its token's digest).
    pub enrolment: Option<[u8; 32]>,
}

/// The browser's CSRF cookie equals the one the ceremony was bound to (constant time).
fn same_browser(req: &HttpRequest, state: &AppState, binding: &Binding) -> bool {
    req.cookie(&state.settings.cookie_name(CSRF_COOKIE))
        .is_some_and(|c| tessera_crypto::constant_time_eq(c.value().as_bytes(), binding.csrf.as_bytes()))
}

async fn binding(state: &AppState, ceremony: &str, take: bool) -> Result<Option<Binding>, Refusal> {
    if ceremony.len() > 64 {
        return Ok(None);
    }
    let key = pending_key(ceremony);
    let found = if take { state.sessions.take(&key).await } else { state.sessions.get(&key).await };
    let found = found.map_err(|_| Refusal::UNAVAILABLE)?;
    Ok(found.and_then(|bytes| serde_json::from_slice(&bytes).ok()))
}

/// After the profile was accepted: start the ceremony, bind it to this browser, and send
/// the browser (303) to the "create your passkey" page. That page has its own address, so
/// reloading it or switching its language keeps the sign-up going.
pub async fn begin(
    state: &AppState,
    citizen: tessera_domain::Citizen,
    then: Then<'_>,
    csrf: &str,
) -> Result<HttpResponse, WebError> {
    let authz = then.authz;
    let now = SystemClock.now();
    let ceremony = state
        .passkeys
        .start_registration(&citizen, citizen.username.as_str(), now)
        .await
        .map_err(|e| WebError::Passkey(e.to_string()))?;
    let ttl = Duration::from_secs(CEREMONY_TTL.as_secs());
    let binding = Binding {
        citizen: citizen.id,
        options: ceremony.options,
        csrf: csrf.to_owned(),
        next: then.next.map(str::to_owned),
        enrolment: then.enrolment,
    };
    let bytes = serde_json::to_vec(&binding).map_err(|e| WebError::Render(e.to_string()))?;
    state.sessions.put(&pending_key(&ceremony.id), &bytes, ttl).await.map_err(|e| WebError::Render(e.to_string()))?;
    let mut query = url::form_urlencoded::Serializer::new(String::new());
    query.append_pair("ceremony", &ceremony.id);
    if let Some(authz) = authz {
        query.append_pair("authz", authz);
    }
    Ok(see_other(&format!("/signup/passkey?{}", query.finish())))
}

/// `GET /signup/passkey?ceremony=..[&authz=..]`: the "create your passkey" page, for the
/// browser that posted the profile; an expired or foreign ceremony says to start again.
pub async fn page_get(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, WebError> {
    let query = query_params(&req);
    let ceremony = query.get("ceremony").unwrap_or_default();
    let authz = query.get("authz").filter(|a| super::signin::valid_authz(a));
    let found = binding(&state, ceremony, false).await.map_err(|_| WebError::Render("session store".into()))?;
    let mut context = tera::Context::new();
    if let Some(authz) = authz {
        context.insert("authz", authz);
    }
    let live = found.filter(|b| same_browser(&req, &state, b));
    let Some(binding) = live else {
        let signup_url = match authz {
            Some(a) => format!("/signup?authz={a}"),
            None => "/signup".to_owned(),
        };
        context.insert("expired", &true);
        context.insert("signup_url", &signup_url);
        return render_status(&req, &state, "signup_passkey.html", context, StatusCode::NOT_FOUND);
    };
    let id = binding.citizen;
    let citizen =
        state.db.run(move |conn| tessera_store::citizens::by_id(conn, id)).await.map_err(ServiceError::from)?;
    let Some(citizen) = citizen else { return Err(WebError::Render("the new account is gone".into())) };
    context.insert("csrf", &binding.csrf);
    context.insert("ceremony", ceremony);
    context.insert("options", &binding.options.to_string());
    context.insert("username", citizen.username.as_str());
    render_status(&req, &state, "signup_passkey.html", context, StatusCode::OK)
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
    let result: Result<HttpResponse, Refusal> = async {
        let finish: Finish = super::passkey::parse(&req, &state, &body)?;
        // Single use: the binding of ceremony to new account is taken, never read twice,
        // and only by the browser that posted the profile.
        let bound = binding(&state, &finish.ceremony, true).await?;
        let bound =
            bound.filter(|b| same_browser(&req, &state, b)).ok_or(Refusal::new(StatusCode::BAD_REQUEST, "expired"))?;
        let citizen_id = bound.citizen;
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
        // An operator's enrolment link works once: the account goes live only if this
        // attempt is the one that used it.
        if let Some(digest) = bound.enrolment {
            let used = tessera_passkey::enrolment::complete(&state.db, digest, citizen_id, now).await.map_err(|e| {
                tracing::error!(code = "passkey.enrolment", error = %e, "could not use an enrolment link");
                Refusal::UNAVAILABLE
            })?;
            if !used {
                return Err(Refusal::new(StatusCode::BAD_REQUEST, "expired"));
            }
        }
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
            .json(json!({ "redirect": next_location(authz, bound.next.as_deref(), "/account") }));
        response.add_cookie(&cookie).map_err(|_| Refusal::UNAVAILABLE)?;
        Ok(response)
    }
    .await;
    match result {
        Ok(response) => response,
        Err(refusal) => refusal.respond(&req, &state),
    }
}
