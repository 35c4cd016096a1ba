//! Retire, never delete (issue 11, item 3): a retired record leaves the
//! trust bundle from the next serial, and with it every image whose evidence
//! needed it leaves the allowlists (the receipts it could have accepted are
//! judged again and withdrawn); the row stays, marked with when, why and by
//! whom, and the audit log holds the change. Retiring runs the brick check.
//!
//! Certificates, components, Sigstore identities and keys, Sigstore trusted
//! roots and TSA anchors. Un-retiring puts a record back (same roles, a
//! reason, audited); it widens trust, so it is one of the changes that need
//! a second person's approval (`service::approvals`). Receipts withdrawn by
//! the retirement stay withdrawn: new evidence is needed.

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
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Who may retire: those who register (procurement) and those who decide
/// what devices trust (security).
pub const RETIRERS: &[Role] = &[Role::Admin, Role::Procurement, Role::Security];

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

/// Sets (Some: when, why, by) or clears (None) a record's retirement.
type Mark<'a> = Box<dyn Fn(&mut Conn, Option<(i64, &str, &str)>) -> QueryResult<usize> + 'a>;

/// Loads a record (None: it does not exist).
type Load<'a, T> = Box<dyn Fn(&mut Conn) -> QueryResult<Option<T>> + 'a>;

/// What one kind of record needs for [`retire`] and [`unretire`].
struct Kind<'a, T> {
    /// Noun for messages and the permission check ("certificate").
    what: &'static str,
    /// The audit entity ("certificate", "sigstore-key", ...).
    entity: &'static str,
    /// The audit entity id.
    entity_id: String,
    /// Loads the record (None: 404 with `missing`).
    load: Load<'a, T>,
    missing: String,
    /// Its retired_at.
    retired_at: fn(&T) -> Option<i64>,
    /// Writes or clears retired_at, reason, by.
    mark: Mark<'a>,
    /// Its API view, for the audit entry.
    view: fn(&T) -> serde_json::Value,
    /// The receipts to judge again.
    affected: fn(&T) -> Affected<'_>,
}

fn check_reason(reason: &str) -> ServiceResult<()> {
    if reason.trim().is_empty() {
        return Err(ServiceError::Invalid("reason: say why".into()));
    }
    super::bounded("reason", reason, 1000)
}

/// The one retirement procedure every kind shares.
fn retire<T>(
    c: &mut Conn,
    actor: &Actor,
    body: &RetirementRequest,
    kind: Kind<'_, T>,
) -> ServiceResult<T> {
    actor.require(RETIRERS, &format!("retire {}s", kind.what))?;
    check_reason(&body.reason)?;
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
        (kind.mark)(c, Some((crate::now_unix(), &body.reason, &actor.label())))?;
        let after = (kind.load)(c)?.ok_or_else(|| ServiceError::NotFound(kind.missing.clone()))?;
        audit::record(
            c,
            &actor.label(),
            "retire",
            kind.entity,
            &kind.entity_id,
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
        super::evidence::record_reevaluation(c, actor, &kind.entity_id, counts)?;
        guard.check(c, body.confirm_brick)?;
        Ok(after)
    })
}

/// Puts a retired record back (in the bundle from the next serial),
/// audited with the reason. Nothing is re-evaluated: un-retiring only
/// widens trust, and withdrawn receipts need new evidence.
fn unretire<T>(c: &mut Conn, actor: &Actor, reason: &str, kind: Kind<'_, T>) -> ServiceResult<T> {
    actor.require(RETIRERS, &format!("un-retire {}s", kind.what))?;
    check_reason(reason)?;
    super::transaction(c, |c| {
        audit::begin_change(c, true)?;
        let before = (kind.load)(c)?.ok_or_else(|| ServiceError::NotFound(kind.missing.clone()))?;
        if (kind.retired_at)(&before).is_none() {
            return Err(ServiceError::Conflict(format!(
                "{} {} is not retired",
                kind.what, kind.entity_id
            )));
        }
        (kind.mark)(c, None)?;
        let after = (kind.load)(c)?.ok_or_else(|| ServiceError::NotFound(kind.missing.clone()))?;
        audit::record(
            c,
            &actor.label(),
            "unretire",
            kind.entity,
            &kind.entity_id,
            Some(&(kind.view)(&before)),
            Some(&serde_json::json!({"record": (kind.view)(&after), "reason": reason})),
        )?;
        Ok(after)
    })
}

fn json<V: serde::Serialize>(v: V) -> serde_json::Value {
    serde_json::to_value(v).unwrap_or_default()
}

