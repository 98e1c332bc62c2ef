#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
use super::*;
use tessera_store::DbOptions;

const T0: UnixTime = UnixTime::from_secs(1_800_000_000);

async fn manager() -> (KeyManager, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::connect(&format!("sqlite://{}", dir.path().join("k.db").display()), &DbOptions::default()).unwrap();
    db.migrate().await.unwrap();
    let master = MasterKey::from_bytes([7; 32]);
    (KeyManager::new(db, &master).unwrap(), dir)
}

fn kids(jwks: &Value) -> Vec<String> {
    jwks["keys"].as_array().unwrap().iter().map(|k| k["kid"].as_str().unwrap().to_owned()).collect()
}

#[tokio::test]
async fn first_start_creates_an_active_and_a_next_key_per_algorithm_once() {
    let (keys, _dir) = manager().await;
    assert_eq!(keys.ensure(T0).await.unwrap().len(), 6);
    assert!(keys.ensure(T0).await.unwrap().is_empty(), "a second start creates nothing");
    let jwks = keys.jwks(T0).await.unwrap();
    let published = kids(&jwks);
    assert_eq!(published.len(), 6);
    let mut unique = published.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), 6, "every kid is distinct");
    for jwk in jwks["keys"].as_array().unwrap() {
        for private in ["d", "p", "q", "dp", "dq", "qi", "k"] {
            assert!(jwk.get(private).is_none(), "{private} published in {jwk}");
        }
    }
}

#[tokio::test]
async fn the_active_signer_verifies_against_the_jwks() {
    let (keys, _dir) = manager().await;
    keys.ensure(T0).await.unwrap();
    let jwks = keys.jwks(T0).await.unwrap();
    for alg in SigningAlg::ALL {
        let signer = keys.active_signer(alg).await.unwrap();
        let jws = signer.sign_jws(Some("JWT"), &json!({"sub": "x"})).unwrap();
        let jwk = jwks["keys"].as_array().unwrap().iter().find(|k| k["kid"] == signer.kid()).unwrap();
        assert_eq!(tessera_crypto::verify_jws(jwk, &jws).unwrap()["sub"], "x");
    }
}

#[tokio::test]
async fn rotation_promotes_next_and_keeps_the_old_key_published_for_a_while() {
    let (keys, _dir) = manager().await;
    keys.ensure(T0).await.unwrap();
    let old_signer = keys.active_signer(SigningAlg::Es256).await.unwrap();
    let old_token = old_signer.sign_jws(None, &json!({"n": 1})).unwrap();
    let before = kids(&keys.jwks(T0).await.unwrap());

    let t1 = T0.plus_secs(3600);
    let rotations = keys.rotate(t1).await.unwrap();
    assert_eq!(rotations.len(), 3);
    let es = rotations.iter().find(|r| r.alg == SigningAlg::Es256).unwrap();
    assert!(before.contains(&es.active), "the new active key was published before it signed");
    assert_eq!(keys.active_signer(SigningAlg::Es256).await.unwrap().kid(), es.active);

    // Tokens signed before the rotation still verify with the published JWKS.
    let jwks = keys.jwks(t1).await.unwrap();
    let jwk = jwks["keys"].as_array().unwrap().iter().find(|k| k["kid"] == old_signer.kid()).unwrap();
    assert!(tessera_crypto::verify_jws(jwk, &old_token).is_ok());
    assert_eq!(kids(&jwks).len(), 9, "3 retired + 3 active + 3 next");

    // Long after, the retired keys leave the JWKS.
    let later = t1.plus_secs(RETIRED_KEY_PUBLISHED_SECS + 1);
    let published = kids(&keys.jwks(later).await.unwrap());
    assert_eq!(published.len(), 6);
    assert!(!published.contains(&old_signer.kid().to_owned()));
}

#[tokio::test]
async fn keys_sealed_under_another_master_key_are_refused() {
    let (keys, _dir) = manager().await;
    keys.ensure(T0).await.unwrap();
    let other = KeyManager::new(keys.db.clone(), &MasterKey::from_bytes([8; 32])).unwrap();
    assert!(matches!(other.active_signer(SigningAlg::Rs256).await, Err(KeyError::Corrupt { .. })));
}
