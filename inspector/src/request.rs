//! What a verification is asked to do: the trust policy, the claims
//! (vendor, component, version), the signature bytes, the time and limits;
//! and what it is done on (an [`Artifact`]).

use crate::chain;
use crate::digest::DigestAlgorithm;
use crate::limits::Limits;
use crate::policy::TrustPolicy;
use std::io::Read;
use time::OffsetDateTime;

/// What to verify.
pub struct VerifyRequest<'a> {
    /// The resolved trust policy.
    pub policy: &'a TrustPolicy,
    /// Vendor id the blob claims to come from.
    pub vendor: &'a str,
    /// Component name.
    pub component: &'a str,
    /// Version (semantic).
    pub version: &'a str,
    /// The signature file's bytes.
    pub signature: &'a [u8],
    /// The verification time (now, or a pinned instant).
    pub time: OffsetDateTime,
    /// Limits on untrusted input.
    pub limits: &'a Limits,
    /// Optional memo of path validations shared across a lot.
    pub cache: Option<&'a chain::PathCache>,
    /// An instant the verifier itself witnessed this signature existing
    /// (the registry's receipt time, when it re-verifies stored evidence).
    /// Like a trusted timestamp, it proves the signature older than a
    /// revocation whose invalidity date is later; it never moves the time
    /// certificates are judged at. `None` on a station.
    pub existed_at: Option<OffsetDateTime>,
}

/// The verification could not be evaluated. (A signature that does not
/// verify is not an error: it is a report with verdict `reject`.)
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum VerifyError {
    /// Reading the blob failed.
    #[error("reading the blob failed: {0}")]
    Read(#[from] std::io::Error),
    /// A CMS signature was given with only a digest of the blob: CMS
    /// signatures are checked over the blob itself (its content type, and
    /// Ed25519 without signed attributes, need the bytes).
    #[error(
        "a CMS signature needs the blob itself; a digest alone works with Sigstore bundles only"
    )]
    DigestNeedsSigstore,
    /// Digests alone cannot decide this signature: a signer signs the blob
    /// itself (Ed25519 without signed attributes), or uses a digest
    /// algorithm whose value was not given.
    #[error("{0}")]
    NeedsBlob(String),
}

/// What the signature is checked against.
pub enum Artifact<'a> {
    /// The blob, read once (any size: it is streamed).
    Reader(&'a mut dyn Read),
    /// A digest computed elsewhere (`--digest sha256:HEX`; Sigstore only).
    Digest {
        /// SHA-256 or SHA-512.
        algorithm: DigestAlgorithm,
        /// The digest bytes.
        value: Vec<u8>,
    },
    /// The blob's size and its digests under one or more algorithms (the
    /// registry re-verifying a receipt). Works for CMS too whenever every
    /// signer has signed attributes and its digest algorithm is given, or
    /// the content is attached (then it is hashed and compared); otherwise
    /// the answer is [`VerifyError::NeedsBlob`].
    Digests(crate::digest::Digests),
}
