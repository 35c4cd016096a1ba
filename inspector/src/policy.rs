//! The trust-policy document (`docs/trust-policy.md`) and its resolved form.
//!
//! [`PolicyDocument`] is the JSON exactly as written; [`TrustPolicy`] is the
//! same with every certificate reference loaded and parsed, every version and
//! date checked. Loading files is the caller's job: certificate references
//! that are not inline PEM are handed to a [`CertificateSource`], so this
//! module never touches the file system.

use crate::cert::{ParsedCert, certificates_from_bytes};
use crate::digest::DigestAlgorithm;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// The only document version this build understands.
pub const POLICY_VERSION: u32 = 1;

/// The trust-policy JSON document.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicyDocument {
    /// Format version; must be 1.
    pub version: u32,
    /// Vendors and what they may sign.
    pub vendors: Vec<VendorDocument>,
    /// Trust anchors for RFC 3161 time-stamping authorities.
    #[serde(default)]
    pub tsa_anchors: Vec<String>,
    /// Revoked certificates (signers or intermediates).
    #[serde(default)]
    pub revocations: Vec<RevocationDocument>,
    /// Trust-bundle serial (set by the registry; increases on every change).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub serial: Option<u64>,
    /// When the registry issued this document (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issued_at: Option<String>,
    /// Freshness deadline (RFC 3339): stations refuse the bundle after it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<String>,
    /// Sigstore trusted roots (public-good, private instances).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sigstore_trusted_roots: Vec<TrustedRootDocument>,
    /// Revoked Sigstore signers: an identity (issuer and exact SAN) or a
    /// key (SPKI SHA-256), for all time or from an instant.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sigstore_revocations: Vec<SigstoreRevocationDocument>,
    /// CA keys several vendors registered on purpose (recorded by product
    /// security with a reason). Informational: each vendor lists the CA
    /// among its own anchors or intermediates.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub shared_cas: Vec<SharedCaDocument>,
    /// Products and their boot stages, for `verify --product`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub products: Vec<ProductDocument>,
    /// The registry's signed audit checkpoint (heads of its audit log and
    /// receipt chain when the bundle was built). Not used to verify blobs:
    /// anyone keeping the bundle can later prove the registry's history
    /// was not rewritten (`tollgate-registry audit verify --checkpoint`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checkpoint: Option<CheckpointDocument>,
    /// Images vendors listed in SBOMs they signed (verified by the
    /// registry): their versions are bound (`crate::sbom_binding`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sbom_bindings: Vec<crate::sbom_binding::SbomBindingDocument>,
}

/// One revoked Sigstore signer: exactly one of `identity` or
/// `key_spki_sha256`.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct SigstoreRevocationDocument {
    /// A keyless identity: the exact issuer and SAN.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity: Option<RevokedIdentityDocument>,
    /// A vendor key (keyed bundles): hex SHA-256 of its SubjectPublicKeyInfo.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_spki_sha256: Option<String>,
    /// RFC 5280 reason name.
    pub reason: String,
    /// From when (RFC 3339): bundles whose trusted time (RFC 3161 or the
    /// log's integrated time) is earlier still verify. Absent: all time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revoked_from: Option<String>,
}

/// A CA key shared by several vendors, on purpose.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct SharedCaDocument {
    /// Hex SHA-256 of the CA's SubjectPublicKeyInfo.
    pub spki_sha256: String,
    /// The CA's subject.
    pub subject: String,
    /// The vendors that share it.
    pub vendors: Vec<String>,
    /// Why.
    pub reason: String,
}

/// A revoked keyless identity.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct RevokedIdentityDocument {
    /// OIDC issuer, exact.
    pub issuer: String,
    /// Certificate SAN, exact.
    pub san: String,
}

/// A revoked Sigstore signer, resolved.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SigstoreRevocation {
    /// (issuer, SAN) of a keyless identity…
    pub identity: Option<(String, String)>,
    /// …or a key's SPKI SHA-256 (lower-case hex).
    pub key_spki_sha256: Option<String>,
    /// Reason.
    pub reason: String,
    /// From when; `None`: all time.
    pub revoked_from: Option<OffsetDateTime>,
}

/// Heads of the registry's hash chains at one moment.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct CheckpointDocument {
    /// Entries in the audit log.
    pub audit_entries: u64,
    /// Hash of the newest audit entry (64 zeros when empty).
    pub audit_head: String,
    /// Receipts in the receipt chain.
    pub receipt_entries: u64,
    /// Hash of the newest chained receipt (64 zeros when empty).
    pub receipt_head: String,
}

