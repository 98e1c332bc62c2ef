//! `credentials` repository.

use tessera_domain::{CitizenId, PasswordCredential};
use tessera_store::{Db, StoreError, credentials};

use crate::helpers::{stored_citizen, t};

fn cred(citizen_id: CitizenId, phc: &str, at: i64) -> PasswordCredential {
    PasswordCredential { citizen_id, phc: phc.into(), created_at: t(at), updated_at: t(at) }
}

async fn password_set_replace_remove(db: Db) {
    let c = stored_citizen(&db, "pw.user").await;
    let id = c.id;
    let (none, first, second, removed, again, after) = db
        .run(move |conn| {
            let none = credentials::password_for(conn, id)?;
            credentials::set_password(conn, &cred(id, "$argon2id$one", 1))?;
            let first = credentials::password_for(conn, id)?;
            credentials::set_password(conn, &cred(id, "$argon2id$two", 5))?;
            let second = credentials::password_for(conn, id)?;
            let removed = credentials::remove_password(conn, id)?;
            let again = credentials::remove_password(conn, id)?;
            Ok((none, first, second, removed, again, credentials::password_for(conn, id)?))
        })
        .await
        .unwrap();
    assert!(none.is_none());
    assert_eq!(first, Some(cred(id, "$argon2id$one", 1)));
    let second = second.unwrap();
    assert_eq!(second.phc, "$argon2id$two");
    assert_eq!((second.created_at, second.updated_at), (t(1), t(5)), "replacing keeps created_at");
    assert!(removed && !again);
    assert!(after.is_none());
}

async fn password_for_missing_citizen_fails(db: Db) {
    let err = db
        .run(|conn| credentials::set_password(conn, &cred(CitizenId::generate(), "$argon2id$x", 1)))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Query(_)), "{err:?}");
    assert!(!err.to_string().contains("argon2id"), "{err}");
}

on_both! {
    password_set_replace_remove => sqlite_password_set_replace_remove, postgres_password_set_replace_remove;
    password_for_missing_citizen_fails => sqlite_password_for_missing_citizen_fails, postgres_password_for_missing_citizen_fails;
}
