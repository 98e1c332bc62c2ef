//! Registered OAuth / OIDC clients (department applications).

use crate::macros::string_enum;
use crate::{ClientId, UnixTime};

string_enum! {
    /// How a client authenticates at the token endpoint (OIDC `token_endpoint_auth_method`).
    pub enum TokenEndpointAuthMethod ("token endpoint auth method") {
        ClientSecretBasic => "client_secret_basic",
        ClientSecretPost => "client_secret_post",
        /// A public client: no secret, PKCE always required.
        None => "none",
    }
}

string_enum! {
    /// How `sub` is computed for a client (OIDC `subject_type`).
    pub enum SubjectType ("subject type") {
        /// Per sector identifier, so two departments cannot join records on `sub`.
        Pairwise => "pairwise",
        /// The same `sub` for every client.
        Public => "public",
    }
}

/// A client registered by an operator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Client {
    pub id: ClientId,
    pub department_en: String,
    pub department_zh: String,
    /// The application's display name.
    pub name: String,
    /// The application's name in Chinese; empty when it has none (pages show `name`).
    pub name_zh: String,
    /// Exact-match redirect URIs, as registered.
    pub redirect_uris: Vec<String>,
    pub post_logout_redirect_uris: Vec<String>,
    pub allowed_scopes: Vec<String>,
    pub token_endpoint_auth_method: TokenEndpointAuthMethod,
    /// SHA-256 of the client secret; `None` for public clients. The secret itself is never stored.
    pub secret_digest: Option<[u8; 32]>,
    pub subject_type: SubjectType,
    /// The sector that pairwise subjects are computed for.
    pub sector_identifier: String,
    pub require_pkce: bool,
    /// JWS algorithm of ID tokens for this client (`RS256`, `ES256`, `EdDSA`).
    pub id_token_alg: String,
    pub enabled: bool,
    pub created_at: UnixTime,
    pub updated_at: UnixTime,
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    #[test]
    fn auth_methods_use_the_oidc_names() {
        assert_eq!(TokenEndpointAuthMethod::ClientSecretBasic.as_str(), "client_secret_basic");
        for m in TokenEndpointAuthMethod::ALL {
            assert_eq!(m.as_str().parse::<TokenEndpointAuthMethod>().unwrap(), *m);
        }
        assert!("private_key_jwt".parse::<TokenEndpointAuthMethod>().is_err());
        assert!("None".parse::<TokenEndpointAuthMethod>().is_err());
    }

    #[test]
    fn subject_types_round_trip() {
        for s in SubjectType::ALL {
            assert_eq!(s.to_string().parse::<SubjectType>().unwrap(), *s);
        }
        let err = "secret".parse::<SubjectType>().unwrap_err();
        assert_eq!(err.to_string(), "invalid subject type: not one of the known values");
    }
}
