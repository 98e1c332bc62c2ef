//! The password fallback on a real SQLite file.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use tessera_crypto::PasswordHasher;
use tessera_domain::{Citizen, CitizenStatus, Profile, UnixTime, Username};
use tessera_passkey::{CredentialError, PasswordService, PasswordVerdict};
use tessera_store::{Db, DbOptions, citizens};

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

#[tokio::test]
async fn removing_the_password_ends_password_sign_in() {
    let (svc, _db, citizen, _dir) = setup().await;
    svc.set_password(citizen.id, "correct horse battery", NOW).await.unwrap();
    assert!(svc.remove_password(citizen.id).await.unwrap());
    assert_eq!(svc.verify(&citizen.username, "correct horse battery", NOW).await.unwrap(), PasswordVerdict::Refused);
    assert!(!svc.remove_password(citizen.id).await.unwrap());
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
