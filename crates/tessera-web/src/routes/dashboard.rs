//! The citizen's dashboard, next to the account page: their profile, the departments
//! they share data with (receipts, withdrawal), their sessions, and their activity. Plain
//! HTML forms with CSRF tokens; nothing here needs JavaScript.
//!
//! - `GET|POST /account/profile` (changes need a sign-in in the last 10 minutes)
//! - `GET /account/sharing`, `POST /account/sharing/{client_id}/withdraw`,
//!   `GET /account/sharing/receipts/{consent_id}` (the receipt; `.json` appended: a download)
//! - `GET /account/sessions`, `POST /account/sessions/{sid}/end`, `POST /account/sessions/end-all`
//! - `GET /account/activity[?before=<event id>]`

use super::account::{hong_kong_time, recent_citizen, signed_in_citizen};
use super::authorize::{client_view, see_other};
use super::{render_status, request_locale};
use crate::cookies::{sso_cookie_removal, sso_token};
use crate::csrf::{csrf_token, verify_csrf};
use crate::errors::WebError;
use crate::form::{FormParams, query_params};
use crate::state::AppState;
use actix_web::http::StatusCode;
use actix_web::http::header::{CacheControl, CacheDirective, ContentDisposition, DispositionParam, DispositionType};
use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;
use tessera_domain::{AuditEvent, Citizen, ClientId, Clock, ConsentId, Outcome, SystemClock, UnixTime};
use tessera_oidc::claims::claim_def;
use tessera_oidc::service::ServiceError;
use tessera_passkey::{SignupError, SignupForm};
use tessera_store::audit::AuditFilter;

/// Where a visitor without a session is sent for each page: sign in, then come back.
fn sign_in_for(page: &str) -> String {
    let mut query = url::form_urlencoded::Serializer::new(String::new());
    query.append_pair("next", page);
    format!("/signin?{}", query.finish())
}

/// Events per page of the activity list.
const ACTIVITY_PAGE: u32 = 20;

/// The profile fields the citizen edits, in form order.
const PROFILE_FIELDS: [&str; 8] =
    ["name_en", "name_zh", "birthdate", "gender", "email", "phone", "residential_address", "postal_address"];

/// Renders one of the dashboard pages with the CSRF token and the signed-in username.
fn page(
    req: &HttpRequest,
    state: &AppState,
    template: &str,
    citizen: &Citizen,
    mut context: tera::Context,
    status: StatusCode,
) -> Result<HttpResponse, WebError> {
    let csrf = csrf_token(req, state)?;
    context.insert("csrf", &csrf.token);
    context.insert("username", citizen.username.as_str());
    let mut response = render_status(req, state, template, context, status)?;
    csrf.set_on(&mut response)?;
    Ok(response)
}

fn time_view(at: UnixTime) -> Value {
    let (shown, iso) = hong_kong_time(at);
    json!({ "shown": shown, "iso": iso })
}

