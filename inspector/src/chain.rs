//! Certificate path validation with `rustls-webpki`, plus the checks it
//! leaves out (see `../shared/notes/dependencies.md`) and human diagnosis
//! when no path is found.
//!
//! webpki decides; the name-walking in [`diagnose`] only explains a failure
//! ("intermediate missing" versus "unknown root"), it never accepts anything.

use crate::cert::{ParsedCert, date};
use crate::oids;
use const_oid::ObjectIdentifier;
use rustls_pki_types::{CertificateDer, SignatureVerificationAlgorithm, TrustAnchor, UnixTime};
use std::time::Duration;
use time::OffsetDateTime;
use webpki::{EndEntityCert, Error as WebpkiError, KeyPurposeIdIter};

/// Which extended key usage the end-entity certificate must have.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EkuRequirement {
    /// Any (or no) EKU.
    Any,
    /// This purpose must be listed in the end-entity's EKU extension.
    Oid(ObjectIdentifier),
}

/// A purpose that is neither a known name nor a dotted OID.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("'{0}' is not codeSigning, timeStamping, serverAuth, clientAuth, any or a dotted OID")]
pub struct UnknownEku(pub String);

impl EkuRequirement {
    /// Parses `codeSigning`, `timeStamping`, `serverAuth`, `clientAuth`,
    /// `any` or a dotted OID.
    pub fn parse(s: &str) -> Result<Self, UnknownEku> {
        Ok(match s {
            "any" => EkuRequirement::Any,
            "codeSigning" => EkuRequirement::Oid(oids::KP_CODE_SIGNING),
            "timeStamping" => EkuRequirement::Oid(oids::KP_TIME_STAMPING),
            "serverAuth" => EkuRequirement::Oid(oids::KP_SERVER_AUTH),
            "clientAuth" => EkuRequirement::Oid(oids::KP_CLIENT_AUTH),
            other => EkuRequirement::Oid(
                ObjectIdentifier::new(other).map_err(|_| UnknownEku(other.to_string()))?,
            ),
        })
    }
}

/// Everything path validation needs.
pub struct ChainRequest<'a> {
    /// The certificate to validate.
    pub leaf: &'a ParsedCert,
    /// Trust anchors.
    pub anchors: &'a [ParsedCert],
    /// Untrusted certificates that may help build the path.
    pub intermediates: &'a [&'a ParsedCert],
    /// The instant every certificate must be valid at.
    pub time: OffsetDateTime,
    /// EKU the end entity must have.
    pub eku: EkuRequirement,
    /// DER CRLs to consult (optional; certificates they do not cover pass).
    pub crls: &'a [Vec<u8>],
}

/// A validated path, leaf first, anchor last.
#[derive(Clone, Debug)]
pub struct ValidPath {
    /// Leaf, intermediates, anchor.
    pub certificates: Vec<ParsedCert>,
}

impl ValidPath {
    /// The anchor the path ends at.
    pub fn anchor(&self) -> Option<&ParsedCert> {
        self.certificates.last()
    }
    /// The intermediates (without leaf and anchor).
    pub fn intermediates(&self) -> &[ParsedCert] {
        let n = self.certificates.len();
        self.certificates.get(1..n.saturating_sub(1)).unwrap_or(&[])
    }
}

