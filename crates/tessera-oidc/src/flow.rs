//! The authorization endpoint's flow: validate the request, pass through with a live
//! SSO session, or send the citizen to sign in and to consent, then issue a single-use
//! authorization code bound to the client, the redirect URI and the PKCE challenge.
//!
//! A request waiting for the citizen is kept in the session store under a random id
//! (15 minutes). Signing in or consenting *during* that flow satisfies `prompt=login`,
//! `prompt=consent` and `max_age`, so the flow always ends.

use crate::claims::{ClaimDef, claim_def, claims_for_scopes};
use crate::error::{ErrorCode, OAuthError};
use crate::grant::CodeGrant;
use crate::request::{Assurance, AuthorizationRequest, AuthorizeError, FatalReason, parse_authorization_request};
use crate::response::{code_redirect, error_redirect};
use crate::service::{Oidc, ServiceError, from_json, to_json};
use crate::sso::SsoSession;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::time::Duration;
use tessera_crypto::random_token;
use tessera_domain::{
    AuditEvent, AuditKind, CitizenStatus, Client, ClientId, Consent, ConsentId, GrantId, Outcome, UnixTime,
};
use tessera_session::SessionStore;
use tessera_store::{audit, citizens, clients, consents};

/// A request waiting for the citizen.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Pending {
    pub request: AuthorizationRequest,
    pub created_at: UnixTime,
    /// The session the citizen signed in to during this flow (satisfies prompt=login,
    /// select_account and max_age). Recorded as a fact, not inferred from timestamps.
    #[serde(default)]
    pub signed_in_sid: Option<String>,
    /// The citizen answered the consent page during this flow (satisfies prompt=consent).
    #[serde(default)]
    pub consented: bool,
}

/// One claim offered on the consent page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OfferedClaim {
    pub name: &'static str,
    pub label_key: &'static str,
    /// Asked for as essential: allowing the request releases it.
    pub essential: bool,
    /// Pre-selected (previously granted, or never asked before).
    pub checked: bool,
}

/// What the browser should see next.
#[derive(Debug)]
pub enum Step {
    /// 303 to this URL: the client's redirect URI with a code or an error.
    Redirect(String),
    /// Show the sign-in page for this pending request (in the `ui_locales` it asked for).
    SignIn { pending: String, client: Box<Client>, login_hint: Option<String>, ui_locales: Option<String> },
    /// Show the consent page for this pending request.
    Consent {
        pending: String,
        client: Box<Client>,
        claims: Vec<OfferedClaim>,
        offline_access: bool,
        ui_locales: Option<String>,
    },
    /// Show an error page; never redirect (unknown client, bad redirect URI, expired request).
    ErrorPage(FatalReason),
}

fn pending_key(id: &str) -> String {
    format!("authz:{id}")
}

impl Oidc {
    /// `/authorize`: the parameters of the query or the form POST, and the browser's SSO cookie.
    pub async fn authorize(
        &self,
        params: &[(String, String)],
        sso_token: Option<&str>,
        now: UnixTime,
    ) -> Result<Step, ServiceError> {
        let client = match params.iter().find(|(k, _)| k == "client_id").map(|(_, v)| ClientId::parse(v)) {
            Some(Ok(id)) => self.db.run(move |conn| clients::by_id(conn, &id)).await?,
            _ => None,
        };
        let request = match parse_authorization_request(params, |id| client.clone().filter(|c| &c.id == id)) {
            Ok(request) => request,
            Err(AuthorizeError::Fatal(reason)) => return Ok(Step::ErrorPage(reason)),
            Err(AuthorizeError::Redirect { redirect_uri, state, error }) => {
                return Ok(Step::Redirect(error_redirect(&redirect_uri, &error, state.as_deref(), &self.issuer)));
            }
        };
        let Some(client) = client else { return Ok(Step::ErrorPage(FatalReason::UnknownClient)) };
        let pending = Pending { request, created_at: now, signed_in_sid: None, consented: false };
        self.decide(pending, None, client, sso_token, now).await
    }

