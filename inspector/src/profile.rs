//! The strict code-signing certificate profile: RFC 5280's MUSTs for CAs and
//! end entities, and the key rules, checked on every certificate of a path
//! the path library ([`crate::chain`]) has built and verified.
//!
//! webpki decides whether a path exists and its signatures verify; this
//! module only refuses what webpki leaves unchecked (see
//! `../shared/notes/dependencies.md`: anchors are reduced to name and key,
//! many extension rules are not enforced). It never accepts anything.
//! Every rule is listed, with its source, in `docs/verification.md`
//! ("The certificate profile"), and exercised in both directions by the
//! x509-limbo suite (`inspector/tests/limbo.rs`) and the unit tests below.
//!
//! The registry applies the same rules when a certificate is registered
//! ([`check_anchor`], [`check_ca`]), so a bad anchor is refused at
//! registration and, if one was registered earlier, again at verification.

use crate::cert::{KeyAlgorithm, ParsedCert};
use const_oid::ObjectIdentifier;
use const_oid::db::rfc5280 as id;
use der::Decode;
use x509_cert::crl::CertificateList;
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::ext::pkix::{
    AuthorityInfoAccessSyntax, AuthorityKeyIdentifier, BasicConstraints, CrlNumber,
    NameConstraints, SubjectAltName, SubjectKeyIdentifier,
};

/// A certificate that breaks a rule of the profile.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("certificate '{subject}' {rule}")]
pub struct Violation {
    /// The certificate's subject (or "(empty subject)").
    pub subject: String,
    /// What is wrong and which rule says so, as a sentence fragment.
    pub rule: String,
}

/// Where a certificate sits in a path.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Position {
    /// The certificate a signature (or timestamp) was made with.
    EndEntity,
    /// An intermediate CA.
    Intermediate,
    /// A registered trust anchor.
    Anchor,
}

/// Extensions this verifier understands; an anchor with any other critical
/// extension is refused (RFC 5280 section 4.2: a certificate-using system
/// MUST reject a certificate with a critical extension it does not
/// recognise). webpki applies the same rule to the certificates it parses;
/// it never parses an anchor's extensions.
const KNOWN: &[ObjectIdentifier] = &[
    id::ID_CE_BASIC_CONSTRAINTS,
    id::ID_CE_KEY_USAGE,
    id::ID_CE_EXT_KEY_USAGE,
    id::ID_CE_SUBJECT_ALT_NAME,
    id::ID_CE_NAME_CONSTRAINTS,
    id::ID_CE_CERTIFICATE_POLICIES,
    id::ID_CE_POLICY_CONSTRAINTS,
    id::ID_CE_INHIBIT_ANY_POLICY,
    id::ID_CE_SUBJECT_KEY_IDENTIFIER,
    id::ID_CE_AUTHORITY_KEY_IDENTIFIER,
];

/// anyExtendedKeyUsage (RFC 5280 section 4.2.1.12).
const ANY_EKU: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.37.0");

fn subject_of(c: &ParsedCert) -> String {
    let s = c.subject();
    if s.is_empty() {
        "(empty subject)".into()
    } else {
        s
    }
}

fn violation(c: &ParsedCert, rule: impl Into<String>) -> Violation {
    Violation {
        subject: subject_of(c),
        rule: rule.into(),
    }
}

/// Decodes one extension, naming it when it is malformed.
fn ext<'a, T>(c: &'a ParsedCert, name: &str) -> Result<Option<(bool, T)>, Violation>
where
    T: Decode<'a> + const_oid::AssociatedOid,
{
    c.cert.tbs_certificate().get_extension::<T>().map_err(|e| {
        violation(
            c,
            format!("has a malformed {name} extension ({e}) (RFC 5280 section 4.2)"),
        )
    })
}

/// Whether the certificate is self-signed: self-issued and its signature
/// verifies with its own key.
fn self_signed(c: &ParsedCert) -> bool {
    c.is_self_issued() && c.is_signed_by(c)
}

/// A key algorithm the profile refuses, in words.
fn key_name(oid: &str) -> String {
    match oid {
        "1.2.840.10040.4.1" => "DSA".into(),
        "ecPublicKey/1.2.840.10045.3.1.1" => "ECDSA P-192".into(),
        "ecPublicKey/1.3.132.0.33" => "ECDSA P-224".into(),
        "ecPublicKey/1.3.132.0.35" => "ECDSA P-521".into(),
        "ecPublicKey/1.3.132.0.10" => "ECDSA secp256k1".into(),
        other => format!("key algorithm {other}"),
    }
}