fn notice(req: &HttpRequest, known: &[(&str, &'static str)]) -> Option<&'static str> {
    let done = query_params(req).get("done").map(str::to_owned)?;
    known.iter().find(|(k, _)| *k == done).map(|(_, v)| *v)
}

/// The registered clients among `ids` (each looked up once; unknown ones left out).
async fn clients_by_id<'a>(
    state: &AppState,
    ids: impl Iterator<Item = &'a String>,
) -> Result<BTreeMap<String, tessera_domain::Client>, WebError> {
    let mut found = BTreeMap::new();
    for raw in ids {
        if found.contains_key(raw) {
            continue;
        }
        let Ok(id) = ClientId::parse(raw) else { continue };
        let client =
            state.db.run(move |conn| tessera_store::clients::by_id(conn, &id)).await.map_err(ServiceError::from)?;
        if let Some(client) = client {
            found.insert(raw.clone(), client);
        }
    }
    Ok(found)
}

// ---- Profile ------------------------------------------------------------------------------

async fn profile_page(
    req: &HttpRequest,
    state: &AppState,
    citizen: &Citizen,
    form: Option<&FormParams>,
    errors: Map<String, Value>,
    status: StatusCode,
) -> Result<HttpResponse, WebError> {
    let Some((profile, hkid)) = state.signup.profile(citizen).await.map_err(|e| WebError::Signup(e.to_string()))?
    else {
        return Err(WebError::Signup("the citizen has no profile".into()));
    };
    let mut values = Map::new();
    match form {
        Some(form) => {
            for field in PROFILE_FIELDS {
                values.insert(field.into(), json!(form.get(field).unwrap_or_default()));
            }
        }
        None => {
            let text = |v: Option<String>| json!(v.unwrap_or_default());
            values.insert("name_en".into(), json!(profile.name_en));
            values.insert("name_zh".into(), text(profile.name_zh.clone()));
            values.insert("birthdate".into(), text(profile.birthdate.map(|b| b.to_string())));
            values.insert("gender".into(), json!(profile.gender.as_str()));
            values.insert("email".into(), text(profile.email.as_ref().map(|e| e.as_str().to_owned())));
            values.insert("phone".into(), text(profile.phone.as_ref().map(|p| p.as_str().to_owned())));
            values.insert("residential_address".into(), text(profile.residential_address.clone()));
            values.insert("postal_address".into(), text(profile.postal_address.clone()));
        }
    }
    let mut context = tera::Context::new();
    context.insert("values", &values);
    context.insert("errors", &errors);
    context.insert("hkid_masked", &hkid);
    if let Some(key) = notice(req, &[("saved", "profile_notice_saved"), ("unchanged", "profile_notice_unchanged")]) {
        context.insert("notice", key);
    }
    page(req, state, "account_profile.html", citizen, context, status)
}

pub async fn profile_get(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, WebError> {
    let Some((_, citizen)) = signed_in_citizen(&req, &state, SystemClock.now()).await? else {
        return Ok(see_other(&sign_in_for("/account/profile")));
    };
    profile_page(&req, &state, &citizen, None, Map::new(), StatusCode::OK).await
}

pub async fn profile_post(
    req: HttpRequest,
    state: web::Data<AppState>,
    form: FormParams,
) -> Result<HttpResponse, WebError> {
    verify_csrf(&req, &state, form.get("csrf"))?;
    let now = SystemClock.now();
    let citizen = match recent_citizen(&req, &state, now, "/account/profile").await? {
        Ok(citizen) => citizen,
        Err(elsewhere) => return Ok(elsewhere),
    };
    let field = |name: &str| form.get(name).map(str::to_owned);
    let edit = SignupForm {
        username: String::new(),
        password: None,
        password_confirm: None,
        name_en: field("name_en").unwrap_or_default(),
        name_zh: field("name_zh"),
        birthdate: field("birthdate"),
        gender: field("gender"),
        email: field("email"),
        phone: field("phone"),
        residential_address: field("residential_address"),
        postal_address: field("postal_address"),
        hkid: None,
    };
    match state.signup.update_profile(&citizen, edit, now).await {
        Ok(changed) if changed.is_empty() => Ok(see_other("/account/profile?done=unchanged")),
        Ok(_) => Ok(see_other("/account/profile?done=saved")),
        Err(SignupError::Invalid(problems)) => {
            let mut errors = Map::new();
            for p in problems {
                errors.entry(p.field.to_owned()).or_insert_with(|| json!(super::signin::problem_key(&p.problem)));
            }
            profile_page(&req, &state, &citizen, Some(&form), errors, StatusCode::UNPROCESSABLE_ENTITY).await
        }
        Err(e) => Err(WebError::Signup(e.to_string())),
    }
}

// ---- Data sharing -------------------------------------------------------------------------

pub async fn sharing_get(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, WebError> {
    let Some((_, citizen)) = signed_in_citizen(&req, &state, SystemClock.now()).await? else {
        return Ok(see_other(&sign_in_for("/account/sharing")));
    };
    let locale = request_locale(&req, &state);
    let shares = state.oidc.shares(citizen.id).await?;
    let views: Vec<Value> = shares
        .iter()
        .map(|share| {
            let claims: Vec<&str> = match &share.live {
                Some(live) => live.claims.iter().filter_map(|c| claim_def(c)).map(|d| d.label_key).collect(),
                None => Vec::new(),
            };
            let history: Vec<Value> = share
                .history
                .iter()
                .map(|c| {
                    json!({
                        "id": c.id.to_string(),
                        "granted": time_view(c.granted_at),
                        "ended": c.revoked_at.map(time_view),
                    })
                })
                .collect();
            json!({
                "client_id": share.client.id.as_str(),
                "client": client_view(&share.client, locale),
                "live": share.live.is_some(),
                "consent_id": share.live.as_ref().map(|c| c.id.to_string()),
                "claims": claims,
                "offline": share.live.as_ref().is_some_and(|c| c.scopes.iter().any(|s| s == "offline_access")),
                "first": time_view(share.first_shared_at),
                "last": share.last_shared_at.map(time_view),
                "history": history,
            })
        })
        .collect();
    let mut context = tera::Context::new();
    context.insert("shares", &views);
    if let Some(key) = notice(&req, &[("withdrawn", "sharing_notice_withdrawn")]) {
        context.insert("notice", key);
    }
    page(&req, &state, "account_sharing.html", &citizen, context, StatusCode::OK)
}

pub async fn withdraw_post(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
    form: FormParams,
) -> Result<HttpResponse, WebError> {
    verify_csrf(&req, &state, form.get("csrf"))?;
    let now = SystemClock.now();
    let Some((_, citizen)) = signed_in_citizen(&req, &state, now).await? else {
        return Ok(see_other(&sign_in_for("/account/sharing")));
    };
    let Ok(client_id) = ClientId::parse(&path) else {
        return Ok(see_other("/account/sharing"));
    };
    state.oidc.withdraw_consent(citizen.id, &client_id, now).await?;
    Ok(see_other("/account/sharing?done=withdrawn"))
}

/// `GET /account/sharing/receipts/{consent_id}`: the receipt as a page in the citizen's
/// language; with `.json` appended, the same receipt as a JSON download.
pub async fn receipt_get(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, WebError> {
    let Some((_, citizen)) = signed_in_citizen(&req, &state, SystemClock.now()).await? else {
        return Ok(see_other(&sign_in_for("/account/sharing")));
    };
    let (raw, json) = match path.strip_suffix(".json") {
        Some(id) => (id, true),
        None => (path.as_str(), false),
    };
    let receipt = match ConsentId::parse(raw) {
        Ok(id) => state.oidc.consent_receipt(citizen.id, id).await?,
        Err(_) => None,
    };
    let Some(receipt) = receipt else { return super::errors::not_found(req, state).await };
    if json {
        let name = format!("tessera-consent-{}.json", receipt.consent.id);
        let body = serde_json::to_string_pretty(&receipt.to_json()).map_err(|e| WebError::Render(e.to_string()))?;
        return Ok(HttpResponse::Ok()
            .content_type("application/json")
            .insert_header(CacheControl(vec![CacheDirective::NoStore]))
            .insert_header(ContentDisposition {
                disposition: DispositionType::Attachment,
                parameters: vec![DispositionParam::Filename(name)],
            })
            .body(body));
    }
    let locale = request_locale(&req, &state);
    let consent = &receipt.consent;
    let mut context = tera::Context::new();
    context.insert("receipt_id", &consent.id.to_string());
    context.insert("client", &client_view(&receipt.client, locale));
    context.insert("subject", &receipt.subject);
    context.insert("scopes", &consent.scopes);
    let claims: Vec<&str> = consent.claims.iter().filter_map(|c| claim_def(c)).map(|d| d.label_key).collect();
    context.insert("claims", &claims);
    context.insert("granted", &time_view(consent.granted_at));
    context.insert("ended", &consent.revoked_at.map(time_view));
    context.insert("last", &consent.last_shared_at.map(time_view));
    context.insert("in_force", &consent.is_live());
    page(&req, &state, "account_receipt.html", &citizen, context, StatusCode::OK)
}

// ---- Sessions -----------------------------------------------------------------------------

/// A browser's description, short: the product tokens a person recognises. `None` when
/// the browser did not say (the page then says "unknown device" in its language).
fn device_of(user_agent: Option<&str>) -> Option<String> {
    let ua = user_agent?;
    const BROWSERS: [(&str, &str); 4] =
        [("Edg/", "Edge"), ("Firefox/", "Firefox"), ("Chrome/", "Chrome"), ("Safari/", "Safari")];
    const SYSTEMS: [(&str, &str); 6] = [
        ("iPhone", "iPhone"),
        ("iPad", "iPad"),
        ("Android", "Android"),
        ("Windows", "Windows"),
        ("Mac OS X", "macOS"),
        ("Linux", "Linux"),
    ];
    let first =
        |list: &[(&str, &'static str)]| list.iter().find(|(needle, _)| ua.contains(needle)).map(|(_, name)| *name);
    let (browser, system) = (first(&BROWSERS), first(&SYSTEMS));
    match (browser, system) {
        (Some(b), Some(s)) => Some(format!("{b} · {s}")),
        (Some(b), None) => Some(b.to_owned()),
        (None, Some(s)) => Some(s.to_owned()),
        (None, None) => Some(ua.chars().take(60).collect()),
    }
}

pub async fn sessions_get(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, WebError> {
    let now = SystemClock.now();
    let Some((current, citizen)) = signed_in_citizen(&req, &state, now).await? else {
        return Ok(see_other(&sign_in_for("/account/sessions")));
    };
    let locale = request_locale(&req, &state);
    let sessions = state.oidc.sso().list(citizen.id, now).await?;
    let departments: BTreeMap<String, String> = clients_by_id(&state, sessions.iter().flat_map(|s| &s.clients))
        .await?
        .into_iter()
        .map(|(id, client)| {
            let view = client_view(&client, locale);
            (id, format!("{} · {}", view["department"].as_str().unwrap_or_default(), client.name))
        })
        .collect();
    let views: Vec<Value> = sessions
        .iter()
        .map(|s| {
            json!({
                "sid": s.sid,
                "current": s.sid == current.sid,
                "device": device_of(s.user_agent.as_deref()),
                "signed_in": time_view(s.auth_time),
                "last_seen": time_view(s.last_seen),
                "passkey": s.acr == tessera_passkey::ACR_PASSKEY,
                "departments": s.clients.iter().filter_map(|c| departments.get(c)).collect::<Vec<_>>(),
            })
        })
        .collect();
    let mut context = tera::Context::new();
    context.insert("sessions", &views);
    if let Some(key) = notice(&req, &[("ended", "sessions_notice_ended")]) {
        context.insert("notice", key);
    }
    page(&req, &state, "account_sessions.html", &citizen, context, StatusCode::OK)
}

pub async fn session_end_post(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
    form: FormParams,
) -> Result<HttpResponse, WebError> {
    verify_csrf(&req, &state, form.get("csrf"))?;
    let now = SystemClock.now();
    let Some((current, citizen)) = signed_in_citizen(&req, &state, now).await? else {
        return Ok(see_other(&sign_in_for("/account/sessions")));
    };
    if path.len() <= 64 {
        state.oidc.end_citizen_session(citizen.id, &path, now).await?;
    }
    if *path == current.sid {
        return signed_out(&req, &state);
    }
    Ok(see_other("/account/sessions?done=ended"))
}

pub async fn sessions_end_all_post(
    req: HttpRequest,
    state: web::Data<AppState>,
    form: FormParams,
) -> Result<HttpResponse, WebError> {
    verify_csrf(&req, &state, form.get("csrf"))?;
    let now = SystemClock.now();
    let Some((_, citizen)) = signed_in_citizen(&req, &state, now).await? else {
        return Ok(see_other(&sign_in_for("/account/sessions")));
    };
    state.oidc.end_all_citizen_sessions(citizen.id, now).await?;
    signed_out(&req, &state)
}

/// The signed-out page, with the session cookie removed.
fn signed_out(req: &HttpRequest, state: &AppState) -> Result<HttpResponse, WebError> {
    let mut response = render_status(req, state, "signed_out.html", tera::Context::new(), StatusCode::OK)?;
    if sso_token(req, state).is_some() {
        crate::cookies::set_cookie(&mut response, &sso_cookie_removal(state))?;
    }
    Ok(response)
}

// ---- Activity -----------------------------------------------------------------------------

/// The catalog key of an event kind on the activity page (`activity_kind_signin_password`).
fn kind_key(event: &AuditEvent) -> String {
    format!("activity_kind_{}", event.kind.as_str().replace('.', "_"))
}

pub async fn activity_get(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, WebError> {
    let Some((_, citizen)) = signed_in_citizen(&req, &state, SystemClock.now()).await? else {
        return Ok(see_other(&sign_in_for("/account/activity")));
    };
    let locale = request_locale(&req, &state);
    let before_id = query_params(&req).get("before").and_then(|b| b.parse::<i64>().ok()).filter(|b| *b > 0);
    let filter = AuditFilter {
        actor: Some(citizen.id.to_string()),
        before_id,
        // One more than a page: whether there is a next page.
        limit: ACTIVITY_PAGE + 1,
        ..AuditFilter::default()
    };
    let mut events =
        state.db.run(move |conn| tessera_store::audit::list(conn, &filter)).await.map_err(ServiceError::from)?;
    let more = events.len() > ACTIVITY_PAGE as usize;
    events.truncate(ACTIVITY_PAGE as usize);
    let departments: BTreeMap<String, String> =
        clients_by_id(&state, events.iter().filter_map(|e| e.client_id.as_ref()))
            .await?
            .into_iter()
            .map(|(id, client)| {
                (id, client_view(&client, locale)["department"].as_str().unwrap_or_default().to_owned())
            })
            .collect();
    let catalogs = state.pages.catalogs();
    let views: Vec<Value> = events
        .iter()
        .map(|e| {
            let key = kind_key(e);
            let known = catalogs.get(locale).contains_key(&key);
            json!({
                "label_key": if known { key } else { "activity_kind_other".to_owned() },
                "kind": e.kind.as_str(),
                "at": time_view(e.at),
                "failed": e.outcome == Outcome::Failure,
                "department": e.client_id.as_ref().and_then(|c| departments.get(c)),
            })
        })
        .collect();
    let mut context = tera::Context::new();
    context.insert("events", &views);
    if more && let Some(last) = events.last().and_then(|e| e.id) {
        context.insert("next_page", &format!("/account/activity?before={last}"));
    }
    if before_id.is_some() {
        context.insert("first_page", "/account/activity");
    }
    page(&req, &state, "account_activity.html", &citizen, context, StatusCode::OK)
}

#[cfg(test)]
mod tests {
    use super::device_of;

    #[test]
    fn devices_are_named_by_browser_and_system() {
        let android = "Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 Chrome/120.0 Mobile Safari/537.36";
        assert_eq!(device_of(Some(android)).as_deref(), Some("Chrome · Android"));
        let edge = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/120.0 Safari/537.36 Edg/120.0";
        assert_eq!(device_of(Some(edge)).as_deref(), Some("Edge · Windows"));
        assert_eq!(device_of(Some("curl/8.0")).as_deref(), Some("curl/8.0"));
        assert_eq!(device_of(None), None, "the page says it does not know, in its language");
    }
}
