//! Storage tests: every repository test runs on a real SQLite file and on a real PostgreSQL
//! (skipped, with a message, when `TESSERA_TEST_DATABASE_URL` is unset outside the test command).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[macro_use]
mod helpers;

mod audit;
mod citizens;
mod clients;
mod consents;
mod credentials;
mod passkeys;
mod refresh_tokens;
mod setup;
mod signing_keys;
