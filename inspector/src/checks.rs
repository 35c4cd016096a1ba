//! Checks shared by every signature kind (CMS and Sigstore): component
//! authorisation and the rollback floor, report assembly and its summary,
//! and the product capability rule.

use crate::cert::rfc3339;
use crate::policy::{StageDocument, TrustPolicy, Vendor};
use crate::report::{
    BlobInfo, Check, CheckId, Outcome, REPORT_VERSION, Report, SignatureInfo, SignerReport,
    TimeSource, Verdict,
};
use crate::request::VerifyRequest;

/// Puts a report together: accepted when every general check passes and at
/// least one signer passed all of its checks. The caller writes the summary.
pub(crate) fn assemble(
    req: &VerifyRequest<'_>,
    checks: Vec<Check>,
    signers: Vec<SignerReport>,
    blob: BlobInfo,
    signature: SignatureInfo,
) -> Report {
    let mut checks = checks;
    let version_source = match req.policy.vendor(req.vendor) {
        Some(v) if blob.sha256.is_some() || blob.sha384.is_some() || blob.sha512.is_some() => {
            let (check, source) = crate::sbom_binding::check(
                &req.policy.sbom_bindings,
                &v.id,
                v.require_signed_sbom,
                req.component,
                req.version,
                (
                    blob.sha256.as_deref(),
                    blob.sha384.as_deref(),
                    blob.sha512.as_deref(),
                ),
            );
            checks.push(check);
            Some(source)
        }
        _ => None,
    };
    let general_ok = checks.iter().all(|c| c.outcome != Outcome::Fail);
    let verdict = if general_ok && signers.iter().any(|s| s.accepted) {
        Verdict::Accept
    } else {
        Verdict::Reject
    };
    Report {
        report_version: REPORT_VERSION,
        verdict,
        summary: String::new(),
        vendor: req.vendor.to_string(),
        component: req.component.to_string(),
        version: req.version.to_string(),
        version_source,
        blob,
        signature,
        verification_time: rfc3339(req.time),
        checks,
        signers,
    }
}

/// The summary of a rejection: the first failing check's reason.
pub(crate) fn rejection_summary(report: &Report) -> String {
    match report.first_failure() {
        Some(c) => format!("rejected: {}", c.reason),
        None => "rejected: no signer passed every check".to_string(),
    }
}

/// The one-line summary of a finished report.
pub(crate) fn summarize(report: &Report) -> String {
    match report.verdict {
        Verdict::Accept => {
            let s = report.signers.iter().find(|s| s.accepted);
            let who = s
                .and_then(|s| s.certificate.as_ref())
                .map(|c| c.subject.clone())
                .unwrap_or_default();
            let when = s
                .and_then(|s| s.signing_time.as_ref())
                .map(|t| match t.source {
                    TimeSource::Timestamp => format!("timestamped {}", t.time),
                    TimeSource::VerificationTime => {
                        "no timestamp, judged at the verification time".to_string()
                    }
                });
            format!(
                "accepted: signed by '{who}' for vendor '{}'{}",
                report.vendor,
                when.map(|w| format!(", {w}")).unwrap_or_default()
            )
        }
        Verdict::Reject => rejection_summary(report),
    }
}

pub(crate) fn component_check(req: &VerifyRequest<'_>, vendor: Option<&Vendor>) -> Check {
    let Some(v) = vendor else {
        return Check::fail(
            CheckId::Component,
            format!("vendor '{}' is not in the trust policy", req.vendor),
        );
    };
    if v.components.iter().any(|c| c.name == req.component) {
        Check::pass(
            CheckId::Component,
            format!(
                "vendor '{}' is authorised to supply '{}'",
                v.id, req.component
            ),
        )
    } else {
        let others: Vec<&str> = req
            .policy
            .vendors
            .iter()
            .filter(|o| o.components.iter().any(|c| c.name == req.component))
            .map(|o| o.id.as_str())
            .collect();
        let hint = if others.is_empty() {
            String::new()
        } else {
            format!(" (it is registered for: {})", others.join(", "))
        };
        Check::fail(
            CheckId::Component,
            format!(
                "vendor '{}' is not authorised to supply component '{}'{hint}",
                v.id, req.component
            ),
        )
    }
}

