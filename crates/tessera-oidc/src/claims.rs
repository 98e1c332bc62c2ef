//! The claim catalogue (which scope releases which claim) and the OIDC `claims` request
//! parameter (OIDC Core §5.5).

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value};

use crate::error::OAuthError;
use crate::scope::ScopeSet;

/// One claim about a citizen that Tessera can release.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClaimDef {
    /// The claim name as it appears in the ID token or userinfo response.
    pub name: &'static str,
    /// The scope that releases it (OIDC Core §5.4).
    pub scope: &'static str,
    /// The message-catalog key of the claim's label on the consent page.
    pub label_key: &'static str,
}

const fn def(name: &'static str, scope: &'static str, label_key: &'static str) -> ClaimDef {
    ClaimDef { name, scope, label_key }
}

/// The Chinese name: the `name` claim language-tagged per OIDC Core §5.2 (BCP 47 `zh-Hant-HK`).
pub const NAME_ZH: &str = "name#zh-Hant-HK";

/// Every claim Tessera releases, grouped by scope, in the order the consent page lists them.
pub const CLAIMS: &[ClaimDef] = &[
    def("name", "profile", "claim_name"),
    def(NAME_ZH, "profile", "claim_name_zh"),
    def("birthdate", "profile", "claim_birthdate"),
    def("gender", "profile", "claim_gender"),
    def("updated_at", "profile", "claim_updated_at"),
    def("email", "email", "claim_email"),
    def("email_verified", "email", "claim_email_verified"),
    def("phone_number", "phone", "claim_phone_number"),
    def("phone_number_verified", "phone", "claim_phone_number_verified"),
    def("address", "address", "claim_address"),
    def("hkid", "hk_identity", "claim_hkid"),
];

/// The catalogue entry of claim `name`, if Tessera releases it.
#[must_use]
pub fn claim_def(name: &str) -> Option<&'static ClaimDef> {
    CLAIMS.iter().find(|c| c.name == name)
}

/// The claims the scopes in `scopes` release (OIDC Core §5.4), in catalogue order.
#[must_use]
pub fn claims_for_scopes(scopes: &ScopeSet) -> Vec<&'static ClaimDef> {
    CLAIMS.iter().filter(|c| scopes.contains(c.scope)).collect()
}

/// The longest `claims` parameter accepted, in bytes.
pub const MAX_CLAIMS_PARAM_LEN: usize = 8192;
/// The most claims one member (`userinfo` or `id_token`) may name.
pub const MAX_CLAIMS_PER_MEMBER: usize = 64;
/// The longest claim name accepted.
pub const MAX_CLAIM_NAME_LEN: usize = 128;

/// How one claim is requested (OIDC Core §5.5.1). `null` in the request is the default value.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ClaimRequest {
    /// Whether the claim is essential to the client (§5.5.1 `essential`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub essential: bool,
    /// A specific value asked for (§5.5.1 `value`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<Value>,
    /// Acceptable values in order of preference (§5.5.1 `values`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub values: Vec<Value>,
}

/// The parsed `claims` request parameter: which claims to return from the userinfo endpoint
/// and which in the ID token. Claims Tessera does not know are kept (callers ignore them).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ClaimsRequest {
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub userinfo: BTreeMap<String, ClaimRequest>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub id_token: BTreeMap<String, ClaimRequest>,
}

fn invalid(why: &str) -> OAuthError {
    OAuthError::invalid_request(format!("claims parameter: {why}"))
}

