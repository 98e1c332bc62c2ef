#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::OnceLock;

use serde_json::json;

use super::*;
use crate::jwk::jwk_thumbprint;

/// One generated key per algorithm, shared by the tests (RSA generation is slow).
fn key(alg: SigningAlg) -> &'static SigningKeyPair {
    static RS: OnceLock<SigningKeyPair> = OnceLock::new();
    static ES: OnceLock<SigningKeyPair> = OnceLock::new();
    static ED: OnceLock<SigningKeyPair> = OnceLock::new();
    let cell = match alg {
        SigningAlg::Rs256 => &RS,
        SigningAlg::Es256 => &ES,
        SigningAlg::EdDsa => &ED,
    };
    cell.get_or_init(|| SigningKeyPair::generate(alg).unwrap())
}

fn claims() -> Value {
    json!({"iss": "https://login.example.gov.hk", "sub": "abc", "aud": "portal", "exp": 2_000_000_000, "name#zh-Hant-HK": "陳大文"})
}

/// Builds a JWS with an arbitrary header, signed by `key`.
fn forge(key: &SigningKeyPair, header: &Value, payload: &Value) -> String {
    let input = format!(
        "{}.{}",
        b64::encode(serde_json::to_vec(header).unwrap()),
        b64::encode(serde_json::to_vec(payload).unwrap())
    );
    let signature = key.sign(input.as_bytes()).unwrap();
    format!("{input}.{}", b64::encode(signature))
}

/// Replaces the part at `index` (0 header, 1 payload, 2 signature).
fn replace_part(jws: &str, index: usize, part: &str) -> String {
    let mut parts: Vec<&str> = jws.split('.').collect();
    parts[index] = part;
    parts.join(".")
}

#[test]
fn alg_names_roundtrip() {
    for alg in SigningAlg::ALL {
        assert_eq!(alg.as_str().parse::<SigningAlg>().unwrap(), alg);
        assert_eq!(alg.to_string(), alg.as_str());
        let json = serde_json::to_value(alg).unwrap();
        assert_eq!(json, json!(alg.as_str()));
        assert_eq!(serde_json::from_value::<SigningAlg>(json).unwrap(), alg);
    }
    for bad in ["none", "None", "rs256", "HS256", "RS384", "PS256", "ES384", "EDDSA", ""] {
        assert!(matches!(bad.parse::<SigningAlg>(), Err(CryptoError::UnsupportedAlgorithm)), "{bad}");
    }
}

#[test]
fn sign_and_verify_roundtrip_each_alg() {
    for alg in SigningAlg::ALL {
        let key = key(alg);
        assert_eq!(key.alg(), alg);
        let jws = key.sign_jws(None, &claims()).unwrap();
        assert_eq!(verify_jws(&key.public_jwk(), &jws).unwrap(), claims(), "{alg}");
        assert_eq!(key.verify_jws(&jws).unwrap(), claims());

        let header = jws_header_unverified(&jws).unwrap();
        assert_eq!(header, JwsHeader { alg: alg.as_str().to_owned(), kid: Some(key.kid().to_owned()), typ: None });
    }
}

#[test]
fn typ_goes_into_the_header() {
    let key = key(SigningAlg::Es256);
    let jws = key.sign_jws(Some("at+jwt"), &claims()).unwrap();
    let (header, _, _) = split_jws(&jws).unwrap();
    let header: Value = serde_json::from_slice(&b64::decode(header).unwrap()).unwrap();
    assert_eq!(header, json!({"alg": "ES256", "kid": key.kid(), "typ": "at+jwt"}));
    assert_eq!(key.verify_jws(&jws).unwrap(), claims());
}

#[test]
fn signature_lengths() {
    assert_eq!(key(SigningAlg::Rs256).sign(b"m").unwrap().len(), 256);
    assert_eq!(key(SigningAlg::Es256).sign(b"m").unwrap().len(), 64);
    assert_eq!(key(SigningAlg::EdDsa).sign(b"m").unwrap().len(), 64);
}

