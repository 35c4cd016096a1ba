//! RFC 3161 timestamp tokens carried as the id-aa-timeStampToken unsigned
//! attribute of a SignerInfo.
//!
//! No maintained crate verifies these on the `der` 0.8 line, so the TSTInfo
//! and ESS structures are small `der` derives here; the token itself is a CMS
//! SignedData verified with the same code as vendor signatures.

use crate::cert::{ParsedCert, rfc3339};
use crate::chain::{self, ChainRequest, EkuRequirement};
use crate::cms;
use crate::digest::{DigestAlgorithm, hex};
use crate::limits::Limits;
use crate::oids;
use crate::signer;
use der::asn1::{Int, OctetString};
use der::{Any, Decode, Sequence, Tag, Tagged};
use spki::{AlgorithmIdentifierOwned, ObjectIdentifier};
use time::OffsetDateTime;

/// MessageImprint (RFC 3161 section 2.4.1).
#[derive(Sequence)]
struct MessageImprint {
    hash_algorithm: AlgorithmIdentifierOwned,
    hashed_message: OctetString,
}

/// Accuracy (RFC 3161 section 2.4.2); read and ignored.
#[derive(Sequence)]
struct Accuracy {
    seconds: Option<Int>,
    #[asn1(context_specific = "0", tag_mode = "IMPLICIT", optional = "true")]
    millis: Option<Int>,
    #[asn1(context_specific = "1", tag_mode = "IMPLICIT", optional = "true")]
    micros: Option<Int>,
}

/// TSTInfo (RFC 3161 section 2.4.2). genTime is kept raw because `der`'s
/// GeneralizedTime refuses the fractional seconds many TSAs emit.
#[derive(Sequence)]
struct TstInfo {
    version: Int,
    policy: der::asn1::ObjectIdentifier,
    message_imprint: MessageImprint,
    serial_number: Int,
    gen_time: Any,
    accuracy: Option<Accuracy>,
    #[asn1(default = "Default::default")]
    ordering: bool,
    nonce: Option<Int>,
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT", optional = "true")]
    tsa: Option<Any>,
    #[asn1(context_specific = "1", tag_mode = "IMPLICIT", optional = "true")]
    extensions: Option<x509_cert::ext::Extensions>,
}

/// ESSCertIDv2 (RFC 5035).
#[derive(Sequence)]
struct EssCertIdV2 {
    #[asn1(optional = "true")]
    hash_algorithm: Option<AlgorithmIdentifierOwned>,
    cert_hash: OctetString,
    issuer_serial: Option<Any>,
}

/// SigningCertificateV2 (RFC 5035).
#[derive(Sequence)]
struct SigningCertificateV2 {
    certs: Vec<EssCertIdV2>,
    policies: Option<Any>,
}

/// ESSCertID (RFC 2634), SHA-1.
#[derive(Sequence)]
struct EssCertId {
    cert_hash: OctetString,
    issuer_serial: Option<Any>,
}

/// SigningCertificate (RFC 2634).
#[derive(Sequence)]
struct SigningCertificate {
    certs: Vec<EssCertId>,
    policies: Option<Any>,
}

/// A verified timestamp.
#[derive(Clone, Debug)]
pub struct Timestamp {
    /// The time the TSA vouches for.
    pub gen_time: OffsetDateTime,
    /// The TSA certificate.
    pub tsa: ParsedCert,
    /// The TSA's validated path (TSA certificate first, anchor last): the
    /// policy's revocations apply to each of them at genTime.
    pub path: Vec<ParsedCert>,
}

