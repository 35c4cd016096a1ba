//! Components a vendor may supply, and their rollback floors.

use super::audit;
use super::brick::BrickGuard;
use super::{Actor, Conn, PROCUREMENT, READERS, SECURITY, ServiceError, ServiceResult};
use diesel::prelude::*;
use schema::models::Component;
use schema::schema::components;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Authorise a vendor for a component.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "acme-wifi-fw", "min_version": "1.5.0"}))]
pub struct ComponentRequest {
    /// Component name (unique across vendors).
    pub name: String,
    /// Initial rollback floor (semantic version).
    #[serde(default)]
    pub min_version: Option<String>,
    /// End of support for this component (RFC 3339), overriding the
    /// vendor's support period.
    #[serde(default)]
    pub support_ends: Option<String>,
}

/// Set or clear a component's RFC 4108 package identifier.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"firmware_package_oid": "1.3.6.1.4.1.32473.1.1"}))]
pub struct PackageRequest {
    /// The fwPkgID OID of this component's firmware packages; null: none.
    pub firmware_package_oid: Option<String>,
}

/// Set or clear a component's own end of support.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"support_ends": "2030-06-30T00:00:00Z"}))]
pub struct SupportRequest {
    /// End of support (RFC 3339); null: the vendor's support period applies.
    pub support_ends: Option<String>,
}

/// Change a floor.
#[derive(Serialize, Deserialize, ToSchema, Clone, Debug)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"min_version": "1.6.0"}))]
pub struct FloorRequest {
    /// The new floor (semantic version), or null to remove it.
    pub min_version: Option<String>,
    /// Why. Required when the floor goes down (or is removed).
    #[serde(default)]
    pub reason: Option<String>,
    /// Apply even if the brick check finds products left without an
    /// accepted image at or above the new floor.
    #[serde(default)]
    pub confirm_brick: bool,
}

/// A component as shown by the API.
#[derive(Serialize, Deserialize, ToSchema, Clone, Debug, PartialEq)]
pub struct ComponentView {
    /// Name.
    pub name: String,
    /// The vendor authorised to supply it.
    pub vendor_id: String,
    /// Rollback floor.
    pub min_version: Option<String>,
    /// Row version (ETag).
    pub version: i32,
    /// Who may sign it; empty: any key of the vendor (unconstrained).
    #[schema(value_type = Vec<Object>)]
    pub allowed_signers: Vec<inspector::policy::AllowedSignerDocument>,
    /// When it was retired (RFC 3339): out of the bundle, kept on record.
    #[serde(default)]
    pub retired_at: Option<String>,
    /// Why it was retired.
    #[serde(default)]
    pub retired_reason: Option<String>,
    /// Its own end of support (RFC 3339); null: the vendor's applies.
    #[serde(default)]
    pub support_ends: Option<String>,
    /// Its RFC 4108 package identifier (fwPkgID OID), if registered.
    #[serde(default)]
    pub firmware_package_oid: Option<String>,
    /// The floor its vendor signed (an accepted RFC 4108 package's stale
    /// version + 1); enforced with `min_version`, the higher one wins.
    #[serde(default)]
    pub vendor_floor: Option<String>,
}

/// Converts a row.
pub fn view(c: &Component) -> ComponentView {
    ComponentView {
        name: c.name.clone(),
        vendor_id: c.vendor_id.clone(),
        min_version: c.min_version.clone(),
        version: c.row_version,
        allowed_signers: allowed_signers(c),
        retired_at: c.retired_at.map(super::time_str),
        retired_reason: c.retired_reason.clone(),
        support_ends: c.support_ends.map(super::time_str),
        firmware_package_oid: c.firmware_package_oid.clone(),
        vendor_floor: c.vendor_floor.clone(),
    }
}

/// The floor that applies: the higher of security's `min_version` and the
/// vendor's signed floor.
pub fn effective_floor(c: &Component) -> Option<String> {
    let parse = |s: &Option<String>| s.as_deref().and_then(|v| semver::Version::parse(v).ok());
    match (parse(&c.min_version), parse(&c.vendor_floor)) {
        (Some(a), Some(b)) if b > a => c.vendor_floor.clone(),
        (None, Some(_)) => c.vendor_floor.clone(),
        _ => c.min_version.clone(),
    }
}

