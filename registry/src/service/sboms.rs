//! Vendor-signed SBOMs (issue 14, item 1): a vendor delivers a CycloneDX
//! SBOM (JSON, 1.5 or 1.6) signed like its firmware (a detached CMS
//! signature, or a Sigstore bundle). The registry verifies the signature
//! with the inspector core under that vendor's trust, exactly as for a
//! blob (the SBOM's `metadata.component` names the registered component and
//! version it describes), then records, for each SBOM component with a hash
//! whose name is one of the vendor's registered components, (component,
//! version, SHA-256/384/512). The bindings go into the trust bundle, so
//! stations and the registry's re-verification both look every blob's
//! digest up (`inspector::sbom_binding`). The vendor's accepted receipts
//! are judged again at once: an image the SBOM contradicts is withdrawn.

use super::audit;
use super::{Actor, Conn, READERS, ServiceError, ServiceResult, time_str};
use base64::Engine;
use diesel::prelude::*;
use inspector::digest::{DigestAlgorithm, hex};
use inspector::sbom_binding::SbomBindingDocument;
use schema::models::{NewSbomBinding, NewVendorSbom, SbomBinding, VendorSbom};
use schema::schema::{components, sbom_bindings, vendor_sboms};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The largest SBOM accepted.
pub const MAX_SBOM: usize = 4 * 1024 * 1024;

/// Who may upload a vendor-signed SBOM: procurement, and the inspection
/// stations that receive SBOMs with firmware deliveries. It is safe for a
/// station: nothing binds unless the vendor's signature verifies.
pub const UPLOADERS: &[super::Role] = &[
    super::Role::Admin,
    super::Role::Procurement,
    super::Role::Inspector,
];

/// Upload a signed SBOM.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SbomUpload {
    /// The SBOM (CycloneDX JSON 1.5 or 1.6), base64 of the exact bytes
    /// signed.
    pub sbom_base64: String,
    /// Its detached signature: CMS (DER or PEM, base64), or a Sigstore
    /// bundle (the JSON, base64).
    pub signature_base64: String,
}

/// An uploaded SBOM as the API shows it.
#[derive(Serialize, Deserialize, ToSchema, Clone, Debug, PartialEq)]
pub struct SbomView {
    /// Row id.
    pub id: i64,
    /// Vendor.
    pub vendor: String,
    /// The SBOM's `serialNumber`.
    pub serial: String,
    /// SHA-256 of the SBOM bytes.
    pub sha256: String,
    /// The component and version its `metadata.component` describes.
    pub component: String,
    /// Version.
    pub version: String,
    /// When and by whom it was uploaded.
    pub uploaded_at: String,
    /// Who.
    pub uploaded_by: String,
    /// The images it binds: (component, version, SHA-256 when listed).
    #[schema(value_type = Vec<Object>)]
    pub bindings: Vec<SbomBindingDocument>,
    /// SBOM components not bound (not a registered component of the
    /// vendor, or no SHA-2 hash), with why.
    pub ignored: Vec<String>,
}

fn doc(b: &SbomBinding, serial: &str) -> SbomBindingDocument {
    SbomBindingDocument {
        vendor: b.vendor_id.clone(),
        component: b.component.clone(),
        version: b.version.clone(),
        sbom: serial.to_string(),
        sha256: b.sha256.clone(),
        sha384: b.sha384.clone(),
        sha512: b.sha512.clone(),
    }
}

/// Every binding, for the trust bundle (in id order; inside the bundle's
/// own transaction, hence the plain diesel error).
pub fn binding_rows(c: &mut Conn) -> QueryResult<Vec<SbomBindingDocument>> {
    let rows: Vec<(SbomBinding, String)> = sbom_bindings::table
        .inner_join(vendor_sboms::table)
        .order(sbom_bindings::id)
        .select((SbomBinding::as_select(), vendor_sboms::serial))
        .load(c)?;
    Ok(rows.iter().map(|(b, s)| doc(b, s)).collect())
}

fn view(c: &mut Conn, s: &VendorSbom, ignored: Vec<String>) -> ServiceResult<SbomView> {
    let rows: Vec<SbomBinding> = sbom_bindings::table
        .filter(sbom_bindings::sbom_id.eq(s.id))
        .order(sbom_bindings::id)
        .select(SbomBinding::as_select())
        .load(c)?;
    Ok(SbomView {
        id: s.id,
        vendor: s.vendor_id.clone(),
        serial: s.serial.clone(),
        sha256: s.sha256.clone(),
        component: s.component.clone(),
        version: s.version.clone(),
        uploaded_at: time_str(s.uploaded_at),
        uploaded_by: s.uploaded_by.clone(),
        bindings: rows.iter().map(|b| doc(b, &s.serial)).collect(),
        ignored,
    })
}

