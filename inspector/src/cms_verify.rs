//! Verification of a CMS-signed blob against the trust policy.
//!
//! [`verify_cms`] streams the blob once (hashing it under every digest the
//! signers need, comparing it with attached content on the fly) and then
//! evaluates each SignerInfo. A rejected signature is an `Ok(Report)` with
//! verdict `reject`; `Err` only means the blob could not be read.

use crate::cert::{ParsedCert, rfc3339};
use crate::checks::{assemble, component_check, summarize, version_check};
use crate::cms::{self, ParsedSignedData};
use crate::digest::{DigestAlgorithm, Digests, MultiHasher, hex};
use crate::limits::Limits;
use crate::oids;
use crate::policy::Vendor;
use crate::report::{
    BlobInfo, Check, CheckId, Outcome, Report, SignatureInfo, SignerReport, SigningTime, TimeSource,
};
use crate::request::{VerifyError, VerifyRequest};
use crate::signature;
use crate::signer;
use crate::signer_checks::{chain_check, revocation_check, timestamp_check, usage_check};
use ::cms::signed_data::SignerInfo;
use std::io::Read;

/// The blob as seen while streaming it.
struct BlobScan {
    digests: Digests,
    /// For attached signatures: `None` if the blob equals the content,
    /// otherwise a description of the first difference.
    attached_mismatch: Option<Option<String>>,
    /// The blob bytes, when a signer needs the whole message (Ed25519
    /// without signed attributes) and it fit the limit.
    kept: Option<Vec<u8>>,
    too_large: bool,
}

fn scan_blob(
    blob: &mut dyn Read,
    algs: Vec<DigestAlgorithm>,
    attached: Option<&[u8]>,
    keep: bool,
    limits: &Limits,
) -> Result<BlobScan, VerifyError> {
    let mut hasher = MultiHasher::new(algs);
    let mut offset: u64 = 0;
    let mut mismatch: Option<String> = None;
    let mut kept = crate::digest::KeepUpTo::new(keep, limits.max_unhashed_content_bytes);
    let complete = crate::digest::for_each_chunk(blob, limits.read_buffer_bytes, |chunk| {
        let n = chunk.len();
        if offset.saturating_add(n as u64) > limits.max_blob_bytes {
            return false;
        }
        hasher.update(chunk);
        if let (Some(content), None) = (attached, &mismatch) {
            let start = usize::try_from(offset).unwrap_or(usize::MAX);
            let expected = content.get(start..).unwrap_or(&[]);
            let common = expected.len().min(chunk.len());
            let pos = chunk.iter().zip(expected.iter()).position(|(a, b)| a != b);
            if let Some(p) = pos {
                mismatch = Some(format!("they first differ at byte {}", offset + p as u64));
            } else if common < chunk.len() {
                mismatch = Some(format!(
                    "the blob is longer than the attached content ({} bytes)",
                    content.len()
                ));
            }
        }
        kept.push(chunk);
        offset += n as u64;
        true
    })?;
    let too_large = !complete;
    let kept = kept.into_inner();
    if let (Some(content), None) = (attached, &mismatch)
        && (content.len() as u64) != offset
    {
        mismatch = Some(format!(
            "the blob is {offset} bytes but the attached content is {} bytes",
            content.len()
        ));
    }
    Ok(BlobScan {
        digests: hasher.finish(),
        attached_mismatch: attached.map(|_| mismatch),
        kept,
        too_large,
    })
}

/// Verifies a CMS signature over the blob read from `blob`.
pub fn verify_cms(req: &VerifyRequest<'_>, blob: &mut dyn Read) -> Result<Report, VerifyError> {
    verify_cms_from(req, BlobSource::Reader(blob))
}

/// Verifies a CMS signature over a blob known only by its size and digests
/// (the registry re-verifying a receipt). Attached content is hashed and
/// compared with the given SHA-256 and size. [`VerifyError::NeedsBlob`]
/// when a detached signer signs the blob itself (Ed25519 without signed
/// attributes) or uses a digest algorithm not given.
pub fn verify_cms_digests(req: &VerifyRequest<'_>, known: Digests) -> Result<Report, VerifyError> {
    verify_cms_from(req, BlobSource::Known(known))
}

enum BlobSource<'a> {
    Reader(&'a mut dyn Read),
    Known(Digests),
}

