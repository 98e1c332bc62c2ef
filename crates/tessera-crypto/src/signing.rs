//! Token-signing keys (RS256, ES256, EdDSA), compact JWS, and public JWKs.
//!
//! ring does all signing and verification. RSA keys are generated with the `rsa`
//! crate (ring cannot generate them), exported as PKCS#8 and loaded into ring.
//! A key's `kid` is its RFC 7638 thumbprint, so it is a pure function of the
//! public key: the same on every node and after every reload, different for
//! different keys.

use std::fmt;
use std::str::FromStr;

use ring::rand::{SecureRandom as _, SystemRandom};
use ring::signature::{
    ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, Ed25519KeyPair, KeyPair as _, RSA_PKCS1_SHA256, RsaKeyPair,
    RsaPublicKeyComponents,
};
use rsa::pkcs8::EncodePrivateKey as _;
use rsa::rand_core::{CryptoRng, RngCore};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::CryptoError;
use crate::b64;
use crate::jwk::PublicKey;
use crate::wipe::WipeOnDrop;

/// RSA modulus size for generated keys.
const RSA_BITS: usize = 2048;

/// A JWS algorithm Tessera signs with. Serialises as its JOSE name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum SigningAlg {
    /// RSASSA-PKCS1-v1_5 with SHA-256, 2048-bit keys. The OpenID default.
    #[serde(rename = "RS256")]
    Rs256,
    /// ECDSA P-256 with SHA-256, 64-byte `r || s` signatures.
    #[serde(rename = "ES256")]
    Es256,
    /// Ed25519 (RFC 8037).
    #[serde(rename = "EdDSA")]
    EdDsa,
}

impl SigningAlg {
    /// All supported algorithms, for discovery metadata.
    pub const ALL: [Self; 3] = [Self::Rs256, Self::Es256, Self::EdDsa];

    /// The JOSE name: `"RS256"`, `"ES256"` or `"EdDSA"`.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Rs256 => "RS256",
            Self::Es256 => "ES256",
            Self::EdDsa => "EdDSA",
        }
    }
}

impl fmt::Display for SigningAlg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for SigningAlg {
    type Err = CryptoError;

    /// Parses the exact, case-sensitive JOSE name. `none`, `HS256` and every
    /// other name are [`CryptoError::UnsupportedAlgorithm`].
    fn from_str(name: &str) -> Result<Self, Self::Err> {
        match name {
            "RS256" => Ok(Self::Rs256),
            "ES256" => Ok(Self::Es256),
            "EdDSA" => Ok(Self::EdDsa),
            _ => Err(CryptoError::UnsupportedAlgorithm),
        }
    }
}

enum RingKey {
    Rsa(RsaKeyPair),
    Ecdsa(EcdsaKeyPair),
    Ed25519(Ed25519KeyPair),
}

/// A private signing key with its algorithm and kid.
///
/// `Debug` shows only the algorithm and kid. The PKCS#8 copy held for
/// [`SigningKeyPair::pkcs8_der`] is overwritten (best effort) on drop.
pub struct SigningKeyPair {
    alg: SigningAlg,
    key: RingKey,
    pkcs8: WipeOnDrop,
    public: PublicKey,
    kid: String,
    rng: SystemRandom,
}

impl fmt::Debug for SigningKeyPair {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningKeyPair").field("alg", &self.alg).field("kid", &self.kid).finish_non_exhaustive()
    }
}

