//! The audit log (filter by type, actor, client and time; paginated) and the signing keys
//! (list; rotate, as `tessera keys rotate` does).

use super::{admin_page, operator_of};
use crate::csrf::verify_csrf;
use crate::errors::WebError;
use crate::form::{FormParams, query_params};
use crate::routes::account::hong_kong_time;
use crate::routes::authorize::see_other;
use crate::state::AppState;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use tessera_domain::{AuditEvent, AuditKind, Birthdate, CitizenId, Clock, Outcome, SystemClock, UnixTime, Username};
use tessera_oidc::service::ServiceError;
use tessera_store::audit::AuditFilter;

/// Events per page of the audit log.
const PAGE: u32 = 50;

/// Midnight (Hong Kong time) at the start of a `YYYY-MM-DD` date.
fn hong_kong_midnight(date: &str) -> Option<UnixTime> {
    let date: Birthdate = date.parse().ok()?;
    Some(UnixTime::from_civil_date(i64::from(date.year()), u32::from(date.month()), u32::from(date.day()), 8 * 3600))
}

/// The audit detail as shown: JSON, with anything that looks like a secret removed (the
/// log never holds one; this is a second line of defence).
fn shown_detail(detail: &str) -> String {
    let Ok(mut value) = serde_json::from_str::<Value>(detail) else { return String::new() };
    fn scrub(value: &mut Value) {
        match value {
            Value::Object(map) => {
                for (key, v) in map.iter_mut() {
                    let k = key.to_ascii_lowercase();
                    if ["secret", "token", "password", "hkid", "digest", "code"].iter().any(|s| k.contains(s)) {
                        *v = json!("[hidden]");
                    } else {
                        scrub(v);
                    }
                }
            }
            Value::Array(items) => items.iter_mut().for_each(scrub),
            _ => {}
        }
    }
    scrub(&mut value);
    if value.as_object().is_some_and(serde_json::Map::is_empty) {
        return String::new();
    }
    serde_json::to_string_pretty(&value).unwrap_or_default()
}

