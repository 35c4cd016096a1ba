//! Sigstore bundle verification (keyless identities and vendor keys), fully
//! offline against the trusted roots in the trust policy.
//!
//! The cryptographic work is done by the Sigstore project's
//! `sigstore-verify` crate, chosen over `sigstore` (sigstore-rs) because it
//! verifies the signed entry timestamp, the Merkle inclusion proof and the
//! checkpoint, the SCT, RFC 3161 timestamps and DSSE subjects, and works with
//! no networking (see docs/ARCHITECTURE.md). Tollgate adds around it what it
//! lacks: identities matched by regular expression, per-vendor keys chosen
//! from the registry (never from the bundle's hint), several trusted roots,
//! component authorisation and rollback floors, and the report.

use crate::cert::{KeyAlgorithm, ParsedCert, rfc3339};
use crate::checks::{component_check, version_check};
use crate::digest::{DigestAlgorithm, MultiHasher, hex};
use crate::report::{
    BlobInfo, Check, CheckId, Outcome, Report, SignatureInfo, SignerReport, SigningTime,
    TimeSource, Verdict,
};
use crate::request::{Artifact as Subject, VerifyError, VerifyRequest};
use crate::sigstore_trust::SigstoreRoot;
use sigstore_types::{Artifact, ArtifactDigest, Bundle, HashAlgorithm, Sha256Hash, Sha512Hash};
use sigstore_verify::{
    Error as SigError, PublicKeyVerificationPolicy, VerificationPolicy, VerificationResult,
};
use std::io::Read;
use time::OffsetDateTime;

/// What a bundle is checked against (the core's [`crate::request::Artifact`]).
pub type SigstoreArtifact<'a> = crate::request::Artifact<'a>;

/// Whether these bytes look like a Sigstore bundle: a JSON object with a
/// `mediaType` or `verificationMaterial` (an unknown media type is then
/// rejected by the bundle parser with a clear message, not mistaken for CMS).
pub fn looks_like_bundle(bytes: &[u8]) -> bool {
    let first = bytes.iter().find(|b| !b.is_ascii_whitespace());
    first == Some(&b'{')
        && serde_json::from_slice::<serde_json::Value>(bytes)
            .ok()
            .is_some_and(|v| {
                v.get("mediaType").is_some() || v.get("verificationMaterial").is_some()
            })
}

/// A revoked identity or key: for all time, or from an instant the
/// bundle's trusted time (RFC 3161 or the log's integrated time) is not
/// before, fails the identity check; a bundle proven earlier keeps `ok`
/// with the revocation noted. No trusted time: revoked.
fn sigstore_revocation_check(
    req: &VerifyRequest<'_>,
    identity: Option<(&str, &str)>,
    key_fp: Option<&str>,
    signing_time: Option<OffsetDateTime>,
    ok: Check,
) -> Check {
    let hit =
        req.policy
            .sigstore_revocations
            .iter()
            .find(|r| match (&r.identity, &r.key_spki_sha256) {
                (Some((i, s)), _) => identity == Some((i.as_str(), s.as_str())),
                (_, Some(k)) => key_fp.is_some_and(|f| f.eq_ignore_ascii_case(k)),
                _ => false,
            });
    let Some(r) = hit else { return ok };
    let who = match (identity, key_fp) {
        (Some((i, s)), _) => format!("the identity {s} (issuer {i})"),
        (_, Some(k)) => format!("the key with SPKI SHA-256 {k}"),
        _ => "the signer".to_string(),
    };
    match (r.revoked_from, signing_time) {
        (Some(from), Some(t)) if t < from => Check::pass(
            CheckId::Identity,
            format!(
                "{}; {who} is revoked ({}) from {}, but the bundle's trusted time {} is before that",
                ok.reason,
                r.reason,
                rfc3339(from),
                rfc3339(t)
            ),
        ),
        (Some(from), Some(t)) => Check::fail(
            CheckId::Identity,
            format!(
                "{who} is revoked ({}) from {}; the bundle's trusted time {} is not before that",
                r.reason,
                rfc3339(from),
                rfc3339(t)
            ),
        ),
        (Some(from), None) => Check::fail(
            CheckId::Identity,
            format!(
                "{who} is revoked ({}) from {} and no trusted time proves the bundle is older",
                r.reason,
                rfc3339(from)
            ),
        ),
        (None, _) => Check::fail(
            CheckId::Identity,
            format!(
                "{who} is revoked ({}) with no start date, so no bundle by it is trusted",
                r.reason
            ),
        ),
    }
}