/// Why a timestamp token is not trusted. The messages are the reasons a
/// report's timestamp check shows.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TimestampError {
    /// The token cannot be re-encoded for parsing.
    #[error("token cannot be encoded: {0}")]
    Encoding(String),
    /// The token is not a CMS SignedData.
    #[error("malformed timestamp token: {0}")]
    Malformed(String),
    /// RFC 3161 section 2.4.2: the content is a TSTInfo.
    #[error("the token's content type is {0}, not id-ct-TSTInfo")]
    NotTstInfo(ObjectIdentifier),
    /// No encapsulated TSTInfo.
    #[error("the token carries no TSTInfo")]
    NoTstInfo,
    /// No SignerInfo.
    #[error("the token has no signer")]
    NoSigner,
    /// RFC 3161 section 2.4.1: one signer.
    #[error("the token has more than one signer (RFC 3161 requires one)")]
    SeveralSigners,
    /// The TSA's certificate must travel in the token.
    #[error("the TSA certificate ({0}) is not included in the token")]
    TsaCertificateMissing(String),
    /// The token's digest algorithm.
    #[error("{0}")]
    Digest(crate::signer::SignerError),
    /// SHA-1 is not accepted.
    #[error("the token is signed with SHA-1")]
    Sha1,
    /// The token's signed attributes.
    #[error("token signed attributes: {0}")]
    SignedAttributes(crate::signer::SignerError),
    /// The TSA's signature.
    #[error("the TSA signature on the token is invalid: {0}")]
    Signature(crate::signer::SignerError),
    /// The TSTInfo does not decode.
    #[error("the TSTInfo is not valid DER (RFC 3161 section 2.4.2 requires DER): {0}")]
    MalformedTstInfo(String),
    /// The messageImprint's hash is not accepted.
    #[error("messageImprint hash {0} is not accepted")]
    ImprintHash(ObjectIdentifier),
    /// The token stamps another signature.
    #[error(
        "the token's messageImprint ({token}) does not cover this signature (its {algorithm} is {expected})"
    )]
    ImprintMismatch {
        /// The imprint in the token (hex).
        token: String,
        /// Its hash algorithm.
        algorithm: DigestAlgorithm,
        /// The hash of this signature value (hex).
        expected: String,
    },
    /// RFC 3161 section 2.4.2: genTime's form.
    #[error("{0}")]
    GenTime(String),
    /// RFC 3161 section 2.4.1 / RFC 5035: signingCertificate(V2).
    #[error("{0}")]
    SigningCertificate(String),
    /// An attribute repeated or without one value.
    #[error("{0}")]
    Attribute(#[from] crate::cms::AttributeError),
    /// RFC 3161 section 2.3: the TSA certificate's extended key usage must
    /// be critical and hold timeStamping only.
    #[error(
        "the TSA certificate '{tsa}' breaks RFC 3161 section 2.3 (its extended key usage must be critical and hold timeStamping only): {found}"
    )]
    TsaUsage {
        /// The TSA certificate's subject.
        tsa: String,
        /// What it has.
        found: String,
    },
    /// The TSA does not chain to a trusted TSA anchor at genTime.
    #[error("the TSA '{tsa}' is not trusted at {at}: {reason}")]
    Untrusted {
        /// The TSA certificate's subject.
        tsa: String,
        /// genTime.
        at: String,
        /// Why the path failed.
        reason: String,
    },
}