/// Sets or clears the three retirement columns of one row of `$table`
/// selected by `$filter`.
macro_rules! mark {
    ($table:ident, $filter:expr) => {
        Box::new(move |c: &mut Conn, m: Option<(i64, &str, &str)>| {
            diesel::update($filter)
                .set((
                    $table::retired_at.eq(m.map(|m| m.0)),
                    $table::retired_reason.eq(m.map(|m| m.1)),
                    $table::retired_by.eq(m.map(|m| m.2)),
                ))
                .execute(c)
        })
    };
}

fn certificate_kind<'a>(id: i64) -> Kind<'a, Certificate> {
    Kind {
        what: "certificate",
        entity: "certificate",
        entity_id: id.to_string(),
        load: Box::new(move |c| {
            certificates::table
                .find(id)
                .select(Certificate::as_select())
                .first(c)
                .optional()
        }),
        missing: format!("no certificate {id}"),
        retired_at: |r| r.retired_at,
        mark: mark!(certificates, certificates::table.find(id)),
        view: |r| json(super::certificates::view(r)),
        affected: |r| Affected::Path(&r.der),
    }
}

fn component_kind(name: &str) -> Kind<'_, Component> {
    Kind {
        what: "component",
        entity: "component",
        entity_id: name.to_string(),
        load: Box::new(move |c| {
            components::table
                .find(name)
                .select(Component::as_select())
                .first(c)
                .optional()
        }),
        missing: format!("no component '{name}'"),
        retired_at: |r| r.retired_at,
        // The row version moves too: a retired component's ETag changes.
        mark: Box::new(move |c, m| {
            diesel::update(components::table.find(name))
                .set((
                    components::retired_at.eq(m.map(|m| m.0)),
                    components::retired_reason.eq(m.map(|m| m.1)),
                    components::retired_by.eq(m.map(|m| m.2)),
                    components::row_version.eq(components::row_version + 1),
                ))
                .execute(c)
        }),
        view: |r| json(super::components::view(r)),
        affected: |r| Affected::Component(&r.name),
    }
}

fn identity_kind(vendor: &str, id: i64) -> Kind<'_, SigstoreIdentity> {
    Kind {
        what: "Sigstore identity",
        entity: "sigstore-identity",
        entity_id: id.to_string(),
        load: Box::new(move |c| {
            sigstore_identities::table
                .find(id)
                .filter(sigstore_identities::vendor_id.eq(vendor))
                .select(SigstoreIdentity::as_select())
                .first(c)
                .optional()
        }),
        missing: format!("vendor '{vendor}' has no Sigstore identity {id}"),
        retired_at: |r| r.retired_at,
        mark: mark!(sigstore_identities, sigstore_identities::table.find(id)),
        view: |r| json(super::sigstore::identity_view(r)),
        affected: |r| Affected::Vendor(&r.vendor_id),
    }
}

fn key_kind(vendor: &str, id: i64) -> Kind<'_, SigstoreKey> {
    Kind {
        what: "Sigstore key",
        entity: "sigstore-key",
        entity_id: id.to_string(),
        load: Box::new(move |c| {
            sigstore_keys::table
                .find(id)
                .filter(sigstore_keys::vendor_id.eq(vendor))
                .select(SigstoreKey::as_select())
                .first(c)
                .optional()
        }),
        missing: format!("vendor '{vendor}' has no Sigstore key {id}"),
        retired_at: |r| r.retired_at,
        mark: mark!(sigstore_keys, sigstore_keys::table.find(id)),
        view: |r| json(super::sigstore::key_view(r.clone())),
        affected: |r| Affected::Vendor(&r.vendor_id),
    }
}

fn root_kind(name: &str) -> Kind<'_, SigstoreTrustedRoot> {
    Kind {
        what: "Sigstore trusted root",
        entity: "sigstore-trusted-root",
        entity_id: name.to_string(),
        load: Box::new(move |c| {
            sigstore_trusted_roots::table
                .find(name)
                .select(SigstoreTrustedRoot::as_select())
                .first(c)
                .optional()
        }),
        missing: format!("no Sigstore trusted root '{name}'"),
        retired_at: |r| r.retired_at,
        mark: mark!(
            sigstore_trusted_roots,
            sigstore_trusted_roots::table.find(name)
        ),
        view: |r| json(super::sigstore::root_view(r.clone())),
        affected: |_| Affected::All,
    }
}