    /// Continues a pending request after the citizen signed in (or came back).
    pub async fn continue_flow(
        &self,
        pending_id: &str,
        sso_token: Option<&str>,
        now: UnixTime,
    ) -> Result<Step, ServiceError> {
        let Some((pending, client)) = self.load_pending(pending_id).await? else {
            return Ok(Step::ErrorPage(FatalReason::Expired));
        };
        self.decide(pending, Some(pending_id.to_owned()), client, sso_token, now).await
    }

    /// The pending request and its client, for rendering the sign-in and consent pages.
    pub async fn load_pending(&self, pending_id: &str) -> Result<Option<(Pending, Client)>, ServiceError> {
        if pending_id.len() > 64 {
            return Ok(None);
        }
        let Some(bytes) = self.store.get(&pending_key(pending_id)).await? else { return Ok(None) };
        let pending: Pending = from_json(&bytes)?;
        let id = pending.request.client_id.clone();
        let client = self.db.run(move |conn| clients::by_id(conn, &id)).await?;
        Ok(client.filter(|c| c.enabled).map(|c| (pending, c)))
    }

    /// Records that the citizen signed in (or signed up) during this pending request, in
    /// the session `sid`: that sign-in satisfies prompt=login and max_age for it.
    pub async fn note_sign_in(&self, pending_id: &str, sid: &str) -> Result<(), ServiceError> {
        if pending_id.len() > 64 {
            return Ok(());
        }
        let key = pending_key(pending_id);
        let Some(bytes) = self.store.get(&key).await? else { return Ok(()) };
        let mut pending: Pending = from_json(&bytes)?;
        pending.signed_in_sid = Some(sid.to_owned());
        let ttl = Duration::from_secs(self.lifetimes.pending_secs);
        self.store.put(&key, &to_json(&pending)?, ttl).await?;
        Ok(())
    }

    /// The citizen gave up on the sign-in page: back to the department with
    /// `unmet_authentication_requirements` when the request asked for a level above a
    /// password (the citizen had no passkey at hand), else `access_denied`.
    pub async fn cancel(&self, pending_id: &str, now: UnixTime) -> Result<Step, ServiceError> {
        let Some((pending, client)) = self.load_pending(pending_id).await? else {
            return Ok(Step::ErrorPage(FatalReason::Expired));
        };
        if self.store.take(&pending_key(pending_id)).await?.is_none() {
            return Ok(Step::ErrorPage(FatalReason::Expired));
        }
        let request = &pending.request;
        let error = if request.assurance().met_by(tessera_domain::ACR_PASSWORD) {
            OAuthError::new(ErrorCode::AccessDenied, "the citizen cancelled the sign-in")
        } else {
            OAuthError::new(ErrorCode::UnmetAuthenticationRequirements, "the citizen did not sign in with a passkey")
        };
        self.audit(Some(AuditKind::AUTHORIZATION_CANCELLED), None, &client, Outcome::Failure, now).await?;
        Ok(Step::Redirect(error_redirect(&request.redirect_uri, &error, request.state.as_deref(), &self.issuer)))
    }

    /// The username of the citizen signed in with this SSO token, for the pages.
    pub async fn signed_in_username(
        &self,
        sso_token: Option<&str>,
        now: UnixTime,
    ) -> Result<Option<String>, ServiceError> {
        let Some(token) = sso_token else { return Ok(None) };
        let Some(session) = self.sso.find(token, now).await? else { return Ok(None) };
        let id = session.citizen_id;
        let citizen = self.db.run(move |conn| citizens::by_id(conn, id)).await?;
        Ok(citizen.map(|c| c.username.as_str().to_owned()))
    }