fn text<'a>(v: &'a serde_json::Value, k: &str) -> &'a str {
    v.get(k).and_then(|x| x.as_str()).unwrap_or_default()
}

/// The (component, version, sha256, sha384, sha512) a CycloneDX component
/// binds, or why not.
type Bound = (
    String,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
);

fn bound(c: &serde_json::Value, registered: &[String]) -> Result<Bound, String> {
    let name = text(c, "name");
    let version = text(c, "version");
    if !registered.iter().any(|r| r == name) {
        return Err(format!(
            "'{name}': not a registered component of the vendor"
        ));
    }
    if version.is_empty() {
        return Err(format!("'{name}': no version"));
    }
    let mut digests: [Option<String>; 3] = [None, None, None];
    for h in c
        .get("hashes")
        .and_then(|h| h.as_array())
        .into_iter()
        .flatten()
    {
        let content = text(h, "content").to_ascii_lowercase();
        let slot = match text(h, "alg") {
            "SHA-256" => 0,
            "SHA-384" => 1,
            "SHA-512" => 2,
            _ => continue,
        };
        let len = [64, 96, 128].get(slot).copied().unwrap_or(0);
        if content.len() != len || !content.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(format!("'{name}': a malformed {} hash", text(h, "alg")));
        }
        if let Some(d) = digests.get_mut(slot) {
            *d = Some(content);
        }
    }
    let [sha256, sha384, sha512] = digests;
    if sha256.is_none() && sha384.is_none() && sha512.is_none() {
        return Err(format!("'{name}' {version}: no SHA-256/384/512 hash"));
    }
    Ok((
        name.to_string(),
        version.to_string(),
        sha256,
        sha384,
        sha512,
    ))
}

/// Verifies and records a vendor-signed SBOM (procurement; audited). The
/// signature is verified under the vendor's current trust (its anchors,
/// terms, revocations, the component's allowed signers), as for a blob;
/// refused SBOMs leave nothing behind.
pub fn upload(
    c: &mut Conn,
    actor: &Actor,
    vendor: &str,
    body: SbomUpload,
    time: time::OffsetDateTime,
) -> ServiceResult<SbomView> {
    actor.require(UPLOADERS, "upload vendor SBOMs")?;
    let b64 = base64::engine::general_purpose::STANDARD;
    if body.sbom_base64.len() > MAX_SBOM * 4 / 3 + 4 {
        return Err(ServiceError::Invalid(format!(
            "sbom_base64: the SBOM is over {} MiB",
            MAX_SBOM / (1024 * 1024)
        )));
    }
    let sbom = b64
        .decode(body.sbom_base64.trim())
        .map_err(|e| ServiceError::Invalid(format!("sbom_base64 is not base64: {e}")))?;
    let signature = b64
        .decode(body.signature_base64.trim())
        .map_err(|e| ServiceError::Invalid(format!("signature_base64 is not base64: {e}")))?;
    upload_bytes(c, actor, vendor, sbom, signature, time)
}

