//! Minting what the token endpoint returns: RFC 9068 access tokens (ES256 JWTs, short,
//! audience-restricted, tied to a live grant), ID tokens (the client's algorithm, RS256
//! by default) and opaque refresh tokens stored only as digests.

use crate::grant::LiveGrant;
use crate::service::{Oidc, ServiceError};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use tessera_crypto::{SigningAlg, random_token, token_digest};
use tessera_domain::{CitizenId, Client, GrantId, RefreshTokenId, RefreshTokenRecord, UnixTime};
use tessera_store::refresh_tokens;

/// The algorithm access tokens are signed with: only Tessera verifies them, and ES256 is
/// the cheapest signature on the hot path.
pub const ACCESS_TOKEN_ALG: SigningAlg = SigningAlg::Es256;

/// Claims of an access token (RFC 9068 §2.2).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AccessClaims {
    pub iss: String,
    pub sub: String,
    pub aud: String,
    pub client_id: String,
    pub exp: i64,
    pub iat: i64,
    pub jti: String,
    pub scope: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth_time: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acr: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amr: Option<Vec<String>>,
    /// The grant this token belongs to (revocation).
    pub gid: GrantId,
}

/// The JSON the token endpoint answers with (RFC 6749 §5.1, OIDC Core §3.1.3.3).
#[derive(Debug, Clone, Serialize)]
pub struct TokenResponse {
    pub access_token: String,
    pub token_type: &'static str,
    pub expires_in: i64,
    pub scope: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id_token: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
}

/// What an ID token says about the authentication.
pub(crate) struct IdTokenFacts<'a> {
    pub client: &'a Client,
    pub citizen: CitizenId,
    pub auth_time: UnixTime,
    pub acr: &'a str,
    pub amr: &'a [String],
    pub sid: Option<&'a str>,
    pub nonce: Option<&'a str>,
    pub extra_claims: Map<String, Value>,
}

/// Everything a new set of tokens is issued for.
pub(crate) struct Issue<'a> {
    pub client: &'a Client,
    pub citizen: Option<CitizenId>,
    pub grant_id: GrantId,
    pub scope: String,
    pub claims: Vec<String>,
    pub auth_time: Option<UnixTime>,
    pub acr: Option<String>,
    pub amr: Vec<String>,
    pub sid: Option<String>,
}

impl Oidc {
    /// The `sub` a client sees for a citizen: pairwise per sector unless the client is public.
    pub fn subject(&self, client: &Client, citizen: CitizenId) -> String {
        crate::subject::subject_for(client, citizen, &self.pairwise)
    }

    pub(crate) async fn access_token(&self, issue: &Issue<'_>, now: UnixTime) -> Result<String, ServiceError> {
        let sub = match issue.citizen {
            Some(citizen) => self.subject(issue.client, citizen),
            None => issue.client.id.as_str().to_owned(),
        };
        let claims = AccessClaims {
            iss: self.issuer.clone(),
            sub,
            aud: self.issuer.clone(),
            client_id: issue.client.id.as_str().to_owned(),
            exp: now.as_secs() + self.lifetimes.access_token_secs,
            iat: now.as_secs(),
            jti: random_token()?,
            scope: issue.scope.clone(),
            auth_time: issue.auth_time.map(UnixTime::as_secs),
            acr: issue.acr.clone(),
            amr: (!issue.amr.is_empty()).then(|| issue.amr.clone()),
            gid: issue.grant_id,
        };
        let live = LiveGrant {
            client_id: issue.client.id.clone(),
            citizen_id: issue.citizen,
            scope: issue.scope.clone(),
            claims: issue.claims.clone(),
        };
        let with_refresh_token = self.wants_refresh_token(issue.client, &issue.scope);
        self.keep_grant(issue.grant_id, &live, with_refresh_token).await?;
        Ok(self.jwt.sign(ACCESS_TOKEN_ALG, Some("at+jwt"), &claims).await?)
    }

