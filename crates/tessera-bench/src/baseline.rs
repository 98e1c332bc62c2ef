//! What one core can do with no server around it: ES256 signatures and Argon2id hashes
//! per second, and ES256 verifications of a WebAuthn assertion's signature, through the same
//! `tessera-crypto` calls the server makes (ring). Run pinned to the server's core
//! (`taskset -c N tessera-load baseline`) while the server is idle; the ratios of the
//! end-to-end rates to these are what the project tracks.

use std::hint::black_box;
use std::time::{Duration, Instant};

use anyhow::{Context, anyhow};
use ring::digest::{SHA256, digest};
use ring::rand::SystemRandom;
use ring::signature::{ECDSA_P256_SHA256_ASN1_SIGNING, EcdsaKeyPair, KeyPair as _};
use serde::{Deserialize, Serialize};
use serde_json::json;
use tessera_crypto::{PasswordHasher, SigningAlg, SigningKeyPair, verify_p256_der};

use crate::sys::{TICKS_PER_SEC, process_ticks};

/// Per-core rates, in operations per CPU-second of this process (so that another process
/// sharing the core does not lower them; `cpu_share` tells whether one did).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Baseline {
    /// Raw ES256 signatures (`SigningKeyPair::sign`) of an access token's signing input.
    pub es256_signs_per_sec: f64,
    /// Whole ES256 access tokens (`SigningKeyPair::sign_jws`: JSON, base64url, signature).
    pub es256_jws_per_sec: f64,
    /// ES256 verifications (`tessera_crypto::verify_p256_der`: ring's
    /// `ECDSA_P256_SHA256_ASN1`) of a WebAuthn assertion's DER signature over
    /// `authenticatorData || SHA-256(clientDataJSON)`, public key parsed each time: the
    /// signature check of a passkey sign-in, as the server makes it.
    pub es256_verifies_per_sec: f64,
    /// Argon2id hashes (`PasswordHasher::hash`, m=19456 KiB, t=2, p=1).
    pub argon2id_hashes_per_sec: f64,
    /// The CPU list this process was allowed to run on (from /proc/self/status).
    pub cpus: String,
    /// The lowest share of wall time this process got on its core during a measurement
    /// (1.0: nothing else ran there).
    pub cpu_share: f64,
}

/// Claims shaped like a real access token of a silent SSO flow.
pub fn access_token_claims() -> serde_json::Value {
    json!({
        "iss": "http://127.0.0.1:8080",
        "sub": "k1WvFQ2mJ0n7s3XyRr5bUo9cL4aZt8HdEeGfNiPqS6w",
        "aud": "http://127.0.0.1:8080",
        "client_id": "bench-es256",
        "exp": 1_900_000_300,
        "iat": 1_900_000_000,
        "jti": "Zx3q0H8bS2fK9mL1vN4cR7tY6uW5eD0aGiJoPpQsTrU",
        "scope": "openid profile email",
        "auth_time": 1_899_999_000,
        "acr": "urn:tessera:acr:password",
        "amr": ["pwd"],
        "gid": "6f1c2a9e-3b7d-4e0a-9c55-2d8b1f4e7a60",
    })
}

/// What a passkey signs at sign-in: the authenticator data (RP id hash, flags UP and UV,
/// counter) followed by the SHA-256 of the client data, as `SoftPasskey::get` builds it.
pub fn assertion_signed_data() -> Vec<u8> {
    let client_data = br#"{"type":"webauthn.get","challenge":"q3V0b2x8c1dRb2dWb0pJc0VxN2F6bWJ5cWc0aHpVQ1k","origin":"http://localhost:18080","crossOrigin":false}"#;
    let mut data = digest(&SHA256, b"localhost").as_ref().to_vec();
    data.push(0x05); // UP | UV
    data.extend_from_slice(&42u32.to_be_bytes());
    data.extend_from_slice(digest(&SHA256, client_data).as_ref());
    data
}

/// A measured rate: per CPU-second of this process, and the share of wall time it got.
struct Rate {
    per_cpu_sec: f64,
    cpu_share: f64,
}

/// Runs `op` in a loop for about `secs` and returns how many times per CPU-second it ran.
fn rate(secs: f64, mut op: impl FnMut() -> anyhow::Result<()>) -> anyhow::Result<Rate> {
    // A short warm-up: caches, branch predictors, the CPU clock.
    let warm = Instant::now();
    while warm.elapsed() < Duration::from_millis(200) {
        op()?;
    }
    let ticks_before = process_ticks(std::process::id()).context("cannot read /proc/self/stat")?;
    let started = Instant::now();
    let mut n: u64 = 0;
    while started.elapsed().as_secs_f64() < secs {
        op()?;
        n += 1;
    }
    let wall = started.elapsed().as_secs_f64();
    let ticks = process_ticks(std::process::id()).context("cannot read /proc/self/stat")? - ticks_before;
    // Never more than the wall time: tick accounting is coarse (10 ms).
    let cpu = (ticks as f64 / TICKS_PER_SEC).clamp(wall * 0.5, wall);
    Ok(Rate { per_cpu_sec: n as f64 / cpu, cpu_share: ticks as f64 / TICKS_PER_SEC / wall })
}

