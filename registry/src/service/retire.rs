//! Retire, never delete (issue 11, item 3): a retired record leaves the
//! trust bundle from the next serial, and with it every image whose evidence
//! needed it leaves the allowlists (the receipts it could have accepted are
//! judged again and withdrawn); the row stays, marked with when, why and by
//! whom, and the audit log holds the change. Retiring runs the brick check.
//!
//! Certificates, components, Sigstore identities and keys, Sigstore trusted
//! roots and TSA anchors. Un-retiring is not offered (issue 11 makes it a
//! two-person change, not built yet).

use super::audit;
use super::brick::BrickGuard;
use super::{Actor, Conn, ServiceError, ServiceResult};
use crate::auth::Role;
use diesel::prelude::*;
use inspector::cert::ParsedCert;
use inspector::policy::RevokedTarget;
use schema::models::{
    Certificate, Component, SigstoreIdentity, SigstoreKey, SigstoreTrustedRoot, TsaAnchor,
};
use schema::schema::{
    certificates, components, sigstore_identities, sigstore_keys, sigstore_trusted_roots,
    tsa_anchors,
};
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

/// Which accepted receipts a retirement may invalidate.
enum Affected<'a> {
    /// Those with this certificate in their path.
    Path(&'a [u8]),
    /// Those of one component.
    Component(&'a str),
    /// Those of one vendor.
    Vendor(&'a str),
    /// All of them (a trusted root or a TSA serves every vendor).
    All,
}

/// What one kind of record needs for [`retire`].
struct Kind<'a, T> {
    /// Noun for messages and the permission check ("certificate").
    what: &'static str,
    /// The audit entity ("certificate", "sigstore-key", ...).
    entity: &'static str,
    /// The audit entity id.
    entity_id: &'a str,
    /// Loads the record (None: 404 with `missing`).
    load: &'a dyn Fn(&mut Conn) -> QueryResult<Option<T>>,
    missing: String,
    /// Its retired_at.
    retired_at: fn(&T) -> Option<i64>,
    /// Writes retired_at, reason, by.
    mark: &'a dyn Fn(&mut Conn, i64, &str, &str) -> QueryResult<usize>,
    /// Its API view, for the audit entry.
    view: fn(&T) -> serde_json::Value,
    /// The receipts to judge again.
    affected: fn(&T) -> Affected<'_>,
}

/// The one retirement procedure every kind shares.
fn retire<T>(
    c: &mut Conn,
    actor: &Actor,
    body: &RetirementRequest,
    kind: Kind<'_, T>,
) -> ServiceResult<T> {
    actor.require(RETIRERS, &format!("retire {}s", kind.what))?;
    if body.reason.trim().is_empty() {
        return Err(ServiceError::Invalid(
            "reason: say why it is retired".into(),
        ));
    }
    super::bounded("reason", &body.reason, 1000)?;
    super::transaction(c, |c| {
        audit::begin_change(c, true)?;
        let guard = BrickGuard::start(c)?;
        let before = (kind.load)(c)?.ok_or_else(|| ServiceError::NotFound(kind.missing.clone()))?;
        if let Some(at) = (kind.retired_at)(&before) {
            return Err(ServiceError::Conflict(format!(
                "{} {} was already retired at {}",
                kind.what,
                kind.entity_id,
                super::time_str(at)
            )));
        }
        (kind.mark)(c, crate::now_unix(), &body.reason, &actor.label())?;
        let after = (kind.load)(c)?.ok_or_else(|| ServiceError::NotFound(kind.missing.clone()))?;
        audit::record(
            c,
            &actor.label(),
            "retire",
            kind.entity,
            kind.entity_id,
            Some(&(kind.view)(&before)),
            Some(&(kind.view)(&after)),
        )?;
        let counts = match (kind.affected)(&before) {
            Affected::Path(der) => {
                let cert = ParsedCert::from_der(der.to_vec()).map_err(ServiceError::internal)?;
                super::evidence::reevaluate(c, &[RevokedTarget::Certificate(Box::new(cert))])?
            }
            Affected::Component(name) => super::evidence::reevaluate_accepted(c, None, Some(name))?,
            Affected::Vendor(v) => super::evidence::reevaluate_accepted(c, Some(v), None)?,
            Affected::All => super::evidence::reevaluate_accepted(c, None, None)?,
        };
        super::evidence::record_reevaluation(c, actor, kind.entity_id, counts)?;
        guard.check(c, body.confirm_brick)?;
        Ok(after)
    })
}

fn json<V: serde::Serialize>(v: V) -> serde_json::Value {
    serde_json::to_value(v).unwrap_or_default()
}

/// Retires the certificate with row id `id`: the receipts with it in their
/// path are judged again.
pub fn retire_certificate(
    c: &mut Conn,
    actor: &Actor,
    id: i64,
    body: RetirementRequest,
) -> ServiceResult<Certificate> {
    let key = id.to_string();
    retire(
        c,
        actor,
        &body,
        Kind {
            what: "certificate",
            entity: "certificate",
            entity_id: &key,
            load: &|c| {
                certificates::table
                    .find(id)
                    .select(Certificate::as_select())
                    .first(c)
                    .optional()
            },
            missing: format!("no certificate {id}"),
            retired_at: |r| r.retired_at,
            mark: &|c, at, why, by| {
                diesel::update(certificates::table.find(id))
                    .set((
                        certificates::retired_at.eq(Some(at)),
                        certificates::retired_reason.eq(Some(why)),
                        certificates::retired_by.eq(Some(by)),
                    ))
                    .execute(c)
            },
            view: |r| json(super::certificates::view(r)),
            affected: |r| Affected::Path(&r.der),
        },
    )
}

/// Retires a component: it leaves the bundle, so its images' receipts no
/// longer verify (no vendor supplies it) and are withdrawn; products whose
/// boot stages load it fail the brick check. A retired component takes no
/// more changes.
pub fn retire_component(
    c: &mut Conn,
    actor: &Actor,
    name: &str,
    body: RetirementRequest,
) -> ServiceResult<Component> {
    retire(
        c,
        actor,
        &body,
        Kind {
            what: "component",
            entity: "component",
            entity_id: name,
            load: &|c| {
                components::table
                    .find(name)
                    .select(Component::as_select())
                    .first(c)
                    .optional()
            },
            missing: format!("no component '{name}'"),
            retired_at: |r| r.retired_at,
            mark: &|c, at, why, by| {
                diesel::update(components::table.find(name))
                    .set((
                        components::retired_at.eq(Some(at)),
                        components::retired_reason.eq(Some(why)),
                        components::retired_by.eq(Some(by)),
                        components::row_version.eq(components::row_version + 1),
                    ))
                    .execute(c)
            },
            view: |r| json(super::components::view(r)),
            affected: |r| Affected::Component(&r.name),
        },
    )
}

/// Retires a vendor's Sigstore identity (a wrong or too-broad pattern).
/// Unlike a revocation it has no date: the identity was never meant to be
/// trusted.
pub fn retire_sigstore_identity(
    c: &mut Conn,
    actor: &Actor,
    vendor: &str,
    id: i64,
    body: RetirementRequest,
) -> ServiceResult<SigstoreIdentity> {
    let key = id.to_string();
    retire(
        c,
        actor,
        &body,
        Kind {
            what: "Sigstore identity",
            entity: "sigstore-identity",
            entity_id: &key,
            load: &|c| {
                sigstore_identities::table
                    .find(id)
                    .filter(sigstore_identities::vendor_id.eq(vendor))
                    .select(SigstoreIdentity::as_select())
                    .first(c)
                    .optional()
            },
            missing: format!("vendor '{vendor}' has no Sigstore identity {id}"),
            retired_at: |r| r.retired_at,
            mark: &|c, at, why, by| {
                diesel::update(sigstore_identities::table.find(id))
                    .set((
                        sigstore_identities::retired_at.eq(Some(at)),
                        sigstore_identities::retired_reason.eq(Some(why)),
                        sigstore_identities::retired_by.eq(Some(by)),
                    ))
                    .execute(c)
            },
            view: |r| json(super::sigstore::identity_view(r)),
            affected: |r| Affected::Vendor(&r.vendor_id),
        },
    )
}

/// Retires a vendor's Sigstore public key (keyed bundles).
pub fn retire_sigstore_key(
    c: &mut Conn,
    actor: &Actor,
    vendor: &str,
    id: i64,
    body: RetirementRequest,
) -> ServiceResult<SigstoreKey> {
    let key = id.to_string();
    retire(
        c,
        actor,
        &body,
        Kind {
            what: "Sigstore key",
            entity: "sigstore-key",
            entity_id: &key,
            load: &|c| {
                sigstore_keys::table
                    .find(id)
                    .filter(sigstore_keys::vendor_id.eq(vendor))
                    .select(SigstoreKey::as_select())
                    .first(c)
                    .optional()
            },
            missing: format!("vendor '{vendor}' has no Sigstore key {id}"),
            retired_at: |r| r.retired_at,
            mark: &|c, at, why, by| {
                diesel::update(sigstore_keys::table.find(id))
                    .set((
                        sigstore_keys::retired_at.eq(Some(at)),
                        sigstore_keys::retired_reason.eq(Some(why)),
                        sigstore_keys::retired_by.eq(Some(by)),
                    ))
                    .execute(c)
            },
            view: |r| json(super::sigstore::key_view(r.clone())),
            affected: |r| Affected::Vendor(&r.vendor_id),
        },
    )
}

/// Retires a Sigstore trusted root: every vendor's receipts are judged
/// again (a root serves them all).
pub fn retire_trusted_root(
    c: &mut Conn,
    actor: &Actor,
    name: &str,
    body: RetirementRequest,
) -> ServiceResult<SigstoreTrustedRoot> {
    retire(
        c,
        actor,
        &body,
        Kind {
            what: "Sigstore trusted root",
            entity: "sigstore-trusted-root",
            entity_id: name,
            load: &|c| {
                sigstore_trusted_roots::table
                    .find(name)
                    .select(SigstoreTrustedRoot::as_select())
                    .first(c)
                    .optional()
            },
            missing: format!("no Sigstore trusted root '{name}'"),
            retired_at: |r| r.retired_at,
            mark: &|c, at, why, by| {
                diesel::update(sigstore_trusted_roots::table.find(name))
                    .set((
                        sigstore_trusted_roots::retired_at.eq(Some(at)),
                        sigstore_trusted_roots::retired_reason.eq(Some(why)),
                        sigstore_trusted_roots::retired_by.eq(Some(by)),
                    ))
                    .execute(c)
            },
            view: |r| json(super::sigstore::root_view(r.clone())),
            affected: |_| Affected::All,
        },
    )
}

/// Retires a TSA anchor: its timestamps prove nothing from the next
/// serial, so every receipt is judged again (a signature whose certificate
/// has since expired needed that timestamp).
pub fn retire_tsa_anchor(
    c: &mut Conn,
    actor: &Actor,
    id: i64,
    body: RetirementRequest,
) -> ServiceResult<TsaAnchor> {
    let key = id.to_string();
    retire(
        c,
        actor,
        &body,
        Kind {
            what: "TSA anchor",
            entity: "tsa-anchor",
            entity_id: &key,
            load: &|c| {
                tsa_anchors::table
                    .find(id)
                    .select(TsaAnchor::as_select())
                    .first(c)
                    .optional()
            },
            missing: format!("no TSA anchor {id}"),
            retired_at: |r| r.retired_at,
            mark: &|c, at, why, by| {
                diesel::update(tsa_anchors::table.find(id))
                    .set((
                        tsa_anchors::retired_at.eq(Some(at)),
                        tsa_anchors::retired_reason.eq(Some(why)),
                        tsa_anchors::retired_by.eq(Some(by)),
                    ))
                    .execute(c)
            },
            view: |r| json(super::tsa::view(r)),
            affected: |_| Affected::All,
        },
    )
}
