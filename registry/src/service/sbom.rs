//! The SBOM Tollgate writes for a release (issue 14, item 4): CycloneDX 1.6
//! JSON of the firmware a release ships, from the release's last passing
//! check (its attestation), so the same release always gives the same bytes.
//!
//! The product is the root component; each vendor image is a `firmware`
//! component with its supplier (the vendor, with its PSIRT contact), name,
//! version, hash, the supply contract as its licence, and properties
//! recording the signature verification (signer, trust-bundle serial,
//! verdict, time, version source, boot stage, receipt) and BSI TR-03183-2's
//! `bsi:component:*` flags. The boot stages are the dependency structure:
//! the product depends on the first stage's images, each stage's images on
//! the next stage's. The serial number is derived from the attestation's
//! payload and the timestamp is the check's time, so rebuilding from the
//! same state gives byte-identical output.
//!
//! Decision: the `cyclonedx-bom` crate (0.8) writes CycloneDX 1.3 to 1.5
//! only; this module writes the few 1.6 fields it needs with serde, and the
//! tests validate every SBOM with CycloneDX's own Python library (JSON
//! schema, strict) rather than trusting this code.

use super::{Actor, Conn, READERS, ServiceError, ServiceResult};
use base64::Engine;
use serde_json::{Value, json};

/// The media type of what [`release_sbom`] returns.
pub const MEDIA_TYPE: &str = "application/vnd.cyclonedx+json; version=1.6";

/// The attestation statement (the DSSE payload) of a release's last
/// passing check.
pub(super) fn attested_statement(envelope: &Value) -> ServiceResult<Value> {
    let payload = envelope
        .get("payload")
        .and_then(|p| p.as_str())
        .ok_or_else(|| ServiceError::internal("a stored release attestation has no payload"))?;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(payload)
        .map_err(ServiceError::internal)?;
    serde_json::from_slice(&bytes).map_err(ServiceError::internal)
}

/// A name-based UUID (version and variant bits set as RFC 9562 requires,
/// the rest from SHA-256 of `seed`), as a URN.
fn urn_uuid(seed: &[u8]) -> String {
    let h = inspector::digest::DigestAlgorithm::Sha256.hash(seed);
    let mut b = [0u8; 16];
    for (d, s) in b.iter_mut().zip(h.iter()) {
        *d = *s;
    }
    b[6] = (b[6] & 0x0f) | 0x50;
    b[8] = (b[8] & 0x3f) | 0x80;
    let x = inspector::digest::hex(&b);
    format!(
        "urn:uuid:{}-{}-{}-{}-{}",
        x.get(0..8).unwrap_or_default(),
        x.get(8..12).unwrap_or_default(),
        x.get(12..16).unwrap_or_default(),
        x.get(16..20).unwrap_or_default(),
        x.get(20..32).unwrap_or_default()
    )
}

/// A component's hashes: SHA-256, and SHA-512 when the release gave it.
fn hashes(comp: &Value) -> Value {
    let mut h = vec![json!({"alg": "SHA-256", "content": text(comp, "sha256")})];
    if let Some(s) = comp.get("sha512").and_then(|s| s.as_str()) {
        h.push(json!({"alg": "SHA-512", "content": s}));
    }
    Value::Array(h)
}

/// The SBOM's author: the operator's `Name <e-mail>` (or an e-mail
/// address alone), else the registry naming itself.
fn author(configured: Option<&str>, verifier: &str) -> Value {
    let Some(a) = configured.map(str::trim).filter(|a| !a.is_empty()) else {
        return json!({"name": format!("Tollgate registry ({verifier})")});
    };
    match (a.find('<'), a.rfind('>')) {
        (Some(l), Some(r)) if l < r => json!({
            "name": a.get(..l).unwrap_or_default().trim(),
            "email": a.get(l + 1..r).unwrap_or_default().trim(),
        }),
        _ if a.contains('@') => json!({"email": a}),
        _ => json!({"name": a}),
    }
}

fn prop(name: &str, value: impl Into<String>) -> Value {
    json!({"name": name, "value": value.into()})
}

fn text<'a>(v: &'a Value, k: &str) -> &'a str {
    v.get(k).and_then(|x| x.as_str()).unwrap_or_default()
}

