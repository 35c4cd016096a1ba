//! Product releases (issue 14, item 3): what ships, image by image, per
//! boot stage, and the check that it would boot and is proven.
//!
//! A release names, for each boot stage of a product, the component images
//! (by SHA-256) it ships. The check re-reads everything under the current
//! trust state: every component a stage loads has an image; each image has
//! evidence the registry itself verified (a registry-accepted receipt, see
//! `evidence`); its version is at or above the component's floor; it is in
//! the stage's allowlist; and its signer chains to a key that stage trusts
//! and can verify. Every problem is named. A passing check is signed by the
//! registry as an in-toto Statement v1 (DSSE) listing every component with
//! its digest, version, version source, signer and verification time.
//!
//! The version of an image is the one its registry-accepted receipt names;
//! the attestation says whether a vendor-signed SBOM binds it or the
//! inspector claimed it (`version_source`, from the registry's report).

use super::audit;
use super::{Actor, Conn, READERS, SECURITY, ServiceError, ServiceResult, time_str};
use diesel::prelude::*;
use schema::models::{NewRelease, Release};
use schema::schema::{components, releases, vendors};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use utoipa::ToSchema;

/// The predicate type of a release attestation.
pub const RELEASE_PREDICATE_TYPE: &str = "https://tollgate.dev/attestation/release/v1";

/// One image of a release.
#[derive(Serialize, Deserialize, ToSchema, Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
#[serde(deny_unknown_fields)]
pub struct ReleaseImage {
    /// The boot stage that loads it.
    pub stage: String,
    /// The component.
    pub component: String,
    /// SHA-256 of the image (64 lower-case hex digits).
    pub sha256: String,
    /// SHA-512 of the image (128 hex digits), optional: BSI TR-03183-2
    /// asks the SBOM for it; the release's SBOM carries it when given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha512: Option<String>,
}

/// Define a release.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"version": "2026.12.0", "images": [{"stage": "rom", "component": "acme-wifi-fw", "sha256": "c8fe3a0bc1e421531329540a60111a8579e4112ca8b6d0331769c2778818d499"}]}))]
pub struct ReleaseRequest {
    /// The release's version (1-64 of `A-Z a-z 0-9 . + - _`).
    pub version: String,
    /// Its images (1-256).
    pub images: Vec<ReleaseImage>,
}

/// One checked component of a release, as the attestation lists it.
#[derive(Serialize, Deserialize, ToSchema, Clone, Debug, PartialEq)]
pub struct ReleaseComponent {
    /// Boot stage.
    pub stage: String,
    /// Component.
    pub component: String,
    /// Supplying vendor.
    pub vendor: String,
    /// Version (from the receipt that proves the image).
    pub version: String,
    /// Where the version comes from: `vendor-signed SBOM <serial>` when
    /// the vendor's signed SBOM binds it, else `claimed by the inspector`.
    pub version_source: String,
    /// SHA-256 of the image.
    pub sha256: String,
    /// SHA-512 of the image, when the release gives it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha512: Option<String>,
    /// The signer certificate's subject (or Sigstore identity).
    pub signer: String,
    /// The registry-accepted receipt that proves it.
    pub receipt: i64,
    /// When the registry verified that evidence (RFC 3339).
    pub verified_at: String,
    /// End of the component's support (its own, else its vendor's).
    pub support_ends: Option<String>,
}

/// A release as the API shows it.
#[derive(Serialize, Deserialize, ToSchema, Clone, Debug, PartialEq)]
pub struct ReleaseView {
    /// Product id.
    pub product: String,
    /// Release version.
    pub version: String,
    /// Its images.
    pub images: Vec<ReleaseImage>,
    /// `draft` (never checked), `released` (the last check passed) or
    /// `blocked` (the last check found problems).
    pub status: String,
    /// When and by whom it was defined.
    pub created_at: String,
    /// Who defined it.
    pub created_by: String,
    /// When it was last checked.
    pub checked_at: Option<String>,
    /// The problems the last check found.
    pub problems: Vec<String>,
    /// The release attestation (DSSE envelope) of the last passing check.
    #[schema(value_type = Option<Object>)]
    pub attestation: Option<serde_json::Value>,
    /// The release's end of support: the earliest of its components'.
    pub support_ends: Option<String>,
}