/// A bundle must say what it is (`mediaType`, a string): without it, it
/// would be read as v0.1 (sigstore-types' default), a guess that decides
/// which fields are required.
fn media_type_problem(bytes: &[u8]) -> Option<String> {
    let v: serde_json::Value = serde_json::from_slice(bytes).ok()?;
    match v.get("mediaType") {
        None => Some(
            "the bundle has no mediaType: a Sigstore bundle must name its version (application/vnd.dev.sigstore.bundle…)".into(),
        ),
        // A string is judged by the bundle parser (unknown versions refused).
        Some(serde_json::Value::String(_)) => None,
        Some(other) => Some(format!(
            "the bundle's mediaType {} is not a string",
            other.to_string().chars().take(100).collect::<String>()
        )),
    }
}

fn media_version(b: &Bundle) -> String {
    let s = b.media_type.to_string();
    if s.contains("0.1") {
        "v0.1".into()
    } else if s.contains("0.2") {
        "v0.2".into()
    } else {
        "v0.3".into()
    }
}

/// Maps a sigstore-verify error to the check it breaks.
fn check_of(e: &SigError) -> CheckId {
    match e {
        SigError::IdentityMismatch { .. } | SigError::IssuerMismatch { .. } => CheckId::Identity,
        SigError::SignatureInvalid(_) | SigError::Crypto(_) => CheckId::Signature,
        SigError::ArtifactMismatch(_)
        | SigError::UnsupportedArtifact(_)
        | SigError::ArtifactRead(_) => CheckId::Content,
        SigError::Certificate(_) => CheckId::Chain,
        SigError::TransparencyLog(_) => CheckId::TransparencyLog,
        SigError::Timestamp(_) => CheckId::Timestamp,
        _ => CheckId::Format,
    }
}

/// How far `sigstore-verify` got when a check failed, in its order: signing
/// times (TSA, signed entry timestamp), certificate chain and SCT, identity,
/// transparency-log proofs, then the signature over the artifact.
fn stage_of(id: CheckId) -> u8 {
    match id {
        CheckId::Timestamp => 1,
        CheckId::Chain => 2,
        CheckId::Identity => 3,
        CheckId::TransparencyLog => 4,
        CheckId::Signature | CheckId::Content => 5,
        _ => 0,
    }
}

/// The blob's digests (and bytes, if small enough for schemes that sign the message).
struct Scanned {
    sha256: Vec<u8>,
    sha512: Vec<u8>,
    size: u64,
    bytes: Option<Vec<u8>>,
}

fn scan(
    reader: &mut dyn Read,
    keep_limit: usize,
    max: u64,
) -> Result<Option<Scanned>, VerifyError> {
    let mut h = MultiHasher::new([DigestAlgorithm::Sha256, DigestAlgorithm::Sha512]);
    let mut kept = crate::digest::KeepUpTo::new(true, keep_limit);
    let complete = crate::digest::for_each_chunk(reader, 1 << 20, |chunk| {
        if h.length().saturating_add(chunk.len() as u64) > max {
            return false;
        }
        h.update(chunk);
        kept.push(chunk);
        true
    })?;
    if !complete {
        return Ok(None);
    }
    let kept = kept.into_inner();
    let d = h.finish();
    Ok(Some(Scanned {
        sha256: d.get(DigestAlgorithm::Sha256).unwrap_or(&[]).to_vec(),
        sha512: d.get(DigestAlgorithm::Sha512).unwrap_or(&[]).to_vec(),
        size: d.length,
        bytes: kept,
    }))
}

fn digest_artifact(alg: DigestAlgorithm, value: &[u8]) -> Option<Artifact<'static>> {
    match alg {
        DigestAlgorithm::Sha256 => <[u8; 32]>::try_from(value)
            .ok()
            .map(|a| Artifact::from(Sha256Hash::new(a))),
        DigestAlgorithm::Sha512 => <[u8; 64]>::try_from(value)
            .ok()
            .and_then(|a| ArtifactDigest::new(HashAlgorithm::Sha2512, Sha512Hash::new(a)).ok())
            .map(Artifact::from),
        _ => None,
    }
}

