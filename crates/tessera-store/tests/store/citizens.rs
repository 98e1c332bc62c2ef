//! `citizens` repository.

use diesel::prelude::*;
use tessera_domain::{CitizenId, CitizenStatus, Email, Gender, Profile, Role, Username};
use tessera_store::{Db, StoreError, citizens};

use crate::helpers::{citizen, stored_citizen, t};

async fn citizen_roundtrip(db: Db) {
    let (c, p) = citizen("chan.tai.man");
    let (c2, p2) = (c.clone(), p.clone());
    db.run(move |conn| citizens::insert(conn, &c2, &p2)).await.unwrap();

    let id = c.id;
    let (by_id, by_name, profile, missing) = db
        .run(move |conn| {
            Ok((
                citizens::by_id(conn, id)?,
                citizens::by_username(conn, &Username::parse(" Chan.Tai.MAN ").unwrap())?,
                citizens::profile(conn, id)?,
                citizens::by_id(conn, CitizenId::generate())?,
            ))
        })
        .await
        .unwrap();
    assert_eq!(by_id.as_ref(), Some(&c));
    assert_eq!(by_name.as_ref(), Some(&c));
    assert_eq!(profile.as_ref(), Some(&p), "every profile field, including the sealed HKID bytes");
    assert!(missing.is_none());

    let nobody = Username::parse("nobody").unwrap();
    let none = db.run(move |conn| citizens::by_username(conn, &nobody)).await.unwrap();
    assert!(none.is_none());
}

async fn minimal_profile_roundtrip(db: Db) {
    let (c, _) = citizen("minimal");
    let p = Profile::new("LEE, Siu Ming");
    let (c2, p2) = (c.clone(), p.clone());
    db.run(move |conn| citizens::insert(conn, &c2, &p2)).await.unwrap();
    let stored = db.run(move |conn| citizens::profile(conn, c.id)).await.unwrap();
    assert_eq!(stored, Some(p));
}

async fn duplicate_username_conflicts(db: Db) {
    stored_citizen(&db, "wong.siu.ling").await;
    let (again, p) = citizen("WONG.siu.ling");
    let err = db.run(move |conn| citizens::insert(conn, &again, &p)).await.unwrap_err();
    assert!(matches!(err, StoreError::Conflict("username is already taken")), "{err:?}");
    assert!(!err.to_string().contains("wong"), "no personal data in errors: {err}");
    let count = db
        .run(|conn| Ok(tessera_store::schema::citizen_profiles::table.count().get_result::<i64>(conn)?))
        .await
        .unwrap();
    assert_eq!(count, 1, "the failed insert left no orphan profile");
}

async fn updates_change_profile_roles_and_status(db: Db) {
    let c = stored_citizen(&db, "ho.ka.yan").await;
    let id = c.id;
    let new_profile = Profile {
        name_zh: None,
        gender: Gender::Female,
        email: Some(Email::parse("new@example.com").unwrap()),
        postal_address: Some("PO Box 1".into()),
        hkid_sealed: None,
        ..Profile::new("HO, Ka Yan")
    };
    let expected = new_profile.clone();
    let (after, profile) = db
        .run(move |conn| {
            citizens::update_profile(conn, id, &new_profile, t(10))?;
            citizens::set_roles(conn, id, &[Role::Operator, Role::Operator], t(11))?;
            citizens::set_status(conn, id, CitizenStatus::Disabled, t(12))?;
            Ok((citizens::by_id(conn, id)?, citizens::profile(conn, id)?))
        })
        .await
        .unwrap();
    let after = after.unwrap();
    assert_eq!(profile, Some(expected));
    assert_eq!(after.roles, vec![Role::Operator], "duplicates dropped");
    assert!(after.has_role(Role::Operator));
    assert_eq!(after.status, CitizenStatus::Disabled);
    assert_eq!((after.created_at, after.updated_at), (t(0), t(12)));

    let ghost = CitizenId::generate();
    let errs = db
        .run(move |conn| {
            Ok([
                citizens::update_profile(conn, ghost, &Profile::new("x"), t(1)).unwrap_err(),
                citizens::set_roles(conn, ghost, &[], t(1)).unwrap_err(),
                citizens::set_status(conn, ghost, CitizenStatus::Active, t(1)).unwrap_err(),
            ])
        })
        .await
        .unwrap();
    for err in errs {
        assert!(matches!(err, StoreError::NotFound("citizen")), "{err:?}");
    }
}

async fn list_pages_by_username(db: Db) {
    for name in ["carol", "alice", "erin", "bob", "dave"] {
        stored_citizen(&db, name).await;
    }
    let (first, second) = db
        .run(|conn| {
            let first = citizens::list(conn, None, 2)?;
            let after = first.last().map(|c| c.username.clone());
            let second = citizens::list(conn, after.as_ref(), 10)?;
            Ok((first, second))
        })
        .await
        .unwrap();
    let names = |v: &[tessera_domain::Citizen]| v.iter().map(|c| c.username.to_string()).collect::<Vec<_>>();
    assert_eq!(names(&first), ["alice", "bob"]);
    assert_eq!(names(&second), ["carol", "dave", "erin"]);
}

async fn corrupt_values_are_reported_not_panicked(db: Db) {
    use tessera_store::schema::citizens as c;
    let stored = stored_citizen(&db, "to.be.corrupted").await;
    let err = db
        .run(move |conn| {
            diesel::update(c::table.find(stored.id.to_string())).set(c::roles.eq("not json")).execute(conn)?;
            citizens::by_id(conn, stored.id)
        })
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Corrupt { table: "citizens", column: "roles", .. }), "{err:?}");
}

async fn deleting_a_citizen_cascades(db: Db) {
    use tessera_store::schema::{citizen_profiles, citizens as c};
    let stored = stored_citizen(&db, "leaving").await;
    let left = db
        .run(move |conn| {
            diesel::delete(c::table.find(stored.id.to_string())).execute(conn)?;
            Ok(citizen_profiles::table.count().get_result::<i64>(conn)?)
        })
        .await
        .unwrap();
    assert_eq!(left, 0);
}

on_both! {
    citizen_roundtrip => sqlite_citizen_roundtrip, postgres_citizen_roundtrip;
    minimal_profile_roundtrip => sqlite_minimal_profile_roundtrip, postgres_minimal_profile_roundtrip;
    duplicate_username_conflicts => sqlite_duplicate_username_conflicts, postgres_duplicate_username_conflicts;
    updates_change_profile_roles_and_status => sqlite_updates_change_profile_roles_and_status, postgres_updates_change_profile_roles_and_status;
    list_pages_by_username => sqlite_list_pages_by_username, postgres_list_pages_by_username;
    corrupt_values_are_reported_not_panicked => sqlite_corrupt_values_are_reported, postgres_corrupt_values_are_reported;
    deleting_a_citizen_cascades => sqlite_deleting_a_citizen_cascades, postgres_deleting_a_citizen_cascades;
}