/// A product (device model) and its boot chain.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ProductDocument {
    /// Identifier (`--product`).
    pub id: String,
    /// Display name.
    #[serde(default)]
    pub name: String,
    /// Boot stages in boot order.
    pub stages: Vec<StageDocument>,
}

/// One boot stage: what it can verify and what it loads.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct StageDocument {
    /// Name (`rom`, `bootloader`, …).
    pub name: String,
    /// `ecdsa-p256`, `ecdsa-p384`, `ed25519`, `rsa-2048`, `rsa-3072`, `rsa-4096`.
    pub algorithms: Vec<String>,
    /// Components this stage loads.
    #[serde(default)]
    pub components: Vec<String>,
}

/// A named Sigstore `trusted_root.json`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrustedRootDocument {
    /// A name for reasons and logs (`public-good`).
    pub name: String,
    /// A path to the `trusted_root.json`, or the JSON itself (starting with `{`).
    pub trusted_root: String,
}

/// A vendor's Sigstore identities and keys.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VendorSigstoreDocument {
    /// Keyless identities: OIDC issuer plus certificate SAN.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub identities: Vec<IdentityDocument>,
    /// Public keys (path or inline PEM) for keyed bundles.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub keys: Vec<String>,
}

/// One keyless identity.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IdentityDocument {
    /// OIDC issuer, exact (`https://token.actions.githubusercontent.com`).
    pub issuer: String,
    /// Certificate SAN, exact.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub san: Option<String>,
    /// Certificate SAN as a regular expression, anchored at both ends.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub san_regex: Option<String>,
}

/// One vendor in the document.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VendorDocument {
    /// Stable identifier used on the command line (`--vendor`).
    pub id: String,
    /// Display name.
    #[serde(default)]
    pub name: String,
    /// Trust anchors for this vendor only (may be empty for a vendor that
    /// signs with Sigstore only).
    #[serde(default)]
    pub anchors: Vec<String>,
    /// Registered intermediates: help path building, never anchors.
    #[serde(default)]
    pub intermediates: Vec<String>,
    /// Components this vendor may supply.
    #[serde(default)]
    pub components: Vec<ComponentDocument>,
    /// The contract's signing terms.
    #[serde(default)]
    pub policy: SigningPolicyDocument,
    /// Sigstore identities and keys.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sigstore: Option<VendorSigstoreDocument>,
    /// When the vendor's supply contract ends (RFC 3339): nothing it
    /// supplies is accepted after that.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contract_ends: Option<String>,
    /// The contract's reference (`C-2026-01`), named in `contract` check
    /// reasons.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub contract_ref: String,
    /// End of the vendor's support period (RFC 3339): security updates are
    /// promised until then. Reported, not enforced at inspection.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub support_ends: Option<String>,
    /// Every image must have its version bound by a signed SBOM.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub require_signed_sbom: bool,
}

/// A component a vendor may supply.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ComponentDocument {
    /// Component name (`--component`).
    pub name: String,
    /// Rollback floor: the lowest acceptable semantic version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_version: Option<String>,
    /// Who may sign this component (any of them); empty: any key of the
    /// vendor, as before.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub allowed_signers: Vec<AllowedSignerDocument>,
    /// End of support for this component, overriding the vendor's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub support_ends: Option<String>,
    /// The RFC 4108 package identifier (fwPkgID OID) of this component's
    /// firmware packages.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub firmware_package_oid: Option<String>,
}

/// One allowed signer of a component: exactly one field.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct AllowedSignerDocument {
    /// The signer certificate's subject, as Notation's `x509.subject`: the
    /// exact set of RDNs (`CN=Acme WiFi FW Signer, O=Acme Chips`; order
    /// does not matter, every attribute must match).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    /// The signer key: hex SHA-256 of its SubjectPublicKeyInfo.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spki_sha256: Option<String>,
    /// A Sigstore signer identity (the certificate's SAN, exactly).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sigstore_san: Option<String>,
}

/// An allowed signer, resolved.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AllowedSigner {
    /// The exact set of subject RDNs (attribute type upper-cased).
    Subject {
        /// As written.
        text: String,
        /// The set.
        rdns: std::collections::BTreeSet<(String, String)>,
    },
    /// SPKI SHA-256.
    Spki(Vec<u8>),
    /// A Sigstore SAN.
    SigstoreSan(String),
}