impl SigningKeyPair {
    /// Generates a new key: RSA 2048 (exponent 65537) for RS256, P-256 for ES256,
    /// Ed25519 for EdDSA.
    ///
    /// RS256 generation is CPU-heavy (tens to hundreds of milliseconds, varying);
    /// call it from `spawn_blocking` or the CLI, not on an async worker.
    ///
    /// # Errors
    /// [`CryptoError::KeyGeneration`] if generation or the PKCS#8 export fails,
    /// [`CryptoError::Rng`] if the system RNG fails.
    pub fn generate(alg: SigningAlg) -> Result<Self, CryptoError> {
        let rng = SystemRandom::new();
        let der = match alg {
            SigningAlg::Rs256 => generate_rsa_pkcs8()?,
            SigningAlg::Es256 => EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng)
                .map_err(|_| CryptoError::KeyGeneration(alg))?
                .as_ref()
                .to_vec(),
            SigningAlg::EdDsa => {
                Ed25519KeyPair::generate_pkcs8(&rng).map_err(|_| CryptoError::KeyGeneration(alg))?.as_ref().to_vec()
            }
        };
        Self::from_owned_pkcs8(alg, WipeOnDrop(der))
    }

    /// Loads a key from unencrypted PKCS#8 DER (after opening it with the
    /// [`crate::Cipher`] for [`crate::Purpose::SigningKey`]).
    ///
    /// RS256 takes an `rsaEncryption` key of 2048 to 4096 bits; ES256 a P-256
    /// `ECPrivateKey` with its public key; EdDSA a PKCS#8 v2 (ring) or v1
    /// (`openssl genpkey`) Ed25519 key. A key of another type is rejected.
    ///
    /// # Errors
    /// [`CryptoError::KeyRejected`] with ring's reason.
    pub fn from_pkcs8(alg: SigningAlg, der: &[u8]) -> Result<Self, CryptoError> {
        Self::from_owned_pkcs8(alg, WipeOnDrop(der.to_vec()))
    }

    fn from_owned_pkcs8(alg: SigningAlg, der: WipeOnDrop) -> Result<Self, CryptoError> {
        let rng = SystemRandom::new();
        let rejected = |e: ring::error::KeyRejected| CryptoError::KeyRejected { alg, reason: e.to_string() };
        let (key, public) = match alg {
            SigningAlg::Rs256 => {
                let pair = RsaKeyPair::from_pkcs8(&der.0).map_err(rejected)?;
                let parts = RsaPublicKeyComponents::<Vec<u8>>::from(pair.public());
                let public = PublicKey::rsa(&parts.n, &parts.e);
                (RingKey::Rsa(pair), public)
            }
            SigningAlg::Es256 => {
                let pair =
                    EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &der.0, &rng).map_err(rejected)?;
                let public = PublicKey::p256_uncompressed(pair.public_key().as_ref())
                    .ok_or(CryptoError::KeyRejected { alg, reason: "unexpected public key encoding".to_owned() })?;
                (RingKey::Ecdsa(pair), public)
            }
            SigningAlg::EdDsa => {
                let pair = Ed25519KeyPair::from_pkcs8_maybe_unchecked(&der.0).map_err(rejected)?;
                let x = pair
                    .public_key()
                    .as_ref()
                    .try_into()
                    .map_err(|_| CryptoError::KeyRejected { alg, reason: "unexpected public key length".to_owned() })?;
                (RingKey::Ed25519(pair), PublicKey::Ed25519 { x })
            }
        };
        let kid = public.thumbprint();
        Ok(Self { alg, key, pkcs8: der, public, kid, rng })
    }

    /// The private key as PKCS#8 DER. **Secret**: encrypt it with the
    /// [`crate::Cipher`] for [`crate::Purpose::SigningKey`] (with the kid as
    /// associated data) before storing; never log it.
    #[must_use]
    pub fn pkcs8_der(&self) -> &[u8] {
        &self.pkcs8.0
    }

    /// The algorithm this key signs with.
    #[must_use]
    pub fn alg(&self) -> SigningAlg {
        self.alg
    }

    /// The key id: the RFC 7638 SHA-256 thumbprint of the public key, base64url
    /// (43 characters). Stable for a key across reloads and nodes; distinct keys
    /// have distinct kids.
    #[must_use]
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The public JWK for the JWKS document. It holds only `kty`, `use: "sig"`,
    /// `alg`, `kid` and the public parameters (`n`, `e` for RSA; `crv`, `x`, `y`
    /// for P-256; `crv`, `x` for Ed25519), never a private member.
    #[must_use]
    pub fn public_jwk(&self) -> Value {
        self.public.to_jwk(&self.kid)
    }

    /// Signs `message`: RSASSA-PKCS1-v1_5 SHA-256 (256-byte signature for 2048-bit
    /// keys), ECDSA P-256 SHA-256 as fixed 64-byte `r || s` (the JWS form), or
    /// Ed25519 (64 bytes).
    ///
    /// # Errors
    /// [`CryptoError::Signing`] if ring fails (RNG failure).
    pub fn sign(&self, message: &[u8]) -> Result<Vec<u8>, CryptoError> {
        match &self.key {
            RingKey::Rsa(pair) => {
                let mut signature = vec![0u8; pair.public().modulus_len()];
                pair.sign(&RSA_PKCS1_SHA256, &self.rng, message, &mut signature).map_err(|_| CryptoError::Signing)?;
                Ok(signature)
            }
            RingKey::Ecdsa(pair) => pair
                .sign(&self.rng, message)
                .map(|signature| signature.as_ref().to_vec())
                .map_err(|_| CryptoError::Signing),
            RingKey::Ed25519(pair) => Ok(pair.sign(message).as_ref().to_vec()),
        }
    }

    /// Signs `payload` as a compact JWS (`header.payload.signature`, base64url
    /// without padding) with header `{"alg", "kid"[, "typ"]}`; pass `typ` as
    /// `Some("at+jwt")` for RFC 9068 access tokens, `None` for ID tokens.
    ///
    /// # Errors
    /// [`CryptoError::Serialization`] if `payload` cannot be serialised to JSON;
    /// [`CryptoError::Signing`] if signing fails.
    pub fn sign_jws<T: Serialize + ?Sized>(&self, typ: Option<&str>, payload: &T) -> Result<String, CryptoError> {
        let mut header = serde_json::Map::new();
        header.insert("alg".to_owned(), self.alg.as_str().into());
        header.insert("kid".to_owned(), self.kid.clone().into());
        if let Some(typ) = typ {
            header.insert("typ".to_owned(), typ.into());
        }
        let header = serde_json::to_vec(&header).map_err(|_| CryptoError::Serialization)?;
        let payload = serde_json::to_vec(payload).map_err(|_| CryptoError::Serialization)?;
        let signing_input = format!("{}.{}", b64::encode(header), b64::encode(payload));
        let signature = self.sign(signing_input.as_bytes())?;
        Ok(format!("{signing_input}.{}", b64::encode(signature)))
    }

    /// Verifies a compact JWS against this key's public half; see [`verify_jws`].
    ///
    /// # Errors
    /// As for [`verify_jws`].
    pub fn verify_jws(&self, jws: &str) -> Result<Value, CryptoError> {
        verify_with(&self.public, Some(&self.kid), jws)
    }
}

