//! Sigstore trust: vendor keyless identities and public keys, and the
//! trusted roots (Fulcio, Rekor, TSA) bundles are verified against.

use super::audit;
use super::vendors::find_vendor;
use super::{Actor, Conn, PROCUREMENT, READERS, SECURITY, ServiceError, ServiceResult, time_str};
use diesel::prelude::*;
use inspector::digest::{DigestAlgorithm, hex};
use schema::models::{
    NewSigstoreIdentity, NewSigstoreKey, SigstoreIdentity, SigstoreKey, SigstoreTrustedRoot,
};
use schema::models::{NewSigstoreRevocation, SigstoreRevocationRow};
use schema::schema::{
    sigstore_identities, sigstore_keys, sigstore_revocations, sigstore_trusted_roots,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A keyless identity: OIDC issuer plus certificate SAN (exact, or a regular
/// expression anchored at both ends).
#[derive(Deserialize, Serialize, ToSchema, Clone, Debug)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"issuer": "https://token.actions.githubusercontent.com", "san": "https://github.com/acme/fw/.github/workflows/release.yml@refs/heads/main"}))]
pub struct IdentityRequest {
    /// OIDC issuer, exact (`https://token.actions.githubusercontent.com`).
    pub issuer: String,
    /// SAN, exact.
    #[serde(default)]
    pub san: Option<String>,
    /// SAN regular expression.
    #[serde(default)]
    pub san_regex: Option<String>,
}

/// A stored identity.
#[derive(Serialize, Deserialize, ToSchema, Clone, Debug)]
pub struct IdentityView {
    /// Row id.
    pub id: i64,
    /// Vendor.
    pub vendor_id: String,
    /// OIDC issuer.
    pub issuer: String,
    /// SAN, exact.
    pub san: Option<String>,
    /// SAN regular expression.
    pub san_regex: Option<String>,
    /// When it was retired (RFC 3339): out of the bundle, kept on record.
    #[serde(default)]
    pub retired_at: Option<String>,
    /// Why it was retired.
    #[serde(default)]
    pub retired_reason: Option<String>,
}

/// A vendor public key for keyed bundles.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct KeyRequest {
    /// PEM `PUBLIC KEY`.
    pub pem: String,
}

/// A stored key.
#[derive(Serialize, Deserialize, ToSchema, Clone, Debug)]
pub struct KeyView {
    /// Row id.
    pub id: i64,
    /// Vendor.
    pub vendor_id: String,
    /// SHA-256 of the SubjectPublicKeyInfo.
    pub sha256: String,
    /// The key (PEM).
    pub pem: String,
    /// When it was retired (RFC 3339): out of the bundle, kept on record.
    #[serde(default)]
    pub retired_at: Option<String>,
    /// Why it was retired.
    #[serde(default)]
    pub retired_reason: Option<String>,
}

/// Import a Sigstore trusted root.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TrustedRootRequest {
    /// A name (`public-good`, `acme-private`).
    pub name: String,
    /// The `trusted_root.json` document.
    #[schema(value_type = Object)]
    pub trusted_root: serde_json::Value,
}

/// A stored trusted root.
#[derive(Serialize, Deserialize, ToSchema, Clone, Debug)]
pub struct TrustedRootView {
    /// Name.
    pub name: String,
    /// SHA-256 of the stored JSON.
    pub sha256: String,
    /// When imported.
    pub created_at: String,
    /// When it was retired (RFC 3339): out of the bundle, kept on record.
    #[serde(default)]
    pub retired_at: Option<String>,
    /// Why it was retired.
    #[serde(default)]
    pub retired_reason: Option<String>,
}

/// Converts a row.
pub fn identity_view(i: &SigstoreIdentity) -> IdentityView {
    IdentityView {
        id: i.id,
        vendor_id: i.vendor_id.clone(),
        issuer: i.issuer.clone(),
        san: i.san.clone(),
        san_regex: i.san_regex.clone(),
        retired_at: i.retired_at.map(super::time_str),
        retired_reason: i.retired_reason.clone(),
    }
}