fn tsa_kind<'a>(id: i64) -> Kind<'a, TsaAnchor> {
    Kind {
        what: "TSA anchor",
        entity: "tsa-anchor",
        entity_id: id.to_string(),
        load: Box::new(move |c| {
            tsa_anchors::table
                .find(id)
                .select(TsaAnchor::as_select())
                .first(c)
                .optional()
        }),
        missing: format!("no TSA anchor {id}"),
        retired_at: |r| r.retired_at,
        mark: mark!(tsa_anchors, tsa_anchors::table.find(id)),
        view: |r| json(super::tsa::view(r)),
        affected: |_| Affected::All,
    }
}

/// Retires the certificate with row id `id`: the receipts with it in their
/// path are judged again.
pub fn retire_certificate(
    c: &mut Conn,
    actor: &Actor,
    id: i64,
    body: RetirementRequest,
) -> ServiceResult<Certificate> {
    retire(c, actor, &body, certificate_kind(id))
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
    retire(c, actor, &body, component_kind(name))
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
    retire(c, actor, &body, identity_kind(vendor, id))
}

/// Retires a vendor's Sigstore public key (keyed bundles).
pub fn retire_sigstore_key(
    c: &mut Conn,
    actor: &Actor,
    vendor: &str,
    id: i64,
    body: RetirementRequest,
) -> ServiceResult<SigstoreKey> {
    retire(c, actor, &body, key_kind(vendor, id))
}

/// Retires a Sigstore trusted root: every vendor's receipts are judged
/// again (a root serves them all).
pub fn retire_trusted_root(
    c: &mut Conn,
    actor: &Actor,
    name: &str,
    body: RetirementRequest,
) -> ServiceResult<SigstoreTrustedRoot> {
    retire(c, actor, &body, root_kind(name))
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
    retire(c, actor, &body, tsa_kind(id))
}

/// A retired record to put back.
#[derive(Serialize, Deserialize, ToSchema, Clone, Debug, PartialEq)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
pub enum RetiredRecord {
    /// A certificate, by row id.
    Certificate {
        /// Row id.
        id: i64,
    },
    /// A component, by name.
    Component {
        /// Name.
        name: String,
    },
    /// A vendor's Sigstore identity.
    SigstoreIdentity {
        /// Vendor id.
        vendor: String,
        /// Row id.
        id: i64,
    },
    /// A vendor's Sigstore key.
    SigstoreKey {
        /// Vendor id.
        vendor: String,
        /// Row id.
        id: i64,
    },
    /// A Sigstore trusted root, by name.
    SigstoreTrustedRoot {
        /// Name.
        name: String,
    },
    /// A TSA anchor, by row id.
    TsaAnchor {
        /// Row id.
        id: i64,
    },
}

impl RetiredRecord {
    /// "certificate 12", "component 'acme-wifi-fw'", ...
    pub fn describe(&self) -> String {
        match self {
            RetiredRecord::Certificate { id } => format!("certificate {id}"),
            RetiredRecord::Component { name } => format!("component '{name}'"),
            RetiredRecord::SigstoreIdentity { vendor, id } => {
                format!("Sigstore identity {id} of vendor '{vendor}'")
            }
            RetiredRecord::SigstoreKey { vendor, id } => {
                format!("Sigstore key {id} of vendor '{vendor}'")
            }
            RetiredRecord::SigstoreTrustedRoot { name } => {
                format!("Sigstore trusted root '{name}'")
            }
            RetiredRecord::TsaAnchor { id } => format!("TSA anchor {id}"),
        }
    }
}

/// Un-retires a record (the change itself; `service::approvals` decides
/// when it may run). Returns the record's API view.
pub fn unretire_record(
    c: &mut Conn,
    actor: &Actor,
    record: &RetiredRecord,
    reason: &str,
) -> ServiceResult<serde_json::Value> {
    match record {
        RetiredRecord::Certificate { id } => unretired(c, actor, reason, certificate_kind(*id)),
        RetiredRecord::Component { name } => unretired(c, actor, reason, component_kind(name)),
        RetiredRecord::SigstoreIdentity { vendor, id } => {
            unretired(c, actor, reason, identity_kind(vendor, *id))
        }
        RetiredRecord::SigstoreKey { vendor, id } => {
            unretired(c, actor, reason, key_kind(vendor, *id))
        }
        RetiredRecord::SigstoreTrustedRoot { name } => unretired(c, actor, reason, root_kind(name)),
        RetiredRecord::TsaAnchor { id } => unretired(c, actor, reason, tsa_kind(*id)),
    }
}

/// [`unretire`], answering with the record's API view.
fn unretired<T>(
    c: &mut Conn,
    actor: &Actor,
    reason: &str,
    kind: Kind<'_, T>,
) -> ServiceResult<serde_json::Value> {
    let view = kind.view;
    Ok(view(&unretire(c, actor, reason, kind)?))
}
