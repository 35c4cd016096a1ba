//! CMS SignedData parsing (RFC 5652) from DER, PEM or BER.
//!
//! The `cms` crate types the encapsulated content as `Any`, which under BER
//! keeps the segment headers of a constructed OCTET STRING inside the data.
//! [`SignedData`] here is a local copy of its struct with the content typed
//! as `OctetString`, which `der` reassembles byte-exact.

use crate::cert::ParsedCert;
use crate::limits::Limits;
use crate::oids;
use cms::cert::CertificateChoices;
use cms::content_info::CmsVersion;
use cms::revocation::RevocationInfoChoices;
use cms::signed_data::{CertificateSet, DigestAlgorithmIdentifiers, SignerInfo, SignerInfos};
use const_oid::ObjectIdentifier;
use der::asn1::OctetString;
use der::{Any, Decode, Encode, Sequence};
use serde::{Deserialize, Serialize};

/// ContentInfo (RFC 5652 section 3).
#[derive(Sequence)]
struct ContentInfo {
    content_type: ObjectIdentifier,
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT")]
    content: Any,
}

/// EncapsulatedContentInfo with the content as an OCTET STRING.
#[derive(Clone, Debug, Sequence)]
pub struct EncapsulatedContent {
    /// eContentType.
    pub econtent_type: ObjectIdentifier,
    /// eContent, reassembled if it was a constructed (segmented) string.
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT", optional = "true")]
    pub econtent: Option<OctetString>,
}

/// SignedData (RFC 5652 section 5.1).
#[derive(Clone, Debug, Sequence)]
pub struct SignedData {
    /// CMSVersion.
    pub version: CmsVersion,
    /// digestAlgorithms.
    pub digest_algorithms: DigestAlgorithmIdentifiers,
    /// encapContentInfo.
    pub encap_content_info: EncapsulatedContent,
    /// certificates.
    #[asn1(context_specific = "0", tag_mode = "IMPLICIT", optional = "true")]
    pub certificates: Option<CertificateSet>,
    /// crls.
    #[asn1(context_specific = "1", tag_mode = "IMPLICIT", optional = "true")]
    pub crls: Option<RevocationInfoChoices>,
    /// signerInfos.
    pub signer_infos: SignerInfos,
}

/// How the signature file was encoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Encoding {
    /// Distinguished Encoding Rules.
    Der,
    /// PEM armour around DER or BER.
    Pem,
    /// Basic Encoding Rules (for example indefinite lengths from `openssl cms -stream`).
    Ber,
}

impl std::fmt::Display for Encoding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Encoding::Der => "DER",
            Encoding::Pem => "PEM",
            Encoding::Ber => "BER",
        })
    }
}

/// How one signer's signed attributes were encoded in the file. RFC 5652
/// section 5.3: "SignedAttributes MUST be DER encoded, even if the rest of
/// the structure is BER encoded".
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AttrsEncoding {
    /// The signer has no signed attributes.
    Absent,
    /// The attributes appear in the file exactly as their DER encoding.
    Der,
    /// The `[0]` tag is primitive; signed attributes are a constructed SET.
    PrimitiveTag,
    /// Otherwise not DER: attributes out of DER (sorted) order, or
    /// non-minimal lengths.
    NotDer,
}

impl AttrsEncoding {
    /// Why the encoding is refused, or `None` for DER (or absent).
    pub fn problem(self) -> Option<&'static str> {
        match self {
            AttrsEncoding::Absent | AttrsEncoding::Der => None,
            AttrsEncoding::PrimitiveTag => Some(
                "the signed attributes are encoded with a primitive [0] tag; they are a SET and MUST be DER encoded (constructed), RFC 5652 section 5.3",
            ),
            AttrsEncoding::NotDer => Some(
                "the signed attributes are not DER encoded (their elements are not in DER sorted order, or a length is not minimal); RFC 5652 section 5.3 requires DER, and the signature covers the DER encoding",
            ),
        }
    }
}

