//! What a verifier signs about a blob it verified: an in-toto Statement v1
//! whose predicate is a SLSA Verification Summary Attestation v1
//! (`https://slsa.dev/verification_summary/v1`), with Tollgate's report in
//! a `tollgate` field. Stations sign one per inspected blob; the registry
//! signs one per receipt it re-verified (docs/evidence.md). No I/O.

use crate::report::{Report, Verdict};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The in-toto Statement type.
pub const STATEMENT_TYPE: &str = "https://in-toto.io/Statement/v1";
/// The SLSA VSA predicate type.
pub const VSA_PREDICATE_TYPE: &str = "https://slsa.dev/verification_summary/v1";
/// The level a passing verification claims (a verifier-specific level: the
/// VSA reserves the `SLSA_` prefix for SLSA's own).
pub const VERIFIED_LEVEL: &str = "TOLLGATE_SIGNATURE_VERIFIED";

/// An in-toto Statement v1 with a VSA predicate.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Statement {
    /// [`STATEMENT_TYPE`].
    #[serde(rename = "_type")]
    pub statement_type: String,
    /// The blob: its name and digests.
    pub subject: Vec<ResourceDescriptor>,
    /// [`VSA_PREDICATE_TYPE`].
    #[serde(rename = "predicateType")]
    pub predicate_type: String,
    /// The verification summary.
    pub predicate: Vsa,
}

/// A name or URI with digests (in-toto ResourceDescriptor, the fields used).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Default)]
pub struct ResourceDescriptor {
    /// Name (subjects).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// URI (policy, input attestations).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uri: Option<String>,
    /// Algorithm name (`sha256`, …) to lower-case hex.
    #[serde(default)]
    pub digest: BTreeMap<String, String>,
}

/// Who verified.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct VerifierId {
    /// A URI naming the verifier (`tollgate-station:NAME`, or the
    /// registry's `tollgate-registry:KEYID`).
    pub id: String,
    /// Software and version.
    #[serde(default)]
    pub version: BTreeMap<String, String>,
}

/// The SLSA VSA v1 predicate, and Tollgate's details.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Vsa {
    /// Who verified.
    pub verifier: VerifierId,
    /// When (RFC 3339).
    #[serde(rename = "timeVerified")]
    pub time_verified: String,
    /// The blob as a package URL with its checksum.
    #[serde(rename = "resourceUri")]
    pub resource_uri: String,
    /// The trust bundle it was verified against.
    pub policy: ResourceDescriptor,
    /// The signature material (the evidence) that was verified.
    #[serde(rename = "inputAttestations", default)]
    pub input_attestations: Vec<ResourceDescriptor>,
    /// `PASSED` or `FAILED`.
    #[serde(rename = "verificationResult")]
    pub verification_result: String,
    /// [`VERIFIED_LEVEL`] when passed, else empty.
    #[serde(rename = "verifiedLevels", default)]
    pub verified_levels: Vec<String>,
    /// Tollgate's report and context.
    pub tollgate: Details,
}

/// Tollgate's part of the predicate.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Details {
    /// The station that inspected the blob.
    pub station: String,
    /// Its lot.
    #[serde(default)]
    pub lot: String,
    /// The trust-bundle serial the verdict was made with.
    pub bundle_serial: u64,
    /// The full report (docs/report-format.md).
    pub report: Report,
}

/// What a statement is made from besides the report.
pub struct Context<'a> {
    /// The verifier's id.
    pub verifier_id: String,
    /// Station name.
    pub station: &'a str,
    /// Lot.
    pub lot: &'a str,
    /// Trust-bundle serial.
    pub bundle_serial: u64,
    /// SHA-256 (hex) of the trust-bundle document, when known.
    pub policy_sha256: Option<String>,
    /// The signature material that was verified.
    pub evidence: &'a [u8],
}

