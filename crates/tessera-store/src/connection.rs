//! One connection type over SQLite and PostgreSQL, and how the pool makes connections.
//!
//! This and `db.rs` hold the only backend-specific code of the store: repositories write
//! their queries once against [`DbConnection`].

use diesel::connection::SimpleConnection;
use diesel::r2d2::{CustomizeConnection, ManageConnection, R2D2Connection};
use diesel::{Connection, PgConnection, SqliteConnection};

use crate::url::Target;

/// A connection to either backend. Queries written against it run on both; it supports only
/// the SQL both share (no `RETURNING`, no `ON CONFLICT`, no backend-specific functions).
#[derive(diesel::MultiConnection)]
pub enum DbConnection {
    Sqlite(SqliteConnection),
    Pg(PgConnection),
}

/// Settings applied to every new SQLite connection: wait up to 5 s for a lock instead of
/// failing, write-ahead logging (readers never block the writer), enforced foreign keys,
/// `synchronous = NORMAL` (durable across application crashes; safe with WAL), and no
/// automatic checkpoint inside a committing request: `Db` checkpoints in the background
/// (see [`crate::db::CHECKPOINT_EVERY`]).
pub(crate) const SQLITE_PRAGMAS: &str = "PRAGMA busy_timeout = 5000; \
     PRAGMA journal_mode = WAL; \
     PRAGMA foreign_keys = ON; \
     PRAGMA synchronous = NORMAL; \
     PRAGMA wal_autocheckpoint = 0;";

/// Makes connections of the variant the URL chose. (The derived `DbConnection::establish`
/// tries every backend in turn, which would open a SQLite file named after a PostgreSQL URL.)
#[derive(Debug)]
pub(crate) struct Manager {
    target: Target,
}

impl Manager {
    pub(crate) fn new(target: Target) -> Self {
        Self { target }
    }
}

impl ManageConnection for Manager {
    type Connection = DbConnection;
    type Error = diesel::r2d2::Error;

    fn connect(&self) -> Result<DbConnection, Self::Error> {
        let conn = match &self.target {
            Target::Sqlite { path } => SqliteConnection::establish(&path.to_string_lossy()).map(DbConnection::Sqlite),
            Target::Postgres { url } => PgConnection::establish(url).map(DbConnection::Pg),
        };
        conn.map_err(diesel::r2d2::Error::ConnectionError)
    }

    fn is_valid(&self, conn: &mut DbConnection) -> Result<(), Self::Error> {
        conn.ping().map_err(diesel::r2d2::Error::QueryError)
    }

    fn has_broken(&self, conn: &mut DbConnection) -> bool {
        conn.is_broken()
    }
}

/// Applies [`SQLITE_PRAGMAS`] to each new SQLite connection; PostgreSQL needs nothing.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SqlitePragmas;

impl CustomizeConnection<DbConnection, diesel::r2d2::Error> for SqlitePragmas {
    fn on_acquire(&self, conn: &mut DbConnection) -> Result<(), diesel::r2d2::Error> {
        match conn {
            DbConnection::Sqlite(c) => c.batch_execute(SQLITE_PRAGMAS).map_err(diesel::r2d2::Error::QueryError),
            DbConnection::Pg(_) => Ok(()),
        }
    }
}

/// Logs pool connection failures once each, through `tracing` (the URL is never logged).
#[derive(Debug, Clone, Copy)]
pub(crate) struct LogErrors;

impl diesel::r2d2::HandleError<diesel::r2d2::Error> for LogErrors {
    fn handle_error(&self, error: diesel::r2d2::Error) {
        tracing::warn!(error = %error, "database connection failed");
    }
}