/// The vendor's contract (issue 11): a signature made, by its trusted time
/// (the RFC 3161 or transparency-log time, else the verification time),
/// after the contract ended, or with a key algorithm the contract does not
/// list, fails with the clause named. The support period is reported, not
/// enforced: it is the vendor's promise of updates, not a limit on what it
/// may sign.
pub(crate) fn contract_check(
    vendor: &Vendor,
    component: &str,
    key: &crate::cert::KeyAlgorithm,
    signing_time: time::OffsetDateTime,
    trusted_time: bool,
) -> Check {
    let contract = if vendor.contract_ref.is_empty() {
        format!("vendor '{}' contract", vendor.id)
    } else {
        format!("vendor '{}' contract {}", vendor.id, vendor.contract_ref)
    };
    let when = if trusted_time {
        "its trusted signing time"
    } else {
        "the verification time (no trusted signing time)"
    };
    if let Some(end) = vendor.contract_ends
        && signing_time > end
    {
        return Check::fail(
            CheckId::Contract,
            format!(
                "{contract}, clause 'contract end': the signature dates from {} ({when}), after the contract ended {}",
                rfc3339(signing_time),
                rfc3339(end)
            ),
        );
    }
    let allowed = &vendor.policy.key_algorithms;
    if !allowed.is_empty() && !key.family().is_some_and(|f| allowed.iter().any(|a| a == f)) {
        return Check::fail(
            CheckId::Contract,
            format!(
                "{contract}, clause 'allowed key algorithms': the signer key is {key}, not one of {}",
                allowed.join(", ")
            ),
        );
    }
    let support = vendor
        .components
        .iter()
        .find(|c| c.name == component)
        .and_then(|c| c.support_ends)
        .or(vendor.support_ends)
        .map(|t| format!("; support until {}", rfc3339(t)))
        .unwrap_or_default();
    let ends = vendor
        .contract_ends
        .map(|t| format!(" (ends {})", rfc3339(t)))
        .unwrap_or_default();
    Check::pass(
        CheckId::Contract,
        format!("signed within {contract}{ends} with an allowed {key} key{support}"),
    )
}

/// The component's allowed signers (issue 11; like RAUC's
/// `allowed-signer-cns` and Notation's `trustedIdentities`): when the
/// component has a list, the signer must be on it, by certificate subject
/// (exact RDN set), key (SPKI SHA-256) or Sigstore identity. Without a
/// list the check is skipped and says so.
pub fn signer_identity_check(
    vendor: &crate::policy::Vendor,
    component: &str,
    cert: Option<&crate::cert::ParsedCert>,
    sigstore_san: Option<&str>,
    key_spki_sha256: Option<&[u8]>,
) -> Check {
    use crate::policy::AllowedSigner;
    let Some(c) = vendor.components.iter().find(|c| c.name == component) else {
        return Check::skip(CheckId::SignerIdentity, "the component is not authorised");
    };
    if c.allowed_signers.is_empty() {
        return Check::skip(
            CheckId::SignerIdentity,
            format!(
                "component '{component}' has no allowed-signer list: any key of vendor '{}' may sign it",
                vendor.id
            ),
        );
    }
    let hit = c.allowed_signers.iter().find(|a| match a {
        AllowedSigner::SigstoreSan(s) => sigstore_san == Some(s.as_str()),
        AllowedSigner::Spki(h) if key_spki_sha256.is_some() => key_spki_sha256 == Some(h),
        other => cert.is_some_and(|cert| other.matches_cert(cert)),
    });
    let who = match (cert, sigstore_san) {
        (_, Some(san)) => san.to_string(),
        (Some(cert), None) => format!("'{}'", cert.subject()),
        (None, None) => "the signing key".to_string(),
    };
    match hit {
        Some(a) => Check::pass(
            CheckId::SignerIdentity,
            format!(
                "{who} is an allowed signer of '{component}' ({})",
                a.describe()
            ),
        ),
        None => Check::fail(
            CheckId::SignerIdentity,
            format!(
                "{who} may not sign component '{component}': its allowed signers are {}",
                c.allowed_signers
                    .iter()
                    .map(AllowedSigner::describe)
                    .collect::<Vec<_>>()
                    .join("; ")
            ),
        ),
    }
}

/// Whether `version` is below the rollback `floor`, by semantic-version
/// precedence: build metadata (`+…`) is ignored (semver 2.0 section 10),
/// pre-releases are below their release. The one floor rule of the
/// inspector, the registry's allowlists and its brick check.
pub fn below_floor(version: &semver::Version, floor: &semver::Version) -> bool {
    version.cmp_precedence(floor) == std::cmp::Ordering::Less
}

