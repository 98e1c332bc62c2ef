//! Page rendering: tera templates embedded in the binary, with the request's
//! message catalog in scope as `t`.
//!
//! ## The catalog is not copied per page
//! tera turns everything put into a [`Context`] into a `serde_json::Value`, so inserting a
//! locale's catalog (about 420 messages) on every render cost more than rendering the
//! template itself (docs/performance.md). [`Pages`] therefore keeps spare contexts that hold
//! only `t`, one pool per locale: a render takes one, adds the page's values, renders, removes
//! exactly the keys it added, and gives it back. A page's values can thus never reach another
//! page; a page that tries to set `t` itself is refused.

use std::sync::Mutex;

use crate::i18n::{Catalogs, Locale};
use serde_json::Value;
use tera::{Context, Tera};

/// Spare contexts kept per locale: enough for every worker thread rendering at once.
const SPARE_CONTEXTS: usize = 32;

/// The keys [`Pages::render`] adds to every page besides `t`.
const COMMON_KEYS: [&str; 3] = ["locale", "other_locale", "current_path_encoded"];

/// The templates, from the repository's `templates/` folder, compiled into the binary so
/// `tessera` runs from any directory.
const TEMPLATES: &[(&str, &str)] = &[
    ("base.html", include_str!("../../../templates/base.html")),
    ("home.html", include_str!("../../../templates/home.html")),
    ("error.html", include_str!("../../../templates/error.html")),
    ("signin.html", include_str!("../../../templates/signin.html")),
    ("signup.html", include_str!("../../../templates/signup.html")),
    ("signup_passkey.html", include_str!("../../../templates/signup_passkey.html")),
    ("consent.html", include_str!("../../../templates/consent.html")),
    ("end_session.html", include_str!("../../../templates/end_session.html")),
    ("signed_out.html", include_str!("../../../templates/signed_out.html")),
    ("passkey_messages.html", include_str!("../../../templates/passkey_messages.html")),
    ("account.html", include_str!("../../../templates/account.html")),
    ("account_nav.html", include_str!("../../../templates/account_nav.html")),
    ("account_profile.html", include_str!("../../../templates/account_profile.html")),
    ("account_sharing.html", include_str!("../../../templates/account_sharing.html")),
    ("account_sessions.html", include_str!("../../../templates/account_sessions.html")),
    ("account_receipt.html", include_str!("../../../templates/account_receipt.html")),
    ("account_activity.html", include_str!("../../../templates/account_activity.html")),
    ("forms.html", include_str!("../../../templates/forms.html")),
    ("admin_nav.html", include_str!("../../../templates/admin_nav.html")),
    ("admin_overview.html", include_str!("../../../templates/admin_overview.html")),
    ("admin_clients.html", include_str!("../../../templates/admin_clients.html")),
    ("admin_client_form.html", include_str!("../../../templates/admin_client_form.html")),
    ("admin_client_new.html", include_str!("../../../templates/admin_client_new.html")),
    ("admin_client_created.html", include_str!("../../../templates/admin_client_created.html")),
    ("admin_client.html", include_str!("../../../templates/admin_client.html")),
    ("admin_change_rows.html", include_str!("../../../templates/admin_change_rows.html")),
    ("admin_approvals.html", include_str!("../../../templates/admin_approvals.html")),
    ("admin_audit.html", include_str!("../../../templates/admin_audit.html")),
    ("admin_keys.html", include_str!("../../../templates/admin_keys.html")),
    ("admin_operators.html", include_str!("../../../templates/admin_operators.html")),
    ("enrol.html", include_str!("../../../templates/enrol.html")),
];

#[derive(Debug, thiserror::Error)]
pub enum PagesError {
    #[error("templates do not compile: {0}")]
    Templates(String),
    #[error(transparent)]
    Catalog(#[from] crate::i18n::CatalogError),
}

/// Templates and catalogs, built once at start.
#[derive(Debug)]
pub struct Pages {
    tera: Tera,
    catalogs: Catalogs,
    /// Per locale (in [`Locale::ALL`] order), contexts holding only `t`.
    spare: [Mutex<Vec<Context>>; 2],
}

impl Pages {
    pub fn load() -> Result<Pages, PagesError> {
        let mut tera = Tera::default();
        tera.add_raw_templates(TEMPLATES.iter().copied()).map_err(|e| PagesError::Templates(error_chain(&e)))?;
        tera.autoescape_on(vec![".html"]);
        Ok(Pages { tera, catalogs: Catalogs::load()?, spare: [Mutex::default(), Mutex::default()] })
    }

    pub fn catalogs(&self) -> &Catalogs {
        &self.catalogs
    }

    /// Renders `template` in `locale`. `path` is the request path (for the language
    /// switch to return to); `context` holds the page's own values, which may not include
    /// `t` or the keys of `COMMON_KEYS`.
    pub fn render(&self, template: &str, locale: Locale, path: &str, context: Context) -> Result<String, tera::Error> {
        let Value::Object(page) = context.into_json() else {
            return Err(tera::Error::msg("a page context is not an object"));
        };
        if let Some(key) = page.keys().find(|k| *k == "t" || COMMON_KEYS.contains(&k.as_str())) {
            return Err(tera::Error::msg(format!("a page may not set `{key}`")));
        }
        let keys: Vec<String> = page.keys().cloned().collect();
        let mut full = self.take_spare(locale);
        full.extend(Context::from_value(Value::Object(page))?);
        full.insert("locale", locale.tag());
        full.insert("other_locale", locale.other().tag());
        // For the language switch's `return=` parameter (tera's urlencode filter is not built in).
        let encoded: String = url::form_urlencoded::byte_serialize(path.as_bytes()).collect();
        full.insert("current_path_encoded", &encoded);

        let rendered = self.tera.render(template, &full);

        for key in keys.iter().map(String::as_str).chain(COMMON_KEYS) {
            full.remove(key);
        }
        self.give_back(locale, full);
        rendered
    }

