//! Short-lived grant state kept in the shared session store: authorization codes, and the
//! live-grant records that access tokens are checked against (deleting one revokes every
//! access token of that grant at once, on every node).

use crate::pkce::CodeChallenge;
use crate::service::{Oidc, ServiceError, from_json, to_json};
use crate::sso::hex;
use serde::{Deserialize, Serialize};
use std::time::Duration;
use tessera_crypto::token_digest;
use tessera_domain::{CitizenId, GrantId, UnixTime};
use tessera_session::SessionStore;
use tessera_store::refresh_tokens;

/// What an authorization code stands for. Stored under the code's digest for 60 s.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CodeGrant {
    pub client_id: tessera_domain::ClientId,
    pub redirect_uri: String,
    pub citizen_id: CitizenId,
    pub scope: String,
    /// Claims released for userinfo.
    pub claims: Vec<String>,
    /// Released claims the client asked to find in the ID token.
    pub id_token_claims: Vec<String>,
    pub nonce: Option<String>,
    pub code_challenge: Option<CodeChallenge>,
    pub auth_time: UnixTime,
    pub acr: String,
    pub amr: Vec<String>,
    pub sid: String,
    pub grant_id: GrantId,
    pub issued_at: UnixTime,
}

impl CodeGrant {
    /// The store key of a code: its digest, so a store dump holds no usable code.
    pub fn key(code: &str) -> String {
        format!("code:{}", hex(&token_digest(code)))
    }

    /// Remembers a redeemed code for a while, to recognise a second redemption.
    pub fn used_key(code: &str) -> String {
        format!("code-used:{}", hex(&token_digest(code)))
    }
}

/// A live grant: what its access tokens may reach. Exists while an access token of the
/// grant can still be valid; deleted on revocation.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LiveGrant {
    pub client_id: tessera_domain::ClientId,
    pub citizen_id: Option<CitizenId>,
    pub scope: String,
    pub claims: Vec<String>,
}

fn live_key(grant: GrantId) -> String {
    format!("grant:{grant}")
}

/// The index of a citizen's live grants; members are `"<client_id> <grant_id>"`.
fn citizen_grants_key(citizen: CitizenId) -> String {
    format!("grants-of:{citizen}")
}

impl Oidc {
    /// Records (or extends) a live grant for as long as a new access token lives.
    /// `with_refresh_token`: the grant has refresh tokens in the database, where
    /// [`revoke_citizen_grants`](Self::revoke_citizen_grants) finds it. A grant without
    /// (a public client without `offline_access`) is indexed per citizen in the store
    /// instead, so the common case costs no second store write.
    pub(crate) async fn keep_grant(
        &self,
        grant_id: GrantId,
        grant: &LiveGrant,
        with_refresh_token: bool,
    ) -> Result<(), ServiceError> {
        let ttl = Duration::from_secs(self.lifetimes.access_token_secs as u64 + 60);
        self.store.put(&live_key(grant_id), &to_json(grant)?, ttl).await?;
        if !with_refresh_token && let Some(citizen) = grant.citizen_id {
            self.store.index_add(&citizen_grants_key(citizen), &format!("{} {grant_id}", grant.client_id), ttl).await?;
        }
        Ok(())
    }

    /// The live grant of an access token, if it was not revoked.
    pub(crate) async fn live_grant(&self, grant_id: GrantId) -> Result<Option<LiveGrant>, ServiceError> {
        match self.store.get(&live_key(grant_id)).await? {
            Some(bytes) => Ok(Some(from_json(&bytes)?)),
            None => Ok(None),
        }
    }

    /// Ends what a signed-out SSO session issued: every grant made under it, except those
    /// with `offline_access`, which the citizen granted precisely to outlive the session.
    pub async fn end_session_grants(&self, sid: &str, now: UnixTime) -> Result<usize, ServiceError> {
        let sid = sid.to_owned();
        let families = self.db.run(move |conn| refresh_tokens::live_families_of_session(conn, &sid)).await?;
        let mut ended = 0;
        for (family, scope) in families {
            if !scope.split(' ').any(|s| s == crate::scope::OFFLINE_ACCESS) {
                self.revoke_grant(family, now).await?;
                ended += 1;
            }
        }
        Ok(ended)
    }

    /// Ends every live grant of a citizen, at every department or at one (`client`): their
    /// access tokens stop working at once and their refresh tokens are revoked. For a
    /// password change, and for a withdrawn consent. Returns how many grants ended.
    pub async fn revoke_citizen_grants(
        &self,
        citizen_id: CitizenId,
        client: Option<&tessera_domain::ClientId>,
        now: UnixTime,
    ) -> Result<usize, ServiceError> {
        let wanted = client.cloned();
        let mut families = self
            .db
            .run(move |conn| refresh_tokens::live_families_of_citizen(conn, citizen_id, wanted.as_ref()))
            .await?;
        for member in self.store.index_list(&citizen_grants_key(citizen_id)).await? {
            let Some((member_client, grant)) = member.split_once(' ') else { continue };
            if client.is_some_and(|c| c.as_str() != member_client) {
                continue;
            }
            if let Ok(grant) = GrantId::parse(grant)
                && !families.contains(&grant)
            {
                families.push(grant);
            }
        }
        for family in &families {
            self.revoke_grant(*family, now).await?;
        }
        Ok(families.len())
    }

    /// Revokes a whole grant: its access tokens stop working at once (userinfo,
    /// introspection) and its refresh tokens are revoked in the database.
    pub async fn revoke_grant(&self, grant_id: GrantId, now: UnixTime) -> Result<(), ServiceError> {
        self.store.delete(&live_key(grant_id)).await?;
        self.db.run(move |conn| refresh_tokens::revoke_family(conn, grant_id, now)).await?;
        Ok(())
    }
}
