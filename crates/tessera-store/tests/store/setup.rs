//! Connecting, migrating and connection settings.

use std::collections::BTreeSet;
use std::path::Path;
use std::time::{Duration, Instant};

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};
use tessera_store::{Backend, Db, DbConnection, StoreError};

use crate::helpers::{connect, sqlite_db};

/// The versions of every migration in the repository, oldest first (both folders hold the same).
fn all_versions() -> Vec<String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../migrations/sqlite");
    let mut versions: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().split('_').next().unwrap().replace('-', ""))
        .collect();
    versions.sort();
    versions
}

async fn migrations_apply_once(db: Db) {
    let first = db.migrate().await.unwrap();
    assert_eq!(first, all_versions());
    let second = db.migrate().await.unwrap();
    assert!(second.is_empty(), "{second:?}");
    db.ping().await.unwrap();
}

async fn concurrent_migrations_apply_once(db: Db) {
    let runs: Vec<_> = (0..3)
        .map(|_| {
            let db = db.clone();
            tokio::spawn(async move { db.migrate().await })
        })
        .collect();
    let mut applied = Vec::new();
    for run in runs {
        applied.extend(run.await.unwrap().unwrap());
    }
    assert_eq!(applied, all_versions(), "one run applied them, the others found nothing to do");
}

const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations/sqlite");
const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations/postgres");

async fn down_migrations_revert_cleanly(db: Db) {
    db.migrate().await.unwrap();
    crate::helpers::stored_citizen(&db, "before.revert").await;
    let reverted = db
        .run(|conn| {
            let reverted = match conn {
                DbConnection::Sqlite(c) => c.revert_all_migrations(SQLITE_MIGRATIONS),
                DbConnection::Pg(c) => c.revert_all_migrations(POSTGRES_MIGRATIONS),
            };
            Ok(reverted.map(|v| v.len()).map_err(|e| e.to_string()))
        })
        .await
        .unwrap();
    assert_eq!(reverted, Ok(all_versions().len()));
    let err = db.run(|conn| tessera_store::citizens::list(conn, None, 1)).await.unwrap_err();
    assert!(matches!(err, StoreError::Query(_)), "the tables are gone: {err:?}");
    assert_eq!(db.migrate().await.unwrap().len(), all_versions().len(), "and come back");
}

on_both_unmigrated! {
    migrations_apply_once => sqlite_migrations_apply_twice_idempotently, postgres_migrations_apply_twice_idempotently;
    concurrent_migrations_apply_once => sqlite_concurrent_migrations_apply_once, postgres_concurrent_migrations_apply_once;
    down_migrations_revert_cleanly => sqlite_down_migrations_revert_cleanly, postgres_down_migrations_revert_cleanly;
}

async fn ping_and_backend(db: Db) {
    db.ping().await.unwrap();
    let expected = if db.redacted_url().starts_with("postgres") { Backend::Postgres } else { Backend::Sqlite };
    assert_eq!(db.backend(), expected);
    let matches = db.run(move |conn| Ok(matches!(conn, DbConnection::Pg(_)) == (expected == Backend::Postgres))).await;
    assert!(matches.unwrap());
}

async fn foreign_keys_are_enforced(db: Db) {
    use tessera_store::schema::citizen_profiles as p;
    let err = db
        .run(|conn| {
            diesel::insert_into(p::table)
                .values((
                    p::citizen_id.eq("00000000-0000-4000-8000-000000000000"),
                    p::name_en.eq("Nobody"),
                    p::gender.eq("undisclosed"),
                    p::email_verified.eq(false),
                    p::phone_verified.eq(false),
                ))
                .execute(conn)?;
            Ok(())
        })
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            StoreError::Query(diesel::result::Error::DatabaseError(
                diesel::result::DatabaseErrorKind::ForeignKeyViolation,
                _
            ))
        ),
        "{err:?}"
    );
}

async fn concurrent_work_shares_the_pool(db: Db) {
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let db = db.clone();
            tokio::spawn(async move { db.ping().await })
        })
        .collect();
    for task in tasks {
        task.await.unwrap().unwrap();
    }
}