/// Why a path is invalid, in words a person can act on.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ChainError {
    /// An issuer that is neither carried nor registered.
    #[error(
        "intermediate missing: the issuer '{issuer}' of '{subject}' is not a trust anchor here and is neither carried in the signature nor registered"
    )]
    IntermediateMissing {
        /// The certificate whose issuer is missing.
        subject: String,
        /// The missing issuer's name.
        issuer: String,
    },
    /// The path ends at a root that is not an anchor.
    #[error("unknown root: the chain ends at '{root}', which is not a trust anchor here{detail}")]
    UnknownRoot {
        /// The root's name.
        root: String,
        /// Extra explanation.
        detail: String,
    },
    /// A certificate outside its validity at the evaluation time.
    #[error("certificate '{subject}' {what} {date}")]
    Validity {
        /// Which certificate.
        subject: String,
        /// "expired" or "is not valid before".
        what: &'static str,
        /// The date.
        date: String,
    },
    /// The required EKU is absent.
    #[error("certificate '{subject}' does not allow the required extended key usage {eku}")]
    Eku {
        /// Which certificate.
        subject: String,
        /// Which EKU.
        eku: String,
    },
    /// Revoked by a supplied CRL.
    #[error("a certificate in the path is revoked by a supplied CRL")]
    CrlRevoked,
    /// A CA lacks keyCertSign or is not a CA.
    #[error("certificate '{subject}' issues certificates but {problem}")]
    BadCa {
        /// Which certificate.
        subject: String,
        /// What is wrong.
        problem: String,
    },
    /// A certificate of the path breaks the strict profile.
    #[error("{0}")]
    Profile(#[from] crate::profile::Violation),
    /// A supplied CRL breaks the profile's CRL rules.
    #[error("{0}")]
    Crl(#[from] crate::profile::CrlViolation),
    /// Anything else webpki reports.
    #[error("{0}")]
    Other(String),
}

/// The signature algorithms accepted in certificate paths.
pub static PATH_ALGORITHMS: &[&dyn SignatureVerificationAlgorithm] = &[
    webpki::ring::ECDSA_P256_SHA256,
    webpki::ring::ECDSA_P256_SHA384,
    webpki::ring::ECDSA_P384_SHA256,
    webpki::ring::ECDSA_P384_SHA384,
    webpki::ring::ED25519,
    webpki::ring::RSA_PKCS1_2048_8192_SHA256,
    webpki::ring::RSA_PKCS1_2048_8192_SHA384,
    webpki::ring::RSA_PKCS1_2048_8192_SHA512,
    webpki::ring::RSA_PKCS1_2048_8192_SHA256_ABSENT_PARAMS,
    webpki::ring::RSA_PKCS1_2048_8192_SHA384_ABSENT_PARAMS,
    webpki::ring::RSA_PKCS1_2048_8192_SHA512_ABSENT_PARAMS,
    webpki::ring::RSA_PSS_2048_8192_SHA256_LEGACY_KEY,
    webpki::ring::RSA_PSS_2048_8192_SHA384_LEGACY_KEY,
    webpki::ring::RSA_PSS_2048_8192_SHA512_LEGACY_KEY,
];

/// EKU rule for every certificate webpki walks: if the extension is
/// present it must contain the purpose (or anyExtendedKeyUsage). The
/// end-entity's explicit EKU is checked separately by the caller.
struct RequiredIfPresent(Option<Vec<usize>>);

impl webpki::ExtendedKeyUsageValidator for RequiredIfPresent {
    #[allow(deprecated)] // The context variant cannot be built outside webpki.
    fn validate(&self, iter: KeyPurposeIdIter<'_, '_>) -> Result<(), WebpkiError> {
        let Some(required) = &self.0 else {
            for id in iter {
                id?;
            }
            return Ok(());
        };
        let any: Vec<usize> = arcs(&oids::ANY_EKU);
        let mut seen = false;
        for id in iter {
            let id = id?.to_decoded_oid();
            seen = true;
            if &id == required || id == any {
                return Ok(());
            }
        }
        if seen {
            Err(WebpkiError::RequiredEkuNotFound)
        } else {
            Ok(())
        }
    }
}

fn arcs(oid: &ObjectIdentifier) -> Vec<usize> {
    oid.arcs().map(|a| a as usize).collect()
}

/// Converts to webpki's time (times before 1970 clamp to the epoch).
pub fn unix_time(t: OffsetDateTime) -> UnixTime {
    UnixTime::since_unix_epoch(Duration::from_secs(
        u64::try_from(t.unix_timestamp()).unwrap_or(0),
    ))
}

pub use crate::chain_memo::{PathCache, validate_cached};

/// Validates a path from `leaf` to one of `anchors` at `time`, then holds
/// every certificate of it to the strict profile ([`crate::profile`]).
///
/// Validity is compared at whole seconds, the granularity certificates
/// encode (RFC 5280 section 4.1.2.5): an instant 5 ms after notAfter is
/// still within that second.
pub fn validate(req: &ChainRequest<'_>) -> Result<ValidPath, ChainError> {
    validate_with(req, None)
}

/// The request with its time truncated to whole seconds.
pub(crate) fn truncated<'a>(req: &ChainRequest<'a>) -> ChainRequest<'a> {
    ChainRequest {
        leaf: req.leaf,
        anchors: req.anchors,
        intermediates: req.intermediates,
        time: req.time.replace_nanosecond(0).unwrap_or(req.time),
        eku: req.eku.clone(),
        crls: req.crls,
    }
}