/// An RFC 4514-style name as a set of (TYPE, value) pairs: split on
/// unescaped commas and plus signs, each `TYPE=value` trimmed. `None` when
/// a part has no `=`.
pub fn subject_rdns(s: &str) -> Option<std::collections::BTreeSet<(String, String)>> {
    let mut parts = Vec::new();
    let mut cur = String::new();
    let mut escaped = false;
    for ch in s.chars() {
        if escaped {
            cur.push(ch);
            escaped = false;
        } else if ch == '\\' {
            cur.push(ch);
            escaped = true;
        } else if ch == ',' || ch == '+' {
            parts.push(std::mem::take(&mut cur));
        } else {
            cur.push(ch);
        }
    }
    parts.push(cur);
    let mut set = std::collections::BTreeSet::new();
    for p in parts {
        let (t, v) = p.split_once('=')?;
        let (t, v) = (t.trim().to_ascii_uppercase(), v.trim().to_string());
        if t.is_empty() || v.is_empty() {
            return None;
        }
        set.insert((t, v));
    }
    (!set.is_empty()).then_some(set)
}

impl AllowedSigner {
    /// How the reason names it.
    pub fn describe(&self) -> String {
        match self {
            AllowedSigner::Subject { text, .. } => format!("subject '{text}'"),
            AllowedSigner::Spki(h) => format!("key SPKI SHA-256 {}", crate::digest::hex(h)),
            AllowedSigner::SigstoreSan(s) => format!("Sigstore identity {s}"),
        }
    }

    /// Whether a signer certificate is this one.
    pub fn matches_cert(&self, cert: &ParsedCert) -> bool {
        match self {
            AllowedSigner::Subject { rdns, .. } => {
                subject_rdns(&cert.subject()).is_some_and(|s| &s == rdns)
            }
            AllowedSigner::Spki(h) => {
                crate::digest::DigestAlgorithm::Sha256.hash(&cert.spki_der()) == *h
            }
            AllowedSigner::SigstoreSan(_) => false,
        }
    }
}

/// The contract's signing terms.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SigningPolicyDocument {
    /// Accepted digest algorithms (`sha256`, `sha384`, `sha512`).
    #[serde(default = "default_digests")]
    pub digests: Vec<String>,
    /// Smallest RSA modulus accepted for the signer key.
    #[serde(default = "default_min_rsa_bits")]
    pub min_rsa_bits: u32,
    /// Whether every signature must carry a trusted RFC 3161 timestamp.
    #[serde(default)]
    pub require_timestamp: bool,
    /// Signer key algorithms the contract allows (`rsa`, `ecdsa-p256`,
    /// `ecdsa-p384`, `ed25519`); empty: any Tollgate supports.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub key_algorithms: Vec<String>,
}

impl Default for SigningPolicyDocument {
    fn default() -> Self {
        SigningPolicyDocument {
            digests: default_digests(),
            min_rsa_bits: default_min_rsa_bits(),
            require_timestamp: false,
            key_algorithms: Vec::new(),
        }
    }
}

fn default_digests() -> Vec<String> {
    vec!["sha256".into(), "sha384".into(), "sha512".into()]
}

fn default_min_rsa_bits() -> u32 {
    2048
}

/// A revocation entry in the document.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RevocationDocument {
    /// The revoked certificate(s): path or inline PEM. Either this, or
    /// `issuer_certificate` with `serial`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub certificate: Option<String>,
    /// The CA that issued the revoked certificate (path or inline PEM), for
    /// revocations known only by serial number (from a CRL).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issuer_certificate: Option<String>,
    /// Serial number of the revoked certificate, hexadecimal.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub serial: Option<String>,
    /// RFC 5280 reason name (`keyCompromise`, `superseded`, ...).
    #[serde(default = "default_reason")]
    pub reason: String,
    /// When the key became untrustworthy (RFC 3339). Signatures with a
    /// trusted timestamp before this instant stay valid. Absent: revoked
    /// for all time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invalidity_date: Option<String>,
}

fn default_reason() -> String {
    "unspecified".into()
}

/// RFC 5280 section 5.3.1 revocation reasons.
pub const REVOCATION_REASONS: &[&str] = &[
    "unspecified",
    "keyCompromise",
    "cACompromise",
    "affiliationChanged",
    "superseded",
    "cessationOfOperation",
    "certificateHold",
    "privilegeWithdrawn",
    "aACompromise",
];