on_both! {
    ping_and_backend => sqlite_ping_and_backend, postgres_ping_and_backend;
    foreign_keys_are_enforced => sqlite_foreign_keys_are_enforced, postgres_foreign_keys_are_enforced;
    concurrent_work_shares_the_pool => sqlite_concurrent_work_shares_the_pool, postgres_concurrent_work_shares_the_pool;
}

#[derive(QueryableByName)]
struct Mode {
    #[diesel(sql_type = Text)]
    journal_mode: String,
}

#[derive(QueryableByName)]
struct AutoCheckpoint {
    #[diesel(sql_type = BigInt)]
    wal_autocheckpoint: i64,
}

#[derive(QueryableByName)]
struct Flag {
    #[diesel(sql_type = BigInt)]
    value: i64,
}

/// Reads an integer pragma through its table-valued function (`column` is its result column).
fn pragma(conn: &mut DbConnection, name: &str, column: &str) -> i64 {
    diesel::sql_query(format!("SELECT {column} AS value FROM pragma_{name}()"))
        .get_result::<Flag>(conn)
        .map_or(-1, |f| f.value)
}

#[tokio::test]
async fn sqlite_file_is_in_wal_mode_with_foreign_keys_on() {
    let (db, dir) = sqlite_db(true).await;
    assert!(dir.path().join("nested/dir/tessera.db").is_file(), "parent directories are created");
    // Several connections at once, so more than one pooled connection gets checked.
    let checks: Vec<_> = (0..4)
        .map(|_| {
            db.run(|conn| {
                let mode = diesel::sql_query("PRAGMA journal_mode").get_result::<Mode>(conn)?.journal_mode;
                std::thread::sleep(Duration::from_millis(50));
                let fk = pragma(conn, "foreign_keys", "foreign_keys");
                Ok((mode, fk, pragma(conn, "busy_timeout", "timeout"), pragma(conn, "synchronous", "synchronous")))
            })
        })
        .collect();
    for check in checks {
        let (mode, fk, busy, sync) = check.await.unwrap();
        assert_eq!(mode, "wal");
        assert_eq!((fk, busy, sync), (1, 5000, 1), "foreign_keys, busy_timeout, synchronous=NORMAL");
    }
}

#[tokio::test]
async fn sqlite_accepts_every_documented_url_form() {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a.db").display().to_string();
    for url in [
        format!("sqlite://{a}"),
        format!("sqlite:{}", dir.path().join("b.db").display()),
        dir.path().join("c/c.db").display().to_string(),
    ] {
        let db = connect(url.clone()).await.unwrap_or_else(|e| panic!("{url}: {e}"));
        assert_eq!(db.backend(), Backend::Sqlite);
        db.migrate().await.unwrap();
    }
    for name in ["a.db", "b.db", "c/c.db"] {
        assert!(dir.path().join(name).is_file(), "{name}");
    }
}

#[tokio::test]
async fn sqlite_in_memory_keeps_one_database() {
    let db = connect(":memory:".into()).await.unwrap();
    db.migrate().await.unwrap();
    let c = crate::helpers::stored_citizen(&db, "memory.user").await;
    let found = db.run(move |conn| tessera_store::citizens::by_id(conn, c.id)).await.unwrap();
    assert!(found.is_some(), "the second checkout sees the first one's writes");
}

#[tokio::test]
async fn unreachable_postgres_is_unavailable_quickly() {
    let started = Instant::now();
    let result =
        tokio::time::timeout(Duration::from_secs(30), connect("postgres://tessera:s3cret@127.0.0.1:1/x".into()))
            .await
            .expect("connect must not hang");
    let err = result.unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(15), "took {:?}", started.elapsed());
    let text = err.to_string();
    match &err {
        StoreError::Unavailable { backend, url, cause } => {
            assert_eq!(*backend, Backend::Postgres);
            assert_eq!(url, "postgres://tessera:***@127.0.0.1:1/x");
            assert!(!cause.is_empty());
        }
        other => panic!("expected Unavailable, got {other:?}"),
    }
    assert!(text.contains("PostgreSQL") && text.contains("127.0.0.1:1"), "{text}");
    assert!(!text.contains("s3cret"), "{text}");
}

