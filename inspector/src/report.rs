//! The verification report: one versioned wire type shared by the CLI's
//! `--format json` output (and, later, the registry's receipts API).
//! Documented in `docs/report-format.md`.

use crate::cert::CertSummary;
use serde::{Deserialize, Serialize};

/// Version of the report schema. Bumped on any incompatible change.
pub const REPORT_VERSION: u32 = 2;

/// The final decision.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// Every required check passed.
    Accept,
    /// At least one check failed.
    Reject,
}

/// One check's outcome.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    /// The rule holds.
    Pass,
    /// The rule is broken: the signature is rejected.
    Fail,
    /// Not evaluated (not applicable, or an earlier failure made it moot).
    Skip,
}

/// Stable identifiers of the checks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum CheckId {
    /// The signature file is a well-formed CMS SignedData.
    Format,
    /// The vendor exists in the policy and supplies this component.
    Component,
    /// The version is a semantic version at or above the component's floor.
    VersionFloor,
    /// Attached content equals the blob byte for byte.
    Content,
    /// Digest and signature algorithms are allowed by the vendor policy.
    Algorithm,
    /// The signer key meets the vendor's minimum strength.
    KeyStrength,
    /// Signed attributes are present and consistent (contentType, messageDigest).
    SignedAttributes,
    /// The cryptographic signature verifies with the signer's key.
    Signature,
    /// An RFC 3161 timestamp token is valid and trusted.
    Timestamp,
    /// The signer chains to one of the vendor's anchors at the signing time.
    Chain,
    /// The signer certificate is fit for code signing.
    SignerUsage,
    /// No certificate of the path is revoked at the signing time.
    Revocation,
    /// Sigstore: the transparency-log entry is proven and matches the bundle.
    TransparencyLog,
    /// Sigstore: the signer identity (or key) belongs to the claimed vendor.
    Identity,
    /// The target product's boot stage can verify the signer key (`--product`).
    Capability,
    /// The signer is one of the component's allowed signers (when the
    /// component has a list).
    SignerIdentity,
    /// The signature is within the vendor's contract: made before it ended,
    /// with a key algorithm it allows (report version 2).
    Contract,
    /// The claimed version agrees with the vendor's signed SBOM (and one
    /// exists when the vendor requires it).
    VersionBinding,
    /// An RFC 4108 firmware package names the claimed component and
    /// version in its signed attributes.
    FirmwarePackage,
}

impl CheckId {
    /// The kebab-case name used in JSON and text output.
    pub fn name(self) -> &'static str {
        match self {
            CheckId::Format => "format",
            CheckId::Component => "component",
            CheckId::VersionFloor => "version-floor",
            CheckId::Content => "content",
            CheckId::Algorithm => "algorithm",
            CheckId::KeyStrength => "key-strength",
            CheckId::SignedAttributes => "signed-attributes",
            CheckId::Signature => "signature",
            CheckId::Timestamp => "timestamp",
            CheckId::Chain => "chain",
            CheckId::SignerUsage => "signer-usage",
            CheckId::Revocation => "revocation",
            CheckId::TransparencyLog => "transparency-log",
            CheckId::Identity => "identity",
            CheckId::Capability => "capability",
            CheckId::SignerIdentity => "signer-identity",
            CheckId::Contract => "contract",
            CheckId::VersionBinding => "version-binding",
            CheckId::FirmwarePackage => "firmware-package",
        }
    }
}

/// One rule and what happened to it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Check {
    /// Which rule.
    pub id: CheckId,
    /// Pass, fail or skip.
    pub outcome: Outcome,
    /// A sentence a person can act on.
    pub reason: String,
}

impl Check {
    /// A passing check.
    pub fn pass(id: CheckId, reason: impl Into<String>) -> Self {
        Check {
            id,
            outcome: Outcome::Pass,
            reason: reason.into(),
        }
    }
    /// A failing check.
    pub fn fail(id: CheckId, reason: impl Into<String>) -> Self {
        Check {
            id,
            outcome: Outcome::Fail,
            reason: reason.into(),
        }
    }
    /// A skipped check.
    pub fn skip(id: CheckId, reason: impl Into<String>) -> Self {
        Check {
            id,
            outcome: Outcome::Skip,
            reason: reason.into(),
        }
    }
}

