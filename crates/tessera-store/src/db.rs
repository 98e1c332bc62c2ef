//! The database handle: a pool, migrations, and running work off the async runtime.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use diesel::RunQueryDsl;
use diesel::connection::Connection;
use diesel::r2d2::{CustomizeConnection, ManageConnection, Pool};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

use crate::StoreError;
use crate::connection::{DbConnection, LogErrors, Manager, SqlitePragmas};
use crate::url::{self, Target};

const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations/sqlite");
const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations/postgres");

/// How often a background thread copies an SQLite file's write-ahead log back into the
/// database (a passive checkpoint: it never waits for readers or writers).
///
/// SQLite's automatic checkpoint ran inside whichever request's commit crossed 1 000 log
/// pages, with an `fsync`: 5.6 % of a passkey sign-in's CPU (docs/performance.md). Once a
/// second, off the request path, the pages that many commits rewrote are copied once; and
/// the log is synced at least once a second even when little is written, where the automatic
/// checkpoint could wait indefinitely for its 1 000 pages.
pub(crate) const CHECKPOINT_EVERY: Duration = Duration::from_secs(1);

/// A key for `pg_advisory_xact_lock`, so nodes starting together migrate one at a time.
const MIGRATION_LOCK_KEY: i64 = 0x0074_6573_7365_7261; // "tessera" in ASCII

/// Which database a [`Db`] talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    /// `"SQLite"` or `"PostgreSQL"`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Backend::Sqlite => "SQLite",
            Backend::Postgres => "PostgreSQL",
        }
    }
}

impl fmt::Display for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Pool settings.
#[derive(Debug, Clone)]
pub struct DbOptions {
    /// How long to wait for a new connection (libpq `connect_timeout`) and for a free pooled
    /// connection before giving up with [`StoreError::Unavailable`]. Default 5 s.
    pub connect_timeout: Duration,
    /// Most connections open at once. Default 10. An in-memory SQLite database always uses 1,
    /// since each connection would otherwise see its own empty database.
    pub max_connections: u32,
    /// Connections kept open while idle. Default 1.
    pub min_idle: u32,
}

impl Default for DbOptions {
    fn default() -> Self {
        Self { connect_timeout: Duration::from_secs(5), max_connections: 10, min_idle: 1 }
    }
}

/// A pooled database handle; cheap to clone and share between tasks.
#[derive(Clone)]
pub struct Db {
    pool: Pool<Manager>,
    backend: Backend,
    /// The URL with its password redacted, for error messages.
    url: Arc<str>,
    /// For an SQLite file: stops the checkpoint thread when the last clone is dropped.
    _checkpoints: Option<Arc<Checkpointer>>,
}

/// The background checkpoint thread of an SQLite file (see [`CHECKPOINT_EVERY`]): it runs
/// until this is dropped, which closes the channel it waits on.
struct Checkpointer {
    _stop: std::sync::mpsc::Sender<()>,
}

impl Checkpointer {
    fn start(pool: Pool<Manager>) -> std::io::Result<Self> {
        let (stop, stopped) = std::sync::mpsc::channel::<()>();
        std::thread::Builder::new().name("sqlite-checkpoint".into()).spawn(move || {
            while let Err(std::sync::mpsc::RecvTimeoutError::Timeout) = stopped.recv_timeout(CHECKPOINT_EVERY) {
                let done = pool.get().map_err(|e| e.to_string()).and_then(|mut conn| {
                    diesel::connection::SimpleConnection::batch_execute(&mut *conn, "PRAGMA wal_checkpoint(PASSIVE);")
                        .map_err(|e| e.to_string())
                });
                if let Err(e) = done {
                    tracing::warn!(error = %e, "SQLite checkpoint failed; the next one retries");
                }
            }
        })?;
        Ok(Self { _stop: stop })
    }
}

impl fmt::Debug for Db {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Db").field("backend", &self.backend).field("url", &self.url).finish_non_exhaustive()
    }
}

impl Db {
    /// Opens a pool on `url` (see [`StoreError::InvalidUrl`] for the accepted forms) and checks
    /// that one connection can be made.
    ///
    /// Blocks for at most about `options.connect_timeout`; call it from `spawn_blocking` inside
    /// an async runtime. An unreachable server gives one [`StoreError::Unavailable`] naming the
    /// backend, the URL (password redacted) and the cause. For SQLite the file's parent
    /// directory is created if missing.
    pub fn connect(url: &str, options: &DbOptions) -> Result<Db, StoreError> {
        let target = url::parse(url)?;
        let redacted: Arc<str> = url::redact(url).into();
        let (backend, target) = match target {
            Target::Postgres { url } => {
                (Backend::Postgres, Target::Postgres { url: url::with_connect_timeout(&url, options.connect_timeout) })
            }
            sqlite @ Target::Sqlite { .. } => (Backend::Sqlite, sqlite),
        };
        let unavailable = |cause: String| StoreError::Unavailable { backend, url: redacted.to_string(), cause };

        let memory = target.is_sqlite_memory();
        if let Target::Sqlite { path } = &target
            && !memory
            && let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty())
        {
            std::fs::create_dir_all(parent).map_err(|e| unavailable(format!("cannot create the directory: {e}")))?;
        }