/// The scan of a blob known by its digests: attached content is hashed
/// (with every algorithm asked for) and compared with the given SHA-256
/// and size; a detached signature needs each signer's digest given.
fn known_scan(
    known: Digests,
    algs: Vec<DigestAlgorithm>,
    attached: Option<&[u8]>,
    keep: bool,
    limits: &Limits,
) -> Result<BlobScan, VerifyError> {
    if known.length > limits.max_blob_bytes {
        return Ok(BlobScan {
            digests: known,
            attached_mismatch: None,
            kept: None,
            too_large: true,
        });
    }
    if let Some(content) = attached {
        let mut own = scan_blob(&mut &content[..], algs, None, false, limits)?;
        let claimed = known.get(DigestAlgorithm::Sha256).unwrap_or(&[]);
        let actual = own.digests.get(DigestAlgorithm::Sha256).unwrap_or(&[]);
        let mismatch = if own.digests.length != known.length {
            Some(format!(
                "the blob is {} bytes but the attached content is {} bytes",
                known.length, own.digests.length
            ))
        } else if actual != claimed {
            Some(format!(
                "the attached content's SHA-256 is {}, the blob's is {}",
                hex(actual),
                hex(claimed)
            ))
        } else {
            None
        };
        // On a mismatch the report describes the blob that was claimed (and
        // its signed attributes are checked against it), as with a reader.
        if mismatch.is_some() {
            own.digests = known;
        }
        own.attached_mismatch = Some(mismatch);
        return Ok(own);
    }
    if keep {
        return Err(VerifyError::NeedsBlob(
            "an Ed25519 signer without signed attributes signs the blob itself, so its digest cannot decide the signature".into(),
        ));
    }
    // SHA-1 is refused whatever its value, so it need not be given.
    if let Some(missing) = algs
        .iter()
        .find(|a| **a != DigestAlgorithm::Sha1 && known.get(**a).is_none())
    {
        return Err(VerifyError::NeedsBlob(format!(
            "the signature uses {missing}, and the blob's {missing} digest was not given"
        )));
    }
    Ok(BlobScan {
        digests: known,
        attached_mismatch: None,
        kept: None,
        too_large: false,
    })
}

fn verify_cms_from(req: &VerifyRequest<'_>, source: BlobSource<'_>) -> Result<Report, VerifyError> {
    let mut checks = Vec::new();
    let vendor = req.policy.vendor(req.vendor);
    checks.push(component_check(req, vendor));
    checks.push(version_check(req, vendor));

    let parsed = cms::parse(req.signature, req.limits);
    let mut sig_info = SignatureInfo {
        path: None,
        kind: "cms".into(),
        encoding: None,
        attached: None,
    };
    let parsed = match parsed {
        Ok(p) => {
            sig_info.encoding = Some(p.encoding.to_string().to_lowercase());
            sig_info.attached = Some(p.content().is_some());
            let what = if p.content().is_some() {
                "attached"
            } else {
                "detached"
            };
            checks.push(Check::pass(
                CheckId::Format,
                format!(
                    "CMS SignedData ({}, {what}, {} signer(s), {} certificate(s) carried)",
                    p.encoding,
                    p.signed_data.signer_infos.0.len(),
                    p.certificates.len()
                ),
            ));
            Some(p)
        }
        Err(e) => {
            checks.push(Check::fail(CheckId::Format, e.to_string()));
            None
        }
    };

    // Which digests to compute while streaming.
    let mut algs = vec![DigestAlgorithm::Sha256];
    let mut keep = false;
    if let Some(p) = &parsed {
        for si in p.signers() {
            if let Ok(a) = signer::digest_algorithm(si) {
                algs.push(a);
            }
            if si.signed_attrs.is_none()
                && si.signature_algorithm.oid == oids::ED25519
                && p.content().is_none()
            {
                keep = true;
            }
        }
    }
    let attached = parsed.as_ref().and_then(|p| p.content());
    let scan = match source {
        BlobSource::Reader(blob) => scan_blob(blob, algs, attached, keep, req.limits)?,
        BlobSource::Known(known) => known_scan(known, algs, attached, keep, req.limits)?,
    };
    let blob_info = BlobInfo {
        path: None,
        sha256: (!scan.too_large)
            .then(|| scan.digests.get(DigestAlgorithm::Sha256).map(hex))
            .flatten(),
        size: (!scan.too_large).then_some(scan.digests.length),
        sha384: (!scan.too_large)
            .then(|| scan.digests.get(DigestAlgorithm::Sha384).map(hex))
            .flatten(),
        sha512: (!scan.too_large)
            .then(|| scan.digests.get(DigestAlgorithm::Sha512).map(hex))
            .flatten(),
    };
    if scan.too_large {
        checks.push(Check::fail(
            CheckId::Content,
            format!(
                "the blob is larger than the limit of {} bytes",
                req.limits.max_blob_bytes
            ),
        ));
    } else if let Some(p) = &parsed {
        checks.push(content_check(p, &scan));
    }

    let mut signers = Vec::new();
    if let (Some(p), Some(v), false) = (&parsed, vendor, scan.too_large) {
        let content_for_ed25519 = p.content().or(scan.kept.as_deref());
        for (index, si) in p.signers().enumerate() {
            signers.push(evaluate_signer(
                req,
                v,
                p,
                si,
                index,
                &scan.digests,
                content_for_ed25519,
            ));
        }
    }

    // An RFC 4108 firmware package names its component and version.
    let mut package_source = None;
    if let (Some(p), Some(v)) = (&parsed, vendor)
        && p.content_type() == oids::FIRMWARE_PACKAGE
    {
        let (check, source) =
            crate::firmware_package::check(v, req.component, req.version, p.signers().next());
        checks.push(check);
        package_source = source;
    }
    let mut report = assemble(req, checks, signers, blob_info, sig_info);
    if package_source.is_some() {
        report.version_source = package_source;
    }
    report.summary = summarize(&report);
    Ok(report)
}