/// Classifies how `si`'s signed attributes appear in `file` (the decoded
/// signature bytes): their DER encoding with the `[0]` tag must occur there
/// verbatim.
fn attrs_encoding(si: &SignerInfo, file: &[u8]) -> AttrsEncoding {
    let Some(attrs) = &si.signed_attrs else {
        return AttrsEncoding::Absent;
    };
    let Ok(mut der) = attrs.to_der() else {
        return AttrsEncoding::NotDer;
    };
    let Some(first) = der.first_mut() else {
        return AttrsEncoding::NotDer;
    };
    *first = 0xa0; // [0] IMPLICIT, constructed
    if memchr::memmem::find(file, &der).is_some() {
        return AttrsEncoding::Der;
    }
    if let Some(first) = der.first_mut() {
        *first = 0x80; // [0] IMPLICIT, primitive
    }
    if memchr::memmem::find(file, &der).is_some() {
        AttrsEncoding::PrimitiveTag
    } else {
        AttrsEncoding::NotDer
    }
}

/// A parsed SignedData with its certificates decoded.
#[derive(Clone, Debug)]
pub struct ParsedSignedData {
    /// Encoding of the outer file.
    pub encoding: Encoding,
    /// How each signer's signed attributes were encoded, in signer order.
    pub attrs_encoding: Vec<AttrsEncoding>,
    /// The SignedData.
    pub signed_data: SignedData,
    /// Certificates carried in the SignedData (untrusted: path-building help only).
    pub certificates: Vec<ParsedCert>,
}

impl ParsedSignedData {
    /// The signer infos, in encoded order.
    pub fn signers(&self) -> impl Iterator<Item = &SignerInfo> {
        self.signed_data.signer_infos.0.iter()
    }

    /// The encapsulated content, if attached.
    pub fn content(&self) -> Option<&[u8]> {
        self.signed_data
            .encap_content_info
            .econtent
            .as_ref()
            .map(|o| o.as_bytes())
    }

    /// eContentType.
    pub fn content_type(&self) -> ObjectIdentifier {
        self.signed_data.encap_content_info.econtent_type
    }
}

/// Why a signature file is not a usable CMS SignedData.
#[derive(Debug, thiserror::Error)]
pub enum CmsError {
    /// Empty input.
    #[error("the signature file is empty")]
    Empty,
    /// Over the size limit.
    #[error("the signature file is {size} bytes, over the limit of {limit} bytes")]
    TooLarge {
        /// Size seen.
        size: usize,
        /// Limit applied.
        limit: usize,
    },
    /// PEM armour that cannot be read.
    #[error("the signature file looks like PEM but cannot be read: {0}")]
    Pem(String),
    /// Not decodable as ContentInfo.
    #[error("the signature file is not a CMS (PKCS #7) structure: {0}")]
    Malformed(String),
    /// A ContentInfo of another type.
    #[error("the CMS content type is {0}, not SignedData (1.2.840.113549.1.7.2)")]
    NotSignedData(ObjectIdentifier),
    /// Too many signers or certificates.
    #[error("the SignedData has {count} {what}, over the limit of {limit}")]
    TooMany {
        /// What was counted.
        what: &'static str,
        /// How many.
        count: usize,
        /// Limit.
        limit: usize,
    },
    /// A certificate in the SignedData that cannot be parsed.
    #[error("a certificate carried in the SignedData is malformed: {0}")]
    BadCertificate(String),
    /// No signer at all.
    #[error("the SignedData has no signer infos")]
    NoSigners,
}