/// The protected header of a compact JWS, read **without** verifying anything.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JwsHeader {
    /// The `alg` member, as written (possibly `"none"` or anything else).
    pub alg: String,
    /// The `kid` member, if present and a string.
    pub kid: Option<String>,
    /// The `typ` member, if present and a string.
    pub typ: Option<String>,
}

/// Reads a compact JWS's header without verifying it. Untrusted: use it only to
/// pick the key (by `kid`) to pass to [`verify_jws`], never to make decisions.
///
/// # Errors
/// [`CryptoError::MalformedJws`] if the JWS does not have three parts or the
/// header is not a base64url JSON object with a string `alg`.
pub fn jws_header_unverified(jws: &str) -> Result<JwsHeader, CryptoError> {
    let (header, _, _) = split_jws(jws)?;
    let header = decode_header(header)?;
    let text = |name: &str| header.get(name).and_then(Value::as_str).map(str::to_owned);
    Ok(JwsHeader {
        alg: text("alg").ok_or(CryptoError::MalformedJws("header has no string alg"))?,
        kid: text("kid"),
        typ: text("typ"),
    })
}

/// Verifies an ECDSA P-256 / SHA-256 `signature` in ASN.1 DER (the encoding WebAuthn
/// authenticators use for COSE algorithm -7, ES256) over `message`, with the public key as
/// the uncompressed point `04 || x || y`. ring checks that the point is on the curve and
/// that `r` and `s` are in range; any malformed input is simply `false`.
#[must_use]
pub fn verify_p256_der(point: &[u8], message: &[u8], signature: &[u8]) -> bool {
    ring::signature::UnparsedPublicKey::new(&ring::signature::ECDSA_P256_SHA256_ASN1, point)
        .verify(message, signature)
        .is_ok()
}

/// Verifies a compact JWS against a public JWK and returns its JSON payload.
///
/// Checks, in order: the JWK is a supported public key (its `alg`, if present,
/// must be the key type's algorithm; its `use`, if present, must be `"sig"`);
/// the JWS has three base64url parts; the header is a JSON object with no `crit`;
/// the header `alg` is exactly the key's algorithm (`none`, HMAC and any other
/// name are refused); a header `kid`, when both it and the JWK's `kid` are
/// present, equals the JWK's; the signature verifies; the payload is JSON.
///
/// It checks no claims (`iss`, `aud`, `exp`, ...): that is the caller's job.
///
/// # Errors
/// [`CryptoError::InvalidJwk`], [`CryptoError::MalformedJws`],
/// [`CryptoError::UnsupportedAlgorithm`], [`CryptoError::KeyMismatch`] or
/// [`CryptoError::BadSignature`].
pub fn verify_jws(jwk: &Value, jws: &str) -> Result<Value, CryptoError> {
    let key = PublicKey::from_jwk(jwk)?;
    if let Some(alg) = jwk.get("alg")
        && alg.as_str() != Some(key.alg().as_str())
    {
        return Err(CryptoError::InvalidJwk("alg does not match the key type"));
    }
    if let Some(key_use) = jwk.get("use")
        && key_use.as_str() != Some("sig")
    {
        return Err(CryptoError::InvalidJwk("use is not sig"));
    }
    let kid = match jwk.get("kid") {
        None => None,
        Some(kid) => Some(kid.as_str().ok_or(CryptoError::InvalidJwk("kid is not a string"))?),
    };
    verify_with(&key, kid, jws)
}