/// Converts a row.
pub fn key_view(r: SigstoreKey) -> KeyView {
    KeyView {
        id: r.id,
        vendor_id: r.vendor_id,
        sha256: r.sha256,
        pem: r.pem,
        retired_at: r.retired_at.map(time_str),
        retired_reason: r.retired_reason,
    }
}

/// Converts a row.
pub fn root_view(r: SigstoreTrustedRoot) -> TrustedRootView {
    TrustedRootView {
        name: r.name,
        sha256: r.sha256,
        created_at: time_str(r.created_at),
        retired_at: r.retired_at.map(time_str),
        retired_reason: r.retired_reason,
    }
}

/// Adds a keyless identity to a vendor (the pattern is checked by the
/// inspector's own identity type, so a stored identity always loads).
pub fn add_identity(
    c: &mut Conn,
    actor: &Actor,
    vendor: &str,
    body: IdentityRequest,
) -> ServiceResult<SigstoreIdentity> {
    actor.require(PROCUREMENT, "register Sigstore identities")?;
    super::bounded("issuer", &body.issuer, 1024)?;
    super::bounded("san", body.san.as_deref().unwrap_or(""), 1024)?;
    super::bounded("san_regex", body.san_regex.as_deref().unwrap_or(""), 1024)?;
    inspector::sigstore_trust::SigstoreIdentity::new(
        &body.issuer,
        body.san.as_deref(),
        body.san_regex.as_deref(),
    )
    .map_err(|e| ServiceError::Invalid(e.to_string()))?;
    super::transaction(c, |c| {
        audit::begin_change(c, true)?;
        find_vendor(c, vendor)?;
        diesel::insert_into(sigstore_identities::table)
            .values(NewSigstoreIdentity {
                vendor_id: vendor.to_string(),
                issuer: body.issuer.clone(),
                san: body.san.clone(),
                san_regex: body.san_regex.clone(),
                created_at: crate::now_unix(),
            })
            .execute(c)?;
        let row: SigstoreIdentity = sigstore_identities::table
            .order(sigstore_identities::id.desc())
            .select(SigstoreIdentity::as_select())
            .first(c)?;
        audit::record(
            c,
            &actor.label(),
            "create",
            "sigstore-identity",
            vendor,
            None::<&()>,
            Some(&identity_view(&row)),
        )?;
        Ok(row)
    })
}

/// A vendor's identities.
pub fn identities(
    c: &mut Conn,
    actor: &Actor,
    vendor: &str,
) -> ServiceResult<Vec<SigstoreIdentity>> {
    actor.require(READERS, "read Sigstore identities")?;
    find_vendor(c, vendor)?;
    Ok(sigstore_identities::table
        .filter(sigstore_identities::vendor_id.eq(vendor))
        .order(sigstore_identities::id)
        .select(SigstoreIdentity::as_select())
        .load(c)?)
}

