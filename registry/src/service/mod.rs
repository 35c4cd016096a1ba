//! The service layer: every operation of the registry, once.
//!
//! Each operation is one function shaped like
//! `fn op(conn, actor: &Actor, input) -> Result<Output, ServiceError>`: it
//! checks the actor's role, validates, opens the transaction, writes the
//! change with its audit entry and trust-bundle serial bump, and runs the
//! brick check where one applies. The JSON API (`api/`), the pages (`ui/`)
//! and the `tollgate-registry` command-line tasks are adapters that parse
//! input, call one of these functions and render the result.
//!
//! Architecture invariant: only this module (and the `schema` crate) names
//! database tables. A test (`registry/tests/layers.rs`) fails when a file
//! under `registry/src/api` or `registry/src/ui` does.

pub mod approvals;
pub mod audit;
pub mod brick;
pub mod bundle;
pub mod certificates;
pub mod components;
pub mod cra;
pub mod evidence;
pub mod health;
pub mod overview;
pub mod products;
pub mod receipts;
pub mod releases;
pub mod retire;
pub mod revocation_status;
pub mod revocations;
pub mod sbom;
pub mod sboms;
pub mod sessions;
pub mod sigstore;
pub mod stations;
pub mod throttle;
pub mod tokens;
pub mod tsa;
pub mod users;
pub mod vendors;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A database connection (SQLite or PostgreSQL).
pub type Conn = schema::DbConnection;

/// The result of an operation.
pub type ServiceResult<T> = Result<T, ServiceError>;

/// Why an operation did not happen. `crate::error` alone maps these to
/// HTTP statuses; the pages turn them into a message on the page.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// The input is not acceptable; the message names the field.
    #[error("{0}")]
    Invalid(String),
    /// The actor's role may not do this.
    #[error("{0}")]
    Forbidden(String),
    /// No such record.
    #[error("{0}")]
    NotFound(String),
    /// Already exists, or conflicts with the current state (including a
    /// change the brick check refused).
    #[error("{0}")]
    Conflict(String),
    /// The record changed since the caller read it (optimistic locking).
    #[error("{0}")]
    Stale(String),
    /// The database cannot be reached now (an outage); retry later.
    #[error("the database is unavailable; try again shortly")]
    Unavailable(String),
    /// Anything else. The message is logged, never shown.
    #[error("internal error")]
    Internal(String),
}

impl ServiceError {
    /// The database is unreachable (logged once, here, with the driver's
    /// own words).
    pub fn unavailable(e: impl std::fmt::Display) -> Self {
        let msg = e.to_string();
        tracing::error!(error = %msg, "the database is unreachable");
        ServiceError::Unavailable(msg)
    }

    /// Wraps an internal failure (logged once, here).
    pub fn internal(e: impl std::fmt::Display) -> Self {
        let msg = e.to_string();
        tracing::error!(error = %msg, "operation failed with an internal error");
        ServiceError::Internal(msg)
    }
}

impl From<crate::allowlist::StageError> for ServiceError {
    fn from(e: crate::allowlist::StageError) -> Self {
        ServiceError::Invalid(e.0)
    }
}

impl From<diesel::result::Error> for ServiceError {
    fn from(e: diesel::result::Error) -> Self {
        use diesel::result::{DatabaseErrorKind, Error};
        match e {
            Error::NotFound => ServiceError::NotFound("no such record".into()),
            Error::DatabaseError(DatabaseErrorKind::UniqueViolation, _) => {
                ServiceError::Conflict("a record with this identity already exists".into())
            }
            Error::DatabaseError(DatabaseErrorKind::ForeignKeyViolation, _) => {
                ServiceError::Conflict("the record refers to something that does not exist".into())
            }
            Error::DatabaseError(
                DatabaseErrorKind::ClosedConnection | DatabaseErrorKind::UnableToSendCommand,
                info,
            ) => ServiceError::unavailable(info.message()),
            e @ Error::BrokenTransactionManager => ServiceError::unavailable(e),
            other => ServiceError::internal(other),
        }
    }
}

/// The roles of the registry.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Everything, including tokens and users.
    Admin,
    /// Vendors, certificates, components, contract terms.
    Procurement,
    /// Floors, revocations, TSA anchors, Sigstore trust, products.
    Security,
    /// Records inspection receipts; reads.
    Inspector,
    /// Reads everything, changes nothing.
    Auditor,
}

impl Role {
    /// The stored and displayed name.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Procurement => "procurement",
            Role::Security => "security",
            Role::Inspector => "inspector",
            Role::Auditor => "auditor",
        }
    }

    /// Parses a stored name.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "admin" => Role::Admin,
            "procurement" => Role::Procurement,
            "security" => Role::Security,
            "inspector" => Role::Inspector,
            "auditor" => Role::Auditor,
            _ => return None,
        })
    }

    /// A role read back from the database: an unknown one is an internal
    /// error (only this layer writes roles).
    pub fn stored(s: &str) -> ServiceResult<Self> {
        Role::parse(s).ok_or_else(|| ServiceError::internal(format!("unknown role '{s}' stored")))
    }

    /// Every role.
    pub const ALL: [Role; 5] = [
        Role::Admin,
        Role::Procurement,
        Role::Security,
        Role::Inspector,
        Role::Auditor,
    ];
}

