//! Operators managing department clients on the admin page, with maker-checker: a new
//! client, or new redirect URIs, post-logout URIs or scopes for an existing one, take
//! effect only when a second operator approves them. Everything else an operator may edit
//! (names, PKCE policy, ID-token algorithm) applies at once. The token endpoint auth method,
//! the subject type and the sector are fixed at registration: changing them would change
//! every citizen's `sub` or the client's credentials, so that is a new client.
//!
//! Every action is audited with the operator as actor and the settings before and after;
//! no secret or digest ever appears in the audit log.

use crate::clients::{ClientProblem, NewClient, validate_new_client};
use serde::{Deserialize, Serialize};
use serde_json::json;
use tessera_crypto::{random_token, token_digest};
use tessera_domain::{
    AuditEvent, AuditKind, ChangeId, ChangeKind, ChangeStatus, CitizenId, Client, ClientChange, ClientId, Outcome,
    TokenEndpointAuthMethod, UnixTime,
};
use tessera_store::{Db, StoreError, audit, client_changes, clients};

/// Why an admin action on a client was refused.
#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    #[error("invalid client: {0:?}")]
    Invalid(Vec<ClientProblem>),
    #[error("no such client or change")]
    NotFound,
    #[error("a client id that is already registered")]
    Duplicate,
    #[error("an operator cannot approve their own change")]
    OwnChange,
    #[error("the change was already decided")]
    AlreadyDecided,
    #[error("the client already has a change waiting for approval")]
    ChangePending,
    #[error("the client is waiting for approval and cannot be enabled yet")]
    AwaitingApproval,
    #[error("a public client has no secret")]
    PublicClient,
    #[error("a logo must be a PNG or JPEG image of at most 64 KiB")]
    Logo,
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("randomness unavailable: {0}")]
    Randomness(String),
}

/// The settings that need a second operator: where the client may send citizens back to,
/// and what it may ask for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GatedSettings {
    pub redirect_uris: Vec<String>,
    pub post_logout_redirect_uris: Vec<String>,
    pub allowed_scopes: Vec<String>,
}

impl GatedSettings {
    fn of(client: &Client) -> Self {
        GatedSettings {
            redirect_uris: client.redirect_uris.clone(),
            post_logout_redirect_uris: client.post_logout_redirect_uris.clone(),
            allowed_scopes: client.allowed_scopes.clone(),
        }
    }

    fn apply_to(self, client: &mut Client) {
        client.redirect_uris = self.redirect_uris;
        client.post_logout_redirect_uris = self.post_logout_redirect_uris;
        client.allowed_scopes = self.allowed_scopes;
    }
}

/// What an operator submits on a client's edit form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientEdit {
    pub department_en: String,
    pub department_zh: String,
    pub name: String,
    pub name_zh: String,
    pub redirect_uris: Vec<String>,
    pub post_logout_redirect_uris: Vec<String>,
    pub allowed_scopes: Vec<String>,
    pub require_pkce: bool,
    pub id_token_alg: String,
}

/// What an edit did.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct EditOutcome {
    /// Fields that changed at once.
    pub applied: Vec<&'static str>,
    /// The change waiting for a second operator, if the edit touched gated settings.
    pub pending: Option<ChangeId>,
}

/// A newly registered client: its secret (shown once) and, under maker-checker, the
/// change that must be approved before it can be used.
#[derive(Debug)]
pub struct Created {
    pub client: Client,
    pub secret: Option<String>,
    pub pending: Option<ChangeId>,
}

fn to_json<T: Serialize>(value: &T) -> Result<String, AdminError> {
    serde_json::to_string(value)
        .map_err(|_| AdminError::Store(StoreError::Internal("a client setting does not serialise")))
}

fn event(
    kind: AuditKind,
    operator: CitizenId,
    client: &ClientId,
    detail: serde_json::Value,
    now: UnixTime,
) -> AuditEvent {
    AuditEvent {
        actor: Some(operator.to_string()),
        client_id: Some(client.as_str().to_owned()),
        outcome: Outcome::Success,
        detail: detail.to_string(),
        ..AuditEvent::new(kind, now)
    }
}