impl ClaimsRequest {
    /// Parses the `claims` parameter (OIDC Core §5.5): a JSON object whose optional
    /// `userinfo` and `id_token` members are objects mapping a claim name to `null` or to an
    /// object with optional `essential` (boolean), `value` and `values` (array). Other members,
    /// at either level, are ignored as §5.5 requires. For `acr`, `value` must be a string and
    /// `values` an array of strings (§5.5.1.1).
    ///
    /// Malformed JSON, wrong shapes, empty or overlong claim names, too many claims, or a value
    /// longer than [`MAX_CLAIMS_PARAM_LEN`] are `invalid_request`.
    pub fn parse(s: &str) -> Result<Self, OAuthError> {
        if s.len() > MAX_CLAIMS_PARAM_LEN {
            return Err(invalid("too long"));
        }
        let root: Value = serde_json::from_str(s).map_err(|_| invalid("not valid JSON"))?;
        let Value::Object(root) = root else {
            return Err(invalid("not a JSON object"));
        };
        Ok(Self { userinfo: member(&root, "userinfo")?, id_token: member(&root, "id_token")? })
    }

    /// Whether no claim is requested.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.userinfo.is_empty() && self.id_token.is_empty()
    }

    /// Every claim named in either member.
    #[must_use]
    pub fn requested(&self) -> BTreeSet<String> {
        self.userinfo.keys().chain(self.id_token.keys()).cloned().collect()
    }

    /// Every claim marked `"essential": true` in either member.
    #[must_use]
    pub fn essential(&self) -> BTreeSet<String> {
        self.userinfo.iter().chain(&self.id_token).filter(|(_, r)| r.essential).map(|(n, _)| n.clone()).collect()
    }

    /// The requested `acr` (OIDC Core §5.5.1.1): whether it is essential, and the acceptable
    /// values (`value` first, then `values`; empty when any value will do). Looked up in
    /// `id_token`, where the claim belongs, then in `userinfo`. `None` when `acr` is not named.
    #[must_use]
    pub fn acr_request(&self) -> Option<(bool, Vec<String>)> {
        let r = self.id_token.get("acr").or_else(|| self.userinfo.get("acr"))?;
        let mut values: Vec<String> = Vec::new();
        for v in r.value.iter().chain(&r.values) {
            if let Some(s) = v.as_str()
                && !values.iter().any(|x| x == s)
            {
                values.push(s.to_owned());
            }
        }
        Some((r.essential, values))
    }

    /// Drops the claims for which `keep` is false, from both members.
    pub fn retain(&mut self, mut keep: impl FnMut(&str) -> bool) {
        self.userinfo.retain(|name, _| keep(name));
        self.id_token.retain(|name, _| keep(name));
    }
}

fn member(root: &Map<String, Value>, name: &str) -> Result<BTreeMap<String, ClaimRequest>, OAuthError> {
    let Some(value) = root.get(name) else {
        return Ok(BTreeMap::new());
    };
    let Value::Object(claims) = value else {
        return Err(invalid(&format!("{name} is not a JSON object")));
    };
    if claims.len() > MAX_CLAIMS_PER_MEMBER {
        return Err(invalid(&format!("{name} names too many claims")));
    }
    let mut out = BTreeMap::new();
    for (claim, spec) in claims {
        if claim.is_empty() || claim.len() > MAX_CLAIM_NAME_LEN {
            return Err(invalid("a claim name is empty or too long"));
        }
        out.insert(claim.clone(), claim_request(claim, spec)?);
    }
    Ok(out)
}

fn claim_request(claim: &str, spec: &Value) -> Result<ClaimRequest, OAuthError> {
    let spec = match spec {
        Value::Null => return Ok(ClaimRequest::default()),
        Value::Object(spec) => spec,
        _ => return Err(invalid("a claim request is neither null nor an object")),
    };
    let essential = match spec.get("essential") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(_) => return Err(invalid("essential is not a boolean")),
    };
    let value = spec.get("value").filter(|v| !v.is_null()).cloned();
    let values = match spec.get("values") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(values)) => values.clone(),
        Some(_) => return Err(invalid("values is not an array")),
    };
    if claim == "acr" && (value.as_ref().is_some_and(|v| !v.is_string()) || values.iter().any(|v| !v.is_string())) {
        return Err(invalid("acr values must be strings"));
    }
    Ok(ClaimRequest { essential, value, values })
}

#[cfg(test)]
#[path = "claims_tests.rs"]
mod tests;
