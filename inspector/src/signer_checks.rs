//! The checks of one CMS signer's certificate and time: the RFC 3161
//! timestamp that decides the signing time, key usage and EKU, the path to
//! the vendor's anchors (and whose anchors it reaches otherwise), and
//! time-scoped revocation. Used by [`crate::cms_verify`].

use crate::cert::{ParsedCert, date, rfc3339};
use crate::chain::{self, ChainError, ChainRequest, EkuRequirement, ValidPath};
use crate::cms::{self, ParsedSignedData};
use crate::oids;
use crate::policy::Vendor;
use crate::report::{Check, CheckId, TimeSource};
use crate::request::VerifyRequest;
use crate::timestamp::{self, Timestamp};
use ::cms::signed_data::SignerInfo;
use time::OffsetDateTime;

pub(crate) fn timestamp_check(
    req: &VerifyRequest<'_>,
    vendor: &Vendor,
    si: &SignerInfo,
) -> (Check, Option<Timestamp>) {
    let token = si
        .unsigned_attrs
        .as_ref()
        .map(|a| cms::single_attribute(a, oids::ATTR_TIMESTAMP_TOKEN))
        .transpose();
    let token = match token {
        Ok(t) => t.flatten(),
        Err(e) => return (Check::fail(CheckId::Timestamp, e.to_string()), None),
    };
    let Some(token) = token else {
        return if vendor.policy.require_timestamp {
            (
                Check::fail(
                    CheckId::Timestamp,
                    format!(
                        "vendor '{}' policy requires a trusted RFC 3161 timestamp and the signature has none",
                        vendor.id
                    ),
                ),
                None,
            )
        } else {
            (
                Check::skip(
                    CheckId::Timestamp,
                    "no timestamp: certificates are judged at the verification time",
                ),
                None,
            )
        };
    };
    if req.policy.tsa_anchors.is_empty() {
        return (
            Check::fail(
                CheckId::Timestamp,
                "the signature carries a timestamp but the trust policy has no TSA anchors",
            ),
            None,
        );
    }
    match timestamp::verify_token(
        token,
        si.signature.as_bytes(),
        &req.policy.tsa_anchors,
        req.limits,
        req.cache,
    ) {
        Ok(t) if t.gen_time > req.time => (
            Check::fail(
                CheckId::Timestamp,
                format!(
                    "the timestamp ({}) is later than the verification time",
                    rfc3339(t.gen_time)
                ),
            ),
            None,
        ),
        Ok(t) => match tsa_revocation(req, &t) {
            Some(reason) => (Check::fail(CheckId::Timestamp, reason), None),
            None => (
                Check::pass(
                    CheckId::Timestamp,
                    format!(
                        "trusted timestamp {} from '{}'",
                        rfc3339(t.gen_time),
                        t.tsa.subject()
                    ),
                ),
                Some(t),
            ),
        },
        Err(e) => (Check::fail(CheckId::Timestamp, e.to_string()), None),
    }
}

/// The policy's revocations apply to every certificate of the TSA's path
/// at genTime: a TSA revoked for all time, or from before genTime, vouches
/// for nothing (else a revoked TSA could backdate a token and defeat the
/// signer's own revocation). The token is then not trusted, so the
/// signature is judged at the verification time.
fn tsa_revocation(req: &VerifyRequest<'_>, t: &Timestamp) -> Option<String> {
    for c in &t.path {
        for r in &req.policy.revocations {
            if !r.target.matches(c) {
                continue;
            }
            let role = if c.der == t.tsa.der {
                "TSA certificate"
            } else {
                "TSA's issuing CA"
            };
            match r.invalidity_date {
                Some(inv) if t.gen_time < inv => continue,
                Some(inv) => {
                    return Some(format!(
                        "the timestamp ({}) is not trusted: the {role} '{}' is revoked ({}) from {}",
                        rfc3339(t.gen_time),
                        c.subject(),
                        r.reason,
                        date(inv)
                    ));
                }
                None => {
                    return Some(format!(
                        "the timestamp ({}) is not trusted: the {role} '{}' is revoked ({}) with no invalidity date",
                        rfc3339(t.gen_time),
                        c.subject(),
                        r.reason
                    ));
                }
            }
        }
    }
    None
}

pub(crate) fn usage_check(cert: &ParsedCert) -> Check {
    let mut problems = Vec::new();
    match cert.extended_key_usage() {
        Ok(Some(ekus)) if ekus.contains(&oids::KP_CODE_SIGNING) => {}
        Ok(Some(ekus)) => problems.push(format!(
            "its extended key usage is {} and lacks codeSigning",
            ekus.iter()
                .map(chain::eku_name)
                .collect::<Vec<_>>()
                .join(", ")
        )),
        Ok(None) => {
            problems.push("it has no extended key usage (codeSigning is required)".to_string())
        }
        Err(e) => problems.push(e.to_string()),
    }
    match cert.key_usage() {
        Ok(Some(ku)) if ku.digital_signature() => {}
        Ok(Some(_)) => problems.push("its key usage lacks digitalSignature".into()),
        Ok(None) => {
            problems.push("it has no key usage extension (digitalSignature is required)".into())
        }
        Err(e) => problems.push(e.to_string()),
    }
    match cert.is_ca() {
        Ok(false) => {}
        Ok(true) => problems.push("it is a CA certificate".into()),
        Err(e) => problems.push(e.to_string()),
    }
    if problems.is_empty() {
        Check::pass(
            CheckId::SignerUsage,
            "codeSigning EKU, digitalSignature key usage, not a CA",
        )
    } else {
        Check::fail(
            CheckId::SignerUsage,
            format!(
                "signer certificate '{}' is not fit for code signing: {}",
                cert.subject(),
                problems.join("; ")
            ),
        )
    }
}