    /// The citizen's answer on the consent page. `chosen` are the optional claims left selected.
    pub async fn consent_decision(
        &self,
        pending_id: &str,
        sso_token: Option<&str>,
        allow: bool,
        chosen: &[String],
        now: UnixTime,
    ) -> Result<Step, ServiceError> {
        let Some((pending, client)) = self.load_pending(pending_id).await? else {
            return Ok(Step::ErrorPage(FatalReason::Expired));
        };
        let session = match sso_token {
            Some(token) => self.sso.find(token, now).await?,
            None => None,
        };
        let Some(session) = session else {
            // Signed out meanwhile: start again from the sign-in page.
            return self.decide(pending, Some(pending_id.to_owned()), client, sso_token, now).await;
        };
        let request = &pending.request;
        if !allow {
            self.store.delete(&pending_key(pending_id)).await?;
            self.audit(AuditKind::parse("consent.denied").ok(), Some(&session), &client, Outcome::Success, now).await?;
            let error = OAuthError::new(ErrorCode::AccessDenied, "the citizen did not allow the request");
            return Ok(Step::Redirect(error_redirect(
                &request.redirect_uri,
                &error,
                request.state.as_deref(),
                &self.issuer,
            )));
        }
        let offered = offered_claims(request);
        let essential = request.essential_claims();
        let granted: BTreeSet<String> = offered
            .iter()
            .filter(|c| essential.contains(c.name) || chosen.iter().any(|x| x == c.name))
            .map(|c| c.name.to_owned())
            .collect();
        let citizen = session.citizen_id;
        let client_id = client.id.clone();
        let previous = self.db.run(move |conn| consents::active_for(conn, citizen, &client_id)).await?;
        // Consent accumulates per department: claims of scopes asked now are replaced by
        // this answer, everything granted earlier for other scopes stays.
        let offered_names: BTreeSet<&str> = offered.iter().map(|c| c.name).collect();
        let mut scopes: BTreeSet<String> = request.scope.iter().map(str::to_owned).collect();
        let mut claims = granted;
        if let Some(previous) = previous {
            scopes.extend(previous.scopes);
            claims.extend(previous.claims.into_iter().filter(|c| !offered_names.contains(c.as_str())));
        }
        let consent = Consent {
            id: ConsentId::generate(),
            citizen_id: citizen,
            client_id: client.id.clone(),
            scopes: scopes.into_iter().collect(),
            claims: claims.into_iter().collect(),
            granted_at: now,
            revoked_at: None,
            last_shared_at: None,
        };
        let detail = serde_json::json!({ "scopes": consent.scopes, "claims": consent.claims }).to_string();
        self.db.run(move |conn| consents::grant(conn, &consent)).await?;
        let mut event = AuditEvent { outcome: Outcome::Success, ..AuditEvent::new(AuditKind::CONSENT_GRANTED, now) };
        event.actor = Some(citizen.to_string());
        event.client_id = Some(client.id.as_str().to_owned());
        event.detail = detail;
        self.db.run(move |conn| audit::append(conn, &event)).await?;
        let pending = Pending { consented: true, ..pending };
        self.decide(pending, Some(pending_id.to_owned()), client, sso_token, now).await
    }

