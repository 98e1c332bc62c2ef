//! Registration of department clients, for `tessera client add` and the admin pages.
//!
//! [`validate_new_client`] is the pure rule set: it turns an operator's [`NewClient`] into a
//! [`Client`] (and a fresh secret for a confidential client) or lists every problem at once.
//! [`register`] validates, stores and audits.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use tessera_crypto::{SigningAlg, random_bytes, random_token, token_digest};
use tessera_domain::{
    AuditEvent, AuditKind, Client, ClientId, Outcome, SubjectType, TokenEndpointAuthMethod, UnixTime,
};
use tessera_store::{Db, StoreError, audit, clients};

use crate::redirect::{RedirectUri, RedirectUriError};
use crate::scope::{OPENID, ScopeSet, is_supported};
use crate::subject::sector_of;

/// The longest department or application name, in characters.
pub const MAX_NAME_CHARS: usize = 200;
/// The longest sector identifier, in bytes.
pub const MAX_SECTOR_LEN: usize = 255;

/// What an operator asks to register.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct NewClient {
    /// The client id to use; `None` generates 22 characters of base64url (128 random bits).
    pub client_id: Option<String>,
    pub department_en: String,
    pub department_zh: String,
    /// The application's display name.
    pub name: String,
    /// The application's name in Chinese (optional).
    #[serde(default)]
    pub name_zh: String,
    pub redirect_uris: Vec<String>,
    #[serde(default)]
    pub post_logout_redirect_uris: Vec<String>,
    pub allowed_scopes: Vec<String>,
    pub token_endpoint_auth_method: TokenEndpointAuthMethod,
    pub subject_type: SubjectType,
    /// The pairwise sector; `None` means the single host of the redirect URIs.
    #[serde(default)]
    pub sector_identifier: Option<String>,
    pub require_pkce: bool,
    /// `RS256`, `ES256` or `EdDSA`.
    pub id_token_alg: String,
}

