//! Certificate helpers: parsing, the facts the checks need, and summaries.
//!
//! Path validation itself is done by `rustls-webpki` (see [`crate::chain`]);
//! this module reads the extensions webpki ignores (KeyUsage, the signer's
//! own EKU, basic constraints of anchors) with `x509-cert`.

use crate::digest::{DigestAlgorithm, hex};
use crate::oids;
use const_oid::ObjectIdentifier;
use der::{Decode, Encode};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use x509_cert::Certificate;
use x509_cert::ext::pkix::{BasicConstraints, ExtendedKeyUsage, KeyUsage};

/// A parsed certificate with its original DER and SHA-256 fingerprint.
///
/// Shared, not copied: cloning one (a remembered path handed to every blob
/// of a lot) is a reference-count increment. The fields are reached
/// through `Deref` (`cert.der`, `cert.sha256`, …).
#[derive(Clone, Debug)]
pub struct ParsedCert(std::sync::Arc<CertData>);

impl std::ops::Deref for ParsedCert {
    type Target = CertData;
    fn deref(&self) -> &CertData {
        &self.0
    }
}

/// What a [`ParsedCert`] holds.
#[derive(Debug)]
pub struct CertData {
    /// The certificate exactly as received.
    pub der: Vec<u8>,
    /// The decoded certificate.
    pub cert: Certificate,
    /// SHA-256 over `der`.
    pub sha256: Vec<u8>,
    /// The subject and issuer as strings, made on first use: formatting a
    /// name looks every attribute type up in the OID database, which in a
    /// lot of 2,000 blobs cost a sixth of the run (docs/benchmarks.md).
    names: std::sync::OnceLock<(String, String)>,
    /// The summary reports show, made on first use.
    summary: std::sync::OnceLock<CertSummary>,
}

/// A public key's algorithm and strength.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "type")]
pub enum KeyAlgorithm {
    /// RSA with the modulus size in bits.
    Rsa {
        /// Modulus size.
        bits: u32,
    },
    /// ECDSA on NIST P-256.
    EcP256,
    /// ECDSA on NIST P-384.
    EcP384,
    /// Ed25519.
    Ed25519,
    /// Anything else (named by OID); no signature by it is accepted.
    Unsupported {
        /// The SPKI algorithm (and curve, if EC).
        oid: String,
    },
}

impl std::fmt::Display for KeyAlgorithm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            KeyAlgorithm::Rsa { bits } => write!(f, "RSA-{bits}"),
            KeyAlgorithm::EcP256 => f.write_str("ECDSA P-256"),
            KeyAlgorithm::EcP384 => f.write_str("ECDSA P-384"),
            KeyAlgorithm::Ed25519 => f.write_str("Ed25519"),
            KeyAlgorithm::Unsupported { oid } => write!(f, "unsupported key algorithm {oid}"),
        }
    }
}

impl KeyAlgorithm {
    /// The algorithm of a SubjectPublicKeyInfo.
    pub fn of_spki(spki: &x509_cert::spki::SubjectPublicKeyInfoOwned) -> KeyAlgorithm {
        match spki.algorithm.oid {
            oids::RSA_ENCRYPTION | oids::RSASSA_PSS => {
                let bits = spki
                    .subject_public_key
                    .as_bytes()
                    .and_then(|b| RsaPublicKeyView::from_der(b).ok())
                    .map(|k| uint_bits(k.modulus.as_bytes()))
                    .unwrap_or(0);
                KeyAlgorithm::Rsa { bits }
            }
            oids::EC_PUBLIC_KEY => {
                let curve = spki
                    .algorithm
                    .parameters
                    .as_ref()
                    .and_then(|p| p.decode_as::<ObjectIdentifier>().ok());
                match curve {
                    Some(oids::SECP256R1) => KeyAlgorithm::EcP256,
                    Some(oids::SECP384R1) => KeyAlgorithm::EcP384,
                    Some(other) => KeyAlgorithm::Unsupported {
                        oid: format!("ecPublicKey/{other}"),
                    },
                    None => KeyAlgorithm::Unsupported {
                        oid: "ecPublicKey without a named curve".into(),
                    },
                }
            }
            oids::ED25519 => KeyAlgorithm::Ed25519,
            other => KeyAlgorithm::Unsupported {
                oid: other.to_string(),
            },
        }
    }