/// Roles that may read the registry's records.
pub const READERS: &[Role] = &[
    Role::Admin,
    Role::Procurement,
    Role::Security,
    Role::Auditor,
    Role::Inspector,
];
/// Roles that record vendors, certificates and components.
pub const PROCUREMENT: &[Role] = &[Role::Admin, Role::Procurement];
/// Roles that change what devices trust (floors, revocations, TSAs,
/// Sigstore trust, products).
pub const SECURITY: &[Role] = &[Role::Admin, Role::Security];
/// Roles that record inspection receipts.
pub const INSPECTION: &[Role] = &[Role::Admin, Role::Inspector];
/// Administration (tokens, users).
pub const ADMIN: &[Role] = &[Role::Admin];

/// Where a request came from (it shapes the audit label only).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Channel {
    /// A bearer token on the API.
    Api,
    /// A signed-in browser session.
    Web,
    /// The `tollgate-registry` command line on the registry's own machine.
    Local,
}

/// Who asks for an operation.
#[derive(Clone, Debug)]
pub struct Actor {
    /// Token name, user name, or the local operator's description.
    pub name: String,
    /// The role that decides what may be done.
    pub role: Role,
    /// API, page or command line.
    pub channel: Channel,
    /// The API token's id (API callers only): station keys are bound to it.
    pub token: Option<i64>,
}

impl Actor {
    /// A caller of the API.
    pub fn api(name: impl Into<String>, role: Role) -> Self {
        Actor {
            name: name.into(),
            role,
            channel: Channel::Api,
            token: None,
        }
    }

    /// A signed-in page user.
    pub fn web(name: impl Into<String>, role: Role) -> Self {
        Actor {
            name: name.into(),
            role,
            channel: Channel::Web,
            token: None,
        }
    }

    /// The operator running `tollgate-registry` on the registry's machine
    /// (full authority: they can read the database and the key anyway).
    pub fn local(user: &str) -> Self {
        Actor {
            name: format!("local operator ({user})"),
            role: Role::Admin,
            channel: Channel::Local,
            token: None,
        }
    }

    /// Whether the role is one of `roles`.
    pub fn can(&self, roles: &[Role]) -> bool {
        roles.contains(&self.role)
    }

    /// Refuses an operation the role may not perform.
    pub fn require(&self, roles: &[Role], action: &str) -> ServiceResult<()> {
        if self.can(roles) {
            Ok(())
        } else {
            let allowed: Vec<&str> = roles.iter().map(|r| r.as_str()).collect();
            Err(ServiceError::Forbidden(format!(
                "role '{}' may not {action} (allowed: {})",
                self.role.as_str(),
                allowed.join(", ")
            )))
        }
    }

    /// How the audit log names this actor.
    pub fn label(&self) -> String {
        match self.channel {
            Channel::Api => format!("{} ({})", self.name, self.role.as_str()),
            Channel::Web => format!("{} ({}, web)", self.name, self.role.as_str()),
            Channel::Local => self.name.clone(),
        }
    }
}

/// Unix seconds to RFC 3339.
pub fn time_str(t: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(t)
        .map(inspector::cert::rfc3339)
        .unwrap_or_default()
}

/// Parses an RFC 3339 time field.
pub fn parse_time(field: &str, s: &str) -> ServiceResult<i64> {
    time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339)
        .map(|t| t.unix_timestamp())
        .map_err(|e| ServiceError::Invalid(format!("{field}: '{s}' is not an RFC 3339 time: {e}")))
}

/// Runs `f` in one transaction.
pub fn transaction<T>(
    conn: &mut Conn,
    f: impl FnOnce(&mut Conn) -> ServiceResult<T>,
) -> ServiceResult<T> {
    diesel::Connection::transaction(conn, f)
}

/// Refuses a stored string over `max` bytes or with a control character
/// (NUL included: PostgreSQL cannot store it and SQLite would), naming the
/// field.
pub fn bounded(field: &str, s: &str, max: usize) -> ServiceResult<()> {
    if s.len() > max {
        return Err(ServiceError::Invalid(format!(
            "{field} is {} bytes long; at most {max} are accepted",
            s.len()
        )));
    }
    if s.chars()
        .any(|ch| ch.is_control() && ch != '\n' && ch != '\t')
    {
        return Err(ServiceError::Invalid(format!(
            "{field} contains a control character"
        )));
    }
    Ok(())
}

/// A page of a newest-first list: at most `limit` rows, and either rows
/// with an id below `before` (keyset paging: stable while new rows
/// arrive) or after skipping `offset` rows.
#[derive(Clone, Copy, Debug)]
pub struct PageRequest {
    /// Rows per page (1-1000).
    pub limit: i64,
    /// Only rows whose id is below this.
    pub before: Option<i64>,
    /// Rows to skip (API compatibility; keyset paging is preferred).
    pub offset: i64,
}

impl PageRequest {
    /// A page of `limit` (clamped to 1-1000), defaulting to 100.
    pub fn new(limit: Option<i64>, before: Option<i64>, offset: Option<i64>) -> Self {
        PageRequest {
            limit: limit.unwrap_or(100).clamp(1, 1000),
            before,
            offset: offset.unwrap_or(0).max(0),
        }
    }
}

/// One CSV record: every field quoted, quotes doubled; a field a
/// spreadsheet would run as a formula (`= + - @` first) is prefixed with
/// `'` (OWASP's CSV-injection advice).
pub fn csv_line(fields: &[String]) -> String {
    let cells: Vec<String> = fields
        .iter()
        .map(|f| {
            let f = if f.starts_with(['=', '+', '-', '@', '\t', '\r']) {
                format!("'{f}")
            } else {
                f.clone()
            };
            format!("\"{}\"", f.replace('"', "\"\""))
        })
        .collect();
    cells.join(",") + "\r\n"
}

/// Most rows in one CSV download.
pub const CSV_MAX_ROWS: i64 = 100_000;
