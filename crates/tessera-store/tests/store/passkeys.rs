//! `passkeys` repository.

use diesel::prelude::*;
use tessera_domain::{CitizenId, CredentialId, PasskeyId, PasskeyRecord};
use tessera_store::{Db, StoreError, passkeys};

use crate::helpers::{stored_citizen, t};

fn passkey(citizen_id: CitizenId, credential: &[u8], at: i64) -> PasskeyRecord {
    PasskeyRecord {
        id: PasskeyId::generate(),
        citizen_id,
        credential_id: CredentialId::new(credential.to_vec()).unwrap(),
        passkey_json: r#"{"cred":{"counter":0}}"#.into(),
        name: "iPhone".into(),
        sign_count: 0,
        backup_eligible: true,
        backup_state: false,
        transports: vec!["internal".into(), "hybrid".into()],
        created_at: t(at),
        last_used_at: None,
    }
}

async fn passkey_lifecycle(db: Db) {
    let alice = stored_citizen(&db, "alice").await.id;
    let bob = stored_citizen(&db, "bob").await.id;
    let first = passkey(alice, &[1; 16], 1);
    let second = passkey(alice, &[0xFF; 1023], 2);
    let bobs = passkey(bob, &[3; 64], 3);
    let (f, s, b) = (first.clone(), second.clone(), bobs.clone());
    let (listed, found, unknown) = db
        .run(move |conn| {
            passkeys::insert(conn, &s)?;
            passkeys::insert(conn, &f)?;
            passkeys::insert(conn, &b)?;
            Ok((
                passkeys::list_for_citizen(conn, alice)?,
                passkeys::by_credential_id(conn, &CredentialId::new(vec![0xFF; 1023]).unwrap())?,
                passkeys::by_credential_id(conn, &CredentialId::new(vec![9]).unwrap())?,
            ))
        })
        .await
        .unwrap();
    assert_eq!(listed, vec![first.clone(), second.clone()], "oldest first, only alice's");
    assert_eq!(found, Some(second.clone()));
    assert!(unknown.is_none());

    let mut used = first.clone();
    used.sign_count = u32::MAX;
    used.backup_state = true;
    used.passkey_json = r#"{"cred":{"counter":4294967295}}"#.into();
    used.last_used_at = Some(t(50));
    used.name = "ignored by update_after_use".into();
    let (u, fid, sid) = (used.clone(), first.id, second.id);
    let (after, renamed_by_other, renamed, deleted_by_other, deleted, remaining) = db
        .run(move |conn| {
            passkeys::update_after_use(conn, &u)?;
            let after = passkeys::by_credential_id(conn, &u.credential_id)?;
            let renamed_by_other = passkeys::rename(conn, bob, fid, "stolen")?;
            let renamed = passkeys::rename(conn, alice, fid, "Work phone")?;
            let deleted_by_other = passkeys::delete(conn, bob, sid)?;
            let deleted = passkeys::delete(conn, alice, sid)?;
            Ok((after, renamed_by_other, renamed, deleted_by_other, deleted, passkeys::list_for_citizen(conn, alice)?))
        })
        .await
        .unwrap();
    let after = after.unwrap();
    assert_eq!((after.sign_count, after.backup_state, after.last_used_at), (u32::MAX, true, Some(t(50))));
    assert_eq!(after.passkey_json, used.passkey_json);
    assert_eq!(after.name, "iPhone");
    assert!(!renamed_by_other && renamed, "only the owner renames");
    assert!(!deleted_by_other && deleted, "only the owner deletes");
    assert_eq!(remaining.len(), 1);
    assert_eq!(remaining[0].name, "Work phone");

    let gone = passkey(alice, &[42], 9);
    let err = db.run(move |conn| passkeys::update_after_use(conn, &gone)).await.unwrap_err();
    assert!(matches!(err, StoreError::NotFound("passkey")), "{err:?}");
}

async fn duplicate_credential_id_across_citizens_conflicts(db: Db) {
    let alice = stored_citizen(&db, "alice").await.id;
    let mallory = stored_citizen(&db, "mallory").await.id;
    let theirs = passkey(alice, b"same-credential", 1);
    let mine = passkey(mallory, b"same-credential", 2);
    let err = db
        .run(move |conn| {
            passkeys::insert(conn, &theirs)?;
            passkeys::insert(conn, &mine)
        })
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Conflict("passkey credential id is already registered")), "{err:?}");
    let mallorys = db.run(move |conn| passkeys::list_for_citizen(conn, mallory)).await.unwrap();
    assert!(mallorys.is_empty());
}

async fn oversized_credential_id_is_refused(db: Db) {
    // The domain refuses it...
    assert!(CredentialId::new(vec![0; 1024]).is_err());
    // ...and so does the database, for anything that bypasses the domain.
    use tessera_store::schema::passkeys as p;
    let alice = stored_citizen(&db, "alice").await.id;
    let insert = move |len: usize| {
        move |conn: &mut tessera_store::DbConnection| {
            diesel::insert_into(p::table)
                .values((
                    p::id.eq(PasskeyId::generate().to_string()),
                    p::citizen_id.eq(alice.to_string()),
                    p::credential_id.eq(vec![0xAB_u8; len]),
                    p::passkey_json.eq("{}"),
                    p::name.eq("raw"),
                    p::sign_count.eq(0_i64),
                    p::backup_eligible.eq(false),
                    p::backup_state.eq(false),
                    p::transports.eq("[]"),
                    p::created_at.eq(0_i64),
                ))
                .execute(conn)?;
            Ok(())
        }
    };
    db.run(insert(1023)).await.unwrap();
    let err = db.run(insert(1024)).await.unwrap_err();
    assert!(
        matches!(
            err,
            StoreError::Query(diesel::result::Error::DatabaseError(
                diesel::result::DatabaseErrorKind::CheckViolation,
                _
            ))
        ),
        "{err:?}"
    );
}

on_both! {
    passkey_lifecycle => sqlite_passkey_lifecycle, postgres_passkey_lifecycle;
    duplicate_credential_id_across_citizens_conflicts => sqlite_duplicate_passkey_credential_id_conflicts, postgres_duplicate_passkey_credential_id_conflicts;
    oversized_credential_id_is_refused => sqlite_oversized_credential_id_is_refused, postgres_oversized_credential_id_is_refused;
}