/// What a check answers.
#[derive(Serialize, Deserialize, ToSchema, Clone, Debug, PartialEq)]
pub struct CheckOutcome {
    /// Whether the release passed.
    pub ok: bool,
    /// Every problem, named (empty when it passed).
    pub problems: Vec<String>,
    /// The checked components (those that could be checked).
    pub components: Vec<ReleaseComponent>,
    /// The signed release attestation (DSSE), when it passed.
    #[schema(value_type = Option<Object>)]
    pub attestation: Option<serde_json::Value>,
}

fn valid_version(v: &str) -> bool {
    !v.is_empty()
        && v.len() <= 64
        && v.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'+' | b'-' | b'_'))
}

fn find(c: &mut Conn, product: &str, version: &str) -> ServiceResult<Release> {
    releases::table
        .filter(releases::product_id.eq(product))
        .filter(releases::version.eq(version))
        .select(Release::as_select())
        .first(c)
        .optional()?
        .ok_or_else(|| {
            ServiceError::NotFound(format!("product '{product}' has no release '{version}'"))
        })
}

fn images_of(r: &Release) -> Vec<ReleaseImage> {
    serde_json::from_str(&r.images).unwrap_or_default()
}

/// Each component's end of support: its own, else its vendor's.
fn support_ends(c: &mut Conn) -> ServiceResult<BTreeMap<String, i64>> {
    let rows: Vec<(String, Option<i64>, Option<i64>)> = components::table
        .inner_join(vendors::table)
        .select((
            components::name,
            components::support_ends,
            vendors::support_ends,
        ))
        .load(c)?;
    Ok(rows
        .into_iter()
        .filter_map(|(name, own, vendor)| own.or(vendor).map(|t| (name, t)))
        .collect())
}

/// The release's support end: the earliest of its components'.
fn release_support_end(images: &[ReleaseImage], ends: &BTreeMap<String, i64>) -> Option<i64> {
    images
        .iter()
        .filter_map(|i| ends.get(&i.component).copied())
        .min()
}

/// A stored release as the API shows it.
pub fn view(c: &mut Conn, r: &Release) -> ServiceResult<ReleaseView> {
    let images = images_of(r);
    let ends = support_ends(c)?;
    Ok(ReleaseView {
        product: r.product_id.clone(),
        version: r.version.clone(),
        support_ends: release_support_end(&images, &ends).map(time_str),
        images,
        status: r.status.clone(),
        created_at: time_str(r.created_at),
        created_by: r.created_by.clone(),
        checked_at: r.checked_at.map(time_str),
        problems: serde_json::from_str(&r.problems).unwrap_or_default(),
        attestation: r
            .attestation
            .as_deref()
            .and_then(|a| serde_json::from_str(a).ok()),
    })
}