/// The vendor as a CycloneDX organizational entity: its name and its PSIRT
/// contact (an e-mail address, or a URL).
fn supplier(name: &str, contact: &str) -> Value {
    if contact.contains('@') && !contact.contains("://") {
        json!({"name": name, "contact": [{"name": "PSIRT", "email": contact}]})
    } else if contact.starts_with("https://") || contact.starts_with("http://") {
        json!({"name": name, "url": [contact]})
    } else if !contact.is_empty() {
        json!({"name": name, "contact": [{"name": contact}]})
    } else {
        json!({"name": name})
    }
}

/// The CycloneDX 1.6 SBOM of a release that passed its check (409 if it
/// never did). Byte-identical for the same release.
pub fn release_sbom(
    c: &mut Conn,
    actor: &Actor,
    product: &str,
    version: &str,
    author_config: Option<&str>,
) -> ServiceResult<Vec<u8>> {
    actor.require(READERS, "read SBOMs")?;
    let release = super::releases::get(c, actor, product, version)?;
    let Some(envelope) = &release.attestation else {
        return Err(ServiceError::Conflict(format!(
            "release '{version}' of '{product}' has not passed its check; check it first (POST …/check)"
        )));
    };
    let statement = attested_statement(envelope)?;
    let predicate = statement.get("predicate").cloned().unwrap_or_default();
    let p = super::products::find(c, product)?;
    let stages = super::products::stages_of(&p)?;
    let components = predicate
        .get("components")
        .and_then(|c| c.as_array())
        .cloned()
        .unwrap_or_default();
    let root_ref = format!("product:{product}@{version}");
    let time = text(&predicate, "time_verified").to_string();
    let serial = predicate
        .get("trust_bundle_serial")
        .map(|s| s.to_string())
        .unwrap_or_default();
    let mut out_components = Vec::new();
    let mut vendors_seen = std::collections::BTreeMap::new();
    for comp in &components {
        let vendor_id = text(comp, "vendor");
        if !vendors_seen.contains_key(vendor_id) {
            let v = super::vendors::find_vendor(c, vendor_id)?;
            vendors_seen.insert(vendor_id.to_string(), v);
        }
        let Some(v) = vendors_seen.get(vendor_id) else {
            continue;
        };
        let bom_ref = format!(
            "{}/{}@{}",
            text(comp, "stage"),
            text(comp, "component"),
            text(comp, "version")
        );
        let mut properties = vec![
            prop("tollgate:boot_stage", text(comp, "stage")),
            prop("tollgate:signature:signer", text(comp, "signer")),
            prop("tollgate:signature:verdict", "accept"),
            prop("tollgate:signature:verified_at", text(comp, "verified_at")),
            prop(
                "tollgate:signature:receipt",
                comp.get("receipt")
                    .map(|r| r.to_string())
                    .unwrap_or_default(),
            ),
            prop("tollgate:trust_bundle_serial", serial.clone()),
            prop("tollgate:version_source", text(comp, "version_source")),
            prop("bsi:component:executable", "executable"),
            prop("bsi:component:archive", "no archive"),
            prop("bsi:component:structured", "unstructured"),
        ];
        if let Some(end) = comp.get("support_ends").and_then(|e| e.as_str()) {
            properties.push(prop("tollgate:support_ends", end));
        }
        let licence = if v.contract_ref.is_empty() {
            format!("proprietary: vendor '{}' supply contract", v.id)
        } else {
            format!(
                "proprietary: vendor '{}' supply contract {}",
                v.id, v.contract_ref
            )
        };
        out_components.push(json!({
            "type": "firmware",
            "bom-ref": bom_ref,
            "supplier": supplier(&v.name, &v.security_contact),
            "name": text(comp, "component"),
            "version": text(comp, "version"),
            "hashes": hashes(comp),
            "licenses": [{"license": {"name": licence}}],
            "properties": properties,
        }));
    }
    // Dependencies: product -> first stage's images -> next stage's ...
    let refs_of = |stage: &str| -> Vec<String> {
        out_components
            .iter()
            .filter(|c| {
                c.get("properties")
                    .and_then(|p| p.as_array())
                    .is_some_and(|p| {
                        p.iter().any(|x| {
                            text(x, "name") == "tollgate:boot_stage" && text(x, "value") == stage
                        })
                    })
            })
            .map(|c| text(c, "bom-ref").to_string())
            .collect()
    };
    let stage_refs: Vec<Vec<String>> = stages.iter().map(|s| refs_of(&s.name)).collect();
    let mut dependencies = Vec::new();
    let first: Vec<String> = stage_refs
        .iter()
        .find(|r| !r.is_empty())
        .cloned()
        .unwrap_or_default();
    dependencies.push(json!({"ref": root_ref, "dependsOn": first}));
    for (i, refs) in stage_refs.iter().enumerate() {
        let next: Vec<String> = stage_refs
            .iter()
            .skip(i + 1)
            .find(|r| !r.is_empty())
            .cloned()
            .unwrap_or_default();
        for r in refs {
            dependencies.push(json!({"ref": r, "dependsOn": next}));
        }
    }
    let payload = envelope
        .get("payload")
        .and_then(|p| p.as_str())
        .unwrap_or_default();
    let bom = json!({
        "$schema": "http://cyclonedx.org/schema/bom-1.6.schema.json",
        "bomFormat": "CycloneDX",
        "specVersion": "1.6",
        "serialNumber": urn_uuid(payload.as_bytes()),
        "version": 1,
        "metadata": {
            "timestamp": time,
            "lifecycles": [{"phase": "post-build"}],
            "tools": {"components": [{
                "type": "application",
                "name": "tollgate-registry",
                "version": env!("CARGO_PKG_VERSION"),
            }]},
            "authors": [author(author_config, text(predicate.get("verifier").unwrap_or(&Value::Null), "id"))],
            "component": {
                "type": "device",
                "bom-ref": root_ref,
                "name": p.name,
                "version": version,
                "properties": [
                    prop("tollgate:product", product),
                    prop("bsi:component:executable", "executable"),
                    prop("bsi:component:archive", "no archive"),
                    prop("bsi:component:structured", "unstructured"),
                ],
            },
        },
        "components": out_components,
        "dependencies": dependencies,
    });
    let mut bytes = serde_json::to_vec_pretty(&bom).map_err(ServiceError::internal)?;
    bytes.push(b'\n');
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serial_numbers_are_name_based_uuids_in_the_schema_pattern() {
        let a = urn_uuid(b"gw-1@1.0.0");
        assert_eq!(a, urn_uuid(b"gw-1@1.0.0"));
        assert_ne!(a, urn_uuid(b"gw-1@1.0.1"));
        let u = a.strip_prefix("urn:uuid:").unwrap_or_default();
        let parts: Vec<&str> = u.split('-').collect();
        assert_eq!(
            parts.iter().map(|p| p.len()).collect::<Vec<_>>(),
            [8, 4, 4, 4, 12]
        );
        assert!(parts.get(2).is_some_and(|p| p.starts_with('5')));
        assert!(
            parts
                .get(3)
                .is_some_and(|p| matches!(p.chars().next(), Some('8' | '9' | 'a' | 'b')))
        );
    }

    #[test]
    fn the_author_is_the_operators_name_and_mail_or_the_registry() {
        assert_eq!(
            author(Some("Example GmbH <psirt@example.com>"), "k"),
            json!({"name": "Example GmbH", "email": "psirt@example.com"})
        );
        assert_eq!(
            author(Some("sbom@example.com"), "k"),
            json!({"email": "sbom@example.com"})
        );
        assert_eq!(
            author(None, "tollgate-registry:ab"),
            json!({"name": "Tollgate registry (tollgate-registry:ab)"})
        );
        assert_eq!(
            author(Some("  "), "k"),
            json!({"name": "Tollgate registry (k)"})
        );
    }

    #[test]
    fn suppliers_carry_the_psirt_contact_as_mail_or_url() {
        assert_eq!(
            supplier("A", "psirt@a.example").pointer("/contact/0/email"),
            Some(&json!("psirt@a.example"))
        );
        assert_eq!(
            supplier("A", "https://a.example/psirt").pointer("/url/0"),
            Some(&json!("https://a.example/psirt"))
        );
        assert!(supplier("A", "").get("contact").is_none());
    }
}
