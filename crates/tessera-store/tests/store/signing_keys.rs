//! `signing_keys` repository.

use tessera_domain::{KeyState, Kid, SigningKeyRecord};
use tessera_store::{Db, StoreError, signing_keys};

use crate::helpers::t;

fn key(kid: &str, alg: &str, state: KeyState, at: i64) -> SigningKeyRecord {
    SigningKeyRecord {
        kid: Kid::parse(kid).unwrap(),
        alg: alg.into(),
        state,
        private_key_sealed: vec![0xAA, 0, 0xFF, kid.len() as u8],
        public_jwk: format!(r#"{{"kty":"RSA","kid":"{kid}"}}"#),
        created_at: t(at),
        activated_at: (state == KeyState::Active).then(|| t(at)),
        retired_at: None,
    }
}

fn states(keys: &[SigningKeyRecord]) -> Vec<(String, KeyState)> {
    keys.iter().map(|k| (k.kid.to_string(), k.state)).collect()
}

async fn rotation_moves_every_key_one_step(db: Db) {
    let k1 = key("k1", "RS256", KeyState::Active, 1);
    let k2 = key("k2", "RS256", KeyState::Next, 2);
    let es = key("es1", "ES256", KeyState::Active, 3);
    let (a, b, c) = (k1.clone(), k2.clone(), es.clone());
    let listed = db
        .run(move |conn| {
            for k in [&a, &b, &c] {
                signing_keys::insert(conn, k)?;
            }
            signing_keys::list(conn)
        })
        .await
        .unwrap();
    assert_eq!(listed, vec![k1.clone(), k2.clone(), es.clone()]);

    let k3 = key("k3", "RS256", KeyState::Retired, 10); // rotate stores it as next whatever its state
    let k4 = key("k4", "RS256", KeyState::Next, 20);
    let (after_one, after_two, actives, es_after) = db
        .run(move |conn| {
            signing_keys::rotate(conn, &k3, t(10))?;
            let one = signing_keys::list(conn)?;
            signing_keys::rotate(conn, &k4, t(20))?;
            let two = signing_keys::list(conn)?;
            Ok((
                one,
                two,
                signing_keys::list_by_state(conn, KeyState::Active)?,
                signing_keys::list_by_state(conn, KeyState::Active)?,
            ))
        })
        .await
        .unwrap();
    let s = |k: &str, st| (k.to_owned(), st);
    assert_eq!(
        states(&after_one),
        vec![
            s("k1", KeyState::Retired),
            s("k2", KeyState::Active),
            s("es1", KeyState::Active),
            s("k3", KeyState::Next)
        ]
    );
    assert_eq!(after_one[0].retired_at, Some(t(10)));
    assert_eq!(after_one[1].activated_at, Some(t(10)));
    assert_eq!(
        states(&after_two),
        vec![
            s("k1", KeyState::Retired),
            s("k2", KeyState::Retired),
            s("es1", KeyState::Active),
            s("k3", KeyState::Active),
            s("k4", KeyState::Next)
        ]
    );
    assert_eq!(
        states(&actives),
        vec![s("es1", KeyState::Active), s("k3", KeyState::Active)],
        "the other algorithm is untouched"
    );
    assert_eq!(es_after.len(), 2);
    assert_eq!(after_two[4].private_key_sealed, key("k4", "RS256", KeyState::Next, 0).private_key_sealed);
}

async fn rotation_without_next_key_changes_nothing(db: Db) {
    let k1 = key("k1", "ES256", KeyState::Active, 1);
    let (a, new) = (k1.clone(), key("k2", "ES256", KeyState::Next, 2));
    let (err, after) = db
        .run(move |conn| {
            signing_keys::insert(conn, &a)?;
            let err = signing_keys::rotate(conn, &new, t(5)).unwrap_err();
            Ok((err, signing_keys::list(conn)?))
        })
        .await
        .unwrap();
    assert!(matches!(err, StoreError::NotFound(_)), "{err:?}");
    assert_eq!(after, vec![k1], "rolled back: the active key is still active, no new key");
}

async fn one_active_and_one_next_per_algorithm(db: Db) {
    let (a, b, c, d) = (
        key("a1", "RS256", KeyState::Active, 1),
        key("a2", "RS256", KeyState::Active, 2),
        key("n1", "RS256", KeyState::Next, 3),
        key("n2", "RS256", KeyState::Next, 4),
    );
    let dup_kid = key("a1", "ES256", KeyState::Retired, 5);
    let (second_active, second_next, taken_kid) = db
        .run(move |conn| {
            signing_keys::insert(conn, &a)?;
            signing_keys::insert(conn, &c)?;
            Ok((
                signing_keys::insert(conn, &b).unwrap_err(),
                signing_keys::insert(conn, &d).unwrap_err(),
                signing_keys::insert(conn, &dup_kid).unwrap_err(),
            ))
        })
        .await
        .unwrap();
    for err in [second_active, second_next, taken_kid] {
        assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");
    }
}

async fn set_state_stamps_dates(db: Db) {
    let k = key("solo", "EdDSA", KeyState::Next, 1);
    let kid = k.kid.clone();
    let (active, retired, missing, purged, none_left) = db
        .run(move |conn| {
            signing_keys::insert(conn, &k)?;
            signing_keys::set_state(conn, &kid, KeyState::Active, t(5))?;
            let active = signing_keys::list_by_state(conn, KeyState::Active)?;
            signing_keys::set_state(conn, &kid, KeyState::Retired, t(9))?;
            let retired = signing_keys::list_by_state(conn, KeyState::Retired)?;
            let missing =
                signing_keys::set_state(conn, &Kid::parse("ghost").unwrap(), KeyState::Retired, t(9)).unwrap_err();
            let kept = signing_keys::purge_retired(conn, t(9))?;
            assert_eq!(kept, 0, "retired at t(9) is not before t(9)");
            let purged = signing_keys::purge_retired(conn, t(10))?;
            Ok((active, retired, missing, purged, signing_keys::list(conn)?))
        })
        .await
        .unwrap();
    assert_eq!(active[0].activated_at, Some(t(5)));
    assert_eq!((retired[0].activated_at, retired[0].retired_at), (Some(t(5)), Some(t(9))));
    assert!(matches!(missing, StoreError::NotFound("signing key")), "{missing:?}");
    assert_eq!(purged, 1);
    assert!(none_left.is_empty());
}

on_both! {
    rotation_moves_every_key_one_step => sqlite_key_rotation_states, postgres_key_rotation_states;
    rotation_without_next_key_changes_nothing => sqlite_key_rotation_without_next_rolls_back, postgres_key_rotation_without_next_rolls_back;
    one_active_and_one_next_per_algorithm => sqlite_one_active_and_next_key_per_alg, postgres_one_active_and_next_key_per_alg;
    set_state_stamps_dates => sqlite_key_set_state_stamps_dates, postgres_key_set_state_stamps_dates;
}