    /// The algorithm of a DER SubjectPublicKeyInfo (a Sigstore vendor key).
    pub fn of_spki_der(der: &[u8]) -> KeyAlgorithm {
        match x509_cert::spki::SubjectPublicKeyInfoOwned::from_der(der) {
            Ok(spki) => KeyAlgorithm::of_spki(&spki),
            Err(_) => KeyAlgorithm::Unsupported {
                oid: "malformed SubjectPublicKeyInfo".into(),
            },
        }
    }

    /// The family a contract names (`rsa`, `ecdsa-p256`, `ecdsa-p384`,
    /// `ed25519`): RSA sizes are governed by `min_rsa_bits`, not here.
    pub fn family(&self) -> Option<&'static str> {
        match self {
            KeyAlgorithm::Rsa { .. } => Some("rsa"),
            KeyAlgorithm::EcP256 => Some("ecdsa-p256"),
            KeyAlgorithm::EcP384 => Some("ecdsa-p384"),
            KeyAlgorithm::Ed25519 => Some("ed25519"),
            KeyAlgorithm::Unsupported { .. } => None,
        }
    }

    /// The families a contract may list.
    pub const FAMILIES: [&'static str; 4] = ["rsa", "ecdsa-p256", "ecdsa-p384", "ed25519"];
    /// The name boot stages use for what they can verify: `ecdsa-p256`,
    /// `ecdsa-p384`, `ed25519`, `rsa-2048`, … (`None` if unsupported).
    pub fn capability(&self) -> Option<String> {
        match self {
            KeyAlgorithm::EcP256 => Some("ecdsa-p256".into()),
            KeyAlgorithm::EcP384 => Some("ecdsa-p384".into()),
            KeyAlgorithm::Ed25519 => Some("ed25519".into()),
            KeyAlgorithm::Rsa { bits } => Some(format!("rsa-{bits}")),
            KeyAlgorithm::Unsupported { .. } => None,
        }
    }
}

/// The capability name of a key as reports show it (`ECDSA P-256` →
/// `ecdsa-p256`, `RSA-2048` → `rsa-2048`): the inverse of [`KeyAlgorithm`]'s
/// `Display`, for reports that carry only the summary.
pub fn capability_of_key_name(key: &str) -> String {
    match key {
        "ECDSA P-256" => "ecdsa-p256".into(),
        "ECDSA P-384" => "ecdsa-p384".into(),
        "Ed25519" => "ed25519".into(),
        other => other
            .strip_prefix("RSA-")
            .map(|b| format!("rsa-{b}"))
            .unwrap_or_else(|| other.to_string()),
    }
}

/// RSAPublicKey (RFC 8017 appendix A.1.1), read only to measure the modulus.
#[derive(der::Sequence)]
struct RsaPublicKeyView<'a> {
    modulus: der::asn1::UintRef<'a>,
    _public_exponent: der::asn1::UintRef<'a>,
}

/// What a certificate looks like in reports and listings.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CertSummary {
    /// Subject distinguished name (RFC 4514 string).
    pub subject: String,
    /// Issuer distinguished name.
    pub issuer: String,
    /// Serial number, lower-case hex.
    pub serial: String,
    /// SHA-256 fingerprint of the DER, lower-case hex.
    pub sha256: String,
    /// Start of validity (RFC 3339).
    pub not_before: String,
    /// End of validity (RFC 3339).
    pub not_after: String,
    /// Public key algorithm and size.
    pub key: String,
}

/// Why a certificate could not be read.
#[derive(Debug, thiserror::Error)]
pub enum CertError {
    /// Not a DER X.509 certificate.
    #[error("not a valid X.509 certificate: {0}")]
    Malformed(String),
    /// A file or string without any certificate.
    #[error("no certificate found")]
    Empty,
    /// An extension that does not decode (RFC 5280 section 4.2).
    #[error("malformed {name}: {detail}")]
    MalformedExtension {
        /// basicConstraints, keyUsage, extKeyUsage.
        name: &'static str,
        /// What the decoder said.
        detail: String,
    },
}

