//! Tessera's durable state, on SQLite or PostgreSQL through one diesel connection type.
//!
//! [`Db::connect`] picks the backend from the URL; [`Db::run`] runs a closure on a pooled
//! [`DbConnection`] on the blocking pool; the repository modules are plain functions that take
//! that connection and domain types. Every query is written once for both backends.
//!
//! Guarantees the repositories keep, on both backends:
//! - unique values (usernames, passkey credential ids, refresh-token digests) are enforced by
//!   the database and surface as [`StoreError::Conflict`];
//! - multi-statement changes run in one transaction;
//! - races between nodes have one winner: a refresh token rotates once, a citizen has at most one
//!   live consent per client, an algorithm has at most one `next` and one `active` key;
//! - a stored value that no longer parses is [`StoreError::Corrupt`], never a panic.
//!
//! Lookups by a unique key use `get_result`, not `first`: `first` adds `LIMIT ?`, and SQLite
//! re-plans a cached statement whenever that bound value is rebound (measured in
//! docs/performance.md: 25 µs against 8 µs for a primary-key lookup).

mod codec;
mod connection;
mod db;
mod error;
pub mod schema;
mod url;

pub mod audit;
pub mod citizens;
pub mod client_changes;
pub mod client_logos;
pub mod clients;
pub mod consents;
pub mod credentials;
pub mod enrolments;
pub mod passkeys;
pub mod refresh_tokens;
pub mod signing_keys;

pub use connection::{DbConnection, MultiBackend};
pub use db::{Backend, Db, DbOptions};
pub use error::StoreError;
pub use url::redact as redact_url;