#[test]
fn tampered_payload_or_signature_fails() {
    for alg in SigningAlg::ALL {
        let key = key(alg);
        let jwk = key.public_jwk();
        let jws = key.sign_jws(None, &claims()).unwrap();

        let mut other = claims();
        other["sub"] = json!("abd");
        let swapped = replace_part(&jws, 1, &b64::encode(serde_json::to_vec(&other).unwrap()));
        assert!(matches!(verify_jws(&jwk, &swapped), Err(CryptoError::BadSignature)), "{alg} payload");

        let (_, _, signature) = split_jws(&jws).unwrap();
        let mut signature = b64::decode(signature).unwrap();
        signature[10] ^= 1;
        let flipped = replace_part(&jws, 2, &b64::encode(&signature));
        assert!(matches!(verify_jws(&jwk, &flipped), Err(CryptoError::BadSignature)), "{alg} signature");
        let empty = replace_part(&jws, 2, "");
        assert!(matches!(verify_jws(&jwk, &empty), Err(CryptoError::BadSignature)));
    }
}

#[test]
fn kid_is_stable_across_pkcs8_reload() {
    for alg in SigningAlg::ALL {
        let key = key(alg);
        let reloaded = SigningKeyPair::from_pkcs8(alg, key.pkcs8_der()).unwrap();
        assert_eq!(reloaded.kid(), key.kid());
        assert_eq!(reloaded.public_jwk(), key.public_jwk());
        assert_eq!(reloaded.pkcs8_der(), key.pkcs8_der());
        // A token signed before the reload verifies after it, and vice versa.
        let before = key.sign_jws(None, &claims()).unwrap();
        assert_eq!(reloaded.verify_jws(&before).unwrap(), claims());
        let after = reloaded.sign_jws(None, &claims()).unwrap();
        assert_eq!(verify_jws(&key.public_jwk(), &after).unwrap(), claims());
    }
}

#[test]
fn distinct_keys_have_distinct_kids_and_do_not_cross_verify() {
    for alg in SigningAlg::ALL {
        let first = key(alg);
        let second = SigningKeyPair::generate(alg).unwrap();
        assert_ne!(first.kid(), second.kid(), "{alg}");
        let jws = second.sign_jws(None, &claims()).unwrap();
        // With the kid in the JWK, the mismatch is caught before the signature.
        assert!(matches!(verify_jws(&first.public_jwk(), &jws), Err(CryptoError::KeyMismatch)));
        // Without it, the signature itself fails.
        let mut anonymous = first.public_jwk();
        anonymous.as_object_mut().unwrap().remove("kid");
        assert!(matches!(verify_jws(&anonymous, &jws), Err(CryptoError::BadSignature)));
    }
    let kids: std::collections::HashSet<&str> = SigningAlg::ALL.iter().map(|&alg| key(alg).kid()).collect();
    assert_eq!(kids.len(), 3);
}

#[test]
fn public_jwk_has_only_public_members() {
    let expected: [(SigningAlg, &[&str]); 3] = [
        (SigningAlg::Rs256, &["alg", "e", "kid", "kty", "n", "use"]),
        (SigningAlg::Es256, &["alg", "crv", "kid", "kty", "use", "x", "y"]),
        (SigningAlg::EdDsa, &["alg", "crv", "kid", "kty", "use", "x"]),
    ];
    for (alg, members) in expected {
        let key = key(alg);
        let jwk = key.public_jwk();
        let object = jwk.as_object().unwrap();
        for private in ["d", "p", "q", "dp", "dq", "qi", "k", "oth"] {
            assert!(!object.contains_key(private), "{alg} JWK has {private}");
        }
        let mut keys: Vec<&str> = object.keys().map(String::as_str).collect();
        keys.sort_unstable();
        assert_eq!(keys, members, "{alg}");
        assert_eq!(jwk["use"], "sig");
        assert_eq!(jwk["alg"], alg.as_str());
        assert_eq!(jwk["kid"], key.kid());
        assert_eq!(jwk_thumbprint(&jwk).unwrap(), key.kid());
        assert_eq!(key.kid().len(), 43);
    }
    let rsa = key(SigningAlg::Rs256).public_jwk();
    assert_eq!(rsa["e"], "AQAB");
    assert_eq!(b64::decode(rsa["n"].as_str().unwrap()).unwrap().len(), 256);
    assert_eq!(key(SigningAlg::Es256).public_jwk()["crv"], "P-256");
    assert_eq!(key(SigningAlg::EdDsa).public_jwk()["crv"], "Ed25519");
}

