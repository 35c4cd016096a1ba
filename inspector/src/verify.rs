//! The one entry point of the verification core: [`verify`] looks at the
//! signature and verifies a Sigstore bundle or a CMS SignedData, so every
//! caller (the CLI, lots, the registry) gets the same choice.

pub use crate::checks::{apply_product, below_floor, capability_check};
pub use crate::cms_verify::verify_cms;
use crate::report::Report;
pub use crate::request::{Artifact, VerifyError, VerifyRequest};

/// Verifies `req.signature` over `artifact`: a Sigstore bundle (recognised
/// by its content) with [`crate::sigstore::verify_sigstore`], anything else
/// as CMS with [`verify_cms`]. A CMS signature needs the blob itself or
/// its [`Artifact::Digests`].
pub fn verify(req: &VerifyRequest<'_>, artifact: Artifact<'_>) -> Result<Report, VerifyError> {
    if crate::sigstore::looks_like_bundle(req.signature) {
        return crate::sigstore::verify_sigstore(req, artifact);
    }
    match artifact {
        Artifact::Reader(blob) => verify_cms(req, blob),
        Artifact::Digests(d) => crate::cms_verify::verify_cms_digests(req, d),
        Artifact::Digest { .. } => Err(VerifyError::DigestNeedsSigstore),
    }
}
