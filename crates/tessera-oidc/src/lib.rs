//! tessera-oidc: the OpenID Connect authorization server.
//!
//! So far it owns the token signing keys ([`keys`]): their creation at first start,
//! their rotation (`next` → `active` → `retired`), and the JWKS that relying parties use
//! to verify what Tessera signs. The authorization, token, userinfo, introspection,
//! revocation and logout endpoints build on it.

pub mod claims;
pub mod client_admin;
pub mod client_auth;
pub mod clients;
pub mod discovery;
pub mod error;
pub mod flow;
pub mod grant;
pub mod introspection;
pub mod jwt;
pub mod keys;
pub mod logout;
pub mod pkce;
pub mod redirect;
pub mod request;
pub mod response;
pub mod scope;
pub mod service;
pub mod sharing;
pub mod sso;
pub mod subject;
pub mod token_endpoint;
pub mod tokens;
pub mod userinfo;

pub use keys::{KeyError, KeyManager, RETIRED_KEY_PUBLISHED_SECS};