#[test]
fn alg_none_and_other_algs_are_refused() {
    let key = key(SigningAlg::Rs256);
    let jwk = key.public_jwk();
    let payload = b64::encode(serde_json::to_vec(&claims()).unwrap());
    for alg in ["none", "None", "HS256", "RS512"] {
        let header = b64::encode(serde_json::to_vec(&json!({"alg": alg})).unwrap());
        for signature in ["", "c2lnbmF0dXJl"] {
            let jws = format!("{header}.{payload}.{signature}");
            assert!(matches!(verify_jws(&jwk, &jws), Err(CryptoError::UnsupportedAlgorithm)), "{alg}");
        }
    }
}

#[test]
fn header_alg_must_match_the_key() {
    // An ES256 key signs a JWS that claims EdDSA: refused before verification.
    let es = key(SigningAlg::Es256);
    let forged = forge(es, &json!({"alg": "EdDSA", "kid": es.kid()}), &claims());
    assert!(matches!(verify_jws(&es.public_jwk(), &forged), Err(CryptoError::KeyMismatch)));
    // The genuine header is accepted (the forge helper itself is sound).
    let genuine = forge(es, &json!({"alg": "ES256"}), &claims());
    assert_eq!(verify_jws(&es.public_jwk(), &genuine).unwrap(), claims());
    // A JWK whose own alg disagrees with its key type is refused.
    let mut lying = es.public_jwk();
    lying["alg"] = json!("RS256");
    assert!(matches!(verify_jws(&lying, &genuine), Err(CryptoError::InvalidJwk(_))));
    let mut encryption = es.public_jwk();
    encryption["use"] = json!("enc");
    assert!(matches!(verify_jws(&encryption, &genuine), Err(CryptoError::InvalidJwk(_))));
}

#[test]
fn crit_header_is_refused() {
    let ed = key(SigningAlg::EdDsa);
    let jws = forge(ed, &json!({"alg": "EdDSA", "crit": ["exp"], "exp": 1}), &claims());
    assert!(matches!(verify_jws(&ed.public_jwk(), &jws), Err(CryptoError::MalformedJws(_))));
}

#[test]
fn malformed_jws_is_refused() {
    let ed = key(SigningAlg::EdDsa);
    let jwk = ed.public_jwk();
    let jws = ed.sign_jws(None, &claims()).unwrap();
    let (header, payload, signature) = split_jws(&jws).unwrap();
    let not_json = b64::encode(b"not json");
    let array = b64::encode(b"[1,2]");
    for bad in [
        String::new(),
        format!("{header}.{payload}"),
        format!("{jws}.extra"),
        format!("{header}=.{payload}.{signature}"),
        format!("{not_json}.{payload}.{signature}"),
        format!("{array}.{payload}.{signature}"),
        format!("{header}.{payload}.{signature}="),
        format!("{header}.{payload}.+/"),
    ] {
        assert!(matches!(verify_jws(&jwk, &bad), Err(CryptoError::MalformedJws(_))), "{bad}");
    }
    // A validly signed payload that is not JSON.
    let raw = format!("{header}.{}", b64::encode(b"not json"));
    let signature = b64::encode(ed.sign(raw.as_bytes()).unwrap());
    assert!(matches!(
        verify_jws(&jwk, &format!("{raw}.{signature}")),
        Err(CryptoError::MalformedJws("payload is not JSON"))
    ));
    assert!(jws_header_unverified("a.b").is_err());
}

