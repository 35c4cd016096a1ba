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

/// The SignerInfo's digest algorithm, or why it is unusable.
pub fn digest_algorithm(si: &SignerInfo) -> Result<DigestAlgorithm, String> {
    DigestAlgorithm::from_oid(&si.digest_alg.oid)
        .ok_or_else(|| format!("digest algorithm {} is not supported", si.digest_alg.oid))
}

/// Checks the signed attributes (RFC 5652 section 5.3): contentType equals
/// the eContentType and messageDigest equals the content digest. Returns the
/// DER of the attribute SET, which is what the signature covers.
pub fn check_signed_attributes(
    si: &SignerInfo,
    econtent_type: ObjectIdentifier,
    content_digest: &[u8],
) -> Result<Vec<u8>, String> {
    let Some(attrs) = &si.signed_attrs else {
        return Err("no signed attributes".into());
    };
    let ct = single_attribute(attrs, oids::ATTR_CONTENT_TYPE)?
        .ok_or("the contentType signed attribute is missing (RFC 5652 section 11.1)")?;
    let ct: ObjectIdentifier = ct
        .decode_as()
        .map_err(|e| format!("malformed contentType attribute: {e}"))?;
    if ct != econtent_type {
        return Err(format!(
            "the contentType attribute ({ct}) differs from the eContentType ({econtent_type})"
        ));
    }
    let md = single_attribute(attrs, oids::ATTR_MESSAGE_DIGEST)?
        .ok_or("the messageDigest signed attribute is missing (RFC 5652 section 11.2)")?;
    let md: OctetString = md
        .decode_as()
        .map_err(|e| format!("malformed messageDigest attribute: {e}"))?;
    if md.as_bytes() != content_digest {
        return Err(format!(
            "the content does not match the signature: messageDigest is {} but the content hashes to {}",
            hex(md.as_bytes()),
            hex(content_digest)
        ));
    }
    // The signature covers the DER encoding of the attributes as a SET OF
    // (RFC 5652 section 5.4), i.e. with the [0] IMPLICIT tag replaced by SET.
    attrs
        .to_der()
        .map_err(|e| format!("signed attributes cannot be encoded as DER: {e}"))
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
) -> Result<Scheme, String> {
    let key = cert.key_algorithm();
    let scheme = signature::resolve_scheme(&si.signature_algorithm, digest_alg, &key)?;
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
