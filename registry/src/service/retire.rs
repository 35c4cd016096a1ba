//! Retire, never delete (issue 11, item 3): a retired certificate leaves
//! the trust bundle from the next serial, and with it every image whose
//! evidence needed it leaves the allowlists (its receipts are judged again
//! and withdrawn); the row stays, marked with when, why and by whom, and the
//! audit log holds the change. Retiring runs the brick check.
//!
//! Certificates, components and Sigstore identities so far; Sigstore keys,
//! trusted roots and TSA anchors are to follow the same pattern (see the
//! issue notes).

use super::audit;
use super::brick::BrickGuard;
use super::{Actor, Conn, ServiceError, ServiceResult};
use crate::auth::Role;
use diesel::prelude::*;
use inspector::cert::ParsedCert;
use inspector::policy::RevokedTarget;
use schema::models::{Certificate, Component, SigstoreIdentity};
use schema::schema::{certificates, components, sigstore_identities};
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
    check_reason(&body)?;
    super::transaction(c, |c| {
        audit::begin_change(c, true)?;
        let guard = BrickGuard::start(c)?;
        let before: Certificate = certificates::table
            .find(id)
            .select(Certificate::as_select())
            .first(c)
            .optional()?
            .ok_or_else(|| ServiceError::NotFound(format!("no certificate {id}")))?;
        already(before.retired_at, &format!("certificate {}", before.sha256))?;
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

fn check_reason(body: &RetirementRequest) -> ServiceResult<()> {
    if body.reason.trim().is_empty() {
        return Err(ServiceError::Invalid(
            "reason: say why it is retired".into(),
        ));
    }
    super::bounded("reason", &body.reason, 1000)
}

/// Refuses to retire twice.
fn already(retired_at: Option<i64>, what: &str) -> ServiceResult<()> {
    match retired_at {
        Some(at) => Err(ServiceError::Conflict(format!(
            "{what} was already retired at {}",
            super::time_str(at)
        ))),
        None => Ok(()),
    }
}

/// Retires a component: it leaves the bundle, so its images' receipts no
/// longer verify (no vendor supplies it) and are withdrawn; products whose
/// boot stages load it fail the brick check.
pub fn retire_component(
    c: &mut Conn,
    actor: &Actor,
    name: &str,
    body: RetirementRequest,
) -> ServiceResult<Component> {
    actor.require(RETIRERS, "retire components")?;
    check_reason(&body)?;
    super::transaction(c, |c| {
        audit::begin_change(c, true)?;
        let guard = BrickGuard::start(c)?;
        let before: Component = components::table
            .find(name)
            .select(Component::as_select())
            .first(c)
            .optional()?
            .ok_or_else(|| ServiceError::NotFound(format!("no component '{name}'")))?;
        already(before.retired_at, &format!("component '{name}'"))?;
        diesel::update(components::table.find(name))
            .set((
                components::retired_at.eq(Some(crate::now_unix())),
                components::retired_reason.eq(Some(body.reason.clone())),
                components::retired_by.eq(Some(actor.label())),
                components::row_version.eq(before.row_version + 1),
            ))
            .execute(c)?;
        let after: Component = components::table
            .find(name)
            .select(Component::as_select())
            .first(c)?;
        audit::record(
            c,
            &actor.label(),
            "retire",
            "component",
            name,
            Some(&super::components::view(&before)),
            Some(&super::components::view(&after)),
        )?;
        let counts = super::evidence::reevaluate_accepted(c, None, Some(name))?;
        super::evidence::record_reevaluation(c, actor, name, counts)?;
        guard.check(c, body.confirm_brick)?;
        Ok(after)
    })
}

/// Retires a vendor's Sigstore identity (a wrong or too-broad pattern): it
/// leaves the bundle, and the vendor's receipts that only it accepted are
/// withdrawn. Unlike a revocation it has no date: the identity was never
/// meant to be trusted.
pub fn retire_sigstore_identity(
    c: &mut Conn,
    actor: &Actor,
    vendor: &str,
    id: i64,
    body: RetirementRequest,
) -> ServiceResult<SigstoreIdentity> {
    actor.require(RETIRERS, "retire Sigstore identities")?;
    check_reason(&body)?;
    super::transaction(c, |c| {
        audit::begin_change(c, true)?;
        let guard = BrickGuard::start(c)?;
        let before: SigstoreIdentity = sigstore_identities::table
            .find(id)
            .filter(sigstore_identities::vendor_id.eq(vendor))
            .select(SigstoreIdentity::as_select())
            .first(c)
            .optional()?
            .ok_or_else(|| {
                ServiceError::NotFound(format!("vendor '{vendor}' has no Sigstore identity {id}"))
            })?;
        already(before.retired_at, &format!("Sigstore identity {id}"))?;
        diesel::update(sigstore_identities::table.find(id))
            .set((
                sigstore_identities::retired_at.eq(Some(crate::now_unix())),
                sigstore_identities::retired_reason.eq(Some(body.reason.clone())),
                sigstore_identities::retired_by.eq(Some(actor.label())),
            ))
            .execute(c)?;
        let after: SigstoreIdentity = sigstore_identities::table
            .find(id)
            .select(SigstoreIdentity::as_select())
            .first(c)?;
        audit::record(
            c,
            &actor.label(),
            "retire",
            "sigstore-identity",
            vendor,
            Some(&super::sigstore::identity_view(&before)),
            Some(&super::sigstore::identity_view(&after)),
        )?;
        let counts = super::evidence::reevaluate_accepted(c, Some(vendor), None)?;
        super::evidence::record_reevaluation(c, actor, vendor, counts)?;
        guard.check(c, body.confirm_brick)?;
        Ok(after)
    })
}