pub(crate) fn chain_check(
    req: &VerifyRequest<'_>,
    vendor: &Vendor,
    p: &ParsedSignedData,
    cert: &ParsedCert,
    signing_time: OffsetDateTime,
    source: TimeSource,
    checks: &mut Vec<Check>,
) -> Option<ValidPath> {
    let pool: Vec<&ParsedCert> = p
        .certificates
        .iter()
        .chain(vendor.intermediates.iter())
        .collect();
    let result = chain::validate_cached(
        &ChainRequest {
            leaf: cert,
            anchors: &vendor.anchors,
            intermediates: &pool,
            time: signing_time,
            eku: EkuRequirement::Oid(oids::KP_CODE_SIGNING),
            crls: &[],
        },
        req.cache,
    );
    match result {
        Ok(path) => {
            let anchor = path.anchor().map(|a| a.subject()).unwrap_or_default();
            checks.push(Check::pass(
                CheckId::Chain,
                format!(
                    "chains to vendor '{}' anchor '{anchor}' ({} intermediate(s)), valid at {}",
                    vendor.id,
                    path.intermediates().len(),
                    rfc3339(signing_time)
                ),
            ));
            Some(path)
        }
        Err(e) => {
            let reason = match &e {
                ChainError::IntermediateMissing { .. } | ChainError::UnknownRoot { .. } => {
                    match other_vendor(req, vendor, p, cert, signing_time) {
                        Some(other) => format!(
                            "the signer chains to vendor '{}' ({}), not to vendor '{}'",
                            other.id, other.name, vendor.id
                        ),
                        None => e.to_string(),
                    }
                }
                ChainError::Validity {
                    what: "expired",
                    date: d,
                    ..
                } if source == TimeSource::VerificationTime => {
                    format!("{e}, and no trusted timestamp proves it signed before {d}")
                }
                _ => e.to_string(),
            };
            checks.push(Check::fail(CheckId::Chain, reason));
            None
        }
    }
}

fn other_vendor<'a>(
    req: &'a VerifyRequest<'_>,
    claimed: &Vendor,
    p: &ParsedSignedData,
    cert: &ParsedCert,
    time: OffsetDateTime,
) -> Option<&'a Vendor> {
    req.policy
        .vendors
        .iter()
        .filter(|o| o.id != claimed.id)
        .find(|o| {
            let pool: Vec<&ParsedCert> = p
                .certificates
                .iter()
                .chain(o.intermediates.iter())
                .collect();
            chain::validate(&ChainRequest {
                leaf: cert,
                anchors: &o.anchors,
                intermediates: &pool,
                time,
                eku: EkuRequirement::Oid(oids::KP_CODE_SIGNING),
                crls: &[],
            })
            .is_ok()
        })
}

pub(crate) fn revocation_check(
    req: &VerifyRequest<'_>,
    cert: &ParsedCert,
    path: Option<&ValidPath>,
    timestamp: Option<&Timestamp>,
) -> Check {
    let owned;
    let certs: &[ParsedCert] = match path {
        Some(p) => &p.certificates,
        None => {
            owned = [cert.clone()];
            &owned
        }
    };
    let mut excused = Vec::new();
    for c in certs {
        for r in &req.policy.revocations {
            if !r.target.matches(c) {
                continue;
            }
            let role = if c.der == cert.der {
                "signer"
            } else {
                "issuing CA"
            };
            match (r.invalidity_date, timestamp) {
                (Some(inv), Some(ts)) if ts.gen_time < inv => excused.push(format!(
                    "{role} certificate '{}' is revoked ({}) from {}, but a trusted timestamp proves it signed at {}, before that",
                    c.subject(),
                    r.reason,
                    date(inv),
                    rfc3339(ts.gen_time)
                )),
                (Some(inv), Some(ts)) => {
                    return Check::fail(
                        CheckId::Revocation,
                        format!(
                            "{role} certificate '{}' is revoked ({}) from {}; the trusted timestamp {} is after that",
                            c.subject(),
                            r.reason,
                            date(inv),
                            rfc3339(ts.gen_time)
                        ),
                    );
                }
                (Some(inv), None) if req.existed_at.is_some_and(|w| w < inv) => {
                    excused.push(format!(
                        "{role} certificate '{}' is revoked ({}) from {}, but the registry recorded this signature at {}, before that",
                        c.subject(),
                        r.reason,
                        date(inv),
                        rfc3339(req.existed_at.unwrap_or(inv))
                    ))
                }
                (Some(inv), None) => {
                    return Check::fail(
                        CheckId::Revocation,
                        format!(
                            "{role} certificate '{}' is revoked ({}) from {} and no trusted timestamp proves the signature is older",
                            c.subject(),
                            r.reason,
                            date(inv)
                        ),
                    );
                }
                (None, _) => {
                    return Check::fail(
                        CheckId::Revocation,
                        format!(
                            "{role} certificate '{}' is revoked ({}) with no invalidity date, so no signature by it is trusted",
                            c.subject(),
                            r.reason
                        ),
                    );
                }
            }
        }
    }
    if excused.is_empty() {
        let scope = if path.is_some() {
            "no certificate in the path is revoked"
        } else {
            "the signer is not revoked (path unknown)"
        };
        Check::pass(CheckId::Revocation, scope)
    } else {
        Check::pass(CheckId::Revocation, excused.join("; "))
    }
}
