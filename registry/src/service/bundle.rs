//! Building and signing the trust bundle: the trust-policy document the
//! inspector consumes (`docs/trust-policy.md`), with a serial and an expiry.

use super::{Conn, ServiceError, ServiceResult};
use crate::state::AppState;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use diesel::prelude::*;
use inspector::bundle::{BUNDLE_FORMAT, SignedBundle};
use inspector::cert::{certificate_pem, rfc3339};
use inspector::policy::{
    ComponentDocument, IdentityDocument, PolicyDocument, ProductDocument, RevocationDocument,
    SigningPolicyDocument, StageDocument, TrustedRootDocument, VendorDocument,
    VendorSigstoreDocument,
};
use schema::models::{
    Certificate, Component, Revocation, SigstoreIdentity, SigstoreKey, SigstoreTrustedRoot,
    TsaAnchor, Vendor,
};
use schema::schema::{
    certificates, components, registry_state, revocations, sigstore_identities, sigstore_keys,
    sigstore_trusted_roots, tsa_anchors, vendors,
};
use std::collections::HashMap;
use time::OffsetDateTime;

/// A signed bundle kept while the registry does not change.
#[derive(Clone)]
pub struct CachedBundle {
    /// Serial it was built at.
    pub serial: i64,
    /// When it was issued.
    pub issued_at: OffsetDateTime,
    /// Its expiry.
    pub expires_at: OffsetDateTime,
    /// Strong ETag.
    pub etag: String,
    /// The signed envelope (JSON bytes); shared, so a cache hit copies nothing.
    pub body: actix_web::web::Bytes,
}

/// Anchors, intermediates and components of one vendor, as PEM and documents.
type VendorMaterial = (Vec<String>, Vec<String>, Vec<ComponentDocument>);

/// The current bundle serial.
pub fn current_serial(conn: &mut Conn) -> Result<i64, diesel::result::Error> {
    registry_state::table
        .filter(registry_state::key.eq("bundle_serial"))
        .select(registry_state::value)
        .first(conn)
}