/// Adds a vendor public key (for keyed bundles).
pub fn add_key(
    c: &mut Conn,
    actor: &Actor,
    vendor: &str,
    body: KeyRequest,
) -> ServiceResult<SigstoreKey> {
    actor.require(PROCUREMENT, "register Sigstore keys")?;
    let (_, fp) = inspector::sigstore_trust::parse_public_key(&body.pem)
        .map_err(|e| ServiceError::Invalid(format!("key refused: {e}")))?;
    let pem = body.pem;
    super::transaction(c, |c| {
        audit::begin_change(c, true)?;
        find_vendor(c, vendor)?;
        let dup: i64 = sigstore_keys::table
            .filter(sigstore_keys::vendor_id.eq(vendor))
            .filter(sigstore_keys::sha256.eq(&fp))
            .count()
            .get_result(c)?;
        if dup > 0 {
            return Err(ServiceError::Conflict(format!(
                "key {fp} is already registered for vendor '{vendor}'"
            )));
        }
        diesel::insert_into(sigstore_keys::table)
            .values(NewSigstoreKey {
                vendor_id: vendor.to_string(),
                pem: pem.clone(),
                sha256: fp.clone(),
                created_at: crate::now_unix(),
            })
            .execute(c)?;
        let row: SigstoreKey = sigstore_keys::table
            .filter(sigstore_keys::sha256.eq(&fp))
            .filter(sigstore_keys::vendor_id.eq(vendor))
            .select(SigstoreKey::as_select())
            .first(c)?;
        audit::record(
            c,
            &actor.label(),
            "create",
            "sigstore-key",
            &fp,
            None::<&()>,
            Some(&serde_json::json!({"vendor": vendor, "sha256": fp})),
        )?;
        Ok(row)
    })
}

/// A vendor's keys.
pub fn keys(c: &mut Conn, actor: &Actor, vendor: &str) -> ServiceResult<Vec<SigstoreKey>> {
    actor.require(READERS, "read Sigstore keys")?;
    find_vendor(c, vendor)?;
    Ok(sigstore_keys::table
        .filter(sigstore_keys::vendor_id.eq(vendor))
        .order(sigstore_keys::id)
        .select(SigstoreKey::as_select())
        .load(c)?)
}

/// Imports (or replaces, by name) a Sigstore trusted root.
pub fn add_root(
    c: &mut Conn,
    actor: &Actor,
    body: TrustedRootRequest,
) -> ServiceResult<SigstoreTrustedRoot> {
    actor.require(SECURITY, "import Sigstore trusted roots")?;
    let name = body.name.trim().to_string();
    if name.is_empty() || name.len() > 64 {
        return Err(ServiceError::Invalid("name must be 1-64 characters".into()));
    }
    super::bounded("name", &name, 64)?;
    let json = serde_json::to_string(&body.trusted_root).map_err(ServiceError::internal)?;
    inspector::sigstore_trust::SigstoreRoot::from_json(&name, &json)
        .map_err(|e| ServiceError::Invalid(format!("trusted root refused: {e}")))?;
    let sha = hex(&DigestAlgorithm::Sha256.hash(json.as_bytes()));
    super::transaction(c, |c| {
        audit::begin_change(c, true)?;
        let before: Option<SigstoreTrustedRoot> = sigstore_trusted_roots::table
            .find(&name)
            .select(SigstoreTrustedRoot::as_select())
            .first(c)
            .optional()?;
        diesel::delete(
            sigstore_trusted_roots::table.filter(sigstore_trusted_roots::name.eq(&name)),
        )
        .execute(c)?;
        let row = SigstoreTrustedRoot {
            name: name.clone(),
            trusted_root: json,
            sha256: sha.clone(),
            created_at: crate::now_unix(),
            retired_at: None,
            retired_reason: None,
            retired_by: None,
        };
        diesel::insert_into(sigstore_trusted_roots::table)
            .values(&row)
            .execute(c)?;
        audit::record(
            c,
            &actor.label(),
            if before.is_some() {
                "replace"
            } else {
                "create"
            },
            "sigstore-trusted-root",
            &name,
            before
                .as_ref()
                .map(|b| serde_json::json!({"sha256": b.sha256}))
                .as_ref(),
            Some(&serde_json::json!({"sha256": sha})),
        )?;
        Ok(row)
    })
}

/// The trusted roots, by name.
pub fn roots(c: &mut Conn, actor: &Actor) -> ServiceResult<Vec<SigstoreTrustedRoot>> {
    actor.require(READERS, "read Sigstore trusted roots")?;
    Ok(sigstore_trusted_roots::table
        .order(sigstore_trusted_roots::name)
        .select(SigstoreTrustedRoot::as_select())
        .load(c)?)
}