    pub(crate) async fn id_token(&self, facts: IdTokenFacts<'_>, now: UnixTime) -> Result<String, ServiceError> {
        let alg: SigningAlg = facts.client.id_token_alg.parse().unwrap_or(SigningAlg::Rs256);
        let mut claims = facts.extra_claims;
        let mut put = |k: &str, v: Value| {
            claims.insert(k.to_owned(), v);
        };
        put("iss", Value::from(self.issuer.clone()));
        put("sub", Value::from(self.subject(facts.client, facts.citizen)));
        put("aud", Value::from(facts.client.id.as_str()));
        put("azp", Value::from(facts.client.id.as_str()));
        put("exp", Value::from(now.as_secs() + self.lifetimes.id_token_secs));
        put("iat", Value::from(now.as_secs()));
        put("auth_time", Value::from(facts.auth_time.as_secs()));
        put("acr", Value::from(facts.acr));
        put("amr", Value::from(facts.amr.to_vec()));
        if let Some(sid) = facts.sid {
            put("sid", Value::from(sid));
        }
        if let Some(nonce) = facts.nonce {
            put("nonce", Value::from(nonce));
        }
        Ok(self.jwt.sign(alg, Some("JWT"), &Value::Object(claims)).await?)
    }

    /// Stores a new refresh token of the grant and returns it (shown to the client once).
    pub(crate) async fn refresh_token(
        &self,
        issue: &Issue<'_>,
        scope: &str,
        claims: &[String],
        now: UnixTime,
    ) -> Result<String, ServiceError> {
        let token = random_token()?;
        let offline = scope.split(' ').any(|s| s == crate::scope::OFFLINE_ACCESS);
        let lifetime =
            if offline { self.lifetimes.offline_refresh_token_secs } else { self.lifetimes.refresh_token_secs };
        let record = RefreshTokenRecord {
            id: RefreshTokenId::generate(),
            digest: token_digest(&token).to_vec(),
            family_id: issue.grant_id,
            client_id: issue.client.id.clone(),
            citizen_id: issue.citizen,
            scope: scope.to_owned(),
            session_id: issue.sid.clone(),
            auth_time: issue.auth_time,
            issued_at: now,
            expires_at: now.plus_secs(lifetime),
            rotated_at: None,
            revoked_at: None,
            acr: issue.acr.clone(),
            amr: issue.amr.clone(),
            claims: claims.to_vec(),
        };
        self.db.run(move |conn| refresh_tokens::insert(conn, &record)).await?;
        Ok(token)
    }

    /// Verifies an access token issued by this Tessera: signature, type, issuer, audience,
    /// expiry, and that its grant was not revoked. `None` for anything else.
    pub async fn verify_access_token(
        &self,
        token: &str,
        now: UnixTime,
    ) -> Result<Option<(AccessClaims, LiveGrant)>, ServiceError> {
        if token.len() > 4096 {
            return Ok(None);
        }
        let typ_ok = tessera_crypto::jws_header_unverified(token).is_ok_and(|h| h.typ.as_deref() == Some("at+jwt"));
        if !typ_ok {
            return Ok(None);
        }
        let payload = match self.jwt.verify(token, Some(ACCESS_TOKEN_ALG), now).await {
            Ok(payload) => payload,
            Err(crate::jwt::JwtError::Invalid(_)) => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        let Ok(claims) = serde_json::from_value::<AccessClaims>(payload) else { return Ok(None) };
        if claims.iss != self.issuer || claims.aud != self.issuer || claims.exp <= now.as_secs() {
            return Ok(None);
        }
        let Some(grant) = self.live_grant(claims.gid).await? else { return Ok(None) };
        if grant.client_id.as_str() != claims.client_id {
            return Ok(None);
        }
        Ok(Some((claims, grant)))
    }

    /// The subject of an `id_token_hint` that this Tessera issued to `client`. Expired hints
    /// are accepted (OIDC Core §3.1.2.1); anything else not.
    pub(crate) async fn id_token_hint_subject(&self, hint: &str, client: &Client, now: UnixTime) -> Option<String> {
        // An access token is not an ID token, although both are signed by us.
        let header = tessera_crypto::jws_header_unverified(hint).ok()?;
        if header.typ.as_deref() == Some("at+jwt") {
            return None;
        }
        let payload = self.jwt.verify(hint, None, now).await.ok()?;
        if payload["iss"].as_str() != Some(self.issuer.as_str()) {
            return None;
        }
        let aud_ok = match &payload["aud"] {
            Value::String(a) => a == client.id.as_str(),
            Value::Array(list) => list.iter().any(|a| a.as_str() == Some(client.id.as_str())),
            _ => false,
        };
        if !aud_ok {
            return None;
        }
        payload["sub"].as_str().map(str::to_owned)
    }
}