#[tokio::test]
async fn unresponsive_postgres_times_out() {
    // TEST-NET-1 (RFC 5737): routed nowhere, so the connection attempt hangs or is refused;
    // either way `connect_timeout` bounds it.
    let options = tessera_store::DbOptions { connect_timeout: Duration::from_secs(2), ..crate::helpers::options() };
    let started = Instant::now();
    let result = tokio::time::timeout(
        Duration::from_secs(30),
        tokio::task::spawn_blocking(move || Db::connect("postgresql://tessera@192.0.2.1:5432/x", &options)),
    )
    .await
    .expect("connect must not hang")
    .unwrap();
    assert!(matches!(result, Err(StoreError::Unavailable { backend: Backend::Postgres, .. })), "{result:?}");
    assert!(started.elapsed() < Duration::from_secs(10), "took {:?}", started.elapsed());
}

#[tokio::test]
async fn unparseable_urls_name_the_accepted_forms() {
    for url in ["mysql://root:pw@localhost/db", "", "redis://127.0.0.1", "postgres:nodb"] {
        let err = connect(url.into()).await.unwrap_err();
        assert!(matches!(err, StoreError::InvalidUrl { .. }), "{url}: {err:?}");
        let text = err.to_string();
        for form in ["postgres://", "postgresql://", "sqlite://PATH", "sqlite:PATH", ":memory:"] {
            assert!(text.contains(form), "{text}");
        }
        assert!(!text.contains("pw@"), "{text}");
    }
}

#[tokio::test]
async fn sqlite_unopenable_file_is_unavailable() {
    let dir = tempfile::tempdir().unwrap();
    // A directory where the database file should be.
    std::fs::create_dir_all(dir.path().join("taken.db")).unwrap();
    let err = connect(dir.path().join("taken.db").display().to_string()).await.unwrap_err();
    assert!(matches!(err, StoreError::Unavailable { backend: Backend::Sqlite, .. }), "{err:?}");
}

#[test]
fn migration_folders_list_the_same_migrations() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../migrations");
    let list = |backend: &str| -> BTreeSet<String> {
        std::fs::read_dir(root.join(backend))
            .unwrap()
            .map(|e| e.unwrap())
            .filter(|e| e.file_type().unwrap().is_dir())
            .map(|e| {
                for file in ["up.sql", "down.sql"] {
                    assert!(e.path().join(file).is_file(), "{}/{file} is missing", e.path().display());
                }
                e.file_name().to_string_lossy().into_owned()
            })
            .collect()
    };
    let (sqlite, postgres) = (list("sqlite"), list("postgres"));
    assert!(!sqlite.is_empty());
    assert_eq!(sqlite, postgres, "migrations/sqlite and migrations/postgres must hold the same migrations");
}

/// The write-ahead log is copied into the database file by `Db`'s background checkpoint,
/// not by a committing request: no automatic checkpoint, and the file catches up within
/// seconds of a write.
#[tokio::test]
async fn sqlite_checkpoints_in_the_background() {
    let (db, dir) = sqlite_db(true).await;
    let file = dir.path().join("nested/dir/tessera.db");
    let autocheckpoint = db
        .run(|conn| Ok(diesel::sql_query("PRAGMA wal_autocheckpoint").get_result::<AutoCheckpoint>(conn)?))
        .await
        .unwrap();
    assert_eq!(autocheckpoint.wal_autocheckpoint, 0, "no checkpoint inside a commit");

    // Let the migrations' pages reach the file, then write about 60 new pages.
    std::thread::sleep(Duration::from_millis(2500));
    let before = std::fs::metadata(&file).unwrap().len();
    db.run(|conn| {
        diesel::sql_query("CREATE TABLE filler (id INTEGER PRIMARY KEY, body TEXT NOT NULL)").execute(conn)?;
        for i in 0..60 {
            diesel::sql_query("INSERT INTO filler (id, body) VALUES (?, ?)")
                .bind::<BigInt, _>(i)
                .bind::<Text, _>("x".repeat(4000))
                .execute(conn)?;
        }
        Ok(())
    })
    .await
    .unwrap();
    let written = std::fs::metadata(&file).unwrap().len();
    assert!(written < before + 60 * 4000, "the commit itself copied pages: {before} -> {written}");

    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let now = std::fs::metadata(&file).unwrap().len();
        if now >= before + 60 * 4000 {
            break;
        }
        assert!(Instant::now() < deadline, "no checkpoint within 5 s: {before} -> {now} bytes");
        std::thread::sleep(Duration::from_millis(100));
    }
}