fn content_check(p: &ParsedSignedData, scan: &BlobScan) -> Check {
    if p.content_type() != oids::DATA && p.content_type() != oids::FIRMWARE_PACKAGE {
        return Check::fail(
            CheckId::Content,
            format!(
                "the signed content type is {}, not id-data or an RFC 4108 firmware package",
                p.content_type()
            ),
        );
    }
    match &scan.attached_mismatch {
        None => Check::pass(
            CheckId::Content,
            "detached signature: the blob is the signed content",
        ),
        Some(None) => Check::pass(
            CheckId::Content,
            "the attached content equals the blob byte for byte",
        ),
        Some(Some(diff)) => Check::fail(
            CheckId::Content,
            format!("the content attached to the signature is not the blob: {diff}"),
        ),
    }
}

fn evaluate_signer(
    req: &VerifyRequest<'_>,
    vendor: &Vendor,
    p: &ParsedSignedData,
    si: &SignerInfo,
    index: usize,
    digests: &Digests,
    content: Option<&[u8]>,
) -> SignerReport {
    let mut checks = Vec::new();
    let pool: Vec<&ParsedCert> = p
        .certificates
        .iter()
        .chain(vendor.intermediates.iter())
        .collect();
    let cert = signer::find_signer_cert(&si.sid, pool.iter().copied());
    let digest_alg = signer::digest_algorithm(si);

    // Algorithms allowed by the vendor's contract.
    match (&digest_alg, cert) {
        (Err(e), _) => checks.push(Check::fail(CheckId::Algorithm, e.to_string())),
        (Ok(DigestAlgorithm::Sha1), _) => checks.push(Check::fail(
            CheckId::Algorithm,
            "the signature uses SHA-1, which is not accepted for signatures",
        )),
        (Ok(a), _) if !vendor.policy.digests.contains(a) => checks.push(Check::fail(
            CheckId::Algorithm,
            format!(
                "digest {a} is not allowed by vendor '{}' policy (allowed: {})",
                vendor.id,
                vendor
                    .policy
                    .digests
                    .iter()
                    .map(|d| d.name())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        )),
        (Ok(a), Some(c)) => match signature::resolve_scheme_for(&si.signature_algorithm, *a, c) {
            Ok(s) => checks.push(Check::pass(CheckId::Algorithm, format!("{s} with {a}"))),
            Err(e) => checks.push(Check::fail(CheckId::Algorithm, e.to_string())),
        },
        (Ok(a), None) => checks.push(Check::skip(
            CheckId::Algorithm,
            format!("digest {a}; no signer certificate to resolve the scheme"),
        )),
    }

    let Some(cert) = cert else {
        checks.push(Check::fail(
            CheckId::Signature,
            format!(
                "the signer certificate ({}) is neither carried in the signature nor registered for vendor '{}'",
                signer::describe_sid(&si.sid),
                vendor.id
            ),
        ));
        return SignerReport {
            index,
            certificate: None,
            digest_algorithm: digest_alg.ok().map(|a| a.name().to_string()),
            signing_time: None,
            accepted: false,
            checks,
            path: Vec::new(),
        };
    };

    // Key strength.
    checks.push(match cert.key_algorithm() {
        crate::cert::KeyAlgorithm::Rsa { bits } if bits < vendor.policy.min_rsa_bits => {
            Check::fail(
                CheckId::KeyStrength,
                format!(
                    "the signer key is RSA-{bits}, below vendor '{}' minimum of {} bits",
                    vendor.id, vendor.policy.min_rsa_bits
                ),
            )
        }
        crate::cert::KeyAlgorithm::Unsupported { oid } => Check::fail(
            CheckId::KeyStrength,
            format!("the signer key algorithm {oid} is not supported"),
        ),
        k => Check::pass(CheckId::KeyStrength, format!("signer key {k}")),
    });

    // Signed attributes and the signature itself.
    let mut signature_ok = false;
    match digest_alg {
        Ok(alg) if alg != DigestAlgorithm::Sha1 => {
            let content_digest = digests.get(alg).unwrap_or(&[]);
            let attrs = if si.signed_attrs.is_some() {
                let encoding = p
                    .attrs_encoding
                    .get(index)
                    .copied()
                    .unwrap_or(crate::cms::AttrsEncoding::NotDer);
                match signer::check_signed_attributes(
                    si,
                    encoding,
                    p.content_type(),
                    content_digest,
                ) {
                    Ok(der) => {
                        checks.push(Check::pass(
                            CheckId::SignedAttributes,
                            "contentType and messageDigest match the blob",
                        ));
                        Some(der)
                    }
                    Err(e) => {
                        checks.push(Check::fail(CheckId::SignedAttributes, e.to_string()));
                        None
                    }
                }
            } else {
                checks.push(Check::skip(
                    CheckId::SignedAttributes,
                    "none: the signature covers the blob itself",
                ));
                None
            };
            if si.signed_attrs.is_some() && attrs.is_none() {
                checks.push(Check::skip(
                    CheckId::Signature,
                    "not verified: the signed attributes are wrong",
                ));
            } else {
                match signer::verify_signature(
                    si,
                    cert,
                    alg,
                    attrs.as_deref(),
                    content_digest,
                    content,
                ) {
                    Ok(scheme) => {
                        signature_ok = true;
                        checks.push(Check::pass(
                            CheckId::Signature,
                            format!("{scheme} signature by '{}' verifies", cert.subject()),
                        ))
                    }
                    Err(e) => checks.push(Check::fail(CheckId::Signature, e.to_string())),
                }
            }
        }
        _ => checks.push(Check::skip(
            CheckId::Signature,
            "not verified: the digest algorithm is not accepted",
        )),
    }

    // Timestamp: decides the signing time.
    let (ts_check, token) = timestamp_check(req, vendor, si);
    checks.push(ts_check);
    let (signing_time, source) = match &token {
        Some(t) if signature_ok => (t.gen_time, TimeSource::Timestamp),
        _ => (req.time, TimeSource::VerificationTime),
    };
    let signing = SigningTime {
        time: rfc3339(signing_time),
        source,
        tsa: token.as_ref().map(|t| t.tsa.subject()),
    };

    checks.push(crate::checks::contract_check(
        vendor,
        req.component,
        &cert.key_algorithm(),
        signing_time,
        source == TimeSource::Timestamp,
    ));
    checks.push(usage_check(cert));
    checks.push(crate::checks::signer_identity_check(
        vendor,
        req.component,
        Some(cert),
        None,
        None,
    ));

    let path = chain_check(req, vendor, p, cert, signing_time, source, &mut checks);

    checks.push(revocation_check(
        req,
        cert,
        path.as_ref(),
        token.as_ref().filter(|_| signature_ok),
    ));

    let accepted = checks.iter().all(|c| c.outcome != Outcome::Fail);
    SignerReport {
        index,
        certificate: Some(cert.summary()),
        digest_algorithm: digest_alg.ok().map(|a| a.name().to_string()),
        signing_time: Some(signing),
        accepted,
        checks,
        path: path
            .map(|p| p.certificates.iter().skip(1).map(|c| c.summary()).collect())
            .unwrap_or_default(),
    }
}
