//! The CRA evidence pack of a release (issue 14, item 6): one ZIP a
//! conformity assessor can read without tools, and a machine can verify.
//!
//! It holds the release's CycloneDX SBOM, its release attestation, the
//! update-integrity description (what each boot stage trusts, its
//! algorithms and rollback floors, and the current allowlist exports), the
//! vendors' PSIRT contacts, support periods and contract terms, the
//! inspection receipts of the release's images with the registry's own
//! verification reports, the audit entries about the components, vendors,
//! certificates and receipts involved (floor, revocation and retirement
//! history), a printable summary (`summary.html`), the registry
//! certificate, and `manifest.json` (every file's SHA-256) with
//! `manifest.sig`, the registry's signature over the manifest
//! (`openssl dgst -sha256 -verify`). Every entry has the same fixed time
//! and the files are written in name order, so the same registry state
//! gives the same bytes.

use super::{Actor, Conn, ServiceError, ServiceResult};
use askama::Template;
use diesel::prelude::*;
use inspector::digest::{DigestAlgorithm, hex};
use schema::models::{AuditEntry, Certificate};
use schema::schema::{audit_log, certificates};
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;

/// The pack's format name, in `manifest.json`.
pub const FORMAT: &str = "tollgate-cra-evidence";

/// What the summary page shows of one component.
struct SummaryComponent {
    stage: String,
    component: String,
    vendor: String,
    version: String,
    version_source: String,
    sha256: String,
    signer: String,
    verified_at: String,
    support_ends: String,
}

/// What the summary page shows of one vendor.
struct SummaryVendor {
    id: String,
    name: String,
    psirt: String,
    support_ends: String,
    contract: String,
    key_protection: String,
    revocation: String,
}

#[derive(Template)]
#[template(path = "evidence_summary.html")]
struct Summary {
    product: String,
    product_name: String,
    release: String,
    status: String,
    verified: String,
    verifier: String,
    serial: String,
    support_ends: String,
    components: Vec<SummaryComponent>,
    vendors: Vec<SummaryVendor>,
    /// (stage, algorithms, trusted keys, floors).
    stages: Vec<(String, String, Vec<String>, Vec<String>)>,
    files: Vec<(String, String)>,
}

fn text(v: &Value, k: &str) -> String {
    v.get(k)
        .and_then(|x| x.as_str())
        .unwrap_or_default()
        .to_string()
}

fn pretty(v: &impl serde::Serialize) -> ServiceResult<Vec<u8>> {
    let mut b = serde_json::to_vec_pretty(v).map_err(ServiceError::internal)?;
    b.push(b'\n');
    Ok(b)
}

