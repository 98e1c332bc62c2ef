//! The password fallback on a real SQLite file.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use tessera_crypto::PasswordHasher;
use tessera_domain::{
    AuditEvent, AuditKind, Citizen, CitizenStatus, CredentialId, PasskeyId, PasskeyRecord, Profile, UnixTime, Username,
};
use tessera_passkey::{CredentialError, PasswordChange, PasswordService, PasswordVerdict};
use tessera_store::audit::{self, AuditFilter};
use tessera_store::{Db, DbOptions, citizens, passkeys};

const NOW: UnixTime = UnixTime::from_secs(1_800_000_000);

async fn setup() -> (PasswordService, Db, Citizen, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::connect(&format!("sqlite://{}", dir.path().join("t.db").display()), &DbOptions::default()).unwrap();
    db.migrate().await.unwrap();
    let citizen = Citizen::new(Username::parse("chan.taiman").unwrap(), NOW);
    let c = citizen.clone();
    db.run(move |conn| citizens::insert(conn, &c, &Profile::new("CHAN Tai Man"))).await.unwrap();
    (PasswordService::new(db.clone(), PasswordHasher::new(2).unwrap()), db, citizen, dir)
}

#[tokio::test]
async fn the_right_password_is_accepted_and_a_wrong_one_refused() {
    let (svc, _db, citizen, _dir) = setup().await;
    svc.set_password(citizen.id, "correct horse battery", NOW).await.unwrap();
    assert_eq!(
        svc.verify(&citizen.username, "correct horse battery", NOW).await.unwrap(),
        PasswordVerdict::Accepted(citizen.id)
    );
    assert_eq!(svc.verify(&citizen.username, "correct horse batterY", NOW).await.unwrap(), PasswordVerdict::Refused);
    assert_eq!(svc.verify(&citizen.username, "", NOW).await.unwrap(), PasswordVerdict::Refused);
    assert_eq!(svc.verify(&citizen.username, &"x".repeat(5000), NOW).await.unwrap(), PasswordVerdict::Refused);
}

#[tokio::test]
async fn an_unknown_username_gets_the_same_answer() {
    let (svc, _db, _citizen, _dir) = setup().await;
    let nobody = Username::parse("nobody").unwrap();
    assert_eq!(svc.verify(&nobody, "correct horse battery", NOW).await.unwrap(), PasswordVerdict::Refused);
}

#[tokio::test]
async fn a_citizen_without_a_password_or_disabled_is_refused() {
    let (svc, db, citizen, _dir) = setup().await;
    assert_eq!(svc.verify(&citizen.username, "correct horse battery", NOW).await.unwrap(), PasswordVerdict::Refused);
    svc.set_password(citizen.id, "correct horse battery", NOW).await.unwrap();
    let id = citizen.id;
    db.run(move |conn| citizens::set_status(conn, id, CitizenStatus::Disabled, NOW)).await.unwrap();
    assert_eq!(svc.verify(&citizen.username, "correct horse battery", NOW).await.unwrap(), PasswordVerdict::Refused);
}

/// A passkey row for `citizen` (its WebAuthn content does not matter here).
async fn give_passkey(db: &Db, citizen: &Citizen) {
    let record = PasskeyRecord {
        id: PasskeyId::generate(),
        citizen_id: citizen.id,
        credential_id: CredentialId::new(vec![7; 16]).unwrap(),
        passkey_json: "{}".into(),
        name: "Phone".into(),
        sign_count: 0,
        backup_eligible: false,
        backup_state: false,
        transports: vec![],
        created_at: NOW,
        last_used_at: None,
    };
    db.run(move |conn| passkeys::insert(conn, &record)).await.unwrap();
}

async fn events(db: &Db, kind: AuditKind) -> Vec<AuditEvent> {
    let filter = AuditFilter { kind: Some(kind), ..AuditFilter::default() };
    db.run(move |c| audit::list(c, &filter)).await.unwrap()
}

#[tokio::test]
async fn removing_the_password_ends_password_sign_in_but_never_the_last_credential() {
    let (svc, db, citizen, _dir) = setup().await;
    assert!(matches!(svc.remove_password(citizen.id, NOW).await, Err(CredentialError::NoPassword)));
    svc.set_password(citizen.id, "correct horse battery", NOW).await.unwrap();
    assert!(matches!(svc.remove_password(citizen.id, NOW).await, Err(CredentialError::LastCredential)));
    assert!(svc.has_password(citizen.id).await.unwrap(), "a refused removal leaves the password");

    give_passkey(&db, &citizen).await;
    svc.remove_password(citizen.id, NOW).await.unwrap();
    assert!(!svc.has_password(citizen.id).await.unwrap());
    assert_eq!(svc.verify(&citizen.username, "correct horse battery", NOW).await.unwrap(), PasswordVerdict::Refused);
    assert!(matches!(svc.remove_password(citizen.id, NOW).await, Err(CredentialError::NoPassword)));
    let removed = events(&db, AuditKind::PASSWORD_REMOVED).await;
    assert_eq!(removed.len(), 1, "only the removal that happened is audited");
    assert_eq!(removed[0].actor.as_deref(), Some(citizen.id.to_string().as_str()));
}

