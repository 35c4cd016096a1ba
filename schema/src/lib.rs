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
use diesel::r2d2::{ConnectionManager, Pool, PooledConnection};
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
pub type DbPool = Pool<ConnectionManager<DbConnection>>;
/// One pooled connection.
pub type PooledConn = PooledConnection<ConnectionManager<DbConnection>>;

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
    let manager = ConnectionManager::<DbConnection>::new(url);
    let pool = Pool::builder()
        .max_size(max_size)
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

/// The backend of a live connection.
pub fn backend_of(conn: &DbConnection) -> Backend {
    match conn {
        DbConnection::Pg(_) => Backend::Postgres,
        DbConnection::Sqlite(_) => Backend::Sqlite,
    }
}