/// Raises a component's vendor floor to `floor` if that is higher (the
/// caller holds the audit lock; the bundle serial moves). `by` names the
/// receipt whose package signed it.
pub fn raise_vendor_floor(
    c: &mut Conn,
    by: &str,
    component: &str,
    floor: &semver::Version,
    receipt: i64,
) -> ServiceResult<bool> {
    let Some(before) = components::table
        .find(component)
        .select(Component::as_select())
        .first(c)
        .optional()?
    else {
        return Ok(false);
    };
    let current = before
        .vendor_floor
        .as_deref()
        .and_then(|v| semver::Version::parse(v).ok());
    if current.is_some_and(|cur| cur >= *floor) {
        return Ok(false);
    }
    audit::begin_change(c, true)?;
    let after = Component {
        vendor_floor: Some(floor.to_string()),
        row_version: before.row_version + 1,
        updated_at: crate::now_unix(),
        ..before.clone()
    };
    diesel::update(components::table.find(component))
        .set(&after)
        .execute(c)?;
    audit::record(
        c,
        by,
        "vendor-floor",
        "component",
        component,
        Some(&view(&before)),
        Some(
            &serde_json::json!({"vendor_floor": floor.to_string(), "receipt": receipt, "why": "an accepted RFC 4108 firmware package declared lower versions stale"}),
        ),
    )?;
    Ok(true)
}

/// A component about to change: it exists (404), is not retired (409) and
/// still has row version `expected` (412). Inside the caller's transaction.
fn for_change(c: &mut Conn, name: &str, expected: i32) -> ServiceResult<Component> {
    let before = find(c, name)?;
    not_retired(&before)?;
    if before.row_version != expected {
        return Err(ServiceError::Stale(format!(
            "component '{name}' changed since you read it (version {} now, {expected} in If-Match)",
            before.row_version
        )));
    }
    Ok(before)
}

/// Writes `after` over the row still at version `expected` (412 if a
/// concurrent change moved it).
fn write(c: &mut Conn, name: &str, expected: i32, after: &Component) -> ServiceResult<()> {
    let n = diesel::update(
        components::table
            .filter(components::name.eq(name))
            .filter(components::row_version.eq(expected)),
    )
    .set(after)
    .execute(c)?;
    if n != 1 {
        return Err(ServiceError::Stale(format!(
            "component '{name}' changed concurrently"
        )));
    }
    Ok(())
}

/// A retired component takes no more changes.
fn not_retired(c: &Component) -> ServiceResult<()> {
    match c.retired_at {
        Some(at) => Err(ServiceError::Conflict(format!(
            "component '{}' was retired at {}; it takes no more changes",
            c.name,
            super::time_str(at)
        ))),
        None => Ok(()),
    }
}

/// A component's stored allowed-signer list.
pub fn allowed_signers(c: &Component) -> Vec<inspector::policy::AllowedSignerDocument> {
    serde_json::from_str(&c.allowed_signers).unwrap_or_default()
}

/// Set who may sign a component.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SignersRequest {
    /// At most 50; each exactly one of `subject` (the signer certificate's
    /// subject, exact RDN set, e.g. `CN=Acme WiFi FW Signer, O=Acme Chips`),
    /// `spki_sha256` (64 hex digits) or `sigstore_san`. Empty: any key of
    /// the vendor may sign the component.
    #[schema(value_type = Vec<Object>)]
    pub allowed_signers: Vec<inspector::policy::AllowedSignerDocument>,
    /// Apply even if withdrawing the receipts of signers no longer allowed
    /// would leave a product unbootable (the brick check).
    #[serde(default)]
    pub confirm_brick: bool,
}

fn check_signers(list: &[inspector::policy::AllowedSignerDocument]) -> ServiceResult<()> {
    if list.len() > 50 {
        return Err(ServiceError::Invalid("allowed_signers: at most 50".into()));
    }
    for (i, a) in list.iter().enumerate() {
        let field = format!("allowed_signers[{i}]");
        match (&a.subject, &a.spki_sha256, &a.sigstore_san) {
            (Some(s), None, None) => {
                super::bounded(&format!("{field}.subject"), s, 1024)?;
                if inspector::policy::subject_rdns(s).is_none() {
                    return Err(ServiceError::Invalid(format!(
                        "{field}.subject: '{s}' is not a name like 'CN=…, O=…'"
                    )));
                }
            }
            (None, Some(h), None) => {
                if h.len() != 64 || !h.bytes().all(|b| b.is_ascii_hexdigit()) {
                    return Err(ServiceError::Invalid(format!(
                        "{field}.spki_sha256 must be 64 hexadecimal digits"
                    )));
                }
            }
            (None, None, Some(san)) if !san.trim().is_empty() => {
                super::bounded(&format!("{field}.sigstore_san"), san, 1024)?;
            }
            _ => {
                return Err(ServiceError::Invalid(format!(
                    "{field}: give exactly one of subject, spki_sha256 or sigstore_san"
                )));
            }
        }
    }
    Ok(())
}