/// Reads the registry into a trust-policy document (one consistent read).
pub fn build_document(
    conn: &mut Conn,
    issued_at: OffsetDateTime,
    ttl: std::time::Duration,
) -> Result<(i64, PolicyDocument), diesel::result::Error> {
    conn.transaction(|conn| {
        let serial = current_serial(conn)?;
        let vs: Vec<Vendor> = vendors::table
            .order(vendors::id)
            .select(Vendor::as_select())
            .load(conn)?;
        // Retired certificates are out of the bundle (kept on record).
        let certs: Vec<Certificate> = certificates::table
            .filter(certificates::retired_at.is_null())
            .order(certificates::id)
            .select(Certificate::as_select())
            .load(conn)?;
        let comps: Vec<Component> = components::table
            .filter(components::retired_at.is_null())
            .order(components::name)
            .select(Component::as_select())
            .load(conn)?;
        let tsas: Vec<TsaAnchor> = tsa_anchors::table
            .filter(tsa_anchors::retired_at.is_null())
            .order(tsa_anchors::id)
            .select(TsaAnchor::as_select())
            .load(conn)?;
        let revs: Vec<Revocation> = revocations::table
            .order(revocations::id)
            .select(Revocation::as_select())
            .load(conn)?;
        let idents: Vec<SigstoreIdentity> = sigstore_identities::table
            .filter(sigstore_identities::retired_at.is_null())
            .order(sigstore_identities::id)
            .select(SigstoreIdentity::as_select())
            .load(conn)?;
        let skeys: Vec<SigstoreKey> = sigstore_keys::table
            .filter(sigstore_keys::retired_at.is_null())
            .order(sigstore_keys::id)
            .select(SigstoreKey::as_select())
            .load(conn)?;
        let sroots: Vec<SigstoreTrustedRoot> = sigstore_trusted_roots::table
            .filter(sigstore_trusted_roots::retired_at.is_null())
            .order(sigstore_trusted_roots::name)
            .select(SigstoreTrustedRoot::as_select())
            .load(conn)?;
        let prods: Vec<ProductDocument> = schema::schema::products::table
            .order(schema::schema::products::id)
            .select(schema::models::Product::as_select())
            .load(conn)?
            .into_iter()
            .map(|p| ProductDocument {
                stages: serde_json::from_str::<Vec<crate::allowlist::Stage>>(&p.stages)
                    .unwrap_or_default()
                    .into_iter()
                    .map(StageDocument::from)
                    .collect(),
                id: p.id,
                name: p.name,
            })
            .collect();
        let mut sig_by_vendor: HashMap<&str, VendorSigstoreDocument> = HashMap::new();
        for i in &idents {
            sig_by_vendor
                .entry(i.vendor_id.as_str())
                .or_default()
                .identities
                .push(IdentityDocument {
                    issuer: i.issuer.clone(),
                    san: i.san.clone(),
                    san_regex: i.san_regex.clone(),
                });
        }
        for k in &skeys {
            sig_by_vendor
                .entry(k.vendor_id.as_str())
                .or_default()
                .keys
                .push(k.pem.clone());
        }

        let mut by_vendor: HashMap<&str, VendorMaterial> = HashMap::new();
        for c in &certs {
            let e = by_vendor.entry(c.vendor_id.as_str()).or_default();
            if c.role == "anchor" {
                e.0.push(certificate_pem(&c.der));
            } else {
                e.1.push(certificate_pem(&c.der));
            }
        }
        for c in &comps {
            by_vendor
                .entry(c.vendor_id.as_str())
                .or_default()
                .2
                .push(ComponentDocument {
                    name: c.name.clone(),
                    min_version: super::components::effective_floor(c),
                    allowed_signers: super::components::allowed_signers(c),
                    support_ends: c.support_ends.and_then(instant),
                    firmware_package_oid: c.firmware_package_oid.clone(),
                });
        }
        let mut vendor_docs = Vec::new();
        for v in &vs {
            let (anchors, intermediates, components) =
                by_vendor.remove(v.id.as_str()).unwrap_or_default();
            let sigstore = sig_by_vendor.remove(v.id.as_str());
            // A vendor with neither anchors nor Sigstore material cannot
            // verify anything; it is left out of the bundle (its blobs are
            // rejected as from an unknown vendor).
            if anchors.is_empty() && sigstore.is_none() {
                continue;
            }
            vendor_docs.push(VendorDocument {
                id: v.id.clone(),
                name: v.name.clone(),
                anchors,
                intermediates,
                components,
                policy: SigningPolicyDocument {
                    digests: v.digests.split(',').map(str::to_string).collect(),
                    min_rsa_bits: u32::try_from(v.min_rsa_bits).unwrap_or(2048),
                    require_timestamp: v.require_timestamp,
                    key_algorithms: super::vendors::split_list(&v.key_algorithms),
                },
                sigstore,
                contract_ends: v.contract_expires.and_then(instant),
                contract_ref: v.contract_ref.clone(),
                support_ends: v.support_ends.and_then(instant),
                require_signed_sbom: v.require_signed_sbom,
            });
        }
        // One PEM per distinct issuer (a CRL import stores one issuer for
        // thousands of serials).
        let mut issuer_pems: HashMap<&[u8], String> = HashMap::new();
        let revocation_docs = revs
            .iter()
            .map(|r| RevocationDocument {
                certificate: r.certificate_der.as_deref().map(certificate_pem),
                issuer_certificate: r.issuer_der.as_deref().map(|d| {
                    issuer_pems
                        .entry(d)
                        .or_insert_with(|| certificate_pem(d))
                        .clone()
                }),
                serial: r.serial.clone(),
                reason: r.reason.clone(),
                invalidity_date: r
                    .invalidity_date
                    .and_then(|t| OffsetDateTime::from_unix_timestamp(t).ok())
                    .map(rfc3339),
            })
            .collect();
        let expires = issued_at + ttl;
        let shared: Vec<schema::models::SharedCa> = schema::schema::shared_cas::table
            .order(schema::schema::shared_cas::id)
            .select(schema::models::SharedCa::as_select())
            .load(conn)?;
        let sigstore_revs: Vec<schema::models::SigstoreRevocationRow> =
            schema::schema::sigstore_revocations::table
                .order(schema::schema::sigstore_revocations::id)
                .select(schema::models::SigstoreRevocationRow::as_select())
                .load(conn)?;
        let checkpoint = super::audit::checkpoint(conn)?;
        let sbom_bindings = super::sboms::binding_rows(conn)?;
        Ok((
            serial,
            PolicyDocument {
                sbom_bindings,
                version: 1,
                vendors: vendor_docs,
                tsa_anchors: tsas.iter().map(|t| certificate_pem(&t.der)).collect(),
                revocations: revocation_docs,
                serial: Some(u64::try_from(serial).unwrap_or(0)),
                issued_at: Some(rfc3339(issued_at)),
                expires_at: Some(rfc3339(expires)),
                products: prods,
                checkpoint: Some(checkpoint),
                shared_cas: shared
                    .iter()
                    .map(|r| inspector::policy::SharedCaDocument {
                        spki_sha256: r.spki_sha256.clone(),
                        subject: r.subject.clone(),
                        vendors: r.vendors.split(',').map(str::to_string).collect(),
                        reason: r.reason.clone(),
                    })
                    .collect(),
                sigstore_revocations: sigstore_revs
                    .iter()
                    .map(|r| inspector::policy::SigstoreRevocationDocument {
                        identity: r.issuer.clone().zip(r.san.clone()).map(|(issuer, san)| {
                            inspector::policy::RevokedIdentityDocument { issuer, san }
                        }),
                        key_spki_sha256: r.key_spki_sha256.clone(),
                        reason: r.reason.clone(),
                        revoked_from: r
                            .revoked_from
                            .and_then(|t| OffsetDateTime::from_unix_timestamp(t).ok())
                            .map(rfc3339),
                    })
                    .collect(),
                sigstore_trusted_roots: sroots
                    .iter()
                    .map(|r| TrustedRootDocument {
                        name: r.name.clone(),
                        trusted_root: r.trusted_root.clone(),
                    })
                    .collect(),
            },
        ))
    })
}

