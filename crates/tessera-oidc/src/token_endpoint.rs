//! `/token` (RFC 6749 §3.2): the authorization code, refresh token and client
//! credentials grants, with client authentication, PKCE, single-use codes whose second
//! redemption revokes what the first issued, and refresh-token rotation whose reuse
//! revokes the whole family.

use crate::client_auth::{authenticate, client_credentials};
use crate::error::{ErrorCode, OAuthError};
use crate::grant::CodeGrant;
use crate::scope::ScopeSet;
use crate::service::{Oidc, ServiceError, from_json, to_json};
use crate::tokens::{IdTokenFacts, Issue, TokenResponse};
use serde_json::{Map, Value};
use std::time::Duration;
use tessera_crypto::token_digest;
use tessera_domain::{
    AuditEvent, AuditKind, CitizenStatus, Client, GrantId, Outcome, TokenEndpointAuthMethod, UnixTime,
};
use tessera_session::SessionStore;
use tessera_store::{audit, citizens, clients, consents, refresh_tokens};

/// A refused token request: the OAuth error, and whether the client authenticated with
/// the `Authorization` header (then a 401 carries `WWW-Authenticate`).
#[derive(Debug)]
pub struct TokenError {
    pub error: OAuthError,
    pub status: u16,
    /// With status 429: seconds to wait before trying again.
    pub retry_after: Option<u64>,
}

impl TokenError {
    fn new(code: ErrorCode, text: &str) -> TokenError {
        OAuthError::new(code, text).into()
    }
}

impl From<OAuthError> for TokenError {
    fn from(error: OAuthError) -> Self {
        let status = if error.code == ErrorCode::InvalidClient { 401 } else { 400 };
        TokenError { error, status, retry_after: None }
    }
}

/// A request of a client to the token, introspection or revocation endpoint.
#[derive(Debug, Clone, Copy)]
pub struct ClientRequest<'a> {
    /// The `Authorization` header, if any.
    pub authorization: Option<&'a str>,
    /// The form parameters, in order, repeated ones kept.
    pub form: &'a [(String, String)],
    /// The address the request came from (throttling of failed client authentication).
    pub ip: &'a str,
}

/// Failed client authentications accepted from one address per window before it must wait.
const CLIENT_AUTH_FAILURES_PER_IP: u64 = 30;
/// The window those failures are counted in.
const CLIENT_AUTH_WINDOW: Duration = Duration::from_secs(5 * 60);

fn client_auth_failures_key(ip: &str) -> String {
    format!("client-auth-failures:{}", crate::sso::hex(&token_digest(ip)))
}

/// The outcome of a token request.
pub type TokenResult = Result<Result<TokenResponse, TokenError>, ServiceError>;

/// Whether a token response carries a refresh token, and with what grant.
enum Refresh {
    None,
    /// A new one for the issued scope and claims.
    New,
    /// The rotated one: the grant's full scope and claims, whatever the access token got.
    Keep {
        scope: String,
        claims: Vec<String>,
    },
}

/// How long a redeemed code is remembered, to catch a second redemption.
const USED_CODE_MEMORY: Duration = Duration::from_secs(10 * 60);

fn single<'a>(form: &'a [(String, String)], name: &str) -> Result<Option<&'a str>, TokenError> {
    let mut values = form.iter().filter(|(k, _)| k == name).map(|(_, v)| v.as_str());
    let first = values.next();
    if values.next().is_some() {
        return Err(TokenError::new(ErrorCode::InvalidRequest, &format!("{name} is repeated")));
    }
    Ok(first.filter(|v| !v.is_empty()))
}

impl Oidc {
    /// Authenticates the client of a token, introspection or revocation request. Failures
    /// are counted per address in the shared store; past the limit the address gets 429
    /// until the window ends. Success costs no store access (the token endpoint is hot).
    pub async fn authenticate_client(
        &self,
        request: ClientRequest<'_>,
    ) -> Result<Result<Client, TokenError>, ServiceError> {
        let outcome = self.check_client(request.authorization, request.form).await?;
        if outcome.is_ok() {
            return Ok(outcome);
        }
        let failures = self.store.incr(&client_auth_failures_key(request.ip), CLIENT_AUTH_WINDOW).await?;
        if failures > CLIENT_AUTH_FAILURES_PER_IP {
            let mut error =
                TokenError::new(ErrorCode::InvalidClient, "too many failed client authentications; retry later");
            error.status = 429;
            error.retry_after = Some(CLIENT_AUTH_WINDOW.as_secs());
            return Ok(Err(error));
        }
        Ok(outcome)
    }

