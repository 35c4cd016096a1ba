//! Readiness: the database answers and its schema is what this build
//! expects (no migration pending).

use super::{Conn, ServiceError, ServiceResult};

/// Ready when a connection answers and no migration is pending.
pub fn ready(c: &mut Conn) -> ServiceResult<()> {
    match schema::pending_migrations(c) {
        Ok(false) => Ok(()),
        Ok(true) => Err(ServiceError::Unavailable(
            "database migrations are pending".into(),
        )),
        Err(e) => Err(ServiceError::unavailable(e)),
    }
}
