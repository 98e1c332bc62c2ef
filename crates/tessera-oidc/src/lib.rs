//! tessera-oidc: the OpenID Connect authorization server.
//!
//! So far it owns the token signing keys ([`keys`]): their creation at first start,
//! their rotation (`next` → `active` → `retired`), and the JWKS that relying parties use
//! to verify what Tessera signs. The authorization, token, userinfo, introspection,
//! revocation and logout endpoints build on it.

pub mod keys;

pub use keys::{KeyError, KeyManager, RETIRED_KEY_PUBLISHED_SECS};