/// Percent-encodes everything but RFC 3986 unreserved characters.
fn pct(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The package URL of a blob: `pkg:generic/VENDOR/COMPONENT@VERSION?checksum=sha256:HEX`.
pub fn resource_uri(vendor: &str, component: &str, version: &str, sha256: &str) -> String {
    format!(
        "pkg:generic/{}/{}@{}?checksum=sha256:{}",
        pct(vendor),
        pct(component),
        pct(version),
        pct(sha256)
    )
}

/// The statement a verifier signs about `report`.
pub fn statement(report: &Report, ctx: &Context<'_>) -> Statement {
    let sha256 = report.blob.sha256.clone().unwrap_or_default();
    let mut digest = BTreeMap::new();
    digest.insert("sha256".to_string(), sha256.clone());
    if let Some(h) = &report.blob.sha384 {
        digest.insert("sha384".to_string(), h.clone());
    }
    if let Some(h) = &report.blob.sha512 {
        digest.insert("sha512".to_string(), h.clone());
    }
    let passed = report.verdict == Verdict::Accept;
    let mut evidence_digest = BTreeMap::new();
    evidence_digest.insert(
        "sha256".to_string(),
        crate::digest::hex(&crate::digest::DigestAlgorithm::Sha256.hash(ctx.evidence)),
    );
    let mut version = BTreeMap::new();
    version.insert(
        "tollgate".to_string(),
        env!("CARGO_PKG_VERSION").to_string(),
    );
    Statement {
        statement_type: STATEMENT_TYPE.into(),
        subject: vec![ResourceDescriptor {
            name: Some(format!(
                "{}/{}@{}",
                report.vendor, report.component, report.version
            )),
            uri: None,
            digest,
        }],
        predicate_type: VSA_PREDICATE_TYPE.into(),
        predicate: Vsa {
            verifier: VerifierId {
                id: ctx.verifier_id.clone(),
                version,
            },
            time_verified: report.verification_time.clone(),
            resource_uri: resource_uri(&report.vendor, &report.component, &report.version, &sha256),
            policy: ResourceDescriptor {
                name: None,
                uri: Some(format!(
                    "tollgate:trust-bundle/serial/{}",
                    ctx.bundle_serial
                )),
                digest: ctx
                    .policy_sha256
                    .iter()
                    .map(|h| ("sha256".to_string(), h.clone()))
                    .collect(),
            },
            input_attestations: vec![ResourceDescriptor {
                name: None,
                uri: Some(format!("tollgate:evidence/{}", report.signature.kind)),
                digest: evidence_digest,
            }],
            verification_result: if passed { "PASSED" } else { "FAILED" }.into(),
            verified_levels: if passed {
                vec![VERIFIED_LEVEL.into()]
            } else {
                vec![]
            },
            tollgate: Details {
                station: ctx.station.to_string(),
                lot: ctx.lot.to_string(),
                bundle_serial: ctx.bundle_serial,
                report: report.clone(),
            },
        },
    }
}

/// Why a payload is not a Tollgate receipt statement.
#[derive(Debug, thiserror::Error)]
#[error("not a Tollgate verification statement: {0}")]
pub struct StatementError(pub String);

impl Statement {
    /// Parses a payload and checks the types, that the subject is the
    /// report's blob, that the result matches the report's verdict, and
    /// that the evidence digest is `evidence`'s.
    pub fn parse(payload: &[u8], evidence: &[u8]) -> Result<Self, StatementError> {
        let s: Statement =
            serde_json::from_slice(payload).map_err(|e| StatementError(e.to_string()))?;
        if s.statement_type != STATEMENT_TYPE || s.predicate_type != VSA_PREDICATE_TYPE {
            return Err(StatementError(format!(
                "_type '{}' / predicateType '{}'",
                s.statement_type, s.predicate_type
            )));
        }
        let report = &s.predicate.tollgate.report;
        let subject_sha = s
            .subject
            .first()
            .and_then(|d| d.digest.get("sha256"))
            .map(String::as_str);
        if s.subject.len() != 1 || subject_sha != report.blob.sha256.as_deref() {
            return Err(StatementError(
                "the subject is not the report's blob".into(),
            ));
        }
        let passed = report.verdict == Verdict::Accept;
        if s.predicate.verification_result != if passed { "PASSED" } else { "FAILED" } {
            return Err(StatementError(
                "verificationResult contradicts the report's verdict".into(),
            ));
        }
        let want = crate::digest::hex(&crate::digest::DigestAlgorithm::Sha256.hash(evidence));
        if !s
            .predicate
            .input_attestations
            .iter()
            .any(|a| a.digest.get("sha256") == Some(&want))
        {
            return Err(StatementError(
                "the signature material sent is not the evidence the station signed for".into(),
            ));
        }
        Ok(s)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    #[test]
    fn resource_uris_encode_every_reserved_character() {
        assert_eq!(
            resource_uri("acme", "wifi fw/1", "1.0.0+b", "ab"),
            "pkg:generic/acme/wifi%20fw%2F1@1.0.0%2Bb?checksum=sha256:ab"
        );
    }

    #[test]
    fn statements_round_trip_and_bind_the_evidence() {
        let report: Report = serde_json::from_value(serde_json::json!({
            "report_version": 1, "verdict": "accept", "summary": "ok", "vendor": "acme",
            "component": "fw", "version": "1.0.0", "blob": {"sha256": "aa", "size": 1},
            "signature": {"kind": "cms"}, "verification_time": "2026-10-01T00:00:00Z",
            "checks": [], "signers": []}))
        .unwrap();
        let ctx = Context {
            verifier_id: "tollgate-station:s1".into(),
            station: "s1",
            lot: "L",
            bundle_serial: 7,
            policy_sha256: None,
            evidence: b"sig",
        };
        let s = statement(&report, &ctx);
        let bytes = serde_json::to_vec(&s).unwrap();
        assert_eq!(Statement::parse(&bytes, b"sig").unwrap(), s);
        assert!(Statement::parse(&bytes, b"other").is_err());
        let mut lie = s.clone();
        lie.predicate.verification_result = "FAILED".into();
        assert!(Statement::parse(&serde_json::to_vec(&lie).unwrap(), b"sig").is_err());
        let mut other = s;
        other.subject[0].digest.insert("sha256".into(), "bb".into());
        assert!(Statement::parse(&serde_json::to_vec(&other).unwrap(), b"sig").is_err());
    }
}
