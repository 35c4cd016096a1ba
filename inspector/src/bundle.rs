//! Signed trust bundles served by the registry (`docs/registry.md`).
//!
//! A bundle is a trust-policy document (with `serial`, `issued_at` and
//! `expires_at`) signed by the registry's key. A station pins the registry
//! certificate and refuses a bundle that is not signed by it, that has
//! expired, or whose serial is lower than one it has already accepted
//! (rollback of trust itself).

use crate::cert::{KeyAlgorithm, ParsedCert, rfc3339};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// The envelope's `format` value.
pub const BUNDLE_FORMAT: &str = "tollgate-trust-bundle";

/// The signed envelope.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignedBundle {
    /// Always [`BUNDLE_FORMAT`].
    pub format: String,
    /// Envelope version, 1.
    pub version: u32,
    /// Base64 of the trust-policy JSON bytes.
    pub payload: String,
    /// Base64 of the DER ECDSA P-256 / SHA-256 signature over the payload bytes.
    pub signature: String,
    /// The registry certificate (PEM), for information: verification uses the pinned one.
    pub certificate: String,
}

/// Why a bundle is refused.
#[derive(Debug, thiserror::Error)]
pub enum BundleError {
    /// Not a bundle envelope.
    #[error("not a signed trust bundle: {0}")]
    Malformed(String),
    /// The pinned certificate cannot verify bundles.
    #[error("the pinned registry certificate has a {0} key; bundles are signed with ECDSA P-256")]
    PinnedKey(String),
    /// Bad signature.
    #[error("the bundle signature does not verify with the pinned registry certificate")]
    Signature,
    /// Payload without serial or expiry.
    #[error("the bundle payload lacks {0}")]
    Missing(&'static str),
    /// Past its freshness deadline.
    #[error(
        "the trust bundle expired at {expires_at} (serial {serial}); pull a fresh one from the registry"
    )]
    Expired {
        /// Deadline.
        expires_at: String,
        /// Serial.
        serial: u64,
    },
    /// Older than one already seen.
    #[error(
        "rollback refused: bundle serial {serial} is lower than serial {seen} already accepted by this station"
    )]
    Rollback {
        /// The bundle's serial.
        serial: u64,
        /// Highest serial seen.
        seen: u64,
    },
}

/// A bundle whose signature, freshness and serial were checked.
#[derive(Clone, Debug)]
pub struct VerifiedBundle {
    /// The trust-policy JSON, ready for [`crate::TrustPolicy::from_json`].
    pub document: Vec<u8>,
    /// Its serial.
    pub serial: u64,
    /// Its freshness deadline.
    pub expires_at: OffsetDateTime,
}

#[derive(Deserialize)]
struct Header {
    serial: Option<u64>,
    expires_at: Option<String>,
}

/// Whether these bytes look like a signed bundle rather than a plain policy.
pub fn is_signed_bundle(bytes: &[u8]) -> bool {
    serde_json::from_slice::<serde_json::Value>(bytes)
        .ok()
        .and_then(|v| {
            v.get("format")
                .and_then(|f| f.as_str())
                .map(|f| f == BUNDLE_FORMAT)
        })
        .unwrap_or(false)
}

/// Verifies only the registry's signature on a bundle (any age) and
/// returns its payload: for an auditor checking an old bundle's checkpoint.
pub fn verify_bundle_signature(bytes: &[u8], pinned: &ParsedCert) -> Result<Vec<u8>, BundleError> {
    let env: SignedBundle =
        serde_json::from_slice(bytes).map_err(|e| BundleError::Malformed(e.to_string()))?;
    if env.format != BUNDLE_FORMAT || env.version != 1 {
        return Err(BundleError::Malformed(format!(
            "format '{}' version {} (expected '{BUNDLE_FORMAT}' version 1)",
            env.format, env.version
        )));
    }
    let payload = STANDARD
        .decode(env.payload.as_bytes())
        .map_err(|e| BundleError::Malformed(format!("payload: {e}")))?;
    let signature = STANDARD
        .decode(env.signature.as_bytes())
        .map_err(|e| BundleError::Malformed(format!("signature: {e}")))?;
    let key = pinned.key_algorithm();
    if key != KeyAlgorithm::EcP256 {
        return Err(BundleError::PinnedKey(key.to_string()));
    }
    use p256::pkcs8::DecodePublicKey;
    use signature::Verifier;
    let vk = p256::ecdsa::VerifyingKey::from_public_key_der(&pinned.spki_der())
        .map_err(|_| BundleError::PinnedKey("malformed P-256".into()))?;
    let sig =
        p256::ecdsa::DerSignature::from_bytes(&signature).map_err(|_| BundleError::Signature)?;
    vk.verify(&payload, &sig)
        .map_err(|_| BundleError::Signature)?;
    Ok(payload)
}

/// Verifies a bundle against the pinned registry certificate at `now`.
pub fn verify_bundle(
    bytes: &[u8],
    pinned: &ParsedCert,
    now: OffsetDateTime,
    highest_seen: Option<u64>,
) -> Result<VerifiedBundle, BundleError> {
    let payload = verify_bundle_signature(bytes, pinned)?;
    let header: Header = serde_json::from_slice(&payload)
        .map_err(|e| BundleError::Malformed(format!("payload: {e}")))?;
    let serial = header.serial.ok_or(BundleError::Missing("a serial"))?;
    let expires_at = header
        .expires_at
        .and_then(|s| {
            OffsetDateTime::parse(&s, &time::format_description::well_known::Rfc3339).ok()
        })
        .ok_or(BundleError::Missing("an expiry (expires_at)"))?;
    if now > expires_at {
        return Err(BundleError::Expired {
            expires_at: rfc3339(expires_at),
            serial,
        });
    }
    if let Some(seen) = highest_seen
        && serial < seen
    {
        return Err(BundleError::Rollback { serial, seen });
    }
    Ok(VerifiedBundle {
        document: payload,
        serial,
        expires_at,
    })
}