/// Reads certificate references that are not inline PEM.
pub trait CertificateSource {
    /// Returns the bytes (PEM or DER) the reference names, or a message.
    fn load(&mut self, reference: &str) -> Result<Vec<u8>, String>;
}

/// A source that refuses every file reference (inline PEM only).
pub struct InlineOnly;

impl CertificateSource for InlineOnly {
    fn load(&mut self, reference: &str) -> Result<Vec<u8>, String> {
        Err(format!(
            "'{reference}' is not inline PEM and this policy was loaded without file access"
        ))
    }
}

/// A policy that could not be loaded, with the field at fault.
#[derive(Debug, thiserror::Error)]
#[error("{field}: {message}")]
pub struct PolicyError {
    /// JSON path of the offending field (`vendors[0].anchors[1]`), or
    /// `(document)` for syntax errors.
    pub field: String,
    /// What is wrong.
    pub message: String,
}

impl PolicyError {
    pub(crate) fn new(field: impl AsRef<str>, message: impl Into<String>) -> Self {
        PolicyError {
            field: field.as_ref().to_string(),
            message: message.into(),
        }
    }
}

/// A vendor with its trust material loaded.
#[derive(Clone, Debug)]
pub struct Vendor {
    /// Identifier.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Anchors (all checked to be CA certificates).
    pub anchors: Vec<ParsedCert>,
    /// Registered intermediates.
    pub intermediates: Vec<ParsedCert>,
    /// Authorised components.
    pub components: Vec<Component>,
    /// Signing terms.
    pub policy: SigningPolicy,
    /// Sigstore identities and keys.
    pub sigstore: crate::sigstore_trust::VendorSigstore,
    /// End of the supply contract, if set.
    pub contract_ends: Option<OffsetDateTime>,
    /// The contract's reference (may be empty).
    pub contract_ref: String,
    /// End of the vendor's support period, if set.
    pub support_ends: Option<OffsetDateTime>,
    /// Every image must have its version bound by a signed SBOM.
    pub require_signed_sbom: bool,
}

/// An authorised component and its floor.
#[derive(Clone, Debug)]
pub struct Component {
    /// Name.
    pub name: String,
    /// Lowest acceptable version.
    pub min_version: Option<semver::Version>,
    /// Who may sign it (empty: any key of the vendor).
    pub allowed_signers: Vec<AllowedSigner>,
    /// End of support for this component, if it overrides the vendor's.
    pub support_ends: Option<OffsetDateTime>,
    /// Its RFC 4108 package identifier, checked to be an OID.
    pub firmware_package_oid: Option<String>,
}

/// Signing terms, parsed.
#[derive(Clone, Debug)]
pub struct SigningPolicy {
    /// Accepted digests.
    pub digests: Vec<DigestAlgorithm>,
    /// Smallest RSA modulus.
    pub min_rsa_bits: u32,
    /// A trusted timestamp is mandatory.
    pub require_timestamp: bool,
    /// Allowed signer key families (empty: any).
    pub key_algorithms: Vec<String>,
}

/// What a revocation designates.
#[derive(Clone, Debug)]
pub enum RevokedTarget {
    /// This exact certificate (and any certificate with its issuer and serial).
    Certificate(Box<ParsedCert>),
    /// The certificate with this serial issued by this CA.
    IssuerSerial {
        /// DER of the issuer's subject name.
        issuer_name_der: Vec<u8>,
        /// The issuer's display name.
        issuer: String,
        /// Serial number bytes (minimal, as encoded in certificates).
        serial: Vec<u8>,
    },
}

impl RevokedTarget {
    /// Whether `cert` is the revoked certificate.
    pub fn matches(&self, cert: &ParsedCert) -> bool {
        match self {
            RevokedTarget::Certificate(c) => {
                c.sha256 == cert.sha256
                    || (c.issuer_der() == cert.issuer_der() && c.serial() == cert.serial())
            }
            RevokedTarget::IssuerSerial {
                issuer_name_der,
                serial,
                ..
            } => {
                cert.issuer_der() == *issuer_name_der
                    && strip_zeros(cert.serial()) == strip_zeros(serial)
            }
        }
    }
}

fn strip_zeros(b: &[u8]) -> &[u8] {
    let start = b.iter().position(|x| *x != 0).unwrap_or(b.len());
    b.get(start..).unwrap_or(&[])
}

/// A revocation, parsed.
#[derive(Clone, Debug)]
pub struct Revocation {
    /// The revoked certificate.
    pub target: RevokedTarget,
    /// Reason name.
    pub reason: String,
    /// Invalidity date; `None` means revoked for all time.
    pub invalidity_date: Option<OffsetDateTime>,
}