/// Rules for every certificate, whatever its position.
fn check_common(c: &ParsedCert) -> Result<(), Violation> {
    let serial = c.serial();
    if serial.iter().all(|b| *b == 0) {
        return Err(violation(
            c,
            "has serial number zero; it MUST be a positive integer (RFC 5280 section 4.1.2.2)",
        ));
    }
    if serial.first().is_some_and(|b| b & 0x80 != 0) {
        return Err(violation(
            c,
            "has a negative serial number; it MUST be a positive integer (RFC 5280 section 4.1.2.2)",
        ));
    }
    match c.key_algorithm() {
        KeyAlgorithm::Rsa { bits } if bits < 2048 => {
            return Err(violation(
                c,
                format!(
                    "has an RSA-{bits} key; keys of 2048 bits or more are required (NIST SP 800-131A, CA/Browser Forum code-signing requirements section 6.1.5)"
                ),
            ));
        }
        KeyAlgorithm::Rsa { bits } if bits % 8 != 0 => {
            return Err(violation(
                c,
                format!(
                    "has an RSA key of {bits} bits, not a whole number of bytes (CA/Browser Forum code-signing requirements section 6.1.5)"
                ),
            ));
        }
        KeyAlgorithm::Unsupported { oid } => {
            return Err(violation(
                c,
                format!(
                    "has a {} key, which is not accepted; accepted: RSA of 2048 bits or more, ECDSA P-256 or P-384, Ed25519 (CA/Browser Forum code-signing requirements section 6.1.5)",
                    key_name(&oid)
                ),
            ));
        }
        _ => {}
    }
    if let Some((true, _)) = ext::<SubjectKeyIdentifier>(c, "subjectKeyIdentifier")? {
        return Err(violation(
            c,
            "marks its subjectKeyIdentifier critical; it MUST NOT be (RFC 5280 section 4.2.1.2)",
        ));
    }
    ext::<AuthorityInfoAccessSyntax>(c, "authorityInfoAccess")?;
    let san_critical = ext::<SubjectAltName>(c, "subjectAltName")?.map(|(critical, _)| critical);
    if let Some((false, _)) =
        ext::<x509_cert::ext::pkix::constraints::PolicyConstraints>(c, "policyConstraints")?
    {
        return Err(violation(
            c,
            "has a non-critical policyConstraints extension; it MUST be critical (RFC 5280 section 4.2.1.11)",
        ));
    }
    if let Some((false, _)) = ext::<x509_cert::ext::pkix::InhibitAnyPolicy>(c, "inhibitAnyPolicy")?
    {
        return Err(violation(
            c,
            "has a non-critical inhibitAnyPolicy extension; it MUST be critical (RFC 5280 section 4.2.1.14)",
        ));
    }
    if c.cert.tbs_certificate().subject().is_empty() {
        match san_critical {
            Some(true) => {}
            Some(false) => {
                return Err(violation(
                    c,
                    "has an empty subject and a non-critical subjectAltName; with an empty subject the subjectAltName MUST be critical (RFC 5280 section 4.2.1.6)",
                ));
            }
            None => {
                return Err(violation(
                    c,
                    "has an empty subject and no subjectAltName (RFC 5280 section 4.1.2.6)",
                ));
            }
        }
    }
    Ok(())
}

/// The authority key identifier: never critical; present in every
/// certificate but a self-signed one (RFC 5280 section 4.2.1.1), anchors
/// included: an anchor that is a cross-signed CA certificate must carry it
/// too (x509-limbo `rfc5280::aki::cross-signed-root-missing-aki`).
fn check_aki(c: &ParsedCert) -> Result<(), Violation> {
    if let Some((critical, _)) = ext::<AuthorityKeyIdentifier>(c, "authorityKeyIdentifier")? {
        if critical {
            return Err(violation(
                c,
                "marks its authorityKeyIdentifier critical; it MUST NOT be (RFC 5280 section 4.2.1.1)",
            ));
        }
    } else if !self_signed(c) {
        return Err(violation(
            c,
            "has no authorityKeyIdentifier; every certificate but a self-signed one MUST carry it (RFC 5280 section 4.2.1.1)",
        ));
    }
    Ok(())
}