    /// The heart of the flow: sign-in needed? consent needed? else a code.
    async fn decide(
        &self,
        pending: Pending,
        pending_id: Option<String>,
        client: Client,
        sso_token: Option<&str>,
        now: UnixTime,
    ) -> Result<Step, ServiceError> {
        let request = &pending.request;
        let redirect_error = |code: ErrorCode, text: &str| {
            Ok(Step::Redirect(error_redirect(
                &request.redirect_uri,
                &OAuthError::new(code, text),
                request.state.as_deref(),
                &self.issuer,
            )))
        };
        let mut session = match sso_token {
            Some(token) => self.sso.find(token, now).await?,
            None => None,
        };
        // A disabled citizen's session no longer counts.
        if let Some(s) = &session {
            let id = s.citizen_id;
            let citizen = self.db.run(move |conn| citizens::by_id(conn, id)).await?;
            if !citizen.is_some_and(|c| c.status == CitizenStatus::Active) {
                session = None;
            }
        }
        let hinted_subject = match &request.id_token_hint {
            Some(hint) => match self.id_token_hint_subject(hint, &client, now).await {
                Some(sub) => Some(sub),
                None => return redirect_error(ErrorCode::InvalidRequest, "id_token_hint is not a valid ID token"),
            },
            None => None,
        };
        // The level asked for: a session below it signs in again, with a passkey (step-up).
        let assurance = request.assurance();
        if assurance == Assurance::Unavailable {
            return redirect_error(
                ErrorCode::UnmetAuthenticationRequirements,
                "the requested authentication level is not available",
            );
        }
        // Authenticated during this very flow: satisfies prompt=login and max_age.
        let fresh = |s: &SsoSession| pending_id.is_some() && pending.signed_in_sid.as_deref() == Some(s.sid.as_str());
        let below = |s: &SsoSession| !assurance.met_by(&s.acr);
        let needs_sign_in = match &session {
            None => true,
            Some(s) => {
                let too_old = request.max_age.is_some_and(|max| now.secs_since(s.auth_time) > max as i64);
                let reauth = request.prompt_login() || request.prompt_select_account() || too_old;
                let other_subject =
                    hinted_subject.as_ref().is_some_and(|sub| *sub != self.subject(&client, s.citizen_id));
                ((reauth || other_subject) && !fresh(s)) || below(s)
            }
        };
        if needs_sign_in {
            if request.prompt_none() {
                return match &session {
                    Some(s) if below(s) => redirect_error(
                        ErrorCode::InteractionRequired,
                        "the requested authentication level needs the citizen to sign in again",
                    ),
                    _ => redirect_error(ErrorCode::LoginRequired, "the citizen is not signed in"),
                };
            }
            let id = self.keep_pending(&pending, pending_id).await?;
            let login_hint = request.login_hint.clone();
            let ui_locales = request.ui_locales.clone();
            return Ok(Step::SignIn { pending: id, client: Box::new(client), login_hint, ui_locales });
        }
        let Some(session) = session else { return redirect_error(ErrorCode::LoginRequired, "no session") };

        let citizen = session.citizen_id;
        let client_id = client.id.clone();
        let consent = self.db.run(move |conn| consents::active_for(conn, citizen, &client_id)).await?;
        let consented_in_flow = pending_id.is_some() && pending.consented;
        let covered =
            consent.as_ref().is_some_and(|c| covers(c, request)) && (!request.prompt_consent() || consented_in_flow);
        if !covered {
            if request.prompt_none() {
                return redirect_error(ErrorCode::ConsentRequired, "the citizen has not consented to this request");
            }
            let id = self.keep_pending(&pending, pending_id).await?;
            let mut claims = offered_claims(request);
            let essential = request.essential_claims();
            for claim in &mut claims {
                claim.essential = essential.contains(claim.name);
                claim.checked = consent.as_ref().is_none_or(|c| c.claims.iter().any(|x| x == claim.name));
            }
            let offline_access = request.scope.contains(crate::scope::OFFLINE_ACCESS);
            let ui_locales = request.ui_locales.clone();
            return Ok(Step::Consent { pending: id, client: Box::new(client), claims, offline_access, ui_locales });
        }
        let Some(consent) = consent else { return redirect_error(ErrorCode::ConsentRequired, "no consent") };

        if let Some(id) = &pending_id {
            // Single use: a second continuation of the same request finds nothing.
            if self.store.take(&pending_key(id)).await?.is_none() {
                return Ok(Step::ErrorPage(FatalReason::Expired));
            }
        }
        let code = self.issue_code(request, &consent, &session, now).await?;
        // The citizen's data-sharing page shows when each department last received their
        // data; written at most once a minute per consent.
        if consent.last_shared_at.is_none_or(|at| now.secs_since(at) >= 60) {
            let id = consent.id;
            self.db.run(move |conn| consents::mark_shared(conn, id, now)).await?;
        }
        if let Some(token) = sso_token {
            self.sso.add_client(token, client.id.as_str(), now).await?;
        }
        Ok(Step::Redirect(code_redirect(&request.redirect_uri, &code, request.state.as_deref(), &self.issuer)))
    }

