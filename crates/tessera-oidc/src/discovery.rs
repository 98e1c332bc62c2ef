//! OpenID Provider metadata (OIDC Discovery 1.0 §3, RFC 8414 §2), served at
//! [`DISCOVERY_PATH`] under the issuer.

use serde_json::{Map, Value, json};
use tessera_crypto::SigningAlg;

use crate::claims::CLAIMS;
use crate::request::DisplayMode;
use crate::scope::SUPPORTED_SCOPES;

/// Where the metadata is published, relative to the issuer (OIDC Discovery §4).
pub const DISCOVERY_PATH: &str = "/.well-known/openid-configuration";
/// The authorization endpoint, relative to the issuer.
pub const AUTHORIZE_PATH: &str = "/authorize";
/// The token endpoint, relative to the issuer.
pub const TOKEN_PATH: &str = "/token";
/// The userinfo endpoint, relative to the issuer.
pub const USERINFO_PATH: &str = "/userinfo";
/// The JWKS, relative to the issuer.
pub const JWKS_PATH: &str = "/jwks";
/// The introspection endpoint (RFC 7662), relative to the issuer.
pub const INTROSPECT_PATH: &str = "/introspect";
/// The revocation endpoint (RFC 7009), relative to the issuer.
pub const REVOKE_PATH: &str = "/revoke";
/// The RP-initiated logout endpoint, relative to the issuer.
pub const END_SESSION_PATH: &str = "/end_session";

/// The locales of Tessera's pages and claims.
pub const LOCALES: [&str; 2] = ["en", "zh-HK"];

/// Claims that are not in the catalogue but appear in ID tokens (OIDC Core §2, §5.1).
const PROTOCOL_CLAIMS: [&str; 10] = ["sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "acr", "amr", "sid"];

/// The provider metadata for `issuer`.
///
/// `issuer` is published exactly as given (OIDC Discovery §4.3: it must equal the `iss` of
/// every token; configure it without a trailing slash). Every endpoint is `issuer` followed by
/// its path. `acr_values_supported` is `acr_values`, omitted when empty.
///
/// Tessera supports the authorization code flow only, `S256` PKCE only, `client_secret_basic`
/// and `client_secret_post` (and public clients) at the token, introspection and revocation
/// endpoints, no request objects, and RFC 9207 `iss` in authorization responses.
#[must_use]
pub fn provider_metadata(issuer: &str, acr_values: &[&str]) -> Value {
    let base = issuer.trim_end_matches('/');
    let endpoint = |path: &str| Value::from(format!("{base}{path}"));
    let auth_methods = json!(["client_secret_basic", "client_secret_post"]);
    let mut claims: Vec<&str> = PROTOCOL_CLAIMS.to_vec();
    claims.extend(CLAIMS.iter().map(|c| c.name));

    let mut m = Map::new();
    let mut put = |k: &str, v: Value| {
        m.insert(k.to_owned(), v);
    };
    put("issuer", Value::from(issuer));
    put("authorization_endpoint", endpoint(AUTHORIZE_PATH));
    put("token_endpoint", endpoint(TOKEN_PATH));
    put("userinfo_endpoint", endpoint(USERINFO_PATH));
    put("jwks_uri", endpoint(JWKS_PATH));
    put("introspection_endpoint", endpoint(INTROSPECT_PATH));
    put("revocation_endpoint", endpoint(REVOKE_PATH));
    put("end_session_endpoint", endpoint(END_SESSION_PATH));
    put("scopes_supported", json!(SUPPORTED_SCOPES));
    put("response_types_supported", json!(["code"]));
    put("response_modes_supported", json!(["query"]));
    put("grant_types_supported", json!(["authorization_code", "refresh_token", "client_credentials"]));
    put("subject_types_supported", json!(["pairwise", "public"]));
    put("id_token_signing_alg_values_supported", json!(SigningAlg::ALL.map(SigningAlg::as_str)));
    put("token_endpoint_auth_methods_supported", auth_methods.clone());
    put("introspection_endpoint_auth_methods_supported", auth_methods.clone());
    put("revocation_endpoint_auth_methods_supported", auth_methods);
    put("claim_types_supported", json!(["normal"]));
    put("claims_supported", json!(claims));
    put("claims_parameter_supported", Value::Bool(true));
    put("request_parameter_supported", Value::Bool(false));
    put("request_uri_parameter_supported", Value::Bool(false));
    put("require_request_uri_registration", Value::Bool(false));
    put("code_challenge_methods_supported", json!([crate::pkce::S256]));
    put("authorization_response_iss_parameter_supported", Value::Bool(true));
    if !acr_values.is_empty() {
        put("acr_values_supported", json!(acr_values));
    }
    put("prompt_values_supported", json!(["none", "login", "consent", "select_account"]));
    put("display_values_supported", json!(DisplayMode::ALL.map(DisplayMode::as_str)));
    put("ui_locales_supported", json!(LOCALES));
    put("claims_locales_supported", json!(LOCALES));
    put("frontchannel_logout_supported", Value::Bool(false));
    put("backchannel_logout_supported", Value::Bool(false));
    Value::Object(m)
}

#[cfg(test)]
#[path = "discovery_tests.rs"]
mod tests;