/// Revoke a Sigstore signer of a vendor: exactly one of `identity` or
/// `key_spki_sha256`.
#[derive(Serialize, Deserialize, ToSchema, Clone, Debug)]
#[serde(deny_unknown_fields)]
pub struct SigstoreRevocationRequest {
    /// A keyless identity: `{issuer, san}` (both exact).
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub identity: Option<inspector::policy::RevokedIdentityDocument>,
    /// A vendor key: hex SHA-256 of its SubjectPublicKeyInfo (as listed
    /// with the vendor's Sigstore keys).
    #[serde(default)]
    pub key_spki_sha256: Option<String>,
    /// RFC 5280 reason (keyCompromise, superseded, …).
    pub reason: String,
    /// From when (RFC 3339): bundles proven earlier (RFC 3161 or the log's
    /// integrated time) still verify. Absent: for all time.
    #[serde(default)]
    pub revoked_from: Option<String>,
    /// Apply even if withdrawing the receipts this revocation invalidates
    /// would leave a product unbootable (the brick check).
    #[serde(default)]
    pub confirm_brick: bool,
}

/// A revoked Sigstore signer.
#[derive(Serialize, Deserialize, ToSchema, Debug, Clone)]
pub struct SigstoreRevocationView {
    /// Row id.
    pub id: i64,
    /// Vendor.
    pub vendor_id: String,
    /// Issuer of a revoked identity.
    pub issuer: Option<String>,
    /// SAN of a revoked identity.
    pub san: Option<String>,
    /// SPKI SHA-256 of a revoked key.
    pub key_spki_sha256: Option<String>,
    /// Reason.
    pub reason: String,
    /// From when (RFC 3339); absent: all time.
    pub revoked_from: Option<String>,
    /// Recorded (RFC 3339).
    pub created_at: String,
    /// By whom.
    pub created_by: String,
}

/// Converts a row.
pub fn revocation_view(r: &SigstoreRevocationRow) -> SigstoreRevocationView {
    SigstoreRevocationView {
        id: r.id,
        vendor_id: r.vendor_id.clone(),
        issuer: r.issuer.clone(),
        san: r.san.clone(),
        key_spki_sha256: r.key_spki_sha256.clone(),
        reason: r.reason.clone(),
        revoked_from: r.revoked_from.map(time_str),
        created_at: time_str(r.created_at),
        created_by: r.created_by.clone(),
    }
}