/// The resolved trust policy the verification core consumes.
#[derive(Clone, Debug)]
pub struct TrustPolicy {
    /// Vendors.
    pub vendors: Vec<Vendor>,
    /// TSA anchors.
    pub tsa_anchors: Vec<ParsedCert>,
    /// Revocations.
    pub revocations: Vec<Revocation>,
    /// Bundle serial, when the document came from a registry.
    pub serial: Option<u64>,
    /// Freshness deadline, when the document came from a registry.
    pub expires_at: Option<OffsetDateTime>,
    /// Sigstore trusted roots.
    pub sigstore_roots: Vec<std::sync::Arc<crate::sigstore_trust::SigstoreRoot>>,
    /// Products and their boot stages.
    pub products: Vec<ProductDocument>,
    /// Revoked Sigstore signers.
    pub sigstore_revocations: Vec<SigstoreRevocation>,
    /// Versions bound by vendor-signed SBOMs.
    pub sbom_bindings: Vec<crate::sbom_binding::SbomBindingDocument>,
}

/// Parses an optional RFC 3339 field.
fn parse_instant(value: Option<&str>, field: &str) -> Result<Option<OffsetDateTime>, PolicyError> {
    value
        .map(|t| {
            OffsetDateTime::parse(t, &Rfc3339)
                .map_err(|e| PolicyError::new(field, format!("'{t}' is not an RFC 3339 time: {e}")))
        })
        .transpose()
}

/// Parses hexadecimal (colons and spaces allowed) into bytes.
pub fn parse_hex(s: &str) -> Option<Vec<u8>> {
    let digits: Vec<u8> = s.bytes().filter(|b| *b != b':' && *b != b' ').collect();
    if digits.is_empty() || !digits.len().is_multiple_of(2) {
        return None;
    }
    digits
        .chunks(2)
        .map(|p| {
            std::str::from_utf8(p)
                .ok()
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        })
        .collect()
}

impl TrustPolicy {
    /// Parses and resolves a JSON trust-policy document.
    pub fn from_json(json: &[u8], source: &mut dyn CertificateSource) -> Result<Self, PolicyError> {
        let de = &mut serde_json::Deserializer::from_slice(json);
        let doc: PolicyDocument = serde_path_to_error::deserialize(de).map_err(|e| {
            let path = e.path().to_string();
            let field = if path == "." {
                "(document)".to_string()
            } else {
                path
            };
            PolicyError::new(field, e.inner().to_string())
        })?;
        Self::from_document(&doc, source)
    }

