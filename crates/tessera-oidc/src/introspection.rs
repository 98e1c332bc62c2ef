//! `/introspect` (RFC 7662) and `/revoke` (RFC 7009) for authenticated clients. A client
//! learns about, and can revoke, only tokens issued to itself: one department never
//! learns anything about another department's tokens.

use crate::service::{Oidc, ServiceError};
use crate::token_endpoint::{ClientRequest, TokenError};
use serde_json::{Value, json};
use tessera_crypto::token_digest;
use tessera_domain::UnixTime;
use tessera_store::refresh_tokens;

fn token_param(form: &[(String, String)]) -> Result<Option<&str>, TokenError> {
    let mut values = form.iter().filter(|(k, _)| k == "token").map(|(_, v)| v.as_str());
    let first = values.next();
    if values.next().is_some() {
        return Err(crate::error::OAuthError::invalid_request("token is repeated").into());
    }
    Ok(first.filter(|t| !t.is_empty()))
}

impl Oidc {
    /// `/introspect`: `{"active": false}` for anything that is not a live token of this client.
    pub async fn introspect(
        &self,
        request: ClientRequest<'_>,
        now: UnixTime,
    ) -> Result<Result<Value, TokenError>, ServiceError> {
        let (client, token) = match self.client_and_token(request).await? {
            Ok(found) => found,
            Err(e) => return Ok(Err(e)),
        };
        if let Some((claims, _)) = self.verify_access_token(token, now).await? {
            if claims.client_id == client.id.as_str() {
                return Ok(Ok(json!({
                    "active": true,
                    "token_type": "Bearer",
                    "scope": claims.scope,
                    "client_id": claims.client_id,
                    "sub": claims.sub,
                    "aud": claims.aud,
                    "iss": claims.iss,
                    "exp": claims.exp,
                    "iat": claims.iat,
                    "jti": claims.jti,
                })));
            }
            return Ok(Ok(json!({ "active": false })));
        }
        if let Some(record) = self.refresh_record(token).await?
            && record.client_id == client.id
            && record.is_usable_at(now)
        {
            let sub = match record.citizen_id {
                Some(citizen) => self.subject(&client, citizen),
                None => client.id.as_str().to_owned(),
            };
            return Ok(Ok(json!({
                "active": true,
                "token_type": "refresh_token",
                "scope": record.scope,
                "client_id": client.id.as_str(),
                "sub": sub,
                "iss": self.issuer,
                "exp": record.expires_at.as_secs(),
                "iat": record.issued_at.as_secs(),
            })));
        }
        Ok(Ok(json!({ "active": false })))
    }

    /// `/revoke`: revokes the grant of a refresh or access token of this client. Answers
    /// success for unknown tokens too (RFC 7009 §2.2).
    pub async fn revoke(
        &self,
        request: ClientRequest<'_>,
        now: UnixTime,
    ) -> Result<Result<(), TokenError>, ServiceError> {
        let (client, token) = match self.client_and_token(request).await? {
            Ok(found) => found,
            Err(e) => return Ok(Err(e)),
        };
        if let Some(record) = self.refresh_record(token).await? {
            if record.client_id == client.id {
                self.revoke_grant(record.family_id, now).await?;
            }
            return Ok(Ok(()));
        }
        if let Some((claims, grant)) = self.verify_access_token(token, now).await?
            && grant.client_id == client.id
        {
            self.revoke_grant(claims.gid, now).await?;
        }
        Ok(Ok(()))
    }

    /// The authenticated client and the `token` parameter of an introspection or revocation.
    async fn client_and_token<'a>(
        &self,
        request: ClientRequest<'a>,
    ) -> Result<Result<(tessera_domain::Client, &'a str), TokenError>, ServiceError> {
        let client = match self.authenticate_client(request).await? {
            Ok(client) => client,
            Err(e) => return Ok(Err(e)),
        };
        match token_param(request.form) {
            Ok(Some(token)) => Ok(Ok((client, token))),
            Ok(None) => Ok(Err(crate::error::OAuthError::invalid_request("token is required").into())),
            Err(e) => Ok(Err(e)),
        }
    }

    async fn refresh_record(&self, token: &str) -> Result<Option<tessera_domain::RefreshTokenRecord>, ServiceError> {
        if token.len() > 256 {
            return Ok(None);
        }
        let digest = token_digest(token).to_vec();
        Ok(self.db.run(move |conn| refresh_tokens::by_digest(conn, &digest)).await?)
    }
}
