//! Department clients on the admin page: list, register, edit, disable and re-enable,
//! rotate the secret, and the maker-checker approvals.

use super::{Operator, admin_page, operator_of};
use crate::csrf::verify_csrf;
use crate::errors::WebError;
use crate::form::FormParams;
use crate::i18n::Locale;
use crate::routes::authorize::see_other;
use crate::routes::request_locale;
use crate::state::AppState;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::{Value, json};
use tessera_domain::{
    ChangeId, ChangeKind, Client, ClientId, Clock, SubjectType, SystemClock, TokenEndpointAuthMethod,
};
use tessera_oidc::client_admin::{self, AdminError, ClientEdit};
use tessera_oidc::clients::{ClientProblem, NewClient};
use tessera_oidc::redirect::RedirectUriError;
use tessera_oidc::scope::SUPPORTED_SCOPES;
use tessera_oidc::service::ServiceError;

pub(crate) fn admin_failure(e: AdminError) -> WebError {
    match e {
        AdminError::Store(e) => WebError::Service(ServiceError::from(e)),
        other => WebError::Render(other.to_string()),
    }
}

/// The catalog message of a registration problem, in the page's language.
fn problem_text(state: &AppState, locale: Locale, problem: &ClientProblem) -> String {
    let catalogs = state.pages.catalogs();
    let msg = |key: &str| catalogs.message(locale, key).to_owned();
    let uri = |key: &str, index: usize, error: &RedirectUriError| {
        let reason = match error {
            RedirectUriError::Empty => msg("admin_uri_empty"),
            RedirectUriError::Wildcard => msg("admin_uri_wildcard"),
            RedirectUriError::Fragment => msg("admin_uri_fragment"),
            RedirectUriError::Scheme | RedirectUriError::InsecureHttp => msg("admin_uri_https"),
            RedirectUriError::NotCanonical { canonical } => {
                msg("admin_uri_canonical").replace("{canonical}", canonical)
            }
            _ => msg("admin_uri_invalid"),
        };
        msg(key).replace("{n}", &(index + 1).to_string()).replace("{reason}", &reason)
    };
    match problem {
        ClientProblem::ClientId(_) => msg("admin_problem_client_id"),
        ClientProblem::EmptyName { field } => {
            msg("admin_problem_name_empty").replace("{field}", &msg(&format!("admin_field_{field}")))
        }
        ClientProblem::NameTooLong { field } | ClientProblem::NameControlCharacter { field } => {
            msg("admin_problem_name_invalid").replace("{field}", &msg(&format!("admin_field_{field}")))
        }
        ClientProblem::NoRedirectUri => msg("admin_problem_no_redirect_uri"),
        ClientProblem::RedirectUri { index, error } => uri("admin_problem_redirect_uri", *index, error),
        ClientProblem::PostLogoutRedirectUri { index, error } => uri("admin_problem_post_logout_uri", *index, error),
        ClientProblem::UnsupportedScope(_) | ClientProblem::MissingOpenid => msg("admin_problem_scopes"),
        ClientProblem::IdTokenAlg => msg("admin_problem_alg"),
        ClientProblem::PublicClientWithoutPkce => msg("admin_problem_public_pkce"),
        ClientProblem::SectorRequired | ClientProblem::InvalidSector => msg("admin_problem_sector"),
        ClientProblem::Randomness(_) => msg("admin_problem_unavailable"),
    }
}

fn lines(value: Option<&str>) -> Vec<String> {
    value.unwrap_or_default().lines().map(str::trim).filter(|l| !l.is_empty()).map(str::to_owned).collect()
}

/// The form's values back into the form after a problem, or a client's for editing.
fn form_values(form: &FormParams) -> Value {
    let get = |k: &str| form.get(k).unwrap_or_default().to_owned();
    json!({
        "client_id": get("client_id"),
        "department_en": get("department_en"),
        "department_zh": get("department_zh"),
        "name": get("name"),
        "name_zh": get("name_zh"),
        "redirect_uris": get("redirect_uris"),
        "post_logout_redirect_uris": get("post_logout_redirect_uris"),
        "scopes": form.all("scope"),
        "token_endpoint_auth_method": get("token_endpoint_auth_method"),
        "subject_type": get("subject_type"),
        "sector_identifier": get("sector_identifier"),
        "require_pkce": form.get("require_pkce").is_some(),
        "id_token_alg": get("id_token_alg"),
    })
}