#[tokio::test]
async fn changing_the_password_adds_then_replaces_and_is_audited() {
    let (svc, db, citizen, _dir) = setup().await;
    give_passkey(&db, &citizen).await;
    assert_eq!(svc.change_password(citizen.id, "first long passphrase", NOW).await.unwrap(), PasswordChange::Added);
    let later = UnixTime::from_secs(NOW.as_secs() + 60);
    assert_eq!(
        svc.change_password(citizen.id, "second long passphrase", later).await.unwrap(),
        PasswordChange::Replaced
    );
    assert_eq!(svc.verify(&citizen.username, "first long passphrase", later).await.unwrap(), PasswordVerdict::Refused);
    assert_eq!(
        svc.verify(&citizen.username, "second long passphrase", later).await.unwrap(),
        PasswordVerdict::Accepted(citizen.id)
    );
    assert!(matches!(svc.change_password(citizen.id, "short", later).await, Err(CredentialError::PasswordTooShort)));
    let set = events(&db, AuditKind::PASSWORD_SET).await;
    let replaced: Vec<bool> =
        set.iter().map(|e| serde_json::from_str::<serde_json::Value>(&e.detail).unwrap()["replaced"] == true).collect();
    assert_eq!(replaced, vec![true, false], "newest first: replaced, then added");
    assert!(set.iter().all(|e| !e.detail.contains("passphrase")), "no password in the audit log");
}

#[tokio::test]
async fn the_policy_is_enforced_before_hashing() {
    let (svc, _db, citizen, _dir) = setup().await;
    assert!(matches!(svc.set_password(citizen.id, "short", NOW).await, Err(CredentialError::PasswordTooShort)));
    assert!(matches!(
        svc.set_password(citizen.id, "my name is CHAN.TAIMAN!", NOW).await,
        Err(CredentialError::PasswordContainsUsername)
    ));
    assert!(matches!(
        svc.set_password(citizen.id, &"長".repeat(400), NOW).await,
        Err(CredentialError::PasswordTooLong)
    ));
    // Twelve characters of Chinese are accepted: length is counted in characters.
    svc.set_password(citizen.id, "我的密碼很長而且難以估計", NOW).await.unwrap();
}

#[tokio::test]
async fn the_stored_value_is_an_argon2id_hash_not_the_password() {
    let (svc, db, citizen, _dir) = setup().await;
    svc.set_password(citizen.id, "correct horse battery", NOW).await.unwrap();
    let id = citizen.id;
    let stored = db.run(move |conn| tessera_store::credentials::password_for(conn, id)).await.unwrap().unwrap();
    assert!(stored.phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
    assert!(!stored.phc.contains("correct horse battery"));
}

#[tokio::test]
async fn password_sign_ins_are_audited_with_the_client_address() {
    use tessera_passkey::{SignInOutcome, SignInService, SignInThrottle, ThrottlePolicy};
    use tessera_session::{AnySessionStore, MemoryStore};
    let (svc, db, citizen, _dir) = setup().await;
    svc.set_password(citizen.id, "correct horse battery", NOW).await.unwrap();
    let throttle = SignInThrottle::new(AnySessionStore::from(MemoryStore::new()), ThrottlePolicy::default());
    let signin = SignInService::new(db.clone(), svc, throttle);

    let ok = signin.password("chan.taiman", "correct horse battery", "203.0.113.7", NOW).await.unwrap();
    assert!(matches!(ok, SignInOutcome::SignedIn(_)), "{ok:?}");
    let refused = signin.password("chan.taiman", "wrong horse battery", "198.51.100.9", NOW).await.unwrap();
    assert!(matches!(refused, SignInOutcome::Refused), "{refused:?}");

    let events = events(&db, AuditKind::SIGNIN_PASSWORD).await;
    let seen: Vec<_> = events.iter().rev().map(|e| (e.outcome, e.actor.clone(), e.ip.clone())).collect();
    assert_eq!(
        seen,
        [
            (tessera_domain::Outcome::Success, Some(citizen.id.to_string()), Some("203.0.113.7".to_owned())),
            // A failure names no citizen: who typed the name is not proven.
            (tessera_domain::Outcome::Failure, None, Some("198.51.100.9".to_owned())),
        ]
    );
}