/// Binds a component to its allowed signers (security; audited; the
/// bundle serial moves, so stations and the registry apply it at once).
/// Needs the row version (`If-Match`).
pub fn set_allowed_signers(
    c: &mut Conn,
    actor: &Actor,
    name: String,
    expected: i32,
    body: SignersRequest,
) -> ServiceResult<Component> {
    actor.require(SECURITY, "bind signers to components")?;
    check_signers(&body.allowed_signers)?;
    let json = serde_json::to_string(&body.allowed_signers).map_err(ServiceError::internal)?;
    super::transaction(c, |c| {
        audit::begin_change(c, true)?;
        let guard = super::brick::BrickGuard::start(c)?;
        let before = for_change(c, &name, expected)?;
        let after = Component {
            allowed_signers: json.clone(),
            row_version: before.row_version + 1,
            updated_at: crate::now_unix(),
            ..before.clone()
        };
        write(c, &name, expected, &after)?;
        audit::record(
            c,
            &actor.label(),
            "set-signers",
            "component",
            &name,
            Some(&view(&before)),
            Some(&view(&after)),
        )?;
        // Images signed by a key no longer allowed leave the allowlists:
        // the component's accepted receipts are judged again under the
        // new binding.
        let counts = super::evidence::reevaluate_accepted(c, None, Some(&name))?;
        super::evidence::record_reevaluation(c, actor, &name, counts)?;
        guard.check(c, body.confirm_brick)?;
        Ok(after)
    })
}

/// Sets or clears a component's own end of support (procurement: it is a
/// contract term; audited; `If-Match`). Verdicts do not depend on it, so
/// nothing is re-evaluated; the dashboard and the bundle show it.
pub fn set_support(
    c: &mut Conn,
    actor: &Actor,
    name: String,
    expected: i32,
    body: SupportRequest,
) -> ServiceResult<Component> {
    actor.require(PROCUREMENT, "set support periods")?;
    let support_ends = body
        .support_ends
        .as_deref()
        .map(|s| super::parse_time("support_ends", s))
        .transpose()?;
    super::transaction(c, |c| {
        audit::begin_change(c, true)?;
        let before = for_change(c, &name, expected)?;
        let after = Component {
            support_ends,
            row_version: before.row_version + 1,
            updated_at: crate::now_unix(),
            ..before.clone()
        };
        write(c, &name, expected, &after)?;
        audit::record(
            c,
            &actor.label(),
            "set-support",
            "component",
            &name,
            Some(&view(&before)),
            Some(&view(&after)),
        )?;
        Ok(after)
    })
}

/// Registers (or clears) the RFC 4108 package identifier of a component
/// (procurement; audited; `If-Match`; the bundle serial moves). One OID
/// names one component. Its accepted receipts are judged again.
pub fn set_package(
    c: &mut Conn,
    actor: &Actor,
    name: String,
    expected: i32,
    body: PackageRequest,
) -> ServiceResult<Component> {
    actor.require(PROCUREMENT, "register firmware package identifiers")?;
    let oid = match body.firmware_package_oid.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(o) => Some(
            inspector::firmware_package::parse_oid(o)
                .map_err(|e| ServiceError::Invalid(format!("firmware_package_oid: {e}")))?,
        ),
    };
    super::transaction(c, |c| {
        audit::begin_change(c, true)?;
        let before = for_change(c, &name, expected)?;
        if let Some(o) = &oid {
            let taken: Option<String> = components::table
                .filter(components::firmware_package_oid.eq(o))
                .filter(components::name.ne(&name))
                .select(components::name)
                .first(c)
                .optional()?;
            if let Some(other) = taken {
                return Err(ServiceError::Conflict(format!(
                    "package identifier {o} is already component '{other}''s"
                )));
            }
        }
        let after = Component {
            firmware_package_oid: oid.clone(),
            row_version: before.row_version + 1,
            updated_at: crate::now_unix(),
            ..before.clone()
        };
        write(c, &name, expected, &after)?;
        audit::record(
            c,
            &actor.label(),
            "set-package",
            "component",
            &name,
            Some(&view(&before)),
            Some(&view(&after)),
        )?;
        let counts = super::evidence::reevaluate_accepted(c, None, Some(&name))?;
        super::evidence::record_reevaluation(c, actor, &name, counts)?;
        Ok(after)
    })
}

fn parse_version(s: &str) -> ServiceResult<semver::Version> {
    semver::Version::parse(s).map_err(|e| {
        ServiceError::Invalid(format!("min_version '{s}' is not a semantic version: {e}"))
    })
}

/// A component name: 1-128 characters, none of them a control character
/// or one that means something in a URL path or query (`/ \\ ? # %`), and
/// not `.` or `..`. Pages encode every path segment anyway; refusing these
/// at the door keeps names readable in exports, headers and logs too.
pub fn valid_name(name: &str) -> ServiceResult<()> {
    if name.is_empty() || name.len() > 128 {
        return Err(ServiceError::Invalid(
            "name must be 1-128 characters".into(),
        ));
    }
    if name == "." || name == ".." {
        return Err(ServiceError::Invalid(format!(
            "name '{name}' is not a component name"
        )));
    }
    if let Some(bad) = name
        .chars()
        .find(|ch| ch.is_control() || matches!(ch, '/' | '\\' | '?' | '#' | '%'))
    {
        return Err(ServiceError::Invalid(format!(
            "name must not contain {:?} (control characters and / \\ ? # % are refused)",
            bad
        )));
    }
    Ok(())
}