pub(crate) fn validate_with(
    req: &ChainRequest<'_>,
    memo: Option<&crate::profile::ProfileMemo>,
) -> Result<ValidPath, ChainError> {
    let req = &truncated(req);
    let path = build(req)?;
    finish(req, path, memo)
}

/// webpki's path from the leaf to one of the request's anchors (time
/// already truncated), mapped back to our certificates.
pub(crate) fn build(req: &ChainRequest<'_>) -> Result<ValidPath, ChainError> {
    let anchors: Vec<TrustAnchor<'_>> = req
        .anchors
        .iter()
        .filter_map(|a| {
            webpki::anchor_from_trusted_cert(&CertificateDer::from(a.der.as_slice()))
                .ok()
                .map(|t| t.to_owned())
        })
        .collect();
    let intermediates: Vec<CertificateDer<'_>> = req
        .intermediates
        .iter()
        .map(|c| CertificateDer::from(c.der.as_slice()))
        .collect();
    let leaf_der = CertificateDer::from(req.leaf.der.as_slice());
    let ee = EndEntityCert::try_from(&leaf_der)
        .map_err(|e| ChainError::Other(format!("the certificate cannot be used: {e}")))?;

    let owned_crls: Vec<webpki::CertRevocationList<'static>> = req
        .crls
        .iter()
        .map(|d| webpki::OwnedCertRevocationList::from_der(d).map(webpki::CertRevocationList::from))
        .collect::<Result<_, _>>()
        .map_err(|e| ChainError::Other(format!("a CRL cannot be parsed: {e}")))?;
    let crl_refs: Vec<&webpki::CertRevocationList<'_>> = owned_crls.iter().collect();
    let revocation = if crl_refs.is_empty() {
        None
    } else {
        webpki::RevocationOptionsBuilder::new(&crl_refs)
            .ok()
            .map(|b| {
                b.with_depth(webpki::RevocationCheckDepth::Chain)
                    .with_status_policy(webpki::UnknownStatusPolicy::Allow)
                    .with_expiration_policy(webpki::ExpirationPolicy::Enforce)
                    .build()
            })
    };

    let eku = match &req.eku {
        EkuRequirement::Any => RequiredIfPresent(None),
        EkuRequirement::Oid(o) => RequiredIfPresent(Some(arcs(o))),
    };
    let time = unix_time(req.time);
    let result = ee.verify_for_usage(
        PATH_ALGORITHMS,
        &anchors,
        &intermediates,
        time,
        eku,
        revocation,
        None,
    );
    let path = match result {
        Ok(path) => {
            let mut certs = vec![req.leaf.clone()];
            for c in path.intermediate_certificates() {
                let der = c.der();
                if let Some(found) = req
                    .intermediates
                    .iter()
                    .find(|i| i.der.as_slice() == der.as_ref())
                {
                    certs.push((*found).clone());
                }
            }
            let anchor = path.anchor();
            // Map webpki's anchor (name and key only) back to our
            // certificate. A root re-issued with the same name and key (a
            // rollover) gives several: the one valid at the time is used.
            let same: Vec<&ParsedCert> = req
                .anchors
                .iter()
                .filter(|a| {
                    webpki::anchor_from_trusted_cert(&CertificateDer::from(a.der.as_slice()))
                        .is_ok_and(|t| {
                            t.subject_public_key_info.as_ref()
                                == anchor.subject_public_key_info.as_ref()
                                && t.subject.as_ref() == anchor.subject.as_ref()
                        })
                })
                .collect();
            if let Some(a) = same.iter().find(|a| a.valid_at(req.time)).or(same.first()) {
                certs.push((*a).clone());
            }
            ValidPath {
                certificates: certs,
            }
        }
        Err(e) => return Err(explain(e, req)),
    };
    Ok(path)
}