/// Revokes a vendor's Sigstore identity or key (security; audited; in the
/// bundle from the next serial).
pub fn revoke(
    c: &mut Conn,
    actor: &Actor,
    vendor: &str,
    body: SigstoreRevocationRequest,
) -> ServiceResult<SigstoreRevocationRow> {
    actor.require(SECURITY, "revoke Sigstore signers")?;
    if !inspector::policy::REVOCATION_REASONS.contains(&body.reason.as_str()) {
        return Err(ServiceError::Invalid(format!(
            "reason '{}' must be one of {}",
            body.reason,
            inspector::policy::REVOCATION_REASONS.join(", ")
        )));
    }
    let (issuer, san, key) = match (&body.identity, &body.key_spki_sha256) {
        (Some(i), None) => {
            super::bounded("identity.issuer", &i.issuer, 1024)?;
            super::bounded("identity.san", &i.san, 1024)?;
            if i.issuer.trim().is_empty() || i.san.trim().is_empty() {
                return Err(ServiceError::Invalid(
                    "identity needs an issuer and a san".into(),
                ));
            }
            (Some(i.issuer.clone()), Some(i.san.clone()), None)
        }
        (None, Some(k)) if k.len() == 64 && k.bytes().all(|b| b.is_ascii_hexdigit()) => {
            (None, None, Some(k.to_ascii_lowercase()))
        }
        _ => {
            return Err(ServiceError::Invalid(
                "give exactly one of identity ({issuer, san}) or key_spki_sha256 (64 hex digits)"
                    .into(),
            ));
        }
    };
    let from = body
        .revoked_from
        .as_deref()
        .map(|s| super::parse_time("revoked_from", s))
        .transpose()?;
    super::transaction(c, |c| {
        audit::begin_change(c, true)?;
        find_vendor(c, vendor)?;
        let guard = super::brick::BrickGuard::start(c)?;
        diesel::insert_into(sigstore_revocations::table)
            .values(NewSigstoreRevocation {
                vendor_id: vendor.to_string(),
                issuer: issuer.clone(),
                san: san.clone(),
                key_spki_sha256: key.clone(),
                reason: body.reason.clone(),
                revoked_from: from,
                created_at: crate::now_unix(),
                created_by: actor.label(),
            })
            .execute(c)?;
        let row: SigstoreRevocationRow = sigstore_revocations::table
            .order(sigstore_revocations::id.desc())
            .select(SigstoreRevocationRow::as_select())
            .first(c)?;
        audit::record(
            c,
            &actor.label(),
            "revoke",
            "sigstore-signer",
            vendor,
            None::<&()>,
            Some(&revocation_view(&row)),
        )?;
        // Bundles from the revoked signer made after the instant leave the
        // allowlists: the vendor's accepted receipts are judged again.
        let counts = super::evidence::reevaluate_accepted(c, Some(vendor), None)?;
        super::evidence::record_reevaluation(c, actor, vendor, counts)?;
        guard.check(c, body.confirm_brick)?;
        Ok(row)
    })
}

/// A vendor's revoked Sigstore signers.
pub fn revocations(
    c: &mut Conn,
    actor: &Actor,
    vendor: &str,
) -> ServiceResult<Vec<SigstoreRevocationRow>> {
    actor.require(READERS, "read Sigstore revocations")?;
    find_vendor(c, vendor)?;
    Ok(sigstore_revocations::table
        .filter(sigstore_revocations::vendor_id.eq(vendor))
        .order(sigstore_revocations::id)
        .select(SigstoreRevocationRow::as_select())
        .load(c)?)
}

/// A vendor's Sigstore identity as a revocation target (its exact issuer
/// and SAN). A regular-expression identity names no one SAN: revoke the
/// SAN through the API, or retire the pattern.
pub fn identity_of(
    c: &mut Conn,
    actor: &Actor,
    vendor: &str,
    id: i64,
) -> ServiceResult<inspector::policy::RevokedIdentityDocument> {
    actor.require(READERS, "read Sigstore identities")?;
    let i: SigstoreIdentity = sigstore_identities::table
        .find(id)
        .filter(sigstore_identities::vendor_id.eq(vendor))
        .select(SigstoreIdentity::as_select())
        .first(c)
        .optional()?
        .ok_or_else(|| {
            ServiceError::NotFound(format!("vendor '{vendor}' has no Sigstore identity {id}"))
        })?;
    let san = i.san.ok_or_else(|| {
        ServiceError::Invalid(format!(
            "identity {id} is a pattern ({}); revoke one SAN through the API, or retire the pattern",
            i.san_regex.unwrap_or_default()
        ))
    })?;
    Ok(inspector::policy::RevokedIdentityDocument {
        issuer: i.issuer,
        san,
    })
}

/// The SPKI SHA-256 of a vendor's Sigstore key.
pub fn key_fingerprint_of(
    c: &mut Conn,
    actor: &Actor,
    vendor: &str,
    id: i64,
) -> ServiceResult<String> {
    actor.require(READERS, "read Sigstore keys")?;
    sigstore_keys::table
        .find(id)
        .filter(sigstore_keys::vendor_id.eq(vendor))
        .select(sigstore_keys::sha256)
        .first(c)
        .optional()?
        .ok_or_else(|| {
            ServiceError::NotFound(format!("vendor '{vendor}' has no Sigstore key {id}"))
        })
}
