//! `audit` repository.

use tessera_domain::{AuditEvent, AuditKind, Outcome};
use tessera_store::Db;
use tessera_store::audit::{self, AuditFilter};

use crate::helpers::t;

/// 30 events: i = 0..30 at t(i); kinds alternate signin.password / consent.granted / key.rotated;
/// actor "citizen:<i % 3>"; client "td" for even i; failures every fifth.
fn events() -> Vec<AuditEvent> {
    let kinds = [AuditKind::SIGNIN_PASSWORD, AuditKind::CONSENT_GRANTED, AuditKind::parse("custom.thing").unwrap()];
    (0..30)
        .map(|i| AuditEvent {
            id: None,
            at: t(i),
            kind: kinds[(i % 3) as usize].clone(),
            actor: Some(format!("citizen:{}", i % 3)),
            client_id: (i % 2 == 0).then(|| "td".to_owned()),
            ip: Some("192.0.2.1".into()),
            outcome: if i % 5 == 0 { Outcome::Failure } else { Outcome::Success },
            detail: format!(r#"{{"n":{i}}}"#),
        })
        .collect()
}

fn ats(events: &[AuditEvent]) -> Vec<i64> {
    events.iter().map(|e| e.at.secs_since(t(0))).collect()
}

async fn audit_pages_newest_first_with_filters(db: Db) {
    let all = events();
    let expected = all.clone();
    db.run(move |conn| {
        for e in &all {
            audit::append(conn, e)?;
        }
        Ok(())
    })
    .await
    .unwrap();

    let page = |filter: AuditFilter| {
        let db = db.clone();
        async move { db.run(move |conn| audit::list(conn, &filter)).await.unwrap() }
    };

    // Pagination through everything, newest first.
    let first = page(AuditFilter { limit: 12, ..Default::default() }).await;
    assert_eq!(ats(&first), (18..30).rev().collect::<Vec<_>>());
    let second =
        page(AuditFilter { limit: 12, before_id: first.last().and_then(|e| e.id), ..Default::default() }).await;
    assert_eq!(ats(&second), (6..18).rev().collect::<Vec<_>>());
    let third =
        page(AuditFilter { limit: 12, before_id: second.last().and_then(|e| e.id), ..Default::default() }).await;
    assert_eq!(ats(&third), (0..6).rev().collect::<Vec<_>>());
    let ids: Vec<i64> = first.iter().chain(&second).chain(&third).map(|e| e.id.unwrap()).collect();
    assert!(ids.windows(2).all(|w| w[0] > w[1]), "ids strictly decrease");

    // Every field round-trips.
    let mut oldest = third.last().unwrap().clone();
    oldest.id = None;
    assert_eq!(oldest, expected[0]);

    // Filters, alone and combined.
    let by_kind = page(AuditFilter { kind: Some(AuditKind::CONSENT_GRANTED), ..Default::default() }).await;
    assert_eq!(ats(&by_kind), vec![28, 25, 22, 19, 16, 13, 10, 7, 4, 1]);
    let custom =
        page(AuditFilter { kind: Some(AuditKind::parse("custom.thing").unwrap()), limit: 3, ..Default::default() })
            .await;
    assert_eq!(ats(&custom), vec![29, 26, 23]);
    let by_actor_client =
        page(AuditFilter { actor: Some("citizen:0".into()), client_id: Some("td".into()), ..Default::default() }).await;
    assert_eq!(ats(&by_actor_client), vec![24, 18, 12, 6, 0]);
    let window = page(AuditFilter { since: Some(t(10)), until: Some(t(14)), ..Default::default() }).await;
    assert_eq!(ats(&window), vec![13, 12, 11, 10], "since inclusive, until exclusive");
    let window_page = page(AuditFilter {
        since: Some(t(10)),
        until: Some(t(14)),
        before_id: window.get(1).and_then(|e| e.id),
        ..Default::default()
    })
    .await;
    assert_eq!(ats(&window_page), vec![11, 10]);
    let nothing = page(AuditFilter { actor: Some("operator:nobody".into()), ..Default::default() }).await;
    assert!(nothing.is_empty());
    let failures: Vec<_> =
        page(AuditFilter::default()).await.into_iter().filter(|e| e.outcome == Outcome::Failure).collect();
    assert_eq!(ats(&failures), vec![25, 20, 15, 10, 5, 0]);
}

async fn audit_limit_is_clamped(db: Db) {
    db.run(|conn| {
        for i in 0..5 {
            audit::append(conn, &AuditEvent::new(AuditKind::SIGNOUT, t(i)))?;
        }
        Ok(())
    })
    .await
    .unwrap();
    let (default, huge) = db
        .run(|conn| {
            Ok((
                audit::list(conn, &AuditFilter::default())?,
                audit::list(conn, &AuditFilter { limit: u32::MAX, ..Default::default() })?,
            ))
        })
        .await
        .unwrap();
    assert_eq!((default.len(), huge.len()), (5, 5));
    assert_eq!(default[0].detail, "{}");
    assert_eq!(audit::MAX_PAGE, 1000);
}

on_both! {
    audit_pages_newest_first_with_filters => sqlite_audit_pages_newest_first_with_filters, postgres_audit_pages_newest_first_with_filters;
    audit_limit_is_clamped => sqlite_audit_limit_is_clamped, postgres_audit_limit_is_clamped;
}