    async fn check_client(
        &self,
        authorization: Option<&str>,
        form: &[(String, String)],
    ) -> Result<Result<Client, TokenError>, ServiceError> {
        let presented = match client_credentials(authorization, form) {
            Ok(Some(presented)) => presented,
            Ok(None) => return Ok(Err(TokenError::new(ErrorCode::InvalidClient, "client authentication is required"))),
            Err(e) => return Ok(Err(e.into())),
        };
        let id = presented.client_id.clone();
        let Some(client) = self.db.run(move |conn| clients::by_id(conn, &id)).await? else {
            // Same answer as a wrong secret: no hint whether the client exists.
            return Ok(Err(TokenError::new(ErrorCode::InvalidClient, "client authentication failed")));
        };
        match authenticate(&client, &presented) {
            Ok(()) => Ok(Ok(client)),
            Err(e) => Ok(Err(e.into())),
        }
    }

    /// `/token`.
    pub async fn token(&self, request: ClientRequest<'_>, now: UnixTime) -> TokenResult {
        let form = request.form;
        let client = match self.authenticate_client(request).await? {
            Ok(client) => client,
            Err(e) => return Ok(Err(e)),
        };
        let grant_type = match single(form, "grant_type") {
            Ok(Some(g)) => g,
            Ok(None) => return Ok(Err(TokenError::new(ErrorCode::InvalidRequest, "grant_type is missing"))),
            Err(e) => return Ok(Err(e)),
        };
        match grant_type {
            "authorization_code" => self.code_grant(&client, form, now).await,
            "refresh_token" => self.refresh_grant(&client, form, now).await,
            "client_credentials" => self.client_credentials_grant(&client, form, now).await,
            _ => Ok(Err(TokenError::new(ErrorCode::UnsupportedGrantType, "this grant type is not supported"))),
        }
    }

    async fn code_grant(&self, client: &Client, form: &[(String, String)], now: UnixTime) -> TokenResult {
        let (code, redirect_uri, verifier) =
            match (single(form, "code"), single(form, "redirect_uri"), single(form, "code_verifier")) {
                (Ok(Some(c)), Ok(Some(r)), Ok(v)) => (c, r, v),
                (Err(e), ..) | (_, Err(e), _) | (.., Err(e)) => return Ok(Err(e)),
                _ => return Ok(Err(TokenError::new(ErrorCode::InvalidRequest, "code and redirect_uri are required"))),
            };
        let invalid = |text: &str| Ok(Err(TokenError::new(ErrorCode::InvalidGrant, text)));
        let Some(bytes) = self.store.take(&CodeGrant::key(code)).await? else {
            // A second redemption of a code: revoke everything the first one issued.
            if let Some(used) = self.store.get(&CodeGrant::used_key(code)).await? {
                let grant_id: GrantId = from_json(&used)?;
                self.revoke_grant(grant_id, now).await?;
                self.audit_event(AuditKind::parse("token.code_reuse").ok(), None, Some(client), now).await?;
            }
            return invalid("the code is invalid, expired or already used");
        };
        let grant: CodeGrant = from_json(&bytes)?;
        self.store.put(&CodeGrant::used_key(code), &to_json(&grant.grant_id)?, USED_CODE_MEMORY).await?;
        if now.secs_since(grant.issued_at) > self.lifetimes.code_secs {
            return invalid("the code expired");
        }
        if grant.client_id != client.id {
            return invalid("the code was issued to another client");
        }
        if grant.redirect_uri != redirect_uri {
            return invalid("redirect_uri does not match the authorization request");
        }
        match (&grant.code_challenge, verifier) {
            (Some(challenge), Some(verifier)) if challenge.verify(verifier) => {}
            (Some(_), _) => return invalid("code_verifier does not match the code_challenge"),
            (None, Some(_)) => return invalid("a code_verifier was sent for a code issued without PKCE"),
            (None, None) => {}
        }
        let citizen = grant.citizen_id;
        let active = self.db.run(move |conn| citizens::by_id(conn, citizen)).await?;
        if !active.is_some_and(|c| c.status == CitizenStatus::Active) {
            return invalid("the citizen's account is not active");
        }
        let issue = Issue {
            client,
            citizen: Some(grant.citizen_id),
            grant_id: grant.grant_id,
            scope: grant.scope.clone(),
            claims: grant.claims.clone(),
            auth_time: Some(grant.auth_time),
            acr: Some(grant.acr.clone()),
            amr: grant.amr.clone(),
            sid: Some(grant.sid.clone()),
        };
        let extra = self.id_token_extra_claims(grant.citizen_id, &grant.id_token_claims).await?;
        let facts = IdTokenFacts {
            client,
            citizen: grant.citizen_id,
            auth_time: grant.auth_time,
            acr: &grant.acr,
            amr: &grant.amr,
            sid: Some(&grant.sid),
            nonce: grant.nonce.as_deref(),
            extra_claims: extra,
        };
        let refresh = if self.wants_refresh_token(client, &grant.scope) { Refresh::New } else { Refresh::None };
        self.respond(&issue, Some(facts), refresh, now).await
    }