    fn pool(&self, locale: Locale) -> &Mutex<Vec<Context>> {
        match locale {
            Locale::En => &self.spare[0],
            Locale::ZhHk => &self.spare[1],
        }
    }

    /// A context holding only `locale`'s catalog as `t`.
    fn take_spare(&self, locale: Locale) -> Context {
        if let Some(context) = self.pool(locale).lock().ok().and_then(|mut spare| spare.pop()) {
            return context;
        }
        let mut context = Context::new();
        context.insert("t", self.catalogs.get(locale));
        context
    }

    fn give_back(&self, locale: Locale, context: Context) {
        if let Ok(mut spare) = self.pool(locale).lock()
            && spare.len() < SPARE_CONTEXTS
        {
            spare.push(context);
        }
    }
}

/// A tera error with its causes on one line (tera hides the useful part in `source`).
pub fn error_chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        out.push_str(": ");
        out.push_str(&cause.to_string());
        source = cause.source();
    }
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::panic)]
    use super::*;

    use serde_json::json;

    /// Sample contexts for one template, together covering every branch of it.
    fn samples(name: &str) -> Vec<Context> {
        let ctx = |value: serde_json::Value| Context::from_value(value).unwrap();
        let client = json!({"department": "Transport Department", "name": "Driving licence renewal"});
        match name {
            "base.html" | "home.html" | "signed_out.html" => vec![Context::new()],
            // A fragment: rendered inside signin.html and account.html.
            "passkey_messages.html" => vec![],
            "account.html" => vec![
                ctx(json!({"csrf": "c", "username": "chan", "passkeys": []})),
                ctx(json!({"csrf": "c", "username": "chan", "notice": "account_notice_added", "passkeys": [
                    {"id": "p1", "name": "My phone", "created": "2025-03-01 17:30", "created_iso": "2025-03-01T09:30:00Z",
                     "last_used": "2025-03-02 08:00", "last_used_iso": "2025-03-02T00:00:00Z", "backed_up": true},
                    {"id": "p2", "name": "YubiKey", "created": "2025-03-01 17:31", "created_iso": "2025-03-01T09:31:00Z",
                     "last_used": null, "last_used_iso": null, "backed_up": false},
                ]})),
                ctx(json!({"csrf": "c", "username": "chan", "problem": "account_error_last_credential", "passkeys": [
                    {"id": "p1", "name": "My phone", "created": "2025-03-01 17:30", "created_iso": "2025-03-01T09:30:00Z",
                     "last_used": null, "last_used_iso": null, "backed_up": false},
                ]})),
                ctx(
                    json!({"csrf": "c", "username": "chan", "problem": "no_such_key", "notice": "no_such_key", "passkeys": []}),
                ),
            ],
            // Fragments: the dashboard's navigation, and the form-field macro.
            "account_nav.html" | "forms.html" => vec![],
            "account_profile.html" => vec![
                ctx(
                    json!({"csrf": "c", "username": "chan", "errors": {}, "hkid_masked": "A123***(*)", "notice": "profile_notice_saved",
                    "values": {"name_en": "CHAN, Tai Man", "name_zh": "陳大文", "birthdate": "1980-02-29", "gender": "male",
                        "email": "chan@example.hk", "phone": "+85291234567", "residential_address": "1 Queen's Road", "postal_address": ""}}),
                ),
                ctx(json!({"csrf": "c", "username": "chan", "hkid_masked": null, "values": {"name_en": ""},
                    "errors": {"name_en": "signup_problem_required", "email": "signup_problem_invalid", "gender": "signup_problem_invalid"}})),
            ],
            "account_sharing.html" => vec![
                ctx(json!({"csrf": "c", "username": "chan", "shares": []})),
                ctx(json!({"csrf": "c", "username": "chan", "notice": "sharing_notice_withdrawn", "shares": [
                    {"client_id": "td", "client": client, "live": true, "consent_id": "k1", "claims": ["claim_name", "claim_email"],
                     "offline": true, "first": {"shown": "2025-03-01 17:30", "iso": "2025-03-01T09:30:00Z"},
                     "last": {"shown": "2025-03-02 08:00", "iso": "2025-03-02T00:00:00Z"},
                     "history": [{"id": "k1", "granted": {"shown": "2025-03-01 17:30", "iso": "x"}, "ended": null}]},
                    {"client_id": "hd", "client": client, "live": false, "consent_id": null, "claims": [], "offline": false,
                     "first": {"shown": "2025-03-01 17:30", "iso": "x"}, "last": null,
                     "history": [{"id": "k0", "granted": {"shown": "2025-03-01 17:30", "iso": "x"}, "ended": {"shown": "2025-03-05 10:00", "iso": "y"}}]},
                ]})),
                ctx(json!({"csrf": "c", "username": "chan", "shares": [
                    {"client_id": "td", "client": client, "live": true, "consent_id": "k1", "claims": [], "offline": false,
                     "first": {"shown": "s", "iso": "x"}, "last": null, "history": []}]})),
            ],
            "account_receipt.html" => vec![
                ctx(json!({"csrf": "c", "username": "chan", "receipt_id": "k1", "client": client, "subject": "sub-1",
                    "scopes": ["openid", "email"], "claims": ["claim_email"], "granted": {"shown": "a", "iso": "b"},
                    "ended": null, "last": {"shown": "a", "iso": "b"}, "in_force": true})),
                ctx(json!({"csrf": "c", "username": "chan", "receipt_id": "k0", "client": client, "subject": "sub-1",
                    "scopes": ["openid"], "claims": [], "granted": {"shown": "a", "iso": "b"},
                    "ended": {"shown": "c", "iso": "d"}, "last": null, "in_force": false})),
            ],
            "account_sessions.html" => {
                vec![ctx(json!({"csrf": "c", "username": "chan", "notice": "sessions_notice_ended", "sessions": [
                    {"sid": "s1", "current": true, "device": "Chrome · Android", "signed_in": {"shown": "a", "iso": "b"},
                     "last_seen": {"shown": "a", "iso": "b"}, "passkey": true, "departments": ["Transport Department · Licensing"]},
                    {"sid": "s2", "current": false, "device": null, "signed_in": {"shown": "a", "iso": "b"},
                     "last_seen": {"shown": "a", "iso": "b"}, "passkey": false, "departments": []}]}))]
            }
            "account_activity.html" => vec![
                ctx(json!({"csrf": "c", "username": "chan", "events": []})),
                ctx(
                    json!({"csrf": "c", "username": "chan", "first_page": "/account/activity", "next_page": "/account/activity?before=3",
                    "events": [
                    {"label_key": "activity_kind_signin_passkey", "kind": "signin.passkey", "at": {"shown": "a", "iso": "b"}, "failed": false, "department": null},
                    {"label_key": "activity_kind_signin_password", "kind": "signin.password", "at": {"shown": "a", "iso": "b"}, "failed": true, "department": null},
                    {"label_key": "activity_kind_consent_granted", "kind": "consent.granted", "at": {"shown": "a", "iso": "b"}, "failed": false, "department": "Transport Department"}]}),
                ),
            ],
            // Fragments of the admin pages.
            "admin_nav.html" | "admin_client_form.html" | "admin_change_rows.html" => vec![],
            "admin_overview.html" => vec![
                ctx(
                    json!({"csrf": "c", "operator": "ops", "admin_page": "/admin", "maker_checker": true, "pending": 2, "waiting_for_me": 1}),
                ),
                ctx(
                    json!({"csrf": "c", "operator": "ops", "admin_page": "/admin", "maker_checker": false, "pending": 0, "waiting_for_me": 0}),
                ),
            ],
            "admin_clients.html" => vec![
                ctx(
                    json!({"csrf": "c", "operator": "ops", "admin_page": "/admin/clients", "maker_checker": true, "clients": []}),
                ),
                ctx(
                    json!({"csrf": "c", "operator": "ops", "admin_page": "/admin/clients", "maker_checker": true, "clients": [
                    {"id": "td", "department": "Transport Department", "name": "Licensing", "state": "active", "pending_change": null, "public": false},
                    {"id": "hd", "department": "Housing", "name": "Flats", "state": "awaiting", "pending_change": "x", "public": true},
                    {"id": "ed", "department": "Education", "name": "Schools", "state": "disabled", "pending_change": null, "public": false}]}),
                ),
            ],
            "admin_client_new.html" => vec![
                ctx(
                    json!({"csrf": "c", "operator": "ops", "admin_page": "/admin/clients", "maker_checker": true, "problems": [],
                    "all_scopes": ["openid", "profile"], "algs": ["RS256", "ES256"],
                    "values": {"scopes": ["openid"], "token_endpoint_auth_method": "client_secret_basic", "subject_type": "pairwise",
                        "require_pkce": true, "id_token_alg": "RS256"}}),
                ),
                ctx(json!({"csrf": "c", "operator": "ops", "admin_page": "/admin/clients", "maker_checker": false,
                    "problems": ["Redirect URI 1: use https"], "all_scopes": ["openid"], "algs": ["RS256"],
                    "values": {"client_id": "x", "department_en": "d", "department_zh": "部", "name": "n", "redirect_uris": "http://x",
                        "post_logout_redirect_uris": "", "scopes": [], "token_endpoint_auth_method": "none", "subject_type": "public",
                        "sector_identifier": "", "require_pkce": false, "id_token_alg": "ES256"}})),
            ],
            "admin_client_created.html" => vec![
                ctx(json!({"csrf": "c", "operator": "ops", "admin_page": "/admin/clients", "maker_checker": true,
                    "client": {"id": "td", "department": "Transport Department", "name": "Licensing"}, "secret": "s3cr3t", "awaiting": true})),
                ctx(
                    json!({"csrf": "c", "operator": "ops", "admin_page": "/admin/clients", "maker_checker": true, "rotated": true,
                    "client": {"id": "td", "department": "Transport Department", "name": "Licensing"}, "secret": null, "awaiting": false}),
                ),
                ctx(
                    json!({"csrf": "c", "operator": "ops", "admin_page": "/admin/clients", "maker_checker": true, "gone": true,
                    "client": {"id": "td", "department": "Transport Department", "name": "Licensing"}}),
                ),
            ],
            "admin_client.html" => vec![
                ctx(
                    json!({"csrf": "c", "operator": "ops", "admin_page": "/admin/clients", "maker_checker": true, "problems": ["p"],
                    "notice": "admin_notice_saved", "logo": "/clients/td/logo", "all_scopes": ["openid", "email"], "algs": ["RS256"],
                    "client": {"id": "td", "department": "Transport Department", "name": "Licensing", "state": "active", "public": false},
                    "change": {"id": "ch", "kind": "update", "proposed_by": "ops.a", "at": "2026-01-01 10:00",
                        "rows": [{"field": "redirect_uris", "before": "https://a/cb", "after": "https://b/cb"}]},
                    "values": {"client_id": "td", "department_en": "Transport Department", "department_zh": "運輸署", "name": "Licensing",
                        "redirect_uris": "https://a/cb", "post_logout_redirect_uris": "", "scopes": ["openid"],
                        "token_endpoint_auth_method": "client_secret_basic", "subject_type": "pairwise", "sector_identifier": "a",
                        "require_pkce": true, "id_token_alg": "RS256"}}),
                ),
                ctx(
                    json!({"csrf": "c", "operator": "ops", "admin_page": "/admin/clients", "maker_checker": false, "problems": [],
                    "all_scopes": ["openid"], "algs": ["RS256"],
                    "client": {"id": "td", "department": "d", "name": "n", "state": "disabled", "public": true},
                    "values": {"client_id": "td", "scopes": [], "token_endpoint_auth_method": "none", "subject_type": "public",
                        "require_pkce": true, "id_token_alg": "RS256"}}),
                ),
            ],
            "admin_approvals.html" => vec![
                ctx(
                    json!({"csrf": "c", "operator": "ops", "admin_page": "/admin/approvals", "maker_checker": true, "changes": [],
                    "notice": "admin_notice_approved"}),
                ),
                ctx(json!({"csrf": "c", "operator": "ops", "admin_page": "/admin/approvals", "maker_checker": true,
                    "problem": "You cannot approve your own change.", "changes": [
                    {"id": "ch1", "client_id": "td", "kind": "create", "proposed_by": "ops.a", "at": "a", "own": true,
                     "rows": [{"field": "name", "before": "—", "after": "Licensing"}]},
                    {"id": "ch2", "client_id": "hd", "kind": "update", "proposed_by": "ops.b", "at": "a", "own": false, "rows": []}]})),
            ],
            "admin_audit.html" => vec![
                ctx(
                    json!({"csrf": "c", "operator": "ops", "admin_page": "/admin/audit", "maker_checker": true, "events": [],
                    "kinds": ["signin.password"], "problems": ["admin_audit_bad_date"],
                    "filters": {"kind": "", "actor": "", "client": "", "since": "", "until": ""}}),
                ),
                ctx(
                    json!({"csrf": "c", "operator": "ops", "admin_page": "/admin/audit", "maker_checker": true, "problems": [],
                    "kinds": ["signin.password", "client.created"], "next_page": "/admin/audit?before=2",
                    "filters": {"kind": "client.created", "actor": "ops", "client": "td", "since": "2026-01-01", "until": ""},
                    "events": [{"id": 3, "at": "a", "at_iso": "b", "kind": "client.created", "actor": "ops", "client": "td", "ip": null,
                        "failed": false, "detail": "{}"},
                        {"id": 2, "at": "a", "at_iso": "b", "kind": "signin.password", "actor": null, "client": null, "ip": null,
                        "failed": true, "detail": ""}]}),
                ),
            ],
            "admin_keys.html" => vec![ctx(
                json!({"csrf": "c", "operator": "ops", "admin_page": "/admin/keys", "maker_checker": true, "notice": "admin_notice_rotated",
                    "keys": [{"kid": "k1", "alg": "RS256", "state": "active", "created": "a", "activated": "b", "retired": null},
                        {"kid": "k2", "alg": "ES256", "state": "retired", "created": "a", "activated": "b", "retired": "c"},
                        {"kid": "k3", "alg": "EdDSA", "state": "next", "created": "a", "activated": null, "retired": null}]}),
            )],
            "admin_operators.html" => vec![
                ctx(json!({"csrf": "c", "operator": "ops", "admin_page": "/admin/operators", "maker_checker": true,
                    "operators": [{"username": "ops", "active": true, "since": "a"}, {"username": "new.ops", "active": false, "since": "b"}],
                    "invited": {"username": "new.ops", "link": "http://localhost/enrol?token=t", "expires": "c"}})),
                ctx(
                    json!({"csrf": "c", "operator": "ops", "admin_page": "/admin/operators", "maker_checker": true, "operators": [],
                    "problem": "admin_invite_taken"}),
                ),
            ],
            "enrol.html" => vec![
                ctx(json!({"csrf": "c", "token": "t", "username": "new.ops"})),
                ctx(json!({"csrf": "c", "problem": "enrol_invalid"})),
            ],
            "error.html" => vec![ctx(json!({"heading": "h", "message": "m"}))],
            "signin.html" => vec![
                ctx(json!({"csrf": "c", "username": "", "signup_url": "/signup"})),
                ctx(
                    json!({"csrf": "c", "authz": "az", "username": "chan", "client": client, "signup_url": "/signup?authz=az",
                    "error": "signin_error_invalid", "logo": "/clients/td/logo"}),
                ),
                ctx(
                    json!({"csrf": "c", "username": "chan", "signup_url": "/signup", "error": "signin_error_throttled", "retry_after": 30}),
                ),
                ctx(
                    json!({"csrf": "c", "username": "chan", "signup_url": "/signup", "error": "signin_error_throttled"}),
                ),
                ctx(
                    json!({"csrf": "c", "username": "chan", "signup_url": "/signup", "error": "signin_error_unavailable"}),
                ),
                ctx(json!({"csrf": "c", "username": "chan", "signup_url": "/signup", "error": "no_such_key"})),
                ctx(json!({"csrf": "c", "username": "", "signup_url": "/signup", "next": "/account", "reauth": true})),
            ],
            "signup.html" => vec![
                ctx(json!({"csrf": "c", "values": {}, "errors": {}, "signin_url": "/signin"})),
                ctx(json!({"csrf": "c", "authz": "az", "signin_url": "/signin?authz=az",
                    "values": {"username": "chan", "name_en": "CHAN Tai Man", "name_zh": "陳大文", "birthdate": "1970-01-01",
                        "gender": "female", "email": "chan@example.hk", "phone": "91234567",
                        "residential_address": "1 Queen's Road\nCentral", "postal_address": "", "hkid": "A123456(7)"},
                    "errors": {"username": "signup_problem_taken", "password": "signup_problem_password_too_short",
                        "password_confirm": "signup_problem_mismatch", "name_en": "signup_problem_required",
                        "name_zh": "signup_problem_too_long", "birthdate": "signup_problem_invalid", "gender": "signup_problem_invalid",
                        "email": "signup_problem_invalid", "phone": "signup_problem_too_short",
                        "residential_address": "signup_problem_too_long", "postal_address": "signup_problem_too_long",
                        "hkid": "signup_problem_invalid", "form": "signup_problem_password_contains_username"}})),
                ctx(json!({"csrf": "c", "signin_url": "/signin", "values": {"username": "chan"},
                    "errors": {"password": "signup_problem_password_contains_username", "email": "no_such_key"}})),
            ],
            "consent.html" => vec![
                ctx(
                    json!({"csrf": "c", "authz": "az", "client": client, "signed_in_as": "chan", "offline_access": true,
                    "claims": [
                        {"name": "name", "label_key": "claim_name", "essential": true, "checked": true},
                        {"name": "email", "label_key": "claim_email", "essential": false, "checked": true},
                        {"name": "hkid", "label_key": "claim_hkid", "essential": false, "checked": false},
                        {"name": "future", "label_key": "claim_future", "essential": false, "checked": false},
                    ]}),
                ),
                ctx(
                    json!({"csrf": "c", "authz": "az", "client": client, "signed_in_as": "chan", "offline_access": false, "claims": []}),
                ),
                ctx(json!({"csrf": "c", "authz": "az", "client": client, "signed_in_as": "", "offline_access": false,
                    "claims": [{"name": "name", "label_key": "claim_name", "essential": true, "checked": true},
                        {"name": "name#zh-Hant-HK", "label_key": "claim_name_zh", "essential": false, "checked": true}]})),
            ],
            "end_session.html" => vec![
                ctx(json!({"csrf": "c", "client": client, "post_logout_redirect_uri": "https://td.gov.hk/bye",
                    "state": "st", "client_id": "td"})),
                ctx(json!({"csrf": "c", "post_logout_redirect_uri": "", "state": "", "client_id": ""})),
            ],
            "signup_passkey.html" => vec![
                ctx(json!({"csrf": "c", "ceremony": "cer", "username": "wong.siuming",
                    "options": "{\"publicKey\":{\"challenge\":\"abc\"}}"})),
                ctx(json!({"csrf": "c", "ceremony": "cer", "username": "wong", "authz": "az", "options": "{}"})),
            ],
            other => panic!("no sample context for {other}: add one"),
        }
    }

    const PASSKEY_SCRIPT_TAG: &str = "<script type=\"module\" src=\"/static/passkey.js\"></script>";

    fn render_all() -> Vec<(String, Locale, String)> {
        let pages = Pages::load().unwrap();
        let mut out = Vec::new();
        for (name, _) in TEMPLATES {
            for locale in Locale::ALL {
                for ctx in samples(name) {
                    let html = pages
                        .render(name, locale, "/", ctx)
                        .unwrap_or_else(|e| panic!("{name} in {locale:?}: {}", error_chain(&e)));
                    out.push(((*name).to_owned(), locale, html));
                }
            }
        }
        out
    }

    fn render(name: &str, locale: Locale, value: serde_json::Value) -> String {
        let pages = Pages::load().unwrap();
        let ctx = Context::from_value(value).unwrap();
        pages.render(name, locale, "/", ctx).unwrap_or_else(|e| panic!("{name}: {}", error_chain(&e)))
    }

    /// The value of `attr` in each start tag named `tag`.
    fn attrs_of(html: &str, tag: &str, attr: &str) -> Vec<Option<String>> {
        let open = format!("<{tag}");
        let key = format!(" {attr}=\"");
        html.match_indices(&open)
            .filter(|(i, _)| html[i + open.len()..].starts_with([' ', '>', '\n']))
            .map(|(i, _)| {
                let tag_text = &html[i..i + html[i..].find('>').unwrap()];
                tag_text.find(&key).map(|at| {
                    let rest = &tag_text[at + key.len()..];
                    rest[..rest.find('"').unwrap()].to_owned()
                })
            })
            .collect()
    }

    #[test]
    fn every_template_renders_in_both_languages() {
        for (name, locale, html) in render_all() {
            assert!(html.contains(&format!("lang=\"{}\"", locale.tag())), "{name} in {locale:?}");
        }
    }

    #[test]
    fn pages_leave_no_placeholder_key_or_inline_code() {
        for (name, locale, html) in render_all() {
            for bad in ["{service}", "{department}", "{seconds}", "{field}", "{problem}", "{username}", "{{", "{%"] {
                assert!(!html.contains(bad), "{name} in {locale:?} shows {bad}");
            }
            for key in [
                "signin_",
                "signup_",
                "field_",
                "claim_",
                "consent_",
                "gender_",
                "end_session_",
                "signed_out_",
                "passkey_",
                "account_",
            ] {
                assert!(!html.contains(key), "{name} in {locale:?} shows a catalog key {key}…");
            }
            // The only script is our own module, from our own origin (CSP script-src 'self').
            let html = html.replace(PASSKEY_SCRIPT_TAG, "");
            for bad in ["style=", "<script", "<style", "http://", "//fonts", " onclick=", " onsubmit=", "javascript:"] {
                assert!(!html.contains(bad), "{name} in {locale:?} has {bad}");
            }
        }
    }

    #[test]
    fn every_form_control_has_a_label() {
        for (name, locale, html) in render_all() {
            for tag in ["input", "select", "textarea"] {
                let types = attrs_of(&html, tag, "type");
                for (i, id) in attrs_of(&html, tag, "id").into_iter().enumerate() {
                    if types[i].as_deref() == Some("hidden") {
                        continue;
                    }
                    let id = id.unwrap_or_else(|| panic!("{name} in {locale:?}: a {tag} without id"));
                    assert!(
                        html.contains(&format!("<label for=\"{id}\"")) || html.contains(&format!("for=\"{id}\">")),
                        "{name} in {locale:?}: {id} has no label"
                    );
                }
            }
            // Every control a citizen types into, and every button, is in a form that posts
            // (or, for the audit log's filters, a search form that gets): nothing needs a script.
            if html.contains("<input") {
                assert!(html.contains("method=\"post\"") || html.contains("method=\"get\""), "{name}");
            }
        }
    }

    #[test]
    fn forms_post_to_their_endpoints_with_csrf() {
        let all = render_all();
        for (page, action) in [
            ("signin.html", "/signin"),
            ("signup.html", "/signup"),
            ("consent.html", "/consent"),
            ("end_session.html", "/end_session/confirm"),
            ("account.html", "/end_session/confirm"),
        ] {
            for (_, _, html) in all.iter().filter(|(name, _, _)| name == page) {
                assert!(html.contains(&format!("action=\"{action}\"")), "{page}");
                assert!(html.contains("<input type=\"hidden\" name=\"csrf\" value=\"c\">"), "{page}");
            }
        }
    }

    #[test]
    fn signin_shows_each_error_with_what_to_do() {
        let base = json!({"csrf": "c", "username": "chan", "signup_url": "/signup"});
        let with = |extra: serde_json::Value| {
            let mut v = base.clone();
            v.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
            v
        };
        let html = render("signin.html", Locale::En, base.clone());
        assert!(!html.contains("id=\"signin-error\""));
        assert!(!html.contains("name=\"authz\""));
        assert!(!html.contains("aria-invalid"));
        assert!(
            html.contains("autocomplete=\"username webauthn\"") && html.contains("autocomplete=\"current-password\"")
        );
        assert!(html.starts_with("<!DOCTYPE html>"));

        let html = render("signin.html", Locale::En, with(json!({"error": "signin_error_invalid", "authz": "az"})));
        assert!(html.contains("role=\"alert\""));
        assert!(html.contains("The username or password is not right. Check them and try again."));
        assert!(html.contains("aria-invalid=\"true\""));
        assert!(html.contains("<input type=\"hidden\" name=\"authz\" value=\"az\">"));
        assert!(html.contains("<title>Error: Sign in to Tessera</title>"));

        let html =
            render("signin.html", Locale::En, with(json!({"error": "signin_error_throttled", "retry_after": 42})));
        assert!(html.contains("Wait 42 seconds, then try again."));
        let html =
            render("signin.html", Locale::ZhHk, with(json!({"error": "signin_error_throttled", "retry_after": 42})));
        assert!(html.contains("請等候 42 秒後再試"));

        let html = render("signin.html", Locale::En, with(json!({"error": "signin_error_unavailable"})));
        assert!(html.contains("try again in a few minutes"));
        let html = render("signin.html", Locale::En, with(json!({"error": "mystery"})));
        assert!(html.contains("try again in a few minutes"), "an unknown key falls back to a safe message");
    }

    #[test]
    fn signin_names_the_department_and_escapes_values() {
        let html = render(
            "signin.html",
            Locale::ZhHk,
            json!({"csrf": "c", "username": "<b>x</b>", "signup_url": "/signup?authz=a&b=\"",
                "client": {"department": "運輸署", "name": "<i>續領駕駛執照</i>"}}),
        );
        assert!(html.contains("登入後繼續使用：運輸署 · &lt;i&gt;續領駕駛執照&lt;&#x2F;i&gt;"), "{html}");
        assert!(html.contains("value=\"&lt;b&gt;x&lt;&#x2F;b&gt;\""));
        assert!(html.contains("&amp;b=&quot;"));
        assert!(!html.contains("<b>") && !html.contains("<i>"));
    }

    #[test]
    fn signup_lists_problems_in_form_order_and_ties_them_to_fields() {
        let html = render(
            "signup.html",
            Locale::En,
            json!({"csrf": "c", "signin_url": "/signin", "values": {"username": "chan\"><b>", "gender": "male", "postal_address": "a</textarea>"},
                "errors": {"username": "signup_problem_taken", "password_confirm": "signup_problem_mismatch", "hkid": "signup_problem_invalid"}}),
        );
        let summary = &html[html.find("error-summary").unwrap()..html.find("</ul>").unwrap()];
        let u = summary.find("href=\"#username\"").unwrap();
        let p = summary.find("href=\"#password_confirm\"").unwrap();
        let h = summary.find("href=\"#hkid\"").unwrap();
        assert!(u < p && p < h, "{summary}");
        assert!(summary.contains("Username: This username is already taken. Please choose another one."));
        assert!(html.contains("role=\"alert\""));
        assert!(html.contains("<title>Error: Create your digital identity"));
        assert!(html.contains("id=\"username-error\""));
        assert!(html.contains("aria-describedby=\"username-hint username-error\""));
        assert!(html.contains("aria-describedby=\"password_confirm-hint password_confirm-error\""));
        assert!(html.contains("aria-describedby=\"hkid-hint hkid-error\""));
        assert!(html.contains("aria-describedby=\"password-hint\""), "a field without a problem keeps only its hint");
        assert_eq!(html.matches("aria-invalid=\"true\"").count(), 3);
        // Typed values come back, escaped; passwords never do.
        assert!(html.contains("value=\"chan&quot;&gt;&lt;b&gt;\""));
        assert!(html.contains("a&lt;&#x2F;textarea&gt;</textarea>"));
        for (i, ty) in attrs_of(&html, "input", "type").iter().enumerate() {
            if ty.as_deref() == Some("password") {
                assert_eq!(attrs_of(&html, "input", "value")[i], None);
            }
        }
        assert!(html.contains("<option value=\"male\" selected>"));
        assert_eq!(html.matches(" selected").count(), 1);
        for ac in ["username", "new-password", "name", "bday", "email", "tel", "street-address"] {
            assert!(html.contains(&format!("autocomplete=\"{ac}\"")), "{ac}");
        }

        let html = render(
            "signup.html",
            Locale::ZhHk,
            json!({"csrf": "c", "signin_url": "/signin", "values": {}, "errors": {}}),
        );
        assert!(!html.contains("error-summary") && !html.contains("aria-invalid"));
        assert!(html.contains("<option value=\"undisclosed\" selected>不願透露</option>"));
        assert!(html.contains("可選擇與部門分享的資料"));
        assert!(html.contains("香港身份證號碼"));
    }

    #[test]
    fn consent_lists_details_with_essential_ones_fixed() {
        let html = render(
            "consent.html",
            Locale::En,
            json!({"csrf": "c", "authz": "az", "signed_in_as": "chan", "offline_access": true,
            "client": {"department": "Transport Department", "name": "Driving licence renewal"},
            "claims": [
                {"name": "name", "label_key": "claim_name", "essential": true, "checked": true},
                {"name": "email", "label_key": "claim_email", "essential": false, "checked": true},
                {"name": "hkid", "label_key": "claim_hkid", "essential": false, "checked": false},
            ]}),
        );
        assert!(html.contains("<h1>Share your details with Transport Department?</h1>"));
        assert!(html.contains("Driving licence renewal"));
        assert!(html.contains("You are signed in as chan."));
        assert!(!html.contains("value=\"name\""), "essential details have no checkbox");
        assert!(html.contains("required by the department"));
        assert!(html.contains("name=\"claim\" value=\"email\" checked>"));
        assert!(html.contains("name=\"claim\" value=\"hkid\">"));
        assert!(html.contains("Hong Kong identity card number"));
        assert!(html.contains("keep access while you are away"));
        assert!(html.contains("an identifier for you that is different at every department"));
        assert!(html.contains("withdraw your consent"));
        assert!(html.contains("name=\"decision\" value=\"allow\""));
        assert!(html.contains("name=\"decision\" value=\"deny\""));
        assert!(html.contains("<input type=\"hidden\" name=\"authz\" value=\"az\">"));
        assert!(html.contains("Tick the details you agree to share."));

        let html = render(
            "consent.html",
            Locale::En,
            json!({"csrf": "c", "authz": "az", "signed_in_as": "", "offline_access": false,
                "client": {"department": "Transport Department", "name": "Driving licence renewal"},
                "claims": [{"name": "name", "label_key": "claim_name", "essential": true, "checked": true}]}),
        );
        assert!(html.contains("Name in English") && html.contains("required by the department"));
        assert!(!html.contains("signed in as"), "no username, no line");
        assert!(!html.contains("Tick the details"), "nothing to tick, so no instruction to tick");
        assert!(!html.contains("type=\"checkbox\""));

        let html = render(
            "consent.html",
            Locale::ZhHk,
            json!({"csrf": "c", "authz": "az", "signed_in_as": "chan", "offline_access": false, "claims": [],
                "client": {"department": "運輸署", "name": "續領駕駛執照"}}),
        );
        assert!(html.contains("要與運輸署分享你的資料嗎？"));
        assert!(html.contains("運輸署只要求在你登入時識別你的身份"));
        assert!(!html.contains("離開後保留存取權"));
        assert!(!html.contains("type=\"checkbox\""));
        assert!(html.contains(">同意</button>") && html.contains(">拒絕</button>"));
    }

    #[test]
    fn end_session_echoes_only_the_fields_it_has() {
        let html = render(
            "end_session.html",
            Locale::En,
            json!({"csrf": "c", "client": {"department": "Transport Department", "name": "Licensing"},
                "post_logout_redirect_uri": "https://td.example/bye?a=1&b=2", "state": "s\"t", "client_id": "td"}),
        );
        assert!(html.contains("Transport Department · Licensing asked to sign you out of Tessera."));
        assert!(
            html.contains(
                "name=\"post_logout_redirect_uri\" value=\"https:&#x2F;&#x2F;td.example&#x2F;bye?a=1&amp;b=2\""
            )
        );
        assert!(html.contains("name=\"state\" value=\"s&quot;t\""));
        assert!(html.contains("name=\"client_id\" value=\"td\""));
        assert!(html.contains(">Stay signed in</a>"));

        let html = render(
            "end_session.html",
            Locale::ZhHk,
            json!({"csrf": "c", "post_logout_redirect_uri": "", "state": "", "client_id": ""}),
        );
        assert_eq!(html.matches("type=\"hidden\"").count(), 1);
        assert!(html.contains("有服務要求將你登出 Tessera。"));
        assert!(html.contains(">登出</button>") && html.contains(">保持登入</a>"));
    }

    #[test]
    fn signed_out_links_home() {
        let html = render("signed_out.html", Locale::ZhHk, json!({}));
        assert!(html.contains("<h1>你已登出 Tessera</h1>"));
        assert!(html.contains("href=\"&#x2F;\">返回主頁</a>") || html.contains("href=\"/\">返回主頁</a>"));
    }

    #[test]
    fn the_path_is_escaped_in_the_language_switch() {
        let pages = Pages::load().unwrap();
        let html = pages.render("home.html", Locale::En, "/\"><script>", Context::new()).unwrap();
        assert!(!html.contains("<script>"));
    }

    #[test]
    fn signin_offers_a_passkey_first_and_keeps_the_plain_form() {
        let html = render("signin.html", Locale::En, json!({"csrf": "c", "username": "", "signup_url": "/signup"}));
        let button = html.find("Sign in with a passkey").unwrap();
        let form = html.find("action=\"/signin\"").unwrap();
        assert!(button < form, "the passkey button comes before the password form");
        // Hidden until the script knows the browser can use passkeys.
        assert!(html.contains("<section class=\"passkey-signin\" data-passkey-signin hidden>"));
        assert!(html.contains("data-passkey-unsupported hidden>This browser cannot use passkeys."));
        assert!(html.contains("data-passkey=\"signin\""));
        assert!(html.contains(PASSKEY_SCRIPT_TAG));
        assert!(html.contains("data-msg-cancelled=\"The passkey was not used"));
        assert!(html.contains("data-msg-working=\"Waiting for your passkey…\""));
        // The password form still posts without JavaScript.
        assert!(html.contains("<form class=\"form\" method=\"post\" action=\"/signin\">"));
        assert!(!html.contains("name=\"next\"") && !html.contains("signin-reauth"));

        let html = render(
            "signin.html",
            Locale::ZhHk,
            json!({"csrf": "c", "username": "", "signup_url": "/signup", "next": "/account", "reauth": true}),
        );
        assert!(html.contains("<input type=\"hidden\" name=\"next\" value=\"&#x2F;account\">"), "{html}");
        assert!(html.contains("為保障你的安全，請再次登入"));
        assert!(html.contains("以通行密鑰登入"));
        assert!(html.contains("data-msg-cancelled=\"未有使用通行密鑰"));
    }

    #[test]
    fn account_lists_passkeys_with_their_forms() {
        let html = render(
            "account.html",
            Locale::En,
            json!({"csrf": "c", "username": "chan", "notice": "account_notice_renamed", "passkeys": [
                {"id": "p1", "name": "My <phone>", "created": "2025-03-01 17:30", "created_iso": "2025-03-01T09:30:00Z",
                 "last_used": "2025-03-02 08:00", "last_used_iso": "2025-03-02T00:00:00Z", "backed_up": true},
                {"id": "p2", "name": "YubiKey", "created": "2025-03-01 17:31", "created_iso": "2025-03-01T09:31:00Z",
                 "last_used": null, "last_used_iso": null, "backed_up": false}]}),
        );
        assert!(html.contains("<h1>Your account</h1>"));
        assert!(html.contains("You are signed in as chan."));
        assert!(html.contains("The passkey has been renamed."));
        assert!(html.contains("My &lt;phone&gt;") && !html.contains("My <phone>"));
        assert!(html.contains("<time datetime=\"2025-03-02T00:00:00Z\">2025-03-02 08:00</time> (Hong Kong time)"));
        assert!(html.contains("Not used yet"));
        assert!(html.contains("Backed up and synced") && html.contains("On this device only"));
        for id in ["p1", "p2"] {
            assert!(
                html.contains(&format!("action=\"&#x2F;account&#x2F;passkeys&#x2F;{id}&#x2F;rename\""))
                    || html.contains(&format!("action=\"/account/passkeys/{id}/rename\"")),
                "{html}"
            );
            assert!(html.contains(&format!("/account/passkeys/{id}/remove\"")));
        }
        // Rename and remove for each passkey, the password form, and sign-out.
        assert_eq!(html.matches("<input type=\"hidden\" name=\"csrf\" value=\"c\">").count(), 6);
        assert!(html.contains("You have no password") && html.contains("Add a password"));
        assert!(!html.contains("action=\"/account/password/remove\""), "no password: nothing to remove");
        assert!(html.contains("<form class=\"form passkey-add\" id=\"passkey-add\" data-passkey-add hidden>"));
        assert!(html.contains("<noscript>"));
        assert!(html.contains("Sign out of Tessera"));
        assert!(!html.contains("id=\"account-problem\""));

        let html = render(
            "account.html",
            Locale::ZhHk,
            json!({"csrf": "c", "username": "chan", "problem": "account_error_last_credential", "passkeys": []}),
        );
        assert!(html.contains("<title>錯誤：你的帳戶</title>"));
        assert!(html.contains("你不能移除唯一的登入方式"));
        assert!(html.contains("你還未有通行密鑰"));
        assert!(html.contains("新增通行密鑰"));
    }

    #[test]
    fn spare_contexts_keep_only_the_catalog_between_pages() {
        let pages = Pages::load().unwrap();
        let profile = |value: serde_json::Value| {
            let html = pages.render("account.html", Locale::En, "/account", Context::from_value(value).unwrap());
            html.unwrap_or_else(|e| panic!("{}", error_chain(&e)))
        };
        let first = profile(
            json!({"csrf": "c", "username": "chan.taiman.secret", "passkeys": [], "problem": "account_error_last_credential"}),
        );
        assert!(first.contains("chan.taiman.secret"));
        // The next page on the same (pooled) context sees none of the first page's values.
        let second = profile(json!({"csrf": "d", "username": "lee", "passkeys": []}));
        assert!(
            !second.contains("chan.taiman.secret")
                && !second.contains("你不能移除")
                && !second.contains("id=\"account-problem\"")
        );
        for locale in Locale::ALL {
            let spare = pages.pool(locale).lock().unwrap();
            for context in spare.iter() {
                let keys: Vec<String> = context.clone().into_json().as_object().unwrap().keys().cloned().collect();
                assert_eq!(keys, ["t"], "{locale:?}");
            }
        }
        assert_eq!(pages.pool(Locale::En).lock().unwrap().len(), 1, "one context, reused");

        // A page may not replace the catalog or the common values.
        for key in ["t", "locale", "other_locale", "current_path_encoded"] {
            let context = Context::from_value(json!({ key: "x" })).unwrap();
            let error = pages.render("home.html", Locale::En, "/", context).unwrap_err();
            assert!(error.to_string().contains(key), "{error}");
        }
        // A failed render gives its context back clean too.
        let error = pages.render("no-such.html", Locale::ZhHk, "/", Context::from_value(json!({"secret": 1})).unwrap());
        assert!(error.is_err());
        let spare = pages.pool(Locale::ZhHk).lock().unwrap();
        assert!(spare.iter().all(|c| !c.contains_key("secret") && c.contains_key("t")));
    }
}