impl ParsedCert {
    /// Parses one DER certificate.
    pub fn from_der(der: Vec<u8>) -> Result<Self, CertError> {
        let cert = Certificate::from_der(&der).map_err(|e| CertError::Malformed(e.to_string()))?;
        let sha256 = DigestAlgorithm::Sha256.hash(&der);
        Ok(ParsedCert(std::sync::Arc::new(CertData {
            der,
            cert,
            sha256,
            names: std::sync::OnceLock::new(),
            summary: std::sync::OnceLock::new(),
        })))
    }

    fn names(&self) -> &(String, String) {
        self.names.get_or_init(|| {
            let tbs = self.cert.tbs_certificate();
            (
                crate::names::name_string(tbs.subject()),
                crate::names::name_string(tbs.issuer()),
            )
        })
    }

    /// A certificate already decoded (from a CMS certificate set) with its
    /// DER encoding: no second decode.
    pub fn from_decoded(der: Vec<u8>, cert: Certificate) -> Self {
        let sha256 = DigestAlgorithm::Sha256.hash(&der);
        ParsedCert(std::sync::Arc::new(CertData {
            der,
            cert,
            sha256,
            names: std::sync::OnceLock::new(),
            summary: std::sync::OnceLock::new(),
        }))
    }

    /// Subject as an RFC 4514 string.
    pub fn subject(&self) -> String {
        self.names().0.clone()
    }

    /// Issuer as an RFC 4514 string.
    pub fn issuer(&self) -> String {
        self.names().1.clone()
    }

    /// DER of the subject name (for exact comparisons).
    pub fn subject_der(&self) -> Vec<u8> {
        self.cert
            .tbs_certificate()
            .subject()
            .to_der()
            .unwrap_or_default()
    }

    /// DER of the issuer name.
    pub fn issuer_der(&self) -> Vec<u8> {
        self.cert
            .tbs_certificate()
            .issuer()
            .to_der()
            .unwrap_or_default()
    }

    /// Serial number bytes as encoded.
    pub fn serial(&self) -> &[u8] {
        self.cert.tbs_certificate().serial_number().as_bytes()
    }

    /// Serial number, lower-case hex.
    pub fn serial_hex(&self) -> String {
        hex(self.serial())
    }

    /// SHA-256 fingerprint, lower-case hex.
    pub fn fingerprint(&self) -> String {
        hex(&self.sha256)
    }

    /// Start of validity.
    pub fn not_before(&self) -> OffsetDateTime {
        to_datetime(self.cert.tbs_certificate().validity().not_before)
    }

    /// End of validity.
    pub fn not_after(&self) -> OffsetDateTime {
        to_datetime(self.cert.tbs_certificate().validity().not_after)
    }

    /// Whether `at` falls inside the validity period (both ends inclusive, RFC 5280 4.1.2.5).
    pub fn valid_at(&self, at: OffsetDateTime) -> bool {
        self.not_before() <= at && at <= self.not_after()
    }

    /// DER of the SubjectPublicKeyInfo.
    pub fn spki_der(&self) -> Vec<u8> {
        self.cert
            .tbs_certificate()
            .subject_public_key_info()
            .to_der()
            .unwrap_or_default()
    }

    /// The public key's algorithm and size.
    pub fn key_algorithm(&self) -> KeyAlgorithm {
        KeyAlgorithm::of_spki(self.cert.tbs_certificate().subject_public_key_info())
    }

    /// Basic constraints cA flag (false when the extension is absent).
    pub fn is_ca(&self) -> Result<bool, CertError> {
        match self
            .cert
            .tbs_certificate()
            .get_extension::<BasicConstraints>()
        {
            Ok(Some((_, bc))) => Ok(bc.ca),
            Ok(None) => Ok(false),
            Err(e) => Err(CertError::MalformedExtension {
                name: "basicConstraints",
                detail: e.to_string(),
            }),
        }
    }