/// Every component, by name.
pub fn list(c: &mut Conn, actor: &Actor) -> ServiceResult<Vec<Component>> {
    actor.require(READERS, "read components")?;
    Ok(components::table
        .order(components::name)
        .select(Component::as_select())
        .load(c)?)
}

/// A vendor's components, by name.
pub fn of_vendor(c: &mut Conn, vendor: &str) -> ServiceResult<Vec<Component>> {
    Ok(components::table
        .filter(components::vendor_id.eq(vendor))
        .order(components::name)
        .select(Component::as_select())
        .load(c)?)
}

/// One component, or NotFound.
pub fn find(c: &mut Conn, name: &str) -> ServiceResult<Component> {
    components::table
        .find(name)
        .select(Component::as_select())
        .first(c)
        .optional()?
        .ok_or_else(|| ServiceError::NotFound(format!("no component '{name}'")))
}

/// Authorises a vendor for a component (validation, change, audit: one transaction).
pub fn create_component(
    c: &mut Conn,
    actor: &Actor,
    id: String,
    body: ComponentRequest,
) -> ServiceResult<Component> {
    actor.require(PROCUREMENT, "authorise components")?;
    let name = body.name.trim();
    valid_name(name)?;
    if let Some(v) = &body.min_version {
        parse_version(v)?;
    }
    let support_ends = body
        .support_ends
        .as_deref()
        .map(|s| super::parse_time("support_ends", s))
        .transpose()?;
    super::transaction(c, |c| {
        audit::begin_change(c, true)?;
        super::vendors::find_vendor(c, &id)?;
        let taken: Option<Component> = components::table
            .find(name)
            .select(Component::as_select())
            .first(c)
            .optional()?;
        if let Some(t) = taken {
            return Err(ServiceError::Conflict(format!(
                "component '{}' is already supplied by vendor '{}'",
                t.name, t.vendor_id
            )));
        }
        let row = Component {
            name: name.to_string(),
            vendor_id: id.clone(),
            min_version: body.min_version.clone(),
            row_version: 1,
            updated_at: crate::now_unix(),
            allowed_signers: "[]".into(),
            retired_at: None,
            retired_reason: None,
            retired_by: None,
            support_ends,
            firmware_package_oid: None,
            vendor_floor: None,
        };
        diesel::insert_into(components::table)
            .values(&row)
            .execute(c)?;
        audit::record(
            c,
            &actor.label(),
            "create",
            "component",
            &row.name,
            None::<&()>,
            Some(&view(&row)),
        )?;
        Ok(row)
    })
}

/// Sets a floor if the component's row version is still `expected`.
pub fn set_component_floor(
    c: &mut Conn,
    actor: &Actor,
    name: String,
    expected: i32,
    body: FloorRequest,
) -> ServiceResult<Component> {
    actor.require(SECURITY, "change rollback floors")?;
    let new_floor = body.min_version.as_deref().map(parse_version).transpose()?;
    super::transaction(c, |c| {
        audit::begin_change(c, true)?;
        let guard = BrickGuard::start(c)?;
        let before = for_change(c, &name, expected)?;
        let old_floor = before
            .min_version
            .as_deref()
            .map(parse_version)
            .transpose()?;
        let lowering = match (&old_floor, &new_floor) {
            (Some(o), Some(n)) => n < o,
            (Some(_), None) => true,
            _ => false,
        };
        let reason = body
            .reason
            .as_deref()
            .map(str::trim)
            .filter(|r| !r.is_empty());
        if lowering && reason.is_none() {
            return Err(ServiceError::Invalid(format!(
                "lowering the floor of '{name}' re-admits older firmware: give a reason"
            )));
        }
        let after = Component {
            min_version: body.min_version.clone(),
            row_version: before.row_version + 1,
            updated_at: crate::now_unix(),
            ..before.clone()
        };
        write(c, &name, expected, &after)?;
        #[derive(Serialize)]
        struct FloorChange<'a> {
            component: ComponentView,
            reason: Option<&'a str>,
        }
        audit::record(
            c,
            &actor.label(),
            if lowering { "lower-floor" } else { "set-floor" },
            "component",
            &name,
            Some(&view(&before)),
            Some(&FloorChange {
                component: view(&after),
                reason,
            }),
        )?;
        guard.check(c, body.confirm_brick)?;
        Ok(after)
    })
}