    /// Resolves an already-parsed document.
    pub fn from_document(
        doc: &PolicyDocument,
        source: &mut dyn CertificateSource,
    ) -> Result<Self, PolicyError> {
        if doc.version != POLICY_VERSION {
            return Err(PolicyError::new(
                "version",
                format!(
                    "unsupported trust-policy version {} (this build reads version {POLICY_VERSION})",
                    doc.version
                ),
            ));
        }
        let mut vendors = Vec::with_capacity(doc.vendors.len());
        for (i, v) in doc.vendors.iter().enumerate() {
            let at = |f: &str| format!("vendors[{i}].{f}");
            if v.id.trim().is_empty() {
                return Err(PolicyError::new(at("id"), "must not be empty"));
            }
            if doc.vendors.iter().take(i).any(|o| o.id == v.id) {
                return Err(PolicyError::new(
                    at("id"),
                    format!("duplicate vendor id '{}'", v.id),
                ));
            }
            let has_sigstore = v
                .sigstore
                .as_ref()
                .is_some_and(|s| !s.identities.is_empty() || !s.keys.is_empty());
            if v.anchors.is_empty() && !has_sigstore {
                return Err(PolicyError::new(
                    at("anchors"),
                    "a vendor needs at least one trust anchor (or Sigstore identities or keys)",
                ));
            }
            let mut anchors = Vec::new();
            for (j, r) in v.anchors.iter().enumerate() {
                let field = at(&format!("anchors[{j}]"));
                for c in load_certs(r, source, &field)? {
                    match c.is_ca() {
                        Ok(true) => anchors.push(c),
                        Ok(false) => {
                            return Err(PolicyError::new(
                                field,
                                format!(
                                    "'{}' is not a CA certificate and cannot be a trust anchor",
                                    c.subject()
                                ),
                            ));
                        }
                        Err(e) => return Err(PolicyError::new(field, e.to_string())),
                    }
                }
            }
            let mut intermediates = Vec::new();
            for (j, r) in v.intermediates.iter().enumerate() {
                intermediates.extend(load_certs(r, source, &at(&format!("intermediates[{j}]")))?);
            }
            let mut components = Vec::new();
            for (j, c) in v.components.iter().enumerate() {
                let field = at(&format!("components[{j}]"));
                if c.name.trim().is_empty() {
                    return Err(PolicyError::new(
                        format!("{field}.name"),
                        "must not be empty",
                    ));
                }
                let min_version = match &c.min_version {
                    None => None,
                    Some(s) => Some(semver::Version::parse(s).map_err(|e| {
                        PolicyError::new(
                            format!("{field}.min_version"),
                            format!("'{s}' is not a semantic version: {e}"),
                        )
                    })?),
                };
                let mut allowed_signers = Vec::new();
                for (k, a) in c.allowed_signers.iter().enumerate() {
                    let f = format!("{field}.allowed_signers[{k}]");
                    let one = match (&a.subject, &a.spki_sha256, &a.sigstore_san) {
                        (Some(text), None, None) => subject_rdns(text)
                            .map(|rdns| AllowedSigner::Subject {
                                text: text.clone(),
                                rdns,
                            })
                            .ok_or_else(|| {
                                PolicyError::new(
                                    format!("{f}.subject"),
                                    format!("'{text}' is not a name like 'CN=…, O=…'"),
                                )
                            })?,
                        (None, Some(h), None) => parse_hex(h)
                            .filter(|b| b.len() == 32)
                            .map(AllowedSigner::Spki)
                            .ok_or_else(|| {
                                PolicyError::new(
                                    format!("{f}.spki_sha256"),
                                    "must be 64 hexadecimal digits (SHA-256 of the key's SubjectPublicKeyInfo)",
                                )
                            })?,
                        (None, None, Some(san)) if !san.trim().is_empty() => {
                            AllowedSigner::SigstoreSan(san.clone())
                        }
                        _ => {
                            return Err(PolicyError::new(
                                f,
                                "give exactly one of subject, spki_sha256 or sigstore_san",
                            ));
                        }
                    };
                    allowed_signers.push(one);
                }
                components.push(Component {
                    name: c.name.clone(),
                    min_version,
                    allowed_signers,
                    support_ends: parse_instant(
                        c.support_ends.as_deref(),
                        &at(&format!("components[{j}].support_ends")),
                    )?,
                    firmware_package_oid: match &c.firmware_package_oid {
                        None => None,
                        Some(o) => Some(
                            const_oid::ObjectIdentifier::new(o)
                                .map_err(|e| {
                                    PolicyError::new(
                                        at(&format!("components[{j}].firmware_package_oid")),
                                        format!("'{o}' is not an OID: {e}"),
                                    )
                                })?
                                .to_string(),
                        ),
                    },
                });
            }
            let mut digests = Vec::new();
            for (j, d) in v.policy.digests.iter().enumerate() {
                let field = at(&format!("policy.digests[{j}]"));
                match DigestAlgorithm::from_name(d) {
                    Some(DigestAlgorithm::Sha1) => {
                        return Err(PolicyError::new(
                            field,
                            "sha1 is broken for signatures and cannot be allowed",
                        ));
                    }
                    Some(a) => digests.push(a),
                    None => {
                        return Err(PolicyError::new(
                            field,
                            format!("unknown digest '{d}' (expected sha256, sha384 or sha512)"),
                        ));
                    }
                }
            }
            if digests.is_empty() {
                return Err(PolicyError::new(
                    at("policy.digests"),
                    "must list at least one digest",
                ));
            }
            if v.policy.min_rsa_bits < 2048 {
                return Err(PolicyError::new(
                    at("policy.min_rsa_bits"),
                    format!(
                        "{} is below Tollgate's floor of 2048 bits",
                        v.policy.min_rsa_bits
                    ),
                ));
            }
            let mut sigstore = crate::sigstore_trust::VendorSigstore::default();
            if let Some(sd) = &v.sigstore {
                for (j, idn) in sd.identities.iter().enumerate() {
                    sigstore.identities.push(
                        crate::sigstore_trust::SigstoreIdentity::new(
                            &idn.issuer,
                            idn.san.as_deref(),
                            idn.san_regex.as_deref(),
                        )
                        .map_err(|e| {
                            PolicyError::new(
                                at(&format!("sigstore.identities[{j}]")),
                                e.to_string(),
                            )
                        })?,
                    );
                }
                for (j, k) in sd.keys.iter().enumerate() {
                    let field = at(&format!("sigstore.keys[{j}]"));
                    let text = if k.contains("-----BEGIN") {
                        k.clone()
                    } else {
                        String::from_utf8(source.load(k).map_err(|e| PolicyError::new(&field, e))?)
                            .map_err(|_| PolicyError::new(&field, "not a PEM file"))?
                    };
                    sigstore.keys.push(
                        crate::sigstore_trust::parse_public_key(&text)
                            .map_err(|e| PolicyError::new(&field, e.to_string()))?,
                    );
                }
            }
            let contract_ends = parse_instant(v.contract_ends.as_deref(), &at("contract_ends"))?;
            let support_ends = parse_instant(v.support_ends.as_deref(), &at("support_ends"))?;
            for (j, k) in v.policy.key_algorithms.iter().enumerate() {
                if !crate::cert::KeyAlgorithm::FAMILIES.contains(&k.as_str()) {
                    return Err(PolicyError::new(
                        at(&format!("policy.key_algorithms[{j}]")),
                        format!(
                            "unknown key algorithm '{k}' (expected {})",
                            crate::cert::KeyAlgorithm::FAMILIES.join(", ")
                        ),
                    ));
                }
            }
            vendors.push(Vendor {
                sigstore,
                contract_ends,
                support_ends,
                contract_ref: v.contract_ref.clone(),
                require_signed_sbom: v.require_signed_sbom,
                id: v.id.clone(),
                name: v.name.clone(),
                anchors,
                intermediates,
                components,
                policy: SigningPolicy {
                    digests,
                    min_rsa_bits: v.policy.min_rsa_bits,
                    require_timestamp: v.policy.require_timestamp,
                    key_algorithms: v.policy.key_algorithms.clone(),
                },
            });
        }
        let mut tsa_anchors = Vec::new();
        for (j, r) in doc.tsa_anchors.iter().enumerate() {
            let field = format!("tsa_anchors[{j}]");
            for c in load_certs(r, source, &field)? {
                if !matches!(c.is_ca(), Ok(true)) {
                    return Err(PolicyError::new(
                        field,
                        format!(
                            "'{}' is not a CA certificate and cannot be a trust anchor",
                            c.subject()
                        ),
                    ));
                }
                tsa_anchors.push(c);
            }
        }
        let mut revocations = Vec::new();
        // A CRL import gives thousands of rows one issuer: each distinct
        // issuer reference is resolved and parsed once.
        let mut issuers_seen: std::collections::HashMap<&str, Vec<(Vec<u8>, String)>> =
            std::collections::HashMap::new();
        for (j, r) in doc.revocations.iter().enumerate() {
            let at = |f: &str| format!("revocations[{j}].{f}");
            if !REVOCATION_REASONS.contains(&r.reason.as_str()) {
                return Err(PolicyError::new(
                    at("reason"),
                    format!(
                        "unknown reason '{}' (expected one of {})",
                        r.reason,
                        REVOCATION_REASONS.join(", ")
                    ),
                ));
            }
            let invalidity_date = match &r.invalidity_date {
                None => None,
                Some(s) => Some(OffsetDateTime::parse(s, &Rfc3339).map_err(|e| {
                    PolicyError::new(
                        at("invalidity_date"),
                        format!("'{s}' is not an RFC 3339 time: {e}"),
                    )
                })?),
            };
            match (&r.certificate, &r.issuer_certificate, &r.serial) {
                (Some(cert), None, None) => {
                    for c in load_certs(cert, source, &at("certificate"))? {
                        revocations.push(Revocation {
                            target: RevokedTarget::Certificate(Box::new(c)),
                            reason: r.reason.clone(),
                            invalidity_date,
                        });
                    }
                }
                (None, Some(issuer), Some(serial)) => {
                    let issuers = match issuers_seen.get(issuer.as_str()) {
                        Some(known) => known.clone(),
                        None => {
                            let parsed: Vec<(Vec<u8>, String)> =
                                load_certs(issuer, source, &at("issuer_certificate"))?
                                    .iter()
                                    .map(|i| (i.subject_der(), i.subject()))
                                    .collect();
                            issuers_seen.insert(issuer.as_str(), parsed.clone());
                            parsed
                        }
                    };
                    let serial_bytes = parse_hex(serial).ok_or_else(|| {
                        PolicyError::new(
                            at("serial"),
                            format!("'{serial}' is not a hexadecimal serial number"),
                        )
                    })?;
                    for (issuer_name_der, issuer) in issuers {
                        revocations.push(Revocation {
                            target: RevokedTarget::IssuerSerial {
                                issuer_name_der,
                                issuer,
                                serial: serial_bytes.clone(),
                            },
                            reason: r.reason.clone(),
                            invalidity_date,
                        });
                    }
                }
                _ => {
                    return Err(PolicyError::new(
                        format!("revocations[{j}]"),
                        "give either 'certificate', or 'issuer_certificate' and 'serial'",
                    ));
                }
            }
        }
        let expires_at = match &doc.expires_at {
            None => None,
            Some(s) => Some(OffsetDateTime::parse(s, &Rfc3339).map_err(|e| {
                PolicyError::new("expires_at", format!("'{s}' is not an RFC 3339 time: {e}"))
            })?),
        };
        let mut sigstore_roots = Vec::new();
        for (j, r) in doc.sigstore_trusted_roots.iter().enumerate() {
            let field = format!("sigstore_trusted_roots[{j}]");
            let json = if r.trusted_root.trim_start().starts_with('{') {
                r.trusted_root.clone()
            } else {
                String::from_utf8(
                    source
                        .load(&r.trusted_root)
                        .map_err(|e| PolicyError::new(&field, e))?,
                )
                .map_err(|_| PolicyError::new(&field, "not UTF-8 JSON"))?
            };
            let root = crate::sigstore_trust::SigstoreRoot::from_json(&r.name, &json)
                .map_err(|e| PolicyError::new(format!("{field}.trusted_root"), e.to_string()))?;
            sigstore_roots.push(std::sync::Arc::new(root));
        }
        let mut sigstore_revocations = Vec::new();
        for (j, r) in doc.sigstore_revocations.iter().enumerate() {
            let at = |f: &str| format!("sigstore_revocations[{j}].{f}");
            if !REVOCATION_REASONS.contains(&r.reason.as_str()) {
                return Err(PolicyError::new(
                    at("reason"),
                    format!("unknown reason '{}'", r.reason),
                ));
            }
            let revoked_from = match &r.revoked_from {
                None => None,
                Some(t) => Some(OffsetDateTime::parse(t, &Rfc3339).map_err(|e| {
                    PolicyError::new(
                        at("revoked_from"),
                        format!("'{t}' is not an RFC 3339 time: {e}"),
                    )
                })?),
            };
            let (identity, key) = match (&r.identity, &r.key_spki_sha256) {
                (Some(i), None) if !i.issuer.is_empty() && !i.san.is_empty() => {
                    (Some((i.issuer.clone(), i.san.clone())), None)
                }
                (None, Some(k)) if parse_hex(k).is_some_and(|b| b.len() == 32) => {
                    (None, Some(k.to_ascii_lowercase()))
                }
                _ => {
                    return Err(PolicyError::new(
                        format!("sigstore_revocations[{j}]"),
                        "give exactly one of 'identity' (issuer and san) or 'key_spki_sha256' (64 hex digits)",
                    ));
                }
            };
            sigstore_revocations.push(SigstoreRevocation {
                identity,
                key_spki_sha256: key,
                reason: r.reason.clone(),
                revoked_from,
            });
        }
        for (j, b) in doc.sbom_bindings.iter().enumerate() {
            b.validate(&format!("sbom_bindings[{j}]"))?;
        }
        Ok(TrustPolicy {
            sbom_bindings: doc.sbom_bindings.clone(),
            vendors,
            tsa_anchors,
            revocations,
            serial: doc.serial,
            expires_at,
            sigstore_roots,
            products: doc.products.clone(),
            sigstore_revocations,
        })
    }

    /// The vendor with this id.
    pub fn vendor(&self, id: &str) -> Option<&Vendor> {
        self.vendors.iter().find(|v| v.id == id)
    }
}

fn load_certs(
    reference: &str,
    source: &mut dyn CertificateSource,
    field: &str,
) -> Result<Vec<ParsedCert>, PolicyError> {
    let bytes = if reference.contains("-----BEGIN") {
        reference.as_bytes().to_vec()
    } else {
        source
            .load(reference)
            .map_err(|e| PolicyError::new(field, e))?
    };
    certificates_from_bytes(&bytes)
        .map_err(|e| PolicyError::new(field, format!("'{}': {e}", short(reference))))
}

fn short(reference: &str) -> String {
    if reference.contains("-----BEGIN") {
        "inline PEM".into()
    } else {
        reference.to_string()
    }
}