/// The checks on top of webpki's path: the anchor's own validity,
/// keyCertSign on CAs, the strict profile, the CRLs' profile, the leaf's
/// explicit EKU.
pub(crate) fn finish(
    req: &ChainRequest<'_>,
    path: ValidPath,
    memo: Option<&crate::profile::ProfileMemo>,
) -> Result<ValidPath, ChainError> {
    // What webpki does not check: the anchor's own validity, KeyUsage on
    // CAs, and the end entity's explicit EKU (webpki accepts its absence).
    if let Some(anchor) = path.anchor()
        && !anchor.valid_at(req.time)
    {
        return Err(validity_error(anchor, req.time));
    }
    for ca in path.certificates.iter().skip(1) {
        match ca.key_usage() {
            Ok(Some(ku)) if !ku.key_cert_sign() => {
                return Err(ChainError::BadCa {
                    subject: ca.subject(),
                    problem: "its key usage lacks keyCertSign".into(),
                });
            }
            Ok(_) => {}
            Err(e) => {
                return Err(ChainError::BadCa {
                    subject: ca.subject(),
                    problem: e.to_string(),
                });
            }
        }
    }
    crate::profile::check_path_memo(&path.certificates, memo)?;
    for crl in req.crls {
        let issuer_name = crate::profile::crl_issuer(crl);
        let issuer = path
            .certificates
            .iter()
            .chain(req.anchors)
            .chain(req.intermediates.iter().copied())
            .find(|c| Some(c.subject_der()) == issuer_name);
        crate::profile::check_crl(crl, issuer)?;
    }
    if let EkuRequirement::Oid(required) = &req.eku {
        let ekus = req
            .leaf
            .extended_key_usage()
            .map_err(|e| ChainError::Other(e.to_string()))?;
        if !ekus.unwrap_or_default().contains(required) {
            return Err(ChainError::Eku {
                subject: req.leaf.subject(),
                eku: eku_name(required),
            });
        }
    }
    Ok(path)
}

/// A readable name for an EKU OID.
pub fn eku_name(oid: &ObjectIdentifier) -> String {
    match *oid {
        oids::KP_CODE_SIGNING => "codeSigning".into(),
        oids::KP_TIME_STAMPING => "timeStamping".into(),
        oids::KP_SERVER_AUTH => "serverAuth".into(),
        oids::KP_CLIENT_AUTH => "clientAuth".into(),
        other => other.to_string(),
    }
}

fn validity_error(cert: &ParsedCert, at: OffsetDateTime) -> ChainError {
    if at > cert.not_after() {
        ChainError::Validity {
            subject: cert.subject(),
            what: "expired",
            date: date(cert.not_after()),
        }
    } else {
        ChainError::Validity {
            subject: cert.subject(),
            what: "is not valid before",
            date: date(cert.not_before()),
        }
    }
}

#[allow(deprecated)] // webpki still returns the unit variants in some paths.
fn explain(e: WebpkiError, req: &ChainRequest<'_>) -> ChainError {
    match e {
        // A certificate whose issuer name matches but whose signature does
        // not verify is an imitation: explain it like an unknown issuer.
        WebpkiError::UnknownIssuer | WebpkiError::InvalidSignatureForPublicKey => diagnose(req),
        WebpkiError::CertExpired { .. } | WebpkiError::CertNotValidYet { .. } => {
            // Name the certificate: the leaf or an intermediate on the way.
            let candidates = std::iter::once(req.leaf).chain(req.intermediates.iter().copied());
            for c in candidates {
                if !c.valid_at(req.time) {
                    return validity_error(c, req.time);
                }
            }
            ChainError::Other(format!("a certificate in the path is outside its validity ({e})"))
        }
        WebpkiError::RequiredEkuNotFound | WebpkiError::RequiredEkuNotFoundContext(_) => {
            let eku = match &req.eku {
                EkuRequirement::Oid(o) => eku_name(o),
                EkuRequirement::Any => "any".into(),
            };
            ChainError::Eku { subject: req.leaf.subject(), eku }
        }
        WebpkiError::CertRevoked => ChainError::CrlRevoked,
        WebpkiError::CaUsedAsEndEntity => ChainError::Other(format!(
            "'{}' is a CA certificate and cannot be used as an end entity",
            req.leaf.subject()
        )),
        WebpkiError::EndEntityUsedAsCa => {
            ChainError::Other("a non-CA certificate appears as an issuer in the path".into())
        }
        WebpkiError::PathLenConstraintViolated => {
            ChainError::Other("the path is longer than a CA's pathLenConstraint allows".into())
        }
        WebpkiError::UnsupportedSignatureAlgorithmForPublicKeyContext(_)
        | WebpkiError::UnsupportedSignatureAlgorithmContext(_)
        | WebpkiError::UnsupportedSignatureAlgorithm
        | WebpkiError::UnsupportedSignatureAlgorithmForPublicKey => ChainError::Other(
            "a certificate in the path is signed with an algorithm or key size that is not accepted (RSA keys must be 2048 bits or more)".into(),
        ),
        other => ChainError::Other(webpki_reason(&other)),
    }
}

