//! The citizen's data-sharing record: which departments received which of their data,
//! under which consent, and the withdrawal of a consent. Withdrawing ends the department's
//! grants at once (refresh tokens revoked, access tokens refused), and the next sign-in
//! there asks for consent again.

use crate::claims::claim_def;
use crate::service::{Oidc, ServiceError};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use tessera_domain::{AuditEvent, AuditKind, CitizenId, Client, ClientId, Consent, ConsentId, Outcome, UnixTime};
use tessera_store::{audit, clients, consents};

/// A consent receipt (see [`Oidc::consent_receipt`]).
#[derive(Debug, Clone)]
pub struct Receipt {
    pub consent: Consent,
    pub client: Client,
    /// What this department knows the citizen as (pairwise per department by default).
    pub subject: String,
    pub issuer: String,
}

impl Receipt {
    /// The receipt as JSON the citizen can keep.
    #[must_use]
    pub fn to_json(&self) -> Value {
        let consent = &self.consent;
        let claims: Vec<Value> = consent
            .claims
            .iter()
            .map(|name| json!({ "claim": name, "scope": claim_def(name).map(|d| d.scope) }))
            .collect();
        json!({
            "receipt_id": consent.id.to_string(),
            "issuer": self.issuer,
            "department": { "en": self.client.department_en, "zh-HK": self.client.department_zh },
            "service": self.client.name,
            "client_id": self.client.id.as_str(),
            "subject": self.subject,
            "scopes": consent.scopes,
            "claims": claims,
            "granted_at": consent.granted_at.rfc3339(),
            "withdrawn_at": consent.revoked_at.map(UnixTime::rfc3339),
            "last_shared_at": consent.last_shared_at.map(UnixTime::rfc3339),
            "in_force": consent.is_live(),
        })
    }
}

/// One department the citizen has shared data with.
#[derive(Debug, Clone)]
pub struct Share {
    pub client: Client,
    /// The consent in force, if the citizen still shares with this department.
    pub live: Option<Consent>,
    /// Every consent with this department, newest first (superseded and withdrawn ones too).
    pub history: Vec<Consent>,
    /// The first consent's time.
    pub first_shared_at: UnixTime,
    /// When the department last received data (to the minute), over all its consents.
    pub last_shared_at: Option<UnixTime>,
}

impl Oidc {
    /// Every department the citizen has ever consented to share data with: those they
    /// share with now first, then by the newest consent.
    pub async fn shares(&self, citizen: CitizenId) -> Result<Vec<Share>, ServiceError> {
        let all = self.db.run(move |conn| consents::list_for_citizen(conn, citizen)).await?;
        let mut by_client: BTreeMap<ClientId, Vec<Consent>> = BTreeMap::new();
        for consent in all {
            by_client.entry(consent.client_id.clone()).or_default().push(consent);
        }
        let mut shares = Vec::with_capacity(by_client.len());
        for (client_id, history) in by_client {
            let id = client_id.clone();
            let Some(client) = self.db.run(move |conn| clients::by_id(conn, &id)).await? else { continue };
            let first_shared_at = history.iter().map(|c| c.granted_at).min().unwrap_or(UnixTime::EPOCH);
            let last_shared_at = history.iter().filter_map(|c| c.last_shared_at).max();
            let live = history.iter().find(|c| c.is_live()).cloned();
            shares.push(Share { client, live, history, first_shared_at, last_shared_at });
        }
        shares.sort_by_key(|s| {
            (s.live.is_none(), std::cmp::Reverse(s.history.first().map(|c| c.granted_at).unwrap_or(UnixTime::EPOCH)))
        });
        Ok(shares)
    }

    /// A consent receipt: what the citizen agreed to share, with whom, when, and whether it
    /// is still in force. `None` if the consent is not theirs.
    pub async fn consent_receipt(&self, citizen: CitizenId, id: ConsentId) -> Result<Option<Receipt>, ServiceError> {
        let Some(consent) = self.db.run(move |conn| consents::by_id(conn, citizen, id)).await? else {
            return Ok(None);
        };
        let client_id = consent.client_id.clone();
        let Some(client) = self.db.run(move |conn| clients::by_id(conn, &client_id)).await? else { return Ok(None) };
        let subject = self.subject(&client, citizen);
        Ok(Some(Receipt { consent, client, subject, issuer: self.issuer.clone() }))
    }

    /// The citizen withdraws their consent for a department: the consent ends, the
    /// department's refresh and access tokens for this citizen stop working at once, and
    /// the next sign-in there asks for consent again. Returns whether a live consent ended.
    pub async fn withdraw_consent(
        &self,
        citizen: CitizenId,
        client_id: &ClientId,
        now: UnixTime,
    ) -> Result<bool, ServiceError> {
        let id = client_id.clone();
        let Some(live) = self.db.run(move |conn| consents::active_for(conn, citizen, &id)).await? else {
            return Ok(false);
        };
        let consent_id = live.id;
        let mut event = AuditEvent { outcome: Outcome::Success, ..AuditEvent::new(AuditKind::CONSENT_REVOKED, now) };
        event.actor = Some(citizen.to_string());
        event.client_id = Some(client_id.as_str().to_owned());
        event.detail =
            json!({ "consent_id": consent_id.to_string(), "scopes": live.scopes, "claims": live.claims }).to_string();
        let ended = self
            .db
            .run(move |conn| {
                let ended = consents::revoke(conn, citizen, consent_id, now)?;
                if ended {
                    audit::append(conn, &event)?;
                }
                Ok(ended)
            })
            .await?;
        // Even when another request ended it first, make sure nothing issued under it lives on.
        let grants = self.revoke_citizen_grants(citizen, Some(client_id), now).await?;
        tracing::info!(citizen_id = %citizen, client_id = %client_id, grants, "consent withdrawn");
        Ok(ended)
    }
}

impl Oidc {
    /// Signs the citizen out of one of their sessions (another browser): the session ends
    /// and so does what it issued, as at a sign-out there. Returns whether one ended.
    pub async fn end_citizen_session(
        &self,
        citizen: CitizenId,
        sid: &str,
        now: UnixTime,
    ) -> Result<bool, ServiceError> {
        let Some(ended) = self.sso.end_sid(citizen, sid).await? else { return Ok(false) };
        self.end_session_grants(&ended.sid, now).await?;
        self.signed_out(citizen, 1, now).await?;
        Ok(true)
    }

    /// Signs the citizen out everywhere: every session ends, with what it issued.
    pub async fn end_all_citizen_sessions(&self, citizen: CitizenId, now: UnixTime) -> Result<usize, ServiceError> {
        let sessions = self.sso.list(citizen, now).await?;
        let ended = self.sso.end_all(citizen).await?;
        for session in &sessions {
            self.end_session_grants(&session.sid, now).await?;
        }
        self.signed_out(citizen, ended, now).await?;
        Ok(ended)
    }

    async fn signed_out(&self, citizen: CitizenId, sessions: usize, now: UnixTime) -> Result<(), ServiceError> {
        let mut event = AuditEvent { outcome: Outcome::Success, ..AuditEvent::new(AuditKind::SIGNOUT, now) };
        event.actor = Some(citizen.to_string());
        event.detail = json!({ "sessions": sessions, "from": "account" }).to_string();
        self.db.run(move |conn| audit::append(conn, &event)).await?;
        Ok(())
    }
}
