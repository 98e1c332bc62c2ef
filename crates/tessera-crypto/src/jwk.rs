//! Public JSON Web Keys (RFC 7517, 7518 §6, 8037) and RFC 7638 thumbprints.
//!
//! Only the public key types Tessera signs with are understood: RSA (for RS256),
//! EC P-256 (ES256) and OKP Ed25519 (EdDSA). Private members are never read or
//! written here.

use ring::digest::{SHA256, digest};
use ring::signature::{
    ECDSA_P256_SHA256_FIXED, ED25519, RSA_PKCS1_2048_8192_SHA256, RsaPublicKeyComponents, UnparsedPublicKey,
};
use serde_json::{Value, json};

use crate::CryptoError;
use crate::b64;
use crate::signing::SigningAlg;

/// A public key in one of the supported JWK shapes, as raw bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum PublicKey {
    /// Big-endian modulus and exponent without leading zero bytes.
    Rsa { n: Vec<u8>, e: Vec<u8> },
    /// Affine coordinates of a P-256 point, 32 big-endian bytes each.
    P256 { x: [u8; 32], y: [u8; 32] },
    /// The 32-byte Ed25519 public key.
    Ed25519 { x: [u8; 32] },
}

impl PublicKey {
    /// Builds an RSA key from ring's big-endian components, dropping any leading
    /// zero bytes (JWA requires the minimal encoding).
    pub(crate) fn rsa(n: &[u8], e: &[u8]) -> Self {
        Self::Rsa { n: strip_leading_zeros(n).to_vec(), e: strip_leading_zeros(e).to_vec() }
    }

    /// Builds a P-256 key from its SEC 1 uncompressed encoding `0x04 || x || y`.
    pub(crate) fn p256_uncompressed(point: &[u8]) -> Option<Self> {
        match point {
            [0x04, rest @ ..] if rest.len() == 64 => {
                let (x, y) = rest.split_at(32);
                Some(Self::P256 { x: x.try_into().ok()?, y: y.try_into().ok()? })
            }
            _ => None,
        }
    }

