//! Signing and verifying the JWTs Tessera issues (ID tokens, access tokens), with the
//! keys of [`KeyManager`] cached in memory: the token endpoint is a hot path, so the
//! active private key is unsealed once a minute at most, not once per token. A rotation
//! on another node is picked up within that minute; the previous key stays published,
//! so tokens signed meanwhile still verify everywhere.

use crate::keys::{KeyError, KeyManager};
use serde::Serialize;
use serde_json::Value;
use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};
use tessera_crypto::{CryptoError, SigningAlg, SigningKeyPair, jws_header_unverified, verify_jws};
use tessera_domain::UnixTime;

/// How long an unsealed signing key or a parsed JWKS is used before reloading.
const CACHE_FOR: Duration = Duration::from_secs(60);
/// An unknown `kid` reloads the JWKS at most this often (a flood of forged kids cannot
/// turn into a flood of database reads).
const UNKNOWN_KID_RELOAD: Duration = Duration::from_secs(5);

#[derive(Debug, thiserror::Error)]
pub enum JwtError {
    #[error(transparent)]
    Keys(#[from] KeyError),
    #[error("signing failed: {0}")]
    Sign(CryptoError),
    #[error("the token is not valid: {0}")]
    Invalid(&'static str),
}

/// Unsealed active keys, by algorithm, with when they were loaded.
type SignerCache = HashMap<SigningAlg, (Arc<SigningKeyPair>, Instant)>;
/// The published public keys, with when they were loaded.
type JwksCache = Option<(Arc<Vec<Value>>, Instant)>;

#[derive(Clone)]
pub struct Jwt {
    keys: KeyManager,
    signers: Arc<RwLock<SignerCache>>,
    jwks: Arc<RwLock<JwksCache>>,
}

impl Jwt {
    pub fn new(keys: KeyManager) -> Self {
        Jwt { keys, signers: Arc::default(), jwks: Arc::default() }
    }

    pub fn keys(&self) -> &KeyManager {
        &self.keys
    }

    /// Signs `claims` as a compact JWS with the active key of `alg`.
    pub async fn sign<T: Serialize + ?Sized>(
        &self,
        alg: SigningAlg,
        typ: Option<&str>,
        claims: &T,
    ) -> Result<String, JwtError> {
        let signer = self.signer(alg).await?;
        signer.sign_jws(typ, claims).map_err(JwtError::Sign)
    }

    async fn signer(&self, alg: SigningAlg) -> Result<Arc<SigningKeyPair>, JwtError> {
        if let Ok(cache) = self.signers.read()
            && let Some((pair, at)) = cache.get(&alg)
            && at.elapsed() < CACHE_FOR
        {
            return Ok(pair.clone());
        }
        let pair = Arc::new(self.keys.active_signer(alg).await?);
        if let Ok(mut cache) = self.signers.write() {
            cache.insert(alg, (pair.clone(), Instant::now()));
        }
        Ok(pair)
    }

    /// Verifies a JWS issued by this Tessera against its published keys and returns the
    /// payload. Claims (iss, aud, exp, typ) are the caller's to check; `expect_alg`
    /// refuses any other algorithm.
    pub async fn verify(&self, jws: &str, expect_alg: Option<SigningAlg>, now: UnixTime) -> Result<Value, JwtError> {
        let header = jws_header_unverified(jws).map_err(|_| JwtError::Invalid("malformed"))?;
        if expect_alg.is_some_and(|alg| header.alg != alg.as_str()) {
            return Err(JwtError::Invalid("unexpected algorithm"));
        }
        let kid = header.kid.ok_or(JwtError::Invalid("no kid"))?;
        let jwk = match self.find_jwk(&kid, now, false).await? {
            Some(jwk) => jwk,
            None => self.find_jwk(&kid, now, true).await?.ok_or(JwtError::Invalid("unknown key"))?,
        };
        verify_jws(&jwk, jws).map_err(|_| JwtError::Invalid("bad signature"))
    }

    async fn find_jwk(&self, kid: &str, now: UnixTime, reload: bool) -> Result<Option<Value>, JwtError> {
        let cached = self.jwks.read().ok().and_then(|c| c.clone());
        let keys = match cached {
            Some((keys, at)) if at.elapsed() < CACHE_FOR && (!reload || at.elapsed() < UNKNOWN_KID_RELOAD) => keys,
            _ => {
                let doc = self.keys.jwks(now).await?;
                let keys = Arc::new(doc["keys"].as_array().cloned().unwrap_or_default());
                if let Ok(mut cache) = self.jwks.write() {
                    *cache = Some((keys.clone(), Instant::now()));
                }
                keys
            }
        };
        Ok(keys.iter().find(|k| k["kid"].as_str() == Some(kid)).cloned())
    }
}