/// The settings of a client as the audit log shows them (no secret, no digest).
fn audit_view(client: &Client) -> serde_json::Value {
    json!({
        "department_en": client.department_en,
        "department_zh": client.department_zh,
        "name": client.name,
        "name_zh": client.name_zh,
        "redirect_uris": client.redirect_uris,
        "post_logout_redirect_uris": client.post_logout_redirect_uris,
        "allowed_scopes": client.allowed_scopes,
        "token_endpoint_auth_method": client.token_endpoint_auth_method.as_str(),
        "subject_type": client.subject_type.as_str(),
        "sector_identifier": client.sector_identifier,
        "require_pkce": client.require_pkce,
        "id_token_alg": client.id_token_alg,
        "enabled": client.enabled,
    })
}

/// Registers a client for `operator`. Under maker-checker it is stored disabled with a
/// pending `create` change; otherwise it is live at once.
pub async fn create_client(
    db: &Db,
    new: NewClient,
    operator: CitizenId,
    maker_checker: bool,
    now: UnixTime,
) -> Result<Created, AdminError> {
    let (mut client, secret) = validate_new_client(new, now).map_err(AdminError::Invalid)?;
    client.enabled = !maker_checker;
    let change = maker_checker.then(|| ClientChange {
        id: ChangeId::generate(),
        client_id: client.id.clone(),
        kind: ChangeKind::Create,
        proposal: audit_view(&client).to_string(),
        previous: "{}".to_owned(),
        proposed_by: operator,
        proposed_at: now,
        status: ChangeStatus::Pending,
        decided_by: None,
        decided_at: None,
    });
    let pending = change.as_ref().map(|c| c.id);
    let detail = json!({ "after": audit_view(&client), "awaiting_approval": maker_checker, "change_id": pending });
    let created = event(AuditKind::CLIENT_CREATED, operator, &client.id, detail, now);
    let stored = client.clone();
    let result = db
        .transaction(move |conn| {
            clients::insert(conn, &stored)?;
            if let Some(change) = &change {
                client_changes::insert(conn, change)?;
            }
            audit::append(conn, &created)
        })
        .await;
    match result {
        Ok(()) => {
            tracing::info!(client_id = %client.id, operator = %operator, maker_checker, "client registered on the admin page");
            Ok(Created { client, secret, pending })
        }
        Err(StoreError::Conflict(_)) => Err(AdminError::Duplicate),
        Err(e) => Err(e.into()),
    }
}

/// Applies an operator's edit: names, PKCE policy and ID-token algorithm at once; redirect
/// URIs, post-logout URIs and scopes through a change for a second operator under
/// maker-checker (at once otherwise). The whole edit is checked with the registration
/// rules first, so nothing invalid is ever stored or proposed.
pub async fn edit_client(
    db: &Db,
    id: &ClientId,
    edit: ClientEdit,
    operator: CitizenId,
    maker_checker: bool,
    now: UnixTime,
) -> Result<EditOutcome, AdminError> {
    let lookup = id.clone();
    let current = db.run(move |conn| clients::by_id(conn, &lookup)).await?.ok_or(AdminError::NotFound)?;
    let checked = NewClient {
        client_id: Some(current.id.as_str().to_owned()),
        department_en: edit.department_en,
        department_zh: edit.department_zh,
        name: edit.name,
        name_zh: edit.name_zh,
        redirect_uris: edit.redirect_uris,
        post_logout_redirect_uris: edit.post_logout_redirect_uris,
        allowed_scopes: edit.allowed_scopes,
        token_endpoint_auth_method: current.token_endpoint_auth_method,
        subject_type: current.subject_type,
        sector_identifier: Some(current.sector_identifier.clone()).filter(|s| !s.is_empty()),
        require_pkce: edit.require_pkce,
        id_token_alg: edit.id_token_alg,
    };
    let (valid, _) = validate_new_client(checked, now).map_err(AdminError::Invalid)?;

    let mut updated = current.clone();
    let mut applied = Vec::new();
    let mut set = |field: &'static str, differs: bool| {
        if differs {
            applied.push(field);
        }
    };
    set("department_en", valid.department_en != current.department_en);
    set("department_zh", valid.department_zh != current.department_zh);
    set("name", valid.name != current.name);
    set("name_zh", valid.name_zh != current.name_zh);
    set("require_pkce", valid.require_pkce != current.require_pkce);
    set("id_token_alg", valid.id_token_alg != current.id_token_alg);
    updated.department_en = valid.department_en.clone();
    updated.department_zh = valid.department_zh.clone();
    updated.name = valid.name.clone();
    updated.name_zh = valid.name_zh.clone();
    updated.require_pkce = valid.require_pkce;
    updated.id_token_alg = valid.id_token_alg.clone();

    let gated_now = GatedSettings::of(&current);
    let gated_new = GatedSettings::of(&valid);
    let mut change = None;
    if gated_new != gated_now {
        if maker_checker {
            change = Some(ClientChange {
                id: ChangeId::generate(),
                client_id: current.id.clone(),
                kind: ChangeKind::Update,
                proposal: to_json(&gated_new)?,
                previous: to_json(&gated_now)?,
                proposed_by: operator,
                proposed_at: now,
                status: ChangeStatus::Pending,
                decided_by: None,
                decided_at: None,
            });
        } else {
            gated_new.clone().apply_to(&mut updated);
            applied.extend(["redirect_uris", "post_logout_redirect_uris", "allowed_scopes"]);
        }
    }
    if applied.is_empty() && change.is_none() {
        return Ok(EditOutcome::default());
    }
    updated.updated_at = now;
    let pending = change.as_ref().map(|c| c.id);
    let detail = json!({
        "before": audit_view(&current),
        "after": audit_view(&updated),
        "fields": applied,
        "proposed": change.as_ref().map(|_| &gated_new),
        "change_id": pending,
    });
    let audited = event(AuditKind::CLIENT_UPDATED, operator, &current.id, detail, now);
    let apply = !applied.is_empty();
    let result = db
        .transaction(move |conn| {
            if let Some(change) = &change {
                client_changes::insert(conn, change)?;
            }
            if apply {
                clients::update(conn, &updated)?;
            }
            audit::append(conn, &audited)
        })
        .await;
    match result {
        Ok(()) => Ok(EditOutcome { applied, pending }),
        Err(StoreError::Conflict(_)) => Err(AdminError::ChangePending),
        Err(e) => Err(e.into()),
    }
}