/// Rules for a certificate that issues others (intermediate or anchor).
fn check_issuer(c: &ParsedCert) -> Result<(), Violation> {
    match ext::<BasicConstraints>(c, "basicConstraints")? {
        None => {
            return Err(violation(
                c,
                "is used as a CA but has no basicConstraints extension; CA certificates MUST carry it with cA set, marked critical (RFC 5280 section 4.2.1.9)",
            ));
        }
        Some((_, bc)) if !bc.ca => {
            return Err(violation(
                c,
                "is used as a CA but its basicConstraints do not set cA (RFC 5280 section 4.2.1.9)",
            ));
        }
        Some((false, _)) => {
            return Err(violation(
                c,
                "is a CA whose basicConstraints are not marked critical; they MUST be (RFC 5280 section 4.2.1.9)",
            ));
        }
        Some((true, _)) => {}
    }
    if c.cert.tbs_certificate().subject().is_empty() {
        return Err(violation(
            c,
            "is a CA with an empty subject; a CA's subject MUST be a non-empty name (RFC 5280 section 4.1.2.6)",
        ));
    }
    if ext::<SubjectKeyIdentifier>(c, "subjectKeyIdentifier")?.is_none() {
        return Err(violation(
            c,
            "is a CA without a subjectKeyIdentifier; CA certificates MUST carry it (RFC 5280 section 4.2.1.2)",
        ));
    }
    if let Some((critical, nc)) = ext::<NameConstraints>(c, "nameConstraints")? {
        if !critical {
            return Err(violation(
                c,
                "has non-critical name constraints; they MUST be critical (RFC 5280 section 4.2.1.10)",
            ));
        }
        let permitted = nc.permitted_subtrees.as_deref().unwrap_or_default();
        let excluded = nc.excluded_subtrees.as_deref().unwrap_or_default();
        if permitted.is_empty() && excluded.is_empty() {
            return Err(violation(
                c,
                "has empty name constraints; a CA MUST NOT issue an empty nameConstraints extension (RFC 5280 section 4.2.1.10)",
            ));
        }
        for subtree in permitted.iter().chain(excluded) {
            if let GeneralName::DnsName(name) = &subtree.base
                && name.as_str().starts_with('.')
            {
                return Err(violation(
                    c,
                    format!(
                        "has the dNSName constraint '{}', which is not a DNS name (a leading period is not allowed for dNSName constraints, RFC 5280 section 4.2.1.10)",
                        name.as_str()
                    ),
                ));
            }
            if subtree.minimum != 0 || subtree.maximum.is_some() {
                return Err(violation(
                    c,
                    "has a name constraint with minimum or maximum; minimum MUST be zero and maximum absent (RFC 5280 section 4.2.1.10)",
                ));
            }
        }
    }
    Ok(())
}

/// The profile for a certificate at `position` in a path.
pub fn check(c: &ParsedCert, position: Position) -> Result<(), Violation> {
    check_common(c)?;
    check_aki(c)?;
    match position {
        Position::EndEntity => check_end_entity(c),
        Position::Intermediate => check_issuer(c),
        Position::Anchor => check_anchor_only(c),
    }
}

fn check_end_entity(c: &ParsedCert) -> Result<(), Violation> {
    if let Some((_, ku)) = ext::<x509_cert::ext::pkix::KeyUsage>(c, "keyUsage")?
        && ku.key_cert_sign()
        && !matches!(c.is_ca(), Ok(true))
    {
        return Err(violation(
            c,
            "asserts keyCertSign in its key usage without being a CA; keyCertSign requires basicConstraints cA (RFC 5280 section 4.2.1.3)",
        ));
    }
    if ext::<NameConstraints>(c, "nameConstraints")?.is_some() {
        return Err(violation(
            c,
            "is an end entity with name constraints; they MUST be used only in a CA certificate (RFC 5280 section 4.2.1.10)",
        ));
    }
    if let Ok(Some(ekus)) = c.extended_key_usage()
        && ekus.contains(&ANY_EKU)
    {
        return Err(violation(
            c,
            "lists anyExtendedKeyUsage; a signing certificate must name its purpose explicitly (CA/Browser Forum code-signing requirements section 7.1.2.3)",
        ));
    }
    Ok(())
}

fn check_anchor_only(c: &ParsedCert) -> Result<(), Violation> {
    check_issuer(c)?;
    if let Some(exts) = c.cert.tbs_certificate().extensions() {
        for e in exts.iter().filter(|e| e.critical) {
            if !KNOWN.contains(&e.extn_id) {
                return Err(violation(
                    c,
                    format!(
                        "has a critical extension this verifier does not recognise ({}); such a certificate MUST be rejected (RFC 5280 section 4.2)",
                        e.extn_id
                    ),
                ));
            }
        }
    }
    if ext::<x509_cert::ext::pkix::ExtendedKeyUsage>(c, "extKeyUsage")?.is_some() {
        return Err(violation(
            c,
            "is a root with an extended key usage extension; a root's purposes are set by the trust policy, not by an EKU in the root (CA/Browser Forum requirements section 7.1.2.1)",
        ));
    }
    Ok(())
}

/// The profile for a certificate to be registered as a trust anchor.
pub fn check_anchor(c: &ParsedCert) -> Result<(), Violation> {
    check(c, Position::Anchor)
}