    async fn refresh_grant(&self, client: &Client, form: &[(String, String)], now: UnixTime) -> TokenResult {
        let (token, scope) = match (single(form, "refresh_token"), single(form, "scope")) {
            (Ok(Some(t)), Ok(s)) => (t, s),
            (Err(e), _) | (_, Err(e)) => return Ok(Err(e)),
            _ => return Ok(Err(TokenError::new(ErrorCode::InvalidRequest, "refresh_token is required"))),
        };
        let invalid = |text: &str| Ok(Err(TokenError::new(ErrorCode::InvalidGrant, text)));
        let digest = token_digest(token).to_vec();
        let Some(record) = self.db.run(move |conn| refresh_tokens::by_digest(conn, &digest)).await? else {
            return invalid("the refresh token is invalid");
        };
        if record.client_id != client.id {
            return invalid("the refresh token was issued to another client");
        }
        if record.revoked_at.is_some() || now >= record.expires_at {
            return invalid("the refresh token expired or was revoked");
        }
        if record.rotated_at.is_some() {
            return self.refresh_reuse(&record, client, now).await;
        }
        // Everything is checked before the token rotates: a refused request leaves it usable.
        let granted = ScopeSet::parse(&record.scope).unwrap_or_else(|_| ScopeSet::empty());
        let scope = match scope.map(ScopeSet::parse) {
            None => granted.clone(),
            Some(Ok(asked)) if asked.is_subset(&granted) => asked,
            Some(Ok(_)) => return Ok(Err(TokenError::new(ErrorCode::InvalidScope, "scope is wider than the grant"))),
            Some(Err(e)) => return Ok(Err(e.into())),
        };
        if let Some(citizen) = record.citizen_id {
            let client_id = client.id.clone();
            let (account, consent) = self
                .db
                .run(move |conn| {
                    Ok((citizens::by_id(conn, citizen)?, consents::active_for(conn, citizen, &client_id)?))
                })
                .await?;
            if !account.is_some_and(|c| c.status == CitizenStatus::Active) || consent.is_none() {
                self.revoke_grant(record.family_id, now).await?;
                return invalid("the citizen's consent or account is no longer valid");
            }
        }
        let id = record.id;
        if !self.db.run(move |conn| refresh_tokens::mark_rotated(conn, id, now)).await? {
            // Another request rotated it a moment ago: the same token was used twice.
            return self.refresh_reuse(&record, client, now).await;
        }
        // A narrowed access token carries only the claims of its own scopes; the new refresh
        // token keeps the grant's scope and claims (RFC 6749 §6).
        let claims: Vec<String> = if scope == granted {
            record.claims.clone()
        } else {
            let allowed: Vec<&str> = crate::claims::claims_for_scopes(&scope).iter().map(|d| d.name).collect();
            record.claims.iter().filter(|c| allowed.contains(&c.as_str())).cloned().collect()
        };
        let acr = record.acr.clone().unwrap_or_default();
        let issue = Issue {
            client,
            citizen: record.citizen_id,
            grant_id: record.family_id,
            scope: scope.to_string(),
            claims,
            auth_time: record.auth_time,
            acr: record.acr.clone(),
            amr: record.amr.clone(),
            sid: record.session_id.clone(),
        };
        let facts = match (record.citizen_id, record.auth_time) {
            (Some(citizen), Some(auth_time)) if scope.contains(crate::scope::OPENID) => Some(IdTokenFacts {
                client,
                citizen,
                auth_time,
                acr: &acr,
                amr: &record.amr,
                sid: record.session_id.as_deref(),
                nonce: None,
                extra_claims: Map::new(),
            }),
            _ => None,
        };
        let refresh = Refresh::Keep { scope: record.scope.clone(), claims: record.claims.clone() };
        self.respond(&issue, facts, refresh, now).await
    }

