//! `refresh_tokens` repository.

use tessera_domain::{CitizenId, ClientId, GrantId, RefreshTokenId, RefreshTokenRecord};
use tessera_store::{Db, StoreError, refresh_tokens};

use crate::helpers::{stored_citizen, stored_client, t};

fn token(
    digest: u8,
    family: GrantId,
    client: &ClientId,
    citizen: Option<CitizenId>,
    expires: i64,
) -> RefreshTokenRecord {
    RefreshTokenRecord {
        id: RefreshTokenId::generate(),
        digest: vec![digest; 32],
        family_id: family,
        client_id: client.clone(),
        citizen_id: citizen,
        scope: "openid profile offline_access".into(),
        session_id: Some("sid-1".into()),
        auth_time: Some(t(0)),
        issued_at: t(1),
        expires_at: t(expires),
        rotated_at: None,
        revoked_at: None,
        acr: Some("urn:tessera:acr:password".into()),
        amr: vec!["pwd".into()],
        claims: vec!["name".into(), "email".into()],
    }
}

async fn token_roundtrip_and_revocation(db: Db) {
    let citizen = stored_citizen(&db, "holder").await.id;
    let other = stored_citizen(&db, "other").await.id;
    let td = stored_client(&db, "td").await.id;
    let ird = stored_client(&db, "ird").await.id;
    let family = GrantId::generate();
    let a = token(1, family, &td, Some(citizen), 100);
    let b = token(2, family, &td, Some(citizen), 100);
    let c = token(3, GrantId::generate(), &td, Some(citizen), 100);
    let d = token(4, GrantId::generate(), &ird, Some(citizen), 100);
    let e = token(5, GrantId::generate(), &td, Some(other), 100);
    let f = token(6, GrantId::generate(), &td, None, 5);
    let all = [a.clone(), b.clone(), c.clone(), d.clone(), e.clone(), f.clone()];
    let td2 = td.clone();
    let (found, missing, fam, fam_again, pair, everywhere, purged) = db
        .run(move |conn| {
            for tok in &all {
                refresh_tokens::insert(conn, tok)?;
            }
            let found = refresh_tokens::by_digest(conn, &[1; 32])?;
            let missing = refresh_tokens::by_digest(conn, &[9; 32])?;
            let fam = refresh_tokens::revoke_family(conn, family, t(10))?;
            let fam_again = refresh_tokens::revoke_family(conn, family, t(11))?;
            let pair = refresh_tokens::revoke_for_citizen_client(conn, citizen, &td2, t(12))?;
            let everywhere = refresh_tokens::revoke_for_citizen(conn, citizen, t(13))?;
            let purged = refresh_tokens::purge_expired(conn, t(50))?;
            Ok((found, missing, fam, fam_again, pair, everywhere, purged))
        })
        .await
        .unwrap();
    assert_eq!(found, Some(a));
    assert!(missing.is_none());
    assert_eq!((fam, fam_again), (2, 0), "the family's two tokens, once");
    assert_eq!(pair, 1, "c only: a and b were already revoked, d is another client, e another citizen");
    assert_eq!(everywhere, 1, "d");
    assert_eq!(purged, 1, "f expired");

    let after = db
        .run(|conn| {
            Ok((
                refresh_tokens::by_digest(conn, &[2; 32])?,
                refresh_tokens::by_digest(conn, &[5; 32])?,
                refresh_tokens::by_digest(conn, &[6; 32])?,
            ))
        })
        .await
        .unwrap();
    assert_eq!(after.0.and_then(|t| t.revoked_at), Some(t(10)));
    assert_eq!(after.1.map(|t| t.revoked_at), Some(None), "another citizen's token survives");
    assert!(after.2.is_none());
}

async fn duplicate_digest_conflicts(db: Db) {
    let td = stored_client(&db, "td").await.id;
    let first = token(1, GrantId::generate(), &td, None, 100);
    let second = token(1, GrantId::generate(), &td, None, 100);
    let err = db
        .run(move |conn| {
            refresh_tokens::insert(conn, &first)?;
            refresh_tokens::insert(conn, &second)
        })
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Conflict("refresh token digest already exists")), "{err:?}");
}

async fn rotation_race_has_one_winner(db: Db) {
    let td = stored_client(&db, "td").await.id;
    let tok = token(7, GrantId::generate(), &td, None, 100);
    let id = tok.id;
    db.run(move |conn| refresh_tokens::insert(conn, &tok)).await.unwrap();

    // Eight nodes present the same token at once.
    let racers: Vec<_> = (0..8)
        .map(|i| {
            let db = db.clone();
            tokio::spawn(async move { db.run(move |conn| refresh_tokens::mark_rotated(conn, id, t(20 + i))).await })
        })
        .collect();
    let mut wins = 0;
    for r in racers {
        if r.await.unwrap().unwrap() {
            wins += 1;
        }
    }
    assert_eq!(wins, 1, "exactly one rotation wins");
    let (stored, late) = db
        .run(move |conn| {
            Ok((refresh_tokens::by_digest(conn, &[7; 32])?, refresh_tokens::mark_rotated(conn, id, t(99))?))
        })
        .await
        .unwrap();
    assert!(stored.unwrap().rotated_at.is_some());
    assert!(!late);
}

async fn revoked_token_cannot_rotate(db: Db) {
    let td = stored_client(&db, "td").await.id;
    let tok = token(8, GrantId::generate(), &td, None, 100);
    let (id, family) = (tok.id, tok.family_id);
    let rotated = db
        .run(move |conn| {
            refresh_tokens::insert(conn, &tok)?;
            refresh_tokens::revoke_family(conn, family, t(5))?;
            refresh_tokens::mark_rotated(conn, id, t(6))
        })
        .await
        .unwrap();
    assert!(!rotated);
}

on_both! {
    token_roundtrip_and_revocation => sqlite_refresh_token_roundtrip_and_revocation, postgres_refresh_token_roundtrip_and_revocation;
    duplicate_digest_conflicts => sqlite_refresh_token_duplicate_digest_conflicts, postgres_refresh_token_duplicate_digest_conflicts;
    rotation_race_has_one_winner => sqlite_refresh_token_rotation_race, postgres_refresh_token_rotation_race;
    revoked_token_cannot_rotate => sqlite_revoked_refresh_token_cannot_rotate, postgres_revoked_refresh_token_cannot_rotate;
}
