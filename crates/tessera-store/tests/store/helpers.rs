//! Databases and fixtures shared by the storage tests.

use std::time::Duration;

use tempfile::TempDir;
use tessera_domain::{
    Birthdate, Citizen, Client, ClientId, Email, Gender, Phone, Profile, SubjectType, TokenEndpointAuthMethod,
    UnixTime, Username,
};
use tessera_store::{Db, DbOptions};

/// Instantiates generic `async fn test(db: Db)` functions once per backend, on a migrated database.
macro_rules! on_both {
    ($($test:ident => $sqlite:ident, $postgres:ident;)+) => {$(
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $sqlite() {
            let (db, _dir) = $crate::helpers::sqlite_db(true).await;
            $test(db).await;
        }

        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $postgres() {
            let Some(db) = $crate::helpers::postgres_db(true).await else { return };
            $test(db).await;
        }
    )+};
}

/// Like `on_both!`, on an empty database with no migrations applied.
macro_rules! on_both_unmigrated {
    ($($test:ident => $sqlite:ident, $postgres:ident;)+) => {$(
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $sqlite() {
            let (db, _dir) = $crate::helpers::sqlite_db(false).await;
            $test(db).await;
        }

        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $postgres() {
            let Some(db) = $crate::helpers::postgres_db(false).await else { return };
            $test(db).await;
        }
    )+};
}

pub fn options() -> DbOptions {
    DbOptions { connect_timeout: Duration::from_secs(5), max_connections: 4, min_idle: 1 }
}

pub async fn connect(url: String) -> Result<Db, tessera_store::StoreError> {
    tokio::task::spawn_blocking(move || Db::connect(&url, &options())).await.unwrap()
}

/// A SQLite file in a fresh temporary directory, in a sub-directory that does not exist yet.
pub async fn sqlite_db(migrate: bool) -> (Db, TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("nested/dir/tessera.db").display());
    let db = connect(url).await.unwrap();
    if migrate {
        db.migrate().await.unwrap();
    }
    (db, dir)
}

/// A fresh, empty PostgreSQL database, or `None` when no PostgreSQL is configured.
pub async fn postgres_db(migrate: bool) -> Option<Db> {
    let url = tokio::task::spawn_blocking(tessera_testkit::fresh_postgres_database).await.unwrap()?;
    let db = connect(url).await.unwrap();
    if migrate {
        db.migrate().await.unwrap();
    }
    Some(db)
}

pub fn t(secs: i64) -> UnixTime {
    UnixTime::from_secs(1_800_000_000 + secs)
}

/// A citizen named `username` with a fully populated profile.
pub fn citizen(username: &str) -> (Citizen, Profile) {
    let citizen = Citizen::new(Username::parse(username).unwrap(), t(0));
    let profile = Profile {
        name_en: "CHAN, Tai Man".into(),
        name_zh: Some("陳大文".into()),
        birthdate: Some(Birthdate::parse("1990-05-06").unwrap()),
        gender: Gender::Male,
        email: Some(Email::parse(&format!("{username}@example.gov.hk")).unwrap()),
        email_verified: true,
        phone: Some(Phone::parse("+85291234567").unwrap()),
        phone_verified: false,
        residential_address: Some("Flat A, 1/F, 1 Queen's Road Central".into()),
        postal_address: None,
        hkid_sealed: Some(vec![0, 1, 2, 255]),
    };
    (citizen, profile)
}

/// Stores a new citizen and returns it.
pub async fn stored_citizen(db: &Db, username: &str) -> Citizen {
    let (c, p) = citizen(username);
    let stored = c.clone();
    db.run(move |conn| tessera_store::citizens::insert(conn, &c, &p)).await.unwrap();
    stored
}

pub fn client(id: &str) -> Client {
    Client {
        id: ClientId::parse(id).unwrap(),
        department_en: "Transport Department".into(),
        department_zh: "運輸署".into(),
        name: "Licensing portal".into(),
        name_zh: String::new(),
        redirect_uris: vec!["https://td.example.gov.hk/callback".into(), "https://td.example.gov.hk/cb?x=\"1\"".into()],
        post_logout_redirect_uris: vec!["https://td.example.gov.hk/".into()],
        allowed_scopes: vec!["openid".into(), "profile".into(), "email".into()],
        token_endpoint_auth_method: TokenEndpointAuthMethod::ClientSecretBasic,
        secret_digest: Some([7; 32]),
        subject_type: SubjectType::Pairwise,
        sector_identifier: "td.example.gov.hk".into(),
        require_pkce: true,
        id_token_alg: "RS256".into(),
        enabled: true,
        created_at: t(0),
        updated_at: t(0),
    }
}

/// Stores a new client and returns it.
pub async fn stored_client(db: &Db, id: &str) -> Client {
    let c = client(id);
    let stored = c.clone();
    db.run(move |conn| tessera_store::clients::insert(conn, &c)).await.unwrap();
    stored
}