/// Defines a release (security; audited). Releases do not change: a new
/// content is a new version.
pub fn create(
    c: &mut Conn,
    actor: &Actor,
    product: &str,
    body: ReleaseRequest,
) -> ServiceResult<ReleaseView> {
    actor.require(SECURITY, "define releases")?;
    if !valid_version(&body.version) {
        return Err(ServiceError::Invalid(format!(
            "version '{}' must be 1-64 of A-Z a-z 0-9 . + - _",
            body.version
        )));
    }
    if body.images.is_empty() || body.images.len() > 256 {
        return Err(ServiceError::Invalid("images: 1 to 256 images".into()));
    }
    let mut images = body.images;
    for (i, img) in images.iter_mut().enumerate() {
        super::bounded(&format!("images[{i}].stage"), &img.stage, 64)?;
        super::components::valid_name(&img.component)
            .map_err(|e| ServiceError::Invalid(format!("images[{i}].component: {e}")))?;
        img.sha256 = img.sha256.to_ascii_lowercase();
        if img.sha256.len() != 64 || !img.sha256.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(ServiceError::Invalid(format!(
                "images[{i}].sha256 must be 64 hexadecimal digits"
            )));
        }
        if let Some(h) = img.sha512.as_mut() {
            *h = h.to_ascii_lowercase();
            if h.len() != 128 || !h.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(ServiceError::Invalid(format!(
                    "images[{i}].sha512 must be 128 hexadecimal digits"
                )));
            }
        }
    }
    images.sort();
    images.dedup();
    super::transaction(c, |c| {
        audit::begin_change(c, false)?;
        let p = super::products::find(c, product)?;
        let stages = super::products::stages_of(&p)?;
        for (i, img) in images.iter().enumerate() {
            if !stages.iter().any(|s| s.name == img.stage) {
                return Err(ServiceError::Invalid(format!(
                    "images[{i}].stage: '{}' is not a boot stage of product '{product}' ({})",
                    img.stage,
                    stages
                        .iter()
                        .map(|s| s.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                )));
            }
        }
        let taken = find(c, product, &body.version).is_ok();
        if taken {
            return Err(ServiceError::Conflict(format!(
                "product '{product}' already has a release '{}'; releases do not change: define a new version",
                body.version
            )));
        }
        let new = NewRelease {
            product_id: product.to_string(),
            version: body.version.clone(),
            images: serde_json::to_string(&images).map_err(ServiceError::internal)?,
            status: "draft".into(),
            created_at: crate::now_unix(),
            created_by: actor.label(),
        };
        diesel::insert_into(releases::table)
            .values(&new)
            .execute(c)?;
        let row = find(c, product, &body.version)?;
        let shown = view(c, &row)?;
        audit::record(
            c,
            &actor.label(),
            "create",
            "release",
            &format!("{product}@{}", body.version),
            None::<&()>,
            Some(&shown),
        )?;
        Ok(shown)
    })
}

/// A product's releases, newest first.
pub fn list(c: &mut Conn, actor: &Actor, product: &str) -> ServiceResult<Vec<ReleaseView>> {
    actor.require(READERS, "read releases")?;
    super::products::find(c, product)?;
    let rows: Vec<Release> = releases::table
        .filter(releases::product_id.eq(product))
        .order(releases::id.desc())
        .select(Release::as_select())
        .load(c)?;
    rows.iter().map(|r| view(c, r)).collect()
}

/// One release.
pub fn get(
    c: &mut Conn,
    actor: &Actor,
    product: &str,
    version: &str,
) -> ServiceResult<ReleaseView> {
    actor.require(READERS, "read releases")?;
    let r = find(c, product, version)?;
    view(c, &r)
}

/// The accepted signer of a registry report: its subject and the SHA-256
/// of every certificate of its path (signer first).
fn signer_of(report: &serde_json::Value) -> Option<(String, Vec<String>)> {
    let signer = report
        .get("signers")?
        .as_array()?
        .iter()
        .find(|s| s.get("accepted").and_then(|a| a.as_bool()) == Some(true))?;
    let cert = signer.get("certificate");
    let subject = cert
        .and_then(|c| c.get("subject"))
        .and_then(|s| s.as_str())
        .unwrap_or("a Sigstore signer")
        .to_string();
    let mut path: Vec<String> = cert
        .and_then(|c| c.get("sha256"))
        .and_then(|s| s.as_str())
        .map(|s| vec![s.to_string()])
        .unwrap_or_default();
    if let Some(p) = signer.get("path").and_then(|p| p.as_array()) {
        path.extend(
            p.iter()
                .filter_map(|c| c.get("sha256").and_then(|s| s.as_str()).map(str::to_string)),
        );
    }
    Some((subject, path))
}

