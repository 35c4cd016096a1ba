//! The brick check: a change to what devices trust (a revocation, a CRL, a
//! floor) must not leave a product's boot stage without a key it can verify,
//! or a component without an accepted image at or above its floor, unless
//! product security confirms it.
//!
//! One mechanism, two uses: [`BrickGuard`] inside the write transaction
//! (taken before the change, checked after it; a refusal rolls the whole
//! transaction back), and [`preview`], which runs the same change inside a
//! transaction it always rolls back explicitly, to show a person what the
//! change would break before they confirm.

use super::{Conn, ServiceError, ServiceResult};
use diesel::connection::{Connection, TransactionManager};
use std::collections::BTreeSet;

/// Every product problem that would stop a device from booting: a stage
/// with no trusted key, a component with no accepted image at or above
/// its floor, or an image whose evidence no longer verifies (it moves to
/// `dbx`, so devices running it stop booting it).
pub fn problems(conn: &mut Conn) -> ServiceResult<BTreeSet<String>> {
    let mut out = BTreeSet::new();
    for id in super::products::ids(conn)? {
        let a = super::products::build_with(conn, &id, false)?;
        for i in &a.revoked_images {
            let below_floor = a
                .stages
                .iter()
                .flat_map(|s| s.components.iter())
                .filter(|c| c.name == i.component)
                .filter_map(|c| c.min_version.as_deref())
                .filter_map(|f| semver::Version::parse(f).ok())
                .zip(std::iter::repeat(semver::Version::parse(&i.version).ok()))
                .any(|(f, v)| v.is_some_and(|v| inspector::verify::below_floor(&v, &f)));
            if !below_floor {
                out.insert(format!(
                    "product '{id}': image {} {} (SHA-256 {}) would move to dbx, because its signature no longer verifies",
                    i.component, i.version, i.sha256
                ));
            }
        }
        for s in &a.stages {
            if s.keys.is_empty() {
                out.insert(format!(
                    "product '{id}', stage '{}': no trusted key left that the stage can verify",
                    s.name
                ));
            }
            for c in &s.components {
                if let Some(f) = &c.min_version
                    && !s.images.iter().any(|i| i.component == c.name)
                {
                    out.insert(format!(
                        "product '{id}', stage '{}': no accepted image of '{}' at or above the floor {f}",
                        s.name, c.name
                    ));
                }
            }
        }
    }
    Ok(out)
}

/// The problems a change added, taken inside the change's transaction.
#[must_use = "a guard does nothing until `check` is called after the change"]
pub struct BrickGuard {
    before: BTreeSet<String>,
}

impl BrickGuard {
    /// Records the problems before the change.
    pub fn start(conn: &mut Conn) -> ServiceResult<Self> {
        Ok(BrickGuard {
            before: problems(conn)?,
        })
    }

    /// The problems that appeared since [`BrickGuard::start`].
    pub fn added(&self, conn: &mut Conn) -> ServiceResult<Vec<String>> {
        let after = problems(conn)?;
        Ok(after.difference(&self.before).cloned().collect())
    }

    /// Refuses (so the caller's transaction rolls back and nothing is
    /// written) when the change added problems, unless `confirmed`.
    pub fn check(self, conn: &mut Conn, confirmed: bool) -> ServiceResult<()> {
        let added = self.added(conn)?;
        if !added.is_empty() && !confirmed {
            return Err(ServiceError::Conflict(format!(
                "brick check: this change would leave {}; confirm with \"confirm_brick\": true to apply it anyway",
                added.join("; ")
            )));
        }
        Ok(())
    }
}

/// The brick problems `change` would add, without applying it: the change
/// runs in a transaction that is always rolled back (whether the change
/// succeeded or not). An error of the change itself is returned as is.
pub fn preview<T>(
    conn: &mut Conn,
    change: impl FnOnce(&mut Conn) -> ServiceResult<T>,
) -> ServiceResult<Vec<String>> {
    type Tm = <Conn as Connection>::TransactionManager;
    Tm::begin_transaction(conn)?;
    let outcome = BrickGuard::start(conn)
        .and_then(|guard| change(conn).map(|_| guard))
        .and_then(|guard| guard.added(conn));
    Tm::rollback_transaction(conn)?;
    outcome
}
