//! Micro-benchmarks of Tessera's hot paths: `cargo bench -p tessera-bench`.
//!
//! - `id_token_sign/{RS256,ES256,EdDSA}`: an ID token (realistic claims) through
//!   `SigningKeyPair::sign_jws`, as `Oidc::id_token` does.
//! - `access_token_sign/ES256`: an RFC 9068 access token (`AccessClaims`) through `sign_jws`.
//! - `es256_raw_sign`: the signature alone (ring), the denominator of the load ratios.
//! - `es256_verify`: `tessera_crypto::verify_jws` against the public JWK.
//! - `code_store/*`: what redeeming a code does in the `MemoryStore` (put + take of a
//!   ~600-byte JSON value; and the whole `CodeGrant` round trip with its keys and JSON).
//! - `code_key/*`: the store key of a code (SHA-256 + hex), as built today and with a
//!   table-driven hex encoder.
//! - `sso_find`: `SsoSessions::find` on a `MemoryStore` holding 10 000 sessions.
//! - `token_digest`: SHA-256 of a 43-character token.
//! - `db/*`: the database work of a token request on SQLite: one `Db::run` round trip
//!   (blocking pool + pool checkout), `clients::by_id` as written (diesel `.first()`, i.e.
//!   `LIMIT ?`), and the same 16-column primary-key select with and without `LIMIT ?`.
//! - `argon2id/*`: `PasswordHasher::hash` (m=19456 KiB, t=2, p=1), few samples; and the raw
//!   argon2 call with fresh memory (as today) and with its 19 MiB of blocks reused.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::hint::black_box;
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use serde_json::{Value, json};
use tessera_crypto::{PasswordHasher, SigningAlg, SigningKeyPair, token_digest, verify_jws};
use tessera_domain::{CitizenId, ClientId, GrantId, UnixTime};
use tessera_oidc::grant::CodeGrant;
use tessera_oidc::sso::{Authentication, SsoPolicy, SsoSessions};
use tessera_oidc::tokens::AccessClaims;
use tessera_session::{AnySessionStore, MemoryStore, SessionStore};

const NOW: i64 = 1_900_000_000;

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap()
}

/// The claims of an ID token as `Oidc::id_token` builds them for a password sign-in with
/// a `nonce` and a `sid` (a JSON object, like the server's).
fn id_token_claims() -> Value {
    json!({
        "iss": "https://login.tessera.gov.hk",
        "sub": "k1WvFQ2mJ0n7s3XyRr5bUo9cL4aZt8HdEeGfNiPqS6w",
        "aud": "bench-es256",
        "azp": "bench-es256",
        "exp": NOW + 600,
        "iat": NOW,
        "auth_time": NOW - 120,
        "acr": "urn:tessera:acr:password",
        "amr": ["pwd"],
        "sid": "Zx3q0H8bS2fK9mL1vN4cR7tY6uW5eD0aGiJoPpQsTrU",
        "nonce": "n-0S6_WzA2Mj",
    })
}

fn access_claims() -> AccessClaims {
    AccessClaims {
        iss: "https://login.tessera.gov.hk".into(),
        sub: "k1WvFQ2mJ0n7s3XyRr5bUo9cL4aZt8HdEeGfNiPqS6w".into(),
        aud: "https://login.tessera.gov.hk".into(),
        client_id: "bench-es256".into(),
        exp: NOW + 300,
        iat: NOW,
        jti: "Zx3q0H8bS2fK9mL1vN4cR7tY6uW5eD0aGiJoPpQsTrU".into(),
        scope: "openid profile email".into(),
        auth_time: Some(NOW - 120),
        acr: Some("urn:tessera:acr:password".into()),
        amr: Some(vec!["pwd".into()]),
        gid: GrantId::generate(),
    }
}

fn code_grant() -> CodeGrant {
    CodeGrant {
        client_id: ClientId::parse("bench-es256").unwrap(),
        redirect_uri: "https://eservices.td.gov.hk/licensing/oidc/callback".into(),
        citizen_id: CitizenId::generate(),
        scope: "openid profile email".into(),
        claims: vec!["name".into(), "name_zh".into(), "email".into(), "email_verified".into()],
        id_token_claims: vec!["name".into()],
        nonce: Some("n-0S6_WzA2Mj".into()),
        code_challenge: None,
        auth_time: UnixTime::from_secs(NOW - 120),
        acr: "urn:tessera:acr:password".into(),
        amr: vec!["pwd".into()],
        sid: "Zx3q0H8bS2fK9mL1vN4cR7tY6uW5eD0aGiJoPpQsTrU".into(),
        grant_id: GrantId::generate(),
        issued_at: UnixTime::from_secs(NOW),
    }
}

