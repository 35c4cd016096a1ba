//! Retire, never delete (issue 11, item 3): a retired certificate leaves
//! the trust bundle from the next serial, and with it every image whose
//! evidence needed it leaves the allowlists (its receipts are judged again
//! and withdrawn); the row stays, marked with when, why and by whom, and the
//! audit log holds the change. Retiring runs the brick check.
//!
//! Certificates first; components, Sigstore identities and keys, trusted
//! roots and TSA anchors are to follow the same pattern (see the issue
//! notes).

use super::audit;
use super::brick::BrickGuard;
use super::{Actor, Conn, ServiceError, ServiceResult};
use crate::auth::Role;
use diesel::prelude::*;
use inspector::cert::ParsedCert;
use inspector::policy::RevokedTarget;
use schema::models::Certificate;
use schema::schema::certificates;
use serde::Deserialize;
use utoipa::ToSchema;

/// Who may retire: those who register (procurement) and those who decide
/// what devices trust (security).
const RETIRERS: &[Role] = &[Role::Admin, Role::Procurement, Role::Security];

/// Retire a record.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"reason": "registered for the wrong vendor"}))]
pub struct RetirementRequest {
    /// Why (1-1000 characters); kept with the record and on the audit log.
    pub reason: String,
    /// Apply even if the brick check finds products left unbootable.
    #[serde(default)]
    pub confirm_brick: bool,
}

/// Retires the certificate with row id `id`.
pub fn retire_certificate(
    c: &mut Conn,
    actor: &Actor,
    id: i64,
    body: RetirementRequest,
) -> ServiceResult<Certificate> {
    actor.require(RETIRERS, "retire certificates")?;
    if body.reason.trim().is_empty() {
        return Err(ServiceError::Invalid(
            "reason: say why it is retired".into(),
        ));
    }
    super::bounded("reason", &body.reason, 1000)?;
    super::transaction(c, |c| {
        audit::begin_change(c, true)?;
        let guard = BrickGuard::start(c)?;
        let before: Certificate = certificates::table
            .find(id)
            .select(Certificate::as_select())
            .first(c)
            .optional()?
            .ok_or_else(|| ServiceError::NotFound(format!("no certificate {id}")))?;
        if let Some(at) = before.retired_at {
            return Err(ServiceError::Conflict(format!(
                "certificate {} was already retired at {}",
                before.sha256,
                super::time_str(at)
            )));
        }
        diesel::update(certificates::table.find(id))
            .set((
                certificates::retired_at.eq(Some(crate::now_unix())),
                certificates::retired_reason.eq(Some(body.reason.clone())),
                certificates::retired_by.eq(Some(actor.label())),
            ))
            .execute(c)?;
        let after: Certificate = certificates::table
            .find(id)
            .select(Certificate::as_select())
            .first(c)?;
        audit::record(
            c,
            &actor.label(),
            "retire",
            "certificate",
            &before.sha256,
            Some(&super::certificates::view(&before)),
            Some(&super::certificates::view(&after)),
        )?;
        // Receipts whose path holds the certificate are judged again under
        // the bundle without it.
        let parsed = ParsedCert::from_der(before.der.clone()).map_err(ServiceError::internal)?;
        let counts =
            super::evidence::reevaluate(c, &[RevokedTarget::Certificate(Box::new(parsed))])?;
        super::evidence::record_reevaluation(c, actor, &before.sha256, counts)?;
        guard.check(c, body.confirm_brick)?;
        Ok(after)
    })
}