/// Measures the four rates, each for about `secs` seconds.
pub fn measure(secs: f64) -> anyhow::Result<Baseline> {
    let key = SigningKeyPair::generate(SigningAlg::Es256).context("cannot generate an ES256 key")?;
    let claims = access_token_claims();
    let token = key.sign_jws(Some("at+jwt"), &claims).context("cannot sign")?;
    let signing_input = token.rsplit_once('.').map(|(input, _)| input.to_owned()).context("not a JWS")?;

    let es256_signs = rate(secs, || {
        black_box(key.sign(black_box(signing_input.as_bytes()))?);
        Ok(())
    })?;
    let es256_jws = rate(secs, || {
        black_box(key.sign_jws(Some("at+jwt"), black_box(&claims))?);
        Ok(())
    })?;

    // A P-256 passkey's public point and a DER signature of an assertion.
    let rng = SystemRandom::new();
    let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, &rng)
        .map_err(|_| anyhow!("cannot generate a P-256 key"))?;
    let passkey = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, pkcs8.as_ref(), &rng)
        .map_err(|_| anyhow!("ring refused its own P-256 key"))?;
    let public_point = passkey.public_key().as_ref().to_vec();
    let signed = assertion_signed_data();
    let signature = passkey.sign(&rng, &signed).map_err(|_| anyhow!("cannot sign the assertion"))?;
    let signature = signature.as_ref().to_vec();
    let es256_verifies = rate(secs, || {
        if !verify_p256_der(black_box(&public_point), black_box(&signed), black_box(&signature)) {
            return Err(anyhow!("the assertion signature did not verify"));
        }
        Ok(())
    })?;

    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let hasher = PasswordHasher::new(1).context("cannot set up Argon2id")?;
    let argon2id = rate(secs, || {
        black_box(runtime.block_on(hasher.hash(black_box("correct horse battery staple 42")))?);
        Ok(())
    })?;

    Ok(Baseline {
        es256_signs_per_sec: es256_signs.per_cpu_sec,
        es256_jws_per_sec: es256_jws.per_cpu_sec,
        es256_verifies_per_sec: es256_verifies.per_cpu_sec,
        argon2id_hashes_per_sec: argon2id.per_cpu_sec,
        cpus: allowed_cpus(),
        cpu_share: es256_signs
            .cpu_share
            .min(es256_jws.cpu_share)
            .min(es256_verifies.cpu_share)
            .min(argon2id.cpu_share)
            .min(1.0),
    })
}

/// `Cpus_allowed_list` of this process, e.g. `0` when pinned to core 0.
pub fn allowed_cpus() -> String {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status.lines().find_map(|l| l.strip_prefix("Cpus_allowed_list:").map(|v| v.trim().to_owned()))
        })
        .unwrap_or_else(|| "?".to_owned())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use base64::Engine as _;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use serde_json::json;
    use tessera_testkit::softkey::SoftPasskey;

    use super::*;

    /// The baseline's verification is the check a passkey sign-in needs: the software
    /// authenticator's assertions verify with it, and the signed data has the same layout.
    #[test]
    fn soft_passkey_assertions_verify_like_the_baseline() {
        let origin = "http://localhost:18080";
        let mut key = SoftPasskey::new();
        key.create(
            &json!({"publicKey": {
                "challenge": "AAAA", "rp": {"id": "localhost", "name": "T"},
                "user": {"id": "AQID", "name": "u", "displayName": "u"},
                "pubKeyCredParams": [{"type": "public-key", "alg": -7}],
            }}),
            origin,
        );
        let assertion = key.get(&json!({"publicKey": {"challenge": "BBBB", "rpId": "localhost"}}), origin);
        let field = |name: &str| URL_SAFE_NO_PAD.decode(assertion["response"][name].as_str().unwrap()).unwrap();
        let mut signed = field("authenticatorData");
        signed.extend_from_slice(digest(&SHA256, &field("clientDataJSON")).as_ref());
        assert_eq!(signed.len(), assertion_signed_data().len());
        assert_eq!(signed[..33], assertion_signed_data()[..33], "RP id hash and flags");
        assert!(verify_p256_der(key.public_key(), &signed, &field("signature")), "the assertion verifies");
    }

    #[test]
    fn a_short_baseline_measures_every_rate() {
        let b = measure(0.05).unwrap();
        for rate in [b.es256_signs_per_sec, b.es256_jws_per_sec, b.es256_verifies_per_sec, b.argon2id_hashes_per_sec] {
            assert!(rate.is_finite() && rate > 0.0, "{b:?}");
        }
    }
}