fn signing(c: &mut Criterion) {
    let mut group = c.benchmark_group("id_token_sign");
    group.warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(3));
    let claims = id_token_claims();
    for alg in SigningAlg::ALL {
        let key = SigningKeyPair::generate(alg).unwrap();
        group.bench_function(BenchmarkId::from_parameter(alg.as_str()), |b| {
            b.iter(|| key.sign_jws(Some("JWT"), black_box(&claims)).unwrap());
        });
    }
    group.finish();

    let key = SigningKeyPair::generate(SigningAlg::Es256).unwrap();
    let claims = access_claims();
    let mut group = c.benchmark_group("access_token_sign");
    group.warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(3));
    group.bench_function("ES256", |b| b.iter(|| key.sign_jws(Some("at+jwt"), black_box(&claims)).unwrap()));
    group.finish();

    let token = key.sign_jws(Some("at+jwt"), &claims).unwrap();
    let (signing_input, _) = token.rsplit_once('.').unwrap();
    let jwk = key.public_jwk();
    let mut group = c.benchmark_group("es256");
    group.warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(3));
    group.bench_function("raw_sign", |b| b.iter(|| key.sign(black_box(signing_input.as_bytes())).unwrap()));
    group.bench_function("verify_jws", |b| b.iter(|| verify_jws(black_box(&jwk), black_box(&token)).unwrap()));
    group.finish();
}

fn stores(c: &mut Criterion) {
    let rt = runtime();
    let mut group = c.benchmark_group("code_store");
    group.warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(3));

    let grant = code_grant();
    let value = serde_json::to_vec(&grant).unwrap();
    // Pad to the ~600 bytes of a code grant with PKCE and a longer claim list.
    let mut padded = value.clone();
    padded.resize(600.max(value.len()), b' ');
    let store = MemoryStore::new();
    let key = CodeGrant::key("Zx3q0H8bS2fK9mL1vN4cR7tY6uW5eD0aGiJoPpQsTrU");
    group.bench_function("memory_put_take_600B", |b| {
        b.to_async(&rt).iter(|| async {
            store.put(&key, black_box(&padded), Duration::from_secs(60)).await.unwrap();
            black_box(store.take(&key).await.unwrap().unwrap());
        });
    });

    // What issuing and redeeming one code does with the store, end to end: JSON encode,
    // the code's key, put; then at /token take, JSON decode, and remember the used code.
    let code = "Zx3q0H8bS2fK9mL1vN4cR7tY6uW5eD0aGiJoPpQsTrU";
    group.bench_function("code_grant_issue_and_redeem", |b| {
        b.to_async(&rt).iter(|| async {
            let bytes = serde_json::to_vec(black_box(&grant)).unwrap();
            store.put(&CodeGrant::key(code), &bytes, Duration::from_secs(60)).await.unwrap();
            let taken = store.take(&CodeGrant::key(code)).await.unwrap().unwrap();
            let back: CodeGrant = serde_json::from_slice(&taken).unwrap();
            let used = serde_json::to_vec(&back.grant_id).unwrap();
            store.put(&CodeGrant::used_key(code), &used, Duration::from_secs(600)).await.unwrap();
        });
    });
    group.finish();
    eprintln!("code_store: the CodeGrant JSON is {} bytes (padded to {})", value.len(), padded.len());

    let mut group = c.benchmark_group("code_key");
    group.bench_function("CodeGrant::key", |b| b.iter(|| CodeGrant::key(black_box(code))));
    group.bench_function("table_hex", |b| b.iter(|| table_hex_key("code:", &token_digest(black_box(code)))));
    group.finish();

    let sessions = SsoSessions::new(AnySessionStore::Memory(MemoryStore::new()), SsoPolicy::default());
    let now = UnixTime::from_secs(NOW);
    let auth = || Authentication {
        citizen_id: CitizenId::generate(),
        amr: vec!["pwd".into()],
        acr: "urn:tessera:acr:password".into(),
        user_agent: Some("Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0".into()),
    };
    let token = rt.block_on(async {
        for _ in 0..10_000 {
            sessions.start(auth(), None, now).await.unwrap();
        }
        sessions.start(auth(), None, now).await.unwrap().0
    });
    let mut group = c.benchmark_group("sso");
    group.warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(3));
    // 5 s after the last write: no `last_seen` write-back, a pure lookup.
    let later = now.plus_secs(5);
    group.bench_function("find", |b| {
        b.to_async(&rt).iter(|| async { black_box(sessions.find(black_box(&token), later).await.unwrap().unwrap()) });
    });
    group.finish();

    c.bench_function("token_digest", |b| b.iter(|| token_digest(black_box(code))));
}

/// The store key as `CodeGrant::key` builds it, but hex-encoded through a table into one
/// buffer (the change proposed in docs/performance.md).
fn table_hex_key(prefix: &str, digest: &[u8; 32]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(prefix.len() + 64);
    out.push_str(prefix);
    for b in digest {
        out.push(char::from(HEX[usize::from(b >> 4)]));
        out.push(char::from(HEX[usize::from(b & 0xf)]));
    }
    out
}

