//! What one core can do with no server around it: ES256 signatures and Argon2id hashes
//! per second, through the same `tessera-crypto` calls the server makes. Run pinned to
//! the server's core (`taskset -c N tessera-load baseline`) while the server is idle;
//! the ratios of the end-to-end rates to these are what the project tracks.

use std::hint::black_box;
use std::time::{Duration, Instant};

use anyhow::Context;
use serde::{Deserialize, Serialize};
use serde_json::json;
use tessera_crypto::{PasswordHasher, SigningAlg, SigningKeyPair};

use crate::sys::{TICKS_PER_SEC, process_ticks};

/// Per-core rates, in operations per CPU-second of this process (so that another process
/// sharing the core does not lower them; `cpu_share` tells whether one did).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Baseline {
    /// Raw ES256 signatures (`SigningKeyPair::sign`) of an access token's signing input.
    pub es256_signs_per_sec: f64,
    /// Whole ES256 access tokens (`SigningKeyPair::sign_jws`: JSON, base64url, signature).
    pub es256_jws_per_sec: f64,
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

/// Measures the three rates, each for about `secs` seconds.
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

    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let hasher = PasswordHasher::new(1).context("cannot set up Argon2id")?;
    let argon2id = rate(secs, || {
        black_box(runtime.block_on(hasher.hash(black_box("correct horse battery staple 42")))?);
        Ok(())
    })?;

    Ok(Baseline {
        es256_signs_per_sec: es256_signs.per_cpu_sec,
        es256_jws_per_sec: es256_jws.per_cpu_sec,
        argon2id_hashes_per_sec: argon2id.per_cpu_sec,
        cpus: allowed_cpus(),
        cpu_share: es256_signs.cpu_share.min(es256_jws.cpu_share).min(argon2id.cpu_share).min(1.0),
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