    /// The KeyUsage extension, if present.
    pub fn key_usage(&self) -> Result<Option<KeyUsage>, CertError> {
        self.cert
            .tbs_certificate()
            .get_extension::<KeyUsage>()
            .map(|o| o.map(|(_, ku)| ku))
            .map_err(|e| CertError::MalformedExtension {
                name: "keyUsage",
                detail: e.to_string(),
            })
    }

    /// The extended key usages, if the extension is present.
    pub fn extended_key_usage(&self) -> Result<Option<Vec<ObjectIdentifier>>, CertError> {
        self.cert
            .tbs_certificate()
            .get_extension::<ExtendedKeyUsage>()
            .map(|o| o.map(|(_, eku)| eku.0))
            .map_err(|e| CertError::MalformedExtension {
                name: "extKeyUsage",
                detail: e.to_string(),
            })
    }

    /// The extended key usage with its criticality, if present.
    pub fn extended_key_usage_critical(
        &self,
    ) -> Result<Option<(bool, Vec<ObjectIdentifier>)>, CertError> {
        self.cert
            .tbs_certificate()
            .get_extension::<ExtendedKeyUsage>()
            .map(|o| o.map(|(critical, eku)| (critical, eku.0)))
            .map_err(|e| CertError::MalformedExtension {
                name: "extKeyUsage",
                detail: e.to_string(),
            })
    }

    /// Whether `issuer`'s key made this certificate's signature (one
    /// signature check over the to-be-signed part, with the registry's
    /// usual algorithms; not path validation). Used where a CA certificate
    /// must come from a given CA (registering an intermediate).
    pub fn is_signed_by(&self, issuer: &ParsedCert) -> bool {
        use crate::oids;
        let Ok(tbs) = der::Encode::to_der(self.cert.tbs_certificate()) else {
            return false;
        };
        let alg = self.cert.signature_algorithm();
        let digest = match alg.oid {
            oids::ECDSA_WITH_SHA256 | oids::SHA256_WITH_RSA => DigestAlgorithm::Sha256,
            oids::ECDSA_WITH_SHA384 | oids::SHA384_WITH_RSA => DigestAlgorithm::Sha384,
            oids::ECDSA_WITH_SHA512 | oids::SHA512_WITH_RSA => DigestAlgorithm::Sha512,
            _ => return false,
        };
        let key = issuer.key_algorithm();
        let Ok(scheme) = crate::signature::resolve_scheme_for(alg, digest, issuer) else {
            return false;
        };
        let Some(sig) = self.cert.signature().as_bytes() else {
            return false;
        };
        let hashed = digest.hash(&tbs);
        crate::signature::verify(
            scheme,
            &key,
            &issuer.spki_der(),
            digest,
            &crate::signature::SignedMessage {
                digest: &hashed,
                message: Some(&tbs),
            },
            sig,
        )
        .is_ok()
    }

    /// The UTF8String values of the subjectAltName's OtherName entries of
    /// type `type_id` (e.g. Fulcio's username identity,
    /// 1.3.6.1.4.1.57264.1.7). Entries of that type whose value is not a
    /// UTF8String are skipped; a malformed SAN gives none.
    pub fn other_name_sans(&self, type_id: &ObjectIdentifier) -> Vec<String> {
        use x509_cert::ext::pkix::SubjectAltName;
        use x509_cert::ext::pkix::name::GeneralName;
        let Ok(Some((_, san))) = self
            .cert
            .tbs_certificate()
            .get_extension::<SubjectAltName>()
        else {
            return Vec::new();
        };
        san.0
            .iter()
            .filter_map(|name| match name {
                GeneralName::OtherName(o) if &o.type_id == type_id => o
                    .value
                    .decode_as::<der::asn1::Utf8StringRef<'_>>()
                    .ok()
                    .map(|v| v.as_str().to_string()),
                _ => None,
            })
            .collect()
    }

    /// Whether the certificate is self-issued (subject equals issuer).
    pub fn is_self_issued(&self) -> bool {
        self.subject_der() == self.issuer_der()
    }

    /// A short one-line name: the subject.
    pub fn display_name(&self) -> String {
        self.subject()
    }