fn passwords(c: &mut Criterion) {
    let rt = runtime();
    let hasher = PasswordHasher::new(1).unwrap();
    let mut group = c.benchmark_group("argon2id");
    group.sample_size(10).warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(6));
    group.bench_function("hash", |b| {
        b.to_async(&rt).iter(|| async { hasher.hash(black_box("correct horse battery staple 42")).await.unwrap() });
    });
    // Four at once, as the server allows (`CONCURRENT_PASSWORD_HASHES = 4`): on one core
    // (`taskset -c 0`) they time-share it, and 4 × 19 MiB do not fit in its caches.
    let four = PasswordHasher::new(4).unwrap();
    group.throughput(criterion::Throughput::Elements(4));
    group.bench_function("hash_4_concurrent", |b| {
        b.to_async(&rt).iter(|| async {
            let pw = black_box("correct horse battery staple 42");
            let (a, b, c, d) = tokio::join!(four.hash(pw), four.hash(pw), four.hash(pw), four.hash(pw));
            (a.unwrap(), b.unwrap(), c.unwrap(), d.unwrap())
        });
    });
    group.throughput(criterion::Throughput::Elements(1));
    // The raw function, as `PasswordHasher` calls it: 19 MiB allocated and filled per hash.
    let argon = argon2::Argon2::default();
    let salt = [7u8; 16];
    group.bench_function("raw_fresh_memory", |b| {
        b.iter(|| {
            let mut out = [0u8; 32];
            argon.hash_password_into(black_box(b"correct horse battery staple 42"), &salt, &mut out).unwrap();
            out
        });
    });
    // The same with the 19 MiB of blocks kept from one hash to the next (per thread).
    let mut blocks = vec![argon2::Block::default(); argon2::Params::default().block_count()];
    group.bench_function("raw_reused_memory", |b| {
        b.iter(|| {
            let mut out = [0u8; 32];
            argon
                .hash_password_into_with_memory(
                    black_box(b"correct horse battery staple 42"),
                    &salt,
                    &mut out,
                    &mut blocks,
                )
                .unwrap();
            out
        });
    });
    group.finish();
}

/// All 17 columns of `clients`, as a tuple.
type ClientTuple = (
    String,
    String,
    String,
    String,
    String,
    String,
    String,
    String,
    String,
    Option<Vec<u8>>,
    String,
    String,
    bool,
    String,
    bool,
    i64,
    i64,
);

fn database(c: &mut Criterion) {
    use diesel::prelude::*;
    use tessera_oidc::clients::{NewClient, register};
    use tessera_store::schema::clients;
    use tessera_store::{Db, DbOptions};

    let rt = runtime();
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("bench.db").display());
    let db = Db::connect(&url, &DbOptions::default()).unwrap();
    let client_id = rt.block_on(async {
        db.migrate().await.unwrap();
        let new = NewClient {
            client_id: Some("bench-es256".into()),
            department_en: "Benchmark Department".into(),
            department_zh: "基準測試部".into(),
            name: "Load test".into(),
            name_zh: String::new(),
            redirect_uris: vec!["http://localhost:9/cb".into()],
            post_logout_redirect_uris: Vec::new(),
            allowed_scopes: vec!["openid".into(), "profile".into(), "email".into()],
            token_endpoint_auth_method: tessera_domain::TokenEndpointAuthMethod::ClientSecretBasic,
            subject_type: tessera_domain::SubjectType::Pairwise,
            sector_identifier: None,
            require_pkce: false,
            id_token_alg: "ES256".into(),
        };
        register(&db, new, UnixTime::from_secs(NOW)).await.unwrap().0.id
    });

    let mut group = c.benchmark_group("db");
    group.warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(3));
    group.bench_function("run_noop_roundtrip", |b| {
        b.to_async(&rt).iter(|| async { db.run(|_| Ok(())).await.unwrap() });
    });
    // The queries themselves, many per `Db::run`, so that the hand-off is not measured.
    let per_connection = |name: &str,
                          group: &mut criterion::BenchmarkGroup<'_, _>,
                          query: fn(&mut tessera_store::DbConnection, &str)| {
        let id = client_id.as_str().to_owned();
        group.bench_function(name, |b| {
            b.iter_custom(|iters| {
                let id = id.clone();
                rt.block_on(db.run(move |conn| {
                    let started = std::time::Instant::now();
                    for _ in 0..iters {
                        query(conn, black_box(&id));
                    }
                    Ok(started.elapsed())
                }))
                .unwrap()
            });
        });
    };
    per_connection("clients_by_id", &mut group, |conn, id| {
        let id = ClientId::parse(id).unwrap();
        black_box(tessera_store::clients::by_id(conn, &id).unwrap().unwrap());
    });
    per_connection("select_pk_first_limit_param", &mut group, |conn, id| {
        let row: ClientTuple = clients::table.find(id).select(clients::all_columns).first(conn).unwrap();
        black_box(row);
    });
    per_connection("select_pk_get_result_no_limit", &mut group, |conn, id| {
        let row: ClientTuple = clients::table.find(id).select(clients::all_columns).get_result(conn).unwrap();
        black_box(row);
    });
    group.finish();
}

criterion_group!(benches, signing, stores, database, passwords);
criterion_main!(benches);