pub async fn audit_get(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, WebError> {
    let operator = operator_of(&req)?;
    let query = query_params(&req);
    let field = |name: &str| query.get(name).map(str::trim).filter(|v| !v.is_empty()).map(str::to_owned);
    let mut problems = Vec::new();
    let kind = match field("kind") {
        Some(k) => match AuditKind::parse(&k) {
            Ok(kind) => Some(kind),
            Err(_) => {
                problems.push("admin_audit_bad_kind");
                None
            }
        },
        None => None,
    };
    // The actor may be typed as a username; the log stores ids.
    let actor = match field("actor") {
        Some(a) if CitizenId::parse(&a).is_ok() || a == "cli" => Some(a),
        Some(a) => match Username::parse(&a) {
            Ok(name) => state
                .db
                .run(move |conn| tessera_store::citizens::by_username(conn, &name))
                .await
                .map_err(ServiceError::from)?
                .map(|c| c.id.to_string())
                .or(Some(format!("unknown:{a}"))),
            Err(_) => {
                problems.push("admin_audit_bad_actor");
                None
            }
        },
        None => None,
    };
    let since = field("since").map(|d| hong_kong_midnight(&d).ok_or(()));
    let until = field("until").map(|d| hong_kong_midnight(&d).map(|t| t.plus_secs(86_400)).ok_or(()));
    if since.as_ref().is_some_and(Result::is_err) || until.as_ref().is_some_and(Result::is_err) {
        problems.push("admin_audit_bad_date");
    }
    let before_id = query.get("before").and_then(|b| b.parse::<i64>().ok()).filter(|b| *b > 0);
    let filter = AuditFilter {
        kind,
        actor,
        client_id: field("client"),
        since: since.and_then(Result::ok),
        until: until.and_then(Result::ok),
        limit: PAGE + 1,
        before_id,
    };
    let mut events =
        state.db.run(move |conn| tessera_store::audit::list(conn, &filter)).await.map_err(ServiceError::from)?;
    let more = events.len() > PAGE as usize;
    events.truncate(PAGE as usize);
    let mut names: BTreeMap<String, String> = BTreeMap::new();
    for event in &events {
        if let Some(actor) = &event.actor
            && !names.contains_key(actor)
            && let Ok(id) = CitizenId::parse(actor)
        {
            let found =
                state.db.run(move |conn| tessera_store::citizens::by_id(conn, id)).await.map_err(ServiceError::from)?;
            if let Some(citizen) = found {
                names.insert(actor.clone(), citizen.username.as_str().to_owned());
            }
        }
    }
    let views: Vec<Value> = events.iter().map(|e| event_view(e, &names)).collect();
    let mut context = tera::Context::new();
    context.insert("events", &views);
    context.insert("kinds", &AuditKind::KNOWN.iter().map(AuditKind::as_str).collect::<Vec<_>>());
    let mut filters = serde_json::Map::new();
    for name in ["kind", "actor", "client", "since", "until"] {
        filters.insert(name.into(), json!(query.get(name).unwrap_or_default()));
    }
    context.insert("filters", &filters);
    context.insert("problems", &problems);
    if more && let Some(last) = events.last().and_then(|e| e.id) {
        let mut next = url::form_urlencoded::Serializer::new(String::new());
        for name in ["kind", "actor", "client", "since", "until"] {
            if let Some(v) = query.get(name).filter(|v| !v.is_empty()) {
                next.append_pair(name, v);
            }
        }
        next.append_pair("before", &last.to_string());
        context.insert("next_page", &format!("/admin/audit?{}", next.finish()));
    }
    admin_page(&req, &state, &operator, "admin_audit.html", "/admin/audit", context, StatusCode::OK)
}

fn event_view(event: &AuditEvent, names: &BTreeMap<String, String>) -> Value {
    let (at, iso) = hong_kong_time(event.at);
    let actor = event.actor.as_ref().map(|a| names.get(a).cloned().unwrap_or_else(|| a.clone()));
    json!({
        "id": event.id,
        "at": at,
        "at_iso": iso,
        "kind": event.kind.as_str(),
        "actor": actor,
        "client": event.client_id,
        "ip": event.ip,
        "failed": event.outcome == Outcome::Failure,
        "detail": shown_detail(&event.detail),
    })
}

pub async fn keys_get(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, WebError> {
    let operator = operator_of(&req)?;
    let keys = state.keys.list().await?;
    let views: Vec<Value> = keys
        .iter()
        .rev()
        .map(|k| {
            let shown = |t: Option<UnixTime>| t.map(|t| hong_kong_time(t).0);
            json!({
                "kid": k.kid.as_str(),
                "alg": k.alg,
                "state": k.state.as_str(),
                "created": hong_kong_time(k.created_at).0,
                "activated": shown(k.activated_at),
                "retired": shown(k.retired_at),
            })
        })
        .collect();
    let mut context = tera::Context::new();
    context.insert("keys", &views);
    if query_params(&req).get("done") == Some("rotated") {
        context.insert("notice", "admin_notice_rotated");
    }
    admin_page(&req, &state, &operator, "admin_keys.html", "/admin/keys", context, StatusCode::OK)
}

pub async fn rotate_post(
    req: HttpRequest,
    state: web::Data<AppState>,
    form: FormParams,
) -> Result<HttpResponse, WebError> {
    verify_csrf(&req, &state, form.get("csrf"))?;
    let operator = operator_of(&req)?;
    let now = SystemClock.now();
    let rotations = state.keys.rotate(now).await?;
    let detail = json!({
        "rotations": rotations.iter().map(|r| json!({ "alg": r.alg.as_str(), "active": r.active, "next": r.next })).collect::<Vec<_>>(),
    });
    let event = AuditEvent {
        actor: Some(operator.id().to_string()),
        detail: detail.to_string(),
        ..AuditEvent::new(AuditKind::KEY_ROTATED, now)
    };
    state.db.run(move |conn| tessera_store::audit::append(conn, &event)).await.map_err(ServiceError::from)?;
    Ok(see_other("/admin/keys?done=rotated"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_hong_kong_midnights() {
        assert_eq!(hong_kong_midnight("1970-01-02"), Some(UnixTime::from_secs(86_400 - 8 * 3600)));
        assert_eq!(hong_kong_midnight("2024-03-01").map(|t| t.civil(8 * 3600)), Some((2024, 3, 1, 0, 0, 0)));
        assert_eq!(hong_kong_midnight("2024-02-30"), None);
        assert_eq!(hong_kong_midnight("yesterday"), None);
    }

    #[test]
    fn secrets_never_show_in_details() {
        let shown = shown_detail(r#"{"client_secret":"abc","nested":{"refresh_token":"x"},"name":"ok"}"#);
        assert!(!shown.contains("abc") && !shown.contains("\"x\""), "{shown}");
        assert!(shown.contains("ok"));
        assert_eq!(shown_detail("{}"), "");
    }
}
