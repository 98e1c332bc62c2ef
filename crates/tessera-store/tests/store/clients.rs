//! `clients` repository.

use tessera_domain::{ClientId, SubjectType, TokenEndpointAuthMethod};
use tessera_store::{Db, StoreError, clients};

use crate::helpers::{client, stored_client, t};

async fn client_roundtrip_and_update(db: Db) {
    let portal = stored_client(&db, "td-portal").await;
    let other = stored_client(&db, "a-first").await;
    let id = portal.id.clone();
    let (found, listed, missing) = db
        .run(move |conn| {
            Ok((
                clients::by_id(conn, &id)?,
                clients::list(conn)?,
                clients::by_id(conn, &ClientId::parse("nope").unwrap())?,
            ))
        })
        .await
        .unwrap();
    assert_eq!(found.as_ref(), Some(&portal));
    assert_eq!(listed, vec![other, portal.clone()], "ordered by id");
    assert!(missing.is_none());

    let mut changed = portal.clone();
    changed.name = "Renamed".into();
    changed.redirect_uris = vec![];
    changed.token_endpoint_auth_method = TokenEndpointAuthMethod::None;
    changed.secret_digest = None;
    changed.subject_type = SubjectType::Public;
    changed.require_pkce = false;
    changed.id_token_alg = "ES256".into();
    changed.created_at = t(999); // not updatable
    changed.updated_at = t(20);
    let (c, id) = (changed.clone(), portal.id.clone());
    let (updated, disabled) = db
        .run(move |conn| {
            clients::update(conn, &c)?;
            let updated = clients::by_id(conn, &id)?;
            clients::set_enabled(conn, &id, false, t(30))?;
            Ok((updated, clients::by_id(conn, &id)?))
        })
        .await
        .unwrap();
    let updated = updated.unwrap();
    assert_eq!(updated.created_at, t(0));
    assert_eq!(updated, crate::clients::with_created(changed, t(0)));
    let disabled = disabled.unwrap();
    assert!(!disabled.enabled);
    assert_eq!(disabled.updated_at, t(30));
}

pub fn with_created(mut c: tessera_domain::Client, at: tessera_domain::UnixTime) -> tessera_domain::Client {
    c.created_at = at;
    c
}

async fn client_conflicts_and_missing(db: Db) {
    stored_client(&db, "dup").await;
    let again = client("dup");
    let ghost = client("ghost");
    let (dup, upd, en) = db
        .run(move |conn| {
            Ok((
                clients::insert(conn, &again).unwrap_err(),
                clients::update(conn, &ghost).unwrap_err(),
                clients::set_enabled(conn, &ghost.id, true, t(1)).unwrap_err(),
            ))
        })
        .await
        .unwrap();
    assert!(matches!(dup, StoreError::Conflict(_)), "{dup:?}");
    assert!(matches!(upd, StoreError::NotFound("client")), "{upd:?}");
    assert!(matches!(en, StoreError::NotFound("client")), "{en:?}");
}

on_both! {
    client_roundtrip_and_update => sqlite_client_roundtrip_and_update, postgres_client_roundtrip_and_update;
    client_conflicts_and_missing => sqlite_client_conflicts_and_missing, postgres_client_conflicts_and_missing;
}
