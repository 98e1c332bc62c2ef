//! Passkey-only sign-up: the account waits, disabled, for its first passkey; an abandoned
//! one frees its username after `ABANDONED_SIGNUP_SECS`, and nothing else is ever removed.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use tessera_crypto::{MasterKey, PasswordHasher, Purpose};
use tessera_domain::{CitizenStatus, UnixTime, Username};
use tessera_passkey::signup::ABANDONED_SIGNUP_SECS;
use tessera_passkey::{PasswordService, ProblemKind, SignupError, SignupForm, SignupService};
use tessera_store::{Db, DbOptions, citizens};

const NOW: UnixTime = UnixTime::from_secs(1_799_971_200);

async fn setup() -> (SignupService, Db, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::connect(&format!("sqlite://{}", dir.path().join("t.db").display()), &DbOptions::default()).unwrap();
    db.migrate().await.unwrap();
    let passwords = PasswordService::new(db.clone(), PasswordHasher::new(1).unwrap());
    let cipher = MasterKey::generate().unwrap().cipher(Purpose::PersonalData).unwrap();
    (SignupService::new(db.clone(), passwords, cipher), db, dir)
}

fn form(username: &str) -> SignupForm {
    SignupForm { username: username.into(), name_en: "WONG, Siu Ming".into(), ..SignupForm::default() }
}

async fn status(db: &Db, username: &str) -> Option<CitizenStatus> {
    let name = Username::parse(username).unwrap();
    db.run(move |conn| citizens::by_username(conn, &name)).await.unwrap().map(|c| c.status)
}

fn taken(result: Result<tessera_domain::Citizen, SignupError>) -> bool {
    matches!(result, Err(SignupError::Invalid(p)) if p.iter().any(|f| f.field == "username" && f.problem == ProblemKind::Taken))
}

#[tokio::test]
async fn the_account_stays_disabled_until_its_first_passkey() {
    let (signup, db, _dir) = setup().await;
    let citizen = signup.begin_passkey_signup(form("wong.siuming"), NOW).await.unwrap();
    assert_eq!(status(&db, "wong.siuming").await, Some(CitizenStatus::Disabled));
    signup.complete_passkey_signup(&citizen, NOW).await.unwrap();
    assert_eq!(status(&db, "wong.siuming").await, Some(CitizenStatus::Active));
}

#[tokio::test]
async fn an_abandoned_sign_up_frees_its_username_only_after_the_grace_period() {
    let (signup, db, _dir) = setup().await;
    signup.begin_passkey_signup(form("wong.siuming"), NOW).await.unwrap();
    assert!(taken(signup.begin_passkey_signup(form("wong.siuming"), NOW.plus_secs(60)).await));
    let later = NOW.plus_secs(ABANDONED_SIGNUP_SECS + 1);
    let again = signup.begin_passkey_signup(form("wong.siuming"), later).await.unwrap();
    assert_eq!(status(&db, "wong.siuming").await, Some(CitizenStatus::Disabled));
    signup.complete_passkey_signup(&again, later).await.unwrap();
    // A live account is never treated as abandoned, however old.
    let much_later = later.plus_secs(10 * ABANDONED_SIGNUP_SECS);
    assert!(taken(signup.begin_passkey_signup(form("wong.siuming"), much_later).await));
    assert_eq!(status(&db, "wong.siuming").await, Some(CitizenStatus::Active));
}
