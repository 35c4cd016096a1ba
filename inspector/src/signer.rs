//! Evaluation of one CMS SignerInfo: finding its certificate, checking the
//! signed attributes and verifying the signature. Shared by vendor
//! signatures and RFC 3161 timestamp tokens.

use crate::cert::ParsedCert;
use crate::cms::single_attribute;
use crate::digest::{DigestAlgorithm, hex};
use crate::oids;
use crate::signature::{self, Scheme, SignedMessage};
use cms::signed_data::{SignerIdentifier, SignerInfo};
use const_oid::ObjectIdentifier;
use der::Encode;
use der::asn1::OctetString;
use x509_cert::ext::pkix::SubjectKeyIdentifier;

/// Finds the certificate a SignerIdentifier names among `pool`.
pub fn find_signer_cert<'a>(
    sid: &SignerIdentifier,
    pool: impl IntoIterator<Item = &'a ParsedCert>,
) -> Option<&'a ParsedCert> {
    let mut pool = pool.into_iter();
    match sid {
        SignerIdentifier::IssuerAndSerialNumber(isn) => {
            let issuer = isn.issuer.to_der().ok()?;
            pool.find(|c| c.issuer_der() == issuer && c.serial() == isn.serial_number.as_bytes())
        }
        SignerIdentifier::SubjectKeyIdentifier(ski) => pool.find(|c| {
            matches!(
                c.cert.tbs_certificate().get_extension::<SubjectKeyIdentifier>(),
                Ok(Some((_, own))) if own.0.as_bytes() == ski.0.as_bytes()
            )
        }),
    }
}

/// Describes a SignerIdentifier for messages.
pub fn describe_sid(sid: &SignerIdentifier) -> String {
    match sid {
        SignerIdentifier::IssuerAndSerialNumber(isn) => format!(
            "issuer '{}' serial {}",
            isn.issuer,
            hex(isn.serial_number.as_bytes())
        ),
        SignerIdentifier::SubjectKeyIdentifier(ski) => {
            format!("subject key identifier {}", hex(ski.0.as_bytes()))
        }
    }
}