/// [`upload`] from the exact bytes (the page's file fields).
pub fn upload_bytes(
    c: &mut Conn,
    actor: &Actor,
    vendor: &str,
    sbom: Vec<u8>,
    signature: Vec<u8>,
    time: time::OffsetDateTime,
) -> ServiceResult<SbomView> {
    actor.require(UPLOADERS, "upload vendor SBOMs")?;
    if sbom.len() > MAX_SBOM {
        return Err(ServiceError::Invalid(format!(
            "sbom: over {} MiB",
            MAX_SBOM / (1024 * 1024)
        )));
    }
    if signature.len() > 1024 * 1024 {
        return Err(ServiceError::Invalid("signature_base64: over 1 MiB".into()));
    }
    let json: serde_json::Value = serde_json::from_slice(&sbom)
        .map_err(|e| ServiceError::Invalid(format!("sbom: not JSON: {e}")))?;
    if text(&json, "bomFormat") != "CycloneDX"
        || !["1.5", "1.6"].contains(&text(&json, "specVersion"))
    {
        return Err(ServiceError::Invalid(
            "sbom: not a CycloneDX 1.5 or 1.6 JSON document (bomFormat, specVersion)".into(),
        ));
    }
    let serial = text(&json, "serialNumber").to_string();
    if serial.is_empty() || serial.len() > 100 {
        return Err(ServiceError::Invalid(
            "sbom: serialNumber is missing".into(),
        ));
    }
    let meta = json
        .get("metadata")
        .and_then(|m| m.get("component"))
        .cloned()
        .unwrap_or_default();
    let (meta_name, meta_version) = (
        text(&meta, "name").to_string(),
        text(&meta, "version").to_string(),
    );
    let sha = hex(&DigestAlgorithm::Sha256.hash(&sbom));
    let registered: Vec<String> = components::table
        .filter(components::vendor_id.eq(vendor))
        .filter(components::retired_at.is_null())
        .select(components::name)
        .load(c)?;
    if !registered.contains(&meta_name) {
        return Err(ServiceError::Invalid(format!(
            "sbom: metadata.component.name '{meta_name}' is not a registered component of vendor '{vendor}'"
        )));
    }
    // The signature, verified by the core under the vendor's trust. An
    // SBOM does not bind itself: its own version is not looked up.
    let (_, mut policy) = super::evidence::policy_now(c)?;
    policy.sbom_bindings.clear();
    for v in policy.vendors.iter_mut() {
        v.require_signed_sbom = false;
    }
    let claims = super::evidence::Claims {
        vendor: vendor.to_string(),
        component: meta_name.clone(),
        version: meta_version.clone(),
        sha256: sha.clone(),
        sha384: None,
        sha512: None,
        size: sbom.len() as u64,
    };
    let v = super::evidence::verify_artifact(
        &policy,
        None,
        &claims,
        &signature,
        time,
        inspector::Artifact::Reader(&mut std::io::Cursor::new(&sbom)),
    );
    if v.verdict != super::evidence::ACCEPT {
        return Err(ServiceError::Invalid(format!(
            "the SBOM's signature is refused for vendor '{vendor}': {}",
            v.summary
        )));
    }
    let mut bindings = Vec::new();
    let mut ignored = Vec::new();
    let mut all = vec![meta];
    all.extend(
        json.get("components")
            .and_then(|c| c.as_array())
            .cloned()
            .unwrap_or_default(),
    );
    for comp in &all {
        match bound(comp, &registered) {
            Ok(b) => bindings.push(b),
            Err(why) => ignored.push(why),
        }
    }
    if bindings.is_empty() {
        return Err(ServiceError::Invalid(format!(
            "sbom: it binds no image of vendor '{vendor}' ({})",
            ignored.join("; ")
        )));
    }
    super::transaction(c, |c| {
        audit::begin_change(c, true)?;
        let guard = super::brick::BrickGuard::start(c)?;
        let taken: i64 = vendor_sboms::table
            .filter(vendor_sboms::vendor_id.eq(vendor))
            .filter(vendor_sboms::sha256.eq(&sha))
            .count()
            .get_result(c)?;
        if taken > 0 {
            return Err(ServiceError::Conflict(format!(
                "this SBOM (SHA-256 {sha}) is already recorded for vendor '{vendor}'"
            )));
        }
        diesel::insert_into(vendor_sboms::table)
            .values(NewVendorSbom {
                vendor_id: vendor.to_string(),
                serial: serial.clone(),
                sha256: sha.clone(),
                component: meta_name.clone(),
                version: meta_version.clone(),
                sbom: sbom.clone(),
                signature: signature.clone(),
                uploaded_at: crate::now_unix(),
                uploaded_by: actor.label(),
            })
            .execute(c)?;
        let row: VendorSbom = vendor_sboms::table
            .filter(vendor_sboms::vendor_id.eq(vendor))
            .filter(vendor_sboms::sha256.eq(&sha))
            .select(VendorSbom::as_select())
            .first(c)?;
        for (component, version, sha256, sha384, sha512) in &bindings {
            diesel::insert_into(sbom_bindings::table)
                .values(NewSbomBinding {
                    sbom_id: row.id,
                    vendor_id: vendor.to_string(),
                    component: component.clone(),
                    version: version.clone(),
                    sha256: sha256.clone(),
                    sha384: sha384.clone(),
                    sha512: sha512.clone(),
                })
                .execute(c)?;
        }
        let shown = view(c, &row, ignored.clone())?;
        audit::record(
            c,
            &actor.label(),
            "create",
            "sbom",
            &row.id.to_string(),
            None::<&()>,
            Some(&shown),
        )?;
        // Images the SBOM contradicts leave the allowlists.
        let counts = super::evidence::reevaluate_accepted(c, Some(vendor), None)?;
        super::evidence::record_reevaluation(c, actor, vendor, counts)?;
        guard.check(c, true)?;
        Ok(shown)
    })
}

/// A vendor's SBOMs, newest first.
pub fn list(c: &mut Conn, actor: &Actor, vendor: &str) -> ServiceResult<Vec<SbomView>> {
    actor.require(READERS, "read vendor SBOMs")?;
    super::vendors::find_vendor(c, vendor)?;
    let rows: Vec<VendorSbom> = vendor_sboms::table
        .filter(vendor_sboms::vendor_id.eq(vendor))
        .order(vendor_sboms::id.desc())
        .select(VendorSbom::as_select())
        .load(c)?;
    rows.iter().map(|r| view(c, r, Vec::new())).collect()
}