/// A second operator approves or rejects a pending change. The maker can never decide
/// their own change; of two decisions at once, one wins. Approving a `create` enables the
/// client; approving an `update` applies the proposed redirect URIs and scopes.
pub async fn decide_change(
    db: &Db,
    change_id: ChangeId,
    operator: CitizenId,
    approve: bool,
    now: UnixTime,
) -> Result<ClientChange, AdminError> {
    let change = db.run(move |conn| client_changes::by_id(conn, change_id)).await?.ok_or(AdminError::NotFound)?;
    if change.status != ChangeStatus::Pending {
        return Err(AdminError::AlreadyDecided);
    }
    if change.proposed_by == operator {
        return Err(AdminError::OwnChange);
    }
    let status = if approve { ChangeStatus::Approved } else { ChangeStatus::Rejected };
    let decided = change.clone();
    let outcome = db
        .transaction(move |conn| {
            if !client_changes::decide(conn, decided.id, status, operator, now)? {
                return Ok(Err(AdminError::AlreadyDecided));
            }
            let Some(mut client) = clients::by_id(conn, &decided.client_id)? else {
                return Ok(Err(AdminError::NotFound));
            };
            let before = audit_view(&client);
            let kind = match (approve, decided.kind) {
                (true, ChangeKind::Create) => {
                    client.enabled = true;
                    AuditKind::CLIENT_ENABLED
                }
                (true, ChangeKind::Update) => {
                    let gated: GatedSettings = serde_json::from_str(&decided.proposal).map_err(|e| {
                        StoreError::Corrupt { table: "client_changes", column: "proposal", reason: e.to_string() }
                    })?;
                    gated.apply_to(&mut client);
                    AuditKind::CLIENT_UPDATED
                }
                (false, _) => AuditKind::CLIENT_UPDATED,
            };
            if approve {
                client.updated_at = now;
                clients::update(conn, &client)?;
            }
            let detail = json!({
                "change_id": decided.id,
                "change": decided.kind.as_str(),
                "decision": status.as_str(),
                "proposed_by": decided.proposed_by,
                "before": before,
                "after": audit_view(&client),
            });
            audit::append(conn, &event(kind, operator, &decided.client_id, detail, now))?;
            Ok(Ok(()))
        })
        .await?;
    outcome?;
    tracing::info!(change_id = %change.id, client_id = %change.client_id, approve, "client change decided");
    Ok(ClientChange { status, decided_by: Some(operator), decided_at: Some(now), ..change })
}