/// Builds the evidence pack: (ZIP bytes, file name). Auditors, security
/// and admins; 409 when the release never passed its check.
pub fn evidence_pack(
    c: &mut Conn,
    actor: &Actor,
    key: &crate::key::RegistryKey,
    product: &str,
    version: &str,
    sbom_author: Option<&str>,
) -> ServiceResult<(Vec<u8>, String)> {
    actor.require(super::audit::AUDIT_READERS, "read CRA evidence")?;
    let release = super::releases::get(c, actor, product, version)?;
    let Some(envelope) = release.attestation.clone() else {
        return Err(ServiceError::Conflict(format!(
            "release '{version}' of '{product}' has not passed its check; there is no evidence to pack"
        )));
    };
    let sbom = super::sbom::release_sbom(c, actor, product, version, sbom_author)?;
    let statement = super::sbom::attested_statement(&envelope)?;
    let predicate = statement.get("predicate").cloned().unwrap_or_default();
    let components: Vec<Value> = predicate
        .get("components")
        .and_then(|c| c.as_array())
        .cloned()
        .unwrap_or_default();
    let p = super::products::find(c, product)?;
    let allowlist = super::products::build(c, product)?;

    // The vendors involved, with their contract terms.
    let vendor_ids: BTreeSet<String> = components.iter().map(|c| text(c, "vendor")).collect();
    let mut vendors = Vec::new();
    for id in &vendor_ids {
        vendors.push(super::vendors::view(&super::vendors::find_vendor(c, id)?));
    }
    // The receipts that prove the images, with the registry's reports.
    let mut receipts = Vec::new();
    let mut receipt_ids = BTreeSet::new();
    let mut path_certs = BTreeSet::new();
    for comp in &components {
        if let Some(id) = comp.get("receipt").and_then(|r| r.as_i64()) {
            let r = super::receipts::get(c, actor, id)?;
            if let Some(signers) = r
                .registry_report
                .as_ref()
                .and_then(|rep| rep.get("signers"))
                .and_then(|s| s.as_array())
            {
                for s in signers {
                    for cert in s
                        .get("path")
                        .and_then(|p| p.as_array())
                        .into_iter()
                        .flatten()
                        .chain(s.get("certificate"))
                    {
                        path_certs.insert(text(cert, "sha256"));
                    }
                }
            }
            receipt_ids.insert(id.to_string());
            receipts.push(r);
        }
    }
    // The audit entries about them: floors, retirements, revocations,
    // contract changes, the receipts and the release itself.
    let certs: Vec<Certificate> = certificates::table
        .filter(certificates::vendor_id.eq_any(vendor_ids.iter().cloned().collect::<Vec<_>>()))
        .select(Certificate::as_select())
        .load(c)?;
    let cert_keys: BTreeSet<String> = certs
        .iter()
        .flat_map(|c| [c.id.to_string(), c.sha256.clone()])
        .chain(path_certs)
        .collect();
    let component_names: BTreeSet<String> =
        components.iter().map(|c| text(c, "component")).collect();
    let release_id = format!("{product}@{version}");
    let entries: Vec<AuditEntry> = audit_log::table
        .order(audit_log::id)
        .select(AuditEntry::as_select())
        .load(c)?;
    let history: Vec<super::audit::AuditView> = entries
        .into_iter()
        .filter(|e| match e.entity.as_str() {
            "component" => component_names.contains(&e.entity_id),
            "vendor" => vendor_ids.contains(&e.entity_id),
            "certificate" => cert_keys.contains(&e.entity_id),
            "receipt" => receipt_ids.contains(&e.entity_id),
            "release" => e.entity_id == release_id,
            "product" => e.entity_id == product,
            _ => false,
        })
        .map(super::audit::view)
        .collect();

    // The update-integrity description.
    let integrity = json!({
        "product": p.id,
        "product_name": p.name,
        "stages": allowlist.stages.iter().map(|s| json!({
            "name": s.name,
            "algorithms": s.algorithms,
            "components": s.components,
            "trusted_keys": s.keys.iter().map(|k| json!({
                "vendor": k.vendor, "role": k.role, "subject": k.subject,
                "algorithm": k.algorithm, "spki_sha256": k.spki_sha256,
                "certificate_sha256": k.certificate_sha256,
            })).collect::<Vec<_>>(),
            "unverifiable_keys": s.unverifiable_keys,
        })).collect::<Vec<_>>(),
        "revoked_keys": allowlist.revoked_keys.iter().map(|k| json!({
            "subject": k.subject, "reason": k.reason, "revoked_from": k.revoked_from,
            "certificate_sha256": k.certificate_sha256,
        })).collect::<Vec<_>>(),
        "revoked_images": allowlist.revoked_images,
        "exports": ["allowlist/allowlist.json", "allowlist/efi-db.esl", "allowlist/efi-dbx.esl", "allowlist/allowlist.h"],
    });

    let mut files: BTreeMap<String, Vec<u8>> = BTreeMap::new();
    files.insert("sbom.cdx.json".into(), sbom);
    files.insert("release-attestation.dsse.json".into(), pretty(&envelope)?);
    files.insert("update-integrity.json".into(), pretty(&integrity)?);
    files.insert("allowlist/allowlist.json".into(), pretty(&allowlist)?);
    files.insert(
        "allowlist/efi-db.esl".into(),
        crate::allowlist::efi_db(&allowlist),
    );
    files.insert(
        "allowlist/efi-dbx.esl".into(),
        crate::allowlist::efi_dbx(&allowlist),
    );
    files.insert(
        "allowlist/allowlist.h".into(),
        crate::allowlist::c_header(&allowlist).into_bytes(),
    );
    files.insert("vendors.json".into(), pretty(&vendors)?);
    files.insert("receipts.json".into(), pretty(&receipts)?);
    files.insert("history.json".into(), pretty(&history)?);
    files.insert(
        "registry-certificate.pem".into(),
        key.certificate_pem.clone().into_bytes(),
    );

    // The summary page lists the files above and their digests.
    let listed: Vec<(String, String)> = files
        .iter()
        .map(|(n, b)| (n.clone(), hex(&DigestAlgorithm::Sha256.hash(b))))
        .collect();
    let summary = Summary {
        product: p.id.clone(),
        product_name: p.name.clone(),
        release: version.to_string(),
        status: release.status.clone(),
        verified: text(&predicate, "time_verified"),
        verifier: predicate
            .get("verifier")
            .map(|v| text(v, "id"))
            .unwrap_or_default(),
        serial: predicate
            .get("trust_bundle_serial")
            .map(|s| s.to_string())
            .unwrap_or_default(),
        support_ends: release
            .support_ends
            .clone()
            .unwrap_or_else(|| "not declared".into()),
        components: components
            .iter()
            .map(|c| SummaryComponent {
                stage: text(c, "stage"),
                component: text(c, "component"),
                vendor: text(c, "vendor"),
                version: text(c, "version"),
                version_source: text(c, "version_source"),
                sha256: text(c, "sha256"),
                signer: text(c, "signer"),
                verified_at: text(c, "verified_at"),
                support_ends: c
                    .get("support_ends")
                    .and_then(|s| s.as_str())
                    .unwrap_or("not declared")
                    .to_string(),
            })
            .collect(),
        vendors: vendors
            .iter()
            .map(|v| SummaryVendor {
                id: v.id.clone(),
                name: v.name.clone(),
                psirt: v.security_contact.clone(),
                support_ends: v
                    .support_ends
                    .clone()
                    .unwrap_or_else(|| "not declared".into()),
                contract: format!(
                    "{} (ends {})",
                    v.contract_ref,
                    v.contract_expires
                        .clone()
                        .unwrap_or_else(|| "not set".into())
                ),
                key_protection: v.key_protection.clone(),
                revocation: match v.revocation_deadline_hours {
                    Some(h) => format!("{} (report within {h} h)", v.revocation_procedure),
                    None => v.revocation_procedure.clone(),
                },
            })
            .collect(),
        stages: allowlist
            .stages
            .iter()
            .map(|s| {
                (
                    s.name.clone(),
                    s.algorithms.join(", "),
                    s.keys
                        .iter()
                        .map(|k| {
                            format!(
                                "{} ({}, {}, SPKI {})",
                                k.subject, k.vendor, k.algorithm, k.spki_sha256
                            )
                        })
                        .collect(),
                    s.components
                        .iter()
                        .map(|c| {
                            format!(
                                "{}: floor {}",
                                c.name,
                                c.min_version.clone().unwrap_or_else(|| "none".into())
                            )
                        })
                        .collect(),
                )
            })
            .collect(),
        files: listed.clone(),
    };
    let html = summary.render().map_err(ServiceError::internal)?;
    files.insert("summary.html".into(), html.into_bytes());

    let manifest = json!({
        "format": FORMAT,
        "version": 1,
        "product": product,
        "release": version,
        "verifier": summary.verifier,
        "files": files.iter().map(|(n, b)| json!({
            "name": n,
            "sha256": hex(&DigestAlgorithm::Sha256.hash(b)),
            "size": b.len(),
        })).collect::<Vec<_>>(),
    });
    let manifest = pretty(&manifest)?;
    let signature = key.sign(&manifest);
    files.insert("manifest.json".into(), manifest);
    files.insert("manifest.sig".into(), signature);

    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .last_modified_time(zip::DateTime::default())
        .unix_permissions(0o644);
    let folder = format!("{product}-{version}-cra-evidence");
    for (name, bytes) in &files {
        zip.start_file(format!("{folder}/{name}"), options)
            .map_err(ServiceError::internal)?;
        zip.write_all(bytes).map_err(ServiceError::internal)?;
    }
    let bytes = zip.finish().map_err(ServiceError::internal)?.into_inner();
    Ok((bytes, format!("{folder}.zip")))
}