    /// The summary used in reports.
    pub fn summary(&self) -> CertSummary {
        self.summary
            .get_or_init(|| CertSummary {
                subject: self.subject(),
                issuer: self.issuer(),
                serial: self.serial_hex(),
                sha256: self.fingerprint(),
                not_before: rfc3339(self.not_before()),
                not_after: rfc3339(self.not_after()),
                key: self.key_algorithm().to_string(),
            })
            .clone()
    }
}

/// Number of significant bits in a big-endian unsigned integer.
fn uint_bits(bytes: &[u8]) -> u32 {
    let mut iter = bytes.iter().skip_while(|b| **b == 0);
    match iter.next() {
        None => 0,
        Some(first) => {
            let rest = iter.count() as u32;
            rest * 8 + (8 - first.leading_zeros())
        }
    }
}

fn to_datetime(t: x509_cert::time::Time) -> OffsetDateTime {
    let secs = i64::try_from(t.to_unix_duration().as_secs()).unwrap_or(i64::MAX);
    OffsetDateTime::from_unix_timestamp(secs).unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

/// A certificate's DER as PEM (`CERTIFICATE`, LF line endings), the form
/// trust-policy documents and exports carry.
pub fn certificate_pem(der: &[u8]) -> String {
    pem::encode_config(
        &pem::Pem::new("CERTIFICATE", der.to_vec()),
        pem::EncodeConfig::new().set_line_ending(pem::LineEnding::LF),
    )
}

/// Formats a time as RFC 3339 (UTC, seconds).
pub fn rfc3339(t: OffsetDateTime) -> String {
    t.to_offset(time::UtcOffset::UTC)
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|_| t.unix_timestamp().to_string())
}

/// Formats a time as a calendar date (`2026-03-01`), for human reasons.
pub fn date(t: OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    format!("{:04}-{:02}-{:02}", t.year(), u8::from(t.month()), t.day())
}

/// Splits PEM text (any number of `CERTIFICATE` blocks) or one DER
/// certificate into DER certificates.
pub fn certificates_from_bytes(bytes: &[u8]) -> Result<Vec<ParsedCert>, CertError> {
    let looks_pem = bytes
        .iter()
        .find(|b| !b.is_ascii_whitespace())
        .is_some_and(|b| *b == b'-');
    if looks_pem {
        let blocks = pem::parse_many(bytes).map_err(|e| CertError::Malformed(e.to_string()))?;
        let mut out = Vec::new();
        for block in blocks {
            if block.tag() == "CERTIFICATE" || block.tag() == "X509 CERTIFICATE" {
                out.push(ParsedCert::from_der(block.into_contents())?);
            }
        }
        if out.is_empty() {
            return Err(CertError::Empty);
        }
        Ok(out)
    } else {
        if bytes.is_empty() {
            return Err(CertError::Empty);
        }
        Ok(vec![ParsedCert::from_der(bytes.to_vec())?])
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn uint_bits_counts_significant_bits() {
        assert_eq!(uint_bits(&[]), 0);
        assert_eq!(uint_bits(&[0, 0]), 0);
        assert_eq!(uint_bits(&[1]), 1);
        assert_eq!(uint_bits(&[0x80, 0]), 16);
        assert_eq!(uint_bits(&[0, 0x7f, 0xff]), 15);
    }

    #[test]
    fn capability_names_round_trip_through_the_display_names() {
        for k in [
            KeyAlgorithm::EcP256,
            KeyAlgorithm::EcP384,
            KeyAlgorithm::Ed25519,
            KeyAlgorithm::Rsa { bits: 3072 },
        ] {
            assert_eq!(Some(capability_of_key_name(&k.to_string())), k.capability());
        }
        assert_eq!(
            KeyAlgorithm::Unsupported {
                oid: "1.2.3".into()
            }
            .capability(),
            None
        );
    }

    #[test]
    fn garbage_is_not_a_certificate() {
        assert!(matches!(
            certificates_from_bytes(b"hello"),
            Err(CertError::Malformed(_))
        ));
        assert!(matches!(
            certificates_from_bytes(b""),
            Err(CertError::Empty)
        ));
        assert!(
            certificates_from_bytes(
                b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"
            )
            .is_err()
        );
    }
}