/// Checks a release under the current trust state (security; audited):
/// every problem is named; when there is none the registry signs the
/// release attestation with `key`. The release's status becomes `released`
/// or `blocked`; the attestation of the last passing check is kept.
pub fn check(
    c: &mut Conn,
    actor: &Actor,
    key: &crate::key::RegistryKey,
    product: &str,
    version: &str,
) -> ServiceResult<CheckOutcome> {
    actor.require(SECURITY, "check releases")?;
    super::transaction(c, |c| {
        audit::begin_change(c, false)?;
        let r = find(c, product, version)?;
        let images = images_of(&r);
        let p = super::products::find(c, product)?;
        let allowlist = super::products::build(c, product)?;
        let serial = super::bundle::current_serial(c)?;
        let ends = support_ends(c)?;
        let mut problems = Vec::new();
        let mut checked = Vec::new();
        for stage in &allowlist.stages {
            for comp in &stage.components {
                if !images
                    .iter()
                    .any(|i| i.stage == stage.name && i.component == comp.name)
                {
                    problems.push(format!(
                        "stage '{}' loads component '{}' but the release has no image of it",
                        stage.name, comp.name
                    ));
                }
            }
        }
        for img in &images {
            let what = format!(
                "image {} of '{}' (stage '{}')",
                img.sha256, img.component, img.stage
            );
            let Some(stage) = allowlist.stages.iter().find(|s| s.name == img.stage) else {
                problems.push(format!(
                    "{what}: '{}' is not a boot stage of the product",
                    img.stage
                ));
                continue;
            };
            let Some(comp) = stage.components.iter().find(|c| c.name == img.component) else {
                problems.push(format!(
                    "{what}: stage '{}' does not load component '{}' (or it is retired)",
                    stage.name, img.component
                ));
                continue;
            };
            let Some(proof) = super::receipts::proof_of_image(c, &img.component, &img.sha256)?
            else {
                problems.push(format!(
                    "{what}: not proven: no receipt whose evidence the registry verified and accepted"
                ));
                continue;
            };
            let mut ok = true;
            if let (Some(floor), Ok(v)) = (
                comp.min_version
                    .as_deref()
                    .and_then(|f| semver::Version::parse(f).ok()),
                semver::Version::parse(&proof.version),
            ) && v < floor
            {
                problems.push(format!(
                    "{what}: version {} is below the component's floor {floor}",
                    proof.version
                ));
                ok = false;
            }
            if ok
                && !stage.images.iter().any(|i| {
                    i.component == img.component
                        && i.sha256 == img.sha256
                        && i.version == proof.version
                })
            {
                problems.push(format!(
                    "{what}: version {} is not in stage '{}''s allowlist under the current trust state",
                    proof.version, stage.name
                ));
                ok = false;
            }
            // An RFC 4108 package names the hardware it is for: it must be
            // hardware the product declares, when the product declares any.
            let declared = super::products::hardware_of(&p);
            let targets = proof
                .signature
                .as_deref()
                .map(|s| {
                    inspector::firmware_package::target_hardware_of(
                        s,
                        &inspector::Limits::default(),
                    )
                })
                .unwrap_or_default();
            if !declared.is_empty()
                && !targets.is_empty()
                && !targets.iter().any(|t| declared.contains(t))
            {
                problems.push(format!(
                    "{what}: the firmware package targets hardware {}, not the product's {}",
                    targets.join(", "),
                    declared.join(", ")
                ));
                ok = false;
            }
            let evidenced_sha512 = proof
                .registry_report
                .as_ref()
                .and_then(|r| r.pointer("/blob/sha512"))
                .and_then(|v| v.as_str());
            if let (Some(given), Some(seen)) = (&img.sha512, evidenced_sha512)
                && !given.eq_ignore_ascii_case(seen)
            {
                problems.push(format!(
                    "{what}: its SHA-512 {given} is not the one the evidence proves ({seen})"
                ));
                ok = false;
            }
            let signer = proof.registry_report.as_ref().and_then(signer_of);
            let subject = match &signer {
                Some((subject, path)) => {
                    let trusted = stage
                        .keys
                        .iter()
                        .any(|k| path.contains(&k.certificate_sha256));
                    if !trusted {
                        let why = stage
                            .unverifiable_keys
                            .iter()
                            .find(|u| u.vendor == comp.vendor)
                            .map(|u| format!(" ({}: {})", u.subject, u.reason))
                            .unwrap_or_default();
                        problems.push(format!(
                            "{what}: its signer '{subject}' chains to no key stage '{}' trusts and can verify{why}",
                            stage.name
                        ));
                        ok = false;
                    }
                    subject.clone()
                }
                None => {
                    problems.push(format!(
                        "{what}: the registry's report names no accepted signer with a certificate path, so no boot-stage key can verify it"
                    ));
                    ok = false;
                    String::new()
                }
            };
            if ok {
                checked.push(ReleaseComponent {
                    stage: img.stage.clone(),
                    component: img.component.clone(),
                    vendor: proof.vendor.clone(),
                    version: proof.version.clone(),
                    version_source: proof
                        .registry_report
                        .as_ref()
                        .and_then(|r| r.get("version_source"))
                        .and_then(|v| v.as_str())
                        .unwrap_or("claimed by the inspector")
                        .to_string(),
                    sha256: img.sha256.clone(),
                    sha512: img.sha512.clone(),
                    signer: subject,
                    receipt: proof.receipt,
                    verified_at: time_str(proof.verified_at),
                    support_ends: ends.get(&img.component).copied().map(time_str),
                });
            }
        }
        let now = crate::now_unix();
        let passed = problems.is_empty();
        let attestation = if passed {
            let statement = serde_json::json!({
                "_type": inspector::attest::STATEMENT_TYPE,
                "subject": checked.iter().map(|c| serde_json::json!({
                    "name": format!("{}/{}@{}", c.stage, c.component, c.version),
                    "digest": {"sha256": c.sha256},
                })).collect::<Vec<_>>(),
                "predicateType": RELEASE_PREDICATE_TYPE,
                "predicate": {
                    "product": p.id,
                    "product_name": p.name,
                    "release": version,
                    "verifier": {"id": key.verifier_id()},
                    "time_verified": time_str(now),
                    "trust_bundle_serial": serial,
                    "support_ends": release_support_end(&images, &ends).map(time_str),
                    "components": checked,
                },
            });
            let envelope = key.attest(&statement).map_err(ServiceError::internal)?;
            Some(serde_json::to_value(envelope).map_err(ServiceError::internal)?)
        } else {
            None
        };
        let stored = match &attestation {
            Some(a) => Some(serde_json::to_string(a).map_err(ServiceError::internal)?),
            None => r.attestation.clone(),
        };
        diesel::update(releases::table.find(r.id))
            .set((
                releases::status.eq(if passed { "released" } else { "blocked" }),
                releases::checked_at.eq(Some(now)),
                releases::problems
                    .eq(serde_json::to_string(&problems).map_err(ServiceError::internal)?),
                releases::attestation.eq(stored),
            ))
            .execute(c)?;
        audit::record(
            c,
            &actor.label(),
            "check",
            "release",
            &format!("{product}@{version}"),
            None::<&()>,
            Some(&serde_json::json!({"passed": passed, "problems": problems})),
        )?;
        Ok(CheckOutcome {
            ok: passed,
            problems,
            components: checked,
            attestation,
        })
    })
}

/// Released releases (their last check passed) whose support ends before
/// `before` (Unix seconds): (product, release, support end), soonest first.
pub fn support_ending(c: &mut Conn, before: i64) -> ServiceResult<Vec<(String, String, i64)>> {
    let rows: Vec<Release> = releases::table
        .filter(releases::status.eq("released"))
        .select(Release::as_select())
        .load(c)?;
    let ends = support_ends(c)?;
    let mut out: Vec<(String, String, i64)> = rows
        .iter()
        .filter_map(|r| {
            release_support_end(&images_of(r), &ends)
                .filter(|t| *t <= before)
                .map(|t| (r.product_id.clone(), r.version.clone(), t))
        })
        .collect();
    out.sort_by_key(|x| x.2);
    Ok(out)
}