    /// Reads the public members of a JWK. Unknown members are ignored, so a
    /// private JWK is accepted too, but only its public part is used.
    pub(crate) fn from_jwk(jwk: &Value) -> Result<Self, CryptoError> {
        let jwk = jwk.as_object().ok_or(CryptoError::InvalidJwk("not a JSON object"))?;
        let member = |name: &'static str| -> Result<&str, CryptoError> {
            jwk.get(name).and_then(Value::as_str).ok_or(CryptoError::InvalidJwk("missing or non-string member"))
        };
        let bytes = |name: &'static str| -> Result<Vec<u8>, CryptoError> {
            b64::decode(member(name)?).ok_or(CryptoError::InvalidJwk("member is not base64url without padding"))
        };
        let fixed = |name: &'static str| -> Result<[u8; 32], CryptoError> {
            bytes(name)?.as_slice().try_into().map_err(|_| CryptoError::InvalidJwk("coordinate is not 32 bytes"))
        };
        match member("kty")? {
            "RSA" => {
                let (n, e) = (bytes("n")?, bytes("e")?);
                if n.is_empty() || e.is_empty() {
                    return Err(CryptoError::InvalidJwk("empty RSA component"));
                }
                Ok(Self::Rsa { n, e })
            }
            "EC" if member("crv")? == "P-256" => Ok(Self::P256 { x: fixed("x")?, y: fixed("y")? }),
            "OKP" if member("crv")? == "Ed25519" => Ok(Self::Ed25519 { x: fixed("x")? }),
            "EC" | "OKP" => Err(CryptoError::InvalidJwk("unsupported curve")),
            _ => Err(CryptoError::InvalidJwk("unsupported key type")),
        }
    }

    /// The one JWS algorithm Tessera uses with this kind of key.
    pub(crate) fn alg(&self) -> SigningAlg {
        match self {
            Self::Rsa { .. } => SigningAlg::Rs256,
            Self::P256 { .. } => SigningAlg::Es256,
            Self::Ed25519 { .. } => SigningAlg::EdDsa,
        }
    }

    /// The RFC 7638 §3.2 input: the required members only, in lexicographic
    /// order, no whitespace. Every value is base64url or a fixed name, so no JSON
    /// escaping can arise and the string is built directly.
    pub(crate) fn thumbprint_input(&self) -> String {
        match self {
            Self::Rsa { n, e } => format!(r#"{{"e":"{}","kty":"RSA","n":"{}"}}"#, b64::encode(e), b64::encode(n)),
            Self::P256 { x, y } => {
                format!(r#"{{"crv":"P-256","kty":"EC","x":"{}","y":"{}"}}"#, b64::encode(x), b64::encode(y))
            }
            Self::Ed25519 { x } => format!(r#"{{"crv":"Ed25519","kty":"OKP","x":"{}"}}"#, b64::encode(x)),
        }
    }

    /// The RFC 7638 thumbprint: base64url(SHA-256(thumbprint input)).
    pub(crate) fn thumbprint(&self) -> String {
        b64::encode(digest(&SHA256, self.thumbprint_input().as_bytes()))
    }

    /// The public JWK: `kty`, `use: "sig"`, `alg`, `kid` and the public
    /// parameters of the key type, nothing else.
    pub(crate) fn to_jwk(&self, kid: &str) -> Value {
        let alg = self.alg().as_str();
        match self {
            Self::Rsa { n, e } => json!({
                "kty": "RSA", "use": "sig", "alg": alg, "kid": kid,
                "n": b64::encode(n), "e": b64::encode(e),
            }),
            Self::P256 { x, y } => json!({
                "kty": "EC", "use": "sig", "alg": alg, "kid": kid,
                "crv": "P-256", "x": b64::encode(x), "y": b64::encode(y),
            }),
            Self::Ed25519 { x } => json!({
                "kty": "OKP", "use": "sig", "alg": alg, "kid": kid,
                "crv": "Ed25519", "x": b64::encode(x),
            }),
        }
    }

    /// Verifies `signature` over `message` with this key's algorithm
    /// (RSASSA-PKCS1-v1_5 SHA-256 with a 2048–8192-bit modulus, ECDSA P-256
    /// SHA-256 with a fixed 64-byte `r || s`, or Ed25519).
    pub(crate) fn verify(&self, message: &[u8], signature: &[u8]) -> Result<(), CryptoError> {
        let result = match self {
            Self::Rsa { n, e } => {
                RsaPublicKeyComponents { n, e }.verify(&RSA_PKCS1_2048_8192_SHA256, message, signature)
            }
            Self::P256 { x, y } => {
                let mut point = [0u8; 65];
                point[0] = 0x04;
                point[1..33].copy_from_slice(x);
                point[33..].copy_from_slice(y);
                UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, point).verify(message, signature)
            }
            Self::Ed25519 { x } => UnparsedPublicKey::new(&ED25519, x).verify(message, signature),
        };
        result.map_err(|_| CryptoError::BadSignature)
    }
}

/// The RFC 7638 JWK thumbprint (SHA-256, base64url without padding) of a public
/// RSA, EC P-256 or OKP Ed25519 JWK. Equal keys give equal thumbprints whatever
/// other members (`kid`, `alg`, `use`, private members) the JWK carries.
///
/// # Errors
/// [`CryptoError::InvalidJwk`] if required members are missing or malformed, or
/// the key type or curve is not one of those above.
pub fn jwk_thumbprint(jwk: &Value) -> Result<String, CryptoError> {
    PublicKey::from_jwk(jwk).map(|key| key.thumbprint())
}

fn strip_leading_zeros(bytes: &[u8]) -> &[u8] {
    let first = bytes.iter().position(|&b| b != 0).unwrap_or(bytes.len());
    &bytes[first..]
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;

    /// The RSA key of RFC 7638 §3.1 (also RFC 7517 appendix A.1).
    const RFC7638_N: &str = "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw";

    #[test]
    fn rfc7638_rsa_example() {
        let jwk = json!({"kty": "RSA", "n": RFC7638_N, "e": "AQAB", "alg": "RS256", "kid": "2011-04-29"});
        assert_eq!(jwk_thumbprint(&jwk).unwrap(), "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs");
        let key = PublicKey::from_jwk(&jwk).unwrap();
        assert_eq!(key.thumbprint_input(), format!(r#"{{"e":"AQAB","kty":"RSA","n":"{RFC7638_N}"}}"#));
    }

    #[test]
    fn rfc8037_ed25519_example() {
        // RFC 8037 appendix A.2 public key and A.3 thumbprint.
        let jwk = json!({"kty": "OKP", "crv": "Ed25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"});
        assert_eq!(jwk_thumbprint(&jwk).unwrap(), "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k");
    }

    #[test]
    fn other_members_do_not_change_the_thumbprint() {
        let plain = json!({"kty": "RSA", "n": RFC7638_N, "e": "AQAB"});
        let decorated = json!({"e": "AQAB", "use": "sig", "n": RFC7638_N, "kty": "RSA", "kid": "x"});
        assert_eq!(jwk_thumbprint(&plain).unwrap(), jwk_thumbprint(&decorated).unwrap());
    }

    #[test]
    fn invalid_jwks_are_rejected() {
        for bad in [
            json!("RSA"),
            json!({}),
            json!({"kty": "RSA", "n": RFC7638_N}),
            json!({"kty": "RSA", "n": RFC7638_N, "e": "AQAB="}),
            json!({"kty": "RSA", "n": "", "e": "AQAB"}),
            json!({"kty": "oct", "k": "c2VjcmV0"}),
            json!({"kty": "EC", "crv": "P-384", "x": "AA", "y": "AA"}),
            json!({"kty": "EC", "crv": "P-256", "x": "AAAA", "y": "AAAA"}),
            json!({"kty": "OKP", "crv": "X25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}),
            json!({"kty": "OKP", "crv": "Ed25519", "x": 5}),
        ] {
            assert!(matches!(jwk_thumbprint(&bad), Err(CryptoError::InvalidJwk(_))), "{bad}");
        }
    }

    #[test]
    fn leading_zeros_are_stripped() {
        let key = PublicKey::rsa(&[0, 0, 1, 2], &[0, 1, 0, 1]);
        assert_eq!(key, PublicKey::Rsa { n: vec![1, 2], e: vec![1, 0, 1] });
    }

    #[test]
    fn p256_point_must_be_uncompressed() {
        let mut point = [7u8; 65];
        point[0] = 0x04;
        assert!(PublicKey::p256_uncompressed(&point).is_some());
        point[0] = 0x02;
        assert!(PublicKey::p256_uncompressed(&point).is_none());
        assert!(PublicKey::p256_uncompressed(&point[..33]).is_none());
    }
}
