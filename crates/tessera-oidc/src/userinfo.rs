//! `/userinfo` (OIDC Core §5.3): the claims the citizen consented to release, for the
//! scopes of a valid access token. Chinese names are language-tagged (`name#zh-Hant-HK`).

use crate::claims::NAME_ZH;
use crate::service::{Oidc, ServiceError};
use serde_json::{Map, Value, json};
use tessera_domain::{CitizenId, CitizenStatus, Gender, UnixTime};
use tessera_store::{citizens, clients};

/// A refused userinfo request (RFC 6750 §3.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BearerError {
    /// Missing, malformed, expired, revoked or foreign token: 401.
    InvalidToken,
    /// A valid token without the `openid` scope: 403.
    InsufficientScope,
}

impl Oidc {
    /// Every claim Tessera holds about a citizen, by claim name; `None` if the citizen is
    /// gone or disabled.
    pub(crate) async fn citizen_claims(&self, citizen: CitizenId) -> Result<Option<Map<String, Value>>, ServiceError> {
        let found = self
            .db
            .run(move |conn| {
                let Some(c) = citizens::by_id(conn, citizen)? else { return Ok(None) };
                Ok(citizens::profile(conn, citizen)?.map(|p| (c, p)))
            })
            .await?;
        let Some((account, profile)) = found else { return Ok(None) };
        if account.status != CitizenStatus::Active {
            return Ok(None);
        }
        let mut claims = Map::new();
        claims.insert("name".into(), json!(profile.name_en));
        if let Some(zh) = &profile.name_zh {
            claims.insert(NAME_ZH.into(), json!(zh));
        }
        if let Some(birthdate) = &profile.birthdate {
            claims.insert("birthdate".into(), json!(birthdate.to_string()));
        }
        if profile.gender != Gender::Undisclosed {
            claims.insert("gender".into(), json!(profile.gender.as_str()));
        }
        claims.insert("updated_at".into(), json!(account.updated_at.as_secs()));
        if let Some(email) = &profile.email {
            claims.insert("email".into(), json!(email.as_str()));
            claims.insert("email_verified".into(), json!(profile.email_verified));
        }
        if let Some(phone) = &profile.phone {
            claims.insert("phone_number".into(), json!(phone.as_str()));
            claims.insert("phone_number_verified".into(), json!(profile.phone_verified));
        }
        if let Some(address) = &profile.residential_address {
            claims.insert("address".into(), json!({ "formatted": address, "country": "HK" }));
        }
        if let Some(sealed) = &profile.hkid_sealed {
            let opened = self.personal_data.open(sealed, citizen.to_string().as_bytes())?;
            claims.insert("hkid".into(), json!(String::from_utf8_lossy(&opened)));
        }
        Ok(Some(claims))
    }

    /// `/userinfo` with a bearer access token.
    pub async fn userinfo(&self, token: &str, now: UnixTime) -> Result<Result<Value, BearerError>, ServiceError> {
        let Some((access, grant)) = self.verify_access_token(token, now).await? else {
            return Ok(Err(BearerError::InvalidToken));
        };
        if !access.scope.split(' ').any(|s| s == crate::scope::OPENID) {
            return Ok(Err(BearerError::InsufficientScope));
        }
        let Some(citizen) = grant.citizen_id else { return Ok(Err(BearerError::InsufficientScope)) };
        let client_id = grant.client_id.clone();
        let Some(client) = self.db.run(move |conn| clients::by_id(conn, &client_id)).await? else {
            return Ok(Err(BearerError::InvalidToken));
        };
        let Some(mut all) = self.citizen_claims(citizen).await? else { return Ok(Err(BearerError::InvalidToken)) };
        all.retain(|name, _| grant.claims.iter().any(|c| c == name));
        let mut body = Map::new();
        body.insert("sub".into(), json!(self.subject(&client, citizen)));
        body.extend(all);
        Ok(Ok(Value::Object(body)))
    }
}
