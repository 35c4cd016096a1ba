//! Tollgate's verification core.
//!
//! This crate decides whether a vendor's firmware blob really comes from a key
//! the trust policy trusts for that vendor and component, at an acceptable
//! version. It parses CMS (PKCS #7) SignedData, verifies the signature with
//! the RustCrypto primitives, builds the certificate path with
//! `rustls-webpki`, evaluates RFC 3161 timestamps and time-scoped
//! revocations, and returns a [`report::Report`] that names every check.
//!
//! Architecture invariant: nothing in this library reads the clock, the file
//! system or the network. The verification time, the limits, the trust
//! material and the blob (as a reader) all come in as parameters; the
//! `tollgate-inspect` binary is the only place that touches the outside world.

pub mod attest;
pub mod bundle;
pub mod cert;
pub mod chain;
pub mod chain_memo;
pub mod checks;
pub mod cms;
pub mod cms_verify;
pub mod digest;
pub mod dsse;
pub mod firmware_package;
pub mod limits;
pub mod names;
pub mod oids;
pub mod policy;
pub mod profile;
pub mod report;
pub mod request;
pub mod sbom_binding;
pub mod signature;
pub mod signer;
pub mod signer_checks;
pub mod sigstore;
pub mod sigstore_memo;
pub mod sigstore_trust;
pub mod timestamp;
pub mod verify;

pub use limits::Limits;
pub use policy::{PolicyError, TrustPolicy};
pub use report::{Check, CheckId, Outcome, Report, Verdict};
pub use verify::{Artifact, VerifyError, VerifyRequest, verify, verify_cms};