/// A path-validator error in words (RFC 5280 section named where one
/// applies), never the library's variant name.
fn webpki_reason(e: &WebpkiError) -> String {
    use WebpkiError as W;
    let s = match e {
        W::SignatureAlgorithmMismatch => {
            "a certificate's signature algorithm differs from the one its signed part names (RFC 5280 section 4.1.1.2)"
        }
        W::InvalidSignatureForPublicKey => {
            "a certificate's signature does not verify with its issuer's key"
        }
        W::NameConstraintViolation => {
            "a certificate's name is outside a CA's name constraints (RFC 5280 section 4.2.1.10)"
        }
        W::MalformedNameConstraint => "a CA's name constraints are malformed",
        W::UnsupportedNameType => "a name constraint or name of an unsupported type",
        W::UnsupportedCriticalExtension => {
            "a certificate has a critical extension the validator does not understand (RFC 5280 section 4.2)"
        }
        W::UnsupportedCertVersion => "a certificate is not X.509 version 3",
        W::InvalidCertValidity => "a certificate's validity period is malformed",
        W::InvalidSerialNumber => {
            "a certificate's serial number is not a positive integer of at most 20 octets (RFC 5280 section 4.1.2.2)"
        }
        W::ExtensionValueInvalid | W::MalformedExtensions => "a certificate extension is malformed",
        W::EmptyEkuExtension => "a certificate's extended key usage is empty",
        W::BadDer | W::BadDerTime | W::TrailingData(_) => {
            "a certificate in the path is not valid DER"
        }
        W::MaximumPathDepthExceeded => "the path is longer than the validator allows",
        W::MaximumSignatureChecksExceeded | W::MaximumPathBuildCallsExceeded => {
            "building the path took more attempts than the validator allows (too many candidate issuers)"
        }
        W::MaximumNameConstraintComparisonsExceeded => {
            "checking name constraints took more comparisons than the validator allows"
        }
        W::UnknownIssuer => "no issuer of a certificate in the path is known",
        W::CertDistrusted => "a certificate in the path is distrusted",
        _ => "the certificate path was rejected by the path validator",
    };
    s.to_string()
}

/// Explains an `UnknownIssuer` by walking issuer names.
fn diagnose(req: &ChainRequest<'_>) -> ChainError {
    let mut current = req.leaf;
    for _ in 0..16 {
        let issuer = current.issuer_der();
        if current.is_self_issued() {
            let detail = if req
                .anchors
                .iter()
                .any(|a| a.subject_der() == current.subject_der())
            {
                " (it imitates the name of a registered anchor but has a different key)".to_string()
            } else {
                String::new()
            };
            return ChainError::UnknownRoot {
                root: current.subject(),
                detail,
            };
        }
        let next = req
            .intermediates
            .iter()
            .copied()
            .find(|c| c.subject_der() == issuer && c.der != current.der);
        match next {
            Some(n) => current = n,
            None => {
                if req.anchors.iter().any(|a| a.subject_der() == issuer) {
                    return ChainError::UnknownRoot {
                        root: current.issuer(),
                        detail: format!(
                            " ('{}' names a registered anchor as issuer but is not signed by its key)",
                            current.subject()
                        ),
                    };
                }
                return ChainError::IntermediateMissing {
                    subject: current.subject(),
                    issuer: current.issuer(),
                };
            }
        }
    }
    ChainError::Other("the issuer chain is longer than 16 certificates".into())
}

#[cfg(test)]
mod reason_tests {
    use super::webpki_reason;
    use webpki::Error as W;

    /// Reasons are sentences, not the path library's variant names.
    #[test]
    fn path_validator_errors_are_explained_in_words() {
        for (e, words) in [
            (W::SignatureAlgorithmMismatch, "signature algorithm differs"),
            (W::NameConstraintViolation, "name constraints"),
            (W::UnsupportedCriticalExtension, "critical extension"),
            (W::InvalidSerialNumber, "serial number"),
            (W::MaximumPathDepthExceeded, "longer than"),
            (W::UnknownRevocationStatus, "rejected by the path validator"),
        ] {
            let reason = webpki_reason(&e);
            assert!(reason.contains(words), "{e:?}: {reason}");
            assert!(!reason.contains(&format!("{e:?}")), "{reason}");
        }
    }
}
