//! Signing keys: every algorithm Tessera signs with (RS256, ES256, EdDSA) has one
//! `active` key that signs and one `next` key already published in the JWKS, so that
//! relying parties have fetched it before a rotation makes it active. Retired keys stay
//! published for [`RETIRED_KEY_PUBLISHED_SECS`] so tokens signed before a rotation still
//! verify. Private keys are stored sealed with the master key's signing-key cipher, bound
//! to their kid. All nodes read the same keys from the database.

use serde_json::{Value, json};
use tessera_crypto::{Cipher, CryptoError, MasterKey, Purpose, SigningAlg, SigningKeyPair};
use tessera_domain::{KeyState, Kid, SigningKeyRecord, UnixTime};
use tessera_store::{Db, StoreError, signing_keys};

/// How long a retired key stays in the JWKS: longer than any token it signed can live.
pub const RETIRED_KEY_PUBLISHED_SECS: i64 = 7 * 24 * 3600;

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("signing key cryptography failed: {0}")]
    Crypto(#[from] CryptoError),
    #[error("stored signing key {kid} is unusable: {reason}")]
    Corrupt { kid: String, reason: String },
    #[error("no {1} {0} signing key")]
    MissingKey(SigningAlg, KeyState),
    #[error("key generation task failed")]
    Task,
}

/// The result of rotating one algorithm's keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rotation {
    pub alg: SigningAlg,
    /// The key that signs from now on (the former `next`).
    pub active: String,
    /// The new `next` key.
    pub next: String,
}

/// Creates, rotates and publishes signing keys.
#[derive(Clone)]
pub struct KeyManager {
    db: Db,
    cipher: Cipher,
}

impl KeyManager {
    pub fn new(db: Db, master_key: &MasterKey) -> Result<KeyManager, KeyError> {
        Ok(KeyManager { db, cipher: master_key.cipher(Purpose::SigningKey)? })
    }

    /// Makes sure every algorithm has an active and a next key, creating what is missing
    /// (at first start). Safe when several nodes start at once: the database lets one key
    /// per algorithm and state win, and the losers' keys are dropped. Returns the kids created.
    pub async fn ensure(&self, now: UnixTime) -> Result<Vec<String>, KeyError> {
        let existing = self.db.run(signing_keys::list).await?;
        let mut created = Vec::new();
        for alg in SigningAlg::ALL {
            for state in [KeyState::Active, KeyState::Next] {
                let present = existing.iter().any(|k| k.alg == alg.as_str() && k.state == state);
                if present {
                    continue;
                }
                let record = self.generate(alg, state, now).await?;
                let kid = record.kid.as_str().to_owned();
                match self.db.run(move |conn| signing_keys::insert(conn, &record)).await {
                    Ok(()) => {
                        tracing::info!(alg = alg.as_str(), state = state.as_str(), kid = %kid, "created signing key");
                        created.push(kid);
                    }
                    // Another node created this algorithm's key first: use theirs.
                    Err(StoreError::Conflict(_)) => {}
                    Err(e) => return Err(e.into()),
                }
            }
        }
        Ok(created)
    }

    /// Rotates every algorithm: active → retired, next → active, and a new next key.
    /// Tokens already issued keep verifying: their key stays in the JWKS as retired.
    pub async fn rotate(&self, now: UnixTime) -> Result<Vec<Rotation>, KeyError> {
        self.ensure(now).await?;
        let mut rotations = Vec::new();
        for alg in SigningAlg::ALL {
            let next_kid = self.key_in_state(alg, KeyState::Next).await?.kid.as_str().to_owned();
            let record = self.generate(alg, KeyState::Next, now).await?;
            let new_next = record.kid.as_str().to_owned();
            self.db.run(move |conn| signing_keys::rotate(conn, &record, now)).await?;
            tracing::info!(alg = alg.as_str(), active = %next_kid, next = %new_next, "rotated signing keys");
            rotations.push(Rotation { alg, active: next_kid, next: new_next });
        }
        Ok(rotations)
    }

    /// Every key's record, oldest first (no private material leaves sealed).
    pub async fn list(&self) -> Result<Vec<SigningKeyRecord>, KeyError> {
        Ok(self.db.run(signing_keys::list).await?)
    }

    /// The JWKS document: next, active and recently retired public keys.
    pub async fn jwks(&self, now: UnixTime) -> Result<Value, KeyError> {
        let keys = self.db.run(signing_keys::list).await?;
        let mut published = Vec::with_capacity(keys.len());
        for key in keys.iter().filter(|k| is_published(k, now)) {
            let jwk: Value = serde_json::from_str(&key.public_jwk)
                .map_err(|e| KeyError::Corrupt { kid: key.kid.as_str().to_owned(), reason: e.to_string() })?;
            published.push(jwk);
        }
        Ok(json!({ "keys": published }))
    }

    /// The key that signs for `alg` now, unsealed.
    pub async fn active_signer(&self, alg: SigningAlg) -> Result<SigningKeyPair, KeyError> {
        let record = self.key_in_state(alg, KeyState::Active).await?;
        self.unseal(&record)
    }

    async fn key_in_state(&self, alg: SigningAlg, state: KeyState) -> Result<SigningKeyRecord, KeyError> {
        self.db
            .run(move |conn| signing_keys::list_by_state(conn, state))
            .await?
            .into_iter()
            .find(|k| k.alg == alg.as_str())
            .ok_or(KeyError::MissingKey(alg, state))
    }

    fn unseal(&self, record: &SigningKeyRecord) -> Result<SigningKeyPair, KeyError> {
        let corrupt = |reason: String| KeyError::Corrupt { kid: record.kid.as_str().to_owned(), reason };
        let alg: SigningAlg = record.alg.parse().map_err(|_| corrupt(format!("unknown algorithm {}", record.alg)))?;
        let der = self
            .cipher
            .open(&record.private_key_sealed, record.kid.as_str().as_bytes())
            .map_err(|_| corrupt("cannot be decrypted with this master key".into()))?;
        let pair = SigningKeyPair::from_pkcs8(alg, &der)?;
        if pair.kid() != record.kid.as_str() {
            return Err(corrupt("private key does not match its kid".into()));
        }
        Ok(pair)
    }

    /// Generates a key on the blocking pool (RSA generation takes a while) and seals it.
    async fn generate(&self, alg: SigningAlg, state: KeyState, now: UnixTime) -> Result<SigningKeyRecord, KeyError> {
        let pair =
            tokio::task::spawn_blocking(move || SigningKeyPair::generate(alg)).await.map_err(|_| KeyError::Task)??;
        let kid = Kid::parse(pair.kid())
            .map_err(|e| KeyError::Corrupt { kid: pair.kid().to_owned(), reason: e.to_string() })?;
        let sealed = self.cipher.seal(pair.pkcs8_der(), kid.as_str().as_bytes())?;
        Ok(SigningKeyRecord {
            kid,
            alg: alg.as_str().to_owned(),
            state,
            private_key_sealed: sealed,
            public_jwk: pair.public_jwk().to_string(),
            created_at: now,
            activated_at: (state == KeyState::Active).then_some(now),
            retired_at: None,
        })
    }
}

fn is_published(key: &SigningKeyRecord, now: UnixTime) -> bool {
    match key.state {
        KeyState::Next | KeyState::Active => true,
        KeyState::Retired => key.retired_at.is_none_or(|at| now.secs_since(at) <= RETIRED_KEY_PUBLISHED_SECS),
    }
}

#[cfg(test)]
#[path = "keys_tests.rs"]
mod tests;