fn client_values(client: &Client) -> Value {
    json!({
        "client_id": client.id.as_str(),
        "department_en": client.department_en,
        "department_zh": client.department_zh,
        "name": client.name,
        "name_zh": client.name_zh,
        "redirect_uris": client.redirect_uris.join("\n"),
        "post_logout_redirect_uris": client.post_logout_redirect_uris.join("\n"),
        "scopes": client.allowed_scopes,
        "token_endpoint_auth_method": client.token_endpoint_auth_method.as_str(),
        "subject_type": client.subject_type.as_str(),
        "sector_identifier": client.sector_identifier,
        "require_pkce": client.require_pkce,
        "id_token_alg": client.id_token_alg,
    })
}

fn form_context(values: Value, problems: Vec<String>) -> tera::Context {
    let mut context = tera::Context::new();
    context.insert("values", &values);
    context.insert("problems", &problems);
    context.insert("all_scopes", &SUPPORTED_SCOPES);
    context.insert("algs", &["RS256", "ES256", "EdDSA"]);
    context
}

/// A client as the list and detail pages show it.
fn client_view(client: &Client, pending: Option<&tessera_domain::ClientChange>, locale: Locale) -> Value {
    let (department, name) = match locale {
        Locale::ZhHk => (
            if client.department_zh.is_empty() { &client.department_en } else { &client.department_zh },
            if client.name_zh.is_empty() { &client.name } else { &client.name_zh },
        ),
        Locale::En => (&client.department_en, &client.name),
    };
    let state = match (client.enabled, pending.map(|c| c.kind)) {
        (false, Some(ChangeKind::Create)) => "awaiting",
        (false, _) => "disabled",
        (true, _) => "active",
    };
    json!({
        "id": client.id.as_str(),
        "department": department,
        "name": name,
        "state": state,
        "pending_change": pending.map(|c| c.id.to_string()),
        "public": client.token_endpoint_auth_method == TokenEndpointAuthMethod::None,
    })
}