fn verify_with(key: &PublicKey, key_kid: Option<&str>, jws: &str) -> Result<Value, CryptoError> {
    let (header_b64, payload_b64, signature_b64) = split_jws(jws)?;
    let header = decode_header(header_b64)?;
    if header.contains_key("crit") {
        return Err(CryptoError::MalformedJws("crit header parameters are not supported"));
    }
    let alg = header.get("alg").and_then(Value::as_str).ok_or(CryptoError::MalformedJws("header has no string alg"))?;
    if alg.parse::<SigningAlg>()? != key.alg() {
        return Err(CryptoError::KeyMismatch);
    }
    match (header.get("kid"), key_kid) {
        (Some(Value::String(jws_kid)), Some(key_kid)) if jws_kid != key_kid => {
            return Err(CryptoError::KeyMismatch);
        }
        (Some(kid), _) if !kid.is_string() => {
            return Err(CryptoError::MalformedJws("kid is not a string"));
        }
        _ => {}
    }
    let signature = b64::decode(signature_b64).ok_or(CryptoError::MalformedJws("signature is not base64url"))?;
    let (signing_input, _) =
        jws.rsplit_once('.').ok_or(CryptoError::MalformedJws("expected three dot-separated parts"))?;
    key.verify(signing_input.as_bytes(), &signature)?;
    let payload = b64::decode(payload_b64).ok_or(CryptoError::MalformedJws("payload is not base64url"))?;
    serde_json::from_slice(&payload).map_err(|_| CryptoError::MalformedJws("payload is not JSON"))
}

fn split_jws(jws: &str) -> Result<(&str, &str, &str), CryptoError> {
    let mut parts = jws.split('.');
    match (parts.next(), parts.next(), parts.next(), parts.next()) {
        (Some(header), Some(payload), Some(signature), None) => Ok((header, payload, signature)),
        _ => Err(CryptoError::MalformedJws("expected three dot-separated parts")),
    }
}

fn decode_header(header_b64: &str) -> Result<serde_json::Map<String, Value>, CryptoError> {
    let bytes = b64::decode(header_b64).ok_or(CryptoError::MalformedJws("header is not base64url"))?;
    match serde_json::from_slice(&bytes) {
        Ok(Value::Object(header)) => Ok(header),
        _ => Err(CryptoError::MalformedJws("header is not a JSON object")),
    }
}

/// Generates an RSA-2048 key with the `rsa` crate and exports it as PKCS#8 DER.
fn generate_rsa_pkcs8() -> Result<Vec<u8>, CryptoError> {
    let mut rng = RingRng { inner: SystemRandom::new(), failed: false };
    let key = rsa::RsaPrivateKey::new(&mut rng, RSA_BITS).map_err(|_| CryptoError::KeyGeneration(SigningAlg::Rs256))?;
    if rng.failed {
        return Err(CryptoError::Rng);
    }
    let der = key.to_pkcs8_der().map_err(|_| CryptoError::KeyGeneration(SigningAlg::Rs256))?;
    Ok(der.as_bytes().to_vec())
}

/// ring's `SystemRandom` as a `rand_core` RNG for the `rsa` crate. `fill_bytes`
/// cannot report errors, so a failure is recorded and checked after generation.
struct RingRng {
    inner: SystemRandom,
    failed: bool,
}

impl RngCore for RingRng {
    fn next_u32(&mut self) -> u32 {
        let mut bytes = [0u8; 4];
        self.fill_bytes(&mut bytes);
        u32::from_le_bytes(bytes)
    }

    fn next_u64(&mut self) -> u64 {
        let mut bytes = [0u8; 8];
        self.fill_bytes(&mut bytes);
        u64::from_le_bytes(bytes)
    }

    fn fill_bytes(&mut self, dest: &mut [u8]) {
        if self.inner.fill(dest).is_err() {
            self.failed = true;
        }
    }

    fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rsa::rand_core::Error> {
        self.inner.fill(dest).map_err(|_| {
            self.failed = true;
            rsa::rand_core::Error::new("the system random number generator failed")
        })
    }
}

impl CryptoRng for RingRng {}

#[cfg(test)]
#[path = "signing_tests.rs"]
mod tests;