/// Where the signing time came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TimeSource {
    /// genTime of a trusted RFC 3161 token.
    Timestamp,
    /// No trusted token: the verification time stands in.
    VerificationTime,
}

/// The time certificates were judged at.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SigningTime {
    /// RFC 3339.
    pub time: String,
    /// Where it came from.
    pub source: TimeSource,
    /// The TSA's subject, for a timestamp.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tsa: Option<String>,
}

/// The evaluation of one SignerInfo.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignerReport {
    /// Position in the SignedData.
    pub index: usize,
    /// The signer certificate, when found.
    pub certificate: Option<CertSummary>,
    /// Digest algorithm name.
    pub digest_algorithm: Option<String>,
    /// The time the chain was evaluated at.
    pub signing_time: Option<SigningTime>,
    /// Whether this signer passed every check.
    pub accepted: bool,
    /// Per-signer checks, in evaluation order.
    pub checks: Vec<Check>,
    /// The validated certification path above the signer certificate
    /// (intermediates, then the anchor); empty when no path was found. The
    /// registry uses it to find the receipts a revocation touches.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub path: Vec<crate::cert::CertSummary>,
}

/// The blob that was checked.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlobInfo {
    /// Path as given (set by the CLI).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// SHA-256, lower-case hex.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    /// Size in bytes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
    /// SHA-384, lower-case hex, when a signer uses it (the registry needs
    /// it to re-verify the signature from digests).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha384: Option<String>,
    /// SHA-512, lower-case hex, when a signer or a Sigstore bundle uses it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha512: Option<String>,
}

/// The signature that was checked.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignatureInfo {
    /// Path as given (set by the CLI).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// `cms`.
    pub kind: String,
    /// `der`, `pem` or `ber`, when parsed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub encoding: Option<String>,
    /// Whether the content is attached.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attached: Option<bool>,
}

/// The complete verification report.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Report {
    /// Schema version ([`REPORT_VERSION`]).
    pub report_version: u32,
    /// Accept or reject.
    pub verdict: Verdict,
    /// One sentence: the first failure's reason, or why it was accepted.
    pub summary: String,
    /// Vendor id claimed.
    pub vendor: String,
    /// Component claimed.
    pub component: String,
    /// Version claimed.
    pub version: String,
    /// Where the version comes from: `vendor-signed SBOM <serial>` when a
    /// signed SBOM binds it, else `claimed by the inspector`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version_source: Option<String>,
    /// The blob.
    pub blob: BlobInfo,
    /// The signature.
    pub signature: SignatureInfo,
    /// When the verification was evaluated (RFC 3339).
    pub verification_time: String,
    /// Checks that do not depend on a signer.
    pub checks: Vec<Check>,
    /// One entry per SignerInfo. The blob is accepted when the general
    /// checks pass and at least one signer is accepted.
    pub signers: Vec<SignerReport>,
}

impl Report {
    /// Every check, general first, then each signer's.
    pub fn all_checks(&self) -> impl Iterator<Item = &Check> {
        self.checks
            .iter()
            .chain(self.signers.iter().flat_map(|s| s.checks.iter()))
    }

    /// The first failing check, if any.
    pub fn first_failure(&self) -> Option<&Check> {
        self.all_checks().find(|c| c.outcome == Outcome::Fail)
    }

    /// The outcome of a check: from the general checks, else from the
    /// accepted signer, else from the first signer.
    pub fn outcome_of(&self, id: CheckId) -> Option<Outcome> {
        if let Some(c) = self.checks.iter().find(|c| c.id == id) {
            return Some(c.outcome);
        }
        let signer = self
            .signers
            .iter()
            .find(|s| s.accepted)
            .or_else(|| self.signers.first())?;
        signer.checks.iter().find(|c| c.id == id).map(|c| c.outcome)
    }
}
