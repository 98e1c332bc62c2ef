//! The store's one error type.

use diesel::result::{DatabaseErrorKind, Error as DieselError};

use crate::Backend;

/// What went wrong talking to the database.
///
/// Messages name tables, columns and constraints, never stored values: no personal data, no
/// secrets, and database URLs only with their password redacted.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database cannot be reached or opened (or no pooled connection came free in time).
    #[error("the {backend} database at {url} is unavailable: {cause}")]
    Unavailable {
        backend: Backend,
        /// The URL with any password replaced by `***`.
        url: String,
        cause: String,
    },
    /// The database URL is not one of the accepted forms.
    #[error(
        "unsupported database URL ({reason}); expected postgres://..., postgresql://..., \
         sqlite://PATH, sqlite:PATH, a plain file path, or :memory:"
    )]
    InvalidUrl { reason: String },
    /// A unique value is already taken (username, passkey credential id, token digest, ...).
    #[error("conflict: {0}")]
    Conflict(&'static str),
    /// The row to change does not exist. (Lookups that may miss return `Ok(None)` instead.)
    #[error("not found: {0}")]
    NotFound(&'static str),
    /// A stored value no longer parses into its domain type.
    #[error("corrupt value in {table}.{column}: {reason}")]
    Corrupt { table: &'static str, column: &'static str, reason: String },
    /// Applying migrations failed.
    #[error("database migration failed: {0}")]
    Migration(String),
    /// Any other database error.
    #[error("database query failed: {0}")]
    Query(DieselError),
    /// The blocking task running the database work panicked or was cancelled.
    #[error("internal store error: {0}")]
    Internal(&'static str),
}

impl From<DieselError> for StoreError {
    /// Unique violations become [`StoreError::Conflict`] (use [`conflict_as`] to say which
    /// value), everything else [`StoreError::Query`].
    fn from(e: DieselError) -> Self {
        match e {
            DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _) => {
                StoreError::Conflict("a unique value is already taken")
            }
            other => StoreError::Query(other),
        }
    }
}

/// Maps a unique violation to `Conflict(what)`, other errors as `From` does.
pub(crate) fn conflict_as(what: &'static str) -> impl FnOnce(DieselError) -> StoreError {
    move |e| match e {
        DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _) => StoreError::Conflict(what),
        other => StoreError::from(other),
    }
}

/// Builds a `Corrupt` error for `table.column` from a parse failure.
pub(crate) fn corrupt<E: std::fmt::Display>(table: &'static str, column: &'static str) -> impl FnOnce(E) -> StoreError {
    move |e| StoreError::Corrupt { table, column, reason: e.to_string() }
}