    /// A rotated refresh token presented again: stolen or replayed. The family ends.
    async fn refresh_reuse(
        &self,
        record: &tessera_domain::RefreshTokenRecord,
        client: &Client,
        now: UnixTime,
    ) -> TokenResult {
        self.revoke_grant(record.family_id, now).await?;
        self.audit_event(Some(AuditKind::TOKEN_REUSE_DETECTED), record.citizen_id, Some(client), now).await?;
        Ok(Err(TokenError::new(ErrorCode::InvalidGrant, "the refresh token was already used")))
    }

    async fn client_credentials_grant(&self, client: &Client, form: &[(String, String)], now: UnixTime) -> TokenResult {
        if client.token_endpoint_auth_method == TokenEndpointAuthMethod::None {
            return Ok(Err(TokenError::new(
                ErrorCode::UnauthorizedClient,
                "a public client cannot use client_credentials",
            )));
        }
        let asked = match single(form, "scope") {
            Ok(Some(s)) => match ScopeSet::parse(s) {
                Ok(set) => set,
                Err(e) => return Ok(Err(e.into())),
            },
            Ok(None) => ScopeSet::empty(),
            Err(e) => return Ok(Err(e)),
        };
        // Scopes about citizens make no sense without one.
        let user_scopes = ["openid", "offline_access", "profile", "email", "phone", "address", "hk_identity"];
        if asked.iter().any(|s| user_scopes.contains(&s) || !client.allowed_scopes.iter().any(|a| a == s)) {
            return Ok(Err(TokenError::new(ErrorCode::InvalidScope, "scope is not available to client_credentials")));
        }
        let issue = Issue {
            client,
            citizen: None,
            grant_id: GrantId::generate(),
            scope: asked.to_string(),
            claims: Vec::new(),
            auth_time: None,
            acr: None,
            amr: Vec::new(),
            sid: None,
        };
        self.respond(&issue, None, Refresh::None, now).await
    }

    async fn respond(
        &self,
        issue: &Issue<'_>,
        id_token: Option<IdTokenFacts<'_>>,
        refresh: Refresh,
        now: UnixTime,
    ) -> TokenResult {
        let access_token = self.access_token(issue, now).await?;
        let id_token = match id_token {
            Some(facts) if issue.scope.split(' ').any(|s| s == crate::scope::OPENID) => {
                Some(self.id_token(facts, now).await?)
            }
            _ => None,
        };
        let refresh_token = match refresh {
            Refresh::None => None,
            Refresh::New => Some(self.refresh_token(issue, &issue.scope, &issue.claims, now).await?),
            Refresh::Keep { scope, claims } => Some(self.refresh_token(issue, &scope, &claims, now).await?),
        };
        Ok(Ok(TokenResponse {
            access_token,
            token_type: "Bearer",
            expires_in: self.lifetimes.access_token_secs,
            scope: issue.scope.clone(),
            id_token,
            refresh_token,
        }))
    }

    /// Confidential clients get refresh tokens; public ones only with `offline_access`.
    pub(crate) fn wants_refresh_token(&self, client: &Client, scope: &str) -> bool {
        client.token_endpoint_auth_method != TokenEndpointAuthMethod::None
            || scope.split(' ').any(|s| s == crate::scope::OFFLINE_ACCESS)
    }

    /// Profile claims the client asked (with the `claims` parameter) to find in the ID token.
    async fn id_token_extra_claims(
        &self,
        citizen: tessera_domain::CitizenId,
        names: &[String],
    ) -> Result<Map<String, Value>, ServiceError> {
        if names.is_empty() {
            return Ok(Map::new());
        }
        let mut all = self.citizen_claims(citizen).await?.unwrap_or_default();
        all.retain(|k, _| names.iter().any(|n| n == k));
        Ok(all)
    }

    pub(crate) async fn audit_event(
        &self,
        kind: Option<AuditKind>,
        citizen: Option<tessera_domain::CitizenId>,
        client: Option<&Client>,
        now: UnixTime,
    ) -> Result<(), ServiceError> {
        let Some(kind) = kind else { return Ok(()) };
        let mut event = AuditEvent { outcome: Outcome::Failure, ..AuditEvent::new(kind, now) };
        event.actor = citizen.map(|c| c.to_string());
        event.client_id = client.map(|c| c.id.as_str().to_owned());
        self.db.run(move |conn| audit::append(conn, &event)).await?;
        Ok(())
    }
}