pub(crate) fn version_check(req: &VerifyRequest<'_>, vendor: Option<&Vendor>) -> Check {
    let version = match semver::Version::parse(req.version) {
        Ok(v) => v,
        Err(e) => {
            return Check::fail(
                CheckId::VersionFloor,
                format!(
                    "version '{}' is not a semantic version (MAJOR.MINOR.PATCH): {e}",
                    req.version
                ),
            );
        }
    };
    let floor = vendor
        .and_then(|v| v.components.iter().find(|c| c.name == req.component))
        .and_then(|c| c.min_version.as_ref());
    match floor {
        None if vendor.is_some_and(|v| v.components.iter().any(|c| c.name == req.component)) => {
            Check::pass(
                CheckId::VersionFloor,
                format!(
                    "version {version}; component '{}' has no rollback floor",
                    req.component
                ),
            )
        }
        None => Check::skip(
            CheckId::VersionFloor,
            "no floor applies: the component is not authorised",
        ),
        Some(min) if !below_floor(&version, min) => Check::pass(
            CheckId::VersionFloor,
            format!("version {version} is at or above the rollback floor {min}"),
        ),
        Some(min) => Check::fail(
            CheckId::VersionFloor,
            format!(
                "version {version} is below the rollback floor {min} for '{}' (downgrade)",
                req.component
            ),
        ),
    }
}

/// The capability rule, shared by `verify --product` and the registry's
/// receipts: every boot stage of `product` that loads the report's component
/// must be able to verify the key that signed the blob. Fails naming the
/// stage and what it can verify; fails when no stage loads the component;
/// skips when the report has no signer certificate.
pub fn capability_check(product: &str, stages: &[StageDocument], report: &Report) -> Check {
    let stages: Vec<_> = stages
        .iter()
        .filter(|s| s.components.contains(&report.component))
        .collect();
    let signer = report
        .signers
        .iter()
        .find(|s| s.accepted)
        .or(report.signers.first());
    let key = signer
        .and_then(|s| s.certificate.as_ref())
        .map(|c| c.key.clone());
    match (stages.is_empty(), key) {
        (true, _) => Check::fail(
            CheckId::Capability,
            format!(
                "no boot stage of product '{product}' loads component '{}'",
                report.component
            ),
        ),
        (false, None) => Check::skip(
            CheckId::Capability,
            "no signer certificate: the key cannot be compared with the boot stages",
        ),
        (false, Some(k)) => {
            let cap = crate::cert::capability_of_key_name(&k);
            match stages.iter().find(|s| !s.algorithms.contains(&cap)) {
                Some(s) => Check::fail(
                    CheckId::Capability,
                    format!(
                        "boot stage '{}' of product '{product}' verifies {} and cannot verify the {k} key that signed this blob",
                        s.name,
                        s.algorithms.join(", ")
                    ),
                ),
                None => Check::pass(
                    CheckId::Capability,
                    format!(
                        "boot stage(s) {} of product '{product}' can verify the {k} signer key",
                        stages
                            .iter()
                            .map(|s| s.name.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                ),
            }
        }
    }
}

/// Adds the product capability check to a report: the boot stage of
/// `product` that loads the component must be able to verify the key that
/// signed the blob. A failure rejects the blob, naming the stage and why.
pub fn apply_product(report: &mut Report, policy: &TrustPolicy, product: &str) {
    let check = match policy.products.iter().find(|p| p.id == product) {
        None => Check::fail(
            CheckId::Capability,
            format!("product '{product}' is not in the trust policy"),
        ),
        Some(p) => capability_check(product, &p.stages, report),
    };
    let failed = check.outcome == Outcome::Fail;
    report.checks.push(check);
    if failed && report.verdict == Verdict::Accept {
        report.verdict = Verdict::Reject;
        report.summary = rejection_summary(report);
    }
}

#[cfg(test)]
#[allow(clippy::panic)]
mod tests {
    use super::below_floor;

    fn v(s: &str) -> semver::Version {
        semver::Version::parse(s).unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    #[test]
    fn floors_ignore_build_metadata_and_put_prereleases_below() {
        assert!(!below_floor(&v("3.1.0+alpha"), &v("3.1.0+zeta")));
        assert!(!below_floor(&v("3.1.0"), &v("3.1.0+zeta")));
        assert!(!below_floor(&v("3.1.0+zeta"), &v("3.1.0")));
        assert!(below_floor(&v("3.0.9+zeta"), &v("3.1.0")));
        assert!(below_floor(&v("3.1.0-rc.1"), &v("3.1.0")));
        assert!(!below_floor(&v("3.1.1-rc.1"), &v("3.1.0")));
    }
}
