//! Versions bound by the vendor (issue 14, item 1): a vendor-signed SBOM
//! lists its firmware images with their digests and versions; the
//! registry verifies the SBOM's signature and carries each (component,
//! version, digest) in the trust bundle. At inspection the blob's digest
//! is looked up: the version comes from the vendor's signed SBOM, and a
//! claimed version that contradicts it is rejected (the `version-binding`
//! check). A vendor may require it (`require_signed_sbom`): then an image
//! no signed SBOM lists is refused. No I/O.

use crate::policy::PolicyError;
use crate::report::{Check, CheckId};
use serde::{Deserialize, Serialize};

/// One image a vendor-signed SBOM lists.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct SbomBindingDocument {
    /// The vendor whose signature the SBOM carries.
    pub vendor: String,
    /// The registered component.
    pub component: String,
    /// The version the vendor signed for this image.
    pub version: String,
    /// The SBOM's serial number (`urn:uuid:…`), named in reasons.
    pub sbom: String,
    /// The image's digests (lower-case hex), at least one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    /// SHA-384.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha384: Option<String>,
    /// SHA-512.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha512: Option<String>,
}

impl SbomBindingDocument {
    /// Checks the digests' form (`field` names the entry in errors).
    pub fn validate(&self, field: &str) -> Result<(), PolicyError> {
        let mut any = false;
        for (name, value, len) in [
            ("sha256", &self.sha256, 64),
            ("sha384", &self.sha384, 96),
            ("sha512", &self.sha512, 128),
        ] {
            if let Some(v) = value {
                any = true;
                if v.len() != len || !v.bytes().all(|b| b.is_ascii_hexdigit()) {
                    return Err(PolicyError::new(
                        format!("{field}.{name}"),
                        format!("must be {len} hexadecimal digits"),
                    ));
                }
            }
        }
        if !any {
            return Err(PolicyError::new(
                field,
                "an SBOM binding needs at least one digest (sha256, sha384, sha512)",
            ));
        }
        Ok(())
    }

    /// Whether it names the blob with these digests (any algorithm both
    /// have, case-insensitively).
    fn matches(&self, sha256: Option<&str>, sha384: Option<&str>, sha512: Option<&str>) -> bool {
        [
            (&self.sha256, sha256),
            (&self.sha384, sha384),
            (&self.sha512, sha512),
        ]
        .iter()
        .any(|(mine, blob)| match (mine, blob) {
            (Some(a), Some(b)) => a.eq_ignore_ascii_case(b),
            _ => false,
        })
    }
}

/// The `version-binding` check, and the version's source for the report.
pub fn check(
    bindings: &[SbomBindingDocument],
    vendor: &str,
    require_signed_sbom: bool,
    component: &str,
    version: &str,
    blob: (Option<&str>, Option<&str>, Option<&str>),
) -> (Check, String) {
    let claimed = "claimed by the inspector".to_string();
    let (sha256, sha384, sha512) = blob;
    let found: Vec<&SbomBindingDocument> = bindings
        .iter()
        .filter(|b| b.vendor == vendor && b.matches(sha256, sha384, sha512))
        .collect();
    if let Some(other) = found.iter().find(|b| b.component != component) {
        return (
            Check::fail(
                CheckId::VersionBinding,
                format!(
                    "vendor '{vendor}''s signed SBOM {} lists this image as component '{}' version {}, not '{component}'",
                    other.sbom, other.component, other.version
                ),
            ),
            claimed,
        );
    }
    if let Some(b) = found.iter().find(|b| b.version == version) {
        return (
            Check::pass(
                CheckId::VersionBinding,
                format!(
                    "version {version} of '{component}' is bound by vendor '{vendor}''s signed SBOM {}",
                    b.sbom
                ),
            ),
            format!("vendor-signed SBOM {}", b.sbom),
        );
    }
    if let Some(b) = found.first() {
        return (
            Check::fail(
                CheckId::VersionBinding,
                format!(
                    "the claimed version {version} contradicts vendor '{vendor}''s signed SBOM {}, which lists this image as version {}",
                    b.sbom, b.version
                ),
            ),
            claimed,
        );
    }
    if require_signed_sbom {
        return (
            Check::fail(
                CheckId::VersionBinding,
                format!(
                    "vendor '{vendor}' must bind its versions with a signed SBOM, and none lists this image ({})",
                    sha256
                        .map(|s| format!("SHA-256 {s}"))
                        .unwrap_or_else(|| "no digest".into())
                ),
            ),
            claimed,
        );
    }
    (
        Check::skip(
            CheckId::VersionBinding,
            format!(
                "version {version} is claimed by the inspector: no vendor-signed SBOM lists this image"
            ),
        ),
        claimed,
    )
}
