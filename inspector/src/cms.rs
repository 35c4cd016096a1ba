//! CMS SignedData parsing (RFC 5652) from DER, PEM or BER.
//!
//! The `cms` crate types the encapsulated content as `Any`, which under BER
//! keeps the segment headers of a constructed OCTET STRING inside the data.
//! [`SignedData`] here is a local copy of its struct with the content typed
//! as [`BerOctetString`], which reassembles every BER form of the content
//! byte-exact (the `der` crate alone reassembles only indefinite-length
//! strings of primitive segments).

use crate::cert::ParsedCert;
use crate::limits::Limits;
use crate::oids;
use cms::cert::CertificateChoices;
use cms::content_info::CmsVersion;
use cms::revocation::RevocationInfoChoices;
use cms::signed_data::{CertificateSet, DigestAlgorithmIdentifiers, SignerInfo, SignerInfos};
use const_oid::ObjectIdentifier;
use der::{Any, Decode, Encode, Sequence};
use serde::{Deserialize, Serialize};

/// ContentInfo (RFC 5652 section 3).
#[derive(Sequence)]
struct ContentInfo {
    content_type: ObjectIdentifier,
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT")]
    content: Any,
}

/// An OCTET STRING in any BER form (X.690 section 8.7): primitive, or
/// constructed with definite or indefinite length from segments that may
/// themselves be constructed (nested at most [`BerOctetString::MAX_DEPTH`]
/// deep). Under DER only the primitive form is accepted. Encodes as a
/// primitive (DER) OCTET STRING.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BerOctetString(Vec<u8>);

impl BerOctetString {
    /// Deepest segment nesting accepted (real producers nest once at most).
    pub const MAX_DEPTH: u8 = 8;

    /// The reassembled bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// Appends the bytes of one OCTET STRING value. `nested_indefinite`:
    /// the value is an indefinite-length segment inside another, whose
    /// reader still holds its end-of-contents octets (the `der` crate strips
    /// them only at the outermost level).
    fn collect<'a, R: der::Reader<'a>>(
        reader: &mut R,
        header: der::Header,
        out: &mut Vec<u8>,
        depth: u8,
        nested_indefinite: bool,
    ) -> der::Result<()> {
        if !header.is_constructed() {
            let len = usize::try_from(header.length())?;
            let start = out.len();
            out.resize(start + len, 0);
            reader.read_into(out.get_mut(start..).unwrap_or_default())?;
            return Ok(());
        }
        if !reader.encoding_rules().is_ber() {
            return Err(reader.error(der::ErrorKind::Noncanonical {
                tag: der::Tag::OctetString,
            }));
        }
        let depth = depth
            .checked_sub(1)
            .ok_or_else(|| reader.error(der::ErrorKind::Overlength))?;
        while !reader.is_finished() {
            if nested_indefinite && reader.peek_byte() == Some(0) {
                let mut eoc = [0u8; 2];
                reader.read_into(&mut eoc)?;
                if eoc != [0, 0] || !reader.is_finished() {
                    return Err(reader.error(der::ErrorKind::IndefiniteLength));
                }
                break;
            }
            // A segment's tag is one octet (universal 4); a first length
            // octet 0x80 marks the indefinite form.
            let mut tag_and_length = [0u8; 2];
            reader.peek_into(&mut tag_and_length)?;
            let [_, first_length_octet] = tag_and_length;
            let h = der::Header::decode(reader)?;
            h.tag().assert_eq(der::Tag::OctetString)?;
            reader.read_nested(h.length(), |r| {
                Self::collect(r, h, out, depth, first_length_octet == 0x80)
            })?;
        }
        Ok(())
    }
}

impl<'a> der::DecodeValue<'a> for BerOctetString {
    type Error = der::Error;

    fn decode_value<R: der::Reader<'a>>(reader: &mut R, header: der::Header) -> der::Result<Self> {
        let mut out = Vec::new();
        Self::collect(reader, header, &mut out, Self::MAX_DEPTH, false)?;
        Ok(Self(out))
    }
}

impl der::EncodeValue for BerOctetString {
    fn value_len(&self) -> der::Result<der::Length> {
        der::Length::try_from(self.0.len())
    }

    fn encode_value(&self, writer: &mut impl der::Writer) -> der::Result<()> {
        writer.write(&self.0)
    }
}

impl der::FixedTag for BerOctetString {
    const TAG: der::Tag = der::Tag::OctetString;
}

/// EncapsulatedContentInfo with the content as an OCTET STRING.
#[derive(Clone, Debug, Sequence)]
pub struct EncapsulatedContent {
    /// eContentType.
    pub econtent_type: ObjectIdentifier,
    /// eContent, reassembled if it was a constructed (segmented) string.
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT", optional = "true")]
    pub econtent: Option<BerOctetString>,
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
                certificates.push(ParsedCert::from_decoded(der, c.clone()));
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

#[cfg(test)]
#[allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
mod ber_tests {
    use super::BerOctetString;
    use der::Decode;

    fn bytes(hex: &str) -> Vec<u8> {
        (0..hex.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
            .collect()
    }

    const HELLO: &[u8] = b"Hello, world";

    /// Every BER form of an OCTET STRING reassembles to the same bytes.
    #[test]
    fn every_ber_form_reassembles() {
        for (form, hex) in [
            ("primitive", "040c48656c6c6f2c20776f726c64"),
            (
                "constructed, definite length",
                "2410040648656c6c6f2c040620776f726c64",
            ),
            (
                "constructed, indefinite length",
                "2480040648656c6c6f2c040620776f726c640000",
            ),
            (
                "nested definite in definite",
                "2414240a040348656c04036c6f2c040620776f726c64",
            ),
            (
                "definite segments in indefinite",
                "2480240a040348656c04036c6f2c040620776f726c640000",
            ),
            (
                "indefinite nested in indefinite",
                "24802480040648656c6c6f2c0000040620776f726c640000",
            ),
            (
                "indefinite nested in definite",
                "24142480040648656c6c6f2c0000040620776f726c64",
            ),
        ] {
            let got =
                BerOctetString::from_ber(&bytes(hex)).unwrap_or_else(|e| panic!("{form}: {e}"));
            assert_eq!(got.as_bytes(), HELLO, "{form}");
        }
    }

    /// DER allows the primitive form only; segments must be OCTET STRINGs;
    /// nesting is bounded.
    #[test]
    fn non_ber_and_hostile_forms_are_refused() {
        assert!(BerOctetString::from_der(&bytes("2410040648656c6c6f2c040620776f726c64")).is_err());
        assert!(BerOctetString::from_der(&bytes("040c48656c6c6f2c20776f726c64")).is_ok());
        // A segment that is not an OCTET STRING.
        assert!(BerOctetString::from_ber(&bytes("2410040648656c6c6f2c0c0620776f726c64")).is_err());
        // A segment longer than its parent.
        assert!(BerOctetString::from_ber(&bytes("2408040648656c6c6f2c040620776f726c64")).is_err());
        // Nested nine deep (one more than MAX_DEPTH).
        let mut hex = String::from("040148");
        for _ in 0..9 {
            let inner_len = hex.len() / 2;
            hex = format!("24{inner_len:02x}{hex}");
        }
        assert!(BerOctetString::from_ber(&bytes(&hex)).is_err());
        let mut hex = String::from("040148");
        for _ in 0..8 {
            let inner_len = hex.len() / 2;
            hex = format!("24{inner_len:02x}{hex}");
        }
        assert_eq!(
            BerOctetString::from_ber(&bytes(&hex)).unwrap().as_bytes(),
            b"H"
        );
    }
}
