//! What the portal shows of the claims it received: every claim, including ones that
//! openidconnect has no field for, as name/value rows.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use openidconnect::{AdditionalClaims, EndUserName, LocalizedClaim};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Claims that openidconnect has no field for (e.g. `sid`, or a provider's own), kept as JSON so
/// that `/me` can show everything the department received.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
pub struct OtherClaims {
    #[serde(flatten)]
    pub claims: BTreeMap<String, Value>,
}

impl AdditionalClaims for OtherClaims {}

/// One claim as shown on `/me`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClaimRow {
    pub name: String,
    pub value: String,
}

/// Claims whose value is a time in seconds since the epoch.
const TIMESTAMP_CLAIMS: &[&str] = &["exp", "iat", "nbf", "auth_time", "updated_at"];

/// All claims of a claims set, sorted by name. Timestamps also show as UTC dates.
pub fn claim_rows(claims: &impl Serialize) -> Vec<ClaimRow> {
    let Ok(Value::Object(map)) = serde_json::to_value(claims) else {
        return Vec::new();
    };
    let mut rows: Vec<ClaimRow> = map
        .into_iter()
        .filter(|(_, value)| !value.is_null())
        .map(|(name, value)| {
            let value = match (&value, TIMESTAMP_CLAIMS.contains(&name.as_str())) {
                (Value::Number(n), true) => match n.as_i64().and_then(|secs| DateTime::from_timestamp(secs, 0)) {
                    Some(at) => format!("{n} ({})", utc(&at)),
                    None => n.to_string(),
                },
                (Value::String(s), _) => s.clone(),
                _ => value.to_string(),
            };
            ClaimRow { name, value }
        })
        .collect();
    rows.sort_by(|a, b| a.name.cmp(&b.name));
    rows
}

/// A time as shown on the pages: `2025-03-01 09:30:00 UTC`.
pub fn utc(at: &DateTime<Utc>) -> String {
    at.format("%Y-%m-%d %H:%M:%S UTC").to_string()
}

/// The citizen's name in English (the untagged `name`) and in Chinese (`name#zh-…`), if given.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CitizenName {
    pub en: Option<String>,
    pub zh: Option<String>,
}

impl CitizenName {
    pub fn from_claim(name: Option<&LocalizedClaim<EndUserName>>) -> Self {
        let mut result = Self::default();
        for (tag, value) in name.into_iter().flat_map(|claim| claim.iter()) {
            match tag {
                None => result.en = Some(value.as_str().to_owned()),
                Some(tag) if tag.as_str().to_ascii_lowercase().starts_with("zh") && result.zh.is_none() => {
                    result.zh = Some(value.as_str().to_owned());
                }
                Some(_) => {}
            }
        }
        result
    }

    pub fn is_empty(&self) -> bool {
        self.en.is_none() && self.zh.is_none()
    }

    /// Fills in whichever language is missing from `other`.
    pub fn or(self, other: Self) -> Self {
        Self { en: self.en.or(other.en), zh: self.zh.or(other.zh) }
    }
}

#[cfg(test)]
mod tests {
    #![expect(clippy::unwrap_used, reason = "tests fail loudly")]

    use openidconnect::core::CoreGenderClaim;
    use openidconnect::{IdTokenClaims, UserInfoClaims};

    use super::*;

    fn row<'a>(rows: &'a [ClaimRow], name: &str) -> Option<&'a str> {
        rows.iter().find(|r| r.name == name).map(|r| r.value.as_str())
    }

    #[test]
    fn userinfo_rows_keep_localized_and_unknown_claims() {
        let json = r#"{
            "sub": "pairwise-123",
            "name": "CHAN, Tai Man",
            "name#zh-Hant-HK": "陳大文",
            "email": "tai.man@example.hk",
            "updated_at": 1700000000,
            "address": {"country": "HK"},
            "tessera_level": 2
        }"#;
        let claims: UserInfoClaims<OtherClaims, CoreGenderClaim> =
            UserInfoClaims::from_json::<std::io::Error>(json.as_bytes(), None).unwrap();
        let other = &claims.additional_claims().claims;
        assert!(other.contains_key("tessera_level") && !other.contains_key("email"));
        let rows = claim_rows(&claims);
        assert_eq!(row(&rows, "sub"), Some("pairwise-123"));
        assert_eq!(row(&rows, "name#zh-Hant-HK"), Some("陳大文"));
        assert_eq!(row(&rows, "tessera_level"), Some("2"));
        assert_eq!(row(&rows, "address"), Some(r#"{"country":"HK"}"#));
        assert_eq!(row(&rows, "updated_at"), Some("1700000000 (2023-11-14 22:13:20 UTC)"));
        let names: Vec<&str> = rows.iter().map(|r| r.name.as_str()).collect();
        let mut sorted = names.clone();
        sorted.sort_unstable();
        assert_eq!(names, sorted);

        let name = CitizenName::from_claim(claims.name());
        assert_eq!(name.en.as_deref(), Some("CHAN, Tai Man"));
        assert_eq!(name.zh.as_deref(), Some("陳大文"));
    }

    #[test]
    fn id_token_rows_include_session_claims() {
        let json = r#"{
            "iss": "http://localhost:8080", "aud": "portal", "sub": "pairwise-123",
            "exp": 1700000600, "iat": 1700000000, "auth_time": 1699999990,
            "nonce": "n", "acr": "urn:tessera:loa:2", "amr": ["pwd", "otp"], "sid": "session-9"
        }"#;
        let claims: IdTokenClaims<OtherClaims, CoreGenderClaim> = serde_json::from_str(json).unwrap();
        assert!(claims.additional_claims().claims.contains_key("sid"));
        let rows = claim_rows(&claims);
        assert_eq!(row(&rows, "sid"), Some("session-9"));
        assert_eq!(row(&rows, "acr"), Some("urn:tessera:loa:2"));
        assert_eq!(row(&rows, "amr"), Some(r#"["pwd","otp"]"#));
        assert_eq!(row(&rows, "auth_time"), Some("1699999990 (2023-11-14 22:13:10 UTC)"));
        assert!(CitizenName::from_claim(claims.name()).is_empty());
    }

    #[test]
    fn names_fill_in_from_each_other() {
        let a = CitizenName { en: Some("A".into()), zh: None };
        let b = CitizenName { en: Some("B".into()), zh: Some("乙".into()) };
        assert_eq!(a.or(b), CitizenName { en: Some("A".into()), zh: Some("乙".into()) });
    }
}