/// Parses a signature file: DER, PEM (`PKCS7`, `CMS` labels) or BER.
pub fn parse(input: &[u8], limits: &Limits) -> Result<ParsedSignedData, CmsError> {
    if input.is_empty() {
        return Err(CmsError::Empty);
    }
    if input.len() > limits.max_signature_bytes {
        return Err(CmsError::TooLarge {
            size: input.len(),
            limit: limits.max_signature_bytes,
        });
    }
    let first = input.iter().find(|b| !b.is_ascii_whitespace());
    let (bytes, pem_armoured) = if first == Some(&b'-') {
        let block = pem::parse(input).map_err(|e| CmsError::Pem(e.to_string()))?;
        match block.tag() {
            "PKCS7" | "CMS" | "PKCS #7 SIGNED DATA" => {}
            other => {
                return Err(CmsError::Pem(format!(
                    "PEM label is '{other}', expected 'PKCS7' or 'CMS'"
                )));
            }
        }
        (block.into_contents(), true)
    } else {
        (input.to_vec(), false)
    };
    let (signed_data, ber) = decode_signed_data(&bytes)?;
    let encoding = match (pem_armoured, ber) {
        (true, _) => Encoding::Pem,
        (false, true) => Encoding::Ber,
        (false, false) => Encoding::Der,
    };
    let signer_count = signed_data.signer_infos.0.len();
    if signer_count == 0 {
        return Err(CmsError::NoSigners);
    }
    if signer_count > limits.max_signers {
        return Err(CmsError::TooMany {
            what: "signer infos",
            count: signer_count,
            limit: limits.max_signers,
        });
    }
    let mut certificates = Vec::new();
    if let Some(set) = &signed_data.certificates {
        if set.0.len() > limits.max_certificates {
            return Err(CmsError::TooMany {
                what: "certificates",
                count: set.0.len(),
                limit: limits.max_certificates,
            });
        }
        for choice in set.0.iter() {
            // Only X.509 certificates help path building; attribute and
            // other certificate formats are ignored.
            if let CertificateChoices::Certificate(c) = choice {
                let der = c
                    .to_der()
                    .map_err(|e| CmsError::BadCertificate(e.to_string()))?;
                certificates.push(
                    ParsedCert::from_der(der)
                        .map_err(|e| CmsError::BadCertificate(e.to_string()))?,
                );
            }
        }
    }
    let attrs_encoding = signed_data
        .signer_infos
        .0
        .iter()
        .map(|si| attrs_encoding(si, &bytes))
        .collect();
    Ok(ParsedSignedData {
        encoding,
        attrs_encoding,
        signed_data,
        certificates,
    })
}

/// ContentInfo whose content is decoded directly as SignedData, so BER
/// indefinite lengths are handled in one pass without re-encoding.
#[derive(Sequence)]
struct SignedContentInfo {
    content_type: ObjectIdentifier,
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT")]
    content: SignedData,
}

/// Decodes DER first and falls back to BER; returns whether BER was needed.
fn decode_signed_data(bytes: &[u8]) -> Result<(SignedData, bool), CmsError> {
    let der_err = match SignedContentInfo::from_der(bytes) {
        Ok(ci) if ci.content_type == oids::SIGNED_DATA => return Ok((ci.content, false)),
        Ok(ci) => return Err(CmsError::NotSignedData(ci.content_type)),
        Err(e) => e,
    };
    match SignedContentInfo::from_ber(bytes) {
        Ok(ci) if ci.content_type == oids::SIGNED_DATA => Ok((ci.content, true)),
        Ok(ci) => Err(CmsError::NotSignedData(ci.content_type)),
        Err(_) => {
            // Say "not SignedData" when the outer ContentInfo is well formed
            // but of another type; otherwise report the (stricter) DER error.
            match ContentInfo::from_der(bytes).or_else(|_| ContentInfo::from_ber(bytes)) {
                Ok(ci) if ci.content_type != oids::SIGNED_DATA => {
                    Err(CmsError::NotSignedData(ci.content_type))
                }
                _ => Err(CmsError::Malformed(der_err.to_string())),
            }
        }
    }
}

/// An attribute that breaks RFC 5652's one-attribute, one-value rules.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AttributeError {
    /// The attribute appears twice (RFC 5652 section 5.3).
    #[error("attribute {0} appears more than once")]
    Repeated(ObjectIdentifier),
    /// The attribute has no value or several.
    #[error("attribute {0} must have exactly one value")]
    NotOneValue(ObjectIdentifier),
}

/// Finds the one value of a signed or unsigned attribute.
pub fn single_attribute(
    attrs: &x509_cert::attr::Attributes,
    oid: ObjectIdentifier,
) -> Result<Option<&x509_cert::attr::AttributeValue>, AttributeError> {
    let mut found = attrs.iter().filter(|a| a.oid == oid);
    let Some(attr) = found.next() else {
        return Ok(None);
    };
    if found.next().is_some() {
        return Err(AttributeError::Repeated(oid));
    }
    let mut values = attr.values.iter();
    let value = values.next();
    if values.next().is_some() || value.is_none() {
        return Err(AttributeError::NotOneValue(oid));
    }
    Ok(value)
}