enum Attempt {
    Keyless,
    Key(usize),
}

/// Verifies a Sigstore bundle for the claimed vendor, component and version.
pub fn verify_sigstore(
    req: &VerifyRequest<'_>,
    artifact: Subject<'_>,
) -> Result<Report, VerifyError> {
    let mut checks = Vec::new();
    let vendor = req.policy.vendor(req.vendor);
    checks.push(component_check(req, vendor));
    checks.push(version_check(req, vendor));
    let mut sig_info = SignatureInfo {
        path: None,
        kind: "sigstore".into(),
        encoding: None,
        attached: None,
    };

    // The artifact, as digests (and bytes when small).
    let mut blob = BlobInfo::default();
    let mut inputs: Vec<Artifact<'_>> = Vec::new();
    let scanned;
    match artifact {
        Subject::Reader(r) => match scan(
            r,
            req.limits.max_unhashed_content_bytes,
            req.limits.max_blob_bytes,
        )? {
            None => checks.push(Check::fail(
                CheckId::Content,
                format!(
                    "the blob is larger than the limit of {} bytes",
                    req.limits.max_blob_bytes
                ),
            )),
            Some(s) => {
                scanned = s;
                blob.sha256 = Some(hex(&scanned.sha256));
                blob.sha512 = Some(hex(&scanned.sha512));
                blob.size = Some(scanned.size);
                // The bytes first, when small enough: the verifier derives
                // whatever digest the bundle uses in one attempt. Larger
                // blobs go by digest (SHA-256, then SHA-512).
                if let Some(b) = &scanned.bytes {
                    inputs.push(Artifact::from(b.as_slice()));
                }
                inputs.extend(digest_artifact(DigestAlgorithm::Sha256, &scanned.sha256));
                inputs.extend(digest_artifact(DigestAlgorithm::Sha512, &scanned.sha512));
            }
        },
        Subject::Digests(d) => {
            blob.sha256 = d.get(DigestAlgorithm::Sha256).map(hex);
            blob.sha512 = d.get(DigestAlgorithm::Sha512).map(hex);
            blob.size = Some(d.length);
            if d.length > req.limits.max_blob_bytes {
                checks.push(Check::fail(
                    CheckId::Content,
                    format!(
                        "the blob is larger than the limit of {} bytes",
                        req.limits.max_blob_bytes
                    ),
                ));
            }
            for alg in [DigestAlgorithm::Sha256, DigestAlgorithm::Sha512] {
                if let Some(v) = d.get(alg) {
                    inputs.extend(digest_artifact(alg, v));
                }
            }
            if inputs.is_empty() {
                checks.push(Check::fail(
                    CheckId::Content,
                    "a Sigstore bundle is checked against the blob's SHA-256 or SHA-512, and neither was given",
                ));
            }
        }
        Subject::Digest { algorithm, value } => match digest_artifact(algorithm, &value) {
            Some(a) => {
                if algorithm == DigestAlgorithm::Sha256 {
                    blob.sha256 = Some(hex(&value));
                }
                inputs.push(a);
            }
            None => checks.push(Check::fail(
                CheckId::Content,
                format!(
                    "a {algorithm} digest must be {} bytes",
                    if algorithm == DigestAlgorithm::Sha512 {
                        64
                    } else {
                        32
                    }
                ),
            )),
        },
    }

    let bundle = if req.signature.len() > req.limits.max_signature_bytes {
        Err(format!(
            "the bundle is {} bytes, over the limit of {}",
            req.signature.len(),
            req.limits.max_signature_bytes
        ))
    } else if let Some(problem) = media_type_problem(req.signature) {
        Err(problem)
    } else {
        std::str::from_utf8(req.signature)
            .map_err(|_| "the bundle is not UTF-8 JSON".to_string())
            .and_then(|s| {
                Bundle::from_json(s).map_err(|e| {
                    format!("not a supported Sigstore bundle (v0.1, v0.2 or v0.3): {e}")
                })
            })
    };
    let bundle = match bundle {
        Ok(b) => {
            sig_info.encoding = Some(media_version(&b));
            let kind = if matches!(b.content, sigstore_types::SignatureContent::DsseEnvelope(_)) {
                "DSSE envelope"
            } else {
                "message signature"
            };
            let keyed = matches!(
                b.verification_material.content,
                sigstore_types::VerificationMaterialContent::PublicKey(_)
            );
            checks.push(Check::pass(
                CheckId::Format,
                format!(
                    "Sigstore bundle {} ({kind}, {})",
                    media_version(&b),
                    if keyed {
                        "vendor key"
                    } else {
                        "keyless certificate"
                    }
                ),
            ));
            Some(b)
        }
        Err(e) => {
            checks.push(Check::fail(CheckId::Format, e));
            None
        }
    };

    let mut signers = Vec::new();
    if let (Some(b), Some(v)) = (&bundle, vendor)
        && !inputs.is_empty()
    {
        signers.push(crate::sigstore_memo::bundle_scope(|| {
            evaluate(req, v, b, &inputs)
        }));
    }

    let mut report = crate::checks::assemble(req, checks, signers, blob, sig_info);
    report.summary = match report.verdict {
        Verdict::Accept => {
            let who = report
                .signers
                .first()
                .and_then(|s| s.checks.iter().find(|c| c.id == CheckId::Identity))
                .map(|c| c.reason.clone())
                .unwrap_or_default();
            format!("accepted: {who}")
        }
        Verdict::Reject => crate::checks::rejection_summary(&report),
    };
    Ok(report)
}

