//! Test-only helpers shared by the crates' test suites.
//!
//! `scripts/test` starts a throwaway PostgreSQL and Redis and exports
//! `TESSERA_TEST_DATABASE_URL` (an admin URL of the PostgreSQL cluster) and
//! `TESSERA_TEST_REDIS_URL`, plus `TESSERA_TEST_REQUIRE_SERVICES=1`. Under the
//! test command a missing service is a loud failure; under a plain `cargo test`
//! on a machine without those services the tests that need them are skipped
//! with a message, and the hermetic part still runs.
#![expect(clippy::panic, reason = "test helpers fail the test loudly")]

use diesel::{Connection, PgConnection, RunQueryDsl};

pub mod softkey;

/// Environment variable with the PostgreSQL admin URL (a database the tests may create others from).
pub const DATABASE_URL_ENV: &str = "TESSERA_TEST_DATABASE_URL";
/// Environment variable with the Redis URL.
pub const REDIS_URL_ENV: &str = "TESSERA_TEST_REDIS_URL";
/// When set to `1`, a missing service fails the test instead of skipping it.
pub const REQUIRE_ENV: &str = "TESSERA_TEST_REQUIRE_SERVICES";
/// Which stack the integration tests run the server on: `embedded` (SQLite + memory, the
/// default) or `production` (PostgreSQL + Redis).
pub const STACK_ENV: &str = "TESSERA_TEST_STACK";

fn required() -> bool {
    std::env::var(REQUIRE_ENV).is_ok_and(|v| v == "1")
}

fn service(var: &str, what: &str) -> Option<String> {
    match std::env::var(var) {
        Ok(url) if !url.is_empty() => Some(url),
        _ if required() => panic!("{what} is required ({REQUIRE_ENV}=1) but {var} is not set"),
        _ => {
            eprintln!("SKIPPED: {what} not available ({var} unset); run scripts/test for the full suite");
            None
        }
    }
}

/// The Redis URL of the test command's Redis, or `None` (test skipped) outside it.
pub fn redis_url() -> Option<String> {
    service(REDIS_URL_ENV, "Redis")
}

/// The admin URL of the test command's PostgreSQL, or `None` (test skipped) outside it.
pub fn postgres_admin_url() -> Option<String> {
    service(DATABASE_URL_ENV, "PostgreSQL")
}

/// True when the integration tests should run the server on PostgreSQL + Redis.
pub fn production_stack() -> bool {
    std::env::var(STACK_ENV).is_ok_and(|v| v == "production")
}

/// Creates a fresh, empty PostgreSQL database for one test and returns its URL.
/// Returns `None` (test skipped) when no PostgreSQL is configured.
pub fn fresh_postgres_database() -> Option<String> {
    let admin = postgres_admin_url()?;
    let name = format!("tessera_test_{}", uuid::Uuid::new_v4().simple());
    let mut conn = PgConnection::establish(&admin)
        .unwrap_or_else(|e| panic!("cannot connect to the test PostgreSQL at {admin}: {e}"));
    diesel::sql_query(format!("CREATE DATABASE {name}"))
        .execute(&mut conn)
        .unwrap_or_else(|e| panic!("cannot create test database {name}: {e}"));
    Some(replace_database(&admin, &name))
}

/// A random key prefix so tests sharing one Redis never see each other's keys.
pub fn unique_prefix() -> String {
    format!("tessera-test-{}:", uuid::Uuid::new_v4().simple())
}

fn replace_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    // postgres://user@host:port/db -> keep everything up to the last '/' after the authority.
    let authority_end = base.find("://").map_or(0, |i| i + 3);
    let path_start = base[authority_end..].find('/').map(|i| authority_end + i);
    let prefix = match path_start {
        Some(i) => &base[..i],
        None => base,
    };
    match query {
        Some(q) => format!("{prefix}/{name}?{q}"),
        None => format!("{prefix}/{name}"),
    }
}

/// A TCP port that was free on 127.0.0.1 a moment ago.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or_else(|e| panic!("no free loopback port: {e}"))
}

/// Waits until something listens on 127.0.0.1:`port`, failing the test after `within`.
pub fn wait_for_port(port: u16, what: &str, within: std::time::Duration) {
    let deadline = std::time::Instant::now() + within;
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(std::time::Instant::now() < deadline, "{what} did not listen on port {port} within {within:?}");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

#[cfg(test)]
mod tests {
    use super::replace_database;

    #[test]
    fn replaces_the_database_name_only() {
        assert_eq!(replace_database("postgres://u@h:5/postgres", "x"), "postgres://u@h:5/x");
        assert_eq!(replace_database("postgres://u@h:5", "x"), "postgres://u@h:5/x");
        assert_eq!(replace_database("postgres://u@h/p?sslmode=disable", "x"), "postgres://u@h/x?sslmode=disable");
    }
}