#[test]
fn from_pkcs8_rejects_wrong_type_and_garbage() {
    let ed_der = key(SigningAlg::EdDsa).pkcs8_der();
    let es_der = key(SigningAlg::Es256).pkcs8_der();
    let rs_der = key(SigningAlg::Rs256).pkcs8_der();
    let cases: [(SigningAlg, &[u8]); 6] = [
        (SigningAlg::Rs256, ed_der),
        (SigningAlg::Es256, rs_der),
        (SigningAlg::EdDsa, es_der),
        (SigningAlg::Rs256, b"garbage"),
        (SigningAlg::Es256, b""),
        (SigningAlg::EdDsa, &ed_der[..ed_der.len() - 1]),
    ];
    for (alg, der) in cases {
        assert!(
            matches!(
                SigningKeyPair::from_pkcs8(alg, der),
                Err(CryptoError::KeyRejected { alg: a, .. }) if a == alg
            ),
            "{alg}"
        );
    }
}

#[test]
fn debug_shows_no_key_material() {
    for alg in SigningAlg::ALL {
        let key = key(alg);
        let shown = format!("{key:?}");
        assert!(shown.contains(key.kid()));
        assert!(!shown.contains(&b64::encode(key.pkcs8_der())[..16]));
        assert!(shown.len() < 150, "{shown}");
    }
}

#[test]
fn pkcs8_survives_sealing_with_the_kid_as_aad() {
    let master = crate::MasterKey::generate().unwrap();
    let cipher = master.cipher(crate::Purpose::SigningKey).unwrap();
    let key = key(SigningAlg::Es256);
    let sealed = cipher.seal(key.pkcs8_der(), key.kid().as_bytes()).unwrap();
    let der = cipher.open(&sealed, key.kid().as_bytes()).unwrap();
    let reloaded = SigningKeyPair::from_pkcs8(SigningAlg::Es256, &der).unwrap();
    assert_eq!(reloaded.kid(), key.kid());
}

#[test]
fn p256_der_signatures_verify_only_unchanged() {
    use ring::signature::{ECDSA_P256_SHA256_ASN1_SIGNING, EcdsaKeyPair};
    let rng = SystemRandom::new();
    let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, &rng).unwrap();
    let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, pkcs8.as_ref(), &rng).unwrap();
    let point = pair.public_key().as_ref().to_vec();
    let message = b"authenticator data || SHA-256(client data)";
    let signature = pair.sign(&rng, message).unwrap().as_ref().to_vec();
    assert_eq!(signature.first(), Some(&0x30), "DER, not r || s");
    assert!(verify_p256_der(&point, message, &signature));

    assert!(!verify_p256_der(&point, b"another message", &signature));
    let mut flipped = signature.clone();
    *flipped.last_mut().unwrap() ^= 1;
    assert!(!verify_p256_der(&point, message, &flipped));
    assert!(!verify_p256_der(&point, message, &signature[..signature.len() - 1]));
    assert!(!verify_p256_der(&point, message, &[]));
    let mut other_point = point.clone();
    other_point[40] ^= 1; // no longer on the curve
    assert!(!verify_p256_der(&other_point, message, &signature));
    assert!(!verify_p256_der(&point[1..], message, &signature), "compressed or raw points are not accepted");
    // The same key's fixed-length `r || s` (the JWS form) is not DER.
    let fixed_pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref(), &rng).unwrap();
    let fixed = fixed_pair.sign(&rng, message).unwrap();
    assert!(!verify_p256_der(&point, message, fixed.as_ref()));
}