    async fn keep_pending(&self, pending: &Pending, id: Option<String>) -> Result<String, ServiceError> {
        let id = match id {
            Some(id) => id,
            None => random_token()?,
        };
        let ttl = Duration::from_secs(self.lifetimes.pending_secs);
        self.store.put(&pending_key(&id), &to_json(pending)?, ttl).await?;
        Ok(id)
    }

    async fn issue_code(
        &self,
        request: &AuthorizationRequest,
        consent: &Consent,
        session: &SsoSession,
        now: UnixTime,
    ) -> Result<String, ServiceError> {
        let released = released_claims(request, consent);
        let id_token_claims: Vec<String> =
            request.claims.id_token.keys().filter(|c| released.contains(*c)).cloned().collect();
        let grant = CodeGrant {
            client_id: request.client_id.clone(),
            redirect_uri: request.redirect_uri.clone(),
            citizen_id: session.citizen_id,
            scope: request.scope.to_string(),
            claims: released.into_iter().collect(),
            id_token_claims,
            nonce: request.nonce.clone(),
            code_challenge: request.code_challenge.clone(),
            auth_time: session.auth_time,
            acr: session.acr.clone(),
            amr: session.amr.clone(),
            sid: session.sid.clone(),
            grant_id: GrantId::generate(),
            issued_at: now,
        };
        let code = random_token()?;
        self.store
            .put(&CodeGrant::key(&code), &to_json(&grant)?, Duration::from_secs(self.lifetimes.code_secs as u64))
            .await?;
        Ok(code)
    }

    async fn audit(
        &self,
        kind: Option<AuditKind>,
        session: Option<&SsoSession>,
        client: &Client,
        outcome: Outcome,
        now: UnixTime,
    ) -> Result<(), ServiceError> {
        let Some(kind) = kind else { return Ok(()) };
        let mut event = AuditEvent { outcome, ..AuditEvent::new(kind, now) };
        event.actor = session.map(|s| s.citizen_id.to_string());
        event.client_id = Some(client.id.as_str().to_owned());
        self.db.run(move |conn| audit::append(conn, &event)).await?;
        Ok(())
    }
}

/// The claims the consent page offers: those of the requested scopes, plus catalogue
/// claims named in the `claims` parameter.
pub fn offered_claims(request: &AuthorizationRequest) -> Vec<OfferedClaim> {
    let mut defs: Vec<&'static ClaimDef> = claims_for_scopes(&request.scope);
    for name in request.claims.requested() {
        if let Some(def) = claim_def(&name)
            && !defs.iter().any(|d| d.name == def.name)
        {
            defs.push(def);
        }
    }
    defs.into_iter()
        .map(|d| OfferedClaim { name: d.name, label_key: d.label_key, essential: false, checked: true })
        .collect()
}

/// Whether a stored consent covers a request: every requested scope was consented to, and
/// every essential claim was granted. Optional claims the citizen deselected stay deselected.
fn covers(consent: &Consent, request: &AuthorizationRequest) -> bool {
    request.scope.iter().all(|s| consent.scopes.iter().any(|c| c == s))
        && request.essential_claims().iter().filter(|c| claim_def(c).is_some()).all(|c| consent.claims.contains(c))
}

/// The claims released under this request: what the citizen granted, limited to what the
/// request asks for.
fn released_claims(request: &AuthorizationRequest, consent: &Consent) -> BTreeSet<String> {
    let asked: BTreeSet<&str> = offered_claims(request).iter().map(|c| c.name).collect();
    consent.claims.iter().filter(|c| asked.contains(c.as_str())).cloned().collect()
}