/// Disables or re-enables a client at once. A client whose registration still waits for
/// approval cannot be enabled this way.
pub async fn set_enabled(
    db: &Db,
    id: &ClientId,
    enabled: bool,
    operator: CitizenId,
    now: UnixTime,
) -> Result<(), AdminError> {
    let lookup = id.clone();
    let (client, pending) =
        db.run(move |conn| Ok((clients::by_id(conn, &lookup)?, client_changes::pending_for(conn, &lookup)?))).await?;
    let client = client.ok_or(AdminError::NotFound)?;
    if enabled && pending.is_some_and(|c| c.kind == ChangeKind::Create) {
        return Err(AdminError::AwaitingApproval);
    }
    if client.enabled == enabled {
        return Ok(());
    }
    let kind = if enabled { AuditKind::CLIENT_ENABLED } else { AuditKind::CLIENT_DISABLED };
    let audited =
        event(kind, operator, id, json!({ "before": { "enabled": !enabled }, "after": { "enabled": enabled } }), now);
    let id = id.clone();
    db.transaction(move |conn| {
        clients::set_enabled(conn, &id, enabled, now)?;
        audit::append(conn, &audited)
    })
    .await?;
    Ok(())
}

/// Gives a confidential client a new secret at once and returns it (shown once); the old
/// one stops working.
pub async fn rotate_secret(db: &Db, id: &ClientId, operator: CitizenId, now: UnixTime) -> Result<String, AdminError> {
    let lookup = id.clone();
    let mut client = db.run(move |conn| clients::by_id(conn, &lookup)).await?.ok_or(AdminError::NotFound)?;
    if client.token_endpoint_auth_method == TokenEndpointAuthMethod::None {
        return Err(AdminError::PublicClient);
    }
    let secret = random_token().map_err(|e| AdminError::Randomness(e.to_string()))?;
    client.secret_digest = Some(token_digest(&secret));
    client.updated_at = now;
    let audited = event(AuditKind::CLIENT_SECRET_ROTATED, operator, id, json!({}), now);
    db.transaction(move |conn| {
        clients::update(conn, &client)?;
        audit::append(conn, &audited)
    })
    .await?;
    Ok(secret)
}

/// Every change waiting for approval, oldest first.
pub async fn pending_changes(db: &Db) -> Result<Vec<ClientChange>, AdminError> {
    Ok(db.run(client_changes::pending).await?)
}

/// The change waiting for approval for one client, if any.
pub async fn pending_change(db: &Db, id: &ClientId) -> Result<Option<ClientChange>, AdminError> {
    let id = id.clone();
    Ok(db.run(move |conn| client_changes::pending_for(conn, &id)).await?)
}

/// The largest logo accepted, in bytes.
pub const MAX_LOGO_BYTES: usize = 64 * 1024;

/// The media type of a logo, from its first bytes (never from what the browser claims):
/// PNG or JPEG only. SVG is refused: it can carry scripts.
pub fn logo_type(bytes: &[u8]) -> Option<&'static str> {
    if bytes.len() > MAX_LOGO_BYTES {
        return None;
    }
    if bytes.starts_with(&[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A]) {
        Some("image/png")
    } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some("image/jpeg")
    } else {
        None
    }
}

/// Sets a department's logo at once (it changes only what citizens see), audited with its
/// size and SHA-256.
pub async fn set_logo(
    db: &Db,
    id: &ClientId,
    bytes: Vec<u8>,
    operator: CitizenId,
    now: UnixTime,
) -> Result<(), AdminError> {
    let content_type = logo_type(&bytes).ok_or(AdminError::Logo)?;
    let lookup = id.clone();
    db.run(move |conn| clients::by_id(conn, &lookup)).await?.ok_or(AdminError::NotFound)?;
    let digest = crate::sso::hex(&tessera_crypto::sha256(&bytes));
    let detail = json!({ "logo": { "content_type": content_type, "bytes": bytes.len(), "sha256": digest } });
    let audited = event(AuditKind::CLIENT_UPDATED, operator, id, detail, now);
    let logo = tessera_store::client_logos::Logo { content_type: content_type.to_owned(), bytes, updated_at: now };
    let id = id.clone();
    db.transaction(move |conn| {
        tessera_store::client_logos::set(conn, &id, &logo)?;
        audit::append(conn, &audited)
    })
    .await?;
    Ok(())
}

/// Removes a department's logo, audited.
pub async fn remove_logo(db: &Db, id: &ClientId, operator: CitizenId, now: UnixTime) -> Result<(), AdminError> {
    let audited = event(AuditKind::CLIENT_UPDATED, operator, id, json!({ "logo": "removed" }), now);
    let id = id.clone();
    db.transaction(move |conn| {
        if tessera_store::client_logos::remove(conn, &id)? {
            audit::append(conn, &audited)?;
        }
        Ok(())
    })
    .await?;
    Ok(())
}