/// Why a SignerInfo cannot be verified, or does not verify.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SignerError {
    /// The digest algorithm is not one Tollgate accepts.
    #[error("digest algorithm {} is not supported", crate::oids::algorithm_name(.0))]
    UnsupportedDigest(ObjectIdentifier),
    /// Signed attributes were expected.
    #[error("no signed attributes")]
    NoSignedAttributes,
    /// An attribute repeated, or without exactly one value.
    #[error("{0}")]
    Attribute(#[from] crate::cms::AttributeError),
    /// RFC 5652 section 11.1.
    #[error("the contentType signed attribute is missing (RFC 5652 section 11.1)")]
    MissingContentType,
    /// The contentType attribute does not decode.
    #[error("malformed contentType attribute: {0}")]
    MalformedContentType(String),
    /// RFC 5652 section 11.1: contentType equals the eContentType.
    #[error(
        "the contentType attribute ({attribute}) differs from the eContentType ({econtent_type})"
    )]
    ContentTypeMismatch {
        /// The attribute's value.
        attribute: ObjectIdentifier,
        /// The eContentType.
        econtent_type: ObjectIdentifier,
    },
    /// RFC 5652 section 11.2.
    #[error("the messageDigest signed attribute is missing (RFC 5652 section 11.2)")]
    MissingMessageDigest,
    /// The messageDigest attribute does not decode.
    #[error("malformed messageDigest attribute: {0}")]
    MalformedMessageDigest(String),
    /// The content is not what was signed.
    #[error(
        "the content does not match the signature: messageDigest is {signed} but the content hashes to {actual}"
    )]
    ContentDigestMismatch {
        /// messageDigest (hex).
        signed: String,
        /// The content's digest (hex).
        actual: String,
    },
    /// The attributes were not DER encoded in the file.
    #[error("{0}")]
    AttributesEncoding(&'static str),
    /// The attributes cannot be DER-encoded for hashing.
    #[error("signed attributes cannot be encoded as DER: {0}")]
    AttributesNotDer(String),
    /// The signature itself.
    #[error("{0}")]
    Signature(#[from] crate::signature::SignatureError),
}

/// The SignerInfo's digest algorithm, or why it is unusable.
pub fn digest_algorithm(si: &SignerInfo) -> Result<DigestAlgorithm, SignerError> {
    DigestAlgorithm::from_oid(&si.digest_alg.oid)
        .ok_or(SignerError::UnsupportedDigest(si.digest_alg.oid))
}

/// Checks the signed attributes (RFC 5652 section 5.3): contentType equals
/// the eContentType and messageDigest equals the content digest. Returns the
/// DER of the attribute SET, which is what the signature covers.
///
/// `encoding` is how the attributes appeared in the file
/// ([`crate::cms::ParsedSignedData::attrs_encoding`]): anything but DER is
/// refused with the reason, before any attribute is read.
pub fn check_signed_attributes(
    si: &SignerInfo,
    encoding: crate::cms::AttrsEncoding,
    econtent_type: ObjectIdentifier,
    content_digest: &[u8],
) -> Result<Vec<u8>, SignerError> {
    let Some(attrs) = &si.signed_attrs else {
        return Err(SignerError::NoSignedAttributes);
    };
    if let Some(problem) = encoding.problem() {
        return Err(SignerError::AttributesEncoding(problem));
    }
    let ct =
        single_attribute(attrs, oids::ATTR_CONTENT_TYPE)?.ok_or(SignerError::MissingContentType)?;
    let ct: ObjectIdentifier = ct
        .decode_as()
        .map_err(|e: der::Error| SignerError::MalformedContentType(e.to_string()))?;
    if ct != econtent_type {
        return Err(SignerError::ContentTypeMismatch {
            attribute: ct,
            econtent_type,
        });
    }
    let md = single_attribute(attrs, oids::ATTR_MESSAGE_DIGEST)?
        .ok_or(SignerError::MissingMessageDigest)?;
    let md: OctetString = md
        .decode_as()
        .map_err(|e: der::Error| SignerError::MalformedMessageDigest(e.to_string()))?;
    if md.as_bytes() != content_digest {
        return Err(SignerError::ContentDigestMismatch {
            signed: hex(md.as_bytes()),
            actual: hex(content_digest),
        });
    }
    // The signature covers the DER encoding of the attributes as a SET OF
    // (RFC 5652 section 5.4), i.e. with the [0] IMPLICIT tag replaced by SET.
    attrs
        .to_der()
        .map_err(|e| SignerError::AttributesNotDer(e.to_string()))
}

/// Verifies the signature value of `si` by `cert`.
///
/// With signed attributes, `attrs_der` is the signed message; without,
/// the content itself is signed and `content_digest` (and `content`, for
/// Ed25519) stand for it.
pub fn verify_signature(
    si: &SignerInfo,
    cert: &ParsedCert,
    digest_alg: DigestAlgorithm,
    attrs_der: Option<&[u8]>,
    content_digest: &[u8],
    content: Option<&[u8]>,
) -> Result<Scheme, SignerError> {
    let key = cert.key_algorithm();
    let scheme = signature::resolve_scheme_for(&si.signature_algorithm, digest_alg, cert)?;
    let attrs_digest;
    let msg = match attrs_der {
        Some(der) => {
            attrs_digest = digest_alg.hash(der);
            SignedMessage {
                digest: &attrs_digest,
                message: Some(der),
            }
        }
        None => SignedMessage {
            digest: content_digest,
            message: content,
        },
    };
    signature::verify(
        scheme,
        &key,
        &cert.spki_der(),
        digest_alg,
        &msg,
        si.signature.as_bytes(),
    )?;
    Ok(scheme)
}