/// Returns the current signed bundle, rebuilding it when the registry
/// changed or half its freshness period has passed.
pub fn current(state: &AppState, actor: &super::Actor) -> ServiceResult<CachedBundle> {
    actor.require(&super::Role::ALL, "read the trust bundle")?;
    let mut conn = state.pool.get().map_err(ServiceError::unavailable)?;
    let serial = current_serial(&mut conn)?;
    let now = OffsetDateTime::now_utc();
    if let Ok(guard) = state.bundle_cache.read()
        && let Some(c) = guard.as_ref()
        && c.serial == serial
        && now < c.issued_at + state.bundle_ttl / 2
    {
        return Ok(c.clone());
    }
    let started = std::time::Instant::now();
    let (serial, doc) = build_document(&mut conn, now, state.bundle_ttl)?;
    let payload = serde_json::to_vec(&doc).map_err(ServiceError::internal)?;
    let signature = state.key.sign(&payload);
    let envelope = SignedBundle {
        format: BUNDLE_FORMAT.to_string(),
        version: 1,
        payload: STANDARD.encode(&payload),
        signature: STANDARD.encode(signature),
        certificate: state.key.certificate_pem.clone(),
    };
    let body = serde_json::to_vec_pretty(&envelope).map_err(ServiceError::internal)?;
    let cached = CachedBundle {
        serial,
        issued_at: now,
        expires_at: now + state.bundle_ttl,
        etag: format!("\"bundle-{serial}-{}\"", now.unix_timestamp()),
        body: actix_web::web::Bytes::from(body),
    };
    state
        .metrics
        .bundle_build
        .observe(started.elapsed().as_secs_f64());
    state.metrics.bundle_serial.set(serial);
    if let Ok(mut guard) = state.bundle_cache.write() {
        *guard = Some(cached.clone());
    }
    Ok(cached)
}

/// A stored Unix time as the bundle's RFC 3339.
fn instant(t: i64) -> Option<String> {
    OffsetDateTime::from_unix_timestamp(t).ok().map(rfc3339)
}