/// The profile for a certificate to be registered as an intermediate CA.
pub fn check_ca(c: &ParsedCert) -> Result<(), Violation> {
    check(c, Position::Intermediate)
}

/// Remembers profile results inside a lot. [`check`] is a pure function
/// of the certificate's bytes and its position, so its result can be
/// reused for the same certificate (by SHA-256) in the same position: the
/// intermediates and anchor of 2,000 distinct signers are then judged once
/// (an anchor without an authority key identifier costs a signature check
/// to prove it self-signed). Bounded: past [`ProfileMemo::CAPACITY`]
/// entries it stops storing.
#[derive(Default)]
pub struct ProfileMemo {
    entries: std::sync::Mutex<std::collections::HashMap<MemoKey, Result<(), Violation>>>,
}

/// A certificate's SHA-256 and its position.
type MemoKey = (Vec<u8>, Position);

impl ProfileMemo {
    /// Most results kept.
    pub const CAPACITY: usize = 4096;

    fn check(&self, c: &ParsedCert, position: Position) -> Result<(), Violation> {
        let key = (c.sha256.clone(), position);
        if let Ok(map) = self.entries.lock()
            && let Some(hit) = map.get(&key)
        {
            return hit.clone();
        }
        let result = check(c, position);
        if let Ok(mut map) = self.entries.lock()
            && map.len() < Self::CAPACITY
        {
            map.insert(key, result.clone());
        }
        result
    }
}

/// The profile for a validated path, leaf first, anchor last.
pub fn check_path(path: &[ParsedCert]) -> Result<(), Violation> {
    check_path_memo(path, None)
}

/// [`check_path`] through an optional [`ProfileMemo`].
pub fn check_path_memo(path: &[ParsedCert], memo: Option<&ProfileMemo>) -> Result<(), Violation> {
    let last = path.len().saturating_sub(1);
    for (i, c) in path.iter().enumerate() {
        let position = if i == 0 {
            Position::EndEntity
        } else if i == last {
            Position::Anchor
        } else {
            Position::Intermediate
        };
        match memo {
            Some(m) => m.check(c, position)?,
            None => check(c, position)?,
        }
    }
    Ok(())
}

/// A CRL that breaks a rule of the profile.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("the CRL issued by '{issuer}' {rule}")]
pub struct CrlViolation {
    /// The CRL's issuer name.
    pub issuer: String,
    /// What is wrong and which rule says so.
    pub rule: String,
}

/// The DER of a CRL's issuer name (`None` if it cannot be read).
pub fn crl_issuer(der: &[u8]) -> Option<Vec<u8>> {
    let crl = CertificateList::<x509_cert::certificate::Rfc5280>::from_der(der).ok()?;
    der::Encode::to_der(&crl.tbs_cert_list.issuer).ok()
}

/// RFC 5280 section 5 rules for a CRL: version 2 with a non-critical CRL
/// number, and an issuer whose key usage (if present) allows cRLSign.
/// `issuer` is the certificate whose name matches the CRL's issuer, if one
/// is at hand.
pub fn check_crl(der: &[u8], issuer: Option<&ParsedCert>) -> Result<(), CrlViolation> {
    let crl = CertificateList::<x509_cert::certificate::Rfc5280>::from_der(der).map_err(|e| {
        CrlViolation {
            issuer: "(unreadable)".into(),
            rule: format!("is not a valid DER CRL ({e})"),
        }
    })?;
    let tbs = &crl.tbs_cert_list;
    let fail = |rule: &str| CrlViolation {
        issuer: tbs.issuer.to_string(),
        rule: rule.into(),
    };
    let number = tbs
        .crl_extensions
        .as_deref()
        .unwrap_or_default()
        .iter()
        .find(|e| e.extn_id == id::ID_CE_CRL_NUMBER);
    match number {
        None => {
            return Err(fail(
                "has no CRL number; conforming CRL issuers MUST include it (RFC 5280 section 5.2.3)",
            ));
        }
        Some(e) if e.critical => {
            return Err(fail(
                "marks its CRL number critical; it MUST be non-critical (RFC 5280 section 5.2.3)",
            ));
        }
        Some(e) => {
            CrlNumber::from_der(e.extn_value.as_bytes())
                .map_err(|_| fail("has a malformed CRL number (RFC 5280 section 5.2.3)"))?;
        }
    }
    if let Some(issuer) = issuer
        && let Ok(Some(ku)) = issuer.key_usage()
        && !ku.crl_sign()
    {
        return Err(fail(&format!(
            "is signed by '{}', whose key usage lacks cRLSign (RFC 5280 section 4.2.1.3)",
            issuer.subject()
        )));
    }
    Ok(())
}