/// Verifies a timestamp token over `signature_value` (the SignerInfo's
/// signature). The TSA must chain to `tsa_anchors` at genTime with the
/// timeStamping EKU.
pub fn verify_token(
    token: &Any,
    signature_value: &[u8],
    tsa_anchors: &[ParsedCert],
    limits: &Limits,
    cache: Option<&chain::PathCache>,
) -> Result<Timestamp, TimestampError> {
    use TimestampError as E;
    let token_der = der::Encode::to_der(token).map_err(|e| E::Encoding(e.to_string()))?;
    let parsed = cms::parse(&token_der, limits).map_err(|e| E::Malformed(e.to_string()))?;
    if parsed.content_type() != oids::TST_INFO {
        return Err(E::NotTstInfo(parsed.content_type()));
    }
    let content = parsed.content().ok_or(E::NoTstInfo)?;
    let mut signers = parsed.signers();
    let si = signers.next().ok_or(E::NoSigner)?;
    if signers.next().is_some() {
        return Err(E::SeveralSigners);
    }
    let tsa = signer::find_signer_cert(&si.sid, &parsed.certificates)
        .ok_or_else(|| E::TsaCertificateMissing(signer::describe_sid(&si.sid)))?;
    let digest_alg = signer::digest_algorithm(si).map_err(E::Digest)?;
    if digest_alg == DigestAlgorithm::Sha1 {
        return Err(E::Sha1);
    }
    let content_digest = digest_alg.hash(content);
    let encoding = parsed
        .attrs_encoding
        .first()
        .copied()
        .unwrap_or(cms::AttrsEncoding::NotDer);
    let attrs = signer::check_signed_attributes(si, encoding, oids::TST_INFO, &content_digest)
        .map_err(E::SignedAttributes)?;
    signer::verify_signature(si, tsa, digest_alg, Some(&attrs), &content_digest, None)
        .map_err(E::Signature)?;

    let tst = TstInfo::from_der(content).map_err(|e| E::MalformedTstInfo(e.to_string()))?;
    // RFC 3161 section 2.4.2: the TSTInfo is DER encoded; a token whose
    // TSTInfo re-encodes differently is refused.
    if der::Encode::to_der(&tst).ok().as_deref() != Some(content) {
        return Err(E::MalformedTstInfo(
            "it does not re-encode to the same bytes".into(),
        ));
    }
    let imprint_alg = DigestAlgorithm::from_oid(&tst.message_imprint.hash_algorithm.oid)
        .filter(|a| *a != DigestAlgorithm::Sha1)
        .ok_or(E::ImprintHash(tst.message_imprint.hash_algorithm.oid))?;
    let expected = imprint_alg.hash(signature_value);
    if tst.message_imprint.hashed_message.as_bytes() != expected.as_slice() {
        return Err(E::ImprintMismatch {
            token: hex(tst.message_imprint.hashed_message.as_bytes()),
            algorithm: imprint_alg,
            expected: hex(&expected),
        });
    }
    let gen_time = parse_generalized_time(&tst.gen_time)?;

    check_signing_certificate(si, tsa)?;

    let pool: Vec<&ParsedCert> = parsed.certificates.iter().collect();
    let path = chain::validate_cached(
        &ChainRequest {
            leaf: tsa,
            anchors: tsa_anchors,
            intermediates: &pool,
            time: gen_time,
            eku: EkuRequirement::Oid(oids::KP_TIME_STAMPING),
            crls: &[],
        },
        cache,
    )
    .map_err(|e| E::Untrusted {
        tsa: tsa.subject(),
        at: rfc3339(gen_time),
        reason: e.to_string(),
    })?;

    match tsa.extended_key_usage_critical() {
        Ok(Some((true, ekus))) if ekus == [oids::KP_TIME_STAMPING] => {}
        other => {
            let found = match other {
                Ok(Some((critical, ekus))) => format!(
                    "it is {}critical and lists {}",
                    if critical { "" } else { "not " },
                    ekus.iter()
                        .map(chain::eku_name)
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                Ok(None) => "it has none".to_string(),
                Err(e) => e.to_string(),
            };
            return Err(E::TsaUsage {
                tsa: tsa.subject(),
                found,
            });
        }
    }
    Ok(Timestamp {
        gen_time,
        tsa: tsa.clone(),
        path: path.certificates,
    })
}

/// The signingCertificate(V2) attribute must name the TSA certificate
/// (RFC 3161 section 2.4.1, RFC 5035).
fn check_signing_certificate(
    si: &::cms::signed_data::SignerInfo,
    tsa: &ParsedCert,
) -> Result<(), TimestampError> {
    let sc_err = |m: String| TimestampError::SigningCertificate(m);
    let attrs = si
        .signed_attrs
        .as_ref()
        .ok_or_else(|| sc_err("the token has no signed attributes".into()))?;
    if let Some(v2) = cms::single_attribute(attrs, oids::ATTR_SIGNING_CERTIFICATE_V2)? {
        let sc: SigningCertificateV2 = v2
            .decode_as()
            .map_err(|e: der::Error| sc_err(format!("malformed signingCertificateV2: {e}")))?;
        let first = sc
            .certs
            .first()
            .ok_or_else(|| sc_err("signingCertificateV2 lists no certificate".into()))?;
        let alg = match &first.hash_algorithm {
            None => DigestAlgorithm::Sha256,
            Some(a) => DigestAlgorithm::from_oid(&a.oid).ok_or_else(|| {
                sc_err(format!(
                    "signingCertificateV2 hash {} is not supported",
                    a.oid
                ))
            })?,
        };
        if first.cert_hash.as_bytes() != alg.hash(&tsa.der).as_slice() {
            return Err(sc_err(
                "signingCertificateV2 does not match the TSA certificate".into(),
            ));
        }
        return Ok(());
    }
    if let Some(v1) = cms::single_attribute(attrs, oids::ATTR_SIGNING_CERTIFICATE)? {
        let sc: SigningCertificate = v1
            .decode_as()
            .map_err(|e: der::Error| sc_err(format!("malformed signingCertificate: {e}")))?;
        let first = sc
            .certs
            .first()
            .ok_or_else(|| sc_err("signingCertificate lists no certificate".into()))?;
        if first.cert_hash.as_bytes() != DigestAlgorithm::Sha1.hash(&tsa.der).as_slice() {
            return Err(sc_err(
                "signingCertificate does not match the TSA certificate".into(),
            ));
        }
        return Ok(());
    }
    Err(sc_err(
        "the token lacks the signingCertificate(V2) attribute that binds the TSA certificate"
            .into(),
    ))
}

/// Parses a GeneralizedTime value `YYYYMMDDHHMMSS[.f+]Z` (RFC 3161 section 2.4.2).
fn parse_generalized_time(any: &Any) -> Result<OffsetDateTime, TimestampError> {
    if any.tag() != Tag::GeneralizedTime {
        return Err(TimestampError::GenTime(
            "genTime is not a GeneralizedTime".into(),
        ));
    }
    let s = std::str::from_utf8(any.value())
        .map_err(|_| TimestampError::GenTime("genTime is not ASCII".into()))?;
    let bad = || {
        TimestampError::GenTime(format!(
            "genTime '{s}' is not of the form YYYYMMDDHHMMSS[.fff]Z"
        ))
    };
    let body = s.strip_suffix('Z').ok_or_else(bad)?;
    let (main, frac) = match body.split_once('.') {
        Some((m, f)) => (m, Some(f)),
        None => (body, None),
    };
    if main.len() != 14 || !main.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    if let Some(f) = frac
        && (f.is_empty() || !f.bytes().all(|b| b.is_ascii_digit()) || f.ends_with('0'))
    {
        return Err(bad());
    }
    let num = |r: std::ops::Range<usize>| -> Result<u32, TimestampError> {
        main.get(r).and_then(|p| p.parse().ok()).ok_or_else(bad)
    };
    let month =
        time::Month::try_from(u8::try_from(num(4..6)?).map_err(|_| bad())?).map_err(|_| bad())?;
    let date = time::Date::from_calendar_date(
        i32::try_from(num(0..4)?).map_err(|_| bad())?,
        month,
        u8::try_from(num(6..8)?).map_err(|_| bad())?,
    )
    .map_err(|_| bad())?;
    let t = time::Time::from_hms(
        u8::try_from(num(8..10)?).map_err(|_| bad())?,
        u8::try_from(num(10..12)?).map_err(|_| bad())?,
        u8::try_from(num(12..14)?).map_err(|_| bad())?,
    )
    .map_err(|_| bad())?;
    // Fractions are truncated: the instant is only compared with dates.
    Ok(time::PrimitiveDateTime::new(date, t).assume_utc())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gt(s: &str) -> Any {
        Any::new(Tag::GeneralizedTime, s.as_bytes().to_vec()).unwrap_or_else(|_| Any::null())
    }

    #[test]
    fn generalized_time_accepts_rfc3161_forms_and_rejects_others() -> Result<(), TimestampError> {
        let t = parse_generalized_time(&gt("20260615120000Z"))?;
        assert_eq!(rfc3339(t), "2026-06-15T12:00:00Z");
        let t = parse_generalized_time(&gt("20260615120000.25Z"))?;
        assert_eq!(rfc3339(t), "2026-06-15T12:00:00Z");
        for bad in [
            "20260615120000",
            "2026061512000Z",
            "20261315120000Z",
            "20260615120000.Z",
            "20260615120000.50Z",
            "x0260615120000Z",
        ] {
            assert!(
                parse_generalized_time(&gt(bad)).is_err(),
                "{bad} must be refused"
            );
        }
        let utc = Any::new(Tag::UtcTime, b"260615120000Z".to_vec())
            .map_err(|e| TimestampError::GenTime(e.to_string()))?;
        assert!(parse_generalized_time(&utc).is_err());
        Ok(())
    }
}
