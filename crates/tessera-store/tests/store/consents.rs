//! `consents` repository.

use diesel::prelude::*;
use tessera_domain::{CitizenId, ClientId, Consent, ConsentId};
use tessera_store::{Db, StoreError, consents};

use crate::helpers::{stored_citizen, stored_client, t};

fn consent(citizen_id: CitizenId, client_id: &ClientId, scopes: &[&str], at: i64) -> Consent {
    Consent {
        id: ConsentId::generate(),
        citizen_id,
        client_id: client_id.clone(),
        scopes: scopes.iter().map(|s| (*s).to_owned()).collect(),
        claims: vec!["name".into(), "name#zh-Hant-HK".into()],
        granted_at: t(at),
        revoked_at: None,
        last_shared_at: None,
    }
}

async fn grant_supersedes_the_previous_consent(db: Db) {
    let citizen = stored_citizen(&db, "consenting").await.id;
    let other_citizen = stored_citizen(&db, "bystander").await.id;
    let td = stored_client(&db, "td").await.id;
    let ird = stored_client(&db, "ird").await.id;

    let first = consent(citizen, &td, &["openid"], 1);
    let second = consent(citizen, &td, &["openid", "email"], 2);
    let elsewhere = consent(citizen, &ird, &["openid"], 3);
    let bystanders = consent(other_citizen, &td, &["openid"], 4);
    let (a, b, c, d, td2) = (first.clone(), second.clone(), elsewhere.clone(), bystanders.clone(), td.clone());
    let (live, history, bystander_live) = db
        .run(move |conn| {
            for c in [&a, &d, &b, &c] {
                consents::grant(conn, c)?;
            }
            Ok((
                consents::active_for(conn, citizen, &td2)?,
                consents::list_for_citizen(conn, citizen)?,
                consents::active_for(conn, other_citizen, &td2)?,
            ))
        })
        .await
        .unwrap();
    assert_eq!(live, Some(second.clone()));
    assert_eq!(bystander_live, Some(bystanders), "other citizens' consents are untouched");
    let superseded = Consent { revoked_at: Some(t(2)), ..first.clone() };
    assert_eq!(
        history,
        vec![elsewhere.clone(), second.clone(), superseded],
        "newest first, the old one ended at the new grant"
    );

    let (sid, eid, td3) = (second.id, elsewhere.id, td.clone());
    let (by_other, revoked, twice, live_after, ird_live) = db
        .run(move |conn| {
            let by_other = consents::revoke(conn, other_citizen, sid, t(10))?;
            let revoked = consents::revoke(conn, citizen, sid, t(11))?;
            let twice = consents::revoke(conn, citizen, sid, t(12))?;
            Ok((
                by_other,
                revoked,
                twice,
                consents::active_for(conn, citizen, &td3)?,
                consents::active_for(conn, citizen, &ird)?,
            ))
        })
        .await
        .unwrap();
    assert!(!by_other && revoked && !twice);
    assert!(live_after.is_none());
    assert_eq!(ird_live.map(|c| c.id), Some(eid));
    let history = db.run(move |conn| consents::list_for_citizen(conn, citizen)).await.unwrap();
    assert_eq!(history.iter().find(|c| c.id == sid).and_then(|c| c.revoked_at), Some(t(11)));
}

async fn at_most_one_live_consent_per_client(db: Db) {
    use tessera_store::schema::consents as c;
    let citizen = stored_citizen(&db, "racer").await.id;
    let td = stored_client(&db, "td").await.id;
    let live = consent(citizen, &td, &["openid"], 1);
    let err = db
        .run(move |conn| {
            consents::grant(conn, &live)?;
            // What a second node's grant racing the first would try: another live row.
            diesel::insert_into(c::table)
                .values((
                    c::id.eq(ConsentId::generate().to_string()),
                    c::citizen_id.eq(citizen.to_string()),
                    c::client_id.eq(td.as_str()),
                    c::scopes.eq("[]"),
                    c::claims.eq("[]"),
                    c::granted_at.eq(2_i64),
                ))
                .execute(conn)?;
            Ok(())
        })
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");
}

on_both! {
    grant_supersedes_the_previous_consent => sqlite_consent_grant_supersedes_previous, postgres_consent_grant_supersedes_previous;
    at_most_one_live_consent_per_client => sqlite_at_most_one_live_consent, postgres_at_most_one_live_consent;
}