/// The signer entry when verification stopped before a result.
fn unevaluated_signer(checks: Vec<Check>) -> SignerReport {
    SignerReport {
        index: 0,
        certificate: None,
        digest_algorithm: None,
        signing_time: None,
        accepted: false,
        checks,
        path: Vec::new(),
    }
}

fn evaluate(
    req: &VerifyRequest<'_>,
    vendor: &crate::policy::Vendor,
    bundle: &Bundle,
    inputs: &[Artifact<'_>],
) -> SignerReport {
    let keyed = matches!(
        bundle.verification_material.content,
        sigstore_types::VerificationMaterialContent::PublicKey(_)
    );
    let mut checks = Vec::new();
    let roots = &req.policy.sigstore_roots;
    let attempts: Vec<Attempt> = if keyed {
        (0..vendor.sigstore.keys.len()).map(Attempt::Key).collect()
    } else {
        vec![Attempt::Keyless]
    };
    if roots.is_empty() {
        checks.push(Check::fail(
            CheckId::TransparencyLog,
            "the trust policy has no Sigstore trusted roots",
        ));
    } else if keyed && vendor.sigstore.keys.is_empty() {
        checks.push(Check::fail(CheckId::Identity, format!("the bundle is signed with a key, and vendor '{}' has no Sigstore keys registered (the bundle's key hint is never trusted)", vendor.id)));
    } else if !keyed && vendor.sigstore.identities.is_empty() {
        checks.push(Check::fail(
            CheckId::Identity,
            format!(
                "vendor '{}' has no Sigstore identities registered",
                vendor.id
            ),
        ));
    }
    if checks.iter().any(|c| c.outcome == Outcome::Fail) {
        return unevaluated_signer(checks);
    }

    // Try every (root, key) combination; the first that verifies wins.
    let mut failures: Vec<(String, &SigstoreRoot, SigError)> = Vec::new();
    let mut success: Option<(VerificationResult, &SigstoreRoot, Option<usize>)> = None;
    'outer: for root in roots {
        for attempt in &attempts {
            let mut last_err = None;
            for input in inputs {
                let result = match attempt {
                    Attempt::Keyless => root.verifier.verify(
                        input.clone(),
                        bundle,
                        &VerificationPolicy::any_identity(),
                    ),
                    Attempt::Key(i) => match vendor.sigstore.keys.get(*i) {
                        Some((k, _)) => root.verifier.verify(
                            input.clone(),
                            bundle,
                            &PublicKeyVerificationPolicy::new(k.clone()),
                        ),
                        None => continue,
                    },
                };
                match result {
                    Ok(r) => {
                        success = Some((
                            r,
                            root,
                            match attempt {
                                Attempt::Key(i) => Some(*i),
                                Attempt::Keyless => None,
                            },
                        ));
                        break 'outer;
                    }
                    // Another form of the same artifact may suit the bundle (digest algorithm, bytes).
                    Err(SigError::UnsupportedArtifact(m)) => {
                        last_err = Some(SigError::UnsupportedArtifact(m))
                    }
                    Err(SigError::ArtifactMismatch(m)) if inputs.len() > 1 => {
                        last_err = Some(SigError::ArtifactMismatch(m))
                    }
                    Err(e) => {
                        last_err = Some(e);
                        break;
                    }
                }
            }
            if let Some(e) = last_err {
                let label = match attempt {
                    Attempt::Keyless => format!("trusted root '{}'", root.name),
                    Attempt::Key(i) => format!(
                        "trusted root '{}' with vendor key {}",
                        root.name,
                        vendor
                            .sigstore
                            .keys
                            .get(*i)
                            .map(|k| k.1.get(..16).unwrap_or(""))
                            .unwrap_or("")
                    ),
                };
                failures.push((label, root, e));
            }
        }
    }

    let Some((result, root, key_index)) = success else {
        // Report the failure at its check; the others could not be evaluated.
        // With several roots, the bundle's own instance (the root listing its
        // log), then the one that got furthest, is the one whose failure is
        // the diagnosis; it is listed first.
        let bundle_logs: Vec<&[u8]> = bundle
            .verification_material
            .tlog_entries
            .iter()
            .map(|e| e.log_id.key_id.as_bytes())
            .collect();
        failures.sort_by_key(|(_, root, e)| {
            std::cmp::Reverse((
                root.log_ids
                    .iter()
                    .any(|id| bundle_logs.contains(&id.as_slice())),
                stage_of(check_of(e)),
            ))
        });
        let (id, reason) = match failures.first() {
            Some((_, _, e)) => {
                let all: Vec<String> = failures
                    .iter()
                    .map(|(l, _, e)| format!("{l}: {e}"))
                    .collect();
                (
                    check_of(e),
                    if failures.len() == 1 {
                        failures
                            .first()
                            .map(|(_, _, e)| e.to_string())
                            .unwrap_or_default()
                    } else {
                        all.join("; ")
                    },
                )
            }
            None => (
                CheckId::Signature,
                "no verification was possible".to_string(),
            ),
        };
        checks.push(Check::fail(id, reason));
        for c in [
            CheckId::Signature,
            CheckId::TransparencyLog,
            CheckId::Chain,
            CheckId::Timestamp,
            CheckId::Identity,
        ] {
            if c != id {
                checks.push(Check::skip(
                    c,
                    "not evaluated: verification stopped at the failing check",
                ));
            }
        }
        return unevaluated_signer(checks);
    };

    checks.push(Check::pass(
        CheckId::Signature,
        format!(
            "the signature over the artifact verifies (trusted root '{}')",
            root.name
        ),
    ));
    if result.tlog_verified() {
        checks.push(Check::pass(CheckId::TransparencyLog, "the transparency-log entry verifies (inclusion proof and checkpoint, or signed entry timestamp) and matches the bundle"));
    } else {
        checks.push(Check::fail(
            CheckId::TransparencyLog,
            "the transparency log was not verified",
        ));
    }
    let times: Vec<OffsetDateTime> = result
        .verified_timestamps()
        .iter()
        .filter_map(|t| OffsetDateTime::from_unix_timestamp(t.as_second()).ok())
        .collect();
    let signing_time = times.iter().min().copied();
    match signing_time {
        Some(t) => checks.push(Check::pass(
            CheckId::Timestamp,
            format!(
                "verified signing time {} ({} trusted time source(s))",
                rfc3339(t),
                times.len()
            ),
        )),
        None => checks.push(Check::skip(CheckId::Timestamp, "no verified timestamp")),
    }
    let mut cert_summary = None;
    match key_index {
        Some(i) => {
            checks.push(Check::skip(CheckId::Chain, "keyed bundle: no certificate"));
            let (key_alg, fp) = vendor
                .sigstore
                .keys
                .get(i)
                .map(|k| (KeyAlgorithm::of_spki_der(k.0.as_bytes()), k.1.clone()))
                .unwrap_or_else(|| {
                    (
                        KeyAlgorithm::Unsupported {
                            oid: "unknown key".into(),
                        },
                        String::new(),
                    )
                });
            checks.push(sigstore_revocation_check(
                req,
                None,
                Some(&fp),
                signing_time,
                Check::pass(
                    CheckId::Identity,
                    format!("signed with vendor '{}' key (SPKI SHA-256 {fp})", vendor.id),
                ),
            ));
            let spki = crate::policy::parse_hex(&fp);
            checks.push(crate::checks::signer_identity_check(
                vendor,
                req.component,
                None,
                None,
                spki.as_deref(),
            ));
            checks.push(crate::checks::contract_check(
                vendor,
                req.component,
                &key_alg,
                signing_time.unwrap_or(req.time),
                signing_time.is_some(),
            ));
        }
        None => {
            if result.certificate_verified() && result.sct_verified() {
                checks.push(Check::pass(CheckId::Chain, "the certificate chains to the trusted root's Fulcio CA at the signing time, with a valid SCT"));
            } else {
                checks.push(Check::fail(
                    CheckId::Chain,
                    "the certificate or its SCT was not verified",
                ));
            }
            let leaf = leaf_certificate(bundle);
            cert_summary = leaf.as_ref().map(|c| c.summary());
            // The identity sigstore-verify extracts (URI or email SAN), or
            // else the OtherName SAN private Fulcio deployments issue.
            let san = result
                .identity()
                .map(|s| s.as_str().to_string())
                .or_else(|| {
                    leaf.as_ref()
                        .and_then(|c| c.other_name_sans(&FULCIO_OTHERNAME_SAN).into_iter().next())
                })
                .unwrap_or_default();
            checks.push(crate::checks::signer_identity_check(
                vendor,
                req.component,
                leaf.as_ref(),
                Some(&san),
                None,
            ));
            let key_alg = leaf.as_ref().map(|c| c.key_algorithm()).unwrap_or_else(|| {
                KeyAlgorithm::Unsupported {
                    oid: "no certificate".into(),
                }
            });
            checks.push(crate::checks::contract_check(
                vendor,
                req.component,
                &key_alg,
                signing_time.unwrap_or(req.time),
                signing_time.is_some(),
            ));
            let issuer = result.issuer().unwrap_or_default().to_string();
            match vendor
                .sigstore
                .identities
                .iter()
                .find(|i| i.matches(&san, &issuer))
            {
                Some(i) => checks.push(sigstore_revocation_check(
                    req,
                    Some((&issuer, &san)),
                    None,
                    signing_time,
                    Check::pass(
                        CheckId::Identity,
                        format!(
                            "signed by {san} (issuer {issuer}) for vendor '{}', matching {}",
                            vendor.id,
                            i.describe()
                        ),
                    ),
                )),
                None => {
                    let owner = req.policy.vendors.iter().find(|o| {
                        o.id != vendor.id
                            && o.sigstore
                                .identities
                                .iter()
                                .any(|i| i.matches(&san, &issuer))
                    });
                    let hint = owner
                        .map(|o| format!("; it is an identity of vendor '{}'", o.id))
                        .unwrap_or_default();
                    checks.push(Check::fail(
                        CheckId::Identity,
                        format!("the signer {san} (issuer {issuer}) is not an identity of vendor '{}'{hint}", vendor.id),
                    ));
                }
            }
        }
    }
    let accepted = checks.iter().all(|c| c.outcome != Outcome::Fail);
    SignerReport {
        index: 0,
        certificate: cert_summary,
        digest_algorithm: None,
        signing_time: signing_time.map(|t| SigningTime {
            time: rfc3339(t),
            source: TimeSource::Timestamp,
            tsa: None,
        }),
        accepted,
        checks,
        path: Vec::new(),
    }
}

/// Fulcio's OtherName SAN type for a username identity (Fulcio's
/// certificate specification, OID 1.3.6.1.4.1.57264.1.7).
const FULCIO_OTHERNAME_SAN: const_oid::ObjectIdentifier =
    const_oid::ObjectIdentifier::new_unwrap("1.3.6.1.4.1.57264.1.7");

fn leaf_certificate(bundle: &Bundle) -> Option<ParsedCert> {
    use sigstore_types::VerificationMaterialContent as V;
    let der = match &bundle.verification_material.content {
        V::Certificate(c) => c.raw_bytes.as_bytes().to_vec(),
        V::X509CertificateChain { certificates } => {
            certificates.first()?.raw_bytes.as_bytes().to_vec()
        }
        _ => return None,
    };
    ParsedCert::from_der(der).ok()
}