pub async fn list_get(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, WebError> {
    let operator = operator_of(&req)?;
    let locale = request_locale(&req, &state);
    let all = state.db.run(tessera_store::clients::list).await.map_err(ServiceError::from)?;
    let pending = client_admin::pending_changes(&state.db).await.map_err(admin_failure)?;
    let views: Vec<Value> =
        all.iter().map(|c| client_view(c, pending.iter().find(|p| p.client_id == c.id), locale)).collect();
    let mut context = tera::Context::new();
    context.insert("clients", &views);
    admin_page(&req, &state, &operator, "admin_clients.html", "/admin/clients", context, StatusCode::OK)
}

pub async fn new_get(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, WebError> {
    let operator = operator_of(&req)?;
    let values = json!({
        "scopes": ["openid", "profile"], "token_endpoint_auth_method": "client_secret_basic",
        "subject_type": "pairwise", "require_pkce": true, "id_token_alg": "RS256",
    });
    let context = form_context(values, Vec::new());
    admin_page(&req, &state, &operator, "admin_client_new.html", "/admin/clients", context, StatusCode::OK)
}

pub async fn create_post(
    req: HttpRequest,
    state: web::Data<AppState>,
    form: FormParams,
) -> Result<HttpResponse, WebError> {
    verify_csrf(&req, &state, form.get("csrf"))?;
    let operator = operator_of(&req)?;
    let locale = request_locale(&req, &state);
    let invalid = |problems: Vec<String>| {
        let context = form_context(form_values(&form), problems);
        admin_page(
            &req,
            &state,
            &operator,
            "admin_client_new.html",
            "/admin/clients",
            context,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
    };
    let auth_method = form.get("token_endpoint_auth_method").unwrap_or_default().parse::<TokenEndpointAuthMethod>();
    let subject_type = form.get("subject_type").unwrap_or_default().parse::<SubjectType>();
    let (Ok(auth_method), Ok(subject_type)) = (auth_method, subject_type) else {
        return invalid(vec![state.pages.catalogs().message(locale, "admin_problem_choices").to_owned()]);
    };
    let new = NewClient {
        client_id: form.get("client_id").map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned),
        department_en: form.get("department_en").unwrap_or_default().to_owned(),
        department_zh: form.get("department_zh").unwrap_or_default().to_owned(),
        name: form.get("name").unwrap_or_default().to_owned(),
        name_zh: form.get("name_zh").unwrap_or_default().to_owned(),
        redirect_uris: lines(form.get("redirect_uris")),
        post_logout_redirect_uris: lines(form.get("post_logout_redirect_uris")),
        allowed_scopes: form.all("scope").into_iter().map(str::to_owned).collect(),
        token_endpoint_auth_method: auth_method,
        subject_type,
        sector_identifier: form.get("sector_identifier").map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned),
        require_pkce: form.get("require_pkce").is_some(),
        id_token_alg: form.get("id_token_alg").unwrap_or_default().to_owned(),
    };
    let now = SystemClock.now();
    match client_admin::create_client(&state.db, new, operator.id(), state.settings.maker_checker, now).await {
        Ok(created) => {
            let view = SecretView { secret: created.secret, awaiting: created.pending.is_some(), rotated: false };
            show_secret_once(&state, &operator, &created.client.id, &view).await
        }
        Err(AdminError::Invalid(problems)) => {
            invalid(problems.iter().map(|p| problem_text(&state, locale, p)).collect())
        }
        Err(AdminError::Duplicate) => {
            invalid(vec![state.pages.catalogs().message(locale, "admin_problem_duplicate").to_owned()])
        }
        Err(e) => Err(admin_failure(e)),
    }
}

/// What the page after registering a client (or issuing a new secret) shows once.
#[derive(serde::Serialize, serde::Deserialize)]
struct SecretView {
    secret: Option<String>,
    awaiting: bool,
    rotated: bool,
}

/// How long the page showing a new secret can be opened (once).
const SECRET_VIEW_SECS: u64 = 10 * 60;

fn secret_view_key(operator: &Operator, view: &str) -> String {
    format!("admin-secret:{}:{view}", operator.id())
}

/// Post/redirect/get for a new secret: the secret waits in the session store, for this
/// operator only, and the next page takes it. Reloading or re-sending cannot register a
/// second client, and the secret is shown exactly once.
async fn show_secret_once(
    state: &AppState,
    operator: &Operator,
    client: &ClientId,
    view: &SecretView,
) -> Result<HttpResponse, WebError> {
    use tessera_session::SessionStore as _;
    let id = tessera_crypto::random_token()?;
    let bytes = serde_json::to_vec(view).map_err(|e| WebError::Render(e.to_string()))?;
    state
        .sessions
        .put(&secret_view_key(operator, &id), &bytes, std::time::Duration::from_secs(SECRET_VIEW_SECS))
        .await
        .map_err(|e| WebError::Service(ServiceError::from(e)))?;
    Ok(see_other(&format!("/admin/clients/{client}/created?view={id}")))
}

/// `GET /admin/clients/{id}/created?view=..`: the new secret, once.
pub async fn created_get(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, WebError> {
    use tessera_session::SessionStore as _;
    let operator = operator_of(&req)?;
    let locale = request_locale(&req, &state);
    let Some(client) = load_client(&state, &path).await? else {
        return crate::routes::errors::not_found(req, state).await;
    };
    let view = match crate::form::query_params(&req).get("view").filter(|v| v.len() <= 64) {
        Some(view) => state
            .sessions
            .take(&secret_view_key(&operator, view))
            .await
            .map_err(|e| WebError::Service(ServiceError::from(e)))?
            .and_then(|bytes| serde_json::from_slice::<SecretView>(&bytes).ok()),
        None => None,
    };
    let mut context = tera::Context::new();
    context.insert("client", &client_view(&client, None, locale));
    match view {
        Some(view) => {
            context.insert("secret", &view.secret);
            context.insert("awaiting", &view.awaiting);
            context.insert("rotated", &view.rotated);
        }
        None => context.insert("gone", &true),
    }
    admin_page(&req, &state, &operator, "admin_client_created.html", "/admin/clients", context, StatusCode::OK)
}

async fn load_client(state: &AppState, id: &str) -> Result<Option<Client>, WebError> {
    let Ok(id) = ClientId::parse(id) else { return Ok(None) };
    Ok(state.db.run(move |conn| tessera_store::clients::by_id(conn, &id)).await.map_err(ServiceError::from)?)
}

/// What the client's page shows besides the client: the form's values, problems, a notice.
struct Shown {
    values: Value,
    problems: Vec<String>,
    notice: Option<&'static str>,
}

impl Shown {
    fn client(client: &Client) -> Shown {
        Shown { values: client_values(client), problems: Vec::new(), notice: None }
    }

    fn problem(client: &Client, problem: String) -> Shown {
        Shown { problems: vec![problem], ..Shown::client(client) }
    }
}

async fn detail_page(
    req: &HttpRequest,
    state: &AppState,
    operator: &Operator,
    client: &Client,
    shown: Shown,
    status: StatusCode,
) -> Result<HttpResponse, WebError> {
    let locale = request_locale(req, state);
    let pending = client_admin::pending_change(&state.db, &client.id).await.map_err(admin_failure)?;
    let Shown { values, problems, notice } = shown;
    let mut context = form_context(values, problems);
    context.insert("client", &client_view(client, pending.as_ref(), locale));
    if let Some(change) = &pending {
        context.insert("change", &change_view(state, change).await?);
    }
    if let Some(notice) = notice {
        context.insert("notice", notice);
    }
    if has_logo(state, &client.id).await? {
        context.insert("logo", &format!("/clients/{}/logo", client.id));
    }
    admin_page(req, state, operator, "admin_client.html", "/admin/clients", context, status)
}

pub async fn detail_get(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, WebError> {
    let operator = operator_of(&req)?;
    let Some(client) = load_client(&state, &path).await? else {
        return crate::routes::errors::not_found(req, state).await;
    };
    let notice = match crate::form::query_params(&req).get("done") {
        Some("saved") => Some("admin_notice_saved"),
        Some("proposed") => Some("admin_notice_proposed"),
        Some("disabled") => Some("admin_notice_disabled"),
        Some("enabled") => Some("admin_notice_enabled"),
        Some("unchanged") => Some("profile_notice_unchanged"),
        _ => None,
    };
    let shown = Shown { notice, ..Shown::client(&client) };
    detail_page(&req, &state, &operator, &client, shown, StatusCode::OK).await
}

pub async fn edit_post(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
    form: FormParams,
) -> Result<HttpResponse, WebError> {
    verify_csrf(&req, &state, form.get("csrf"))?;
    let operator = operator_of(&req)?;
    let locale = request_locale(&req, &state);
    let Some(client) = load_client(&state, &path).await? else {
        return crate::routes::errors::not_found(req, state).await;
    };
    let edit = ClientEdit {
        department_en: form.get("department_en").unwrap_or_default().to_owned(),
        department_zh: form.get("department_zh").unwrap_or_default().to_owned(),
        name: form.get("name").unwrap_or_default().to_owned(),
        name_zh: form.get("name_zh").unwrap_or_default().to_owned(),
        redirect_uris: lines(form.get("redirect_uris")),
        post_logout_redirect_uris: lines(form.get("post_logout_redirect_uris")),
        allowed_scopes: form.all("scope").into_iter().map(str::to_owned).collect(),
        require_pkce: form.get("require_pkce").is_some(),
        id_token_alg: form.get("id_token_alg").unwrap_or_default().to_owned(),
    };
    let now = SystemClock.now();
    let problem = |key: &str| vec![state.pages.catalogs().message(locale, key).to_owned()];
    let refused = |problems: Vec<String>, status| {
        let mut values = form_values(&form);
        values["client_id"] = json!(client.id.as_str());
        values["token_endpoint_auth_method"] = json!(client.token_endpoint_auth_method.as_str());
        values["subject_type"] = json!(client.subject_type.as_str());
        values["sector_identifier"] = json!(client.sector_identifier);
        detail_page(&req, &state, &operator, &client, Shown { values, problems, notice: None }, status)
    };
    match client_admin::edit_client(&state.db, &client.id, edit, operator.id(), state.settings.maker_checker, now).await
    {
        Ok(outcome) if outcome.pending.is_some() => {
            Ok(see_other(&format!("/admin/clients/{}?done=proposed", client.id)))
        }
        Ok(outcome) if outcome.applied.is_empty() => {
            Ok(see_other(&format!("/admin/clients/{}?done=unchanged", client.id)))
        }
        Ok(_) => Ok(see_other(&format!("/admin/clients/{}?done=saved", client.id))),
        Err(AdminError::Invalid(problems)) => {
            refused(
                problems.iter().map(|p| problem_text(&state, locale, p)).collect(),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(AdminError::ChangePending) => refused(problem("admin_problem_change_pending"), StatusCode::CONFLICT).await,
        Err(e) => Err(admin_failure(e)),
    }
}

async fn set_enabled(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
    form: FormParams,
    enabled: bool,
) -> Result<HttpResponse, WebError> {
    verify_csrf(&req, &state, form.get("csrf"))?;
    let operator = operator_of(&req)?;
    let locale = request_locale(&req, &state);
    let Some(client) = load_client(&state, &path).await? else {
        return crate::routes::errors::not_found(req, state).await;
    };
    match client_admin::set_enabled(&state.db, &client.id, enabled, operator.id(), SystemClock.now()).await {
        Ok(()) => {
            let done = if enabled { "enabled" } else { "disabled" };
            Ok(see_other(&format!("/admin/clients/{}?done={done}", client.id)))
        }
        Err(AdminError::AwaitingApproval) => {
            let problem = state.pages.catalogs().message(locale, "admin_problem_awaiting").to_owned();
            detail_page(&req, &state, &operator, &client, Shown::problem(&client, problem), StatusCode::CONFLICT).await
        }
        Err(e) => Err(admin_failure(e)),
    }
}

pub async fn disable_post(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
    form: FormParams,
) -> Result<HttpResponse, WebError> {
    set_enabled(req, state, path, form, false).await
}

pub async fn enable_post(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
    form: FormParams,
) -> Result<HttpResponse, WebError> {
    set_enabled(req, state, path, form, true).await
}

pub async fn secret_post(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
    form: FormParams,
) -> Result<HttpResponse, WebError> {
    verify_csrf(&req, &state, form.get("csrf"))?;
    let operator = operator_of(&req)?;
    let locale = request_locale(&req, &state);
    let Some(client) = load_client(&state, &path).await? else {
        return crate::routes::errors::not_found(req, state).await;
    };
    match client_admin::rotate_secret(&state.db, &client.id, operator.id(), SystemClock.now()).await {
        Ok(secret) => {
            let view = SecretView { secret: Some(secret), awaiting: false, rotated: true };
            show_secret_once(&state, &operator, &client.id, &view).await
        }
        Err(AdminError::PublicClient) => {
            let problem = state.pages.catalogs().message(locale, "admin_problem_public_secret").to_owned();
            detail_page(&req, &state, &operator, &client, Shown::problem(&client, problem), StatusCode::CONFLICT).await
        }
        Err(e) => Err(admin_failure(e)),
    }
}

// ---- Approvals ----------------------------------------------------------------------------

async fn username_of(state: &AppState, id: tessera_domain::CitizenId) -> Result<String, WebError> {
    let citizen =
        state.db.run(move |conn| tessera_store::citizens::by_id(conn, id)).await.map_err(ServiceError::from)?;
    Ok(citizen.map_or_else(|| id.to_string(), |c| c.username.as_str().to_owned()))
}

/// A pending change as the approval pages show it: who proposed it, when, and each
/// setting before and after.
async fn change_view(state: &AppState, change: &tessera_domain::ClientChange) -> Result<Value, WebError> {
    let proposal: Value = serde_json::from_str(&change.proposal).unwrap_or(Value::Null);
    let previous: Value = serde_json::from_str(&change.previous).unwrap_or(Value::Null);
    let mut rows = Vec::new();
    if let Value::Object(fields) = &proposal {
        for (name, after) in fields {
            let before = previous.get(name).cloned().unwrap_or(Value::Null);
            if before != *after {
                rows.push(json!({ "field": name, "before": show(&before), "after": show(after) }));
            }
        }
    }
    let (at, iso) = crate::routes::account::hong_kong_time(change.proposed_at);
    Ok(json!({
        "id": change.id.to_string(),
        "client_id": change.client_id.as_str(),
        "kind": change.kind.as_str(),
        "proposed_by": username_of(state, change.proposed_by).await?,
        "proposed_by_id": change.proposed_by.to_string(),
        "at": at,
        "at_iso": iso,
        "rows": rows,
    }))
}

fn show(value: &Value) -> String {
    match value {
        Value::Null => "—".to_owned(),
        Value::String(s) => s.clone(),
        Value::Array(items) => items.iter().map(show).collect::<Vec<_>>().join("\n"),
        other => other.to_string(),
    }
}

/// Every change waiting for approval, marked when it is the operator's own.
async fn pending_views(state: &AppState, operator: &Operator) -> Result<Vec<Value>, WebError> {
    let pending = client_admin::pending_changes(&state.db).await.map_err(admin_failure)?;
    let mut views = Vec::with_capacity(pending.len());
    for change in &pending {
        let mut view = change_view(state, change).await?;
        view["own"] = json!(change.proposed_by == operator.id());
        views.push(view);
    }
    Ok(views)
}

pub async fn approvals_get(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, WebError> {
    let operator = operator_of(&req)?;
    let mut context = tera::Context::new();
    context.insert("changes", &pending_views(&state, &operator).await?);
    let notice = match crate::form::query_params(&req).get("done") {
        Some("approved") => Some("admin_notice_approved"),
        Some("rejected") => Some("admin_notice_rejected"),
        _ => None,
    };
    if let Some(notice) = notice {
        context.insert("notice", notice);
    }
    admin_page(&req, &state, &operator, "admin_approvals.html", "/admin/approvals", context, StatusCode::OK)
}

async fn decide(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
    form: FormParams,
    approve: bool,
) -> Result<HttpResponse, WebError> {
    verify_csrf(&req, &state, form.get("csrf"))?;
    let operator = operator_of(&req)?;
    let locale = request_locale(&req, &state);
    let Ok(id) = ChangeId::parse(&path) else {
        return crate::routes::errors::not_found(req, state).await;
    };
    let key = match client_admin::decide_change(&state.db, id, operator.id(), approve, SystemClock.now()).await {
        Ok(_) => {
            return Ok(see_other(if approve {
                "/admin/approvals?done=approved"
            } else {
                "/admin/approvals?done=rejected"
            }));
        }
        Err(AdminError::OwnChange) => "admin_problem_own_change",
        Err(AdminError::AlreadyDecided) => "admin_problem_decided",
        Err(AdminError::NotFound) => return crate::routes::errors::not_found(req, state).await,
        Err(e) => return Err(admin_failure(e)),
    };
    let mut context = tera::Context::new();
    context.insert("changes", &pending_views(&state, &operator).await?);
    context.insert("problem", state.pages.catalogs().message(locale, key));
    admin_page(&req, &state, &operator, "admin_approvals.html", "/admin/approvals", context, StatusCode::FORBIDDEN)
}

pub async fn approve_post(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
    form: FormParams,
) -> Result<HttpResponse, WebError> {
    decide(req, state, path, form, true).await
}

pub async fn reject_post(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
    form: FormParams,
) -> Result<HttpResponse, WebError> {
    decide(req, state, path, form, false).await
}

// ---- Logo ---------------------------------------------------------------------------------

/// The `csrf` field and the `logo` file of a multipart form, the file cut off past the
/// limit (one byte more, so an over-long file is recognised). Anything that is not
/// multipart, or breaks off, yields what was read so far: the CSRF check then refuses it.
async fn read_logo_form(req: &HttpRequest, payload: web::Payload) -> (Option<String>, Option<Vec<u8>>) {
    use futures_util::StreamExt as _;
    let mut csrf = None;
    let mut logo = None;
    let mut form = actix_multipart::Multipart::new(req.headers(), payload);
    while let Some(Ok(mut field)) = form.next().await {
        let name = field.name().unwrap_or_default().to_owned();
        let limit = if name == "logo" { client_admin::MAX_LOGO_BYTES + 1 } else { 128 };
        let mut value = Vec::new();
        while let Some(Ok(chunk)) = field.next().await {
            let room = limit.saturating_sub(value.len());
            value.extend_from_slice(&chunk[..chunk.len().min(room)]);
        }
        match name.as_str() {
            "csrf" => csrf = String::from_utf8(value).ok(),
            "logo" => logo = Some(value),
            _ => {}
        }
    }
    (csrf, logo)
}

/// `POST /admin/clients/{id}/logo` (multipart: `csrf`, `logo`): a PNG or JPEG of at most
/// 64 KiB, recognised by its content, shown to citizens at once.
pub async fn logo_post(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, WebError> {
    let (csrf, logo) = read_logo_form(&req, payload).await;
    verify_csrf(&req, &state, csrf.as_deref())?;
    let operator = operator_of(&req)?;
    let locale = request_locale(&req, &state);
    let Some(client) = load_client(&state, &path).await? else {
        return crate::routes::errors::not_found(req, state).await;
    };
    match client_admin::set_logo(&state.db, &client.id, logo.unwrap_or_default(), operator.id(), SystemClock.now())
        .await
    {
        Ok(()) => Ok(see_other(&format!("/admin/clients/{}?done=saved", client.id))),
        Err(AdminError::Logo) => {
            let problem = state.pages.catalogs().message(locale, "admin_problem_logo").to_owned();
            detail_page(
                &req,
                &state,
                &operator,
                &client,
                Shown::problem(&client, problem),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(e) => Err(admin_failure(e)),
    }
}

pub async fn logo_remove_post(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
    form: FormParams,
) -> Result<HttpResponse, WebError> {
    verify_csrf(&req, &state, form.get("csrf"))?;
    let operator = operator_of(&req)?;
    let Some(client) = load_client(&state, &path).await? else {
        return crate::routes::errors::not_found(req, state).await;
    };
    client_admin::remove_logo(&state.db, &client.id, operator.id(), SystemClock.now()).await.map_err(admin_failure)?;
    Ok(see_other(&format!("/admin/clients/{}?done=saved", client.id)))
}

/// `GET /clients/{id}/logo` (public: the sign-in and consent pages show it).
pub async fn logo_get(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, WebError> {
    let logo = match ClientId::parse(&path) {
        Ok(id) => {
            state.db.run(move |conn| tessera_store::client_logos::get(conn, &id)).await.map_err(ServiceError::from)?
        }
        Err(_) => None,
    };
    let Some(logo) = logo else { return crate::routes::errors::not_found(req, state).await };
    Ok(HttpResponse::Ok()
        .content_type(logo.content_type)
        .insert_header((actix_web::http::header::CACHE_CONTROL, "public, max-age=300"))
        .body(logo.bytes))
}

/// Whether a client has a logo, for the pages that show it.
pub(crate) async fn has_logo(state: &AppState, id: &ClientId) -> Result<bool, WebError> {
    let id = id.clone();
    Ok(state.db.run(move |conn| tessera_store::client_logos::exists(conn, &id)).await.map_err(ServiceError::from)?)
}