/// One reason a [`NewClient`] cannot be registered. Messages name the field and the rule.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClientProblem {
    #[error("client id: {0}")]
    ClientId(tessera_domain::DomainError),
    #[error("{field} must not be empty")]
    EmptyName { field: &'static str },
    #[error("{field} must be at most {MAX_NAME_CHARS} characters")]
    NameTooLong { field: &'static str },
    #[error("{field} must not contain control characters")]
    NameControlCharacter { field: &'static str },
    #[error("at least one redirect URI is required")]
    NoRedirectUri,
    #[error("redirect URI {index}: {error}")]
    RedirectUri { index: usize, error: RedirectUriError },
    #[error("post-logout redirect URI {index}: {error}")]
    PostLogoutRedirectUri { index: usize, error: RedirectUriError },
    #[error("scope {0:?} is not supported")]
    UnsupportedScope(String),
    #[error("allowed scopes must include openid")]
    MissingOpenid,
    #[error("ID token algorithm must be RS256, ES256 or EdDSA")]
    IdTokenAlg,
    #[error("a public client (token_endpoint_auth_method none) must require PKCE")]
    PublicClientWithoutPkce,
    #[error("a pairwise client whose redirect URIs are on several hosts needs a sector identifier")]
    SectorRequired,
    #[error("sector identifier must be 1 to {MAX_SECTOR_LEN} printable ASCII characters without spaces")]
    InvalidSector,
    #[error("randomness unavailable: {0}")]
    Randomness(String),
}

/// Why [`register`] failed.
#[derive(Debug, thiserror::Error)]
pub enum RegisterError {
    /// The request breaks one or more rules.
    #[error("invalid client: {}", join(.0))]
    Invalid(Vec<ClientProblem>),
    /// The client id is already registered.
    #[error("a client with id {0} is already registered")]
    Duplicate(ClientId),
    #[error(transparent)]
    Store(StoreError),
}

fn join(problems: &[ClientProblem]) -> String {
    problems.iter().map(ToString::to_string).collect::<Vec<_>>().join("; ")
}

/// A generated client id: 16 random bytes as base64url (22 characters). A leading `-` or `_`
/// becomes `A`, so the id never looks like a command-line option.
fn generate_client_id() -> Result<ClientId, ClientProblem> {
    let bytes = random_bytes::<16>().map_err(|e| ClientProblem::Randomness(e.to_string()))?;
    let mut id = URL_SAFE_NO_PAD.encode(bytes);
    if id.starts_with(['-', '_']) {
        id.replace_range(0..1, "A");
    }
    ClientId::parse(&id).map_err(ClientProblem::ClientId)
}

fn check_name(field: &'static str, value: &str, problems: &mut Vec<ClientProblem>) -> String {
    let trimmed = value.trim();
    if trimmed.is_empty() {
        problems.push(ClientProblem::EmptyName { field });
    } else if trimmed.chars().count() > MAX_NAME_CHARS {
        problems.push(ClientProblem::NameTooLong { field });
    } else if trimmed.chars().any(char::is_control) {
        problems.push(ClientProblem::NameControlCharacter { field });
    }
    trimmed.to_owned()
}

fn check_uris(
    uris: &[String],
    problem: fn(usize, RedirectUriError) -> ClientProblem,
    problems: &mut Vec<ClientProblem>,
) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for (index, uri) in uris.iter().enumerate() {
        match RedirectUri::parse_registration(uri) {
            Ok(u) if !out.iter().any(|o| o == u.as_str()) => out.push(u.into_string()),
            Ok(_) => {}
            Err(error) => problems.push(problem(index, error)),
        }
    }
    out
}

/// Checks a registration request and builds the client, enabled, created at `now`.
///
/// Rules: the client id (given or generated) is a valid [`ClientId`]; the three names are
/// non-empty after trimming, at most [`MAX_NAME_CHARS`] characters, without control
/// characters; at least one redirect URI; every redirect and post-logout redirect URI passes
/// [`RedirectUri::parse_registration`] (duplicates are dropped); every allowed scope is
/// supported and `openid` is among them; the ID token algorithm is `RS256`, `ES256` or
/// `EdDSA`; a public client (`none`) requires PKCE (RFC 9700 §2.1.1); a pairwise client
/// without a sector identifier has all redirect URIs on one host, which becomes its sector
/// (OIDC Core §8.1).
///
/// A confidential client gets a fresh 256-bit secret, returned once; only its SHA-256 digest
/// is kept in the client.
pub fn validate_new_client(new: NewClient, now: UnixTime) -> Result<(Client, Option<String>), Vec<ClientProblem>> {
    let mut problems = Vec::new();

    let id = match &new.client_id {
        Some(id) => ClientId::parse(id).map_err(ClientProblem::ClientId),
        None => generate_client_id(),
    };
    let id = id.map_err(|p| problems.push(p)).ok();

    let department_en = check_name("department_en", &new.department_en, &mut problems);
    let department_zh = check_name("department_zh", &new.department_zh, &mut problems);
    let name = check_name("name", &new.name, &mut problems);
    let name_zh = new.name_zh.trim().to_owned();
    if name_zh.chars().count() > MAX_NAME_CHARS || name_zh.chars().any(char::is_control) {
        problems.push(ClientProblem::NameTooLong { field: "name_zh" });
    }

    if new.redirect_uris.is_empty() {
        problems.push(ClientProblem::NoRedirectUri);
    }
    let redirect_uris =
        check_uris(&new.redirect_uris, |index, error| ClientProblem::RedirectUri { index, error }, &mut problems);
    let post_logout_redirect_uris = check_uris(
        &new.post_logout_redirect_uris,
        |index, error| ClientProblem::PostLogoutRedirectUri { index, error },
        &mut problems,
    );

    let mut scopes: Vec<String> = Vec::new();
    for scope in &new.allowed_scopes {
        if !is_supported(scope) {
            problems.push(ClientProblem::UnsupportedScope(scope.clone()));
        } else if !scopes.contains(scope) {
            scopes.push(scope.clone());
        }
    }
    if !scopes.iter().any(|s| s == OPENID) {
        problems.push(ClientProblem::MissingOpenid);
    }
    // Stored in the canonical (sorted) order.
    let allowed_scopes: Vec<String> =
        ScopeSet::parse(&scopes.join(" ")).map(|s| s.iter().map(str::to_owned).collect()).unwrap_or(scopes);

    if new.id_token_alg.parse::<SigningAlg>().is_err() {
        problems.push(ClientProblem::IdTokenAlg);
    }
    let public = new.token_endpoint_auth_method == TokenEndpointAuthMethod::None;
    if public && !new.require_pkce {
        problems.push(ClientProblem::PublicClientWithoutPkce);
    }

    let sector_identifier = match &new.sector_identifier {
        Some(s) if s.is_empty() || s.len() > MAX_SECTOR_LEN || !s.bytes().all(|b| b.is_ascii_graphic()) => {
            problems.push(ClientProblem::InvalidSector);
            String::new()
        }
        Some(s) => s.clone(),
        None => match (sector_of(&redirect_uris), new.subject_type) {
            (Some(host), _) => host,
            (None, SubjectType::Pairwise) if !redirect_uris.is_empty() => {
                problems.push(ClientProblem::SectorRequired);
                String::new()
            }
            (None, _) => String::new(),
        },
    };

    let secret = if public {
        None
    } else {
        match random_token() {
            Ok(s) => Some(s),
            Err(e) => {
                problems.push(ClientProblem::Randomness(e.to_string()));
                None
            }
        }
    };

    let Some(id) = id.filter(|_| problems.is_empty()) else {
        return Err(problems);
    };
    let client = Client {
        id,
        department_en,
        department_zh,
        name,
        name_zh,
        redirect_uris,
        post_logout_redirect_uris,
        allowed_scopes,
        token_endpoint_auth_method: new.token_endpoint_auth_method,
        secret_digest: secret.as_deref().map(token_digest),
        subject_type: new.subject_type,
        sector_identifier,
        require_pkce: new.require_pkce,
        id_token_alg: new.id_token_alg,
        enabled: true,
        created_at: now,
        updated_at: now,
    };
    Ok((client, secret))
}

/// Validates and registers a client, and appends a `client.created` audit event (with no
/// actor; see [`register_by`]). Returns the client and, for a confidential client, its secret:
/// show it once, it cannot be recovered.
pub async fn register(db: &Db, new: NewClient, now: UnixTime) -> Result<(Client, Option<String>), RegisterError> {
    register_as(db, new, None, now).await
}

/// Like [`register`], recording `actor` (for example `operator:alice`) in the audit event.
pub async fn register_by(
    db: &Db,
    new: NewClient,
    actor: &str,
    now: UnixTime,
) -> Result<(Client, Option<String>), RegisterError> {
    register_as(db, new, Some(actor.to_owned()), now).await
}

async fn register_as(
    db: &Db,
    new: NewClient,
    actor: Option<String>,
    now: UnixTime,
) -> Result<(Client, Option<String>), RegisterError> {
    let (client, secret) = validate_new_client(new, now).map_err(RegisterError::Invalid)?;
    // The detail never holds the secret or its digest.
    let detail = serde_json::json!({
        "name": client.name,
        "department_en": client.department_en,
        "redirect_uris": client.redirect_uris,
        "allowed_scopes": client.allowed_scopes,
        "token_endpoint_auth_method": client.token_endpoint_auth_method.as_str(),
        "subject_type": client.subject_type.as_str(),
        "require_pkce": client.require_pkce,
        "id_token_alg": client.id_token_alg,
    })
    .to_string();
    let event = AuditEvent {
        id: None,
        at: now,
        kind: AuditKind::CLIENT_CREATED,
        actor,
        client_id: Some(client.id.as_str().to_owned()),
        ip: None,
        outcome: Outcome::Success,
        detail,
    };

    let stored = client.clone();
    let result = db
        .run(move |conn| {
            clients::insert(conn, &stored)?;
            audit::append(conn, &event)
        })
        .await;
    match result {
        Ok(()) => {
            tracing::info!(client_id = %client.id, "client registered");
            Ok((client, secret))
        }
        Err(StoreError::Conflict(_)) => Err(RegisterError::Duplicate(client.id)),
        Err(e) => Err(RegisterError::Store(e)),
    }
}

/// A valid confidential client for tests: `client_secret_basic`, pairwise, PKCE required,
/// every scope allowed, redirect URI `https://{id}.example.gov.hk/cb`.
#[cfg(test)]
#[expect(clippy::unwrap_used, reason = "a test fixture, called with valid ids")]
pub(crate) fn test_client(id: &str) -> Client {
    Client {
        id: ClientId::parse(id).unwrap(),
        department_en: "Transport Department".to_owned(),
        department_zh: "運輸署".to_owned(),
        name: "Licensing portal".to_owned(),
        name_zh: String::new(),
        redirect_uris: vec![format!("https://{id}.example.gov.hk/cb")],
        post_logout_redirect_uris: vec![],
        allowed_scopes: crate::scope::SUPPORTED_SCOPES.iter().map(|s| (*s).to_owned()).collect(),
        token_endpoint_auth_method: TokenEndpointAuthMethod::ClientSecretBasic,
        secret_digest: Some(token_digest("secret")),
        subject_type: SubjectType::Pairwise,
        sector_identifier: format!("{id}.example.gov.hk"),
        require_pkce: true,
        id_token_alg: "RS256".to_owned(),
        enabled: true,
        created_at: UnixTime::from_secs(1_700_000_000),
        updated_at: UnixTime::from_secs(1_700_000_000),
    }
}

#[cfg(test)]
#[path = "clients_tests.rs"]
mod tests;