        // One direct attempt first: it fails at once with the real cause (refused, bad
        // password, unwritable file), where the pool would retry until its timeout.
        let manager = Manager::new(target);
        let mut probe = manager.connect().map_err(|e| unavailable(e.to_string()))?;
        SqlitePragmas.on_acquire(&mut probe).map_err(|e| unavailable(e.to_string()))?;
        drop(probe);

        let max = if memory { 1 } else { options.max_connections.max(1) };
        let pool = Pool::builder()
            .max_size(max)
            .min_idle(Some(options.min_idle.min(max)))
            .connection_timeout(options.connect_timeout)
            // A PostgreSQL connection can go stale (server restart, idle timeout on a proxy), so
            // it is checked with `SELECT 1` before use. An SQLite connection is a file handle in
            // this process: checking it costs a parsed statement per query and finds nothing.
            .test_on_check_out(backend == Backend::Postgres)
            .connection_customizer(Box::new(SqlitePragmas))
            .error_handler(Box::new(LogErrors))
            .build(manager)
            .map_err(|e| unavailable(e.to_string()))?;
        let checkpoints = if backend == Backend::Sqlite && !memory {
            let checkpointer = Checkpointer::start(pool.clone())
                .map_err(|e| unavailable(format!("cannot start the SQLite checkpoint thread: {e}")))?;
            Some(Arc::new(checkpointer))
        } else {
            None
        };
        Ok(Db { pool, backend, url: redacted, _checkpoints: checkpoints })
    }

    /// Which backend this handle talks to.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The database URL with any password redacted; safe to log.
    pub fn redacted_url(&self) -> &str {
        &self.url
    }

    /// Checks out a connection and runs `f` on tokio's blocking pool, never on the async
    /// runtime's threads. Waiting for a free connection is bounded by `connect_timeout`.
    pub async fn run<F, T>(&self, f: F) -> Result<T, StoreError>
    where
        F: FnOnce(&mut DbConnection) -> Result<T, StoreError> + Send + 'static,
        T: Send + 'static,
    {
        let pool = self.pool.clone();
        let (backend, url) = (self.backend, self.url.clone());
        tokio::task::spawn_blocking(move || {
            let mut conn = pool.get().map_err(|e| StoreError::Unavailable {
                backend,
                url: url.to_string(),
                cause: e.to_string(),
            })?;
            f(&mut conn)
        })
        .await
        .map_err(|_| StoreError::Internal("the database task panicked or was cancelled"))?
    }

    /// [`run`](Self::run) inside one transaction: everything `f` writes is committed
    /// together, or nothing when it returns an error.
    pub async fn transaction<F, T>(&self, f: F) -> Result<T, StoreError>
    where
        F: FnOnce(&mut DbConnection) -> Result<T, StoreError> + Send + 'static,
        T: Send + 'static,
    {
        self.run(move |conn| conn.transaction::<T, StoreError, _>(f)).await
    }

    /// Applies the pending embedded migrations of this backend and returns the versions
    /// applied (empty when the schema is current, so calling it again is harmless). All pending
    /// migrations run in one transaction that first takes a lock (PostgreSQL: an advisory lock;
    /// SQLite: `BEGIN IMMEDIATE`), so several nodes or tasks migrating at once apply each
    /// migration exactly once, and a failing migration leaves the schema as it was. (A future
    /// migration that cannot run inside a transaction, such as `CREATE INDEX CONCURRENTLY`, needs
    /// this revisited.)
    pub async fn migrate(&self) -> Result<Vec<String>, StoreError> {
        self.run(|conn| {
            let versions = |applied: Vec<diesel::migration::MigrationVersion<'_>>| {
                applied.iter().map(ToString::to_string).collect::<Vec<String>>()
            };
            let applied = match conn {
                // BEGIN IMMEDIATE takes the write lock first, so concurrent migrators queue.
                DbConnection::Sqlite(c) => c.immediate_transaction(|c| {
                    Ok::<_, StoreError>(versions(c.run_pending_migrations(SQLITE_MIGRATIONS).map_err(migration_error)?))
                })?,
                DbConnection::Pg(c) => c.transaction(|c| {
                    diesel::sql_query(format!("SELECT pg_advisory_xact_lock({MIGRATION_LOCK_KEY})")).execute(c)?;
                    Ok::<_, StoreError>(versions(
                        c.run_pending_migrations(POSTGRES_MIGRATIONS).map_err(migration_error)?,
                    ))
                })?,
            };
            if !applied.is_empty() {
                tracing::info!(count = applied.len(), "database migrations applied");
            }
            Ok(applied)
        })
        .await
    }

    /// `SELECT 1` on a pooled connection: readiness for load balancers.
    pub async fn ping(&self) -> Result<(), StoreError> {
        self.run(|conn| {
            diesel::sql_query("SELECT 1").execute(conn)?;
            Ok(())
        })
        .await
    }
}

fn migration_error(e: Box<dyn std::error::Error + Send + Sync>) -> StoreError {
    StoreError::Migration(e.to_string())
}
