//! Tollgate's database layer: the only crate that knows SQL.
//!
//! One portable [`schema`] serves SQLite and PostgreSQL through
//! `#[derive(diesel::MultiConnection)]`; the backend is chosen explicitly
//! from the URL scheme (`postgres://` or `postgresql://` → PostgreSQL,
//! anything else is a SQLite path). Migrations with the same names live in
//! `migrations/sqlite` and `migrations/postgresql` and are embedded.

pub mod models;
pub mod schema;

use diesel::prelude::*;
use diesel::r2d2::{Pool, PooledConnection};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

mod connection {
    // The derive generates undocumented public items.
    #![allow(missing_docs)]

    /// A connection to either backend.
    #[derive(diesel::MultiConnection)]
    pub enum DbConnection {
        /// PostgreSQL.
        Pg(diesel::PgConnection),
        /// SQLite.
        Sqlite(diesel::SqliteConnection),
    }
}
pub use connection::DbConnection;

const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
const PG_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgresql");

/// A pool of connections.
pub type DbPool = Pool<Manager>;
/// One pooled connection.
pub type PooledConn = PooledConnection<Manager>;

/// How long a request waits for a database connection before it is told
/// the database is unavailable (a PostgreSQL outage answers fast, not after
/// r2d2's default 30 s).
pub const CONNECTION_TIMEOUT: std::time::Duration = std::time::Duration::from_millis(1500);

/// Opens connections for the backend the URL names, and only that one.
/// (diesel's generic manager tries every backend of the multi-connection in
/// turn, so a PostgreSQL outage surfaced as "Invalid connection url for
/// multiconnection"; this one reports PostgreSQL's own error.)
#[derive(Debug)]
pub struct Manager {
    url: String,
    backend: Backend,
}

impl diesel::r2d2::ManageConnection for Manager {
    type Connection = DbConnection;
    type Error = diesel::r2d2::Error;

    fn connect(&self) -> Result<DbConnection, Self::Error> {
        let conn = match self.backend {
            Backend::Postgres => {
                <diesel::PgConnection as Connection>::establish(&self.url).map(DbConnection::Pg)
            }
            Backend::Sqlite => <diesel::SqliteConnection as Connection>::establish(&self.url)
                .map(DbConnection::Sqlite),
        };
        conn.map_err(diesel::r2d2::Error::ConnectionError)
    }

    fn is_valid(&self, conn: &mut DbConnection) -> Result<(), Self::Error> {
        diesel::r2d2::R2D2Connection::ping(conn).map_err(diesel::r2d2::Error::QueryError)
    }

    fn has_broken(&self, conn: &mut DbConnection) -> bool {
        diesel::r2d2::R2D2Connection::is_broken(conn)
    }
}

/// Which backend a URL selects.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    /// PostgreSQL.
    Postgres,
    /// SQLite.
    Sqlite,
}

impl Backend {
    /// `postgres://…` and `postgresql://…` select PostgreSQL; anything else
    /// is a SQLite file path (or `sqlite://path`).
    pub fn from_url(url: &str) -> Self {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Backend::Postgres
        } else {
            Backend::Sqlite
        }
    }
}

/// Errors of the database layer.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// The pool could not be built or a connection could not be taken.
    #[error("database connection failed: {0}")]
    Pool(String),
    /// A migration failed.
    #[error("database migration failed: {0}")]
    Migration(String),
    /// A query failed.
    #[error("database error: {0}")]
    Query(#[from] diesel::result::Error),
}

/// Per-connection set-up: SQLite needs foreign keys, a busy timeout and WAL
/// for concurrent writers.
#[derive(Debug)]
struct ConnectionSetup;

impl diesel::r2d2::CustomizeConnection<DbConnection, diesel::r2d2::Error> for ConnectionSetup {
    fn on_acquire(&self, conn: &mut DbConnection) -> Result<(), diesel::r2d2::Error> {
        if let DbConnection::Sqlite(c) = conn {
            diesel::sql_query("PRAGMA busy_timeout = 10000")
                .execute(c)
                .and_then(|_| diesel::sql_query("PRAGMA synchronous = NORMAL").execute(c))
                .and_then(|_| diesel::sql_query("PRAGMA foreign_keys = ON").execute(c))
                .map_err(diesel::r2d2::Error::QueryError)?;
        }
        Ok(())
    }
}

/// Opens a pool for `url` and applies pending migrations.
pub fn connect(url: &str, max_size: u32) -> Result<DbPool, DbError> {
    let url = url.strip_prefix("sqlite://").unwrap_or(url);
    if Backend::from_url(url) == Backend::Sqlite {
        // WAL lets readers work while one writer commits. It is a property
        // of the file, so it is set once here, before the pool opens
        // several connections at the same time.
        let mut c = <diesel::SqliteConnection as diesel::Connection>::establish(url)
            .map_err(|e| DbError::Pool(e.to_string()))?;
        diesel::sql_query("PRAGMA journal_mode = WAL").execute(&mut c)?;
    }
    let manager = Manager {
        url: url.to_string(),
        backend: Backend::from_url(url),
    };
    let pool = Pool::builder()
        .max_size(max_size)
        .connection_timeout(CONNECTION_TIMEOUT)
        .connection_customizer(Box::new(ConnectionSetup))
        .build(manager)
        .map_err(|e| DbError::Pool(e.to_string()))?;
    let mut conn = pool.get().map_err(|e| DbError::Pool(e.to_string()))?;
    migrate(&mut conn)?;
    Ok(pool)
}

/// Applies pending migrations for the connection's backend.
pub fn migrate(conn: &mut DbConnection) -> Result<(), DbError> {
    let result = match conn {
        DbConnection::Pg(c) => c.run_pending_migrations(PG_MIGRATIONS).map(|_| ()),
        DbConnection::Sqlite(c) => c.run_pending_migrations(SQLITE_MIGRATIONS).map(|_| ()),
    };
    result.map_err(|e| DbError::Migration(e.to_string()))
}

/// Whether migrations are waiting to be applied (readiness: a registry
/// whose database is behind its code is not ready).
pub fn pending_migrations(conn: &mut DbConnection) -> Result<bool, DbError> {
    let result = match conn {
        DbConnection::Pg(c) => c.has_pending_migration(PG_MIGRATIONS),
        DbConnection::Sqlite(c) => c.has_pending_migration(SQLITE_MIGRATIONS),
    };
    result.map_err(|e| DbError::Migration(e.to_string()))
}

/// The backend of a live connection.
pub fn backend_of(conn: &DbConnection) -> Backend {
    match conn {
        DbConnection::Pg(_) => Backend::Postgres,
        DbConnection::Sqlite(_) => Backend::Sqlite,
    }
}
